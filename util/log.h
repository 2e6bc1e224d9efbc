/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr, one event a line, with sd-daemon "<N>" priority prefixes
 * so journald files each line at the right level. Below daemon/ and ctl/
 * nothing logs above debug: those layers return errors and the top decides
 * what an error means (architecture.md).
 *
 * log_*_errno() log strerror(-r) and return r, so a failure path is one line:
 *   return log_error_errno(STORE, r, "Failed to open '%s'", path);
 */
#pragma once

#include <stdbool.h>

#include "util/cleanup.h"

enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

enum log_group {
	LOG_GRP_DAEMON,
	LOG_GRP_CONTROL,
	LOG_GRP_SCHED,
	LOG_GRP_RUN,
	LOG_GRP_HTTP,
	LOG_GRP_STORE,
	LOG_GRP_MODULE,
	_LOG_GRP_MAX,
};

/* The threshold below which lines are dropped; debug can be enabled per
 * group. These two are the only mutable globals outside main.c (style.md). */
void log_set_level(enum log_level level);
void log_set_group_debug(enum log_group group, bool on);
/* Where the lines go: stderr unless told otherwise (tests capture them). */
void log_set_timestamps(bool on);
bool log_would_log(enum log_level level, enum log_group group);
const char *log_group_to_string(enum log_group group);
int log_group_from_string(const char *s);
int log_level_from_string(const char *s);
const char *log_level_to_string(enum log_level level);

/* Returns `error` (a negative errno, or 0) unchanged. */
int log_emit(enum log_level level, enum log_group group, int error, const char *fmt, ...)
	_printf_(4, 5);

#define log_full(level, group, ...) log_emit(level, LOG_GRP_##group, 0, __VA_ARGS__)
#define log_debug(group, ...) log_full(LOG_LEVEL_DEBUG, group, __VA_ARGS__)
#define log_info(group, ...) log_full(LOG_LEVEL_INFO, group, __VA_ARGS__)
#define log_notice(group, ...) log_full(LOG_LEVEL_NOTICE, group, __VA_ARGS__)
#define log_warning(group, ...) log_full(LOG_LEVEL_WARNING, group, __VA_ARGS__)
#define log_error(group, ...) log_full(LOG_LEVEL_ERROR, group, __VA_ARGS__)

#define log_errno_full(level, group, r, ...) log_emit(level, LOG_GRP_##group, r, __VA_ARGS__)
#define log_debug_errno(group, r, ...) log_errno_full(LOG_LEVEL_DEBUG, group, r, __VA_ARGS__)
#define log_warning_errno(group, r, ...) log_errno_full(LOG_LEVEL_WARNING, group, r, __VA_ARGS__)
#define log_error_errno(group, r, ...) log_errno_full(LOG_LEVEL_ERROR, group, r, __VA_ARGS__)
