// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * keywords.c - the AT-TLS statements and parameters attls understands.
 *
 * Adding a parameter: a field in ast-t.h, one line in the statement's
 * table below (kept sorted, case-insensitively: a unit test checks it),
 * and its use in compile.c.  Parameters that are valid AT-TLS but not
 * implemented yet are listed as TODO() so the admin gets "not supported
 * yet" instead of "unknown keyword".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bpf/attls_abi.h"
#include "ciphers.h"
#include "keywords.h"
#include "values.h"

/* ------------------------------------------------------------------ */
/* handlers                                                           */
/* ------------------------------------------------------------------ */

static void *field(const struct kw_call *c)
{
	return (char *)c->st + c->kw->off;
}

int kw_check_name(const char *name, char **err)
{
	size_t n = strlen(name);

	if (!n)
		return msgf(err, -1, "empty name\nAT-TLS names are 1-%d characters",
			    AST_NAME_MAX);
	if (n > AST_NAME_MAX)
		return msgf(err, -1, "name '%s' is longer than %d characters\n"
			    "AT-TLS names are 1-%d characters", name,
			    AST_NAME_MAX, AST_NAME_MAX);
	return 0;
}

struct ast_ref *kw_ref_of(struct ast_stmt *st, const struct kw *kw)
{
	return (struct ast_ref *)((char *)st + kw->off);
}

/* `...Ref name` */
static int h_ref(struct kw_call *c, char **err)
{
	struct ast_ref *r = field(c);
	int rc;

	c->blame = 1;
	rc = kw_check_name(c->argv[0], err);
	if (rc)
		return rc;
	memset(r, 0, sizeof(*r));
	r->set = 1;
	strcpy(r->name, c->argv[0]);
	r->loc = c->argloc[0];
	r->kw = c->kw;
	return 0;
}

/* Map argv[0] through the keyword's enum table; -1 with a message if absent. */
static int enum_value(struct kw_call *c, uint32_t *v, char **err)
{
	const struct kw_enum *e;
	const char *best;
	struct suggest s;

	c->blame = 1;
	for (e = c->kw->enums; e->name; e++) {
		if (!strcasecmp(e->name, c->argv[0])) {
			*v = e->v;
			return 0;
		}
	}
	suggest_init(&s, c->argv[0]);
	for (e = c->kw->enums; e->name; e++)
		suggest_try(&s, e->name);
	best = suggest_best(&s);
	if (best)
		return msgf(err, -1, "'%s' is not a valid %s value; did you mean '%s'?\nusage: %s",
			    c->argv[0], c->kw->name, best, c->kw->usage);
	return msgf(err, -1, "'%s' is not a valid %s value\nusage: %s",
		    c->argv[0], c->kw->name, c->kw->usage);
}

/* On/Off, Direction, HandshakeRole ... into a struct ast_val. */
static int h_enum(struct kw_call *c, char **err)
{
	struct ast_val *v = field(c);
	uint32_t x;
	int rc;

	rc = enum_value(c, &x, err);
	if (rc)
		return rc;
	v->set = 1;
	v->v = x;
	v->loc = c->argloc[0];
	return 0;
}

/* A bounded decimal number into a struct ast_val. */
static int h_uint(struct kw_call *c, char **err)
{
	struct ast_val *v = field(c);
	uint32_t x;
	int rc;

	c->blame = 1;
	rc = val_u32(c->argv[0], c->kw->lo, c->kw->hi, &x);
	if (rc == -EINVAL)
		return msgf(err, -1, "'%s' is not a number\nusage: %s",
			    c->argv[0], c->kw->usage);
	if (rc)
		return msgf(err, -1, "%s %s is out of range %u-%u", c->kw->name,
			    c->argv[0], c->kw->lo, c->kw->hi);
	v->set = 1;
	v->v = x;
	v->loc = c->argloc[0];
	return 0;
}

/*
 * SSLv2, SSLv3, TLSv1, TLSv1.1: z/OS can enable them, attls never does
 * (OpenSSL's security level and RFC 8996).  Off is what we do anyway; On
 * is ignored with a warning rather than refused, so z/OS policies load.
 */
static int h_legacy_proto(struct kw_call *c, char **err)
{
	uint32_t on;
	int rc;

	rc = enum_value(c, &on, err);
	if (rc || !on)
		return rc;
	return msgf(err, 1, "%s On is ignored: attls never enables %s\n"
		    "attls negotiates only TLSv1.2 and TLSv1.3; remove the line or set it Off",
		    c->kw->name, c->kw->name);
}

/* V2CipherSuites: SSLv2 suites, meaningless for attls. */
static int h_sslv2_ciphers(struct kw_call *c, char **err)
{
	(void)c;
	return msgf(err, 1, "V2CipherSuites is ignored: attls never enables SSLv2\n"
		    "remove the line");
}

static int h_addr(struct kw_call *c, char **err)
{
	struct ast_addr *a = field(c);
	int rc;

	c->blame = 1;
	rc = val_addr(c->argv[0], a, err);
	if (rc < 0)
		return rc;
	a->set = 1;
	a->loc = c->argloc[0];
	return rc;
}

/* "n", "n-m", or the two-value form "n m" of IBM's syntax diagram. */
static int h_ports(struct kw_call *c, char **err)
{
	struct ast_ports *p = field(c);
	uint32_t lo, hi;
	int rc;

	c->blame = 1;
	if (c->argc == 1) {
		rc = val_ports(c->argv[0], p, err);
		if (rc < 0)
			return rc;
	} else {
		if (val_u32(c->argv[0], 0, 65535, &lo))
			return msgf(err, -1, "'%s' is not a port (0-65535)\nusage: %s",
				    c->argv[0], c->kw->usage);
		c->blame = 2;
		if (val_u32(c->argv[1], 0, 65535, &hi))
			return msgf(err, -1, "'%s' is not a port (0-65535)\nusage: %s",
				    c->argv[1], c->kw->usage);
		if (lo > hi)
			return msgf(err, -1, "%s %s %s: the first port is above the second\n"
				    "write the range as low-high", c->kw->name,
				    c->argv[0], c->argv[1]);
		p->lo = (uint16_t)lo;
		p->hi = (uint16_t)hi;
	}
	p->set = 1;
	p->loc = c->argloc[0];
	return 0;
}

/*
 * Jobname: the socket owner's comm.  Linux keeps 15 characters of it
 * (TASK_COMM_LEN 16), so a longer exact name could never match.  Case is
 * kept: comm is case-sensitive, unlike z/OS job names.
 */
static int h_job(struct kw_call *c, char **err)
{
	struct ast_job *j = field(c);
	const char *s = c->argv[0];
	const char *star = strchr(s, '*');
	size_t n = strlen(s);

	c->blame = 1;
	memset(j->pat, 0, sizeof(j->pat));
	j->any = j->prefix = 0;
	if (!strcmp(s, "*")) {
		j->any = 1;
	} else if ((star && star != s + n - 1) || strchr(s, '?') || !n) {
		return msgf(err, -1, "Jobname '%s': only a trailing '*' wildcard is supported\n"
			    "use an exact name, PREFIX* or * alone", s);
	} else if (star) {
		if (n - 1 > ATTLS_COMM_LEN - 1)
			return msgf(err, -1, "Jobname '%s': the prefix is longer than %d characters, the length of a Linux process name\n"
				    "use '%.*s*'", s, ATTLS_COMM_LEN - 1,
				    ATTLS_COMM_LEN - 1, s);
		memcpy(j->pat, s, n - 1);
		j->len = (uint8_t)(n - 1);
		j->prefix = 1;
	} else {
		if (n > ATTLS_COMM_LEN - 1)
			return msgf(err, -1, "Jobname '%s' is longer than %d characters, the length of a Linux process name (comm)\n"
				    "the kernel truncates it: use '%.*s' or '%.*s*'",
				    s, ATTLS_COMM_LEN - 1, ATTLS_COMM_LEN - 1,
				    s, ATTLS_COMM_LEN - 1, s);
		memcpy(j->pat, s, n);
		j->len = (uint8_t)(n + 1);	/* compare the NUL too */
	}
	j->set = 1;
	j->loc = c->argloc[0];
	return 0;
}

/* Userid: "*", a uid, a user name, or "prefix*" (expanded at compile time). */
static int h_user(struct kw_call *c, char **err)
{
	struct ast_user *u = field(c);
	const char *s = c->argv[0];
	const char *star = strchr(s, '*');
	size_t n = strlen(s);

	c->blame = 1;
	memset(u->name, 0, sizeof(u->name));
	if (!strcmp(s, "*")) {
		u->how = AST_USER_ANY;
	} else if ((star && star != s + n - 1) || strchr(s, '?') || !n) {
		return msgf(err, -1, "Userid '%s': only a trailing '*' wildcard is supported\n"
			    "use a user name, a uid, PREFIX* or * alone", s);
	} else if (n - (star ? 1 : 0) > AST_USER_MAX) {
		return msgf(err, -1, "Userid '%s' is longer than %d characters",
			    s, AST_USER_MAX);
	} else if (star) {
		memcpy(u->name, s, n - 1);
		u->how = AST_USER_PREFIX;
	} else if (s[0] >= '0' && s[0] <= '9') {
		/* (uid_t)-1 means "no user" to the kernel: refuse it */
		if (val_u32(s, 0, UINT32_MAX - 1, &u->uid))
			return msgf(err, -1, "Userid '%s' is not a valid uid (0-%u)",
				    s, UINT32_MAX - 1);
		u->how = AST_USER_UID;
	} else {
		memcpy(u->name, s, n);
		u->how = AST_USER_NAME;
	}
	u->set = 1;
	u->loc = c->argloc[0];
	return 0;
}

static int store_str(struct kw_call *c, char **err)
{
	struct ast_str *d = field(c);
	char *s;

	c->blame = 1;
	if (c->kw->hi && strlen(c->argv[0]) > c->kw->hi)
		return msgf(err, -1, "%s is longer than %u characters",
			    c->kw->name, c->kw->hi);
	if (!c->argv[0][0])
		return msgf(err, -1, "%s is empty\nusage: %s", c->kw->name,
			    c->kw->usage);
	s = strdup(c->argv[0]);
	if (!s)
		return msgf(err, -1, "out of memory");
	free(d->s);
	d->s = s;
	d->loc = c->argloc[0];
	return 0;
}

/* CertificateLabel and other plain strings bounded by kw->hi. */
static int h_str(struct kw_call *c, char **err)
{
	return store_str(c, err);
}

/* Keyring: OWNER/RING, RING (the daemon user's ring) or /absolute/path. */
static int h_keyring(struct kw_call *c, char **err)
{
	const char *s = c->argv[0];
	const char *slash = strchr(s, '/');

	c->blame = 1;
	if (!strncasecmp(s, "*TOKEN*/", 8))
		return msgf(err, -1, "Keyring '%s': PKCS #11 tokens are not supported by attls\n"
			    "use OWNER/RING, RING or an absolute path", s);
	if (s[0] != '/' && slash &&
	    (slash == s || !slash[1] || strchr(slash + 1, '/')))
		return msgf(err, -1, "Keyring '%s' is neither OWNER/RING, RING nor an absolute path\n"
			    "write e.g. attls/demo, demo or /etc/attls/keys/demo.p12", s);
	return store_str(c, err);
}

/*
 * The compiled image (struct attls_env_cfg) has no field for key database
 * passwords yet, so the engine cannot use them: say so instead of
 * silently dropping a secret the admin relies on.
 */
static int h_keyring_pw(struct kw_call *c, char **err)
{
	int rc = store_str(c, err);

	if (rc)
		return rc;
	return msgf(err, 1, "KeyringPw is not passed to the TLS engine yet\n"
		    "the key ring must be usable without a password");
}

/* relayd's check_file_secrecy(): a stash file must be private. */
static int h_keyring_stash(struct kw_call *c, char **err)
{
	const char *path = c->argv[0];
	struct stat sb;
	int rc;

	c->blame = 1;
	if (path[0] != '/')
		return msgf(err, -1, "KeyringStashFile '%s' is not an absolute path", path);
	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			return msgf(err, -1, "KeyringStashFile '%s' is not a regular file", path);
		if (sb.st_mode & (S_IRWXG | S_IRWXO))
			return msgf(err, -1, "KeyringStashFile '%s' is accessible by group or others (mode %04o)\n"
				    "run: chmod 600 %s", path,
				    (unsigned)(sb.st_mode & 07777), path);
		if (sb.st_uid != 0 && sb.st_uid != geteuid())
			return msgf(err, -1, "KeyringStashFile '%s' is owned by uid %u, neither root nor the daemon's user",
				    path, (unsigned)sb.st_uid);
	}
	rc = store_str(c, err);
	if (rc)
		return rc;
	return msgf(err, 1, "KeyringStashFile is not passed to the TLS engine yet\n"
		    "the key ring must be usable without a password");
}

static int cipher_add(struct ast_cipher *ci, uint16_t code)
{
	size_t i;

	for (i = 0; i < ci->n; i++) {
		if (ci->suites[i] == code)
			return 0;	/* duplicates keep the first */
	}
	if (ci->n == ci->cap) {
		size_t cap = ci->cap ? 2 * ci->cap : 16;
		uint16_t *v = realloc(ci->suites, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ci->suites = v;
		ci->cap = cap;
	}
	ci->suites[ci->n++] = code;
	return 0;
}

/* Append "item" to a ", "-separated list in buf; truncate with "...". */
static void list_add(char *buf, size_t len, const char *item)
{
	size_t n = strlen(buf);

	if (n + 8 >= len)
		return;
	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", item);
	if (strlen(buf) + 8 >= len)
		strcpy(buf + len - 8, ", ...");
}

/*
 * V3CipherSuites (names or 2-hex codes) and V3CipherSuites4Char (names or
 * 4-hex codes): all lines of one TTLSCipherParms concatenate, duplicates
 * keep their first position, and suites attls cannot or will not use are
 * dropped with one warning naming them, as PAGENT does.
 */
static int h_ciphers(struct kw_call *c, char **err)
{
	struct ast_cipher *ci = field(c);
	unsigned width = c->kw->hi;
	char dropped[512] = "";
	char item[96];
	size_t i;

	if (!ci->given) {
		ci->given = 1;
		ci->loc = c->loc;
	}
	for (i = 0; i < c->argc; i++) {
		const char *s = c->argv[i];
		const struct cipher_info *info;

		if (val_is_hex(s, width))
			info = cipher_by_code((uint16_t)strtoul(s, NULL, 16));
		else
			info = cipher_by_name(s);
		if (!info) {
			snprintf(item, sizeof(item), "%s (unknown)", s);
			list_add(dropped, sizeof(dropped), item);
		} else if (!info->ossl) {
			snprintf(item, sizeof(item), "%s (%s)", s, info->why);
			list_add(dropped, sizeof(dropped), item);
		} else if (cipher_add(ci, info->code)) {
			return msgf(err, -1, "out of memory");
		}
	}
	if (!dropped[0])
		return 0;
	return msgf(err, 1, "%s: dropped unsupported cipher suites: %s\n"
		    "attls uses TLS 1.2/1.3 suites with AES-GCM, AES-CBC or CHACHA20; %s",
		    c->kw->name, dropped,
		    width == 2 ? "4-digit codes go on V3CipherSuites4Char" :
				 "2-digit codes go on V3CipherSuites");
}

/* ------------------------------------------------------------------ */
/* tables                                                             */
/* ------------------------------------------------------------------ */

static const struct kw_enum onoff[] = {
	{ "Off", 0 },
	{ "On", 1 },
	{ NULL, 0 },
};

static const struct kw_enum directions[] = {
	{ "Inbound", ATTLS_RF_INBOUND },
	{ "Outbound", ATTLS_RF_OUTBOUND },
	{ "Both", ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND },
	{ NULL, 0 },
};

static const struct kw_enum roles[] = {
	{ "Server", ATTLS_ROLE_SERVER },
	{ "Client", ATTLS_ROLE_CLIENT },
	{ "ServerWithClientAuth", ATTLS_ROLE_SERVER_CLIENTAUTH },
	{ NULL, 0 },
};

#define F(m)	offsetof(struct ast_stmt, u.m)

#define PARAM(n, h, o, sl, fl, u) \
	{ .name = n, .type = KW_PARAM, .fn = h, .off = o, .slot = sl, \
	  .flags = fl, .min = 1, .max = 1, .usage = u }
#define STR(n, h, o, sl, fl, len, u) \
	{ .name = n, .type = KW_PARAM, .fn = h, .off = o, .slot = sl, \
	  .flags = fl, .min = 1, .max = 1, .hi = len, .usage = u }
#define NUM(n, o, sl, l, h, u) \
	{ .name = n, .type = KW_PARAM, .fn = h_uint, .off = o, .slot = sl, \
	  .min = 1, .max = 1, .lo = l, .hi = h, .usage = u }
#define ENUM(n, o, sl, fl, e, u) \
	{ .name = n, .type = KW_PARAM, .fn = h_enum, .off = o, .slot = sl, \
	  .flags = fl, .min = 1, .max = 1, .enums = e, .usage = u }
#define LEGACY(n, sl) \
	{ .name = n, .type = KW_PARAM, .fn = h_legacy_proto, .slot = sl, \
	  .min = 1, .max = 1, .enums = onoff, .usage = n " Off" }
#define REF(n, o, t, sl, fl) \
	{ .name = n, .type = KW_REF, .fn = h_ref, .off = o, .target = t, \
	  .slot = sl, .flags = fl, .min = 1, .max = 1, .usage = n " name" }
#define BLOCK(n, o, t, sl, fl) \
	{ .name = n, .type = KW_BLOCK, .off = o, .target = t, .slot = sl, \
	  .flags = fl, .min = 0, .max = 1, .usage = n " [name] { ... }" }
#define TODO(n) \
	{ .name = n, .type = KW_TODO, .min = 0, .max = UINT8_MAX }
/* not implemented, but fills a slot: no "missing"/"no condition" noise */
#define TODO_SLOT(n, sl) \
	{ .name = n, .type = KW_TODO, .slot = sl, .min = 0, .max = UINT8_MAX }

#define REQ	KWF_REQUIRED
#define TRACE_MAX	255	/* AT-TLS Trace is a bit mask of 8 levels */
#define LABEL_MAX	(ATTLS_NAME_LEN * 8 - 1)	/* attls_env_cfg.cert_label */
#define KEYRING_MAX	1023	/* IBM: 1-1023 chars; attls_env_cfg.keyring[1024] */

/* Parameter slots: one per field; X, XRef and an inline X share a slot. */
enum { R_LADDR = 1, R_RADDR, R_LPORT, R_RPORT, R_JOB, R_USER, R_DIR, R_PRIO,
       R_GROUP, R_ENV, R_CONN };

static const struct kw rule_kws[] = {
	ENUM("Direction", F(rule.direction), R_DIR, REQ, directions,
	     "Direction Inbound|Outbound|Both"),
	TODO("IpTimeCondition"),
	TODO("IpTimeConditionRef"),
	PARAM("Jobname", h_job, F(rule.job), R_JOB, 0, "Jobname name|PREFIX*|*"),
	PARAM("LocalAddr", h_addr, F(rule.laddr), R_LADDR, 0,
	      "LocalAddr a.b.c.d|ipv6|addr/prefix|addr-addr|All"),
	TODO_SLOT("LocalAddrGroupRef", R_LADDR),
	REF("LocalAddrRef", F(rule.laddr_ref), STMT_IPADDR, R_LADDR, 0),
	TODO_SLOT("LocalAddrSetRef", R_LADDR),
	TODO_SLOT("LocalPortGroupRef", R_LPORT),
	{ .name = "LocalPortRange", .type = KW_PARAM, .fn = h_ports,
	  .off = F(rule.lport), .slot = R_LPORT, .min = 1, .max = 2,
	  .usage = "LocalPortRange n|n-m (0 = any)" },
	REF("LocalPortRangeRef", F(rule.lport_ref), STMT_PORTRANGE, R_LPORT, 0),
	NUM("Priority", F(rule.priority), R_PRIO, 1, 2000000000,
	    "Priority 1-2000000000"),
	PARAM("RemoteAddr", h_addr, F(rule.raddr), R_RADDR, 0,
	      "RemoteAddr a.b.c.d|ipv6|addr/prefix|addr-addr|All"),
	TODO_SLOT("RemoteAddrGroupRef", R_RADDR),
	REF("RemoteAddrRef", F(rule.raddr_ref), STMT_IPADDR, R_RADDR, 0),
	TODO_SLOT("RemoteAddrSetRef", R_RADDR),
	TODO_SLOT("RemotePortGroupRef", R_RPORT),
	{ .name = "RemotePortRange", .type = KW_PARAM, .fn = h_ports,
	  .off = F(rule.rport), .slot = R_RPORT, .min = 1, .max = 2,
	  .usage = "RemotePortRange n|n-m (0 = any)" },
	REF("RemotePortRangeRef", F(rule.rport_ref), STMT_PORTRANGE, R_RPORT, 0),
	REF("TTLSConnectionActionRef", F(rule.conn), STMT_CONN, R_CONN, 0),
	REF("TTLSEnvironmentActionRef", F(rule.env), STMT_ENV, R_ENV, 0),
	REF("TTLSGroupActionRef", F(rule.group), STMT_GROUP, R_GROUP, REQ),
	PARAM("Userid", h_user, F(rule.user), R_USER, 0,
	      "Userid name|uid|PREFIX*|*"),
};

enum { G_ENABLED = 1, G_TRACE, G_UI };

static const struct kw group_kws[] = {
	TODO("CtraceClearText"),
	TODO("FIPS140"),
	NUM("GroupUserInstance", F(group.user_instance), G_UI, 0, UINT32_MAX,
	    "GroupUserInstance n"),
	NUM("Trace", F(group.trace), G_TRACE, 0, TRACE_MAX, "Trace 0-255"),
	ENUM("TTLSEnabled", F(group.enabled), G_ENABLED, REQ, onoff,
	     "TTLSEnabled On|Off"),
	TODO("TTLSGroupAdvancedParms"),
	TODO("TTLSGroupAdvancedParmsRef"),
};

enum { E_ROLE = 1, E_TRACE, E_UI, E_KEYRING, E_ADV, E_CIPHER };

static const struct kw env_kws[] = {
	TODO("CtraceClearText"),
	NUM("EnvironmentUserInstance", F(env.user_instance), E_UI, 0,
	    UINT32_MAX, "EnvironmentUserInstance n"),
	ENUM("HandshakeRole", F(env.role), E_ROLE, REQ, roles,
	     "HandshakeRole Server|Client|ServerWithClientAuth"),
	TODO("SuiteBProfile"),
	NUM("Trace", F(env.trace), E_TRACE, 0, TRACE_MAX, "Trace 0-255"),
	BLOCK("TTLSCipherParms", F(env.cipher), STMT_CIPHER, E_CIPHER, 0),
	REF("TTLSCipherParmsRef", F(env.cipher), STMT_CIPHER, E_CIPHER, 0),
	BLOCK("TTLSEnvironmentAdvancedParms", F(env.adv), STMT_ENV_ADV, E_ADV, 0),
	REF("TTLSEnvironmentAdvancedParmsRef", F(env.adv), STMT_ENV_ADV, E_ADV, 0),
	TODO("TTLSGskAdvancedParms"),
	TODO("TTLSGskAdvancedParmsRef"),
	BLOCK("TTLSKeyringParms", F(env.keyring), STMT_KEYRING, E_KEYRING, REQ),
	REF("TTLSKeyringParmsRef", F(env.keyring), STMT_KEYRING, E_KEYRING, REQ),
	TODO("TTLSSignatureParms"),
	TODO("TTLSSignatureParmsRef"),
};

enum { C_ROLE = 1, C_TRACE, C_UI, C_ADV, C_CIPHER };

static const struct kw conn_kws[] = {
	NUM("ConnectionUserInstance", F(conn.user_instance), C_UI, 0,
	    UINT32_MAX, "ConnectionUserInstance n"),
	TODO("CtraceClearText"),
	ENUM("HandshakeRole", F(conn.role), C_ROLE, 0, roles,
	     "HandshakeRole Server|Client|ServerWithClientAuth"),
	NUM("Trace", F(conn.trace), C_TRACE, 0, TRACE_MAX, "Trace 0-255"),
	BLOCK("TTLSCipherParms", F(conn.cipher), STMT_CIPHER, C_CIPHER, 0),
	REF("TTLSCipherParmsRef", F(conn.cipher), STMT_CIPHER, C_CIPHER, 0),
	BLOCK("TTLSConnectionAdvancedParms", F(conn.adv), STMT_CONN_ADV, C_ADV, 0),
	REF("TTLSConnectionAdvancedParmsRef", F(conn.adv), STMT_CONN_ADV, C_ADV, 0),
	TODO("TTLSSignatureParms"),
	TODO("TTLSSignatureParmsRef"),
};

enum { K_RING = 1, K_PW, K_STASH };

static const struct kw keyring_kws[] = {
	STR("Keyring", h_keyring, F(keyring.keyring), K_RING, REQ,
	    KEYRING_MAX, "Keyring OWNER/RING|RING|/path/to/keydb"),
	STR("KeyringPw", h_keyring_pw, F(keyring.pw), K_PW, 0, 128,
	    "KeyringPw password"),
	STR("KeyringStashFile", h_keyring_stash, F(keyring.stash), K_STASH, 0,
	    KEYRING_MAX, "KeyringStashFile /path/to/stash"),
};

enum { A_TLS12 = 1, A_TLS13, A_TLS1, A_TLS11, A_SSL2, A_SSL3, A_TIMEOUT,
       A_LABEL };

#define ADV_LABEL \
	STR("CertificateLabel", h_str, F(adv.label), A_LABEL, 0, LABEL_MAX, \
	    "CertificateLabel label")
#define ADV_TIMEOUT \
	NUM("HandshakeTimeout", F(adv.timeout), A_TIMEOUT, 0, 600, \
	    "HandshakeTimeout 0-600 (seconds)")
#define ADV_PROTOCOLS \
	LEGACY("SSLv2", A_SSL2), \
	LEGACY("SSLv3", A_SSL3), \
	LEGACY("TLSv1", A_TLS1), \
	LEGACY("TLSv1.1", A_TLS11), \
	ENUM("TLSv1.2", F(adv.tls12), A_TLS12, 0, onoff, "TLSv1.2 On|Off"), \
	ENUM("TLSv1.3", F(adv.tls13), A_TLS13, 0, onoff, "TLSv1.3 On|Off")

static const struct kw env_adv_kws[] = {
	TODO("3DesKeyCheck"),
	TODO("ApplicationControlled"),
	ADV_LABEL,
	TODO("CertValidationMode"),
	TODO("ClientAuthType"),
	TODO("ClientEDHGroupSize"),
	TODO("ClientExtendedMasterSecret"),
	TODO("ClientHandshakeSNI"),
	TODO("ClientHandshakeSNIList"),
	TODO("ClientHandshakeSNIMatch"),
	TODO("ClientMaxSSLFragment"),
	TODO("ClientMaxSSLFragmentLength"),
	ADV_TIMEOUT,
	TODO("HostReferenceIdCN"),
	TODO("HostReferenceIdDNS"),
	TODO("HostRefWildcardValidation"),
	TODO("MiddleBoxCompatMode"),
	TODO("PeerMinCertVersion"),
	TODO("PeerMinDHKeySize"),
	TODO("PeerMinDsaKeySize"),
	TODO("PeerMinECCKeySize"),
	TODO("PeerMinRsaKeySize"),
	TODO("Renegotiation"),
	TODO("RenegotiationCertCheck"),
	TODO("RenegotiationIndicator"),
	TODO("ResetCipherTimer"),
	TODO("SecondaryMap"),
	TODO("ServerCertificateLabel"),
	TODO("ServerEDHGroupSize"),
	TODO("ServerExtendedMasterSecret"),
	TODO("ServerHandshakeSNI"),
	TODO("ServerHandshakeSNIList"),
	TODO("ServerHandshakeSNIMatch"),
	TODO("ServerMaxSSLFragment"),
	TODO("ServerScsv"),
	ADV_PROTOCOLS,
	TODO("TruncatedHMAC"),
};

/* The connection form: a subset, no defaults (unset = inherit). */
static const struct kw conn_adv_kws[] = {
	TODO("ApplicationControlled"),
	ADV_LABEL,
	TODO("ClientHandshakeSNI"),
	TODO("ClientHandshakeSNIList"),
	TODO("ClientHandshakeSNIMatch"),
	TODO("ClientMaxSSLFragment"),
	TODO("ClientMaxSSLFragmentLength"),
	ADV_TIMEOUT,
	TODO("MiddleBoxCompatMode"),
	TODO("ResetCipherTimer"),
	TODO("SecondaryMap"),
	TODO("ServerHandshakeSNI"),
	TODO("ServerHandshakeSNIList"),
	TODO("ServerHandshakeSNIMatch"),
	TODO("ServerMaxSSLFragment"),
	ADV_PROTOCOLS,
	TODO("TruncatedHMAC"),
};

static const struct kw cipher_kws[] = {
	{ .name = "V2CipherSuites", .type = KW_PARAM, .fn = h_sslv2_ciphers,
	  .min = 1, .max = UINT8_MAX, .usage = "V2CipherSuites codes" },
	{ .name = "V3CipherSuites", .type = KW_PARAM, .fn = h_ciphers,
	  .off = F(cipher), .flags = KWF_CONCAT, .min = 1, .max = UINT8_MAX,
	  .hi = 2, .usage = "V3CipherSuites NAME|hh ..." },
	{ .name = "V3CipherSuites4Char", .type = KW_PARAM, .fn = h_ciphers,
	  .off = F(cipher), .flags = KWF_CONCAT, .min = 1, .max = UINT8_MAX,
	  .hi = 4, .usage = "V3CipherSuites4Char NAME|hhhh ..." },
};

static const struct kw portrange_kws[] = {
	{ .name = "Port", .type = KW_PARAM, .fn = h_ports,
	  .off = F(portrange.port), .slot = 1, .flags = REQ, .min = 1,
	  .max = 2, .usage = "Port n|n-m" },
};

static const struct kw ipaddr_kws[] = {
	PARAM("Addr", h_addr, F(ipaddr.addr), 1, REQ,
	      "Addr a.b.c.d|ipv6|addr/prefix|addr-addr"),
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define STMT(n, k, t)	{ n, k, t, N(t) }
#define STMT_TODO(n)	{ n, STMT_NONE, NULL, 0 }

/* Top-level statements, sorted case-insensitively. */
static const struct stmt_desc stmts[] = {
	STMT("IpAddr", STMT_IPADDR, ipaddr_kws),
	STMT_TODO("IpAddrGroup"),
	STMT_TODO("IpAddrSet"),
	STMT_TODO("IpTimeCondition"),
	STMT_TODO("PortGroup"),
	STMT("PortRange", STMT_PORTRANGE, portrange_kws),
	STMT("TTLSCipherParms", STMT_CIPHER, cipher_kws),
	STMT("TTLSConnectionAction", STMT_CONN, conn_kws),
	STMT("TTLSConnectionAdvancedParms", STMT_CONN_ADV, conn_adv_kws),
	STMT("TTLSEnvironmentAction", STMT_ENV, env_kws),
	STMT("TTLSEnvironmentAdvancedParms", STMT_ENV_ADV, env_adv_kws),
	STMT("TTLSGroupAction", STMT_GROUP, group_kws),
	STMT_TODO("TTLSGroupAdvancedParms"),
	STMT_TODO("TTLSGskAdvancedParms"),
	STMT_TODO("TTLSGskHttpCdpParms"),
	STMT_TODO("TTLSGskLdapParms"),
	STMT_TODO("TTLSGskOcspParms"),
	STMT("TTLSKeyringParms", STMT_KEYRING, keyring_kws),
	STMT("TTLSRule", STMT_RULE, rule_kws),
	STMT_TODO("TTLSSignatureParms"),
};

/* ------------------------------------------------------------------ */
/* lookups                                                            */
/* ------------------------------------------------------------------ */

static int cmp_stmt(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct stmt_desc *)elem)->name);
}

static int cmp_kw(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct kw *)elem)->name);
}

const struct stmt_desc *stmt_lookup(const char *name)
{
	return bsearch(name, stmts, N(stmts), sizeof(stmts[0]), cmp_stmt);
}

const struct stmt_desc *stmt_desc_of(enum stmt_kind kind)
{
	size_t i;

	for (i = 0; i < N(stmts); i++) {
		if (stmts[i].kind == kind && kind != STMT_NONE)
			return &stmts[i];
	}
	return NULL;
}

const char *stmt_kind_name(enum stmt_kind kind)
{
	const struct stmt_desc *d = stmt_desc_of(kind);

	return d ? d->name : "statement";
}

const struct kw *kw_lookup(const struct stmt_desc *d, const char *name)
{
	if (!d->kws)
		return NULL;
	return bsearch(name, d->kws, d->nkws, sizeof(d->kws[0]), cmp_kw);
}

const char *kw_suggest(const struct stmt_desc *d, const char *word)
{
	struct suggest s;
	size_t i;

	suggest_init(&s, word);
	for (i = 0; i < d->nkws; i++)
		suggest_try(&s, d->kws[i].name);
	return suggest_best(&s);
}

const char *stmt_suggest(const char *word)
{
	struct suggest s;
	size_t i;

	suggest_init(&s, word);
	for (i = 0; i < N(stmts); i++)
		suggest_try(&s, stmts[i].name);
	return suggest_best(&s);
}

const struct stmt_desc *kw_owner(const char *word)
{
	size_t i;

	for (i = 0; i < N(stmts); i++) {
		if (stmts[i].kws && kw_lookup(&stmts[i], word))
			return &stmts[i];
	}
	return NULL;
}

int stmt_is_toplevel_only(const char *word)
{
	const struct stmt_desc *d = stmt_lookup(word);

	/* AT-TLS nests parms, addresses and ports, never rules or actions */
	return d && (d->kind == STMT_RULE || d->kind == STMT_GROUP ||
		     d->kind == STMT_ENV || d->kind == STMT_CONN);
}

const struct stmt_desc *stmt_table(size_t *n)
{
	*n = N(stmts);
	return stmts;
}
