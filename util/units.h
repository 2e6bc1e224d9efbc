/* SPDX-License-Identifier: MIT */
/*
 * Durations ("30s", "15m", "1h", "2d", "250ms") and sizes ("100MiB", "5MB",
 * "1024") as scenario files write them.
 */
#pragma once

#include <stdint.h>

/* Parses a duration into milliseconds. Returns 0, or -EINVAL when the text
 * is not a positive number followed by ms, s, m, h or d. */
int units_parse_duration(const char *text, int64_t *ret_ms);
/* Parses a size into bytes: a number with an optional B, KB/MB/GB (1000s) or
 * KiB/MiB/GiB (1024s) suffix. Returns 0 or -EINVAL. */
int units_parse_size(const char *text, int64_t *ret_bytes);
/* Formats a duration like "1h 2m 3s"; caller frees. */
char *units_format_duration(int64_t ms);
