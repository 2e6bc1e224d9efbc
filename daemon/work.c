/* SPDX-License-Identifier: MIT */
/*
 * The daemon's work: runs and retries waiting for a worker, and those in
 * flight. At most --workers jobs run at once (a job is a runner job: a run
 * or a retry, waiting for its sequential turn or executing); the rest wait
 * in a FIFO queue, bounded in count. Every job that ends is logged once,
 * with what a person needs to find it: the scenario, the execution, the
 * trigger and the outcome.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/engine.h"
#include "scenarios/executor.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/xalloc.h"

struct work {
	struct daemon *d; /* borrowed */
	struct work *prev, *next; /* the queue, then d->active */
	char *scenario; /* owned: the name (the entry may go away meanwhile) */
	struct scenario_version *version; /* the version to run (a reference); a retry's only
					   * with `current`, else NULL (the stored snapshot) */
	char *trigger; /* owned */
	int64_t slot_ms; /* a scheduled run's slot */
	int64_t incomplete_id; /* a retry's record */
	struct runner_job *job; /* owned while running */
	work_done_fn *done;
	void *userdata;
};

static void work_free(struct work *w)
{
	scenario_version_unref(w->version);
	free(w->scenario);
	free(w->trigger);
	free(w);
}

static void list_append(struct work **head, struct work **tail, struct work *w)
{
	w->next = NULL;
	w->prev = *tail;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

static void active_add(struct daemon *d, struct work *w)
{
	w->prev = NULL;
	w->next = d->active;
	if (d->active)
		d->active->prev = w;
	d->active = w;
}

static void active_remove(struct daemon *d, struct work *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		d->active = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

static struct work *queue_pop(struct daemon *d)
{
	struct work *w = d->queue_head;

	if (!w)
		return NULL;
	d->queue_head = w->next;
	if (d->queue_head)
		d->queue_head->prev = NULL;
	else
		d->queue_tail = NULL;
	d->queued--;
	w->next = w->prev = NULL;
	return w;
}

/* A scheduled run is over (or never started): a slot that came meanwhile
 * runs now, once. */
static void scheduled_over(struct daemon *d, struct work *w)
{
	struct daemon_scenario *s = catalog_find(&d->catalog, w->scenario);
	struct work_request req = { .trigger = "schedule", .slot_ms = w->slot_ms };

	if (!s || !streq(w->trigger, "schedule"))
		return;
	s->scheduled_active = false;
	if (!s->due_again || !d->taking_work)
		return;
	s->due_again = false;
	if (work_submit(d, s, &req, NULL, NULL) == 0)
		s->scheduled_active = true;
}

/* A run started for queued events is over: more may be waiting. One that
 * could not even start does not try again at once (the next event, or the
 * housekeeping tick, does), or a failing store would loop. */
static void instant_over(struct daemon *d, struct work *w, bool ran)
{
	struct daemon_scenario *s = catalog_find(&d->catalog, w->scenario);

	if (!s || !streq(w->trigger, "webhook"))
		return;
	if (s->instant_runs > 0)
		s->instant_runs--;
	if (ran)
		instant_kick(d, s);
}

/* Runs and operations since the daemon started, for GET /metrics. */
static void count_outcome(struct daemon_scenario *s, const struct runner_job *job)
{
	const struct execution *e = runner_job_execution(job);
	enum execution_status status;

	if (!s || !e)
		return;
	status = execution_status(e);
	if (status >= 0 && status < (int)ELEMENTSOF(s->runs_by_status))
		s->runs_by_status[status]++;
	s->operations += (uint64_t)execution_counters(e)->operations;
}

void instant_kick(struct daemon *d, struct daemon_scenario *s)
{
	const struct scenario *sc = s->version->scenario;
	const struct flow_node *trigger = sc->flow.nodes[0];
	struct work_request req = { .trigger = "webhook" };
	int64_t queued = 0;
	int limit;

	if (!d->taking_work || d->recovering || !s->enabled ||
	    sc->schedule.kind != SCHEDULE_INSTANT || !trigger->desc ||
	    trigger->desc->kind != MODULE_TRIGGER_INSTANT)
		return;
	limit = sc->settings.sequential ? 1 : d->config->instant_runs;
	if (s->instant_runs >= limit ||
	    store_event_queued(d->engine->store, s->name, trigger->id, limit, &queued) < 0)
		return;
	/* Each run takes events one after the other; a run more than there
	 * are events would find the queue empty. */
	while (s->instant_runs < limit && s->instant_runs < queued) {
		if (work_submit(d, s, &req, NULL, NULL) < 0)
			break;
		s->instant_runs++;
	}
}

static void log_outcome(const struct work *w, const struct runner_job *job)
{
	const struct execution *e = runner_job_execution(job);
	const struct store_counters *c;
	const cJSON *error;
	enum runner_outcome outcome = runner_job_outcome(job);

	if (outcome == RUNNER_HELD) {
		log_notice(RUN, "Run held: scenario='%s' trigger=%s reason='%s'", w->scenario,
			   w->trigger, runner_job_message(job));
		return;
	}
	if (outcome == RUNNER_CANCELLED) {
		log_info(RUN, "Run cancelled before its turn: scenario='%s' trigger=%s",
			 w->scenario, w->trigger);
		return;
	}
	if (!e) {
		log_error(RUN, "Run did not start: scenario='%s' trigger=%s reason='%s'",
			  w->scenario, w->trigger, runner_job_message(job));
		return;
	}
	c = execution_counters(e);
	error = execution_error(e);
	log_full(execution_status(e) == EXECUTION_ERROR ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO, RUN,
		 "Run finished: scenario='%s' execution=%lld trigger=%s status=%s operations=%lld "
		 "duration_ms=%lld%s%s%s%s%s%s",
		 w->scenario, (long long)execution_id(e), w->trigger,
		 execution_status_to_string(execution_status(e)), (long long)c->operations,
		 (long long)c->duration_ms, error ? " error=" : "",
		 error ? json_get_string(error, "type") : "", error ? " module=" : "",
		 error && json_get_string(error, "module") ? json_get_string(error, "module") :
		 error					   ? "-" :
							     "",
		 execution_incomplete_id(e) ? " incomplete=" : "",
		 execution_incomplete_id(e) ? "yes" : "");
}

static void pump(struct daemon *d);
static void give_slot_back(struct daemon *d, const struct work *w);

static void on_job_done(struct runner_job *job, void *userdata)
{
	struct work *w = userdata;
	struct daemon *d = w->d;
	struct daemon_scenario *s = catalog_find(&d->catalog, w->scenario);

	d->running--;
	active_remove(d, w);
	if (s && s->running > 0)
		s->running--;
	count_outcome(s, job);
	log_outcome(w, job);
	/* A stop cancelled it before its sequential turn: its slot is missed,
	 * not lost. */
	if (runner_job_outcome(job) == RUNNER_CANCELLED && w->slot_ms)
		give_slot_back(d, w);
	if (w->done)
		w->done(w, job, NULL, w->userdata);
	runner_job_free(job);
	w->job = NULL;
	scheduled_over(d, w);
	instant_over(d, w, true);
	daemon_after_job(d, w->scenario);
	work_free(w);
	pump(d);
}

/* A job that could not start: whoever asked hears why. */
static void not_started(struct daemon *d, struct work *w, int r, const char *message)
{
	_cleanup_free_ char *why = xstrdup(message ? message : strerror(-r));

	if (w->incomplete_id && (r == -EBUSY || r == -EALREADY))
		log_debug(RUN, "Retry of incomplete execution %lld skipped: %s",
			  (long long)w->incomplete_id, why);
	else
		log_error(RUN, "Run did not start: scenario='%s' trigger=%s reason='%s'",
			  w->scenario ? w->scenario : "?", w->trigger, why);
	if (w->done)
		w->done(w, NULL, why, w->userdata);
	scheduled_over(d, w);
	instant_over(d, w, false);
	work_free(w);
}

/* Starts the job; < 0 (and a message, caller frees) when it cannot. */
static int start(struct daemon *d, struct work *w, char **reterr_msg)
{
	struct runner_run_options options = {
		.trigger = w->trigger,
		.tz = w->version ? w->version->tz : NULL,
	};
	struct daemon_scenario *s;
	int r;

	if (w->incomplete_id)
		r = runner_retry(d->runner, w->incomplete_id,
				 w->version ? w->version->scenario : NULL, NULL, on_job_done, w,
				 &w->job, reterr_msg);
	else
		r = runner_run(d->runner, w->version->scenario, &options, on_job_done, w, &w->job,
			       reterr_msg);
	if (r < 0)
		return r;
	d->running++;
	active_add(d, w);
	s = catalog_find(&d->catalog, w->scenario);
	if (s)
		s->running++;
	if (w->incomplete_id)
		log_info(RUN, "Retry started: scenario='%s' incomplete=%lld execution=%lld",
			 w->scenario, (long long)w->incomplete_id,
			 (long long)runner_job_execution_id(w->job));
	else
		log_info(RUN, "Run started: scenario='%s' execution=%lld trigger=%s", w->scenario,
			 (long long)runner_job_execution_id(w->job), w->trigger);
	return 0;
}

static void pump(struct daemon *d)
{
	while (d->taking_work && d->running < d->config->workers && d->queue_head) {
		struct work *w = queue_pop(d);
		_cleanup_free_ char *message = NULL;
		int r = start(d, w, &message);

		if (r < 0)
			not_started(d, w, r, message);
	}
}

/* The scenario of a retry, from its record. It may be gone from the folder
 * (the stored snapshot still runs), but --current needs it there. */
static int retry_scenario(struct daemon *d, const struct work_request *req,
			  struct daemon_scenario **ret, char **ret_name, char **reterr_msg)
{
	_cleanup_json_ cJSON *rec = NULL;
	const char *name;
	int r;

	r = store_incomplete_get(d->engine->store, req->incomplete_id, &rec);
	if (r < 0)
		return r;
	name = json_get_string(rec, "scenario");
	*ret = name ? catalog_find(&d->catalog, name) : NULL;
	*ret_name = xstrdup(name ? name : "?");
	if (req->current && !*ret) {
		*reterr_msg = xasprintf("scenario '%s' is not in the scenario folder any more; "
					"retry without --current to run the stored snapshot",
					name ? name : "?");
		return -EINVAL;
	}
	return 0;
}

/* --current: the file as it is on disk now, which may be newer than the
 * last reload; the catalog keeps its version. */
static int current_version(const struct daemon_scenario *s, struct scenario_version **ret,
			   char **reterr_msg)
{
	struct scenario *scenario = NULL;
	struct diag_list diags;
	int r;

	diag_list_init(&diags);
	r = scenario_load_file(s->path, &scenario, &diags);
	if (r < 0) {
		diag_list_sort(&diags);
		*reterr_msg = diags.count ? diag_format(&diags.items[0]) :
					    xasprintf("%s: cannot be loaded", s->path);
	}
	diag_list_done(&diags);
	if (r < 0)
		return r == -EINVAL ? r : -EINVAL;
	*ret = xcalloc(1, sizeof(**ret));
	(*ret)->refs = 1;
	(*ret)->scenario = scenario;
	return 0;
}

int work_submit(struct daemon *d, struct daemon_scenario *s, const struct work_request *req,
		struct work **ret, char **reterr_msg)
{
	_cleanup_free_ char *message = NULL, *record_name = NULL;
	struct scenario_version *current = NULL;
	struct work *w;
	int r;

	if (!d->taking_work)
		return -ESHUTDOWN;
	if (d->queued >= WORK_QUEUE_MAX)
		return -ENOBUFS;
	if (!req->incomplete_id && (!s || !s->version))
		return -EINVAL;
	if (req->incomplete_id && !s) {
		r = retry_scenario(d, req, &s, &record_name, reterr_msg);
		if (r < 0)
			return r;
	}
	if (req->current) {
		r = current_version(s, &current, reterr_msg);
		if (r < 0)
			return r;
	}
	w = xcalloc(1, sizeof(*w));
	w->d = d;
	w->scenario = xstrdup(s ? s->name : record_name);
	if (!req->incomplete_id)
		w->version = scenario_version_ref(s->version);
	if (current)
		w->version = current;
	w->trigger = xstrdup(req->trigger ? req->trigger : "manual");
	w->slot_ms = req->slot_ms;
	w->incomplete_id = req->incomplete_id;
	w->done = req->done;
	w->userdata = req->userdata;
	if (d->running < d->config->workers && !d->queue_head) {
		r = start(d, w, &message);
		if (r < 0) {
			log_debug(RUN, "Work for '%s' did not start: %s", w->scenario,
				  message ? message : strerror(-r));
			if (reterr_msg)
				*reterr_msg = TAKE_PTR(message);
			work_free(w);
			return r;
		}
	} else {
		list_append(&d->queue_head, &d->queue_tail, w);
		d->queued++;
	}
	if (ret)
		*ret = w;
	return 0;
}

int64_t work_execution_id(const struct work *w)
{
	return w->job ? runner_job_execution_id(w->job) : 0;
}

bool work_started(const struct work *w)
{
	return w->job != NULL;
}

bool work_retrying(const struct daemon *d, int64_t id)
{
	for (const struct work *w = d->active; w; w = w->next)
		if (w->incomplete_id == id)
			return true;
	for (const struct work *w = d->queue_head; w; w = w->next)
		if (w->incomplete_id == id)
			return true;
	return false;
}

/* A scheduled run that never started gives its slot back, so the next
 * start runs it as missed. */
static void give_slot_back(struct daemon *d, const struct work *w)
{
	struct daemon_scenario *s = catalog_find(&d->catalog, w->scenario);
	struct store_schedule stored;

	if (!s || !w->slot_ms || !s->schedule_key)
		return;
	if (store_schedule_get(d->engine->store, s->name, &stored) < 0)
		return;
	store_schedule_set(d->engine->store, s->name, s->schedule_key, w->slot_ms,
			   stored.last_run_at);
	store_schedule_done(&stored);
}

void work_stop(struct daemon *d, bool now)
{
	struct work *w;

	d->taking_work = false;
	while ((w = queue_pop(d))) {
		if (streq(w->trigger, "schedule"))
			give_slot_back(d, w);
		if (w->done)
			w->done(w, NULL, "scenariod is stopping; the run did not start",
				w->userdata);
		work_free(w);
	}
	for (w = d->active; w; w = w->next)
		runner_job_stop(w->job, now);
}

int work_running(const struct daemon *d)
{
	return d->running;
}

int work_queued(const struct daemon *d)
{
	return d->queued;
}
