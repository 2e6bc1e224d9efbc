/* SPDX-License-Identifier: MIT */
/*
 * The control socket's commands (docs/cli.md, "The control socket"):
 * status, reload, trigger, enable, disable and incomplete_retry. Each
 * answers with {"ok": true, …} or {"ok": false, "error": …, "exit": N},
 * where N is the exit code scenarioctl passes on. Replies that wait for
 * runs (trigger with wait, incomplete_retry) are sent when the last of them
 * ends; the connection may go away meanwhile, the runs do not.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon/http_server.h"
#include "scenarios/engine.h"
#include "scenarios/schedule.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define MAX_RETRY_IDS 10000

cJSON *commands_error(int exit_code, const char *fmt, ...)
{
	cJSON *reply = cJSON_CreateObject();
	_cleanup_free_ char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	cJSON_AddFalseToObject(reply, "ok");
	cJSON_AddStringToObject(reply, "error", message ? message : "out of memory");
	cJSON_AddNumberToObject(reply, "exit", exit_code);
	return reply;
}

static cJSON *ok(void)
{
	cJSON *reply = cJSON_CreateObject();

	cJSON_AddTrueToObject(reply, "ok");
	return reply;
}

static cJSON *time_or_null(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return cJSON_CreateNull();
	time_format_iso(ms, buf, sizeof(buf));
	return cJSON_CreateString(buf);
}

static cJSON *counts_object(const cJSON *counts)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "pending", (double)json_get_int(counts, "pending", 0));
	cJSON_AddNumberToObject(o, "in_progress", (double)json_get_int(counts, "in_progress", 0));
	cJSON_AddNumberToObject(o, "unresolved", (double)json_get_int(counts, "unresolved", 0));
	return o;
}

static cJSON *daemon_object(struct daemon *d)
{
	cJSON *o = cJSON_CreateObject();
	int64_t p50, p99, max;

	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
	cJSON_AddItemToObject(o, "started_at", time_or_null(d->started_at));
	cJSON_AddStringToObject(o, "state_dir", d->config->state_dir);
	cJSON_AddStringToObject(o, "scenarios_dir", d->config->scenarios_dir);
	cJSON_AddNumberToObject(o, "workers", d->config->workers);
	cJSON_AddNumberToObject(o, "running", work_running(d));
	cJSON_AddNumberToObject(o, "queued", work_queued(d));
	cJSON_AddBoolToObject(o, "stopping", !d->taking_work);
	if (http_front_port(d)) {
		cJSON_AddStringToObject(o, "listen", d->config->listen);
		cJSON_AddNumberToObject(o, "listen_port", http_front_port(d));
	} else {
		cJSON_AddNullToObject(o, "listen");
		cJSON_AddNullToObject(o, "listen_port");
	}
	scheduler_lag(d, &p50, &p99, &max);
	cJSON_AddNumberToObject(o, "scheduler_lag_p50_ms", (double)p50);
	cJSON_AddNumberToObject(o, "scheduler_lag_p99_ms", (double)p99);
	cJSON_AddNumberToObject(o, "scheduler_lag_max_ms", (double)max);
	cJSON_AddNumberToObject(o, "scheduler_slots_fired", (double)d->scheduler.lag_count);
	return o;
}

/*
 * `status` is built a slice at a time: with thousands of scenarios the whole
 * listing costs hundreds of milliseconds of store reads and JSON, and the
 * loop must keep firing slots meanwhile. Each turn of the loop writes
 * STATUS_SLICE scenarios into the reply text and yields; the scenarios'
 * states and incomplete counts are read once, in name order, and walked
 * alongside the catalog (also in name order). A reload between two slices
 * is harmless: the next slice goes on after the last name written.
 */
#define STATUS_SLICE 200

struct status_job {
	struct daemon *d; /* borrowed */
	struct control_conn *conn; /* a reference */
	/* An idle handle, not a 0 ms timer: libuv runs a timer re-armed from
	 * its own callback again in the same turn, before it looks at the
	 * clock, so the slices would run back to back; idle callbacks run once
	 * per turn, after the timers that came due. */
	uv_idle_t idle;
	struct strbuf out; /* the reply so far */
	cJSON *states; /* owned: store_scenario_list(), by name */
	const cJSON *state; /* the next one not yet passed */
	cJSON *counts; /* owned: store_incomplete_counts(), by name */
	const cJSON *count;
	cJSON *events; /* owned: store_event_counts(), by name */
	const cJSON *event;
	char *after; /* owned: the last name written; NULL before the first */
};

/* The item of a by-name list for `name`, moving the cursor past smaller
 * names; NULL when the list has none. */
static const cJSON *walk_to(const cJSON **cursor, const char *key, const char *name)
{
	while (*cursor) {
		const char *at = json_get_string(*cursor, key);
		int c = at ? strcmp(at, name) : -1;

		if (c == 0)
			return *cursor;
		if (c > 0)
			return NULL;
		*cursor = (*cursor)->next;
	}
	return NULL;
}

/* A New Job Event trigger's webhook: where, and how its registration stands. */
static cJSON *webhook_object(struct daemon *d, const struct daemon_scenario *s)
{
	const struct flow_node *node = s->version->scenario->flow.nodes[0];
	struct store_webhook w;
	cJSON *o;

	if (!node->module_name || !streq(node->module_name, "cloudconvert.watch_job_events"))
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (store_webhook_get(d->engine->store, s->name, node->id, &w) == 0) {
		cJSON_AddStringToObject(o, "url", w.url);
		cJSON_AddStringToObject(o, "status", w.status);
		if (w.remote_id)
			cJSON_AddStringToObject(o, "id", w.remote_id);
		store_webhook_done(&w);
	} else {
		cJSON_AddStringToObject(o, "status", s->webhook_problem ? "failing" : "none");
	}
	if (s->webhook_problem)
		cJSON_AddStringToObject(o, "problem", s->webhook_problem);
	else
		cJSON_AddNullToObject(o, "problem");
	return o;
}

static cJSON *scenario_object(struct daemon *d, const struct daemon_scenario *s, const cJSON *state,
			      const cJSON *counts, const cJSON *events)
{
	const struct scenario *sc = s->version->scenario;
	_cleanup_free_ char *schedule = schedule_describe(&sc->schedule);
	const char *reason = json_get_string(state, "disabled_reason");
	cJSON *o = cJSON_CreateObject();
	cJSON *last = NULL;

	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "file", s->path);
	cJSON_AddBoolToObject(o, "enabled",
			      state ? json_get_bool(state, "enabled", true) : s->enabled);
	if (reason)
		cJSON_AddStringToObject(o, "disabled_reason", reason);
	else
		cJSON_AddNullToObject(o, "disabled_reason");
	cJSON_AddStringToObject(o, "schedule", schedule);
	cJSON_AddStringToObject(o, "timezone", sc->timezone ? sc->timezone : "UTC");
	cJSON_AddItemToObject(o, "next_run_at", time_or_null(s->slot.queued ? s->slot.due_ms : 0));
	if (store_execution_last(d->engine->store, s->name, &last) == 0 && last)
		cJSON_AddItemToObject(o, "last_run", last);
	else
		cJSON_AddNullToObject(o, "last_run");
	cJSON_AddNumberToObject(o, "running", s->running);
	cJSON_AddItemToObject(o, "incomplete", counts_object(counts));
	cJSON_AddNumberToObject(o, "events_queued", (double)json_get_int(events, "count", 0));
	cJSON_AddItemToObject(o, "webhook", webhook_object(d, s));
	if (s->problem)
		cJSON_AddStringToObject(o, "problem", s->problem);
	else
		cJSON_AddNullToObject(o, "problem");
	return o;
}

static void append_json(struct strbuf *out, const cJSON *item)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(item);

	strbuf_puts(out, text);
}

/* Everything but the scenarios: cheap, and the same moment for all of it. */
static void status_head(struct status_job *job)
{
	struct daemon *d = job->d;
	_cleanup_json_ cJSON *head = cJSON_CreateObject();
	int64_t pending = 0, in_progress = 0, unresolved = 0, next = 0;
	const cJSON *c;
	cJSON *totals;
	char *text;

	cJSON_ArrayForEach(c, job->counts) {
		pending += json_get_int(c, "pending", 0);
		in_progress += json_get_int(c, "in_progress", 0);
		unresolved += json_get_int(c, "unresolved", 0);
	}
	cJSON_AddTrueToObject(head, "ok");
	cJSON_AddItemToObject(head, "daemon", daemon_object(d));
	totals = cJSON_AddObjectToObject(head, "incomplete");
	cJSON_AddNumberToObject(totals, "pending", (double)pending);
	cJSON_AddNumberToObject(totals, "in_progress", (double)in_progress);
	cJSON_AddNumberToObject(totals, "unresolved", (double)unresolved);
	store_incomplete_next_due(d->engine->store, &next);
	cJSON_AddItemToObject(head, "next_incomplete_attempt_at", time_or_null(next));
	/* Files that failed the last load, also those that never loaded. */
	cJSON_AddItemToObject(head, "problems",
			      d->catalog.problems ? cJSON_Duplicate(d->catalog.problems, true) :
						    cJSON_CreateArray());
	text = cJSON_PrintUnformatted(head);
	/* The object stays open for the scenarios. */
	text[strlen(text) - 1] = '\0';
	strbuf_puts(&job->out, text);
	strbuf_puts(&job->out, ",\"scenarios\":[");
	free(text);
}

/* The first catalog entry after the last name written. */
static size_t status_resume_at(const struct catalog *cat, const char *after)
{
	size_t lo = 0, hi = cat->count;

	if (!after)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cat->items[mid]->name, after) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void on_status_closed(uv_handle_t *handle)
{
	struct status_job *job = container_of((uv_idle_t *)handle, struct status_job, idle);

	control_conn_unref(job->conn);
	strbuf_done(&job->out);
	cJSON_Delete(job->states);
	cJSON_Delete(job->counts);
	cJSON_Delete(job->events);
	free(job->after);
	free(job);
}

static void on_status_slice(uv_idle_t *idle)
{
	struct status_job *job = container_of(idle, struct status_job, idle);
	const struct catalog *cat = &job->d->catalog;
	size_t i = status_resume_at(cat, job->after), end;

	if (!control_conn_open(job->conn)) {
		uv_close((uv_handle_t *)idle, on_status_closed);
		return;
	}
	end = i + STATUS_SLICE < cat->count ? i + STATUS_SLICE : cat->count;
	for (; i < end; i++) {
		const struct daemon_scenario *s = cat->items[i];
		const cJSON *state = walk_to(&job->state, "name", s->name);
		const cJSON *counts = walk_to(&job->count, "scenario", s->name);
		const cJSON *events = walk_to(&job->event, "scenario", s->name);
		_cleanup_json_ cJSON *o = scenario_object(job->d, s, state, counts, events);

		if (job->after)
			strbuf_putc(&job->out, ',');
		append_json(&job->out, o);
		free(job->after);
		job->after = xstrdup(s->name);
	}
	if (end < cat->count) {
		if (!uv_is_active((uv_handle_t *)idle))
			uv_idle_start(idle, on_status_slice);
		return;
	}
	strbuf_puts(&job->out, "]}");
	{
		size_t len = job->out.len;

		control_reply_text(job->conn, strbuf_steal(&job->out), len);
	}
	uv_close((uv_handle_t *)idle, on_status_closed);
}

static void cmd_status(struct daemon *d, struct control_conn *conn)
{
	struct status_job *job = xcalloc(1, sizeof(*job));

	job->d = d;
	job->conn = control_conn_ref(conn);
	strbuf_init(&job->out);
	if (store_scenario_list(d->engine->store, &job->states) < 0)
		job->states = cJSON_CreateArray();
	if (store_incomplete_counts(d->engine->store, &job->counts) < 0)
		job->counts = cJSON_CreateArray();
	if (store_event_counts(d->engine->store, &job->events) < 0)
		job->events = cJSON_CreateArray();
	job->state = job->states->child;
	job->count = job->counts->child;
	job->event = job->events->child;
	status_head(job);
	uv_idle_init(&d->engine->loop, &job->idle);
	on_status_slice(&job->idle);
}

static void cmd_reload(struct daemon *d, struct control_conn *conn)
{
	struct reload_report report;
	cJSON *reply;
	int problems, r;

	reload_report_init(&report);
	r = daemon_reload(d, &report);
	if (r < 0) {
		reload_report_done(&report);
		control_reply(conn, commands_error(70, "the reload failed: %s", strerror(-r)));
		return;
	}
	problems = cJSON_GetArraySize(report.problems);
	reply = problems ? commands_error(65,
					  "%d problem%s in the scenario folder or the connections "
					  "file; files that failed keep their previous version",
					  problems, problems == 1 ? "" : "s") :
			   ok();
	cJSON_AddItemToObject(reply, "added", TAKE_PTR(report.added));
	cJSON_AddItemToObject(reply, "changed", TAKE_PTR(report.changed));
	cJSON_AddItemToObject(reply, "removed", TAKE_PTR(report.removed));
	cJSON_AddNumberToObject(reply, "unchanged", report.unchanged);
	cJSON_AddItemToObject(reply, "problems", TAKE_PTR(report.problems));
	reload_report_done(&report);
	control_reply(conn, reply);
}

/* The scenario a request names, or an error reply already sent. */
static struct daemon_scenario *named(struct daemon *d, struct control_conn *conn,
				     const cJSON *request)
{
	const char *name = json_get_string(request, "scenario");
	struct daemon_scenario *s = name ? catalog_find(&d->catalog, name) : NULL;

	if (!name) {
		control_reply(conn, commands_error(64, "name a scenario"));
		return NULL;
	}
	if (!s)
		control_reply(conn, commands_error(64, "no scenario '%s' in '%s'", name,
						   d->config->scenarios_dir));
	return s;
}

/* Collects the outcomes of the runs one request waits for. */
struct pending {
	struct control_conn *conn; /* a reference */
	char *scenario; /* owned: trigger's scenario, NULL for retries */
	cJSON *runs; /* owned: run documents */
	cJSON *errors; /* owned */
	int outstanding;
	bool trigger;
};

static void pending_finish(struct pending *p)
{
	cJSON *reply;

	if (p->trigger) {
		const cJSON *error = cJSON_GetArrayItem(p->errors, 0);

		if (error) {
			reply = commands_error((int)json_get_int(error, "exit", 70), "%s",
					       json_get_string(error, "error"));
		} else {
			reply = ok();
			cJSON_AddStringToObject(reply, "scenario", p->scenario);
			cJSON_AddItemToObject(reply, "run", cJSON_DetachItemFromArray(p->runs, 0));
		}
	} else {
		reply = ok();
		cJSON_AddItemToObject(reply, "runs", TAKE_PTR(p->runs));
		cJSON_AddItemToObject(reply, "errors", TAKE_PTR(p->errors));
	}
	control_reply(p->conn, reply);
	control_conn_unref(p->conn);
	cJSON_Delete(p->runs);
	cJSON_Delete(p->errors);
	free(p->scenario);
	free(p);
}

static void pending_error(struct pending *p, int64_t id, int exit_code, const char *message)
{
	cJSON *e = cJSON_CreateObject();

	if (id)
		cJSON_AddNumberToObject(e, "id", (double)id);
	cJSON_AddStringToObject(e, "error", message);
	cJSON_AddNumberToObject(e, "exit", exit_code);
	cJSON_AddItemToArray(p->errors, e);
}

static void on_waited(struct work *work, struct runner_job *job, const char *message,
		      void *userdata)
{
	struct pending *p = userdata;
	int64_t id = job ? runner_job_incomplete_id(job) : 0;

	(void)work;
	if (!job) {
		pending_error(p, 0, 70, message);
	} else if (runner_job_outcome(job) == RUNNER_RAN) {
		cJSON_AddItemToArray(p->runs, runner_job_document(job));
	} else {
		pending_error(p, id, runner_job_outcome(job) == RUNNER_HELD ? 75 : 70,
			      runner_job_message(job) ? runner_job_message(job) :
							"the run did not start");
	}
	if (--p->outstanding == 0)
		pending_finish(p);
}

static struct pending *pending_new(struct control_conn *conn, bool trigger)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->conn = control_conn_ref(conn);
	p->runs = cJSON_CreateArray();
	p->errors = cJSON_CreateArray();
	p->trigger = trigger;
	p->outstanding = 1; /* the request itself, until every run is submitted */
	return p;
}

static int submit_error_exit(int r)
{
	switch (r) {
	case -ENOENT:
	case -EINVAL:
		return r == -ENOENT ? 64 : 65;
	case -EALREADY:
		return 0;
	case -EBUSY:
		return 1;
	case -ENOBUFS:
	case -ESHUTDOWN:
	default:
		return 70;
	}
}

static const char *submit_error_text(int r, const char *message)
{
	if (message)
		return message;
	switch (r) {
	case -ENOENT:
		return "no such incomplete execution";
	case -EALREADY:
		return "it is resolved already";
	case -EBUSY:
		return "another process is resuming it right now";
	case -ENOBUFS:
		return "the work queue is full; try again later";
	case -ESHUTDOWN:
		return "scenariod is stopping";
	default:
		return strerror(-r);
	}
}

static void cmd_trigger(struct daemon *d, struct control_conn *conn, const cJSON *request)
{
	struct daemon_scenario *s = named(d, conn, request);
	bool wait = json_get_bool(request, "wait", false);
	struct work_request req = { .trigger = "manual" };
	_cleanup_free_ char *message = NULL;
	struct pending *p = NULL;
	struct work *w = NULL;
	cJSON *reply;
	int r;

	if (!s)
		return;
	if (wait) {
		p = pending_new(conn, true);
		p->scenario = xstrdup(s->name);
		p->outstanding++;
		req.done = on_waited;
		req.userdata = p;
	}
	r = work_submit(d, s, &req, &w, &message);
	if (r < 0) {
		if (p) {
			p->outstanding--;
			pending_error(p, 0, submit_error_exit(r), submit_error_text(r, message));
			if (--p->outstanding == 0)
				pending_finish(p);
			return;
		}
		control_reply(conn, commands_error(submit_error_exit(r), "%s",
						   submit_error_text(r, message)));
		return;
	}
	if (p) {
		if (--p->outstanding == 0)
			pending_finish(p);
		return;
	}
	reply = ok();
	cJSON_AddStringToObject(reply, "scenario", s->name);
	if (work_started(w) && work_execution_id(w)) {
		char id[32];

		snprintf(id, sizeof(id), "%lld", (long long)work_execution_id(w));
		cJSON_AddStringToObject(reply, "execution_id", id);
	} else {
		cJSON_AddNullToObject(reply, "execution_id");
	}
	cJSON_AddBoolToObject(reply, "queued", !work_started(w));
	control_reply(conn, reply);
}

static void cmd_enable(struct daemon *d, struct control_conn *conn, const cJSON *request,
		       bool enabled)
{
	struct daemon_scenario *s = named(d, conn, request);
	cJSON *reply;
	int r;

	if (!s)
		return;
	r = daemon_set_enabled(d, s, enabled);
	if (r < 0) {
		control_reply(conn, commands_error(70, "cannot change '%s' in the store: %s",
						   s->name, strerror(-r)));
		return;
	}
	reply = ok();
	cJSON_AddStringToObject(reply, "scenario", s->name);
	cJSON_AddBoolToObject(reply, "enabled", enabled);
	cJSON_AddItemToObject(reply, "next_run_at",
			      time_or_null(s->slot.queued ? s->slot.due_ms : 0));
	control_reply(conn, reply);
}

static void cmd_retry(struct daemon *d, struct control_conn *conn, const cJSON *request)
{
	const cJSON *ids = cJSON_GetObjectItem(request, "ids");
	bool current = json_get_bool(request, "current", false);
	struct pending *p;
	const cJSON *item;

	if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0 ||
	    cJSON_GetArraySize(ids) > MAX_RETRY_IDS) {
		control_reply(conn, commands_error(64, "name 1 to %d incomplete execution ids",
						   MAX_RETRY_IDS));
		return;
	}
	p = pending_new(conn, false);
	cJSON_ArrayForEach(item, ids) {
		int64_t id = cJSON_IsNumber(item) ? (int64_t)item->valuedouble : 0;
		struct work_request req = {
			.trigger = "retry",
			.incomplete_id = id,
			.current = current,
			.done = on_waited,
			.userdata = p,
		};
		_cleanup_free_ char *message = NULL;
		int r;

		if (id <= 0) {
			pending_error(p, 0, 64, "not an incomplete execution id");
			continue;
		}
		p->outstanding++;
		r = work_submit(d, NULL, &req, NULL, &message);
		if (r < 0) {
			p->outstanding--;
			pending_error(p, id, submit_error_exit(r), submit_error_text(r, message));
		}
	}
	if (--p->outstanding == 0)
		pending_finish(p);
}

void commands_handle(struct daemon *d, struct control_conn *conn, const cJSON *request)
{
	const char *command = json_get_string(request, "command");

	if (!command)
		control_reply(conn, commands_error(64, "the request has no \"command\""));
	else if (streq(command, "status"))
		cmd_status(d, conn);
	else if (streq(command, "reload"))
		cmd_reload(d, conn);
	else if (streq(command, "trigger"))
		cmd_trigger(d, conn, request);
	else if (streq(command, "enable") || streq(command, "disable"))
		cmd_enable(d, conn, request, streq(command, "enable"));
	else if (streq(command, "incomplete_retry"))
		cmd_retry(d, conn, request);
	else
		control_reply(conn, commands_error(64, "unknown command '%s'", command));
}
