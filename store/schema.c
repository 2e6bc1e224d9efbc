/* SPDX-License-Identifier: MIT */
/*
 * The database schema as numbered migrations. Migration N brings a file
 * from PRAGMA user_version N - 1 to N; store.c applies the pending ones at
 * open inside one transaction. Migrations are append-only: a released one is
 * never edited, a change is a new entry at the end (incomplete executions,
 * the webhook queue and webhooks arrive that way as migration 2 and later).
 *
 * Times are epoch milliseconds (INTEGER), JSON documents are compact text,
 * identifiers are INTEGER PRIMARY KEY so they double as the rowid.
 */
#include "store/store.h"

#include <stddef.h>

#include "store/internal.h"
#include "util/cleanup.h"

static const char *const migrations[] = {
	/* 1: scenarios, executions with their operations, blobs, cursors. */
	"CREATE TABLE scenarios ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  consecutive_errors INTEGER NOT NULL DEFAULT 0,"
	"  disabled_reason TEXT,"
	"  last_run_at INTEGER,"
	"  created_at INTEGER NOT NULL"
	");"
	/* No foreign key to scenarios: history outlives a scenario file that
	 * was removed from the folder. */
	"CREATE TABLE executions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  scenario TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('running', 'success', 'warning', 'error', 'incomplete')),"
	"  \"trigger\" TEXT NOT NULL,"
	"  resumes INTEGER REFERENCES executions(id) ON DELETE SET NULL,"
	"  owner TEXT,"
	"  lease_until INTEGER,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  operations INTEGER NOT NULL DEFAULT 0,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  duration_ms INTEGER NOT NULL DEFAULT 0,"
	"  bundles INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT"
	");"
	"CREATE INDEX executions_by_scenario ON executions (scenario, started_at);"
	"CREATE INDEX executions_by_status ON executions (status, started_at);"
	"CREATE INDEX executions_by_start ON executions (started_at);"
	"CREATE INDEX executions_by_resumes ON executions (resumes);"
	"CREATE TABLE operations ("
	"  id INTEGER PRIMARY KEY,"
	"  execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  module_id TEXT NOT NULL,"
	"  module TEXT NOT NULL,"
	"  bundle INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('running', 'success', 'warning', 'error')),"
	"  input TEXT,"
	"  output TEXT,"
	"  error TEXT,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  duration_ms INTEGER,"
	"  UNIQUE (execution_id, seq)"
	");"
	/* Finds the next bundle number of a module in O(log n). */
	"CREATE INDEX operations_by_module ON operations (execution_id, module_id, bundle);"
	"CREATE TABLE blobs ("
	"  sha256 TEXT PRIMARY KEY NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE execution_blobs ("
	"  execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,"
	"  sha256 TEXT NOT NULL REFERENCES blobs(sha256),"
	"  PRIMARY KEY (execution_id, sha256)"
	") WITHOUT ROWID;"
	/* Blob garbage collection asks "is this blob still referenced?". */
	"CREATE INDEX execution_blobs_by_sha256 ON execution_blobs (sha256);"
	"CREATE TABLE cursors ("
	"  scenario TEXT NOT NULL,"
	"  module_id TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (scenario, module_id)"
	") WITHOUT ROWID;",

	/* 2: scenario snapshots (the file as it was when a run started, kept
	 * once per distinct text) and incomplete executions. */
	"CREATE TABLE snapshots ("
	"  sha256 TEXT PRIMARY KEY NOT NULL,"
	"  source TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"ALTER TABLE executions ADD COLUMN snapshot TEXT REFERENCES snapshots(sha256);"
	"ALTER TABLE executions ADD COLUMN scenario_path TEXT;"
	"ALTER TABLE executions ADD COLUMN now_ms INTEGER;"
	"CREATE TABLE incomplete_executions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  scenario TEXT NOT NULL,"
	"  execution_id INTEGER NOT NULL REFERENCES executions(id),"
	"  origin_execution_id INTEGER NOT NULL REFERENCES executions(id),"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('pending', 'in_progress', 'resolved', 'unresolved')),"
	"  module_id TEXT NOT NULL,"
	"  error TEXT NOT NULL,"
	"  snapshot TEXT NOT NULL REFERENCES snapshots(sha256),"
	"  scenario_path TEXT,"
	"  state TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts INTEGER NOT NULL DEFAULT 0,"
	"  retry_interval_ms INTEGER,"
	"  next_attempt_at INTEGER,"
	"  owner TEXT,"
	"  lease_until INTEGER,"
	"  resolved_by INTEGER REFERENCES executions(id),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE INDEX incomplete_by_scenario ON incomplete_executions (scenario, status);"
	"CREATE INDEX incomplete_by_due ON incomplete_executions (status, next_attempt_at);",

	/* 3: what the daemon needs to share work with scenarioctl and to
	 * survive restarts. run_holds is the queue of runs of sequential
	 * scenarios (the lowest live id may run); schedules remembers each
	 * scenario's next slot; a retry run keeps the record it resumes and
	 * the state it resumed from, so a crash in the middle of it can be
	 * replayed like any other run. */
	"CREATE TABLE run_holds ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  scenario TEXT NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  lease_until INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX run_holds_by_scenario ON run_holds (scenario, id);"
	"CREATE TABLE schedules ("
	"  scenario TEXT PRIMARY KEY NOT NULL,"
	"  schedule_key TEXT NOT NULL,"
	"  next_run_at INTEGER,"
	"  last_run_at INTEGER,"
	"  updated_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"ALTER TABLE executions ADD COLUMN incomplete_id INTEGER;"
	"ALTER TABLE executions ADD COLUMN resume_state TEXT;",

	/* 4: the webhook queue and the webhooks registered at CloudConvert.
	 * An event is queued (committed) before its delivery is answered, taken
	 * by the run that emits it as its trigger's bundle (cycle N of that
	 * execution), and deleted when that cycle is done with it, or given back
	 * to the queue when the cycle rolled back or its process died before the
	 * bundle was on record. A registration keeps CloudConvert's id, never its
	 * signing secret (that lives in a 0600 file of its own: no secret in the
	 * store). */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  scenario TEXT NOT NULL,"
	"  module_id TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('queued', 'taken')),"
	"  owner TEXT,"
	"  lease_until INTEGER,"
	"  execution_id INTEGER,"
	"  cycle INTEGER,"
	"  deliveries INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX events_queue ON events (scenario, module_id, status, id);"
	/* Deliveries CloudConvert sends again (its answer was lost) carry the
	 * same event of the same job or task: their keys are remembered for a
	 * while, so each event is queued once. */
	"CREATE TABLE event_keys ("
	"  scenario TEXT NOT NULL,"
	"  module_id TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  PRIMARY KEY (scenario, module_id, key)"
	") WITHOUT ROWID;"
	"CREATE INDEX event_keys_by_age ON event_keys (received_at);"
	"CREATE INDEX events_by_execution ON events (execution_id);"
	"CREATE TABLE webhooks ("
	"  scenario TEXT NOT NULL,"
	"  module_id TEXT NOT NULL,"
	"  connection TEXT NOT NULL,"
	"  url TEXT NOT NULL,"
	"  events TEXT NOT NULL,"
	"  remote_id TEXT,"
	"  status TEXT NOT NULL,"
	"  error TEXT,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (scenario, module_id)"
	") WITHOUT ROWID;",
};

int store_schema_version(void)
{
	return (int)ELEMENTSOF(migrations);
}

const char *store_schema_migration(int version)
{
	if (version < 1 || version > store_schema_version())
		return NULL;
	return migrations[version - 1];
}
