#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""outclient.py - an unmodified cleartext client for the outbound tests.

It knows nothing about TLS: run in the protected cgroup, its connect() is
steered to the attls engine, which speaks TLS to the real destination.  It
uses plain blocking sockets and reports, as one JSON object on stdout, what
the application saw:

  connect_ok / connect_error   connect()'s outcome (errno name on failure)
  connect_s                    how long connect() took
  sockname_connect, peername_connect   getsockname()/getpeername() right
                               after connect()
  sockname, peername           the same after the first reply arrived
                               (the engine has connected by then)
  data                         what was received (text, at most --keep bytes)
  bytes_sent, bytes_recv
  end                          "eof" (orderly FIN), "reset" (ECONNRESET),
                               "epipe", "timeout", or "error:<errno name>"
  elapsed_s                    from connect() to the end

Modes:
  --send TEXT      send TEXT (\\r and \\n escapes understood), then read
                   until the end; with --shut, shutdown(SHUT_WR) after it
  --stream LINE    send LINE (with a counter) over and over while reading
                   what comes back, until the connection ends or --seconds
                   pass: for the kill -9 test
"""
import argparse
import ctypes
import errno
import json
import os
import pwd
import select
import signal
import socket
import sys
import time

PR_SET_PDEATHSIG = 1


def addr_of(a):
    host = a[0]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return [host, a[1]]


def err_name(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if getattr(e, "errno", None) == errno.ECONNRESET:
        return "reset"
    if getattr(e, "errno", None) == errno.EPIPE:
        return "epipe"
    if getattr(e, "errno", None):
        return "error:" + errno.errorcode.get(e.errno, str(e.errno))
    return "error:" + repr(e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--send", default="")
    ap.add_argument("--shut", action="store_true",
                    help="shutdown(SHUT_WR) after --send")
    ap.add_argument("--stream", help="send this line over and over")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--keep", type=int, default=65536)
    ap.add_argument("--user", help="drop to this user before socket()")
    ap.add_argument("--started", help="file to create once data flows")
    args = ap.parse_args()
    # before any privilege drop: codecs load modules lazily
    data = args.send.encode().decode("unicode_escape").encode("latin-1")

    if args.user:
        pw = pwd.getpwnam(args.user)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    out = {"connect_ok": False, "connect_error": None, "bytes_sent": 0,
           "bytes_recv": 0, "data": "", "end": None}
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    t0 = time.monotonic()
    try:
        s.connect((args.host, args.port))
    except OSError as e:
        out["connect_error"] = err_name(e)
        out["connect_s"] = out["elapsed_s"] = round(time.monotonic() - t0, 4)
        print(json.dumps(out))
        return 0
    out["connect_ok"] = True
    out["connect_s"] = round(time.monotonic() - t0, 4)
    out["sockname_connect"] = addr_of(s.getsockname())
    out["peername_connect"] = addr_of(s.getpeername())
    got = bytearray()

    def after_first():
        # Once both FINs have crossed, the socket is CLOSE and
        # getpeername() fails with ENOTCONN: take the names early.
        if "sockname" not in out:
            try:
                out["sockname"] = addr_of(s.getsockname())
                out["peername"] = addr_of(s.getpeername())
            except OSError as e:
                out["sockname"] = out["peername"] = err_name(e)

    try:
        if args.stream:
            deadline = time.monotonic() + args.seconds
            s.setblocking(False)
            n = 0
            pending = b""
            started = False
            while time.monotonic() < deadline:
                if not pending:
                    pending = ("%s %08d\n" % (args.stream, n)).encode()
                    n += 1
                r, w, _ = select.select([s], [s], [], 1.0)
                if w:
                    try:
                        k = s.send(pending)
                        out["bytes_sent"] += k
                        pending = pending[k:]
                    except BlockingIOError:
                        pass
                if r:
                    d = s.recv(65536)
                    if not d:
                        out["end"] = "eof"
                        break
                    after_first()
                    out["bytes_recv"] += len(d)
                    if len(got) < args.keep:
                        got += d[:args.keep - len(got)]
                    if not started and args.started:
                        open(args.started, "w").close()
                        started = True
            else:
                out["end"] = "timeout"
        else:
            if data:
                s.sendall(data)
                out["bytes_sent"] = len(data)
            if args.shut:
                # the first reply, and the names, before our FIN
                d = s.recv(65536)
                if d:
                    after_first()
                    out["bytes_recv"] += len(d)
                    got += d[:args.keep]
                    s.shutdown(socket.SHUT_WR)
                else:
                    out["end"] = "eof"
            while out["end"] is None:
                d = s.recv(65536)
                if not d:
                    out["end"] = "eof"
                    break
                after_first()
                out["bytes_recv"] += len(d)
                if len(got) < args.keep:
                    got += d[:args.keep - len(got)]
    except (OSError, socket.timeout) as e:
        out["end"] = err_name(e)
    out["elapsed_s"] = round(time.monotonic() - t0, 4)
    try:
        after_first()
    except OSError:
        pass
    out["data"] = got.decode("latin-1")
    s.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
