// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connload - short-connection load for the zERT benchmark
 * (tests/zert_bench.py): many small cleartext TCP connections at a set
 * rate, and a server that answers them.
 *
 *   connload server ADDR PORT [BYTES]
 *       epoll; per connection: read a request line, write BYTES (default 3)
 *       of reply ending in "\n", close.  Runs until killed.
 *   connload client ADDR PORT RATE SECONDS [MAXOPEN]
 *       opens RATE connections per second for SECONDS (paced every 1 ms),
 *       each: connect, send "GET x\n", read to EOF, close; at most MAXOPEN
 *       (default 2000) open at once.  Prints one JSON line:
 *       {"started":N,"done":N,"errors":N,"seconds":S,"rate":R}
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int addr_of(const char *a, int port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)port);
	return inet_pton(AF_INET, a, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

static int server(const char *a, int port, size_t nbytes)
{
	struct epoll_event ev, evs[256];
	struct sockaddr_in sin;
	char buf[4096], *reply;
	int lfd, efd, one = 1, i, n;

	if (addr_of(a, port, &sin))
		return 1;
	reply = malloc(nbytes);
	if (!reply || nbytes < 1)
		return 1;
	memset(reply, 'x', nbytes);
	reply[nbytes - 1] = '\n';
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4096)) {
		perror("connload server");
		return 1;
	}
	efd = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		n = epoll_wait(efd, evs, 256, -1);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(efd, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			/* requests are one small segment: read it, answer, close */
			if (read(fd, buf, sizeof(buf)) > 0 &&
			    write(fd, reply, nbytes) < 0)
				perror("connload server write");
			close(fd);
		}
	}
}

static int client(const char *a, int port, double rate, double secs, int maxopen)
{
	struct epoll_event ev, evs[512];
	unsigned long started = 0, done = 0, errors = 0;
	struct sockaddr_in sin;
	double t0, t, end;
	char buf[4096];
	int efd, open_ = 0, i, n;

	if (addr_of(a, port, &sin))
		return 1;
	efd = epoll_create1(0);
	t0 = now_s();
	end = t0 + secs;
	while ((t = now_s()) < end || open_) {
		/* open the connections due by now */
		while (t < end && started < (unsigned long)((t - t0) * rate) &&
		       open_ < maxopen) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

			started++;
			if (fd < 0) {
				errors++;
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
			    errno != EINPROGRESS) {
				errors++;
				close(fd);
				continue;
			}
			ev.events = EPOLLOUT;
			ev.data.u64 = (unsigned)fd;	/* state 0: connecting */
			epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev);
			open_++;
		}
		n = epoll_wait(efd, evs, 512, 1);
		for (i = 0; i < n; i++) {
			int fd = (int)(evs[i].data.u64 & 0xffffffff);
			int sent = (int)(evs[i].data.u64 >> 32);
			ssize_t r;

			if (!sent) {
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err || write(fd, "GET x\n", 6) != 6) {
					errors++;
					goto drop;
				}
				ev.events = EPOLLIN;
				ev.data.u64 = (unsigned)fd | (1ull << 32);
				epoll_ctl(efd, EPOLL_CTL_MOD, fd, &ev);
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r > 0 || (r < 0 && errno == EAGAIN))
				continue;
			if (r < 0)
				errors++;
			else
				done++;
drop:
			close(fd);
			open_--;
		}
		if (t > end + 30)
			break;		/* a stuck connection must not hang the run */
	}
	t = now_s() - t0;
	printf("{\"started\":%lu,\"done\":%lu,\"errors\":%lu,\"seconds\":%.3f,"
	       "\"rate\":%.1f}\n", started, done, errors, t, (double)done / secs);
	return errors ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "server"))
		return server(argv[2], atoi(argv[3]),
			      argc > 4 ? (size_t)atol(argv[4]) : 3);
	if (argc >= 6 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]),
			      argc > 6 ? atoi(argv[6]) : 2000);
	fprintf(stderr, "usage: connload server ADDR PORT [BYTES]\n"
		"       connload client ADDR PORT RATE SECONDS [MAXOPEN]\n");
	return 1;
}
