/* SPDX-License-Identifier: MIT */
/*
 * Private to the scenario loader (loader.c, settings.c, schedule.c,
 * template.c, validate_*.c): the state of one load. The loader walks the
 * YAML tree once, building the model and reporting every problem it meets;
 * references to modules that are not (yet) known are parked and settled
 * once every id in the file has been seen.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "scenarios/scenario.h"
#include "util/cleanup.h"
#include "util/yaml.h"

struct diag_list;
struct mapping;
struct tz;

/* What the loader accepts beyond scenario.h's limits. */
#define LOADER_MAX_DIAGS 200 /* problems reported per file; the rest are counted */
#define LOADER_MAX_ID 64 /* characters of a module id */
#define LOADER_MAX_NAME 128 /* characters of a scenario name */
#define LOADER_YAML_DEPTH 256 /* YAML nesting; routes and handlers need ~4 levels each */
#define LOADER_YAML_NODES 200000 /* YAML nodes, alias copies included */

/* An id as first defined in the file. */
struct id_def {
	const char *id; /* borrowed from its flow node */
	const struct flow_node *node;
};

/* A reference to something not in scope when it was met: either a module
 * that comes later (or on another path) or nothing at all, which only the
 * complete list of ids can tell apart. */
struct pending_ref {
	char *root; /* owned */
	struct position pos;
	char *user; /* owned: "module '3'", for the message */
	bool module_id; /* a FIELD_MODULE_ID value, not a mapping */
};

struct loader {
	struct diag_list *diags; /* borrowed */
	const char *file; /* borrowed; may be NULL */
	size_t first_diag; /* diags->count when this load started */
	size_t errors; /* reported or dropped */
	struct scenario *scenario; /* being built; owned by the caller of the load */
	struct tz *tz; /* owned: the scenario's zone once known */

	/* Where settings.store_incomplete was written, for the break check. */
	const struct yaml_node *store_incomplete;

	struct id_def *ids; /* owned array, every id in file order */
	size_t id_count, id_capacity;

	/* The ids whose output the current module can read: the modules
	 * before it on its path. A stack, reset when leaving a route. */
	const char **scope; /* owned array of borrowed ids */
	size_t scope_count, scope_capacity;

	struct pending_ref *pending; /* owned */
	size_t pending_count, pending_capacity;

	const struct flow_node *current; /* the entry whose values are checked */
	int nesting; /* routes and handler flows we are inside */
	int error_scope; /* > 0 where {{error.*}} exists */
	size_t entries; /* flow entries seen, for SCENARIO_MAX_MODULES */
	bool too_many_entries;
};

/* loader.c: reporting */
struct position loader_pos(const struct yaml_node *node);
void loader_error_at(struct loader *l, struct position pos, const char *fmt, ...) _printf_(3, 4);
void loader_error(struct loader *l, const struct yaml_node *at, const char *fmt, ...)
	_printf_(3, 4);
/* Reports every key of `map` not in `allowed` (NULL-terminated), with a
 * suggestion. `where` prefixes the message ("settings: ") or is "". */
void loader_keys_check(struct loader *l, const struct yaml_node *map, const char *const *allowed,
		       const char *where);
/* "'2'", "an empty value", "a map", "a list": how a value is shown in messages. */
char *loader_describe(const struct yaml_node *node);
/* "module 'files.write' (id 3)" or "router (id 4)" for messages; caller frees. */
char *loader_node_name(const struct flow_node *node);
/* A scalar's text, or NULL (reported as "`what` must be text") for anything else. */
const char *loader_text(struct loader *l, const struct yaml_node *node, const char *what);

/* template.c */
/* Where byte `offset` of a scalar's text is in the file: exact for a
 * scalar on one line (plain, or quoted without escapes before the spot),
 * otherwise the scalar's own position. */
struct position loader_offset_pos(const struct yaml_node *scalar, size_t offset);
/* Compiles a scalar's text as a mapping, reporting syntax errors and
 * checking its references; NULL after a reported error. */
struct mapping *template_compile(struct loader *l, const struct yaml_node *scalar);
/* Builds a template from any YAML value; never NULL (errors are reported
 * and leave constant nulls in place). */
struct template *template_build(struct loader *l, const struct yaml_node *node);
/* An empty object template at `pos`. */
struct template *template_new_object(struct position pos);
bool template_has_mapping(const struct template *tmpl);
/* The value as JSON when the template holds no mapping; else NULL. */
cJSON *template_to_json(const struct template *tmpl);

/* settings.c */
void settings_init(struct scenario_settings *settings);
void settings_load(struct loader *l, const struct yaml_node *node);
/* `scenario:`, `description:` and `timezone:` (loads l->tz). */
void settings_load_header(struct loader *l, const struct yaml_node *root);

/* schedule.c */
void schedule_load(struct loader *l, const struct yaml_node *node);
void schedule_done(struct schedule *schedule);

/* validate_flow.c */
/* Loads the list of entries at `node` into `flow`. The top flow's first
 * entry is the trigger; handler flows may be empty. */
void validate_flow_load(struct loader *l, const struct yaml_node *node, struct flow *flow, bool top,
			bool allow_empty);
void validate_flow_done(struct flow *flow);

/* validate_fields.c */
/* Checks a module's `with` against its declared fields and runs its own
 * validate() hook on the constant ones. */
void validate_fields_check(struct loader *l, const struct flow_node *node,
			   const struct yaml_node *entry, const struct yaml_node *with);
/* The aggregator's source id as text, or NULL; caller frees. */
char *validate_fields_source(const struct flow_node *node);

/* validate_refs.c */
void validate_refs_push(struct loader *l, const char *id);
/* Forgets every id pushed after the scope had `count` entries. */
void validate_refs_reset(struct loader *l, size_t count);
/* Index of `id` in the scope, or -1. */
long validate_refs_find(const struct loader *l, const char *id);
/* Checks one reference root (or an aggregator's source when `module_id`). */
void validate_refs_root(struct loader *l, const char *root, struct position pos, bool module_id);
void validate_refs_mapping(struct loader *l, const struct mapping *mapping,
			   const struct yaml_node *scalar);
/* Registers a new id; reports a duplicate. */
void validate_refs_define(struct loader *l, const struct flow_node *node);
/* Settles the parked references once every id is known. */
void validate_refs_finish(struct loader *l);
void validate_refs_done(struct loader *l);
