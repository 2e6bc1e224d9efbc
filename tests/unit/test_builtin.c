/* SPDX-License-Identifier: MIT */
/*
 * The builtin app through its module contract: each module is started the
 * way the executor starts it (a struct module_run on a real uv loop) and
 * judged by the bundles, log lines and errors it reports. The aggregator
 * helper the executor calls is tested on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/builtin/aggregator.h"
#include "modules/module.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

extern const struct module_desc builtin_modules[];

struct harness {
	uv_loop_t loop;
	struct module_env env;
	struct module_run run;
	cJSON *input;
	int done_calls;
};

static void on_done(struct module_run *run)
{
	struct harness *h = run->done_data;

	h->done_calls++;
}

static const struct module_desc *find_module(const char *name)
{
	for (const struct module_desc *d = builtin_modules; d->name; d++)
		if (streq(d->name, name))
			return d;
	fail_msg("no module builtin.%s", name);
	return NULL;
}

static int setup(void **state)
{
	struct harness *h = xcalloc(1, sizeof(*h));

	assert_int_equal(uv_loop_init(&h->loop), 0);
	h->env.loop = &h->loop;
	*state = h;
	return 0;
}

static void reset_run(struct harness *h)
{
	cJSON_Delete(h->run.outputs);
	cJSON_Delete(h->run.log);
	free(h->run.new_cursor);
	module_error_done(&h->run.error);
	cJSON_Delete(h->input);
	h->input = NULL;
	memset(&h->run, 0, sizeof(h->run));
	h->done_calls = 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;

	reset_run(h);
	helpers_close_loop(&h->loop);
	free(h);
	return 0;
}

/* Prepares a run of builtin.<name> on the JSON text `input`. */
static struct module_run *prepare(struct harness *h, const char *name, const char *input)
{
	reset_run(h);
	h->input = cJSON_Parse(input);
	assert_non_null(h->input);
	h->run.env = &h->env;
	h->run.desc = find_module(name);
	h->run.input = h->input;
	h->run.module_id = "1";
	h->run.bundle_seq = 1;
	h->run.max_file_size = 100 << 20;
	h->run.done = on_done;
	h->run.done_data = h;
	return &h->run;
}

/* Starts the run and, when it went asynchronous, runs the loop until it
 * finished; checks the contract (done exactly once for PENDING, never for
 * DONE or a failure to start) and returns what start() returned. */
static int finish_run(struct harness *h)
{
	int r = h->run.desc->start(&h->run);

	assert_int_equal(h->done_calls, 0); /* never from inside start() */
	if (r == MODULE_PENDING) {
		assert_true(helpers_run_loop(&h->loop, 10000));
		assert_int_equal(h->done_calls, 1);
		assert_null(h->run.priv);
	} else {
		assert_true(helpers_run_loop(&h->loop, 10000));
		assert_int_equal(h->done_calls, 0);
	}
	if (r < 0)
		assert_true(h->run.failed);
	return r;
}

static int run_module(struct harness *h, const char *name, const char *input)
{
	prepare(h, name, input);
	return finish_run(h);
}

static void assert_json_equal(const cJSON *actual, const char *expected_text)
{
	_cleanup_json_ cJSON *expected = cJSON_Parse(expected_text);
	_cleanup_free_ char *printed = json_print(actual);

	assert_non_null(expected);
	if (!cJSON_Compare(actual, expected, true))
		fail_msg("got %s, expected %s", printed, expected_text);
}

static void assert_error(const struct harness *h, enum error_type type, const char *needle)
{
	assert_true(h->run.failed);
	assert_string_equal(error_type_to_string(h->run.error.type), error_type_to_string(type));
	if (!strstr(h->run.error.message, needle))
		fail_msg("error '%s' does not mention '%s'", h->run.error.message, needle);
}

/* ---- the table ---- */

static void test_table(void **state)
{
	static const char *const names[] = { "log", "set", "sleep", "iterator",
					     "array_aggregator" };
	const struct module_desc *agg, *log;
	size_t count = 0;

	(void)state;
	for (const struct module_desc *d = builtin_modules; d->name; d++, count++) {
		assert_string_equal(d->app, "builtin");
		assert_non_null(d->fields);
		assert_non_null(d->summary);
		assert_true(d->kind == MODULE_AGGREGATOR ? d->start == NULL : d->start != NULL);
	}
	assert_int_equal(count, ELEMENTSOF(names));
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		find_module(names[i]);

	log = find_module("log");
	assert_string_equal(log->fields[0].name, "message");
	assert_true(log->fields[0].required);
	assert_string_equal(log->fields[1].name, "level");
	assert_int_equal(log->fields[1].type, FIELD_ENUM);
	assert_string_equal(log->fields[1].choices[0], "debug");
	assert_string_equal(log->fields[1].choices[4], "error");
	assert_null(log->fields[1].choices[5]);

	agg = find_module("array_aggregator");
	assert_int_equal(agg->kind, MODULE_AGGREGATOR);
	assert_string_equal(agg->fields[0].name, "source");
	assert_int_equal(agg->fields[0].type, FIELD_MODULE_ID);
	assert_true(agg->fields[0].required);
}

/* ---- builtin.log and builtin.set ---- */

static void test_log(void **state)
{
	static const struct {
		const char *input, *level, *message;
	} cases[] = {
		{ "{\"message\": \"hello\"}", "info", "hello" },
		{ "{\"message\": \"careful\", \"level\": \"warning\"}", "warning", "careful" },
		{ "{\"message\": 42, \"level\": \"debug\"}", "debug", "42" },
		{ "{\"message\": null, \"level\": \"error\"}", "error", "" },
		{ "{\"message\": {\"a\": [1, true]}}", "info", "{\"a\":[1,true]}" },
	};
	struct harness *h = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const cJSON *line;

		assert_int_equal(run_module(h, "log", cases[i].input), MODULE_DONE);
		assert_false(h->run.failed);
		assert_int_equal(cJSON_GetArraySize(h->run.outputs), 1);
		assert_string_equal(json_get_string(cJSON_GetArrayItem(h->run.outputs, 0),
						    "message"),
				    cases[i].message);
		assert_int_equal(cJSON_GetArraySize(h->run.log), 1);
		line = cJSON_GetArrayItem(h->run.log, 0);
		assert_string_equal(json_get_string(line, "level"), cases[i].level);
		assert_string_equal(json_get_string(line, "message"), cases[i].message);
	}
}

static void test_log_bad_level(void **state)
{
	struct harness *h = *state;

	assert_true(run_module(h, "log", "{\"message\": \"x\", \"level\": \"loud\"}") < 0);
	assert_error(h, ERROR_DATA, "'loud'");
	assert_null(h->run.outputs);
}

static void test_set(void **state)
{
	struct harness *h = *state;

	assert_int_equal(run_module(h, "set", "{\"variables\": {\"a\": 1, \"b\": [\"x\"]}}"),
			 MODULE_DONE);
	assert_int_equal(cJSON_GetArraySize(h->run.outputs), 1);
	assert_json_equal(cJSON_GetArrayItem(h->run.outputs, 0), "{\"a\": 1, \"b\": [\"x\"]}");

	assert_true(run_module(h, "set", "{\"variables\": [1, 2]}") < 0);
	assert_error(h, ERROR_DATA, "variables");
}

/* ---- builtin.sleep ---- */

struct report_counter {
	int calls;
	char field[32];
};

static void count_report(void *ctx, const char *field, const char *fmt, ...)
{
	struct report_counter *c = ctx;

	(void)fmt;
	c->calls++;
	snprintf(c->field, sizeof(c->field), "%s", field);
}

static void test_sleep_validate(void **state)
{
	static const struct {
		const char *with;
		int problems;
	} cases[] = {
		{ "{\"duration\": \"5m\"}", 0 },
		{ "{\"duration\": \"30s\"}", 0 },
		{ "{\"duration\": 300}", 0 },
		{ "{\"duration\": \"301s\"}", 1 },
		{ "{\"duration\": \"1h\"}", 1 },
		{ "{\"duration\": 301}", 1 },
		{ "{}", 0 }, /* mapped: checked when it runs */
		{ "{\"duration\": \"soon\"}", 0 }, /* not a duration: the loader's report */
	};
	const struct module_desc *sleep = find_module("sleep");

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ cJSON *with = cJSON_Parse(cases[i].with);
		struct report_counter counter = { 0 };

		assert_int_equal(sleep->validate(with, count_report, &counter), cases[i].problems);
		assert_int_equal(counter.calls, cases[i].problems);
		if (cases[i].problems)
			assert_string_equal(counter.field, "duration");
	}
}

static void test_sleep_waits(void **state)
{
	struct harness *h = *state;
	int64_t started = time_monotonic_ms();

	prepare(h, "sleep", "{\"duration\": \"60ms\"}");
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_true(time_monotonic_ms() - started >= 59);
	assert_false(h->run.failed);
	assert_json_equal(h->run.outputs, "[{}]");

	/* A number is seconds, as in Fusion's Sleep. */
	assert_int_equal(run_module(h, "sleep", "{\"duration\": 0.01}"), MODULE_PENDING);
	assert_json_equal(h->run.outputs, "[{}]");
}

static void test_sleep_too_long(void **state)
{
	struct harness *h = *state;

	assert_true(run_module(h, "sleep", "{\"duration\": \"6m\"}") < 0);
	assert_error(h, ERROR_DATA, "5m");
	assert_true(run_module(h, "sleep", "{\"duration\": \"later\"}") < 0);
	assert_error(h, ERROR_DATA, "duration");
}

static void on_cancel_timer(uv_timer_t *timer)
{
	struct harness *h = container_of(timer->loop, struct harness, loop);

	h->run.desc->cancel(&h->run);
	uv_close((uv_handle_t *)timer, NULL);
}

static void test_sleep_cancel(void **state)
{
	struct harness *h = *state;
	uv_timer_t canceller;

	/* Cancelled at once, before the loop ran. */
	prepare(h, "sleep", "{\"duration\": \"5m\"}");
	assert_int_equal(h->run.desc->start(&h->run), MODULE_PENDING);
	h->run.desc->cancel(&h->run);
	assert_int_equal(h->done_calls, 0);
	assert_true(helpers_run_loop(&h->loop, 5000));
	assert_int_equal(h->done_calls, 1);
	assert_error(h, ERROR_EXECUTION_INTERRUPTED, "interrupted");
	assert_null(h->run.outputs);

	/* Cancelled while the loop waits. */
	prepare(h, "sleep", "{\"duration\": \"5m\"}");
	assert_int_equal(h->run.desc->start(&h->run), MODULE_PENDING);
	uv_timer_init(&h->loop, &canceller);
	uv_timer_start(&canceller, on_cancel_timer, 20, 0);
	assert_true(helpers_run_loop(&h->loop, 5000));
	assert_int_equal(h->done_calls, 1);
	assert_error(h, ERROR_EXECUTION_INTERRUPTED, "interrupted");
}

/* ---- builtin.iterator ---- */

static void test_iterator_shapes(void **state)
{
	static const struct {
		const char *input, *outputs;
	} cases[] = {
		{ "{\"array\": [\"a\", \"b\"]}",
		  "[{\"value\": \"a\", \"index\": 1, \"total\": 2},"
		  " {\"value\": \"b\", \"index\": 2, \"total\": 2}]" },
		{ "{\"array\": [{\"name\": \"x.pdf\", \"size\": 3}]}",
		  "[{\"value\": {\"name\": \"x.pdf\", \"size\": 3}, \"index\": 1, \"total\": 1,"
		  " \"name\": \"x.pdf\", \"size\": 3}]" },
		/* value, index and total win a clash with the item's own keys */
		{ "{\"array\": [{\"value\": 9, \"index\": 7, \"total\": 5, \"k\": null}]}",
		  "[{\"value\": {\"value\": 9, \"index\": 7, \"total\": 5, \"k\": null},"
		  " \"index\": 1, \"total\": 1, \"k\": null}]" },
		{ "{\"array\": [[1, 2], null]}",
		  "[{\"value\": [1, 2], \"index\": 1, \"total\": 2},"
		  " {\"value\": null, \"index\": 2, \"total\": 2}]" },
	};
	struct harness *h = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		assert_int_equal(run_module(h, "iterator", cases[i].input), MODULE_DONE);
		assert_false(h->run.failed);
		assert_json_equal(h->run.outputs, cases[i].outputs);
	}
}

static void test_iterator_empty_and_wrong(void **state)
{
	static const char *const empty[] = { "{\"array\": []}", "{\"array\": null}", "{}" };
	static const struct {
		const char *input, *mention;
	} wrong[] = {
		{ "{\"array\": \"abc\"}", "text" },
		{ "{\"array\": {\"a\": 1}}", "a map" },
		{ "{\"array\": 3}", "a number" },
	};
	struct harness *h = *state;

	for (size_t i = 0; i < ELEMENTSOF(empty); i++) {
		assert_int_equal(run_module(h, "iterator", empty[i]), MODULE_DONE);
		assert_false(h->run.failed);
		assert_int_equal(cJSON_GetArraySize(h->run.outputs), 0);
	}
	for (size_t i = 0; i < ELEMENTSOF(wrong); i++) {
		assert_true(run_module(h, "iterator", wrong[i].input) < 0);
		assert_error(h, ERROR_DATA, wrong[i].mention);
		assert_null(h->run.outputs);
	}
}

/* ---- the aggregator helper ---- */

static void test_aggregator_output(void **state)
{
	static const struct {
		const char *values, *keys; /* keys NULL: no group_by */
		bool stop_if_empty;
		const char *bundles;
	} cases[] = {
		{ "[1, {\"a\": 2}, \"x\"]", NULL, false, "[{\"array\": [1, {\"a\": 2}, \"x\"]}]" },
		{ "[]", NULL, false, "[{\"array\": []}]" },
		{ "[]", NULL, true, "[]" },
		{ "[1]", NULL, true, "[{\"array\": [1]}]" },
		{ "[\"a\", \"b\", \"c\", \"d\", \"e\"]",
		  "[\"pdf\", \"doc\", \"pdf\", null, \"doc\"]", false,
		  "[{\"key\": \"pdf\", \"array\": [\"a\", \"c\"]},"
		  " {\"key\": \"doc\", \"array\": [\"b\", \"e\"]},"
		  " {\"key\": null, \"array\": [\"d\"]}]" },
		/* keys compare by their text: 1 and "1" are one group, the first value names it */
		{ "[10, 20, 30]", "[1, \"1\", 2]", false,
		  "[{\"key\": 1, \"array\": [10, 20]}, {\"key\": 2, \"array\": [30]}]" },
		{ "[]", "[]", false, "[]" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ cJSON *values = cJSON_Parse(cases[i].values);
		_cleanup_json_ cJSON *keys = cases[i].keys ? cJSON_Parse(cases[i].keys) : NULL;
		_cleanup_json_ cJSON *bundles = NULL;

		assert_int_equal(
			aggregator_output_build(values, keys, cases[i].stop_if_empty, &bundles), 0);
		assert_json_equal(bundles, cases[i].bundles);
	}
}

static void test_aggregator_bad_arguments(void **state)
{
	_cleanup_json_ cJSON *values = cJSON_Parse("[1, 2]");
	_cleanup_json_ cJSON *short_keys = cJSON_Parse("[1]");
	_cleanup_json_ cJSON *not_array = cJSON_Parse("{\"a\": 1}");
	cJSON *bundles = NULL;

	(void)state;
	assert_int_equal(aggregator_output_build(values, short_keys, false, &bundles), -EINVAL);
	assert_int_equal(aggregator_output_build(not_array, NULL, false, &bundles), -EINVAL);
	assert_int_equal(aggregator_output_build(values, not_array, false, &bundles), -EINVAL);
	assert_null(bundles);
}

static void test_aggregator_many_groups(void **state)
{
	_cleanup_json_ cJSON *values = cJSON_CreateArray();
	_cleanup_json_ cJSON *keys = cJSON_CreateArray();
	_cleanup_json_ cJSON *bundles = NULL;
	const cJSON *bundle;
	int g = 0;

	(void)state;
	/* 3000 bundles over 1000 keys that arrive in descending order */
	for (int i = 0; i < 3000; i++) {
		cJSON_AddItemToArray(values, cJSON_CreateNumber(i));
		cJSON_AddItemToArray(keys, cJSON_CreateNumber(999 - i % 1000));
	}
	assert_int_equal(aggregator_output_build(values, keys, false, &bundles), 0);
	assert_int_equal(cJSON_GetArraySize(bundles), 1000);
	cJSON_ArrayForEach(bundle, bundles) {
		const cJSON *array = cJSON_GetObjectItemCaseSensitive(bundle, "array");

		assert_int_equal(json_get_int(bundle, "key", -1), 999 - g);
		assert_int_equal(cJSON_GetArraySize(array), 3);
		for (int m = 0; m < 3; m++)
			assert_int_equal(cJSON_GetArrayItem(array, m)->valueint, g + 1000 * m);
		g++;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_bad_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set, setup, teardown),
		cmocka_unit_test(test_sleep_validate),
		cmocka_unit_test_setup_teardown(test_sleep_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleep_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleep_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iterator_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iterator_empty_and_wrong, setup, teardown),
		cmocka_unit_test(test_aggregator_output),
		cmocka_unit_test(test_aggregator_bad_arguments),
		cmocka_unit_test(test_aggregator_many_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
