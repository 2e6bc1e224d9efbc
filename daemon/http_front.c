/* SPDX-License-Identifier: MIT */
/*
 * The daemon's HTTP front (--listen, docs/cli.md): which request goes where,
 * and the two answers it gives itself.
 *
 *   GET  /healthz                         200 when the store answers
 *   GET  /metrics                         Prometheus text (metrics_page.c)
 *   POST /webhooks/<scenario>/<module-id> CloudConvert events (cc_events.c)
 *   *    /hooks/<scenario>                custom webhooks (hooks.c)
 *
 * A scenario's instant trigger is described by its trigger_route
 * (route.c).
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http_server.h"
#include "scenarios/engine.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

static void answer(struct http_in *in, unsigned status, const char *text)
{
	http_in_respond(in, status, NULL, "text/plain; charset=utf-8", text, strlen(text));
}

static void healthz(struct daemon *d, struct http_in *in)
{
	int64_t next;

	/* One indexed read: the store answers, or the daemon is not healthy. */
	if (store_incomplete_next_due(d->engine->store, &next) < 0)
		answer(in, 503, "the store does not answer\n");
	else
		answer(in, 200, "ok\n");
}

/* "/webhooks/<scenario>/<module-id>" or "/hooks/<scenario>": the parts, or
 * false for any other path. */
static bool split_path(const char *path, const char *prefix, char **ret_scenario, char **ret_module)
{
	size_t len = strlen(prefix);
	const char *rest, *slash;

	if (strncmp(path, prefix, len) != 0)
		return false;
	rest = path + len;
	slash = strchr(rest, '/');
	if (!*rest || rest[0] == '/' || (ret_module ? !slash : slash != NULL))
		return false;
	if (ret_module) {
		if (!slash[1] || strchr(slash + 1, '/'))
			return false;
		*ret_scenario = xstrndup(rest, (size_t)(slash - rest));
		*ret_module = xstrdup(slash + 1);
	} else {
		*ret_scenario = xstrdup(rest);
	}
	return true;
}

static int on_headers(struct http_in *in, struct http_in_plan *plan, void *userdata)
{
	struct daemon *d = userdata;
	const char *method = http_in_method(in), *path = http_in_path(in);
	_cleanup_free_ char *name = NULL, *module = NULL;
	struct daemon_scenario *s;

	if (streq(path, "/healthz") || streq(path, "/metrics")) {
		if (!streq(method, "GET") && !streq(method, "HEAD")) {
			answer(in, 405, "method not allowed\n");
			return 1;
		}
		if (streq(path, "/healthz"))
			healthz(d, in);
		else
			metrics_page(d, in);
		return 1;
	}
	if (split_path(path, "/webhooks/", &name, &module)) {
		s = catalog_find(&d->catalog, name);
		if (!s) {
			answer(in, 404, "no such scenario\n");
			return 1;
		}
		return cc_events_headers(d, s, module, in, plan);
	}
	if (split_path(path, "/hooks/", &name, NULL)) {
		s = catalog_find(&d->catalog, name);
		if (!s) {
			answer(in, 404, "no such scenario\n");
			return 1;
		}
		return hooks_headers(d, s, in, plan);
	}
	answer(in, 404, "not found\n");
	return 1;
}

static void on_body(struct http_in *in, void *userdata)
{
	struct daemon *d = userdata;
	const char *path = http_in_path(in);
	_cleanup_free_ char *name = NULL, *module = NULL;
	struct daemon_scenario *s;
	bool cc = split_path(path, "/webhooks/", &name, &module);

	if (!cc)
		split_path(path, "/hooks/", &name, NULL);
	/* A reload between the headers and the body may have taken it away. */
	s = name ? catalog_find(&d->catalog, name) : NULL;
	if (!s) {
		answer(in, 404, "no such scenario\n");
		return;
	}
	if (cc)
		cc_events_body(d, s, in);
	else
		hooks_body(d, s, in);
}

int http_front_start(struct daemon *d, char **reterr_msg)
{
	struct http_server_limits limits = { 0 };
	int r;

	if (!d->config->listen)
		return 0;
	r = http_server_start(&d->engine->loop, d->config->listen, &limits, d->engine->store,
			      on_headers, on_body, d, &d->http.server, reterr_msg);
	if (r < 0)
		return r;
	log_notice(HTTP, "Listening on %s (port %u)", d->config->listen,
		   http_server_port(d->http.server));
	return 0;
}

unsigned http_front_port(const struct daemon *d)
{
	return d->http.server ? http_server_port(d->http.server) : 0;
}

void http_front_stop(struct daemon *d)
{
	hooks_stop(d);
	http_server_stop(TAKE_PTR(d->http.server));
}
