/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics: the daemon's figures in Prometheus text format. Counters
 * count since the daemon started (Prometheus expects them to reset with
 * the process); gauges are read now, from the daemon or with a handful of
 * indexed store reads.
 *
 *   scenariod_runs_total{scenario,status}          runs that ended
 *   scenariod_operations_total{scenario}           operations of those runs
 *   scenariod_runs_in_flight, scenariod_runs_queued
 *   scenariod_incomplete_executions{status}        not resolved, by status
 *   scenariod_events_queued{scenario}              webhook events not yet done
 *   scenariod_webhook_deliveries_total{kind,outcome}
 *   scenariod_http_requests_total{class}           answers of this listener
 *   scenariod_http_calls_total{outcome}            modules' outgoing requests
 *   scenariod_scheduler_lag_seconds{quantile}      how late slots fired
 */
#include "daemon/daemon.h"

#include <stdio.h>
#include <string.h>

#include "daemon/http_server.h"
#include "daemon/metrics.h"
#include "modules/http/client.h"
#include "scenarios/engine.h"
#include "store/store.h"
#include "util/json.h"
#include "util/strbuf.h"

static const char *const run_statuses[] = { "running", "success", "warning", "error",
					    "incomplete" };

static void runs(struct metrics_writer *w, const struct daemon *d)
{
	metrics_family_declare(w, "scenariod_runs_total", METRIC_COUNTER,
			       "Runs that ended since the daemon started, by scenario and status.");
	for (size_t i = 0; i < d->catalog.count; i++) {
		const struct daemon_scenario *s = d->catalog.items[i];

		for (size_t k = 1; k < ELEMENTSOF(run_statuses); k++) {
			struct metric_label labels[] = { { "scenario", s->name },
							 { "status", run_statuses[k] } };

			if (s->runs_by_status[k])
				metrics_sample_write(w, "scenariod_runs_total", labels, 2,
						     (double)s->runs_by_status[k]);
		}
	}
	metrics_family_declare(w, "scenariod_operations_total", METRIC_COUNTER,
			       "Operations of the runs that ended, as Fusion counts them.");
	for (size_t i = 0; i < d->catalog.count; i++) {
		const struct daemon_scenario *s = d->catalog.items[i];
		struct metric_label label = { "scenario", s->name };

		if (s->operations)
			metrics_sample_write(w, "scenariod_operations_total", &label, 1,
					     (double)s->operations);
	}
	metrics_family_declare(w, "scenariod_runs_in_flight", METRIC_GAUGE,
			       "Runs and retries started and not yet ended.");
	metrics_sample_write(w, "scenariod_runs_in_flight", NULL, 0, work_running(d));
	metrics_family_declare(w, "scenariod_runs_queued", METRIC_GAUGE,
			       "Runs and retries waiting for a worker.");
	metrics_sample_write(w, "scenariod_runs_queued", NULL, 0, work_queued(d));
}

static void store_gauges(struct metrics_writer *w, struct daemon *d)
{
	static const char *const statuses[] = { "pending", "in_progress", "unresolved" };
	_cleanup_json_ cJSON *counts = NULL, *events = NULL;
	const cJSON *item;
	double totals[3] = { 0 };

	if (store_incomplete_counts(d->engine->store, &counts) == 0)
		cJSON_ArrayForEach(item, counts)
			for (size_t k = 0; k < 3; k++)
				totals[k] += (double)json_get_int(item, statuses[k], 0);
	metrics_family_declare(w, "scenariod_incomplete_executions", METRIC_GAUGE,
			       "Incomplete executions not resolved, by status.");
	for (size_t k = 0; k < 3; k++) {
		struct metric_label label = { "status", statuses[k] };

		metrics_sample_write(w, "scenariod_incomplete_executions", &label, 1, totals[k]);
	}
	metrics_family_declare(w, "scenariod_events_queued", METRIC_GAUGE,
			       "Webhook events queued or being run, by scenario.");
	if (store_event_counts(d->engine->store, &events) == 0)
		cJSON_ArrayForEach(item, events) {
			struct metric_label label = { "scenario",
						      json_get_string(item, "scenario") };

			metrics_sample_write(w, "scenariod_events_queued", &label, 1,
					     (double)json_get_int(item, "count", 0));
		}
}

static void http(struct metrics_writer *w, const struct daemon *d)
{
	static const char *const kinds[] = { "custom", "cloudconvert" };
	static const char *const classes[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
	uint64_t answered[6] = { 0 };

	metrics_family_declare(w, "scenariod_webhook_deliveries_total", METRIC_COUNTER,
			       "Webhook requests received, by kind and outcome.");
	for (size_t k = 0; k < 2; k++)
		for (int o = 0; o < _DELIVERY_OUTCOME_MAX; o++) {
			struct metric_label labels[] = {
				{ "kind", kinds[k] }, { "outcome", delivery_outcome_to_string(o) }
			};

			metrics_sample_write(w, "scenariod_webhook_deliveries_total", labels, 2,
					     (double)d->http.deliveries[k][o]);
		}
	if (d->http.server)
		http_server_answered(d->http.server, answered);
	metrics_family_declare(w, "scenariod_http_requests_total", METRIC_COUNTER,
			       "Requests this listener answered, by status class.");
	for (size_t c = 0; c < ELEMENTSOF(classes); c++) {
		struct metric_label label = { "class", classes[c] };

		metrics_sample_write(w, "scenariod_http_requests_total", &label, 1,
				     (double)answered[c]);
	}
	metrics_family_declare(w, "scenariod_http_calls_total", METRIC_COUNTER,
			       "HTTP requests modules made (CloudConvert, http.request), by "
			       "outcome.");
	for (int o = 0; o < _HTTP_OUTCOME_MAX; o++) {
		struct metric_label label = { "outcome", http_outcome_to_string(o) };

		metrics_sample_write(w, "scenariod_http_calls_total", &label, 1,
				     (double)http_client_outcomes(d->engine->http, o));
	}
}

static void scheduler(struct metrics_writer *w, const struct daemon *d)
{
	int64_t p50, p99, max;
	struct metric_label q50 = { "quantile", "0.5" }, q99 = { "quantile", "0.99" },
			    q100 = { "quantile", "1" };

	scheduler_lag(d, &p50, &p99, &max);
	metrics_family_declare(w, "scenariod_scheduler_lag_seconds", METRIC_GAUGE,
			       "How late scheduled slots fired, over the last 4096 slots.");
	metrics_sample_write(w, "scenariod_scheduler_lag_seconds", &q50, 1, (double)p50 / 1000);
	metrics_sample_write(w, "scenariod_scheduler_lag_seconds", &q99, 1, (double)p99 / 1000);
	metrics_sample_write(w, "scenariod_scheduler_lag_seconds", &q100, 1, (double)max / 1000);
	metrics_family_declare(w, "scenariod_scheduler_slots_total", METRIC_COUNTER,
			       "Scheduled slots fired since the daemon started.");
	metrics_sample_write(w, "scenariod_scheduler_slots_total", NULL, 0,
			     (double)d->scheduler.lag_count);
}

void metrics_page(struct daemon *d, struct http_in *in)
{
	struct metrics_writer w;
	struct strbuf out;

	strbuf_init(&out);
	metrics_writer_init(&w, &out);
	runs(&w, d);
	store_gauges(&w, d);
	http(&w, d);
	scheduler(&w, d);
	metrics_writer_done(&w);
	http_in_respond(in, 200, NULL, "text/plain; version=0.0.4; charset=utf-8", out.data ?: "",
			out.len);
	strbuf_done(&out);
}
