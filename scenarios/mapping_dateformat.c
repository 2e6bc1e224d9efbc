/* SPDX-License-Identifier: MIT */
/*
 * formatDate() and parseDate() tokens, which Fusion takes from moment.js
 * (tokens-for-date-and-time-formatting and …-parsing in Fusion's docs):
 * YYYY MM DD HH mm ss SSS, names (MMMM, dddd), ordinals (Do), 12-hour
 * clocks (hh A), week numbers (w, W), offsets (Z, ZZ) and epoch values
 * (X, x). Text in [brackets] is literal. English names only, as Fusion's
 * default locale. Parsing is lenient like moment's: separators in the
 * text need not match the format's.
 */
#include "scenarios/mapping_date.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenarios/mapping_internal.h"
#include "util/strbuf.h"
#include "util/tz.h"
#include "util/xalloc.h"

static const char *const month_names[] = { "January",	"February", "March",	"April",
					   "May",	"June",	    "July",	"August",
					   "September", "October",  "November", "December" };
static const char *const day_names[] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
					 "Thursday", "Friday", "Saturday" };

/* Longest first where one token is a prefix of another. */
static const char *const tokens[] = {
	"YYYY", "YY", "Y",  "Qo",   "Q",   "MMMM", "MMM", "MM", "Mo", "M",  "DDDD", "DDDo", "DDD",
	"Do",	"DD", "D",  "dddd", "ddd", "dd",   "do",  "d",	"E",  "e",  "wo",   "ww",   "w",
	"Wo",	"WW", "W",  "gggg", "gg",  "GGGG", "GG",  "HH", "H",  "hh", "h",    "kk",   "k",
	"A",	"a",  "mm", "m",    "ss",  "s",	   "ZZ",  "Z",	"X",  "x",
};

static size_t match_token(const char *p, const char **ret)
{
	size_t n = 0;

	/* S, SS, … up to nine: fractional seconds. */
	while (p[n] == 'S' && n < 9)
		n++;
	if (n) {
		*ret = "S";
		return n;
	}
	for (size_t i = 0; i < ELEMENTSOF(tokens); i++) {
		size_t len = strlen(tokens[i]);

		if (strncmp(p, tokens[i], len) == 0) {
			*ret = tokens[i];
			return len;
		}
	}
	return 0;
}

static const char *ordinal_suffix(int64_t n)
{
	int64_t t = n % 100;

	if (t >= 11 && t <= 13)
		return "th";
	switch (n % 10) {
	case 1:
		return "st";
	case 2:
		return "nd";
	case 3:
		return "rd";
	default:
		return "th";
	}
}

/* Week of year with weeks starting on `first_wday` and week 1 holding
 * the day `holds` of January (1 for the US locale week, 4 for ISO).
 * Returns the week and its year. */
static int week_of_year(const struct civil *c, int first_wday, int holds, int64_t *ret_year)
{
	int64_t days = tz_days_from_civil(c->year, c->month, c->day);
	int64_t start = days - ((c->wday - first_wday + 7) % 7), year, week1;
	int m, d, wd;

	/* A week belongs to the year of its day that week 1 must hold:
	 * Saturday for the US week (Jan 1), Thursday for ISO (Jan 4). */
	tz_civil_from_days(start + 7 - holds, &year, &m, &d);
	week1 = tz_days_from_civil(year, 1, holds);
	wd = (int)(((week1 + 4) % 7 + 7) % 7);
	week1 -= (wd - first_wday + 7) % 7;
	*ret_year = year;
	return (int)((start - week1) / 7) + 1;
}

static void put_number(struct strbuf *sb, int64_t v, int width)
{
	if (v < 0) {
		strbuf_putc(sb, '-');
		v = -v;
	}
	strbuf_printf(sb, "%0*lld", width, (long long)v);
}

static void put_ordinal(struct strbuf *sb, int64_t v)
{
	strbuf_printf(sb, "%lld%s", (long long)v, ordinal_suffix(v));
}

static void put_offset(struct strbuf *sb, int32_t offset, bool colon)
{
	int32_t a = offset < 0 ? -offset : offset;

	strbuf_printf(sb, "%c%02d%s%02d", offset < 0 ? '-' : '+', a / 3600, colon ? ":" : "",
		      a / 60 % 60);
}

static void format_token(struct strbuf *sb, const char *t, size_t len, const struct civil *c,
			 int64_t ms)
{
	int64_t wyear;
	int h12 = c->hour % 12 ? c->hour % 12 : 12, week;

	if (t[0] == 'S') {
		char frac[10];

		snprintf(frac, sizeof(frac), "%03d000000", c->ms);
		strbuf_append(sb, frac, len);
	} else if (streq(t, "YYYY"))
		put_number(sb, c->year, 4);
	else if (streq(t, "YY"))
		put_number(sb, ((c->year % 100) + 100) % 100, 2);
	else if (streq(t, "Y"))
		strbuf_printf(sb, "%s%lld", c->year > 9999 ? "+" : "", (long long)c->year);
	else if (streq(t, "Q"))
		put_number(sb, (c->month - 1) / 3 + 1, 1);
	else if (streq(t, "Qo"))
		put_ordinal(sb, (c->month - 1) / 3 + 1);
	else if (streq(t, "MMMM"))
		strbuf_puts(sb, month_names[c->month - 1]);
	else if (streq(t, "MMM"))
		strbuf_append(sb, month_names[c->month - 1], 3);
	else if (streq(t, "MM") || streq(t, "M"))
		put_number(sb, c->month, (int)len);
	else if (streq(t, "Mo"))
		put_ordinal(sb, c->month);
	else if (streq(t, "DDDD"))
		put_number(sb, c->yday, 3);
	else if (streq(t, "DDD"))
		put_number(sb, c->yday, 1);
	else if (streq(t, "DDDo"))
		put_ordinal(sb, c->yday);
	else if (streq(t, "DD") || streq(t, "D"))
		put_number(sb, c->day, (int)len);
	else if (streq(t, "Do"))
		put_ordinal(sb, c->day);
	else if (streq(t, "dddd"))
		strbuf_puts(sb, day_names[c->wday]);
	else if (streq(t, "ddd"))
		strbuf_append(sb, day_names[c->wday], 3);
	else if (streq(t, "dd"))
		strbuf_append(sb, day_names[c->wday], 2);
	else if (streq(t, "d") || streq(t, "e"))
		put_number(sb, c->wday, 1);
	else if (streq(t, "do"))
		put_ordinal(sb, c->wday);
	else if (streq(t, "E"))
		put_number(sb, c->wday ? c->wday : 7, 1);
	else if (t[0] == 'w' || t[0] == 'g') {
		week = week_of_year(c, 0, 1, &wyear);
		if (streq(t, "w") || streq(t, "ww"))
			put_number(sb, week, (int)len);
		else if (streq(t, "wo"))
			put_ordinal(sb, week);
		else
			put_number(sb, len == 2 ? wyear % 100 : wyear, (int)len);
	} else if (t[0] == 'W' || t[0] == 'G') {
		week = week_of_year(c, 1, 4, &wyear);
		if (streq(t, "W") || streq(t, "WW"))
			put_number(sb, week, (int)len);
		else if (streq(t, "Wo"))
			put_ordinal(sb, week);
		else
			put_number(sb, len == 2 ? wyear % 100 : wyear, (int)len);
	} else if (t[0] == 'H')
		put_number(sb, c->hour, (int)len);
	else if (t[0] == 'h')
		put_number(sb, h12, (int)len);
	else if (t[0] == 'k')
		put_number(sb, c->hour ? c->hour : 24, (int)len);
	else if (streq(t, "A"))
		strbuf_puts(sb, c->hour < 12 ? "AM" : "PM");
	else if (streq(t, "a"))
		strbuf_puts(sb, c->hour < 12 ? "am" : "pm");
	else if (t[0] == 'm')
		put_number(sb, c->minute, (int)len);
	else if (t[0] == 's')
		put_number(sb, c->second, (int)len);
	else if (streq(t, "Z") || streq(t, "ZZ"))
		put_offset(sb, c->offset, len == 1);
	else if (streq(t, "X"))
		strbuf_printf(sb, "%lld", (long long)floor((double)ms / 1000.0));
	else if (streq(t, "x"))
		strbuf_printf(sb, "%lld", (long long)ms);
}

char *date_format(int64_t ms, const struct tz *tz, const char *format)
{
	struct civil c;
	struct strbuf sb;

	date_to_civil(ms, tz, &c);
	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (const char *p = format; *p;) {
		const char *t;
		size_t len;

		if (*p == '[') {
			const char *end = strchr(p, ']');

			if (end) {
				strbuf_append(&sb, p + 1, (size_t)(end - p - 1));
				p = end + 1;
				continue;
			}
		}
		len = match_token(p, &t);
		if (len) {
			format_token(&sb, t, len, &c, ms);
			p += len;
		} else {
			strbuf_putc(&sb, *p++);
		}
		if (sb.len > MAPPING_MAX_RESULT)
			break;
	}
	return strbuf_steal(&sb);
}
