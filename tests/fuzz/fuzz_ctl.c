// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_ctl.c - libFuzzer target for the control socket's request syntax
 * (user/ctl_proto.c): what a client writes to attlsd's control socket
 * reaches ctl_request_parse() and then the commands' ctl_arg_str() calls.
 *
 * Beyond "no crash, no sanitizer report", two properties abort when
 * broken: an accepted request re-serialized by json-c is accepted again
 * with the same command, and an argument ctl_arg_str() returns is a C
 * string of the JSON string's full length.  Seeds: tests/fuzz/corpus-ctl/
 * (every request attlsctl sends, and malformed ones).  Built with ASan and
 * UBSan by "make fuzz-ctl".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The arguments attlsd's commands read (user/attlsd.c). */
static const char *const args[] = { "rule", "format", "id", "ring", "level" };

static void check_args(struct json_object *req)
{
	const char *v;
	int64_t n;
	size_t i;

	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		if (!ctl_arg_str(req, args[i], &v) && v && strlen(v) > CTL_MAX_REQ)
			abort();
		if (!ctl_arg_int(req, args[i], &n) && !json_object_object_get_ex(req, args[i], NULL))
			abort();
	}
}

static void check_roundtrip(struct json_object *req, const char *cmd)
{
	struct json_object *again;
	const char *s, *cmd2, *errmsg;

	s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (!s)
		return;
	if (ctl_request_parse(s, strlen(s), &again, &cmd2, &errmsg))
		abort();
	if (strcmp(cmd, cmd2))
		abort();
	json_object_put(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *req;
	const char *cmd, *errmsg;
	char *buf;

	/* an exact-size heap copy: ASan sees any read past the end */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (!ctl_request_parse(buf, size, &req, &cmd, &errmsg)) {
		check_args(req);
		check_roundtrip(req, cmd);
		json_object_put(req);
	} else if (!errmsg) {
		abort();
	}
	free(buf);
	return 0;
}
