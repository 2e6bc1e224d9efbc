/* SPDX-License-Identifier: MIT */
/*
 * Collected diagnostics and the "did you mean" helper used for unknown keys
 * and module names.
 */
#include "util/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void diag_list_init(struct diag_list *list)
{
	*list = (struct diag_list){ 0 };
}

void diag_list_done(struct diag_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].file);
		free(list->items[i].message);
	}
	free(list->items);
	*list = (struct diag_list){ 0 };
}

void diag_list_add(struct diag_list *list, enum diag_severity severity, const char *file, int line,
		   int column, const char *fmt, ...)
{
	va_list ap;
	struct diag *d;

	list->items = xgrow(list->items, &list->capacity, list->count + 1, sizeof(*list->items));
	d = &list->items[list->count++];
	va_start(ap, fmt);
	*d = (struct diag){
		.severity = severity,
		.file = file ? xstrdup(file) : NULL,
		.line = line,
		.column = column,
		.message = xvasprintf(fmt, ap),
	};
	va_end(ap);
}

size_t diag_list_errors(const struct diag_list *list)
{
	size_t n = 0;

	for (size_t i = 0; i < list->count; i++)
		n += list->items[i].severity == DIAG_ERROR;
	return n;
}

static int compare_diags(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int r = strcmp(x->file ? x->file : "", y->file ? y->file : "");

	if (r)
		return r;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return 0;
}

void diag_list_sort(struct diag_list *list)
{
	/* qsort is not stable; two messages at one position keep no order, which
	 * is fine since both are printed. */
	if (list->count > 1)
		qsort(list->items, list->count, sizeof(*list->items), compare_diags);
}

char *diag_format(const struct diag *d)
{
	const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";

	if (d->file && d->line > 0)
		return xasprintf("%s:%d:%d: %s: %s", d->file, d->line, d->column, sev, d->message);
	if (d->file)
		return xasprintf("%s: %s: %s", d->file, sev, d->message);
	return xasprintf("%s: %s", sev, d->message);
}

void diag_list_print(const struct diag_list *list, FILE *out)
{
	for (size_t i = 0; i < list->count; i++) {
		_cleanup_free_ char *line = diag_format(&list->items[i]);

		fprintf(out, "%s\n", line);
	}
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	_cleanup_free_ size_t *row = xcalloc(lb + 1, sizeof(size_t));

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag_prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag_prev + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag_prev = up;
		}
	}
	return row[lb];
}

const char *diag_did_you_mean(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_distance = (size_t)-1;
	size_t limit = strlen(word) / 3 + 1;

	if (limit > 3)
		limit = 3;
	for (size_t i = 0; candidates[i]; i++) {
		size_t d = edit_distance(word, candidates[i]);

		if (d < best_distance) {
			best_distance = d;
			best = candidates[i];
		}
	}
	return best_distance <= limit ? best : NULL;
}
