/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * attls_abi.h - the one ABI shared by the BPF object (bpf/) and user space
 * (user/, cli/, tests/).  Never copy these structs elsewhere.
 *
 * Rules (docs/style.md #2): only fixed-width __u8..__u64 types, explicit
 * padding, byte order named on every address/port field, a size assertion
 * beside every struct.  Addresses are always 16 bytes: IPv6 as is, IPv4 as
 * the IPv4-mapped form ::ffff:a.b.c.d, so one rule matches both families.
 * Ports are stored in HOST byte order everywhere in this ABI; the BPF side
 * converts once, in attls_tuple.h.
 */
#ifndef ATTLS_ABI_H
#define ATTLS_ABI_H

#ifdef __BPF__
/* vmlinux.h already provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define ATTLS_PIN_ROOT		"/sys/fs/bpf/attls"
#define ATTLS_COMM_LEN		16	/* TASK_COMM_LEN */
#define ATTLS_ADDR_LEN		16
#define ATTLS_NAME_LEN		33	/* AT-TLS names: 1-32 chars + NUL */

/* Rules per policy set; two sets are kept for atomic reload (A/B). */
#define ATTLS_MAX_RULES		4096
#define ATTLS_RULE_SLOTS	(2 * ATTLS_MAX_RULES)
#define ATTLS_MAX_BOUND		65536	/* bound sockets in attached cgroups */
#define ATTLS_MAX_CONNS		65536	/* concurrent engine connections */
#define ATTLS_RINGBUF_BYTES	(1 << 22)

/* Address families, as the kernel's AF_INET/AF_INET6 (no libc in BPF). */
#define ATTLS_AF_INET		2
#define ATTLS_AF_INET6		10

/*
 * A compiled rule clause: the conjunction of one value of every condition
 * of a TTLSRule.  A policy rule whose conditions are OR-lists (address
 * groups, port groups, wildcard users) compiles to several clauses with the
 * same rule_id, kept adjacent and in AT-TLS order (priority descending, then
 * name), so "first matching clause" is "first matching rule".
 */
struct attls_rule {
	__u32 rule_id;			/* index into the user-space action table */
	__u32 flags;			/* ATTLS_RF_* */
	__u8  laddr_lo[ATTLS_ADDR_LEN];	/* inclusive range, network order */
	__u8  laddr_hi[ATTLS_ADDR_LEN];
	__u8  raddr_lo[ATTLS_ADDR_LEN];
	__u8  raddr_hi[ATTLS_ADDR_LEN];
	__u16 lport_lo;			/* host order, inclusive */
	__u16 lport_hi;
	__u16 rport_lo;
	__u16 rport_hi;
	__u32 uid;			/* with ATTLS_RF_UID */
	__u8  job[ATTLS_COMM_LEN];	/* with ATTLS_RF_JOB: NUL-padded */
	__u8  job_len;			/* bytes of job[] to compare; an exact
					 * name includes its NUL, a "PFX*"
					 * wildcard compares strlen("PFX") */
	__u8  pad[3];
};
_Static_assert(sizeof(struct attls_rule) == 104, "attls_rule ABI");

#define ATTLS_RF_INBOUND	(1u << 0)	/* Direction Inbound or Both */
#define ATTLS_RF_OUTBOUND	(1u << 1)	/* Direction Outbound or Both */
#define ATTLS_RF_ENABLED	(1u << 2)	/* group TTLSEnabled On */
#define ATTLS_RF_JOB		(1u << 3)	/* Jobname condition present */
#define ATTLS_RF_UID		(1u << 4)	/* Userid condition present */
#define ATTLS_RF_LADDR		(1u << 5)	/* LocalAddr other than All */
#define ATTLS_RF_RADDR		(1u << 6)	/* RemoteAddr other than All */

/*
 * attls_policy[0]: which rule set is live.  The daemon writes the idle set
 * (slots [set*ATTLS_MAX_RULES, +nrules)) and then flips `active` with one
 * map update, so a connection is classified against one whole policy.
 */
struct attls_policy_hdr {
	__u32 active;			/* 0 or 1 */
	__u32 nrules[2];		/* clauses in each set */
	__u32 state;			/* ATTLS_STATE_* */
	__u64 generation;		/* bumped on every install */
};

/*
 * attls_policy_hdr.state.  Like z/OS TCPCONFIG TTLS before PAGENT has
 * installed policy (EZB.INITSTACK): while attached cgroups have no policy,
 * their processes cannot create TCP sockets (EPERM), SYNs to their bound
 * sockets are dropped and their connect()s refused, unless the process's
 * job name is in attls_permit.  Zero (a fresh map) is NONE.
 */
#define ATTLS_STATE_NONE	0	/* guard: no policy installed */
#define ATTLS_STATE_ACTIVE	1	/* the live rule set applies */
_Static_assert(sizeof(struct attls_policy_hdr) == 24, "attls_policy_hdr ABI");

/*
 * attls_portmap[set * 2 + dir]: one bit per port, set when some clause of
 * rule set `set` could match that port in direction `dir` (0 inbound: the
 * local port; 1 outbound: the remote port).  A clear bit means no clause
 * can match, so classification stops after one lookup instead of scanning
 * every clause: connections to ports no rule names pay O(1) whatever the
 * policy's size.  Written with the idle rule set, before the flip.
 */
#define ATTLS_PORTMAP_BYTES	(65536 / 8)
#define ATTLS_PORTMAP_IN	0
#define ATTLS_PORTMAP_OUT	1
struct attls_portmap {
	__u8 bits[ATTLS_PORTMAP_BYTES];
};
_Static_assert(sizeof(struct attls_portmap) == 8192, "attls_portmap ABI");

/*
 * Owner of a socket, recorded in process context (cgroup/sock_create and
 * post_bind) in SK_STORAGE with BPF_F_CLONE, so accepted children inherit
 * their listener's owner.  Job name = comm of the creating process.
 * `dir` is set on the socket's own storage by sockops when it is
 * established (accepted: inbound, connect()ed: outbound): attlsd's
 * application control classifies a socket the engine does not carry in
 * that direction (user/appctl_class.h).
 */
struct attls_owner {
	__u32 pid;			/* tgid of the creator */
	__u32 uid;
	__u32 gid;
	__u32 dir;			/* ATTLS_RF_INBOUND / _OUTBOUND once
					 * established, 0 before (listeners) */
	__u64 cgroup_id;
	__u8  comm[ATTLS_COMM_LEN];
};
_Static_assert(sizeof(struct attls_owner) == 40, "attls_owner ABI");

/*
 * An endpoint: the key of attls_bound (a bound socket in an attached
 * cgroup; addr all-zero for a wildcard bind) and of attls_hop (the engine's
 * local end of its connection to the application).
 */
struct attls_endpoint {
	__u8  addr[ATTLS_ADDR_LEN];	/* network order, v4-mapped */
	__u16 port;			/* host order */
	__u16 family;			/* socket family: ATTLS_AF_* */
	__u32 pad;
};
_Static_assert(sizeof(struct attls_endpoint) == 24, "attls_endpoint ABI");

struct attls_bound_val {
	struct attls_owner owner;
	__u64 cookie;			/* socket cookie of the bound socket */
};
_Static_assert(sizeof(struct attls_bound_val) == 48, "attls_bound_val ABI");

/* A connection as seen from the protected host: local = our side. */
struct attls_flow {
	__u8  laddr[ATTLS_ADDR_LEN];	/* network order, v4-mapped */
	__u8  raddr[ATTLS_ADDR_LEN];
	__u16 lport;			/* host order */
	__u16 rport;			/* host order */
	__u16 family;			/* of the packet/socket: ATTLS_AF_* */
	__u16 pad;
};
_Static_assert(sizeof(struct attls_flow) == 40, "attls_flow ABI");

/*
 * attls_steer: written by sk_lookup when it hands a SYN to the engine,
 * taken (lookup + delete) by the engine after accept(), keyed by the flow.
 */
struct attls_steer_val {
	struct attls_owner owner;	/* owner of the protected listener */
	__u64 generation;		/* policy generation that matched */
	__u32 rule_id;			/* action-table index */
	__u32 clause;			/* index of the matching clause */
	__u32 flags;			/* ATTLS_STEER_F_* */
	__u32 pad;
};
_Static_assert(sizeof(struct attls_steer_val) == 64, "attls_steer_val ABI");

/* attls_steer_val.flags, attls_orig.flags, attls_out_val.flags */
#define ATTLS_STEER_F_SECONDARY	(1u << 0)	/* SecondaryMap: rule_id and
						 * generation are the primary
						 * connection's (attls_secmap) */

/*
 * attls_hop: the engine's local endpoint of its connection to the
 * application -> the real connection.  sk_lookup lets SYNs from these
 * endpoints through to the application (the engine's own hop),
 * getpeername/accept show the application `peer` instead of the engine,
 * and sockops marks the application's socket as attls-protected.
 */
struct attls_hop_val {
	struct attls_flow real;		/* the wire connection: local/remote */
	__u64 conn_id;			/* engine connection id (CONNID) */
	__u32 rule_id;
	__u32 pad;
};
_Static_assert(sizeof(struct attls_hop_val) == 56, "attls_hop_val ABI");

/*
 * attls_appsk: socket-local storage of the application's side of an
 * inbound engine connection (the socket the application accept()ed from
 * the engine's hop), written by sockops when that socket is established.
 * attlsd looks it up with a socket fd the application passed it
 * (SCM_RIGHTS, libattls): the kernel resolves the fd to the very socket,
 * so only a process holding the socket can name its connection.
 */
struct attls_appsk {
	__u64 conn_id;			/* engine connection id (CONNID) */
};
_Static_assert(sizeof(struct attls_appsk) == 8, "attls_appsk ABI");

/*
 * Outbound (Direction Outbound, the application connect()s).
 *
 * cgroup/connect4/6 classify in the application's own process context and
 * rewrite the destination to the engine's outbound listener; the original
 * destination goes into attls_orig, socket-local storage of the
 * application's socket.  When that socket is established, sockops (which
 * now knows its local port) publishes it in attls_out, keyed by the
 * application's local endpoint: the engine finds it from the peer address
 * of the connection it accepts, connects to the original destination and
 * writes its own wire-side local address back (`wire.laddr/lport`), which
 * getsockname() then shows the application.
 */
struct attls_orig {
	__u8  daddr[ATTLS_ADDR_LEN];	/* original destination, network order */
	__u16 dport;			/* host order */
	__u16 family;			/* of the application's socket */
	__u32 rule_id;
	__u32 clause;
	__u32 flags;			/* ATTLS_STEER_F_* */
	__u64 generation;
};
_Static_assert(sizeof(struct attls_orig) == 40, "attls_orig ABI");

struct attls_out_val {
	struct attls_flow wire;		/* raddr/rport: original destination;
					 * laddr/lport: the engine's local end
					 * once connected (all-zero before) */
	struct attls_owner owner;	/* of the application's socket */
	__u64 generation;
	__u32 rule_id;
	__u32 clause;
	__u64 cookie;			/* the application socket's cookie */
	__u64 conn_id;			/* engine CONNID once accepted, else 0 */
	__u32 flags;			/* ATTLS_STEER_F_* */
	__u32 pad;
};
_Static_assert(sizeof(struct attls_out_val) == 120, "attls_out_val ABI");

/* attls_engine: SOCKMAP of the engine's listening sockets. */
#define ATTLS_ENGINE_LSN_V4	0	/* inbound: target of sk_lookup */
#define ATTLS_ENGINE_LSN_V6	1
#define ATTLS_ENGINE_OUT_V4	2	/* outbound: target of connect4/6 */
#define ATTLS_ENGINE_OUT_V6	3
#define ATTLS_ENGINE_LSN_MAX	4

/*
 * attls_engine_addr[ATTLS_ENGINE_OUT_V4 / _V6]: where connect4/6 send
 * steered connections (the outbound listeners' loopback address).  The
 * SOCKMAP slot is checked too, so a stale address (engine dead, port
 * reused by someone else) is never connected to: the connect fails.
 */
struct attls_engine_addr {
	__u8  addr[ATTLS_ADDR_LEN];	/* network order, v4-mapped */
	__u16 port;			/* host order; 0 = none */
	__u16 pad[3];
};
_Static_assert(sizeof(struct attls_engine_addr) == 24, "attls_engine_addr ABI");

/* attls_stats: per-CPU counters, summed by user space. */
enum {
	ATTLS_STAT_SYN_STEERED = 0,	/* SYNs handed to the engine */
	ATTLS_STAT_SYN_DROPPED,		/* protected SYN, no engine: dropped */
	ATTLS_STAT_SYN_CLEAR,		/* matched a TTLSEnabled Off rule */
	ATTLS_STAT_SYN_NOMATCH,		/* bound in a cgroup, no rule matched */
	ATTLS_STAT_HOP_PASSED,		/* engine's own SYN to the application */
	ATTLS_STAT_BOUND_ADD,
	ATTLS_STAT_BOUND_DEL,
	ATTLS_STAT_PEER_REWRITE,	/* getpeername/accept rewrites */
	ATTLS_STAT_RB_DROPPED,		/* ringbuf reserve failures */
	ATTLS_STAT_OWNER_MISSING,	/* socket without owner storage */
	ATTLS_STAT_CONNECT_STEERED,	/* outbound connect()s to the engine */
	ATTLS_STAT_CONNECT_REFUSED,	/* protected connect(), no engine: EPERM */
	ATTLS_STAT_CONNECT_CLEAR,	/* outbound, TTLSEnabled Off rule */
	ATTLS_STAT_CONNECT_NOMATCH,	/* outbound, no rule */
	ATTLS_STAT_SOCKNAME_REWRITE,	/* getsockname rewrites */
	ATTLS_STAT_GUARD_DENIED,	/* socket/SYN/connect refused: no policy */
	/* zERT stream observation (bpf/observe.bpf.h) */
	ATTLS_STAT_OBS_STARTED,		/* connections observed */
	ATTLS_STAT_OBS_CHUNKS,		/* payload chunks sent to attlsd */
	ATTLS_STAT_OBS_DROPPED,		/* chunks lost: ringbuf full */
	ATTLS_STAT_OBS_NO_STATE,	/* no socket storage: not observed */
	/* zERT collector in attlsd, published by it (not the kernel) into
	 * the CPU 0 slot so `attlsctl status` shows them */
	ATTLS_STAT_ZERT_RECORDS,	/* records written */
	ATTLS_STAT_ZERT_WRITE_ERRORS,	/* records that could not be written */
	ATTLS_STAT_ZERT_LOST,		/* records not built (out of memory) */
	ATTLS_STAT_ZERT_UNMATCHED,	/* chunks/closes for unknown connections */
	ATTLS_STAT_ZERT_WATCH_DROPPED,	/* live watchers cut off: too slow */
	/* SecondaryMap (attls_secmap) */
	ATTLS_STAT_SEC_STEERED,		/* secondary SYNs/connect()s to the engine */
	ATTLS_STAT_SEC_CLEAR,		/* secondary, protection Clear (FTP PROT C) */
	ATTLS_STAT_MAX,
};

/* Ringbuf events (sockops -> zERT collector). */
#define ATTLS_EV_ESTABLISHED	1
#define ATTLS_EV_CLOSED		2

#define ATTLS_EVF_ACTIVE	(1u << 0)	/* connect()ed, else accepted */
#define ATTLS_EVF_HOP		(1u << 1)	/* app side of an engine hop */
#define ATTLS_EVF_NO_OWNER	(1u << 2)	/* owner storage was missing */

struct attls_event {
	__u32 type;			/* ATTLS_EV_* */
	__u32 flags;			/* ATTLS_EVF_* */
	__u64 ts_ns;			/* CLOCK_BOOTTIME */
	__u64 cookie;			/* socket cookie */
	struct attls_flow flow;		/* the application's socket */
	struct attls_owner owner;
	__u64 bytes_in;			/* bytes_received */
	__u64 bytes_out;		/* bytes_acked */
	__u32 segs_in;
	__u32 segs_out;
	__u64 hop_conn_id;		/* with ATTLS_EVF_HOP */
	struct attls_flow real;		/* with ATTLS_EVF_HOP: the wire flow */
};
_Static_assert(sizeof(struct attls_event) == 176, "attls_event ABI");

/*
 * zERT stream observation (bpf/observe.bpf.h, docs/zert.md).  sockops
 * starts observing each connection it reports established (not the
 * application side of an engine hop); cgroup_skb ingress/egress then copy
 * the first ATTLS_OBS_MAX_BYTES of each direction, in at most
 * ATTLS_OBS_MAX_SEGS segments, into the ringbuf; a direction whose first
 * bytes are neither TLS nor SSH stops after those 4 bytes.
 */
#define ATTLS_OBS_MAX_BYTES	4096	/* per direction; a power of two */
#define ATTLS_OBS_MAX_SEGS	8	/* payload segments per direction */

#define ATTLS_EV_PAYLOAD	3	/* struct attls_obs_event */

#define ATTLS_OBS_F_SENT	(1u << 0)	/* bytes the socket sent (egress) */

/* attls_obs_state.kind[], decided from a direction's first 4 bytes.  A
 * cleartext direction sends only those 4 bytes up and is done: no
 * application plaintext beyond them leaves the kernel. */
#define ATTLS_OBS_KIND_UNKNOWN	0
#define ATTLS_OBS_KIND_TLS	1	/* 0x16/0x15 0x03 0x00-04: handshake or
					 * alert record */
#define ATTLS_OBS_KIND_SSH	2	/* "SSH-" */
#define ATTLS_OBS_KIND_NONE	3	/* anything else: cleartext */

/* Ringbuf: up to ATTLS_OBS_MAX_BYTES of one direction, at a stream
 * offset (byte 0 = the first byte after the SYN).  Only the header and
 * `len` bytes of data are submitted. */
struct attls_obs_event {
	__u32 type;			/* ATTLS_EV_PAYLOAD */
	__u32 flags;			/* ATTLS_OBS_F_* */
	__u64 cookie;			/* socket cookie, as attls_event */
	__u32 offset;			/* stream offset of data[0] */
	__u16 len;			/* bytes of data[] */
	__u16 seg;			/* payload segment number, from 0 */
	__u8  data[ATTLS_OBS_MAX_BYTES];
};
_Static_assert(sizeof(struct attls_obs_event) == 24 + ATTLS_OBS_MAX_BYTES,
	       "attls_obs_event ABI");
#define ATTLS_OBS_EVENT_HDR	24	/* bytes before data[] */

/* attls_obs: per-socket observation state (socket-local storage).
 * Index 0 is the received direction, 1 the sent one. */
struct attls_obs_state {
	__u64 cookie;
	__u32 seq0[2];			/* TCP sequence number of stream byte 0 */
	__u32 hi[2];			/* end of the captured prefix */
	__u8  segs[2];			/* payload segments captured */
	__u8  done[2];			/* direction captured enough */
	__u8  kind[2];			/* ATTLS_OBS_KIND_* of each direction */
	__u8  stop;			/* observation over: every later packet
					 * costs one storage lookup */
	__u8  pad;
};
_Static_assert(sizeof(struct attls_obs_state) == 32, "attls_obs_state ABI");

/*
 * SecondaryMap (AT-TLS "secondary connection mapping", docs/ftp.md).
 *
 * While a primary connection whose environment has SecondaryMap On is
 * open, the engine keeps an attls_secmap entry for it.  A later connection
 * between the same two addresses whose socket belongs to a process in the
 * same cgroup - a SYN to any listener there (sk_lookup) or a connect()
 * from there (connect4/6) - that no rule matches, or only a rule of lower
 * priority, is a secondary connection: it gets the primary's rule,
 * environment and HandshakeRole (an FTP server stays TLS server on its
 * outgoing active-mode data connections).  The key is the cgroup, not the
 * process as on z/OS: vsftpd creates its data sockets in forked session
 * processes, never in the process that accepted the control connection
 * (measured: docs/design-notes.md).
 *
 * A connect() from a socket not bound yet does not know its local
 * address: the engine also keeps a key with laddr all-zero for it.
 */
struct attls_secmap_key {
	__u64 cgroup_id;		/* of the primary's owner */
	__u8  laddr[ATTLS_ADDR_LEN];	/* our address, network order,
					 * v4-mapped; all-zero: unbound */
	__u8  raddr[ATTLS_ADDR_LEN];	/* the partner's address */
};
_Static_assert(sizeof(struct attls_secmap_key) == 40, "attls_secmap_key ABI");

#define ATTLS_SECMAP_CLEAR	0	/* secondaries pass in cleartext (FTP
					 * PROT C, or no PROT yet) */
#define ATTLS_SECMAP_PROTECT	1	/* secondaries are steered to the engine */

struct attls_secmap_val {
	__u64 generation;		/* the primary's policy generation */
	__u64 conn_id;			/* the primary's CONNID (first of several) */
	__u32 rule_id;			/* the primary's rule (action index) */
	__u32 clause;			/* its clause slot: an own rule matching at a
					 * lower slot of the same generation has
					 * higher priority and wins */
	__u32 protect;			/* ATTLS_SECMAP_* */
	__u32 pad;
};
_Static_assert(sizeof(struct attls_secmap_val) == 32, "attls_secmap_val ABI");

#define ATTLS_MAX_SECMAP	4096	/* attls_secmap entries */

#endif /* ATTLS_ABI_H */
