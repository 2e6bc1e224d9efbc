/* SPDX-License-Identifier: MIT */
/*
 * The scenario model: what a YAML scenario file (scenario-format.md) loads
 * into. Loading validates everything that can be checked before a run and
 * reports every problem as FILE:LINE:COL; a struct scenario that exists is
 * valid. Every node keeps its line and column for runtime messages.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "modules/errors.h"

struct diag_list;
struct mapping;
struct module_desc;
struct flow_node;

/* Limits on what a scenario file can ask for. */
#define SCENARIO_MAX_FILE_SIZE (4 << 20) /* bytes of YAML */
#define SCENARIO_MAX_MODULES 1000 /* module entries, all routes together */
#define SCENARIO_MAX_NESTING 32 /* routers and error routes inside each other */

struct position {
	int line; /* 1-based */
	int column; /* 1-based */
};

/*
 * A `with:` tree (or `resume.output`, a router's output…) whose strings may
 * hold mappings. Evaluated per bundle into a cJSON tree.
 */
enum template_kind {
	TEMPLATE_CONSTANT, /* `constant` holds the value as written */
	TEMPLATE_MAPPING, /* a string with {{ }}: `mapping` */
	TEMPLATE_OBJECT, /* `keys`/`children` */
	TEMPLATE_ARRAY, /* `children` */
};

struct template
{
	enum template_kind kind;
	struct position pos;
	cJSON *constant; /* owned; TEMPLATE_CONSTANT */
	struct mapping *mapping; /* owned; TEMPLATE_MAPPING */
	char **keys; /* owned; TEMPLATE_OBJECT: one per child */
	struct template **children; /* owned */
	size_t count;
};

struct flow {
	struct flow_node **nodes; /* owned */
	size_t count;
};

enum directive {
	DIRECTIVE_NONE, /* not given: a flow alone acts as ignore; nothing at all: rollback */
	DIRECTIVE_ROLLBACK,
	DIRECTIVE_COMMIT,
	DIRECTIVE_RESUME,
	DIRECTIVE_IGNORE,
	DIRECTIVE_BREAK,
	_DIRECTIVE_MAX,
};

const char *directive_to_string(enum directive directive);
int directive_from_string(const char *name);

struct error_handler {
	struct position pos;
	struct flow flow; /* may be empty */
	enum directive directive;
	uint32_t error_types; /* bit per enum error_type; 0 = every type */
	struct template *resume_output; /* owned; DIRECTIVE_RESUME: the module's stand-in output */
	int retry_attempts; /* DIRECTIVE_BREAK: 0 = no automatic completion */
	int64_t retry_interval_ms;
};

struct route {
	struct position pos;
	char *label; /* owned; may be NULL */
	struct mapping *when; /* owned; NULL = no filter */
	struct position when_pos;
	bool fallback;
	struct flow flow;
};

enum flow_node_kind {
	FLOW_MODULE,
	FLOW_ROUTER,
};

struct flow_node {
	enum flow_node_kind kind;
	struct position pos;
	char *id; /* owned; unique in the scenario */
	char *label; /* owned; may be NULL */
	struct mapping *when; /* owned; filter on the link into this node; may be NULL */
	struct position when_pos;

	/* FLOW_MODULE */
	char *module_name; /* owned: "app.module" */
	const struct module_desc *desc; /* static */
	char *connection; /* owned; may be NULL */
	struct template *with; /* owned; an object template (possibly empty) */
	struct error_handler *on_error; /* owned; may be NULL */

	/* FLOW_ROUTER */
	struct route *routes; /* owned */
	size_t route_count;
};

enum schedule_kind {
	SCHEDULE_ON_DEMAND,
	SCHEDULE_INSTANT,
	SCHEDULE_INTERVAL,
	SCHEDULE_ONCE,
	SCHEDULE_DAILY,
	SCHEDULE_WEEKLY,
	SCHEDULE_MONTHLY,
	SCHEDULE_DATES,
	SCHEDULE_CRON,
};

struct schedule {
	enum schedule_kind kind;
	int64_t interval_ms; /* SCHEDULE_INTERVAL */
	int64_t *instants; /* owned: epoch ms (once, dates), in the scenario's time zone */
	size_t instant_count;
	int *times; /* owned: minutes after midnight (daily, weekly, monthly) */
	size_t time_count;
	uint8_t weekdays; /* bit 0 = Sunday (weekly) */
	uint32_t monthdays; /* bit d = day d (1..31); bit 0 = "last" (monthly) */
	char *cron; /* owned: the five fields as written */
};

struct scenario_settings {
	bool store_incomplete;
	bool sequential;
	int max_consecutive_errors;
	int max_cycles;
	int64_t timeout_ms;
	int64_t max_file_size;
	bool confidential;
	bool data_loss;
	bool auto_commit;
	bool commit_trigger_last;
};

struct scenario {
	char *name; /* owned */
	char *description; /* owned; may be NULL */
	char *path; /* owned: the file it was loaded from; may be NULL */
	char *source; /* owned: the file's text as loaded (the snapshot) */
	char *timezone; /* owned: IANA name; "UTC" by default */
	struct schedule schedule;
	struct scenario_settings settings;
	struct flow flow; /* flow.nodes[0] is the trigger */
};

/* Loads and validates a scenario from a file. On any problem returns
 * -EINVAL with every problem appended to `diags` (FILE:LINE:COL); I/O
 * failures also land in `diags` and return the errno. */
int scenario_load_file(const char *path, struct scenario **ret, struct diag_list *diags);
/* The same from text; `filename` is used in diagnostics and for the
 * default name (its stem). */
int scenario_load_string(const char *text, size_t len, const char *filename, struct scenario **ret,
			 struct diag_list *diags);
/* Accepts NULL; returns NULL. */
struct scenario *scenario_free(struct scenario *scenario);

/* Finds a module node by id anywhere in the scenario (routes and error
 * handler flows included); NULL when none. */
const struct flow_node *scenario_find_node(const struct scenario *scenario, const char *id);
/* The fields of `node` written as constants (no mapping inside): {field:
 * value}, for what is read before any run (an instant trigger's settings).
 * Caller frees. */
cJSON *scenario_node_constants(const struct flow_node *node);

/* Evaluates a template with a mapping scope (scenarios/mapping.h). Returns 0
 * and a new tree, or -EINVAL with a message naming the field and the
 * position (caller frees). */
struct mapping_scope;
int template_eval(const struct template *tmpl, const struct mapping_scope *scope, cJSON **ret,
		  char **reterr_msg);
struct template *template_free(struct template *tmpl);
