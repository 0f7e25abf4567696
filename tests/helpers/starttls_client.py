#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""starttls_client.py - the client of tests/helpers/starttls_srv.c: a
plain socket, STARTTLS, then Python ssl on the same socket.

    starttls_client.py --port P --ca CA [--bind ADDR] [--cert C --key K]
                       STEP...

Steps (each expects one reply line and records it):
    LINE        send LINE, read the reply (cleartext or TLS, as it stands)
    QUIT        send QUIT, expect the server's close
    +HANDSHAKE  start TLS at once (after FAKESTART: the server never inits)
    +STARTTLS   send STARTTLS, expect OK, TLS handshake (verifying CA)
    +STOPTLS    send STOPTLS over TLS, expect OK, unwrap (close_notify both
                ways), cleartext again
    +SLEEP:S    wait S seconds
Prints one JSON object: {"ok": bool, "replies": [...], "tls": {...},
"local": [addr, port], "post": [...], "error": "..."}.  "post" lists the
TLS 1.3 post-handshake messages as they crossed, in order: "rx:ticket",
"rx:keyupdate:0" / "rx:keyupdate:1" (update_not_requested / requested),
"tx:keyupdate:N" (Python's OpenSSL message callback).
"""
import argparse
import json
import socket
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="10.99.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--implicit", action="store_true",
                    help="TLS from the start (ApplicationControlled Off)")
    ap.add_argument("steps", nargs="*")
    a = ap.parse_args()
    out = {"ok": False, "replies": [], "tls": {}}
    sock = socket.create_connection((a.host, a.port), timeout=a.timeout,
                                    source_address=(a.bind, 0) if a.bind else None)
    out["local"] = list(sock.getsockname()[:2])
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = False
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    out["post"] = []

    def msg(conn, direction, version, content_type, msg_type, data):
        # Handshake messages only (22); NewSessionTicket 4, KeyUpdate 24.
        if int(content_type) != 22 or int(msg_type) not in (4, 24) or len(data) < 4:
            return
        d = "rx" if direction == "read" else "tx"
        if int(msg_type) == 4:
            out["post"].append(d + ":ticket")
        else:
            out["post"].append("%s:keyupdate:%d" % (d, data[4] if len(data) > 4 else -1))
    ctx._msg_callback = msg                        # Python's debug hook
    cur = sock
    buf = b""

    def readline():
        nonlocal buf
        while b"\n" not in buf:
            d = cur.recv(4096)
            if not d:
                raise EOFError("server closed (after %r)" % buf)
            buf += d
        line, buf = buf.split(b"\n", 1)
        return line.decode()

    def handshake(s):
        t = ctx.wrap_socket(s, server_hostname="localhost")
        out["tls"] = {"version": t.version(), "cipher": t.cipher()[0]}
        return t

    def command_ok(cmd):
        cur.sendall(cmd + b"\n")
        r = readline()
        out["replies"].append(r)
        if r != "OK":
            raise RuntimeError("%s answered %r" % (cmd.decode(), r))

    try:
        if a.implicit:
            cur = handshake(cur)
        out["replies"].append(readline())          # banner
        for st in a.steps:
            if st == "+STARTTLS":
                command_ok(b"STARTTLS")
                cur = handshake(cur)
            elif st == "+HANDSHAKE":                # TLS now, whatever was said
                cur = handshake(cur)
            elif st == "+STOPTLS":
                command_ok(b"STOPTLS")
                cur = cur.unwrap()
            elif st.startswith("+SLEEP:"):
                time.sleep(float(st[7:]))
            elif st == "QUIT":                      # no reply: the server closes
                cur.sendall(b"QUIT\n")
                if cur.recv(100):
                    raise RuntimeError("data after QUIT")
            else:
                cur.sendall(st.encode() + b"\n")
                out["replies"].append(readline())
        out["ok"] = True
    except Exception as e:                         # noqa: BLE001
        out["error"] = "%s: %s" % (type(e).__name__, e)
    try:
        cur.close()
    except OSError:
        pass
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
