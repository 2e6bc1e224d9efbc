/* SPDX-License-Identifier: MIT */
/*
 * Private to the runner (runner.c, runner_recover.c, runner_result.c): the
 * structs behind struct runner and struct runner_job.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "modules/module.h"
#include "scenarios/runner.h"

/* A connections set shared by the jobs that started with it. */
struct connection_set {
	int refs;
	struct connections *set; /* owned */
};

struct recovery;

struct runner {
	struct engine *engine; /* borrowed */
	struct runner_config config;
	struct retry_backoff backoff; /* points into config; count 0: the default */
	struct connection_set *connections; /* a reference: what new jobs use */
	struct runner_job *jobs; /* every job started and not yet done */
	int active;
	struct recovery *recovery; /* owned while runner_recover() works */
};

enum job_kind {
	JOB_RUN,
	JOB_RETRY,
};

enum job_state {
	JOB_WAITING, /* for its turn (a sequential scenario), or to start */
	JOB_RUNNING,
	JOB_DONE,
};

struct runner_job {
	struct runner *runner; /* borrowed */
	enum job_kind kind;
	enum job_state state;
	struct runner_job *prev, *next; /* runner->jobs while not done */

	const struct scenario *scenario; /* borrowed, or owned_scenario */
	struct scenario *owned_scenario; /* owned: a retry's stored snapshot */
	char *trigger; /* owned */
	bool force;
	int64_t now_ms;
	runner_wait_fn *waiting;
	const struct tz *tz; /* borrowed; NULL: the execution loads it */

	cJSON *record; /* owned: a retry's record as it was before the claim */
	int64_t incomplete_id;
	int64_t hold_id; /* the sequential hold; 0: none */
	int64_t last_ahead; /* what `waiting` was last told */

	struct module_env env; /* the engine's, with this job's connections */
	struct connection_set *connections; /* a reference */
	uv_timer_t timer; /* waiting: asks for the turn; running: renews claims */
	int64_t last_renew_ms;

	struct execution *execution; /* owned */
	enum runner_outcome outcome;
	char *message; /* owned */
	int64_t open_incomplete;
	bool stop_requested;

	runner_done_fn *done;
	void *userdata;
};

/* runner.c */
struct connection_set *runner_connections_ref(struct runner *runner);
void connection_set_unref(struct connection_set *c);
/* The module environment of the engine, looking connections up in `c`. */
void runner_env_init(struct runner *runner, struct module_env *env, const struct connection_set *c);
const struct retry_backoff *runner_backoff(const struct runner *runner);
