#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""zert_bench.py - zERT throughput and cost (a benchmark, not a test).

    tests/zert_bench.py [--build .output] [--rate 5000] [--seconds 10]
                        [--json FILE] [--keep]

In a private netns + cgroup (tests/integration.py's Env), with attlsd
attached and its default zERT settings:

  1. rate     connload clients (outside the cgroup) open RATE short
              cleartext connections per second to a connload server in
              the cgroup: each is observed (sockops + cgroup_skb), gets an
              init and a term record.  Reported: connections/s achieved,
              records/s written, how long the collector needed to catch
              up, and every drop counter (ringbuf reserve failures, lost
              chunks, lost or unwritable records): the figure holds only
              with all of them 0.
  2. cost     kernel time of the observation programs per cleartext
              connection and per packet, from bpf_stats (run_time_ns /
              run_cnt of the programs attached to this cgroup), also for
              long connections (1 MiB replies: every later packet costs
              one socket-storage lookup); attlsd CPU per connection.
  3. tls      the same per-connection kernel cost for observed TLS
              (openssl s_time -new against openssl s_server in the cgroup).

Needs root; prints a report and exits 0, or 77 when it cannot run.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import integration as it                                   # noqa: E402
from integration import ADDR, CLIENT_ADDR, TestFailure, run  # noqa: E402

P_LOAD = 9470        # connload server, 16-byte replies
P_BULK = 9471        # connload server, 1 MiB replies
P_TLS = 9472         # openssl s_server -www
POLICY = """\
TTLSRule                      BenchUnused
{
  LocalPortRange              9479
  Direction                   Inbound
  TTLSGroupActionRef          grpOn
  TTLSEnvironmentActionRef    envSrv
}
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
OBS_PROGS = ("attls_obs_in", "attls_obs_out")


class BenchEnv(it.Env):
    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix=self.name + "-")
        os.chmod(self.tmp, 0o755)
        self.srvlog = self.path("servers.ndjson")
        open(self.srvlog, "w").close()
        self.zert_dir = self.path("zert")
        os.mkdir(self.zert_dir)
        self.zert_file = os.path.join(self.zert_dir, "zert.ndjson")
        self.cg2 = it.find_cgroup2()
        self.cgdir = os.path.join(self.cg2, self.name)
        self.sweep_stale()
        os.mkdir(self.cgdir)
        run(["ip", "netns", "add", self.netns], check_rc=True)
        self.netns_made = True
        run(self.ns(["ip", "link", "set", "lo", "up"]), check_rc=True)
        for a in (ADDR, CLIENT_ADDR):
            run(self.ns(["ip", "addr", "add", a + "/32", "dev", "lo"]), check_rc=True)
        self.make_certs()
        self.policy = self.path("bench.policy")
        with open(self.policy, "w") as f:
            f.write(POLICY)
        self.start_attlsd()
        self.connload = os.path.join(self.build, "connload")
        for port, nbytes in ((P_LOAD, 16), (P_BULK, 1 << 20)):
            log = self.path("connload.%d.log" % port)
            self.spawn([self.connload, "server", ADDR, str(port), str(nbytes)],
                       log=log, cgroup=True)
            deadline = time.monotonic() + 10
            while "ready" not in it.tail(log):
                if time.monotonic() > deadline:
                    raise TestFailure("connload server %d not ready" % port)
                time.sleep(0.05)
        ring = self.path("keyrings", "test", "ring")
        self.spawn(["openssl", "s_server", "-accept", "%s:%d" % (ADDR, P_TLS),
                    "-cert", os.path.join(ring, "default.pem"),
                    "-key", os.path.join(ring, "default.key"), "-www", "-quiet"],
                   log=self.path("s_server.log"), cgroup=True)
        time.sleep(0.5)

    def prog_ids(self):
        """{name: id} of the programs attached to this cgroup."""
        cp = run(["bpftool", "-j", "cgroup", "show", self.cgdir], check_rc=True)
        return {p["name"]: p["id"] for p in json.loads(cp.stdout or "[]")}

    def prog_stats(self):
        ids = self.prog_ids()
        cp = run(["bpftool", "-j", "prog", "show"], check_rc=True)
        by_id = {p["id"]: p for p in json.loads(cp.stdout)}
        out = {}
        for name, pid in ids.items():
            p = by_id.get(pid, {})
            out[name] = (p.get("run_time_ns", 0), p.get("run_cnt", 0))
        return out

    def counters(self):
        return self.attlsctl("status")["counters"]

    def zstats(self):
        return self.attlsctl("zert", "stats")

    def attlsd_cpu(self):
        with open("/proc/%d/stat" % self.attlsd.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delta(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if isinstance(b[k], (int, float))}


def snapshot(env):
    return {"c": env.counters(), "z": env.zstats(), "p": env.prog_stats(),
            "cpu": env.attlsd_cpu(), "t": time.monotonic()}


def prog_delta(a, b, names):
    ns = sum(b["p"].get(n, (0, 0))[0] - a["p"].get(n, (0, 0))[0] for n in names)
    cnt = sum(b["p"].get(n, (0, 0))[1] - a["p"].get(n, (0, 0))[1] for n in names)
    return ns, cnt


def wait_quiet(env, timeout=60):
    """Wait until the record count stops moving (the collector caught up
    with the ringbuf); seconds until the last record was written."""
    t0 = time.monotonic()
    last, t_last = env.zstats()["records"], t0
    while time.monotonic() - t0 < timeout:
        time.sleep(0.05)
        n = env.zstats()["records"]
        if n != last:
            last, t_last = n, time.monotonic()
        elif time.monotonic() - t_last > 1.0:
            break
    return t_last - t0


def rate_run(env, rate, seconds):
    a = snapshot(env)
    cp = run(env.ns([env.connload, "client", ADDR, str(P_LOAD), str(rate), str(seconds)]),
             timeout=seconds + 120)
    try:
        load = json.loads(cp.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise TestFailure("connload client: %s %s" % (cp.stdout, cp.stderr))
    t_load = time.monotonic()
    at_end = env.zstats()["records"]
    lag = wait_quiet(env)
    time.sleep(1.2)          # counters in attls_stats are published every second
    b = snapshot(env)
    dc, dz = delta(a["c"], b["c"]), delta(a["z"], b["z"])
    ns, cnt = prog_delta(a, b, OBS_PROGS)
    sns, scnt = prog_delta(a, b, ("attls_sockops",))
    conns = max(load["done"], 1)
    return {
        "target_rate": rate, "seconds": seconds, "connections": load["done"],
        "client_errors": load["errors"], "conn_per_s": round(load["done"] / seconds, 1),
        "records": dz["records"],
        "records_per_conn": round(dz["records"] / conns, 2),
        "records_per_s": round((at_end - a["z"]["records"]) / (t_load - a["t"]), 1),
        "catch_up_s": round(lag, 3),
        "drops": {k: dc.get(k, 0) for k in ("ringbuf_reserve_failed", "zert_chunks_dropped",
                                              "zert_records_lost", "zert_write_errors")},
        "zert_unmatched": dz.get("unmatched", 0),
        "observed_conns": dc.get("zert_observed_conns", 0),
        "chunks": dc.get("zert_observed_chunks", 0),
        "obs_ns_per_conn": round(ns / conns, 1),
        "obs_runs_per_conn": round(cnt / conns, 2),
        "obs_ns_per_run": round(ns / cnt, 1) if cnt else None,
        "sockops_ns_per_conn": round(sns / conns, 1),
        "attlsd_cpu_us_per_conn": round((b["cpu"] - a["cpu"]) * 1e6 / conns, 1),
    }


def bulk_run(env, n=40):
    a = snapshot(env)
    run(env.ns([env.connload, "client", ADDR, str(P_BULK), str(n / 2), "2"]), timeout=120)
    time.sleep(1.2)
    b = snapshot(env)
    ns, cnt = prog_delta(a, b, OBS_PROGS)
    return {"connections": n, "reply_bytes": 1 << 20,
            "obs_ns_per_conn": round(ns / n, 1), "obs_runs_per_conn": round(cnt / n, 1),
            "obs_ns_per_run": round(ns / cnt, 1) if cnt else None}


def tls_run(env, seconds=5):
    a = snapshot(env)
    cp = run(env.ns(["openssl", "s_time", "-connect", "%s:%d" % (ADDR, P_TLS), "-new",
                     "-time", str(seconds)]), timeout=seconds + 60)
    time.sleep(1.5)
    b = snapshot(env)
    conns = b["c"]["zert_observed_conns"] - a["c"]["zert_observed_conns"]
    ns, cnt = prog_delta(a, b, OBS_PROGS)
    chunks = b["c"]["zert_observed_chunks"] - a["c"]["zert_observed_chunks"]
    conns = max(conns, 1)
    return {"connections": conns, "obs_ns_per_conn": round(ns / conns, 1),
            "obs_runs_per_conn": round(cnt / conns, 2),
            "chunks_per_conn": round(chunks / conns, 2),
            "attlsd_cpu_us_per_conn": round((b["cpu"] - a["cpu"]) * 1e6 / conns, 1),
            "s_time": [l for l in cp.stdout.splitlines() if "connections" in l][:2]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), ".output"))
    ap.add_argument("--rate", type=int, action="append")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    why = it.prerequisites(args.build)
    if not os.access(os.path.join(args.build, "connload"), os.X_OK):
        why.append("connload not built (make zert-bench builds it)")
    if why:
        print("zert_bench: cannot run: " + "; ".join(why))
        return 77
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_was = f.read().strip()
    env = BenchEnv(args.build, args.keep)
    result = {"kernel": os.uname().release, "cpus": os.cpu_count()}
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        env.setup()
        rate_run(env, 500, 2)                          # warm-up
        result["rate"] = [rate_run(env, r, args.seconds) for r in (args.rate or [5000])]
        result["bulk"] = bulk_run(env)
        result["tls"] = tls_run(env)
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(stats_was)
        problems = env.cleanup()
        if problems:
            print("cleanup: " + "; ".join(problems))
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(1))
    sys.exit(main())
