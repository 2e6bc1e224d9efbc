/* SPDX-License-Identifier: MIT */
/*
 * webhooks.respond, Fusion's webhook response: the status, headers and body
 * the caller of the custom webhook that started this bundle's cycle gets
 * (the daemon's HTTP front keeps the request waiting for it). The body is
 * text, JSON (a map or a list), or a file value, streamed from the blob
 * store. Outside the daemon (scenarioctl run) there is no caller: the
 * module says so in the run's log and succeeds. So does a second answer,
 * or one for a caller that went away or was answered already (202 past
 * response_wait): Fusion's webhook response does not fail the run then.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "modules/webhooks/internal.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

#define MAX_HEADERS 64
#define MAX_HEADER_VALUE 8192

const struct module_field webhooks_respond_fields[] = {
	{ .name = "status", .type = FIELD_INTEGER, .summary = "HTTP status (200)" },
	{ .name = "headers", .type = FIELD_MAP, .summary = "response headers {name: value}" },
	{ .name = "body", .type = FIELD_ANY, .summary = "text, JSON (a map or list), or a file" },
	{ .name = NULL },
};

static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') &&
		    !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z'))
			return false;
	return true;
}

/* Header names the HTTP front decides (framing): a response must not set
 * them. */
static bool reserved(const char *name)
{
	static const char *const names[] = { "content-length", "transfer-encoding", "connection",
					     NULL };

	for (size_t i = 0; names[i]; i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

/* A header that could split the response (CR, LF) or break framing is a
 * DataError: a mapped value must not smuggle a second header. */
static const char *bad_header(const cJSON *headers)
{
	const cJSON *h;
	int n = 0;

	cJSON_ArrayForEach(h, headers) {
		if (++n > MAX_HEADERS)
			return "too many headers";
		if (!header_name_ok(h->string) || reserved(h->string))
			return h->string;
		if (cJSON_IsNull(h) || cJSON_IsNumber(h) || cJSON_IsBool(h))
			continue;
		if (!cJSON_IsString(h) || strpbrk(h->valuestring, "\r\n") ||
		    strlen(h->valuestring) > MAX_HEADER_VALUE)
			return h->string;
	}
	return NULL;
}

int webhooks_respond_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(constant_with, "status");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(constant_with, "headers");
	const char *bad;

	if (cJSON_IsNumber(status) && (status->valuedouble < 100 || status->valuedouble > 599)) {
		report(ctx, "status", "expected an HTTP status from 100 to 599");
		return 1;
	}
	bad = headers ? bad_header(headers) : NULL;
	if (bad) {
		report(ctx, "headers",
		       "'%s': a header name must be a token, not one of "
		       "Content-Length, Transfer-Encoding, Connection, and its "
		       "value one line of text",
		       bad);
		return 1;
	}
	return 0;
}

static bool is_file_value(const cJSON *v)
{
	return cJSON_IsObject(v) && json_get_string(v, "sha256") && json_get_string(v, "path");
}

/* The reply for `body`: a file, JSON, or text. */
static int build_reply(struct module_run *run, const cJSON *body, struct webhook_reply *reply,
		       char **ret_text)
{
	const char *path = NULL;

	if (!body || cJSON_IsNull(body)) {
		reply->body = "";
		return 0;
	}
	if (is_file_value(body)) {
		if (store_blob_resolve(run->env->store, body, &path) < 0)
			return module_run_fail(run, ERROR_DATA,
					       "body: the file value is not in this store's blobs");
		reply->file_path = path;
		reply->content_type = json_get_string(body, "mime");
		return 0;
	}
	if (cJSON_IsObject(body) || cJSON_IsArray(body)) {
		reply->json = body;
		return 0;
	}
	*ret_text = json_to_text(body);
	reply->body = *ret_text;
	reply->len = strlen(*ret_text);
	return 0;
}

/* The headers to send: those of `headers` with a value, numbers and
 * booleans as text, except Content-Type (any case), whose value goes to
 * *ret_content_type (borrowed from `headers`). An empty mapping (null)
 * leaves its header out, as Fusion does. NULL for no headers. */
static cJSON *headers_to_send(const cJSON *headers, const char **ret_content_type)
{
	cJSON *out, *h;

	if (!headers)
		return NULL;
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(h, headers) {
		if (cJSON_IsNull(h))
			continue;
		if (cJSON_IsString(h) && !strcasecmp(h->string, "content-type"))
			*ret_content_type = h->valuestring;
		else if (cJSON_IsString(h))
			cJSON_AddStringToObject(out, h->string, h->valuestring);
		else {
			_cleanup_free_ char *text = json_to_text(h);

			cJSON_AddStringToObject(out, h->string, text);
		}
	}
	return out;
}

int webhooks_respond_start(struct module_run *run)
{
	const cJSON *status = module_input(run, "status");
	const cJSON *headers = module_input(run, "headers");
	const struct webhook_host *host = run->env->webhooks;
	struct webhook_reply reply = { .status = 200 };
	_cleanup_json_ cJSON *other_headers = NULL;
	_cleanup_free_ char *text = NULL;
	const char *content_type = NULL;
	const char *bad;
	int r;

	if (status) {
		if (!cJSON_IsNumber(status) || status->valuedouble < 100 ||
		    status->valuedouble > 599)
			return module_run_fail(run, ERROR_DATA,
					       "status: expected an HTTP status from 100 to 599");
		reply.status = (unsigned)status->valuedouble;
	}
	bad = headers ? bad_header(headers) : NULL;
	if (bad)
		return module_run_fail(run, ERROR_DATA,
				       "headers: '%s' is not a header this module may send (a "
				       "token name, one line of text)",
				       bad);
	r = build_reply(run, module_input(run, "body"), &reply, &text);
	if (r < 0)
		return r;
	/* A Content-Type the scenario gives wins over the one the body implies;
	 * the server sends it once. */
	other_headers = headers_to_send(headers, &content_type);
	reply.headers = other_headers;
	if (content_type)
		reply.content_type = content_type;
	if (!host || !host->respond || !run->event_id) {
		module_run_log(run, LOG_LEVEL_INFO,
			       "no HTTP caller: the run was not started by a custom webhook "
			       "of scenariod");
	} else if (host->respond(run->env->webhooks_userdata, run->event_id, &reply) < 0) {
		module_run_log(run, LOG_LEVEL_WARNING,
			       "no caller is waiting for this answer any more (answered already, "
			       "or gone)");
	}
	module_run_emit(run, cJSON_CreateObject());
	return MODULE_DONE;
}
