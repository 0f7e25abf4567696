#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tlssrv.py - a TLS echo server outside the protected cgroup, the partner
of the outbound tests (the engine is its client).

One thread per connection over ssl.SSLSocket; every line received is echoed
back.  --also-port listens on more ports with the same context, so a session
made on one port can be resumed on another.  One JSON line per connection goes to --log:

  port          the port the client connected to (--port or an --also-port)
  peer          the client's address (the engine's wire end)
  resumed       the client resumed an earlier session (abbreviated handshake)
  version, cipher, sni     what was negotiated; sni = the name the client
                sent (None when it sent none)
  client_cert   subject of the client certificate, if one was sent
  id            the first line received
  bytes_in, bytes_out, sha_in
  end           "close_notify", "eof" (FIN without close_notify), "reset",
                or "error:..." (a failed handshake included)

With --ca and --require-cert the server insists on a client certificate
issued by that CA.
"""
import argparse
import ctypes
import hashlib
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


class Recorder:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)

    def write(self, rec):
        os.write(self.fd, (json.dumps(rec, sort_keys=True) + "\n").encode())


def subject_str(cert):
    if not cert:
        return None
    parts = []
    for rdn in cert.get("subject", ()):
        for k, v in rdn:
            parts.append("%s=%s" % (k, v))
    return ",".join(parts)


TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8


def tcp_end(s):
    """How the peer ended a stream Python reported as EOF: CPython maps an
    SSL_read_ex() failure with return 0 to SSLEOFError, a reset (ECONNRESET)
    included, so ask TCP: a reset leaves the socket CLOSE, a FIN
    CLOSE_WAIT."""
    try:
        state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    except OSError:
        return "eof"
    return "reset" if state == TCP_CLOSE else "eof"


def handle(raw, addr, ctx, args, rec):
    r = {"port": raw.getsockname()[1], "peer": [addr[0], addr[1]], "t0": time.time(),
         "bytes_in": 0, "bytes_out": 0, "id": None, "end": None,
         "sni": None, "client_cert": None}
    h = hashlib.sha256()
    first = b""
    s = raw
    try:
        raw.settimeout(args.timeout)
        # ragged EOFs raise SSLEOFError: "eof" is told from close_notify
        s = ctx.wrap_socket(raw, server_side=True,
                            do_handshake_on_connect=False,
                            suppress_ragged_eofs=False)
        s.do_handshake()
        r["version"] = s.version()
        r["cipher"] = s.cipher()[0]
        r["resumed"] = s.session_reused
        r["sni"] = getattr(s, "sni_seen", None)
        r["client_cert"] = subject_str(s.getpeercert())
        while True:
            try:
                d = s.recv(65536)
            except ssl.SSLZeroReturnError:
                r["end"] = "close_notify"
                break
            except ssl.SSLEOFError:
                r["end"] = tcp_end(s)
                break
            if not d:
                r["end"] = "close_notify"
                break
            r["bytes_in"] += len(d)
            h.update(d)
            if r["id"] is None:
                first += d[:256]
                if b"\n" in first or len(first) >= 256:
                    r["id"] = first.split(b"\n", 1)[0].decode("latin-1")
            if args.mode == "echo":
                s.sendall(d)
                r["bytes_out"] += len(d)
        try:
            s.unwrap()
        except (OSError, ssl.SSLError):
            pass
    except ConnectionResetError:
        r["end"] = "reset"
    except ssl.SSLEOFError:
        r["end"] = tcp_end(s)
    except ssl.SSLError as e:
        r["end"] = "error:" + (e.reason or str(e))
    except OSError as e:
        r["end"] = "error:" + str(e)
    finally:
        r["sha_in"] = h.hexdigest()
        r["t1"] = time.time()
        rec.write(r)
        try:
            raw.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--also-port", type=int, action="append", default=[])
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca")
    ap.add_argument("--require-cert", action="store_true")
    ap.add_argument("--mode", default="echo", choices=["echo", "sink"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.ca:
        ctx.load_verify_locations(args.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED if args.require_cert else ssl.CERT_OPTIONAL
    # Record the SNI name and acknowledge it (returning None accepts it).
    def on_sni(sslsock, name, _ctx):
        sslsock.sni_seen = name
        return None
    ctx.sni_callback = on_sni

    rec = Recorder(args.log)
    # "::" is a dual-stack listener: IPv6 and v4-mapped IPv4 peers
    listeners = []
    for port in [args.port] + args.also_port:
        ls = socket.socket(socket.AF_INET6 if ":" in args.bind else socket.AF_INET,
                           socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((args.bind, port))
        ls.listen(256)
        listeners.append(ls)
    for ls in listeners[1:]:
        threading.Thread(target=serve, args=(ls, ctx, args, rec), daemon=True).start()
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    serve(listeners[0], ctx, args, rec)


def serve(ls, ctx, args, rec):
    while True:
        raw, addr = ls.accept()
        threading.Thread(target=handle, args=(raw, addr, ctx, args, rec),
                         daemon=True).start()

if __name__ == "__main__":
    sys.exit(main())
