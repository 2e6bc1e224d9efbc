/* SPDX-License-Identifier: MIT */
/*
 * What a mapping can read while a bundle walks the flow: the output bundles
 * of the modules before it on its path (a chain of bindings, newest first),
 * and the context objects execution, scenario, bundle and, inside error
 * handlers, error.
 */
#include "scenarios/exec_internal.h"

#include <string.h>

#include "scenarios/mapping.h"

const cJSON *context_lookup(const struct binding *ctx, const char *id)
{
	for (const struct binding *b = ctx; b; b = b->parent)
		if (strcmp(b->id, id) == 0)
			return b->bundle;
	return NULL;
}

static const cJSON *resolve(void *userdata, const char *root)
{
	struct eval_context *ectx = userdata;

	if (strcmp(root, "execution") == 0)
		return ectx->exec->execution_json;
	if (strcmp(root, "scenario") == 0)
		return ectx->exec->scenario_json;
	if (strcmp(root, "bundle") == 0)
		return ectx->exec->bundle_json;
	if (strcmp(root, "error") == 0)
		return ectx->error;
	return context_lookup(ectx->ctx, root);
}

void context_scope_init(struct mapping_scope *scope, struct eval_context *ectx)
{
	*scope = (struct mapping_scope){
		.resolve = resolve,
		.userdata = ectx,
		.now_ms = ectx->exec->now_ms,
		.timezone = ectx->exec->scenario->timezone,
		.tz = ectx->exec->tz,
	};
}
