#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""integration.py - end-to-end tests of attlsd with real sockets, a real
cgroup, a real network namespace and real TLS clients (docs/style.md #20,
tier c).

    tests/integration.py [--build .output] [-k SUBSTR] [--keep] [-v]

Needs root.  Everything it creates is private to this run and named after
its pid (N):
    netns     attls-tN      (lo up, 10.77.0.1/32 and 10.77.0.2/32 on lo)
    cgroup    <cgroup2 mount>/attls-tN
    pins      /sys/fs/bpf/attls-tN
    temp dir  /tmp/attls-tN-*  (CA, key ring, policy, logs, zERT records)
and removes it at exit, also on failure, timeout, SIGINT or SIGTERM.  If
the harness itself is SIGKILLed, its children die with it (PR_SET_PDEATHSIG;
attlsd gets SIGTERM and unpins) and the next run sweeps the empty netns,
cgroup and pins whose attls-tN owner is gone.

Tests (numbers from the issue): 1 test_openssl_tls13/_tls12, test_gnutls_cli,
test_python_ssl; 2 test_real_addresses; 3 test_cleartext_ports; 4
test_bulk_256mib; 5 test_server_close_delivers_all; 6 test_client_half_close;
7 test_no_spurious_eagain; 8 test_banner_and_client_first; 9
test_concurrent_200; 10 test_no_cleartext_on_wire; 11
test_sigkill_fails_closed; 12 test_zert; 13 test_policy_check.  Beyond the
issue: test_listener_before_attlsd (adoption), test_classification_negative
(Jobname/Userid really evaluated), test_ipv6_never_bypassed,
test_sigterm_detaches.

Processes "in the cgroup" (the protected servers, tests/helpers/clearsrv.py)
are started by a shell that writes its own pid to cgroup.procs and then
execs `nsenter --net=/run/netns/attls-tN` (never `ip netns exec`: it
remounts /sys, which hides bpffs and the cgroup mount).  attlsd and the
clients run in the netns but outside the cgroup.

Output: `ok NAME`, `FAIL NAME: reason` or `skip NAME: reason` per test, then
exactly `N passed, N failed[, N skipped]`.  Exit 0 when nothing failed, 1 on
failure, 77 when the whole suite had to be skipped (no root, no BTF, no
cgroup v2, no bpffs).
"""
import argparse
import atexit
import ctypes
import hashlib
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

EXIT_SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS = os.path.join(HERE, "helpers")
PY = sys.executable or "python3"

# --sanitize: a sanitizer report in any log means the run failed.
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")
SANITIZER_SUPP = os.path.join(HERE, "asan", "lsan.supp")
SANITIZER_STDERR = None     # with --sanitize: [(command, stderr)] of run()s that reported

ADDR = "10.77.0.1"          # the "real" local address servers are dialled on
CLIENT_ADDR = "10.77.0.2"   # python clients bind here: peer != local address

# Servers: port -> (mode, options).  All but BASELINE run in the cgroup.
P_ECHO = 9401        # rule TestSrv, thread per connection
P_BANNER = 9402      # rule TestSrv, server speaks first
P_SINK = 9403        # rule TestSrv, half-close target
P_SOURCE = 9404      # rule TestSrv, writes then close()s at once
P_DUPLEX = 9405      # rule TestSrv, 256 MiB each way
P_FORK = 9406        # rule TestFork (Userid nobody), fork per connection
P_NORULE = 9407      # bound in the cgroup, no rule: cleartext
P_OFF = 9408         # rule TestClearOff (TTLSEnabled Off): cleartext
P_BASELINE = 9409    # outside the cgroup, no attls: the speed reference
P_EARLY = 9410       # rule TestSrvEarly, listening before attlsd starts
P_BOUND = 9411       # rule TestSrvEarly, bound to ADDR instead of 0.0.0.0
P_WRONGUSER = 9412   # rule TestUserMismatch (Userid nobody), server runs as root
P_WRONGJOB = 9413    # rule TestJobMismatch (Jobname python3*), comm "lineserv"
P_V6 = 9414          # rule TestSrvV6, dual-stack listener on [::]
P_PRIO = 9415        # rules TestPrioClear (Off) and TestPrioTls overlap here
P_PRIO2 = 9416       # only TestPrioTls covers this one
P_SAF = 9417         # rule TestSaf: ServerWithClientAuth, ClientAuthType SAFCheck
P_SNI = 9418         # rule TestSni: ServerHandshakeSNI Required, SNIList, SNIMatch Required

# Outbound (Direction Outbound, HandshakeRole Client): TLS servers outside
# the cgroup; cleartext clients inside it.
P_OUT_WWW = 9420     # openssl s_server -www (rule TestOut)
P_OUT_PY = 9421      # tests/helpers/tlssrv.py echo (rule TestOut)
P_OUT_MTLS = 9422    # openssl s_server -www -Verify 1: client certificate required
P_OUT_ROGUE = 9423   # certificate from a CA the key ring does not know
P_OUT_EXPIRED = 9424 # certificate expired yesterday
P_OUT_REFUSED = 9425 # nobody listens
P_OUT_WRONGHOST = 9426  # rule TestOutWrongHost: HostReferenceIdDNS wrong.example.org
P_OUT_LOCKED = 9427  # rule TestOutLocked: key ring locked/client, no ACCESS grant
P_OUT_SNI_ACK = 9428    # rule TestOutSni (ClientHandshakeSNIMatch Required): tlssrv.py acks SNI
P_OUT_SNI_NOACK = 9429  # rule TestOutSni: s_server does not acknowledge the name
P_OUT_PY2 = 9430    # rule TestOutPy2 (envCli), the P_OUT_PY tlssrv.py process
P_OUT_ALT = 9431    # rule TestOutAlt (envCliAlt: HostReferenceIdDNS localhost), same

# The group and server environment the smaller suites' policies share
# (tests/integration_hostile.py, tests/soak.py): plain text, no format fields.
POLICY_GROUP_SERVER = """\
TTLSGroupAction               grpOn
{
  TTLSEnabled                 On
}
TTLSEnvironmentAction         envSrv
{
  HandshakeRole               Server
  TTLSKeyringParms
  {
    Keyring                   test/ring
  }
}
"""

BULK = 256 * 1024 * 1024
TEN_MB = 10 * 1000 * 1000
FORK_USER = "nobody"

POLICY = """\
# attls integration test policy (generated by tests/integration.py)
TTLSRule                      TestSrv
{{
  LocalPortRange              {p_lo}-{p_hi}
  Jobname                     python3*
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}}
TTLSRule                      TestSrvEarly
{{
  LocalPortRange              {p_early}-{p_bound}
  Jobname                     python3*
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}}
TTLSRule                      TestFork
{{
  LocalPortRange              {p_fork}
  Jobname                     python3*
  Userid                      {fork_user}
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}}
TTLSRule                      TestUserMismatch
{{
  LocalPortRange              {p_wronguser}
  Jobname                     python3*
  Userid                      {fork_user}
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}}
TTLSRule                      TestJobMismatch
{{
  LocalPortRange              {p_wrongjob}
  Jobname                     python3*
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}}
TTLSRule                      TestSrvV6
{{
  LocalPortRange              {p_v6}
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}}
TTLSRule                      TestPrioClear
{{
  LocalPortRange              {p_prio}
  Direction                   Inbound
  Priority                    {prio_clear}
  TTLSGroupActionRef          grpOff
}}
TTLSRule                      TestPrioTls
{{
  LocalPortRange              {p_prio}-{p_prio2}
  Direction                   Inbound
  Priority                    150
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}}
TTLSRule                      TestSaf
{{
  LocalPortRange              {p_saf}
  Jobname                     python3*
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSaf
}}
TTLSRule                      TestSni
{{
  LocalPortRange              {p_sni}
  Jobname                     python3*
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSni
}}
TTLSRule                      TestOut
{{
  RemotePortRange             {p_out_lo}-{p_out_hi}
  Direction                   Outbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envCli
}}
TTLSRule                      TestOutWrongHost
{{
  RemotePortRange             {p_out_wronghost}
  Direction                   Outbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envCliWrongHost
}}
TTLSRule                      TestOutLocked
{{
  RemotePortRange             {p_out_locked}
  Direction                   Outbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envCliLocked
}}
TTLSRule                      TestOutSni
{{
  RemotePortRange             {p_out_sni_lo}-{p_out_sni_hi}
  Direction                   Outbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envCliSni
}}
TTLSRule                      TestOutPy2
{{
  RemotePortRange             {p_out_py2}
  Direction                   Outbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envCli
}}
TTLSRule                      TestOutAlt
{{
  RemotePortRange             {p_out_alt}
  Direction                   Outbound
  Priority                    100
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envCliAlt
}}
TTLSRule                      TestClearOff
{{
  LocalPortRange              {p_off}
  Direction                   Inbound
  Priority                    100
  TTLSGroupActionRef          grpOff
}}
TTLSGroupAction               grpOn
{{
  TTLSEnabled                 On
}}
TTLSGroupAction               grpOff
{{
  TTLSEnabled                 Off
}}
TTLSEnvironmentAction         envSrv
{{
  HandshakeRole               Server
  TTLSKeyringParms
  {{
    Keyring                   test/ring
  }}
  TTLSEnvironmentAdvancedParms
  {{
    TLSv1.2                   On
    TLSv1.3                   On
  }}
}}
TTLSEnvironmentAction         envSaf
{{
  HandshakeRole               ServerWithClientAuth
  TTLSKeyringParms
  {{
    Keyring                   test/ring
  }}
  TTLSEnvironmentAdvancedParms
  {{
    ClientAuthType            SAFCheck
    TLSv1.2                   On
    TLSv1.3                   On
  }}
}}
TTLSEnvironmentAction         envSni
{{
  HandshakeRole               Server
  TTLSKeyringParms
  {{
    Keyring                   test/ring
  }}
  TTLSEnvironmentAdvancedParms
  {{
    ServerHandshakeSNI        Required
    ServerHandshakeSNIMatch   Required
    ServerHandshakeSNIList    sni-alt:alt.attls.test default:attls-test-server
  }}
}}
TTLSEnvironmentAction         envCli
{{
  HandshakeRole               Client
  EnvironmentUserInstance     {cli_instance}
  TTLSKeyringParms
  {{
    Keyring                   test/client
  }}
  TTLSEnvironmentAdvancedParms
  {{
    HostReferenceIdDNS        attls-test-server
    HandshakeTimeout          5
    TLSv1.2                   On
    TLSv1.3                   On
  }}
}}
TTLSEnvironmentAction         envCliWrongHost
{{
  HandshakeRole               Client
  TTLSKeyringParms
  {{
    Keyring                   test/client
  }}
  TTLSEnvironmentAdvancedParms
  {{
    HostReferenceIdDNS        wrong.example.org
    HandshakeTimeout          5
  }}
}}
TTLSEnvironmentAction         envCliAlt
{{
  HandshakeRole               Client
  TTLSKeyringParms
  {{
    Keyring                   test/client
  }}
  TTLSEnvironmentAdvancedParms
  {{
    HostReferenceIdDNS        localhost
    HandshakeTimeout          5
  }}
}}
TTLSEnvironmentAction         envCliSni
{{
  HandshakeRole               Client
  TTLSKeyringParms
  {{
    Keyring                   test/client
  }}
  TTLSEnvironmentAdvancedParms
  {{
    ClientHandshakeSNI        Required
    ClientHandshakeSNIList    attls-test-server
    ClientHandshakeSNIMatch   Required
  }}
}}
TTLSEnvironmentAction         envCliLocked
{{
  HandshakeRole               Client
  TTLSKeyringParms
  {{
    Keyring                   locked/client
  }}
}}
"""

# (file text, line the error must be reported on)
BROKEN_POLICIES = [
    ("""\
TTLSRule                      Broken
{
  LocalPortRange              9999
  Direction                   Sideways
  TTLSGroupActionRef          grpOn
}
TTLSGroupAction               grpOn
{
  TTLSEnabled                 On
}
""", 4),
    ("""\
TTLSRule                      Dangling
{
  LocalPortRange              9999
  Direction                   Inbound
  TTLSGroupActionRef          grpOff
}
TTLSGroupAction               grpOff
{
  TTLSEnabled                 Off
}
TTLSRule                      Dangling2
{
  LocalPortRange              9998
  Direction                   Inbound
  TTLSGroupActionRef          noSuchGroup
}
""", 15),
]


class Skip(Exception):
    pass


class TestFailure(AssertionError):
    pass


class TestTimeout(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def info(msg):
    print("# " + msg, flush=True)


VERBOSE = False


def debug(msg):
    if VERBOSE:
        print("#   " + msg, flush=True)


# ---------------------------------------------------------------------------
# processes

_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent(sig):
    """preexec_fn: the child gets `sig` when this harness dies, even by
    SIGKILL (no atexit then), so nothing we started outlives us."""
    def fn():
        _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    return fn


def _killpg(p, sig=signal.SIGKILL):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.kill()
    except OSError:
        pass


def run(cmd, timeout=30, input=None, check_rc=False, **kw):
    """Run cmd (its own session, so a timeout kills the whole group).
    Returns CompletedProcess with text stdout/stderr."""
    debug("run: " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if input is not None
                         else subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=_die_with_parent(signal.SIGKILL), **kw)
    try:
        out, err = p.communicate(input=input.encode() if isinstance(input, str)
                                 else input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(p)
        out, err = p.communicate()
        raise TestFailure("timed out after %ss: %s\nstdout: %s\nstderr: %s"
                          % (timeout, " ".join(cmd), out.decode(errors="replace")[-2000:],
                             err.decode(errors="replace")[-2000:]))
    except BaseException:
        _killpg(p)
        p.wait()
        raise
    cp = subprocess.CompletedProcess(cmd, p.returncode,
                                     out.decode(errors="replace"),
                                     err.decode(errors="replace"))
    if SANITIZER_STDERR is not None and any(x in cp.stderr for x in SANITIZER_PATTERNS):
        SANITIZER_STDERR.append((" ".join(cmd), cp.stderr))
    if check_rc and cp.returncode != 0:
        raise TestFailure("%s: exit %d: %s" % (" ".join(cmd), cp.returncode,
                                                (cp.stderr or cp.stdout).strip()[-2000:]))
    return cp


def tail(path, offset=0, lines=25):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def find_cgroup2():
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, typ = line.split()[:3]
            if typ == "cgroup2":
                return mnt.replace("\\040", " ")
    return None


def bpffs_mounted(path="/sys/fs/bpf"):
    with open("/proc/mounts") as f:
        return any(l.split()[1] == path and l.split()[2] == "bpf" for l in f)


# ---------------------------------------------------------------------------
# pcap

def read_ndjson(path):
    """The complete records of an NDJSON file a helper is still writing
    (a line still being appended has no newline yet)."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]


def pcap_segments(path):
    """TCP segments of a pcap, IPv4 and IPv6: [(src, sport, dst, dport,
    flags, payload)] in capture order.  Link types: Ethernet (tcpdump -i
    lo), Linux cooked v1/v2, raw IP; IPv6 extension headers are not used
    by the tests and not parsed."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise TestFailure("%s: not a pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype not in (1, 113, 276, 101, 12, 228):
        raise TestFailure("%s: pcap link type %d not handled" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:               # Ethernet (lo)
            etype, ip = pkt[12:14], pkt[14:]
        elif linktype == 113:           # Linux cooked
            etype, ip = pkt[14:16], pkt[16:]
        elif linktype == 276:           # Linux cooked v2
            etype, ip = pkt[0:2], pkt[20:]
        else:                           # raw IP
            etype, ip = (b"\x86\xdd" if pkt[:1] and pkt[0] >> 4 == 6
                         else b"\x08\x00"), pkt
        if etype == b"\x08\x00" and len(ip) >= 20 and ip[0] >> 4 == 4 and ip[9] == 6:
            tcp = ip[(ip[0] & 15) * 4:struct.unpack("!H", ip[2:4])[0]]
            src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        elif etype == b"\x86\xdd" and len(ip) >= 40 and ip[6] == 6:
            tcp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
            src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
            dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
        else:
            continue
        if len(tcp) < 20:
            continue
        sport, dport = struct.unpack("!HH", tcp[:4])
        out.append((src, sport, dst, dport, tcp[13], tcp[(tcp[12] >> 4) * 4:]))
    return out


def pcap_flows(path):
    """{(src, sport, dst, dport): payload bytes concatenated in capture
    order} of a pcap's TCP segments (pcap_segments())."""
    flows = {}
    for src, sport, dst, dport, _, payload in pcap_segments(path):
        key = (src, sport, dst, dport)
        flows[key] = flows.get(key, b"") + payload
    return flows


# ---------------------------------------------------------------------------
# the environment

class Env:
    def __init__(self, build, keep):
        self.build = os.path.abspath(build)
        self.attlsd_bin = os.path.join(self.build, "attlsd")
        self.keep = keep
        self.name = "attls-t%d" % os.getpid()
        self.netns = self.name
        self.pin_root = "/sys/fs/bpf/" + self.name
        self.cg2 = None
        self.cgdir = None
        self.tmp = None
        self.procs = []              # every Popen we started (not attlsd)
        self.servers = {}            # port -> (Popen, listener pid)
        self.attlsd = None
        self.attlsd_args = None
        self.attlsd_log = None
        self.attlsd_log_f = None
        self.netns_made = False
        self.cleaned = False
        self.mounted_bpffs = False
        self.stats = {}

    # -- helpers ----------------------------------------------------------
    def ns(self, cmd):
        return ["nsenter", "--net=/run/netns/" + self.netns] + list(cmd)

    def in_cgroup(self, cmd):
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"',
                os.path.join(self.cgdir, "cgroup.procs")] + self.ns(cmd)

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def spawn(self, cmd, log=None, cgroup=False):
        """Start a long-running process in its own process group."""
        if cgroup:
            cmd = self.in_cgroup(cmd)
        debug("spawn: " + " ".join(cmd))
        out = open(log, "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                             start_new_session=True,
                             preexec_fn=_die_with_parent(signal.SIGKILL))
        if log:
            out.close()
        self.procs.append(p)
        return p

    def wait_file(self, path, what, timeout=15, proc=None, log=None):
        """Wait until PATH exists (a server's ready file); fail early when
        PROC, the server, exits (with the tail of LOG)."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if proc is not None and proc.poll() is not None:
                raise TestFailure("%s exited: %s" % (what, tail(log) if log else
                                                     proc.returncode))
            if time.monotonic() > deadline:
                raise TestFailure("%s not ready" % what)
            time.sleep(0.02)

    def wait_port(self, port, what, timeout=15, addr=ADDR):
        """Wait until something accepts on ADDR:PORT in the netns."""
        probe = ("import socket,sys,time\n"
                 "d=time.time()+%d\n"
                 "while time.time()<d:\n"
                 "  try: socket.create_connection((%r,%d),1).close(); sys.exit(0)\n"
                 "  except OSError: time.sleep(0.05)\n"
                 "sys.exit(1)\n" % (timeout, addr, port))
        cp = run(self.ns([PY, "-c", probe]), timeout=timeout + 10)
        check(cp.returncode == 0, "%s does not accept on %s:%d" % (what, addr, port))

    # -- setup ------------------------------------------------------------
    def sweep_stale(self):
        """Remove what an earlier run that was SIGKILLed left behind: pins,
        netns and empty cgroups named attls-tN whose process N is gone.
        Never touches processes."""
        def dead(name):
            m = re.fullmatch(r"attls-t(\d+)", name)
            if not m or int(m.group(1)) == os.getpid():
                return False
            try:
                os.kill(int(m.group(1)), 0)
                return False
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        for n in os.listdir("/sys/fs/bpf"):
            if dead(n) and os.path.exists(self.attlsd_bin):
                info("removing stale pins /sys/fs/bpf/" + n)
                run([self.attlsd_bin, "--cleanup", "--pin-root", "/sys/fs/bpf/" + n],
                    timeout=30)
        if os.path.isdir("/run/netns"):
            for n in os.listdir("/run/netns"):
                if dead(n):
                    info("removing stale netns " + n)
                    run(["ip", "netns", "del", n], timeout=30)
        for n in os.listdir(self.cg2):
            if dead(n):
                try:
                    os.rmdir(os.path.join(self.cg2, n))
                    info("removed stale cgroup " + n)
                except OSError as e:
                    info("stale cgroup %s/%s not removed: %s" % (self.cg2, n, e))
        tmp = tempfile.gettempdir()
        for n in os.listdir(tmp):
            m = re.fullmatch(r"(attls-t\d+)-\w+", n)
            if m and dead(m.group(1)) and not os.path.exists(
                    os.path.join(tmp, n, "KEPT")):
                info("removing stale %s/%s" % (tmp, n))
                shutil.rmtree(os.path.join(tmp, n), ignore_errors=True)

    def setup_base(self):
        """What every suite's environment starts with: the temp dir with
        the server and zERT logs, bpffs, the cgroup, the netns with both
        addresses on lo, and the certificates and key rings (make_certs)."""
        self.tmp = tempfile.mkdtemp(prefix=self.name + "-")
        os.chmod(self.tmp, 0o755)     # the "nobody" server writes its log here
        self.srvlog = self.path("servers.ndjson")
        open(self.srvlog, "w").close()
        os.chmod(self.srvlog, 0o666)
        self.zert_dir = self.path("zert")
        os.mkdir(self.zert_dir)
        self.zert_file = os.path.join(self.zert_dir, "zert.ndjson")

        if not bpffs_mounted():
            run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check_rc=True)
            self.mounted_bpffs = True
        self.cg2 = find_cgroup2()
        self.cgdir = os.path.join(self.cg2, self.name)
        self.sweep_stale()
        os.mkdir(self.cgdir)

        run(["ip", "netns", "add", self.netns], check_rc=True)
        self.netns_made = True
        run(self.ns(["ip", "link", "set", "lo", "up"]), check_rc=True)
        for a in (ADDR, CLIENT_ADDR):
            run(self.ns(["ip", "addr", "add", a + "/32", "dev", "lo"]), check_rc=True)
        self.make_certs()

    def capture_start(self, name, filt, snaplen=0):
        """tcpdump on the netns's lo into NAME.pcap, once it listens;
        (process, pcap path).  --immediate-mode: packets are handed over at
        once, else a SIGINT soon after the traffic can end tcpdump with
        them still in the kernel's ring."""
        pcap, log = self.path(name + ".pcap"), self.path(name + ".tcpdump.log")
        td = self.spawn(self.ns(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode",
                                 "-s", str(snaplen), "-Z", "root", "-w", pcap, filt]),
                        log=log)
        deadline = time.monotonic() + 15
        while "listening on" not in tail(log):
            check(td.poll() is None, "tcpdump exited: %s" % tail(log))
            check(time.monotonic() < deadline, "tcpdump did not start: %s" % tail(log))
            time.sleep(0.05)
        return td, pcap

    @staticmethod
    def capture_stop(td):
        td.send_signal(signal.SIGINT)
        try:
            td.wait(10)
        except subprocess.TimeoutExpired:
            _killpg(td)

    def setup(self):
        self.setup_base()
        self.policy = self.path("test.policy")
        self.write_policy(prio_clear=200)

        # One protected listener exists before attlsd: it must be adopted.
        self.start_server(P_EARLY, "banner")
        self.start_attlsd()
        self.start_server(P_ECHO, "echo")
        self.start_server(P_BANNER, "banner")
        self.start_server(P_SINK, "sink")
        self.start_server(P_SOURCE, "source", extra=["--bytes", str(TEN_MB)])
        self.start_server(P_DUPLEX, "duplex", extra=["--bytes", str(BULK)])
        self.start_server(P_FORK, "echo", extra=["--fork", "--user", FORK_USER])
        self.start_server(P_NORULE, "banner")
        self.start_server(P_OFF, "banner")
        self.start_server(P_BOUND, "echo", extra=["--bind", ADDR])
        self.start_server(P_WRONGUSER, "banner")
        self.start_server(P_WRONGJOB, "banner", extra=["--comm", "lineserv"])
        self.start_server(P_V6, "banner", extra=["--bind", "::"])
        self.start_server(P_PRIO, "banner")
        self.start_server(P_PRIO2, "banner")
        self.start_server(P_BASELINE, "duplex", extra=["--bytes", str(BULK)],
                          cgroup=False)
        self.start_server(P_SAF, "echo")
        self.start_server(P_SNI, "echo")
        self.start_out_servers()

    def write_policy(self, prio_clear, cli_instance=None):
        """(Re)write the test policy; `prio_clear` is TestPrioClear's
        Priority (above or below TestPrioTls's 150), `cli_instance` envCli's
        EnvironmentUserInstance (unchanged when None)."""
        if cli_instance is not None:
            self.cli_instance = cli_instance
        tmp = self.policy + ".new"
        with open(tmp, "w") as f:
            f.write(POLICY.format(p_lo=P_ECHO, p_hi=P_DUPLEX, p_early=P_EARLY,
                                  p_bound=P_BOUND, p_fork=P_FORK, p_off=P_OFF,
                                  p_wronguser=P_WRONGUSER, p_wrongjob=P_WRONGJOB,
                                  p_v6=P_V6, p_prio=P_PRIO, p_prio2=P_PRIO2,
                                  prio_clear=prio_clear, fork_user=FORK_USER,
                                  p_saf=P_SAF, p_sni=P_SNI, p_out_lo=P_OUT_WWW,
                                  p_out_hi=P_OUT_REFUSED,
                                  p_out_wronghost=P_OUT_WRONGHOST,
                                  p_out_locked=P_OUT_LOCKED,
                                  p_out_sni_lo=P_OUT_SNI_ACK,
                                  p_out_sni_hi=P_OUT_SNI_NOACK,
                                  p_out_py2=P_OUT_PY2, p_out_alt=P_OUT_ALT,
                                  cli_instance=getattr(self, "cli_instance", 0)))
        os.rename(tmp, self.policy)     # a reload never reads half a file

    def attlsctl(self, *args, check_rc=True):
        """Run attlsctl against this run's attlsd; JSON output parsed."""
        cp = run(self.ns([os.path.join(self.build, "attlsctl"), "-j",
                          "--pin-root", self.pin_root] + list(args)), timeout=30)
        if check_rc and cp.returncode != 0:
            raise TestFailure("attlsctl %s: exit %d: %s %s" % (
                " ".join(args), cp.returncode, cp.stdout.strip(), cp.stderr.strip()))
        try:
            return json.loads(cp.stdout) if cp.stdout.strip() else {}
        except ValueError:
            raise TestFailure("attlsctl %s: not JSON: %r" % (" ".join(args), cp.stdout[:500]))

    def map_count(self, name):
        """Entries of the pinned map `name` of this run (bpftool)."""
        cp = run(["bpftool", "-j", "map", "dump", "pinned",
                  os.path.join(self.pin_root, name)], timeout=60)
        if cp.returncode != 0:
            raise TestFailure("bpftool map dump %s: %s" % (name, cp.stderr.strip()))
        return len(json.loads(cp.stdout or "[]"))

    def pinned(self):
        """Every path under this run's pin root, relative to it."""
        out = []
        for d, _, files in os.walk(self.pin_root):
            out += [os.path.relpath(os.path.join(d, f), self.pin_root) for f in files]
        return sorted(out)

    def make_certs(self):
        d = self.path("pki")
        os.mkdir(d)
        self.ca = os.path.join(d, "ca.pem")
        cakey = os.path.join(d, "ca.key")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        run(["openssl", "req", "-batch", "-x509"] + ec +
            ["-keyout", cakey, "-out", self.ca, "-days", "2",
             "-subj", "/O=attls tests/CN=attls test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"], check_rc=True)
        ring = self.path("keyrings", "test", "ring")
        os.makedirs(ring)
        self.keyring_root = self.path("keyrings")
        key = os.path.join(ring, "default.key")
        csr = os.path.join(d, "srv.csr")
        run(["openssl", "req", "-batch"] + ec +
            ["-keyout", key, "-out", csr,
             "-subj", "/O=attls tests/CN=attls-test-server"], check_rc=True)
        os.chmod(key, 0o600)
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid,issuer\n"
                    "subjectAltName=IP:%s,IP:127.0.0.1,DNS:localhost,"
                    "DNS:attls-test-server\n" % ADDR)
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", cakey,
             "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext,
             "-out", os.path.join(ring, "default.pem")], check_rc=True)
        self.srv_pem = os.path.join(ring, "default.pem")
        self.srv_key = key
        self.make_more_certs(d, cakey, ec, ext)

    def _issue(self, d, name, subj, ext_text, ca, cakey, days="2"):
        """A key and a certificate signed by ca: (pem, key) in d."""
        key, csr = os.path.join(d, name + ".key"), os.path.join(d, name + ".csr")
        pem, ext = os.path.join(d, name + ".pem"), os.path.join(d, name + ".ext")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        run(["openssl", "req", "-batch"] + ec + ["-keyout", key, "-out", csr,
                                                 "-subj", subj], check_rc=True)
        os.chmod(key, 0o600)
        with open(ext, "w") as f:
            f.write(ext_text)
        run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
             "-CAcreateserial", "-days", days, "-sha256", "-extfile", ext,
             "-out", pem], check_rc=True)
        return pem, key

    def make_more_certs(self, d, cakey, ec, srv_ext):
        """Key rings and certificates of the outbound, SAFCheck and key
        ring tests (docs/keyrings.md):
          test/ring      + ca.pem (CERTAUTH: verifies SAFCheck clients)
                         + ACCESS granting nobody (the fork server's user)
          test/client    default.p12 (client certificate, PKCS#12, password
                         in ring.sth) + ca.pem, described by ring.conf
          locked/client  ca.pem only, owner "locked", no ACCESS file
          certmap        SAFCheck: the client certificate by subject ->
                         nobody, saf-b by fingerprint -> root
        and, for the failure cases, a server certificate from a rogue CA
        and an expired one from the test CA."""
        with open(srv_ext) as f:
            srv_ext_text = f.read()
        cli_ext = ("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=clientAuth\n")
        ring = self.path("keyrings", "test", "ring")
        shutil.copy(self.ca, os.path.join(ring, "ca.pem"))
        with open(os.path.join(ring, "ACCESS"), "w") as f:
            f.write("# users besides the owner (test) that may use this ring\n"
                    "%s\n" % FORK_USER)
        # the client certificate, in a PKCS#12 file of the client ring
        self.cli_pem, self.cli_key = self._issue(
            d, "client", "/O=attls tests/CN=attls-test-client", cli_ext,
            self.ca, cakey)
        cring = self.path("keyrings", "test", "client")
        os.makedirs(cring)
        with open(os.path.join(cring, "ring.sth"), "w") as f:
            f.write("p12-secret\n")
        os.chmod(os.path.join(cring, "ring.sth"), 0o600)
        p12 = os.path.join(cring, "mycert.p12")
        run(["openssl", "pkcs12", "-export", "-in", self.cli_pem, "-inkey",
             self.cli_key, "-out", p12, "-passout", "pass:p12-secret",
             "-name", "attls-test-client"], check_rc=True)
        os.chmod(p12, 0o600)
        shutil.copy(self.ca, os.path.join(cring, "testca.pem"))
        with open(os.path.join(cring, "ring.conf"), "w") as f:
            f.write("# label NAME [usage personal|certauth] [default]\n"
                    "label mycert usage personal default\n"
                    "label testca usage certauth\n")
        # a second server certificate for ServerHandshakeSNIList
        pem, key = self._issue(d, "sni-alt", "/O=attls tests/CN=attls-sni-alt",
                               srv_ext_text, self.ca, cakey)
        shutil.copy(pem, os.path.join(ring, "sni-alt.pem"))
        shutil.copy(key, os.path.join(ring, "sni-alt.key"))
        os.chmod(os.path.join(ring, "sni-alt.key"), 0o600)
        lring = self.path("keyrings", "locked", "client")
        os.makedirs(lring)
        shutil.copy(self.ca, os.path.join(lring, "ca.pem"))
        # SAFCheck clients: mapped by subject, by fingerprint, and not at all
        self.safb_pem, self.safb_key = self._issue(
            d, "saf-b", "/O=attls tests/CN=attls-saf-b", cli_ext, self.ca, cakey)
        self.safc_pem, self.safc_key = self._issue(
            d, "saf-c", "/O=attls tests/CN=attls-saf-unmapped", cli_ext, self.ca,
            cakey)
        subj = run(["openssl", "x509", "-in", self.cli_pem, "-noout", "-subject",
                    "-nameopt", "RFC2253"], check_rc=True).stdout.strip()
        fp = run(["openssl", "x509", "-in", self.safb_pem, "-noout", "-fingerprint",
                  "-sha256"], check_rc=True).stdout.strip().split("=", 1)[1]
        self.cli_subject = subj.split("=", 1)[1]
        with open(os.path.join(self.keyring_root, "certmap"), "w") as f:
            f.write("# ClientAuthType SAFCheck: certificate -> local user\n"
                    "subject %s %s\n"
                    "sha256 %s root\n" % (self.cli_subject, FORK_USER, fp))
        # a rogue CA with a server certificate that is right in all but its issuer
        rogue_ca, rogue_cakey = os.path.join(d, "rogue-ca.pem"), os.path.join(d, "rogue-ca.key")
        run(["openssl", "req", "-batch", "-x509"] + ec +
            ["-keyout", rogue_cakey, "-out", rogue_ca, "-days", "2",
             "-subj", "/O=somebody else/CN=rogue CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"], check_rc=True)
        self.rogue_pem, self.rogue_key = self._issue(
            d, "rogue-srv", "/O=attls tests/CN=attls-test-server", srv_ext_text,
            rogue_ca, rogue_cakey)
        # expired: notAfter a day before now (openssl x509 -days -1)
        self.expired_pem, self.expired_key = self._issue(
            d, "expired-srv", "/O=attls tests/CN=attls-test-server", srv_ext_text,
            self.ca, cakey, days="-1")

    def start_out_servers(self):
        """The TLS servers of the outbound tests, in the netns but outside
        the cgroup (attls is their client)."""
        self.tlslog = self.path("tlssrv.ndjson")
        open(self.tlslog, "w").close()
        www = ["openssl", "s_server", "-www", "-verify_return_error", "-CAfile",
               self.ca, "-naccept", "1000000"]
        for port, cert, key, extra in (
                (P_OUT_WWW, self.srv_pem, self.srv_key, []),
                (P_OUT_MTLS, self.srv_pem, self.srv_key, ["-Verify", "1"]),
                (P_OUT_ROGUE, self.rogue_pem, self.rogue_key, []),
                (P_OUT_EXPIRED, self.expired_pem, self.expired_key, []),
                (P_OUT_WRONGHOST, self.srv_pem, self.srv_key, []),
                (P_OUT_LOCKED, self.srv_pem, self.srv_key, []),
                (P_OUT_SNI_NOACK, self.srv_pem, self.srv_key, [])):
            log = self.path("s_server.%d.log" % port)
            p = self.spawn(self.ns(www + ["-accept", "%s:%d" % (ADDR, port),
                                          "-cert", cert, "-key", key] + extra),
                           log=log)
            self.servers[port] = (p, p.pid)
        # the same s_server page on [::1] (same port, so rule TestOut)
        log6 = self.path("s_server.%d.v6.log" % P_OUT_WWW)
        self.srv6 = self.spawn(self.ns(www + ["-6", "-accept", "[::1]:%d" % P_OUT_WWW,
                                              "-cert", self.srv_pem, "-key", self.srv_key]),
                               log=log6)
        for port in (P_OUT_PY, P_OUT_SNI_ACK):
            ready = self.path("ready.%d" % port)
            # P_OUT_PY's process also serves P_OUT_PY2 and P_OUT_ALT: one
            # session cache, so a session the engine offered to the wrong
            # destination or name would be resumed (test_out_resume)
            also = (["--also-port", str(P_OUT_PY2), "--also-port", str(P_OUT_ALT)]
                    if port == P_OUT_PY else [])
            p = self.spawn(self.ns([PY, os.path.join(HELPERS, "tlssrv.py"), "--port",
                                    str(port), "--bind", ADDR, "--cert", self.srv_pem,
                                    "--key", self.srv_key, "--log", self.tlslog,
                                    "--ready", ready] + also),
                           log=self.path("tlssrv.%d.log" % port))
            self.servers[port] = (p, p.pid)
        deadline = time.monotonic() + 15
        for port in (P_OUT_WWW, P_OUT_MTLS, P_OUT_ROGUE, P_OUT_EXPIRED,
                     P_OUT_WRONGHOST, P_OUT_LOCKED, P_OUT_SNI_NOACK):
            log = self.path("s_server.%d.log" % port)
            while "ACCEPT" not in tail(log):
                check(self.servers[port][0].poll() is None,
                      "openssl s_server %d exited: %s" % (port, tail(log)))
                check(time.monotonic() < deadline,
                      "openssl s_server %d not ready: %s" % (port, tail(log)))
                time.sleep(0.02)
        for port in (P_OUT_PY, P_OUT_SNI_ACK):
            p = self.servers[port][0]
            while not os.path.exists(self.path("ready.%d" % port)):
                check(p.poll() is None, "tlssrv.py exited: %s"
                      % tail(self.path("tlssrv.%d.log" % port)))
                check(time.monotonic() < deadline, "tlssrv.py not ready")
                time.sleep(0.02)

    def out_client(self, port, extra=(), timeout=15, host=ADDR, user=None):
        """tests/helpers/outclient.py in the cgroup (its connect() is
        steered); its JSON result."""
        cmd = [PY, os.path.join(HELPERS, "outclient.py"), "--host", host,
               "--port", str(port), "--timeout", str(timeout)] + list(extra)
        if user:
            cmd += ["--user", user]
        cp = run(self.in_cgroup(cmd), timeout=timeout + 30)
        try:
            res = json.loads(cp.stdout)
        except ValueError:
            raise TestFailure("outclient %s:%d: no result (exit %d): %s %s" % (
                host, port, cp.returncode, cp.stdout[-500:], cp.stderr[-2000:]))
        debug("outclient: " + json.dumps(res)[:600])
        return res

    def tls_records(self):
        return read_ndjson(self.tlslog)

    def tls_record(self, ident, timeout=10):
        """tlssrv.py's record of the connection whose first line is ident."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.tls_records():
                if r.get("id") and r["id"].split()[:2] == ident.split()[:2]:
                    return r
            if time.monotonic() > deadline:
                raise TestFailure("tlssrv.py wrote no record for %r" % ident)
            time.sleep(0.05)

    def log_since(self, offset):
        with open(self.attlsd_log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def log_offset(self):
        return os.path.getsize(self.attlsd_log) if os.path.exists(self.attlsd_log) else 0

    def wait_log(self, offset, pattern, timeout=10):
        """The attlsd log since offset once it matches the regex pattern."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_since(offset)
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                raise TestFailure("attlsd log has no %r; it has:\n%s"
                                  % (pattern, "\n".join(text.splitlines()[-15:])))
            time.sleep(0.05)

    def start_server(self, port, mode, extra=(), cgroup=True):
        ready = self.path("ready.%d" % port)
        cmd = [PY, os.path.join(HELPERS, "clearsrv.py"), "--port", str(port),
               "--mode", mode, "--log", self.srvlog, "--ready", ready] + list(extra)
        p = self.spawn(cmd if cgroup else self.ns(cmd),
                       log=self.path("server.%d.log" % port), cgroup=cgroup)
        deadline = time.monotonic() + 15
        while not os.path.exists(ready):
            if p.poll() is not None:
                raise TestFailure("server %d exited %s: %s" % (
                    port, p.returncode, tail(self.path("server.%d.log" % port))))
            if time.monotonic() > deadline:
                raise TestFailure("server %d not ready" % port)
            time.sleep(0.02)
        time.sleep(0.02)
        with open(ready) as f:
            pid = int(f.read().strip() or 0)
        self.servers[port] = (p, pid)
        return p

    def start_attlsd(self, wait=True):
        if self.attlsd_log is None:
            self.attlsd_log = self.path("attlsd.log")
        self.attlsd_args = self.ns([
            self.attlsd_bin, "-d", "-v", "-f", self.policy, "--cgroup", self.cgdir,
            "--keyring-root", self.keyring_root, "--zert-dir", self.zert_dir,
            "--pin-root", self.pin_root, "--threads", "2"])
        offset = os.path.getsize(self.attlsd_log) if os.path.exists(self.attlsd_log) else 0
        debug("spawn: " + " ".join(self.attlsd_args))
        with open(self.attlsd_log, "ab") as log:
            # SIGTERM if the harness dies: attlsd then detaches and unpins
            self.attlsd = subprocess.Popen(self.attlsd_args, stdin=subprocess.DEVNULL,
                                           stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True,
                                           preexec_fn=_die_with_parent(signal.SIGTERM))
        if not wait:
            return
        deadline = time.monotonic() + 30
        while True:
            with open(self.attlsd_log, "rb") as f:
                f.seek(offset)
                if b"ready:" in f.read():
                    return
            if self.attlsd.poll() is not None:
                raise TestFailure("attlsd exited %s before ready:\n%s" % (
                    self.attlsd.returncode, tail(self.attlsd_log, offset)))
            if time.monotonic() > deadline:
                raise TestFailure("attlsd not ready after 30 s:\n%s"
                                  % tail(self.attlsd_log, offset))
            time.sleep(0.05)

    def attlsd_alive(self):
        return self.attlsd is not None and self.attlsd.poll() is None

    def stop_attlsd(self, sig=signal.SIGTERM, timeout=15):
        """Signal attlsd; returns its exit code (None if it had to be
        SIGKILLed after `timeout`)."""
        if self.attlsd is None:
            return None
        if self.attlsd.poll() is None:
            self.attlsd.send_signal(sig)
            try:
                self.attlsd.wait(timeout)
            except subprocess.TimeoutExpired:
                _killpg(self.attlsd)
                self.attlsd.wait()
                return None
        return self.attlsd.returncode

    # -- clients ----------------------------------------------------------
    def client(self, port, mode, plain=False, nbytes=4096, bind=CLIENT_ADDR,
               timeout=30, extra=(), host=ADDR):
        cmd = [PY, os.path.join(HELPERS, "tlsclient.py"), "--host", host,
               "--port", str(port), "--mode", mode, "--bytes", str(nbytes),
               "--timeout", str(timeout)] + list(extra)
        if bind:
            cmd += ["--bind", bind]
        if plain:
            cmd.append("--plain")
        else:
            cmd += ["--ca", self.ca]
        cp = run(self.ns(cmd), timeout=timeout + 30)
        try:
            res = json.loads(cp.stdout)
        except ValueError:
            raise TestFailure("client %s:%d %s: no result (exit %d): %s %s" % (
                host, port, mode, cp.returncode, cp.stdout[-500:], cp.stderr[-2000:]))
        debug("client: " + json.dumps(res)[:600])
        return res

    def tls_ok(self, res, what):
        check(res.get("ok"), "%s: client failed: %s (end=%s)" % (
            what, res.get("error"), res.get("end")))

    # -- records ----------------------------------------------------------
    def server_records(self):
        return read_ndjson(self.srvlog)

    def server_record(self, ident, timeout=10):
        """The server's record of the connection whose first line is
        `ident` (a record is written when the connection ends)."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.server_records():
                if r.get("id") and r["id"].split()[:2] == ident.split()[:2]:
                    return r
            if time.monotonic() > deadline:
                raise TestFailure("the server wrote no record for %r" % ident)
            time.sleep(0.05)

    def zert_records(self):
        out = []
        try:
            with open(self.zert_file) as f:
                for n, line in enumerate(f, 1):
                    if not line.endswith("\n"):
                        break       # still being written
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        out.append(json.loads(line))
                    except ValueError as e:
                        raise TestFailure("%s:%d: not JSON (%s): %s" % (
                            self.zert_file, n, e, line[:200]))
        except FileNotFoundError:
            pass
        return out

    # -- teardown ---------------------------------------------------------
    def cleanup(self):
        """Remove everything; idempotent.  Returns a list of leftovers."""
        if self.cleaned:
            return []
        self.cleaned = True
        problems = []
        for p in self.procs:
            if p.poll() is None:
                _killpg(p)
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                problems.append("pid %d did not die" % p.pid)
        if self.attlsd is not None and self.attlsd.poll() is None:
            if self.stop_attlsd(signal.SIGTERM, 15) is None:
                problems.append("attlsd needed SIGKILL at cleanup")
        if os.path.exists(self.attlsd_bin):
            try:
                cp = run([self.attlsd_bin, "--cleanup", "--pin-root", self.pin_root],
                         timeout=30)
                if cp.returncode != 0:
                    problems.append("attlsd --cleanup: exit %d: %s"
                                    % (cp.returncode, cp.stderr.strip()))
            except TestFailure as e:
                problems.append(str(e))
        if self.cgdir and os.path.isdir(self.cgdir):
            for _ in range(100):
                try:
                    with open(os.path.join(self.cgdir, "cgroup.procs")) as f:
                        pids = [int(x) for x in f.read().split()]
                except OSError:
                    pids = []
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    os.rmdir(self.cgdir)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                problems.append("cannot remove cgroup %s" % self.cgdir)
        if self.netns_made:
            try:
                cp = run(["ip", "netns", "del", self.netns], timeout=30)
                if cp.returncode:
                    problems.append("ip netns del: " + cp.stderr.strip())
            except TestFailure as e:
                problems.append(str(e))
        pidfile = "/run/attls/%s.pid" % self.name
        if os.path.exists(pidfile):
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        if self.mounted_bpffs:
            pass    # leave the bpffs mount: others may use it now
        # what must be gone
        if os.path.exists(self.pin_root):
            problems.append("%s still exists: %s" % (
                self.pin_root, os.listdir(self.pin_root)))
        if self.cgdir and os.path.exists(self.cgdir):
            problems.append("%s still exists" % self.cgdir)
        if os.path.exists("/run/netns/" + self.netns):
            problems.append("netns %s still exists" % self.netns)
        problems += sanitizer_reports(self)
        if self.tmp and not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            open(os.path.join(self.tmp, "KEPT"), "w").close()
            info("kept " + self.tmp)
        return problems


ENV = None


# ---------------------------------------------------------------------------
# tests: each gets the Env; raise TestFailure / Skip

def interactive(cmd, send, expect, timeout=20, close_after=True):
    """Start cmd with pipes, write `send`, read stdout until every string in
    `expect` was seen, then close stdin and collect the rest.  Returns
    (stdout, stderr, rc)."""
    debug("interactive: " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=_die_with_parent(signal.SIGKILL))
    out, err = b"", b""
    deadline = time.monotonic() + timeout
    try:
        if send:
            p.stdin.write(send.encode())
            p.stdin.flush()
        fds = [p.stdout, p.stderr]
        while not all(e.encode() in out for e in expect):
            left = deadline - time.monotonic()
            if left <= 0 or not fds:
                break
            r, _, _ = select.select(fds, [], [], left)
            for f in r:
                d = os.read(f.fileno(), 65536)
                if not d:
                    fds.remove(f)
                elif f is p.stdout:
                    out += d
                else:
                    err += d
        if close_after:
            p.stdin.close()
            p.stdin = None      # communicate() must not flush it
        o, e = p.communicate(timeout=max(1, deadline - time.monotonic()))
        out += o
        err += e
    except subprocess.TimeoutExpired:
        _killpg(p)
        o, e = p.communicate()
        out += o
        err += e
        raise TestFailure("%s timed out\nstdout: %s\nstderr: %s" % (
            cmd[2:4], out.decode(errors="replace")[-1500:],
            err.decode(errors="replace")[-1500:]))
    except BaseException:
        _killpg(p)
        p.wait()
        raise
    return out.decode(errors="replace"), err.decode(errors="replace"), p.returncode


def s_client(env, port, version_flag, extra=()):
    return env.ns(["openssl", "s_client", "-connect", "%s:%d" % (ADDR, port),
                   "-CAfile", env.ca, "-verify_return_error", "-verify_ip", ADDR,
                   version_flag] + list(extra))


def test_policy_check(env):
    """13: attlsd -n -f: 'configuration OK', or file:line errors."""
    cp = run([env.attlsd_bin, "-n", "-f", env.policy], timeout=20)
    check(cp.returncode == 0 and "configuration OK" in cp.stdout,
          "attlsd -n on the test policy: exit %d, stdout %r, stderr %r"
          % (cp.returncode, cp.stdout, cp.stderr[-1500:]))
    for i, (text, line) in enumerate(BROKEN_POLICIES):
        path = env.path("broken%d.policy" % i)
        with open(path, "w") as f:
            f.write(text)
        cp = run([env.attlsd_bin, "-n", "-f", path], timeout=20)
        out = cp.stdout + cp.stderr
        check(cp.returncode != 0, "broken policy %d accepted (exit 0): %s" % (i, out))
        check("configuration OK" not in out,
              "broken policy %d: printed 'configuration OK'" % i)
        check(re.search(r"%s:%d\b" % (re.escape(path), line), out),
              "broken policy %d: no '%s:%d' in the diagnostics: %r" % (i, path, line, out))


def openssl_echo(env, flag, version, tag):
    """openssl s_client with `flag` handshakes `version` (certificate
    verified) and gets its line echoed; the server saw a clean exchange."""
    ident = "ID %s-%d" % (tag, os.getpid())
    marker = "hello-over-%s-%d" % (tag, os.getpid())
    out, err, rc = interactive(
        s_client(env, P_ECHO, flag, ["-brief", "-nocommands"]),
        "%s\n%s\n" % (ident, marker), [marker])
    check(marker in out, "no echo through openssl s_client %s (rc %s): "
          "stdout %r stderr %r" % (flag, rc, out[-500:], err[-1500:]))
    check("Protocol version: %s" % version in err, "not %s: %r" % (version, err[-1500:]))
    check("Verification: OK" in err, "certificate not verified: %r" % err[-1500:])
    check(rc == 0, "openssl s_client exit %s: %r" % (rc, err[-1500:]))
    rec = env.server_record(ident)
    check(rec["error"] is None and rec["eof"] and rec["bytes_in"] > len(marker)
          and rec["bytes_out"] == rec["bytes_in"], "server record: %r" % rec)


def test_openssl_tls13(env):
    """1: openssl s_client -tls1_3 handshakes and exchanges data."""
    openssl_echo(env, "-tls1_3", "TLSv1.3", "s13")


def test_openssl_tls12(env):
    """1: openssl s_client -tls1_2 handshakes and exchanges data."""
    openssl_echo(env, "-tls1_2", "TLSv1.2", "s12")


def test_gnutls_cli(env):
    """1: gnutls-cli (verifying against the test CA) exchanges data."""
    if not shutil.which("gnutls-cli"):
        raise Skip("gnutls-cli not installed")
    marker = "hello-over-gnutls-%d" % os.getpid()
    out, err, rc = interactive(
        env.ns(["gnutls-cli", "--x509cafile", env.ca, "--port", str(P_ECHO), ADDR]),
        "ID gnutls-%d\n%s\n" % (os.getpid(), marker), [marker])
    check("Handshake was completed" in out, "gnutls-cli: no handshake (rc %s): %r %r"
          % (rc, out[-1500:], err[-1500:]))
    check("certificate is trusted" in out, "gnutls-cli: certificate not trusted: %r"
          % out[-1500:])
    check(re.search(r"\(TLS1\.3", out), "gnutls-cli: not TLS 1.3: %r" % out[-1500:])
    check(out.count(marker) >= 1 and out.index("Handshake was completed") < out.rindex(marker),
          "gnutls-cli: no echo: %r" % out[-1500:])
    env.server_record("ID gnutls-%d" % os.getpid())


def test_python_ssl(env):
    """1: python ssl, TLS 1.3 and 1.2, exchanges data (client speaks first)."""
    for ver in ("1.3", "1.2"):
        res = env.client(P_ECHO, "echo", nbytes=100000, extra=["--tls", ver])
        env.tls_ok(res, "python TLS " + ver)
        check(res["version"] == "TLSv" + ver, "negotiated %s, not TLSv%s"
              % (res["version"], ver))
        check(res["echo_ok"], "echo mismatch: %r" % res)
        check(res["end"] == "close_notify", "stream ended with %r, not close_notify"
              % res["end"])
        check(res["server_subject"].get("commonName") == "attls-test-server",
              "unexpected server certificate %r" % res["server_subject"])
        rec = env.server_record(res["id"])
        check(rec["sha_in"] == res["sha_sent"] and rec["bytes_in"] == res["bytes_sent"],
              "the server got other bytes than the client sent: %r" % rec)


def _check_addresses(env, port, res, rec):
    local = res["local"]
    check(local[0] == CLIENT_ADDR, "client bound %r, not %s" % (local, CLIENT_ADDR))
    check(rec["accept_addr"] == local,
          "port %d: accept() returned %r, the client is %r" % (port, rec["accept_addr"], local))
    check(rec["peername"] == local,
          "port %d: getpeername() returned %r, the client is %r" % (port, rec["peername"], local))
    check(rec["sockname"] == [ADDR, port],
          "port %d: getsockname() returned %r, the client dialled %r"
          % (port, rec["sockname"], [ADDR, port]))


def test_real_addresses(env):
    """2: the server sees the real client and its real local address."""
    for port in (P_ECHO, P_BOUND):
        res = env.client(port, "echo", nbytes=1000)
        env.tls_ok(res, "port %d" % port)
        env.stats["addr_%d" % port] = res       # for test_zert
        check(res["version"] == "TLSv1.3", "port %d: %r" % (port, res["version"]))
        rec = env.server_record(res["id"])
        _check_addresses(env, port, res, rec)


def test_cleartext_ports(env):
    """3: a port with no rule and a TTLSEnabled Off port stay cleartext."""
    for port, what in ((P_NORULE, "no rule"), (P_OFF, "TTLSEnabled Off")):
        res = env.client(port, "banner", plain=True, nbytes=2000)
        check(res.get("ok"), "port %d (%s): plain client failed: %r" % (port, what, res))
        env.stats["clear_%d" % port] = res      # for test_zert
        check(res["banner"].startswith("220 attls-test banner port %d" % port),
              "port %d (%s): no cleartext banner: %r" % (port, what, res.get("banner")))
        check(res["echo_ok"], "port %d (%s): no cleartext echo" % (port, what))
        rec = env.server_record(res["id"])
        check(rec["peername"] == res["local"], "port %d: peer %r" % (port, rec["peername"]))
        # and a TLS client gets no TLS there
        res = env.client(port, "echo", nbytes=10, timeout=5)
        check(not res.get("ok"), "port %d (%s): a TLS handshake succeeded" % (port, what))


def test_classification_negative(env):
    """Job and user conditions are really evaluated: a rule whose Userid or
    Jobname does not match the listener's owner leaves the port cleartext
    (so the protected fork-server port proves the owner's uid was used)."""
    for port, what in ((P_WRONGUSER, "Userid %s, server runs as root" % FORK_USER),
                       (P_WRONGJOB, "Jobname python3*, server's comm is lineserv")):
        res = env.client(port, "banner", plain=True, nbytes=500)
        check(res.get("ok") and res["banner"].startswith(
            "220 attls-test banner port %d" % port),
            "port %d (%s): expected the cleartext banner, got %r"
            % (port, what, res.get("banner") or res.get("error")))
        rec = env.server_record(res["id"])
        if port == P_WRONGJOB:
            check(rec["comm"] == "lineserv", "server comm %r" % rec["comm"])


def test_ipv6_never_bypassed(env):
    """A protected dual-stack listener: IPv4 clients get TLS; over IPv6
    (::1) the port is TLS or unreachable, never cleartext."""
    res = env.client(P_V6, "banner", nbytes=1000)
    env.tls_ok(res, "IPv4 to a dual-stack listener")
    check(res["banner"].startswith("220 attls-test banner port %d" % P_V6),
          "banner %r" % res.get("banner"))
    rec = env.server_record(res["id"])
    _check_addresses(env, P_V6, res, rec)
    plain = env.client(P_V6, "connect", plain=True, host="::1", bind=None, timeout=3,
                       extra=["--send", "ID v6-plain\n", "--read-wait", "1.5"])
    check(not plain.get("data"), "IPv6 ::1 port %d: CLEARTEXT SERVED: %r"
          % (P_V6, plain.get("data")))
    tls = env.client(P_V6, "banner", host="::1", bind=None, nbytes=100, timeout=5,
                     extra=["--servername", "localhost"])
    if tls.get("ok"):
        check(tls["banner"].startswith("220 attls-test banner"), "banner %r" % tls["banner"])
        rec = env.server_record(tls["id"])
        check(rec["peername"] == tls["local"] and rec["sockname"] == ["::1", P_V6],
              "IPv6: server saw peer %r sock %r, client %r"
              % (rec["peername"], rec["sockname"], tls["local"]))
        info("IPv6: TLS over ::1 works")
    else:
        info("IPv6: ::1 is refused (%s), not served in cleartext" % tls.get("end"))


def test_listener_before_attlsd(env):
    """A protected listener that existed before attlsd started is adopted."""
    res = env.client(P_EARLY, "banner", nbytes=5000)
    env.tls_ok(res, "pre-existing listener %d" % P_EARLY)
    check(res["banner"].startswith("220 attls-test banner port %d" % P_EARLY),
          "banner %r" % res.get("banner"))
    check(res["echo_ok"], "echo mismatch")
    rec = env.server_record(res["id"])
    _check_addresses(env, P_EARLY, res, rec)


def test_banner_and_client_first(env):
    """8: server-speaks-first and client-speaks-first through TLS."""
    res = env.client(P_BANNER, "banner", nbytes=50000)
    env.tls_ok(res, "banner")
    check(res["banner"].startswith("220 attls-test banner port %d" % P_BANNER),
          "banner %r" % res.get("banner"))
    check(res["echo_ok"] and res["end"] == "close_notify",
          "after the banner: echo_ok %s, end %s" % (res["echo_ok"], res["end"]))
    # openssl: sends nothing until the banner arrived
    out, err, rc = interactive(s_client(env, P_BANNER, "-tls1_3", ["-brief", "-nocommands"]),
                               "", ["220 attls-test banner port %d" % P_BANNER], timeout=15)
    check("220 attls-test banner port %d" % P_BANNER in out,
          "openssl s_client got no banner: %r %r" % (out[-500:], err[-1500:]))
    res = env.client(P_ECHO, "echo", nbytes=50000)
    env.tls_ok(res, "client first")
    check(res["echo_ok"] and res["end"] == "close_notify", "client first: %r" % res)


def test_server_close_delivers_all(env):
    """5: server writes 10 MB then close()s: all of it, then close_notify."""
    res = env.client(P_SOURCE, "source", nbytes=TEN_MB, timeout=60)
    env.tls_ok(res, "source")
    rec = env.server_record(res["id"])
    check(rec["error"] is None, "server: %s" % rec["error"])
    check(rec["bytes_out"] == TEN_MB, "server wrote %d" % rec["bytes_out"])
    check(res["bytes_recv"] == TEN_MB,
          "client got %d of %d bytes (end %s)" % (res["bytes_recv"], TEN_MB, res["end"]))
    check(res["sha_recv"] == rec["sha_out"], "SHA-256 differs")
    check(res["end"] == "close_notify",
          "stream ended with %r, not close_notify (truncation undetectable)" % res["end"])
    # The same with OpenSSL's C client: no "unexpected eof".
    req = env.path("source.req")
    with open(req, "w") as f:
        f.write("ID sclient-src-%d %d\n" % (os.getpid(), TEN_MB))
    outp = env.path("source.out")
    with open(req, "rb") as fin, open(outp, "wb") as fout:
        p = subprocess.Popen(s_client(env, P_SOURCE, "-tls1_3", ["-quiet"]),
                             stdin=fin, stdout=fout, stderr=subprocess.PIPE,
                             start_new_session=True,
                             preexec_fn=_die_with_parent(signal.SIGKILL))
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            _killpg(p)
            p.communicate()
            raise TestFailure("openssl s_client did not end after the server closed")
    err = err.decode(errors="replace")
    size = os.path.getsize(outp)
    with open(outp, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    rec = env.server_record("ID sclient-src-%d" % os.getpid())
    check(size == TEN_MB and digest == rec["sha_out"],
          "openssl s_client got %d bytes (sha ok: %s)" % (size, digest == rec["sha_out"]))
    check("unexpected eof" not in err.lower(), "openssl: %r" % err[-800:])


def test_client_half_close(env):
    """6: client sends 10 MB, close_notify + FIN; server reads all, EOF,
    replies; the client gets the reply."""
    res = env.client(P_SINK, "sink", nbytes=TEN_MB, timeout=60)
    env.tls_ok(res, "sink")
    rec = env.server_record(res["id"])
    check(rec["error"] is None, "server: %s" % rec["error"])
    check(rec["eof"], "the server never saw EOF")
    check(rec["bytes_in"] == res["bytes_sent"] and rec["sha_in"] == res["sha_sent"],
          "server read %d bytes of %d (sha equal: %s)" % (
              rec["bytes_in"], res["bytes_sent"], rec["sha_in"] == res["sha_sent"]))
    want = "SINK %d %s\n" % (res["bytes_sent"], res["sha_sent"])
    check(res.get("reply") == want, "reply after half-close: %r, want %r"
          % (res.get("reply"), want))
    check(res["end"] == "close_notify", "reply stream ended with %r" % res["end"])


def test_bulk_256mib(env):
    """4: 256 MiB each way at once, random write sizes, equal SHA-256;
    throughput against plain loopback TCP (reported, not asserted)."""
    res = env.client(P_DUPLEX, "duplex", nbytes=BULK, timeout=300)
    env.tls_ok(res, "duplex")
    rec = env.server_record(res["id"], timeout=30)
    check(rec["error"] is None, "server: %s" % rec["error"])
    check(rec["bytes_in"] == res["bytes_sent"] and rec["sha_in"] == res["sha_sent"],
          "client->server: %d of %d bytes, sha equal %s" % (
              rec["bytes_in"], res["bytes_sent"], rec["sha_in"] == res["sha_sent"]))
    check(res["bytes_recv"] == rec["bytes_out"] == BULK and res["sha_recv"] == rec["sha_out"],
          "server->client: %d of %d bytes, sha equal %s" % (
              res["bytes_recv"], rec["bytes_out"], res["sha_recv"] == rec["sha_out"]))
    check(res["end"] == "close_notify", "ended with %r" % res["end"])
    base = env.client(P_BASELINE, "duplex", plain=True, nbytes=BULK, timeout=300)
    check(base.get("ok") and base["bytes_recv"] == BULK, "baseline failed: %r" % base)
    mbs = BULK / 1e6 / res["elapsed_s"]
    bmbs = BULK / 1e6 / base["elapsed_s"]
    info("bulk: 256 MiB each way at once: attls %.1f MB/s each way (%.2f s), "
         "plain loopback TCP %.1f MB/s (%.2f s), ratio %.2f"
         % (mbs, res["elapsed_s"], bmbs, base["elapsed_s"], mbs / bmbs))
    try:
        with open("/proc/%d/status" % env.attlsd.pid) as f:
            hwm = [l.split()[1] for l in f if l.startswith("VmHWM:")]
        info("attlsd peak RSS so far: %s kB" % hwm[0])
    except (OSError, IndexError):
        pass


def _concurrent(env, port, n, fork):
    res = env.client(port, "echo", nbytes=20000, timeout=120,
                     extra=["--conns", str(n)])
    conns = res.get("conns")
    check(conns and len(conns) == n, "client output: %r" % str(res)[:500])
    bad = [c for c in conns if not (c.get("ok") and c.get("echo_ok")
                                    and c.get("end") == "close_notify")]
    check(not bad, "%d of %d connections failed, e.g. %r" % (len(bad), n, bad[:3]))
    recs = {r["id"]: r for r in env.server_records() if r.get("id")}
    deadline = time.monotonic() + 20
    while any(c["id"] not in recs for c in conns) and time.monotonic() < deadline:
        time.sleep(0.2)
        recs = {r["id"]: r for r in env.server_records() if r.get("id")}
    missing = [c["id"] for c in conns if c["id"] not in recs]
    check(not missing, "no server record for %d connections" % len(missing))
    lpid = env.servers[port][1]
    for c in conns:
        r = recs[c["id"]]
        check(r["error"] is None and r["sha_in"] == c["sha_sent"], "%s: %r" % (c["id"], r))
        check(r["peername"] == c["local"] and r["accept_addr"] == c["local"],
              "%s: server saw peer %r / accept %r, client is %r"
              % (c["id"], r["peername"], r["accept_addr"], c["local"]))
        if fork:
            check(r["pid"] != lpid, "fork server handled a connection in the parent")
            check(r["uid"] == pwd.getpwnam(FORK_USER).pw_uid, "uid %r" % r["uid"])
    info("%d concurrent TLS connections to port %d (%s): %.2f s" % (
        n, port, "fork per connection" if fork else "thread per connection",
        res["elapsed_s"]))
    return conns


def test_concurrent_200(env):
    """9: 200 concurrent connections, thread server and forking server."""
    env.stats["threads200"] = _concurrent(env, P_ECHO, 200, False)
    env.stats["fork200"] = _concurrent(env, P_FORK, 200, True)


def test_no_cleartext_on_wire(env):
    """10: tcpdump on lo: the marker never crosses the protected wire
    connection; it does cross the unprotected one (the control)."""
    if not shutil.which("tcpdump"):
        raise Skip("tcpdump not installed")
    marker = "ATTLS-CLEARTEXT-MARKER-%d" % os.getpid()
    td, pcap = env.capture_start("wire", "tcp port %d or tcp port %d" % (P_ECHO, P_NORULE))
    try:
        head = ["--id", "wire-%d %s %s" % (os.getpid(), marker, marker)]
        prot = env.client(P_ECHO, "echo", nbytes=3000, extra=head)
        env.tls_ok(prot, "protected")
        head = ["--id", "wireclear-%d %s" % (os.getpid(), marker)]
        clear = env.client(P_NORULE, "banner", plain=True, nbytes=3000, extra=head)
        check(clear.get("ok"), "control client: %r" % clear)
        time.sleep(0.5)
    finally:
        env.capture_stop(td)
    flows = pcap_flows(pcap)
    m = marker.encode()
    c = tuple(prot["local"])
    up = flows.get((c[0], c[1], ADDR, P_ECHO), b"")
    down = flows.get((ADDR, P_ECHO, c[0], c[1]), b"")
    check(up and down, "the capture has no packets of the protected connection "
          "%s:%d <-> %s:%d (flows: %s)" % (c[0], c[1], ADDR, P_ECHO, list(flows)[:10]))
    check(up[:1] == b"\x16" and up[1:2] == b"\x03", "the client's first bytes on the "
          "wire are not a TLS handshake record: %r" % up[:16])
    check(len(up) >= 3000 and len(down) >= 3000, "too little on the wire: %d/%d bytes"
          % (len(up), len(down)))
    check(m not in up and m not in down, "THE MARKER CROSSED THE WIRE IN CLEARTEXT")
    hop = [k for k, v in flows.items() if m in v and P_ECHO in (k[1], k[3])]
    debug("cleartext only on the local hop: %r" % hop)
    cc = tuple(clear["local"])
    cup = flows.get((cc[0], cc[1], ADDR, P_NORULE), b"")
    check(m in cup, "control failed: the marker is not in the cleartext connection's "
          "capture (%d bytes), so this test could not detect cleartext" % len(cup))


def _zrec(recs, port, cport, caddr, protection=None):
    out = []
    for r in recs:
        try:
            if (r["local"]["port"] == port and r["remote"]["port"] == cport
                    and r["remote"]["addr"] == caddr
                    and (protection is None or r.get("protection") == protection)):
                out.append(r)
        except (KeyError, TypeError):
            continue
    return out


def _need(rec, path, what=None):
    cur = rec
    for p in path.split("."):
        if isinstance(cur, list):
            check(cur, "zERT %s: empty list at %s" % (rec.get("event"), path))
            cur = cur[0]
        check(isinstance(cur, dict) and p in cur and cur[p] not in (None, ""),
              "zERT %s record lacks %s: %s" % (rec.get("event"), path,
                                                json.dumps(rec)[:1500]))
        cur = cur[p]
    if what is not None:
        check(what(cur), "zERT %s record: %s = %r" % (rec.get("event"), path, cur))
    return cur


def test_zert(env):
    """12: zERT init and term records, full fields for a protected
    connection; protection "none" for the cleartext port."""
    if "addr_%d" % P_ECHO not in env.stats or "clear_%d" % P_NORULE not in env.stats:
        raise Skip("needs test_real_addresses and test_cleartext_ports")
    res = env.stats["addr_%d" % P_ECHO]
    cl = env.stats["clear_%d" % P_NORULE]
    deadline = time.monotonic() + 10
    while True:
        recs = env.zert_records()
        prot = _zrec(recs, P_ECHO, res["local"][1], res["local"][0], "attls")
        unk = _zrec(recs, P_NORULE, cl["local"][1], cl["local"][0])
        evs = {r.get("event") for r in prot} | {"u-" + str(r.get("event")) for r in unk}
        if {"init", "term", "u-init", "u-term"} <= evs or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(recs, "no zERT records in %s" % env.zert_file)
    check(prot, "no zERT record with protection attls for %s:%d -> %s:%d "
          "(%d records; e.g. %s)" % (res["local"][0], res["local"][1], ADDR, P_ECHO,
                                    len(recs), json.dumps(recs[-1])[:800]))
    for ev in ("init", "term"):
        rs = [r for r in prot if r.get("event") == ev]
        check(rs, "no %s record for the protected connection (have %s)"
              % (ev, [r.get("event") for r in prot]))
        r = rs[0]
        check(r.get("record") == "zert-detail", "record %r" % r.get("record"))
        for f in ("conn_id", "start", "pid", "direction", "user", "rule"):
            _need(r, f)
        _need(r, "local.addr", lambda v: v == ADDR)
        _need(r, "remote.addr", lambda v: v == CLIENT_ADDR)
        _need(r, "job", lambda v: v.startswith("python3"))
        _need(r, "uid", lambda v: v == 0)
        _need(r, "user", lambda v: v == "root")
        _need(r, "rule", lambda v: v == "TestSrv")
        _need(r, "direction", lambda v: str(v).lower() == "inbound")
        _need(r, "actions.group", lambda v: v == "grpOn")
        _need(r, "actions.environment", lambda v: v == "envSrv")
        # record version 2: ECS tls.* / x509.* names (docs/zert-schema.md)
        _need(r, "security_sessions.protocol", lambda v: v == "tls")
        _need(r, "security_sessions.version", lambda v: v == "1.3")
        _need(r, "security_sessions.source", lambda v: v == "engine")
        _need(r, "security_sessions.role", lambda v: str(v).lower() == "server")
        _need(r, "security_sessions.cipher", lambda v: v == res["cipher"])
        _need(r, "security_sessions.cipher_code")
        _need(r, "security_sessions.key_exchange.group")
        _need(r, "security_sessions.server.x509.subject.distinguished_name",
              lambda v: "attls-test-server" in v)
        _need(r, "security_sessions.server.x509.issuer.distinguished_name",
              lambda v: "attls test CA" in v)
        _need(r, "security_sessions.server.x509.serial_number")
        _need(r, "security_sessions.server.x509.not_after")
        _need(r, "security_sessions.server.x509.public_key_size", lambda v: int(v) == 256)
        if ev == "term":
            _need(r, "end")
            check(r.get("rc") is not None, "term record without rc")
            _need(r, "bytes_in", lambda v: v >= res["bytes_sent"])
            _need(r, "bytes_out", lambda v: v >= res["bytes_recv"])
    ids = {r.get("conn_id") for r in prot}
    check(len(ids) == 1, "init and term of one connection have conn_ids %r" % ids)
    check(unk, "no zERT record for the cleartext connection %s:%d -> %s:%d"
          % (cl["local"][0], cl["local"][1], ADDR, P_NORULE))
    check({"init", "term"} <= {r.get("event") for r in unk},
          "cleartext connection: events %r" % [r.get("event") for r in unk])
    for r in unk:
        check(r.get("protection") == "none" and r.get("cleartext") is True,
              "cleartext connection recorded as protection %r" % r.get("protection"))
    # The forking server: job and user of the listener's owner, its rule.
    fork = env.stats.get("fork200")
    if fork:
        c = fork[0]
        fr = _zrec(recs, P_FORK, c["local"][1], c["local"][0], "attls")
        check(fr, "no protected zERT record for a fork-server connection")
        _need(fr[0], "rule", lambda v: v == "TestFork")
        _need(fr[0], "user", lambda v: v == FORK_USER)
        _need(fr[0], "uid", lambda v: v == pwd.getpwnam(FORK_USER).pw_uid)
        _need(fr[0], "job", lambda v: v.startswith("python3"))
    # The engine's hop to the application is internal: it must not show up
    # as an unprotected connection of its own.
    hop_unknown = [r for r in recs if r.get("protection") == "unknown"
                   and r.get("local", {}).get("port") in (P_ECHO, P_BOUND, P_FORK)]
    check(not hop_unknown, "zERT reports the engine's local hop as unprotected "
          "connections, e.g. %s" % json.dumps(hop_unknown[:1])[:800])


def cgroup_attached(env):
    """Lines of `bpftool cgroup tree CGDIR` below its two header lines."""
    cp = run(["bpftool", "cgroup", "tree", env.cgdir], timeout=20)
    check(cp.returncode == 0, "bpftool cgroup tree: %s" % cp.stderr)
    lines = [l for l in cp.stdout.splitlines() if l.strip()]
    return lines[2:]


def test_sigkill_fails_closed(env):
    """11: attlsd SIGKILLed: protected port never served in cleartext, pins
    stay; restarted on the same pins: service resumes, server untouched."""
    env.expect_attlsd_death = True
    env.attlsd.send_signal(signal.SIGKILL)
    env.attlsd.wait(10)
    check(os.path.isdir(env.pin_root) and os.listdir(env.pin_root),
          "pins are gone after SIGKILL: %s" % env.pin_root)
    check(cgroup_attached(env), "nothing attached to the cgroup after SIGKILL")
    for port in (P_BANNER, P_ECHO):
        for i in range(2):
            res = env.client(port, "connect", plain=True, timeout=3,
                             extra=["--send", "ID plain-after-kill %d\n" % i,
                                    "--read-wait", "1.5"])
            got = res.get("data") or ""
            check(not got, "port %d with attlsd dead: CLEARTEXT SERVED: %r" % (port, got))
            debug("port %d with attlsd dead: %s / %s" % (port, res.get("end"),
                                                      res.get("error")))
        tls = env.client(port, "echo", nbytes=10, timeout=3)
        check(not tls.get("ok"), "port %d: TLS worked with attlsd dead?" % port)
    # connections that match no rule are never affected by the engine's death
    res = env.client(P_NORULE, "connect", plain=True, timeout=5,
                     extra=["--read-wait", "1.0"])
    check((res.get("data") or "").startswith("220 "),
          "port %d (no rule) must keep working while attlsd is dead: %r"
          % (P_NORULE, res))
    ids = [r.get("id", "") or "" for r in env.server_records()]
    check(not any("plain-after-kill" in i for i in ids),
          "the server accepted a connection while attlsd was dead")
    server, pid = env.servers[P_BANNER]
    env.start_attlsd()
    env.expect_attlsd_death = False
    res = env.client(P_BANNER, "banner", nbytes=2000)
    env.tls_ok(res, "after restart")
    check(res["banner"].startswith("220 attls-test banner port %d pid %d" % (P_BANNER, pid)),
          "banner after restart: %r" % res.get("banner"))
    check(server.poll() is None, "the server died")
    res = env.client(P_ECHO, "echo", nbytes=2000)
    env.tls_ok(res, "echo after restart")


def test_failed_restart_keeps_protection(env):
    """After attlsd is SIGKILLed, a restart that fails during startup (its
    key ring root is missing) must not remove the pinned programs of the
    dead one: the protected port stays closed, never cleartext.  A good
    restart then serves again."""
    env.expect_attlsd_death = True
    env.attlsd.send_signal(signal.SIGKILL)
    env.attlsd.wait(10)
    cp = run(env.ns([env.attlsd_bin, "-f", env.policy, "--cgroup", env.cgdir,
                     "--keyring-root", env.path("no-such-keyrings"),
                     "--zert-dir", env.zert_dir, "--pin-root", env.pin_root]),
             timeout=60)
    check(cp.returncode != 0, "attlsd with a missing key ring root started?")
    check("stay attached" in cp.stderr,
          "the failed restart should say it leaves the pins: %r" % cp.stderr[-800:])
    check(os.path.isdir(os.path.join(env.pin_root, "links")),
          "the failed restart removed the pinned links")
    check(cgroup_attached(env), "nothing attached to the cgroup any more")
    res = env.client(P_BANNER, "connect", plain=True, timeout=3,
                     extra=["--send", "ID plain-after-failed-restart\n",
                            "--read-wait", "1.5"])
    check(not (res.get("data") or ""),
          "protected port served CLEARTEXT after a failed restart: %r" % res.get("data"))
    env.start_attlsd()
    env.expect_attlsd_death = False
    res = env.client(P_BANNER, "banner", nbytes=500)
    env.tls_ok(res, "after the good restart")


def test_no_spurious_eagain(env):
    """7: blocking recv()/send() in the servers never returned EAGAIN."""
    recs = env.server_records()
    check(recs, "no server records")
    info("%d application connections checked for spurious EAGAIN" % len(recs))
    bad = [r for r in recs if r.get("eagain")]
    check(not bad, "%d connections saw spurious EAGAIN on a blocking socket, e.g. %r"
          % (len(bad), bad[:2]))
    errs = [r for r in recs if r.get("error")]
    debug("%d records, %d with errors (expected only for refused TLS on "
          "cleartext ports): %r" % (len(recs), len(errs), errs[:3]))


def prio_port_protected(env, port):
    """True if `port` answers TLS, False if it answers cleartext."""
    res = env.client(port, "connect", plain=True, timeout=5,
                     extra=["--read-wait", "1.0"])
    clear = (res.get("data") or "").startswith("220 ")
    if clear:
        return False
    tls = env.client(port, "banner", nbytes=100)
    env.tls_ok(tls, "port %d" % port)
    return True


def test_rule_priority(env):
    """Priority decides between overlapping rules (AT-TLS order: priority
    descending); a reload that swaps the priorities swaps the outcome."""
    check(not prio_port_protected(env, P_PRIO),
          "port %d: TestPrioClear (priority 200, TTLSEnabled Off) should win "
          "over TestPrioTls (150): got TLS" % P_PRIO)
    check(prio_port_protected(env, P_PRIO2),
          "port %d: only TestPrioTls covers it: got cleartext" % P_PRIO2)
    env.write_policy(prio_clear=100)
    try:
        gen = env.attlsctl("reload").get("generation")
        check(gen, "reload gave no generation")
        check(prio_port_protected(env, P_PRIO),
              "port %d after reload: TestPrioTls (150) now outranks "
              "TestPrioClear (100): got cleartext" % P_PRIO)
        pol = env.attlsctl("policy", "show")
        names = [r["name"] for r in pol.get("rules", [])]
        check(names.index("TestPrioTls") < names.index("TestPrioClear"),
              "installed policy order after reload: %r" % names)
    finally:
        env.write_policy(prio_clear=200)
        env.attlsctl("reload")
    check(not prio_port_protected(env, P_PRIO),
          "port %d: back to TestPrioClear after reloading the original" % P_PRIO)


ZOS_POLICY = """\
# z/OS-style policy for the integration test: groups, sets, references,
# an IpTimeCondition, z/OS-only parameters that must only warn.
TTLSRule                      ZosAppSrv
{{
  LocalAddrGroupRef           grpServiceAddrs   # only the service address
  LocalPortGroupRef           grpAppPorts       # echo..duplex, plus prio2
  Jobname                     python3*
  Direction                   Inbound
  Priority                    500
  TTLSGroupActionRef          grpZosOn
  TTLSEnvironmentActionRef    envZosSrv
}}
TTLSRule                      ZosClosedWindow
{{
  LocalPortRange              {p_prio}
  Direction                   Inbound
  Priority                    400
  IpTimeConditionRef          never_today       # closed now: cannot match
  TTLSGroupActionRef          grpZosOn
  TTLSEnvironmentActionRef    envZosSrv
}}
IpAddrGroup                   grpServiceAddrs
{{
  IpAddrSetRef                setService
}}
IpAddrSet                     setService
{{
  Addr                        {addr}
}}
PortGroup                     grpAppPorts
{{
  PortRangeRef                rngMain
  PortRange
  {{
    Port                      {p_prio2}
  }}
}}
PortRange                     rngMain
{{
  Port                        {p_lo}-{p_hi}
}}
IpTimeCondition               never_today
{{
  DayOfWeekMask               {dow_mask}        # every day but today
  TimeZone                    UTC
}}
TTLSGroupAction               grpZosOn
{{
  TTLSEnabled                 On
  Trace                       6
  FIPS140                     Off
  TTLSGroupAdvancedParms
  {{
    Envfile                   /etc/pagent/grpOn.envars   # z/OS only: warns
  }}
}}
TTLSEnvironmentAction         envZosSrv
{{
  HandshakeRole               Server
  TTLSKeyringParmsRef         ringZos
  TTLSEnvironmentAdvancedParms
  {{
    TLSv1.2                   On
    TLSv1.3                   On
    TLSv1                     Off
  }}
  TTLSGskAdvancedParms
  {{
    GSK_SYSPLEX_SIDCACHE      On                # z/OS only: warns
  }}
  EnvironmentUserInstance     1
}}
TTLSKeyringParms              ringZos
{{
  Keyring                     test/ring
}}
"""


def test_zos_style_policy(env):
    """A policy written the z/OS way (IpAddrGroup/IpAddrSet, PortGroup with
    inline and referenced ranges, IpTimeCondition, z/OS-only parameters)
    loads with warnings and classifies as documented."""
    today = time.gmtime().tm_wday            # Monday = 0
    sunday_first = (today + 1) % 7           # the mask starts with Sunday
    dow_mask = "".join("0" if i == sunday_first else "1" for i in range(7))
    text = ZOS_POLICY.format(addr=ADDR, p_lo=P_ECHO, p_hi=P_DUPLEX,
                             p_prio=P_PRIO, p_prio2=P_PRIO2, dow_mask=dow_mask)
    zos = env.path("zos-style.policy")
    with open(zos, "w") as f:
        f.write(text)
    cp = run([env.attlsd_bin, "-n", "-f", zos], timeout=30)
    check(cp.returncode == 0 and "configuration OK" in cp.stdout,
          "attlsd -n on the z/OS-style policy: %d %s %s" % (cp.returncode,
                                                            cp.stdout, cp.stderr))
    check("warning" in cp.stderr and "Envfile" in cp.stderr,
          "z/OS-only Envfile should warn: %r" % cp.stderr[-800:])
    saved = open(env.policy).read()
    try:
        with open(env.policy + ".new", "w") as f:
            f.write(text)
        os.rename(env.policy + ".new", env.policy)
        env.attlsctl("reload")
        # in the PortGroup and dialled on the group's address: TLS
        res = env.client(P_ECHO, "echo", nbytes=1000)
        env.tls_ok(res, "port %d via %s (in grpServiceAddrs)" % (P_ECHO, ADDR))
        check(prio_port_protected(env, P_PRIO2),
              "port %d (inline PortRange of the PortGroup): cleartext" % P_PRIO2)
        # same listener dialled on an address outside the group: no rule
        plain = run(env.ns([PY, os.path.join(HELPERS, "tlsclient.py"),
                            "--host", "127.0.0.1", "--port", str(P_BANNER),
                            "--mode", "connect", "--plain", "--read-wait", "1.0",
                            "--timeout", "5"]), timeout=30)
        got = json.loads(plain.stdout or "{}").get("data") or ""
        check(got.startswith("220 "),
              "port %d dialled on 127.0.0.1 (outside grpServiceAddrs) should be "
              "cleartext: %r %s" % (P_BANNER, got, plain.stderr[-300:]))
        # the rule whose IpTimeCondition is closed today does not match
        check(not prio_port_protected(env, P_PRIO),
              "port %d: ZosClosedWindow is outside its window but matched" % P_PRIO)
        pol = env.attlsctl("policy", "show", "ZosClosedWindow")
        rules = pol.get("rules") or [{}]
        check(rules[0].get("clauses") == [],
              "a rule outside its window must have no clauses: %r" % rules[0])
    finally:
        with open(env.policy + ".new", "w") as f:
            f.write(saved)
        os.rename(env.policy + ".new", env.policy)
        env.attlsctl("reload")


def test_guard_no_policy(env):
    """attlsd --guard: a cgroup attached with no policy gets no TCP
    (socket() fails with EPERM, like EZB.INITSTACK) except for --permit
    jobs; --cleanup removes the guard."""
    cg = env.cgdir + "-guard"
    pins = env.pin_root + "-guard"
    probe = [PY, "-c", "import socket; socket.socket(); print('socket ok')"]
    in_cg = ["sh", "-c", 'echo $$ > "$0" && exec "$@"',
             os.path.join(cg, "cgroup.procs")] + env.ns(probe)
    os.mkdir(cg)
    try:
        cp = run(env.ns([env.attlsd_bin, "--guard", "--cgroup", cg,
                         "--pin-root", pins]), timeout=30)
        check(cp.returncode == 0, "attlsd --guard: %d %s" % (cp.returncode, cp.stderr))
        cp = run(in_cg, timeout=30)
        check(cp.returncode != 0 and "Operation not permitted" in cp.stderr,
              "guarded cgroup: socket() should fail with EPERM: %d %r %r"
              % (cp.returncode, cp.stdout, cp.stderr[-300:]))
        st = json.loads(run(env.ns([os.path.join(env.build, "attlsctl"), "-j",
                                    "--pin-root", pins, "status"]),
                            timeout=30).stdout or "{}")
        check(st.get("state") == "guarded", "attlsctl status state: %r" % st.get("state"))
        comm = os.path.basename(PY)[:15]    # comm: the name exec'd, not a symlink's target
        cp = run(env.ns([env.attlsd_bin, "--guard", "--cgroup", cg,
                         "--pin-root", pins, "--permit", comm]), timeout=30)
        check(cp.returncode == 0, "attlsd --guard --permit: %s" % cp.stderr)
        cp = run(in_cg, timeout=30)
        check(cp.returncode == 0 and "socket ok" in cp.stdout,
              "permitted job %r still refused: %r" % (comm, cp.stderr[-300:]))
    finally:
        run([env.attlsd_bin, "--cleanup", "--pin-root", pins], timeout=30)
        try:
            os.rmdir(cg)
        except OSError:
            pass
    check(not os.path.exists(pins), "guard pins left after --cleanup")
    cp = run(in_cg, timeout=30) if os.path.isdir(cg) else None
    check(cp is None, "guard cgroup not removed")


def test_attlsctl_conn_and_keyring(env):
    """attlsctl conn show (netstat TTLS) lists an open protected connection
    with its rule, job, state, protocol and cipher, in JSON, as a table and
    one CONNID in detail; attlsctl keyring list shows the ring's default
    personal certificate (RACDCERT LISTRING)."""
    p = subprocess.Popen(env.ns(["openssl", "s_client", "-connect",
                                 "%s:%d" % (ADDR, P_ECHO), "-CAfile", env.ca,
                                 "-quiet", "-nocommands"]),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, start_new_session=True,
                         preexec_fn=_die_with_parent(signal.SIGKILL))
    try:
        p.stdin.write(b"hello\n")
        p.stdin.flush()
        check(p.stdout.readline() == b"hello\n", "echo through s_client failed")
        conns = env.attlsctl("conn", "show").get("connections", [])
        mine = [x for x in conns if x.get("local_port") == P_ECHO and
                x.get("state") == "secure"]
        check(mine, "the open connection is not listed: %r" % conns)
        x = mine[0]
        check(x.get("rule") == "TestSrv" and x.get("job", "").startswith("python3")
              and x.get("protocol") == "TLSv1.3" and x.get("cipher", "").startswith("TLS_")
              and x.get("direction") == "inbound" and x.get("local_addr") == ADDR
              and x.get("group") == "grpOn" and x.get("environment") == "envSrv",
              "connection fields: %r" % x)
        one = env.attlsctl("conn", "show", x["conn_id"]).get("connections", [])
        check(len(one) == 1 and one[0]["conn_id"] == x["conn_id"],
              "conn show CONNID: %r" % one)
        text = run(env.ns([os.path.join(env.build, "attlsctl"), "--pin-root",
                           env.pin_root, "conn", "show"]), timeout=30).stdout
        check(x["conn_id"] in text and "TestSrv" in text and "secure" in text,
              "conn show table: %r" % text[-600:])
        gone = run(env.ns([os.path.join(env.build, "attlsctl"), "--pin-root",
                           env.pin_root, "conn", "show", "0000000000000bad"]),
                   timeout=30)
        check(gone.returncode != 0 and "no open connection" in gone.stderr,
              "unknown CONNID: %d %r" % (gone.returncode, gone.stderr))
    finally:
        _killpg(p)
        p.wait()
    ring = env.attlsctl("keyring", "list", "test/ring")
    certs = ring.get("certificates", [])
    dflt = [c for c in certs if c.get("label") == "default"]
    check(dflt and dflt[0].get("usage") == "personal" and dflt[0].get("default")
          and "attls-test-server" in (dflt[0].get("subject") or "")
          and len(dflt[0].get("sha256") or "") == 64,
          "keyring list: %r" % ring)
    check(not any("PRIVATE KEY" in json.dumps(c) for c in certs),
          "keyring list must never show key material")


def test_reload_under_traffic(env):
    """100 reloads (alternating two real policies) while TLS connections
    open and close: no failed connection, no leaked map entry."""
    before = env.attlsctl("status")
    stop = env.path("churn.stop")
    churn = subprocess.Popen(env.ns([PY, os.path.join(HELPERS, "churn.py"),
                                     "--host", ADDR, "--port", str(P_ECHO),
                                     "--ca", env.ca, "--seconds", "120",
                                     "--threads", "2", "--stop", stop]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True,
                             preexec_fn=_die_with_parent(signal.SIGKILL))
    gens = []
    try:
        time.sleep(0.5)
        for i in range(100):
            env.write_policy(prio_clear=100 if i % 2 == 0 else 200)
            gens.append(env.attlsctl("reload").get("generation"))
        open(stop, "w").close()
        out, err = churn.communicate(timeout=60)
    finally:
        if churn.poll() is None:
            _killpg(churn)
            churn.wait()
        env.write_policy(prio_clear=200)
    env.attlsctl("reload")
    check(gens == sorted(gens) and len(set(gens)) == 100,
          "generations not strictly increasing: %r" % gens[:10])
    try:
        res = json.loads(out)
    except ValueError:
        raise TestFailure("churn output: %r %r" % (out[-500:], err[-500:]))
    info("reload under traffic: %d connections ok, %d failed, across 100 reloads"
         % (res["ok"], res["failed"]))
    check(res["ok"] >= 50, "too little traffic to mean anything: %r" % res)
    check(res["failed"] == 0, "connections failed during reloads: %r" % res)
    # every connection is closed: the engine must have released its entries
    deadline = time.monotonic() + 10
    while True:
        after = env.attlsctl("status")
        if after.get("engine_connections") == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(after.get("engine_connections") == 0,
          "hop entries left after all connections closed: %r" % after)
    check(after.get("bound_sockets") == before.get("bound_sockets"),
          "bound sockets changed: %r -> %r" % (before.get("bound_sockets"),
                                               after.get("bound_sockets")))
    steer = run(env.ns(["bpftool", "-j", "map", "dump", "pinned",
                        env.pin_root + "/attls_steer"]), timeout=30)
    try:
        left = json.loads(steer.stdout or "[]")
    except ValueError:
        left = None
    check(left == [], "steering entries left behind: %r" % (left if left is None else left[:3]))


# ---------------------------------------------------------------------------
# outbound, client authentication, key rings, fail closed (issue 4)

def _curl(env, port, timeout=10):
    """curl http:// from a process in the cgroup: (rc, body, stderr, seconds)."""
    t0 = time.monotonic()
    cp = run(env.in_cgroup(["curl", "-sS", "--max-time", str(timeout),
                            "http://%s:%d/" % (ADDR, port)]), timeout=timeout + 20)
    return cp.returncode, cp.stdout, cp.stderr, time.monotonic() - t0


def _zrec_out(recs, port, event=None):
    """zERT records of outbound attls connections to ADDR:port."""
    return [r for r in recs if r.get("protection") == "attls"
            and r.get("direction") == "outbound"
            and r.get("remote", {}).get("port") == port
            and r.get("remote", {}).get("addr") == ADDR
            and (event is None or r.get("event") == event)]


def _zsess(r):
    ss = r.get("security_sessions") or [{}]
    return ss[0]


def _zcert(r, side):
    """The `side` ("server"/"client") certificate of a zERT record's first
    security session as {subject, issuer, sha256, not_before, mapped_user};
    record version 1 (<side>_cert objects) or 2 (ECS-style <side> objects)."""
    s = _zsess(r)
    if isinstance(s.get(side), dict):
        c = s[side]
        return {"subject": c.get("subject"), "issuer": c.get("issuer"),
                "sha256": (c.get("hash") or {}).get("sha256"),
                "not_before": (c.get("x509") or {}).get("not_before"),
                "mapped_user": c.get("mapped_user")}
    c = s.get(side + "_cert") or {}
    return {k: c.get(k) for k in ("subject", "issuer", "sha256", "not_before",
                                  "mapped_user")}


def _ztls13(r):
    return _zsess(r).get("version") in ("TLSv1.3", "1.3")


def _zcheck_cert(r, side, **want):
    """Each want key: a substring the field must contain, or a callable."""
    c = _zcert(r, side)
    for k, w in want.items():
        v = c.get(k)
        ok = w(v) if callable(w) else (isinstance(v, str) and w in v)
        check(ok, "zERT %s record: %s certificate %s = %r (record %s)"
              % (r.get("event"), side, k, v, json.dumps(r)[:1200]))


def _wait_zert(env, pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        recs = [r for r in env.zert_records() if pred(r)]
        if recs or time.monotonic() > deadline:
            check(recs, "no zERT record: %s" % what)
            return recs
        time.sleep(0.1)


def test_out_curl_openssl(env):
    """Outbound: curl http:// in the cgroup reaches openssl s_server
    -verify_return_error over TLS 1.3, the server certificate verified
    against the key ring's CA (HostReferenceIdDNS checked)."""
    if not shutil.which("curl"):
        raise Skip("curl not installed")
    off = env.log_offset()
    rc, body, err, secs = _curl(env, P_OUT_WWW)
    check(rc == 0, "curl exit %d: %s\nattlsd: %s" % (rc, err.strip(),
                                                   env.log_since(off)[-1500:]))
    check("Ciphers supported in s_server binary" in body,
          "not the s_server -www page: %r" % body[:500])
    check(re.search(r"Protocol\s*:\s*TLSv1\.3", body) or "TLSv1.3" in body,
          "s_server did not report TLS 1.3: %r" % body[:1500])
    recs = _wait_zert(env, lambda r: r in _zrec_out([r], P_OUT_WWW, "term"),
                      "outbound term record for port %d" % P_OUT_WWW)
    r = recs[-1]
    _need(r, "security_sessions.role", lambda v: v == "client")
    check(_ztls13(r), "outbound zERT record: not TLS 1.3: %s" % json.dumps(r)[:800])
    _zcheck_cert(r, "server", subject="attls-test-server", issuer="attls test CA",
                 sha256=lambda v: isinstance(v, str) and len(v) == 64,
                 not_before=lambda v: bool(v))
    _need(r, "rule", lambda v: v == "TestOut")
    _need(r, "job", lambda v: v == "curl")
    check(r.get("rc") == 0, "outbound term record rc %r" % r.get("rc"))


def test_out_python(env):
    """Outbound: a python cleartext client gets TLS to a python TLS server;
    getpeername() shows the original destination, getsockname() the
    engine's wire address (the one the server sees); SNI is the
    HostReferenceIdDNS name; both directions close cleanly."""
    ident = "ID outpy-%d" % os.getpid()
    line = "%s hello through attls\n" % ident
    res = env.out_client(P_OUT_PY, ["--send", line, "--shut"])
    check(res["connect_ok"], "connect failed: %r" % res)
    check(res["data"] == line, "echo: got %r, sent %r (end %s)"
          % (res["data"], line, res["end"]))
    check(res["end"] == "eof", "stream ended with %r, not EOF" % res["end"])
    check(res["peername"] == [ADDR, P_OUT_PY],
          "getpeername() %r, the original destination is %r"
          % (res["peername"], [ADDR, P_OUT_PY]))
    rec = env.tls_record(ident)
    check(rec["end"] == "close_notify", "the server saw %r, not close_notify" % rec["end"])
    check(rec["version"] == "TLSv1.3", "negotiated %r" % rec["version"])
    check(rec["sni"] == "attls-test-server", "SNI %r" % rec["sni"])
    check(res["sockname"] == rec["peer"],
          "getsockname() %r, but the server sees the client at %r"
          % (res["sockname"], rec["peer"]))
    check(res["sockname"][0] == ADDR, "wire address %r" % res["sockname"])
    zr = _wait_zert(env, lambda r: r in _zrec_out([r], P_OUT_PY, "term") and
                    r.get("local", {}).get("port") == res["sockname"][1],
                    "outbound term record for %r" % res["sockname"])[0]
    _need(zr, "security_sessions.role", lambda v: v == "client")
    _need(zr, "local.addr", lambda v: v == res["sockname"][0])
    _need(zr, "job", lambda v: v.startswith("python3"))
    _need(zr, "bytes_out", lambda v: v == len(line))
    _need(zr, "bytes_in", lambda v: v == len(line))


def _out_resumed(env, port, tag):
    """One outbound echo connection to port through attls: (whether the
    server saw a resumed session, the outclient result)."""
    ident = "ID %s-%d-%d" % (tag, os.getpid(), time.monotonic_ns())
    res = env.out_client(port, ["--send", ident + "\n", "--shut"])
    check(res["connect_ok"] and res["data"] == ident + "\n",
          "%s: outbound echo to %d failed: %r" % (tag, port, res))
    rec = env.tls_record(ident)
    check(rec["end"] == "close_notify" and rec["port"] == port,
          "%s: the server saw %r" % (tag, rec))
    return rec.get("resumed"), res


def test_out_resume(env):
    """Outbound sessions are resumed: the second connection to the same
    server resumes the first one's session (tlssrv.py and the zERT record
    say so); a session is never offered to another destination or to an
    environment with another HostReferenceIdDNS/SNI (the same server
    process, which would accept it); after a reload that changes the
    environment the old sessions are gone (a full handshake first)."""
    # Nothing cached for these two yet: P_OUT_PY's sessions (earlier
    # tests) must not be offered to another port or another name.
    for port, tag in ((P_OUT_PY2, "resume-dest"), (P_OUT_ALT, "resume-name")):
        resumed, _ = _out_resumed(env, port, tag)
        check(resumed is False, "%s: the first connection to %d resumed a "
              "session of another destination or name" % (tag, port))
        resumed, _ = _out_resumed(env, port, tag)
        check(resumed is True, "%s: the second connection to %d was not "
              "resumed" % (tag, port))
    _out_resumed(env, P_OUT_PY, "resume-warm")
    resumed, res = _out_resumed(env, P_OUT_PY, "resume-again")
    check(resumed is True, "the second connection to %d was not resumed" % P_OUT_PY)
    zr = _wait_zert(env, lambda r: r in _zrec_out([r], P_OUT_PY, "term") and
                    r.get("local", {}).get("port") == res["sockname"][1],
                    "outbound term record for %r" % res["sockname"])[0]
    _need(zr, "security_sessions.handshake", lambda v: v == "resumed")
    _need(zr, "security_sessions.role", lambda v: v == "client")
    # A new EnvironmentUserInstance: a new SSL_CTX, its sessions start over.
    env.write_policy(prio_clear=200, cli_instance=getattr(env, "cli_instance", 0) + 10)
    env.attlsctl("reload")
    resumed, res = _out_resumed(env, P_OUT_PY, "resume-reload")
    check(resumed is False, "after a reload that changed envCli an old "
          "session was resumed")
    zr = _wait_zert(env, lambda r: r in _zrec_out([r], P_OUT_PY, "term") and
                    r.get("local", {}).get("port") == res["sockname"][1],
                    "outbound term record for %r" % res["sockname"])[0]
    _need(zr, "security_sessions.handshake", lambda v: v == "full")
    resumed, _ = _out_resumed(env, P_OUT_PY, "resume-after")
    check(resumed is True, "the environment's new sessions are not resumed")


def test_out_ipv6(env):
    """Outbound over IPv6 ([::1]) and from a dual-stack socket to an IPv4
    destination (::ffff:a.b.c.d): TLS, the original destination in
    getpeername()."""
    log6 = env.path("s_server.%d.v6.log" % P_OUT_WWW)
    if "ACCEPT" not in tail(log6) or env.srv6.poll() is not None:
        raise Skip("openssl s_server cannot listen on [::1]: %s" % tail(log6))
    res = env.out_client(P_OUT_WWW, ["--send", "GET / HTTP/1.0\r\n\r\n"], host="::1")
    check(res["connect_ok"] and "Ciphers supported in s_server binary" in res["data"],
          "IPv6 outbound: %r" % {k: v for k, v in res.items() if k != "data"})
    check(res["peername"] == ["::1", P_OUT_WWW], "IPv6 getpeername() %r" % res["peername"])
    ident = "ID outmapped-%d" % os.getpid()
    res = env.out_client(P_OUT_PY, ["--send", ident + "\n", "--shut"],
                         host="::ffff:" + ADDR)
    check(res["connect_ok"] and res["data"] == ident + "\n",
          "dual-stack socket to an IPv4 destination: %r" % res)
    check(res["peername"] == [ADDR, P_OUT_PY], "v4-mapped getpeername() %r"
          % res["peername"])
    rec = env.tls_record(ident)
    check(res["sockname"] == rec["peer"], "v4-mapped getsockname() %r, the server "
          "sees %r" % (res["sockname"], rec["peer"]))


def test_out_mutual_tls(env):
    """Outbound mutual TLS: s_server -Verify 1 -verify_return_error gets
    the client certificate from the key ring (a PKCS#12 entry)."""
    if not shutil.which("curl"):
        raise Skip("curl not installed")
    off = env.log_offset()
    rc, body, err, secs = _curl(env, P_OUT_MTLS)
    check(rc == 0 and "Ciphers supported in s_server binary" in body,
          "curl exit %d: %s %r\nattlsd: %s" % (rc, err.strip(), body[:300],
                                             env.log_since(off)[-1500:]))
    log = tail(env.path("s_server.%d.log" % P_OUT_MTLS), 0, 200)
    check("attls-test-client" in log, "s_server did not log the client "
          "certificate: %s" % log[-1500:])
    r = _wait_zert(env, lambda r: r in _zrec_out([r], P_OUT_MTLS, "term"),
                   "outbound term record for port %d" % P_OUT_MTLS)[-1]
    _zcheck_cert(r, "client", subject="attls-test-client")
    _zcheck_cert(r, "server", subject="attls-test-server")


def _out_fails(env, port, rc_want, words, user=None):
    """A cleartext client to `port` is reset promptly, gets no data, and
    the attlsd log has RC rc_want with `words`."""
    off = env.log_offset()
    res = env.out_client(port, ["--send", "GET / HTTP/1.0\r\n\r\n"], user=user,
                         timeout=15)
    check(res["connect_ok"] or res["connect_error"] in ("reset", "error:ECONNREFUSED"),
          "port %d: connect: %r" % (port, res))
    check(not res["data"], "port %d: the application got data: %r" % (port, res["data"][:200]))
    check(res["end"] in ("reset", None) or not res["connect_ok"],
          "port %d: the application saw %r, not a reset" % (port, res["end"]))
    check(res.get("elapsed_s", 0) < 8, "port %d: the reset took %.1f s"
          % (port, res.get("elapsed_s", 0)))
    text = env.wait_log(off, r"RC: %d\b" % rc_want)
    for w in words:
        check(re.search(w, text), "port %d: the log has RC %d but not %r:\n%s"
              % (port, rc_want, w, text[-1500:]))
    return res, text


def test_out_failures(env):
    """Outbound failures each with their own return code, the application
    reset (never cleartext, never a hang): unknown CA 435, destination
    refused 5118.  (Expired 401 and host name mismatch 5119, with their
    fixes: tests/integration_diag.py.)"""
    _out_fails(env, P_OUT_ROGUE, 435, [r"certificate authority unknown",
                                       r"rogue CA|unable to get local issuer"])
    res, _ = _out_fails(env, P_OUT_REFUSED, 5118, [r"Connection refused"])
    info("outbound to a closed port: application %s after %.3f s"
         % ("reset" if res["connect_ok"] else "connect() failed (%s)" % res["connect_error"],
            res["elapsed_s"]))


def test_out_sni_match(env):
    """ClientHandshakeSNI Required with ClientHandshakeSNIMatch Required:
    the name is sent, and a server that does not acknowledge it (s_server
    without a servername callback) fails the connection with RC 5121."""
    ident = "ID sniack-%d" % os.getpid()
    res = env.out_client(P_OUT_SNI_ACK, ["--send", ident + "\n", "--shut"])
    check(res["data"] == ident + "\n" and res["end"] == "eof",
          "SNI acknowledged: %r" % res)
    rec = env.tls_record(ident)
    check(rec["sni"] == "attls-test-server", "SNI sent: %r" % rec["sni"])
    _out_fails(env, P_OUT_SNI_NOACK, 5121, [r"did not acknowledge the server name "
                                            r"attls-test-server"])


def test_keyring_access_refused(env):
    """A key ring is used only by its owner, users its ACCESS file grants,
    and root: nobody using locked/client is refused with RC 202 and the
    reason; root gets through."""
    if not shutil.which("curl"):
        raise Skip("curl not installed")
    _out_fails(env, P_OUT_LOCKED, 202, [r"access denied: user %s" % FORK_USER,
                                        r"ACCESS"], user=FORK_USER)
    rc, body, err, _ = _curl(env, P_OUT_LOCKED)
    check(rc == 0 and "Ciphers supported" in body,
          "root to port %d: curl exit %d %s" % (P_OUT_LOCKED, rc, err.strip()))


def _mtls_client_subject(env):
    """curl to the mutual-TLS s_server; the subject of the client
    certificate the engine sent, from the connection's zERT record."""
    before = {r.get("conn_id") for r in _zrec_out(env.zert_records(), P_OUT_MTLS)}
    rc, body, err, _ = _curl(env, P_OUT_MTLS)
    check(rc == 0 and "Ciphers supported" in body, "curl exit %d: %s" % (rc, err))
    r = _wait_zert(env, lambda r: r in _zrec_out([r], P_OUT_MTLS, "term")
                   and r.get("conn_id") not in before, "mutual TLS term record")[-1]
    subj = _zcert(r, "client")["subject"]
    check(subj, "no client certificate in the zERT record: %s" % json.dumps(r)[:1200])
    return subj


def test_keyring_reload(env):
    """A changed certificate is used after a reload that bumps
    EnvironmentUserInstance; a reload without the bump keeps the
    environment's SSL_CTX (and its session cache) as it was."""
    ring = env.path("keyrings", "test", "client")
    p12 = os.path.join(ring, "mycert.p12")
    saved = env.path("pki", "mycert.p12.orig")
    shutil.copy2(p12, saved)
    d = env.path("pki")
    cakey = os.path.join(d, "ca.key")
    new_pem, new_key = env._issue(d, "client-renewed",
                                  "/O=attls tests/CN=attls-test-client-renewed",
                                  "basicConstraints=critical,CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=clientAuth\n", env.ca, cakey)
    tmp = p12 + ".new"
    run(["openssl", "pkcs12", "-export", "-in", new_pem, "-inkey", new_key, "-out",
         tmp, "-passout", "pass:p12-secret"], check_rc=True)
    os.chmod(tmp, 0o600)
    try:
        check("CN=attls-test-client," in _mtls_client_subject(env) + ",",
              "the original client certificate was not used")
        os.replace(tmp, p12)
        env.attlsctl("reload")
        subj = _mtls_client_subject(env)
        check("attls-test-client-renewed" not in subj,
              "a reload without a new EnvironmentUserInstance rebuilt the "
              "environment (client certificate %r)" % subj)
        env.write_policy(prio_clear=200, cli_instance=1)
        env.attlsctl("reload")
        subj = _mtls_client_subject(env)
        check("attls-test-client-renewed" in subj,
              "EnvironmentUserInstance bumped, but the old certificate is still "
              "sent: %r" % subj)
    finally:
        shutil.copy2(saved, p12)
        env.write_policy(prio_clear=200, cli_instance=2)
        env.attlsctl("reload")


def test_server_sni(env):
    """ServerHandshakeSNIList: the certificate of the name the client
    sends; ServerHandshakeSNI Required refuses a client without a name,
    ServerHandshakeSNIMatch Required one with an unknown name (RC 5121)."""
    for name, cn in (("alt.attls.test", "attls-sni-alt"),
                     ("attls-test-server", "attls-test-server")):
        marker = "sni-%s-%d" % (cn, os.getpid())
        out, err, rc = interactive(env.ns([
            "openssl", "s_client", "-connect", "%s:%d" % (ADDR, P_SNI), "-CAfile",
            env.ca, "-verify_return_error", "-servername", name, "-brief",
            "-nocommands"]), "ID %s\n%s\n" % (marker, marker), [marker], timeout=15)
        check(marker in out, "SNI %s: no echo: %r %r" % (name, out[-300:], err[-800:]))
        check(re.search(r"Peer certificate:.*CN ?= ?%s\b" % re.escape(cn), err),
              "SNI %s: not the certificate of %s: %r" % (name, cn, err[-800:]))
    off = env.log_offset()
    for extra, why in ((["-servername", "unknown.example"], "not in ServerHandshakeSNIList"),
                       (["-noservername"], "sent no server name")):
        out, err, rc = interactive(env.ns([
            "openssl", "s_client", "-connect", "%s:%d" % (ADDR, P_SNI), "-CAfile",
            env.ca, "-brief", "-nocommands"] + extra), "ID sni-refused\nnope\n",
            ["nope"], timeout=10)
        check("nope" not in out, "%s: served: %r" % (extra, out[-300:]))
        env.wait_log(off, r"RC: 5121\b.*%s" % why)


def _s_client_cert(env, port, cert, key, send):
    return interactive(env.ns(["openssl", "s_client", "-connect", "%s:%d" % (ADDR, port),
                               "-CAfile", env.ca, "-verify_return_error", "-cert", cert,
                               "-key", key, "-brief", "-nocommands"]),
                       send, [send.strip().splitlines()[-1]], timeout=15)


def test_safcheck(env):
    """ServerWithClientAuth + ClientAuthType SAFCheck: a client certificate
    mapped in KEYRING_ROOT/certmap (by subject, by fingerprint) gets
    through and its user is in zERT and the log; an unmapped one is
    refused with RC 5120."""
    off = env.log_offset()
    for cert, key, user, tag in ((env.cli_pem, env.cli_key, FORK_USER, "a"),
                                 (env.safb_pem, env.safb_key, "root", "b")):
        marker = "safcheck-%s-%d" % (tag, os.getpid())
        out, err, rc = _s_client_cert(env, P_SAF, cert, key,
                                      "ID %s\n%s\n" % (marker, marker))
        check(out.count(marker) >= 2, "SAFCheck %s: no echo (rc %s): %r %r\n%s"
              % (tag, rc, out[-300:], err[-800:], env.log_since(off)[-1500:]))
        env.wait_log(off, r"mapped to user %s \(SAFCheck\)" % user)
        env.server_record("ID " + marker)
    deadline = time.monotonic() + 10
    while True:
        recs = _wait_zert(env, lambda r: r.get("protection") == "attls"
                          and r.get("local", {}).get("port") == P_SAF
                          and r.get("event") == "term", "SAFCheck term records")
        users = {_zcert(r, "client")["mapped_user"] for r in recs}
        if {FORK_USER, "root"} <= users or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for r in recs:
        _zcheck_cert(r, "client", issuer="attls test CA",
                     sha256=lambda v: isinstance(v, str) and len(v) == 64)
        _zcheck_cert(r, "server", subject="attls-test-server")
    check({FORK_USER, "root"} <= users, "zERT mapped users %r" % users)
    out, err, rc = _s_client_cert(env, P_SAF, env.safc_pem, env.safc_key,
                                  "ID safcheck-c-%d\nnope\n" % os.getpid())
    check("nope" not in out, "an unmapped client certificate got through: %r" % out)
    env.wait_log(off, r"RC: 5120\b.*not in the SAFCheck certificate map")


TCP_FIN, TCP_RST = 0x01, 0x04


def test_kill9_resets_protected(env):
    """attlsd SIGKILLed while data flows both ways: every protected
    connection is reset, never FINed: the inbound client and the outbound
    server get a RST, the applications ECONNRESET; the marker the
    outbound application streams never crosses the wire in cleartext; a
    new protected connect() is refused while attlsd is down."""
    if not shutil.which("tcpdump"):
        raise Skip("tcpdump not installed")
    marker = "ATTLS-KILL9-MARKER-%d" % os.getpid()
    td, pcap = env.capture_start("kill9", "tcp port %d or tcp port %d" % (P_SOURCE, P_OUT_PY),
                                 snaplen=256)
    started = env.path("kill9.started")
    ident = "kill9-%d" % os.getpid()
    procs = []
    try:
        # inbound: a TLS client reading an endless stream from the server
        inb = subprocess.Popen(env.ns([PY, os.path.join(HELPERS, "tlsclient.py"),
                                       "--host", ADDR, "--port", str(P_SOURCE),
                                       "--mode", "source", "--bytes", str(1 << 36),
                                       "--timeout", "30", "--bind", CLIENT_ADDR,
                                       "--ca", env.ca, "--id", ident]),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True,
                               preexec_fn=_die_with_parent(signal.SIGKILL))
        procs.append(inb)
        # outbound: a cleartext application streaming the marker
        outb = subprocess.Popen(env.in_cgroup([
            PY, os.path.join(HELPERS, "outclient.py"), "--host", ADDR, "--port",
            str(P_OUT_PY), "--stream", "ID %s %s" % (ident, marker), "--seconds", "30",
            "--timeout", "30", "--started", started]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=_die_with_parent(signal.SIGKILL))
        procs.append(outb)
        deadline = time.monotonic() + 15
        while not os.path.exists(started):
            if outb.poll() is not None or time.monotonic() > deadline:
                _killpg(outb)
                raise TestFailure("outbound stream did not start: %r"
                                  % (outb.communicate()[0][-500:],))
            time.sleep(0.05)
        time.sleep(0.5)
        if inb.poll() is not None:
            raise TestFailure("inbound client ended before the kill: %r"
                              % (inb.communicate()[0][-500:],))
        env.expect_attlsd_death = True
        env.attlsd.send_signal(signal.SIGKILL)
        env.attlsd.wait(10)
        out_i, err_i = inb.communicate(timeout=30)
        out_o, err_o = outb.communicate(timeout=40)
        # with the engine gone a protected connect() is refused at once
        down = env.out_client(P_OUT_PY, ["--send", "ID down-%d\n" % os.getpid()],
                              timeout=5)
        time.sleep(0.3)
    finally:
        for p in procs:
            if p.poll() is None:
                _killpg(p)
                p.wait()
        env.capture_stop(td)
    try:
        ri, ro = json.loads(out_i), json.loads(out_o)
    except ValueError:
        raise TestFailure("client output: %r %r / %r %r" % (out_i[-300:], err_i[-500:],
                                                            out_o[-300:], err_o[-500:]))
    check(ri["bytes_recv"] > 0, "inbound: nothing flowed before the kill: %r" % ri)
    check(ri["end"] == "reset", "inbound client saw %r after the kill, not a reset"
          % ri["end"])
    rec = env.server_record("ID " + ident, timeout=15)
    check(rec["error"] and re.search(r"Reset|BrokenPipe|ECONNRESET|EPIPE", rec["error"]),
          "the inbound application saw %r, not ECONNRESET" % rec["error"])
    check(ro["bytes_recv"] > 0, "outbound: nothing flowed before the kill: %r" % ro)
    check(ro["end"] in ("reset", "epipe"), "the outbound application saw %r, not a "
          "reset" % ro["end"])
    trec = env.tls_record("ID " + ident, timeout=15)
    check(trec["end"] == "reset", "the outbound server saw %r, not a reset" % trec["end"])
    check(not down["connect_ok"] and down["connect_error"] == "error:EPERM",
          "protected connect() with attlsd dead: %r" % down)
    segs = pcap_segments(pcap)
    m = marker.encode()
    wire = [sg for sg in segs if P_OUT_PY in (sg[1], sg[3])]
    check(wire, "no packets to or from port %d captured" % P_OUT_PY)
    check(not any(m in sg[5] for sg in wire),
          "THE MARKER CROSSED THE WIRE IN CLEARTEXT (port %d)" % P_OUT_PY)
    eng = [sg for sg in wire if sg[3] == P_OUT_PY]
    check(any(sg[4] & TCP_RST for sg in eng), "no RST from the engine to the server")
    check(not any(sg[4] & TCP_FIN for sg in eng), "the engine sent the server a FIN")
    srv = [sg for sg in segs if sg[1] == P_SOURCE and sg[2] == CLIENT_ADDR]
    check(any(sg[4] & TCP_RST for sg in srv), "no RST from the engine to the inbound client")
    check(not any(sg[4] & TCP_FIN for sg in srv), "the engine sent the inbound client a FIN")


def test_sigterm_detaches(env):
    """SIGTERM: attlsd detaches, unpins and exits 0."""
    if not env.attlsd_alive():
        env.start_attlsd()
    env.expect_attlsd_death = True
    rc = env.stop_attlsd(signal.SIGTERM, 20)
    check(rc == 0, "attlsd exit status after SIGTERM: %r\n%s" % (rc, tail(env.attlsd_log)))
    left = os.listdir(env.pin_root) if os.path.exists(env.pin_root) else []
    check(not left, "pins left after SIGTERM under %s: %s" % (env.pin_root, left))
    left = cgroup_attached(env)
    check(not left, "programs still attached to the cgroup after SIGTERM:\n"
          + "\n".join(left))
    ino = os.stat("/run/netns/" + env.netns).st_ino
    links = run(["bpftool", "-j", "link", "show"], timeout=20).stdout
    try:
        left = [l for l in json.loads(links or "[]")
                if l.get("type") == "netns" and l.get("netns_ino") == ino]
    except ValueError:
        left = []
    check(not left, "sk_lookup link still attached to the netns: %r" % left)


TESTS = [
    test_policy_check,
    test_openssl_tls13,
    test_openssl_tls12,
    test_gnutls_cli,
    test_python_ssl,
    test_real_addresses,
    test_cleartext_ports,
    test_listener_before_attlsd,
    test_classification_negative,
    test_ipv6_never_bypassed,
    test_banner_and_client_first,
    test_server_close_delivers_all,
    test_client_half_close,
    test_bulk_256mib,
    test_concurrent_200,
    test_no_cleartext_on_wire,
    test_zert,
    test_rule_priority,
    test_zos_style_policy,
    test_guard_no_policy,
    test_attlsctl_conn_and_keyring,
    test_reload_under_traffic,
    test_out_curl_openssl,
    test_out_python,
    test_out_ipv6,
    test_out_mutual_tls,
    test_out_failures,
    test_out_sni_match,
    test_out_resume,
    test_keyring_access_refused,
    test_keyring_reload,
    test_safcheck,
    test_server_sni,
    test_kill9_resets_protected,
    test_sigkill_fails_closed,
    test_failed_restart_keeps_protection,
    test_no_spurious_eagain,
    test_sigterm_detaches,
]
TIMEOUTS = {"test_bulk_256mib": 700, "test_concurrent_200": 300,
            "test_reload_under_traffic": 300}


# ---------------------------------------------------------------------------

def prerequisites(build):
    """Reasons to skip everything (missing privileges or kernel features)."""
    why = []
    if os.geteuid() != 0:
        why.append("not root")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        why.append("no kernel BTF (/sys/kernel/btf/vmlinux)")
    if not find_cgroup2():
        why.append("no cgroup v2 mount")
    if os.geteuid() == 0 and not bpffs_mounted():
        try:
            os.makedirs("/sys/fs/bpf", exist_ok=True)
        except OSError:
            pass
        cp = subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"],
                            capture_output=True, text=True)
        if cp.returncode:
            why.append("cannot mount bpffs: " + cp.stderr.strip())
    for tool in ("ip", "nsenter", "openssl", "bpftool"):
        if not shutil.which(tool):
            why.append("%s not installed" % tool)
    return why




def sanitize_setup(name):
    """Point every sanitized process this run starts (attlsd, attlsctl,
    attlsd --cleanup) at report files in a private directory; returns it.
    UBSan aborts on the first error (the build has
    -fno-sanitize-recover) and, being a runtime of its own in GCC's
    build, writes to stderr: run() and the attlsd log are scanned for it.
    LeakSanitizer runs at every clean exit."""
    global SANITIZER_STDERR
    SANITIZER_STDERR = []
    d = tempfile.mkdtemp(prefix=name + "-san")
    common = "log_path=%s:log_exe_name=1" % os.path.join(d, "report")
    os.environ["ASAN_OPTIONS"] = common + ":detect_leaks=1:halt_on_error=1:" \
        "abort_on_error=0:strict_string_checks=1:detect_invalid_pointer_pairs=1:" \
        "check_initialization_order=1"
    os.environ["LSAN_OPTIONS"] = common + ":suppressions=" + SANITIZER_SUPP + \
        ":print_suppressions=0"
    os.environ["UBSAN_OPTIONS"] = common + ":print_stacktrace=1:halt_on_error=1"
    info("sanitizers on: reports go to " + d)
    return d


def sanitizer_reports(env):
    """Problems for cleanup(): every sanitizer report of this run (report
    files, and attlsd's own log in case a report went to stderr)."""
    found = []
    d = getattr(env, "san_dir", None)
    if not d:
        return found
    for cmd, err in SANITIZER_STDERR:
        found.append("sanitizer report from %s" % cmd)
        print("# sanitizer report from %s:" % cmd)
        for line in err.splitlines()[:80]:
            print("#   | " + line)
    files = [os.path.join(d, n) for n in sorted(os.listdir(d))]
    if env.attlsd_log and os.path.exists(env.attlsd_log):
        files.append(env.attlsd_log)
    for path in files:
        with open(path, errors="replace") as f:
            text = f.read()
        if any(p in text for p in SANITIZER_PATTERNS):
            found.append("sanitizer report in %s" % os.path.basename(path))
            print("# sanitizer report %s:" % path)
            for line in text.splitlines()[:80]:
                print("#   | " + line)
    if not found:
        shutil.rmtree(d, ignore_errors=True)
    else:
        info("sanitizer reports kept in " + d)
    return found


def run_suite(doc, env_class, all_tests, timeouts=None, default_timeout=120,
              setup_exempt=("test_policy_check",), restart_attlsd=True):
    """The runner shared by the integration suites: arguments, skip when
    the machine cannot run them, one environment, every test under a time
    limit with the attlsd log of a failure, cleanup that always runs, and
    the closing "N passed, N failed" line.  Returns the exit status."""
    global VERBOSE, ENV
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), ".output"))
    ap.add_argument("-k", dest="filter", action="append",
                    help="run only tests whose name contains this (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--sanitize", action="store_true",
                    help="the binaries are built with ASan+UBSan (make asan): "
                    "fail on any sanitizer report, leaks included")
    args = ap.parse_args()
    VERBOSE = args.verbose
    timeouts = timeouts or {}
    sys.stdout.reconfigure(line_buffering=True)

    tests = [t for t in all_tests if not args.filter
             or any(f in t.__name__ for f in args.filter)]
    why = prerequisites(args.build)
    if why:
        for t in tests:
            print("skip %s: %s" % (t.__name__, "; ".join(why)))
        print("0 passed, 0 failed, %d skipped" % len(tests))
        return EXIT_SKIP
    attlsd = os.path.join(os.path.abspath(args.build), "attlsd")
    if not os.access(attlsd, os.X_OK):
        print("FAIL setup: %s not built (run make)" % attlsd)
        print("0 passed, 1 failed")
        return 1

    env = ENV = env_class(args.build, args.keep)
    env.expect_attlsd_death = False
    env.san_dir = sanitize_setup(env.name) if args.sanitize else None

    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)

    def on_alarm(sig, frame):
        raise TestTimeout("test timed out")

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    atexit.register(env.cleanup)

    passed = failed = skipped = 0
    t_start = time.monotonic()
    try:
        try:
            signal.alarm(120)
            env.setup()
            signal.alarm(0)
            setup_err = None
        except Exception as e:
            signal.alarm(0)
            setup_err = "%s: %s" % (type(e).__name__, e)
            if env.attlsd_log:
                setup_err += "\nattlsd log:\n" + tail(env.attlsd_log)
            print("# setup failed:")
            for line in setup_err.splitlines():
                print("#   | " + line)
        for t in tests:
            name = t.__name__
            if setup_err and name not in setup_exempt:
                print("FAIL %s: setup failed: %s" % (name, setup_err.splitlines()[0]))
                failed += 1
                continue
            if not setup_err and env.attlsd is not None and not env.attlsd_alive():
                if not restart_attlsd:
                    print("FAIL %s: attlsd is not running" % name)
                    failed += 1
                    continue
                info("attlsd is not running (exit %s): restarting it"
                     % env.attlsd.returncode)
                try:
                    env.start_attlsd()
                except Exception as e:
                    print("FAIL %s: attlsd cannot be restarted: %s" % (name, e))
                    failed += 1
                    continue
            log_off = os.path.getsize(env.attlsd_log) if env.attlsd_log and \
                os.path.exists(env.attlsd_log) else 0
            t0 = time.monotonic()
            signal.alarm(timeouts.get(name, default_timeout))
            try:
                t(env)
                signal.alarm(0)
                if (env.attlsd is not None and not env.attlsd_alive()
                        and not env.expect_attlsd_death):
                    raise TestFailure("attlsd died during the test (exit %s)"
                                      % env.attlsd.returncode)
                print("ok %s (%.1f s)" % (name, time.monotonic() - t0))
                passed += 1
            except Skip as e:
                signal.alarm(0)
                print("skip %s: %s" % (name, e))
                skipped += 1
            except (TestFailure, TestTimeout, Exception) as e:
                signal.alarm(0)
                msg = str(e) if isinstance(e, (TestFailure, TestTimeout)) else \
                    "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc())
                print("FAIL %s: %s" % (name, msg))
                if env.attlsd_log:
                    died = env.attlsd is not None and not env.attlsd_alive() \
                        and not env.expect_attlsd_death and not setup_err
                    print("#   attlsd log during the test%s:" % (
                        " (attlsd DIED, exit %s)" % env.attlsd.returncode if died else ""))
                    for line in tail(env.attlsd_log, log_off, 20).splitlines():
                        print("#   | " + line)
                failed += 1
            finally:
                env.expect_attlsd_death = False
    except KeyboardInterrupt as e:
        signal.alarm(0)
        print("FAIL interrupted: %s" % (e or "SIGINT"))
        failed += 1
    finally:
        signal.alarm(0)
        problems = env.cleanup()
        if problems:
            print("FAIL cleanup: " + "; ".join(problems))
            failed += 1
    info("total %.1f s" % (time.monotonic() - t_start))
    print("%d passed, %d failed%s" % (passed, failed,
                                      ", %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


def main():
    return run_suite(__doc__, Env, TESTS, TIMEOUTS)

if __name__ == "__main__":
    sys.exit(main())
