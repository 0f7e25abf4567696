/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * observe.bpf.h - zERT stream observation: the first bytes of each
 * direction of every TCP connection of the attached cgroups, to attlsd.
 *
 *   sockops (ESTABLISHED)   attls_obs_start(): socket-local state with the
 *                           sequence numbers of stream byte 0
 *   cgroup_skb/egress       attls_obs_out / attls_obs_in: copy payload at
 *   cgroup_skb/ingress      stream offsets < ATTLS_OBS_MAX_BYTES into the
 *                           ringbuf, from a per-CPU scratch buffer
 *
 * A socket is observed only if sockops started it: connections that
 * existed before attlsd attached, and the application side of engine
 * hops (reported by the engine), never are.  Observation stops per
 * direction after ATTLS_OBS_MAX_BYTES or ATTLS_OBS_MAX_SEGS segments, and
 * after only 4 bytes for a direction whose first bytes are neither a TLS
 * record nor "SSH-": a cleartext connection costs one 4-byte chunk per
 * direction, and no application plaintext beyond those 4 bytes leaves
 * the kernel.  After that every packet costs a sk_storage lookup
 * and one load (docs/zert.md has the measured figures).  User space
 * parses; nothing here interprets more than 4 bytes.
 *
 * The programs never drop or alter a packet: they return 1 always.
 */
#ifndef ATTLS_OBSERVE_BPF_H
#define ATTLS_OBSERVE_BPF_H

#define IPPROTO_TCP_OBS		6

/*
 * Per-socket observation state.  Not cloned (each connection starts its
 * own at ESTABLISHED) and not pinned: scratch, a restarted attlsd simply
 * observes the connections established after it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct attls_obs_state);
} attls_obs SEC(".maps");

/* Scratch for one chunk: bpf_ringbuf_output() copies header + len bytes
 * of it, so the ringbuf never holds a reserved-but-unused 4 KiB. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct attls_obs_event);
} attls_obs_buf SEC(".maps");

/*
 * Ringbuf notification for zERT events (sockops and chunks): none while
 * less than 1/8 of the ring is pending -- attlsd drains it every 100 ms
 * (ZERT_RINGBUF_POLL_MS) -- and a forced one above that.  The default
 * (notify whenever the consumer has caught up) costs an irq_work per
 * event: 5 us of a 6 us cleartext connection, measured (docs/zert.md).
 */
static __always_inline __u64 attls_rb_flags(void)
{
	return bpf_ringbuf_query(&attls_events, BPF_RB_AVAIL_DATA) >
	       ATTLS_RINGBUF_BYTES / 8 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/*
 * sockops, connection established: observe it from the next byte.  At
 * ACTIVE/PASSIVE_ESTABLISHED_CB snd_nxt and rcv_nxt are ISN + 1 of each
 * side (no data yet), so they are the sequence numbers of byte 0.
 */
static __always_inline void attls_obs_start(struct bpf_sock *sk, __u64 cookie,
					    __u32 snd_nxt, __u32 rcv_nxt)
{
	struct attls_obs_state *st;

	st = bpf_sk_storage_get(&attls_obs, sk, NULL,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		attls_stat_inc(ATTLS_STAT_OBS_NO_STATE);
		return;
	}
	__builtin_memset(st, 0, sizeof(*st));
	st->cookie = cookie;
	st->seq0[0] = rcv_nxt;
	st->seq0[1] = snd_nxt;
	attls_stat_inc(ATTLS_STAT_OBS_STARTED);
}

/*
 * The first 4 bytes of a direction: obs_sniff() of user/observe.c, except
 * that an alert record counts as TLS here, so a server refusing a
 * ClientHello is captured and its alert can be read.
 */
static __always_inline __u8 attls_obs_sniff(const __u8 *d)
{
	if ((d[0] == 0x16 || d[0] == 0x15) && d[1] == 0x03 && d[2] <= 0x04 &&
	    d[3] <= 0x48)
		return ATTLS_OBS_KIND_TLS;
	if (d[0] == 'S' && d[1] == 'S' && d[2] == 'H' && d[3] == '-')
		return ATTLS_OBS_KIND_SSH;
	return ATTLS_OBS_KIND_NONE;
}

/*
 * Offset of the TCP payload and the segment's sequence number, from an
 * skb whose data starts at the IP header (cgroup_skb pushes it there in
 * both directions).  0, or -1 for anything that is not plain TCP.
 */
static __always_inline int attls_obs_tcp(struct __sk_buff *skb, __u32 *payload,
					 __u32 *seq)
{
	__u8 ip[10], tcp[13];
	__u32 ihl, doff;

	if (bpf_skb_load_bytes(skb, 0, ip, sizeof(ip)))
		return -1;
	if ((ip[0] >> 4) == 4) {
		if (ip[9] != IPPROTO_TCP_OBS)
			return -1;
		ihl = (__u32)(ip[0] & 0x0f) * 4;
	} else if ((ip[0] >> 4) == 6) {
		/* extension headers before TCP: not observed */
		if (ip[6] != IPPROTO_TCP_OBS)
			return -1;
		ihl = 40;
	} else {
		return -1;
	}
	if (ihl < 20 || bpf_skb_load_bytes(skb, ihl, tcp, sizeof(tcp)))
		return -1;
	doff = (__u32)(tcp[12] >> 4) * 4;
	if (doff < 20)
		return -1;
	*seq = (__u32)tcp[4] << 24 | (__u32)tcp[5] << 16 | (__u32)tcp[6] << 8 |
	       tcp[7];
	*payload = ihl + doff;
	return 0;
}

static __always_inline int attls_obs_skb(struct __sk_buff *skb, const int sent)
{
	struct attls_obs_state *st;
	struct attls_obs_event *ev;
	struct bpf_sock *sk;
	__u32 zero = 0, payload, seq, off, len;
	__u64 n;			/* 64-bit: see the bound check below */
	__u8 head[4], kind;

	sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	st = bpf_sk_storage_get(&attls_obs, sk, NULL, 0);
	if (!st || st->stop || st->done[sent])
		return 1;
	if (attls_obs_tcp(skb, &payload, &seq))
		return 1;
	len = skb->len;
	if (len <= payload)
		return 1;		/* no payload: SYN, ACK, FIN */
	len -= payload;
	off = seq - st->seq0[sent];
	if (off >= ATTLS_OBS_MAX_BYTES) {
		/* past the prefix; or "negative": before byte 0 */
		if (off < 0x80000000u)
			st->done[sent] = 1;
		goto check_stop;
	}
	n = ATTLS_OBS_MAX_BYTES - off;
	if (n > len)
		n = len;
	if (off == 0 && n >= 4 && st->kind[sent] == ATTLS_OBS_KIND_UNKNOWN) {
		if (bpf_skb_load_bytes(skb, payload, head, sizeof(head)))
			return 1;
		kind = attls_obs_sniff(head);
		st->kind[sent] = kind;
		if (kind == ATTLS_OBS_KIND_NONE) {
			/* cleartext: the 4 bytes say so, nothing more of
			 * this direction goes up */
			n = 4;
			st->done[sent] = 1;	/* both done: stop, below */
		}
	}
	/*
	 * A bound the verifier can follow for the helper sizes below.  clang
	 * knows 1 <= n <= 4096 already and would drop the check, or test a
	 * zero-extended copy of a 32-bit n instead of the register passed
	 * ("R4 min value is negative"): n is 64-bit and opaque here.
	 */
	asm volatile("" : "+r"(n));
	if (n < 1 || n > ATTLS_OBS_MAX_BYTES)
		return 1;

	ev = bpf_map_lookup_elem(&attls_obs_buf, &zero);
	if (!ev)
		return 1;
	ev->type = ATTLS_EV_PAYLOAD;
	ev->flags = sent ? ATTLS_OBS_F_SENT : 0;
	ev->cookie = st->cookie;
	ev->offset = off;
	ev->len = (__u16)n;
	ev->seg = st->segs[sent];
	if (bpf_skb_load_bytes(skb, payload, ev->data, n))
		return 1;
	if (bpf_ringbuf_output(&attls_events, ev, ATTLS_OBS_EVENT_HDR + n,
			       attls_rb_flags())) {
		/* never silently: the record says the capture has a hole,
		 * this counter says why */
		attls_stat_inc(ATTLS_STAT_OBS_DROPPED);
	} else {
		attls_stat_inc(ATTLS_STAT_OBS_CHUNKS);
	}
	st->segs[sent]++;
	if (off + n > st->hi[sent])
		st->hi[sent] = off + n;
	if (st->hi[sent] >= ATTLS_OBS_MAX_BYTES ||
	    st->segs[sent] >= ATTLS_OBS_MAX_SEGS)
		st->done[sent] = 1;
check_stop:
	if (st->done[0] && st->done[1])
		st->stop = 1;
	return 1;
}

SEC("cgroup_skb/ingress")
int attls_obs_in(struct __sk_buff *skb)
{
	return attls_obs_skb(skb, 0);
}

SEC("cgroup_skb/egress")
int attls_obs_out(struct __sk_buff *skb)
{
	return attls_obs_skb(skb, 1);
}

#endif /* ATTLS_OBSERVE_BPF_H */
