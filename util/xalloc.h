/* SPDX-License-Identifier: MIT */
/*
 * Allocation that never returns NULL: running out of memory aborts, so it is
 * not an error path anywhere in this code base (redis zmalloc, OpenSMTPD
 * xmalloc). Every size a user controls has an explicit limit instead.
 * Everything returned here is freed with free().
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "util/cleanup.h"

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array of `count` elements of `size` bytes to at least `need`
 * elements, doubling; updates *capacity. */
void *xgrow(void *ptr, size_t *capacity, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);
