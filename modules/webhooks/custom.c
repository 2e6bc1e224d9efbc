/* SPDX-License-Identifier: MIT */
/*
 * webhooks.custom, Fusion's custom webhook: an instant trigger at POST
 * /hooks/<scenario>. The daemon's HTTP front receives the request within
 * the trigger's limits, checks its `verify`, queues it as the bundle
 * {method, headers, query, body, files} and keeps the caller waiting for a
 * webhooks.respond (or a plain 200 "Accepted" when the run does without, and
 * 202 with the execution's id past `response_wait`); the executor hands the
 * queued bundle to this module as the cycle's event, which it emits.
 *
 * `verify`, `max_body` and `response_wait` are read before any run, so they
 * cannot hold mappings (module_field.constant).
 */
#include <string.h>

#include "modules/webhooks/internal.h"
#include "modules/webhooks/verify.h"
#include "util/json.h"
#include "util/units.h"
#include "util/xalloc.h"

#define MAX_BODY_LIMIT ((int64_t)1 << 30) /* what max_body may ask for */
#define MAX_RESPONSE_WAIT_MS (5 * 60 * 1000) /* Fusion answers by then too */

const struct module_field webhooks_custom_fields[] = {
	{ .name = "verify",
	  .type = FIELD_MAP,
	  .constant = true,
	  .summary = "hmac {header, secret}, basic {user, password}, ip_allow [CIDR]" },
	{ .name = "max_body",
	  .type = FIELD_SIZE,
	  .constant = true,
	  .summary = "largest request body (5MiB); larger ones get 413" },
	{ .name = "response_wait",
	  .type = FIELD_DURATION,
	  .constant = true,
	  .summary = "how long a caller waits for webhooks.respond (30s), then 202" },
	{ .name = NULL },
};

int webhooks_custom_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	const cJSON *verify = cJSON_GetObjectItemCaseSensitive(constant_with, "verify");
	const char *max_body = json_get_string(constant_with, "max_body");
	const char *wait = json_get_string(constant_with, "response_wait");
	_cleanup_free_ char *message = NULL;
	struct webhooks_verify v;
	int problems = 0;
	int64_t n;

	if (webhooks_verify_parse(verify, &v, &message) < 0) {
		report(ctx, "verify", "%s", message);
		problems++;
	}
	webhooks_verify_done(&v);
	if (max_body && (units_parse_size(max_body, &n) < 0 || n < 1 || n > MAX_BODY_LIMIT)) {
		report(ctx, "max_body", "expected a size from 1B to 1GiB");
		problems++;
	}
	if (wait && (units_parse_duration(wait, &n) < 0 || n < 0 || n > MAX_RESPONSE_WAIT_MS)) {
		report(ctx, "response_wait", "expected a duration from 0s to 5m");
		problems++;
	}
	return problems;
}

int webhooks_custom_start(struct module_run *run)
{
	if (!run->event) {
		module_run_log(
			run, LOG_LEVEL_DEBUG,
			"no request queued: requests arrive at scenariod's /hooks/<scenario>");
		return MODULE_DONE;
	}
	module_run_emit(run, cJSON_Duplicate(run->event, true));
	return MODULE_DONE;
}
