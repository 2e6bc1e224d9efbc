/* SPDX-License-Identifier: MIT */
/*
 * The shape most CloudConvert modules share: one API call (a GET, a DELETE,
 * a POST on a task), its answer turned into bundles. Lists page through
 * the API 100 items at a time until the module's limit; an object answer
 * becomes one bundle without the {"data": …} envelope, with every field the
 * API sent, known or not.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "util/json.h"
#include "util/xalloc.h"

#define MAX_ID 128

struct cc_simple *cc_simple_new(const char *method, const char *path, cc_emit_fn *emit)
{
	struct cc_simple *s = xcalloc(1, sizeof(*s));

	s->host = CC_HOST_API;
	s->method = method;
	s->path = xstrdup(path);
	s->query = cJSON_CreateObject();
	s->emit = emit;
	return s;
}

void cc_simple_free(struct cc_simple *s)
{
	if (!s)
		return;
	free(s->path);
	cJSON_Delete(s->query);
	cJSON_Delete(s->headers);
	cJSON_Delete(s->body);
	cJSON_Delete(s->state);
	free(s);
}

static struct cc_simple *simple_of(struct cc_op *op)
{
	return container_of(op, struct cc_simple, op);
}

static void free_op(struct cc_op *op)
{
	cc_simple_free(simple_of(op));
}

static int setup(struct cc_op *op, struct http_request *req)
{
	struct cc_simple *s = simple_of(op);
	const cJSON *item;
	int r;

	r = cc_api_request(op, req, s->host, s->method, s->path);
	cJSON_ArrayForEach(item, s->query) {
		if (r < 0)
			break;
		r = http_request_add_query(req, item->string, item->valuestring);
	}
	if (r == 0 && s->page > 0) {
		char number[24];

		snprintf(number, sizeof(number), "%d", s->page);
		r = http_request_add_query(req, "page", number);
	}
	cJSON_ArrayForEach(item, s->headers) {
		if (r < 0)
			break;
		r = http_request_add_header(req, item->string, item->valuestring, 0);
	}
	if (r == 0 && s->body)
		r = http_request_set_body_json(req, s->body);
	if (r < 0 && !op->error.message)
		cc_op_set_error(op, ERROR_DATA, "the request cannot be sent: %s", strerror(-r));
	return r;
}

static void on_done(struct cc_op *op, int status)
{
	if (status < 0) {
		cc_op_fail(op);
		return;
	}
	simple_of(op)->emit(simple_of(op));
}

void cc_simple_again(struct cc_simple *s)
{
	cc_api_call(&s->op, s->flags, setup, on_done);
}

int cc_simple_start(struct cc_simple *s, struct module_run *run)
{
	int r;

	r = cc_op_begin(&s->op, run, free_op);
	if (r < 0) {
		cc_simple_free(s);
		return r;
	}
	cc_simple_again(s);
	return MODULE_PENDING;
}

void cc_simple_emit_object(struct cc_simple *s)
{
	cJSON *data = cc_parse_take_data(s->op.doc);

	if (!cJSON_IsObject(data)) {
		cJSON_Delete(data);
		cc_op_fail_with(&s->op, ERROR_UNEXPECTED,
				"CloudConvert answered without the object asked for");
		return;
	}
	module_run_emit(s->op.run, data);
	cc_op_finish(&s->op);
}

void cc_simple_emit_list(struct cc_simple *s)
{
	const cJSON *items, *item;
	bool more;

	if (cc_parse_list(s->op.doc, &items, &more) < 0) {
		cc_op_fail_with(&s->op, ERROR_UNEXPECTED, "CloudConvert answered without a list");
		return;
	}
	cJSON_ArrayForEach(item, items) {
		if (s->emitted >= s->limit)
			break;
		module_run_emit(s->op.run, cJSON_Duplicate(item, true));
		s->emitted++;
	}
	if (more && s->page > 0 && s->emitted < s->limit && cJSON_GetArraySize(items) > 0) {
		s->page++;
		cc_simple_again(s);
		return;
	}
	cc_op_finish(&s->op);
}

void cc_simple_emit_id(struct cc_simple *s)
{
	cJSON *bundle = cJSON_CreateObject();

	cJSON_AddStringToObject(bundle, "id", json_get_string(s->state, "id") ?: "");
	module_run_emit(s->op.run, bundle);
	cc_op_finish(&s->op);
}

void cc_simple_filter(struct cc_simple *s, struct module_run *run, const char *field,
		      const char *name)
{
	_cleanup_free_ char *value = cc_input_text(run, field);

	if (value && *value)
		cJSON_AddStringToObject(s->query, name, value);
}

/* Ids are UUIDs (cloudconvert-api.md §2). Checking the form first matters:
 * the API answers a malformed id with a 500, which would be retried. */
static bool is_uuid(const char *id)
{
	static const int dashes[] = { 8, 13, 18, 23 };
	size_t d = 0;

	if (strlen(id) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (d < ELEMENTSOF(dashes) && i == dashes[d]) {
			if (id[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)id[i])) {
			return false;
		}
	}
	return true;
}

char *cc_simple_id(struct module_run *run, const char *field)
{
	_cleanup_free_ char *id = cc_input_text(run, field);

	if (!id || !*id) {
		module_run_fail(run, ERROR_DATA, "%s is required", field);
		return NULL;
	}
	if (!is_uuid(id)) {
		module_run_fail(run, ERROR_DATA, "%s '%.*s' is not a CloudConvert id (a UUID)",
				field, MAX_ID, id);
		return NULL;
	}
	return TAKE_PTR(id);
}
