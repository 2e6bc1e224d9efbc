/* SPDX-License-Identifier: MIT */
/*
 * The state the store keeps per scenario name: whether it is enabled (and
 * why not), how many runs in a row ended in a counted error, and when it last
 * ran. The scheduler reads it to decide whether a scenario may start; the
 * executor records each run's outcome, which deactivates a scenario after
 * max_consecutive_errors (scenario-format.md "Settings"); the decision itself
 * is the engine's, the store only counts.
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>

#include "store/internal.h"
#include "util/json.h"
#include "util/timeutil.h"

int store_scenario_ensure(struct store *store, const char *name)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCENARIO_ENSURE);

	if (!name)
		return -EINVAL;
	store_bind_text(stmt, 1, name);
	sqlite3_bind_int64(stmt, 2, time_now_ms());
	return store_step_done(store, stmt);
}

int store_scenario_get(struct store *store, const char *name, struct store_scenario_state *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCENARIO_GET);
	int r;

	if (!name)
		return -EINVAL;
	store_bind_text(stmt, 1, name);
	r = store_step_row(store, stmt);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	*ret = (struct store_scenario_state){
		.enabled = sqlite3_column_int(stmt, 0) != 0,
		.consecutive_errors = sqlite3_column_int(stmt, 1),
		.last_run_at = sqlite3_column_int64(stmt, 2),
		.disabled_reason = store_column_strdup(stmt, 3),
	};
	return 0;
}

void store_scenario_state_done(struct store_scenario_state *state)
{
	if (!state)
		return;
	free(state->disabled_reason);
	state->disabled_reason = NULL;
}

int store_scenario_set_enabled(struct store *store, const char *name, bool enabled,
			       const char *reason)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCENARIO_SET_ENABLED);

	if (!name)
		return -EINVAL;
	store_bind_text(stmt, 1, name);
	sqlite3_bind_int(stmt, 2, enabled);
	store_bind_text(stmt, 3, reason);
	sqlite3_bind_int64(stmt, 4, time_now_ms());
	return store_step_done(store, stmt);
}

int store_scenario_record_outcome(struct store *store, const char *name, bool success,
				  bool counts_as_error)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCENARIO_RECORD_OUTCOME);
	int count, r;

	if (!name)
		return -EINVAL;
	store_bind_text(stmt, 1, name);
	sqlite3_bind_int(stmt, 2, success);
	sqlite3_bind_int(stmt, 3, counts_as_error);
	sqlite3_bind_int64(stmt, 4, time_now_ms());
	r = store_step_row(store, stmt);
	if (r <= 0)
		return r < 0 ? r : -EIO;
	count = sqlite3_column_int(stmt, 0);
	/* A RETURNING statement writes on its first step and commits when it
	 * runs to completion. */
	r = store_step_done(store, stmt);
	return r < 0 ? r : count;
}

static cJSON *scenario_row_to_json(sqlite3_stmt *stmt)
{
	cJSON *item = cJSON_CreateObject();

	cJSON_AddStringToObject(item, "name", (const char *)sqlite3_column_text(stmt, 0));
	cJSON_AddBoolToObject(item, "enabled", sqlite3_column_int(stmt, 1) != 0);
	cJSON_AddNumberToObject(item, "consecutive_errors", sqlite3_column_int(stmt, 2));
	if (sqlite3_column_type(stmt, 3) == SQLITE_NULL)
		cJSON_AddNullToObject(item, "disabled_reason");
	else
		cJSON_AddStringToObject(item, "disabled_reason",
					(const char *)sqlite3_column_text(stmt, 3));
	cJSON_AddItemToObject(item, "last_run_at", store_column_time(stmt, 4));
	return item;
}

int store_scenario_list(struct store *store, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SCENARIO_LIST);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int r;

	while ((r = store_step_row(store, stmt)) > 0)
		cJSON_AddItemToArray(list, scenario_row_to_json(stmt));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}
