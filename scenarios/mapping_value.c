/* SPDX-License-Identifier: MIT */
/*
 * Values as the mapping language sees them: type names for messages, the
 * coercions Fusion applies (numeric text is a number, a lone value is a
 * one-item array), equality for '=' and the helpers every function uses
 * to read its arguments and build results within the size limits.
 */
#include "scenarios/mapping_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

const char *value_type_name(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsString(v))
		return "text";
	if (cJSON_IsArray(v))
		return "array";
	if (json_is_file_value(v))
		return "file";
	return "collection";
}

bool value_to_number(const cJSON *v, double *ret)
{
	const char *s;
	char *end;
	double d;

	if (cJSON_IsNumber(v)) {
		*ret = v->valuedouble;
		return true;
	}
	if (!cJSON_IsString(v))
		return false;
	s = v->valuestring;
	while (isspace((unsigned char)*s))
		s++;
	/* strtod also reads "inf", "nan" and hex; Fusion numbers are decimal. */
	if (!*s || !(isdigit((unsigned char)*s) || strchr("+-.", *s)))
		return false;
	if (strpbrk(s, "xXnNiI"))
		return false;
	d = strtod(s, &end);
	if (end == s)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end || !isfinite(d))
		return false;
	*ret = d;
	return true;
}

char *value_to_text(const cJSON *v)
{
	return json_to_text(v);
}

bool value_equal(const cJSON *a, const cJSON *b)
{
	double x, y;

	if (!a)
		a = &mapping_null;
	if (!b)
		b = &mapping_null;
	if (cJSON_IsNull(a) || cJSON_IsNull(b))
		return cJSON_IsNull(a) && cJSON_IsNull(b);
	if ((cJSON_IsNumber(a) || cJSON_IsNumber(b)) && value_to_number(a, &x) &&
	    value_to_number(b, &y))
		return x == y;
	if (cJSON_IsBool(a) || cJSON_IsBool(b))
		return cJSON_IsBool(a) && cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b);
	/* Two spellings of one instant ("2026-01-01" and
	 * "2026-01-01T00:00:00.000Z") are the same date. */
	if (cJSON_IsString(a) && cJSON_IsString(b) && !streq(a->valuestring, b->valuestring)) {
		int64_t da, db;

		return value_to_date(a, NULL, &da) == 0 && value_to_date(b, NULL, &db) == 0 &&
		       da == db;
	}
	return cJSON_Compare(a, b, true);
}

int value_number_new(struct eval *ev, const struct node *at, double d, cJSON **ret)
{
	if (!isfinite(d))
		return eval_fail(ev, at, "the result is not a finite number");
	*ret = cJSON_CreateNumber(d == 0 ? 0 : d); /* no "-0" in output */
	return 0;
}

int value_string_take(struct eval *ev, const struct node *at, char *s, cJSON **ret)
{
	if (strlen(s) > MAPPING_MAX_RESULT) {
		free(s);
		return eval_fail(ev, at, "the text would be longer than %u bytes",
				 MAPPING_MAX_RESULT);
	}
	*ret = cJSON_CreateString(s);
	free(s);
	return 0;
}

int value_text_append(struct eval *ev, const struct node *at, struct strbuf *sb, const cJSON *v)
{
	_cleanup_free_ char *text = json_to_text(v);
	size_t len = strlen(text);

	if (sb->len + len > MAPPING_MAX_RESULT)
		return eval_fail(ev, at, "the text would be longer than %u bytes",
				 MAPPING_MAX_RESULT);
	strbuf_append(sb, text, len);
	return 0;
}

/* One step of a textual path: a key, or on an array a 1-based position. */
static const cJSON *path_step(const cJSON *cur, const char *key, size_t len)
{
	_cleanup_free_ char *name = xstrndup(key, len);
	char *end;
	long i;

	if (cJSON_IsObject(cur))
		return cJSON_GetObjectItemCaseSensitive(cur, name);
	if (!cJSON_IsArray(cur) || !len || !isdigit((unsigned char)name[0]))
		return NULL;
	errno = 0;
	i = strtol(name, &end, 10);
	if (*end || errno || i < 1 || i > INT32_MAX)
		return NULL;
	return cJSON_GetArrayItem(cur, (int)(i - 1));
}

const cJSON *value_get_path(const cJSON *from, const char *path)
{
	const cJSON *cur = from;
	const char *p = path;

	while (cur && *p) {
		const char *end;

		if (*p == '`') {
			end = strchr(p + 1, '`');
			if (!end)
				return NULL;
			cur = path_step(cur, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (*p == '[') {
			end = strchr(p, ']');
			if (!end || !cJSON_IsArray(cur))
				return NULL;
			cur = path_step(cur, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else {
			end = p + strcspn(p, ".[");
			cur = path_step(cur, p, (size_t)(end - p));
			p = end;
		}
		if (*p == '.')
			p++;
	}
	return cur;
}

/* ---- argument helpers ---- */

const char *call_name(const struct node *call)
{
	return call->call.fn->name;
}

bool arg_present(const struct call_args *args, size_t i)
{
	return i < args->n && !cJSON_IsNull(args->v[i]);
}

int arg_number(struct eval *ev, const struct node *call, const struct call_args *args, size_t i,
	       double *ret)
{
	const cJSON *v = i < args->n ? args->v[i] : &mapping_null;

	if (value_to_number(v, ret))
		return 0;
	return eval_fail(ev, call, "%s(): argument %zu must be a number, got %s", call_name(call),
			 i + 1, value_type_name(v));
}

int arg_int(struct eval *ev, const struct node *call, const struct call_args *args, size_t i,
	    int64_t *ret)
{
	double d;
	int r = arg_number(ev, call, args, i, &d);

	if (r < 0)
		return r;
	if (d < -9.0e15 || d > 9.0e15)
		return eval_fail(ev, call, "%s(): argument %zu is out of range", call_name(call),
				 i + 1);
	*ret = (int64_t)trunc(d);
	return 0;
}

char *arg_text(const struct call_args *args, size_t i)
{
	return json_to_text(i < args->n ? args->v[i] : NULL);
}

const cJSON *arg_array(const struct call_args *args, size_t i, cJSON **ret_tmp)
{
	const cJSON *v = i < args->n ? args->v[i] : NULL;

	*ret_tmp = NULL;
	if (cJSON_IsArray(v))
		return v;
	*ret_tmp = cJSON_CreateArray();
	if (v && !cJSON_IsNull(v))
		cJSON_AddItemToArray(*ret_tmp, cJSON_Duplicate(v, true));
	return *ret_tmp;
}
