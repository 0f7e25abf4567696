// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_steer.c - the engine's side of attls_steer: take the steering
 * decision of an accepted connection, and keep the map free of entries no
 * connection will ever take.
 *
 * sk_lookup runs for every TCP segment that finds no established socket,
 * not only for SYNs, and it cannot tell them apart (no packet access).  So
 * a segment arriving after the engine's wire socket is gone writes a steer
 * entry that no accept() will take: measured, a client's FIN retransmitted
 * by its tail-loss probe just after the engine's LAST_ACK socket closed
 * (a few per thousand connections with a slow application), resets, and
 * half-open connections (SYN, then RST before the handshake completes: a
 * SYN scan).  The engine's listener answers such segments with a RST, but
 * the entries would pile up until the map is full and protected SYNs are
 * dropped.  Two sweeps remove them:
 *   - a tombstone per closed connection deletes its flow's key again
 *     ENGINE_TOMB_NS later (the retransmissions come within RTOs);
 *   - thread 0 walks the map every ENGINE_STEER_GC_NS and deletes entries
 *     that were already there, unchanged, on the previous walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "engine_int.h"
#include "log.h"

/* The tombstone FIFO never grows beyond this: older ones are due first. */
#define ENGINE_TOMB_MAX		(1u << 20)

/* One walk of attls_steer; a deleted key restarts get_next_key, so the
 * walk is bounded instead of trusting it to end. */
#define STEER_WALK_MAX		(4u * ATTLS_MAX_CONNS)

struct steer_ent {
	struct attls_flow key;
	struct attls_steer_val val;
};

int engine_steer_take(struct engine *e, const struct attls_flow *f,
		      struct attls_steer_val *sv)
{
	int err;

	/* Lookup + delete: BPF_MAP_LOOKUP_AND_DELETE_ELEM on hash maps
	 * needs kernel 5.14; two calls work everywhere, and only the
	 * engine deletes keys. */
	if (bpf_map_lookup_elem(e->steer_fd, f, sv))
		return -errno;
	if (bpf_map_delete_elem(e->steer_fd, f)) {
		err = -errno;
		if (err != -ENOENT)
			log_warnx("attls_steer: delete: %s", strerror(-err));
	}
	return 0;
}

static void tomb_delete(struct engine *e, const struct attls_flow *f)
{
	/* ENOENT is the normal case: no stray segment came. */
	if (bpf_map_delete_elem(e->steer_fd, f) && errno != ENOENT)
		log_warn("attls_steer: delete");
}

void engine_tomb_add(struct engine_thread *t, const struct attls_flow *f)
{
	struct engine_tomb *nt;
	size_t cap, i;

	if (t->ntombs == t->tomb_cap) {
		cap = t->tomb_cap ? 2 * t->tomb_cap : 64;
		if (cap > ENGINE_TOMB_MAX) {
			/* Full: the oldest goes now, a little early. */
			tomb_delete(t->e, &t->tombs[t->tomb_head].flow);
			t->tomb_head = (t->tomb_head + 1) % t->tomb_cap;
			t->ntombs--;
		} else {
			nt = malloc(cap * sizeof(*nt));
			if (!nt) {
				tomb_delete(t->e, f);
				return;
			}
			for (i = 0; i < t->ntombs; i++)
				nt[i] = t->tombs[(t->tomb_head + i) % t->tomb_cap];
			free(t->tombs);
			t->tombs = nt;
			t->tomb_cap = cap;
			t->tomb_head = 0;
		}
	}
	i = (t->tomb_head + t->ntombs) % t->tomb_cap;
	t->tombs[i].due_ns = engine_now_ns() + ENGINE_TOMB_NS;
	t->tombs[i].flow = *f;
	t->ntombs++;
	engine_timer_arm(t);
}

void engine_tomb_expire(struct engine_thread *t, uint64_t now, int all)
{
	struct engine_tomb *tb;

	/* Same delay for all: the FIFO is in due order. */
	while (t->ntombs) {
		tb = &t->tombs[t->tomb_head];
		if (!all && tb->due_ns > now)
			break;
		tomb_delete(t->e, &tb->flow);
		t->tomb_head = (t->tomb_head + 1) % t->tomb_cap;
		t->ntombs--;
	}
	if (!t->ntombs)
		t->tomb_head = 0;
}

void engine_tomb_free(struct engine_thread *t)
{
	free(t->tombs);
	t->tombs = NULL;
	t->ntombs = t->tomb_cap = t->tomb_head = 0;
}

static int ent_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct steer_ent));
}

/* Every entry of attls_steer, sorted; *n set.  NULL with *n = 0 if empty. */
static struct steer_ent *steer_walk(struct engine *e, size_t *n)
{
	struct steer_ent *v = NULL, *nv;
	struct attls_flow key, next;
	size_t cap = 0;
	unsigned i;
	void *prev = NULL;

	*n = 0;
	for (i = 0; i < STEER_WALK_MAX; i++) {
		if (bpf_map_get_next_key(e->steer_fd, prev, &next))
			break;	/* ENOENT: the end */
		key = next;
		prev = &key;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[*n].key = key;
		if (bpf_map_lookup_elem(e->steer_fd, &key, &v[*n].val))
			continue;	/* taken meanwhile */
		(*n)++;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), ent_cmp);
	return v;
}

void engine_steer_gc(struct engine *e)
{
	struct steer_ent *cur;
	size_t n, i, gone = 0;

	cur = steer_walk(e, &n);
	for (i = 0; i < n && e->steer_prev; i++) {
		/* Unchanged since the last walk a period ago: no SYN of a
		 * pending handshake is that old (SYN-ACK retries end at
		 * about 63 s), so nothing will ever take it. */
		if (!bsearch(&cur[i], e->steer_prev, e->steer_nprev,
			     sizeof(cur[i]), ent_cmp))
			continue;
		if (!bpf_map_delete_elem(e->steer_fd, &cur[i].key))
			gone++;
	}
	free(e->steer_prev);
	e->steer_prev = cur;
	e->steer_nprev = n;
	if (gone)
		log_debug("attls_steer: %zu stale entr%s removed", gone,
			  gone == 1 ? "y" : "ies");
}

void engine_steer_gc_free(struct engine *e)
{
	free(e->steer_prev);
	e->steer_prev = NULL;
	e->steer_nprev = 0;
}
