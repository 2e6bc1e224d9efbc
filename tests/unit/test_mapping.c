/* SPDX-License-Identifier: MIT */
/*
 * The mapping language's core: templates and type preservation,
 * references, literals, keywords, operators and their precedence, syntax
 * errors with their offsets, and evaluation errors. Functions are covered
 * by test_mapping_functions.c, dates and zones by test_mapping_dates.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"
#include "test_mapping_cases.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/mapping.h"
#include "util/json.h"

static const struct mapping_case core_cases[] = {
	/* templates: one expression keeps its type, anything else is text */
	{ "plain text", NULL, "\"plain text\"" },
	{ "", NULL, "\"\"" },
	{ "{{1.count}}", NULL, "3" },
	{ "{{1.flag}}", NULL, "true" },
	{ "{{1.tags}}", NULL, "[\"a\",\"b\",\"c\"]" },
	{ "{{1.nested}}", NULL, "{\"deep\":{\"v\":42}}" },
	{ "{{2.file}}", NULL,
	  "{\"name\":\"out.png\",\"size\":10,\"mime\":\"image/png\",\"sha256\":\"ab\","
	  "\"path\":\"/blobs/ab\"}" },
	{ "{{1.nothing}}", NULL, "null" },
	{ " {{1.count}}", NULL, "\" 3\"" },
	{ "{{1.count}}{{1.count}}", NULL, "\"33\"" },
	{ "n={{1.count}} f={{1.flag}} x={{1.nothing}}.", NULL, "\"n=3 f=true x=.\"" },
	{ "{{1.tags}}", NULL, "[\"a\",\"b\",\"c\"]" },
	{ "tags: {{1.tags}}", NULL, "\"tags: [\\\"a\\\",\\\"b\\\",\\\"c\\\"]\"" },
	{ "file: {{2.file}}", NULL, "\"file: out.png\"" },
	{ "{{1.ratio}}%", NULL, "\"0.25%\"" },
	{ "{{1.big}}", NULL, "1e+21" },
	{ "total {{1.whole}}", NULL, "\"total 1500\"" },
	{ "a }} b", NULL, "\"a }} b\"" },
	{ "{{'}}'}}", NULL, "\"}}\"" },
	{ "{{ 1.count }}", NULL, "3" },

	/* references */
	{ "{{1.name}}", NULL, "\"Report.pdf\"" },
	{ "{{1.items[2].name}}", NULL, "\"y\"" },
	{ "{{1.items[1].id}}", NULL, "1" },
	{ "{{1.tags[1]}}", NULL, "\"a\"" },
	{ "{{1.tags[0]}}", NULL, "null" },
	{ "{{1.tags[4]}}", NULL, "null" },
	{ "{{1.tags[1 + 1]}}", NULL, "\"b\"" },
	{ "{{1.tags[1.count]}}", NULL, "\"c\"" },
	{ "{{1.tags['2']}}", NULL, "\"b\"" },
	{ "{{1.nested['deep'].v}}", NULL, "42" },
	{ "{{1.nested.deep.v}}", NULL, "42" },
	{ "{{1.`Customer Name`}}", NULL, "\"ACME\"" },
	{ "{{1.`0`}}", NULL, "\"zero\"" },
	{ "{{`1`.count}}", NULL, "3" },
	{ "{{1.missing}}", NULL, "null" },
	{ "{{1.missing.deeper[3].x}}", NULL, "null" },
	{ "{{1.name.length}}", NULL, "null" },
	{ "{{7.anything}}", NULL, "null" },
	{ "{{1.items[].name}}", NULL, "[\"x\",\"y\"]" },
	{ "{{1.items[]}}", NULL, "[{\"id\":1,\"name\":\"x\"},{\"id\":2,\"name\":\"y\"}]" },
	{ "{{execution.id}}", NULL, "\"exec-7\"" },
	{ "{{executionId}}", NULL, "\"exec-7\"" },
	{ "{{scenario.name}}", NULL, "\"convert\"" },
	{ "{{scenarioName}}", NULL, "\"convert\"" },
	{ "{{bundle.index}} of {{bundle.total}}", NULL, "\"1 of 2\"" },
	{ "{{error.message}}", NULL, "null" },
	{ "{{trigger.body.id}}", NULL, "\"w-1\"" },
	{ "{{1.data.2fa}}", NULL, "true" },

	/* literals and keywords */
	{ "{{'single'}}", NULL, "\"single\"" },
	{ "{{\"double\"}}", NULL, "\"double\"" },
	{ "{{'it\\'s'}}", NULL, "\"it's\"" },
	{ "{{'a\\nb'}}", NULL, "\"a\\nb\"" },
	{ "{{'C:\\temp\\x'}}", NULL, "\"C:\\temp\\\\x\"" },
	{ "{{42}}", NULL, "42" },
	{ "{{-4.5}}", NULL, "-4.5" },
	{ "{{1e3}}", NULL, "1000" },
	{ "{{true}}", NULL, "true" },
	{ "{{false}}", NULL, "false" },
	{ "{{null}}", NULL, "null" },
	{ "{{emptystring}}", NULL, "\"\"" },
	{ "{{emptyarray}}", NULL, "[]" },
	{ "a{{space}}b{{tab}}c{{newline}}d", NULL, "\"a b\\tc\\nd\"" },
	{ "{{now}}", NULL, "\"2026-11-28T18:00:00.000Z\"" },
	{ "{{now()}}", NULL, "\"2026-11-28T18:00:00.000Z\"" },
	{ "{{timestamp}}", NULL, "1795888800" },
	{ "{{length(uuid)}}", NULL, "36" },
	{ "{{substring(uuid; 14; 15)}}", NULL, "\"4\"" },
	{ "{{random < 1 and random >= 0}}", NULL, "true" },
	{ "{{floor(pi * 100)}}", NULL, "314" },

	/* arithmetic */
	{ "{{1 + 2 * 3}}", NULL, "7" },
	{ "{{(1 + 2) * 3}}", NULL, "9" },
	{ "{{10 - 4 - 3}}", NULL, "3" },
	{ "{{2 * 3 % 4}}", NULL, "2" },
	{ "{{7 / 2}}", NULL, "3.5" },
	{ "{{-1.count + 1}}", NULL, "-2" },
	{ "{{- (2 + 3)}}", NULL, "-5" },
	{ "{{1.count * 2}}", NULL, "6" },
	{ "{{1.price * 2}}", NULL, "25" },
	{ "{{1.price - 0.5}}", NULL, "12" },
	{ "{{'a' + 'b'}}", NULL, "\"ab\"" },
	{ "{{'-' + 1.count}}", NULL, "\"-3\"" },
	{ "{{1.price + 1}}", NULL, "\"12.501\"" },
	{ "{{1.count + 1}}", NULL, "4" },
	{ "{{'n' + null}}", NULL, "\"n\"" },
	{ "{{'2026-11-28T18:00:10.000Z' - '2026-11-28T18:00:00.000Z'}}", NULL, "10000" },
	{ "{{(now - '2026-11-27T18:00:00.000Z') / 1000 / 60 / 60 / 24}}", NULL, "1" },

	/* comparison and logic */
	{ "{{1 = 1}}", NULL, "true" },
	{ "{{1 = '1'}}", NULL, "true" },
	{ "{{1.price = 12.5}}", NULL, "true" },
	{ "{{'a' = 'A'}}", NULL, "false" },
	{ "{{1 != 2}}", NULL, "true" },
	{ "{{null = 1.missing}}", NULL, "true" },
	{ "{{'' = null}}", NULL, "false" },
	{ "{{'2026-01-01' = '2026-01-01T00:00:00.000Z'}}", NULL, "true" },
	{ "{{'2026-01-01' = '2026-01-02'}}", NULL, "false" },
	{ "{{1.tags = 1.tags}}", NULL, "true" },
	{ "{{2 < 10}}", NULL, "true" },
	{ "{{'2' < '10'}}", NULL, "false" },
	{ "{{'2' < 10}}", NULL, "true" },
	{ "{{'b' >= 'a'}}", NULL, "true" },
	{ "{{1.missing > 0}}", NULL, "false" },
	{ "{{1.missing < 0}}", NULL, "false" },
	{ "{{'2026-01-02' > '2026-01-01T23:00:00Z'}}", NULL, "true" },
	{ "{{1 = 1 and 2 = 2}}", NULL, "true" },
	{ "{{1 = 2 or 2 = 2}}", NULL, "true" },
	{ "{{1 = 2 & 2 = 2}}", NULL, "false" },
	{ "{{1 = 2 | 2 = 2}}", NULL, "true" },
	{ "{{not 1 = 2}}", NULL, "true" },
	{ "{{not 1.flag}}", NULL, "false" },
	{ "{{not not 1.name}}", NULL, "true" },
	{ "{{1 = 1 or 1 = 2 and 1 = 2}}", NULL, "true" },
	{ "{{(1 = 1 or 1 = 2) and 1 = 2}}", NULL, "false" },
	{ "{{1 + 1 = 2}}", NULL, "true" },
	{ "{{1.missing or 'x'}}", NULL, "true" },
	{ "{{1.name and 1.empty}}", NULL, "false" },
	/* and/or short-circuit: the right side's error never happens */
	{ "{{1 = 2 and 'a' * 2}}", NULL, "false" },
	{ "{{1 = 1 or 'a' * 2}}", NULL, "true" },

	/* evaluation errors: type errors name the operator, types and position */
	{ "{{'a' * 2}}", NULL, NULL,
	  "'*' needs numbers, got text and number (at position 7 in {{'a' * 2}})" },
	{ "x {{1.tags - 1}}", NULL, NULL,
	  "'-' needs numbers, got array and number (at position 12" },
	{ "{{-'a'}}", NULL, NULL, "'-' needs a number, got text" },
	{ "{{1 / 0}}", NULL, NULL, "division by zero" },
	{ "{{5 % 0}}", NULL, NULL, "division by zero" },
	{ "{{true + 1}}", NULL, NULL, "'+' needs numbers, got boolean and number" },
	{ "{{1.missing * 2}}", NULL, NULL, "got null and number" },
	{ "{{1e308 * 10}}", NULL, NULL, "not a finite number" },
	{ NULL },
};

static void test_core(void **state)
{
	(void)state;
	mapping_cases_run(core_cases);
}

struct syntax_case {
	const char *text;
	size_t offset;
	const char *message;
};

static const struct syntax_case syntax_cases[] = {
	{ "abc {{1.name", 4, "unterminated '{{'" },
	{ "{{", 0, "unterminated '{{'" },
	{ "x{{}}", 1, "empty expression" },
	{ "{{ }}", 0, "empty expression" },
	{ "{{lenght(1.name)}}", 2, "unknown function 'lenght' (did you mean 'length'?)" },
	{ "{{frobnicate(1)}}", 2, "unknown function 'frobnicate'" },
	{ "{{replace(1.a; 'x'; 'y'}}", 23,
	  "expected ')' to close 'replace(' opened at position 3" },
	{ "{{replace(1.a, 'x', 'y')}}", 13, "arguments are separated by ';', not ','" },
	{ "{{(1 + 2}}", 8, "expected ')' to close '(' opened at position 3" },
	{ "{{1 + }}", 6, "expected an expression before '}}'" },
	{ "{{1 2}}", 4, "expected an operator or '}}', found '2'" },
	{ "{{1.name)}}", 8, "unmatched ')'" },
	{ "{{'abc}}", 2, "unterminated text literal" },
	{ "{{1.`abc}}", 4, "unterminated '`'" },
	{ "{{1.}}", 4, "expected a field name after '.'" },
	{ "{{1.tags[1}}", 10, "expected ']'" },
	{ "{{if(1; 2)}}", 2, "'if' takes 3 arguments, got 2" },
	{ "{{substring('a')}}", 2, "'substring' takes at least 2 arguments, got 1" },
	{ "{{lower('a'; 'b')}}", 2, "'lower' takes 1 argument, got 2" },
	{ "{{1 # 2}}", 4, "unexpected character" },
	{ "ok {{1.a}} then {{upper(}}", 24, "expected an expression before '}}'" },
	{ NULL },
};

static void test_syntax_errors(void **state)
{
	(void)state;
	for (const struct syntax_case *c = syntax_cases; c->text; c++) {
		struct mapping *m = NULL;
		struct mapping_error err = { 0 };
		int r = mapping_compile(c->text, &m, &err);

		if (r != -EINVAL || !err.message || !strstr(err.message, c->message) ||
		    err.offset != c->offset)
			fail_msg("'%s': r=%d offset=%zu message '%s', expected offset %zu '%s'",
				 c->text, r, err.offset, err.message ? err.message : "(none)",
				 c->offset, c->message);
		assert_null(m);
		free(err.message);
	}
}

static void test_limits(void **state)
{
	struct mapping_error err = { 0 };
	struct mapping *m = NULL;
	size_t n = MAPPING_MAX_DEPTH + 1, len = 5 + 2 * n;
	char *text = malloc(len + 1);

	(void)state;
	/* nesting beyond MAPPING_MAX_DEPTH */
	memcpy(text, "{{", 2);
	memset(text + 2, '(', n);
	text[2 + n] = '1';
	memset(text + 3 + n, ')', n);
	memcpy(text + 3 + 2 * n, "}}", 3);
	assert_int_equal(mapping_compile(text, &m, &err), -EINVAL);
	assert_non_null(strstr(err.message, "nested too deeply"));
	free(err.message);
	free(text);

	/* a long operator chain is bounded too (the evaluator recurses) */
	len = 2 + 4 * 1000 + 2;
	text = malloc(len + 1);
	memcpy(text, "{{1", 3);
	for (size_t i = 0; i < 999; i++)
		memcpy(text + 3 + 4 * i, " + 1", 4);
	memcpy(text + 3 + 4 * 999, "}}", 3);
	assert_int_equal(mapping_compile(text, &m, &err), -EINVAL);
	assert_non_null(strstr(err.message, "too deeply nested or too long"));
	free(err.message);
	free(text);

	/* the template size */
	text = malloc(MAPPING_MAX_TEXT + 2);
	memset(text, 'a', MAPPING_MAX_TEXT + 1);
	text[MAPPING_MAX_TEXT + 1] = '\0';
	assert_int_equal(mapping_compile(text, &m, &err), -EINVAL);
	free(err.message);
	free(text);
}

static int collect_ref(void *userdata, const char *root, size_t offset)
{
	char *buf = userdata;
	size_t len = strlen(buf);

	snprintf(buf + len, 256 - len, "%s@%zu ", root, offset);
	return strcmp(root, "stop") == 0 ? 7 : 0;
}

static void test_foreach_ref(void **state)
{
	struct mapping_error err = { 0 };
	struct mapping *m = NULL;
	char buf[256] = "";

	(void)state;
	assert_int_equal(mapping_compile("a {{1.x}} {{if(execution.id; 3.list[2.i]; `4`)}} "
					 "{{executionId}} {{now}}",
					 &m, &err),
			 0);
	assert_false(mapping_is_constant(m));
	assert_int_equal(mapping_foreach_ref(m, collect_ref, buf), 0);
	assert_string_equal(buf, "1@4 execution@15 3@29 2@36 4@42 execution@51 ");
	mapping_free(m);

	buf[0] = '\0';
	assert_int_equal(mapping_compile("{{stop.a + 1.b}}", &m, &err), 0);
	assert_int_equal(mapping_foreach_ref(m, collect_ref, buf), 7);
	assert_string_equal(buf, "stop@2 ");
	mapping_free(m);

	assert_int_equal(mapping_compile("no refs", &m, &err), 0);
	assert_true(mapping_is_constant(m));
	assert_string_equal(mapping_text(m), "no refs");
	mapping_free(m);
	assert_null(mapping_free(NULL));
}

static void test_truthy(void **state)
{
	static const struct {
		const char *json;
		bool truthy;
	} cases[] = {
		{ "false", false },	{ "null", false },  { "\"\"", false }, { "0", false },
		{ "\"false\"", false }, { "true", true },   { "1", true },     { "-0.5", true },
		{ "\"0\"", true },	{ "\"no\"", true }, { "[]", true },    { "{}", true },
	};

	(void)state;
	assert_false(mapping_truthy(NULL));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *v = cJSON_Parse(cases[i].json);

		if (mapping_truthy(v) != cases[i].truthy)
			fail_msg("mapping_truthy(%s) != %d", cases[i].json, cases[i].truthy);
		cJSON_Delete(v);
	}
}

/* One compiled mapping evaluated against many bundles: the point of
 * compiling once. */
static void test_reuse(void **state)
{
	struct mapping_error err = { 0 };
	struct mapping *m = NULL;

	(void)state;
	assert_int_equal(mapping_compile("{{upper(1.name)}}-{{1.count * 2}}", &m, &err), 0);
	for (int i = 0; i < 3; i++) {
		char scope[128], expect[64];

		snprintf(scope, sizeof(scope), "{\"1\":{\"name\":\"n%d\",\"count\":%d}}", i, i);
		snprintf(expect, sizeof(expect), "\"N%d-%d\"", i, i * 2);
		mapping_case_check(m, scope, NULL, expect, NULL);
	}
	mapping_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core),   cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_limits), cmocka_unit_test(test_foreach_ref),
		cmocka_unit_test(test_truthy), cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
