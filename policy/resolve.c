// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * resolve.c - pass 2: names to pointers, and the checks that need the
 * whole policy (duplicates, required parameters, rule conditions, unused
 * statements).  Names are unique per statement kind, as in PAGENT, and
 * case-sensitive; keywords are not.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "keywords.h"
#include "parser.h"
#include "policy.h"
#include "values.h"

/* Named statements of one kind, sorted by (name, definition order). */
struct ns {
	struct ast_stmt **v;
	size_t n;
};

static int cmp_stmt(const void *a, const void *b)
{
	const struct ast_stmt *x = *(struct ast_stmt *const *)a;
	const struct ast_stmt *y = *(struct ast_stmt *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

static int ns_build(struct ns ns[STMT_KIND_MAX], const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nstmts; i++) {
		const struct ast_stmt *st = p->stmts[i];

		if (st->name[0])
			ns[st->kind].n++;
	}
	for (i = 0; i < STMT_KIND_MAX; i++) {
		if (!ns[i].n)
			continue;
		ns[i].v = calloc(ns[i].n, sizeof(*ns[i].v));
		if (!ns[i].v)
			return -ENOMEM;
		ns[i].n = 0;
	}
	for (i = 0; i < p->nstmts; i++) {
		struct ast_stmt *st = p->stmts[i];

		if (st->name[0])
			ns[st->kind].v[ns[st->kind].n++] = st;
	}
	for (i = 0; i < STMT_KIND_MAX; i++) {
		if (ns[i].n)
			qsort(ns[i].v, ns[i].n, sizeof(*ns[i].v), cmp_stmt);
	}
	return 0;
}

static void ns_free(struct ns ns[STMT_KIND_MAX])
{
	size_t i;

	for (i = 0; i < STMT_KIND_MAX; i++)
		free(ns[i].v);
}

/* The first definition of `name`, or NULL. */
static struct ast_stmt *ns_find(const struct ns *ns, const char *name)
{
	size_t lo = 0, hi = ns->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ns->v[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ns->n && !strcmp(ns->v[lo]->name, name))
		return ns->v[lo];
	return NULL;
}

static void check_duplicate(struct ast_stmt *st, const struct ns ns[],
			    struct policy_diags *d)
{
	const struct ast_stmt *first;

	if (!st->name[0])
		return;
	first = ns_find(&ns[st->kind], st->name);
	if (first == st)
		return;
	diag_add(d, POLICY_SEV_ERROR, &st->loc,
		 "names are unique per statement type: rename or delete one",
		 "duplicate %s '%s' (first defined at %s:%u:%u)",
		 stmt_kind_name(st->kind), st->name, first->loc.file,
		 first->loc.line, first->loc.col);
}

static void resolve_one(struct ast_stmt *st, const struct kw *kw,
			struct ast_ref *ref, const struct ns ns[],
			struct policy_diags *d)
{
	const struct ns *target = &ns[kw->target];
	char label[AST_LABEL_LEN];
	char hint[160];
	struct suggest s;
	const char *best;
	size_t i;

	if (!ref->set || ref->is_inline || ref->kw != kw)
		return;
	ref->to = ns_find(target, ref->name);
	if (ref->to) {
		ref->to->nrefs++;
		return;
	}
	suggest_init(&s, ref->name);
	for (i = 0; i < target->n; i++)
		suggest_try(&s, target->v[i]->name);
	best = suggest_best(&s);
	ast_stmt_label(st, label, sizeof(label));
	snprintf(hint, sizeof(hint), "define \"%s %s { ... }\" or correct the name",
		 stmt_kind_name(kw->target), ref->name);
	if (best)
		diag_add(d, POLICY_SEV_ERROR, &ref->loc, hint,
			 "%s: %s '%s' is not defined; did you mean '%s'?",
			 label, kw->name, ref->name, best);
	else
		diag_add(d, POLICY_SEV_ERROR, &ref->loc, hint,
			 "%s: %s '%s' is not defined", label, kw->name,
			 ref->name);
}

/* Resolve what KW_REF `kw` set in `st`: its ast_ref, or its list items. */
static void resolve_ref(struct ast_stmt *st, const struct kw *kw,
			const struct ns ns[], struct policy_diags *d)
{
	struct ast_reflist *l;
	size_t i;

	if (!(kw->flags & KWF_LIST)) {
		resolve_one(st, kw, kw_ref_of(st, kw), ns, d);
		return;
	}
	l = kw_reflist_of(st, kw);
	for (i = 0; i < l->n; i++)
		resolve_one(st, kw, &l->v[i], ns, d);
}

/* Report each required slot that no keyword of it filled, once. */
static void check_required(struct ast_stmt *st, const struct stmt_desc *desc,
			   struct policy_diags *d)
{
	char label[AST_LABEL_LEN];
	uint64_t reported = 0;
	size_t i, j;

	for (i = 0; i < desc->nkws; i++) {
		const struct kw *kw = &desc->kws[i];
		char names[160] = "", hint[320] = "add a line:";

		if (!(kw->flags & KWF_REQUIRED) || st->seen[kw->slot].line ||
		    (reported & (1ULL << kw->slot)))
			continue;
		reported |= 1ULL << kw->slot;
		for (j = 0; j < desc->nkws; j++) {
			const struct kw *alt = &desc->kws[j];
			size_t n = strlen(names), h = strlen(hint);

			if (alt->slot != kw->slot)
				continue;
			snprintf(names + n, sizeof(names) - n, "%s%s",
				 n ? " or " : "", alt->name);
			snprintf(hint + h, sizeof(hint) - h, "%s %s",
				 h > 11 ? " or" : "", alt->usage);
		}
		diag_add(d, POLICY_SEV_ERROR, &st->loc, hint, "%s: missing %s",
			 ast_stmt_label(st, label, sizeof(label)), names);
	}
}

/* IBM: a rule needs Direction and at least one other condition. */
static const char *const rule_conditions[] = {
	"LocalAddr", "RemoteAddr", "LocalPortRange", "RemotePortRange",
	"Jobname", "Userid",
};

static void check_rule(struct ast_stmt *st, struct policy_diags *d)
{
	const struct stmt_desc *desc = stmt_desc_of(STMT_RULE);
	const struct ast_rule *r = &st->u.rule;
	const struct ast_stmt *g = r->group.to;
	char label[AST_LABEL_LEN];
	size_t i;
	int any = 0;

	ast_stmt_label(st, label, sizeof(label));
	for (i = 0; i < sizeof(rule_conditions) / sizeof(rule_conditions[0]); i++) {
		const struct kw *kw = kw_lookup(desc, rule_conditions[i]);

		if (st->seen[kw->slot].line)
			any = 1;
	}
	if (!any)
		diag_add(d, POLICY_SEV_ERROR, &st->loc,
			 "add at least one of LocalAddr, RemoteAddr, LocalPortRange, RemotePortRange, Jobname, Userid",
			 "%s has no condition besides Direction", label);
	if (!g || !g->u.group.enabled.set)
		return;
	if (g->u.group.enabled.v && !r->env.set) {
		diag_add(d, POLICY_SEV_ERROR, &st->loc,
			 "add TTLSEnvironmentActionRef name, or use a group with TTLSEnabled Off for cleartext",
			 "%s: TTLSEnvironmentActionRef is required because TTLSGroupAction '%s' has TTLSEnabled On",
			 label, g->name);
	} else if (!g->u.group.enabled.v && (r->env.set || r->conn.set)) {
		const struct ast_ref *ref = r->env.set ? &r->env : &r->conn;

		diag_add(d, POLICY_SEV_WARNING, &ref->loc,
			 "connections matching this rule stay in cleartext",
			 "%s: %s '%s' is ignored: TTLSGroupAction '%s' has TTLSEnabled Off",
			 label, ref->kw->name, ref->name, g->name);
	}
}

/*
 * IpTimeCondition From/To pairs: both or neither, and not next to the
 * Mask form of the same field (From shares the Mask's slot, so that
 * conflict was reported by the parser already).
 */
struct time_pair {
	const char *from, *to;
	size_t from_off, to_off;
};

#define TP(f, t, a, b) \
	{ f, t, offsetof(struct ast_time, a), offsetof(struct ast_time, b) }

static const struct time_pair time_pairs[] = {
	TP("FromTimeOfDay", "ToTimeOfDay", tod_from, tod_to),
	TP("FromDayOfWeek", "ToDayOfWeek", dow_from, dow_to),
	TP("FromDayOfMonth", "ToDayOfMonth", dom_from, dom_to),
	TP("FromMonthOfYear", "ToMonthOfYear", month_from, month_to),
};

static void check_time(struct ast_stmt *st, struct policy_diags *d)
{
	const struct stmt_desc *desc = stmt_desc_of(STMT_TIME);
	const struct ast_time *t = &st->u.time;
	char label[AST_LABEL_LEN];
	size_t i;

	ast_stmt_label(st, label, sizeof(label));
	for (i = 0; i < sizeof(time_pairs) / sizeof(time_pairs[0]); i++) {
		const struct time_pair *tp = &time_pairs[i];
		const struct ast_val *from = (const void *)((const char *)t + tp->from_off);
		const struct ast_val *to = (const void *)((const char *)t + tp->to_off);
		unsigned fslot = kw_lookup(desc, tp->from)->slot;
		unsigned tslot = kw_lookup(desc, tp->to)->slot;
		const char *owner = st->seen_kw[fslot];
		int from_seen = owner && !strcmp(owner, tp->from);
		int to_seen = st->seen[tslot].line != 0;

		if (to_seen && owner && !from_seen) {
			diag_add(d, POLICY_SEV_ERROR, &st->seen[tslot],
				 "keep only one of them",
				 "%s: %s conflicts with %s at line %u", label,
				 tp->to, owner, st->seen[fslot].line);
		} else if (to_seen != from_seen) {
			diag_add(d, POLICY_SEV_ERROR,
				 to_seen ? &st->seen[tslot] : &st->seen[fslot],
				 NULL, "%s: %s needs %s", label,
				 to_seen ? tp->to : tp->from,
				 to_seen ? tp->from : tp->to);
		} else if (i == 0 && from_seen && from->set && to->set &&
			   from->v == to->v) {
			diag_add(d, POLICY_SEV_ERROR, &st->seen[fslot],
				 "use 00:00 to 24:00 for the whole day",
				 "%s: FromTimeOfDay and ToTimeOfDay give an empty window",
				 label);
		}
	}
}

/* KeyringPw / KeyringStashFile only unlock a key file. */
static void check_keyring(struct ast_stmt *st, struct policy_diags *d)
{
	const struct ast_keyring *k = &st->u.keyring;
	const struct ast_str *pw = k->pw.s ? &k->pw : &k->stash;
	char label[AST_LABEL_LEN];

	if (!pw->s || !k->keyring.s)
		return;
	ast_stmt_label(st, label, sizeof(label));
	if (k->keyring.s[0] != '/')
		diag_add(d, POLICY_SEV_WARNING, &pw->loc,
			 "only a key file (Keyring /absolute/path) has a password",
			 "%s: %s is ignored: Keyring '%s' is a key ring, not a key file",
			 label, pw == &k->pw ? "KeyringPw" : "KeyringStashFile",
			 k->keyring.s);
	else if (k->pw.s && k->stash.s)
		diag_add(d, POLICY_SEV_WARNING, &k->stash.loc,
			 "remove one of them",
			 "%s: KeyringStashFile is ignored because KeyringPw is given",
			 label);
}

void resolve_policy(struct policy *p, struct policy_diags *d)
{
	struct ns ns[STMT_KIND_MAX] = { { 0 } };
	size_t i, k;

	if (ns_build(ns, p)) {
		diag_add(d, POLICY_SEV_ERROR, NULL, NULL, "out of memory");
		goto free_ns;
	}
	for (i = 0; i < p->nstmts; i++) {
		struct ast_stmt *st = p->stmts[i];
		const struct stmt_desc *desc = stmt_desc_of(st->kind);

		check_duplicate(st, ns, d);
		for (k = 0; k < desc->nkws; k++) {
			if (desc->kws[k].type == KW_REF)
				resolve_ref(st, &desc->kws[k], ns, d);
		}
	}
	/* required parameters and rule checks look through resolved refs */
	for (i = 0; i < p->nstmts; i++) {
		struct ast_stmt *st = p->stmts[i];

		check_required(st, stmt_desc_of(st->kind), d);
		if (st->kind == STMT_RULE)
			check_rule(st, d);
		else if (st->kind == STMT_TIME)
			check_time(st, d);
		else if (st->kind == STMT_KEYRING)
			check_keyring(st, d);
	}
	for (i = 0; i < p->nstmts; i++) {
		const struct ast_stmt *st = p->stmts[i];

		if (st->kind == STMT_RULE || stmt_kind_is_config(st->kind) ||
		    st->parent || !st->name[0] ||
		    st->nrefs || ns_find(&ns[st->kind], st->name) != st)
			continue;
		diag_add(d, POLICY_SEV_WARNING, &st->loc,
			 "delete it, or refer to it from a statement that uses it",
			 "unused %s '%s'", stmt_kind_name(st->kind), st->name);
	}
free_ns:
	ns_free(ns);
}
