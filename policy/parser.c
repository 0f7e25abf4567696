// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * parser.c - pass 1: recursive descent over the AT-TLS block syntax.
 *
 *   policy    := { statement | EOL }
 *   statement := Keyword [name] EOL* '{' { parameter | EOL } '}'
 *   parameter := Keyword value... (EOL | before '}')
 *              | Keyword [name] EOL* '{' ... '}'      (inline statement)
 *
 * Which keywords exist, what they take and where the values go is all in
 * keywords.c; this file only drives the tables.  Every error resyncs at
 * the end of the line (or past a skipped block), like relayd's findeol(),
 * so one run reports every problem.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ast.h"
#include "diag.h"
#include "keywords.h"
#include "lexer.h"
#include "parser.h"
#include "policy.h"

#define PARSE_MAX_ERRORS	100	/* then give up: the rest is noise */
#define PARSE_MAX_ARGS		256

struct parser {
	struct lexer lx;
	struct policy *p;
	struct policy_diags *d;
	struct token tok;		/* lookahead, valid when `have` */
	int have;
	int oom;
	int stop;			/* act as if at EOF (oom, too many errors) */
	int gave_up;			/* too many errors */
	int closing;			/* unwinding blocks after a missing '}' */
	size_t err0;			/* errors before this parse */
};

static struct token *peek(struct parser *ps)
{
	if (ps->stop) {
		tok_clear(&ps->tok);
		ps->have = 1;
		return &ps->tok;
	}
	if (!ps->have) {
		if (lex_next(&ps->lx, &ps->tok)) {
			ps->oom = 1;
			ps->stop = 1;
			ps->tok.type = TOK_EOF;
		}
		ps->have = 1;
	}
	return &ps->tok;
}

/* Move the lookahead into *out; the caller frees out->text. */
static void take(struct parser *ps, struct token *out)
{
	peek(ps);
	*out = ps->tok;
	ps->tok.text = NULL;
	ps->have = 0;
}

static void drop(struct parser *ps)
{
	peek(ps);
	tok_clear(&ps->tok);
	ps->have = 0;
}

static void perr(struct parser *ps, const struct ast_loc *loc,
		 const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void perr(struct parser *ps, const struct ast_loc *loc,
		 const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (ps->stop)
		return;
	va_start(ap, fmt);
	diag_addv(ps->d, POLICY_SEV_ERROR, loc, hint, fmt, ap);
	va_end(ap);
	if (policy_diags_errors(ps->d) - ps->err0 >= PARSE_MAX_ERRORS) {
		diag_add(ps->d, POLICY_SEV_ERROR, loc, NULL,
			 "too many errors, giving up");
		ps->stop = 1;
		ps->gave_up = 1;
	}
}

/* After a '{' was consumed: drop everything up to its matching '}'. */
static void skip_block(struct parser *ps)
{
	unsigned depth = 1;

	for (;;) {
		struct token *t = peek(ps);

		if (t->type == TOK_EOF)
			return;
		if (t->type == TOK_LBRACE)
			depth++;
		if (t->type == TOK_RBRACE && --depth == 0) {
			drop(ps);
			return;
		}
		drop(ps);
	}
}

/*
 * findeol(): drop the rest of the line, including a block opened on it.
 * A '}' is left alone, it closes the enclosing statement.  Returns 1 if a
 * block was skipped.
 */
static int skip_line(struct parser *ps)
{
	for (;;) {
		struct token *t = peek(ps);

		switch (t->type) {
		case TOK_EOF:
		case TOK_RBRACE:
			return 0;
		case TOK_EOL:
			drop(ps);
			return 0;
		case TOK_LBRACE:
			drop(ps);
			skip_block(ps);
			return 1;
		case TOK_WORD:
			drop(ps);
			break;
		}
	}
}

/* Skip an unusable statement or parameter and the block it may open. */
static void skip_construct(struct parser *ps)
{
	if (skip_line(ps))
		return;
	while (peek(ps)->type == TOK_EOL)
		drop(ps);
	if (peek(ps)->type == TOK_LBRACE) {
		drop(ps);
		skip_block(ps);
	}
}

/*
 * A statement without its '{': skip until something that can start the
 * next statement (a line beginning with a statement keyword) or past a
 * stray block, so the parameters are not reported one by one.
 */
static void skip_to_statement(struct parser *ps)
{
	int bol = 0;

	for (;;) {
		struct token *t = peek(ps);

		switch (t->type) {
		case TOK_EOF:
			return;
		case TOK_EOL:
			drop(ps);
			bol = 1;
			continue;
		case TOK_RBRACE:
			drop(ps);
			return;
		case TOK_LBRACE:
			drop(ps);
			skip_block(ps);
			return;
		case TOK_WORD:
			if (bol && stmt_lookup(t->text))
				return;
			drop(ps);
			bol = 0;
			continue;
		}
	}
}

/* Split "message\nhint" in place; returns the hint or NULL. */
static char *split_hint(char *msg)
{
	char *nl = msg ? strchr(msg, '\n') : NULL;

	if (!nl)
		return NULL;
	*nl = '\0';
	return nl + 1;
}

struct args {
	struct token tok[PARSE_MAX_ARGS];
	char *argv[PARSE_MAX_ARGS];
	struct ast_loc loc[PARSE_MAX_ARGS];
	size_t n;			/* kept */
	size_t seen;			/* given (may exceed n) */
};

/* The values of a parameter: the words up to the end of its line. */
static void collect_args(struct parser *ps, struct args *a)
{
	a->n = a->seen = 0;
	while (peek(ps)->type == TOK_WORD) {
		if (a->n < PARSE_MAX_ARGS) {
			take(ps, &a->tok[a->n]);
			a->argv[a->n] = a->tok[a->n].text;
			a->loc[a->n] = a->tok[a->n].loc;
			a->n++;
		} else {
			drop(ps);
		}
		a->seen++;
	}
}

static void free_args(struct args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		tok_clear(&a->tok[i]);
	a->n = 0;
}

static void mark_seen(struct ast_stmt *st, const struct kw *kw,
		      const struct ast_loc *loc)
{
	if (kw->slot && !st->seen[kw->slot].line) {
		st->seen[kw->slot] = *loc;
		st->seen_kw[kw->slot] = kw->name;
	}
}

/* A second X, or X next to XRef: 1 (reported) or 0. */
static int slot_taken(struct parser *ps, struct ast_stmt *st,
		      const struct kw *kw, const struct ast_loc *loc)
{
	char label[AST_LABEL_LEN];
	const struct ast_loc *first = &st->seen[kw->slot];

	if (!kw->slot || !first->line || (kw->flags & (KWF_CONCAT | KWF_LIST)))
		return 0;
	ast_stmt_label(st, label, sizeof(label));
	if (!strcasecmp(st->seen_kw[kw->slot], kw->name))
		perr(ps, loc, "remove one of them",
		     "%s: %s given twice (first at line %u)", label, kw->name,
		     first->line);
	else
		perr(ps, loc, "keep only one of them",
		     "%s: %s conflicts with %s at line %u", label, kw->name,
		     st->seen_kw[kw->slot], first->line);
	return 1;
}

static struct ast_stmt *parse_body(struct parser *ps,
				   const struct stmt_desc *desc,
				   struct ast_stmt *parent,
				   const struct token *kwt,
				   const struct token *name);

static void report_unknown(struct parser *ps, const struct stmt_desc *desc,
			   struct ast_stmt *st, const struct token *kt)
{
	const struct stmt_desc *owner = kw_owner(kt->text);
	const char *best = kw_suggest(desc, kt->text);
	char label[AST_LABEL_LEN];
	char hint[160];

	ast_stmt_label(st, label, sizeof(label));
	if (best) {
		perr(ps, &kt->loc, NULL,
		     "%s: unknown keyword '%s'; did you mean '%s'?", label,
		     kt->text, best);
	} else if (owner && owner != desc) {
		snprintf(hint, sizeof(hint), "it is a parameter of %s",
			 owner->name);
		perr(ps, &kt->loc, hint, "%s: %s is not a parameter of %s",
		     label, kt->text, desc->name);
	} else {
		snprintf(hint, sizeof(hint),
			 "check the spelling against the %s parameters of the AT-TLS reference",
			 desc->name);
		perr(ps, &kt->loc, hint, "%s: unknown keyword '%s'", label,
		     kt->text);
	}
}

/* An inline statement: "Keyword [name] EOL* { ... }". */
static void parse_inline(struct parser *ps, struct ast_stmt *st,
			 const struct kw *kw, const struct token *kt,
			 struct args *a)
{
	const struct stmt_desc *desc = stmt_desc_of(kw->target);
	struct ast_stmt *nested;
	char label[AST_LABEL_LEN];
	struct ast_ref *ref;
	int dup;

	ast_stmt_label(st, label, sizeof(label));
	if (a->seen > 1)
		perr(ps, &a->loc[1], "an inline statement has at most one name",
		     "%s: unexpected '%s' after %s", label, a->argv[1],
		     kw->name);
	while (peek(ps)->type == TOK_EOL)
		drop(ps);
	if (peek(ps)->type != TOK_LBRACE) {
		char hint[160];

		snprintf(hint, sizeof(hint),
			 "open a block on the next line, or refer to a named one with %sRef name",
			 kw->name);
		perr(ps, &kt->loc, hint, "%s: expected '{' after %s", label,
		     kw->name);
		mark_seen(st, kw, &kt->loc);
		return;
	}
	dup = slot_taken(ps, st, kw, &kt->loc);
	nested = parse_body(ps, desc, st, kt, a->seen ? &a->tok[0] : NULL);
	mark_seen(st, kw, &kt->loc);
	if (!nested || dup)
		return;
	ref = kw_ref_new(st, kw);
	if (!ref) {
		ps->oom = ps->stop = 1;
		return;
	}
	if (kw->why) {
		char msg[AST_LABEL_LEN + 256];
		const char *hint = strchr(kw->why, '\n');

		snprintf(msg, sizeof(msg), "%s: %s is ignored on Linux: %.*s",
			 label, kw->name,
			 (int)(hint ? (size_t)(hint - kw->why) : strlen(kw->why)),
			 kw->why);
		diag_add(ps->d, POLICY_SEV_WARNING, &kt->loc,
			 hint ? hint + 1 : NULL, "%s", msg);
	}
	ref->set = 1;
	ref->is_inline = 1;
	strcpy(ref->name, nested->name);
	ref->loc = kt->loc;
	ref->kw = kw;
	ref->to = nested;
	nested->nrefs++;
}

static void run_handler(struct parser *ps, struct ast_stmt *st,
			const struct kw *kw, const struct token *kt,
			struct args *a)
{
	struct kw_call c = {
		.st = st, .kw = kw, .argv = a->argv, .argloc = a->loc,
		.argc = a->n, .loc = kt->loc,
	};
	char label[AST_LABEL_LEN];
	char *msg = NULL;
	const char *hint;
	int rc;

	rc = kw->fn(&c, &msg);
	if (rc) {
		const struct ast_loc *loc = c.blame && c.blame <= a->n ?
					    &a->loc[c.blame - 1] : &kt->loc;

		hint = split_hint(msg);
		ast_stmt_label(st, label, sizeof(label));
		if (rc < 0)
			perr(ps, loc, hint, "%s: %s", label,
			     msg ? msg : "out of memory");
		else if (!ps->stop)
			diag_add(ps->d, POLICY_SEV_WARNING, loc, hint, "%s: %s",
				 label, msg ? msg : "out of memory");
	}
	free(msg);
}

static void parse_param(struct parser *ps, const struct stmt_desc *desc,
			struct ast_stmt *st, const struct token *kt)
{
	const struct kw *kw = kw_lookup(desc, kt->text);
	char label[AST_LABEL_LEN];
	struct args *a;

	if (!kw) {
		report_unknown(ps, desc, st, kt);
		skip_construct(ps);
		return;
	}
	ast_stmt_label(st, label, sizeof(label));
	if (kw->type == KW_TODO) {
		perr(ps, &kt->loc,
		     "remove it; docs/policy.md lists what attls implements",
		     "%s: %s is not supported yet", label, kw->name);
		mark_seen(st, kw, &kt->loc);
		skip_construct(ps);
		return;
	}
	a = malloc(sizeof(*a));
	if (!a) {
		ps->oom = ps->stop = 1;
		return;
	}
	collect_args(ps, a);
	if (kw->type == KW_BLOCK) {
		parse_inline(ps, st, kw, kt, a);
		goto free_args;
	}
	if (peek(ps)->type == TOK_LBRACE) {
		perr(ps, &peek(ps)->loc, kw->usage, "%s: %s does not take a block",
		     label, kw->name);
		drop(ps);
		skip_block(ps);
		mark_seen(st, kw, &kt->loc);
		goto free_args;
	}
	if (a->seen < kw->min || a->seen > kw->max) {
		char hint[256];

		snprintf(hint, sizeof(hint), "usage: %s%s", kw->usage,
			 a->seen > kw->max ? "; put each parameter on its own line" : "");
		if (kw->min == kw->max)
			perr(ps, &kt->loc, hint, "%s: %s takes %u value%s, %zu given",
			     label, kw->name, kw->min, kw->min == 1 ? "" : "s",
			     a->seen);
		else
			perr(ps, &kt->loc, hint, "%s: %s takes %u to %u values, %zu given",
			     label, kw->name, kw->min, kw->max, a->seen);
		mark_seen(st, kw, &kt->loc);
		goto free_args;
	}
	if (slot_taken(ps, st, kw, &kt->loc))
		goto free_args;
	run_handler(ps, st, kw, kt, a);
	mark_seen(st, kw, &kt->loc);
free_args:
	free_args(a);
	free(a);
}

/*
 * The '{' ... '}' part of a statement whose keyword (and name) were read.
 * Returns the statement, now owned by the policy, or NULL when there was
 * no block or memory ran out.
 */
static struct ast_stmt *parse_body(struct parser *ps,
				   const struct stmt_desc *desc,
				   struct ast_stmt *parent,
				   const struct token *kwt,
				   const struct token *name)
{
	char label[AST_LABEL_LEN];
	struct ast_stmt *st;
	struct token kt;
	char *msg = NULL;

	if (peek(ps)->type != TOK_LBRACE)
		return NULL;
	drop(ps);
	st = ast_stmt_new(desc->kind, &kwt->loc);
	if (!st || policy_add_stmt(ps->p, st)) {
		free(st);
		ps->oom = ps->stop = 1;
		return NULL;
	}
	st->parent = parent;
	if (name) {
		if (kw_check_name(name->text, &msg)) {
			char *hint = split_hint(msg);

			perr(ps, &name->loc, hint, "%s: %s", desc->name,
			     msg ? msg : "out of memory");
		} else {
			strcpy(st->name, name->text);
		}
		free(msg);
	}
	for (;;) {
		struct token *t = peek(ps);

		switch (t->type) {
		case TOK_EOF:
			if (!ps->stop)
				perr(ps, &kwt->loc, "add '}' after its last parameter",
				     "%s is not closed: missing '}' at end of file",
				     ast_stmt_label(st, label, sizeof(label)));
			return st;
		case TOK_EOL:
			drop(ps);
			continue;
		case TOK_RBRACE:
			drop(ps);
			return st;
		case TOK_LBRACE:
			perr(ps, &t->loc,
			     "a block belongs after a keyword such as TTLSKeyringParms",
			     "%s: unexpected '{'",
			     ast_stmt_label(st, label, sizeof(label)));
			drop(ps);
			skip_block(ps);
			continue;
		case TOK_WORD:
			break;
		}
		if (ps->closing)
			return st;
		if (!kw_lookup(desc, t->text) && stmt_is_toplevel_only(t->text)) {
			/* "TTLSGroupAction g {" inside a rule: the rule lacks
			 * its '}'.  Close every open block and let the top
			 * level parse the statement. */
			perr(ps, &t->loc, "add '}' after its last parameter",
			     "missing '}' before %s: %s (line %u) is not closed",
			     t->text, ast_stmt_label(st, label, sizeof(label)),
			     st->loc.line);
			ps->closing = 1;
			return st;
		}
		take(ps, &kt);
		parse_param(ps, desc, st, &kt);
		tok_clear(&kt);
	}
}

/*
 * A PAGENT configuration statement: "Keyword value..." on one line, e.g.
 * "TcpImage TCPIP /etc/pagent/tcpip.conf FLUSH".  It becomes an AST
 * statement for policy.c to follow; statements of other disciplines
 * (IPSecConfig ...) may carry a block, which is skipped.
 */
static void parse_line_statement(struct parser *ps, const struct stmt_desc *desc,
				 const struct token *kwt)
{
	const struct kw *kw = desc->line;
	struct kw_call c = { .kw = kw, .loc = kwt->loc };
	char *msg = NULL, *hint;
	struct ast_stmt *st;
	struct args *a;
	int rc;

	a = malloc(sizeof(*a));
	if (!a) {
		ps->oom = ps->stop = 1;
		return;
	}
	collect_args(ps, a);
	if (desc->kind == STMT_PAGENT) {
		/* e.g. "IPSecConfig file" or "DynamicConfigPolicyLoad { ... }" */
		skip_construct(ps);
	} else if (peek(ps)->type == TOK_LBRACE) {
		perr(ps, &peek(ps)->loc, kw->usage, "%s does not take a block",
		     desc->name);
		drop(ps);
		skip_block(ps);
		goto free_args;
	}
	if (a->seen < kw->min || a->seen > kw->max) {
		perr(ps, &kwt->loc, kw->usage, "%s takes %u to %u values, %zu given",
		     desc->name, kw->min, kw->max, a->seen);
		goto free_args;
	}
	st = ast_stmt_new(desc->kind, &kwt->loc);
	if (!st || policy_add_stmt(ps->p, st)) {
		free(st);
		ps->oom = ps->stop = 1;
		goto free_args;
	}
	st->u.cfg.what = desc->name;
	c.st = st;
	c.argv = a->argv;
	c.argloc = a->loc;
	c.argc = a->n;
	rc = kw->fn(&c, &msg);
	if (rc) {
		const struct ast_loc *loc = c.blame && c.blame <= a->n ?
					    &a->loc[c.blame - 1] : &kwt->loc;

		hint = split_hint(msg);
		if (rc < 0)
			perr(ps, loc, hint, "%s: %s", desc->name,
			     msg ? msg : "out of memory");
		else if (!ps->stop)
			diag_add(ps->d, POLICY_SEV_WARNING, loc, hint, "%s: %s",
				 desc->name, msg ? msg : "out of memory");
	}
	free(msg);
free_args:
	free_args(a);
	free(a);
}

/* A top-level statement whose keyword is in `kwt`. */
static void parse_statement(struct parser *ps, const struct token *kwt)
{
	const struct stmt_desc *desc = stmt_lookup(kwt->text);
	struct token name = { .type = TOK_EOF };
	char hint[160];

	if (!desc) {
		const struct stmt_desc *owner = kw_owner(kwt->text);
		const char *best = stmt_suggest(kwt->text);

		if (owner) {
			snprintf(hint, sizeof(hint),
				 "put it inside the braces of a %s statement",
				 owner->name);
			perr(ps, &kwt->loc, hint,
			     "%s is a parameter of %s, not a statement",
			     kwt->text, owner->name);
		} else if (best) {
			perr(ps, &kwt->loc, NULL,
			     "unknown statement '%s'; did you mean '%s'?",
			     kwt->text, best);
		} else {
			perr(ps, &kwt->loc,
			     "AT-TLS statements are TTLSRule, TTLSGroupAction, TTLSEnvironmentAction, ...",
			     "unknown statement '%s'", kwt->text);
		}
		skip_construct(ps);
		return;
	}
	if (desc->line) {
		parse_line_statement(ps, desc, kwt);
		return;
	}
	if (!desc->kws) {
		perr(ps, &kwt->loc,
		     "remove it and the references to it; docs/policy.md lists what attls implements",
		     "%s statements are not supported yet", desc->name);
		skip_construct(ps);
		return;
	}
	if (peek(ps)->type == TOK_WORD)
		take(ps, &name);
	if (peek(ps)->type == TOK_WORD) {
		perr(ps, &peek(ps)->loc,
		     "a statement has one name; parameters go inside the braces, one per line",
		     "%s: unexpected %s after the name", desc->name,
		     peek(ps)->text);
		while (peek(ps)->type == TOK_WORD)
			drop(ps);
	}
	if (name.type != TOK_WORD) {
		snprintf(hint, sizeof(hint), "write: %s myName", desc->name);
		perr(ps, &kwt->loc, hint,
		     "%s needs a name (1-%d characters)", desc->name,
		     AST_NAME_MAX);
	}
	while (peek(ps)->type == TOK_EOL)
		drop(ps);
	if (peek(ps)->type != TOK_LBRACE) {
		char what[LEX_MAX_WORD + 8];

		snprintf(hint, sizeof(hint),
			 "put the parameters between '{' and '}' after \"%s %s\"",
			 desc->name, name.text ? name.text : "name");
		perr(ps, &peek(ps)->loc, hint, "%s: expected '{', found %s",
		     desc->name, tok_describe(peek(ps), what, sizeof(what)));
		skip_to_statement(ps);
	} else {
		parse_body(ps, desc, NULL, kwt, name.type == TOK_WORD ? &name : NULL);
	}
	tok_clear(&name);
}

int parse_text(struct policy *p, struct policy_diags *d, const char *file,
	       const char *text, size_t len)
{
	struct parser ps = { .p = p, .d = d };
	struct token kwt;

	ps.err0 = policy_diags_errors(d);
	lex_init(&ps.lx, file, text, len, d);
	for (;;) {
		struct token *t = peek(&ps);

		ps.closing = 0;
		if (t->type == TOK_EOF)
			break;
		if (t->type == TOK_EOL) {
			drop(&ps);
			continue;
		}
		if (t->type == TOK_LBRACE) {
			perr(&ps, &t->loc, "a block belongs after a statement keyword and name",
			     "unexpected '{'");
			drop(&ps);
			skip_block(&ps);
			continue;
		}
		if (t->type == TOK_RBRACE) {
			perr(&ps, &t->loc, "remove it, or check the '{' above",
			     "unexpected '}' with no open block");
			drop(&ps);
			continue;
		}
		take(&ps, &kwt);
		parse_statement(&ps, &kwt);
		tok_clear(&kwt);
	}
	tok_clear(&ps.tok);
	if (ps.oom)
		return -ENOMEM;
	return ps.gave_up ? -E2BIG : 0;
}
