/* SPDX-License-Identifier: MIT */
/*
 * Set-up and tear-down of the loop, store and HTTP client; see engine.h.
 */
#include "scenarios/engine.h"

#include <stdlib.h>
#include <string.h>

#include "modules/http/client.h"
#include "scenarios/connections.h"
#include "store/store.h"
#include "util/xalloc.h"

int engine_open(const char *state_dir, struct connections *connections, struct engine **ret,
		char **reterr_msg)
{
	struct engine *engine = xcalloc(1, sizeof(*engine));
	int r;

	r = uv_loop_init(&engine->loop);
	if (r < 0) {
		*reterr_msg = xasprintf("cannot set up the event loop: %s", uv_strerror(r));
		free(engine);
		return r;
	}
	r = store_open(state_dir, &engine->store, reterr_msg);
	if (r < 0) {
		uv_loop_close(&engine->loop);
		free(engine);
		return r;
	}
	r = http_client_new(&engine->loop, &engine->http);
	if (r < 0) {
		*reterr_msg = xasprintf("cannot set up the HTTP client: %s", strerror(-r));
		store_close(engine->store);
		uv_loop_close(&engine->loop);
		free(engine);
		return r;
	}
	engine->env = (struct module_env){
		.loop = &engine->loop,
		.http = engine->http,
		.store = engine->store,
		.find_connection = connections ? connections_lookup : NULL,
		.connections_userdata = connections,
	};
	*ret = engine;
	return 0;
}

static void close_walk(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

struct engine *engine_close(struct engine *engine)
{
	if (!engine)
		return NULL;
	engine->http = http_client_free(engine->http);
	uv_run(&engine->loop, UV_RUN_DEFAULT);
	/* Anything still open here belongs to no one any more. */
	uv_walk(&engine->loop, close_walk, NULL);
	uv_run(&engine->loop, UV_RUN_DEFAULT);
	uv_loop_close(&engine->loop);
	store_close(engine->store);
	free(engine);
	return NULL;
}
