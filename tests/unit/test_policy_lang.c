// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_policy_lang.c - the complete AT-TLS policy language: address sets
 * and groups, port groups, clause expansion and its limit, IpTimeCondition
 * and the time-window functions, TTLSSignatureParms, the advanced
 * parameters that compile into the image, the z/OS-only parameters that
 * load with a warning, key ring forms, and the PAGENT configuration layer.
 * Messages are asserted verbatim, with line and column.
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
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "../../bpf/attls_match.h"
#include "../../policy/ast-t.h"
#include "../../policy/keywords.h"
#include "../../policy/policy.h"
#include "../../policy/sigparms.h"
#include "../../policy/values.h"
#include "policy_build.h"
#include "unit.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

static int fake_resolve(const char *name, uint32_t *uid)
{
	if (!strcmp(name, "root")) {
		*uid = 0;
		return 0;
	}
	if (!strcmp(name, "bob")) {
		*uid = 2000;
		return 0;
	}
	return -ENOENT;
}

static int fake_list(policy_user_cb cb, void *arg)
{
	int rc = cb("app1", 1001, arg);

	return rc ? rc : cb("app2", 1002, arg);
}

/* 2026-02-02 02:40:00 UTC, a Monday: a fixed "now" for compiles. */
#define NOW	((time_t)1770000000)

/* Parse and compile `text` as "t.policy" at NOW; *diags gets everything. */
static int build(const char *text, struct attls_map_image *img, char **diags)
{
	return policy_build_at(text, NOW, img, diags);
}

/* Expect `text` to build with result `rc` and exactly the diagnostics `want`. */
static void expect_diags(const char *text, int want_rc, const char *want)
{
	struct attls_map_image img;
	char *got;
	int rc = build(text, &img, &got);

	ASSERT_EQ(rc, want_rc, text);
	ASSERT_STREQ(got, want, text);
	attls_map_image_free(&img);
	free(got);
}

/* Parse only (no compile); the printed diagnostics into *diags. */
static int parse_only_diags(const char *text, char **diags)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	int rc = policy_parse_string("t.policy", text, &p, &d);

	*diags = diag_text(d);
	policy_free(p);
	policy_diags_free(d);
	return rc;
}

/* A rule r around `body` with an enabled group and environment e. */
#define RULE(body) \
	"TTLSRule r\n{\n" body "\n Direction Inbound\n" \
	" TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n}\n" \
	"TTLSGroupAction g { TTLSEnabled On }\n" \
	"TTLSEnvironmentAction e { HandshakeRole Server\n TTLSKeyringParms { Keyring ring } }\n"

/*
 * An environment e (role `role`) whose advanced parms hold `adv` and whose
 * extra lines are `extra`, used by rule r on port 1.  The advanced parms
 * start at line 10; with adv "", extra starts at line 14.
 */
static int build_env(const char *role, const char *adv, const char *extra,
		     struct attls_map_image *img, char **diags)
{
	static char text[8192];

	snprintf(text, sizeof(text),
		 "TTLSRule r { LocalPortRange 1\n Direction Both\n"
		 " TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		 "TTLSGroupAction g { TTLSEnabled On }\n"
		 "TTLSEnvironmentAction e\n{\n"			/* line 6 */
		 " TTLSEnvironmentAdvancedParms\n {\n%s\n }\n"
		 " HandshakeRole %s\n"
		 " TTLSKeyringParms { Keyring ring }\n%s\n}\n",
		 adv, role, extra);
	return build(text, img, diags);
}

/* ------------------------------------------------------------------ */
/* tables and values                                                  */
/* ------------------------------------------------------------------ */

/* Sorted for bsearch, and every name we hand OpenSSL is one it accepts. */
static void test_group_sigalg_tables(void)
{
	const struct tls_code_info *t;
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	size_t n, i;

	if (!ASSERT_TRUE(ctx != NULL, "SSL_CTX_new"))
		return;
	t = group_table(&n);
	for (i = 0; i < n; i++) {
		if (i)
			ASSERT_TRUE(t[i - 1].code < t[i].code, t[i].iana);
		ASSERT_TRUE(group_by_code(t[i].code) == &t[i], t[i].iana);
		ASSERT_TRUE(group_by_name(t[i].iana) == &t[i], t[i].iana);
		if (t[i].ossl)
			ASSERT_EQ(SSL_CTX_set1_groups_list(ctx, t[i].ossl), 1, t[i].ossl);
		else
			ASSERT_TRUE(t[i].why != NULL, t[i].iana);
	}
	t = sigalg_table(&n);
	for (i = 0; i < n; i++) {
		if (i)
			ASSERT_TRUE(t[i - 1].code < t[i].code, t[i].iana);
		ASSERT_TRUE(sigalg_by_code(t[i].code) == &t[i], t[i].iana);
		ASSERT_TRUE(sigalg_by_name(t[i].iana) == &t[i], t[i].iana);
		if (t[i].ossl)
			ASSERT_EQ(SSL_CTX_set1_sigalgs_list(ctx, t[i].ossl), 1, t[i].ossl);
		else
			ASSERT_TRUE(t[i].why != NULL, t[i].iana);
	}
	ASSERT_STREQ(group_by_code(23)->ossl, "P-256", "z/OS 0023");
	ASSERT_STREQ(group_by_code(29)->ossl, "X25519", "z/OS 0029");
	ASSERT_STREQ(group_by_code(256)->ossl, "ffdhe2048", "0x0100");
	ASSERT_STREQ(group_by_name("p-384")->iana, "secp384r1", "OpenSSL name");
	ASSERT_STREQ(sigalg_by_code(0x0601)->ossl, "RSA+SHA512", "0601");
	ASSERT_STREQ(sigalg_by_code(0x0403)->ossl, "ECDSA+SHA256", "0403");
	ASSERT_STREQ(sigalg_by_code(0x0807)->ossl, "ed25519", "0807");
	ASSERT_TRUE(sigalg_by_code(0x0201)->ossl == NULL, "SHA-1 refused");
	SSL_CTX_free(ctx);
}

static void test_time_values(void)
{
	uint32_t s;
	uint64_t v, m;

	ASSERT_EQ(val_tod("08:30", 0, &s), 0, "hh:mm");
	ASSERT_EQ(s, 30600, "08:30");
	ASSERT_EQ(val_tod("23:59:59", 0, &s), 0, "hh:mm:ss");
	ASSERT_EQ(s, 86399, "23:59:59");
	ASSERT_EQ(val_tod("24:00", 1, &s), 0, "end of day");
	ASSERT_EQ(s, 86400, "24:00");
	ASSERT_EQ(val_tod("24:00", 0, &s), -EINVAL, "24:00 only as an end");
	ASSERT_EQ(val_tod("24:01", 1, &s), -EINVAL, "24:01");
	ASSERT_EQ(val_tod("8:30", 0, &s), -EINVAL, "two digits");
	ASSERT_EQ(val_tod("08:60", 0, &s), -EINVAL, "minutes");

	ASSERT_EQ(val_datetime("20260131235959", 0, &v), 0, "14 digits");
	ASSERT_EQ(v, 20260131235959ULL, "stamp");
	ASSERT_EQ(val_datetime("20260131T120000", 0, &v), 0, "CIM T form");
	ASSERT_EQ(v, 20260131120000ULL, "T stamp");
	ASSERT_EQ(val_datetime("20260301", 0, &v), 0, "date: start");
	ASSERT_EQ(v, 20260301000000ULL, "00:00:00");
	ASSERT_EQ(val_datetime("20260301", 1, &v), 0, "date: end");
	ASSERT_EQ(v, 20260301235959ULL, "23:59:59");
	ASSERT_EQ(val_datetime("20240229", 0, &v), 0, "leap day");
	ASSERT_EQ(val_datetime("20260229", 0, &v), -EINVAL, "no leap day");
	ASSERT_EQ(val_datetime("21000229", 0, &v), -EINVAL, "century");
	ASSERT_EQ(val_datetime("20000229", 0, &v), 0, "400 years");
	ASSERT_EQ(val_datetime("20261301", 0, &v), -EINVAL, "month 13");
	ASSERT_EQ(val_datetime("20260101246000", 0, &v), -EINVAL, "hour 24");
	ASSERT_EQ(val_datetime("2026-01-01", 0, &v), -EINVAL, "dashes");

	ASSERT_EQ(val_mask("0111110", 7, &m), 0, "mask");
	ASSERT_EQ(m, 0x3e, "Mon-Fri, Sunday first");
	ASSERT_EQ(val_mask("011111", 7, &m), -EINVAL, "short");
	ASSERT_EQ(val_mask("0111112", 7, &m), -EINVAL, "digit 2");

	ASSERT_EQ(val_weekday("Sunday"), 0, "Sunday");
	ASSERT_EQ(val_weekday("sat"), 6, "sat");
	ASSERT_EQ(val_weekday("1"), 1, "ISO 1 = Monday");
	ASSERT_EQ(val_weekday("7"), 0, "ISO 7 = Sunday");
	ASSERT_EQ(val_weekday("8"), -1, "8");
	ASSERT_EQ(val_weekday("Mo"), -1, "two letters");
	ASSERT_EQ(val_month("december"), 11, "december");
	ASSERT_EQ(val_month("Feb"), 1, "Feb");
	ASSERT_EQ(val_month("12"), 11, "12");
	ASSERT_EQ(val_month("0"), -1, "0");

	ASSERT_EQ(val_hostname("www.example.com", 0), 0, "host");
	ASSERT_EQ(val_hostname("a-b.c1", 0), 0, "dash, digit");
	ASSERT_EQ(val_hostname("*.example.com", 1), 0, "wildcard");
	ASSERT_EQ(val_hostname("*.example.com", 0), -EINVAL, "no wildcard");
	ASSERT_EQ(val_hostname("-a.com", 0), -EINVAL, "leading dash");
	ASSERT_EQ(val_hostname("a-.com", 0), -EINVAL, "trailing dash");
	ASSERT_EQ(val_hostname("a..com", 0), -EINVAL, "empty label");
	ASSERT_EQ(val_hostname("a.com.", 0), -EINVAL, "trailing dot");
	ASSERT_EQ(val_hostname("", 0), -EINVAL, "empty");
	ASSERT_EQ(val_hostname("a_b.com", 0), -EINVAL, "underscore");
}

/* ------------------------------------------------------------------ */
/* addresses, ports, clause expansion                                 */
/* ------------------------------------------------------------------ */

/* IpAddrSet (Addr/Prefix/Range/IpAddr) and IpAddrGroup become OR-lists. */
static void test_addr_sets_and_groups(void)
{
	uint8_t lo[16], hi[16];
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build(RULE(" LocalAddrGroupRef grp\n LocalPortRange 443")
		   "IpAddrGroup grp\n{\n"
		   "  IpAddrSetRef set1\n"
		   "  IpAddrRef one\n"
		   "  IpAddrSet { Prefix 2001:db8::/32 }\n"
		   "  IpAddr { Addr 192.0.2.9 }\n"
		   "}\n"
		   "IpAddrSet set1\n{\n"
		   "  Range 10.0.0.1-10.0.0.5\n"
		   "  Addr 10.0.0.6\n"			/* touches the range: merged */
		   "  Prefix 172.16.0.0/12\n"
		   "  IpAddr { Addr 10.0.0.3 }\n"		/* inside: merged */
		   "}\n"
		   "IpAddr one { Addr 192.0.2.8 }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean");
	if (!ASSERT_EQ(img.nrules, 4, "10.0.0.1-6, 172.16/12, 192.0.2.8-9, 2001:db8::/32"))
		goto out;
	/* sorted by address: IPv4-mapped (::ffff:...) sorts before 2001:: */
	v4(lo, "10.0.0.1");
	v4(hi, "10.0.0.6");
	ASSERT_TRUE(!memcmp(img.rules[0].laddr_lo, lo, 16) &&
		    !memcmp(img.rules[0].laddr_hi, hi, 16), "range + touching addr");
	v4(lo, "172.16.0.0");
	v4(hi, "172.31.255.255");
	ASSERT_TRUE(!memcmp(img.rules[1].laddr_lo, lo, 16) &&
		    !memcmp(img.rules[1].laddr_hi, hi, 16), "prefix");
	v4(lo, "192.0.2.8");
	v4(hi, "192.0.2.9");
	ASSERT_TRUE(!memcmp(img.rules[2].laddr_lo, lo, 16) &&
		    !memcmp(img.rules[2].laddr_hi, hi, 16), "two adjacent IpAddr");
	v6(lo, "2001:db8::");
	v6(hi, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	ASSERT_TRUE(!memcmp(img.rules[3].laddr_lo, lo, 16) &&
		    !memcmp(img.rules[3].laddr_hi, hi, 16), "IPv6 prefix");
	ASSERT_EQ(img.rules[3].flags, ATTLS_RF_INBOUND | ATTLS_RF_ENABLED | ATTLS_RF_LADDR,
		  "flags");
	ASSERT_EQ(img.rules[3].lport_lo, 443, "port on every clause");
	ASSERT_EQ(img.rules[3].rule_id, 0, "one rule");
	ASSERT_EQ(img.actions[0].nclauses, 4, "nclauses");
out:
	attls_map_image_free(&img);
	free(diags);

	/* All anywhere in the list: no address condition at all */
	rc = build(RULE(" RemoteAddrSetRef s")
		   "IpAddrSet s { Addr 10.1.1.1\n Addr All }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nrules, 1, "All absorbs"))
		ASSERT_EQ(img.rules[0].flags & ATTLS_RF_RADDR, 0, "no RADDR");
	attls_map_image_free(&img);
	free(diags);
}

static void test_port_groups(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build(RULE(" LocalPortGroupRef pg\n RemotePortGroupRef any")
		   "PortGroup pg\n{\n  PortRangeRef web\n"
		   "  PortRange { Port 9000-9010 }\n"
		   "  PortRange { Port 9011 }\n"		/* adjacent: merged */
		   "  PortRange { Port 80 }\n}\n"
		   "PortRange web { Port 8443 8445 }\n"
		   "PortGroup any { PortRange { Port 0 }\n PortRange { Port 5 } }\n",
		   &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean");
	if (ASSERT_EQ(img.nrules, 3, "80, 8443-8445, 9000-9011")) {
		ASSERT_EQ(img.rules[0].lport_lo, 80, "sorted");
		ASSERT_EQ(img.rules[0].lport_hi, 80, "80");
		ASSERT_EQ(img.rules[1].lport_lo, 8443, "n m form");
		ASSERT_EQ(img.rules[1].lport_hi, 8445, "8445");
		ASSERT_EQ(img.rules[2].lport_lo, 9000, "merged lo");
		ASSERT_EQ(img.rules[2].lport_hi, 9011, "merged hi");
		ASSERT_EQ(img.rules[2].rport_lo, 0, "Port 0 in a group = any");
		ASSERT_EQ(img.rules[2].rport_hi, 65535, "any");
	}
	attls_map_image_free(&img);
	free(diags);
}

/* The product of the lists, adjacent, one rule_id; the neighbours intact. */
static void test_cross_product(void)
{
	struct attls_map_image img;
	char *diags;
	size_t i;
	int rc;

	rc = build("TTLSRule a { LocalPortRange 1\n Direction Both\n Priority 9\n TTLSGroupActionRef off }\n"
		   "TTLSRule b { LocalAddrSetRef two\n RemoteAddrSetRef three\n"
		   " LocalPortGroupRef ports\n Userid app*\n Direction Outbound\n"
		   " Priority 5\n TTLSGroupActionRef off }\n"
		   "TTLSRule c { LocalPortRange 2\n Direction Both\n Priority 1\n TTLSGroupActionRef off }\n"
		   "TTLSGroupAction off { TTLSEnabled Off }\n"
		   "IpAddrSet two { Addr 10.0.0.1\n Addr 10.0.0.3 }\n"
		   "IpAddrSet three { Addr ::1\n Addr ::3\n Addr ::5 }\n"
		   "PortGroup ports { PortRange { Port 1 }\n PortRange { Port 3 } }\n",
		   &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	/* 2 x 3 x 2 x 2 users = 24, plus a and c */
	if (!ASSERT_EQ(img.nrules, 26, "clauses"))
		goto out;
	ASSERT_EQ(img.rules[0].rule_id, 0, "a first");
	for (i = 1; i <= 24; i++) {
		ASSERT_EQ(img.rules[i].rule_id, 1, "b adjacent");
		ASSERT_EQ(img.rules[i].flags & (ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND),
			  ATTLS_RF_OUTBOUND, "direction on every clause");
	}
	ASSERT_EQ(img.rules[25].rule_id, 2, "c last");
	ASSERT_EQ(img.rules[1].uid, 1001, "users innermost");
	ASSERT_EQ(img.rules[2].uid, 1002, "users innermost");
	ASSERT_EQ(img.rules[3].lport_lo, 3, "then ports");
	ASSERT_EQ(img.actions[1].nclauses, 24, "nclauses");
out:
	attls_map_image_free(&img);
	free(diags);
}

/* A group cannot silently explode: the rule and its factors are named. */
static void test_expansion_limit(void)
{
	size_t cap = 200000, n = 0, i;
	struct attls_map_image img;
	char *text = malloc(cap);
	char *diags;
	int rc;

	n += snprintf(text + n, cap - n,
		      "TTLSRule big { LocalAddrSetRef many\n RemoteAddrSetRef many\n"
		      " Direction Both\n TTLSGroupActionRef off }\n"
		      "TTLSRule small { LocalPortRange 7\n Direction Both\n TTLSGroupActionRef off }\n"
		      "TTLSGroupAction off { TTLSEnabled Off }\n"
		      "IpAddrSet many {\n");
	for (i = 0; i < 70; i++)	/* 70 x 70 = 4900 > 4096 */
		n += snprintf(text + n, cap - n, " Addr 10.0.%zu.1\n", i);
	snprintf(text + n, cap - n, "}\n");
	rc = build(text, &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "over the limit");
	ASSERT_STREQ(diags,
		     "t.policy:1:1: error: TTLSRule 'big' expands to 4900 clauses (70 local addresses x 70 remote addresses x 1 local port ranges x 1 remote port ranges x 1 users), more than the 4096 the kernel rule table holds\n"
		     "    hint: every combination is one clause the kernel tries in turn: merge addresses into prefixes or ranges, or split the rule\n",
		     "names the rule and the factors");
	ASSERT_EQ(img.nrules, 0, "nothing installed");
	free(diags);

	/* 40 x 40 = 1600 each: three rules together are over, each alone is not */
	n = 0;
	n += snprintf(text + n, cap - n,
		      "TTLSRule r1 { LocalAddrSetRef s\n RemoteAddrSetRef s\n Direction Both\n TTLSGroupActionRef off }\n"
		      "TTLSRule r2 { LocalAddrSetRef s\n RemoteAddrSetRef s\n Direction Inbound\n TTLSGroupActionRef off }\n"
		      "TTLSRule r3 { LocalAddrSetRef s\n RemoteAddrSetRef s\n Direction Outbound\n TTLSGroupActionRef off }\n"
		      "TTLSRule r4 { LocalPortRange 1\n Direction Both\n TTLSGroupActionRef off }\n"
		      "TTLSGroupAction off { TTLSEnabled Off }\n"
		      "IpAddrSet s {\n");
	for (i = 0; i < 40; i++)
		n += snprintf(text + n, cap - n, " Addr 10.0.%zu.1\n", i);
	snprintf(text + n, cap - n, "}\n");
	rc = build(text, &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "total over the limit");
	ASSERT_STREQ(diags,
		     "error: the policy compiles to 4801 rule clauses, more than the 4096 the kernel rule table holds; the largest rules: r1 (1600), r2 (1600), r3 (1600)\n"
		     "    hint: IpAddrGroup, IpAddrSet, PortGroup and Userid wildcards expand to one clause per combination: merge ranges, narrow wildcards or drop rules\n",
		     "names the largest rules");
	free(diags);
	free(text);
}

/*
 * 1500 rules of mixed priorities compile in AT-TLS order, and the
 * classifier of bpf/attls_match.h finds the first matching rule.
 */
static void test_thousand_rules(void)
{
	size_t cap = 1500 * 160 + 256, n = 0, i, k;
	struct attls_map_image img;
	struct attls_owner o;
	struct attls_flow f;
	char *text = malloc(cap);
	char *diags;
	int rc;

	for (i = 0; i < 1500; i++)
		n += snprintf(text + n, cap - n,
			      "TTLSRule r%04zu { LocalPortRange %zu\n Direction Inbound\n"
			      " Priority %zu\n TTLSGroupActionRef off }\n",
			      i, 1000 + i % 500, 1 + i % 3);
	snprintf(text + n, cap - n, "TTLSGroupAction off { TTLSEnabled Off }\n");
	rc = build(text, &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (!ASSERT_EQ(img.nrules, 1500, "clauses"))
		goto out;
	for (i = 1; i < img.nactions; i++) {
		const struct attls_action *a = &img.actions[i - 1], *b = &img.actions[i];

		ASSERT_TRUE(a->priority > b->priority ||
			    (a->priority == b->priority &&
			     strcmp(a->rule_name, b->rule_name) < 0), b->rule_name);
	}
	/* port 1002 is on r0002 (prio 3), r0502 (prio 1), r1002 (prio 2) */
	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	f.lport = 1002;
	for (k = 0; k < img.nrules; k++) {
		if (attls_rule_match(&img.rules[k], &f, &o, ATTLS_RF_INBOUND))
			break;
	}
	if (ASSERT_TRUE(k < img.nrules, "a rule matches"))
		ASSERT_STREQ(img.actions[img.rules[k].rule_id].rule_name, "r0002",
			     "highest priority first");
out:
	attls_map_image_free(&img);
	free(diags);
	free(text);
}

static void test_addr_set_errors(void)
{
	expect_diags("IpAddrSet s\n{\n  Prefix 10.0.0.1\n  Range 10.0.0.0/8\n"
		     "  Prefix All\n  Prefx 1.2.3.0/24\n}\n"
		     "IpAddrSet empty\n{\n}\n", -EINVAL,
		"t.policy:3:10: error: IpAddrSet 's': Prefix '10.0.0.1' is not addr/prefixLength\n"
		"    hint: write e.g. 10.0.0.0/8; single addresses go on Addr, ranges on Range\n"
		"t.policy:4:9: error: IpAddrSet 's': Range '10.0.0.0/8' is not addr-addr\n"
		"    hint: write e.g. 10.1.1.1-10.1.1.20; prefixes go on Prefix\n"
		"t.policy:5:10: error: IpAddrSet 's': Prefix 'All' is not addr/prefixLength\n"
		"    hint: write e.g. 10.0.0.0/8; single addresses go on Addr, ranges on Range\n"
		"t.policy:6:3: error: IpAddrSet 's': unknown keyword 'Prefx'; did you mean 'Prefix'?\n"
		"t.policy:8:1: error: IpAddrSet 'empty': missing Addr or IpAddr or IpAddrRef or Prefix or Range\n"
		"    hint: add a line: Addr a.b.c.d|ipv6|addr/prefix|addr-addr or IpAddr [name] { ... } or IpAddrRef name or Prefix addr/prefixLength or Range addr-addr\n"
		"t.policy:1:1: warning: unused IpAddrSet 's'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n"
		"t.policy:8:1: warning: unused IpAddrSet 'empty'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	/* references of the wrong kind, typos, two address conditions */
	expect_diags(RULE(" LocalAddrSetRef grp\n RemoteAddrGroupRef grp\n LocalPortGroupRef prts\n"
			  " RemoteAddr 10.0.0.1\n RemoteAddrRef x")
		     "IpAddrGroup grp { IpAddrSetRef st }\n"
		     "IpAddrSet set { Addr 10.0.0.1 }\n"
		     "PortGroup ports { PortRangeRef p }\n", -EINVAL,
		"t.policy:6:2: error: TTLSRule 'r': RemoteAddr conflicts with RemoteAddrGroupRef at line 4\n"
		"    hint: keep only one of them\n"
		"t.policy:7:2: error: TTLSRule 'r': RemoteAddrRef conflicts with RemoteAddrGroupRef at line 4\n"
		"    hint: keep only one of them\n"
		"t.policy:3:18: error: TTLSRule 'r': LocalAddrSetRef 'grp' is not defined\n"
		"    hint: define \"IpAddrSet grp { ... }\" or correct the name\n"
		"t.policy:5:20: error: TTLSRule 'r': LocalPortGroupRef 'prts' is not defined; did you mean 'ports'?\n"
		"    hint: define \"PortGroup prts { ... }\" or correct the name\n"
		"t.policy:15:32: error: IpAddrGroup 'grp': IpAddrSetRef 'st' is not defined; did you mean 'set'?\n"
		"    hint: define \"IpAddrSet st { ... }\" or correct the name\n"
		"t.policy:17:32: error: PortGroup 'ports': PortRangeRef 'p' is not defined\n"
		"    hint: define \"PortRange p { ... }\" or correct the name\n"
		"t.policy:16:1: warning: unused IpAddrSet 'set'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n"
		"t.policy:17:1: warning: unused PortGroup 'ports'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
}

/* ------------------------------------------------------------------ */
/* IpTimeCondition                                                    */
/* ------------------------------------------------------------------ */

/* A rule r (port 1) with IpTimeCondition `body`, compiled at `now`. */
static int build_time(const char *body, time_t now,
		      struct attls_map_image *img, char **diags)
{
	static char text[4096];

	snprintf(text, sizeof(text),
		 "TTLSRule r { LocalPortRange 1\n Direction Both\n"
		 " IpTimeConditionRef t\n TTLSGroupActionRef off }\n"
		 "TTLSGroupAction off { TTLSEnabled Off }\n"
		 "IpTimeCondition t\n{\n%s\n}\n", body);	/* body at line 8 */
	return policy_build_at(text, now, img, diags);
}

static void test_time_parse_errors(void)
{
	static const struct {
		const char *body;
		const char *msg;
	} cases[] = {
		{ "  TimeOfDayRange 08:00",
		  "t.policy:8:18: error: IpTimeCondition 't': TimeOfDayRange '08:00' is not hh:mm-hh:mm\n"
		  "    hint: write e.g. 08:00-17:30; a range like 22:00-06:00 wraps midnight\n" },
		{ "  TimeOfDayRange 08:00-08:00",
		  "t.policy:8:18: error: IpTimeCondition 't': TimeOfDayRange 08:00-08:00 is empty\n"
		  "    hint: use 00:00-24:00 for the whole day\n" },
		{ "  ConditionTimeRange 20260301:20260201",
		  "t.policy:8:22: error: IpTimeCondition 't': ConditionTimeRange: the start is after the end\n"
		  "    hint: write the earlier time first\n" },
		{ "  ConditionTimeRange 20260230:20261231",
		  "t.policy:8:22: error: IpTimeCondition 't': ConditionTimeRange '20260230:20261231' is not start:end\n"
		  "    hint: write YYYYMMDDhhmmss:YYYYMMDDhhmmss or YYYYMMDD:YYYYMMDD, e.g. 20260101000000:20261231235959\n" },
		{ "  DayOfWeekMask 0000000",
		  "t.policy:8:17: error: IpTimeCondition 't': DayOfWeekMask 0000000 selects nothing, so the rule would never apply\n" },
		{ "  MonthOfYearMask 1111",
		  "t.policy:8:19: error: IpTimeCondition 't': MonthOfYearMask '1111' is not 12 digits 0 or 1\n"
		  "    hint: usage: MonthOfYearMask 12 digits 0/1, January first\n" },
		{ "  DayOfMonthMask 1",
		  "t.policy:8:18: error: IpTimeCondition 't': DayOfMonthMask is not 31 or 62 digits 0 or 1\n"
		  "    hint: usage: DayOfMonthMask 31 or 62 digits 0/1 (day 1 first; then from the month's end)\n" },
		{ "  FromDayOfWeek Funday\n  ToDayOfWeek Friday",
		  "t.policy:8:17: error: IpTimeCondition 't': FromDayOfWeek 'Funday' is not a day of the week\n"
		  "    hint: usage: FromDayOfWeek Monday..Sunday (or 1-7, 1 = Monday)\n" },
		{ "  FromDayOfWeek Monday",
		  "t.policy:8:3: error: IpTimeCondition 't': FromDayOfWeek needs ToDayOfWeek\n" },
		{ "  ToMonthOfYear March",
		  "t.policy:8:3: error: IpTimeCondition 't': ToMonthOfYear needs FromMonthOfYear\n" },
		{ "  DayOfWeekMask 0111110\n  ToDayOfWeek Friday",
		  "t.policy:9:3: error: IpTimeCondition 't': ToDayOfWeek conflicts with DayOfWeekMask at line 8\n"
		  "    hint: keep only one of them\n" },
		{ "  DayOfWeekMask 0111110\n  FromDayOfWeek Monday",
		  "t.policy:9:3: error: IpTimeCondition 't': FromDayOfWeek conflicts with DayOfWeekMask at line 8\n"
		  "    hint: keep only one of them\n" },
		{ "  FromTimeOfDay 10:00\n  ToTimeOfDay 10:00",
		  "t.policy:8:3: error: IpTimeCondition 't': FromTimeOfDay and ToTimeOfDay give an empty window\n"
		  "    hint: use 00:00 to 24:00 for the whole day\n" },
		{ "  TimeZone EST",
		  "t.policy:8:12: error: IpTimeCondition 't': 'EST' is not a valid TimeZone value\n"
		  "    hint: usage: TimeZone Local|UTC\n" },
	};
	struct attls_map_image img;
	char *diags;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = build_time(cases[i].body, NOW, &img, &diags);
		ASSERT_EQ(rc, -EINVAL, cases[i].body);
		ASSERT_STREQ(diags, cases[i].msg, cases[i].body);
		attls_map_image_free(&img);
		free(diags);
	}
}

/* UTC midnight of a date, and seconds into it. */
static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

/* A compiled window from an IpTimeCondition body (must compile). */
static struct attls_time_window window(const char *body)
{
	struct attls_time_window w;
	struct attls_map_image img;
	char *diags;
	int rc = build_time(body, NOW, &img, &diags);

	memset(&w, 0, sizeof(w));
	if (ASSERT_EQ(rc, 0, diags) && ASSERT_EQ(img.nactions, 1, body))
		w = img.actions[0].time;
	attls_map_image_free(&img);
	free(diags);
	return w;
}

static void test_time_window_eval(void)
{
	struct attls_time_window w;

	/* 2026-02-02 is a Monday */
	w = window("  TimeOfDayRange 22:00-06:00\n  DayOfWeekMask 0111110\n  TimeZone UTC");
	ASSERT_EQ(w.set, 1, "set");
	ASSERT_EQ(w.utc, 1, "utc");
	ASSERT_EQ(w.tod_from, 79200, "from");
	ASSERT_EQ(w.tod_to, 21600, "to");
	ASSERT_EQ(w.dow_mask, 0x3e, "Mon-Fri");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 2, 23, 0)), 1, "Mon 23:00");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 3, 5, 59)), 1, "Tue 05:59");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 3, 6, 0)), 0, "Tue 06:00: end excluded");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 2, 21, 59)), 0, "Mon 21:59");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 7, 23, 0)), 0, "Saturday");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 2, 1, 0)), 1,
		  "Mon 01:00: the day the time falls on counts");

	/* From/To form, wrapping: Friday..Monday, November..February */
	w = window("  FromDayOfWeek Friday\n  ToDayOfWeek 1\n"
		   "  FromMonthOfYear Nov\n  ToMonthOfYear 2\n  TimeZone UTC");
	ASSERT_EQ(w.dow_mask, 0x63, "Fri, Sat, Sun, Mon");
	ASSERT_EQ(w.month_mask, 0xc03, "Nov, Dec, Jan, Feb");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 2, 12, 0)), 1, "Mon Feb");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 3, 12, 0)), 0, "Tue");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 3, 2, 12, 0)), 0, "March");

	/* days of the month: the 1st, and the last day (from the end) */
	w = window("  DayOfMonthMask 10000000000000000000000000000001000000000000000000000000000000\n"
		   "  TimeZone UTC");
	ASSERT_EQ(w.dom_mask, 1, "day 1");
	ASSERT_EQ(w.dom_last_mask, 1, "last day");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 3, 1, 0, 0)), 1, "Mar 1");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 28, 9, 0)), 1, "Feb 28 is last");
	ASSERT_EQ(attls_time_window_active(&w, utc(2024, 2, 28, 9, 0)), 0, "not in a leap year");
	ASSERT_EQ(attls_time_window_active(&w, utc(2024, 2, 29, 9, 0)), 1, "Feb 29 2024");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 3, 30, 9, 0)), 0, "Mar 30");

	w = window("  FromDayOfMonth 28\n  ToDayOfMonth 2\n  TimeZone UTC");
	ASSERT_EQ(w.dom_mask, 0x78000003u, "28..31 (bits 27-30), 1..2");

	/* a date range, end inclusive to the second */
	w = window("  ConditionTimeRange 20260301120000:20260301120059\n  TimeZone UTC");
	ASSERT_EQ(w.start, 20260301120000ULL, "start");
	ASSERT_EQ(w.end, 20260301120059ULL, "end");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 3, 1, 12, 0)), 1, "start");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 3, 1, 12, 0) + 59), 1, "end inclusive");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 3, 1, 12, 1)), 0, "after");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 3, 1, 11, 59)), 0, "before");

	/* TimeZone Local follows TZ: 08:00-09:00 Local in UTC+1 is 07:00 UTC */
	setenv("TZ", "CET-1", 1);
	tzset();
	w = window("  TimeOfDayRange 08:00-09:00");
	ASSERT_EQ(w.utc, 0, "Local is the default");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 2, 7, 30)), 1, "07:30 UTC");
	ASSERT_EQ(attls_time_window_active(&w, utc(2026, 2, 2, 8, 30)), 0, "08:30 UTC");
	unsetenv("TZ");
	tzset();
}

/* Closed windows compile to no clause; next_change says when to recompile. */
static void test_compile_at(void)
{
	static const char *const text =
		"TTLSRule night { LocalPortRange 1\n Direction Both\n Priority 2\n"
		" IpTimeCondition { TimeOfDayRange 22:00-06:00\n TimeZone UTC }\n"
		" TTLSGroupActionRef off }\n"
		"TTLSRule always { LocalPortRange 2\n Direction Both\n Priority 1\n TTLSGroupActionRef off }\n"
		"TTLSGroupAction off { TTLSEnabled Off }\n";
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	int rc;

	rc = policy_parse_string("t.policy", text, &p, &d);
	if (!ASSERT_EQ(rc, 0, "parse"))
		goto out;
	/* 23:00: open */
	rc = policy_compile_at(p, &img, d, utc(2026, 2, 2, 23, 0));
	if (ASSERT_EQ(rc, 0, "compile") && ASSERT_EQ(img.nrules, 2, "both")) {
		ASSERT_EQ(img.actions[0].time_inactive, 0, "open");
		ASSERT_EQ(img.actions[0].nclauses, 1, "one clause");
		ASSERT_EQ(attls_image_rule_active(&img, 0, utc(2026, 2, 2, 23, 0)), 1, "active");
		ASSERT_EQ(attls_image_rule_active(&img, 1, 0), 1, "no window: always");
		ASSERT_EQ(attls_image_rule_active(&img, 2, 0), 0, "unknown rule id");
		ASSERT_EQ(attls_image_next_change(&img, utc(2026, 2, 2, 23, 0)),
			  utc(2026, 2, 3, 6, 0), "closes at 06:00");
	}
	attls_map_image_free(&img);
	/* 12:00: closed, the action stays, its clause does not */
	rc = policy_compile_at(p, &img, d, utc(2026, 2, 2, 12, 0));
	if (ASSERT_EQ(rc, 0, "compile") && ASSERT_EQ(img.nrules, 1, "only 'always'")) {
		ASSERT_EQ(img.nactions, 2, "both actions");
		ASSERT_STREQ(img.actions[0].rule_name, "night", "still listed");
		ASSERT_EQ(img.actions[0].time_inactive, 1, "closed");
		ASSERT_EQ(img.actions[0].nclauses, 0, "no clause");
		ASSERT_EQ(img.rules[0].rule_id, 1, "'always' keeps its id");
		ASSERT_EQ(attls_image_next_change(&img, utc(2026, 2, 2, 12, 0)),
			  utc(2026, 2, 2, 22, 0), "opens at 22:00");
	}
	attls_map_image_free(&img);
	ASSERT_EQ(attls_image_next_change(NULL, 0), 0, "NULL image");
out:
	policy_free(p);
	policy_diags_free(d);

	/* a date range in the future: the next change is its start */
	{
		struct attls_time_window w;
		struct attls_map_image one = { 0 };
		struct attls_action act;

		w = window("  ConditionTimeRange 20300101:20301231\n  TimeZone UTC");
		memset(&act, 0, sizeof(act));
		act.time = w;
		one.actions = &act;
		one.nactions = 1;
		ASSERT_EQ(attls_image_next_change(&one, NOW), utc(2030, 1, 1, 0, 0), "start");
		ASSERT_EQ(attls_image_next_change(&one, utc(2030, 6, 1, 0, 0)),
			  utc(2031, 1, 1, 0, 0), "second after the end");
		ASSERT_EQ(attls_image_next_change(&one, utc(2031, 6, 1, 0, 0)), 0,
			  "over: never again");
	}
}

/* ------------------------------------------------------------------ */
/* environments                                                       */
/* ------------------------------------------------------------------ */

/* The one environment of build_env(); NULL (after failing) if none. */
static const struct attls_env_cfg *one_env(const struct attls_map_image *img)
{
	return ASSERT_EQ(img->nenvs, 1, "one environment") ? &img->envs[0] : NULL;
}

static void test_signature_parms(void)
{
	const struct attls_env_cfg *e;
	struct attls_map_image img;
	char *diags;
	int rc;

	/* z/OS codes are decimal IANA numbers; a client lists key shares first */
	rc = build_env("Client", "", " TTLSSignatureParms\n {\n"
		       "  ClientECurves 0023 0024 0025\n"
		       "  ClientKeyShareGroups 0029 0023\n"
		       "  ServerKexECurves 0025\n"
		       "  SignaturePairs 0804 0403\n  SignaturePairs 0601 0804\n }",
		       &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean");
	if ((e = one_env(&img))) {
		ASSERT_STREQ(e->groups, "X25519:P-256:P-384:P-521", "shares, then curves, deduplicated");
		ASSERT_STREQ(e->sigalgs, "rsa_pss_rsae_sha256:ECDSA+SHA256:RSA+SHA512",
			     "lines concatenate, duplicates keep their first place");
	}
	attls_map_image_free(&img);
	free(diags);

	/* the same parms in a server environment: the Server lists */
	rc = build_env("Server", "", " TTLSSignatureParms\n {\n"
		       "  ClientECurves 0023\n  ServerKexECurves 0024 0023\n"
		       "  ServerKeyShareGroups 0030\n }", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img))) {
		ASSERT_STREQ(e->groups, "X448:P-384:P-256", "server lists");
		ASSERT_STREQ(e->sigalgs, "", "default signature algorithms");
	}
	attls_map_image_free(&img);
	free(diags);

	/* IANA hex codes and names are understood, and named; refused ones drop */
	rc = build_env("Client", "", " TTLSSignatureParms\n {\n"
		       "  ClientECurves 0019 0017 001D 0100 ffdhe3072 9999\n"
		       "  SignaturePairs 0201 0807 RSA+SHA256 zz\n"
		       "  SignaturePairsCert 0401\n }", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags,
		     "t.policy:16:3: warning: TTLSSignatureParms in TTLSEnvironmentAction 'e': ClientECurves: dropped unsupported groups: "
		     "0019 (secp192r1: less than 112-bit security), 9999 (unknown); read as IANA hex codes: "
		     "0017 = secp256r1, z/OS code 0023, 001D = x25519, z/OS code 0029, 0100 = ffdhe2048, z/OS code 0256\n"
		     "    hint: z/OS writes groups as 4-digit decimal IANA numbers: 0023 secp256r1, 0024 secp384r1, 0025 secp521r1, 0029 x25519, 0030 x448\n"
		     "t.policy:17:3: warning: TTLSSignatureParms in TTLSEnvironmentAction 'e': SignaturePairs: dropped unsupported signature pairs: "
		     "0201 (rsa_pkcs1_sha1: SHA-1 signatures are refused at OpenSSL security level 1 and above), zz (unknown)\n"
		     "    hint: write 4-hex-digit codes such as 0401 (RSA+SHA256), 0403 (ECDSA+SHA256), 0804 (rsa_pss_rsae_sha256), 0807 (ed25519)\n"
		     "t.policy:18:3: warning: TTLSSignatureParms in TTLSEnvironmentAction 'e': SignaturePairsCert is ignored on Linux: OpenSSL has no separate list of signature algorithms for certificates\n"
		     "    hint: SignaturePairs applies to certificates too\n",
		     "warnings");
	if ((e = one_env(&img))) {
		ASSERT_STREQ(e->groups, "P-256:X25519:ffdhe2048:ffdhe3072", "groups");
		ASSERT_STREQ(e->sigalgs, "ed25519:RSA+SHA256", "sigalgs");
	}
	attls_map_image_free(&img);
	free(diags);

	/* Any: the default list, alone */
	rc = build_env("Client", "", " TTLSSignatureParms { ClientECurves Any }", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img)))
		ASSERT_STREQ(e->groups, "", "Any = OpenSSL default");
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Client", "", " TTLSSignatureParms { ClientECurves 0023 any }", &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "Any not alone");
	ASSERT_STREQ(diags,
		     "t.policy:14:42: error: TTLSSignatureParms in TTLSEnvironmentAction 'e': ClientECurves any must be alone\n"
		     "    hint: list codes, or write only ClientECurves any for the default list\n",
		     "message");
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Client", "", " TTLSSignatureParms { ClientECurves 0023\n ClientECurves Any }",
		       &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "Any after codes");
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Client", "", " TTLSSignatureParms { SignaturePairs Any }", &img, &diags);
	ASSERT_EQ(rc, 0, "SignaturePairs knows Default only");
	ASSERT_TRUE(strstr(diags, "dropped unsupported signature pairs: Any (unknown)") != NULL, diags);
	attls_map_image_free(&img);
	free(diags);

	/* a connection action's TTLSSignatureParms replaces the environment's */
	rc = build("TTLSRule r { LocalPortRange 1\n Direction Both\n TTLSGroupActionRef g\n"
		   " TTLSEnvironmentActionRef e\n TTLSConnectionActionRef c }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e { HandshakeRole Server\n TTLSKeyringParms { Keyring ring }\n"
		   " TTLSSignatureParmsRef envSig }\n"
		   "TTLSConnectionAction c { TTLSSignatureParms { SignaturePairs 0403 } }\n"
		   "TTLSSignatureParms envSig { SignaturePairs 0401 }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img))) {
		ASSERT_STREQ(e->sigalgs, "ECDSA+SHA256", "connection wins");
		ASSERT_STREQ(e->name, "e+c", "its own environment");
	}
	attls_map_image_free(&img);
	free(diags);
}

static void test_advanced_parms(void)
{
	const struct attls_env_cfg *e;
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build_env("ServerWithClientAuth",
		       "  ClientAuthType SAFCheck\n  ApplicationControlled On\n"
		       "  SecondaryMap On\n  MiddleBoxCompatMode On\n"
		       "  ServerCertificateLabel rsaCert \"ec cert\"\n"
		       "  ServerCertificateLabel third\n"
		       "  ServerHandshakeSNI Required\n  ServerHandshakeSNIMatch Required\n"
		       "  ServerHandshakeSNIList web:WWW.Example.COM ns:x:*.example.org\n"
		       "  HostReferenceIdDNS peer.example.com",
		       "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean");
	if ((e = one_env(&img))) {
		ASSERT_EQ(e->client_auth, ATTLS_CLIENT_AUTH_SAFCHECK, "SAFCheck");
		ASSERT_EQ(e->application_controlled, 1, "ApplicationControlled");
		ASSERT_EQ(e->secondary_map, 1, "SecondaryMap");
		ASSERT_EQ(e->middlebox_compat, 1, "MiddleBoxCompatMode");
		ASSERT_EQ(e->nserver_cert_labels, 3, "labels");
		ASSERT_STREQ(e->server_cert_labels[1], "ec cert", "quoted label");
		ASSERT_STREQ(e->server_cert_labels[2], "third", "lines concatenate");
		ASSERT_EQ(e->server_sni, ATTLS_FN_REQUIRED, "server SNI");
		ASSERT_EQ(e->server_sni_match, ATTLS_FN_REQUIRED, "match");
		ASSERT_EQ(e->nsni, 2, "pairs");
		ASSERT_STREQ(e->sni[0].host, "www.example.com", "host lower-cased");
		ASSERT_STREQ(e->sni[0].label, "web", "label");
		ASSERT_STREQ(e->sni[1].label, "ns:x", "a label may hold ':'");
		ASSERT_STREQ(e->sni[1].host, "*.example.org", "wildcard host");
		ASSERT_STREQ(e->host_ref_dns, "peer.example.com", "HostReferenceIdDNS");
		ASSERT_EQ(e->client_sni, ATTLS_FN_OFF, "client SNI default");
	}
	attls_map_image_free(&img);
	free(diags);

	/* defaults */
	rc = build_env("Server", "", "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img))) {
		ASSERT_EQ(e->client_auth, ATTLS_CLIENT_AUTH_REQUIRED, "Required");
		ASSERT_EQ(e->application_controlled, 0, "Off");
		ASSERT_EQ(e->middlebox_compat, 0, "z/OS default Off");
		ASSERT_EQ(e->nserver_cert_labels, 0, "none");
		ASSERT_EQ(e->server_sni_match, ATTLS_FN_OPTIONAL, "match default");
	}
	attls_map_image_free(&img);
	free(diags);

	/* client SNI: one name is sent; a mode without a name is an error */
	rc = build_env("Client", "  ClientHandshakeSNI Required\n"
		       "  ClientHandshakeSNIList a.example.com b.example.com", "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags,
		     "t.policy:11:40: warning: TTLSEnvironmentAdvancedParms in TTLSEnvironmentAction 'e': ClientHandshakeSNIList: only the first name, a.example.com, is sent\n"
		     "    hint: TLS carries one host name per handshake (RFC 6066)\n", "warning");
	if ((e = one_env(&img))) {
		ASSERT_EQ(e->client_sni, ATTLS_FN_REQUIRED, "Required");
		ASSERT_STREQ(e->client_sni_name, "a.example.com", "first name");
	}
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Client", "  ClientHandshakeSNI Optional", "", &img, &diags);
	ASSERT_EQ(rc, -EINVAL, "no name to send");
	ASSERT_EQ(img.nenvs, 0, "nothing compiled");
	ASSERT_STREQ(diags,
		     "t.policy:10:22: error: TTLSEnvironmentAction 'e': ClientHandshakeSNI Optional needs the host name to send\n"
		     "    hint: add ClientHandshakeSNIList hostname\n", "message");
	free(diags);

	/* value errors */
	expect_diags("TTLSEnvironmentAdvancedParms a\n{\n"
		     "  ServerCertificateLabel 1 2 3 4 5 6 7 8 9\n"
		     "  ServerHandshakeSNIList www.example.com\n"
		     "  HostReferenceIdDNS bad_name\n"
		     "  ClientAuthType Ful\n"
		     "  ClientHandshakeSNIMatch Off\n}\n", -EINVAL,
		"t.policy:3:42: error: TTLSEnvironmentAdvancedParms 'a': more than 8 ServerCertificateLabel labels\n"
		"    hint: a server chooses among at most 8 certificates\n"
		"t.policy:4:26: error: TTLSEnvironmentAdvancedParms 'a': ServerHandshakeSNIList: 'www.example.com' is not label:hostname\n"
		"    hint: write the certificate label, ':' and the SNI host name, e.g. webCert:www.example.com\n"
		"t.policy:5:22: error: TTLSEnvironmentAdvancedParms 'a': HostReferenceIdDNS: 'bad_name' is not a host name\n"
		"    hint: usage: HostReferenceIdDNS hostname\n"
		"t.policy:6:18: error: TTLSEnvironmentAdvancedParms 'a': 'Ful' is not a valid ClientAuthType value; did you mean 'Full'?\n"
		"    hint: usage: ClientAuthType Required|PassThru|Full|SAFCheck\n"
		"t.policy:7:27: error: TTLSEnvironmentAdvancedParms 'a': 'Off' is not a valid ClientHandshakeSNIMatch value\n"
		"    hint: usage: ClientHandshakeSNIMatch Optional|Required\n"
		"t.policy:1:1: warning: unused TTLSEnvironmentAdvancedParms 'a'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	/* the connection form is a subset */
	expect_diags("TTLSConnectionAdvancedParms c\n{\n  ClientAuthType Full\n}\n", -EINVAL,
		"t.policy:3:3: error: TTLSConnectionAdvancedParms 'c': ClientAuthType is not a parameter of TTLSConnectionAdvancedParms\n"
		"    hint: it is a parameter of TTLSEnvironmentAdvancedParms\n"
		"t.policy:1:1: warning: unused TTLSConnectionAdvancedParms 'c'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
}

/* Connection values override the environment's, lists as a whole. */
static void test_conn_overrides(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build("TTLSRule a { LocalPortRange 1\n Direction Both\n Priority 2\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		   "TTLSRule b { LocalPortRange 2\n Direction Both\n Priority 1\n TTLSGroupActionRef g\n"
		   " TTLSEnvironmentActionRef e\n TTLSConnectionActionRef c }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e { HandshakeRole Server\n TTLSKeyringParms { Keyring ring }\n"
		   " TTLSEnvironmentAdvancedParms { ServerHandshakeSNI Optional\n"
		   "  ServerHandshakeSNIList a:a.example.com b:b.example.com\n SecondaryMap Off } }\n"
		   "TTLSConnectionAction c { TTLSConnectionAdvancedParms\n"
		   " { ServerHandshakeSNIList z:z.example.com\n SecondaryMap On\n ApplicationControlled On } }\n",
		   &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nenvs, 2, "e, e+c")) {
		ASSERT_EQ(img.envs[0].nsni, 2, "env list");
		ASSERT_EQ(img.envs[1].nsni, 1, "conn list replaces");
		ASSERT_STREQ(img.envs[1].sni[0].host, "z.example.com", "conn pair");
		ASSERT_EQ(img.envs[1].server_sni, ATTLS_FN_OPTIONAL, "inherited");
		ASSERT_EQ(img.envs[1].secondary_map, 1, "conn On over env Off");
		ASSERT_EQ(img.envs[1].application_controlled, 1, "conn");
		ASSERT_STREQ(img.envs[1].name, "e+c", "name");
	}
	attls_map_image_free(&img);
	free(diags);
}

/* Each z/OS-only parameter loads with a warning that says why. */
static void test_ignored_parms(void)
{
	static const struct {
		const char *stmt;	/* statement holding the line */
		const char *line;
		const char *msg;	/* "" = accepted silently */
	} cases[] = {
		{ "TTLSGroupAction", "CtraceClearText On",
		  "CtraceClearText is ignored on Linux: CTRACE is the z/OS component trace" },
		{ "TTLSGroupAction", "CtraceClearText Off", "" },
		{ "TTLSGroupAction", "FIPS140 Level2",
		  "FIPS140 is ignored on Linux: attls uses the system's OpenSSL" },
		{ "TTLSGroupAdvancedParms", "Envfile /etc/x.envars",
		  "Envfile is ignored on Linux: it sets Language Environment variables of the z/OS AT-TLS group process" },
		{ "TTLSEnvironmentAction", "SuiteBProfile 192Min",
		  "SuiteBProfile is ignored on Linux: attls does not restrict TLS to the Suite B profile (RFC 6460)" },
		{ "TTLSEnvironmentAction", "SuiteBProfile Off", "" },
		{ "TTLSEnvironmentAdvancedParms", "3DesKeyCheck On",
		  "3DesKeyCheck is ignored on Linux: attls never enables 3DES" },
		{ "TTLSEnvironmentAdvancedParms", "CertValidationMode RFC3280",
		  "CertValidationMode is ignored on Linux: OpenSSL validates certificates as RFC 5280 says" },
		{ "TTLSEnvironmentAdvancedParms", "CertValidationMode Any", "" },
		{ "TTLSEnvironmentAdvancedParms", "ClientEDHGroupSize Legacy",
		  "ClientEDHGroupSize is ignored on Linux: OpenSSL picks Diffie-Hellman groups of 2048 bits or more" },
		{ "TTLSEnvironmentAdvancedParms", "ServerEDHGroupSize 2048", "" },
		{ "TTLSEnvironmentAdvancedParms", "ServerExtendedMasterSecret Required",
		  "ServerExtendedMasterSecret is ignored on Linux: OpenSSL always offers and accepts the extended master secret, and requires it of no partner" },
		{ "TTLSEnvironmentAdvancedParms", "ClientMaxSSLFragment Optional",
		  "ClientMaxSSLFragment is ignored on Linux: attls does not negotiate the maximum fragment length extension (RFC 6066)" },
		{ "TTLSEnvironmentAdvancedParms", "ClientMaxSSLFragmentLength 2048", "" },
		{ "TTLSEnvironmentAdvancedParms", "HostReferenceIdCN host1",
		  "HostReferenceIdCN is ignored on Linux: OpenSSL checks host names against the certificate's DNS names" },
		{ "TTLSEnvironmentAdvancedParms", "HostRefWildcardValidation Off",
		  "HostRefWildcardValidation is ignored on Linux: OpenSSL accepts wildcard certificates when it checks HostReferenceIdDNS" },
		{ "TTLSEnvironmentAdvancedParms", "PeerMinCertVersion 3", "" },
		{ "TTLSEnvironmentAdvancedParms", "PeerMinECCKeySize 256", "" },
		{ "TTLSEnvironmentAdvancedParms", "Renegotiation All",
		  "Renegotiation is ignored on Linux: attls never renegotiates and refuses renegotiation requests" },
		{ "TTLSEnvironmentAdvancedParms", "Renegotiation Disabled", "" },
		{ "TTLSEnvironmentAdvancedParms", "RenegotiationIndicator Both", "" },
		{ "TTLSEnvironmentAdvancedParms", "ResetCipherTimer 60", "" },
		{ "TTLSEnvironmentAdvancedParms", "ResetCipherTimer 0", "" },
		{ "TTLSEnvironmentAdvancedParms", "ServerScsv Off",
		  "ServerScsv is ignored on Linux: OpenSSL always honours TLS_FALLBACK_SCSV" },
		{ "TTLSEnvironmentAdvancedParms", "TruncatedHMAC Required",
		  "TruncatedHMAC is ignored on Linux: OpenSSL does not implement truncated HMAC (RFC 6066), which is deprecated" },
		{ "TTLSConnectionAdvancedParms", "TruncatedHMAC Off", "" },
		{ "TTLSGskAdvancedParms", "GSK_SYSPLEX_SIDCACHE On",
		  "GSK_SYSPLEX_SIDCACHE is ignored on Linux: sysplex-wide session caches exist only on z/OS" },
		{ "TTLSGskAdvancedParms", "GSK_V2_SIDCACHE_SIZE 256",
		  "GSK_V2_SIDCACHE_SIZE is ignored on Linux: attls never enables SSLv2" },
		{ "TTLSGskAdvancedParms", "GSK_SESSION_TICKET_SERVER_KEY_REFRESH 300",
		  "GSK_SESSION_TICKET_SERVER_KEY_REFRESH is ignored on Linux: not implemented by attls (OpenSSL manages its session tickets itself)" },
		{ "TTLSGskAdvancedParms", "RevocationSecurityLevel High",
		  "RevocationSecurityLevel is ignored on Linux: attls fetches no revocation information (OCSP, HTTP CDP, LDAP)" },
		{ "TTLSGskAdvancedParms", "TTLSGskOcspParmsRef o",
		  "TTLSGskOcspParmsRef is ignored on Linux: attls fetches no revocation information (OCSP, HTTP CDP, LDAP)" },
		{ "TTLSGskLdapParms", "GSK_LDAP_SERVER ldap.example.com",
		  "GSK_LDAP_SERVER is ignored on Linux: attls fetches no CRLs from LDAP" },
	};
	char text[1024], want[1024], *got;
	const char *hint;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* what the statement needs besides the line under test */
		const char *req = !strcmp(cases[i].stmt, "TTLSGroupAction") ?
				  " TTLSEnabled On\n" :
				  !strcmp(cases[i].stmt, "TTLSEnvironmentAction") ?
				  " HandshakeRole Server\n TTLSKeyringParms { Keyring r }\n" : "";

		snprintf(text, sizeof(text), "%s s\n{\n %s\n%s}\n"
			 "TTLSGskOcspParms o { OcspUrl http://ocsp.example.com }\n",
			 cases[i].stmt, cases[i].line, req);
		rc = parse_only_diags(text, &got);
		ASSERT_EQ(rc, 0, text);
		hint = strstr(got, "\n    hint:");
		if (!cases[i].msg[0]) {
			ASSERT_TRUE(!strstr(got, "ignored"), text);
		} else {
			snprintf(want, sizeof(want), "t.policy:3:2: warning: %s 's': %s",
				 cases[i].stmt, cases[i].msg);
			ASSERT_TRUE(!strncmp(got, want, strlen(want)) && hint &&
				    got + strlen(want) == hint, text);
			if (strncmp(got, want, strlen(want)))
				printf("    got: %s\n", got);
		}
		free(got);
	}
	/* values of ignored parameters are still checked */
	expect_diags("TTLSEnvironmentAdvancedParms a\n{\n  TruncatedHMAC Sometimes\n"
		     "  ResetCipherTimer 2000\n}\n", -EINVAL,
		"t.policy:3:17: error: TTLSEnvironmentAdvancedParms 'a': 'Sometimes' is not a valid TruncatedHMAC value\n"
		"    hint: usage: TruncatedHMAC Off|Optional|Required\n"
		"t.policy:4:20: error: TTLSEnvironmentAdvancedParms 'a': ResetCipherTimer 2000 is out of range 0-1440\n"
		"t.policy:1:1: warning: unused TTLSEnvironmentAdvancedParms 'a'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
	/* inside an ignored statement: checked for typos, no warning per line */
	expect_diags("TTLSGskOcspParms o\n{\n  OcspUrl http://x\n  OcspUlr http://y\n}\n", -EINVAL,
		"t.policy:4:3: error: TTLSGskOcspParms 'o': unknown keyword 'OcspUlr'; did you mean 'OcspUrl'?\n"
		"t.policy:1:1: warning: unused TTLSGskOcspParms 'o'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
}

/* Keyring OWNER/RING, RING, /path; a key file's password or stash file. */
static void test_keyring_forms(void)
{
	static const char *const rings[] = {
		"ATTLS/ring1", "ring1", "/etc/attls/keys/srv.p12", "/etc/attls/keys/srv.pem",
	};
	const struct attls_env_cfg *e;
	struct attls_map_image img;
	char extra[256], *diags;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		snprintf(extra, sizeof(extra),
			 "TTLSRule r { LocalPortRange 1\n Direction Both\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
			 "TTLSGroupAction g { TTLSEnabled On }\n"
			 "TTLSEnvironmentAction e { HandshakeRole Server\n TTLSKeyringParms { Keyring %s\n KeyringPw s3cret } }\n",
			 rings[i]);
		rc = build(extra, &img, &diags);
		ASSERT_EQ(rc, 0, diags);
		if ((e = one_env(&img))) {
			ASSERT_STREQ(e->keyring, rings[i], "as written");
			ASSERT_STREQ(e->keyring_pw, rings[i][0] == '/' ? "s3cret" : "",
				     "a password only for a key file");
		}
		if (rings[i][0] != '/')
			ASSERT_TRUE(strstr(diags, "KeyringPw is ignored: Keyring '") != NULL, diags);
		else
			ASSERT_STREQ(diags, "", "clean");
		attls_map_image_free(&img);
		free(diags);
	}

	/* the stash file is used when there is no password; both: a warning */
	rc = build("TTLSRule r { LocalPortRange 1\n Direction Both\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e { HandshakeRole Server\n"
		   " TTLSKeyringParms { Keyring /k.p12\n KeyringStashFile /nonexistent/k.sth } }\n",
		   &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img))) {
		ASSERT_STREQ(e->keyring_stash, "/nonexistent/k.sth", "stash");
		ASSERT_STREQ(e->keyring_pw, "", "no password");
	}
	attls_map_image_free(&img);
	free(diags);
	expect_diags("TTLSKeyringParms k\n{\n  Keyring /k.p12\n  KeyringPw pw\n"
		     "  KeyringStashFile /nonexistent/k.sth\n}\n"
		     "TTLSKeyringParms k2\n{\n  Keyring OWNER/RING\n  KeyringStashFile /nonexistent/x.sth\n}\n", 0,
		"t.policy:5:20: warning: TTLSKeyringParms 'k': KeyringStashFile is ignored because KeyringPw is given\n"
		"    hint: remove one of them\n"
		"t.policy:10:20: warning: TTLSKeyringParms 'k2': KeyringStashFile is ignored: Keyring 'OWNER/RING' is a key ring, not a key file\n"
		"    hint: only a key file (Keyring /absolute/path) has a password\n"
		"t.policy:1:1: warning: unused TTLSKeyringParms 'k'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n"
		"t.policy:7:1: warning: unused TTLSKeyringParms 'k2'\n"
		"    hint: delete it, or refer to it from a statement that uses it\n");
}

/* *UserInstance numbers and the group's facility reach the image. */
static void test_user_instances(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build("TTLSRule a { LocalPortRange 1\n Direction Both\n Priority 3\n TTLSGroupActionRef g1\n TTLSEnvironmentActionRef e }\n"
		   "TTLSRule b { LocalPortRange 2\n Direction Both\n Priority 2\n TTLSGroupActionRef g2\n TTLSEnvironmentActionRef e }\n"
		   "TTLSRule c { LocalPortRange 3\n Direction Both\n Priority 1\n TTLSGroupActionRef g2\n"
		   " TTLSEnvironmentActionRef e\n TTLSConnectionActionRef cn }\n"
		   "TTLSGroupAction g1 { TTLSEnabled On\n GroupUserInstance 1 }\n"
		   "TTLSGroupAction g2 { TTLSEnabled On\n GroupUserInstance 2\n"
		   " TTLSGroupAdvancedParms { SyslogFacility auth } }\n"
		   "TTLSEnvironmentAction e { HandshakeRole Server\n EnvironmentUserInstance 7\n"
		   " TTLSKeyringParms { Keyring ring } }\n"
		   "TTLSConnectionAction cn { ConnectionUserInstance 9 }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if (ASSERT_EQ(img.nenvs, 3, "one per group, one for the connection")) {
		ASSERT_STREQ(img.envs[0].name, "e", "first keeps the name");
		ASSERT_EQ(img.envs[0].group_user_instance, 1, "g1");
		ASSERT_EQ(img.envs[0].user_instance, 7, "env");
		ASSERT_STREQ(img.envs[1].name, "e~1", "names stay unique");
		ASSERT_EQ(img.envs[1].group_user_instance, 2, "g2");
		ASSERT_STREQ(img.envs[2].name, "e+cn", "conn");
		ASSERT_EQ(img.envs[2].conn_user_instance, 9, "conn instance");
		ASSERT_EQ(img.actions[0].syslog_facility, ATTLS_FACILITY_DAEMON, "default");
		ASSERT_EQ(img.actions[1].syslog_facility, ATTLS_FACILITY_AUTH, "Auth");
	}
	attls_map_image_free(&img);
	free(diags);
}

/* GSK_CRL_SECURITY_LEVEL: inline TTLSGskLdapParms, Medium by default. */
static void test_crl_level(void)
{
	const struct attls_env_cfg *e;
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build_env("Server", "", " TTLSGskAdvancedParms\n {\n"
		       "  TTLSGskLdapParms\n  {\n   GSK_CRL_SECURITY_LEVEL high\n  }\n }",
		       &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean: the level is implemented");
	if ((e = one_env(&img)))
		ASSERT_EQ(e->crl_level, ATTLS_CRL_HIGH, "High");
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Server", "", "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img)))
		ASSERT_EQ(e->crl_level, ATTLS_CRL_MEDIUM, "z/OS default Medium");
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Server", "", " TTLSGskAdvancedParms\n {\n"
		       "  TTLSGskLdapParms\n  {\n   GSK_CRL_SECURITY_LEVEL Strict\n  }\n }",
		       &img, &diags);
	ASSERT_TRUE(rc != 0 && strstr(diags, "GSK_CRL_SECURITY_LEVEL Low|Medium|High"),
		    diags);
	attls_map_image_free(&img);
	free(diags);
}

/* PeerMin*KeySize, PeerMinCertVersion and ResetCipherTimer are enforced,
 * so compiled; unset, they leave everything to OpenSSL (timer: never). */
static void test_peer_minimums(void)
{
	const struct attls_env_cfg *e;
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build_env("Client", "  PeerMinRsaKeySize 3072\n  PeerMinECCKeySize 384\n"
		       "  PeerMinDsaKeySize 2048\n  PeerMinDHKeySize 4096\n"
		       "  PeerMinCertVersion 3\n  ResetCipherTimer 60", "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean: the minimums and the timer are implemented");
	if ((e = one_env(&img))) {
		ASSERT_EQ(e->peer_min_rsa, 3072, "RSA");
		ASSERT_EQ(e->peer_min_ecc, 384, "ECC");
		ASSERT_EQ(e->peer_min_dsa, 2048, "DSA");
		ASSERT_EQ(e->peer_min_dh, 4096, "DH");
		ASSERT_EQ(e->peer_cert_v3, 1, "PeerMinCertVersion 3");
		ASSERT_EQ(e->reset_cipher_min, 60, "ResetCipherTimer minutes");
	}
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Client", "", "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img)))
		ASSERT_TRUE(!e->peer_min_rsa && !e->peer_min_ecc && !e->peer_min_dsa &&
			    !e->peer_min_dh && !e->peer_cert_v3 && !e->reset_cipher_min,
			    "unset: OpenSSL's security level alone, no timer");
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Client", "  PeerMinRsaKeySize 20000", "", &img, &diags);
	ASSERT_TRUE(rc != 0 && strstr(diags, "PeerMinRsaKeySize"), diags);
	attls_map_image_free(&img);
	free(diags);
}

static void test_gsk_sessions(void)
{
	const struct attls_env_cfg *e;
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build_env("Server", "", " TTLSGskAdvancedParms\n {\n"
		       "  GSK_V3_SESSION_TIMEOUT 600\n  GSK_V3_SIDCACHE_SIZE 0\n"
		       "  GSK_SESSION_TICKET_SERVER_ENABLE On\n"
		       "  GSK_SESSION_TICKET_CLIENT_ENABLE off\n"
		       "  GSK_SESSION_TICKET_SERVER_COUNT 1\n }", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean");
	if ((e = one_env(&img))) {
		ASSERT_EQ(e->session_timeout, 600, "timeout");
		ASSERT_EQ(e->session_cache_size, 0, "cache");
		ASSERT_EQ(e->ticket_server, 1, "server tickets");
		ASSERT_EQ(e->ticket_client, 0, "client tickets");
		ASSERT_EQ(e->ticket_count, 1, "count");
	}
	attls_map_image_free(&img);
	free(diags);
	rc = build_env("Server", "", "", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	if ((e = one_env(&img))) {
		ASSERT_EQ(e->session_timeout, 86400, "IBM default");
		ASSERT_EQ(e->session_cache_size, 512, "IBM default");
		ASSERT_EQ(e->ticket_server, 0, "default Off");
		ASSERT_EQ(e->ticket_client, 1, "default On");
		ASSERT_EQ(e->ticket_count, 2, "default 2");
	}
	attls_map_image_free(&img);
	free(diags);
}

/* ------------------------------------------------------------------ */
/* the PAGENT configuration layer                                     */
/* ------------------------------------------------------------------ */

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* Parse file `name`; expect `want_rc` and exactly the diagnostics `want`. */
static void expect_file(const char *name, int want_rc, const char *want)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	char *got;
	int rc = policy_parse_file(name, &p, &d);

	got = diag_text(d);
	ASSERT_EQ(rc, want_rc, want);
	ASSERT_STREQ(got, want, name);
	free(got);
	policy_free(p);
	policy_diags_free(d);
}

#define POLICY_OK \
	"TTLSRule r { LocalPortRange 1\n Direction Both\n TTLSGroupActionRef g }\n"
#define GROUP_OFF	"TTLSGroupAction g { TTLSEnabled Off }\n"

/* The sample tree: main -> image -> common + stack policy, one policy. */
static void test_pagent_sample(void)
{
	char dir[PATH_MAX + 64], main_conf[PATH_MAX + 128], want[2 * PATH_MAX + 512];
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	const char *const *files;
	char *got;
	int rc;

	snprintf(dir, sizeof(dir), "%s", unit_src_path("policy/samples/pagent/pagent.conf"));
	*strrchr(dir, '/') = '\0';
	snprintf(main_conf, sizeof(main_conf), "%s/pagent.conf", dir);
	rc = policy_parse_file(main_conf, &p, &d);
	got = diag_text(d);
	ASSERT_EQ(rc, 0, got);
	snprintf(want, sizeof(want),
		 "%s/pagent.conf:8:1: warning: LogLevel: ignored: attls implements only AT-TLS policy (TcpImage, CommonTTLSConfig, TTLSConfig)\n"
		 "%s/pagent.conf:9:40: warning: TcpImage: FLUSH ignored: attls replaces the whole policy atomically on every load, and reloads on SIGHUP or attlsctl policy reload\n"
		 "    hint: remove it\n", dir, dir);
	ASSERT_STREQ(got, want, "only the two expected warnings");
	free(got);
	if (!p)
		goto out;
	if (ASSERT_EQ(policy_source_files(p, &files), 4, "files")) {
		ASSERT_TRUE(strstr(files[0], "pagent.conf") != NULL, files[0]);
		ASSERT_TRUE(strstr(files[1], "TCPIP.conf") != NULL, files[1]);
		ASSERT_TRUE(strstr(files[2], "common.policy") != NULL, "common first");
		ASSERT_TRUE(strstr(files[3], "ttls.policy") != NULL, files[3]);
	}
	rc = policy_compile_at(p, &img, d, NOW);
	if (ASSERT_EQ(rc, 0, "compile") && ASSERT_EQ(img.nactions, 2, "rules")) {
		ASSERT_STREQ(img.actions[0].rule_name, "WebInbound", "stack rule");
		ASSERT_STREQ(img.actions[0].group_name, "grpOn", "common group");
		ASSERT_TRUE(strstr(img.actions[0].where.file, "ttls.policy") != NULL,
			    "source file of the rule");
		ASSERT_STREQ(img.envs[0].keyring, "attls/host", "common key ring");
		ASSERT_EQ(img.envs[0].protocols, ATTLS_PROTO_TLS12 | ATTLS_PROTO_TLS13,
			  "common advanced parms");
	}
	attls_map_image_free(&img);
out:
	policy_free(p);
	policy_diags_free(d);
}

static void test_pagent_errors(void)
{
	char tmpl[] = "/tmp/attls-pagent-XXXXXX";
	char cwd[PATH_MAX];
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	const char *const *files;

	if (!ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd") ||
	    !ASSERT_TRUE(mkdtemp(tmpl) != NULL, "mkdtemp") ||
	    !ASSERT_EQ(chdir(tmpl), 0, "chdir"))
		return;
	mkdir("sub", 0755);
	write_file("pol.policy", POLICY_OK GROUP_OFF);

	/* relative names are relative to the file holding them */
	write_file("main.conf", "TcpImage TCPIP sub/img.conf\n");
	write_file("sub/img.conf", "TTLSConfig ../pol.policy NOFLUSH NOPURGE\n");
	expect_file("main.conf", 0,
		"sub/img.conf:1:26: warning: TTLSConfig: NOFLUSH, NOPURGE ignored: attls replaces the whole policy atomically on every load, and reloads on SIGHUP or attlsctl policy reload\n"
		"    hint: remove them\n");
	/* an image file named directly works too */
	expect_file("sub/img.conf", 0,
		"sub/img.conf:1:26: warning: TTLSConfig: NOFLUSH, NOPURGE ignored: attls replaces the whole policy atomically on every load, and reloads on SIGHUP or attlsctl policy reload\n"
		"    hint: remove them\n");

	write_file("main.conf", "TcpImage TCPIP missing.conf\n");
	expect_file("main.conf", -EINVAL,
		"main.conf:1:16: error: TcpImage: cannot read 'missing.conf': No such file or directory\n"
		"    hint: check the name; relative names are relative to the file that holds them\n");

	write_file("main.conf", "TcpImage TCPIP img.conf\n");
	write_file("img.conf", "TTLSConfig img.conf\n");
	expect_file("main.conf", -EINVAL,
		"img.conf:1:12: error: TTLSConfig names 'img.conf', which is already being read (main.conf -> img.conf): a cycle\n"
		"    hint: a configuration chain goes main file -> image file -> policy files, each named once\n");

	write_file("img.conf", "TTLSConfig main.conf\n");
	expect_file("main.conf", -EINVAL,
		"img.conf:1:12: error: TTLSConfig names 'main.conf', which is already being read (main.conf -> img.conf): a cycle\n"
		"    hint: a configuration chain goes main file -> image file -> policy files, each named once\n");

	write_file("main.conf", "TcpImage TCPIP //'SYS1.TCPPARMS(IMG)'\n");
	expect_file("main.conf", -EINVAL,
		"main.conf:1:16: error: TcpImage: '//'SYS1.TCPPARMS(IMG)'' is an MVS data set name\n"
		"    hint: MVS data sets do not exist on Linux: copy the file and name its path\n");

	write_file("main.conf", "TcpImage TCPIP img.conf\n");
	write_file("img.conf", "TTLSConfig\n");
	expect_file("main.conf", -EINVAL,
		"img.conf:1:1: error: TTLSConfig without a file name means the CommonTTLSConfig file, and there is none\n"
		"    hint: name the policy file, or add CommonTTLSConfig to the main configuration file\n");

	/* TTLSConfig alone: the common file only */
	write_file("main.conf", "TcpImage TCPIP img.conf\nCommonTTLSConfig pol.policy\n");
	expect_file("main.conf", 0, "");

	/* the common file named again as the stack's: read once */
	write_file("img.conf", "TTLSConfig ./pol.policy\n");
	expect_file("main.conf", 0,
		"img.conf:1:12: warning: TTLSConfig names the CommonTTLSConfig file 'pol.policy' again: it is read once\n"
		"    hint: write TTLSConfig without a file name to use the common file\n");

	/* common and stack files are one namespace; the common file is first */
	write_file("common.policy", GROUP_OFF);
	write_file("stack.policy", POLICY_OK GROUP_OFF);
	write_file("main.conf", "TcpImage TCPIP img.conf\nCommonTTLSConfig common.policy\n");
	write_file("img.conf", "TTLSConfig stack.policy\n");
	expect_file("main.conf", -EINVAL,
		"stack.policy:4:1: error: duplicate TTLSGroupAction 'g' (first defined at common.policy:1:1)\n"
		"    hint: names are unique per statement type: rename or delete one\n");

	write_file("img.conf", "# no TTLSConfig\n");
	expect_file("main.conf", -EINVAL,
		"main.conf:1:16: error: image file 'img.conf' has no TTLSConfig: the stack would get no AT-TLS policy\n"
		"    hint: add TTLSConfig /path/to/ttls.policy to the image file (TTLSConfig alone means the CommonTTLSConfig file)\n");

	/* repeated: the last one wins; extra stacks and misplaced lines warn */
	write_file("img.conf", "TTLSConfig nothere.policy\nTTLSConfig pol.policy\n");
	write_file("main.conf", "PEPInstance TCPIP img.conf\nTcpImage TCPIP2 other.conf\n"
		   "TTLSConfig x.policy\n");
	expect_file("main.conf", 0,
		"main.conf:2:1: warning: TcpImage TCPIP2 is ignored: attls protects one TCP/IP stack and follows PEPInstance TCPIP (line 1)\n"
		"    hint: remove it, or point attlsd at a main file with one TcpImage\n"
		"main.conf:3:1: warning: TTLSConfig in the main configuration file is ignored: the image file 'img.conf' names the policy\n"
		"    hint: move it to the image file\n"
		"img.conf:1:1: warning: TTLSConfig is given again at line 2, which replaces this one\n"
		"    hint: remove all but one\n");

	/* the image may be the main file itself (TcpImage without a file) */
	write_file("main.conf", "TcpImage TCPIP 1800\nTTLSConfig pol.policy\n");
	expect_file("main.conf", 0,
		"main.conf:1:16: warning: TcpImage: 1800 ignored: attls replaces the whole policy atomically on every load, and reloads on SIGHUP or attlsctl policy reload\n"
		"    hint: remove it\n");

	write_file("main.conf", "CommonTTLSConfig pol.policy\n");
	expect_file("main.conf", -EINVAL,
		"main.conf: error: main configuration file has CommonTTLSConfig but no TcpImage (or PEPInstance)\n"
		"    hint: add TcpImage TCPIP /path/to/image.conf\n");

	/* statements in the wrong kind of file */
	write_file("main.conf", "TcpImage TCPIP img.conf\n" POLICY_OK);
	write_file("img.conf", "TTLSConfig pol.policy\nTcpImage X\n");
	write_file("pol.policy", GROUP_OFF "CommonTTLSConfig c.policy\n");
	expect_file("main.conf", 0 - EINVAL,
		"main.conf:2:1: error: TTLSRule 'r' is in the PAGENT main configuration file\n"
		"    hint: move AT-TLS statements to the policy file that TTLSConfig names\n"
		"img.conf:2:1: error: TcpImage belongs in the main configuration file, not in an image file\n"
		"pol.policy:2:1: error: CommonTTLSConfig belongs in a PAGENT configuration file, not in an AT-TLS policy file\n"
		"    hint: an AT-TLS policy file (named by TTLSConfig) holds AT-TLS statements only\n");

	/* line statement syntax */
	write_file("main.conf", "TcpImage TCPIP img.conf FLUSH BOGUS\nTcpImage { }\n"
		   "TcpImage a b c d e f\n");
	expect_file("main.conf", -EINVAL,
		"main.conf:1:31: error: TcpImage: unexpected 'BOGUS'\n"
		"    hint: usage: TcpImage stackname [imagefile] [FLUSH|NOFLUSH] [PURGE|NOPURGE] [seconds]\n"
		"main.conf:2:10: error: TcpImage does not take a block\n"
		"    hint: TcpImage stackname [imagefile] [FLUSH|NOFLUSH] [PURGE|NOPURGE] [seconds]\n"
		"main.conf:3:1: error: TcpImage takes 1 to 5 values, 6 given\n"
		"    hint: TcpImage stackname [imagefile] [FLUSH|NOFLUSH] [PURGE|NOPURGE] [seconds]\n");

	/* a plain policy file: one source */
	write_file("pol.policy", POLICY_OK GROUP_OFF);
	if (ASSERT_EQ(policy_parse_file("pol.policy", &p, &d), 0, "plain policy"))
		ASSERT_EQ(policy_source_files(p, &files), 1, "one file");
	policy_free(p);
	policy_diags_free(d);

	unlink("pol.policy");
	unlink("main.conf");
	unlink("img.conf");
	unlink("common.policy");
	unlink("stack.policy");
	unlink("sub/img.conf");
	rmdir("sub");
	if (ASSERT_EQ(chdir(cwd), 0, "chdir back"))
		rmdir(tmpl);

	/* a string is a policy: configuration statements are not followed */
	{
		char *got;
		int rc = parse_only_diags("TcpImage TCPIP img.conf\n" POLICY_OK GROUP_OFF, &got);

		ASSERT_EQ(rc, -EINVAL, "TcpImage in a string");
		ASSERT_STREQ(got,
			     "t.policy:1:1: error: TcpImage belongs in a PAGENT configuration file, not in an AT-TLS policy file\n"
			     "    hint: configuration statements are followed only when a file is read (attlsd -f, attlsctl policy check)\n",
			     "message");
		free(got);
	}
}

/* ------------------------------------------------------------------ */
/* samples and dump                                                   */
/* ------------------------------------------------------------------ */

/* A z/OS policy in the shape of reference section 1.12 loads unchanged. */
static void test_zos_sample(void)
{
	char path[PATH_MAX + 64], want[4 * PATH_MAX + 2048];
	const struct attls_env_cfg *e;
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	char *got;
	int rc;

	snprintf(path, sizeof(path), "%s", unit_src_path("policy/samples/zos-style.policy"));
	rc = policy_parse_file(path, &p, &d);
	got = diag_text(d);
	ASSERT_EQ(rc, 0, got);
	snprintf(want, sizeof(want),
		 "%s:113:5: warning: TTLSGroupAdvancedParms in TTLSGroupAction 'grpOn': Envfile is ignored on Linux: it sets Language Environment variables of the z/OS AT-TLS group process\n"
		 "    hint: attls has no such process: remove the line\n"
		 "%s:140:5: warning: TTLSGskAdvancedParms in TTLSEnvironmentAction 'envAppSrv': GSK_SYSPLEX_SIDCACHE is ignored on Linux: sysplex-wide session caches exist only on z/OS\n"
		 "    hint: remove the line\n",
		 path, path);
	ASSERT_STREQ(got, want, "the z/OS-only parameters that matter warn; Off ones do not");
	free(got);
	if (!p)
		goto out;
	/* Monday 02:40 UTC: inside the nightly window */
	rc = policy_compile_at(p, &img, d, NOW);
	if (!ASSERT_EQ(rc, 0, "compile") || !ASSERT_EQ(img.nactions, 3, "rules"))
		goto free_img;
	ASSERT_EQ(img.nrules, 11, "8 + 2 + 1 clauses");
	ASSERT_EQ(img.actions[0].nclauses, 8, "4 address ranges x 2 port ranges");
	ASSERT_EQ(img.actions[1].nclauses, 2, "2 partner ranges");
	ASSERT_EQ(img.actions[1].time.set, 1, "window");
	ASSERT_EQ(img.actions[0].syslog_facility, ATTLS_FACILITY_AUTH, "facility");
	ASSERT_EQ(img.actions[2].enabled, 0, "cleartext rule");
	if (ASSERT_EQ(img.nenvs, 2, "envs")) {
		e = &img.envs[0];
		ASSERT_STREQ(e->name, "envAppSrv", "server env");
		ASSERT_EQ(e->client_auth, ATTLS_CLIENT_AUTH_FULL, "ClientAuthType");
		ASSERT_STREQ(e->groups, "X25519:P-256:P-384:P-521", "server groups");
		ASSERT_STREQ(e->sigalgs, "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:ECDSA+SHA256:ECDSA+SHA384:RSA+SHA256:RSA+SHA384",
			     "sigalgs");
		ASSERT_EQ(e->session_timeout, 3600, "GSK_V3_SESSION_TIMEOUT");
		ASSERT_EQ(e->nsni, 2, "SNI pairs");
		ASSERT_EQ(e->group_user_instance, 1, "GroupUserInstance");
		e = &img.envs[1];
		ASSERT_STREQ(e->name, "envBatchClient+connPartner", "client env");
		ASSERT_EQ(e->role, ATTLS_ROLE_CLIENT, "client");
		ASSERT_STREQ(e->keyring_stash, "/etc/attls/keys/batch.sth", "stash");
		ASSERT_STREQ(e->host_ref_dns, "partner.example.com", "HostReferenceIdDNS");
		ASSERT_EQ(e->secondary_map, 1, "SecondaryMap from the connection");
		ASSERT_EQ(e->handshake_timeout, 30, "connection timeout");
	}
	attls_map_image_free(&img);
	/* Saturday noon: the batch rule is out of its window */
	rc = policy_compile_at(p, &img, d, utc(2026, 2, 7, 12, 0));
	if (ASSERT_EQ(rc, 0, "compile") && ASSERT_EQ(img.nrules, 9, "no batch clauses")) {
		ASSERT_EQ(img.actions[1].time_inactive, 1, "closed");
		ASSERT_EQ(attls_image_next_change(&img, utc(2026, 2, 7, 12, 0)),
			  utc(2026, 2, 9, 0, 0), "Monday 00:00 (22:00-06:00, Mon-Fri)");
	}
free_img:
	attls_map_image_free(&img);
out:
	policy_free(p);
	policy_diags_free(d);
}

static void test_dump_new_fields(void)
{
	struct attls_map_image img;
	char *diags, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = build_env("ServerWithClientAuth",
		       "  ClientAuthType PassThru\n  ServerHandshakeSNI Optional\n"
		       "  ServerHandshakeSNIList c1:a.example.com\n  SecondaryMap On",
		       " TTLSSignatureParms { ServerKeyShareGroups 0029\n SignaturePairs 0403 }\n"
		       " TTLSGskAdvancedParms { GSK_V3_SESSION_TIMEOUT 60 }",
		       &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	f = open_memstream(&buf, &len);
	attls_map_image_dump(&img, f);
	fclose(f);
	ASSERT_TRUE(strstr(buf, "  ClientAuthType:            PassThru\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  Groups:                    X25519\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  SignaturePairs:            ECDSA+SHA256\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  ServerHandshakeSNI:        Optional (match Optional)\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  ServerHandshakeSNIList:    a.example.com -> c1\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  SecondaryMap:              On\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  Sessions:                  timeout 60 s, cache 512, tickets client On server Off (2)\n") != NULL, buf);
	free(buf);
	attls_map_image_free(&img);
	free(diags);

	/* a password is never printed; a closed window is */
	buf = NULL;
	rc = build("TTLSRule r { LocalPortRange 1\n Direction Both\n TTLSGroupActionRef g\n TTLSEnvironmentActionRef e\n"
		   " IpTimeCondition { TimeOfDayRange 08:00-09:00\n TimeZone UTC } }\n"
		   "TTLSGroupAction g { TTLSEnabled On }\n"
		   "TTLSEnvironmentAction e { HandshakeRole Server\n"
		   " TTLSKeyringParms { Keyring /k.p12\n KeyringPw hunter2 } }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	f = open_memstream(&buf, &len);
	attls_map_image_dump(&img, f);
	fclose(f);
	ASSERT_TRUE(!strstr(buf, "hunter2"), "no password");
	ASSERT_TRUE(strstr(buf, "  KeyringPw:                 (set)\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  IpTimeCondition:           08:00:00-09:00:00 UTC (closed when compiled)\n") != NULL, buf);
	ASSERT_TRUE(strstr(buf, "  Conditions: none now (outside its IpTimeCondition window)\n") != NULL, buf);
	free(buf);
	attls_map_image_free(&img);
	free(diags);
}

/* Keywords of the new statements are case-insensitive too. */
static void test_new_keywords_case(void)
{
	struct attls_map_image img;
	char *diags;
	int rc;

	rc = build("ttlsrule r { localaddrgroupref G\n localportgroupref P\n direction inbound\n"
		   " iptimeconditionref T\n ttlsgroupactionref g }\n"
		   "TTLSGROUPACTION g { ttlsenabled off\n fips140 OFF }\n"
		   "ipaddrgroup G { ipaddrset { prefix 10.0.0.0/8 } }\n"
		   "PORTGROUP P { portrange { port 22 } }\n"
		   "IPTIMECONDITION T { timezone utc\n dayofweekmask 1111111 }\n", &img, &diags);
	ASSERT_EQ(rc, 0, diags);
	ASSERT_STREQ(diags, "", "clean");
	ASSERT_EQ(img.nrules, 1, "clause");
	attls_map_image_free(&img);
	free(diags);
}

/* ------------------------------------------------------------------ */
/* every parameter of every statement                                 */
/* ------------------------------------------------------------------ */

/*
 * One named statement "x" of every kind (names are unique per kind), so
 * that any ...Ref x resolves; `body` is also the content used for an
 * inline block of that kind.
 */
static const struct {
	const char *stmt;
	const char *body;
} library[] = {
	{ "IpAddr", "Addr 10.0.0.1" },
	{ "IpAddrSet", "Addr 10.0.0.2" },
	{ "IpAddrGroup", "IpAddrRef x" },
	{ "PortRange", "Port 1" },
	{ "PortGroup", "PortRangeRef x" },
	{ "IpTimeCondition", "TimeZone UTC" },
	{ "TTLSGroupAction", "TTLSEnabled Off" },
	{ "TTLSGroupAdvancedParms", "SyslogFacility Auth" },
	{ "TTLSEnvironmentAction", "HandshakeRole Server\n TTLSKeyringParmsRef x" },
	{ "TTLSConnectionAction", "Trace 1" },
	{ "TTLSKeyringParms", "Keyring a/b" },
	{ "TTLSEnvironmentAdvancedParms", "TLSv1.2 On" },
	{ "TTLSConnectionAdvancedParms", "TLSv1.2 On" },
	{ "TTLSCipherParms", "V3CipherSuites4Char 1301" },
	{ "TTLSSignatureParms", "SignaturePairs 0401" },
	{ "TTLSGskAdvancedParms", "GSK_V3_SIDCACHE_SIZE 1" },
	{ "TTLSGskLdapParms", "GSK_LDAP_SERVER ldap.example.com" },
	{ "TTLSGskOcspParms", "OcspUrl http://ocsp.example.com" },
	{ "TTLSGskHttpCdpParms", "HttpCdpEnable On" },
};

/* What a statement needs besides the parameter under test (by slot). */
static const struct {
	const char *stmt;
	const char *kw;
	const char *line;
} required[] = {
	{ "TTLSRule", "Direction", "Direction Both" },
	{ "TTLSRule", "TTLSGroupActionRef", "TTLSGroupActionRef x" },
	{ "TTLSRule", "LocalPortRange", "LocalPortRange 7" },
	{ "TTLSGroupAction", "TTLSEnabled", "TTLSEnabled On" },
	{ "TTLSEnvironmentAction", "HandshakeRole", "HandshakeRole Server" },
	{ "TTLSEnvironmentAction", "TTLSKeyringParmsRef", "TTLSKeyringParmsRef x" },
	{ "TTLSKeyringParms", "Keyring", "Keyring /k.p12" },
	{ "IpAddr", "Addr", "Addr 10.0.0.9" },
	{ "IpAddrSet", "Addr", "Addr 10.0.0.9" },
	{ "IpAddrGroup", "IpAddrRef", "IpAddrRef x" },
	{ "PortRange", "Port", "Port 9" },
	{ "PortGroup", "PortRangeRef", "PortRangeRef x" },
};

#define ONES31	"1111111111111111111111111111111"

/* A valid value for each parameter; a statement name where it differs. */
static const struct {
	const char *stmt;		/* NULL: any statement */
	const char *kw;
	const char *value;		/* may add lines the parameter needs */
} samples[] = {
	{ NULL, "3DesKeyCheck", "Off" },
	{ NULL, "Addr", "10.0.0.1" },
	{ NULL, "AIACDPPriority", "On" },
	{ NULL, "ApplicationControlled", "On" },
	{ NULL, "ApplicationProtocol", "FTP\n SecondaryMap On" },
	{ NULL, "CertificateLabel", "\"my label\"" },
	{ NULL, "CertValidationMode", "RFC5280" },
	{ NULL, "ClientAuthType", "PassThru" },
	{ NULL, "ClientECurves", "0023 0024" },
	{ NULL, "ClientEDHGroupSize", "2048" },
	{ NULL, "ClientExtendedMasterSecret", "On" },
	{ NULL, "ClientHandshakeSNI", "Optional\n ClientHandshakeSNIList a.example.com" },
	{ NULL, "ClientHandshakeSNIList", "a.example.com" },
	{ NULL, "ClientHandshakeSNIMatch", "Required" },
	{ NULL, "ClientKeyShareGroups", "0029" },
	{ NULL, "ClientMaxSSLFragment", "Off" },
	{ NULL, "ClientMaxSSLFragmentLength", "1024" },
	{ NULL, "ConditionTimeRange", "20260101:20261231" },
	{ NULL, "ConnectionUserInstance", "3" },
	{ NULL, "CtraceClearText", "Off" },
	{ NULL, "DayOfMonthMask", ONES31 ONES31 },
	{ NULL, "DayOfWeekMask", "0111110" },
	{ NULL, "Direction", "Outbound" },
	{ NULL, "Envfile", "/etc/x.envars" },
	{ NULL, "EnvironmentUserInstance", "2" },
	{ NULL, "FIPS140", "Off" },
	{ NULL, "FromDayOfMonth", "1\n ToDayOfMonth 15" },
	{ NULL, "FromDayOfWeek", "Monday\n ToDayOfWeek Friday" },
	{ NULL, "FromMonthOfYear", "Jan\n ToMonthOfYear Jun" },
	{ NULL, "FromTimeOfDay", "08:00\n ToTimeOfDay 17:00" },
	{ NULL, "GroupUserInstance", "1" },
	{ NULL, "GSK_SESSION_TICKET_CLIENT_ENABLE", "Off" },
	{ NULL, "GSK_SESSION_TICKET_SERVER_COUNT", "3" },
	{ NULL, "GSK_SESSION_TICKET_SERVER_ENABLE", "On" },
	{ NULL, "GSK_SYSPLEX_SESSION_TICKET_CACHE", "Off" },
	{ NULL, "GSK_SYSPLEX_SIDCACHE", "On" },
	{ NULL, "GSK_SESSION_TICKET_SERVER_ALGORITHM", "AES_256" },
	{ NULL, "GSK_V3_SESSION_TIMEOUT", "600" },
	{ NULL, "GSK_V3_SIDCACHE_SIZE", "1024" },
	{ NULL, "HandshakeRole", "ServerWithClientAuth" },
	{ NULL, "HandshakeTimeout", "20" },
	{ NULL, "HostReferenceIdCN", "host" },
	{ NULL, "HostReferenceIdDNS", "peer.example.com" },
	{ NULL, "HostRefWildcardValidation", "On" },
	{ NULL, "IdleTimeout", "300" },
	{ NULL, "Jobname", "APPS*" },
	{ NULL, "Keyring", "OWNER/RING" },
	{ NULL, "KeyringPw", "secret" },
	{ NULL, "KeyringStashFile", "/nonexistent/k.sth" },
	{ NULL, "LocalAddr", "10.0.0.0/8" },
	{ NULL, "LocalPortRange", "1-1023" },
	{ NULL, "MaxConnections", "1000" },
	{ NULL, "MiddleBoxCompatMode", "On" },
	{ NULL, "MonthOfYearMask", "111111000000" },
	{ NULL, "PeerMinCertVersion", "Any" },
	{ NULL, "PeerMinDHKeySize", "2048" },
	{ NULL, "PeerMinDsaKeySize", "2048" },
	{ NULL, "PeerMinECCKeySize", "256" },
	{ NULL, "PeerMinRsaKeySize", "3072" },
	{ NULL, "Port", "8443-8445" },
	{ NULL, "Prefix", "2001:db8::/32" },
	{ NULL, "Priority", "2000000000" },
	{ NULL, "Range", "10.0.0.1-10.0.0.9" },
	{ NULL, "RemoteAddr", "2001:db8::1" },
	{ NULL, "RemotePortRange", "1024 65535" },
	{ NULL, "Renegotiation", "Default" },
	{ NULL, "RenegotiationCertCheck", "Off" },
	{ NULL, "RenegotiationIndicator", "Optional" },
	{ NULL, "ResetCipherTimer", "0" },
	{ NULL, "RevocationSecurityLevel", "Medium" },
	{ NULL, "GSK_CRL_SECURITY_LEVEL", "High" },
	{ NULL, "SecondaryMap", "On" },
	{ NULL, "ServerCertificateLabel", "c1 c2" },
	{ NULL, "ServerEDHGroupSize", "2048" },
	{ NULL, "ServerExtendedMasterSecret", "On" },
	{ NULL, "ServerHandshakeSNI", "Required" },
	{ NULL, "ServerHandshakeSNIList", "c1:a.example.com" },
	{ NULL, "ServerHandshakeSNIMatch", "Optional" },
	{ NULL, "ServerKexECurves", "0023" },
	{ NULL, "ServerKeyShareGroups", "0029 0023" },
	{ NULL, "ServerMaxSSLFragment", "Off" },
	{ NULL, "ServerScsv", "On" },
	{ NULL, "SignaturePairs", "0804 0401" },
	{ NULL, "SignaturePairsCert", "0401" },
	{ NULL, "SSLv2", "Off" },
	{ NULL, "SSLv3", "Off" },
	{ NULL, "SuiteBProfile", "Off" },
	{ NULL, "SyslogFacility", "Auth" },
	{ NULL, "TimeOfDayRange", "08:00-17:00" },
	{ NULL, "TimeZone", "UTC" },
	{ NULL, "TLSv1", "Off" },
	{ NULL, "TLSv1.1", "Off" },
	{ NULL, "TLSv1.2", "On" },
	{ NULL, "TLSv1.3", "On" },
	{ NULL, "ToDayOfMonth", "15\n FromDayOfMonth 1" },
	{ NULL, "ToDayOfWeek", "Friday\n FromDayOfWeek Monday" },
	{ NULL, "ToMonthOfYear", "Jun\n FromMonthOfYear Jan" },
	{ NULL, "ToTimeOfDay", "24:00\n FromTimeOfDay 08:00" },
	{ NULL, "Trace", "7" },
	{ NULL, "TruncatedHMAC", "Off" },
	{ NULL, "TTLSEnabled", "Off" },
	{ NULL, "Userid", "root" },
	{ NULL, "V2CipherSuites", "01" },
	{ NULL, "V3CipherSuites", "TLS_AES_128_GCM_SHA256 35" },
	{ NULL, "V3CipherSuites4Char", "1302 C02F" },
};

/* A value for `kw` of `d`: a sample, "x" for a reference, a block body. */
static const char *sample_for(const struct stmt_desc *d, const struct kw *kw,
			      char *buf, size_t len)
{
	size_t i;

	if (kw->type == KW_REF)
		return "x";
	if (kw->type == KW_BLOCK) {
		for (i = 0; i < sizeof(library) / sizeof(library[0]); i++) {
			if (!strcmp(library[i].stmt, stmt_kind_name(kw->target))) {
				snprintf(buf, len, "\n {\n %s\n }", library[i].body);
				return buf;
			}
		}
		return NULL;
	}
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		if ((!samples[i].stmt || !strcmp(samples[i].stmt, d->name)) &&
		    !strcasecmp(samples[i].kw, kw->name))
			return samples[i].value;
	}
	/* parameters of ignored statements, and ignored numbers, take a number */
	if (kw->fn && !kw->enums && kw->type == KW_PARAM && !kw->off)
		return "5";
	return NULL;
}

/*
 * Every parameter of every statement parses with a valid value and
 * compiles, without an error; a parameter without a sample fails here, so
 * a new keyword comes with its test.
 */
static void test_every_keyword(void)
{
	const struct stmt_desc *st;
	char lib[2048], text[4096], block[256], msg[256];
	size_t n, i, k, j, off = 0, tried = 0;

	for (i = 0; i < sizeof(library) / sizeof(library[0]); i++)
		off += snprintf(lib + off, sizeof(lib) - off, "%s x\n{\n %s\n}\n",
				library[i].stmt, library[i].body);
	st = stmt_table(&n);
	for (i = 0; i < n; i++) {
		for (k = 0; k < st[i].nkws; k++) {
			const struct kw *kw = &st[i].kws[k];
			const char *v = sample_for(&st[i], kw, block, sizeof(block));
			struct attls_map_image img;
			char *diags;
			size_t t = 0;
			int rc;

			snprintf(msg, sizeof(msg), "%s %s", st[i].name, kw->name);
			if (!ASSERT_TRUE(v != NULL, msg))
				continue;
			t += snprintf(text + t, sizeof(text) - t, "%s t\n{\n %s %s\n",
				      st[i].name, kw->name, v);
			for (j = 0; j < sizeof(required) / sizeof(required[0]); j++) {
				const struct kw *rk;

				if (strcmp(required[j].stmt, st[i].name))
					continue;
				rk = kw_lookup(&st[i], required[j].kw);
				if (rk && rk->slot != kw->slot)
					t += snprintf(text + t, sizeof(text) - t, " %s\n",
						      required[j].line);
			}
			snprintf(text + t, sizeof(text) - t, "}\n%s", lib);
			rc = build(text, &img, &diags);
			ASSERT_EQ(rc, 0, diags);
			ASSERT_TRUE(!strstr(diags, "error:"), msg);
			attls_map_image_free(&img);
			free(diags);
			tried++;
		}
	}
	ASSERT_TRUE(tried > 200, "every parameter was tried");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_group_sigalg_tables),
		UNIT_TEST(test_time_values),
		UNIT_TEST(test_addr_sets_and_groups),
		UNIT_TEST(test_port_groups),
		UNIT_TEST(test_cross_product),
		UNIT_TEST(test_expansion_limit),
		UNIT_TEST(test_thousand_rules),
		UNIT_TEST(test_addr_set_errors),
		UNIT_TEST(test_time_parse_errors),
		UNIT_TEST(test_time_window_eval),
		UNIT_TEST(test_compile_at),
		UNIT_TEST(test_signature_parms),
		UNIT_TEST(test_advanced_parms),
		UNIT_TEST(test_conn_overrides),
		UNIT_TEST(test_ignored_parms),
		UNIT_TEST(test_keyring_forms),
		UNIT_TEST(test_user_instances),
		UNIT_TEST(test_gsk_sessions),
		UNIT_TEST(test_crl_level),
		UNIT_TEST(test_peer_minimums),
		UNIT_TEST(test_pagent_sample),
		UNIT_TEST(test_pagent_errors),
		UNIT_TEST(test_zos_sample),
		UNIT_TEST(test_dump_new_fields),
		UNIT_TEST(test_new_keywords_case),
		UNIT_TEST(test_every_keyword),
	};

	policy_set_uid_resolver(fake_resolve);
	policy_set_user_lister(fake_list);
	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
