/* SPDX-License-Identifier: MIT */
/*
 * Hex digits and %XX decoding, as URLs, forms and Content-Disposition
 * parameters write bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* 0..15 for a hex digit (either case), -1 otherwise. */
int hex_digit_value(char c);

/* The bytes of [s, s+len) with each %XX decoded (and '+' as a space when
 * `plus_as_space`, as in application/x-www-form-urlencoded); a '%' not
 * followed by two hex digits is kept as written. The result is
 * NUL-terminated (a decoded %00 ends it early for C strings); the caller
 * frees it with free(). */
char *percent_decode(const char *s, size_t len, bool plus_as_space);
