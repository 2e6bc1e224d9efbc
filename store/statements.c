/* SPDX-License-Identifier: MIT */
/*
 * Every SQL statement the store runs after open, as one table indexed by
 * enum store_stmt (internal.h), so the whole vocabulary of the database can
 * be read in one place. They are prepared once at store_open() with
 * SQLITE_PREPARE_PERSISTENT and finalized at close; callers reset them after
 * each use (_cleanup_reset_). Also the small bind and column helpers the
 * per-table files share.
 *
 * Parameters are numbered (?1, ?2, …) so a statement can use one twice and
 * the C side binds by the same numbers.
 */
#include "store/internal.h"

#include <assert.h>
#include <string.h>

#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

/* The columns every execution listing returns, in this order (executions.c
 * reads them by position); ?1 is "now" for the abandoned flag. */
#define EXECUTION_COLUMNS                                                                 \
	"SELECT id, scenario, status, \"trigger\", started_at, finished_at, operations, " \
	"bytes, duration_ms, error, status = 'running' AND " EXPIRED("?1") " "            \
									   "FROM executions "
/* A claim has ended when its lease ran out or its process is gone
 * (owner_alive(), registered by store.c). */
#define EXPIRED(now) "(lease_until < " now " OR NOT owner_alive(owner))"
#define EXPIRED_I(now) "(i.lease_until < " now " OR NOT owner_alive(i.owner))"
/* An event of table alias `ev` taken by a process that died (or whose lease
 * ran out) for an execution no longer running. */
#define EVENT_ABANDONED(now)                                                                    \
	"(ev.status = 'taken' AND (ev.lease_until < " now " OR NOT owner_alive(ev.owner)) AND " \
	"NOT EXISTS (SELECT 1 FROM executions x WHERE x.id = ev.execution_id AND "              \
	"x.status = 'running'))"
#define EXECUTION_ORDER " ORDER BY started_at DESC, id DESC LIMIT ?2"

static const char *const stmt_sql[_STORE_STMT_MAX] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT store_inner",
	[STMT_RELEASE] = "RELEASE store_inner",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO store_inner",
	[STMT_INTEGRITY_CHECK] = "PRAGMA integrity_check",

	[STMT_SCENARIO_ENSURE] = "INSERT INTO scenarios (name, created_at) VALUES (?1, ?2) "
				 "ON CONFLICT (name) DO NOTHING",
	[STMT_SCENARIO_GET] = "SELECT enabled, consecutive_errors, last_run_at, disabled_reason "
			      "FROM scenarios WHERE name = ?1",
	/* Turning a scenario back on forgives its past errors, or the next
	 * error would deactivate it again at once. */
	[STMT_SCENARIO_SET_ENABLED] =
		"INSERT INTO scenarios (name, enabled, disabled_reason, created_at) "
		"VALUES (?1, ?2, CASE WHEN ?2 THEN NULL ELSE ?3 END, ?4) "
		"ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, "
		"disabled_reason = excluded.disabled_reason, "
		"consecutive_errors = CASE WHEN excluded.enabled THEN 0 "
		"ELSE consecutive_errors END",
	[STMT_SCENARIO_RECORD_OUTCOME] =
		"INSERT INTO scenarios (name, consecutive_errors, last_run_at, created_at) "
		"VALUES (?1, CASE WHEN ?3 AND NOT ?2 THEN 1 ELSE 0 END, ?4, ?4) "
		"ON CONFLICT (name) DO UPDATE SET consecutive_errors = "
		"CASE WHEN ?2 THEN 0 WHEN ?3 THEN consecutive_errors + 1 "
		"ELSE consecutive_errors END, last_run_at = ?4 "
		"RETURNING consecutive_errors",
	[STMT_SCENARIO_LIST] = "SELECT name, enabled, consecutive_errors, disabled_reason, "
			       "last_run_at FROM scenarios ORDER BY name",

	[STMT_EXECUTION_CREATE] =
		"INSERT INTO executions (scenario, status, \"trigger\", resumes, owner, "
		"lease_until, started_at) VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6)",
	[STMT_EXECUTION_RENEW] = "UPDATE executions SET lease_until = ?3 "
				 "WHERE id = ?1 AND owner = ?2 AND status = 'running'",
	[STMT_EXECUTION_FINISH] =
		"UPDATE executions SET status = ?3, finished_at = ?4, operations = ?5, "
		"bytes = ?6, duration_ms = ?7, bundles = ?8, error = ?9, owner = NULL, "
		"lease_until = NULL WHERE id = ?1 AND owner = ?2 AND status = 'running'",
	[STMT_EXECUTION_LIST_ABANDONED] =
		"SELECT id, scenario, started_at FROM executions "
		"WHERE status = 'running' AND " EXPIRED("?1") " "
							      "ORDER BY id",
	/* The lease check and the takeover are one statement, so two
	 * processes racing for the same execution cannot both win. */
	[STMT_EXECUTION_CLAIM] = "UPDATE executions SET owner = ?2, lease_until = ?3 "
				 "WHERE id = ?1 AND status = 'running' "
				 "AND (" EXPIRED("?4") " OR owner = ?2)",
	[STMT_EXECUTION_STATUS] = "SELECT status FROM executions WHERE id = ?1",
	[STMT_EXECUTION_LIST] = EXECUTION_COLUMNS EXECUTION_ORDER,
	[STMT_EXECUTION_LIST_SCENARIO] = EXECUTION_COLUMNS "WHERE scenario = ?3" EXECUTION_ORDER,
	[STMT_EXECUTION_LIST_STATUS] = EXECUTION_COLUMNS "WHERE status = ?4" EXECUTION_ORDER,
	[STMT_EXECUTION_LIST_BOTH] = EXECUTION_COLUMNS
	"WHERE scenario = ?3 AND status = ?4" EXECUTION_ORDER,
	[STMT_EXECUTION_GET] =
		"SELECT id, scenario, status, \"trigger\", started_at, finished_at, operations, "
		"bytes, duration_ms, error, status = 'running' AND " EXPIRED(
			"?1") ", "
			      "resumes, bundles, owner FROM executions WHERE id = ?2",

	[STMT_OPERATION_BEGIN] =
		"INSERT INTO operations (execution_id, seq, module_id, module, bundle, status, "
		"input, started_at) VALUES (?1, "
		"(SELECT COALESCE(MAX(seq), 0) + 1 FROM operations WHERE execution_id = ?1), "
		"?2, ?3, "
		"(SELECT COALESCE(MAX(bundle), 0) + 1 FROM operations "
		"WHERE execution_id = ?1 AND module_id = ?2), 'running', ?4, ?5)",
	[STMT_OPERATION_FINISH] = "UPDATE operations SET status = ?2, output = ?3, error = ?4, "
				  "finished_at = ?5, duration_ms = ?5 - started_at "
				  "WHERE id = ?1 RETURNING execution_id",
	[STMT_OPERATION_LIST] = "SELECT seq, module_id, module, bundle, status, input, output, "
				"error, started_at, duration_ms FROM operations "
				"WHERE execution_id = ?1 ORDER BY seq",

	[STMT_BLOB_INSERT] = "INSERT INTO blobs (sha256, size, created_at) VALUES (?1, ?2, ?3) "
			     "ON CONFLICT (sha256) DO NOTHING",
	[STMT_EXECUTION_BLOB_INSERT] = "INSERT INTO execution_blobs (execution_id, sha256) "
				       "VALUES (?1, ?2) ON CONFLICT DO NOTHING",

	[STMT_CURSOR_GET] = "SELECT value FROM cursors WHERE scenario = ?1 AND module_id = ?2",
	[STMT_CURSOR_SET] =
		"INSERT INTO cursors (scenario, module_id, value, updated_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (scenario, module_id) "
		"DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
	[STMT_CURSOR_DELETE] = "DELETE FROM cursors WHERE scenario = ?1 AND module_id = ?2",

	[STMT_SNAPSHOT_PUT] = "INSERT INTO snapshots (sha256, source, created_at) "
			      "VALUES (?1, ?2, ?3) ON CONFLICT (sha256) DO NOTHING",
	[STMT_SNAPSHOT_GET] = "SELECT source FROM snapshots WHERE sha256 = ?1",
	[STMT_EXECUTION_SET_SNAPSHOT] = "UPDATE executions SET snapshot = ?2, scenario_path = ?3, "
					"now_ms = ?4 WHERE id = ?1",
	[STMT_EXECUTION_GET_SNAPSHOT] = "SELECT snapshot, scenario_path, now_ms, scenario, "
					"incomplete_id, resume_state, owner "
					"FROM executions WHERE id = ?1",

	[STMT_INCOMPLETE_INSERT] =
		"INSERT INTO incomplete_executions (scenario, execution_id, origin_execution_id, "
		"status, module_id, error, snapshot, scenario_path, state, size, max_attempts, "
		"retry_interval_ms, next_attempt_at, created_at, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, length(?9), ?10, ?11, ?12, ?13, ?13)",
	/* ?1 scenario or NULL, ?2 status or NULL, ?3 all, ?4 limit, ?5 now */
	[STMT_INCOMPLETE_LIST] =
		"SELECT id, scenario, execution_id, origin_execution_id, "
		"CASE WHEN status = 'in_progress' AND " EXPIRED(
			"?5") " THEN 'unresolved' "
			      "ELSE status END, module_id, error, size, attempts, max_attempts, next_attempt_at, "
			      "created_at, updated_at, resolved_by FROM incomplete_executions "
			      "WHERE (?1 IS NULL OR scenario = ?1) AND "
			      "(CASE WHEN ?2 IS NOT NULL THEN status = ?2 WHEN ?3 THEN 1 "
			      "ELSE status != 'resolved' END) ORDER BY id DESC LIMIT ?4",
	[STMT_INCOMPLETE_GET] =
		"SELECT i.id, i.scenario, i.execution_id, i.origin_execution_id, "
		"CASE WHEN i.status = 'in_progress' AND " EXPIRED_I(
			"?2") " THEN 'unresolved' "
			      "ELSE i.status END, i.module_id, i.error, i.size, i.attempts, i.max_attempts, "
			      "i.next_attempt_at, i.created_at, i.updated_at, i.resolved_by, i.state, "
			      "s.source, i.scenario_path, i.retry_interval_ms, i.owner "
			      "FROM incomplete_executions i JOIN snapshots s ON s.sha256 = i.snapshot "
			      "WHERE i.id = ?1",
	/* One statement checks and takes, so two processes never resume the same
	 * record: open records, or one whose resumer died (lease run out). */
	[STMT_INCOMPLETE_CLAIM] =
		"UPDATE incomplete_executions SET status = 'in_progress', owner = ?2, "
		"lease_until = ?3, updated_at = ?4 WHERE id = ?1 AND "
		"(status IN ('pending', 'unresolved') OR "
		"(status = 'in_progress' AND (" EXPIRED("?4") " OR owner = ?2)))",
	[STMT_INCOMPLETE_RELEASE] =
		"UPDATE incomplete_executions SET status = ?3, error = COALESCE(?4, error), "
		"next_attempt_at = ?5, resolved_by = ?6, attempts = attempts + ?7, owner = NULL, "
		"lease_until = NULL, updated_at = ?8 WHERE id = ?1 AND owner = ?2",
	/* A resumed run that failed again: the same record now holds where it
	 * failed this time. */
	[STMT_INCOMPLETE_REPLACE] =
		"UPDATE incomplete_executions SET status = ?3, module_id = ?4, error = ?5, "
		"state = ?6, size = length(?6), next_attempt_at = ?7, execution_id = ?8, "
		"attempts = attempts + 1, owner = NULL, lease_until = NULL, updated_at = ?9 "
		"WHERE id = ?1 AND owner = ?2",
	[STMT_INCOMPLETE_RESOLVE] =
		"UPDATE incomplete_executions SET status = 'resolved', updated_at = ?2, "
		"next_attempt_at = NULL WHERE id = ?1 AND "
		"(status != 'in_progress' OR " EXPIRED("?2") ")",
	[STMT_INCOMPLETE_DELETE] = "DELETE FROM incomplete_executions WHERE id = ?1 AND "
				   "(status != 'in_progress' OR " EXPIRED("?2") ")",
	[STMT_INCOMPLETE_COUNT_OPEN] = "SELECT count(*) FROM incomplete_executions "
				       "WHERE scenario = ?1 AND status != 'resolved'",
	[STMT_INCOMPLETE_DUE] = "SELECT id, scenario FROM incomplete_executions "
				"WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY "
				"next_attempt_at, id LIMIT ?2",
	/* Served by incomplete_by_due: one index probe, however many records. */
	[STMT_INCOMPLETE_NEXT_DUE] = "SELECT min(next_attempt_at) FROM incomplete_executions "
				     "WHERE status = 'pending'",
	[STMT_INCOMPLETE_COUNTS] = "SELECT scenario, CASE WHEN status = 'in_progress' AND " EXPIRED(
		"?1") " THEN 'unresolved' ELSE status END, count(*) "
		      "FROM incomplete_executions WHERE status != 'resolved' "
		      "GROUP BY 1, 2 ORDER BY 1, 2",
	[STMT_INCOMPLETE_LIST_ABANDONED] =
		"SELECT id, owner FROM incomplete_executions "
		"WHERE status = 'in_progress' AND " EXPIRED("?1") " "
								  "ORDER BY id",
	/* A claim whose process died before its attempt was on record: the
	 * attempt never happened, so the record goes back to waiting for one
	 * (at once) while it has automatic attempts left. */
	[STMT_INCOMPLETE_REQUEUE] =
		"UPDATE incomplete_executions SET status = CASE WHEN attempts < max_attempts "
		"THEN 'pending' ELSE 'unresolved' END, next_attempt_at = CASE WHEN "
		"attempts < max_attempts THEN ?2 END, owner = NULL, lease_until = NULL, "
		"updated_at = ?2 WHERE id = ?1 AND status = 'in_progress' AND " EXPIRED("?2"),

	/* Only a claim this process still holds: renewing must never take back
	 * a record the run already released. */
	[STMT_INCOMPLETE_RENEW] = "UPDATE incomplete_executions SET lease_until = ?3 "
				  "WHERE id = ?1 AND owner = ?2 AND status = 'in_progress'",
	[STMT_EXECUTION_SET_RESUME] = "UPDATE executions SET incomplete_id = ?2, resume_state = ?3 "
				      "WHERE id = ?1",
	[STMT_EXECUTION_LAST] = "SELECT id, status, \"trigger\", started_at, finished_at "
				"FROM executions WHERE scenario = ?1 "
				"ORDER BY started_at DESC, id DESC LIMIT 1",

	[STMT_HOLD_INSERT] = "INSERT INTO run_holds (scenario, owner, lease_until, created_at) "
			     "VALUES (?1, ?2, ?3, ?4)",
	[STMT_HOLD_RENEW] = "UPDATE run_holds SET lease_until = ?3 WHERE id = ?1 AND owner = ?2",
	/* Live holds queued before this one: the run may start at 0. */
	[STMT_HOLD_AHEAD] =
		"SELECT count(*) FROM run_holds WHERE scenario = "
		"(SELECT scenario FROM run_holds WHERE id = ?1) AND id < ?1 AND NOT " EXPIRED("?2"),
	[STMT_HOLD_DELETE] = "DELETE FROM run_holds WHERE id = ?1 AND owner = ?2",
	[STMT_HOLD_PURGE] = "DELETE FROM run_holds WHERE scenario = ?1 AND " EXPIRED("?2"),

	[STMT_SCHEDULE_GET] = "SELECT schedule_key, next_run_at, last_run_at FROM schedules "
			      "WHERE scenario = ?1",
	[STMT_SCHEDULE_SET] =
		"INSERT INTO schedules (scenario, schedule_key, next_run_at, last_run_at, "
		"updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (scenario) DO UPDATE SET "
		"schedule_key = excluded.schedule_key, next_run_at = excluded.next_run_at, "
		"last_run_at = excluded.last_run_at, updated_at = excluded.updated_at",
	[STMT_SCHEDULE_DELETE] = "DELETE FROM schedules WHERE scenario = ?1",

	[STMT_EVENT_KEY_INSERT] = "INSERT INTO event_keys (scenario, module_id, key, received_at) "
				  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	[STMT_EVENT_KEY_EXPIRE] = "DELETE FROM event_keys WHERE received_at < ?1",
	[STMT_EVENT_ENQUEUE] = "INSERT INTO events (scenario, module_id, payload, received_at, "
			       "status) VALUES (?1, ?2, ?3, ?4, 'queued')",
	/* The oldest event nobody holds (queued, or taken by a process that
	 * died and whose execution is no longer running: a running one is
	 * recovery's to replay): checked and taken in one statement. */
	[STMT_EVENT_TAKE] = "UPDATE events SET status = 'taken', owner = ?3, lease_until = ?4, "
			    "execution_id = ?5, cycle = ?6, deliveries = deliveries + 1 WHERE id = "
			    "(SELECT id FROM events ev WHERE scenario = ?1 AND module_id = ?2 AND "
			    "(status = 'queued' OR " EVENT_ABANDONED(
				    "?7") ") "
					  "ORDER BY id LIMIT 1) RETURNING id, payload",
	[STMT_EVENT_ACK] = "DELETE FROM events WHERE id = ?1 AND owner = ?2",
	[STMT_EVENT_RELEASE] = "UPDATE events SET status = 'queued', owner = NULL, "
			       "lease_until = NULL, execution_id = NULL, cycle = NULL "
			       "WHERE id = ?1 AND owner = ?2",
	[STMT_EVENT_RENEW] = "UPDATE events SET lease_until = ?3 WHERE execution_id = ?1 AND "
			     "owner = ?2 AND status = 'taken'",
	[STMT_EVENT_OF_EXECUTION] = "SELECT id, cycle FROM events WHERE execution_id = ?1 AND "
				    "status = 'taken' ORDER BY id",
	[STMT_EVENT_RELEASE_ABANDONED] =
		"UPDATE events AS ev SET status = 'queued', owner = NULL, lease_until = NULL, "
		"execution_id = NULL, cycle = NULL WHERE " EVENT_ABANDONED("?1"),
	[STMT_EVENT_ADOPT] =
		"UPDATE events SET owner = ?2, lease_until = ?3 WHERE execution_id = ?1 "
		"AND status = 'taken' AND (" EXPIRED("?4") " OR owner = ?2)",
	[STMT_EVENT_EXECUTION] = "SELECT coalesce(execution_id, 0) FROM events WHERE id = ?1",
	[STMT_EVENT_COUNTS] = "SELECT scenario, count(*) FROM events GROUP BY scenario "
			      "ORDER BY scenario",
	/* Bounded: the caller needs to know "at least N", never the total. */
	[STMT_EVENT_QUEUED] = "SELECT count(*) FROM (SELECT 1 FROM events WHERE scenario = ?1 AND "
			      "module_id = ?2 AND status = 'queued' LIMIT ?3)",

	[STMT_WEBHOOK_GET] = "SELECT connection, url, events, remote_id, status, error, "
			     "updated_at FROM webhooks WHERE scenario = ?1 AND module_id = ?2",
	[STMT_WEBHOOK_SET] =
		"INSERT INTO webhooks (scenario, module_id, connection, url, events, remote_id, "
		"status, error, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
		"ON CONFLICT (scenario, module_id) DO UPDATE SET connection = excluded.connection, "
		"url = excluded.url, events = excluded.events, remote_id = excluded.remote_id, "
		"status = excluded.status, error = excluded.error, updated_at = excluded.updated_at",
	[STMT_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE scenario = ?1 AND module_id = ?2",
	[STMT_WEBHOOK_LIST] =
		"SELECT scenario, module_id, connection, url, events, remote_id, "
		"status, error, updated_at FROM webhooks ORDER BY scenario, module_id",
};

const char *store_stmt_sql(enum store_stmt id)
{
	assert(id >= 0 && id < _STORE_STMT_MAX);
	return stmt_sql[id];
}

int store_stmts_prepare(struct store *store)
{
	for (int i = 0; i < _STORE_STMT_MAX; i++) {
		int rc;

		assert(stmt_sql[i]);
		rc = sqlite3_prepare_v3(store->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&store->stmts[i], NULL);
		if (rc != SQLITE_OK)
			return store_sql_error(store, rc, stmt_sql[i]);
	}
	return 0;
}

void store_stmts_finalize(struct store *store)
{
	for (int i = 0; i < _STORE_STMT_MAX; i++) {
		sqlite3_finalize(store->stmts[i]);
		store->stmts[i] = NULL;
	}
}

int store_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (!text)
		return sqlite3_bind_null(stmt, index);
	return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

int store_bind_json(sqlite3_stmt *stmt, int index, const cJSON *item)
{
	char *text;

	if (!item)
		return sqlite3_bind_null(stmt, index);
	text = json_print(item);
	return sqlite3_bind_text(stmt, index, text, -1, free);
}

char *store_column_strdup(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);

	return text ? xstrdup((const char *)text) : NULL;
}

cJSON *store_column_json(sqlite3_stmt *stmt, int column)
{
	const char *text = (const char *)sqlite3_column_text(stmt, column);
	int len = sqlite3_column_bytes(stmt, column);
	cJSON *item;

	if (!text)
		return cJSON_CreateNull();
	item = cJSON_ParseWithLength(text, (size_t)len);
	return item ? item : cJSON_CreateNull();
}

cJSON *store_column_time(sqlite3_stmt *stmt, int column)
{
	char buf[32];

	if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
		return cJSON_CreateNull();
	time_format_iso(sqlite3_column_int64(stmt, column), buf, sizeof(buf));
	return cJSON_CreateString(buf);
}
