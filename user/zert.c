// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * zert.c - zERT-style connection detail records (SMF 119 subtype 11
 * analog) as NDJSON, one JSON object per line, in ZERT_DIR/zert.ndjson.
 *
 * Engine-protected connections come with full TLS attributes from the
 * engine.  Every other TCP connection of the attached cgroups comes from
 * sockops events; recognising an application's own TLS or SSH by stream
 * observation is a later step, so those are reported as protection
 * "unknown" rather than guessed.  Never a secret in a record.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aj.h"
#include "log.h"
#include "zert.h"

#define ZERT_BUCKETS	4096	/* open sockops connections, chained */

/* A connection sockops reported established and not yet closed. */
struct zert_open {
	struct zert_open *next;
	uint64_t cookie;
	uint64_t start_ns;		/* CLOCK_REALTIME */
	uint32_t flags;			/* ATTLS_EVF_* of the established event */
	struct attls_flow flow;
	struct attls_owner owner;
};

struct zert {
	pthread_mutex_t lock;
	FILE *f;
	char path[PATH_MAX];
	char host[256];
	char boot_id[40];
	struct zert_open *open[ZERT_BUCKETS];
	uint64_t written;
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

static void iso8601(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000ull / 1000));
}

int zert_open(const char *dir, struct zert **out)
{
	struct zert *z;
	FILE *f;
	int fd, err;

	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	if (mkdir(dir, 0750) && errno != EEXIST) {
		err = -errno;
		log_warn("zERT directory %s", dir);
		goto free_z;
	}
	snprintf(z->path, sizeof(z->path), "%s/zert.ndjson", dir);
	fd = open(z->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		log_warn("zERT file %s", z->path);
		goto free_z;
	}
	f = fdopen(fd, "a");
	if (!f) {
		err = -errno;
		close(fd);
		goto free_z;
	}
	z->f = f;
	pthread_mutex_init(&z->lock, NULL);
	if (gethostname(z->host, sizeof(z->host) - 1))
		snprintf(z->host, sizeof(z->host), "unknown");
	{
		FILE *b = fopen("/proc/sys/kernel/random/boot_id", "re");

		if (b) {
			if (!fgets(z->boot_id, sizeof(z->boot_id), b))
				z->boot_id[0] = '\0';
			z->boot_id[strcspn(z->boot_id, "\n")] = '\0';
			fclose(b);
		}
	}
	*out = z;
	return 0;

free_z:
	free(z);
	return err;
}

void zert_close(struct zert *z)
{
	unsigned i;

	if (!z)
		return;
	for (i = 0; i < ZERT_BUCKETS; i++) {
		struct zert_open *o = z->open[i], *next;

		for (; o; o = next) {
			next = o->next;
			free(o);
		}
	}
	if (z->f)
		fclose(z->f);
	pthread_mutex_destroy(&z->lock);
	free(z);
}

const char *zert_path(const struct zert *z)
{
	return z->path;
}

static int add_time(struct json_object *o, const char *key, uint64_t ns)
{
	char buf[96];

	if (!ns)
		return aj_add_null(o, key);
	iso8601(ns, buf, sizeof(buf));
	return aj_add_str(o, key, buf);
}

static int add_endpoint(struct json_object *o, const char *key,
			const __u8 *addr, __u16 port)
{
	struct json_object *ep = json_object_new_object();
	char buf[ATTLS_ADDRSTRLEN];
	int err;

	if (!ep)
		return -ENOMEM;
	err = aj_add_str(ep, "addr", attls_addr_str(addr, buf, sizeof(buf)));
	err = err ?: aj_add_u64(ep, "port", port);
	if (err) {
		json_object_put(ep);
		return err;
	}
	return aj_add(o, key, ep);
}

static int add_owner(struct json_object *o, const struct attls_owner *ow)
{
	char comm[ATTLS_COMM_LEN + 1], pwbuf[1024];
	struct passwd pw, *res = NULL;
	int err;

	memcpy(comm, ow->comm, ATTLS_COMM_LEN);
	comm[ATTLS_COMM_LEN] = '\0';
	getpwuid_r(ow->uid, &pw, pwbuf, sizeof(pwbuf), &res);
	err = aj_add_u64(o, "pid", ow->pid);
	err = err ?: aj_add_str(o, "job", comm);
	err = err ?: aj_add_u64(o, "uid", ow->uid);
	err = err ?: aj_add_str(o, "user", res ? res->pw_name : NULL);
	err = err ?: aj_add_u64(o, "cgroup_id", ow->cgroup_id);
	return err;
}

/* The fields every detail record starts with. */
static struct json_object *record_new(const struct zert *z, const char *event,
				      const char *conn_id)
{
	struct json_object *r = json_object_new_object();
	int err;

	if (!r)
		return NULL;
	err = aj_add_str(r, "record", "zert-detail");
	err = err ?: aj_add_u64(r, "version", 1);
	err = err ?: aj_add_str(r, "event", event);
	err = err ?: add_time(r, "time", now_ns(CLOCK_REALTIME));
	err = err ?: aj_add_str(r, "host", z->host);
	err = err ?: aj_add_str(r, "boot_id", z->boot_id);
	err = err ?: aj_add_str(r, "conn_id", conn_id);
	if (err) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

/* Write one record; caller holds z->lock. */
static void record_write(struct zert *z, struct json_object *r)
{
	if (aj_print_and_free(r, z->f, 0) || fflush(z->f))
		log_warn("zERT: writing %s failed", z->path);
	else
		z->written++;
}

static int add_tls(struct json_object *r, const struct zert_tls *t)
{
	struct json_object *sessions, *s, *cipher, *cert, *kex;
	char code[8];
	int err;

	sessions = json_object_new_array();
	s = json_object_new_object();
	cipher = json_object_new_object();
	cert = json_object_new_object();
	kex = json_object_new_object();
	if (!sessions || !s || !cipher || !cert || !kex) {
		json_object_put(sessions);
		json_object_put(s);
		json_object_put(cipher);
		json_object_put(cert);
		json_object_put(kex);
		return -ENOMEM;
	}
	snprintf(code, sizeof(code), "0x%04X", t->cipher_code);
	err = aj_add_str(cipher, "iana", t->cipher_iana);
	err = err ?: aj_add_str(cipher, "code", code);
	err = err ?: aj_add_str(cipher, "openssl", t->cipher_openssl);
	err = err ?: aj_add_str(kex, "group", t->group);
	err = err ?: aj_add_str(cert, "subject", t->cert_subject);
	err = err ?: aj_add_str(cert, "issuer", t->cert_issuer);
	err = err ?: aj_add_str(cert, "serial", t->cert_serial);
	err = err ?: aj_add_str(cert, "not_after", t->cert_not_after);
	err = err ?: aj_add_str(cert, "key_type", t->cert_key_type);
	err = err ?: aj_add_u64(cert, "key_bits", t->cert_key_bits);
	err = err ?: aj_add_str(s, "protocol", "TLS");
	err = err ?: aj_add_str(s, "version", t->protocol);
	err = err ?: aj_add_str(s, "source", "attls-engine");
	err = err ?: aj_add_str(s, "role", t->role);
	err = err ?: aj_add_str(s, "handshake", t->resumed ? "resumed" : "full");
	if (err) {
		json_object_put(cipher);
		json_object_put(kex);
		json_object_put(cert);
		json_object_put(s);
		json_object_put(sessions);
		return err;
	}
	err = aj_add(s, "cipher", cipher);
	err = err ?: aj_add(s, "key_exchange", kex);
	err = err ?: aj_add(s, "server_cert", cert);
	if (err) {
		json_object_put(s);
		json_object_put(sessions);
		return err;
	}
	if (json_object_array_add(sessions, s)) {
		json_object_put(s);
		json_object_put(sessions);
		return -ENOMEM;
	}
	return aj_add(r, "security_sessions", sessions);
}

static void zert_engine_record(struct zert *z, const struct zert_conn *c,
			       const char *event)
{
	struct json_object *r, *acts;
	char id[32];
	int err, handshaken = c->tls.protocol[0] != '\0';

	snprintf(id, sizeof(id), "%016llx", (unsigned long long)c->conn_id);
	r = record_new(z, event, id);
	if (!r)
		goto oom;
	err = add_time(r, "start", c->start_ns);
	err = err ?: add_time(r, "end", c->end_ns);
	err = err ?: add_endpoint(r, "local", c->wire.laddr, c->wire.lport);
	err = err ?: add_endpoint(r, "remote", c->wire.raddr, c->wire.rport);
	err = err ?: aj_add_str(r, "direction",
				c->direction == ATTLS_RF_OUTBOUND ? "outbound"
								  : "inbound");
	err = err ?: add_owner(r, &c->owner);
	err = err ?: aj_add_str(r, "rule", c->rule);
	if (err)
		goto put;
	acts = json_object_new_object();
	if (!acts)
		goto put;
	err = aj_add_str(acts, "group", c->group);
	err = err ?: aj_add_str(acts, "environment", c->env[0] ? c->env : NULL);
	err = err ?: aj_add_str(acts, "connection", c->conn[0] ? c->conn : NULL);
	if (err) {
		json_object_put(acts);
		goto put;
	}
	err = aj_add(r, "actions", acts);
	err = err ?: aj_add_str(r, "protection", "attls");
	if (!err && handshaken)
		err = add_tls(r, &c->tls);
	else if (!err)
		err = aj_add(r, "security_sessions", json_object_new_array());
	err = err ?: aj_add_u64(r, "bytes_in", c->bytes_in);
	err = err ?: aj_add_u64(r, "bytes_out", c->bytes_out);
	err = err ?: aj_add_i64(r, "rc", c->rc);
	if (err)
		goto put;
	pthread_mutex_lock(&z->lock);
	record_write(z, r);
	pthread_mutex_unlock(&z->lock);
	return;
put:
	json_object_put(r);
oom:
	log_warnx("zERT: out of memory building a record for CONNID %016llx",
		  (unsigned long long)c->conn_id);
}

void zert_engine_init(struct zert *z, const struct zert_conn *c)
{
	if (z)
		zert_engine_record(z, c, "init");
}

void zert_engine_term(struct zert *z, const struct zert_conn *c)
{
	if (z)
		zert_engine_record(z, c, c->tls.protocol[0] ? "term" : "short-term");
}

static unsigned cookie_bucket(uint64_t cookie)
{
	return (unsigned)((cookie * 0x9E3779B97F4A7C15ull) >> 52) % ZERT_BUCKETS;
}

static void zert_sock_record(struct zert *z, const char *event,
			     const struct attls_event *ev,
			     const struct zert_open *o)
{
	const struct attls_flow *flow = o ? &o->flow : &ev->flow;
	const struct attls_owner *owner = o ? &o->owner : &ev->owner;
	uint32_t flags = o ? o->flags : ev->flags;
	struct json_object *r;
	char id[32];
	int err;

	snprintf(id, sizeof(id), "c%016llx", (unsigned long long)ev->cookie);
	r = record_new(z, event, id);
	if (!r)
		goto oom;
	err = add_time(r, "start", o ? o->start_ns : (ev->type == ATTLS_EV_ESTABLISHED ?
						     boot_to_real(ev->ts_ns) : 0));
	err = err ?: add_time(r, "end", ev->type == ATTLS_EV_CLOSED ?
			      boot_to_real(ev->ts_ns) : 0);
	err = err ?: add_endpoint(r, "local", flow->laddr, flow->lport);
	err = err ?: add_endpoint(r, "remote", flow->raddr, flow->rport);
	err = err ?: aj_add_str(r, "direction", flags & ATTLS_EVF_ACTIVE ?
				"outbound" : "inbound");
	if (!err && !(flags & ATTLS_EVF_NO_OWNER))
		err = add_owner(r, owner);
	err = err ?: aj_add_str(r, "protection", "unknown");
	err = err ?: aj_add(r, "security_sessions", json_object_new_array());
	if (!err && ev->type == ATTLS_EV_CLOSED) {
		err = aj_add_u64(r, "bytes_in", ev->bytes_in);
		err = err ?: aj_add_u64(r, "bytes_out", ev->bytes_out);
		err = err ?: aj_add_u64(r, "segs_in", ev->segs_in);
		err = err ?: aj_add_u64(r, "segs_out", ev->segs_out);
	}
	if (err) {
		json_object_put(r);
		goto oom;
	}
	record_write(z, r);
	return;
oom:
	log_warnx("zERT: out of memory building a record for cookie %llu",
		  (unsigned long long)ev->cookie);
}

void zert_sock_event(struct zert *z, const struct attls_event *ev)
{
	struct zert_open **pp, *o;
	unsigned b = cookie_bucket(ev->cookie);

	if (!z)
		return;
	pthread_mutex_lock(&z->lock);
	if (ev->type == ATTLS_EV_ESTABLISHED) {
		o = calloc(1, sizeof(*o));
		if (o) {
			o->cookie = ev->cookie;
			o->start_ns = boot_to_real(ev->ts_ns);
			o->flags = ev->flags;
			o->flow = ev->flow;
			o->owner = ev->owner;
			o->next = z->open[b];
			z->open[b] = o;
		}
		/* The application's side of an engine hop is part of the
		 * engine's record (protection attls), not a connection of
		 * its own. */
		if (!(ev->flags & ATTLS_EVF_HOP))
			zert_sock_record(z, "init", ev, o);
		goto unlock;
	}
	for (pp = &z->open[b]; *pp; pp = &(*pp)->next) {
		if ((*pp)->cookie == ev->cookie)
			break;
	}
	o = *pp;
	if (o)
		*pp = o->next;
	if (!o || !(o->flags & ATTLS_EVF_HOP))
		zert_sock_record(z, o ? "term" : "short-term", ev, o);
	free(o);
unlock:
	pthread_mutex_unlock(&z->lock);
}
