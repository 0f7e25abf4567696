// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_policy.c - libFuzzer target for the AT-TLS policy front end.
 *
 * Every input is a policy text: parse + resolve (policy_parse_string),
 * compile at a fixed instant (policy_compile_at), then everything that
 * reads the image -- the dump, the diagnostics printer, the time-window
 * functions -- runs against /dev/null.  Built with ASan and UBSan by
 * "make fuzz" / "make fuzz-check"; a crash found here becomes a case in
 * tests/fuzz/malformed/.
 *
 * The user database hooks are replaced by a fixed table, so a run never
 * depends on (or walks) the host's passwd file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

/* 2026-02-02 02:40:00 UTC: a fixed "now" keeps runs reproducible. */
#define FUZZ_NOW	((time_t)1770000000)

static const struct {
	const char *name;
	uint32_t uid;
} users[] = {
	{ "root", 0 }, { "app1", 1001 }, { "app2", 1002 }, { "bob", 2000 },
};

static int fuzz_resolve(const char *name, uint32_t *uid)
{
	size_t i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if (!strcmp(users[i].name, name)) {
			*uid = users[i].uid;
			return 0;
		}
	}
	return -ENOENT;
}

static int fuzz_list(policy_user_cb cb, void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		rc = cb(users[i].name, users[i].uid, arg);
		if (rc)
			return rc;
	}
	return 0;
}

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	policy_set_uid_resolver(fuzz_resolve);
	policy_set_user_lister(fuzz_list);
	/* Local time windows: a fixed zone, no tzdata needed */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	devnull = fopen("/dev/null", "w");
	return devnull ? 0 : -1;
}

/* Exercise everything that reads a compiled image. */
static void use_image(const struct attls_map_image *img)
{
	size_t i;

	attls_map_image_dump(img, devnull);
	for (i = 0; i < img->nactions; i++)
		(void)attls_image_rule_active(img, i, FUZZ_NOW + 3600);
	(void)attls_image_next_change(img, FUZZ_NOW);
	for (i = 0; i < img->nrules; i++) {
		struct attls_clause_text t;

		attls_clause_format(&img->rules[i], &t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	char *text;

	/* the API takes C strings: a NUL ends the policy, as in a file read */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!policy_parse_string("fuzz.policy", text, &p, &d) &&
	    !policy_compile_at(p, &img, d, FUZZ_NOW)) {
		use_image(&img);
		attls_map_image_free(&img);
	}
	policy_diags_print(d, devnull);
	policy_free(p);
	policy_diags_free(d);
	free(text);
	return 0;
}
