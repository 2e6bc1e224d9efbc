/* SPDX-License-Identifier: MIT */
/*
 * Fusion's date functions. Seconds, minutes and hours are added to the
 * instant; days, months and years, and every set* function, work on the
 * wall clock of the scenario's zone (moment-timezone's rules, which
 * Fusion uses), so addDays across a DST change keeps the time of day.
 * A null date gives null, so a missing field does not stop the run.
 */
#include "scenarios/mapping_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenarios/mapping_date.h"
#include "util/json.h"
#include "util/tz.h"
#include "util/xalloc.h"

/* Reads the date in argument 0; *ret_null when it is null. */
static int date_arg0(struct eval *ev, const struct node *call, const struct call_args *args,
		     int64_t *ret_ms, bool *ret_null)
{
	*ret_null = cJSON_IsNull(args->v[0]);
	if (*ret_null)
		return 0;
	return arg_date(ev, call, args, 0, ret_ms);
}

/* A zone named in an argument; Fusion falls back to the scenario's zone
 * when the name is not a zone. *ret_owned is what the caller frees. */
static const struct tz *zone_arg(struct eval *ev, const struct call_args *args, size_t i,
				 struct tz **ret_owned)
{
	_cleanup_free_ char *name = NULL;

	*ret_owned = NULL;
	if (!arg_present(args, i))
		return eval_timezone(ev);
	name = arg_text(args, i);
	if (tz_load(name, ret_owned) < 0)
		return eval_timezone(ev);
	return *ret_owned;
}

/* formatDate(date; format; [timezone]) */
static int fn_format_date(struct eval *ev, const struct node *call, const struct call_args *args,
			  cJSON **ret)
{
	_cleanup_(tz_freep) struct tz *owned = NULL;
	_cleanup_free_ char *format = arg_text(args, 1);
	const struct tz *tz;
	int64_t ms;
	bool null;
	int r;

	r = date_arg0(ev, call, args, &ms, &null);
	if (r < 0)
		return r;
	if (null) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	tz = zone_arg(ev, args, 2, &owned);
	return value_string_take(ev, call, date_format(ms, tz, format), ret);
}

/* parseDate(text; format; [timezone]) */
static int fn_parse_date(struct eval *ev, const struct node *call, const struct call_args *args,
			 cJSON **ret)
{
	_cleanup_(tz_freep) struct tz *owned = NULL;
	_cleanup_free_ char *text = NULL, *format = arg_text(args, 1), *err = NULL;
	const struct tz *tz = zone_arg(ev, args, 2, &owned);
	int64_t ms;

	if (cJSON_IsNull(args->v[0])) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	text = arg_text(args, 0);
	if (date_parse(text, format, tz, ev->scope->now_ms, &ms, &err) < 0)
		return eval_fail(ev, call, "parseDate(): %s", err);
	return value_date_new(ev, call, ms, ret);
}

enum unit { U_MS, U_SECOND, U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH, U_YEAR };

static void add_months(struct civil *c, int64_t months)
{
	int64_t m0 = (int64_t)c->month - 1 + months;
	int64_t years = m0 >= 0 ? m0 / 12 : -((-m0 + 11) / 12);
	int dim;

	c->year += years;
	c->month = (int)(m0 - years * 12) + 1;
	dim = date_days_in_month(c->year, c->month);
	if (c->day > dim) /* Jan 31 + 1 month is Feb 28/29 */
		c->day = dim;
}

static int64_t add_unit(int64_t ms, enum unit unit, double n, const struct tz *tz)
{
	struct civil c;

	switch (unit) {
	case U_MS:
		return ms + (int64_t)llround(n);
	case U_SECOND:
		return ms + (int64_t)llround(n * 1000);
	case U_MINUTE:
		return ms + (int64_t)llround(n * 60000);
	case U_HOUR:
		return ms + (int64_t)llround(n * 3600000);
	default:
		break;
	}
	date_to_civil(ms, tz, &c);
	if (unit == U_DAY)
		c.day += (int)llround(n);
	else if (unit == U_WEEK)
		c.day += (int)llround(n) * 7;
	else
		add_months(&c, (int64_t)llround(n) * (unit == U_YEAR ? 12 : 1));
	return date_from_civil(&c, tz);
}

static int add(struct eval *ev, const struct node *call, const struct call_args *args,
	       enum unit unit, cJSON **ret)
{
	int64_t ms;
	double n;
	bool null;
	int r;

	r = date_arg0(ev, call, args, &ms, &null);
	if (r < 0)
		return r;
	if (null) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	r = arg_number(ev, call, args, 1, &n);
	if (r < 0)
		return r;
	/* A bound that keeps every sum below inside int64 and the date range. */
	if (fabs(n) > 1e13)
		return eval_fail(ev, call, "%s(): the amount is out of range", call_name(call));
	return value_date_new(ev, call, add_unit(ms, unit, n, eval_timezone(ev)), ret);
}

#define ADD_FN(fname, unit)                                                                      \
	static int fname(struct eval *ev, const struct node *call, const struct call_args *args, \
			 cJSON **ret)                                                            \
	{                                                                                        \
		return add(ev, call, args, unit, ret);                                           \
	}

ADD_FN(fn_add_seconds, U_SECOND)
ADD_FN(fn_add_minutes, U_MINUTE)
ADD_FN(fn_add_hours, U_HOUR)
ADD_FN(fn_add_days, U_DAY)
ADD_FN(fn_add_months, U_MONTH)
ADD_FN(fn_add_years, U_YEAR)

/* addWeekDays(date; n): n working days (Monday to Friday) on. */
static int fn_add_week_days(struct eval *ev, const struct node *call, const struct call_args *args,
			    cJSON **ret)
{
	const struct tz *tz = eval_timezone(ev);
	struct civil c;
	int64_t ms, n, step;
	bool null;
	int r;

	r = date_arg0(ev, call, args, &ms, &null);
	if (r < 0)
		return r;
	if (null) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	r = arg_int(ev, call, args, 1, &n);
	if (r < 0)
		return r;
	if (n > 3000000 || n < -3000000)
		return eval_fail(ev, call, "addWeekDays(): the amount is out of range");
	date_to_civil(ms, tz, &c);
	step = n < 0 ? -1 : 1;
	/* Whole weeks at once, then the rest a day at a time. */
	c.day += (int)(n / 5 * 7);
	c.wday = (int)(((c.wday + n / 5 * 7) % 7 + 7) % 7);
	for (int64_t left = n % 5; left != 0;) {
		c.day += (int)step;
		c.wday = (int)((c.wday + step + 7) % 7);
		if (c.wday != 0 && c.wday != 6)
			left -= step;
	}
	return value_date_new(ev, call, date_from_civil(&c, tz), ret);
}

enum field { F_SECOND, F_MINUTE, F_HOUR, F_DAY, F_DATE, F_MONTH, F_YEAR };

/* English day or month names for setDay and setMonth ("monday",
 * "January", "jan"), as 1-based numbers. */
static bool name_number(const cJSON *v, const char *const *names, size_t count, int64_t *ret)
{
	if (!cJSON_IsString(v))
		return false;
	for (size_t i = 0; i < count; i++)
		if (strcasecmp(v->valuestring, names[i]) == 0 ||
		    (strlen(v->valuestring) == 3 &&
		     strncasecmp(v->valuestring, names[i], 3) == 0)) {
			*ret = (int64_t)i + 1;
			return true;
		}
	return false;
}

static int set_field(struct eval *ev, const struct node *call, const struct call_args *args,
		     enum field field, cJSON **ret)
{
	static const char *const days[] = { "sunday",	"monday", "tuesday", "wednesday",
					    "thursday", "friday", "saturday" };
	static const char *const months[] = { "january",   "february", "march",	   "april",
					      "may",	   "june",     "july",	   "august",
					      "september", "october",  "november", "december" };
	const struct tz *tz = eval_timezone(ev);
	struct civil c;
	int64_t ms, n;
	bool null;
	int r;

	r = date_arg0(ev, call, args, &ms, &null);
	if (r < 0)
		return r;
	if (null) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	if (!(field == F_DAY && name_number(args->v[1], days, 7, &n)) &&
	    !(field == F_MONTH && name_number(args->v[1], months, 12, &n))) {
		r = arg_int(ev, call, args, 1, &n);
		if (r < 0)
			return r;
	}
	if (n > 1000000 || n < -1000000)
		return eval_fail(ev, call, "%s(): the value is out of range", call_name(call));
	date_to_civil(ms, tz, &c);
	switch (field) {
	case F_SECOND:
		c.second = (int)n;
		break;
	case F_MINUTE:
		c.minute = (int)n;
		break;
	case F_HOUR:
		c.hour = (int)n;
		break;
	case F_DAY: /* 1 = Sunday … 7 = Saturday, in this Sunday-to-Saturday week */
		c.day += (int)n - 1 - c.wday;
		break;
	case F_DATE:
		c.day = (int)n;
		break;
	case F_MONTH:
		add_months(&c, n - c.month);
		break;
	case F_YEAR:
		c.year = n;
		if (c.day > date_days_in_month(c.year, c.month))
			c.day = date_days_in_month(c.year, c.month);
		break;
	}
	return value_date_new(ev, call, date_from_civil(&c, tz), ret);
}

#define SET_FN(fname, field)                                                                     \
	static int fname(struct eval *ev, const struct node *call, const struct call_args *args, \
			 cJSON **ret)                                                            \
	{                                                                                        \
		return set_field(ev, call, args, field, ret);                                    \
	}

SET_FN(fn_set_second, F_SECOND)
SET_FN(fn_set_minute, F_MINUTE)
SET_FN(fn_set_hour, F_HOUR)
SET_FN(fn_set_day, F_DAY)
SET_FN(fn_set_date, F_DATE)
SET_FN(fn_set_month, F_MONTH)
SET_FN(fn_set_year, F_YEAR)

static bool parse_unit(const char *name, enum unit *ret)
{
	static const struct {
		const char *name;
		enum unit unit;
	} units[] = {
		{ "milliseconds", U_MS }, { "seconds", U_SECOND }, { "minutes", U_MINUTE },
		{ "hours", U_HOUR },	  { "days", U_DAY },	   { "weeks", U_WEEK },
		{ "months", U_MONTH },	  { "years", U_YEAR },
	};

	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		size_t len = strlen(units[i].name);

		/* "hours", "hour", "Hours" */
		if (strcasecmp(name, units[i].name) == 0 ||
		    (strlen(name) == len - 1 && strncasecmp(name, units[i].name, len - 1) == 0)) {
			*ret = units[i].unit;
			return true;
		}
	}
	return false;
}

/* moment's monthDiff: whole months from a to b plus the fraction of the
 * month around the anchor, so Jan 31 → Feb 28 is not a whole month. */
static double month_diff(int64_t a, int64_t b, const struct tz *tz)
{
	struct civil ca, cb, anchor;
	int64_t whole, t1, t2;

	date_to_civil(a, tz, &ca);
	date_to_civil(b, tz, &cb);
	if (ca.day < cb.day)
		return -month_diff(b, a, tz);
	whole = (cb.year - ca.year) * 12 + (cb.month - ca.month);
	anchor = ca;
	add_months(&anchor, whole);
	t1 = date_from_civil(&anchor, tz);
	anchor = ca;
	if (b - t1 < 0) {
		add_months(&anchor, whole - 1);
		t2 = date_from_civil(&anchor, tz);
		return (double)whole + (double)(b - t1) / (double)(t1 - t2);
	}
	add_months(&anchor, whole + 1);
	t2 = date_from_civil(&anchor, tz);
	return (double)whole + (double)(b - t1) / (double)(t2 - t1);
}

/* dateDifference(date1; date2; [unit]): date1 − date2, whole units
 * towards zero; milliseconds by default. */
static int fn_date_difference(struct eval *ev, const struct node *call,
			      const struct call_args *args, cJSON **ret)
{
	const struct tz *tz = eval_timezone(ev);
	_cleanup_free_ char *name = NULL;
	enum unit unit = U_MS;
	int64_t a, b;
	double d;
	int r;

	r = arg_date(ev, call, args, 0, &a);
	if (r == 0)
		r = arg_date(ev, call, args, 1, &b);
	if (r < 0)
		return r;
	if (arg_present(args, 2)) {
		name = arg_text(args, 2);
		if (!parse_unit(name, &unit))
			return eval_fail(ev, call, "dateDifference(): unknown unit '%s'", name);
	}
	switch (unit) {
	case U_MONTH:
	case U_YEAR:
		d = -month_diff(a, b, tz) / (unit == U_YEAR ? 12 : 1);
		break;
	case U_DAY:
	case U_WEEK:
		/* Calendar days: a DST change does not make a day short. */
		d = (double)((a - b) +
			     ((int64_t)tz_offset_at(tz, a / 1000) - tz_offset_at(tz, b / 1000)) *
				     1000) /
		    (unit == U_DAY ? 86400000.0 : 604800000.0);
		break;
	default: {
		static const double scale[] = {
			[U_MS] = 1, [U_SECOND] = 1000, [U_MINUTE] = 60000, [U_HOUR] = 3600000
		};

		d = (double)(a - b) / scale[unit];
	}
	}
	return value_number_new(ev, call, trunc(d), ret);
}

enum date_field {
	P_YEAR,
	P_MONTH,
	P_DAY,
	P_WDAY,
	P_HOUR,
	P_MINUTE,
	P_SECOND,
	P_DIM,
	P_DIY,
	P_WEEKEND
};

static int date_part(struct eval *ev, const struct node *call, const struct call_args *args,
		     enum date_field part, cJSON **ret)
{
	struct civil c;
	int64_t ms;
	bool null;
	double v = 0;
	int r;

	r = date_arg0(ev, call, args, &ms, &null);
	if (r < 0)
		return r;
	if (null) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	date_to_civil(ms, eval_timezone(ev), &c);
	switch (part) {
	case P_YEAR:
		v = (double)c.year;
		break;
	case P_MONTH:
		v = c.month;
		break;
	case P_DAY:
		v = c.day;
		break;
	case P_WDAY:
		v = c.wday + 1; /* 1 = Sunday */
		break;
	case P_HOUR:
		v = c.hour;
		break;
	case P_MINUTE:
		v = c.minute;
		break;
	case P_SECOND:
		v = c.second;
		break;
	case P_DIM:
		v = date_days_in_month(c.year, c.month);
		break;
	case P_DIY:
		v = date_days_in_month(c.year, 2) == 29 ? 366 : 365;
		break;
	case P_WEEKEND:
		*ret = cJSON_CreateBool(c.wday == 0 || c.wday == 6);
		return 0;
	}
	return value_number_new(ev, call, v, ret);
}

#define PART_FN(fname, part)                                                                     \
	static int fname(struct eval *ev, const struct node *call, const struct call_args *args, \
			 cJSON **ret)                                                            \
	{                                                                                        \
		return date_part(ev, call, args, part, ret);                                     \
	}

PART_FN(fn_year, P_YEAR)
PART_FN(fn_month, P_MONTH)
PART_FN(fn_day_of_month, P_DAY)
PART_FN(fn_day_of_week, P_WDAY)
PART_FN(fn_hour, P_HOUR)
PART_FN(fn_minute, P_MINUTE)
PART_FN(fn_second, P_SECOND)
PART_FN(fn_days_in_month, P_DIM)
PART_FN(fn_days_in_year, P_DIY)
PART_FN(fn_is_weekend, P_WEEKEND)

static int month_edge(struct eval *ev, const struct node *call, const struct call_args *args,
		      bool end, cJSON **ret)
{
	const struct tz *tz = eval_timezone(ev);
	struct civil c;
	int64_t ms;
	bool null;
	int r;

	r = date_arg0(ev, call, args, &ms, &null);
	if (r < 0)
		return r;
	if (null) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	date_to_civil(ms, tz, &c);
	c.day = 1;
	c.hour = c.minute = c.second = c.ms = 0;
	if (end)
		c.month++;
	ms = date_from_civil(&c, tz);
	return value_date_new(ev, call, end ? ms - 1 : ms, ret);
}

static int fn_start_of_month(struct eval *ev, const struct node *call, const struct call_args *args,
			     cJSON **ret)
{
	return month_edge(ev, call, args, false, ret);
}

static int fn_end_of_month(struct eval *ev, const struct node *call, const struct call_args *args,
			   cJSON **ret)
{
	return month_edge(ev, call, args, true, ret);
}

/* dateMax/dateMin(date1; date2; …), arrays of dates included. */
static int extreme(struct eval *ev, const struct node *call, const struct call_args *args, bool max,
		   cJSON **ret)
{
	bool found = false;
	int64_t best = 0;

	for (size_t i = 0; i < args->n; i++) {
		_cleanup_json_ cJSON *tmp = NULL;
		const cJSON *array = arg_array(args, i, &tmp), *item;

		cJSON_ArrayForEach(item, array) {
			int64_t ms;

			if (cJSON_IsNull(item))
				continue;
			if (value_to_date(item, eval_timezone(ev), &ms) < 0)
				return eval_fail(ev, call, "%s(): argument %zu is not a date",
						 call_name(call), i + 1);
			if (!found || (max ? ms > best : ms < best))
				best = ms;
			found = true;
		}
	}
	if (!found) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	return value_date_new(ev, call, best, ret);
}

static int fn_date_max(struct eval *ev, const struct node *call, const struct call_args *args,
		       cJSON **ret)
{
	return extreme(ev, call, args, true, ret);
}

static int fn_date_min(struct eval *ev, const struct node *call, const struct call_args *args,
		       cJSON **ret)
{
	return extreme(ev, call, args, false, ret);
}

const struct mapping_function mapping_functions_date[] = {
	{ .name = "formatDate", .min_args = 2, .max_args = 3, .fn = fn_format_date },
	{ .name = "parseDate", .min_args = 2, .max_args = 3, .fn = fn_parse_date },
	{ .name = "addSeconds", .min_args = 2, .max_args = 2, .fn = fn_add_seconds },
	{ .name = "addMinutes", .min_args = 2, .max_args = 2, .fn = fn_add_minutes },
	{ .name = "addHours", .min_args = 2, .max_args = 2, .fn = fn_add_hours },
	{ .name = "addDays", .min_args = 2, .max_args = 2, .fn = fn_add_days },
	{ .name = "addWeekDays", .min_args = 2, .max_args = 2, .fn = fn_add_week_days },
	{ .name = "addMonths", .min_args = 2, .max_args = 2, .fn = fn_add_months },
	{ .name = "addYears", .min_args = 2, .max_args = 2, .fn = fn_add_years },
	{ .name = "setSecond", .min_args = 2, .max_args = 2, .fn = fn_set_second },
	{ .name = "setMinute", .min_args = 2, .max_args = 2, .fn = fn_set_minute },
	{ .name = "setHour", .min_args = 2, .max_args = 2, .fn = fn_set_hour },
	{ .name = "setDay", .min_args = 2, .max_args = 2, .fn = fn_set_day },
	{ .name = "setDate", .min_args = 2, .max_args = 2, .fn = fn_set_date },
	{ .name = "setMonth", .min_args = 2, .max_args = 2, .fn = fn_set_month },
	{ .name = "setYear", .min_args = 2, .max_args = 2, .fn = fn_set_year },
	{ .name = "dateDifference", .min_args = 2, .max_args = 3, .fn = fn_date_difference },
	{ .name = "year", .min_args = 1, .max_args = 1, .fn = fn_year },
	{ .name = "month", .min_args = 1, .max_args = 1, .fn = fn_month },
	{ .name = "dayOfMonth", .min_args = 1, .max_args = 1, .fn = fn_day_of_month },
	{ .name = "dayOfWeek", .min_args = 1, .max_args = 1, .fn = fn_day_of_week },
	{ .name = "hour", .min_args = 1, .max_args = 1, .fn = fn_hour },
	{ .name = "minute", .min_args = 1, .max_args = 1, .fn = fn_minute },
	{ .name = "second", .min_args = 1, .max_args = 1, .fn = fn_second },
	{ .name = "daysInMonth", .min_args = 1, .max_args = 1, .fn = fn_days_in_month },
	{ .name = "daysInYear", .min_args = 1, .max_args = 1, .fn = fn_days_in_year },
	{ .name = "isWeekend", .min_args = 1, .max_args = 1, .fn = fn_is_weekend },
	{ .name = "startOfMonth", .min_args = 1, .max_args = 1, .fn = fn_start_of_month },
	{ .name = "endOfMonth", .min_args = 1, .max_args = 1, .fn = fn_end_of_month },
	{ .name = "dateMax", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_date_max },
	{ .name = "dateMin", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_date_min },
	{ .name = NULL },
};
