/* SPDX-License-Identifier: MIT */
/*
 * util/yaml: positions, scalar styles and core-schema typing, duplicate keys,
 * aliases and the limits that keep a hostile file from costing much.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <string.h>

#include "util/diag.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "util/yaml.h"

static const struct yaml_limits limits = {
	.max_size = 1 << 20,
	.max_depth = 16,
	.max_nodes = 1000,
};

/* Parses `text`; returns what yaml_tree_parse returned. */
static int parse(const char *text, struct yaml_node **root, struct diag_list *diags)
{
	diag_list_init(diags);
	*root = NULL;
	return yaml_tree_parse(text, strlen(text), "t.yaml", &limits, root, diags);
}

static void test_positions_and_styles(void **state)
{
	const char *text = "name: plain text\n"
			   "quoted: \"d q\"\n"
			   "single: 's q'\n"
			   "block: |\n"
			   "  line one\n"
			   "  line two\n"
			   "list:\n"
			   "  - a\n"
			   "  - {x: 1, y: [2, 3]}\n"
			   "uni: é é {{x}}\n";
	_cleanup_yaml_node_ struct yaml_node *root = NULL;
	struct diag_list diags;
	const struct yaml_node *n, *list;

	(void)state;
	assert_int_equal(parse(text, &root, &diags), 0);
	assert_int_equal(diags.count, 0);
	assert_non_null(root);
	assert_int_equal(root->kind, YAML_NODE_MAPPING);
	assert_int_equal(root->style, YAML_STYLE_BLOCK);
	assert_int_equal(root->count, 6);

	n = yaml_node_get(root, "name");
	assert_string_equal(n->value, "plain text");
	assert_int_equal(n->style, YAML_STYLE_PLAIN);
	assert_int_equal(n->line, 1);
	assert_int_equal(n->column, 7);
	assert_int_equal(yaml_node_get_pair(root, "name")->key->column, 1);

	n = yaml_node_get(root, "quoted");
	assert_string_equal(n->value, "d q");
	assert_int_equal(n->style, YAML_STYLE_DOUBLE_QUOTED);
	assert_int_equal(n->line, 2);
	assert_int_equal(n->column, 9); /* the opening quote */

	n = yaml_node_get(root, "single");
	assert_int_equal(n->style, YAML_STYLE_SINGLE_QUOTED);

	n = yaml_node_get(root, "block");
	assert_string_equal(n->value, "line one\nline two\n");
	assert_int_equal(n->style, YAML_STYLE_LITERAL);
	assert_int_equal(n->line, 4);
	assert_true(n->end_line > n->line);

	list = yaml_node_get(root, "list");
	assert_int_equal(list->kind, YAML_NODE_SEQUENCE);
	assert_int_equal(list->count, 2);
	assert_int_equal(list->items[0]->line, 8);
	assert_int_equal(list->items[0]->column, 5);
	n = list->items[1];
	assert_int_equal(n->kind, YAML_NODE_MAPPING);
	assert_int_equal(n->style, YAML_STYLE_FLOW);
	assert_int_equal(n->line, 9);
	assert_int_equal(n->column, 5);
	n = yaml_node_get(n, "y");
	assert_int_equal(n->items[1]->column, 19);

	/* Columns count characters, not bytes, as editors do. */
	n = yaml_node_get(root, "uni");
	assert_int_equal(n->column, 6);
	assert_int_equal(n->end_line, n->line);
	diag_list_done(&diags);
}

static void test_scalar_types(void **state)
{
	static const struct {
		const char *yaml;
		enum yaml_scalar_type type;
		const char *json;
	} cases[] = {
		{ "v: 10", YAML_SCALAR_INT, "10" },
		{ "v: -7", YAML_SCALAR_INT, "-7" },
		{ "v: 0x1f", YAML_SCALAR_INT, "31" },
		{ "v: 0o17", YAML_SCALAR_INT, "15" },
		{ "v: \"10\"", YAML_SCALAR_STRING, "\"10\"" },
		{ "v: '10'", YAML_SCALAR_STRING, "\"10\"" },
		{ "v: 1.5", YAML_SCALAR_FLOAT, "1.5" },
		{ "v: 1e3", YAML_SCALAR_FLOAT, "1000" },
		{ "v: .5", YAML_SCALAR_FLOAT, "0.5" },
		{ "v: true", YAML_SCALAR_BOOL, "true" },
		{ "v: False", YAML_SCALAR_BOOL, "false" },
		{ "v: yes", YAML_SCALAR_STRING, "\"yes\"" }, /* YAML 1.1's booleans are text */
		{ "v: no", YAML_SCALAR_STRING, "\"no\"" },
		{ "v: ~", YAML_SCALAR_NULL, "null" },
		{ "v: null", YAML_SCALAR_NULL, "null" },
		{ "v:", YAML_SCALAR_NULL, "null" },
		{ "v: \"\"", YAML_SCALAR_STRING, "\"\"" },
		{ "v: 08:00", YAML_SCALAR_STRING, "\"08:00\"" },
		{ "v: 2026-12-01T08:00:00", YAML_SCALAR_STRING, "\"2026-12-01T08:00:00\"" },
		{ "v: 1.2.3", YAML_SCALAR_STRING, "\"1.2.3\"" },
		{ "v: !!str 10", YAML_SCALAR_STRING, "\"10\"" },
		{ "v: !!int \"10\"", YAML_SCALAR_INT, "10" },
		{ "v: ! 10", YAML_SCALAR_STRING, "\"10\"" },
		{ "v: 15m", YAML_SCALAR_STRING, "\"15m\"" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_yaml_node_ struct yaml_node *root = NULL;
		_cleanup_free_ char *json = NULL;
		_cleanup_json_ cJSON *tree = NULL;
		struct diag_list diags;
		const struct yaml_node *v;

		assert_int_equal(parse(cases[i].yaml, &root, &diags), 0);
		v = yaml_node_get(root, "v");
		assert_non_null(v);
		if (yaml_scalar_type(v) != cases[i].type)
			fail_msg("'%s': type %d, want %d", cases[i].yaml, yaml_scalar_type(v),
				 cases[i].type);
		tree = yaml_node_to_json(v);
		json = json_print(tree);
		if (strcmp(json, cases[i].json) != 0)
			fail_msg("'%s': json %s, want %s", cases[i].yaml, json, cases[i].json);
		diag_list_done(&diags);
	}
}

static void test_get_int_and_bool(void **state)
{
	_cleanup_yaml_node_ struct yaml_node *root = NULL;
	struct diag_list diags;
	int64_t i = 0;
	bool b = false;

	(void)state;
	assert_int_equal(parse("a: 42\nb: \"42\"\nc: true\nd: 'true'\ne: 99999999999999999999\n",
			       &root, &diags),
			 0);
	assert_int_equal(yaml_node_get_int(yaml_node_get(root, "a"), &i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(yaml_node_get_int(yaml_node_get(root, "b"), &i), -EINVAL);
	assert_int_equal(yaml_node_get_bool(yaml_node_get(root, "c"), &b), 0);
	assert_true(b);
	assert_int_equal(yaml_node_get_bool(yaml_node_get(root, "d"), &b), -EINVAL);
	assert_int_equal(yaml_node_get_int(yaml_node_get(root, "e"), &i), -ERANGE);
	assert_int_equal(yaml_node_get_int(NULL, &i), -EINVAL);
	assert_true(yaml_node_is_null(yaml_node_get(root, "missing")));
	diag_list_done(&diags);
}

static void test_duplicate_keys(void **state)
{
	_cleanup_yaml_node_ struct yaml_node *root = NULL;
	struct diag_list diags;

	(void)state;
	/* Not fatal: every duplicate is reported and the first value kept. */
	assert_int_equal(parse("a: 1\nb: 2\na: 3\nm: {x: 1, x: 2}\nb: 4\n", &root, &diags), 3);
	assert_non_null(root);
	assert_int_equal(root->count, 3);
	assert_string_equal(yaml_node_get(root, "a")->value, "1");
	assert_string_equal(yaml_node_get(root, "b")->value, "2");
	assert_int_equal(yaml_node_get(root, "m")->count, 1);
	assert_int_equal(diags.count, 3);
	diag_list_sort(&diags);
	assert_int_equal(diags.items[0].line, 3);
	assert_int_equal(diags.items[0].column, 1);
	assert_string_equal(diags.items[0].message, "duplicate key 'a' (first at 1:1)");
	assert_int_equal(diags.items[1].line, 4);
	assert_int_equal(diags.items[1].column, 11);
	assert_string_equal(diags.items[1].message, "duplicate key 'x' (first at 4:5)");
	assert_int_equal(diags.items[2].line, 5);
	assert_string_equal(diags.items[2].message, "duplicate key 'b' (first at 2:1)");
	diag_list_done(&diags);
}

static void test_depth_limit(void **state)
{
	struct yaml_node *root = NULL;
	struct diag_list diags;
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	for (int i = 0; i < 16; i++)
		strbuf_putc(&sb, '[');
	for (int i = 0; i < 16; i++)
		strbuf_putc(&sb, ']');
	assert_int_equal(parse(sb.data, &root, &diags), 0); /* exactly at the limit */
	root = yaml_node_free(root);
	diag_list_done(&diags);

	strbuf_reset(&sb);
	strbuf_puts(&sb, "a:\n");
	for (int i = 0; i < 17; i++)
		strbuf_puts(&sb, "  - ");
	strbuf_puts(&sb, "x\n");
	assert_int_equal(parse(sb.data, &root, &diags), -EINVAL);
	assert_null(root);
	assert_int_equal(diags.count, 1);
	assert_int_equal(diags.items[0].line, 2);
	assert_non_null(strstr(diags.items[0].message, "nested deeper than 16"));
	diag_list_done(&diags);
	strbuf_done(&sb);
}

static void test_node_and_size_limits(void **state)
{
	struct yaml_node *root = NULL;
	struct diag_list diags;
	struct strbuf sb;
	struct yaml_limits small = { .max_size = 10, .max_depth = 4, .max_nodes = 100 };

	(void)state;
	strbuf_init(&sb);
	strbuf_puts(&sb, "[");
	for (int i = 0; i < 1000; i++)
		strbuf_puts(&sb, "1, ");
	strbuf_puts(&sb, "1]");
	assert_int_equal(parse(sb.data, &root, &diags), -EINVAL);
	assert_non_null(strstr(diags.items[0].message, "more than 1000 nodes"));
	diag_list_done(&diags);
	strbuf_done(&sb);

	diag_list_init(&diags);
	assert_int_equal(yaml_tree_parse("a: 12345678901", 14, "t.yaml", &small, &root, &diags),
			 -EFBIG);
	assert_int_equal(diags.count, 1);
	diag_list_done(&diags);
}

static void test_aliases(void **state)
{
	_cleanup_yaml_node_ struct yaml_node *root = NULL;
	struct yaml_node *bad = NULL;
	struct diag_list diags;
	const struct yaml_node *b;

	(void)state;
	assert_int_equal(parse("a: &x {k: v, l: [1, 2]}\nb: *x\n", &root, &diags), 0);
	b = yaml_node_get(root, "b");
	assert_int_equal(b->kind, YAML_NODE_MAPPING);
	assert_string_equal(yaml_node_get(b, "k")->value, "v");
	assert_int_equal(yaml_node_get(b, "l")->count, 2);
	assert_ptr_not_equal(b, yaml_node_get(root, "a")); /* a copy: the tree stays a tree */
	diag_list_done(&diags);

	/* An anchor inside a dropped duplicate stays usable (no dangling copy source). */
	bad = NULL;
	assert_int_equal(parse("a: 1\na: &y [2]\nb: *y\n", &bad, &diags), 1);
	assert_string_equal(yaml_node_get(bad, "b")->items[0]->value, "2");
	bad = yaml_node_free(bad);
	diag_list_done(&diags);

	assert_int_equal(parse("a: *nothing\n", &bad, &diags), -EINVAL);
	assert_non_null(strstr(diags.items[0].message, "names no anchor"));
	diag_list_done(&diags);

	assert_int_equal(parse("a: &x [1, *x]\n", &bad, &diags), -EINVAL);
	assert_non_null(strstr(diags.items[0].message, "contains it"));
	diag_list_done(&diags);
}

/* "Billion laughs": each level doubles; the copies count against the limit. */
static void test_alias_bomb(void **state)
{
	const char *text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
	struct yaml_node *root = NULL;
	struct diag_list diags;

	(void)state;
	assert_int_equal(parse(text, &root, &diags), -EINVAL);
	assert_null(root);
	assert_non_null(strstr(diags.items[0].message, "more than 1000 nodes"));
	diag_list_done(&diags);
}

static void test_syntax_errors(void **state)
{
	static const struct {
		const char *yaml;
		int line, column;
		const char *message;
	} cases[] = {
		{ "a: 1\n b: 2\n", 2, 3, "mapping values are not allowed" },
		{ "a: [1, 2\n", 2, 1, "did not find expected ',' or ']'" },
		{ "a: \"open\n", 2, 1, "unexpected end of stream" },
		{ "a: 1\n---\nb: 2\n", 2, 1, "only one YAML document" },
		{ "? [1]\n: x\n", 1, 3, "mapping keys must be scalars" },
		{ "a: !foo x\n", 1, 4, "unsupported tag '!foo'" },
		{ "a: !!int abc\n", 1, 4, "does not fit its tag '!!int'" },
		{ "a: \x01\n", 1, 4, "control characters are not allowed" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct yaml_node *root = NULL;
		struct diag_list diags;
		int r = parse(cases[i].yaml, &root, &diags);

		if (r == 0 || diags.count != 1)
			fail_msg("'%s': r=%d, %zu diags", cases[i].yaml, r, diags.count);
		if (diags.items[0].line != cases[i].line ||
		    diags.items[0].column != cases[i].column ||
		    !strstr(diags.items[0].message, cases[i].message))
			fail_msg("'%s': got %d:%d %s", cases[i].yaml, diags.items[0].line,
				 diags.items[0].column, diags.items[0].message);
		assert_string_equal(diags.items[0].file, "t.yaml");
		yaml_node_free(root);
		diag_list_done(&diags);
	}
}

static void test_empty_document(void **state)
{
	struct yaml_node *root = (struct yaml_node *)&root; /* must be overwritten */
	struct diag_list diags;

	(void)state;
	assert_int_equal(parse("# only a comment\n", &root, &diags), 0);
	assert_null(root);
	diag_list_done(&diags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions_and_styles),
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_get_int_and_bool),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_node_and_size_limits),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_empty_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
