// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>

#include "aj.h"

/* Literal keys only: json-c may then keep the pointer instead of a copy. */
#define AJ_KEY_FLAGS (JSON_C_OBJECT_ADD_CONSTANT_KEY | JSON_C_OBJECT_ADD_KEY_IS_NEW)

int aj_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add_ex(obj, key, val, AJ_KEY_FLAGS)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

int aj_add_null(struct json_object *obj, const char *key)
{
	/* json-c represents JSON null as a NULL object */
	return json_object_object_add_ex(obj, key, NULL, AJ_KEY_FLAGS) ? -ENOMEM : 0;
}

int aj_add_str(struct json_object *obj, const char *key, const char *s)
{
	return s ? aj_add(obj, key, json_object_new_string(s)) : aj_add_null(obj, key);
}

int aj_add_u64(struct json_object *obj, const char *key, uint64_t v)
{
	return aj_add(obj, key, json_object_new_uint64(v));
}

int aj_add_i64(struct json_object *obj, const char *key, int64_t v)
{
	return aj_add(obj, key, json_object_new_int64(v));
}

int aj_add_bool(struct json_object *obj, const char *key, int v)
{
	return aj_add(obj, key, json_object_new_boolean(v));
}

int aj_print_and_free(struct json_object *root, FILE *f, int pretty)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN);
	const char *s = json_object_to_json_string_ext(root, flags);
	int err = 0;

	if (!s || fprintf(f, "%s\n", s) < 0)
		err = -EIO;
	json_object_put(root);
	return err;
}
