// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * zert.c - the zERT collector: connection detail records (SMF 119
 * subtype 11 analog) and interval summaries (subtype 12) as NDJSON in
 * ZERT_DIR/zert.ndjson, live watchers, counters.  docs/zert.md.
 *
 * Engine-protected connections come with full TLS attributes from the
 * engine.  Every other TCP connection of the attached cgroups comes from
 * sockops events, and its protection from stream observation: the kernel
 * sends up the first bytes of each direction (bpf/observe.bpf.h), they are
 * reassembled here by stream offset and parsed by user/observe.c.  The
 * init record is written when the observation is complete (handshake
 * seen, or cleartext recognised), or at the latest init_delay after
 * establishment with what is known then; a later difference becomes a
 * "change" record.  Never a secret in a record: only handshake fields.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "aj.h"
#include "cgroup.h"
#include "jw.h"
#include "log.h"
#include "privdrop.h"
#include "observe.h"
#include "zert.h"
#include "zert_out.h"
#include "zert_session.h"
#include "zert_sum.h"

#define ZERT_BUCKETS	4096	/* open sockops connections, chained */
#define ZERT_TICK_MS	250	/* timers: pending inits, intervals, rotation */
#define ZERT_WATCH_MAX	(1u << 20)	/* a watcher's backlog before cut-off */
#define ZERT_MAX_WATCHERS 16
#define ZERT_UID_CACHE	64
#define ZERT_CG_CACHE	256
#define ZERT_TIME_LEN	48	/* an ISO 8601 time with microseconds */

/* What was captured of one connection, while it is being observed. */
struct zert_obsbuf {
	uint8_t data[2][ATTLS_OBS_MAX_BYTES];	/* [0] received, [1] sent */
	uint8_t have[2][ATTLS_OBS_MAX_BYTES / 8];	/* bitmap of bytes in */
	uint32_t contig[2];			/* bytes in from offset 0 */
	uint32_t chunks;
};

/* A connection sockops reported established and not yet closed. */
struct zert_open {
	struct zert_open *next;		/* hash chain */
	struct zert_open *pnext, *pprev;	/* on lists.head[pending] */
	uint64_t cookie;
	uint64_t start_ns;		/* CLOCK_REALTIME */
	uint64_t est_mono;		/* established, CLOCK_MONOTONIC ns */
	uint32_t flags;			/* ATTLS_EVF_* of the established event */
	struct attls_flow flow;
	struct attls_owner owner;
	int pending;			/* LIST_PENDING, LIST_LINGER or 0 */
	int init_written;
	int observing;			/* obs may still change what we know */
	enum obs_kind kind;
	int partial;			/* attributes incomplete */
	int truncated, malformed;
	struct zert_obsbuf *obs;
	struct zert_session *sess;	/* TLS/SSH, NULL otherwise */
	struct zert_shape *shape;	/* counting in the summary */
	uint32_t captured[2];		/* contiguous bytes seen, [1] sent */
	uint64_t shape_sig;		/* state_sig() of the last record */
	int ended[2];			/* the kernel captures no more */
};

struct zert_watcher {
	int fd;
	char *buf;
	size_t len;
};

/* The pending-init and linger lists (see "sockops and stream observation
 * path" below), indexed by LIST_PENDING / LIST_LINGER. */
struct zert_lists {
	struct zert_open *head[3], *tail[3];
};

struct zert_counters {
	uint64_t records;
	uint64_t write_errors;
	uint64_t lost;
	uint64_t unmatched;
	uint64_t watch_dropped;
};

struct zert {
	pthread_mutex_t lock;
	struct zert_opts opts;
	struct zert_out *out;
	struct zert_sum *sum;
	char host[256];
	char boot_id[40];
	struct zert_open *open[ZERT_BUCKETS];
	struct zert_lists lists;
	struct obs_result *res;		/* scratch for obs_analyze() (large) */
	struct zert_counters cnt;
	uint64_t interval_start_ns;	/* CLOCK_REALTIME */
	time_t interval_end;		/* next boundary, seconds */
	time_t last_publish;
	int stats_fd;
	int ncpus;
	struct zert_watcher watchers[ZERT_MAX_WATCHERS];
	unsigned nwatchers;
	int wake_fd;			/* eventfd: watchers changed, stop */
	int stop;
	pthread_t thread;
	int thread_started;
	int cg_mnt_fd;			/* cgroup2 mount, for id -> path */
	char cg_mnt[PATH_MAX];
	struct { uint32_t uid; int valid; char name[33]; } uids[ZERT_UID_CACHE];
	struct { uint64_t id; char path[256]; } cgs[ZERT_CG_CACHE];
	struct jw jw;			/* the record being built */
	time_t tsec;			/* iso8601(): tsec_str is this second */
	char tsec_str[ZERT_TIME_LEN - 8];
	size_t tsec_len;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CLOCK_BOOTTIME stamp from the kernel -> CLOCK_REALTIME. */
static uint64_t boot_to_real(uint64_t boot_ns)
{
	uint64_t real = now_ns(CLOCK_REALTIME), boot = now_ns(CLOCK_BOOTTIME);

	return boot_ns <= boot ? real - (boot - boot_ns) : real;
}

/* ---- options ------------------------------------------------------------- */

/* A decimal number with an optional K/M/G (x1024) suffix, <= max. */
static int parse_num(const char *arg, uint64_t max, int suffix, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *arg == '-')
		return -EINVAL;
	if (suffix && *end) {
		switch (*end++) {
		case 'k': case 'K':
			v <<= 10;
			break;
		case 'm': case 'M':
			v <<= 20;
			break;
		case 'g': case 'G':
			v <<= 30;
			break;
		default:
			return -EINVAL;
		}
	}
	if (*end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int zert_parse_opt(struct zert_opts *o, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case ZERT_OPT_INTERVAL:
		if (parse_num(arg, 7 * 86400, 0, &v) || !v)
			goto bad;
		o->interval = (unsigned)v;
		return 0;
	case ZERT_OPT_MAX_SIZE:
		if (parse_num(arg, 1ull << 40, 1, &v) || (v && v < 4096))
			goto bad;
		/* 0 would mean "default": UINT64_MAX is "never" */
		o->max_bytes = v ? v : UINT64_MAX;
		return 0;
	case ZERT_OPT_MAX_AGE:
		if (parse_num(arg, 366 * 86400, 0, &v))
			goto bad;
		o->max_age = v ? (unsigned)v : UINT32_MAX;
		return 0;
	case ZERT_OPT_KEEP:
		if (parse_num(arg, 100000, 0, &v))
			goto bad;
		o->keep = (unsigned)v;
		return 0;
	case ZERT_OPT_RETENTION:
		if (parse_num(arg, 100000, 0, &v))
			goto bad;
		o->retention_days = v ? (unsigned)v : UINT32_MAX;
		return 0;
	case ZERT_OPT_INIT_DELAY:
		if (parse_num(arg, 600000, 0, &v))
			goto bad;
		o->init_delay_ms = v ? (unsigned)v : 1;
		return 0;
	}
bad:
	fprintf(stderr, "attlsd: bad value '%s' for a --zert-* option "
		"(see attlsd --help)\n", arg);
	return -EINVAL;
}

static void opts_resolve(struct zert_opts *o, struct zert_out_opts *oo)
{
	if (!o->interval)
		o->interval = ZERT_DEFAULT_INTERVAL;
	if (!o->init_delay_ms)
		o->init_delay_ms = ZERT_DEFAULT_INIT_MS;
	if (!o->max_bytes)
		o->max_bytes = ZERT_DEFAULT_MAX_BYTES;
	if (!o->max_age)
		o->max_age = ZERT_DEFAULT_MAX_AGE;
	if (!o->retention_days)
		o->retention_days = ZERT_DEFAULT_RETENTION;
	oo->max_bytes = o->max_bytes == UINT64_MAX ? 0 : o->max_bytes;
	oo->max_age = o->max_age == UINT32_MAX ? 0 : o->max_age;
	oo->keep = o->keep;
	oo->retention_days = o->retention_days == UINT32_MAX ? 0 : o->retention_days;
}

/* ---- identity: user names and cgroup paths, cached ------------------------ */

/* Caller holds z->lock. */
static const char *user_name(struct zert *z, uint32_t uid)
{
	unsigned slot = uid % ZERT_UID_CACHE;
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (z->uids[slot].valid && z->uids[slot].uid == uid)
		return z->uids[slot].name[0] ? z->uids[slot].name : NULL;
	getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
	z->uids[slot].uid = uid;
	z->uids[slot].valid = 1;
	snprintf(z->uids[slot].name, sizeof(z->uids[slot].name), "%s",
		 res ? res->pw_name : "");
	return res ? z->uids[slot].name : NULL;
}

static void cgroup_mount(struct zert *z)
{
	z->cg_mnt_fd = -1;
	if (!cgroup2_mount(z->cg_mnt, sizeof(z->cg_mnt)))
		z->cg_mnt_fd = open(z->cg_mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * The path of cgroup `id` below the cgroup2 root ("/system.slice/x"), as
 * /proc/PID/cgroup shows it.  On cgroup v2 the id is the kernfs node id,
 * which open_by_handle_at() takes as a FILEID_KERNFS handle; no directory
 * walk.  NULL when it cannot be resolved (the cgroup is gone).
 * Caller holds z->lock.
 */
static const char *cgroup_path(struct zert *z, uint64_t id)
{
	unsigned slot = (unsigned)(id % ZERT_CG_CACHE);
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char link[64], target[PATH_MAX];
	size_t mlen;
	ssize_t n;
	int fd;

	if (!id)
		return NULL;
	if (z->cgs[slot].id == id)
		return z->cgs[slot].path[0] ? z->cgs[slot].path : NULL;
	z->cgs[slot].id = id;
	z->cgs[slot].path[0] = '\0';
	if (z->cg_mnt_fd < 0)
		return NULL;
	h.fh.handle_bytes = sizeof(h.id);
	h.fh.handle_type = 0xfe;	/* FILEID_KERNFS */
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(z->cg_mnt_fd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	mlen = strlen(z->cg_mnt);
	if (!strncmp(target, z->cg_mnt, mlen) &&
	    (target[mlen] == '/' || !target[mlen]))
		snprintf(z->cgs[slot].path, sizeof(z->cgs[slot].path), "%.255s",
			 target[mlen] ? target + mlen : "/");
	else
		snprintf(z->cgs[slot].path, sizeof(z->cgs[slot].path), "%.255s",
			 target);
	return z->cgs[slot].path;
}

/* ---- records -------------------------------------------------------------- */

/*
 * Detail records are written with the streaming writer (user/jw.h) into
 * z->jw, reused from record to record; summaries, once an interval, keep
 * json-c.  Both end in record_line().  Callers hold z->lock.
 */

/* ISO 8601 UTC with microseconds into buf[32]: the part down to the
 * second is formatted once per second. */
static const char *iso8601(struct zert *z, uint64_t ns, char *buf)
{
	time_t s = (time_t)(ns / 1000000000ull);
	unsigned us = (unsigned)(ns % 1000000000ull / 1000), i;
	size_t n;
	struct tm tm;

	if (!z->tsec_len || s != z->tsec) {
		gmtime_r(&s, &tm);
		z->tsec_len = (size_t)snprintf(z->tsec_str, sizeof(z->tsec_str),
					       "%04d-%02d-%02dT%02d:%02d:%02d.",
					       tm.tm_year + 1900, tm.tm_mon + 1,
					       tm.tm_mday, tm.tm_hour, tm.tm_min,
					       tm.tm_sec);
		if (z->tsec_len >= sizeof(z->tsec_str))
			z->tsec_len = sizeof(z->tsec_str) - 1;
		z->tsec = s;
	}
	n = z->tsec_len;
	memcpy(buf, z->tsec_str, n);
	for (i = 6; i--; us /= 10)
		buf[n + i] = (char)('0' + us % 10);
	buf[n + 6] = 'Z';
	buf[n + 7] = '\0';
	return buf;
}

static void rec_time(struct zert *z, const char *key, uint64_t ns)
{
	char buf[ZERT_TIME_LEN];

	if (ns)
		jw_str(&z->jw, key, iso8601(z, ns, buf));
	else
		jw_null(&z->jw, key);
}

static void rec_endpoint(struct jw *w, const char *key, const __u8 *addr,
			 __u16 port)
{
	char buf[ATTLS_ADDRSTRLEN];

	jw_obj_open(w, key);
	jw_str(w, "addr", attls_addr_str(addr, buf, sizeof(buf)));
	jw_u64(w, "port", port);
	jw_obj_close(w);
}

static void comm_str(const struct attls_owner *ow, char *buf)
{
	memcpy(buf, ow->comm, ATTLS_COMM_LEN);
	buf[ATTLS_COMM_LEN] = '\0';
}

static void rec_owner(struct zert *z, const struct attls_owner *ow)
{
	char comm[ATTLS_COMM_LEN + 1];
	struct jw *w = &z->jw;

	comm_str(ow, comm);
	jw_u64(w, "pid", ow->pid);
	jw_str(w, "job", comm);
	jw_u64(w, "uid", ow->uid);
	jw_str(w, "user", user_name(z, ow->uid));
	jw_u64(w, "cgroup_id", ow->cgroup_id);
	jw_str(w, "cgroup", cgroup_path(z, ow->cgroup_id));
}

/* Start a detail record in z->jw: the fields every record starts with. */
static void rec_begin(struct zert *z, const char *event)
{
	struct jw *w = &z->jw;

	jw_reset(w);
	jw_obj_open(w, NULL);
	jw_str(w, "record", "zert-detail");
	jw_u64(w, "version", 2);
	jw_str(w, "event", event);
	rec_time(z, "time", now_ns(CLOCK_REALTIME));
	jw_str(w, "host", z->host);
	jw_str(w, "boot_id", z->boot_id);
}

/* The same fields for a summary record, in json-c. */
static struct json_object *record_new(struct zert *z, const char *kind,
				      const char *event)
{
	struct json_object *r = json_object_new_object();
	char buf[ZERT_TIME_LEN];
	int err;

	if (!r)
		return NULL;
	err = aj_add_str(r, "record", kind);
	err = err ?: aj_add_u64(r, "version", 2);
	err = err ?: aj_add_str(r, "event", event);
	err = err ?: aj_add_str(r, "time", iso8601(z, now_ns(CLOCK_REALTIME), buf));
	err = err ?: aj_add_str(r, "host", z->host);
	err = err ?: aj_add_str(r, "boot_id", z->boot_id);
	if (err) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static void watchers_send(struct zert *z, const char *line, size_t len);
static void interval_check(struct zert *z);

/* One complete line (the '\n' included) to the file's batch and the
 * watchers' backlogs; zert_sync() writes them. */
static void record_line(struct zert *z, const char *line, size_t len)
{
	zert_out_append(z->out, line, len);
	watchers_send(z, line, len);
}

/* End the detail record in z->jw and queue it (a failed build is lost). */
static void rec_end(struct zert *z)
{
	struct jw *w = &z->jw;

	jw_obj_close(w);
	jw_bytes(w, "\n", 1);
	if (w->err)
		z->cnt.lost++;
	else
		record_line(z, w->buf, w->len);
}

/* Queue a json-c record (NULL: building it failed) and put it. */
static void record_write(struct zert *z, struct json_object *r)
{
	const char *s;
	struct jw *w = &z->jw;

	s = r ? json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	if (s) {
		jw_reset(w);
		jw_bytes(w, s, strlen(s));
		jw_bytes(w, "\n", 1);
	}
	if (!s || w->err)
		z->cnt.lost++;
	else
		record_line(z, w->buf, w->len);
	json_object_put(r);
}

static void watchers_flush(struct zert *z);

/*
 * Write what is queued (file and watchers) and account for it.  Called
 * after each drain of the ring buffer (zert_flush()), at the end of each
 * engine record and each timer tick, and at close: a record waits in
 * memory at most until then (docs/zert.md "Durability").
 */
static void zert_sync(struct zert *z)
{
	struct zert_out_stats st;
	uint64_t before = z->cnt.write_errors;

	zert_out_flush(z->out);
	zert_out_take_stats(z->out, &st);
	z->cnt.records += st.written;
	if (st.lost) {
		z->cnt.write_errors += st.lost;
		if (!before || before / 1000 != z->cnt.write_errors / 1000)
			log_warnx("zERT: writing %s: %s (%llu record(s) lost so far)",
				  zert_out_path(z->out), strerror(-st.err),
				  (unsigned long long)z->cnt.write_errors);
	}
	watchers_flush(z);
}

void zert_flush(struct zert *z)
{
	if (!z)
		return;
	pthread_mutex_lock(&z->lock);
	zert_sync(z);
	pthread_mutex_unlock(&z->lock);
}

static void rec_sessions(struct jw *w, const struct zert_session *s)
{
	struct json_object *o;
	const char *txt;

	jw_arr_open(w, "security_sessions");
	if (s) {
		o = zert_session_json(s);
		txt = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE)
			: NULL;
		if (txt)
			jw_raw(w, NULL, txt, strlen(txt));
		else
			w->err = -ENOMEM;
		json_object_put(o);
	}
	jw_arr_close(w);
}

/* ---- engine path ----------------------------------------------------------- */

static void engine_key(struct zert *z, const struct zert_conn *c,
		       const struct zert_session *s, struct zert_shape_key *k)
{
	char comm[ATTLS_COMM_LEN + 1];

	comm_str(&c->owner, comm);
	zert_shape_key_fill(k, comm, c->owner.uid, user_name(z, c->owner.uid),
			    &c->wire, c->direction != ATTLS_RF_OUTBOUND,
			    "attls", s);
}

/* Queue the detail record of an engine connection. */
static void engine_record(struct zert *z, const struct zert_conn *c,
			  const char *event, const struct zert_session *s)
{
	struct jw *w = &z->jw;
	char id[32];

	snprintf(id, sizeof(id), "%016llx", (unsigned long long)c->conn_id);
	rec_begin(z, event);
	jw_str(w, "conn_id", id);
	rec_time(z, "start", c->start_ns);
	rec_time(z, "end", c->end_ns);
	rec_endpoint(w, "local", c->wire.laddr, c->wire.lport);
	rec_endpoint(w, "remote", c->wire.raddr, c->wire.rport);
	jw_str(w, "direction", c->direction == ATTLS_RF_OUTBOUND ? "outbound"
								   : "inbound");
	rec_owner(z, &c->owner);
	jw_str(w, "rule", c->rule);
	jw_obj_open(w, "actions");
	jw_str(w, "group", c->group);
	jw_str(w, "environment", c->env[0] ? c->env : NULL);
	jw_str(w, "connection", c->conn[0] ? c->conn : NULL);
	jw_obj_close(w);
	/* no session: stopped by the application, cleartext again */
	jw_str(w, "protection", s ? "attls" : "none");
	jw_bool(w, "cleartext", !s);
	rec_sessions(w, s);
	jw_u64(w, "tls_sessions", c->tls_sessions);
	jw_u64(w, "bytes_in", c->bytes_in);
	jw_u64(w, "bytes_out", c->bytes_out);
	jw_null(w, "segs_in");
	jw_null(w, "segs_out");
	jw_i64(w, "rc", c->rc);
	rec_end(z);
}

/* The session c->tls as a zERT session (handshaken: it completed); NULL
 * after counting the loss. */
static struct zert_session *engine_session(struct zert *z,
					   const struct zert_conn *c,
					   int handshaken)
{
	struct zert_session *s = malloc(sizeof(*s));

	if (!s) {
		pthread_mutex_lock(&z->lock);
		z->cnt.lost++;
		pthread_mutex_unlock(&z->lock);
		return NULL;
	}
	zert_session_from_engine(s, &c->tls, handshaken, c->rc);
	return s;
}

void zert_engine_init(struct zert *z, const struct zert_conn *c)
{
	struct zert_shape_key k;
	struct zert_session *s;

	if (!z || !(s = engine_session(z, c, 1)))
		return;
	pthread_mutex_lock(&z->lock);
	interval_check(z);
	engine_record(z, c, c->tls_sessions > 1 ? "change" : "init", s);
	engine_key(z, c, s, &k);
	if (!zert_sum_start(z->sum, &k, 0, s->outcome))
		z->cnt.lost++;
	zert_sync(z);
	pthread_mutex_unlock(&z->lock);
	free(s);
}

void zert_engine_stop(struct zert *z, const struct zert_conn *c)
{
	struct zert_shape_key k;
	struct zert_session *s;

	if (!z || !(s = engine_session(z, c, 1)))
		return;
	pthread_mutex_lock(&z->lock);
	interval_check(z);
	engine_record(z, c, "change", NULL);
	/* the session counted since its handshake ends (same attributes,
	 * same shape); the connection's bytes go with its term */
	engine_key(z, c, s, &k);
	zert_sum_end(zert_sum_find(z->sum, &k), 0, 0);
	zert_sync(z);
	pthread_mutex_unlock(&z->lock);
	free(s);
}

void zert_engine_term(struct zert *z, const struct zert_conn *c)
{
	int handshaken = c->tls_sessions > 0;
	struct zert_shape_key k;
	struct zert_session *s;

	if (!z || !(s = engine_session(z, c, handshaken)))
		return;
	pthread_mutex_lock(&z->lock);
	interval_check(z);
	if (!handshaken) {
		engine_record(z, c, "short-term", s);
		engine_key(z, c, s, &k);
		if (zert_sum_short(z->sum, &k, 0, s->outcome, c->bytes_in,
				   c->bytes_out))
			z->cnt.lost++;
	} else if (c->tls_active) {
		engine_record(z, c, "term", s);
		/* the same attributes as at its handshake: the same shape */
		engine_key(z, c, s, &k);
		zert_sum_end(zert_sum_find(z->sum, &k), c->bytes_in, c->bytes_out);
	} else {
		/* stopped before the end: its session ended already */
		engine_record(z, c, "term", NULL);
	}
	zert_sync(z);
	pthread_mutex_unlock(&z->lock);
	free(s);
}

/* ---- sockops and stream observation path ---------------------------------- */

/*
 * Connections wait on one of two FIFO lists, both ordered by
 * establishment (their deadlines are a constant after it):
 *   pending  no init record yet: written when observation completes, or
 *            at establishment + init_delay with what is known then
 *   linger   init written, observation still open: finalised at
 *            establishment + ZERT_LINGER_S at the latest, so capture
 *            buffers never outlive a handshake by long
 */
#define ZERT_LINGER_S	30
#define LIST_PENDING	1
#define LIST_LINGER	2

static unsigned cookie_bucket(uint64_t cookie)
{
	return (unsigned)((cookie * 0x9E3779B97F4A7C15ull) >> 52) % ZERT_BUCKETS;
}

static struct zert_open *open_find(struct zert *z, uint64_t cookie)
{
	struct zert_open *o;

	for (o = z->open[cookie_bucket(cookie)]; o; o = o->next)
		if (o->cookie == cookie)
			return o;
	return NULL;
}

static void open_unlink(struct zert *z, struct zert_open *o)
{
	struct zert_open **pp;

	for (pp = &z->open[cookie_bucket(o->cookie)]; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			return;
		}
	}
}

static void list_del(struct zert *z, struct zert_open *o)
{
	struct zert_lists *l = &z->lists;
	int w = o->pending;

	if (!w)
		return;
	if (o->pprev)
		o->pprev->pnext = o->pnext;
	else
		l->head[w] = o->pnext;
	if (o->pnext)
		o->pnext->pprev = o->pprev;
	else
		l->tail[w] = o->pprev;
	o->pnext = o->pprev = NULL;
	o->pending = 0;
}

static void list_add(struct zert *z, struct zert_open *o, int w)
{
	struct zert_lists *l = &z->lists;

	list_del(z, o);
	o->pending = w;
	o->pnext = NULL;
	o->pprev = l->tail[w];
	if (l->tail[w])
		l->tail[w]->pnext = o;
	else
		l->head[w] = o;
	l->tail[w] = o;
}

static void open_free(struct zert_open *o)
{
	if (!o)
		return;
	free(o->obs);
	free(o->sess);
	free(o);
}

static const char *protection_str(enum obs_kind k)
{
	switch (k) {
	case OBS_KIND_TLS:
		return "app-tls";
	case OBS_KIND_SSH:
		return "ssh";
	case OBS_KIND_NONE:
		return "none";
	default:
		return "unknown";
	}
}

/*
 * What a record states about the protection, as a number: a "change"
 * record is written when it differs from the one last written.
 */
static uint64_t state_sig(const struct zert_open *o)
{
	const struct zert_session *s = o->sess;
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)o->kind;
	const char *parts[8];
	unsigned i;
	const char *p;

	if (!s)
		return h;
	parts[0] = s->protocol;
	parts[1] = s->version;
	parts[2] = s->cipher;
	parts[3] = s->group;
	parts[4] = s->kex;
	parts[5] = s->server_cert.sha256;
	parts[6] = s->client_cert.sha256;
	parts[7] = s->host_key.sha256;
	for (i = 0; i < 8; i++) {
		for (p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;
	}
	return h ^ ((uint64_t)s->outcome << 56) ^ ((uint64_t)s->resumed << 60);
}

/*
 * Run the parsers over what was captured.  `final`: no more bytes will
 * come.  When the result is complete the capture buffers are freed.
 * Caller holds z->lock.
 */
static void obs_update(struct zert *z, struct zert_open *o, int final)
{
	struct obs_result *res = z->res;
	const struct zert_obsbuf *b = o->obs;

	obs_analyze(b ? b->data[1] : NULL, b ? b->contig[1] : 0,
		    b ? b->data[0] : NULL, b ? b->contig[0] : 0,
		    !!(o->flags & ATTLS_EVF_ACTIVE), final, res);
	o->kind = res->kind;
	o->truncated = res->truncated;
	o->malformed = res->malformed;
	if (res->kind == OBS_KIND_TLS || res->kind == OBS_KIND_SSH) {
		if (!o->sess)
			o->sess = malloc(sizeof(*o->sess));
		if (o->sess)
			zert_session_from_obs(o->sess, res);
		else
			z->cnt.lost++;
	} else {
		free(o->sess);
		o->sess = NULL;
	}
	o->partial = o->kind == OBS_KIND_UNKNOWN ||
		     (o->sess && o->sess->outcome == ZERT_OUT_INCOMPLETE);
	if (res->complete) {
		o->observing = 0;
		free(o->obs);
		o->obs = NULL;
	}
}

/* Observation details of a record: what the verdict rests on. */
static void rec_observation(struct jw *w, const struct zert_open *o,
			    uint32_t sent, uint32_t rcvd)
{
	jw_obj_open(w, "observation");
	jw_bool(w, "complete", !o->observing);
	jw_bool(w, "partial", o->partial);
	jw_bool(w, "truncated", o->truncated);
	jw_bool(w, "malformed", o->malformed);
	jw_u64(w, "bytes_sent", sent);
	jw_u64(w, "bytes_received", rcvd);
	jw_obj_close(w);
}

/* Queue a detail record of a sockops connection.  `o` NULL: a close of a
 * connection established before this attlsd.  Caller holds z->lock. */
static void sock_record(struct zert *z, const char *event,
			const struct zert_open *o, const struct attls_event *ev)
{
	const struct attls_flow *flow = o ? &o->flow : &ev->flow;
	const struct attls_owner *owner = o ? &o->owner : &ev->owner;
	uint32_t flags = o ? o->flags : ev->flags;
	int closed = ev && ev->type == ATTLS_EV_CLOSED;
	struct jw *w = &z->jw;
	char id[32];

	rec_begin(z, event);
	snprintf(id, sizeof(id), "c%016llx",
		 (unsigned long long)(o ? o->cookie : ev->cookie));
	jw_str(w, "conn_id", id);
	rec_time(z, "start", o ? o->start_ns : 0);
	rec_time(z, "end", closed ? boot_to_real(ev->ts_ns) : 0);
	rec_endpoint(w, "local", flow->laddr, flow->lport);
	rec_endpoint(w, "remote", flow->raddr, flow->rport);
	jw_str(w, "direction", flags & ATTLS_EVF_ACTIVE ? "outbound" : "inbound");
	if (!(flags & ATTLS_EVF_NO_OWNER))
		rec_owner(z, owner);
	jw_null(w, "rule");
	jw_null(w, "actions");
	jw_str(w, "protection", protection_str(o ? o->kind : OBS_KIND_UNKNOWN));
	jw_bool(w, "cleartext", o && o->kind == OBS_KIND_NONE);
	rec_sessions(w, o ? o->sess : NULL);
	if (o)
		rec_observation(w, o, o->captured[1], o->captured[0]);
	if (closed) {
		jw_u64(w, "bytes_in", ev->bytes_in);
		jw_u64(w, "bytes_out", ev->bytes_out);
		jw_u64(w, "segs_in", ev->segs_in);
		jw_u64(w, "segs_out", ev->segs_out);
	}
	rec_end(z);
}

static void sock_key(struct zert *z, const struct zert_open *o,
		     struct zert_shape_key *k)
{
	char comm[ATTLS_COMM_LEN + 1];

	comm_str(&o->owner, comm);
	zert_shape_key_fill(k, comm, o->owner.uid, user_name(z, o->owner.uid),
			    &o->flow, !(o->flags & ATTLS_EVF_ACTIVE),
			    protection_str(o->kind), o->sess);
}

/* Count `o` in its (new) summary shape. */
static void sum_join(struct zert *z, struct zert_open *o)
{
	struct zert_shape_key k;

	sock_key(z, o, &k);
	o->shape = zert_sum_start(z->sum, &k, o->partial, o->sess ?
				  o->sess->outcome : ZERT_OUT_INCOMPLETE);
	if (!o->shape)
		z->cnt.lost++;
}

/* Init or change record for `o`, and its place on the lists afterwards. */
static void sock_report(struct zert *z, struct zert_open *o)
{
	uint64_t sig = state_sig(o);

	if (!o->init_written) {
		sock_record(z, "init", o, NULL);
		o->init_written = 1;
		sum_join(z, o);
	} else if (sig != o->shape_sig) {
		sock_record(z, "change", o, NULL);
		/* a changed security session counts as a new one */
		zert_sum_end(o->shape, 0, 0);
		sum_join(z, o);
	}
	o->shape_sig = sig;
	if (o->observing)
		list_add(z, o, LIST_LINGER);
	else
		list_del(z, o);
}

static void sock_established(struct zert *z, const struct attls_event *ev)
{
	struct zert_open *o = calloc(1, sizeof(*o));
	unsigned b = cookie_bucket(ev->cookie);

	if (!o) {
		/* no record can be written for it now or at its close */
		z->cnt.lost++;
		return;
	}
	o->cookie = ev->cookie;
	o->start_ns = boot_to_real(ev->ts_ns);
	o->est_mono = now_ns(CLOCK_MONOTONIC) -
		      (now_ns(CLOCK_BOOTTIME) - ev->ts_ns);
	o->flags = ev->flags;
	o->flow = ev->flow;
	o->owner = ev->owner;
	o->next = z->open[b];
	z->open[b] = o;
	/* The application's side of an engine hop is part of the engine's
	 * record (protection attls): kept only to recognise its close. */
	if (ev->flags & ATTLS_EVF_HOP)
		return;
	o->observing = 1;
	list_add(z, o, LIST_PENDING);
}

static void sock_closed(struct zert *z, const struct attls_event *ev)
{
	struct zert_open *o = open_find(z, ev->cookie);
	struct zert_shape_key k;

	if (o)
		open_unlink(z, o);
	if (o && (o->flags & ATTLS_EVF_HOP)) {
		open_free(o);
		return;
	}
	if (!o) {
		/* established before this attlsd: all we know is the close */
		sock_record(z, "short-term", NULL, ev);
		return;
	}
	list_del(z, o);
	if (o->observing)
		obs_update(z, o, 1);
	if (o->init_written) {
		if (state_sig(o) != o->shape_sig) {
			sock_record(z, "change", o, NULL);
			zert_sum_end(o->shape, 0, 0);
			sum_join(z, o);
		}
		sock_record(z, "term", o, ev);
		zert_sum_end(o->shape, ev->bytes_in, ev->bytes_out);
	} else {
		sock_record(z, "short-term", o, ev);
		sock_key(z, o, &k);
		if (zert_sum_short(z->sum, &k, o->partial, o->sess ?
				   o->sess->outcome : ZERT_OUT_INCOMPLETE,
				   ev->bytes_in, ev->bytes_out))
			z->cnt.lost++;
	}
	open_free(o);
}

/* Mark [off, off+len) captured and extend the contiguous prefix. */
static void obs_place(struct zert_obsbuf *b, int dir, uint32_t off,
		      const uint8_t *data, uint32_t len)
{
	uint32_t i;

	memcpy(b->data[dir] + off, data, len);
	for (i = off; i < off + len; i++)
		b->have[dir][i / 8] |= (uint8_t)(1u << (i % 8));
	while (b->contig[dir] < ATTLS_OBS_MAX_BYTES &&
	       (b->have[dir][b->contig[dir] / 8] & (1u << (b->contig[dir] % 8))))
		b->contig[dir]++;
}

static void obs_chunk(struct zert *z, const struct attls_obs_event *ev,
		      size_t len)
{
	struct zert_open *o = open_find(z, ev->cookie);
	int dir = ev->flags & ATTLS_OBS_F_SENT ? 1 : 0, final;

	if (!o || (o->flags & ATTLS_EVF_HOP)) {
		z->cnt.unmatched++;
		return;
	}
	if (!o->observing)
		return;		/* decided already; the kernel stops soon */
	if (!ev->len || ev->offset >= ATTLS_OBS_MAX_BYTES ||
	    ev->len > ATTLS_OBS_MAX_BYTES - ev->offset ||
	    ATTLS_OBS_EVENT_HDR + (size_t)ev->len > len) {
		z->cnt.unmatched++;
		return;
	}
	if (!o->obs) {
		o->obs = calloc(1, sizeof(*o->obs));
		if (!o->obs) {
			z->cnt.lost++;
			o->observing = 0;
			return;
		}
	}
	obs_place(o->obs, dir, ev->offset, ev->data, ev->len);
	o->obs->chunks++;
	o->captured[dir] = o->obs->contig[dir];
	/* the kernel stops a direction at these limits: nothing follows */
	if (ev->seg + 1 >= ATTLS_OBS_MAX_SEGS ||
	    ev->offset + ev->len >= ATTLS_OBS_MAX_BYTES)
		o->ended[dir] = 1;
	final = o->ended[0] && o->ended[1];
	obs_update(z, o, final);
	if (!o->observing)
		sock_report(z, o);
}

void zert_ringbuf_event(struct zert *z, const void *data, size_t len)
{
	const struct attls_event *ev = data;
	__u32 type;

	if (!z)
		return;
	pthread_mutex_lock(&z->lock);
	interval_check(z);
	if (len < sizeof(__u32)) {
		z->cnt.unmatched++;
		goto unlock;
	}
	memcpy(&type, data, sizeof(type));
	switch (type) {
	case ATTLS_EV_ESTABLISHED:
	case ATTLS_EV_CLOSED:
		if (len < sizeof(*ev)) {
			z->cnt.unmatched++;
			break;
		}
		if (type == ATTLS_EV_ESTABLISHED)
			sock_established(z, ev);
		else
			sock_closed(z, ev);
		break;
	case ATTLS_EV_PAYLOAD:
		if (len < ATTLS_OBS_EVENT_HDR) {
			z->cnt.unmatched++;
			break;
		}
		obs_chunk(z, data, len);
		break;
	default:
		z->cnt.unmatched++;
		break;
	}
unlock:
	pthread_mutex_unlock(&z->lock);
}

/* ---- timers ------------------------------------------------------------- */

/* Caller holds z->lock. */
static void lists_tick(struct zert *z)
{
	struct zert_lists *l = &z->lists;
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	uint64_t init_ns = (uint64_t)z->opts.init_delay_ms * 1000000ull;
	uint64_t linger_ns = (uint64_t)ZERT_LINGER_S * 1000000000ull;
	struct zert_open *o;

	while ((o = l->head[LIST_PENDING]) && o->est_mono + init_ns <= now) {
		/* what is known now; observation goes on (a change later) */
		obs_update(z, o, 0);
		sock_report(z, o);
	}
	while ((o = l->head[LIST_LINGER]) && o->est_mono + linger_ns <= now) {
		obs_update(z, o, 1);
		sock_report(z, o);
		list_del(z, o);
	}
}

static struct json_object *summary_hdr(void *arg)
{
	return record_new(arg, "zert-summary", "interval");
}

static void summary_emit(void *arg, struct json_object *rec)
{
	record_write(arg, rec);
}

/* Caller holds z->lock. */
static void interval_end(struct zert *z, uint64_t end_ns)
{
	zert_sum_interval(z->sum, z->interval_start_ns, end_ns, z->opts.interval,
			  summary_hdr, summary_emit, z);
	z->interval_start_ns = end_ns;
}

/* Boundaries are aligned to the wall clock, as SMF intervals are. */
static time_t next_boundary(time_t now, unsigned interval)
{
	return (now / (time_t)interval + 1) * (time_t)interval;
}

static void publish_counters(struct zert *z)
{
	static const int idx[] = {
		ATTLS_STAT_ZERT_RECORDS, ATTLS_STAT_ZERT_WRITE_ERRORS,
		ATTLS_STAT_ZERT_LOST, ATTLS_STAT_ZERT_UNMATCHED,
		ATTLS_STAT_ZERT_WATCH_DROPPED,
	};
	uint64_t vals[5] = { z->cnt.records, z->cnt.write_errors, z->cnt.lost,
			     z->cnt.unmatched, z->cnt.watch_dropped };
	uint64_t *percpu;
	unsigned i;

	if (z->stats_fd < 0 || z->ncpus <= 0)
		return;
	percpu = calloc((size_t)z->ncpus, sizeof(*percpu));
	if (!percpu)
		return;
	for (i = 0; i < 5; i++) {
		__u32 key = (__u32)idx[i];

		percpu[0] = vals[i];
		bpf_map_update_elem(z->stats_fd, &key, percpu, BPF_ANY);
	}
	free(percpu);
}

/*
 * Close the interval if its end has passed.  Called by the timer and
 * before counting any event, so an event just after a boundary counts in
 * the next interval, not in the one the timer has yet to close.  Caller
 * holds z->lock.
 */
static void interval_check(struct zert *z)
{
	time_t now = time(NULL);

	if (now >= z->interval_end) {
		interval_end(z, (uint64_t)z->interval_end * 1000000000ull);
		z->interval_end = next_boundary(now, z->opts.interval);
	}
}

/* Caller holds z->lock. */
static void tick(struct zert *z)
{
	time_t now = time(NULL);

	lists_tick(z);
	interval_check(z);
	if (now != z->last_publish) {
		zert_out_tick(z->out, now);
		publish_counters(z);
		z->last_publish = now;
	}
	zert_sync(z);
}

/* ---- live watchers -------------------------------------------------------- */

/* Try to write a watcher's backlog; 0, or -1 when it must go. */
static int watcher_flush(struct zert_watcher *w)
{
	ssize_t n;

	while (w->len) {
		n = write(w->fd, w->buf, w->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		memmove(w->buf, w->buf + n, w->len - (size_t)n);
		w->len -= (size_t)n;
	}
	return 0;
}

/* Drop watcher i, closing its fd.  Callers hold the lock; the collector's
 * thread may be polling the old fd number meanwhile, which is harmless:
 * it matches events to watchers by fd after taking the lock. */
static void watcher_drop(struct zert *z, unsigned i)
{
	close(z->watchers[i].fd);
	free(z->watchers[i].buf);
	z->watchers[i] = z->watchers[--z->nwatchers];
}

/* Queue a line for every watcher; written by watchers_flush(), or here
 * once a backlog reaches a batch.  Caller holds z->lock. */
static void watchers_send(struct zert *z, const char *line, size_t len)
{
	struct zert_watcher *w;
	unsigned i = 0;
	char *nb;

	while (i < z->nwatchers) {
		w = &z->watchers[i];
		if (w->len + len > ZERT_WATCH_MAX) {
			z->cnt.watch_dropped++;
			log_warnx("zERT: a live watcher fell %u bytes behind; "
				  "cut off", ZERT_WATCH_MAX);
			watcher_drop(z, i);
			continue;
		}
		nb = realloc(w->buf, w->len + len);
		if (!nb) {
			z->cnt.watch_dropped++;
			watcher_drop(z, i);
			continue;
		}
		w->buf = nb;
		memcpy(w->buf + w->len, line, len);
		w->len += len;
		if (w->len >= ZERT_OUT_BATCH && watcher_flush(w)) {
			watcher_drop(z, i);	/* it went away */
			continue;
		}
		i++;
	}
}

/* Write the watchers' backlogs.  Caller holds z->lock. */
static void watchers_flush(struct zert *z)
{
	unsigned i = 0;

	while (i < z->nwatchers) {
		if (z->watchers[i].len && watcher_flush(&z->watchers[i]))
			watcher_drop(z, i);	/* it went away */
		else
			i++;
	}
}

int zert_watch(struct zert *z, int fd, const char **errmsg)
{
	static const char ok[] = "{\"ok\":true}\n";
	struct zert_watcher *w;
	uint64_t one = 1;
	int err = 0;

	pthread_mutex_lock(&z->lock);
	if (z->nwatchers == ZERT_MAX_WATCHERS) {
		*errmsg = "too many live watchers";
		err = -EBUSY;
		goto unlock;
	}
	w = &z->watchers[z->nwatchers];
	w->buf = malloc(sizeof(ok) - 1);
	if (!w->buf) {
		err = -ENOMEM;
		goto unlock;
	}
	memcpy(w->buf, ok, sizeof(ok) - 1);
	w->len = sizeof(ok) - 1;
	w->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	z->nwatchers++;
	if (watcher_flush(w)) {
		/* keep the fd: on error the caller closes it */
		free(w->buf);
		z->nwatchers--;
		err = -EPIPE;
		goto unlock;
	}
unlock:
	pthread_mutex_unlock(&z->lock);
	if (!err && write(z->wake_fd, &one, sizeof(one)) < 0)
		log_warn("zERT: waking the collector");
	return err;
}

static void *zert_thread(void *arg)
{
	struct pollfd pfd[1 + ZERT_MAX_WATCHERS];
	struct zert *z = arg;
	uint64_t v;
	unsigned i, n, j;
	char junk[256];
	int err;

	err = privdrop_worker();	/* no capability (privdrop.h) */
	if (err)
		log_warnx("zERT collector: cannot drop capabilities: %s",
			  strerror(-err));
	pthread_mutex_lock(&z->lock);
	while (!z->stop) {
		pfd[0].fd = z->wake_fd;
		pfd[0].events = POLLIN;
		for (n = 0; n < z->nwatchers; n++) {
			pfd[1 + n].fd = z->watchers[n].fd;
			pfd[1 + n].events = POLLIN | POLLRDHUP |
					    (z->watchers[n].len ? POLLOUT : 0);
			pfd[1 + n].revents = 0;
		}
		pthread_mutex_unlock(&z->lock);
		if (poll(pfd, 1 + n, ZERT_TICK_MS) > 0 && (pfd[0].revents & POLLIN))
			(void)!read(z->wake_fd, &v, sizeof(v));
		pthread_mutex_lock(&z->lock);
		/* the set may have changed meanwhile: match by fd */
		for (j = 0; j < n; j++) {
			short re = pfd[1 + j].revents;

			if (!re)
				continue;
			for (i = 0; i < z->nwatchers; i++)
				if (z->watchers[i].fd == pfd[1 + j].fd)
					break;
			if (i == z->nwatchers)
				continue;
			if (re & POLLIN) {
				/* a watcher sends nothing: EOF or junk */
				ssize_t r = read(pfd[1 + j].fd, junk, sizeof(junk));

				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					watcher_drop(z, i);
					continue;
				}
			}
			if ((re & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) ||
			    watcher_flush(&z->watchers[i]))
				watcher_drop(z, i);
		}
		tick(z);
	}
	pthread_mutex_unlock(&z->lock);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------------- */

int zert_open(const char *dir, const struct zert_opts *opts, struct zert **out)
{
	struct zert_out_opts oo = {};
	struct zert *z;
	FILE *b;
	int err;

	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	z->stats_fd = -1;
	z->wake_fd = -1;
	if (opts)
		z->opts = *opts;
	opts_resolve(&z->opts, &oo);
	z->res = malloc(sizeof(*z->res));
	if (!z->res) {
		err = -ENOMEM;
		goto free_z;
	}
	err = zert_sum_new(&z->sum);
	if (err)
		goto free_z;
	err = zert_out_open(dir, &oo, &z->out);
	if (err)
		goto free_z;
	pthread_mutex_init(&z->lock, NULL);
	if (gethostname(z->host, sizeof(z->host) - 1))
		snprintf(z->host, sizeof(z->host), "unknown");
	b = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (b) {
		if (!fgets(z->boot_id, sizeof(z->boot_id), b))
			z->boot_id[0] = '\0';
		z->boot_id[strcspn(z->boot_id, "\n")] = '\0';
		fclose(b);
	}
	cgroup_mount(z);
	z->ncpus = libbpf_num_possible_cpus();
	z->interval_start_ns = now_ns(CLOCK_REALTIME);
	z->interval_end = next_boundary(time(NULL), z->opts.interval);
	z->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (z->wake_fd < 0) {
		err = -errno;
		goto close_out;
	}
	err = -pthread_create(&z->thread, NULL, zert_thread, z);
	if (err)
		goto close_out;
	z->thread_started = 1;
	*out = z;
	return 0;

close_out:
	if (z->wake_fd >= 0)
		close(z->wake_fd);
	if (z->cg_mnt_fd >= 0)
		close(z->cg_mnt_fd);
	zert_out_close(z->out);
	pthread_mutex_destroy(&z->lock);
free_z:
	zert_sum_free(z->sum);
	free(z->res);
	free(z);
	return err;
}

void zert_close(struct zert *z)
{
	struct zert_open *o, *next;
	uint64_t one = 1;
	unsigned i;

	if (!z)
		return;
	if (z->thread_started) {
		pthread_mutex_lock(&z->lock);
		z->stop = 1;
		pthread_mutex_unlock(&z->lock);
		if (write(z->wake_fd, &one, sizeof(one)) < 0)
			log_warn("zERT: stopping the collector thread");
		pthread_join(z->thread, NULL);
	}
	pthread_mutex_lock(&z->lock);
	/* close-out: the summaries of the interval cut short */
	interval_end(z, now_ns(CLOCK_REALTIME));
	zert_sync(z);
	publish_counters(z);
	while (z->nwatchers)
		watcher_drop(z, 0);
	pthread_mutex_unlock(&z->lock);
	for (i = 0; i < ZERT_BUCKETS; i++) {
		for (o = z->open[i]; o; o = next) {
			next = o->next;
			open_free(o);
		}
	}
	zert_sum_free(z->sum);
	zert_out_close(z->out);
	if (z->wake_fd >= 0)
		close(z->wake_fd);
	if (z->cg_mnt_fd >= 0)
		close(z->cg_mnt_fd);
	pthread_mutex_destroy(&z->lock);
	jw_free(&z->jw);
	free(z->res);
	free(z);
}

void zert_set_stats_map(struct zert *z, int fd)
{
	if (!z)
		return;
	pthread_mutex_lock(&z->lock);
	z->stats_fd = fd;
	publish_counters(z);
	pthread_mutex_unlock(&z->lock);
}

int zert_stats_json(struct zert *z, struct json_object *reply)
{
	struct zert_counters c;
	unsigned long long nopen = 0;
	struct zert_open *o;
	unsigned i, nw;
	int err;

	pthread_mutex_lock(&z->lock);
	c = z->cnt;
	nw = z->nwatchers;
	for (i = 0; i < ZERT_BUCKETS; i++)
		for (o = z->open[i]; o; o = o->next)
			nopen++;
	pthread_mutex_unlock(&z->lock);
	err = aj_add_str(reply, "file", zert_out_path(z->out));
	err = err ?: aj_add_str(reply, "dir", zert_out_dir(z->out));
	err = err ?: aj_add_u64(reply, "interval", z->opts.interval);
	err = err ?: aj_add_u64(reply, "records", c.records);
	err = err ?: aj_add_u64(reply, "write_errors", c.write_errors);
	err = err ?: aj_add_u64(reply, "lost", c.lost);
	err = err ?: aj_add_u64(reply, "unmatched", c.unmatched);
	err = err ?: aj_add_u64(reply, "watchers_dropped", c.watch_dropped);
	err = err ?: aj_add_u64(reply, "watchers", nw);
	err = err ?: aj_add_u64(reply, "open_connections", nopen);
	return err;
}

const char *zert_path(const struct zert *z)
{
	return zert_out_path(z->out);
}

const char *zert_dir(const struct zert *z)
{
	return zert_out_dir(z->out);
}
