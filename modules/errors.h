/* SPDX-License-Identifier: MIT */
/*
 * The typed errors of scenario-format.md "Errors", mirroring Fusion's. Every
 * module failure carries one, with a message a person can act on; the
 * executor routes on the type (error handlers, default handling).
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum error_type {
	ERROR_CONNECTION,
	ERROR_RATE_LIMIT,
	ERROR_MODULE_TIMEOUT,
	ERROR_OUT_OF_SPACE,
	ERROR_DATA,
	ERROR_DUPLICATE_DATA,
	ERROR_INVALID_CONFIGURATION,
	ERROR_INVALID_ACCESS_TOKEN,
	ERROR_INCOMPLETE_DATA,
	ERROR_MAX_FILE_SIZE_EXCEEDED,
	ERROR_MAX_RESULTS_EXCEEDED,
	ERROR_UNEXPECTED,
	ERROR_INCONSISTENCY,
	ERROR_RUNTIME,
	ERROR_EXECUTION_INTERRUPTED,
	_ERROR_TYPE_MAX,
	_ERROR_TYPE_INVALID = -EINVAL,
};

/* "ConnectionError", … ; NULL for an out-of-range value. */
const char *error_type_to_string(enum error_type type);
/* The enum for a name, or -EINVAL. */
int error_type_from_string(const char *name);

struct module_error {
	enum error_type type;
	char *message; /* owned; never holds a secret */
	int64_t retry_after_ms; /* RateLimitError: what the remote side asked for; 0: unknown */
};

void module_error_done(struct module_error *error);
/* {"type": …, "message": …} (plus "module" when module_id is not NULL, and
 * "retry_after_ms" when the remote side asked to wait). */
cJSON *module_error_to_json(const struct module_error *error, const char *module_id);
