/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's calendar (scenarios/schedule_next.c) and the exact
 * local-to-UTC conversion it rests on (util/tz.c). Schedules are loaded from
 * the YAML users write; every case runs on a fixed clock and walks
 * successive slots with schedule_next(previous), compared as UTC minutes
 * ("2026-03-29T01:00Z"). The DST cases use Europe/Amsterdam (2026-03-29
 * 02:00→03:00, 2026-10-25 03:00→02:00) and America/New_York (2026-03-08
 * 02:00→03:00, 2026-11-01 02:00→01:00); their expected lists were checked
 * against an oracle that walks UTC minutes one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/scenario.h"
#include "scenarios/schedule.h"
#include "util/diag.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "util/xalloc.h"

#define FLOW_LOG "flow: [{id: 1, module: builtin.log, with: {message: x}}]\n"
#define FLOW_INSTANT                                                                   \
	"flow: [{id: 1, module: cloudconvert.watch_job_events, connection: cc, with: " \
	"{events: [job.finished]}}]\n"
#define MAX_SLOTS 10
#define NONE "none" /* schedule_next() returned 0 */

/* A scenario with `schedule: <schedule>` in zone `zone` (NULL: no
 * `timezone:`, so UTC). Fails the test when it does not load. */
static struct scenario *load(const char *schedule, const char *zone)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *tz_line = zone ? xasprintf("timezone: %s\n", zone) : xstrdup("");
	struct scenario *s = NULL;
	struct diag_list diags;

	text = xasprintf("schedule: %s\n%s%s", schedule, tz_line,
			 streq(schedule, "instant") ? FLOW_INSTANT : FLOW_LOG);
	diag_list_init(&diags);
	if (scenario_load_string(text, strlen(text), "case.yaml", &s, &diags) < 0)
		fail_msg("'%s': %s", schedule, diags.count ? diags.items[0].message : "?");
	diag_list_done(&diags);
	return s;
}

static struct tz *load_zone(const char *name)
{
	struct tz *tz = NULL;

	assert_int_equal(tz_load(name, &tz), 0);
	return tz;
}

static int64_t parse_iso(const char *text)
{
	int64_t ms;

	if (time_parse_iso(text, &ms) < 0)
		fail_msg("bad time in the test: '%s'", text);
	return ms;
}

/* "2026-03-29T01:00Z" for whole minutes, the full ISO form otherwise. */
static void format_slot(int64_t ms, char *buf, size_t size)
{
	char iso[32];

	time_format_iso(ms, iso, sizeof(iso));
	if (ms % 60000 == 0)
		snprintf(buf, size, "%.16sZ", iso);
	else
		snprintf(buf, size, "%s", iso);
}

/* Lists `n` successive slots after `after_ms` as text; a 0 from
 * schedule_next() is NONE and ends the list. Each slot must be later than
 * the one before. */
static size_t walk(const struct schedule *schedule, const struct tz *tz, int64_t after_ms, size_t n,
		   char ret[][32])
{
	size_t i;

	for (i = 0; i < n; i++) {
		int64_t next = schedule_next(schedule, tz, after_ms);

		if (next == 0) {
			snprintf(ret[i++], 32, "%s", NONE);
			break;
		}
		assert_true(next > after_ms);
		format_slot(next, ret[i], 32);
		after_ms = next;
	}
	return i;
}

static void test_tz_exact(void **state)
{
	static const struct {
		const char *zone;
		const char *local; /* wall-clock time */
		const char *exact; /* NULL: -ENOENT */
		const char *moved; /* tz_local_to_utc(), unchanged */
	} cases[] = {
		/* Amsterdam: the gap, its edges, the overlap (earlier instant). */
		{ "Europe/Amsterdam", "2026-03-29T01:59", "2026-03-29T00:59Z",
		  "2026-03-29T00:59Z" },
		{ "Europe/Amsterdam", "2026-03-29T02:00", NULL, "2026-03-29T01:00Z" },
		{ "Europe/Amsterdam", "2026-03-29T02:30", NULL, "2026-03-29T01:30Z" },
		{ "Europe/Amsterdam", "2026-03-29T02:59", NULL, "2026-03-29T01:59Z" },
		{ "Europe/Amsterdam", "2026-03-29T03:00", "2026-03-29T01:00Z",
		  "2026-03-29T01:00Z" },
		{ "Europe/Amsterdam", "2026-10-25T01:59", "2026-10-24T23:59Z",
		  "2026-10-24T23:59Z" },
		{ "Europe/Amsterdam", "2026-10-25T02:00", "2026-10-25T00:00Z",
		  "2026-10-25T00:00Z" },
		{ "Europe/Amsterdam", "2026-10-25T02:30", "2026-10-25T00:30Z",
		  "2026-10-25T00:30Z" },
		{ "Europe/Amsterdam", "2026-10-25T03:00", "2026-10-25T02:00Z",
		  "2026-10-25T02:00Z" },
		{ "Europe/Amsterdam", "2026-07-01T12:00", "2026-07-01T10:00Z",
		  "2026-07-01T10:00Z" },
		/* New York. */
		{ "America/New_York", "2026-03-08T02:30", NULL, "2026-03-08T07:30Z" },
		{ "America/New_York", "2026-03-08T03:00", "2026-03-08T07:00Z",
		  "2026-03-08T07:00Z" },
		{ "America/New_York", "2026-11-01T01:30", "2026-11-01T05:30Z",
		  "2026-11-01T05:30Z" },
		{ "America/New_York", "2026-11-01T02:00", "2026-11-01T07:00Z",
		  "2026-11-01T07:00Z" },
		{ "UTC", "2026-03-29T02:30", "2026-03-29T02:30Z", "2026-03-29T02:30Z" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(tz_freep) struct tz *tz = load_zone(cases[i].zone);
		int64_t local_s = parse_iso(cases[i].local) / 1000, utc_s = -1;
		int r = tz_local_to_utc_exact(tz, local_s, &utc_s);

		if (!cases[i].exact) {
			assert_int_equal(r, -ENOENT);
			assert_int_equal(utc_s, -1); /* untouched on failure */
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(utc_s * 1000, parse_iso(cases[i].exact));
		}
		assert_int_equal(tz_local_to_utc(tz, local_s) * 1000, parse_iso(cases[i].moved));
	}

	/* A NULL zone is UTC. */
	{
		int64_t utc_s = 0;

		assert_int_equal(tz_local_to_utc_exact(NULL, 1234567, &utc_s), 0);
		assert_int_equal(utc_s, 1234567);
	}
}

struct walk_case {
	const char *schedule; /* YAML after `schedule: ` */
	const char *zone; /* NULL: UTC */
	const char *after; /* the first `after_ms` */
	const char *slots[MAX_SLOTS]; /* what successive calls give */
};

static const struct walk_case walk_cases[] = {
	/* Daily 02:30: skipped on the spring-forward day, once on fall-back. */
	{ "{daily: [\"02:30\"]}",
	  "Europe/Amsterdam",
	  "2026-03-27T12:00Z",
	  { "2026-03-28T01:30Z", "2026-03-30T00:30Z", "2026-03-31T00:30Z" } },
	{ "{daily: [\"02:30\"]}",
	  "Europe/Amsterdam",
	  "2026-10-23T12:00Z",
	  { "2026-10-24T00:30Z", "2026-10-25T00:30Z", "2026-10-26T01:30Z" } },
	{ "{daily: [\"02:30\"]}",
	  "America/New_York",
	  "2026-03-06T12:00Z",
	  { "2026-03-07T07:30Z", "2026-03-09T06:30Z", "2026-03-10T06:30Z" } },
	/* New York repeats 01:00-01:59. */
	{ "{daily: [\"01:30\"]}",
	  "America/New_York",
	  "2026-10-30T12:00Z",
	  { "2026-10-31T05:30Z", "2026-11-01T05:30Z", "2026-11-02T06:30Z" } },
	/* Starting inside the repeated hour: 02:30 already ran at 00:30Z. */
	{ "{daily: [\"02:30\"]}", "Europe/Amsterdam", "2026-10-25T01:10Z", { "2026-10-26T01:30Z" } },
	/* Noon is unaffected: 23 h and 25 h between UTC slots. */
	{ "{daily: [\"12:00\"]}",
	  "Europe/Amsterdam",
	  "2026-03-27T12:00Z",
	  { "2026-03-28T11:00Z", "2026-03-29T10:00Z", "2026-03-30T10:00Z" } },
	{ "{daily: [\"12:00\"]}",
	  "Europe/Amsterdam",
	  "2026-10-23T12:00Z",
	  { "2026-10-24T10:00Z", "2026-10-25T11:00Z", "2026-10-26T11:00Z" } },
	{ "{daily: [\"12:00\"]}",
	  "America/New_York",
	  "2026-03-06T18:00Z",
	  { "2026-03-07T17:00Z", "2026-03-08T16:00Z", "2026-03-09T16:00Z" } },
	{ "{daily: [\"12:00\"]}",
	  "America/New_York",
	  "2026-10-30T18:00Z",
	  { "2026-10-31T16:00Z", "2026-11-01T17:00Z", "2026-11-02T17:00Z" } },
	{ "{daily: [\"17:30\", \"08:00\"]}",
	  NULL,
	  "2026-01-01T08:00Z",
	  { "2026-01-01T17:30Z", "2026-01-02T08:00Z", "2026-01-02T17:30Z" } },

	/* Hourly cron: local 02:00 is skipped in spring (no UTC hour lost) and
	 * fires once in autumn (01:00Z, 02:00 the second time, does not). */
	{ "{cron: \"0 * * * *\"}",
	  "Europe/Amsterdam",
	  "2026-03-28T22:30Z",
	  { "2026-03-28T23:00Z", "2026-03-29T00:00Z", "2026-03-29T01:00Z", "2026-03-29T02:00Z" } },
	{ "{cron: \"0 * * * *\"}",
	  "Europe/Amsterdam",
	  "2026-10-24T21:30Z",
	  { "2026-10-24T22:00Z", "2026-10-24T23:00Z", "2026-10-25T00:00Z", "2026-10-25T02:00Z",
	    "2026-10-25T03:00Z" } },
	{ "{cron: \"0 * * * *\"}",
	  "America/New_York",
	  "2026-03-08T05:30Z",
	  { "2026-03-08T06:00Z", "2026-03-08T07:00Z", "2026-03-08T08:00Z" } },
	{ "{cron: \"0 * * * *\"}",
	  "America/New_York",
	  "2026-11-01T03:30Z",
	  { "2026-11-01T04:00Z", "2026-11-01T05:00Z", "2026-11-01T07:00Z", "2026-11-01T08:00Z" } },
	{ "{cron: \"*/30 * * * *\"}",
	  "Europe/Amsterdam",
	  "2026-03-29T00:00Z",
	  { "2026-03-29T00:30Z", "2026-03-29T01:00Z", "2026-03-29T01:30Z" } },
	{ "{cron: \"*/30 * * * *\"}",
	  "Europe/Amsterdam",
	  "2026-10-24T23:45Z",
	  { "2026-10-25T00:00Z", "2026-10-25T00:30Z", "2026-10-25T02:00Z", "2026-10-25T02:30Z" } },
	{ "{cron: \"*/30 * * * *\"}",
	  "Europe/Amsterdam",
	  "2026-10-25T01:10Z",
	  { "2026-10-25T02:00Z", "2026-10-25T02:30Z" } },
	{ "{cron: \"*/30 * * * *\"}",
	  "America/New_York",
	  "2026-03-08T06:15Z",
	  { "2026-03-08T06:30Z", "2026-03-08T07:00Z", "2026-03-08T07:30Z" } },
	{ "{cron: \"*/30 * * * *\"}",
	  "America/New_York",
	  "2026-11-01T04:45Z",
	  { "2026-11-01T05:00Z", "2026-11-01T05:30Z", "2026-11-01T07:00Z", "2026-11-01T07:30Z" } },

	/* Weekly on the transition Sundays. */
	{ "{weekly: {days: [sun], at: [\"02:30\", \"12:00\"]}}",
	  "Europe/Amsterdam",
	  "2026-03-22T12:00Z",
	  { "2026-03-29T10:00Z", "2026-04-05T00:30Z", "2026-04-05T10:00Z" } },
	{ "{weekly: {days: [sun], at: [\"02:30\", \"12:00\"]}}",
	  "Europe/Amsterdam",
	  "2026-10-18T12:00Z",
	  { "2026-10-25T00:30Z", "2026-10-25T11:00Z", "2026-11-01T01:30Z" } },
	{ "{weekly: {days: [sun], at: \"02:30\"}}",
	  "America/New_York",
	  "2026-03-01T12:00Z",
	  { "2026-03-15T06:30Z", "2026-03-22T06:30Z" } },
	{ "{weekly: {days: [sun], at: \"01:30\"}}",
	  "America/New_York",
	  "2026-10-30T00:00Z",
	  { "2026-11-01T05:30Z", "2026-11-08T06:30Z" } },
	{ "{weekly: {days: [mon, fri], at: \"09:00\"}}",
	  NULL,
	  "2026-01-01T00:00Z",
	  { "2026-01-02T09:00Z", "2026-01-05T09:00Z", "2026-01-09T09:00Z" } },

	/* Monthly: a day the month lacks is skipped; `last` is its last day. */
	{ "{monthly: {days: [31], at: \"06:00\"}}",
	  NULL,
	  "2026-01-01T00:00Z",
	  { "2026-01-31T06:00Z", "2026-03-31T06:00Z", "2026-05-31T06:00Z", "2026-07-31T06:00Z",
	    "2026-08-31T06:00Z" } },
	{ "{monthly: {days: [30, last], at: \"06:00\"}}",
	  NULL,
	  "2026-01-15T00:00Z",
	  { "2026-01-30T06:00Z", "2026-01-31T06:00Z", "2026-02-28T06:00Z", "2026-03-30T06:00Z",
	    "2026-03-31T06:00Z", "2026-04-30T06:00Z", "2026-05-30T06:00Z" } },
	{ "{monthly: {days: [29, last], at: \"06:00\"}}",
	  NULL,
	  "2028-02-01T00:00Z",
	  { "2028-02-29T06:00Z", "2028-03-29T06:00Z", "2028-03-31T06:00Z" } },
	{ "{monthly: {days: [1, 15, last], at: \"06:00\"}}",
	  "Europe/Amsterdam",
	  "2026-02-10T00:00Z",
	  { "2026-02-15T05:00Z", "2026-02-28T05:00Z", "2026-03-01T05:00Z", "2026-03-15T05:00Z",
	    "2026-03-31T04:00Z", "2026-04-01T04:00Z" } },

	/* Once and dates: strictly after, then nothing. */
	{ "{once: 2026-12-01T08:00:00}",
	  "Europe/Amsterdam",
	  "2026-01-01T00:00Z",
	  { "2026-12-01T07:00Z", NONE } },
	{ "{once: 2026-12-01T08:00:00}", "Europe/Amsterdam", "2026-12-01T07:00Z", { NONE } },
	{ "{dates: [2026-12-31T10:00, 2026-12-24T10:00, 2026-12-28T10:00]}",
	  "Europe/Amsterdam",
	  "2026-12-01T00:00Z",
	  { "2026-12-24T09:00Z", "2026-12-28T09:00Z", "2026-12-31T09:00Z", NONE } },
	{ "{dates: [2026-12-24T10:00, 2026-12-31T10:00]}",
	  NULL,
	  "2026-12-24T10:00Z",
	  { "2026-12-31T10:00Z", NONE } },
	{ "{dates: [2026-12-24T10:00, 2026-12-31T10:00]}", NULL, "2027-01-01T00:00Z", { NONE } },

	/* No slot of their own. */
	{ "on-demand", NULL, "2026-01-01T00:00Z", { NONE } },
	{ "instant", NULL, "2026-01-01T00:00Z", { NONE } },

	/* Interval: after + interval, to the millisecond. */
	{ "{interval: 15m}",
	  "Europe/Amsterdam",
	  "2026-01-01T00:00:00.500Z",
	  { "2026-01-01T00:15:00.500Z", "2026-01-01T00:30:00.500Z" } },
	{ "{interval: 1.5h}",
	  NULL,
	  "2026-03-29T00:00Z",
	  { "2026-03-29T01:30Z", "2026-03-29T03:00Z" } },

	/* Cron: both day fields restricted, so either matches (Vixie). */
	{ "{cron: \"0 12 13 * mon\"}",
	  NULL,
	  "2026-02-01T00:00Z",
	  { "2026-02-02T12:00Z", "2026-02-09T12:00Z", "2026-02-13T12:00Z", "2026-02-16T12:00Z",
	    "2026-02-23T12:00Z", "2026-03-02T12:00Z", "2026-03-09T12:00Z", "2026-03-13T12:00Z" } },
	/* A field starting with '*' is unrestricted for that rule: both. */
	{ "{cron: \"0 12 */10 * mon\"}",
	  NULL,
	  "2026-01-01T00:00Z",
	  { "2026-05-11T12:00Z", "2026-06-01T12:00Z", "2026-08-31T12:00Z", "2026-09-21T12:00Z" } },
	/* Names, case-insensitive, in lists and ranges. */
	{ "{cron: \"30 9 * JAN Mon-fri\"}",
	  NULL,
	  "2026-01-29T10:00Z",
	  { "2026-01-30T09:30Z", "2027-01-01T09:30Z", "2027-01-04T09:30Z", "2027-01-05T09:30Z" } },
	/* 7 is Sunday too; N/STEP runs to the end of the range. */
	{ "{cron: \"0 0 * * 7\"}",
	  NULL,
	  "2026-01-01T00:00Z",
	  { "2026-01-04T00:00Z", "2026-01-11T00:00Z", "2026-01-18T00:00Z" } },
	{ "{cron: \"5/15 * * * *\"}",
	  NULL,
	  "2026-01-01T00:00Z",
	  { "2026-01-01T00:05Z", "2026-01-01T00:20Z", "2026-01-01T00:35Z", "2026-01-01T00:50Z",
	    "2026-01-01T01:05Z" } },
	{ "{cron: \"* * * * *\"}",
	  NULL,
	  "2026-01-01T12:00:30Z",
	  { "2026-01-01T12:01Z", "2026-01-01T12:02Z" } },
	{ "{cron: \"59 23 31 12 *\"}",
	  "Europe/Amsterdam",
	  "2026-06-01T00:00Z",
	  { "2026-12-31T22:59Z", "2027-12-31T22:59Z" } },
	/* Leap days, up to the eight-year wait across 2100. */
	{ "{cron: \"0 0 29 2 *\"}",
	  NULL,
	  "2026-01-01T00:00Z",
	  { "2028-02-29T00:00Z", "2032-02-29T00:00Z" } },
	{ "{cron: \"0 0 29 2 *\"}", NULL, "2096-03-01T00:00Z", { "2104-02-29T00:00Z" } },
	{ "{cron: \"0 0 30 2 *\"}", NULL, "2026-01-01T00:00Z", { NONE } },
};

static void test_walks(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(walk_cases); i++) {
		const struct walk_case *c = &walk_cases[i];
		struct scenario *s = load(c->schedule, c->zone);
		_cleanup_(tz_freep) struct tz *tz = c->zone ? load_zone(c->zone) : NULL;
		char got[MAX_SLOTS][32];
		size_t want = 0, n;

		while (want < MAX_SLOTS && c->slots[want])
			want++;
		n = walk(&s->schedule, tz, parse_iso(c->after), want, got);
		for (size_t k = 0; k < want; k++)
			if (k >= n || !streq(got[k], c->slots[k]))
				fail_msg(
					"case %zu ('%s' in %s after %s), slot %zu: got %s, want %s",
					i, c->schedule, c->zone ? c->zone : "UTC", c->after, k,
					k < n ? got[k] : "(nothing)", c->slots[k]);
		scenario_free(s);
	}
}

/* A whole year, slot by slot: strictly increasing, one per local day or
 * hour that exists, and the UTC gaps DST makes. */
static void test_year(void **state)
{
	static const struct {
		const char *schedule;
		const char *zone;
		const char *from, *to; /* local midnights, as UTC: [from, to) */
		size_t count;
		int64_t usual_s; /* the gap between most slots */
		size_t shorter, longer; /* gaps one hour shorter, longer */
	} cases[] = {
		{ "{daily: [\"12:00\"]}", "Europe/Amsterdam", "2025-12-31T23:00Z",
		  "2026-12-31T23:00Z", 365, 86400, 1, 1 },
		{ "{daily: [\"12:00\"]}", "America/New_York", "2026-01-01T05:00Z",
		  "2027-01-01T05:00Z", 365, 86400, 1, 1 },
		/* 02:00 does not exist one day, so 8759 slots; 01:00Z in the
		 * autumn is the repeated 02:00, so one two-hour gap. */
		{ "{cron: \"0 * * * *\"}", "Europe/Amsterdam", "2025-12-31T23:00Z",
		  "2026-12-31T23:00Z", 8759, 3600, 0, 1 },
		{ "{cron: \"0 * * * *\"}", "America/New_York", "2026-01-01T05:00Z",
		  "2027-01-01T05:00Z", 8759, 3600, 0, 1 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct scenario *s = load(cases[i].schedule, cases[i].zone);
		_cleanup_(tz_freep) struct tz *tz = load_zone(cases[i].zone);
		int64_t t = parse_iso(cases[i].from) - 1, to = parse_iso(cases[i].to), prev = 0;
		size_t count = 0, shorter = 0, longer = 0;

		while ((t = schedule_next(&s->schedule, tz, t)) != 0 && t < to) {
			if (prev) {
				int64_t gap = (t - prev) / 1000;

				if (gap == cases[i].usual_s - 3600)
					shorter++;
				else if (gap == cases[i].usual_s + 3600)
					longer++;
				else
					assert_int_equal(gap, cases[i].usual_s);
			}
			prev = t;
			count++;
		}
		assert_int_equal(count, cases[i].count);
		assert_int_equal(shorter, cases[i].shorter);
		assert_int_equal(longer, cases[i].longer);
		scenario_free(s);
	}
}

/* What could only come from a hand-made struct: fail safe, no slot. */
static void test_unparsable_cron(void **state)
{
	static const char *const lines[] = {
		"",
		"* * * *",
		"* * * * * *",
		"60 * * * *",
		"*/0 * * * *",
		"5-1 * * * *",
		"* * * foo *",
		"a * * * *",
		"1,,2 * * * *",
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
		_cleanup_free_ char *key = NULL;
		struct schedule s = { .kind = SCHEDULE_CRON, .cron = (char *)lines[i] };

		assert_int_equal(schedule_next(&s, NULL, 0), 0);
		key = schedule_key(&s, NULL);
		assert_non_null(strstr(key, "unparsed"));
	}
	{
		struct schedule s = { .kind = SCHEDULE_CRON, .cron = NULL };

		assert_int_equal(schedule_next(&s, NULL, 0), 0);
	}
}

static void test_describe(void **state)
{
	static const struct {
		const char *schedule;
		const char *zone;
		const char *text;
	} cases[] = {
		{ "on-demand", NULL, "on demand" },
		{ "instant", NULL, "instant" },
		{ "{interval: 15m}", NULL, "every 15m" },
		{ "{interval: 90m}", NULL, "every 1h30m" },
		{ "{interval: 90s}", NULL, "every 1m30s" },
		{ "{interval: 36h}", NULL, "every 1d12h" },
		{ "{interval: 7d}", NULL, "every 7d" },
		{ "{once: \"2026-12-01T08:00:00Z\"}", NULL, "once 2026-12-01T08:00Z" },
		{ "{once: 2026-12-01T08:00:00}", "Europe/Amsterdam", "once 2026-12-01T07:00Z" },
		{ "{daily: [\"17:30\", \"08:00\"]}", NULL, "daily 08:00, 17:30" },
		{ "{weekly: {days: [fri, mon], at: [\"09:00\"]}}", NULL, "weekly mon, fri 09:00" },
		{ "{weekly: {days: [sun, sat], at: [\"09:00\", \"8:30\"]}}", NULL,
		  "weekly sat, sun 08:30, 09:00" },
		{ "{monthly: {days: [last, 15, 1], at: \"06:00\"}}", NULL,
		  "monthly 1, 15, last 06:00" },
		{ "{dates: [2026-12-24T10:00, 2026-12-31T10:00, 2027-01-01T00:00]}", NULL,
		  "dates (3)" },
		{ "{cron: \" */5  *\t* * * \"}", NULL, "cron */5 * * * *" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct scenario *s = load(cases[i].schedule, cases[i].zone);
		_cleanup_free_ char *text = schedule_describe(&s->schedule);

		assert_string_equal(text, cases[i].text);
		scenario_free(s);
	}
}

static void test_key(void **state)
{
	static const struct {
		const char *a, *zone_a;
		const char *b, *zone_b;
		bool same;
		const char *key_a; /* NULL: not checked */
	} cases[] = {
		{ "on-demand", NULL, "instant", NULL, false, "on-demand" },
		{ "{daily: [\"08:00\", \"17:30\"]}", "Europe/Amsterdam",
		  "{daily: [\"17:30\", \"08:00\"]}", "Europe/Amsterdam", true,
		  "daily Europe/Amsterdam 08:00,17:30" },
		{ "{daily: \"08:00\"}", NULL, "{daily: \"08:00\"}", "Europe/Amsterdam", false,
		  "daily UTC 08:00" },
		{ "{daily: \"08:00\"}", NULL, "{daily: \"08:01\"}", NULL, false, NULL },
		{ "{interval: 15m}", NULL, "{interval: 900s}", "Europe/Amsterdam", true,
		  "interval 900000" },
		{ "{interval: 15m}", NULL, "{interval: 16m}", NULL, false, NULL },
		{ "{weekly: {days: [fri, mon], at: \"09:00\"}}", NULL,
		  "{weekly: {days: [mon, fri], at: \"09:00\"}}", NULL, true,
		  "weekly UTC mon,fri 09:00" },
		{ "{weekly: {days: [mon], at: \"09:00\"}}", NULL,
		  "{weekly: {days: [tue], at: \"09:00\"}}", NULL, false, NULL },
		{ "{monthly: {days: [1], at: \"06:00\"}}", NULL,
		  "{monthly: {days: [1, last], at: \"06:00\"}}", NULL, false,
		  "monthly UTC 1 06:00" },
		{ "{once: 2026-12-01T08:00:00}", "Europe/Amsterdam",
		  "{once: \"2026-12-01T07:00:00Z\"}", NULL, true, "once 1796108400000" },
		{ "{dates: [2026-12-24T10:00, 2026-12-31T10:00]}", NULL,
		  "{dates: [2026-12-31T10:00, 2026-12-24T10:00]}", NULL, true,
		  "dates 1798106400000,1798711200000" },
		{ "{dates: [2026-12-24T10:00]}", NULL, "{dates: [2026-12-24T10:00]}", "Asia/Tokyo",
		  false, NULL },
		{ "{cron: \"*/15 * * * *\"}", NULL, "{cron: \"0,15,30,45 * * * *\"}", NULL, true,
		  "cron UTC min=200040008001 hour=ffffff mday=fffffffe month=1ffe wday=7f days=both" },
		{ "{cron: \"0 9 * * mon-fri\"}", NULL, "{cron: \"0  9 * * 1-5\"}", NULL, true,
		  NULL },
		{ "{cron: \"0 0 * * 0\"}", NULL, "{cron: \"0 0 * * 7\"}", NULL, true, NULL },
		{ "{cron: \"0 0 * * 0\"}", NULL, "{cron: \"0 0 * * 0\"}", "America/New_York", false,
		  NULL },
		/* Either day versus both days. */
		{ "{cron: \"0 12 13 * mon\"}", NULL, "{cron: \"0 12 */1 * mon\"}", NULL, false,
		  NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct scenario *a = load(cases[i].a, cases[i].zone_a);
		struct scenario *b = load(cases[i].b, cases[i].zone_b);
		_cleanup_free_ char *key_a = schedule_key(&a->schedule, a->timezone);
		_cleanup_free_ char *key_b = schedule_key(&b->schedule, b->timezone);

		if (cases[i].key_a)
			assert_string_equal(key_a, cases[i].key_a);
		if (streq(key_a, key_b) != cases[i].same)
			fail_msg("case %zu: '%s' and '%s' should %s", i, key_a, key_b,
				 cases[i].same ? "match" : "differ");
		scenario_free(a);
		scenario_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tz_exact), cmocka_unit_test(test_walks),
		cmocka_unit_test(test_year),	 cmocka_unit_test(test_unparsable_cron),
		cmocka_unit_test(test_describe), cmocka_unit_test(test_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
