/* SPDX-License-Identifier: MIT */
/*
 * The functions a module uses to report on its run; see module.h.
 */
#include "modules/module.h"

#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>

#include "util/json.h"
#include "util/xalloc.h"

static const char *const field_type_names[_FIELD_TYPE_MAX] = {
	[FIELD_ANY] = "any",
	[FIELD_TEXT] = "text",
	[FIELD_NUMBER] = "number",
	[FIELD_INTEGER] = "integer",
	[FIELD_BOOLEAN] = "boolean",
	[FIELD_MAP] = "map",
	[FIELD_LIST] = "list",
	[FIELD_FILE] = "file",
	[FIELD_DURATION] = "duration",
	[FIELD_SIZE] = "size",
	[FIELD_ENUM] = "enum",
	[FIELD_INPUT] = "input",
	[FIELD_MODULE_ID] = "module id",
};

const char *field_type_to_string(enum field_type type)
{
	if (type < 0 || type >= _FIELD_TYPE_MAX)
		return NULL;
	return field_type_names[type];
}

void module_run_emit(struct module_run *run, cJSON *bundle)
{
	if (!run->outputs)
		run->outputs = cJSON_CreateArray();
	cJSON_AddItemToArray(run->outputs, bundle);
}

int module_run_fail(struct module_run *run, enum error_type type, const char *fmt, ...)
{
	va_list ap;

	if (run->failed)
		return -EIO;
	run->failed = true;
	run->error.type = type;
	va_start(ap, fmt);
	run->error.message = xvasprintf(fmt, ap);
	va_end(ap);
	return -EIO;
}

void module_run_set_retry_after(struct module_run *run, int64_t ms)
{
	if (run->failed)
		run->error.retry_after_ms = ms;
}

void module_run_set_cursor(struct module_run *run, const char *cursor)
{
	free(run->new_cursor);
	run->new_cursor = cursor ? xstrdup(cursor) : NULL;
}

void module_run_log(struct module_run *run, enum log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	cJSON *line;
	va_list ap;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	if (!run->log)
		run->log = cJSON_CreateArray();
	line = cJSON_CreateObject();
	cJSON_AddStringToObject(line, "level", log_level_to_string(level));
	cJSON_AddStringToObject(line, "message", text);
	cJSON_AddItemToArray(run->log, line);
}

void module_run_finish(struct module_run *run)
{
	run->done(run);
}

const cJSON *module_input(const struct module_run *run, const char *field)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(run->input, field);

	return cJSON_IsNull(item) ? NULL : item;
}

const char *module_input_string(const struct module_run *run, const char *field)
{
	const cJSON *item = module_input(run, field);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

bool module_repeat_always(const cJSON *input)
{
	(void)input;
	return true;
}

bool module_repeat_idempotent_method(const cJSON *input)
{
	static const char *const idempotent[] = { "GET", "HEAD", "OPTIONS", "PUT", "DELETE" };
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(input, "method");

	if (!input)
		return false;
	if (!method || cJSON_IsNull(method))
		return true;
	if (!cJSON_IsString(method))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(idempotent); i++)
		if (strcasecmp(method->valuestring, idempotent[i]) == 0)
			return true;
	return false;
}
