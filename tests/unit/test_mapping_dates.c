/* SPDX-License-Identifier: MIT */
/*
 * Dates in the mapping language and the time zones behind them: Fusion's
 * date function examples (F29), formatDate/parseDate tokens, wall-clock
 * arithmetic across DST changes in Europe/Amsterdam, America/New_York and
 * Australia/Sydney, and util/tz itself (TZif loading, the POSIX rule
 * after the last transition, name checks, $TZDIR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"
#include "test_mapping_cases.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/mapping.h"
#include "util/tz.h"

#define AMS "Europe/Amsterdam"

static const char d1[] = "{\"1\":{\"date\":\"2018-10-01T07:32:00.000Z\"}}";

static const struct mapping_case date_cases[] = {
	/* add*: F29 examples (addYears' second example has a typo there) */
	{ "{{addSeconds('2016-12-08T15:55:57.536Z'; 2)}}", NULL, "\"2016-12-08T15:55:59.536Z\"" },
	{ "{{addSeconds('2016-12-08T15:55:57.536Z'; -2)}}", NULL, "\"2016-12-08T15:55:55.536Z\"" },
	{ "{{addMinutes('2016-12-08T15:55:57.536Z'; 2)}}", NULL, "\"2016-12-08T15:57:57.536Z\"" },
	{ "{{addMinutes('2016-12-08T15:55:57.536Z'; -2)}}", NULL, "\"2016-12-08T15:53:57.536Z\"" },
	{ "{{addHours('2016-12-08T15:55:57.536Z'; 2)}}", NULL, "\"2016-12-08T17:55:57.536Z\"" },
	{ "{{addHours('2016-12-08T15:55:57.536Z'; -2)}}", NULL, "\"2016-12-08T13:55:57.536Z\"" },
	{ "{{addDays('2016-12-08T15:55:57.536Z'; 2)}}", NULL, "\"2016-12-10T15:55:57.536Z\"" },
	{ "{{addDays('2016-12-08T15:55:57.536Z'; -2)}}", NULL, "\"2016-12-06T15:55:57.536Z\"" },
	{ "{{addMonths('2016-08-08T15:55:57.536Z'; 2)}}", NULL, "\"2016-10-08T15:55:57.536Z\"" },
	{ "{{addMonths('2016-08-08T15:55:57.536Z'; -2)}}", NULL, "\"2016-06-08T15:55:57.536Z\"" },
	{ "{{addMonths('2016-01-31T00:00:00.000Z'; 1)}}", NULL, "\"2016-02-29T00:00:00.000Z\"" },
	{ "{{addMonths('2016-11-15T00:00:00.000Z'; 14)}}", NULL, "\"2018-01-15T00:00:00.000Z\"" },
	{ "{{addYears('2016-08-08T15:55:57.536Z'; 2)}}", NULL, "\"2018-08-08T15:55:57.536Z\"" },
	{ "{{addYears('2016-12-08T15:55:57.536Z'; -2)}}", NULL, "\"2014-12-08T15:55:57.536Z\"" },
	{ "{{addYears('2016-02-29T10:00:00.000Z'; 1)}}", NULL, "\"2017-02-28T10:00:00.000Z\"" },
	{ "{{addWeekDays('2016-12-08T15:55:57.536Z'; 2)}}", NULL, "\"2016-12-12T15:55:57.536Z\"" },
	{ "{{addWeekDays('2016-12-08T15:55:57.536Z'; -2)}}", NULL, "\"2016-12-06T15:55:57.536Z\"" },
	{ "{{addWeekDays('2016-12-08T15:55:57.536Z'; 10)}}", NULL, "\"2016-12-22T15:55:57.536Z\"" },
	{ "{{addDays(1.missing; 1)}}", NULL, "null" },
	{ "{{addDays('soon'; 1)}}", NULL, NULL,
	  "addDays(): argument 1 must be a date, got text that is not a date" },
	{ "{{addDays(now; 'x')}}", NULL, NULL, "addDays(): argument 2 must be a number, got text" },
	{ "{{addYears(now; 9000)}}", NULL, NULL, "the date is out of range" },
	/* epoch milliseconds are dates too */
	{ "{{addSeconds(0; 1)}}", NULL, "\"1970-01-01T00:00:01.000Z\"" },
	/* set*: F29 examples (overflow rolls over) */
	{ "{{setSecond('2015-10-07T11:36:39.138Z'; 10)}}", NULL, "\"2015-10-07T11:36:10.138Z\"" },
	{ "{{setSecond('2015-10-07T11:36:39.138Z'; 61)}}", NULL, "\"2015-10-07T11:37:01.138Z\"" },
	{ "{{setMinute('2015-10-07T11:36:39.138Z'; 10)}}", NULL, "\"2015-10-07T11:10:39.138Z\"" },
	{ "{{setMinute('2015-10-07T11:36:39.138Z'; 61)}}", NULL, "\"2015-10-07T12:01:39.138Z\"" },
	{ "{{setHour('2015-08-07T11:36:39.138Z'; 6)}}", NULL, "\"2015-08-07T06:36:39.138Z\"" },
	{ "{{setHour('2015-08-07T11:36:39.138Z'; -6)}}", NULL, "\"2015-08-06T18:36:39.138Z\"" },
	{ "{{setDay('2018-06-27T11:36:39.138Z'; 'Monday')}}", NULL,
	  "\"2018-06-25T11:36:39.138Z\"" },
	{ "{{setDay('2018-06-27T11:36:39.138Z'; 1)}}", NULL, "\"2018-06-24T11:36:39.138Z\"" },
	{ "{{setDay('2018-06-27T11:36:39.138Z'; 7)}}", NULL, "\"2018-06-30T11:36:39.138Z\"" },
	{ "{{setDate('2015-08-07T11:36:39.138Z'; 5)}}", NULL, "\"2015-08-05T11:36:39.138Z\"" },
	{ "{{setDate('2015-08-07T11:36:39.138Z'; 32)}}", NULL, "\"2015-09-01T11:36:39.138Z\"" },
	{ "{{setMonth('2015-08-07T11:36:39.138Z'; 5)}}", NULL, "\"2015-05-07T11:36:39.138Z\"" },
	{ "{{setMonth('2015-08-07T11:36:39.138Z'; 17)}}", NULL, "\"2016-05-07T11:36:39.138Z\"" },
	{ "{{setMonth('2015-08-07T11:36:39.138Z'; 'january')}}", NULL,
	  "\"2015-01-07T11:36:39.138Z\"" },
	{ "{{setMonth('2015-03-31T00:00:00.000Z'; 2)}}", NULL, "\"2015-02-28T00:00:00.000Z\"" },
	{ "{{setYear('2015-08-07T11:36:39.138Z'; 2017)}}", NULL, "\"2017-08-07T11:36:39.138Z\"" },
	/* parts of a date */
	{ "{{dayOfMonth('2016-12-28T16:03:06.372Z')}}", NULL, "28" },
	{ "{{dayOfMonth('2015-01-05T11:36:39.138Z')}}", NULL, "5" },
	{ "{{dayOfWeek('2016-12-28T16:03:06.372Z')}}", NULL, "4" },
	{ "{{dayOfWeek('2016-12-25T16:03:06.372Z')}}", NULL, "1" },
	{ "{{daysInMonth('2016-01-01T00:00:00.000Z')}}", NULL, "31" },
	{ "{{daysInMonth('2016-02-01T00:00:00.000Z')}}", NULL, "29" },
	{ "{{daysInYear('2016-06-01T00:00:00.000Z')}}", NULL, "366" },
	{ "{{daysInYear('2015-06-01T00:00:00.000Z')}}", NULL, "365" },
	{ "{{hour('2016-12-08T15:55:57.536Z')}}", NULL, "15" },
	{ "{{minute('2016-12-08T15:55:57.536Z')}}", NULL, "55" },
	{ "{{second('2016-12-08T15:55:57.536Z')}}", NULL, "57" },
	{ "{{month('2016-01-08T15:55:57.536Z')}}", NULL, "1" },
	{ "{{year('2000-01-01T00:00:00.000Z')}}", NULL, "2000" },
	{ "{{isWeekend('2016-12-10T00:00:00.000Z')}}", NULL, "true" },
	{ "{{isWeekend('2016-12-11T00:00:00.000Z')}}", NULL, "true" },
	{ "{{isWeekend('2016-12-12T00:00:00.000Z')}}", NULL, "false" },
	{ "{{isWeekend('2016-12-09T00:00:00.000Z')}}", NULL, "false" },
	{ "{{startOfMonth('2016-06-15T12:30:00.000Z')}}", NULL, "\"2016-06-01T00:00:00.000Z\"" },
	{ "{{startOfMonth('2024-02-14T08:00:00.000Z')}}", NULL, "\"2024-02-01T00:00:00.000Z\"" },
	{ "{{endOfMonth('2016-06-15T12:30:00.000Z')}}", NULL, "\"2016-06-30T23:59:59.999Z\"" },
	{ "{{endOfMonth('2016-02-01T00:00:00.000Z')}}", NULL, "\"2016-02-29T23:59:59.999Z\"" },
	{ "{{endOfMonth('2016-12-01T00:00:00.000Z')}}", NULL, "\"2016-12-31T23:59:59.999Z\"" },
	{ "{{dateMax('2016-06-01T00:00:00.000Z'; '2016-12-01T00:00:00.000Z')}}", NULL,
	  "\"2016-12-01T00:00:00.000Z\"" },
	{ "{{dateMin('2015-01-01T00:00:00.000Z'; '2016-06-15T00:00:00.000Z'; "
	  "'2014-03-20T00:00:00.000Z')}}",
	  NULL, "\"2014-03-20T00:00:00.000Z\"" },
	/* dateDifference: date1 − date2, whole units */
	{ "{{dateDifference('2021-05-11T18:10:00.000Z'; '2021-05-11T18:00:00.000Z')}}", NULL,
	  "600000" },
	{ "{{dateDifference('2021-05-11T18:10:00.000Z'; '2021-05-11T18:00:00.000Z'; 'minutes')}}",
	  NULL, "10" },
	{ "{{dateDifference('2021-05-11T18:10:00.000Z'; '2021-05-11T18:00:00.000Z'; 'hours')}}",
	  NULL, "0" },
	{ "{{dateDifference('2021-06-11T18:10:00.000Z'; '2021-05-11T18:00:00.000Z'; 'months')}}",
	  NULL, "1" },
	{ "{{dateDifference('2021-05-11T18:00:00.000Z'; '2021-06-11T18:10:00.000Z'; 'months')}}",
	  NULL, "-1" },
	/* moment's month arithmetic: Jan 31 + 1 month is Feb 28, a whole month */
	{ "{{dateDifference('2021-02-28T00:00:00.000Z'; '2021-01-31T00:00:00.000Z'; 'months')}}",
	  NULL, "1" },
	{ "{{dateDifference('2021-02-27T00:00:00.000Z'; '2021-01-31T00:00:00.000Z'; 'months')}}",
	  NULL, "0" },
	{ "{{dateDifference('2024-05-11T00:00:00.000Z'; '2021-05-11T00:00:00.000Z'; 'years')}}",
	  NULL, "3" },
	{ "{{dateDifference('2021-05-20T00:00:00.000Z'; '2021-05-11T12:00:00.000Z'; 'days')}}",
	  NULL, "8" },
	{ "{{dateDifference('2021-05-20T00:00:00.000Z'; '2021-05-11T12:00:00.000Z'; 'weeks')}}",
	  NULL, "1" },
	{ "{{dateDifference(now; now; 'fortnights')}}", NULL, NULL, "unknown unit 'fortnights'" },
	/* formatDate: F29 examples, scenario zone Europe/Prague */
	{ "{{formatDate(1.date; 'MM/DD/YYYY')}}", d1, "\"10/01/2018\"", NULL, "Europe/Prague" },
	{ "{{formatDate(1.date; 'YYYY-MM-DD hh:mm A')}}", d1, "\"2018-10-01 09:32 AM\"", NULL,
	  "Europe/Prague" },
	{ "{{formatDate(1.date; 'DD.MM.YYYY HH:mm'; 'UTC')}}", d1, "\"01.10.2018 07:32\"", NULL,
	  "Europe/Prague" },
	{ "{{formatDate(now; 'DD.MM.YYYY HH:mm')}}", NULL, "\"28.11.2026 19:00\"", NULL,
	  "Europe/Prague" },
	/* an unknown zone argument falls back to the scenario's, as in Fusion */
	{ "{{formatDate(now; 'HH:mm'; 'Mars/Olympus')}}", NULL, "\"19:00\"", NULL,
	  "Europe/Prague" },
	{ "{{formatDate(now; 'HH:mm'; '../../etc/passwd')}}", NULL, "\"18:00\"" },
	/* the token set */
	{ "{{formatDate(now; 'dddd, MMMM Do YYYY, h:mm:ss a')}}", NULL,
	  "\"Saturday, November 28th 2026, 6:00:00 pm\"" },
	{ "{{formatDate('2026-01-02T03:04:05.067Z'; 'YY Y M Mo MM MMM D Do DD')}}", NULL,
	  "\"26 2026 1 1st 01 Jan 2 2nd 02\"" },
	{ "{{formatDate(now; 'Q Qo DDD DDDo DDDD d do dd ddd E e')}}", NULL,
	  "\"4 4th 332 332nd 332 6 6th Sa Sat 6 6\"" },
	{ "{{formatDate('2026-02-03T00:04:05.067Z'; 'DDDD H HH h hh k kk m mm s ss')}}", NULL,
	  "\"034 0 00 12 12 24 24 4 04 5 05\"" },
	{ "{{formatDate('2026-02-03T13:04:05.067Z'; 'S SS SSS SSSS A a')}}", NULL,
	  "\"0 06 067 0670 PM pm\"" },
	{ "{{formatDate(now; 'w wo ww W Wo WW gg gggg GG GGGG')}}", NULL,
	  "\"48 48th 48 48 48th 48 26 2026 26 2026\"" },
	{ "{{formatDate('2026-12-31T12:00:00.000Z'; 'w gggg W GGGG')}}", NULL,
	  "\"1 2027 53 2026\"" },
	{ "{{formatDate('2021-01-03T12:00:00.000Z'; 'W GGGG E')}}", NULL, "\"53 2020 7\"" },
	{ "{{formatDate(now; 'M Mo MM MMM MMMM')}}", NULL, "\"11 11th 11 Nov November\"" },
	{ "{{formatDate(now; 'H HH h hh k kk A a m mm s ss')}}", NULL,
	  "\"18 18 6 06 18 18 PM pm 0 00 0 00\"" },
	{ "{{formatDate('2026-03-01T00:00:00.000Z'; 'Do Qo DDDo')}}", NULL, "\"1st 1st 60th\"" },
	{ "{{formatDate('2026-01-11T00:00:00.000Z'; 'Do Mo')}}", NULL, "\"11th 1st\"" },
	{ "{{formatDate('2026-01-22T00:00:00.000Z'; 'Do')}}", NULL, "\"22nd\"" },
	{ "{{formatDate(now; 'X x')}}", NULL, "\"1795888800 1795888800000\"" },
	{ "{{formatDate(now; 'Z ZZ')}}", NULL, "\"+00:00 +0000\"" },
	{ "{{formatDate(now; '[Today is] dddd [YYYY]')}}", NULL, "\"Today is Saturday YYYY\"" },
	{ "{{formatDate(now; 'YYYY-MM-DDTHH:mm:ssZ'; 'America/New_York')}}", NULL,
	  "\"2026-11-28T13:00:00-05:00\"" },
	{ "{{formatDate(1.missing; 'YYYY')}}", NULL, "null" },
	{ "{{formatDate(1795888800000; 'YYYY-MM-DD')}}", NULL, "\"2026-11-28\"" },
	/* parseDate: F29 examples */
	{ "{{parseDate('2016-12-28'; 'YYYY-MM-DD')}}", NULL, "\"2016-12-28T00:00:00.000Z\"" },
	{ "{{parseDate('2016-12-28 16:03'; 'YYYY-MM-DD HH:mm')}}", NULL,
	  "\"2016-12-28T16:03:00.000Z\"" },
	{ "{{parseDate('2016-12-28 04:03 pm'; 'YYYY-MM-DD hh:mm a')}}", NULL,
	  "\"2016-12-28T16:03:00.000Z\"" },
	{ "{{parseDate('12:15 AM'; 'hh:mm A')}}", NULL, "\"2026-11-28T00:15:00.000Z\"" },
	{ "{{parseDate(1482940986; 'X')}}", NULL, "\"2016-12-28T16:03:06.000Z\"" },
	{ "{{parseDate('1410715640.579'; 'X')}}", NULL, "\"2014-09-14T17:27:20.579Z\"" },
	{ "{{parseDate('1410715640579'; 'x')}}", NULL, "\"2014-09-14T17:27:20.579Z\"" },
	{ "{{parseDate('20.6.2016 17:26'; 'D.M.YYYY HH:mm')}}", NULL,
	  "\"2016-06-20T17:26:00.000Z\"" },
	{ "{{parseDate('2016/06/20'; 'YYYY-MM-DD')}}", NULL, "\"2016-06-20T00:00:00.000Z\"" },
	{ "{{parseDate('Aug 18, 2019 10:00 AM'; 'MMM D, YYYY hh:mm A')}}", NULL,
	  "\"2019-08-18T10:00:00.000Z\"" },
	{ "{{parseDate('Sunday, August 18th 19'; 'dddd, MMMM Do YY')}}", NULL,
	  "\"2019-08-18T00:00:00.000Z\"" },
	{ "{{parseDate('2016-06-20T19:26:44.356+02:00'; 'YYYY-MM-DDTHH:mm:ss.SSSZ')}}", NULL,
	  "\"2016-06-20T17:26:44.356Z\"" },
	{ "{{parseDate('2016-06-20 19:26 +0200'; 'YYYY-MM-DD HH:mm ZZ')}}", NULL,
	  "\"2016-06-20T17:26:00.000Z\"" },
	{ "{{parseDate('2016-W25-1'; 'GGGG-[W]WW-E')}}", NULL, "\"2016-06-20T00:00:00.000Z\"" },
	{ "{{parseDate('2016 172'; 'YYYY DDDD')}}", NULL, "\"2016-06-20T00:00:00.000Z\"" },
	{ "{{parseDate('2016'; 'YYYY')}}", NULL, "\"2016-01-01T00:00:00.000Z\"" },
	{ "{{parseDate('03-15'; 'MM-DD')}}", NULL, "\"2026-03-15T00:00:00.000Z\"" },
	{ "{{parseDate('14:30'; 'HH:mm')}}", NULL, "\"2026-11-28T14:30:00.000Z\"" },
	{ "{{parseDate('2016-02-30'; 'YYYY-MM-DD')}}", NULL, NULL, "is not a valid date" },
	{ "{{parseDate('25:00'; 'HH:mm')}}", NULL, NULL, "is not a valid date" },
	{ "{{parseDate('yesterday'; 'YYYY-MM-DD')}}", NULL, NULL,
	  "parseDate(): the text does not match the format 'YYYY-MM-DD'" },
	{ "{{parseDate(null; 'YYYY')}}", NULL, "null" },
	/* Fusion's recipes (F29 "Additional examples") */
	{ "{{addDays(setDate(now; 1); -1)}}", NULL, "\"2026-10-31T18:00:00.000Z\"" },
	{ "{{parseDate(parseDate(formatDate(now; \"YYYYMM01\"); \"YYYYMMDD\"; \"UTC\") - 1; \"x\")}}",
	  NULL, "\"2026-10-31T23:59:59.999Z\"" },
	{ "{{addDays(setDate(1.date; 1); 1.n * 7 - formatDate(addDays(setDate(1.date; 1); \"-\" + "
	  "1.dow); \"E\"))}}",
	  "{\"1\":{\"date\":\"2026-11-28T18:00:00.000Z\",\"n\":2,\"dow\":3}}",
	  "\"2026-11-11T18:00:00.000Z\"" },
	{ "{{round((2.value - 1.value) / 1000 / 60 / 60 / 24)}}",
	  "{\"1\":{\"value\":\"2026-03-01T00:00:00.000Z\"},\"2\":{\"value\":\"2026-04-01T00:00:00.000Z\"}}",
	  "31" },
	{ NULL },
};

/* The scenario's zone in Amsterdam, across both DST changes of 2026
 * (29 March 01:00Z, 25 October 01:00Z). */
static const struct mapping_case zone_cases[] = {
	{ "{{formatDate('2026-03-29T00:30:00.000Z'; 'YYYY-MM-DD HH:mm Z')}}", NULL,
	  "\"2026-03-29 01:30 +01:00\"", NULL, AMS },
	{ "{{formatDate('2026-03-29T01:30:00.000Z'; 'YYYY-MM-DD HH:mm Z')}}", NULL,
	  "\"2026-03-29 03:30 +02:00\"", NULL, AMS },
	{ "{{formatDate('2026-10-25T00:30:00.000Z'; 'HH:mm ZZ')}}", NULL, "\"02:30 +0200\"", NULL,
	  AMS },
	{ "{{formatDate('2026-10-25T01:30:00.000Z'; 'HH:mm ZZ')}}", NULL, "\"02:30 +0100\"", NULL,
	  AMS },
	/* years past the file's last transition come from its POSIX rule */
	{ "{{formatDate('2090-07-01T12:00:00.000Z'; 'HH:mm Z')}}", NULL, "\"14:00 +02:00\"", NULL,
	  AMS },
	{ "{{formatDate('2090-01-01T12:00:00.000Z'; 'HH:mm Z')}}", NULL, "\"13:00 +01:00\"", NULL,
	  AMS },
	{ "{{formatDate('2090-03-26T00:59:59.000Z'; 'HH:mm:ss')}}", NULL, "\"01:59:59\"", NULL,
	  AMS },
	{ "{{formatDate('2090-03-26T01:00:00.000Z'; 'HH:mm:ss')}}", NULL, "\"03:00:00\"", NULL,
	  AMS },
	/* addDays keeps the wall clock across DST; addHours counts hours */
	{ "{{addDays('2026-03-28T12:00:00.000Z'; 1)}}", NULL, "\"2026-03-29T11:00:00.000Z\"", NULL,
	  AMS },
	{ "{{addHours('2026-03-28T12:00:00.000Z'; 24)}}", NULL, "\"2026-03-29T12:00:00.000Z\"",
	  NULL, AMS },
	{ "{{addDays('2026-10-24T12:00:00.000Z'; 1)}}", NULL, "\"2026-10-25T13:00:00.000Z\"", NULL,
	  AMS },
	{ "{{setHour('2026-03-29T10:00:00.000Z'; 0)}}", NULL, "\"2026-03-28T23:00:00.000Z\"", NULL,
	  AMS },
	{ "{{dateDifference('2026-03-30T00:00:00+02:00'; '2026-03-29T00:00:00+01:00'; 'days')}}",
	  NULL, "1", NULL, AMS },
	{ "{{startOfMonth('2026-07-15T12:00:00.000Z')}}", NULL, "\"2026-06-30T22:00:00.000Z\"",
	  NULL, AMS },
	{ "{{dayOfMonth('2026-07-31T23:30:00.000Z')}}", NULL, "1", NULL, AMS },
	/* a local time in the gap moves forward; an ambiguous one is the earlier */
	{ "{{parseDate('2026-03-29 02:30'; 'YYYY-MM-DD HH:mm')}}", NULL,
	  "\"2026-03-29T01:30:00.000Z\"", NULL, AMS },
	{ "{{parseDate('2026-10-25 02:30'; 'YYYY-MM-DD HH:mm')}}", NULL,
	  "\"2026-10-25T00:30:00.000Z\"", NULL, AMS },
	{ "{{parseDate('2026-10-25 03:30'; 'YYYY-MM-DD HH:mm')}}", NULL,
	  "\"2026-10-25T02:30:00.000Z\"", NULL, AMS },
	{ "{{parseDate('2026-07-01 10:00'; 'YYYY-MM-DD HH:mm'; 'UTC')}}", NULL,
	  "\"2026-07-01T10:00:00.000Z\"", NULL, AMS },
	/* text without an offset is wall-clock time in the scenario's zone */
	{ "{{addHours('2026-07-01T10:00:00'; 0)}}", NULL, "\"2026-07-01T08:00:00.000Z\"", NULL,
	  AMS },
	{ "{{formatDate('2026-07-01 10:00'; 'HH:mm')}}", NULL, "\"10:00\"", NULL, AMS },
	{ "{{addHours('2026-07-01T10:00:00Z'; 0)}}", NULL, "\"2026-07-01T10:00:00.000Z\"", NULL,
	  AMS },
	/* other zones: New York's autumn change, Sydney's southern summer */
	{ "{{formatDate('2026-11-01T05:30:00.000Z'; 'HH:mm Z'; 'America/New_York')}}", NULL,
	  "\"01:30 -04:00\"" },
	{ "{{formatDate('2026-11-01T06:30:00.000Z'; 'HH:mm Z'; 'America/New_York')}}", NULL,
	  "\"01:30 -05:00\"" },
	{ "{{formatDate('2026-01-15T00:00:00.000Z'; 'HH:mm Z'; 'Australia/Sydney')}}", NULL,
	  "\"11:00 +11:00\"" },
	{ "{{formatDate('2026-07-15T00:00:00.000Z'; 'HH:mm Z'; 'Australia/Sydney')}}", NULL,
	  "\"10:00 +10:00\"" },
	{ "{{formatDate('2095-01-15T00:00:00.000Z'; 'HH:mm Z'; 'Australia/Sydney')}}", NULL,
	  "\"11:00 +11:00\"" },
	{ "{{formatDate('2026-07-15T00:00:00.000Z'; 'HH:mm Z'; 'Asia/Kolkata')}}", NULL,
	  "\"05:30 +05:30\"" },
	/* an unknown scenario zone reads as UTC (the loader rejects it first) */
	{ "{{formatDate(now; 'HH:mm')}}", NULL, "\"18:00\"", NULL, "Nowhere/Special" },
	{ NULL },
};

static void test_dates(void **state)
{
	(void)state;
	mapping_cases_run(date_cases);
}

static void test_zones(void **state)
{
	(void)state;
	mapping_cases_run(zone_cases);
}

static void test_tz_names(void **state)
{
	static const char *const invalid[] = {
		"",
		"/etc/localtime",
		"../etc/passwd",
		"Europe/../../etc/passwd",
		"Europe/Ams terdam",
		"Europe/..",
		"a;b",
	};
	struct tz *tz = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (tz_load(invalid[i], &tz) != -EINVAL)
			fail_msg("tz_load('%s') did not reject the name", invalid[i]);
		assert_false(tz_exists(invalid[i]));
	}
	assert_int_equal(tz_load("Nowhere/Special", &tz), -ENOENT);
	assert_int_equal(tz_load("Europe", &tz), -ENOENT); /* a directory */
	assert_true(tz_exists(AMS));
	assert_true(tz_exists("UTC"));
	assert_int_equal(tz_load(AMS, &tz), 0);
	assert_string_equal(tz_name(tz), AMS);
	/* 2026-07-01T00:00Z is summer time, 2026-01-01T00:00Z is not */
	assert_int_equal(tz_offset_at(tz, 1782864000), 7200);
	assert_int_equal(tz_offset_at(tz, 1767225600), 3600);
	/* 2026-07-01 02:00 local is midnight UTC */
	assert_int_equal(tz_local_to_utc(tz, 1782864000 + 7200), 1782864000);
	assert_null(tz_free(tz));
	assert_int_equal(tz_offset_at(NULL, 1782864000), 0);
	assert_int_equal(tz_local_to_utc(NULL, 1000), 1000);
}

/* $TZDIR points the loader elsewhere; UTC still works without tzdata,
 * and a file that is not TZif is refused. */
static void test_tzdir(void **state)
{
	char *dir = helpers_mkdtemp(), path[512];
	const char *old = getenv("TZDIR");
	char *saved = old ? strdup(old) : NULL;
	struct tz *tz = NULL;

	(void)state;
	setenv("TZDIR", dir, 1);
	assert_int_equal(tz_load(AMS, &tz), -ENOENT);
	assert_true(tz_exists("UTC"));
	assert_true(tz_exists("Etc/UTC"));
	snprintf(path, sizeof(path), "%s/Bogus", dir);
	helpers_write_file(path, "not a zone file at all, not even close to TZif", 46);
	assert_int_equal(tz_load("Bogus", &tz), -EBADMSG);
	snprintf(path, sizeof(path), "%s/Short", dir);
	helpers_write_file(path, "TZif2", 5);
	assert_int_equal(tz_load("Short", &tz), -EBADMSG);
	if (saved)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);
	helpers_rmdir_recursive(dir);
	free(dir);
}

static const cJSON *resolve_nothing(void *userdata, const char *root)
{
	(void)userdata;
	(void)root;
	return NULL;
}

/* A zone the caller already loaded is used as is (no file is read). */
static void test_scope_zone(void **state)
{
	struct mapping_error err = { 0 };
	struct mapping *m = NULL;
	struct tz *tz = NULL;
	cJSON *v = NULL;
	char *msg = NULL;

	(void)state;
	assert_int_equal(tz_load(AMS, &tz), 0);
	struct mapping_scope scope = {
		.resolve = resolve_nothing,
		.now_ms = MAPPING_CASES_NOW_MS,
		.timezone = "UTC", /* the loaded zone wins */
		.tz = tz,
	};
	assert_int_equal(mapping_compile("{{formatDate(now; 'HH:mm Z')}}", &m, &err), 0);
	assert_int_equal(mapping_eval(m, &scope, &v, &msg), 0);
	assert_string_equal(cJSON_GetStringValue(v), "19:00 +01:00");
	cJSON_Delete(v);
	mapping_free(m);
	tz_free(tz);
}

static void test_civil(void **state)
{
	int64_t y;
	int m, d;

	(void)state;
	assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(tz_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(tz_days_from_civil(1969, 12, 31), -1);
	tz_civil_from_days(-1, &y, &m, &d);
	assert_true(y == 1969 && m == 12 && d == 31);
	tz_civil_from_days(20512, &y, &m, &d); /* 2026-02-28 */
	assert_true(y == 2026 && m == 2 && d == 28);
	tz_civil_from_days(tz_days_from_civil(2400, 2, 29), &y, &m, &d);
	assert_true(y == 2400 && m == 2 && d == 29);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),	 cmocka_unit_test(test_zones),
		cmocka_unit_test(test_tz_names), cmocka_unit_test(test_tzdir),
		cmocka_unit_test(test_civil),	 cmocka_unit_test(test_scope_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
