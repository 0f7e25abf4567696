// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_policy.c - the AT-TLS policy front end: lexer, parser, resolver,
 * compiler, dump.  Every test asserts exact values (messages with line and
 * column, clause fields, cipher strings), so a regression fails here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../policy/ast-t.h"
#include "../../policy/ciphers.h"
#include "../../policy/keywords.h"
#include "../../policy/lexer.h"
#include "../../policy/policy.h"
#include "../../policy/values.h"
#include "policy_build.h"
#include "unit.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

/* A user database the tests control (policy_set_uid_resolver/lister). */
static const struct {
	const char *name;
	uint32_t uid;
} fake_users[] = {
	{ "root", 0 },
	{ "app1", 1001 },
	{ "apple", 1003 },
	{ "app2", 1002 },
	{ "app1alias", 1001 },	/* same uid twice: one clause */
	{ "bob", 2000 },
};

static int fake_resolve(const char *name, uint32_t *uid)
{
	size_t i;

	for (i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++) {
		if (!strcmp(fake_users[i].name, name)) {
			*uid = fake_users[i].uid;
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_list(policy_user_cb cb, void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++) {
		rc = cb(fake_users[i].name, fake_users[i].uid, arg);
		if (rc)
			return rc;
	}
	return 0;
}

/* Parse and compile `text` as "t.policy" now; *diags gets everything. */
static int build(const char *text, struct attls_map_image *img, char **diags)
{
	return policy_build_at(text, time(NULL), img, diags);
}

/* Parse only; returns the result and the printed diagnostics. */
static int parse_only(const char *text, char **diags)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	int rc;

	rc = policy_parse_string("t.policy", text, &p, &d);
	*diags = diag_text(d);
	policy_free(p);
	policy_diags_free(d);
	return rc;
}

/* Expect a failed parse whose diagnostics are exactly `want`. */
static void expect_parse_diags(const char *text, int want_rc, const char *want)
{
	char *got;
	int rc = parse_only(text, &got);

	ASSERT_EQ(rc, want_rc, text);
	ASSERT_STREQ(got, want, text);
	free(got);
}

/* Boilerplate around one rule body for condition tests. */
#define GROUP_ON \
	"TTLSGroupAction g { \n TTLSEnabled On \n }\n" \
	"TTLSEnvironmentAction e \n{\n HandshakeRole Server \n" \
	" TTLSKeyringParms { \n Keyring ring \n }\n}\n"

static const char *rule_text(const char *body)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "TTLSRule r\n{\n%s\n Direction Inbound\n"
		 " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n}\n"
		 GROUP_ON, body);
	return buf;
}

/* Compile one rule and expect exactly one clause in *cl. */
static int one_clause(const char *body, struct attls_rule *cl)
{
	struct attls_map_image img;
	char *diags;
	int rc = build(rule_text(body), &img, &diags);
	int ok = ASSERT_EQ(rc, 0, diags) && ASSERT_EQ(img.nrules, 1, body);

	if (ok)
		*cl = img.rules[0];
	attls_map_image_free(&img);
	free(diags);
	return ok;
}

/* ------------------------------------------------------------------ */
/* tables                                                             */
/* ------------------------------------------------------------------ */

/* bsearch needs sorted tables; relayd only had a comment for this. */
static void test_keyword_tables_sorted(void)
{
	const struct stmt_desc *st;
	size_t n, i, k;

	st = stmt_table(&n);
	ASSERT_TRUE(n >= 10, "statement table");
	for (i = 1; i < n; i++)
		ASSERT_TRUE(strcasecmp(st[i - 1].name, st[i].name) < 0,
			    st[i].name);
	for (i = 0; i < n; i++) {
		for (k = 1; k < st[i].nkws; k++)
			ASSERT_TRUE(strcasecmp(st[i].kws[k - 1].name,
					       st[i].kws[k].name) < 0,
				    st[i].kws[k].name);
	}
}

/* Every table line is usable: handler, target, slot range, usage. */
static void test_keyword_tables_consistent(void)
{
	const struct stmt_desc *st = NULL;
	size_t n, i, k, supported = 0, lines = 0, todo = 0;

	st = stmt_table(&n);
	for (i = 0; i < n; i++) {
		if (st[i].line) {
			/* PAGENT configuration statements */
			lines++;
			ASSERT_TRUE(st[i].line->fn != NULL, st[i].name);
			ASSERT_TRUE(st[i].line->usage != NULL, st[i].name);
			ASSERT_TRUE(stmt_kind_is_config(st[i].kind), st[i].name);
			if (!(st[i].flags & STMTF_ALIAS))
				ASSERT_TRUE(stmt_desc_of(st[i].kind) == &st[i],
					    st[i].name);
			continue;
		}
		if (!st[i].kws)
			continue;
		supported++;
		ASSERT_TRUE(stmt_desc_of(st[i].kind) == &st[i], st[i].name);
		ASSERT_TRUE(stmt_lookup(st[i].name) == &st[i], st[i].name);
		for (k = 0; k < st[i].nkws; k++) {
			const struct kw *kw = &st[i].kws[k];

			ASSERT_TRUE(kw->slot < AST_MAX_SLOTS, kw->name);
			ASSERT_TRUE(kw_lookup(&st[i], kw->name) == kw, kw->name);
			if (kw->type == KW_TODO) {
				todo++;
				continue;
			}
			if (kw->flags & KWF_LIST)
				ASSERT_TRUE(kw->type == KW_REF || kw->type == KW_BLOCK,
					    kw->name);
			ASSERT_TRUE(kw->usage != NULL, kw->name);
			ASSERT_TRUE(kw->min <= kw->max, kw->name);
			if (kw->type == KW_PARAM || kw->type == KW_REF)
				ASSERT_TRUE(kw->fn != NULL, kw->name);
			if (kw->type == KW_REF || kw->type == KW_BLOCK)
				ASSERT_TRUE(stmt_desc_of(kw->target) != NULL,
					    kw->name);
		}
	}
	ASSERT_EQ(supported, 20, "block statements of reference section 1");
	ASSERT_EQ(lines, 10, "PAGENT configuration statements");
	ASSERT_EQ(todo, 0, "every AT-TLS parameter is implemented or ignored with a reason");
	/* lookups are case-insensitive */
	ASSERT_TRUE(stmt_lookup("ttlsrule") == stmt_desc_of(STMT_RULE), "stmt case");
	ASSERT_TRUE(kw_lookup(stmt_desc_of(STMT_RULE), "JOBNAME") != NULL, "kw case");
	ASSERT_TRUE(kw_lookup(stmt_desc_of(STMT_RULE), "Jobnam") == NULL, "no prefix match");
}

static void test_cipher_table(void)
{
	const struct cipher_info *t;
	size_t n, i;

	t = cipher_table(&n);
	for (i = 1; i < n; i++)
		ASSERT_TRUE(t[i - 1].code < t[i].code, t[i].iana);
	for (i = 0; i < n; i++) {
		ASSERT_TRUE(cipher_by_code(t[i].code) == &t[i], t[i].iana);
		ASSERT_TRUE(cipher_by_name(t[i].iana) == &t[i], t[i].iana);
		if (t[i].ossl)
			ASSERT_TRUE(t[i].proto == ATTLS_PROTO_TLS12 ||
				    t[i].proto == ATTLS_PROTO_TLS13, t[i].iana);
		else
			ASSERT_TRUE(!t[i].proto && t[i].why, t[i].iana);
	}
	ASSERT_STREQ(cipher_by_code(0xC02F)->ossl, "ECDHE-RSA-AES128-GCM-SHA256", "C02F");
	ASSERT_STREQ(cipher_by_code(0x1303)->ossl, "TLS_CHACHA20_POLY1305_SHA256", "1303");
	ASSERT_STREQ(cipher_by_name("tls_rsa_with_aes_256_cbc_sha")->ossl, "AES256-SHA", "0035");
	ASSERT_TRUE(cipher_by_code(0xFFFF) == NULL, "unknown code");
}

/* ------------------------------------------------------------------ */
/* lexer                                                              */
/* ------------------------------------------------------------------ */

/* Lex `text` into "W:word L R N E" tokens joined by blanks, for comparison. */
static char *lex_all(const char *text, struct policy_diags *d)
{
	static char out[2048];
	enum tok_type type;
	struct lexer lx;
	struct token t;
	size_t n = 0;

	out[0] = '\0';
	lex_init(&lx, "lex", text, strlen(text), d);
	do {
		if (lex_next(&lx, &t))
			abort();
		switch (t.type) {
		case TOK_WORD:
			n += snprintf(out + n, sizeof(out) - n, "W:%s@%u:%u ",
				      t.text, t.loc.line, t.loc.col);
			break;
		case TOK_LBRACE:
			n += snprintf(out + n, sizeof(out) - n, "{ ");
			break;
		case TOK_RBRACE:
			n += snprintf(out + n, sizeof(out) - n, "} ");
			break;
		case TOK_EOL:
			n += snprintf(out + n, sizeof(out) - n, "N ");
			break;
		case TOK_EOF:
			n += snprintf(out + n, sizeof(out) - n, "E");
			break;
		}
		type = t.type;
		tok_clear(&t);
	} while (type != TOK_EOF && n < sizeof(out));
	return out;
}

static void test_lexer_tokens(void)
{
	struct policy_diags *d = policy_diags_new();

	ASSERT_STREQ(lex_all("TTLSRule r1{\n  Keyring OWNER/RING # trailing\n}", d),
		     "W:TTLSRule@1:1 W:r1@1:10 { N W:Keyring@2:3 W:OWNER/RING@2:11 N } E",
		     "words, braces, trailing comment");
	ASSERT_STREQ(lex_all("# whole line\r\n\tLocalAddr fe80::1-fe80::ff *.x pass#word\n", d),
		     "N W:LocalAddr@2:2 W:fe80::1-fe80::ff@2:12 W:*.x@2:29 W:pass#word@2:33 N E",
		     "comment line, CRLF, ':' '-' '*' and '#' inside values");
	ASSERT_STREQ(lex_all("CertificateLabel \"My Cert {1}\"x}", d),
		     "W:CertificateLabel@1:1 W:My Cert {1}@1:18 W:x@1:31 } E",
		     "quoted value keeps blanks and braces");
	ASSERT_EQ(policy_diags_count(d), 0, "no diagnostics");
	policy_diags_free(d);
}

static void test_lexer_errors(void)
{
	struct policy_diags *d = policy_diags_new();
	char *text;

	ASSERT_STREQ(lex_all("a\x01" "b \"open\nc", d),
		     "W:a@1:1 W:b@1:3 W:open@1:5 N W:c@2:1 E", "recovers");
	text = diag_text(d);
	ASSERT_STREQ(text,
		     "lex:1:2: error: invalid character 0x01\n"
		     "    hint: policy files are plain text; remove it\n"
		     "lex:1:5: error: unterminated quoted string\n"
		     "    hint: close the quote on the same line\n",
		     "lexer diagnostics");
	free(text);
	policy_diags_free(d);
}

static void test_values(void)
{
	uint32_t v = 7;
	struct ast_addr a;
	struct ast_ports p;
	char *err = NULL;

	ASSERT_EQ(val_u32("42", 0, 100, &v), 0, "plain");
	ASSERT_EQ(v, 42, "value");
	ASSERT_EQ(val_u32("+1", 0, 100, &v), -EINVAL, "sign");
	ASSERT_EQ(val_u32(" 1", 0, 100, &v), -EINVAL, "blank");
	ASSERT_EQ(val_u32("0x10", 0, 100, &v), -EINVAL, "hex");
	ASSERT_EQ(val_u32("", 0, 100, &v), -EINVAL, "empty");
	ASSERT_EQ(val_u32("101", 0, 100, &v), -ERANGE, "above");
	ASSERT_EQ(val_u32("99999999999", 0, UINT32_MAX, &v), -ERANGE, "overflow");
	ASSERT_EQ(v, 42, "untouched on error");

	ASSERT_EQ(val_addr("::ffff:10.1.1.1", &a, &err), -1, "v4-mapped refused");
	ASSERT_STREQ(err, "'::ffff:10.1.1.1' is an IPv4-mapped IPv6 address\n"
		     "write the IPv4 address itself; IPv4 rules also match IPv4-mapped connections",
		     "v4-mapped message");
	free(err);
	err = NULL;
	ASSERT_EQ(val_addr("::/0", &a, &err), 1, "v6 all warns");
	ASSERT_TRUE(err && strstr(err, "also matches IPv4 connections"), "v6 all message");
	free(err);
	err = NULL;
	ASSERT_EQ(val_ports("0", &p, &err), 0, "any port");
	ASSERT_EQ(p.lo, 0, "any lo");
	ASSERT_EQ(p.hi, 65535, "any hi");
	ASSERT_EQ(val_ports("65536", &p, &err), -1, "too big");
	free(err);

	ASSERT_EQ(edit_distance("Jobnme", "jobname"), 1, "case-insensitive distance");
	ASSERT_EQ(edit_distance("", "abc"), 3, "empty");
}

/* ------------------------------------------------------------------ */
/* parser                                                             */
/* ------------------------------------------------------------------ */

static void test_demo_policy(void)
{
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	const struct attls_rule *r;
	const struct attls_env_cfg *e;
	char *text;
	int rc;

	rc = policy_parse_file(unit_src_path("policy/samples/demo.policy"), &p, &d);
	text = diag_text(d);
	ASSERT_EQ(rc, 0, text);
	ASSERT_STREQ(text, "", "demo.policy is clean");
	free(text);
	if (rc)
		goto out;
	rc = policy_compile(p, &img, d);
	if (!ASSERT_EQ(rc, 0, "compile demo") ||
	    !ASSERT_EQ(img.nrules, 2, "clauses") ||
	    !ASSERT_EQ(img.nactions, 2, "actions") ||
	    !ASSERT_EQ(img.nenvs, 1, "envs"))
		goto free_img;
	r = &img.rules[0];
	ASSERT_EQ(r->rule_id, 0, "rule id");
	ASSERT_EQ(r->flags, ATTLS_RF_INBOUND | ATTLS_RF_ENABLED | ATTLS_RF_JOB, "flags");
	ASSERT_EQ(r->lport_lo, 8023, "lport lo");
	ASSERT_EQ(r->lport_hi, 8023, "lport hi");
	ASSERT_EQ(r->rport_lo, 0, "rport lo");
	ASSERT_EQ(r->rport_hi, 65535, "rport hi");
	ASSERT_EQ(r->job_len, 5, "socat* compares 5 bytes");
	ASSERT_TRUE(!memcmp(r->job, "socat\0\0\0\0\0\0\0\0\0\0\0", 16), "job");
	ASSERT_STREQ(img.actions[0].rule_name, "DemoLineServer", "rule 0");
	ASSERT_STREQ(img.actions[0].group_name, "grpDemoOn", "group");
	ASSERT_STREQ(img.actions[0].env_name, "envDemoServer", "env");
	ASSERT_STREQ(img.actions[0].conn_name, "", "no conn");
	ASSERT_EQ(img.actions[0].priority, 100, "priority");
	ASSERT_EQ(img.actions[0].enabled, 1, "enabled");
	ASSERT_EQ(img.actions[0].env_index, 0, "env index");
	ASSERT_EQ(img.actions[0].trace, 6, "trace from the group");
	ASSERT_EQ(img.actions[0].where.line, 16, "source line");
	ASSERT_TRUE(strstr(img.actions[0].where.file, "demo.policy") != NULL, "source file");

	r = &img.rules[1];
	ASSERT_EQ(r->rule_id, 1, "rule id 1");
	ASSERT_EQ(r->flags, ATTLS_RF_INBOUND, "cleartext rule: no ENABLED");
	ASSERT_EQ(r->lport_lo, 8024, "8024");
	ASSERT_STREQ(img.actions[1].rule_name, "DemoClearPort", "rule 1");
	ASSERT_EQ(img.actions[1].enabled, 0, "TTLSEnabled Off");
	ASSERT_EQ(img.actions[1].env_index, -1, "no env");
	ASSERT_STREQ(img.actions[1].env_name, "", "no env name");
	ASSERT_EQ(img.actions[1].trace, 2, "default trace");

	e = &img.envs[0];
	ASSERT_STREQ(e->name, "envDemoServer", "env name");
	ASSERT_EQ(e->role, ATTLS_ROLE_SERVER, "role");
	ASSERT_STREQ(e->keyring, "attls/demo", "keyring");
	ASSERT_EQ(e->protocols, ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13, "protocols");
	ASSERT_EQ(e->handshake_timeout, 10, "timeout");
	ASSERT_STREQ(e->tls13_suites, "", "default suites");
	ASSERT_STREQ(e->tls12_ciphers, "", "default ciphers");
	ASSERT_STREQ(e->cert_label, "", "default label");
	ASSERT_EQ(e->trace, 6, "env trace");
	ASSERT_EQ(e->user_instance, 0, "user instance");
free_img:
	attls_map_image_free(&img);
out:
	policy_free(p);
	policy_diags_free(d);
}

static void test_case_and_comments(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build("# a comment line\n"
		   "ttlsrule R1   # trailing comment\n"
		   "{\n"
		   "  LOCALPORTRANGE 443\n"
		   "  direction OUTBOUND\n"
		   "  ttlsgroupactionref G\n"
		   "  TtlsEnvironmentActionRef E # why not\n"
		   "}\n"
		   "  # indented comment\n"
		   "TTLSGROUPACTION G { ttlsenabled on }\n"
		   "TTLSENVIRONMENTACTION E\n"
		   "{\n"
		   "  handshakerole client\n"
		   "  ttlskeyringparms\n"
		   "  {\n"
		   "    keyring /etc/attls/keys/client.p12\n"
		   "  }\n"
		   "}\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "no diagnostics");
	if (ASSERT_EQ(img.nrules, 1, "one clause")) {
		ASSERT_EQ(img.rules[0].flags, ATTLS_RF_OUTBOUND | ATTLS_RF_ENABLED, "flags");
		ASSERT_EQ(img.rules[0].lport_lo, 443, "port");
		ASSERT_STREQ(img.actions[0].rule_name, "R1", "names keep their case");
		ASSERT_EQ(img.envs[0].role, ATTLS_ROLE_CLIENT, "role");
		ASSERT_STREQ(img.envs[0].keyring, "/etc/attls/keys/client.p12", "path keyring");
	}
	attls_map_image_free(&img);
	free(diags);
}

/* Inline statements: braces on the same line, on the next line, named. */
static void test_nested_inline(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build("TTLSRule r { LocalPortRange 1\n Direction Both\n"
		   " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n"
		   " TTLSConnectionActionRef c }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e\n{\n"
		   "  HandshakeRole ServerWithClientAuth\n"
		   "  TTLSKeyringParms kr1 { Keyring ME/RING }\n"
		   "  TTLSEnvironmentAdvancedParms\n"
		   "  {\n"
		   "    CertificateLabel \"My Server Cert\"\n"
		   "    HandshakeTimeout 30\n"
		   "  }\n"
		   "  EnvironmentUserInstance 7\n"
		   "}\n"
		   "TTLSConnectionAction c\n{\n"
		   "  TTLSConnectionAdvancedParms { HandshakeTimeout 5 }\n"
		   "}\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "no diagnostics");
	if (ASSERT_EQ(img.nenvs, 1, "one env")) {
		ASSERT_STREQ(img.envs[0].name, "e+c", "conn changes the timeout");
		ASSERT_EQ(img.envs[0].role, ATTLS_ROLE_SERVER_CLIENTAUTH, "role");
		ASSERT_STREQ(img.envs[0].keyring, "ME/RING", "inline keyring");
		ASSERT_STREQ(img.envs[0].cert_label, "My Server Cert", "label");
		ASSERT_EQ(img.envs[0].handshake_timeout, 5, "conn overrides env");
		ASSERT_EQ(img.envs[0].user_instance, 7, "user instance");
		ASSERT_STREQ(img.actions[0].conn_name, "c", "conn name");
	}
	attls_map_image_free(&img);
	free(diags);
}

/*
 * attls extensions MaxConnections and IdleTimeout: per rule, connection
 * advanced parms over the environment's, unset = 0 (no limit), never
 * splitting the environment; bounds checked.
 */
static void test_rule_limits(void)
{
	static const char common[] =
		"TTLSGroupAction g { TTLSEnabled On }\n"
		"TTLSEnvironmentAction e\n{\n"
		"  HandshakeRole Server\n"
		"  TTLSKeyringParms { Keyring ME/RING }\n"
		"  TTLSEnvironmentAdvancedParms { MaxConnections 100\n IdleTimeout 600 }\n"
		"}\n"
		"TTLSConnectionAction c\n{\n"
		"  TTLSConnectionAdvancedParms { MaxConnections 2\n IdleTimeout 0 }\n"
		"}\n";
	struct attls_map_image img;
	char text[2048], *diags;
	int rc;

	snprintf(text, sizeof(text),
		 "TTLSRule a { LocalPortRange 1\n Direction Inbound\n"
		 " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n"
		 " TTLSConnectionActionRef c }\n"
		 "TTLSRule b { LocalPortRange 2\n Direction Inbound\n"
		 " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n%s",
		 common);
	rc = build(text, &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "no diagnostics");
	if (ASSERT_EQ(img.nactions, 2, "two rules")) {
		ASSERT_STREQ(img.actions[0].rule_name, "a", "rule a first");
		ASSERT_EQ(img.actions[0].max_conns, 2, "connection over environment");
		ASSERT_EQ(img.actions[0].idle_timeout, 0, "an explicit 0 overrides too");
		ASSERT_EQ(img.actions[1].max_conns, 100, "environment value");
		ASSERT_EQ(img.actions[1].idle_timeout, 600, "environment value");
		ASSERT_EQ(img.nenvs, 1, "limits do not split the environment");
	}
	attls_map_image_free(&img);
	free(diags);

	rc = build("TTLSRule a { LocalPortRange 1\n Direction Inbound\n"
		   " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e { HandshakeRole Server\n"
		   " TTLSKeyringParms { Keyring ME/RING } }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nactions, 1, "one rule")) {
		ASSERT_EQ(img.actions[0].max_conns, 0, "no per-rule limit by default");
		ASSERT_EQ(img.actions[0].idle_timeout, 0, "no idle timeout by default");
		ASSERT_EQ(img.envs[0].handshake_timeout, 10, "HandshakeTimeout 10 s default");
	}
	attls_map_image_free(&img);
	free(diags);

	rc = build("TTLSRule a { LocalPortRange 1\n Direction Inbound\n"
		   " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e { HandshakeRole Server\n"
		   " TTLSKeyringParms { Keyring ME/RING }\n"
		   " TTLSEnvironmentAdvancedParms { MaxConnections 10000001 } }\n",
		   &img, &diags);
	ASSERT_TRUE(rc != 0, "MaxConnections out of range is an error");
	ASSERT_TRUE(strstr(diags, "out of range 0-10000000") != NULL, diags);
	attls_map_image_free(&img);
	free(diags);
}

/* One policy per error class: exact text, line and column. */
static void test_parse_errors(void)
{
	expect_parse_diags("TTLSRule r\n{\n  Jobnme x\n}\n", -EINVAL,
		"t.policy:3:3: error: TTLSRule 'r': unknown keyword 'Jobnme'; did you mean 'Jobname'?\n"
		"t.policy:1:1: error: TTLSRule 'r': missing Direction\n"
		"    hint: add a line: Direction Inbound|Outbound|Both\n"
		"t.policy:1:1: error: TTLSRule 'r': missing TTLSGroupActionRef\n"
		"    hint: add a line: TTLSGroupActionRef name\n"
		"t.policy:1:1: error: TTLSRule 'r' has no condition besides Direction\n"
		"    hint: add at least one of LocalAddr, RemoteAddr, LocalPortRange, RemotePortRange, Jobname, Userid\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n  Keyring x\n}\n", -EINVAL,
		"t.policy:4:3: error: TTLSGroupAction 'g': Keyring is not a parameter of TTLSGroupAction\n"
		"    hint: it is a parameter of TTLSKeyringParms\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n  Frobnicate x\n}\n", -EINVAL,
		"t.policy:4:3: error: TTLSGroupAction 'g': unknown keyword 'Frobnicate'\n"
		"    hint: check the spelling against the TTLSGroupAction parameters of the AT-TLS reference\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupActon g\n{\n  TTLSEnabled On\n}\n", -EINVAL,
		"t.policy:1:1: error: unknown statement 'TTLSGroupActon'; did you mean 'TTLSGroupAction'?\n");
	expect_parse_diags("Priority 5\n", -EINVAL,
		"t.policy:1:1: error: Priority is a parameter of TTLSRule, not a statement\n"
		"    hint: put it inside the braces of a TTLSRule statement\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On Trace 3\n}\n", -EINVAL,
		"t.policy:3:3: error: TTLSGroupAction 'g': TTLSEnabled takes 1 value, 3 given\n"
		"    hint: usage: TTLSEnabled On|Off; put each parameter on its own line\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n  Trace 1\n  trace 2\n}\n", -EINVAL,
		"t.policy:5:3: error: TTLSGroupAction 'g': Trace given twice (first at line 4)\n"
		"    hint: remove one of them\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled Of\n}\n", -EINVAL,
		"t.policy:3:15: error: TTLSGroupAction 'g': 'Of' is not a valid TTLSEnabled value; did you mean 'Off'?\n"
		"    hint: usage: TTLSEnabled On|Off\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n  Trace 256\n}\n", -EINVAL,
		"t.policy:4:9: error: TTLSGroupAction 'g': Trace 256 is out of range 0-255\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n  Trace six\n}\n", -EINVAL,
		"t.policy:4:9: error: TTLSGroupAction 'g': 'six' is not a number\n"
		"    hint: usage: Trace 0-255\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g23456789012345678901234567890123\n{\n  TTLSEnabled On\n}\n", -EINVAL,
		"t.policy:1:17: error: TTLSGroupAction: name 'g23456789012345678901234567890123' is longer than 32 characters\n"
		"    hint: AT-TLS names are 1-32 characters\n");
	expect_parse_diags("TTLSGroupAction\n{\n  TTLSEnabled On\n}\n", -EINVAL,
		"t.policy:1:1: error: TTLSGroupAction needs a name (1-32 characters)\n"
		"    hint: write: TTLSGroupAction myName\n");
	expect_parse_diags("TTLSGroupAction g x\n{\n  TTLSEnabled On\n}\n", -EINVAL,
		"t.policy:1:19: error: TTLSGroupAction: unexpected x after the name\n"
		"    hint: a statement has one name; parameters go inside the braces, one per line\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n  TTLSEnabled On\n}\nTTLSGroupAction h\n{\n TTLSEnabled Off\n}\n", -EINVAL,
		"t.policy:2:3: error: TTLSGroupAction: expected '{', found 'TTLSEnabled'\n"
		"    hint: put the parameters between '{' and '}' after \"TTLSGroupAction g\"\n"
		"t.policy:4:1: warning: unused TTLSGroupAction 'h'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n", -EINVAL,
		"t.policy:1:1: error: TTLSGroupAction 'g' is not closed: missing '}' at end of file\n"
		"    hint: add '}' after its last parameter\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("}\n", -EINVAL,
		"t.policy:1:1: error: unexpected '}' with no open block\n"
		"    hint: remove it, or check the '{' above\n");
	/* z/OS-only parameters load, with a warning saying why they do nothing */
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n  FIPS140 On\n}\n", 0,
		"t.policy:4:3: warning: TTLSGroupAction 'g': FIPS140 is ignored on Linux: attls uses the system's OpenSSL\n"
		"    hint: for FIPS 140 mode enable the OpenSSL FIPS provider in openssl.cnf\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On\n  FIPS140 Of\n}\n", -EINVAL,
		"t.policy:4:11: error: TTLSGroupAction 'g': 'Of' is not a valid FIPS140 value; did you mean 'Off'?\n"
		"    hint: usage: FIPS140 Off\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("IpAddrGroup grp\n{\n  IpAddr\n  {\n    Addr 1.2.3.4\n  }\n}\n", 0,
		"t.policy:1:1: warning: unused IpAddrGroup 'grp'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSGroupAction g\n{\n  TTLSEnabled On { x }\n}\n", -EINVAL,
		"t.policy:3:18: error: TTLSGroupAction 'g': TTLSEnabled does not take a block\n"
		"    hint: TTLSEnabled On|Off\n"
		"t.policy:1:1: warning: unused TTLSGroupAction 'g'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
}

/* Rule condition values: each class of bad value, at the value's column. */
static void test_condition_errors(void)
{
	static const struct {
		const char *line;
		const char *msg;
	} cases[] = {
		{ "Jobname averyveryverylongname",
		  "t.policy:3:10: error: TTLSRule 'r': Jobname 'averyveryverylongname' is longer than 15 characters, the length of a Linux process name (comm)\n"
		  "    hint: the kernel truncates it: use 'averyveryverylo' or 'averyveryverylo*'\n" },
		{ "Jobname a*b",
		  "t.policy:3:10: error: TTLSRule 'r': Jobname 'a*b': only a trailing '*' wildcard is supported\n"
		  "    hint: use an exact name, PREFIX* or * alone\n" },
		{ "Userid a?",
		  "t.policy:3:9: error: TTLSRule 'r': Userid 'a?': only a trailing '*' wildcard is supported\n"
		  "    hint: use a user name, a uid, PREFIX* or * alone\n" },
		{ "Userid 4294967295",
		  "t.policy:3:9: error: TTLSRule 'r': Userid '4294967295' is not a valid uid (0-4294967294)\n" },
		{ "LocalAddr 10.1.1",
		  "t.policy:3:12: error: TTLSRule 'r': '10.1.1' is not an IP address\n"
		  "    hint: use a.b.c.d, an IPv6 address, addr/prefix, addr-addr or All\n" },
		{ "RemoteAddr 10.0.0.0/33",
		  "t.policy:3:13: error: TTLSRule 'r': '10.0.0.0/33': prefix length must be 0-32\n" },
		{ "RemoteAddr 10.0.0.9-10.0.0.1",
		  "t.policy:3:13: error: TTLSRule 'r': '10.0.0.9-10.0.0.1': the first address is above the second\n"
		  "    hint: write the range as low-high\n" },
		{ "RemoteAddr 10.0.0.1-::1",
		  "t.policy:3:13: error: TTLSRule 'r': '10.0.0.1-::1' mixes IPv4 and IPv6\n" },
		{ "LocalPortRange 70000",
		  "t.policy:3:17: error: TTLSRule 'r': '70000' is not a port (0-65535)\n"
		  "    hint: use n or n-m; 0 means any port\n" },
		{ "LocalPortRange 9-1",
		  "t.policy:3:17: error: TTLSRule 'r': '9-1': the first port is above the second\n"
		  "    hint: write the range as low-high\n" },
		{ "LocalPortRange 1 x",
		  "t.policy:3:19: error: TTLSRule 'r': 'x' is not a port (0-65535)\n"
		  "    hint: usage: LocalPortRange n|n-m (0 = any)\n" },
		{ "Priority 2000000001\n LocalPortRange 1",
		  "t.policy:3:11: error: TTLSRule 'r': Priority 2000000001 is out of range 1-2000000000\n" },
		{ "LocalAddr 1.2.3.4\n LocalAddrRef a",
		  "t.policy:4:2: error: TTLSRule 'r': LocalAddrRef conflicts with LocalAddr at line 3\n"
		  "    hint: keep only one of them\n" },
	};
	char text[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "TTLSRule r\n{\n %s\n Direction Inbound\n"
			 " TTLSGroupActionRef g\n}\n"
			 "TTLSGroupAction g\n{\n TTLSEnabled Off\n}\n",
			 cases[i].line);
		expect_parse_diags(text, -EINVAL, cases[i].msg);
	}
}

/* Parse errors resync at the next line: all of them in one run. */
static void test_resync_reports_all(void)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	const struct policy_diag *g;
	unsigned lines[] = { 3, 4, 5, 7, 9 };
	size_t i;
	int rc;

	rc = policy_parse_string("t.policy",
		"TTLSRule r\n{\n"
		"  Jobnme x\n"			/* 3: unknown keyword */
		"  Priority 0\n"		/* 4: range */
		"  Direction Sideways\n"	/* 5: enum */
		"  LocalPortRange 80\n"
		"  LocalPortRange 81\n"		/* 7: twice */
		"  TTLSGroupActionRef g\n"
		"  Userid a*b\n"		/* 9: wildcard */
		"}\n"
		"TTLSGroupAction g { TTLSEnabled Off }\n", &p, &d);
	ASSERT_EQ(rc, -EINVAL, "errors");
	ASSERT_TRUE(p == NULL, "no policy on error");
	if (ASSERT_EQ(policy_diags_errors(d), 5, "five errors")) {
		for (i = 0; i < 5; i++) {
			g = policy_diags_get(d, i);
			ASSERT_EQ(g->line, lines[i], g->msg);
			ASSERT_EQ(g->sev, POLICY_SEV_ERROR, g->msg);
			ASSERT_STREQ(g->file, "t.policy", "file");
		}
	}
	ASSERT_EQ(policy_diags_warnings(d), 0, "no warnings");
	ASSERT_TRUE(policy_diags_get(d, 5) == NULL, "out of range");
	policy_diags_free(d);
}

static void test_too_many_errors(void)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	char *text = malloc(200 * 32 + 64);
	size_t n = 0, i;
	int rc;

	n += sprintf(text + n, "TTLSGroupAction g\n{\n");
	for (i = 0; i < 200; i++)
		n += sprintf(text + n, "  Bogus%zu x\n", i);
	sprintf(text + n, "}\n");
	rc = policy_parse_string("t.policy", text, &p, &d);
	ASSERT_EQ(rc, -EINVAL, "errors");
	ASSERT_EQ(policy_diags_errors(d), 101, "100 errors, then give up");
	ASSERT_STREQ(policy_diags_get(d, 100)->msg, "too many errors, giving up", "last");
	free(text);
	policy_diags_free(d);
}

/* A top-level statement inside an unclosed block: report, then recover. */
static void test_missing_brace_recovery(void)
{
	expect_parse_diags(
		"TTLSRule r\n{\n  LocalPortRange 1\n  Direction Both\n"
		"  TTLSGroupActionRef g\n"
		"TTLSGroupAction g\n{\n  TTLSEnabled Off\n}\n", -EINVAL,
		"t.policy:6:1: error: missing '}' before TTLSGroupAction: TTLSRule 'r' (line 1) is not closed\n"
		"    hint: add '}' after its last parameter\n");
}

/* ------------------------------------------------------------------ */
/* resolver                                                           */
/* ------------------------------------------------------------------ */

static void test_resolve_errors(void)
{
	/* undefined reference, with and without a suggestion */
	expect_parse_diags(
		"TTLSRule x\n{\n  LocalPortRange 1\n  Direction Both\n"
		"  TTLSGroupActionRef grpOm\n}\n"
		"TTLSGroupAction grpOn\n{\n  TTLSEnabled Off\n}\n", -EINVAL,
		"t.policy:5:22: error: TTLSRule 'x': TTLSGroupActionRef 'grpOm' is not defined; did you mean 'grpOn'?\n"
		"    hint: define \"TTLSGroupAction grpOm { ... }\" or correct the name\n"
		"t.policy:7:1: warning: unused TTLSGroupAction 'grpOn'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	/* a name of another kind does not resolve */
	expect_parse_diags(
		"TTLSRule x\n{\n  LocalPortRange 1\n  Direction Both\n"
		"  TTLSGroupActionRef e\n}\n"
		"TTLSEnvironmentAction e\n{\n  HandshakeRole Server\n"
		"  TTLSKeyringParms\n  {\n    Keyring r\n  }\n}\n", -EINVAL,
		"t.policy:5:22: error: TTLSRule 'x': TTLSGroupActionRef 'e' is not defined\n"
		"    hint: define \"TTLSGroupAction e { ... }\" or correct the name\n"
		"t.policy:7:1: warning: unused TTLSEnvironmentAction 'e'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	/* duplicates name the first definition; references still resolve */
	expect_parse_diags(
		"TTLSRule x\n{\n  LocalPortRange 1\n  Direction Both\n"
		"  TTLSGroupActionRef g\n}\n"
		"TTLSGroupAction g\n{\n  TTLSEnabled Off\n}\n"
		"TTLSGroupAction g\n{\n  TTLSEnabled On\n}\n", -EINVAL,
		"t.policy:11:1: error: duplicate TTLSGroupAction 'g' (first defined at t.policy:7:1)\n"
		"    hint: names are unique per statement type: rename or delete one\n");
	/* required parameters of an environment, an inline keyring */
	expect_parse_diags(
		"TTLSRule x\n{\n  LocalPortRange 1\n  Direction Both\n"
		"  TTLSGroupActionRef g\n  TTLSEnvironmentActionRef e\n}\n"
		"TTLSGroupAction g\n{\n  TTLSEnabled On\n}\n"
		"TTLSEnvironmentAction e\n{\n  TTLSKeyringParms\n  {\n    KeyringPw secret\n  }\n}\n", -EINVAL,
		"t.policy:12:1: error: TTLSEnvironmentAction 'e': missing HandshakeRole\n"
		"    hint: add a line: HandshakeRole Server|Client|ServerWithClientAuth\n"
		"t.policy:14:3: error: TTLSKeyringParms in TTLSEnvironmentAction 'e': missing Keyring\n"
		"    hint: add a line: Keyring OWNER/RING|RING|/path/to/keyfile\n");
	/* enabled group needs an environment; a disabled one ignores it */
	expect_parse_diags(
		"TTLSRule x\n{\n  LocalPortRange 1\n  Direction Both\n"
		"  TTLSGroupActionRef g\n}\n"
		"TTLSRule y\n{\n  LocalPortRange 2\n  Direction Both\n"
		"  TTLSGroupActionRef off\n  TTLSEnvironmentActionRef e\n}\n"
		"TTLSGroupAction g\n{\n  TTLSEnabled On\n}\n"
		"TTLSGroupAction off\n{\n  TTLSEnabled Off\n}\n"
		"TTLSEnvironmentAction e\n{\n  HandshakeRole Server\n"
		"  TTLSKeyringParmsRef k\n}\n"
		"TTLSKeyringParms k\n{\n  Keyring r\n}\n"
		"TTLSCipherParms unusedCiphers\n{\n  V3CipherSuites 35\n}\n", -EINVAL,
		"t.policy:1:1: error: TTLSRule 'x': TTLSEnvironmentActionRef is required because TTLSGroupAction 'g' has TTLSEnabled On\n"
		"    hint: add TTLSEnvironmentActionRef name, or use a group with TTLSEnabled Off for cleartext\n"
		"t.policy:12:28: warning: TTLSRule 'y': TTLSEnvironmentActionRef 'e' is ignored: TTLSGroupAction 'off' has TTLSEnabled Off\n"
		"    hint: connections matching this rule stay in cleartext\n"
		"t.policy:31:1: warning: unused TTLSCipherParms 'unusedCiphers'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
}

/* A clean policy with only warnings parses (warnings are not errors). */
static void test_warnings_only(void)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	int rc;

	rc = policy_parse_string("t.policy",
		"TTLSRule r\n{\n  LocalPortRange 1\n  Direction Both\n"
		"  TTLSGroupActionRef g\n}\n"
		"TTLSGroupAction g\n{\n  TTLSEnabled Off\n}\n"
		"PortRange spare\n{\n  Port 1-2\n}\n", &p, &d);
	ASSERT_EQ(rc, 0, "warnings do not fail");
	ASSERT_TRUE(p != NULL, "policy");
	ASSERT_EQ(policy_diags_errors(d), 0, "no errors");
	ASSERT_EQ(policy_diags_warnings(d), 1, "one warning");
	ASSERT_STREQ(policy_diags_get(d, 0)->msg, "unused PortRange 'spare'", "msg");
	ASSERT_EQ(policy_diags_get(d, 0)->line, 11, "line");
	ASSERT_EQ(policy_diags_get(d, 0)->col, 1, "col");
	ASSERT_EQ(policy_diags_get(d, 0)->sev, POLICY_SEV_WARNING, "sev");
	policy_free(p);
	policy_diags_free(d);
}

static void test_parse_file_errors(void)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	char *text;
	int rc;

	rc = policy_parse_file("/nonexistent/attls.policy", &p, &d);
	ASSERT_EQ(rc, -ENOENT, "ENOENT");
	ASSERT_TRUE(p == NULL, "no policy");
	text = diag_text(d);
	ASSERT_STREQ(text, "/nonexistent/attls.policy: error: cannot open: No such file or directory\n", "msg");
	free(text);
	policy_diags_free(d);

	rc = policy_parse_file("/", &p, NULL);
	ASSERT_EQ(rc, -EISDIR, "directory");
}

/* ------------------------------------------------------------------ */
/* compiler                                                           */
/* ------------------------------------------------------------------ */

/* Priority descending, then name (strcmp); no Priority sorts last. */
static void test_compile_order(void)
{
	static const char *const want[] = { "C", "A", "B", "b", "E", "D" };
	struct attls_map_image img;
	char *diags;
	size_t i;
	int rc;

	rc = build("TTLSRule D { LocalPortRange 4\n Direction Both\n TTLSGroupActionRef g }\n"
		   "TTLSRule B { LocalPortRange 2\n Direction Both\n Priority 100\n TTLSGroupActionRef g }\n"
		   "TTLSRule E { LocalPortRange 5\n Direction Both\n Priority 1\n TTLSGroupActionRef g }\n"
		   "TTLSRule b { LocalPortRange 6\n Direction Both\n Priority 100\n TTLSGroupActionRef g }\n"
		   "TTLSRule A { LocalPortRange 1\n Direction Both\n Priority 100\n TTLSGroupActionRef g }\n"
		   "TTLSRule C { LocalPortRange 3\n Direction Both\n Priority 2000000000\n TTLSGroupActionRef g }\n"
		   "TTLSGroupAction g { TTLSEnabled Off }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (!ASSERT_EQ(img.nactions, 6, "actions") || !ASSERT_EQ(img.nrules, 6, "clauses"))
		goto out;
	for (i = 0; i < 6; i++) {
		ASSERT_STREQ(img.actions[i].rule_name, want[i], "order");
		ASSERT_EQ(img.rules[i].rule_id, i, "clause order follows rules");
	}
	ASSERT_EQ(img.actions[0].priority, 2000000000, "C");
	ASSERT_EQ(img.actions[5].priority, 0, "D has none");
	ASSERT_EQ(img.rules[0].lport_lo, 3, "C's port");
	ASSERT_EQ(img.rules[5].lport_lo, 4, "D's port");
out:
	attls_map_image_free(&img);
	free(diags);
}

static void test_compile_ports(void)
{
	struct attls_map_image img;
	struct attls_rule cl;
	char *diags;
	int rc;

	if (one_clause("LocalPortRange 0", &cl)) {
		ASSERT_EQ(cl.lport_lo, 0, "0 = any");
		ASSERT_EQ(cl.lport_hi, 65535, "0 = any");
		ASSERT_EQ(cl.rport_lo, 0, "absent = any");
		ASSERT_EQ(cl.rport_hi, 65535, "absent = any");
	}
	if (one_clause("LocalPortRange 1000-2000\n RemotePortRange 443", &cl)) {
		ASSERT_EQ(cl.lport_lo, 1000, "n-m lo");
		ASSERT_EQ(cl.lport_hi, 2000, "n-m hi");
		ASSERT_EQ(cl.rport_lo, 443, "n");
		ASSERT_EQ(cl.rport_hi, 443, "n");
	}
	if (one_clause("RemotePortRange 1024 65535", &cl)) {
		ASSERT_EQ(cl.rport_lo, 1024, "n m lo");
		ASSERT_EQ(cl.rport_hi, 65535, "n m hi");
	}
	rc = build("TTLSRule r { LocalPortRangeRef web\n Direction Inbound\n TTLSGroupActionRef g }\n"
		   "PortRange web\n{\n  Port 8443-8445\n}\n"
		   "TTLSGroupAction g { TTLSEnabled Off }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nrules, 1, "one clause")) {
		ASSERT_EQ(img.rules[0].lport_lo, 8443, "ref lo");
		ASSERT_EQ(img.rules[0].lport_hi, 8445, "ref hi");
	}
	attls_map_image_free(&img);
	free(diags);
}

static void test_compile_addrs(void)
{
	uint8_t lo[16], hi[16];
	struct attls_map_image img;
	struct attls_rule cl;
	char *diags;
	int rc;

	if (one_clause("LocalAddr 192.168.1.10\n RemoteAddr All", &cl)) {
		v4(lo, "192.168.1.10");
		ASSERT_EQ(cl.flags & (ATTLS_RF_LADDR | ATTLS_RF_RADDR), ATTLS_RF_LADDR, "All = no RADDR");
		ASSERT_TRUE(!memcmp(cl.laddr_lo, lo, 16), "v4 as ::ffff:a.b.c.d");
		ASSERT_TRUE(!memcmp(cl.laddr_hi, lo, 16), "single: lo == hi");
		ASSERT_EQ(cl.laddr_lo[10], 0xff, "mapped marker");
	}
	if (one_clause("RemoteAddr 10.1.0.0/16", &cl)) {
		v4(lo, "10.1.0.0");
		v4(hi, "10.1.255.255");
		ASSERT_EQ(cl.flags & ATTLS_RF_RADDR, ATTLS_RF_RADDR, "RADDR");
		ASSERT_TRUE(!memcmp(cl.raddr_lo, lo, 16), "prefix lo");
		ASSERT_TRUE(!memcmp(cl.raddr_hi, hi, 16), "prefix hi");
	}
	if (one_clause("RemoteAddr 10.0.0.5-10.0.1.7", &cl)) {
		v4(lo, "10.0.0.5");
		v4(hi, "10.0.1.7");
		ASSERT_TRUE(!memcmp(cl.raddr_lo, lo, 16), "range lo");
		ASSERT_TRUE(!memcmp(cl.raddr_hi, hi, 16), "range hi");
	}
	if (one_clause("LocalAddr 2001:db8::1", &cl)) {
		v6(lo, "2001:db8::1");
		ASSERT_TRUE(!memcmp(cl.laddr_lo, lo, 16), "v6");
		ASSERT_TRUE(!memcmp(cl.laddr_hi, lo, 16), "v6 single");
	}
	if (one_clause("RemoteAddr 2001:db8:1::/48", &cl)) {
		v6(lo, "2001:db8:1::");
		v6(hi, "2001:db8:1:ffff:ffff:ffff:ffff:ffff");
		ASSERT_TRUE(!memcmp(cl.raddr_lo, lo, 16), "v6 prefix lo");
		ASSERT_TRUE(!memcmp(cl.raddr_hi, hi, 16), "v6 prefix hi");
	}
	if (one_clause("LocalAddr 0.0.0.0/0", &cl)) {
		v4(lo, "0.0.0.0");
		v4(hi, "255.255.255.255");
		ASSERT_TRUE(!memcmp(cl.laddr_lo, lo, 16), "v4 /0 covers IPv4 only");
		ASSERT_TRUE(!memcmp(cl.laddr_hi, hi, 16), "v4 /0 hi");
	}
	rc = build("TTLSRule r { RemoteAddrRef peer\n Direction Outbound\n TTLSGroupActionRef g }\n"
		   "IpAddr peer\n{\n  Addr 10.9.8.7\n}\n"
		   "TTLSGroupAction g { TTLSEnabled Off }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nrules, 1, "one clause")) {
		v4(lo, "10.9.8.7");
		ASSERT_EQ(img.rules[0].flags, ATTLS_RF_OUTBOUND | ATTLS_RF_RADDR, "flags");
		ASSERT_TRUE(!memcmp(img.rules[0].raddr_lo, lo, 16), "IpAddr ref");
	}
	attls_map_image_free(&img);
	free(diags);
}

static void test_compile_job(void)
{
	struct attls_rule cl;

	if (one_clause("Jobname nginx", &cl)) {
		ASSERT_EQ(cl.flags & ATTLS_RF_JOB, ATTLS_RF_JOB, "JOB");
		ASSERT_EQ(cl.job_len, 6, "exact name compares its NUL");
		ASSERT_TRUE(!memcmp(cl.job, "nginx\0\0\0\0\0\0\0\0\0\0\0", 16), "padded");
	}
	if (one_clause("Jobname APPS*", &cl)) {
		ASSERT_EQ(cl.job_len, 4, "prefix length");
		ASSERT_TRUE(!memcmp(cl.job, "APPS\0", 5), "prefix");
	}
	if (one_clause("Jobname 123456789012345", &cl))
		ASSERT_EQ(cl.job_len, 16, "15 chars + NUL");
	if (one_clause("Jobname *", &cl)) {
		ASSERT_EQ(cl.flags & ATTLS_RF_JOB, 0, "* alone = any");
		ASSERT_EQ(cl.job_len, 0, "no job");
	}
}

static void test_compile_uid(void)
{
	struct attls_map_image img;
	struct attls_rule cl;
	char *diags;
	int rc;

	if (one_clause("Userid bob", &cl)) {
		ASSERT_EQ(cl.flags & ATTLS_RF_UID, ATTLS_RF_UID, "UID");
		ASSERT_EQ(cl.uid, 2000, "resolved through the hook");
	}
	if (one_clause("Userid 42", &cl))
		ASSERT_EQ(cl.uid, 42, "numeric");
	if (one_clause("Userid *", &cl))
		ASSERT_EQ(cl.flags & ATTLS_RF_UID, 0, "* = any");

	rc = build(rule_text("Userid nobodyhere"), &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "unknown user");
	ASSERT_STREQ(diags,
		     "t.policy:3:8: error: TTLSRule 'r': Userid 'nobodyhere' is not a known user\n"
		     "    hint: create the user first, or give the numeric uid\n", "message");
	ASSERT_EQ(img.nrules, 0, "image left empty");
	ASSERT_TRUE(img.rules == NULL && img.actions == NULL, "image freed");
	free(diags);

	/* app* = app1 (1001), apple (1003), app2 (1002), app1alias (1001):
	 * three clauses in uid order, adjacent, one rule_id */
	rc = build("TTLSRule first { LocalPortRange 1\n Direction Both\n Priority 9\n TTLSGroupActionRef g }\n"
		   "TTLSRule wild { LocalPortRange 2\n Userid app*\n Direction Both\n Priority 5\n TTLSGroupActionRef g }\n"
		   "TTLSRule last { LocalPortRange 3\n Direction Both\n Priority 1\n TTLSGroupActionRef g }\n"
		   "TTLSGroupAction g { TTLSEnabled Off }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nrules, 5, "1 + 3 + 1 clauses")) {
		ASSERT_EQ(img.rules[0].rule_id, 0, "first");
		ASSERT_EQ(img.rules[1].rule_id, 1, "wild 1");
		ASSERT_EQ(img.rules[2].rule_id, 1, "wild 2");
		ASSERT_EQ(img.rules[3].rule_id, 1, "wild 3");
		ASSERT_EQ(img.rules[4].rule_id, 2, "last");
		ASSERT_EQ(img.rules[1].uid, 1001, "uid order");
		ASSERT_EQ(img.rules[2].uid, 1002, "uid order");
		ASSERT_EQ(img.rules[3].uid, 1003, "uid order");
		ASSERT_EQ(img.rules[2].lport_lo, 2, "same conditions");
		ASSERT_EQ(img.rules[3].flags, ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND | ATTLS_RF_UID, "flags");
	}
	attls_map_image_free(&img);
	free(diags);

	rc = build(rule_text("Userid zz*"), &img, &diags);
	ASSERT_EQ(rc, 0, "no match is a warning");
	ASSERT_STREQ(diags,
		     "t.policy:3:8: warning: TTLSRule 'r': Userid 'zz*' matches no user, so the rule never applies\n"
		     "    hint: users are looked up each time the policy is loaded\n", "message");
	ASSERT_EQ(img.nrules, 0, "no clause");
	ASSERT_EQ(img.nactions, 1, "the rule is still listed");
	attls_map_image_free(&img);
	free(diags);
}

static void test_compile_direction_and_group(void)
{
	struct attls_map_image img;
	struct attls_rule cl;
	char *diags;
	int rc;

	rc = build("TTLSRule r { LocalPortRange 1\n Direction Both\n TTLSGroupActionRef g }\n"
		   "TTLSGroupAction g { TTLSEnabled Off\n Trace 1 }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nrules, 1, "clause")) {
		ASSERT_EQ(img.rules[0].flags, ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND, "Both, not enabled");
		ASSERT_EQ(img.actions[0].enabled, 0, "Off");
		ASSERT_EQ(img.actions[0].env_index, -1, "no env");
		ASSERT_EQ(img.actions[0].trace, 1, "group trace");
		ASSERT_EQ(img.nenvs, 0, "no envs");
	}
	attls_map_image_free(&img);
	free(diags);
	if (one_clause("LocalPortRange 1", &cl))
		ASSERT_EQ(cl.flags, ATTLS_RF_INBOUND | ATTLS_RF_ENABLED, "Inbound + enabled");
}

/* Trace: connection > environment > group > default 2. */
static void test_compile_trace(void)
{
	static const char *const head =
		"TTLSRule a { LocalPortRange 1\n Direction Both\n Priority 4\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n TTLSConnectionActionRef c }\n"
		"TTLSRule b { LocalPortRange 2\n Direction Both\n Priority 3\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		"TTLSRule c { LocalPortRange 3\n Direction Both\n Priority 2\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e2 }\n"
		"TTLSRule d { LocalPortRange 4\n Direction Both\n Priority 1\n TTLSGroupActionRef plain }\n"
		"TTLSGroupAction g { TTLSEnabled On\n Trace 4 }\n"
		"TTLSGroupAction plain { TTLSEnabled Off }\n"
		"TTLSEnvironmentAction e { HandshakeRole Server\n Trace 8\n TTLSKeyringParmsRef k }\n"
		"TTLSEnvironmentAction e2 { HandshakeRole Server\n TTLSKeyringParmsRef k }\n"
		"TTLSConnectionAction c { Trace 16 }\n"
		"TTLSKeyringParms k { Keyring ring }\n";
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build(head, &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nactions, 4, "rules")) {
		ASSERT_EQ(img.actions[0].trace, 16, "conn");
		ASSERT_EQ(img.actions[1].trace, 8, "env");
		ASSERT_EQ(img.actions[2].trace, 4, "group");
		ASSERT_EQ(img.actions[3].trace, 2, "default");
		/* a conn action that only changes Trace shares the env */
		ASSERT_EQ(img.nenvs, 2, "e and e2");
		ASSERT_EQ(img.actions[0].env_index, 0, "a -> e");
		ASSERT_EQ(img.actions[1].env_index, 0, "b -> e");
		ASSERT_EQ(img.actions[2].env_index, 1, "c -> e2");
		ASSERT_STREQ(img.envs[0].name, "e", "plain name");
		ASSERT_STREQ(img.actions[0].conn_name, "c", "conn still named");
	}
	attls_map_image_free(&img);
	free(diags);
}

/* An environment `e` with the given advanced parms and cipher lines. */
static int build_env(const char *adv, const char *ciphers,
		     struct attls_map_image *img, char **diags)
{
	static char text[4096];

	snprintf(text, sizeof(text),
		 "TTLSRule r { LocalPortRange 1\n Direction Both\n"
		 " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		 "TTLSGroupAction g { TTLSEnabled On }\n"
		 "TTLSEnvironmentAction e\n{\n"		/* line 6 */
		 " HandshakeRole Client\n"
		 " TTLSKeyringParms { Keyring ring }\n"
		 " TTLSEnvironmentAdvancedParms\n {\n%s\n }\n"	/* adv from line 12 */
		 " TTLSCipherParms\n {\n%s\n }\n"		/* keyword at 14:2 */
		 "}\n", adv, ciphers);
	return build(text, img, diags);
}

static void test_cipher_mapping(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build_env("",
		       "  V3CipherSuites TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 35 TLS_AES_256_GCM_SHA384\n"
		       "  V3CipherSuites4Char 1301 C02F 1302 CCA8\n"
		       "  V3CipherSuites TLS_RSA_WITH_RC4_128_SHA 0A XYZ",
		       &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags,
		     "t.policy:18:3: warning: TTLSCipherParms in TTLSEnvironmentAction 'e': V3CipherSuites: dropped unsupported cipher suites: "
		     "TLS_RSA_WITH_RC4_128_SHA (RC4 is broken), 0A (3DES is disabled (SWEET32)), XYZ (unknown)\n"
		     "    hint: attls uses TLS 1.2/1.3 suites with AES-GCM, AES-CBC or CHACHA20; 4-digit codes go on V3CipherSuites4Char\n",
		     "dropped suites are named");
	if (ASSERT_EQ(img.nenvs, 1, "env")) {
		/* order kept, duplicates keep their first position */
		ASSERT_STREQ(img.envs[0].tls13_suites,
			     "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", "1.3 suites");
		ASSERT_STREQ(img.envs[0].tls12_ciphers,
			     "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA:ECDHE-RSA-CHACHA20-POLY1305",
			     "1.2 cipher list");
		ASSERT_EQ(img.envs[0].protocols, ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13, "both");
		ASSERT_EQ(img.envs[0].role, ATTLS_ROLE_CLIENT, "role");
	}
	attls_map_image_free(&img);
	free(diags);

	/* a 4-digit code on V3CipherSuites is not a 2-digit code */
	rc = build_env("", "  V3CipherSuites C02F\n  V3CipherSuites 2F", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_TRUE(strstr(diags, "dropped unsupported cipher suites: C02F (unknown)") != NULL, diags);
	if (ASSERT_EQ(img.nenvs, 1, "env")) {
		ASSERT_STREQ(img.envs[0].tls12_ciphers, "AES128-SHA", "2F");
		ASSERT_EQ(img.envs[0].protocols, ATTLS_PROTO_TLS12,
			  "defaulted TLSv1.3 without a suite is dropped");
		ASSERT_STREQ(img.envs[0].tls13_suites, "", "none");
	}
	attls_map_image_free(&img);
	free(diags);
}

static void test_cipher_nothing_usable(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build_env("", "  V3CipherSuites 05 0A", &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "nothing left");
	ASSERT_STREQ(diags,
		     "t.policy:16:3: warning: TTLSCipherParms in TTLSEnvironmentAction 'e': V3CipherSuites: dropped unsupported cipher suites: "
		     "05 (RC4 is broken), 0A (3DES is disabled (SWEET32))\n"
		     "    hint: attls uses TLS 1.2/1.3 suites with AES-GCM, AES-CBC or CHACHA20; 4-digit codes go on V3CipherSuites4Char\n"
		     "t.policy:14:2: error: TTLSEnvironmentAction 'e': no usable cipher suite is left in its TTLSCipherParms\n"
		     "    hint: list suites such as TLS_AES_128_GCM_SHA256 or TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n",
		     "message");
	free(diags);

	rc = build_env("  TLSv1.3 On", "  V3CipherSuites4Char C02F", &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "explicit TLSv1.3 without a 1.3 suite");
	ASSERT_STREQ(diags,
		     "t.policy:14:2: error: TTLSEnvironmentAction 'e': TLSv1.3 is On but its TTLSCipherParms list no usable TLS 1.3 cipher suite\n"
		     "    hint: add e.g. TLS_AES_128_GCM_SHA256 (1301), or set TLSv1.3 Off\n",
		     "message");
	free(diags);
}

static void test_protocol_defaults(void)
{
	static const struct {
		const char *adv;
		unsigned want;
	} cases[] = {
		{ "", ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13 },	/* neither given */
		{ "  TLSv1.2 On", ATTLS_PROTO_TLS12 },		/* z/OS: 1.3 Off */
		{ "  TLSv1.3 On", ATTLS_PROTO_TLS13 },
		{ "  TLSv1.2 Off", ATTLS_PROTO_TLS13 },
		{ "  TLSv1.2 On\n  TLSv1.3 On", ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13 },
		{ "  TLSv1 Off\n  TLSv1.1 Off\n  SSLv3 Off", ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13 },
	};
	struct attls_map_image img;
	char *diags;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = build_env(cases[i].adv, "", &img, &diags);
		ASSERT_EQ(rc, 0, diags);
		ASSERT_STREQ(diags, "", cases[i].adv);
		if (ASSERT_EQ(img.nenvs, 1, cases[i].adv))
			ASSERT_EQ(img.envs[0].protocols, cases[i].want, cases[i].adv);
		attls_map_image_free(&img);
		free(diags);
	}

	rc = build_env("  TLSv1.2 Off\n  TLSv1.3 Off", "", &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "both Off");
	ASSERT_STREQ(diags,
		     "t.policy:6:1: error: TTLSEnvironmentAction 'e': TLSv1.2 and TLSv1.3 are both Off, and attls supports no other protocol\n"
		     "    hint: set TLSv1.2 On or TLSv1.3 On in its advanced parms\n", "message");
	free(diags);

	/* a disabled protocol's suites are left out of the image */
	rc = build_env("  TLSv1.2 On", "  V3CipherSuites4Char 1301 C030", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nenvs, 1, "env")) {
		ASSERT_EQ(img.envs[0].protocols, ATTLS_PROTO_TLS12, "1.2 only");
		ASSERT_STREQ(img.envs[0].tls13_suites, "", "1.3 suites dropped");
		ASSERT_STREQ(img.envs[0].tls12_ciphers, "ECDHE-RSA-AES256-GCM-SHA384", "1.2 list");
	}
	attls_map_image_free(&img);
	free(diags);

	rc = build_env("  TLSv1 On\n  TLSv1.2 On", "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags,
		     "t.policy:12:9: warning: TTLSEnvironmentAdvancedParms in TTLSEnvironmentAction 'e': TLSv1 On is ignored: attls never enables TLSv1\n"
		     "    hint: attls negotiates only TLSv1.2 and TLSv1.3; remove the line or set it Off\n",
		     "legacy protocol warning");
	if (ASSERT_EQ(img.nenvs, 1, "env"))
		ASSERT_EQ(img.envs[0].protocols, ATTLS_PROTO_TLS12, "TLSv1 ignored");
	attls_map_image_free(&img);
	free(diags);
}

/* Connection actions that change the SSL_CTX get their own environment. */
static void test_env_conn_split(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build("TTLSRule a { LocalPortRange 1\n Direction Both\n Priority 3\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		   "TTLSRule b { LocalPortRange 2\n Direction Both\n Priority 2\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n TTLSConnectionActionRef asClient }\n"
		   "TTLSRule c { LocalPortRange 3\n Direction Both\n Priority 1\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n TTLSConnectionActionRef only13 }\n"
		   "TTLSRule d { LocalPortRange 4\n Direction Both\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n TTLSConnectionActionRef asClient }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e\n{\n HandshakeRole Server\n TTLSKeyringParms { Keyring ring }\n"
		   " TTLSEnvironmentAdvancedParms\n {\n  TLSv1.2 On\n  TLSv1.3 On\n }\n}\n"
		   "TTLSConnectionAction asClient { HandshakeRole Client }\n"
		   "TTLSConnectionAction only13 { TTLSConnectionAdvancedParms\n {\n  TLSv1.2 Off\n }\n}\n",
		   &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nenvs, 3, "e, e+asClient, e+only13")) {
		ASSERT_STREQ(img.envs[0].name, "e", "plain");
		ASSERT_EQ(img.envs[0].role, ATTLS_ROLE_SERVER, "server");
		ASSERT_STREQ(img.envs[1].name, "e+asClient", "role override");
		ASSERT_EQ(img.envs[1].role, ATTLS_ROLE_CLIENT, "client");
		ASSERT_STREQ(img.envs[2].name, "e+only13", "protocol override");
		ASSERT_EQ(img.envs[2].protocols, ATTLS_PROTO_TLS13, "conn Off wins");
		ASSERT_EQ(img.actions[0].env_index, 0, "a");
		ASSERT_EQ(img.actions[1].env_index, 1, "b");
		ASSERT_EQ(img.actions[2].env_index, 2, "c");
		ASSERT_EQ(img.actions[3].env_index, 1, "d shares b's");
		ASSERT_STREQ(img.actions[3].env_name, "e", "the action names the policy statement");
	}
	attls_map_image_free(&img);
	free(diags);
}

static void test_too_many_clauses(void)
{
	struct attls_map_image img;
	size_t cap = (ATTLS_MAX_RULES + 1) * 120 + 256, n = 0, i;
	char *text = malloc(cap);
	char *diags;
	int rc;

	for (i = 0; i <= ATTLS_MAX_RULES; i++)
		n += snprintf(text + n, cap - n,
			      "TTLSRule r%zu { LocalPortRange %zu\n Direction Both\n TTLSGroupActionRef g }\n",
			      i, i + 1);
	snprintf(text + n, cap - n, "TTLSGroupAction g { TTLSEnabled Off }\n");
	rc = build(text, &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "over the limit");
	ASSERT_STREQ(diags,
		     "error: the policy compiles to 4097 rule clauses, more than the 4096 the kernel rule table holds; the largest rules: r0 (1), r1 (1), r10 (1)\n"
		     "    hint: IpAddrGroup, IpAddrSet, PortGroup and Userid wildcards expand to one clause per combination: merge ranges, narrow wildcards or drop rules\n",
		     "message");
	ASSERT_EQ(img.nrules, 0, "empty image");
	free(diags);

	/* exactly the limit fits */
	n = strstr(text, "TTLSRule r4096 ") - text;
	snprintf(text + n, cap - n, "TTLSGroupAction g { TTLSEnabled Off }\n");
	rc = build(text, &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_EQ(img.nrules, ATTLS_MAX_RULES, "4096 clauses");
	attls_map_image_free(&img);
	free(diags);
	free(text);
}

static void test_keyring_values(void)
{
	char path[] = "/tmp/attls-stash-XXXXXX";
	char text[512];
	char *diags;
	int fd, rc;

	expect_parse_diags("TTLSKeyringParms k\n{\n  Keyring *TOKEN*/tok\n}\n", -EINVAL,
		"t.policy:3:11: error: TTLSKeyringParms 'k': Keyring '*TOKEN*/tok': PKCS #11 tokens are not supported by attls\n"
		"    hint: use OWNER/RING, RING or an absolute path\n"
		"t.policy:1:1: warning: unused TTLSKeyringParms 'k'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	expect_parse_diags("TTLSKeyringParms k\n{\n  Keyring /x\n  KeyringStashFile rel/path\n}\n", -EINVAL,
		"t.policy:4:20: error: TTLSKeyringParms 'k': KeyringStashFile 'rel/path' is not an absolute path\n"
		"t.policy:1:1: warning: unused TTLSKeyringParms 'k'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");

	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return;
	close(fd);
	chmod(path, 0644);
	snprintf(text, sizeof(text), "TTLSKeyringParms k\n{\n  Keyring /x\n  KeyringStashFile %s\n}\n", path);
	rc = parse_only(text, &diags);
	ASSERT_EQ(rc, -EINVAL, "world-readable stash");
	ASSERT_TRUE(strstr(diags, "is accessible by group or others (mode 0644)") != NULL, diags);
	ASSERT_TRUE(strstr(diags, "hint: run: chmod 600 /tmp/attls-stash-") != NULL, diags);
	free(diags);
	chmod(path, 0600);
	rc = parse_only(text, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "t.policy:1:1: warning: unused TTLSKeyringParms 'k'\n"
		     "    hint: delete it, or refer to it from a statement that uses it\n",
		     "a private stash file is accepted silently");
	free(diags);
	unlink(path);
}

static void test_dump(void)
{
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = policy_parse_file(unit_src_path("policy/samples/demo.policy"), &p, &d);
	if (!ASSERT_EQ(rc, 0, "parse demo"))
		goto out;
	rc = policy_compile(p, &img, d);
	if (!ASSERT_EQ(rc, 0, "compile demo"))
		goto out;
	f = open_memstream(&buf, &len);
	attls_map_image_dump(&img, f);
	fclose(f);
	ASSERT_TRUE(strstr(buf, "# AT-TLS policy: 2 rules (2 clauses), 1 environment, in evaluation order\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "TTLSRule DemoLineServer\n") < strstr(buf, "TTLSRule DemoClearPort\n"), "order");
	ASSERT_TRUE(strstr(buf, "  Priority:                  100\n") != NULL, "priority");
	ASSERT_TRUE(strstr(buf, "  Direction:                 Inbound\n") != NULL, "direction");
	ASSERT_TRUE(strstr(buf, "  TTLSGroupAction:           grpDemoOn (TTLSEnabled On)\n") != NULL, "group");
	ASSERT_TRUE(strstr(buf, "    LocalPortRange:          8023\n") != NULL, "port");
	ASSERT_TRUE(strstr(buf, "    Jobname:                 socat*\n") != NULL, "job");
	ASSERT_TRUE(strstr(buf, "    RemoteAddr:              All\n") != NULL, "addr");
	ASSERT_TRUE(strstr(buf, "TTLSEnvironmentAction envDemoServer\n") != NULL, "env");
	ASSERT_TRUE(strstr(buf, "  Keyring:                   attls/demo\n") != NULL, "keyring");
	ASSERT_TRUE(strstr(buf, "  Protocols:                 TLSv1.2 TLSv1.3\n") != NULL, "protocols");
	ASSERT_TRUE(strstr(buf, "gets both (z/OS would default to") != NULL, "default note");
	attls_map_image_free(&img);
	free(buf);
out:
	policy_free(p);
	policy_diags_free(d);
}

/* Addresses print back as the admin wrote them (prefix, range, single). */
static void test_dump_addresses(void)
{
	struct attls_map_image img;
	char *diags, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = build("TTLSRule r { LocalAddr 10.1.0.0/16\n RemoteAddr 10.0.0.5-10.0.0.9\n Direction Both\n TTLSGroupActionRef g }\n"
		   "TTLSRule s { LocalAddr 2001:db8::/32\n RemoteAddr ::1\n Userid 7\n Jobname x\n Direction Outbound\n TTLSGroupActionRef g }\n"
		   "TTLSGroupAction g { TTLSEnabled Off }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	f = open_memstream(&buf, &len);
	attls_map_image_dump(&img, f);
	fclose(f);
	ASSERT_TRUE(strstr(buf, "    LocalAddr:               10.1.0.0/16\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "    RemoteAddr:              10.0.0.5-10.0.0.9\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "    LocalAddr:               2001:db8::/32\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "    RemoteAddr:              ::1\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "    Userid:                  uid 7\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "    Jobname:                 x\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  Priority:                  0 (none given: lowest)\n") != NULL, buf);
	free(buf);
	attls_map_image_free(&img);
	free(diags);
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_keyword_tables_sorted),
		UNIT_TEST(test_keyword_tables_consistent),
		UNIT_TEST(test_cipher_table),
		UNIT_TEST(test_lexer_tokens),
		UNIT_TEST(test_lexer_errors),
		UNIT_TEST(test_values),
		UNIT_TEST(test_demo_policy),
		UNIT_TEST(test_case_and_comments),
		UNIT_TEST(test_nested_inline),
		UNIT_TEST(test_rule_limits),
		UNIT_TEST(test_parse_errors),
		UNIT_TEST(test_condition_errors),
		UNIT_TEST(test_resync_reports_all),
		UNIT_TEST(test_too_many_errors),
		UNIT_TEST(test_missing_brace_recovery),
		UNIT_TEST(test_resolve_errors),
		UNIT_TEST(test_warnings_only),
		UNIT_TEST(test_parse_file_errors),
		UNIT_TEST(test_compile_order),
		UNIT_TEST(test_compile_ports),
		UNIT_TEST(test_compile_addrs),
		UNIT_TEST(test_compile_job),
		UNIT_TEST(test_compile_uid),
		UNIT_TEST(test_compile_direction_and_group),
		UNIT_TEST(test_compile_trace),
		UNIT_TEST(test_cipher_mapping),
		UNIT_TEST(test_cipher_nothing_usable),
		UNIT_TEST(test_protocol_defaults),
		UNIT_TEST(test_env_conn_split),
		UNIT_TEST(test_too_many_clauses),
		UNIT_TEST(test_keyring_values),
		UNIT_TEST(test_dump),
		UNIT_TEST(test_dump_addresses),
	};

	policy_set_uid_resolver(fake_resolve);
	policy_set_user_lister(fake_list);
	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
