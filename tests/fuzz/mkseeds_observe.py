#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""mkseeds_observe.py - write the seed corpus of tests/fuzz/fuzz_observe.c:
real TLS 1.3 / 1.2 handshakes (Python's ssl over memory BIOs) and the
captured OpenSSH exchange of tests/unit/data, in the fuzzer's layout
(flags, 2-byte length of the first stream, stream 1, stream 2).

    tests/fuzz/mkseeds_observe.py [OUTDIR]   (default tests/fuzz/corpus-observe)
"""
import os
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def seed(flags, a, b):
    return bytes([flags, len(a) >> 8 & 0xff, len(a) & 0xff]) + a + b


def tls(version, certfile, keyfile):
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(certfile, keyfile)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    for c in (sctx, cctx):
        c.minimum_version = c.maximum_version = version
    cctx.set_alpn_protocols(["h2", "http/1.1"])
    sctx.set_alpn_protocols(["h2"])
    ci, co, si, so = (ssl.MemoryBIO() for _ in range(4))
    c = cctx.wrap_bio(ci, co, server_hostname="seed.example")
    s = sctx.wrap_bio(si, so, server_side=True)
    c2s = s2c = b""
    for _ in range(10):
        for end in (c, s):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pass
        d = co.read()
        c2s += d
        si.write(d)
        d = so.read()
        s2c += d
        ci.write(d)
    return c2s[:4096], s2c[:4096]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus-observe")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-batch", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                        "-subj", "/CN=seed", "-keyout", key, "-out", crt],
                       check=True, capture_output=True)
        for name, v in (("tls13", ssl.TLSVersion.TLSv1_3), ("tls12", ssl.TLSVersion.TLSv1_2)):
            c2s, s2c = tls(v, crt, key)
            with open(os.path.join(out, name + "-client"), "wb") as f:
                f.write(seed(1, c2s, s2c))
            with open(os.path.join(out, name + "-server"), "wb") as f:
                f.write(seed(0, s2c, c2s))
    data = os.path.join(HERE, "..", "unit", "data")
    with open(os.path.join(data, "ssh-openssh92-c2s.bin"), "rb") as f:
        c2s = f.read()
    with open(os.path.join(data, "ssh-openssh92-s2c.bin"), "rb") as f:
        s2c = f.read()
    with open(os.path.join(out, "ssh-openssh92"), "wb") as f:
        f.write(seed(1, c2s, s2c))
    with open(os.path.join(out, "cleartext"), "wb") as f:
        f.write(seed(3, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n"))


if __name__ == "__main__":
    main()
