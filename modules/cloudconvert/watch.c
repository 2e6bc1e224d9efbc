/* SPDX-License-Identifier: MIT */
/*
 * cloudconvert.watch_job_events, Fusion's "New Job Event": an instant
 * trigger fed by CloudConvert's webhooks, for jobs (job.created,
 * job.finished, job.failed) or individual tasks (task.created,
 * task.finished, task.failed). The daemon owns the plumbing
 * (scenario-format.md "Instant triggers and the webhook queue"): it
 * registers the webhook with POST /v2/webhooks, keeps its signing secret,
 * checks every delivery with cc_signature_verify() before parsing it, turns
 * it into the bundle with cc_parse_webhook_event() ({event, job} or {event,
 * task}, as CloudConvert sends it) and queues that; the executor hands the
 * queued bundle to this module as the cycle's event, which it emits.
 *
 * A run without an event (scenarioctl run, a schedule with an empty queue)
 * emits nothing, as Fusion's trigger does when its queue is empty.
 */
#include <errno.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "modules/connection.h"
#include "util/json.h"

static const char *const events[] = { "job.created",   "job.finished", "job.failed", "task.created",
				      "task.finished", "task.failed",  NULL };
#define EVENT_NAMES \
	"job.created, job.finished, job.failed, task.created, task.finished, task.failed"

const struct module_field cc_watch_job_events_fields[] = {
	{ .name = "events",
	  .type = FIELD_LIST,
	  .required = true,
	  .choices = events,
	  .summary = "job and/or task events: " EVENT_NAMES },
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
		report(ctx, "events", "expected a list of " EVENT_NAMES);
		return 1;
	}
	unknown = unknown_event(list);
	if (unknown) {
		report(ctx, "events", "unknown event '%s' (" EVENT_NAMES ")", unknown);
		return 1;
	}
	return 0;
}

int cc_watch_job_events_start(struct module_run *run)
{
	const cJSON *list = module_input(run, "events");
	const char *unknown = unknown_event(list);

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0 || unknown)
		return module_run_fail(run, ERROR_DATA, "events: expected a list of " EVENT_NAMES);
	if (!run->connection || run->connection->problem)
		return module_run_fail(run, ERROR_INVALID_CONFIGURATION, "%s",
				       run->connection ? run->connection->problem :
							 "cloudconvert.watch_job_events needs a "
							 "connection");
	if (!run->event) {
		module_run_log(
			run, LOG_LEVEL_DEBUG,
			"no event queued: events arrive through scenariod's webhook listener");
		return MODULE_DONE;
	}
	module_run_emit(run, cJSON_Duplicate(run->event, true));
	return MODULE_DONE;
}
