// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_limits.c - bounded resources of the engine: how many protected
 * connections it carries at once (globally and per rule), and the
 * counters of what happened at each limit (docs/security.md "Limits").
 *
 * The global limit is one atomic counter of live connections, taken when a
 * connection is admitted and given back when it ends; the per-rule limit
 * (MaxConnections) is an atomic counter per rule name, shared by the
 * generations that have the rule, so a reload neither resets it nor lets
 * a rule exceed its limit with connections of the previous generation.
 * Neither takes a lock: an admission is one or two atomic additions, on
 * connection setup only, never per byte.
 *
 * The event counters (refusals, timeouts) are per engine thread and
 * written only by it with plain relaxed stores; engine_stats() sums them.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cgroup.h"
#include "engine_int.h"
#include "log.h"
#include "rc.h"

/* One rule's live connections, shared by the generations naming it. */
struct rule_slot {
	atomic_uint live;
	atomic_uint refs;		/* generations holding it */
	char name[ATTLS_NAME_LEN];
};

/*
 * Descriptors kept out of the default global limit: the maps, the zERT
 * file, the control socket and its clients, key ring files being read.
 */
#define LIMITS_FD_RESERVE	256
/*
 * Memory of a connection besides its two relay buffers: OpenSSL's SSL
 * object with its record buffers (about 40 KiB measured with 3.0) and the
 * struct conn.  Kernel socket memory is bounded separately (tcp_mem).
 */
#define LIMITS_CONN_OVERHEAD	(64u * 1024u)
/* The default global limit is sized to this share of the memory attlsd
 * may use: physical memory, or its cgroup's memory limit when smaller (a
 * unit with MemoryMax=; exceeding it would bring the OOM killer, not RC
 * 5131). */
#define LIMITS_MEM_SHARE	4

void engine_tstat_inc(_Atomic uint64_t *ctr)
{
	atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

unsigned engine_limits_default(size_t bufsize, unsigned *by_fd, unsigned *by_mem)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	unsigned long long mem, per_conn = 2ull * bufsize + LIMITS_CONN_OVERHEAD;
	uint64_t cg = cgroup_memory_limit();
	struct rlimit rl;

	*by_fd = 1024 / 2;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > 2 * LIMITS_FD_RESERVE)
		*by_fd = (unsigned)((rl.rlim_cur - LIMITS_FD_RESERVE) / 2 > UINT32_MAX / 2 ?
				    UINT32_MAX / 2 : (rl.rlim_cur - LIMITS_FD_RESERVE) / 2);
	*by_mem = UINT32_MAX / 2;
	if (pages > 0 && psize > 0) {
		mem = (unsigned long long)pages * (unsigned long long)psize;
		if (cg < mem)
			mem = cg;
		mem = mem / LIMITS_MEM_SHARE / per_conn;
		*by_mem = mem < 1 ? 1 : mem > UINT32_MAX / 2 ? UINT32_MAX / 2 : (unsigned)mem;
	}
	return *by_fd < *by_mem ? *by_fd : *by_mem;
}

void engine_limits_init(struct engine *e, unsigned max_conns)
{
	unsigned by_fd, by_mem, def;

	def = engine_limits_default(e->bufsize, &by_fd, &by_mem);
	e->max_conns = max_conns ? max_conns : def;
	if (max_conns && max_conns > by_fd)
		log_warnx("engine: --max-connections %u exceeds what RLIMIT_NOFILE "
			  "allows (%u: two descriptors per connection); connections "
			  "beyond it are reset with RC %d (fix: raise the hard "
			  "RLIMIT_NOFILE, e.g. LimitNOFILE= in the unit)", max_conns,
			  by_fd, ATTLS_RC_RESOURCE);
	log_info("engine: at most %u concurrent protected connections (%s; "
		 "RLIMIT_NOFILE allows %u, memory %u)", e->max_conns,
		 max_conns ? "--max-connections" : "default", by_fd, by_mem);
}

static struct rule_slot *slot_find(const struct engine_gen *g, const char *name)
{
	size_t i;

	if (!g || !g->slots)
		return NULL;
	for (i = 0; i < g->nactions; i++)
		if (g->slots[i] && !strcmp(g->slots[i]->name, name))
			return g->slots[i];
	return NULL;
}

int engine_limits_gen_init(struct engine_gen *g, const struct engine_gen *prev)
{
	struct rule_slot *s;
	size_t i;

	if (!g->nactions)
		return 0;
	g->slots = calloc(g->nactions, sizeof(*g->slots));
	if (!g->slots)
		return -ENOMEM;
	for (i = 0; i < g->nactions; i++) {
		if (!g->actions[i].max_conns)
			continue;
		s = slot_find(prev, g->actions[i].rule_name);
		if (s) {
			atomic_fetch_add(&s->refs, 1);
		} else {
			s = calloc(1, sizeof(*s));
			if (!s)
				return -ENOMEM;	/* engine_limits_gen_free() cleans up */
			atomic_init(&s->refs, 1);
			memcpy(s->name, g->actions[i].rule_name, sizeof(s->name));
			s->name[sizeof(s->name) - 1] = '\0';
		}
		g->slots[i] = s;
	}
	return 0;
}

void engine_limits_gen_free(struct engine_gen *g)
{
	size_t i;

	for (i = 0; g->slots && i < g->nactions; i++)
		if (g->slots[i] && atomic_fetch_sub(&g->slots[i]->refs, 1) == 1)
			free(g->slots[i]);
	free(g->slots);
	g->slots = NULL;
}

int engine_limit_admit(struct engine_thread *t, struct engine_gen *g,
		       uint32_t rule_id, struct rule_slot **slot,
		       unsigned *limit)
{
	struct engine *e = t->e;
	struct rule_slot *s = NULL;
	unsigned max = 0;

	*slot = NULL;
	if (atomic_fetch_add(&e->live_conns, 1) >= e->max_conns) {
		atomic_fetch_sub(&e->live_conns, 1);
		engine_tstat_inc(&t->lim.refused_global);
		*limit = e->max_conns;
		return ATTLS_RC_CONN_LIMIT;
	}
	if (rule_id < g->nactions && g->slots) {
		s = g->slots[rule_id];
		max = g->actions[rule_id].max_conns;
	}
	if (s && atomic_fetch_add(&s->live, 1) >= max) {
		atomic_fetch_sub(&s->live, 1);
		atomic_fetch_sub(&e->live_conns, 1);
		engine_tstat_inc(&t->lim.refused_rule);
		*limit = max;
		return ATTLS_RC_RULE_CONN_LIMIT;
	}
	*slot = s;
	return ATTLS_RC_OK;
}

void engine_limit_release(struct engine *e, struct rule_slot *slot)
{
	if (slot)
		atomic_fetch_sub(&slot->live, 1);
	atomic_fetch_sub(&e->live_conns, 1);
}

void engine_limit_stats(struct engine *e, struct engine_stats *st)
{
	const struct engine_tstats *l;
	unsigned i;

	st->max_conns = e->max_conns;
	st->live_conns = atomic_load(&e->live_conns);
	st->bufsize = e->bufsize;
	st->accepted = atomic_load(&e->n_accepted);
	st->no_steer = atomic_load(&e->n_no_steer);
	st->failed = atomic_load(&e->n_failed);
	for (i = 0; i < e->nthreads; i++) {
		l = &e->threads[i].lim;
		st->refused_global += atomic_load_explicit(&l->refused_global,
							   memory_order_relaxed);
		st->refused_rule += atomic_load_explicit(&l->refused_rule,
							 memory_order_relaxed);
		st->handshake_timeouts += atomic_load_explicit(&l->hs_timeout,
							       memory_order_relaxed);
		st->idle_timeouts += atomic_load_explicit(&l->idle_closed,
							  memory_order_relaxed);
	}
}
