/* SPDX-License-Identifier: MIT */
/*
 * parseDate(): reads text with the moment.js tokens formatDate() writes
 * (mapping_dateformat.c). Like moment's default (non-strict) mode, a
 * token skips separators before its value and a separator in the format
 * need not be present in the text. Fields the format does not give are
 * filled as moment does: leading ones (year, month, day) from today in
 * the zone, the rest as the first of the month at midnight. A parsed
 * offset (Z) or epoch value (X, x) overrides the zone.
 */
#include "scenarios/mapping_date.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenarios/mapping_internal.h"
#include "util/tz.h"
#include "util/xalloc.h"

static const char *const month_names[] = { "january",	"february", "march",	"april",
					   "may",	"june",	    "july",	"august",
					   "september", "october",  "november", "december" };
static const char *const day_names[] = { "sunday",   "monday", "tuesday", "wednesday",
					 "thursday", "friday", "saturday" };

#define UNSET INT64_MIN

struct parsed {
	int64_t year, month, day, yday, hour, minute, second, ms;
	int64_t iso_year, iso_week, iso_wday;
	int pm; /* -1 unset, 0 am, 1 pm */
	bool has_offset;
	int32_t offset;
	bool has_epoch;
	int64_t epoch_ms;
};

struct reader {
	const char *p;
};

static void skip_separators(struct reader *rd, bool keep_sign)
{
	while (*rd->p && !isalnum((unsigned char)*rd->p) &&
	       !(keep_sign && (*rd->p == '+' || *rd->p == '-')))
		rd->p++;
}

/* Up to `max` digits (at least one). */
static bool read_digits(struct reader *rd, int max, int64_t *ret, int *ret_count)
{
	int64_t v = 0;
	int n = 0;

	skip_separators(rd, false);
	while (n < max && isdigit((unsigned char)rd->p[n]))
		v = v * 10 + (rd->p[n++] - '0');
	if (!n)
		return false;
	rd->p += n;
	*ret = v;
	if (ret_count)
		*ret_count = n;
	return true;
}

static bool read_signed(struct reader *rd, int max, int64_t *ret)
{
	bool neg = false;

	skip_separators(rd, true);
	if (*rd->p == '+' || *rd->p == '-')
		neg = *rd->p++ == '-';
	if (!read_digits(rd, max, ret, NULL))
		return false;
	if (neg)
		*ret = -*ret;
	return true;
}

/* A name from `names` (case-insensitive), whole or its first three
 * letters; returns its index. */
static bool read_name(struct reader *rd, const char *const *names, size_t count, int64_t *ret)
{
	skip_separators(rd, false);
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(names[i]);

		if (strncasecmp(rd->p, names[i], len) == 0) {
			rd->p += len;
			*ret = (int64_t)i;
			return true;
		}
	}
	for (size_t i = 0; i < count; i++)
		if (strncasecmp(rd->p, names[i], 3) == 0) {
			rd->p += 3;
			*ret = (int64_t)i;
			return true;
		}
	return false;
}

static bool read_meridiem(struct reader *rd, int *ret)
{
	skip_separators(rd, false);
	if (tolower((unsigned char)*rd->p) != 'a' && tolower((unsigned char)*rd->p) != 'p')
		return false;
	*ret = tolower((unsigned char)*rd->p) == 'p';
	rd->p++;
	if (*rd->p == '.')
		rd->p++;
	if (tolower((unsigned char)*rd->p) == 'm') {
		rd->p++;
		if (*rd->p == '.')
			rd->p++;
	}
	return true;
}

/* "Z", "+01:00", "+0100", "+01". */
static bool read_offset(struct reader *rd, int32_t *ret)
{
	int64_t h = 0, m = 0;
	int sign;

	skip_separators(rd, true);
	if (*rd->p == 'Z' || *rd->p == 'z') {
		rd->p++;
		*ret = 0;
		return true;
	}
	if (*rd->p != '+' && *rd->p != '-')
		return false;
	sign = *rd->p++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)rd->p[0]) || !isdigit((unsigned char)rd->p[1]))
		return false;
	h = (rd->p[0] - '0') * 10 + (rd->p[1] - '0');
	rd->p += 2;
	if (*rd->p == ':')
		rd->p++;
	if (isdigit((unsigned char)rd->p[0]) && isdigit((unsigned char)rd->p[1])) {
		m = (rd->p[0] - '0') * 10 + (rd->p[1] - '0');
		rd->p += 2;
	}
	*ret = (int32_t)(sign * (h * 3600 + m * 60));
	return true;
}

/* "1410715640.579" (X) as milliseconds. */
static bool read_epoch_seconds(struct reader *rd, int64_t *ret)
{
	char *end;
	double d;

	skip_separators(rd, true);
	d = strtod(rd->p, &end);
	if (end == rd->p || !isfinite(d) || fabs(d) > 1e14)
		return false;
	rd->p = end;
	*ret = (int64_t)llround(d * 1000);
	return true;
}

static int64_t two_digit_year(int64_t y)
{
	return y + (y > 68 ? 1900 : 2000);
}

static bool read_token(struct reader *rd, const char *t, size_t len, struct parsed *ps)
{
	int64_t v;
	int n;

	if (t[0] == 'S') {
		if (!read_digits(rd, len >= 4 ? 9 : (int)len, &v, &n))
			return false;
		while (n < 3)
			v *= 10, n++;
		while (n > 3)
			v /= 10, n--;
		ps->ms = v;
		return true;
	}
	if (streq(t, "YYYY")) {
		if (!read_digits(rd, 4, &v, &n))
			return false;
		ps->year = n <= 2 ? two_digit_year(v) : v;
	} else if (streq(t, "YY") || streq(t, "GG") || streq(t, "gg")) {
		if (!read_digits(rd, 2, &v, NULL))
			return false;
		*(t[0] == 'G' ? &ps->iso_year : &ps->year) = two_digit_year(v);
	} else if (streq(t, "Y")) {
		if (!read_signed(rd, 6, &ps->year))
			return false;
	} else if (streq(t, "GGGG") || streq(t, "gggg")) {
		if (!read_digits(rd, 4, &v, NULL))
			return false;
		*(t[0] == 'G' ? &ps->iso_year : &ps->year) = v;
	} else if (streq(t, "Q")) {
		if (!read_digits(rd, 1, &v, NULL))
			return false;
		ps->month = (v - 1) * 3 + 1;
	} else if (streq(t, "MMMM") || streq(t, "MMM")) {
		if (!read_name(rd, month_names, 12, &v))
			return false;
		ps->month = v + 1;
	} else if (streq(t, "MM") || streq(t, "M") || streq(t, "Mo")) {
		if (!read_digits(rd, 2, &ps->month, NULL))
			return false;
	} else if (streq(t, "DDDD") || streq(t, "DDD") || streq(t, "DDDo")) {
		if (!read_digits(rd, 3, &ps->yday, NULL))
			return false;
	} else if (streq(t, "DD") || streq(t, "D") || streq(t, "Do")) {
		if (!read_digits(rd, 2, &ps->day, NULL))
			return false;
	} else if (streq(t, "dddd") || streq(t, "ddd") || streq(t, "dd")) {
		if (!read_name(rd, day_names, 7, &v)) /* read and ignored, as moment */
			return false;
	} else if (streq(t, "d") || streq(t, "e") || streq(t, "do")) {
		if (!read_digits(rd, 1, &v, NULL))
			return false;
	} else if (streq(t, "E")) {
		if (!read_digits(rd, 1, &ps->iso_wday, NULL))
			return false;
	} else if (t[0] == 'W' || t[0] == 'w') {
		if (!read_digits(rd, 2, &ps->iso_week, NULL))
			return false;
	} else if (t[0] == 'H' || t[0] == 'h' || t[0] == 'k') {
		if (!read_digits(rd, 2, &ps->hour, NULL))
			return false;
		if (t[0] == 'k' && ps->hour == 24)
			ps->hour = 0;
	} else if (streq(t, "A") || streq(t, "a")) {
		if (!read_meridiem(rd, &ps->pm))
			return false;
	} else if (t[0] == 'm') {
		if (!read_digits(rd, 2, &ps->minute, NULL))
			return false;
	} else if (t[0] == 's') {
		if (!read_digits(rd, 2, &ps->second, NULL))
			return false;
	} else if (t[0] == 'Z') {
		if (!read_offset(rd, &ps->offset))
			return false;
		ps->has_offset = true;
	} else if (streq(t, "X")) {
		if (!read_epoch_seconds(rd, &ps->epoch_ms))
			return false;
		ps->has_epoch = true;
	} else if (streq(t, "x")) {
		if (!read_signed(rd, 16, &ps->epoch_ms))
			return false;
		ps->has_epoch = true;
	}
	/* Ordinal suffixes: "1st", "22nd". */
	if (len >= 2 && t[len - 1] == 'o')
		while (isalpha((unsigned char)*rd->p))
			rd->p++;
	return true;
}

static const char *token_at(const char *p, size_t *ret_len)
{
	static const char *const tokens[] = {
		"YYYY", "YY",  "Y",  "Q",  "MMMM", "MMM",  "MM",  "Mo", "M",	"DDDD",
		"DDDo", "DDD", "Do", "DD", "D",	   "dddd", "ddd", "dd", "do",	"d",
		"E",	"e",   "wo", "ww", "w",	   "Wo",   "WW",  "W",	"gggg", "gg",
		"GGGG", "GG",  "HH", "H",  "hh",   "h",	   "kk",  "k",	"A",	"a",
		"mm",	"m",   "ss", "s",  "ZZ",   "Z",	   "X",	  "x",
	};
	size_t n = 0;

	while (p[n] == 'S' && n < 9)
		n++;
	if (n) {
		*ret_len = n;
		return "S";
	}
	for (size_t i = 0; i < ELEMENTSOF(tokens); i++) {
		size_t len = strlen(tokens[i]);

		if (strncmp(p, tokens[i], len) == 0) {
			*ret_len = len;
			return tokens[i];
		}
	}
	return NULL;
}

static int scan(const char *text, const char *format, struct parsed *ps)
{
	struct reader rd = { .p = text };

	for (const char *f = format; *f;) {
		const char *t;
		size_t len;

		if (*f == '[' && strchr(f, ']')) {
			const char *end = strchr(f, ']');
			size_t n = (size_t)(end - f - 1);

			if (strncmp(rd.p, f + 1, n) == 0)
				rd.p += n;
			f = end + 1;
			continue;
		}
		t = token_at(f, &len);
		if (t) {
			if (!read_token(&rd, t, len, ps))
				return -EINVAL;
			f += len;
			continue;
		}
		if (*rd.p == *f)
			rd.p++;
		else if (isalnum((unsigned char)*f))
			return -EINVAL;
		f++;
	}
	return 0;
}

/* Fields → instant, after moment's defaults. */
static int resolve(struct parsed *ps, const struct tz *tz, int64_t now_ms, int64_t *ret_ms)
{
	struct civil now, c = { 0 };
	int64_t *ymd[3] = { &ps->year, &ps->month, &ps->day }, now_ymd[3];
	int64_t days;

	if (ps->has_epoch) {
		*ret_ms = ps->epoch_ms;
		return 0;
	}
	date_to_civil(now_ms, tz, &now);
	now_ymd[0] = now.year, now_ymd[1] = now.month, now_ymd[2] = now.day;
	if (ps->iso_week != UNSET) {
		int64_t year = ps->iso_year != UNSET ? ps->iso_year :
			       ps->year != UNSET     ? ps->year :
						       now.year;
		int64_t jan4 = tz_days_from_civil(year, 1, 4);
		int wd = (int)(((jan4 + 3) % 7 + 7) % 7); /* 0 = Monday */
		int64_t wday = ps->iso_wday != UNSET ? ps->iso_wday : 1;

		days = jan4 - wd + (ps->iso_week - 1) * 7 + (wday - 1);
		tz_civil_from_days(days, &c.year, &c.month, &c.day);
	} else if (ps->yday != UNSET) {
		c.year = ps->year != UNSET ? ps->year : now.year;
		tz_civil_from_days(tz_days_from_civil(c.year, 1, 1) + ps->yday - 1, &c.year,
				   &c.month, &c.day);
	} else {
		size_t i = 0;

		for (; i < 3 && *ymd[i] == UNSET; i++)
			*ymd[i] = now_ymd[i];
		for (; i < 3; i++)
			if (*ymd[i] == UNSET)
				*ymd[i] = 1;
		if (ps->month < 1 || ps->month > 12 || ps->day < 1 ||
		    ps->day > date_days_in_month(ps->year, (int)ps->month))
			return -EINVAL;
		c.year = ps->year, c.month = (int)ps->month, c.day = (int)ps->day;
	}
	c.hour = ps->hour == UNSET ? 0 : (int)ps->hour;
	if (ps->pm >= 0) {
		if (c.hour < 1 || c.hour > 12)
			return -EINVAL;
		c.hour = c.hour % 12 + (ps->pm ? 12 : 0);
	}
	c.minute = ps->minute == UNSET ? 0 : (int)ps->minute;
	c.second = ps->second == UNSET ? 0 : (int)ps->second;
	c.ms = ps->ms == UNSET ? 0 : (int)ps->ms;
	if (c.hour > 23 || c.minute > 59 || c.second > 59)
		return -EINVAL;
	if (ps->has_offset) {
		int64_t local = tz_days_from_civil(c.year, c.month, c.day) * 86400 + c.hour * 3600 +
				c.minute * 60 + c.second;

		*ret_ms = (local - ps->offset) * 1000 + c.ms;
		return 0;
	}
	*ret_ms = date_from_civil(&c, tz);
	return 0;
}

int date_parse(const char *text, const char *format, const struct tz *tz, int64_t now_ms,
	       int64_t *ret_ms, char **reterr)
{
	struct parsed ps = {
		.year = UNSET,
		.month = UNSET,
		.day = UNSET,
		.yday = UNSET,
		.hour = UNSET,
		.minute = UNSET,
		.second = UNSET,
		.ms = UNSET,
		.iso_year = UNSET,
		.iso_week = UNSET,
		.iso_wday = UNSET,
		.pm = -1,
	};

	if (scan(text, format, &ps) < 0) {
		*reterr = xasprintf("the text does not match the format '%s'", format);
		return -EINVAL;
	}
	if (resolve(&ps, tz, now_ms, ret_ms) < 0) {
		*reterr = xasprintf("the text read with '%s' is not a valid date", format);
		return -EINVAL;
	}
	return 0;
}
