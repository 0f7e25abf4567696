#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tlsclient.py - the test client: TLS (python ssl) or plain TCP.

TLS runs over ssl.MemoryBIO + SSLObject on a non-blocking raw socket driven
by one selector loop, not over SSLSocket, because the tests need exact
control of the wire:

  * half-close = close_notify, then FIN, then keep reading.  SSLSocket can
    not do that: unwrap() on a blocking SSLSocket waits for the peer's
    close_notify, and shutdown(SHUT_WR) on it sends FIN without close_notify.
    Here SSLObject.unwrap() puts close_notify into the outgoing BIO (it then
    raises SSLWantReadError, since the peer's close_notify has not come),
    the loop flushes it, calls shutdown(SHUT_WR) on the raw socket, and
    goes on feeding incoming records to SSLObject.read(): in TLS 1.3 the
    peer may keep sending after our close_notify (RFC 8446 6.1).
    Caveat handled below: CPython's unwrap() calls SSL_shutdown() twice, and
    the second call discards complete application-data records already
    waiting in the incoming BIO.  So the loop drains SSLObject.read() until
    SSLWantReadError first: the BIO is then empty and nothing is discarded.
  * reading both directions at once (duplex 256 MiB) needs one thread of
    control over the SSL object (OpenSSL's SSL is not safe for concurrent
    SSL_read/SSL_write from two threads).
  * how the stream ended is reported exactly: "close_notify"
    (SSLZeroReturnError), "eof" (TCP FIN without close_notify: truncation),
    "reset" (ECONNRESET), "timeout".

Every stream the client sends starts with "ID <token>\\n" (the server logs
the first line), so the harness can find the server's record of this very
connection.  Output: one JSON object on stdout.

Modes:
  echo     send ID line + --bytes (random write sizes), read the same back,
           then half-close and read to the end
  banner   read the server's banner line first, then as echo
  sink     send ID line + --bytes, half-close, read the reply to the end
  source   send "ID <token> <bytes>\\n", read to the end
  duplex   send ID line + --bytes while reading until the end; half-close
           after sending
  connect  (plain only) connect, optionally send --send, read what comes
           within --read-wait seconds: for fail-closed checks
"""
import argparse
import hashlib
import json
import random
import selectors
import socket
import ssl
import sys
import threading
import time
import uuid


class Fail(Exception):
    pass


def random_chunks(total, seed, head=b""):
    rng = random.Random(seed)
    if head:
        yield head
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


class Stream:
    """One connection, TLS or plain, non-blocking, with a deadline."""

    def __init__(self, args, ctx):
        self.args = args
        self.deadline = time.monotonic() + args.timeout
        self.sel = selectors.DefaultSelector()
        self.out = {"ok": False, "error": None, "end": None,
                    "bytes_sent": 0, "bytes_recv": 0}
        self.hsent = hashlib.sha256()
        self.hrecv = hashlib.sha256()
        self.rbuf = bytearray()          # received plaintext kept for checks
        self.keep = args.keep
        self.wbuf = bytearray()          # raw bytes waiting for the socket
        self.fin_sent = False
        self.ended = False
        self.obj = None
        fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if args.bind:
            self.s.bind((args.bind, 0))
        self.s.settimeout(max(0.1, self.deadline - time.monotonic()))
        t0 = time.monotonic()
        self.s.connect((args.host, args.port))
        self.out["connect_s"] = round(time.monotonic() - t0, 4)
        self.out["local"] = list(self.s.getsockname()[:2])
        self.out["peer"] = list(self.s.getpeername()[:2])
        self.s.setblocking(False)
        self.sel.register(self.s, selectors.EVENT_READ)
        if ctx is not None:
            self.inc, self.outb = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.obj = ctx.wrap_bio(self.inc, self.outb,
                                    server_hostname=args.servername or args.host)

    # -- raw socket ---------------------------------------------------------
    def _left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.out["end"] = self.out["end"] or "timeout"
            raise Fail("timeout")
        return left

    def _collect_out(self):
        if self.obj is not None:
            d = self.outb.read()
            if d:
                self.wbuf += d

    def _io(self, want_read=True, block=True):
        """One round: write what we can, read what is there.  Returns the
        raw bytes read (b"" = EOF), or None if nothing was read."""
        self._collect_out()
        events = selectors.EVENT_READ if want_read else 0
        if self.wbuf:
            events |= selectors.EVENT_WRITE
        if not events:
            return None
        self.sel.modify(self.s, events)
        ready = self.sel.select(min(self._left(), 1.0) if block else 0)
        got = None
        for _, ev in ready:
            if ev & selectors.EVENT_WRITE and self.wbuf:
                try:
                    n = self.s.send(self.wbuf)
                    del self.wbuf[:n]
                except BlockingIOError:
                    pass
            if ev & selectors.EVENT_READ and want_read:
                try:
                    got = self.s.recv(256 * 1024)
                except BlockingIOError:
                    got = None
                except ConnectionResetError:
                    self.out["end"] = "reset"
                    raise Fail("connection reset by peer")
                if got is not None and self.obj is not None:
                    if got:
                        self.inc.write(got)
                    else:
                        self.inc.write_eof()
        return got

    def flush(self):
        self._collect_out()
        while self.wbuf:
            self._io(want_read=False)

    # -- TLS ----------------------------------------------------------------
    def handshake(self):
        if self.obj is None:
            return
        t0 = time.monotonic()
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                if self._io() == b"":
                    raise Fail("EOF during the TLS handshake")
        self.flush()
        self.out["handshake_s"] = round(time.monotonic() - t0, 4)
        self.out["version"] = self.obj.version()
        c = self.obj.cipher()
        self.out["cipher"] = c[0] if c else None
        cert = self.obj.getpeercert()
        self.out["server_subject"] = dict(x[0] for x in cert.get("subject", ()))

    def _deliver(self, d):
        self.out["bytes_recv"] += len(d)
        self.hrecv.update(d)
        if self.keep:
            self.rbuf += d

    def _drain_tls(self):
        """Hand every complete record waiting in the incoming BIO to the
        application side.  True if plaintext was delivered."""
        got = False
        while not self.ended:
            try:
                d = self.obj.read(256 * 1024)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.ended = True
                self.out["end"] = "close_notify"
                break
            except ssl.SSLEOFError:
                self.ended = True
                self.out["end"] = "eof"        # FIN without close_notify
                break
            except ssl.SSLError as e:
                self.out["end"] = "tls_error"
                raise Fail("TLS error while reading: %r" % e)
            if not d:
                # CPython returns b"" (not SSLZeroReturnError) when the
                # peer's close_notify arrives before we sent ours; a TCP
                # FIN without close_notify raises SSLEOFError above (the
                # context clears OP_IGNORE_UNEXPECTED_EOF).
                self.ended = True
                self.out["end"] = "close_notify"
                break
            got = True
            self._deliver(d)
        return got

    def pull(self, block=True):
        """One step: deliver available plaintext, else wait (up to 1 s when
        `block`) for the socket, writing pending bytes meanwhile.  Sets
        self.ended at the end of the stream."""
        if self.ended:
            if self.wbuf:
                self._io(want_read=False, block=block)
            return
        if self.obj is None:
            d = self._io(block=block)
            if d == b"":
                self.ended = True
                self.out["end"] = "eof"
            elif d:
                self._deliver(d)
            return
        if self._drain_tls():
            return
        raw = self._io(block=block)
        if raw is None:
            return
        self._drain_tls()
        if raw == b"" and not self.ended:
            self.ended = True
            self.out["end"] = "eof"

    def put(self, data):
        self.out["bytes_sent"] += len(data)
        self.hsent.update(data)
        if self.obj is None:
            self.wbuf += data
        else:
            view = memoryview(data)
            while view:
                n = self.obj.write(view[:64 * 1024])
                view = view[n:]
                self._collect_out()

    def half_close(self):
        """close_notify (TLS) then FIN; reading goes on."""
        if self.obj is not None:
            # Drain complete records from the incoming BIO first (see the
            # module comment: unwrap() would otherwise discard them).
            while not self.ended and self.inc.pending:
                self.pull(block=False)
            try:
                self.obj.unwrap()
            except ssl.SSLWantReadError:
                pass            # expected: the peer has not closed yet
            except ssl.SSLError as e:
                raise Fail("unwrap: %r" % e)
        self.flush()
        self.s.shutdown(socket.SHUT_WR)
        self.fin_sent = True

    def send_all(self, chunks):
        """Send every chunk; keep reading meanwhile so neither side can
        deadlock on full buffers."""
        for chunk in chunks:
            self.put(chunk)
            while len(self.wbuf) > 512 * 1024:
                self.pull(block=True)
        while self.wbuf:
            self.pull(block=True)

    def read_until(self, n=None):
        while not self.ended and (n is None or self.out["bytes_recv"] < n):
            self.pull(block=True)

    def read_line(self):
        while b"\n" not in self.rbuf and not self.ended:
            self.pull(block=True)
        line, _, _ = bytes(self.rbuf).partition(b"\n")
        return line + b"\n" if b"\n" in self.rbuf else line

    def result(self):
        self.out["sha_sent"] = self.hsent.hexdigest()
        self.out["sha_recv"] = self.hrecv.hexdigest()
        return self.out

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def one(args, ctx, barrier=None):
    token = args.id or uuid.uuid4().hex[:16]
    st = None
    try:
        st = Stream(args, ctx)
        st.out["id"] = "ID " + token
        st.handshake()
        if barrier is not None:
            try:
                barrier.wait(args.timeout)
            except threading.BrokenBarrierError:
                st.out["barrier_broken"] = True
        head = ("ID %s\n" % token).encode()
        t0 = time.monotonic()
        m = args.mode
        if m == "banner":
            st.keep = True
            st.out["banner"] = st.read_line().decode("latin-1")
            st.rbuf.clear()
            st.keep = args.keep
            base = st.out["bytes_recv"]
            st.send_all(random_chunks(args.bytes, args.seed, head))
            st.read_until(base + st.out["bytes_sent"])
            st.out["echo_ok"] = st.out["bytes_recv"] - base == st.out["bytes_sent"]
            st.half_close()
            st.read_until()
        elif m == "echo":
            st.send_all(random_chunks(args.bytes, args.seed, head))
            st.read_until(st.out["bytes_sent"])
            st.out["echo_ok"] = (st.out["bytes_recv"] == st.out["bytes_sent"]
                                 and st.hrecv.hexdigest() == st.hsent.hexdigest())
            st.half_close()
            st.read_until()
        elif m == "sink":
            st.keep = True
            st.send_all(random_chunks(args.bytes, args.seed, head))
            st.out["send_s"] = round(time.monotonic() - t0, 4)
            st.half_close()
            st.read_until()
            st.out["reply"] = bytes(st.rbuf).decode("latin-1")
        elif m == "source":
            st.put(("ID %s %d\n" % (token, args.bytes)).encode())
            st.flush()
            st.read_until()
        elif m == "duplex":
            st.send_all(random_chunks(args.bytes, args.seed, head))
            st.out["send_s"] = round(time.monotonic() - t0, 4)
            st.half_close()
            st.read_until()
        elif m == "connect":
            st.keep = True
            if args.send:
                st.put(args.send.encode())
                st.flush()
            end = time.monotonic() + args.read_wait
            while not st.ended and time.monotonic() < end:
                st.pull(block=True)
            st.out["data"] = bytes(st.rbuf).decode("latin-1")
        st.out["elapsed_s"] = round(time.monotonic() - t0, 4)
        st.out["ok"] = True
    except Fail as e:
        if st is not None:
            st.out["error"] = str(e)
        else:
            return {"ok": False, "error": str(e), "id": "ID " + token}
    except (OSError, ssl.SSLError) as e:
        out = st.out if st is not None else {"ok": False, "id": "ID " + token}
        out["error"] = "%s: %s" % (type(e).__name__, e)
        if isinstance(e, ConnectionRefusedError):
            out["end"] = "refused"
        elif isinstance(e, ConnectionResetError):
            out["end"] = "reset"
        elif isinstance(e, (socket.timeout, TimeoutError)):
            out["end"] = "timeout"
        if st is None:
            return out
    finally:
        if st is not None:
            st.close()
    if args.mode == "connect" and st is not None:
        st.out["data"] = bytes(st.rbuf).decode("latin-1")
    return st.result()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", help="local source address")
    ap.add_argument("--mode", required=True,
                    choices=["echo", "banner", "sink", "source", "duplex", "connect"])
    ap.add_argument("--plain", action="store_true", help="no TLS")
    ap.add_argument("--ca", help="CA file to verify the server against")
    ap.add_argument("--servername")
    ap.add_argument("--tls", choices=["1.2", "1.3"], help="pin the version")
    ap.add_argument("--bytes", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--id")
    ap.add_argument("--send", help="connect mode: bytes to send")
    ap.add_argument("--read-wait", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--conns", type=int, default=1,
                    help="run this many connections concurrently (threads)")
    ap.add_argument("--keep", action="store_true",
                    help="keep received data (include it in the output)")
    args = ap.parse_args()

    ctx = None
    if not args.plain:
        if not args.ca:
            ap.error("--ca is required for TLS")
        ctx = ssl.create_default_context(cafile=args.ca)
        # A FIN without close_notify must stay visible as truncation.
        ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
        if args.tls == "1.2":
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        elif args.tls == "1.3":
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3

    if args.conns == 1:
        res = one(args, ctx)
        json.dump(res, sys.stdout)
        sys.stdout.write("\n")
        return 0 if res.get("ok") else 1

    results = [None] * args.conns
    barrier = threading.Barrier(args.conns)
    threads = []
    t0 = time.monotonic()

    def run(i):
        a = argparse.Namespace(**vars(args))
        a.id = "c%03d-%s" % (i, uuid.uuid4().hex[:8])
        a.seed = args.seed + i
        results[i] = one(a, ctx, barrier)

    threading.stack_size(512 * 1024)
    for i in range(args.conns):
        t = threading.Thread(target=run, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(max(0.1, args.timeout + 10 - (time.monotonic() - t0)))
    for i, r in enumerate(results):
        if r is None:
            results[i] = {"ok": False, "error": "thread did not finish"}
    json.dump({"conns": results, "elapsed_s": round(time.monotonic() - t0, 3)},
              sys.stdout)
    sys.stdout.write("\n")
    return 0 if all(r.get("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
