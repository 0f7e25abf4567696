// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * attlsd - the attls daemon: compiles the AT-TLS policy into pinned BPF
 * maps, attaches the programs, runs the TLS engine and the zERT collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "aj.h"
#include "appctl.h"
#include "conn_json.h"
#include "trace.h"
#include "cgroup.h"
#include "ctl.h"
#include "ctl_proto.h"
#include "privdrop.h"
#include "engine.h"
#include "keyring.h"
#include "loader.h"
#include "policy_json.h"
#include "log.h"
#include "zert.h"
#include "../policy/policy.h"

#define ATTLS_RUN_DIR		"/run/attls"
#define ATTLS_DEFAULT_KEYRINGS	"/etc/attls/keyrings"
#define ATTLS_DEFAULT_ZERT	"/var/lib/attls/zert"
#define ATTLSD_MAX_CGROUPS	64

struct attlsd {
	const char *policy_path;
	const char *cgroups[ATTLSD_MAX_CGROUPS];
	unsigned ncgroups;
	const char *keyring_root;
	const char *zert_dir;
	struct zert_opts zopts;		/* --zert-*: zERT output and summaries */
	const char *pin_root;
	const char *netns;
	unsigned threads;
	unsigned max_conns;		/* --max-connections; 0 = default */
	int check_only;
	int verbose;
	int guard_only;			/* --guard */
	int stop_block;			/* --stop-mode block */
	const char *permit[ATTLSD_MAX_CGROUPS];
	unsigned npermit;
	const char *ctl_group;		/* --ctl-group: may read the control socket */
	gid_t ctl_gid;

	struct dp *dp;
	struct engine *engine;
	struct zert *zert;
	struct ring_buffer *rb;
	struct ctl *ctl;
	struct appctl *appctl;		/* libattls requests */
	struct policy *policy;		/* parsed: recompiled when an
					 * IpTimeCondition window changes */
	struct attls_map_image img;	/* the installed policy */
	int timer_fd;			/* next IpTimeCondition change */
	int lock_fd;
	int serving;			/* startup completed */
	char pid_path[PATH_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: attlsd [-dnv] -f POLICY --cgroup PATH [--cgroup PATH ...]\n"
"              [--keyring-root DIR] [--zert-dir DIR] [--netns PATH]\n"
"              [--threads N] [--max-connections N] [--pin-root DIR]\n"
"       attlsd --guard --cgroup PATH [--cgroup PATH ...] [--permit JOB ...]\n"
"       attlsd --cleanup [--pin-root DIR]\n"
"\n"
"  -f, --file POLICY      AT-TLS policy file (TTLSRule, TTLSGroupAction, ...)\n"
"  -c, --cgroup PATH      cgroup v2 directory whose processes are protected\n"
"                         (repeatable)\n"
"  -k, --keyring-root DIR key rings: DIR/OWNER/RING/LABEL.pem|.key\n"
"                         (default " ATTLS_DEFAULT_KEYRINGS ")\n"
"  -z, --zert-dir DIR     zERT NDJSON records (default " ATTLS_DEFAULT_ZERT ")\n"
ZERT_USAGE
"      --netns PATH       network namespace for sk_lookup\n"
"                         (default: attlsd's own)\n"
"  -t, --threads N        engine threads (default: one per CPU)\n"
"      --max-connections N  concurrent protected connections; more are reset\n"
"                         with RC 5131 (default: what RLIMIT_NOFILE and a\n"
"                         quarter of memory allow; the log shows it)\n"
"      --pin-root DIR     bpffs pin directory (default " ATTLS_PIN_ROOT ")\n"
"      --permit JOB       job name (process comm) that may use TCP while no\n"
"                         policy is installed (repeatable)\n"
"      --stop-mode MODE   on SIGTERM: detach (default: programs detached, the\n"
"                         cgroups are cleartext again) or block (stay attached\n"
"                         with no policy: no TCP for the cgroups but --permit\n"
"                         jobs, until attlsd runs again)\n"
"      --ctl-group NAME   members of group NAME may use the control socket\n"
"                         for what changes nothing (status, policy, conn, ...;\n"
"                         default: root only)\n"
"      --guard            attach to the cgroups with no policy (as stop-mode\n"
"                         block leaves them) and exit: for boot, before the\n"
"                         protected services start\n"
"  -d                     debug: every connection message (all Trace bits\n"
"                         set, syslog ones too) also to stderr, the daemon log\n"
"  -n                     check the policy, print \"configuration OK\", exit\n"
"  -v                     more messages (-vv: libbpf and verifier)\n"
"      --cleanup          detach and remove everything a dead attlsd pinned\n"
"\n"
"Signals: SIGHUP reloads the policy (the old one stays on any error);\n"
"SIGTERM/SIGINT stop as --stop-mode says.\n");
}

/*
 * Parse + resolve + compile.  0, or -EINVAL with the diagnostics printed to
 * stderr (the daemon log).  With `diag_text`, the diagnostics are also
 * returned as a malloc'ed string for a control-socket reply.
 */
static int load_policy(const char *path, struct attls_map_image *img,
		       int dump, char **diag_text, struct policy **keep)
{
	struct policy_diags *diags = NULL;
	struct policy *p = NULL;
	int err;

	memset(img, 0, sizeof(*img));
	err = policy_parse_file(path, &p, &diags);
	if (!err)
		err = policy_compile(p, img, diags);
	if (diags)
		policy_diags_print(diags, stderr);
	if (diag_text) {
		size_t len = 0;
		FILE *m = open_memstream(diag_text, &len);

		if (m) {
			policy_diags_print(diags, m);
			if (err && !(diags && policy_diags_errors(diags)))
				fprintf(m, "%s: %s\n", path, strerror(-err));
			fclose(m);
		}
	}
	if (!err && dump)
		attls_map_image_dump(img, stdout);
	if (err && diags && policy_diags_errors(diags))
		log_warnx("%s: %zu error(s); policy not installed", path,
			  policy_diags_errors(diags));
	else if (err)
		log_warnx("%s: %s", path, strerror(-err));
	if (!err && keep) {
		*keep = p;
		p = NULL;
	}
	policy_free(p);
	policy_diags_free(diags);
	if (err)
		attls_map_image_free(img);
	return err;
}

/* Arm d->timer_fd for the installed image's next window change. */
static void arm_time_window_timer(struct attlsd *d)
{
	struct itimerspec its = {};
	time_t now = time(NULL), next;

	if (d->timer_fd < 0)
		return;
	next = attls_image_next_change(&d->img, now);
	if (next > now) {
		its.it_value.tv_sec = next;
		log_debug("IpTimeCondition: next window change in %lld s",
			  (long long)(next - now));
	}
	/* all-zero disarms: no IpTimeCondition in the policy */
	if (timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL))
		log_warn("IpTimeCondition timer");
}

/*
 * Install a compiled policy: the engine first (it must know the new
 * environments before the kernel steers with the new generation), then
 * the kernel rule set flips.
 */
static int install_policy(struct attlsd *d, const struct attls_map_image *img)
{
	uint64_t gen = dp_generation(d->dp) + 1, got = 0;
	int err;

	err = engine_install_policy(d->engine, img, gen);
	if (err)
		return err;
	err = dp_install_policy(d->dp, img, &got);
	if (err)
		return err;
	if (got != gen) {
		log_warnx("policy generation mismatch: engine %llu, kernel %llu",
			  (unsigned long long)gen, (unsigned long long)got);
		return -EIO;
	}
	log_info("policy %s installed: %zu rule(s), %zu clause(s), "
		 "%zu environment(s), generation %llu", d->policy_path,
		 img->nactions, img->nrules, img->nenvs,
		 (unsigned long long)gen);
	return 0;
}

/* Install `img` and, on success, keep it as the installed policy
 * (taking its contents); on failure `img` is freed. */
static int install_and_keep(struct attlsd *d, struct attls_map_image *img,
			    struct policy *p)
{
	int err = install_policy(d, img);

	if (err) {
		attls_map_image_free(img);
		policy_free(p);
		return err;
	}
	attls_map_image_free(&d->img);
	d->img = *img;
	memset(img, 0, sizeof(*img));
	if (d->appctl && appctl_set_policy(d->appctl, &d->img))
		log_warnx("application control: out of memory: the previous "
			  "rules classify sockets attls does not carry");
	if (p) {
		policy_free(d->policy);
		d->policy = p;
	}
	arm_time_window_timer(d);
	return 0;
}

/*
 * IpTimeCondition: wake up when some rule's window opens or closes, then
 * compile the same parsed policy for that instant and install it (rules
 * out of their window have no clause, so they cannot match).
 */
static void time_window_tick(struct attlsd *d)
{
	struct attls_map_image img = {};
	uint64_t expirations;
	int err;

	if (read(d->timer_fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;
	err = policy_compile_at(d->policy, &img, NULL, time(NULL));
	if (!err)
		err = install_and_keep(d, &img, NULL);
	if (err)
		log_warnx("IpTimeCondition change: installing the policy failed (%s); "
			  "the previous rule set stays", strerror(-err));
	else
		log_info("IpTimeCondition: rule windows changed, generation %llu",
			 (unsigned long long)dp_generation(d->dp));
}

/* SIGHUP and "attlsctl reload": on any error the old policy stays. */
static int reload(struct attlsd *d, char **diag_text)
{
	struct attls_map_image img;
	struct policy *p = NULL;
	int err;

	log_info("reloading %s", d->policy_path);
	err = load_policy(d->policy_path, &img, 0, diag_text, &p);
	if (!err)
		err = install_and_keep(d, &img, p);
	if (err)
		log_warnx("reload failed: the previous policy (generation %llu) "
			  "stays in effect", (unsigned long long)dp_generation(d->dp));
	return err;
}

static int ctl_status(void *arg, struct json_object *req,
		      struct json_object *reply, const char **errmsg)
{
	struct attlsd *d = arg;
	struct json_object *cgs = json_object_new_array();
	unsigned i;
	int err;

	(void)req;
	(void)errmsg;
	if (!cgs)
		return -ENOMEM;
	for (i = 0; i < dp_ncgroups(d->dp); i++)
		if (json_object_array_add(cgs, json_object_new_string(
					  dp_cgroup_path(d->dp, i)))) {
			json_object_put(cgs);
			return -ENOMEM;
		}
	err = aj_add(reply, "cgroups", cgs);
	err = err ?: aj_add_u64(reply, "pid", (uint64_t)getpid());
	err = err ?: aj_add_str(reply, "policy_file", d->policy_path);
	err = err ?: aj_add_u64(reply, "generation", dp_generation(d->dp));
	err = err ?: aj_add_u64(reply, "rules", d->img.nactions);
	err = err ?: aj_add_u64(reply, "clauses", d->img.nrules);
	err = err ?: aj_add_u64(reply, "environments", d->img.nenvs);
	err = err ?: aj_add_str(reply, "zert_file", zert_path(d->zert));
	err = err ?: aj_add_str(reply, "pin_root",
				d->pin_root ? d->pin_root : ATTLS_PIN_ROOT);
	return err ?: engine_stats_json(d->engine, reply);
}

static int ctl_policy(void *arg, struct json_object *req,
		      struct json_object *reply, const char **errmsg)
{
	struct attlsd *d = arg;
	const char *rule, *fmt;
	int err;

	if (ctl_arg_str(req, "rule", &rule) || ctl_arg_str(req, "format", &fmt)) {
		*errmsg = "\"rule\" and \"format\" must be strings";
		return -EINVAL;
	}
	if (fmt && !strcmp(fmt, "text") && !rule) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);

		if (!m)
			return -ENOMEM;
		attls_map_image_dump(&d->img, m);
		fclose(m);
		err = aj_add_str(reply, "text", text);
		free(text);
		return err;
	}
	err = aj_add_str(reply, "file", d->policy_path);
	err = err ?: aj_add_u64(reply, "generation", dp_generation(d->dp));
	err = err ?: policy_image_to_json(&d->img, rule, reply);
	if (err == -ENOENT)
		*errmsg = "no such rule in the installed policy";
	return err;
}

static int ctl_reload(void *arg, struct json_object *req,
		      struct json_object *reply, const char **errmsg)
{
	struct attlsd *d = arg;
	char *diag = NULL;
	int err;

	(void)req;
	err = reload(d, &diag);
	if (err) {
		/* the diagnostics are the message the user needs */
		aj_add_str(reply, "diagnostics", diag);
		*errmsg = "reload failed; the previous policy stays in effect";
		free(diag);
		return err;
	}
	err = aj_add_u64(reply, "generation", dp_generation(d->dp));
	err = err ?: aj_add_str(reply, "diagnostics", diag && *diag ? diag : NULL);
	free(diag);
	return err;
}

static int req_flag(struct json_object *req, const char *key)
{
	struct json_object *j;

	return json_object_object_get_ex(req, key, &j) && json_object_get_boolean(j);
}

/*
 * "conn": the engine's open connections (netstat TTLS); "id" for one,
 * "detail" with effective parameters, "group" for the per-group summary.
 */
static int ctl_conn(void *arg, struct json_object *req,
		    struct json_object *reply, const char **errmsg)
{
	struct attlsd *d = arg;
	struct json_object *arr;
	struct engine_conn_info *conns = NULL;
	struct attls_env_cfg *env = NULL;
	const char *want;
	int detail = req_flag(req, "detail");
	size_t n = 0, i;
	int err;

	if (ctl_arg_str(req, "id", &want)) {
		*errmsg = "\"id\" must be a string (a CONNID)";
		return -EINVAL;
	}
	err = engine_conn_list(d->engine, &conns, &n);
	if (err) {
		*errmsg = "the engine did not answer";
		return err;
	}
	if (req_flag(req, "group")) {
		err = conn_groups_json(&d->img, conns, n, reply);
		free(conns);
		return err;
	}
	env = detail ? malloc(sizeof(*env)) : NULL;
	arr = json_object_new_array();
	err = arr && (env || !detail) ? 0 : -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		char id[20];

		snprintf(id, sizeof(id), "%016llx",
			 (unsigned long long)conns[i].z.conn_id);
		if (want && strcasecmp(want, id))
			continue;
		err = conn_json_add(&conns[i], env && !engine_env_cfg(d->engine,
				    conns[i].generation, conns[i].env_index, env) ?
				    env : NULL, arr);
	}
	free(env);
	free(conns);
	if (!err && want && !json_object_array_length(arr)) {
		*errmsg = "no open connection with that CONNID";
		err = -ENOENT;
	}
	if (err) {
		json_object_put(arr);
		return err;
	}
	return aj_add(reply, "connections", arr);
}

/* "trace": {"id": CONNID, "level": N}: one live connection's Trace bits. */
static int ctl_trace(void *arg, struct json_object *req,
		     struct json_object *reply, const char **errmsg)
{
	struct attlsd *d = arg;
	unsigned long long id;
	const char *sid;
	unsigned old = 0;
	int64_t level;
	char *end;
	int err;

	if (ctl_arg_str(req, "id", &sid) || !sid ||
	    ctl_arg_int(req, "level", &level)) {
		*errmsg = "give a CONNID (string) and a Trace level (integer)";
		return -EINVAL;
	}
	errno = 0;
	id = strtoull(sid, &end, 16);
	if (errno || *end || end == sid) {
		*errmsg = "CONNID: 16 hex digits, as attlsctl conn shows";
		return -EINVAL;
	}
	if (level < 0 || level > ATTLS_TRACE_MAX) {
		*errmsg = "Trace level: 0-255 (1, 2 errors; 4 info; 8 events; "
			  "16 flow; 32 data)";
		return -ERANGE;
	}
	err = engine_conn_trace(d->engine, id, (unsigned)level, &old);
	if (err == -ENOENT)
		*errmsg = "no open connection with that CONNID";
	else if (err)
		*errmsg = "the engine did not answer";
	err = err ?: aj_add_u64(reply, "old_level", old);
	return err ?: aj_add_u64(reply, "level", (uint64_t)level);
}

/* "keyring": a key ring's certificates, like RACDCERT LISTRING. */
static int ctl_keyring(void *arg, struct json_object *req,
		       struct json_object *reply, const char **errmsg)
{
	struct attlsd *d = arg;
	const char *ring;
	int err;

	if (ctl_arg_str(req, "ring", &ring) || !ring) {
		*errmsg = "give a key ring: OWNER/RING";
		return -EINVAL;
	}
	err = keyring_list_json(d->keyring_root, ring, reply);
	if (err)
		*errmsg = "the key ring cannot be listed (see \"error\")";
	return err;
}

/* ---- zERT on the control socket: counters, and live records ---- */

static int ctl_zert(void *arg, struct json_object *req,
		    struct json_object *reply, const char **errmsg)
{
	struct attlsd *d = arg;

	(void)req;
	(void)errmsg;
	return zert_stats_json(d->zert, reply);
}

static int ctl_zert_watch(void *arg, struct json_object *req, int fd,
			  const char **errmsg)
{
	struct attlsd *d = arg;

	(void)req;
	return zert_watch(d->zert, fd, errmsg);
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", ctl_status, 0 },
	{ "policy", ctl_policy, 0 },
	{ "reload", ctl_reload, 1 },
	{ "keyring", ctl_keyring, 0 },
	{ "conn", ctl_conn, 0 },
	{ "trace", ctl_trace, 1 },
	{ "zert", ctl_zert, 0 },
	{ NULL, NULL, 0 },
};

static const struct ctl_stream_cmd ctl_streams[] = {
	{ "zert-watch", ctl_zert_watch, 1 },
	{ NULL, NULL, 0 },
};

/* Ringbuf records: sockops events and stream observation, both zERT's. */
static int handle_event(void *ctx, void *data, size_t len)
{
	struct attlsd *d = ctx;

	zert_ringbuf_event(d->zert, data, len);
	return 0;
}

/* Refuse to run inside a cgroup we protect: the engine's own sockets
 * would be classified and steered to itself. */
static int check_own_cgroup(const struct attlsd *d)
{
	char self[2 * PATH_MAX], real[PATH_MAX];
	unsigned i;

	if (cgroup2_self(self, sizeof(self)))
		return 0;
	for (i = 0; i < d->ncgroups; i++) {
		size_t n;

		if (!realpath(d->cgroups[i], real))
			continue;
		n = strlen(real);
		if (!strncmp(self, real, n) && (self[n] == '\0' || self[n] == '/')) {
			log_warnx("attlsd runs inside cgroup %s, which it is asked "
				  "to protect: start attlsd outside it",
				  d->cgroups[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * One attlsd per pin root: an flock()ed pid file named after it, e.g.
 * /run/attls/attls.pid for /sys/fs/bpf/attls.  Tests run an isolated
 * attlsd with their own --pin-root beside a production one.
 */
static int take_lock(struct attlsd *d)
{
	const char *root = d->pin_root ? d->pin_root : ATTLS_PIN_ROOT;
	const char *base = strrchr(root, '/') ? strrchr(root, '/') + 1 : root;
	char pid[32];
	int fd, n, err;

	if (mkdir(ATTLS_RUN_DIR, 0755) && errno != EEXIST) {
		err = -errno;
		log_warn("cannot create %s", ATTLS_RUN_DIR);
		return err;
	}
	snprintf(d->pid_path, sizeof(d->pid_path), ATTLS_RUN_DIR "/%s.pid",
		 *base ? base : "attls");
	fd = open(d->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		log_warn("cannot open %s", d->pid_path);
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		log_warnx("another attlsd uses %s (%s is locked); stop it first",
			  root, d->pid_path);
		close(fd);
		return -EBUSY;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(fd, 0) || write(fd, pid, (size_t)n) != n)
		log_warn("cannot write %s", d->pid_path);
	d->lock_fd = fd;
	return 0;
}

/* The permitted jobs of --permit into attls_permit. */
static int write_permits(struct attlsd *d)
{
	unsigned i;
	int err;

	for (i = 0; i < d->npermit; i++) {
		err = dp_permit(d->dp, d->permit[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * --guard: attach every program with no policy installed, pin, and exit.
 * The cgroups' processes get no TCP (but --permit jobs) until an attlsd
 * installs a policy.  Listeners that exist already are adopted so their
 * SYNs are dropped too.
 */
static int guard(struct attlsd *d)
{
	struct dp_opts dopts = { .pin_root = d->pin_root, .netns_path = d->netns };
	unsigned c;
	int err;

	err = check_own_cgroup(d);
	err = err ?: take_lock(d);
	err = err ?: dp_ensure_bpffs();
	err = err ?: dp_open(&dopts, &d->dp);
	if (err)
		return err;
	err = write_permits(d);
	err = err ?: dp_set_state(d->dp, ATTLS_STATE_NONE);
	err = err ?: dp_attach_netns(d->dp);
	for (c = 0; !err && c < d->ncgroups; c++) {
		err = dp_attach_cgroup(d->dp, d->cgroups[c]);
		if (!err && dp_adopt_bound(d->dp, d->cgroups[c]) < 0)
			log_warnx("cgroup %s: adopting existing listeners failed",
				  d->cgroups[c]);
	}
	if (err)
		return err;
	log_warnx("guard installed on %u cgroup(s): no TCP for them until "
		  "attlsd installs a policy (pins in %s)", d->ncgroups,
		  d->pin_root ? d->pin_root : ATTLS_PIN_ROOT);
	return 0;
}

/*
 * Everything that needs privilege is done (programs loaded and attached,
 * listeners adopted, pins and sockets made): keep only what a reload
 * needs.  A failure leaves attlsd more privileged than it should be, not
 * less safe for the traffic: say so loudly and go on.
 */
static void drop_privileges(void)
{
	int err = privdrop_daemon();

	if (err)
		log_warnx("cannot drop capabilities (%s): attlsd keeps all it "
			  "started with", strerror(-err));
	else
		log_info("capabilities dropped: effective set now %#llx "
			 "(CAP_DAC_READ_SEARCH: reload reads key rings)",
			 privdrop_effective());
}

static int run(struct attlsd *d, struct attls_map_image *img, struct policy *p)
{
	struct engine_cfg ecfg = {};
	struct dp_opts dopts = {};
	struct epoll_event ev, evs[4];
	struct stat st;
	sigset_t mask;
	int sfd = -1, efd = -1, err, i, stop = 0;
	unsigned c;

	d->policy = p;		/* ours now, freed by teardown() */
	err = check_own_cgroup(d);
	if (err)
		return err;
	err = take_lock(d);
	if (err)
		return err;
	err = dp_ensure_bpffs();
	if (err)
		return err;
	err = zert_open(d->zert_dir, &d->zopts, &d->zert);
	if (err)
		return err;
	dopts.pin_root = d->pin_root;
	dopts.netns_path = d->netns;
	err = dp_open(&dopts, &d->dp);
	if (err)
		return err;
	zert_set_stats_map(d->zert, dp_stats_map_fd(d->dp));
	/* Whatever a previous engine was doing died with it. */
	dp_clear_engine_state(d->dp);
	err = write_permits(d);
	if (err)
		return err;

	/* A key ring root that is not there is a daemon configuration
	 * error, not a policy one: every environment would fail. */
	err = stat(d->keyring_root, &st) ? -errno :
	      !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	if (err) {
		log_warnx("--keyring-root %s: %s (fix: create it, or give the "
			  "directory that holds OWNER/RING key rings)",
			  d->keyring_root, strerror(-err));
		return err;
	}
	ecfg.keyring_root = d->keyring_root;
	ecfg.steer_map_fd = dp_steer_map_fd(d->dp);
	ecfg.hop_map_fd = dp_hop_map_fd(d->dp);
	ecfg.out_map_fd = dp_out_map_fd(d->dp);
	ecfg.secmap_map_fd = dp_secmap_map_fd(d->dp);
	ecfg.zert = d->zert;
	ecfg.nthreads = d->threads;
	ecfg.max_conns = d->max_conns;
	err = engine_create(&ecfg, &d->engine);
	if (err)
		return err;
	d->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer_fd < 0)
		log_warn("timerfd: IpTimeCondition windows will not be followed");
	err = install_and_keep(d, img, NULL);
	if (err)
		return err;
	err = engine_start(d->engine);
	if (err)
		return err;
	err = dp_set_engine_listener(d->dp, ATTLS_ENGINE_LSN_V4,
				     engine_listener_fd(d->engine, ATTLS_AF_INET));
	if (err)
		return err;
	/* Without IPv6 on the host no IPv6 SYN can arrive; the empty slot
	 * would drop one anyway (fail closed). */
	if (engine_listener_fd(d->engine, ATTLS_AF_INET6) >= 0) {
		err = dp_set_engine_listener(d->dp, ATTLS_ENGINE_LSN_V6,
				engine_listener_fd(d->engine, ATTLS_AF_INET6));
		if (err)
			return err;
	}
	/* Outbound: where connect4/6 send protected connect()s.  An empty
	 * slot makes them fail with EPERM (fail closed). */
	err = dp_set_engine_listener(d->dp, ATTLS_ENGINE_OUT_V4,
				     engine_out_listener_fd(d->engine, ATTLS_AF_INET));
	if (err)
		return err;
	if (engine_out_listener_fd(d->engine, ATTLS_AF_INET6) >= 0) {
		err = dp_set_engine_listener(d->dp, ATTLS_ENGINE_OUT_V6,
				engine_out_listener_fd(d->engine, ATTLS_AF_INET6));
		if (err)
			return err;
	}
	err = dp_attach_netns(d->dp);
	if (err)
		return err;
	for (c = 0; c < d->ncgroups; c++) {
		err = dp_attach_cgroup(d->dp, d->cgroups[c]);
		if (err)
			return err;
		err = dp_adopt_bound(d->dp, d->cgroups[c]);
		if (err < 0)
			log_warnx("cgroup %s: adopting existing listeners failed: %s",
				  d->cgroups[c], strerror(-err));
	}

	d->rb = ring_buffer__new(dp_ringbuf_fd(d->dp), handle_event, d, NULL);
	if (!d->rb) {
		err = -errno;
		log_warnx("cannot open the event ring buffer: %s", strerror(-err));
		return err;
	}

	{
		struct appctl_maps amaps;
		char path[PATH_MAX];

		ctl_socket_path(d->pin_root ? d->pin_root : ATTLS_PIN_ROOT,
				path, sizeof(path));
		err = ctl_open(path, ctl_cmds, d, &d->ctl);
		if (err)
			return err;
		ctl_set_streams(d->ctl, ctl_streams);
		appctl_socket_path(d->pin_root ? d->pin_root : ATTLS_PIN_ROOT,
				   path, sizeof(path));
		amaps.appsk = dp_appsk_map_fd(d->dp);
		amaps.orig = dp_orig_map_fd(d->dp);
		amaps.owner = dp_owner_map_fd(d->dp);
		amaps.bindkey = dp_bindkey_map_fd(d->dp);
		err = appctl_open(path, d->engine, &amaps, &d->appctl);
		err = err ?: appctl_set_policy(d->appctl, &d->img);
		if (err)
			return err;
		if (d->ctl_group) {
			err = ctl_set_group(d->ctl, d->ctl_gid);
			if (err)
				return err;
		}
	}
	drop_privileges();

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || efd < 0) {
		err = -errno;
		log_warn("signalfd/epoll");
		goto close_fds;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = 0;
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(efd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(d->rb), &ev);
	ev.data.u32 = 2;
	epoll_ctl(efd, EPOLL_CTL_ADD, ctl_fd(d->ctl), &ev);
	if (d->timer_fd >= 0) {
		ev.data.u32 = 3;
		epoll_ctl(efd, EPOLL_CTL_ADD, d->timer_fd, &ev);
	}

	d->serving = 1;
	log_warnx("ready: policy %s, %u cgroup(s), zERT records in %s",
		  d->policy_path, d->ncgroups, zert_path(d->zert));

	while (!stop) {
		/* zERT events come without a wakeup each: drain on a timer */
		int n = epoll_wait(efd, evs, 4, ZERT_RINGBUF_POLL_MS);

		if (n == 0) {
			ring_buffer__consume(d->rb);
			zert_flush(d->zert);
			continue;
		}

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			log_warn("epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == 3) {
				time_window_tick(d);
				continue;
			}
			if (evs[i].data.u32 == 2) {
				ctl_serve(d->ctl);
				continue;
			}
			if (evs[i].data.u32 == 1) {
				err = ring_buffer__consume(d->rb);
				if (err < 0 && err != -EINTR)
					log_warnx("ring buffer: %s", strerror(-err));
				zert_flush(d->zert);
				err = 0;
				continue;
			}
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				reload(d, NULL);
			} else {
				log_warnx("signal %u: detaching and exiting",
					  si.ssi_signo);
				stop = 1;
			}
		}
	}
	ring_buffer__consume(d->rb);
	zert_flush(d->zert);
close_fds:
	if (sfd >= 0)
		close(sfd);
	if (efd >= 0)
		close(efd);
	return err;
}

static void teardown(struct attlsd *d)
{
	appctl_close(d->appctl);	/* before the engine it submits to */
	d->appctl = NULL;
	if (d->engine)
		engine_stop(d->engine);
	ctl_close(d->ctl);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	ring_buffer__free(d->rb);
	if (d->dp && (d->guard_only || d->stop_block)) {
		/* fail closed: stay attached, with no policy */
		if (!d->guard_only && !dp_set_state(d->dp, ATTLS_STATE_NONE))
			log_warnx("stop-mode block: the cgroups stay attached with "
				  "no policy (no TCP but permitted jobs) until "
				  "attlsd runs again; 'attlsd --cleanup' removes it");
		dp_release(d->dp);
	} else if (d->dp && !d->serving && dp_had_links(d->dp)) {
		/* A restart that failed: the pinned links of the previous
		 * attlsd still steer protected traffic to an engine that is
		 * gone, which refuses it.  Removing them would turn the
		 * protected ports into cleartext: leave them. */
		log_warnx("startup failed: the programs pinned by the previous "
			  "attlsd stay attached (protected connections are refused "
			  "until attlsd runs); 'attlsd --cleanup' removes them");
		dp_release(d->dp);
	} else {
		dp_detach_and_free(d->dp);
	}
	policy_free(d->policy);
	attls_map_image_free(&d->img);
	engine_destroy(d->engine);
	zert_close(d->zert);
	if (d->lock_fd >= 0) {
		unlink(d->pid_path);
		close(d->lock_fd);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file",         required_argument, NULL, 'f' },
		{ "cgroup",       required_argument, NULL, 'c' },
		{ "keyring-root", required_argument, NULL, 'k' },
		{ "zert-dir",     required_argument, NULL, 'z' },
		{ "threads",      required_argument, NULL, 't' },
		{ "netns",        required_argument, NULL, 'N' },
		{ "pin-root",     required_argument, NULL, 'P' },
		{ "cleanup",      no_argument,       NULL, 'C' },
		{ "guard",        no_argument,       NULL, 'G' },
		{ "stop-mode",    required_argument, NULL, 'S' },
		{ "permit",       required_argument, NULL, 'p' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "ctl-group",    required_argument, NULL, 'g' },
		{ "help",         no_argument,       NULL, 'h' },
		ZERT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct attlsd d = {
		.keyring_root = ATTLS_DEFAULT_KEYRINGS,
		.zert_dir = ATTLS_DEFAULT_ZERT,
		.lock_fd = -1,
		.timer_fd = -1,
	};
	struct attls_map_image img;
	struct policy *pol = NULL;
	int opt, err, cleanup = 0;
	sigset_t mask;
	char *end;

	while ((opt = getopt_long(argc, argv, "f:c:k:z:t:dnvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			d.policy_path = optarg;
			break;
		case 'c':
			if (d.ncgroups == ATTLSD_MAX_CGROUPS) {
				fprintf(stderr, "attlsd: at most %d --cgroup\n",
					ATTLSD_MAX_CGROUPS);
				return EXIT_FAILURE;
			}
			d.cgroups[d.ncgroups++] = optarg;
			break;
		case 'k':
			d.keyring_root = optarg;
			break;
		case 'z':
			d.zert_dir = optarg;
			break;
		case 't':
			errno = 0;
			d.threads = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || d.threads > 256) {
				fprintf(stderr, "attlsd: --threads %s: give 0..256\n",
					optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'M':
			errno = 0;
			d.max_conns = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !d.max_conns || d.max_conns > 10000000) {
				fprintf(stderr, "attlsd: --max-connections %s: give "
					"1..10000000\n", optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'N':
			d.netns = optarg;
			break;
		case 'P':
			d.pin_root = optarg;
			break;
		case 'C':
			cleanup = 1;
			break;
		case 'G':
			d.guard_only = 1;
			break;
		case 'S':
			if (!strcmp(optarg, "block")) {
				d.stop_block = 1;
			} else if (strcmp(optarg, "detach")) {
				fprintf(stderr, "attlsd: --stop-mode %s: give detach "
					"or block\n", optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'p':
			if (d.npermit == ATTLSD_MAX_CGROUPS) {
				fprintf(stderr, "attlsd: at most %d --permit\n",
					ATTLSD_MAX_CGROUPS);
				return EXIT_FAILURE;
			}
			d.permit[d.npermit++] = optarg;
			break;
		case 'g': {
			struct group *gr = getgrnam(optarg);

			if (!gr) {
				fprintf(stderr, "attlsd: --ctl-group %s: no such group\n",
					optarg);
				return EXIT_FAILURE;
			}
			d.ctl_group = optarg;
			d.ctl_gid = gr->gr_gid;
			break;
		}
		case 'd':
			trace_set_copy_stderr(1);
			break;
		case 'n':
			d.check_only = 1;
			break;
		case 'v':
			d.verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case ZERT_OPT_FIRST ... ZERT_OPT_LAST:
			if (zert_parse_opt(&d.zopts, opt, optarg))
				return EXIT_FAILURE;
			break;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "attlsd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_FAILURE;
	}
	log_init("attlsd", LOG_LVL_INFO + d.verbose, !d.check_only && !cleanup);
	libbpf_set_print(log_libbpf);

	if (cleanup) {
		err = dp_cleanup_pins(d.pin_root);
		if (err && err != -ENOENT) {
			log_warnx("cleanup of %s: %s",
				  d.pin_root ? d.pin_root : ATTLS_PIN_ROOT,
				  strerror(-err));
			return EXIT_FAILURE;
		}
		return EXIT_SUCCESS;
	}
	if (d.guard_only) {
		if (!d.ncgroups) {
			fprintf(stderr, "attlsd: --guard needs --cgroup\n");
			return EXIT_FAILURE;
		}
		err = guard(&d);
		teardown(&d);
		return err ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	if (!d.policy_path) {
		fprintf(stderr, "attlsd: no policy: give -f POLICY\n");
		usage(stderr);
		return EXIT_FAILURE;
	}
	if (load_policy(d.policy_path, &img, d.check_only && d.verbose, NULL, &pol))
		return EXIT_FAILURE;
	if (d.check_only) {
		printf("configuration OK\n");
		attls_map_image_free(&img);
		policy_free(pol);
		return EXIT_SUCCESS;
	}
	if (!d.ncgroups) {
		fprintf(stderr, "attlsd: no --cgroup given: nothing to protect\n");
		attls_map_image_free(&img);
		policy_free(pol);
		return EXIT_FAILURE;
	}
	if (geteuid() != 0)
		log_warnx("attlsd needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN); "
			  "expect failures");

	/* Signals are taken through signalfd in the main loop; engine
	 * threads inherit the blocked mask.  SIGPIPE: a peer gone away is a
	 * return code on that connection, never the daemon's death. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = run(&d, &img, pol);	/* takes img and pol */
	attls_map_image_free(&img);
	teardown(&d);
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}
