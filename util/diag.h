/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics about user input (scenario files, connections files, mapping
 * expressions): each one names the file, line and column, so a person can go
 * straight to the mistake. Validation collects every problem into a
 * diag_list instead of stopping at the first.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/cleanup.h"

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	enum diag_severity severity;
	char *file; /* owned; may be NULL when there is no file */
	int line; /* 1-based; 0 when unknown */
	int column; /* 1-based; 0 when unknown */
	char *message; /* owned */
};

struct diag_list {
	struct diag *items; /* owned */
	size_t count;
	size_t capacity;
};

void diag_list_init(struct diag_list *list);
void diag_list_done(struct diag_list *list);
void diag_list_add(struct diag_list *list, enum diag_severity severity, const char *file, int line,
		   int column, const char *fmt, ...) _printf_(6, 7);
#define diag_error(list, file, line, column, ...) \
	diag_list_add(list, DIAG_ERROR, file, line, column, __VA_ARGS__)
size_t diag_list_errors(const struct diag_list *list);
/* Sorts by file, line, column so the output reads top to bottom. */
void diag_list_sort(struct diag_list *list);
/* Prints "FILE:LINE:COL: error: MESSAGE" lines. */
void diag_list_print(const struct diag_list *list, FILE *out);
/* Formats one diagnostic as printed; the caller frees the result. */
char *diag_format(const struct diag *d);

/* Returns the candidate closest to `word` by edit distance when it is close
 * enough to be a plausible typo, else NULL. `candidates` ends with NULL. */
const char *diag_did_you_mean(const char *word, const char *const *candidates);
