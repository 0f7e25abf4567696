// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_malformed.c - the malformed-policy corpus, tests/fuzz/malformed/:
 * every NAME.policy is parsed (and, if that succeeds, compiled) and its
 * diagnostics plus a final "=> result" line must equal NAME.expected
 * byte for byte.  The corpus pins the message of every error class,
 * and every crash the fuzzer ever found becomes one more pair here.
 *
 * ATTLS_UPDATE_EXPECTED=1 rewrites the .expected files from the current
 * output instead of comparing (review the diff before committing).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"
#include "unit.h"

/* 2026-02-02 02:40:00 UTC: compiles do not depend on the clock. */
#define NOW	((time_t)1770000000)
#define MAX_FILE	(1 << 20)

static int only_root(const char *name, uint32_t *uid)
{
	if (strcmp(name, "root"))
		return -ENOENT;
	*uid = 0;
	return 0;
}

static int no_users(policy_user_cb cb, void *arg)
{
	return cb("root", 0, arg);
}

/* The whole file, NUL-terminated, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* What the front end says about `text` named `name`, as one string. */
static char *run(const char *name, const char *text)
{
	struct policy_diags *d = NULL;
	struct attls_map_image img;
	struct policy *p = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = policy_parse_string(name, text, &p, &d);
	if (!rc) {
		rc = policy_compile_at(p, &img, d, NOW);
		attls_map_image_free(&img);
	}
	f = open_memstream(&out, &len);
	if (!f)
		abort();
	policy_diags_print(d, f);
	fprintf(f, "=> %d%s%s\n", rc, rc ? " " : "", rc ? strerror(-rc) : "");
	fclose(f);
	policy_free(p);
	policy_diags_free(d);
	return out;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_malformed_corpus(void)
{
	const char *dir = unit_src_path("tests/fuzz/malformed");
	int update = getenv("ATTLS_UPDATE_EXPECTED") != NULL;
	char *names[512];
	size_t n = 0, i;
	struct dirent *de;
	DIR *dp;

	dp = opendir(dir);
	if (!ASSERT_TRUE(dp != NULL, dir))
		return;
	while ((de = readdir(dp)) && n < sizeof(names) / sizeof(names[0])) {
		size_t l = strlen(de->d_name);

		if (l > 7 && !strcmp(de->d_name + l - 7, ".policy"))
			names[n++] = strdup(de->d_name);
	}
	closedir(dp);
	qsort(names, n, sizeof(names[0]), cmp_names);
	ASSERT_TRUE(n >= 20, "the corpus has its cases");
	for (i = 0; i < n; i++) {
		char path[PATH_MAX + 600], exp[PATH_MAX + 600];
		char *text, *got, *want;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(exp, sizeof(exp), "%.*s.expected", (int)(strlen(path) - 7), path);
		text = slurp(path);
		if (!ASSERT_TRUE(text != NULL, path))
			continue;
		got = run(names[i], text);
		if (update) {
			f = fopen(exp, "w");
			if (ASSERT_TRUE(f != NULL, exp)) {
				fputs(got, f);
				fclose(f);
			}
		} else {
			want = slurp(exp);
			if (ASSERT_TRUE(want != NULL, exp))
				ASSERT_STREQ(got, want, names[i]);
			free(want);
		}
		free(got);
		free(text);
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_malformed_corpus),
	};

	policy_set_uid_resolver(only_root);
	policy_set_user_lister(no_users);
	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
