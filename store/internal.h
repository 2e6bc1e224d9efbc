/* SPDX-License-Identifier: MIT */
/*
 * What the files of store/ share and nobody else sees: the struct behind
 * struct store, the ids of the prepared statements, the one place SQLite
 * result codes become errno values, and small helpers for binding and
 * reading columns.
 */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/cleanup.h"

/* Every statement the store runs after open; the SQL lives in statements.c
 * in the same order. Prepared once at store_open(), finalized at close. */
enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_INTEGRITY_CHECK,

	STMT_SCENARIO_ENSURE,
	STMT_SCENARIO_GET,
	STMT_SCENARIO_SET_ENABLED,
	STMT_SCENARIO_RECORD_OUTCOME,
	STMT_SCENARIO_LIST,

	STMT_EXECUTION_CREATE,
	STMT_EXECUTION_RENEW,
	STMT_EXECUTION_FINISH,
	STMT_EXECUTION_LIST_ABANDONED,
	STMT_EXECUTION_CLAIM,
	STMT_EXECUTION_STATUS,
	STMT_EXECUTION_LIST,
	STMT_EXECUTION_LIST_SCENARIO,
	STMT_EXECUTION_LIST_STATUS,
	STMT_EXECUTION_LIST_BOTH,
	STMT_EXECUTION_GET,

	STMT_OPERATION_BEGIN,
	STMT_OPERATION_FINISH,
	STMT_OPERATION_LIST,

	STMT_BLOB_INSERT,
	STMT_EXECUTION_BLOB_INSERT,

	STMT_CURSOR_GET,
	STMT_CURSOR_SET,
	STMT_CURSOR_DELETE,

	STMT_SNAPSHOT_PUT,
	STMT_SNAPSHOT_GET,
	STMT_EXECUTION_SET_SNAPSHOT,
	STMT_EXECUTION_GET_SNAPSHOT,

	STMT_INCOMPLETE_INSERT,
	STMT_INCOMPLETE_LIST,
	STMT_INCOMPLETE_GET,
	STMT_INCOMPLETE_CLAIM,
	STMT_INCOMPLETE_RELEASE,
	STMT_INCOMPLETE_REPLACE,
	STMT_INCOMPLETE_RESOLVE,
	STMT_INCOMPLETE_DELETE,
	STMT_INCOMPLETE_COUNT_OPEN,
	STMT_INCOMPLETE_DUE,
	STMT_INCOMPLETE_NEXT_DUE,
	STMT_INCOMPLETE_COUNTS,
	STMT_INCOMPLETE_LIST_ABANDONED,
	STMT_INCOMPLETE_REQUEUE,
	STMT_INCOMPLETE_RENEW,

	STMT_EXECUTION_SET_RESUME,
	STMT_EXECUTION_LAST,

	STMT_HOLD_INSERT,
	STMT_HOLD_RENEW,
	STMT_HOLD_AHEAD,
	STMT_HOLD_DELETE,
	STMT_HOLD_PURGE,

	STMT_SCHEDULE_GET,
	STMT_SCHEDULE_SET,
	STMT_SCHEDULE_DELETE,

	STMT_EVENT_ENQUEUE,
	STMT_EVENT_KEY_INSERT,
	STMT_EVENT_KEY_EXPIRE,
	STMT_EVENT_TAKE,
	STMT_EVENT_ACK,
	STMT_EVENT_RELEASE,
	STMT_EVENT_RENEW,
	STMT_EVENT_OF_EXECUTION,
	STMT_EVENT_RELEASE_ABANDONED,
	STMT_EVENT_ADOPT,
	STMT_EVENT_EXECUTION,
	STMT_EVENT_COUNTS,
	STMT_EVENT_QUEUED,

	STMT_WEBHOOK_GET,
	STMT_WEBHOOK_SET,
	STMT_WEBHOOK_DELETE,
	STMT_WEBHOOK_LIST,

	_STORE_STMT_MAX,
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[_STORE_STMT_MAX];
	char *db_path; /* owned; ":memory:" for tests */
	char *blob_dir; /* owned; STATE_DIR/blobs, or a private tmpdir */
	char *blob_dir_real; /* owned; realpath of blob_dir, for containment checks */
	char *blob_tmp_dir; /* owned; blob_dir/tmp: writers' temporary files */
	char *owner; /* owned; "host:pid:random" */
	bool memory; /* ":memory:": blob_dir is a private tmpdir removed at close */
	bool in_transaction; /* between store_begin() and store_commit/rollback() */
};

/* The SQL of each statement (statements.c). */
const char *store_stmt_sql(enum store_stmt id);
/* Prepares every statement; 0 or a mapped error. */
int store_stmts_prepare(struct store *store);
void store_stmts_finalize(struct store *store);

/* The only place SQLite result codes become errno values: BUSY/LOCKED →
 * -EBUSY, CONSTRAINT → -EEXIST, TOOBIG → -E2BIG, anything else → -EIO.
 * sqlite3_errmsg() goes to a debug line together with `what`. */
int store_sql_error(struct store *store, int rc, const char *what);

/* The statement `id`, ready to bind. Pair it with _cleanup_reset_ so it is
 * reset and its bindings cleared however the caller leaves. */
static inline sqlite3_stmt *store_stmt(struct store *store, enum store_stmt id)
{
	return store->stmts[id];
}

static inline void stmt_resetp(sqlite3_stmt **stmt)
{
	if (*stmt) {
		sqlite3_reset(*stmt);
		sqlite3_clear_bindings(*stmt);
	}
}
#define _cleanup_reset_ _cleanup_(stmt_resetp)

/* Steps a statement that returns no rows: 0 or a mapped error. */
int store_step_done(struct store *store, sqlite3_stmt *stmt);
/* Steps once: 1 for a row, 0 when done, or a mapped error. */
int store_step_row(struct store *store, sqlite3_stmt *stmt);

/* Binding that turns NULL into SQL NULL. Strings are bound SQLITE_STATIC:
 * they must live until the statement is reset, which the callers' scope
 * guarantees. */
int store_bind_text(sqlite3_stmt *stmt, int index, const char *text);
/* Binds the compact JSON text of `item`, or NULL when item is NULL. The
 * text is handed to SQLite (freed by it). */
int store_bind_json(sqlite3_stmt *stmt, int index, const cJSON *item);

/* Copies a text column (NULL stays NULL); caller frees. */
char *store_column_strdup(sqlite3_stmt *stmt, int column);
/* Parses a JSON text column back; SQL NULL or unparsable text → JSON null. */
cJSON *store_column_json(sqlite3_stmt *stmt, int column);
/* An epoch-ms column as ISO 8601 text, or JSON null when NULL. */
cJSON *store_column_time(sqlite3_stmt *stmt, int column);

/* Runs a group of statements atomically: BEGIN IMMEDIATE outside an explicit
 * transaction, a savepoint inside one. Every store_txn_enter() that returned
 * 0 is paired with store_txn_leave(), which commits when r >= 0 and rolls
 * back otherwise, and returns r (or the commit's error). */
int store_txn_enter(struct store *store);
int store_txn_leave(struct store *store, int r);

/* Records blob rows for every file value inside `outputs` and links them to
 * the execution (blobs.c; called inside store_operation_finish's
 * transaction). */
int store_blobs_link(struct store *store, int64_t execution_id, const cJSON *outputs);

/* Sets up the blob folder (and its tmp/) under `state_dir`, or a private
 * temporary one when state_dir is NULL; fills the blob_* fields. */
int store_blobs_open(struct store *store, const char *state_dir, char **reterr_msg);
/* Removes the private blob folder of a ":memory:" store. */
void store_blobs_close(struct store *store);

/* The media type for a file name's extension (mime.c);
 * application/octet-stream when unknown. */
const char *store_mime_guess(const char *name);

/* The migrations (schema.c): migration i (1-based) brings user_version from
 * i - 1 to i. */
const char *store_schema_migration(int version);
