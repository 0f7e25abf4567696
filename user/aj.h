/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * aj.h - json-c adders that propagate failure (docs/style.md #14).
 *
 * Each aj_add_*() adds a literal key to `obj` (keys must be string
 * literals: they are not copied); on failure the value is put and -ENOMEM
 * returned, so callers chain them with `err = err ?: aj_...`.
 * Build one tree per record or command and put only the root.
 */
#ifndef ATTLS_AJ_H
#define ATTLS_AJ_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

int aj_add(struct json_object *obj, const char *key, struct json_object *val);
int aj_add_null(struct json_object *obj, const char *key);
/* A NULL `s` adds JSON null. */
int aj_add_str(struct json_object *obj, const char *key, const char *s);
int aj_add_u64(struct json_object *obj, const char *key, uint64_t v);
int aj_add_i64(struct json_object *obj, const char *key, int64_t v);
int aj_add_bool(struct json_object *obj, const char *key, int v);

/* Print `root` (pretty for humans, plain for streams) plus a newline and
 * put it.  Returns 0 or -EIO. */
int aj_print_and_free(struct json_object *root, FILE *f, int pretty);

#endif /* ATTLS_AJ_H */
