// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_tuple.c - the byte-order helpers of bpf/attls_tuple.h, checked
 * against the kernel's context layouts as the BPF programs see them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "../../bpf/attls_tuple.h"
#include "../../user/addr.h"
#include "unit.h"

/*
 * bpf_sock_ops.remote_port: the kernel loads the __be16 skc_dport and, on
 * little-endian, shifts it left by 16 (net/core/filter.c), so the 32-bit
 * field holds the network-order port in its upper half.  Build exactly
 * that value and check the helper gets the port back.
 */
static __u32 ops_remote_port_raw(__u16 port)
{
	__u32 v = htons(port);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v <<= 16;
#endif
	return v;
}

static void test_ops_remote_port(void)
{
	ASSERT_EQ(attls_port_from_ops_remote(ops_remote_port_raw(8023)), 8023,
		  "sockops remote_port 8023");
	ASSERT_EQ(attls_port_from_ops_remote(ops_remote_port_raw(1)), 1,
		  "sockops remote_port 1");
	ASSERT_EQ(attls_port_from_ops_remote(ops_remote_port_raw(65535)), 65535,
		  "sockops remote_port 65535");
}

static void test_be16_ports(void)
{
	ASSERT_EQ(attls_port_from_be16(htons(443)), 443, "sk_lookup remote_port");
	ASSERT_EQ(attls_port_from_be16(htons(0x1234)), 0x1234, "asymmetric bytes");
	ASSERT_EQ(attls_port_to_user(8023), htons(8023), "user_port is network order");
}

static void test_v4_mapped(void)
{
	__u8 a[16];
	char buf[ATTLS_ADDRSTRLEN];
	struct in_addr ip;

	inet_pton(AF_INET, "10.77.0.1", &ip);
	attls_addr_from_v4(a, ip.s_addr);
	ASSERT_TRUE(attls_addr_is_v4mapped(a), "v4-mapped");
	ASSERT_EQ(a[10], 0xff, "ffff marker");
	ASSERT_EQ(a[12], 10, "first octet first (network order)");
	ASSERT_EQ(a[15], 1, "last octet last");
	ASSERT_STREQ(attls_addr_str(a, buf, sizeof(buf)), "10.77.0.1", "formats as IPv4");
}

static void test_ctx_ip6(void)
{
	struct in6_addr in6;
	__u32 words[4];
	__u8 a[16];
	char buf[ATTLS_ADDRSTRLEN];

	/* the kernel's ip6[4] fields are the address bytes as four __u32 */
	inet_pton(AF_INET6, "2001:db8::7", &in6);
	memcpy(words, &in6, sizeof(words));
	attls_addr_from_ctx(a, ATTLS_AF_INET6, 0, words);
	ASSERT_TRUE(!memcmp(a, &in6, 16), "ip6 bytes preserved");
	ASSERT_FALSE(attls_addr_is_v4mapped(a), "not v4-mapped");
	ASSERT_STREQ(attls_addr_str(a, buf, sizeof(buf)), "2001:db8::7", "IPv6 text");
}

static void test_hop_key_family(void)
{
	struct attls_endpoint k1, k2;
	struct in_addr ip;
	struct in6_addr in6;
	__u8 a[16];

	inet_pton(AF_INET, "127.0.0.1", &ip);
	attls_addr_from_v4(a, ip.s_addr);
	memset(&k1, 0xAA, sizeof(k1));
	attls_hop_key(&k1, a, 40000);
	ASSERT_EQ(k1.family, ATTLS_AF_INET, "v4-mapped -> AF_INET");
	ASSERT_EQ(k1.pad, 0, "pad zeroed: the key is hashed whole");
	ASSERT_EQ(k1.port, 40000, "port host order");
	inet_pton(AF_INET6, "::1", &in6);
	attls_hop_key(&k2, (const __u8 *)&in6, 40000);
	ASSERT_EQ(k2.family, ATTLS_AF_INET6, "IPv6 -> AF_INET6");
}

static void test_sockaddr_roundtrip(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(8023) };
	__u8 a[16];
	__u16 port = 0;
	socklen_t len;

	inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr);
	ASSERT_EQ(attls_addr_from_sockaddr((struct sockaddr *)&sin, a, &port), 0, "from");
	ASSERT_EQ(port, 8023, "port");
	len = attls_sockaddr_from_addr(a, port, ATTLS_AF_INET, &ss);
	ASSERT_EQ(len, sizeof(struct sockaddr_in), "len");
	ASSERT_TRUE(!memcmp(&((struct sockaddr_in *)&ss)->sin_addr, &sin.sin_addr, 4),
		    "address back");
	ASSERT_EQ(((struct sockaddr_in *)&ss)->sin_port, htons(8023), "port back");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_ops_remote_port),
		UNIT_TEST(test_be16_ports),
		UNIT_TEST(test_v4_mapped),
		UNIT_TEST(test_ctx_ip6),
		UNIT_TEST(test_hop_key_family),
		UNIT_TEST(test_sockaddr_roundtrip),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
