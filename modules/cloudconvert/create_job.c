/* SPDX-License-Identifier: MIT */
/*
 * cloudconvert.create_job, Fusion's "Create a Job" (advanced): any task
 * graph written as the API takes it, tasks named by the user and linked by
 * `input` (a name or a list of names), including "execute a command"
 * (command) and "export to temporary URL" (export/url) tasks. `inputs`
 * adds an import task of a given name per input, so a file value from an
 * earlier module can be uploaded into the graph. The job is tagged like
 * every job scenariod creates and runs through jobs.c; with download on,
 * every export/url task's files are downloaded.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "util/json.h"
#include "util/xalloc.h"

#define MAX_TASK_NAME 64

const struct module_field cc_create_job_fields[] = {
	{ .name = "tasks",
	  .type = FIELD_MAP,
	  .required = true,
	  .summary = "task name → task object, exactly as the API takes it" },
	{ .name = "inputs",
	  .type = FIELD_MAP,
	  .summary = "task name → input ({upload: FILE} or {url, headers}): import tasks" },
	{ .name = "tag", .type = FIELD_TEXT, .summary = "prefix of the job's tag" },
	{ .name = "download",
	  .type = FIELD_BOOLEAN,
	  .summary = "wait and download every export/url task's files (default false)" },
	{ .name = "wait",
	  .type = FIELD_DURATION,
	  .summary = "longest wait with download on (default 3m)" },
	{ .name = NULL },
};

static bool valid_task_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAX_TASK_NAME)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

/* The checks that need no connection, shared by load-time validation and
 * the run: returns a message for the first problem, or NULL. */
static char *check_graph(const cJSON *tasks, const cJSON *inputs)
{
	const cJSON *task, *input;

	if (tasks && (!cJSON_IsObject(tasks) || !tasks->child))
		return xstrdup("tasks: expected a map of task names to tasks");
	if (cJSON_GetArraySize(tasks) + cJSON_GetArraySize(inputs) > CC_MAX_TASKS)
		return xasprintf("a job may have at most %d tasks", CC_MAX_TASKS);
	cJSON_ArrayForEach(task, tasks) {
		if (!valid_task_name(task->string))
			return xasprintf("tasks: '%s' is not a task name (letters, digits, '-' "
					 "and '_', at most %d)",
					 task->string, MAX_TASK_NAME);
		if (!cJSON_IsObject(task) || !json_get_string(task, "operation"))
			return xasprintf("tasks.%s: expected a task with an operation",
					 task->string);
	}
	cJSON_ArrayForEach(input, (cJSON_IsObject(inputs) ? inputs : NULL)) {
		if (!valid_task_name(input->string))
			return xasprintf("inputs: '%s' is not a task name", input->string);
		if (cJSON_GetObjectItemCaseSensitive(tasks, input->string))
			return xasprintf("inputs: '%s' is also a task of tasks", input->string);
	}
	return NULL;
}

int cc_create_job_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	_cleanup_free_ char *problem =
		check_graph(cJSON_GetObjectItemCaseSensitive(constant_with, "tasks"),
			    cJSON_GetObjectItemCaseSensitive(constant_with, "inputs"));

	if (!problem)
		return 0;
	report(ctx, strncmp(problem, "inputs", 6) == 0 ? "inputs" : "tasks", "%s", problem);
	return 1;
}

int cc_create_job_start(struct module_run *run)
{
	struct cc_job_flow *flow = xcalloc(1, sizeof(*flow));
	const cJSON *tasks = module_input(run, "tasks");
	const cJSON *inputs = module_input(run, "inputs");
	_cleanup_free_ char *problem = check_graph(tasks, inputs);
	const cJSON *item;
	int r;

	flow->tasks = cJSON_CreateObject();
	r = problem ? module_run_fail(run, ERROR_DATA, "%s", problem) :
		      cc_jobs_read_common(flow, run);
	/* Imports first, so that uploads happen in the order inputs were given. */
	cJSON_ArrayForEach(item, (r == 0 && cJSON_IsObject(inputs) ? inputs : NULL)) {
		_cleanup_free_ char *where = xasprintf("inputs.%s", item->string);

		r = cc_jobs_add_input(flow, run, item->string, item, where);
		if (r < 0)
			break;
	}
	if (r < 0) {
		cc_jobs_flow_free(flow);
		return r;
	}
	cJSON_ArrayForEach(item, tasks)
		cJSON_AddItemToObject(flow->tasks, item->string, cJSON_Duplicate(item, true));
	return cc_jobs_start(flow, run);
}
