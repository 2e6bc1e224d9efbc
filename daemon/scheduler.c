/* SPDX-License-Identifier: MIT */
/*
 * What is due next, and nothing else: every scenario's next slot, the
 * earliest automatic attempt of an incomplete execution, and a
 * housekeeping tick, in one min-heap with one timer armed for its first
 * entry. With nothing due the process sleeps; a slot costs O(log n) however
 * many scenarios are loaded.
 *
 * Slots are wall-clock (epoch ms) and come from scenarios/schedule.h in the
 * scenario's zone. Before a run starts, the next slot is written to the
 * store with the slot just taken, so after a restart a slot that passed
 * while the daemon was down runs once, at start (not once per missed
 * slot), and a slot is never run twice. An interval schedule counts from
 * its slots, not from when runs end, so it does not drift; a scenario's
 * scheduled runs never overlap: a slot that comes while the last scheduled
 * run is still going waits for it, and several such slots make one run.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/engine.h"
#include "scenarios/schedule.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define HOUSEKEEPING_MS (60 * 1000)
#define FIRE_BATCH 256 /* entries fired per timer callback before the loop breathes */

static void on_timer(uv_timer_t *timer);

static struct daemon *of_timer(uv_timer_t *timer)
{
	return container_of(container_of(timer, struct scheduler, timer), struct daemon, scheduler);
}

static void arm(struct daemon *d)
{
	struct scheduler *s = &d->scheduler;
	const struct heap_entry *first = heap_peek(&s->heap);
	int64_t delay;

	if (!s->running || !first) {
		uv_timer_stop(&s->timer);
		return;
	}
	delay = first->due_ms - time_now_ms();
	uv_timer_start(&s->timer, on_timer, delay > 0 ? (uint64_t)delay : 0, 0);
}

void scheduler_init(struct daemon *d)
{
	struct scheduler *s = &d->scheduler;

	heap_init(&s->heap);
	uv_timer_init(&d->engine->loop, &s->timer);
}

void scheduler_start(struct daemon *d)
{
	d->scheduler.running = true;
	heap_set(&d->scheduler.heap, &d->scheduler.housekeeping, time_now_ms() + HOUSEKEEPING_MS);
	scheduler_incomplete_changed(d);
	arm(d);
}

void scheduler_stop(struct daemon *d)
{
	struct scheduler *s = &d->scheduler;

	s->running = false;
	uv_timer_stop(&s->timer);
	if (!uv_is_closing((uv_handle_t *)&s->timer))
		uv_close((uv_handle_t *)&s->timer, NULL);
	heap_done(&s->heap);
}

static bool has_slots(const struct scenario *sc)
{
	return sc->schedule.kind != SCHEDULE_ON_DEMAND && sc->schedule.kind != SCHEDULE_INSTANT;
}

/* The first slot strictly after `after` (0: none). */
static int64_t next_slot(const struct daemon_scenario *s, int64_t after)
{
	const struct scenario *sc = s->version->scenario;

	return schedule_next(&sc->schedule, s->version->tz, after);
}

void scheduler_unplan(struct daemon *d, struct daemon_scenario *s)
{
	heap_remove(&d->scheduler.heap, &s->slot);
	s->slot_ms = 0;
	arm(d);
}

/* Where a plan starts: what the store remembers when it belongs to this
 * schedule, else a fresh start (an interval runs at once, as Fusion runs
 * a scenario when it is switched on; a calendar waits for its next slot).
 * Returns the slot, 0 for none. */
static int64_t first_slot(struct daemon *d, struct daemon_scenario *s, const char *key,
			  bool activated, int64_t *ret_last)
{
	const struct scenario *sc = s->version->scenario;
	struct store_schedule stored = { 0 };
	int64_t now = time_now_ms(), slot;

	*ret_last = 0;
	if (store_schedule_get(d->engine->store, s->name, &stored) == 0) {
		*ret_last = stored.last_run_at;
		if (!activated && streq(stored.key, key)) {
			slot = stored.next_run_at;
			store_schedule_done(&stored);
			return slot;
		}
		store_schedule_done(&stored);
	}
	if (sc->schedule.kind == SCHEDULE_INTERVAL)
		return now;
	return next_slot(s, now);
}

void scheduler_plan(struct daemon *d, struct daemon_scenario *s, bool activated)
{
	const struct scenario *sc = s->version->scenario;
	_cleanup_free_ char *key = NULL;
	int64_t slot, last;

	if (!s->enabled || !has_slots(sc)) {
		scheduler_unplan(d, s);
		return;
	}
	key = schedule_key(&sc->schedule, sc->timezone);
	/* A reload that kept the schedule keeps the plan. */
	if (!activated && s->schedule_key && streq(s->schedule_key, key) &&
	    (s->slot.queued || s->scheduled_active))
		return;
	slot = first_slot(d, s, key, activated, &last);
	free(s->schedule_key);
	s->schedule_key = TAKE_PTR(key);
	s->slot_ms = slot;
	store_schedule_set(d->engine->store, s->name, s->schedule_key, slot, last);
	if (slot > 0) {
		if (slot < time_now_ms())
			log_info(SCHED,
				 "Scenario '%s' missed its slot %lld while scenariod was stopped; "
				 "it runs once now",
				 s->name, (long long)slot);
		heap_set(&d->scheduler.heap, &s->slot, slot);
	} else {
		heap_remove(&d->scheduler.heap, &s->slot);
	}
	arm(d);
}

/* A slot is due: plan the next one first (so a crash can neither lose nor
 * repeat it), then run, unless the last scheduled run still goes. */
static void fire_slot(struct daemon *d, struct daemon_scenario *s)
{
	const struct scenario *sc = s->version->scenario;
	struct work_request req = { .trigger = "schedule", .slot_ms = s->slot_ms };
	struct store_scenario_state state;
	int64_t now = time_now_ms(), next;
	int r;

	if (store_scenario_get(d->engine->store, s->name, &state) == 0) {
		s->enabled = state.enabled;
		store_scenario_state_done(&state);
	}
	if (!s->enabled) {
		log_info(SCHED, "Scenario '%s' is disabled; its schedule stops", s->name);
		s->slot_ms = 0;
		return;
	}
	if (sc->schedule.kind == SCHEDULE_INTERVAL) {
		next = s->slot_ms + sc->schedule.interval_ms;
		if (next <= now)
			next = now + sc->schedule.interval_ms;
	} else {
		next = next_slot(s, now);
	}
	store_schedule_set(d->engine->store, s->name, s->schedule_key, next, req.slot_ms);
	s->slot_ms = next;
	if (next > 0)
		heap_set(&d->scheduler.heap, &s->slot, next);

	if (s->scheduled_active) {
		s->due_again = true;
		log_debug(SCHED,
			  "Scenario '%s': slot due while its last run goes on; it runs after",
			  s->name);
		return;
	}
	r = work_submit(d, s, &req, NULL, NULL);
	if (r == 0)
		s->scheduled_active = true;
	else
		log_warning_errno(SCHED, r, "Scenario '%s': cannot queue its scheduled run: %m",
				  s->name);
}

void scheduler_incomplete_changed(struct daemon *d)
{
	struct scheduler *s = &d->scheduler;
	int64_t next = 0;

	if (!s->running)
		return;
	if (store_incomplete_next_due(d->engine->store, &next) < 0 || next <= 0) {
		heap_remove(&s->heap, &s->incomplete);
	} else {
		/* Due records that wait for a free worker, or for a disabled
		 * scenario, are looked at again on the housekeeping tick. */
		int64_t now = time_now_ms();

		if (next < now && s->incomplete.queued && s->incomplete.due_ms > now)
			next = s->incomplete.due_ms;
		heap_set(&s->heap, &s->incomplete, next);
	}
	arm(d);
}

/* Automatic attempts that are due go to free workers, oldest first. */
static void fire_incomplete(struct daemon *d)
{
	int free_workers = d->config->workers - d->running - d->queued;
	_cleanup_json_ cJSON *due = NULL;
	const cJSON *item;
	int submitted = 0, skipped = 0;

	if (free_workers <= 0 ||
	    store_incomplete_list_due(d->engine->store, time_now_ms(), free_workers, &due) < 0) {
		heap_set(&d->scheduler.heap, &d->scheduler.incomplete,
			 time_now_ms() + HOUSEKEEPING_MS);
		return;
	}
	cJSON_ArrayForEach(item, due) {
		int64_t id = json_get_int(item, "id", 0);
		const char *name = json_get_string(item, "scenario");
		struct daemon_scenario *s = name ? catalog_find(&d->catalog, name) : NULL;
		struct work_request req = { .trigger = "retry", .incomplete_id = id };

		if (work_retrying(d, id) || (s && !s->enabled)) {
			skipped++;
			continue;
		}
		if (work_submit(d, s, &req, NULL, NULL) == 0)
			submitted++;
	}
	if (skipped > 0 && submitted == 0)
		heap_set(&d->scheduler.heap, &d->scheduler.incomplete,
			 time_now_ms() + HOUSEKEEPING_MS);
	else
		scheduler_incomplete_changed(d);
}

static void on_recover_done(int recovered, void *userdata)
{
	struct daemon *d = userdata;

	(void)recovered;
	daemon_after_job(d, NULL);
}

/* Runs that died in another process (a killed scenarioctl), claims given
 * back, and records that another process planned. */
static void fire_housekeeping(struct daemon *d)
{
	int r;

	r = runner_recover(d->runner, daemon_log_recovered, on_recover_done, d);
	if (r < 0 && r != -EALREADY)
		log_warning_errno(RUN, r, "Cannot look for abandoned executions: %m");
	scheduler_incomplete_changed(d);
	/* A delivery CloudConvert sends again comes within hours, not days. */
	store_event_keys_expire(d->engine->store, time_now_ms() - 7 * 86400 * 1000LL);
	/* Events whose runs could not start, or that waited for a worker. */
	for (size_t i = 0; i < d->catalog.count; i++)
		instant_kick(d, d->catalog.items[i]);
	heap_set(&d->scheduler.heap, &d->scheduler.housekeeping, time_now_ms() + HOUSEKEEPING_MS);
}

static void record_lag(struct scheduler *s, int64_t lag)
{
	s->lag[s->lag_count % LAG_SAMPLES] = lag < 0 ? 0 : lag;
	s->lag_count++;
}

static void on_timer(uv_timer_t *timer)
{
	struct daemon *d = of_timer(timer);
	struct scheduler *s = &d->scheduler;
	int fired = 0;

	while (s->running && fired < FIRE_BATCH) {
		struct heap_entry *e = heap_peek(&s->heap);
		int64_t now = time_now_ms();

		if (!e || e->due_ms > now)
			break;
		heap_remove(&s->heap, e);
		fired++;
		if (e == &s->incomplete) {
			fire_incomplete(d);
		} else if (e == &s->housekeeping) {
			fire_housekeeping(d);
		} else {
			record_lag(s, now - e->due_ms);
			fire_slot(d, container_of(e, struct daemon_scenario, slot));
		}
	}
	arm(d);
}

static int compare_lag(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void scheduler_lag(const struct daemon *d, int64_t *ret_p50, int64_t *ret_p99, int64_t *ret_max)
{
	const struct scheduler *s = &d->scheduler;
	size_t n = s->lag_count < LAG_SAMPLES ? (size_t)s->lag_count : LAG_SAMPLES;
	_cleanup_free_ int64_t *sorted = NULL;

	*ret_p50 = *ret_p99 = *ret_max = 0;
	if (n == 0)
		return;
	sorted = xmalloc(n * sizeof(*sorted));
	memcpy(sorted, s->lag, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), compare_lag);
	*ret_p50 = sorted[(n - 1) / 2];
	*ret_p99 = sorted[(n - 1) * 99 / 100];
	*ret_max = sorted[n - 1];
}
