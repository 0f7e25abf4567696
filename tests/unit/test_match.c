// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_match.c - the classifier of bpf/attls_match.h, built as plain C:
 * address order and ranges, IPv4-mapped addresses, job exact vs prefix,
 * uid, direction, port bounds, and first-match order over clauses that
 * policy_compile() produced from a policy text.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/attls_match.h"
#include "../../policy/policy.h"
#include "unit.h"

static void addr(__u8 out[16], const char *s)
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1)
		attls_addr_from_v4(out, a4.s_addr);
	else if (inet_pton(AF_INET6, s, out) != 1)
		abort();
}

static struct attls_flow flow(const char *laddr, __u16 lport,
			      const char *raddr, __u16 rport)
{
	struct attls_flow f;

	memset(&f, 0, sizeof(f));
	addr(f.laddr, laddr);
	addr(f.raddr, raddr);
	f.lport = lport;
	f.rport = rport;
	f.family = strchr(raddr, ':') ? ATTLS_AF_INET6 : ATTLS_AF_INET;
	return f;
}

static struct attls_owner owner(const char *comm, __u32 uid)
{
	struct attls_owner o;

	size_t n = strlen(comm);

	/* comm is NUL-padded and at most 15 characters, like the kernel's */
	if (n > sizeof(o.comm) - 1)
		n = sizeof(o.comm) - 1;
	memset(&o, 0, sizeof(o));
	memcpy(o.comm, comm, n);
	o.uid = uid;
	return o;
}

/* A clause that matches everything in both directions. */
static struct attls_rule any_rule(void)
{
	struct attls_rule r;

	memset(&r, 0, sizeof(r));
	r.flags = ATTLS_RF_INBOUND | ATTLS_RF_OUTBOUND;
	r.lport_hi = r.rport_hi = 65535;
	return r;
}

static void test_addr_helpers(void)
{
	__u8 a[16], b[16], c[16], z[16] = { 0 };

	addr(a, "10.0.0.1");
	addr(b, "10.0.0.2");
	addr(c, "10.0.1.0");
	ASSERT_EQ(attls_addr_cmp(a, b), -1, "a < b");
	ASSERT_EQ(attls_addr_cmp(b, a), 1, "b > a");
	ASSERT_EQ(attls_addr_cmp(a, a), 0, "a == a");
	ASSERT_EQ(attls_addr_cmp(b, c), -1, "byte order is network order");
	ASSERT_TRUE(attls_addr_in(b, a, c), "inside");
	ASSERT_TRUE(attls_addr_in(a, a, c), "low bound inclusive");
	ASSERT_TRUE(attls_addr_in(c, a, c), "high bound inclusive");
	ASSERT_FALSE(attls_addr_in(a, b, c), "below");
	ASSERT_TRUE(attls_addr_is_zero(z), "zero");
	ASSERT_FALSE(attls_addr_is_zero(a), "not zero");
}

static void test_v4_mapped(void)
{
	static const __u8 want[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1
	};
	__u8 got[16], v6[16];

	attls_addr_from_v4(got, inet_addr("192.0.2.1"));
	ASSERT_TRUE(!memcmp(got, want, 16), "::ffff:192.0.2.1");
	/* what an AF_INET6 socket reports for an IPv4 peer is the same bytes */
	inet_pton(AF_INET6, "::ffff:192.0.2.1", v6);
	ASSERT_TRUE(!memcmp(got, v6, 16), "v4-mapped == v4");
}

static void test_job_match(void)
{
	struct attls_rule r = any_rule();
	struct attls_owner o;

	r.flags |= ATTLS_RF_JOB;
	memcpy(r.job, "nginx", 5);
	r.job_len = 6;			/* exact: includes the NUL */
	o = owner("nginx", 0);
	ASSERT_TRUE(attls_job_match(&r, o.comm), "exact");
	o = owner("nginx2", 0);
	ASSERT_FALSE(attls_job_match(&r, o.comm), "exact rejects longer");
	o = owner("ngin", 0);
	ASSERT_FALSE(attls_job_match(&r, o.comm), "exact rejects shorter");
	r.job_len = 5;			/* "nginx*" */
	o = owner("nginx2", 0);
	ASSERT_TRUE(attls_job_match(&r, o.comm), "prefix");
	o = owner("nginx", 0);
	ASSERT_TRUE(attls_job_match(&r, o.comm), "prefix matches itself");
	o = owner("Nginx", 0);
	ASSERT_FALSE(attls_job_match(&r, o.comm), "case-sensitive");
	memcpy(r.job, "averyveryverylo", 15);
	r.job_len = 16;			/* 15 chars + NUL: the longest comm */
	o = owner("averyveryverylo", 0);
	ASSERT_TRUE(attls_job_match(&r, o.comm), "15-char comm");
}

static void test_rule_fields(void)
{
	struct attls_flow f = flow("10.0.0.1", 8443, "10.9.9.9", 40000);
	struct attls_owner o = owner("srv", 1000);
	struct attls_rule r = any_rule();

	ASSERT_TRUE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "any");
	r.flags = ATTLS_RF_OUTBOUND;
	ASSERT_FALSE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "direction");
	ASSERT_TRUE(attls_rule_match(&r, &f, &o, ATTLS_RF_OUTBOUND), "direction ok");

	r = any_rule();
	r.lport_lo = 8443;
	r.lport_hi = 8443;
	ASSERT_TRUE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "port exact");
	r.lport_lo = 8444;
	r.lport_hi = 9000;
	ASSERT_FALSE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "port below");
	r.lport_lo = 1;
	r.lport_hi = 8442;
	ASSERT_FALSE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "port above");
	r = any_rule();
	r.rport_lo = 40000;
	r.rport_hi = 40000;
	ASSERT_TRUE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "rport");

	r = any_rule();
	r.flags |= ATTLS_RF_UID;
	r.uid = 1000;
	ASSERT_TRUE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "uid");
	r.uid = 0;
	ASSERT_FALSE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "uid 0 is a real uid");

	r = any_rule();
	r.flags |= ATTLS_RF_RADDR;
	addr(r.raddr_lo, "10.9.0.0");
	addr(r.raddr_hi, "10.9.255.255");
	ASSERT_TRUE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "raddr");
	r.flags |= ATTLS_RF_LADDR;
	addr(r.laddr_lo, "10.0.0.2");
	addr(r.laddr_hi, "10.0.0.2");
	ASSERT_FALSE(attls_rule_match(&r, &f, &o, ATTLS_RF_INBOUND), "laddr");
}

/* ------------------------------------------------------------------ */
/* first match over a compiled policy                                 */
/* ------------------------------------------------------------------ */

static const char policy_text[] =
	"TTLSRule Specific\n{\n"
	"  LocalPortRange 8443\n  RemoteAddr 10.0.0.0/8\n  Jobname nginx\n"
	"  Direction Inbound\n  Priority 200\n"
	"  TTLSGroupActionRef on\n  TTLSEnvironmentActionRef srv\n}\n"
	"TTLSRule AnyWeb\n{\n"
	"  LocalPortRange 8443\n  Direction Inbound\n  Priority 100\n"
	"  TTLSGroupActionRef off\n}\n"
	"TTLSRule ClientOut\n{\n"
	"  RemotePortRange 443\n  Userid 1000\n  Direction Outbound\n  Priority 100\n"
	"  TTLSGroupActionRef on\n  TTLSEnvironmentActionRef cli\n}\n"
	"TTLSRule V6Only\n{\n"
	"  RemoteAddr 2001:db8::/32\n  Direction Both\n  Priority 50\n"
	"  TTLSGroupActionRef on\n  TTLSEnvironmentActionRef srv\n}\n"
	"TTLSRule Range\n{\n"
	"  LocalPortRange 9000-9010\n  RemoteAddr 192.168.1.10-192.168.1.20\n"
	"  Jobname py*\n  Direction Both\n"
	"  TTLSGroupActionRef on\n  TTLSEnvironmentActionRef srv\n}\n"
	"TTLSGroupAction on { TTLSEnabled On }\n"
	"TTLSGroupAction off { TTLSEnabled Off }\n"
	"TTLSEnvironmentAction srv { HandshakeRole Server\n TTLSKeyringParms { Keyring ring } }\n"
	"TTLSEnvironmentAction cli { HandshakeRole Client\n TTLSKeyringParms { Keyring ring } }\n";

/* The rule name of the first matching clause, or "-" when none matches. */
static const char *classify(const struct attls_map_image *img,
			    const struct attls_flow *f,
			    const struct attls_owner *o, __u32 dir)
{
	size_t i;

	for (i = 0; i < img->nrules; i++) {
		if (attls_rule_match(&img->rules[i], f, o, dir))
			return img->actions[img->rules[i].rule_id].rule_name;
	}
	return "-";
}

static void test_first_match(void)
{
	static const struct {
		const char *l, *r;
		__u16 lport, rport;
		const char *comm;
		__u32 uid, dir;
		const char *want;
	} cases[] = {
		{ "10.0.0.1", "10.1.2.3", 8443, 50000, "nginx", 33, ATTLS_RF_INBOUND, "Specific" },
		{ "10.0.0.1", "11.0.0.1", 8443, 50000, "nginx", 33, ATTLS_RF_INBOUND, "AnyWeb" },
		{ "10.0.0.1", "10.1.2.3", 8443, 50000, "nginx2", 33, ATTLS_RF_INBOUND, "AnyWeb" },
		{ "10.0.0.1", "10.1.2.3", 8443, 50000, "nginx", 33, ATTLS_RF_OUTBOUND, "-" },
		{ "10.0.0.1", "1.2.3.4", 41000, 443, "curl", 1000, ATTLS_RF_OUTBOUND, "ClientOut" },
		{ "10.0.0.1", "1.2.3.4", 41000, 443, "curl", 1001, ATTLS_RF_OUTBOUND, "-" },
		{ "10.0.0.1", "1.2.3.4", 41000, 443, "curl", 1000, ATTLS_RF_INBOUND, "-" },
		{ "2001:db8::1", "2001:db8::5", 22, 50000, "sshd", 0, ATTLS_RF_INBOUND, "V6Only" },
		{ "2001:db8::1", "2001:db8::5", 50000, 443, "curl", 0, ATTLS_RF_OUTBOUND, "V6Only" },
		{ "2001:db9::1", "2001:db9::5", 50000, 443, "curl", 0, ATTLS_RF_OUTBOUND, "-" },
		{ "10.0.0.1", "192.168.1.20", 9010, 1, "python3", 5, ATTLS_RF_INBOUND, "Range" },
		{ "10.0.0.1", "192.168.1.10", 9000, 1, "py", 5, ATTLS_RF_OUTBOUND, "Range" },
		{ "10.0.0.1", "192.168.1.21", 9010, 1, "python3", 5, ATTLS_RF_INBOUND, "-" },
		{ "10.0.0.1", "192.168.1.9", 9010, 1, "python3", 5, ATTLS_RF_INBOUND, "-" },
		{ "10.0.0.1", "192.168.1.15", 9011, 1, "python3", 5, ATTLS_RF_INBOUND, "-" },
		{ "10.0.0.1", "192.168.1.15", 9005, 1, "perl", 5, ATTLS_RF_INBOUND, "-" },
		/* an IPv6 socket's view of an IPv4 peer matches IPv4 rules */
		{ "::ffff:10.0.0.1", "::ffff:10.1.2.3", 8443, 50000, "nginx", 33, ATTLS_RF_INBOUND, "Specific" },
	};
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	char what[160];
	size_t i;
	int rc;

	rc = policy_parse_string("match.policy", policy_text, &p, &d);
	if (!ASSERT_EQ(rc, 0, "parse"))
		goto out;
	rc = policy_compile(p, &img, d);
	if (!ASSERT_EQ(rc, 0, "compile"))
		goto out;
	ASSERT_EQ(img.nrules, 5, "five clauses");
	ASSERT_STREQ(img.actions[0].rule_name, "Specific", "order 0");
	ASSERT_STREQ(img.actions[1].rule_name, "AnyWeb", "order 1: name order within 100");
	ASSERT_STREQ(img.actions[2].rule_name, "ClientOut", "order 2");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct attls_flow f = flow(cases[i].l, cases[i].lport,
					   cases[i].r, cases[i].rport);
		struct attls_owner o = owner(cases[i].comm, cases[i].uid);

		snprintf(what, sizeof(what), "case %zu: %s:%u <- %s:%u %s", i,
			 cases[i].l, cases[i].lport, cases[i].r, cases[i].rport,
			 cases[i].comm);
		ASSERT_STREQ(classify(&img, &f, &o, cases[i].dir), cases[i].want, what);
	}
	attls_map_image_free(&img);
out:
	policy_free(p);
	policy_diags_free(d);
}

/* The demo policy: TLS for socat on 8023, cleartext on 8024. */
static void test_demo_policy_flows(void)
{
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	struct attls_flow f;
	struct attls_owner o;
	int rc;

	rc = policy_parse_file(unit_src_path("policy/samples/demo.policy"), &p, &d);
	if (!ASSERT_EQ(rc, 0, "parse demo"))
		goto out;
	rc = policy_compile(p, &img, d);
	if (!ASSERT_EQ(rc, 0, "compile demo"))
		goto out;
	f = flow("127.0.0.1", 8023, "127.0.0.1", 40000);
	o = owner("socat", 1000);
	ASSERT_STREQ(classify(&img, &f, &o, ATTLS_RF_INBOUND), "DemoLineServer", "socat 8023");
	ASSERT_TRUE(img.rules[0].flags & ATTLS_RF_ENABLED, "protected");
	o = owner("nc", 1000);
	ASSERT_STREQ(classify(&img, &f, &o, ATTLS_RF_INBOUND), "-", "not socat");
	f = flow("127.0.0.1", 8024, "127.0.0.1", 40000);
	ASSERT_STREQ(classify(&img, &f, &o, ATTLS_RF_INBOUND), "DemoClearPort", "8024");
	ASSERT_FALSE(img.rules[1].flags & ATTLS_RF_ENABLED, "cleartext");
	attls_map_image_free(&img);
out:
	policy_free(p);
	policy_diags_free(d);
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_addr_helpers),
		UNIT_TEST(test_v4_mapped),
		UNIT_TEST(test_job_match),
		UNIT_TEST(test_rule_fields),
		UNIT_TEST(test_first_match),
		UNIT_TEST(test_demo_policy_flows),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
