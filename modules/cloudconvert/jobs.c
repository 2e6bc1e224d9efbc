/* SPDX-License-Identifier: MIT */
/*
 * Running a job as the job-creating modules do (capture_website,
 * convert_file, create_archive, merge_files, optimize_file, create_job):
 * create it, upload the files of its import/upload tasks, and then either
 * return it at once (download off, as in Fusion) or wait for it, report a
 * failure by its root task, and download what its export/url tasks made.
 *
 * Creating a job is not idempotent, and the API has answered 500 to a job
 * it then ran (node#60). So every job carries a tag derived from the
 * scenario, execution, module and bundle, and after an ambiguous failure
 * (a 5xx, a connection lost once the request may have been sent) the job
 * is looked up by that tag (GET /v2/jobs?filter[tag]=…) before it is
 * created again: one module run creates at most one job. A run resumed
 * from an incomplete execution (run->resumed) has the same tag and looks
 * first: a job its earlier attempt left running is taken over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "modules/connection.h"
#include "store/store.h"
#include "util/json.h"
#include "util/units.h"
#include "util/xalloc.h"

char *cc_jobs_tag(const char *prefix, const char *scenario, int64_t execution_id,
		  const char *module_id, uint64_t bundle_seq)
{
	if (prefix && *prefix)
		return xasprintf("%s:%lld:%s:%llu", prefix, (long long)execution_id,
				 module_id ? module_id : "-", (unsigned long long)bundle_seq);
	return xasprintf("scenariod:%s:%lld:%s:%llu", scenario ? scenario : "-",
			 (long long)execution_id, module_id ? module_id : "-",
			 (unsigned long long)bundle_seq);
}

static struct cc_job_flow *flow_of(struct cc_op *op)
{
	return container_of(op, struct cc_job_flow, op);
}

void cc_jobs_flow_free(struct cc_job_flow *flow)
{
	if (!flow)
		return;
	if (flow->free_extra)
		flow->free_extra(flow);
	cJSON_Delete(flow->tasks);
	cJSON_Delete(flow->uploads);
	cJSON_Delete(flow->job);
	cJSON_Delete(flow->failed_before);
	module_error_done(&flow->create_error);
	free(flow->tag);
	free(flow);
}

static void free_op(struct cc_op *op)
{
	cc_jobs_flow_free(flow_of(op));
}

static void create(struct cc_op *op);
static void upload_next(struct cc_op *op);

/* ---- the end ---- */

static void emit_job(struct cc_job_flow *flow, cJSON *files)
{
	cJSON *bundle = TAKE_PTR(flow->job);

	if (files) {
		cJSON *first = cJSON_GetArrayItem(files, 0);

		cJSON_AddItemToObject(bundle, "file",
				      first ? cJSON_Duplicate(first, true) : cJSON_CreateNull());
		cJSON_AddItemToObject(bundle, "files", files);
	}
	module_run_emit(flow->op.run, bundle);
	cc_op_finish(&flow->op);
}

static void on_downloaded(struct cc_op *op, int status)
{
	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	emit_job(flow_of(op), TAKE_PTR(op->download.values));
}

static void on_waited(struct cc_op *op, int status)
{
	struct cc_job_flow *flow = flow_of(op);
	_cleanup_free_ char *failure = NULL;
	_cleanup_json_ cJSON *files = NULL;
	cJSON *job;

	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	job = cc_parse_take_data(op->doc);
	if (!cJSON_IsObject(job)) {
		cJSON_Delete(job);
		cc_op_fail_with(op, ERROR_UNEXPECTED, "CloudConvert answered without the job");
		return;
	}
	cJSON_Delete(flow->job);
	flow->job = job;
	if (cc_parse_failure(job, &failure) == 0) {
		cc_op_fail_with(op, ERROR_RUNTIME, "CloudConvert job %s failed: %s",
				json_get_string(job, "id") ?: "?", failure);
		return;
	}
	files = cc_parse_export_files(job);
	cc_download_start(op, files, on_downloaded);
}

/* ---- uploads ---- */

static void on_refetched(struct cc_op *op, int status)
{
	struct cc_job_flow *flow = flow_of(op);
	cJSON *job;

	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	job = cc_parse_take_data(op->doc);
	if (!cJSON_IsObject(job)) {
		cJSON_Delete(job);
		cc_op_fail_with(op, ERROR_UNEXPECTED, "CloudConvert answered without the job");
		return;
	}
	cJSON_Delete(flow->job);
	flow->job = job;
	upload_next(op);
}

static int setup_get_job(struct cc_op *op, struct http_request *req)
{
	struct cc_job_flow *flow = flow_of(op);
	_cleanup_free_ char *path =
		xasprintf("/v2/jobs/%s", json_get_string(flow->job, "id") ?: "");

	return cc_api_request(op, req, CC_HOST_API, "GET", path);
}

static void on_uploaded(struct cc_op *op, int status)
{
	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	flow_of(op)->next_task++;
	upload_next(op);
}

static void after_uploads(struct cc_op *op)
{
	struct cc_job_flow *flow = flow_of(op);

	if (!flow->download) {
		emit_job(flow, NULL);
		return;
	}
	cc_wait_start(op, "jobs", json_get_string(flow->job, "id"), flow->wait_ms, on_waited);
}

/* Uploads the file of the next waiting import/upload task, in task order. */
static void upload_next(struct cc_op *op)
{
	struct cc_job_flow *flow = flow_of(op);
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(flow->job, "tasks");
	const cJSON *task, *file, *params;
	const char *name, *url;
	int r;

	for (;; flow->next_task++) {
		task = cJSON_GetArrayItem(tasks, flow->next_task);
		if (!task) {
			after_uploads(op);
			return;
		}
		if (streq_ptr(json_get_string(task, "operation"), "import/upload") &&
		    streq_ptr(json_get_string(task, "status"), "waiting"))
			break;
	}
	name = json_get_string(task, "name");
	file = cJSON_GetObjectItemCaseSensitive(flow->uploads, name ? name : "");
	if (!file) {
		cc_op_fail_with(op, ERROR_DATA,
				"task '%s' is an import/upload task, but no file was given for it "
				"(add it to inputs as {upload: FILE})",
				name ? name : "?");
		return;
	}
	r = cc_parse_upload_form(task, &url, &params);
	if (r == -ENOENT && !flow->refetched) {
		/* A listed job may come without its tasks' results. */
		flow->refetched = true;
		cc_api_call(op, CC_CALL_IDEMPOTENT, setup_get_job, on_refetched);
		return;
	}
	cc_upload_start(op, task, file, on_uploaded);
}

static void got_job(struct cc_op *op, cJSON *job)
{
	struct cc_job_flow *flow = flow_of(op);

	cJSON_Delete(flow->job);
	flow->job = job;
	flow->next_task = 0;
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(job, "tasks")) && !flow->refetched) {
		flow->refetched = true;
		cc_api_call(op, CC_CALL_IDEMPOTENT, setup_get_job, on_refetched);
		return;
	}
	upload_next(op);
}

/* ---- creation, and finding an unconfirmed creation again ---- */

static bool in_list(const cJSON *ids, const char *id)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, ids)
		if (cJSON_IsString(item) && streq_ptr(item->valuestring, id))
			return true;
	return false;
}

/*
 * The answer to GET /v2/jobs?filter[tag]=TAG. Either a creation may have
 * happened unseen (then the job found is ours), or the run is resumed and
 * an earlier attempt may have created the job (then a job still running or
 * finished is taken over; one that failed is remembered and never taken
 * again, since retrying the module means running the job again).
 */
static void on_lookup(struct cc_op *op, int status)
{
	struct cc_job_flow *flow = flow_of(op);
	const cJSON *items, *item;
	bool more;

	if (status < 0) {
		if (op->error.type != ERROR_EXECUTION_INTERRUPTED && flow->creations > 0)
			cc_op_set_error(op, ERROR_CONNECTION,
					"%s; looking the job up by its tag '%s' failed too, so it "
					"may exist: %s",
					flow->create_error.message, flow->tag, op->error.message);
		else if (op->error.type != ERROR_EXECUTION_INTERRUPTED)
			cc_op_set_error(op, ERROR_CONNECTION,
					"cannot tell whether an earlier attempt created the job "
					"(tag '%s'): %s",
					flow->tag, op->error.message);
		cc_op_fail(op);
		return;
	}
	if (cc_parse_list(op->doc, &items, &more) < 0) {
		cc_op_fail_with(op, ERROR_UNEXPECTED, "CloudConvert's job list is not a list");
		return;
	}
	cJSON_ArrayForEach(item, items) {
		const char *id = json_get_string(item, "id");

		if (!streq_ptr(json_get_string(item, "tag"), flow->tag) || !id ||
		    in_list(flow->failed_before, id))
			continue;
		if (flow->creations == 0 && streq_ptr(json_get_string(item, "status"), "error")) {
			if (!flow->failed_before)
				flow->failed_before = cJSON_CreateArray();
			cJSON_AddItemToArray(flow->failed_before, cJSON_CreateString(id));
			continue;
		}
		got_job(op, cJSON_Duplicate(item, true));
		return;
	}
	/* A lookup that finds nothing proves the creation did not happen, so
	 * trying again is safe; the connection's attempts bound it like any
	 * other retried call. */
	if (flow->creations >= op->conn->retry.attempts) {
		module_error_done(&op->error);
		op->error = flow->create_error;
		flow->create_error = (struct module_error){ 0 };
		cc_op_fail(op);
		return;
	}
	create(op);
}

static int setup_lookup(struct cc_op *op, struct http_request *req)
{
	struct cc_job_flow *flow = flow_of(op);
	int r;

	r = cc_api_request(op, req, CC_HOST_API, "GET", "/v2/jobs");
	if (r == 0)
		r = http_request_add_query(req, "filter[tag]", flow->tag);
	if (r == 0)
		r = http_request_add_query(req, "include", "tasks");
	return r;
}

static void on_created(struct cc_op *op, int status)
{
	struct cc_job_flow *flow = flow_of(op);
	cJSON *job;

	if (status < 0 && op->ambiguous) {
		module_error_done(&flow->create_error);
		flow->create_error = op->error;
		op->error = (struct module_error){ 0 };
		cc_api_call(op, CC_CALL_IDEMPOTENT, setup_lookup, on_lookup);
		return;
	}
	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	job = cc_parse_take_data(op->doc);
	if (!cJSON_IsObject(job) || !json_get_string(job, "id")) {
		cJSON_Delete(job);
		cc_op_fail_with(op, ERROR_UNEXPECTED,
				"CloudConvert created a job but did not "
				"say which");
		return;
	}
	got_job(op, job);
}

static int setup_create(struct cc_op *op, struct http_request *req)
{
	struct cc_job_flow *flow = flow_of(op);
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	int r;

	r = cc_api_request(op, req, CC_HOST_API, "POST", "/v2/jobs");
	if (r < 0)
		return r;
	cJSON_AddItemReferenceToObject(body, "tasks", flow->tasks);
	cJSON_AddStringToObject(body, "tag", flow->tag);
	r = http_request_set_body_json(req, body);
	if (r < 0)
		cc_op_set_error(op, ERROR_DATA, "the job is too large to send (%s)", strerror(-r));
	return r;
}

static void create(struct cc_op *op)
{
	flow_of(op)->creations++;
	cc_api_call(op, 0, setup_create, on_created);
}

int cc_jobs_start(struct cc_job_flow *flow, struct module_run *run)
{
	int r;

	if (cJSON_GetArraySize(flow->tasks) > CC_MAX_TASKS) {
		r = module_run_fail(run, ERROR_DATA, "a job may have at most %d tasks",
				    CC_MAX_TASKS);
		cc_jobs_flow_free(flow);
		return r;
	}
	r = cc_op_begin(&flow->op, run, free_op);
	if (r < 0) {
		cc_jobs_flow_free(flow);
		return r;
	}
	/* This bundle ran the module before without knowing how it ended: the
	 * job may exist already. */
	if (run->resumed)
		cc_api_call(&flow->op, CC_CALL_IDEMPOTENT, setup_lookup, on_lookup);
	else
		create(&flow->op);
	return MODULE_PENDING;
}

/* ---- building the job ---- */

static bool is_http_url(const char *url)
{
	return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) &&
	       !strpbrk(url, " \r\n");
}

int cc_jobs_add_input(struct cc_job_flow *flow, struct module_run *run, const char *name,
		      const cJSON *input, const char *where)
{
	const cJSON *upload = cJSON_GetObjectItemCaseSensitive(input, "upload");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(input, "headers");
	const char *url = json_get_string(input, "url");
	const char *filename = json_get_string(input, "filename");
	const char *path;
	cJSON *task = cJSON_CreateObject();

	if (json_is_file_value(upload)) {
		if (store_blob_resolve(run->env->store, upload, &path) < 0) {
			cJSON_Delete(task);
			return module_run_fail(run, ERROR_DATA,
					       "%s: the file '%s' is not in this scenariod's store",
					       where, json_get_string(upload, "name") ?: "?");
		}
		cJSON_AddStringToObject(task, "operation", "import/upload");
		if (!flow->uploads)
			flow->uploads = cJSON_CreateObject();
		cJSON_AddItemToObject(flow->uploads, name, cJSON_Duplicate(upload, true));
	} else if (url) {
		if (!is_http_url(url)) {
			cJSON_Delete(task);
			return module_run_fail(run, ERROR_DATA,
					       "%s: the url must be an http or https URL", where);
		}
		if (headers && !cJSON_IsNull(headers) && !cJSON_IsObject(headers)) {
			cJSON_Delete(task);
			return module_run_fail(run, ERROR_DATA,
					       "%s: headers must be a map of names to values",
					       where);
		}
		cJSON_AddStringToObject(task, "operation", "import/url");
		cJSON_AddStringToObject(task, "url", url);
		if (cJSON_IsObject(headers) && cJSON_GetArraySize(headers) > 0)
			cJSON_AddItemToObject(task, "headers", cJSON_Duplicate(headers, true));
		if (filename && *filename)
			cJSON_AddStringToObject(task, "filename", filename);
	} else {
		cJSON_Delete(task);
		return module_run_fail(run, ERROR_DATA,
				       "%s: expected {upload: FILE} or {url: TEXT, headers: {...}}",
				       where);
	}
	cJSON_AddItemToObject(flow->tasks, name, task);
	return 0;
}

int cc_jobs_read_common(struct cc_job_flow *flow, struct module_run *run)
{
	_cleanup_free_ char *prefix = cc_input_text(run, "tag");
	int r;

	if (prefix && strlen(prefix) > CC_TAG_PREFIX_MAX)
		return module_run_fail(run, ERROR_DATA, "tag may be at most %d characters",
				       CC_TAG_PREFIX_MAX);
	flow->download = cc_input_bool(run, "download", false);
	r = cc_input_duration(run, "wait", CC_DEFAULT_WAIT_MS, &flow->wait_ms);
	if (r < 0)
		return r;
	flow->tag = cc_jobs_tag(prefix, run->scenario, run->execution_id, run->module_id,
				run->bundle_seq);
	if (!flow->tasks)
		flow->tasks = cJSON_CreateObject();
	return 0;
}
