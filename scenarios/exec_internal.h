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
	const char *id;		      /* borrowed from the flow node */
	const cJSON *bundle;	      /* borrowed from the frame that owns the outputs */
	const struct binding *parent; /* borrowed: the bindings before this one */
};

/* Where a node sits, and what the run did with it (the summary). */
struct node_info {
	const struct flow_node *node; /* borrowed from the scenario */
	const struct flow *flow;      /* the flow that holds it */
	size_t index;		      /* its position in that flow */
	bool in_handler;	      /* inside an on_error flow: counts no operations */
	int64_t bundles_in;
	int64_t bundles_out;
	int64_t errors;
	int64_t warnings;
	cJSON *last_error;	      /* owned */
};

enum frame_kind {
	FRAME_BRANCH,  /* run flow->nodes[index] on the bundle path `ctx` */
	FRAME_OUTPUTS, /* walk the rest of the flow once per output bundle */
	FRAME_ROUTES,  /* hand the bundle to each route in turn */
	FRAME_HANDLER, /* an error handler flow is running; apply its directive after */
};

struct aggregation {
	const struct node_info *aggregator; /* borrowed */
	cJSON *values;			    /* owned: one item per collected bundle */
	cJSON *keys;			    /* owned: group_by value per item, or NULL */
	struct aggregation *next;	    /* owned */
};

struct frame {
	enum frame_kind kind;
	struct frame *below;	    /* owned by the stack */
	const struct flow *flow;    /* borrowed */
	size_t index;		    /* the node this frame is about */
	const struct binding *ctx;  /* the path before this frame's node */
	struct binding own;	    /* the binding this frame added, when ctx == &own */
	bool is_trigger;	    /* the first node of the flow, in a cycle */

	/* FRAME_OUTPUTS */
	cJSON *outputs;		    /* owned: array of bundles */
	int next;		    /* next bundle to hand on */
	struct aggregation *aggregations; /* owned: aggregators fed by this node */

	/* FRAME_ROUTES */
	size_t route;
	bool any_route_passed;

	/* FRAME_HANDLER */
	const struct node_info *failed; /* borrowed */
	cJSON *error;		    /* owned: {type, message, module} */
	cJSON *resume_outputs;	    /* owned: resume directive's stand-in output */
};

struct execution {
	const struct module_env *env;	   /* borrowed */
	const struct scenario *scenario;   /* borrowed */
	int64_t id;
	enum execution_status status;
	struct store_counters counters;
	int64_t started_monotonic_ms;
	int64_t now_ms;
	char *trigger;			   /* owned */

	struct node_info *nodes;	   /* owned: every module node, in file order */
	size_t node_count;

	struct frame *top;		   /* the walk's stack */
	struct module_run *in_flight;	   /* owned while a module runs */
	const struct node_info *in_flight_node;
	int64_t in_flight_operation;	   /* store id of its operation */

	int cycle;			   /* 1-based trigger cycle */
	bool trigger_emitted;		   /* the current cycle's trigger gave bundles */
	char *stored_cursor;		   /* owned: the trigger's cursor as the cycle found it */
	char *pending_cursor;		   /* owned: to store when the cycle commits */
	bool cycle_failed;		   /* something failed in this cycle */
	int64_t bundle_index;		   /* {{bundle.index}} */
	int64_t bundle_total;		   /* {{bundle.total}} */

	bool stopping;			   /* no more frames are walked */
	bool interrupted;
	char *interrupt_reason;		   /* owned */
	cJSON *error;			   /* owned: the error that decided the status */
	cJSON *log;			   /* owned: {module, level, message} lines */
	bool had_warning;

	cJSON *execution_json;		   /* owned: {{execution.*}} */
	cJSON *scenario_json;		   /* owned: {{scenario.*}} */
	cJSON *bundle_json;		   /* owned: {{bundle.*}} */

	uv_timer_t lease_timer;		   /* first tick starts the walk; then renews the claim */
	bool started;
	execution_done_fn *done;
	void *done_userdata;
};

/* walk.c */
void walk_advance(struct execution *exec);
void walk_start_cycle(struct execution *exec);
struct frame *walk_frame_pop(struct execution *exec);
void walk_clear(struct execution *exec);

/* executor.c */
void execution_finish(struct execution *exec);
struct node_info *execution_node_info(struct execution *exec, const struct flow_node *node);
void execution_record_error(struct execution *exec, const cJSON *error, bool decides_status);

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
