// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * appctl_class.c - the BPF side's classification of a socket, repeated in
 * attlsd for application control queries (appctl_class.h).
 */
#include <errno.h>
#include <string.h>

#include "../bpf/attls_match.h"
#include "addr.h"
#include "appctl_class.h"
#include "lib/attls.h"

int appctl_class_flow(const struct sockaddr *local, const struct sockaddr *peer,
		      __u32 family, __u32 dir, const struct attls_endpoint *bound,
		      struct attls_flow *f)
{
	int err;

	memset(f, 0, sizeof(*f));
	if (family != ATTLS_AF_INET && family != ATTLS_AF_INET6)
		return -EAFNOSUPPORT;
	f->family = (__u16)family;
	err = attls_addr_from_sockaddr(peer, f->raddr, &f->rport);
	if (err)
		return err;
	if (dir == ATTLS_RF_INBOUND)
		return attls_addr_from_sockaddr(local, f->laddr, &f->lport);
	if (dir != ATTLS_RF_OUTBOUND)
		return -EINVAL;
	/*
	 * connect4/6 classify with the local end as bound so far
	 * (attls_sk_endpoint()): the bound address (a wildcard bind reads
	 * as the family's unspecified address, v4-mapped for AF_INET) and
	 * port, or nothing at all.
	 */
	if (bound && !attls_addr_is_zero(bound->addr))
		memcpy(f->laddr, bound->addr, sizeof(f->laddr));
	else if (family == ATTLS_AF_INET)
		attls_addr_from_v4(f->laddr, 0);
	f->lport = bound ? bound->port : 0;
	return 0;
}

__u32 appctl_class_status(const struct attls_rule *rules, size_t n,
			  const struct attls_flow *f, const struct attls_owner *o,
			  __u32 dir, const struct attls_rule **match)
{
	size_t i;

	*match = NULL;
	for (i = 0; i < n; i++) {
		if (!attls_rule_match(&rules[i], f, o, dir))
			continue;
		*match = &rules[i];
		return rules[i].flags & ATTLS_RF_ENABLED ? ATTLS_POL_ENABLED :
							   ATTLS_POL_NOT_ENABLED;
	}
	return ATTLS_POL_NO_POLICY;
}
