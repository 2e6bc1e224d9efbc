/* SPDX-License-Identifier: MIT */
/*
 * `schedule:` (scenario-format.md "Schedules"): on-demand, instant, an
 * interval, one instant, daily/weekly/monthly times, a list of dates, or a
 * five-field cron line. Everything is checked here, field by field, so the
 * scheduler only ever sees valid data: times become minutes after midnight,
 * days become bit sets and instants without an offset are read in the
 * scenario's time zone. The cron line is kept as written, for the
 * scheduler to read again; every field was checked here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenarios/internal.h"
#include "util/diag.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "util/units.h"
#include "util/xalloc.h"

#define MAX_TIMES 100 /* times of day in one schedule */
#define MAX_INSTANTS 1000 /* `dates:` */
#define MIN_INTERVAL_MS (60 * 1000)
#define MAX_INTERVAL_MS ((int64_t)366 * 86400 * 1000)

static const char *const forms[] = {
	"on-demand", "instant", "interval", "once", "daily",
	"weekly",    "monthly", "dates",    "cron", NULL,
};

static const char *const weekdays[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

void schedule_done(struct schedule *schedule)
{
	free(schedule->instants);
	free(schedule->times);
	free(schedule->cron);
	*schedule = (struct schedule){ 0 };
}

/* A scalar or a list of scalars, as `at: "09:00"` and `at: ["09:00"]` both
 * read naturally; calls `fn` on each. */
static void for_each_item(struct loader *l, const struct yaml_node *node, const char *what,
			  size_t max, void (*fn)(struct loader *, const struct yaml_node *, void *),
			  void *userdata)
{
	if (yaml_node_is_null(node)) {
		loader_error(l, node, "schedule: %s must not be empty", what);
		return;
	}
	if (node->kind == YAML_NODE_SCALAR) {
		fn(l, node, userdata);
		return;
	}
	if (node->kind != YAML_NODE_SEQUENCE || node->count == 0) {
		loader_error(l, node, "schedule: %s must be a value or a non-empty list", what);
		return;
	}
	if (node->count > max) {
		loader_error(l, node, "schedule: %s lists more than %zu values", what, max);
		return;
	}
	for (size_t i = 0; i < node->count; i++) {
		if (node->items[i]->kind != YAML_NODE_SCALAR)
			loader_error(l, node->items[i], "schedule: %s must hold single values",
				     what);
		else
			fn(l, node->items[i], userdata);
	}
}

static void add_time(struct loader *l, const struct yaml_node *node, void *userdata)
{
	struct schedule *s = userdata;
	const char *t = node->value;
	unsigned hh, mm;
	int n = 0;

	if (strspn(t, "0123456789:") != strlen(t) || strlen(t) < 4 || t[strlen(t) - 3] != ':' ||
	    sscanf(t, "%2u:%2u%n", &hh, &mm, &n) != 2 || t[n] != '\0' || hh > 23 || mm > 59) {
		loader_error(l, node, "schedule: '%s' is not a time of day (HH:MM, 00:00 to 23:59)",
			     t);
		return;
	}
	for (size_t i = 0; i < s->time_count; i++)
		if (s->times[i] == (int)(hh * 60 + mm))
			return;
	s->times = xrealloc(s->times, (s->time_count + 1) * sizeof(*s->times));
	s->times[s->time_count++] = (int)(hh * 60 + mm);
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int compare_int64s(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void load_times(struct loader *l, const struct yaml_node *node, struct schedule *s)
{
	for_each_item(l, node, "the times", MAX_TIMES, add_time, s);
	if (s->time_count > 1)
		qsort(s->times, s->time_count, sizeof(*s->times), compare_ints);
}

static void add_weekday(struct loader *l, const struct yaml_node *node, void *userdata)
{
	struct schedule *s = userdata;
	const char *hint;

	for (int d = 0; weekdays[d]; d++)
		if (strcasecmp(node->value, weekdays[d]) == 0) {
			s->weekdays |= (uint8_t)(1u << d);
			return;
		}
	hint = diag_did_you_mean(node->value, weekdays);
	loader_error(l, node,
		     "schedule: '%s' is not a day of the week (mon, tue, wed, thu, fri, "
		     "sat, sun)%s%s%s",
		     node->value, hint ? " (did you mean '" : "", hint ? hint : "",
		     hint ? "'?)" : "");
}

static void add_monthday(struct loader *l, const struct yaml_node *node, void *userdata)
{
	struct schedule *s = userdata;
	int64_t day;

	if (streq(node->value, "last")) {
		s->monthdays |= 1u;
		return;
	}
	if (yaml_node_get_int(node, &day) < 0 || day < 1 || day > 31) {
		loader_error(l, node, "schedule: '%s' is not a day of the month (1 to 31, or last)",
			     node->value);
		return;
	}
	s->monthdays |= 1u << day;
}

/* `weekly: {days: [...], at: [...]}` and `monthly:` alike. */
static void load_days(struct loader *l, const struct yaml_node *node, bool weekly)
{
	static const char *const keys[] = { "days", "at", NULL };
	struct schedule *s = &l->scenario->schedule;
	const struct yaml_node *days, *at;

	if (node->kind != YAML_NODE_MAPPING) {
		loader_error(l, node, "schedule: %s needs a map {days: [...], at: [\"HH:MM\"]}",
			     weekly ? "weekly" : "monthly");
		return;
	}
	loader_keys_check(l, node, keys, "schedule: ");
	days = yaml_node_get(node, "days");
	at = yaml_node_get(node, "at");
	if (!yaml_node_get_pair(node, "days"))
		loader_error(l, node, "schedule: %s needs 'days'", weekly ? "weekly" : "monthly");
	else
		for_each_item(l, days, "'days'", 31, weekly ? add_weekday : add_monthday, s);
	if (!yaml_node_get_pair(node, "at"))
		loader_error(l, node, "schedule: %s needs 'at' (times of day)",
			     weekly ? "weekly" : "monthly");
	else
		load_times(l, at, s);
}

static bool has_offset(const char *text)
{
	const char *t = strpbrk(text, "Tt ");

	return t && strpbrk(t, "Zz+-");
}

static void add_instant(struct loader *l, const struct yaml_node *node, void *userdata)
{
	struct schedule *s = userdata;
	int64_t ms;

	if (time_parse_iso(node->value, &ms) < 0) {
		loader_error(l, node,
			     "schedule: '%s' is not an ISO 8601 date and time "
			     "(2026-12-01T08:00)",
			     node->value);
		return;
	}
	/* Without an offset the time is on the scenario's clock. */
	if (!has_offset(node->value)) {
		int64_t local_s = ms / 1000 - (ms % 1000 < 0);

		ms = tz_local_to_utc(l->tz, local_s) * 1000 + (ms - local_s * 1000);
	}
	s->instants = xrealloc(s->instants, (s->instant_count + 1) * sizeof(*s->instants));
	s->instants[s->instant_count++] = ms;
}

static void load_interval(struct loader *l, const struct yaml_node *node)
{
	struct schedule *s = &l->scenario->schedule;
	int64_t ms;

	if (node->kind != YAML_NODE_SCALAR || units_parse_duration(node->value, &ms) < 0) {
		_cleanup_free_ char *got = loader_describe(node);

		loader_error(l, node, "schedule: interval: expected a duration like '15m', got %s",
			     got);
		return;
	}
	if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
		loader_error(l, node, "schedule: interval '%s' is out of range (1m to 366d)",
			     node->value);
		return;
	}
	s->interval_ms = ms;
}

static const char *const months[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL,
};

struct cron_field {
	const char *name;
	int min, max;
	const char *const *names; /* names[i] stands for min + i... */
	int first_name; /* ...plus this: months start at 1, days at 0 */
};

static const struct cron_field cron_fields[5] = {
	{ "minute", 0, 59, NULL, 0 },	      { "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },   { "month", 1, 12, months, 1 },
	{ "day of week", 0, 7, weekdays, 0 }, /* 0 and 7 are both Sunday */
};

struct cron_check {
	struct loader *l;
	const struct yaml_node *node;
	const struct cron_field *field;
	int problems;
};

static void cron_error(struct cron_check *c, size_t offset, const char *fmt, ...) _printf_(3, 4);

static void cron_error(struct cron_check *c, size_t offset, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	loader_error_at(c->l, loader_offset_pos(c->node, offset), "schedule: cron %s field: %s",
			c->field->name, msg);
	c->problems++;
}

/* One value of a field: a number or (months, weekdays) a name. Returns the
 * value or -1 after reporting. */
static int cron_value(struct cron_check *c, const char *text, size_t len, size_t offset)
{
	const struct cron_field *f = c->field;
	_cleanup_free_ char *word = xstrndup(text, len);
	long v;

	if (len > 0 && strspn(word, "0123456789") == len) {
		v = len > 3 ? 1000 : strtol(word, NULL, 10);
		if (v < f->min || v > f->max) {
			cron_error(c, offset, "'%s' is out of range %d-%d", word, f->min, f->max);
			return -1;
		}
		return (int)v;
	}
	for (int i = 0; f->names && f->names[i]; i++)
		if (strcasecmp(word, f->names[i]) == 0)
			return i + f->first_name;
	cron_error(c, offset, "'%s' is not a %s%s", word,
		   f->names ? "number or name in" : "number in", " the field's range");
	return -1;
}

/* One comma-separated item: *, N, A-B, each optionally /STEP. */
static void cron_item(struct cron_check *c, const char *text, size_t len, size_t offset)
{
	const struct cron_field *f = c->field;
	const char *slash = memchr(text, '/', len);
	size_t base_len = slash ? (size_t)(slash - text) : len;
	const char *dash = memchr(text, '-', base_len);
	int a, b;

	if (len == 0) {
		cron_error(c, offset, "empty list item");
		return;
	}
	if (base_len == 1 && text[0] == '*') {
		a = f->min;
		b = f->max;
	} else if (dash) {
		a = cron_value(c, text, (size_t)(dash - text), offset);
		b = cron_value(c, dash + 1, base_len - (size_t)(dash - text) - 1,
			       offset + (size_t)(dash - text) + 1);
		if (a < 0 || b < 0)
			return;
		if (a > b) {
			cron_error(c, offset, "range '%.*s' runs backwards", (int)base_len, text);
			return;
		}
	} else {
		a = b = cron_value(c, text, base_len, offset);
		if (a < 0)
			return;
	}
	if (slash) {
		size_t step_len = len - base_len - 1;
		_cleanup_free_ char *step = xstrndup(slash + 1, step_len);
		long n = step_len > 0 && step_len <= 3 && strspn(step, "0123456789") == step_len ?
				 strtol(step, NULL, 10) :
				 0;

		if (n < 1 || n > f->max - f->min + 1)
			cron_error(c, offset + base_len + 1, "step '%s' must be 1 to %d", step,
				   f->max - f->min + 1);
	}
}

static void cron_field_check(struct cron_check *c, const char *text, size_t len, size_t offset)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != ',')
			continue;
		cron_item(c, text + start, i - start, offset + start);
		start = i + 1;
	}
}

/* Checks a five-field cron line field by field, reporting at the column of
 * each bad item. Returns 0 or -EINVAL. */
static int schedule_cron_check(struct loader *l, const struct yaml_node *node)
{
	struct cron_check c = { .l = l, .node = node };
	const char *text;
	size_t starts[5], lens[5], n = 0, i = 0;

	if (node->kind != YAML_NODE_SCALAR) {
		loader_error(l, node,
			     "schedule: cron takes one line of five fields, "
			     "such as \"*/5 * * * *\"");
		return -EINVAL;
	}
	text = node->value;
	while (text[i]) {
		size_t len;

		i += strspn(text + i, " \t");
		len = strcspn(text + i, " \t");
		if (len == 0)
			break;
		if (n < 5) {
			starts[n] = i;
			lens[n] = len;
		}
		n++;
		i += len;
	}
	if (n != 5) {
		loader_error(l, node,
			     "schedule: cron needs five fields (minute hour "
			     "day-of-month month day-of-week), found %zu",
			     n);
		return -EINVAL;
	}
	for (size_t f = 0; f < 5; f++) {
		c.field = &cron_fields[f];
		cron_field_check(&c, text + starts[f], lens[f], starts[f]);
	}
	return c.problems ? -EINVAL : 0;
}

static void load_form(struct loader *l, const char *form, const struct yaml_node *value)
{
	struct schedule *s = &l->scenario->schedule;

	if (streq(form, "interval")) {
		s->kind = SCHEDULE_INTERVAL;
		load_interval(l, value);
	} else if (streq(form, "once")) {
		s->kind = SCHEDULE_ONCE;
		if (value->kind != YAML_NODE_SCALAR)
			loader_error(l, value, "schedule: once takes one date and time");
		else
			for_each_item(l, value, "'once'", 1, add_instant, s);
	} else if (streq(form, "dates")) {
		s->kind = SCHEDULE_DATES;
		for_each_item(l, value, "'dates'", MAX_INSTANTS, add_instant, s);
		if (s->instant_count > 1)
			qsort(s->instants, s->instant_count, sizeof(*s->instants), compare_int64s);
	} else if (streq(form, "daily")) {
		s->kind = SCHEDULE_DAILY;
		load_times(l, value, s);
	} else if (streq(form, "weekly")) {
		s->kind = SCHEDULE_WEEKLY;
		load_days(l, value, true);
	} else if (streq(form, "monthly")) {
		s->kind = SCHEDULE_MONTHLY;
		load_days(l, value, false);
	} else if (streq(form, "cron")) {
		s->kind = SCHEDULE_CRON;
		if (schedule_cron_check(l, value) == 0)
			s->cron = xstrdup(value->value);
	}
}

static void load_word(struct loader *l, const struct yaml_node *node)
{
	const char *hint;

	if (streq(node->value, "on-demand")) {
		l->scenario->schedule.kind = SCHEDULE_ON_DEMAND;
		return;
	}
	if (streq(node->value, "instant")) {
		l->scenario->schedule.kind = SCHEDULE_INSTANT;
		return;
	}
	hint = diag_did_you_mean(node->value, forms);
	if (hint)
		loader_error(l, node, "unknown schedule '%s' (did you mean '%s'?)", node->value,
			     hint);
	else
		loader_error(l, node,
			     "unknown schedule '%s': on-demand, instant, or a map such as "
			     "{interval: 15m}",
			     node->value);
}

void schedule_load(struct loader *l, const struct yaml_node *node)
{
	const struct yaml_pair *pair;

	l->scenario->schedule.kind = SCHEDULE_ON_DEMAND;
	if (!node)
		return;
	if (node->kind == YAML_NODE_SCALAR && !yaml_node_is_null(node)) {
		load_word(l, node);
		return;
	}
	if (node->kind != YAML_NODE_MAPPING || node->count == 0) {
		loader_error(l, node,
			     "'schedule' must be on-demand, instant, or a map with one of "
			     "interval, once, daily, weekly, monthly, dates, cron");
		return;
	}
	loader_keys_check(l, node, forms + 2, "schedule: ");
	if (node->count > 1) {
		loader_error(l, node->pairs[1].key, "schedule: one form only, found '%s' and '%s'",
			     node->pairs[0].key->value, node->pairs[1].key->value);
		return;
	}
	pair = &node->pairs[0];
	if (yaml_node_is_null(pair->value)) {
		loader_error(l, pair->value, "schedule: %s needs a value", pair->key->value);
		return;
	}
	load_form(l, pair->key->value, pair->value);
}
