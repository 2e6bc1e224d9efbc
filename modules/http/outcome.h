/* SPDX-License-Identifier: MIT */
/*
 * What a finished HTTP exchange means for a module: success, or one of the
 * typed errors of modules/errors.h, so every module that speaks HTTP fails
 * the same way for the same cause.
 *
 *	transport failures, timeouts	ConnectionError
 *	-EFBIG (response too large)	MaxFileSizeExceededError
 *	-ECANCELED			ExecutionInterrupted
 *	408, 5xx			ConnectionError
 *	429				RateLimitError (+ Retry-After)
 *	401, 403			InvalidAccessTokenError
 *	413				MaxFileSizeExceededError
 *	other 4xx			DataError
 *	1xx, 2xx, 3xx			success
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "modules/errors.h"

struct http_request;
struct module_run;

/** True when the exchange failed; then *ret_error is filled (the caller
 * calls module_error_done()) with a message naming the request (no query,
 * no credentials), the status and what the server said when it said it in
 * a short text or a JSON "message"/"error" member. `status` is the done
 * callback's. */
bool http_outcome_error(const struct http_request *req, int status, struct module_error *ret_error);
/** Fails `run` with http_outcome_error()'s error (Retry-After included);
 * returns -EIO. Only for a failed exchange. */
int http_outcome_fail_run(struct module_run *run, const struct http_request *req, int status);
/** A Retry-After value, delta-seconds or an HTTP-date, as milliseconds from
 * `now_ms` (epoch ms); 0 when absent, unparsable or in the past. Capped at
 * one day. */
int64_t http_outcome_retry_after_ms(const char *value, int64_t now_ms);
/** The error type of an HTTP status (>= 400), per the table above. */
enum error_type http_outcome_status_type(long status);
