/* SPDX-License-Identifier: MIT */
/*
 * daemon/metrics.c: the exact text of the Prometheus exposition format for
 * counters, gauges with escaped labels and histograms; values as the
 * format spells them (a table); and the calls that must write nothing: bad
 * metric and label names, samples outside their family, a family declared
 * twice, histogram bounds out of order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "daemon/metrics.h"
#include "util/strbuf.h"

struct fixture {
	struct strbuf out;
	struct metrics_writer writer;
};

static int setup(void **state)
{
	static struct fixture f;

	strbuf_init(&f.out);
	metrics_writer_init(&f.writer, &f.out);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	metrics_writer_done(&f->writer);
	strbuf_done(&f->out);
	return 0;
}

static const char *text(struct fixture *f)
{
	return f->out.data ? f->out.data : "";
}

static void test_counter_and_gauge(void **state)
{
	struct fixture *f = *state;
	const struct metric_label ok[] = { { "scenario", "daily" }, { "status", "ok" } };
	const struct metric_label odd[] = { { "scenario", "a\\b \"q\"\nnext" } };

	assert_int_equal(metrics_family_declare(&f->writer, "scenariod_runs_total", METRIC_COUNTER,
						"Runs finished, by scenario and status."),
			 0);
	assert_int_equal(metrics_sample_write(&f->writer, "scenariod_runs_total", ok, 2, 12), 0);
	assert_int_equal(metrics_sample_write(&f->writer, "scenariod_runs_total", odd, 1, 1), 0);
	assert_int_equal(metrics_family_declare(&f->writer, "scenariod_queue_depth", METRIC_GAUGE,
						"Runs waiting.\nHelp \\ with a backslash."),
			 0);
	assert_int_equal(metrics_sample_write(&f->writer, "scenariod_queue_depth", NULL, 0, 0.25),
			 0);
	assert_string_equal(text(f),
			    "# HELP scenariod_runs_total Runs finished, by scenario and status.\n"
			    "# TYPE scenariod_runs_total counter\n"
			    "scenariod_runs_total{scenario=\"daily\",status=\"ok\"} 12\n"
			    "scenariod_runs_total{scenario=\"a\\\\b \\\"q\\\"\\nnext\"} 1\n"
			    "# HELP scenariod_queue_depth Runs waiting.\\nHelp \\\\ with a "
			    "backslash.\n"
			    "# TYPE scenariod_queue_depth gauge\n"
			    "scenariod_queue_depth 0.25\n");
}

static void test_histogram(void **state)
{
	struct fixture *f = *state;
	const struct metric_label labels[] = { { "route", "hooks" } };
	const double bounds[] = { 0.005, 0.1, 1, 10 };
	const uint64_t counts[] = { 3, 0, 5, 1, 2 };

	assert_int_equal(metrics_family_declare(&f->writer, "http_request_seconds",
						METRIC_HISTOGRAM, "Request latency."),
			 0);
	assert_int_equal(metrics_histogram_write(&f->writer, "http_request_seconds", labels, 1,
						 bounds, 4, counts, 37.5),
			 0);
	assert_int_equal(metrics_histogram_write(&f->writer, "http_request_seconds", NULL, 0,
						 bounds, 0, counts, 0),
			 0);
	assert_string_equal(text(f), "# HELP http_request_seconds Request latency.\n"
				     "# TYPE http_request_seconds histogram\n"
				     "http_request_seconds_bucket{route=\"hooks\",le=\"0.005\"} 3\n"
				     "http_request_seconds_bucket{route=\"hooks\",le=\"0.1\"} 3\n"
				     "http_request_seconds_bucket{route=\"hooks\",le=\"1\"} 8\n"
				     "http_request_seconds_bucket{route=\"hooks\",le=\"10\"} 9\n"
				     "http_request_seconds_bucket{route=\"hooks\",le=\"+Inf\"} 11\n"
				     "http_request_seconds_sum{route=\"hooks\"} 37.5\n"
				     "http_request_seconds_count{route=\"hooks\"} 11\n"
				     "http_request_seconds_bucket{le=\"+Inf\"} 3\n"
				     "http_request_seconds_sum 0\n"
				     "http_request_seconds_count 3\n");
}

static void test_values(void **state)
{
	static const struct {
		double value;
		const char *text;
	} cases[] = {
		{ 0, "0" },
		{ -0.0, "0" },
		{ 1, "1" },
		{ -42, "-42" },
		{ 1234567890123, "1234567890123" },
		{ 9007199254740993.0, "9007199254740992" },
		{ 0.1, "0.1" },
		{ -2.5, "-2.5" },
		{ 1.0 / 3, "0.3333333333333333" },
		{ 1e-7, "1e-07" },
		{ 1e300, "1e+300" },
		{ INFINITY, "+Inf" },
		{ -INFINITY, "-Inf" },
		{ NAN, "NaN" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		metrics_format_value(cases[i].value, buf);
		assert_string_equal(buf, cases[i].text);
	}
}

/* Every refused call leaves the text as it was. */
static void test_refused(void **state)
{
	struct fixture *f = *state;
	const struct metric_label bad_name[] = { { "9lives", "x" } };
	const struct metric_label reserved[] = { { "__name__", "x" } };
	const struct metric_label le[] = { { "le", "1" } };
	const struct metric_label dash[] = { { "a-b", "x" } };
	const double bounds[] = { 1, 1 };
	const double inf_bound[] = { INFINITY };
	const uint64_t counts[] = { 0, 0, 0 };
	static const char *const bad_metrics[] = { "", "1abc", "a-b", "a b", "é", "a.b" };
	size_t len;

	for (size_t i = 0; i < sizeof(bad_metrics) / sizeof(bad_metrics[0]); i++)
		assert_int_equal(metrics_family_declare(&f->writer, bad_metrics[i], METRIC_GAUGE,
							"x"),
				 -EINVAL);
	assert_int_equal(metrics_family_declare(&f->writer, "ok", _METRIC_TYPE_MAX, "x"), -EINVAL);
	/* A sample before any family. */
	assert_int_equal(metrics_sample_write(&f->writer, "ok", NULL, 0, 1), -EINVAL);
	assert_string_equal(text(f), "");

	assert_int_equal(metrics_family_declare(&f->writer, "ns:ok_total", METRIC_COUNTER, "x"), 0);
	len = f->out.len;
	assert_int_equal(metrics_family_declare(&f->writer, "ns:ok_total", METRIC_GAUGE, "x"),
			 -EEXIST);
	assert_int_equal(metrics_sample_write(&f->writer, "other", NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_sample_write(&f->writer, "ns:ok_total", bad_name, 1, 1), -EINVAL);
	assert_int_equal(metrics_sample_write(&f->writer, "ns:ok_total", reserved, 1, 1), -EINVAL);
	assert_int_equal(metrics_sample_write(&f->writer, "ns:ok_total", dash, 1, 1), -EINVAL);
	assert_int_equal(metrics_histogram_write(&f->writer, "ns:ok_total", NULL, 0, bounds, 0,
						 counts, 0),
			 -EINVAL);
	assert_int_equal(f->out.len, len);

	assert_int_equal(metrics_family_declare(&f->writer, "h", METRIC_HISTOGRAM, "x"), 0);
	len = f->out.len;
	assert_int_equal(metrics_sample_write(&f->writer, "h", NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_histogram_write(&f->writer, "h", NULL, 0, bounds, 2, counts, 0),
			 -EINVAL);
	assert_int_equal(metrics_histogram_write(&f->writer, "h", NULL, 0, inf_bound, 1, counts, 0),
			 -EINVAL);
	assert_int_equal(metrics_histogram_write(&f->writer, "h", le, 1, bounds, 1, counts, 0),
			 -EINVAL);
	assert_int_equal(f->out.len, len);
}

static void test_type_strings(void **state)
{
	(void)state;
	for (int i = 0; i < _METRIC_TYPE_MAX; i++)
		assert_int_equal(metric_type_from_string(metric_type_to_string(i)), i);
	assert_int_equal(metric_type_from_string("summary"), _METRIC_TYPE_INVALID);
	assert_int_equal(metric_type_from_string(NULL), _METRIC_TYPE_INVALID);
	assert_null(metric_type_to_string(_METRIC_TYPE_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counter_and_gauge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram, setup, teardown),
		cmocka_unit_test(test_values),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test(test_type_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
