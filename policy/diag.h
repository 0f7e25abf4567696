/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * diag.h - collecting diagnostics inside the policy front end.
 */
#ifndef ATTLS_DIAG_H
#define ATTLS_DIAG_H

#include <stdarg.h>

#include "ast-t.h"
#include "diag-t.h"

struct policy_diags;

/*
 * Append a diagnostic at `loc` (NULL or a zero line: not tied to a
 * position).  `hint` may be NULL.  `d` may be NULL: the message is dropped.
 * Out of memory is remembered (diag_oom()) rather than returned, so the
 * passes can keep going and report -ENOMEM once at the end.
 */
void diag_add(struct policy_diags *d, enum policy_sev sev,
	      const struct ast_loc *loc, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void diag_addv(struct policy_diags *d, enum policy_sev sev,
	       const struct ast_loc *loc, const char *hint, const char *fmt,
	       va_list ap) __attribute__((format(printf, 5, 0)));

/* Did an allocation fail while collecting?  0 or 1; 0 for NULL. */
int diag_oom(const struct policy_diags *d);

#endif /* ATTLS_DIAG_H */
