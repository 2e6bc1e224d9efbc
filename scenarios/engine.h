/* SPDX-License-Identifier: MIT */
/*
 * What one process needs to run scenarios: a libuv loop, the store, the
 * HTTP client and the module environment that ties them together. Both
 * scenarioctl and scenariod build one, so `scenarioctl run` executes
 * exactly what the daemon would.
 */
#pragma once

#include <uv.h>

#include "modules/module.h"

struct engine {
	uv_loop_t loop; /* embedded; closed by engine_close() */
	struct store *store; /* owned */
	struct http_client *http; /* owned */
	struct module_env env; /* points at the three above */
};

struct connections;

/* Opens the store under `state_dir` and sets up the loop and HTTP client.
 * Modules find their connections in `connections` (borrowed: it must
 * outlive the engine; NULL: none). On failure returns a negative errno and
 * a message (caller frees). */
int engine_open(const char *state_dir, struct connections *connections, struct engine **ret,
		char **reterr_msg);
/* Closes everything; runs the loop until every handle is closed. Accepts
 * NULL; returns NULL. */
struct engine *engine_close(struct engine *engine);
