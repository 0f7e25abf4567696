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
 *  - Clauses.  A rule is the AND of OR-lists (addresses, ports, users);
 *    it becomes their cross product, adjacent and with one rule_id, so
 *    first matching clause == first matching rule.
 *  - Environments.  One attls_env_cfg per TTLSEnvironmentAction used by an
 *    enabled rule, with the rule's TTLSConnectionAction applied on top.
 *    When a connection action changes what the SSL_CTX is built from
 *    (role, protocols, ciphers, timeout, label), that combination gets its
 *    own entry named "env+conn".  Trace is per rule (attls_action.trace);
 *    the env entry carries the trace of the first rule, in AT-TLS order,
 *    that created it.
 *  - Protocols.  attls only speaks TLSv1.2 and TLSv1.3.  z/OS defaults are
 *    TLSv1/TLSv1.1 On and TLSv1.2/TLSv1.3 Off, which would leave nothing,
 *    so: if neither TLSv1.2 nor TLSv1.3 is set On (environment or
 *    connection advanced parms), every one of them not set Off is enabled;
 *    with a cipher list, a defaulted protocol without a suite in the list
 *    is dropped.  If any is set On, exactly those set On are enabled.
 *    Nothing left is an error naming the environment.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "ciphers.h"
#include "diag.h"
#include "policy.h"
#include "users.h"

#define DEFAULT_TRACE		2	/* IBM: TTLSGroupAction Trace default */
#define DEFAULT_HS_TIMEOUT	10	/* IBM: HandshakeTimeout default, seconds */

/* One (environment, connection action) pair already compiled. */
struct env_key {
	const struct ast_stmt *env;
	const struct ast_stmt *conn;
	int index;			/* into img->envs, -1 if it failed */
};

struct cctx {
	struct attls_map_image *img;
	struct policy_diags *d;
	size_t errors;
	int oom;
	size_t rules_cap;
	size_t clauses;			/* emitted or not: for the limit message */
	const struct ast_stmt **env_src;	/* parallel to img->envs */
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

static unsigned cipher_protos(const struct ast_cipher *ci)
{
	unsigned have = 0;
	size_t i;

	for (i = 0; i < ci->n; i++)
		have |= cipher_by_code(ci->suites[i])->proto;
	return have;
}

/* The ':'-separated OpenSSL names of the suites of protocol `proto`. */
static int cipher_string(const struct ast_cipher *ci, unsigned proto,
			 char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ci->n; i++) {
		const struct cipher_info *info = cipher_by_code(ci->suites[i]);
		int w;

		if (info->proto != proto)
			continue;
		w = snprintf(buf + n, len - n, "%s%s", n ? ":" : "", info->ossl);
		if (w < 0 || (size_t)w >= len - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	return 0;
}

struct env_inputs {
	const struct ast_stmt *env;
	const struct ast_stmt *conn;	/* NULL: none */
	const struct ast_stmt *group;
	char label[2 * AST_LABEL_LEN];	/* for messages */
};

/*
 * Fill `cfg` from env + conn.  With `quiet`, problems are not reported
 * (used to compute the plain environment for naming).  0 or -1.
 */
static int env_build(struct cctx *c, const struct env_inputs *in, int quiet,
		     struct attls_env_cfg *cfg)
{
	const struct ast_env *e = &in->env->u.env;
	const struct ast_conn *cn = in->conn ? &in->conn->u.conn : NULL;
	const struct ast_stmt *eadv = e->adv.to;
	const struct ast_stmt *cadv = cn ? cn->adv.to : NULL;
	const struct ast_stmt *cip = cn && cn->cipher.to ? cn->cipher.to :
						       e->cipher.to;
	const struct ast_stmt *kr = e->keyring.to;
	const struct ast_loc *loc = &in->env->loc;
	const struct ast_val *v;
	unsigned on = 0, off = 0, protos, have;
	int defaulted;

	memset(cfg, 0, sizeof(*cfg));
	copy_name(cfg->name, in->env->name);
	copy_loc(&cfg->where, loc);
	cfg->role = cn && cn->role.set ? cn->role.v : e->role.v;
	snprintf(cfg->keyring, sizeof(cfg->keyring), "%s",
		 kr && kr->u.keyring.keyring.s ? kr->u.keyring.keyring.s : "");
	if (cadv && cadv->u.adv.label.s)
		snprintf(cfg->cert_label, sizeof(cfg->cert_label), "%s",
			 cadv->u.adv.label.s);
	else if (eadv && eadv->u.adv.label.s)
		snprintf(cfg->cert_label, sizeof(cfg->cert_label), "%s",
			 eadv->u.adv.label.s);
	v = adv_pick(cadv, eadv, offsetof(struct ast_adv, timeout));
	cfg->handshake_timeout = v ? v->v : DEFAULT_HS_TIMEOUT;
	v = cn && cn->trace.set ? &cn->trace : e->trace.set ? &e->trace :
	    in->group->u.group.trace.set ? &in->group->u.group.trace : NULL;
	cfg->trace = v ? v->v : DEFAULT_TRACE;
	cfg->user_instance = e->user_instance.set ? e->user_instance.v : 0;

	v = adv_pick(cadv, eadv, offsetof(struct ast_adv, tls12));
	if (v && v->v)
		on |= ATTLS_PROTO_TLS12;
	else if (v)
		off |= ATTLS_PROTO_TLS12;
	v = adv_pick(cadv, eadv, offsetof(struct ast_adv, tls13));
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

/* Same SSL_CTX inputs?  Names, source and trace do not build the context. */
static int env_same(const struct attls_env_cfg *a, const struct attls_env_cfg *b)
{
	return a->role == b->role && a->protocols == b->protocols &&
	       a->handshake_timeout == b->handshake_timeout &&
	       a->user_instance == b->user_instance &&
	       !strcmp(a->keyring, b->keyring) &&
	       !strcmp(a->cert_label, b->cert_label) &&
	       !strcmp(a->tls13_suites, b->tls13_suites) &&
	       !strcmp(a->tls12_ciphers, b->tls12_ciphers);
}

static void env_name(struct attls_env_cfg *cfg, const char *env,
		     const char *conn, size_t index)
{
	char full[2 * ATTLS_NAME_LEN];

	snprintf(full, sizeof(full), "%s+%s", env, conn);
	if (strlen(full) < ATTLS_NAME_LEN) {
		strcpy(cfg->name, full);
		return;
	}
	/* too long for a name: keep a recognizable prefix, made unique */
	{
		char tail[16];
		int n = snprintf(tail, sizeof(tail), "~%zu", index);

		snprintf(cfg->name, ATTLS_NAME_LEN, "%.*s%s",
			 ATTLS_NAME_LEN - 1 - n, full, tail);
	}
}

/* The env index for a rule's (environment, connection action), or -1. */
static int env_intern(struct cctx *c, const struct ast_stmt *rule,
		      const struct ast_stmt *group)
{
	struct attls_map_image *img = c->img;
	struct env_inputs in = {
		.env = rule->u.rule.env.to,
		.conn = rule->u.rule.conn.to,
		.group = group,
	};
	struct attls_env_cfg cfg, base;
	char l1[AST_LABEL_LEN], l2[AST_LABEL_LEN];
	struct env_key *key;
	size_t i;

	for (i = 0; i < c->nkeys; i++) {
		if (c->keys[i].env == in.env && c->keys[i].conn == in.conn)
			return c->keys[i].index;
	}
	key = &c->keys[c->nkeys++];	/* sized for one per rule */
	key->env = in.env;
	key->conn = in.conn;
	key->index = -1;
	ast_stmt_label(in.env, l1, sizeof(l1));
	if (in.conn)
		snprintf(in.label, sizeof(in.label), "%s with %s", l1,
			 ast_stmt_label(in.conn, l2, sizeof(l2)));
	else
		snprintf(in.label, sizeof(in.label), "%s", l1);
	if (env_build(c, &in, 0, &cfg))
		return -1;
	for (i = 0; i < img->nenvs; i++) {
		if (c->env_src[i] == in.env && env_same(&img->envs[i], &cfg))
			return key->index = (int)i;
	}
	if (in.conn) {
		struct env_inputs plain = in;

		plain.conn = NULL;
		if (env_build(c, &plain, 1, &base) || !env_same(&base, &cfg))
			env_name(&cfg, in.env->name, in.conn->name, img->nenvs);
	}
	c->env_src[img->nenvs] = in.env;
	img->envs[img->nenvs] = cfg;
	return key->index = (int)img->nenvs++;
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
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 8;
		uint32_t *v = realloc(u->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
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

/* A rule's address condition: the referenced IpAddr, the inline one, or All. */
static const struct ast_addr *rule_addr(const struct ast_addr *inl,
					const struct ast_ref *ref)
{
	if (ref->set && ref->to)
		return &ref->to->u.ipaddr.addr;
	return inl->set ? inl : NULL;
}

static const struct ast_ports *rule_ports(const struct ast_ports *inl,
					  const struct ast_ref *ref)
{
	if (ref->set && ref->to)
		return &ref->to->u.portrange.port;
	return inl->set ? inl : NULL;
}

static struct attls_rule *clause_new(struct cctx *c)
{
	struct attls_map_image *img = c->img;

	c->clauses++;
	if (img->nrules >= ATTLS_MAX_RULES)
		return NULL;
	if (img->nrules == c->rules_cap) {
		size_t cap = c->rules_cap ? 2 * c->rules_cap : 64;
		struct attls_rule *v = realloc(img->rules, cap * sizeof(*v));

		if (!v) {
			c->oom = 1;
			return NULL;
		}
		img->rules = v;
		c->rules_cap = cap;
	}
	memset(&img->rules[img->nrules], 0, sizeof(img->rules[0]));
	return &img->rules[img->nrules++];
}

static void set_addr(struct attls_rule *cl, const struct ast_addr *a,
		     __u32 flag, __u8 *lo, __u8 *hi)
{
	if (!a || a->all)
		return;
	cl->flags |= flag;
	memcpy(lo, a->lo, ATTLS_ADDR_LEN);
	memcpy(hi, a->hi, ATTLS_ADDR_LEN);
}

static void set_ports(const struct ast_ports *p, __u16 *lo, __u16 *hi)
{
	*lo = p ? p->lo : 0;
	*hi = p ? p->hi : 65535;
}

/* Emit the cross product of a rule's OR-lists as adjacent clauses. */
static int rule_clauses(struct cctx *c, const struct ast_stmt *st,
			uint32_t rule_id, int enabled)
{
	const struct ast_rule *r = &st->u.rule;
	const struct ast_addr *la = rule_addr(&r->laddr, &r->laddr_ref);
	const struct ast_addr *ra = rule_addr(&r->raddr, &r->raddr_ref);
	const struct ast_ports *lp = rule_ports(&r->lport, &r->lport_ref);
	const struct ast_ports *rp = rule_ports(&r->rport, &r->rport_ref);
	struct uids u = { 0 };
	size_t i, nu;
	int rc;

	rc = rule_uids(c, st, &u);
	if (rc)
		goto free_uids;
	nu = u.any ? 1 : u.n;
	/* One address and port per condition today; IpAddrGroup/PortGroup
	 * will turn la..rp into lists and nest loops here like uids. */
	for (i = 0; i < nu; i++) {
		struct attls_rule *cl = clause_new(c);

		if (!cl) {
			if (c->oom) {
				rc = -ENOMEM;
				goto free_uids;
			}
			continue;	/* over the limit: counted, reported later */
		}
		cl->rule_id = rule_id;
		cl->flags = r->direction.v;
		if (enabled)
			cl->flags |= ATTLS_RF_ENABLED;
		set_addr(cl, la, ATTLS_RF_LADDR, cl->laddr_lo, cl->laddr_hi);
		set_addr(cl, ra, ATTLS_RF_RADDR, cl->raddr_lo, cl->raddr_hi);
		set_ports(lp, &cl->lport_lo, &cl->lport_hi);
		set_ports(rp, &cl->rport_lo, &cl->rport_hi);
		if (!u.any) {
			cl->flags |= ATTLS_RF_UID;
			cl->uid = u.v[i];
		}
		if (r->job.set && !r->job.any) {
			cl->flags |= ATTLS_RF_JOB;
			memcpy(cl->job, r->job.pat, ATTLS_COMM_LEN);
			cl->job_len = r->job.len;
		}
	}
free_uids:
	free(u.v);
	return rc;
}

static int compile_rule(struct cctx *c, const struct ast_stmt *st,
			uint32_t rule_id)
{
	const struct ast_rule *r = &st->u.rule;
	const struct ast_stmt *g = r->group.to;
	const struct ast_stmt *e = r->env.to;
	const struct ast_stmt *cn = r->conn.to;
	struct attls_action *act = &c->img->actions[rule_id];
	const struct ast_val *tr;

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
	}
	tr = act->enabled && cn && cn->u.conn.trace.set ? &cn->u.conn.trace :
	     act->enabled && e->u.env.trace.set ? &e->u.env.trace :
	     g->u.group.trace.set ? &g->u.group.trace : NULL;
	act->trace = tr ? tr->v : DEFAULT_TRACE;
	return rule_clauses(c, st, rule_id, act->enabled);
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

int policy_compile(const struct policy *p, struct attls_map_image *img,
		   struct policy_diags *diags)
{
	struct cctx c = { .img = img, .d = diags };
	const struct ast_stmt **rules = NULL;
	size_t i, n = 0;
	int err = 0;

	memset(img, 0, sizeof(*img));
	for (i = 0; i < p->nstmts; i++) {
		if (p->stmts[i]->kind == STMT_RULE)
			n++;
	}
	rules = calloc(n ? n : 1, sizeof(*rules));
	img->actions = calloc(n ? n : 1, sizeof(*img->actions));
	img->envs = calloc(n ? n : 1, sizeof(*img->envs));
	c.env_src = calloc(n ? n : 1, sizeof(*c.env_src));
	c.keys = calloc(n ? n : 1, sizeof(*c.keys));
	if (!rules || !img->actions || !img->envs || !c.env_src || !c.keys) {
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
	if (c.clauses > ATTLS_MAX_RULES)
		cerr(&c, NULL, "Userid wildcards compile to one clause per matching user: narrow them",
		     "the policy compiles to %zu rule clauses, more than the %d the kernel rule table holds",
		     c.clauses, ATTLS_MAX_RULES);
	if (c.oom || diag_oom(diags))
		err = -ENOMEM;
	else if (c.errors)
		err = -EINVAL;
out:
	if (err)
		attls_map_image_free(img);
	free(c.keys);
	free(c.env_src);
	free(rules);
	return err;
}
