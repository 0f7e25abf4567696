#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""integration_priv.py - least privilege: attlsd's capabilities after
startup (every thread, from /proc), the control socket's owner, mode and
SO_PEERCRED/SO_PEERGROUPS checks with and without --ctl-group, hostile
control requests, and key files readable by others.

    tests/integration_priv.py [--build .output] [-k SUBSTR] [--keep] [-v] [--sanitize]

Uses the environment of tests/integration_af.py (its netns, policy and
servers); attlsd is restarted with --ctl-group where a test needs it.
Output and exit codes as tests/integration.py.
"""
import json
import os
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import integration as it                                   # noqa: E402
import integration_af as af                                # noqa: E402
from integration import ADDR, CLIENT_ADDR, check, run  # noqa: E402

CAP_DAC_READ_SEARCH = 2
CTL_GROUP = "nogroup"       # nobody's group on Debian: exists everywhere
OUTSIDER = "daemon"         # a user in neither root's group nor CTL_GROUP


class PrivEnv(af.AfEnv):
    attlsd_extra = []

    def ns(self, cmd):
        cmd = list(cmd)
        if cmd and cmd[0] == self.attlsd_bin:
            cmd += self.attlsd_extra
        return super().ns(cmd)

    def ctl_path(self):
        return "/run/attls/%s.sock" % self.name

    def restart_attlsd(self, extra):
        self.stop_attlsd()
        self.attlsd_extra = list(extra)
        self.start_attlsd()


def _caps(pid):
    """{tid: {"CapEff": int, ...}} of every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        caps = {}
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k.startswith("Cap") or k == "Name":
                        caps[k] = v.strip() if k == "Name" else int(v, 16)
        except FileNotFoundError:
            continue
        out[int(tid)] = caps
    return out


def _serves(env, tag):
    secret = af.secret_of(tag)
    res = env.tls_client(ADDR, af.P_DUAL, secret, bind=CLIENT_ADDR)
    check(res["ok"] and secret in res["data"], "%s: not served: %r" % (tag, res))


def as_user(user, cmd, groups=None):
    """cmd as `user` (its own group; supplementary `groups` or none)."""
    g = ["--groups", groups] if groups else ["--clear-groups"]
    return ["setpriv", "--reuid", user, "--regid", user if user != "nobody" else CTL_GROUP] \
        + g + ["--"] + list(cmd)


def _ctl_raw(env, data, user=None, groups=None, timeout=10):
    """Send raw bytes to the control socket (as `user`): (exit, reply text)."""
    prog = ("import socket,sys\n"
            "s=socket.socket(socket.AF_UNIX)\n"
            "try: s.connect(sys.argv[1])\n"
            "except OSError as e: print('CONNECT', e.errno); sys.exit(3)\n"
            # attlsd may answer and close before reading all of it
            "try:\n"
            "  s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)\n"
            "except OSError: pass\n"
            "r=b''\n"
            "try:\n"
            "  while True:\n"
            "    d=s.recv(65536)\n"
            "    if not d: break\n"
            "    r+=d\n"
            "except OSError: pass\n"
            "sys.stdout.write(r.decode())\n")
    cmd = [af.PY, "-c", prog, env.ctl_path()]
    if user:
        cmd = as_user(user, cmd, groups)
    cp = run(cmd, input=data, timeout=timeout)
    return cp.returncode, cp.stdout + cp.stderr[-1000:]


def _reply(env, data, **kw):
    rc, out = _ctl_raw(env, data, **kw)
    check(rc == 0, "control socket: exit %d %r" % (rc, out))
    try:
        return json.loads(out)
    except ValueError:
        raise it.TestFailure("not a JSON reply: %r" % out[:300])


# ---------------------------------------------------------------------------

def test_capabilities_dropped(env):
    """After startup attlsd's main thread keeps only CAP_DAC_READ_SEARCH
    (effective, permitted, bounding; nothing ambient or inheritable) and
    every other thread (engine, zERT) has no capability at all; reload and
    serving still work, and a reload still reads a key ring that only its
    owner (not root) may read."""
    pid = env.attlsd.pid
    with open("/proc/%d/comm" % pid) as f:
        check(f.read().strip() == "attlsd", "pid %d is not attlsd" % pid)
    threads = _caps(pid)
    check(len(threads) >= 3, "attlsd has %d threads" % len(threads))
    for tid, c in threads.items():
        want = 1 << CAP_DAC_READ_SEARCH if tid == pid else 0
        for k in ("CapEff", "CapPrm"):
            check(c[k] == want, "thread %d (%s): %s %#x, want %#x"
                  % (tid, c["Name"], k, c[k], want))
        check(c["CapAmb"] == 0 and c["CapInh"] == 0, "thread %d: ambient %#x "
              "inheritable %#x" % (tid, c["CapAmb"], c["CapInh"]))
    check(threads[pid]["CapBnd"] == 1 << CAP_DAC_READ_SEARCH,
          "bounding set %#x" % threads[pid]["CapBnd"])
    # a key ring of user nobody that only nobody can read (0700 directory,
    # 0600 files): root without CAP_DAC_READ_SEARCH could not reload it
    ring = env.path("keyrings", "nobody", "ring")
    it.shutil.copytree(env.path("keyrings", "test", "ring"), ring)
    for d in (os.path.dirname(ring), ring):
        os.chown(d, 65534, 65534)
        os.chmod(d, 0o700)
    for n in os.listdir(ring):
        os.chown(os.path.join(ring, n), 65534, 65534)
        os.chmod(os.path.join(ring, n), 0o600)
    try:
        gen = env.attlsctl("status").get("generation")
        env.ring = "nobody/ring"
        env.bump_instance()
        env.attlsctl("reload")
        check(env.attlsctl("status").get("generation") != gen,
              "the reload did not install a new generation")
        check("nobody/ring loaded" in it.tail(env.attlsd_log, 0, 40),
              "the reload did not load nobody/ring")
        _serves(env, "caps")
    finally:
        env.ring = "test/ring"
        env.bump_instance()
        env.attlsctl("reload")


def test_ctl_socket_root_only(env):
    """Default: the control socket is root's, mode 0600; another user can
    not connect, and even through a loosened mode attlsd refuses it
    (SO_PEERCRED)."""
    st = os.stat(env.ctl_path())
    check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
          "control socket mode %o uid %d" % (stat.S_IMODE(st.st_mode), st.st_uid))
    rc, out = _ctl_raw(env, '{"cmd":"status"}\n', user="nobody")
    check(rc == 3 and "CONNECT 13" in out, "nobody reached the socket: %d %r" % (rc, out))
    os.chmod(env.ctl_path(), 0o666)
    try:
        r = _reply(env, '{"cmd":"status"}\n', user="nobody")
        check(r.get("ok") is False and r.get("errno") == 13 and
              "permission denied" in r.get("error", ""),
              "nobody through a 0666 socket: %r" % r)
    finally:
        os.chmod(env.ctl_path(), 0o600)


def test_ctl_group(env):
    """--ctl-group nogroup: the socket is root:nogroup 0660; a member (by
    primary or supplementary group) may read status but not reload; an
    outsider is refused even through a loosened mode."""
    env.restart_attlsd(["--ctl-group", CTL_GROUP])
    try:
        st = os.stat(env.ctl_path())
        gid = __import__("grp").getgrnam(CTL_GROUP).gr_gid
        check(stat.S_IMODE(st.st_mode) == 0o660 and st.st_uid == 0 and st.st_gid == gid,
              "socket mode %o %d:%d" % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
        r = _reply(env, '{"cmd":"status"}\n', user="nobody")
        check(r.get("ok") is True and r.get("pid") == env.attlsd.pid,
              "group member (primary group): %r" % r)
        r = _reply(env, '{"cmd":"status"}\n', user=OUTSIDER, groups=CTL_GROUP)
        check(r.get("ok") is True, "group member (supplementary group): %r" % r)
        r = _reply(env, '{"cmd":"reload"}\n', user="nobody")
        check(r.get("ok") is False and r.get("errno") == 1,
              "a group member reloaded: %r" % r)
        rc, out = _ctl_raw(env, '{"cmd":"status"}\n', user=OUTSIDER)
        check(rc == 3 and "CONNECT 13" in out, "outsider connected: %d %r" % (rc, out))
        os.chmod(env.ctl_path(), 0o666)
        r = _reply(env, '{"cmd":"status"}\n', user=OUTSIDER)
        check(r.get("ok") is False and r.get("errno") == 13, "outsider: %r" % r)
        check(_reply(env, '{"cmd":"status"}\n').get("pid") == env.attlsd.pid, "root")
        check(env.attlsctl("policy", "show").get("ok", True), "attlsctl as root")
        _serves(env, "ctlgroup")
    finally:
        env.restart_attlsd([])


def test_ctl_hostile_requests(env):
    """Malformed control requests get an error reply and attlsd stays up:
    a JSON null where a string belongs (it crashed "policy" once), wrong
    types, two requests, a line over the size limit, garbage, NUL bytes,
    deep nesting, and a client that sends nothing."""
    for data, words in (
            ('{"cmd":"policy","format":null}\n', "must be strings"),
            ('{"cmd":"policy","rule":7}\n', "must be strings"),
            ('{"cmd":"conn","id":{}}\n', "must be a string"),
            ('{"cmd":"keyring","ring":null}\n', "give a key ring"),
            ('{"cmd":"status"} {"cmd":"reload"}\n', "malformed"),
            ('{"cmd":"status","pad":"%s"}\n' % ("x" * 70000), "too long"),
            ('\x00{"cmd":"status"}\n', "malformed"),
            ('[' * 5000 + '\n', "malformed"),
            ('{"cmd":"nosuch"}\n', "unknown command"),
            ('', "no request")):
        r = _reply(env, data)
        check(r.get("ok") is False and words in r.get("error", ""),
              "request %r: %r" % (data[:60], r))
        check(env.attlsd_alive(), "attlsd died on %r" % data[:60])
    check(_reply(env, '{"cmd":"status"}\n').get("pid") == env.attlsd.pid,
          "status after")


def test_key_readable_by_others(env):
    """A private key readable by others is refused when its environment
    is (re)built: RC 5109 with a message naming the file and the fix
    "chmod 600"; the environment's connections are reset, never served
    (nor served in cleartext); with the mode fixed, a reload serves
    again."""
    key = env.srv_key
    os.chmod(key, 0o644)
    try:
        off = it.os.path.getsize(env.attlsd_log)
        env.bump_instance()
        env.attlsctl("reload", check_rc=False)
        log = it.tail(env.attlsd_log, off, 60)
        check(key in log and "5109" in log and "chmod 600" in log,
              "world-readable key: log %s" % log[-1500:])
        secret = af.secret_of("keyopen")
        res = env.tls_client(ADDR, af.P_DUAL, secret, bind=CLIENT_ADDR)
        check(not res["ok"] or secret not in res["data"],
              "served with an unprotected key: %r" % res)
        plain = env.app_client(ADDR, af.P_DUAL, secret, ["--bind", CLIENT_ADDR],
                               timeout=4)
        check(secret not in plain["data"] and not env.app_saw(secret),
              "CLEARTEXT while the environment is broken: %r" % plain)
    finally:
        os.chmod(key, 0o600)
    env.bump_instance()
    env.attlsctl("reload")
    _serves(env, "keyfixed")


def test_secrets_not_in_logs(env):
    """Private keys and key ring passwords appear in no log or record
    attlsd wrote (its log, the zERT files), after every test above has
    made it load, reload and refuse key rings."""
    secrets = []
    with open(env.srv_key) as f:
        secrets += [l.strip() for l in f if l.strip() and not l.startswith("-----")]
    sth = env.path("keyrings", "test", "client", "ring.sth")
    with open(sth) as f:
        secrets.append(f.read().strip())
    check(secrets, "no secrets to look for")
    files = [env.attlsd_log] + [os.path.join(env.zert_dir, n)
                                for n in os.listdir(env.zert_dir)]
    for path in files:
        with open(path, errors="replace") as f:
            text = f.read()
        for sec in secrets:
            check(len(sec) >= 8 and sec not in text,
                  "a secret (%s...) is in %s" % (sec[:6], path))
        check("PRIVATE KEY" not in text, "a private key is in %s" % path)


TESTS = [
    test_capabilities_dropped,
    test_ctl_socket_root_only,
    test_ctl_group,
    test_ctl_hostile_requests,
    test_key_readable_by_others,
    test_secrets_not_in_logs,
]


def main():
    return it.run_suite(__doc__, PrivEnv, TESTS, default_timeout=120,
                        setup_exempt=())


if __name__ == "__main__":
    sys.exit(main())
