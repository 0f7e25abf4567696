// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * appctl.c - attlsd's application control socket: receive libattls
 * requests, identify the application's socket, pass them to the engine.
 *
 * Identification never trusts addresses (getpeername()/getsockname() of a
 * protected socket are rewritten by our own cgroup hooks): an inbound
 * application socket carries its engine connection id in attls_appsk
 * socket storage (written by sockops when it was established from an
 * engine hop), looked up here with the received fd itself as the key; an
 * outbound one is known by its socket cookie (SO_COOKIE), which the engine
 * recorded from attls_out.  The fd came from the kernel through
 * SCM_RIGHTS, so only a process holding the socket can ask about it.
 * A socket with neither mark (no attls_appsk, no attls_orig) was never
 * steered: it is answered here, classified like the BPF side did
 * (appctl_class.h) against a copy of the installed rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../bpf/attls_abi.h"
#include "../policy/policy.h"
#include "appctl.h"
#include "appctl_class.h"
#include "engine.h"
#include "lib/attls.h"
#include "log.h"
#include "privdrop.h"

/*
 * Clients connected but whose request has not come yet: more are refused,
 * and one that sends nothing is dropped after APPCTL_PENDING_MS (the
 * socket is open to everyone; libattls sends at once after connecting).
 */
#define APPCTL_MAX_PENDING	256
#define APPCTL_PENDING_MS	2000
/*
 * INIT/STOP: what the application wrote before the request must reach the
 * engine's hop first (the engine counts what it holds and sends exactly
 * that in the old mode): its socket's send queue must be empty (SIOCOUTQ:
 * not yet sent *or* not yet acknowledged; the hop acknowledges only what
 * it has queued, so a segment the hop dropped under memory pressure and
 * the sender will retransmit still counts - SIOCOUTQNSD would miss it).
 * Only a full hop receive window (a partner that does not read) delays
 * them; this bounds the wait, after which the request is refused with
 * EAGAIN: counted later, those bytes would go in the new mode - after a
 * stop, in cleartext.
 */
#define APPCTL_OUTQ_WAIT_MS	100

struct appctl {
	char path[108];
	struct engine *e;
	struct appctl_maps maps;
	/* The installed rules (appctl_set_policy()) and their rule names by
	 * rule_id, under pol_lock: the main thread replaces them. */
	pthread_mutex_t pol_lock;
	struct attls_rule *rules;
	size_t nrules;
	char (*names)[ATTLS_NAME_LEN];
	size_t nnames;
	int lfd;
	int efd;
	int wakefd;
	struct pending {
		int fd;			/* -1: free slot */
		uint64_t since_ms;	/* CLOCK_MONOTONIC */
	} pending[APPCTL_MAX_PENDING];
	unsigned npending;
	pthread_t tid;
	int started;
};

/* Reply err with policy status `policy` (0: none) and rule name `rule`. */
static void reply_status(int fd, int err, uint32_t policy, const char *rule)
{
	struct attls_wire_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.magic = ATTLS_WIRE_MAGIC;
	rep.version = ATTLS_WIRE_VERSION;
	rep.size = sizeof(rep);
	rep.err = err;
	rep.stat_policy = policy;
	if (policy)
		rep.stat_conn = ATTLS_CONN_NOTSECURE;
	snprintf(rep.rule, sizeof(rep.rule), "%s", rule ? rule : "");
	if (send(fd, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("appctl: reply: %s", strerror(errno));
}

static void reply_err(int fd, int err, uint32_t policy)
{
	reply_status(fd, err, policy, NULL);
}

/*
 * The policy status of socket fd, which was never steered to the engine:
 * ATTLS_POL_NOT_ENABLED (rule name into rule[]) when the first rule
 * matching it, as the BPF side classified it, has TTLSEnabled Off, else
 * ATTLS_POL_NO_POLICY: no rule matches, the socket is not of an attached
 * cgroup (no owner), or was established before attls saw it (no
 * direction), or a TLS rule matches now but attls does not carry the
 * connection (it was established before that rule was installed).
 */
static uint32_t classify(struct appctl *a, int fd, char *rule, size_t len)
{
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer), ilen = sizeof(int);
	const struct attls_rule *m;
	struct attls_endpoint bk;
	struct attls_owner o;
	struct attls_flow f;
	uint32_t st;
	int dom = 0, bound;

	if (bpf_map_lookup_elem(a->maps.owner, &fd, &o) || !o.dir)
		return ATTLS_POL_NO_POLICY;
	if (getsockname(fd, (struct sockaddr *)&local, &llen) ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &ilen))
		return ATTLS_POL_NO_POLICY;
	bound = !bpf_map_lookup_elem(a->maps.bindkey, &fd, &bk);
	if (appctl_class_flow((struct sockaddr *)&local, (struct sockaddr *)&peer,
			      dom == AF_INET ? ATTLS_AF_INET : ATTLS_AF_INET6,
			      o.dir, bound ? &bk : NULL, &f))
		return ATTLS_POL_NO_POLICY;
	pthread_mutex_lock(&a->pol_lock);
	st = appctl_class_status(a->rules, a->nrules, &f, &o, o.dir, &m);
	if (st == ATTLS_POL_NOT_ENABLED && m->rule_id < a->nnames)
		snprintf(rule, len, "%s", a->names[m->rule_id]);
	pthread_mutex_unlock(&a->pol_lock);
	return st == ATTLS_POL_NOT_ENABLED ? st : ATTLS_POL_NO_POLICY;
}

/* Request flags the way SIOCTTLSCTL checks them: 0, EINVAL or EPERM. */
static int check_req(uint32_t req)
{
	uint32_t post = ATTLS_REQ_RESET_CIPHER | ATTLS_REQ_RESET_WRITE_CIPHER |
			ATTLS_REQ_SEND_SESSION_TICKET;
	uint32_t ctl = ATTLS_REQ_RESET_SESSION | post;

	if (!req || (req & ~ATTLS_REQ_ALL))
		return EINVAL;
	/* One post-handshake message per request. */
	if ((req & post) & ((req & post) - 1))
		return EPERM;
	if ((req & ATTLS_REQ_INIT_CONNECTION) &&
	    (req & (ctl | ATTLS_REQ_STOP_CONNECTION)))
		return EPERM;
	if ((req & ATTLS_REQ_STOP_CONNECTION) && (req & ctl))
		return EPERM;
	if ((req & ATTLS_REQ_ALLOW_HSTIMEOUT) && !(req & ATTLS_REQ_INIT_CONNECTION))
		return EPERM;
	return 0;
}

/* A connected TCP socket?  0 or the errno of SIOCTTLSCTL for it. */
static int check_socket(int fd, uint32_t req)
{
	int type = 0, proto = 0, dom = 0;
	socklen_t len = sizeof(int);
	struct tcp_info ti;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len))
		return errno == ENOTSOCK ? ENOTSOCK : EBADF;
	len = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	len = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
	if ((dom != AF_INET && dom != AF_INET6) || type != SOCK_STREAM ||
	    proto != IPPROTO_TCP)
		return EPROTOTYPE;
	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return ENOTCONN;
	if (ti.tcpi_state == TCP_ESTABLISHED)
		return 0;
	if (ti.tcpi_state == TCP_LISTEN || ti.tcpi_state == TCP_SYN_SENT ||
	    ti.tcpi_state == TCP_SYN_RECV || ti.tcpi_state == TCP_CLOSE)
		return ENOTCONN;
	/* closing: status only */
	return req & (ATTLS_REQ_INIT_CONNECTION | ATTLS_REQ_STOP_CONNECTION |
		      ATTLS_REQ_RESET_CIPHER | ATTLS_REQ_RESET_WRITE_CIPHER |
		      ATTLS_REQ_SEND_SESSION_TICKET) ? EPIPE : 0;
}

/* Wait (bounded) until what the application wrote has reached the hop:
 * 0, or EAGAIN when it has not. */
static int wait_outq(int fd)
{
	struct timespec ms = { 0, 1000000 };
	int i, q = 0;

	for (i = 0; i <= APPCTL_OUTQ_WAIT_MS; i++) {
		if (ioctl(fd, SIOCOUTQ, &q) || q <= 0)
			return 0;
		if (i < APPCTL_OUTQ_WAIT_MS)
			nanosleep(&ms, NULL);
	}
	return EAGAIN;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Forget pending client fd (served, or dropped when closing it). */
static void pending_del(struct appctl *a, int fd, int close_it)
{
	unsigned i;

	for (i = 0; i < APPCTL_MAX_PENDING; i++) {
		if (a->pending[i].fd != fd)
			continue;
		a->pending[i].fd = -1;
		a->npending--;
		epoll_ctl(a->efd, EPOLL_CTL_DEL, fd, NULL);
		if (close_it)
			close(fd);
		return;
	}
}

/* Drop the clients that sent nothing for APPCTL_PENDING_MS. */
static void pending_expire(struct appctl *a)
{
	uint64_t now = now_ms();
	unsigned i;

	for (i = 0; i < APPCTL_MAX_PENDING && a->npending; i++)
		if (a->pending[i].fd >= 0 &&
		    now - a->pending[i].since_ms > APPCTL_PENDING_MS)
			pending_del(a, a->pending[i].fd, 1);
}

/* One request from client cfd (readable); cfd is consumed. */
static void serve_client(struct appctl *a, int cfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cm;
	struct attls_wire_req wr;
	struct engine_appctl_req r = {};
	struct iovec iov = { .iov_base = &wr, .iov_len = sizeof(wr) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf,
			      .msg_controllen = sizeof(cm.buf) };
	struct attls_appsk as;
	struct attls_orig orig;
	struct cmsghdr *c;
	socklen_t len;
	int nfd = 0, fds[4], app = -1, err, i, inq = 0;
	ssize_t n;

	n = recvmsg(cfd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == EAGAIN)
		return;		/* spurious: stays registered */
	pending_del(a, cfd, 0);
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; (size_t)i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) &&
		     nfd < 4; i++)
			memcpy(&fds[nfd++], CMSG_DATA(c) + i * sizeof(int),
			       sizeof(int));
	}
	if (n != sizeof(wr) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    wr.magic != ATTLS_WIRE_MAGIC || wr.version != ATTLS_WIRE_VERSION ||
	    wr.size != sizeof(wr) || nfd != 1) {
		if (n > 0)
			reply_err(cfd, EINVAL, 0);
		goto close_fds;
	}
	app = fds[0];
	err = check_req(wr.req);
	err = err ?: check_socket(app, wr.req);
	if (err) {
		reply_err(cfd, err, 0);
		goto close_fds;
	}
	if (!bpf_map_lookup_elem(a->maps.appsk, &app, &as)) {
		r.conn_id = as.conn_id;
	} else if (bpf_map_lookup_elem(a->maps.orig, &app, &orig)) {
		/* Never steered: not the engine's.  Control requests are
		 * EACCES, as for ApplicationControlled Off. */
		char rule[ATTLS_NAME_LEN] = "";
		uint32_t pol = classify(a, app, rule, sizeof(rule));

		reply_status(cfd, wr.req & ATTLS_REQ_CONTROL ? EACCES : 0, pol, rule);
		goto close_fds;
	}
	if ((wr.req & ATTLS_REQ_STOP_CONNECTION) &&
	    !ioctl(app, SIOCINQ, &inq) && inq > 0) {
		/* JRTTLSStopReadDataPending: read everything first. */
		reply_err(cfd, EPROTO, 0);
		goto close_fds;
	}
	if ((wr.req & (ATTLS_REQ_INIT_CONNECTION | ATTLS_REQ_STOP_CONNECTION)) &&
	    wait_outq(app)) {
		reply_err(cfd, EAGAIN, 0);
		goto close_fds;
	}
	len = sizeof(r.cookie);
	if (getsockopt(app, SOL_SOCKET, SO_COOKIE, &r.cookie, &len))
		r.cookie = 0;
	r.req = wr.req;
	r.flags = wr.flags;
	r.cert_max = wr.cert_max < ATTLS_WIRE_CERT_MAX ? wr.cert_max :
		     ATTLS_WIRE_CERT_MAX;
	err = engine_appctl_submit(a->e, &r, cfd);
	if (err) {
		reply_err(cfd, -err == ESHUTDOWN ? ENOSYS : -err, 0);
		goto close_fds;
	}
	cfd = -1;	/* the engine answers and closes it */
close_fds:
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	if (cfd >= 0)
		close(cfd);
}

static void accept_clients(struct appctl *a)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	unsigned i;
	int cfd;

	for (;;) {
		cfd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("appctl: accept");
			return;
		}
		if (a->npending >= APPCTL_MAX_PENDING)
			pending_expire(a);
		if (a->npending >= APPCTL_MAX_PENDING) {
			log_warnx("appctl: %u requests pending, refusing more",
				  a->npending);
			close(cfd);
			continue;
		}
		ev.data.fd = cfd;
		if (epoll_ctl(a->efd, EPOLL_CTL_ADD, cfd, &ev)) {
			log_warn("appctl: epoll");
			close(cfd);
			continue;
		}
		for (i = 0; a->pending[i].fd >= 0; i++)
			;	/* npending < APPCTL_MAX_PENDING: a free slot */
		a->pending[i].fd = cfd;
		a->pending[i].since_ms = now_ms();
		a->npending++;
	}
}

static void *appctl_thread(void *arg)
{
	struct appctl *a = arg;
	struct epoll_event evs[32];
	int n, i;

	/* Any local process may send here: no capability (privdrop.h).  A
	 * thread that cannot drop them does not serve. */
	n = privdrop_worker();
	if (n) {
		log_warnx("appctl: cannot drop capabilities (%s): application "
			  "control requests are not served", strerror(-n));
		return NULL;
	}
	for (;;) {
		n = epoll_wait(a->efd, evs, 32, a->npending ? APPCTL_PENDING_MS : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("appctl: epoll_wait");
			break;
		}
		if (a->npending)
			pending_expire(a);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == a->wakefd)
				return NULL;
			if (evs[i].data.fd == a->lfd)
				accept_clients(a);
			else
				serve_client(a, evs[i].data.fd);
		}
	}
	return NULL;
}

int appctl_open(const char *path, struct engine *e,
		const struct appctl_maps *maps, struct appctl **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct appctl *a;
	unsigned i;
	int err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	snprintf(a->path, sizeof(a->path), "%s", path);
	memcpy(sun.sun_path, path, strlen(path));
	a->e = e;
	a->maps = *maps;
	pthread_mutex_init(&a->pol_lock, NULL);
	for (i = 0; i < APPCTL_MAX_PENDING; i++)
		a->pending[i].fd = -1;
	a->efd = a->wakefd = -1;
	a->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->lfd < 0) {
		err = -errno;
		goto free_a;
	}
	unlink(path);
	/* 0666: the passed socket is the credential, not the caller. */
	if (bind(a->lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0666) || listen(a->lfd, 64)) {
		err = -errno;
		log_warn("appctl: %s", path);
		goto close_lfd;
	}
	a->efd = epoll_create1(EPOLL_CLOEXEC);
	a->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0 || a->wakefd < 0) {
		err = -errno;
		goto unlink_path;
	}
	ev.data.fd = a->lfd;
	epoll_ctl(a->efd, EPOLL_CTL_ADD, a->lfd, &ev);
	ev.data.fd = a->wakefd;
	epoll_ctl(a->efd, EPOLL_CTL_ADD, a->wakefd, &ev);
	err = -pthread_create(&a->tid, NULL, appctl_thread, a);
	if (err)
		goto unlink_path;
	a->started = 1;
	*out = a;
	return 0;
unlink_path:
	unlink(path);
close_lfd:
	if (a->efd >= 0)
		close(a->efd);
	if (a->wakefd >= 0)
		close(a->wakefd);
	close(a->lfd);
free_a:
	pthread_mutex_destroy(&a->pol_lock);
	free(a);
	return err;
}

void appctl_close(struct appctl *a)
{
	uint64_t one = 1;
	unsigned i;

	if (!a)
		return;
	if (a->started) {
		if (write(a->wakefd, &one, sizeof(one)) < 0)
			log_warn("appctl: wakefd");
		pthread_join(a->tid, NULL);
	}
	/* Clients still pending: the library sees EOF and reports ENOSYS. */
	for (i = 0; i < APPCTL_MAX_PENDING; i++)
		if (a->pending[i].fd >= 0)
			close(a->pending[i].fd);
	close(a->efd);
	close(a->wakefd);
	close(a->lfd);
	unlink(a->path);
	free(a->rules);
	free(a->names);
	pthread_mutex_destroy(&a->pol_lock);
	free(a);
}

int appctl_set_policy(struct appctl *a, const struct attls_map_image *img)
{
	char (*names)[ATTLS_NAME_LEN] = NULL, (*old_names)[ATTLS_NAME_LEN];
	struct attls_rule *rules = NULL, *old_rules;
	size_t i;

	if (img->nrules) {
		rules = malloc(img->nrules * sizeof(*rules));
		if (!rules)
			return -ENOMEM;
		memcpy(rules, img->rules, img->nrules * sizeof(*rules));
	}
	if (img->nactions) {
		names = calloc(img->nactions, sizeof(*names));
		if (!names) {
			free(rules);
			return -ENOMEM;
		}
		for (i = 0; i < img->nactions; i++)
			snprintf(names[i], sizeof(names[i]), "%s",
				 img->actions[i].rule_name);
	}
	pthread_mutex_lock(&a->pol_lock);
	old_rules = a->rules;
	old_names = a->names;
	a->rules = rules;
	a->names = names;
	a->nrules = img->nrules;
	a->nnames = img->nactions;
	pthread_mutex_unlock(&a->pol_lock);
	free(old_rules);
	free(old_names);
	return 0;
}
