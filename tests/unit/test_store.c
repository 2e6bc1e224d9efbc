/* SPDX-License-Identifier: MIT */
/*
 * The store's database side against real SQLite files in a tmpdir: schema
 * migrations and the refusal of newer files, executions with their
 * operations and leases (two handles on one file stand in for two
 * processes), scenario state, cursors, transactions and error mapping.
 * Blobs are in test_store_blobs.c.
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
#include <sys/stat.h>

#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

struct fixture {
	char *tmp;
	char *state;
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	_cleanup_free_ char *msg = NULL;

	f->tmp = helpers_mkdtemp();
	/* Two missing levels: store_open creates parents too. */
	f->state = xasprintf("%s/var/state", f->tmp);
	assert_int_equal(store_open(f->state, &f->store, &msg), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->store);
	helpers_rmdir_recursive(f->tmp);
	free(f->tmp);
	free(f->state);
	free(f);
	return 0;
}

/* The tests reach past the API only to fake what a second process or an
 * older/newer program would have done to the file. */
static void raw_exec(const char *state_dir, const char *sql)
{
	_cleanup_free_ char *path = xasprintf("%s/store.db", state_dir);
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static char *raw_text(const char *state_dir, const char *sql)
{
	_cleanup_free_ char *path = xasprintf("%s/store.db", state_dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	char *text;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	text = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return text;
}

static int64_t raw_count(const char *state_dir, const char *sql)
{
	_cleanup_free_ char *path = xasprintf("%s/store.db", state_dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int64_t n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void test_fresh_file_is_migrated_and_reopens(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *blobs = xasprintf("%s/blobs", f->state);
	_cleanup_free_ char *msg = NULL;
	struct stat st;

	assert_int_equal(raw_count(f->state, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(raw_count(f->state, "SELECT count(*) FROM sqlite_master WHERE name IN "
					     "('scenarios', 'executions', 'operations', 'blobs', "
					     "'execution_blobs', 'cursors')"),
			 6);
	assert_string_equal(store_blob_dir(f->store), blobs);
	assert_int_equal(stat(f->state, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_int_equal(stat(blobs, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0007, 0);

	assert_int_equal(store_cursor_set(f->store, "s", "1", "kept"), 0);
	f->store = store_close(f->store);
	assert_int_equal(store_open(f->state, &f->store, &msg), 0);
	assert_int_equal(store_check_integrity(f->store, &msg), 0);
	assert_null(msg);
	{
		_cleanup_free_ char *cursor = NULL;

		assert_int_equal(store_cursor_get(f->store, "s", "1", &cursor), 0);
		assert_string_equal(cursor, "kept");
	}
	{
		_cleanup_free_ char *mode = raw_text(f->state, "PRAGMA journal_mode");

		assert_string_equal(mode, "wal");
	}
}

static void test_newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *sql =
		xasprintf("PRAGMA user_version = %d", store_schema_version() + 4);
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *expected = NULL;
	struct store *other = NULL;

	f->store = store_close(f->store);
	raw_exec(f->state, sql);
	assert_int_equal(store_open(f->state, &other, &msg), -EPROTO);
	assert_null(other);
	assert_non_null(msg);
	expected = xasprintf("newer scenariod (schema %d, this program knows %d)",
			     store_schema_version() + 4, store_schema_version());
	assert_non_null(strstr(msg, expected));
	assert_non_null(strstr(msg, "--state-dir"));
}

static void test_garbage_file_is_refused(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *other_dir = xasprintf("%s/other", f->tmp);
	_cleanup_free_ char *other_db = xasprintf("%s/other/store.db", f->tmp);
	_cleanup_free_ char *msg = NULL;
	static const char junk[4096] = "this is not an SQLite database";
	struct store *other = NULL;

	assert_int_equal(mkdir(other_dir, 0700), 0);
	helpers_write_file(other_db, junk, sizeof(junk));
	assert_int_equal(store_open(other_dir, &other, &msg), -EIO);
	assert_null(other);
	assert_non_null(strstr(msg, other_db));
}

static void test_execution_round_trip(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *input = cJSON_Parse("{\"url\":\"https://x\",\"n\":[1,2]}");
	_cleanup_json_ cJSON *outputs = cJSON_Parse("[{\"id\":\"job-1\",\"ok\":true}]");
	_cleanup_json_ cJSON *op_error =
		cJSON_Parse("{\"type\":\"DataError\",\"message\":\"bad\"}");
	_cleanup_json_ cJSON *run_error = cJSON_Parse("{\"type\":\"DataError\",\"message\":\"bad\","
						      "\"module\":\"3\"}");
	_cleanup_json_ cJSON *got = NULL;
	struct store_counters counters = {
		.operations = 3, .bytes = 1234, .duration_ms = 56, .bundles = 2
	};
	int64_t id, other_id, op1, op2, op3;
	const cJSON *ops, *op;

	assert_int_equal(store_execution_create(f->store, "convert", "manual", 0, &id), 0);
	assert_int_equal(store_execution_create(f->store, "other", "schedule", 0, &other_id), 0);
	assert_true(other_id > id);
	assert_int_equal(store_execution_renew(f->store, id), 0);

	assert_int_equal(store_operation_begin(f->store, id, "1", "http.request", input, &op1), 0);
	assert_int_equal(store_operation_finish(f->store, op1, "success", outputs, NULL), 0);
	/* Confidential: no input, no output, only the status. */
	assert_int_equal(store_operation_begin(f->store, id, "1", "http.request", NULL, &op2), 0);
	assert_int_equal(store_operation_finish(f->store, op2, "success", NULL, NULL), 0);
	assert_int_equal(store_operation_begin(f->store, id, "3", "builtin.set", input, &op3), 0);
	assert_int_equal(store_operation_finish(f->store, op3, "error", NULL, op_error), 0);
	assert_int_equal(store_operation_finish(f->store, op3, "running", NULL, NULL), -EINVAL);
	assert_int_equal(store_operation_finish(f->store, 999999, "success", NULL, NULL), -ENOENT);

	assert_int_equal(store_execution_finish(f->store, id, "done", &counters, NULL), -EINVAL);
	assert_int_equal(store_execution_finish(f->store, id, "error", &counters, run_error), 0);
	/* Finished: the claim is gone, so neither renew nor finish apply. */
	assert_int_equal(store_execution_renew(f->store, id), -ENOENT);
	assert_int_equal(store_execution_finish(f->store, id, "success", &counters, NULL), -ENOENT);

	assert_int_equal(store_execution_get(f->store, id, &got), 0);
	assert_int_equal(json_get_int(got, "id", 0), id);
	assert_string_equal(json_get_string(got, "scenario"), "convert");
	assert_string_equal(json_get_string(got, "status"), "error");
	assert_string_equal(json_get_string(got, "trigger"), "manual");
	assert_int_equal(json_get_int(got, "operations", 0), 3);
	assert_int_equal(json_get_int(got, "bytes", 0), 1234);
	assert_int_equal(json_get_int(got, "duration_ms", 0), 56);
	assert_int_equal(json_get_int(got, "bundles", 0), 2);
	assert_false(json_get_bool(got, "abandoned", true));
	assert_true(cJSON_Compare(cJSON_GetObjectItem(got, "error"), run_error, true));
	assert_non_null(strchr(json_get_string(got, "started_at"), 'T'));
	assert_non_null(json_get_string(got, "finished_at"));

	ops = cJSON_GetObjectItem(got, "operations_list");
	assert_int_equal(cJSON_GetArraySize(ops), 3);
	op = cJSON_GetArrayItem(ops, 0);
	assert_int_equal(json_get_int(op, "seq", 0), 1);
	assert_int_equal(json_get_int(op, "bundle", 0), 1);
	assert_string_equal(json_get_string(op, "module_id"), "1");
	assert_string_equal(json_get_string(op, "module"), "http.request");
	assert_string_equal(json_get_string(op, "status"), "success");
	assert_true(cJSON_Compare(cJSON_GetObjectItem(op, "input"), input, true));
	assert_true(cJSON_Compare(cJSON_GetObjectItem(op, "output"), outputs, true));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(op, "error")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(op, "duration_ms")));
	op = cJSON_GetArrayItem(ops, 1);
	assert_int_equal(json_get_int(op, "seq", 0), 2);
	assert_int_equal(json_get_int(op, "bundle", 0), 2);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(op, "input")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(op, "output")));
	op = cJSON_GetArrayItem(ops, 2);
	assert_int_equal(json_get_int(op, "seq", 0), 3);
	assert_int_equal(json_get_int(op, "bundle", 0), 1);
	assert_string_equal(json_get_string(op, "status"), "error");
	assert_true(cJSON_Compare(cJSON_GetObjectItem(op, "error"), op_error, true));

	cJSON_Delete(got);
	got = NULL;
	assert_int_equal(store_execution_get(f->store, 424242, &got), -ENOENT);
	assert_null(got);
}

static void test_execution_list_filters(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *scenario, *status;
		int limit;
		int expect_count;
		const char *expect_first_scenario;
	} cases[] = {
		{ NULL, NULL, 0, 5, "b" },	{ "a", NULL, 0, 3, "a" },
		{ NULL, "success", 0, 2, "b" }, { "a", "success", 0, 1, "a" },
		{ "a", "running", 0, 1, "a" },	{ NULL, NULL, 2, 2, "b" },
		{ "nobody", NULL, 0, 0, NULL },
	};
	int64_t ids[5];

	/* a: success, error, running; b: success, warning (newest). */
	static const char *const scen[] = { "a", "a", "a", "b", "b" };
	static const char *const fin[] = { "success", "error", NULL, "success", "warning" };

	for (int i = 0; i < 5; i++) {
		assert_int_equal(store_execution_create(f->store, scen[i], "manual", 0, &ids[i]),
				 0);
		if (fin[i])
			assert_int_equal(
				store_execution_finish(f->store, ids[i], fin[i], NULL, NULL), 0);
	}
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct store_execution_filter filter = { cases[i].scenario, cases[i].status,
							 cases[i].limit };
		_cleanup_json_ cJSON *list = NULL;
		const cJSON *first;
		int64_t prev = INT64_MAX;
		const cJSON *item;

		assert_int_equal(store_execution_list(f->store, &filter, &list), 0);
		assert_int_equal(cJSON_GetArraySize(list), cases[i].expect_count);
		first = cJSON_GetArrayItem(list, 0);
		if (cases[i].expect_first_scenario)
			assert_string_equal(json_get_string(first, "scenario"),
					    cases[i].expect_first_scenario);
		/* Newest first, every documented key present. */
		cJSON_ArrayForEach(item, list) {
			static const char *const keys[] = {
				"id",	       "scenario",    "status",	    "trigger",
				"started_at",  "finished_at", "operations", "bytes",
				"duration_ms", "error",	      "abandoned"
			};

			assert_true(json_get_int(item, "id", 0) < prev);
			prev = json_get_int(item, "id", 0);
			for (size_t k = 0; k < ELEMENTSOF(keys); k++)
				assert_non_null(cJSON_GetObjectItem(item, keys[k]));
		}
	}
	{
		_cleanup_json_ cJSON *list = NULL;

		assert_int_equal(store_execution_list(f->store, NULL, &list), 0);
		assert_int_equal(cJSON_GetArraySize(list), 5);
	}
}

static void test_abandoned_execution_is_claimed_once(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *msg = NULL;
	_cleanup_json_ cJSON *abandoned = NULL;
	_cleanup_json_ cJSON *list = NULL;
	struct store *other = NULL;
	int64_t id;

	assert_int_equal(store_open(f->state, &other, &msg), 0);
	assert_string_not_equal(store_owner(f->store), store_owner(other));
	assert_int_equal(store_execution_create(f->store, "convert", "schedule", 0, &id), 0);

	/* A live lease: nobody else may take it, its owner may re-claim. */
	assert_int_equal(store_execution_list_abandoned(other, &abandoned), 0);
	assert_int_equal(cJSON_GetArraySize(abandoned), 0);
	cJSON_Delete(abandoned);
	assert_int_equal(store_execution_claim(other, id), -EBUSY);
	assert_int_equal(store_execution_claim(f->store, id), 0);

	/* The owner "dies": its lease runs out. */
	raw_exec(f->state, "UPDATE executions SET lease_until = 1");
	assert_int_equal(store_execution_list_abandoned(other, &abandoned), 0);
	assert_int_equal(cJSON_GetArraySize(abandoned), 1);
	assert_int_equal(json_get_int(cJSON_GetArrayItem(abandoned, 0), "id", 0), id);
	assert_string_equal(json_get_string(cJSON_GetArrayItem(abandoned, 0), "scenario"),
			    "convert");
	assert_non_null(json_get_string(cJSON_GetArrayItem(abandoned, 0), "started_at"));
	assert_int_equal(store_execution_list(other, NULL, &list), 0);
	assert_true(json_get_bool(cJSON_GetArrayItem(list, 0), "abandoned", false));

	assert_int_equal(store_execution_claim(other, id), 0);
	/* Claimed: the old owner has lost it, and a second claim fails. */
	assert_int_equal(store_execution_renew(f->store, id), -ENOENT);
	assert_int_equal(store_execution_finish(f->store, id, "success", NULL, NULL), -ENOENT);
	assert_int_equal(store_execution_claim(f->store, id), -EBUSY);
	assert_int_equal(store_execution_renew(other, id), 0);
	assert_int_equal(store_execution_finish(other, id, "error", NULL, NULL), 0);
	assert_int_equal(store_execution_claim(other, id), -ENOENT);
	assert_int_equal(store_execution_claim(other, 987654), -ENOENT);
	store_close(other);
}

static void test_scenario_state(void **state)
{
	struct fixture *f = *state;
	struct store_scenario_state st;
	_cleanup_json_ cJSON *list = NULL;
	static const struct {
		bool success, counts;
		int expect;
	} outcomes[] = {
		{ false, true, 1 }, { false, true, 2 }, { false, false, 2 }, /* not counted */
		{ true, false, 0 }, { false, true, 1 },
	};

	assert_int_equal(store_scenario_get(f->store, "s", &st), -ENOENT);
	assert_int_equal(store_scenario_ensure(f->store, "s"), 0);
	assert_int_equal(store_scenario_ensure(f->store, "s"), 0);
	assert_int_equal(store_scenario_get(f->store, "s", &st), 0);
	assert_true(st.enabled);
	assert_int_equal(st.consecutive_errors, 0);
	assert_int_equal(st.last_run_at, 0);
	assert_null(st.disabled_reason);
	store_scenario_state_done(&st);

	for (size_t i = 0; i < ELEMENTSOF(outcomes); i++)
		assert_int_equal(store_scenario_record_outcome(f->store, "s", outcomes[i].success,
							       outcomes[i].counts),
				 outcomes[i].expect);

	assert_int_equal(store_scenario_set_enabled(f->store, "s", false, "3 errors in a row"), 0);
	assert_int_equal(store_scenario_get(f->store, "s", &st), 0);
	assert_false(st.enabled);
	assert_int_equal(st.consecutive_errors, 1);
	assert_true(st.last_run_at > 0);
	assert_string_equal(st.disabled_reason, "3 errors in a row");
	store_scenario_state_done(&st);

	/* Enabling forgives the past errors and forgets the reason. */
	assert_int_equal(store_scenario_set_enabled(f->store, "s", true, "ignored"), 0);
	assert_int_equal(store_scenario_get(f->store, "s", &st), 0);
	assert_true(st.enabled);
	assert_int_equal(st.consecutive_errors, 0);
	assert_null(st.disabled_reason);
	store_scenario_state_done(&st);

	/* An outcome for a scenario never seen creates its row. */
	assert_int_equal(store_scenario_record_outcome(f->store, "new", false, true), 1);
	assert_int_equal(store_scenario_set_enabled(f->store, "off", false, NULL), 0);

	assert_int_equal(store_scenario_list(f->store, &list), 0);
	assert_int_equal(cJSON_GetArraySize(list), 3);
	assert_string_equal(json_get_string(cJSON_GetArrayItem(list, 0), "name"), "new");
	assert_int_equal(json_get_int(cJSON_GetArrayItem(list, 0), "consecutive_errors", 0), 1);
	assert_non_null(json_get_string(cJSON_GetArrayItem(list, 0), "last_run_at"));
	assert_false(json_get_bool(cJSON_GetArrayItem(list, 1), "enabled", true));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "last_run_at")));
	assert_true(json_get_bool(cJSON_GetArrayItem(list, 2), "enabled", false));
}

static void test_cursors(void **state)
{
	struct fixture *f = *state;
	char *cursor = (char *)"untouched";
	_cleanup_free_ char *huge = xmalloc(70 * 1024);

	assert_int_equal(store_cursor_get(f->store, "s", "1", &cursor), 0);
	assert_null(cursor);
	assert_int_equal(store_cursor_set(f->store, "s", "1", "job-10"), 0);
	assert_int_equal(store_cursor_set(f->store, "s", "1", "job-11"), 0);
	assert_int_equal(store_cursor_set(f->store, "t", "1", "other"), 0);
	assert_int_equal(store_cursor_get(f->store, "s", "1", &cursor), 0);
	assert_string_equal(cursor, "job-11");
	free(cursor);
	assert_int_equal(store_cursor_get(f->store, "s", "2", &cursor), 0);
	assert_null(cursor);

	assert_int_equal(store_cursor_set(f->store, "s", "1", NULL), 0);
	assert_int_equal(store_cursor_get(f->store, "s", "1", &cursor), 0);
	assert_null(cursor);
	assert_int_equal(store_cursor_get(f->store, "t", "1", &cursor), 0);
	assert_string_equal(cursor, "other");
	free(cursor);

	memset(huge, 'x', 70 * 1024 - 1);
	huge[70 * 1024 - 1] = '\0';
	assert_int_equal(store_cursor_set(f->store, "s", "1", huge), -E2BIG);
}

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *got = NULL;
	char *cursor = NULL;
	int64_t id, op;

	assert_int_equal(store_commit(f->store), -EINVAL);
	assert_int_equal(store_rollback(f->store), -EINVAL);

	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_begin(f->store), -EINVAL);
	assert_int_equal(store_cursor_set(f->store, "s", "1", "dropped"), 0);
	assert_int_equal(store_execution_create(f->store, "s", "manual", 0, &id), 0);
	assert_int_equal(store_operation_begin(f->store, id, "1", "m", NULL, &op), 0);
	/* Its own savepoint inside the caller's transaction. */
	assert_int_equal(store_operation_finish(f->store, op, "success", NULL, NULL), 0);
	assert_int_equal(store_rollback(f->store), 0);
	assert_int_equal(store_cursor_get(f->store, "s", "1", &cursor), 0);
	assert_null(cursor);
	assert_int_equal(store_execution_get(f->store, id, &got), -ENOENT);

	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_cursor_set(f->store, "s", "1", "kept"), 0);
	assert_int_equal(store_execution_create(f->store, "s", "manual", 0, &id), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(store_cursor_get(f->store, "s", "1", &cursor), 0);
	assert_string_equal(cursor, "kept");
	free(cursor);
	assert_int_equal(store_execution_get(f->store, id, &got), 0);
}

static void test_errors_are_mapped(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *msg = NULL;
	struct store *other = NULL;
	int64_t op, id;

	/* A foreign key: no such execution. */
	assert_int_equal(store_operation_begin(f->store, 777, "1", "m", NULL, &op), -EEXIST);
	assert_int_equal(store_execution_create(f->store, "s", "retry", 777, &id), -EEXIST);

	/* A writer holding the lock past the busy timeout: -EBUSY, and the
	 * store stays usable afterwards. */
	assert_int_equal(store_open(f->state, &other, &msg), 0);
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_cursor_set(f->store, "s", "1", "a"), 0);
	assert_int_equal(store_cursor_set(other, "s", "1", "b"), -EBUSY);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(store_cursor_set(other, "s", "1", "b"), 0);
	store_close(other);
}

static void test_memory_store(void **state)
{
	_cleanup_free_ char *blob_dir = NULL;
	_cleanup_free_ char *msg = NULL;
	struct store *store = NULL;
	struct stat st;
	int64_t id;

	(void)state;
	assert_int_equal(store_open(":memory:", &store, &msg), 0);
	blob_dir = xstrdup(store_blob_dir(store));
	assert_int_equal(stat(blob_dir, &st), 0);
	assert_int_equal(store_execution_create(store, "s", "manual", 0, &id), 0);
	assert_int_equal(store_check_integrity(store, &msg), 0);
	assert_null(store_close(store));
	assert_int_equal(stat(blob_dir, &st), -1);
	assert_null(store_close(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_file_is_migrated_and_reopens, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_execution_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_execution_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_execution_is_claimed_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scenario_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_are_mapped, setup, teardown),
		cmocka_unit_test(test_memory_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
