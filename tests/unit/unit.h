/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * unit.h - minimal assertions for host unit tests (one binary per file).
 *
 * ASSERT_*() record a failure with file:line, the values and a message,
 * and evaluate to 1 (ok) or 0 (failed); control flow stays visible at the
 * call site, as in the kernel selftests:
 *
 *	if (!ASSERT_EQ(img.nrules, 2, "clauses"))
 *		goto out;
 *
 * unit_main() runs a table of tests, prints "ok NAME" / "FAIL NAME" for
 * each and ends with exactly "N passed, N failed"; it returns non-zero if
 * any test failed.  An optional argument runs only tests whose name
 * contains it.
 */
#ifndef ATTLS_UNIT_H
#define ATTLS_UNIT_H

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_TEST(fn)	{ #fn, fn }

/* Failures of the running test; test harness state, not library state. */
static unsigned unit_failures;

static inline int unit_report(int ok, const char *file, int line,
			      const char *what, const char *msg)
{
	if (!ok) {
		unit_failures++;
		fprintf(stdout, "  %s:%d: %s failed: %s\n", file, line, what,
			msg);
	}
	return ok;
}

static inline int unit_eq(long long a, long long b, const char *file,
			  int line, const char *ea, const char *eb,
			  const char *msg)
{
	if (a != b) {
		unit_failures++;
		fprintf(stdout, "  %s:%d: ASSERT_EQ(%s, %s) failed: %lld != %lld: %s\n",
			file, line, ea, eb, a, b, msg);
		return 0;
	}
	return 1;
}

static inline int unit_streq(const char *a, const char *b, const char *file,
			     int line, const char *ea, const char *eb,
			     const char *msg)
{
	if ((!a && !b) || (a && b && !strcmp(a, b)))
		return 1;
	unit_failures++;
	fprintf(stdout, "  %s:%d: ASSERT_STREQ(%s, %s) failed: %s\n"
		"    got:      \"%s\"\n    expected: \"%s\"\n",
		file, line, ea, eb, msg, a ? a : "(null)", b ? b : "(null)");
	return 0;
}

#define ASSERT_TRUE(cond, msg) \
	unit_report(!!(cond), __FILE__, __LINE__, "ASSERT_TRUE(" #cond ")", msg)
#define ASSERT_FALSE(cond, msg) \
	unit_report(!(cond), __FILE__, __LINE__, "ASSERT_FALSE(" #cond ")", msg)
#define ASSERT_EQ(a, b, msg) \
	unit_eq((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b, msg)
#define ASSERT_STREQ(a, b, msg) \
	unit_streq((a), (b), __FILE__, __LINE__, #a, #b, msg)

/*
 * A file of the source tree (e.g. "policy/samples/demo.policy"), found
 * from $ATTLS_SRCDIR, the current directory (make runs tests from the
 * top), or two levels above the test binary (.output/tests/NAME).
 * Returns a static buffer; the last candidate if none exists.
 */
static inline const char *unit_src_path(const char *rel)
{
	static char buf[PATH_MAX + 64];
	char exe[PATH_MAX];
	const char *env = getenv("ATTLS_SRCDIR");
	ssize_t n;

	if (env) {
		snprintf(buf, sizeof(buf), "%s/%s", env, rel);
		if (!access(buf, R_OK))
			return buf;
	}
	if (!access(rel, R_OK))
		return rel;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(buf, sizeof(buf), "%s/../../%s", dirname(exe), rel);
	}
	return buf;
}

static inline int unit_main(int argc, char **argv,
			    const struct unit_test *tests, size_t n)
{
	unsigned passed = 0, failed = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		unit_failures = 0;
		tests[i].fn();
		if (unit_failures) {
			failed++;
			printf("FAIL %s\n", tests[i].name);
		} else {
			passed++;
			printf("ok   %s\n", tests[i].name);
		}
		fflush(stdout);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* ATTLS_UNIT_H */
