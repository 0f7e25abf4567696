// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * timecond.c - when a rule with an IpTimeCondition is in effect.
 *
 * A window is the AND of a date range, a time-of-day range and day-of-
 * week, day-of-month and month masks, each evaluated on the current time
 * in the window's time zone (TimeZone Local = the daemon's TZ, or UTC).
 * This is how CIM's PolicyTimePeriodCondition, which PAGENT's statement
 * follows, combines them; a time-of-day range that wraps midnight
 * (22:00-06:00) is therefore checked against the day the current time
 * falls on, not the day the range started.
 *
 * The daemon does not evaluate windows per connection: it compiles the
 * image for "now" (policy_compile_at() leaves out the clauses of rules
 * whose window is closed) and compiles again at attls_image_next_change().
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "timecond.h"

#define DAY		86400u
#define ALL_DOW		0x7fu
#define ALL_MONTHS	0xfffu
#define ALL_DOM		0x7fffffffu
/*
 * How many candidate instants attls_image_next_change() tries per window:
 * a few boundaries a day, so more than a year.  A window that changes
 * later than that (or never, like "February 31st") is simply looked at
 * again at the horizon.
 */
#define NEXT_MAX_STEPS	1500

/* Bits from..to of an n-bit mask, wrapping past n-1 to 0 (Friday-Monday). */
static uint32_t range_mask(uint32_t from, uint32_t to, unsigned n)
{
	uint32_t m = 0, i = from;

	for (;;) {
		m |= 1u << i;
		if (i == to)
			return m;
		i = (i + 1) % n;
	}
}

void time_window_build(const struct ast_time *t, struct attls_time_window *w)
{
	memset(w, 0, sizeof(*w));
	w->set = 1;
	w->utc = t->tz.set && t->tz.v;
	if (t->range.set) {
		w->start = t->start;
		w->end = t->end;
	}
	w->tod_from = 0;
	w->tod_to = DAY;
	if (t->tod_from.set && t->tod_to.set) {
		w->tod_from = t->tod_from.v;
		w->tod_to = t->tod_to.v;
		if (w->tod_to == DAY && w->tod_from)
			w->tod_to = 0;	/* "to 24:00": until midnight */
	}
	if (t->dow.set)
		w->dow_mask = t->dow.v;
	else if (t->dow_from.set && t->dow_to.set)
		w->dow_mask = range_mask(t->dow_from.v, t->dow_to.v, 7);
	else
		w->dow_mask = ALL_DOW;
	if (t->month.set)
		w->month_mask = t->month.v;
	else if (t->month_from.set && t->month_to.set)
		w->month_mask = range_mask(t->month_from.v, t->month_to.v, 12);
	else
		w->month_mask = ALL_MONTHS;
	if (t->dom.set) {
		w->dom_mask = t->dom.v;
		w->dom_last_mask = t->dom_last;
	} else if (t->dom_from.set && t->dom_to.set) {
		w->dom_mask = range_mask(t->dom_from.v - 1, t->dom_to.v - 1, 31);
	} else {
		w->dom_mask = ALL_DOM;
	}
}

static int broken_down(const struct attls_time_window *w, time_t t,
		       struct tm *tm)
{
	return (w->utc ? gmtime_r(&t, tm) : localtime_r(&t, tm)) ? 0 : -1;
}

static time_t make_time(const struct attls_time_window *w, struct tm *tm)
{
	tm->tm_isdst = -1;
	return w->utc ? timegm(tm) : mktime(tm);
}

static int days_in_month(int year, int mon)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : days[mon];
}

static uint64_t stamp_of(const struct tm *tm)
{
	int sec = tm->tm_sec > 59 ? 59 : tm->tm_sec;	/* leap second */

	return (((((uint64_t)(tm->tm_year + 1900) * 100 + (unsigned)tm->tm_mon + 1) * 100 +
		  (unsigned)tm->tm_mday) * 100 + (unsigned)tm->tm_hour) * 100 +
		(unsigned)tm->tm_min) * 100 + (unsigned)sec;
}

/* YYYYMMDDhhmmss in the window's zone to a time_t. */
static time_t stamp_time(const struct attls_time_window *w, uint64_t s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = (int)(s % 100);
	tm.tm_min = (int)(s / 100 % 100);
	tm.tm_hour = (int)(s / 10000 % 100);
	tm.tm_mday = (int)(s / 1000000 % 100);
	tm.tm_mon = (int)(s / 100000000 % 100) - 1;
	tm.tm_year = (int)(s / 10000000000ULL) - 1900;
	return make_time(w, &tm);
}

int attls_time_window_active(const struct attls_time_window *w, time_t now)
{
	uint32_t tod, from_end;
	uint64_t stamp;
	struct tm tm;

	if (!w->set)
		return 1;
	if (broken_down(w, now, &tm))
		return 0;
	stamp = stamp_of(&tm);
	if ((w->start && stamp < w->start) || (w->end && stamp > w->end))
		return 0;
	if (!(w->month_mask & (1u << tm.tm_mon)) ||
	    !(w->dow_mask & (1u << tm.tm_wday)))
		return 0;
	from_end = (uint32_t)(days_in_month(tm.tm_year + 1900, tm.tm_mon) -
			      tm.tm_mday);
	if (!(w->dom_mask & (1u << (tm.tm_mday - 1))) &&
	    !(from_end < 31 && (w->dom_last_mask & (1u << from_end))))
		return 0;
	tod = (uint32_t)(tm.tm_hour * 3600 + tm.tm_min * 60 +
			 (tm.tm_sec > 59 ? 59 : tm.tm_sec));
	if (w->tod_from < w->tod_to)
		return tod >= w->tod_from && tod < w->tod_to;
	return tod >= w->tod_from || tod < w->tod_to;
}

int attls_image_rule_active(const struct attls_map_image *img,
			    size_t rule_id, time_t now)
{
	if (!img || rule_id >= img->nactions)
		return 0;
	return attls_time_window_active(&img->actions[rule_id].time, now);
}

static void earliest(time_t *best, time_t t, time_t cand)
{
	if (cand != (time_t)-1 && cand > t && cand < *best)
		*best = cand;
}

/*
 * The next instant after `t` at which any condition of `w` may flip: the
 * next midnight, the next time-of-day boundary, the start, the second
 * after the end.  Between two such instants the state cannot change.
 */
static time_t next_boundary(const struct attls_time_window *w, time_t t)
{
	uint32_t bounds[2] = { w->tod_from, w->tod_to };
	time_t best = (time_t)LLONG_MAX;
	struct tm tm, c;
	int i, day;

	if (broken_down(w, t, &tm))
		return best;
	c = tm;
	c.tm_mday++;
	c.tm_hour = c.tm_min = c.tm_sec = 0;
	earliest(&best, t, make_time(w, &c));
	for (i = 0; i < 2; i++) {
		if (bounds[i] == 0 || bounds[i] >= DAY)
			continue;	/* midnight: covered above */
		for (day = 0; day < 2; day++) {
			c = tm;
			c.tm_mday += day;
			c.tm_hour = (int)(bounds[i] / 3600);
			c.tm_min = (int)(bounds[i] / 60 % 60);
			c.tm_sec = (int)(bounds[i] % 60);
			earliest(&best, t, make_time(w, &c));
		}
	}
	if (w->start)
		earliest(&best, t, stamp_time(w, w->start));
	if (w->end)
		earliest(&best, t, stamp_time(w, w->end) + 1);
	return best;
}

/* When does `w` change state after `now`?  0 = never. */
static time_t window_next_change(const struct attls_time_window *w, time_t now)
{
	int state = attls_time_window_active(w, now);
	time_t t = now, start = w->start ? stamp_time(w, w->start) : 0;
	time_t end = w->end ? stamp_time(w, w->end) : 0;
	int i;

	for (i = 0; i < NEXT_MAX_STEPS; i++) {
		if (w->end && t > end)
			return 0;	/* over for good */
		/* before the start nothing can change but the start itself */
		t = w->start && t < start ? start : next_boundary(w, t);
		if (t == (time_t)LLONG_MAX)
			return 0;
		if (attls_time_window_active(w, t) != state)
			return t;
	}
	return t;	/* nothing within the horizon: look again then */
}

time_t attls_image_next_change(const struct attls_map_image *img, time_t now)
{
	time_t best = 0, t;
	size_t i, j;

	if (!img)
		return 0;
	for (i = 0; i < img->nactions; i++) {
		const struct attls_time_window *w = &img->actions[i].time;

		if (!w->set)
			continue;
		/* rules often share one condition: do each window once */
		for (j = 0; j < i; j++) {
			if (!memcmp(&img->actions[j].time, w, sizeof(*w)))
				break;
		}
		if (j < i)
			continue;
		t = window_next_change(w, now);
		if (t && (!best || t < best))
			best = t;
	}
	return best;
}

/* "Mon,Wed-Fri" for a 7-bit Sunday-first mask. */
static void days_format(uint32_t mask, char *buf, size_t len)
{
	static const char *const names[7] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	size_t n = 0;
	int i = 0;

	buf[0] = '\0';
	while (i < 7) {
		int j = i;

		if (!(mask & (1u << i))) {
			i++;
			continue;
		}
		while (j + 1 < 7 && (mask & (1u << (j + 1))))
			j++;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s%s%s",
				      n ? "," : "", names[i], j > i ? "-" : "",
				      j > i ? names[j] : "");
		i = j + 1;
	}
}

static void tod_format(uint32_t s, char *buf, size_t len)
{
	snprintf(buf, len, "%02u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
}

void time_window_format(const struct attls_time_window *w, char *buf,
			size_t len)
{
	char from[16], to[16], days[40];
	size_t n = 0;

	if (!w->set) {
		snprintf(buf, len, "always");
		return;
	}
	buf[0] = '\0';
	if (w->start || w->end)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
				      "%014llu-%014llu ",
				      (unsigned long long)w->start,
				      (unsigned long long)w->end);
	if (w->tod_from == 0 && w->tod_to == DAY) {
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "all day");
	} else {
		tod_format(w->tod_from, from, sizeof(from));
		tod_format(w->tod_to ? w->tod_to : DAY, to, sizeof(to));
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s-%s",
				      from, to);
	}
	if (w->dow_mask != ALL_DOW) {
		days_format(w->dow_mask, days, sizeof(days));
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " %s", days);
	}
	if (w->dom_mask != ALL_DOM || w->dom_last_mask)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
				      " days %#x/last %#x", w->dom_mask,
				      w->dom_last_mask);
	if (w->month_mask != ALL_MONTHS)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
				      " months %#x", w->month_mask);
	snprintf(buf + n, n < len ? len - n : 0, " %s", w->utc ? "UTC" : "Local");
}
