/* SPDX-License-Identifier: MIT */
/*
 * The remaining modules: Get My Info, List Possible Operations and Make an
 * API Call.
 *
 * make_api_call is Fusion's escape hatch: any method on a path relative to
 * the API host, with the connection's key added. The path may not leave
 * that host (no scheme, no "//host", no ".."), and the scenario may not set
 * Authorization itself, so the key goes to CloudConvert and nowhere else.
 * GET, HEAD, PUT, DELETE and OPTIONS are retried like any idempotent call,
 * POST and PATCH only when the API proved it did nothing (429).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define MAX_PATH 2048

static const char *const operation_includes[] = { "options", "engine_versions", NULL };
static const char *const methods[] = { "GET",	 "POST", "PUT",	    "PATCH",
				       "DELETE", "HEAD", "OPTIONS", NULL };

const struct module_field cc_get_my_info_fields[] = { { .name = NULL } };

const struct module_field cc_list_operations_fields[] = {
	{ .name = "operation", .type = FIELD_TEXT, .summary = "e.g. convert, optimize" },
	{ .name = "input_format", .type = FIELD_TEXT, .summary = "e.g. docx" },
	{ .name = "output_format", .type = FIELD_TEXT, .summary = "e.g. pdf" },
	{ .name = "engine", .type = FIELD_TEXT, .summary = "e.g. office" },
	{ .name = "engine_version", .type = FIELD_TEXT, .summary = "a version of the engine" },
	{ .name = "include",
	  .type = FIELD_LIST,
	  .choices = operation_includes,
	  .summary = "also return: options, engine_versions" },
	{ .name = "alternatives",
	  .type = FIELD_BOOLEAN,
	  .summary = "also list alternative engines (default false)" },
	{ .name = "limit",
	  .type = FIELD_INTEGER,
	  .summary = "most operations emitted (default 100)" },
	{ .name = NULL },
};

const struct module_field cc_make_api_call_fields[] = {
	{ .name = "url",
	  .type = FIELD_TEXT,
	  .required = true,
	  .summary = "path relative to the API host, e.g. /v2/tasks" },
	{ .name = "method",
	  .type = FIELD_ENUM,
	  .choices = methods,
	  .summary = "GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS" },
	{ .name = "headers", .type = FIELD_MAP, .summary = "extra request headers" },
	{ .name = "query", .type = FIELD_MAP, .summary = "query string parameters" },
	{ .name = "body", .type = FIELD_ANY, .summary = "request body, sent as JSON" },
	{ .name = NULL },
};

int cc_get_my_info_start(struct module_run *run)
{
	struct cc_simple *s = cc_simple_new("GET", "/v2/users/me", cc_simple_emit_object);

	s->flags = CC_CALL_IDEMPOTENT;
	return cc_simple_start(s, run);
}

int cc_list_operations_start(struct module_run *run)
{
	static const char *const filters[] = { "operation", "input_format", "output_format",
					       "engine", "engine_version" };
	struct cc_simple *s = cc_simple_new("GET", "/v2/operations", cc_simple_emit_list);
	const cJSON *include = module_input(run, "include"), *item;
	struct strbuf list;
	int r;

	r = cc_input_integer(run, "limit", 100, 1, CC_MAX_LIST, &s->limit);
	if (r < 0) {
		cc_simple_free(s);
		return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(filters); i++) {
		_cleanup_free_ char *name = xasprintf("filter[%s]", filters[i]);

		cc_simple_filter(s, run, filters[i], name);
	}
	strbuf_init(&list);
	cJSON_ArrayForEach(item, (cJSON_IsArray(include) ? include : NULL)) {
		if (!cJSON_IsString(item) || (!streq(item->valuestring, "options") &&
					      !streq(item->valuestring, "engine_versions"))) {
			strbuf_done(&list);
			cc_simple_free(s);
			return module_run_fail(run, ERROR_DATA,
					       "include: expected options or engine_versions");
		}
		if (list.len)
			strbuf_putc(&list, ',');
		strbuf_puts(&list, item->valuestring);
	}
	if (list.len)
		cJSON_AddStringToObject(s->query, "include", list.data);
	strbuf_done(&list);
	if (cc_input_bool(run, "alternatives", false))
		cJSON_AddStringToObject(s->query, "alternatives", "true");
	s->flags = CC_CALL_IDEMPOTENT;
	return cc_simple_start(s, run);
}

/* ---- make_api_call ---- */

/* The problem with a path meant for the API host, or NULL. */
static const char *path_problem(const char *path)
{
	if (!*path)
		return "the path is empty";
	if (strlen(path) > MAX_PATH)
		return "the path is too long";
	if (strstr(path, "://") || strncmp(path, "//", 2) == 0 || path[0] == '\\')
		return "it must be a path relative to the API host, such as /v2/tasks";
	if (strstr(path, "..") || strpbrk(path, "\r\n\t #") || strchr(path, '@'))
		return "it may not hold '..', '@', '#', spaces or line breaks";
	return NULL;
}

int cc_make_api_call_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	const char *url = json_get_string(constant_with, "url");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(constant_with, "headers"), *h;
	const char *problem = url ? path_problem(url) : NULL;
	int problems = 0;

	if (problem) {
		report(ctx, "url", "%s", problem);
		problems++;
	}
	cJSON_ArrayForEach(h, (cJSON_IsObject(headers) ? headers : NULL))
		if (strcasecmp(h->string, "Authorization") == 0) {
			report(ctx, "headers", "Authorization is added from the connection");
			problems++;
		}
	return problems;
}

static void emit_response(struct cc_simple *s)
{
	const struct http_response *response = &s->op.req.response;
	cJSON *bundle = cJSON_CreateObject();
	_cleanup_free_ char *type = http_response_media_type(&s->op.req);
	cJSON *body = NULL;

	cJSON_AddNumberToObject(bundle, "status", (double)response->status);
	cJSON_AddItemToObject(bundle, "headers",
			      response->headers ? cJSON_Duplicate(response->headers, true) :
						  cJSON_CreateObject());
	if (response->body.len > 0 && (!type || http_media_type_is_json(type)))
		body = cJSON_ParseWithLength(response->body.data, response->body.len);
	if (!body && response->body.len > 0 &&
	    http_body_is_text(response->body.data, response->body.len))
		body = cJSON_CreateString(response->body.data);
	cJSON_AddItemToObject(bundle, "body", body ? body : cJSON_CreateNull());
	module_run_emit(s->op.run, bundle);
	cc_op_finish(&s->op);
}

static int add_pairs(struct module_run *run, cJSON *to, const char *field)
{
	const cJSON *map = module_input(run, field), *item;

	cJSON_ArrayForEach(item, (cJSON_IsObject(map) ? map : NULL)) {
		_cleanup_free_ char *text = NULL;

		if (streq(field, "headers") && strcasecmp(item->string, "Authorization") == 0)
			return module_run_fail(
				run, ERROR_DATA,
				"headers: Authorization is added from the connection");
		if (cJSON_IsNull(item))
			continue;
		text = json_to_text(item);
		cJSON_AddStringToObject(to, item->string, text);
	}
	return 0;
}

int cc_make_api_call_start(struct module_run *run)
{
	_cleanup_free_ char *url = cc_input_text(run, "url");
	_cleanup_free_ char *path = NULL;
	const char *method = module_input_string(run, "method");
	const cJSON *body = module_input(run, "body");
	const char *problem;
	struct cc_simple *s;
	int r;

	if (!url)
		return module_run_fail(run, ERROR_DATA, "url is required");
	path = url[0] == '/' ? xstrdup(url) : xasprintf("/%s", url);
	problem = path_problem(path);
	if (problem)
		return module_run_fail(run, ERROR_DATA, "url '%.200s': %s", url, problem);
	method = method ? method : "GET";
	for (size_t i = 0;; i++) {
		if (!methods[i])
			return module_run_fail(run, ERROR_DATA, "method '%s' is not supported",
					       method);
		if (streq(methods[i], method)) {
			method = methods[i];
			break;
		}
	}
	s = cc_simple_new(method, "", emit_response);
	free(s->path);
	s->path = TAKE_PTR(path);
	s->headers = cJSON_CreateObject();
	r = add_pairs(run, s->headers, "headers");
	if (r == 0)
		r = add_pairs(run, s->query, "query");
	if (r < 0) {
		cc_simple_free(s);
		return r;
	}
	if (body)
		s->body = cJSON_Duplicate(body, true);
	s->flags = CC_CALL_RAW;
	if (!streq(method, "POST") && !streq(method, "PATCH"))
		s->flags |= CC_CALL_IDEMPOTENT;
	return cc_simple_start(s, run);
}
