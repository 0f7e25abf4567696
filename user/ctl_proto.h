/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ctl_proto.h - the control socket's request syntax (see ctl.h), as pure
 * functions: no sockets, no daemon state, so tests/fuzz/fuzz_ctl.c and
 * tests/unit/test_ctl_proto.c can drive them with any bytes.
 *
 * A request is exactly one JSON object followed by nothing but white
 * space (the terminating '\n'), at most CTL_MAX_REQ bytes, with a "cmd"
 * string of 1..CTL_MAX_CMD printable ASCII characters.  Arguments are
 * read with ctl_arg_str(), which accepts only real strings.
 */
#ifndef ATTLS_CTL_PROTO_H
#define ATTLS_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define CTL_MAX_REQ	65536	/* bytes: the longest request is a rule name */
#define CTL_MAX_CMD	64	/* command names are short words */
#define CTL_MAX_DEPTH	8	/* requests are flat objects; json-c allows 32 */

/*
 * Parse one request from `len` bytes of `buf` (not NUL-terminated; a NUL
 * byte anywhere is malformed).  Returns 0 with *req (the caller puts it)
 * and *cmd (a string owned by *req), or a negative errno with *errmsg set
 * to a static message: -EINVAL malformed, -EMSGSIZE too long, -ENOMEM.
 */
int ctl_request_parse(const char *buf, size_t len, struct json_object **req,
		      const char **cmd, const char **errmsg);

/*
 * The string argument `key` of a parsed request: 0 with *val the string,
 * or NULL when the key is absent; -EINVAL when it is present but not a
 * JSON string (null, number, object, ...) or holds a NUL character.
 */
int ctl_arg_str(struct json_object *req, const char *key, const char **val);

/*
 * The integer argument `key`: 0 with *val, -ENOENT when absent, -EINVAL
 * when it is not a JSON integer (a string, a float, null, ...).
 */
int ctl_arg_int(struct json_object *req, const char *key, int64_t *val);

#endif /* ATTLS_CTL_PROTO_H */
