/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * appctl_class.h - the policy status (AT-TLS TTLSi_Stat_Policy) of a TCP
 * socket the engine does not carry, for application control queries.
 *
 * A socket steered to the engine is answered by the engine (4 or 5).  Any
 * other socket of an attached cgroup was classified by the BPF side when
 * it connected (connect4/6) or its SYN arrived (sk_lookup) and let
 * through: no rule matched (TTLS_POL_NO_POLICY, 2) or the first matching
 * rule has TTLSEnabled Off (TTLS_POL_NOT_ENABLED, 3).  attlsd repeats that
 * classification with the same pure classifier (bpf/attls_match.h) over
 * the installed rule set, with the flow as the BPF side saw it.  Pure: no
 * system calls, unit-tested in tests/unit/test_appctl_class.c.
 */
#ifndef ATTLS_APPCTL_CLASS_H
#define ATTLS_APPCTL_CLASS_H

#include <stddef.h>
#include <sys/socket.h>

#include "../bpf/attls_abi.h"

/*
 * The flow the BPF classifier saw for a socket established in direction
 * `dir` (ATTLS_RF_INBOUND / _OUTBOUND), from its getsockname() `local`
 * and getpeername() `peer` (neither is rewritten for a socket attls does
 * not carry), its family (ATTLS_AF_*) and, outbound, the endpoint it was
 * bound to before connect() (attls_bindkey; NULL: not bound, the kernel
 * picked the local end after classification: unspecified address, port
 * 0).  Inbound: the local and remote ends of the connection.
 * 0, or -EAFNOSUPPORT / -EINVAL.
 */
int appctl_class_flow(const struct sockaddr *local, const struct sockaddr *peer,
		      __u32 family, __u32 dir, const struct attls_endpoint *bound,
		      struct attls_flow *f);

/*
 * First match over `rules` (n clauses, AT-TLS order as installed) for flow
 * f owned by o in direction dir: ATTLS_POL_NO_POLICY with *match = NULL,
 * ATTLS_POL_NOT_ENABLED with the clause that matched (TTLSEnabled Off),
 * or ATTLS_POL_ENABLED with it (a TLS rule: a socket that is nevertheless
 * not in the engine predates the rule or has left the engine; the caller
 * decides what to answer).
 */
__u32 appctl_class_status(const struct attls_rule *rules, size_t n,
			  const struct attls_flow *f, const struct attls_owner *o,
			  __u32 dir, const struct attls_rule **match);

#endif /* ATTLS_APPCTL_CLASS_H */
