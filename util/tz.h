/* SPDX-License-Identifier: MIT */
/*
 * IANA time zones read from the system's TZif files ($TZDIR, else
 * /usr/share/zoneinfo), for formatting dates in a scenario's zone and
 * reading local times back. Loaded zones are immutable and can be shared
 * between threads; nothing here touches the process's TZ or localtime.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/cleanup.h"

struct tz;

/* Names longer than this are rejected. */
#define TZ_NAME_MAX 128

/* Loads zone `name` ("Europe/Amsterdam", "UTC"). Returns -EINVAL for a
 * name that is not a zone name (empty, absolute, containing ".."),
 * -ENOENT when no such zone is installed, -EBADMSG for a file that is not
 * TZif. "UTC" and "Etc/UTC" work without tzdata. */
int tz_load(const char *name, struct tz **ret);
/* Accepts NULL; returns NULL. */
struct tz *tz_free(struct tz *tz);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tz, tz_free)
/* True when tz_load(name) would succeed (for validating `timezone:`). */
bool tz_exists(const char *name);
/* The name as loaded (borrowed). */
const char *tz_name(const struct tz *tz);

/* Offset from UTC in seconds (east positive) in effect at `epoch_s`.
 * A NULL zone is UTC. */
int32_t tz_offset_at(const struct tz *tz, int64_t epoch_s);
/* Converts a local wall-clock time (seconds since 1970-01-01T00:00 local)
 * to UTC. A time skipped by a DST gap is moved forward by the gap; an
 * ambiguous time takes the earlier instant (moment-timezone's rule). */
int64_t tz_local_to_utc(const struct tz *tz, int64_t local_s);
/* The same without moving: returns 0 and the instant, or -ENOENT when the
 * local time does not exist (inside a DST gap). An ambiguous time takes
 * the earlier instant. */
int tz_local_to_utc_exact(const struct tz *tz, int64_t local_s, int64_t *ret_utc_s);

/* Proleptic Gregorian calendar helpers (any year, no time_t limits). */
int64_t tz_days_from_civil(int64_t year, int month, int day);
void tz_civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day);
