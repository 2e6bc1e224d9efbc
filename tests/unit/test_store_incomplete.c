/* SPDX-License-Identifier: MIT */
/*
 * Incomplete executions and snapshots in a real SQLite file: insert, list
 * filters, claims between two store handles (two processes), release with
 * the next attempt, resolve and delete refused while in progress, the due
 * list and the open count a sequential scenario waits on.
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

static int64_t insert(struct fixture *f, const char *status, int64_t next_attempt_at)
{
	_cleanup_json_ cJSON *error =
		cJSON_Parse("{\"type\":\"ConnectionError\",\"message\":\"x\"}");
	_cleanup_json_ cJSON *st = cJSON_Parse("{\"frames\":[]}");
	struct store_incomplete rec = {
		.scenario = "demo",
		.execution_id = f->execution,
		.status = status,
		.module_id = "2",
		.error = error,
		.snapshot = f->snapshot,
		.state = st,
		.max_attempts = 8,
		.next_attempt_at = next_attempt_at,
	};
	int64_t id = 0;

	assert_int_equal(store_incomplete_insert(f->store, &rec, &id), 0);
	assert_true(id > 0);
	return id;
}

static void test_snapshot_dedupe_and_origin(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *again = NULL, *text = NULL;
	struct store_execution_origin origin;

	assert_int_equal(store_snapshot_put(f->store, "flow: []\n", &again), 0);
	assert_string_equal(again, f->snapshot);
	assert_int_equal(store_snapshot_get(f->store, again, &text), 0);
	assert_string_equal(text, "flow: []\n");
	assert_int_equal(store_snapshot_get(f->store, "0000", &text), -ENOENT);

	assert_int_equal(store_execution_set_snapshot(f->store, f->execution, f->snapshot,
						      "/srv/demo.yaml", 1234),
			 0);
	assert_int_equal(store_execution_get_origin(f->store, f->execution, &origin), 0);
	assert_string_equal(origin.snapshot, "flow: []\n");
	assert_string_equal(origin.path, "/srv/demo.yaml");
	assert_string_equal(origin.scenario, "demo");
	assert_int_equal(origin.now_ms, 1234);
	store_execution_origin_done(&origin);
}

static void test_list_filters_and_get(void **state)
{
	struct fixture *f = *state;
	struct store_incomplete_filter open_only = { 0 }, all = { .all = true };
	struct store_incomplete_filter pending = { .status = "pending" };
	_cleanup_json_ cJSON *list = NULL, *list_all = NULL, *list_pending = NULL, *one = NULL;
	int64_t a = insert(f, "pending", time_now_ms() + 60000);
	int64_t b = insert(f, "unresolved", 0);

	assert_int_equal(store_incomplete_resolve(f->store, b), 0);
	assert_int_equal(store_incomplete_list(f->store, &open_only, &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	assert_int_equal(json_get_int(cJSON_GetArrayItem(list, 0), "id", 0), a);
	assert_int_equal(store_incomplete_list(f->store, &all, &list_all), 0);
	assert_int_equal(cJSON_GetArraySize(list_all), 2);
	assert_int_equal(store_incomplete_list(f->store, &pending, &list_pending), 0);
	assert_int_equal(cJSON_GetArraySize(list_pending), 1);

	assert_int_equal(store_incomplete_get(f->store, a, &one), 0);
	assert_string_equal(json_get_string(one, "source"), "flow: []\n");
	assert_string_equal(json_get_string(one, "module_id"), "2");
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(one, "state")));
	assert_string_equal(json_get_string(cJSON_GetObjectItem(one, "error"), "type"),
			    "ConnectionError");
	assert_int_equal(store_incomplete_get(f->store, 999, &one), -ENOENT);
}

static void test_claims_are_exclusive(void **state)
{
	struct fixture *f = *state;
	int64_t id = insert(f, "unresolved", 0);
	int64_t open = 0;

	assert_int_equal(store_incomplete_claim(f->store, id), 0);
	/* Another process can neither take, resolve nor delete it meanwhile. */
	assert_int_equal(store_incomplete_claim(f->other, id), -EBUSY);
	assert_int_equal(store_incomplete_resolve(f->other, id), -EBUSY);
	assert_int_equal(store_incomplete_delete(f->other, id), -EBUSY);
	assert_int_equal(store_incomplete_release(f->other, id, "resolved", NULL, 0, 0, true),
			 -ENOENT);

	assert_int_equal(store_incomplete_release(f->store, id, "pending", NULL, 5, 0, true), 0);
	assert_int_equal(store_incomplete_claim(f->other, id), 0);
	assert_int_equal(
		store_incomplete_release(f->other, id, "resolved", NULL, 0, f->execution, true), 0);
	assert_int_equal(store_incomplete_claim(f->store, id), -EALREADY);
	assert_int_equal(store_incomplete_count_open(f->store, "demo", &open), 0);
	assert_int_equal(open, 0);
	assert_int_equal(store_incomplete_delete(f->store, id), 0);
	assert_int_equal(store_incomplete_delete(f->store, id), -ENOENT);
}

static void test_due_list_and_attempts(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *due = NULL, *one = NULL;
	int64_t now = time_now_ms();
	int64_t soon = insert(f, "pending", now - 1);
	int64_t open = 0;

	insert(f, "pending", now + 3600000);
	insert(f, "unresolved", 0);
	assert_int_equal(store_incomplete_list_due(f->store, now, 0, &due), 0);
	assert_int_equal(cJSON_GetArraySize(due), 1);
	assert_int_equal(json_get_int(cJSON_GetArrayItem(due, 0), "id", 0), soon);
	assert_int_equal(store_incomplete_count_open(f->store, "demo", &open), 0);
	assert_int_equal(open, 3);

	assert_int_equal(store_incomplete_claim(f->store, soon), 0);
	assert_int_equal(store_incomplete_release(f->store, soon, "unresolved", NULL, 0, 0, true),
			 0);
	assert_int_equal(store_incomplete_get(f->store, soon, &one), 0);
	assert_int_equal(json_get_int(one, "attempts", -1), 1);
	assert_string_equal(json_get_string(one, "status"), "unresolved");
}

/* A claim held by a process of this host that no longer exists is over at
 * once: a killed scenarioctl's execution is abandoned without waiting for
 * its lease to run out. */
static void test_dead_owner_is_abandoned_at_once(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *db_path = xasprintf("%s/store.db", f->tmp);
	_cleanup_free_ char *sql = NULL;
	_cleanup_json_ cJSON *abandoned = NULL;
	char host[256] = "";
	sqlite3 *db;

	assert_int_equal(store_execution_list_abandoned(f->store, &abandoned), 0);
	assert_int_equal(cJSON_GetArraySize(abandoned), 0);
	cJSON_Delete(TAKE_PTR(abandoned));

	gethostname(host, sizeof(host) - 1);
	/* pid_max is at most 4194304 on Linux: this pid cannot exist. */
	sql = xasprintf("UPDATE executions SET owner = '%s:4194305:00' WHERE id = %lld", host,
			(long long)f->execution);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_execution_list_abandoned(f->store, &abandoned), 0);
	assert_int_equal(cJSON_GetArraySize(abandoned), 1);
	assert_int_equal(store_execution_claim(f->other, f->execution), 0);
	/* Now the other (live) process owns it. */
	assert_int_equal(store_execution_claim(f->store, f->execution), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot_dedupe_and_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters_and_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims_are_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_list_and_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_owner_is_abandoned_at_once, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
