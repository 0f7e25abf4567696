// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * zert.c - attlsctl zert: the zERT records (docs/zert.md).
 *
 *   attlsctl zert watch  [FILTERS]        live records from attlsd
 *   attlsctl zert export [FILTERS] [--since T] [--until T] [--dir DIR]
 *                                         stored records, as NDJSON
 *   attlsctl zert report [same]           the Network Analyzer questions:
 *                                         unprotected traffic, TLS versions
 *                                         and ciphers, classical vs post-
 *                                         quantum key exchange, certificates
 *                                         by expiry, handshake failures
 *   attlsctl zert stats                   the collector's counters
 *
 * FILTERS: --job J (a glob), --protection P, --summary (summary records
 * instead of detail records).  Export and report read the NDJSON files
 * themselves (an export is not daemon internals): DIR from --dir, else
 * from attlsd, else /var/lib/attls/zert.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../bpf/attls_abi.h"
#include "../user/aj.h"
#include "../user/ctl.h"
#include "attlsctl.h"

#define ZERT_DEFAULT_DIR	"/var/lib/attls/zert"
#define ZERT_ACTIVE		"zert.ndjson"
#define REPORT_ROWS		50	/* rows per report table (text) */

struct zfilter {
	const char *job;
	const char *protection;
	int summary;
	int have_since, have_until;
	double since, until;		/* epoch seconds */
	const char *dir;
};

/* ---- arguments ------------------------------------------------------------ */

/*
 * A time: "2026-01-02", "2026-01-02T03:04[:05][Z]" (UTC), "@EPOCH",
 * "now", or relative to now: "-90s", "-30m", "-2h", "-7d".
 */
static int parse_time(const char *s, double *out)
{
	struct tm tm = {};
	const char *end;
	char *e;
	double v;

	if (!strcmp(s, "now")) {
		*out = (double)time(NULL);
		return 0;
	}
	if (*s == '@') {
		v = strtod(s + 1, &e);
		if (e == s + 1 || *e)
			return -EINVAL;
		*out = v;
		return 0;
	}
	if (*s == '-') {
		v = strtod(s + 1, &e);
		if (e == s + 1 || v < 0)
			return -EINVAL;
		switch (*e) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		default: return -EINVAL;
		}
		if (e[1])
			return -EINVAL;
		*out = (double)time(NULL) - v;
		return 0;
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return -EINVAL;
	if (*end == 'T' || *end == ' ') {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);

		end = e2 ? e2 : strptime(end + 1, "%H:%M", &tm);
		if (!end)
			return -EINVAL;
	}
	if (*end == 'Z')
		end++;
	if (*end)
		return -EINVAL;
	*out = (double)timegm(&tm);
	return 0;
}

/* Parse the filter options; *argi is the first operand after them. */
static int parse_filters(const struct ctl *c, int argc, char **argv,
			 struct zfilter *f, int with_times)
{
	static const struct option opts[] = {
		{ "job",        required_argument, NULL, 'J' },
		{ "protection", required_argument, NULL, 'P' },
		{ "summary",    no_argument,       NULL, 'S' },
		{ "since",      required_argument, NULL, 's' },
		{ "until",      required_argument, NULL, 'u' },
		{ "dir",        required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(f, 0, sizeof(*f));
	/* argv[0] is the first argument, not a program name */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc + 1, argv - 1, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'J':
			f->job = optarg;
			break;
		case 'P':
			f->protection = optarg;
			break;
		case 'S':
			f->summary = 1;
			break;
		case 's':
		case 'u':
			if (!with_times) {
				p_err(c, "--since/--until: only for export and report");
				return -EINVAL;
			}
			if (parse_time(optarg, opt == 's' ? &f->since : &f->until)) {
				p_err(c, "bad time '%s': give YYYY-MM-DD[THH:MM[:SS]], "
				      "@EPOCH, now, or -N[smhd]", optarg);
				return -EINVAL;
			}
			if (opt == 's')
				f->have_since = 1;
			else
				f->have_until = 1;
			break;
		case 'd':
			f->dir = optarg;
			break;
		default:
			p_err(c, "unknown option '%s' (see 'attlsctl help')",
			      argv[optind - 2 >= 0 ? optind - 2 : 0]);
			return -EINVAL;
		}
	}
	if (optind - 1 < argc) {
		p_err(c, "unexpected argument '%s'", argv[optind - 1]);
		return -EINVAL;
	}
	return 0;
}

/* ---- records ----------------------------------------------------------------- */

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *jobj(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* A path "a.b.c" of objects. */
static struct json_object *jpath(struct json_object *o, const char *path)
{
	char buf[128], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
		o = jobj(o, tok);
	return o;
}

static int64_t jint(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v = jobj(o, key);

	return v ? json_object_get_int64(v) : dflt;
}

/* The record's first security session, or NULL. */
static struct json_object *first_session(struct json_object *r)
{
	struct json_object *a = jobj(r, "security_sessions");

	if (!a || !json_object_is_type(a, json_type_array) ||
	    !json_object_array_length(a))
		return NULL;
	return json_object_array_get_idx(a, 0);
}

/* "2026-11-27T09:06:43.499770Z" -> epoch seconds; -1 if not a time. */
static double rec_time(struct json_object *r)
{
	const char *s = jstr(r, "time");
	struct tm tm = {};
	const char *end;
	double frac = 0;

	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*end == '.')
		frac = strtod(end, NULL);
	return (double)timegm(&tm) + frac;
}

static int rec_matches(const struct zfilter *f, struct json_object *r)
{
	const char *kind = jstr(r, "record"), *v;
	double t;

	if (!kind || strcmp(kind, f->summary ? "zert-summary" : "zert-detail"))
		return 0;
	if (f->job && (!(v = jstr(r, "job")) || fnmatch(f->job, v, 0)))
		return 0;
	if (f->protection && (!(v = jstr(r, "protection")) ||
			      strcmp(f->protection, v)))
		return 0;
	if (f->have_since || f->have_until) {
		t = rec_time(r);
		if (t < 0 || (f->have_since && t < f->since) ||
		    (f->have_until && t >= f->until))
			return 0;
	}
	return 1;
}

/* The server-side port of a record: ours when inbound. */
static int64_t server_port(struct json_object *r)
{
	const char *dir = jstr(r, "direction");
	int in = !dir || !strcmp(dir, "inbound");

	return jint(jobj(r, in ? "local" : "remote"), "port", 0);
}

/* ---- zert dir ------------------------------------------------------------------ */

/* Ask attlsd quietly for its zERT directory (it may run with --zert-dir):
 * 0 with dir filled, or -errno (then the caller uses the default). */
static int daemon_dir(const struct ctl *c, char *dir, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const char req[] = "{\"cmd\":\"zert\"}\n";
	struct pollfd p = { .events = POLLIN };
	struct json_object *r;
	char buf[8192];
	size_t got = 0;
	ssize_t n;
	int fd, err = -EIO;

	ctl_socket_path(c->pin_root, sun.sun_path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		err = -errno;
		goto close_fd;
	}
	p.fd = fd;
	while (got < sizeof(buf) - 1 && poll(&p, 1, 2000) > 0) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	r = json_tokener_parse(buf);
	if (r && jstr(r, "dir")) {
		snprintf(dir, len, "%s", jstr(r, "dir"));
		err = 0;
	}
	json_object_put(r);
close_fd:
	close(fd);
	return err;
}

static void resolve_dir(const struct ctl *c, const struct zfilter *f,
			char *dir, size_t len)
{
	if (f->dir)
		snprintf(dir, len, "%s", f->dir);
	else if (daemon_dir(c, dir, len))
		snprintf(dir, len, "%s", ZERT_DEFAULT_DIR);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Call fn for every record of the files in `dir`, oldest first (rotated
 * files sort by their rotation time, zert.ndjson is the newest).  A
 * rotated file whose rotation came before --since holds nothing newer and
 * is skipped.  Lines that are not JSON objects are counted in *bad.
 */
static int for_each_record(const struct ctl *c, const char *dir,
			   const struct zfilter *f,
			   int (*fn)(void *arg, struct json_object *r, const char *line),
			   void *arg, unsigned long *bad)
{
	char **names = NULL, path[PATH_MAX + 300], *line = NULL;
	size_t n = 0, cap = 0, i, lcap = 0;
	struct dirent *de;
	ssize_t len;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d) {
		err = -errno;
		p_err(c, "cannot read the zERT directory %s: %s (give --dir)",
		      dir, strerror(-err));
		return err;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (strcmp(de->d_name, ZERT_ACTIVE) &&
		    (strncmp(de->d_name, "zert-", 5) || l < 12 ||
		     strcmp(de->d_name + l - 7, ".ndjson")))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 64) *
					    sizeof(*names));

			if (!nn) {
				err = -ENOMEM;
				break;
			}
			names = nn;
		}
		/* "zert.ndjson" sorts after "zert-..." ('.' > '-'): newest */
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && !err; i++) {
		FILE *fp;

		if (f->have_since && strcmp(names[i], ZERT_ACTIVE)) {
			struct tm tm = {};

			if (strptime(names[i] + 5, "%Y%m%dT%H%M%SZ", &tm) &&
			    (double)timegm(&tm) < f->since)
				continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fp = fopen(path, "re");
		if (!fp)
			continue;	/* rotated away meanwhile */
		while (!err && (len = getline(&line, &lcap, fp)) > 0) {
			struct json_object *r;

			if (line[len - 1] != '\n')
				break;		/* being written */
			r = json_tokener_parse(line);
			if (!r || !json_object_is_type(r, json_type_object)) {
				(*bad)++;
				json_object_put(r);
				continue;
			}
			if (rec_matches(f, r))
				err = fn(arg, r, line);
			json_object_put(r);
		}
		fclose(fp);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(line);
	return err;
}

/* ---- export ---------------------------------------------------------------------- */

static int export_one(void *arg, struct json_object *r, const char *line)
{
	(void)arg;
	(void)r;
	return fputs(line, stdout) < 0 ? -EIO : 0;
}

static int do_export(struct ctl *c, int argc, char **argv)
{
	struct zfilter f;
	char dir[PATH_MAX];
	unsigned long bad = 0;
	int err;

	err = parse_filters(c, argc, argv, &f, 1);
	if (err)
		return err;
	resolve_dir(c, &f, dir, sizeof(dir));
	err = for_each_record(c, dir, &f, export_one, NULL, &bad);
	if (bad)
		fprintf(stderr, "attlsctl: %lu line(s) in %s were not records "
			"(skipped)\n", bad, dir);
	if (fflush(stdout))
		err = -EIO;
	return err;
}

/* ---- watch ---------------------------------------------------------------------- */

/* One record as a line for humans. */
static void print_human(struct json_object *r)
{
	struct json_object *s = first_session(r);
	const char *t = jstr(r, "time"), *ev = jstr(r, "event");
	const char *kex = s ? jstr(jobj(s, "key_exchange"), "group") : NULL;
	char when[16] = "";

	if (t && strlen(t) >= 19)
		snprintf(when, sizeof(when), "%.8s", t + 11);
	if (!strcmp(jstr(r, "record") ?: "", "zert-summary")) {
		struct json_object *end = jpath(r, "connections.end");
		struct json_object *ss = jobj(r, "session");

		printf("%s summary %-16s %s:%lld <- %s  %-8s %s %s %s  total %lld "
		       "active %lld short %lld  hs ok %lld failed %lld\n", when,
		       jstr(r, "job") ?: "-", jstr(jobj(r, "server"), "addr") ?: "?",
		       (long long)jint(jobj(r, "server"), "port", 0),
		       jstr(jobj(r, "client"), "addr") ?: "?",
		       jstr(r, "protection") ?: "-",
		       ss ? jstr(ss, "protocol") ?: "" : "",
		       ss ? jstr(ss, "version") ?: "" : "",
		       ss ? jstr(ss, "cipher") ?: "" : "",
		       (long long)jint(end, "total", 0), (long long)jint(end, "active", 0),
		       (long long)jint(end, "short", 0),
		       (long long)jint(jobj(r, "handshakes"), "ok", 0),
		       (long long)jint(jobj(r, "handshakes"), "failed", 0));
		return;
	}
	printf("%s %-10s %-8s %-16s %5lld %s:%lld %s %s:%lld  %s%s%s %s %s %s\n", when,
	       ev ?: "?", jstr(r, "protection") ?: "-", jstr(r, "job") ?: "-",
	       (long long)jint(r, "pid", 0),
	       jstr(jobj(r, "local"), "addr") ?: "?",
	       (long long)jint(jobj(r, "local"), "port", 0),
	       !strcmp(jstr(r, "direction") ?: "", "outbound") ? "->" : "<-",
	       jstr(jobj(r, "remote"), "addr") ?: "?",
	       (long long)jint(jobj(r, "remote"), "port", 0),
	       s ? jstr(s, "protocol") ?: "" : "", s ? " " : "",
	       s ? jstr(s, "version") ?: "" : "",
	       s ? jstr(s, "cipher") ?: "" : "", kex ?: "",
	       s ? jstr(s, "outcome") ?: "" : "");
}

static int do_watch(struct ctl *c, int argc, char **argv)
{
	static const char req[] = "{\"cmd\":\"zert-watch\"}\n";
	char buf[65536], *lp = NULL;
	size_t have = 0, lcap = 0;
	struct zfilter f;
	int fd, err, first = 1;
	ssize_t n;

	err = parse_filters(c, argc, argv, &f, 0);
	if (err)
		return err;
	fd = ctl_connect(c);
	if (fd < 0)
		return fd;
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		err = -errno ?: -EIO;
		p_err(c, "sending to attlsd: %s", strerror(-err));
		goto close_fd;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf, *nl;

		while ((nl = memchr(p, '\n', (size_t)(buf + n - p)))) {
			struct json_object *r;
			size_t l = (size_t)(nl - p);

			if (have + l + 1 > lcap) {
				char *nb = realloc(lp, have + l + 1);

				if (!nb) {
					err = -ENOMEM;
					goto close_fd;
				}
				lp = nb;
				lcap = have + l + 1;
			}
			memcpy(lp + have, p, l);
			lp[have + l] = '\0';
			have = 0;
			p = nl + 1;
			r = json_tokener_parse(lp);
			if (first) {
				first = 0;
				if (!r || !jobj(r, "ok") ||
				    !json_object_get_boolean(jobj(r, "ok"))) {
					err = -(int)(jint(r, "errno", EIO) ?: EIO);
					p_err(c, "attlsd: %s", jstr(r, "error") ?:
					      "no live records");
					json_object_put(r);
					goto close_fd;
				}
			} else if (r && rec_matches(&f, r)) {
				if (c->json)
					printf("%s\n", lp);
				else
					print_human(r);
			}
			json_object_put(r);
		}
		/* keep a partial line */
		if (p < buf + n) {
			size_t l = (size_t)(buf + n - p);

			if (have + l > lcap) {
				char *nb = realloc(lp, have + l + 1);

				if (!nb) {
					err = -ENOMEM;
					goto close_fd;
				}
				lp = nb;
				lcap = have + l + 1;
			}
			memcpy(lp + have, p, l);
			have += l;
		}
	}
	if (first) {
		err = -EIO;
		p_err(c, "attlsd closed the connection");
	} else if (!c->json) {
		fprintf(stderr, "attlsctl: attlsd ended the live stream (stopped, "
			"or this watcher fell too far behind)\n");
	}
close_fd:
	free(lp);
	close(fd);
	return err;
}

/* ---- report ----------------------------------------------------------------------- */

/* A counting table: rows keyed by a string of tab-separated columns. */
struct trow {
	char *key;
	unsigned long n;
	char *note;		/* an example, or extra text */
	double sort;		/* certificates: not-after */
};

struct table {
	struct trow *rows;
	size_t n, cap;
};

static struct trow *table_add(struct table *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].key, key))
			return &t->rows[i];
	if (t->n == t->cap) {
		struct trow *nr = realloc(t->rows, (t->cap = t->cap ? 2 * t->cap : 32) *
					  sizeof(*nr));

		if (!nr)
			return NULL;
		t->rows = nr;
	}
	memset(&t->rows[t->n], 0, sizeof(t->rows[0]));
	t->rows[t->n].key = strdup(key);
	if (!t->rows[t->n].key)
		return NULL;
	return &t->rows[t->n++];
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->rows[i].key);
		free(t->rows[i].note);
	}
	free(t->rows);
}

static int by_count(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int by_expiry(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;

	if (x->sort != y->sort)
		return x->sort < y->sort ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The last record of each connection: a term carries all that init and
 * change did.  Connections are keyed by host, boot and conn_id. */
struct conn_last {
	char *key;
	struct json_object *rec;
};

struct report {
	struct conn_last *conns;
	size_t n, cap;
	unsigned long records;
	/* open addressing index into conns */
	size_t *idx;
	size_t idx_cap;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static int report_grow_index(struct report *rp)
{
	size_t cap = rp->idx_cap ? rp->idx_cap * 2 : 1024, i, j;
	size_t *idx = malloc(cap * sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		idx[i] = SIZE_MAX;
	for (i = 0; i < rp->n; i++) {
		j = str_hash(rp->conns[i].key) & (cap - 1);
		while (idx[j] != SIZE_MAX)
			j = (j + 1) & (cap - 1);
		idx[j] = i;
	}
	free(rp->idx);
	rp->idx = idx;
	rp->idx_cap = cap;
	return 0;
}

static int report_one(void *arg, struct json_object *r, const char *line)
{
	struct report *rp = arg;
	char key[256];
	size_t j;

	(void)line;
	rp->records++;
	snprintf(key, sizeof(key), "%s/%s/%s", jstr(r, "host") ?: "",
		 jstr(r, "boot_id") ?: "", jstr(r, "conn_id") ?: "");
	if ((rp->n + 1) * 2 > rp->idx_cap && report_grow_index(rp))
		return -ENOMEM;
	j = str_hash(key) & (rp->idx_cap - 1);
	while (rp->idx[j] != SIZE_MAX) {
		struct conn_last *cl = &rp->conns[rp->idx[j]];

		if (!strcmp(cl->key, key)) {
			json_object_put(cl->rec);
			cl->rec = json_object_get(r);
			return 0;
		}
		j = (j + 1) & (rp->idx_cap - 1);
	}
	if (rp->n == rp->cap) {
		struct conn_last *nc = realloc(rp->conns, (rp->cap = rp->cap ?
					       2 * rp->cap : 1024) * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		rp->conns = nc;
	}
	rp->conns[rp->n].key = strdup(key);
	if (!rp->conns[rp->n].key)
		return -ENOMEM;
	rp->conns[rp->n].rec = json_object_get(r);
	rp->idx[j] = rp->n++;
	return 0;
}

static int is_pq(struct json_object *s)
{
	struct json_object *v = jpath(s, "key_exchange.post_quantum");

	return v && json_object_get_boolean(v);
}

/* Tally one certificate side of a session. */
static void tally_cert(struct table *t, struct json_object *side,
		       const char *which, struct json_object *r)
{
	struct json_object *x = jobj(side, "x509");
	const char *fp = jstr(jobj(side, "hash"), "sha256");
	const char *na = jstr(x, "not_after");
	char key[1024], note[256];
	struct tm tm = {};
	struct trow *row;

	if (!x || !na)
		return;
	snprintf(key, sizeof(key), "%s\t%s\t%s\t%s %lld\t%s\t%.16s", na, which,
		 jstr(jobj(x, "subject"), "distinguished_name") ?: "?",
		 jstr(x, "public_key_algorithm") ?: "?",
		 (long long)jint(x, "public_key_size", 0),
		 jstr(jobj(x, "issuer"), "distinguished_name") ?: "?", fp ?: "");
	row = table_add(t, key);
	if (!row)
		return;
	row->n++;
	if (strptime(na, "%Y-%m-%dT%H:%M:%S", &tm))
		row->sort = (double)timegm(&tm);
	if (!row->note) {
		snprintf(note, sizeof(note), "%s:%lld", jstr(r, "job") ?: "?",
			 (long long)server_port(r));
		row->note = strdup(note);
	}
}

struct report_tables {
	struct table unprot, tls, kex, certs, fails;
	unsigned long conns, protected_conns;
};

static void tally(struct report_tables *rt, struct json_object *r)
{
	struct json_object *s = first_session(r);
	const char *prot = jstr(r, "protection") ?: "unknown";
	char key[512];
	struct trow *row;

	rt->conns++;
	if (!strcmp(prot, "none") || !strcmp(prot, "unknown")) {
		snprintf(key, sizeof(key), "%s\t%lld\t%s\t%s", jstr(r, "job") ?: "?",
			 (long long)server_port(r), jstr(r, "direction") ?: "?", prot);
		row = table_add(&rt->unprot, key);
		if (row)
			row->n++;
		return;
	}
	rt->protected_conns++;
	if (!s)
		return;
	if (jstr(s, "version")) {
		snprintf(key, sizeof(key), "%s\t%s\t%s\t%s", jstr(s, "protocol") ?: "?",
			 jstr(s, "version"), jstr(s, "cipher") ?: "?",
			 jstr(s, "source") ?: "?");
		row = table_add(&rt->tls, key);
		if (row)
			row->n++;
		snprintf(key, sizeof(key), "%s\t%s\t%s\t%s", jstr(s, "protocol") ?: "?",
			 jstr(jobj(s, "key_exchange"), "method") ?: "?",
			 jstr(jobj(s, "key_exchange"), "group") ?: "-",
			 is_pq(s) ? "post-quantum" : "classical");
		row = table_add(&rt->kex, key);
		if (row)
			row->n++;
	}
	tally_cert(&rt->certs, jobj(s, "server"), "server", r);
	tally_cert(&rt->certs, jobj(s, "client"), "client", r);
	if (!strcmp(jstr(s, "outcome") ?: "", "failed")) {
		struct json_object *al = jobj(s, "alert");
		char why[128];

		if (jobj(s, "rc") && jint(s, "rc", 0))
			snprintf(why, sizeof(why), "rc %lld", (long long)jint(s, "rc", 0));
		else if (al && jstr(al, "name"))
			snprintf(why, sizeof(why), "alert %s (%lld)", jstr(al, "name"),
				 (long long)jint(al, "code", 0));
		else
			snprintf(why, sizeof(why), "%s", jstr(s, "failure") ?: "failed");
		snprintf(key, sizeof(key), "%s\t%s\t%s", jstr(s, "source") ?: "?",
			 jstr(s, "protocol") ?: "?", why);
		row = table_add(&rt->fails, key);
		if (row) {
			row->n++;
			if (!row->note) {
				snprintf(key, sizeof(key), "%s:%lld", jstr(r, "job") ?: "?",
					 (long long)server_port(r));
				row->note = strdup(key);
			}
		}
	}
}

/* Print a table: columns are the key's tab-separated fields. */
static void print_table(const char *title, const char *const *cols, int ncols,
			const int *widths, struct table *t, const char *count_col,
			const char *note_col)
{
	size_t i;
	int k;

	printf("\n%s\n", title);
	for (k = 0; k < ncols; k++)
		printf("  %-*s", widths[k], cols[k]);
	printf("  %8s%s%s\n", count_col, note_col ? "  " : "", note_col ?: "");
	if (!t->n)
		printf("  (none)\n");
	for (i = 0; i < t->n && i < REPORT_ROWS; i++) {
		char *dup = strdup(t->rows[i].key), *save = NULL, *f;

		if (!dup)
			return;
		f = strtok_r(dup, "\t", &save);
		for (k = 0; k < ncols; k++) {
			printf("  %-*s", widths[k], f ? f : "");
			f = strtok_r(NULL, "\t", &save);
		}
		printf("  %8lu%s%s\n", t->rows[i].n, note_col ? "  " : "",
		       note_col && t->rows[i].note ? t->rows[i].note : "");
		free(dup);
	}
	if (t->n > REPORT_ROWS)
		printf("  ... %zu more (attlsctl -j zert report has them all)\n",
		       t->n - REPORT_ROWS);
}

/* A table as a JSON array of objects named by `cols`. */
static struct json_object *table_json(struct table *t, const char *const *cols,
				      int ncols, const char *note_name)
{
	struct json_object *arr = json_object_new_array(), *o;
	size_t i;
	int k, err = 0;

	if (!arr)
		return NULL;
	for (i = 0; i < t->n && !err; i++) {
		char *dup = strdup(t->rows[i].key), *save = NULL, *f;

		o = json_object_new_object();
		if (!dup || !o) {
			free(dup);
			json_object_put(o);
			err = -ENOMEM;
			break;
		}
		f = strtok_r(dup, "\t", &save);
		for (k = 0; k < ncols && !err; k++) {
			err = aj_add_str(o, cols[k], f ? f : "");
			f = strtok_r(NULL, "\t", &save);
		}
		err = err ?: aj_add_u64(o, "count", t->rows[i].n);
		if (!err && note_name && t->rows[i].note)
			err = aj_add_str(o, note_name, t->rows[i].note);
		free(dup);
		if (err || json_object_array_add(arr, o)) {
			json_object_put(o);
			err = err ?: -ENOMEM;
		}
	}
	if (err) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

static int do_report(struct ctl *c, int argc, char **argv)
{
	static const char *const c_unprot[] = { "job", "port", "direction", "protection" };
	static const char *const c_tls[] = { "protocol", "version", "cipher", "source" };
	static const char *const c_kex[] = { "protocol", "method", "group", "class" };
	static const char *const c_cert[] = { "not_after", "side", "subject", "key",
					      "issuer", "sha256" };
	static const char *const c_fail[] = { "source", "protocol", "reason" };
	static const int w_unprot[] = { 16, 6, 9, 10 };
	static const int w_tls[] = { 8, 7, 44, 8 };
	static const int w_kex[] = { 8, 38, 20, 12 };
	static const int w_cert[] = { 20, 6, 40, 9, 30, 16 };
	static const int w_fail[] = { 8, 8, 40 };
	struct report rp = {};
	struct report_tables rt = {};
	struct zfilter f;
	char dir[PATH_MAX];
	unsigned long bad = 0;
	size_t i;
	int err;

	err = parse_filters(c, argc, argv, &f, 1);
	if (err)
		return err;
	if (f.summary) {
		p_err(c, "report reads detail records: drop --summary");
		return -EINVAL;
	}
	resolve_dir(c, &f, dir, sizeof(dir));
	err = for_each_record(c, dir, &f, report_one, &rp, &bad);
	for (i = 0; i < rp.n; i++) {
		if (!err)
			tally(&rt, rp.conns[i].rec);
		json_object_put(rp.conns[i].rec);
		free(rp.conns[i].key);
	}
	free(rp.conns);
	free(rp.idx);
	if (err)
		goto out;
	qsort(rt.unprot.rows, rt.unprot.n, sizeof(struct trow), by_count);
	qsort(rt.tls.rows, rt.tls.n, sizeof(struct trow), by_count);
	qsort(rt.kex.rows, rt.kex.n, sizeof(struct trow), by_count);
	qsort(rt.certs.rows, rt.certs.n, sizeof(struct trow), by_expiry);
	qsort(rt.fails.rows, rt.fails.n, sizeof(struct trow), by_count);
	if (c->json) {
		struct json_object *o = json_object_new_object();

		err = o ? 0 : -ENOMEM;
		err = err ?: aj_add_str(o, "dir", dir);
		err = err ?: aj_add_u64(o, "records", rp.records);
		err = err ?: aj_add_u64(o, "connections", rt.conns);
		err = err ?: aj_add_u64(o, "protected", rt.protected_conns);
		err = err ?: aj_add(o, "unprotected", table_json(&rt.unprot, c_unprot, 4, NULL));
		err = err ?: aj_add(o, "tls_versions_ciphers", table_json(&rt.tls, c_tls, 4, NULL));
		err = err ?: aj_add(o, "key_exchange", table_json(&rt.kex, c_kex, 4, NULL));
		err = err ?: aj_add(o, "certificates", table_json(&rt.certs, c_cert, 6, "seen_at"));
		err = err ?: aj_add(o, "handshake_failures", table_json(&rt.fails, c_fail, 3, "example"));
		if (!err)
			err = aj_print_and_free(o, stdout, c->pretty);
		else
			json_object_put(o);
		goto out;
	}
	printf("zERT report: %lu connection(s) from %lu record(s) in %s; %lu "
	       "protected, %lu not\n", rt.conns, rp.records, dir,
	       rt.protected_conns, rt.conns - rt.protected_conns);
	print_table("Unprotected connections, by job and server port", c_unprot, 4,
		    w_unprot, &rt.unprot, "conns", NULL);
	print_table("TLS/SSH versions and ciphers in use", c_tls, 4, w_tls, &rt.tls,
		    "conns", NULL);
	print_table("Key exchange: classical vs post-quantum", c_kex, 4, w_kex,
		    &rt.kex, "conns", NULL);
	print_table("Certificates, soonest expiry first", c_cert, 6, w_cert,
		    &rt.certs, "conns", "seen at");
	print_table("Handshake failures, by return code / alert", c_fail, 3, w_fail,
		    &rt.fails, "conns", "example");
out:
	if (bad)
		fprintf(stderr, "attlsctl: %lu line(s) in %s were not records "
			"(skipped)\n", bad, dir);
	table_free(&rt.unprot);
	table_free(&rt.tls);
	table_free(&rt.kex);
	table_free(&rt.certs);
	table_free(&rt.fails);
	return err;
}

/* ---- stats ------------------------------------------------------------------------- */

static int do_stats(struct ctl *c, int argc, char **argv)
{
	struct json_object *reply;
	int err;

	(void)argv;
	err = ctl_call_noargs(c, "zert", "attlsctl zert stats", argc, &reply);
	if (err || !reply)
		return err;
	json_object_object_del(reply, "ok");
	json_object_object_foreach(reply, k, v)
		printf("%-18s %s\n", k, json_object_get_string(v));
	json_object_put(reply);
	return 0;
}

const struct cmd zert_cmds[] = {
	{ "report", do_report, "[--since T] [--until T] [--job J] [--dir DIR]: "
	  "unprotected traffic, versions, ciphers, key exchange, certificates, failures" },
	{ "export", do_export, "[--since T] [--until T] [--job J] [--protection P] "
	  "[--summary] [--dir DIR]: records as NDJSON" },
	{ "watch", do_watch, "[--job J] [--protection P] [--summary]: live records" },
	{ "stats", do_stats, "the collector's counters and files" },
	{ NULL, NULL, NULL },
};
