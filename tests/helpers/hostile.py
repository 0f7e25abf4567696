#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""hostile.py - misbehaving peers for tests/integration_hostile.py.

    hostile.py ACTION --host H --port P [options]

Each action prints one JSON object on stdout saying what the peer saw:
"end" is how the connection ended for it ("eof", "reset", "timeout",
"open" if it was still open when the action gave up).

  cleartext   send an HTTP request line instead of a ClientHello
  random      send --bytes random bytes after a TLS record header (0x16
              0x03 0x01), so OpenSSL has to parse them
  truncated   send the first half of a real ClientHello, then FIN
  slowloris   open --conns connections, each sends half a ClientHello and
              stalls; reports how many the server closed, and when
  noread      TLS handshake (verified with --ca), ask a source server for
              --bytes, then never read for --hold seconds; then reset
  reset       reset (SO_LINGER 0 close) at --stage: "connect" (before the
              ClientHello), "handshake" (ClientHello sent, nothing read),
              "transfer" (handshake done, --bytes sent, nothing read)
  hold        TLS handshake, send a line, read its echo, then wait up to
              --hold seconds for the end (IdleTimeout, limits)
  appreset    TLS handshake, send a line; the application (rstsrv) resets
              its side: reports the end the client saw
  rstsrv      the application of appreset: a cleartext server that reads
              one line and closes with a reset (--ready FILE when listening)
"""
import argparse
import json
import os
import resource
import select
import signal
import socket
import ssl
import struct
import sys
import time


def client_hello():
    """The bytes of a real ClientHello (Python's ssl, TLS 1.2-1.3)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def wait_end(s, timeout):
    """Read and discard until EOF/reset or timeout: the end seen."""
    deadline = time.monotonic() + timeout
    got = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "open", got
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            return "reset", got
        except OSError as e:
            return "error:%s" % e, got
        if not data:
            return "eof", got
        got += len(data)


def connect(a):
    s = socket.create_connection((a.host, a.port), timeout=10)
    s.settimeout(None)
    return s


def act_send(a, payload, fin):
    s = connect(a)
    s.sendall(payload)
    if fin:
        s.shutdown(socket.SHUT_WR)
    t0 = time.monotonic()
    end, got = wait_end(s, a.timeout)
    s.close()
    return {"end": end, "bytes_recv": got, "after_s": round(time.monotonic() - t0, 3)}


def act_slowloris(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.conns + 256), hard))
    half = client_hello()
    half = half[:len(half) // 2]
    socks, t0 = [], time.monotonic()
    for _ in range(a.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        socks.append(s)
    opened = time.monotonic() - t0
    pending = {s.fileno(): s for s in socks}
    wpoll = select.poll()
    for s in socks:
        wpoll.register(s.fileno(), select.POLLOUT)
    waiting = {s.fileno(): s for s in socks}
    end = time.monotonic() + 10
    while waiting and time.monotonic() < end:
        for fd, _ in wpoll.poll(200):
            wpoll.unregister(fd)
            try:
                waiting.pop(fd).send(half)
            except OSError:
                pass
    closed_at = []
    deadline = t0 + a.timeout
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLIN)
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            s = pending[fd]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_at.append(time.monotonic() - t0)
                poller.unregister(fd)
                del pending[fd]
                s.close()
    for s in pending.values():
        rst_close(s)
    closed_at.sort()
    return {"conns": a.conns, "open_s": round(opened, 3), "closed": len(closed_at),
            "first_close_s": round(closed_at[0], 3) if closed_at else None,
            "last_close_s": round(closed_at[-1], 3) if closed_at else None}


def tls_connect(a):
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = False
    raw = connect(a)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    # a FIN without close_notify must stay visible (an SSLEOFError)
    return ctx.wrap_socket(raw, suppress_ragged_eofs=False)


def act_noread(a):
    s = tls_connect(a)
    s.sendall(b"ID noread-%d %d\n" % (os.getpid(), a.bytes))
    time.sleep(a.hold)
    rst_close(s)
    return {"end": "reset-by-client", "held_s": a.hold}


def act_reset(a):
    if a.stage == "connect":
        s = connect(a)
        rst_close(s)
    elif a.stage == "handshake":
        s = connect(a)
        s.sendall(client_hello())
        time.sleep(0.2)
        rst_close(s)
    else:
        s = tls_connect(a)
        s.sendall(b"ID reset-%d\n" % os.getpid() + os.urandom(a.bytes))
        rst_close(s)
    return {"end": "reset-by-client", "stage": a.stage}


def bio_session(a):
    """A TLS client over a MemoryBIO on the raw socket: (raw, obj, inc,
    out) with the handshake done.  Reading the raw socket ourselves, a
    reset is ECONNRESET from recv() (ssl.SSLSocket reports it as an EOF in
    violation of the protocol, like a missing close_notify)."""
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = False
    raw = connect(a)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out)
    while True:
        try:
            obj.do_handshake()
            raw.sendall(out.read())
            return raw, obj, inc, out
        except ssl.SSLWantReadError:
            raw.sendall(out.read())
            data = raw.recv(65536)
            if not data:
                raise ConnectionAbortedError("EOF in the handshake")
            inc.write(data)


def bio_wait(raw, obj, inc, timeout, want=None):
    """Read until `want` bytes of application data came (then "open"), or
    the end: "reset", "close_notify", "eof" (FIN without close_notify), or
    "open" after timeout.  (end, bytes)."""
    got = 0
    raw.settimeout(timeout)
    while want is None or got < want:
        try:
            data = raw.recv(65536)
        except ConnectionResetError:
            return "reset", got
        except socket.timeout:
            return "open", got
        if not data:
            return "eof", got
        inc.write(data)
        while True:
            try:
                d = obj.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                return "close_notify", got
            if not d:           # _ssl returns b"" after close_notify
                return "close_notify", got
            got += len(d)
    return "open", got


def act_hold(a):
    raw, obj, inc, out = bio_session(a)
    line = b"ID hold-%d\n" % os.getpid()
    obj.write(line)
    raw.sendall(out.read())
    end, got = bio_wait(raw, obj, inc, 10, len(line))
    t0 = time.monotonic()
    if end == "open" and got == len(line):
        end, _ = bio_wait(raw, obj, inc, a.hold)
    raw.close()
    return {"end": end, "echo_ok": got == len(line),
            "after_s": round(time.monotonic() - t0, 3)}


def act_appreset(a):
    raw, obj, inc, out = bio_session(a)
    obj.write(b"ID appreset-%d\n" % os.getpid())
    raw.sendall(out.read())
    end, got = bio_wait(raw, obj, inc, a.timeout)
    raw.close()
    return {"end": end, "bytes_recv": got}


def act_rstsrv(a):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", a.port))
    ls.listen(64)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write(str(os.getpid()))
    while True:
        c, _ = ls.accept()
        buf = b""
        while b"\n" not in buf:
            d = c.recv(4096)
            if not d:
                break
            buf += d
        rst_close(c)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=["cleartext", "random", "truncated", "slowloris",
                                       "noread", "reset", "hold", "appreset", "rstsrv"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca")
    ap.add_argument("--bytes", type=int, default=4096)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--hold", type=float, default=5.0)
    ap.add_argument("--stage", choices=["connect", "handshake", "transfer"])
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--ready")
    a = ap.parse_args()
    if a.action == "cleartext":
        res = act_send(a, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n", False)
    elif a.action == "random":
        res = act_send(a, b"\x16\x03\x01" + os.urandom(a.bytes), False)
    elif a.action == "truncated":
        hello = client_hello()
        res = act_send(a, hello[:len(hello) // 2], True)
    elif a.action == "slowloris":
        res = act_slowloris(a)
    elif a.action == "noread":
        res = act_noread(a)
    elif a.action == "reset":
        res = act_reset(a)
    elif a.action == "hold":
        try:
            res = act_hold(a)
        except (OSError, ssl.SSLError) as e:
            res = {"end": "reset" if isinstance(e, ConnectionResetError) else
                   "error:%s" % e, "echo_ok": False}
    elif a.action == "appreset":
        res = act_appreset(a)
    else:
        act_rstsrv(a)
        return 0
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
