/* SPDX-License-Identifier: MIT */
/*
 * The trigger_route of a scenario whose first module is an instant trigger
 * (route.h): built from the version that runs when a request first needs
 * it (its limits, its verification with the secrets resolved) and built
 * again when a reload brings another version. Secrets in a route are
 * wiped when it is freed. Apart from the listener so that the catalog and
 * the registrations can free routes in a build without libmicrohttpd.
 */
#include "daemon/daemon.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/route.h"
#include "modules/connection.h"
#include "scenarios/connections.h"
#include "scenarios/engine.h"
#include "scenarios/scenario.h"
#include "util/json.h"
#include "util/units.h"
#include "util/xalloc.h"

#define DEFAULT_MAX_BODY (5 << 20) /* Fusion's webhook payload limit */
#define DEFAULT_RESPONSE_WAIT_MS (30 * 1000)
#define CC_EVENT_MAX_BODY (8 << 20) /* a job with its tasks, as CloudConvert sends it */

const char *delivery_outcome_to_string(enum delivery_outcome outcome)
{
	static const char *const names[_DELIVERY_OUTCOME_MAX] = {
		[DELIVERY_QUEUED] = "queued",
		[DELIVERY_IGNORED] = "ignored",
		[DELIVERY_UNAUTHORIZED] = "unauthorized",
		[DELIVERY_REJECTED] = "rejected",
		[DELIVERY_TOO_LARGE] = "too_large",
		[DELIVERY_UNAVAILABLE] = "unavailable",
	};

	return outcome < _DELIVERY_OUTCOME_MAX ? names[outcome] : NULL;
}

static void wipe_free(char *secret)
{
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}

void trigger_route_free(struct trigger_route *route)
{
	if (!route)
		return;
	webhooks_verify_done(&route->verify);
	cJSON_Delete(route->constants);
	wipe_free(route->hmac_key);
	wipe_free(route->basic_password);
	free(route->module_id);
	free(route->problem);
	free(route);
}

static void read_secret_into(struct trigger_route *route, const char *key,
			     const struct webhook_secret_ref *ref, char **ret)
{
	_cleanup_free_ char *problem = NULL;

	if (route->problem)
		return;
	if (connections_secret_read(key, ref->source, ref->name, NULL, ret, &problem) < 0)
		route->problem = TAKE_PTR(problem);
}

static void build_custom(struct trigger_route *route)
{
	const char *max_body = json_get_string(route->constants, "max_body");
	const char *wait = json_get_string(route->constants, "response_wait");
	_cleanup_free_ char *message = NULL;
	int64_t n;

	route->kind = ROUTE_CUSTOM;
	route->max_body = DEFAULT_MAX_BODY;
	route->response_wait_ms = DEFAULT_RESPONSE_WAIT_MS;
	if (max_body && units_parse_size(max_body, &n) == 0 && n > 0)
		route->max_body = n;
	if (wait && units_parse_duration(wait, &n) == 0 && n >= 0)
		route->response_wait_ms = n;
	if (webhooks_verify_parse(cJSON_GetObjectItemCaseSensitive(route->constants, "verify"),
				  &route->verify, &message) < 0) {
		route->problem = TAKE_PTR(message);
		return;
	}
	if (route->verify.hmac)
		read_secret_into(route, "verify.hmac.secret", &route->verify.hmac_secret,
				 &route->hmac_key);
	if (route->verify.basic)
		read_secret_into(route, "verify.basic.password", &route->verify.basic_password,
				 &route->basic_password);
}

/* The signing secret of a New Job Event trigger: the connection's own
 * (a webhook registered by hand), else the one its registration got. */
static void build_cloudconvert(struct daemon *d, struct daemon_scenario *s,
			       struct trigger_route *route, const struct flow_node *node)
{
	const struct connection *conn =
		node->connection ? runner_connection(d->runner, node->connection) : NULL;

	route->kind = ROUTE_CLOUDCONVERT;
	route->max_body = CC_EVENT_MAX_BODY;
	if (conn && conn->webhook_signing_secret)
		route->hmac_key = xstrdup(conn->webhook_signing_secret);
	else if (s->webhook_secret)
		route->hmac_key = xstrdup(s->webhook_secret);
	else
		route->problem =
			xstrdup(s->webhook_problem ?
					s->webhook_problem :
					"no signing secret: the webhook is not registered "
					"(give scenariod --public-url) and the connection has no "
					"webhook_signing_secret");
}

struct trigger_route *http_front_route(struct daemon *d, struct daemon_scenario *s)
{
	const struct scenario *sc = s->version->scenario;
	const struct flow_node *node = sc->flow.nodes[0];
	struct trigger_route *route;

	if (s->route && s->route->version == s->version)
		return s->route;
	trigger_route_free(TAKE_PTR(s->route));
	if (!node->desc || node->desc->kind != MODULE_TRIGGER_INSTANT)
		return NULL;
	route = xcalloc(1, sizeof(*route));
	route->version = s->version;
	route->module_id = xstrdup(node->id);
	route->constants = scenario_node_constants(node);
	if (streq(node->desc->app, "webhooks"))
		build_custom(route);
	else
		build_cloudconvert(d, s, route, node);
	if (route->problem)
		log_warning(DAEMON, "Scenario '%s': its trigger cannot take requests: %s", s->name,
			    route->problem);
	s->route = route;
	return route;
}
