#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""afapp.py - an unmodified application that uses the socket features the
address-family tests of tests/integration_af.py need: IPv6, dual-stack and
IPV6_V6ONLY listeners, v4-mapped binds and connects, TCP Fast Open on both
sides, MPTCP.  It knows nothing about TLS unless --tls is given (then it
is a TLS client from outside the protected cgroup).

  afapp.py server --port P [--bind ADDR] [--v6only] [--tfo] [--mptcp]
                  --log FILE --ready FILE
      echo server, a thread per connection; one JSON line per connection
      in FILE: peername, sockname, data (what the application received,
      latin-1), error
  afapp.py client --host H --port P --send TEXT [--bind ADDR] [--tfo]
                  [--tfo-connect] [--mptcp] [--family 4|6]
                  [--tls --ca CA --servername NAME] [--timeout S]
      send TEXT (in the SYN with --tfo: sendto(MSG_FASTOPEN), with --tls
      the ClientHello; with --tfo-connect: TCP_FASTOPEN_CONNECT, the first
      write goes in the SYN),
      half-close, read to the end; prints one JSON object: ok, data,
      peername, sockname, error
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
TCP_FASTOPEN_CONNECT = 30       # linux/tcp.h
IPPROTO_MPTCP = 262             # linux/in.h


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def name(a):
    return [a[0], a[1]]


def serve_one(conn, log, lock):
    rec = {"peername": None, "sockname": None, "data": "", "error": None}
    got = b""
    try:
        rec["peername"] = name(conn.getpeername())
        rec["sockname"] = name(conn.getsockname())
        conn.settimeout(30)
        while True:
            d = conn.recv(65536)
            if not d:
                break
            got += d
            conn.sendall(d)
        conn.shutdown(socket.SHUT_WR)
    except OSError as e:
        rec["error"] = str(e)
    finally:
        rec["data"] = got.decode("latin-1")
        conn.close()
        with lock:
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")


def server(args):
    fam = family_of(args.bind)
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP if args.mptcp else 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if args.v6only else 0)
    if args.tfo:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    s.bind((args.bind, args.port))
    s.listen(64)
    with open(args.ready, "w") as f:
        f.write("%d\n" % os.getpid())
    lock = threading.Lock()
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve_one, args=(conn, args.log, lock),
                         daemon=True).start()


def first_flight(args, s, data):
    """Connect and send `data`: in the SYN with --tfo."""
    if args.tfo:
        sent = s.sendto(data, socket.MSG_FASTOPEN, (args.host, args.port))
        s.sendall(data[sent:])
    else:
        s.connect((args.host, args.port))
        s.sendall(data)


def tls_client(args, s, out, got):
    """TLS over an SSLObject pumped by hand, so the ClientHello can ride in
    the SYN (sendto(MSG_FASTOPEN) before the socket is connected, which
    ssl.wrap_socket cannot do)."""
    ctx = ssl.create_default_context(cafile=args.ca)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=args.servername)

    def step(fn, *a):
        try:
            return fn(*a)
        except ssl.SSLWantReadError:
            return None
        except ssl.SSLZeroReturnError:     # the peer's close_notify
            return b""

    step(obj.do_handshake)
    first_flight(args, s, outg.read())
    payload, done = args.send.encode(), False
    while True:
        if not done:
            try:
                obj.do_handshake()
                done = True
                obj.write(payload)
            except ssl.SSLWantReadError:
                pass
        if outg.pending:
            s.sendall(outg.read())
        if done:
            while True:
                d = step(obj.read, 65536)
                if not d:
                    break
                got += d
            if len(got) >= len(payload):
                break
        d = s.recv(65536)
        if not d:
            break
        inc.write(d)
    out["peername"] = name(s.getpeername())
    out["sockname"] = name(s.getsockname())
    step(obj.unwrap)
    if outg.pending:
        s.sendall(outg.read())


def client(args):
    out = {"ok": False, "data": "", "peername": None, "sockname": None, "error": None}
    fam = socket.AF_INET6 if args.family == 6 else \
        socket.AF_INET if args.family == 4 else family_of(args.host)
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP if args.mptcp else 0)
    s.settimeout(args.timeout)
    got = bytearray()       # what arrived, also when an error ends the stream
    try:
        if args.bind:
            s.bind((args.bind, 0))
        if args.tls:
            tls_client(args, s, out, got)
        else:
            plain_client(args, s, out, got)
        out["ok"] = True
    except (OSError, ssl.SSLError) as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    out["data"] = got.decode("latin-1")
    print(json.dumps(out))
    return 0 if out["ok"] else 1


def plain_client(args, s, out, got):
    payload = args.send.encode()
    if args.tfo_connect:
        # connect() returns at once and the first write rides in the SYN:
        # that write must block (a timeout makes the socket non-blocking,
        # and it would fail with EAGAIN)
        s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
        s.settimeout(None)
    first_flight(args, s, payload)
    out["peername"] = name(s.getpeername())
    out["sockname"] = name(s.getsockname())
    s.settimeout(args.timeout)
    s.shutdown(socket.SHUT_WR)
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind")
    ap.add_argument("--host")
    ap.add_argument("--send", default="")
    ap.add_argument("--log")
    ap.add_argument("--ready")
    ap.add_argument("--v6only", action="store_true")
    ap.add_argument("--tfo", action="store_true")
    ap.add_argument("--tfo-connect", action="store_true")
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--family", type=int, choices=[4, 6])
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--ca")
    ap.add_argument("--servername")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if args.role == "server":
        args.bind = args.bind or "::"
        return server(args)
    return client(args)


if __name__ == "__main__":
    sys.exit(main())
