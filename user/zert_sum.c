// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * zert_sum.c - zERT summary aggregation (see zert_sum.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "aj.h"
#include "zert_sum.h"

#define SUM_BUCKETS	1024

/* Counts kept at each interval boundary (SMF 119-12 Init* / End*). */
struct sum_counts {
	uint64_t total;		/* connections since collection began */
	uint64_t partial;	/* ... whose attributes are incomplete */
	uint64_t shortc;	/* ... that ended before init (short-term) */
	uint64_t active;	/* open now */
};

struct zert_shape {
	struct zert_shape *next;
	uint64_t hash;
	struct zert_shape_key key;
	struct sum_counts now;
	struct sum_counts start;	/* at the start of the interval */
	uint64_t hs_ok, hs_failed;	/* in the interval */
	uint64_t bytes_in, bytes_out;	/* of connections ended in it */
	int touched;			/* anything happened in the interval */
};

struct zert_sum {
	struct zert_shape *b[SUM_BUCKETS];
};

int zert_sum_new(struct zert_sum **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void zert_sum_free(struct zert_sum *sum)
{
	struct zert_shape *s, *next;
	unsigned i;

	if (!sum)
		return;
	for (i = 0; i < SUM_BUCKETS; i++)
		for (s = sum->b[i]; s; s = next) {
			next = s->next;
			free(s);
		}
	free(sum);
}

/* Copy a string into a zeroed key field, truncated as snprintf() would
 * (the key is hashed per connection: no format parsing here). */
static void kcopy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src, n);
	dst[n] = '\0';
}

#define KCOPY(dst, src)	kcopy((dst), sizeof(dst), (src))

void zert_shape_key_fill(struct zert_shape_key *k, const char *job,
			 uint32_t uid, const char *user,
			 const struct attls_flow *flow, int inbound,
			 const char *protection, const struct zert_session *s)
{
	const char *ktype = NULL;
	unsigned kbits = 0;

	/* memset: the key is hashed and compared as bytes */
	memset(k, 0, sizeof(*k));
	KCOPY(k->job, job);
	k->uid = uid;
	KCOPY(k->user, user);
	k->inbound = inbound;
	if (inbound) {
		memcpy(k->server_addr, flow->laddr, ATTLS_ADDR_LEN);
		k->server_port = flow->lport;
		memcpy(k->client_addr, flow->raddr, ATTLS_ADDR_LEN);
	} else {
		memcpy(k->server_addr, flow->raddr, ATTLS_ADDR_LEN);
		k->server_port = flow->rport;
		memcpy(k->client_addr, flow->laddr, ATTLS_ADDR_LEN);
	}
	KCOPY(k->protection, protection);
	k->cipher_code = -1;
	if (!s)
		return;
	k->observed = s->observed;
	KCOPY(k->protocol, s->protocol);
	KCOPY(k->version, s->version);
	KCOPY(k->cipher, s->cipher);
	k->cipher_code = s->cipher_code;
	KCOPY(k->kex, s->kex);
	KCOPY(k->group, s->group);
	k->post_quantum = s->post_quantum;
	zert_session_key(s, &ktype, &kbits);
	KCOPY(k->key_type, ktype);
	k->key_bits = kbits;
}

#define FNV_PRIME	0x100000001b3ull

/* FNV_PRIME^n mod 2^64. */
static uint64_t fnv_pow(size_t n)
{
	uint64_t r = 1, b = FNV_PRIME;

	for (; n; n >>= 1, b *= b)
		if (n & 1)
			r *= b;
	return r;
}

/*
 * FNV-1a over the key's bytes (fully memset, so padding is zero).  A zero
 * byte only multiplies by the prime, so a run of them (most of the key:
 * fixed-size strings, mostly empty) is one multiplication by a power:
 * the same value as byte by byte, for a fraction of the work.
 */
static uint64_t key_hash(const struct zert_shape_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i = 0, run;

	while (i < sizeof(*k)) {
		if (p[i]) {
			h = (h ^ p[i++]) * FNV_PRIME;
			continue;
		}
		for (run = 0; i < sizeof(*k) && !p[i]; i++)
			run++;
		h *= fnv_pow(run);
	}
	return h;
}

static struct zert_shape *find_hashed(struct zert_sum *sum,
				      const struct zert_shape_key *k, uint64_t h)
{
	struct zert_shape *s;

	for (s = sum->b[h % SUM_BUCKETS]; s; s = s->next)
		if (s->hash == h && !memcmp(&s->key, k, sizeof(*k)))
			return s;
	return NULL;
}

struct zert_shape *zert_sum_find(struct zert_sum *sum,
				 const struct zert_shape_key *k)
{
	return find_hashed(sum, k, key_hash(k));
}

static struct zert_shape *shape_get(struct zert_sum *sum,
				    const struct zert_shape_key *k)
{
	uint64_t h = key_hash(k);
	struct zert_shape **pp = &sum->b[h % SUM_BUCKETS], *s;

	s = find_hashed(sum, k, h);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hash = h;
	s->key = *k;
	s->next = *pp;
	*pp = s;
	return s;
}

static void count_outcome(struct zert_shape *s, enum zert_outcome outcome)
{
	if (outcome == ZERT_OUT_OK)
		s->hs_ok++;
	else if (outcome == ZERT_OUT_FAILED)
		s->hs_failed++;
}

struct zert_shape *zert_sum_start(struct zert_sum *sum,
				  const struct zert_shape_key *k, int partial,
				  enum zert_outcome outcome)
{
	struct zert_shape *s = shape_get(sum, k);

	if (!s)
		return NULL;
	s->now.total++;
	s->now.active++;
	if (partial)
		s->now.partial++;
	if (k->protocol[0])
		count_outcome(s, outcome);
	s->touched = 1;
	return s;
}

void zert_sum_end(struct zert_shape *s, uint64_t bytes_in, uint64_t bytes_out)
{
	if (!s)
		return;
	if (s->now.active)
		s->now.active--;
	s->bytes_in += bytes_in;
	s->bytes_out += bytes_out;
	s->touched = 1;
}

int zert_sum_short(struct zert_sum *sum, const struct zert_shape_key *k,
		   int partial, enum zert_outcome outcome, uint64_t bytes_in,
		   uint64_t bytes_out)
{
	struct zert_shape *s = shape_get(sum, k);

	if (!s)
		return -ENOMEM;
	s->now.total++;
	s->now.shortc++;
	if (partial)
		s->now.partial++;
	if (k->protocol[0])
		count_outcome(s, outcome);
	s->bytes_in += bytes_in;
	s->bytes_out += bytes_out;
	s->touched = 1;
	return 0;
}

static struct json_object *counts_json(const struct sum_counts *c)
{
	struct json_object *o = json_object_new_object();
	int err;

	if (!o)
		return NULL;
	err = aj_add_u64(o, "total", c->total);
	err = err ?: aj_add_u64(o, "partial", c->partial);
	err = err ?: aj_add_u64(o, "short", c->shortc);
	err = err ?: aj_add_u64(o, "active", c->active);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int add_time(struct json_object *o, const char *key, uint64_t ns)
{
	char buf[40];
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return aj_add_str(o, key, buf);
}

static int add_addr(struct json_object *o, const char *key, const __u8 *addr,
		    int port)
{
	struct json_object *ep = json_object_new_object();
	char buf[ATTLS_ADDRSTRLEN];
	int err;

	if (!ep)
		return -ENOMEM;
	err = aj_add_str(ep, "addr", attls_addr_str(addr, buf, sizeof(buf)));
	err = err ?: (port >= 0 ? aj_add_u64(ep, "port", (uint64_t)port) : 0);
	if (err) {
		json_object_put(ep);
		return err;
	}
	return aj_add(o, key, ep);
}

/* The "how" of a shape: null for a connection without a session. */
static int add_session_shape(struct json_object *r, const struct zert_shape_key *k)
{
	struct json_object *s, *kex, *srv;
	char code[8];
	int err;

	if (!k->protocol[0])
		return aj_add_null(r, "session");
	s = json_object_new_object();
	kex = json_object_new_object();
	srv = json_object_new_object();
	if (!s || !kex || !srv) {
		json_object_put(s);
		json_object_put(kex);
		json_object_put(srv);
		return -ENOMEM;
	}
	err = aj_add_str(s, "protocol", k->protocol);
	err = err ?: aj_add_str(s, "version", k->version[0] ? k->version : NULL);
	err = err ?: aj_add_str(s, "source", k->observed ? "observed" : "engine");
	err = err ?: aj_add_str(s, "cipher", k->cipher[0] ? k->cipher : NULL);
	err = err ?: aj_add_str(s, "cipher_code", k->cipher_code >= 0 ?
				zert_code_str(k->cipher_code, code) : NULL);
	err = err ?: aj_add_str(kex, "method", k->kex[0] ? k->kex : NULL);
	err = err ?: aj_add_str(kex, "group", k->group[0] ? k->group : NULL);
	err = err ?: aj_add_bool(kex, "post_quantum", k->post_quantum);
	err = err ?: aj_add_str(srv, "key_type", k->key_type[0] ? k->key_type : NULL);
	err = err ?: aj_add_u64(srv, "key_bits", k->key_bits);
	if (err) {
		json_object_put(kex);
		json_object_put(srv);
		json_object_put(s);
		return err;
	}
	err = aj_add(s, "key_exchange", kex);
	if (err) {
		json_object_put(srv);
		json_object_put(s);
		return err;
	}
	err = aj_add(s, "server_key", srv);
	if (err) {
		json_object_put(s);
		return err;
	}
	return aj_add(r, "session", s);
}

static struct json_object *summary_json(const struct zert_shape *sh,
					struct json_object *r, uint64_t start_ns,
					uint64_t end_ns, unsigned seconds)
{
	const struct zert_shape_key *k = &sh->key;
	struct json_object *iv, *conns, *hs, *bytes, *c0, *c1;
	int err;

	iv = json_object_new_object();
	conns = json_object_new_object();
	hs = json_object_new_object();
	bytes = json_object_new_object();
	c0 = counts_json(&sh->start);
	c1 = counts_json(&sh->now);
	if (!iv || !conns || !hs || !bytes || !c0 || !c1) {
		err = -ENOMEM;
		goto put_all;
	}
	err = add_time(iv, "start", start_ns);
	err = err ?: add_time(iv, "end", end_ns);
	err = err ?: aj_add_u64(iv, "seconds", seconds);
	err = err ?: aj_add_u64(hs, "ok", sh->hs_ok);
	err = err ?: aj_add_u64(hs, "failed", sh->hs_failed);
	err = err ?: aj_add_u64(bytes, "in", sh->bytes_in);
	err = err ?: aj_add_u64(bytes, "out", sh->bytes_out);
	if (err)
		goto put_all;
	err = aj_add(conns, "start", c0);
	c0 = NULL;
	err = err ?: aj_add(conns, "end", c1);
	c1 = NULL;
	if (err)
		goto put_all;
	err = aj_add(r, "interval", iv);
	iv = NULL;
	err = err ?: aj_add_str(r, "job", k->job);
	err = err ?: aj_add_u64(r, "uid", k->uid);
	err = err ?: aj_add_str(r, "user", k->user[0] ? k->user : NULL);
	err = err ?: aj_add_str(r, "direction", k->inbound ? "inbound" : "outbound");
	err = err ?: add_addr(r, "server", k->server_addr, k->server_port);
	err = err ?: add_addr(r, "client", k->client_addr, -1);
	err = err ?: aj_add_str(r, "protection", k->protection);
	err = err ?: add_session_shape(r, k);
	if (err)
		goto put_all;
	err = aj_add(r, "connections", conns);
	conns = NULL;
	err = err ?: aj_add(r, "handshakes", hs);
	hs = NULL;
	err = err ?: aj_add(r, "bytes", bytes);
	bytes = NULL;
	if (err)
		goto put_all;
	return r;
put_all:
	json_object_put(iv);
	json_object_put(conns);
	json_object_put(hs);
	json_object_put(bytes);
	json_object_put(c0);
	json_object_put(c1);
	json_object_put(r);
	return NULL;
}

unsigned zert_sum_interval(struct zert_sum *sum, uint64_t start_ns,
			   uint64_t end_ns, unsigned seconds,
			   struct json_object *(*hdr)(void *arg),
			   void (*emit)(void *arg, struct json_object *rec),
			   void *arg)
{
	struct zert_shape **pp, *s;
	struct json_object *r;
	unsigned i, n = 0;

	for (i = 0; i < SUM_BUCKETS; i++) {
		pp = &sum->b[i];
		while ((s = *pp)) {
			/* active in the interval: open at its start, or
			 * something happened during it */
			if (s->touched || s->start.active) {
				r = hdr(arg);
				r = r ? summary_json(s, r, start_ns, end_ns, seconds) : NULL;
				emit(arg, r);	/* NULL: counted as lost */
				n++;
			}
			if (!s->now.active && !s->touched) {
				*pp = s->next;
				free(s);
				continue;
			}
			s->start = s->now;
			s->hs_ok = s->hs_failed = 0;
			s->bytes_in = s->bytes_out = 0;
			s->touched = 0;
			pp = &s->next;
		}
	}
	return n;
}
