/* SPDX-License-Identifier: MIT */
/*
 * Crash recovery (runner_recover): what a dead process left behind is put
 * on record, one execution after the other, before anything new runs.
 *
 * An execution still `running` whose claim ended (its process is gone, or
 * its lease ran out) is claimed by this process and replayed: the executor
 * walks the snapshot it ran, taking each module's outcome from the recorded
 * operations instead of running it, and where the record stops (the module
 * that was in flight) the rest is stored as an incomplete execution
 * (scenarios/walk.c, replay_stop). A crashed retry run starts its replay
 * from the state it resumed, and writes its outcome back into the record it
 * resumed when the dead process still held that record. An execution that
 * cannot be replayed (no snapshot, a snapshot this scenariod cannot load, a
 * confidential scenario that kept no bundles) is finished as an error that
 * says why: never silently dropped, never run twice.
 *
 * Last, claims on incomplete executions whose process died before its
 * retry execution was even recorded are given back (store_incomplete_
 * requeue): that attempt never happened.
 */
#include "scenarios/runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/engine.h"
#include "scenarios/runner_internal.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/xalloc.h"

struct recovery {
	struct runner *runner; /* borrowed */
	cJSON *abandoned; /* owned: store_execution_list_abandoned() */
	const cJSON *next; /* the next item of `abandoned` */
	int recovered;
	runner_recovered_fn *recovered_cb;
	runner_recover_done_fn *done;
	void *userdata;

	/* The execution being replayed. */
	int64_t id;
	char *scenario_name; /* owned */
	struct scenario *scenario; /* owned */
	cJSON *record; /* owned: the resumed record, claimed back; NULL */
	struct execution *execution; /* owned */
	struct module_env env;
	struct connection_set *connections; /* a reference */
	uv_timer_t step; /* one execution per loop turn, never from the caller */
};

static void on_step(uv_timer_t *timer);

static void report(struct recovery *rec, int64_t incomplete_id, const char *note)
{
	rec->recovered++;
	if (rec->recovered_cb)
		rec->recovered_cb(rec->id, rec->scenario_name, incomplete_id, note, rec->userdata);
}

/* Finishes an execution that cannot be replayed as an error that says why
 * (the claim taken by this process lets it write the record). */
static void abandon(struct recovery *rec, const char *why)
{
	_cleanup_json_ cJSON *error = cJSON_CreateObject();
	struct store_counters counters = { 0 };
	_cleanup_free_ char *note = NULL;

	cJSON_AddStringToObject(error, "type", "ExecutionInterrupted");
	cJSON_AddStringToObject(error, "message", why);
	store_execution_finish(rec->env.store, rec->id, "error", &counters, error);
	note = xasprintf("it was interrupted and cannot be resumed: %s", why);
	report(rec, 0, note);
}

static void forget_current(struct recovery *rec)
{
	rec->execution = execution_free(rec->execution);
	rec->scenario = scenario_free(rec->scenario);
	cJSON_Delete(rec->record);
	rec->record = NULL;
	free(rec->scenario_name);
	rec->scenario_name = NULL;
	rec->id = 0;
}

static void on_replayed(struct execution *execution, void *userdata)
{
	struct recovery *rec = userdata;
	int64_t incomplete = execution_incomplete_id(execution);
	_cleanup_free_ char *note = NULL;

	if (incomplete)
		note = xasprintf("it was interrupted; the rest is incomplete execution %lld",
				 (long long)incomplete);
	else
		note = xasprintf("its record was complete; it ended '%s'",
				 execution_status_to_string(execution_status(execution)));
	report(rec, incomplete, note);
	forget_current(rec);
	uv_timer_start(&rec->step, on_step, 0, 0);
}

/* A crashed retry run: the record it resumed is taken back when the dead
 * process still held it (same owner), so the replay writes into it. */
static void claim_resumed_record(struct recovery *rec, const struct store_execution_origin *origin)
{
	_cleanup_json_ cJSON *record = NULL;
	const char *owner;

	if (!origin->incomplete_id ||
	    store_incomplete_get(rec->env.store, origin->incomplete_id, &record) < 0)
		return;
	owner = json_get_string(record, "owner");
	if (!owner || !origin->owner || !streq(owner, origin->owner))
		return;
	if (store_incomplete_claim(rec->env.store, origin->incomplete_id) < 0)
		return;
	rec->record = TAKE_PTR(record);
}

static int load_snapshot(struct recovery *rec, const struct store_execution_origin *origin)
{
	struct diag_list diags;
	int r;

	diag_list_init(&diags);
	r = scenario_load_string(origin->snapshot, strlen(origin->snapshot),
				 origin->path ? origin->path : origin->scenario, &rec->scenario,
				 &diags);
	diag_list_done(&diags);
	return r;
}

/* Starts replaying execution `id`; false when there is nothing to wait for
 * (another process took it, or it was finished as abandoned). */
static bool recover_one(struct recovery *rec, int64_t id, const char *scenario)
{
	struct store_execution_origin origin = { 0 };
	struct execution_options options = {
		.recover_execution_id = id,
		.backoff = runner_backoff(rec->runner),
	};
	_cleanup_free_ char *message = NULL;
	bool started = false;
	int r;

	rec->id = id;
	rec->scenario_name = xstrdup(scenario);
	/* Read before claiming: the claim replaces the dead owner by ours. */
	r = store_execution_get_origin(rec->env.store, id, &origin);
	if (store_execution_claim(rec->env.store, id) < 0)
		goto out; /* another process got there first */
	if (r < 0 || !origin.snapshot) {
		abandon(rec, "its process stopped and no snapshot of the scenario was kept");
		goto out;
	}
	if (load_snapshot(rec, &origin) < 0) {
		abandon(rec, "its process stopped and its scenario no longer loads");
		goto out;
	}
	if (rec->scenario->settings.confidential) {
		abandon(rec, "its process stopped; a confidential scenario keeps no bundles "
			     "to resume from");
		goto out;
	}
	claim_resumed_record(rec, &origin);
	options.resume = rec->record;
	r = execution_start(&rec->env, rec->scenario, &options, on_replayed, rec, &rec->execution,
			    &message);
	if (r < 0) {
		if (rec->record)
			store_incomplete_requeue(rec->env.store,
						 json_get_int(rec->record, "id", 0));
		abandon(rec, message ? message : "it could not be replayed");
		goto out;
	}
	started = true;
out:
	store_execution_origin_done(&origin);
	if (!started)
		forget_current(rec);
	return started;
}

/* Claims whose process died before its retry run was recorded. */
static void requeue_abandoned_claims(struct recovery *rec)
{
	_cleanup_json_ cJSON *claims = NULL;
	const cJSON *item;

	if (store_incomplete_list_abandoned(rec->env.store, &claims) < 0)
		return;
	cJSON_ArrayForEach(item, claims)
		store_incomplete_requeue(rec->env.store, json_get_int(item, "id", 0));
}

static void on_recovery_closed(uv_handle_t *handle)
{
	struct recovery *rec = container_of((uv_timer_t *)handle, struct recovery, step);
	runner_recover_done_fn *done = rec->done;
	void *userdata = rec->userdata;
	int recovered = rec->recovered;

	rec->runner->recovery = NULL;
	connection_set_unref(rec->connections);
	cJSON_Delete(rec->abandoned);
	free(rec);
	done(recovered, userdata);
}

static void on_step(uv_timer_t *timer)
{
	struct recovery *rec = container_of(timer, struct recovery, step);

	while (rec->next) {
		const cJSON *item = rec->next;

		rec->next = item->next;
		if (recover_one(rec, json_get_int(item, "id", 0),
				json_get_string(item, "scenario")))
			return; /* on_replayed steps on */
	}
	requeue_abandoned_claims(rec);
	uv_close((uv_handle_t *)&rec->step, on_recovery_closed);
}

int runner_recover(struct runner *runner, runner_recovered_fn *recovered,
		   runner_recover_done_fn *done, void *userdata)
{
	_cleanup_json_ cJSON *abandoned = NULL;
	struct recovery *rec;
	int r;

	if (runner->recovery)
		return -EALREADY;
	r = store_execution_list_abandoned(runner->engine->store, &abandoned);
	if (r < 0)
		return r;
	rec = xcalloc(1, sizeof(*rec));
	rec->runner = runner;
	rec->abandoned = TAKE_PTR(abandoned);
	rec->next = rec->abandoned->child;
	rec->recovered_cb = recovered;
	rec->done = done;
	rec->userdata = userdata;
	rec->connections = runner_connections_ref(runner);
	runner_env_init(runner, &rec->env, rec->connections);
	runner->recovery = rec;
	uv_timer_init(runner->engine->env.loop, &rec->step);
	uv_timer_start(&rec->step, on_step, 0, 0);
	return 0;
}
