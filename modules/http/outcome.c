/* SPDX-License-Identifier: MIT */
/*
 * The one mapping from HTTP outcomes to the typed errors of Fusion (see
 * outcome.h for the table). The mapping follows what each status asks of
 * the caller: waiting and trying again (408, 429, 5xx: the executor's
 * automatic retries), a person fixing access (401, 403), a person fixing
 * data (other 4xx). Messages carry what the server said when it is short
 * text or a JSON error member, since that is usually what a person needs,
 * but never anything that holds a secret header's value.
 */
#include "modules/http/outcome.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "modules/http/request.h"
#include "modules/module.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define MAX_SAYS 200 /* characters of server text in a message */
#define MAX_RETRY_AFTER_MS 86400000LL /* a day: anything longer is a mistake */

enum error_type http_outcome_status_type(long status)
{
	if (status == 429)
		return ERROR_RATE_LIMIT;
	if (status == 401 || status == 403)
		return ERROR_INVALID_ACCESS_TOKEN;
	if (status == 413)
		return ERROR_MAX_FILE_SIZE_EXCEEDED;
	/* 408: the server gave up waiting for us, a network fault. */
	if (status == 408 || status >= 500)
		return ERROR_CONNECTION;
	return ERROR_DATA;
}

static enum error_type transport_type(int status)
{
	switch (status) {
	case -EFBIG:
		return ERROR_MAX_FILE_SIZE_EXCEEDED;
	case -ECANCELED:
		return ERROR_EXECUTION_INTERRUPTED;
	case -ENOSPC:
	case -EDQUOT:
		return ERROR_OUT_OF_SPACE;
	case -EINVAL:
	case -EPROTONOSUPPORT:
		return ERROR_DATA; /* a URL that cannot be fetched as written */
	default:
		return ERROR_CONNECTION;
	}
}

int64_t http_outcome_retry_after_ms(const char *value, int64_t now_ms)
{
	int64_t ms;

	if (!value)
		return 0;
	while (isspace((unsigned char)*value))
		value++;
	if (isdigit((unsigned char)*value)) {
		char *end;
		long long seconds;

		errno = 0;
		seconds = strtoll(value, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			return 0;
		if (errno == ERANGE || seconds > MAX_RETRY_AFTER_MS / 1000)
			return MAX_RETRY_AFTER_MS;
		return seconds * 1000;
	}
	/* IMF-fixdate, RFC 850 and asctime(), as curl reads them for cookies. */
	time_t when = curl_getdate(value, NULL);
	if (when < 0)
		return 0;
	ms = (int64_t)when * 1000 - now_ms;
	if (ms <= 0)
		return 0;
	return ms > MAX_RETRY_AFTER_MS ? MAX_RETRY_AFTER_MS : ms;
}

/* The first error text found in a JSON error body: {"message"},
 * {"error": "…"}, {"error": {"message"}}, RFC 9457 {"detail"}/{"title"}. */
static const char *json_says(const cJSON *json)
{
	static const char *const keys[] = { "message", "error", "detail", "title" };
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const char *s = json_get_string(json, keys[i]);

		if (s && *s)
			return s;
	}
	return json_get_string(error, "message");
}

/* Whitespace runs become one space; the text is cut at MAX_SAYS
 * characters, on a UTF-8 boundary. */
static char *squeeze(const char *text)
{
	struct strbuf sb;
	size_t chars = 0;

	strbuf_init(&sb);
	for (const char *p = text; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (sb.len && sb.data[sb.len - 1] != ' ')
				strbuf_putc(&sb, ' ');
			continue;
		}
		if (((unsigned char)*p & 0xc0) != 0x80 && ++chars > MAX_SAYS) {
			strbuf_puts(&sb, "…");
			break;
		}
		strbuf_putc(&sb, *p);
	}
	while (sb.len && sb.data[sb.len - 1] == ' ')
		sb.data[--sb.len] = '\0';
	if (!sb.len) {
		strbuf_done(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

static char *server_says(const struct http_request *req)
{
	const struct strbuf *body = &req->response.body;
	_cleanup_free_ char *type = NULL;
	_cleanup_json_ cJSON *json = NULL;
	const char *text = NULL;

	if (req->response.to_sink || body->len == 0 || !http_body_is_text(body->data, body->len))
		return NULL;
	type = http_response_media_type(req);
	json = cJSON_ParseWithLength(body->data, body->len);
	if (json)
		text = json_says(json);
	else if (!type || strncmp(type, "text/plain", 10) == 0)
		text = body->data;
	/* Checked on the whole text: the cut could keep half a token. */
	if (!text || http_request_leaks_secret(req, text))
		return NULL;
	return squeeze(text);
}

static char *status_message(const struct http_request *req, int64_t retry_ms)
{
	_cleanup_free_ char *what = http_request_describe(req), *says = server_says(req);
	const struct http_response *response = &req->response;
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_printf(&sb, "%s: HTTP %ld", what, response->status);
	if (response->reason)
		strbuf_printf(&sb, " %s", response->reason);
	if (says)
		strbuf_printf(&sb, ": %s", says);
	if (retry_ms > 0)
		strbuf_printf(&sb, " (retry after %lld s)", (long long)((retry_ms + 999) / 1000));
	return strbuf_steal(&sb);
}

bool http_outcome_error(const struct http_request *req, int status, struct module_error *ret_error)
{
	const struct http_response *response = &req->response;

	if (status < 0) {
		*ret_error = (struct module_error){
			.type = transport_type(status),
			.message = xstrdup(response->error ? response->error : strerror(-status)),
		};
		return true;
	}
	if (response->status < 400)
		return false;
	*ret_error = (struct module_error){ .type = http_outcome_status_type(response->status) };
	if (response->status == 429)
		ret_error->retry_after_ms = http_outcome_retry_after_ms(
			http_response_header(req, "retry-after"), time_now_ms());
	ret_error->message = status_message(req, ret_error->retry_after_ms);
	return true;
}

int http_outcome_fail_run(struct module_run *run, const struct http_request *req, int status)
{
	struct module_error error;
	int r;

	if (!http_outcome_error(req, status, &error))
		return module_run_fail(run, ERROR_UNEXPECTED, "HTTP exchange reported as failed");
	r = module_run_fail(run, error.type, "%s", error.message);
	module_run_set_retry_after(run, error.retry_after_ms);
	module_error_done(&error);
	return r;
}
