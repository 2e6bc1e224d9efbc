/* SPDX-License-Identifier: MIT */
/*
 * Sequential holds: the queue that makes a `sequential` scenario run one run
 * at a time, in the order the runs asked, across every process sharing the
 * store (the daemon, any number of scenarioctl). A run inserts a hold and
 * may start once no live hold of its scenario has a smaller id. Liveness is
 * the same lease as for executions: the owner renews it while it waits and
 * runs, and a hold whose process died (owner_alive(), or its lease ran out)
 * no longer counts, so a killed process never blocks the scenario.
 *
 * Waiting is a question the waiter asks again (store_hold_check), because
 * SQLite has no way to wake another process; the daemon asks again as soon
 * as one of its own runs of the scenario ends.
 */
#include "store/store.h"

#include <errno.h>

#include "store/internal.h"
#include "util/timeutil.h"

int store_hold_enqueue(struct store *store, const char *scenario, int64_t *ret_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_HOLD_INSERT);
	int64_t now = time_now_ms();
	int r;

	if (!scenario)
		return -EINVAL;
	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, store->owner);
	sqlite3_bind_int64(stmt, 3, now + STORE_LEASE_MS);
	sqlite3_bind_int64(stmt, 4, now);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	*ret_id = sqlite3_last_insert_rowid(store->db);
	return 0;
}

static int renew(struct store *store, int64_t id, int64_t now)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_HOLD_RENEW);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	sqlite3_bind_int64(stmt, 3, now + STORE_LEASE_MS);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

int store_hold_check(struct store *store, int64_t id, int64_t *ret_ahead)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_HOLD_AHEAD);
	int64_t now = time_now_ms(), ahead;
	int r;

	r = renew(store, id, now);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	ahead = r > 0 ? sqlite3_column_int64(stmt, 0) : 0;
	if (ret_ahead)
		*ret_ahead = ahead;
	return ahead > 0 ? -EBUSY : 0;
}

int store_hold_release(struct store *store, int64_t id, const char *scenario)
{
	int r;

	{
		_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_HOLD_DELETE);

		sqlite3_bind_int64(stmt, 1, id);
		store_bind_text(stmt, 2, store->owner);
		r = store_step_done(store, stmt);
	}
	if (r < 0 || !scenario)
		return r;
	/* Dead holds would otherwise stay in the table for ever. */
	_cleanup_reset_ sqlite3_stmt *purge = store_stmt(store, STMT_HOLD_PURGE);

	store_bind_text(purge, 1, scenario);
	sqlite3_bind_int64(purge, 2, time_now_ms());
	return store_step_done(store, purge);
}
