/* SPDX-License-Identifier: MIT */
/*
 * Instant triggers from the executor's side (scenario-format.md "Instant
 * triggers and the webhook queue"): each cycle of a run whose first module
 * is an instant trigger takes one event from the store's queue, which the
 * trigger emits as its bundle; when the cycle ends, the event is
 * acknowledged, or given back to the queue when the cycle rolled back (the
 * run ended in error). With `commit_trigger_last: false` it is acknowledged
 * as soon as it is taken. A run takes up to 100 events (`schedule:
 * instant`, as Fusion's "Immediately") or up to `max_cycles`.
 *
 * Recovery: a dead run's events are taken over; one whose trigger bundle is
 * on record was consumed by the replay (the rest of its walk becomes the
 * incomplete execution) and is acknowledged, the others go back to the
 * queue for a new run.
 */
#include "scenarios/exec_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "util/json.h"

#define INSTANT_CYCLES 100 /* events per run with `schedule: instant` (Fusion's) */

bool trigger_events_instant(const struct flow_node *node)
{
	return node->desc && node->desc->kind == MODULE_TRIGGER_INSTANT;
}

int trigger_events_cycle_limit(const struct scenario *scenario)
{
	return scenario->schedule.kind == SCHEDULE_INSTANT ? INSTANT_CYCLES :
							     scenario->settings.max_cycles;
}

static void forget(struct execution *exec)
{
	exec->event_id = 0;
	exec->event_unconsumed = false;
	cJSON_Delete(exec->event);
	exec->event = NULL;
}

bool trigger_events_waiting(struct execution *exec)
{
	const struct flow_node *trigger = exec->scenario->flow.nodes[0];
	int64_t queued = 0;

	return store_event_queued(exec->env->store, exec->scenario->name, trigger->id, 1,
				  &queued) == 0 &&
	       queued > 0;
}

void trigger_events_take(struct execution *exec, const struct node_info *trigger)
{
	struct store *store = exec->env->store;
	int r;

	forget(exec);
	r = store_event_take(store, exec->scenario->name, trigger->node->id, exec->id, exec->cycle,
			     &exec->event_id, &exec->event);
	if (r < 0) {
		/* Empty, or the store failed: the trigger emits nothing and the
		 * event (if any) stays queued for the next run. */
		exec->event_id = 0;
		exec->event = NULL;
		return;
	}
	if (!exec->scenario->settings.commit_trigger_last)
		store_event_ack(store, exec->event_id);
}

void trigger_events_end_cycle(struct execution *exec)
{
	const struct webhook_host *host = exec->env->webhooks;
	bool acknowledged = exec->status != EXECUTION_ERROR && !exec->event_unconsumed;
	int64_t id = exec->event_id;

	if (!id)
		return;
	if (exec->scenario->settings.commit_trigger_last) {
		if (acknowledged)
			store_event_ack(exec->env->store, id);
		else
			store_event_release(exec->env->store, id);
	}
	forget(exec);
	if (host && host->event_done)
		host->event_done(exec->env->webhooks_userdata, id, exec->id, acknowledged);
}

int trigger_events_adopt(struct execution *exec)
{
	struct store *store = exec->env->store;
	int r;

	r = store_event_adopt(store, exec->id);
	if (r == 0)
		r = store_event_list_taken(store, exec->id, &exec->replay_events);
	return r;
}

void trigger_events_replayed(struct execution *exec, bool on_record)
{
	cJSON *item;

	cJSON_ArrayForEach(item, exec->replay_events) {
		int64_t id = json_get_int(item, "id", 0);

		if (json_get_int(item, "cycle", 0) != exec->cycle)
			continue;
		if (on_record)
			store_event_ack(exec->env->store, id);
		else
			store_event_release(exec->env->store, id);
		cJSON_Delete(cJSON_DetachItemViaPointer(exec->replay_events, item));
		return;
	}
}

void trigger_events_release_rest(struct execution *exec)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, exec->replay_events)
		store_event_release(exec->env->store, json_get_int(item, "id", 0));
	cJSON_Delete(exec->replay_events);
	exec->replay_events = NULL;
	/* An event taken by a cycle that never reached its end (the run
	 * stopped at once) goes back as well. */
	if (exec->event_id && exec->scenario->settings.commit_trigger_last)
		store_event_release(exec->env->store, exec->event_id);
	forget(exec);
}
