#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""ftplib_client.py - python's ftplib as an FTP client of the FTP tests.

    ftplib_client.py --host H --port P --bind A --ca CA --password PW
                     [--plain] [--prot C|P] [--active]
                     [--get REMOTE] [--put LOCAL REMOTE]

--plain: ftplib.FTP (no TLS at all) and only a login: prints the server's
answer to USER.  Otherwise ftplib.FTP_TLS: AUTH TLS, login, PBSZ 0 and
PROT P (prot_p(), the default) or PROT C (prot_c()), passive or --active
(PORT/EPRT from --bind), then RETR --get and STOR --put.

Prints one JSON line: {"ctl_tls": version, "get_sha": hex, "get_n": bytes,
"put_n": bytes, "feat": [..], "error": text}.  Exit 0 unless the client
itself broke (an FTP error reply is reported in "error").
"""
import argparse
import ftplib
import hashlib
import json
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--prot", choices=("C", "P"), default="P")
    ap.add_argument("--active", action="store_true")
    ap.add_argument("--get")
    ap.add_argument("--put", nargs=2)
    a = ap.parse_args()
    res = {}
    if a.plain:
        ftp = ftplib.FTP(timeout=20)
        ftp.connect(a.host, a.port, source_address=(a.bind, 0))
        try:
            res["user_reply"] = ftp.sendcmd("USER anonymous")
            res["pass_reply"] = ftp.sendcmd("PASS " + a.password)
        except ftplib.Error as e:
            res["error"] = str(e)
        ftp.close()
        print(json.dumps(res))
        return 0
    ctx = ssl.create_default_context(cafile=a.ca)
    ftp = ftplib.FTP_TLS(context=ctx, timeout=20)
    try:
        ftp.connect(a.host, a.port, source_address=(a.bind, 0))
        res["feat"] = ftp.sendcmd("FEAT").splitlines()
        ftp.login("anonymous", a.password)     # AUTH TLS first
        res["ctl_tls"] = ftp.sock.version()
        if a.prot == "P":
            ftp.prot_p()
        else:
            ftp.prot_c()
        ftp.set_pasv(not a.active)
        if a.get:
            h, n = hashlib.sha256(), [0]

            def got(b):
                h.update(b)
                n[0] += len(b)
            ftp.retrbinary("RETR " + a.get, got)
            res["get_sha"], res["get_n"] = h.hexdigest(), n[0]
        if a.put:
            with open(a.put[0], "rb") as f:
                ftp.storbinary("STOR " + a.put[1], f)
                res["put_n"] = f.tell()
        ftp.quit()
    except (ftplib.Error, OSError) as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
