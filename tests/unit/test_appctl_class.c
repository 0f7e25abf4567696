// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_appctl_class.c - the policy status attlsd reports for a socket the
 * engine does not carry (user/appctl_class.c): the flow rebuilt from the
 * socket's addresses as the BPF side saw it (inbound: both ends; outbound:
 * the local end only as bound before connect()), then first match over a
 * compiled policy: no rule 2, TTLSEnabled Off 3 (priority order, direction,
 * job, user, addresses), a TLS rule 4 (the caller's case).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../../bpf/attls_match.h"
#include "../../user/appctl_class.h"
#include "../../user/lib/attls.h"
#include "policy_build.h"
#include "unit.h"

static const char policy_text[] =
	"TTLSRule OffHigh\n{\n"
	"  LocalPortRange 8100-8200\n  Direction Inbound\n  Priority 200\n"
	"  TTLSGroupActionRef off\n}\n"
	"TTLSRule OnWide\n{\n"
	"  LocalPortRange 8000-9000\n  Direction Inbound\n  Priority 100\n"
	"  TTLSGroupActionRef on\n  TTLSEnvironmentActionRef srv\n}\n"
	"TTLSRule OffOut\n{\n"
	"  RemotePortRange 8150\n  Direction Outbound\n  Priority 100\n"
	"  TTLSGroupActionRef off\n}\n"
	"TTLSRule OffJob\n{\n"
	"  LocalPortRange 7000\n  Jobname clear*\n  Userid 1000\n"
	"  Direction Inbound\n  TTLSGroupActionRef off\n}\n"
	"TTLSRule OffBoundOut\n{\n"
	"  LocalAddr 10.1.1.1\n  LocalPortRange 5000\n  Direction Outbound\n"
	"  TTLSGroupActionRef off\n}\n"
	"TTLSRule OffAnyLocalOut\n{\n"
	"  LocalAddr 0.0.0.0\n  RemotePortRange 6000\n  Direction Outbound\n"
	"  TTLSGroupActionRef off\n}\n"
	"TTLSRule OffV4Net\n{\n"
	"  RemoteAddr 192.0.2.0/24\n  LocalPortRange 7100\n  Direction Inbound\n"
	"  TTLSGroupActionRef off\n}\n"
	"TTLSGroupAction on { TTLSEnabled On }\n"
	"TTLSGroupAction off { TTLSEnabled Off }\n"
	"TTLSEnvironmentAction srv { HandshakeRole Server\n"
	" TTLSKeyringParms { Keyring ring } }\n";

static struct sockaddr_storage sa(const char *a, unsigned short port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	} else {
		abort();
	}
	return ss;
}

static struct attls_owner owner(const char *comm, __u32 uid, __u32 dir)
{
	struct attls_owner o;

	memset(&o, 0, sizeof(o));
	memcpy(o.comm, comm, strlen(comm));
	o.uid = uid;
	o.dir = dir;
	return o;
}

/*
 * The status and rule name ("-" for none) of a socket: local/peer as
 * getsockname()/getpeername() say, its family, direction and (outbound)
 * the endpoint it was bound to, if any.
 */
static __u32 status(const struct attls_map_image *img, const char *l,
		    unsigned short lport, const char *r, unsigned short rport,
		    __u32 family, const struct attls_owner *o,
		    const struct attls_endpoint *bound, const char **rule)
{
	struct sockaddr_storage ls = sa(l, lport), rs = sa(r, rport);
	const struct attls_rule *m;
	struct attls_flow f;
	__u32 st;

	*rule = "?";
	if (!ASSERT_EQ(appctl_class_flow((struct sockaddr *)&ls, (struct sockaddr *)&rs,
					 family, o->dir, bound, &f), 0, "flow"))
		return 0;
	st = appctl_class_status(img->rules, img->nrules, &f, o, o->dir, &m);
	*rule = m ? img->actions[m->rule_id].rule_name : "-";
	return st;
}

/* The test policy compiled into img; 1, or 0 after reporting why. */
static int build(struct attls_map_image *img)
{
	char *diags;
	int rc = policy_build_at(policy_text, time(NULL), img, &diags);

	ASSERT_EQ(rc, 0, diags);
	free(diags);
	return rc == 0;
}

static void test_status_inbound(void)
{
	struct attls_owner o = owner("srv", 0, ATTLS_RF_INBOUND);
	struct attls_map_image img;
	const char *rule;

	if (!build(&img))
		return;
	/* the higher priority Off rule shadows the TLS rule */
	ASSERT_EQ(status(&img, "10.0.0.1", 8150, "10.0.0.2", 40000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NOT_ENABLED, "8150");
	ASSERT_STREQ(rule, "OffHigh", "8150 rule");
	ASSERT_EQ(status(&img, "10.0.0.1", 8300, "10.0.0.2", 40000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_ENABLED, "8300: TLS rule");
	ASSERT_STREQ(rule, "OnWide", "8300 rule");
	ASSERT_EQ(status(&img, "10.0.0.1", 9999, "10.0.0.2", 40000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NO_POLICY, "9999: no rule");
	ASSERT_STREQ(rule, "-", "9999 rule");
	/* the peer port is not the local one: OffOut (RemotePort 8150,
	 * Outbound) does not apply to an inbound socket */
	ASSERT_EQ(status(&img, "10.0.0.1", 9999, "10.0.0.2", 8150, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NO_POLICY, "direction");
	/* Jobname and Userid: the owner of the socket (its listener's) */
	o = owner("clearsrv", 1000, ATTLS_RF_INBOUND);
	ASSERT_EQ(status(&img, "10.0.0.1", 7000, "10.0.0.2", 40000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NOT_ENABLED, "job and user");
	o = owner("clearsrv", 1001, ATTLS_RF_INBOUND);
	ASSERT_EQ(status(&img, "10.0.0.1", 7000, "10.0.0.2", 40000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NO_POLICY, "other user");
	o = owner("srv", 1000, ATTLS_RF_INBOUND);
	ASSERT_EQ(status(&img, "10.0.0.1", 7000, "10.0.0.2", 40000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NO_POLICY, "other job");
	/* an IPv6 socket's view of an IPv4 peer matches an IPv4 rule */
	ASSERT_EQ(status(&img, "::ffff:10.0.0.1", 7100, "::ffff:192.0.2.7", 40000,
			 ATTLS_AF_INET6, &o, NULL, &rule), ATTLS_POL_NOT_ENABLED,
		  "v4-mapped");
	ASSERT_STREQ(rule, "OffV4Net", "v4-mapped rule");
	ASSERT_EQ(status(&img, "10.0.0.1", 7100, "198.51.100.7", 40000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NO_POLICY, "other network");
	attls_map_image_free(&img);
}

static void test_status_outbound(void)
{
	struct attls_owner o = owner("cli", 0, ATTLS_RF_OUTBOUND);
	struct attls_endpoint bk;
	struct attls_map_image img;
	const char *rule;

	if (!build(&img))
		return;
	ASSERT_EQ(status(&img, "10.0.0.2", 41000, "10.0.0.1", 8150, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NOT_ENABLED, "remote port 8150");
	ASSERT_STREQ(rule, "OffOut", "8150 rule");
	/* OffHigh is Inbound: an outbound socket to 8120 has no rule */
	ASSERT_EQ(status(&img, "10.0.0.2", 8120, "10.0.0.1", 8120, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NO_POLICY, "inbound rules");
	/* connect() classified with the local end as bound then: an
	 * ephemeral port the kernel picked later is not seen ... */
	ASSERT_EQ(status(&img, "10.1.1.1", 5000, "10.0.0.1", 80, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NO_POLICY, "not bound");
	/* ... a bind() before connect() is */
	memset(&bk, 0, sizeof(bk));
	attls_addr_from_v4(bk.addr, inet_addr("10.1.1.1"));
	bk.port = 5000;
	bk.family = ATTLS_AF_INET;
	ASSERT_EQ(status(&img, "10.1.1.1", 5000, "10.0.0.1", 80, ATTLS_AF_INET,
			 &o, &bk, &rule), ATTLS_POL_NOT_ENABLED, "bound");
	ASSERT_STREQ(rule, "OffBoundOut", "bound rule");
	/* unbound AF_INET: the local address is 0.0.0.0 (v4-mapped), as
	 * connect4 saw it, whatever getsockname() says now */
	ASSERT_EQ(status(&img, "10.1.1.1", 41000, "10.0.0.1", 6000, ATTLS_AF_INET,
			 &o, NULL, &rule), ATTLS_POL_NOT_ENABLED, "0.0.0.0");
	ASSERT_STREQ(rule, "OffAnyLocalOut", "0.0.0.0 rule");
	/* a wildcard bind (attls_bindkey's all-zero address) likewise */
	memset(&bk, 0, sizeof(bk));
	bk.port = 41000;
	bk.family = ATTLS_AF_INET;
	ASSERT_EQ(status(&img, "10.1.1.1", 41000, "10.0.0.1", 6000, ATTLS_AF_INET,
			 &o, &bk, &rule), ATTLS_POL_NOT_ENABLED, "wildcard bind");
	/* an AF_INET6 socket's unspecified address is ::, not 0.0.0.0 */
	ASSERT_EQ(status(&img, "::ffff:10.1.1.1", 41000, "::ffff:10.0.0.1", 6000,
			 ATTLS_AF_INET6, &o, NULL, &rule), ATTLS_POL_NO_POLICY, "::");
	attls_map_image_free(&img);
}

static void test_flow_errors(void)
{
	struct sockaddr_storage l = sa("10.0.0.1", 1), r = sa("10.0.0.2", 2);
	struct sockaddr_storage u;
	struct attls_flow f;

	memset(&u, 0, sizeof(u));
	u.ss_family = AF_UNIX;
	ASSERT_EQ(appctl_class_flow((struct sockaddr *)&l, (struct sockaddr *)&r,
				    ATTLS_AF_INET, 0, NULL, &f), -EINVAL,
		  "no direction (not established under attls)");
	ASSERT_EQ(appctl_class_flow((struct sockaddr *)&l, (struct sockaddr *)&u,
				    ATTLS_AF_INET, ATTLS_RF_INBOUND, NULL, &f),
		  -EAFNOSUPPORT, "unix peer");
	ASSERT_EQ(appctl_class_flow((struct sockaddr *)&l, (struct sockaddr *)&r,
				    99, ATTLS_RF_INBOUND, NULL, &f), -EAFNOSUPPORT,
		  "family");
	ASSERT_EQ(appctl_class_flow((struct sockaddr *)&l, (struct sockaddr *)&r,
				    ATTLS_AF_INET, ATTLS_RF_INBOUND, NULL, &f), 0, "inbound");
	ASSERT_EQ(f.lport, 1, "lport");
	ASSERT_EQ(f.rport, 2, "rport");
}

static void test_empty_policy(void)
{
	struct attls_owner o = owner("x", 0, ATTLS_RF_INBOUND);
	const struct attls_rule *m = (const struct attls_rule *)1;
	struct attls_flow f;

	memset(&f, 0, sizeof(f));
	ASSERT_EQ(appctl_class_status(NULL, 0, &f, &o, ATTLS_RF_INBOUND, &m),
		  ATTLS_POL_NO_POLICY, "no rules");
	ASSERT_TRUE(m == NULL, "no match");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_status_inbound),
		UNIT_TEST(test_status_outbound),
		UNIT_TEST(test_flow_errors),
		UNIT_TEST(test_empty_policy),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
