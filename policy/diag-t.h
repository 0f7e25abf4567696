/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * diag-t.h - types of policy diagnostics (errors and warnings).
 *
 * Types only (docs/style.md #17): attlsctl -j turns these into JSON and
 * the daemon logs them, neither needs the front end's function header.
 */
#ifndef ATTLS_DIAG_T_H
#define ATTLS_DIAG_T_H

enum policy_sev {
	POLICY_SEV_ERROR = 1,
	POLICY_SEV_WARNING,
};

/*
 * One diagnostic, printed as "file:line:col: error|warning: msg" and, when
 * there is one, an indented "hint: ..." line telling the admin how to fix
 * it.  line/col are 1-based; 0 means "not tied to a position" (I/O errors,
 * whole-policy limits).
 */
struct policy_diag {
	enum policy_sev sev;
	char *file;			/* never NULL; "" when not tied to a file */
	unsigned line;
	unsigned col;
	char *msg;
	char *hint;			/* NULL when none */
};

#endif /* ATTLS_DIAG_T_H */
