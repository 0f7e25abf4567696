// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_conn.c - one protected connection: steering lookup, the hop to
 * the application, the TLS server handshake and the relay.
 *
 *   partner ==TLS== wire socket [engine] hop socket --cleartext-- application
 *
 * Inbound, the wire socket is the real connection (accepted from the
 * engine's listener after sk_lookup steered its SYN there); the hop socket
 * is the engine's own loopback connection to the application's listener,
 * from an endpoint registered in attls_hop first, so sk_lookup lets it
 * through and the application's getpeername()/accept() show the real
 * client.
 *
 * Outbound, the hop socket is the application's own connect(), which
 * cgroup/connect4/6 sent to the engine's outbound listener; attls_out
 * (keyed by the application's local endpoint) holds the original
 * destination, and the wire socket is the engine's connection to it.  The
 * engine writes the wire's local address back into attls_out as soon as
 * the kernel has chosen it (connect() in progress), so getsockname()
 * shows the application the address the partner sees.  A destination that
 * refuses, is unreachable or does not answer within HandshakeTimeout gets
 * the application reset (RC 5118): connect() itself has already succeeded
 * when the engine learns of the failure.
 *
 * The TLS role follows HandshakeRole, not the direction: a Client
 * environment sends SNI, verifies the server's certificate against the
 * key ring's CA certificates (and HostReferenceIdDNS), and sends our
 * certificate when asked.
 *
 * Both sockets are edge-triggered in the thread's epoll set.  Every event
 * runs conn_pump(), which repeats all four transfers (hop -> a2w -> TLS ->
 * wire, wire -> TLS -> w2a -> hop) until none makes progress.  A transfer
 * stops only on EAGAIN (a new edge will come) or on a buffer limit (which
 * only the pump itself changes), so no wake-up is ever lost.  Buffers are
 * bounded (engine_cfg.bufsize per direction): a side is not read while the
 * other side's buffer is full, which is the back-pressure.
 *
 * Close, in order and per direction:
 *   app EOF  -> everything buffered through SSL_write -> close_notify ->
 *               shutdown(wire, SHUT_WR); wire -> app keeps flowing.
 *   close_notify from the peer -> buffered cleartext to the application ->
 *               shutdown(hop, SHUT_WR); app -> wire keeps flowing.  TLS
 *               allows writing after receiving close_notify, and OpenSSL
 *               3.0 lets SSL_write() continue after SSL_ERROR_ZERO_RETURN
 *               (only SSL_SENT_SHUTDOWN blocks writes), in TLS 1.3 and 1.2.
 *   both directions done -> close both sockets.
 *   peer FIN without close_notify (truncation) -> what was decrypted goes
 *               to the application, then the application is reset so it
 *               cannot mistake the truncated stream for a complete one.
 *   reset or error on one side -> reset on the other.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../bpf/attls_tuple.h"
#include "../policy/policy.h"
#include "addr.h"
#include "engine_int.h"
#include "log.h"
#include "rbuf.h"
#include "rc.h"
#include "tlsinfo.h"
#include "trace.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* A TLS record starts with content type 22 (handshake) for a ClientHello. */
#define TLS_CT_HANDSHAKE	0x16

struct conn {
	LIST_ENTRY(conn) link;		/* t->conns, then t->dead */
	LIST_ENTRY(conn) tlink;		/* t->timed */
	struct engine_thread *t;
	struct ep_ref ep_wire;
	struct ep_ref ep_hop;
	uint64_t id;
	uint64_t start_ns;		/* CLOCK_REALTIME */
	uint64_t deadline_ns;		/* monotonic, while in `timed` */
	int wire_fd;
	int hop_fd;
	SSL *ssl;
	struct engine_gen *gen;		/* referenced */
	const struct attls_action *act;	/* in gen */
	const struct attls_env_cfg *env;	/* in gen */
	struct attls_flow wire;
	struct attls_endpoint hop_key;
	struct attls_endpoint out_key;	/* outbound: the attls_out entry */
	uint64_t out_cookie;		/* its application socket cookie */
	struct secmap_ref *secmap;	/* SecondaryMap primary: its entry */
	struct ftp_conn *ftp;		/* ApplicationProtocol FTP helper */
	struct attls_owner owner;
	uint32_t rule_id;
	struct rbuf a2w;		/* application -> wire, cleartext */
	struct rbuf w2a;		/* wire -> application, cleartext */
	uint64_t bytes_in;		/* cleartext from the partner */
	uint64_t bytes_out;		/* cleartext to the partner */
	struct zert_tls *tls;		/* with zERT, after the handshake */
	SSL_SESSION *sess_pending;	/* client: new session of a handshake
					 * whose checks are not all done */
	unsigned tls_sessions;		/* handshakes completed (zERT) */
	struct rule_slot *slot;		/* MaxConnections counter, or NULL */
	uint64_t idle_ns;		/* IdleTimeout of the rule; 0 = none */
	uint64_t active_ns;		/* monotonic: last byte moved (with idle_ns) */
	uint64_t rekey_ns;		/* ResetCipherTimer (TLS 1.3); 0 = none */
	uint64_t rekey_at;		/* monotonic: the next KeyUpdate */
	int hs_want;			/* SSL_ERROR_WANT_* of the last */
	int rd_want;			/* handshake / SSL_read / SSL_write */
	int wr_want;			/* or SSL_shutdown call, or 0 */
	unsigned in_timed:1;
	unsigned dead:1;
	unsigned hop_registered:1;
	unsigned peeked:1;		/* first wire byte checked */
	unsigned hs_done:1;
	unsigned hop_connecting:1;
	unsigned hop_up:1;
	unsigned wire_rd:1;		/* readiness since the last EAGAIN */
	unsigned wire_wr:1;
	unsigned hop_rd:1;
	unsigned hop_wr:1;
	unsigned app_eof:1;		/* read() == 0 on the hop */
	unsigned notify_sent:1;		/* our close_notify is out */
	unsigned wire_shut:1;		/* shutdown(wire, SHUT_WR) done */
	unsigned peer_eof:1;		/* partner's close_notify received */
	unsigned hop_shut:1;		/* shutdown(hop, SHUT_WR) done */
	unsigned truncated:1;		/* partner FIN without close_notify */
	unsigned lingering:1;		/* reset waits for the hop queue */
	unsigned outbound:1;		/* the application connect()ed */
	unsigned out_registered:1;	/* out_key is ours to delete */
	unsigned wire_connecting:1;	/* outbound connect() in progress */
	unsigned tls_client:1;		/* HandshakeRole Client */
	unsigned cert_requested:1;	/* client: the server asked for ours */
	unsigned secondary:1;		/* SecondaryMap: the primary's rule */
	unsigned hs_started:1;		/* the first handshake call was made */
	/* Application control (conn_tls_start() in engine_int.h). */
	unsigned appctl:1;		/* ApplicationControlled On */
	unsigned clear:1;		/* cleartext relay, no TLS on the wire */
	unsigned starting:1;		/* conn_tls_start(): xfer_left to flush */
	unsigned stopping:1;		/* conn_tls_stop(): xfer_left, then
					 * close_notify, then the partner's */
	unsigned wire_hold:1;		/* clear: a TLS record waits unread */
	unsigned allow_hstimeout:1;	/* no ClientHello in time: stay clear */
	unsigned peer_notified:1;	/* partner's close_notify, no stop yet */
	size_t xfer_left;		/* a2w bytes still for the old mode */
	conn_tls_cb tls_cb;		/* pending start/stop completion */
	void *tls_arg;
	unsigned admitted:1;		/* counted by engine_limit_admit() */
	int fail_rc;			/* set by a callback: conn_set_fail() */
	char fail_cause[192];
	char peer_user[33];		/* SAFCheck: the client's local user */
	char user[33];
	char desc[352];			/* "CONNID: ... RULE: r GRPID: .. ENVID: .." */
	struct trace_ctx tr;		/* Trace bits and desc for messages */
};

static void conn_to_clear(struct conn *c);
static int conn_client_setup(struct conn *c);
static void conn_client_sess_keep(struct conn *c);

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- messages -------------------------------------------------------- */

/*
 * The identification every message of the connection carries, in the
 * order of EZD1286I/EZD1287I; GRPID and ENVID are 0 until the rule and
 * environment are known.
 */
static void conn_set_desc(struct conn *c)
{
	char la[ATTLS_ADDRSTRLEN], ra[ATTLS_ADDRSTRLEN];
	uint32_t grp = c->act && c->gen && c->rule_id < c->gen->nactions ?
		       c->gen->grp_ids[c->rule_id] : 0;

	snprintf(c->desc, sizeof(c->desc),
		 "CONNID: %016llx LOCAL: %s..%u REMOTE: %s..%u JOBNAME: %.16s "
		 "USERID: %s RULE: %s GRPID: %08x ENVID: %08x",
		 (unsigned long long)c->id,
		 attls_addr_str(c->wire.laddr, la, sizeof(la)), c->wire.lport,
		 attls_addr_str(c->wire.raddr, ra, sizeof(ra)), c->wire.rport,
		 (const char *)c->owner.comm, c->user,
		 c->act ? c->act->rule_name : "?", grp,
		 c->act && c->act->env_index >= 0 ? c->act->env_index + 1 : 0);
	c->tr.desc = c->desc;
}

/* EZD1286I-style error line (Trace bits 1, 2): RC, event, meaning, cause. */
#define conn_err(c, rc, event, ...)	trace_err(&(c)->tr, rc, event, __VA_ARGS__)
/* EZD1283I-style event line (Trace bit 8), also for expected ends. */
#define conn_event_log(c, rc, event, ...) \
	trace_event(&(c)->tr, rc, event, __VA_ARGS__)

const struct trace_ctx *conn_trace(const struct conn *c)
{
	return &c->tr;
}

/* ---- life cycle ------------------------------------------------------ */

/* Complete a pending conn_tls_start()/conn_tls_stop() with rc. */
static void conn_tls_notify(struct conn *c, int rc)
{
	conn_tls_cb cb = c->tls_cb;

	if (!cb)
		return;
	c->tls_cb = NULL;
	cb(c, rc, c->tls_arg);
}

static void conn_timed_del(struct conn *c)
{
	if (c->in_timed) {
		LIST_REMOVE(c, tlink);
		c->in_timed = 0;
	}
}

static void conn_timed_add(struct conn *c, uint64_t deadline)
{
	c->deadline_ns = deadline;
	if (!c->in_timed) {
		LIST_INSERT_HEAD(&c->t->timed, c, tlink);
		c->in_timed = 1;
	}
	engine_timer_arm(c->t);
}

static void conn_zert_fill(const struct conn *c, struct zert_conn *z)
{
	memset(z, 0, sizeof(*z));
	z->conn_id = c->id;
	z->start_ns = c->start_ns;
	z->wire = c->wire;
	z->direction = c->outbound ? ATTLS_RF_OUTBOUND : ATTLS_RF_INBOUND;
	z->owner = c->owner;
	if (c->act) {
		memcpy(z->rule, c->act->rule_name, sizeof(z->rule));
		memcpy(z->group, c->act->group_name, sizeof(z->group));
		memcpy(z->env, c->act->env_name, sizeof(z->env));
		memcpy(z->conn, c->act->conn_name, sizeof(z->conn));
	}
	if (c->tls)
		z->tls = *c->tls;
	z->bytes_in = c->bytes_in;
	z->bytes_out = c->bytes_out;
	z->tls_sessions = c->tls_sessions;
	z->tls_active = c->tls_sessions && c->hs_done && !c->clear;
	z->appl_ctl = c->appctl;
	if (c->appctl)
		z->ctl_state = c->clear && !c->starting ? 1 :
			       c->hs_done && !c->stopping && !c->clear ? 3 : 2;
}

/*
 * A zERT record of c through `report` (zert_engine_init, _stop or _term);
 * `end`: the connection has ended with return code rc.  Without memory the
 * record is lost (the collector has nothing to count it with).
 */
static void conn_zert(const struct conn *c,
		      void (*report)(struct zert *, const struct zert_conn *),
		      int end, int rc)
{
	struct zert *zt = c->t->e->zert;
	struct zert_conn *z;

	if (!zt)
		return;
	z = malloc(sizeof(*z));
	if (!z)
		return;
	conn_zert_fill(c, z);
	if (end) {
		z->end_ns = realtime_ns();
		z->rc = rc;
	}
	report(zt, z);
	free(z);
}

/*
 * Outbound: delete the application's attls_out entry, but only if it is
 * still ours (same socket cookie): its port may already carry a new
 * connection with an entry of its own.
 */
static void conn_out_forget(struct conn *c)
{
	struct engine *e = c->t->e;
	struct attls_out_val v;

	c->out_registered = 0;
	if (bpf_map_lookup_elem(e->out_fd, &c->out_key, &v) ||
	    v.cookie != c->out_cookie)
		return;
	if (bpf_map_delete_elem(e->out_fd, &c->out_key) && errno != ENOENT)
		log_warn("%s: deleting its attls_out entry", c->desc);
}

/*
 * End the connection: zERT term record, hop entry removed (before the hop
 * socket is closed, so its port cannot be reused and re-registered by
 * another connection in between), sockets closed, each with a reset or
 * gracefully.  The memory is freed by conn_reap() after the event batch,
 * which may still hold events for this connection.
 */
/* Relaxed: only this thread writes its counters (engine_int.h). */
static void ctr_inc(_Atomic uint64_t *ctr)
{
	atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* A connection ending with rc, before or after it was secure. */
static void conn_count_end(struct conn *c, int rc)
{
	struct engine_counters *ctr = &c->t->ctr;
	int slot;

	if (rc == ATTLS_RC_OK || rc == ATTLS_RC_ENGINE_STOP)
		return;
	slot = attls_rc_index(rc);
	if (c->hs_done) {
		ctr_inc(&ctr->failed_secure);
		if (slot >= 0)
			ctr_inc(&ctr->failed_secure_rc[slot]);
	} else {
		ctr_inc(&ctr->hs_failed);
		if (slot >= 0)
			ctr_inc(&ctr->hs_failed_rc[slot]);
	}
}

void conn_count_refused(struct engine_thread *t, int rc)
{
	int slot = attls_rc_index(rc);

	ctr_inc(&t->ctr.refused);
	ctr_inc(&t->ctr.hs_failed);
	if (slot >= 0)
		ctr_inc(&t->ctr.hs_failed_rc[slot]);
}

static void conn_close(struct conn *c, int wire_rst, int hop_rst, int rc)
{
	struct engine *e = c->t->e;

	if (c->dead)
		return;
	c->dead = 1;
	conn_count_end(c, rc);
	if (trace_on(&c->tr, ATTLS_TRACE_EVENT)) {
		trace_start(&c->tr, "Connection Close", "%s",
			    wire_rst ? "reset" : "orderly");
		trace_event(&c->tr, rc, "Connection Close", "%llu bytes in, %llu "
			    "bytes out, %s", (unsigned long long)c->bytes_in,
			    (unsigned long long)c->bytes_out,
			    c->hs_done ? "was secure" : "never secure");
	}
	conn_timed_del(c);
	LIST_REMOVE(c, link);
	conn_tls_notify(c, rc ? rc : ATTLS_RC_PEER_CLOSED);
	conn_zert(c, zert_engine_term, 1, rc);
	if (c->hop_registered && bpf_map_delete_elem(e->hop_fd, &c->hop_key))
		log_warn("%s: deleting its attls_hop entry", c->desc);
	if (c->out_registered)
		conn_out_forget(c);
	engine_secmap_del(e, c->secmap);
	c->secmap = NULL;
	if (!c->outbound)
		engine_tomb_add(c->t, &c->wire);
	/* Both sockets have SO_LINGER {1, 0} (fail closed): an orderly close
	 * restores the normal linger first. */
	if (c->hop_fd >= 0) {
		if (hop_rst)
			engine_rst_close(c->hop_fd);
		else
			engine_close_graceful(c->hop_fd);
	}
	if (c->wire_fd >= 0) {
		if (wire_rst)
			engine_rst_close(c->wire_fd);
		else
			engine_close_graceful(c->wire_fd);
	}
	c->hop_fd = c->wire_fd = -1;
	SSL_free(c->ssl);
	c->ssl = NULL;
	SSL_SESSION_free(c->sess_pending);
	c->sess_pending = NULL;
	rbuf_free(&c->a2w);
	rbuf_free(&c->w2a);
	ftp_conn_free(c->ftp);
	c->ftp = NULL;
	free(c->tls);
	c->tls = NULL;
	if (c->admitted)
		engine_limit_release(e, c->slot);
	c->admitted = 0;
	c->slot = NULL;
	engine_gen_put(e, c->gen);
	c->gen = NULL;
	c->act = NULL;
	c->env = NULL;
	if (rc && rc != ATTLS_RC_ENGINE_STOP)
		atomic_fetch_add(&e->n_failed, 1);
	LIST_INSERT_HEAD(&c->t->dead, c, link);
}

static int conn_state(const struct conn *c)
{
	if (c->appctl) {
		if (c->clear && !c->starting)
			return ENGINE_CONN_APPL_CONTROL;
		return c->hs_done && !c->stopping ? ENGINE_CONN_SECURE :
		       ENGINE_CONN_HANDSHAKE;
	}
	if (c->hs_done)
		return ENGINE_CONN_SECURE;
	return c->hs_started ? ENGINE_CONN_HANDSHAKE : ENGINE_CONN_NOT_SECURE;
}

static void conn_info_fill(const struct conn *c, struct engine_conn_info *ci)
{
	conn_zert_fill(c, &ci->z);
	ci->generation = c->gen ? c->gen->generation : 0;
	ci->env_index = c->act ? c->act->env_index : -1;
	ci->trace = c->tr.level;
	ci->state = conn_state(c);
	ci->grp_id = c->act && c->rule_id < c->gen->nactions ?
		     c->gen->grp_ids[c->rule_id] : 0;
	/* The TLS details zERT keeps only with zERT on: a secure
	 * connection shows them all the same. */
	if (c->hs_done && !c->tls && c->ssl)
		tlsinfo_fill(c->ssl, !c->tls_client, c->tls_client ?
			     c->cert_requested : 1, &ci->z.tls);
}

void conn_snapshot_serve(struct engine_thread *t)
{
	struct engine_conn_info *snap = NULL;
	struct conn *c;
	size_t n = 0, i = 0;

	pthread_mutex_lock(&t->snap_lock);
	if (!t->snap_pending)
		goto unlock;
	LIST_FOREACH(c, &t->conns, link)
		n++;
	snap = n ? calloc(n, sizeof(*snap)) : NULL;
	if (snap) {
		LIST_FOREACH(c, &t->conns, link)
			conn_info_fill(c, &snap[i++]);
	}
	t->snap = snap;
	t->nsnap = snap ? n : 0;
	t->snap_pending = 0;
	pthread_cond_broadcast(&t->snap_cond);
unlock:
	pthread_mutex_unlock(&t->snap_lock);
}

/*
 * Turn on or off the data trace (bit 32) of c's SSL: the message callback
 * costs a call per protocol message, so it is set only while wanted.
 */
static void conn_data_trace(struct conn *c)
{
	if (!c->ssl)
		return;
	if (trace_on(&c->tr, ATTLS_TRACE_DATA)) {
		SSL_set_msg_callback(c->ssl, trace_msg_cb);
		SSL_set_msg_callback_arg(c->ssl, &c->tr);
	} else {
		SSL_set_msg_callback(c->ssl, NULL);
	}
}

void conn_trace_serve(struct engine_thread *t)
{
	struct conn *c;

	pthread_mutex_lock(&t->snap_lock);
	if (!t->trace_pending)
		goto unlock;
	LIST_FOREACH(c, &t->conns, link) {
		if (c->id != t->trace_id)
			continue;
		t->trace_old = c->tr.level;
		t->trace_result = 0;
		c->tr.level = t->trace_level;
		conn_data_trace(c);
		trace_changed(&c->tr, t->trace_old);
		break;
	}
	t->trace_pending = 0;
	pthread_cond_broadcast(&t->snap_cond);
unlock:
	pthread_mutex_unlock(&t->snap_lock);
}

void conn_reap(struct engine_thread *t)
{
	struct conn *c;

	while ((c = LIST_FIRST(&t->dead))) {
		LIST_REMOVE(c, link);
		free(c);
	}
}

/* A failed SSL call: log the mapped return code and drained errors, end. */
static void conn_ssl_fail(struct conn *c, const char *event, int ssl_err,
			  int sys_errno)
{
	char cause[512];
	int rc;

	rc = attls_rc_from_ssl(c->ssl, ssl_err, sys_errno, c->hs_done);
	attls_ssl_cause(c->ssl, ssl_err, sys_errno, cause, sizeof(cause));
	if (c->fail_rc) {
		/* A callback of ours refused (SNI, SAFCheck): its reason. */
		rc = c->fail_rc;
		conn_err(c, rc, event, "%s (%s)", c->fail_cause, cause);
	} else if (rc == ATTLS_RC_PEER_RESET || rc == ATTLS_RC_PEER_CLOSED) {
		conn_event_log(c, rc, event, "%s", cause);
	} else {
		conn_err(c, rc, event, "%s", cause);
	}
	attls_ssl_drain(c->desc, event);
	/*
	 * A failed handshake closes the wire gracefully so the alert
	 * OpenSSL queued reaches the partner; anything else resets it.  The
	 * application is always reset: its connection did not complete.
	 */
	conn_close(c, c->hs_done || ssl_err != SSL_ERROR_SSL, 1, rc);
}

static void conn_peer_reset(struct conn *c, const char *event, int err)
{
	conn_event_log(c, ATTLS_RC_PEER_RESET, event, "%s", strerror(err));
	ERR_clear_error();
	conn_close(c, 1, 1, ATTLS_RC_PEER_RESET);
}

static void conn_app_reset(struct conn *c, int err)
{
	conn_event_log(c, ATTLS_RC_APPL_RESET, "Application Data", "%s",
		       strerror(err));
	conn_close(c, 1, 1, ATTLS_RC_APPL_RESET);
}

/*
 * The per-connection informational lines (ATTLS1281I map, the handshake
 * result) follow the connection's AT-TLS Trace, as on z/OS: Trace bit 4
 * (Info) or 8 (Event) shows them; the default Trace 2 (errors to syslog)
 * does not.  Writing both lines for every connection (stderr and syslog)
 * took 9 of the engine's 74 syscalls per full handshake
 * (docs/benchmarks.md).
 */
static int conn_trace_info(const struct conn *c);

static int conn_trace_info(const struct conn *c)
{
	return trace_on(&c->tr, ATTLS_TRACE_INFO | ATTLS_TRACE_EVENT);
}

static void conn_established(struct conn *c)
{
	struct engine *e = c->t->e;
	struct zert_tls info, *tls = &info;

	c->tls_sessions++;
	if (!e->zert && !conn_trace_info(c))
		return;
	if (e->zert) {
		free(c->tls);	/* application control: a later handshake */
		c->tls = malloc(sizeof(*c->tls));
		if (c->tls)
			tls = c->tls;
	}
	tlsinfo_fill(c->ssl, !c->tls_client, c->tls_client ? c->cert_requested : 1,
		     tls);
	snprintf(tls->peer_user, sizeof(tls->peer_user), "%s", c->peer_user);
	if (conn_trace_info(c))
		trace_info(&c->tr, "ATTLS1283I TTLS Event RC: 0 Initial Handshake "
			   "%s: %s %s %s%s", c->desc, tls->protocol, tls->cipher_iana,
			   tls->group[0] ? tls->group : "-",
			   tls->resumed ? " resumed" : "");
	conn_zert(c, zert_engine_init, 0, 0);
}

/* ---- limits (engine_limits.c) ---------------------------------------- */

/*
 * The global limit and the rule's MaxConnections: a connection over
 * either is reset before a byte is relayed (never passed in cleartext),
 * logged and counted.  0, or -1 after closing it.
 */
static int conn_admit(struct conn *c)
{
	unsigned limit = 0;
	int rc;

	rc = engine_limit_admit(c->t, c->gen, c->rule_id, &c->slot, &limit);
	if (rc == ATTLS_RC_OK) {
		c->admitted = 1;
		return 0;
	}
	if (rc == ATTLS_RC_CONN_LIMIT)
		conn_err(c, rc, "Connection Init", "the engine already carries "
			 "%u protected connections, its limit; connection reset "
			 "(fix: raise attlsd --max-connections)", limit);
	else
		conn_err(c, rc, "Connection Init", "rule %s already carries "
			 "MaxConnections %u connections; connection reset (fix: "
			 "raise MaxConnections in its advanced parms)",
			 c->act->rule_name, limit);
	conn_close(c, 1, 1, rc);
	return -1;
}

/* IdleTimeout: from the end of the handshake, each byte moved restarts it. */
static void conn_idle_arm(struct conn *c)
{
	if (!c->act || !c->act->idle_timeout)
		return;
	c->idle_ns = (uint64_t)c->act->idle_timeout * 1000000000ull;
	c->active_ns = engine_now_ns();
	conn_timed_add(c, c->active_ns + c->idle_ns);
}

/*
 * ResetCipherTimer: a TLS 1.3 KeyUpdate asking the partner to update too,
 * every so many minutes of a secure connection.  TLS 1.2 would need a
 * renegotiation, which attls never does (docs/policy.md).
 */
static void conn_rekey_arm(struct conn *c)
{
	c->rekey_ns = 0;
	if (!c->env->reset_cipher_min)
		return;
	if (SSL_version(c->ssl) != TLS1_3_VERSION) {
		if (trace_on(&c->tr, ATTLS_TRACE_FLOW))
			trace_flow(&c->tr, 0, "Set", "RESET CIPHER TIMER", "%u min: "
				   "not for %s (no renegotiation)",
				   c->env->reset_cipher_min, SSL_get_version(c->ssl));
		return;
	}
	c->rekey_ns = (uint64_t)c->env->reset_cipher_min * 60ull * 1000000000ull;
	c->rekey_at = engine_now_ns() + c->rekey_ns;
	conn_timed_add(c, c->rekey_at);
}

static void conn_rekey_check(struct conn *c, uint64_t now)
{
	int err;

	if (now < c->rekey_at)
		return;
	c->rekey_at = now + c->rekey_ns;
	/* A failed write fails the connection on its next transfer, with
	 * that transfer's RC. */
	err = conn_tls_post_hs(c, CONN_KEY_UPDATE);
	conn_event_log(c, ATTLS_RC_OK, "Reset Cipher", "ResetCipherTimer %u min: "
		       "key update %s%s", c->env->reset_cipher_min,
		       err ? "not sent: " : "sent", err ? strerror(-err) : "");
}

/*
 * An idle connection whose IdleTimeout expired: close_notify to the
 * partner, then both sides closed in order (FIN).  If data is still
 * queued (a side that stopped reading), an orderly close would pass a
 * truncated stream off as complete: both sides are reset instead.
 */
static void conn_idle_check(struct conn *c, uint64_t now)
{
	int wq = 0, hq = 0;

	if (now - c->active_ns < c->idle_ns)
		return;
	engine_tstat_inc(&c->t->lim.idle_closed);
	if (c->hop_up && ioctl(c->hop_fd, SIOCOUTQ, &hq))
		hq = 0;
	if (ioctl(c->wire_fd, SIOCOUTQ, &wq))
		wq = 0;
	if (c->a2w.len || c->w2a.len || wq > 0 || hq > 0) {
		conn_err(c, ATTLS_RC_IDLE_TIMEOUT, "Connection Close",
			 "no data moved for IdleTimeout %u s while %zu bytes "
			 "waited for a side that does not read; both sides reset",
			 c->act->idle_timeout, c->a2w.len + c->w2a.len +
			 (size_t)wq + (size_t)hq);
		conn_close(c, 1, 1, ATTLS_RC_IDLE_TIMEOUT);
		return;
	}
	conn_event_log(c, ATTLS_RC_IDLE_TIMEOUT, "Connection Close",
		       "no data moved for IdleTimeout %u s; close_notify sent, "
		       "both sides closed", c->act->idle_timeout);
	if (!c->notify_sent) {
		ERR_clear_error();
		if (SSL_shutdown(c->ssl) < 0)
			attls_ssl_drain(c->desc, "SSL_shutdown (IdleTimeout)");
	}
	conn_close(c, 0, 0, ATTLS_RC_IDLE_TIMEOUT);
}

/* ---- the four transfers ---------------------------------------------- */

/* Can an SSL call that last returned `want` make progress now? */
static int ssl_ready(const struct conn *c, int want)
{
	if (want == SSL_ERROR_WANT_READ)
		return c->wire_rd;
	if (want == SSL_ERROR_WANT_WRITE)
		return c->wire_wr;
	return 1;
}

/* Remember what an SSL call waits for; 1 if it was a plain wait. */
static int ssl_wait(struct conn *c, int ssl_err, int *want)
{
	if (ssl_err == SSL_ERROR_WANT_READ) {
		c->wire_rd = 0;
	} else if (ssl_err == SSL_ERROR_WANT_WRITE) {
		c->wire_wr = 0;
	} else {
		return 0;
	}
	*want = ssl_err;
	return 1;
}

/* Outbound: the connection to the original destination is up, or not. */
static int conn_wire_connected(struct conn *c)
{
	char ra[ATTLS_ADDRSTRLEN];
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(c->wire_fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		soerr = errno;
	if (soerr) {
		conn_err(c, ATTLS_RC_PARTNER_CONNECT, "Connection Init",
			 "connect to %s..%u: %s; application reset",
			 attls_addr_str(c->wire.raddr, ra, sizeof(ra)),
			 c->wire.rport, strerror(soerr));
		conn_close(c, 1, 1, ATTLS_RC_PARTNER_CONNECT);
		return 0;
	}
	c->wire_connecting = 0;
	c->wire_rd = c->wire_wr = 1;
	/* Without HandshakeTimeout only the connect had a deadline. */
	if (!c->env->handshake_timeout || c->clear)
		conn_timed_del(c);
	return 1;
}

static int conn_hop_connected(struct conn *c)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(c->hop_fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		soerr = errno;
	if (soerr) {
		conn_err(c, ATTLS_RC_APPL_CONNECT, "Connection Init",
			 "connect to the application listener: %s",
			 strerror(soerr));
		conn_close(c, 1, 1, ATTLS_RC_APPL_CONNECT);
		return 0;
	}
	c->hop_connecting = 0;
	c->hop_up = 1;
	c->hop_rd = c->hop_wr = 1;
	return 1;
}

/*
 * The first byte tells a TLS ClientHello (record type 22, or an SSLv2-
 * format hello with the high bit set, which OpenSSL judges itself) from
 * cleartext sent to a TLS port: RC 5003 without feeding it to OpenSSL.
 */
static int conn_peek(struct conn *c)
{
	unsigned char b;
	ssize_t n;

	n = recv(c->wire_fd, &b, 1, MSG_PEEK);
	if (n < 0) {
		if (errno == EAGAIN)
			c->wire_rd = 0;
		else if (errno != EINTR)
			conn_peer_reset(c, "Initial Handshake", errno);
		return 0;
	}
	if (n == 0) {
		/* Port probes and health checks: not worth an error line. */
		conn_event_log(c, ATTLS_RC_PEER_CLOSED, "Initial Handshake",
			       "no data before end of file");
		conn_close(c, 0, 1, ATTLS_RC_PEER_CLOSED);
		return 0;
	}
	if (b != TLS_CT_HANDSHAKE && !(b & 0x80)) {
		conn_err(c, ATTLS_RC_NOT_TLS, "Initial Handshake",
			 "first byte 0x%02x is not a TLS handshake record "
			 "(cleartext sent to a TLS port?)", b);
		conn_close(c, 1, 1, ATTLS_RC_NOT_TLS);
		return 0;
	}
	c->peeked = 1;
	return 1;
}

/* The PeerMin*KeySize that applies to key pk (0: none), with the
 * parameter's name and the key's kind in *name, *kind. */
static unsigned peer_min_bits(const struct attls_env_cfg *env, EVP_PKEY *pk,
			      const char **name, const char **kind)
{
	switch (pk ? EVP_PKEY_get_base_id(pk) : EVP_PKEY_NONE) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		*name = "PeerMinRsaKeySize", *kind = "RSA";
		return env->peer_min_rsa;
	case EVP_PKEY_DSA:
		*name = "PeerMinDsaKeySize", *kind = "DSA";
		return env->peer_min_dsa;
	case EVP_PKEY_EC:
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		*name = "PeerMinECCKeySize", *kind = "ECC";
		return env->peer_min_ecc;
	case EVP_PKEY_DH:
	case EVP_PKEY_DHX:
		*name = "PeerMinDHKeySize", *kind = "DH";
		return env->peer_min_dh;
	default:
		return 0;
	}
}

/*
 * After the handshake: PeerMinDHKeySize for the partner's ephemeral
 * finite-field DH key (DHE key exchange, TLS 1.2 or an ffdhe group; ECDHE
 * keys are not DH keys).  0, or -1 when the connection was failed.
 */
static int conn_peer_dh_ok(struct conn *c)
{
	const char *name = "", *kind = "";
	EVP_PKEY *pk = NULL;
	unsigned min;
	int bits;

	if (!c->env->peer_min_dh || SSL_get_peer_tmp_key(c->ssl, &pk) != 1)
		return 0;
	min = peer_min_bits(c->env, pk, &name, &kind);
	bits = EVP_PKEY_get_bits(pk);
	EVP_PKEY_free(pk);
	if (!min || bits >= (int)min || strcmp(kind, "DH"))
		return 0;
	conn_err(c, ATTLS_RC_PEER_KEY_SMALL, "Initial Handshake",
		 "the partner's ephemeral %d-bit DH key is below %s %u", bits,
		 name, min);
	conn_close(c, 1, 1, ATTLS_RC_PEER_KEY_SMALL);
	return -1;
}

/*
 * Client with ClientHandshakeSNIMatch Required: the server must have
 * acknowledged our name (OpenSSL records an acknowledged name in the new
 * session).  0, or -1 after closing the connection.
 */
static int conn_sni_acked(struct conn *c)
{
	const SSL_SESSION *sess;

	if (!c->tls_client || c->env->client_sni == ATTLS_FN_OFF ||
	    c->env->client_sni_match != ATTLS_FN_REQUIRED ||
	    !c->env->client_sni_name[0] || SSL_session_reused(c->ssl))
		return 0;
	sess = SSL_get_session(c->ssl);
	if (sess && SSL_SESSION_get0_hostname(sess))
		return 0;
	conn_err(c, ATTLS_RC_SNI, "Initial Handshake",
		 "the server did not acknowledge the server name %s "
		 "(ClientHandshakeSNIMatch Required)", c->env->client_sni_name);
	conn_close(c, 1, 1, ATTLS_RC_SNI);
	return -1;
}

static const char *ssl_error_name(int se)
{
	switch (se) {
	case SSL_ERROR_NONE:
		return "SSL_ERROR_NONE";
	case SSL_ERROR_WANT_READ:
		return "SSL_ERROR_WANT_READ";
	case SSL_ERROR_WANT_WRITE:
		return "SSL_ERROR_WANT_WRITE";
	case SSL_ERROR_SYSCALL:
		return "SSL_ERROR_SYSCALL";
	case SSL_ERROR_SSL:
		return "SSL_ERROR_SSL";
	case SSL_ERROR_ZERO_RETURN:
		return "SSL_ERROR_ZERO_RETURN";
	}
	return "SSL_ERROR_other";
}

/* Flow (Trace 16): one SSL call on the connection and what it returned. */
static void conn_flow_call(const struct conn *c, const char *call, int r, int se)
{
	if (trace_on(&c->tr, ATTLS_TRACE_FLOW))
		trace_flow(&c->tr, r, "Call", call, "%s", ssl_error_name(se));
}

/* Flow of SSL_read_ex/SSL_write_ex/SSL_shutdown: result and bytes. */
static void conn_flow_io(const struct conn *c, const char *call, int r,
			 size_t n)
{
	if (trace_on(&c->tr, ATTLS_TRACE_FLOW))
		trace_flow(&c->tr, r, "Call", call, "%s, %zu bytes",
			   ssl_error_name(r == 1 ? SSL_ERROR_NONE :
					  SSL_get_error(c->ssl, r)), n);
}

/* Flow of a handshake step; once complete, what was negotiated. */
static void conn_flow_handshake(const struct conn *c, int r, int se)
{
	const char *group;
	long vr;

	if (!trace_on(&c->tr, ATTLS_TRACE_FLOW))
		return;
	conn_flow_call(c, c->tls_client ? "SSL_connect" : "SSL_accept", r, se);
	if (r != 1)
		return;
	group = SSL_group_to_name(c->ssl, SSL_get_negotiated_group(c->ssl));
	vr = SSL_get_verify_result(c->ssl);
	trace_flow(&c->tr, 0, "Get", "PROTOCOL", "%s", SSL_get_version(c->ssl));
	trace_flow(&c->tr, 0, "Get", "CIPHER", "%s", SSL_get_cipher_name(c->ssl));
	trace_flow(&c->tr, 0, "Get", "GROUP", "%s", group ? group : "-");
	trace_flow(&c->tr, 0, "Get", "SESSION REUSED", "%s",
		   SSL_session_reused(c->ssl) ? "yes" : "no");
	trace_flow(&c->tr, vr, "Get", "VERIFY RESULT", "%s",
		   X509_verify_cert_error_string(vr));
}

static int conn_handshake(struct conn *c)
{
	int r, sys, se;

	if (c->wire_connecting)
		return 0;
	if (!c->tls_client && !c->peeked) {
		if (!c->wire_rd || !conn_peek(c))
			return 0;
	}
	if (!ssl_ready(c, c->hs_want))
		return 0;
	if (!c->hs_started) {
		c->hs_started = 1;
		trace_start(&c->tr, "Initial Handshake", "%s",
			    c->tls_client ? "HS-Client" : "HS-Server");
	}
	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	sys = errno;
	if (r == 1) {
		c->hs_done = 1;
		c->hs_want = 0;
		ctr_inc(&c->t->ctr.hs_ok);
		conn_timed_del(c);
		conn_flow_handshake(c, r, 0);
		if (conn_sni_acked(c) || conn_peer_dh_ok(c))
			return 0;
		conn_client_sess_keep(c);
		conn_established(c);
		conn_idle_arm(c);
		conn_rekey_arm(c);
		conn_tls_notify(c, ATTLS_RC_OK);
		return 1;
	}
	se = SSL_get_error(c->ssl, r);
	conn_flow_handshake(c, r, se);
	if (!ssl_wait(c, se, &c->hs_want))
		conn_ssl_fail(c, "Initial Handshake", se, sys);
	return 0;
}

/*
 * Where the relay puts what it reads from the application (from_app) or
 * the partner (from_wire), and that buffer's capacity: the direction's
 * output buffer, or the FTP helper's input (engine_ftp.c).
 */
static struct rbuf *conn_from_app(struct conn *c, size_t *cap)
{
	if (c->ftp)
		return ftp_conn_server_in(c->ftp, cap);
	*cap = c->t->e->bufsize;
	return &c->a2w;
}

static struct rbuf *conn_from_wire(struct conn *c, size_t *cap)
{
	if (c->ftp)
		return ftp_conn_client_in(c->ftp, cap);
	*cap = c->t->e->bufsize;
	return &c->w2a;
}

/* Everything the application sent has reached a2w (it may send no more:
 * our close_notify/FIN may follow a2w). */
static int conn_app_drained(const struct conn *c)
{
	return !c->ftp || ftp_conn_server_drained(c->ftp);
}

/* Everything the partner sent has reached w2a. */
static int conn_wire_drained(const struct conn *c)
{
	return !c->ftp || ftp_conn_client_drained(c->ftp);
}

/*
 * readv() from fd into the free space of b.  The result of readv(), or
 * -2 when the buffer could not be allocated (the connection is closed).
 */
static ssize_t conn_readv(struct conn *c, int fd, struct rbuf *b, size_t cap)
{
	struct iovec iov[2];

	if (rbuf_ensure(b, cap)) {
		conn_err(c, ATTLS_RC_NOMEM, "Application Data", "%s",
			 strerror(ENOMEM));
		conn_close(c, 1, 1, ATTLS_RC_NOMEM);
		return -2;
	}
	return readv(fd, iov, rbuf_space_iov(b, cap, iov));
}

/* hop -> a2w (or the FTP helper) */
static int conn_app_read(struct conn *c)
{
	size_t cap;
	struct rbuf *b = conn_from_app(c, &cap);
	ssize_t n;

	if (!c->hop_up || c->app_eof || !c->hop_rd || b->len == cap)
		return 0;
	n = conn_readv(c, c->hop_fd, b, cap);
	if (n == -2)
		return 0;
	if (n > 0) {
		b->len += (size_t)n;
		return 1;
	}
	if (n == 0) {
		c->app_eof = 1;
		return 1;
	}
	if (errno == EAGAIN) {
		c->hop_rd = 0;
		return 0;
	}
	if (errno == EINTR)
		return 1;
	conn_app_reset(c, errno);
	return 0;
}

/* a2w -> SSL_write -> wire; then close_notify and FIN after app EOF. */
static int conn_wire_write(struct conn *c)
{
	size_t cap = c->t->e->bufsize, n;
	struct iovec iov[2];
	int progress = 0, r, sys, se;

	if (!c->hs_done || c->wire_shut)
		return 0;
	while (c->a2w.len && !(c->stopping && !c->xfer_left)) {
		if (!ssl_ready(c, c->wr_want))
			return progress;
		rbuf_data_iov(&c->a2w, cap, iov);
		/* Stopping: only what the application wrote before the stop
		 * is encrypted.  A retry passes the same length: xfer_left
		 * changes only when a write succeeds. */
		if (c->stopping && iov[0].iov_len > c->xfer_left)
			iov[0].iov_len = c->xfer_left;
		ERR_clear_error();
		r = SSL_write_ex(c->ssl, iov[0].iov_base, iov[0].iov_len, &n);
		sys = errno;
		conn_flow_io(c, "SSL_write_ex", r, r == 1 ? n : 0);
		if (r == 1) {
			rbuf_consume(&c->a2w, n, cap);
			c->bytes_out += n;
			c->wr_want = 0;
			if (c->stopping)
				c->xfer_left -= n;
			progress = 1;
			continue;
		}
		se = SSL_get_error(c->ssl, r);
		if (ssl_wait(c, se, &c->wr_want))
			return progress;
		if (se == SSL_ERROR_SYSCALL && !ERR_peek_error() &&
		    (sys == EPIPE || sys == ECONNRESET))
			conn_peer_reset(c, "Data Encryption", sys);
		else
			conn_ssl_fail(c, "Data Encryption", se, sys);
		return 0;
	}
	if ((c->stopping ? !c->xfer_left : c->app_eof && conn_app_drained(c)) &&
	    !c->notify_sent) {
		if (!ssl_ready(c, c->wr_want))
			return progress;
		ERR_clear_error();
		/* 0: close_notify sent, the partner's not yet received;
		 * 1: both.  Either way our direction is closed. */
		r = SSL_shutdown(c->ssl);
		sys = errno;
		conn_flow_io(c, "SSL_shutdown", r < 0 ? r : 1, 0);
		if (r < 0) {
			se = SSL_get_error(c->ssl, r);
			if (ssl_wait(c, se, &c->wr_want))
				return progress;
			if (se == SSL_ERROR_SYSCALL && !ERR_peek_error() &&
			    (sys == EPIPE || sys == ECONNRESET))
				conn_peer_reset(c, "Connection Close", sys);
			else
				conn_ssl_fail(c, "Connection Close", se, sys);
			return 0;
		}
		c->notify_sent = 1;
		c->wr_want = 0;
		progress = 1;
		if (c->stopping && (r == 1 || c->peer_notified)) {
			conn_to_clear(c);
			return 1;
		}
	}
	if (c->notify_sent && !c->wire_shut && !c->stopping) {
		if (shutdown(c->wire_fd, SHUT_WR) && errno != ENOTCONN) {
			conn_peer_reset(c, "Connection Close", errno);
			return 0;
		}
		c->wire_shut = 1;
		progress = 1;
	}
	return progress;
}

/* wire -> SSL_read -> w2a (or the FTP helper) */
static int conn_wire_read(struct conn *c)
{
	size_t cap, n;
	struct rbuf *b = conn_from_wire(c, &cap);
	struct iovec iov[2];
	int progress = 0, r, sys, se, rc;

	if (!c->hs_done || c->peer_eof || c->truncated || c->peer_notified)
		return 0;
	while (b->len < cap) {
		if (!ssl_ready(c, c->rd_want) && !SSL_has_pending(c->ssl))
			return progress;
		if (rbuf_ensure(b, cap)) {
			conn_err(c, ATTLS_RC_NOMEM, "Data Decryption", "%s",
				 strerror(ENOMEM));
			conn_close(c, 1, 1, ATTLS_RC_NOMEM);
			return 0;
		}
		rbuf_space_iov(b, cap, iov);
		ERR_clear_error();
		r = SSL_read_ex(c->ssl, iov[0].iov_base, iov[0].iov_len, &n);
		sys = errno;
		conn_flow_io(c, "SSL_read_ex", r, r == 1 ? n : 0);
		if (r == 1) {
			b->len += n;
			c->bytes_in += n;
			c->rd_want = 0;
			progress = 1;
			continue;
		}
		se = SSL_get_error(c->ssl, r);
		if (ssl_wait(c, se, &c->rd_want))
			return progress;
		if (se == SSL_ERROR_ZERO_RETURN) {
			if (c->stopping && c->notify_sent) {
				conn_to_clear(c);
				return 1;
			}
			/* Application control: the partner may go on in
			 * cleartext (conn_notified()); else its FIN follows. */
			if (c->appctl || c->stopping)
				c->peer_notified = 1;
			else
				c->peer_eof = 1;
			return 1;
		}
		rc = attls_rc_from_ssl(c->ssl, se, sys, 1);
		if (rc == ATTLS_RC_TRUNCATED) {
			/* Finished once w2a reached the application. */
			ERR_clear_error();
			c->truncated = 1;
			return 1;
		}
		if (rc == ATTLS_RC_PEER_RESET)
			conn_peer_reset(c, "Data Decryption", sys ? sys : ECONNRESET);
		else
			conn_ssl_fail(c, "Data Decryption", se, sys);
		return 0;
	}
	return progress;
}

/*
 * The partner's stream ended without close_notify and everything
 * decrypted before has been written to the hop: once the application has
 * it (the hop's send queue is empty; loopback acknowledges at once), reset
 * the application.  If our own direction had finished already (we sent
 * close_notify), the partner merely skipped its close_notify after ours,
 * which many clients do: an event, not an error.
 */
static void conn_truncated(struct conn *c, uint64_t now)
{
	int queued = 0;

	if (c->hop_up && ioctl(c->hop_fd, SIOCOUTQ, &queued))
		queued = 0;
	if (queued > 0) {
		if (!c->lingering) {
			c->lingering = 1;
			conn_timed_add(c, now + ENGINE_LINGER_NS);
			return;
		}
		if (now < c->deadline_ns)
			return;
	}
	if (c->notify_sent)
		conn_event_log(c, ATTLS_RC_TRUNCATED, "Connection Close",
			       "after our close_notify; %llu bytes received, "
			       "application reset",
			       (unsigned long long)c->bytes_in);
	else
		conn_err(c, ATTLS_RC_TRUNCATED, "Data Decryption",
			 "partner closed without close_notify after %llu bytes; "
			 "application reset (fix: the partner must end TLS with "
			 "close_notify)", (unsigned long long)c->bytes_in);
	conn_close(c, !c->wire_shut, 1, ATTLS_RC_TRUNCATED);
}

/* w2a -> hop; then FIN to the application after the partner's close. */
static int conn_app_write(struct conn *c)
{
	size_t cap = c->t->e->bufsize;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov };
	int progress = 0;
	ssize_t n;

	while (c->hop_up && !c->hop_shut && c->w2a.len && c->hop_wr) {
		msg.msg_iovlen = (size_t)rbuf_data_iov(&c->w2a, cap, iov);
		n = sendmsg(c->hop_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			rbuf_consume(&c->w2a, (size_t)n, cap);
			progress = 1;
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			c->hop_wr = 0;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		conn_app_reset(c, n < 0 ? errno : EPIPE);
		return 0;
	}
	if (c->w2a.len || !conn_wire_drained(c))
		return progress;
	if (c->peer_eof && c->hop_up && !c->hop_shut) {
		if (shutdown(c->hop_fd, SHUT_WR) && errno != ENOTCONN) {
			conn_app_reset(c, errno);
			return 0;
		}
		c->hop_shut = 1;
		progress = 1;
	}
	if (c->truncated && !c->hop_connecting)
		conn_truncated(c, engine_now_ns());
	return progress;
}

/* ---- application control: the cleartext relay ------------------------ */

/*
 * Held TLS bytes (the race rule in engine_int.h) wait this long for the
 * application's init when the environment has no HandshakeTimeout.
 */
#define ENGINE_APPCTL_HOLD_NS	(30ull * 1000000000ull)

static int tls_record_head(const unsigned char *h, ssize_t n)
{
	return h[0] == TLS_CT_HANDSHAKE && (n < 2 || h[1] == 3) &&
	       (n < 3 || h[2] <= 4);
}

/* A TLS handshake record heads the unread wire stream in cleartext mode:
 * stop reading until the application starts TLS, or fail at the deadline. */
static void conn_hold(struct conn *c)
{
	uint64_t ns = c->env->handshake_timeout ?
		      (uint64_t)c->env->handshake_timeout * 1000000000ull :
		      ENGINE_APPCTL_HOLD_NS;

	c->wire_hold = 1;
	log_debug("%s: TLS handshake record from the partner before the "
		  "application started TLS: held", c->desc);
	if (!c->starting)
		conn_timed_add(c, engine_now_ns() + ns);
}

/* 1 when the partner has sent its FIN (TCP_INFO: nothing more will come
 * after what is queued). */
static int wire_peer_fin(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_state == TCP_CLOSE_WAIT || ti.tcpi_state == TCP_LAST_ACK ||
	       ti.tcpi_state == TCP_CLOSING || ti.tcpi_state == TCP_TIME_WAIT;
}

/* Cleartext wire -> w2a (or the FTP helper), holding a TLS handshake
 * record (see above). */
static int conn_clear_read(struct conn *c)
{
	size_t cap;
	struct rbuf *b = conn_from_wire(c, &cap);
	unsigned char h[3];
	int progress = 0;
	ssize_t n;

	if (c->peer_eof || c->wire_hold || c->wire_connecting)
		return 0;
	while (c->wire_rd && b->len < cap) {
		n = recv(c->wire_fd, h, sizeof(h), MSG_PEEK);
		if (n > 0 && tls_record_head(h, n)) {
			if (n == (ssize_t)sizeof(h)) {
				conn_hold(c);
				return progress;
			}
			/* A partial header: its next bytes bring a new edge,
			 * and so does the partner's FIN - after which those
			 * bytes are no record, only cleartext to relay. */
			if (!wire_peer_fin(c->wire_fd)) {
				c->wire_rd = 0;
				return progress;
			}
		}
		if (n > 0) {
			n = conn_readv(c, c->wire_fd, b, cap);
			if (n == -2)
				return 0;
		}
		if (n > 0) {
			b->len += (size_t)n;
			c->bytes_in += (size_t)n;
			progress = 1;
			continue;
		}
		if (n == 0) {
			c->peer_eof = 1;
			return 1;
		}
		if (errno == EAGAIN) {
			c->wire_rd = 0;
			return progress;
		}
		if (errno == EINTR)
			continue;
		conn_peer_reset(c, "Application Data", errno);
		return 0;
	}
	return progress;
}

/* Cleartext a2w -> wire (starting: only xfer_left bytes); FIN after app EOF. */
static int conn_clear_write(struct conn *c)
{
	size_t cap = c->t->e->bufsize, lim;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov };
	int progress = 0;
	ssize_t n;

	if (c->wire_shut || c->wire_connecting)
		return 0;
	while (c->a2w.len && c->wire_wr && !(c->starting && !c->xfer_left)) {
		msg.msg_iovlen = (size_t)rbuf_data_iov(&c->a2w, cap, iov);
		if (c->starting) {
			lim = c->xfer_left;
			if (iov[0].iov_len >= lim) {
				iov[0].iov_len = lim;
				msg.msg_iovlen = 1;
			} else if (msg.msg_iovlen == 2 &&
				   iov[1].iov_len > lim - iov[0].iov_len) {
				iov[1].iov_len = lim - iov[0].iov_len;
			}
		}
		n = sendmsg(c->wire_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			rbuf_consume(&c->a2w, (size_t)n, cap);
			c->bytes_out += (size_t)n;
			if (c->starting)
				c->xfer_left -= (size_t)n;
			progress = 1;
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			c->wire_wr = 0;
			return progress;
		}
		if (n < 0 && errno == EINTR)
			continue;
		conn_peer_reset(c, "Application Data", n < 0 ? errno : EPIPE);
		return 0;
	}
	if (c->app_eof && !c->a2w.len && !c->starting && conn_app_drained(c)) {
		if (shutdown(c->wire_fd, SHUT_WR) && errno != ENOTCONN) {
			conn_peer_reset(c, "Connection Close", errno);
			return 0;
		}
		c->wire_shut = c->notify_sent = 1;
		progress = 1;
	}
	return progress;
}

/*
 * The partner sent close_notify on an application-controlled connection
 * before the application stopped TLS: a FIN next is the end of the
 * connection (the application gets EOF); cleartext next waits unread for
 * the application's stop.
 */
static int conn_notified(struct conn *c)
{
	char b;
	ssize_t n;

	if (!c->peer_notified || c->stopping || c->peer_eof || c->w2a.len ||
	    !conn_wire_drained(c) || !c->wire_rd)
		return 0;
	n = recv(c->wire_fd, &b, 1, MSG_PEEK);
	if (n == 0) {
		c->peer_eof = 1;
		return 1;
	}
	if (n < 0 && errno == EAGAIN)
		c->wire_rd = 0;
	else if (n < 0 && errno != EINTR)
		conn_peer_reset(c, "Connection Close", errno);
	return 0;
}

/* conn_tls_start() has flushed the cleartext before it: handshake now. */
static int conn_tls_begin(struct conn *c)
{
	if (!c->starting || !c->clear || c->xfer_left)
		return 0;
	c->clear = c->starting = c->wire_hold = 0;
	conn_timed_del(c);
	if (c->env->handshake_timeout)
		conn_timed_add(c, engine_now_ns() +
			       (uint64_t)c->env->handshake_timeout * 1000000000ull);
	log_debug("%s: application control: TLS handshake starts (%s)",
		  c->desc, c->tls_client ? "client" : "server");
	return 1;
}

/* Stop complete (both close_notify exchanged): a fresh SSL for a later
 * start, cleartext relay from here on. */
static void conn_to_clear(struct conn *c)
{
	SSL *ssl = SSL_new(SSL_get_SSL_CTX(c->ssl));

	if (!ssl || SSL_set_fd(ssl, c->wire_fd) != 1) {
		SSL_free(ssl);
		conn_err(c, ATTLS_RC_NOMEM, "Connection Stop", "SSL_new failed");
		attls_ssl_drain(c->desc, "SSL_new");
		conn_close(c, 1, 1, ATTLS_RC_NOMEM);
		return;
	}
	SSL_free(c->ssl);
	c->ssl = ssl;
	SSL_SESSION_free(c->sess_pending);
	c->sess_pending = NULL;
	SSL_set_app_data(ssl, c);
	SSL_set_read_ahead(ssl, 0);
	if (c->tls_client) {
		SSL_set_connect_state(ssl);
		conn_client_setup(c);	/* it worked on the first SSL */
	} else {
		SSL_set_accept_state(ssl);
	}
	c->clear = 1;
	c->stopping = c->hs_done = c->peeked = c->notify_sent = 0;
	c->peer_notified = c->cert_requested = 0;
	c->hs_want = c->rd_want = c->wr_want = 0;
	c->fail_rc = 0;
	conn_timed_del(c);
	log_debug("%s: application control: TLS stopped, cleartext", c->desc);
	conn_zert(c, zert_engine_stop, 0, 0);	/* c->tls: the session that ended */
	conn_tls_notify(c, ATTLS_RC_OK);
}

static int conn_tls_arm(struct conn *c, int client, int allow_hstimeout,
			conn_tls_cb cb, void *arg);

/* The FTP helper between the raw input and the relay buffers. */
static int conn_ftp_step(struct conn *c)
{
	struct ftp_io io = {
		.to_server = &c->w2a,
		.to_client = &c->a2w,
		.cap = c->t->e->bufsize,
		.client_eof = c->peer_eof || c->truncated || c->peer_notified,
		.server_eof = c->app_eof,
		.secure = c->hs_done && !c->clear,
	};
	int r, err;

	r = ftp_conn_pump(c->ftp, c, &io);
	if (r < 0) {
		conn_close(c, 1, 1, -r);
		return 0;
	}
	if (!io.start_tls)
		return r;
	/* The 234 is in a2w: it goes out in cleartext, then the handshake. */
	err = conn_tls_arm(c, 0, 0, NULL, NULL);
	if (err) {
		conn_err(c, ATTLS_RC_FTP_PROTOCOL, "FTP Control",
			 "AUTH TLS: the TLS handshake cannot start (%s); "
			 "connection closed", strerror(-err));
		conn_count_ftp(c, CONN_FTP_CLOSED);
		conn_close(c, 1, 1, ATTLS_RC_FTP_PROTOCOL);
		return 0;
	}
	return 1;
}

static void conn_pump(struct conn *c)
{
	int progress, moved = 0;

	do {
		progress = 0;
		if (c->hop_connecting && (c->hop_rd || c->hop_wr))
			progress |= conn_hop_connected(c);
		if (!c->dead && c->wire_connecting && (c->wire_rd || c->wire_wr))
			progress |= conn_wire_connected(c);
		if (!c->dead && !c->hs_done && !c->clear)
			progress |= conn_handshake(c);
		if (!c->dead)
			progress |= conn_app_read(c);
		if (!c->dead && c->ftp)
			progress |= conn_ftp_step(c);
		if (!c->dead)
			progress |= c->clear ? conn_clear_write(c) :
				    conn_wire_write(c);
		if (!c->dead)
			progress |= c->clear ? conn_clear_read(c) :
				    conn_wire_read(c);
		if (!c->dead)
			progress |= conn_app_write(c);
		if (!c->dead && c->peer_notified)
			progress |= conn_notified(c);
		if (!c->dead && c->starting)
			progress |= conn_tls_begin(c);
		if (c->dead)
			return;
		if (c->wire_shut && c->hop_shut) {
			conn_close(c, 0, 0, ATTLS_RC_OK);
			return;
		}
		moved |= progress;
	} while (progress);
	if (moved && c->idle_ns)
		c->active_ns = engine_now_ns();
	rbuf_release(&c->a2w);
	rbuf_release(&c->w2a);
}

/*
 * A socket error the transfers did not run into: a reset while that side
 * is idle (say, the partner resets a half-closed connection whose
 * application is quiet).  Forwarded as a reset at once.
 */
static void conn_sock_error(struct conn *c, int wire)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (c->dead || (!wire && !c->hop_up))
		return;
	if (getsockopt(wire ? c->wire_fd : c->hop_fd, SOL_SOCKET, SO_ERROR,
		       &soerr, &len) || !soerr)
		return;
	if (wire)
		conn_peer_reset(c, "Connection Close", soerr);
	else
		conn_app_reset(c, soerr);
}

void conn_event(struct ep_ref *ref, uint32_t events)
{
	struct conn *c;
	int wire = ref->kind == EP_WIRE;

	if (wire) {
		c = container_of(ref, struct conn, ep_wire);
		if (c->dead)
			return;
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->wire_rd = 1;
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			c->wire_wr = 1;
	} else {
		c = container_of(ref, struct conn, ep_hop);
		if (c->dead)
			return;
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->hop_rd = 1;
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			c->hop_wr = 1;
	}
	conn_pump(c);
	if (events & EPOLLERR)
		conn_sock_error(c, wire);
}

/*
 * The deadline of an application-controlled connection passed: held TLS
 * bytes the application never started TLS for, a stop the partner never
 * answered, or (ALLOW_HSTIMEOUT) a client that never started the
 * handshake.  1 when dealt with.
 */
static int conn_appctl_expired(struct conn *c)
{
	if (c->clear) {
		if (c->wire_hold && !c->starting) {
			conn_err(c, ATTLS_RC_APPCTL_HELD, "Application Control",
				 "the partner started a TLS handshake but the "
				 "application did not start TLS within %llu s "
				 "(fix: the application must call "
				 "ATTLS_REQ_INIT_CONNECTION, libattls)",
				 c->env->handshake_timeout ?
				 (unsigned long long)c->env->handshake_timeout :
				 ENGINE_APPCTL_HOLD_NS / 1000000000ull);
			conn_close(c, 1, 1, ATTLS_RC_APPCTL_HELD);
		} else {
			conn_timed_del(c);
		}
		return 1;
	}
	if (c->stopping) {
		conn_err(c, ATTLS_RC_APPCTL_STOP, "Connection Stop",
			 "the partner did not answer our close_notify within "
			 "%u s", c->env->handshake_timeout ?
			 c->env->handshake_timeout : 30);
		conn_close(c, 1, 1, ATTLS_RC_APPCTL_STOP);
		return 1;
	}
	if (c->allow_hstimeout && !c->hs_done && !c->peeked && !c->tls_client) {
		int inq = 0;

		if (c->hop_up && ioctl(c->hop_fd, SIOCINQ, &inq))
			inq = 0;
		if (c->a2w.len || inq > 0) {
			/* Written after the init, to go out encrypted: never
			 * in cleartext.  The handshake timeout ends it. */
			conn_err(c, ATTLS_RC_HANDSHAKE_TIMEOUT, "Application Control",
				 "no handshake from the client, and %zu bytes the "
				 "application wrote after its init cannot go out "
				 "in cleartext (ATTLS_REQ_ALLOW_HSTIMEOUT); "
				 "connection reset", c->a2w.len +
				 (size_t)(inq > 0 ? inq : 0));
			conn_close(c, 1, 1, ATTLS_RC_HANDSHAKE_TIMEOUT);
			return 1;
		}
		/* Nothing from the client: the connection stays, in clear. */
		c->clear = 1;
		c->allow_hstimeout = 0;
		conn_timed_del(c);
		conn_event_log(c, ATTLS_RC_HANDSHAKE_TIMEOUT, "Application Control",
			       "no handshake from the client; cleartext "
			       "(ATTLS_REQ_ALLOW_HSTIMEOUT)");
		conn_tls_notify(c, ATTLS_RC_HANDSHAKE_TIMEOUT);
		return 1;
	}
	return 0;
}

void conn_tick(struct engine_thread *t, uint64_t now)
{
	struct conn *c, *next;

	for (c = LIST_FIRST(&t->timed); c; c = next) {
		next = LIST_NEXT(c, tlink);
		if (c->lingering) {
			conn_truncated(c, now);
			continue;
		}
		/* Secure (not in an application-controlled switch): only the
		 * IdleTimeout deadline is left. */
		if (c->hs_done && !c->clear && !c->stopping) {
			if (c->rekey_ns)
				conn_rekey_check(c, now);
			if (c->idle_ns)
				conn_idle_check(c, now);	/* may close c */
			continue;
		}
		if (now < c->deadline_ns)
			continue;
		if (c->wire_connecting) {
			char ra[ATTLS_ADDRSTRLEN];

			conn_err(c, ATTLS_RC_PARTNER_CONNECT, "Connection Init",
				 "no connection to %s..%u within %llu s; "
				 "application reset",
				 attls_addr_str(c->wire.raddr, ra, sizeof(ra)),
				 c->wire.rport, c->env->handshake_timeout ?
				 (unsigned long long)c->env->handshake_timeout :
				 ENGINE_CONNECT_TIMEOUT_NS / 1000000000ull);
			conn_close(c, 1, 1, ATTLS_RC_PARTNER_CONNECT);
			continue;
		}
		if (c->appctl && conn_appctl_expired(c))
			continue;
		if (c->hs_done)
			continue;
		engine_tstat_inc(&t->lim.hs_timeout);
		conn_err(c, ATTLS_RC_HANDSHAKE_TIMEOUT, "Initial Handshake",
			 "no complete handshake within HandshakeTimeout %u s "
			 "(fix: check the partner, or raise HandshakeTimeout in "
			 "TTLSEnvironmentAction %s)", c->env->handshake_timeout,
			 c->env->name);
		conn_close(c, 1, 1, ATTLS_RC_HANDSHAKE_TIMEOUT);
	}
}

void conn_abort_all(struct engine_thread *t, int rc)
{
	struct conn *c;
	unsigned n = 0;

	if (!rc)
		rc = ATTLS_RC_ENGINE_STOP;
	while ((c = LIST_FIRST(&t->conns))) {
		conn_event_log(c, rc, "Connection Close", "reset");
		conn_close(c, 1, 1, rc);
		n++;
	}
	if (n)
		log_warnx("engine thread %u: %u live connection(s) reset (RC %d %s)",
			  t->idx, n, rc, attls_rc_text(rc));
}

/*
 * ClientAuthType SAFCheck: the verified client certificate x must map to
 * an existing local user through KEYRING_ROOT/certmap.  1 accept, 0 reject.
 */
static int conn_safcheck(struct conn *c, X509 *x, X509_STORE_CTX *store)
{
	struct passwd pw, *pwp = NULL;
	char user[33], fp[65], cause[192], pwbuf[1024];
	struct zert_cert d;

	if (keyring_certmap_find(c->gen->certmap, x, user, sizeof(user))) {
		tlsinfo_sha256(x, fp);
		snprintf(cause, sizeof(cause), "the client certificate (sha256 "
			 "%.64s) is not in the SAFCheck certificate map", fp);
	} else if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pwp) || !pwp) {
		snprintf(cause, sizeof(cause), "the client certificate maps to "
			 "user %.32s, who does not exist", user);
	} else {
		snprintf(c->peer_user, sizeof(c->peer_user), "%s", user);
		tlsinfo_cert(x, &d);
		log_info("ATTLS1283I TTLS Event RC: 0 Initial Handshake %s: client "
			 "certificate %s (sha256 %s) mapped to user %s (SAFCheck)",
			 c->desc, d.subject, d.sha256, user);
		return 1;	/* accept */
	}
	conn_set_fail(c->ssl, ATTLS_RC_CERT_UNMAPPED, cause);
	X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;	/* reject */
}

/*
 * GSK_CRL_SECURITY_LEVEL for a revocation-list finding about the chain
 * (only raised when the ring holds CRLs: keyring_use_crls()).  No CRL
 * from a certificate's issuer passes at Low and Medium, and always for
 * the trust anchor (a CA of the ring, which no issuer above it can
 * revoke); an expired or not yet valid CRL is used at Low, with a Trace 16
 * note.  1 when tolerated (the store's error is cleared, so the verify
 * result stays X509_V_OK and sessions are cached), 0 to reject.
 */
static int conn_crl_tolerated(struct conn *c, X509_STORE_CTX *store, int err,
			      int depth, const char *subject)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(store);
	int anchor = chain && depth == sk_X509_num(chain) - 1;
	unsigned level = c->env->crl_level;
	X509_CRL *crl = X509_STORE_CTX_get0_current_crl(store);
	char next[32] = "?";

	if (!keyring_crl_tolerates(level, err, anchor))
		return 0;	/* reject */
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		trace_flow(&c->tr, 0, "Get", "CRL", "depth %d %s: no CRL from its "
			   "issuer in the key ring: accepted (%s)", depth, subject,
			   anchor ? "trust anchor" : "GSK_CRL_SECURITY_LEVEL below High");
		break;
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		if (crl)
			tlsinfo_time(X509_CRL_get0_nextUpdate(crl), next, sizeof(next));
		trace_flow(&c->tr, err, "Get", "CRL", "depth %d %s: the issuer's CRL "
			   "(nextUpdate %s) is %s: used all the same (%s)", depth,
			   subject, next, X509_verify_cert_error_string(err),
			   anchor ? "trust anchor" : "GSK_CRL_SECURITY_LEVEL Low");
		break;
	}
	X509_STORE_CTX_set_error(store, X509_V_OK);
	return 1;	/* accept */
}

/*
 * PeerMinCertVersion and PeerMin*KeySize for certificate x at `depth` of
 * the partner's chain; the trust anchor above the partner's certificate
 * is a CA of our own key ring and exempt.  1 accept, 0 reject (the
 * handshake fails with the cause and RC set here).
 */
static int conn_peer_cert_limits(struct conn *c, X509 *x, X509_STORE_CTX *store,
				 int depth)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(store);
	EVP_PKEY *pk = X509_get0_pubkey(x);
	const char *name = "", *kind = "";
	char cause[192];
	unsigned min;
	int bits;

	if (depth > 0 && chain && depth == sk_X509_num(chain) - 1)
		return 1;
	if (c->env->peer_cert_v3 && X509_get_version(x) != X509_VERSION_3) {
		snprintf(cause, sizeof(cause), "the certificate at depth %d is "
			 "X.509 v%ld; PeerMinCertVersion 3 accepts v3 only", depth,
			 X509_get_version(x) + 1);
		conn_set_fail(c->ssl, ATTLS_RC_PEER_CERT_VERSION, cause);
		X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	min = peer_min_bits(c->env, pk, &name, &kind);
	bits = pk ? EVP_PKEY_get_bits(pk) : 0;
	if (!min || bits >= (int)min)
		return 1;
	snprintf(cause, sizeof(cause), "the %d-bit %s key of the certificate "
		 "at depth %d is below %s %u", bits, kind, depth, name, min);
	conn_set_fail(c->ssl, ATTLS_RC_PEER_KEY_SMALL, cause);
	X509_STORE_CTX_set_error(store, depth ? X509_V_ERR_CA_KEY_TOO_SMALL :
				 X509_V_ERR_EE_KEY_TOO_SMALL);
	return 0;
}

int conn_verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store,
					      SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *x = X509_STORE_CTX_get_current_cert(store);
	char subject[256] = "?", ref[ATTLS_HOST_LEN + 96] = "";
	int err = X509_STORE_CTX_get_error(store);
	int depth = X509_STORE_CTX_get_error_depth(store);

	if (c && trace_on(&c->tr, ATTLS_TRACE_FLOW)) {
		if (x)
			X509_NAME_oneline(X509_get_subject_name(x), subject,
					  sizeof(subject));
		trace_flow(&c->tr, err, "Get", "PEER CERTIFICATE VERIFY",
			   "depth %d %s: %s", depth, subject, ok ? "ok" :
			   X509_verify_cert_error_string(err));
	}
	if (ok) {
		if (c && c->env && x && !conn_peer_cert_limits(c, x, store, depth))
			return 0;	/* reject */
		if (c && c->env && depth == 0 && x &&
		    c->env->role == ATTLS_ROLE_SERVER_CLIENTAUTH &&
		    c->env->client_auth == ATTLS_CLIENT_AUTH_SAFCHECK)
			return conn_safcheck(c, x, store);
		return 1;	/* accept */
	}
	if (x)
		X509_NAME_oneline(X509_get_subject_name(x), subject,
				  sizeof(subject));
	if (c && c->env && conn_crl_tolerated(c, store, err, depth, subject))
		return 1;	/* accept */
	if (c && c->env && (err == X509_V_ERR_HOSTNAME_MISMATCH ||
			    err == X509_V_ERR_IP_ADDRESS_MISMATCH))
		snprintf(ref, sizeof(ref), " (HostReferenceIdDNS %s)",
			 c->env->host_ref_dns);
	else if (c && c->env && (err == X509_V_ERR_UNABLE_TO_GET_CRL ||
				 err == X509_V_ERR_CRL_HAS_EXPIRED ||
				 err == X509_V_ERR_CRL_NOT_YET_VALID))
		snprintf(ref, sizeof(ref), " (GSK_CRL_SECURITY_LEVEL %s, CRL "
			 "files of key ring %.200s)",
			 attls_crl_level_name(c->env->crl_level), c->env->keyring);
	if (c)
		conn_err(c, attls_rc_from_verify(err), "Initial Handshake",
			 "partner certificate rejected at depth %d: %s%s: %s",
			 depth, X509_verify_cert_error_string(err), ref, subject);
	else
		log_warnx("ATTLS1286E TTLS Error RC: %d Initial Handshake: partner "
			  "certificate rejected at depth %d: %s: %s",
			  attls_rc_from_verify(err), depth,
			  X509_verify_cert_error_string(err), subject);
	return 0;	/* reject */
}

int conn_client_cert_cb(SSL *ssl, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);

	(void)arg;
	if (c)
		c->cert_requested = 1;
	return 1;	/* go on, with the certificate the context has */
}

void conn_set_fail(SSL *ssl, int rc, const char *cause)
{
	struct conn *c = SSL_get_app_data(ssl);

	if (!c)
		return;
	c->fail_rc = rc;
	snprintf(c->fail_cause, sizeof(c->fail_cause), "%s", cause);
}

/* ---- accept ----------------------------------------------------------- */

/*
 * The hop: a socket bound to the wire's local address (the address the
 * client dialled) on a free port, registered in attls_hop before its SYN
 * leaves, then connected to the application's listener, which is the
 * wire's local address and port.
 *
 * The port is picked here, not by bind(addr, 0).  The hop is the active
 * closer whenever the client closes first, so it leaves a TIME_WAIT
 * socket for 60 s, and bind(addr, 0) refuses every port that has one on
 * `addr`, whatever its peer: once about half of ip_local_port_range is in
 * TIME_WAIT, each bind() walks the whole range under the bind-hash locks
 * (measured: 1,900 handshakes/s fell to 100/s after 30 s of load, 9 ms of
 * engine CPU per connection; docs/benchmarks.md).  So every hop socket
 * has SO_REUSEPORT (its TIME_WAIT remains inherit it) and binds a random
 * port of the range explicitly: a TIME_WAIT socket with SO_REUSEPORT does
 * not conflict with that, while a live socket of another user still does,
 * so no unprivileged process can share a live hop's endpoint.  The
 * attls_hop entry is created with BPF_NOEXIST, so two hops never share an
 * endpoint either; connect() fails with EADDRNOTAVAIL if the very 4-tuple
 * is still in TIME_WAIT and cannot be reused (net.ipv4.tcp_tw_reuse):
 * another port is tried.  After ENGINE_HOP_TRIES, bind(addr, 0) as before.
 */
static int hop_try(struct conn *c, const struct sockaddr_storage *la,
		   socklen_t lalen, uint16_t pick)
{
	struct engine *e = c->t->e;
	struct attls_hop_val hv = {};
	struct sockaddr_storage ss = *la;
	socklen_t len = lalen;
	int one = 1, err, fd;
	__u8 addr[ATTLS_ADDR_LEN];
	__u16 port;

	fd = socket(la->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The relay writes whole decrypted records: no Nagle delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* Fail closed: reset, never FIN, the application if we die. */
	err = engine_rst_on_death(fd);
	if (err)
		goto close_fd;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(pick);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(pick);
	if (bind(fd, (struct sockaddr *)&ss, lalen) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		err = -errno;
		goto close_fd;
	}
	err = attls_addr_from_sockaddr((struct sockaddr *)&ss, addr, &port);
	if (err)
		goto close_fd;
	attls_hop_key(&c->hop_key, addr, port);
	hv.real = c->wire;
	hv.conn_id = c->id;
	hv.rule_id = c->rule_id;
	if (bpf_map_update_elem(e->hop_fd, &c->hop_key, &hv, BPF_NOEXIST)) {
		err = -errno;
		goto close_fd;
	}
	if (connect(fd, (const struct sockaddr *)la, lalen) == 0) {
		c->hop_up = 1;
		c->hop_rd = c->hop_wr = 1;
	} else if (errno == EINPROGRESS) {
		c->hop_connecting = 1;
	} else {
		err = -errno;
		bpf_map_delete_elem(e->hop_fd, &c->hop_key);
		goto close_fd;
	}
	c->hop_fd = fd;
	c->hop_registered = 1;
	return 0;
close_fd:
	close(fd);
	return err;
}

/* A random port of ip_local_port_range, not in ip_local_reserved_ports. */
static uint16_t hop_pick_port(struct engine_thread *t)
{
	const struct engine *e = t->e;
	uint32_t span = (uint32_t)e->hop_port_hi - e->hop_port_lo + 1;
	uint16_t port;
	int i;

	for (i = 0; i < 8; i++) {
		/* xorshift32: cheap, and predictability is harmless here */
		t->hop_rng ^= t->hop_rng << 13;
		t->hop_rng ^= t->hop_rng >> 17;
		t->hop_rng ^= t->hop_rng << 5;
		port = (uint16_t)(e->hop_port_lo + t->hop_rng % span);
		if (!(e->hop_reserved[port / 64] & (1ull << (port % 64))))
			return port;
	}
	return 0;
}

static int conn_hop_open(struct conn *c, const struct sockaddr_storage *la,
			 socklen_t lalen)
{
	int i, err = -EADDRINUSE;

	for (i = 0; i <= ENGINE_HOP_TRIES; i++) {
		uint16_t port = i < ENGINE_HOP_TRIES ? hop_pick_port(c->t) : 0;

		if (i < ENGINE_HOP_TRIES && !port)
			continue;
		err = hop_try(c, la, lalen, port);
		if (err != -EADDRINUSE && err != -EADDRNOTAVAIL && err != -EEXIST)
			return err;
	}
	return err;
}

static int conn_epoll_add(struct conn *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	};

	ev.data.ptr = &c->ep_wire;
	if (epoll_ctl(c->t->epfd, EPOLL_CTL_ADD, c->wire_fd, &ev))
		return -errno;
	ev.data.ptr = &c->ep_hop;
	if (epoll_ctl(c->t->epfd, EPOLL_CTL_ADD, c->hop_fd, &ev))
		return -errno;
	return 0;
}

/* Log a connection refused before it has a struct conn, and reset it. */
static void accept_refuse(const struct attls_flow *f, int rc, const char *fmt,
			  ...) __attribute__((format(printf, 3, 4)));

static void accept_refuse(const struct attls_flow *f, int rc, const char *fmt,
			  ...)
{
	char la[ATTLS_ADDRSTRLEN], ra[ATTLS_ADDRSTRLEN], cause[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	log_warnx("ATTLS1286E TTLS Error RC: %d Connection Init LOCAL: %s..%u "
		  "REMOTE: %s..%u: %s: %s (connection reset)", rc,
		  attls_addr_str(f->laddr, la, sizeof(la)), f->lport,
		  attls_addr_str(f->raddr, ra, sizeof(ra)), f->rport,
		  attls_rc_text(rc), cause);
}

static int flow_from_socket(int fd, const struct sockaddr_storage *ra,
			    struct attls_flow *f, struct sockaddr_storage *la,
			    socklen_t *lalen)
{
	int err;

	memset(f, 0, sizeof(*f));
	*lalen = sizeof(*la);
	if (getsockname(fd, (struct sockaddr *)la, lalen))
		return -errno;
	err = attls_addr_from_sockaddr((struct sockaddr *)la, f->laddr, &f->lport);
	if (!err)
		err = attls_addr_from_sockaddr((const struct sockaddr *)ra,
					       f->raddr, &f->rport);
	f->family = la->ss_family == AF_INET ? ATTLS_AF_INET : ATTLS_AF_INET6;
	return err;
}

/* The server_name a client connection sends, or NULL. */
static const char *conn_client_sni(const struct attls_env_cfg *env, int ref_is_ip)
{
	if (env->client_sni != ATTLS_FN_OFF && env->client_sni_name[0])
		return env->client_sni_name;
	if (env->host_ref_dns[0] && !ref_is_ip)
		return env->host_ref_dns;	/* RFC 6066: never an address */
	return NULL;
}

static int host_is_ip(const char *ref)
{
	unsigned char ip[sizeof(struct in6_addr)];

	return ref[0] && (inet_pton(AF_INET, ref, ip) == 1 ||
			  inet_pton(AF_INET6, ref, ip) == 1);
}

/*
 * What c's client sessions are cached under (engine_sess.c): its
 * SSL_CTX, destination, SNI and HostReferenceIdDNS.  0, or -ENOENT when
 * its SSL_CTX resumes nothing.
 */
static int conn_sess_key(const struct conn *c, struct engine_sess_key *k)
{
	const char *sni = conn_client_sni(c->env, host_is_ip(c->env->host_ref_dns));

	memset(k, 0, sizeof(*k));
	k->ctx_serial = engine_sess_ctx_serial(SSL_get_SSL_CTX(c->ssl));
	if (!k->ctx_serial)
		return -ENOENT;
	memcpy(k->raddr, c->wire.raddr, sizeof(k->raddr));
	k->rport = c->wire.rport;
	snprintf(k->sni, sizeof(k->sni), "%s", sni ? sni : "");
	snprintf(k->ref, sizeof(k->ref), "%s", c->env->host_ref_dns);
	return 0;
}

/*
 * Offer a cached session of the same environment, destination and names
 * (a TLS 1.3 ticket is used up by this).  A session the server refuses
 * costs nothing: the handshake is a full one.
 */
static void conn_client_resume(struct conn *c)
{
	struct engine_sess_key k;
	SSL_SESSION *s;
	int ok;

	if (conn_sess_key(c, &k))
		return;
	s = engine_sess_get(c->t->e, &k);
	ok = s && SSL_set_session(c->ssl, s) == 1;
	if (trace_on(&c->tr, ATTLS_TRACE_FLOW))
		trace_flow(&c->tr, s && !ok, "Set", "SESSION", "%s",
			   !s ? "none cached: full handshake" :
			   ok ? "cached session offered" : "failed");
	SSL_SESSION_free(s);
}

/* Keep c's new session for later connections (its checks all passed). */
static void conn_client_sess_put(struct conn *c, SSL_SESSION *s)
{
	struct engine_sess_key k;

	if (c->cert_requested)
		engine_sess_set_cert_requested(s);
	if (conn_sess_key(c, &k) ||
	    engine_sess_put(c->t->e, SSL_get_SSL_CTX(c->ssl), &k, s,
			    c->env->session_timeout))
		SSL_SESSION_free(s);
}

/*
 * The handshake passed every check: its TLS 1.2 session may be kept.  A
 * resumed session whose first handshake sent our certificate still
 * authenticates us (zERT names the certificate).
 */
static void conn_client_sess_keep(struct conn *c)
{
	SSL_SESSION *s = c->sess_pending;

	if (c->tls_client && SSL_session_reused(c->ssl) &&
	    engine_sess_cert_requested(SSL_get_session(c->ssl)))
		c->cert_requested = 1;
	c->sess_pending = NULL;
	if (s)
		conn_client_sess_put(c, s);
}

int conn_client_sess_cb(SSL *ssl, SSL_SESSION *s)
{
	struct conn *c = SSL_get_app_data(ssl);

	/* Only verified servers: the client environment fails every other
	 * handshake, this is the belt to those braces. */
	if (!c || !c->tls_client || c->dead ||
	    SSL_get_verify_result(ssl) != X509_V_OK ||
	    !SSL_SESSION_is_resumable(s))
		return 0;
	if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION &&
	    !c->env->ticket_client)
		return 0;	/* GSK_SESSION_TICKET_CLIENT_ENABLE Off */
	if (!c->hs_done) {
		/* TLS 1.2, inside SSL_do_handshake(): conn_sni_acked() and
		 * the rest still to come (conn_client_sess_keep()). */
		SSL_SESSION_free(c->sess_pending);
		c->sess_pending = s;
		return 1;
	}
	conn_client_sess_put(c, s);	/* TLS 1.3 ticket, after the handshake */
	return 1;
}

void conn_client_sess_forget(struct conn *c)
{
	struct engine_sess_key k;

	if (c->tls_client && c->ssl && !conn_sess_key(c, &k))
		engine_sess_forget(c->t->e, &k);
}

/*
 * HandshakeRole Client, per connection: the SNI name (ClientHandshakeSNI
 * with ClientHandshakeSNIList, else a HostReferenceIdDNS that is a DNS
 * name), a cached session to resume, and the name or address the
 * server's certificate must carry (HostReferenceIdDNS; an IP address there
 * is checked against the certificate's IP addresses).  0 or -EINVAL.
 */
static int conn_client_setup(struct conn *c)
{
	const struct attls_env_cfg *env = c->env;
	const char *ref = env->host_ref_dns;
	int is_ip = host_is_ip(ref);
	const char *sni = conn_client_sni(env, is_ip);

	if (sni && trace_on(&c->tr, ATTLS_TRACE_FLOW))
		trace_flow(&c->tr, 0, "Set", "SNI", "%s", sni);
	if (sni && SSL_set_tlsext_host_name(c->ssl, sni) != 1)
		return -EINVAL;
	conn_client_resume(c);
	if (!ref[0])
		return 0;
	if (trace_on(&c->tr, ATTLS_TRACE_FLOW))
		trace_flow(&c->tr, 0, "Set", "PEER NAME CHECK", "%s %s",
			   is_ip ? "IP" : "DNS", ref);
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ref) == 1 ?
		       0 : -EINVAL;
	SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(c->ssl, ref) == 1 ? 0 : -EINVAL;
}

/*
 * A new connection steered with generation g (its reference is taken
 * over) under rule rule_id for owner: its environment, the key ring access
 * check, and its SSL in the role of the environment (not yet bound to a
 * socket).  wire_fd/hop_fd (-1 if not yet open) belong to it from here
 * on.  NULL when it was refused: logged, sockets reset, g released.
 */
static struct conn *conn_new(struct engine_thread *t, struct engine_gen *g,
			     const struct attls_flow *flow,
			     const struct attls_owner *owner, uint32_t rule_id,
			     int wire_fd, int hop_fd, int outbound)
{
	struct engine *e = t->e;
	const char *uname;
	struct conn *c;
	SSL_CTX *ctx;
	int rc;

	c = calloc(1, sizeof(*c));
	if (!c) {
		accept_refuse(flow, ATTLS_RC_NOMEM, "%s", strerror(ENOMEM));
		engine_gen_put(e, g);
		engine_rst_close(wire_fd);
		engine_rst_close(hop_fd);
		if (!outbound)
			engine_tomb_add(t, flow);
		return NULL;
	}
	c->t = t;
	c->ep_wire.kind = EP_WIRE;
	c->ep_hop.kind = EP_HOP;
	c->wire_fd = wire_fd;
	c->hop_fd = hop_fd;
	c->outbound = !!outbound;
	c->gen = g;
	c->wire = *flow;
	c->owner = *owner;
	c->owner.comm[ATTLS_COMM_LEN - 1] = '\0';
	c->rule_id = rule_id;
	c->id = atomic_fetch_add(&e->next_conn_id, 1);
	c->start_ns = realtime_ns();
	uname = engine_user_name(t, owner->uid);
	if (uname)
		snprintf(c->user, sizeof(c->user), "%s", uname);
	else
		snprintf(c->user, sizeof(c->user), "%u", owner->uid);
	LIST_INSERT_HEAD(&t->conns, c, link);
	atomic_fetch_add(&e->n_accepted, 1);

	if (rule_id < g->nactions)
		c->act = &g->actions[rule_id];
	/* Messages before the rule is known: errors to both logs. */
	c->tr.level = c->act ? c->act->trace :
		      ATTLS_TRACE_ERR_LOG | ATTLS_TRACE_ERR_SYSLOG;
	c->tr.facility = c->act ? c->act->syslog_facility : ATTLS_FACILITY_DAEMON;
	conn_set_desc(c);
	if (!c->act || c->act->env_index < 0 ||
	    (size_t)c->act->env_index >= g->nenvs) {
		conn_err(c, ATTLS_RC_NO_ENVIRONMENT, "Connection Init",
			 "rule %u of policy generation %llu has no environment",
			 rule_id, (unsigned long long)g->generation);
		conn_close(c, 1, 1, ATTLS_RC_NO_ENVIRONMENT);
		return NULL;
	}
	c->env = &g->envs[c->act->env_index];
	c->tls_client = c->env->role == ATTLS_ROLE_CLIENT;
	if (conn_admit(c))
		return NULL;
	ctr_inc(&t->ctr.mapped);
	if (trace_on(&c->tr, ATTLS_TRACE_INFO))
		trace_info(&c->tr, "ATTLS1281I TTLS Map %s TYPE: %s STATUS: Enabled "
			   "ACTIONS: %s %s %s", c->desc,
			   c->outbound ? "OutBound" : "InBound", c->act->group_name,
			   c->act->env_name, c->act->conn_name[0] ?
			   c->act->conn_name : "**N/A**");
	trace_start(&c->tr, "Connection Init", "ACTIONS: %s %s %s Trace %u",
		    c->act->group_name, c->act->env_name, c->act->conn_name[0] ?
		    c->act->conn_name : "**N/A**", c->tr.level);

	/* RACF-like: the connection's user must be allowed the key ring. */
	if (engine_env_access(g, c->act->env_index, owner->uid, uname, c->desc)) {
		conn_close(c, 1, 1, ATTLS_RC_KEYRING_OPEN);
		return NULL;
	}
	ctx = engine_env_ctx(e, g, c->act->env_index, owner->uid, uname,
			     c->desc, &rc);
	if (!ctx && engine_env_error(g, c->act->env_index)) {
		conn_err(c, rc, "Environment Init", "%s; connection reset",
			 engine_env_error(g, c->act->env_index));
		conn_close(c, 1, 1, rc);
		return NULL;
	}
	if (!ctx) {
		conn_err(c, ATTLS_RC_ENV_INIT, "Environment Init",
			 "environment %s cannot be used for user %s (a failed "
			 "key ring is tried again after %llu s)", c->env->name,
			 c->user, ENGINE_CTX_RETRY_NS / 1000000000ull);
		conn_close(c, 1, 1, rc ? rc : ATTLS_RC_ENV_INIT);
		return NULL;
	}
	trace_env_settings(&c->tr, c->env);
	c->ssl = SSL_new(ctx);
	if (trace_on(&c->tr, ATTLS_TRACE_FLOW))
		trace_flow(&c->tr, c->ssl != NULL, "Call", "SSL_new", "%s",
			   c->ssl ? "ok" : "failed");
	if (!c->ssl) {
		conn_err(c, ATTLS_RC_NOMEM, "Connection Init", "SSL_new failed");
		attls_ssl_drain(c->desc, "SSL_new");
		conn_close(c, 1, 1, ATTLS_RC_NOMEM);
		return NULL;
	}
	if (c->tls_client && conn_client_setup(c)) {
		conn_err(c, ATTLS_RC_INTERNAL, "Connection Init",
			 "the SNI name or host reference '%s' cannot be set",
			 c->env->host_ref_dns);
		attls_ssl_drain(c->desc, "SSL client setup");
		conn_close(c, 1, 1, ATTLS_RC_INTERNAL);
		return NULL;
	}
	SSL_set_app_data(c->ssl, c);
	if (c->tls_client)
		SSL_set_connect_state(c->ssl);
	else
		SSL_set_accept_state(c->ssl);
	conn_data_trace(c);
	conn_event_log(c, ATTLS_RC_OK, "Connection Init", "%s, environment %s",
		       c->tls_client ? "TLS client" : "TLS server", c->env->name);
	if (c->env->application_controlled) {
		/* Cleartext until the application starts TLS.  No read-ahead:
		 * after a close_notify, the cleartext that follows must stay
		 * in the socket, not in OpenSSL's buffer. */
		c->appctl = c->clear = 1;
		SSL_set_read_ahead(c->ssl, 0);
	}
	return c;
}

/* Bind the SSL to the wire, watch both sockets, start the clock, go. */
static void conn_start(struct conn *c, uint64_t deadline_ns)
{
	int err;

	if (trace_on(&c->tr, ATTLS_TRACE_FLOW))
		trace_flow(&c->tr, 0, "Set", "FD", "%d", c->wire_fd);
	if (SSL_set_fd(c->ssl, c->wire_fd) != 1) {
		conn_err(c, ATTLS_RC_NOMEM, "Connection Init", "SSL_set_fd failed");
		attls_ssl_drain(c->desc, "SSL_set_fd");
		conn_close(c, 1, 1, ATTLS_RC_NOMEM);
		return;
	}
	err = conn_epoll_add(c);
	if (err) {
		conn_err(c, ATTLS_RC_RESOURCE, "Connection Init", "epoll: %s",
			 strerror(-err));
		conn_close(c, 1, 1, ATTLS_RC_RESOURCE);
		return;
	}
	if (deadline_ns)
		conn_timed_add(c, deadline_ns);
	conn_pump(c);
}

/*
 * A secondary connection (steered with ATTLS_STEER_F_SECONDARY) is
 * protected from its first byte even when the primary's environment says
 * ApplicationControlled On: the application starts TLS on its control
 * connection only, never on data connections, so a secondary left in the
 * cleartext relay would carry protected data in cleartext.
 */
static void conn_secondary_mark(struct conn *c, uint32_t flags)
{
	if (!(flags & ATTLS_STEER_F_SECONDARY))
		return;
	c->secondary = 1;
	c->appctl = c->clear = 0;
	/*
	 * No TLS 1.3 session tickets on data connections: a client that
	 * only writes (an FTP upload) never reads them, and its close() with
	 * them unread sends a reset that can overtake the end of its data.
	 * Clients resume the control connection's session, whose tickets
	 * came on the control connection.
	 */
	SSL_set_num_tickets(c->ssl, 0);
}

/*
 * A primary connection of an environment with SecondaryMap On: record it
 * in attls_secmap, so connections of the same cgroup between the same two
 * addresses get its rule (FTP data connections).  Secondaries themselves
 * are not recorded.  0, or -1 after closing the connection: a primary
 * whose secondaries could not be protected is refused (fail closed).
 */
static int conn_secmap_register(struct conn *c, uint32_t clause)
{
	struct attls_secmap_key k = {};
	struct attls_secmap_val v = {};
	int err;

	if (c->secondary || !c->env->secondary_map)
		return 0;
	k.cgroup_id = c->owner.cgroup_id;
	memcpy(k.laddr, c->wire.laddr, sizeof(k.laddr));
	memcpy(k.raddr, c->wire.raddr, sizeof(k.raddr));
	v.generation = c->gen->generation;
	v.conn_id = c->id;
	v.rule_id = c->rule_id;
	v.clause = clause;
	/* FTP: Clear until PROT P (explicit FTPS), Private for implicit. */
	v.protect = !c->ftp || ftp_conn_protected(c->ftp) ?
		    ATTLS_SECMAP_PROTECT : ATTLS_SECMAP_CLEAR;
	err = engine_secmap_add(c->t->e, &k, &v, &c->secmap);
	if (!err)
		return 0;
	conn_err(c, ATTLS_RC_SECMAP, "Connection Init",
		 "SecondaryMap On: its secondary connections cannot be mapped "
		 "(attls_secmap: %s); connection refused", strerror(-err));
	conn_close(c, 1, 1, ATTLS_RC_SECMAP);
	return -1;
}

/*
 * ApplicationProtocol FTP: an inbound control connection gets the helper
 * (its data connections, secondaries, do not).  Explicit FTPS when the
 * relay starts in cleartext (ApplicationControlled On), else implicit.
 * 0, or -1 after closing the connection.
 */
static int conn_ftp_setup(struct conn *c)
{
	if (c->secondary || c->env->app_protocol != ATTLS_APP_FTP)
		return 0;
	if (c->tls_client) {
		/* policy_compile() refuses this; an old image must not
		 * leave the connection unguarded */
		conn_err(c, ATTLS_RC_FTP_PROTOCOL, "Connection Init",
			 "ApplicationProtocol FTP needs a server role; "
			 "connection refused");
		conn_close(c, 1, 1, ATTLS_RC_FTP_PROTOCOL);
		return -1;
	}
	c->ftp = ftp_conn_new(!c->clear);
	if (!c->ftp) {
		conn_err(c, ATTLS_RC_NOMEM, "Connection Init", "%s",
			 strerror(ENOMEM));
		conn_close(c, 1, 1, ATTLS_RC_NOMEM);
		return -1;
	}
	conn_count_ftp(c, CONN_FTP_SESSION);
	log_debug("%s: FTP helper, %s FTPS", c->desc,
		  c->clear ? "explicit (AUTH TLS)" : "implicit");
	return 0;
}

void conn_accept(struct engine_thread *t, int fd,
		 const struct sockaddr_storage *ra)
{
	struct engine *e = t->e;
	struct attls_steer_val sv;
	struct sockaddr_storage la;
	struct attls_flow flow;
	struct engine_gen *g;
	socklen_t lalen;
	struct conn *c;
	int err, one = 1;

	err = flow_from_socket(fd, ra, &flow, &la, &lalen);
	if (err) {
		log_warnx("engine: accepted socket: %s", strerror(-err));
		engine_rst_close(fd);
		return;
	}
	err = engine_steer_take(e, &flow, &sv);
	if (err) {
		atomic_fetch_add(&e->n_no_steer, 1);
		conn_count_refused(t, ATTLS_RC_NO_STEER);
		accept_refuse(&flow, ATTLS_RC_NO_STEER, "%s",
			      err == -ENOENT ?
			      "not steered by attls (a direct connection to "
			      "the engine listener?)" : strerror(-err));
		goto refuse;
	}
	g = engine_gen_get(e, sv.generation);
	if (!g) {
		conn_count_refused(t, ATTLS_RC_POLICY_GONE);
		accept_refuse(&flow, ATTLS_RC_POLICY_GONE,
			      "policy generation %llu (rule %u) is not installed "
			      "in the engine", (unsigned long long)sv.generation,
			      sv.rule_id);
		goto refuse;
	}
	c = conn_new(t, g, &flow, &sv.owner, sv.rule_id, fd, -1, 0);
	if (!c)
		return;
	conn_secondary_mark(c, sv.flags);
	if (conn_ftp_setup(c) || conn_secmap_register(c, sv.clause))
		return;
	c->wire_rd = c->wire_wr = 1;
	/* Nagle on 16 KiB TLS records costs 5-10x in throughput. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	/* The application is connected at once, in parallel with the
	 * handshake: applications that speak first (banners) must work;
	 * their bytes wait in a2w until the handshake is done. */
	err = conn_hop_open(c, &la, lalen);
	if (err) {
		conn_err(c, err == -ECONNREFUSED ? ATTLS_RC_APPL_CONNECT :
			 ATTLS_RC_RESOURCE, "Connection Init",
			 "connection to the application: %s", strerror(-err));
		conn_close(c, 1, 1, err == -ECONNREFUSED ?
			   ATTLS_RC_APPL_CONNECT : ATTLS_RC_RESOURCE);
		return;
	}
	conn_start(c, c->env->handshake_timeout && !c->clear ? engine_now_ns() +
		   (uint64_t)c->env->handshake_timeout * 1000000000ull : 0);
	return;

refuse:
	engine_rst_close(fd);
	engine_tomb_add(t, &flow);
}

/*
 * An outbound secondary (an FTP server's active-mode data connection)
 * leaves from the address the application bound, as it would without
 * attls: the partner sees the data connection come from the control
 * connection's server address (RFC 959 also has it come from port 20,
 * L-1: the same port is tried with SO_REUSEADDR, which the application's
 * own socket, connected to the engine, does not conflict with).  app is
 * the application socket's endpoint; a loopback or wildcard address
 * leaves the choice to the kernel.  Failures only cost that cosmetic.
 */
static void conn_secondary_bind(struct conn *c, int fd,
				const struct sockaddr_storage *app)
{
	struct sockaddr_storage ss = *app;
	__u8 addr[ATTLS_ADDR_LEN];
	__u16 port;
	int one = 1;

	if (attls_addr_from_sockaddr((const struct sockaddr *)app, addr, &port) ||
	    app->ss_family != (attls_addr_is_v4mapped(c->wire.raddr) ? AF_INET : AF_INET6))
		return;
	if (app->ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		if (!s4->sin_addr.s_addr || (ntohl(s4->sin_addr.s_addr) >> 24) == 127)
			return;
	} else if (IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr) ||
		   IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sizeof(ss)) == 0)
		return;
	if (app->ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if (bind(fd, (struct sockaddr *)&ss, sizeof(ss)))
		log_debug("%s: secondary: bind to the application's address: %s",
			  c->desc, strerror(errno));
}

/*
 * Outbound: open the connection to the original destination (c->wire
 * raddr/rport) and, as soon as the kernel has chosen its local address,
 * publish that in the application's attls_out entry (ov) with our
 * connection id: the application's getsockname() shows it from then on.
 * 0 or -errno (connect failed at once).
 */
static int conn_wire_open(struct conn *c, struct attls_out_val *ov,
			  const struct sockaddr_storage *app)
{
	struct engine *e = c->t->e;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	len = attls_sockaddr_from_addr(c->wire.raddr, c->wire.rport,
				       attls_addr_is_v4mapped(c->wire.raddr) ?
				       ATTLS_AF_INET : ATTLS_AF_INET6, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	c->wire_fd = fd;
	c->wire.family = ss.ss_family == AF_INET ? ATTLS_AF_INET : ATTLS_AF_INET6;
	/* Fail closed (reset if we die) and no Nagle on TLS records. */
	err = engine_rst_on_death(fd);
	if (err)
		return err;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->secondary)
		conn_secondary_bind(c, fd, app);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		c->wire_rd = c->wire_wr = 1;
	} else if (errno == EINPROGRESS) {
		c->wire_connecting = 1;
	} else {
		return -errno;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    attls_addr_from_sockaddr((struct sockaddr *)&ss, c->wire.laddr,
				     &c->wire.lport) == 0) {
		memcpy(ov->wire.laddr, c->wire.laddr, sizeof(ov->wire.laddr));
		ov->wire.lport = c->wire.lport;
		ov->conn_id = c->id;
		/* BPF_EXIST: never resurrect an entry that is gone (the
		 * application's socket closed meanwhile). */
		if (bpf_map_update_elem(e->out_fd, &c->out_key, ov, BPF_EXIST))
			log_debug("%s: attls_out update: %s", c->desc,
				  strerror(errno));
	}
	conn_set_desc(c);
	return 0;
}

void conn_accept_out(struct engine_thread *t, int fd,
		     const struct sockaddr_storage *ra)
{
	struct engine *e = t->e;
	struct attls_endpoint key;
	struct attls_out_val ov;
	struct attls_flow flow = {};
	struct engine_gen *g;
	struct conn *c;
	uint64_t limit;
	char ra_s[ATTLS_ADDRSTRLEN];
	int err;

	/* The peer of the accepted connection is the application's socket:
	 * its local endpoint keys attls_out. */
	err = attls_addr_from_sockaddr((const struct sockaddr *)ra, flow.laddr,
				       &flow.lport);
	if (err || e->out_fd < 0) {
		log_warnx("engine: outbound connection: %s", strerror(err ? -err : EINVAL));
		engine_rst_close(fd);
		return;
	}
	attls_hop_key(&key, flow.laddr, flow.lport);
	if (bpf_map_lookup_elem(e->out_fd, &key, &ov)) {
		err = errno;
		atomic_fetch_add(&e->n_no_steer, 1);
		conn_count_refused(t, ATTLS_RC_NO_STEER);
		accept_refuse(&flow, ATTLS_RC_NO_STEER,
			      "no attls_out entry for the application endpoint "
			      "%s..%u (%s; a direct connection to the outbound "
			      "listener?)", attls_addr_str(flow.laddr, ra_s,
							   sizeof(ra_s)),
			      flow.lport, strerror(err));
		engine_rst_close(fd);
		return;
	}
	memcpy(flow.raddr, ov.wire.raddr, sizeof(flow.raddr));
	flow.rport = ov.wire.rport;
	/* The wire's local end is known once connected: until then the
	 * unspecified address of the destination's family. */
	memset(flow.laddr, 0, sizeof(flow.laddr));
	if (attls_addr_is_v4mapped(flow.raddr))
		flow.laddr[10] = flow.laddr[11] = 0xff;
	flow.lport = 0;
	g = engine_gen_get(e, ov.generation);
	if (!g) {
		conn_count_refused(t, ATTLS_RC_POLICY_GONE);
		accept_refuse(&flow, ATTLS_RC_POLICY_GONE,
			      "policy generation %llu (rule %u) is not installed "
			      "in the engine", (unsigned long long)ov.generation,
			      ov.rule_id);
		engine_rst_close(fd);
		return;
	}
	c = conn_new(t, g, &flow, &ov.owner, ov.rule_id, -1, fd, 1);
	if (!c)
		return;
	c->out_key = key;
	c->out_cookie = ov.cookie;
	c->out_registered = 1;
	conn_secondary_mark(c, ov.flags);
	c->hop_up = 1;
	c->hop_rd = c->hop_wr = 1;
	err = conn_wire_open(c, &ov, ra);
	if (err) {
		conn_err(c, ATTLS_RC_PARTNER_CONNECT, "Connection Init",
			 "connect to %s..%u: %s; application reset",
			 attls_addr_str(c->wire.raddr, ra_s, sizeof(ra_s)),
			 c->wire.rport, strerror(-err));
		conn_close(c, 1, 1, ATTLS_RC_PARTNER_CONNECT);
		return;
	}
	if (conn_secmap_register(c, ov.clause))
		return;
	/* The connect and the handshake together get HandshakeTimeout;
	 * without one, the connect alone gets ENGINE_CONNECT_TIMEOUT_NS. */
	limit = c->env->handshake_timeout ?
		(uint64_t)c->env->handshake_timeout * 1000000000ull :
		c->wire_connecting ? ENGINE_CONNECT_TIMEOUT_NS : 0;
	if (c->clear && !c->wire_connecting)
		limit = 0;	/* no handshake until the application asks */
	conn_start(c, limit ? engine_now_ns() + limit : 0);
}

/* ---- application control: the interface (engine_int.h) --------------- */

/*
 * conn_tls_start() without running the relay (the FTP helper calls it
 * from inside conn_pump()).  The FTP helper decides itself what goes out
 * in cleartext before the handshake (a2w up to its 234): the hop's unread
 * bytes are not counted for it.
 */
static int conn_tls_arm(struct conn *c, int client, int allow_hstimeout,
			conn_tls_cb cb, void *arg)
{
	int inq = 0;

	if (c->dead)
		return -ENOTCONN;
	if (!c->clear || c->starting)
		return -EALREADY;
	if (c->tls_cb)
		return -EBUSY;
	if (c->peer_eof || c->wire_shut || c->app_eof)
		return -EPIPE;
	if (client != c->tls_client) {
		c->tls_client = !!client;
		if (client) {
			SSL_set_connect_state(c->ssl);
			if (conn_client_setup(c))
				return -EINVAL;
		} else {
			SSL_set_accept_state(c->ssl);
		}
	}
	/* What the application wrote before asking goes out in cleartext
	 * first: a2w plus what still waits in the hop socket. */
	if (!c->ftp && c->hop_up && ioctl(c->hop_fd, SIOCINQ, &inq))
		inq = 0;
	c->xfer_left = c->a2w.len + (size_t)(inq > 0 ? inq : 0);
	c->starting = 1;
	c->allow_hstimeout = allow_hstimeout && !c->tls_client;
	c->tls_cb = cb;
	c->tls_arg = arg;
	c->hop_rd = 1;		/* read the hop up to xfer_left now */
	return 0;
}

int conn_tls_start(struct conn *c, int client, int allow_hstimeout,
		   conn_tls_cb cb, void *arg)
{
	int err;

	if (c->ftp)
		return -EACCES;	/* the FTP helper owns its TLS state */
	err = conn_tls_arm(c, client, allow_hstimeout, cb, arg);
	if (!err)
		conn_pump(c);
	return err;
}

int conn_tls_stop(struct conn *c, conn_tls_cb cb, void *arg)
{
	int inq = 0;

	if (c->dead)
		return -ENOTCONN;
	if (c->ftp)
		return -EACCES;	/* CCC is refused: the control stays TLS */
	if (c->clear || c->starting || !c->hs_done || c->stopping)
		return c->hs_done || c->clear ? -EALREADY : -EBUSY;
	if (c->tls_cb)
		return -EBUSY;
	if (c->w2a.len || SSL_has_pending(c->ssl))
		return -EPROTO;		/* the application has data to read */
	if (c->notify_sent || c->wire_shut)
		return -EPIPE;
	if (c->hop_up && ioctl(c->hop_fd, SIOCINQ, &inq))
		inq = 0;
	c->xfer_left = c->a2w.len + (size_t)(inq > 0 ? inq : 0);
	c->stopping = 1;
	c->tls_cb = cb;
	c->tls_arg = arg;
	conn_timed_add(c, engine_now_ns() +
		       (c->env->handshake_timeout ?
			(uint64_t)c->env->handshake_timeout * 1000000000ull :
			ENGINE_APPCTL_HOLD_NS));
	c->hop_rd = 1;
	conn_pump(c);
	return 0;
}

int conn_tls_post_hs(struct conn *c, enum conn_post_hs op)
{
	static const char *const what[] = {
		[CONN_KEY_UPDATE] = "key update (update_requested)",
		[CONN_KEY_UPDATE_WRITE] = "key update (our keys only)",
		[CONN_NEW_TICKET] = "new session ticket",
	};
	int r, se;

	if (c->dead)
		return -ENOTCONN;
	if (c->clear || !c->hs_done || c->stopping || c->notify_sent)
		return -EALREADY;
	if (SSL_version(c->ssl) != TLS1_3_VERSION)
		return -EOPNOTSUPP;	/* SSL_OP_NO_RENEGOTIATION for 1.2 */
	ERR_clear_error();
	switch (op) {
	case CONN_KEY_UPDATE:
	case CONN_KEY_UPDATE_WRITE:
		r = SSL_key_update(c->ssl, op == CONN_KEY_UPDATE ?
				   SSL_KEY_UPDATE_REQUESTED :
				   SSL_KEY_UPDATE_NOT_REQUESTED);
		break;
	case CONN_NEW_TICKET:
		/* Server role with resumption on (GSK_V3_SESSION_TIMEOUT
		 * not 0): the ticket is stateless or stateful as the
		 * environment's handshake tickets are. */
		if (c->tls_client || !c->env->session_timeout)
			return -EOPNOTSUPP;
		r = SSL_new_session_ticket(c->ssl);
		break;
	default:
		return -EINVAL;
	}
	if (r != 1) {
		attls_ssl_drain(c->desc, what[op]);
		return -EOPNOTSUPP;
	}
	/* Send it now unless a write is pending (which then carries it). */
	if (!c->wr_want) {
		r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			se = SSL_get_error(c->ssl, r);
			if (!ssl_wait(c, se, &c->wr_want)) {
				attls_ssl_drain(c->desc, what[op]);
				return -EIO;
			}
		}
	}
	log_debug("%s: %s sent", c->desc, what[op]);
	return 0;
}

void conn_count_ftp(struct conn *c, enum conn_ftp_event ev)
{
	struct engine_counters *k = &c->t->ctr;

	switch (ev) {
	case CONN_FTP_SESSION:
		ctr_inc(&k->ftp_sessions);
		break;
	case CONN_FTP_AUTH_TLS:
		ctr_inc(&k->ftp_auth_tls);
		break;
	case CONN_FTP_REFUSED:
		ctr_inc(&k->ftp_refused);
		break;
	case CONN_FTP_CLOSED:
		ctr_inc(&k->ftp_closed);
		break;
	}
}

int conn_secmap_protect(struct conn *c, int protect)
{
	if (!c->secmap)
		return -ENOENT;
	return engine_secmap_protect(c->t->e, c->secmap, protect);
}

enum conn_tls_state conn_tls_state(const struct conn *c)
{
	if (c->dead)
		return CONN_TLS_CLOSED;
	if (c->stopping)
		return CONN_TLS_STOPPING;
	if (c->starting || (!c->clear && !c->hs_done))
		return CONN_TLS_HANDSHAKE;
	return c->clear ? CONN_TLS_CLEAR : CONN_TLS_SECURE;
}

struct conn *conn_find_app(struct engine_thread *t, uint64_t conn_id,
			   uint64_t cookie)
{
	struct conn *c;

	LIST_FOREACH(c, &t->conns, link) {
		if (c->outbound ? cookie && c->out_cookie == cookie :
		    conn_id && c->id == conn_id)
			return c;
	}
	return NULL;
}

void conn_view(const struct conn *c, struct conn_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = c->id;
	v->act = c->act;
	v->env = c->env;
	v->ssl = c->ssl;
	v->state = conn_tls_state(c);
	v->appctl = c->appctl;
	v->client = c->tls_client;
	v->desc = c->desc;
}
