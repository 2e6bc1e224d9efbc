/* SPDX-License-Identifier: MIT */
/*
 * The whole persistence API of scenariod. SQLite (WAL, foreign keys on,
 * synchronous=NORMAL) is behind it; no SQL exists outside store/. Callers
 * see ids, plain structs and cJSON documents, never SQLite types, so a second
 * backend can be added without touching them.
 *
 * Threading: a struct store is used from one thread at a time (the loop
 * thread). Blob writers are the exception: they touch only files and may be
 * used from a worker thread; their rows are recorded by
 * store_operation_finish() on the loop thread when an output that holds the
 * file value is recorded.
 *
 * Errors: negative errno. -EBUSY when the database is locked past the busy
 * timeout, -EEXIST on a constraint violation, -ENOENT for a missing row,
 * -EPROTO when the file was written by a newer scenariod, -EIO otherwise.
 * Functions that take `reterr_msg` set it (caller frees) to a sentence a
 * person can act on when they fail.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct store;
struct store_blob_writer;

/* How long a claim on an execution lasts unless renewed. */
#define STORE_LEASE_MS (30 * 1000)

/* Opens (creating when needed) STATE_DIR/store.db and STATE_DIR/blobs/,
 * applying pending schema migrations. `state_dir` may be ":memory:" for
 * tests: the database is in memory and blobs go to a private temporary
 * directory removed at close. */
int store_open(const char *state_dir, struct store **ret, char **reterr_msg);
/* Closes the store; accepts NULL; returns NULL. */
struct store *store_close(struct store *store);
/* The schema version this program writes (PRAGMA user_version). */
int store_schema_version(void);
/* Runs PRAGMA integrity_check; 0 when it says ok, -EIO (with the first
 * problem in reterr_msg) otherwise. */
int store_check_integrity(struct store *store, char **reterr_msg);
/* An identity for lease owners: "host:pid:random", unique per process. */
const char *store_owner(const struct store *store);
/* Blob folder: STATE_DIR/blobs. */
const char *store_blob_dir(const struct store *store);

/* ---- scenarios and their state ---- */

struct store_scenario_state {
	bool enabled; /* false after deactivation or `scenarioctl disable` */
	int consecutive_errors; /* runs in a row that ended in error (counted types only) */
	int64_t last_run_at; /* epoch ms; 0 = never */
	char *disabled_reason; /* owned; NULL when enabled */
};

/* Makes sure a row exists for `name` (first seen: enabled). */
int store_scenario_ensure(struct store *store, const char *name);
/* Fills *ret (caller calls store_scenario_state_done). -ENOENT when unknown. */
int store_scenario_get(struct store *store, const char *name, struct store_scenario_state *ret);
void store_scenario_state_done(struct store_scenario_state *state);
int store_scenario_set_enabled(struct store *store, const char *name, bool enabled,
			       const char *reason);
/* Records the outcome of a run: `counts_as_error` adds one to the
 * consecutive errors, `success` resets them. Returns the new count. */
int store_scenario_record_outcome(struct store *store, const char *name, bool success,
				  bool counts_as_error);
/* Lists every known scenario with its state as a JSON array; caller frees. */
int store_scenario_list(struct store *store, cJSON **ret);

/* ---- executions ---- */

struct store_counters {
	int64_t operations; /* as Fusion counts them (modules.md "Operations") */
	int64_t bytes; /* data transferred: file bytes in and out */
	int64_t duration_ms;
	int64_t bundles; /* trigger bundles processed */
};

/* Creates an execution in status "running", claimed by this process for
 * STORE_LEASE_MS. `trigger` says what started it ("manual", "schedule",
 * "webhook", "retry"); `resumes` is the execution an incomplete execution
 * came from, or 0. */
int store_execution_create(struct store *store, const char *scenario, const char *trigger,
			   int64_t resumes, int64_t *ret_id);
/* Extends this process's claim; -ENOENT when another process owns it now. */
int store_execution_renew(struct store *store, int64_t id);
/* Sets the final status (success, warning, error, incomplete), counters and
 * the run's error (a {type, message, module} object or NULL), and releases the
 * claim. */
int store_execution_finish(struct store *store, int64_t id, const char *status,
			   const struct store_counters *counters, const cJSON *error);
/* Executions whose claim ran out while still "running": the process that
 * ran them died. Returns a JSON array of {id, scenario, started_at}. */
int store_execution_list_abandoned(struct store *store, cJSON **ret);
/* Takes over an abandoned execution (an expired claim) for this process;
 * -EBUSY when another live process holds it. */
int store_execution_claim(struct store *store, int64_t id);

struct store_execution_filter {
	const char *scenario; /* NULL: all */
	const char *status; /* NULL: all */
	int limit; /* 0: 50 */
};

/* Newest first: [{id, scenario, status, trigger, started_at, finished_at,
 * operations, bytes, duration_ms, error, abandoned}] (times ISO 8601). */
int store_execution_list(struct store *store, const struct store_execution_filter *filter,
			 cJSON **ret);
/* One execution with every operation in order:
 * {id, scenario, status, …, operations_list: [{seq, module_id, module, bundle,
 *  status, input, output, error, started_at, duration_ms}]}. -ENOENT. */
int store_execution_get(struct store *store, int64_t id, cJSON **ret);

/* ---- operations: one module run on one bundle ---- */

/* Records that module `module_id` (of app module `module_name`) starts on
 * one bundle, with its mapped input (NULL when confidential). Committed
 * before the module runs, so a crash leaves the input on record. */
int store_operation_begin(struct store *store, int64_t execution_id, const char *module_id,
			  const char *module_name, const cJSON *input, int64_t *ret_id);
/* Records the outcome: status ("success", "error", "warning"), the output
 * bundles (a JSON array, or NULL when confidential) and the error object.
 * File values inside `outputs` are recorded as blobs of the execution. */
int store_operation_finish(struct store *store, int64_t operation_id, const char *status,
			   const cJSON *outputs, const cJSON *error);

/* ---- trigger cursors ---- */

/* The stored cursor of a polling trigger, or *ret = NULL when none (caller
 * frees). */
int store_cursor_get(struct store *store, const char *scenario, const char *module_id, char **ret);
int store_cursor_set(struct store *store, const char *scenario, const char *module_id,
		     const char *cursor);

/* ---- transactions ----
 * Groups several calls into one commit (e.g. trigger bundles + cursor).
 * Calls outside a transaction commit one by one. Not nestable. */
int store_begin(struct store *store);
int store_commit(struct store *store);
int store_rollback(struct store *store);

/* ---- blobs: file bytes, content-addressed under STATE_DIR/blobs ---- */

/* Starts a blob written in pieces; bytes go to a temporary file in the blob
 * folder, hashed as they arrive, never held in memory. `max_size` (0: no
 * limit) makes a write past it fail with -EFBIG. */
int store_blob_writer_new(struct store *store, int64_t max_size, struct store_blob_writer **ret);
int store_blob_writer_write(struct store_blob_writer *writer, const void *data, size_t len);
/* Bytes written so far. */
int64_t store_blob_writer_size(const struct store_blob_writer *writer);
/* Moves the bytes to blobs/XX/SHA256 (deduplicated) and returns the file
 * value {name, size, mime, sha256, path}; frees the writer either way.
 * `mime` may be NULL (guessed from the name). */
int store_blob_writer_commit(struct store_blob_writer *writer, const char *name, const char *mime,
			     cJSON **ret_file_value);
/* Drops the temporary file and frees the writer; accepts NULL. */
void store_blob_writer_abort(struct store_blob_writer *writer);
/* Copies a file into the blob folder (streamed); blocking, so callers on
 * the loop thread use the worker pool. */
int store_blob_import_path(struct store *store, const char *path, const char *name,
			   int64_t max_size, cJSON **ret_file_value);
/* Checks that a file value points into this store's blob folder and that
 * the blob exists; returns its path (borrowed from the value). */
int store_blob_resolve(const struct store *store, const cJSON *file_value, const char **ret_path);

/* ---- scenario snapshots: the file's text as a run saw it ---- */

/* Stores `source` once per distinct text; *ret_sha256 (caller frees) names
 * it. */
int store_snapshot_put(struct store *store, const char *source, char **ret_sha256);
/* The text of a snapshot (caller frees); -ENOENT. */
int store_snapshot_get(struct store *store, const char *sha256, char **ret_source);
/* Records which snapshot and file an execution ran, and its `now`. */
int store_execution_set_snapshot(struct store *store, int64_t execution_id, const char *sha256,
				 const char *path, int64_t now_ms);
struct store_execution_origin {
	char *snapshot; /* owned: the scenario text the execution ran; NULL when unknown */
	char *path; /* owned; may be NULL */
	char *scenario; /* owned */
	int64_t now_ms; /* `now` of its mappings */
	int64_t incomplete_id; /* a retry run: the record it resumed; 0 otherwise */
	cJSON *resume_state; /* owned: a retry run's starting state; NULL otherwise */
	char *owner; /* owned: the process holding its claim; NULL when finished */
};
/* A retry run: the incomplete execution it resumes and the state it starts
 * from, kept so that a crash in its middle can be replayed. */
int store_execution_set_resume(struct store *store, int64_t execution_id, int64_t incomplete_id,
			       const cJSON *state);
/* The newest execution of `scenario` as {id, status, trigger, started_at,
 * finished_at}, or *ret = NULL when it never ran. Caller frees. */
int store_execution_last(struct store *store, const char *scenario, cJSON **ret);
/* What an execution ran, for replaying it after a crash; -ENOENT. */
int store_execution_get_origin(struct store *store, int64_t execution_id,
			       struct store_execution_origin *ret);
void store_execution_origin_done(struct store_execution_origin *origin);

/* ---- incomplete executions (scenario-format.md "Incomplete executions") ----
 * One record per failing bundle: the snapshot, the failed module, the
 * state to resume from (the executor's, opaque here), the error, attempts
 * and the next attempt. Statuses: pending (an automatic retry is planned),
 * in_progress (claimed by a process with a lease), resolved, unresolved. A
 * record in progress whose lease ran out reads as unresolved and may be
 * claimed again. */

#define STORE_INCOMPLETE_MAX_STATE (64 << 20) /* bytes of state JSON */

struct store_incomplete {
	const char *scenario;
	int64_t execution_id; /* the execution that stored it */
	int64_t origin_execution_id; /* the first execution of the chain */
	const char *status; /* "pending" or "unresolved" */
	const char *module_id; /* the failed module */
	const cJSON *error; /* {type, message, module} */
	const char *snapshot; /* sha256 from store_snapshot_put() */
	const char *scenario_path; /* may be NULL */
	const cJSON *state; /* what the executor needs to resume */
	int max_attempts; /* automatic attempts; 0: none */
	int64_t retry_interval_ms; /* break's interval; 0: the default backoff schedule */
	int64_t next_attempt_at; /* epoch ms; 0: none planned */
};

/* -E2BIG when the state is larger than STORE_INCOMPLETE_MAX_STATE. */
int store_incomplete_insert(struct store *store, const struct store_incomplete *record,
			    int64_t *ret_id);

struct store_incomplete_filter {
	const char *scenario; /* NULL: all */
	const char *status; /* NULL: not resolved (or every status with `all`) */
	bool all;
	int limit; /* 0: 100 */
};

/* Newest first: [{id, scenario, execution_id, origin_execution_id, status,
 * module_id, error, size, attempts, max_attempts, next_attempt_at,
 * created_at, updated_at, resolved_by}]. */
int store_incomplete_list(struct store *store, const struct store_incomplete_filter *filter,
			  cJSON **ret);
/* One record with everything: the list's keys plus state, source (the
 * snapshot's text), scenario_path, retry_interval_ms and owner (the claim's
 * holder as stored, even when that process died). -ENOENT. */
int store_incomplete_get(struct store *store, int64_t id, cJSON **ret);
/* Takes the record for this process (status in_progress with a lease).
 * -ENOENT when missing, -EBUSY when another live process has it, -EALREADY
 * when it is resolved. */
int store_incomplete_claim(struct store *store, int64_t id);
/* Extends this process's claim while it resumes the record; -ENOENT when it
 * holds no claim on it (any more). */
int store_incomplete_renew(struct store *store, int64_t id);
/* Releases a claimed record with its new status ("resolved", "pending",
 * "unresolved"), the latest error (NULL: unchanged), the next attempt (0:
 * none), the execution that resolved it (0: none), and whether this was an
 * attempt (adds one to attempts). -ENOENT when this process does not hold
 * it. */
int store_incomplete_release(struct store *store, int64_t id, const char *status,
			     const cJSON *error, int64_t next_attempt_at, int64_t resolved_by,
			     bool attempted);
/* A claimed record whose resumed run failed again: it now holds the new
 * failure (module, error, state, status, next attempt, the execution that
 * stored it), one more attempt, and is released. -ENOENT when this process
 * does not hold it. */
int store_incomplete_replace(struct store *store, int64_t id,
			     const struct store_incomplete *record);
/* Marks a record resolved without running it; -EBUSY while in progress,
 * -ENOENT when missing. */
int store_incomplete_resolve(struct store *store, int64_t id);
/* Deletes a record; -EBUSY while in progress, -ENOENT when missing. */
int store_incomplete_delete(struct store *store, int64_t id);
/* How many records of `scenario` are not resolved. */
int store_incomplete_count_open(struct store *store, const char *scenario, int64_t *ret);
/* Pending records whose next attempt is due at `now_ms`, oldest due first,
 * at most `limit` (0: 100): [{id, scenario}]. */
int store_incomplete_list_due(struct store *store, int64_t now_ms, int limit, cJSON **ret);
/* The earliest next attempt of any pending record (epoch ms), or 0 when
 * none is planned. */
int store_incomplete_next_due(struct store *store, int64_t *ret);
/* Records not resolved, counted by scenario and status (a claim whose
 * process died counts as unresolved): [{"scenario": NAME, "pending": N,
 * "in_progress": N, "unresolved": N}], ordered by name (as
 * store_scenario_list()). Caller frees. */
int store_incomplete_counts(struct store *store, cJSON **ret);
/* Records claimed by a process that died: [{id, owner}]. */
int store_incomplete_list_abandoned(struct store *store, cJSON **ret);
/* Gives an abandoned claim back: pending with an attempt due now while it
 * has automatic attempts left, else unresolved. -ENOENT when it is not
 * abandoned (any more). */
int store_incomplete_requeue(struct store *store, int64_t id);

/* ---- sequential holds ----
 * A sequential scenario runs one run at a time, in order, across every
 * process that shares the store. A run queues a hold and may start when no
 * live hold of the same scenario was queued before it; a hold lives while
 * its process renews it (STORE_LEASE_MS) and dies with the process. */

/* Queues a hold for `scenario` owned by this process. */
int store_hold_enqueue(struct store *store, const char *scenario, int64_t *ret_id);
/* Renews the hold and says whether it is its turn: 0 when it is, -EBUSY
 * while an earlier live hold exists (*ret_ahead: how many), -ENOENT when
 * the hold is gone (this process lost it). */
int store_hold_check(struct store *store, int64_t id, int64_t *ret_ahead);
/* Releases the hold (and clears dead ones of the same scenario); accepts a
 * hold that is gone. */
int store_hold_release(struct store *store, int64_t id, const char *scenario);

/* ---- the webhook queue (scenario-format.md "Instant triggers") ----
 * An event is queued before its delivery is answered; a run takes it as
 * cycle N of its execution (the trigger's bundle); when that cycle is done
 * with it, it is acknowledged (deleted), or given back to the queue when the
 * cycle rolled back. A taken event whose process died goes back too, unless
 * recovery finds its bundle on record. */

#define STORE_EVENT_MAX_PAYLOAD (8 << 20) /* bytes of one event's JSON */

/* Queues `payload` (the bundle the trigger will emit) for the instant
 * trigger `module_id` of `scenario`; committed when it returns. With a
 * `key`, an event with the same key queued before (and remembered, see
 * store_event_keys_expire) is not queued again: -EEXIST. -E2BIG above
 * STORE_EVENT_MAX_PAYLOAD. */
int store_event_enqueue(struct store *store, const char *scenario, const char *module_id,
			const char *key, const cJSON *payload, int64_t *ret_id);
/* Forgets the keys of events received before `before_ms`. */
int store_event_keys_expire(struct store *store, int64_t before_ms);
/* Takes the oldest free event of the trigger for cycle `cycle` of
 * `execution_id`: 0 with its id and payload (caller frees), -ENOENT when
 * the queue is empty. */
int store_event_take(struct store *store, const char *scenario, const char *module_id,
		     int64_t execution_id, int cycle, int64_t *ret_id, cJSON **ret_payload);
/* Done with it: deleted. -ENOENT when this process does not hold it. */
int store_event_ack(struct store *store, int64_t id);
/* Back to the queue, for another run. -ENOENT when not held. */
int store_event_release(struct store *store, int64_t id);
/* Keeps the events `execution_id` holds while it runs. */
int store_event_renew(struct store *store, int64_t execution_id);
/* The events an execution holds: [{id, cycle}]. */
int store_event_list_taken(struct store *store, int64_t execution_id, cJSON **ret);
/* Recovery takes over the events a dead execution held (to acknowledge
 * those whose bundle is on record, and give back the others). */
int store_event_adopt(struct store *store, int64_t execution_id);
/* Gives back every event held by a process that died; returns how many. */
int store_event_release_abandoned(struct store *store);
/* The execution that took event `id`: 0 while it is queued; -ENOENT when
 * it is done (acknowledged) or unknown. */
int store_event_execution(struct store *store, int64_t id, int64_t *ret);
/* Events not yet done, by scenario: [{scenario, count}] ordered by name. */
int store_event_counts(struct store *store, cJSON **ret);
/* Events waiting (not taken) for one trigger, counted up to `cap`. */
int store_event_queued(struct store *store, const char *scenario, const char *module_id,
		       int64_t cap, int64_t *ret);

/* ---- webhooks registered at CloudConvert (never their secrets) ---- */

struct store_webhook {
	char *connection; /* owned */
	char *url; /* owned: where CloudConvert delivers */
	cJSON *events; /* owned: ["job.finished", …] */
	char *remote_id; /* owned: CloudConvert's id; NULL until registered */
	char *status; /* owned: "registered", "failing", "removing" */
	char *error; /* owned: the last failure for people; NULL */
	int64_t updated_at;
};
/* -ENOENT when the trigger has none. */
int store_webhook_get(struct store *store, const char *scenario, const char *module_id,
		      struct store_webhook *ret);
void store_webhook_done(struct store_webhook *webhook);
int store_webhook_set(struct store *store, const char *scenario, const char *module_id,
		      const struct store_webhook *webhook);
int store_webhook_delete(struct store *store, const char *scenario, const char *module_id);
/* Every registration: [{scenario, module_id, connection, url, events,
 * remote_id, status, error, updated_at}]. */
int store_webhook_list(struct store *store, cJSON **ret);

/* ---- the scheduler's memory ---- */

struct store_schedule {
	char *key; /* owned: schedule_key() of the schedule the times belong to */
	int64_t next_run_at; /* epoch ms; 0: none */
	int64_t last_run_at; /* epoch ms of the last slot started; 0: never */
};
/* -ENOENT when the scenario has none. */
int store_schedule_get(struct store *store, const char *scenario, struct store_schedule *ret);
void store_schedule_done(struct store_schedule *schedule);
int store_schedule_set(struct store *store, const char *scenario, const char *key,
		       int64_t next_run_at, int64_t last_run_at);
int store_schedule_delete(struct store *store, const char *scenario);
