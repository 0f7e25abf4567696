/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy.h - the AT-TLS policy front end: parse, resolve, compile, dump.
 *
 * Three passes (docs/style.md #16): policy_parse_*() lexes and parses into
 * an AST (pass 1) and resolves *Ref names, required parameters and unused
 * statements (pass 2); policy_compile() lowers a resolved policy to the map
 * image of policy-t.h (pass 3) and touches nothing but its output and the
 * user database hooks below.  Diagnostics are collected, never printed by
 * the library: the caller prints them with policy_diags_print() or walks
 * them with policy_diags_get().
 */
#ifndef ATTLS_POLICY_H
#define ATTLS_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy-t.h"
#include "diag-t.h"

struct policy;		/* parsed + resolved policy (policy/ast-t.h) */
struct policy_diags;	/* collected errors and warnings */

/*
 * Read, parse and resolve the AT-TLS policy file `path`.  On success
 * (no errors; warnings are allowed) stores the policy in *out and returns 0.
 * Otherwise *out is NULL and the result is -EINVAL for policy errors,
 * -ENOMEM, -EFBIG for a file over 16 MiB, or the -errno of open/read.
 * *diags always receives the diagnostics (also on success, and also for
 * I/O errors) unless memory ran out, then it is NULL; the caller frees it
 * with policy_diags_free().  `diags` may be NULL to discard them.
 */
int policy_parse_file(const char *path, struct policy **out,
		      struct policy_diags **diags);

/*
 * As policy_parse_file() for the NUL-terminated `text`; `name` is used as
 * the file name in diagnostics and source locations.
 */
int policy_parse_string(const char *name, const char *text,
			struct policy **out, struct policy_diags **diags);

/*
 * Lower a resolved policy to `img` (pure: `p` is not modified).  Rules are
 * emitted in AT-TLS order, one or more clauses each; user names are
 * resolved through the user database hooks.  Compile-time diagnostics
 * (unknown users, protocol/cipher conflicts, too many clauses) are appended
 * to `diags` when it is not NULL.  Returns 0, -EINVAL on policy errors
 * (then `img` is left empty) or -ENOMEM.  Free with attls_map_image_free().
 */
int policy_compile(const struct policy *p, struct attls_map_image *img,
		   struct policy_diags *diags);

/* Free a policy; NULL is fine. */
void policy_free(struct policy *p);

/* Free the contents of `img` (not `img` itself) and zero it; NULL is fine. */
void attls_map_image_free(struct attls_map_image *img);

/*
 * Print `img` in AT-TLS order, like z/OS "pasearch -t": each rule with its
 * priority, direction, conditions (one block per clause), actions and
 * effective trace, then every environment with its key parameters.
 */
void attls_map_image_dump(const struct attls_map_image *img, FILE *f);

/* One clause's conditions as pasearch shows them ("All", "10.0.0.0/8",
 * "0 (any)", "socat*", "uid 0"); used by the dump and by JSON views. */
struct attls_clause_text {
	char local_addr[100];
	char remote_addr[100];
	char local_port[16];
	char remote_port[16];
	char jobname[24];
	char userid[24];
};
void attls_clause_format(const struct attls_rule *cl, struct attls_clause_text *t);

/* "Inbound" / "Outbound" / "Both" for ATTLS_RF_* flags. */
const char *attls_direction_name(__u32 flags);
/* "Server" / "Client" / "ServerWithClientAuth". */
const char *attls_role_name(enum attls_role role);

/* An empty diagnostics set, for policy_compile() alone; NULL on ENOMEM. */
struct policy_diags *policy_diags_new(void);

/* Print every diagnostic, in the order found, to `f`.  NULL `d` prints nothing. */
void policy_diags_print(const struct policy_diags *d, FILE *f);

/* Number of errors / warnings / all diagnostics; 0 for NULL. */
size_t policy_diags_errors(const struct policy_diags *d);
size_t policy_diags_warnings(const struct policy_diags *d);
size_t policy_diags_count(const struct policy_diags *d);

/* The i-th diagnostic (0-based), or NULL when i is out of range. */
const struct policy_diag *policy_diags_get(const struct policy_diags *d,
					   size_t i);

/* Free a diagnostics set; NULL is fine. */
void policy_diags_free(struct policy_diags *d);

/*
 * User database hooks used by policy_compile(); tests replace them.
 *
 * A resolver maps a user name to its uid: returns 0, or -ENOENT when there
 * is no such user (other -errno for lookup failures).
 *
 * A lister calls `cb` once per user of the system (name, uid) and returns
 * 0, a negative errno of its own, or the first non-zero value returned by
 * `cb` (which stops the walk).  It expands Userid wildcards like "app*".
 *
 * NULL restores the defaults (getpwnam_r() / getpwent()).  The hooks are
 * process-wide and not synchronized: set them before compiling.
 */
typedef int (*policy_uid_resolver)(const char *name, uint32_t *uid);
typedef int (*policy_user_cb)(const char *name, uint32_t uid, void *arg);
typedef int (*policy_user_lister)(policy_user_cb cb, void *arg);

void policy_set_uid_resolver(policy_uid_resolver fn);
void policy_set_user_lister(policy_user_lister fn);

#endif /* ATTLS_POLICY_H */
