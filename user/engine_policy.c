// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_policy.c - policy generations and one SSL_CTX per environment.
 *
 * Every engine_install_policy() builds a new generation: a copy of the
 * image's action and environment tables plus an SSL_CTX per environment.
 * Connections hold a reference to the generation they were steered with
 * (attls_steer_val.generation), so a reload never changes the rule, the
 * names in messages or the certificate of a connection already open; a
 * retired generation is freed when its last connection ended and no steer
 * entry can still name it (ENGINE_GEN_GRACE_NS).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "engine_int.h"
#include "keyring.h"
#include "log.h"
#include "rc.h"

static const char *role_name(enum attls_role r)
{
	switch (r) {
	case ATTLS_ROLE_SERVER:
		return "Server";
	case ATTLS_ROLE_CLIENT:
		return "Client";
	case ATTLS_ROLE_SERVER_CLIENTAUTH:
		return "ServerWithClientAuth";
	}
	return "?";
}

/*
 * One error of an environment build, in the EZD1286I spirit: the action,
 * where it is defined, the key ring and label, the numbered cause, the fix.
 */
static void env_log(const struct attls_env_cfg *env, const char *conn_desc,
		    int rc, const char *ring, const char *label,
		    const char *cause, const char *fix)
{
	static const char *const policy_words[] = {
		"Keyring", "CertificateLabel", "HandshakeRole",
		"V3CipherSuites", "TLSv1.",
	};
	const char *how = "; used by";
	size_t i;

	/* "change Keyring in TTLSEnvironmentAction X" reads right only for
	 * fixes in the policy; a file fix names the action that uses it. */
	for (i = 0; i < sizeof(policy_words) / sizeof(policy_words[0]); i++) {
		if (strstr(fix, policy_words[i]))
			how = " in";
	}
	log_warnx("ATTLS1286E TTLS Error RC: %d Environment Init%s%s "
		  "ENVIRONMENT: %s (%s:%u) KEYRING: %s LABEL: %s: %s: %s "
		  "(fix: %s%s TTLSEnvironmentAction %s)", rc,
		  conn_desc ? " " : "", conn_desc ? conn_desc : "", env->name,
		  env->where.file, env->where.line, ring,
		  label && *label ? label : "(default)", attls_rc_text(rc),
		  cause, fix, how, env->name);
}

static int set_protocols(SSL_CTX *ctx, const struct attls_env_cfg *env,
			 const char *conn_desc)
{
	int lo, hi;

	if (!(env->protocols & (ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13))) {
		env_log(env, conn_desc, ATTLS_RC_BAD_CIPHER_SPEC, env->keyring,
			env->cert_label, "no protocol enabled",
			"enable TLSv1.2 or TLSv1.3");
		return -EINVAL;
	}
	lo = env->protocols & ATTLS_PROTO_TLS12 ? TLS1_2_VERSION : TLS1_3_VERSION;
	hi = env->protocols & ATTLS_PROTO_TLS13 ? TLS1_3_VERSION : TLS1_2_VERSION;
	if (SSL_CTX_set_min_proto_version(ctx, lo) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, hi) != 1) {
		env_log(env, conn_desc, ATTLS_RC_BAD_CIPHER_SPEC, env->keyring,
			env->cert_label, "OpenSSL refused the protocol range",
			"check the TLSv1.2/TLSv1.3 settings");
		return -EINVAL;
	}
	return 0;
}

static int set_ciphers(SSL_CTX *ctx, const struct attls_env_cfg *env,
		       const char *conn_desc)
{
	char cause[1200];

	if (env->tls13_suites[0] &&
	    SSL_CTX_set_ciphersuites(ctx, env->tls13_suites) != 1) {
		snprintf(cause, sizeof(cause),
			 "no valid TLS 1.3 cipher suite in \"%.1000s\"",
			 env->tls13_suites);
		env_log(env, conn_desc, ATTLS_RC_BAD_CIPHER_SPEC, env->keyring,
			env->cert_label, cause, "correct V3CipherSuites");
		return -EINVAL;
	}
	if (env->tls12_ciphers[0] &&
	    SSL_CTX_set_cipher_list(ctx, env->tls12_ciphers) != 1) {
		snprintf(cause, sizeof(cause),
			 "no valid TLS 1.2 cipher in \"%.1100s\"",
			 env->tls12_ciphers);
		env_log(env, conn_desc, ATTLS_RC_BAD_CIPHER_SPEC, env->keyring,
			env->cert_label, cause, "correct V3CipherSuites");
		return -EINVAL;
	}
	return 0;
}

/*
 * Session reuse, GSK style: GSK_V3_SESSION_TIMEOUT 0 turns reuse off; the
 * server cache holds GSK_V3_SIDCACHE_SIZE sessions; stateless tickets
 * only with GSK_SESSION_TICKET_SERVER_ENABLE (Off by default, as in
 * System SSL).  Without them OpenSSL still resumes from its cache: TLS 1.2
 * by session id, TLS 1.3 by stateful tickets, GSK_SESSION_TICKET_SERVER_COUNT
 * of them per handshake.  The id context scopes sessions to the
 * environment (and is required for resumption with client certificates).
 */
static int set_sessions(SSL_CTX *ctx, const struct attls_env_cfg *env)
{
	unsigned char sid[EVP_MAX_MD_SIZE];
	unsigned int sidlen = 0;

	if (!EVP_Digest(env->name, strlen(env->name), sid, &sidlen,
			EVP_sha256(), NULL) ||
	    SSL_CTX_set_session_id_context(ctx, sid, sidlen > 32 ? 32 : sidlen) != 1)
		return -ENOMEM;
	if (!env->session_timeout) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
		return 0;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_timeout(ctx, env->session_timeout);
	if (env->session_cache_size)
		SSL_CTX_sess_set_cache_size(ctx, env->session_cache_size);
	if (!env->ticket_server)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, env->ticket_count);
	return 0;
}

/* Key exchange groups and signature algorithms (TTLSSignatureParms). */
static int set_groups_sigalgs(SSL_CTX *ctx, const struct attls_env_cfg *env,
			      const char *conn_desc)
{
	char cause[700];

	if (env->groups[0] && SSL_CTX_set1_groups_list(ctx, env->groups) != 1) {
		snprintf(cause, sizeof(cause),
			 "no valid key exchange group in \"%.255s\"", env->groups);
		env_log(env, conn_desc, ATTLS_RC_BAD_CIPHER_SPEC, env->keyring,
			env->cert_label, cause,
			"correct ServerKeyShareGroups or ServerKexECurves");
		return -EINVAL;
	}
	if (env->sigalgs[0] && SSL_CTX_set1_sigalgs_list(ctx, env->sigalgs) != 1) {
		snprintf(cause, sizeof(cause),
			 "no valid signature algorithm in \"%.511s\"", env->sigalgs);
		env_log(env, conn_desc, ATTLS_RC_BAD_CIPHER_SPEC, env->keyring,
			env->cert_label, cause, "correct SignaturePairs");
		return -EINVAL;
	}
	return 0;
}

/* ClientAuthType PassThru: ask for a certificate, never judge it. */
static int passthru_verify_cb(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;	/* accept */
}

/* Does this environment verify client certificates against the ring? */
static int wants_ca(const struct attls_env_cfg *env)
{
	return env->role == ATTLS_ROLE_SERVER_CLIENTAUTH &&
	       env->client_auth != ATTLS_CLIENT_AUTH_PASSTHRU;
}

/*
 * ServerWithClientAuth by ClientAuthType: Required (and SAFCheck, whose
 * certificate-to-user mapping does not exist here) insist on a valid
 * certificate; Full validates one if sent; PassThru asks and accepts
 * anything.
 */
static void set_client_auth(SSL_CTX *ctx, const struct attls_env_cfg *env)
{
	switch (env->client_auth) {
	case ATTLS_CLIENT_AUTH_PASSTHRU:
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, passthru_verify_cb);
		break;
	case ATTLS_CLIENT_AUTH_FULL:
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, conn_verify_cb);
		break;
	case ATTLS_CLIENT_AUTH_SAFCHECK:
		log_warnx("environment %s: ClientAuthType SAFCheck: mapping the "
			  "certificate to a local user is not implemented; "
			  "checked as Required", env->name);
		/* fall through */
	default:
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, conn_verify_cb);
		break;
	}
}

/* KeyringPw, else the first line of KeyringStashFile, into pw[len]. */
static int env_password(const struct attls_env_cfg *env, const char *conn_desc,
			char *pw, size_t len)
{
	struct keyring_res *res;
	int err;

	pw[0] = '\0';
	if (env->keyring_pw[0]) {
		snprintf(pw, len, "%s", env->keyring_pw);
		return 0;
	}
	if (!env->keyring_stash[0])
		return 0;
	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = keyring_read_stash(env->keyring_stash, pw, len, res);
	if (err)
		env_log(env, conn_desc, res->rc, env->keyring, env->cert_label,
			res->cause, res->fix);
	free(res);
	return err;
}

/*
 * Build the SSL_CTX of `env` (for owner `user` when its key ring has no
 * owner).  Logs every failure; returns NULL with *rc and *err set.
 */
static SSL_CTX *env_ctx_build(struct engine *e, const struct attls_env_cfg *env,
			      const char *user, const char *conn_desc, int *rc,
			      int *err)
{
	struct keyring_res *res;
	char pw[sizeof(env->keyring_pw)];
	SSL_CTX *ctx;

	*rc = ATTLS_RC_ENV_INIT;
	if (env->role != ATTLS_ROLE_SERVER &&
	    env->role != ATTLS_ROLE_SERVER_CLIENTAUTH) {
		/* The client role needs outbound steering, a later issue. */
		env_log(env, conn_desc, ATTLS_RC_ROLE_UNSUPPORTED, env->keyring,
			env->cert_label,
			"HandshakeRole Client is not supported by this engine yet",
			"use HandshakeRole Server or ServerWithClientAuth");
		*rc = ATTLS_RC_ROLE_UNSUPPORTED;
		*err = -EOPNOTSUPP;
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		attls_ssl_drain(env->name, "SSL_CTX_new");
		*rc = ATTLS_RC_NOMEM;
		*err = -ENOMEM;
		return NULL;
	}
	/*
	 * Server cipher order as System SSL does; no renegotiation (TLS 1.2
	 * renegotiation is a DoS lever and AT-TLS leaves it off by default);
	 * partial writes and moving buffers because the relay writes from a
	 * ring buffer; released buffers keep an idle connection small.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_NO_COMPRESSION);
	/* MiddleBoxCompatMode (RFC 8446 D.4), Off by default in AT-TLS;
	 * OpenSSL has it on. */
	if (env->middlebox_compat)
		SSL_CTX_set_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	else
		SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
			 SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/*
	 * Read ahead: one recv() takes several records instead of two
	 * syscalls (header, body) per record; measured 5-8% less engine CPU
	 * per GiB.  The relay retries SSL_read() on SSL_has_pending(), so
	 * records already read never wait for an epoll edge.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	*err = set_sessions(ctx, env);
	if (*err) {
		attls_ssl_drain(env->name, "session settings");
		*rc = ATTLS_RC_NOMEM;
		goto free_ctx;
	}
	*rc = ATTLS_RC_BAD_CIPHER_SPEC;
	*err = set_protocols(ctx, env, conn_desc);
	if (!*err)
		*err = set_ciphers(ctx, env, conn_desc);
	if (!*err)
		*err = set_groups_sigalgs(ctx, env, conn_desc);
	if (*err) {
		attls_ssl_drain(env->name, "cipher settings");
		goto free_ctx;
	}

	*rc = ATTLS_RC_KEYRING_READ;
	*err = env_password(env, conn_desc, pw, sizeof(pw));
	if (*err)
		goto free_ctx;
	res = malloc(sizeof(*res));
	if (!res) {
		*err = -ENOMEM;
		*rc = ATTLS_RC_NOMEM;
		goto free_ctx;
	}
	*err = keyring_load(ctx, e->keyring_root, env->keyring, env->cert_label,
			    user, wants_ca(env), pw, res);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (*err) {
		*rc = res->rc;
		env_log(env, conn_desc, res->rc, res->path, res->label,
			res->cause, res->fix);
		free(res);
		goto free_ctx;
	}
	if (res->warn_rc)
		env_log(env, conn_desc, res->warn_rc, res->path, res->label,
			res->warn, "renew the certificate");
	log_debug("environment %s (%s): key ring %s label %s loaded%s%s",
		  env->name, role_name(env->role), res->path, res->label,
		  user ? " for user " : "", user ? user : "");
	free(res);

	if (env->role == ATTLS_ROLE_SERVER_CLIENTAUTH)
		set_client_auth(ctx, env);
	*rc = ATTLS_RC_OK;
	return ctx;

free_ctx:
	SSL_CTX_free(ctx);
	return NULL;
}

static void env_users_free(struct engine_env *ev)
{
	struct env_user *u;

	while ((u = LIST_FIRST(&ev->users))) {
		LIST_REMOVE(u, link);
		SSL_CTX_free(u->ctx);
		free(u);
	}
}

static void gen_free(struct engine_gen *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; g->env && i < g->nenvs; i++) {
		SSL_CTX_free(g->env[i].ctx);
		env_users_free(&g->env[i]);
		pthread_mutex_destroy(&g->env[i].lock);
	}
	free(g->env);
	free(g->envs);
	free(g->actions);
	free(g);
}

static int gen_copy(struct engine_gen *g, const struct attls_map_image *img)
{
	size_t i;

	if (img->nactions) {
		g->actions = calloc(img->nactions, sizeof(*g->actions));
		if (!g->actions)
			return -ENOMEM;
		memcpy(g->actions, img->actions,
		       img->nactions * sizeof(*g->actions));
	}
	g->nactions = img->nactions;
	if (img->nenvs) {
		g->envs = calloc(img->nenvs, sizeof(*g->envs));
		g->env = calloc(img->nenvs, sizeof(*g->env));
		if (!g->envs || !g->env)
			return -ENOMEM;
		memcpy(g->envs, img->envs, img->nenvs * sizeof(*g->envs));
	}
	g->nenvs = img->nenvs;
	for (i = 0; i < g->nenvs; i++) {
		/* Never trust an image's strings to be terminated. */
		g->envs[i].name[sizeof(g->envs[i].name) - 1] = '\0';
		g->envs[i].keyring[sizeof(g->envs[i].keyring) - 1] = '\0';
		g->envs[i].cert_label[sizeof(g->envs[i].cert_label) - 1] = '\0';
		g->envs[i].tls13_suites[sizeof(g->envs[i].tls13_suites) - 1] = '\0';
		g->envs[i].tls12_ciphers[sizeof(g->envs[i].tls12_ciphers) - 1] = '\0';
		g->envs[i].where.file[sizeof(g->envs[i].where.file) - 1] = '\0';
		pthread_mutex_init(&g->env[i].lock, NULL);
		LIST_INIT(&g->env[i].users);
	}
	for (i = 0; i < g->nactions; i++) {
		g->actions[i].rule_name[ATTLS_NAME_LEN - 1] = '\0';
		g->actions[i].group_name[ATTLS_NAME_LEN - 1] = '\0';
		g->actions[i].env_name[ATTLS_NAME_LEN - 1] = '\0';
		g->actions[i].conn_name[ATTLS_NAME_LEN - 1] = '\0';
	}
	return 0;
}

/* Build every environment whose key ring does not depend on the user. */
static int gen_build(struct engine *e, struct engine_gen *g)
{
	struct attls_env_cfg *env;
	int rc, err, kind;
	size_t i;

	for (i = 0; i < g->nenvs; i++) {
		env = &g->envs[i];
		kind = keyring_kind(env->keyring);
		if (kind == KEYRING_USER) {
			/* Built per connection owner on first use; only the
			 * settings that do not need a key ring are checked. */
			g->env[i].per_user = 1;
			if (env->role != ATTLS_ROLE_SERVER &&
			    env->role != ATTLS_ROLE_SERVER_CLIENTAUTH) {
				env_log(env, NULL, ATTLS_RC_ROLE_UNSUPPORTED,
					env->keyring, env->cert_label,
					"HandshakeRole Client is not supported by this engine yet",
					"use HandshakeRole Server or ServerWithClientAuth");
				return -EOPNOTSUPP;
			}
			continue;
		}
		g->env[i].ctx = env_ctx_build(e, env, NULL, NULL, &rc, &err);
		if (!g->env[i].ctx) {
			log_warnx("ATTLS1286E TTLS Error RC: %d Environment Init "
				  "ENVIRONMENT: %s: %s; policy generation %llu "
				  "not installed, the previous policy stays",
				  ATTLS_RC_ENV_INIT, env->name,
				  attls_rc_text(ATTLS_RC_ENV_INIT),
				  (unsigned long long)g->generation);
			return err ? err : -EINVAL;
		}
	}
	return 0;
}

/* Unlink generations nobody can use any more; caller holds pol_lock. */
static void gen_prune(struct engine *e, uint64_t now,
		      struct engine_gen **freelist)
{
	struct engine_gen *g, *next;
	unsigned nretired = 0;

	for (g = LIST_FIRST(&e->gens); g; g = next) {
		next = LIST_NEXT(g, link);
		if (!g->retired_ns)
			continue;
		nretired++;
		if (g->refs)
			continue;
		if (now - g->retired_ns < ENGINE_GEN_GRACE_NS &&
		    nretired <= ENGINE_GEN_KEEP)
			continue;
		LIST_REMOVE(g, link);
		/* Reuse the link: the generation is off the engine's list. */
		LIST_NEXT(g, link) = *freelist;
		*freelist = g;
	}
}

static void gen_free_list(struct engine_gen *g)
{
	struct engine_gen *next;

	for (; g; g = next) {
		next = LIST_NEXT(g, link);
		gen_free(g);
	}
}

int engine_install_policy(struct engine *e, const struct attls_map_image *img,
			  uint64_t generation)
{
	struct engine_gen *g, *cur, *freelist = NULL;
	uint64_t now = engine_now_ns();
	int err;

	if (!e || !img)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->generation = generation;
	err = gen_copy(g, img);
	if (err)
		goto free_gen;
	err = gen_build(e, g);
	if (err)
		goto free_gen;

	/* Logged before publishing: once on the list, g is shared. */
	log_info("engine: policy generation %llu: %zu environment(s), "
		 "%zu rule action(s)", (unsigned long long)generation,
		 g->nenvs, g->nactions);
	pthread_mutex_lock(&e->pol_lock);
	cur = LIST_FIRST(&e->gens);
	if (cur)
		cur->retired_ns = now;
	LIST_INSERT_HEAD(&e->gens, g, link);
	gen_prune(e, now, &freelist);
	pthread_mutex_unlock(&e->pol_lock);
	gen_free_list(freelist);
	return 0;

free_gen:
	gen_free(g);
	return err;
}

struct engine_gen *engine_gen_get(struct engine *e, uint64_t gen)
{
	struct engine_gen *g;

	pthread_mutex_lock(&e->pol_lock);
	LIST_FOREACH(g, &e->gens, link) {
		if (g->generation == gen) {
			g->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&e->pol_lock);
	return g;
}

void engine_gen_put(struct engine *e, struct engine_gen *g)
{
	struct engine_gen *freelist = NULL;

	if (!g)
		return;
	pthread_mutex_lock(&e->pol_lock);
	g->refs--;
	if (!g->refs && g->retired_ns)
		gen_prune(e, engine_now_ns(), &freelist);
	pthread_mutex_unlock(&e->pol_lock);
	gen_free_list(freelist);
}

SSL_CTX *engine_env_ctx(struct engine *e, struct engine_gen *g, int env_index,
			uint32_t uid, const char *user, const char *conn_desc,
			int *rc)
{
	struct engine_env *ev = &g->env[env_index];
	uint64_t now;
	struct env_user *u;
	SSL_CTX *ctx;
	int err;

	*rc = ATTLS_RC_OK;
	if (!ev->per_user)
		return ev->ctx;

	pthread_mutex_lock(&ev->lock);
	LIST_FOREACH(u, &ev->users, link) {
		if (u->uid == uid)
			break;
	}
	now = engine_now_ns();
	if (u && (u->ctx || now < u->retry_ns)) {
		ctx = u->ctx;
		if (!ctx)
			*rc = ATTLS_RC_ENV_INIT;
		pthread_mutex_unlock(&ev->lock);
		return ctx;
	}
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			pthread_mutex_unlock(&ev->lock);
			*rc = ATTLS_RC_NOMEM;
			return NULL;
		}
		u->uid = uid;
		LIST_INSERT_HEAD(&ev->users, u, link);
	}
	/* Built under the lock: concurrent first connections of one user
	 * wait for one build instead of racing several. */
	u->ctx = env_ctx_build(e, &g->envs[env_index], user, conn_desc, rc, &err);
	if (!u->ctx)
		u->retry_ns = now + ENGINE_CTX_RETRY_NS;
	ctx = u->ctx;
	pthread_mutex_unlock(&ev->lock);
	return ctx;
}

void engine_gens_free(struct engine *e)
{
	struct engine_gen *g;

	while ((g = LIST_FIRST(&e->gens))) {
		LIST_REMOVE(g, link);
		gen_free(g);
	}
}
