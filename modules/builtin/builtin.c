/* SPDX-License-Identifier: MIT */
/*
 * The builtin app: modules that need nothing outside the process. This file
 * holds the app's table (builtin_modules[], listed in modules/registry.c)
 * and the two one-line modules, builtin.log and builtin.set, which finish
 * synchronously. sleep.c, iterator.c and aggregator.c hold the others.
 */
#include <string.h>

#include "modules/builtin/internal.h"
#include "util/json.h"
#include "util/log.h"
#include "util/xalloc.h"

static const char *const log_levels[] = { "debug", "info", "notice", "warning", "error", NULL };

static const struct module_field log_fields[] = {
	{ .name = "message",
	  .type = FIELD_TEXT,
	  .required = true,
	  .summary = "the line to write to the run's log" },
	{ .name = "level",
	  .type = FIELD_ENUM,
	  .choices = log_levels,
	  .summary = "debug, info (default), notice, warning or error" },
	{ .name = NULL },
};

/*
 * builtin.log: the message goes to the run's log at the chosen level and is
 * also the module's output, so a later module can map it. The level was
 * checked at load time when constant; a mapped level is checked here.
 */
static int log_run_start(struct module_run *run)
{
	_cleanup_free_ char *message = NULL;
	const cJSON *level_item = module_input(run, "level");
	int level = LOG_LEVEL_INFO;
	cJSON *bundle;

	if (level_item) {
		_cleanup_free_ char *text = json_to_text(level_item);

		level = log_level_from_string(text);
		if (level < 0)
			return module_run_fail(
				run, ERROR_DATA,
				"level must be one of debug, info, notice, warning or "
				"error, not '%s'",
				text);
	}

	message = json_to_text(module_input(run, "message"));
	module_run_log(run, level, "%s", message);

	bundle = cJSON_CreateObject();
	cJSON_AddStringToObject(bundle, "message", message);
	module_run_emit(run, bundle);
	return MODULE_DONE;
}

static const struct module_field set_fields[] = {
	{ .name = "variables",
	  .type = FIELD_MAP,
	  .required = true,
	  .summary = "map of name → value; the output bundle holds them by name" },
	{ .name = NULL },
};

/* builtin.set: the output bundle is the map itself (null maps to {}). */
static int set_run_start(struct module_run *run)
{
	const cJSON *variables = module_input(run, "variables");

	if (variables && !cJSON_IsObject(variables))
		return module_run_fail(run, ERROR_DATA,
				       "variables must be a map of name → value, not %s",
				       cJSON_IsArray(variables) ? "a list" : "a single value");

	module_run_emit(run, variables ? cJSON_Duplicate(variables, true) : cJSON_CreateObject());
	return MODULE_DONE;
}

const struct module_desc builtin_modules[] = {
	{
		.app = "builtin",
		.name = "log",
		.summary = "Write a line to the run's log",
		.kind = MODULE_ACTION,
		.safe_to_repeat = module_repeat_always,
		.fields = log_fields,
		.start = log_run_start,
	},
	{
		.app = "builtin",
		.name = "set",
		.summary = "Set variables for later modules",
		.kind = MODULE_ACTION,
		.safe_to_repeat = module_repeat_always,
		.fields = set_fields,
		.start = set_run_start,
	},
	{
		.app = "builtin",
		.name = "sleep",
		.summary = "Wait for a while (at most 5m)",
		.kind = MODULE_ACTION,
		.safe_to_repeat = module_repeat_always,
		.fields = sleep_fields,
		.validate = sleep_with_validate,
		.start = sleep_run_start,
		.cancel = sleep_run_cancel,
	},
	{
		.app = "builtin",
		.name = "iterator",
		.summary = "Emit one bundle per item of an array",
		.kind = MODULE_SEARCH,
		.safe_to_repeat = module_repeat_always,
		.fields = iterator_fields,
		.start = iterator_run_start,
	},
	{
		.app = "builtin",
		.name = "array_aggregator",
		.summary = "Collect the bundles of an iterator or search into one array",
		.kind = MODULE_AGGREGATOR,
		.fields = aggregator_fields,
	},
	{ .name = NULL },
};
