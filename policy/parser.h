/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * parser.h - pass 1: recursive-descent parser from text to AST, and
 * pass 2: the resolver.
 */
#ifndef ATTLS_PARSER_H
#define ATTLS_PARSER_H

#include <stddef.h>

#include "ast-t.h"

struct policy_diags;

/*
 * Parse `len` bytes of `text` (from `file`, a name interned in `p`) and
 * append its statements to `p`.  Syntax errors go to `d` (not NULL); the
 * parser resynchronises at the next line or block so that one run reports
 * every error.  Returns 0, -ENOMEM, or -E2BIG when it gave up after 100
 * errors (then pass 2 would only add noise).
 */
int parse_text(struct policy *p, struct policy_diags *d, const char *file,
	       const char *text, size_t len);

/*
 * Pass 2: resolve *Ref names, then report duplicate names, missing
 * required parameters, rule-level conditions and unused statements to
 * `d`.  Never fails on its own (out of memory is recorded in `d`).
 */
void resolve_policy(struct policy *p, struct policy_diags *d);

#endif /* ATTLS_PARSER_H */
