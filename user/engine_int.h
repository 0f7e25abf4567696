/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * engine_int.h - internals shared by engine.c (threads, listeners, event
 * loop), engine_policy.c (policy generations, SSL_CTX per environment) and
 * engine_conn.c (one protected connection: handshake and relay).  Not an
 * interface: only engine*.c include it.
 */
#ifndef ATTLS_ENGINE_INT_H
#define ATTLS_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "engine.h"
#include "keyring.h"
#include "rbuf.h"
#include "rc_table.h"
#include "zert.h"

#define ENGINE_DEFAULT_BUFSIZE	(64 * 1024)
/* Smaller buffers only multiply syscalls; 4 KiB still relays correctly. */
#define ENGINE_MIN_BUFSIZE	4096
#define ENGINE_MAX_THREADS	256
/*
 * A retired policy generation stays this long after the last connection
 * using it ended: sk_lookup may have written a steer entry with it for a
 * SYN whose handshake is still being retried (tcp_synack_retries = 5 is
 * about 63 s), and that connection must still find its rule.
 */
#define ENGINE_GEN_GRACE_NS	(120ull * 1000000000ull)
/* Retired generations kept regardless of age (frequent reloads). */
#define ENGINE_GEN_KEEP		8
/* Timer granularity of handshake timeouts and reset lingering. */
#define ENGINE_TICK_NS		(100ull * 1000000ull)
/*
 * After a truncated peer stream the application is reset, but only once
 * it has received what was decrypted before (the hop's send queue is
 * empty) or after this long.
 */
#define ENGINE_LINGER_NS	(5ull * 1000000000ull)
/* A ring whose key ring build failed is retried after this long. */
#define ENGINE_CTX_RETRY_NS	(10ull * 1000000000ull)
/* Connections accepted per listener wake-up before serving others. */
#define ENGINE_ACCEPT_BATCH	64
/*
 * Stray segments for a closed connection (see engine_steer.c) come within
 * retransmission timeouts: its flow's steer key is deleted once more this
 * long after the close.
 */
#define ENGINE_TOMB_NS		(2ull * 1000000000ull)
/* attls_steer sweep period: longer than a SYN can wait for its handshake
 * (SYN-ACK retransmissions end after about 63 s). */
#define ENGINE_STEER_GC_NS	(64ull * 1000000000ull)
/*
 * Outbound: the connection to the original destination must be up within
 * HandshakeTimeout; with HandshakeTimeout 0 (none) within this, so an
 * unreachable destination never leaves the application hanging for the
 * kernel's SYN retries (about two minutes).
 */
#define ENGINE_CONNECT_TIMEOUT_NS	(30ull * 1000000000ull)
/* Random hop ports tried before bind(addr, 0) (engine_conn.c). */
#define ENGINE_HOP_TRIES	16
/* Client session cache (engine_sess.c): sessions in all (each
 * environment: GSK_V3_SIDCACHE_SIZE, default 512), and per environment,
 * destination and names. */
#define ENGINE_SESS_MAX		4096
#define ENGINE_SESS_PER_KEY	4
#define ENGINE_USER_CACHE	16
#define ENGINE_USER_TTL_NS	(60ull * 1000000000ull)

/*
 * Counter slots of return codes: rc_table.c holds at most this many codes
 * (a _Static_assert there keeps it so); the slot is the code's table index.
 */
#define ENGINE_RC_SLOTS		ATTLS_RC_MAX_CODES

/*
 * Connection counters of one engine thread (attlsctl status).  Only the
 * thread itself writes them, with relaxed atomic load + store (no locked
 * instruction, no shared cache line on the data path); the control
 * thread sums every thread's when asked.
 */
struct engine_counters {
	_Atomic uint64_t mapped;		/* connections given a rule */
	_Atomic uint64_t refused;		/* reset before that (no steering
						 * entry, policy generation gone) */
	_Atomic uint64_t hs_ok;			/* handshakes completed */
	_Atomic uint64_t hs_failed;		/* ended before secure, RC != 0 */
	_Atomic uint64_t failed_secure;		/* ended with RC != 0 after secure */
	_Atomic uint64_t hs_failed_rc[ENGINE_RC_SLOTS];
	_Atomic uint64_t failed_secure_rc[ENGINE_RC_SLOTS];
	_Atomic uint64_t ftp_sessions;		/* engine_stats has the meanings */
	_Atomic uint64_t ftp_auth_tls;
	_Atomic uint64_t ftp_refused;
	_Atomic uint64_t ftp_closed;
};

/* What an epoll registration points at. */
enum ep_kind {
	EP_LISTEN = 1,
	EP_WAKE,
	EP_TIMER,
	EP_GC,
	EP_WIRE,
	EP_HOP,
};

/*
 * Listener slots of a thread, numbered as the attls_engine SOCKMAP
 * (ATTLS_ENGINE_LSN_V4/_V6 inbound, ATTLS_ENGINE_OUT_V4/_V6 outbound).
 */
#define ENGINE_NLSN		ATTLS_ENGINE_LSN_MAX

struct ep_ref {
	enum ep_kind kind;
	int idx;		/* EP_LISTEN: ATTLS_ENGINE_* slot */
};

/* SSL_CTX of an environment with an owner-less key ring, per owner. */
/*
 * SHA-256 of a key ring's CRL files (keyring_crl_digest()), read before
 * the SSL_CTX was built: a reload keeps the SSL_CTX only while it is the
 * same, so replaced CRLs take effect without EnvironmentUserInstance.
 */
struct env_crl_sum {
	unsigned char sha[32];
	int known;		/* 0: the ring could not be read */
};

struct env_user {
	LIST_ENTRY(env_user) link;
	uint32_t uid;
	char user[33];		/* its name: the ring is USER/RING */
	SSL_CTX *ctx;		/* NULL: the last build failed */
	uint64_t retry_ns;	/* monotonic: build again after this */
	struct env_crl_sum crl;
};

struct engine_env {
	SSL_CTX *ctx;		/* NULL when per_user */
	struct env_crl_sum crl;	/* of ctx's key ring (not per_user) */
	int per_user;		/* Keyring RING: one SSL_CTX per owner */
	pthread_mutex_t lock;	/* users */
	LIST_HEAD(, env_user) users;
	struct keyring_acl *acl;	/* who may use the key ring; read at
					 * every install (reused SSL_CTX or not) */
	int fail_rc;		/* != 0: Environment Init failed at install;
				 * its connections are reset with this RC */
	char fail_msg[2048];	/* what env_log() said then */
};

struct rule_slot;

/* One installed policy: what connections steered with `generation` use. */
struct engine_gen {
	LIST_ENTRY(engine_gen) link;
	uint64_t generation;
	struct attls_action *actions;
	uint32_t *grp_ids;	/* [nactions]: GRPID of each rule's group */
	size_t nactions;
	struct attls_env_cfg *envs;
	size_t nenvs;
	struct engine_env *env;	/* [nenvs] */
	struct keyring_certmap *certmap;	/* ClientAuthType SAFCheck; NULL
						 * when no environment uses it */
	unsigned refs;		/* connections using it; engine.pol_lock */
	uint64_t retired_ns;	/* monotonic; 0 while it is the newest */
	struct rule_slot **slots;	/* [nactions]: live-connection counter of
					 * each rule with MaxConnections, else
					 * NULL (engine_limits.c) */
};

/*
 * Limit counters of one engine thread: written only by that thread
 * (engine_tstat_inc(), no read-modify-write), read by engine_stats().
 */
struct engine_tstats {
	_Atomic uint64_t refused_global;	/* RC 5131 */
	_Atomic uint64_t refused_rule;		/* RC 5132 */
	_Atomic uint64_t hs_timeout;		/* RC 5101 */
	_Atomic uint64_t idle_closed;		/* RC 5133 */
};

struct user_cache_ent {
	uint32_t uid;
	int known;		/* the uid has a passwd entry */
	uint64_t expires_ns;
	char name[33];
};

/* A closed connection whose steer key is deleted again at due_ns. */
struct engine_tomb {
	uint64_t due_ns;
	struct attls_flow flow;
};

struct conn;
struct trace_ctx;
struct engine_sess_cache;
struct steer_ent;
struct secmap_ent;
struct secmap_ref;
struct appctl_slot;

struct engine_thread {
	struct engine *e;
	unsigned idx;
	pthread_t tid;
	int started;
	int epfd;
	int wakefd;		/* eventfd: engine_stop() */
	int timerfd;		/* ENGINE_TICK_NS while `timed` is non-empty */
	int timer_armed;
	int spare_fd;		/* given up to accept() and reset on EMFILE */
	int gc_timerfd;		/* thread 0: attls_steer sweep, else -1 */
	int lsn[ENGINE_NLSN];	/* listeners by ATTLS_ENGINE_* slot, or -1 */
	struct ep_ref lsn_ref[ENGINE_NLSN];
	struct ep_ref wake_ref;
	struct ep_ref timer_ref;
	struct ep_ref gc_ref;
	LIST_HEAD(, conn) conns;	/* every live connection */
	LIST_HEAD(, conn) timed;	/* handshaking or lingering */
	LIST_HEAD(, conn) dead;		/* freed after the event batch */
	struct engine_tomb *tombs;	/* FIFO ring, due order */
	size_t ntombs;
	size_t tomb_cap;
	size_t tomb_head;
	struct user_cache_ent users[ENGINE_USER_CACHE];
	unsigned user_next;
	uint32_t hop_rng;	/* hop port picks (engine_conn.c) */
	/*
	 * engine_conn_list(): another thread asks (snap_pending = 1, then
	 * wakefd); this thread, which alone touches its connections, copies
	 * them into snap and clears snap_pending.  No lock on the data path.
	 */
	pthread_mutex_t snap_lock;
	pthread_cond_t snap_cond;
	int snap_pending;
	struct engine_conn_info *snap;	/* malloc'ed by this thread, taken by the asker */
	size_t nsnap;
	/* engine_conn_trace(): the same hand-over for one trace change;
	 * trace_result is 0, or -ENOENT when no connection has the id. */
	int trace_pending;
	uint64_t trace_id;
	unsigned trace_level;
	unsigned trace_old;
	int trace_result;
	struct engine_counters ctr;
	/* Application control requests (engine_appctl.c) for this thread,
	 * posted by attlsd's appctl thread, then wakefd. */
	pthread_mutex_t ac_lock;
	STAILQ_HEAD(, appctl_slot) ac_queue;
	struct engine_tstats lim;	/* engine_limits.c */
};

struct engine {
	char *keyring_root;
	int steer_fd;
	int hop_fd;
	int out_fd;		/* attls_out, -1 without outbound listeners */
	struct zert *zert;
	size_t bufsize;
	/* Hop source ports: ip_local_port_range minus ip_local_reserved_ports
	 * of the engine's network namespace, read by engine_create(). */
	uint16_t hop_port_lo, hop_port_hi;
	uint64_t hop_reserved[65536 / 64];
	unsigned nthreads;
	struct engine_thread *threads;	/* [nthreads] */
	int running;			/* threads started, not yet stopped */
	atomic_int stopping;

	pthread_mutex_t pol_lock;	/* gens and every gen->refs */
	LIST_HEAD(, engine_gen) gens;	/* newest first */

	int secmap_fd;			/* attls_secmap, -1 without it */
	pthread_mutex_t secmap_lock;	/* secmaps (engine_secmap.c) */
	LIST_HEAD(, secmap_ent) secmaps;

	struct steer_ent *steer_prev;	/* last sweep (thread 0 only) */
	size_t steer_nprev;

	atomic_uint_fast64_t next_conn_id;
	atomic_uint_fast64_t n_accepted;
	atomic_uint_fast64_t n_no_steer;
	atomic_uint_fast64_t n_failed;

	pthread_mutex_t sess_lock;	/* sess (engine_sess.c) */
	struct engine_sess_cache *sess;	/* client sessions, NULL until one */

	unsigned max_conns;		/* global limit (engine_limits.c) */
	atomic_uint live_conns;		/* admitted, not yet closed */
};

/* engine.c */
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t engine_now_ns(void);
/* User name of uid (cached per thread); NULL when the uid has none. */
const char *engine_user_name(struct engine_thread *t, uint32_t uid);
/* Make sure the thread's tick runs (a connection joined `timed`). */
void engine_timer_arm(struct engine_thread *t);
/* Close with a TCP reset (SO_LINGER 0): the partner sees ECONNRESET. */
void engine_rst_close(int fd);
/* SO_LINGER {1, 0} on a new socket: if the engine dies, the kernel closes
 * it with a reset, never a FIN.  0 or -errno. */
int engine_rst_on_death(int fd);
/* Orderly close of a socket set up with engine_rst_on_death(): normal
 * linger again (queued data is sent, then FIN), then close(). */
void engine_close_graceful(int fd);

/* engine_policy.c */
/* Newest generation `gen` with a reference taken, or NULL. */
struct engine_gen *engine_gen_get(struct engine *e, uint64_t gen);
/* Drop a reference; a retired generation nobody uses is freed. */
void engine_gen_put(struct engine *e, struct engine_gen *g);
/*
 * SSL_CTX of environment env_index of g for a connection owned by uid
 * (user = its name or NULL); built on first use for owner-less key rings.
 * NULL when it cannot be built (logged, *rc set).  The context lives as
 * long as g.
 */
SSL_CTX *engine_env_ctx(struct engine *e, struct engine_gen *g, int env_index,
			uint32_t uid, const char *user, const char *conn_desc,
			int *rc);
/*
 * Why environment env_index of g failed at install ("ENVIRONMENT: ...
 * KEYRING: ...: cause (fix: ...)"), or NULL when it did not.
 */
const char *engine_env_error(const struct engine_gen *g, int env_index);
/* Free every generation (engine_destroy(), threads joined). */
void engine_gens_free(struct engine *e);
/*
 * May uid (named `user`, NULL without a name) use the key ring of
 * environment env_index of g (keyring_acl_check())?  0, or -EACCES after
 * logging the refusal (RC 202 with the reason) for connection conn_desc.
 */
int engine_env_access(struct engine_gen *g, int env_index, uint32_t uid,
		      const char *user, const char *conn_desc);

/* engine_sess.c: the engine's client session cache (every thread's). */
/* What a client session is kept under: who may offer it. */
struct engine_sess_key {
	uint64_t ctx_serial;		/* engine_sess_ctx_serial() */
	uint8_t raddr[ATTLS_ADDR_LEN];	/* destination */
	uint16_t rport;			/* host order */
	uint16_t pad;
	uint32_t pad2;
	char sni[ATTLS_HOST_LEN];	/* server_name sent, or "" */
	char ref[ATTLS_HOST_LEN];	/* HostReferenceIdDNS checked, or "" */
};
/* Give a client SSL_CTX its serial, never reused, and tie its sessions in
 * e's cache to its life; it keeps at most max of them (0: ENGINE_SESS_MAX).
 * 0 or -ENOMEM. */
int engine_sess_ctx_mark(struct engine *e, SSL_CTX *ctx, unsigned max);
/* The serial of ctx, 0 when it has none (no resumption). */
uint64_t engine_sess_ctx_serial(const SSL_CTX *ctx);
/*
 * Keep session s (its reference is taken over on 0) under k for at most
 * `timeout` seconds.  -EINVAL (not resumable, timeout 0), -ETIME (already
 * expired) or -ENOMEM: s stays the caller's.
 */
int engine_sess_put(struct engine *e, const SSL_CTX *ctx,
		    const struct engine_sess_key *k, SSL_SESSION *s, unsigned timeout);
/* A session to offer under k (a reference for the caller), or NULL; a TLS
 * 1.3 ticket leaves the cache. */
SSL_SESSION *engine_sess_get(struct engine *e,
			     const struct engine_sess_key *k);
/*
 * A session whose handshake sent our certificate (the server asked):
 * a connection that resumes it is client-authenticated by it, and its
 * zERT record names the certificate.
 */
void engine_sess_set_cert_requested(SSL_SESSION *s);
int engine_sess_cert_requested(const SSL_SESSION *s);
/* Drop every session under k (TTLS_RESET_SESSION). */
void engine_sess_forget(struct engine *e, const struct engine_sess_key *k);
/* Free the cache (engine_destroy()). */
void engine_sess_free(struct engine *e);

/* engine_steer.c */
/* Look up and delete the steering entry of flow f.  0 or -errno (-ENOENT:
 * the connection was not steered). */
int engine_steer_take(struct engine *e, const struct attls_flow *f,
		      struct attls_steer_val *sv);
/* Delete f's steer key again ENGINE_TOMB_NS from now. */
void engine_tomb_add(struct engine_thread *t, const struct attls_flow *f);
/* Delete the keys of the due tombstones (all of them with `all`). */
void engine_tomb_expire(struct engine_thread *t, uint64_t now, int all);
/* Free the tombstone FIFO (keys are not deleted: expire first). */
void engine_tomb_free(struct engine_thread *t);
/* One sweep: delete entries unchanged since the previous sweep. */
void engine_steer_gc(struct engine *e);
/* Free the last sweep's snapshot. */
void engine_steer_gc_free(struct engine *e);

/* engine_limits.c */
/* Count one event on a counter only the calling thread writes. */
void engine_tstat_inc(_Atomic uint64_t *ctr);
/*
 * Set e->max_conns: max_conns, or 0 for the default (what RLIMIT_NOFILE
 * and a quarter of the memory attlsd may use allow: physical memory or
 * its cgroup's memory.max, engine_limits_default()).
 * After RLIMIT_NOFILE was raised and e->bufsize set.
 */
void engine_limits_init(struct engine *e, unsigned max_conns);
/*
 * Per-rule counters of generation g, shared with prev (the newest before
 * it, may be NULL) for rules of the same name.  0 or -ENOMEM (call
 * engine_limits_gen_free() then).
 */
int engine_limits_gen_init(struct engine_gen *g, const struct engine_gen *prev);
/* Drop g's references to its per-rule counters (gen_free()). */
void engine_limits_gen_free(struct engine_gen *g);
/*
 * Admit a new connection of rule rule_id of g: ATTLS_RC_OK with *slot set
 * (give it back with engine_limit_release()), or ATTLS_RC_CONN_LIMIT /
 * ATTLS_RC_RULE_CONN_LIMIT with *limit = the limit reached (counted).
 */
int engine_limit_admit(struct engine_thread *t, struct engine_gen *g,
		       uint32_t rule_id, struct rule_slot **slot,
		       unsigned *limit);
/* A connection admitted with `slot` ended. */
void engine_limit_release(struct engine *e, struct rule_slot *slot);
/* The limits and the counters at them into st (part of engine_stats()). */
void engine_limit_stats(struct engine *e, struct engine_stats *st);
/* engine_secmap.c */
/*
 * Record an open SecondaryMap primary under k (and under k with an
 * unbound local address) with rule, generation and protection v.  *out is
 * its hold.  0, -EOPNOTSUPP (no attls_secmap), -ENOMEM or the map's errno
 * (-E2BIG: full).
 */
int engine_secmap_add(struct engine *e, const struct attls_secmap_key *k,
		      const struct attls_secmap_val *v, struct secmap_ref **out);
/* Change a primary's protection (FTP PROT P / PROT C).  0 or -errno. */
int engine_secmap_protect(struct engine *e, struct secmap_ref *r, int protect);
/* The primary closed: release its hold (NULL is fine). */
void engine_secmap_del(struct engine *e, struct secmap_ref *r);
/* engine_destroy(): every remaining entry, kernel ones too. */
void engine_secmap_free(struct engine *e);

/* engine_conn.c */
/* A freshly accepted wire socket and the peer address accept() gave:
 * steer lookup, hop, handshake. */
void conn_accept(struct engine_thread *t, int fd,
		 const struct sockaddr_storage *ra);
/*
 * A connection accepted on an outbound listener (the application's
 * steered connect(); ra = its local endpoint): attls_out lookup,
 * connection to the original destination, TLS client handshake.
 */
void conn_accept_out(struct engine_thread *t, int fd,
		     const struct sockaddr_storage *ra);
/* epoll event on a connection's wire or hop socket. */
void conn_event(struct ep_ref *ref, uint32_t events);
/* Expire handshakes and lingering resets of thread t. */
void conn_tick(struct engine_thread *t, uint64_t now);
/* Reset every connection of t (engine stopping). */
void conn_abort_all(struct engine_thread *t, int rc);
/* Free the connections closed during the last event batch. */
void conn_reap(struct engine_thread *t);

/* Serve a pending engine_conn_list() request (on the thread itself). */
void conn_snapshot_serve(struct engine_thread *t);
/* Serve a pending engine_conn_trace() request (on the thread itself). */
void conn_trace_serve(struct engine_thread *t);
/* Count a connection refused before it had a struct conn (RC rc). */
void conn_count_refused(struct engine_thread *t, int rc);
/*
 * Verify callback of every verifying environment (client role, server
 * with client authentication): logs rejections, maps SAFCheck client
 * certificates to users.
 */
int conn_verify_cb(int ok, X509_STORE_CTX *store);
/* Client-role cert callback: notes that the server asked for our
 * certificate (zERT "client_cert"). */
int conn_client_cert_cb(SSL *ssl, void *arg);
/*
 * Client-role new-session callback (SSL_CTX_sess_set_new_cb): a session
 * of a handshake that passed every check goes to the thread's session
 * cache.  1 when the session's reference was taken.
 */
int conn_client_sess_cb(SSL *ssl, SSL_SESSION *s);
/* TTLS_RESET_SESSION on a client connection: its destination's cached
 * sessions are dropped, the next handshake is a full one. */
void conn_client_sess_forget(struct conn *c);
/*
 * The return code a callback decided for the handshake failing on ssl
 * (SNI refused, say), used instead of what OpenSSL's error would map to;
 * `cause` is logged with it.
 */
void conn_set_fail(SSL *ssl, int rc, const char *cause);

/*
 * ---- Application-controlled connections (engine_conn.c) ----------------
 *
 * A connection whose environment has ApplicationControlled On starts as a
 * CLEARTEXT RELAY: the engine still owns the wire socket (and the hop),
 * but copies bytes unchanged in both directions.  Another engine module
 * (engine_appctl.c for libattls; a protocol helper such as FTP AUTH TLS)
 * switches it, always on the connection's own engine thread:
 *
 *   conn_tls_start(c, client, allow_hstimeout, cb, arg)
 *	cleartext -> TLS handshake in the given role (client = 1: we send
 *	the ClientHello; 0: we wait for one) -> TLS relay.  Everything the
 *	application wrote before the call (the a2w buffer plus the hop's
 *	unread receive queue, counted at the call) is first sent to the
 *	wire IN CLEARTEXT, then the handshake starts; later application
 *	bytes are encrypted.  HandshakeTimeout runs from the handshake's
 *	start.  cb(c, 0) when the handshake completed; cb(c, rc) with the
 *	AT-TLS return code when it failed (the connection is then closed:
 *	conn_tls_state() == CONN_TLS_CLOSED) or, with allow_hstimeout
 *	(server only), when no client byte came within HandshakeTimeout
 *	(then the connection stays CONN_TLS_CLEAR, unless the application
 *	wrote after the call: then it is reset, those bytes were to be
 *	encrypted).
 *
 *   conn_tls_stop(c, cb, arg)
 *	TLS -> cleartext: application bytes written before the call are
 *	encrypted and sent, then our close_notify; the partner's bytes
 *	before its close_notify still reach the application; after it the
 *	connection is a cleartext relay again (a new SSL for a later
 *	conn_tls_start()).  cb(c, 0) when done; cb(c, rc) if it failed.
 *	-EPROTO when decrypted bytes still wait for the application.
 *
 *   conn_tls_post_hs(c, op)
 *	TLS 1.3 only, now: a KeyUpdate asking the partner to update too
 *	(RESET_CIPHER), one for our sending keys only (RESET_WRITE_CIPHER),
 *	or a NewSessionTicket (SEND_SESSION_TICKET; server role with
 *	resumption on).
 *
 * The race rule: in cleartext, a wire stream whose unread head is a TLS
 * handshake record header (0x16 0x03 0x00-0x04) is NOT relayed: the engine
 * stops reading the wire until conn_tls_start() (the bytes are then the
 * handshake's first, e.g. a ClientHello sent right after the partner read
 * "220 Ready to start TLS") or, without a start within HandshakeTimeout
 * (30 s when it is 0), fails the connection with RC 5141.  So a TLS
 * record never reaches the application as cleartext, whichever of the
 * application's start and the partner's ClientHello comes first.
 *
 * cb runs on the engine thread, possibly inside the start/stop call
 * itself, at most once per call; c stays valid until the event batch ends
 * (conn_reap()).  Only one start or stop is pending at a time.
 * Start/stop return 0 (cb will be called), -EACCES (an ApplicationProtocol
 * FTP connection: its helper alone starts TLS), -EALREADY (already secure /
 * already clear), -EBUSY (a start or stop is pending), -EPIPE (the
 * connection is closing), -EPROTO (stop with unread data), -ENOTCONN.
 * A partner's close_notify before the application's stop: a FIN right
 * after it ends the connection (the application gets EOF); cleartext
 * after it waits unread until conn_tls_stop().
 */
typedef void (*conn_tls_cb)(struct conn *c, int rc, void *arg);

enum conn_tls_state {
	CONN_TLS_CLEAR = 1,	/* cleartext relay (application control) */
	CONN_TLS_HANDSHAKE,	/* start requested or handshake running */
	CONN_TLS_SECURE,
	CONN_TLS_STOPPING,	/* close_notify exchange of a stop */
	CONN_TLS_CLOSED,
};

int conn_tls_start(struct conn *c, int client, int allow_hstimeout,
		   conn_tls_cb cb, void *arg);
int conn_tls_stop(struct conn *c, conn_tls_cb cb, void *arg);
enum conn_post_hs {
	CONN_KEY_UPDATE,	/* ours and the partner's keys */
	CONN_KEY_UPDATE_WRITE,	/* ours only */
	CONN_NEW_TICKET,
};
/* 0, -EALREADY (not secure), -EOPNOTSUPP (TLS 1.2: renegotiation is
 * disabled; a ticket from the client role or without resumption), -EIO. */
int conn_tls_post_hs(struct conn *c, enum conn_post_hs op);
enum conn_tls_state conn_tls_state(const struct conn *c);

/* What another module may read of a connection (valid until it ends). */
struct conn_view {
	uint64_t id;
	const struct attls_action *act;
	const struct attls_env_cfg *env;
	SSL *ssl;
	enum conn_tls_state state;
	int appctl;		/* ApplicationControlled On */
	int client;		/* TLS client role */
	const char *desc;	/* "CONNID: ... RULE: r" for messages */
};
void conn_view(const struct conn *c, struct conn_view *v);

/* The connection of thread t whose application socket is the inbound
 * one of engine connection conn_id, or the outbound one with socket
 * cookie `cookie` (0: none); NULL. */
struct conn *conn_find_app(struct engine_thread *t, uint64_t conn_id,
			   uint64_t cookie);

/*
 * The trace context of connection c (its Trace bits and description), for
 * messages about it from other engine modules: trace_err() (EZD1286I),
 * trace_event() (EZD1283I), trace_info() (user/trace.h).
 */
const struct trace_ctx *conn_trace(const struct conn *c);
/* FTP helper events of connection c, counted on its thread. */
enum conn_ftp_event {
	CONN_FTP_SESSION,	/* a control connection got the helper */
	CONN_FTP_AUTH_TLS,	/* ... was secured by AUTH TLS */
	CONN_FTP_REFUSED,	/* a command before AUTH TLS refused (5152) */
	CONN_FTP_CLOSED,	/* the control connection ended (5153) */
};
void conn_count_ftp(struct conn *c, enum conn_ftp_event ev);
/*
 * SecondaryMap primary c: protect (1) or clear (0) the data connections
 * mapped from now on (engine_secmap_protect()).  0, -ENOENT (c has no
 * entry) or -errno.
 */
int conn_secmap_protect(struct conn *c, int protect);

/*
 * ---- ApplicationProtocol FTP (engine_ftp.c) -----------------------------
 *
 * The FTP helper of user/ftp.c on an inbound control connection (not on
 * its SecondaryMap data connections).  It sits between the relay's raw
 * buffers and its output buffers:
 *
 *   wire (cleartext, later TLS) -> client_in -> [commands judged] -> w2a -> hop
 *   hop -> server_in -> [replies, FEAT completed] + our replies -> a2w -> wire
 *
 * Explicit FTPS (ApplicationControlled On): the relay starts in cleartext;
 * on AUTH TLS the helper queues "234" and asks engine_conn.c to start the
 * TLS server handshake (conn_tls_start()'s mechanism, without the hop's
 * unread bytes: the helper decides what precedes the 234).  Implicit FTPS
 * (ApplicationControlled Off): TLS from the first byte.  Our replies go
 * out after the server's replies to earlier commands, never inside one.
 */
struct ftp_conn;

struct ftp_io {
	struct rbuf *to_server;	/* w2a */
	struct rbuf *to_client;	/* a2w */
	size_t cap;		/* their capacity (engine bufsize) */
	int client_eof;		/* no more bytes will come from the partner */
	int server_eof;		/* ... from the application */
	int secure;		/* the TLS handshake is complete */
	int start_tls;		/* out: queue flushed up to the 234: start the
				 * TLS server handshake now */
};

/* A helper for a control connection; implicit: TLS from the start.  NULL
 * (ENOMEM). */
struct ftp_conn *ftp_conn_new(int implicit);
void ftp_conn_free(struct ftp_conn *f);
/* Where the relay puts the partner's / the application's bytes, and the
 * capacity of that buffer. */
struct rbuf *ftp_conn_client_in(struct ftp_conn *f, size_t *cap);
struct rbuf *ftp_conn_server_in(struct ftp_conn *f, size_t *cap);
/* Data protection of the session now (1 Private, 0 Clear). */
int ftp_conn_protected(const struct ftp_conn *f);
/* Nothing of the partner's / application's stream is left in the helper. */
int ftp_conn_client_drained(const struct ftp_conn *f);
int ftp_conn_server_drained(const struct ftp_conn *f);
/*
 * Move what can move: judge complete client lines, pass server lines, add
 * our replies in order.  1 when something moved, 0 when nothing could,
 * or a negative AT-TLS return code (logged already): end the connection.
 */
int ftp_conn_pump(struct ftp_conn *f, struct conn *c, struct ftp_io *io);

/* engine_appctl.c */
/* Serve the application control requests queued for t (wakefd). */
void appctl_serve(struct engine_thread *t);
/* Thread t ends: answer what is still queued for it. */
void appctl_drain(struct engine_thread *t);

#endif /* ATTLS_ENGINE_INT_H */
