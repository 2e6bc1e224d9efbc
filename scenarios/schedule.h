/* SPDX-License-Identifier: MIT */
/*
 * The calendar of a loaded schedule (struct schedule, scenario.h): when its
 * next slot falls in the scenario's time zone, how it reads in a status
 * table, and a key that tells the daemon whether a stored "next run" still
 * belongs to it. Pure functions: no clock is read and nothing is kept.
 *
 * DST: a local time inside a spring-forward gap does not exist that day and
 * is skipped (not moved); a local time that occurs twice in a fall-back
 * overlap fires once, at the earlier instant. A monthly day the month does
 * not have (31 in April) is skipped that month.
 */
#pragma once

#include <stdint.h>

struct schedule;
struct tz;

/** Returns the first slot strictly after `after_ms` (epoch ms) in zone `tz`
 * (NULL: UTC), or 0 when there is none (on-demand, instant, no instant left,
 * a cron line matching nothing within eight years); an interval gives
 * `after_ms + interval_ms`. */
int64_t schedule_next(const struct schedule *schedule, const struct tz *tz, int64_t after_ms);

/** Returns a short text for status tables, such as "daily 08:00, 17:30" or
 * "every 1h30m"; caller frees. */
char *schedule_describe(const struct schedule *schedule);

/** Returns a text that changes exactly when the slots would (the form, its
 * values and, for calendar forms, the zone name `timezone`, NULL meaning
 * UTC); caller frees. */
char *schedule_key(const struct schedule *schedule, const char *timezone);
