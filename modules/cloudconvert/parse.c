/* SPDX-License-Identifier: MIT */
/*
 * Reading what CloudConvert sends: the {"data": …} envelope, lists, jobs and
 * tasks (are they final, why did they fail, what did they export, where
 * does an upload go), error bodies and webhook events. Pure functions over
 * cJSON, tested against the SDK fixtures in ../shared/reference.
 *
 * Objects are read loosely, as the reference asks: unknown keys are kept
 * and ignored, optional ones may be missing or null. Error bodies become
 * the typed errors of scenario-format.md "Errors", carrying the API's
 * message, code and field errors; a failed job is reported by its root
 * tasks, not by the ones that failed only because an input did
 * (INPUT_TASK_FAILED), as n8n's getJobErrorMessage does.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "modules/cloudconvert/cloudconvert.h"
#include "modules/http/outcome.h"
#include "modules/http/request.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define MAX_SAYS 400 /* characters of server text in one message */
#define MAX_FIELD_ERRORS 20 /* field errors listed in one message */

int cc_parse_body(const char *body, size_t len, cJSON **ret_doc)
{
	cJSON *doc;

	if (!body || len == 0)
		return -EBADMSG;
	doc = cJSON_ParseWithLength(body, len);
	if (!doc)
		return -EBADMSG;
	*ret_doc = doc;
	return 0;
}

const cJSON *cc_parse_data(const cJSON *doc)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");

	return cJSON_IsObject(data) || cJSON_IsArray(data) ? data : NULL;
}

cJSON *cc_parse_take_data(cJSON *doc)
{
	if (!cc_parse_data(doc))
		return NULL;
	return cJSON_DetachItemFromObjectCaseSensitive(doc, "data");
}

int cc_parse_list(const cJSON *doc, const cJSON **ret_items, bool *ret_more)
{
	const cJSON *items = cc_parse_data(doc);
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(doc, "links");
	const char *next = json_get_string(links, "next");

	if (!cJSON_IsArray(items))
		return -EBADMSG;
	*ret_items = items;
	*ret_more = next && *next;
	return 0;
}

bool cc_parse_is_final(const cJSON *object)
{
	const char *status = json_get_string(object, "status");

	return streq_ptr(status, "finished") || streq_ptr(status, "error");
}

static void describe_task_failure(struct strbuf *sb, const cJSON *task)
{
	const char *name = json_get_string(task, "name");
	const char *code = json_get_string(task, "code");
	const char *message = json_get_string(task, "message");

	if (sb->len)
		strbuf_puts(sb, "; ");
	if (name)
		strbuf_printf(sb, "task '%s'", name);
	else
		strbuf_printf(sb, "task %s", json_get_string(task, "id") ?: "?");
	strbuf_printf(sb, " (%s) failed", json_get_string(task, "operation") ?: "?");
	if (code)
		strbuf_printf(sb, ": %s", code);
	if (message)
		strbuf_printf(sb, ": %.*s", MAX_SAYS, message);
}

int cc_parse_failure(const cJSON *object, char **ret_message)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(object, "tasks");
	const cJSON *task, *first = NULL;
	struct strbuf sb;

	if (!streq_ptr(json_get_string(object, "status"), "error"))
		return -ENOENT;
	strbuf_init(&sb);
	if (!cJSON_IsArray(tasks)) {
		/* A task on its own. */
		describe_task_failure(&sb, object);
		*ret_message = strbuf_steal(&sb);
		return 0;
	}
	cJSON_ArrayForEach(task, tasks) {
		if (!streq_ptr(json_get_string(task, "status"), "error"))
			continue;
		if (!first)
			first = task;
		if (!streq_ptr(json_get_string(task, "code"), "INPUT_TASK_FAILED"))
			describe_task_failure(&sb, task);
	}
	/* Only INPUT_TASK_FAILED left (the root task deleted?): say what there is. */
	if (!sb.len && first)
		describe_task_failure(&sb, first);
	if (!sb.len) {
		strbuf_done(&sb);
		*ret_message = xasprintf("job %s ended with status error",
					 json_get_string(object, "id") ?: "?");
		return 0;
	}
	*ret_message = strbuf_steal(&sb);
	return 0;
}

static void add_export_files(cJSON *out, const cJSON *task)
{
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(task, "result");
	const cJSON *file;

	if (!streq_ptr(json_get_string(task, "operation"), "export/url") ||
	    !streq_ptr(json_get_string(task, "status"), "finished"))
		return;
	cJSON_ArrayForEach(file, cJSON_GetObjectItemCaseSensitive(result, "files")) {
		const char *url = json_get_string(file, "url");
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(file, "size");
		cJSON *entry;

		/* Only export/url files carry a URL (python#14). */
		if (!url)
			continue;
		entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "filename", json_get_string(file, "filename") ?: "");
		if (cJSON_IsNumber(size))
			cJSON_AddNumberToObject(entry, "size", size->valuedouble);
		cJSON_AddStringToObject(entry, "url", url);
		if (json_get_string(task, "name"))
			cJSON_AddStringToObject(entry, "task", json_get_string(task, "name"));
		cJSON_AddItemToArray(out, entry);
	}
}

cJSON *cc_parse_export_files(const cJSON *object)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(object, "tasks");
	cJSON *out = cJSON_CreateArray();
	const cJSON *task;

	if (!cJSON_IsArray(tasks)) {
		add_export_files(out, object);
		return out;
	}
	cJSON_ArrayForEach(task, tasks)
		add_export_files(out, task);
	return out;
}

int cc_parse_upload_form(const cJSON *task, const char **ret_url, const cJSON **ret_params)
{
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(task, "result");
	const cJSON *form = cJSON_GetObjectItemCaseSensitive(result, "form");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(form, "parameters");
	const char *url = json_get_string(form, "url");

	if (!cJSON_IsObject(form))
		return -ENOENT;
	if (!url || !*url || (params && !cJSON_IsObject(params) && !cJSON_IsNull(params)))
		return -EBADMSG;
	*ret_url = url;
	*ret_params = cJSON_IsObject(params) ? params : NULL;
	return 0;
}

/* ---- errors ---- */

static void append_squeezed(struct strbuf *sb, const char *text, size_t len)
{
	size_t chars = 0;
	bool space = false;

	for (size_t i = 0; i < len && text[i]; i++) {
		unsigned char c = (unsigned char)text[i];

		if (isspace(c) || c < 0x20 || c == 0x7f) {
			space = true;
			continue;
		}
		if ((c & 0xc0) != 0x80 && ++chars > MAX_SAYS) {
			strbuf_puts(sb, "…");
			return;
		}
		if (space && chars > 1)
			strbuf_putc(sb, ' ');
		space = false;
		strbuf_putc(sb, (char)c);
	}
}

static void append_field_errors(struct strbuf *sb, const cJSON *errors)
{
	const cJSON *field, *message;
	int shown = 0;

	cJSON_ArrayForEach(field, errors) {
		if (shown++ == MAX_FIELD_ERRORS) {
			strbuf_puts(sb, "; …");
			return;
		}
		strbuf_printf(sb, "; %s:", field->string ? field->string : "?");
		if (cJSON_IsString(field)) {
			strbuf_putc(sb, ' ');
			append_squeezed(sb, field->valuestring, strlen(field->valuestring));
			continue;
		}
		cJSON_ArrayForEach(message, field) {
			if (!cJSON_IsString(message))
				continue;
			strbuf_putc(sb, ' ');
			append_squeezed(sb, message->valuestring, strlen(message->valuestring));
		}
	}
}

static bool contains_ci(const char *haystack, const char *needle)
{
	return haystack && strcasestr(haystack, needle);
}

static enum error_type status_type(long status, const char *message)
{
	switch (status) {
	case 400:
	case 404:
	case 422:
		return ERROR_DATA;
	case 401:
	case 403:
		return ERROR_INVALID_ACCESS_TOKEN;
	case 402:
		/* Credits exceeded and "too many jobs at once" share the status
		 * and, as far as anyone recorded, the code: only the message tells
		 * a wait (rate limit) from a person's task (buy credits). */
		return contains_ci(message, "too many jobs") ? ERROR_RATE_LIMIT : ERROR_RUNTIME;
	case 413:
		return ERROR_MAX_FILE_SIZE_EXCEEDED;
	case 429:
		return ERROR_RATE_LIMIT;
	default:
		return status >= 500 || status == 408 ? ERROR_CONNECTION : ERROR_DATA;
	}
}

void cc_parse_error(long status, const char *body, size_t len, const char *retry_after,
		    const char *what, struct module_error *ret)
{
	_cleanup_json_ cJSON *doc = NULL;
	const char *message = NULL, *code = NULL;
	struct strbuf sb;

	if (body && len && http_body_is_text(body, len))
		doc = cJSON_ParseWithLength(body, len);
	message = json_get_string(doc, "message");
	code = json_get_string(doc, "code");

	strbuf_init(&sb);
	strbuf_printf(&sb, "%s: HTTP %ld", what, status);
	if (message) {
		strbuf_puts(&sb, ": ");
		append_squeezed(&sb, message, strlen(message));
	} else if (!doc && body && len && body[0] != '<' && http_body_is_text(body, len)) {
		/* A short text from a proxy; HTML error pages say nothing useful. */
		strbuf_puts(&sb, ": ");
		append_squeezed(&sb, body, len);
	}
	if (code)
		strbuf_printf(&sb, " (%s)", code);
	append_field_errors(&sb, cJSON_GetObjectItemCaseSensitive(doc, "errors"));

	*ret = (struct module_error){ .type = status_type(status, message) };
	if (status == 429)
		ret->retry_after_ms = http_outcome_retry_after_ms(retry_after, time_now_ms());
	if (ret->retry_after_ms > 0)
		strbuf_printf(&sb, " (retry after %lld s)",
			      (long long)((ret->retry_after_ms + 999) / 1000));
	ret->message = strbuf_steal(&sb);
}

/* The text between <tag> and </tag>, or NULL. Caller frees. */
static char *xml_element(const char *body, size_t len, const char *tag)
{
	_cleanup_free_ char *open = xasprintf("<%s>", tag), *close = xasprintf("</%s>", tag);
	const char *start = memmem(body, len, open, strlen(open)), *end;

	if (!start)
		return NULL;
	start += strlen(open);
	end = memmem(start, len - (size_t)(start - body), close, strlen(close));
	return end ? xstrndup(start, (size_t)(end - start)) : NULL;
}

void cc_parse_storage_error(long status, const char *body, size_t len, const char *what,
			    struct module_error *ret)
{
	_cleanup_free_ char *code = NULL, *message = NULL;
	struct strbuf sb;

	if (body && len && http_body_is_text(body, len)) {
		code = xml_element(body, len, "Code");
		message = xml_element(body, len, "Message");
	}
	strbuf_init(&sb);
	strbuf_printf(&sb, "%s on the CloudConvert storage host: HTTP %ld", what, status);
	if (message) {
		strbuf_puts(&sb, ": ");
		append_squeezed(&sb, message, strlen(message));
	}
	if (code) {
		strbuf_puts(&sb, " (");
		append_squeezed(&sb, code, strlen(code));
		strbuf_putc(&sb, ')');
	}
	/* Storage URLs are presigned: a refusal means the URL or the form is
	 * wrong or expired, never the API key, so it is the data's fault. */
	*ret = (struct module_error){
		.type = status >= 500 || status == 408 ? ERROR_CONNECTION :
			status == 429		       ? ERROR_RATE_LIMIT :
			status == 413		       ? ERROR_MAX_FILE_SIZE_EXCEEDED :
							 ERROR_DATA,
		.message = strbuf_steal(&sb),
	};
}

/* ---- webhooks ---- */

int cc_parse_webhook_event(const char *body, size_t len, const cJSON *events, cJSON **ret_bundle)
{
	_cleanup_json_ cJSON *doc = NULL;
	const char *event;
	const cJSON *e;
	cJSON *bundle;
	bool wanted = !events;

	const char *subject;

	if (cc_parse_body(body, len, &doc) < 0)
		return -EBADMSG;
	event = json_get_string(doc, "event");
	/* job.* events carry the job, task.* events the task. */
	subject = event && !strncmp(event, "task.", 5) ? "task" : "job";
	if (!event || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, subject)))
		return -EBADMSG;
	cJSON_ArrayForEach(e, events)
		if (cJSON_IsString(e) && streq(e->valuestring, event))
			wanted = true;
	if (!wanted)
		return -ENOENT;
	bundle = cJSON_CreateObject();
	cJSON_AddStringToObject(bundle, "event", event);
	cJSON_AddItemToObject(bundle, subject,
			      cJSON_DetachItemFromObjectCaseSensitive(doc, subject));
	*ret_bundle = bundle;
	return 0;
}
