#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""secclient.py - the client side of tests/helpers/secsrv.py: TLS on the
control connection, then one data connection, passive (we connect) or
active (the server connects to us), with TLS (we are the TLS client in
both modes, as an FTPS client is) or in cleartext (--plain-data).  Prints
one JSON line: sha of what arrived, the server's sha and peer, errors."""
import argparse
import hashlib
import json
import socket
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--mode", choices=("pasv", "actv"), required=True)
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--plain-data", action="store_true")
    ap.add_argument("--plain-ctl", action="store_true",
                    help="control connection in cleartext (ApplicationControlled "
                    "On and the server never starts TLS)")
    a = ap.parse_args()
    res = {}
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = False
    raw = socket.create_connection((a.host, a.port), timeout=20,
                                   source_address=(a.bind, 0))
    ctl = raw if a.plain_ctl else ctx.wrap_socket(raw)
    res["ctl_tls"] = None if a.plain_ctl else ctl.version()
    f = ctl.makefile("rwb", buffering=0)
    if a.mode == "pasv":
        f.write(b"PASV %d\n" % a.bytes)
        port = int(f.readline().split()[1])
        d = socket.create_connection((a.host, port), timeout=20,
                                     source_address=(a.bind, 0))
    else:
        lsn = socket.socket()
        lsn.bind((a.bind, 0))
        lsn.listen(1)
        lsn.settimeout(20)
        f.write(b"ACTV %s %d %d\n" % (a.bind.encode(), lsn.getsockname()[1], a.bytes))
        d, peer = lsn.accept()
        d.settimeout(20)
        res["data_peer"] = peer[0]
    try:
        if not a.plain_data:
            d = ctx.wrap_socket(d)
            res["data_tls"] = d.version()
        h, n = hashlib.sha256(), 0
        while True:
            b = d.recv(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
        res["sha"], res["n"] = h.hexdigest(), n
        if not a.plain_data:
            d = d.unwrap()          # our close_notify: a clean end
        d.close()
    except (OSError, ssl.SSLError) as e:
        res["data_error"] = "%s: %s" % (type(e).__name__, e)
    line = f.readline().split()
    if line and line[0] == b"DONE":
        res["srv_sha"], res["srv_peer"] = line[1].decode(), line[2].decode()
    f.write(b"QUIT\n")
    ctl.close()
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
