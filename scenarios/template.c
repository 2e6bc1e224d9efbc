/* SPDX-License-Identifier: MIT */
/*
 * Templates: a module's `with:` (or a resume output) as a tree whose string
 * leaves may hold mappings. Built once at load time, where every string is
 * compiled (syntax errors reported at their column in the file) and every
 * reference checked against the module's path; evaluated per bundle by the
 * executor into a plain cJSON tree.
 *
 * Only strings are compiled: a plain `10` or `true` is a number or a boolean
 * (YAML core schema), and keys are never mappings. Maps and lists always
 * stay OBJECT/ARRAY nodes, even when nothing inside maps anything, so the
 * executor and validation can look fields up by key.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/internal.h"
#include "scenarios/mapping.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

struct template *template_free(struct template *tmpl)
{
	if (!tmpl)
		return NULL;
	for (size_t i = 0; i < tmpl->count; i++) {
		if (tmpl->keys)
			free(tmpl->keys[i]);
		template_free(tmpl->children[i]);
	}
	free(tmpl->keys);
	free(tmpl->children);
	cJSON_Delete(tmpl->constant);
	mapping_free(tmpl->mapping);
	free(tmpl);
	return NULL;
}

struct template *template_new_object(struct position pos)
{
	struct template *tmpl = xcalloc(1, sizeof(*tmpl));

	tmpl->kind = TEMPLATE_OBJECT;
	tmpl->pos = pos;
	return tmpl;
}

struct mapping *template_compile(struct loader *l, const struct yaml_node *scalar)
{
	struct mapping_error error = { 0 };
	struct mapping *mapping = NULL;

	assert(scalar->kind == YAML_NODE_SCALAR);
	if (mapping_compile(scalar->value, &mapping, &error) < 0) {
		loader_error_at(l, loader_offset_pos(scalar, error.offset), "mapping: %s",
				error.message ? error.message : "invalid expression");
		free(error.message);
		return NULL;
	}
	validate_refs_mapping(l, mapping, scalar);
	return mapping;
}

static struct template *build_scalar(struct loader *l, const struct yaml_node *node,
				     struct template *tmpl)
{
	struct mapping *mapping;

	tmpl->kind = TEMPLATE_CONSTANT;
	if (yaml_scalar_type(node) != YAML_SCALAR_STRING) {
		tmpl->constant = yaml_node_to_json(node);
		return tmpl;
	}
	mapping = template_compile(l, node);
	if (!mapping) {
		tmpl->constant = cJSON_CreateNull();
	} else if (mapping_is_constant(mapping)) {
		tmpl->constant = cJSON_CreateString(node->value);
		mapping_free(mapping);
	} else {
		tmpl->kind = TEMPLATE_MAPPING;
		tmpl->mapping = mapping;
	}
	return tmpl;
}

struct template *template_build(struct loader *l, const struct yaml_node *node)
{
	struct template *tmpl = xcalloc(1, sizeof(*tmpl));

	tmpl->pos = loader_pos(node);
	switch (node->kind) {
	case YAML_NODE_SCALAR:
		return build_scalar(l, node, tmpl);
	case YAML_NODE_SEQUENCE:
		tmpl->kind = TEMPLATE_ARRAY;
		tmpl->children = xcalloc(node->count ? node->count : 1, sizeof(*tmpl->children));
		for (size_t i = 0; i < node->count; i++, tmpl->count++)
			tmpl->children[i] = template_build(l, node->items[i]);
		return tmpl;
	case YAML_NODE_MAPPING:
		tmpl->kind = TEMPLATE_OBJECT;
		tmpl->keys = xcalloc(node->count ? node->count : 1, sizeof(*tmpl->keys));
		tmpl->children = xcalloc(node->count ? node->count : 1, sizeof(*tmpl->children));
		for (size_t i = 0; i < node->count; i++, tmpl->count++) {
			tmpl->keys[i] = xstrdup(node->pairs[i].key->value);
			tmpl->children[i] = template_build(l, node->pairs[i].value);
		}
		return tmpl;
	}
	abort();
}

bool template_has_mapping(const struct template *tmpl)
{
	if (tmpl->kind == TEMPLATE_MAPPING)
		return true;
	for (size_t i = 0; i < tmpl->count; i++)
		if (template_has_mapping(tmpl->children[i]))
			return true;
	return false;
}

cJSON *template_to_json(const struct template *tmpl)
{
	cJSON *out;

	switch (tmpl->kind) {
	case TEMPLATE_CONSTANT:
		return cJSON_Duplicate(tmpl->constant, true);
	case TEMPLATE_MAPPING:
		return NULL;
	case TEMPLATE_OBJECT:
	case TEMPLATE_ARRAY:
		break;
	}
	out = tmpl->kind == TEMPLATE_OBJECT ? cJSON_CreateObject() : cJSON_CreateArray();
	for (size_t i = 0; i < tmpl->count; i++) {
		cJSON *child = template_to_json(tmpl->children[i]);

		if (!child) {
			cJSON_Delete(out);
			return NULL;
		}
		if (tmpl->kind == TEMPLATE_OBJECT)
			cJSON_AddItemToObject(out, tmpl->keys[i], child);
		else
			cJSON_AddItemToArray(out, child);
	}
	return out;
}

/* `path` names the field being evaluated ("input.upload", "tasks[2]") for
 * the message; it grows and shrinks with the recursion. */
static int eval(const struct template *tmpl, const struct mapping_scope *scope, struct strbuf *path,
		cJSON **ret, char **reterr_msg)
{
	_cleanup_json_ cJSON *out = NULL;
	_cleanup_free_ char *msg = NULL;
	size_t mark = path->len;
	int r;

	switch (tmpl->kind) {
	case TEMPLATE_CONSTANT:
		*ret = cJSON_Duplicate(tmpl->constant, true);
		return 0;
	case TEMPLATE_MAPPING:
		r = mapping_eval(tmpl->mapping, scope, ret, &msg);
		if (r >= 0)
			return 0;
		if (path->len > 0)
			*reterr_msg = xasprintf("field '%s' at %d:%d: %s", path->data,
						tmpl->pos.line, tmpl->pos.column, msg);
		else
			*reterr_msg =
				xasprintf("at %d:%d: %s", tmpl->pos.line, tmpl->pos.column, msg);
		return r;
	case TEMPLATE_OBJECT:
	case TEMPLATE_ARRAY:
		break;
	}
	out = tmpl->kind == TEMPLATE_OBJECT ? cJSON_CreateObject() : cJSON_CreateArray();
	for (size_t i = 0; i < tmpl->count; i++) {
		cJSON *child = NULL;

		if (tmpl->kind == TEMPLATE_OBJECT)
			strbuf_printf(path, "%s%s", mark > 0 ? "." : "", tmpl->keys[i]);
		else
			strbuf_printf(path, "[%zu]", i + 1);
		r = eval(tmpl->children[i], scope, path, &child, reterr_msg);
		if (r < 0)
			return r;
		path->len = mark;
		path->data[mark] = '\0';
		if (tmpl->kind == TEMPLATE_OBJECT)
			cJSON_AddItemToObject(out, tmpl->keys[i], child);
		else
			cJSON_AddItemToArray(out, child);
	}
	*ret = TAKE_PTR(out);
	return 0;
}

int template_eval(const struct template *tmpl, const struct mapping_scope *scope, cJSON **ret,
		  char **reterr_msg)
{
	struct strbuf path;
	cJSON *out = NULL;
	int r;

	if (!tmpl)
		return -EINVAL;
	strbuf_init(&path);
	r = eval(tmpl, scope, &path, &out, reterr_msg);
	strbuf_done(&path);
	if (r < 0)
		return r;
	*ret = out;
	return 0;
}

cJSON *scenario_node_constants(const struct flow_node *node)
{
	cJSON *out = cJSON_CreateObject();

	for (size_t i = 0; node->with && i < node->with->count; i++) {
		cJSON *value = template_to_json(node->with->children[i]);

		if (value)
			cJSON_AddItemToObject(out, node->with->keys[i], value);
	}
	return out;
}
