/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rc_table.h - the one table of attls return codes: meaning, cause, fix.
 *
 * Used by the engine (messages), attlsctl explain and the documentation
 * check (tests/unit/test_rc.c keeps docs/return-codes.md in step with it).
 * No OpenSSL here: attlsctl and the tests include it freely.
 */
#ifndef ATTLS_RC_TABLE_H
#define ATTLS_RC_TABLE_H

#include <stddef.h>

struct attls_rc_info {
	int rc;
	const char *name;	/* the enum name without ATTLS_RC_ */
	const char *text;	/* short meaning, as in messages */
	const char *cause;	/* what happened */
	const char *fix;	/* what to change */
};

/* The table holds at most this many codes (counter slots in the engine). */
#define ATTLS_RC_MAX_CODES	96

/* The entry of `rc`, or NULL for a code attls does not use. */
const struct attls_rc_info *attls_rc_info(int rc);

/* Index of `rc` in attls_rc_table(), or -1 for a code attls does not use. */
int attls_rc_index(int rc);

/* Every entry in ascending code order; *n gets the count. */
const struct attls_rc_info *attls_rc_table(size_t *n);

#endif /* ATTLS_RC_TABLE_H */
