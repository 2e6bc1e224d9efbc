/* SPDX-License-Identifier: MIT */
/*
 * An execution's life: the record is created and claimed, the walk
 * (walk.c) runs on the loop while a timer keeps the claim alive, and at the
 * end the status, counters and the scenario's outcome are stored before the
 * caller hears of it. The walk itself lives in walk.c.
 */
#include "scenarios/executor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/exec_internal.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "util/xalloc.h"

static const char *const status_names[_EXECUTION_STATUS_MAX] = {
	[EXECUTION_RUNNING] = "running",       [EXECUTION_SUCCESS] = "success",
	[EXECUTION_WARNING] = "warning",       [EXECUTION_ERROR] = "error",
	[EXECUTION_INCOMPLETE] = "incomplete",
};

const char *execution_status_to_string(enum execution_status status)
{
	if (status < 0 || status >= _EXECUTION_STATUS_MAX)
		return NULL;
	return status_names[status];
}

int execution_status_from_string(const char *name)
{
	for (int i = 0; i < _EXECUTION_STATUS_MAX; i++)
		if (strcmp(status_names[i], name) == 0)
			return i;
	return -EINVAL;
}

static void index_flow(struct execution *exec, const struct flow *flow, bool in_handler);

static void index_node(struct execution *exec, const struct flow *flow, size_t index,
		       bool in_handler)
{
	const struct flow_node *node = flow->nodes[index];

	exec->nodes = xrealloc(exec->nodes, (exec->node_count + 1) * sizeof(*exec->nodes));
	exec->nodes[exec->node_count++] = (struct node_info){
		.node = node,
		.flow = flow,
		.index = index,
		.in_handler = in_handler,
	};
	for (size_t r = 0; r < node->route_count; r++)
		index_flow(exec, &node->routes[r].flow, in_handler);
	if (node->on_error)
		index_flow(exec, &node->on_error->flow, true);
}

static void index_flow(struct execution *exec, const struct flow *flow, bool in_handler)
{
	for (size_t i = 0; i < flow->count; i++)
		index_node(exec, flow, i, in_handler);
}

struct node_info *execution_node_info(struct execution *exec, const struct flow_node *node)
{
	for (size_t i = 0; i < exec->node_count; i++)
		if (exec->nodes[i].node == node)
			return &exec->nodes[i];
	/* Every node was indexed at start; a miss is a programming error. */
	abort();
}

void execution_record_error(struct execution *exec, const cJSON *error, bool decides_status)
{
	if (exec->error && !decides_status)
		return;
	cJSON_Delete(exec->error);
	exec->error = cJSON_Duplicate(error, true);
}

static void on_lease_timer_closed(uv_handle_t *handle)
{
	struct execution *exec = container_of((uv_timer_t *)handle, struct execution, lease_timer);

	exec->done(exec, exec->done_userdata);
}

static bool counts_as_error(const cJSON *error)
{
	/* scenario-format.md "Settings": these types do not count towards
	 * max_consecutive_errors. */
	static const char *const excluded[] = { "DataError", "DuplicateDataError",
						"ConnectionError", "ModuleTimeoutError" };
	const char *type = json_get_string(error, "type");

	for (size_t i = 0; type && i < ELEMENTSOF(excluded); i++)
		if (strcmp(type, excluded[i]) == 0)
			return false;
	return true;
}

/* A resumed record that was not written back (its run did not fail where
 * a record is stored): resolved when the run succeeded, otherwise one more
 * failed attempt, with the next one planned while attempts remain. */
static void release_resumed(struct execution *exec)
{
	struct store *store = exec->env->store;
	int64_t next;

	if (!exec->resumed_incomplete || exec->resumed_replaced)
		return;
	if (exec->status == EXECUTION_SUCCESS || exec->status == EXECUTION_WARNING ||
	    exec->status == EXECUTION_INCOMPLETE) {
		store_incomplete_release(store, exec->resumed_incomplete, "resolved", NULL, 0,
					 exec->id, true);
		return;
	}
	next = resume_next_attempt(exec, exec->resume_attempts + 1, exec->resume_max_attempts,
				   exec->resume_interval_ms,
				   json_get_int(exec->error, "retry_after_ms", 0));
	store_incomplete_release(store, exec->resumed_incomplete, next ? "pending" : "unresolved",
				 exec->error, next, 0, true);
}

static void record_outcome(struct execution *exec)
{
	struct store *store = exec->env->store;
	const struct scenario *sc = exec->scenario;
	const struct flow_node *trigger = sc->flow.nodes[0];
	int errors;

	if (exec->status != EXECUTION_ERROR) {
		store_scenario_record_outcome(store, sc->name, true, false);
		return;
	}
	errors =
		store_scenario_record_outcome(store, sc->name, false, counts_as_error(exec->error));
	/* A scenario with an instant trigger is deactivated on its first error:
	 * events would otherwise keep failing one after the other. */
	if (trigger->desc && trigger->desc->kind == MODULE_TRIGGER_INSTANT)
		store_scenario_set_enabled(store, sc->name, false,
					   "deactivated: a run of its instant trigger failed");
	else if (sc->settings.max_consecutive_errors > 0 &&
		 errors >= sc->settings.max_consecutive_errors)
		store_scenario_set_enabled(store, sc->name, false,
					   "deactivated after consecutive errors");
}

void execution_finish(struct execution *exec)
{
	if (exec->status == EXECUTION_RUNNING) {
		if (exec->stored_incomplete)
			exec->status = EXECUTION_INCOMPLETE;
		else
			exec->status = exec->had_warning ? EXECUTION_WARNING : EXECUTION_SUCCESS;
	}
	exec->counters.duration_ms = time_monotonic_ms() - exec->started_monotonic_ms;
	trigger_events_release_rest(exec);

	/* A failure to write the final record leaves the execution "running"
	 * with an expiring claim: it then shows as abandoned, which is the truth. */
	store_execution_finish(exec->env->store, exec->id, execution_status_to_string(exec->status),
			       &exec->counters, exec->error);
	release_resumed(exec);
	record_outcome(exec);

	uv_timer_stop(&exec->lease_timer);
	uv_close((uv_handle_t *)&exec->lease_timer, on_lease_timer_closed);
}

static void on_lease_timer(uv_timer_t *timer)
{
	struct execution *exec = container_of(timer, struct execution, lease_timer);

	if (!exec->started) {
		exec->started = true;
		/* A resumed run starts from its restored stack. */
		if (!exec->resumed_stack)
			walk_start_cycle(exec);
		walk_advance(exec);
		return;
	}
	if (store_execution_renew(exec->env->store, exec->id) < 0)
		execution_interrupt(exec, "another process took over this execution");
	else if (exec->event_id || exec->replay_events)
		store_event_renew(exec->env->store, exec->id);
}

static cJSON *context_object(const char *key, const char *value)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, key, value);
	return o;
}

/* The walk's stack rebuilt from a stored state: the run starts where the
 * state stops, with no trigger cycle of its own. */
static int restore_stack(struct execution *exec, const cJSON *state, char **reterr_msg)
{
	int r;

	exec->now_ms = json_get_int(state, "now_ms", exec->now_ms);
	r = resume_restore(exec, state, reterr_msg);
	if (r < 0)
		return r;
	exec->resumed_stack = true;
	cJSON_ReplaceItemInObjectCaseSensitive(exec->bundle_json, "index",
					       cJSON_CreateNumber((double)exec->bundle_index));
	cJSON_ReplaceItemInObjectCaseSensitive(exec->bundle_json, "total",
					       cJSON_CreateNumber((double)exec->bundle_total));
	return 0;
}

/* Resuming: the stack comes from the record, which also says how many
 * attempts were made. */
static void adopt_record(struct execution *exec, const cJSON *record)
{
	exec->resumed_incomplete = json_get_int(record, "id", 0);
	exec->origin_execution_id = json_get_int(record, "origin_execution_id", 0);
	exec->resume_attempts = (int)json_get_int(record, "attempts", 0);
	exec->resume_max_attempts = (int)json_get_int(record, "max_attempts", 0);
	exec->resume_interval_ms = json_get_int(record, "retry_interval_ms", 0);
}

/* A retry run that crashed resumed a record: its stack is rebuilt from the
 * state it started with. With `record` (the caller claimed it back, as the
 * crashed run still held it) the outcome goes into that record; without, the
 * record moved on already and what is left becomes a new one. */
static int recover_resumed(struct execution *exec, const struct store_execution_origin *origin,
			   const cJSON *record, char **reterr_msg)
{
	_cleanup_json_ cJSON *found = NULL;

	if (record) {
		adopt_record(exec, record);
	} else if (origin->incomplete_id &&
		   store_incomplete_get(exec->env->store, origin->incomplete_id, &found) == 0) {
		/* The same chain, so CloudConvert finds the same tags. */
		exec->origin_execution_id = json_get_int(found, "origin_execution_id", exec->id);
	}
	return restore_stack(exec, origin->resume_state, reterr_msg);
}

/* Recovering: the crashed execution's own record is reused (the caller
 * claimed it) and its operations are replayed. */
static int prepare_recover(struct execution *exec, int64_t id, const cJSON *record,
			   char **reterr_msg)
{
	_cleanup_json_ cJSON *execution = NULL;
	struct store_execution_origin origin = { 0 };
	int r;

	r = store_execution_get(exec->env->store, id, &execution);
	if (r == 0)
		r = store_execution_get_origin(exec->env->store, id, &origin);
	if (r < 0) {
		*reterr_msg =
			xasprintf("cannot read execution %lld: %s", (long long)id, strerror(-r));
		return r;
	}
	if (origin.now_ms > 0)
		exec->now_ms = origin.now_ms;
	exec->replay = cJSON_DetachItemFromObjectCaseSensitive(execution, "operations_list");
	if (!exec->replay)
		exec->replay = cJSON_CreateArray();
	exec->id = id;
	exec->origin_execution_id = id;
	if (r == 0)
		r = trigger_events_adopt(exec);
	if (r == 0 && origin.resume_state)
		r = recover_resumed(exec, &origin, record, reterr_msg);
	store_execution_origin_done(&origin);
	return r;
}

int execution_start(const struct module_env *env, const struct scenario *scenario,
		    const struct execution_options *options, execution_done_fn *done,
		    void *userdata, struct execution **ret, char **reterr_msg)
{
	const char *trigger = options && options->trigger ? options->trigger : "manual";
	const cJSON *resume = options ? options->resume : NULL;
	int64_t recover = options ? options->recover_execution_id : 0;
	struct execution *exec;
	char id_text[32];
	int r;

	r = store_scenario_ensure(env->store, scenario->name);
	if (r < 0)
		return r;
	exec = xcalloc(1, sizeof(*exec));
	exec->env = env;
	exec->scenario = scenario;
	exec->status = EXECUTION_RUNNING;
	exec->trigger = xstrdup(resume ? "retry" : trigger);
	exec->now_ms = options && options->now_ms ? options->now_ms : time_now_ms();
	exec->started_monotonic_ms = time_monotonic_ms();
	exec->done = done;
	exec->done_userdata = userdata;
	exec->log = cJSON_CreateArray();
	exec->bundle_json = cJSON_CreateObject();
	cJSON_AddNumberToObject(exec->bundle_json, "index", 1);
	cJSON_AddNumberToObject(exec->bundle_json, "total", 1);
	index_flow(exec, &scenario->flow, false);
	/* Dates in mappings need the zone; reading it once here keeps file I/O
	 * off the per-bundle path. A zone that cannot be read leaves the
	 * mapping language to report it where a date needs it. */
	if (options && options->tz)
		exec->tz = options->tz;
	else if (scenario->timezone && tz_load(scenario->timezone, &exec->owned_tz) == 0)
		exec->tz = exec->owned_tz;

	exec->backoff = options ? options->backoff : NULL;
	if (recover) {
		r = prepare_recover(exec, recover, resume, reterr_msg);
	} else if (resume) {
		adopt_record(exec, resume);
		r = restore_stack(exec, cJSON_GetObjectItem(resume, "state"), reterr_msg);
	}
	if (r == 0 && scenario->source)
		r = store_snapshot_put(env->store, scenario->source, &exec->snapshot);
	if (r == 0 && !recover)
		r = store_execution_create(env->store, scenario->name, exec->trigger,
					   resume ? json_get_int(resume, "execution_id", 0) : 0,
					   &exec->id);
	if (r == 0 && !recover && exec->snapshot)
		r = store_execution_set_snapshot(env->store, exec->id, exec->snapshot,
						 scenario->path, exec->now_ms);
	/* What this retry starts from, so a crash half-way can be replayed. */
	if (r == 0 && !recover && resume)
		r = store_execution_set_resume(env->store, exec->id, exec->resumed_incomplete,
					       cJSON_GetObjectItem(resume, "state"));
	if (r < 0) {
		execution_free(exec);
		return r;
	}
	if (!exec->origin_execution_id)
		exec->origin_execution_id = exec->id;
	snprintf(id_text, sizeof(id_text), "%lld", (long long)exec->id);
	exec->execution_json = context_object("id", id_text);
	exec->scenario_json = context_object("name", scenario->name);

	/* The first tick starts the walk, so `done` is never called from here. */
	uv_timer_init(env->loop, &exec->lease_timer);
	uv_timer_start(&exec->lease_timer, on_lease_timer, 0, STORE_LEASE_MS / 3);
	*ret = exec;
	return 0;
}

void execution_interrupt(struct execution *exec, const char *reason)
{
	if (exec->interrupted)
		return;
	exec->interrupted = true;
	free(exec->interrupt_reason);
	exec->interrupt_reason = xstrdup(reason);
	if (exec->in_flight && exec->in_flight->desc->cancel)
		exec->in_flight->desc->cancel(exec->in_flight);
}

void execution_suspend(struct execution *exec, const char *reason)
{
	if (exec->suspending || exec->stopping)
		return;
	exec->suspending = true;
	free(exec->interrupt_reason);
	exec->interrupt_reason = xstrdup(reason);
}

void execution_suspend_now(struct execution *exec)
{
	if (!exec->suspending)
		execution_suspend(exec, "scenariod stopped");
	if (!exec->in_flight || exec->suspend_cancelled)
		return;
	exec->suspend_cancelled = true;
	if (exec->in_flight->desc->cancel)
		exec->in_flight->desc->cancel(exec->in_flight);
}

bool execution_busy(const struct execution *exec)
{
	return exec->in_flight != NULL;
}

struct execution *execution_free(struct execution *exec)
{
	if (!exec)
		return NULL;
	walk_clear(exec);
	for (size_t i = 0; i < exec->node_count; i++)
		cJSON_Delete(exec->nodes[i].last_error);
	free(exec->nodes);
	free(exec->trigger);
	free(exec->stored_cursor);
	free(exec->pending_cursor);
	free(exec->interrupt_reason);
	free(exec->snapshot);
	tz_free(exec->owned_tz);
	cJSON_Delete(exec->replay);
	cJSON_Delete(exec->event);
	cJSON_Delete(exec->replay_events);
	cJSON_Delete(exec->error);
	cJSON_Delete(exec->log);
	cJSON_Delete(exec->execution_json);
	cJSON_Delete(exec->scenario_json);
	cJSON_Delete(exec->bundle_json);
	free(exec);
	return NULL;
}

int64_t execution_id(const struct execution *exec)
{
	return exec->id;
}

enum execution_status execution_status(const struct execution *exec)
{
	return exec->status;
}

const struct store_counters *execution_counters(const struct execution *exec)
{
	return &exec->counters;
}

const cJSON *execution_error(const struct execution *exec)
{
	return exec->error;
}

int64_t execution_incomplete_id(const struct execution *exec)
{
	return exec->first_incomplete;
}

const cJSON *execution_log(const struct execution *exec)
{
	return exec->log;
}

static const char *node_status(const struct node_info *ni)
{
	if (ni->errors > ni->warnings)
		return "error";
	if (ni->warnings > 0)
		return "warning";
	if (ni->bundles_in == 0)
		return "skipped";
	return "success";
}

cJSON *execution_summary(const struct execution *exec)
{
	cJSON *modules = cJSON_CreateArray();

	for (size_t i = 0; i < exec->node_count; i++) {
		const struct node_info *ni = &exec->nodes[i];
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(m, "id", ni->node->id);
		if (ni->node->kind == FLOW_ROUTER)
			cJSON_AddStringToObject(m, "module", "router");
		else
			cJSON_AddStringToObject(m, "module", ni->node->module_name);
		cJSON_AddNumberToObject(m, "bundles_in", (double)ni->bundles_in);
		cJSON_AddNumberToObject(m, "bundles_out", (double)ni->bundles_out);
		cJSON_AddStringToObject(m, "status", node_status(ni));
		cJSON_AddItemToObject(m, "error",
				      ni->last_error ? cJSON_Duplicate(ni->last_error, true) :
						       cJSON_CreateNull());
		cJSON_AddItemToArray(modules, m);
	}
	return modules;
}
