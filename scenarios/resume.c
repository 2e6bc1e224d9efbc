/* SPDX-License-Identifier: MIT */
/*
 * Incomplete executions from the executor's side: the walk's stack written
 * down as a state a later run can rebuild, and rebuilt from it.
 *
 * The state lists the frames from the bottom (the trigger's bundles) to the
 * failed module. An OUTPUTS frame keeps its bundles, which one was on its way
 * ("current") and where to go on ("next"); a ROUTES frame its route; a
 * HANDLER frame its error; the last frame is the failed module with its
 * bundle number, so its idempotency key (and a CloudConvert job's tag) is
 * the same when it runs again. Bindings are not stored: each frame's path is
 * the path below it plus the bundle "current" of the OUTPUTS frame under it.
 *
 * For a failing bundle whose run goes on (break, the default handling), the
 * other bundles are the original run's business: every frame is stored as
 * finished ("next" past the end, routes done) and aggregations restart empty
 * and close only if the resumed bundle reaches them. When the run stops at
 * the failure, the bundles still to come are stored with it.
 */
#include "scenarios/exec_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/mapping.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define STATE_VERSION 1

static cJSON *aggregations_to_json(const struct aggregation *a, enum incomplete_kind kind)
{
	cJSON *list = cJSON_CreateArray();

	for (; a; a = a->next) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "aggregator", a->aggregator->node->id);
		cJSON_AddBoolToObject(o, "partial", kind == INCOMPLETE_BUNDLE || a->partial);
		cJSON_AddItemToObject(o, "values",
				      kind == INCOMPLETE_BUNDLE ? cJSON_CreateArray() :
								  cJSON_Duplicate(a->values, true));
		cJSON_AddItemToObject(o, "keys",
				      kind == INCOMPLETE_BUNDLE || !a->keys ?
					      cJSON_CreateNull() :
					      cJSON_Duplicate(a->keys, true));
		cJSON_AddItemToArray(list, o);
	}
	return list;
}

static cJSON *frame_to_json(const struct execution *exec, const struct frame *f,
			    enum incomplete_kind kind)
{
	const struct flow_node *node = f->flow->nodes[f->index];
	cJSON *o = cJSON_CreateObject();
	int total;

	switch (f->kind) {
	case FRAME_OUTPUTS:
		total = f->total;
		cJSON_AddStringToObject(o, "kind", "outputs");
		cJSON_AddStringToObject(o, "node", node->id);
		cJSON_AddItemToObject(o, "outputs", cJSON_Duplicate(f->outputs, true));
		cJSON_AddNumberToObject(o, "current", f->next_current);
		cJSON_AddNumberToObject(o, "next", kind == INCOMPLETE_BUNDLE ? total : f->next);
		cJSON_AddBoolToObject(o, "trigger", f->is_trigger);
		cJSON_AddItemToObject(o, "aggregations",
				      aggregations_to_json(f->aggregations, kind));
		break;
	case FRAME_ROUTES:
		cJSON_AddStringToObject(o, "kind", "routes");
		cJSON_AddStringToObject(o, "node", node->id);
		cJSON_AddNumberToObject(o, "route",
					kind == INCOMPLETE_BUNDLE ? (double)node->route_count + 1 :
								    (double)f->route);
		cJSON_AddBoolToObject(o, "any", f->any_route_passed);
		break;
	case FRAME_HANDLER:
		cJSON_AddStringToObject(o, "kind", "handler");
		cJSON_AddStringToObject(o, "node", f->failed->node->id);
		cJSON_AddItemToObject(o, "error", cJSON_Duplicate(f->error, true));
		break;
	case FRAME_BRANCH:
		/* Only the top frame is ever a BRANCH; the caller writes it. */
		cJSON_AddStringToObject(o, "kind", "branch");
		cJSON_AddStringToObject(o, "node", node->id);
		break;
	}
	(void)exec;
	return o;
}

/* The walk as it stands, bottom first, with the top frame (the failed
 * module's, whether still a BRANCH or already a HANDLER) as the module to
 * run again. */
static cJSON *state_build(const struct execution *exec, const struct node_info *failed,
			  enum incomplete_kind kind)
{
	cJSON *state = cJSON_CreateObject();
	cJSON *frames = cJSON_CreateArray();
	cJSON *failing = cJSON_CreateObject();
	size_t depth = 0, i = 0;
	const struct frame **stack;

	for (const struct frame *f = exec->top; f; f = f->below)
		depth++;
	stack = xcalloc(depth, sizeof(*stack));
	for (const struct frame *f = exec->top; f; f = f->below)
		stack[depth - 1 - i++] = f;
	for (i = 0; i + 1 < depth; i++)
		cJSON_AddItemToArray(frames, frame_to_json(exec, stack[i], kind));
	free(stack);

	cJSON_AddStringToObject(failing, "kind", "branch");
	cJSON_AddStringToObject(failing, "node", failed->node->id);
	cJSON_AddNumberToObject(failing, "seq", (double)failed->bundles_in);
	cJSON_AddItemToArray(frames, failing);

	cJSON_AddNumberToObject(state, "version", STATE_VERSION);
	cJSON_AddItemToObject(state, "frames", frames);
	cJSON_AddNumberToObject(state, "bundle_index", (double)exec->bundle_index);
	cJSON_AddNumberToObject(state, "bundle_total", (double)exec->bundle_total);
	cJSON_AddNumberToObject(state, "now_ms", (double)exec->now_ms);
	return state;
}

/* scenario-format.md "Errors": the automatic backoff of the auto-retry
 * class, then the record waits for a person. */
static const int64_t default_backoff_ms[] = {
	60 * 1000,	10 * 60 * 1000, 10 * 60 * 1000,	 30 * 60 * 1000,
	30 * 60 * 1000, 30 * 60 * 1000, 3 * 3600 * 1000, 3 * 3600 * 1000,
};
static const struct retry_backoff default_backoff = {
	.delays_ms = default_backoff_ms,
	.count = ELEMENTSOF(default_backoff_ms),
};

static const struct retry_backoff *backoff_of(const struct execution *exec)
{
	return exec->backoff && exec->backoff->count > 0 ? exec->backoff : &default_backoff;
}

static int64_t later(int64_t delay_ms, int64_t retry_after_ms)
{
	return time_now_ms() + (retry_after_ms > delay_ms ? retry_after_ms : delay_ms);
}

int64_t resume_store_incomplete(struct execution *exec, const struct node_info *failed,
				const cJSON *error, enum incomplete_kind kind,
				const struct incomplete_plan *plan)
{
	const struct retry_backoff *backoff = backoff_of(exec);
	_cleanup_json_ cJSON *state = state_build(exec, failed, kind);
	int64_t next_attempt_at = 0, id = 0;
	int max_attempts = plan->max_attempts;
	int64_t retry_interval_ms = plan->interval_ms;
	struct store_incomplete record;
	int r;

	if (max_attempts < 0) /* the backoff schedule */
		max_attempts = (int)backoff->count;
	if (max_attempts > 0 && plan->attempt_now)
		next_attempt_at = time_now_ms();
	else if (max_attempts > 0)
		next_attempt_at =
			later(retry_interval_ms > 0 ? retry_interval_ms : backoff->delays_ms[0],
			      plan->retry_after_ms);
	record = (struct store_incomplete){
		.scenario = exec->scenario->name,
		.execution_id = exec->id,
		.origin_execution_id = exec->origin_execution_id,
		.status = max_attempts > 0 ? "pending" : "unresolved",
		.module_id = failed->node->id,
		.error = error,
		.snapshot = exec->snapshot,
		.scenario_path = exec->scenario->path,
		.state = state,
		.max_attempts = max_attempts,
		.retry_interval_ms = retry_interval_ms,
		.next_attempt_at = next_attempt_at,
	};
	if (!exec->snapshot)
		return -EINVAL;

	/* A resumed run that fails again writes the failure back into the record
	 * it resumes, so one failing bundle stays one record with its attempts. */
	if (exec->resumed_incomplete && !exec->resumed_replaced) {
		record.next_attempt_at =
			plan->attempt_now && exec->resume_attempts + 1 < exec->resume_max_attempts ?
				time_now_ms() :
				resume_next_attempt(exec, exec->resume_attempts + 1,
						    exec->resume_max_attempts,
						    exec->resume_interval_ms, plan->retry_after_ms);
		record.status = record.next_attempt_at > 0 ? "pending" : "unresolved";
		r = store_incomplete_replace(exec->env->store, exec->resumed_incomplete, &record);
		if (r < 0)
			return r;
		exec->resumed_replaced = true;
		id = exec->resumed_incomplete;
	} else {
		r = store_incomplete_insert(exec->env->store, &record, &id);
		if (r < 0)
			return r;
	}
	if (!exec->first_incomplete)
		exec->first_incomplete = id;
	return id;
}

int64_t resume_next_attempt(const struct execution *exec, int attempts, int max_attempts,
			    int64_t interval_ms, int64_t retry_after_ms)
{
	const struct retry_backoff *backoff = backoff_of(exec);

	if (attempts >= max_attempts)
		return 0;
	if (interval_ms > 0)
		return later(interval_ms, retry_after_ms);
	if (attempts >= (int)backoff->count)
		return 0;
	return later(backoff->delays_ms[attempts], retry_after_ms);
}

struct node_info *resume_find_node(struct execution *exec, const char *id)
{
	for (size_t i = 0; i < exec->node_count; i++)
		if (streq(exec->nodes[i].node->id, id))
			return &exec->nodes[i];
	return NULL;
}

static struct frame *push(struct execution *exec, enum frame_kind kind, const struct node_info *ni,
			  const struct frame *below)
{
	struct frame *f = xcalloc(1, sizeof(*f));

	f->kind = kind;
	f->flow = ni->flow;
	f->index = ni->index;
	f->below = exec->top;
	exec->top = f;
	/* The path of a frame is its parent's, plus the bundle an OUTPUTS
	 * parent was handing on. */
	if (below && below->kind == FRAME_OUTPUTS) {
		f->own = (struct binding){
			.id = below->flow->nodes[below->index]->id,
			.bundle = cJSON_GetArrayItem(below->outputs, below->next_current),
			.parent = below->ctx,
		};
		f->ctx = &f->own;
	} else if (below) {
		f->ctx = below->ctx;
	}
	return f;
}

static int restore_aggregations(struct execution *exec, struct frame *f, const cJSON *list,
				char **reterr_msg)
{
	struct aggregation **tail = &f->aggregations;
	const cJSON *a;

	cJSON_ArrayForEach(a, list) {
		const char *id = json_get_string(a, "aggregator");
		struct node_info *ni = id ? resume_find_node(exec, id) : NULL;
		const cJSON *keys = cJSON_GetObjectItem(a, "keys");

		if (!ni || !ni->node->desc || ni->node->desc->kind != MODULE_AGGREGATOR) {
			*reterr_msg = xasprintf("the aggregator '%s' is no longer in the scenario",
						id ? id : "?");
			return -EINVAL;
		}
		*tail = xcalloc(1, sizeof(**tail));
		(*tail)->aggregator = ni;
		(*tail)->partial = json_get_bool(a, "partial", true);
		(*tail)->values = cJSON_Duplicate(cJSON_GetObjectItem(a, "values"), true);
		if (!cJSON_IsArray((*tail)->values)) {
			cJSON_Delete((*tail)->values);
			(*tail)->values = cJSON_CreateArray();
		}
		(*tail)->keys = cJSON_IsArray(keys) ? cJSON_Duplicate(keys, true) : NULL;
		tail = &(*tail)->next;
	}
	return 0;
}

static bool is_module(const struct node_info *ni)
{
	return ni->node->kind == FLOW_MODULE;
}

struct ref_check {
	const struct frame *top;
	const char *bad;
};

static int check_ref(void *userdata, const char *root, size_t offset)
{
	static const char *const context_roots[] = { "execution", "scenario", "bundle",
						     "error",	  "now",      NULL };
	struct ref_check *check = userdata;

	(void)offset;
	for (size_t i = 0; context_roots[i]; i++)
		if (streq(root, context_roots[i]))
			return 0;
	if (context_lookup(check->top->ctx, root))
		return 0;
	check->bad = root;
	return 1;
}

static int check_template_refs(const struct template *t, struct ref_check *check)
{
	if (!t)
		return 0;
	if (t->kind == TEMPLATE_MAPPING)
		return mapping_foreach_ref(t->mapping, check_ref, check);
	for (size_t i = 0; i < t->count; i++)
		if (check_template_refs(t->children[i], check))
			return 1;
	return 0;
}

/* With the current file, the failed module's mappings must still find what
 * they read on the stored path. */
static int check_failed_module(const struct frame *top, const struct node_info *ni,
			       char **reterr_msg)
{
	struct ref_check check = { .top = top };

	if ((ni->node->when && mapping_foreach_ref(ni->node->when, check_ref, &check)) ||
	    check_template_refs(ni->node->with, &check)) {
		*reterr_msg = xasprintf("module '%s' maps module '%s', whose output is not part of "
					"the stored execution",
					ni->node->id, check.bad);
		return -EINVAL;
	}
	return 0;
}

static int restore_frame(struct execution *exec, const cJSON *fj, bool last, char **reterr_msg)
{
	const char *kind = json_get_string(fj, "kind");
	const char *id = json_get_string(fj, "node");
	struct node_info *ni = id ? resume_find_node(exec, id) : NULL;
	const struct frame *below = exec->top;
	struct frame *f;

	if (!kind || !id) {
		*reterr_msg = xstrdup("the stored state is damaged (a frame without kind or node)");
		return -EINVAL;
	}
	if (!ni) {
		*reterr_msg = xasprintf("module '%s' is no longer in the scenario", id);
		return -EINVAL;
	}
	if (streq(kind, "outputs") && is_module(ni) && !last) {
		cJSON *outputs;

		f = push(exec, FRAME_OUTPUTS, ni, below);
		outputs = cJSON_Duplicate(cJSON_GetObjectItem(fj, "outputs"), true);
		if (!cJSON_IsArray(outputs)) {
			cJSON_Delete(outputs);
			outputs = cJSON_CreateArray();
		}
		walk_frame_set_outputs(f, outputs, (int)json_get_int(fj, "next", -1));
		f->next_current = (int)json_get_int(fj, "current", 0);
		f->is_trigger = json_get_bool(fj, "trigger", false);
		return restore_aggregations(exec, f, cJSON_GetObjectItem(fj, "aggregations"),
					    reterr_msg);
	}
	if (streq(kind, "routes") && ni->node->kind == FLOW_ROUTER && !last) {
		f = push(exec, FRAME_ROUTES, ni, below);
		f->route = (size_t)json_get_int(fj, "route", (int64_t)ni->node->route_count + 1);
		f->any_route_passed = json_get_bool(fj, "any", true);
		return 0;
	}
	if (streq(kind, "handler") && is_module(ni) && ni->node->on_error && !last) {
		f = push(exec, FRAME_HANDLER, ni, below);
		f->failed = ni;
		f->error = cJSON_Duplicate(cJSON_GetObjectItem(fj, "error"), true);
		return 0;
	}
	if (streq(kind, "branch") && is_module(ni) && last) {
		int64_t seq = json_get_int(fj, "seq", 1);

		f = push(exec, FRAME_BRANCH, ni, below);
		/* The module runs as the same bundle number, so its idempotency
		 * key is the one the failed attempt used. */
		ni->bundles_in = seq > 0 ? seq - 1 : 0;
		exec->resumed_node = ni;
		return check_failed_module(f, ni, reterr_msg);
	}
	*reterr_msg = xasprintf("module '%s' no longer has the place it had in the flow "
				"(stored as %s)",
				id, kind);
	return -EINVAL;
}

int resume_restore(struct execution *exec, const cJSON *state, char **reterr_msg)
{
	const cJSON *frames = cJSON_GetObjectItem(state, "frames");
	int count = cJSON_GetArraySize(frames);
	int i = 0, r;
	const cJSON *fj;

	if (json_get_int(state, "version", 0) != STATE_VERSION || count < 1) {
		*reterr_msg = xstrdup("the stored state is not one this scenariod can resume");
		return -EINVAL;
	}
	/* The module that failed is the one a person looks for first. */
	fj = cJSON_GetArrayItem(frames, count - 1);
	if (!json_get_string(fj, "node") || !resume_find_node(exec, json_get_string(fj, "node"))) {
		*reterr_msg =
			xasprintf("module '%s', where the execution failed, is no longer in "
				  "the scenario",
				  json_get_string(fj, "node") ? json_get_string(fj, "node") : "?");
		return -EINVAL;
	}
	cJSON_ArrayForEach(fj, frames) {
		r = restore_frame(exec, fj, ++i == count, reterr_msg);
		if (r < 0) {
			walk_clear(exec);
			return r;
		}
	}
	exec->bundle_index = json_get_int(state, "bundle_index", 1);
	exec->bundle_total = json_get_int(state, "bundle_total", 1);
	return 0;
}
