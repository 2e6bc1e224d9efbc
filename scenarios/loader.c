/* SPDX-License-Identifier: MIT */
/*
 * Loading a scenario file (scenario-format.md) into the model of
 * scenario.h: reading the file within its size limit, parsing the YAML,
 * the order in which the parts are checked (settings before the flow, since
 * `break` handlers depend on store_incomplete), and reporting. Every problem
 * becomes a FILE:LINE:COL diagnostic, sorted by position; a scenario is
 * returned only when there were none. Also the model's own small API:
 * freeing, finding a node, directive names.
 *
 * Positions are libyaml's, 1-based, columns counted in characters. A
 * problem inside a string (a mapping's syntax error or reference) is placed
 * at the spot within it when the string sits on one line: a plain scalar's
 * column plus the characters before the spot, a quoted one's plus one more
 * for the quote (exact unless an escape comes before the spot). Block
 * scalars (| and >) and strings folded over several lines report the
 * scalar's own position.
 */
#include "scenarios/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/module.h"
#include "scenarios/internal.h"
#include "scenarios/mapping.h"
#include "util/diag.h"
#include "util/tz.h"
#include "util/xalloc.h"

static const char *const directive_names[_DIRECTIVE_MAX] = {
	[DIRECTIVE_NONE] = "none",     [DIRECTIVE_ROLLBACK] = "rollback",
	[DIRECTIVE_COMMIT] = "commit", [DIRECTIVE_RESUME] = "resume",
	[DIRECTIVE_IGNORE] = "ignore", [DIRECTIVE_BREAK] = "break",
};

const char *directive_to_string(enum directive directive)
{
	if (directive < 0 || directive >= _DIRECTIVE_MAX)
		return NULL;
	return directive_names[directive];
}

int directive_from_string(const char *name)
{
	for (int i = 0; i < _DIRECTIVE_MAX; i++)
		if (name && streq(directive_names[i], name))
			return i;
	return -EINVAL;
}

struct position loader_pos(const struct yaml_node *node)
{
	if (!node)
		return (struct position){ 1, 1 };
	return (struct position){ node->line, node->column };
}

static void add_error(struct loader *l, struct position pos, const char *fmt, va_list ap)
	_printf_(3, 0);

static void add_error(struct loader *l, struct position pos, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (l->errors++ >= LOADER_MAX_DIAGS)
		return;
	msg = xvasprintf(fmt, ap);
	diag_error(l->diags, l->file, pos.line, pos.column, "%s", msg);
}

void loader_error_at(struct loader *l, struct position pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(l, pos, fmt, ap);
	va_end(ap);
}

void loader_error(struct loader *l, const struct yaml_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error(l, loader_pos(at), fmt, ap);
	va_end(ap);
}

void loader_keys_check(struct loader *l, const struct yaml_node *map, const char *const *allowed,
		       const char *where)
{
	if (!map || map->kind != YAML_NODE_MAPPING)
		return;
	for (size_t i = 0; i < map->count; i++) {
		const struct yaml_node *key = map->pairs[i].key;
		const char *hint;
		bool known = false;

		for (size_t k = 0; allowed[k] && !known; k++)
			known = streq(allowed[k], key->value);
		if (known)
			continue;
		hint = diag_did_you_mean(key->value, allowed);
		if (hint)
			loader_error(l, key, "%sunknown key '%s' (did you mean '%s'?)", where,
				     key->value, hint);
		else
			loader_error(l, key, "%sunknown key '%s'", where, key->value);
	}
}

char *loader_describe(const struct yaml_node *node)
{
	if (!node || yaml_node_is_null(node))
		return xstrdup("an empty value");
	if (node->kind == YAML_NODE_MAPPING)
		return xstrdup("a map");
	if (node->kind == YAML_NODE_SEQUENCE)
		return xstrdup("a list");
	if (node->length > 40)
		return xasprintf("'%.37s...'", node->value);
	return xasprintf("'%s'", node->value);
}

char *loader_node_name(const struct flow_node *node)
{
	const char *id = node && node->id ? node->id : "?";

	if (node && node->kind == FLOW_ROUTER)
		return xasprintf("router (id %s)", id);
	if (node && node->module_name)
		return xasprintf("module '%s' (id %s)", node->module_name, id);
	return xasprintf("module (id %s)", id);
}

const char *loader_text(struct loader *l, const struct yaml_node *node, const char *what)
{
	if (node && node->kind == YAML_NODE_SCALAR && !yaml_node_is_null(node))
		return node->value;
	if (!node || yaml_node_is_null(node))
		loader_error(l, node, "%s must not be empty", what);
	else
		loader_error(l, node, "%s must be text, not %s", what,
			     node->kind == YAML_NODE_MAPPING ? "a map" : "a list");
	return NULL;
}

struct position loader_offset_pos(const struct yaml_node *scalar, size_t offset)
{
	struct position pos = loader_pos(scalar);

	if (!scalar || scalar->kind != YAML_NODE_SCALAR || scalar->end_line != scalar->line)
		return pos;
	switch (scalar->style) {
	case YAML_STYLE_PLAIN:
		break;
	case YAML_STYLE_SINGLE_QUOTED:
	case YAML_STYLE_DOUBLE_QUOTED:
		pos.column++;
		break;
	default:
		return pos;
	}
	/* Columns count characters; the offset counts bytes. */
	for (size_t i = 0; i < offset && i < scalar->length; i++)
		if (((unsigned char)scalar->value[i] & 0xC0) != 0x80)
			pos.column++;
	return pos;
}

static const struct flow_node *find_in_flow(const struct flow *flow, const char *id)
{
	for (size_t i = 0; i < flow->count; i++) {
		const struct flow_node *node = flow->nodes[i], *found;

		if (streq_ptr(node->id, id))
			return node;
		for (size_t r = 0; r < node->route_count; r++) {
			found = find_in_flow(&node->routes[r].flow, id);
			if (found)
				return found;
		}
		if (node->on_error) {
			found = find_in_flow(&node->on_error->flow, id);
			if (found)
				return found;
		}
	}
	return NULL;
}

const struct flow_node *scenario_find_node(const struct scenario *scenario, const char *id)
{
	if (!scenario || !id)
		return NULL;
	return find_in_flow(&scenario->flow, id);
}

struct scenario *scenario_free(struct scenario *scenario)
{
	if (!scenario)
		return NULL;
	free(scenario->name);
	free(scenario->description);
	free(scenario->path);
	free(scenario->source);
	free(scenario->timezone);
	schedule_done(&scenario->schedule);
	validate_flow_done(&scenario->flow);
	free(scenario);
	return NULL;
}

static void load_root(struct loader *l, const struct yaml_node *root)
{
	static const char *const keys[] = {
		"scenario", "description", "schedule", "timezone", "settings", "flow", NULL,
	};
	const struct yaml_node *flow;

	if (!root) {
		loader_error(l, NULL, "the file is empty: a scenario needs at least a 'flow'");
		return;
	}
	if (root->kind != YAML_NODE_MAPPING) {
		loader_error(l, root, "a scenario file is a map with a 'flow' (and optionally %s)",
			     "'scenario', 'description', 'schedule', 'timezone', 'settings'");
		return;
	}
	loader_keys_check(l, root, keys, "");
	/* Settings first: a `break` handler in the flow needs store_incomplete. */
	settings_load(l, yaml_node_get(root, "settings"));
	settings_load_header(l, root);
	schedule_load(l, yaml_node_get(root, "schedule"));

	flow = yaml_node_get(root, "flow");
	if (!yaml_node_get_pair(root, "flow")) {
		loader_error(l, root, "missing 'flow': the list of modules, the trigger first");
		return;
	}
	validate_flow_load(l, flow, &l->scenario->flow, true, false);
	validate_refs_finish(l);

	if (l->scenario->schedule.kind == SCHEDULE_INSTANT && l->scenario->flow.count > 0) {
		const struct flow_node *first = l->scenario->flow.nodes[0];

		if (first->desc && first->desc->kind != MODULE_TRIGGER_INSTANT)
			loader_error(l, yaml_node_get(root, "schedule"),
				     "schedule 'instant' needs an instant trigger as the first "
				     "module; '%s' is not one",
				     first->module_name);
	}
}

/* Sorts this load's diagnostics by position, keeping the order in which
 * they were found for equal positions (qsort alone is not stable). */
struct ranked_diag {
	struct diag diag;
	size_t rank;
};

static int compare_ranked(const void *a, const void *b)
{
	const struct ranked_diag *x = a, *y = b;

	if (x->diag.line != y->diag.line)
		return x->diag.line < y->diag.line ? -1 : 1;
	if (x->diag.column != y->diag.column)
		return x->diag.column < y->diag.column ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static void sort_diags(struct diag_list *diags, size_t first)
{
	size_t n = diags->count - first;
	_cleanup_free_ struct ranked_diag *ranked = NULL;

	if (n < 2)
		return;
	ranked = xcalloc(n, sizeof(*ranked));
	for (size_t i = 0; i < n; i++)
		ranked[i] = (struct ranked_diag){ diags->items[first + i], i };
	qsort(ranked, n, sizeof(*ranked), compare_ranked);
	for (size_t i = 0; i < n; i++)
		diags->items[first + i] = ranked[i].diag;
}

static void loader_done(struct loader *l)
{
	validate_refs_done(l);
	tz_free(l->tz);
}

int scenario_load_string(const char *text, size_t len, const char *filename, struct scenario **ret,
			 struct diag_list *diags)
{
	static const struct yaml_limits limits = {
		.max_size = SCENARIO_MAX_FILE_SIZE,
		.max_depth = LOADER_YAML_DEPTH,
		.max_nodes = LOADER_YAML_NODES,
	};
	struct loader l = { .diags = diags, .file = filename, .first_diag = diags->count };
	_cleanup_yaml_node_ struct yaml_node *root = NULL;
	struct scenario *scenario;
	int r;

	r = yaml_tree_parse(text, len, filename, &limits, &root, diags);
	if (r < 0) {
		sort_diags(diags, l.first_diag);
		return r;
	}
	l.errors = (size_t)r;

	scenario = xcalloc(1, sizeof(*scenario));
	scenario->source = xstrndup(text, len);
	scenario->timezone = xstrdup("UTC");
	settings_init(&scenario->settings);
	l.scenario = scenario;
	load_root(&l, root);
	loader_done(&l);

	sort_diags(diags, l.first_diag);
	/* After sorting: a note without a position would sort first. */
	if (l.errors > LOADER_MAX_DIAGS)
		diag_error(diags, filename, 0, 0, "%zu more problems not shown",
			   l.errors - LOADER_MAX_DIAGS);
	if (l.errors > 0) {
		scenario_free(scenario);
		return -EINVAL;
	}
	*ret = scenario;
	return 0;
}

static int report_io_error(struct diag_list *diags, const char *path)
{
	int r = -errno;

	diag_error(diags, path, 0, 0, "cannot read the file: %s", strerror(-r));
	return r;
}

static int report_too_large(struct diag_list *diags, const char *path)
{
	diag_error(diags, path, 0, 0, "the file is larger than %d bytes", SCENARIO_MAX_FILE_SIZE);
	return -EFBIG;
}

static int read_file(const char *path, char **ret_text, size_t *ret_len, struct diag_list *diags)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	size_t len = 0, capacity = 0;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return report_io_error(diags, path);
	if (!S_ISREG(st.st_mode)) {
		diag_error(diags, path, 0, 0, "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > SCENARIO_MAX_FILE_SIZE)
		return report_too_large(diags, path);
	/* The size from fstat is a hint only: the file may grow while read. */
	text = xgrow(NULL, &capacity, (size_t)st.st_size + 2, 1);
	for (;;) {
		ssize_t n;

		if (len + 1 >= capacity)
			text = xgrow(text, &capacity, len + 2, 1);
		n = read(fd, text + len, capacity - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return report_io_error(diags, path);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SCENARIO_MAX_FILE_SIZE)
			return report_too_large(diags, path);
	}
	text[len] = '\0';
	*ret_text = TAKE_PTR(text);
	*ret_len = len;
	return 0;
}

int scenario_load_file(const char *path, struct scenario **ret, struct diag_list *diags)
{
	_cleanup_free_ char *text = NULL;
	struct scenario *scenario = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, &text, &len, diags);
	if (r < 0)
		return r;
	r = scenario_load_string(text, len, path, &scenario, diags);
	if (r < 0)
		return r;
	scenario->path = xstrdup(path);
	*ret = scenario;
	return 0;
}
