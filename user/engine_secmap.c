// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * engine_secmap.c - SecondaryMap: the attls_secmap entries of the open
 * primary connections (attls_abi.h, docs/ftp.md).
 *
 * Several primaries may share a key (two FTP sessions from one client
 * address to one server cgroup): the engine counts them per key and keeps
 * the kernel entry while any is open.  The entry's protection is PROTECT
 * as soon as one of them asks for it (FTP PROT P in one session, PROT C
 * in the other): a secondary of the cleartext session then fails its
 * handshake, which is visible and safe, instead of the protected session's
 * data passing in cleartext.  The rule of the first primary stays the
 * entry's rule.
 *
 * Engine threads share the table: one mutex, taken only when a primary
 * with SecondaryMap On opens or closes or changes its protection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "engine_int.h"
#include "log.h"

struct secmap_ent {
	LIST_ENTRY(secmap_ent) link;
	struct attls_secmap_key key;
	struct attls_secmap_val val;	/* as written to the kernel */
	unsigned n;			/* primaries holding the key */
	unsigned nprotect;		/* of which ask for protection */
};

/* A primary's hold on its keys: exact local address, and unbound. */
struct secmap_ref {
	struct secmap_ent *ent[2];
	int protect;
};

static struct secmap_ent *secmap_find(struct engine *e,
				      const struct attls_secmap_key *k)
{
	struct secmap_ent *s;

	LIST_FOREACH(s, &e->secmaps, link) {
		if (!memcmp(&s->key, k, sizeof(*k)))
			return s;
	}
	return NULL;
}

/* Write s's aggregate to the kernel.  0 or -errno. */
static int secmap_sync(struct engine *e, struct secmap_ent *s)
{
	s->val.protect = s->nprotect ? ATTLS_SECMAP_PROTECT : ATTLS_SECMAP_CLEAR;
	if (bpf_map_update_elem(e->secmap_fd, &s->key, &s->val, BPF_ANY))
		return -errno;
	return 0;
}

static void secmap_put(struct engine *e, struct secmap_ent *s, int protect)
{
	s->n--;
	if (protect)
		s->nprotect--;
	if (s->n) {
		if (secmap_sync(e, s))
			log_warn("attls_secmap: update");
		return;
	}
	if (bpf_map_delete_elem(e->secmap_fd, &s->key) && errno != ENOENT)
		log_warn("attls_secmap: delete");
	LIST_REMOVE(s, link);
	free(s);
}

static int secmap_get(struct engine *e, const struct attls_secmap_key *k,
		      const struct attls_secmap_val *v, int protect,
		      struct secmap_ent **out)
{
	struct secmap_ent *s = secmap_find(e, k);
	int err, fresh = !s;

	if (fresh) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->key = *k;
		s->val = *v;
		LIST_INSERT_HEAD(&e->secmaps, s, link);
	}
	s->n++;
	if (protect)
		s->nprotect++;
	err = secmap_sync(e, s);
	if (err) {
		secmap_put(e, s, protect);
		return err;
	}
	*out = s;
	return 0;
}

int engine_secmap_add(struct engine *e, const struct attls_secmap_key *k,
		      const struct attls_secmap_val *v, struct secmap_ref **out)
{
	struct attls_secmap_key any = *k;
	struct secmap_ref *r;
	int err, protect = v->protect == ATTLS_SECMAP_PROTECT;

	*out = NULL;
	if (e->secmap_fd < 0)
		return -EOPNOTSUPP;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->protect = protect;
	memset(any.laddr, 0, sizeof(any.laddr));
	pthread_mutex_lock(&e->secmap_lock);
	err = secmap_get(e, k, v, protect, &r->ent[0]);
	if (!err) {
		err = secmap_get(e, &any, v, protect, &r->ent[1]);
		if (err)
			secmap_put(e, r->ent[0], protect);
	}
	pthread_mutex_unlock(&e->secmap_lock);
	if (err) {
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

int engine_secmap_protect(struct engine *e, struct secmap_ref *r, int protect)
{
	int i, err = 0;

	protect = !!protect;
	if (!r || r->protect == protect)
		return 0;
	pthread_mutex_lock(&e->secmap_lock);
	for (i = 0; i < 2; i++) {
		if (protect)
			r->ent[i]->nprotect++;
		else
			r->ent[i]->nprotect--;
		if (!err)
			err = secmap_sync(e, r->ent[i]);
	}
	r->protect = protect;
	pthread_mutex_unlock(&e->secmap_lock);
	return err;
}

void engine_secmap_del(struct engine *e, struct secmap_ref *r)
{
	int i;

	if (!r)
		return;
	pthread_mutex_lock(&e->secmap_lock);
	for (i = 0; i < 2; i++)
		secmap_put(e, r->ent[i], r->protect);
	pthread_mutex_unlock(&e->secmap_lock);
	free(r);
}

void engine_secmap_free(struct engine *e)
{
	struct secmap_ent *s;

	while ((s = LIST_FIRST(&e->secmaps))) {
		if (e->secmap_fd >= 0)
			bpf_map_delete_elem(e->secmap_fd, &s->key);
		LIST_REMOVE(s, link);
		free(s);
	}
}
