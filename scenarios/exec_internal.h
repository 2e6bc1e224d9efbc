/* SPDX-License-Identifier: MIT */
/*
 * Private to the executor (executor.c, walk.c, context.c, coerce.c): the
 * execution's state and the frames of its depth-first walk. See EXECUTOR.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "modules/errors.h"
#include "modules/module.h"
#include "scenarios/executor.h"
#include "scenarios/scenario.h"
#include "store/store.h"

struct mapping_scope;

/* One module's output bundle on the current path: what {{ID.…}} reads. */
struct binding {
	const char *id; /* borrowed from the flow node */
	const cJSON *bundle; /* borrowed from the frame that owns the outputs */
	const struct binding *parent; /* borrowed: the bindings before this one */
};

/* Where a node sits, and what the run did with it (the summary). */
struct node_info {
	const struct flow_node *node; /* borrowed from the scenario */
	const struct flow *flow; /* the flow that holds it */
	size_t index; /* its position in that flow */
	bool in_handler; /* inside an on_error flow: counts no operations */
	int64_t bundles_in;
	int64_t bundles_out;
	int64_t errors;
	int64_t warnings;
	cJSON *last_error; /* owned */
};

enum frame_kind {
	FRAME_BRANCH, /* run flow->nodes[index] on the bundle path `ctx` */
	FRAME_OUTPUTS, /* walk the rest of the flow once per output bundle */
	FRAME_ROUTES, /* hand the bundle to each route in turn */
	FRAME_HANDLER, /* an error handler flow is running; apply its directive after */
};

struct aggregation {
	const struct node_info *aggregator; /* borrowed */
	bool partial; /* restored for a resumed bundle: close only if fed */
	cJSON *values; /* owned: one item per collected bundle */
	cJSON *keys; /* owned: group_by value per item, or NULL */
	struct aggregation *next; /* owned */
};

struct frame {
	enum frame_kind kind;
	struct frame *below; /* owned by the stack */
	const struct flow *flow; /* borrowed */
	size_t index; /* the node this frame is about */
	const struct binding *ctx; /* the path before this frame's node */
	struct binding own; /* the binding this frame added, when ctx == &own */
	bool is_trigger; /* the first node of the flow, in a cycle */

	/* FRAME_OUTPUTS */
	cJSON *outputs; /* owned: array of bundles */
	int total; /* items in outputs, counted once (cJSON arrays are lists) */
	const cJSON *cursor; /* outputs' item number `next`, so handing on is O(1) */
	int next; /* next bundle to hand on */
	int next_current; /* the bundle the frames above are walking */
	struct aggregation *aggregations; /* owned: aggregators fed by this node */

	/* FRAME_ROUTES */
	size_t route;
	bool any_route_passed;

	/* FRAME_HANDLER */
	const struct node_info *failed; /* borrowed */
	cJSON *error; /* owned: {type, message, module} */
	cJSON *resume_outputs; /* owned: resume directive's stand-in output */
};

struct execution {
	const struct module_env *env; /* borrowed */
	const struct scenario *scenario; /* borrowed */
	int64_t id;
	enum execution_status status;
	struct store_counters counters;
	int64_t started_monotonic_ms;
	int64_t now_ms;
	char *trigger; /* owned */

	struct node_info *nodes; /* owned: every module node, in file order */
	size_t node_count;

	struct frame *top; /* the walk's stack */
	struct module_run *in_flight; /* owned while a module runs */
	const struct node_info *in_flight_node;
	int64_t in_flight_operation; /* store id of its operation */

	int cycle; /* 1-based trigger cycle */
	int64_t event_id; /* an instant trigger's event taken for this cycle; 0: none */
	cJSON *event; /* owned: its payload */
	bool event_unconsumed; /* the trigger did not emit it: back to the queue */
	cJSON *replay_events; /* owned: events a recovered execution held, [{id, cycle}] */
	bool trigger_emitted; /* the current cycle's trigger gave bundles */
	char *stored_cursor; /* owned: the trigger's cursor as the cycle found it */
	char *pending_cursor; /* owned: to store when the cycle commits */
	bool cycle_failed; /* something failed in this cycle */
	int64_t bundle_index; /* {{bundle.index}} */
	int64_t bundle_total; /* {{bundle.total}} */

	bool stopping; /* no more frames are walked */
	bool interrupted;
	bool suspending; /* execution_suspend(): store the rest before the next module */
	bool suspend_cancelled; /* the module in flight was cancelled for the stop */
	char *interrupt_reason; /* owned */
	cJSON *error; /* owned: the error that decided the status */
	cJSON *log; /* owned: {module, level, message} lines */
	bool had_warning;

	/* Incomplete executions: what this run stored, and what it resumes. */
	char *snapshot; /* owned: sha256 of the scenario text in the store */
	int64_t origin_execution_id; /* the first execution of a resumed chain (tags) */
	int64_t resumed_incomplete; /* the claimed record this run resumes; 0: none */
	bool resumed_replaced; /* its failure was written back into that record */
	const struct node_info *resumed_node; /* the failed module, until it runs again */
	int resume_attempts; /* the resumed record's attempts before this run */
	int resume_max_attempts; /* … its automatic attempts */
	int64_t resume_interval_ms; /* … its break interval (0: default backoff) */
	int64_t first_incomplete; /* the first record this run stored; 0: none */
	bool resumed_stack; /* the stack was restored from a state: no trigger cycle of its own */
	const struct retry_backoff *backoff; /* borrowed; NULL: the default schedule */
	bool stored_incomplete; /* default handling stored a record: status incomplete */

	/* Replaying a crashed execution's recorded operations to rebuild its
	 * walk (recovery); the first operation without a recorded end is where
	 * it stopped. */
	cJSON *replay; /* owned: operations_list of the store, or NULL */
	int replay_next;

	const struct tz *tz; /* the scenario's time zone: owned_tz or the caller's */
	struct tz *owned_tz; /* owned: loaded by this run when the caller had none */
	cJSON *execution_json; /* owned: {{execution.*}} */
	cJSON *scenario_json; /* owned: {{scenario.*}} */
	cJSON *bundle_json; /* owned: {{bundle.*}} */

	uv_timer_t lease_timer; /* first tick starts the walk; then renews the claim */
	bool started;
	execution_done_fn *done;
	void *done_userdata;
};

/* walk.c */
/* Makes `outputs` (taken) the frame's bundles, to hand on from item `next`. */
void walk_frame_set_outputs(struct frame *f, cJSON *outputs, int next);
void walk_advance(struct execution *exec);
void walk_start_cycle(struct execution *exec);
struct frame *walk_frame_pop(struct execution *exec);
void walk_clear(struct execution *exec);

/* executor.c */
void execution_finish(struct execution *exec);
struct node_info *execution_node_info(struct execution *exec, const struct flow_node *node);
void execution_record_error(struct execution *exec, const cJSON *error, bool decides_status);

/* resume.c: incomplete executions from the executor's side. */
enum incomplete_kind {
	INCOMPLETE_BUNDLE, /* the failing bundle only; the run goes on with the others */
	INCOMPLETE_REST, /* the run stops here: the bundles still to come go with it */
};
/* When a stored record is attempted again automatically. */
struct incomplete_plan {
	int max_attempts; /* -1: the backoff schedule; 0: none, a person decides */
	int64_t interval_ms; /* break's interval; 0: the backoff schedule */
	int64_t retry_after_ms; /* the remote side asked to wait at least this long */
	bool attempt_now; /* the first attempt is due at once (a stop, not a failure) */
};
/* Stores the walk as it stands (the top frame is the failed module) as an
 * incomplete execution. Returns the record id or a negative errno. */
int64_t resume_store_incomplete(struct execution *exec, const struct node_info *failed,
				const cJSON *error, enum incomplete_kind kind,
				const struct incomplete_plan *plan);
/* Rebuilds the stack from a stored state; -EINVAL with a message when the
 * scenario no longer fits it. */
int resume_restore(struct execution *exec, const cJSON *state, char **reterr_msg);
struct node_info *resume_find_node(struct execution *exec, const char *id);
/* The next automatic attempt after `attempts` failed ones (epoch ms), or 0
 * when the record should wait for a person now; never sooner than
 * `retry_after_ms` from now. */
int64_t resume_next_attempt(const struct execution *exec, int attempts, int max_attempts,
			    int64_t interval_ms, int64_t retry_after_ms);

/* trigger_events.c: instant triggers and the webhook queue. */
bool trigger_events_instant(const struct flow_node *node);
/* How many events one run takes: 100 for `schedule: instant`, else max_cycles. */
int trigger_events_cycle_limit(const struct scenario *scenario);
/* Whether another event waits (a cycle that would find the queue empty is
 * not started: it would count an operation for nothing). */
bool trigger_events_waiting(struct execution *exec);
/* Takes this cycle's event (none when the queue is empty). */
void trigger_events_take(struct execution *exec, const struct node_info *trigger);
/* The cycle is over: its event is acknowledged or given back. */
void trigger_events_end_cycle(struct execution *exec);
/* Recovery: takes over the events the dead run held. */
int trigger_events_adopt(struct execution *exec);
/* Recovery replayed this cycle's trigger: its event was consumed when its
 * bundle is on record, else it goes back to the queue. */
void trigger_events_replayed(struct execution *exec, bool on_record);
/* Gives back the events a run holds and never reached. */
void trigger_events_release_rest(struct execution *exec);

/* context.c: the mapping scope of a bundle path. */
struct eval_context {
	struct execution *exec;
	const struct binding *ctx;
	const cJSON *error; /* {{error.*}} inside handlers; NULL elsewhere */
};
void context_scope_init(struct mapping_scope *scope, struct eval_context *ectx);
const cJSON *context_lookup(const struct binding *ctx, const char *id);

/* coerce.c: mapped input checked and converted to the declared field types. */
int coerce_input(const struct module_desc *desc, cJSON *input, char **reterr_msg);
