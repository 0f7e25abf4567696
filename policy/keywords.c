// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * keywords.c - the AT-TLS statements and parameters attls understands.
 *
 * Adding a parameter: a field in ast-t.h, one line in the statement's
 * table below (kept sorted, case-insensitively: a unit test checks it),
 * and its use in compile.c.  A parameter that only means something on
 * z/OS is an IGN*() line: validated, then ignored with a warning that
 * says why, so a real z/OS policy loads.  TODO() would list valid AT-TLS
 * that attls has no answer for yet ("not supported yet", an error).
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
#include "sigparms.h"
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

struct ast_reflist *kw_reflist_of(struct ast_stmt *st, const struct kw *kw)
{
	return (struct ast_reflist *)((char *)st + kw->off);
}

struct ast_ref *kw_ref_new(struct ast_stmt *st, const struct kw *kw)
{
	struct ast_reflist *l;
	struct ast_ref *r;

	if (!(kw->flags & KWF_LIST)) {
		r = kw_ref_of(st, kw);
	} else {
		l = kw_reflist_of(st, kw);
		if (vec_grow(&l->v, &l->cap, l->n, sizeof(*l->v)))
			return NULL;
		r = &l->v[l->n++];
	}
	memset(r, 0, sizeof(*r));
	return r;
}

/* "X is ignored on Linux: why" for a keyword with kw->why (a warning). */
static int ignored_msg(struct kw_call *c, char **err)
{
	c->blame = 0;
	return msgf(err, 1, "%s is ignored on Linux: %s", c->kw->name,
		    c->kw->why);
}

/* `...Ref name` */
static int h_ref(struct kw_call *c, char **err)
{
	struct ast_ref *r;
	int rc;

	c->blame = 1;
	rc = kw_check_name(c->argv[0], err);
	if (rc)
		return rc;
	r = kw_ref_new(c->st, c->kw);
	if (!r)
		return msgf(err, -1, "out of memory");
	r->set = 1;
	strcpy(r->name, c->argv[0]);
	r->loc = c->argloc[0];
	r->kw = c->kw;
	return c->kw->why ? ignored_msg(c, err) : 0;
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

/* CertificateLabel, KeyringPw and other plain strings bounded by kw->hi. */
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



/* relayd's check_file_secrecy(): a stash file must be private. */
static int h_keyring_stash(struct kw_call *c, char **err)
{
	const char *path = c->argv[0];
	struct stat sb;

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
	return store_str(c, err);
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

#define KEYRING_PATH_MAX	1023	/* file names in policies: 1-1023 chars */

/*
 * A parameter attls ignores (z/OS only): the value is checked like any
 * other -- against kw->enums, or against lo..hi when hi is set -- and a
 * warning says why it has no effect.  Enum values 0 ("Off", "Any") and the
 * number 0 ask for nothing attls does not do anyway: accepted silently.
 */
static int h_ignored(struct kw_call *c, char **err)
{
	const struct kw *kw = c->kw;
	uint32_t v = 1;
	int rc;

	if (kw->enums) {
		rc = enum_value(c, &v, err);
		if (rc)
			return rc;
	} else if (kw->hi) {
		c->blame = 1;
		rc = val_u32(c->argv[0], kw->lo, kw->hi, &v);
		if (rc == -EINVAL)
			return msgf(err, -1, "'%s' is not a number\nusage: %s",
				    c->argv[0], kw->usage);
		if (rc)
			return msgf(err, -1, "%s %s is out of range %u-%u",
				    kw->name, c->argv[0], kw->lo, kw->hi);
	}
	if (!v || !kw->why)
		return 0;
	return ignored_msg(c, err);
}

/* Append a string (bounded by kw->hi) to the struct ast_strlist field. */
static int strlist_add(struct kw_call *c, size_t i, char **err)
{
	struct ast_strlist *l = field(c);
	char *s;

	c->blame = 1 + i;
	if (strlen(c->argv[i]) > c->kw->hi)
		return msgf(err, -1, "%s '%.40s...' is longer than %u characters",
			    c->kw->name, c->argv[i], c->kw->hi);
	if (!c->argv[i][0])
		return msgf(err, -1, "%s: empty value\nusage: %s", c->kw->name,
			    c->kw->usage);
	if (vec_grow(&l->v, &l->cap, l->n, sizeof(*l->v)))
		return msgf(err, -1, "out of memory");
	s = strdup(c->argv[i]);
	if (!s)
		return msgf(err, -1, "out of memory");
	l->v[l->n].s = s;
	l->v[l->n].loc = c->argloc[i];
	l->n++;
	return 0;
}

/* ServerCertificateLabel label...: at most ATTLS_MAX_SERVER_LABELS in all. */
static int h_server_labels(struct kw_call *c, char **err)
{
	struct ast_strlist *l = field(c);
	size_t i;
	int rc;

	for (i = 0; i < c->argc; i++) {
		if (l->n == ATTLS_MAX_SERVER_LABELS) {
			c->blame = 1 + i;
			return msgf(err, -1, "more than %d ServerCertificateLabel labels\n"
				    "a server chooses among at most %d certificates",
				    ATTLS_MAX_SERVER_LABELS, ATTLS_MAX_SERVER_LABELS);
		}
		rc = strlist_add(c, i, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ClientHandshakeSNIList host...: TLS sends one host name. */
static int h_client_sni_list(struct kw_call *c, char **err)
{
	struct ast_strlist *l = field(c);
	size_t i;
	int rc;

	for (i = 0; i < c->argc; i++) {
		c->blame = 1 + i;
		if (val_hostname(c->argv[i], 0))
			return msgf(err, -1, "ClientHandshakeSNIList: '%s' is not a host name\n"
				    "give the DNS name the server knows itself by, e.g. www.example.com",
				    c->argv[i]);
		rc = strlist_add(c, i, err);
		if (rc)
			return rc;
	}
	if (l->n > 1) {
		c->blame = 2;
		return msgf(err, 1, "ClientHandshakeSNIList: only the first name, %s, is sent\n"
			    "TLS carries one host name per handshake (RFC 6066)",
			    l->v[0].s);
	}
	return 0;
}

/*
 * ServerHandshakeSNIList label:host...: certificate label for an SNI host
 * name.  Host names hold no ':', so the last ':' splits the pair.
 */
static int h_server_sni_list(struct kw_call *c, char **err)
{
	struct ast_strlist *l = field(c);
	const char *colon;
	size_t i;
	int rc;

	for (i = 0; i < c->argc; i++) {
		const char *s = c->argv[i];

		c->blame = 1 + i;
		colon = strrchr(s, ':');
		if (!colon || colon == s || val_hostname(colon + 1, 1))
			return msgf(err, -1, "ServerHandshakeSNIList: '%s' is not label:hostname\n"
				    "write the certificate label, ':' and the SNI host name, e.g. webCert:www.example.com",
				    s);
		if ((size_t)(colon - s) > ATTLS_LABEL_LEN - 1)
			return msgf(err, -1, "ServerHandshakeSNIList: the label of '%.40s...' is longer than %d characters",
				    s, ATTLS_LABEL_LEN - 1);
		if (l->n == ATTLS_MAX_SNI)
			return msgf(err, -1, "more than %d ServerHandshakeSNIList pairs",
				    ATTLS_MAX_SNI);
		rc = strlist_add(c, i, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* HostReferenceIdDNS: the DNS name the partner's certificate must carry. */
static int h_hostname(struct kw_call *c, char **err)
{
	c->blame = 1;
	if (val_hostname(c->argv[0], 0))
		return msgf(err, -1, "%s: '%s' is not a host name\nusage: %s",
			    c->kw->name, c->argv[0], c->kw->usage);
	return store_str(c, err);
}

/* IpAddrSet Addr (kw->hi 0), Prefix (1) and Range (2) lines. */
enum { ADDR_ANY, ADDR_PREFIX, ADDR_RANGE };

static int h_addr_list(struct kw_call *c, char **err)
{
	struct ast_addrlist *l = field(c);
	const char *s = c->argv[0];
	struct ast_addr a;
	int rc;

	c->blame = 1;
	if (c->kw->hi == ADDR_PREFIX && !strchr(s, '/'))
		return msgf(err, -1, "Prefix '%s' is not addr/prefixLength\n"
			    "write e.g. 10.0.0.0/8; single addresses go on Addr, ranges on Range", s);
	if (c->kw->hi == ADDR_RANGE && (!strchr(s, '-') || strchr(s, '/')))
		return msgf(err, -1, "Range '%s' is not addr-addr\n"
			    "write e.g. 10.1.1.1-10.1.1.20; prefixes go on Prefix", s);
	memset(&a, 0, sizeof(a));
	rc = val_addr(s, &a, err);
	if (rc < 0)
		return rc;
	if (c->kw->hi != ADDR_ANY && a.all)
		return msgf(err, -1, "'All' is not a %s\nuse Addr All", c->kw->name);
	a.set = 1;
	a.loc = c->argloc[0];
	if (vec_grow(&l->v, &l->cap, l->n, sizeof(*l->v))) {
		free(*err);
		return msgf(err, -1, "out of memory");
	}
	l->v[l->n++] = a;
	return rc;
}

static int codes_add(struct ast_codes *l, uint16_t code)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i] == code)
			return 0;	/* duplicates keep the first */
	}
	if (vec_grow(&l->v, &l->cap, l->n, sizeof(*l->v)))
		return -ENOMEM;
	l->v[l->n++] = code;
	return 0;
}

/*
 * "Any" or "Default" (`word`; NULL for SignaturePairs, which knows only
 * "Default") alone: the library's default list.  Returns 1 when the line
 * is that, 0 when it is a list of codes, <0 for "Any" among codes.
 */
static int codes_any(struct kw_call *c, struct ast_codes *l, const char *word,
		     char **err)
{
	size_t i;

	for (i = 0; i < c->argc; i++) {
		const char *s = c->argv[i];

		if (strcasecmp(s, "Default") && (!word || strcasecmp(s, word)))
			continue;
		if (c->argc > 1 || l->n) {
			c->blame = 1 + i;
			return msgf(err, -1, "%s %s must be alone\n"
				    "list codes, or write only %s %s for the default list",
				    c->kw->name, s, c->kw->name, s);
		}
		l->any = 1;
		return 1;
	}
	return 0;
}

static int codes_start(struct kw_call *c, struct ast_codes *l, char **err)
{
	if (l->any) {
		c->blame = 0;
		return msgf(err, -1, "%s: an earlier line already says Any/Default\n"
			    "list codes, or write only %s Any", c->kw->name,
			    c->kw->name);
	}
	if (!l->given) {
		l->given = 1;
		l->loc = c->loc;
	}
	return 0;
}

/*
 * A TLS group as z/OS writes it -- 4 decimal digits, the IANA number
 * (0023 = secp256r1) -- else as 4 IANA hex digits (0017 = secp256r1; *hex
 * set so the caller can point at the z/OS spelling), else by name.
 */
static const struct tls_code_info *decode_group(const char *s, int *hex)
{
	const struct tls_code_info *g;
	uint32_t v;

	*hex = 0;
	if (strlen(s) == 4 && !val_u32(s, 0, 9999, &v)) {
		g = group_by_code((uint16_t)v);
		if (g)
			return g;
	}
	if (val_is_hex(s, 4)) {
		g = group_by_code((uint16_t)strtoul(s, NULL, 16));
		*hex = g != NULL;
		return g;
	}
	return group_by_name(s);
}

/*
 * ClientECurves, ClientKeyShareGroups, ServerKexECurves,
 * ServerKeyShareGroups: lines concatenate; unknown and refused groups are
 * dropped with one warning, and codes read as IANA hex are named.
 */
static int h_groups(struct kw_call *c, char **err)
{
	struct ast_codes *l = field(c);
	char dropped[512] = "", hexed[512] = "", item[96];
	const struct tls_code_info *g;
	size_t i;
	int rc, hex;

	rc = codes_start(c, l, err);
	if (!rc)
		rc = codes_any(c, l, "Any", err);
	if (rc)
		return rc < 0 ? rc : 0;
	for (i = 0; i < c->argc; i++) {
		g = decode_group(c->argv[i], &hex);
		if (!g) {
			snprintf(item, sizeof(item), "%s (unknown)", c->argv[i]);
			list_add(dropped, sizeof(dropped), item);
			continue;
		}
		if (hex) {
			snprintf(item, sizeof(item), "%s = %s, z/OS code %04u",
				 c->argv[i], g->iana, g->code);
			list_add(hexed, sizeof(hexed), item);
		}
		if (!g->ossl) {
			snprintf(item, sizeof(item), "%s (%s: %s)", c->argv[i],
				 g->iana, g->why);
			list_add(dropped, sizeof(dropped), item);
		} else if (codes_add(l, g->code)) {
			return msgf(err, -1, "out of memory");
		}
	}
	c->blame = 0;
	if (!dropped[0] && !hexed[0])
		return 0;
	return msgf(err, 1, "%s: %s%s%s%s%s\n"
		    "z/OS writes groups as 4-digit decimal IANA numbers: 0023 secp256r1, 0024 secp384r1, 0025 secp521r1, 0029 x25519, 0030 x448",
		    c->kw->name, dropped[0] ? "dropped unsupported groups: " : "",
		    dropped, dropped[0] && hexed[0] ? "; " : "",
		    hexed[0] ? "read as IANA hex codes: " : "", hexed);
}

/*
 * SignaturePairs (and SignaturePairsCert, which has kw->why): 4-hex-digit
 * IANA SignatureScheme codes (0401 = RSA+SHA256) or names.
 */
static int h_sigalgs(struct kw_call *c, char **err)
{
	struct ast_codes *l = field(c);
	const struct tls_code_info *a;
	char dropped[512] = "", item[96];
	size_t i;
	int rc;

	rc = codes_start(c, l, err);
	if (!rc)
		rc = codes_any(c, l, NULL, err);
	if (rc)
		return rc < 0 ? rc : 0;
	for (i = 0; i < c->argc; i++) {
		const char *s = c->argv[i];

		a = val_is_hex(s, 4) ? sigalg_by_code((uint16_t)strtoul(s, NULL, 16)) :
				       sigalg_by_name(s);
		if (!a) {
			snprintf(item, sizeof(item), "%s (unknown)", s);
			list_add(dropped, sizeof(dropped), item);
		} else if (!a->ossl) {
			snprintf(item, sizeof(item), "%s (%s: %s)", s, a->iana,
				 a->why);
			list_add(dropped, sizeof(dropped), item);
		} else if (codes_add(l, a->code)) {
			return msgf(err, -1, "out of memory");
		}
	}
	if (dropped[0]) {
		c->blame = 0;
		return msgf(err, 1, "%s: dropped unsupported signature pairs: %s\n"
			    "write 4-hex-digit codes such as 0401 (RSA+SHA256), 0403 (ECDSA+SHA256), 0804 (rsa_pss_rsae_sha256), 0807 (ed25519)",
			    c->kw->name, dropped);
	}
	return c->kw->why ? ignored_msg(c, err) : 0;
}

/* ---- IpTimeCondition ---- */

/* "A:B", "A-B", "A/B" or the two values A B: split into a[] and b[]. */
static int split_pair(struct kw_call *c, const char *seps, char *a, char *b,
		      size_t len)
{
	const char *sep;

	if (c->argc == 2) {
		snprintf(a, len, "%s", c->argv[0]);
		snprintf(b, len, "%s", c->argv[1]);
		return strlen(c->argv[0]) < len && strlen(c->argv[1]) < len ? 0 : -1;
	}
	sep = strpbrk(c->argv[0], seps);
	if (!sep || (size_t)(sep - c->argv[0]) >= len || strlen(sep + 1) >= len)
		return -1;
	memcpy(a, c->argv[0], (size_t)(sep - c->argv[0]));
	a[sep - c->argv[0]] = '\0';
	strcpy(b, sep + 1);
	return 0;
}

/* ConditionTimeRange start:end (YYYYMMDD[hhmmss]), inclusive. */
static int h_time_range(struct kw_call *c, char **err)
{
	struct ast_time *t = field(c);
	char a[32], b[32];
	uint64_t start, end;

	c->blame = 1;
	if (split_pair(c, ":-/", a, b, sizeof(a)) ||
	    val_datetime(a, 0, &start) || val_datetime(b, 1, &end))
		return msgf(err, -1, "ConditionTimeRange '%s%s%s' is not start:end\n"
			    "write YYYYMMDDhhmmss:YYYYMMDDhhmmss or YYYYMMDD:YYYYMMDD, e.g. 20260101000000:20261231235959",
			    c->argv[0], c->argc > 1 ? " " : "",
			    c->argc > 1 ? c->argv[1] : "");
	if (start > end)
		return msgf(err, -1, "ConditionTimeRange: the start is after the end\n"
			    "write the earlier time first");
	t->range.set = 1;
	t->range.loc = c->argloc[0];
	t->start = start;
	t->end = end;
	return 0;
}

/* TimeOfDayRange hh:mm[:ss]-hh:mm[:ss]; the end may be 24:00. */
static int h_tod_range(struct kw_call *c, char **err)
{
	struct ast_time *t = field(c);
	uint32_t from, to;
	char a[32], b[32];

	c->blame = 1;
	if (split_pair(c, "-", a, b, sizeof(a)) || val_tod(a, 0, &from) ||
	    val_tod(b, 1, &to))
		return msgf(err, -1, "TimeOfDayRange '%s%s%s' is not hh:mm-hh:mm\n"
			    "write e.g. 08:00-17:30; a range like 22:00-06:00 wraps midnight",
			    c->argv[0], c->argc > 1 ? " " : "",
			    c->argc > 1 ? c->argv[1] : "");
	if (from == to)
		return msgf(err, -1, "TimeOfDayRange %s is empty\n"
			    "use 00:00-24:00 for the whole day", c->argv[0]);
	t->tod.set = 1;
	t->tod.loc = c->argloc[0];
	t->tod_from.set = t->tod_to.set = 1;
	t->tod_from.v = from;
	t->tod_to.v = to == 86400 && !from ? 86400 : to % 86400;
	t->tod_from.loc = t->tod_to.loc = c->argloc[0];
	return 0;
}

/* FromTimeOfDay / ToTimeOfDay hh:mm[:ss] into an ast_val (kw->hi: is "To"). */
static int h_tod(struct kw_call *c, char **err)
{
	struct ast_val *v = field(c);
	uint32_t secs;

	c->blame = 1;
	if (val_tod(c->argv[0], c->kw->hi, &secs))
		return msgf(err, -1, "%s '%s' is not a time of day\nusage: %s",
			    c->kw->name, c->argv[0], c->kw->usage);
	v->set = 1;
	v->v = secs;
	v->loc = c->argloc[0];
	return 0;
}

/* DayOfWeekMask (7) / MonthOfYearMask (12): kw->hi characters of 0/1. */
static int h_mask(struct kw_call *c, char **err)
{
	struct ast_val *v = field(c);
	uint64_t bits;

	c->blame = 1;
	if (val_mask(c->argv[0], c->kw->hi, &bits))
		return msgf(err, -1, "%s '%s' is not %u digits 0 or 1\nusage: %s",
			    c->kw->name, c->argv[0], c->kw->hi, c->kw->usage);
	if (!bits)
		return msgf(err, -1, "%s %s selects nothing, so the rule would never apply",
			    c->kw->name, c->argv[0]);
	v->set = 1;
	v->v = (uint32_t)bits;
	v->loc = c->argloc[0];
	return 0;
}

/* DayOfMonthMask: 31 digits (days 1-31), or 62 (then 31 from the end). */
static int h_dom_mask(struct kw_call *c, char **err)
{
	struct ast_time *t = field(c);
	size_t n = strlen(c->argv[0]);
	uint64_t bits;

	c->blame = 1;
	if ((n != 31 && n != 62) || val_mask(c->argv[0], n, &bits))
		return msgf(err, -1, "DayOfMonthMask is not 31 or 62 digits 0 or 1\nusage: %s",
			    c->kw->usage);
	if (!bits)
		return msgf(err, -1, "DayOfMonthMask selects no day, so the rule would never apply");
	t->dom.set = 1;
	t->dom.v = (uint32_t)(bits & 0x7fffffffu);
	t->dom.loc = c->argloc[0];
	t->dom_last = (uint32_t)(bits >> 31);
	return 0;
}

static int h_weekday(struct kw_call *c, char **err)
{
	struct ast_val *v = field(c);
	int d = val_weekday(c->argv[0]);

	c->blame = 1;
	if (d < 0)
		return msgf(err, -1, "%s '%s' is not a day of the week\nusage: %s",
			    c->kw->name, c->argv[0], c->kw->usage);
	v->set = 1;
	v->v = (uint32_t)d;
	v->loc = c->argloc[0];
	return 0;
}

static int h_month(struct kw_call *c, char **err)
{
	struct ast_val *v = field(c);
	int m = val_month(c->argv[0]);

	c->blame = 1;
	if (m < 0)
		return msgf(err, -1, "%s '%s' is not a month\nusage: %s",
			    c->kw->name, c->argv[0], c->kw->usage);
	v->set = 1;
	v->v = (uint32_t)m;
	v->loc = c->argloc[0];
	return 0;
}

/* ---- PAGENT configuration statements ---- */

/*
 * FLUSH/NOFLUSH/PURGE/NOPURGE and a refresh interval from argv[i]... into
 * one warning (they do not apply to attls).  -1 on an unknown word.
 */
static int cfg_options(struct kw_call *c, size_t i, int interval, char **err)
{
	char list[160] = "";
	size_t first = 0;
	uint32_t secs;

	for (; i < c->argc; i++) {
		const char *s = c->argv[i];

		if (!strcasecmp(s, "FLUSH") || !strcasecmp(s, "NOFLUSH") ||
		    !strcasecmp(s, "PURGE") || !strcasecmp(s, "NOPURGE") ||
		    (interval && !val_u32(s, 0, UINT32_MAX, &secs))) {
			list_add(list, sizeof(list), s);
			if (!first)
				first = i + 1;
			continue;
		}
		c->blame = i + 1;
		return msgf(err, -1, "unexpected '%s'\nusage: %s", s,
			    c->kw->usage);
	}
	if (!list[0])
		return 0;
	c->blame = first;
	return msgf(err, 1, "%s ignored: attls replaces the whole policy atomically on every load, and reloads on SIGHUP or attlsctl policy reload\n"
		    "remove %s", list, strchr(list, ',') ? "them" : "it");
}

/* A file name of a configuration statement: a Linux path, not an MVS name. */
static int cfg_path(struct kw_call *c, size_t i, char **err)
{
	struct ast_str *d = &c->st->u.cfg.path;

	c->blame = i + 1;
	if (!strncmp(c->argv[i], "//", 2))
		return msgf(err, -1, "'%s' is an MVS data set name\n"
			    "MVS data sets do not exist on Linux: copy the file and name its path",
			    c->argv[i]);
	if (strlen(c->argv[i]) > KEYRING_PATH_MAX)
		return msgf(err, -1, "the file name is longer than %d characters",
			    KEYRING_PATH_MAX);
	d->s = strdup(c->argv[i]);
	if (!d->s)
		return msgf(err, -1, "out of memory");
	d->loc = c->argloc[i];
	return 0;
}

/* A word that cannot be a file name of TcpImage / TTLSConfig. */
static int cfg_is_option(const char *s)
{
	uint32_t v;

	return !strcasecmp(s, "FLUSH") || !strcasecmp(s, "NOFLUSH") ||
	       !strcasecmp(s, "PURGE") || !strcasecmp(s, "NOPURGE") ||
	       !val_u32(s, 0, UINT32_MAX, &v);
}

/* TcpImage stack [imagefile] [FLUSH|NOFLUSH] [PURGE|NOPURGE] [seconds] */
static int h_tcpimage(struct kw_call *c, char **err)
{
	struct ast_cfg *cfg = &c->st->u.cfg;
	size_t i = 1;
	int rc;

	c->blame = 1;
	if (kw_check_name(c->argv[0], err))
		return -1;
	strcpy(cfg->stack, c->argv[0]);
	if (i < c->argc && !cfg_is_option(c->argv[i])) {
		rc = cfg_path(c, i, err);
		if (rc)
			return rc;
		i++;
	}
	return cfg_options(c, i, 1, err);
}

/* TTLSConfig [file] [FLUSH|NOFLUSH] [PURGE|NOPURGE] */
static int h_ttlsconfig(struct kw_call *c, char **err)
{
	size_t i = 0;
	int rc;

	if (c->argc && !cfg_is_option(c->argv[0])) {
		rc = cfg_path(c, 0, err);
		if (rc)
			return rc;
		i = 1;
	}
	return cfg_options(c, i, 0, err);
}

/* CommonTTLSConfig file [FLUSH|NOFLUSH] [PURGE|NOPURGE] */
static int h_common_ttls(struct kw_call *c, char **err)
{
	int rc = cfg_path(c, 0, err);

	if (rc)
		return rc;
	return cfg_options(c, 1, 0, err);
}

/* IPSecConfig, LogLevel ...: PAGENT statements of other disciplines. */
static int h_pagent_other(struct kw_call *c, char **err)
{
	c->blame = 0;
	return msgf(err, 1, "ignored: attls implements only AT-TLS policy (TcpImage, CommonTTLSConfig, TTLSConfig)");
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

static const struct kw_enum client_auth[] = {
	{ "Required", ATTLS_CLIENT_AUTH_REQUIRED },
	{ "PassThru", ATTLS_CLIENT_AUTH_PASSTHRU },
	{ "Full", ATTLS_CLIENT_AUTH_FULL },
	{ "SAFCheck", ATTLS_CLIENT_AUTH_SAFCHECK },
	{ NULL, 0 },
};

static const struct kw_enum tls_fn[] = {
	{ "Off", ATTLS_FN_OFF },
	{ "Optional", ATTLS_FN_OPTIONAL },
	{ "Required", ATTLS_FN_REQUIRED },
	{ NULL, 0 },
};

static const struct kw_enum app_protocols[] = {
	{ "None", ATTLS_APP_NONE },
	{ "FTP", ATTLS_APP_FTP },
	{ NULL, 0 },
};

static const struct kw_enum sni_match[] = {
	{ "Optional", ATTLS_FN_OPTIONAL },
	{ "Required", ATTLS_FN_REQUIRED },
	{ NULL, 0 },
};

static const struct kw_enum facilities[] = {
	{ "Daemon", ATTLS_FACILITY_DAEMON },
	{ "Auth", ATTLS_FACILITY_AUTH },
	{ NULL, 0 },
};

static const struct kw_enum timezones[] = {
	{ "Local", 0 },
	{ "UTC", 1 },
	{ NULL, 0 },
};

/*
 * Values of ignored parameters: 0 = what attls does anyway (accepted
 * silently), 1 = asks for something attls does not do (warning).
 */
static const struct kw_enum ign_on[] = {		/* On is what we do */
	{ "Off", 1 },
	{ "On", 0 },
	{ NULL, 0 },
};

static const struct kw_enum ign_fn[] = {
	{ "Off", 0 },
	{ "Optional", 1 },
	{ "Required", 1 },
	{ NULL, 0 },
};

static const struct kw_enum ign_ems[] = {
	{ "On", 0 },
	{ "Off", 1 },
	{ "Required", 1 },
	{ NULL, 0 },
};

static const struct kw_enum ign_fips[] = {
	{ "Off", 0 },
	{ "On", 1 },
	{ "Level1", 1 },
	{ "Level2", 1 },
	{ "Level3", 1 },
	{ NULL, 0 },
};

static const struct kw_enum ign_suiteb[] = {
	{ "Off", 0 },
	{ "128", 1 },
	{ "128Min", 1 },
	{ "192", 1 },
	{ "192Min", 1 },
	{ "All", 1 },
	{ NULL, 0 },
};

static const struct kw_enum ign_certval[] = {
	{ "Any", 0 },
	{ "RFC2459", 1 },
	{ "RFC3280", 1 },
	{ "RFC5280", 0 },
	{ NULL, 0 },
};

static const struct kw_enum ign_edh_client[] = {
	{ "Legacy", 1 },
	{ "2048", 0 },
	{ NULL, 0 },
};

static const struct kw_enum ign_edh_server[] = {
	{ "Legacy", 1 },
	{ "2048", 0 },
	{ "Match", 1 },
	{ NULL, 0 },
};

static const struct kw_enum ign_fraglen[] = {
	{ "512", 0 },
	{ "1024", 0 },
	{ "2048", 0 },
	{ "4096", 0 },
	{ NULL, 0 },
};

static const struct kw_enum certver[] = {
	{ "Any", 0 },
	{ "3", 1 },
	{ NULL, 0 },
};

static const struct kw_enum ign_renego[] = {
	{ "Default", 0 },
	{ "Disabled", 0 },
	{ "All", 1 },
	{ "Abbreviated", 1 },
	{ NULL, 0 },
};

static const struct kw_enum ign_renego_ind[] = {
	{ "Optional", 0 },
	{ "Client", 0 },
	{ "Server", 0 },
	{ "Both", 0 },
	{ NULL, 0 },
};

static const struct kw_enum crl_levels[] = {
	{ "Low", ATTLS_CRL_LOW },
	{ "Medium", ATTLS_CRL_MEDIUM },
	{ "High", ATTLS_CRL_HIGH },
	{ NULL, 0 },
};

static const struct kw_enum ign_level[] = {
	{ "Low", 1 },
	{ "Medium", 1 },
	{ "High", 1 },
	{ NULL, 0 },
};

#define F(m)	offsetof(struct ast_stmt, u.m)

#define PARAM(n, h, o, sl, fl, u) \
	{ .name = n, .type = KW_PARAM, .fn = h, .off = o, .slot = sl, \
	  .flags = fl, .min = 1, .max = 1, .usage = u }
#define LIST(n, h, o, sl, fl, len, u) \
	{ .name = n, .type = KW_PARAM, .fn = h, .off = o, .slot = sl, \
	  .flags = (fl) | KWF_CONCAT, .min = 1, .max = UINT8_MAX, .hi = len, \
	  .usage = u }
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
/* a statement attls parses but ignores, inline or by reference */
#define IGN_BLOCK(n, o, t, w) \
	{ .name = n, .type = KW_BLOCK, .off = o, .target = t, .min = 0, \
	  .max = 1, .usage = n " [name] { ... }", .why = w }, \
	{ .name = n "Ref", .type = KW_REF, .fn = h_ref, .off = o, .target = t, \
	  .min = 1, .max = 1, .usage = n "Ref name", .why = w }
/* ignored parameters: by enum, by number range, or any values */
#define IGN_ENUM(n, e, u, w) \
	{ .name = n, .type = KW_PARAM, .fn = h_ignored, .min = 1, .max = 1, \
	  .enums = e, .usage = u, .why = w }
#define IGN_NUM(n, l, h, u, w) \
	{ .name = n, .type = KW_PARAM, .fn = h_ignored, .min = 1, .max = 1, \
	  .lo = l, .hi = h, .usage = u, .why = w }
#define IGN_ANY(n, u, w) \
	{ .name = n, .type = KW_PARAM, .fn = h_ignored, .min = 1, \
	  .max = UINT8_MAX, .usage = u, .why = w }
#define TODO(n) \
	{ .name = n, .type = KW_TODO, .min = 0, .max = UINT8_MAX }

#define REQ	KWF_REQUIRED
#define TRACE_MAX	255	/* AT-TLS Trace is a bit mask of 8 levels */
#define LABEL_MAX	(ATTLS_LABEL_LEN - 1)	/* attls_env_cfg.cert_label */
#define KEYRING_MAX	1023	/* IBM: 1-1023 chars; attls_env_cfg.keyring[1024] */
#define INSTANCE_MAX	UINT32_MAX

/* Why z/OS-only parameters are ignored (the warning text, then a hint). */
#define WHY_CTRACE	"CTRACE is the z/OS component trace\nattls logs to syslog: use Trace"
#define WHY_FIPS	"attls uses the system's OpenSSL\nfor FIPS 140 mode enable the OpenSSL FIPS provider in openssl.cnf"
#define WHY_ENVFILE	"it sets Language Environment variables of the z/OS AT-TLS group process\nattls has no such process: remove the line"
#define WHY_SUITEB	"attls does not restrict TLS to the Suite B profile (RFC 6460)\nTTLSCipherParms and TTLSSignatureParms are used as written"
#define WHY_3DES	"attls never enables 3DES\nremove the line"
#define WHY_CERTVAL	"OpenSSL validates certificates as RFC 5280 says\nremove the line"
#define WHY_EDH		"OpenSSL picks Diffie-Hellman groups of 2048 bits or more\nremove the line"
#define WHY_EMS		"OpenSSL always offers and accepts the extended master secret, and requires it of no partner\nremove the line"
#define WHY_FRAG	"attls does not negotiate the maximum fragment length extension (RFC 6066)\nremove the line"
#define WHY_HOSTCN	"OpenSSL checks host names against the certificate's DNS names\nuse HostReferenceIdDNS"
#define WHY_WILD	"OpenSSL accepts wildcard certificates when it checks HostReferenceIdDNS\nremove the line"
#define WHY_RENEGO	"attls never renegotiates and refuses renegotiation requests\nremove the line"
#define WHY_SCSV	"OpenSSL always honours TLS_FALLBACK_SCSV\nremove the line"
#define WHY_TRUNC	"OpenSSL does not implement truncated HMAC (RFC 6066), which is deprecated\nremove the line"
#define WHY_SYSPLEX	"sysplex-wide session caches exist only on z/OS\nremove the line"
#define WHY_V2		"attls never enables SSLv2\nremove the line"
#define WHY_TICKET	"not implemented by attls (OpenSSL manages its session tickets itself)\nremove the line"
#define WHY_REVOKE	"attls fetches no revocation information (OCSP, HTTP CDP, LDAP)\nput the CAs' CRLs into the key ring as NAME.crl files and set GSK_CRL_SECURITY_LEVEL in TTLSGskLdapParms (docs/keyrings.md)"
#define WHY_LDAP	"attls fetches no CRLs from LDAP\nput the CAs' CRLs into the key ring as NAME.crl files; GSK_CRL_SECURITY_LEVEL applies to them"
#define WHY_SIGCERT	"OpenSSL has no separate list of signature algorithms for certificates\nSignaturePairs applies to certificates too"

/* Parameter slots: one per field; X, XRef and an inline X share a slot. */
enum { R_LADDR = 1, R_RADDR, R_LPORT, R_RPORT, R_JOB, R_USER, R_DIR, R_PRIO,
       R_GROUP, R_ENV, R_CONN, R_TIME };

static const struct kw rule_kws[] = {
	ENUM("Direction", F(rule.direction), R_DIR, REQ, directions,
	     "Direction Inbound|Outbound|Both"),
	BLOCK("IpTimeCondition", F(rule.time), STMT_TIME, R_TIME, 0),
	REF("IpTimeConditionRef", F(rule.time), STMT_TIME, R_TIME, 0),
	PARAM("Jobname", h_job, F(rule.job), R_JOB, 0, "Jobname name|PREFIX*|*"),
	PARAM("LocalAddr", h_addr, F(rule.laddr), R_LADDR, 0,
	      "LocalAddr a.b.c.d|ipv6|addr/prefix|addr-addr|All"),
	REF("LocalAddrGroupRef", F(rule.laddr_ref), STMT_IPADDRGROUP, R_LADDR, 0),
	REF("LocalAddrRef", F(rule.laddr_ref), STMT_IPADDR, R_LADDR, 0),
	REF("LocalAddrSetRef", F(rule.laddr_ref), STMT_IPADDRSET, R_LADDR, 0),
	REF("LocalPortGroupRef", F(rule.lport_ref), STMT_PORTGROUP, R_LPORT, 0),
	{ .name = "LocalPortRange", .type = KW_PARAM, .fn = h_ports,
	  .off = F(rule.lport), .slot = R_LPORT, .min = 1, .max = 2,
	  .usage = "LocalPortRange n|n-m (0 = any)" },
	REF("LocalPortRangeRef", F(rule.lport_ref), STMT_PORTRANGE, R_LPORT, 0),
	NUM("Priority", F(rule.priority), R_PRIO, 1, 2000000000,
	    "Priority 1-2000000000"),
	PARAM("RemoteAddr", h_addr, F(rule.raddr), R_RADDR, 0,
	      "RemoteAddr a.b.c.d|ipv6|addr/prefix|addr-addr|All"),
	REF("RemoteAddrGroupRef", F(rule.raddr_ref), STMT_IPADDRGROUP, R_RADDR, 0),
	REF("RemoteAddrRef", F(rule.raddr_ref), STMT_IPADDR, R_RADDR, 0),
	REF("RemoteAddrSetRef", F(rule.raddr_ref), STMT_IPADDRSET, R_RADDR, 0),
	REF("RemotePortGroupRef", F(rule.rport_ref), STMT_PORTGROUP, R_RPORT, 0),
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

enum { G_ENABLED = 1, G_TRACE, G_UI, G_ADV };

static const struct kw group_kws[] = {
	IGN_ENUM("CtraceClearText", onoff, "CtraceClearText Off", WHY_CTRACE),
	IGN_ENUM("FIPS140", ign_fips, "FIPS140 Off", WHY_FIPS),
	NUM("GroupUserInstance", F(group.user_instance), G_UI, 0, INSTANCE_MAX,
	    "GroupUserInstance n"),
	NUM("Trace", F(group.trace), G_TRACE, 0, TRACE_MAX, "Trace 0-255"),
	ENUM("TTLSEnabled", F(group.enabled), G_ENABLED, REQ, onoff,
	     "TTLSEnabled On|Off"),
	BLOCK("TTLSGroupAdvancedParms", F(group.adv), STMT_GROUP_ADV, G_ADV, 0),
	REF("TTLSGroupAdvancedParmsRef", F(group.adv), STMT_GROUP_ADV, G_ADV, 0),
};

static const struct kw group_adv_kws[] = {
	IGN_ANY("Envfile", "Envfile path", WHY_ENVFILE),
	ENUM("SyslogFacility", F(group_adv.syslog), 1, 0, facilities,
	     "SyslogFacility Daemon|Auth"),
};

enum { E_ROLE = 1, E_TRACE, E_UI, E_KEYRING, E_ADV, E_CIPHER, E_SIG, E_GSK };

static const struct kw env_kws[] = {
	IGN_ENUM("CtraceClearText", onoff, "CtraceClearText Off", WHY_CTRACE),
	NUM("EnvironmentUserInstance", F(env.user_instance), E_UI, 0,
	    INSTANCE_MAX, "EnvironmentUserInstance n"),
	ENUM("HandshakeRole", F(env.role), E_ROLE, REQ, roles,
	     "HandshakeRole Server|Client|ServerWithClientAuth"),
	IGN_ENUM("SuiteBProfile", ign_suiteb, "SuiteBProfile Off", WHY_SUITEB),
	NUM("Trace", F(env.trace), E_TRACE, 0, TRACE_MAX, "Trace 0-255"),
	BLOCK("TTLSCipherParms", F(env.cipher), STMT_CIPHER, E_CIPHER, 0),
	REF("TTLSCipherParmsRef", F(env.cipher), STMT_CIPHER, E_CIPHER, 0),
	BLOCK("TTLSEnvironmentAdvancedParms", F(env.adv), STMT_ENV_ADV, E_ADV, 0),
	REF("TTLSEnvironmentAdvancedParmsRef", F(env.adv), STMT_ENV_ADV, E_ADV, 0),
	BLOCK("TTLSGskAdvancedParms", F(env.gsk), STMT_GSK_ADV, E_GSK, 0),
	REF("TTLSGskAdvancedParmsRef", F(env.gsk), STMT_GSK_ADV, E_GSK, 0),
	BLOCK("TTLSKeyringParms", F(env.keyring), STMT_KEYRING, E_KEYRING, REQ),
	REF("TTLSKeyringParmsRef", F(env.keyring), STMT_KEYRING, E_KEYRING, REQ),
	BLOCK("TTLSSignatureParms", F(env.sig), STMT_SIG, E_SIG, 0),
	REF("TTLSSignatureParmsRef", F(env.sig), STMT_SIG, E_SIG, 0),
};

enum { C_ROLE = 1, C_TRACE, C_UI, C_ADV, C_CIPHER, C_SIG };

static const struct kw conn_kws[] = {
	NUM("ConnectionUserInstance", F(conn.user_instance), C_UI, 0,
	    INSTANCE_MAX, "ConnectionUserInstance n"),
	IGN_ENUM("CtraceClearText", onoff, "CtraceClearText Off", WHY_CTRACE),
	ENUM("HandshakeRole", F(conn.role), C_ROLE, 0, roles,
	     "HandshakeRole Server|Client|ServerWithClientAuth"),
	NUM("Trace", F(conn.trace), C_TRACE, 0, TRACE_MAX, "Trace 0-255"),
	BLOCK("TTLSCipherParms", F(conn.cipher), STMT_CIPHER, C_CIPHER, 0),
	REF("TTLSCipherParmsRef", F(conn.cipher), STMT_CIPHER, C_CIPHER, 0),
	BLOCK("TTLSConnectionAdvancedParms", F(conn.adv), STMT_CONN_ADV, C_ADV, 0),
	REF("TTLSConnectionAdvancedParmsRef", F(conn.adv), STMT_CONN_ADV, C_ADV, 0),
	BLOCK("TTLSSignatureParms", F(conn.sig), STMT_SIG, C_SIG, 0),
	REF("TTLSSignatureParmsRef", F(conn.sig), STMT_SIG, C_SIG, 0),
};

enum { K_RING = 1, K_PW, K_STASH };

static const struct kw keyring_kws[] = {
	STR("Keyring", h_keyring, F(keyring.keyring), K_RING, REQ,
	    KEYRING_MAX, "Keyring OWNER/RING|RING|/path/to/keyfile"),
	STR("KeyringPw", h_str, F(keyring.pw), K_PW, 0, 128,
	    "KeyringPw password"),
	STR("KeyringStashFile", h_keyring_stash, F(keyring.stash), K_STASH, 0,
	    KEYRING_MAX, "KeyringStashFile /path/to/stash"),
};

enum { A_TLS12 = 1, A_TLS13, A_TLS1, A_TLS11, A_SSL2, A_SSL3, A_TIMEOUT,
       A_LABEL, A_CAUTH, A_APPCTL, A_SECMAP, A_MIDDLEBOX, A_CSNI, A_CSNI_M,
       A_CSNI_L, A_SSNI, A_SSNI_M, A_SSNI_L, A_SLABELS, A_HOSTREF, A_IDLE,
       A_MAXCONN, A_APPPROTO, A_MINRSA, A_MINDSA, A_MINECC, A_MINDH,
       A_CERTVER, A_RESETT };

#define ADV_LABEL \
	STR("CertificateLabel", h_str, F(adv.label), A_LABEL, 0, LABEL_MAX, \
	    "CertificateLabel label")
#define ADV_TIMEOUT \
	NUM("HandshakeTimeout", F(adv.timeout), A_TIMEOUT, 0, 600, \
	    "HandshakeTimeout 0-600 (seconds)")
/*
 * attls extensions (no z/OS equivalent; docs/policy.md "Limits"): a
 * connection idle this long is closed (0 = never), and a rule protects at
 * most this many connections at once (0 = only the daemon's global limit).
 */
#define ADV_LIMITS \
	NUM("IdleTimeout", F(adv.idle_timeout), A_IDLE, 0, 2592000, \
	    "IdleTimeout 0-2592000 (seconds; 0 = none)"), \
	NUM("MaxConnections", F(adv.max_conns), A_MAXCONN, 0, 10000000, \
	    "MaxConnections 0-10000000 (0 = no per-rule limit)")
#define ADV_TLS12 \
	ENUM("TLSv1.2", F(adv.tls12), A_TLS12, 0, onoff, "TLSv1.2 On|Off"), \
	ENUM("TLSv1.3", F(adv.tls13), A_TLS13, 0, onoff, "TLSv1.3 On|Off")
#define ADV_APPCTL \
	ENUM("ApplicationControlled", F(adv.app_ctl), A_APPCTL, 0, onoff, \
	     "ApplicationControlled On|Off")
/* attls extension (docs/ftp.md): an application protocol helper */
#define ADV_APPPROTO \
	ENUM("ApplicationProtocol", F(adv.app_proto), A_APPPROTO, 0, \
	     app_protocols, "ApplicationProtocol None|FTP")
#define ADV_SECMAP \
	ENUM("SecondaryMap", F(adv.secondary_map), A_SECMAP, 0, onoff, \
	     "SecondaryMap On|Off")
#define ADV_MIDDLEBOX \
	ENUM("MiddleBoxCompatMode", F(adv.middlebox), A_MIDDLEBOX, 0, onoff, \
	     "MiddleBoxCompatMode On|Off")
#define ADV_CLIENT_SNI \
	ENUM("ClientHandshakeSNI", F(adv.client_sni), A_CSNI, 0, tls_fn, \
	     "ClientHandshakeSNI Off|Optional|Required"), \
	LIST("ClientHandshakeSNIList", h_client_sni_list, \
	     F(adv.client_sni_list), A_CSNI_L, 0, ATTLS_HOST_LEN - 1, \
	     "ClientHandshakeSNIList hostname"), \
	ENUM("ClientHandshakeSNIMatch", F(adv.client_sni_match), A_CSNI_M, 0, \
	     sni_match, "ClientHandshakeSNIMatch Optional|Required")
#define ADV_FRAG \
	IGN_ENUM("ClientMaxSSLFragment", ign_fn, \
		 "ClientMaxSSLFragment Off|Optional|Required", WHY_FRAG), \
	IGN_ENUM("ClientMaxSSLFragmentLength", ign_fraglen, \
		 "ClientMaxSSLFragmentLength 512|1024|2048|4096", WHY_FRAG)
#define ADV_SERVER_SNI \
	ENUM("ServerHandshakeSNI", F(adv.server_sni), A_SSNI, 0, tls_fn, \
	     "ServerHandshakeSNI Off|Optional|Required"), \
	LIST("ServerHandshakeSNIList", h_server_sni_list, \
	     F(adv.server_sni_list), A_SSNI_L, 0, ATTLS_LABEL_LEN + ATTLS_HOST_LEN, \
	     "ServerHandshakeSNIList label:hostname ..."), \
	ENUM("ServerHandshakeSNIMatch", F(adv.server_sni_match), A_SSNI_M, 0, \
	     sni_match, "ServerHandshakeSNIMatch Optional|Required"), \
	IGN_ENUM("ServerMaxSSLFragment", ign_fn, \
		 "ServerMaxSSLFragment Off|Optional|Required", WHY_FRAG)
#define ADV_PROTOCOLS \
	LEGACY("SSLv2", A_SSL2), \
	LEGACY("SSLv3", A_SSL3), \
	LEGACY("TLSv1", A_TLS1), \
	LEGACY("TLSv1.1", A_TLS11), \
	ADV_TLS12
#define ADV_RESET \
	NUM("ResetCipherTimer", F(adv.reset_cipher), A_RESETT, 0, 1440, \
	    "ResetCipherTimer 0-1440 (minutes)")
#define ADV_TRUNC \
	IGN_ENUM("TruncatedHMAC", ign_fn, "TruncatedHMAC Off|Optional|Required", \
		 WHY_TRUNC)
#define ADV_KEYSIZE(n, f, sl) \
	NUM(n, F(adv.f), sl, 0, 16384, n " bits")

static const struct kw env_adv_kws[] = {
	IGN_ENUM("3DesKeyCheck", onoff, "3DesKeyCheck Off", WHY_3DES),
	ADV_APPCTL,
	ADV_APPPROTO,
	ADV_LABEL,
	IGN_ENUM("CertValidationMode", ign_certval,
		 "CertValidationMode Any|RFC2459|RFC3280|RFC5280", WHY_CERTVAL),
	ENUM("ClientAuthType", F(adv.client_auth), A_CAUTH, 0, client_auth,
	     "ClientAuthType Required|PassThru|Full|SAFCheck"),
	IGN_ENUM("ClientEDHGroupSize", ign_edh_client,
		 "ClientEDHGroupSize Legacy|2048", WHY_EDH),
	IGN_ENUM("ClientExtendedMasterSecret", ign_ems,
		 "ClientExtendedMasterSecret On|Off|Required", WHY_EMS),
	ADV_CLIENT_SNI,
	ADV_FRAG,
	ADV_TIMEOUT,
	IGN_ANY("HostReferenceIdCN", "HostReferenceIdCN name", WHY_HOSTCN),
	STR("HostReferenceIdDNS", h_hostname, F(adv.host_ref_dns), A_HOSTREF, 0,
	    ATTLS_HOST_LEN - 1, "HostReferenceIdDNS hostname"),
	IGN_ENUM("HostRefWildcardValidation", ign_on,
		 "HostRefWildcardValidation On|Off", WHY_WILD),
	ADV_LIMITS,
	ADV_MIDDLEBOX,
	ENUM("PeerMinCertVersion", F(adv.peer_min_certver), A_CERTVER, 0, certver,
	     "PeerMinCertVersion Any|3"),
	ADV_KEYSIZE("PeerMinDHKeySize", peer_min_dh, A_MINDH),
	ADV_KEYSIZE("PeerMinDsaKeySize", peer_min_dsa, A_MINDSA),
	ADV_KEYSIZE("PeerMinECCKeySize", peer_min_ecc, A_MINECC),
	ADV_KEYSIZE("PeerMinRsaKeySize", peer_min_rsa, A_MINRSA),
	IGN_ENUM("Renegotiation", ign_renego,
		 "Renegotiation Default|Disabled|All|Abbreviated", WHY_RENEGO),
	IGN_ENUM("RenegotiationCertCheck", onoff, "RenegotiationCertCheck Off",
		 WHY_RENEGO),
	IGN_ENUM("RenegotiationIndicator", ign_renego_ind,
		 "RenegotiationIndicator Optional|Client|Server|Both", NULL),
	ADV_RESET,
	ADV_SECMAP,
	LIST("ServerCertificateLabel", h_server_labels,
	     F(adv.server_labels), A_SLABELS, 0, LABEL_MAX,
	     "ServerCertificateLabel label ..."),
	IGN_ENUM("ServerEDHGroupSize", ign_edh_server,
		 "ServerEDHGroupSize Legacy|2048|Match", WHY_EDH),
	IGN_ENUM("ServerExtendedMasterSecret", ign_ems,
		 "ServerExtendedMasterSecret On|Off|Required", WHY_EMS),
	ADV_SERVER_SNI,
	IGN_ENUM("ServerScsv", ign_on, "ServerScsv On|Off", WHY_SCSV),
	ADV_PROTOCOLS,
	ADV_TRUNC,
};

/* The connection form: a subset, no defaults (unset = inherit). */
static const struct kw conn_adv_kws[] = {
	ADV_APPCTL,
	ADV_APPPROTO,
	ADV_LABEL,
	ADV_CLIENT_SNI,
	ADV_FRAG,
	ADV_TIMEOUT,
	ADV_LIMITS,
	ADV_MIDDLEBOX,
	ADV_RESET,
	ADV_SECMAP,
	ADV_SERVER_SNI,
	ADV_PROTOCOLS,
	ADV_TRUNC,
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

#define GROUPS(n, o) \
	LIST(n, h_groups, o, 0, 0, 0, n " nnnn ...|Any")

static const struct kw sig_kws[] = {
	GROUPS("ClientECurves", F(sig.client_curves)),
	GROUPS("ClientKeyShareGroups", F(sig.client_shares)),
	GROUPS("ServerKexECurves", F(sig.server_curves)),
	GROUPS("ServerKeyShareGroups", F(sig.server_shares)),
	LIST("SignaturePairs", h_sigalgs, F(sig.pairs), 0, 0, 0,
	     "SignaturePairs hhhh ..."),
	{ .name = "SignaturePairsCert", .type = KW_PARAM, .fn = h_sigalgs,
	  .off = F(sig.pairs_cert), .flags = KWF_CONCAT, .min = 1,
	  .max = UINT8_MAX, .usage = "SignaturePairsCert hhhh ...",
	  .why = WHY_SIGCERT },
};

enum { K_V3T = 1, K_V3C, K_TCL, K_TSV, K_TCNT, K_LDAP, K_OCSP, K_CDP };

#define IGN_TICKET(n) \
	IGN_NUM(n, 0, UINT32_MAX, n " n", WHY_TICKET)

static const struct kw gsk_kws[] = {
	IGN_ENUM("AIACDPPriority", onoff, "AIACDPPriority On|Off", WHY_REVOKE),
	ENUM("GSK_SESSION_TICKET_CLIENT_ENABLE", F(gsk.ticket_client), K_TCL, 0,
	     onoff, "GSK_SESSION_TICKET_CLIENT_ENABLE On|Off"),
	IGN_TICKET("GSK_SESSION_TICKET_CLIENT_MAXCACHED"),
	IGN_TICKET("GSK_SESSION_TICKET_CLIENT_MAXSIZE"),
	IGN_ANY("GSK_SESSION_TICKET_SERVER_ALGORITHM",
		"GSK_SESSION_TICKET_SERVER_ALGORITHM name", WHY_TICKET),
	NUM("GSK_SESSION_TICKET_SERVER_COUNT", F(gsk.ticket_count), K_TCNT, 0,
	    255, "GSK_SESSION_TICKET_SERVER_COUNT 0-255"),
	ENUM("GSK_SESSION_TICKET_SERVER_ENABLE", F(gsk.ticket_server), K_TSV, 0,
	     onoff, "GSK_SESSION_TICKET_SERVER_ENABLE On|Off"),
	IGN_TICKET("GSK_SESSION_TICKET_SERVER_KEY_REFRESH"),
	IGN_TICKET("GSK_SESSION_TICKET_SERVER_TIMEOUT"),
	IGN_ENUM("GSK_SYSPLEX_SESSION_TICKET_CACHE", onoff,
		 "GSK_SYSPLEX_SESSION_TICKET_CACHE Off", WHY_SYSPLEX),
	IGN_ENUM("GSK_SYSPLEX_SIDCACHE", onoff, "GSK_SYSPLEX_SIDCACHE Off",
		 WHY_SYSPLEX),
	IGN_NUM("GSK_V2_SESSION_TIMEOUT", 0, UINT32_MAX,
		"GSK_V2_SESSION_TIMEOUT seconds", WHY_V2),
	IGN_NUM("GSK_V2_SIDCACHE_SIZE", 0, UINT32_MAX,
		"GSK_V2_SIDCACHE_SIZE n", WHY_V2),
	NUM("GSK_V3_SESSION_TIMEOUT", F(gsk.v3_timeout), K_V3T, 0, 86400,
	    "GSK_V3_SESSION_TIMEOUT 0-86400 (seconds)"),
	NUM("GSK_V3_SIDCACHE_SIZE", F(gsk.v3_cache), K_V3C, 0, 64000,
	    "GSK_V3_SIDCACHE_SIZE 0-64000"),
	IGN_NUM("MaxSrcRevExtLocValues", 0, UINT32_MAX,
		"MaxSrcRevExtLocValues n", WHY_REVOKE),
	IGN_NUM("MaxValidRevExtLocValues", 0, UINT32_MAX,
		"MaxValidRevExtLocValues n", WHY_REVOKE),
	IGN_ENUM("RevocationSecurityLevel", ign_level,
		 "RevocationSecurityLevel Low|Medium|High", WHY_REVOKE),
	IGN_BLOCK("TTLSGskHttpCdpParms", F(gsk.cdp), STMT_GSK_CDP, WHY_REVOKE),
	BLOCK("TTLSGskLdapParms", F(gsk.ldap), STMT_GSK_LDAP, K_LDAP, 0),
	REF("TTLSGskLdapParmsRef", F(gsk.ldap), STMT_GSK_LDAP, K_LDAP, 0),
	IGN_BLOCK("TTLSGskOcspParms", F(gsk.ocsp), STMT_GSK_OCSP, WHY_REVOKE),
};

/* Inside an ignored statement: accepted as written, one warning at its use. */
#define QUIET(n)	IGN_ANY(n, n " value", NULL)

/* LDAP parameters: each warns (attls reads CRLs from the key ring only). */
#define IGN_LDAP(n)	IGN_ANY(n, n " value", WHY_LDAP)

static const struct kw gsk_ldap_kws[] = {
	IGN_LDAP("CRLCacheEntryMaxsize"),
	IGN_LDAP("CRLCacheExtended"),
	IGN_LDAP("CRLCacheSize"),
	IGN_LDAP("CRLCacheTempCRL"),
	IGN_LDAP("CRLCacheTempCRLTimeout"),
	IGN_LDAP("GSK_CRL_CACHE_TIMEOUT"),
	ENUM("GSK_CRL_SECURITY_LEVEL", F(gsk_ldap.crl_level), 1, 0, crl_levels,
	     "GSK_CRL_SECURITY_LEVEL Low|Medium|High"),
	IGN_LDAP("GSK_LDAP_SERVER"),
	IGN_LDAP("GSK_LDAP_SERVER_PORT"),
	IGN_LDAP("GSK_LDAP_USER"),
	IGN_LDAP("GSK_LDAP_USER_PW"),
	IGN_LDAP("LDAPResponseTimeout"),
};

static const struct kw gsk_ocsp_kws[] = {
	QUIET("OcspAiaEnable"),
	QUIET("OcspCliCacheEntryMaxsize"),
	QUIET("OcspClientCacheSize"),
	QUIET("OcspMaxResponseSize"),
	QUIET("OcspNonceCheckEnable"),
	QUIET("OcspNonceGenEnable"),
	QUIET("OcspNonceSize"),
	QUIET("OcspProxyServerName"),
	QUIET("OcspProxyServerPort"),
	QUIET("OcspRequestSigalg"),
	QUIET("OcspRequestSigkeylabel"),
	QUIET("OcspResponseSigAlgPairs"),
	QUIET("OcspResponseTimeout"),
	QUIET("OcspRetrieveViaGet"),
	QUIET("OcspServerStapling"),
	QUIET("OcspUrl"),
	QUIET("OcspUrlPriority"),
};

static const struct kw gsk_cdp_kws[] = {
	QUIET("HttpCdpCacheEntryMaxsize"),
	QUIET("HttpCdpCacheSize"),
	QUIET("HttpCdpEnable"),
	QUIET("HttpCdpMaxResponseSize"),
	QUIET("HttpCdpProxyServerName"),
	QUIET("HttpCdpProxyServerPort"),
	QUIET("HttpCdpResponseTimeout"),
};

static const struct kw portrange_kws[] = {
	{ .name = "Port", .type = KW_PARAM, .fn = h_ports,
	  .off = F(portrange.port), .slot = 1, .flags = REQ, .min = 1,
	  .max = 2, .usage = "Port n|n-m" },
};

static const struct kw portgroup_kws[] = {
	BLOCK("PortRange", F(members.items), STMT_PORTRANGE, 1, REQ | KWF_LIST),
	REF("PortRangeRef", F(members.items), STMT_PORTRANGE, 1, REQ | KWF_LIST),
};

static const struct kw ipaddr_kws[] = {
	PARAM("Addr", h_addr, F(ipaddr.addr), 1, REQ,
	      "Addr a.b.c.d|ipv6|addr/prefix|addr-addr"),
};

#define ADDR_LINE(n, form, u) \
	{ .name = n, .type = KW_PARAM, .fn = h_addr_list, \
	  .off = F(addrset.addrs), .slot = 1, .flags = REQ | KWF_CONCAT, \
	  .min = 1, .max = 1, .hi = form, .usage = u }

static const struct kw ipaddrset_kws[] = {
	ADDR_LINE("Addr", ADDR_ANY, "Addr a.b.c.d|ipv6|addr/prefix|addr-addr"),
	BLOCK("IpAddr", F(addrset.items), STMT_IPADDR, 1, REQ | KWF_LIST),
	REF("IpAddrRef", F(addrset.items), STMT_IPADDR, 1, REQ | KWF_LIST),
	ADDR_LINE("Prefix", ADDR_PREFIX, "Prefix addr/prefixLength"),
	ADDR_LINE("Range", ADDR_RANGE, "Range addr-addr"),
};

static const struct kw ipaddrgroup_kws[] = {
	BLOCK("IpAddr", F(members.items), STMT_IPADDR, 1, REQ | KWF_LIST),
	REF("IpAddrRef", F(members.items), STMT_IPADDR, 1, REQ | KWF_LIST),
	BLOCK("IpAddrSet", F(members.items), STMT_IPADDRSET, 1, REQ | KWF_LIST),
	REF("IpAddrSetRef", F(members.items), STMT_IPADDRSET, 1, REQ | KWF_LIST),
};

/* IpTimeCondition: Mask and From share a slot; To has its own. */
enum { T_RANGE = 1, T_TOD, T_TOD_TO, T_DOW, T_DOW_TO, T_DOM, T_DOM_TO,
       T_MONTH, T_MONTH_TO, T_TZ };

static const struct kw time_kws[] = {
	{ .name = "ConditionTimeRange", .type = KW_PARAM, .fn = h_time_range,
	  .off = F(time), .slot = T_RANGE, .min = 1, .max = 2,
	  .usage = "ConditionTimeRange YYYYMMDDhhmmss:YYYYMMDDhhmmss" },
	PARAM("DayOfMonthMask", h_dom_mask, F(time), T_DOM, 0,
	      "DayOfMonthMask 31 or 62 digits 0/1 (day 1 first; then from the month's end)"),
	{ .name = "DayOfWeekMask", .type = KW_PARAM, .fn = h_mask,
	  .off = F(time.dow), .slot = T_DOW, .min = 1, .max = 1, .hi = 7,
	  .usage = "DayOfWeekMask 7 digits 0/1, Sunday first (0111110 = Monday-Friday)" },
	NUM("FromDayOfMonth", F(time.dom_from), T_DOM, 1, 31, "FromDayOfMonth 1-31"),
	PARAM("FromDayOfWeek", h_weekday, F(time.dow_from), T_DOW, 0,
	      "FromDayOfWeek Monday..Sunday (or 1-7, 1 = Monday)"),
	PARAM("FromMonthOfYear", h_month, F(time.month_from), T_MONTH, 0,
	      "FromMonthOfYear January..December (or 1-12)"),
	PARAM("FromTimeOfDay", h_tod, F(time.tod_from), T_TOD, 0,
	      "FromTimeOfDay hh:mm[:ss]"),
	{ .name = "MonthOfYearMask", .type = KW_PARAM, .fn = h_mask,
	  .off = F(time.month), .slot = T_MONTH, .min = 1, .max = 1, .hi = 12,
	  .usage = "MonthOfYearMask 12 digits 0/1, January first" },
	{ .name = "TimeOfDayRange", .type = KW_PARAM, .fn = h_tod_range,
	  .off = F(time), .slot = T_TOD, .min = 1, .max = 2,
	  .usage = "TimeOfDayRange hh:mm-hh:mm" },
	ENUM("TimeZone", F(time.tz), T_TZ, 0, timezones, "TimeZone Local|UTC"),
	NUM("ToDayOfMonth", F(time.dom_to), T_DOM_TO, 1, 31, "ToDayOfMonth 1-31"),
	PARAM("ToDayOfWeek", h_weekday, F(time.dow_to), T_DOW_TO, 0,
	      "ToDayOfWeek Monday..Sunday (or 1-7, 1 = Monday)"),
	PARAM("ToMonthOfYear", h_month, F(time.month_to), T_MONTH_TO, 0,
	      "ToMonthOfYear January..December (or 1-12)"),
	{ .name = "ToTimeOfDay", .type = KW_PARAM, .fn = h_tod,
	  .off = F(time.tod_to), .slot = T_TOD_TO, .min = 1, .max = 1, .hi = 1,
	  .usage = "ToTimeOfDay hh:mm[:ss] (24:00 = midnight)" },
};

/* PAGENT configuration statements: one line each. */
static const struct kw tcpimage_line = {
	.name = "TcpImage", .type = KW_PARAM, .fn = h_tcpimage, .min = 1,
	.max = 5,
	.usage = "TcpImage stackname [imagefile] [FLUSH|NOFLUSH] [PURGE|NOPURGE] [seconds]",
};

static const struct kw pepinstance_line = {
	.name = "PEPInstance", .type = KW_PARAM, .fn = h_tcpimage, .min = 1,
	.max = 5,
	.usage = "PEPInstance stackname [imagefile] [FLUSH|NOFLUSH] [PURGE|NOPURGE] [seconds]",
};

static const struct kw ttlsconfig_line = {
	.name = "TTLSConfig", .type = KW_PARAM, .fn = h_ttlsconfig, .min = 0,
	.max = 3, .usage = "TTLSConfig [policyfile] [FLUSH|NOFLUSH] [PURGE|NOPURGE]",
};

static const struct kw common_line = {
	.name = "CommonTTLSConfig", .type = KW_PARAM, .fn = h_common_ttls,
	.min = 1, .max = 3,
	.usage = "CommonTTLSConfig policyfile [FLUSH|NOFLUSH] [PURGE|NOPURGE]",
};

static const struct kw pagent_line = {
	.name = "PAGENT", .type = KW_PARAM, .fn = h_pagent_other, .min = 0,
	.max = UINT8_MAX, .usage = "a PAGENT statement",
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define STMT(n, k, t)	{ n, k, t, N(t), NULL, 0 }
#define LINE(n, k, l, f)	{ n, k, NULL, 0, &l, f }
#define STMT_TODO(n)	{ n, STMT_NONE, NULL, 0, NULL, 0 }

/* Top-level statements, sorted case-insensitively. */
static const struct stmt_desc stmts[] = {
	LINE("CommonTTLSConfig", STMT_COMMON_TTLS, common_line, 0),
	LINE("DynamicConfigPolicyLoad", STMT_PAGENT, pagent_line, 0),
	LINE("IDSConfig", STMT_PAGENT, pagent_line, STMTF_ALIAS),
	STMT("IpAddr", STMT_IPADDR, ipaddr_kws),
	STMT("IpAddrGroup", STMT_IPADDRGROUP, ipaddrgroup_kws),
	STMT("IpAddrSet", STMT_IPADDRSET, ipaddrset_kws),
	LINE("IPSecConfig", STMT_PAGENT, pagent_line, STMTF_ALIAS),
	STMT("IpTimeCondition", STMT_TIME, time_kws),
	LINE("LogLevel", STMT_PAGENT, pagent_line, STMTF_ALIAS),
	LINE("PEPInstance", STMT_TCPIMAGE, pepinstance_line, STMTF_ALIAS),
	STMT("PortGroup", STMT_PORTGROUP, portgroup_kws),
	STMT("PortRange", STMT_PORTRANGE, portrange_kws),
	LINE("QOSConfig", STMT_PAGENT, pagent_line, STMTF_ALIAS),
	LINE("RoutingConfig", STMT_PAGENT, pagent_line, STMTF_ALIAS),
	LINE("TcpImage", STMT_TCPIMAGE, tcpimage_line, 0),
	STMT("TTLSCipherParms", STMT_CIPHER, cipher_kws),
	LINE("TTLSConfig", STMT_TTLSCONFIG, ttlsconfig_line, 0),
	STMT("TTLSConnectionAction", STMT_CONN, conn_kws),
	STMT("TTLSConnectionAdvancedParms", STMT_CONN_ADV, conn_adv_kws),
	STMT("TTLSEnvironmentAction", STMT_ENV, env_kws),
	STMT("TTLSEnvironmentAdvancedParms", STMT_ENV_ADV, env_adv_kws),
	STMT("TTLSGroupAction", STMT_GROUP, group_kws),
	STMT("TTLSGroupAdvancedParms", STMT_GROUP_ADV, group_adv_kws),
	STMT("TTLSGskAdvancedParms", STMT_GSK_ADV, gsk_kws),
	STMT("TTLSGskHttpCdpParms", STMT_GSK_CDP, gsk_cdp_kws),
	STMT("TTLSGskLdapParms", STMT_GSK_LDAP, gsk_ldap_kws),
	STMT("TTLSGskOcspParms", STMT_GSK_OCSP, gsk_ocsp_kws),
	STMT("TTLSKeyringParms", STMT_KEYRING, keyring_kws),
	STMT("TTLSRule", STMT_RULE, rule_kws),
	STMT("TTLSSignatureParms", STMT_SIG, sig_kws),
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
		if (stmts[i].kind == kind && kind != STMT_NONE &&
		    !(stmts[i].flags & STMTF_ALIAS))
			return &stmts[i];
	}
	return NULL;
}

const char *stmt_kind_name(enum stmt_kind kind)
{
	const struct stmt_desc *d = stmt_desc_of(kind);

	return d ? d->name : "statement";
}

int stmt_kind_is_config(enum stmt_kind kind)
{
	return kind == STMT_TCPIMAGE || kind == STMT_COMMON_TTLS ||
	       kind == STMT_TTLSCONFIG || kind == STMT_PAGENT;
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

	/* AT-TLS nests parms, addresses, ports and time conditions, never
	 * rules, actions, groups or configuration statements */
	return d && (d->kind == STMT_RULE || d->kind == STMT_GROUP ||
		     d->kind == STMT_ENV || d->kind == STMT_CONN ||
		     d->kind == STMT_IPADDRGROUP || d->kind == STMT_PORTGROUP ||
		     d->line);
}

const struct stmt_desc *stmt_table(size_t *n)
{
	*n = N(stmts);
	return stmts;
}
