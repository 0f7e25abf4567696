/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* policy_json.h - the installed policy image as JSON (attlsctl policy). */
#ifndef ATTLS_POLICY_JSON_H
#define ATTLS_POLICY_JSON_H

#include <json-c/json.h>

#include "../policy/policy-t.h"

/*
 * Add "rules" (evaluation order, with clauses and actions) and
 * "environments" to `out`.  With `rule` non-NULL only that rule (and the
 * environment it uses); -ENOENT if there is no such rule.  0 or -errno.
 */
int policy_image_to_json(const struct attls_map_image *img, const char *rule,
			 struct json_object *out);

#endif /* ATTLS_POLICY_JSON_H */
