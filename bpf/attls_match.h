/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * attls_match.h - the rule classifier and address helpers, pure C.
 *
 * Included by the BPF object (sk_lookup, connect4/6) and by user space
 * (unit tests, attlsctl's "which rule would match").  No BPF helpers and no
 * libc here, so the same code is verified by the kernel and unit-tested on
 * the host.
 */
#ifndef ATTLS_MATCH_H
#define ATTLS_MATCH_H

#include "attls_abi.h"

#ifndef ATTLS_INLINE
#define ATTLS_INLINE static inline __attribute__((always_inline))
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define attls_be16_to_host(x)	((__u16)__builtin_bswap16((__u16)(x)))
#define attls_be32_to_host(x)	((__u32)__builtin_bswap32((__u32)(x)))
#else
#define attls_be16_to_host(x)	((__u16)(x))
#define attls_be32_to_host(x)	((__u32)(x))
#endif
#define attls_host_to_be16(x)	attls_be16_to_host(x)

/* Fixed-length loops are unrolled: the BPF verifier then sees straight
 * code, and gcc (host builds of the same helpers) does the same. */
#ifdef __clang__
#define ATTLS_UNROLL _Pragma("clang loop unroll(full)")
#else
#define ATTLS_UNROLL _Pragma("GCC unroll 16")
#endif

/* Compare two 16-byte network-order addresses: <0, 0, >0 like memcmp. */
ATTLS_INLINE int attls_addr_cmp(const __u8 *a, const __u8 *b)
{
	int i;

	ATTLS_UNROLL
	for (i = 0; i < ATTLS_ADDR_LEN; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

ATTLS_INLINE int attls_addr_in(const __u8 *a, const __u8 *lo, const __u8 *hi)
{
	return attls_addr_cmp(a, lo) >= 0 && attls_addr_cmp(a, hi) <= 0;
}

/* Store a network-order __u32 (as loaded from a context) at out[0..3].
 * Shifts, not a byte pointer: clang would turn the pointer into byte
 * loads from the context itself, which the verifier refuses. */
ATTLS_INLINE void attls_put_be32(__u8 *out, __u32 be)
{
	__u32 h = attls_be32_to_host(be);

	out[0] = (__u8)(h >> 24);
	out[1] = (__u8)(h >> 16);
	out[2] = (__u8)(h >> 8);
	out[3] = (__u8)h;
}

/* ::ffff:a.b.c.d from an IPv4 address in network order (as a __u32). */
ATTLS_INLINE void attls_addr_from_v4(__u8 *out, __u32 ip4_be)
{
	int i;

	ATTLS_UNROLL
	for (i = 0; i < 10; i++)
		out[i] = 0;
	out[10] = 0xff;
	out[11] = 0xff;
	attls_put_be32(out + 12, ip4_be);
}

ATTLS_INLINE int attls_addr_is_zero(const __u8 *a)
{
	int i;

	ATTLS_UNROLL
	for (i = 0; i < ATTLS_ADDR_LEN; i++) {
		if (a[i])
			return 0;
	}
	return 1;
}

/* Does `comm` match the rule's job pattern (exact or "PFX*")? */
ATTLS_INLINE int attls_job_match(const struct attls_rule *r, const __u8 *comm)
{
	int i;

	ATTLS_UNROLL
	for (i = 0; i < ATTLS_COMM_LEN; i++) {
		if (i >= r->job_len)
			break;
		if (r->job[i] != comm[i])
			return 0;
	}
	return 1;
}

/*
 * Does clause `r` match the connection?  `dir` is ATTLS_RF_INBOUND or
 * ATTLS_RF_OUTBOUND; `o` is the owner of the local socket (job, user).
 * Returns 1 on match, 0 otherwise.
 */
ATTLS_INLINE int attls_rule_match(const struct attls_rule *r,
				  const struct attls_flow *f,
				  const struct attls_owner *o, __u32 dir)
{
	if (!(r->flags & dir))
		return 0;
	if (f->lport < r->lport_lo || f->lport > r->lport_hi)
		return 0;
	if (f->rport < r->rport_lo || f->rport > r->rport_hi)
		return 0;
	if ((r->flags & ATTLS_RF_UID) && o->uid != r->uid)
		return 0;
	if ((r->flags & ATTLS_RF_JOB) && !attls_job_match(r, o->comm))
		return 0;
	if ((r->flags & ATTLS_RF_LADDR) &&
	    !attls_addr_in(f->laddr, r->laddr_lo, r->laddr_hi))
		return 0;
	if ((r->flags & ATTLS_RF_RADDR) &&
	    !attls_addr_in(f->raddr, r->raddr_lo, r->raddr_hi))
		return 0;
	return 1;
}

#endif /* ATTLS_MATCH_H */
