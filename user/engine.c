// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine.c - the engine's threads, listeners and event loops.
 *
 * N threads, each with its own epoll set and its own listening sockets
 * (IPv4 on 127.0.0.1, IPv6 on [::1]) joined in one SO_REUSEPORT group per
 * family and direction.  sk_lookup assigns a protected SYN to the inbound
 * group's first socket (the one in attls_engine) and the kernel's
 * reuseport selection spreads the connections over the group, so every
 * thread accepts and serves its own connections without locks.  The
 * listeners are bound to loopback so nothing off the host can reach them
 * directly; bpf_sk_assign() delivers to them whatever address the SYN was
 * for.  The outbound groups are where cgroup/connect4/6 send protected
 * applications' connect()s (attls_engine_addr).
 *
 * Fail closed: every socket that carries a protected connection has
 * SO_LINGER {1, 0} from its creation (accepted ones inherit it from their
 * listener), so when the engine dies the kernel closes them all with a
 * reset: an application reading to end-of-file never takes a stream cut
 * short for a complete one.  An orderly close restores the normal linger
 * first (engine_close_graceful()).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"
#include "keyring.h"
#include "log.h"
#include "privdrop.h"

#define EPOLL_BATCH	64

uint64_t engine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void engine_rst_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

int engine_rst_on_death(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ? -errno : 0;
}

void engine_close_graceful(int fd)
{
	struct linger lg = { .l_onoff = 0, .l_linger = 0 };

	if (fd < 0)
		return;
	/* Queued data is sent, then FIN: nothing the partner is owed is
	 * discarded. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

const char *engine_user_name(struct engine_thread *t, uint32_t uid)
{
	struct passwd pw, *pwp = NULL;
	struct user_cache_ent *u;
	uint64_t now = engine_now_ns();
	char buf[4096];
	unsigned i;

	/* getpwuid_r() reads /etc/passwd (or asks NSS) on every call:
	 * too slow for every accepted connection. */
	for (i = 0; i < ENGINE_USER_CACHE; i++) {
		u = &t->users[i];
		if (u->expires_ns > now && u->uid == uid)
			return u->known ? u->name : NULL;
	}
	u = &t->users[t->user_next++ % ENGINE_USER_CACHE];
	u->uid = uid;
	u->expires_ns = now + ENGINE_USER_TTL_NS;
	u->known = !getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) && pwp &&
		   strlen(pwp->pw_name) < sizeof(u->name);
	if (u->known)
		snprintf(u->name, sizeof(u->name), "%s", pwp->pw_name);
	return u->known ? u->name : NULL;
}

void engine_timer_arm(struct engine_thread *t)
{
	struct itimerspec its = {
		.it_interval = { 0, (long)ENGINE_TICK_NS },
		.it_value = { 0, (long)ENGINE_TICK_NS },
	};

	if (t->timer_armed)
		return;
	if (timerfd_settime(t->timerfd, 0, &its, NULL))
		log_warn("engine thread %u: timerfd_settime", t->idx);
	else
		t->timer_armed = 1;
}

static void timer_tick(struct engine_thread *t)
{
	struct itimerspec off = {};
	uint64_t n;

	if (read(t->timerfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("engine thread %u: timerfd read", t->idx);
	conn_tick(t, engine_now_ns());
	engine_tomb_expire(t, engine_now_ns(), 0);
	if (LIST_EMPTY(&t->timed) && !t->ntombs && t->timer_armed) {
		timerfd_settime(t->timerfd, 0, &off, NULL);
		t->timer_armed = 0;
	}
}

/*
 * Listening socket of a reuseport group.  port 0 binds the group's first
 * socket; the others join it on the port the first one got.
 */
static int listener_open(int family, int outbound, uint16_t *port)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd, one = 1, err;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto fail;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(*port);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		/* IPv4 SYNs go to the IPv4 group: keep the families apart. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
			goto fail;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(*port);
		len = sizeof(*sin6);
	}
	/* Nagle is inherited by accepted sockets: off for TLS records. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		goto fail;
	/* So is SO_LINGER {1, 0}: a dying engine resets them (fail closed). */
	if (engine_rst_on_death(fd))
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len))
		goto fail;
	if (listen(fd, SOMAXCONN))
		goto fail;
	/*
	 * Accepted sockets carry the application's port (bpf_sk_assign) and
	 * sit in that port's bind bucket with the listener's reuse flag.
	 * Without SO_REUSEADDR they, and their TIME_WAIT remains, would make
	 * the application's own bind(SO_REUSEADDR) fail with EADDRINUSE (an
	 * application restart while connections are open or within 60 s).
	 * Set after listen(): only the children need it, and bind(port 0)
	 * above must not pick a port shared with other reusing sockets.
	 * Outbound listeners' children keep the listener's own port.
	 */
	if (!outbound && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		goto fail;
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		      ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static void gc_tick(struct engine_thread *t)
{
	uint64_t n;

	if (read(t->gc_timerfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("engine thread %u: timerfd read", t->idx);
	engine_steer_gc(t->e);
}

static void listeners_close(struct engine_thread *t)
{
	int i;

	for (i = 0; i < ENGINE_NLSN; i++) {
		if (t->lsn[i] >= 0)
			close(t->lsn[i]);
		t->lsn[i] = -1;
	}
}

/*
 * The listener groups, by ATTLS_ENGINE_* slot: inbound IPv4/IPv6, then
 * outbound IPv4/IPv6 (only with an attls_out map).  No IPv6 on the host:
 * no IPv6 groups, and IPv6 connections are never steered to a listener
 * that cannot exist.
 */
static int listeners_open(struct engine *e)
{
	uint16_t port;
	unsigned i;
	int slot, fd, v6, out, no_v6 = 0;

	for (slot = 0; slot < ENGINE_NLSN; slot++) {
		v6 = slot == ATTLS_ENGINE_LSN_V6 || slot == ATTLS_ENGINE_OUT_V6;
		out = slot == ATTLS_ENGINE_OUT_V4 || slot == ATTLS_ENGINE_OUT_V6;
		if ((out && e->out_fd < 0) || (v6 && no_v6))
			continue;
		port = 0;
		for (i = 0; i < e->nthreads; i++) {
			fd = listener_open(v6 ? AF_INET6 : AF_INET, out, &port);
			if (fd < 0 && v6 && i == 0 &&
			    (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)) {
				log_warnx("engine: no IPv6 listener: %s",
					  strerror(-fd));
				no_v6 = 1;
				break;
			}
			if (fd < 0) {
				log_warnx("engine: %s %s listener on port %u: %s",
					  out ? "outbound" : "inbound",
					  v6 ? "IPv6" : "IPv4", port,
					  strerror(-fd));
				return fd;
			}
			e->threads[i].lsn[slot] = fd;
		}
		if (e->nthreads && e->threads[0].lsn[slot] >= 0)
			log_info("engine: %u %s %s listener(s) on %s:%u",
				 e->nthreads, out ? "outbound" : "inbound",
				 v6 ? "IPv6" : "IPv4", v6 ? "[::1]" : "127.0.0.1",
				 port);
	}
	return 0;
}

/* Every descriptor -1: thread_fini() is safe on any thread from here on. */
static void thread_preinit(struct engine_thread *t)
{
	int i;

	for (i = 0; i < ENGINE_NLSN; i++)
		t->lsn[i] = -1;
	t->epfd = t->wakefd = t->timerfd = t->spare_fd = t->gc_timerfd = -1;
	pthread_mutex_init(&t->snap_lock, NULL);
	pthread_cond_init(&t->snap_cond, NULL);
	pthread_mutex_init(&t->ac_lock, NULL);
	STAILQ_INIT(&t->ac_queue);
	LIST_INIT(&t->conns);
	LIST_INIT(&t->timed);
	LIST_INIT(&t->dead);
}

static int thread_init(struct engine *e, struct engine_thread *t, unsigned idx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int i;

	t->e = e;
	t->idx = idx;
	t->hop_rng = (uint32_t)engine_now_ns() ^ (idx + 1) * 0x9E3779B9u;
	if (!t->hop_rng)
		t->hop_rng = 1;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		return -errno;
	t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->wakefd < 0)
		return -errno;
	t->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->timerfd < 0)
		return -errno;
	t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	t->wake_ref.kind = EP_WAKE;
	ev.data.ptr = &t->wake_ref;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &ev))
		return -errno;
	t->timer_ref.kind = EP_TIMER;
	ev.data.ptr = &t->timer_ref;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->timerfd, &ev))
		return -errno;
	for (i = 0; i < ENGINE_NLSN; i++) {
		t->lsn_ref[i].kind = EP_LISTEN;
		t->lsn_ref[i].idx = i;
	}
	if (idx == 0) {
		struct itimerspec its = {
			.it_interval = { ENGINE_STEER_GC_NS / 1000000000ull, 0 },
			.it_value = { ENGINE_STEER_GC_NS / 1000000000ull, 0 },
		};

		t->gc_timerfd = timerfd_create(CLOCK_MONOTONIC,
					       TFD_NONBLOCK | TFD_CLOEXEC);
		if (t->gc_timerfd < 0)
			return -errno;
		if (timerfd_settime(t->gc_timerfd, 0, &its, NULL))
			return -errno;
		t->gc_ref.kind = EP_GC;
		ev.data.ptr = &t->gc_ref;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->gc_timerfd, &ev))
			return -errno;
	}
	return 0;
}

static void thread_fini(struct engine_thread *t)
{
	listeners_close(t);
	engine_tomb_free(t);
	if (t->gc_timerfd >= 0)
		close(t->gc_timerfd);
	if (t->spare_fd >= 0)
		close(t->spare_fd);
	if (t->timerfd >= 0)
		close(t->timerfd);
	if (t->wakefd >= 0)
		close(t->wakefd);
	if (t->epfd >= 0)
		close(t->epfd);
	t->epfd = t->wakefd = t->timerfd = t->spare_fd = t->gc_timerfd = -1;
	free(t->snap);
	t->snap = NULL;
}

/*
 * The hop ports (engine_conn.c picks them itself): this network
 * namespace's ip_local_port_range and ip_local_reserved_ports.
 */
static void hop_ports_init(struct engine *e)
{
	unsigned lo = 32768, hi = 60999, a, b;
	char buf[4096], *p, *end;
	FILE *f;

	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	if (f) {
		if (fscanf(f, "%u %u", &a, &b) == 2 && a >= 1 && a <= b && b <= 65535) {
			lo = a;
			hi = b;
		}
		fclose(f);
	}
	e->hop_port_lo = (uint16_t)lo;
	e->hop_port_hi = (uint16_t)hi;
	f = fopen("/proc/sys/net/ipv4/ip_local_reserved_ports", "re");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		/* "1000,2000-2010" */
		for (p = buf; *p && *p != '\n'; p = *end ? end + 1 : end) {
			a = (unsigned)strtoul(p, &end, 10);
			b = *end == '-' ? (unsigned)strtoul(end + 1, &end, 10) : a;
			if (end == p)
				break;
			for (; a <= b && a <= 65535; a++)
				e->hop_reserved[a / 64] |= 1ull << (a % 64);
		}
	}
	fclose(f);
}

/*
 * Every protected connection holds two descriptors (wire + hop).  The
 * usual soft RLIMIT_NOFILE of 1024 (systemd's default for services) caps
 * the engine at about 500 connections and resets the rest with EMFILE
 * (measured: 481 of 1,000 idle connections; docs/benchmarks.md).  Raising
 * the soft limit up to the hard limit needs no privilege.
 */
static void nofile_raise(void)
{
	struct rlimit rl;
	rlim_t old;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		log_warn("engine: raising RLIMIT_NOFILE from %llu",
			 (unsigned long long)old);
	else
		log_info("engine: RLIMIT_NOFILE %llu -> %llu (two descriptors per "
			 "connection)", (unsigned long long)old,
			 (unsigned long long)rl.rlim_cur);
}

int engine_create(const struct engine_cfg *cfg, struct engine **out)
{
	struct timespec ts;
	struct engine *e;
	unsigned i;
	long ncpu;
	int err;

	*out = NULL;
	if (!cfg || cfg->steer_map_fd < 0 || cfg->hop_map_fd < 0)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_init(&e->pol_lock, NULL);
	LIST_INIT(&e->gens);
	e->steer_fd = cfg->steer_map_fd;
	e->hop_fd = cfg->hop_map_fd;
	e->out_fd = cfg->out_map_fd > 0 ? cfg->out_map_fd : -1;
	e->secmap_fd = cfg->secmap_map_fd > 0 ? cfg->secmap_map_fd : -1;
	pthread_mutex_init(&e->secmap_lock, NULL);
	pthread_mutex_init(&e->sess_lock, NULL);
	LIST_INIT(&e->secmaps);
	e->zert = cfg->zert;
	e->bufsize = cfg->bufsize ? cfg->bufsize : ENGINE_DEFAULT_BUFSIZE;
	if (e->bufsize < ENGINE_MIN_BUFSIZE)
		e->bufsize = ENGINE_MIN_BUFSIZE;
	e->keyring_root = strdup(cfg->keyring_root && *cfg->keyring_root ?
				 cfg->keyring_root : KEYRING_ROOT);
	if (!e->keyring_root) {
		err = -ENOMEM;
		goto free_engine;
	}
	e->nthreads = cfg->nthreads;
	if (!e->nthreads) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		e->nthreads = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	if (e->nthreads > ENGINE_MAX_THREADS)
		e->nthreads = ENGINE_MAX_THREADS;
	/*
	 * Connection ids are unique per engine and, seeded from the clock in
	 * milliseconds, across restarts too (stale hop entries or zERT
	 * records of a previous engine never share an id with new ones)
	 * unless more than 4096 connections a millisecond were sustained.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	atomic_init(&e->next_conn_id,
		    ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000) << 12);

	hop_ports_init(e);
	nofile_raise();
	engine_limits_init(e, cfg->max_conns);
	e->threads = calloc(e->nthreads, sizeof(*e->threads));
	if (!e->threads) {
		e->nthreads = 0;
		err = -ENOMEM;
		goto free_engine;
	}
	for (i = 0; i < e->nthreads; i++)
		thread_preinit(&e->threads[i]);
	for (i = 0; i < e->nthreads; i++) {
		err = thread_init(e, &e->threads[i], i);
		if (err) {
			log_warnx("engine: thread %u init: %s", i, strerror(-err));
			goto free_engine;
		}
	}
	err = listeners_open(e);
	if (err)
		goto free_engine;
	*out = e;
	return 0;

free_engine:
	engine_destroy(e);
	return err;
}

int engine_listener_fd(const struct engine *e, int family)
{
	int idx;

	if (!e || !e->nthreads)
		return -EINVAL;
	if (family == ATTLS_AF_INET)
		idx = 0;
	else if (family == ATTLS_AF_INET6)
		idx = 1;
	else
		return -EAFNOSUPPORT;
	return e->threads[0].lsn[idx] >= 0 ? e->threads[0].lsn[idx] :
	       -EAFNOSUPPORT;
}

int engine_out_listener_fd(const struct engine *e, int family)
{
	int idx;

	if (!e || !e->nthreads)
		return -EINVAL;
	if (family == ATTLS_AF_INET)
		idx = ATTLS_ENGINE_OUT_V4;
	else if (family == ATTLS_AF_INET6)
		idx = ATTLS_ENGINE_OUT_V6;
	else
		return -EAFNOSUPPORT;
	return e->threads[0].lsn[idx] >= 0 ? e->threads[0].lsn[idx] :
	       -EAFNOSUPPORT;
}

/*
 * accept() until the backlog is empty or a batch is done.  On EMFILE the
 * spare descriptor is given up to take the connection and reset it, so a
 * level-triggered listener does not spin on a queue it cannot drain.
 */
static void thread_accept(struct engine_thread *t, int slot)
{
	int out = slot == ATTLS_ENGINE_OUT_V4 || slot == ATTLS_ENGINE_OUT_V6;
	int lfd = t->lsn[slot];
	struct sockaddr_storage ra;
	socklen_t ralen;
	int i, fd;

	for (i = 0; i < ENGINE_ACCEPT_BATCH; i++) {
		/* The peer address from accept() itself: getpeername()
		 * fails on a connection reset while it was queued, and its
		 * steer key must still be found and deleted. */
		ralen = sizeof(ra);
		fd = accept4(lfd, (struct sockaddr *)&ra, &ralen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (out)
				conn_accept_out(t, fd, &ra);
			else
				conn_accept(t, fd, &ra);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
			log_warn("engine thread %u: accept (resetting the connection)",
				 t->idx);
			if (t->spare_fd >= 0) {
				close(t->spare_fd);
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				engine_rst_close(fd);
				t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			}
			return;
		default:
			log_warn("engine thread %u: accept", t->idx);
			return;
		}
	}
}

static void *thread_main(void *arg)
{
	struct engine_thread *t = arg;
	struct engine *e = t->e;
	struct epoll_event evs[EPOLL_BATCH];
	struct ep_ref *ref;
	int i, n;

	/* TLS from the network is parsed here: no capability (privdrop.h) */
	n = privdrop_worker();
	if (n)
		log_warnx("engine thread %u: cannot drop capabilities: %s",
			  t->idx, strerror(-n));
	while (!atomic_load(&e->stopping)) {
		n = epoll_wait(t->epfd, evs, EPOLL_BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("engine thread %u: epoll_wait", t->idx);
			break;
		}
		for (i = 0; i < n; i++) {
			ref = evs[i].data.ptr;
			switch (ref->kind) {
			case EP_LISTEN:
				thread_accept(t, ref->idx);
				break;
			case EP_WAKE: {
				uint64_t v;

				/* engine_stop(), engine_conn_list() or
				 * engine_appctl_submit() */
				if (read(t->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_warn("engine thread %u: wakefd", t->idx);
				conn_snapshot_serve(t);
				conn_trace_serve(t);
				appctl_serve(t);
				break;
			}
			case EP_TIMER:
				timer_tick(t);
				break;
			case EP_GC:
				gc_tick(t);
				break;
			case EP_WIRE:
			case EP_HOP:
				conn_event(ref, evs[i].events);
				break;
			}
		}
		conn_reap(t);
	}
	/* Stopping: no new connections, reset the open ones.  Without a
	 * listener sk_lookup writes no steer entries any more: the keys of
	 * the tombstones can go now. */
	listeners_close(t);
	conn_abort_all(t, 0);
	appctl_drain(t);
	conn_reap(t);
	engine_tomb_expire(t, 0, 1);
	return NULL;
}

int engine_start(struct engine *e)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t all, old;
	unsigned i;
	int f, err = 0;

	if (!e || e->running)
		return -EINVAL;
	for (i = 0; i < e->nthreads; i++) {
		for (f = 0; f < ENGINE_NLSN; f++) {
			if (e->threads[i].lsn[f] < 0)
				continue;
			ev.data.ptr = &e->threads[i].lsn_ref[f];
			if (epoll_ctl(e->threads[i].epfd, EPOLL_CTL_ADD,
				      e->threads[i].lsn[f], &ev))
				return -errno;
		}
	}
	/*
	 * Engine threads take no signals: they go to the daemon's main loop.
	 * SIGPIPE from a write to a vanished peer stays pending on the
	 * engine thread instead of killing the process (the write returns
	 * EPIPE, which the relay handles).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < e->nthreads; i++) {
		err = -pthread_create(&e->threads[i].tid, NULL, thread_main,
				      &e->threads[i]);
		if (err)
			break;
		e->threads[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	e->running = 1;
	if (err) {
		log_warnx("engine: starting thread %u: %s", i, strerror(-err));
		engine_stop(e);
		return err;
	}
	log_info("engine: %u thread(s), %zu bytes buffered per direction",
		 e->nthreads, e->bufsize);
	return 0;
}

void engine_stop(struct engine *e)
{
	uint64_t one = 1;
	unsigned i;

	if (!e || !e->threads)
		return;
	atomic_store(&e->stopping, 1);
	for (i = 0; i < e->nthreads; i++) {
		if (!e->threads[i].started) {
			listeners_close(&e->threads[i]);
			continue;
		}
		if (write(e->threads[i].wakefd, &one, sizeof(one)) < 0)
			log_warn("engine: waking thread %u", i);
	}
	for (i = 0; i < e->nthreads; i++) {
		if (!e->threads[i].started)
			continue;
		pthread_join(e->threads[i].tid, NULL);
		e->threads[i].started = 0;
	}
	if (e->running)
		log_info("engine stopped: %llu connection(s) accepted, %llu "
			 "without steering entry, %llu failed",
			 (unsigned long long)atomic_load(&e->n_accepted),
			 (unsigned long long)atomic_load(&e->n_no_steer),
			 (unsigned long long)atomic_load(&e->n_failed));
	e->running = 0;
}

/* Ask every engine thread: set the flag at `pending_off` in each, wake it. */
static void threads_ask(struct engine *e, size_t pending_off)
{
	uint64_t one = 1;
	unsigned i;

	for (i = 0; i < e->nthreads; i++) {
		struct engine_thread *t = &e->threads[i];

		pthread_mutex_lock(&t->snap_lock);
		*(int *)((char *)t + pending_off) = 1;
		pthread_mutex_unlock(&t->snap_lock);
		if (write(t->wakefd, &one, sizeof(one)) < 0)
			log_warn("engine thread %u: wakefd", i);
	}
}

/* Wait (snap_lock held) until thread t has served its request; 2 s. */
static int thread_answered(struct engine_thread *t, size_t pending_off,
			   const struct timespec *deadline)
{
	int *pending = (int *)((char *)t + pending_off);

	while (*pending)
		if (pthread_cond_timedwait(&t->snap_cond, &t->snap_lock,
					   deadline) == ETIMEDOUT)
			return -ETIMEDOUT;
	return 0;
}

static void ask_deadline(struct timespec *deadline)
{
	clock_gettime(CLOCK_REALTIME, deadline);
	deadline->tv_sec += 2;
}

int engine_conn_list(struct engine *e, struct engine_conn_info **out, size_t *n)
{
	const size_t off = offsetof(struct engine_thread, snap_pending);
	struct engine_conn_info *all = NULL, *tmp;
	struct timespec deadline;
	size_t total = 0;
	unsigned i;
	int err = 0;

	*out = NULL;
	*n = 0;
	if (atomic_load(&e->stopping))
		return -ESHUTDOWN;
	threads_ask(e, off);
	ask_deadline(&deadline);
	for (i = 0; i < e->nthreads; i++) {
		struct engine_thread *t = &e->threads[i];

		pthread_mutex_lock(&t->snap_lock);
		if (!err)
			err = thread_answered(t, off, &deadline);
		if (!err && t->nsnap) {
			tmp = realloc(all, (total + t->nsnap) * sizeof(*all));
			if (tmp) {
				all = tmp;
				memcpy(all + total, t->snap, t->nsnap * sizeof(*all));
				total += t->nsnap;
			} else {
				err = -ENOMEM;
			}
		}
		free(t->snap);
		t->snap = NULL;
		t->nsnap = 0;
		t->snap_pending = 0;
		pthread_mutex_unlock(&t->snap_lock);
	}
	if (err) {
		free(all);
		return err;
	}
	*out = all;
	*n = total;
	return 0;
}

int engine_conn_trace(struct engine *e, uint64_t conn_id, unsigned level,
		      unsigned *old)
{
	const size_t off = offsetof(struct engine_thread, trace_pending);
	struct timespec deadline;
	unsigned i;
	int err = 0, found = 0;

	if (atomic_load(&e->stopping))
		return -ESHUTDOWN;
	for (i = 0; i < e->nthreads; i++) {
		pthread_mutex_lock(&e->threads[i].snap_lock);
		e->threads[i].trace_id = conn_id;
		e->threads[i].trace_level = level;
		e->threads[i].trace_result = -ENOENT;
		pthread_mutex_unlock(&e->threads[i].snap_lock);
	}
	threads_ask(e, off);
	ask_deadline(&deadline);
	for (i = 0; i < e->nthreads; i++) {
		struct engine_thread *t = &e->threads[i];

		pthread_mutex_lock(&t->snap_lock);
		if (!err)
			err = thread_answered(t, off, &deadline);
		if (!err && !t->trace_result) {
			found = 1;
			*old = t->trace_old;
		}
		t->trace_pending = 0;
		pthread_mutex_unlock(&t->snap_lock);
	}
	return err ?: found ? 0 : -ENOENT;
}

const char *engine_conn_state_name(int state)
{
	switch (state) {
	case ENGINE_CONN_HANDSHAKE:
		return "handshake in progress";
	case ENGINE_CONN_SECURE:
		return "secure";
	case ENGINE_CONN_APPL_CONTROL:
		return "Appl Control";
	}
	return "not secure";
}

static uint64_t ctr_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void engine_stats(struct engine *e, struct engine_stats *out)
{
	unsigned i, k;

	memset(out, 0, sizeof(*out));
	engine_limit_stats(e, out);
	for (i = 0; i < e->nthreads; i++) {
		struct engine_counters *c = &e->threads[i].ctr;

		out->mapped += ctr_get(&c->mapped);
		out->refused += ctr_get(&c->refused);
		out->hs_ok += ctr_get(&c->hs_ok);
		out->hs_failed += ctr_get(&c->hs_failed);
		out->failed_secure += ctr_get(&c->failed_secure);
		out->ftp_sessions += ctr_get(&c->ftp_sessions);
		out->ftp_auth_tls += ctr_get(&c->ftp_auth_tls);
		out->ftp_refused += ctr_get(&c->ftp_refused);
		out->ftp_closed += ctr_get(&c->ftp_closed);
		for (k = 0; k < ATTLS_RC_MAX_CODES; k++) {
			out->hs_failed_rc[k] += ctr_get(&c->hs_failed_rc[k]);
			out->failed_secure_rc[k] += ctr_get(&c->failed_secure_rc[k]);
		}
	}
}

void engine_destroy(struct engine *e)
{
	unsigned i;

	if (!e)
		return;
	engine_stop(e);
	for (i = 0; e->threads && i < e->nthreads; i++) {
		thread_fini(&e->threads[i]);
		pthread_cond_destroy(&e->threads[i].snap_cond);
		pthread_mutex_destroy(&e->threads[i].snap_lock);
		pthread_mutex_destroy(&e->threads[i].ac_lock);
	}
	free(e->threads);
	engine_steer_gc_free(e);
	engine_gens_free(e);
	engine_secmap_free(e);
	engine_sess_free(e);
	pthread_mutex_destroy(&e->pol_lock);
	pthread_mutex_destroy(&e->secmap_lock);
	pthread_mutex_destroy(&e->sess_lock);
	free(e->keyring_root);
	free(e);
}
