// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ctl_proto.c - control request syntax (see ctl_proto.h).
 */
#include <errno.h>
#include <string.h>

#include "ctl_proto.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Printable ASCII without spaces (so no NUL inside either). */
static int cmd_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len > CTL_MAX_CMD)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

int ctl_request_parse(const char *buf, size_t len, struct json_object **req,
		      const char **cmd, const char **errmsg)
{
	struct json_tokener *tok;
	struct json_object *r, *jcmd;
	size_t used;

	*req = NULL;
	*cmd = NULL;
	if (len > CTL_MAX_REQ) {
		*errmsg = "request too long";
		return -EMSGSIZE;
	}
	if (!len || memchr(buf, '\0', len)) {
		*errmsg = "malformed request: empty or with a NUL byte";
		return -EINVAL;
	}
	tok = json_tokener_new_ex(CTL_MAX_DEPTH);
	if (!tok) {
		*errmsg = "out of memory";
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	r = json_tokener_parse_ex(tok, buf, (int)len);
	used = r ? json_tokener_get_parse_end(tok) : 0;
	json_tokener_free(tok);
	while (r && used < len && is_space(buf[used]))
		used++;
	if (!r || used != len || !json_object_is_type(r, json_type_object) ||
	    !json_object_object_get_ex(r, "cmd", &jcmd) ||
	    !json_object_is_type(jcmd, json_type_string) ||
	    !cmd_ok(json_object_get_string(jcmd),
		    (size_t)json_object_get_string_len(jcmd))) {
		json_object_put(r);
		*errmsg = "malformed request: expected one {\"cmd\": \"...\"} object";
		return -EINVAL;
	}
	*req = r;
	*cmd = json_object_get_string(jcmd);
	return 0;
}

int ctl_arg_str(struct json_object *req, const char *key, const char **val)
{
	struct json_object *j;
	const char *s;

	*val = NULL;
	if (!json_object_object_get_ex(req, key, &j))
		return 0;
	if (!json_object_is_type(j, json_type_string))
		return -EINVAL;
	s = json_object_get_string(j);
	if (strlen(s) != (size_t)json_object_get_string_len(j))
		return -EINVAL;
	*val = s;
	return 0;
}

int ctl_arg_int(struct json_object *req, const char *key, int64_t *val)
{
	struct json_object *j;

	if (!json_object_object_get_ex(req, key, &j))
		return -ENOENT;
	if (!json_object_is_type(j, json_type_int))
		return -EINVAL;
	*val = json_object_get_int64(j);
	return 0;
}
