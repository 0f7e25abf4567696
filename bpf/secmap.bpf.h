/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * secmap.bpf.h - SecondaryMap lookups for sk_lookup and connect4/6
 * (attls_secmap in attls_abi.h; docs/ftp.md).
 */
#ifndef ATTLS_SECMAP_BPF_H
#define ATTLS_SECMAP_BPF_H

/* Is a 16-byte address the unspecified one (all-zero or ::ffff:0.0.0.0)? */
static __always_inline int attls_addr_is_any(const __u8 *a)
{
	int i;

	for (i = 0; i < ATTLS_ADDR_LEN; i++) {
		if (a[i] && !(i >= 10 && i < 12 && a[i] == 0xff))
			return 0;
	}
	return 1;
}

/*
 * The primary a connection between laddr and raddr of a socket owned in
 * cgroup `cgid` would be a secondary of, or NULL.  An unbound local
 * address (connect() before bind) finds the all-zero-laddr key.
 */
static __always_inline struct attls_secmap_val *
attls_secmap_find(__u64 cgid, const __u8 *laddr, const __u8 *raddr)
{
	struct attls_secmap_key key = {};

	key.cgroup_id = cgid;
	if (!attls_addr_is_any(laddr))
		__builtin_memcpy(key.laddr, laddr, sizeof(key.laddr));
	__builtin_memcpy(key.raddr, raddr, sizeof(key.raddr));
	return bpf_map_lookup_elem(&attls_secmap, &key);
}

/*
 * Does the primary's rule apply instead of the connection's own
 * classification?  Yes with no own match, or with an own match of lower
 * priority: a later clause slot of the same policy generation (clauses
 * are in AT-TLS order).  After a reload the connection's own rule wins.
 */
static __always_inline int attls_secmap_wins(const struct attls_secmap_val *sv,
					     int matched, __u32 clause, __u64 gen)
{
	if (!sv)
		return 0;
	if (!matched)
		return 1;
	return sv->generation == gen && clause > sv->clause;
}

enum attls_sec_verdict {
	ATTLS_SEC_OWN = 0,	/* no primary wins: the own classification stands */
	ATTLS_SEC_CLEAR,	/* secondary of a Clear primary (FTP PROT C): pass */
	ATTLS_SEC_STEER,	/* secondary: *c and *gen are now the primary's */
};

/*
 * SecondaryMap for a connection of a socket owned in cgroup `cgid` that
 * attls_classify() classified as (matched, *c, *gen): sk_lookup and
 * connect4/6 share this decision (and its Clear counter).
 */
static __always_inline enum attls_sec_verdict
attls_secondary(__u64 cgid, const struct attls_flow *f, int matched,
		struct attls_classify_ctx *c, __u64 *gen)
{
	struct attls_secmap_val *sec = attls_secmap_find(cgid, f->laddr, f->raddr);

	if (!attls_secmap_wins(sec, matched, c->clause, *gen))
		return ATTLS_SEC_OWN;
	if (sec->protect != ATTLS_SECMAP_PROTECT) {
		attls_stat_inc(ATTLS_STAT_SEC_CLEAR);
		return ATTLS_SEC_CLEAR;
	}
	c->rule_id = sec->rule_id;
	c->clause = sec->clause;
	*gen = sec->generation;
	return ATTLS_SEC_STEER;
}

#endif /* ATTLS_SECMAP_BPF_H */
