/* SPDX-License-Identifier: MIT */
/*
 * Calendar helpers shared by the date functions (mapping_date.c), and the
 * formatDate/parseDate token engines (mapping_dateformat.c). Private to
 * scenarios/mapping*.c.
 */
#pragma once

#include <stdint.h>

struct tz;

/* A wall-clock time in some zone. date_from_civil() accepts fields out of
 * range and carries them over (month 13 is January next year, day 0 the
 * last day of the month before), which is what Fusion's set* functions do. */
struct civil {
	int64_t year;
	int month; /* 1…12 */
	int day; /* 1…31 */
	int hour, minute, second, ms;
	int wday; /* 0 = Sunday; output only */
	int yday; /* 1…366; output only */
	int32_t offset; /* seconds east of UTC; output only */
};

void date_to_civil(int64_t ms, const struct tz *tz, struct civil *c);
int64_t date_from_civil(const struct civil *c, const struct tz *tz);
int date_days_in_month(int64_t year, int month);

/* Formats with Fusion's (moment.js) tokens; text in [brackets] is copied.
 * Returns the new text. */
char *date_format(int64_t ms, const struct tz *tz, const char *format);
/* Parses `text` with the same tokens. Fields the format lacks come from
 * `now_ms` (the date) or are 0 (the time). Returns 0 or -EINVAL with a
 * message in *reterr (caller frees). */
int date_parse(const char *text, const char *format, const struct tz *tz, int64_t now_ms,
	       int64_t *ret_ms, char **reterr);
