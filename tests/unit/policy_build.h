/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * policy_build.h - the policy unit tests' shared steps: parse + compile a
 * policy text, collect its printed diagnostics, write addresses as the
 * image holds them.  Header-only, like
 * unit.h: each test binary is one translation unit.
 */
#ifndef ATTLS_TEST_POLICY_BUILD_H
#define ATTLS_TEST_POLICY_BUILD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../policy/policy.h"

/* Addresses as the compiled image holds them: 16 bytes, IPv4 mapped. */
static inline void v4(uint8_t out[16], const char *s)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	inet_pton(AF_INET, s, out + 12);
}

static inline void v6(uint8_t out[16], const char *s)
{
	inet_pton(AF_INET6, s, out);
}

/* All diagnostics as policy_diags_print() shows them (caller frees). */
static inline char *diag_text(const struct policy_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	policy_diags_print(d, f);
	fclose(f);
	return buf;
}

/*
 * Parse and (if that worked) compile `text` as "t.policy" for the instant
 * `now`.  Returns the first failing step's error (0 if both passed);
 * *diags gets the printed diagnostics of both steps (caller frees).
 */
static inline int policy_build_at(const char *text, time_t now,
				  struct attls_map_image *img, char **diags)
{
	struct policy_diags *d = NULL;
	struct policy *p = NULL;
	int rc;

	memset(img, 0, sizeof(*img));
	rc = policy_parse_string("t.policy", text, &p, &d);
	if (!rc)
		rc = policy_compile_at(p, img, d, now);
	*diags = diag_text(d);
	policy_free(p);
	policy_diags_free(d);
	return rc;
}

#endif /* ATTLS_TEST_POLICY_BUILD_H */
