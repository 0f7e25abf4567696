/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * engine.h - the TLS engine: owns every protected wire connection.
 *
 * Inbound: the kernel hands protected SYNs to the engine's listeners
 * (sk_lookup + bpf_sk_assign); the engine accepts, looks up the steering
 * decision in attls_steer, does the TLS server handshake with OpenSSL on
 * the wire socket and connects to the application's listener from a local
 * endpoint it first registers in attls_hop (so sk_lookup lets that SYN
 * through and getpeername() shows the application the real client).
 *
 * Outbound: cgroup/connect4/6 send a protected application's connect() to
 * the engine's outbound listeners; the engine accepts, finds the original
 * destination in attls_out (keyed by the application's local endpoint),
 * connects to it, writes its own local address back for getsockname()
 * and does the TLS client handshake.
 */
#ifndef ATTLS_ENGINE_H
#define ATTLS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "../policy/policy-t.h"
#include "rc_table.h"
#include "zert.h"

struct engine;

struct engine_cfg {
	const char *keyring_root;	/* KEYRING_ROOT (keyring.h) */
	int steer_map_fd;		/* attls_steer */
	int hop_map_fd;			/* attls_hop */
	int out_map_fd;			/* attls_out; 0 or negative: no outbound
					 * listeners (Direction Outbound rules
					 * then fail their connect()s) */
	int secmap_map_fd;		/* attls_secmap; 0 or negative: SecondaryMap
					 * primaries are refused (RC 5140) */
	struct zert *zert;		/* may be NULL */
	unsigned nthreads;		/* event loops; 0 = one per CPU */
	size_t bufsize;			/* per direction per connection; 0 = default */
	unsigned max_conns;		/* concurrent protected connections; 0 =
					 * engine_limits_default() */
};

/* Create the engine and its listening sockets (not yet serving).
 * Returns 0 or a negative errno. */
int engine_create(const struct engine_cfg *cfg, struct engine **out);

/*
 * Build one SSL_CTX per environment of `img` and make it the policy for
 * new connections tagged `generation`.  Connections already open keep the
 * environment they started with.  On failure nothing changes and a message
 * naming the environment, key ring and cause has been logged; returns a
 * negative errno.  `img` is copied.
 */
int engine_install_policy(struct engine *e, const struct attls_map_image *img,
			  uint64_t generation);

/* Listening socket for ATTLS_AF_INET / ATTLS_AF_INET6, for the SOCKMAP;
 * -EAFNOSUPPORT when there is none of that family (IPv6 disabled). */
int engine_listener_fd(const struct engine *e, int family);

/*
 * Outbound listening socket for ATTLS_AF_INET / ATTLS_AF_INET6, for the
 * SOCKMAP slots ATTLS_ENGINE_OUT_V4/_V6 (dp_set_engine_listener() also
 * publishes its address in attls_engine_addr); -EAFNOSUPPORT when there is
 * none of that family (IPv6 disabled, or no engine_cfg.out_map_fd).
 */
int engine_out_listener_fd(const struct engine *e, int family);

/* Start the event-loop threads.  Returns 0 or a negative errno. */
int engine_start(struct engine *e);

/* Stop serving: close listeners, reset every open connection, join threads. */
void engine_stop(struct engine *e);

/*
 * TTLSConnState of a connection, as netstat TTLS and SIOCTTLSCTL number
 * them: not secure (no TLS byte exchanged yet), handshake in progress,
 * secure.
 */
enum engine_conn_state {
	ENGINE_CONN_NOT_SECURE = 1,
	ENGINE_CONN_HANDSHAKE,
	ENGINE_CONN_SECURE,
	ENGINE_CONN_APPL_CONTROL,	/* ApplicationControlled, cleartext */
};

/* "not secure" / "handshake in progress" / "secure" / "Appl Control". */
const char *engine_conn_state_name(int state);

/* One open connection as attlsctl conn shows it. */
struct engine_conn_info {
	struct zert_conn z;	/* identity, rule and action names, TLS */
	uint64_t generation;	/* policy generation it was mapped with */
	int env_index;		/* its environment in that generation */
	unsigned trace;		/* its Trace bits now */
	int state;		/* enum engine_conn_state */
	uint32_t grp_id;	/* GRPID of its messages */
};

/*
 * A snapshot of every open connection (attlsctl conn): each engine thread
 * copies its own connections when asked, so the data path takes no lock.
 * *out (malloc'ed, free() it) gets *n records; z.tls.protocol is empty
 * until the handshake is complete.  0, -ETIMEDOUT, -ENOMEM or -ESHUTDOWN.
 */
int engine_conn_list(struct engine *e, struct engine_conn_info **out,
		     size_t *n);

/*
 * Set the Trace bits of the open connection conn_id to `level`
 * (attlsctl trace): its next message already follows them.  *old gets the
 * level it had.  0, -ENOENT (no such connection), -ETIMEDOUT or
 * -ESHUTDOWN.
 */
int engine_conn_trace(struct engine *e, uint64_t conn_id, unsigned level,
		      unsigned *old);

/*
 * A copy of environment env_index of policy generation `generation`, as
 * connections mapped with it use it (attlsctl conn --detail).  0, or
 * -ENOENT when that generation is gone.
 */
int engine_env_cfg(struct engine *e, uint64_t generation, int env_index,
		   struct attls_env_cfg *out);

/*
 * What the engine carries and what happened to its connections, at its
 * limits included (attlsctl status): counters summed over its threads.
 */
struct engine_stats {
	uint64_t max_conns;		/* global limit */
	uint64_t live_conns;		/* open protected connections */
	uint64_t bufsize;		/* relay buffer per direction, bytes */
	uint64_t no_steer;		/* RC 5103 */
	uint64_t failed;		/* ended with a non-zero RC */
	uint64_t refused_global;	/* RC 5131: global limit reached */
	uint64_t refused_rule;		/* RC 5132: MaxConnections reached */
	uint64_t handshake_timeouts;	/* RC 5101 */
	uint64_t idle_timeouts;		/* RC 5133 */
	uint64_t accepted;		/* connections taken by the engine */
	uint64_t mapped;		/* ... that were given their rule */
	uint64_t refused;		/* ... that were not (no steering entry,
					 * policy generation gone) */
	uint64_t hs_ok;			/* handshakes completed */
	uint64_t hs_failed;		/* ended with an RC before secure */
	uint64_t failed_secure;		/* ended with an RC after secure */
	uint64_t hs_failed_rc[ATTLS_RC_MAX_CODES];	/* by attls_rc_index() */
	uint64_t failed_secure_rc[ATTLS_RC_MAX_CODES];
	/* ApplicationProtocol FTP (docs/ftp.md) */
	uint64_t ftp_sessions;		/* control connections with the helper */
	uint64_t ftp_auth_tls;		/* ... secured by AUTH TLS */
	uint64_t ftp_refused;		/* commands refused before AUTH (5152) */
	uint64_t ftp_closed;		/* control connections ended (5153) */
};
void engine_stats(struct engine *e, struct engine_stats *out);

/*
 * An application control request (libattls, attlsd's appctl.c), already
 * checked and with its socket identified: the inbound engine connection
 * id from the socket's attls_appsk storage (0 if none) and the socket's
 * cookie (SO_COOKIE; outbound connections are known by it).
 */
struct engine_appctl_req {
	uint64_t conn_id;
	uint64_t cookie;
	uint32_t req;			/* ATTLS_REQ_* (lib/attls.h) */
	uint32_t flags;			/* ATTLS_WF_* */
	uint32_t cert_max;		/* largest certificate to return */
};

/*
 * Hand request r to the engine thread that owns its connection.  The
 * reply (struct attls_wire_rep, then the certificate) goes to reply_fd
 * from that thread, at once or when the handshake or stop ends; reply_fd
 * is taken over (closed after the reply) when 0 is returned.  A socket no
 * engine connection has gets the "no policy" answer.  0, -ENOMEM or
 * -ESHUTDOWN (the engine is stopping; reply_fd stays the caller's).
 */
int engine_appctl_submit(struct engine *e, const struct engine_appctl_req *r,
			 int reply_fd);

/*
 * The default global connection limit for relay buffers of `bufsize`:
 * the smaller of what RLIMIT_NOFILE allows (two descriptors per
 * connection, a reserve kept) and what a quarter of physical memory
 * holds; both are returned too.
 */
unsigned engine_limits_default(size_t bufsize, unsigned *by_fd, unsigned *by_mem);

void engine_destroy(struct engine *e);

#endif /* ATTLS_ENGINE_H */
