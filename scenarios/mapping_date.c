/* SPDX-License-Identifier: MIT */
/*
 * Dates inside the mapping language. A date is ISO 8601 UTC text with
 * milliseconds ("2026-11-28T18:00:00.000Z"); functions also accept any
 * ISO 8601 text (one without an offset is wall-clock time in the
 * scenario's zone, as Fusion reads it) and numbers of epoch milliseconds.
 * Calendar work (set*, add* by days and more, formatting) happens in the
 * scenario's time zone, through struct civil.
 */
#include "scenarios/mapping_date.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "scenarios/mapping_internal.h"
#include "util/timeutil.h"
#include "util/tz.h"

/* 0000-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z: what ISO text
 * with four year digits can say. */
#define DATE_MIN_MS (-62167219200000LL)
#define DATE_MAX_MS 253402300799999LL

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void date_to_civil(int64_t ms, const struct tz *tz, struct civil *c)
{
	int64_t secs = floor_div(ms, 1000), local, days, rest;

	c->offset = tz_offset_at(tz, secs);
	local = secs + c->offset;
	days = floor_div(local, 86400);
	rest = local - days * 86400;
	tz_civil_from_days(days, &c->year, &c->month, &c->day);
	c->hour = (int)(rest / 3600);
	c->minute = (int)(rest / 60 % 60);
	c->second = (int)(rest % 60);
	c->ms = (int)(ms - secs * 1000);
	c->wday = (int)(((days + 4) % 7 + 7) % 7);
	c->yday = (int)(days - tz_days_from_civil(c->year, 1, 1)) + 1;
}

int64_t date_from_civil(const struct civil *c, const struct tz *tz)
{
	int64_t month0 = (int64_t)c->month - 1;
	int64_t year = c->year + floor_div(month0, 12);
	int month = (int)(month0 - floor_div(month0, 12) * 12) + 1;
	int64_t days = tz_days_from_civil(year, month, 1) + (int64_t)c->day - 1;
	int64_t local =
		days * 86400 + (int64_t)c->hour * 3600 + (int64_t)c->minute * 60 + c->second;

	return tz_local_to_utc(tz, local) * 1000 + c->ms;
}

int date_days_in_month(int64_t year, int month)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mdays[month - 1] + (month == 2 && leap);
}

const struct tz *eval_timezone(struct eval *ev)
{
	if (ev->scope->tz)
		return ev->scope->tz;
	if (!ev->tz_loaded) {
		ev->tz_loaded = true;
		/* The loader validated the name; an unknown zone reads as UTC. */
		if (ev->scope->timezone && *ev->scope->timezone)
			(void)tz_load(ev->scope->timezone, &ev->tz);
	}
	return ev->tz;
}

/* Whether ISO text names its offset ("Z", "+01:00"): only the part after
 * the date can, since the date itself holds '-'. */
static bool has_offset(const char *text)
{
	const char *time = strpbrk(text, "T ");

	return time && strpbrk(time, "Z+-") != NULL;
}

int value_to_date(const cJSON *v, const struct tz *tz, int64_t *ret_ms)
{
	int64_t ms;

	if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble) || v->valuedouble < (double)DATE_MIN_MS ||
		    v->valuedouble > (double)DATE_MAX_MS)
			return -ERANGE;
		*ret_ms = (int64_t)floor(v->valuedouble);
		return 0;
	}
	if (!cJSON_IsString(v) || time_parse_iso(v->valuestring, &ms) < 0)
		return -EINVAL;
	if (tz && !has_offset(v->valuestring)) {
		int64_t secs = floor_div(ms, 1000);

		ms = tz_local_to_utc(tz, secs) * 1000 + (ms - secs * 1000);
	}
	*ret_ms = ms;
	return 0;
}

int arg_date(struct eval *ev, const struct node *call, const struct call_args *args, size_t i,
	     int64_t *ret_ms)
{
	const cJSON *v = i < args->n ? args->v[i] : &mapping_null;

	if (value_to_date(v, eval_timezone(ev), ret_ms) == 0)
		return 0;
	return eval_fail(ev, call, "%s(): argument %zu must be a date, got %s", call_name(call),
			 i + 1, cJSON_IsString(v) ? "text that is not a date" : value_type_name(v));
}

int value_date_new(struct eval *ev, const struct node *at, int64_t ms, cJSON **ret)
{
	char buf[32];

	if (ms < DATE_MIN_MS || ms > DATE_MAX_MS)
		return eval_fail(ev, at, "the date is out of range (years 0 to 9999)");
	time_format_iso(ms, buf, sizeof(buf));
	*ret = cJSON_CreateString(buf);
	return 0;
}
