/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * values.h - strict parsers for policy values and the "did you mean" helper.
 *
 * Parsers that can explain a problem follow the keyword-handler
 * convention: return <0 for an error, >0 for a warning, 0 for ok, with a
 * malloc()ed message in *err (a '\n' in it separates message from hint).
 */
#ifndef ATTLS_VALUES_H
#define ATTLS_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "ast-t.h"

/*
 * Format a message into *err (left NULL on ENOMEM) and return `rc`, so a
 * handler reads "return msgf(err, -1, ...)".
 */
int msgf(char **err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * strtonum()-style: plain decimal digits only (no sign, blanks, 0x), value
 * within [lo, hi].  Returns 0, -EINVAL (not a number) or -ERANGE.
 */
int val_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);

/* Is `s` exactly `n` hex digits? */
int val_is_hex(const char *s, size_t n);

/*
 * An address condition: "All", a.b.c.d, an IPv6 address, addr/prefix or
 * addr-addr, into a->all or a->lo/a->hi (16 bytes, network order, IPv4
 * as ::ffff:a.b.c.d).  Warns about host bits set in a prefix and about
 * IPv6 ranges that include the IPv4-mapped block.
 */
int val_addr(const char *s, struct ast_addr *a, char **err);

/* A port condition "n" or "n-m"; "0" means any port (0..65535). */
int val_ports(const char *s, struct ast_ports *p, char **err);

/*
 * A time of day "hh:mm" or "hh:mm:ss" into seconds after midnight.  With
 * `end`, "24:00" (the end of the day, 86400) is allowed too.  0 or -EINVAL.
 */
int val_tod(const char *s, int end, uint32_t *secs);

/*
 * A date and time "YYYYMMDD", "YYYYMMDDhhmmss" or "YYYYMMDDThhmmss" into
 * the number YYYYMMDDhhmmss; a bare date means 00:00:00, or 23:59:59 with
 * `end`.  Checks month lengths and leap years.  0 or -EINVAL.
 */
int val_datetime(const char *s, int end, uint64_t *out);

/* Exactly `n` (<= 64) characters '0'/'1' into bits (bit i = s[i]).  0 or -EINVAL. */
int val_mask(const char *s, size_t n, uint64_t *bits);

/*
 * A day of the week: a name ("Monday", "mon") or ISO 8601 number (1 =
 * Monday .. 7 = Sunday).  Returns 0 (Sunday) .. 6 (Saturday), or -1.
 */
int val_weekday(const char *s);

/* A month: a name ("January", "jan") or 1-12.  Returns 0..11, or -1. */
int val_month(const char *s);

/*
 * A DNS host name (RFC 1123 labels, at most 253 characters), optionally
 * "*.rest" when `wild`.  Returns 0 or -EINVAL.
 */
int val_hostname(const char *s, int wild);

/*
 * Make room for element `n` of the array at *vecp (any element type of
 * `size` bytes; `vecp` is the address of the array pointer), doubling
 * *cap as needed.  Returns 0 or -ENOMEM (the array is unchanged).
 */
int vec_grow(void *vecp, size_t *cap, size_t n, size_t size);

/* Case-insensitive Levenshtein distance (saturates for very long words). */
size_t edit_distance(const char *a, const char *b);

/* "Did you mean": feed candidates, then ask for the closest close one. */
struct suggest {
	const char *word;
	const char *best;
	size_t dist;
};

void suggest_init(struct suggest *s, const char *word);
void suggest_try(struct suggest *s, const char *cand);
/* The best candidate if it is close enough to be a typo, else NULL. */
const char *suggest_best(const struct suggest *s);

#endif /* ATTLS_VALUES_H */
