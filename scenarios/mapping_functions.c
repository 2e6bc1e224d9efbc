/* SPDX-License-Identifier: MIT */
/*
 * The one place that lists the function tables, so the compiler can reject
 * an unknown name when the scenario loads and suggest the closest one.
 * Each group (general, text, array, math, date) lives in its own file.
 */
#include "scenarios/mapping_internal.h"

#include <stdlib.h>
#include <strings.h>

#include "util/diag.h"
#include "util/xalloc.h"

static const struct mapping_function *const tables[] = {
	mapping_functions_general, mapping_functions_text, mapping_functions_encode,
	mapping_functions_array,   mapping_functions_math, mapping_functions_date,
};

const struct mapping_function *mapping_function_find(const char *name)
{
	for (size_t t = 0; t < ELEMENTSOF(tables); t++)
		for (const struct mapping_function *f = tables[t]; f->name; f++)
			if (strcasecmp(f->name, name) == 0)
				return f;
	return NULL;
}

const char *mapping_function_suggest(const char *name)
{
	_cleanup_free_ const char **names = NULL;
	size_t n = 0, capacity = 0;

	for (size_t t = 0; t < ELEMENTSOF(tables); t++)
		for (const struct mapping_function *f = tables[t]; f->name; f++) {
			names = xgrow(names, &capacity, n + 2, sizeof(*names));
			names[n++] = f->name;
		}
	if (!names)
		return NULL;
	names[n] = NULL;
	return diag_did_you_mean(name, names);
}
