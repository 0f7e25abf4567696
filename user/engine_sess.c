// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_sess.c - client session cache: outbound connections resume.
 *
 * In the client role (HandshakeRole Client) OpenSSL hands every new
 * session to the SSL_CTX's new-session callback (TLS 1.2 at the end of
 * the handshake, TLS 1.3 tickets after it, often two per connection);
 * the connection puts it here, and the next connection of the same
 * environment to the same destination offers it (SSL_set_session()).
 *
 * One cache for the engine, behind a mutex taken twice per outbound
 * handshake (the lookup, each new session), never on the relay path.  Not
 * one per thread: the kernel spreads connections over the threads'
 * SO_REUSEPORT listeners by hash, so with a cache per thread a
 * connection would find the session of the previous one only by chance
 * (one in nthreads), and each thread would cost every destination its own
 * full handshake.  A handshake costs milliseconds, the uncontended lock
 * tens of nanoseconds (and the policy lock is already taken once per
 * connection).
 *
 * Key: the SSL_CTX's serial (engine_sess_ctx_mark(): a new SSL_CTX, i.e.
 * a changed environment or EnvironmentUserInstance, never matches an old
 * session, and its serial is never reused, unlike its address; its
 * sessions are dropped when it is freed with its last generation), the
 * destination address and port, the SNI name sent and the
 * HostReferenceIdDNS checked.  A session is stored only after a handshake
 * whose certificate checks all passed, so a session is offered only to a
 * connection that would have checked the same server certificate against
 * the same CA certificates and the same name: OpenSSL does not check the
 * certificate again on resumption.
 *
 * Bounded: GSK_V3_SIDCACHE_SIZE per environment (SSL_CTX) and
 * ENGINE_SESS_MAX in all (least recently stored dropped first),
 * ENGINE_SESS_PER_KEY per key; a session expires after
 * GSK_V3_SESSION_TIMEOUT, the server's ticket lifetime, or the server
 * certificate's notAfter, whichever is first.  TLS 1.3 tickets are
 * single-use (RFC 8446 C.4): taken out of the cache when offered.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "engine_int.h"

#define SESS_BUCKETS	256	/* power of two */

struct sess_ctx;

struct sess_ent {
	TAILQ_ENTRY(sess_ent) lru;	/* newest first */
	struct sess_ctx *sx;		/* its SSL_CTX's; outlives it */
	LIST_ENTRY(sess_ent) chain;	/* bucket, newest first */
	uint64_t hash;
	time_t expires;			/* CLOCK_REALTIME seconds */
	struct engine_sess_key k;
	SSL_SESSION *s;
};

struct engine_sess_cache {
	TAILQ_HEAD(sess_lru, sess_ent) lru;
	LIST_HEAD(, sess_ent) bucket[SESS_BUCKETS];
	unsigned n;
};

/* Attached to a client SSL_CTX (ex_data): its serial and cache, and
 * its sessions there (n, under sess_lock) with their bound. */
struct sess_ctx {
	uint64_t serial;
	struct engine *e;
	unsigned n, max;
};

static int ctx_idx = -1;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t ctx_serial;

static void ent_drop(struct engine_sess_cache *sc, struct sess_ent *ent);

/* The SSL_CTX is freed (its generation is gone): so are its sessions. */
static void sess_ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			  int idx, long argl, void *argp)
{
	struct sess_ctx *sx = ptr;
	struct engine_sess_cache *sc;
	struct sess_ent *ent, *next;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!sx)
		return;
	pthread_mutex_lock(&sx->e->sess_lock);
	sc = sx->e->sess;
	for (ent = sc ? TAILQ_FIRST(&sc->lru) : NULL; ent; ent = next) {
		next = TAILQ_NEXT(ent, lru);
		if (ent->sx == sx)
			ent_drop(sc, ent);
	}
	pthread_mutex_unlock(&sx->e->sess_lock);
	free(sx);
}

/* SSL_SESSION ex_data: the server asked for our certificate (no free:
 * the value is not a pointer). */
static int sess_cert_idx = -1;

static void ctx_idx_init(void)
{
	ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, sess_ctx_free);
	sess_cert_idx = SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

void engine_sess_set_cert_requested(SSL_SESSION *s)
{
	if (sess_cert_idx >= 0)
		SSL_SESSION_set_ex_data(s, sess_cert_idx, (void *)1);
}

int engine_sess_cert_requested(const SSL_SESSION *s)
{
	return s && sess_cert_idx >= 0 &&
	       SSL_SESSION_get_ex_data(s, sess_cert_idx) != NULL;
}

int engine_sess_ctx_mark(struct engine *e, SSL_CTX *ctx, unsigned max)
{
	struct sess_ctx *sx;

	pthread_once(&ctx_once, ctx_idx_init);
	if (ctx_idx < 0)
		return -ENOMEM;
	sx = calloc(1, sizeof(*sx));
	if (!sx)
		return -ENOMEM;
	sx->serial = atomic_fetch_add(&ctx_serial, 1) + 1;
	sx->e = e;
	sx->max = max ? max : ENGINE_SESS_MAX;
	if (SSL_CTX_set_ex_data(ctx, ctx_idx, sx) != 1) {
		free(sx);
		return -ENOMEM;
	}
	return 0;
}

uint64_t engine_sess_ctx_serial(const SSL_CTX *ctx)
{
	const struct sess_ctx *sx;

	if (ctx_idx < 0)
		return 0;
	sx = SSL_CTX_get_ex_data(ctx, ctx_idx);
	return sx ? sx->serial : 0;
}

/* FNV-1a over the fixed part and the names up to their ends. */
static uint64_t key_hash(const struct engine_sess_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < offsetof(struct engine_sess_key, sni); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	for (p = (const unsigned char *)k->sni; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull;	/* "a" + "bc" != "ab" + "c" */
	for (p = (const unsigned char *)k->ref; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

static int key_eq(const struct engine_sess_key *a, const struct engine_sess_key *b)
{
	return !memcmp(a, b, offsetof(struct engine_sess_key, sni)) &&
	       !strcmp(a->sni, b->sni) && !strcmp(a->ref, b->ref);
}

static void ent_drop(struct engine_sess_cache *sc, struct sess_ent *ent)
{
	TAILQ_REMOVE(&sc->lru, ent, lru);
	LIST_REMOVE(ent, chain);
	ent->sx->n--;
	SSL_SESSION_free(ent->s);
	free(ent);
	sc->n--;
}

/* When s stops being worth offering: the first of its lifetime, the
 * policy's GSK_V3_SESSION_TIMEOUT and the server certificate's end. */
static time_t sess_expiry(const SSL_SESSION *s, unsigned timeout, time_t now)
{
	time_t end = now + (time_t)timeout, t;
	X509 *peer = SSL_SESSION_get0_peer((SSL_SESSION *)s);
	const ASN1_TIME *na = peer ? X509_get0_notAfter(peer) : NULL;
	struct tm tm;

	t = (time_t)SSL_SESSION_get_time(s) + (time_t)SSL_SESSION_get_timeout(s);
	if (SSL_SESSION_get_timeout(s) > 0 && t < end)
		end = t;
	if (na && ASN1_TIME_to_tm(na, &tm) == 1) {
		t = timegm(&tm);
		if (t != (time_t)-1 && t < end)
			end = t;
	}
	return end;
}

/* The cache of e, created on first use; caller holds sess_lock. */
static struct engine_sess_cache *cache_get(struct engine *e)
{
	struct engine_sess_cache *sc = e->sess;
	unsigned i;

	if (sc)
		return sc;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	TAILQ_INIT(&sc->lru);
	for (i = 0; i < SESS_BUCKETS; i++)
		LIST_INIT(&sc->bucket[i]);
	e->sess = sc;
	return sc;
}

/* Insert ent (s set); caller holds sess_lock. */
static void cache_insert(struct engine_sess_cache *sc, struct sess_ent *ent,
			 time_t now)
{
	struct sess_ent *e2, *oldest = NULL;
	unsigned same = 0;

	LIST_FOREACH(e2, &sc->bucket[ent->hash & (SESS_BUCKETS - 1)], chain) {
		if (e2->hash == ent->hash && key_eq(&e2->k, &ent->k)) {
			same++;
			oldest = e2;
		}
	}
	if (same >= ENGINE_SESS_PER_KEY) {
		ent_drop(sc, oldest);
	} else if (ent->sx->n >= ent->sx->max) {
		/* The environment's oldest: walked to only at its bound. */
		for (e2 = TAILQ_LAST(&sc->lru, sess_lru); e2->sx != ent->sx;
		     e2 = TAILQ_PREV(e2, sess_lru, lru))
			;
		ent_drop(sc, e2);
	} else if (sc->n >= ENGINE_SESS_MAX) {
		ent_drop(sc, TAILQ_LAST(&sc->lru, sess_lru));
	}
	/* The oldest stored are the likeliest expired. */
	while ((e2 = TAILQ_LAST(&sc->lru, sess_lru)) && e2->expires <= now)
		ent_drop(sc, e2);
	TAILQ_INSERT_HEAD(&sc->lru, ent, lru);
	LIST_INSERT_HEAD(&sc->bucket[ent->hash & (SESS_BUCKETS - 1)], ent, chain);
	sc->n++;
	ent->sx->n++;
}

int engine_sess_put(struct engine *e, const SSL_CTX *ctx,
		    const struct engine_sess_key *k, SSL_SESSION *s, unsigned timeout)
{
	struct sess_ctx *sx = ctx_idx < 0 ? NULL : SSL_CTX_get_ex_data(ctx, ctx_idx);
	struct engine_sess_cache *sc;
	struct sess_ent *ent;
	time_t now = time(NULL);

	if (!timeout || !sx || k->ctx_serial != sx->serial ||
	    !SSL_SESSION_is_resumable(s))
		return -EINVAL;
	ent = calloc(1, sizeof(*ent));
	if (!ent)
		return -ENOMEM;
	ent->k = *k;
	ent->sx = sx;
	ent->hash = key_hash(k);
	ent->expires = sess_expiry(s, timeout, now);
	if (ent->expires <= now) {
		free(ent);
		return -ETIME;
	}
	pthread_mutex_lock(&e->sess_lock);
	sc = cache_get(e);
	if (!sc) {
		pthread_mutex_unlock(&e->sess_lock);
		free(ent);
		return -ENOMEM;
	}
	ent->s = s;
	cache_insert(sc, ent, now);
	pthread_mutex_unlock(&e->sess_lock);
	return 0;
}

/* Take a session under k with hash h out (TLS 1.3) or reference it;
 * caller holds sess_lock. */
static SSL_SESSION *cache_take(struct engine_sess_cache *sc,
			       const struct engine_sess_key *k, uint64_t h,
			       time_t now)
{
	struct sess_ent *ent, *next;
	SSL_SESSION *s;

	for (ent = LIST_FIRST(&sc->bucket[h & (SESS_BUCKETS - 1)]); ent; ent = next) {
		next = LIST_NEXT(ent, chain);
		if (ent->hash != h || !key_eq(&ent->k, k))
			continue;
		if (ent->expires <= now || !SSL_SESSION_is_resumable(ent->s)) {
			ent_drop(sc, ent);
			continue;
		}
		s = ent->s;
		if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION) {
			/* Single use: the entry's reference is the caller's. */
			ent->s = NULL;
			ent_drop(sc, ent);
			return s;
		}
		/* TLS 1.2: a session id or ticket may be offered again. */
		return SSL_SESSION_up_ref(s) == 1 ? s : NULL;
	}
	return NULL;
}

SSL_SESSION *engine_sess_get(struct engine *e, const struct engine_sess_key *k)
{
	SSL_SESSION *s = NULL;
	uint64_t h;

	if (!k->ctx_serial)
		return NULL;
	h = key_hash(k);
	pthread_mutex_lock(&e->sess_lock);
	if (e->sess && e->sess->n)
		s = cache_take(e->sess, k, h, time(NULL));
	pthread_mutex_unlock(&e->sess_lock);
	return s;
}

void engine_sess_forget(struct engine *e, const struct engine_sess_key *k)
{
	struct engine_sess_cache *sc;
	struct sess_ent *ent, *next;
	uint64_t h = key_hash(k);

	pthread_mutex_lock(&e->sess_lock);
	sc = e->sess;
	for (ent = sc ? LIST_FIRST(&sc->bucket[h & (SESS_BUCKETS - 1)]) : NULL;
	     ent; ent = next) {
		next = LIST_NEXT(ent, chain);
		if (ent->hash == h && key_eq(&ent->k, k))
			ent_drop(sc, ent);
	}
	pthread_mutex_unlock(&e->sess_lock);
}

void engine_sess_free(struct engine *e)
{
	struct engine_sess_cache *sc = e->sess;
	struct sess_ent *ent;

	if (!sc)
		return;
	while ((ent = TAILQ_FIRST(&sc->lru)))
		ent_drop(sc, ent);
	free(sc);
	e->sess = NULL;
}
