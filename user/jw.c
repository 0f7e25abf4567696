// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * jw.c - streaming JSON writer (see jw.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jw.h"

#define JW_MIN_CAP	1024

/* Room for `need` more bytes; 0, or -1 with w->err set. */
static int jw_room(struct jw *w, size_t need)
{
	size_t cap;
	char *nb;

	if (w->err)
		return -1;
	if (w->len + need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : JW_MIN_CAP;
	while (cap < w->len + need)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		w->err = -ENOMEM;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

void jw_bytes(struct jw *w, const char *p, size_t len)
{
	if (jw_room(w, len))
		return;
	memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->err = 0;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

/*
 * A string as json-c 0.16's json_escape_str() writes it: \b \n \r \t \f
 * \" \\ as two characters, other bytes below 0x20 as \u00xx (lower-case
 * hex), '/' as is (NOSLASHESCAPE), every other byte unchanged.
 */
static void jw_quoted(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), i, run = 0;
	char esc[6];
	unsigned char c;

	/* worst case 6 bytes per byte, 2 quotes */
	if (jw_room(w, 6 * n + 2))
		return;
	w->buf[w->len++] = '"';
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		memcpy(w->buf + w->len, s + i - run, run);
		w->len += run;
		run = 0;
		esc[0] = '\\';
		switch (c) {
		case '\b': esc[1] = 'b'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\f': esc[1] = 'f'; break;
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			memcpy(w->buf + w->len, esc, 6);
			w->len += 6;
			continue;
		}
		memcpy(w->buf + w->len, esc, 2);
		w->len += 2;
	}
	memcpy(w->buf + w->len, s + n - run, run);
	w->len += run;
	w->buf[w->len++] = '"';
}

/* The separator and key before a value. */
static void jw_key(struct jw *w, const char *key)
{
	char last = w->len ? w->buf[w->len - 1] : '{';

	size_t n = key ? strlen(key) : 0;
	char *p;

	/* keys are literals with nothing to escape: copied, not scanned */
	if (jw_room(w, n + 4))
		return;
	p = w->buf + w->len;
	if (last != '{' && last != '[')
		*p++ = ',';
	if (key) {
		*p++ = '"';
		memcpy(p, key, n);
		p += n;
		*p++ = '"';
		*p++ = ':';
	}
	w->len = (size_t)(p - w->buf);
}

void jw_obj_open(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_bytes(w, "{", 1);
}

void jw_obj_close(struct jw *w)
{
	jw_bytes(w, "}", 1);
}

void jw_arr_open(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_bytes(w, "[", 1);
}

void jw_arr_close(struct jw *w)
{
	jw_bytes(w, "]", 1);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s)
		jw_quoted(w, s);
	else
		jw_bytes(w, "null", 4);
}

static void jw_digits(struct jw *w, int neg, uint64_t v)
{
	char d[21];
	int i = (int)sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		d[--i] = '-';
	jw_bytes(w, d + i, sizeof(d) - (size_t)i);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_digits(w, 0, v);
}

void jw_i64(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	/* the magnitude of INT64_MIN does not fit an int64_t */
	jw_digits(w, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

void jw_bool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	if (v)
		jw_bytes(w, "true", 4);
	else
		jw_bytes(w, "false", 5);
}

void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_bytes(w, "null", 4);
}

void jw_raw(struct jw *w, const char *key, const char *json, size_t len)
{
	jw_key(w, key);
	jw_bytes(w, json, len);
}
