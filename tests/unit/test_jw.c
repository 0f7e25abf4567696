// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_jw.c - the streaming JSON writer (user/jw.c) writes byte for byte
 * what json-c prints for the same tree (the zERT records' format before
 * the writer): every byte value in strings, number limits, nesting.
 */
#include <stdint.h>

#include <json-c/json.h>

#include "../../user/aj.h"
#include "../../user/jw.h"
#include "unit.h"

#define PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Compare w's text with json-c's for `o`, and put `o`. */
static int same(struct jw *w, struct json_object *o, const char *msg)
{
	const char *ref = json_object_to_json_string_ext(o, PLAIN);
	int ok;

	jw_bytes(w, "", 1);	/* NUL-terminate */
	ok = ASSERT_EQ(w->err, 0, msg) && ASSERT_STREQ(w->buf, ref, msg);
	json_object_put(o);
	jw_reset(w);
	return ok;
}

static void test_jw_every_byte(void)
{
	struct jw w = {};
	char s[8];
	int c;

	for (c = 1; c < 256; c++) {
		struct json_object *o = json_object_new_object();

		snprintf(s, sizeof(s), "a%cb%c", c, c);
		aj_add_str(o, "k", s);
		jw_obj_open(&w, NULL);
		jw_str(&w, "k", s);
		jw_obj_close(&w);
		if (!same(&w, o, "one byte value in a string"))
			printf("  byte 0x%02x\n", c);
	}
	jw_free(&w);
}

static void test_jw_random_strings(void)
{
	struct jw w = {};
	char s[64];
	unsigned seed = 12345, i, j, n;

	for (i = 0; i < 2000; i++) {
		struct json_object *o = json_object_new_object();

		n = (seed = seed * 1103515245 + 12345) % (sizeof(s) - 1);
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			s[j] = (char)((seed >> 16) % 255 + 1);
		}
		s[n] = '\0';
		aj_add_str(o, "v", s);
		jw_obj_open(&w, NULL);
		jw_str(&w, "v", s);
		jw_obj_close(&w);
		same(&w, o, "random bytes");
	}
	jw_free(&w);
}

static void test_jw_numbers_and_nesting(void)
{
	static const uint64_t u[] = { 0, 1, 9, 10, 65535, 4294967296ull,
				      UINT64_MAX - 1, UINT64_MAX };
	static const int64_t v[] = { 0, -1, 1, -5001, INT64_MAX, INT64_MIN,
				     INT64_MIN + 1 };
	struct json_object *o, *in, *arr;
	struct jw w = {};
	unsigned i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		o = json_object_new_object();
		aj_add_u64(o, "u", u[i]);
		jw_obj_open(&w, NULL);
		jw_u64(&w, "u", u[i]);
		jw_obj_close(&w);
		same(&w, o, "unsigned limits");
	}

	o = json_object_new_object();
	jw_obj_open(&w, NULL);
	arr = json_object_new_array();
	jw_arr_open(&w, "ints");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_object_array_add(arr, json_object_new_int64(v[i]));
		jw_i64(&w, NULL, v[i]);
	}
	jw_arr_close(&w);
	aj_add(o, "ints", arr);
	aj_add_bool(o, "t", 1);
	jw_bool(&w, "t", 1);
	aj_add_bool(o, "f", 0);
	jw_bool(&w, "f", 0);
	aj_add_null(o, "n");
	jw_null(&w, "n");
	aj_add_str(o, "s", NULL);
	jw_str(&w, "s", NULL);
	aj_add(o, "empty_arr", json_object_new_array());
	jw_arr_open(&w, "empty_arr");
	jw_arr_close(&w);
	aj_add(o, "empty_obj", json_object_new_object());
	jw_obj_open(&w, "empty_obj");
	jw_obj_close(&w);
	in = json_object_new_object();
	aj_add_str(in, "addr", "10.0.0.1");
	aj_add_u64(in, "port", 443);
	aj_add(o, "local", in);
	jw_obj_open(&w, "local");
	jw_str(&w, "addr", "10.0.0.1");
	jw_u64(&w, "port", 443);
	jw_obj_close(&w);
	in = json_object_new_object();
	aj_add_str(in, "x", "/path/\"q\"");
	jw_raw(&w, "raw", json_object_to_json_string_ext(in, PLAIN),
	       strlen(json_object_to_json_string_ext(in, PLAIN)));
	aj_add(o, "raw", in);
	jw_obj_close(&w);
	same(&w, o, "numbers, literals, nesting, raw");
	jw_free(&w);
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_jw_every_byte),
		UNIT_TEST(test_jw_random_strings),
		UNIT_TEST(test_jw_numbers_and_nesting),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
