/* SPDX-License-Identifier: MIT */
/*
 * files.read: imports one local file into the blob store and emits it as a
 * file value, {file, path, modified}, so later modules see the bytes as
 * they were when read. The import (a streamed copy and a hash) runs on the
 * thread pool. A missing path, or one that is not a regular file, is a
 * DataError naming it; a file over max_file_size is a
 * MaxFileSizeExceededError, refused before anything is copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "modules/files/internal.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

const struct module_field read_fields[] = {
	{ .name = "path", .type = FIELD_TEXT, .required = true, .summary = "the file to read" },
	{ .name = NULL },
};

struct read_state {
	struct files_job job;
	struct store *store; /* borrowed; only its blob functions are used */
	char *path; /* owned */
	int64_t max_size; /* bytes; 0: no limit */

	/* Written by the worker. */
	cJSON *file; /* owned: the imported file value */
	struct timespec mtime; /* of the file read */
};

static void read_work(struct files_job *job)
{
	struct read_state *state = container_of(job, struct read_state, job);
	const char *name = strrchr(state->path, '/');
	struct stat st;
	int r;

	if (stat(state->path, &st) < 0) {
		if (errno == ENOENT)
			files_job_fail(job, ERROR_DATA, "File '%s' does not exist", state->path);
		else
			files_job_fail_errno(job, -errno, "Cannot read '%s'", state->path);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		files_job_fail(job, ERROR_DATA, "'%s' is not a regular file", state->path);
		return;
	}
	if (state->max_size > 0 && st.st_size > state->max_size) {
		files_job_fail(job, ERROR_MAX_FILE_SIZE_EXCEEDED,
			       "File '%s' is %lld bytes, larger than max_file_size (%lld bytes)",
			       state->path, (long long)st.st_size, (long long)state->max_size);
		return;
	}
	state->mtime = st.st_mtim;

	r = store_blob_import_path(state->store, state->path, name ? name + 1 : state->path,
				   state->max_size, &state->file);
	if (r == -EFBIG) /* it grew since stat() */
		files_job_fail(job, ERROR_MAX_FILE_SIZE_EXCEEDED,
			       "File '%s' is larger than max_file_size (%lld bytes)", state->path,
			       (long long)state->max_size);
	else if (r == -ENOENT)
		files_job_fail(job, ERROR_DATA, "File '%s' does not exist", state->path);
	else if (r < 0)
		files_job_fail_errno(job, r, "Cannot read '%s'", state->path);
}

static void read_emit(struct files_job *job, struct module_run *run)
{
	struct read_state *state = container_of(job, struct read_state, job);
	cJSON *bundle = cJSON_CreateObject();
	char modified[32];

	files_time_format(&state->mtime, modified, sizeof(modified));
	run->bytes += json_get_int(state->file, "size", 0);
	cJSON_AddItemToObject(bundle, "file", TAKE_PTR(state->file));
	cJSON_AddStringToObject(bundle, "path", state->path);
	cJSON_AddStringToObject(bundle, "modified", modified);
	module_run_emit(run, bundle);
}

static void read_free(struct files_job *job)
{
	struct read_state *state = container_of(job, struct read_state, job);

	cJSON_Delete(state->file);
	free(state->path);
	free(state);
}

int read_run_start(struct module_run *run)
{
	struct read_state *state;
	_cleanup_free_ char *path = NULL;
	int r;

	if (!run->env->store)
		return module_run_fail(run, ERROR_UNEXPECTED, "files.read needs the store");
	r = files_input_text(run, "path", true, &path);
	if (r < 0)
		return r;
	if (!*path)
		return module_run_fail(run, ERROR_DATA, "path may not be empty");

	state = xcalloc(1, sizeof(*state));
	state->store = run->env->store;
	state->path = TAKE_PTR(path);
	state->max_size = run->max_file_size > 0 ? run->max_file_size : 0;
	state->job.work_fn = read_work;
	state->job.emit_fn = read_emit;
	state->job.free_fn = read_free;
	r = files_job_start(run, &state->job);
	if (r < 0)
		read_free(&state->job);
	return r;
}
