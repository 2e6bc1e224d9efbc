/* SPDX-License-Identifier: MIT */
/*
 * The log sink: filters by level and group, prefixes "<N>" for journald, and
 * on a terminal adds a readable time. The error text of log_*_errno() comes
 * from strerror(-error), appended as ": text".
 */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level max_level = LOG_LEVEL_INFO;
static bool group_debug[_LOG_GRP_MAX];
static int timestamps = -1; /* -1: decide from isatty(stderr) */

static const char *const group_names[_LOG_GRP_MAX] = {
	[LOG_GRP_DAEMON] = "daemon", [LOG_GRP_CONTROL] = "control", [LOG_GRP_SCHED] = "sched",
	[LOG_GRP_RUN] = "run",	     [LOG_GRP_HTTP] = "http",	    [LOG_GRP_STORE] = "store",
	[LOG_GRP_MODULE] = "module",
};

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	max_level = level;
}

void log_set_group_debug(enum log_group group, bool on)
{
	if (group >= 0 && group < _LOG_GRP_MAX)
		group_debug[group] = on;
}

void log_set_timestamps(bool on)
{
	timestamps = on;
}

const char *log_group_to_string(enum log_group group)
{
	if (group < 0 || group >= _LOG_GRP_MAX)
		return NULL;
	return group_names[group];
}

int log_group_from_string(const char *s)
{
	for (int i = 0; i < _LOG_GRP_MAX; i++)
		if (strcmp(group_names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *log_level_to_string(enum log_level level)
{
	if (level < LOG_LEVEL_ERROR || level > LOG_LEVEL_DEBUG)
		return NULL;
	return level_names[level];
}

int log_level_from_string(const char *s)
{
	for (int i = LOG_LEVEL_ERROR; i <= LOG_LEVEL_DEBUG; i++)
		if (strcmp(level_names[i], s) == 0)
			return i;
	return -EINVAL;
}

bool log_would_log(enum log_level level, enum log_group group)
{
	if (level <= max_level)
		return true;
	return level == LOG_LEVEL_DEBUG && group >= 0 && group < _LOG_GRP_MAX && group_debug[group];
}

int log_emit(enum log_level level, enum log_group group, int error, const char *fmt, ...)
{
	char text[4096];
	char stamp[32] = "";
	va_list ap;

	if (!log_would_log(level, group))
		return error;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	if (timestamps < 0)
		timestamps = isatty(STDERR_FILENO);
	if (timestamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S ", &tm);
	}

	if (error)
		fprintf(stderr, "<%d>%s%s %s: %s: %s\n", level, stamp, level_names[level],
			group_names[group], text, strerror(error < 0 ? -error : error));
	else
		fprintf(stderr, "<%d>%s%s %s: %s\n", level, stamp, level_names[level],
			group_names[group], text);
	return error;
}
