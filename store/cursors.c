/* SPDX-License-Identifier: MIT */
/*
 * Trigger cursors: the opaque position a polling trigger has reached (the
 * newest job id seen, a timestamp), one per scenario and trigger module. The
 * engine writes it inside the transaction that records the bundles it
 * produced (store_begin … store_commit), so nothing is seen twice or lost.
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>

#include "store/internal.h"
#include "util/timeutil.h"

/* A cursor is a position, not data; anything longer is a module bug. */
#define CURSOR_MAX_BYTES (64 * 1024)

int store_cursor_get(struct store *store, const char *scenario, const char *module_id, char **ret)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_CURSOR_GET);
	int r;

	if (!scenario || !module_id)
		return -EINVAL;
	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	r = store_step_row(store, stmt);
	if (r < 0)
		return r;
	*ret = r > 0 ? store_column_strdup(stmt, 0) : NULL;
	return 0;
}

/* A NULL cursor forgets the position, so the trigger starts over. */
int store_cursor_set(struct store *store, const char *scenario, const char *module_id,
		     const char *cursor)
{
	_cleanup_reset_ sqlite3_stmt *stmt = NULL;

	if (!scenario || !module_id)
		return -EINVAL;
	if (cursor && strlen(cursor) > CURSOR_MAX_BYTES)
		return -E2BIG;
	stmt = store_stmt(store, cursor ? STMT_CURSOR_SET : STMT_CURSOR_DELETE);
	store_bind_text(stmt, 1, scenario);
	store_bind_text(stmt, 2, module_id);
	if (cursor) {
		store_bind_text(stmt, 3, cursor);
		sqlite3_bind_int64(stmt, 4, time_now_ms());
	}
	return store_step_done(store, stmt);
}
