// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ast.c - allocation, labels and freeing of the policy AST.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "keywords.h"
#include "policy.h"

struct policy *policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

const char *policy_intern_file(struct policy *p, const char *name)
{
	char **v;
	char *copy;
	size_t i;

	for (i = 0; i < p->nfiles; i++) {
		if (!strcmp(p->files[i], name))
			return p->files[i];
	}
	copy = strdup(name);
	if (!copy)
		return NULL;
	v = realloc(p->files, (p->nfiles + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return NULL;
	}
	p->files = v;
	p->files[p->nfiles++] = copy;
	return copy;
}

struct ast_stmt *ast_stmt_new(enum stmt_kind kind, const struct ast_loc *loc)
{
	struct ast_stmt *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->kind = kind;
	st->loc = *loc;
	return st;
}

int policy_add_stmt(struct policy *p, struct ast_stmt *st)
{
	if (p->nstmts == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct ast_stmt **v = realloc(p->stmts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->stmts = v;
		p->cap = cap;
	}
	st->index = (unsigned)p->nstmts;
	p->stmts[p->nstmts++] = st;
	return 0;
}

static void strlist_free(struct ast_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
}

static void adv_free(struct ast_adv *a)
{
	free(a->label.s);
	free(a->host_ref_dns.s);
	strlist_free(&a->server_labels);
	strlist_free(&a->client_sni_list);
	strlist_free(&a->server_sni_list);
}

static void sig_free(struct ast_sig *g)
{
	free(g->client_curves.v);
	free(g->client_shares.v);
	free(g->server_curves.v);
	free(g->server_shares.v);
	free(g->pairs.v);
	free(g->pairs_cert.v);
}

void ast_stmt_free(struct ast_stmt *st)
{
	if (!st)
		return;
	switch (st->kind) {
	case STMT_KEYRING:
		free(st->u.keyring.keyring.s);
		free(st->u.keyring.pw.s);
		free(st->u.keyring.stash.s);
		break;
	case STMT_ENV_ADV:
	case STMT_CONN_ADV:
		adv_free(&st->u.adv);
		break;
	case STMT_CIPHER:
		free(st->u.cipher.suites);
		break;
	case STMT_SIG:
		sig_free(&st->u.sig);
		break;
	case STMT_IPADDRSET:
		free(st->u.addrset.addrs.v);
		free(st->u.addrset.items.v);
		break;
	case STMT_IPADDRGROUP:
	case STMT_PORTGROUP:
		free(st->u.members.items.v);
		break;
	case STMT_TCPIMAGE:
	case STMT_COMMON_TTLS:
	case STMT_TTLSCONFIG:
	case STMT_PAGENT:
		free(st->u.cfg.path.s);
		break;
	default:
		break;
	}
	free(st);
}

void policy_free(struct policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nstmts; i++)
		ast_stmt_free(p->stmts[i]);
	free(p->stmts);
	for (i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p);
}

const char *ast_stmt_label(const struct ast_stmt *st, char *buf, size_t len)
{
	char outer[AST_LABEL_LEN];

	if (stmt_kind_is_config(st->kind)) {
		snprintf(buf, len, "%s", st->u.cfg.what);
		return buf;
	}
	if (st->name[0] || !st->parent) {
		snprintf(buf, len, "%s '%s'", stmt_kind_name(st->kind),
			 st->name);
		return buf;
	}
	snprintf(buf, len, "%s in %s", stmt_kind_name(st->kind),
		 ast_stmt_label(st->parent, outer, sizeof(outer)));
	return buf;
}
