/* SPDX-License-Identifier: MIT */
/*
 * Fusion's array functions. A value that is not an array is read as a
 * one-item array and null as an empty one (Fusion's type coercion), so
 * first(x) of a lone value is the value. Keys into items ("name",
 * "sender.name") are paths as get() reads them. Duplicates and set
 * differences compare items by their JSON text, sorted, so a large array
 * costs n log n rather than n².
 */
#include "scenarios/mapping_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static int too_many(struct eval *ev, const struct node *call)
{
	return eval_fail(ev, call, "%s(): the array would have more than %u items", call_name(call),
			 MAPPING_MAX_ARRAY);
}

static void append_copy(cJSON *array, const cJSON *item)
{
	cJSON_AddItemToArray(array, cJSON_Duplicate(item, true));
}

/* join(array; [separator]) */
static int fn_join(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp), *item;
	_cleanup_free_ char *sep = args->n > 1 ? arg_text(args, 1) : xstrdup(",");
	struct strbuf sb;
	bool first = true;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	cJSON_ArrayForEach(item, array) {
		if (!first)
			strbuf_puts(&sb, sep);
		first = false;
		if (value_text_append(ev, call, &sb, item) < 0) {
			strbuf_done(&sb);
			return -EINVAL;
		}
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

static int pick_end(const struct call_args *args, bool last, cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp);
	int n = cJSON_GetArraySize(array);

	*ret = n ? cJSON_Duplicate(cJSON_GetArrayItem(array, last ? n - 1 : 0), true) :
		   cJSON_CreateNull();
	return 0;
}

static int fn_first(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	(void)ev;
	(void)call;
	return pick_end(args, false, ret);
}

static int fn_last(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	(void)ev;
	(void)call;
	return pick_end(args, true, ret);
}

/* arrayElement(array; index): 1-based; null out of range. */
static int fn_array_element(struct eval *ev, const struct node *call, const struct call_args *args,
			    cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp);
	double d;
	int r = arg_number(ev, call, args, 1, &d);

	if (r < 0)
		return r;
	if (d != floor(d) || d < 1 || d > cJSON_GetArraySize(array))
		*ret = cJSON_CreateNull();
	else
		*ret = cJSON_Duplicate(cJSON_GetArrayItem(array, (int)d - 1), true);
	return 0;
}

/* Whether `v` is among the filter values: an array of them, or text with
 * the values separated by commas (Fusion's map()). */
static bool filter_match(const cJSON *v, const cJSON *values)
{
	_cleanup_free_ char *text = json_to_text(v), *list = NULL;
	const cJSON *item;

	if (cJSON_IsArray(values)) {
		cJSON_ArrayForEach(item, values) {
			_cleanup_free_ char *candidate = json_to_text(item);

			if (streq(candidate, text))
				return true;
		}
		return false;
	}
	list = json_to_text(values);
	for (char *p = list, *end; p; p = end ? end + 1 : NULL) {
		size_t len;

		end = strchr(p, ',');
		if (end)
			*end = '\0';
		while (*p == ' ')
			p++;
		len = strlen(p);
		while (len && p[len - 1] == ' ')
			p[--len] = '\0';
		if (streq(p, text))
			return true;
	}
	return false;
}

/* map(array; key; [filter key]; [filter values]): the values at `key` of
 * the items that pass the filter; items without the key add nothing. */
static int fn_map(struct eval *ev, const struct node *call, const struct call_args *args,
		  cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp), *item;
	_cleanup_free_ char *key = arg_text(args, 1), *filter_key = NULL;
	cJSON *out = cJSON_CreateArray();

	(void)ev;
	(void)call;
	if (arg_present(args, 2))
		filter_key = arg_text(args, 2);
	cJSON_ArrayForEach(item, array) {
		const cJSON *v = value_get_path(item, key);

		if (filter_key && !filter_match(value_get_path(item, filter_key),
						args->n > 3 ? args->v[3] : &mapping_null))
			continue;
		if (v && !cJSON_IsNull(v))
			append_copy(out, v);
	}
	*ret = out;
	return 0;
}

/* ---- sort ---- */

struct sort_item {
	const cJSON *item;
	const cJSON *key;
	size_t index;
};

struct sort_order {
	bool desc;
	bool ci;
};

static int type_rank(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return 0;
	if (cJSON_IsString(v))
		return 1;
	if (cJSON_IsBool(v))
		return 2;
	if (!v || cJSON_IsNull(v))
		return 4;
	return 3;
}

static int compare_sort_items(const void *pa, const void *pb, void *userdata)
{
	const struct sort_item *a = pa, *b = pb;
	const struct sort_order *order = userdata;
	int ra = type_rank(a->key), rb = type_rank(b->key), c = 0;

	/* Missing keys go last whatever the order, as in JavaScript. */
	if (ra == 4 || rb == 4)
		c = ra - rb;
	else if (ra != rb)
		c = order->desc ? rb - ra : ra - rb;
	else {
		if (ra == 0)
			c = a->key->valuedouble < b->key->valuedouble ? -1 :
			    a->key->valuedouble > b->key->valuedouble ? 1 :
									0;
		else if (ra == 1)
			c = order->ci ? strcasecmp(a->key->valuestring, b->key->valuestring) :
					strcmp(a->key->valuestring, b->key->valuestring);
		else if (ra == 2)
			c = cJSON_IsTrue(a->key) - cJSON_IsTrue(b->key);
		if (order->desc)
			c = -c;
	}
	return c ? c : (a->index < b->index ? -1 : 1);
}

static bool parse_order(const cJSON *v, struct sort_order *ret)
{
	static const struct {
		const char *name;
		struct sort_order order;
	} orders[] = {
		{ "asc", { false, false } },
		{ "desc", { true, false } },
		{ "asc ci", { false, true } },
		{ "desc ci", { true, true } },
	};

	if (!cJSON_IsString(v))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(orders); i++)
		if (strcasecmp(v->valuestring, orders[i].name) == 0) {
			*ret = orders[i].order;
			return true;
		}
	return false;
}

/* sort(array; [order]; [key]); sort(array; key) also works, as in
 * Fusion's examples. */
static int fn_sort(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp), *item;
	struct sort_order order = { 0 };
	_cleanup_free_ char *key = NULL;
	_cleanup_free_ struct sort_item *items = NULL;
	size_t n = 0;
	cJSON *out;

	if (args->n > 1 && !cJSON_IsNull(args->v[1]) && !parse_order(args->v[1], &order)) {
		if (args->n > 2)
			return eval_fail(ev, call,
					 "sort(): the order must be asc, desc, asc ci or desc ci");
		key = arg_text(args, 1);
	}
	if (args->n > 2 && arg_present(args, 2))
		key = arg_text(args, 2);
	items = xcalloc((size_t)cJSON_GetArraySize(array), sizeof(*items));
	cJSON_ArrayForEach(item, array) {
		items[n] = (struct sort_item){ .item = item,
					       .key = key ? value_get_path(item, key) : item,
					       .index = n };
		n++;
	}
	qsort_r(items, n, sizeof(*items), compare_sort_items, &order);
	out = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		append_copy(out, items[i].item);
	*ret = out;
	return 0;
}

/* ---- sets ---- */

struct printed {
	char *text; /* owned */
	size_t index;
};

static int compare_printed(const void *pa, const void *pb)
{
	const struct printed *a = pa, *b = pb;
	int c = strcmp(a->text, b->text);

	return c ? c : (a->index < b->index ? -1 : a->index > b->index);
}

/* Prints `key` of every item (the item itself without a key), sorted. */
static struct printed *print_sorted(const cJSON *array, const char *key, size_t *ret_n)
{
	size_t n = 0;
	struct printed *p = xcalloc((size_t)cJSON_GetArraySize(array), sizeof(*p));
	const cJSON *item;

	cJSON_ArrayForEach(item, array) {
		p[n].text = json_print(key ? value_get_path(item, key) : item);
		p[n].index = n;
		n++;
	}
	qsort(p, n, sizeof(*p), compare_printed);
	*ret_n = n;
	return p;
}

static void printed_free(struct printed *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
}

static bool printed_has(const struct printed *p, size_t n, const cJSON *v)
{
	_cleanup_free_ char *text = json_print(v);
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p[mid].text, text);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* distinct(array; [key]): the first item of each value, in order. */
static int fn_distinct(struct eval *ev, const struct node *call, const struct call_args *args,
		       cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp), *item;
	_cleanup_free_ char *key = arg_present(args, 1) ? arg_text(args, 1) : NULL;
	_cleanup_free_ bool *keep = NULL;
	struct printed *p;
	size_t n, i = 0;
	cJSON *out;

	(void)ev;
	(void)call;
	p = print_sorted(array, key, &n);
	keep = xcalloc(n ? n : 1, sizeof(*keep));
	for (size_t j = 0; j < n; j++)
		if (j == 0 || !streq(p[j].text, p[j - 1].text))
			keep[p[j].index] = true;
	printed_free(p, n);
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(item, array) {
		if (keep[i++])
			append_copy(out, item);
	}
	*ret = out;
	return 0;
}

/* Items of args[0] that are (or are not) among `others`. */
static cJSON *filter_by(const cJSON *array, const cJSON *others, bool keep_listed)
{
	size_t n;
	struct printed *p = print_sorted(others, NULL, &n);
	cJSON *out = cJSON_CreateArray();
	const cJSON *item;

	cJSON_ArrayForEach(item, array) {
		if (printed_has(p, n, item) == keep_listed)
			append_copy(out, item);
	}
	printed_free(p, n);
	return out;
}

/* remove(array; value1; value2; …) */
static int fn_remove(struct eval *ev, const struct node *call, const struct call_args *args,
		     cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL, *values = cJSON_CreateArray();
	const cJSON *array = arg_array(args, 0, &tmp);

	(void)ev;
	(void)call;
	for (size_t i = 1; i < args->n; i++)
		append_copy(values, args->v[i]);
	*ret = filter_by(array, values, false);
	return 0;
}

/* arrayDifference(array1; array2; [classic|symmetric]) */
static int fn_array_difference(struct eval *ev, const struct node *call,
			       const struct call_args *args, cJSON **ret)
{
	_cleanup_json_ cJSON *tmp1 = NULL, *tmp2 = NULL;
	const cJSON *a = arg_array(args, 0, &tmp1), *b = arg_array(args, 1, &tmp2), *item;
	_cleanup_free_ char *mode = arg_present(args, 2) ? arg_text(args, 2) : xstrdup("classic");
	cJSON *out, *more;

	if (!streq(mode, "classic") && !streq(mode, "symmetric"))
		return eval_fail(ev, call,
				 "arrayDifference(): the mode must be classic or symmetric");
	out = filter_by(a, b, false);
	if (streq(mode, "symmetric")) {
		more = filter_by(b, a, false);
		cJSON_ArrayForEach(item, more) {
			append_copy(out, item);
		}
		cJSON_Delete(more);
	}
	*ret = out;
	return 0;
}

/* ---- building arrays ---- */

/* merge(array1; array2; …): arrays are concatenated, other values added. */
static int fn_merge(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	_cleanup_json_ cJSON *out = cJSON_CreateArray();
	size_t count = 0;

	for (size_t i = 0; i < args->n; i++) {
		_cleanup_json_ cJSON *tmp = NULL;
		const cJSON *array = arg_array(args, i, &tmp), *item;

		count += (size_t)cJSON_GetArraySize(array);
		if (count > MAPPING_MAX_ARRAY)
			return too_many(ev, call);
		cJSON_ArrayForEach(item, array) {
			append_copy(out, item);
		}
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* add(array; value1; …): the values are added as they are, arrays too. */
static int fn_add(struct eval *ev, const struct node *call, const struct call_args *args,
		  cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp);
	cJSON *out;

	if ((size_t)cJSON_GetArraySize(array) + args->n - 1 > MAPPING_MAX_ARRAY)
		return too_many(ev, call);
	out = cJSON_Duplicate(array, true);
	for (size_t i = 1; i < args->n; i++)
		append_copy(out, args->v[i]);
	*ret = out;
	return 0;
}

static int flatten_into(cJSON *out, const cJSON *array, int64_t depth, size_t *count)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, array) {
		if (cJSON_IsArray(item) && depth > 0) {
			int r = flatten_into(out, item, depth - 1, count);

			if (r < 0)
				return r;
			continue;
		}
		if (++*count > MAPPING_MAX_ARRAY)
			return -E2BIG;
		append_copy(out, item);
	}
	return 0;
}

/* flatten(array; [depth]): one level unless told otherwise. */
static int fn_flatten(struct eval *ev, const struct node *call, const struct call_args *args,
		      cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL, *out = cJSON_CreateArray();
	const cJSON *array = arg_array(args, 0, &tmp);
	int64_t depth = 1;
	size_t count = 0;

	if (arg_present(args, 1) && arg_int(ev, call, args, 1, &depth) < 0)
		return -EINVAL;
	if (depth > MAPPING_MAX_DEPTH)
		depth = MAPPING_MAX_DEPTH;
	if (flatten_into(out, array, depth, &count) < 0)
		return too_many(ev, call);
	*ret = TAKE_PTR(out);
	return 0;
}

static int fn_reverse(struct eval *ev, const struct node *call, const struct call_args *args,
		      cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp);
	cJSON *out = cJSON_CreateArray();

	(void)ev;
	(void)call;
	for (int i = cJSON_GetArraySize(array) - 1; i >= 0; i--)
		append_copy(out, cJSON_GetArrayItem(array, i));
	*ret = out;
	return 0;
}

static int fn_shuffle(struct eval *ev, const struct node *call, const struct call_args *args,
		      cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp), *item;
	size_t n = 0, count = (size_t)cJSON_GetArraySize(array);
	_cleanup_free_ const cJSON **items = xcalloc(count ? count : 1, sizeof(*items));
	cJSON *out;

	(void)ev;
	(void)call;
	cJSON_ArrayForEach(item, array) {
		items[n++] = item;
	}
	for (size_t i = n; i > 1; i--) { /* Fisher–Yates */
		uint64_t rnd = 0;
		size_t j;
		const cJSON *t;

		while (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			;
		j = (size_t)(rnd % i);
		t = items[i - 1], items[i - 1] = items[j], items[j] = t;
	}
	out = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		append_copy(out, items[i]);
	*ret = out;
	return 0;
}

/* slice(array; start; [end]): 0-based with an exclusive end, negative
 * positions count from the end (JavaScript's slice, which Fusion uses). */
static int fn_slice(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp);
	int64_t n = cJSON_GetArraySize(array), start, end = n;
	cJSON *out;

	if (arg_int(ev, call, args, 1, &start) < 0)
		return -EINVAL;
	if (arg_present(args, 2) && arg_int(ev, call, args, 2, &end) < 0)
		return -EINVAL;
	start = start < 0 ? (start + n < 0 ? 0 : start + n) : (start > n ? n : start);
	end = end < 0 ? (end + n < 0 ? 0 : end + n) : (end > n ? n : end);
	out = cJSON_CreateArray();
	for (int64_t i = start; i < end; i++)
		append_copy(out, cJSON_GetArrayItem(array, (int)i));
	*ret = out;
	return 0;
}

/* keys(object): its keys; for an array its 1-based positions. */
static int fn_keys(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	const cJSON *item;
	cJSON *out = cJSON_CreateArray();
	int i = 1;

	(void)ev;
	(void)call;
	if (cJSON_IsObject(args->v[0]))
		cJSON_ArrayForEach(item, args->v[0]) {
			cJSON_AddItemToArray(out, cJSON_CreateString(item->string));
		}
	else if (cJSON_IsArray(args->v[0]))
		cJSON_ArrayForEach(item, args->v[0]) {
			cJSON_AddItemToArray(out, cJSON_CreateNumber(i++));
		}
	*ret = out;
	return 0;
}

/* toCollection(array; key field; value field) */
static int fn_to_collection(struct eval *ev, const struct node *call, const struct call_args *args,
			    cJSON **ret)
{
	_cleanup_json_ cJSON *tmp = NULL;
	const cJSON *array = arg_array(args, 0, &tmp), *item;
	_cleanup_free_ char *key = arg_text(args, 1), *value = arg_text(args, 2);
	cJSON *out = cJSON_CreateObject();

	(void)ev;
	(void)call;
	cJSON_ArrayForEach(item, array) {
		const cJSON *k = value_get_path(item, key), *v = value_get_path(item, value);
		_cleanup_free_ char *name = NULL;

		if (!k || cJSON_IsNull(k))
			continue;
		name = json_to_text(k);
		cJSON_DeleteItemFromObjectCaseSensitive(out, name);
		cJSON_AddItemToObject(out, name, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
	}
	*ret = out;
	return 0;
}

/* toArray(collection): [{key, value}, …], which toCollection(…; "key";
 * "value") turns back. */
static int fn_to_array(struct eval *ev, const struct node *call, const struct call_args *args,
		       cJSON **ret)
{
	const cJSON *item;
	cJSON *out = cJSON_CreateArray();

	(void)ev;
	(void)call;
	if (cJSON_IsArray(args->v[0])) {
		*ret = cJSON_Duplicate(args->v[0], true);
		cJSON_Delete(out);
		return 0;
	}
	if (cJSON_IsObject(args->v[0]))
		cJSON_ArrayForEach(item, args->v[0]) {
			cJSON *pair = cJSON_CreateObject();

			cJSON_AddStringToObject(pair, "key", item->string);
			cJSON_AddItemToObject(pair, "value", cJSON_Duplicate(item, true));
			cJSON_AddItemToArray(out, pair);
		}
	*ret = out;
	return 0;
}

const struct mapping_function mapping_functions_array[] = {
	{ .name = "join", .min_args = 1, .max_args = 2, .fn = fn_join },
	{ .name = "first", .min_args = 1, .max_args = 1, .fn = fn_first },
	{ .name = "last", .min_args = 1, .max_args = 1, .fn = fn_last },
	{ .name = "arrayElement", .min_args = 2, .max_args = 2, .fn = fn_array_element },
	{ .name = "map", .min_args = 2, .max_args = 4, .fn = fn_map },
	{ .name = "sort", .min_args = 1, .max_args = 3, .fn = fn_sort },
	{ .name = "distinct", .min_args = 1, .max_args = 2, .fn = fn_distinct },
	{ .name = "deduplicate", .min_args = 1, .max_args = 1, .fn = fn_distinct },
	{ .name = "remove", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_remove },
	{ .name = "arrayDifference", .min_args = 2, .max_args = 3, .fn = fn_array_difference },
	{ .name = "merge", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_merge },
	{ .name = "add", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_add },
	{ .name = "flatten", .min_args = 1, .max_args = 2, .fn = fn_flatten },
	{ .name = "reverse", .min_args = 1, .max_args = 1, .fn = fn_reverse },
	{ .name = "shuffle", .min_args = 1, .max_args = 1, .fn = fn_shuffle },
	{ .name = "slice", .min_args = 2, .max_args = 3, .fn = fn_slice },
	{ .name = "keys", .min_args = 1, .max_args = 1, .fn = fn_keys },
	{ .name = "toCollection", .min_args = 3, .max_args = 3, .fn = fn_to_collection },
	{ .name = "toArray", .min_args = 1, .max_args = 1, .fn = fn_to_array },
	{ .name = NULL },
};
