/* SPDX-License-Identifier: MIT */
/*
 * Which outputs a mapping may read. A module sees the context values
 * (execution, scenario, now, bundle; error only inside error handlers) and
 * the output of every module before it on its own path: its ancestors in the
 * flow, through routers, and for a handler flow the failing module's
 * predecessors (the failing module itself has no output) plus the modules
 * earlier in the handler. After an aggregator, the modules from its source
 * up to it are gone from the path: their bundles were folded into one.
 *
 * The scope is a stack of ids kept by validate_flow.c as it walks. A root
 * that is not in scope is parked until every id in the file is known, so
 * the message can say whether the module comes later or does not exist.
 */
#include <stdlib.h>
#include <string.h>

#include "scenarios/internal.h"
#include "scenarios/mapping.h"
#include "util/diag.h"
#include "util/xalloc.h"

static const char *const context_roots[] = {
	"execution", "scenario", "now", "error", "bundle", NULL,
};

void validate_refs_push(struct loader *l, const char *id)
{
	if (!id)
		return;
	l->scope = xgrow(l->scope, &l->scope_capacity, l->scope_count + 1, sizeof(*l->scope));
	l->scope[l->scope_count++] = id;
}

void validate_refs_reset(struct loader *l, size_t count)
{
	if (count < l->scope_count)
		l->scope_count = count;
}

long validate_refs_find(const struct loader *l, const char *id)
{
	for (size_t i = l->scope_count; i > 0; i--)
		if (streq(l->scope[i - 1], id))
			return (long)(i - 1);
	return -1;
}

static const struct id_def *find_id(const struct loader *l, const char *id)
{
	for (size_t i = 0; i < l->id_count; i++)
		if (streq(l->ids[i].id, id))
			return &l->ids[i];
	return NULL;
}

void validate_refs_define(struct loader *l, const struct flow_node *node)
{
	const struct id_def *first = find_id(l, node->id);

	if (first) {
		loader_error_at(l, node->pos, "duplicate id '%s' (first defined at %d:%d)",
				node->id, first->node->pos.line, first->node->pos.column);
		return;
	}
	l->ids = xgrow(l->ids, &l->id_capacity, l->id_count + 1, sizeof(*l->ids));
	l->ids[l->id_count++] = (struct id_def){ node->id, node };
}

static bool is_context_root(const char *root)
{
	for (size_t i = 0; context_roots[i]; i++)
		if (streq(context_roots[i], root))
			return true;
	return false;
}

/* "module '3'" as the reference messages name the module that refers. */
static char *format_user(const struct flow_node *node)
{
	if (!node || !node->id)
		return xstrdup("this module");
	return xasprintf("%s '%s'", node->kind == FLOW_ROUTER ? "router" : "module", node->id);
}

void validate_refs_root(struct loader *l, const char *root, struct position pos, bool module_id)
{
	_cleanup_free_ char *user = format_user(l->current);

	if (!module_id && is_context_root(root)) {
		if (streq(root, "error") && l->error_scope == 0)
			loader_error_at(l, pos,
					"'error' exists only in error handlers (an on_error flow "
					"or a resume output)");
		return;
	}
	if (validate_refs_find(l, root) >= 0)
		return;
	if (l->current && streq_ptr(l->current->id, root)) {
		if (module_id)
			loader_error_at(l, pos, "%s: 'source' names the aggregator itself", user);
		else
			loader_error_at(l, pos, "%s: a mapping cannot read the module's own output",
					user);
		return;
	}
	l->pending =
		xgrow(l->pending, &l->pending_capacity, l->pending_count + 1, sizeof(*l->pending));
	l->pending[l->pending_count++] = (struct pending_ref){
		.root = xstrdup(root),
		.pos = pos,
		.user = TAKE_PTR(user),
		.module_id = module_id,
	};
}

struct ref_walk {
	struct loader *l;
	const struct yaml_node *scalar;
};

static int on_ref(void *userdata, const char *root, size_t offset)
{
	struct ref_walk *w = userdata;

	validate_refs_root(w->l, root, loader_offset_pos(w->scalar, offset), false);
	return 0;
}

void validate_refs_mapping(struct loader *l, const struct mapping *mapping,
			   const struct yaml_node *scalar)
{
	struct ref_walk w = { l, scalar };

	mapping_foreach_ref(mapping, on_ref, &w);
}

/* Every id and context root, for "did you mean". */
static const char **collect_candidates(const struct loader *l, bool with_context)
{
	size_t n = 0;
	const char **all = xcalloc(l->id_count + ELEMENTSOF(context_roots), sizeof(*all));

	for (size_t i = 0; i < l->id_count; i++)
		all[n++] = l->ids[i].id;
	for (size_t i = 0; with_context && context_roots[i]; i++)
		all[n++] = context_roots[i];
	return all;
}

static void report_pending(struct loader *l, const struct pending_ref *p)
{
	_cleanup_free_ const char **names = NULL;
	const char *hint;

	if (find_id(l, p->root)) {
		if (p->module_id)
			loader_error_at(l, p->pos,
					"%s: 'source' names module '%s', which does not come "
					"before it on this path",
					p->user, p->root);
		else
			loader_error_at(l, p->pos,
					"mapping refers to module '%s', which does not come before "
					"%s on this path",
					p->root, p->user);
		return;
	}
	names = collect_candidates(l, !p->module_id);
	hint = diag_did_you_mean(p->root, names);
	if (p->module_id)
		loader_error_at(l, p->pos, "%s: 'source' names no module: '%s'%s%s%s", p->user,
				p->root, hint ? " (did you mean '" : "", hint ? hint : "",
				hint ? "'?)" : "");
	else
		loader_error_at(l, p->pos,
				"mapping refers to '%s', which is neither a module id nor a "
				"context value%s%s%s",
				p->root, hint ? " (did you mean '" : "", hint ? hint : "",
				hint ? "'?)" : "");
}

void validate_refs_finish(struct loader *l)
{
	for (size_t i = 0; i < l->pending_count; i++)
		report_pending(l, &l->pending[i]);
}

void validate_refs_done(struct loader *l)
{
	for (size_t i = 0; i < l->pending_count; i++) {
		free(l->pending[i].root);
		free(l->pending[i].user);
	}
	free(l->pending);
	free(l->ids);
	free(l->scope);
}
