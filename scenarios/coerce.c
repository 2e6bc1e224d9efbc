/* SPDX-License-Identifier: MIT */
/*
 * A module's mapped input, checked against the fields it declares and
 * converted the way Fusion converts mapped values: "5" into a number field
 * is 5, "true" into a boolean field is true, an empty value in an optional
 * field is the same as no value, and an empty required field is an error
 * naming the field. Constant values were already checked at load time; this
 * catches what mappings produce at run time, as a DataError.
 */
#include "scenarios/exec_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/units.h"
#include "util/xalloc.h"

static bool is_empty(const cJSON *v)
{
	return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0');
}

static int fail(char **reterr_msg, const char *field, const char *fmt, const cJSON *value)
{
	_cleanup_free_ char *text = json_to_text(value);

	if (strlen(text) > 80)
		memcpy(text + 77, "...", 4);
	*reterr_msg = xasprintf("field '%s': %s, got '%s'", field, fmt, text);
	return -EINVAL;
}

static cJSON *to_number(const cJSON *v, bool integer)
{
	char *end;
	double d;

	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (cJSON_IsString(v)) {
		errno = 0;
		d = strtod(v->valuestring, &end);
		if (errno || end == v->valuestring || *end)
			return NULL;
	} else
		return NULL;
	if (integer && d != floor(d))
		return NULL;
	return cJSON_CreateNumber(d);
}

static cJSON *to_boolean(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return cJSON_CreateBool(cJSON_IsTrue(v));
	if (cJSON_IsNumber(v))
		return cJSON_CreateBool(v->valuedouble != 0);
	if (cJSON_IsString(v)) {
		if (!strcmp(v->valuestring, "true") || !strcmp(v->valuestring, "1") ||
		    !strcmp(v->valuestring, "yes"))
			return cJSON_CreateTrue();
		if (!strcmp(v->valuestring, "false") || !strcmp(v->valuestring, "0") ||
		    !strcmp(v->valuestring, "no"))
			return cJSON_CreateFalse();
	}
	return NULL;
}

static bool in_choices(const char *text, const char *const *choices)
{
	for (size_t i = 0; choices && choices[i]; i++)
		if (strcmp(choices[i], text) == 0)
			return true;
	return !choices;
}

/* Returns a replacement for `v` (caller puts it in place), `v` itself when
 * it is fine as it is, or NULL with *reterr_msg set. */
static cJSON *coerce_value(const struct module_field *f, cJSON *v, char **reterr_msg)
{
	cJSON *converted = NULL;
	int64_t scratch;

	switch (f->type) {
	case FIELD_ANY:
	case FIELD_MODULE_ID:
		return v;
	case FIELD_TEXT:
		if (cJSON_IsString(v))
			return v;
		if (cJSON_IsNumber(v) || cJSON_IsBool(v) || json_is_file_value(v)) {
			_cleanup_free_ char *text = json_to_text(v);

			return cJSON_CreateString(text);
		}
		fail(reterr_msg, f->name, "expected text", v);
		return NULL;
	case FIELD_NUMBER:
	case FIELD_INTEGER:
		converted = to_number(v, f->type == FIELD_INTEGER);
		if (!converted)
			fail(reterr_msg, f->name,
			     f->type == FIELD_INTEGER ? "expected an integer" : "expected a number",
			     v);
		return converted;
	case FIELD_BOOLEAN:
		converted = to_boolean(v);
		if (!converted)
			fail(reterr_msg, f->name, "expected true or false", v);
		return converted;
	case FIELD_MAP:
		if (cJSON_IsObject(v))
			return v;
		fail(reterr_msg, f->name, "expected a map", v);
		return NULL;
	case FIELD_LIST:
		if (cJSON_IsArray(v))
			return v;
		fail(reterr_msg, f->name, "expected a list", v);
		return NULL;
	case FIELD_FILE:
		if (json_is_file_value(v))
			return v;
		fail(reterr_msg, f->name, "expected a file (map a module's 'file' output here)", v);
		return NULL;
	case FIELD_DURATION:
		if (cJSON_IsString(v) && units_parse_duration(v->valuestring, &scratch) == 0)
			return v;
		fail(reterr_msg, f->name, "expected a duration such as 30s, 3m or 1h", v);
		return NULL;
	case FIELD_SIZE:
		if (cJSON_IsNumber(v) ||
		    (cJSON_IsString(v) && units_parse_size(v->valuestring, &scratch) == 0))
			return v;
		fail(reterr_msg, f->name, "expected a size such as 100MiB", v);
		return NULL;
	case FIELD_ENUM:
		if (cJSON_IsString(v) && in_choices(v->valuestring, f->choices))
			return v;
		fail(reterr_msg, f->name, "not one of the allowed values", v);
		return NULL;
	case FIELD_INPUT:
		if (cJSON_IsObject(v) &&
		    (json_is_file_value(cJSON_GetObjectItemCaseSensitive(v, "upload")) ||
		     cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "url"))))
			return v;
		fail(reterr_msg, f->name, "expected {upload: FILE} or {url: TEXT}", v);
		return NULL;
	default:
		return v;
	}
}

int coerce_input(const struct module_desc *desc, cJSON *input, char **reterr_msg)
{
	for (const struct module_field *f = desc->fields; f && f->name; f++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(input, f->name);
		cJSON *converted;

		if (is_empty(v) && !(f->type == FIELD_TEXT && cJSON_IsString(v) && !f->required)) {
			if (f->required) {
				*reterr_msg =
					xasprintf("missing value of required field '%s'", f->name);
				return -EINVAL;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(input, f->name);
			continue;
		}
		if (!v)
			continue;
		converted = coerce_value(f, v, reterr_msg);
		if (!converted)
			return -EINVAL;
		if (converted != v)
			cJSON_ReplaceItemInObjectCaseSensitive(input, f->name, converted);
	}
	return 0;
}
