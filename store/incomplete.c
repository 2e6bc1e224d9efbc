/* SPDX-License-Identifier: MIT */
/*
 * Incomplete executions and the scenario snapshots they hold. A record is
 * one failing bundle with everything needed to finish it later; the state
 * itself is the executor's (opaque JSON here). Claims work as for
 * executions: one UPDATE checks and takes, so the daemon and a scenarioctl
 * never resume the same record twice, and a record whose resumer died can
 * be taken again once its lease has run out.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "store/internal.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 10000

static char *sha256_hex(const char *text)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *hex = xmalloc(65);

	EVP_Digest(text, strlen(text), digest, &len, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

int store_snapshot_put(struct store *store, const char *source, char **ret_sha256)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SNAPSHOT_PUT);
	_cleanup_free_ char *sha = NULL;
	int r;

	if (!source)
		return -EINVAL;
	sha = sha256_hex(source);
	store_bind_text(stmt, 1, sha);
	store_bind_text(stmt, 2, source);
	sqlite3_bind_int64(stmt, 3, time_now_ms());
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	*ret_sha256 = TAKE_PTR(sha);
	return 0;
}

int store_snapshot_get(struct store *store, const char *sha256, char **ret_source)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_SNAPSHOT_GET);
	int r;

	store_bind_text(stmt, 1, sha256);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret_source = store_column_strdup(stmt, 0);
	return 0;
}

int store_execution_set_snapshot(struct store *store, int64_t execution_id, const char *sha256,
				 const char *path, int64_t now_ms)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_SET_SNAPSHOT);

	sqlite3_bind_int64(stmt, 1, execution_id);
	store_bind_text(stmt, 2, sha256);
	store_bind_text(stmt, 3, path);
	sqlite3_bind_int64(stmt, 4, now_ms);
	return store_step_done(store, stmt);
}

int store_execution_get_origin(struct store *store, int64_t execution_id,
			       struct store_execution_origin *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_EXECUTION_GET_SNAPSHOT);
	_cleanup_free_ char *sha = NULL;
	struct store_execution_origin origin = { 0 };
	int r;

	sqlite3_bind_int64(stmt, 1, execution_id);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	sha = store_column_strdup(stmt, 0);
	origin.path = store_column_strdup(stmt, 1);
	origin.now_ms = sqlite3_column_int64(stmt, 2);
	origin.scenario = store_column_strdup(stmt, 3);
	origin.incomplete_id = sqlite3_column_int64(stmt, 4);
	if (sqlite3_column_type(stmt, 5) != SQLITE_NULL)
		origin.resume_state = store_column_json(stmt, 5);
	origin.owner = store_column_strdup(stmt, 6);
	if (sha) {
		r = store_snapshot_get(store, sha, &origin.snapshot);
		if (r < 0 && r != -ENOENT) {
			store_execution_origin_done(&origin);
			return r;
		}
	}
	*ret = origin;
	return 0;
}

void store_execution_origin_done(struct store_execution_origin *origin)
{
	free(origin->snapshot);
	free(origin->path);
	free(origin->scenario);
	free(origin->owner);
	cJSON_Delete(origin->resume_state);
	*origin = (struct store_execution_origin){ 0 };
}

int store_incomplete_insert(struct store *store, const struct store_incomplete *rec,
			    int64_t *ret_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_INSERT);
	_cleanup_free_ char *state = NULL;
	int64_t now = time_now_ms();
	int r;

	if (!rec->scenario || !rec->module_id || !rec->error || !rec->snapshot || !rec->state ||
	    !rec->status)
		return -EINVAL;
	state = json_print(rec->state);
	if (strlen(state) > STORE_INCOMPLETE_MAX_STATE)
		return -E2BIG;
	store_bind_text(stmt, 1, rec->scenario);
	sqlite3_bind_int64(stmt, 2, rec->execution_id);
	sqlite3_bind_int64(stmt, 3,
			   rec->origin_execution_id ? rec->origin_execution_id : rec->execution_id);
	store_bind_text(stmt, 4, rec->status);
	store_bind_text(stmt, 5, rec->module_id);
	store_bind_json(stmt, 6, rec->error);
	store_bind_text(stmt, 7, rec->snapshot);
	store_bind_text(stmt, 8, rec->scenario_path);
	store_bind_text(stmt, 9, state);
	sqlite3_bind_int(stmt, 10, rec->max_attempts);
	if (rec->retry_interval_ms > 0)
		sqlite3_bind_int64(stmt, 11, rec->retry_interval_ms);
	if (rec->next_attempt_at > 0)
		sqlite3_bind_int64(stmt, 12, rec->next_attempt_at);
	sqlite3_bind_int64(stmt, 13, now);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(store->db);
	return 0;
}

/* The columns both list and get start with, in this order. */
static cJSON *row_to_json(sqlite3_stmt *stmt)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(stmt, 0));
	cJSON_AddStringToObject(o, "scenario", (const char *)sqlite3_column_text(stmt, 1));
	cJSON_AddNumberToObject(o, "execution_id", (double)sqlite3_column_int64(stmt, 2));
	cJSON_AddNumberToObject(o, "origin_execution_id", (double)sqlite3_column_int64(stmt, 3));
	cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(stmt, 4));
	cJSON_AddStringToObject(o, "module_id", (const char *)sqlite3_column_text(stmt, 5));
	cJSON_AddItemToObject(o, "error", store_column_json(stmt, 6));
	cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(stmt, 7));
	cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(stmt, 8));
	cJSON_AddNumberToObject(o, "max_attempts", sqlite3_column_int(stmt, 9));
	cJSON_AddItemToObject(o, "next_attempt_at", store_column_time(stmt, 10));
	cJSON_AddItemToObject(o, "created_at", store_column_time(stmt, 11));
	cJSON_AddItemToObject(o, "updated_at", store_column_time(stmt, 12));
	if (sqlite3_column_type(stmt, 13) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "resolved_by");
	else
		cJSON_AddNumberToObject(o, "resolved_by", (double)sqlite3_column_int64(stmt, 13));
	return o;
}

int store_incomplete_list(struct store *store, const struct store_incomplete_filter *filter,
			  cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_LIST);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int limit = filter && filter->limit > 0 ? filter->limit : LIST_LIMIT_DEFAULT;
	int r;

	if (limit > LIST_LIMIT_MAX)
		limit = LIST_LIMIT_MAX;
	store_bind_text(stmt, 1, filter ? filter->scenario : NULL);
	store_bind_text(stmt, 2, filter ? filter->status : NULL);
	sqlite3_bind_int(stmt, 3, filter && filter->all);
	sqlite3_bind_int(stmt, 4, limit);
	sqlite3_bind_int64(stmt, 5, time_now_ms());
	while ((r = store_step_row(store, stmt)) > 0)
		cJSON_AddItemToArray(list, row_to_json(stmt));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

int store_incomplete_get(struct store *store, int64_t id, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_GET);
	cJSON *o;
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, time_now_ms());
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	o = row_to_json(stmt);
	cJSON_AddItemToObject(o, "state", store_column_json(stmt, 14));
	cJSON_AddStringToObject(o, "source", (const char *)sqlite3_column_text(stmt, 15));
	if (sqlite3_column_type(stmt, 16) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "scenario_path");
	else
		cJSON_AddStringToObject(o, "scenario_path",
					(const char *)sqlite3_column_text(stmt, 16));
	cJSON_AddNumberToObject(o, "retry_interval_ms", (double)sqlite3_column_int64(stmt, 17));
	if (sqlite3_column_type(stmt, 18) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "owner");
	else
		cJSON_AddStringToObject(o, "owner", (const char *)sqlite3_column_text(stmt, 18));
	*ret = o;
	return 0;
}

/* Why a claim, resolve or delete changed nothing. */
static int change_failure(struct store *store, int64_t id)
{
	_cleanup_json_ cJSON *record = NULL;
	const char *status;
	int r = store_incomplete_get(store, id, &record);

	if (r < 0)
		return r;
	status = json_get_string(record, "status");
	if (status && streq(status, "resolved"))
		return -EALREADY;
	return -EBUSY;
}

int store_incomplete_claim(struct store *store, int64_t id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_CLAIM);
	int64_t now = time_now_ms();
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	sqlite3_bind_int64(stmt, 3, now + STORE_LEASE_MS);
	sqlite3_bind_int64(stmt, 4, now);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : change_failure(store, id);
}

int store_incomplete_release(struct store *store, int64_t id, const char *status,
			     const cJSON *error, int64_t next_attempt_at, int64_t resolved_by,
			     bool attempted)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_RELEASE);
	int r;

	if (!status || streq(status, "in_progress"))
		return -EINVAL;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	store_bind_text(stmt, 3, status);
	store_bind_json(stmt, 4, error);
	if (next_attempt_at > 0)
		sqlite3_bind_int64(stmt, 5, next_attempt_at);
	if (resolved_by > 0)
		sqlite3_bind_int64(stmt, 6, resolved_by);
	sqlite3_bind_int(stmt, 7, attempted ? 1 : 0);
	sqlite3_bind_int64(stmt, 8, time_now_ms());
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

int store_incomplete_replace(struct store *store, int64_t id, const struct store_incomplete *rec)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_REPLACE);
	_cleanup_free_ char *state = NULL;
	int r;

	if (!rec->module_id || !rec->error || !rec->state || !rec->status)
		return -EINVAL;
	state = json_print(rec->state);
	if (strlen(state) > STORE_INCOMPLETE_MAX_STATE)
		return -E2BIG;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	store_bind_text(stmt, 3, rec->status);
	store_bind_text(stmt, 4, rec->module_id);
	store_bind_json(stmt, 5, rec->error);
	store_bind_text(stmt, 6, state);
	if (rec->next_attempt_at > 0)
		sqlite3_bind_int64(stmt, 7, rec->next_attempt_at);
	sqlite3_bind_int64(stmt, 8, rec->execution_id);
	sqlite3_bind_int64(stmt, 9, time_now_ms());
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

static int change_unless_in_progress(struct store *store, enum store_stmt which, int64_t id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, which);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, time_now_ms());
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	if (sqlite3_changes(store->db) > 0)
		return 0;
	r = change_failure(store, id);
	return r == -EALREADY ? 0 : r;
}

int store_incomplete_resolve(struct store *store, int64_t id)
{
	return change_unless_in_progress(store, STMT_INCOMPLETE_RESOLVE, id);
}

int store_incomplete_delete(struct store *store, int64_t id)
{
	return change_unless_in_progress(store, STMT_INCOMPLETE_DELETE, id);
}

int store_incomplete_count_open(struct store *store, const char *scenario, int64_t *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_COUNT_OPEN);
	int r;

	store_bind_text(stmt, 1, scenario);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	*ret = r > 0 ? sqlite3_column_int64(stmt, 0) : 0;
	return 0;
}

int store_incomplete_list_due(struct store *store, int64_t now_ms, int limit, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_DUE);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int r;

	if (limit <= 0)
		limit = LIST_LIMIT_DEFAULT;
	if (limit > LIST_LIMIT_MAX)
		limit = LIST_LIMIT_MAX;
	sqlite3_bind_int64(stmt, 1, now_ms);
	sqlite3_bind_int(stmt, 2, limit);
	while ((r = store_step_row(store, stmt)) > 0) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(stmt, 0));
		cJSON_AddStringToObject(o, "scenario", (const char *)sqlite3_column_text(stmt, 1));
		cJSON_AddItemToArray(list, o);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

int store_incomplete_next_due(struct store *store, int64_t *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_NEXT_DUE);
	int r;

	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	*ret = r > 0 ? sqlite3_column_int64(stmt, 0) : 0;
	return 0;
}

int store_incomplete_counts(struct store *store, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_COUNTS);
	_cleanup_json_ cJSON *counts = cJSON_CreateArray();
	cJSON *per = NULL;
	int r;

	sqlite3_bind_int64(stmt, 1, time_now_ms());
	while ((r = store_step_row(store, stmt)) > 0) {
		const char *scenario = (const char *)sqlite3_column_text(stmt, 0);
		const char *status = (const char *)sqlite3_column_text(stmt, 1);
		cJSON *n;

		/* Rows come ordered by scenario: one object per run of them. */
		if (!per || !streq(json_get_string(per, "scenario"), scenario)) {
			per = cJSON_CreateObject();
			cJSON_AddStringToObject(per, "scenario", scenario);
			cJSON_AddNumberToObject(per, "pending", 0);
			cJSON_AddNumberToObject(per, "in_progress", 0);
			cJSON_AddNumberToObject(per, "unresolved", 0);
			cJSON_AddItemToArray(counts, per);
		}
		n = cJSON_GetObjectItemCaseSensitive(per, status);
		if (n)
			cJSON_SetNumberValue(n, n->valuedouble +
							(double)sqlite3_column_int64(stmt, 2));
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(counts);
	return 0;
}

int store_incomplete_list_abandoned(struct store *store, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_LIST_ABANDONED);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int r;

	sqlite3_bind_int64(stmt, 1, time_now_ms());
	while ((r = store_step_row(store, stmt)) > 0) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(stmt, 0));
		if (sqlite3_column_type(stmt, 1) == SQLITE_NULL)
			cJSON_AddNullToObject(o, "owner");
		else
			cJSON_AddStringToObject(o, "owner",
						(const char *)sqlite3_column_text(stmt, 1));
		cJSON_AddItemToArray(list, o);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

int store_incomplete_requeue(struct store *store, int64_t id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_REQUEUE);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, time_now_ms());
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

int store_incomplete_renew(struct store *store, int64_t id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INCOMPLETE_RENEW);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, store->owner);
	sqlite3_bind_int64(stmt, 3, time_now_ms() + STORE_LEASE_MS);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}
