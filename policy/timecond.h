/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * timecond.h - IpTimeCondition: lowering to struct attls_time_window
 * (the evaluation functions are public, in policy.h).
 */
#ifndef ATTLS_TIMECOND_H
#define ATTLS_TIMECOND_H

#include "ast-t.h"
#include "policy-t.h"

/*
 * Lower a resolved IpTimeCondition to a window: From/To pairs become
 * masks, absent fields select everything.  Never fails.
 */
void time_window_build(const struct ast_time *t, struct attls_time_window *w);

/* "Mon-Fri 08:00:00-17:00:00 UTC"-style description of `w` into buf. */
void time_window_format(const struct attls_time_window *w, char *buf,
			size_t len);

#endif /* ATTLS_TIMECOND_H */
