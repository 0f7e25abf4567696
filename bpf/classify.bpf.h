/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * classify.bpf.h - first-match rule lookup over the live rule set.
 *
 * A bpf_loop() over the clauses of the active set: the clauses are already
 * in AT-TLS order (priority descending, then rule name), so the first match
 * is the rule.  O(rules); per-dimension bitmaps are the planned step for
 * very large policies (docs/design.md).
 */
#ifndef ATTLS_CLASSIFY_BPF_H
#define ATTLS_CLASSIFY_BPF_H

struct attls_classify_ctx {
	const struct attls_flow *flow;
	const struct attls_owner *owner;
	__u32 dir;
	__u32 base;
	__u32 found;		/* 1 when `clause` is valid */
	__u32 clause;		/* slot of the matching clause */
	__u32 rule_id;
	__u32 flags;
};

static long attls_classify_one(__u32 i, void *data)
{
	struct attls_classify_ctx *c = data;
	__u32 slot = c->base + i;
	struct attls_rule *r;

	r = bpf_map_lookup_elem(&attls_rules, &slot);
	if (!r)
		return 1;
	if (!attls_rule_match(r, c->flow, c->owner, c->dir))
		return 0;
	c->found = 1;
	c->clause = slot;
	c->rule_id = r->rule_id;
	c->flags = r->flags;
	return 1;
}

/*
 * Classify `flow` owned by `owner` in direction `dir`.  Returns 1 and fills
 * c->rule_id/flags/clause on a match, 0 when no rule matches; *generation
 * is the policy generation used.
 */
static __always_inline int attls_classify(struct attls_classify_ctx *c,
					  __u64 *generation)
{
	__u32 zero = 0, set, n;
	struct attls_policy_hdr *hdr;

	hdr = bpf_map_lookup_elem(&attls_policy, &zero);
	if (!hdr)
		return 0;
	set = hdr->active & 1;
	n = set ? hdr->nrules[1] : hdr->nrules[0];
	*generation = hdr->generation;
	if (n > ATTLS_MAX_RULES)
		n = ATTLS_MAX_RULES;
	c->base = set * ATTLS_MAX_RULES;
	c->found = 0;
	if (!n)
		return 0;
	{
		__u32 idx = set * 2 + (c->dir == ATTLS_RF_OUTBOUND ?
				       ATTLS_PORTMAP_OUT : ATTLS_PORTMAP_IN);
		__u16 port = c->dir == ATTLS_RF_OUTBOUND ? c->flow->rport
							 : c->flow->lport;
		struct attls_portmap *pm = bpf_map_lookup_elem(&attls_portmap, &idx);

		/* no clause names this port: nothing can match */
		if (pm && !(pm->bits[(port >> 3) & (ATTLS_PORTMAP_BYTES - 1)] &
			    (1u << (port & 7))))
			return 0;
	}
	bpf_loop(n, attls_classify_one, c, 0);
	return c->found;
}

#endif /* ATTLS_CLASSIFY_BPF_H */
