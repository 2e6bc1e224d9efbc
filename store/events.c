/* SPDX-License-Identifier: MIT */
/*
 * The webhook queue (store.h): events of instant triggers, from the moment
 * their delivery is accepted until the run that emitted them is done with
 * them. Taking, like every claim here, is one statement that checks and
 * takes, so two runs never emit the same event; a taken event is held by
 * its process (owner_alive) and lease, so a dead daemon's events go back to
 * the queue for the next.
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>

#include "store/internal.h"
#include "util/json.h"
#include "util/timeutil.h"

#define EVENT_LEASE_MS (10 * 60 * 1000) /* renewed with the execution's claim */

/* The key is recorded in the same transaction as the event: either both
 * are on record or neither. Returns 1 when the key was new. */
static int remember_key(struct store *store, const char *scenario, const char *module_id,
			const char *key, int64_t now)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_KEY_INSERT);
	int r;

	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	store_bind_text(stmt, 3, key);
	sqlite3_bind_int64(stmt, 4, now);
	r = store_step_done(store, stmt);
	return r < 0 ? r : sqlite3_changes(store->db) > 0;
}

static int insert_event(struct store *store, const char *scenario, const char *module_id,
			const char *text, int64_t now, int64_t *ret_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_ENQUEUE);
	int r;

	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	store_bind_text(stmt, 3, text);
	sqlite3_bind_int64(stmt, 4, now);
	r = store_step_done(store, stmt);
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(store->db);
	return r;
}

int store_event_enqueue(struct store *store, const char *scenario, const char *module_id,
			const char *key, const cJSON *payload, int64_t *ret_id)
{
	_cleanup_free_ char *text = NULL;
	int64_t now = time_now_ms();
	int r;

	if (!scenario || !module_id || !payload)
		return -EINVAL;
	text = json_print(payload);
	if (strlen(text) > STORE_EVENT_MAX_PAYLOAD)
		return -E2BIG;
	if (!key)
		return insert_event(store, scenario, module_id, text, now, ret_id);
	r = store_txn_enter(store);
	if (r < 0)
		return r;
	r = remember_key(store, scenario, module_id, key, now);
	if (r == 0)
		r = -EEXIST;
	else if (r > 0)
		r = insert_event(store, scenario, module_id, text, now, ret_id);
	return store_txn_leave(store, r);
}

int store_event_keys_expire(struct store *store, int64_t before_ms)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_KEY_EXPIRE);

	sqlite3_bind_int64(stmt, 1, before_ms);
	return store_step_done(store, stmt);
}

int store_event_take(struct store *store, const char *scenario, const char *module_id,
		     int64_t execution_id, int cycle, int64_t *ret_id, cJSON **ret_payload)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_TAKE);
	int64_t now = time_now_ms(), id;
	cJSON *payload;
	int r;

	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	store_bind_text(stmt, 3, store->owner);
	sqlite3_bind_int64(stmt, 4, now + EVENT_LEASE_MS);
	sqlite3_bind_int64(stmt, 5, execution_id);
	sqlite3_bind_int(stmt, 6, cycle);
	sqlite3_bind_int64(stmt, 7, now);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	id = sqlite3_column_int64(stmt, 0);
	payload = store_column_json(stmt, 1);
	/* RETURNING writes on the first step and commits at the end. */
	r = store_step_done(store, stmt);
	if (r < 0) {
		cJSON_Delete(payload);
		return r;
	}
	*ret_id = id;
	*ret_payload = payload;
	return 0;
}

static int held(struct store *store, enum store_stmt which, int64_t id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, which);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

int store_event_ack(struct store *store, int64_t id)
{
	return held(store, STMT_EVENT_ACK, id);
}

int store_event_release(struct store *store, int64_t id)
{
	return held(store, STMT_EVENT_RELEASE, id);
}

int store_event_renew(struct store *store, int64_t execution_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_RENEW);

	sqlite3_bind_int64(stmt, 1, execution_id);
	store_bind_text(stmt, 2, store->owner);
	sqlite3_bind_int64(stmt, 3, time_now_ms() + EVENT_LEASE_MS);
	return store_step_done(store, stmt);
}

int store_event_list_taken(struct store *store, int64_t execution_id, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_OF_EXECUTION);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int r;

	sqlite3_bind_int64(stmt, 1, execution_id);
	while ((r = store_step_row(store, stmt)) > 0) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(stmt, 0));
		cJSON_AddNumberToObject(o, "cycle", sqlite3_column_int(stmt, 1));
		cJSON_AddItemToArray(list, o);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

int store_event_release_abandoned(struct store *store)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_RELEASE_ABANDONED);
	int r;

	sqlite3_bind_int64(stmt, 1, time_now_ms());
	r = store_step_done(store, stmt);
	return r < 0 ? r : sqlite3_changes(store->db);
}

int store_event_counts(struct store *store, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_COUNTS);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int r;

	while ((r = store_step_row(store, stmt)) > 0) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "scenario", (const char *)sqlite3_column_text(stmt, 0));
		cJSON_AddNumberToObject(o, "count", (double)sqlite3_column_int64(stmt, 1));
		cJSON_AddItemToArray(list, o);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

int store_event_queued(struct store *store, const char *scenario, const char *module_id,
		       int64_t cap, int64_t *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_QUEUED);
	int r;

	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	sqlite3_bind_int64(stmt, 3, cap);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	*ret = r > 0 ? sqlite3_column_int64(stmt, 0) : 0;
	return 0;
}

int store_event_adopt(struct store *store, int64_t execution_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_ADOPT);
	int64_t now = time_now_ms();

	sqlite3_bind_int64(stmt, 1, execution_id);
	store_bind_text(stmt, 2, store->owner);
	sqlite3_bind_int64(stmt, 3, now + EVENT_LEASE_MS);
	sqlite3_bind_int64(stmt, 4, now);
	return store_step_done(store, stmt);
}

int store_event_execution(struct store *store, int64_t id, int64_t *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EVENT_EXECUTION);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret = sqlite3_column_int64(stmt, 0);
	return 0;
}
