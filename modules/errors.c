/* SPDX-License-Identifier: MIT */
/*
 * Names of the error types and their JSON form.
 */
#include "modules/errors.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[_ERROR_TYPE_MAX] = {
	[ERROR_CONNECTION] = "ConnectionError",
	[ERROR_RATE_LIMIT] = "RateLimitError",
	[ERROR_MODULE_TIMEOUT] = "ModuleTimeoutError",
	[ERROR_OUT_OF_SPACE] = "OutOfSpaceError",
	[ERROR_DATA] = "DataError",
	[ERROR_DUPLICATE_DATA] = "DuplicateDataError",
	[ERROR_INVALID_CONFIGURATION] = "InvalidConfigurationError",
	[ERROR_INVALID_ACCESS_TOKEN] = "InvalidAccessTokenError",
	[ERROR_INCOMPLETE_DATA] = "IncompleteDataError",
	[ERROR_MAX_FILE_SIZE_EXCEEDED] = "MaxFileSizeExceededError",
	[ERROR_MAX_RESULTS_EXCEEDED] = "MaxResultsExceededError",
	[ERROR_UNEXPECTED] = "UnexpectedError",
	[ERROR_INCONSISTENCY] = "InconsistencyError",
	[ERROR_RUNTIME] = "RuntimeError",
	[ERROR_EXECUTION_INTERRUPTED] = "ExecutionInterrupted",
};

const char *error_type_to_string(enum error_type type)
{
	if (type < 0 || type >= _ERROR_TYPE_MAX)
		return NULL;
	return type_names[type];
}

int error_type_from_string(const char *name)
{
	for (int i = 0; i < _ERROR_TYPE_MAX; i++)
		if (strcmp(type_names[i], name) == 0)
			return i;
	return -EINVAL;
}

void module_error_done(struct module_error *error)
{
	free(error->message);
	error->message = NULL;
}

cJSON *module_error_to_json(const struct module_error *error, const char *module_id)
{
	cJSON *json = cJSON_CreateObject();

	cJSON_AddStringToObject(json, "type", error_type_to_string(error->type));
	cJSON_AddStringToObject(json, "message", error->message ? error->message : "");
	if (module_id)
		cJSON_AddStringToObject(json, "module", module_id);
	/* Kept with the error so a stored incomplete execution waits at least
	 * as long as the remote side asked (a 429's Retry-After). */
	if (error->retry_after_ms > 0)
		cJSON_AddNumberToObject(json, "retry_after_ms", (double)error->retry_after_ms);
	return json;
}
