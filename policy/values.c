// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * values.c - strict value parsers shared by the keyword handlers.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "values.h"

int msgf(char **err, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return rc;
}

int val_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v < lo || v > hi)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int val_is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return s[n] == '\0';
}

/* One address into 16 bytes; *v4 tells the family.  0 or -EINVAL. */
static int addr_one(const char *s, uint8_t out[ATTLS_ADDR_LEN], int *v4)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(out, mapped, sizeof(mapped));
		memcpy(out + 12, &a4, 4);
		*v4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) != 1)
		return -EINVAL;
	*v4 = 0;
	/* IBM rejects v4-mapped literals too; for us they would silently be
	 * IPv4 rules, so ask for the plain IPv4 spelling. */
	if (!memcmp(out, mapped, sizeof(mapped)))
		return -EDOM;
	return 0;
}

static int addr_one_msg(const char *part, const char *whole, uint8_t *out,
			int *v4, char **err)
{
	int rc = addr_one(part, out, v4);

	if (rc == -EDOM)
		return msgf(err, -1,
			    "'%s' is an IPv4-mapped IPv6 address\n"
			    "write the IPv4 address itself; IPv4 rules also match IPv4-mapped connections",
			    whole);
	if (rc)
		return msgf(err, -1,
			    "'%s' is not an IP address\n"
			    "use a.b.c.d, an IPv6 address, addr/prefix, addr-addr or All",
			    whole);
	return 0;
}

/* lo = a & mask(bits), hi = a | ~mask(bits) over 128 bits. */
static void addr_prefix(const uint8_t *a, unsigned bits, uint8_t *lo,
			uint8_t *hi)
{
	unsigned i;

	for (i = 0; i < ATTLS_ADDR_LEN; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 :
				bits > 8 * i ? bits - 8 * i : 0;
		uint8_t m = keep ? (uint8_t)(0xff << (8 - keep)) : 0;

		lo[i] = a[i] & m;
		hi[i] = a[i] | (uint8_t)~m;
	}
}

/* Does [lo, hi] (IPv6) overlap ::ffff:0:0/96? */
static int overlaps_mapped(const uint8_t *lo, const uint8_t *hi)
{
	static const uint8_t mlo[16] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t mhi[16] = {
		[10] = 0xff, [11] = 0xff, [12] = 0xff, [13] = 0xff,
		[14] = 0xff, [15] = 0xff
	};

	return memcmp(lo, mhi, 16) <= 0 && memcmp(hi, mlo, 16) >= 0;
}

static int addr_v6_note(const char *s, const struct ast_addr *a, int v4,
			char **err)
{
	if (v4 || !overlaps_mapped(a->lo, a->hi))
		return 0;
	return msgf(err, 1,
		    "'%s' includes the IPv4-mapped block ::ffff:0:0/96, so it also matches IPv4 connections\n"
		    "attls stores IPv4 as ::ffff:a.b.c.d; narrow the range if IPv4 is not meant",
		    s);
}

static int val_prefix(const char *s, const char *slash, struct ast_addr *a,
		      char **err)
{
	uint8_t addr[ATTLS_ADDR_LEN];
	char part[INET6_ADDRSTRLEN + 1];
	uint32_t bits;
	int v4, rc;

	if ((size_t)(slash - s) >= sizeof(part))
		return msgf(err, -1, "'%s' is not an IP address prefix\n"
			    "use addr/prefixLength, e.g. 10.0.0.0/8", s);
	memcpy(part, s, (size_t)(slash - s));
	part[slash - s] = '\0';
	rc = addr_one_msg(part, s, addr, &v4, err);
	if (rc)
		return rc;
	if (val_u32(slash + 1, 0, v4 ? 32 : 128, &bits))
		return msgf(err, -1, "'%s': prefix length must be 0-%d",
			    s, v4 ? 32 : 128);
	addr_prefix(addr, v4 ? 96 + bits : bits, a->lo, a->hi);
	if (memcmp(addr, a->lo, ATTLS_ADDR_LEN)) {
		char net[INET6_ADDRSTRLEN];

		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a->lo + 12 : a->lo,
			  net, sizeof(net));
		return msgf(err, 1,
			    "'%s' has host bits set; using %s/%u\n"
			    "write the network address to silence this", s,
			    net, bits);
	}
	return addr_v6_note(s, a, v4, err);
}

static int val_range(const char *s, const char *dash, struct ast_addr *a,
		     char **err)
{
	char part[INET6_ADDRSTRLEN + 1];
	int v4a, v4b, rc;

	if ((size_t)(dash - s) >= sizeof(part))
		return msgf(err, -1, "'%s' is not an IP address range\n"
			    "use addr-addr, e.g. 10.1.1.1-10.1.1.20", s);
	memcpy(part, s, (size_t)(dash - s));
	part[dash - s] = '\0';
	rc = addr_one_msg(part, s, a->lo, &v4a, err);
	if (rc)
		return rc;
	rc = addr_one_msg(dash + 1, s, a->hi, &v4b, err);
	if (rc)
		return rc;
	if (v4a != v4b)
		return msgf(err, -1, "'%s' mixes IPv4 and IPv6", s);
	if (memcmp(a->lo, a->hi, ATTLS_ADDR_LEN) > 0)
		return msgf(err, -1, "'%s': the first address is above the second\n"
			    "write the range as low-high", s);
	return addr_v6_note(s, a, v4a, err);
}

int val_addr(const char *s, struct ast_addr *a, char **err)
{
	const char *sep;
	int v4, rc;

	memset(a->lo, 0, sizeof(a->lo));
	memset(a->hi, 0, sizeof(a->hi));
	a->all = 0;
	if (!strcasecmp(s, "All")) {
		a->all = 1;
		return 0;
	}
	sep = strchr(s, '/');
	if (sep)
		return val_prefix(s, sep, a, err);
	sep = strchr(s, '-');
	if (sep)
		return val_range(s, sep, a, err);
	rc = addr_one_msg(s, s, a->lo, &v4, err);
	if (rc)
		return rc;
	memcpy(a->hi, a->lo, ATTLS_ADDR_LEN);
	return 0;
}

int val_ports(const char *s, struct ast_ports *p, char **err)
{
	const char *dash = strchr(s, '-');
	char lo[8];
	uint32_t a, b;

	if (!dash) {
		if (val_u32(s, 0, 65535, &a))
			return msgf(err, -1, "'%s' is not a port (0-65535)\n"
				    "use n or n-m; 0 means any port", s);
		p->lo = a ? (uint16_t)a : 0;
		p->hi = a ? (uint16_t)a : 65535;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(lo) || dash == s)
		return msgf(err, -1, "'%s' is not a port range\n"
			    "use n-m with 0 <= n <= m <= 65535", s);
	memcpy(lo, s, (size_t)(dash - s));
	lo[dash - s] = '\0';
	if (val_u32(lo, 0, 65535, &a) || val_u32(dash + 1, 0, 65535, &b))
		return msgf(err, -1, "'%s' is not a port range\n"
			    "use n-m with 0 <= n <= m <= 65535", s);
	if (a > b)
		return msgf(err, -1, "'%s': the first port is above the second\n"
			    "write the range as low-high", s);
	p->lo = (uint16_t)a;
	p->hi = (uint16_t)b;
	return 0;
}

/* `n` decimal digits at s into *v; 0 or -1. */
static int digits(const char *s, size_t n, uint32_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint32_t)(s[i] - '0');
	}
	return 0;
}

int val_tod(const char *s, int end, uint32_t *secs)
{
	size_t n = strlen(s);
	uint32_t h, m, sec = 0;

	if ((n != 5 && n != 8) || s[2] != ':' || (n == 8 && s[5] != ':'))
		return -EINVAL;
	if (digits(s, 2, &h) || digits(s + 3, 2, &m) ||
	    (n == 8 && digits(s + 6, 2, &sec)))
		return -EINVAL;
	if (m > 59 || sec > 59)
		return -EINVAL;
	if (h == 24 && end && !m && !sec) {
		*secs = 86400;
		return 0;
	}
	if (h > 23)
		return -EINVAL;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

static int leap(uint32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint32_t month_days(uint32_t y, uint32_t m)
{
	static const uint8_t days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

int val_datetime(const char *s, int end, uint64_t *out)
{
	size_t n = strlen(s);
	uint32_t y, mo, d, h = 0, mi = 0, sec = 0;
	const char *t = s + 8;

	if (n == 15 && (s[8] == 'T' || s[8] == 't'))
		t = s + 9;
	else if (n != 8 && n != 14)
		return -EINVAL;
	if (digits(s, 4, &y) || digits(s + 4, 2, &mo) || digits(s + 6, 2, &d))
		return -EINVAL;
	if (n > 8 && (digits(t, 2, &h) || digits(t + 2, 2, &mi) ||
		      digits(t + 4, 2, &sec)))
		return -EINVAL;
	if (n == 8 && end) {
		h = 23;
		mi = sec = 59;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	*out = ((((y * 100ULL + mo) * 100 + d) * 100 + h) * 100 + mi) * 100 + sec;
	return 0;
}

int val_mask(const char *s, size_t n, uint64_t *bits)
{
	size_t i;

	if (n > 64 || strlen(s) != n)
		return -EINVAL;
	*bits = 0;
	for (i = 0; i < n; i++) {
		if (s[i] != '0' && s[i] != '1')
			return -EINVAL;
		if (s[i] == '1')
			*bits |= 1ULL << i;
	}
	return 0;
}

/* Index of `s` in names[] by full name or its first three letters, or -1. */
static int name_index(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!strcasecmp(s, names[i]) ||
		    (strlen(s) == 3 && !strncasecmp(s, names[i], 3)))
			return i;
	}
	return -1;
}

int val_weekday(const char *s)
{
	static const char *const days[7] = {
		"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
		"Friday", "Saturday"
	};
	uint32_t v;

	if (!val_u32(s, 1, 7, &v))
		return (int)(v % 7);	/* ISO 7 = Sunday = 0 */
	return name_index(s, days, 7);
}

int val_month(const char *s)
{
	static const char *const months[12] = {
		"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"
	};
	uint32_t v;

	if (!val_u32(s, 1, 12, &v))
		return (int)v - 1;
	return name_index(s, months, 12);
}

int val_hostname(const char *s, int wild)
{
	size_t n = strlen(s), label = 0;
	const char *p;

	if (wild && !strncmp(s, "*.", 2)) {
		s += 2;
		n -= 2;
	}
	if (!n || n > 253)
		return -EINVAL;
	for (p = s; ; p++) {
		if (*p == '.' || !*p) {
			/* the label is p - label .. p - 1 */
			if (!label || p[-1] == '-' || *(p - label) == '-')
				return -EINVAL;
			if (!*p)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return -EINVAL;
		if (++label > 63)
			return -EINVAL;
	}
}

int vec_grow(void *vecp, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *v, *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 8;
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	/* memcpy: the caller's pointer has its own type, not void * */
	memcpy(&v, vecp, sizeof(v));
	nv = realloc(v, ncap * size);
	if (!nv)
		return -ENOMEM;
	memcpy(vecp, &nv, sizeof(nv));
	*cap = ncap;
	return 0;
}

#define EDIT_MAX	64	/* longer words are never typos of ours */

size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[EDIT_MAX + 1];
	size_t i, j;

	if (la > EDIT_MAX || lb > EDIT_MAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) !=
				      tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

void suggest_init(struct suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->dist = (size_t)-1;
}

void suggest_try(struct suggest *s, const char *cand)
{
	size_t d = edit_distance(s->word, cand);

	if (d < s->dist) {
		s->dist = d;
		s->best = cand;
	}
}

const char *suggest_best(const struct suggest *s)
{
	/* a third of the word, at least 1 and at most 4 edits: catches
	 * "Jobnme" and "grpOm" without proposing "Port" for "Prio" */
	size_t limit = strlen(s->word) / 3;

	if (limit < 1)
		limit = 1;
	if (limit > 4)
		limit = 4;
	return s->best && s->dist <= limit ? s->best : NULL;
}
