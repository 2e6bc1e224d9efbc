/* SPDX-License-Identifier: MIT */
/*
 * Fusion's math functions. The aggregates (sum, average, min, max,
 * median, stdevS, stdevP) take an array or the numbers as separate
 * arguments, skip nulls and read numeric text. round() rounds half up as
 * JavaScript's Math.round does, and formatNumber() defaults to Fusion's
 * European separators: ',' for decimals and '.' for thousands.
 */
#include "scenarios/mapping_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

#define MAX_DECIMALS 20

struct numbers {
	double *v; /* owned */
	size_t n, capacity;
};

static int add_number(struct eval *ev, const struct node *call, struct numbers *ns,
		      const cJSON *item)
{
	double d;

	if (cJSON_IsNull(item))
		return 0;
	if (!value_to_number(item, &d))
		return eval_fail(ev, call, "%s(): expects numbers, got %s", call_name(call),
				 value_type_name(item));
	ns->v = xgrow(ns->v, &ns->capacity, ns->n + 1, sizeof(*ns->v));
	ns->v[ns->n++] = d;
	return 0;
}

/* Every number in the arguments: arrays are opened, one level deep. */
static int collect(struct eval *ev, const struct node *call, const struct call_args *args,
		   struct numbers *ns)
{
	for (size_t i = 0; i < args->n; i++) {
		const cJSON *item;
		int r = 0;

		if (!cJSON_IsArray(args->v[i])) {
			r = add_number(ev, call, ns, args->v[i]);
			if (r < 0)
				return r;
			continue;
		}
		cJSON_ArrayForEach(item, args->v[i]) {
			r = add_number(ev, call, ns, item);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

enum aggregate { AGG_SUM, AGG_AVERAGE, AGG_MIN, AGG_MAX, AGG_MEDIAN, AGG_STDEV_S, AGG_STDEV_P };

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int aggregate(struct eval *ev, const struct node *call, const struct call_args *args,
		     enum aggregate what, cJSON **ret)
{
	struct numbers ns = { 0 };
	double sum = 0, result, mean, sq = 0;
	int r;

	r = collect(ev, call, args, &ns);
	if (r < 0) {
		free(ns.v);
		return r;
	}
	for (size_t i = 0; i < ns.n; i++)
		sum += ns.v[i];
	/* Nothing to average or compare: null, as a missing value would be. */
	if (what != AGG_SUM && (ns.n == 0 || (what == AGG_STDEV_S && ns.n < 2))) {
		free(ns.v);
		*ret = cJSON_CreateNull();
		return 0;
	}
	result = sum;
	mean = ns.n ? sum / (double)ns.n : 0;
	switch (what) {
	case AGG_SUM:
		break;
	case AGG_AVERAGE:
		result = mean;
		break;
	case AGG_MIN:
	case AGG_MAX:
		result = ns.v[0];
		for (size_t i = 1; i < ns.n; i++)
			if (what == AGG_MIN ? ns.v[i] < result : ns.v[i] > result)
				result = ns.v[i];
		break;
	case AGG_MEDIAN:
		qsort(ns.v, ns.n, sizeof(*ns.v), cmp_double);
		result = ns.n % 2 ? ns.v[ns.n / 2] : (ns.v[ns.n / 2 - 1] + ns.v[ns.n / 2]) / 2;
		break;
	case AGG_STDEV_S:
	case AGG_STDEV_P:
		for (size_t i = 0; i < ns.n; i++)
			sq += (ns.v[i] - mean) * (ns.v[i] - mean);
		result = sqrt(sq / (double)(what == AGG_STDEV_S ? ns.n - 1 : ns.n));
		break;
	}
	free(ns.v);
	return value_number_new(ev, call, result, ret);
}

#define AGGREGATE_FN(fname, what)                                                                \
	static int fname(struct eval *ev, const struct node *call, const struct call_args *args, \
			 cJSON **ret)                                                            \
	{                                                                                        \
		return aggregate(ev, call, args, what, ret);                                     \
	}

AGGREGATE_FN(fn_sum, AGG_SUM)
AGGREGATE_FN(fn_average, AGG_AVERAGE)
AGGREGATE_FN(fn_min, AGG_MIN)
AGGREGATE_FN(fn_max, AGG_MAX)
AGGREGATE_FN(fn_median, AGG_MEDIAN)
AGGREGATE_FN(fn_stdev_s, AGG_STDEV_S)
AGGREGATE_FN(fn_stdev_p, AGG_STDEV_P)

/* Half up, like Math.round; the tiny relative nudge keeps 1.005 at two
 * decimals from becoming 1.00 through binary representation. */
static double round_half_up(double x, int decimals)
{
	double p = pow(10, decimals), y = x * p;

	return floor(y + 0.5 + fabs(y) * DBL_EPSILON * 4) / p;
}

static int decimals_arg(struct eval *ev, const struct node *call, const struct call_args *args,
			size_t i, int *ret)
{
	int64_t d = 0;
	int r;

	if (arg_present(args, i)) {
		r = arg_int(ev, call, args, i, &d);
		if (r < 0)
			return r;
		if (d < 0 || d > MAX_DECIMALS)
			return eval_fail(ev, call, "%s(): decimals must be 0 to %d",
					 call_name(call), MAX_DECIMALS);
	}
	*ret = (int)d;
	return 0;
}

enum rounding { ROUND, CEIL, FLOOR, TRUNC, ABS };

static int unary(struct eval *ev, const struct node *call, const struct call_args *args,
		 enum rounding how, cJSON **ret)
{
	double x, p;
	int decimals = 0, r;

	r = arg_number(ev, call, args, 0, &x);
	if (r == 0)
		r = decimals_arg(ev, call, args, 1, &decimals);
	if (r < 0)
		return r;
	p = pow(10, decimals);
	switch (how) {
	case ROUND:
		x = round_half_up(x, decimals);
		break;
	case CEIL:
		x = ceil(x);
		break;
	case FLOOR:
		x = floor(x);
		break;
	case TRUNC:
		x = trunc(x * p) / p;
		break;
	case ABS:
		x = fabs(x);
		break;
	}
	return value_number_new(ev, call, x, ret);
}

#define UNARY_FN(fname, how)                                                                     \
	static int fname(struct eval *ev, const struct node *call, const struct call_args *args, \
			 cJSON **ret)                                                            \
	{                                                                                        \
		return unary(ev, call, args, how, ret);                                          \
	}

UNARY_FN(fn_round, ROUND)
UNARY_FN(fn_ceil, CEIL)
UNARY_FN(fn_floor, FLOOR)
UNARY_FN(fn_trunc, TRUNC)
UNARY_FN(fn_abs, ABS)

/* parseNumber(text; [decimal separator]): everything but digits, signs,
 * an exponent and the decimal separator is a thousands separator or
 * noise ("1 756,456" with "," is 1756.456). */
static int fn_parse_number(struct eval *ev, const struct node *call, const struct call_args *args,
			   cJSON **ret)
{
	_cleanup_free_ char *text = NULL, *sep = NULL;
	struct strbuf sb;
	size_t seplen;
	cJSON probe;
	double d;
	bool ok;

	if (cJSON_IsNumber(args->v[0]))
		return value_number_new(ev, call, args->v[0]->valuedouble, ret);
	text = arg_text(args, 0);
	sep = arg_present(args, 1) ? arg_text(args, 1) : xstrdup(".");
	seplen = strlen(sep);
	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (const char *p = text; *p;) {
		if (seplen && strncmp(p, sep, seplen) == 0) {
			strbuf_putc(&sb, '.');
			p += seplen;
			continue;
		}
		if (strchr("0123456789+-eE", *p))
			strbuf_putc(&sb, *p);
		p++;
	}
	probe = (cJSON){ .type = cJSON_String, .valuestring = sb.data };
	ok = value_to_number(&probe, &d);
	strbuf_done(&sb);
	if (!ok)
		return eval_fail(ev, call, "parseNumber(): the text is not a number");
	return value_number_new(ev, call, d, ret);
}

/* formatNumber(number; decimals; [decimal separator]; [thousands separator]) */
static int fn_format_number(struct eval *ev, const struct node *call, const struct call_args *args,
			    cJSON **ret)
{
	_cleanup_free_ char *dec = NULL, *thousands = NULL;
	char digits[512];
	const char *p, *point;
	struct strbuf sb;
	int decimals = 0, r;
	size_t intlen;
	double x;

	r = arg_number(ev, call, args, 0, &x);
	if (r == 0)
		r = decimals_arg(ev, call, args, 1, &decimals);
	if (r < 0)
		return r;
	if (fabs(x) >= 1e21)
		return eval_fail(ev, call, "formatNumber(): the number is too large");
	dec = args->n > 2 ? arg_text(args, 2) : xstrdup(",");
	thousands = args->n > 3 ? arg_text(args, 3) : xstrdup(".");
	x = round_half_up(x, decimals);
	snprintf(digits, sizeof(digits), "%.*f", decimals, x == 0 ? 0 : x);
	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	p = digits;
	if (*p == '-')
		strbuf_putc(&sb, *p++);
	point = strchr(p, '.');
	intlen = point ? (size_t)(point - p) : strlen(p);
	for (size_t i = 0; i < intlen; i++) {
		if (i > 0 && (intlen - i) % 3 == 0)
			strbuf_puts(&sb, thousands);
		strbuf_putc(&sb, p[i]);
	}
	if (point) {
		strbuf_puts(&sb, dec);
		strbuf_puts(&sb, point + 1);
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

const struct mapping_function mapping_functions_math[] = {
	{ .name = "sum", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_sum },
	{ .name = "average", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_average },
	{ .name = "min", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_min },
	{ .name = "max", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_max },
	{ .name = "median", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_median },
	{ .name = "stdevS", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_stdev_s },
	{ .name = "stdevP", .min_args = 1, .max_args = MAPPING_VARARGS, .fn = fn_stdev_p },
	{ .name = "round", .min_args = 1, .max_args = 2, .fn = fn_round },
	{ .name = "ceil", .min_args = 1, .max_args = 1, .fn = fn_ceil },
	{ .name = "floor", .min_args = 1, .max_args = 1, .fn = fn_floor },
	{ .name = "trunc", .min_args = 1, .max_args = 2, .fn = fn_trunc },
	{ .name = "abs", .min_args = 1, .max_args = 1, .fn = fn_abs },
	{ .name = "parseNumber", .min_args = 1, .max_args = 2, .fn = fn_parse_number },
	{ .name = "formatNumber", .min_args = 2, .max_args = 4, .fn = fn_format_number },
	{ .name = NULL },
};
