/* SPDX-License-Identifier: MIT */
/*
 * Clocks and ISO 8601; see timeutil.h.
 */
#include "util/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_format_iso(int64_t epoch_ms, char *buf, size_t size)
{
	time_t secs = (time_t)(epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000);
	int millis = (int)(epoch_ms - (int64_t)secs * 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

static int read_digits(const char **p, int count, int *ret)
{
	int v = 0;

	for (int i = 0; i < count; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += count;
	*ret = v;
	return 0;
}

int time_parse_iso(const char *text, int64_t *ret_epoch_ms)
{
	const char *p = text;
	struct tm tm = { 0 };
	int year, month, day, hour = 0, minute = 0, second = 0, millis = 0, offset_min = 0;

	if (read_digits(&p, 4, &year) < 0 || *p++ != '-' || read_digits(&p, 2, &month) < 0 ||
	    *p++ != '-' || read_digits(&p, 2, &day) < 0)
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (read_digits(&p, 2, &hour) < 0 || *p++ != ':' || read_digits(&p, 2, &minute) < 0)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (read_digits(&p, 2, &second) < 0)
				return -EINVAL;
			if (*p == '.') {
				int scale = 100;

				p++;
				if (!isdigit((unsigned char)*p))
					return -EINVAL;
				for (; isdigit((unsigned char)*p); p++, scale /= 10)
					millis += (*p - '0') * scale;
			}
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

			if (read_digits(&p, 2, &oh) < 0)
				return -EINVAL;
			if (*p == ':')
				p++;
			if (*p && read_digits(&p, 2, &om) < 0)
				return -EINVAL;
			offset_min = sign * (oh * 60 + om);
		}
	}
	if (*p || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
	    second > 60)
		return -EINVAL;
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	*ret_epoch_ms = ((int64_t)timegm(&tm) - (int64_t)offset_min * 60) * 1000 + millis;
	return 0;
}
