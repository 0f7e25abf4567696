/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps.bpf.h - every map of the attls BPF object.
 *
 * Policy and state maps are pinned by name under ATTLS_PIN_ROOT so they
 * outlive attlsd (pinned links keep steering to a listener that no longer
 * exists, which drops: fail closed) and so bpftool and attlsctl can read
 * them.  The ringbuf is scratch and stays unpinned.
 */
#ifndef ATTLS_MAPS_BPF_H
#define ATTLS_MAPS_BPF_H

/* Which rule set is live (A/B) and how many clauses each holds. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct attls_policy_hdr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_policy SEC(".maps");

/* Compiled rule clauses, two sets of ATTLS_MAX_RULES for atomic reload. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ATTLS_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct attls_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_rules SEC(".maps");

/* Ports some clause may match, per rule set and direction (attls_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct attls_portmap);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_portmap SEC(".maps");

/*
 * Owner (pid, uid, comm) of each socket created in an attached cgroup,
 * recorded in process context.  BPF_F_CLONE copies it from a listener to
 * every socket accepted from it, so sockops on an accepted socket knows
 * the server it belongs to (bpf_get_current_* there is whatever task the
 * softirq interrupted).
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct attls_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_owner SEC(".maps");

/*
 * The attls_bound key of a bound socket, on that socket only (no
 * BPF_F_CLONE): cgroup/sock_release may not read addresses or ports from
 * its context, so this is how it finds the entry to remove.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct attls_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_bindkey SEC(".maps");

/*
 * Sockets bound in attached cgroups: endpoint -> owner.  sk_lookup finds
 * the listener a SYN is for here, to classify by job and user.  Removed by
 * cgroup/sock_release; a plain hash, not LRU, because silently evicting a
 * protected listener would let its SYNs through in cleartext.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ATTLS_MAX_BOUND);
	__type(key, struct attls_endpoint);
	__type(value, struct attls_bound_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_bound SEC(".maps");

/* sk_lookup's decision for a steered SYN, taken by the engine on accept.
 * LRU: an entry whose connection never reached accept() just ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ATTLS_MAX_CONNS);
	__type(key, struct attls_flow);
	__type(value, struct attls_steer_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_steer SEC(".maps");

/* The engine's local endpoints towards applications (see attls_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ATTLS_MAX_CONNS);
	__type(key, struct attls_endpoint);
	__type(value, struct attls_hop_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_hop SEC(".maps");

/* The engine's listening sockets, ATTLS_ENGINE_LSN_V4 / _V6.  A socket
 * leaves the map when it closes, so a dead engine means "drop". */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, ATTLS_ENGINE_LSN_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_engine SEC(".maps");

/* Original destination of an application socket whose connect() was
 * steered to the engine (outbound).  Not cloned: per socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct attls_orig);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_orig SEC(".maps");

/* Engine connection id of an application socket accepted from an engine
 * hop (inbound), for attlsd's application control (libattls).  Not
 * cloned: per socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct attls_appsk);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_appsk SEC(".maps");

/*
 * Steered outbound connections by the application's local endpoint, for
 * the engine (original destination) and getsockname() (the engine's wire
 * address).  LRU: if the engine never takes an entry (it died), it ages
 * out; the engine deletes the ones it takes when the connection ends.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ATTLS_MAX_CONNS);
	__type(key, struct attls_endpoint);
	__type(value, struct attls_out_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_out SEC(".maps");

/* Address of the engine's outbound listeners (ATTLS_ENGINE_OUT_V4/_V6). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ATTLS_ENGINE_LSN_MAX);
	__type(key, __u32);
	__type(value, struct attls_engine_addr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_engine_addr SEC(".maps");

/*
 * SecondaryMap: primaries with SecondaryMap On, by (cgroup, local address,
 * remote address) -> their rule and protection (attls_abi.h).  Written
 * only by the engine (add on accept, remove on close); a plain hash, not
 * LRU: an evicted entry would let an FTP data connection of a PROT P
 * session through in cleartext.  Full -> the engine refuses the primary.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ATTLS_MAX_SECMAP);
	__type(key, struct attls_secmap_key);
	__type(value, struct attls_secmap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_secmap SEC(".maps");

/* Job names (comm, NUL-padded) that may use TCP while no policy is
 * installed (ATTLS_STATE_NONE): infrastructure, like EZB.INITSTACK. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[ATTLS_COMM_LEN]);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_permit SEC(".maps");

/* Connection events for the zERT collector. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ATTLS_RINGBUF_BYTES);
} attls_events SEC(".maps");

/* Counters (ATTLS_STAT_*), per CPU so the datapath never contends. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ATTLS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attls_stats SEC(".maps");

/* No policy installed (guard state), or the map is unreadable. */
static __always_inline int attls_guarded(void)
{
	__u32 zero = 0;
	struct attls_policy_hdr *hdr = bpf_map_lookup_elem(&attls_policy, &zero);

	return !hdr || hdr->state != ATTLS_STATE_ACTIVE;
}

/* May `comm` use TCP while guarded? */
static __always_inline int attls_permitted(const __u8 *comm)
{
	char key[ATTLS_COMM_LEN];

	__builtin_memcpy(key, comm, sizeof(key));
	return bpf_map_lookup_elem(&attls_permit, key) != NULL;
}

static __always_inline void attls_stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&attls_stats, &idx);

	if (v)
		*v += 1;
}

#endif /* ATTLS_MAPS_BPF_H */
