/* SPDX-License-Identifier: MIT */
/*
 * builtin.array_aggregator: its field table (validated like every other
 * module's) and the one piece of its behaviour that is not the executor's,
 * shaping collected values into output bundles; see aggregator.h.
 *
 * Grouping sorts the bundle positions by key text (ties by position), so a
 * run of equal keys is one group whose members are already in arrival
 * order; the groups are then put back in first-seen order. That is
 * O(n log n) where comparing each key with every group seen would be
 * quadratic in the worst case.
 */
#include "modules/builtin/aggregator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/builtin/internal.h"
#include "util/json.h"
#include "util/xalloc.h"

const struct module_field aggregator_fields[] = {
	{ .name = "source",
	  .type = FIELD_MODULE_ID,
	  .required = true,
	  .summary = "id of the iterator or search module whose bundles are collected" },
	{ .name = "value",
	  .type = FIELD_ANY,
	  .summary = "what to collect per bundle (default: the whole bundle)" },
	{ .name = "group_by",
	  .type = FIELD_ANY,
	  .summary = "one output bundle {key, array} per distinct value of this" },
	{ .name = "stop_if_empty",
	  .type = FIELD_BOOLEAN,
	  .summary = "emit nothing when no bundle was collected (default false)" },
	{ .name = NULL },
};

struct keyed {
	char *text; /* owned: the key's text */
	size_t index; /* position of the bundle in `values` */
	const cJSON *key; /* borrowed from `keys` */
	const cJSON *value; /* borrowed from `values` */
};

struct group {
	size_t first; /* position in `keyed` of the group's first member */
	size_t count;
};

static int compare_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->text, y->text);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int compare_groups(const void *a, const void *b, void *userdata)
{
	const struct keyed *keyed = userdata;
	const struct group *x = a, *y = b;
	size_t i = keyed[x->first].index, j = keyed[y->first].index;

	return i < j ? -1 : i > j;
}

static cJSON *build_groups(const cJSON *values, const cJSON *keys, size_t n)
{
	struct keyed *keyed = xcalloc(n ? n : 1, sizeof(*keyed));
	struct group *groups = xcalloc(n ? n : 1, sizeof(*groups));
	cJSON *bundles = cJSON_CreateArray();
	const cJSON *key = keys->child, *value = values->child;
	size_t ngroups = 0;

	/* cJSON arrays are linked lists: walk them once instead of indexing. */
	for (size_t i = 0; i < n; i++, key = key->next, value = value->next)
		keyed[i] = (struct keyed){
			.text = json_to_text(key), .index = i, .key = key, .value = value
		};
	qsort(keyed, n, sizeof(*keyed), compare_keyed);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(keyed[i].text, keyed[i - 1].text) != 0)
			groups[ngroups++] = (struct group){ .first = i };
		groups[ngroups - 1].count++;
	}
	qsort_r(groups, ngroups, sizeof(*groups), compare_groups, keyed);

	for (size_t g = 0; g < ngroups; g++) {
		const struct keyed *members = keyed + groups[g].first;
		cJSON *bundle = cJSON_CreateObject(), *array = cJSON_CreateArray();

		cJSON_AddItemToObject(bundle, "key", cJSON_Duplicate(members[0].key, true));
		for (size_t m = 0; m < groups[g].count; m++)
			cJSON_AddItemToArray(array, cJSON_Duplicate(members[m].value, true));
		cJSON_AddItemToObject(bundle, "array", array);
		cJSON_AddItemToArray(bundles, bundle);
	}

	for (size_t i = 0; i < n; i++)
		free(keyed[i].text);
	free(keyed);
	free(groups);
	return bundles;
}

int aggregator_output_build(const cJSON *values, const cJSON *keys, bool stop_if_empty,
			    cJSON **ret_bundles)
{
	cJSON *bundles, *bundle;
	int n;

	if (!cJSON_IsArray(values))
		return -EINVAL;
	n = cJSON_GetArraySize(values);
	if (keys) {
		if (!cJSON_IsArray(keys) || cJSON_GetArraySize(keys) != n)
			return -EINVAL;
		*ret_bundles = build_groups(values, keys, (size_t)n);
		return 0;
	}

	bundles = cJSON_CreateArray();
	if (n == 0 && stop_if_empty) {
		*ret_bundles = bundles;
		return 0;
	}
	bundle = cJSON_CreateObject();
	cJSON_AddItemToObject(bundle, "array", cJSON_Duplicate(values, true));
	cJSON_AddItemToArray(bundles, bundle);
	*ret_bundles = bundles;
	return 0;
}
