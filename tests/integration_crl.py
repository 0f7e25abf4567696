#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""integration_crl.py - checks of the partner's certificates beyond the
chain: revocation with CRL files of the key ring (docs/keyrings.md
"Revocation"): GSK_CRL_SECURITY_LEVEL, the return codes 431, 5162 and
5163, and reloads that pick up a replaced CRL; and the partner minimums
PeerMin*KeySize and PeerMinCertVersion (RC 5171, 5172).

    tests/integration_crl.py [--build .output] [-k SUBSTR] [--keep] [-v]

Uses the harness of tests/integration.py (Env: a private netns, cgroup,
pin root and temp dir, removed at exit).  The CRLs are made at test time
with `openssl ca -gencrl` from an index file of revoked serials:

    CrlAuth    9601  ServerWithClientAuth, ring CRL/srv: the test CA and
                     its CRL, which revokes the saf-c client certificate
    CrlHigh    9602  ring CRL/high: the test CA without a CRL, the rogue CA
                     with one; GSK_CRL_SECURITY_LEVEL High
    CrlMedium  9603  the same ring, level Medium (the default)
    CrlExpMed  9604  ring CRL/exp: the test CA's CRL, past its nextUpdate;
                     Medium
    CrlExpLow  9605  the same ring, level Low
    CrlOut     9610  client role, ring CRL/cli (test CA + its CRL) against
                     an s_server whose certificate is revoked
    CrlOutOk   9611  the same against the server certificate not revoked
    EcMin384   9612  client role, PeerMinECCKeySize 384, against an
                     s_server with the test server certificate (a P-256 key)
    EcMin256   9613  the same with PeerMinECCKeySize 256 and
                     PeerMinRsaKeySize 4096 (not for an EC key)
    CertV3     9614  client role, PeerMinCertVersion 3, against an
                     s_server with an X.509 v1 RSA-2048 certificate
    CertAny    9615  the same without PeerMinCertVersion
    DhMin3072  9616  client role, TLS 1.2 DHE-RSA only, PeerMinDHKeySize
                     3072, against that s_server (its automatic 2048-bit DH)
    DhMin2048  9617  the same with PeerMinDHKeySize 2048

Output: `ok NAME`, `FAIL NAME: reason`, `skip NAME: reason` per test, then
`N passed, N failed[, N skipped]`.  Exit 0 / 1, or 77 when the suite is
skipped (not root, no BTF, no cgroup v2, no bpffs).
"""
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import integration as it                                   # noqa: E402
from integration import ADDR, check, run                   # noqa: E402
from integration_diag import DiagEnv, error_line, failed_by_rc  # noqa: E402

P_AUTH, P_HIGH, P_MEDIUM, P_EXP_MED, P_EXP_LOW = range(9601, 9606)
P_OUT, P_OUT_OK = 9610, 9611
P_EC384, P_EC256, P_V3, P_V1OK, P_DH3072, P_DH2048 = range(9612, 9618)

RULE = """\
TTLSRule                      {name}
{{
  {portkw}                    {port}
  Direction                   {direction}
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    env{name}
}}
"""

ENV = """\
TTLSEnvironmentAction         env{name}
{{
  HandshakeRole               {role}
  TTLSKeyringParms
  {{
    Keyring                   {ring}
  }}
  TTLSEnvironmentAdvancedParms
  {{
    HandshakeTimeout          5
{adv}  }}
{cipher}  TTLSGskAdvancedParms
  {{
    TTLSGskLdapParms
    {{
      GSK_CRL_SECURITY_LEVEL  {level}
    }}
  }}
}}
"""

DHE_ONLY = ("  TTLSCipherParms\n  {\n"
            "    V3CipherSuites            TLS_DHE_RSA_WITH_AES_128_GCM_SHA256\n  }\n")
# name, port, role, ring, level[, more advanced parms, cipher parms]
ENVS = (("CrlAuth", P_AUTH, "ServerWithClientAuth", "CRL/srv", "Medium"),
        ("CrlHigh", P_HIGH, "ServerWithClientAuth", "CRL/high", "High"),
        ("CrlMedium", P_MEDIUM, "ServerWithClientAuth", "CRL/high", "Medium"),
        ("CrlExpMed", P_EXP_MED, "ServerWithClientAuth", "CRL/exp", "Medium"),
        ("CrlExpLow", P_EXP_LOW, "ServerWithClientAuth", "CRL/exp", "Low"),
        ("CrlOut", P_OUT, "Client", "CRL/cli", "Medium"),
        ("CrlOutOk", P_OUT_OK, "Client", "CRL/cli", "Medium"),
        ("EcMin384", P_EC384, "Client", "CRL/cli", "Medium",
         "    PeerMinECCKeySize         384\n"),
        ("EcMin256", P_EC256, "Client", "CRL/cli", "Medium",
         "    PeerMinECCKeySize         256\n    PeerMinRsaKeySize         4096\n"),
        ("CertV3", P_V3, "Client", "CRL/cli", "Medium",
         "    PeerMinCertVersion        3\n"),
        ("CertAny", P_V1OK, "Client", "CRL/cli", "Medium", ""),
        ("DhMin3072", P_DH3072, "Client", "CRL/cli", "Medium",
         "    TLSv1.3                   Off\n    PeerMinDHKeySize          3072\n",
         DHE_ONLY),
        ("DhMin2048", P_DH2048, "Client", "CRL/cli", "Medium",
         "    TLSv1.3                   Off\n    PeerMinDHKeySize          2048\n",
         DHE_ONLY))


def policy_text():
    out = ["# revocation integration test policy (tests/integration_crl.py)\n"]
    for name, port, role, *_ in ENVS:
        out.append(RULE.format(name=name, port=port,
                               portkw="RemotePortRange" if role == "Client"
                               else "LocalPortRange",
                               direction="Outbound" if role == "Client" else "Inbound"))
    out.append("TTLSGroupAction grpOn\n{\n  TTLSEnabled On\n  Trace 31\n}\n")
    for name, port, role, ring, level, *more in ENVS:
        adv = ("    HostReferenceIdDNS        attls-test-server\n" if role == "Client"
               else "    ClientAuthType            Required\n")
        adv += more[0] if more else ""
        out.append(ENV.format(name=name, role=role, ring=ring, level=level, adv=adv,
                              cipher=more[1] if len(more) > 1 else ""))
    return "".join(out)


class CrlEnv(it.Env):
    """integration.py's Env with CRL rings, this suite's policy and servers."""

    def setup(self):
        self.setup_base()         # test CA, server/client certificates, rogue CA
        self.pki = self.path("pki")
        self.make_crl_rings()
        self.policy = self.path("crl.policy")
        with open(self.policy, "w") as f:
            f.write(policy_text())
        self.start_attlsd()
        for port in (P_AUTH, P_HIGH, P_MEDIUM, P_EXP_MED, P_EXP_LOW):
            self.start_server(port, "echo")
        self.out_srv = {}
        self.start_s_server(P_OUT, self.revsrv_pem, self.revsrv_key)
        self.start_s_server(P_OUT_OK, self.srv_pem, self.srv_key)
        self.make_v1_cert()
        for port in (P_EC384, P_EC256):
            self.start_s_server(port, self.srv_pem, self.srv_key)
        for port in (P_V3, P_V1OK, P_DH3072, P_DH2048):
            self.start_s_server(port, self.v1_pem, self.v1_key)

    start_s_server = DiagEnv.start_s_server

    def serial(self, pem):
        out = run(["openssl", "x509", "-in", pem, "-noout", "-serial"],
                  check_rc=True).stdout.strip()
        return out.split("=", 1)[1]

    def gencrl(self, ca, cakey, revoked, out, crlsec=86400):
        """A CRL of ca revoking the certificates `revoked` (PEM paths) into
        out, valid for crlsec seconds (openssl ca -gencrl)."""
        d = out + ".ca"
        shutil.rmtree(d, ignore_errors=True)
        os.mkdir(d)
        with open(os.path.join(d, "index.txt"), "w") as f:
            for pem in revoked:
                f.write("R\t301231235959Z\t250101000000Z\t%s\tunknown\t/CN=x\n"
                        % self.serial(pem))
        with open(os.path.join(d, "crlnumber"), "w") as f:
            f.write("01\n")
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\n"
                    "crlnumber = %s/crlnumber\ndefault_md = sha256\n" % (d, d))
        tmp = out + ".new"
        run(["openssl", "ca", "-batch", "-gencrl", "-config", os.path.join(d, "ca.cnf"),
             "-keyfile", cakey, "-cert", ca, "-crlsec", str(crlsec), "-out", tmp],
            check_rc=True)
        os.rename(tmp, out)       # a reload never reads half a file

    def make_crl_rings(self):
        srv_ext = os.path.join(self.pki, "ext.cnf")
        with open(srv_ext) as f:
            srv_ext_text = f.read()
        self.cakey = os.path.join(self.pki, "ca.key")
        self.revsrv_pem, self.revsrv_key = self._issue(
            self.pki, "revoked-srv", "/O=attls tests/CN=attls-test-server",
            srv_ext_text, self.ca, self.cakey)
        rings = {}
        for ring in ("srv", "high", "exp", "cli"):
            d = self.path("keyrings", "CRL", ring)
            os.makedirs(d)
            shutil.copy(self.ca, os.path.join(d, "ca.pem"))
            if ring != "cli":
                shutil.copy(self.srv_pem, os.path.join(d, "default.pem"))
                shutil.copy(self.srv_key, os.path.join(d, "default.key"))
                os.chmod(os.path.join(d, "default.key"), 0o600)
            rings[ring] = d
        self.rings = rings
        self.revoke(self.safc_pem, self.revsrv_pem)
        shutil.copy(os.path.join(rings["srv"], "ca.crl"), os.path.join(rings["cli"], "ca.crl"))
        rogue = os.path.join(self.pki, "rogue-ca.pem")
        shutil.copy(rogue, os.path.join(rings["high"], "rogue-ca.pem"))
        self.gencrl(rogue, os.path.join(self.pki, "rogue-ca.key"), [],
                    os.path.join(rings["high"], "rogue.crl"))
        # expires one second after it is made: past nextUpdate by the first test
        self.gencrl(self.ca, self.cakey, [], os.path.join(rings["exp"], "ca.crl"),
                    crlsec=1)

    def make_v1_cert(self):
        """An X.509 v1 RSA-2048 server certificate of the test CA (openssl
        x509 -req without extensions makes v1): v1_pem, v1_key."""
        self.v1_key, csr = self.path("pki", "v1.key"), self.path("pki", "v1.csr")
        self.v1_pem = self.path("pki", "v1.pem")
        run(["openssl", "req", "-batch", "-newkey", "rsa:2048", "-nodes", "-keyout",
             self.v1_key, "-subj", "/O=attls tests/CN=attls-test-server", "-out", csr],
            check_rc=True)
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.cakey,
             "-CAcreateserial", "-days", "2", "-sha256", "-out", self.v1_pem],
            check_rc=True)
        ver = run(["openssl", "x509", "-in", self.v1_pem, "-noout", "-text"],
                  check_rc=True).stdout
        check("Version: 1 (0x0)" in ver, "not a v1 certificate:\n%s" % ver[:400])

    def revoke(self, *pems):
        """Replace CRL/srv/ca.crl by a CRL of the test CA revoking pems."""
        self.gencrl(self.ca, self.cakey, list(pems),
                    os.path.join(self.rings["srv"], "ca.crl"))


# ---------------------------------------------------------------------------

def _with_cert(env, port, cert, key, tag):
    """openssl s_client with a client certificate; True when the echo
    server answered."""
    marker = "crl-%s-%d" % (tag, os.getpid())
    out, err, rc = it._s_client_cert(env, port, cert, key, "ID %s\n%s\n" % (marker, marker))
    it.debug("s_client %s: rc %s out %r err %r" % (tag, rc, out[-200:], err[-400:]))
    return out.count(marker) >= 2


def _cert_refused(env, port, cert, key, tag, rc, rule):
    """A client with certificate `cert` is refused on `port`: the error
    line with RC `rc` of `rule` is returned."""
    off = env.log_offset()
    check(not _with_cert(env, port, cert, key, tag),
          "%s: the certificate (%s) got through" % (rule, tag))
    return error_line(env, off, rc, "Initial Handshake", rule)


def _out(env, port):
    return env.out_client(port, ["--send", "GET / HTTP/1.0\r\n\r\n"], timeout=15)


def _out_refused(env, port, rc, rule):
    """The client role's handshake to `port` fails: the application gets
    no data, and the error line with RC `rc` of `rule` is returned."""
    off = env.log_offset()
    res = _out(env, port)
    check(not res["data"], "%s: the application got data: %r" % (rule, res["data"][:200]))
    return error_line(env, off, rc, "Initial Handshake", rule)


def test_keyring_list_shows_crls(env):
    """attlsctl keyring list CRL/srv: the CRL with issuer, lastUpdate,
    nextUpdate and the number of revoked entries."""
    r = env.attlsctl("keyring", "list", "CRL/srv")
    crls = r.get("crls")
    check(crls and len(crls) == 1, "crls: %r" % r)
    c = crls[0]
    check(c["file"] == "ca.crl" and "CN=attls test CA" in c["issuer"]
          and c["revoked"] == 2 and not c["expired"] and c["next_update"]
          and c["last_update"] and "rc" not in c, "CRL entry: %r" % c)


def test_inbound_revoked_client(env):
    """ServerWithClientAuth Required: the client certificate the CRL
    revokes is refused with RC 431 (log line, status counter); a good one
    of the same CA gets through."""
    check(_with_cert(env, P_AUTH, env.cli_pem, env.cli_key, "good"),
          "a client certificate not revoked was refused:\n%s" % env.log_since(0)[-1500:])
    before = failed_by_rc(env, 431)
    line = _cert_refused(env, P_AUTH, env.safc_pem, env.safc_key, "revoked", 431,
                         "CrlAuth")
    check("certificate revoked" in line and "attls-saf-unmapped" in line,
          "RC 431 line: %s" % line)
    deadline = time.monotonic() + 10
    while failed_by_rc(env, 431) < before + 1:
        check(time.monotonic() < deadline, "status: RC 431 not counted")
        time.sleep(0.1)


def test_outbound_revoked_server(env):
    """Client role: a server certificate the ring's CRL revokes fails with
    RC 431, the application gets no data; the same CA's good certificate
    works."""
    res = _out(env, P_OUT_OK)
    check("Ciphers supported" in res["data"], "good server certificate: %r" % res)
    line = _out_refused(env, P_OUT, 431, "CrlOut")
    check("certificate revoked" in line, "RC 431 line: %s" % line)


def test_high_without_issuer_crl(env):
    """GSK_CRL_SECURITY_LEVEL High: the ring has CRLs, but none from the
    test CA that issued the client certificate: RC 5162; the same ring at
    Medium lets it through."""
    off = env.log_offset()
    line = _cert_refused(env, P_HIGH, env.cli_pem, env.cli_key, "high", 5162, "CrlHigh")
    check("GSK_CRL_SECURITY_LEVEL High" in line, "RC 5162 line: %s" % line)
    check(_with_cert(env, P_MEDIUM, env.cli_pem, env.cli_key, "medium"),
          "Medium: refused without the issuer's CRL:\n%s" % env.log_since(off)[-1500:])


def test_expired_crl_levels(env):
    """The test CA's CRL is past its nextUpdate: Medium fails with RC 5163,
    Low accepts it (with a Trace 16 note)."""
    deadline = time.monotonic() + 10      # made with one second to live
    while True:
        crl = env.attlsctl("keyring", "list", "CRL/exp")["crls"][0]
        if crl["expired"]:
            break
        check(time.monotonic() < deadline, "the CRL does not expire: %r" % crl)
        time.sleep(0.2)
    off = env.log_offset()
    line = _cert_refused(env, P_EXP_MED, env.cli_pem, env.cli_key, "expmed", 5163,
                         "CrlExpMed")
    check("CRL has expired" in line, "RC 5163 line: %s" % line)
    check(_with_cert(env, P_EXP_LOW, env.cli_pem, env.cli_key, "explow"),
          "Low: refused with an expired CRL:\n%s" % env.log_since(off)[-1500:])
    env.wait_log(off, r"ATTLS1284I TTLS Flow .*CRL - depth 0 .*CRL has expired: "
                 r"used all the same \(GSK_CRL_SECURITY_LEVEL Low\)")


def test_reload_replaced_crl(env):
    """A replaced CRL takes effect at the next reload without
    EnvironmentUserInstance and without restarting the server: un-revoked,
    the saf-c certificate gets through; revoked again, it is refused."""
    srv_pid = env.servers[P_AUTH][1]
    check(not _with_cert(env, P_AUTH, env.safc_pem, env.safc_key, "before"),
          "revoked certificate accepted before the reload")
    env.revoke(env.revsrv_pem)
    off = env.log_offset()
    r = env.attlsctl("reload")
    check(r.get("generation"), "reload: %r" % r)
    env.wait_log(off, r"environment envCrlAuth: the CRL files of key ring CRL/srv changed")
    check(_with_cert(env, P_AUTH, env.safc_pem, env.safc_key, "unrevoked"),
          "un-revoked certificate refused after the reload:\n%s"
          % env.log_since(off)[-1500:])
    env.revoke(env.safc_pem, env.revsrv_pem)
    off = env.log_offset()
    env.attlsctl("reload")
    check(not _with_cert(env, P_AUTH, env.safc_pem, env.safc_key, "revoked-again"),
          "revoked again, the certificate still got through")
    error_line(env, off, 431, "Initial Handshake", "CrlAuth")
    # unchanged CRLs: the environment is kept (no rebuild message)
    off = env.log_offset()
    env.attlsctl("reload")
    check(not re.search(r"envCrlAuth: the CRL files", env.log_since(off)),
          "an unchanged CRL rebuilt the environment")
    check(env.servers[P_AUTH][1] == srv_pid and os.path.exists("/proc/%d" % srv_pid),
          "the server application was restarted")


def test_bad_crl_fails_environment(env):
    """A CRL file signed by no CA of the ring fails the environment with
    RC 5161 naming the file (fail closed); put right, the next reload
    works."""
    bad = os.path.join(env.rings["srv"], "rogue.crl")
    env.gencrl(os.path.join(env.pki, "rogue-ca.pem"), os.path.join(env.pki, "rogue-ca.key"),
               [], bad)
    try:
        off = env.log_offset()
        env.attlsctl("reload")
        env.wait_log(off, r"RC: 5161 Environment Init.*rogue\.crl: the CRL's issuer "
                     r".*rogue CA.* is not a CA certificate")
        check(not _with_cert(env, P_AUTH, env.cli_pem, env.cli_key, "badcrl"),
              "a connection got through an environment with a bad CRL")
        error_line(env, off, 5161, "Environment Init", "CrlAuth")
    finally:
        os.unlink(bad)
    env.attlsctl("reload")
    check(_with_cert(env, P_AUTH, env.cli_pem, env.cli_key, "fixed"),
          "the ring without the bad CRL still fails")


def test_peer_min_key_size(env):
    """PeerMinECCKeySize 384 refuses the server's P-256 certificate with RC
    5171 naming key, size and parameter; 256 accepts it, and
    PeerMinRsaKeySize 4096 does not apply to an EC key."""
    line = _out_refused(env, P_EC384, 5171, "EcMin384")
    check("the 256-bit ECC key of the certificate at depth 0 is below "
          "PeerMinECCKeySize 384" in line, "RC 5171 line: %s" % line)
    res = _out(env, P_EC256)
    check("Ciphers supported" in res["data"], "PeerMinECCKeySize 256 (and an RSA "
          "minimum) refused a P-256 certificate: %r" % res)


def test_peer_min_cert_version(env):
    """PeerMinCertVersion 3 refuses an X.509 v1 server certificate with RC
    5172; without it the same server is accepted."""
    line = _out_refused(env, P_V3, 5172, "CertV3")
    check("the certificate at depth 0 is X.509 v1" in line, "RC 5172 line: %s" % line)
    res = _out(env, P_V1OK)
    check("Ciphers supported" in res["data"], "the v1 certificate was refused without "
          "PeerMinCertVersion: %r" % res)


def test_peer_min_dh_key_size(env):
    """TLS 1.2 DHE-RSA: the server's automatic 2048-bit DH key is refused
    by PeerMinDHKeySize 3072 (RC 5171, nothing reaches the application)
    and accepted by 2048."""
    line = _out_refused(env, P_DH3072, 5171, "DhMin3072")
    check("ephemeral 2048-bit DH key is below PeerMinDHKeySize 3072" in line,
          "RC 5171 line: %s" % line)
    res = _out(env, P_DH2048)
    check("DHE-RSA-AES128-GCM-SHA256" in res["data"], "PeerMinDHKeySize 2048 refused "
          "a 2048-bit group: %r" % res)


TESTS = [test_keyring_list_shows_crls, test_inbound_revoked_client,
         test_outbound_revoked_server, test_high_without_issuer_crl,
         test_expired_crl_levels, test_reload_replaced_crl,
         test_bad_crl_fails_environment, test_peer_min_key_size,
         test_peer_min_cert_version, test_peer_min_dh_key_size]


def main():
    return it.run_suite(__doc__, CrlEnv, TESTS, default_timeout=120, setup_exempt=())


if __name__ == "__main__":
    sys.exit(main())
