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
 *
 * An environment whose attls_env_cfg is unchanged from the previous
 * generation (every field but the source location, EnvironmentUserInstance
 * included) keeps its SSL_CTX, and with it the session cache: a reload does
 * not cost every client a full handshake.  Bump EnvironmentUserInstance to
 * have changed certificates or keys read.  Key ring access lists and the
 * SAFCheck certificate map are read again at every install; so are the
 * ring's CRL files, by content: an environment whose CRLs changed is built
 * again (keyring_crl_digest(), env_reuse()).
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "../policy/policy.h"
#include "engine_int.h"
#include "keyring.h"
#include "log.h"
#include "rc.h"

/*
 * The last env_log() of this thread (gen_build() keeps it with an
 * environment that failed, for the connections that later map to it).
 */
static __thread int env_last_rc;
static __thread char env_last_msg[2048];

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
	env_last_rc = rc;
	snprintf(env_last_msg, sizeof(env_last_msg), "ENVIRONMENT: %s (%s:%u) "
		 "KEYRING: %s (%s) LABEL: %s: %s: %s (fix: %s%s TTLSEnvironmentAction %s)",
		 env->name, env->where.file, env->where.line, env->keyring, ring,
		 label && *label ? label : "(default)", attls_rc_text(rc),
		 cause, fix, how, env->name);
	log_warnx("ATTLS1286E TTLS Error RC: %d Environment Init%s%s %s", rc,
		  conn_desc ? " " : "", conn_desc ? conn_desc : "", env_last_msg);
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
 * Session reuse, GSK style: GSK_V3_SESSION_TIMEOUT 0 turns reuse off (in
 * both roles; the client role's cache is engine_sess.c); the
 * server cache holds GSK_V3_SIDCACHE_SIZE sessions; stateless tickets
 * only with GSK_SESSION_TICKET_SERVER_ENABLE (Off by default, as in
 * System SSL).  Without them OpenSSL still resumes from its cache: TLS 1.2
 * by session id, TLS 1.3 by stateful tickets, GSK_SESSION_TICKET_SERVER_COUNT
 * of them per handshake.  The id context scopes sessions to the
 * environment (and is required for resumption with client certificates).
 */
static int set_sessions(struct engine *e, SSL_CTX *ctx,
			const struct attls_env_cfg *env)
{
	unsigned char sid[EVP_MAX_MD_SIZE];
	unsigned int sidlen = 0;

	if (env->role == ATTLS_ROLE_CLIENT) {
		/*
		 * Client sessions go to the engine's own cache (engine_sess.c,
		 * keyed by destination and names, per thread), never to
		 * OpenSSL's: GSK_V3_SESSION_TIMEOUT 0 turns resumption off,
		 * GSK_SESSION_TICKET_CLIENT_ENABLE 0 stops offering tickets
		 * (TLS 1.2 then resumes by session id, TLS 1.3 not at all).
		 */
		if (!env->ticket_client)
			SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		if (!env->session_timeout) {
			SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
			return 0;
		}
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
					       SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_set_timeout(ctx, env->session_timeout);
		SSL_CTX_sess_set_new_cb(ctx, conn_client_sess_cb);
		return engine_sess_ctx_mark(e, ctx, env->session_cache_size);
	}
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
 * ServerWithClientAuth by ClientAuthType: Required and SAFCheck insist on
 * a valid certificate (SAFCheck also maps it to a user, conn_verify_cb());
 * Full validates one if sent; PassThru asks and accepts anything.
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

/* ---- ServerHandshakeSNI -------------------------------------------- */

/* The certificate of one ServerHandshakeSNIList name. */
struct sni_cert {
	char host[ATTLS_HOST_LEN];	/* lower case, "*.example.com" allowed */
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
};

/* Attached to a server SSL_CTX (ex_data), freed with it. */
struct ctx_sni {
	unsigned required;		/* ServerHandshakeSNI Required */
	unsigned match_required;	/* ServerHandshakeSNIMatch Required */
	unsigned n;
	struct sni_cert v[ATTLS_MAX_SNI];
};

static int sni_idx = -1;
static pthread_once_t sni_once = PTHREAD_ONCE_INIT;

static void sni_free(struct ctx_sni *sn)
{
	unsigned i;

	if (!sn)
		return;
	for (i = 0; i < sn->n; i++) {
		X509_free(sn->v[i].cert);
		EVP_PKEY_free(sn->v[i].key);
		sk_X509_pop_free(sn->v[i].chain, X509_free);
	}
	free(sn);
}

static void sni_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	sni_free(ptr);
}

static void sni_idx_init(void)
{
	sni_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, sni_ex_free);
}

/* "*.example.com" matches one more label; anything else exactly. */
static int sni_match(const char *pattern, const char *name)
{
	const char *dot;

	if (pattern[0] == '*' && pattern[1] == '.') {
		dot = strchr(name, '.');
		return dot && dot != name && !strcmp(dot, pattern + 1);
	}
	return !strcmp(pattern, name);
}

/* The host_name of a ClientHello server_name extension into name[len]. */
static int sni_from_hello(SSL *ssl, char *name, size_t len)
{
	const unsigned char *p;
	size_t n, list, hlen, i;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n) ||
	    n < 5)
		return -ENOENT;
	list = (size_t)p[0] << 8 | p[1];
	hlen = (size_t)p[3] << 8 | p[4];
	/* RFC 6066: type 0 (host_name) is the only one defined */
	if (list + 2 != n || p[2] != TLSEXT_NAMETYPE_host_name ||
	    hlen + 5 > n || !hlen || hlen >= len)
		return -EINVAL;
	for (i = 0; i < hlen; i++)
		name[i] = (char)tolower(p[5 + i]);
	name[hlen] = '\0';
	return 0;
}

/*
 * Server client-hello callback (ServerHandshakeSNI): the certificate of
 * the ServerHandshakeSNIList entry the client's name matches, else the
 * environment's own; a missing or unknown name fails the handshake when
 * the policy requires one.
 */
static int sni_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct ctx_sni *sn = arg;
	char name[ATTLS_HOST_LEN], cause[ATTLS_HOST_LEN + 96];
	unsigned i;
	int err;

	err = sni_from_hello(ssl, name, sizeof(name));
	if (err) {
		if (!sn->required)
			return SSL_CLIENT_HELLO_SUCCESS;
		conn_set_fail(ssl, ATTLS_RC_SNI, err == -ENOENT ?
			      "the client sent no server name (ServerHandshakeSNI Required)" :
			      "the client's server name extension is malformed");
		*al = SSL_AD_MISSING_EXTENSION;
		return SSL_CLIENT_HELLO_ERROR;	/* reject */
	}
	for (i = 0; i < sn->n; i++) {
		if (!sni_match(sn->v[i].host, name))
			continue;
		/* Only this certificate: none of the default key types. */
		SSL_certs_clear(ssl);
		if (SSL_use_cert_and_key(ssl, sn->v[i].cert, sn->v[i].key,
					 sn->v[i].chain, 1) != 1) {
			conn_set_fail(ssl, ATTLS_RC_INTERNAL,
				      "the SNI certificate cannot be used");
			*al = SSL_AD_INTERNAL_ERROR;
			return SSL_CLIENT_HELLO_ERROR;	/* reject */
		}
		return SSL_CLIENT_HELLO_SUCCESS;
	}
	if (sn->match_required) {
		snprintf(cause, sizeof(cause), "server name '%s' is not in "
			 "ServerHandshakeSNIList (ServerHandshakeSNIMatch Required)",
			 name);
		conn_set_fail(ssl, ATTLS_RC_SNI, cause);
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;	/* reject */
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* ServerHandshakeSNI / ServerHandshakeSNIList of env on ctx from kr. */
static int set_server_sni(SSL_CTX *ctx, const struct attls_env_cfg *env,
			  const struct keyring *kr, struct keyring_res *res)
{
	struct ctx_sni *sn;
	struct sni_cert *sc;
	unsigned i;
	int err;

	if (env->server_sni == ATTLS_FN_OFF)
		return 0;
	pthread_once(&sni_once, sni_idx_init);
	if (sni_idx < 0)
		return -ENOMEM;
	sn = calloc(1, sizeof(*sn));
	if (!sn)
		return -ENOMEM;
	sn->required = env->server_sni == ATTLS_FN_REQUIRED;
	sn->match_required = env->server_sni_match == ATTLS_FN_REQUIRED;
	for (i = 0; i < env->nsni && i < ATTLS_MAX_SNI; i++) {
		sc = &sn->v[sn->n];
		err = keyring_get_cert(kr, env->sni[i].label, &sc->cert,
				       &sc->key, &sc->chain, res);
		if (err) {
			sc->cert = NULL;
			sc->key = NULL;
			sc->chain = NULL;
			sni_free(sn);
			return err;
		}
		snprintf(sc->host, sizeof(sc->host), "%s", env->sni[i].host);
		/* the ring's entries die with it: keep references */
		X509_up_ref(sc->cert);
		EVP_PKEY_up_ref(sc->key);
		sc->chain = X509_chain_up_ref(sc->chain);
		sn->n++;
		if (!sc->chain) {
			sni_free(sn);
			return -ENOMEM;
		}
	}
	if (!SSL_CTX_set_ex_data(ctx, sni_idx, sn)) {
		sni_free(sn);
		return -ENOMEM;
	}
	SSL_CTX_set_client_hello_cb(ctx, sni_hello_cb, sn);
	return 0;
}

/* ---- building an environment's SSL_CTX ------------------------------ */

/* Log a key ring finding of env (res->warn) that does not stop it. */
static void env_warn(const struct attls_env_cfg *env, const char *conn_desc,
		     const struct keyring_res *res)
{
	if (res->warn_rc)
		env_log(env, conn_desc, res->warn_rc, res->path, res->label,
			res->warn, res->warn_rc == ATTLS_RC_CERT_EXPIRED ?
			"renew the certificate" : "check the key ring files");
}

/*
 * Our certificates as a server: CertificateLabel (or the ring's default,
 * also when ServerCertificateLabel is absent), then every
 * ServerCertificateLabel, one per key type: OpenSSL picks per client.
 */
static int use_server_certs(SSL_CTX *ctx, const struct attls_env_cfg *env,
			    const struct keyring *kr, const char *conn_desc,
			    struct keyring_res *res)
{
	char used[ATTLS_LABEL_LEN] = "";
	unsigned i;
	int err;

	if (env->cert_label[0] || !env->nserver_cert_labels) {
		err = keyring_use_cert(kr, ctx, env->cert_label, 0, res);
		if (err)
			return err;
		env_warn(env, conn_desc, res);
		snprintf(used, sizeof(used), "%s", res->label);
	}
	for (i = 0; i < env->nserver_cert_labels && i < ATTLS_MAX_SERVER_LABELS; i++) {
		if (!strcmp(env->server_cert_labels[i], used))
			continue;
		res->warn_rc = 0;
		err = keyring_use_cert(kr, ctx, env->server_cert_labels[i], 0, res);
		if (err)
			return err;
		env_warn(env, conn_desc, res);
	}
	return 0;
}

/*
 * Client role: our certificate if the ring has one (sent only when the
 * server asks), and the ring's CA certificates verify the server's: on by
 * default, as in AT-TLS.
 */
static int use_client_certs(SSL_CTX *ctx, const struct attls_env_cfg *env,
			    const struct keyring *kr, const char *conn_desc,
			    struct keyring_res *res)
{
	int err;

	err = keyring_use_cert(kr, ctx, env->cert_label, 1, res);
	if (err && (err != -ENOENT || res->rc))
		return err;
	if (!err)
		env_warn(env, conn_desc, res);
	res->warn_rc = 0;
	err = keyring_use_cas(kr, ctx, 0, res);
	if (err)
		return err;
	env_warn(env, conn_desc, res);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, conn_verify_cb);
	SSL_CTX_set_cert_cb(ctx, conn_client_cert_cb, NULL);
	return 0;
}

/*
 * The ring's CRL files into the trust store that verifies partners
 * (keyring_use_crls(); GSK_CRL_SECURITY_LEVEL is conn_verify_cb()'s).
 * 0 or a negative errno with res set (a CRL file that cannot be used
 * fails the environment: never a silent "no revocation checking").
 */
static int use_crls(const struct attls_env_cfg *env, SSL_CTX *ctx,
		    const struct keyring *kr, struct keyring_res *res)
{
	int n = keyring_use_crls(kr, ctx, res);

	if (n < 0)
		return n;
	if (n)
		log_debug("environment %s: %d CRL(s) of key ring %s, "
			  "GSK_CRL_SECURITY_LEVEL %s", env->name, n, res->path,
			  attls_crl_level_name(env->crl_level));
	return 0;
}

/*
 * Build the SSL_CTX of `env` (for owner `user` when its key ring has no
 * owner).  Logs every failure; returns NULL with *rc and *err set.
 */
static SSL_CTX *env_ctx_build(struct engine *e, const struct attls_env_cfg *env,
			      const char *user, const char *conn_desc, int *rc,
			      int *err)
{
	int client = env->role == ATTLS_ROLE_CLIENT;
	struct keyring_res *res;
	struct keyring *kr = NULL;
	char pw[sizeof(env->keyring_pw)];
	SSL_CTX *ctx;

	*rc = ATTLS_RC_ENV_INIT;
	ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
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
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (!client)
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
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
	*err = set_sessions(e, ctx, env);
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
	*err = keyring_open(e->keyring_root, env->keyring, user, pw, &kr, res);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (!*err && client)
		*err = use_client_certs(ctx, env, kr, conn_desc, res);
	else if (!*err)
		*err = use_server_certs(ctx, env, kr, conn_desc, res);
	if (!*err && wants_ca(env)) {
		res->warn_rc = 0;
		*err = keyring_use_cas(kr, ctx, 1, res);
		if (!*err)
			env_warn(env, conn_desc, res);
	}
	if (!*err && (client || wants_ca(env)))
		*err = use_crls(env, ctx, kr, res);
	if (!*err && !client)
		*err = set_server_sni(ctx, env, kr, res);
	keyring_free(kr);
	if (*err) {
		*rc = res->rc ? res->rc : ATTLS_RC_NOMEM;
		env_log(env, conn_desc, *rc, res->path, res->label,
			res->rc ? res->cause : strerror(-*err), res->fix);
		attls_ssl_drain(res->path, "key ring");
		free(res);
		goto free_ctx;
	}
	log_debug("environment %s (%s): key ring %s loaded%s%s", env->name,
		  attls_role_name(env->role), res->path, user ? " for user " : "",
		  user ? user : "");
	free(res);
	ERR_clear_error();

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
		keyring_acl_free(g->env[i].acl);
		pthread_mutex_destroy(&g->env[i].lock);
	}
	keyring_certmap_free(g->certmap);
	engine_limits_gen_free(g);
	free(g->env);
	free(g->envs);
	free(g->grp_ids);
	free(g->actions);
	free(g);
}

/*
 * GRPID of every rule, as AT-TLS numbers groups in its messages: 1 for
 * the first group in evaluation order, 2 for the next different one...
 * Quadratic, once per install, in the number of rules.
 */
static int gen_group_ids(struct engine_gen *g)
{
	uint32_t next = 1;
	size_t i, j;

	if (!g->nactions)
		return 0;
	g->grp_ids = calloc(g->nactions, sizeof(*g->grp_ids));
	if (!g->grp_ids)
		return -ENOMEM;
	for (i = 0; i < g->nactions; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(g->actions[j].group_name, g->actions[i].group_name))
				break;
		g->grp_ids[i] = j < i ? g->grp_ids[j] : next++;
	}
	return 0;
}

static int gen_copy(struct engine_gen *g, const struct attls_map_image *img)
{
	size_t i, j;

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
		g->envs[i].groups[sizeof(g->envs[i].groups) - 1] = '\0';
		g->envs[i].sigalgs[sizeof(g->envs[i].sigalgs) - 1] = '\0';
		g->envs[i].client_sni_name[ATTLS_HOST_LEN - 1] = '\0';
		g->envs[i].host_ref_dns[ATTLS_HOST_LEN - 1] = '\0';
		g->envs[i].keyring_pw[sizeof(g->envs[i].keyring_pw) - 1] = '\0';
		g->envs[i].keyring_stash[sizeof(g->envs[i].keyring_stash) - 1] = '\0';
		for (j = 0; j < ATTLS_MAX_SERVER_LABELS; j++)
			g->envs[i].server_cert_labels[j][ATTLS_LABEL_LEN - 1] = '\0';
		for (j = 0; j < ATTLS_MAX_SNI; j++) {
			g->envs[i].sni[j].host[ATTLS_HOST_LEN - 1] = '\0';
			g->envs[i].sni[j].label[ATTLS_LABEL_LEN - 1] = '\0';
		}
		pthread_mutex_init(&g->env[i].lock, NULL);
		LIST_INIT(&g->env[i].users);
	}
	for (i = 0; i < g->nactions; i++) {
		g->actions[i].rule_name[ATTLS_NAME_LEN - 1] = '\0';
		g->actions[i].group_name[ATTLS_NAME_LEN - 1] = '\0';
		g->actions[i].env_name[ATTLS_NAME_LEN - 1] = '\0';
		g->actions[i].conn_name[ATTLS_NAME_LEN - 1] = '\0';
	}
	return gen_group_ids(g);
}

/*
 * Does env build the same SSL_CTX as old?  Every field counts but the
 * source location (a line moved by an edit elsewhere in the file changes
 * nothing); EnvironmentUserInstance and the other *UserInstance values
 * are fields, so bumping one forces a fresh build.  The image's entries
 * are memset() before they are filled and copied whole, so comparing
 * bytes is comparing fields.
 */
static int env_same(const struct attls_env_cfg *a, const struct attls_env_cfg *b)
{
	const size_t w = offsetof(struct attls_env_cfg, where);
	const size_t after = w + sizeof(a->where);

	return !memcmp(a, b, w) &&
	       !memcmp((const char *)a + after, (const char *)b + after,
		       sizeof(*a) - after);
}

/* The CRL files of env's ring (of `user` for a ring without owner), now. */
static void env_crl_read(struct engine *e, const struct attls_env_cfg *env,
			 const char *user, struct env_crl_sum *sum)
{
	sum->known = !keyring_crl_digest(e->keyring_root, env->keyring, user,
					 sum->sha);
}

/* Were the CRL files the same when the old context was built? */
static int env_crl_same(const struct env_crl_sum *now,
			const struct env_crl_sum *then)
{
	return now->known && then->known && !memcmp(now->sha, then->sha,
						    sizeof(now->sha));
}

static void env_crl_changed(const struct attls_env_cfg *env, const char *user)
{
	log_info("environment %s: the CRL files of key ring %s%s%s changed: "
		 "its SSL_CTX is built again (new handshakes are checked "
		 "against them; the session cache starts empty)", env->name,
		 env->keyring, user ? " of user " : "", user ? user : "");
}

/*
 * Take the SSL_CTX(s) of an unchanged environment of the previous
 * generation `prev` for env i of g: same settings and the same CRL files
 * (a CRL replaced since must be read, and sessions verified under the
 * old one must not be resumed).  1 if reused, 0 if it must be built.
 */
static int env_reuse(struct engine *e, struct engine_gen *g, size_t i,
		     struct engine_gen *prev)
{
	struct engine_env *ev = &g->env[i], *pe;
	struct env_user *u, *nu;
	struct env_crl_sum now;
	size_t j;

	for (j = 0; prev && j < prev->nenvs; j++) {
		if (!env_same(&g->envs[i], &prev->envs[j]))
			continue;
		pe = &prev->env[j];
		if (!ev->per_user) {
			if (!pe->ctx)
				return 0;
			if (!env_crl_same(&ev->crl, &pe->crl)) {
				env_crl_changed(&g->envs[i], NULL);
				return 0;
			}
			if (SSL_CTX_up_ref(pe->ctx) != 1)
				return 0;
			ev->ctx = pe->ctx;
			return 1;
		}
		/* Per owner: the contexts built so far (failed builds are
		 * tried again, so are those whose CRL files changed). */
		pthread_mutex_lock(&pe->lock);
		LIST_FOREACH(u, &pe->users, link) {
			if (!u->ctx)
				continue;
			env_crl_read(e, &g->envs[i], u->user, &now);
			if (!env_crl_same(&now, &u->crl)) {
				env_crl_changed(&g->envs[i], u->user);
				continue;
			}
			nu = calloc(1, sizeof(*nu));
			if (!nu || SSL_CTX_up_ref(u->ctx) != 1) {
				free(nu);
				break;
			}
			nu->uid = u->uid;
			nu->ctx = u->ctx;
			nu->crl = u->crl;
			memcpy(nu->user, u->user, sizeof(nu->user));
			LIST_INSERT_HEAD(&ev->users, nu, link);
		}
		pthread_mutex_unlock(&pe->lock);
		return 1;
	}
	return 0;
}

/* Who may use env's key ring: read at every install. */
static int env_acl(struct engine *e, struct engine_gen *g, size_t i)
{
	const struct attls_env_cfg *env = &g->envs[i];
	struct keyring_res *res;
	int err;

	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = keyring_acl_load(e->keyring_root, env->keyring, &g->env[i].acl, res);
	if (err)
		env_log(env, NULL, res->rc, res->path, NULL, res->cause, res->fix);
	free(res);
	return err;
}

/* The SAFCheck certificate map, when an environment needs it. */
static int gen_certmap(struct engine *e, struct engine_gen *g)
{
	struct keyring_res *res;
	size_t i;
	int err;

	for (i = 0; i < g->nenvs; i++) {
		if (g->envs[i].role == ATTLS_ROLE_SERVER_CLIENTAUTH &&
		    g->envs[i].client_auth == ATTLS_CLIENT_AUTH_SAFCHECK)
			break;
	}
	if (i == g->nenvs)
		return 0;
	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = keyring_certmap_load(e->keyring_root, &g->certmap, res);
	if (err)
		env_log(&g->envs[i], NULL, res->rc, res->path, NULL, res->cause,
			res->fix);
	free(res);
	return err;
}

/*
 * Environment i of g cannot be initialised (its key ring cannot be
 * opened, has no certificate, ...; env_log() said why).  As on z/OS the
 * policy is installed all the same: the other rules work, and each
 * connection mapped to this environment is reset with the return code
 * and the message (engine_env_ctx(), conn_new()), until a reload with a
 * fixed policy or key ring builds it.  Fail closed: never cleartext.
 */
static void env_failed(struct engine_gen *g, size_t i)
{
	struct engine_env *ev = &g->env[i];

	ev->fail_rc = env_last_rc ? env_last_rc : ATTLS_RC_ENV_INIT;
	snprintf(ev->fail_msg, sizeof(ev->fail_msg), "%s", env_last_rc ?
		 env_last_msg : "the environment cannot be initialised");
	log_warnx("ATTLS1286E TTLS Error RC: %d Environment Init ENVIRONMENT: %s: "
		  "policy generation %llu is installed, but every connection "
		  "mapped to this environment is reset until the policy or key "
		  "ring is fixed and attlsctl reload run", ev->fail_rc,
		  g->envs[i].name, (unsigned long long)g->generation);
}

/*
 * Build every environment whose key ring does not depend on the user,
 * reusing the SSL_CTX of unchanged ones from `prev` (may be NULL).
 */
static int gen_build(struct engine *e, struct engine_gen *g,
		     struct engine_gen *prev)
{
	struct attls_env_cfg *env;
	size_t i, reused = 0;
	int rc, err;

	i = g->nenvs;
	err = gen_certmap(e, g);
	if (err)
		goto refuse;
	for (i = 0; i < g->nenvs; i++) {
		env = &g->envs[i];
		/* Keyring RING: built per connection owner on first use. */
		g->env[i].per_user = keyring_kind(env->keyring) == KEYRING_USER;
		env_last_rc = 0;
		err = env_acl(e, g, i);
		if (err == -ENOMEM)
			goto refuse;
		if (err) {
			env_failed(g, i);
			continue;
		}
		if (!g->env[i].per_user)
			env_crl_read(e, env, NULL, &g->env[i].crl);
		if (env_reuse(e, g, i, prev)) {
			reused++;
			continue;
		}
		if (g->env[i].per_user)
			continue;
		g->env[i].ctx = env_ctx_build(e, env, NULL, NULL, &rc, &err);
		if (!g->env[i].ctx && err == -ENOMEM)
			goto refuse;
		if (!g->env[i].ctx)
			env_failed(g, i);
	}
	if (reused)
		log_debug("engine: policy generation %llu: %zu of %zu environment(s) "
			  "unchanged, SSL_CTX and session cache kept",
			  (unsigned long long)g->generation, reused, g->nenvs);
	return 0;

refuse:
	log_warnx("ATTLS1286E TTLS Error RC: %d Environment Init%s%s: %s; policy "
		  "generation %llu not installed, the previous policy stays",
		  ATTLS_RC_ENV_INIT, i < g->nenvs ? " ENVIRONMENT: " : "",
		  i < g->nenvs ? g->envs[i].name : "", attls_rc_text(ATTLS_RC_ENV_INIT),
		  (unsigned long long)g->generation);
	return err;
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
	struct engine_gen *g, *cur, *prev, *freelist = NULL;
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
	/* The newest generation is never freed while it is the newest, and
	 * only this (the daemon's) thread installs; the reference is for
	 * clarity and costs nothing. */
	pthread_mutex_lock(&e->pol_lock);
	prev = LIST_FIRST(&e->gens);
	if (prev)
		prev->refs++;
	pthread_mutex_unlock(&e->pol_lock);
	err = gen_build(e, g, prev);
	err = err ?: engine_limits_gen_init(g, prev);
	engine_gen_put(e, prev);
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
	if (ev->fail_rc) {
		*rc = ev->fail_rc;
		return NULL;
	}
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
	snprintf(u->user, sizeof(u->user), "%s", user ? user : "");
	env_crl_read(e, &g->envs[env_index], user, &u->crl);
	u->ctx = env_ctx_build(e, &g->envs[env_index], user, conn_desc, rc, &err);
	if (!u->ctx)
		u->retry_ns = now + ENGINE_CTX_RETRY_NS;
	ctx = u->ctx;
	pthread_mutex_unlock(&ev->lock);
	return ctx;
}

const char *engine_env_error(const struct engine_gen *g, int env_index)
{
	return g->env[env_index].fail_rc ? g->env[env_index].fail_msg : NULL;
}

int engine_env_cfg(struct engine *e, uint64_t generation, int env_index,
		   struct attls_env_cfg *out)
{
	struct engine_gen *g;
	int err = -ENOENT;

	pthread_mutex_lock(&e->pol_lock);
	LIST_FOREACH(g, &e->gens, link) {
		if (g->generation != generation)
			continue;
		if (env_index >= 0 && (size_t)env_index < g->nenvs) {
			*out = g->envs[env_index];
			err = 0;
		}
		break;
	}
	pthread_mutex_unlock(&e->pol_lock);
	return err;
}

int engine_env_access(struct engine_gen *g, int env_index, uint32_t uid,
		      const char *user, const char *conn_desc)
{
	const struct engine_env *ev = &g->env[env_index];
	struct keyring_res *res;
	int err;

	if (!ev->acl || !keyring_acl_check(ev->acl, uid, user, NULL))
		return 0;
	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = keyring_acl_check(ev->acl, uid, user, res);
	if (err)
		env_log(&g->envs[env_index], conn_desc, res->rc, res->path, NULL,
			res->cause, res->fix);
	free(res);
	return err;
}

void engine_gens_free(struct engine *e)
{
	struct engine_gen *g;

	while ((g = LIST_FIRST(&e->gens))) {
		LIST_REMOVE(g, link);
		gen_free(g);
	}
}
