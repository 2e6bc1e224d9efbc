/* SPDX-License-Identifier: MIT */
/*
 * The depth-first walk of bundles through the flow, as an explicit stack of
 * frames so that a module may finish later (asynchronously) and the walk
 * picks up exactly where it was. A BRANCH frame runs one node on one bundle
 * path and becomes an OUTPUTS frame (a module's output bundles, each handed
 * to the next node in turn), a ROUTES frame (a router) or is popped (a
 * filter said no, the flow ended). Frames are allocated one by one so the
 * binding a frame adds can be borrowed by every frame above it.
 * EXECUTOR.md has the picture.
 */
#include "scenarios/exec_internal.h"

#include <stdlib.h>
#include <string.h>

#include "modules/builtin/aggregator.h"
#include "scenarios/mapping.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static struct frame *frame_push(struct execution *exec, enum frame_kind kind,
				const struct flow *flow, size_t index, const struct binding *ctx)
{
	struct frame *f = xcalloc(1, sizeof(*f));

	f->kind = kind;
	f->flow = flow;
	f->index = index;
	f->ctx = ctx;
	f->below = exec->top;
	exec->top = f;
	return f;
}

static void aggregations_free(struct aggregation *a)
{
	while (a) {
		struct aggregation *next = a->next;

		cJSON_Delete(a->values);
		cJSON_Delete(a->keys);
		free(a);
		a = next;
	}
}

struct frame *walk_frame_pop(struct execution *exec)
{
	struct frame *f = exec->top;

	exec->top = f->below;
	cJSON_Delete(f->outputs);
	cJSON_Delete(f->error);
	cJSON_Delete(f->resume_outputs);
	aggregations_free(f->aggregations);
	free(f);
	return exec->top;
}

void walk_clear(struct execution *exec)
{
	while (exec->top)
		walk_frame_pop(exec);
}

static const struct flow_node *frame_node(const struct frame *f)
{
	return f->flow->nodes[f->index];
}

/* The error an error handler route is running for, for {{error.*}}. */
static const cJSON *handler_error(const struct frame *f)
{
	for (; f; f = f->below)
		if (f->kind == FRAME_HANDLER)
			return f->error;
	return NULL;
}

static int eval_mapping(struct execution *exec, const struct frame *f, const struct mapping *m,
			cJSON **ret, char **reterr_msg)
{
	struct eval_context ectx = { .exec = exec, .ctx = f->ctx, .error = handler_error(f) };
	struct mapping_scope scope;

	context_scope_init(&scope, &ectx);
	return mapping_eval(m, &scope, ret, reterr_msg);
}

static int eval_template(struct execution *exec, const struct frame *f, const struct template *tmpl,
			 cJSON **ret, char **reterr_msg)
{
	struct eval_context ectx = { .exec = exec, .ctx = f->ctx, .error = handler_error(f) };
	struct mapping_scope scope;

	if (!tmpl) {
		*ret = cJSON_CreateObject();
		return 0;
	}
	context_scope_init(&scope, &ectx);
	return template_eval(tmpl, &scope, ret, reterr_msg);
}

static bool polls(const struct flow_node *node);

/* A trigger that fetches (polls a cursor, or waits for events) leaves
 * nothing to resume when its run stops before it finished: its cursor did
 * not move, so the next run fetches again. A first module that acts (a
 * scenario without a trigger) is resumed like any other. */
static bool refetches(const struct frame *f, const struct node_info *ni)
{
	const struct module_desc *desc = ni->node->desc;

	return f->is_trigger && (polls(ni->node) || (desc && desc->kind == MODULE_TRIGGER_INSTANT));
}

static cJSON *error_json(enum error_type type, const char *message, const char *module_id)
{
	struct module_error e = { .type = type, .message = (char *)message };

	return module_error_to_json(&e, module_id);
}

/* An incomplete execution could not be stored (too large, store
 * failure): `data_loss` decides between dropping the bundle with a warning
 * and stopping the run with the scenario paused, so nothing is lost
 * silently (scenario-format.md "Settings"). */
static void incomplete_not_stored(struct execution *exec, const cJSON *error, int r)
{
	_cleanup_free_ char *message = NULL;
	cJSON *e;

	if (exec->scenario->settings.data_loss) {
		message = xasprintf("%s; the incomplete execution could not be stored (%s) and "
				    "was dropped, as data_loss allows",
				    json_get_string(error, "message"), strerror(-r));
		e = error_json(error_type_from_string(json_get_string(error, "type")), message,
			       json_get_string(error, "module"));
		execution_record_error(exec, e, false);
		cJSON_Delete(e);
		exec->had_warning = true;
		walk_frame_pop(exec);
		return;
	}
	message = xasprintf("%s; the incomplete execution could not be stored (%s), so the "
			    "scenario is paused (set data_loss: true to drop such bundles)",
			    json_get_string(error, "message"), strerror(-r));
	e = error_json(error_type_from_string(json_get_string(error, "type")), message,
		       json_get_string(error, "module"));
	execution_record_error(exec, e, true);
	cJSON_Delete(e);
	store_scenario_set_enabled(exec->env->store, exec->scenario->name, false,
				   "an incomplete execution could not be stored");
	exec->status = EXECUTION_ERROR;
	exec->stopping = true;
}

enum error_class {
	CLASS_AUTO_RETRY, /* stored and retried on the backoff schedule */
	CLASS_MANUAL, /* stored for a person */
	CLASS_FAIL, /* never stored: the run fails */
};

static enum error_class classify(int type)
{
	switch (type) {
	case ERROR_CONNECTION:
	case ERROR_RATE_LIMIT:
	case ERROR_MODULE_TIMEOUT:
	case ERROR_OUT_OF_SPACE:
		return CLASS_AUTO_RETRY;
	case ERROR_DATA:
	case ERROR_DUPLICATE_DATA:
	case ERROR_INVALID_CONFIGURATION:
	case ERROR_INVALID_ACCESS_TOKEN:
	case ERROR_UNEXPECTED:
	case ERROR_MAX_FILE_SIZE_EXCEEDED:
	case ERROR_MAX_RESULTS_EXCEEDED:
		return CLASS_MANUAL;
	default:
		return CLASS_FAIL;
	}
}

/*
 * No handler took the error (scenario-format.md "Errors", fusion-semantics.md
 * §3.4): an error on the trigger never stores anything, and a ConnectionError
 * or RateLimitError there ends the run with a warning for the next run to
 * try again; with store_incomplete the auto-retry and manual classes store
 * the bundle as an incomplete execution and the run goes on with the
 * others (an InvalidAccessTokenError stops the run and stores the rest with
 * it); everything else rolls back. Takes ownership of `error`.
 */
static void default_handling(struct execution *exec, struct node_info *ni, cJSON *error, int type)
{
	struct frame *f = exec->top;
	enum error_class class = classify(type);
	enum incomplete_kind kind;
	int64_t id;

	if (f->is_trigger) {
		if (type == ERROR_CONNECTION || type == ERROR_RATE_LIMIT) {
			execution_record_error(exec, error, false);
			exec->had_warning = true;
		} else {
			execution_record_error(exec, error, true);
			exec->status = EXECUTION_ERROR;
		}
		exec->stopping = true;
	} else if (exec->scenario->settings.store_incomplete && class != CLASS_FAIL) {
		struct incomplete_plan plan = {
			.max_attempts = class == CLASS_AUTO_RETRY ? -1 : 0,
			.retry_after_ms = json_get_int(error, "retry_after_ms", 0),
		};

		kind = type == ERROR_INVALID_ACCESS_TOKEN ? INCOMPLETE_REST : INCOMPLETE_BUNDLE;
		execution_record_error(exec, error, false);
		/* A replayed failure was stored before the crash (into the resumed
		 * record, when there is one). */
		if (exec->replay && exec->resumed_incomplete)
			exec->resumed_replaced = true;
		id = exec->replay ? 0 : resume_store_incomplete(exec, ni, error, kind, &plan);
		if (id < 0) {
			incomplete_not_stored(exec, error, (int)id);
		} else {
			exec->stored_incomplete = true;
			if (kind == INCOMPLETE_REST)
				exec->stopping = true;
			else
				walk_frame_pop(exec);
		}
	} else {
		execution_record_error(exec, error, true);
		exec->status = EXECUTION_ERROR;
		exec->stopping = true;
	}
	cJSON_Delete(error);
}

/*
 * The one place a failed operation goes (scenario-format.md "Errors"): the
 * module's error handler route when it takes this error type, else the
 * default handling. Takes ownership of `error`. The frame on top is the one
 * whose module failed.
 */
static void handle_failure(struct execution *exec, struct node_info *ni, cJSON *error)
{
	struct frame *f = exec->top;
	const struct error_handler *handler = ni->node->on_error;
	int type = error_type_from_string(json_get_string(error, "type"));

	ni->errors++;
	cJSON_Delete(ni->last_error);
	ni->last_error = cJSON_Duplicate(error, true);
	exec->cycle_failed = true;

	if (exec->interrupted) {
		cJSON_Delete(error);
		walk_frame_pop(exec);
		return;
	}
	if (handler &&
	    (handler->error_types == 0 || (type >= 0 && (handler->error_types & (1u << type))))) {
		f->kind = FRAME_HANDLER;
		f->failed = ni;
		f->error = error;
		if (handler->flow.count > 0)
			frame_push(exec, FRAME_BRANCH, &handler->flow, 0, f->ctx);
		return;
	}

	default_handling(exec, ni, error, type);
}

static void record_aggregate_operation(struct execution *exec, struct node_info *ni,
				       const cJSON *outputs, int64_t collected)
{
	_cleanup_json_ cJSON *input = cJSON_CreateObject();
	int64_t op;

	cJSON_AddNumberToObject(input, "bundles", (double)collected);
	if (exec->replay) {
		exec->replay_next++; /* recorded by the run being replayed */
	} else if (store_operation_begin(
			   exec->env->store, exec->id, ni->node->id, ni->node->module_name,
			   exec->scenario->settings.confidential ? NULL : input, &op) == 0)
		store_operation_finish(exec->env->store, op, "success",
				       exec->scenario->settings.confidential ? NULL : outputs,
				       NULL);
	exec->counters.operations++;
	ni->bundles_out += cJSON_GetArraySize(outputs);
}

/* The source module is done with the bundle that entered it: every
 * aggregator it feeds closes its set and goes on from where it stands, with
 * the bundle path as it was before the source. */
static void close_aggregations(struct execution *exec, struct frame *source)
{
	struct aggregation *a = TAKE_PTR(source->aggregations);
	struct aggregation *reversed = NULL;

	/* Frames run top first: push the last aggregator first. */
	while (a) {
		struct aggregation *next = a->next;

		a->next = reversed;
		reversed = a;
		a = next;
	}
	for (a = reversed; a; a = a->next) {
		struct node_info *ni = (struct node_info *)a->aggregator;
		const struct template *with = ni->node->with;
		const cJSON *stop = NULL;
		cJSON *outputs = NULL;
		struct frame *f;

		for (size_t k = 0; with && k < with->count; k++)
			if (strcmp(with->keys[k], "stop_if_empty") == 0 &&
			    with->children[k]->kind == TEMPLATE_CONSTANT)
				stop = with->children[k]->constant;
		if (a->partial && cJSON_GetArraySize(a->values) == 0)
			continue;
		if (aggregator_output_build(a->values, a->keys, cJSON_IsTrue(stop), &outputs) < 0 ||
		    cJSON_GetArraySize(outputs) == 0) {
			cJSON_Delete(outputs);
			continue;
		}
		f = frame_push(exec, FRAME_OUTPUTS, ni->flow, ni->index, source->ctx);
		walk_frame_set_outputs(f, outputs, 0);
		record_aggregate_operation(exec, ni, f->outputs, cJSON_GetArraySize(a->values));
	}
	aggregations_free(reversed);
}

static void open_aggregations(struct execution *exec, struct frame *f)
{
	const char *id = frame_node(f)->id;
	struct aggregation **tail = &f->aggregations;

	for (size_t i = 0; i < exec->node_count; i++) {
		const struct node_info *ni = &exec->nodes[i];
		const cJSON *source;

		if (!ni->node->desc || ni->node->desc->kind != MODULE_AGGREGATOR)
			continue;
		source = NULL;
		for (size_t k = 0; ni->node->with && k < ni->node->with->count; k++)
			if (strcmp(ni->node->with->keys[k], "source") == 0 &&
			    ni->node->with->children[k]->kind == TEMPLATE_CONSTANT)
				source = ni->node->with->children[k]->constant;
		if (!source)
			continue;
		_cleanup_free_ char *source_id = json_to_text(source);
		if (strcmp(source_id, id) != 0)
			continue;
		*tail = xcalloc(1, sizeof(**tail));
		(*tail)->aggregator = ni;
		(*tail)->values = cJSON_CreateArray();
		tail = &(*tail)->next;
	}
}

void walk_frame_set_outputs(struct frame *f, cJSON *outputs, int next)
{
	f->outputs = outputs;
	f->total = cJSON_GetArraySize(outputs);
	f->next = next < 0 || next > f->total ? f->total : next;
	f->cursor = cJSON_GetArrayItem(outputs, f->next);
}

static void step_outputs(struct execution *exec, struct frame *f)
{
	int total = f->total;
	struct frame *child;

	if (f->next < total) {
		const cJSON *bundle = f->cursor;

		f->next_current = f->next++;
		f->cursor = f->cursor->next;

		if (f->is_trigger) {
			exec->bundle_index = f->next;
			exec->bundle_total = total;
			exec->counters.bundles++;
			cJSON_ReplaceItemInObjectCaseSensitive(exec->bundle_json, "index",
							       cJSON_CreateNumber(f->next));
			cJSON_ReplaceItemInObjectCaseSensitive(exec->bundle_json, "total",
							       cJSON_CreateNumber(total));
		}
		child = frame_push(exec, FRAME_BRANCH, f->flow, f->index + 1, NULL);
		child->own = (struct binding){ .id = frame_node(f)->id,
					       .bundle = bundle,
					       .parent = f->ctx };
		child->ctx = &child->own;
		return;
	}
	if (f->aggregations) {
		close_aggregations(exec, f);
		return;
	}
	walk_frame_pop(exec);
}

/* The trigger's or a module's outputs become the frame's outputs. */
static void become_outputs(struct execution *exec, struct frame *f, cJSON *outputs)
{
	f->kind = FRAME_OUTPUTS;
	walk_frame_set_outputs(f, outputs ? outputs : cJSON_CreateArray(), 0);
	open_aggregations(exec, f);
}

/*
 * A stop (execution_suspend) reached module `ni` on the top frame: either
 * before it started, or after it was cancelled (`cancelled_input` is what
 * it ran with). The rest of the walk is stored as one incomplete execution,
 * attempted again at once when nothing could have acted twice; a fetching
 * trigger leaves nothing to store (refetches()). A confidential
 * scenario that does not store incomplete executions keeps nothing, as it
 * asked, and ends with a warning.
 */
static void suspend_stop(struct execution *exec, struct frame *f, struct node_info *ni,
			 bool started, const cJSON *cancelled_input)
{
	const struct module_desc *desc = ni->node->desc;
	const struct scenario_settings *settings = &exec->scenario->settings;
	bool safe = !started || (desc->safe_to_repeat && desc->safe_to_repeat(cancelled_input));
	struct incomplete_plan plan = { .max_attempts = safe ? -1 : 0, .attempt_now = safe };
	_cleanup_free_ char *message = NULL;
	_cleanup_json_ cJSON *error = NULL;
	int64_t id;

	exec->stopping = true;
	if (refetches(f, ni))
		exec->event_unconsumed = true;
	if (refetches(f, ni) || (settings->confidential && !settings->store_incomplete)) {
		message = xasprintf("%s; the remaining bundles were not processed",
				    exec->interrupt_reason);
		error = error_json(ERROR_EXECUTION_INTERRUPTED, message, ni->node->id);
		execution_record_error(exec, error, false);
		exec->had_warning = true;
		return;
	}
	message = xasprintf("%s before module '%s' %s; the rest of the run is stored as an "
			    "incomplete execution%s",
			    exec->interrupt_reason, ni->node->id, started ? "finished" : "started",
			    safe ? " and is retried automatically" :
				   " for a person to retry (the module may have acted)");
	error = error_json(ERROR_EXECUTION_INTERRUPTED, message, ni->node->id);
	execution_record_error(exec, error, true);
	/* The stored bundle number is the one this module runs as. */
	if (!started)
		ni->bundles_in++;
	id = resume_store_incomplete(exec, ni, error, INCOMPLETE_REST, &plan);
	if (!started)
		ni->bundles_in--;
	if (id < 0) {
		_cleanup_json_ cJSON *failed = NULL;

		free(message);
		message = xasprintf("%s before module '%s' %s, and the rest of the run could not "
				    "be stored (%s)",
				    exec->interrupt_reason, ni->node->id,
				    started ? "finished" : "started", strerror((int)-id));
		failed = error_json(ERROR_EXECUTION_INTERRUPTED, message, ni->node->id);
		execution_record_error(exec, failed, true);
		exec->status = EXECUTION_ERROR;
		return;
	}
	exec->stored_incomplete = true;
}

static void finish_module(struct execution *exec, struct module_run *run, int r)
{
	struct node_info *ni = (struct node_info *)exec->in_flight_node;
	struct frame *f = exec->top;
	bool confidential = exec->scenario->settings.confidential;
	const cJSON *line;

	if (r < 0 && !run->failed)
		module_run_fail(run, ERROR_UNEXPECTED, "module failed: %s", strerror(-r));
	cJSON_ArrayForEach(line, run->log) {
		cJSON *copy = cJSON_Duplicate(line, true);

		cJSON_AddStringToObject(copy, "module", ni->node->id);
		cJSON_AddItemToArray(exec->log, copy);
	}
	exec->counters.bytes += run->bytes;

	if (run->failed) {
		cJSON *error = module_error_to_json(&run->error, ni->node->id);

		store_operation_finish(exec->env->store, exec->in_flight_operation, "error",
				       confidential ? NULL : run->outputs, error);
		if (exec->suspend_cancelled) {
			ni->errors++;
			suspend_stop(exec, f, ni, true, confidential ? NULL : run->input);
			cJSON_Delete(error);
		} else {
			handle_failure(exec, ni, error);
		}
	} else {
		store_operation_finish(exec->env->store, exec->in_flight_operation, "success",
				       confidential ? NULL : run->outputs, NULL);
		ni->bundles_out += cJSON_GetArraySize(run->outputs);
		if (!f->is_trigger && !ni->in_handler)
			exec->counters.operations++;
		if (f->is_trigger) {
			free(exec->pending_cursor);
			exec->pending_cursor = TAKE_PTR(run->new_cursor);
			exec->trigger_emitted = cJSON_GetArraySize(run->outputs) > 0;
		}
		become_outputs(exec, f, TAKE_PTR(run->outputs));
	}

	cJSON_Delete(run->outputs);
	cJSON_Delete(run->log);
	free(run->new_cursor);
	module_error_done(&run->error);
	cJSON_Delete((cJSON *)run->input);
	free(run);
	exec->in_flight = NULL;
	exec->in_flight_node = NULL;
}

static void on_module_done(struct module_run *run)
{
	struct execution *exec = run->done_data;

	finish_module(exec, run, 0);
	walk_advance(exec);
}

/*
 * Recovery: instead of running the module, take what the crashed process
 * recorded for it. The first operation without a recorded end (or a module
 * the record does not reach) is where that process stopped: the walk from
 * there is stored as an incomplete execution with the bundles still to
 * come, and nothing that already ran runs again.
 */
/* Where the crashed process stopped: the rest of the walk becomes an
 * incomplete execution. A module that never started, or that is safe to
 * repeat, is attempted again automatically at once; one that may have acted
 * waits for a person. A fetching trigger that had not finished leaves
 * nothing to resume (refetches()). */
static void replay_stop(struct execution *exec, struct frame *f, struct node_info *ni,
			const cJSON *running_op)
{
	const struct module_desc *desc = ni->node->desc;
	bool safe = !running_op || (desc->safe_to_repeat &&
				    desc->safe_to_repeat(cJSON_GetObjectItem(running_op, "input")));
	struct incomplete_plan plan = { .max_attempts = safe ? -1 : 0, .attempt_now = safe };
	_cleanup_free_ char *message = NULL;
	cJSON *error;
	int64_t id;

	cJSON_Delete(exec->replay);
	exec->replay = NULL;
	exec->stopping = true;
	if (f->is_trigger && trigger_events_instant(ni->node))
		trigger_events_replayed(exec, false);
	if (refetches(f, ni)) {
		error = error_json(ERROR_EXECUTION_INTERRUPTED,
				   "the process running this execution stopped before its trigger "
				   "finished; the next run starts from the same place",
				   ni->node->id);
		execution_record_error(exec, error, false);
		exec->had_warning = true;
		cJSON_Delete(error);
		return;
	}
	message = xasprintf("the process running this execution stopped while module '%s' was "
			    "%s; %s",
			    ni->node->id, running_op ? "running" : "about to run",
			    safe ? "it is safe to run again and is retried automatically" :
				   "it may have acted, so check what it did, then retry the "
				   "incomplete execution");
	error = error_json(ERROR_UNEXPECTED, message, ni->node->id);
	execution_record_error(exec, error, true);
	id = resume_store_incomplete(exec, ni, error, INCOMPLETE_REST, &plan);
	if (id < 0)
		exec->status = EXECUTION_ERROR;
	else
		exec->stored_incomplete = true;
	cJSON_Delete(error);
}

static void replay_module(struct execution *exec, struct frame *f, struct node_info *ni)
{
	const cJSON *op = cJSON_GetArrayItem(exec->replay, exec->replay_next);
	const char *status = json_get_string(op, "status");
	const char *module_id = json_get_string(op, "module_id");

	if (!op || !status || streq(status, "running") || !module_id ||
	    !streq(module_id, ni->node->id)) {
		replay_stop(exec, f, ni,
			    op && module_id && streq(module_id, ni->node->id) ? op : NULL);
		return;
	}
	exec->replay_next++;
	if (f->is_trigger && trigger_events_instant(ni->node))
		trigger_events_replayed(exec, streq(status, "success"));
	if (streq(status, "success")) {
		const cJSON *output = cJSON_GetObjectItem(op, "output");
		cJSON *outputs = cJSON_IsArray(output) ? cJSON_Duplicate(output, true) :
							 cJSON_CreateArray();

		ni->bundles_out += cJSON_GetArraySize(outputs);
		if (!f->is_trigger && !ni->in_handler)
			exec->counters.operations++;
		if (f->is_trigger)
			exec->trigger_emitted = cJSON_GetArraySize(outputs) > 0;
		become_outputs(exec, f, outputs);
		return;
	}
	handle_failure(exec, ni, cJSON_Duplicate(cJSON_GetObjectItem(op, "error"), true));
}

/* The first module polls when it is a polling trigger, or a search that
 * works as one there (Fusion's "Watch"-style searches such as
 * cloudconvert.list_jobs): it gets the stored cursor and is asked again
 * for the next cycle while it emits bundles. */
static bool polls(const struct flow_node *node)
{
	return node->desc &&
	       (node->desc->kind == MODULE_TRIGGER_POLLING || node->desc->kind == MODULE_SEARCH);
}

/* Evaluates the node's fields, records the operation and starts the module. */
static void start_module(struct execution *exec, struct frame *f, struct node_info *ni)
{
	const struct flow_node *node = ni->node;
	const struct module_env *env = exec->env;
	_cleanup_free_ char *message = NULL;
	cJSON *input = NULL;
	struct module_run *run;
	int64_t op;
	int r;

	ni->bundles_in++;
	/* fusion-semantics.md §1.3: the first module counts 1 per cycle even when
	 * it fails or emits nothing; other modules count only when they succeed. */
	if (f->is_trigger)
		exec->counters.operations++;
	if (exec->replay) {
		replay_module(exec, f, ni);
		return;
	}
	r = eval_template(exec, f, node->with, &input, &message);
	if (r == 0)
		r = coerce_input(node->desc, input, &message);
	if (r < 0) {
		/* Record what could be mapped, so a person sees where it went wrong. */
		if (store_operation_begin(env->store, exec->id, node->id, node->module_name,
					  exec->scenario->settings.confidential ? NULL : input,
					  &op) == 0) {
			_cleanup_json_ cJSON *e = error_json(ERROR_DATA, message, node->id);

			store_operation_finish(env->store, op, "error", NULL, e);
		}
		cJSON_Delete(input);
		handle_failure(exec, ni, error_json(ERROR_DATA, message, node->id));
		return;
	}
	r = store_operation_begin(env->store, exec->id, node->id, node->module_name,
				  exec->scenario->settings.confidential ? NULL : input, &op);
	if (r < 0) {
		cJSON_Delete(input);
		handle_failure(exec, ni,
			       error_json(ERROR_UNEXPECTED,
					  "cannot record the operation in the store", node->id));
		return;
	}
	if (f->is_trigger && trigger_events_instant(node))
		trigger_events_take(exec, ni);
	if (f->is_trigger && polls(node)) {
		free(exec->stored_cursor);
		exec->stored_cursor = NULL;
		store_cursor_get(env->store, exec->scenario->name, node->id, &exec->stored_cursor);
	}

	run = xcalloc(1, sizeof(*run));
	*run = (struct module_run){
		.env = env,
		.desc = node->desc,
		.input = input,
		.connection =
			node->connection && env->find_connection ?
				env->find_connection(env->connections_userdata, node->connection) :
				NULL,
		.execution_id = exec->origin_execution_id,
		.scenario = exec->scenario->name,
		.module_id = node->id,
		.bundle_seq = (uint64_t)ni->bundles_in,
		.cursor = f->is_trigger ? exec->stored_cursor : NULL,
		.max_file_size = exec->scenario->settings.max_file_size,
		.resumed = exec->resumed_node == ni,
		.event = f->is_trigger ? exec->event : NULL,
		.event_id = exec->event_id,
		.done = on_module_done,
		.done_data = exec,
	};
	exec->in_flight = run;
	exec->in_flight_node = ni;
	exec->in_flight_operation = op;
	exec->resumed_node = NULL;
	r = node->desc->start(run);
	if (r == MODULE_PENDING)
		return;
	finish_module(exec, run, r < 0 ? r : 0);
}

/* A bundle reaches an aggregator: its value joins the set of the nearest
 * frame below that iterates the aggregator's source. */
static void collect(struct execution *exec, struct frame *f, struct node_info *ni)
{
	_cleanup_free_ char *message = NULL;
	_cleanup_json_ cJSON *input = NULL;
	const char *source;
	struct aggregation *a = NULL;
	const cJSON *value, *group_by;

	if (eval_template(exec, f, ni->node->with, &input, &message) < 0) {
		handle_failure(exec, ni, error_json(ERROR_DATA, message, ni->node->id));
		return;
	}
	for (struct frame *g = f->below; g && !a; g = g->below)
		for (struct aggregation *cand = g->kind == FRAME_OUTPUTS ? g->aggregations : NULL;
		     cand; cand = cand->next)
			if (cand->aggregator == ni)
				a = cand;
	if (!a) {
		handle_failure(exec, ni,
			       error_json(ERROR_INCONSISTENCY,
					  "the aggregator's source module does not iterate on "
					  "this path",
					  ni->node->id));
		return;
	}
	ni->bundles_in++;
	source = json_get_string(input, "source");
	value = cJSON_GetObjectItemCaseSensitive(input, "value");
	if (!value || cJSON_IsNull(value))
		value = source ? context_lookup(f->ctx, source) : NULL;
	cJSON_AddItemToArray(a->values, value ? cJSON_Duplicate(value, true) : cJSON_CreateNull());
	group_by = cJSON_GetObjectItemCaseSensitive(input, "group_by");
	if (group_by && !cJSON_IsNull(group_by)) {
		if (!a->keys)
			a->keys = cJSON_CreateArray();
		cJSON_AddItemToArray(a->keys, cJSON_Duplicate(group_by, true));
	}
	walk_frame_pop(exec);
}

static bool passes_filter(struct execution *exec, struct frame *f, const struct mapping *when,
			  struct node_info *ni)
{
	_cleanup_free_ char *message = NULL;
	_cleanup_json_ cJSON *value = NULL;

	if (!when)
		return true;
	if (eval_mapping(exec, f, when, &value, &message) < 0) {
		_cleanup_free_ char *text = xasprintf("filter: %s", message);

		handle_failure(exec, ni, error_json(ERROR_DATA, text, ni->node->id));
		return false;
	}
	return mapping_truthy(value);
}

static void step_branch(struct execution *exec, struct frame *f)
{
	const struct flow_node *node;
	struct node_info *ni;

	if (f->index >= f->flow->count) {
		walk_frame_pop(exec);
		return;
	}
	node = frame_node(f);
	ni = execution_node_info(exec, node);
	if (node->when) {
		if (!passes_filter(exec, f, node->when, ni)) {
			if (exec->top == f && f->kind == FRAME_BRANCH)
				walk_frame_pop(exec);
			return;
		}
	}
	if (node->kind == FLOW_ROUTER) {
		ni->bundles_in++;
		f->kind = FRAME_ROUTES;
		f->route = 0;
		return;
	}
	if (node->desc->kind == MODULE_AGGREGATOR) {
		collect(exec, f, ni);
		return;
	}
	/* A stop waits for the module in flight, then stores the rest here. */
	if (exec->suspending && !exec->replay) {
		suspend_stop(exec, f, ni, false, NULL);
		return;
	}
	start_module(exec, f, ni);
}

static void step_routes(struct execution *exec, struct frame *f)
{
	const struct flow_node *node = frame_node(f);
	struct node_info *ni = execution_node_info(exec, node);

	while (f->route < node->route_count) {
		const struct route *route = &node->routes[f->route++];
		_cleanup_free_ char *message = NULL;
		_cleanup_json_ cJSON *value = NULL;

		if (route->fallback)
			continue;
		if (route->when) {
			if (eval_mapping(exec, f, route->when, &value, &message) < 0) {
				_cleanup_free_ char *text = xasprintf("route filter: %s", message);

				handle_failure(exec, ni, error_json(ERROR_DATA, text, node->id));
				return;
			}
			if (!mapping_truthy(value))
				continue;
		}
		f->any_route_passed = true;
		frame_push(exec, FRAME_BRANCH, &route->flow, 0, f->ctx);
		return;
	}
	if (f->route == node->route_count) {
		/* The fallback route takes the bundles that passed no other route. */
		f->route++;
		for (size_t i = 0; i < node->route_count && !f->any_route_passed; i++)
			if (node->routes[i].fallback) {
				frame_push(exec, FRAME_BRANCH, &node->routes[i].flow, 0, f->ctx);
				return;
			}
	}
	walk_frame_pop(exec);
}

/* The handler's flow (if any) has run: the directive decides what happens
 * to the failing bundle, the bundles still to come and the run's status. */
static void step_handler(struct execution *exec, struct frame *f)
{
	const struct error_handler *handler = f->failed->node->on_error;
	struct node_info *ni = (struct node_info *)f->failed;
	enum directive directive = handler->directive;
	_cleanup_free_ char *message = NULL;
	cJSON *output = NULL;

	if (directive == DIRECTIVE_NONE)
		directive = handler->flow.count > 0 ? DIRECTIVE_IGNORE : DIRECTIVE_ROLLBACK;
	switch (directive) {
	case DIRECTIVE_COMMIT:
		execution_record_error(exec, f->error, false);
		exec->stopping = true;
		break;
	case DIRECTIVE_RESUME:
		if (eval_template(exec, f, handler->resume_output, &output, &message) < 0) {
			cJSON *e = error_json(ERROR_DATA, message, ni->node->id);

			execution_record_error(exec, e, true);
			cJSON_Delete(e);
			exec->status = EXECUTION_ERROR;
			exec->stopping = true;
			break;
		}
		ni->warnings++;
		cJSON_Delete(TAKE_PTR(f->error));
		f->resume_outputs = cJSON_CreateArray();
		cJSON_AddItemToArray(f->resume_outputs, output);
		become_outputs(exec, f, TAKE_PTR(f->resume_outputs));
		return;
	case DIRECTIVE_IGNORE:
		ni->warnings++;
		execution_record_error(exec, f->error, false);
		walk_frame_pop(exec);
		return;
	case DIRECTIVE_BREAK: {
		/* The failing bundle becomes an incomplete execution; the others go
		 * on and the run ends with a warning. A replayed break was stored
		 * before the crash. */
		struct incomplete_plan plan = {
			.max_attempts = handler->retry_attempts,
			.interval_ms = handler->retry_interval_ms,
			.retry_after_ms = json_get_int(f->error, "retry_after_ms", 0),
		};
		int64_t id;

		if (exec->replay && exec->resumed_incomplete)
			exec->resumed_replaced = true;
		id = exec->replay ?
			     0 :
			     resume_store_incomplete(exec, ni, f->error, INCOMPLETE_BUNDLE, &plan);

		if (id < 0) {
			incomplete_not_stored(exec, f->error, (int)id);
			return;
		}
		ni->warnings++;
		exec->had_warning = true;
		execution_record_error(exec, f->error, false);
		walk_frame_pop(exec);
		return;
	}
	case DIRECTIVE_ROLLBACK:
	default:
		execution_record_error(exec, f->error, true);
		exec->status = EXECUTION_ERROR;
		exec->stopping = true;
		break;
	}
}

void walk_start_cycle(struct execution *exec)
{
	struct frame *f;

	exec->cycle++;
	exec->trigger_emitted = false;
	exec->cycle_failed = false;
	f = frame_push(exec, FRAME_BRANCH, &exec->scenario->flow, 0, NULL);
	f->is_trigger = true;
}

/* The stack is empty: the trigger's bundles of this cycle are done. Commit
 * the polling trigger's cursor (with commit_trigger_last only when the
 * cycle succeeded) and decide whether to ask the trigger again. */
static bool end_cycle(struct execution *exec)
{
	const struct scenario *sc = exec->scenario;
	const struct flow_node *trigger = sc->flow.nodes[0];
	bool polling = trigger->desc && polls(trigger);

	/* A resumed run has no cycle of its own: the trigger ran in the
	 * original one. */
	if (exec->resumed_stack)
		return false;

	trigger_events_end_cycle(exec);
	if (polling && exec->pending_cursor &&
	    !(sc->settings.commit_trigger_last && exec->cycle_failed))
		store_cursor_set(exec->env->store, sc->name, trigger->id, exec->pending_cursor);
	free(exec->pending_cursor);
	exec->pending_cursor = NULL;
	if (exec->stopping || exec->suspending || !exec->trigger_emitted)
		return false;
	if (trigger_events_instant(trigger))
		return exec->cycle < trigger_events_cycle_limit(sc) && trigger_events_waiting(exec);
	if (!polling)
		return false;
	return exec->cycle < sc->settings.max_cycles;
}

static bool past_timeout(struct execution *exec)
{
	int64_t limit = exec->scenario->settings.timeout_ms;

	return limit > 0 && time_monotonic_ms() - exec->started_monotonic_ms > limit;
}

void walk_advance(struct execution *exec)
{
	while (!exec->in_flight) {
		if (!exec->stopping && (exec->interrupted || past_timeout(exec))) {
			_cleanup_json_ cJSON *e = error_json(
				ERROR_EXECUTION_INTERRUPTED,
				exec->interrupt_reason ? exec->interrupt_reason :
							 "the run took longer than its timeout; "
							 "the remaining bundles were not processed",
				NULL);

			exec->interrupted = true;
			exec->had_warning = true;
			execution_record_error(exec, e, false);
			exec->stopping = true;
		}
		if (exec->stopping)
			walk_clear(exec);
		if (!exec->top) {
			if (end_cycle(exec)) {
				walk_start_cycle(exec);
				continue;
			}
			execution_finish(exec);
			return;
		}
		switch (exec->top->kind) {
		case FRAME_BRANCH:
			step_branch(exec, exec->top);
			break;
		case FRAME_OUTPUTS:
			step_outputs(exec, exec->top);
			break;
		case FRAME_ROUTES:
			step_routes(exec, exec->top);
			break;
		case FRAME_HANDLER:
			step_handler(exec, exec->top);
			break;
		}
	}
}
