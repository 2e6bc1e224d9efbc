/* SPDX-License-Identifier: MIT */
/*
 * builtin.iterator (Fusion's Iterator, Make's BasicFeeder): one output
 * bundle per item of an array, each of which runs the rest of the flow.
 * The array is already in memory (it was mapped), so the module finishes
 * synchronously.
 *
 * Bundle shape: {value, index (1-based), total}; an item that is an object
 * also has its keys at the top level, so `{{3.name}}` works as it does in
 * Fusion, with value/index/total winning a clash. A missing or null array
 * emits nothing, like an empty one (a mapping that reads a missing path
 * gives null, and Fusion's iterator then outputs no bundles); anything
 * else that is not an array is a DataError.
 */
#include "modules/builtin/internal.h"
#include "util/json.h"
#include "util/xalloc.h"

const struct module_field iterator_fields[] = {
	{ .name = "array",
	  .type = FIELD_LIST,
	  .required = true,
	  .summary = "the array whose items become bundles" },
	{ .name = NULL },
};

static const char *describe_type(const cJSON *value)
{
	if (json_is_file_value(value))
		return "a file";
	if (cJSON_IsObject(value))
		return "a map";
	if (cJSON_IsString(value))
		return "text";
	if (cJSON_IsNumber(value))
		return "a number";
	if (cJSON_IsBool(value))
		return "a boolean";
	return "something else";
}

static cJSON *build_bundle(const cJSON *item, int index, int total)
{
	cJSON *bundle = cJSON_CreateObject();
	const cJSON *member;

	cJSON_AddItemToObject(bundle, "value", cJSON_Duplicate(item, true));
	cJSON_AddNumberToObject(bundle, "index", index);
	cJSON_AddNumberToObject(bundle, "total", total);
	if (!cJSON_IsObject(item))
		return bundle;
	cJSON_ArrayForEach(member, item) {
		if (streq(member->string, "value") || streq(member->string, "index") ||
		    streq(member->string, "total"))
			continue;
		cJSON_AddItemToObject(bundle, member->string, cJSON_Duplicate(member, true));
	}
	return bundle;
}

int iterator_run_start(struct module_run *run)
{
	const cJSON *array = module_input(run, "array");
	const cJSON *item;
	int total, index = 0;

	if (!array)
		return MODULE_DONE;
	if (!cJSON_IsArray(array))
		return module_run_fail(run, ERROR_DATA, "array must be a list, not %s",
				       describe_type(array));

	total = cJSON_GetArraySize(array);
	if (total > ITERATOR_MAX_ITEMS)
		return module_run_fail(run, ERROR_MAX_RESULTS_EXCEEDED,
				       "array has %d items; builtin.iterator takes at most %d",
				       total, ITERATOR_MAX_ITEMS);
	cJSON_ArrayForEach(item, array)
		module_run_emit(run, build_bundle(item, ++index, total));
	return MODULE_DONE;
}
