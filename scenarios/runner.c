/* SPDX-License-Identifier: MIT */
/*
 * Runs and retries (runner.h): the life of a job from "may it start?" to
 * its `done`. A job waits in JOB_WAITING until it may start: at once for an
 * ordinary scenario, when its hold reaches the head of the store's queue
 * for a `sequential` one. While it waits, and then while it runs, its timer
 * renews what it claimed in the store (the hold, a retry's record), so a
 * live process keeps its claims and a dead one loses them. When the
 * execution ends the claims are released, other jobs of the same scenario
 * waiting in this process are told at once, and `done` is called from the
 * timer's close callback, the last thing the job does on the loop.
 */
#include "scenarios/runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/connections.h"
#include "scenarios/engine.h"
#include "scenarios/runner_internal.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/units.h"
#include "util/xalloc.h"

#define TURN_POLL_MS 250 /* how often a waiting job asks the store for its turn */
#define RENEW_MS (STORE_LEASE_MS / 3)
#define MIN_BACKOFF_MS 1000
#define MAX_BACKOFF_MS ((int64_t)31 * 86400 * 1000)

int runner_config_parse_backoff(struct runner_config *config, const char *text, char **reterr_msg)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	size_t count = 0;

	for (char *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
		int64_t ms;

		if (count == RUNNER_MAX_BACKOFF) {
			*reterr_msg = xasprintf("the backoff lists more than %d delays",
						RUNNER_MAX_BACKOFF);
			return -EINVAL;
		}
		if (units_parse_duration(item, &ms) < 0 || ms < MIN_BACKOFF_MS ||
		    ms > MAX_BACKOFF_MS) {
			*reterr_msg = xasprintf("'%s' in the backoff is not a duration from 1s to "
						"31d (e.g. '1m, 10m, 3h')",
						item);
			return -EINVAL;
		}
		config->backoff_ms[count++] = ms;
	}
	if (count == 0) {
		*reterr_msg = xstrdup("the backoff lists no delay (e.g. '1m, 10m, 3h')");
		return -EINVAL;
	}
	config->backoff_count = count;
	return 0;
}

static struct connection_set *connection_set_new(struct connections *set)
{
	struct connection_set *c = xcalloc(1, sizeof(*c));

	c->refs = 1;
	c->set = set;
	return c;
}

void connection_set_unref(struct connection_set *c)
{
	if (!c || --c->refs > 0)
		return;
	connections_free(c->set);
	free(c);
}

struct connection_set *runner_connections_ref(struct runner *runner)
{
	runner->connections->refs++;
	return runner->connections;
}

void runner_env_init(struct runner *runner, struct module_env *env, const struct connection_set *c)
{
	*env = runner->engine->env;
	env->find_connection = c->set ? connections_lookup : NULL;
	env->connections_userdata = c->set;
}

const struct retry_backoff *runner_backoff(const struct runner *runner)
{
	return runner->backoff.count > 0 ? &runner->backoff : NULL;
}

int runner_new(struct engine *engine, const struct runner_config *config,
	       struct connections *connections, struct runner **ret)
{
	struct runner *runner = xcalloc(1, sizeof(*runner));

	runner->engine = engine;
	if (config)
		runner->config = *config;
	runner->backoff = (struct retry_backoff){
		.delays_ms = runner->config.backoff_ms,
		.count = runner->config.backoff_count,
	};
	runner->connections = connection_set_new(connections);
	*ret = runner;
	return 0;
}

struct runner *runner_free(struct runner *runner)
{
	if (!runner)
		return NULL;
	/* A job still alive would point at a freed runner. */
	if (runner->jobs || runner->recovery)
		abort();
	connection_set_unref(runner->connections);
	free(runner);
	return NULL;
}

void runner_set_connections(struct runner *runner, struct connections *connections)
{
	connection_set_unref(runner->connections);
	runner->connections = connection_set_new(connections);
}

struct runner_env_hold {
	struct module_env env;
	struct connection_set *connections; /* a reference */
};

struct runner_env_hold *runner_env_hold(struct runner *runner)
{
	struct runner_env_hold *hold = xcalloc(1, sizeof(*hold));

	hold->connections = runner_connections_ref(runner);
	runner_env_init(runner, &hold->env, hold->connections);
	return hold;
}

const struct module_env *runner_env_hold_env(const struct runner_env_hold *hold)
{
	return &hold->env;
}

const struct connection *runner_env_hold_connection(const struct runner_env_hold *hold,
						    const char *name)
{
	return hold->connections->set ? connections_lookup(hold->connections->set, name) : NULL;
}

struct runner_env_hold *runner_env_release(struct runner_env_hold *hold)
{
	if (hold) {
		connection_set_unref(hold->connections);
		free(hold);
	}
	return NULL;
}

const struct connection *runner_connection(const struct runner *runner, const char *name)
{
	return runner->connections->set ? connections_lookup(runner->connections->set, name) : NULL;
}

int runner_jobs_active(const struct runner *runner)
{
	return runner->active;
}

bool runner_recovering(const struct runner *runner)
{
	return runner->recovery != NULL;
}

static void link_job(struct runner_job *job)
{
	struct runner *runner = job->runner;

	job->next = runner->jobs;
	if (runner->jobs)
		runner->jobs->prev = job;
	runner->jobs = job;
	runner->active++;
}

static void unlink_job(struct runner_job *job)
{
	struct runner *runner = job->runner;

	if (job->prev)
		job->prev->next = job->next;
	else
		runner->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
	job->prev = job->next = NULL;
	runner->active--;
}

static struct runner_job *job_new(struct runner *runner, enum job_kind kind)
{
	struct runner_job *job = xcalloc(1, sizeof(*job));

	job->runner = runner;
	job->kind = kind;
	job->state = JOB_WAITING;
	job->connections = runner_connections_ref(runner);
	runner_env_init(runner, &job->env, job->connections);
	job->last_ahead = -1;
	return job;
}

/* Frees a job that never started (its timer was never initialised). */
static void job_discard(struct runner_job *job)
{
	connection_set_unref(job->connections);
	scenario_free(job->owned_scenario);
	cJSON_Delete(job->record);
	free(job->trigger);
	free(job->message);
	free(job);
}

static void on_discarded(uv_handle_t *handle)
{
	job_discard(container_of((uv_timer_t *)handle, struct runner_job, timer));
}

static void on_job_closed(uv_handle_t *handle)
{
	struct runner_job *job = container_of((uv_timer_t *)handle, struct runner_job, timer);

	job->done(job, job->userdata);
}

/* Another job of the same scenario ended here: the waiting ones ask for
 * their turn at once instead of at their next poll. */
static void poke_waiting(struct runner *runner, const char *scenario)
{
	for (struct runner_job *j = runner->jobs; j; j = j->next)
		if (j->state == JOB_WAITING && j->hold_id && streq(j->scenario->name, scenario))
			uv_timer_start(&j->timer, j->timer.timer_cb, 0, 0);
}

/* Gives a retry's record back as it was before this job claimed it. */
static void release_record(struct runner_job *job)
{
	const char *status = json_get_string(job->record, "status");
	int64_t next = 0;

	if (status && streq(status, "pending"))
		next = time_now_ms();
	store_incomplete_release(job->env.store, job->incomplete_id,
				 status && streq(status, "pending") ? "pending" : "unresolved",
				 NULL, next, 0, false);
}

static void finish_job(struct runner_job *job, enum runner_outcome outcome)
{
	job->outcome = outcome;
	job->state = JOB_DONE;
	if (job->hold_id) {
		store_hold_release(job->env.store, job->hold_id, job->scenario->name);
		job->hold_id = 0;
	}
	unlink_job(job);
	poke_waiting(job->runner, job->scenario->name);
	uv_timer_stop(&job->timer);
	uv_close((uv_handle_t *)&job->timer, on_job_closed);
}

/* Takes ownership of `message`. */
static void fail_job(struct runner_job *job, char *message)
{
	free(job->message);
	job->message = message;
	if (job->kind == JOB_RETRY)
		release_record(job);
	finish_job(job, RUNNER_NOT_STARTED);
}

static void on_execution_done(struct execution *execution, void *userdata)
{
	struct runner_job *job = userdata;

	(void)execution;
	finish_job(job, RUNNER_RAN);
}

static void renew_claims(struct runner_job *job)
{
	int64_t now = time_now_ms();

	if (now - job->last_renew_ms < RENEW_MS)
		return;
	job->last_renew_ms = now;
	if (job->kind == JOB_RETRY)
		store_incomplete_renew(job->env.store, job->incomplete_id);
}

static void on_running_timer(uv_timer_t *timer)
{
	struct runner_job *job = container_of(timer, struct runner_job, timer);
	int64_t ahead;

	renew_claims(job);
	/* The hold is kept alive by asking for it: the answer is ours. */
	if (job->hold_id)
		store_hold_check(job->env.store, job->hold_id, &ahead);
}

/* Starts the job's execution; < 0 with a message when it cannot. */
static int start_execution(struct runner_job *job, char **reterr_msg)
{
	struct execution_options options = {
		.trigger = job->trigger,
		.now_ms = job->now_ms,
		.resume = job->kind == JOB_RETRY ? job->record : NULL,
		.backoff = runner_backoff(job->runner),
		.tz = job->tz,
	};
	int r;

	r = execution_start(&job->env, job->scenario, &options, on_execution_done, job,
			    &job->execution, reterr_msg);
	if (r < 0)
		return r;
	job->state = JOB_RUNNING;
	uv_timer_start(&job->timer, on_running_timer, RENEW_MS, RENEW_MS);
	return 0;
}

/* The job's turn has come: a run is held while its sequential scenario has
 * unresolved incomplete executions, unless forced. */
static void begin(struct runner_job *job)
{
	_cleanup_free_ char *message = NULL;
	int64_t open = 0;
	int r;

	if (job->kind == JOB_RUN && job->scenario->settings.sequential && !job->force &&
	    store_incomplete_count_open(job->env.store, job->scenario->name, &open) == 0 &&
	    open > 0) {
		job->open_incomplete = open;
		job->message =
			xasprintf("scenario '%s' is sequential and has %lld unresolved incomplete "
				  "execution%s; finish them first",
				  job->scenario->name, (long long)open, open == 1 ? "" : "s");
		finish_job(job, RUNNER_HELD);
		return;
	}
	r = start_execution(job, &message);
	if (r < 0)
		fail_job(job, message ? TAKE_PTR(message) : xstrdup(strerror(-r)));
}

static void on_turn_timer(uv_timer_t *timer)
{
	struct runner_job *job = container_of(timer, struct runner_job, timer);
	int64_t ahead = 0;
	int r;

	if (job->stop_requested) {
		if (job->kind == JOB_RETRY)
			release_record(job);
		finish_job(job, RUNNER_CANCELLED);
		return;
	}
	renew_claims(job);
	r = store_hold_check(job->env.store, job->hold_id, &ahead);
	if (r == -ENOENT) {
		/* The hold ran out (the loop was blocked past the lease): queue
		 * again rather than run out of turn. */
		r = store_hold_enqueue(job->env.store, job->scenario->name, &job->hold_id);
		if (r == 0)
			r = -EBUSY;
	}
	if (r == -EBUSY) {
		if (ahead != job->last_ahead && job->waiting)
			job->waiting(job, ahead, job->userdata);
		job->last_ahead = ahead;
		uv_timer_start(&job->timer, on_turn_timer, TURN_POLL_MS, 0);
		return;
	}
	if (r < 0) {
		fail_job(job, xasprintf("cannot take the scenario's turn in the store: %s",
					strerror(-r)));
		return;
	}
	begin(job);
}

/* A sequential scenario's job queues a hold and waits for its turn; any
 * other starts at once. */
static int schedule_job(struct runner_job *job, char **reterr_msg)
{
	int r;

	uv_timer_init(job->runner->engine->env.loop, &job->timer);
	link_job(job);
	if (!job->scenario->settings.sequential) {
		r = start_execution(job, reterr_msg);
		if (r < 0)
			goto out_unlink;
		return 0;
	}
	r = store_hold_enqueue(job->env.store, job->scenario->name, &job->hold_id);
	if (r < 0) {
		*reterr_msg = xasprintf("cannot queue the run in the store: %s", strerror(-r));
		goto out_unlink;
	}
	uv_timer_start(&job->timer, on_turn_timer, 0, 0);
	return 0;

out_unlink:
	unlink_job(job);
	/* The handle is closed on the loop's next turn; the job goes with it. */
	uv_close((uv_handle_t *)&job->timer, on_discarded);
	return r;
}

int runner_run(struct runner *runner, const struct scenario *scenario,
	       const struct runner_run_options *options, runner_done_fn *done, void *userdata,
	       struct runner_job **ret, char **reterr_msg)
{
	struct runner_job *job = job_new(runner, JOB_RUN);
	int r;

	job->scenario = scenario;
	job->trigger = xstrdup(options && options->trigger ? options->trigger : "manual");
	job->force = options && options->force;
	job->now_ms = options ? options->now_ms : 0;
	job->waiting = options ? options->waiting : NULL;
	job->tz = options ? options->tz : NULL;
	job->done = done;
	job->userdata = userdata;
	r = schedule_job(job, reterr_msg);
	if (r < 0)
		return r;
	*ret = job;
	return 0;
}

/* The scenario a retry resumes with: the caller's, or the snapshot stored
 * in the record (which must still load with this scenariod). */
static int retry_scenario(struct runner_job *job, const struct scenario *current, char **reterr_msg)
{
	const char *source = json_get_string(job->record, "source");
	const char *path = json_get_string(job->record, "scenario_path");
	struct diag_list diags;
	int r;

	if (current) {
		job->scenario = current;
		return 0;
	}
	if (!source) {
		*reterr_msg = xstrdup("the record holds no snapshot of its scenario");
		return -EINVAL;
	}
	diag_list_init(&diags);
	r = scenario_load_string(source, strlen(source), path ? path : "(stored snapshot)",
				 &job->owned_scenario, &diags);
	if (r < 0) {
		_cleanup_free_ char *first = NULL;

		diag_list_sort(&diags);
		if (diags.count > 0)
			first = diag_format(&diags.items[0]);
		*reterr_msg = xasprintf("the stored scenario no longer loads with this scenariod "
					"(%s); retry with the current file after fixing it",
					first ? first : strerror(-r));
	}
	diag_list_done(&diags);
	job->scenario = job->owned_scenario;
	return r;
}

int runner_retry(struct runner *runner, int64_t id, const struct scenario *current,
		 runner_wait_fn *waiting, runner_done_fn *done, void *userdata,
		 struct runner_job **ret, char **reterr_msg)
{
	struct runner_job *job = job_new(runner, JOB_RETRY);
	int r;

	job->incomplete_id = id;
	job->trigger = xstrdup("retry");
	job->waiting = waiting;
	job->done = done;
	job->userdata = userdata;
	r = store_incomplete_get(job->env.store, id, &job->record);
	if (r == 0)
		r = retry_scenario(job, current, reterr_msg);
	if (r == 0)
		r = store_incomplete_claim(job->env.store, id);
	if (r < 0) {
		job_discard(job);
		return r;
	}
	job->last_renew_ms = time_now_ms();
	r = schedule_job(job, reterr_msg);
	if (r < 0) {
		/* It did not start (the file no longer fits the record): the
		 * record goes back as it was. */
		const char *status = json_get_string(job->record, "status");

		store_incomplete_release(
			runner->engine->store, id,
			status && streq(status, "pending") ? "pending" : "unresolved", NULL,
			status && streq(status, "pending") ? time_now_ms() : 0, 0, false);
		return r;
	}
	*ret = job;
	return 0;
}

void runner_job_stop(struct runner_job *job, bool now)
{
	if (job->state == JOB_WAITING) {
		job->stop_requested = true;
		uv_timer_start(&job->timer, on_turn_timer, 0, 0);
		return;
	}
	if (job->state != JOB_RUNNING)
		return;
	if (now)
		execution_suspend_now(job->execution);
	else
		execution_suspend(job->execution, "scenariod stopped");
}

void runner_job_interrupt(struct runner_job *job, const char *reason)
{
	if (job->state == JOB_WAITING) {
		job->stop_requested = true;
		uv_timer_start(&job->timer, on_turn_timer, 0, 0);
		return;
	}
	if (job->state == JOB_RUNNING)
		execution_interrupt(job->execution, reason);
}

enum runner_outcome runner_job_outcome(const struct runner_job *job)
{
	return job->outcome;
}

const struct execution *runner_job_execution(const struct runner_job *job)
{
	return job->outcome == RUNNER_RAN ? job->execution : NULL;
}

int64_t runner_job_execution_id(const struct runner_job *job)
{
	return job->execution ? execution_id(job->execution) : 0;
}

const struct scenario *runner_job_scenario(const struct runner_job *job)
{
	return job->scenario;
}

const char *runner_job_message(const struct runner_job *job)
{
	return job->message;
}

int64_t runner_job_open_incomplete(const struct runner_job *job)
{
	return job->open_incomplete;
}

int64_t runner_job_incomplete_id(const struct runner_job *job)
{
	return job->incomplete_id;
}

bool runner_job_running(const struct runner_job *job)
{
	return job->state == JOB_RUNNING;
}

struct runner_job *runner_job_free(struct runner_job *job)
{
	if (!job)
		return NULL;
	execution_free(job->execution);
	job_discard(job);
	return NULL;
}

int runner_status_exit_code(const char *status)
{
	if (status && streq(status, "error"))
		return 1;
	if (status && streq(status, "incomplete"))
		return 3;
	return 0;
}
