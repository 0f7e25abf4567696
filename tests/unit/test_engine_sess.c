// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_engine_sess.c - the client session cache's bounds (user/
 * engine_sess.c): GSK_V3_SIDCACHE_SIZE per environment (SSL_CTX), a few
 * per destination, TLS 1.3 tickets single-use, an environment's sessions
 * gone with its SSL_CTX.  Real OpenSSL sessions and contexts.
 */
#include <pthread.h>
#include <time.h>

#include <openssl/ssl.h>

#include "../../user/engine_int.h"
#include "unit.h"

/* A resumable session of protocol version ver with a distinct id. */
static SSL_SESSION *session(int ver, unsigned char id)
{
	unsigned char sid[32] = { id, 0x5e };
	SSL_SESSION *s = SSL_SESSION_new();

	if (!s)
		return NULL;
	SSL_SESSION_set_protocol_version(s, ver);
	SSL_SESSION_set1_id(s, sid, sizeof(sid));
	SSL_SESSION_set_time(s, (long)time(NULL));
	SSL_SESSION_set_timeout(s, 600);
	return s;
}

static void key(struct engine_sess_key *k, const SSL_CTX *ctx, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->ctx_serial = engine_sess_ctx_serial(ctx);
	k->raddr[0] = 10;
	k->raddr[3] = 1;
	k->rport = port;
	snprintf(k->sni, sizeof(k->sni), "server.test");
}

/* 1 when a session is cached under (ctx, port); the reference is dropped. */
static int cached(struct engine *e, const SSL_CTX *ctx, uint16_t port)
{
	struct engine_sess_key k;
	SSL_SESSION *s;

	key(&k, ctx, port);
	s = engine_sess_get(e, &k);
	SSL_SESSION_free(s);
	return s != NULL;
}

static int put(struct engine *e, SSL_CTX *ctx, uint16_t port, int ver,
	       unsigned char id)
{
	struct engine_sess_key k;
	SSL_SESSION *s = session(ver, id);
	int err;

	key(&k, ctx, port);
	err = s ? engine_sess_put(e, ctx, &k, s, 300) : -1;
	if (err)
		SSL_SESSION_free(s);
	return err;
}

static void test_per_environment_bound(void)
{
	struct engine e = { .sess = NULL };
	SSL_CTX *a = SSL_CTX_new(TLS_client_method());
	SSL_CTX *b = SSL_CTX_new(TLS_client_method());
	unsigned i;

	pthread_mutex_init(&e.sess_lock, NULL);
	if (!ASSERT_TRUE(a && b, "SSL_CTX_new") ||
	    !ASSERT_EQ(engine_sess_ctx_mark(&e, a, 3), 0, "mark a (bound 3)") ||
	    !ASSERT_EQ(engine_sess_ctx_mark(&e, b, 0), 0, "mark b (default)"))
		goto out;
	ASSERT_TRUE(engine_sess_ctx_serial(a) != engine_sess_ctx_serial(b),
		    "serials differ");
	for (i = 0; i < 5; i++)
		ASSERT_EQ(put(&e, a, (uint16_t)(1000 + i), TLS1_2_VERSION,
			      (unsigned char)i), 0, "put into a");
	for (i = 0; i < 5; i++)
		ASSERT_EQ(put(&e, b, (uint16_t)(1000 + i), TLS1_2_VERSION,
			      (unsigned char)(10 + i)), 0, "put into b");
	/* a keeps its 3 newest; b (bound ENGINE_SESS_MAX) all 5 */
	ASSERT_TRUE(!cached(&e, a, 1000) && !cached(&e, a, 1001),
		    "a's oldest two dropped at GSK_V3_SIDCACHE_SIZE 3");
	ASSERT_TRUE(cached(&e, a, 1002) && cached(&e, a, 1003) && cached(&e, a, 1004),
		    "a's newest three kept (TLS 1.2: offered again and again)");
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(cached(&e, b, (uint16_t)(1000 + i)),
			    "b's sessions untouched by a's bound");
	/* a session offered under another environment's serial is refused */
	{
		struct engine_sess_key k;
		SSL_SESSION *s = session(TLS1_2_VERSION, 99);

		key(&k, b, 2000);
		ASSERT_EQ(engine_sess_put(&e, a, &k, s, 300), -EINVAL,
			  "key of b with the SSL_CTX of a");
		SSL_SESSION_free(s);
	}
	/* a's SSL_CTX gone (its last generation freed): its sessions too */
	SSL_CTX_free(a);
	a = NULL;
	ASSERT_TRUE(cached(&e, b, 1004), "b's sessions outlive a");
out:
	SSL_CTX_free(a);
	SSL_CTX_free(b);
	engine_sess_free(&e);
	pthread_mutex_destroy(&e.sess_lock);
}

static void test_per_key_and_tickets(void)
{
	struct engine e = { .sess = NULL };
	SSL_CTX *a = SSL_CTX_new(TLS_client_method());
	unsigned i, got = 0;

	pthread_mutex_init(&e.sess_lock, NULL);
	if (!ASSERT_TRUE(a != NULL, "SSL_CTX_new") ||
	    !ASSERT_EQ(engine_sess_ctx_mark(&e, a, 0), 0, "mark"))
		goto out;
	/* six TLS 1.3 tickets for one destination: ENGINE_SESS_PER_KEY kept,
	 * each offered once */
	for (i = 0; i < 6; i++)
		ASSERT_EQ(put(&e, a, 443, TLS1_3_VERSION, (unsigned char)i), 0, "ticket");
	while (got < 10 && cached(&e, a, 443))
		got++;
	ASSERT_EQ(got, ENGINE_SESS_PER_KEY, "tickets per destination, single-use");
	ASSERT_TRUE(!cached(&e, a, 443), "used up");
out:
	engine_sess_free(&e);
	SSL_CTX_free(a);
	pthread_mutex_destroy(&e.sess_lock);
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_per_environment_bound),
		UNIT_TEST(test_per_key_and_tickets),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
