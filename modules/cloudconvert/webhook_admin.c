/* SPDX-License-Identifier: MIT */
/*
 * The account webhooks behind New Job Event triggers, for the daemon
 * (cloudconvert.h): registering one for a trigger's URL and deleting it.
 * They run as module runs do, on a module_run the daemon provides (its
 * environment and connection), with the client's retries; the run emits
 * what the daemon needs.
 *
 * Registering is not idempotent (POST /v2/webhooks creates another each
 * time), and its answer is the only place the signing secret ever appears.
 * So a registration first lists the account's webhooks for the trigger's
 * own URL and deletes them (an earlier attempt whose answer was lost, or a
 * registration whose secret is gone), then creates one: whatever happened
 * before, the trigger ends with exactly one webhook whose secret it knows.
 */
#include <errno.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "util/json.h"
#include "util/xalloc.h"

#define MAX_STALE 100 /* webhooks at one URL a registration cleans up */

static void next_step(struct cc_simple *s);

static void emit_created(struct cc_simple *s)
{
	cJSON *data = cc_parse_take_data(s->op.doc);
	cJSON *bundle;

	if (!cJSON_IsObject(data) || !json_get_string(data, "id") ||
	    !json_get_string(data, "signing_secret")) {
		cJSON_Delete(data);
		cc_op_fail_with(&s->op, ERROR_UNEXPECTED,
				"CloudConvert created the webhook without an id or a signing "
				"secret");
		return;
	}
	bundle = cJSON_CreateObject();
	cJSON_AddStringToObject(bundle, "id", json_get_string(data, "id"));
	cJSON_AddStringToObject(bundle, "signing_secret", json_get_string(data, "signing_secret"));
	cJSON_Delete(data);
	module_run_emit(s->op.run, bundle);
	cc_op_finish(&s->op);
}

static void create(struct cc_simple *s)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "url", json_get_string(s->state, "url"));
	cJSON_AddItemToObject(body, "events",
			      cJSON_Duplicate(cJSON_GetObjectItem(s->state, "events"), true));
	s->method = "POST";
	free(s->path);
	s->path = xstrdup("/v2/webhooks");
	cJSON_Delete(s->query);
	s->query = cJSON_CreateObject();
	cJSON_Delete(s->body);
	s->body = body;
	s->page = 0;
	s->flags = 0;
	s->emit = emit_created;
	cc_simple_again(s);
}

/* Deletes the stale webhooks one by one, then creates. */
static void next_step(struct cc_simple *s)
{
	cJSON *stale = cJSON_GetObjectItem(s->state, "stale");
	cJSON *id = cJSON_DetachItemFromArray(stale, 0);

	if (!id) {
		create(s);
		return;
	}
	s->method = "DELETE";
	free(s->path);
	s->path = xasprintf("/v2/webhooks/%s", cJSON_IsString(id) ? id->valuestring : "");
	cJSON_Delete(id);
	cJSON_Delete(s->query);
	s->query = cJSON_CreateObject();
	s->page = 0;
	s->flags = CC_CALL_IDEMPOTENT | CC_CALL_GONE_OK | CC_CALL_RAW;
	s->emit = next_step;
	cc_simple_again(s);
}

static void on_listed(struct cc_simple *s)
{
	const char *url = json_get_string(s->state, "url");
	cJSON *stale = cJSON_GetObjectItem(s->state, "stale");
	const cJSON *items, *item;
	bool more;

	if (cc_parse_list(s->op.doc, &items, &more) < 0) {
		cc_op_fail_with(&s->op, ERROR_UNEXPECTED, "CloudConvert answered without a list");
		return;
	}
	cJSON_ArrayForEach(item, items) {
		const char *id = json_get_string(item, "id");

		if (id && streq_ptr(json_get_string(item, "url"), url) &&
		    cJSON_GetArraySize(stale) < MAX_STALE)
			cJSON_AddItemToArray(stale, cJSON_CreateString(id));
	}
	next_step(s);
}

int cc_webhook_register_start(struct module_run *run, const char *url, const cJSON *events)
{
	struct cc_simple *s = cc_simple_new("GET", "/v2/users/me/webhooks", on_listed);

	cJSON_AddStringToObject(s->query, "filter[url]", url);
	cJSON_AddStringToObject(s->query, "per_page", "100");
	s->flags = CC_CALL_IDEMPOTENT;
	s->state = cJSON_CreateObject();
	cJSON_AddStringToObject(s->state, "url", url);
	cJSON_AddItemToObject(s->state, "events", cJSON_Duplicate(events, true));
	cJSON_AddArrayToObject(s->state, "stale");
	return cc_simple_start(s, run);
}

static void emit_deleted(struct cc_simple *s)
{
	module_run_emit(s->op.run, cJSON_CreateObject());
	cc_op_finish(&s->op);
}

int cc_webhook_delete_start(struct module_run *run, const char *remote_id)
{
	_cleanup_free_ char *path = xasprintf("/v2/webhooks/%s", remote_id);
	struct cc_simple *s = cc_simple_new("DELETE", path, emit_deleted);

	/* Deleting twice deletes once: a 404 after a lost answer means done. */
	s->flags = CC_CALL_IDEMPOTENT | CC_CALL_GONE_OK | CC_CALL_RAW;
	return cc_simple_start(s, run);
}
