/* SPDX-License-Identifier: MIT */
/*
 * Fusion's general functions: choosing between values (if, ifempty,
 * switch, case, in, ifin), reading paths (get) and shaping collections
 * (pick, omit, mergeCollections), plus the conversions toString and
 * toNumber. if, ifempty and switch evaluate only the branch they return,
 * so an error in the other branch does not matter, as in Fusion.
 */
#include "scenarios/mapping_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/xalloc.h"

static int eval_arg(struct eval *ev, const struct node *call, size_t i, struct mval *ret)
{
	return eval_node(ev, call->call.args[i], ret);
}

static int fn_if(struct eval *ev, const struct node *call, struct mval *ret)
{
	struct mval cond;
	bool t;
	int r;

	r = eval_arg(ev, call, 0, &cond);
	if (r < 0)
		return r;
	t = mapping_truthy(cond.json);
	mval_done(&cond);
	return eval_arg(ev, call, t ? 1 : 2, ret);
}

/* Empty means missing, null or "" (Fusion); 0 and false are values. */
static bool is_empty(const cJSON *v)
{
	return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]);
}

static int fn_ifempty(struct eval *ev, const struct node *call, struct mval *ret)
{
	struct mval v;
	int r;

	r = eval_arg(ev, call, 0, &v);
	if (r < 0)
		return r;
	if (!is_empty(v.json)) {
		*ret = v;
		return 0;
	}
	mval_done(&v);
	return eval_arg(ev, call, 1, ret);
}

/* switch(expression; value1; result1; …; [else]) */
static int fn_switch(struct eval *ev, const struct node *call, struct mval *ret)
{
	size_t n = call->call.nargs, i;
	struct mval subject;
	int r;

	r = eval_arg(ev, call, 0, &subject);
	if (r < 0)
		return r;
	for (i = 1; i + 1 < n; i += 2) {
		struct mval candidate;
		bool match;

		r = eval_arg(ev, call, i, &candidate);
		if (r < 0)
			break;
		match = value_equal(subject.json, candidate.json);
		mval_done(&candidate);
		if (match) {
			mval_done(&subject);
			return eval_arg(ev, call, i + 1, ret);
		}
	}
	mval_done(&subject);
	if (r < 0)
		return r;
	if (i < n)
		return eval_arg(ev, call, i, ret);
	*ret = (struct mval){ .json = &mapping_null };
	return 0;
}

/* get(object or array; path): "a.b", "items[2].id" or a 1-based number. */
static int fn_get(struct eval *ev, const struct node *call, const struct call_args *args,
		  cJSON **ret)
{
	const cJSON *from = args->v[0], *path = args->v[1], *found;
	_cleanup_free_ char *text = NULL;

	(void)ev;
	if (cJSON_IsNumber(path)) {
		double d = path->valuedouble;

		found = cJSON_IsArray(from) && d == floor(d) && d >= 1 && d <= INT32_MAX ?
				cJSON_GetArrayItem(from, (int)d - 1) :
				NULL;
		if (!found && cJSON_IsObject(from)) {
			text = json_to_text(path);
			found = cJSON_GetObjectItemCaseSensitive(from, text);
		}
	} else {
		text = json_to_text(path);
		found = value_get_path(from, text);
	}
	(void)call;
	*ret = found ? cJSON_Duplicate(found, true) : cJSON_CreateNull();
	return 0;
}

/* Whether `key` is named by one of args[1…] (each a key or an array of keys). */
static bool key_listed(const struct call_args *args, const char *key)
{
	for (size_t i = 1; i < args->n; i++) {
		const cJSON *k = args->v[i], *item;

		if (cJSON_IsArray(k)) {
			cJSON_ArrayForEach(item, k) {
				if (cJSON_IsString(item) && streq(item->valuestring, key))
					return true;
			}
		} else {
			_cleanup_free_ char *name = json_to_text(k);

			if (streq(name, key))
				return true;
		}
	}
	return false;
}

static int pick_or_omit(struct eval *ev, const struct node *call, const struct call_args *args,
			bool keep, cJSON **ret)
{
	const cJSON *item;
	cJSON *out;

	if (cJSON_IsNull(args->v[0])) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	if (!cJSON_IsObject(args->v[0]))
		return eval_fail(ev, call, "%s(): argument 1 must be a collection, got %s",
				 call_name(call), value_type_name(args->v[0]));
	out = cJSON_CreateObject();
	cJSON_ArrayForEach(item, args->v[0]) {
		if (key_listed(args, item->string) == keep)
			cJSON_AddItemToObject(out, item->string, cJSON_Duplicate(item, true));
	}
	*ret = out;
	return 0;
}

static int fn_pick(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	return pick_or_omit(ev, call, args, true, ret);
}

static int fn_omit(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	return pick_or_omit(ev, call, args, false, ret);
}

/* mergeCollections(c1; c2; …): later keys win. */
static int fn_merge_collections(struct eval *ev, const struct node *call,
				const struct call_args *args, cJSON **ret)
{
	cJSON *out = cJSON_CreateObject();

	for (size_t i = 0; i < args->n; i++) {
		const cJSON *item;

		if (cJSON_IsNull(args->v[i]))
			continue;
		if (!cJSON_IsObject(args->v[i])) {
			cJSON_Delete(out);
			return eval_fail(ev, call,
					 "%s(): argument %zu must be a collection, got %s",
					 call_name(call), i + 1, value_type_name(args->v[i]));
		}
		cJSON_ArrayForEach(item, args->v[i]) {
			cJSON_DeleteItemFromObjectCaseSensitive(out, item->string);
			cJSON_AddItemToObject(out, item->string, cJSON_Duplicate(item, true));
		}
	}
	*ret = out;
	return 0;
}

static int fn_is_blank(struct eval *ev, const struct node *call, const struct call_args *args,
		       cJSON **ret)
{
	(void)ev;
	(void)call;
	*ret = cJSON_CreateBool(is_empty(args->v[0]));
	return 0;
}

/* in(value; v1; v2; …): strict, no coercion ("2" is not 2). */
static bool in_list(const struct call_args *args, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (cJSON_Compare(args->v[0], args->v[i], true))
			return true;
	return false;
}

static int fn_in(struct eval *ev, const struct node *call, const struct call_args *args,
		 cJSON **ret)
{
	(void)ev;
	(void)call;
	*ret = cJSON_CreateBool(in_list(args, 1, args->n));
	return 0;
}

/* ifin(value; v1; …; trueValue; falseValue) */
static int fn_ifin(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	(void)ev;
	(void)call;
	*ret = cJSON_Duplicate(args->v[in_list(args, 1, args->n - 2) ? args->n - 2 : args->n - 1],
			       true);
	return 0;
}

/* case(n; v1; v2; …): the n-th value, 1-based; null out of range. */
static int fn_case(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	double d;
	int r = arg_number(ev, call, args, 0, &d);

	if (r < 0)
		return r;
	if (d != floor(d) || d < 1 || d >= (double)args->n)
		*ret = cJSON_CreateNull();
	else
		*ret = cJSON_Duplicate(args->v[(size_t)d], true);
	return 0;
}

static int fn_equal(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	(void)ev;
	(void)call;
	*ret = cJSON_CreateBool(value_equal(args->v[0], args->v[1]));
	return 0;
}

static int fn_to_string(struct eval *ev, const struct node *call, const struct call_args *args,
			cJSON **ret)
{
	return value_string_take(ev, call, json_to_text(args->v[0]), ret);
}

/* toNumber(value): numbers and numeric text; null stays null. */
static int fn_to_number(struct eval *ev, const struct node *call, const struct call_args *args,
			cJSON **ret)
{
	double d;

	if (cJSON_IsNull(args->v[0])) {
		*ret = cJSON_CreateNull();
		return 0;
	}
	if (cJSON_IsBool(args->v[0]))
		return value_number_new(ev, call, cJSON_IsTrue(args->v[0]) ? 1 : 0, ret);
	if (!value_to_number(args->v[0], &d))
		return eval_fail(ev, call, "toNumber(): the %s is not a number",
				 value_type_name(args->v[0]));
	return value_number_new(ev, call, d, ret);
}

const struct mapping_function mapping_functions_general[] = {
	{ .name = "if", .min_args = 3, .max_args = 3, .lazy = fn_if },
	{ .name = "ifempty", .min_args = 2, .max_args = 2, .lazy = fn_ifempty },
	{ .name = "switch", .min_args = 3, .max_args = MAPPING_VARARGS, .lazy = fn_switch },
	{ .name = "get", .min_args = 2, .max_args = 2, .fn = fn_get },
	{ .name = "pick", .min_args = 2, .max_args = MAPPING_VARARGS, .fn = fn_pick },
	{ .name = "omit", .min_args = 2, .max_args = MAPPING_VARARGS, .fn = fn_omit },
	{ .name = "mergeCollections",
	  .min_args = 1,
	  .max_args = MAPPING_VARARGS,
	  .fn = fn_merge_collections },
	{ .name = "isBlank", .min_args = 1, .max_args = 1, .fn = fn_is_blank },
	{ .name = "in", .min_args = 2, .max_args = MAPPING_VARARGS, .fn = fn_in },
	{ .name = "ifin", .min_args = 4, .max_args = MAPPING_VARARGS, .fn = fn_ifin },
	{ .name = "case", .min_args = 2, .max_args = MAPPING_VARARGS, .fn = fn_case },
	{ .name = "equal", .min_args = 2, .max_args = 2, .fn = fn_equal },
	{ .name = "toString", .min_args = 1, .max_args = 1, .fn = fn_to_string },
	{ .name = "toNumber", .min_args = 1, .max_args = 1, .fn = fn_to_number },
	{ .name = NULL },
};
