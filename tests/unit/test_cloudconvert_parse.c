/* SPDX-License-Identifier: MIT */
/*
 * The CloudConvert client's parsers against every fixture of
 * ../shared/reference/cloudconvert-fixtures/, loaded byte for byte as the
 * official SDKs ship them: envelopes, lists, a failed job reported by its
 * root task, export files, the S3 upload form in order, error bodies mapped
 * to the typed errors of scenario-format.md "Errors", and webhook events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/cloudconvert.h"
#include "util/json.h"

#define FIXTURE(name) "cloudconvert-fixtures/" name

static cJSON *load(const char *name)
{
	size_t len;
	char *body = helpers_read_reference(name, &len);
	cJSON *doc = NULL;

	assert_int_equal(cc_parse_body(body, len, &doc), 0);
	free(body);
	return doc;
}

static void assert_contains(const char *text, const char *part)
{
	if (!text || !strstr(text, part))
		fail_msg("'%s' does not contain '%s'", text ? text : "(null)", part);
}

static void assert_lacks(const char *text, const char *part)
{
	if (text && strstr(text, part))
		fail_msg("'%s' contains '%s'", text, part);
}

static void test_failed_job_reports_root_task(void **state)
{
	_cleanup_json_ cJSON *doc = load(FIXTURE("php__job.json"));
	const cJSON *job = cc_parse_data(doc);
	_cleanup_free_ char *failure = NULL;

	(void)state;
	assert_true(cJSON_IsObject(job));
	assert_string_equal(json_get_string(job, "id"), "cd82535b-0614-4b23-bbba-b24ab0e892f7");
	assert_true(cc_parse_is_final(job));
	assert_int_equal(cc_parse_failure(job, &failure), 0);
	assert_contains(failure, "task 'import-1' (import/url) failed: SANDBOX_FILE_NOT_ALLOWED");
	assert_contains(failure, "The file file.mp4 is not whitelisted for sandbox use");
	/* The tasks that failed only because their input did are not the cause. */
	assert_lacks(failure, "INPUT_TASK_FAILED");
	assert_lacks(failure, "export-1");
}

static void test_finished_job_exports(void **state)
{
	_cleanup_json_ cJSON *doc = load(FIXTURE("node__job_finished.json"));
	_cleanup_json_ cJSON *job = cc_parse_take_data(doc);
	_cleanup_json_ cJSON *files = NULL;
	_cleanup_free_ char *failure = NULL;
	const cJSON *file;

	(void)state;
	assert_non_null(job);
	assert_null(cJSON_GetObjectItem(doc, "data"));
	assert_true(cc_parse_is_final(job));
	assert_int_equal(cc_parse_failure(job, &failure), -ENOENT);
	files = cc_parse_export_files(job);
	assert_int_equal(cJSON_GetArraySize(files), 1);
	file = cJSON_GetArrayItem(files, 0);
	assert_string_equal(json_get_string(file, "filename"), "original.png");
	assert_int_equal(json_get_int(file, "size", 0), 1040507);
	assert_string_equal(json_get_string(file, "task"), "export-1");
	/* The \/ escapes are gone: a URL that can be fetched as it is. */
	assert_true(strncmp(json_get_string(file, "url"),
			    "https://storage.cloudconvert.com/tasks/1b7ccc22-", 48) == 0);
	/* Unknown fields stay in the object the module emits. */
	assert_non_null(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(job, "tasks"), 0), "storage"));
}

static void test_job_list(void **state)
{
	_cleanup_json_ cJSON *doc = load(FIXTURE("php__jobs.json"));
	const cJSON *items;
	bool more = true;

	(void)state;
	assert_int_equal(cc_parse_list(doc, &items, &more), 0);
	assert_false(more);
	assert_int_equal(cJSON_GetArraySize(items), 1);
	assert_string_equal(json_get_string(cJSON_GetArrayItem(items, 0), "status"), "waiting");
	assert_false(cc_parse_is_final(cJSON_GetArrayItem(items, 0)));
	/* A single object is not a list. */
	{
		_cleanup_json_ cJSON *user = load(FIXTURE("php__user.json"));

		assert_int_equal(cc_parse_list(user, &items, &more), -EBADMSG);
	}
}

static void test_task_with_dependencies(void **state)
{
	_cleanup_json_ cJSON *doc = load(FIXTURE("php__task.json"));
	const cJSON *task = cc_parse_data(doc);
	_cleanup_free_ char *failure = NULL;
	_cleanup_json_ cJSON *files = NULL;

	(void)state;
	assert_string_equal(json_get_string(task, "operation"), "export/url");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(task, "depends_on_tasks")), 1);
	/* A task on its own is reported by itself, whatever its code. */
	assert_int_equal(cc_parse_failure(task, &failure), 0);
	assert_contains(failure, "task 'export-1' (export/url) failed: INPUT_TASK_FAILED");
	files = cc_parse_export_files(task);
	assert_int_equal(cJSON_GetArraySize(files), 0);
}

static void test_upload_form_in_order(void **state)
{
	static const char *const order[] = { "acl",
					     "key",
					     "success_action_status",
					     "X-Amz-Credential",
					     "X-Amz-Algorithm",
					     "X-Amz-Date",
					     "Policy",
					     "X-Amz-Signature" };
	_cleanup_json_ cJSON *doc = load(FIXTURE("dotnet__upload_task_created.json"));
	const cJSON *task = cc_parse_data(doc), *params = NULL, *p;
	const char *url = NULL;
	size_t i = 0;

	(void)state;
	assert_int_equal(cc_parse_upload_form(task, &url, &params), 0);
	assert_string_equal(url, "https://storage.cloudconvert.com/tasks");
	cJSON_ArrayForEach(p, params) {
		assert_true(i < ELEMENTSOF(order));
		assert_string_equal(p->string, order[i++]);
	}
	assert_int_equal(i, ELEMENTSOF(order));
	assert_string_equal(json_get_string(params, "key"),
			    "9d74a9a5-c118-4411-9a0f-dca0e0d15218/${filename}");
	/* A finished task has no form. */
	{
		_cleanup_json_ cJSON *job = load(FIXTURE("node__job_finished.json"));
		const cJSON *first =
			cJSON_GetArrayItem(cJSON_GetObjectItem(cc_parse_data(job), "tasks"), 0);

		assert_int_equal(cc_parse_upload_form(first, &url, &params), -ENOENT);
	}
}

static void test_user(void **state)
{
	_cleanup_json_ cJSON *doc = load(FIXTURE("php__user.json"));
	const cJSON *user = cc_parse_data(doc);

	(void)state;
	assert_int_equal(json_get_int(user, "id", 0), 1);
	assert_int_equal(json_get_int(user, "credits", 0), 4434);
	assert_string_equal(json_get_string(user, "username"), "Username");
}

static void map(long status, const char *fixture, const char *body, const char *retry_after,
		struct module_error *ret)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (fixture) {
		text = helpers_read_reference(fixture, &len);
		body = text;
	} else {
		len = body ? strlen(body) : 0;
	}
	cc_parse_error(status, body, len, retry_after, "POST /v2/jobs", ret);
}

static void test_validation_error(void **state)
{
	struct module_error e;

	(void)state;
	/* The API most likely uses 422; the PHP SDK's test serves this body with 400. */
	for (long status = 400; status <= 422; status += 22) {
		map(status, FIXTURE("php__error400.json"), NULL, NULL, &e);
		assert_int_equal(e.type, ERROR_DATA);
		assert_contains(e.message, "POST /v2/jobs");
		assert_contains(e.message, "The given data was invalid.");
		assert_contains(e.message, "(INVALID_DATA)");
		assert_contains(e.message, "status: Cannot change status: task already completed.");
		module_error_done(&e);
	}
}

static void test_payment_required(void **state)
{
	struct module_error e;

	(void)state;
	map(402, FIXTURE("php__error402.json"), NULL, NULL, &e);
	assert_int_equal(e.type, ERROR_RUNTIME);
	assert_contains(e.message, "Your account has run out of conversion minutes");
	assert_contains(e.message, "CREDITS_EXCEEDED");
	module_error_done(&e);

	/* Same status and code, but a wait fixes it (php#98). */
	map(402, NULL,
	    "{\"message\":\"You have started too many jobs at once\",\"code\":\"CREDITS_EXCEEDED\"}",
	    NULL, &e);
	assert_int_equal(e.type, ERROR_RATE_LIMIT);
	assert_contains(e.message, "too many jobs");
	module_error_done(&e);
}

static void test_status_table(void **state)
{
	static const struct {
		long status;
		const char *body;
		const char *retry_after;
		enum error_type type;
		const char *says;
		int64_t retry_after_ms;
	} cases[] = {
		{ 401, "{\"message\":\"Unauthenticated.\"}", NULL, ERROR_INVALID_ACCESS_TOKEN,
		  "Unauthenticated.", 0 },
		{ 403, "{\"message\":\"Forbidden\"}", NULL, ERROR_INVALID_ACCESS_TOKEN, "Forbidden",
		  0 },
		{ 404,
		  "{\"message\":\"No query results for model [Job] x\",\"code\":\"NOT_FOUND\"}",
		  NULL, ERROR_DATA, "(NOT_FOUND)", 0 },
		{ 413, "", NULL, ERROR_MAX_FILE_SIZE_EXCEEDED, "HTTP 413", 0 },
		{ 429, "{\"message\":\"Too Many Attempts.\"}", "7", ERROR_RATE_LIMIT,
		  "Too Many Attempts.", 7000 },
		{ 500, "{\"message\":\"Server Error\",\"code\":\"INTERNAL_ERROR\"}", NULL,
		  ERROR_CONNECTION, "(INTERNAL_ERROR)", 0 },
		{ 502,
		  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body></body>\r\n</html>",
		  NULL, ERROR_CONNECTION, "HTTP 502", 0 },
		{ 503, "upstream connect error", NULL, ERROR_CONNECTION, "upstream connect error",
		  0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct module_error e;

		map(cases[i].status, NULL, cases[i].body, cases[i].retry_after, &e);
		assert_int_equal(e.type, cases[i].type);
		assert_contains(e.message, cases[i].says);
		assert_lacks(e.message, "<html>");
		assert_int_equal(e.retry_after_ms, cases[i].retry_after_ms);
		module_error_done(&e);
	}
}

static void test_storage_error(void **state)
{
	static const char expired[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				      "<Error><Code>AccessDenied</Code><Message>Request has "
				      "expired</Message></Error>";
	struct module_error e;

	(void)state;
	cc_parse_storage_error(403, expired, strlen(expired), "GET /tasks/x/a.pdf", &e);
	/* A presigned URL that expired is not a bad API key. */
	assert_int_equal(e.type, ERROR_DATA);
	assert_contains(e.message, "Request has expired (AccessDenied)");
	module_error_done(&e);
	cc_parse_storage_error(503, "", 0, "POST /tasks", &e);
	assert_int_equal(e.type, ERROR_CONNECTION);
	module_error_done(&e);
}

static void test_webhook_events(void **state)
{
	static const struct {
		const char *fixture;
		const char *event;
		const char *job;
	} cases[] = {
		{ FIXTURE("php__webhook_job_finished_payload.json"), "job.finished",
		  "c677ccf7-8876-4f48-bb96-0ab8e0d88cd7" },
		{ FIXTURE("dotnet__webhook_job_created_payload.json"), "job.created",
		  "4d6a6d62-f8d5-45c1-ae77-05dc4cfe36e3" },
	};
	_cleanup_json_ cJSON *only_failed = cJSON_Parse("[\"job.failed\"]");

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *body = NULL;
		_cleanup_json_ cJSON *bundle = NULL;
		_cleanup_json_ cJSON *wanted = cJSON_CreateArray();
		size_t len;

		body = helpers_read_reference(cases[i].fixture, &len);
		cJSON_AddItemToArray(wanted, cJSON_CreateString(cases[i].event));
		assert_int_equal(cc_parse_webhook_event(body, len, wanted, &bundle), 0);
		assert_string_equal(json_get_string(bundle, "event"), cases[i].event);
		assert_string_equal(json_get_string(cJSON_GetObjectItem(bundle, "job"), "id"),
				    cases[i].job);
		assert_int_equal(cc_parse_webhook_event(body, len, only_failed, &bundle), -ENOENT);
	}
	assert_int_equal(cc_parse_webhook_event("{\"job\":{}}", 10, NULL, &(cJSON *){ NULL }),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_job_reports_root_task),
		cmocka_unit_test(test_finished_job_exports),
		cmocka_unit_test(test_job_list),
		cmocka_unit_test(test_task_with_dependencies),
		cmocka_unit_test(test_upload_form_in_order),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_validation_error),
		cmocka_unit_test(test_payment_required),
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_storage_error),
		cmocka_unit_test(test_webhook_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
