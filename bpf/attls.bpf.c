// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * attls.bpf.c - the one BPF object of attls: every program and map.
 *
 *   cgroup/sock_create     record the owner of each new TCP socket
 *   cgroup/post_bind4/6    remember sockets bound in attached cgroups
 *   cgroup/sock_release    forget them
 *   sk_lookup (netns)      steer SYNs for protected listeners to the engine
 *                          (and secondaries of SecondaryMap primaries)
 *   cgroup/connect4/6      classify outbound connects, steer them to the
 *                          engine (original destination kept per socket)
 *   cgroup/getpeername4/6  show the application the real peer, not the
 *                          engine (also what accept() returns)
 *   cgroup/getsockname4/6  show an outbound application its real local
 *                          address (the engine's end of the wire)
 *   sockops                connection events for zERT
 *   cgroup_skb/in+egress   zERT stream observation (observe.bpf.h)
 *
 * See docs/design.md for why the engine owns the wire socket.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "attls_abi.h"
#include "attls_tuple.h"
#include "maps.bpf.h"
#include "classify.bpf.h"
#include "observe.bpf.h"
#include "secmap.bpf.h"

/*
 * Pin a context load in place.  Without it clang may sink the load into a
 * branch as "base + offset" pointer arithmetic on the socket pointer, which
 * the verifier refuses ("pointer arithmetic on sock prohibited").
 */
#define ctx_load(dst, expr) ({ dst = (expr); asm volatile("" : "+r"(dst)); })

#define IPPROTO_TCP_	6
#define SOCK_STREAM_	1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Fill `o` from the current task: only valid in process context. */
static __always_inline void attls_owner_from_current(struct attls_owner *o)
{
	__u64 ugid = bpf_get_current_uid_gid();

	o->pid = bpf_get_current_pid_tgid() >> 32;
	o->uid = (__u32)ugid;
	o->gid = ugid >> 32;
	o->dir = 0;
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline int attls_is_tcp(const struct bpf_sock *sk)
{
	return sk->type == SOCK_STREAM_ && sk->protocol == IPPROTO_TCP_;
}

SEC("cgroup/sock_create")
int attls_sock_new(struct bpf_sock *ctx)
{
	struct attls_owner owner, *o;

	if (!attls_is_tcp(ctx))
		return 1;
	attls_owner_from_current(&owner);
	if (attls_guarded() && !attls_permitted(owner.comm)) {
		/* no policy yet: no TCP socket (EPERM), like EZB.INITSTACK */
		attls_stat_inc(ATTLS_STAT_GUARD_DENIED);
		return 0;
	}
	o = bpf_sk_storage_get(&attls_owner, ctx, NULL,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (o)
		*o = owner;
	return 1;
}

/*
 * Record a bound socket under `key`.  A bind we cannot record is refused
 * (return 0 -> EPERM): an unrecorded listener would never be classified,
 * and its protected traffic would flow in cleartext.
 */
static __always_inline int attls_post_bind(struct bpf_sock *ctx,
					   struct attls_endpoint *key)
{
	struct attls_bound_val val = {};
	struct attls_endpoint *bk;
	struct attls_owner *o;

	o = bpf_sk_storage_get(&attls_owner, ctx, NULL, 0);
	if (o) {
		val.owner = *o;
	} else {
		attls_stat_inc(ATTLS_STAT_OWNER_MISSING);
		attls_owner_from_current(&val.owner);
	}
	val.cookie = bpf_get_socket_cookie(ctx);
	bk = bpf_sk_storage_get(&attls_bindkey, ctx, NULL,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!bk)
		return 0;
	*bk = *key;
	if (bpf_map_update_elem(&attls_bound, key, &val, BPF_ANY))
		return 0;
	attls_stat_inc(ATTLS_STAT_BOUND_ADD);
	return 1;
}

SEC("cgroup/post_bind4")
int attls_bind4(struct bpf_sock *ctx)
{
	struct attls_endpoint key = {};
	__u32 ip4;

	if (!attls_is_tcp(ctx))
		return 1;
	ip4 = ctx->src_ip4;
	if (ip4)	/* a wildcard bind keeps the all-zero address */
		attls_addr_from_v4(key.addr, ip4);
	key.port = (__u16)ctx->src_port;
	key.family = ATTLS_AF_INET;
	return attls_post_bind(ctx, &key);
}

SEC("cgroup/post_bind6")
int attls_bind6(struct bpf_sock *ctx)
{
	struct attls_endpoint key = {};
	__u32 ip6[4];

	if (!attls_is_tcp(ctx))
		return 1;
	ip6[0] = ctx->src_ip6[0];
	ip6[1] = ctx->src_ip6[1];
	ip6[2] = ctx->src_ip6[2];
	ip6[3] = ctx->src_ip6[3];
	attls_addr_from_ctx(key.addr, ATTLS_AF_INET6, 0, ip6);
	key.port = (__u16)ctx->src_port;
	key.family = ATTLS_AF_INET6;
	return attls_post_bind(ctx, &key);
}

SEC("cgroup/sock_release")
int attls_sock_rel(struct bpf_sock *ctx)
{
	struct attls_bound_val *val;
	struct attls_endpoint *bk;

	if (!attls_is_tcp(ctx))
		return 1;
	bk = bpf_sk_storage_get(&attls_bindkey, ctx, NULL, 0);
	if (!bk)
		return 1;
	val = bpf_map_lookup_elem(&attls_bound, bk);
	/* A later socket may have bound the same endpoint (SO_REUSEADDR):
	 * only the socket that made the entry removes it. */
	if (val && val->cookie == bpf_get_socket_cookie(ctx)) {
		bpf_map_delete_elem(&attls_bound, bk);
		attls_stat_inc(ATTLS_STAT_BOUND_DEL);
	}
	return 1;
}

/*
 * Find the bound socket a SYN to (laddr, lport) is for: exact address
 * first, then a wildcard bind; for IPv4, dual-stack IPv6 sockets too.
 */
static __always_inline struct attls_bound_val *
attls_bound_find(const struct attls_flow *f)
{
	struct attls_endpoint key = {};
	struct attls_bound_val *val;

	__builtin_memcpy(key.addr, f->laddr, sizeof(key.addr));
	key.port = f->lport;
	key.family = f->family;
	val = bpf_map_lookup_elem(&attls_bound, &key);
	if (val)
		return val;
	if (f->family == ATTLS_AF_INET) {
		key.family = ATTLS_AF_INET6;
		val = bpf_map_lookup_elem(&attls_bound, &key);
		if (val)
			return val;
	}
	__builtin_memset(key.addr, 0, sizeof(key.addr));
	key.family = f->family;
	val = bpf_map_lookup_elem(&attls_bound, &key);
	if (val || f->family != ATTLS_AF_INET)
		return val;
	key.family = ATTLS_AF_INET6;
	return bpf_map_lookup_elem(&attls_bound, &key);
}

SEC("sk_lookup")
int attls_lookup(struct bpf_sk_lookup *ctx)
{
	struct attls_classify_ctx c = {};
	struct attls_steer_val steer = {};
	struct attls_endpoint hop;
	struct attls_bound_val *bound;
	struct attls_flow flow = {};
	enum attls_sec_verdict sec;
	struct bpf_sock *sk;
	__u32 ip6[4], family, idx;
	__u64 gen = 0;
	int matched;
	long err;

	if (ctx->protocol != IPPROTO_TCP_)
		return SK_PASS;
	family = ctx->family;
	flow.family = family;
	ip6[0] = ctx->local_ip6[0];
	ip6[1] = ctx->local_ip6[1];
	ip6[2] = ctx->local_ip6[2];
	ip6[3] = ctx->local_ip6[3];
	attls_addr_from_ctx(flow.laddr, family, ctx->local_ip4, ip6);
	ip6[0] = ctx->remote_ip6[0];
	ip6[1] = ctx->remote_ip6[1];
	ip6[2] = ctx->remote_ip6[2];
	ip6[3] = ctx->remote_ip6[3];
	attls_addr_from_ctx(flow.raddr, family, ctx->remote_ip4, ip6);
	flow.lport = (__u16)ctx->local_port;
	flow.rport = attls_port_from_be16(ctx->remote_port);

	bound = attls_bound_find(&flow);
	if (!bound)
		return SK_PASS;	/* not a socket of an attached cgroup */

	/* The engine's own connection to the application goes through. */
	attls_hop_key(&hop, flow.raddr, flow.rport);
	if (bpf_map_lookup_elem(&attls_hop, &hop)) {
		attls_stat_inc(ATTLS_STAT_HOP_PASSED);
		return SK_PASS;
	}

	if (attls_guarded()) {
		/* no policy: only permitted jobs may be reached */
		if (attls_permitted(bound->owner.comm))
			return SK_PASS;
		attls_stat_inc(ATTLS_STAT_GUARD_DENIED);
		return SK_DROP;
	}

	c.flow = &flow;
	c.owner = &bound->owner;
	c.dir = ATTLS_RF_INBOUND;
	matched = attls_classify(&c, &gen);
	sec = attls_secondary(bound->owner.cgroup_id, &flow, matched, &c, &gen);
	if (sec == ATTLS_SEC_CLEAR) {
		return SK_PASS;
	} else if (sec == ATTLS_SEC_STEER) {
		steer.flags = ATTLS_STEER_F_SECONDARY;
	} else if (!matched) {
		attls_stat_inc(ATTLS_STAT_SYN_NOMATCH);
		return SK_PASS;
	} else if (!(c.flags & ATTLS_RF_ENABLED)) {
		attls_stat_inc(ATTLS_STAT_SYN_CLEAR);
		return SK_PASS;
	}

	idx = family == ATTLS_AF_INET ? ATTLS_ENGINE_LSN_V4 : ATTLS_ENGINE_LSN_V6;
	sk = bpf_map_lookup_elem(&attls_engine, &idx);
	if (!sk) {
		/* Protected, but no engine: fail closed. */
		attls_stat_inc(ATTLS_STAT_SYN_DROPPED);
		return SK_DROP;
	}
	steer.owner = bound->owner;
	steer.generation = gen;
	steer.rule_id = c.rule_id;
	steer.clause = c.clause;
	if (bpf_map_update_elem(&attls_steer, &flow, &steer, BPF_ANY)) {
		bpf_sk_release(sk);
		attls_stat_inc(ATTLS_STAT_SYN_DROPPED);
		return SK_DROP;
	}
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err) {
		attls_stat_inc(ATTLS_STAT_SYN_DROPPED);
		return SK_DROP;
	}
	attls_stat_inc(steer.flags ? ATTLS_STAT_SEC_STEERED : ATTLS_STAT_SYN_STEERED);
	return SK_PASS;
}

/* Write `addr`/`port` into a sock_addr context.  `v6` is a constant:
 * each program may only write the address fields of its own attach type. */
static __always_inline void attls_set_user_addr(struct bpf_sock_addr *ctx,
						const __u8 *addr, __u16 port,
						const int v6)
{
	if (!v6) {
		__u32 ip4;

		__builtin_memcpy(&ip4, addr + 12, sizeof(ip4));
		ctx->user_ip4 = ip4;
	} else {
		__u32 w[4];

		__builtin_memcpy(w, addr, sizeof(w));
		ctx->user_ip6[0] = w[0];
		ctx->user_ip6[1] = w[1];
		ctx->user_ip6[2] = w[2];
		ctx->user_ip6[3] = w[3];
	}
	ctx->user_port = attls_port_to_user(port);
}

/* One endpoint (src or dst) of the socket behind a sock_addr context. */
static __always_inline int attls_sk_endpoint(struct bpf_sock *sk, int dst,
					     __u8 *addr, __u16 *port)
{
	__u32 ip6[4], ip4, family, p;

	ctx_load(family, sk->family);
	if (dst) {
		ctx_load(ip4, sk->dst_ip4);
		ctx_load(ip6[0], sk->dst_ip6[0]);
		ctx_load(ip6[1], sk->dst_ip6[1]);
		ctx_load(ip6[2], sk->dst_ip6[2]);
		ctx_load(ip6[3], sk->dst_ip6[3]);
		ctx_load(p, sk->dst_port);
		*port = attls_port_from_be16((__u16)p);
	} else {
		ctx_load(ip4, sk->src_ip4);
		ctx_load(ip6[0], sk->src_ip6[0]);
		ctx_load(ip6[1], sk->src_ip6[1]);
		ctx_load(ip6[2], sk->src_ip6[2]);
		ctx_load(ip6[3], sk->src_ip6[3]);
		ctx_load(p, sk->src_port);
		*port = (__u16)p;		/* bpf_sock.src_port: host order */
	}
	attls_addr_from_ctx(addr, family, ip4, ip6);
	return 0;
}

/*
 * getpeername() and accept() of an application socket: for an inbound
 * one whose peer is an engine hop endpoint, the real client; for an
 * outbound one steered at connect(), the original destination.
 */
static __always_inline int attls_getpeername(struct bpf_sock_addr *ctx,
					     const int v6)
{
	struct attls_endpoint key;
	struct attls_hop_val *hop;
	struct attls_orig *orig;
	struct bpf_sock *sk = ctx->sk;
	__u8 addr[ATTLS_ADDR_LEN];
	__u16 port;

	if (!sk)
		return 1;
	attls_sk_endpoint(sk, 1, addr, &port);
	attls_hop_key(&key, addr, port);
	hop = bpf_map_lookup_elem(&attls_hop, &key);
	if (hop) {
		attls_set_user_addr(ctx, hop->real.raddr, hop->real.rport, v6);
		attls_stat_inc(ATTLS_STAT_PEER_REWRITE);
		return 1;
	}
	orig = bpf_sk_storage_get(&attls_orig, sk, NULL, 0);
	if (orig) {
		attls_set_user_addr(ctx, orig->daddr, orig->dport, v6);
		attls_stat_inc(ATTLS_STAT_PEER_REWRITE);
	}
	return 1;
}

SEC("cgroup/getpeername4")
int attls_peer4(struct bpf_sock_addr *ctx)
{
	return attls_getpeername(ctx, 0);
}

SEC("cgroup/getpeername6")
int attls_peer6(struct bpf_sock_addr *ctx)
{
	return attls_getpeername(ctx, 1);
}

/*
 * getsockname() of a steered outbound socket: the engine's local end of
 * the wire, once the engine has connected (before that, the loopback
 * address of the hop; connect() returns before the upstream is reached).
 */
static __always_inline int attls_getsockname(struct bpf_sock_addr *ctx,
					     const int v6)
{
	struct attls_endpoint key;
	struct attls_out_val *out;
	struct bpf_sock *sk = ctx->sk;
	__u8 addr[ATTLS_ADDR_LEN];
	__u16 port;

	if (!sk)
		return 1;
	attls_sk_endpoint(sk, 0, addr, &port);
	attls_hop_key(&key, addr, port);
	out = bpf_map_lookup_elem(&attls_out, &key);
	if (!out || !out->wire.lport)
		return 1;
	attls_set_user_addr(ctx, out->wire.laddr, out->wire.lport, v6);
	attls_stat_inc(ATTLS_STAT_SOCKNAME_REWRITE);
	return 1;
}

SEC("cgroup/getsockname4")
int attls_name4(struct bpf_sock_addr *ctx)
{
	return attls_getsockname(ctx, 0);
}

SEC("cgroup/getsockname6")
int attls_name6(struct bpf_sock_addr *ctx)
{
	return attls_getsockname(ctx, 1);
}

/*
 * connect(): classify in the application's own process context and, for a
 * TLS rule, send the connection to the engine's outbound listener.  With no
 * engine the connect fails (return 0: EPERM) - never cleartext.
 */
static __always_inline int attls_connect(struct bpf_sock_addr *ctx, const int v6)
{
	struct attls_classify_ctx c = {};
	struct attls_engine_addr *ea;
	struct attls_owner owner, *o;
	struct attls_orig *orig;
	struct attls_flow flow = {};
	enum attls_sec_verdict sec;
	struct bpf_sock *sk = ctx->sk, *lsn;
	__u32 idx, ip6[4], type, proto, flags = 0;
	__u64 gen = 0;
	int matched;

	ctx_load(type, ctx->type);
	ctx_load(proto, ctx->protocol);
	if (type != SOCK_STREAM_ || proto != IPPROTO_TCP_ || !sk)
		return 1;
	if (!v6) {
		flow.family = ATTLS_AF_INET;
		attls_addr_from_v4(flow.raddr, ctx->user_ip4);
	} else {
		flow.family = ATTLS_AF_INET6;
		ip6[0] = ctx->user_ip6[0];
		ip6[1] = ctx->user_ip6[1];
		ip6[2] = ctx->user_ip6[2];
		ip6[3] = ctx->user_ip6[3];
		attls_addr_from_ctx(flow.raddr, ATTLS_AF_INET6, 0, ip6);
	}
	flow.rport = attls_port_from_be16((__u16)ctx->user_port);
	/* the local end as bound so far (0 when the kernel picks it later) */
	attls_sk_endpoint(sk, 0, flow.laddr, &flow.lport);

	o = bpf_sk_storage_get(&attls_owner, sk, NULL, 0);
	if (o) {
		owner = *o;
	} else {
		attls_stat_inc(ATTLS_STAT_OWNER_MISSING);
		attls_owner_from_current(&owner);
	}
	if (attls_guarded()) {
		if (attls_permitted(owner.comm))
			return 1;
		attls_stat_inc(ATTLS_STAT_GUARD_DENIED);
		return 0;
	}
	c.flow = &flow;
	c.owner = &owner;
	c.dir = ATTLS_RF_OUTBOUND;
	matched = attls_classify(&c, &gen);
	/* SecondaryMap: an FTP server's active-mode data connection */
	sec = attls_secondary(owner.cgroup_id, &flow, matched, &c, &gen);
	if (sec == ATTLS_SEC_CLEAR) {
		return 1;
	} else if (sec == ATTLS_SEC_STEER) {
		flags = ATTLS_STEER_F_SECONDARY;
	} else if (!matched) {
		attls_stat_inc(ATTLS_STAT_CONNECT_NOMATCH);
		return 1;
	} else if (!(c.flags & ATTLS_RF_ENABLED)) {
		attls_stat_inc(ATTLS_STAT_CONNECT_CLEAR);
		return 1;
	}

	idx = v6 ? ATTLS_ENGINE_OUT_V6 : ATTLS_ENGINE_OUT_V4;
	lsn = bpf_map_lookup_elem(&attls_engine, &idx);
	if (!lsn)
		goto refuse;
	bpf_sk_release(lsn);
	ea = bpf_map_lookup_elem(&attls_engine_addr, &idx);
	if (!ea || !ea->port)
		goto refuse;
	orig = bpf_sk_storage_get(&attls_orig, sk, NULL,
				  BPF_SK_STORAGE_GET_F_CREATE);
	if (!orig)
		goto refuse;
	__builtin_memcpy(orig->daddr, flow.raddr, sizeof(orig->daddr));
	orig->dport = flow.rport;
	orig->family = flow.family;
	orig->rule_id = c.rule_id;
	orig->clause = c.clause;
	orig->flags = flags;
	orig->generation = gen;
	attls_set_user_addr(ctx, ea->addr, ea->port, v6);
	attls_stat_inc(flags ? ATTLS_STAT_SEC_STEERED : ATTLS_STAT_CONNECT_STEERED);
	return 1;

refuse:
	attls_stat_inc(ATTLS_STAT_CONNECT_REFUSED);
	return 0;
}

SEC("cgroup/connect4")
int attls_conn4(struct bpf_sock_addr *ctx)
{
	return attls_connect(ctx, 0);
}

SEC("cgroup/connect6")
int attls_conn6(struct bpf_sock_addr *ctx)
{
	return attls_connect(ctx, 1);
}

/*
 * An application socket steered at connect() is established (to the
 * engine): publish its original destination under its local endpoint,
 * now known, for the engine to find when it accepts.
 */
static __always_inline int attls_publish_out(struct bpf_sock *sk,
					     const struct attls_event *ev)
{
	struct attls_out_val val = {};
	struct attls_endpoint key;
	struct attls_orig *orig;

	orig = bpf_sk_storage_get(&attls_orig, sk, NULL, 0);
	if (!orig)
		return 0;
	__builtin_memcpy(val.wire.raddr, orig->daddr, sizeof(val.wire.raddr));
	val.wire.rport = orig->dport;
	val.wire.family = orig->family;
	val.owner = ev->owner;
	val.generation = orig->generation;
	val.rule_id = orig->rule_id;
	val.clause = orig->clause;
	val.flags = orig->flags;
	val.cookie = ev->cookie;
	attls_hop_key(&key, ev->flow.laddr, ev->flow.lport);
	bpf_map_update_elem(&attls_out, &key, &val, BPF_ANY);
	return 1;
}

/*
 * The application accepted an engine hop: remember the connection id on
 * its socket (attls_appsk), for application control.  Best effort: without
 * it (no memory) attlsd answers that the socket has no policy.
 */
static __always_inline void attls_mark_appsk(struct bpf_sock *sk, __u64 conn_id)
{
	struct attls_appsk *a;

	a = bpf_sk_storage_get(&attls_appsk, sk, NULL,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (a)
		a->conn_id = conn_id;
}

/*
 * One zERT event.  Context fields are read into locals first: clang may
 * otherwise merge the loads into one access through a modified ctx
 * pointer, which the verifier rejects.
 */
static __always_inline void attls_emit(struct bpf_sock_ops *skops, __u32 type,
				       __u32 flags)
{
	struct attls_endpoint key;
	struct attls_hop_val *hop;
	struct attls_owner *o;
	struct attls_event *ev;
	struct bpf_sock *sk;
	__u32 family = skops->family;
	__u32 rip4 = skops->remote_ip4, lip4 = skops->local_ip4;
	__u32 rport = skops->remote_port, lport = skops->local_port;
	__u32 rip6[4], lip6[4];
	__u64 bytes_in = skops->bytes_received, bytes_out = skops->bytes_acked;
	__u32 segs_in = skops->segs_in, segs_out = skops->segs_out;
	__u32 snd_nxt = skops->snd_nxt, rcv_nxt = skops->rcv_nxt;

	rip6[0] = skops->remote_ip6[0];
	rip6[1] = skops->remote_ip6[1];
	rip6[2] = skops->remote_ip6[2];
	rip6[3] = skops->remote_ip6[3];
	lip6[0] = skops->local_ip6[0];
	lip6[1] = skops->local_ip6[1];
	lip6[2] = skops->local_ip6[2];
	lip6[3] = skops->local_ip6[3];

	ev = bpf_ringbuf_reserve(&attls_events, sizeof(*ev), 0);
	if (!ev) {
		attls_stat_inc(ATTLS_STAT_RB_DROPPED);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->flags = flags;
	ev->ts_ns = bpf_ktime_get_boot_ns();
	ev->cookie = bpf_get_socket_cookie(skops);
	ev->flow.family = family;
	attls_addr_from_ctx(ev->flow.laddr, family, lip4, lip6);
	attls_addr_from_ctx(ev->flow.raddr, family, rip4, rip6);
	ev->flow.lport = (__u16)lport;
	ev->flow.rport = attls_port_from_ops_remote(rport);
	ev->bytes_in = bytes_in;
	ev->bytes_out = bytes_out;
	ev->segs_in = segs_in;
	ev->segs_out = segs_out;

	sk = skops->sk;
	o = sk ? bpf_sk_storage_get(&attls_owner, sk, NULL, 0) : NULL;
	if (o && type == ATTLS_EV_ESTABLISHED)
		o->dir = flags & ATTLS_EVF_ACTIVE ? ATTLS_RF_OUTBOUND :
						    ATTLS_RF_INBOUND;
	if (o)
		ev->owner = *o;
	else
		ev->flags |= ATTLS_EVF_NO_OWNER;

	if (type == ATTLS_EV_ESTABLISHED) {
		attls_hop_key(&key, ev->flow.raddr, ev->flow.rport);
		hop = bpf_map_lookup_elem(&attls_hop, &key);
		if (hop) {
			ev->flags |= ATTLS_EVF_HOP;
			ev->hop_conn_id = hop->conn_id;
			ev->real = hop->real;
			if (sk && !(flags & ATTLS_EVF_ACTIVE))
				attls_mark_appsk(sk, hop->conn_id);
		} else if (sk && (flags & ATTLS_EVF_ACTIVE) &&
			   attls_publish_out(sk, ev)) {
			/* the app's side of an outbound engine connection */
			ev->flags |= ATTLS_EVF_HOP;
		}
		/* an engine hop is reported by the engine, not observed */
		if (sk && !(ev->flags & ATTLS_EVF_HOP))
			attls_obs_start(sk, ev->cookie, snd_nxt, rcv_nxt);
	}
	bpf_ringbuf_submit(ev, attls_rb_flags());	/* batched: observe.bpf.h */
}

SEC("sockops")
int attls_sockops(struct bpf_sock_ops *skops)
{
	__u32 op = skops->op;

	switch (op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* ask for state changes: the close becomes the term event */
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
		attls_emit(skops, ATTLS_EV_ESTABLISHED,
			   op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ?
			   ATTLS_EVF_ACTIVE : 0);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE)
			attls_emit(skops, ATTLS_EV_CLOSED, 0);
		break;
	default:
		break;
	}
	return 1;
}
