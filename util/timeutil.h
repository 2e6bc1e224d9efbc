/* SPDX-License-Identifier: MIT */
/*
 * Clocks and the one text form of an instant used everywhere:
 * ISO 8601 UTC with milliseconds, "2026-11-28T18:00:00.000Z".
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds since the epoch. */
int64_t time_now_ms(void);
/* Monotonic clock, milliseconds; for durations and deadlines only. */
int64_t time_monotonic_ms(void);
/* Writes the ISO 8601 UTC form of `epoch_ms` into buf (at least 25 bytes). */
void time_format_iso(int64_t epoch_ms, char *buf, size_t size);
/* Parses ISO 8601 ("2026-11-28", "2026-11-28T18:00", "…:00Z", "…+01:00",
 * fractional seconds). A time without an offset is read in UTC.
 * Returns 0 or -EINVAL. */
int time_parse_iso(const char *text, int64_t *ret_epoch_ms);
