/* SPDX-License-Identifier: MIT */
/*
 * CloudConvert's webhook deliveries for New Job Event triggers: POST
 * /webhooks/<scenario>/<module-id> (scenario-format.md "Instant triggers and
 * the webhook queue"). The CloudConvert-Signature header must carry the
 * HMAC-SHA256 of the raw body under the trigger's signing secret, computed
 * by the listener as the bytes arrived and compared in constant time,
 * before anything looks at the body: a bad or missing signature gets 401
 * and nothing is queued. A good delivery is parsed into the trigger's
 * bundle ({event, job} or {event, task}), queued in the store (committed),
 * and only then answered 200; one for an event the trigger does not take
 * is answered 200 and dropped, and so is one delivered again (the same event
 * of the same job or task, remembered for 7 days). An answer other than 2xx makes CloudConvert
 * deliver again, which is what a delivery that could not be queued needs
 * (503).
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <string.h>

#include "daemon/http_server.h"
#include "daemon/route.h"
#include "modules/cloudconvert/cloudconvert.h"
#include "scenarios/engine.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

static void answer(struct daemon *d, struct http_in *in, enum delivery_outcome outcome,
		   unsigned status, const char *text)
{
	d->http.deliveries[1][outcome]++;
	http_in_respond(in, status, NULL, "text/plain; charset=utf-8", text, strlen(text));
}

/* One event of one job or task happens once: "job.finished:ID". */
static char *event_key(const cJSON *bundle)
{
	const char *event = json_get_string(bundle, "event");
	const cJSON *subject = cJSON_GetObjectItemCaseSensitive(bundle, "job");
	const char *id;

	if (!subject)
		subject = cJSON_GetObjectItemCaseSensitive(bundle, "task");
	id = json_get_string(subject, "id");
	return event && id ? xasprintf("%s:%s", event, id) : NULL;
}

static struct trigger_route *route_of(struct daemon *d, struct daemon_scenario *s,
				      const char *module_id)
{
	struct trigger_route *route = http_front_route(d, s);

	if (!route || route->kind != ROUTE_CLOUDCONVERT ||
	    (module_id && !streq(route->module_id, module_id)))
		return NULL;
	return route;
}

int cc_events_headers(struct daemon *d, struct daemon_scenario *s, const char *module_id,
		      struct http_in *in, struct http_in_plan *plan)
{
	struct trigger_route *route = route_of(d, s, module_id);

	if (!route) {
		answer(d, in, DELIVERY_REJECTED, 404, "no such trigger\n");
		return 1;
	}
	if (!streq(http_in_method(in), "POST")) {
		answer(d, in, DELIVERY_REJECTED, 405, "method not allowed\n");
		return 1;
	}
	if (route->problem || !route->hmac_key) {
		answer(d, in, DELIVERY_UNAVAILABLE, 503,
		       "this trigger cannot take deliveries yet\n");
		return 1;
	}
	plan->max_body = route->max_body;
	plan->too_large = &d->http.deliveries[1][DELIVERY_TOO_LARGE];
	plan->hmac_key = route->hmac_key;
	plan->hmac_key_len = strlen(route->hmac_key);
	return 0;
}

void cc_events_body(struct daemon *d, struct daemon_scenario *s, struct http_in *in)
{
	struct trigger_route *route = route_of(d, s, NULL);
	const unsigned char *digest = http_in_body_hmac(in);
	_cleanup_json_ cJSON *bundle = NULL;
	_cleanup_free_ char *key = NULL;
	const char *body;
	size_t len = 0;
	int64_t id;
	int r;

	if (!route) {
		answer(d, in, DELIVERY_REJECTED, 404, "no such trigger\n");
		return;
	}
	if (!digest ||
	    !webhooks_verify_hmac_header(http_in_header(in, "cloudconvert-signature"), digest)) {
		log_warning(HTTP, "Refused a CloudConvert delivery for '%s' from %s: %s signature",
			    s->name, http_in_remote_address(in),
			    http_in_header(in, "cloudconvert-signature") ? "a wrong" : "no");
		answer(d, in, DELIVERY_UNAUTHORIZED, 401,
		       "bad or missing CloudConvert-Signature\n");
		return;
	}
	body = http_in_body(in, &len);
	r = cc_parse_webhook_event(
		body, len, cJSON_GetObjectItemCaseSensitive(route->constants, "events"), &bundle);
	if (r == -ENOENT) {
		answer(d, in, DELIVERY_IGNORED, 200, "not an event this trigger takes\n");
		return;
	}
	if (r < 0) {
		answer(d, in, DELIVERY_REJECTED, 400, "not a CloudConvert event\n");
		return;
	}
	key = event_key(bundle);
	r = store_event_enqueue(d->engine->store, s->name, route->module_id, key, bundle, &id);
	if (r == -EEXIST) {
		/* Delivered again (our answer was lost): queued once already. */
		answer(d, in, DELIVERY_IGNORED, 200, "OK (delivered before)\n");
		return;
	}
	if (r < 0) {
		log_error_errno(HTTP, r, "Cannot queue a CloudConvert event for '%s': %m", s->name);
		answer(d, in, DELIVERY_UNAVAILABLE, 503, "the event could not be queued\n");
		return;
	}
	log_debug(HTTP, "Queued event=%lld scenario='%s' kind=%s", (long long)id, s->name,
		  json_get_string(bundle, "event"));
	answer(d, in, DELIVERY_QUEUED, 200, "OK\n");
	instant_kick(d, s);
}
