/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's memory: for each scenario with a schedule, the slot it
 * will run next and the last slot it started, with the key of the schedule
 * those times belong to. The daemon writes the next slot before it starts a
 * run, so after a restart (or a crash) it knows which slots were missed
 * while it was down and runs them once, and a schedule whose key changed
 * (the file was edited) starts over from the new schedule.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>

#include "store/internal.h"
#include "util/timeutil.h"

int store_schedule_get(struct store *store, const char *scenario, struct store_schedule *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCHEDULE_GET);
	int r;

	store_bind_text(stmt, 1, scenario);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret = (struct store_schedule){
		.key = store_column_strdup(stmt, 0),
		.next_run_at = sqlite3_column_int64(stmt, 1),
		.last_run_at = sqlite3_column_int64(stmt, 2),
	};
	return 0;
}

void store_schedule_done(struct store_schedule *schedule)
{
	free(schedule->key);
	*schedule = (struct store_schedule){ 0 };
}

int store_schedule_set(struct store *store, const char *scenario, const char *key,
		       int64_t next_run_at, int64_t last_run_at)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCHEDULE_SET);

	if (!scenario || !key)
		return -EINVAL;
	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, key);
	if (next_run_at > 0)
		sqlite3_bind_int64(stmt, 3, next_run_at);
	if (last_run_at > 0)
		sqlite3_bind_int64(stmt, 4, last_run_at);
	sqlite3_bind_int64(stmt, 5, time_now_ms());
	return store_step_done(store, stmt);
}

int store_schedule_delete(struct store *store, const char *scenario)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCHEDULE_DELETE);

	store_bind_text(stmt, 1, scenario);
	return store_step_done(store, stmt);
}
