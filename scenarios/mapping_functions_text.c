/* SPDX-License-Identifier: MIT */
/*
 * Fusion's text functions: case, trimming, searching, cutting, splitting
 * and replacing. Positions count characters (code points), not bytes;
 * substring() is 0-based with an exclusive end as in Fusion, and
 * replace() replaces every occurrence of a plain search text, or what a
 * "/regex/flags" search matches (mapping_regex.c).
 */
#include "scenarios/mapping_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* length(text or array): characters of text, items of an array, keys of
 * a collection; null is 0. */
static int fn_length(struct eval *ev, const struct node *call, const struct call_args *args,
		     cJSON **ret)
{
	const cJSON *v = args->v[0];
	_cleanup_free_ char *text = NULL;

	if (cJSON_IsNull(v))
		return value_number_new(ev, call, 0, ret);
	if (cJSON_IsArray(v) || (cJSON_IsObject(v) && !json_is_file_value(v)))
		return value_number_new(ev, call, cJSON_GetArraySize(v), ret);
	text = json_to_text(v);
	return value_number_new(ev, call, (double)utf8_length(text), ret);
}

typedef uint32_t map_fn(uint32_t cp, size_t index, bool word_start);

static int map_text(struct eval *ev, const struct node *call, const struct call_args *args,
		    map_fn *fn, cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	size_t len = strlen(text), index = 0;
	bool word_start = true;
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (size_t i = 0; i < len; index++) {
		uint32_t cp;
		size_t n = utf8_decode(text + i, len - i, &cp);

		if (n == 1 && cp >= 0x80) /* an invalid byte: keep it as it was */
			strbuf_append(&sb, text + i, 1);
		else
			utf8_encode(&sb, fn(cp, index, word_start));
		word_start = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xa0;
		i += n;
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

static uint32_t to_lower(uint32_t cp, size_t index, bool word_start)
{
	(void)index;
	(void)word_start;
	return utf8_lower(cp);
}

static uint32_t to_upper(uint32_t cp, size_t index, bool word_start)
{
	(void)index;
	(void)word_start;
	return utf8_upper(cp);
}

static uint32_t to_capitalized(uint32_t cp, size_t index, bool word_start)
{
	(void)word_start;
	return index == 0 ? utf8_upper(cp) : cp;
}

static uint32_t to_start_case(uint32_t cp, size_t index, bool word_start)
{
	(void)index;
	return word_start ? utf8_upper(cp) : utf8_lower(cp);
}

static int fn_lower(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	return map_text(ev, call, args, to_lower, ret);
}

static int fn_upper(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	return map_text(ev, call, args, to_upper, ret);
}

static int fn_capitalize(struct eval *ev, const struct node *call, const struct call_args *args,
			 cJSON **ret)
{
	return map_text(ev, call, args, to_capitalized, ret);
}

static int fn_startcase(struct eval *ev, const struct node *call, const struct call_args *args,
			cJSON **ret)
{
	return map_text(ev, call, args, to_start_case, ret);
}

static bool is_trim_space(const char *s, size_t len, size_t *ret_n)
{
	uint32_t cp;

	*ret_n = utf8_decode(s, len, &cp);
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xa0 || cp == 0xfeff ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x3000;
}

/* trim(text): white space at both ends, Unicode spaces included (as
 * JavaScript's trim). */
static int fn_trim(struct eval *ev, const struct node *call, const struct call_args *args,
		   cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	size_t len = strlen(text), start = 0, end = 0, n;

	while (start < len && is_trim_space(text + start, len - start, &n))
		start += n;
	for (size_t i = start; i < len; i += n)
		if (!is_trim_space(text + i, len - i, &n))
			end = i + n;
	if (end < start)
		end = start;
	return value_string_take(ev, call, xstrndup(text + start, end - start), ret);
}

/* Reads a position argument the JavaScript way: missing or not a number
 * uses `fallback`, fractions are dropped. */
static int64_t position_arg(const struct call_args *args, size_t i, int64_t fallback)
{
	double d;

	if (!arg_present(args, i) || !value_to_number(args->v[i], &d) || isnan(d))
		return fallback;
	if (d > 1e15)
		return (int64_t)1e15;
	if (d < -1e15)
		return (int64_t)-1e15;
	return (int64_t)trunc(d);
}

/* substring(text; start; [end]): 0-based, end exclusive; negative
 * positions count as 0 and start > end swaps them (JavaScript). */
static int fn_substring(struct eval *ev, const struct node *call, const struct call_args *args,
			cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	int64_t count = (int64_t)utf8_length(text);
	int64_t start = position_arg(args, 1, 0), end = position_arg(args, 2, count), t;
	size_t from, to;

	start = start < 0 ? 0 : start > count ? count : start;
	end = end < 0 ? 0 : end > count ? count : end;
	if (start > end)
		t = start, start = end, end = t;
	from = utf8_offset(text, (size_t)start);
	to = from + utf8_offset(text + from, (size_t)(end - start));
	return value_string_take(ev, call, xstrndup(text + from, to - from), ret);
}

/* indexOf(text; value; [start]): character position or -1. */
static int fn_index_of(struct eval *ev, const struct node *call, const struct call_args *args,
		       cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *needle = arg_text(args, 1);
	int64_t start = position_arg(args, 2, 0);
	const char *found;
	size_t from;

	if (start < 0)
		start = 0;
	from = utf8_offset(text, (size_t)start);
	found = strstr(text + from, needle);
	if (!found)
		return value_number_new(ev, call, -1, ret);
	text[found - text] = '\0';
	return value_number_new(ev, call, (double)utf8_length(text), ret);
}

/* contains(text or array; value) */
static int fn_contains(struct eval *ev, const struct node *call, const struct call_args *args,
		       cJSON **ret)
{
	const cJSON *item;

	(void)ev;
	(void)call;
	if (cJSON_IsArray(args->v[0])) {
		cJSON_ArrayForEach(item, args->v[0]) {
			if (value_equal(item, args->v[1])) {
				*ret = cJSON_CreateTrue();
				return 0;
			}
		}
		*ret = cJSON_CreateFalse();
		return 0;
	}
	_cleanup_free_ char *text = arg_text(args, 0), *needle = arg_text(args, 1);

	*ret = cJSON_CreateBool(strstr(text, needle) != NULL);
	return 0;
}

static int fn_starts_with(struct eval *ev, const struct node *call, const struct call_args *args,
			  cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *prefix = arg_text(args, 1);

	(void)ev;
	(void)call;
	*ret = cJSON_CreateBool(strncmp(text, prefix, strlen(prefix)) == 0);
	return 0;
}

static int fn_ends_with(struct eval *ev, const struct node *call, const struct call_args *args,
			cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *suffix = arg_text(args, 1);
	size_t len = strlen(text), n = strlen(suffix);

	(void)ev;
	(void)call;
	*ret = cJSON_CreateBool(n <= len && memcmp(text + len - n, suffix, n) == 0);
	return 0;
}

/* split(text; separator): "" splits into characters. */
static int fn_split(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *sep = NULL;
	_cleanup_json_ cJSON *out = cJSON_CreateArray();
	size_t len = strlen(text), seplen, count = 0;
	const char *p = text;

	sep = args->n > 1 ? arg_text(args, 1) : xstrdup(",");
	seplen = strlen(sep);
	if (cJSON_IsNull(args->v[0])) {
		*ret = TAKE_PTR(out);
		return 0;
	}
	for (;;) {
		_cleanup_free_ char *piece = NULL;
		const char *next;
		size_t n;

		if (++count > MAPPING_MAX_ARRAY)
			return eval_fail(ev, call, "split(): more than %u items",
					 MAPPING_MAX_ARRAY);
		if (seplen == 0) {
			uint32_t cp;

			if (!*p)
				break;
			next = p + utf8_decode(p, len - (size_t)(p - text), &cp);
			n = (size_t)(next - p);
		} else {
			next = strstr(p, sep);
			n = next ? (size_t)(next - p) : strlen(p);
		}
		piece = xstrndup(p, n);
		cJSON_AddItemToArray(out, cJSON_CreateString(piece));
		if (!next)
			break;
		p = next + seplen;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static int replace_plain(const char *text, const char *search, const char *with, char **ret)
{
	size_t slen = strlen(search), wlen = strlen(with);
	struct strbuf sb;
	const char *p = text;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	if (slen == 0) {
		strbuf_puts(&sb, text);
		*ret = strbuf_steal(&sb);
		return 0;
	}
	for (const char *hit; (hit = strstr(p, search)); p = hit + slen) {
		strbuf_append(&sb, p, (size_t)(hit - p));
		strbuf_append(&sb, with, wlen);
		if (sb.len > MAPPING_MAX_RESULT) {
			strbuf_done(&sb);
			return -E2BIG;
		}
	}
	strbuf_puts(&sb, p);
	*ret = strbuf_steal(&sb);
	return 0;
}

/* replace(text; search; replacement) */
static int fn_replace(struct eval *ev, const struct node *call, const struct call_args *args,
		      cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *search = arg_text(args, 1),
			    *with = arg_text(args, 2), *out = NULL, *err = NULL;
	_cleanup_(mapping_regex_freep) struct mapping_regex *re = NULL;
	int r;

	r = mapping_regex_parse(search, &re, &err);
	if (r < 0)
		return eval_fail(ev, call, "replace(): %s", err);
	r = re ? mapping_regex_replace(re, text, with, &out) :
		 replace_plain(text, search, with, &out);
	if (r < 0)
		return eval_fail(ev, call, "replace(): the text would be longer than %u bytes",
				 MAPPING_MAX_RESULT);
	return value_string_take(ev, call, TAKE_PTR(out), ret);
}

/* matches(text; pattern): pattern is "/regex/flags" or a bare regex. */
static int fn_matches(struct eval *ev, const struct node *call, const struct call_args *args,
		      cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *pattern = arg_text(args, 1), *err = NULL;
	_cleanup_(mapping_regex_freep) struct mapping_regex *re = NULL;
	int r;

	r = mapping_regex_parse(pattern, &re, &err);
	if (r == 0 && !re)
		r = mapping_regex_compile(pattern, "", &re, &err);
	if (r < 0)
		return eval_fail(ev, call, "matches(): %s", err);
	*ret = cJSON_CreateBool(mapping_regex_matches(re, text));
	return 0;
}

/* ascii(text; [remove diacritics]): drops what is not ASCII; with true,
 * letters with diacritics become their base letter first. */
static int fn_ascii(struct eval *ev, const struct node *call, const struct call_args *args,
		    cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0);
	bool strip = args->n > 1 && mapping_truthy(args->v[1]);
	size_t len = strlen(text);
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		char base;

		i += utf8_decode(text + i, len - i, &cp);
		if (cp < 0x80)
			strbuf_putc(&sb, (char)cp);
		else if (strip && (base = utf8_strip_diacritic(cp)))
			strbuf_putc(&sb, base);
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

static bool is_emoji(uint32_t cp)
{
	return (cp >= 0x1f000 && cp <= 0x1faff) || (cp >= 0x2600 && cp <= 0x27bf) || cp == 0xfe0f ||
	       cp == 0x200d || (cp >= 0x1f1e6 && cp <= 0x1f1ff);
}

/* replaceEmojiCharacters(text; replacement) */
static int fn_replace_emoji(struct eval *ev, const struct node *call, const struct call_args *args,
			    cJSON **ret)
{
	_cleanup_free_ char *text = arg_text(args, 0), *with = arg_text(args, 1);
	size_t len = strlen(text);
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, "", 0);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(text + i, len - i, &cp);

		if (is_emoji(cp))
			strbuf_puts(&sb, with);
		else
			strbuf_append(&sb, text + i, n);
		i += n;
		if (sb.len > MAPPING_MAX_RESULT) {
			strbuf_done(&sb);
			return eval_fail(ev, call, "%s(): the text would be longer than %u bytes",
					 call_name(call), MAPPING_MAX_RESULT);
		}
	}
	return value_string_take(ev, call, strbuf_steal(&sb), ret);
}

const struct mapping_function mapping_functions_text[] = {
	{ .name = "length", .min_args = 1, .max_args = 1, .fn = fn_length },
	{ .name = "lower", .min_args = 1, .max_args = 1, .fn = fn_lower },
	{ .name = "upper", .min_args = 1, .max_args = 1, .fn = fn_upper },
	{ .name = "capitalize", .min_args = 1, .max_args = 1, .fn = fn_capitalize },
	{ .name = "startcase", .min_args = 1, .max_args = 1, .fn = fn_startcase },
	{ .name = "trim", .min_args = 1, .max_args = 1, .fn = fn_trim },
	{ .name = "substring", .min_args = 2, .max_args = 3, .fn = fn_substring },
	{ .name = "indexOf", .min_args = 2, .max_args = 3, .fn = fn_index_of },
	{ .name = "contains", .min_args = 2, .max_args = 2, .fn = fn_contains },
	{ .name = "startsWith", .min_args = 2, .max_args = 2, .fn = fn_starts_with },
	{ .name = "endsWith", .min_args = 2, .max_args = 2, .fn = fn_ends_with },
	{ .name = "split", .min_args = 1, .max_args = 2, .fn = fn_split },
	{ .name = "replace", .min_args = 3, .max_args = 3, .fn = fn_replace },
	{ .name = "matches", .min_args = 2, .max_args = 2, .fn = fn_matches },
	{ .name = "ascii", .min_args = 1, .max_args = 2, .fn = fn_ascii },
	{ .name = "replaceEmojiCharacters", .min_args = 2, .max_args = 2, .fn = fn_replace_emoji },
	{ .name = NULL },
};
