/* SPDX-License-Identifier: MIT */
/*
 * The executor: runs one execution of a scenario on the libuv loop.
 *
 * Trigger bundles walk the flow depth first, as Fusion does: each module runs
 * once per bundle that reaches it and each of its output bundles runs the
 * rest of the flow before the next one. Filters stop a bundle on its route,
 * routers run their routes in order (the fallback route gets the bundles no
 * other route took), an aggregator collects the bundles of its source module
 * and closes with one bundle (per group) when the source is done with the
 * bundle that entered it. Every operation's mapped input is recorded before
 * the module starts and its output before the next operation starts.
 * scenarios/EXECUTOR.md describes the state machine.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "modules/errors.h"
#include "store/store.h"

struct execution;
struct module_env;
struct scenario;

enum execution_status {
	EXECUTION_RUNNING,
	EXECUTION_SUCCESS,
	EXECUTION_WARNING,
	EXECUTION_ERROR,
	EXECUTION_INCOMPLETE,
	_EXECUTION_STATUS_MAX,
	_EXECUTION_STATUS_INVALID = -EINVAL,
};

const char *execution_status_to_string(enum execution_status status);
int execution_status_from_string(const char *name);

/* Called once when the execution has ended and its record is final. The
 * execution stays valid until execution_free(). */
typedef void execution_done_fn(struct execution *execution, void *userdata);

/* The delays between automatic attempts of an incomplete execution stored
 * by the default handling (scenario-format.md "Errors"). */
struct retry_backoff {
	const int64_t *delays_ms; /* borrowed; delays_ms[i] follows the (i+1)th failure */
	size_t count; /* how many automatic attempts */
};

struct execution_options {
	const char *trigger; /* "manual", "schedule", "webhook", "retry"; NULL: "manual" */
	int64_t now_ms; /* the run's start for `now` in mappings; 0: the clock */

	/* Resuming an incomplete execution (scenarioctl incomplete retry, the
	 * daemon's automatic attempts): the record, claimed by the caller, as
	 * store_incomplete_get() returns it. The run starts at its failed module
	 * and writes the outcome back into the record. */
	const cJSON *resume;

	/* Recovering an execution whose process died (claimed by the caller):
	 * its recorded operations are replayed, and where they stop the rest is
	 * stored as an incomplete execution. The scenario must be the snapshot
	 * that execution ran. */
	int64_t recover_execution_id;

	/* The default backoff; NULL: 1m, 10m, 10m, 30m, 30m, 30m, 3h, 3h.
	 * Borrowed: must outlive the execution. */
	const struct retry_backoff *backoff;

	/* The scenario's time zone, already loaded (borrowed: must outlive the
	 * execution); NULL: the execution loads it itself. */
	const struct tz *tz;
};

/* Starts an execution of `scenario` (borrowed; must outlive the execution).
 * Creates and claims the execution record, then runs on env->loop. Returns
 * < 0 without calling `done` when the record cannot be created or a resumed
 * state does not fit the scenario (-EINVAL, with a message for a person in
 * *reterr_msg, caller frees); otherwise `done` is called exactly once,
 * later. */
int execution_start(const struct module_env *env, const struct scenario *scenario,
		    const struct execution_options *options, execution_done_fn *done,
		    void *userdata, struct execution **ret, char **reterr_msg);
/* Asks a running execution to stop at the next safe point (after the
 * operation in flight); it ends with a warning, ExecutionInterrupted. */
void execution_interrupt(struct execution *execution, const char *reason);
/* Asks a running execution to stop for a shutdown: the module in flight
 * finishes, and before the next module starts the rest of the walk is
 * stored as an incomplete execution, due for an automatic attempt at once
 * (nothing is lost, nothing runs twice). The run ends `incomplete` with an
 * ExecutionInterrupted error. A scenario that is confidential without
 * store_incomplete keeps nothing and ends with a warning instead. */
void execution_suspend(struct execution *execution, const char *reason);
/* The stop's bound has passed: cancels the module in flight. It is stored
 * with the rest, retried automatically when the module is safe to repeat
 * (module_desc.safe_to_repeat), else left for a person. */
void execution_suspend_now(struct execution *execution);
/* Whether a module is running right now (the stop waits for it). */
bool execution_busy(const struct execution *execution);
/* Accepts NULL; returns NULL. Only after `done` was called. */
struct execution *execution_free(struct execution *execution);

int64_t execution_id(const struct execution *execution);
enum execution_status execution_status(const struct execution *execution);
const struct store_counters *execution_counters(const struct execution *execution);
/* The error that decided the run's status ({type, message, module}), or NULL. */
const cJSON *execution_error(const struct execution *execution);
/* The per-module summary of `scenarioctl run --json`: a new array of
 * {id, module, bundles_in, bundles_out, status, error} in flow order. */
cJSON *execution_summary(const struct execution *execution);
/* The first incomplete execution this run stored (or, resumed, wrote back
 * into); 0 when none. */
int64_t execution_incomplete_id(const struct execution *execution);
/* Log lines the modules wrote ({module, level, message}); borrowed. */
const cJSON *execution_log(const struct execution *execution);
