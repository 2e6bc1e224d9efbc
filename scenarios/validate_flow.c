/* SPDX-License-Identifier: MIT */
/*
 * The flow: module entries, routers with their routes, and error handler
 * routes (scenario-format.md "Module entries", "Errors"). Walks the YAML
 * lists in file order, building flow nodes and keeping the scope of ids a
 * mapping may read (validate_refs.c) in step with the path: a route sees
 * what came before its router, a handler flow what came before the failing
 * module, and nothing seen inside a route or handler leaks out of it.
 *
 * Structural rules checked here: ids, the first entry is the trigger (any
 * module may be first, as Fusion allows an on-demand scenario to start with
 * an action; a trigger anywhere else is an error), a router is never first
 * and ends its flow, at most one fallback route, the entry and nesting
 * limits, and the handler's directive with what it needs.
 */
#include <stdlib.h>
#include <string.h>

#include "modules/errors.h"
#include "modules/module.h"
#include "modules/registry.h"
#include "scenarios/internal.h"
#include "scenarios/mapping.h"
#include "util/diag.h"
#include "util/units.h"
#include "util/xalloc.h"

#define MAX_RETRY_ATTEMPTS 100
#define MAX_RETRY_INTERVAL_MS ((int64_t)31 * 86400 * 1000)

static const char *const reserved_ids[] = {
	"execution", "scenario", "now", "error", "bundle", NULL,
};

static void load_entry_into(struct loader *l, const struct yaml_node *entry, struct flow *flow,
			    bool first);

static void node_free(struct flow_node *node);

static void handler_free(struct error_handler *h)
{
	if (!h)
		return;
	validate_flow_done(&h->flow);
	template_free(h->resume_output);
	free(h);
}

static void node_free(struct flow_node *node)
{
	if (!node)
		return;
	free(node->id);
	free(node->label);
	mapping_free(node->when);
	free(node->module_name);
	free(node->connection);
	template_free(node->with);
	handler_free(node->on_error);
	for (size_t i = 0; i < node->route_count; i++) {
		free(node->routes[i].label);
		mapping_free(node->routes[i].when);
		validate_flow_done(&node->routes[i].flow);
	}
	free(node->routes);
	free(node);
}

void validate_flow_done(struct flow *flow)
{
	for (size_t i = 0; i < flow->count; i++)
		node_free(flow->nodes[i]);
	free(flow->nodes);
	*flow = (struct flow){ 0 };
}

static bool valid_id(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > LOADER_MAX_ID)
		return false;
	if (id[0] >= '1' && id[0] <= '9')
		return strspn(id, "0123456789") == len;
	if (!(id[0] == '_' || (id[0] >= 'a' && id[0] <= 'z')))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

static void load_id(struct loader *l, struct flow_node *node, const struct yaml_node *entry)
{
	const struct yaml_node *value = yaml_node_get(entry, "id");
	const char *id;

	if (!yaml_node_get_pair(entry, "id")) {
		loader_error(l, entry, "missing 'id': every entry has one, such as 'id: 1'");
		return;
	}
	id = loader_text(l, value, "'id'");
	if (!id)
		return;
	if (!valid_id(id)) {
		loader_error(l, value,
			     "id '%s' is not valid: use a positive integer or a name matching "
			     "[a-z_][a-z0-9_]* (at most %d characters)",
			     id, LOADER_MAX_ID);
		return;
	}
	for (size_t i = 0; reserved_ids[i]; i++)
		if (streq(id, reserved_ids[i])) {
			loader_error(l, value,
				     "id '%s' is reserved: mappings read {{%s.…}} as a "
				     "context value",
				     id, id);
			return;
		}
	node->id = xstrdup(id);
	validate_refs_define(l, node);
}

static void load_label(struct loader *l, const struct yaml_node *value, char **ret)
{
	const char *text;

	if (yaml_node_is_null(value))
		return;
	text = loader_text(l, value, "'label'");
	if (text)
		*ret = xstrdup(text);
}

/* `when:` on an entry or a route: one mapping whose truth passes a bundle. */
static struct mapping *load_when(struct loader *l, const struct yaml_node *value,
				 struct position *ret_pos)
{
	if (!value)
		return NULL;
	*ret_pos = loader_pos(value);
	if (value->kind != YAML_NODE_SCALAR || yaml_node_is_null(value)) {
		loader_error(l, value, "'when' must be a condition such as \"{{1.size > 0}}\"");
		return NULL;
	}
	return template_compile(l, value);
}

static void load_error_types(struct loader *l, struct error_handler *h,
			     const struct yaml_node *node)
{
	const char *names[_ERROR_TYPE_MAX + 1] = { NULL };
	const struct yaml_node *const *items = &node;
	size_t count = 1;

	for (int t = 0; t < _ERROR_TYPE_MAX; t++)
		names[t] = error_type_to_string(t);
	if (node->kind == YAML_NODE_SEQUENCE) {
		items = (const struct yaml_node *const *)node->items;
		count = node->count;
	}
	if (count == 0 || yaml_node_is_null(node)) {
		loader_error(l, node, "on_error: 'errors' must name at least one error type");
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const char *name = loader_text(l, items[i], "an error type");
		const char *hint;
		int type;

		if (!name)
			continue;
		type = error_type_from_string(name);
		if (type >= 0) {
			h->error_types |= 1u << type;
			continue;
		}
		hint = diag_did_you_mean(name, names);
		if (hint)
			loader_error(l, items[i], "unknown error type '%s' (did you mean '%s'?)",
				     name, hint);
		else
			loader_error(l, items[i], "unknown error type '%s'", name);
	}
}

static void load_retry(struct loader *l, struct error_handler *h, const struct yaml_node *node)
{
	static const char *const keys[] = { "attempts", "interval", NULL };
	const struct yaml_node *attempts, *interval;
	int64_t n;

	h->retry_attempts = 3; /* Fusion's defaults for "Automatically complete execution" */
	h->retry_interval_ms = 15 * 60 * 1000;
	if (yaml_node_is_null(node))
		return;
	if (node->kind != YAML_NODE_MAPPING) {
		loader_error(l, node, "on_error: 'retry' must be a map {attempts: N, interval: D}");
		return;
	}
	loader_keys_check(l, node, keys, "retry: ");
	attempts = yaml_node_get(node, "attempts");
	interval = yaml_node_get(node, "interval");
	if (attempts) {
		if (yaml_node_get_int(attempts, &n) < 0 || n < 1 || n > MAX_RETRY_ATTEMPTS) {
			_cleanup_free_ char *got = loader_describe(attempts);

			loader_error(l, attempts,
				     "retry.attempts: expected an integer from 1 to %d, "
				     "got %s",
				     MAX_RETRY_ATTEMPTS, got);
		} else {
			h->retry_attempts = (int)n;
		}
	}
	if (interval) {
		if (interval->kind != YAML_NODE_SCALAR ||
		    units_parse_duration(interval->value, &n) < 0 || n <= 0 ||
		    n > MAX_RETRY_INTERVAL_MS) {
			_cleanup_free_ char *got = loader_describe(interval);

			loader_error(l, interval,
				     "retry.interval: expected a duration like '15m' "
				     "(at most 31d), got %s",
				     got);
		} else {
			h->retry_interval_ms = n;
		}
	}
}

static void load_directive(struct loader *l, struct error_handler *h, const struct yaml_node *node)
{
	static const char *const names[] = {
		"rollback", "commit", "resume", "ignore", "break", NULL,
	};
	const char *name = loader_text(l, node, "'directive'");
	const char *hint;
	int d;

	if (!name)
		return;
	d = directive_from_string(name);
	if (d > DIRECTIVE_NONE) {
		h->directive = d;
		return;
	}
	hint = diag_did_you_mean(name, names);
	loader_error(l, node,
		     "unknown directive '%s'%s%s%s: rollback, commit, resume, ignore or break",
		     name, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

/* What a directive needs from the rest of the handler and the settings. */
static void check_directive(struct loader *l, const struct error_handler *h,
			    const struct yaml_node *y)
{
	const struct yaml_node *directive = yaml_node_get(y, "directive");
	const struct yaml_pair *retry = yaml_node_get_pair(y, "retry");
	const struct yaml_pair *output = yaml_node_get_pair(y, "output");
	const struct yaml_node *si = l->store_incomplete;

	if (!directive && !yaml_node_get_pair(y, "flow"))
		loader_error(l, y, "on_error needs a 'flow', a 'directive' or both");
	if (retry && h->directive != DIRECTIVE_BREAK)
		loader_error(l, retry->key, "on_error: 'retry' only goes with directive 'break'");
	if (output && h->directive != DIRECTIVE_RESUME)
		loader_error(l, output->key,
			     "on_error: 'output' only goes with directive 'resume'");
	if (h->directive == DIRECTIVE_RESUME && !output)
		loader_error(l, directive,
			     "directive 'resume' needs 'output': what the failed "
			     "module returns instead");
	if (h->directive != DIRECTIVE_BREAK || l->scenario->settings.store_incomplete)
		return;
	if (si)
		loader_error(l, directive,
			     "directive 'break' needs settings.store_incomplete: true "
			     "(it is false at %d:%d)",
			     si->line, si->column);
	else
		loader_error(l, directive,
			     "directive 'break' needs settings.store_incomplete: true "
			     "(settings do not set it, and it is false by default)");
}

/* Loads `on_error:` of `owner`. The handler flow runs on the failing
 * module's input path, so it sees the same scope as the module did. */
static struct error_handler *load_handler(struct loader *l, const struct yaml_node *y)
{
	static const char *const keys[] = { "flow", "directive", "errors", "retry", "output", NULL };
	struct error_handler *h = xcalloc(1, sizeof(*h));
	const struct flow_node *owner = l->current;
	const struct yaml_node *node;
	size_t mark = l->scope_count;

	h->pos = loader_pos(y);
	if (y->kind != YAML_NODE_MAPPING) {
		loader_error(l, y, "'on_error' must be a map with 'flow' and/or 'directive'");
		return h;
	}
	loader_keys_check(l, y, keys, "on_error: ");
	if ((node = yaml_node_get(y, "directive")))
		load_directive(l, h, node);
	if ((node = yaml_node_get(y, "errors")))
		load_error_types(l, h, node);
	if (yaml_node_get_pair(y, "retry"))
		load_retry(l, h, yaml_node_get(y, "retry"));
	l->error_scope++;
	if ((node = yaml_node_get(y, "output"))) {
		h->resume_output = template_build(l, node);
	}
	if (yaml_node_get_pair(y, "flow")) {
		validate_flow_load(l, yaml_node_get(y, "flow"), &h->flow, false, true);
		validate_refs_reset(l, mark);
	}
	l->error_scope--;
	l->current = owner;
	check_directive(l, h, y);
	return h;
}

static void load_route(struct loader *l, struct route *route, const struct yaml_node *y,
		       const struct yaml_node **fallback)
{
	static const char *const keys[] = { "label", "when", "fallback", "flow", NULL };
	const struct yaml_node *fb = yaml_node_get(y, "fallback");
	const struct flow_node *router = l->current;
	bool b = false;

	route->pos = loader_pos(y);
	if (y->kind != YAML_NODE_MAPPING) {
		loader_error(l, y,
			     "a route is a map with 'flow' and optionally 'label', 'when' "
			     "or 'fallback'");
		return;
	}
	loader_keys_check(l, y, keys, "route: ");
	load_label(l, yaml_node_get(y, "label"), &route->label);
	route->when = load_when(l, yaml_node_get(y, "when"), &route->when_pos);
	if (fb && yaml_node_get_bool(fb, &b) < 0) {
		_cleanup_free_ char *got = loader_describe(fb);

		loader_error(l, fb, "route: 'fallback' must be true or false, got %s", got);
	}
	route->fallback = b;
	if (b && *fallback)
		loader_error(l, fb,
			     "only one route may be the fallback (the first one is at %d:%d)",
			     (*fallback)->line, (*fallback)->column);
	else if (b)
		*fallback = y;
	if (b && route->when)
		loader_error(l, yaml_node_get(y, "when"),
			     "the fallback route takes the bundles no other route took: it has "
			     "no 'when'");
	if (!yaml_node_get_pair(y, "flow"))
		loader_error(l, y, "route: missing 'flow'");
	else
		validate_flow_load(l, yaml_node_get(y, "flow"), &route->flow, false, false);
	l->current = router;
}

static void load_router(struct loader *l, struct flow_node *node, const struct yaml_node *y)
{
	const struct yaml_node *fallback = NULL;
	size_t mark = l->scope_count;

	node->kind = FLOW_ROUTER;
	if (y->kind != YAML_NODE_SEQUENCE || y->count == 0) {
		loader_error(l, y, "'router' must be a non-empty list of routes");
		return;
	}
	node->routes = xcalloc(y->count, sizeof(*node->routes));
	for (size_t i = 0; i < y->count; i++, node->route_count++) {
		load_route(l, &node->routes[i], y->items[i], &fallback);
		validate_refs_reset(l, mark);
	}
}

static void load_connection(struct loader *l, struct flow_node *node, const struct yaml_node *entry)
{
	const struct yaml_pair *pair = yaml_node_get_pair(entry, "connection");
	_cleanup_free_ char *name = loader_node_name(node);
	const char *text;

	if (!pair) {
		if (node->desc && node->desc->needs_connection)
			loader_error(l, entry, "%s: missing 'connection' (the %s app needs one)",
				     name, node->desc->app);
		return;
	}
	if (node->desc && !node->desc->needs_connection) {
		loader_error(l, pair->key, "%s takes no 'connection'", name);
		return;
	}
	text = loader_text(l, pair->value, "'connection'");
	if (text)
		node->connection = xstrdup(text);
}

static void load_module_name(struct loader *l, struct flow_node *node,
			     const struct yaml_node *value, bool first)
{
	const char *name = loader_text(l, value, "'module'");
	const char *hint;

	if (!name)
		return;
	node->module_name = xstrdup(name);
	node->desc = registry_find(name);
	if (!node->desc) {
		hint = diag_did_you_mean(name, registry_names());
		if (hint)
			loader_error(l, value, "unknown module '%s' (did you mean '%s'?)", name,
				     hint);
		else
			loader_error(l, value, "unknown module '%s'", name);
		return;
	}
	if (!first && (node->desc->kind == MODULE_TRIGGER_POLLING ||
		       node->desc->kind == MODULE_TRIGGER_INSTANT))
		loader_error(l, value,
			     "'%s' is a trigger: it can only be the first module of the "
			     "scenario",
			     name);
}

static void load_module(struct loader *l, struct flow_node *node, const struct yaml_node *entry,
			bool first)
{
	const struct yaml_node *with = yaml_node_get(entry, "with");
	const struct yaml_node *on_error = yaml_node_get(entry, "on_error");
	_cleanup_free_ char *source = NULL;
	long at;

	node->kind = FLOW_MODULE;
	load_module_name(l, node, yaml_node_get(entry, "module"), first);
	load_connection(l, node, entry);
	if (first && yaml_node_get_pair(entry, "when"))
		loader_error(l, yaml_node_get_pair(entry, "when")->key,
			     "the first module takes no 'when': a filter sits on the link into a "
			     "module, and nothing links into the trigger");
	else
		node->when = load_when(l, yaml_node_get(entry, "when"), &node->when_pos);

	if (!yaml_node_is_null(with) && with->kind != YAML_NODE_MAPPING) {
		/* Checking fields against a `with` that is not a map would only
		 * repeat this one mistake as missing fields. */
		loader_error(l, with, "'with' must be a map of the module's fields");
		node->with = template_new_object(loader_pos(with));
	} else if (yaml_node_is_null(with)) {
		node->with = template_new_object(loader_pos(with ? with : entry));
		if (node->desc)
			validate_fields_check(l, node, entry, NULL);
	} else {
		node->with = template_build(l, with);
		if (node->desc)
			validate_fields_check(l, node, entry, with);
	}

	if (on_error)
		node->on_error = load_handler(l, on_error);

	/* Past an aggregator the path forgets its source and what followed it:
	 * those bundles were folded into the aggregate. */
	if (node->desc && node->desc->kind == MODULE_AGGREGATOR) {
		source = validate_fields_source(node);
		at = source ? validate_refs_find(l, source) : -1;
		if (at >= 0)
			validate_refs_reset(l, (size_t)at);
	}
	validate_refs_push(l, node->id);
}

static void load_entry_into(struct loader *l, const struct yaml_node *entry, struct flow *flow,
			    bool first)
{
	static const char *const keys[] = {
		"id", "module", "router", "connection", "with", "when", "on_error", "label", NULL,
	};
	static const char *const not_on_router[] = { "connection", "with", "on_error", NULL };
	const struct yaml_pair *module = yaml_node_get_pair(entry, "module");
	const struct yaml_pair *router = yaml_node_get_pair(entry, "router");
	struct flow_node *node;

	if (entry->kind != YAML_NODE_MAPPING) {
		loader_error(l, entry,
			     "a flow entry is a map with 'id' and 'module' (or 'router')");
		return;
	}
	node = xcalloc(1, sizeof(*node));
	node->pos = loader_pos(entry);
	flow->nodes[flow->count++] = node;
	l->current = node;
	loader_keys_check(l, entry, keys, "");
	load_id(l, node, entry);
	load_label(l, yaml_node_get(entry, "label"), &node->label);

	if (module && router) {
		loader_error(l, router->key,
			     "an entry is either a 'module' or a 'router', not both");
		return;
	}
	if (!module && !router) {
		node->kind = FLOW_MODULE;
		loader_error(l, entry, "entry needs 'module' (or 'router')");
		return;
	}
	if (module) {
		load_module(l, node, entry, first);
		return;
	}
	if (first)
		loader_error(l, router->key,
			     "a router cannot be the first entry: the flow starts "
			     "with the trigger");
	for (size_t i = 0; not_on_router[i]; i++) {
		const struct yaml_pair *p = yaml_node_get_pair(entry, not_on_router[i]);

		if (p)
			loader_error(l, p->key, "a router takes no '%s'", not_on_router[i]);
	}
	node->when = load_when(l, yaml_node_get(entry, "when"), &node->when_pos);
	load_router(l, node, router->value);
}

void validate_flow_load(struct loader *l, const struct yaml_node *node, struct flow *flow, bool top,
			bool allow_empty)
{
	bool reported_router = false;

	if (!top && l->nesting >= SCENARIO_MAX_NESTING) {
		loader_error(l, node, "routers and error handlers nest deeper than %d levels",
			     SCENARIO_MAX_NESTING);
		return;
	}
	if (yaml_node_is_null(node) || node->kind != YAML_NODE_SEQUENCE ||
	    (node->count == 0 && !allow_empty)) {
		loader_error(l, node, "'flow' must be a non-empty list of module entries");
		return;
	}
	flow->nodes = xcalloc(node->count ? node->count : 1, sizeof(*flow->nodes));
	l->nesting += !top;
	for (size_t i = 0; i < node->count; i++) {
		const struct flow_node *prev = flow->count ? flow->nodes[flow->count - 1] : NULL;

		if (l->entries++ >= SCENARIO_MAX_MODULES) {
			if (!l->too_many_entries)
				loader_error(l, node->items[i],
					     "more than %d modules in the scenario",
					     SCENARIO_MAX_MODULES);
			l->too_many_entries = true;
			break;
		}
		/* Fusion's routers end their chain; what would run after every
		 * route is better written into the routes. */
		if (prev && prev->kind == FLOW_ROUTER && !reported_router) {
			loader_error(
				l, node->items[i],
				"nothing can follow a router (id %s at %d:%d) in its flow: put "
				"this entry in one of its routes",
				prev->id ? prev->id : "?", prev->pos.line, prev->pos.column);
			reported_router = true;
		}
		load_entry_into(l, node->items[i], flow, top && i == 0);
	}
	l->nesting -= !top;
}
