/* SPDX-License-Identifier: MIT */
/*
 * The mapping evaluator: walks a compiled template for one bundle. A
 * template of exactly one {{expression}} yields the expression's value
 * with its type; any other template yields text. References borrow from
 * the scope's bundles so reading a large output copies nothing until the
 * value is returned. Operators follow Fusion (MAPPING.md "Operators"):
 * '+' joins text when either side is text, the other arithmetic wants
 * numbers (numeric text and dates are read as numbers), comparisons never
 * fail and a missing path reads as null.
 */
#include "scenarios/mapping.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "scenarios/mapping_internal.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "util/xalloc.h"

const cJSON mapping_null = { .type = cJSON_NULL };

cJSON *mval_take(struct mval *v)
{
	cJSON *item = v->owned ? v->owned : cJSON_Duplicate(v->json, true);

	v->owned = NULL;
	v->json = NULL;
	return item;
}

int eval_fail(struct eval *ev, const struct node *at, const char *fmt, ...)
{
	const struct part *part = ev->part;
	_cleanup_free_ char *message = NULL;
	va_list ap;
	int len;

	if (ev->error)
		return -EINVAL;
	va_start(ap, fmt);
	message = xvasprintf(fmt, ap);
	va_end(ap);
	if (!part) {
		ev->error = TAKE_PTR(message);
		return -EINVAL;
	}
	/* Quote the expression so the user finds it; long ones are cut. */
	len = (int)(part->end - part->start);
	ev->error = xasprintf("%s (at position %zu in %.*s%s)", message, at->offset + 1,
			      len > 120 ? 120 : len, ev->mapping->text + part->start,
			      len > 120 ? "…" : "");
	return -EINVAL;
}

/* ---- references ---- */

/* One step of a path inside `cur`; NULL when missing. Indexes are 1-based;
 * an index written as text on an object reads that key. */
static const cJSON *step(const cJSON *cur, const struct segment *seg, const cJSON *index)
{
	double d;

	if (seg->kind == SEG_KEY)
		return cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, seg->key) : NULL;
	if (cJSON_IsObject(cur) && cJSON_IsString(index))
		return cJSON_GetObjectItemCaseSensitive(cur, index->valuestring);
	if (!cJSON_IsArray(cur) || !value_to_number(index, &d) || d != floor(d) || d < 1 ||
	    d > (double)INT32_MAX)
		return NULL;
	return cJSON_GetArrayItem(cur, (int)d - 1);
}

/* After "[]" every later segment applies to each item of the array. */
static int step_each(cJSON **all, const struct segment *seg, const cJSON *index)
{
	cJSON *next = cJSON_CreateArray();
	const cJSON *item;

	cJSON_ArrayForEach(item, *all) {
		const cJSON *v = seg->kind == SEG_ALL ? item : step(item, seg, index);

		cJSON_AddItemToArray(next, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
	}
	cJSON_Delete(*all);
	*all = next;
	return 0;
}

static int eval_ref(struct eval *ev, const struct node *n, struct mval *ret)
{
	const cJSON *cur =
		ev->scope->resolve ? ev->scope->resolve(ev->scope->userdata, n->ref.root) : NULL;
	_cleanup_json_ cJSON *all = NULL;

	for (size_t i = 0; i < n->ref.nsegments; i++) {
		const struct segment *seg = &n->ref.segments[i];
		struct mval index = { .json = &mapping_null };
		int r;

		if (!all && !cur)
			break;
		if (seg->kind == SEG_INDEX) {
			r = eval_node(ev, seg->index, &index);
			if (r < 0)
				return r;
		}
		if (all) {
			step_each(&all, seg, index.json);
		} else if (seg->kind == SEG_ALL) {
			if (cJSON_IsArray(cur))
				all = cJSON_Duplicate(cur, true);
			cur = NULL;
		} else {
			cur = step(cur, seg, index.json);
		}
		mval_done(&index);
	}
	if (all)
		*ret = mval_own(TAKE_PTR(all));
	else
		*ret = (struct mval){ .json = cur ? cur : &mapping_null };
	return 0;
}

/* ---- keywords ---- */

static cJSON *uuid_new(void)
{
	uint8_t b[16];
	char text[37];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n > 0)
			got += (size_t)n;
	}
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(text, sizeof(text),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return cJSON_CreateString(text);
}

static double random_unit(void)
{
	uint64_t v = 0;

	while (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		;
	return (double)(v >> 11) / 9007199254740992.0; /* 53 random bits in [0, 1) */
}

static int eval_keyword(struct eval *ev, const struct node *n, struct mval *ret)
{
	cJSON *item = NULL;
	int r;

	switch (n->keyword) {
	case KW_NOW:
		r = value_date_new(ev, n, ev->scope->now_ms, &item);
		if (r < 0)
			return r;
		break;
	case KW_UUID:
		item = uuid_new();
		break;
	case KW_TIMESTAMP:
		item = cJSON_CreateNumber(floor((double)ev->scope->now_ms / 1000.0));
		break;
	case KW_RANDOM:
		item = cJSON_CreateNumber(random_unit());
		break;
	}
	*ret = mval_own(item);
	return 0;
}

/* ---- operators ---- */

static const char *op_name(enum op op)
{
	static const char *const names[] = {
		[OP_OR] = "or", [OP_AND] = "and", [OP_NOT] = "not", [OP_EQ] = "=",  [OP_NE] = "!=",
		[OP_LT] = "<",	[OP_LE] = "<=",	  [OP_GT] = ">",    [OP_GE] = ">=", [OP_ADD] = "+",
		[OP_SUB] = "-", [OP_MUL] = "*",	  [OP_DIV] = "/",   [OP_MOD] = "%", [OP_NEG] = "-",
	};
	return names[op];
}

/* Arithmetic reads numbers, numeric text and dates (as epoch ms, so
 * "2.date - 1.date" is a duration as in Fusion). */
static bool arith_number(const cJSON *v, double *ret)
{
	int64_t ms;

	if (value_to_number(v, ret))
		return true;
	if (cJSON_IsString(v) && value_to_date(v, NULL, &ms) == 0) {
		*ret = (double)ms;
		return true;
	}
	return false;
}

static int arith(struct eval *ev, const struct node *n, const cJSON *a, const cJSON *b, cJSON **ret)
{
	enum op op = n->op.op;
	double x, y, z;

	/* '+' is Fusion's (JavaScript's): text on either side joins text. */
	if (op == OP_ADD && (cJSON_IsString(a) || cJSON_IsString(b))) {
		struct strbuf sb;
		int r;

		strbuf_init(&sb);
		r = value_text_append(ev, n, &sb, a);
		if (r == 0)
			r = value_text_append(ev, n, &sb, b);
		if (r < 0) {
			strbuf_done(&sb);
			return r;
		}
		return value_string_take(ev, n, strbuf_steal(&sb), ret);
	}
	if (!arith_number(a, &x) || (b && !arith_number(b, &y))) {
		if (!b)
			return eval_fail(ev, n, "'-' needs a number, got %s", value_type_name(a));
		return eval_fail(ev, n, "'%s' needs numbers, got %s and %s", op_name(op),
				 value_type_name(a), value_type_name(b));
	}
	switch (op) {
	case OP_NEG:
		z = -x;
		break;
	case OP_ADD:
		z = x + y;
		break;
	case OP_SUB:
		z = x - y;
		break;
	case OP_MUL:
		z = x * y;
		break;
	case OP_DIV:
		if (y == 0)
			return eval_fail(ev, n, "division by zero");
		z = x / y;
		break;
	case OP_MOD:
		if (y == 0)
			return eval_fail(ev, n, "division by zero in '%%'");
		z = fmod(x, y);
		break;
	default:
		return eval_fail(ev, n, "internal error: bad operator");
	}
	return value_number_new(ev, n, z, ret);
}

/* Ordering for < <= > >=: numbers (and numeric text against a number) by
 * value, two dates by instant, other text byte-wise. Anything else does
 * not compare, and the comparison is false rather than an error, so a
 * filter on a missing field simply does not pass. */
static bool compare(const cJSON *a, const cJSON *b, int *ret)
{
	double x, y;
	int64_t da, db;

	if ((cJSON_IsNumber(a) || cJSON_IsNumber(b)) && value_to_number(a, &x) &&
	    value_to_number(b, &y)) {
		*ret = x < y ? -1 : x > y ? 1 : 0;
		return true;
	}
	if (!cJSON_IsString(a) || !cJSON_IsString(b))
		return false;
	if (value_to_date(a, NULL, &da) == 0 && value_to_date(b, NULL, &db) == 0) {
		*ret = da < db ? -1 : da > db ? 1 : 0;
		return true;
	}
	*ret = strcmp(a->valuestring, b->valuestring);
	return true;
}

static bool relation(enum op op, const cJSON *a, const cJSON *b)
{
	int c;

	if (op == OP_EQ)
		return value_equal(a, b);
	if (op == OP_NE)
		return !value_equal(a, b);
	if (!compare(a, b, &c))
		return false;
	switch (op) {
	case OP_LT:
		return c < 0;
	case OP_LE:
		return c <= 0;
	case OP_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

static int eval_op(struct eval *ev, const struct node *n, struct mval *ret)
{
	struct mval a = { 0 }, b = { 0 };
	cJSON *item = NULL;
	int r;

	r = eval_node(ev, n->op.a, &a);
	if (r < 0)
		return r;
	if (n->op.op == OP_NOT || n->op.op == OP_AND || n->op.op == OP_OR) {
		bool t = mapping_truthy(a.json);

		mval_done(&a);
		if (n->op.op == OP_NOT || (n->op.op == OP_AND && !t) || (n->op.op == OP_OR && t)) {
			*ret = mval_own(cJSON_CreateBool(n->op.op == OP_NOT ? !t : t));
			return 0;
		}
		r = eval_node(ev, n->op.b, &b);
		if (r < 0)
			return r;
		*ret = mval_own(cJSON_CreateBool(mapping_truthy(b.json)));
		mval_done(&b);
		return 0;
	}
	if (n->op.b) {
		r = eval_node(ev, n->op.b, &b);
		if (r < 0) {
			mval_done(&a);
			return r;
		}
	}
	if (n->op.op >= OP_EQ && n->op.op <= OP_GE) {
		item = cJSON_CreateBool(relation(n->op.op, a.json, b.json));
		r = 0;
	} else {
		r = arith(ev, n, a.json, b.json, &item);
	}
	mval_done(&a);
	mval_done(&b);
	if (r < 0)
		return r;
	*ret = mval_own(item);
	return 0;
}

/* ---- calls ---- */

static int eval_call(struct eval *ev, const struct node *n, struct mval *ret)
{
	const struct mapping_function *fn = n->call.fn;
	_cleanup_free_ struct mval *vals = NULL;
	_cleanup_free_ const cJSON **jsons = NULL;
	struct call_args args = { .n = n->call.nargs };
	cJSON *item = NULL;
	size_t done = 0;
	int r = 0;

	if (fn->lazy)
		return fn->lazy(ev, n, ret);
	vals = xcalloc(n->call.nargs, sizeof(*vals));
	jsons = xcalloc(n->call.nargs, sizeof(*jsons));
	args.v = jsons;
	for (; done < n->call.nargs; done++) {
		r = eval_node(ev, n->call.args[done], &vals[done]);
		if (r < 0)
			break;
		jsons[done] = vals[done].json;
	}
	if (r == 0)
		r = fn->fn(ev, n, &args, &item);
	for (size_t i = 0; i < done; i++)
		mval_done(&vals[i]);
	if (r < 0) {
		cJSON_Delete(item);
		if (!ev->error)
			eval_fail(ev, n, "%s() failed", fn->name);
		return -EINVAL;
	}
	*ret = mval_own(item ? item : cJSON_CreateNull());
	return 0;
}

int eval_node(struct eval *ev, const struct node *n, struct mval *ret)
{
	switch (n->kind) {
	case NODE_LITERAL:
		*ret = (struct mval){ .json = n->literal };
		return 0;
	case NODE_REF:
		return eval_ref(ev, n, ret);
	case NODE_KEYWORD:
		return eval_keyword(ev, n, ret);
	case NODE_UNARY:
	case NODE_BINARY:
		return eval_op(ev, n, ret);
	case NODE_CALL:
		return eval_call(ev, n, ret);
	}
	return -EINVAL;
}

/* ---- templates ---- */

static int eval_text(struct eval *ev, cJSON **ret)
{
	struct strbuf sb;
	int r = 0;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (size_t i = 0; i < ev->mapping->nparts && r == 0; i++) {
		const struct part *part = &ev->mapping->parts[i];
		struct mval v;

		if (part->text) {
			strbuf_puts(&sb, part->text);
			continue;
		}
		ev->part = part;
		r = eval_node(ev, part->expr, &v);
		if (r == 0) {
			r = value_text_append(ev, part->expr, &sb, v.json);
			mval_done(&v);
		}
	}
	if (r < 0) {
		strbuf_done(&sb);
		return r;
	}
	*ret = cJSON_CreateString(sb.data);
	strbuf_done(&sb);
	return 0;
}

int mapping_eval(const struct mapping *mapping, const struct mapping_scope *scope, cJSON **ret,
		 char **reterr_msg)
{
	struct eval ev = { .mapping = mapping, .scope = scope };
	cJSON *result = NULL;
	int r;

	if (mapping->typed) {
		struct mval v;

		ev.part = &mapping->parts[0];
		r = eval_node(&ev, mapping->parts[0].expr, &v);
		if (r == 0)
			result = mval_take(&v);
	} else {
		r = eval_text(&ev, &result);
	}
	tz_free(ev.tz);
	if (r < 0) {
		if (reterr_msg)
			*reterr_msg = ev.error ? TAKE_PTR(ev.error) : xstrdup("mapping failed");
		free(ev.error);
		return -EINVAL;
	}
	*ret = result;
	return 0;
}

bool mapping_truthy(const cJSON *value)
{
	if (!value || cJSON_IsNull(value) || cJSON_IsFalse(value))
		return false;
	if (cJSON_IsNumber(value))
		return value->valuedouble != 0;
	if (cJSON_IsString(value))
		return value->valuestring[0] != '\0' && !streq(value->valuestring, "false");
	return true;
}
