/* SPDX-License-Identifier: MIT */
/*
 * Operations: one row per module run on one bundle, in the order they ran
 * (seq within the execution) and numbered per module (bundle). The input is
 * committed before the module runs, so after a crash the record shows what
 * the module was about to do; the outcome and output bundles follow when it
 * returns, together with the blob rows of any file it produced, in one
 * transaction. Confidential scenarios pass NULL for input and outputs and
 * only statuses are kept.
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>

#include "store/internal.h"
#include "util/timeutil.h"

static bool status_is_outcome(const char *status)
{
	return status &&
	       (streq(status, "success") || streq(status, "warning") || streq(status, "error"));
}

int store_operation_begin(struct store *store, int64_t execution_id, const char *module_id,
			  const char *module_name, const cJSON *input, int64_t *ret_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_OPERATION_BEGIN);
	int r;

	if (!module_id || !module_name)
		return -EINVAL;
	sqlite3_bind_int64(stmt, 1, execution_id);
	store_bind_text(stmt, 2, module_id);
	store_bind_text(stmt, 3, module_name);
	store_bind_json(stmt, 4, input);
	sqlite3_bind_int64(stmt, 5, time_now_ms());
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(store->db);
	return 0;
}

/* Writes the outcome; *ret_execution_id tells whose blobs the outputs are. */
static int update_operation(struct store *store, int64_t operation_id, const char *status,
			    const cJSON *outputs, const cJSON *error, int64_t *ret_execution_id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_OPERATION_FINISH);
	int64_t execution_id;
	int r;

	sqlite3_bind_int64(stmt, 1, operation_id);
	store_bind_text(stmt, 2, status);
	store_bind_json(stmt, 3, outputs);
	store_bind_json(stmt, 4, cJSON_IsNull(error) ? NULL : error);
	sqlite3_bind_int64(stmt, 5, time_now_ms());
	r = store_step_row(store, stmt);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	execution_id = sqlite3_column_int64(stmt, 0);
	r = store_step_done(store, stmt);
	if (r < 0)
		return r;
	*ret_execution_id = execution_id;
	return 0;
}

int store_operation_finish(struct store *store, int64_t operation_id, const char *status,
			   const cJSON *outputs, const cJSON *error)
{
	int64_t execution_id;
	int r;

	if (!status_is_outcome(status))
		return -EINVAL;
	r = store_txn_enter(store);
	if (r < 0)
		return r;
	r = update_operation(store, operation_id, status, outputs, error, &execution_id);
	if (r >= 0 && outputs)
		r = store_blobs_link(store, execution_id, outputs);
	return store_txn_leave(store, r);
}
