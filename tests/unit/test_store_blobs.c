/* SPDX-License-Identifier: MIT */
/*
 * The store's blob folder: streamed writes hashed with SHA-256 and moved
 * into place, deduplication, the size limit enforced while writing, abort,
 * importing a file, the checks that keep a file value inside the blob
 * folder, the media-type guess, and the blob rows recorded when an
 * operation's outputs carry file values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* SHA-256 of the 1,000,000 bytes "a" (FIPS 180-2 test vector). */
#define SHA256_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

struct fixture {
	char *tmp;
	char *state;
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	_cleanup_free_ char *msg = NULL;

	f->tmp = helpers_mkdtemp();
	f->state = xasprintf("%s/state", f->tmp);
	assert_int_equal(store_open(f->state, &f->store, &msg), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->store);
	helpers_rmdir_recursive(f->tmp);
	free(f->tmp);
	free(f->state);
	free(f);
	return 0;
}

/* Files left in blobs/tmp: a failed or aborted writer must leave none. */
static int count_temps(const struct store *store)
{
	_cleanup_free_ char *path = xasprintf("%s/tmp", store_blob_dir(store));
	DIR *dir = opendir(path);
	struct dirent *de;
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static cJSON *write_blob(struct store *store, const char *const *pieces, const char *name)
{
	struct store_blob_writer *writer = NULL;
	cJSON *value = NULL;

	assert_int_equal(store_blob_writer_new(store, 0, &writer), 0);
	for (; *pieces; pieces++)
		assert_int_equal(store_blob_writer_write(writer, *pieces, strlen(*pieces)), 0);
	assert_int_equal(store_blob_writer_commit(writer, name, NULL, &value), 0);
	return value;
}

static void test_writer_hashes_and_moves_into_place(void **state)
{
	struct fixture *f = *state;
	static const char *const pieces[] = { "a", "", "bc", NULL };
	_cleanup_json_ cJSON *value = write_blob(f->store, pieces, "report.pdf");
	_cleanup_free_ char *expected_path =
		xasprintf("%s/ba/%s", store_blob_dir(f->store), SHA256_ABC);
	_cleanup_free_ char *bytes = NULL;
	size_t len = 0;
	struct stat st;

	assert_true(json_is_file_value(value));
	assert_string_equal(json_get_string(value, "name"), "report.pdf");
	assert_int_equal(json_get_int(value, "size", -1), 3);
	assert_string_equal(json_get_string(value, "mime"), "application/pdf");
	assert_string_equal(json_get_string(value, "sha256"), SHA256_ABC);
	assert_string_equal(json_get_string(value, "path"), expected_path);
	bytes = helpers_read_file(expected_path, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(bytes, "abc", 3);
	assert_int_equal(stat(expected_path, &st), 0);
	assert_int_equal(st.st_mode & 0027, 0);
	assert_int_equal(count_temps(f->store), 0);
}

static void test_writer_dedupes_and_handles_empty(void **state)
{
	struct fixture *f = *state;
	static const char *const abc[] = { "abc", NULL };
	static const char *const none[] = { NULL };
	_cleanup_json_ cJSON *first = write_blob(f->store, abc, "one.txt");
	_cleanup_json_ cJSON *second = write_blob(f->store, abc, "two.txt");
	_cleanup_json_ cJSON *empty = write_blob(f->store, none, NULL);
	_cleanup_free_ char *dir = xasprintf("%s/ba", store_blob_dir(f->store));
	struct dirent *de;
	DIR *d;
	int files = 0;

	assert_string_equal(json_get_string(first, "path"), json_get_string(second, "path"));
	assert_string_equal(json_get_string(second, "name"), "two.txt");
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);

	assert_string_equal(json_get_string(empty, "sha256"), SHA256_EMPTY);
	assert_int_equal(json_get_int(empty, "size", -1), 0);
	/* No name given: the hash names it. */
	assert_string_equal(json_get_string(empty, "name"), SHA256_EMPTY);
	assert_string_equal(json_get_string(empty, "mime"), "application/octet-stream");
	assert_int_equal(count_temps(f->store), 0);
}

static void test_writer_enforces_max_size(void **state)
{
	struct fixture *f = *state;
	struct store_blob_writer *writer = NULL;
	cJSON *value = NULL;

	assert_int_equal(store_blob_writer_new(f->store, 4, &writer), 0);
	assert_int_equal(store_blob_writer_write(writer, "abc", 3), 0);
	assert_int_equal(count_temps(f->store), 1);
	assert_int_equal(store_blob_writer_write(writer, "de", 2), -EFBIG);
	/* The partial file is gone at once, and the writer stays failed. */
	assert_int_equal(count_temps(f->store), 0);
	assert_int_equal(store_blob_writer_size(writer), 3);
	assert_int_equal(store_blob_writer_write(writer, "d", 1), -EFBIG);
	assert_int_equal(store_blob_writer_commit(writer, "x", NULL, &value), -EFBIG);
	assert_null(value);

	/* Exactly the limit is allowed. */
	assert_int_equal(store_blob_writer_new(f->store, 4, &writer), 0);
	assert_int_equal(store_blob_writer_write(writer, "abcd", 4), 0);
	assert_int_equal(store_blob_writer_commit(writer, "x", NULL, &value), 0);
	assert_int_equal(json_get_int(value, "size", -1), 4);
	cJSON_Delete(value);

	assert_int_equal(store_blob_writer_new(f->store, -1, &writer), -EINVAL);
}

static void test_writer_abort_removes_temp(void **state)
{
	struct fixture *f = *state;
	struct store_blob_writer *writer = NULL;

	assert_int_equal(store_blob_writer_new(f->store, 0, &writer), 0);
	assert_int_equal(store_blob_writer_write(writer, "partial", 7), 0);
	assert_int_equal(count_temps(f->store), 1);
	store_blob_writer_abort(writer);
	assert_int_equal(count_temps(f->store), 0);
	store_blob_writer_abort(NULL);
}

static void test_open_sweeps_stale_temps(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *stale = xasprintf("%s/tmp/blob-stale", store_blob_dir(f->store));
	_cleanup_free_ char *fresh = xasprintf("%s/tmp/blob-fresh", store_blob_dir(f->store));
	_cleanup_free_ char *msg = NULL;
	/* Two days old: left by a process killed mid-write. */
	struct timespec old[2] = { { .tv_sec = time(NULL) - 2 * 86400 },
				   { .tv_sec = time(NULL) - 2 * 86400 } };

	helpers_write_file(stale, "x", 1);
	helpers_write_file(fresh, "y", 1);
	assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
	f->store = store_close(f->store);
	assert_int_equal(store_open(f->state, &f->store, &msg), 0);
	assert_int_equal(access(stale, F_OK), -1);
	/* A fresh one may belong to a writer in another process. */
	assert_int_equal(access(fresh, F_OK), 0);
}

static void test_import_path(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *path = xasprintf("%s/million.csv", f->tmp);
	_cleanup_free_ char *data = xmalloc(1000000);
	_cleanup_json_ cJSON *value = NULL;
	_cleanup_free_ char *missing = xasprintf("%s/missing", f->tmp);

	/* Larger than the copy buffer, so it arrives in many pieces. */
	memset(data, 'a', 1000000);
	helpers_write_file(path, data, 1000000);
	assert_int_equal(store_blob_import_path(f->store, path, NULL, 0, &value), 0);
	assert_string_equal(json_get_string(value, "sha256"), SHA256_MILLION_A);
	assert_int_equal(json_get_int(value, "size", -1), 1000000);
	assert_string_equal(json_get_string(value, "name"), "million.csv");
	assert_string_equal(json_get_string(value, "mime"), "text/csv");
	cJSON_Delete(value);
	value = NULL;

	assert_int_equal(store_blob_import_path(f->store, path, "renamed.bin", 0, &value), 0);
	assert_string_equal(json_get_string(value, "name"), "renamed.bin");
	cJSON_Delete(value);
	value = NULL;

	assert_int_equal(store_blob_import_path(f->store, path, NULL, 999999, &value), -EFBIG);
	assert_int_equal(store_blob_import_path(f->store, f->tmp, NULL, 0, &value), -EISDIR);
	assert_int_equal(store_blob_import_path(f->store, missing, NULL, 0, &value), -ENOENT);
	assert_null(value);
	assert_int_equal(count_temps(f->store), 0);
}

static void test_resolve_stays_inside_blob_dir(void **state)
{
	struct fixture *f = *state;
	static const char *const abc[] = { "abc", NULL };
	_cleanup_json_ cJSON *value = write_blob(f->store, abc, "a.txt");
	const char *blob_dir = store_blob_dir(f->store);
	_cleanup_free_ char *outside = xasprintf("%s/%s", f->tmp, SHA256_ABC);
	_cleanup_free_ char *dotdot = xasprintf("%s/ba/../../../%s", blob_dir, SHA256_ABC);
	_cleanup_free_ char *link_dir = xasprintf("%s/ee", blob_dir);
	_cleanup_free_ char *link = xasprintf("%s/ee/%s", blob_dir, SHA256_ABC);
	_cleanup_free_ char *temp = xasprintf("%s/tmp/%s", blob_dir, SHA256_ABC);
	static const char *const tricks[] = { "outside", "dotdot", "symlink", "tmp" };
	const char *resolved = NULL;

	assert_int_equal(store_blob_resolve(f->store, value, &resolved), 0);
	assert_ptr_equal(resolved, json_get_string(value, "path"));

	helpers_write_file(outside, "abc", 3);
	helpers_write_file(temp, "abc", 3);
	assert_int_equal(mkdir(link_dir, 0750), 0);
	assert_int_equal(symlink(outside, link), 0);
	for (size_t i = 0; i < ELEMENTSOF(tricks); i++) {
		const char *paths[] = { outside, dotdot, link, temp };
		_cleanup_json_ cJSON *forged = cJSON_Duplicate(value, true);

		cJSON_ReplaceItemInObject(forged, "path", cJSON_CreateString(paths[i]));
		resolved = NULL;
		assert_int_equal(store_blob_resolve(f->store, forged, &resolved), -EPERM);
		assert_null(resolved);
	}

	{
		_cleanup_json_ cJSON *not_file = cJSON_Parse("{\"name\":\"x\"}");
		_cleanup_json_ cJSON *bad_hash = cJSON_Duplicate(value, true);

		assert_int_equal(store_blob_resolve(f->store, not_file, &resolved), -EINVAL);
		cJSON_ReplaceItemInObject(bad_hash, "sha256", cJSON_CreateString("../../etc"));
		assert_int_equal(store_blob_resolve(f->store, bad_hash, &resolved), -EINVAL);
	}

	assert_int_equal(unlink(json_get_string(value, "path")), 0);
	assert_int_equal(store_blob_resolve(f->store, value, &resolved), -ENOENT);
}

static void test_mime_guess(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *name, *mime, *expect;
	} cases[] = {
		{ "photo.PNG", NULL, "image/png" },
		{ "a.jpeg", NULL, "image/jpeg" },
		{ "a.jpg", NULL, "image/jpeg" },
		{ "backup.tar.gz", NULL, "application/gzip" },
		{ "sheet.xlsx", NULL,
		  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ "data.json", NULL, "application/json" },
		{ "noextension", NULL, "application/octet-stream" },
		{ "trailingdot.", NULL, "application/octet-stream" },
		{ "a.unknownext", NULL, "application/octet-stream" },
		{ "x.pdf", "application/x-custom", "application/x-custom" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct store_blob_writer *writer = NULL;
		_cleanup_json_ cJSON *value = NULL;

		assert_int_equal(store_blob_writer_new(f->store, 0, &writer), 0);
		assert_int_equal(
			store_blob_writer_commit(writer, cases[i].name, cases[i].mime, &value), 0);
		assert_string_equal(json_get_string(value, "mime"), cases[i].expect);
	}
}

static int64_t count_rows(const struct fixture *f, const char *sql)
{
	_cleanup_free_ char *path = xasprintf("%s/store.db", f->state);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int64_t n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void test_operation_outputs_record_blobs(void **state)
{
	struct fixture *f = *state;
	static const char *const abc[] = { "abc", NULL };
	static const char *const xyz[] = { "xyz", NULL };
	_cleanup_json_ cJSON *outputs = cJSON_CreateArray();
	cJSON *bundle = cJSON_CreateObject();
	cJSON *nested = cJSON_CreateArray();
	int64_t id, op;

	cJSON_AddItemToArray(outputs, bundle);
	cJSON_AddItemToObject(bundle, "file", write_blob(f->store, abc, "a.txt"));
	cJSON_AddItemToObject(bundle, "more", nested);
	cJSON_AddItemToArray(nested, write_blob(f->store, xyz, "x.txt"));
	cJSON_AddItemToArray(nested, write_blob(f->store, abc, "again.txt"));
	/* Shaped like a file value but not one of ours: ignored. */
	cJSON_AddItemToArray(nested, json_file_value_new("fake", 1, NULL, "nothex", "/etc/passwd"));

	assert_int_equal(store_execution_create(f->store, "s", "manual", 0, &id), 0);
	assert_int_equal(store_operation_begin(f->store, id, "1", "files.read", NULL, &op), 0);
	assert_int_equal(store_operation_finish(f->store, op, "success", outputs, NULL), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM blobs"), 2);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM execution_blobs"), 2);
	assert_int_equal(count_rows(f, "SELECT size FROM blobs WHERE sha256 = '" SHA256_ABC "'"),
			 3);

	/* Deleting the execution drops its links, not the blobs. */
	{
		_cleanup_free_ char *path = xasprintf("%s/store.db", f->state);
		sqlite3 *db = NULL;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db,
					      "PRAGMA foreign_keys = ON; DELETE FROM executions",
					      NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(count_rows(f, "SELECT count(*) FROM execution_blobs"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM operations"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM blobs"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer_hashes_and_moves_into_place, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_dedupes_and_handles_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_enforces_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_abort_removes_temp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_sweeps_stale_temps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_stays_inside_blob_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mime_guess, setup, teardown),
		cmocka_unit_test_setup_teardown(test_operation_outputs_record_blobs, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
