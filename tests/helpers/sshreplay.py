#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""sshreplay.py - a scripted SSH peer for tests/integration_zert.py: replays
one side of a real OpenSSH 9.2 exchange captured on loopback
(tests/unit/data/ssh-openssh92-*.bin: banner, KEXINIT, key exchange,
NEWKEYS, then encrypted bytes), so zERT stream observation sees a genuine
SSH negotiation without an sshd.

  sshreplay.py --server --port P [--bind A] --ready FILE   (one connection)
  sshreplay.py --client --host A --port P

The server waits for the client's identification line before it answers,
as sshd does; the client sends its whole side at once.
"""
import argparse
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "unit", "data")


def load(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def drain(s, until=None, timeout=5.0):
    s.settimeout(timeout)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
            if until is not None and until in got:
                break
    except socket.timeout:
        pass
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", action="store_true")
    ap.add_argument("--client", action="store_true")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ready")
    a = ap.parse_args()
    if a.server:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.bind, a.port))
        ls.listen(4)
        if a.ready:
            with open(a.ready, "w") as f:
                f.write(str(os.getpid()))
        while True:
            c, _ = ls.accept()
            drain(c, until=b"\n")
            c.sendall(load("ssh-openssh92-s2c.bin"))
            drain(c, timeout=2.0)
            c.close()
    else:
        s = socket.create_connection((a.host, a.port), timeout=5)
        s.sendall(load("ssh-openssh92-c2s.bin"))
        got = drain(s, timeout=2.0)
        s.close()
        sys.stdout.write("%d\n" % len(got))


if __name__ == "__main__":
    main()
