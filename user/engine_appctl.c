// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_appctl.c - application control requests (libattls) on the engine
 * threads.
 *
 * attlsd's appctl thread (appctl.c) identifies the application's socket
 * and calls engine_appctl_submit().  The connection belongs to one engine
 * thread, which alone may touch it, and the front end does not know which:
 * the request is queued on every thread (one slot each, then wakefd).  The
 * thread that has the connection answers; the last thread to look answers
 * "no policy" if none had it.  A blocking INIT or STOP keeps the request
 * until conn_tls_start()/conn_tls_stop() call back, so neither the front
 * end nor an engine thread ever waits for a handshake.  Requests are rare
 * (one or two per controlled connection): the scan of a thread's
 * connections costs nothing on the data path.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "engine_int.h"
#include "lib/attls.h"
#include "log.h"
#include "rc.h"

struct appctl_job;

struct appctl_slot {
	STAILQ_ENTRY(appctl_slot) link;
	struct appctl_job *job;
};

struct appctl_job {
	struct engine_appctl_req r;
	int reply_fd;
	int replied;		/* by the one thread that found the connection */
	atomic_int found;
	atomic_uint refs;	/* threads yet to look, +1 while a connection
				 * holds the job for its callback */
	struct appctl_slot slots[];	/* [nthreads] */
};

/* The IANA TLS group id (RFC 8446 NamedGroup) of an OpenSSL group NID. */
static uint32_t group_iana(int nid)
{
	static const struct { int nid; uint32_t id; } map[] = {
		{ NID_X9_62_prime256v1, 0x0017 }, { NID_secp384r1, 0x0018 },
		{ NID_secp521r1, 0x0019 }, { NID_X25519, 0x001d },
		{ NID_X448, 0x001e }, { NID_ffdhe2048, 0x0100 },
		{ NID_ffdhe3072, 0x0101 }, { NID_ffdhe4096, 0x0102 },
		{ NID_ffdhe6144, 0x0103 }, { NID_ffdhe8192, 0x0104 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].nid == nid)
			return map[i].id;
	return 0;
}

static uint32_t sec_type(const struct attls_env_cfg *env)
{
	if (env->role == ATTLS_ROLE_CLIENT)
		return ATTLS_SEC_CLIENT;
	if (env->role == ATTLS_ROLE_SERVER)
		return ATTLS_SEC_SERVER;
	switch (env->client_auth) {
	case ATTLS_CLIENT_AUTH_PASSTHRU:
		return ATTLS_SEC_SRV_CA_PASS;
	case ATTLS_CLIENT_AUTH_FULL:
		return ATTLS_SEC_SRV_CA_FULL;
	case ATTLS_CLIENT_AUTH_SAFCHECK:
		return ATTLS_SEC_SRV_CA_SAFCHK;
	default:
		return ATTLS_SEC_SRV_CA_REQD;
	}
}

static void rep_init(struct attls_wire_rep *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->magic = ATTLS_WIRE_MAGIC;
	rep->version = ATTLS_WIRE_VERSION;
	rep->size = sizeof(*rep);
}

/* The query fields of connection c. */
static void rep_fill(struct attls_wire_rep *rep, struct conn *c)
{
	struct conn_view v;
	const SSL_CIPHER *ci;
	const char *name;
	int nid;

	conn_view(c, &v);
	rep->conn_id = v.id;
	rep->stat_policy = v.appctl ? ATTLS_POL_APPLCNTRL : ATTLS_POL_ENABLED;
	switch (v.state) {
	case CONN_TLS_SECURE:
		rep->stat_conn = ATTLS_CONN_SECURE;
		break;
	case CONN_TLS_HANDSHAKE:
	case CONN_TLS_STOPPING:
		rep->stat_conn = ATTLS_CONN_HS_INPROGRESS;
		break;
	default:
		rep->stat_conn = ATTLS_CONN_NOTSECURE;
		break;
	}
	if (v.env)
		rep->sec_type = sec_type(v.env);
	if (v.act)
		snprintf(rep->rule, sizeof(rep->rule), "%s", v.act->rule_name);
	if (v.state != CONN_TLS_SECURE || !v.ssl)
		return;
	rep->protocol = (uint32_t)SSL_version(v.ssl);
	ci = SSL_get_current_cipher(v.ssl);
	if (ci) {
		rep->cipher = SSL_CIPHER_get_protocol_id(ci) & 0xffff;
		name = SSL_CIPHER_standard_name(ci);
		snprintf(rep->cipher_name, sizeof(rep->cipher_name), "%s",
			 name ? name : SSL_CIPHER_get_name(ci));
	}
	nid = SSL_get_negotiated_group(v.ssl);
	if (nid > 0) {
		rep->key_share = group_iana(nid);
		name = OBJ_nid2sn(nid);
		snprintf(rep->group_name, sizeof(rep->group_name), "%s",
			 name ? name : "");
	}
}

static void job_reply(struct appctl_job *job, const struct attls_wire_rep *rep,
		      const unsigned char *cert, size_t cert_len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)rep, .iov_len = sizeof(*rep) },
		{ .iov_base = (void *)cert, .iov_len = cert_len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = cert_len ? 2 : 1 };

	if (job->replied)
		return;
	job->replied = 1;
	/* The client waits for this one message: its buffer has room. */
	if (sendmsg(job->reply_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("appctl: reply: %s (the application went away?)",
			  strerror(errno));
}

static void job_put(struct appctl_job *job)
{
	struct attls_wire_rep rep;

	if (atomic_fetch_sub(&job->refs, 1) != 1)
		return;
	if (!atomic_load(&job->found)) {
		/* No engine connection: a TCP socket attls does not protect. */
		rep_init(&rep);
		rep.stat_policy = ATTLS_POL_NO_POLICY;
		rep.stat_conn = ATTLS_CONN_NOTSECURE;
		if (job->r.req & ATTLS_REQ_CONTROL)
			rep.err = EACCES;
		job_reply(job, &rep, NULL, 0);
	}
	close(job->reply_fd);
	free(job);
}

static void reply_state(struct appctl_job *job, struct conn *c, int err, int rc)
{
	struct attls_wire_rep rep;

	rep_init(&rep);
	if (conn_tls_state(c) != CONN_TLS_CLOSED)
		rep_fill(&rep, c);
	rep.err = err;
	rep.rc = rc;
	job_reply(job, &rep, NULL, 0);
}

/* conn_tls_start()/conn_tls_stop() ended for a blocking request. */
static void job_done(struct conn *c, int rc, void *arg)
{
	struct appctl_job *job = arg;

	/* Failed: the connection was reset (ECONNRESET); ALLOW_HSTIMEOUT:
	 * it stays, not secure, and rc says why. */
	reply_state(job, c, rc && conn_tls_state(c) == CONN_TLS_CLOSED ?
		    ECONNRESET : 0, rc);
	job_put(job);
}

/* The partner certificate into a reply; 0 or a positive errno. */
static int reply_cert(struct appctl_job *job, struct conn *c,
		      struct attls_wire_rep *rep)
{
	unsigned char *der = NULL;
	struct conn_view v;
	X509 *x;
	int len;

	conn_view(c, &v);
	x = v.state == CONN_TLS_SECURE && v.ssl ?
	    SSL_get1_peer_certificate(v.ssl) : NULL;
	if (!x) {
		job_reply(job, rep, NULL, 0);	/* none: cert_len 0 */
		return 0;
	}
	len = i2d_X509(x, &der);
	X509_free(x);
	if (len <= 0)
		return ENOMEM;
	rep->cert_len = (uint32_t)len;
	if ((uint32_t)len > job->r.cert_max) {
		rep->err = ENOBUFS;
		job_reply(job, rep, NULL, 0);
	} else {
		job_reply(job, rep, der, (size_t)len);
	}
	OPENSSL_free(der);
	return 0;
}

static int start_err(int err, int nonblock)
{
	switch (err) {
	case -EBUSY:
		return nonblock ? EWOULDBLOCK : EALREADY;
	case -EACCES:		/* ApplicationProtocol FTP owns the TLS state */
	case -EALREADY:
	case -EPIPE:
	case -EPROTO:
	case -ENOTCONN:
		return -err;
	default:
		return EINVAL;
	}
}

/* Request job for connection c, on its thread. */
static void job_handle(struct appctl_job *job, struct conn *c)
{
	uint32_t req = job->r.req;
	int nonblock = !!(job->r.flags & ATTLS_WF_NONBLOCK);
	struct attls_wire_rep rep;
	struct conn_view v;
	int err = 0;

	conn_view(c, &v);
	if ((req & ATTLS_REQ_CONTROL) && !v.appctl) {
		err = EACCES;	/* ApplicationControlled Off */
		goto reply;
	}
	if (req & ATTLS_REQ_RESET_SESSION) {
		SSL_SESSION *s = v.ssl ? SSL_get_session(v.ssl) : NULL;

		/* The next handshake is a full one: no resumption of this. */
		if (s)
			SSL_CTX_remove_session(SSL_get_SSL_CTX(v.ssl), s);
		if (v.client)
			conn_client_sess_forget(c);
	}
	if (req & (ATTLS_REQ_RESET_CIPHER | ATTLS_REQ_RESET_WRITE_CIPHER |
		   ATTLS_REQ_SEND_SESSION_TICKET)) {
		err = conn_tls_post_hs(c, req & ATTLS_REQ_RESET_CIPHER ?
				       CONN_KEY_UPDATE :
				       req & ATTLS_REQ_RESET_WRITE_CIPHER ?
				       CONN_KEY_UPDATE_WRITE : CONN_NEW_TICKET);
		if (err) {
			err = -err == EIO ? ECONNRESET : -err;
			goto reply;
		}
	}
	if (req & (ATTLS_REQ_INIT_CONNECTION | ATTLS_REQ_STOP_CONNECTION)) {
		if (v.state == CONN_TLS_HANDSHAKE || v.state == CONN_TLS_STOPPING) {
			err = nonblock ? EWOULDBLOCK : EALREADY;
			goto reply;
		}
		if (!nonblock)
			atomic_fetch_add(&job->refs, 1);	/* held for job_done */
		if (req & ATTLS_REQ_INIT_CONNECTION)
			err = conn_tls_start(c, v.client,
					     !!(req & ATTLS_REQ_ALLOW_HSTIMEOUT),
					     nonblock ? NULL : job_done, job);
		else
			err = conn_tls_stop(c, nonblock ? NULL : job_done, job);
		if (err) {
			if (!nonblock)
				atomic_fetch_sub(&job->refs, 1);
			err = start_err(err, nonblock);
			goto reply;
		}
		if (!nonblock)
			return;		/* job_done() answers */
		err = conn_tls_state(c) == CONN_TLS_CLOSED ? ECONNRESET :
		      conn_tls_state(c) == CONN_TLS_HANDSHAKE ||
		      conn_tls_state(c) == CONN_TLS_STOPPING ? EINPROGRESS : 0;
	}
reply:
	rep_init(&rep);
	if (conn_tls_state(c) != CONN_TLS_CLOSED)
		rep_fill(&rep, c);
	rep.err = err;
	if (!err && (req & ATTLS_REQ_RETURN_CERTIFICATE)) {
		err = reply_cert(job, c, &rep);
		if (!err)
			return;
		rep.err = err;
	}
	job_reply(job, &rep, NULL, 0);
}

void appctl_serve(struct engine_thread *t)
{
	struct appctl_slot *s;
	struct appctl_job *job;
	struct conn *c;

	for (;;) {
		pthread_mutex_lock(&t->ac_lock);
		s = STAILQ_FIRST(&t->ac_queue);
		if (s)
			STAILQ_REMOVE_HEAD(&t->ac_queue, link);
		pthread_mutex_unlock(&t->ac_lock);
		if (!s)
			return;
		job = s->job;
		c = conn_find_app(t, job->r.conn_id, job->r.cookie);
		if (c) {
			atomic_store(&job->found, 1);
			job_handle(job, c);
		}
		job_put(job);
	}
}

void appctl_drain(struct engine_thread *t)
{
	appctl_serve(t);	/* its connections are gone: "no policy" */
}

int engine_appctl_submit(struct engine *e, const struct engine_appctl_req *r,
			 int reply_fd)
{
	struct appctl_job *job;
	struct engine_thread *t;
	uint64_t one = 1;
	unsigned i;

	if (!e->running || atomic_load(&e->stopping))
		return -ESHUTDOWN;
	job = calloc(1, sizeof(*job) + e->nthreads * sizeof(job->slots[0]));
	if (!job)
		return -ENOMEM;
	job->r = *r;
	job->reply_fd = reply_fd;
	atomic_init(&job->found, 0);
	atomic_init(&job->refs, e->nthreads);
	for (i = 0; i < e->nthreads; i++) {
		t = &e->threads[i];
		job->slots[i].job = job;
		pthread_mutex_lock(&t->ac_lock);
		STAILQ_INSERT_TAIL(&t->ac_queue, &job->slots[i], link);
		pthread_mutex_unlock(&t->ac_lock);
		if (write(t->wakefd, &one, sizeof(one)) < 0)
			log_warn("engine thread %u: wakefd", i);
	}
	return 0;
}
