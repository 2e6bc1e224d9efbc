/* SPDX-License-Identifier: MIT */
/*
 * The http app: http.request, one HTTP exchange per bundle on the shared
 * client (client.h). The mapped input becomes a struct http_request embedded
 * in the run's state; the done callback turns the response into the bundle
 * {status, headers, body} or, with download: true, {status, headers, file},
 * the body streamed into a blob as it arrives.
 *
 * Which statuses fail the module: reference/fusion-semantics.md says
 * nothing of Fusion's HTTP app, so we do what Make's HTTP module does with
 * "Evaluate all states as errors (except for 2xx and 3xx)" switched on:
 * a status of 400 or more fails the module with the typed error of
 * outcome.h (429 → RateLimitError with Retry-After, 5xx → ConnectionError,
 * 401/403 → InvalidAccessTokenError, …), so error handlers and automatic
 * retries work on HTTP failures the way they do on any other module's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/http/client.h"
#include "modules/http/filename.h"
#include "modules/http/outcome.h"
#include "modules/http/request.h"
#include "modules/module.h"
#include "store/store.h"
#include "util/json.h"
#include "util/units.h"
#include "util/xalloc.h"

#define MAX_TIMEOUT_MS (60 * 60 * 1000LL)
#define BODY_IN_MEMORY (10LL * 1024 * 1024)

static const char *const method_choices[] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL,
};

static const struct module_field request_fields[] = {
	{ .name = "url", .type = FIELD_TEXT, .required = true, .summary = "an http or https URL" },
	{ .name = "method",
	  .type = FIELD_ENUM,
	  .choices = method_choices,
	  .summary = "GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS" },
	{ .name = "headers", .type = FIELD_MAP, .summary = "request headers: name → text" },
	{ .name = "query",
	  .type = FIELD_MAP,
	  .summary = "query parameters: name → text, a list repeats the name; encoded" },
	{ .name = "body",
	  .type = FIELD_ANY,
	  .summary = "a map or list is sent as JSON, a file as its bytes, anything else as text" },
	{ .name = "download",
	  .type = FIELD_BOOLEAN,
	  .summary = "true: the response body becomes `file` (default false)" },
	{ .name = "timeout",
	  .type = FIELD_DURATION,
	  .summary = "for the whole exchange, at most 1h (default 30s; a number is seconds)" },
	{ .name = NULL },
};

struct request_state {
	struct http_request req; /* embedded; the done callback's way back */
	struct module_run *run; /* borrowed; outlives the state */
	struct store_blob_writer *writer; /* owned: download's blob until committed */
	bool download;
	bool file_body; /* the body is a file value: its bytes count in run->bytes */
};

static void state_free(struct request_state *st)
{
	if (!st)
		return;
	http_request_done(&st->req);
	store_blob_writer_abort(st->writer);
	free(st);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct request_state, state_free)

/* A duration as scenario files write it, or a number of seconds.
 * -EINVAL when it is neither, -ERANGE outside (0, 1h]. */
static int parse_timeout(const cJSON *value, int64_t *ret_ms)
{
	int64_t ms;

	if (cJSON_IsNumber(value)) {
		if (!(value->valuedouble > 0))
			return -ERANGE;
		if (value->valuedouble > MAX_TIMEOUT_MS / 1000)
			return -ERANGE;
		ms = (int64_t)(value->valuedouble * 1000);
	} else if (cJSON_IsString(value)) {
		if (units_parse_duration(value->valuestring, &ms) < 0)
			return -EINVAL;
		if (ms <= 0 || ms > MAX_TIMEOUT_MS)
			return -ERANGE;
	} else {
		return -EINVAL;
	}
	*ret_ms = ms;
	return 0;
}

static int validate_request(const cJSON *with, module_report_fn *report, void *ctx)
{
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(with, "url");
	const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(with, "timeout");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(with, "headers");
	const cJSON *h;
	struct http_request req;
	int problems = 0;
	int64_t ms;

	http_request_init(&req);
	if (cJSON_IsString(url) && http_request_set_url(&req, url->valuestring) < 0) {
		report(ctx, "url", "not an http or https URL");
		problems++;
	}
	if (!cJSON_IsObject(headers))
		headers = NULL;
	cJSON_ArrayForEach(h, headers) {
		if (http_request_add_header(&req, h->string, "", 0) == -EINVAL) {
			report(ctx, "headers", "'%s' is not a valid header name", h->string);
			problems++;
		}
	}
	http_request_done(&req);
	if (timeout && parse_timeout(timeout, &ms) == -ERANGE) {
		report(ctx, "timeout", "the timeout must be more than 0 and at most 1h");
		problems++;
	}
	return problems;
}

/* Text of a header or query value; NULL for maps and lists. */
static char *scalar_text(const cJSON *value)
{
	if (cJSON_IsObject(value) || cJSON_IsArray(value))
		return NULL;
	return json_to_text(value);
}

static int add_headers(struct request_state *st, const cJSON *headers)
{
	struct module_run *run = st->run;
	const cJSON *h;

	if (headers && !cJSON_IsObject(headers))
		return module_run_fail(run, ERROR_DATA, "headers must be a map of name → text");
	cJSON_ArrayForEach(h, headers) {
		_cleanup_free_ char *value = NULL;
		int r;

		if (cJSON_IsNull(h))
			continue;
		value = scalar_text(h);
		if (!value)
			return module_run_fail(run, ERROR_DATA, "header '%s' must be text",
					       h->string);
		r = http_request_add_header(&st->req, h->string, value, 0);
		if (r == -E2BIG)
			return module_run_fail(run, ERROR_DATA,
					       "too many or too long headers (at most %d)",
					       HTTP_MAX_HEADERS);
		if (r < 0)
			return module_run_fail(
				run, ERROR_DATA,
				"header '%s' is not valid: a name is letters, digits "
				"and -, a value has no line breaks",
				h->string);
	}
	return 0;
}

static int add_query_value(struct request_state *st, const char *name, const cJSON *value)
{
	_cleanup_free_ char *text = scalar_text(value);

	if (!text)
		return module_run_fail(st->run, ERROR_DATA,
				       "query parameter '%s' must be text or a list of texts",
				       name);
	if (http_request_add_query(&st->req, name, text) < 0)
		return module_run_fail(st->run, ERROR_DATA, "the query is longer than %d bytes",
				       HTTP_MAX_QUERY_LEN);
	return 0;
}

static int add_query(struct request_state *st, const cJSON *query)
{
	const cJSON *q, *item;
	int r;

	if (query && !cJSON_IsObject(query))
		return module_run_fail(st->run, ERROR_DATA, "query must be a map of name → text");
	cJSON_ArrayForEach(q, query) {
		if (cJSON_IsNull(q))
			continue;
		if (!cJSON_IsArray(q)) {
			r = add_query_value(st, q->string, q);
			if (r < 0)
				return r;
			continue;
		}
		cJSON_ArrayForEach(item, q) {
			r = add_query_value(st, q->string, item);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int set_body(struct request_state *st, const cJSON *body)
{
	struct module_run *run = st->run;
	_cleanup_free_ char *text = NULL;
	const char *path;
	int r;

	if (!body)
		return 0;
	if (json_is_file_value(body)) {
		r = store_blob_resolve(run->env->store, body, &path);
		if (r < 0)
			return module_run_fail(run, ERROR_DATA,
					       "body: the file '%s' is not in the store",
					       json_get_string(body, "name"));
		st->file_body = true;
		return http_request_set_body_file(&st->req, path, json_get_string(body, "mime"));
	}
	if (cJSON_IsObject(body) || cJSON_IsArray(body)) {
		r = http_request_set_body_json(&st->req, body);
	} else {
		text = json_to_text(body);
		r = http_request_set_body(&st->req, text, strlen(text),
					  "text/plain; charset=utf-8");
	}
	if (r < 0)
		return module_run_fail(run, ERROR_DATA, "the body is larger than %lld bytes",
				       (long long)HTTP_MAX_BODY);
	return 0;
}

/* Turns the mapped input into st->req; on error the run's error is set. */
static int prepare(struct request_state *st)
{
	struct module_run *run = st->run;
	const char *url = module_input_string(run, "url");
	const char *method = module_input_string(run, "method");
	const cJSON *download = module_input(run, "download");
	const cJSON *timeout = module_input(run, "timeout");
	int64_t timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	int r;

	if (!url)
		return module_run_fail(run, ERROR_DATA, "url is required");
	r = http_request_set_url(&st->req, url);
	if (r < 0)
		/* Not quoted: a URL may carry a token in its query. */
		return module_run_fail(run, ERROR_DATA, "url is not a valid http or https URL");
	if (method && http_request_set_method(&st->req, method) < 0)
		return module_run_fail(run, ERROR_DATA,
				       "method '%s' is not one of GET, POST, PUT, PATCH, DELETE, "
				       "HEAD, OPTIONS",
				       method);
	if (download && !cJSON_IsBool(download))
		return module_run_fail(run, ERROR_DATA, "download must be true or false");
	st->download = cJSON_IsTrue(download);
	if (timeout && parse_timeout(timeout, &timeout_ms) < 0)
		return module_run_fail(run, ERROR_DATA,
				       "timeout must be a duration from 1ms to 1h, e.g. '30s'");
	st->req.timeout_ms = timeout_ms;
	if (st->req.connect_timeout_ms > timeout_ms)
		st->req.connect_timeout_ms = timeout_ms;
	st->req.max_body = BODY_IN_MEMORY;

	r = add_headers(st, module_input(run, "headers"));
	if (r < 0)
		return r;
	r = add_query(st, module_input(run, "query"));
	if (r < 0)
		return r;
	return set_body(st, module_input(run, "body"));
}

/* The body as output: JSON when it says or looks so and parses, else text. */
static int parse_body(struct request_state *st, cJSON **ret)
{
	const struct strbuf *body = &st->req.response.body;
	_cleanup_free_ char *type = http_response_media_type(&st->req);
	const char *start = body->data ? body->data + strspn(body->data, " \t\r\n") : "";
	cJSON *json;

	if (body->len == 0) {
		*ret = cJSON_CreateString("");
		return 0;
	}
	if (http_media_type_is_json(type) || *start == '{' || *start == '[') {
		json = cJSON_ParseWithLength(body->data, body->len);
		if (json) {
			*ret = json;
			return 0;
		}
	}
	if (!http_body_is_text(body->data, body->len))
		return module_run_fail(st->run, ERROR_DATA,
				       "the response is binary (%s); set download: true to get it "
				       "as a file",
				       type ? type : "no content type");
	*ret = cJSON_CreateString(body->data);
	return 0;
}

/* Commits the downloaded blob. A body that did not go to the sink (a 3xx
 * that was not followed) is written first, so `file` always holds the body. */
static int commit_file(struct request_state *st, cJSON **ret)
{
	struct http_response *response = &st->req.response;
	_cleanup_free_ char *name = http_filename_from_response(&st->req);
	_cleanup_free_ char *mime = http_response_media_type(&st->req);
	int r = 0;

	if (!response->to_sink && response->body.len)
		r = store_blob_writer_write(st->writer, response->body.data, response->body.len);
	if (r < 0)
		return module_run_fail(st->run, ERROR_MAX_FILE_SIZE_EXCEEDED,
				       "the response is larger than max_file_size");
	r = store_blob_writer_commit(TAKE_PTR(st->writer), name, mime, ret);
	if (r == -ENOSPC)
		return module_run_fail(st->run, ERROR_OUT_OF_SPACE,
				       "no space left to store the downloaded file");
	if (r < 0)
		return module_run_fail(st->run, ERROR_UNEXPECTED,
				       "cannot store the downloaded file: %s", strerror(-r));
	st->run->bytes += json_get_int(*ret, "size", 0);
	return 0;
}

static void report_failure(struct request_state *st, int status)
{
	struct module_run *run = st->run;

	if (status == -EFBIG && !st->download)
		module_run_fail(run, ERROR_DATA,
				"the response body is larger than %lld MiB; set download: true to "
				"store it as a file",
				(long long)(BODY_IN_MEMORY >> 20));
	else if (status == -EFBIG && st->req.response.to_sink)
		module_run_fail(run, ERROR_MAX_FILE_SIZE_EXCEEDED,
				"the downloaded file is larger than max_file_size (%lld bytes)",
				(long long)run->max_file_size);
	else if (status == -ECANCELED)
		module_run_fail(run, ERROR_EXECUTION_INTERRUPTED,
				"http.request was interrupted before the response came");
	else
		http_outcome_fail_run(run, &st->req, status);
}

static void report(struct request_state *st, int status)
{
	struct module_run *run = st->run;
	struct module_error unused;
	cJSON *value = NULL, *bundle;

	if (st->file_body)
		run->bytes += st->req.response.sent;
	if (http_outcome_error(&st->req, status, &unused)) {
		module_error_done(&unused);
		report_failure(st, status);
		return;
	}
	if ((st->download ? commit_file(st, &value) : parse_body(st, &value)) < 0)
		return;
	bundle = cJSON_CreateObject();
	cJSON_AddNumberToObject(bundle, "status", (double)st->req.response.status);
	cJSON_AddItemToObject(bundle, "headers", cJSON_Duplicate(st->req.response.headers, true));
	cJSON_AddItemToObject(bundle, st->download ? "file" : "body", value);
	module_run_emit(run, bundle);
}

static void on_done(struct http_request *req, int status)
{
	struct request_state *st = container_of(req, struct request_state, req);
	struct module_run *run = st->run;

	report(st, status);
	run->priv = NULL;
	state_free(st);
	module_run_finish(run);
}

static int request_start(struct module_run *run)
{
	_cleanup_(state_freep) struct request_state *st = xcalloc(1, sizeof(*st));
	int r;

	http_request_init(&st->req);
	st->run = run;
	r = prepare(st);
	if (r < 0)
		return r;
	if (st->download) {
		r = store_blob_writer_new(run->env->store, run->max_file_size, &st->writer);
		if (r < 0)
			return module_run_fail(run, ERROR_UNEXPECTED,
					       "cannot start a file in the store: %s",
					       strerror(-r));
		st->req.sink = st->writer;
	}
	r = http_client_request_start(run->env->http, &st->req, on_done);
	if (r == -ENOENT || r == -EACCES || r == -EISDIR)
		return module_run_fail(run, ERROR_UNEXPECTED, "the body's file cannot be read: %s",
				       strerror(-r));
	if (r < 0)
		return module_run_fail(run, ERROR_UNEXPECTED, "cannot start the request: %s",
				       strerror(-r));
	run->priv = TAKE_PTR(st);
	return MODULE_PENDING;
}

static void request_cancel(struct module_run *run)
{
	struct request_state *st = run->priv;

	if (st)
		http_client_request_cancel(&st->req);
}

const struct module_desc http_modules[] = {
	{ .app = "http",
	  .name = "request",
	  .summary = "Make an HTTP request",
	  .kind = MODULE_ACTION,
	  .fields = request_fields,
	  .validate = validate_request,
	  .start = request_start,
	  .cancel = request_cancel,
	  .safe_to_repeat = module_repeat_idempotent_method },
	{ .name = NULL },
};
