// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * compile.c - pass 3: lower a resolved policy to the map image.
 *
 * Pure: reads the policy, writes only the image and diagnostics (and asks
 * the user database hooks of users.c).  What it decides:
 *
 *  - Order.  AT-TLS evaluates rules by Priority descending, then by rule
 *    name within a priority (IBM "AT-TLS rules"; strcmp here).  Priority is
 *    1..2000000000 when given; the reference does not say where a rule
 *    without one goes, so it sorts as 0, after every explicit priority,
 *    which is what "lowest" means to an admin.
 *  - Clauses.  A rule is the AND of OR-lists (addresses from IpAddrSet /
 *    IpAddrGroup, ports from PortGroup, users from Userid wildcards); it
 *    becomes their cross product, adjacent and with one rule_id, so first
 *    matching clause == first matching rule.  Overlapping and adjacent
 *    ranges of one list are merged first.  A rule whose product exceeds
 *    the kernel table is an error naming the factors, so a group can never
 *    silently explode.
 *  - Time.  A rule whose IpTimeCondition window is closed at the compile
 *    instant gets no clause (it still counts towards the limit).
 *  - Environments.  One attls_env_cfg per (TTLSEnvironmentAction,
 *    TTLSConnectionAction, group) used by an enabled rule, connection
 *    values over environment values.  When a connection action changes
 *    what the SSL_CTX is built from, that combination gets its own entry
 *    named "env+conn"; names are unique ("~N" is appended if needed).
 *    Trace is per rule (attls_action.trace); the env entry carries the
 *    trace of the first rule, in AT-TLS order, that created it.
 *  - Protocols.  attls only speaks TLSv1.2 and TLSv1.3.  z/OS defaults are
 *    TLSv1/TLSv1.1 On and TLSv1.2/TLSv1.3 Off, which would leave nothing,
 *    so: if neither TLSv1.2 nor TLSv1.3 is set On (environment or
 *    connection advanced parms), every one of them not set Off is enabled;
 *    with a cipher list, a defaulted protocol without a suite in the list
 *    is dropped.  If any is set On, exactly those set On are enabled.
 *    Nothing left is an error naming the environment.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ast.h"
#include "ciphers.h"
#include "diag.h"
#include "policy.h"
#include "sigparms.h"
#include "timecond.h"
#include "users.h"
#include "values.h"

#define DEFAULT_TRACE		2	/* IBM: TTLSGroupAction Trace default */
#define DEFAULT_HS_TIMEOUT	10	/* IBM: HandshakeTimeout default, seconds */
#define DEFAULT_V3_TIMEOUT	86400	/* IBM: GSK_V3_SESSION_TIMEOUT default */
#define DEFAULT_V3_CACHE	512	/* IBM: GSK_V3_SIDCACHE_SIZE default */
#define DEFAULT_TICKET_COUNT	2	/* IBM: GSK_SESSION_TICKET_SERVER_COUNT */
/* products are saturated here: far above any table, far below overflow */
#define CLAUSES_SATURATED	(1ULL << 40)

/* One (environment, connection action, group) triple already compiled. */
struct env_key {
	const struct ast_stmt *env;
	const struct ast_stmt *conn;
	const struct ast_stmt *group;
	int index;			/* into img->envs, -1 if it failed */
};

struct cctx {
	struct attls_map_image *img;
	struct policy_diags *d;
	time_t now;
	size_t errors;
	int oom;
	size_t rules_cap;
	size_t envs_cap;		/* of img->envs and env_src */
	uint64_t clauses;		/* of all rules, emitted or not */
	uint64_t *rule_clauses;		/* per rule_id, for the limit message */
	const struct ast_stmt **env_src;	/* parallel to img->envs */
	uint64_t *env_hash;		/* parallel: env_hash() of each entry */
	struct env_key *keys;
	size_t nkeys;
};

static void cerr(struct cctx *c, const struct ast_loc *loc, const char *hint,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void cerr(struct cctx *c, const struct ast_loc *loc, const char *hint,
		 const char *fmt, ...)
{
	va_list ap;

	c->errors++;
	va_start(ap, fmt);
	diag_addv(c->d, POLICY_SEV_ERROR, loc, hint, fmt, ap);
	va_end(ap);
}

static void copy_name(char dst[ATTLS_NAME_LEN], const char *src)
{
	snprintf(dst, ATTLS_NAME_LEN, "%s", src);
}

static void copy_loc(struct attls_srcloc *w, const struct ast_loc *loc)
{
	snprintf(w->file, sizeof(w->file), "%s", loc->file ? loc->file : "");
	w->line = loc->line;
}

static uint32_t rule_priority(const struct ast_stmt *r)
{
	return r->u.rule.priority.set ? r->u.rule.priority.v : 0;
}

static int cmp_rules(const void *a, const void *b)
{
	const struct ast_stmt *x = *(struct ast_stmt *const *)a;
	const struct ast_stmt *y = *(struct ast_stmt *const *)b;
	uint32_t px = rule_priority(x), py = rule_priority(y);
	int c;

	if (px != py)
		return px > py ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

/* ------------------------------------------------------------------ */
/* environments                                                       */
/* ------------------------------------------------------------------ */

/* The value of an advanced parameter: connection level over environment. */
static const struct ast_val *adv_pick(const struct ast_stmt *cadv,
				      const struct ast_stmt *eadv, size_t off)
{
	const struct ast_val *v;

	if (cadv) {
		v = (const struct ast_val *)((const char *)&cadv->u.adv + off);
		if (v->set)
			return v;
	}
	if (eadv) {
		v = (const struct ast_val *)((const char *)&eadv->u.adv + off);
		if (v->set)
			return v;
	}
	return NULL;
}

#define ADV(cadv, eadv, f)	adv_pick(cadv, eadv, offsetof(struct ast_adv, f))

/* An advanced parameter's value, or `def` when neither level sets it. */
static uint32_t adv_value(const struct ast_stmt *cadv,
			  const struct ast_stmt *eadv, size_t off, uint32_t def)
{
	const struct ast_val *v = adv_pick(cadv, eadv, off);

	return v ? v->v : def;
}

#define ADV_V(cadv, eadv, f, def) \
	adv_value(cadv, eadv, offsetof(struct ast_adv, f), def)

/* A string parameter: connection level over environment; NULL if unset. */
static const struct ast_str *adv_str(const struct ast_stmt *cadv,
				     const struct ast_stmt *eadv, size_t off)
{
	const struct ast_str *s;

	if (cadv) {
		s = (const struct ast_str *)((const char *)&cadv->u.adv + off);
		if (s->s)
			return s;
	}
	if (eadv) {
		s = (const struct ast_str *)((const char *)&eadv->u.adv + off);
		if (s->s)
			return s;
	}
	return NULL;
}

/* A list parameter: the connection's list if it has one, else the env's. */
static const struct ast_strlist *adv_list(const struct ast_stmt *cadv,
					  const struct ast_stmt *eadv, size_t off)
{
	static const struct ast_strlist empty;
	const struct ast_strlist *l;

	if (cadv) {
		l = (const struct ast_strlist *)((const char *)&cadv->u.adv + off);
		if (l->n)
			return l;
	}
	if (eadv)
		return (const struct ast_strlist *)((const char *)&eadv->u.adv + off);
	return &empty;
}

static unsigned cipher_protos(const struct ast_cipher *ci)
{
	unsigned have = 0;
	size_t i;

	for (i = 0; i < ci->n; i++)
		have |= cipher_by_code(ci->suites[i])->proto;
	return have;
}

/* Append ":"-separated `item` to buf: 0, or -ENOSPC. */
static int colon_add(char *buf, size_t len, const char *item)
{
	size_t n = strlen(buf);
	int w = snprintf(buf + n, len - n, "%s%s", n ? ":" : "", item);

	if (w < 0 || (size_t)w >= len - n) {
		buf[n] = '\0';
		return -ENOSPC;
	}
	return 0;
}

/* The ':'-separated OpenSSL names of the suites of protocol `proto`. */
static int cipher_string(const struct ast_cipher *ci, unsigned proto,
			 char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < ci->n; i++) {
		const struct cipher_info *info = cipher_by_code(ci->suites[i]);

		if (info->proto == proto && colon_add(buf, len, info->ossl))
			return -ENOSPC;
	}
	return 0;
}

struct env_inputs {
	const struct ast_stmt *env;
	const struct ast_stmt *conn;	/* NULL: none */
	const struct ast_stmt *group;
	char label[2 * AST_LABEL_LEN];	/* for messages */
};

static int env_protocols(struct cctx *c, const struct env_inputs *in,
			 int quiet, struct attls_env_cfg *cfg)
{
	const struct ast_env *e = &in->env->u.env;
	const struct ast_conn *cn = in->conn ? &in->conn->u.conn : NULL;
	const struct ast_stmt *eadv = e->adv.to;
	const struct ast_stmt *cadv = cn ? cn->adv.to : NULL;
	const struct ast_stmt *cip = cn && cn->cipher.to ? cn->cipher.to :
						       e->cipher.to;
	const struct ast_loc *loc = &in->env->loc;
	const struct ast_val *v;
	unsigned on = 0, off = 0, protos, have;
	int defaulted;

	v = ADV(cadv, eadv, tls12);
	if (v && v->v)
		on |= ATTLS_PROTO_TLS12;
	else if (v)
		off |= ATTLS_PROTO_TLS12;
	v = ADV(cadv, eadv, tls13);
	if (v && v->v)
		on |= ATTLS_PROTO_TLS13;
	else if (v)
		off |= ATTLS_PROTO_TLS13;
	defaulted = !on;
	protos = on ? on : (ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13) & ~off;
	if (!protos) {
		if (!quiet)
			cerr(c, loc, "set TLSv1.2 On or TLSv1.3 On in its advanced parms",
			     "%s: TLSv1.2 and TLSv1.3 are both Off, and attls supports no other protocol",
			     in->label);
		return -1;
	}
	if (cip && cip->u.cipher.given) {
		have = cipher_protos(&cip->u.cipher);
		if (!defaulted && (protos & ~have)) {
			int t13 = !!(protos & ~have & ATTLS_PROTO_TLS13);

			if (!quiet)
				cerr(c, &cip->loc,
				     t13 ? "add e.g. TLS_AES_128_GCM_SHA256 (1301), or set TLSv1.3 Off" :
					   "add e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (C02F), or set TLSv1.2 Off",
				     "%s: %s is On but its TTLSCipherParms list no usable %s cipher suite",
				     in->label, t13 ? "TLSv1.3" : "TLSv1.2",
				     t13 ? "TLS 1.3" : "TLS 1.2");
			return -1;
		}
		protos &= have;
		if (!protos) {
			if (!quiet)
				cerr(c, &cip->loc,
				     "list suites such as TLS_AES_128_GCM_SHA256 or TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
				     "%s: no usable cipher suite is left in its TTLSCipherParms",
				     in->label);
			return -1;
		}
		/* only the enabled protocols' lists: "" is "OpenSSL default" */
		if (((protos & ATTLS_PROTO_TLS13) &&
		     cipher_string(&cip->u.cipher, ATTLS_PROTO_TLS13,
				   cfg->tls13_suites, sizeof(cfg->tls13_suites))) ||
		    ((protos & ATTLS_PROTO_TLS12) &&
		     cipher_string(&cip->u.cipher, ATTLS_PROTO_TLS12,
				   cfg->tls12_ciphers, sizeof(cfg->tls12_ciphers)))) {
			if (!quiet)
				cerr(c, &cip->loc, "list fewer suites",
				     "%s: the cipher suite list is too long",
				     in->label);
			return -1;
		}
	}
	cfg->protocols = protos;
	return 0;
}

/* Append the OpenSSL names of `codes` (looked up with `find`) to buf. */
static int codes_string(const struct ast_codes *codes,
			const struct tls_code_info *(*find)(uint16_t),
			char *buf, size_t len)
{
	size_t i;

	if (codes->any)
		return 0;
	for (i = 0; i < codes->n; i++) {
		const struct tls_code_info *t = find(codes->v[i]);
		char probe[64];

		/* groups of two lists: skip what the first already has */
		snprintf(probe, sizeof(probe), ":%s:", t->ossl);
		if (buf[0]) {
			char have[600];

			snprintf(have, sizeof(have), ":%s:", buf);
			if (strstr(have, probe))
				continue;
		}
		if (colon_add(buf, len, t->ossl))
			return -ENOSPC;
	}
	return 0;
}

/*
 * TTLSSignatureParms: groups (key shares first, then the curves, for the
 * role the environment plays) and signature algorithms.
 */
static int env_signature(struct cctx *c, const struct env_inputs *in,
			 int quiet, struct attls_env_cfg *cfg)
{
	const struct ast_conn *cn = in->conn ? &in->conn->u.conn : NULL;
	const struct ast_stmt *sig = cn && cn->sig.to ? cn->sig.to :
						    in->env->u.env.sig.to;
	const struct ast_sig *g;
	int client = cfg->role == ATTLS_ROLE_CLIENT;

	if (!sig)
		return 0;
	g = &sig->u.sig;
	if (codes_string(client ? &g->client_shares : &g->server_shares,
			 group_by_code, cfg->groups, sizeof(cfg->groups)) ||
	    codes_string(client ? &g->client_curves : &g->server_curves,
			 group_by_code, cfg->groups, sizeof(cfg->groups)) ||
	    codes_string(&g->pairs, sigalg_by_code, cfg->sigalgs,
			 sizeof(cfg->sigalgs))) {
		if (!quiet)
			cerr(c, &sig->loc, "list fewer groups or signature pairs",
			     "%s: the TTLSSignatureParms lists are too long",
			     in->label);
		return -1;
	}
	return 0;
}

static void copy_str(char *dst, size_t len, const struct ast_str *s)
{
	snprintf(dst, len, "%s", s && s->s ? s->s : "");
}

/* SNI and host name checking of the advanced parms. */
static int env_sni(struct cctx *c, const struct env_inputs *in, int quiet,
		   struct attls_env_cfg *cfg)
{
	const struct ast_stmt *eadv = in->env->u.env.adv.to;
	const struct ast_stmt *cadv = in->conn ? in->conn->u.conn.adv.to : NULL;
	const struct ast_strlist *names, *pairs, *labels;
	const struct ast_val *v;
	size_t i;

	labels = adv_list(cadv, eadv, offsetof(struct ast_adv, server_labels));
	for (i = 0; i < labels->n && i < ATTLS_MAX_SERVER_LABELS; i++)
		snprintf(cfg->server_cert_labels[i], ATTLS_LABEL_LEN, "%s",
			 labels->v[i].s);
	cfg->nserver_cert_labels = (unsigned)i;
	copy_str(cfg->host_ref_dns, sizeof(cfg->host_ref_dns),
		 adv_str(cadv, eadv, offsetof(struct ast_adv, host_ref_dns)));

	cfg->client_sni = ADV_V(cadv, eadv, client_sni, ATTLS_FN_OFF);
	cfg->client_sni_match = ADV_V(cadv, eadv, client_sni_match,
				      ATTLS_FN_OPTIONAL);
	names = adv_list(cadv, eadv, offsetof(struct ast_adv, client_sni_list));
	if (names->n)
		snprintf(cfg->client_sni_name, sizeof(cfg->client_sni_name),
			 "%s", names->v[0].s);
	v = ADV(cadv, eadv, client_sni);
	if (cfg->client_sni != ATTLS_FN_OFF && !names->n) {
		if (!quiet)
			cerr(c, &v->loc, "add ClientHandshakeSNIList hostname",
			     "%s: ClientHandshakeSNI %s needs the host name to send",
			     in->label,
			     cfg->client_sni == ATTLS_FN_REQUIRED ? "Required" : "Optional");
		return -1;
	}

	cfg->server_sni = ADV_V(cadv, eadv, server_sni, ATTLS_FN_OFF);
	cfg->server_sni_match = ADV_V(cadv, eadv, server_sni_match,
				      ATTLS_FN_OPTIONAL);
	pairs = adv_list(cadv, eadv, offsetof(struct ast_adv, server_sni_list));
	for (i = 0; i < pairs->n && i < ATTLS_MAX_SNI; i++) {
		const char *s = pairs->v[i].s;
		const char *colon = strrchr(s, ':');	/* checked by the parser */
		struct attls_sni_entry *e = &cfg->sni[i];
		char *p;

		snprintf(e->label, sizeof(e->label), "%.*s", (int)(colon - s), s);
		snprintf(e->host, sizeof(e->host), "%s", colon + 1);
		for (p = e->host; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	cfg->nsni = (unsigned)i;
	return 0;
}

/* Key ring, its password (key files only) and the user instance numbers. */
static void env_keyring(const struct env_inputs *in, struct attls_env_cfg *cfg)
{
	const struct ast_stmt *kr = in->env->u.env.keyring.to;
	const struct ast_keyring *k = kr ? &kr->u.keyring : NULL;

	copy_str(cfg->keyring, sizeof(cfg->keyring), k ? &k->keyring : NULL);
	if (k && k->keyring.s && k->keyring.s[0] == '/') {
		copy_str(cfg->keyring_pw, sizeof(cfg->keyring_pw), &k->pw);
		if (!k->pw.s)
			copy_str(cfg->keyring_stash, sizeof(cfg->keyring_stash),
				 &k->stash);
	}
}

/* TTLSGskAdvancedParms session settings, IBM defaults when absent. */
static void env_sessions(const struct env_inputs *in, struct attls_env_cfg *cfg)
{
	const struct ast_stmt *gs = in->env->u.env.gsk.to;
	const struct ast_gsk *g = gs ? &gs->u.gsk : NULL;

	cfg->session_timeout = g && g->v3_timeout.set ? g->v3_timeout.v :
			       DEFAULT_V3_TIMEOUT;
	cfg->session_cache_size = g && g->v3_cache.set ? g->v3_cache.v :
				  DEFAULT_V3_CACHE;
	cfg->ticket_client = g && g->ticket_client.set ? g->ticket_client.v : 1;
	cfg->ticket_server = g && g->ticket_server.set ? g->ticket_server.v : 0;
	cfg->ticket_count = g && g->ticket_count.set ? g->ticket_count.v :
			    DEFAULT_TICKET_COUNT;
}

/* TTLSGskLdapParms GSK_CRL_SECURITY_LEVEL; Medium (the z/OS default) when absent. */
static void env_crl_level(const struct env_inputs *in, struct attls_env_cfg *cfg)
{
	const struct ast_stmt *gs = in->env->u.env.gsk.to;
	const struct ast_stmt *ls = gs ? gs->u.gsk.ldap.to : NULL;
	const struct ast_val *v = ls ? &ls->u.gsk_ldap.crl_level : NULL;

	cfg->crl_level = v && v->set ? v->v : ATTLS_CRL_MEDIUM;
}

/*
 * ApplicationProtocol FTP: the helper serves FTP servers (the engine
 * answers AUTH TLS as the TLS server) and protects their data connections
 * through SecondaryMap; without it a PROT P data connection would carry
 * the file in cleartext.  0 or -1.
 */
static int env_ftp(struct cctx *c, const struct env_inputs *in,
		   const struct ast_stmt *cadv, const struct ast_stmt *eadv,
		   int quiet, const struct attls_env_cfg *cfg)
{
	const struct ast_val *v = ADV(cadv, eadv, app_proto);

	if (cfg->app_protocol != ATTLS_APP_FTP)
		return 0;
	if (cfg->role == ATTLS_ROLE_CLIENT) {
		if (!quiet)
			cerr(c, &v->loc, "use HandshakeRole Server for the FTP "
			     "server's rule", "%s: ApplicationProtocol FTP serves "
			     "FTP servers; HandshakeRole Client is not supported",
			     in->label);
		return -1;
	}
	if (!cfg->secondary_map) {
		if (!quiet)
			cerr(c, &v->loc, "add SecondaryMap On",
			     "%s: ApplicationProtocol FTP needs SecondaryMap On "
			     "(the data connections follow PROT P/C through it)",
			     in->label);
		return -1;
	}
	return 0;
}

/*
 * Fill `cfg` from env + conn (+ group).  With `quiet`, problems are not
 * reported (used to compute the plain environment for naming).  0 or -1.
 */
static int env_build(struct cctx *c, const struct env_inputs *in, int quiet,
		     struct attls_env_cfg *cfg)
{
	const struct ast_env *e = &in->env->u.env;
	const struct ast_conn *cn = in->conn ? &in->conn->u.conn : NULL;
	const struct ast_stmt *eadv = e->adv.to;
	const struct ast_stmt *cadv = cn ? cn->adv.to : NULL;
	const struct ast_val *v;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	copy_name(cfg->name, in->env->name);
	copy_loc(&cfg->where, &in->env->loc);
	cfg->role = cn && cn->role.set ? cn->role.v : e->role.v;
	env_keyring(in, cfg);
	copy_str(cfg->cert_label, sizeof(cfg->cert_label),
		 adv_str(cadv, eadv, offsetof(struct ast_adv, label)));
	cfg->handshake_timeout = ADV_V(cadv, eadv, timeout, DEFAULT_HS_TIMEOUT);
	v = cn && cn->trace.set ? &cn->trace : e->trace.set ? &e->trace :
	    in->group->u.group.trace.set ? &in->group->u.group.trace : NULL;
	cfg->trace = v ? v->v : DEFAULT_TRACE;
	cfg->user_instance = e->user_instance.set ? e->user_instance.v : 0;
	cfg->group_user_instance = in->group->u.group.user_instance.v;
	cfg->conn_user_instance = cn ? cn->user_instance.v : 0;
	cfg->client_auth = ADV_V(cadv, eadv, client_auth,
				 ATTLS_CLIENT_AUTH_REQUIRED);
	cfg->application_controlled = ADV_V(cadv, eadv, app_ctl, 0);
	cfg->secondary_map = ADV_V(cadv, eadv, secondary_map, 0);
	cfg->app_protocol = ADV_V(cadv, eadv, app_proto, ATTLS_APP_NONE);
	cfg->middlebox_compat = ADV_V(cadv, eadv, middlebox, 0);
	env_sessions(in, cfg);
	env_crl_level(in, cfg);
	cfg->peer_min_rsa = ADV_V(cadv, eadv, peer_min_rsa, 0);
	cfg->peer_min_dsa = ADV_V(cadv, eadv, peer_min_dsa, 0);
	cfg->peer_min_ecc = ADV_V(cadv, eadv, peer_min_ecc, 0);
	cfg->peer_min_dh = ADV_V(cadv, eadv, peer_min_dh, 0);
	cfg->peer_cert_v3 = ADV_V(cadv, eadv, peer_min_certver, 0);
	cfg->reset_cipher_min = ADV_V(cadv, eadv, reset_cipher, 0);
	/* all three, so one run reports every problem of the environment */
	rc = env_protocols(c, in, quiet, cfg);
	rc |= env_signature(c, in, quiet, cfg);
	rc |= env_sni(c, in, quiet, cfg);
	rc |= env_ftp(c, in, cadv, eadv, quiet, cfg);
	return rc ? -1 : 0;
}

/*
 * Same SSL_CTX inputs?  Everything but the name, the source and the
 * trace builds the context.  Entries are memset() before they are filled
 * and copied with memcpy(), so comparing bytes is comparing fields.
 */
static int env_same(const struct attls_env_cfg *a, const struct attls_env_cfg *b)
{
	size_t r0 = offsetof(struct attls_env_cfg, role);
	size_t r1 = offsetof(struct attls_env_cfg, trace);
	size_t u0 = offsetof(struct attls_env_cfg, user_instance);

	return !memcmp((const char *)a + r0, (const char *)b + r0, r1 - r0) &&
	       !memcmp((const char *)a + u0, (const char *)b + u0,
		       sizeof(*a) - u0);
}

/*
 * FNV-1a over the bytes env_same() compares: entries are several KiB, and
 * a policy with many connection actions would otherwise compare every new
 * entry byte by byte with every earlier one.
 */
static uint64_t env_hash(const struct attls_env_cfg *e)
{
	size_t r0 = offsetof(struct attls_env_cfg, role);
	size_t r1 = offsetof(struct attls_env_cfg, trace);
	size_t u0 = offsetof(struct attls_env_cfg, user_instance);
	const unsigned char *b = (const unsigned char *)e;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = r0; i < sizeof(*e); i++) {
		if (i == r1)
			i = u0;
		h = (h ^ b[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* Give `cfg` a name no other entry of the image has. */
static void env_unique_name(const struct attls_map_image *img,
			    struct attls_env_cfg *cfg)
{
	char base[ATTLS_NAME_LEN], tail[16];
	size_t i;
	int n;

	for (i = 0; i < img->nenvs; i++) {
		if (!strcmp(img->envs[i].name, cfg->name))
			break;
	}
	if (i == img->nenvs)
		return;
	memcpy(base, cfg->name, sizeof(base));
	n = snprintf(tail, sizeof(tail), "~%zu", img->nenvs);
	snprintf(cfg->name, ATTLS_NAME_LEN, "%.*s%s",
		 ATTLS_NAME_LEN - 1 - n, base, tail);
}

static void env_name(struct attls_env_cfg *cfg, const char *env,
		     const char *conn, size_t index)
{
	char full[2 * ATTLS_NAME_LEN];
	char tail[16];
	int n;

	snprintf(full, sizeof(full), "%s+%s", env, conn);
	if (strlen(full) < ATTLS_NAME_LEN) {
		strcpy(cfg->name, full);
		return;
	}
	/* too long for a name: keep a recognizable prefix, made unique */
	n = snprintf(tail, sizeof(tail), "~%zu", index);
	snprintf(cfg->name, ATTLS_NAME_LEN, "%.*s%s", ATTLS_NAME_LEN - 1 - n,
		 full, tail);
}

/* The env index for a rule's (environment, connection action, group), or -1. */
static int env_intern(struct cctx *c, const struct ast_stmt *rule,
		      const struct ast_stmt *group)
{
	struct attls_map_image *img = c->img;
	struct env_inputs in = {
		.env = rule->u.rule.env.to,
		.conn = rule->u.rule.conn.to,
		.group = group,
	};
	struct attls_env_cfg *cfg = NULL, *base = NULL;
	char l1[AST_LABEL_LEN], l2[AST_LABEL_LEN];
	struct env_key *key;
	int index = -1;
	uint64_t hash;
	size_t i;

	for (i = 0; i < c->nkeys; i++) {
		if (c->keys[i].env == in.env && c->keys[i].conn == in.conn &&
		    c->keys[i].group == in.group)
			return c->keys[i].index;
	}
	key = &c->keys[c->nkeys++];	/* sized for one per rule */
	key->env = in.env;
	key->conn = in.conn;
	key->group = in.group;
	key->index = -1;
	ast_stmt_label(in.env, l1, sizeof(l1));
	if (in.conn)
		snprintf(in.label, sizeof(in.label), "%s with %s", l1,
			 ast_stmt_label(in.conn, l2, sizeof(l2)));
	else
		snprintf(in.label, sizeof(in.label), "%s", l1);
	/* entries are several KiB: keep them off the stack */
	cfg = malloc(sizeof(*cfg));
	base = malloc(sizeof(*base));
	if (!cfg || !base) {
		c->oom = 1;
		goto free_cfg;
	}
	if (env_build(c, &in, 0, cfg))
		goto free_cfg;
	hash = env_hash(cfg);
	for (i = 0; i < img->nenvs; i++) {
		if (c->env_src[i] == in.env && c->env_hash[i] == hash &&
		    env_same(&img->envs[i], cfg)) {
			index = key->index = (int)i;
			goto free_cfg;
		}
	}
	if (in.conn) {
		struct env_inputs plain = in;

		plain.conn = NULL;
		if (env_build(c, &plain, 1, base) || !env_same(base, cfg))
			env_name(cfg, in.env->name, in.conn->name, img->nenvs);
	}
	env_unique_name(img, cfg);
	/* entries are ~16 KiB: grow as environments appear, not per rule */
	if (img->nenvs == c->envs_cap) {
		size_t cap1 = c->envs_cap, cap2 = c->envs_cap;

		if (vec_grow(&img->envs, &cap1, img->nenvs, sizeof(*img->envs)) ||
		    vec_grow(&c->env_hash, &cap2, img->nenvs,
			     sizeof(*c->env_hash)) ||
		    vec_grow(&c->env_src, &c->envs_cap, img->nenvs,
			     sizeof(*c->env_src))) {
			c->oom = 1;
			goto free_cfg;
		}
	}
	c->env_hash[img->nenvs] = hash;
	c->env_src[img->nenvs] = in.env;
	memcpy(&img->envs[img->nenvs], cfg, sizeof(*cfg));
	index = key->index = (int)img->nenvs++;
free_cfg:
	free(base);
	free(cfg);
	return index;
}

/* ------------------------------------------------------------------ */
/* clauses                                                            */
/* ------------------------------------------------------------------ */

struct uids {
	const char *prefix;
	size_t plen;
	uint32_t *v;
	size_t n;
	size_t cap;
	int any;			/* no Userid condition */
};

static int uids_add(struct uids *u, uint32_t uid)
{
	if (vec_grow(&u->v, &u->cap, u->n, sizeof(*u->v)))
		return -ENOMEM;
	u->v[u->n++] = uid;
	return 0;
}

static int uids_prefix_cb(const char *name, uint32_t uid, void *arg)
{
	struct uids *u = arg;

	if (strncmp(name, u->prefix, u->plen))
		return 0;
	return uids_add(u, uid);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The Userid OR-list of a rule: any, one uid, or every matching user. */
static int rule_uids(struct cctx *c, const struct ast_stmt *rule,
		     struct uids *u)
{
	const struct ast_user *au = &rule->u.rule.user;
	char label[AST_LABEL_LEN];
	size_t i, n;
	uint32_t uid;
	int rc;

	ast_stmt_label(rule, label, sizeof(label));
	if (!au->set || au->how == AST_USER_ANY) {
		u->any = 1;
		return 0;
	}
	switch (au->how) {
	case AST_USER_UID:
		return uids_add(u, au->uid);
	case AST_USER_NAME:
		rc = users_resolve(au->name, &uid);
		if (rc == -ENOENT) {
			cerr(c, &au->loc, "create the user first, or give the numeric uid",
			     "%s: Userid '%s' is not a known user", label,
			     au->name);
			return 0;
		}
		if (rc) {
			cerr(c, &au->loc, NULL, "%s: cannot look up Userid '%s': %s",
			     label, au->name, strerror(-rc));
			return rc == -ENOMEM ? rc : 0;
		}
		return uids_add(u, uid);
	default:
		break;
	}
	u->prefix = au->name;
	u->plen = strlen(au->name);
	rc = users_list(uids_prefix_cb, u);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		cerr(c, &au->loc, NULL, "%s: cannot list users for Userid '%s*': %s",
		     label, au->name, strerror(rc < 0 ? -rc : rc));
		return 0;
	}
	if (u->n)
		qsort(u->v, u->n, sizeof(*u->v), cmp_u32);
	for (i = n = 0; i < u->n; i++) {
		if (!n || u->v[n - 1] != u->v[i])
			u->v[n++] = u->v[i];
	}
	u->n = n;
	if (!n)
		diag_add(c->d, POLICY_SEV_WARNING, &au->loc,
			 "users are looked up each time the policy is loaded",
			 "%s: Userid '%s*' matches no user, so the rule never applies",
			 label, au->name);
	return 0;
}

/* An address OR-list; `all` (no condition) absorbs everything else. */
struct arange {
	uint8_t lo[ATTLS_ADDR_LEN];
	uint8_t hi[ATTLS_ADDR_LEN];
};

struct addrs {
	struct arange *v;
	size_t n;
	size_t cap;
	int all;
};

static int addrs_add(struct addrs *l, const struct ast_addr *a)
{
	if (a->all) {
		l->all = 1;
		return 0;
	}
	if (vec_grow(&l->v, &l->cap, l->n, sizeof(*l->v)))
		return -ENOMEM;
	memcpy(l->v[l->n].lo, a->lo, ATTLS_ADDR_LEN);
	memcpy(l->v[l->n].hi, a->hi, ATTLS_ADDR_LEN);
	l->n++;
	return 0;
}

/* IpAddrSet: its Addr/Prefix/Range lines and its IpAddr members. */
static int addrs_from_set(struct addrs *l, const struct ast_stmt *set)
{
	const struct ast_ipaddrset *s = &set->u.addrset;
	size_t i;

	for (i = 0; i < s->addrs.n; i++) {
		if (addrs_add(l, &s->addrs.v[i]))
			return -ENOMEM;
	}
	for (i = 0; i < s->items.n; i++) {
		const struct ast_stmt *to = s->items.v[i].to;

		if (to && addrs_add(l, &to->u.ipaddr.addr))
			return -ENOMEM;
	}
	return 0;
}

static int addrs_from_group(struct addrs *l, const struct ast_stmt *grp)
{
	const struct ast_reflist *items = &grp->u.members.items;
	size_t i;
	int rc = 0;

	for (i = 0; i < items->n && !rc; i++) {
		const struct ast_stmt *to = items->v[i].to;

		if (!to)
			continue;
		rc = to->kind == STMT_IPADDRSET ? addrs_from_set(l, to) :
						  addrs_add(l, &to->u.ipaddr.addr);
	}
	return rc;
}

static int cmp_arange(const void *a, const void *b)
{
	return memcmp(((const struct arange *)a)->lo,
		      ((const struct arange *)b)->lo, ATTLS_ADDR_LEN);
}

/* out = a + 1 (128-bit, big endian); 1 when it wrapped past all-ones. */
static int addr_next(const uint8_t *a, uint8_t *out)
{
	int i;

	memcpy(out, a, ATTLS_ADDR_LEN);
	for (i = ATTLS_ADDR_LEN - 1; i >= 0; i--) {
		if (++out[i])
			return 0;
	}
	return 1;
}

/* Sort, and merge ranges that overlap or touch: fewer clauses, same set. */
static void addrs_merge(struct addrs *l)
{
	uint8_t next[ATTLS_ADDR_LEN];
	size_t i, n = 0;

	if (l->all || l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_arange);
	for (i = 0; i < l->n; i++) {
		struct arange *last = n ? &l->v[n - 1] : NULL;

		if (last && (addr_next(last->hi, next) ||
			     memcmp(l->v[i].lo, next, ATTLS_ADDR_LEN) <= 0)) {
			if (memcmp(l->v[i].hi, last->hi, ATTLS_ADDR_LEN) > 0)
				memcpy(last->hi, l->v[i].hi, ATTLS_ADDR_LEN);
			continue;
		}
		l->v[n++] = l->v[i];
	}
	l->n = n;
}

/* A rule's address condition: inline, or an IpAddr / IpAddrSet / IpAddrGroup. */
static int rule_addrs(const struct ast_addr *inl, const struct ast_ref *ref,
		      struct addrs *out)
{
	int rc = 0;

	if (ref->set && ref->to) {
		switch (ref->to->kind) {
		case STMT_IPADDRSET:
			rc = addrs_from_set(out, ref->to);
			break;
		case STMT_IPADDRGROUP:
			rc = addrs_from_group(out, ref->to);
			break;
		default:
			rc = addrs_add(out, &ref->to->u.ipaddr.addr);
			break;
		}
	} else if (inl->set) {
		rc = addrs_add(out, inl);
	} else {
		out->all = 1;
	}
	addrs_merge(out);
	return rc;
}

/* A port OR-list; a 0..65535 member makes it "any". */
struct prange {
	uint16_t lo, hi;
};

struct ports {
	struct prange *v;
	size_t n;
	size_t cap;
	int any;
};

static int ports_add(struct ports *l, const struct ast_ports *p)
{
	if (p->lo == 0 && p->hi == 65535) {
		l->any = 1;
		return 0;
	}
	if (vec_grow(&l->v, &l->cap, l->n, sizeof(*l->v)))
		return -ENOMEM;
	l->v[l->n].lo = p->lo;
	l->v[l->n].hi = p->hi;
	l->n++;
	return 0;
}

static int cmp_prange(const void *a, const void *b)
{
	const struct prange *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

static void ports_merge(struct ports *l)
{
	size_t i, n = 0;

	if (l->any || l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_prange);
	for (i = 0; i < l->n; i++) {
		struct prange *last = n ? &l->v[n - 1] : NULL;

		if (last && (uint32_t)l->v[i].lo <= (uint32_t)last->hi + 1) {
			if (l->v[i].hi > last->hi)
				last->hi = l->v[i].hi;
			continue;
		}
		l->v[n++] = l->v[i];
	}
	l->n = n;
}

/* A rule's port condition: inline, or a PortRange / PortGroup. */
static int rule_ports(const struct ast_ports *inl, const struct ast_ref *ref,
		      struct ports *out)
{
	const struct ast_reflist *items;
	size_t i;
	int rc = 0;

	if (ref->set && ref->to && ref->to->kind == STMT_PORTGROUP) {
		items = &ref->to->u.members.items;
		for (i = 0; i < items->n && !rc; i++) {
			if (items->v[i].to)
				rc = ports_add(out, &items->v[i].to->u.portrange.port);
		}
	} else if (ref->set && ref->to) {
		rc = ports_add(out, &ref->to->u.portrange.port);
	} else if (inl->set) {
		rc = ports_add(out, inl);
	} else {
		out->any = 1;
	}
	ports_merge(out);
	return rc;
}

static struct attls_rule *clause_new(struct cctx *c)
{
	struct attls_map_image *img = c->img;

	if (img->nrules >= ATTLS_MAX_RULES)
		return NULL;
	if (vec_grow(&img->rules, &c->rules_cap, img->nrules,
		     sizeof(*img->rules))) {
		c->oom = 1;
		return NULL;
	}
	memset(&img->rules[img->nrules], 0, sizeof(img->rules[0]));
	return &img->rules[img->nrules++];
}

/* The OR-lists of one rule; an empty list with any/all set counts as 1. */
struct rule_lists {
	struct addrs la, ra;
	struct ports lp, rp;
	struct uids u;
};

static void rule_lists_free(struct rule_lists *r)
{
	free(r->la.v);
	free(r->ra.v);
	free(r->lp.v);
	free(r->rp.v);
	free(r->u.v);
}

static size_t n_addrs(const struct addrs *a)
{
	return a->all ? 1 : a->n;
}

static size_t n_ports(const struct ports *p)
{
	return p->any ? 1 : p->n;
}

static size_t n_uids(const struct uids *u)
{
	return u->any ? 1 : u->n;
}

/* a * b, saturating at CLAUSES_SATURATED. */
static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	if (a && b > CLAUSES_SATURATED / a)
		return CLAUSES_SATURATED;
	return a * b;
}

static uint64_t rule_product(const struct rule_lists *r)
{
	uint64_t n = n_addrs(&r->la);

	n = sat_mul(n, n_addrs(&r->ra));
	n = sat_mul(n, n_ports(&r->lp));
	n = sat_mul(n, n_ports(&r->rp));
	return sat_mul(n, n_uids(&r->u));
}

static void emit_clause(struct cctx *c, const struct ast_rule *r,
			const struct rule_lists *l, uint32_t rule_id,
			int enabled, const size_t idx[5])
{
	struct attls_rule *cl = clause_new(c);

	if (!cl)
		return;		/* oom is flagged; the limit was checked */
	cl->rule_id = rule_id;
	cl->flags = r->direction.v;
	if (enabled)
		cl->flags |= ATTLS_RF_ENABLED;
	if (!l->la.all) {
		cl->flags |= ATTLS_RF_LADDR;
		memcpy(cl->laddr_lo, l->la.v[idx[0]].lo, ATTLS_ADDR_LEN);
		memcpy(cl->laddr_hi, l->la.v[idx[0]].hi, ATTLS_ADDR_LEN);
	}
	if (!l->ra.all) {
		cl->flags |= ATTLS_RF_RADDR;
		memcpy(cl->raddr_lo, l->ra.v[idx[1]].lo, ATTLS_ADDR_LEN);
		memcpy(cl->raddr_hi, l->ra.v[idx[1]].hi, ATTLS_ADDR_LEN);
	}
	cl->lport_lo = l->lp.any ? 0 : l->lp.v[idx[2]].lo;
	cl->lport_hi = l->lp.any ? 65535 : l->lp.v[idx[2]].hi;
	cl->rport_lo = l->rp.any ? 0 : l->rp.v[idx[3]].lo;
	cl->rport_hi = l->rp.any ? 65535 : l->rp.v[idx[3]].hi;
	if (!l->u.any) {
		cl->flags |= ATTLS_RF_UID;
		cl->uid = l->u.v[idx[4]];
	}
	if (r->job.set && !r->job.any) {
		cl->flags |= ATTLS_RF_JOB;
		memcpy(cl->job, r->job.pat, ATTLS_COMM_LEN);
		cl->job_len = r->job.len;
	}
}

/*
 * Expand a rule's OR-lists into adjacent clauses.  `emit` is 0 for a rule
 * whose time window is closed: its clauses are counted, not emitted.
 * Returns the number of clauses of the rule, or -ENOMEM.
 */
static int64_t rule_clauses(struct cctx *c, const struct ast_stmt *st,
			    uint32_t rule_id, int enabled, int emit)
{
	const struct ast_rule *r = &st->u.rule;
	struct rule_lists l;
	size_t idx[5], lim[5];
	char label[AST_LABEL_LEN];
	uint64_t n;
	int64_t rc;

	memset(&l, 0, sizeof(l));
	if (rule_addrs(&r->laddr, &r->laddr_ref, &l.la) ||
	    rule_addrs(&r->raddr, &r->raddr_ref, &l.ra) ||
	    rule_ports(&r->lport, &r->lport_ref, &l.lp) ||
	    rule_ports(&r->rport, &r->rport_ref, &l.rp) ||
	    rule_uids(c, st, &l.u) == -ENOMEM) {
		rc = -ENOMEM;
		goto free_lists;
	}
	n = rule_product(&l);
	rc = (int64_t)n;
	if (n > ATTLS_MAX_RULES) {
		cerr(c, &st->loc,
		     "every combination is one clause the kernel tries in turn: merge addresses into prefixes or ranges, or split the rule",
		     "%s expands to %s%llu clauses (%zu local addresses x %zu remote addresses x %zu local port ranges x %zu remote port ranges x %zu users), more than the %d the kernel rule table holds",
		     ast_stmt_label(st, label, sizeof(label)),
		     n == CLAUSES_SATURATED ? "over " : "",
		     (unsigned long long)n, n_addrs(&l.la), n_addrs(&l.ra),
		     n_ports(&l.lp), n_ports(&l.rp), n_uids(&l.u),
		     ATTLS_MAX_RULES);
		rc = 0;		/* reported: keep it out of the total */
		goto free_lists;
	}
	if (!emit || !n)
		goto free_lists;
	lim[0] = n_addrs(&l.la);
	lim[1] = n_addrs(&l.ra);
	lim[2] = n_ports(&l.lp);
	lim[3] = n_ports(&l.rp);
	lim[4] = n_uids(&l.u);
	for (idx[0] = 0; idx[0] < lim[0]; idx[0]++)
		for (idx[1] = 0; idx[1] < lim[1]; idx[1]++)
			for (idx[2] = 0; idx[2] < lim[2]; idx[2]++)
				for (idx[3] = 0; idx[3] < lim[3]; idx[3]++)
					for (idx[4] = 0; idx[4] < lim[4]; idx[4]++)
						emit_clause(c, r, &l, rule_id,
							    enabled, idx);
	if (c->oom)
		rc = -ENOMEM;
free_lists:
	rule_lists_free(&l);
	return rc;
}

/*
 * The attls extensions MaxConnections and IdleTimeout of an enabled rule:
 * its connection action's advanced parms over its environment's, like
 * HandshakeTimeout; unset means no limit.  They are per rule, not part of
 * the TLS context, so they never split an environment.
 */
static void rule_limits(struct attls_action *act, const struct ast_stmt *e,
			const struct ast_stmt *cn)
{
	const struct ast_stmt *eadv = e->u.env.adv.to;
	const struct ast_stmt *cadv = cn ? cn->u.conn.adv.to : NULL;

	act->max_conns = ADV_V(cadv, eadv, max_conns, 0);
	act->idle_timeout = ADV_V(cadv, eadv, idle_timeout, 0);
}

static int compile_rule(struct cctx *c, const struct ast_stmt *st,
			uint32_t rule_id)
{
	const struct ast_rule *r = &st->u.rule;
	const struct ast_stmt *g = r->group.to;
	const struct ast_stmt *e = r->env.to;
	const struct ast_stmt *cn = r->conn.to;
	const struct ast_stmt *ga = g ? g->u.group.adv.to : NULL;
	struct attls_action *act = &c->img->actions[rule_id];
	const struct ast_val *tr;
	size_t before = c->img->nrules;
	int64_t n;

	copy_name(act->rule_name, st->name);
	copy_loc(&act->where, &st->loc);
	act->priority = rule_priority(st);
	act->env_index = -1;
	if (!g) {
		/* parse_policy() only hands out resolved policies */
		cerr(c, &st->loc, NULL, "TTLSRule '%s' has no resolved TTLSGroupAction",
		     st->name);
		return 0;
	}
	copy_name(act->group_name, g->name);
	act->enabled = g->u.group.enabled.v;
	if (act->enabled && !e) {
		cerr(c, &st->loc, NULL, "TTLSRule '%s' has no resolved TTLSEnvironmentAction",
		     st->name);
		return 0;
	}
	if (act->enabled) {
		copy_name(act->env_name, e->name);
		if (cn)
			copy_name(act->conn_name, cn->name);
		act->env_index = env_intern(c, st, g);
		rule_limits(act, e, cn);
	}
	tr = act->enabled && cn && cn->u.conn.trace.set ? &cn->u.conn.trace :
	     act->enabled && e->u.env.trace.set ? &e->u.env.trace :
	     g->u.group.trace.set ? &g->u.group.trace : NULL;
	act->trace = tr ? tr->v : DEFAULT_TRACE;
	act->syslog_facility = ga && ga->u.group_adv.syslog.set ?
			       ga->u.group_adv.syslog.v : ATTLS_FACILITY_DAEMON;
	if (r->time.to)
		time_window_build(&r->time.to->u.time, &act->time);
	act->time_inactive = !attls_time_window_active(&act->time, c->now);
	n = rule_clauses(c, st, rule_id, act->enabled, !act->time_inactive);
	if (n < 0)
		return (int)n;
	c->rule_clauses[rule_id] = (uint64_t)n;
	c->clauses += (uint64_t)n;
	act->nclauses = (uint32_t)(c->img->nrules - before);
	return 0;
}

void attls_map_image_free(struct attls_map_image *img)
{
	if (!img)
		return;
	free(img->rules);
	free(img->actions);
	free(img->envs);
	memset(img, 0, sizeof(*img));
}

/* "r1 (2000), r7 (1500), r3 (600)": the rules that cost the most clauses. */
static void largest_rules(const struct cctx *c, char *buf, size_t len)
{
	size_t shown[3], nshown = 0, i, k, best;
	size_t n = 0;

	buf[0] = '\0';
	while (nshown < 3) {
		best = (size_t)-1;
		for (i = 0; i < c->img->nactions; i++) {
			for (k = 0; k < nshown && shown[k] != i; k++)
				;
			if (k < nshown || !c->rule_clauses[i])
				continue;
			if (best == (size_t)-1 ||
			    c->rule_clauses[i] > c->rule_clauses[best])
				best = i;
		}
		if (best == (size_t)-1)
			break;
		shown[nshown++] = best;
		n += (size_t)snprintf(buf + n, len - n, "%s%s (%llu)",
				      n ? ", " : "",
				      c->img->actions[best].rule_name,
				      (unsigned long long)c->rule_clauses[best]);
		if (n >= len)
			break;
	}
}

int policy_compile_at(const struct policy *p, struct attls_map_image *img,
		      struct policy_diags *diags, time_t now)
{
	struct cctx c = { .img = img, .d = diags, .now = now };
	const struct ast_stmt **rules = NULL;
	char largest[200];
	size_t i, n = 0;
	int err = 0;

	memset(img, 0, sizeof(*img));
	for (i = 0; i < p->nstmts; i++) {
		if (p->stmts[i]->kind == STMT_RULE)
			n++;
	}
	rules = calloc(n ? n : 1, sizeof(*rules));
	img->actions = calloc(n ? n : 1, sizeof(*img->actions));
	c.keys = calloc(n ? n : 1, sizeof(*c.keys));
	c.rule_clauses = calloc(n ? n : 1, sizeof(*c.rule_clauses));
	if (!rules || !img->actions || !c.keys || !c.rule_clauses) {
		err = -ENOMEM;
		goto out;
	}
	for (i = n = 0; i < p->nstmts; i++) {
		if (p->stmts[i]->kind == STMT_RULE)
			rules[n++] = p->stmts[i];
	}
	qsort(rules, n, sizeof(*rules), cmp_rules);
	img->nactions = n;
	for (i = 0; i < n; i++) {
		err = compile_rule(&c, rules[i], (uint32_t)i);
		if (err)
			goto out;
	}
	if (c.clauses > ATTLS_MAX_RULES) {
		largest_rules(&c, largest, sizeof(largest));
		cerr(&c, NULL,
		     "IpAddrGroup, IpAddrSet, PortGroup and Userid wildcards expand to one clause per combination: merge ranges, narrow wildcards or drop rules",
		     "the policy compiles to %llu rule clauses, more than the %d the kernel rule table holds; the largest rules: %s",
		     (unsigned long long)c.clauses, ATTLS_MAX_RULES, largest);
	}
	if (c.oom || diag_oom(diags))
		err = -ENOMEM;
	else if (c.errors)
		err = -EINVAL;
out:
	if (err)
		attls_map_image_free(img);
	free(c.rule_clauses);
	free(c.keys);
	free(c.env_hash);
	free(c.env_src);
	free(rules);
	return err;
}

int policy_compile(const struct policy *p, struct attls_map_image *img,
		   struct policy_diags *diags)
{
	return policy_compile_at(p, img, diags, time(NULL));
}
