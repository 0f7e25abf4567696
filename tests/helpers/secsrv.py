#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""secsrv.py - a cleartext server with FTP-like secondary connections, for
the SecondaryMap tests (tests/integration_ftp.py).  It knows nothing of TLS.

Like vsftpd, every control connection is served by a forked child, so the
data sockets are created by a process other than the one that created the
listener.  Commands (one line each) on the control connection:

  PASV N         listen on the control connection's local address, port 0;
                 reply "PORT p"; accept one connection, send N bytes of
                 deterministic data, close it; reply "DONE sha256 peer"
                 (peer = the data connection's getpeername() address)
  ACTV IP PORT N connect from the control connection's local address to
                 IP:PORT, send N bytes, close; reply "DONE sha256 peer"
  QUIT           close
"""
import argparse
import hashlib
import os
import signal
import socket
import sys


def data(n):
    out, block, i = bytearray(), b"", 0
    while len(out) < n:
        block = hashlib.sha256(block + i.to_bytes(4, "big")).digest()
        out += block * 64
        i += 1
    return bytes(out[:n])


def send_data(s, n):
    buf = data(n)
    s.sendall(buf)
    return hashlib.sha256(buf).hexdigest()


def session(ctl):
    f = ctl.makefile("rwb", buffering=0)
    local_ip = ctl.getsockname()[0]
    while True:
        line = f.readline()
        if not line:
            return
        w = line.decode().split()
        if not w or w[0] == "QUIT":
            return
        if w[0] == "PASV":
            lsn = socket.socket()
            lsn.bind((local_ip, 0))
            lsn.listen(1)
            f.write(b"PORT %d\n" % lsn.getsockname()[1])
            d, peer = lsn.accept()
            lsn.close()
        elif w[0] == "ACTV":
            d = socket.socket()
            d.bind((local_ip, 0))
            d.connect((w[1], int(w[2])))
            peer = d.getpeername()
        else:
            f.write(b"ERR\n")
            continue
        sha = send_data(d, int(w[-1]))
        d.shutdown(socket.SHUT_WR)
        try:
            d.recv(1)
        except OSError:
            pass                # the client reset it: it reports that
        d.close()
        f.write(("DONE %s %s\n" % (sha, peer[0])).encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("0.0.0.0", a.port))
    lsn.listen(16)
    with open(a.ready, "w") as f:
        f.write(str(os.getpid()))
    while True:
        c, _ = lsn.accept()
        if os.fork() == 0:
            lsn.close()
            try:
                session(c)
            finally:
                os._exit(0)
        c.close()


if __name__ == "__main__":
    sys.exit(main())
