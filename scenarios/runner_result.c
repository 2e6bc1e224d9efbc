/* SPDX-License-Identifier: MIT */
/*
 * A job's result as the `run --json` document of docs/cli.md: what
 * `scenarioctl run` prints, and what the daemon answers to `trigger --wait`
 * and to retries asked over its control socket, so both programs show one
 * shape.
 */
#include "scenarios/runner.h"

#include <stdio.h>

#include "scenarios/executor.h"
#include "scenarios/runner_internal.h"
#include "scenarios/scenario.h"
#include "util/json.h"

static void add_id(cJSON *doc, const char *key, int64_t id)
{
	char text[32];

	if (!id) {
		cJSON_AddNullToObject(doc, key);
		return;
	}
	snprintf(text, sizeof(text), "%lld", (long long)id);
	cJSON_AddStringToObject(doc, key, text);
}

cJSON *runner_job_document(const struct runner_job *job)
{
	const struct execution *execution = runner_job_execution(job);
	const struct store_counters *counters;
	const cJSON *error;
	cJSON *doc;

	if (!execution)
		return NULL;
	counters = execution_counters(execution);
	error = execution_error(execution);
	doc = cJSON_CreateObject();
	add_id(doc, "execution_id", execution_id(execution));
	cJSON_AddStringToObject(doc, "scenario", job->scenario->name);
	cJSON_AddStringToObject(doc, "status",
				execution_status_to_string(execution_status(execution)));
	cJSON_AddNumberToObject(doc, "operations", (double)counters->operations);
	cJSON_AddNumberToObject(doc, "duration_ms", (double)counters->duration_ms);
	cJSON_AddNumberToObject(doc, "bytes", (double)counters->bytes);
	add_id(doc, "incomplete_id", execution_incomplete_id(execution));
	cJSON_AddItemToObject(doc, "error",
			      error ? cJSON_Duplicate(error, true) : cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "modules", execution_summary(execution));
	if (job->kind == JOB_RETRY)
		add_id(doc, "resumed_incomplete_id", job->incomplete_id);
	return doc;
}
