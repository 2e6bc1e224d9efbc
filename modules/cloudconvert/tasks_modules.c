/* SPDX-License-Identifier: MIT */
/*
 * The task modules: Get a Task, List Tasks, Retry a Task, Cancel a Task,
 * Delete a Task and Download a File.
 *
 * Retrying and cancelling are POSTs with effects, so they are not repeated
 * after a fault that may have reached the API (a retry would make two new
 * tasks); the error says so. download_file takes an export/url task, waits
 * for it within `wait` when it is still running, reports a failed task by
 * its code and message, and emits one bundle per exported file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static const char *const task_statuses[] = { "waiting", "processing", "finished", "error", NULL };
static const char *const task_includes[] = { "retries", "depends_on_tasks", "payload", "job",
					     NULL };

#define TASK_ID_FIELD                                                    \
	{                                                                \
		.name = "task_id", .type = FIELD_TEXT, .required = true, \
		.summary = "the task's id"                               \
	}

const struct module_field cc_get_task_fields[] = {
	TASK_ID_FIELD,
	{ .name = "include",
	  .type = FIELD_LIST,
	  .choices = task_includes,
	  .summary = "also return: retries, depends_on_tasks, payload, job" },
	{ .name = NULL },
};

const struct module_field cc_list_tasks_fields[] = {
	{ .name = "status",
	  .type = FIELD_ENUM,
	  .choices = task_statuses,
	  .summary = "waiting, processing, finished or error" },
	{ .name = "job_id", .type = FIELD_TEXT, .summary = "only the tasks of this job" },
	{ .name = "operation", .type = FIELD_TEXT, .summary = "only this operation, e.g. convert" },
	{ .name = "limit", .type = FIELD_INTEGER, .summary = "most tasks emitted (default 10)" },
	{ .name = NULL },
};

const struct module_field cc_retry_task_fields[] = { TASK_ID_FIELD, { .name = NULL } };
const struct module_field cc_cancel_task_fields[] = { TASK_ID_FIELD, { .name = NULL } };
const struct module_field cc_delete_task_fields[] = { TASK_ID_FIELD, { .name = NULL } };

const struct module_field cc_download_file_fields[] = {
	{ .name = "task_id",
	  .type = FIELD_TEXT,
	  .required = true,
	  .summary = "the id of an export/url task" },
	{ .name = "wait",
	  .type = FIELD_DURATION,
	  .summary = "longest wait for a task still running (default 3m)" },
	{ .name = NULL },
};

static struct cc_simple *task_call(struct module_run *run, const char *method, const char *suffix,
				   cc_emit_fn *emit)
{
	_cleanup_free_ char *id = cc_simple_id(run, "task_id");
	_cleanup_free_ char *path = NULL;
	struct cc_simple *s;

	if (!id)
		return NULL;
	path = xasprintf("/v2/tasks/%s%s", id, suffix);
	s = cc_simple_new(method, path, emit);
	s->state = cJSON_CreateObject();
	cJSON_AddStringToObject(s->state, "id", id);
	return s;
}

int cc_get_task_start(struct module_run *run)
{
	struct cc_simple *s = task_call(run, "GET", "", cc_simple_emit_object);
	const cJSON *include = module_input(run, "include"), *item;
	struct strbuf list;

	if (!s)
		return -EIO;
	s->flags = CC_CALL_IDEMPOTENT;
	strbuf_init(&list);
	cJSON_ArrayForEach(item, (cJSON_IsArray(include) ? include : NULL)) {
		bool known = false;

		for (size_t i = 0; task_includes[i]; i++)
			known |= cJSON_IsString(item) && streq(item->valuestring, task_includes[i]);
		if (!known) {
			strbuf_done(&list);
			cc_simple_free(s);
			return module_run_fail(run, ERROR_DATA,
					       "include: expected retries, depends_on_tasks, "
					       "payload or job");
		}
		if (list.len)
			strbuf_putc(&list, ',');
		strbuf_puts(&list, item->valuestring);
	}
	if (list.len)
		cJSON_AddStringToObject(s->query, "include", list.data);
	strbuf_done(&list);
	return cc_simple_start(s, run);
}

int cc_list_tasks_start(struct module_run *run)
{
	struct cc_simple *s = cc_simple_new("GET", "/v2/tasks", cc_simple_emit_list);
	char per_page[16];
	int r;

	r = cc_input_integer(run, "limit", 10, 1, CC_MAX_LIST, &s->limit);
	if (r < 0) {
		cc_simple_free(s);
		return r;
	}
	cc_simple_filter(s, run, "status", "filter[status]");
	cc_simple_filter(s, run, "job_id", "filter[job_id]");
	cc_simple_filter(s, run, "operation", "filter[operation]");
	snprintf(per_page, sizeof(per_page), "%d",
		 s->limit > CC_PER_PAGE ? CC_PER_PAGE : (int)s->limit);
	cJSON_AddStringToObject(s->query, "per_page", per_page);
	s->page = 1;
	s->flags = CC_CALL_IDEMPOTENT;
	return cc_simple_start(s, run);
}

int cc_retry_task_start(struct module_run *run)
{
	struct cc_simple *s = task_call(run, "POST", "/retry", cc_simple_emit_object);

	return s ? cc_simple_start(s, run) : -EIO;
}

int cc_cancel_task_start(struct module_run *run)
{
	struct cc_simple *s = task_call(run, "POST", "/cancel", cc_simple_emit_object);

	return s ? cc_simple_start(s, run) : -EIO;
}

int cc_delete_task_start(struct module_run *run)
{
	struct cc_simple *s = task_call(run, "DELETE", "", cc_simple_emit_id);

	if (!s)
		return -EIO;
	s->flags = CC_CALL_IDEMPOTENT | CC_CALL_GONE_OK;
	return cc_simple_start(s, run);
}

/* ---- download_file ---- */

static void on_files(struct cc_op *op, int status)
{
	const cJSON *value;

	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	cJSON_ArrayForEach(value, op->download.values) {
		cJSON *bundle = cJSON_CreateObject();

		cJSON_AddItemToObject(bundle, "file", cJSON_Duplicate(value, true));
		module_run_emit(op->run, bundle);
	}
	cc_op_finish(op);
}

/* The task in op->doc has ended: download what it exported. */
static void download_task(struct cc_op *op)
{
	const cJSON *task = cc_parse_data(op->doc);
	_cleanup_free_ char *failure = NULL;
	_cleanup_json_ cJSON *files = NULL;

	if (cc_parse_failure(task, &failure) == 0) {
		cc_op_fail_with(op, ERROR_RUNTIME, "CloudConvert %s", failure);
		return;
	}
	if (!streq_ptr(json_get_string(task, "operation"), "export/url")) {
		cc_op_fail_with(op, ERROR_DATA,
				"task %s is a %s task; only export/url tasks have files to "
				"download",
				json_get_string(task, "id") ?: "?",
				json_get_string(task, "operation") ?: "?");
		return;
	}
	files = cc_parse_export_files(task);
	cc_download_start(op, files, on_files);
}

static void on_waited(struct cc_op *op, int status)
{
	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	download_task(op);
}

static void emit_download(struct cc_simple *s)
{
	const cJSON *task = cc_parse_data(s->op.doc);

	if (!cJSON_IsObject(task)) {
		cc_op_fail_with(&s->op, ERROR_UNEXPECTED, "CloudConvert answered without the task");
		return;
	}
	if (cc_parse_is_final(task)) {
		download_task(&s->op);
		return;
	}
	cc_wait_start(&s->op, "tasks", json_get_string(s->state, "id"), s->wait_ms, on_waited);
}

int cc_download_file_start(struct module_run *run)
{
	struct cc_simple *s = task_call(run, "GET", "", emit_download);
	int r;

	if (!s)
		return -EIO;
	r = cc_input_duration(run, "wait", CC_DEFAULT_WAIT_MS, &s->wait_ms);
	if (r < 0) {
		cc_simple_free(s);
		return r;
	}
	s->flags = CC_CALL_IDEMPOTENT;
	return cc_simple_start(s, run);
}
