/* SPDX-License-Identifier: MIT */
/*
 * What the store keeps for the runner and the daemon, in a real SQLite
 * file opened twice (two processes): sequential holds taken in order and
 * released by a dead process, the scheduler's memory, incomplete
 * executions counted and due, abandoned claims given back, and what a retry
 * run records so its crash can be replayed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

struct fixture {
	char *tmp;
	struct store *store;
	struct store *other; /* a second process on the same file */
	int64_t execution;
	char *snapshot;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	_cleanup_free_ char *msg = NULL;

	f->tmp = helpers_mkdtemp();
	assert_int_equal(store_open(f->tmp, &f->store, &msg), 0);
	assert_int_equal(store_open(f->tmp, &f->other, &msg), 0);
	assert_int_equal(store_execution_create(f->store, "demo", "manual", 0, &f->execution), 0);
	assert_int_equal(store_snapshot_put(f->store, "flow: []\n", &f->snapshot), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->store);
	store_close(f->other);
	helpers_rmdir_recursive(f->tmp);
	free(f->tmp);
	free(f->snapshot);
	free(f);
	return 0;
}

/* Makes every claim of `table` look like a process of this host that no
 * longer exists (pid_max is at most 4194304 on Linux). */
static void kill_owners(struct fixture *f, const char *table)
{
	_cleanup_free_ char *db_path = xasprintf("%s/store.db", f->tmp);
	_cleanup_free_ char *sql = NULL;
	char host[256] = "";
	sqlite3 *db;

	gethostname(host, sizeof(host) - 1);
	sql = xasprintf("UPDATE %s SET owner = '%s:4194305:00' WHERE owner IS NOT NULL", table,
			host);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_holds_run_in_order_across_processes(void **state)
{
	struct fixture *f = *state;
	int64_t first, second, third, other_scenario, ahead = -1;

	assert_int_equal(store_hold_enqueue(f->store, "seq", &first), 0);
	assert_int_equal(store_hold_enqueue(f->other, "seq", &second), 0);
	assert_int_equal(store_hold_enqueue(f->store, "seq", &third), 0);
	assert_int_equal(store_hold_enqueue(f->other, "elsewhere", &other_scenario), 0);

	assert_int_equal(store_hold_check(f->store, first, &ahead), 0);
	assert_int_equal(ahead, 0);
	assert_int_equal(store_hold_check(f->other, second, &ahead), -EBUSY);
	assert_int_equal(ahead, 1);
	assert_int_equal(store_hold_check(f->store, third, &ahead), -EBUSY);
	assert_int_equal(ahead, 2);
	/* Another scenario's queue is its own. */
	assert_int_equal(store_hold_check(f->other, other_scenario, &ahead), 0);

	assert_int_equal(store_hold_release(f->store, first, "seq"), 0);
	assert_int_equal(store_hold_check(f->other, second, &ahead), 0);
	assert_int_equal(store_hold_check(f->store, third, &ahead), -EBUSY);
	assert_int_equal(ahead, 1);
	/* A process cannot renew or release a hold it does not own. */
	assert_int_equal(store_hold_check(f->store, second, &ahead), -ENOENT);
	assert_int_equal(store_hold_release(f->store, second, "seq"), 0);
	assert_int_equal(store_hold_check(f->store, third, &ahead), -EBUSY);
}

static void test_dead_process_does_not_block_a_sequential_scenario(void **state)
{
	struct fixture *f = *state;
	int64_t dead, alive, ahead = -1;

	assert_int_equal(store_hold_enqueue(f->other, "seq", &dead), 0);
	assert_int_equal(store_hold_enqueue(f->store, "seq", &alive), 0);
	assert_int_equal(store_hold_check(f->store, alive, &ahead), -EBUSY);
	kill_owners(f, "run_holds");
	/* The store's own hold was rewritten too; only the dead one's id is
	 * earlier, and a dead hold no longer counts. Our hold is not ours any
	 * more either, which the check says. */
	assert_int_equal(store_hold_check(f->store, alive, &ahead), -ENOENT);
	assert_int_equal(store_hold_enqueue(f->store, "seq", &alive), 0);
	assert_int_equal(store_hold_check(f->store, alive, &ahead), 0);
	assert_int_equal(ahead, 0);
	/* Releasing clears the dead ones. */
	assert_int_equal(store_hold_release(f->store, alive, "seq"), 0);
}

static void test_schedule_memory(void **state)
{
	struct fixture *f = *state;
	struct store_schedule s;

	assert_int_equal(store_schedule_get(f->store, "demo", &s), -ENOENT);
	assert_int_equal(store_schedule_set(f->store, "demo", "interval 60000", 1000, 0), 0);
	assert_int_equal(store_schedule_get(f->other, "demo", &s), 0);
	assert_string_equal(s.key, "interval 60000");
	assert_int_equal(s.next_run_at, 1000);
	assert_int_equal(s.last_run_at, 0);
	store_schedule_done(&s);
	assert_int_equal(store_schedule_set(f->store, "demo", "daily 480", 0, 2000), 0);
	assert_int_equal(store_schedule_get(f->store, "demo", &s), 0);
	assert_string_equal(s.key, "daily 480");
	assert_int_equal(s.next_run_at, 0);
	assert_int_equal(s.last_run_at, 2000);
	store_schedule_done(&s);
	assert_int_equal(store_schedule_delete(f->store, "demo"), 0);
	assert_int_equal(store_schedule_get(f->store, "demo", &s), -ENOENT);
}

static int64_t insert(struct fixture *f, const char *scenario, const char *status,
		      int64_t next_attempt_at, int max_attempts)
{
	_cleanup_json_ cJSON *error =
		cJSON_Parse("{\"type\":\"ConnectionError\",\"message\":\"x\"}");
	_cleanup_json_ cJSON *st = cJSON_Parse("{\"frames\":[]}");
	struct store_incomplete rec = {
		.scenario = scenario,
		.execution_id = f->execution,
		.status = status,
		.module_id = "2",
		.error = error,
		.snapshot = f->snapshot,
		.state = st,
		.max_attempts = max_attempts,
		.next_attempt_at = next_attempt_at,
	};
	int64_t id = 0;

	assert_int_equal(store_incomplete_insert(f->store, &rec, &id), 0);
	return id;
}

static void test_incomplete_counts_and_next_due(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *counts = NULL;
	int64_t next = -1, later_id;
	const cJSON *demo;

	assert_int_equal(store_incomplete_next_due(f->store, &next), 0);
	assert_int_equal(next, 0);
	later_id = insert(f, "demo", "pending", 5000, 8);
	insert(f, "demo", "pending", 3000, 8);
	insert(f, "demo", "unresolved", 0, 0);
	insert(f, "other", "unresolved", 0, 0);
	assert_int_equal(store_incomplete_next_due(f->store, &next), 0);
	assert_int_equal(next, 3000);
	assert_int_equal(store_incomplete_claim(f->other, later_id), 0);

	assert_int_equal(store_incomplete_counts(f->store, &counts), 0);
	assert_int_equal(cJSON_GetArraySize(counts), 2);
	demo = cJSON_GetArrayItem(counts, 0);
	assert_string_equal(json_get_string(demo, "scenario"), "demo");
	assert_int_equal(json_get_int(demo, "pending", -1), 1);
	assert_int_equal(json_get_int(demo, "in_progress", -1), 1);
	assert_int_equal(json_get_int(demo, "unresolved", -1), 1);
	assert_string_equal(json_get_string(cJSON_GetArrayItem(counts, 1), "scenario"), "other");
	assert_int_equal(json_get_int(cJSON_GetArrayItem(counts, 1), "unresolved", -1), 1);
}

static void test_abandoned_claim_goes_back(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *abandoned = NULL, *rec = NULL;
	int64_t with_attempts = insert(f, "demo", "pending", 1000, 8);
	int64_t for_a_person = insert(f, "demo", "unresolved", 0, 0);
	int64_t before = time_now_ms();

	assert_int_equal(store_incomplete_claim(f->other, with_attempts), 0);
	assert_int_equal(store_incomplete_claim(f->other, for_a_person), 0);
	/* A live claim is not abandoned and cannot be given back. */
	assert_int_equal(store_incomplete_requeue(f->store, with_attempts), -ENOENT);
	assert_int_equal(store_incomplete_renew(f->other, with_attempts), 0);
	assert_int_equal(store_incomplete_renew(f->store, with_attempts), -ENOENT);

	kill_owners(f, "incomplete_executions");
	assert_int_equal(store_incomplete_list_abandoned(f->store, &abandoned), 0);
	assert_int_equal(cJSON_GetArraySize(abandoned), 2);
	assert_non_null(json_get_string(cJSON_GetArrayItem(abandoned, 0), "owner"));
	assert_int_equal(store_incomplete_requeue(f->store, with_attempts), 0);
	assert_int_equal(store_incomplete_requeue(f->store, for_a_person), 0);

	assert_int_equal(store_incomplete_get(f->store, with_attempts, &rec), 0);
	assert_string_equal(json_get_string(rec, "status"), "pending");
	assert_int_equal(json_get_int(rec, "attempts", -1), 0);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(rec, "next_attempt_at")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(rec, "owner")));
	cJSON_Delete(TAKE_PTR(rec));
	assert_int_equal(store_incomplete_get(f->store, for_a_person, &rec), 0);
	assert_string_equal(json_get_string(rec, "status"), "unresolved");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(rec, "next_attempt_at")));
	/* The one with attempts left is due at once. */
	cJSON_Delete(TAKE_PTR(abandoned));
	assert_int_equal(store_incomplete_list_due(f->store, time_now_ms(), 0, &abandoned), 0);
	assert_int_equal(cJSON_GetArraySize(abandoned), 1);
	assert_int_equal(json_get_int(cJSON_GetArrayItem(abandoned, 0), "id", 0), with_attempts);
	assert_true(before > 0);
}

static void test_a_retry_run_keeps_what_it_resumed(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *st = cJSON_Parse("{\"version\":1,\"frames\":[{\"kind\":\"x\"}]}");
	_cleanup_json_ cJSON *last = NULL;
	struct store_execution_origin origin;
	int64_t record = insert(f, "demo", "pending", 1000, 8), retry;

	assert_int_equal(store_execution_create(f->store, "demo", "retry", f->execution, &retry),
			 0);
	assert_int_equal(store_execution_set_resume(f->store, retry, record, st), 0);
	assert_int_equal(store_execution_get_origin(f->other, retry, &origin), 0);
	assert_int_equal(origin.incomplete_id, record);
	assert_non_null(origin.resume_state);
	assert_true(cJSON_Compare(origin.resume_state, st, true));
	assert_string_equal(origin.owner, store_owner(f->store));
	store_execution_origin_done(&origin);

	assert_int_equal(store_execution_get_origin(f->store, f->execution, &origin), 0);
	assert_int_equal(origin.incomplete_id, 0);
	assert_null(origin.resume_state);
	store_execution_origin_done(&origin);

	assert_int_equal(store_execution_last(f->store, "demo", &last), 0);
	assert_string_equal(json_get_string(last, "status"), "running");
	assert_string_equal(json_get_string(last, "trigger"), "retry");
	cJSON_Delete(TAKE_PTR(last));
	assert_int_equal(store_execution_last(f->store, "never-ran", &last), 0);
	assert_null(last);
}

static void test_event_queue_in_order_across_processes(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *counts = NULL, *taken = NULL;
	int64_t ids[3], id = 0, queued = -1;
	cJSON *payload = NULL;

	for (int i = 0; i < 3; i++) {
		_cleanup_json_ cJSON *p = cJSON_CreateObject();

		cJSON_AddNumberToObject(p, "n", i);
		assert_int_equal(store_event_enqueue(f->store, "hook", "1", NULL, p, &ids[i]), 0);
	}
	assert_int_equal(store_event_queued(f->other, "hook", "1", 100, &queued), 0);
	assert_int_equal(queued, 3);
	assert_int_equal(store_event_queued(f->other, "hook", "1", 2, &queued), 0);
	assert_int_equal(queued, 2);
	/* Two processes take the two oldest, each once. */
	assert_int_equal(store_event_take(f->store, "hook", "1", f->execution, 1, &id, &payload),
			 0);
	assert_int_equal(id, ids[0]);
	assert_int_equal(json_get_int(payload, "n", -1), 0);
	cJSON_Delete(payload);
	assert_int_equal(store_event_take(f->other, "hook", "1", 99, 1, &id, &payload), 0);
	assert_int_equal(id, ids[1]);
	cJSON_Delete(payload);
	/* Another trigger's queue is empty. */
	assert_int_equal(store_event_take(f->store, "hook", "2", f->execution, 1, &id, &payload),
			 -ENOENT);
	/* Only the holder acknowledges or gives back. */
	assert_int_equal(store_event_ack(f->store, ids[1]), -ENOENT);
	assert_int_equal(store_event_release(f->other, ids[1]), 0);
	assert_int_equal(store_event_ack(f->store, ids[0]), 0);
	/* The given-back one comes before the never-taken one. */
	assert_int_equal(store_event_take(f->store, "hook", "1", f->execution, 2, &id, &payload),
			 0);
	assert_int_equal(id, ids[1]);
	cJSON_Delete(payload);
	assert_int_equal(store_event_list_taken(f->store, f->execution, &taken), 0);
	assert_int_equal(cJSON_GetArraySize(taken), 1);
	assert_int_equal(json_get_int(cJSON_GetArrayItem(taken, 0), "cycle", 0), 2);
	assert_int_equal(store_event_counts(f->store, &counts), 0);
	assert_int_equal(json_get_int(cJSON_GetArrayItem(counts, 0), "count", 0), 2);
}

static void test_a_dead_runs_events_go_back(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *p = cJSON_Parse("{\"x\":1}");
	cJSON *payload = NULL;
	int64_t id = 0, first = 0, second = 0;

	assert_int_equal(store_event_enqueue(f->store, "hook", "1", NULL, p, &first), 0);
	assert_int_equal(store_event_enqueue(f->store, "hook", "1", NULL, p, &second), 0);
	assert_int_equal(store_event_take(f->other, "hook", "1", f->execution, 1, &id, &payload),
			 0);
	cJSON_Delete(payload);
	assert_int_equal(store_event_take(f->other, "hook", "1", f->execution, 2, &id, &payload),
			 0);
	cJSON_Delete(payload);
	kill_owners(f, "events");
	/* Its execution is still running (for recovery to replay): another
	 * run must not take its events meanwhile. */
	assert_int_equal(store_event_take(f->store, "hook", "1", 9, 1, &id, &payload), -ENOENT);
	assert_int_equal(store_event_release_abandoned(f->store), 0);
	/* Recovery takes the dead run's events over and settles each. */
	assert_int_equal(store_event_adopt(f->store, f->execution), 0);
	assert_int_equal(store_event_ack(f->store, first), 0);
	assert_int_equal(store_event_release(f->store, second), 0);
	assert_int_equal(store_event_take(f->store, "hook", "1", 7, 1, &id, &payload), 0);
	assert_int_equal(id, second);
	cJSON_Delete(payload);
	/* A taken event whose process died goes back on the sweep. */
	kill_owners(f, "events");
	assert_int_equal(store_event_release_abandoned(f->store), 1);
	assert_int_equal(store_event_take(f->other, "hook", "1", 8, 1, &id, &payload), 0);
	assert_int_equal(id, second);
	cJSON_Delete(payload);
}

static void test_the_same_event_is_queued_once(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *p = cJSON_Parse("{\"event\":\"job.finished\"}");
	int64_t id = 0, again = 0, queued = 0;

	assert_int_equal(store_event_enqueue(f->store, "cc", "1", "job.finished:J1", p, &id), 0);
	assert_int_equal(store_event_enqueue(f->other, "cc", "1", "job.finished:J1", p, &again),
			 -EEXIST);
	assert_int_equal(store_event_enqueue(f->store, "cc", "1", "job.created:J1", p, &again), 0);
	/* Another trigger keeps its own keys. */
	assert_int_equal(store_event_enqueue(f->store, "cc", "2", "job.finished:J1", p, &again), 0);
	assert_int_equal(store_event_queued(f->store, "cc", "1", 10, &queued), 0);
	assert_int_equal(queued, 2);
	/* Forgotten keys no longer hold an event back. */
	assert_int_equal(store_event_keys_expire(f->store, time_now_ms() + 1), 0);
	assert_int_equal(store_event_enqueue(f->store, "cc", "1", "job.finished:J1", p, &again), 0);
}

static void test_webhook_registrations_keep_no_secret(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *events = cJSON_Parse("[\"job.finished\"]");
	_cleanup_json_ cJSON *list = NULL;
	struct store_webhook w = {
		.connection = "cc",
		.url = "https://hooks.example.com/webhooks/x/1",
		.events = events,
		.remote_id = "0b0a4d42-1c11-4f3a-9e70-1b5f5a2f1a01",
		.status = "registered",
		.updated_at = 5,
	};
	struct store_webhook got;

	assert_int_equal(store_webhook_set(f->store, "x", "1", &w), 0);
	assert_int_equal(store_webhook_get(f->other, "x", "1", &got), 0);
	assert_string_equal(got.url, w.url);
	assert_string_equal(got.remote_id, w.remote_id);
	assert_true(cJSON_Compare(got.events, events, true));
	store_webhook_done(&got);
	assert_int_equal(store_webhook_list(f->store, &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	assert_int_equal(store_webhook_delete(f->store, "x", "1"), 0);
	assert_int_equal(store_webhook_get(f->store, "x", "1", &got), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_holds_run_in_order_across_processes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_dead_process_does_not_block_a_sequential_scenario, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_counts_and_next_due, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_claim_goes_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_retry_run_keeps_what_it_resumed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_queue_in_order_across_processes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_dead_runs_events_go_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_same_event_is_queued_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_webhook_registrations_keep_no_secret, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
