/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * keywords.h - statement and parameter tables of the AT-TLS language.
 *
 * Every statement has a keyword table sorted case-insensitively (searched
 * with bsearch; tests/unit/test_policy.c asserts the order).  A parameter
 * is one line of a table: its handler, the AST field it fills (offset in
 * struct ast_stmt), its "slot" (parameters in one slot exclude each other:
 * X, XRef and an inline X block), flags and value count.  Handlers share
 * one signature and return <0 error / >0 warning / 0 ok with a message in
 * *err, where a '\n' separates the message from a hint.
 *
 * Parameters that only make sense on z/OS are parsed and validated like
 * any other, then ignored with a warning that says why (kw.why); values
 * that ask for what attls does anyway ("Off") are accepted silently.
 * PAGENT configuration statements (TcpImage, TTLSConfig, ...) are line
 * statements: a stmt_desc with a `line` keyword instead of a table.
 */
#ifndef ATTLS_KEYWORDS_H
#define ATTLS_KEYWORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ast-t.h"

enum kw_type {
	KW_PARAM = 1,	/* Keyword value...           -> fn */
	KW_REF,		/* Keyword name               -> struct ast_ref at off */
	KW_BLOCK,	/* Keyword [name] { ... }     -> inline statement, ref at off */
	KW_TODO,	/* valid AT-TLS, not implemented by attls yet: error */
};

#define KWF_REQUIRED	(1u << 0)	/* the statement needs this slot */
#define KWF_CONCAT	(1u << 1)	/* repeated lines append (cipher lists) */
#define KWF_LIST	(1u << 2)	/* KW_REF/KW_BLOCK: appends to the
					 * struct ast_reflist at `off` */

struct kw_enum {
	const char *name;
	uint32_t v;
};

/* One parameter line handed to a handler. */
struct kw_call {
	struct ast_stmt *st;		/* the statement being filled */
	const struct kw *kw;
	char **argv;			/* the values */
	const struct ast_loc *argloc;
	size_t argc;
	struct ast_loc loc;		/* of the keyword */
	size_t blame;			/* out: 1 + index of the value a message
					 * is about; 0 = the keyword */
};

typedef int (*kw_fn)(struct kw_call *c, char **err);

struct kw {
	const char *name;
	enum kw_type type;
	kw_fn fn;			/* KW_PARAM, KW_REF */
	size_t off;			/* field in struct ast_stmt */
	enum stmt_kind target;		/* KW_REF, KW_BLOCK: kind referred to */
	uint8_t slot;			/* 1..AST_MAX_SLOTS-1; 0 = untracked */
	uint8_t flags;			/* KWF_* */
	uint8_t min;			/* number of values */
	uint8_t max;
	uint32_t lo;			/* numbers: bounds; strings: max length in hi */
	uint32_t hi;
	const struct kw_enum *enums;	/* enumerated values, NULL-terminated */
	const char *usage;		/* for hints: "Direction Inbound|Outbound|Both" */
	const char *why;		/* ignored on Linux: the reason; NULL = used */
};

#define STMTF_ALIAS	(1u << 0)	/* another name of a kind (PEPInstance) */

struct stmt_desc {
	const char *name;
	enum stmt_kind kind;		/* STMT_NONE: not supported yet */
	const struct kw *kws;		/* sorted; NULL when not supported */
	size_t nkws;
	const struct kw *line;		/* line statement "Name value...": its
					 * values are parsed like this parameter */
	unsigned flags;			/* STMTF_* */
};

/* The top-level statement called `name` (case-insensitive), or NULL. */
const struct stmt_desc *stmt_lookup(const char *name);

/* The description of a supported kind; never NULL for valid kinds. */
const struct stmt_desc *stmt_desc_of(enum stmt_kind kind);

/* "TTLSRule" etc. for a kind. */
const char *stmt_kind_name(enum stmt_kind kind);

/* Parameter `name` of statement `d` (case-insensitive), or NULL. */
const struct kw *kw_lookup(const struct stmt_desc *d, const char *name);

/* Closest parameter of `d` / top-level statement to a misspelt word, or NULL. */
const char *kw_suggest(const struct stmt_desc *d, const char *word);
const char *stmt_suggest(const char *word);

/* A supported statement that has parameter `word` (for "belongs in X"), or NULL. */
const struct stmt_desc *kw_owner(const char *word);

/*
 * Is `word` a statement that AT-TLS never nests (a rule or an action)?
 * Such a keyword inside a block means that block lacks its '}'.
 */
int stmt_is_toplevel_only(const char *word);

/* All statements, sorted by name (tests check the order of every table). */
const struct stmt_desc *stmt_table(size_t *n);

/*
 * Check a statement or reference name: 1-32 characters.  Returns 0 or -1
 * with a message in *err (keyword-handler convention).
 */
int kw_check_name(const char *name, char **err);

/* The ast_ref a single (not KWF_LIST) KW_REF/KW_BLOCK keyword fills in `st`. */
struct ast_ref *kw_ref_of(struct ast_stmt *st, const struct kw *kw);

/* The list a KWF_LIST keyword appends to in `st`. */
struct ast_reflist *kw_reflist_of(struct ast_stmt *st, const struct kw *kw);

/*
 * Where KW_REF/KW_BLOCK `kw` stores its next reference in `st`: the single
 * ast_ref, or a new zeroed element of its list.  NULL on ENOMEM.
 */
struct ast_ref *kw_ref_new(struct ast_stmt *st, const struct kw *kw);

/* Is `kind` a PAGENT configuration statement (TcpImage, TTLSConfig, ...)? */
int stmt_kind_is_config(enum stmt_kind kind);

#endif /* ATTLS_KEYWORDS_H */
