#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""clearsrv.py - the unmodified cleartext server the integration tests protect.

It knows nothing about TLS.  It uses plain *blocking* sockets (no Python
socket timeout: that would turn every recv() into poll()+non-blocking recv()
and hide a spurious EAGAIN), and writes one JSON line per connection to
--log, so the harness can check what the application saw:

  accept_addr   address returned by accept()
  peername      getpeername() of the accepted socket
  sockname      getsockname() of the accepted socket
  id            the first line the client sent (clients send "ID <token>\\n"
                first, so the harness can match records to clients)
  bytes_in/sha_in, bytes_out/sha_out   what crossed the application socket
  eof           recv() returned 0 (orderly FIN seen by the application)
  eagain        recv()/send() on the blocking socket raised EAGAIN before its
                SO_RCVTIMEO/SO_SNDTIMEO could have expired: this must never
                happen to an unmodified application
  error         any other exception

Modes (one per server instance):
  echo     echo everything back; at EOF shutdown(SHUT_WR) and close
  banner   send a banner line first (server speaks first), then echo
  sink     read to EOF, then reply "SINK <bytes> <sha256>\\n" and close
  source   read the request line "ID <token> <n>\\n", write n bytes of
           deterministic pseudo-random data with random write sizes, then
           close() at once (no shutdown, no linger)
  duplex   a writer thread sends --bytes pseudo-random bytes with random
           write sizes, then shutdown(SHUT_WR); the reader hashes all it gets
           until EOF; then close

--fork handles each connection in a forked child (the listener's owner is
the parent; children only inherit the accepted socket), otherwise a thread
per connection.  --user drops privileges before the listening socket is
created, so the kernel records that uid as the socket's owner.
"""
import argparse
import ctypes
import errno
import hashlib
import json
import os
import pwd
import random
import signal
import socket
import struct
import sys
import threading
import time

# Generous: these only bound a stuck application socket.  Every EAGAIN that
# arrives sooner than this is spurious.
SOCK_TIMEOUT_S = 120
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15


def addr_of(a):
    """[addr, port]; an IPv4-mapped IPv6 address is shown as IPv4."""
    host = a[0]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return [host, a[1]]


class Recorder:
    """Append one JSON object per line; O_APPEND keeps lines whole across
    threads and forked children (one write() per record)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)

    def write(self, rec):
        os.write(self.fd, (json.dumps(rec, sort_keys=True) + "\n").encode())


class Conn:
    def __init__(self, sock, accept_addr, args):
        self.s = sock
        self.args = args
        self.rec = {
            "port": args.port, "mode": args.mode, "pid": os.getpid(),
            "uid": os.getuid(), "comm": open("/proc/self/comm").read().strip(),
            "accept_addr": addr_of(accept_addr), "t0": time.time(),
            "bytes_in": 0, "bytes_out": 0, "eof": False, "eagain": 0,
            "eagain_timeouts": 0, "id": None, "error": None,
        }
        self.hin = hashlib.sha256()
        self.hout = hashlib.sha256()
        self.first = b""
        tv = struct.pack("ll", SOCK_TIMEOUT_S, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.rec["peername"] = addr_of(sock.getpeername())
        except OSError as e:
            self.rec["peername"] = str(e)
        try:
            self.rec["sockname"] = addr_of(sock.getsockname())
        except OSError as e:
            self.rec["sockname"] = str(e)

    def _eagain(self, t0):
        if time.monotonic() - t0 < SOCK_TIMEOUT_S - 1:
            self.rec["eagain"] += 1
            return True       # spurious: retry, but it is recorded
        self.rec["eagain_timeouts"] += 1
        raise TimeoutError("application socket timed out")

    def recv(self, n=65536):
        while True:
            t0 = time.monotonic()
            try:
                d = self.s.recv(n)
            except BlockingIOError:
                self._eagain(t0)
                continue
            except InterruptedError:
                continue
            if d:
                self.rec["bytes_in"] += len(d)
                self.hin.update(d)
                if self.rec["id"] is None:
                    self.first += d[:256]
                    if b"\n" in self.first or len(self.first) >= 256:
                        line = self.first.split(b"\n", 1)[0]
                        self.rec["id"] = line.decode("latin-1")
            else:
                self.rec["eof"] = True
            return d

    def recv_line(self):
        """Read exactly one line (byte by byte: nothing beyond it may be
        consumed, so nothing is left unread at close())."""
        line = b""
        while not line.endswith(b"\n"):
            d = self.recv(1)
            if not d:
                break
            line += d
        return line

    def send(self, data):
        view = memoryview(data)
        while view:
            t0 = time.monotonic()
            try:
                n = self.s.send(view)
            except BlockingIOError:
                self._eagain(t0)
                continue
            except InterruptedError:
                continue
            self.hout.update(view[:n])
            self.rec["bytes_out"] += n
            view = view[n:]

    def finish(self, recorder):
        self.rec["sha_in"] = self.hin.hexdigest()
        self.rec["sha_out"] = self.hout.hexdigest()
        self.rec["t1"] = time.time()
        recorder.write(self.rec)


def random_chunks(total, seed):
    """Deterministic pseudo-random data in writes of random size (1 byte to
    256 KiB, skewed towards small and odd sizes)."""
    rng = random.Random(seed)
    left = total
    while left > 0:
        r = rng.random()
        if r < 0.2:
            n = rng.randint(1, 100)
        elif r < 0.7:
            n = rng.randint(100, 16 * 1024)
        else:
            n = rng.randint(16 * 1024, 256 * 1024)
        n = min(n, left)
        yield rng.randbytes(n)
        left -= n


def serve(c, args):
    mode = args.mode
    if mode == "banner":
        c.send(("220 attls-test banner port %d pid %d\r\n"
                % (args.port, os.getpid())).encode())
        mode = "echo"
    if mode == "echo":
        while True:
            d = c.recv()
            if not d:
                break
            c.send(d)
        c.s.shutdown(socket.SHUT_WR)
    elif mode == "sink":
        while c.recv():
            pass
        c.send(("SINK %d %s\n" % (c.rec["bytes_in"], c.hin.hexdigest())).encode())
        c.s.shutdown(socket.SHUT_WR)
    elif mode == "source":
        line = c.recv_line().decode("latin-1").split()
        n = int(line[2]) if len(line) >= 3 else args.bytes
        for chunk in random_chunks(n, args.seed):
            c.send(chunk)
        # close() at once: what the application wrote must still arrive,
        # followed by close_notify.
    elif mode == "duplex":
        err = []

        def writer():
            try:
                for chunk in random_chunks(args.bytes, args.seed):
                    c.send(chunk)
                c.s.shutdown(socket.SHUT_WR)
            except Exception as e:   # recorded by the main thread
                err.append(repr(e))

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        while c.recv(256 * 1024):
            pass
        t.join(SOCK_TIMEOUT_S * 2)
        if err:
            raise RuntimeError("writer: " + err[0])
    else:
        raise ValueError(mode)


def handle(sock, addr, args, recorder):
    c = None
    try:
        c = Conn(sock, addr, args)
        serve(c, args)
    except Exception as e:
        if c is not None:
            c.rec["error"] = repr(e)
        else:
            recorder.write({"port": args.port, "error": repr(e)})
    finally:
        if c is not None:
            c.finish(recorder)
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--mode", required=True,
                    choices=["echo", "banner", "sink", "source", "duplex"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", help="file to create once listening")
    ap.add_argument("--fork", action="store_true")
    ap.add_argument("--user", help="drop to this user before socket()")
    ap.add_argument("--comm", help="set the process name (the AT-TLS job "
                    "name) before socket()")
    ap.add_argument("--bytes", type=int, default=10 * 1024 * 1024)
    ap.add_argument("--seed", type=int, default=4242)
    args = ap.parse_args()

    recorder = Recorder(args.log)
    # opened before dropping privileges; written once listening
    ready = open(args.ready, "w") if args.ready else None
    if args.user:
        pw = pwd.getpwnam(args.user)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
        # Changing credentials clears the parent-death signal the test
        # harness set: set it again so we still die with the harness.
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if args.comm:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_NAME, args.comm.encode()[:15], 0, 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")
    if ":" in args.bind:
        ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    else:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(1024)
    if args.fork:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # auto-reap
    if ready:
        ready.write("%d\n" % os.getpid())
        ready.close()
    while True:
        try:
            sock, addr = ls.accept()
        except InterruptedError:
            continue
        except OSError as e:
            if e.errno in (errno.ECONNABORTED, errno.EINTR):
                continue
            raise
        if args.fork:
            pid = os.fork()
            if pid == 0:
                ls.close()
                try:
                    handle(sock, addr, args, recorder)
                finally:
                    os._exit(0)
            sock.close()
        else:
            threading.Thread(target=handle, args=(sock, addr, args, recorder),
                             daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
