// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libattls.c - attls_ioctl(): the application's side of attls application
 * control (attls.h).  One SOCK_SEQPACKET connection to attlsd per call,
 * the socket passed with SCM_RIGHTS, one reply.  No global state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attls.h"

static int daemon_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv("ATTLS_APPCTL_SOCK");
	int s;

	if (!path || !*path)
		path = ATTLS_APPCTL_SOCK;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun))) {
		close(s);
		return -1;
	}
	return s;
}

static int send_req(int s, int fd, const struct attls_wire_req *wr)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { .iov_base = (void *)wr, .iov_len = sizeof(*wr) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf,
			      .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&cm, 0, sizeof(cm));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(s, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* The reply into rep (+ certificate into cert, up to cert_max); its
 * length, or -1 with errno. */
static ssize_t recv_rep(int s, struct attls_wire_rep *rep, void *cert,
			uint32_t cert_max)
{
	struct iovec iov[2] = {
		{ .iov_base = rep, .iov_len = sizeof(*rep) },
		{ .iov_base = cert, .iov_len = cert_max },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = cert ? 2 : 1 };
	ssize_t n;

	do {
		n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n == 0) {
		errno = ENOSYS;		/* attlsd went away */
		return -1;
	}
	if (n > 0 && ((size_t)n < sizeof(*rep) || (msg.msg_flags & MSG_TRUNC) ||
		      rep->magic != ATTLS_WIRE_MAGIC ||
		      rep->version != ATTLS_WIRE_VERSION ||
		      rep->size != sizeof(*rep))) {
		errno = EPROTO;
		return -1;
	}
	return n;
}

static void copy_out(struct attls_ioc *ioc, const struct attls_wire_rep *rep)
{
	ioc->cert_len = rep->cert_len;
	ioc->stat_policy = rep->stat_policy;
	ioc->stat_conn = rep->stat_conn;
	ioc->sec_type = rep->sec_type;
	ioc->protocol = rep->protocol;
	ioc->cipher = rep->cipher;
	ioc->key_share = rep->key_share;
	ioc->rc = rep->rc;
	ioc->conn_id = rep->conn_id;
	memcpy(ioc->cipher_name, rep->cipher_name, sizeof(ioc->cipher_name));
	memcpy(ioc->group_name, rep->group_name, sizeof(ioc->group_name));
	memcpy(ioc->rule, rep->rule, sizeof(ioc->rule));
	ioc->cipher_name[sizeof(ioc->cipher_name) - 1] = '\0';
	ioc->group_name[sizeof(ioc->group_name) - 1] = '\0';
	ioc->rule[sizeof(ioc->rule) - 1] = '\0';
}

int attls_ioctl(int fd, struct attls_ioc *ioc)
{
	struct attls_wire_req wr = {
		.magic = ATTLS_WIRE_MAGIC,
		.version = ATTLS_WIRE_VERSION,
		.size = sizeof(wr),
	};
	struct attls_wire_rep rep;
	int s, fl, err;
	ssize_t n;

	if (!ioc || ioc->version != ATTLS_IOC_VERSION || !ioc->req ||
	    (ioc->req & ~ATTLS_REQ_ALL) ||
	    (!!(ioc->req & ATTLS_REQ_RETURN_CERTIFICATE) !=
	     !!(ioc->cert_buf && ioc->cert_buf_len))) {
		errno = EINVAL;
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;	/* EBADF */
	wr.req = ioc->req;
	wr.flags = (fl & O_NONBLOCK) ? ATTLS_WF_NONBLOCK : 0;
	wr.cert_max = ioc->cert_buf ? ioc->cert_buf_len : 0;
	if (wr.cert_max > ATTLS_WIRE_CERT_MAX)
		wr.cert_max = ATTLS_WIRE_CERT_MAX;

	s = daemon_connect();
	if (s < 0) {
		/* No attlsd: AT-TLS is "off" for this socket. */
		memset(&rep, 0, sizeof(rep));
		rep.stat_policy = ATTLS_POL_OFF;
		rep.stat_conn = ATTLS_CONN_NOTSECURE;
		copy_out(ioc, &rep);
		if (ioc->req == ATTLS_REQ_QUERY)
			return 0;
		errno = ENOSYS;
		return -1;
	}
	if (send_req(s, fd, &wr)) {
		err = errno;
		close(s);
		errno = err;
		return -1;
	}
	n = recv_rep(s, &rep, ioc->cert_buf, wr.cert_max);
	err = errno;
	close(s);
	if (n < 0) {
		errno = err;
		return -1;
	}
	copy_out(ioc, &rep);
	if (rep.err) {
		errno = rep.err;
		return -1;
	}
	if ((size_t)n != sizeof(rep) + (rep.cert_len <= wr.cert_max ?
					rep.cert_len : 0)) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

const char *attls_policy_str(uint32_t v)
{
	static const char *const s[] = { "unknown", "AT-TLS off", "no policy",
		"policy not enabled", "policy enabled", "application controlled" };

	return v < sizeof(s) / sizeof(s[0]) ? s[v] : "unknown";
}

const char *attls_conn_str(uint32_t v)
{
	static const char *const s[] = { "unknown", "not secure",
		"handshake in progress", "secure" };

	return v < sizeof(s) / sizeof(s[0]) ? s[v] : "unknown";
}

const char *attls_sec_str(uint32_t v)
{
	static const char *const s[] = { "unknown", "client", "server",
		"server with client auth (PassThru)",
		"server with client auth (Full)",
		"server with client auth (Required)",
		"server with client auth (SAFCheck)" };

	return v < sizeof(s) / sizeof(s[0]) ? s[v] : "unknown";
}
