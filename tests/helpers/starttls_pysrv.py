#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""starttls_pysrv.py - a STARTTLS line server with Python ssl, outside the
protected cgroup: the partner of the outbound (client role) application
control tests, whose application is `starttls_srv -c`.

    starttls_pysrv.py --port P --bind ADDR --cert C --key K --ready FILE
                      --log FILE

Protocol (one line each way, one thread per connection):
    on connect   "220 ready"
    STARTTLS     "OK", then the TLS server handshake on the same socket
    STOPTLS      (in TLS) "OK", then close_notify both ways (unwrap):
                 cleartext again
    QUIT         closes (in TLS: close_notify first)
    anything     "ECHO <line>"
A client that sends bytes behind STARTTLS/STOPTLS before the switch
breaks the protocol: the connection ends with an error.  One JSON line
per connection goes to --log: peer, sessions (version, cipher of each TLS
session), lines (as received), end ("quit", "eof" or "error:...").
"""
import argparse
import ctypes
import json
import os
import signal
import socket
import ssl
import sys
import threading

PR_SET_PDEATHSIG = 1


def serve(conn, ctx, log, lock):
    rec = {"peer": list(conn.getpeername()[:2]), "sessions": [], "lines": [],
           "end": "eof"}
    cur, buf, tls = conn, b"", False
    try:
        cur.sendall(b"220 ready\n")
        while True:
            while b"\n" not in buf:
                d = cur.recv(4096)
                if not d:
                    raise EOFError
                buf += d
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            rec["lines"].append(text)
            if text == "QUIT":
                rec["end"] = "quit"
                if tls:
                    # close_notify, then the close (not waiting for the
                    # client's: SSL_shutdown once, its WANT_READ ignored)
                    cur.setblocking(False)
                    try:
                        cur.unwrap()
                    except (ssl.SSLWantReadError, OSError):
                        pass
                break
            if text in ("STARTTLS", "STOPTLS"):
                if buf:
                    raise RuntimeError("%d bytes behind %s" % (len(buf), text))
                cur.sendall(b"OK\n")
                tls = text == "STARTTLS"
                if tls:
                    cur = ctx.wrap_socket(cur, server_side=True)
                    rec["sessions"].append({"version": cur.version(),
                                            "cipher": cur.cipher()[0]})
                else:
                    cur = cur.unwrap()
                continue
            cur.sendall(b"ECHO " + line + b"\n")
    except EOFError:
        pass
    except Exception as e:                         # noqa: BLE001
        rec["end"] = "error:%s: %s" % (type(e).__name__, e)
    try:
        cur.close()
    except OSError:
        pass
    with lock:
        log.write(json.dumps(rec, sort_keys=True) + "\n")
        log.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((a.bind, a.port))
    lsock.listen(64)
    log = open(a.log, "a")
    lock = threading.Lock()
    with open(a.ready, "w") as f:
        f.write("%d\n" % os.getpid())
    while True:
        conn, _ = lsock.accept()
        conn.settimeout(30)
        threading.Thread(target=serve, args=(conn, ctx, log, lock), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
