/* SPDX-License-Identifier: MIT */
/*
 * Webhooks the daemon registered at CloudConvert for its New Job Event
 * triggers: where they deliver, which events, CloudConvert's id and how
 * the registration stands. The signing secret CloudConvert returns is kept
 * out of here on purpose (a store is backed up and copied; a secret must
 * not travel with it): the daemon keeps it in a file of its own.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>

#include "store/internal.h"
#include "util/json.h"

int store_webhook_get(struct store *store, const char *scenario, const char *module_id,
		      struct store_webhook *ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_WEBHOOK_GET);
	int r;

	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret = (struct store_webhook){
		.connection = store_column_strdup(stmt, 0),
		.url = store_column_strdup(stmt, 1),
		.events = store_column_json(stmt, 2),
		.remote_id = store_column_strdup(stmt, 3),
		.status = store_column_strdup(stmt, 4),
		.error = store_column_strdup(stmt, 5),
		.updated_at = sqlite3_column_int64(stmt, 6),
	};
	return 0;
}

void store_webhook_done(struct store_webhook *w)
{
	free(w->connection);
	free(w->url);
	cJSON_Delete(w->events);
	free(w->remote_id);
	free(w->status);
	free(w->error);
	*w = (struct store_webhook){ 0 };
}

int store_webhook_set(struct store *store, const char *scenario, const char *module_id,
		      const struct store_webhook *w)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_WEBHOOK_SET);

	if (!w->connection || !w->url || !w->events || !w->status)
		return -EINVAL;
	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	store_bind_text(stmt, 3, w->connection);
	store_bind_text(stmt, 4, w->url);
	store_bind_json(stmt, 5, w->events);
	store_bind_text(stmt, 6, w->remote_id);
	store_bind_text(stmt, 7, w->status);
	store_bind_text(stmt, 8, w->error);
	sqlite3_bind_int64(stmt, 9, w->updated_at);
	return store_step_done(store, stmt);
}

int store_webhook_delete(struct store *store, const char *scenario, const char *module_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_WEBHOOK_DELETE);

	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	return store_step_done(store, stmt);
}

int store_webhook_list(struct store *store, cJSON **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_WEBHOOK_LIST);
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	int r;

	while ((r = store_step_row(store, stmt)) > 0) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "scenario", (const char *)sqlite3_column_text(stmt, 0));
		cJSON_AddStringToObject(o, "module_id", (const char *)sqlite3_column_text(stmt, 1));
		cJSON_AddStringToObject(o, "connection",
					(const char *)sqlite3_column_text(stmt, 2));
		cJSON_AddStringToObject(o, "url", (const char *)sqlite3_column_text(stmt, 3));
		cJSON_AddItemToObject(o, "events", store_column_json(stmt, 4));
		if (sqlite3_column_type(stmt, 5) == SQLITE_NULL)
			cJSON_AddNullToObject(o, "remote_id");
		else
			cJSON_AddStringToObject(o, "remote_id",
						(const char *)sqlite3_column_text(stmt, 5));
		cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(stmt, 6));
		if (sqlite3_column_type(stmt, 7) == SQLITE_NULL)
			cJSON_AddNullToObject(o, "error");
		else
			cJSON_AddStringToObject(o, "error",
						(const char *)sqlite3_column_text(stmt, 7));
		cJSON_AddItemToObject(o, "updated_at", store_column_time(stmt, 8));
		cJSON_AddItemToArray(list, o);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}
