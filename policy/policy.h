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
#include <time.h>

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
 *
 * `path` may also be a PAGENT main configuration file (TcpImage /
 * PEPInstance, CommonTTLSConfig) or an image file (TTLSConfig): then the
 * chain is followed -- main -> TcpImage's image file -> its TTLSConfig
 * file, with the CommonTTLSConfig file read first -- and the policy files
 * it names are parsed as one policy.  Relative names are relative to the
 * directory of the file naming them.  Missing files and files that name
 * themselves are policy errors (-EINVAL) reported at the naming line.
 */
int policy_parse_file(const char *path, struct policy **out,
		      struct policy_diags **diags);

/*
 * As policy_parse_file() for the NUL-terminated `text`; `name` is used as
 * the file name in diagnostics and source locations.  The text is an
 * AT-TLS policy: configuration statements (TcpImage, TTLSConfig, ...) are
 * errors here, as no file is read on its behalf.
 */
int policy_parse_string(const char *name, const char *text,
			struct policy **out, struct policy_diags **diags);

/*
 * The files a parsed policy was read from, in the order read (main
 * configuration, image, common policy, stack policy), for reload
 * watchers and messages.  Returns the count; *files stays valid until
 * policy_free().
 */
size_t policy_source_files(const struct policy *p, const char *const **files);

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

/*
 * policy_compile() for the instant `now`: a rule whose IpTimeCondition
 * window is closed at `now` keeps its action (attls_action.time_inactive
 * = 1) but gets no clause, so it cannot match.  policy_compile() is
 * policy_compile_at(p, img, diags, time(NULL)).  The clause limit is
 * checked as if every window were open, so a policy that compiles once
 * compiles at any time.  Same results as policy_compile().
 */
int policy_compile_at(const struct policy *p, struct attls_map_image *img,
		      struct policy_diags *diags, time_t now);

/*
 * Is IpTimeCondition window `w` open at `now`?  1 or 0; a window with
 * set == 0 is always open.  Local windows use the process's time zone
 * (TZ).  Pure but for reading the time zone.
 */
int attls_time_window_active(const struct attls_time_window *w, time_t now);

/* Is rule `rule_id` of `img` in effect at `now` (its window open)?  1 or 0;
 * 0 for an unknown rule_id. */
int attls_image_rule_active(const struct attls_map_image *img,
			    size_t rule_id, time_t now);

/*
 * The first instant after `now` at which some rule of `img` enters or
 * leaves its time window, or 0 when none ever will (no IpTimeCondition).
 * The daemon compiles again (policy_compile_at()) at that instant.  For a
 * window that does not change within about a year the result is that
 * horizon, so the daemon simply looks again then.
 */
time_t attls_image_next_change(const struct attls_map_image *img, time_t now);

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
/* "Required" / "PassThru" / "Full" / "SAFCheck" (enum attls_client_auth). */
const char *attls_client_auth_name(unsigned client_auth);
/* "Low" / "Medium" / "High" (enum attls_crl_level; 0 reads as Medium). */
const char *attls_crl_level_name(unsigned crl_level);

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
