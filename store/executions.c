/* SPDX-License-Identifier: MIT */
/*
 * Executions: one row per run of a scenario, with its status, counters and
 * error, and the lease that says which process runs it. A running execution
 * is owned by the process that created or claimed it until lease_until; the
 * owner renews the lease while it works. When a process dies its leases run
 * out, and the next process to look (the daemon at start, or scenarioctl)
 * lists those executions as abandoned and may claim them. The lease check
 * and takeover are a single UPDATE, so two processes never both own one.
 *
 * The listings are JSON because that is what scenarioctl prints and the
 * control socket sends; times become ISO 8601 text here.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"
#include "util/json.h"
#include "util/timeutil.h"

/* Bounds what one listing may hold, whatever a caller asks for. */
#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 10000

static bool status_is_final(const char *status)
{
	static const char *const finals[] = { "success", "warning", "error", "incomplete" };

	for (size_t i = 0; status && i < ELEMENTSOF(finals); i++)
		if (streq(status, finals[i]))
			return true;
	return false;
}

int store_execution_create(struct store *store, const char *scenario, const char *trigger,
			   int64_t resumes, int64_t *ret_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_CREATE);
	int64_t now = time_now_ms();
	int r;

	if (!scenario || !trigger || resumes < 0)
		return -EINVAL;
	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, trigger);
	if (resumes > 0)
		sqlite3_bind_int64(stmt, 3, resumes);
	store_bind_text(stmt, 4, store->owner);
	sqlite3_bind_int64(stmt, 5, now + STORE_LEASE_MS);
	sqlite3_bind_int64(stmt, 6, now);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(store->db);
	return 0;
}

int store_execution_renew(struct store *store, int64_t id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_RENEW);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	sqlite3_bind_int64(stmt, 3, time_now_ms() + STORE_LEASE_MS);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

int store_execution_finish(struct store *store, int64_t id, const char *status,
			   const struct store_counters *counters, const cJSON *error)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_FINISH);
	const struct store_counters zero = { 0 };
	int r;

	if (!status_is_final(status))
		return -EINVAL;
	if (!counters)
		counters = &zero;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	store_bind_text(stmt, 3, status);
	sqlite3_bind_int64(stmt, 4, time_now_ms());
	sqlite3_bind_int64(stmt, 5, counters->operations);
	sqlite3_bind_int64(stmt, 6, counters->bytes);
	sqlite3_bind_int64(stmt, 7, counters->duration_ms);
	sqlite3_bind_int64(stmt, 8, counters->bundles);
	store_bind_json(stmt, 9, cJSON_IsNull(error) ? NULL : error);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	/* Not ours (any more), already finished, or no such execution. */
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

int store_execution_list_abandoned(struct store *store, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_LIST_ABANDONED);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int r;

	sqlite3_bind_int64(stmt, 1, time_now_ms());
	while ((r = store_step_row(store, stmt)) > 0) {
		cJSON *item = cJSON_CreateObject();

		cJSON_AddNumberToObject(item, "id", (double)sqlite3_column_int64(stmt, 0));
		cJSON_AddStringToObject(item, "scenario",
					(const char *)sqlite3_column_text(stmt, 1));
		cJSON_AddItemToObject(item, "started_at", store_column_time(stmt, 2));
		cJSON_AddItemToArray(list, item);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

/* Why a claim changed nothing: the execution is missing or finished
 * (-ENOENT), or a live process holds it (-EBUSY). */
static int claim_failure(struct store *store, int64_t id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_STATUS);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0 || !streq((const char *)sqlite3_column_text(stmt, 0), "running"))
		return -ENOENT;
	return -EBUSY;
}

int store_execution_claim(struct store *store, int64_t id)
{
	int64_t now = time_now_ms();
	int r;

	{
		_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_CLAIM);

		sqlite3_bind_int64(stmt, 1, id);
		store_bind_text(stmt, 2, store->owner);
		sqlite3_bind_int64(stmt, 3, now + STORE_LEASE_MS);
		sqlite3_bind_int64(stmt, 4, now);
		r = store_step_done(store, stmt);
	}
	if (r < 0)
		return r;
	if (sqlite3_changes(store->db) > 0)
		return 0;
	return claim_failure(store, id);
}

/* The columns shared by the listing and the single execution, in the order
 * of EXECUTION_COLUMNS in statements.c. */
static cJSON *execution_row_to_json(sqlite3_stmt *stmt)
{
	cJSON *item = cJSON_CreateObject();

	cJSON_AddNumberToObject(item, "id", (double)sqlite3_column_int64(stmt, 0));
	cJSON_AddStringToObject(item, "scenario", (const char *)sqlite3_column_text(stmt, 1));
	cJSON_AddStringToObject(item, "status", (const char *)sqlite3_column_text(stmt, 2));
	cJSON_AddStringToObject(item, "trigger", (const char *)sqlite3_column_text(stmt, 3));
	cJSON_AddItemToObject(item, "started_at", store_column_time(stmt, 4));
	cJSON_AddItemToObject(item, "finished_at", store_column_time(stmt, 5));
	cJSON_AddNumberToObject(item, "operations", (double)sqlite3_column_int64(stmt, 6));
	cJSON_AddNumberToObject(item, "bytes", (double)sqlite3_column_int64(stmt, 7));
	cJSON_AddNumberToObject(item, "duration_ms", (double)sqlite3_column_int64(stmt, 8));
	cJSON_AddItemToObject(item, "error", store_column_json(stmt, 9));
	cJSON_AddBoolToObject(item, "abandoned", sqlite3_column_int(stmt, 10) != 0);
	return item;
}

static enum store_stmt list_statement(const struct store_execution_filter *filter)
{
	if (filter && filter->scenario && filter->status)
		return STMT_EXECUTION_LIST_BOTH;
	if (filter && filter->scenario)
		return STMT_EXECUTION_LIST_SCENARIO;
	if (filter && filter->status)
		return STMT_EXECUTION_LIST_STATUS;
	return STMT_EXECUTION_LIST;
}

int store_execution_list(struct store *store, const struct store_execution_filter *filter,
			 cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, list_statement(filter));
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int limit = filter && filter->limit > 0 ? filter->limit : LIST_LIMIT_DEFAULT;
	int r;

	if (limit > LIST_LIMIT_MAX)
		limit = LIST_LIMIT_MAX;
	sqlite3_bind_int64(stmt, 1, time_now_ms());
	sqlite3_bind_int(stmt, 2, limit);
	if (filter) {
		/* Binding an index the statement lacks is harmless (SQLITE_RANGE). */
		store_bind_text(stmt, 3, filter->scenario);
		store_bind_text(stmt, 4, filter->status);
	}
	while ((r = store_step_row(store, stmt)) > 0)
		cJSON_AddItemToArray(list, execution_row_to_json(stmt));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

static cJSON *operation_row_to_json(sqlite3_stmt *stmt)
{
	cJSON *item = cJSON_CreateObject();

	cJSON_AddNumberToObject(item, "seq", (double)sqlite3_column_int64(stmt, 0));
	cJSON_AddStringToObject(item, "module_id", (const char *)sqlite3_column_text(stmt, 1));
	cJSON_AddStringToObject(item, "module", (const char *)sqlite3_column_text(stmt, 2));
	cJSON_AddNumberToObject(item, "bundle", (double)sqlite3_column_int64(stmt, 3));
	cJSON_AddStringToObject(item, "status", (const char *)sqlite3_column_text(stmt, 4));
	cJSON_AddItemToObject(item, "input", store_column_json(stmt, 5));
	cJSON_AddItemToObject(item, "output", store_column_json(stmt, 6));
	cJSON_AddItemToObject(item, "error", store_column_json(stmt, 7));
	cJSON_AddItemToObject(item, "started_at", store_column_time(stmt, 8));
	if (sqlite3_column_type(stmt, 9) == SQLITE_NULL)
		cJSON_AddNullToObject(item, "duration_ms");
	else
		cJSON_AddNumberToObject(item, "duration_ms", (double)sqlite3_column_int64(stmt, 9));
	return item;
}

static int add_operations(struct store *store, int64_t id, cJSON *execution)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_OPERATION_LIST);
	cJSON *list = cJSON_AddArrayToObject(execution, "operations_list");
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	while ((r = store_step_row(store, stmt)) > 0)
		cJSON_AddItemToArray(list, operation_row_to_json(stmt));
	return r;
}

int store_execution_get(struct store *store, int64_t id, cJSON **ret)
{
	_cleanup_json_ cJSON *execution = NULL;
	int r;

	{
		_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_GET);

		sqlite3_bind_int64(stmt, 1, time_now_ms());
		sqlite3_bind_int64(stmt, 2, id);
		r = store_step_row(store, stmt);
		if (r <= 0)
			return r < 0 ? r : -ENOENT;
		execution = execution_row_to_json(stmt);
		if (sqlite3_column_type(stmt, 11) == SQLITE_NULL)
			cJSON_AddNullToObject(execution, "resumes");
		else
			cJSON_AddNumberToObject(execution, "resumes",
						(double)sqlite3_column_int64(stmt, 11));
		cJSON_AddNumberToObject(execution, "bundles",
					(double)sqlite3_column_int64(stmt, 12));
		if (sqlite3_column_type(stmt, 13) == SQLITE_NULL)
			cJSON_AddNullToObject(execution, "owner");
		else
			cJSON_AddStringToObject(execution, "owner",
						(const char *)sqlite3_column_text(stmt, 13));
	}
	/* Two reads outside a transaction may see different snapshots; an
	 * operation recorded in between only makes the list more current. */
	r = add_operations(store, id, execution);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(execution);
	return 0;
}

int store_execution_set_resume(struct store *store, int64_t execution_id, int64_t incomplete_id,
			       const cJSON *state)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_SET_RESUME);

	sqlite3_bind_int64(stmt, 1, execution_id);
	sqlite3_bind_int64(stmt, 2, incomplete_id);
	store_bind_json(stmt, 3, state);
	return store_step_done(store, stmt);
}

int store_execution_last(struct store *store, const char *scenario, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_LAST);
	cJSON *o;
	char id[32];
	int r;

	store_bind_text(stmt, 1, scenario);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0) {
		*ret = NULL;
		return 0;
	}
	o = cJSON_CreateObject();
	snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(stmt, 0));
	cJSON_AddStringToObject(o, "execution_id", id);
	cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(stmt, 1));
	cJSON_AddStringToObject(o, "trigger", (const char *)sqlite3_column_text(stmt, 2));
	cJSON_AddItemToObject(o, "started_at", store_column_time(stmt, 3));
	cJSON_AddItemToObject(o, "finished_at", store_column_time(stmt, 4));
	*ret = o;
	return 0;
}
