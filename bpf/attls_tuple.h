/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * attls_tuple.h - byte-order normalisation of kernel context fields, pure C.
 *
 * The kernel's BPF contexts disagree on port byte order (uapi bpf.h):
 *   bpf_sock_ops.remote_port   network order, in the upper 16 bits of a
 *                              __u32 on little-endian (ntohl() gives it)
 *   bpf_sock_ops.local_port    host order
 *   bpf_sk_lookup.remote_port  __be16
 *   bpf_sk_lookup.local_port   host order
 *   bpf_sock.src_port          host order;  bpf_sock.dst_port  __be16
 *   bpf_sock_addr.user_port    network order in a __u32
 * Every one of them is converted here and nowhere else; the ABI stores
 * host order.  Plain C so tests/unit/test_tuple.c checks it on the host.
 */
#ifndef ATTLS_TUPLE_H
#define ATTLS_TUPLE_H

#include "attls_match.h"

/* bpf_sock_ops.remote_port -> host order. */
ATTLS_INLINE __u16 attls_port_from_ops_remote(__u32 raw)
{
	return (__u16)attls_be32_to_host(raw);
}

/* A __be16 context port (sk_lookup remote, bpf_sock dst) -> host order. */
ATTLS_INLINE __u16 attls_port_from_be16(__u16 raw)
{
	return attls_be16_to_host(raw);
}

/* Host-order port -> bpf_sock_addr.user_port (network order in a __u32). */
ATTLS_INLINE __u32 attls_port_to_user(__u16 port)
{
	return (__u32)attls_host_to_be16(port);
}

/* 16-byte ABI address from a context's ip4 / ip6[4] pair. */
ATTLS_INLINE void attls_addr_from_ctx(__u8 *out, __u32 family, __u32 ip4,
				      const __u32 *ip6)
{
	int i;

	if (family == ATTLS_AF_INET) {
		attls_addr_from_v4(out, ip4);
		return;
	}
	ATTLS_UNROLL
	for (i = 0; i < 4; i++)
		attls_put_be32(out + 4 * i, ip6[i]);
}

/* Is a 16-byte ABI address IPv4-mapped (::ffff:a.b.c.d)? */
ATTLS_INLINE int attls_addr_is_v4mapped(const __u8 *a)
{
	int i;

	ATTLS_UNROLL
	for (i = 0; i < 10; i++) {
		if (a[i])
			return 0;
	}
	return a[10] == 0xff && a[11] == 0xff;
}

/*
 * Key of attls_hop: the family follows the address (v4-mapped = the
 * engine's hop socket is AF_INET), so an AF_INET6 dual-stack application
 * socket finds the entry the engine wrote for its AF_INET hop.
 */
ATTLS_INLINE void attls_hop_key(struct attls_endpoint *k, const __u8 *addr,
				__u16 port)
{
	int i;

	ATTLS_UNROLL
	for (i = 0; i < ATTLS_ADDR_LEN; i++)
		k->addr[i] = addr[i];
	k->port = port;
	k->family = attls_addr_is_v4mapped(addr) ? ATTLS_AF_INET : ATTLS_AF_INET6;
	k->pad = 0;
}

#endif /* ATTLS_TUPLE_H */
