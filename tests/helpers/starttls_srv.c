// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * starttls_srv.c - a sample controlling application (libattls): a line
 * server whose policy has ApplicationControlled On.  It never touches TLS
 * itself: it asks attls to start and stop it on its own socket.
 *
 *   starttls_srv -p PORT [-a ADDR] [-n] [-d MS] [-r READYFILE]
 *	-n: the socket is O_NONBLOCK during INIT/STOP; the server then polls
 *	    with ATTLS_REQ_QUERY until the handshake (or stop) is over.
 *	-d: wait MS milliseconds between "OK" and INIT, so the client's
 *	    ClientHello surely arrives before the init (the race rule).
 *
 * Protocol (one line each way; one process per connection):
 *   on connect          "220 starttls_srv ready"
 *   STARTTLS            "OK", then ATTLS_REQ_INIT_CONNECTION
 *   STOPTLS             "OK", then ATTLS_REQ_STOP_CONNECTION
 *   QUERY               "QUERY policy=P conn=C sec=S proto=0xV cipher=0xC
 *                        name=N group=G keyshare=0xK rule=R id=CONNID"
 *   CERT                "CERT len=N subject=..." or "CERT none"
 *                       (first with a 16-byte buffer: must be ENOBUFS)
 *   ADDR                "ADDR local=A:P peer=A:P" (getsockname/getpeername)
 *   RESETCIPHER / RESETWRITE / SENDTICKET / RESETSESSION / INITAGAIN
 *                       ATTLS_REQ_RESET_CIPHER, _RESET_WRITE_CIPHER,
 *                       _SEND_SESSION_TICKET, _RESET_SESSION, _INIT_CONNECTION:
 *                       "OK" or "ERR errno-name rc=N"
 *   FAKESTART           "OK" but no INIT (a broken application)
 *   QUIT                closes; anything else: "ECHO <line>"
 * A failed INIT/STOP prints "starttls_srv: ..." on stderr and ends the
 * connection.
 *
 * Client mode (-c): connect to ADDR:PORT (an outbound rule with
 * HandshakeRole Client), print the server's first line, then run the
 * steps, printing one line on stdout for each:
 *   LINE        send LINE, print the reply line
 *   +STARTTLS   send "STARTTLS", expect "OK", ATTLS_REQ_INIT_CONNECTION;
 *               prints "OK <connection status>"
 *   +STOPTLS    send "STOPTLS", expect "OK", ATTLS_REQ_STOP_CONNECTION;
 *               prints "OK <connection status>"
 *   +QUERY      prints the QUERY line (as the server's QUERY reply)
 *   +CERT       prints the CERT line (the server's certificate)
 *   +ADDR       prints the ADDR line of its own socket
 *   +RESETCIPHER, +RESETWRITE, +SENDTICKET, +RESETSESSION
 *               that request on its own socket: "OK" or "ERR ..."
 *   QUIT        send "QUIT", expect the server to close; prints "EOF"
 * Exit status 0 when every step ran, 1 otherwise (the reason on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "attls.h"

struct line_in {
	int fd;
	char buf[4096];
	size_t len;
};

/* One line without its newline into out; 0 at EOF or error. */
static int read_line(struct line_in *in, char *out, size_t outlen)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(in->buf, '\n', in->len);
		if (nl) {
			size_t l = (size_t)(nl - in->buf);

			snprintf(out, outlen, "%.*s", (int)l, in->buf);
			if (l && out[l - 1] == '\r')
				out[l - 1] = '\0';
			memmove(in->buf, nl + 1, in->len - l - 1);
			in->len -= l + 1;
			return 1;
		}
		if (in->len == sizeof(in->buf))
			return 0;
		n = read(in->fd, in->buf + in->len, sizeof(in->buf) - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		in->len += (size_t)n;
	}
}

/* The one-shot request a command line asks for, 0 for other lines. */
static uint32_t line_req(const char *line)
{
	static const struct {
		const char *cmd;
		uint32_t req;
	} cmds[] = {
		{ "RESETCIPHER", ATTLS_REQ_RESET_CIPHER },
		{ "RESETWRITE", ATTLS_REQ_RESET_WRITE_CIPHER },
		{ "SENDTICKET", ATTLS_REQ_SEND_SESSION_TICKET },
		{ "RESETSESSION", ATTLS_REQ_RESET_SESSION },
		{ "INITAGAIN", ATTLS_REQ_INIT_CONNECTION },
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(line, cmds[i].cmd))
			return cmds[i].req;
	return 0;
}

static void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	size_t off = 0;
	ssize_t n;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	while (off < (size_t)len) {
		n = write(fd, buf + off, (size_t)len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static int ioc_do(int fd, uint32_t req, struct attls_ioc *ioc, void *buf,
		  uint32_t buflen)
{
	memset(ioc, 0, sizeof(*ioc));
	ioc->version = ATTLS_IOC_VERSION;
	ioc->req = req;
	ioc->cert_buf = buf;
	ioc->cert_buf_len = buflen;
	return attls_ioctl(fd, ioc);
}

static void say_err(int fd, const struct attls_ioc *ioc, int err)
{
	say(fd, "ERR %s rc=%d", strerrorname_np(err) ? strerrorname_np(err) : "?",
	    ioc->rc);
}

/*
 * INIT or STOP.  Non-blocking: EINPROGRESS, then QUERY until the state
 * is no longer "handshake in progress".  0 or -1 (logged).
 */
static int start_stop(int fd, uint32_t req, int nonblock, uint32_t *conn)
{
	struct timespec ms = { 0, 10 * 1000000 };
	struct attls_ioc ioc;
	int fl = fcntl(fd, F_GETFL), i, r;

	if (nonblock)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	r = ioc_do(fd, req, &ioc, NULL, 0);
	if (r < 0 && nonblock && errno == EINPROGRESS) {
		fprintf(stderr, "starttls_srv: %s: EINPROGRESS, polling\n",
			req == ATTLS_REQ_INIT_CONNECTION ? "init" : "stop");
		for (i = 0, r = -1; i < 3000; i++) {
			if (ioc_do(fd, ATTLS_REQ_QUERY, &ioc, NULL, 0) < 0)
				break;
			if (ioc.stat_conn != ATTLS_CONN_HS_INPROGRESS) {
				r = 0;
				break;
			}
			nanosleep(&ms, NULL);
		}
		errno = r ? ETIMEDOUT : 0;
	}
	if (nonblock)
		fcntl(fd, F_SETFL, fl);
	if (r < 0) {
		fprintf(stderr, "starttls_srv: %s failed: %s (rc %d)\n",
			req == ATTLS_REQ_INIT_CONNECTION ? "init" : "stop",
			strerror(errno), ioc.rc);
		return -1;
	}
	fprintf(stderr, "starttls_srv: %s done: %s\n",
		req == ATTLS_REQ_INIT_CONNECTION ? "init" : "stop",
		attls_conn_str(ioc.stat_conn));
	if (conn)
		*conn = ioc.stat_conn;
	return 0;
}

/* The partner certificate of fd, as a line on out. */
static void cmd_cert(int fd, int out)
{
	unsigned char small[16], *der;
	const unsigned char *p;
	struct attls_ioc ioc;
	char subj[512] = "?";
	X509 *x;

	if (ioc_do(fd, ATTLS_REQ_RETURN_CERTIFICATE, &ioc, small, sizeof(small)) == 0) {
		if (!ioc.cert_len) {
			say(out, "CERT none");
			return;
		}
		say(out, "ERR no ENOBUFS with a 16-byte buffer");
		return;
	}
	if (errno != ENOBUFS || ioc.cert_len <= sizeof(small)) {
		say_err(out, &ioc, errno);
		return;
	}
	der = malloc(ioc.cert_len);
	if (!der || ioc_do(fd, ATTLS_REQ_RETURN_CERTIFICATE, &ioc, der,
			   ioc.cert_len) < 0) {
		say_err(out, &ioc, der ? errno : ENOMEM);
		free(der);
		return;
	}
	p = der;
	x = d2i_X509(NULL, &p, ioc.cert_len);
	if (x)
		X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	say(out, "CERT len=%u subject=%s", ioc.cert_len, subj);
	X509_free(x);
	free(der);
}

/* The status of fd, as a line on out. */
static void cmd_query(int fd, int out)
{
	struct attls_ioc ioc;

	if (ioc_do(fd, ATTLS_REQ_QUERY, &ioc, NULL, 0) < 0) {
		say_err(out, &ioc, errno);
		return;
	}
	say(out, "QUERY policy=%u conn=%u sec=%u proto=0x%04x "
	    "cipher=0x%04x name=%s group=%s keyshare=0x%04x rule=%s id=%016llx",
	    ioc.stat_policy, ioc.stat_conn, ioc.sec_type,
	    ioc.protocol, ioc.cipher, ioc.cipher_name[0] ?
	    ioc.cipher_name : "-", ioc.group_name[0] ?
	    ioc.group_name : "-", ioc.key_share,
	    ioc.rule[0] ? ioc.rule : "-", (unsigned long long)ioc.conn_id);
}

/* "A:P" of an AF_INET/AF_INET6 address into buf. */
static const char *addr_str(const struct sockaddr_storage *ss, char *buf,
			    size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, ss->ss_family == AF_INET6 ?
		 ntohs(s6->sin6_port) : ntohs(s4->sin_port));
	return buf;
}

/* The socket's own view of its ends (as attls's hooks leave them). */
static void cmd_addr(int fd, int out)
{
	struct sockaddr_storage l = { 0 }, p = { 0 };
	socklen_t ll = sizeof(l), pl = sizeof(p);
	char lb[64], pb[64];

	if (getsockname(fd, (struct sockaddr *)&l, &ll) ||
	    getpeername(fd, (struct sockaddr *)&p, &pl)) {
		say(out, "ERR %s", strerror(errno));
		return;
	}
	say(out, "ADDR local=%s peer=%s", addr_str(&l, lb, sizeof(lb)),
	    addr_str(&p, pb, sizeof(pb)));
}

static int init_delay_ms;

static void serve(int fd, int nonblock)
{
	struct line_in in = { .fd = fd };
	struct attls_ioc ioc;
	char line[2048];

	say(fd, "220 starttls_srv ready");
	while (read_line(&in, line, sizeof(line))) {
		if (!strcmp(line, "STARTTLS") || !strcmp(line, "STOPTLS")) {
			int start = line[3] == 'R';

			say(fd, "OK");
			if (start && init_delay_ms) {
				struct timespec d = { init_delay_ms / 1000,
					(init_delay_ms % 1000) * 1000000L };

				nanosleep(&d, NULL);
			}
			if (start_stop(fd, start ? ATTLS_REQ_INIT_CONNECTION :
				       ATTLS_REQ_STOP_CONNECTION, nonblock, NULL))
				return;
		} else if (!strcmp(line, "QUERY")) {
			cmd_query(fd, fd);
		} else if (!strcmp(line, "CERT")) {
			cmd_cert(fd, fd);
		} else if (!strcmp(line, "ADDR")) {
			cmd_addr(fd, fd);
		} else if (line_req(line)) {
			uint32_t req = line_req(line);

			if (ioc_do(fd, req, &ioc, NULL, 0) < 0)
				say_err(fd, &ioc, errno);
			else
				say(fd, "OK");
		} else if (!strcmp(line, "FAKESTART")) {
			say(fd, "OK");
		} else if (!strcmp(line, "QUIT")) {
			return;
		} else {
			say(fd, "ECHO %s", line);
		}
	}
}

/*
 * Client mode: the STARTTLS line exchange of step `st` on fd, one line
 * on stdout.  0, or -1 (the reason on stderr).
 */
static int client_step(struct line_in *in, const char *st, int nonblock)
{
	int fd = in->fd, start = !strcmp(st, "+STARTTLS");
	char line[2048];
	uint32_t conn = 0;

	if (!strcmp(st, "+QUERY")) {
		cmd_query(fd, STDOUT_FILENO);
		return 0;
	}
	if (!strcmp(st, "+CERT")) {
		cmd_cert(fd, STDOUT_FILENO);
		return 0;
	}
	if (!strcmp(st, "+ADDR")) {
		cmd_addr(fd, STDOUT_FILENO);
		return 0;
	}
	if (st[0] == '+' && line_req(st + 1)) {
		struct attls_ioc ioc;

		if (ioc_do(fd, line_req(st + 1), &ioc, NULL, 0) < 0)
			say_err(STDOUT_FILENO, &ioc, errno);
		else
			say(STDOUT_FILENO, "OK");
		return 0;
	}
	if (start || !strcmp(st, "+STOPTLS"))
		say(fd, "%s", st + 1);
	else
		say(fd, "%s", st);
	if (!read_line(in, line, sizeof(line))) {
		if (!strcmp(st, "QUIT")) {
			say(STDOUT_FILENO, "EOF");
			return 0;
		}
		fprintf(stderr, "starttls_srv: %s: the server closed\n", st);
		return -1;
	}
	if (st[0] != '+') {
		say(STDOUT_FILENO, "%s", line);
		return 0;
	}
	if (strcmp(line, "OK")) {
		fprintf(stderr, "starttls_srv: %s: answered \"%s\"\n", st, line);
		return -1;
	}
	if (in->len) {
		/* the server must wait for TLS: nothing may follow its OK */
		fprintf(stderr, "starttls_srv: %s: %zu bytes after OK\n", st,
			in->len);
		return -1;
	}
	if (start_stop(fd, start ? ATTLS_REQ_INIT_CONNECTION :
		       ATTLS_REQ_STOP_CONNECTION, nonblock, &conn))
		return -1;
	say(STDOUT_FILENO, "OK %s", attls_conn_str(conn));
	return 0;
}

static int client(const struct sockaddr_in *to, const char *bind_addr,
		  int nonblock, char **steps, int nsteps)
{
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct line_in in = { .len = 0 };
	char line[2048];
	int i;

	in.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (in.fd < 0) {
		perror("starttls_srv: socket");
		return EXIT_FAILURE;
	}
	if (bind_addr && (inet_pton(AF_INET, bind_addr, &from.sin_addr) != 1 ||
			  bind(in.fd, (struct sockaddr *)&from, sizeof(from)))) {
		perror("starttls_srv: bind");
		goto close_fd;
	}
	if (connect(in.fd, (const struct sockaddr *)to, sizeof(*to))) {
		perror("starttls_srv: connect");
		goto close_fd;
	}
	if (!read_line(&in, line, sizeof(line))) {
		fprintf(stderr, "starttls_srv: no greeting\n");
		goto close_fd;
	}
	say(STDOUT_FILENO, "%s", line);
	for (i = 0; i < nsteps; i++)
		if (client_step(&in, steps[i], nonblock))
			goto close_fd;
	close(in.fd);
	return EXIT_SUCCESS;
close_fd:
	close(in.fd);
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *addr = "127.0.0.1", *ready = NULL, *bind_addr = NULL;
	int nonblock = 0, port = 0, one = 1, is_client = 0, opt, lfd, fd;
	FILE *f;

	while ((opt = getopt(argc, argv, "a:b:cd:np:r:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'c':
			is_client = 1;
			break;
		case 'd':
			init_delay_ms = atoi(optarg);
			break;
		case 'n':
			nonblock = 1;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s -p PORT [-a ADDR] [-n] [-d MS] [-r READY]\n"
				"       %s -c -p PORT [-a ADDR] [-b BIND] [-n] STEP...\n",
				argv[0], argv[0]);
			return EXIT_FAILURE;
		}
	}
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "starttls_srv: bad address or port\n");
		return EXIT_FAILURE;
	}
	sin.sin_port = htons((uint16_t)port);
	signal(SIGPIPE, SIG_IGN);
	if (is_client)
		return client(&sin, bind_addr, nonblock, argv + optind,
			      argc - optind);
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 64)) {
		perror("starttls_srv: listen");
		return EXIT_FAILURE;
	}
	if (ready) {
		f = fopen(ready, "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("starttls_srv: accept");
			return EXIT_FAILURE;
		}
		if (fork() == 0) {
			close(lfd);
			serve(fd, nonblock);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
