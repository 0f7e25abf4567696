// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * benchtool.c - the load generators and the cleartext application of
 * `make bench` (tests/bench/bench.py).  One binary, one subcommand per
 * role; every client prints one JSON object on stdout.
 *
 *   server --listen IP:PORT --mode echo|duplex|accept [--bytes N]
 *          [--ready FILE]
 *       The unmodified cleartext application (epoll, one thread).
 *       echo    echo everything back (latency, handshakes, idle conns)
 *       duplex  write --bytes while reading --bytes, then close
 *       accept  accept and close at once (connect+accept rate)
 *
 *   bulk  --connect IP:PORT [--tls] --bytes N
 *       One connection, N bytes each way at once (duplex server).
 *   hs    --connect IP:PORT --conns N --seconds S [--warmup S]
 *         [--threads T] [--resume] [--bind IP,IP,...]
 *       TLS handshake rate: N parallel non-blocking connections, each
 *       handshake + one 32-byte request/response (echo server) +
 *       close_notify + close.  --resume: each of the N clients offers the
 *       newest TLS 1.3 ticket it received (from its previous connection).
 *   lat   --connect IP:PORT [--tls] --size B --count N [--warmup N]
 *       Request/response latency on one warm connection (echo server).
 *   latmix --target NAME=IP:PORT[,tls] ... --size B --count N
 *       The same on several connections, round trips interleaved.
 *   conn  --connect IP:PORT --conns N --seconds S [--rate R] [--bind ...]
 *       Plain connect+accept rate (accept server): connect, reset-close.
 *   hold  --connect IP:PORT --conns N [--bind IP,...]
 *       Open N TLS connections (handshake + one echo each), print a JSON
 *       line, keep them idle until stdin reaches EOF, then close them.
 *
 * TLS clients: TLS 1.3 only, TLS_AES_128_GCM_SHA256, group X25519, no
 * certificate chain verification (the CertificateVerify signature is
 * still checked, as TLS 1.3 requires): the load generator must cost as
 * little as possible next to the server under test on a small machine.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BIGBUF	(256 * 1024)

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "benchtool: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void raise_nofile(void)
{
	struct rlimit rl = { 1048576, 1048576 };

	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max = 262144;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
}

static void parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		die("bad address %s (IP:PORT)", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		die("bad IPv4 address %s", host);
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
}

/* --bind a,b,c: client source addresses, used round robin. */
struct binds {
	struct in_addr a[64];
	int n;
};

static void parse_binds(const char *s, struct binds *b)
{
	char buf[2048], *tok, *save = NULL;

	b->n = 0;
	if (!s)
		return;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok && b->n < 64;
	     tok = strtok_r(NULL, ",", &save)) {
		if (inet_pton(AF_INET, tok, &b->a[b->n]) != 1)
			die("bad bind address %s", tok);
		b->n++;
	}
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A non-blocking connect; -1 with errno on an immediate failure. */
static int connect_nb(const struct sockaddr_in *dst, const struct binds *b,
		      unsigned *rr)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	set_nodelay(fd);
	if (b && b->n) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		src.sin_addr = b->a[(*rr)++ % (unsigned)b->n];
		/* port chosen at connect(): the 4-tuple, not the address
		 * alone, must be unique */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src))) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int connect_blocking(const struct sockaddr_in *dst)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	set_nodelay(fd);
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)))
		die("connect: %s", strerror(errno));
	return fd;
}

static void rst_close(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* ---- TLS client context ----------------------------------------------- */

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		die("SSL_CTX_new");
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519") != 1)
		die("client TLS settings");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* sessions are kept by the client code itself (SSL_get1_session) */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
				       SSL_SESS_CACHE_NO_INTERNAL_STORE);
	return ctx;
}

/* ---- server ----------------------------------------------------------- */

enum smode { M_ECHO, M_DUPLEX, M_ACCEPT };

struct sconn {
	int fd;
	uint64_t wrote, read;
	char *pend;		/* echo: bytes not yet written back */
	size_t pend_len;
};

static char g_buf[BIGBUF];
static char g_rbuf[BIGBUF];

static void sconn_close(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pend);
	free(c);
}

/* returns 0 to keep the connection, -1 when it was closed */
static int server_echo(int ep, struct sconn *c, uint32_t ev)
{
	ssize_t n, w;

	if (c->pend_len && (ev & EPOLLOUT)) {
		w = write(c->fd, c->pend, c->pend_len);
		if (w < 0 && errno != EAGAIN)
			goto close;
		if (w > 0) {
			memmove(c->pend, c->pend + w, c->pend_len - (size_t)w);
			c->pend_len -= (size_t)w;
		}
	}
	while (!c->pend_len) {
		n = read(c->fd, g_rbuf, sizeof(g_rbuf));
		if (n == 0)
			goto close;
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			goto close;
		}
		w = write(c->fd, g_rbuf, (size_t)n);
		if (w < 0) {
			if (errno != EAGAIN)
				goto close;
			w = 0;
		}
		if (w < n) {
			c->pend_len = (size_t)(n - w);
			c->pend = realloc(c->pend, c->pend_len);
			if (!c->pend)
				goto close;
			memcpy(c->pend, g_rbuf + w, c->pend_len);
		}
	}
	return 0;
close:
	sconn_close(ep, c);
	return -1;
}

static int server_duplex(int ep, struct sconn *c, uint64_t bytes)
{
	ssize_t n;

	while (c->wrote < bytes) {
		size_t want = bytes - c->wrote < BIGBUF ? bytes - c->wrote : BIGBUF;

		n = write(c->fd, g_buf, want);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			goto close;
		}
		c->wrote += (uint64_t)n;
	}
	for (;;) {
		n = read(c->fd, g_rbuf, sizeof(g_rbuf));
		if (n > 0) {
			c->read += (uint64_t)n;
			continue;
		}
		if (n == 0)
			goto close;
		if (errno == EAGAIN)
			break;
		goto close;
	}
	if (c->wrote >= bytes && c->read >= bytes)
		goto close;
	return 0;
close:
	sconn_close(ep, c);
	return -1;
}

static int cmd_server(int argc, char **argv)
{
	const char *listen_s = NULL, *mode_s = "echo", *ready = NULL;
	uint64_t bytes = 0;
	struct sockaddr_in sin;
	struct epoll_event ev, evs[256];
	enum smode mode;
	int lfd, ep, one = 1, i, n;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen_s = argv[++i];
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode_s = argv[++i];
		else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
			bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else
			die("server: unknown argument %s", argv[i]);
	}
	if (!listen_s)
		die("server: --listen IP:PORT");
	if (!strcmp(mode_s, "echo"))
		mode = M_ECHO;
	else if (!strcmp(mode_s, "duplex"))
		mode = M_DUPLEX;
	else if (!strcmp(mode_s, "accept"))
		mode = M_ACCEPT;
	else
		die("server: mode echo|duplex|accept");
	parse_addr(listen_s, &sin);
	memset(g_buf, 'x', sizeof(g_buf));
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_nodelay(lfd);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4096))
		die("server: bind/listen %s: %s", listen_s, strerror(errno));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f) {
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
	}
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				int j, fd;

				for (j = 0; j < 256; j++) {
					fd = accept4(lfd, NULL, NULL,
						     SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0)
						break;
					if (mode == M_ACCEPT) {
						close(fd);
						continue;
					}
					set_nodelay(fd);
					c = calloc(1, sizeof(*c));
					if (!c) {
						close(fd);
						continue;
					}
					c->fd = fd;
					ev.events = EPOLLIN | EPOLLOUT | EPOLLET |
						    EPOLLRDHUP;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
					if (mode == M_DUPLEX)
						server_duplex(ep, c, bytes);
				}
				continue;
			}
			if (mode == M_ECHO)
				server_echo(ep, c, evs[i].events);
			else
				server_duplex(ep, c, bytes);
		}
	}
	return 0;
}

/* ---- TLS blocking-ish helpers ------------------------------------------ */

/* Wait until fd is ready for what SSL asked. */
static void ssl_wait(int fd, int err)
{
	struct pollfd p = { .fd = fd };

	p.events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	poll(&p, 1, 10000);
}

static SSL *tls_connect_blocking(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);
	int r;

	if (!ssl)
		die("SSL_new");
	SSL_set_fd(ssl, fd);
	set_nonblock(fd);
	while ((r = SSL_connect(ssl)) != 1) {
		int e = SSL_get_error(ssl, r);

		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			die("handshake failed (%d)", e);
		ssl_wait(fd, e);
	}
	return ssl;
}

/* ---- bulk -------------------------------------------------------------- */

static int cmd_bulk(int argc, char **argv)
{
	const char *conn_s = NULL;
	uint64_t bytes = 0, sent = 0, recvd = 0;
	struct sockaddr_in dst;
	int tls = 0, fd, i;
	double t0, t_hs, t1;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--connect") && i + 1 < argc)
			conn_s = argv[++i];
		else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
			bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--tls"))
			tls = 1;
		else
			die("bulk: unknown argument %s", argv[i]);
	}
	if (!conn_s || !bytes)
		die("bulk: --connect IP:PORT --bytes N");
	parse_addr(conn_s, &dst);
	memset(g_buf, 'y', sizeof(g_buf));
	signal(SIGPIPE, SIG_IGN);
	if (tls)
		ctx = client_ctx();
	t0 = now_s();
	fd = connect_blocking(&dst);
	if (tls)
		ssl = tls_connect_blocking(ctx, fd);
	else
		set_nonblock(fd);
	t_hs = now_s();
	while (sent < bytes || recvd < bytes) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int progress = 0;

		while (sent < bytes) {
			size_t want = bytes - sent < BIGBUF ? bytes - sent : BIGBUF;
			size_t w = 0;

			if (tls) {
				int r = SSL_write_ex(ssl, g_buf, want, &w);

				if (r != 1) {
					int e = SSL_get_error(ssl, r);

					if (e == SSL_ERROR_WANT_WRITE ||
					    e == SSL_ERROR_WANT_READ)
						break;
					die("SSL_write: %d", e);
				}
			} else {
				ssize_t n = send(fd, g_buf, want,
						 MSG_DONTWAIT);

				if (n < 0) {
					if (errno == EAGAIN)
						break;
					die("send: %s", strerror(errno));
				}
				w = (size_t)n;
			}
			sent += w;
			progress = 1;
		}
		while (recvd < bytes) {
			size_t r_n = 0;

			if (tls) {
				int r = SSL_read_ex(ssl, g_rbuf, sizeof(g_rbuf), &r_n);

				if (r != 1) {
					int e = SSL_get_error(ssl, r);

					if (e == SSL_ERROR_WANT_READ ||
					    e == SSL_ERROR_WANT_WRITE)
						break;
					die("SSL_read after %llu bytes: %d",
					    (unsigned long long)recvd, e);
				}
			} else {
				ssize_t n = recv(fd, g_rbuf, sizeof(g_rbuf), MSG_DONTWAIT);

				if (n < 0) {
					if (errno == EAGAIN)
						break;
					die("recv: %s", strerror(errno));
				}
				if (n == 0)
					die("EOF after %llu bytes", (unsigned long long)recvd);
				r_n = (size_t)n;
			}
			recvd += r_n;
			progress = 1;
		}
		if (progress)
			continue;
		if (sent < bytes)
			p.events |= POLLOUT;
		if (poll(&p, 1, 30000) <= 0)
			die("bulk: stalled at %llu sent, %llu received",
			    (unsigned long long)sent, (unsigned long long)recvd);
	}
	t1 = now_s();
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	printf("{\"elapsed_s\": %.6f, \"handshake_s\": %.6f, \"bytes_each_way\": %llu, "
	       "\"mib_s_each_way\": %.2f}\n", t1 - t0, t_hs - t0,
	       (unsigned long long)bytes, (double)bytes / 1048576.0 / (t1 - t0));
	return 0;
}

/* ---- handshakes ------------------------------------------------------- */

struct hs_shared {
	struct sockaddr_in dst;
	struct binds binds;
	SSL_CTX *ctx;
	int conns;
	int resume;
	double t_start, t_measure, t_end;
};

struct hs_thread {
	struct hs_shared *sh;
	pthread_t tid;
	int nconns;
	unsigned rr;
	uint64_t done, resumed, errors, conn_errors;
	char first_err[160];
};

enum hs_state { HS_CONNECT, HS_HANDSHAKE, HS_WRITE, HS_READ };

struct hs_slot {
	int fd;
	enum hs_state st;
	SSL *ssl;
	int got;
	int idx;
	SSL_SESSION *sess;	/* --resume: this slot's newest session */
};

static const char HS_REQ[32] = "GET /bench 0123456789abcdefghi\n";

static void hs_err(struct hs_thread *t, const char *what, int e)
{
	t->errors++;
	if (!t->first_err[0]) {
		unsigned long l = ERR_peek_error();
		char eb[120] = "";

		if (l)
			ERR_error_string_n(l, eb, sizeof(eb));
		snprintf(t->first_err, sizeof(t->first_err), "%s: %d %s %s", what,
			 e, strerror(errno), eb);
	}
	ERR_clear_error();
}

static int hs_start(struct hs_thread *t, int ep, struct hs_slot *s)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };

	for (;;) {
		s->fd = connect_nb(&t->sh->dst, &t->sh->binds, &t->rr);
		if (s->fd >= 0)
			break;
		t->conn_errors++;
		if (!t->first_err[0])
			snprintf(t->first_err, sizeof(t->first_err), "connect: %s",
				 strerror(errno));
		if (now_s() > t->sh->t_end)
			return -1;
		usleep(1000);
	}
	s->st = HS_CONNECT;
	s->got = 0;
	s->ssl = NULL;
	ev.data.ptr = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
	return 0;
}

static void hs_finish(struct hs_thread *t, struct hs_slot *s, int ok)
{
	if (s->ssl) {
		if (ok) {
			SSL_shutdown(s->ssl);	/* close_notify, don't wait */
			if (t->sh->resume) {
				SSL_SESSION *ns = SSL_get1_session(s->ssl);

				if (ns && SSL_SESSION_is_resumable(ns)) {
					SSL_SESSION_free(s->sess);
					s->sess = ns;
				} else {
					SSL_SESSION_free(ns);
				}
			}
		}
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (ok)
		close(s->fd);
	else
		rst_close(s->fd);
	s->fd = -1;
}

/* Drive one slot; returns 1 when the connection finished (either way). */
static int hs_step(struct hs_thread *t, struct hs_slot *s)
{
	struct hs_shared *sh = t->sh;
	char buf[256];
	int r, e;

	if (s->st == HS_CONNECT) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		if (soerr == EINPROGRESS || soerr == EALREADY)
			return 0;
		if (soerr) {
			errno = soerr;
			hs_err(t, "connect", soerr);
			return -1;
		}
		s->ssl = SSL_new(sh->ctx);
		SSL_set_fd(s->ssl, s->fd);
		SSL_set_connect_state(s->ssl);
		if (sh->resume && s->sess)
			SSL_set_session(s->ssl, s->sess);
		s->st = HS_HANDSHAKE;
	}
	if (s->st == HS_HANDSHAKE) {
		r = SSL_do_handshake(s->ssl);
		if (r != 1) {
			e = SSL_get_error(s->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			hs_err(t, "handshake", e);
			return -1;
		}
		s->st = HS_WRITE;
	}
	if (s->st == HS_WRITE) {
		r = SSL_write(s->ssl, HS_REQ, sizeof(HS_REQ));
		if (r <= 0) {
			e = SSL_get_error(s->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			hs_err(t, "write", e);
			return -1;
		}
		s->st = HS_READ;
	}
	while (s->got < (int)sizeof(HS_REQ)) {
		r = SSL_read(s->ssl, buf, sizeof(buf));
		if (r <= 0) {
			e = SSL_get_error(s->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			hs_err(t, "read", e);
			return -1;
		}
		s->got += r;
	}
	if (now_s() >= sh->t_measure) {
		t->done++;
		if (SSL_session_reused(s->ssl))
			t->resumed++;
	}
	return 1;
}

static void *hs_thread_main(void *arg)
{
	struct hs_thread *t = arg;
	struct hs_shared *sh = t->sh;
	struct hs_slot *slots = calloc((size_t)t->nconns, sizeof(*slots));
	struct epoll_event evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC), i, n, r;

	for (i = 0; i < t->nconns; i++) {
		slots[i].idx = i;
		if (hs_start(t, ep, &slots[i]))
			slots[i].fd = -1;
	}
	while (now_s() < sh->t_end) {
		n = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < n; i++) {
			struct hs_slot *s = evs[i].data.ptr;

			if (s->fd < 0)
				continue;
			r = hs_step(t, s);
			if (!r)
				continue;
			epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
			hs_finish(t, s, r > 0);
			if (now_s() < sh->t_end)
				hs_start(t, ep, s);
		}
	}
	for (i = 0; i < t->nconns; i++) {
		if (slots[i].fd >= 0)
			hs_finish(t, &slots[i], 0);
	}
	close(ep);
	free(slots);
	return NULL;
}

static int cmd_hs(int argc, char **argv)
{
	struct hs_shared sh = { .conns = 32 };
	const char *conn_s = NULL, *bind_s = NULL;
	double seconds = 5, warmup = 1;
	uint64_t done = 0, resumed = 0, errors = 0, cerr = 0;
	struct hs_thread *ts;
	int nthreads = 1, i;
	const char *first = "";

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--connect") && i + 1 < argc)
			conn_s = argv[++i];
		else if (!strcmp(argv[i], "--conns") && i + 1 < argc)
			sh.conns = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = atof(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--resume"))
			sh.resume = 1;
		else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
			bind_s = argv[++i];
		else
			die("hs: unknown argument %s", argv[i]);
	}
	if (!conn_s || nthreads < 1 || sh.conns < nthreads)
		die("hs: --connect IP:PORT [--conns N] [--threads T]");
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	parse_addr(conn_s, &sh.dst);
	parse_binds(bind_s, &sh.binds);
	sh.ctx = client_ctx();
	sh.t_start = now_s();
	sh.t_measure = sh.t_start + warmup;
	sh.t_end = sh.t_measure + seconds;
	ts = calloc((size_t)nthreads, sizeof(*ts));
	for (i = 0; i < nthreads; i++) {
		ts[i].sh = &sh;
		ts[i].nconns = sh.conns / nthreads + (i < sh.conns % nthreads);
		ts[i].rr = (unsigned)i;
		pthread_create(&ts[i].tid, NULL, hs_thread_main, &ts[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(ts[i].tid, NULL);
		done += ts[i].done;
		resumed += ts[i].resumed;
		errors += ts[i].errors;
		cerr += ts[i].conn_errors;
		if (!*first && ts[i].first_err[0])
			first = ts[i].first_err;
	}
	printf("{\"handshakes\": %llu, \"resumed\": %llu, \"errors\": %llu, "
	       "\"connect_errors\": %llu, \"seconds\": %.3f, \"rate\": %.1f, "
	       "\"first_error\": \"%s\"}\n", (unsigned long long)done,
	       (unsigned long long)resumed, (unsigned long long)errors,
	       (unsigned long long)cerr, seconds, (double)done / seconds, first);
	return 0;
}

/* ---- latency ---------------------------------------------------------- */

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_lat(int argc, char **argv)
{
	const char *conn_s = NULL;
	int tls = 0, size = 1024, count = 20000, warmup = 2000, i, fd;
	struct sockaddr_in dst;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	double *lat, sum = 0;
	char *req, *resp;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--connect") && i + 1 < argc)
			conn_s = argv[++i];
		else if (!strcmp(argv[i], "--tls"))
			tls = 1;
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = atoi(argv[++i]);
		else
			die("lat: unknown argument %s", argv[i]);
	}
	if (!conn_s || size < 1 || count < 1)
		die("lat: --connect IP:PORT");
	parse_addr(conn_s, &dst);
	signal(SIGPIPE, SIG_IGN);
	req = malloc((size_t)size);
	resp = malloc((size_t)size);
	lat = calloc((size_t)count, sizeof(double));
	memset(req, 'q', (size_t)size);
	fd = connect_blocking(&dst);
	if (tls) {
		ctx = client_ctx();
		ssl = tls_connect_blocking(ctx, fd);
	}
	/* blocking from here: the measured path is write -> wait -> read */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	for (i = -warmup; i < count; i++) {
		double t0 = now_s(), t1;
		int got = 0, r;

		if (tls) {
			if (SSL_write(ssl, req, size) != size)
				die("SSL_write");
		} else if (write(fd, req, (size_t)size) != size) {
			die("write: %s", strerror(errno));
		}
		while (got < size) {
			if (tls)
				r = SSL_read(ssl, resp + got, size - got);
			else
				r = (int)read(fd, resp + got, (size_t)(size - got));
			if (r <= 0)
				die("read after %d bytes (round trip %d)", got, i);
			got += r;
		}
		t1 = now_s();
		if (i >= 0) {
			lat[i] = (t1 - t0) * 1e6;
			sum += lat[i];
		}
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	qsort(lat, (size_t)count, sizeof(double), dcmp);
	printf("{\"count\": %d, \"size\": %d, \"p50_us\": %.2f, \"p90_us\": %.2f, "
	       "\"p99_us\": %.2f, \"mean_us\": %.2f, \"max_us\": %.2f}\n", count,
	       size, lat[count / 2], lat[count * 90 / 100], lat[count * 99 / 100],
	       sum / count, lat[count - 1]);
	return 0;
}

/*
 * latmix: the same round trip on several warm connections, interleaved
 * (one round trip on each in turn), so that every path sees the same
 * machine state at the same time: on a VM the cost of waking an idle
 * vCPU dominates loopback latency and changes with any other load.
 *   latmix --target NAME=IP:PORT[,tls] ... --size B --count N [--warmup N]
 */
struct lm_target {
	char name[32];
	int fd;
	SSL *ssl;
	double *lat;
	double sum;
};

static int cmd_latmix(int argc, char **argv)
{
	struct lm_target tg[8];
	int nt = 0, size = 1024, count = 20000, warmup = 2000, i, k;
	SSL_CTX *ctx = NULL;
	char *req, *resp;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--target") && i + 1 < argc && nt < 8) {
			char spec[128], *eq, *comma;
			struct sockaddr_in dst;

			snprintf(spec, sizeof(spec), "%s", argv[++i]);
			eq = strchr(spec, '=');
			if (!eq)
				die("latmix: --target NAME=IP:PORT[,tls]");
			*eq = '\0';
			comma = strchr(eq + 1, ',');
			if (comma)
				*comma = '\0';
			memset(&tg[nt], 0, sizeof(tg[nt]));
			snprintf(tg[nt].name, sizeof(tg[nt].name), "%.31s", spec);
			parse_addr(eq + 1, &dst);
			tg[nt].fd = connect_blocking(&dst);
			if (comma && !strcmp(comma + 1, "tls")) {
				if (!ctx)
					ctx = client_ctx();
				tg[nt].ssl = tls_connect_blocking(ctx, tg[nt].fd);
			}
			fcntl(tg[nt].fd, F_SETFL, fcntl(tg[nt].fd, F_GETFL) & ~O_NONBLOCK);
			nt++;
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			size = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) {
			warmup = atoi(argv[++i]);
		} else {
			die("latmix: unknown argument %s", argv[i]);
		}
	}
	if (!nt || size < 1 || count < 1)
		die("latmix: --target NAME=IP:PORT[,tls] ...");
	signal(SIGPIPE, SIG_IGN);
	req = malloc((size_t)size);
	resp = malloc((size_t)size);
	memset(req, 'q', (size_t)size);
	for (k = 0; k < nt; k++)
		tg[k].lat = calloc((size_t)count, sizeof(double));
	for (i = -warmup; i < count; i++) {
		for (k = 0; k < nt; k++) {
			struct lm_target *t = &tg[k];
			double t0 = now_s(), t1;
			int got = 0, r;

			if (t->ssl) {
				if (SSL_write(t->ssl, req, size) != size)
					die("%s: SSL_write", t->name);
			} else if (write(t->fd, req, (size_t)size) != size) {
				die("%s: write: %s", t->name, strerror(errno));
			}
			while (got < size) {
				if (t->ssl)
					r = SSL_read(t->ssl, resp + got, size - got);
				else
					r = (int)read(t->fd, resp + got, (size_t)(size - got));
				if (r <= 0)
					die("%s: read after %d bytes", t->name, got);
				got += r;
			}
			t1 = now_s();
			if (i >= 0) {
				t->lat[i] = (t1 - t0) * 1e6;
				t->sum += t->lat[i];
			}
		}
	}
	printf("{\"count\": %d, \"size\": %d", count, size);
	for (k = 0; k < nt; k++) {
		struct lm_target *t = &tg[k];

		qsort(t->lat, (size_t)count, sizeof(double), dcmp);
		printf(", \"%s\": {\"p50_us\": %.2f, \"p90_us\": %.2f, \"p99_us\": %.2f, "
		       "\"mean_us\": %.2f, \"max_us\": %.2f}", t->name, t->lat[count / 2],
		       t->lat[count * 90 / 100], t->lat[count * 99 / 100], t->sum / count,
		       t->lat[count - 1]);
		if (t->ssl) {
			SSL_shutdown(t->ssl);
			SSL_free(t->ssl);
		}
		close(t->fd);
	}
	printf("}\n");
	return 0;
}

/* ---- connect + accept rate ------------------------------------------- */

static int cmd_conn(int argc, char **argv)
{
	const char *conn_s = NULL, *bind_s = NULL;
	int conns = 16, i, n, ep, inflight = 0;
	double seconds = 5, warmup = 0.5, rate = 0, t0, tm, tend, next;
	struct sockaddr_in dst;
	struct binds binds;
	struct epoll_event ev, evs[256];
	uint64_t done = 0, errors = 0, total = 0;
	unsigned rr = 0;
	char first[160] = "";

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--connect") && i + 1 < argc)
			conn_s = argv[++i];
		else if (!strcmp(argv[i], "--conns") && i + 1 < argc)
			conns = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = atof(argv[++i]);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
			bind_s = argv[++i];
		else
			die("conn: unknown argument %s", argv[i]);
	}
	if (!conn_s)
		die("conn: --connect IP:PORT");
	raise_nofile();
	parse_addr(conn_s, &dst);
	parse_binds(bind_s, &binds);
	ep = epoll_create1(EPOLL_CLOEXEC);
	t0 = now_s();
	tm = t0 + warmup;
	tend = tm + seconds;
	next = t0;
	for (;;) {
		double now = now_s();

		if (now >= tend)
			break;
		/* keep `conns` in flight; with --rate, start no faster */
		while (inflight < conns && (!rate || now >= next)) {
			int fd = connect_nb(&dst, &binds, &rr);

			if (rate)
				next += 1.0 / rate;
			if (fd < 0) {
				errors++;
				if (!first[0])
					snprintf(first, sizeof(first), "connect: %s",
						 strerror(errno));
				break;
			}
			ev.events = EPOLLOUT;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			inflight++;
			total++;
		}
		if (rate && next < now - 1.0)
			next = now - 1.0;	/* don't build an unbounded burst */
		n = epoll_wait(ep, evs, 256, rate ? 1 : 100);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, soerr = 0;
			socklen_t len = sizeof(soerr);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			rst_close(fd);
			inflight--;
			if (soerr) {
				errors++;
				if (!first[0])
					snprintf(first, sizeof(first), "connect: %s",
						 strerror(soerr));
			} else if (now_s() >= tm) {
				done++;
			}
		}
	}
	printf("{\"connections\": %llu, \"started\": %llu, \"errors\": %llu, "
	       "\"seconds\": %.3f, \"rate\": %.1f, \"first_error\": \"%s\"}\n",
	       (unsigned long long)done, (unsigned long long)total,
	       (unsigned long long)errors, seconds, (double)done / seconds, first);
	return 0;
}

/* ---- idle connections ------------------------------------------------- */

static int cmd_hold(int argc, char **argv)
{
	const char *conn_s = NULL, *bind_s = NULL;
	int conns = 1000, par = 64, i, n, ep, started = 0, done = 0, failed = 0;
	struct sockaddr_in dst;
	struct binds binds;
	struct hs_shared sh = { 0 };
	struct hs_thread t = { .sh = &sh };
	struct hs_slot *slots;
	struct epoll_event evs[256];
	double t0;
	char c;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--connect") && i + 1 < argc)
			conn_s = argv[++i];
		else if (!strcmp(argv[i], "--conns") && i + 1 < argc)
			conns = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--parallel") && i + 1 < argc)
			par = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
			bind_s = argv[++i];
		else
			die("hold: unknown argument %s", argv[i]);
	}
	if (!conn_s || conns < 1)
		die("hold: --connect IP:PORT --conns N");
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	parse_addr(conn_s, &dst);
	parse_binds(bind_s, &binds);
	sh.dst = dst;
	sh.binds = binds;
	sh.ctx = client_ctx();
	sh.t_end = 1e300;
	slots = calloc((size_t)conns, sizeof(*slots));
	ep = epoll_create1(EPOLL_CLOEXEC);
	t0 = now_s();
	while (done + failed < conns) {
		while (started < conns && started - done - failed < par) {
			slots[started].idx = started;
			if (hs_start(&t, ep, &slots[started])) {
				failed++;
				slots[started].fd = -1;
			}
			started++;
		}
		n = epoll_wait(ep, evs, 256, 1000);
		if (n == 0 && now_s() - t0 > 300)
			die("hold: stuck at %d of %d connections", done, conns);
		for (i = 0; i < n; i++) {
			struct hs_slot *s = evs[i].data.ptr;
			int r;

			if (s->fd < 0 || s->got >= (int)sizeof(HS_REQ))
				continue;
			r = hs_step(&t, s);
			if (r > 0) {
				/* idle from now on: no more events wanted */
				epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
				done++;
			} else if (r < 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
				hs_finish(&t, s, 0);
				failed++;
			}
		}
	}
	printf("{\"open\": %d, \"failed\": %d, \"seconds\": %.3f, \"first_error\": \"%s\"}\n",
	       done, failed, now_s() - t0, t.first_err);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < conns; i++) {
		if (slots[i].fd >= 0)
			hs_finish(&t, &slots[i], 1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: benchtool server|bulk|hs|lat|conn|hold ...");
	if (!strcmp(argv[1], "server"))
		return cmd_server(argc - 2, argv + 2);
	if (!strcmp(argv[1], "bulk"))
		return cmd_bulk(argc - 2, argv + 2);
	if (!strcmp(argv[1], "hs"))
		return cmd_hs(argc - 2, argv + 2);
	if (!strcmp(argv[1], "lat"))
		return cmd_lat(argc - 2, argv + 2);
	if (!strcmp(argv[1], "latmix"))
		return cmd_latmix(argc - 2, argv + 2);
	if (!strcmp(argv[1], "conn"))
		return cmd_conn(argc - 2, argv + 2);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 2, argv + 2);
	die("unknown command %s", argv[1]);
}
