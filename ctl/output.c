/* SPDX-License-Identifier: MIT */
/*
 * Output for people (aligned tables) and for scripts (one JSON document).
 */
#include "ctl/ctl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

#define TABLE_MAX_COLUMNS 12
/* Cells longer than this are cut with "…" so one long error keeps the
 * table readable; --json has everything. */
#define TABLE_MAX_CELL 60

struct table {
	size_t columns;
	char **cells; /* owned: rows × columns, the header row first */
	size_t rows;
	size_t widths[TABLE_MAX_COLUMNS];
};

void ctl_print_json(const cJSON *doc)
{
	char *text = isatty(STDOUT_FILENO) ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);

	fputs(text ? text : "null", stdout);
	fputc('\n', stdout);
	free(text);
}

struct table *table_new(const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	while (headers[t->columns] && t->columns < TABLE_MAX_COLUMNS)
		t->columns++;
	table_add_row(t, headers);
	return t;
}

/* Display width of UTF-8 text: count the bytes that start a character. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static char *cell_text(const char *text)
{
	char *copy = xstrdup(text ? text : "");

	for (char *p = copy; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	if (strlen(copy) > TABLE_MAX_CELL) {
		size_t cut = TABLE_MAX_CELL - 3;

		while (cut > 0 && ((unsigned char)copy[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(copy + cut, "...", 4);
	}
	return copy;
}

void table_add_row(struct table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->rows + 1) * t->columns * sizeof(char *));
	for (size_t c = 0; c < t->columns; c++) {
		char *text = cell_text(cells[c]);
		size_t w = text_width(text);

		t->cells[t->rows * t->columns + c] = text;
		if (w > t->widths[c])
			t->widths[c] = w;
	}
	t->rows++;
}

void table_print(struct table *t, FILE *out)
{
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->columns; c++) {
			const char *text = t->cells[r * t->columns + c];
			bool last = c + 1 == t->columns;

			fputs(text, out);
			if (!last)
				fprintf(out, "%*s", (int)(t->widths[c] - text_width(text) + 2), "");
		}
		fputc('\n', out);
	}
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->rows * t->columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}
