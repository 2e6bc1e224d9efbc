/* SPDX-License-Identifier: MIT */
/*
 * Custom webhooks, Fusion's Webhooks app: any of GET, POST, PUT, PATCH or
 * DELETE on /hooks/<scenario>, whose first module is webhooks.custom.
 *
 * The trigger's `verify` is applied before anything is queued: the
 * caller's address and basic credentials on the headers, the HMAC header
 * on the raw body; a request that fails gets 401 and runs nothing. A
 * request that passes becomes the bundle {method, headers, query, body,
 * files} (a JSON body parsed, a form as a map, multipart file parts and any
 * other binary body as file values in the blob store, streamed; the
 * Authorization header left out, as it is a secret), is queued in the store
 * (committed), and its caller waits: for the webhooks.respond of the run
 * that takes it (hooks_host.respond), else 200 "Accepted" once that run's
 * cycle is done with it, or 202 with the execution's id when the trigger's
 * response_wait passes first.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/http_server.h"
#include "daemon/route.h"
#include "scenarios/engine.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

#define WAITER_BUCKETS_MIN 64

struct hook_waiter {
	struct daemon *d; /* borrowed */
	int64_t event_id;
	struct http_in *in; /* a reference */
	uv_timer_t timer; /* response_wait */
	struct hook_waiter *next; /* in its bucket */
	bool closing;
};

static void answer(struct daemon *d, struct http_in *in, enum delivery_outcome outcome,
		   unsigned status, const char *text)
{
	d->http.deliveries[0][outcome]++;
	http_in_respond(in, status, NULL, "text/plain; charset=utf-8", text, strlen(text));
}

static void refuse(struct daemon *d, struct daemon_scenario *s, struct http_in *in, const char *why)
{
	log_warning(HTTP, "Refused a request to /hooks/%s from %s: %s", s->name,
		    http_in_remote_address(in), why);
	answer(d, in, DELIVERY_UNAUTHORIZED, 401, "unauthorized\n");
}

/* ---- callers waiting for an answer, by event id ---- */

static size_t bucket_of(const struct http_front *h, int64_t event_id)
{
	return (size_t)((uint64_t)event_id * 0x9e3779b97f4a7c15ULL >> 40) % h->waiter_buckets;
}

static void table_grow(struct http_front *h)
{
	size_t size = h->waiter_buckets ? 2 * h->waiter_buckets : WAITER_BUCKETS_MIN;
	struct hook_waiter **old = h->waiters;
	size_t old_size = h->waiter_buckets;

	h->waiters = xcalloc(size, sizeof(*h->waiters));
	h->waiter_buckets = size;
	for (size_t i = 0; i < old_size; i++)
		while (old[i]) {
			struct hook_waiter *w = old[i];
			size_t b = bucket_of(h, w->event_id);

			old[i] = w->next;
			w->next = h->waiters[b];
			h->waiters[b] = w;
		}
	free(old);
}

static struct hook_waiter *waiter_find(struct http_front *h, int64_t event_id, bool unlink)
{
	struct hook_waiter **p;

	if (!h->waiter_buckets)
		return NULL;
	for (p = &h->waiters[bucket_of(h, event_id)]; *p; p = &(*p)->next)
		if ((*p)->event_id == event_id) {
			struct hook_waiter *w = *p;

			if (unlink) {
				*p = w->next;
				h->waiter_count--;
			}
			return w;
		}
	return NULL;
}

static void on_waiter_closed(uv_handle_t *handle)
{
	struct hook_waiter *w = container_of((uv_timer_t *)handle, struct hook_waiter, timer);

	http_in_unref(w->in);
	free(w);
}

/* The caller has its answer (or is gone): the waiter goes. */
static void waiter_end(struct hook_waiter *w)
{
	if (w->closing)
		return;
	w->closing = true;
	uv_close((uv_handle_t *)&w->timer, on_waiter_closed);
}

static void on_response_wait(uv_timer_t *timer)
{
	struct hook_waiter *w = container_of(timer, struct hook_waiter, timer);
	struct daemon *d = w->d;
	_cleanup_json_ cJSON *doc = cJSON_CreateObject();
	_cleanup_json_ cJSON *taken = NULL;
	int64_t execution = 0;

	waiter_find(&d->http, w->event_id, true);
	/* Which run has it, if one took it yet. */
	if (store_event_execution(d->engine->store, w->event_id, &execution) < 0)
		execution = 0;
	cJSON_AddStringToObject(doc, "status", execution ? "running" : "queued");
	if (execution) {
		char id[32];

		snprintf(id, sizeof(id), "%lld", (long long)execution);
		cJSON_AddStringToObject(doc, "execution_id", id);
	} else {
		cJSON_AddNullToObject(doc, "execution_id");
	}
	http_in_respond_json(w->in, 202, doc);
	waiter_end(w);
}

static void waiter_add(struct daemon *d, int64_t event_id, struct http_in *in, int64_t wait_ms)
{
	struct http_front *h = &d->http;
	struct hook_waiter *w = xcalloc(1, sizeof(*w));
	size_t b;

	if (h->waiter_count + 1 > 2 * h->waiter_buckets)
		table_grow(h);
	w->d = d;
	w->event_id = event_id;
	w->in = http_in_ref(in);
	uv_timer_init(&d->engine->loop, &w->timer);
	uv_timer_start(&w->timer, on_response_wait, (uint64_t)wait_ms, 0);
	b = bucket_of(h, event_id);
	w->next = h->waiters[b];
	h->waiters[b] = w;
	h->waiter_count++;
}

void hooks_stop(struct daemon *d)
{
	struct http_front *h = &d->http;

	for (size_t i = 0; i < h->waiter_buckets; i++)
		while (h->waiters[i]) {
			struct hook_waiter *w = h->waiters[i];

			h->waiters[i] = w->next;
			http_in_respond(w->in, 503, NULL, "text/plain; charset=utf-8",
					"scenariod is stopping; the request is queued\n", 45);
			waiter_end(w);
		}
	h->waiter_count = 0;
	free(h->waiters);
	h->waiters = NULL;
	h->waiter_buckets = 0;
}

/* ---- the webhook host: webhooks.respond and the end of a cycle ---- */

static int host_respond(void *userdata, int64_t event_id, const struct webhook_reply *reply)
{
	struct daemon *d = userdata;
	struct hook_waiter *w = waiter_find(&d->http, event_id, true);
	int r;

	if (!w)
		return -ENOENT;
	if (reply->file_path)
		r = http_in_respond_file(w->in, reply->status, reply->headers,
					 reply->content_type ? reply->content_type :
							       "application/octet-stream",
					 reply->file_path);
	else if (reply->json) {
		_cleanup_free_ char *text = cJSON_PrintUnformatted(reply->json);

		r = http_in_respond(w->in, reply->status, reply->headers,
				    reply->content_type ? reply->content_type : "application/json",
				    text, strlen(text));
	} else
		r = http_in_respond(w->in, reply->status, reply->headers,
				    reply->content_type ? reply->content_type :
							  "text/plain; charset=utf-8",
				    reply->body ? reply->body : "", reply->len);
	waiter_end(w);
	return r < 0 ? r : 0;
}

static void host_event_done(void *userdata, int64_t event_id, int64_t execution_id,
			    bool acknowledged)
{
	struct daemon *d = userdata;
	struct hook_waiter *w = waiter_find(&d->http, event_id, true);
	_cleanup_json_ cJSON *doc = NULL;
	char id[32];

	if (!w)
		return;
	if (acknowledged) {
		http_in_respond(w->in, 200, NULL, "text/plain; charset=utf-8", "Accepted", 8);
	} else {
		/* The run rolled back: the request stays queued for the next. */
		doc = cJSON_CreateObject();
		snprintf(id, sizeof(id), "%lld", (long long)execution_id);
		cJSON_AddStringToObject(doc, "status", "queued");
		cJSON_AddStringToObject(doc, "execution_id", id);
		http_in_respond_json(w->in, 202, doc);
	}
	waiter_end(w);
}

const struct webhook_host hooks_host = {
	.respond = host_respond,
	.event_done = host_event_done,
};

/* ---- the request ---- */

static bool method_taken(const char *method)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };

	for (size_t i = 0; methods[i]; i++)
		if (streq(method, methods[i]))
			return true;
	return false;
}

int hooks_headers(struct daemon *d, struct daemon_scenario *s, struct http_in *in,
		  struct http_in_plan *plan)
{
	struct trigger_route *route = http_front_route(d, s);

	if (!route || route->kind != ROUTE_CUSTOM) {
		answer(d, in, DELIVERY_REJECTED, 404, "this scenario has no custom webhook\n");
		return 1;
	}
	if (!method_taken(http_in_method(in))) {
		answer(d, in, DELIVERY_REJECTED, 405, "method not allowed\n");
		return 1;
	}
	if (route->problem) {
		answer(d, in, DELIVERY_UNAVAILABLE, 503, "this webhook cannot take requests now\n");
		return 1;
	}
	if (!webhooks_verify_address(&route->verify, http_in_remote_address(in))) {
		refuse(d, s, in, "its address is not in verify.ip_allow");
		return 1;
	}
	if (route->verify.basic &&
	    !webhooks_verify_basic(http_in_header(in, "authorization"), route->verify.basic_user,
				   route->basic_password)) {
		refuse(d, s, in, "no or wrong basic credentials");
		return 1;
	}
	plan->max_body = route->max_body;
	plan->too_large = &d->http.deliveries[0][DELIVERY_TOO_LARGE];
	plan->files_to_blobs = true;
	if (route->hmac_key) {
		plan->hmac_key = route->hmac_key;
		plan->hmac_key_len = strlen(route->hmac_key);
	}
	return 0;
}

static bool is_json(const char *content_type)
{
	const char *semi;
	size_t len;

	if (!content_type)
		return false;
	semi = strchr(content_type, ';');
	len = semi ? (size_t)(semi - content_type) : strlen(content_type);
	while (len && content_type[len - 1] == ' ')
		len--;
	return (len == 16 && !strncasecmp(content_type, "application/json", 16)) ||
	       (len > 5 && !strncasecmp(content_type + len - 5, "+json", 5));
}

static bool is_text(const char *content_type)
{
	return !content_type || !strncasecmp(content_type, "text/", 5);
}

/* What a body becomes in the bundle: parsed JSON, a form, text, or a file
 * value (anything that is not UTF-8 text; it is also the first of `files`). Returns -EBADMSG for JSON that
 * does not parse. */
static int body_value(struct daemon *d, struct http_in *in, cJSON *files, cJSON **ret)
{
	const char *type = http_in_header(in, "content-type");
	const cJSON *form = http_in_form(in);
	size_t len = 0;
	const char *body = http_in_body(in, &len);
	struct store_blob_writer *writer = NULL;
	cJSON *file = NULL;
	int r;

	if (form) {
		*ret = cJSON_Duplicate(form, true);
		return 0;
	}
	if (!body || len == 0) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	if (is_json(type)) {
		*ret = cJSON_ParseWithLength(body, len);
		return *ret ? 0 : -EBADMSG;
	}
	if (is_text(type) && json_utf8_valid(body, len)) {
		*ret = cJSON_CreateString(body);
		return 0;
	}
	/* Binary: kept as a file, never as text in the store's JSON. */
	r = store_blob_writer_new(d->engine->store, 0, &writer);
	if (r == 0)
		r = store_blob_writer_write(writer, body, len);
	if (r == 0)
		r = store_blob_writer_commit(TAKE_PTR(writer), "body", type, &file);
	store_blob_writer_abort(writer);
	if (r < 0)
		return r;
	cJSON_AddStringToObject(file, "field", "body");
	*ret = cJSON_Duplicate(file, true);
	cJSON_AddItemToArray(files, file);
	return 0;
}

static cJSON *headers_value(struct http_in *in)
{
	cJSON *headers = cJSON_Duplicate(http_in_headers(in), true);

	/* Credentials never reach the store. */
	cJSON_DeleteItemFromObjectCaseSensitive(headers, "authorization");
	cJSON_DeleteItemFromObjectCaseSensitive(headers, "proxy-authorization");
	return headers;
}

void hooks_body(struct daemon *d, struct daemon_scenario *s, struct http_in *in)
{
	struct trigger_route *route = http_front_route(d, s);
	const unsigned char *digest = http_in_body_hmac(in);
	_cleanup_json_ cJSON *bundle = NULL;
	cJSON *files, *body = NULL;
	int64_t id;
	int r;

	if (!route || route->kind != ROUTE_CUSTOM) {
		answer(d, in, DELIVERY_REJECTED, 404, "this scenario has no custom webhook\n");
		return;
	}
	if (route->verify.hmac &&
	    (!digest ||
	     !webhooks_verify_hmac_header(http_in_header(in, route->verify.hmac_header), digest))) {
		refuse(d, s, in, "no or wrong HMAC signature");
		return;
	}
	files = http_in_files(in) ? cJSON_Duplicate(http_in_files(in), true) : cJSON_CreateArray();
	r = body_value(d, in, files, &body);
	if (r < 0) {
		cJSON_Delete(files);
		if (r == -EBADMSG)
			answer(d, in, DELIVERY_REJECTED, 400, "the body is not JSON\n");
		else
			answer(d, in, DELIVERY_UNAVAILABLE, 503, "the body could not be stored\n");
		return;
	}
	bundle = cJSON_CreateObject();
	cJSON_AddStringToObject(bundle, "method", http_in_method(in));
	cJSON_AddItemToObject(bundle, "headers", headers_value(in));
	cJSON_AddItemToObject(bundle, "query", cJSON_Duplicate(http_in_query(in), true));
	cJSON_AddItemToObject(bundle, "body", body);
	cJSON_AddItemToObject(bundle, "files", files);
	r = store_event_enqueue(d->engine->store, s->name, route->module_id, NULL, bundle, &id);
	if (r < 0) {
		log_error_errno(HTTP, r, "Cannot queue a request to /hooks/%s: %m", s->name);
		answer(d, in, r == -E2BIG ? DELIVERY_TOO_LARGE : DELIVERY_UNAVAILABLE,
		       r == -E2BIG ? 413 : 503, "the request could not be queued\n");
		return;
	}
	d->http.deliveries[0][DELIVERY_QUEUED]++;
	waiter_add(d, id, in, route->response_wait_ms);
	instant_kick(d, s);
}
