/* SPDX-License-Identifier: MIT */
/*
 * cloudconvert.watch_job_events, Fusion's "New Job Event": an instant
 * trigger fed by CloudConvert's webhooks (job.created, job.finished,
 * job.failed). The daemon owns the plumbing (scenario-format.md "Instant
 * triggers and the webhook queue"): it registers the webhook with POST
 * /v2/webhooks, keeps its signing secret, checks every delivery with
 * cc_signature_verify() before parsing it, queues it, and hands the queued
 * body to this module as the `delivery` input, which cc_parse_webhook_event()
 * turns into the bundle {event, job}.
 *
 * A run started without a delivery (scenarioctl run, or a schedule) has no
 * event to report and emits nothing, as Fusion's trigger does when its
 * queue is empty.
 */
#include <errno.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "modules/connection.h"
#include "util/json.h"

static const char *const events[] = { "job.created", "job.finished", "job.failed", NULL };

const struct module_field cc_watch_job_events_fields[] = {
	{ .name = "events",
	  .type = FIELD_LIST,
	  .required = true,
	  .choices = events,
	  .summary = "job.created, job.finished and/or job.failed" },
	{ .name = "name", .type = FIELD_TEXT, .summary = "the webhook's name" },
	{ .name = NULL },
};

static const char *unknown_event(const cJSON *list)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, list) {
		bool known = false;

		for (size_t i = 0; events[i]; i++)
			known |= cJSON_IsString(item) && streq(item->valuestring, events[i]);
		if (!known)
			return cJSON_IsString(item) ? item->valuestring : "(not text)";
	}
	return NULL;
}

int cc_watch_job_events_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(constant_with, "events");
	const char *unknown;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
		report(ctx, "events", "expected a list of job.created, job.finished, job.failed");
		return 1;
	}
	unknown = unknown_event(list);
	if (unknown) {
		report(ctx, "events", "unknown event '%s' (job.created, job.finished, job.failed)",
		       unknown);
		return 1;
	}
	return 0;
}

int cc_watch_job_events_start(struct module_run *run)
{
	const cJSON *list = module_input(run, "events");
	const char *delivery = module_input_string(run, "delivery");
	const char *unknown = unknown_event(list);
	cJSON *bundle = NULL;
	int r;

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0 || unknown)
		return module_run_fail(run, ERROR_DATA,
				       "events: expected a list of job.created, job.finished, "
				       "job.failed");
	if (!run->connection || run->connection->problem)
		return module_run_fail(run, ERROR_INVALID_CONFIGURATION, "%s",
				       run->connection ? run->connection->problem :
							 "cloudconvert.watch_job_events needs a "
							 "connection");
	if (!delivery) {
		module_run_log(run, LOG_LEVEL_DEBUG,
			       "no webhook delivery queued: events arrive through scenariod's "
			       "webhook listener");
		return MODULE_DONE;
	}
	r = cc_parse_webhook_event(delivery, strlen(delivery), list, &bundle);
	if (r == -ENOENT)
		return MODULE_DONE;
	if (r < 0)
		return module_run_fail(run, ERROR_DATA,
				       "the webhook delivery is not a CloudConvert job event");
	module_run_emit(run, bundle);
	return MODULE_DONE;
}
