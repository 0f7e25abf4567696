#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""bench.py - attls against stunnel4, side by side, on this machine (issue 7).

    tests/bench/bench.py [--build .output] [--quick] [--reps N]
                         [--only NAME[,NAME]] [--no-write] [--keep] [-v]
                         [--md FILE] [--json FILE]
    tests/bench/bench.py --hold-env [--attlsd-wrap 'valgrind --tool=...']
        (profiling by hand: set everything up, print where, wait for ^C)

`make bench` runs it (BENCH_QUICK=1 adds --quick).  Needs root.  Each
scenario runs against attls and against stunnel (same certificate, TLS 1.3,
TLS_AES_128_GCM_SHA256, X25519) in the same run, alternating the order per
repetition; the report gives median, min-max and the ratio attls/stunnel of
the medians.  Results go to docs/benchmarks.md (between the
`bench:results` markers; the hand-written analysis around them is kept)
and docs/benchmarks.json (every raw number).

Everything is private to this run and named after its pid N:
    netns    attls-bN   lo up; 10.78.0.1 = the servers' address,
                        10.78.0.2-9 = client source addresses
    cgroups  <cgroup2>/attls-bN/{app,ref,proxy,load}
             app    the cleartext applications attls protects (attached)
             ref    the same applications behind stunnel / plain TCP
             proxy  attlsd or stunnel (CPU accounting)
             load   the load generators (outside the protected cgroup)
    pins     /sys/fs/bpf/attls-bN
    temp     /tmp/attls-bN-*
and removes all of it at exit, also on failure, SIGINT or SIGTERM; a killed
run's leftovers are swept by the next one.

Scenarios (names for --only): bulk, handshake, latency, memory, zert,
classify; and zertcpu (only when named: attlsd CPU per zERT record at a
fixed load, --reps runs).  See docs/benchmarks.md for what each measures.
"""
import argparse
import atexit
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SRV = "10.78.0.1"
CLIENTS = ["10.78.0.%d" % i for i in range(2, 10)]

P_BULK, P_ECHO, P_NORULE = 9601, 9602, 9603          # app cgroup
P_BULK_REF, P_ECHO_REF = 9611, 9612                  # ref cgroup
P_BULK_ST, P_ECHO_ST = 9621, 9622                    # stunnel
SUITE = "TLS_AES_128_GCM_SHA256"

_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
VERBOSE = False


class BenchError(Exception):
    pass


def log(msg):
    print("# " + msg, flush=True)


def debug(msg):
    if VERBOSE:
        print("#   " + msg, flush=True)


def _child_setup(sig):
    def fn():
        _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # 10,000 connections: two descriptors each in the proxy
        for lim in (1048576, 262144, 65536):
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
                break
            except (ValueError, OSError):
                continue
    return fn


def run(cmd, timeout=60, check=True, input=None):
    debug("run: " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if input is not None else
                         subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=_child_setup(signal.SIGKILL))
    try:
        out, err = p.communicate(input=input.encode() if input else None,
                                 timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise BenchError("timed out after %ss: %s\n%s" % (
            timeout, " ".join(cmd), err.decode(errors="replace")[-2000:]))
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
        raise
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    if check and p.returncode != 0:
        raise BenchError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                              (err or out).strip()[-2000:]))
    return out, err, p.returncode


def find_cgroup2():
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, typ = line.split()[:3]
            if typ == "cgroup2":
                return mnt.replace("\\040", " ")
    return None


def median(xs):
    return statistics.median(xs) if xs else None


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return {"median": None, "min": None, "max": None, "n": 0, "runs": []}
    return {"median": median(xs), "min": min(xs), "max": max(xs), "n": len(xs),
            "runs": xs}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


# ---------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.build = os.path.abspath(args.build)
        self.attlsd_bin = os.path.join(self.build, "attlsd")
        self.attlsctl_bin = os.path.join(self.build, "attlsctl")
        self.tool = os.path.join(self.build, "benchtool")
        self.name = "attls-b%d" % os.getpid()
        self.pin_root = "/sys/fs/bpf/" + self.name
        self.cg2 = find_cgroup2()
        self.cgroot = os.path.join(self.cg2, self.name) if self.cg2 else None
        self.tmp = None
        self.procs = []          # (Popen, what) we started
        self.attlsd = None
        self.attlsd_log = None
        self.stunnel = None
        self.netns_made = False
        self.cleaned = False
        self.results = {}

    # -- helpers -----------------------------------------------------------
    def ns(self, cmd):
        return ["nsenter", "--net=/run/netns/" + self.name] + list(cmd)

    def cg(self, group):
        return os.path.join(self.cgroot, group)

    def in_cg(self, group, cmd):
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"',
                os.path.join(self.cg(group), "cgroup.procs")] + self.ns(cmd)

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def spawn(self, group, cmd, what, log_path=None, sig=signal.SIGKILL,
              stdin=subprocess.DEVNULL):
        full = self.in_cg(group, cmd)
        debug("spawn [%s]: %s" % (group, " ".join(cmd)))
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        p = subprocess.Popen(full, stdin=stdin, stdout=out,
                             stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
                             start_new_session=True, preexec_fn=_child_setup(sig))
        if log_path:
            out.close()
        self.procs.append((p, what))
        return p

    def kill(self, p, sig=signal.SIGKILL, timeout=10):
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except OSError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
        self.procs = [(q, w) for (q, w) in self.procs if q is not p]

    def cpu_usec(self, group, key="usage_usec"):
        with open(os.path.join(self.cg(group), "cpu.stat")) as f:
            for line in f:
                k, v = line.split()
                if k == key:
                    return int(v)
        return 0

    def background_snapshot(self):
        """(busy CPU seconds of the whole machine, CPU seconds of our
        cgroups, wall time): their difference over a scenario is load
        that is not ours (other users of the machine)."""
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
        busy = (sum(v[:8]) - v[3] - v[4]) / hz
        with open(os.path.join(self.cgroot, "cpu.stat")) as f:
            ours = next(int(l.split()[1]) for l in f if l.startswith("usage_usec")) / 1e6
        return busy, ours, time.monotonic()

    def background_cpus(self, before):
        b1, o1, t1 = self.background_snapshot()
        b0, o0, t0 = before
        return max(0.0, ((b1 - b0) - (o1 - o0)) / max(t1 - t0, 1e-9))

    def cpu_snapshot(self):
        return {g: self.cpu_usec(g) for g in ("app", "ref", "proxy", "load")}

    def cpu_delta(self, before):
        now = self.cpu_snapshot()
        return {g: (now[g] - before[g]) / 1e6 for g in now}

    def client(self, args, timeout=120):
        out, err, rc = run(self.in_cg("load", [self.tool] + args), timeout=timeout,
                           check=False)
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise BenchError("benchtool %s: exit %d, no result: %s %s" % (
                " ".join(args), rc, out[-500:], err[-1500:]))
        if rc:
            raise BenchError("benchtool %s: exit %d: %s" % (" ".join(args), rc, err[-1500:]))
        debug("result: " + json.dumps(res))
        return res

    # -- setup -------------------------------------------------------------
    def sweep_stale(self):
        def dead(n):
            m = re.fullmatch(r"attls-b(\d+)", n)
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
                log("removing stale pins /sys/fs/bpf/" + n)
                run([self.attlsd_bin, "--cleanup", "--pin-root", "/sys/fs/bpf/" + n],
                    check=False)
        if os.path.isdir("/run/netns"):
            for n in os.listdir("/run/netns"):
                if dead(n):
                    log("removing stale netns " + n)
                    run(["ip", "netns", "del", n], check=False)
        for n in os.listdir(self.cg2):
            if dead(n):
                self.rm_cgroup_tree(os.path.join(self.cg2, n))
        tmp = tempfile.gettempdir()
        for n in os.listdir(tmp):
            m = re.fullmatch(r"(attls-b\d+)-\w+", n)
            if m and dead(m.group(1)):
                shutil.rmtree(os.path.join(tmp, n), ignore_errors=True)

    def rm_cgroup_tree(self, top):
        """Kill what is left in our cgroups (all of it is ours) and remove
        them, leaves first."""
        if not os.path.isdir(top):
            return True
        dirs = [d for d, _, _ in os.walk(top)]
        for d in sorted(dirs, key=len, reverse=True):
            for _ in range(100):
                try:
                    with open(os.path.join(d, "cgroup.procs")) as f:
                        pids = [int(x) for x in f.read().split()]
                except OSError:
                    pids = []
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        return not os.path.exists(top)

    def setup(self):
        if os.geteuid() != 0:
            raise BenchError("run as root (netns, cgroups, BPF)")
        for b in (self.attlsd_bin, self.attlsctl_bin, self.tool):
            if not os.access(b, os.X_OK):
                raise BenchError("%s not built (make all %s)" % (b, self.tool))
        for t in ("ip", "nsenter", "openssl", "stunnel4"):
            if not shutil.which(t):
                raise BenchError("%s not installed (make deps)" % t)
        if not self.cg2:
            raise BenchError("no cgroup v2 mount")
        self.tmp = tempfile.mkdtemp(prefix=self.name + "-")
        os.chmod(self.tmp, 0o755)
        self.sweep_stale()
        os.mkdir(self.cgroot)
        for g in ("app", "ref", "proxy", "load"):
            os.mkdir(self.cg(g))
        run(["ip", "netns", "add", self.name])
        self.netns_made = True
        run(self.ns(["ip", "link", "set", "lo", "up"]))
        for a in [SRV] + CLIENTS:
            run(self.ns(["ip", "addr", "add", a + "/32", "dev", "lo"]))
        # Per-netns knobs only (the host keeps its own): room for 10,000
        # connections plus their hops, and no TIME_WAIT port exhaustion
        # in the connect-rate runs.
        for k, v in (("net.ipv4.ip_local_port_range", "10000 65000"),
                     ("net.ipv4.tcp_tw_reuse", "1"),
                     ("net.core.somaxconn", "4096"),
                     ("net.ipv4.tcp_max_syn_backlog", "8192")):
            run(self.ns(["sysctl", "-q", "-w", "%s=%s" % (k, v)]), check=False)
        self.zert_dir = self.path("zert")
        os.mkdir(self.zert_dir)
        self.zert_file = os.path.join(self.zert_dir, "zert.ndjson")
        self.make_certs()
        self.write_policy("bench.policy", self.policy_text())
        self.write_stunnel_conf()

    def make_certs(self):
        d = self.path("pki")
        os.mkdir(d)
        ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        run(["openssl", "req", "-batch", "-x509"] + ec +
            ["-keyout", cakey, "-out", ca, "-days", "2", "-subj",
             "/O=attls bench/CN=attls bench CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign"])
        ring = self.path("keyrings", "bench", "ring")
        os.makedirs(ring)
        self.keyring_root = self.path("keyrings")
        self.key = os.path.join(ring, "default.key")
        self.cert = os.path.join(ring, "default.pem")
        csr = os.path.join(d, "srv.csr")
        run(["openssl", "req", "-batch"] + ec + ["-keyout", self.key, "-out", csr,
                                                 "-subj", "/O=attls bench/CN=attls-bench"])
        os.chmod(self.key, 0o600)
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=IP:%s,DNS:attls-bench\n" % SRV)
        run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
             "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext,
             "-out", self.cert])

    def policy_text(self, filler=0, bench_rule=True):
        """The bench policy: one rule protecting P_BULK..P_ECHO, and
        `filler` rules on ports 20000.. that no benchmark connection
        matches (classification cost)."""
        out = ["# attls bench policy (generated by tests/bench/bench.py)"]
        if bench_rule:
            out.append("""TTLSRule BenchTLS
{
  LocalPortRange %d-%d
  Direction Inbound
  Priority 100
  TTLSGroupActionRef grpOn
  TTLSEnvironmentActionRef envBench
}""" % (P_BULK, P_ECHO))
        for i in range(filler):
            out.append("""TTLSRule Filler%04d
{
  LocalPortRange %d
  Direction Inbound
  Priority 50
  TTLSGroupActionRef grpOn
  TTLSEnvironmentActionRef envBench
}""" % (i, 20000 + i))
        out.append("""TTLSGroupAction grpOn
{
  TTLSEnabled On
}
TTLSEnvironmentAction envBench
{
  HandshakeRole Server
  TTLSKeyringParms
  {
    Keyring bench/ring
  }
  TTLSEnvironmentAdvancedParms
  {
    TLSv1.2 Off
    TLSv1.3 On
  }
  TTLSCipherParms
  {
    V3CipherSuites %s
  }
}
""" % SUITE)
        return "\n".join(out)

    def write_policy(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def write_stunnel_conf(self):
        self.stunnel_conf = self.path("stunnel.conf")
        self.stunnel_log = self.path("stunnel.log")
        services = ""
        for name, acc, con in (("bulk", P_BULK_ST, P_BULK_REF),
                               ("echo", P_ECHO_ST, P_ECHO_REF)):
            services += """
[%s]
accept = %s:%d
connect = %s:%d
""" % (name, SRV, acc, SRV, con)
        with open(self.stunnel_conf, "w") as f:
            f.write("""; stunnel4 baseline of tests/bench/bench.py: the same certificate,
; protocol, suite and group as the attls environment.
foreground = yes
pid =
syslog = no
output = %s
debug = 3
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
cert = %s
key = %s
sslVersionMin = TLSv1.3
sslVersionMax = TLSv1.3
ciphersuites = %s
curves = X25519
%s""" % (self.stunnel_log, self.cert, self.key, SUITE, services))

    # -- processes ----------------------------------------------------------
    def start_server(self, group, port, mode, extra=()):
        ready = self.path("ready.%d" % port)
        if os.path.exists(ready):
            os.unlink(ready)
        p = self.spawn(group, [self.tool, "server", "--listen", "%s:%d" % (SRV, port),
                               "--mode", mode, "--ready", ready] + list(extra),
                       "server %d" % port, log_path=self.path("server.%d.log" % port))
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if p.poll() is not None or time.monotonic() > deadline:
                raise BenchError("server %d did not start: %s" % (
                    port, open(self.path("server.%d.log" % port)).read()[-500:]))
            time.sleep(0.02)
        time.sleep(0.02)
        return p

    def start_attlsd(self, policy):
        if self.attlsd_log is None:
            self.attlsd_log = self.path("attlsd.log")
        off = os.path.getsize(self.attlsd_log) if os.path.exists(self.attlsd_log) else 0
        cmd = [self.attlsd_bin, "-f", policy, "--cgroup", self.cg("app"),
               "--keyring-root", self.keyring_root, "--zert-dir", self.zert_dir,
               "--pin-root", self.pin_root,
               # zert_scan() counts records in zert.ndjson only: at the
               # default 64M a saturating run rotates it mid-run and the
               # records in the rotated files went uncounted
               "--zert-max-size", "16G"]
        if self.args.threads:
            cmd += ["--threads", str(self.args.threads)]
        if self.args.attlsd_wrap:
            # profiling by hand, e.g. "valgrind --tool=callgrind --callgrind-out-file=F"
            cmd = self.args.attlsd_wrap.split() + cmd
        # SIGTERM if we die: attlsd then detaches and unpins
        self.attlsd = self.spawn("proxy", cmd, "attlsd", log_path=self.attlsd_log,
                                 sig=signal.SIGTERM)
        deadline = time.monotonic() + 60
        while True:
            with open(self.attlsd_log, "rb") as f:
                f.seek(off)
                if b"ready:" in f.read():
                    break
            if self.attlsd.poll() is not None or time.monotonic() > deadline:
                with open(self.attlsd_log, "rb") as f:
                    f.seek(off)
                    raise BenchError("attlsd did not start:\n" +
                                     f.read().decode(errors="replace")[-2000:])
            time.sleep(0.05)
        self.attlsd_pid = self.find_pid("proxy", "attlsd" if not self.args.attlsd_wrap
                                        else "")

    def stop_attlsd(self):
        if self.attlsd is None:
            return
        self.kill(self.attlsd, signal.SIGTERM, timeout=20)
        self.attlsd = None
        run([self.attlsd_bin, "--cleanup", "--pin-root", self.pin_root], check=False)

    def start_stunnel(self):
        self.stunnel = self.spawn("proxy", ["stunnel4", self.stunnel_conf], "stunnel",
                                  log_path=self.path("stunnel.out"))
        deadline = time.monotonic() + 20
        while True:
            out, _, rc = run(self.ns(["ss", "-Hltn", "sport = :%d" % P_ECHO_ST]),
                             check=False)
            if "LISTEN" in out:
                break
            if self.stunnel.poll() is not None or time.monotonic() > deadline:
                raise BenchError("stunnel did not start: %s" % open(
                    self.path("stunnel.out")).read()[-1000:])
            time.sleep(0.05)
        self.stunnel_pid = self.find_pid("proxy", "stunnel")

    def stop_stunnel(self):
        if self.stunnel is not None:
            self.kill(self.stunnel, signal.SIGTERM)
            self.stunnel = None

    def find_pid(self, group, comm):
        with open(os.path.join(self.cg(group), "cgroup.procs")) as f:
            for pid in f.read().split():
                try:
                    with open("/proc/%s/comm" % pid) as c:
                        name = c.read().strip()
                    if name.startswith(comm) if comm else not name.startswith("stunnel"):
                        return int(pid)
                except OSError:
                    continue
        raise BenchError("no %s process in cgroup %s" % (comm, group))

    def rss_kib(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def threads_of(self, pid):
        try:
            return len(os.listdir("/proc/%d/task" % pid))
        except OSError:
            return 0

    def stats(self):
        out, err, rc = run([self.attlsctl_bin, "-j", "--pin-root", self.pin_root, "status"],
                           check=False)
        try:
            return json.loads(out)
        except ValueError:
            raise BenchError("attlsctl status: %s %s" % (out[-500:], err[-500:]))

    def rb_dropped(self):
        st = self.stats()
        found = []

        def walk(o):
            if isinstance(o, dict):
                for k, v in o.items():
                    if k == "ringbuf_reserve_failed":
                        found.append(v)
                    walk(v)
            elif isinstance(o, list):
                for v in o:
                    walk(v)
        walk(st)
        if not found:
            raise BenchError("attlsctl status has no ringbuf_reserve_failed: %s"
                             % json.dumps(st)[:500])
        return int(found[0])

    # -- cleanup ------------------------------------------------------------
    def cleanup(self):
        if self.cleaned:
            return []
        self.cleaned = True
        problems = []
        # attlsd first, orderly (it detaches and unpins)
        if self.attlsd is not None and self.attlsd.poll() is None:
            self.kill(self.attlsd, signal.SIGTERM, timeout=20)
        for p, what in list(self.procs):
            self.kill(p)
        if os.path.exists(self.attlsd_bin) and os.path.exists(self.pin_root):
            try:
                run([self.attlsd_bin, "--cleanup", "--pin-root", self.pin_root],
                    check=False)
            except BenchError as e:
                problems.append(str(e))
        if self.cgroot and not self.rm_cgroup_tree(self.cgroot):
            problems.append("cannot remove cgroup %s" % self.cgroot)
        if self.netns_made:
            try:
                _, err, rc = run(["ip", "netns", "del", self.name], check=False)
                if rc:
                    problems.append("ip netns del: " + err.strip())
            except BenchError as e:
                problems.append(str(e))
        pidfile = "/run/attls/%s.pid" % self.name
        if os.path.exists(pidfile):
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        if os.path.exists(self.pin_root):
            problems.append("%s still exists" % self.pin_root)
        if os.path.exists("/run/netns/" + self.name):
            problems.append("netns %s still exists" % self.name)
        if self.tmp and not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            log("kept " + self.tmp)
        return problems

    # -- scenarios ----------------------------------------------------------
    def order(self, rep):
        return ("attls", "stunnel") if rep % 2 == 0 else ("stunnel", "attls")

    def proxy_pid(self, who):
        return self.attlsd_pid if who == "attls" else self.stunnel_pid

    def sc_bulk(self):
        nbytes = (128 if self.quick else 1024) * 1024 * 1024
        reps = self.reps
        log("bulk: %d MiB each way through one connection, %d repetitions"
            % (nbytes >> 20, reps))
        ports = {"attls": P_BULK, "stunnel": P_BULK_ST, "plain": P_BULK_REF}
        runs = {k: [] for k in ports}
        cpu = {k: [] for k in ports}
        for rep in range(reps):
            for who in self.order(rep) + ("plain",):
                before = self.cpu_snapshot()
                args = ["bulk", "--connect", "%s:%d" % (SRV, ports[who]),
                        "--bytes", str(nbytes)]
                if who != "plain":
                    args.append("--tls")
                r = self.client(args, timeout=600)
                d = self.cpu_delta(before)
                r["cpu_s"] = d
                runs[who].append(r)
                gib = nbytes / 2 ** 30
                cpu[who].append(d["proxy"] / gib if who != "plain" else None)
                log("  %-7s %8.1f MiB/s each way  (proxy CPU %.2f s, client %.2f s, "
                    "app %.2f s)" % (who, r["mib_s_each_way"], d["proxy"], d["load"],
                                     d["app"] + d["ref"]))
        # the ceiling: one core's AES-128-GCM on 16 KiB blocks
        secs = "1" if self.quick else "3"
        out, _, _ = run(["openssl", "speed", "-evp", "aes-128-gcm", "-bytes", "16384",
                         "-seconds", secs], timeout=120)
        m = re.search(r"^AES-128-GCM\s+([\d.]+)k", out, re.M)
        aes_kbs = float(m.group(1)) if m else None
        aes_mib = aes_kbs * 1000 / 2 ** 20 if aes_kbs else None
        res = {
            "bytes_each_way": nbytes,
            "mib_s_each_way": {k: summary([r["mib_s_each_way"] for r in v])
                               for k, v in runs.items()},
            "proxy_cpu_s_per_gib_each_way": {k: summary(cpu[k]) for k in ("attls", "stunnel")},
            "openssl_speed_aes128gcm_16k_mib_s": aes_mib,
            "raw": runs,
        }
        a = res["mib_s_each_way"]["attls"]["median"]
        s = res["mib_s_each_way"]["stunnel"]["median"]
        res["ratio_attls_stunnel"] = ratio(a, s)
        res["ratio_attls_plain"] = ratio(a, res["mib_s_each_way"]["plain"]["median"])
        res["fraction_of_aes_core_each_way"] = ratio(a, aes_mib)
        res["fraction_of_aes_core_both_ways"] = ratio(2 * a, aes_mib) if a else None
        log("  openssl speed aes-128-gcm 16 KiB: %.0f MiB/s; attls/stunnel %.2f"
            % (aes_mib or 0, res["ratio_attls_stunnel"] or 0))
        self.results["bulk"] = res

    def sc_handshake(self):
        # shorter runs, more of them: finer alternation against the load
        # other users put on a shared machine
        secs = 1.5 if self.quick else 2.5
        conns, threads = self.args.hs_conns, self.args.hs_threads
        reps = self.reps if self.quick else max(self.reps, 8)
        ports = {"attls": P_ECHO, "stunnel": P_ECHO_ST}
        res = {"seconds": secs, "parallel": conns, "client_threads": threads,
               "repetitions": reps}
        for mode in ("full", "resumed"):
            log("handshakes (%s): %d parallel connections, %d client thread(s), "
                "%.1f s x %d" % (mode, conns, threads, secs, reps))
            runs = {k: [] for k in ports}
            for rep in range(reps):
                for who in self.order(rep):
                    before = self.cpu_snapshot()
                    args = ["hs", "--connect", "%s:%d" % (SRV, ports[who]),
                            "--conns", str(conns), "--threads", str(threads),
                            "--seconds", str(secs), "--warmup", "0.5",
                            "--bind", ",".join(CLIENTS)]
                    if mode == "resumed":
                        args.append("--resume")
                    r = self.client(args, timeout=120)
                    d = self.cpu_delta(before)
                    r["cpu_s"] = d
                    n = r["handshakes"] or 1
                    r["proxy_cpu_us_per_hs"] = d["proxy"] * 1e6 / n * secs / (secs + 0.5)
                    runs[who].append(r)
                    bad = r["errors"] + r["connect_errors"]
                    log("  %-7s %8.0f /s  resumed %5.1f%%  errors %d%s  (proxy CPU %.0f us/hs)"
                        % (who, r["rate"], 100.0 * r["resumed"] / n, bad,
                           " (" + r["first_error"] + ")" if bad else "",
                           r["proxy_cpu_us_per_hs"]))
            m = {k: summary([r["rate"] for r in v]) for k, v in runs.items()}
            res[mode] = {
                "rate": m,
                "proxy_cpu_us_per_handshake": {
                    k: summary([r["proxy_cpu_us_per_hs"] for r in v]) for k, v in runs.items()},
                "ratio_attls_stunnel": ratio(m["attls"]["median"], m["stunnel"]["median"]),
                "raw": runs,
            }
            log("  %s: attls/stunnel %.2f" % (mode, res[mode]["ratio_attls_stunnel"] or 0))
        self.results["handshake"] = res

    def sc_latency(self):
        count = 3000 if self.quick else 20000
        reps = self.reps
        targets = {"plain": "%s:%d" % (SRV, P_ECHO_REF),
                   "attls": "%s:%d,tls" % (SRV, P_ECHO),
                   "stunnel": "%s:%d,tls" % (SRV, P_ECHO_ST)}
        log("latency: 1 KiB request/response on warm connections, plain TCP, attls and "
            "stunnel interleaved round trip by round trip, %d each x %d" % (count, reps))
        runs = {k: [] for k in targets}
        names = list(targets)
        for rep in range(reps):
            order = names[rep % 3:] + names[:rep % 3]
            args = ["latmix", "--size", "1024", "--count", str(count),
                    "--warmup", str(count // 10)]
            for who in order:
                args += ["--target", "%s=%s" % (who, targets[who])]
            r = self.client(args)
            for who in names:
                runs[who].append(r[who])
            log("  p50 plain %.1f, attls %.1f, stunnel %.1f us; p99 %.1f, %.1f, %.1f us" % (
                r["plain"]["p50_us"], r["attls"]["p50_us"], r["stunnel"]["p50_us"],
                r["plain"]["p99_us"], r["attls"]["p99_us"], r["stunnel"]["p99_us"]))
        res = {"count": count, "size": 1024, "interleaved": True, "raw": runs}
        for q in ("p50_us", "p99_us", "mean_us"):
            res[q] = {k: summary([r[q] for r in v]) for k, v in runs.items()}
            # added latency: the same interleaved run's plain TCP
            for who in ("attls", "stunnel"):
                res[q]["added_" + who] = summary(
                    [a[q] - p[q] for a, p in zip(runs[who], runs["plain"])])
            res[q]["ratio_added_attls_stunnel"] = ratio(
                res[q]["added_attls"]["median"], res[q]["added_stunnel"]["median"])
        log("  added p50: attls %.1f us, stunnel %.1f us, ratio %.2f" % (
            res["p50_us"]["added_attls"]["median"], res["p50_us"]["added_stunnel"]["median"],
            res["p50_us"]["ratio_added_attls_stunnel"] or 0))
        self.results["latency"] = res

    def sc_memory(self):
        n = 1000 if self.quick else 10000
        # Each protected connection takes two descriptors in the proxy
        # (wire + hop).  Raising RLIMIT_NOFILE needs CAP_SYS_RESOURCE: where
        # the hard limit cannot be raised, stay below it (reported).
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        limited = hard != resource.RLIM_INFINITY and 2 * n + 200 > hard
        if limited:
            n = (hard - 200) // 2
        log("memory: %d idle TLS connections%s" % (
            n, " (RLIMIT_NOFILE hard limit %d, cannot be raised here)" % hard
            if limited else ""))
        res = {"connections": n, "rlimit_nofile": hard, "limited_by_rlimit": limited}
        ports = {"attls": P_ECHO, "stunnel": P_ECHO_ST}
        for who in ("attls", "stunnel"):
            pid = self.proxy_pid(who)
            # warm: contexts, arenas and OpenSSL's lazy init are not per connection
            self.client(["hs", "--connect", "%s:%d" % (SRV, ports[who]), "--conns", "16",
                         "--seconds", "0.5", "--warmup", "0", "--bind", ",".join(CLIENTS)])
            time.sleep(0.5)
            rss0 = self.rss_kib(pid)
            thr0 = self.threads_of(pid)
            out_path = self.path("hold.%s.out" % who)
            with open(out_path, "wb") as out:
                p = subprocess.Popen(
                    self.in_cg("load", [self.tool, "hold", "--connect",
                                        "%s:%d" % (SRV, ports[who]), "--conns", str(n),
                                        "--parallel", "64", "--bind", ",".join(CLIENTS)]),
                    stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=_child_setup(signal.SIGKILL))
                self.procs.append((p, "hold"))
            try:
                deadline = time.monotonic() + 300
                line = None
                while time.monotonic() < deadline:
                    with open(out_path) as f:
                        txt = f.read()
                    if txt.strip():
                        line = txt.strip().splitlines()[0]
                        break
                    if p.poll() is not None:
                        raise BenchError("hold exited: " + txt[-1000:])
                    time.sleep(0.2)
                if line is None:
                    raise BenchError("hold: no connections after 300 s")
                hold = json.loads(line)
                time.sleep(1.0)
                rss1 = self.rss_kib(pid)
                thr1 = self.threads_of(pid)
                per = (rss1 - rss0) / max(hold["open"], 1)
                res[who] = {"rss_before_kib": rss0, "rss_after_kib": rss1,
                            "threads_before": thr0, "threads_after": thr1,
                            "open": hold["open"], "failed": hold["failed"],
                            "setup_s": hold["seconds"], "kib_per_conn": per,
                            "first_error": hold.get("first_error")}
                log("  %-7s %d open (%d failed%s) in %.1f s: RSS %d -> %d KiB = %.2f KiB "
                    "per connection; threads %d -> %d" % (
                        who, hold["open"], hold["failed"],
                        ": " + hold["first_error"] if hold["failed"] else "",
                        hold["seconds"], rss0, rss1, per, thr0, thr1))
            finally:
                try:
                    p.stdin.close()
                except OSError:
                    pass
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    pass
                self.kill(p)
            # let the proxy close the connections before the next run
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                out, _, _ = run(self.ns(["ss", "-Htn", "state", "established"]), check=False)
                if len(out.splitlines()) < 50:
                    break
                time.sleep(0.5)
            time.sleep(1)
            res[who]["rss_after_close_kib"] = self.rss_kib(pid)
        self.results["memory"] = res

    def zert_scan(self, offset):
        """(records, distinct connection ids) in zert.ndjson after byte
        `offset`, and the new offset (complete lines only)."""
        try:
            with open(self.zert_file, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return 0, set(), offset
        end = data.rfind(b"\n") + 1
        data = data[:end]
        ids = set(re.findall(rb'"conn_id":\s*"([^"]+)"', data))
        return data.count(b"\n"), ids, offset + end

    def zert_size(self):
        try:
            return os.path.getsize(self.zert_file)
        except FileNotFoundError:
            return 0

    def zert_drain(self, offset, timeout=60, quiet=2.0):
        """Once the file has not grown for `quiet` s (the collector may
        hold a record back while it observes the connection): (records,
        connection ids, monotonic time of the last growth)."""
        last, t_last = -1, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.zert_size()
            if n != last:
                last, t_last = n, time.monotonic()
            elif time.monotonic() - t_last > quiet:
                break
            time.sleep(0.02)
        recs, ids, _ = self.zert_scan(offset)
        return recs, ids, t_last

    def sc_zert(self):
        secs = 2 if self.quick else 5
        log("zERT: connections to a cgroup listener with no rule, %d s per run" % secs)
        res = {"seconds": secs}
        runs = []
        # 1. a moderate offered rate tells how many records a connection
        # makes (the collector may write init+term or one short record);
        # 2. an offered rate of 24,000 records/s (20 % above the target);
        # 3. saturation.
        plan = [("10k_conn_s", 10000), ("24k_records_s", None), ("max", 0)]
        if self.quick:
            plan = [plan[0], plan[2]]
        rpc = 2.0
        for label, rate in plan:
            if rate is None:
                rate = int(min(30000, 24000 / max(rpc, 0.5)))
            drop0 = self.rb_dropped()
            off0 = self.zert_size()
            before = self.cpu_snapshot()
            args = ["conn", "--connect", "%s:%d" % (SRV, P_NORULE), "--conns", "64",
                    "--seconds", str(secs), "--warmup", "0", "--bind", ",".join(CLIENTS)]
            if rate:
                args += ["--rate", str(rate)]
            t0 = time.monotonic()
            r = self.client(args)
            t_load = time.monotonic() - t0
            at_end = self.zert_size()
            recs, ids, t_last = self.zert_drain(off0)
            d = self.cpu_delta(before)
            drops = self.rb_dropped() - drop0
            if label == "10k_conn_s" and r["started"]:
                rpc = recs / r["started"]
            span = max(t_last - t0, t_load)
            one = {"offered_conn_s": rate or None, "conn_rate": r["rate"],
                   "calibration": label == "10k_conn_s",
                   "connections": r["started"], "records": recs,
                   "connections_recorded": len(ids),
                   "records_per_connection": recs / max(r["started"], 1),
                   "records_s": recs / span, "load_s": t_load,
                   "bytes_behind_at_load_end": self.zert_size() - at_end,
                   "drain_s": max(t_last - t0 - t_load, 0.0),
                   "ringbuf_drops": drops, "attlsd_cpu_s": d["proxy"],
                   "attlsd_cpu_us_per_record": d["proxy"] * 1e6 / max(recs, 1)}
            runs.append((label, one))
            log("  %-13s %6.0f conn/s -> %d records (%.2f per connection, %d of %d connections "
                "recorded) in %.2f s = %.0f records/s; ringbuf drops %d; attlsd %.1f us "
                "CPU/record" % (label, r["rate"], recs, one["records_per_connection"], len(ids),
                                r["started"], span, one["records_s"], drops,
                                one["attlsd_cpu_us_per_record"]))
        res["runs"] = dict(runs)
        ok = [o["records_s"] for _, o in runs if o["ringbuf_drops"] == 0 and
              o["connections_recorded"] >= o["connections"]]
        res["all_connections_recorded"] = all(
            o["connections_recorded"] >= o["connections"] for _, o in runs)
        res["ringbuf_drops"] = sum(o["ringbuf_drops"] for _, o in runs)
        res["max_records_s_without_drops"] = max(ok) if ok else None
        self.results["zert"] = res

    def sc_zertcpu(self):
        """attlsd CPU (user and system, from the proxy cgroup's cpu.stat)
        per zERT record at a fixed, unsaturating load: short plaintext
        connections to the no-rule listener, one record each.  CPU time,
        not throughput, so other work on the machine disturbs it little."""
        secs, rate = (2, 4000) if self.quick else (4, 6000)
        log("zERT CPU per record: %d conn/s for %d s to the no-rule listener, %d runs" % (
            rate, secs, self.reps))
        if self.attlsd is None:      # classify stops it
            self.start_attlsd(self.path("bench.policy"))
        runs = []
        for rep in range(self.reps):
            off0 = self.zert_size()
            u0 = self.cpu_usec("proxy", "user_usec")
            s0 = self.cpu_usec("proxy", "system_usec")
            r = self.client(["conn", "--connect", "%s:%d" % (SRV, P_NORULE), "--conns", "64",
                             "--seconds", str(secs), "--warmup", "0", "--rate", str(rate),
                             "--bind", ",".join(CLIENTS)])
            recs, ids, _ = self.zert_drain(off0)
            u = self.cpu_usec("proxy", "user_usec") - u0
            s = self.cpu_usec("proxy", "system_usec") - s0
            one = {"connections": r["started"], "records": recs,
                   "connections_recorded": len(ids),
                   "user_us_per_record": u / max(recs, 1),
                   "system_us_per_record": s / max(recs, 1),
                   "us_per_record": (u + s) / max(recs, 1)}
            runs.append(one)
            log("  run %d: %d connections, %d records (%d connections recorded); attlsd "
                "%.2f us CPU/record (user %.2f, system %.2f)" % (
                    rep + 1, r["started"], recs, len(ids), one["us_per_record"],
                    one["user_us_per_record"], one["system_us_per_record"]))
        res = {"rate": rate, "seconds": secs, "runs": runs}
        for k in ("us_per_record", "user_us_per_record", "system_us_per_record"):
            res[k] = summary([o[k] for o in runs])
        res["all_connections_recorded"] = all(
            o["connections_recorded"] >= o["connections"] for o in runs)
        log("  median %.2f us CPU/record (user %.2f, system %.2f)" % (
            res["us_per_record"]["median"], res["user_us_per_record"]["median"],
            res["system_us_per_record"]["median"]))
        self.results["zertcpu"] = res

    def sc_classify(self):
        secs = 1.5 if self.quick else 3
        reps = self.reps
        log("classification: connect+accept rate to a cgroup listener no rule matches, "
            "%.1f s x %d" % (secs, reps))
        pols = {"rules10": self.write_policy("rules10.policy",
                                             self.policy_text(filler=10, bench_rule=False)),
                "rules1000": self.write_policy("rules1000.policy",
                                               self.policy_text(filler=1000, bench_rule=False))}
        runs = {"none": [], "rules10": [], "rules1000": []}
        cpu = {k: [] for k in runs}
        self.stop_attlsd()
        for rep in range(reps):
            order = ["none", "rules10", "rules1000"]
            if rep % 2:
                order.reverse()
            for cfg in order:
                if cfg != "none":
                    self.start_attlsd(pols[cfg])
                before = self.cpu_snapshot()
                r = self.client(["conn", "--connect", "%s:%d" % (SRV, P_NORULE),
                                 "--conns", "64", "--seconds", str(secs), "--warmup", "0.3",
                                 "--bind", ",".join(CLIENTS)])
                d = self.cpu_delta(before)
                runs[cfg].append(r)
                cpu[cfg].append(d["proxy"])
                if cfg != "none":
                    self.stop_attlsd()
                log("  %-9s %8.0f conn/s  errors %d  (attlsd CPU %.2f s)" % (
                    cfg, r["rate"], r["errors"], d["proxy"]))
        m = {k: summary([r["rate"] for r in v]) for k, v in runs.items()}
        res = {"seconds": secs, "rate": m, "attlsd_cpu_s": {k: summary(v) for k, v in cpu.items()},
               "ratio_rules10_none": ratio(m["rules10"]["median"], m["none"]["median"]),
               "ratio_rules1000_none": ratio(m["rules1000"]["median"], m["none"]["median"]),
               "ratio_rules1000_rules10": ratio(m["rules1000"]["median"], m["rules10"]["median"]),
               "raw": runs}
        log("  1000 rules / none %.3f, 10 rules / none %.3f" % (
            res["ratio_rules1000_none"] or 0, res["ratio_rules10_none"] or 0))
        self.results["classify"] = res

    # -- the run ------------------------------------------------------------
    def run(self):
        self.reps = self.args.reps or (2 if self.quick else 5)
        only = set(self.args.only.split(",")) if self.args.only else None
        want = lambda n: only is None or n in only
        self.setup()
        self.start_server("app", P_BULK, "duplex", ["--bytes", str(
            (128 if self.quick else 1024) * 1024 * 1024)])
        self.start_server("app", P_ECHO, "echo")
        self.start_server("app", P_NORULE, "accept")
        self.start_server("ref", P_BULK_REF, "duplex", ["--bytes", str(
            (128 if self.quick else 1024) * 1024 * 1024)])
        self.start_server("ref", P_ECHO_REF, "echo")
        self.start_attlsd(self.path("bench.policy"))
        self.start_stunnel()
        if self.args.hold_env:
            log("environment up (--hold-env): netns %s, cgroups %s, attlsd pid %d, "
                "stunnel pid %d, benchtool %s; SIGTERM/Ctrl-C ends it" % (
                    self.name, self.cgroot, self.attlsd_pid, self.stunnel_pid, self.tool))
            with open(self.path("env.json"), "w") as f:
                json.dump({"netns": self.name, "cgroot": self.cgroot,
                           "attlsd_pid": self.attlsd_pid, "stunnel_pid": self.stunnel_pid,
                           "tmp": self.tmp, "pin_root": self.pin_root}, f)
            log("env: " + self.path("env.json"))
            while True:
                time.sleep(3600)
        t0 = time.monotonic()
        self.results["timing_s"] = {}
        self.results["background_cpus"] = {}
        bg = self.background_snapshot()
        time.sleep(1)
        self.results["background_cpus"]["before"] = round(self.background_cpus(bg), 2)
        if self.results["background_cpus"]["before"] > 0.1:
            log("WARNING: %.2f CPUs busy with other work before the run: numbers will be "
                "noisy" % self.results["background_cpus"]["before"])
        for name in ("bulk", "handshake", "latency", "memory", "zert", "classify", "zertcpu"):
            if not want(name) or (name == "zertcpu" and not only):
                continue
            t = time.monotonic()
            bg = self.background_snapshot()
            getattr(self, "sc_" + name)()
            self.results["timing_s"][name] = round(time.monotonic() - t, 1)
            other = round(self.background_cpus(bg), 2)
            self.results["background_cpus"][name] = other
            if other > 0.1:
                log("WARNING: other work used %.2f CPUs during %s" % (other, name))
        self.results["timing_s"]["total"] = round(time.monotonic() - t0, 1)


# ---------------------------------------------------------------------------
# report

def machine_info(bench):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def cmd_out(c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    commit = cmd_out(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"])
    dirty = cmd_out(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no",
                     "user", "bpf", "policy", "cli"])
    dirty_files = sorted(l.split(None, 1)[1] for l in dirty.splitlines() if l.strip())
    st = subprocess.run(["stunnel4", "-version"], capture_output=True, text=True)
    stv = re.search(r"stunnel (\S+)", st.stdout + st.stderr)
    return {
        "cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + ("-dirty" if dirty else ""),
        "uncommitted": dirty_files,
        "openssl": cmd_out(["openssl", "version"]),
        "stunnel": stv.group(1) if stv else "?",
        "attlsd_threads": bench.args.threads or "default (one per CPU)",
        "quick": bench.quick, "repetitions": bench.reps,
    }


def fmt(x, f="%.0f"):
    return "n/a" if x is None else f % x


def fmt_s(s, f="%.0f"):
    if not s or s.get("median") is None:
        return "n/a"
    return "%s (%s–%s)" % (fmt(s["median"], f), fmt(s["min"], f), fmt(s["max"], f))


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**short**")


def render(info, R):
    L = []
    L.append("Machine: %s, %d vCPUs, kernel %s; %s; stunnel %s. Run %s, commit %s%s%s; "
             "%d repetitions per number, alternating attls/stunnel; median (min–max)."
             % (info["cpu"], info["cpus"], info["kernel"], info["openssl"], info["stunnel"],
                info["date"], info["commit"],
                " (uncommitted: %s)" % ", ".join(info["uncommitted"]) if info.get("uncommitted")
                else "", " (QUICK smoke run)" if info["quick"] else "", info["repetitions"]))
    L.append("")
    L.append("| scenario | attls | stunnel | attls/stunnel | target | |")
    L.append("|---|---|---|---|---|---|")
    b = R.get("bulk")
    if b:
        m = b["mib_s_each_way"]
        L.append("| bulk, 1 connection, MiB/s each way (%d MiB each way) | %s | %s | %.2f | ≥ 1.5 | %s |"
                 % (b["bytes_each_way"] >> 20, fmt_s(m["attls"]), fmt_s(m["stunnel"]),
                    b["ratio_attls_stunnel"] or 0,
                    verdict(b["ratio_attls_stunnel"] and b["ratio_attls_stunnel"] >= 1.5)))
        fr = b["fraction_of_aes_core_each_way"]
        L.append("| bulk vs one core's AES-128-GCM (%s MiB/s, `openssl speed`, 16 KiB) | %s each way, %s both ways | | | ≥ 40%% | %s |"
                 % (fmt(b["openssl_speed_aes128gcm_16k_mib_s"]), fmt(fr and fr * 100, "%.0f%%"),
                    fmt(b["fraction_of_aes_core_both_ways"] and b["fraction_of_aes_core_both_ways"] * 100, "%.0f%%"),
                    verdict(fr and fr >= 0.4)))
        L.append("| plain loopback TCP, MiB/s each way | %s | | | | |" % fmt_s(m["plain"]))
        c = b["proxy_cpu_s_per_gib_each_way"]
        L.append("| bulk: proxy CPU s per GiB each way | %s | %s | %s | | |" % (
            fmt_s(c["attls"], "%.2f"), fmt_s(c["stunnel"], "%.2f"),
            fmt(ratio(c["attls"]["median"], c["stunnel"]["median"]), "%.2f")))
    h = R.get("handshake")
    if h:
        for mode, tgt in (("full", 1.2), ("resumed", None)):
            m = h[mode]["rate"]
            rt = h[mode]["ratio_attls_stunnel"]
            L.append("| TLS 1.3 %s handshakes/s (ECDSA P-256, %d parallel; %s runs) | %s | %s | %.2f | %s | %s |" % (
                "full" if mode == "full" else "resumed (ticket)", h["parallel"],
                h.get("repetitions", "?"),
                fmt_s(m["attls"]), fmt_s(m["stunnel"]), rt or 0,
                "≥ 1.2" if tgt else "", verdict(rt and rt >= tgt) if tgt else ""))
            c = h[mode]["proxy_cpu_us_per_handshake"]
            L.append("| %s handshake: proxy CPU µs per handshake | %s | %s | %s | | |" % (
                mode, fmt_s(c["attls"]), fmt_s(c["stunnel"]),
                fmt(ratio(c["attls"]["median"], c["stunnel"]["median"]), "%.2f")))
    la = R.get("latency")
    if la:
        for q in ("p50_us", "p99_us"):
            s = la[q]
            rt = s["ratio_added_attls_stunnel"]
            L.append("| 1 KiB request/response %s µs (plain TCP %s) | %s | %s | | | |" % (
                q[:3], fmt_s(s["plain"], "%.1f"), fmt_s(s["attls"], "%.1f"),
                fmt_s(s["stunnel"], "%.1f")))
            L.append("| latency added to plain TCP, %s µs | %s | %s | %.2f | ≤ 0.7 | %s |" % (
                q[:3], fmt_s(s["added_attls"], "%.1f"), fmt_s(s["added_stunnel"], "%.1f"),
                rt or 0, verdict(rt is not None and rt <= 0.7) if q == "p50_us" else
                ("(p99: %s)" % verdict(rt is not None and rt <= 0.7))))
    c = R.get("classify")
    if c:
        m = c["rate"]
        L.append("| connect+accept/s, no rule matches: no programs | %s | | | | |" % fmt_s(m["none"]))
        L.append("| … attlsd, 10 rules | %s = %.1f%% | | | | |" % (
            fmt_s(m["rules10"]), 100 * (c["ratio_rules10_none"] or 0)))
        L.append("| … attlsd, 1,000 rules | %s = %.1f%% | | | ≥ 97%% | %s |" % (
            fmt_s(m["rules1000"]), 100 * (c["ratio_rules1000_none"] or 0),
            verdict(c["ratio_rules1000_none"] and c["ratio_rules1000_none"] >= 0.97)))
        L.append("| … 1,000 rules / 10 rules (the rules' own cost) | %.1f%% | | | | |" % (
            100 * (c["ratio_rules1000_rules10"] or 0)))
    mem = R.get("memory")
    if mem and "attls" in mem:
        a, s = mem["attls"], mem["stunnel"]
        L.append("| memory per idle TLS connection, KiB (RSS delta / %d%s) | %.1f | %.1f | %.2f | ≤ 20 KiB | %s |" % (
            mem["connections"], " ¹" if mem.get("limited_by_rlimit") else "", a["kib_per_conn"], s["kib_per_conn"],
            ratio(a["kib_per_conn"], s["kib_per_conn"]) or 0, verdict(a["kib_per_conn"] <= 20)))
    z = R.get("zert")
    if z:
        for label, o in z["runs"].items():
            L.append("| zERT records/s, %s (%.0f achieved; %.2f records each) | %.0f; %d of %d connections recorded; %d ringbuf drops | | | ≥ 20,000, 0 drops | %s |" % (
                "saturating load" if not o["offered_conn_s"] else
                "offered {:,} conn/s".format(o["offered_conn_s"]),
                o["conn_rate"], o["records_per_connection"], o["records_s"],
                o["connections_recorded"], o["connections"], o["ringbuf_drops"],
                "(calibration: records per connection)" if o.get("calibration") else
                verdict(o["records_s"] >= 20000 and o["ringbuf_drops"] == 0 and
                        o["connections_recorded"] >= o["connections"])))
    zc = R.get("zertcpu")
    if zc:
        L.append("| attlsd CPU per zERT record, µs (%s conn/s, short plaintext connections; user + system) | %s | | | | |" % (
            "{:,}".format(zc["rate"]), fmt_s(zc["us_per_record"], "%.2f")))
    if mem and mem.get("limited_by_rlimit"):
        L.append("")
        L.append("¹ %d, not 10,000: each connection needs two descriptors in the proxy and "
                 "RLIMIT_NOFILE is capped at %d here (no CAP_SYS_RESOURCE to raise it)."
                 % (mem["connections"], mem["rlimit_nofile"]))
    t = R.get("timing_s")
    if t:
        L.append("")
        L.append("Wall time per scenario (s): " + ", ".join(
            "%s %s" % (k, v) for k, v in t.items()) + ".")
    bg = R.get("background_cpus")
    if bg:
        L.append("CPUs used by other work on the machine (not this benchmark) during each "
                 "scenario: " + ", ".join("%s %.2f" % (k, v) for k, v in bg.items()) +
                 (" — **the machine was not quiet: treat the numbers as noisy**"
                  if max(bg.values()) > 0.1 else " (quiet).") )
    return "\n".join(L) + "\n"


BEGIN = "<!-- bench:results:begin (generated by tests/bench/bench.py; edits here are overwritten) -->"
END = "<!-- bench:results:end -->"


def write_reports(info, results, md_path, json_path):
    with open(json_path, "w") as f:
        json.dump({"machine": info, "results": results}, f, indent=1, sort_keys=True)
        f.write("\n")
    table = render(info, results)
    try:
        with open(md_path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Benchmarks: attls against stunnel\n\n%s\n%s\n" % (BEGIN, END)
    b, e = text.find("<!-- bench:results:begin"), text.find(END)
    if b < 0 or e < 0:
        text = text.rstrip("\n") + "\n\n%s\n%s\n" % (BEGIN, END)
        b, e = text.find("<!-- bench:results:begin"), text.find(END)
    text = text[:b] + BEGIN + "\n\n" + table + "\n" + text[e:]
    with open(md_path, "w") as f:
        f.write(text)
    return table


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, ".output"))
    ap.add_argument("--quick", action="store_true", help="smoke run (BENCH_QUICK=1)")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--only", help="comma-separated scenarios")
    ap.add_argument("--threads", type=int, default=0, help="attlsd --threads")
    ap.add_argument("--hs-conns", type=int, default=64)
    ap.add_argument("--hs-threads", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="don't touch docs/")
    ap.add_argument("--md", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--json", default=os.path.join(ROOT, "docs", "benchmarks.json"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--attlsd-wrap", help="command prefix for attlsd (profilers)")
    ap.add_argument("--hold-env", action="store_true",
                    help="set everything up, then wait (for profiling by hand)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    sys.stdout.reconfigure(line_buffering=True)
    bench = Bench(args)

    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)
    # SIGINT too: a shell starts background jobs with SIGINT ignored, and
    # Python then keeps it ignored
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    atexit.register(bench.cleanup)
    rc = 0
    try:
        bench.run()
    except KeyboardInterrupt as e:
        print("bench: interrupted (%s); cleaning up" % (e or "SIGINT"), flush=True)
        rc = 130
    except BenchError as e:
        print("bench: FAILED: %s" % e, flush=True)
        if bench.attlsd_log and os.path.exists(bench.attlsd_log):
            with open(bench.attlsd_log, errors="replace") as f:
                print("# attlsd log tail:\n" + "".join(f.readlines()[-20:]))
        rc = 1
    finally:
        problems = bench.cleanup()
        if problems:
            print("bench: cleanup problems: " + "; ".join(problems), flush=True)
            rc = rc or 1
    if bench.results and rc == 0:
        info = machine_info(bench)
        if args.no_write:
            print(render(info, bench.results))
        else:
            table = write_reports(info, bench.results, args.md, args.json)
            print(table)
            log("wrote %s and %s" % (args.md, args.json))
    return rc


if __name__ == "__main__":
    sys.exit(main())
