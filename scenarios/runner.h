/* SPDX-License-Identifier: MIT */
/*
 * The runner: the policy that decides and drives runs, shared by scenariod
 * and scenarioctl so both do exactly the same thing. A job is one of
 *
 *   run      a scenario run: may it start now (a `sequential` scenario
 *            waits for its turn in the store's hold queue, and is held
 *            while it has unresolved incomplete executions), then the
 *            execution;
 *   retry    an incomplete execution resumed at its failed module, with the
 *            stored snapshot or a scenario given by the caller; the record
 *            is claimed in the store first, so two processes never resume
 *            the same one;
 *   recover  an execution a dead process left `running`, replayed from its
 *            record into an incomplete execution (runner_recover).
 *
 * Every decision is a claim in the store, so it holds across processes,
 * not only inside one. Jobs run on the engine's loop; a job that returns 0
 * from its start function calls its `done` exactly once, later (libuv's
 * contract); one that returns < 0 never does.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "scenarios/executor.h"

struct connections;
struct engine;
struct runner;
struct runner_job;
struct scenario;

#define RUNNER_MAX_BACKOFF 100 /* automatic attempts in a backoff schedule */

struct runner_config {
	/* The default backoff of automatic attempts; count 0: scenario-format.md's
	 * 1m, 10m, 10m, 30m, 30m, 30m, 3h, 3h. */
	int64_t backoff_ms[RUNNER_MAX_BACKOFF];
	size_t backoff_count;
};

/* Parses a backoff schedule "1m, 10m, 3h" (durations, 1 to
 * RUNNER_MAX_BACKOFF of them, each 1s to 31d) into `config`; -EINVAL with a
 * message (caller frees). */
int runner_config_parse_backoff(struct runner_config *config, const char *text, char **reterr_msg);

/* A runner on `engine` (borrowed; must outlive it). `connections` (takes
 * ownership; may be NULL: none) is what modules look connections up in. */
int runner_new(struct engine *engine, const struct runner_config *config,
	       struct connections *connections, struct runner **ret);
/* Accepts NULL; returns NULL. Every job must have ended. */
struct runner *runner_free(struct runner *runner);
/* Replaces the connections (takes ownership). Jobs that started keep the
 * set they started with until they end. */
void runner_set_connections(struct runner *runner, struct connections *connections);
/* The connection `name` in the current set, with a problem saying so when
 * the set does not define it (connections_lookup); valid until the next
 * runner_set_connections(). */
struct connection;
const struct connection *runner_connection(const struct runner *runner, const char *name);
/* A module environment with the current connections, kept alive until
 * released even across runner_set_connections(): for work done outside
 * runs, as module runs (the daemon's webhook registrations). */
struct runner_env_hold;
struct runner_env_hold *runner_env_hold(struct runner *runner);
const struct module_env *runner_env_hold_env(const struct runner_env_hold *hold);
/* Like runner_connection(), in the held set. */
const struct connection *runner_env_hold_connection(const struct runner_env_hold *hold,
						    const char *name);
/* Accepts NULL; returns NULL. */
struct runner_env_hold *runner_env_release(struct runner_env_hold *hold);

/* Jobs started and not yet done. */
int runner_jobs_active(const struct runner *runner);
/* Whether runner_recover() is still at work. */
bool runner_recovering(const struct runner *runner);

enum runner_outcome {
	RUNNER_RAN, /* the execution ran and ended; see runner_job_execution() */
	RUNNER_HELD, /* sequential, with unresolved incomplete executions: nothing ran */
	RUNNER_NOT_STARTED, /* it could not start: runner_job_message() says why */
	RUNNER_CANCELLED, /* stopped while waiting for its turn: nothing ran */
};

typedef void runner_done_fn(struct runner_job *job, void *userdata);
/* A sequential run waits behind `ahead` earlier runs (called when it starts
 * waiting, and when that number changes). */
typedef void runner_wait_fn(struct runner_job *job, int64_t ahead, void *userdata);

struct runner_run_options {
	const char *trigger; /* "manual", "schedule", "webhook"; NULL: "manual" */
	bool force; /* run even while held by unresolved incomplete executions */
	int64_t now_ms; /* `now` of the run's mappings; 0: the clock */
	runner_wait_fn *waiting; /* MAY be NULL */
	const struct tz *tz; /* the scenario's zone, loaded (borrowed); NULL: loaded per run */
};

/* Starts a run of `scenario` (borrowed: must outlive the job). Fails
 * without calling `done` when the execution cannot be created (a message
 * in *reterr_msg, caller frees); a sequential scenario's run that cannot
 * start once its turn came ends RUNNER_NOT_STARTED instead. */
int runner_run(struct runner *runner, const struct scenario *scenario,
	       const struct runner_run_options *options, runner_done_fn *done, void *userdata,
	       struct runner_job **ret, char **reterr_msg);

/* Resumes incomplete execution `id` at its failed module. `current` is the
 * scenario to resume with (borrowed, must outlive the job); NULL resumes
 * with the snapshot stored in the record. Fails without calling `done`:
 * -ENOENT no such record, -EALREADY it is resolved, -EBUSY another process
 * is resuming it, -EINVAL the scenario no longer fits the record (message
 * in *reterr_msg, caller frees). */
int runner_retry(struct runner *runner, int64_t id, const struct scenario *current,
		 runner_wait_fn *waiting, runner_done_fn *done, void *userdata,
		 struct runner_job **ret, char **reterr_msg);

/* One execution a dead process left behind has been dealt with:
 * `incomplete_id` is the record it became (0: none), `note` a sentence for
 * the log. */
typedef void runner_recovered_fn(int64_t execution_id, const char *scenario, int64_t incomplete_id,
				 const char *note, void *userdata);
typedef void runner_recover_done_fn(int recovered, void *userdata);
/* Replays, one after the other, every execution whose process died into an
 * incomplete execution (scenario-format.md "Errors and incomplete
 * executions"), and gives back claims on incomplete executions whose
 * resuming process died before it got anywhere. `done` is called exactly
 * once, later, with how many executions were recovered. */
int runner_recover(struct runner *runner, runner_recovered_fn *recovered,
		   runner_recover_done_fn *done, void *userdata);

/* Asks a job to stop for a shutdown: a waiting job ends RUNNER_CANCELLED; a
 * running one stores what is left as an incomplete execution before its
 * next module (execution_suspend), or, with `now`, also cancels the module
 * in flight (execution_suspend_now). */
void runner_job_stop(struct runner_job *job, bool now);
/* Asks a running job to stop at the next safe point with a warning
 * (ExecutionInterrupted), as scenarioctl does on ^C. */
void runner_job_interrupt(struct runner_job *job, const char *reason);

enum runner_outcome runner_job_outcome(const struct runner_job *job);
/* The execution (RUNNER_RAN), valid until the job is freed; else NULL. */
const struct execution *runner_job_execution(const struct runner_job *job);
/* The id of the job's execution once it started; 0 while it waits. */
int64_t runner_job_execution_id(const struct runner_job *job);
/* The scenario the job ran (the given one, or the stored snapshot). */
const struct scenario *runner_job_scenario(const struct runner_job *job);
/* Why it did not run (RUNNER_NOT_STARTED, RUNNER_HELD); borrowed. */
const char *runner_job_message(const struct runner_job *job);
/* RUNNER_HELD: the unresolved incomplete executions that hold it. */
int64_t runner_job_open_incomplete(const struct runner_job *job);
/* A retry job's record id; 0 for a run. */
int64_t runner_job_incomplete_id(const struct runner_job *job);
/* Whether the job is waiting for its turn (sequential) or running. */
bool runner_job_running(const struct runner_job *job);
/* The `run --json` document of docs/cli.md for a job that ran (plus
 * "resumed_incomplete_id" for a retry); NULL otherwise. Caller frees. */
cJSON *runner_job_document(const struct runner_job *job);
/* Frees a job after its `done`; accepts NULL; returns NULL. */
struct runner_job *runner_job_free(struct runner_job *job);

/* The exit code of docs/cli.md for an execution status: 0 success or
 * warning, 1 error, 3 incomplete. */
int runner_status_exit_code(const char *status);
