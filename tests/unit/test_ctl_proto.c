// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_ctl_proto.c - the control socket's request syntax
 * (user/ctl_proto.c): what is accepted, what is refused and why, and
 * every committed fuzzing seed (tests/fuzz/corpus-ctl: files named bad-*
 * must be refused, all others accepted).
 */
#include <dirent.h>
#include <errno.h>

#include "../../user/ctl_proto.h"
#include "unit.h"

static int parse(const char *s, size_t len, const char **cmd)
{
	struct json_object *req;
	const char *errmsg = NULL;
	int err;

	err = ctl_request_parse(s, len, &req, cmd, &errmsg);
	if (!err)
		json_object_put(req);
	else
		ASSERT_TRUE(errmsg && *errmsg, "a refusal has a message");
	return err;
}

static void test_accepts(void)
{
	static const char *const ok[] = {
		"{\"cmd\":\"status\"}",
		"{\"cmd\":\"status\"}\n",
		"  {\"cmd\": \"policy\", \"rule\": \"TestSrv\"} \r\n",
		"{\"cmd\":\"zert-watch\",\"extra\":[1,2,{\"x\":null}]}\n",
	};
	const char *cmd;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ASSERT_EQ(parse(ok[i], strlen(ok[i]), &cmd), 0, ok[i]);
	ASSERT_EQ(parse(ok[2], strlen(ok[2]), &cmd), 0, "rule request");
}

static void test_refuses(void)
{
	static const char *const bad[] = {
		"",
		"\n",
		"[\"cmd\",\"status\"]\n",
		"{\"cmd\":\"status\"",			/* cut short */
		"{\"cmd\":\"status\"}x\n",		/* trailing bytes */
		"{\"cmd\":\"status\"}\n{\"cmd\":\"reload\"}\n",
		"{\"cmd\":null}\n",
		"{\"cmd\":7}\n",
		"{\"cmd\":\"\"}\n",
		"{\"cmd\":\"st atus\"}\n",
		"{\"cmd\":\"a\\u0000b\"}\n",
		"{\"cmd\":\"" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "\"}",
		"{'cmd':'status'}\n",			/* not JSON (strict) */
		"{\"cmd\":\"status\",}\n",
		"{\"cmd\":\"status\",\"a\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}\n",
	};
	const char *cmd;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(parse(bad[i], strlen(bad[i]), &cmd), -EINVAL, bad[i]);
	ASSERT_EQ(parse("{\"cmd\":\"status\"}\0", 18, &cmd), -EINVAL, "NUL byte");
}

static void test_too_long(void)
{
	size_t len = CTL_MAX_REQ + 1;
	char *big = malloc(len);
	const char *cmd;

	if (!ASSERT_TRUE(big, "malloc"))
		return;
	memset(big, ' ', len);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	ASSERT_EQ(parse(big, len, &cmd), -EMSGSIZE, "one byte over the limit");
	ASSERT_EQ(parse(big, len - 1, &cmd), 0, "exactly the limit");
	free(big);
}

/* A JSON null where attlsd expected a string crashed "policy" (strcmp on
 * NULL): ctl_arg_str() refuses every non-string. */
static void test_arg_types(void)
{
	static const char *const reqs[] = {
		"{\"cmd\":\"policy\",\"format\":null}",
		"{\"cmd\":\"policy\",\"format\":1}",
		"{\"cmd\":\"policy\",\"format\":{\"a\":1}}",
		"{\"cmd\":\"policy\",\"format\":[\"text\"]}",
		"{\"cmd\":\"policy\",\"format\":\"te\\u0000xt\"}",
	};
	struct json_object *req;
	const char *cmd, *errmsg, *v;
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		if (!ASSERT_EQ(ctl_request_parse(reqs[i], strlen(reqs[i]), &req,
						 &cmd, &errmsg), 0, reqs[i]))
			continue;
		ASSERT_EQ(ctl_arg_str(req, "format", &v), -EINVAL, reqs[i]);
		ASSERT_TRUE(!v, "no value with the error");
		ASSERT_EQ(ctl_arg_str(req, "rule", &v), 0, "absent is fine");
		ASSERT_TRUE(!v, "absent is NULL");
		json_object_put(req);
	}
	ASSERT_EQ(ctl_request_parse("{\"cmd\":\"policy\",\"format\":\"text\"}", 32,
				    &req, &cmd, &errmsg), 0, "format text");
	ASSERT_EQ(ctl_arg_str(req, "format", &v), 0, "a string");
	ASSERT_STREQ(v, "text", "its value");
	json_object_put(req);
}

static void test_arg_int(void)
{
	static const char *const bad[] = {
		"{\"cmd\":\"trace\",\"level\":\"8\"}",
		"{\"cmd\":\"trace\",\"level\":8.5}",
		"{\"cmd\":\"trace\",\"level\":null}",
		"{\"cmd\":\"trace\",\"level\":true}",
	};
	static const char ok[] = "{\"cmd\":\"trace\",\"level\":-3}";
	struct json_object *req;
	const char *cmd, *errmsg;
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!ASSERT_EQ(ctl_request_parse(bad[i], strlen(bad[i]), &req, &cmd,
						 &errmsg), 0, bad[i]))
			continue;
		ASSERT_EQ(ctl_arg_int(req, "level", &v), -EINVAL, bad[i]);
		ASSERT_EQ(ctl_arg_int(req, "nope", &v), -ENOENT, "absent");
		json_object_put(req);
	}
	if (ASSERT_EQ(ctl_request_parse(ok, strlen(ok), &req, &cmd, &errmsg), 0,
		      "integer")) {
		ASSERT_EQ(ctl_arg_int(req, "level", &v), 0, "an integer");
		ASSERT_EQ(v, -3, "its value");
		json_object_put(req);
	}
}

static void test_corpus(void)
{
	static char buf[CTL_MAX_REQ + 16];
	char path[PATH_MAX + 64 + 256 + 2];
	const char *dir, *cmd;
	struct dirent *de;
	unsigned n = 0;
	size_t len;
	FILE *f;
	DIR *d;

	dir = unit_src_path("tests/fuzz/corpus-ctl");
	d = opendir(dir);
	if (!ASSERT_TRUE(d, dir))
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!ASSERT_TRUE(f, path))
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (!strncmp(de->d_name, "bad-", 4))
			ASSERT_TRUE(parse(buf, len, &cmd) < 0, path);
		else
			ASSERT_EQ(parse(buf, len, &cmd), 0, path);
		n++;
	}
	closedir(d);
	ASSERT_TRUE(n >= 10, "the seed corpus is there");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_accepts),
		UNIT_TEST(test_refuses),
		UNIT_TEST(test_too_long),
		UNIT_TEST(test_arg_types),
		UNIT_TEST(test_arg_int),
		UNIT_TEST(test_corpus),
	};

	return unit_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
