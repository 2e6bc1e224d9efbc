/* SPDX-License-Identifier: MIT */
/*
 * A module's `with:` against the fields it declares (modules/module.h):
 * unknown fields, missing required ones, and constant values of the wrong
 * type. Generic over the declarations, so a new module gets its checks by
 * declaring its fields. A value that holds a mapping is only known per
 * bundle and is checked by the module at run time; the module's own
 * validate() hook then sees the constant fields that passed.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "modules/module.h"
#include "scenarios/internal.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/units.h"
#include "util/xalloc.h"

struct field_check {
	struct loader *l;
	const struct flow_node *node;
	const struct yaml_node *entry;
	const struct yaml_node *with; /* may be NULL */
	char *name; /* "module 'files.write' (id 3)" */
};

static void field_error(struct field_check *c, const struct yaml_node *at, const char *field,
			const char *fmt, ...) _printf_(4, 5);

static void field_error(struct field_check *c, const struct yaml_node *at, const char *field,
			const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	loader_error(c->l, at, "%s: field '%s': %s", c->name, field, msg);
}

static const struct module_field *find_field(const struct module_desc *desc, const char *name)
{
	for (const struct module_field *f = desc->fields; f && f->name; f++)
		if (streq(f->name, name))
			return f;
	return NULL;
}

static char *format_choices(const char *const *choices)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t i = 0; choices[i]; i++)
		strbuf_printf(&sb, "%s%s", i ? ", " : "", choices[i]);
	return strbuf_steal(&sb);
}

static bool check_choice(struct field_check *c, const struct module_field *f,
			 const struct template *t, const struct yaml_node *y)
{
	_cleanup_free_ char *list = format_choices(f->choices);
	const char *hint;

	if (t->kind != TEMPLATE_CONSTANT || !cJSON_IsString(t->constant)) {
		_cleanup_free_ char *got = loader_describe(y);

		field_error(c, y, f->name, "expected one of %s, got %s", list, got);
		return false;
	}
	for (size_t i = 0; f->choices[i]; i++)
		if (streq(f->choices[i], t->constant->valuestring))
			return true;
	hint = diag_did_you_mean(t->constant->valuestring, f->choices);
	field_error(c, y, f->name, "expected one of %s, got '%s'%s%s%s", list,
		    t->constant->valuestring, hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
	return false;
}

/* {upload: FILE} or {url: TEXT, headers: MAP}; the values themselves are
 * usually mappings and checked when the module runs. */
static bool check_input(struct field_check *c, const struct module_field *f,
			const struct template *t, const struct yaml_node *y)
{
	static const char *const keys[] = { "upload", "url", "headers", NULL };
	const struct yaml_node *headers = yaml_node_get(y, "headers");
	bool upload = yaml_node_get_pair(y, "upload"), url = yaml_node_get_pair(y, "url");
	bool ok = true;

	if (t->kind != TEMPLATE_OBJECT) {
		field_error(c, y, f->name, "expected {upload: FILE} or {url: TEXT}");
		return false;
	}
	for (size_t i = 0; i < y->count; i++) {
		const char *key = y->pairs[i].key->value;
		const char *hint;

		if (streq(key, "upload") || streq(key, "url") || streq(key, "headers"))
			continue;
		hint = diag_did_you_mean(key, keys);
		field_error(c, y->pairs[i].key, f->name, "unknown key '%s'%s%s%s", key,
			    hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		ok = false;
	}
	if (upload == url) {
		field_error(c, y, f->name, "needs exactly one of 'upload' or 'url'");
		ok = false;
	}
	if (headers && !url) {
		field_error(c, headers, f->name, "'headers' only go with 'url'");
		ok = false;
	}
	if (headers && !yaml_node_is_null(headers) && headers->kind == YAML_NODE_SEQUENCE) {
		field_error(c, headers, f->name, "'headers' must be a map");
		ok = false;
	}
	return ok;
}

/* What the executor's conversion of mapped values accepts (coerce.c), so
 * a constant is refused at load time exactly when it would fail per bundle:
 * "5" is a number, "yes" and 1 are true. */
static bool is_number(const cJSON *v, bool integer)
{
	double d;
	char *end;

	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else if (cJSON_IsString(v)) {
		errno = 0;
		d = strtod(v->valuestring, &end);
		if (errno || end == v->valuestring || *end)
			return false;
	} else {
		return false;
	}
	return !integer || (d == floor(d) && fabs(d) < 9007199254740992.0);
}

static bool is_boolean(const cJSON *v)
{
	static const char *const words[] = { "true", "false", "1", "0", "yes", "no", NULL };

	if (cJSON_IsBool(v) || cJSON_IsNumber(v))
		return true;
	for (size_t i = 0; cJSON_IsString(v) && words[i]; i++)
		if (streq(v->valuestring, words[i]))
			return true;
	return false;
}

static bool check_constant(struct field_check *c, const struct module_field *f,
			   const struct template *t, const struct yaml_node *y)
{
	const cJSON *v = t->constant;
	_cleanup_free_ char *got = loader_describe(y);
	int64_t n;

	switch (f->type) {
	case FIELD_TEXT:
		if (t->kind == TEMPLATE_CONSTANT)
			return true;
		field_error(c, y, f->name, "expected text, got %s", got);
		return false;
	case FIELD_NUMBER:
	case FIELD_INTEGER:
		if (is_number(v, f->type == FIELD_INTEGER))
			return true;
		field_error(c, y, f->name, "expected %s, got %s",
			    f->type == FIELD_INTEGER ? "an integer" : "a number", got);
		return false;
	case FIELD_BOOLEAN:
		if (is_boolean(v))
			return true;
		field_error(c, y, f->name, "expected true or false, got %s", got);
		return false;
	case FIELD_DURATION:
		if (cJSON_IsString(v) && units_parse_duration(v->valuestring, &n) == 0)
			return true;
		field_error(c, y, f->name, "expected a duration like '30s', got %s", got);
		return false;
	case FIELD_SIZE:
		if ((cJSON_IsString(v) && units_parse_size(v->valuestring, &n) == 0) ||
		    (cJSON_IsNumber(v) && v->valuedouble >= 0))
			return true;
		field_error(c, y, f->name, "expected a size like '100MiB', got %s", got);
		return false;
	default:
		return true;
	}
}

/* Checks one value against its declared type. Returns whether it may go to
 * the module's validate() hook. */
static bool check_value(struct field_check *c, const struct module_field *f,
			const struct template *t, const struct yaml_node *y)
{
	_cleanup_free_ char *got = loader_describe(y);
	bool ok = true;

	if (f->type == FIELD_MODULE_ID) {
		if (t->kind != TEMPLATE_CONSTANT || y->kind != YAML_NODE_SCALAR) {
			field_error(c, y, f->name, "expected the id of an earlier module, got %s",
				    t->kind == TEMPLATE_MAPPING ? "a mapping" : got);
			return false;
		}
		validate_refs_root(c->l, y->value, loader_pos(y), true);
		return true;
	}
	if (t->kind == TEMPLATE_MAPPING || yaml_node_is_null(y))
		return true;
	switch (f->type) {
	case FIELD_ANY:
		return true;
	case FIELD_MAP:
	case FIELD_FILE:
		if (t->kind == TEMPLATE_OBJECT)
			return true;
		field_error(c, y, f->name, "expected %s, got %s",
			    f->type == FIELD_MAP ? "a map" :
						   "a file value (map one, like {{1.file}})",
			    got);
		return false;
	case FIELD_LIST:
		if (t->kind != TEMPLATE_ARRAY) {
			field_error(c, y, f->name, "expected a list, got %s", got);
			return false;
		}
		for (size_t i = 0; f->choices && i < t->count; i++)
			if (t->children[i]->kind != TEMPLATE_MAPPING)
				ok &= check_choice(c, f, t->children[i], y->items[i]);
		return ok;
	case FIELD_ENUM:
		return check_choice(c, f, t, y);
	case FIELD_INPUT:
		return check_input(c, f, t, y);
	default:
		return check_constant(c, f, t, y);
	}
}

static void on_report(void *ctx, const char *field, const char *fmt, ...) _printf_(3, 4);

/* module_report_fn for the module's validate(): places the problem at the
 * field's value. */
static void on_report(void *ctx, const char *field, const char *fmt, ...)
{
	struct field_check *c = ctx;
	const struct yaml_node *at = field ? yaml_node_get(c->with, field) : NULL;
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (!at)
		at = c->with ? c->with : c->entry;
	if (field)
		loader_error(c->l, at, "%s: field '%s': %s", c->name, field, msg);
	else
		loader_error(c->l, at, "%s: %s", c->name, msg);
}

static const char **collect_field_names(const struct module_desc *desc)
{
	size_t n = 0;
	const char **names;

	for (const struct module_field *f = desc->fields; f && f->name; f++)
		n++;
	names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = desc->fields[i].name;
	return names;
}

/* An empty string is no value to the executor either (coerce.c). */
static void check_required(struct field_check *c, const struct module_desc *desc)
{
	for (const struct module_field *f = desc->fields; f && f->name; f++) {
		const struct yaml_node *v = yaml_node_get(c->with, f->name);

		if (!f->required)
			continue;
		if (yaml_node_is_null(v))
			loader_error(c->l, c->with ? c->with : c->entry,
				     "%s: missing required field '%s'", c->name, f->name);
		else if (yaml_node_is_string(v) && v->length == 0)
			loader_error(c->l, v, "%s: required field '%s' is empty", c->name, f->name);
	}
}

void validate_fields_check(struct loader *l, const struct flow_node *node,
			   const struct yaml_node *entry, const struct yaml_node *with)
{
	const struct module_desc *desc = node->desc;
	struct field_check c = { l, node, entry, with, loader_node_name(node) };
	_cleanup_free_ const char **names = collect_field_names(desc);
	_cleanup_json_ cJSON *constants = cJSON_CreateObject();

	check_required(&c, desc);
	for (size_t i = 0; with && i < with->count; i++) {
		const struct yaml_node *key = with->pairs[i].key;
		const struct template *t = node->with->children[i];
		const struct module_field *f = find_field(desc, key->value);
		const char *hint;

		if (!f) {
			hint = diag_did_you_mean(key->value, names);
			if (hint)
				loader_error(l, key, "%s: unknown field '%s' (did you mean '%s'?)",
					     c.name, key->value, hint);
			else
				loader_error(l, key, "%s: unknown field '%s'", c.name, key->value);
			continue;
		}
		if (f->required && yaml_node_is_string(with->pairs[i].value) &&
		    with->pairs[i].value->length == 0)
			continue; /* reported as empty already */
		if (f->constant && template_has_mapping(t)) {
			loader_error(l, with->pairs[i].value,
				     "%s: field '%s' cannot hold a mapping: it is read before any "
				     "run",
				     c.name, key->value);
			continue;
		}
		if (check_value(&c, f, t, with->pairs[i].value) && !template_has_mapping(t))
			cJSON_AddItemToObject(constants, key->value, template_to_json(t));
	}
	if (desc->validate)
		desc->validate(constants, on_report, &c);
	free(c.name);
}

char *validate_fields_source(const struct flow_node *node)
{
	const struct template *with = node->with;

	for (size_t i = 0; with && i < with->count; i++) {
		const struct template *t = with->children[i];

		if (streq(with->keys[i], "source") && t->kind == TEMPLATE_CONSTANT &&
		    (cJSON_IsString(t->constant) || cJSON_IsNumber(t->constant)))
			return json_to_text(t->constant);
	}
	return NULL;
}
