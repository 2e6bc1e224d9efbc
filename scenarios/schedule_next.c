/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's calendar: the first slot of a schedule after an instant,
 * in the scenario's time zone, and the two texts the daemon keeps next to
 * it (a description for `scenarioctl status`, a key for stored next runs).
 * Calendar forms (daily, weekly, monthly, cron) walk local days, and within
 * a matching day only the listed minutes, turning each wall-clock candidate
 * into an instant with tz_local_to_utc_exact(): a time in a spring-forward
 * gap does not exist that day and is skipped, a time repeated by a fall-back
 * gets its earlier instant only, so nothing runs twice. That mapping keeps
 * the order of wall-clock times, so the first candidate after the instant
 * is the answer. Nothing is iterated minute by minute: the common forms
 * cost a few zone look-ups, and a cron line that never matches gives up
 * after HORIZON_DAYS. The cron line, validated by schedule.c at load, is
 * parsed again here on every call, failing safe (no slot) if it cannot be.
 */
#include "scenarios/schedule.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "scenarios/scenario.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "util/xalloc.h"

/* Eight years: the longest wait for a February 29th (2096 to 2104). */
#define HORIZON_DAYS (8 * 366)
/* Instants beyond about 35,000 years from 1970 have no slot, so that no
 * day or second arithmetic below can overflow. */
#define MAX_ABS_MS ((int64_t)1 << 50)
#define MINUTES_PER_DAY 1440

/* The sets a cron line stands for, with Vixie's day rule: when both day
 * fields are restricted (neither starts with '*') a day matches if either
 * does, otherwise it must match both. */
struct cron {
	uint64_t minutes; /* bit m: minute m */
	uint32_t hours; /* bit h: hour h */
	uint32_t mdays; /* bit d: day d of the month (1..31) */
	uint32_t months; /* bit m: month m (1..12) */
	uint32_t wdays; /* bit d: weekday d, 0 = Sunday (7 folded into 0) */
	bool mday_star; /* the day-of-month field starts with '*' */
	bool wday_star; /* the day-of-week field starts with '*' */
};

struct cron_range {
	int min, max;
	const char *const *names; /* names[i] stands for i + first_name */
	int first_name;
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL,
};

static const char *const wday_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct cron_range cron_ranges[5] = {
	{ 0, 59, NULL, 0 }, /* minute */
	{ 0, 23, NULL, 0 }, /* hour */
	{ 1, 31, NULL, 0 }, /* day of month */
	{ 1, 12, month_names, 1 }, /* month */
	{ 0, 7, wday_names, 0 }, /* day of week: 0 and 7 are Sunday */
};

static const char *const kind_names[] = {
	[SCHEDULE_ON_DEMAND] = "on-demand", [SCHEDULE_INSTANT] = "instant",
	[SCHEDULE_INTERVAL] = "interval",   [SCHEDULE_ONCE] = "once",
	[SCHEDULE_DAILY] = "daily",	    [SCHEDULE_WEEKLY] = "weekly",
	[SCHEDULE_MONTHLY] = "monthly",	    [SCHEDULE_DATES] = "dates",
	[SCHEDULE_CRON] = "cron",
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* `len` digits (at most 3) as a number in [lo, hi]; -1 otherwise. */
static int parse_number(const char *text, size_t len, int lo, int hi)
{
	int v = 0;

	if (len == 0 || len > 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

/* A number or (months, weekdays) a name, exactly `len` characters. */
static int parse_value(const struct cron_range *r, const char *text, size_t len)
{
	for (size_t i = 0; r->names && r->names[i]; i++)
		if (strlen(r->names[i]) == len && strncasecmp(text, r->names[i], len) == 0)
			return (int)i + r->first_name;
	return parse_number(text, len, r->min, r->max);
}

/* One comma-separated item: *, N, A-B, each with an optional /STEP. N/STEP
 * runs from N to the end of the range, as in cronie. Adds to `bits`;
 * returns 0 or -EINVAL. */
static int parse_item(const struct cron_range *r, const char *text, size_t len, uint64_t *bits)
{
	const char *slash = memchr(text, '/', len);
	size_t base = slash ? (size_t)(slash - text) : len;
	const char *dash = memchr(text, '-', base);
	int a, b, step = 1;

	if (base == 1 && text[0] == '*') {
		a = r->min;
		b = r->max;
	} else if (dash) {
		a = parse_value(r, text, (size_t)(dash - text));
		b = parse_value(r, dash + 1, base - (size_t)(dash - text) - 1);
	} else {
		a = parse_value(r, text, base);
		b = slash ? r->max : a;
	}
	if (a < 0 || b < a)
		return -EINVAL;
	if (slash) {
		step = parse_number(slash + 1, len - base - 1, 1, r->max - r->min + 1);
		if (step < 0)
			return -EINVAL;
	}
	for (int v = a; v <= b; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

static int parse_field(const struct cron_range *r, const char *text, size_t len, uint64_t *ret)
{
	uint64_t bits = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != ',')
			continue;
		if (parse_item(r, text + start, i - start, &bits) < 0)
			return -EINVAL;
		start = i + 1;
	}
	*ret = bits;
	return 0;
}

/* Parses the five fields of `line`. Returns 0 or -EINVAL. */
static int parse_cron(const char *line, struct cron *ret)
{
	uint64_t bits[5];
	const char *p = line;
	bool star[5];

	if (!line)
		return -EINVAL;
	for (size_t f = 0; f < 5; f++) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 0 || parse_field(&cron_ranges[f], p, len, &bits[f]) < 0)
			return -EINVAL;
		star[f] = p[0] == '*';
		p += len;
	}
	if (p[strspn(p, " \t")] != '\0')
		return -EINVAL;
	*ret = (struct cron){
		.minutes = bits[0],
		.hours = (uint32_t)bits[1],
		.mdays = (uint32_t)bits[2],
		.months = (uint32_t)bits[3],
		.wdays = (uint32_t)((bits[4] | bits[4] >> 7) & 0x7f),
		.mday_star = star[2],
		.wday_star = star[4],
	};
	return 0;
}

/* A local calendar day, stepped forward without redoing civil arithmetic. */
struct day {
	int64_t days; /* since 1970-01-01 */
	int64_t year;
	int month; /* 1..12 */
	int mday; /* 1..length */
	int length; /* days in this month */
	int wday; /* 0 = Sunday */
};

static int month_length(int64_t year, int month)
{
	static const int lengths[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return lengths[month - 1] + (month == 2 && leap);
}

static void set_day(struct day *d, int64_t days)
{
	d->days = days;
	tz_civil_from_days(days, &d->year, &d->month, &d->mday);
	d->length = month_length(d->year, d->month);
	/* 1970-01-01 was a Thursday. */
	d->wday = (int)(((days + 4) % 7 + 7) % 7);
}

static void step_day(struct day *d)
{
	d->days++;
	d->wday = (d->wday + 1) % 7;
	if (++d->mday <= d->length)
		return;
	d->mday = 1;
	if (++d->month > 12) {
		d->month = 1;
		d->year++;
	}
	d->length = month_length(d->year, d->month);
}

/* What a calendar form needs while walking days. */
struct plan {
	const struct schedule *schedule;
	struct cron cron; /* SCHEDULE_CRON */
};

static bool month_matches(const struct plan *p, const struct day *d)
{
	return p->schedule->kind != SCHEDULE_CRON || (p->cron.months & (1u << d->month));
}

static bool day_matches(const struct plan *p, const struct day *d)
{
	const struct schedule *s = p->schedule;
	const struct cron *c = &p->cron;
	bool mday, wday;

	switch (s->kind) {
	case SCHEDULE_DAILY:
		return true;
	case SCHEDULE_WEEKLY:
		return s->weekdays & (1u << d->wday);
	case SCHEDULE_MONTHLY:
		return (s->monthdays & (1u << d->mday)) ||
		       ((s->monthdays & 1u) && d->mday == d->length);
	case SCHEDULE_CRON:
		mday = c->mdays & (1u << d->mday);
		wday = c->wdays & (1u << d->wday);
		if (!c->mday_star && !c->wday_star)
			return mday || wday;
		return mday && wday;
	default:
		return false;
	}
}

/* The first minute of the day at or after `from` that the plan lists, or
 * -1. Times are sorted; cron hours and minutes are bit sets. */
static int next_minute(const struct plan *p, int from)
{
	const struct schedule *s = p->schedule;

	if (s->kind != SCHEDULE_CRON) {
		for (size_t i = 0; i < s->time_count; i++)
			if (s->times[i] >= from && s->times[i] < MINUTES_PER_DAY)
				return s->times[i];
		return -1;
	}
	for (int h = from / 60, m = from % 60; h < 24; h++, m = 0) {
		uint64_t left;

		if (!(p->cron.hours & (1u << h)))
			continue;
		left = p->cron.minutes & (~(uint64_t)0 << m);
		if (left)
			return h * 60 + __builtin_ctzll(left);
	}
	return -1;
}

/* The first slot of day `d` from minute `from` on whose instant is after
 * `after_s`. Returns 0 with it, or -ENOENT. */
static int first_in_day(const struct plan *p, const struct tz *tz, const struct day *d, int from,
			int64_t after_s, int64_t *ret_s)
{
	for (int m = next_minute(p, from); m >= 0; m = next_minute(p, m + 1)) {
		int64_t utc;

		if (tz_local_to_utc_exact(tz, d->days * 86400 + m * 60, &utc) < 0)
			continue; /* in a gap: this time does not exist today */
		if (utc > after_s) {
			*ret_s = utc;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Walks local days from the earliest wall-clock minute that could still map
 * after `after_ms`: no zone's offset changes more than once in two days, so
 * a wall-clock time at or before `after_s` plus the smallest offset in
 * effect within a day of it maps at or before `after_s`. Returns the slot in
 * epoch ms, or 0 when none within the horizon.
 */
static int64_t walk_days(const struct plan *p, const struct tz *tz, int64_t after_ms)
{
	int64_t after_s = floor_div(after_ms, 1000), first, end, slot;
	int32_t lowest = tz_offset_at(tz, after_s);
	struct day d;
	int from;

	for (int i = -1; i <= 1; i += 2) {
		int32_t offset = tz_offset_at(tz, after_s + i * 86400);

		lowest = offset < lowest ? offset : lowest;
	}
	first = floor_div(after_s + lowest, 60) + 1;
	from = (int)(first - floor_div(first, MINUTES_PER_DAY) * MINUTES_PER_DAY);
	set_day(&d, floor_div(first, MINUTES_PER_DAY));
	for (end = d.days + HORIZON_DAYS; d.days <= end; from = 0) {
		if (!month_matches(p, &d)) {
			set_day(&d, d.days + d.length - d.mday + 1);
			continue;
		}
		if (day_matches(p, &d) && first_in_day(p, tz, &d, from, after_s, &slot) == 0)
			return slot * 1000;
		step_day(&d);
	}
	return 0;
}

/* The first of the sorted instants after `after_ms`, or 0. */
static int64_t next_instant(const struct schedule *s, int64_t after_ms)
{
	size_t lo = 0, hi = s->instant_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->instants[mid] <= after_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->instant_count ? s->instants[lo] : 0;
}

int64_t schedule_next(const struct schedule *schedule, const struct tz *tz, int64_t after_ms)
{
	struct plan plan = { .schedule = schedule };

	switch (schedule->kind) {
	case SCHEDULE_INTERVAL:
		if (schedule->interval_ms <= 0 || after_ms > INT64_MAX - schedule->interval_ms)
			return 0;
		return after_ms + schedule->interval_ms;
	case SCHEDULE_ONCE:
	case SCHEDULE_DATES:
		return next_instant(schedule, after_ms);
	case SCHEDULE_CRON:
		if (parse_cron(schedule->cron, &plan.cron) < 0)
			return 0;
		/* fall through */
	case SCHEDULE_DAILY:
	case SCHEDULE_WEEKLY:
	case SCHEDULE_MONTHLY:
		if (after_ms < -MAX_ABS_MS || after_ms > MAX_ABS_MS)
			return 0;
		return walk_days(&plan, tz, after_ms);
	default:
		return 0;
	}
}

/* ---- texts ---- */

static const char *kind_to_string(enum schedule_kind kind)
{
	if ((unsigned)kind >= ELEMENTSOF(kind_names) || !kind_names[kind])
		return "unknown";
	return kind_names[kind];
}

/* The largest units first, parts that are zero left out: 15m, 1h30m, 1d12h. */
static void put_interval(struct strbuf *sb, int64_t ms)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};

	if (ms <= 0) {
		strbuf_printf(sb, "%lldms", (long long)ms);
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (ms >= units[i].ms)
			strbuf_printf(sb, "%lld%s", (long long)(ms / units[i].ms), units[i].suffix);
		ms %= units[i].ms;
	}
}

static void put_times(struct strbuf *sb, const struct schedule *s, const char *sep)
{
	for (size_t i = 0; i < s->time_count; i++)
		strbuf_printf(sb, "%s%02d:%02d", i ? sep : "", s->times[i] / 60, s->times[i] % 60);
}

/* Monday first, as people read a week. */
static void put_weekdays(struct strbuf *sb, uint8_t weekdays, const char *sep)
{
	bool first = true;

	for (int i = 1; i <= 7; i++) {
		if (!(weekdays & (1u << (i % 7))))
			continue;
		strbuf_printf(sb, "%s%s", first ? "" : sep, wday_names[i % 7]);
		first = false;
	}
}

static void put_monthdays(struct strbuf *sb, uint32_t monthdays, const char *sep)
{
	bool first = true;

	for (int d = 1; d <= 31; d++) {
		if (!(monthdays & (1u << d)))
			continue;
		strbuf_printf(sb, "%s%d", first ? "" : sep, d);
		first = false;
	}
	if (monthdays & 1u)
		strbuf_printf(sb, "%slast", first ? "" : sep);
}

/* The line with each run of blanks made one space. */
static void put_cron_line(struct strbuf *sb, const char *line)
{
	const char *p = line ? line + strspn(line, " \t") : "";

	while (*p) {
		size_t len = strcspn(p, " \t");

		strbuf_append(sb, p, len);
		p += len;
		p += strspn(p, " \t");
		if (*p)
			strbuf_putc(sb, ' ');
	}
}

/* "2026-12-01T08:00Z": UTC to the minute. */
static void put_instant(struct strbuf *sb, int64_t ms)
{
	char iso[32];

	time_format_iso(ms, iso, sizeof(iso));
	strbuf_printf(sb, "%.16sZ", iso);
}

char *schedule_describe(const struct schedule *schedule)
{
	const struct schedule *s = schedule;
	struct strbuf sb;

	strbuf_init(&sb);
	switch (s->kind) {
	case SCHEDULE_ON_DEMAND:
		strbuf_puts(&sb, "on demand");
		break;
	case SCHEDULE_INTERVAL:
		strbuf_puts(&sb, "every ");
		put_interval(&sb, s->interval_ms);
		break;
	case SCHEDULE_ONCE:
		strbuf_puts(&sb, "once");
		if (s->instant_count > 0) {
			strbuf_putc(&sb, ' ');
			put_instant(&sb, s->instants[0]);
		}
		break;
	case SCHEDULE_DAILY:
		strbuf_puts(&sb, "daily ");
		put_times(&sb, s, ", ");
		break;
	case SCHEDULE_WEEKLY:
		strbuf_puts(&sb, "weekly ");
		put_weekdays(&sb, s->weekdays, ", ");
		strbuf_putc(&sb, ' ');
		put_times(&sb, s, ", ");
		break;
	case SCHEDULE_MONTHLY:
		strbuf_puts(&sb, "monthly ");
		put_monthdays(&sb, s->monthdays, ", ");
		strbuf_putc(&sb, ' ');
		put_times(&sb, s, ", ");
		break;
	case SCHEDULE_DATES:
		strbuf_printf(&sb, "dates (%zu)", s->instant_count);
		break;
	case SCHEDULE_CRON:
		strbuf_puts(&sb, "cron ");
		put_cron_line(&sb, s->cron);
		break;
	default:
		strbuf_puts(&sb, kind_to_string(s->kind));
		break;
	}
	return strbuf_steal(&sb);
}

/* A cron line by the sets it stands for, so that a step and the list it
 * spells out share a key; a line that does not parse keeps its text. */
static void put_cron_key(struct strbuf *sb, const char *line)
{
	struct cron c;

	if (parse_cron(line, &c) < 0) {
		strbuf_puts(sb, "unparsed ");
		put_cron_line(sb, line);
		return;
	}
	strbuf_printf(sb, "min=%llx hour=%x mday=%x month=%x wday=%x days=%s",
		      (unsigned long long)c.minutes, (unsigned)c.hours, (unsigned)c.mdays,
		      (unsigned)c.months, (unsigned)c.wdays,
		      !c.mday_star && !c.wday_star ? "either" : "both");
}

char *schedule_key(const struct schedule *schedule, const char *timezone)
{
	const struct schedule *s = schedule;
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_puts(&sb, kind_to_string(s->kind));
	switch (s->kind) {
	case SCHEDULE_INTERVAL:
		strbuf_printf(&sb, " %lld", (long long)s->interval_ms);
		break;
	case SCHEDULE_ONCE:
	case SCHEDULE_DATES:
		/* Instants are absolute: the zone was applied at load. */
		for (size_t i = 0; i < s->instant_count; i++)
			strbuf_printf(&sb, "%c%lld", i ? ',' : ' ', (long long)s->instants[i]);
		break;
	case SCHEDULE_DAILY:
	case SCHEDULE_WEEKLY:
	case SCHEDULE_MONTHLY:
	case SCHEDULE_CRON:
		strbuf_printf(&sb, " %s ", timezone ? timezone : "UTC");
		if (s->kind == SCHEDULE_WEEKLY) {
			put_weekdays(&sb, s->weekdays, ",");
			strbuf_putc(&sb, ' ');
		} else if (s->kind == SCHEDULE_MONTHLY) {
			put_monthdays(&sb, s->monthdays, ",");
			strbuf_putc(&sb, ' ');
		}
		if (s->kind == SCHEDULE_CRON)
			put_cron_key(&sb, s->cron);
		else
			put_times(&sb, s, ",");
		break;
	default:
		break;
	}
	return strbuf_steal(&sb);
}
