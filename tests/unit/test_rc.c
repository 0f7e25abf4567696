// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_rc.c - the return-code table: sorted, complete entries, and
 * docs/return-codes.md listing exactly its codes with the same meaning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/rc_table.h"
#include "unit.h"

static void test_table_sorted_and_complete(void)
{
	const struct attls_rc_info *t;
	size_t n, i;

	t = attls_rc_table(&n);
	ASSERT_TRUE(n > 40, "the table lists the codes");
	for (i = 0; i < n; i++) {
		if (i)
			ASSERT_TRUE(t[i - 1].rc < t[i].rc, "ascending, no duplicates");
		ASSERT_TRUE(t[i].name && *t[i].name && t[i].text && *t[i].text &&
			    t[i].cause && *t[i].cause && t[i].fix && *t[i].fix,
			    "every entry has a name, meaning, cause and fix");
		ASSERT_TRUE(attls_rc_info(t[i].rc) == &t[i], "lookup finds it");
	}
	ASSERT_TRUE(attls_rc_info(202) && !strcmp(attls_rc_info(202)->name, "KEYRING_OPEN"),
		    "AT-TLS numbering kept: 202");
	ASSERT_TRUE(attls_rc_info(5003) && attls_rc_info(435) && attls_rc_info(401),
		    "AT-TLS codes 5003, 435, 401 exist");
	ASSERT_TRUE(attls_rc_info(4242) == NULL, "unknown code");
}

static FILE *open_doc(void)
{
	const char *dirs[] = { getenv("ATTLS_SRCDIR"), ".", "..", "../.." };
	char path[4096];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i])
			continue;
		snprintf(path, sizeof(path), "%s/docs/return-codes.md", dirs[i]);
		f = fopen(path, "r");
		if (f)
			return f;
	}
	return NULL;
}

static void test_doc_matches_table(void)
{
	const struct attls_rc_info *t, *i;
	char line[8192], seen[100000] = { 0 };
	size_t n, k, rows = 0;
	FILE *f = open_doc();

	if (!ASSERT_TRUE(f != NULL, "docs/return-codes.md found"))
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[64], meaning[512];
		int rc;

		if (sscanf(line, "| %d | %63[^ |] | %511[^|]|", &rc, name, meaning) != 3)
			continue;
		rows++;
		meaning[strcspn(meaning, "\n")] = '\0';
		while (*meaning && meaning[strlen(meaning) - 1] == ' ')
			meaning[strlen(meaning) - 1] = '\0';
		i = attls_rc_info(rc);
		if (!ASSERT_TRUE(i != NULL, line))
			continue;
		ASSERT_STREQ(name, i->name, "name in the doc");
		ASSERT_STREQ(meaning, i->text, "meaning in the doc");
		if (rc >= 0 && rc < (int)sizeof(seen))
			seen[rc] = 1;
	}
	fclose(f);
	t = attls_rc_table(&n);
	ASSERT_EQ(rows, n, "one row per code (regenerate: attlsctl -j explain)");
	for (k = 0; k < n; k++)
		ASSERT_TRUE(seen[t[k].rc], t[k].name);
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_table_sorted_and_complete),
		UNIT_TEST(test_doc_matches_table),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
