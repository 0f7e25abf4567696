#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""soakload.py - steady connection churn for tests/soak.py.

    soakload.py --mode in|out --host H --port P --rate R --seconds S [--ca CA]

Starts R connections a second (at fixed intervals, at most --workers at
once) for S seconds.  Each sends an ID line and a payload of a mixed size
(60% 1 KiB, 30% 64 KiB, 10% 1 MiB), reads the echo back, compares SHA-256,
and closes in order:

  in    TLS client (verified against --ca) to a protected inbound port:
        close_notify, then wait for the server's
  out   cleartext client, run inside the protected cgroup, so the engine
        makes its connection TLS: shutdown(SHUT_WR), read to EOF

Prints one JSON object: started, ok, failed, bytes, the first errors, and
how far the start times lagged the schedule (a sign of an overloaded
machine, not of attls).
"""
import argparse
import hashlib
import json
import random
import select
import socket
import ssl
import sys
import threading
import time

SIZES = ((0.6, 1024), (0.3, 64 * 1024), (0.1, 1024 * 1024))


def pick_size(rng):
    r = rng.random()
    for p, n in SIZES:
        if r < p:
            return n
        r -= p
    return SIZES[-1][1]


def read_exact(s, n):
    h, got = hashlib.sha256(), 0
    while got < n:
        d = s.recv(min(65536, n - got))
        if not d:
            raise IOError("EOF after %d of %d echo bytes" % (got, n))
        h.update(d)
        got += len(d)
    return h.hexdigest()


def tls_echo(s, payload, timeout):
    """Send payload and read its echo on one non-blocking SSL socket from
    one thread (an SSL object must not be used by two threads at once)."""
    s.setblocking(False)
    h, sent, got, n = hashlib.sha256(), 0, 0, len(payload)
    while got < n:
        if sent < n:
            try:
                sent += s.send(payload[sent:sent + 65536])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                pass
        try:
            d = s.recv(65536)
            if not d:
                raise IOError("EOF after %d of %d echo bytes" % (got, n))
            h.update(d)
            got += len(d)
            continue
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            pass
        r, w, _ = select.select([s], [s] if sent < n else [], [], timeout)
        if not r and not w:
            raise IOError("timeout after %d of %d echo bytes" % (got, n))
    s.setblocking(True)
    s.settimeout(timeout)
    return h.hexdigest()


def one(args, ctx, n, rng):
    payload = b"ID soak-%s-%d\n" % (args.mode.encode(), n) + rng.randbytes(pick_size(rng))
    raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    try:
        if ctx:
            s = ctx.wrap_socket(raw)
            got = tls_echo(s, payload, args.timeout)
        else:
            s = raw
            t = threading.Thread(target=s.sendall, args=(payload,), daemon=True)
            t.start()
            got = read_exact(s, len(payload))
            t.join(args.timeout)
        if got != hashlib.sha256(payload).hexdigest():
            raise IOError("echo differs")
        if ctx:
            s.unwrap()
        else:
            s.shutdown(socket.SHUT_WR)
            if s.recv(1):
                raise IOError("data after the echo")
        return len(payload)
    finally:
        raw.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=["in", "out"])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca")
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()

    ctx = None
    if args.mode == "in":
        ctx = ssl.create_default_context(cafile=args.ca)
        ctx.check_hostname = False
    lock = threading.Lock()
    out = {"mode": args.mode, "started": 0, "ok": 0, "failed": 0, "bytes": 0,
           "errors": [], "max_lag_s": 0.0}
    slots = threading.Semaphore(args.workers)

    def work(n):
        rng = random.Random(n * 7919 + (args.mode == "out"))
        try:
            nb = one(args, ctx, n, rng)
            with lock:
                out["ok"] += 1
                out["bytes"] += nb
        except Exception as e:          # counted and reported
            with lock:
                out["failed"] += 1
                if len(out["errors"]) < 5:
                    out["errors"].append("%s: %s" % (type(e).__name__, e))
        finally:
            slots.release()

    t0 = time.monotonic()
    n = 0
    threads = []
    while True:
        due = t0 + n / args.rate
        now = time.monotonic()
        if due - t0 >= args.seconds:
            break
        if due > now:
            time.sleep(due - now)
        slots.acquire()
        out["max_lag_s"] = max(out["max_lag_s"], round(time.monotonic() - due, 3))
        th = threading.Thread(target=work, args=(n,), daemon=True)
        th.start()
        threads.append(th)
        threads = [x for x in threads if x.is_alive()]
        n += 1
        out["started"] = n
    for th in threads:
        th.join(args.timeout + 5)
    out["elapsed_s"] = round(time.monotonic() - t0, 1)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0 if out["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
