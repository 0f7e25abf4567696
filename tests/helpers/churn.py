#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""churn.py - open and close short TLS echo connections in a loop.

    churn.py --host H --port P --ca CA --seconds S [--threads N] [--stop FILE]

Each connection: TLS handshake (certificate verified against CA), send a
line, read it back, close with close_notify.  Runs until S seconds passed or
FILE exists.  Prints one JSON object: connections ok, failed, and the first
few failure reasons.  Used to prove that policy reloads never break new or
open connections.
"""
import argparse
import json
import os
import socket
import ssl
import threading
import time


def one(host, port, ctx, n, timeout):
    line = b"churn %d\n" % n
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=None) as s:
            s.sendall(line)
            got = b""
            while len(got) < len(line):
                chunk = s.recv(len(line) - len(got))
                if not chunk:
                    raise IOError("EOF after %d of %d echo bytes" % (len(got), len(line)))
                got += chunk
            if got != line:
                raise IOError("echo mismatch: %r" % got)
            s.unwrap()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stop", help="stop when this file exists")
    ap.add_argument("--timeout", type=float, default=10)
    args = ap.parse_args()

    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.check_hostname = False
    lock = threading.Lock()
    res = {"ok": 0, "failed": 0, "errors": []}
    deadline = time.monotonic() + args.seconds

    def worker(tid):
        n = tid * 10_000_000
        while time.monotonic() < deadline and not (
                args.stop and os.path.exists(args.stop)):
            n += 1
            try:
                one(args.host, args.port, ctx, n, args.timeout)
                with lock:
                    res["ok"] += 1
            except Exception as e:  # every failure is a finding
                with lock:
                    res["failed"] += 1
                    if len(res["errors"]) < 5:
                        res["errors"].append("%s: %s" % (type(e).__name__, e))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
