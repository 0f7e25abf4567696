/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * jw.h - a streaming JSON writer for the zERT detail records, the one hot
 * path that builds JSON per connection (docs/zert.md "Cost").
 *
 * It appends compact JSON to one growing buffer, reused from record to
 * record: no allocation per value, no tree.  Its output is byte for byte
 * what json-c 0.16 prints for the same members in the same order with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE (the records'
 * format before it; tests/unit/test_jw.c checks that against json-c).
 * Everything else (commands, summaries) keeps json-c and aj.h.
 *
 * Members of an object take a literal key with nothing to escape (no '"',
 * '\\' or control character: keys are copied as they are); values in an
 * array a NULL key.
 * A failed growth sets w->err (-ENOMEM) and makes the rest no-ops: check it
 * once at the end.
 */
#ifndef ATTLS_JW_H
#define ATTLS_JW_H

#include <stddef.h>
#include <stdint.h>

struct jw {
	char *buf;
	size_t len, cap;
	int err;
};

/* Empty the buffer (kept for the next record). */
void jw_reset(struct jw *w);
void jw_free(struct jw *w);

void jw_obj_open(struct jw *w, const char *key);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);

/* A NULL `s` writes null, as aj_add_str() does. */
void jw_str(struct jw *w, const char *key, const char *s);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, int v);
void jw_null(struct jw *w, const char *key);
/* `json`: a complete JSON value, written as is. */
void jw_raw(struct jw *w, const char *key, const char *json, size_t len);
/* Append bytes that are not a value (a record's final '\n'). */
void jw_bytes(struct jw *w, const char *p, size_t len);

#endif /* ATTLS_JW_H */
