/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ast.h - building and freeing the policy AST.
 */
#ifndef ATTLS_AST_H
#define ATTLS_AST_H

#include <stddef.h>

#include "ast-t.h"

#define AST_LABEL_LEN	192	/* "TTLSKeyringParms in TTLSEnvironmentAction '...'" */

/* An empty policy; NULL on ENOMEM. */
struct policy *policy_new(void);

/*
 * Keep a copy of a file name for the lifetime of `p`; ast_loc.file points
 * at it.  Returns the copy, or NULL on ENOMEM.
 */
const char *policy_intern_file(struct policy *p, const char *name);

/* A zeroed statement of `kind` at `loc`; NULL on ENOMEM. */
struct ast_stmt *ast_stmt_new(enum stmt_kind kind, const struct ast_loc *loc);

/*
 * Append `st` to the policy (which then owns it) and number it.
 * Returns 0 or -ENOMEM (then the caller still owns `st`).
 */
int policy_add_stmt(struct policy *p, struct ast_stmt *st);

/* Free one statement and the strings/lists it owns; NULL-safe. */
void ast_stmt_free(struct ast_stmt *st);

/*
 * How messages name a statement: "TTLSRule 'r1'", or for an unnamed inline
 * statement "TTLSKeyringParms in TTLSEnvironmentAction 'e1'".  Returns buf.
 */
const char *ast_stmt_label(const struct ast_stmt *st, char *buf, size_t len);

#endif /* ATTLS_AST_H */
