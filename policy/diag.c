// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * diag.c - the diagnostics collected by the policy front end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "policy.h"

struct policy_diags {
	struct policy_diag *v;
	size_t n;
	size_t cap;
	size_t nerr;
	size_t nwarn;
	int oom;
};

struct policy_diags *policy_diags_new(void)
{
	return calloc(1, sizeof(struct policy_diags));
}

static void diag_clear(struct policy_diag *g)
{
	free(g->file);
	free(g->msg);
	free(g->hint);
}

void diag_addv(struct policy_diags *d, enum policy_sev sev,
	       const struct ast_loc *loc, const char *hint, const char *fmt,
	       va_list ap)
{
	struct policy_diag g = { .sev = sev };

	if (!d)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct policy_diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			goto oom;
		d->v = v;
		d->cap = cap;
	}
	if (loc && loc->line) {
		g.line = loc->line;
		g.col = loc->col;
	}
	g.file = strdup(loc && loc->file ? loc->file : "");
	if (vasprintf(&g.msg, fmt, ap) < 0)
		g.msg = NULL;
	if (hint)
		g.hint = strdup(hint);
	if (!g.file || !g.msg || (hint && !g.hint))
		goto free_diag;
	d->v[d->n++] = g;
	if (sev == POLICY_SEV_ERROR)
		d->nerr++;
	else
		d->nwarn++;
	return;

free_diag:
	diag_clear(&g);
oom:
	d->oom = 1;
	/* still count it: the caller must see that the policy failed */
	if (sev == POLICY_SEV_ERROR)
		d->nerr++;
}

void diag_add(struct policy_diags *d, enum policy_sev sev,
	      const struct ast_loc *loc, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(d, sev, loc, hint, fmt, ap);
	va_end(ap);
}

int diag_oom(const struct policy_diags *d)
{
	return d ? d->oom : 0;
}

void policy_diags_print(const struct policy_diags *d, FILE *f)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		const struct policy_diag *g = &d->v[i];
		const char *sev = g->sev == POLICY_SEV_ERROR ? "error" : "warning";

		if (g->line)
			fprintf(f, "%s:%u:%u: %s: %s\n", g->file, g->line,
				g->col, sev, g->msg);
		else if (g->file[0])
			fprintf(f, "%s: %s: %s\n", g->file, sev, g->msg);
		else
			fprintf(f, "%s: %s\n", sev, g->msg);
		if (g->hint)
			fprintf(f, "    hint: %s\n", g->hint);
	}
}

size_t policy_diags_errors(const struct policy_diags *d)
{
	return d ? d->nerr : 0;
}

size_t policy_diags_warnings(const struct policy_diags *d)
{
	return d ? d->nwarn : 0;
}

size_t policy_diags_count(const struct policy_diags *d)
{
	return d ? d->n : 0;
}

const struct policy_diag *policy_diags_get(const struct policy_diags *d,
					   size_t i)
{
	if (!d || i >= d->n)
		return NULL;
	return &d->v[i];
}

void policy_diags_free(struct policy_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		diag_clear(&d->v[i]);
	free(d->v);
	free(d);
}
