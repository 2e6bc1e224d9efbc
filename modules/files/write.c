/* SPDX-License-Identifier: MIT */
/*
 * files.write: writes `data` as the file `name` in the folder `dir`
 * (created, mode 0755, like mkdir -p) and emits {file, path}: `file` is a
 * file value of the bytes written, `path` where they were written.
 *
 * Data: a file value is copied from its blob (store_blob_resolve: it must
 * be this store's); anything else is written as its text in UTF-8
 * (json_to_text: null is empty, objects and arrays are JSON). Text first
 * becomes a blob of its own and is then copied like a file, so the output
 * is always a real file value pointing into the blob folder, and a file
 * value's output is its input renamed (the same blob: no second copy).
 *
 * Safety: `name` must be one plain file name (no '/', not '.' or '..', no
 * control characters, no white space at either end, at most NAME_MAX
 * bytes), so it cannot leave `dir`. The write is atomic: the bytes go to a
 * hidden temporary file in `dir` (mkostemp, O_CLOEXEC), are fsynced, and
 * the file is renamed over `name`, so a reader (files.watch among them)
 * sees the old file or the new one, never half of it. With overwrite false
 * the rename refuses to replace (renameat2 RENAME_NOREPLACE, or link() on
 * file systems without it) and an existing file is a DuplicateDataError.
 * The new file gets mode 0644. All of it runs on the thread pool.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/files/internal.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

#define COPY_CHUNK (64 * 1024)

const struct module_field write_fields[] = {
	{ .name = "dir",
	  .type = FIELD_TEXT,
	  .required = true,
	  .summary = "the folder to write into (created when missing)" },
	{ .name = "name",
	  .type = FIELD_TEXT,
	  .required = true,
	  .summary = "the file's name in dir (a plain name: no '/')" },
	{ .name = "data",
	  .type = FIELD_ANY,
	  .required = true,
	  .summary = "a file value (its bytes) or anything else (its text in UTF-8)" },
	{ .name = "overwrite",
	  .type = FIELD_BOOLEAN,
	  .summary = "replace an existing file (default true; false: DuplicateDataError)" },
	{ .name = NULL },
};

struct write_state {
	struct files_job job;
	struct store *store; /* borrowed; only its blob functions are used */
	char *dir, *name; /* owned */
	char *target; /* owned: dir/name */
	bool overwrite;
	int64_t max_size; /* bytes; 0: no limit */
	char *text; /* owned: the data as text; NULL when it is a file value */
	char *source; /* owned: blob path of the bytes to copy */
	cJSON *file; /* owned: the output file value (for text, made by the worker) */
	int64_t bytes; /* written by the worker */
};

/* Why `name` is not a safe file name, or NULL when it is. */
static const char *name_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "may not be empty";
	if (len > NAME_MAX)
		return "is longer than 255 bytes";
	if (streq(name, ".") || streq(name, ".."))
		return "may not be '.' or '..'";
	if (strchr(name, '/'))
		return "may not contain '/'";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "may not contain control characters";
	if (isspace((unsigned char)name[0]) || isspace((unsigned char)name[len - 1]))
		return "may not begin or end with white space";
	return NULL;
}

int write_with_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	const char *name = json_get_string(constant_with, "name");
	const char *dir = json_get_string(constant_with, "dir");
	const char *problem = name ? name_problem(name) : NULL;
	int problems = 0;

	if (problem) {
		report(ctx, "name", "name %s", problem);
		problems++;
	}
	if (dir && !*dir) {
		report(ctx, "dir", "dir may not be empty");
		problems++;
	}
	return problems;
}

/* mkdir -p: creates every missing folder of `path`; 0 or negative errno. */
static int make_folders(const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = xstrdup(path);

	for (char *slash = strchr(copy + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash)
			*slash = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return -errno;
		if (!slash)
			return 0;
		*slash = '/';
		while (slash[1] == '/')
			slash++;
	}
}

/* Turns the text into a blob; its file value becomes the output. */
static int store_text(struct write_state *state)
{
	struct store_blob_writer *writer;
	int r;

	r = store_blob_writer_new(state->store, state->max_size, &writer);
	if (r < 0)
		return files_job_fail_errno(&state->job, r, "Cannot store the data for '%s'",
					    state->target);
	r = store_blob_writer_write(writer, state->text, strlen(state->text));
	if (r < 0) {
		store_blob_writer_abort(writer);
		return files_job_fail_errno(&state->job, r, "Cannot store the data for '%s'",
					    state->target);
	}
	r = store_blob_writer_commit(writer, state->name, NULL, &state->file);
	if (r < 0)
		return files_job_fail_errno(&state->job, r, "Cannot store the data for '%s'",
					    state->target);
	state->source = xstrdup(json_get_string(state->file, "path"));
	return 0;
}

static int copy_bytes(struct write_state *state, int out)
{
	_cleanup_close_ int in = open(state->source, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = xmalloc(COPY_CHUNK);
	ssize_t n;

	if (in < 0)
		return files_job_fail_errno(&state->job, -errno, "Cannot read the data for '%s'",
					    state->target);
	while ((n = read(in, buf, COPY_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return files_job_fail_errno(&state->job, -errno,
						    "Cannot read the data for '%s'", state->target);
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return files_job_fail_errno(&state->job, -errno,
							    "Cannot write '%s'", state->target);
			done += w;
		}
		state->bytes += n;
	}
	return 0;
}

/* Moves the finished temporary file to its name; EEXIST when overwrite is
 * false and the name is taken. */
static int move_into_place(struct write_state *state, int dirfd, const char *temp)
{
	if (state->overwrite)
		return renameat(dirfd, temp, dirfd, state->name) < 0 ? -errno : 0;
	if (renameat2(dirfd, temp, dirfd, state->name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* The file system cannot rename without replacing: link() never does. */
	if (linkat(dirfd, temp, dirfd, state->name, 0) < 0)
		return -errno;
	unlinkat(dirfd, temp, 0);
	return 0;
}

static void write_work(struct files_job *job)
{
	struct write_state *state = container_of(job, struct write_state, job);
	_cleanup_free_ char *temp = xasprintf("%s/.scenariod-write-XXXXXX", state->dir);
	_cleanup_close_ int dirfd = -1;
	_cleanup_close_ int fd = -1;
	const char *temp_name;
	int r;

	if (state->text && store_text(state) < 0)
		return;
	r = make_folders(state->dir, 0755);
	if (r < 0) {
		files_job_fail_errno(job, r, "Cannot create folder '%s'", state->dir);
		return;
	}
	dirfd = open(state->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		files_job_fail_errno(job, -errno, "Cannot open folder '%s'", state->dir);
		return;
	}
	fd = mkostemp(temp, O_CLOEXEC);
	if (fd < 0) {
		files_job_fail_errno(job, -errno, "Cannot create a file in '%s'", state->dir);
		return;
	}
	temp_name = strrchr(temp, '/') + 1;

	if (copy_bytes(state, fd) < 0)
		goto out_unlink;
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		files_job_fail_errno(job, -errno, "Cannot write '%s'", state->target);
		goto out_unlink;
	}
	r = move_into_place(state, dirfd, temp_name);
	if (r == -EEXIST) {
		files_job_fail(job, ERROR_DUPLICATE_DATA,
			       "File '%s' already exists and overwrite is false", state->target);
		goto out_unlink;
	}
	if (r < 0) {
		files_job_fail_errno(job, r, "Cannot write '%s'", state->target);
		goto out_unlink;
	}
	/* The rename is durable once the folder is. */
	if (fsync(dirfd) < 0)
		files_job_fail_errno(job, -errno, "Cannot write '%s'", state->target);
	return;

out_unlink:
	unlinkat(dirfd, temp_name, 0);
}

static void write_emit(struct files_job *job, struct module_run *run)
{
	struct write_state *state = container_of(job, struct write_state, job);
	cJSON *bundle = cJSON_CreateObject();

	cJSON_ReplaceItemInObjectCaseSensitive(state->file, "name",
					       cJSON_CreateString(state->name));
	cJSON_AddItemToObject(bundle, "file", TAKE_PTR(state->file));
	cJSON_AddStringToObject(bundle, "path", state->target);
	module_run_emit(run, bundle);
	run->bytes += state->bytes;
}

static void write_free(struct files_job *job)
{
	struct write_state *state = container_of(job, struct write_state, job);

	free(state->dir);
	free(state->name);
	free(state->target);
	free(state->text);
	free(state->source);
	cJSON_Delete(state->file);
	free(state);
}

/* Reads `data`: the blob of a file value, or the text to write. */
static int read_data(struct module_run *run, struct write_state *state)
{
	const cJSON *data = module_input(run, "data");
	const char *source;

	if (!json_is_file_value(data)) {
		state->text = json_to_text(data);
		if (state->max_size > 0 && (int64_t)strlen(state->text) > state->max_size)
			return module_run_fail(run, ERROR_MAX_FILE_SIZE_EXCEEDED,
					       "data is %zu bytes, larger than max_file_size (%lld "
					       "bytes)",
					       strlen(state->text), (long long)state->max_size);
		return 0;
	}
	if (store_blob_resolve(state->store, data, &source) < 0)
		return module_run_fail(
			run, ERROR_DATA,
			"data is a file value whose bytes are not in the store (file "
			"'%s')",
			json_get_string(data, "name"));
	state->source = xstrdup(source);
	state->file = cJSON_Duplicate(data, true);
	return 0;
}

static int read_input(struct module_run *run, struct write_state *state)
{
	const char *problem;

	if (files_input_text(run, "dir", true, &state->dir) < 0 ||
	    files_input_text(run, "name", true, &state->name) < 0 ||
	    files_input_bool(run, "overwrite", true, &state->overwrite) < 0)
		return -EINVAL;
	if (!*state->dir)
		return module_run_fail(run, ERROR_DATA, "dir may not be empty");
	problem = name_problem(state->name);
	if (problem) {
		/* Control characters are not echoed back into logs. */
		if (streq(problem, "may not contain control characters"))
			return module_run_fail(run, ERROR_DATA, "name %s", problem);
		return module_run_fail(run, ERROR_DATA, "name '%s' %s", state->name, problem);
	}
	for (size_t len = strlen(state->dir); len > 1 && state->dir[len - 1] == '/'; len--)
		state->dir[len - 1] = '\0';
	state->target = streq(state->dir, "/") ? xasprintf("/%s", state->name) :
						 xasprintf("%s/%s", state->dir, state->name);
	return read_data(run, state);
}

int write_run_start(struct module_run *run)
{
	struct write_state *state;
	int r;

	if (!run->env->store)
		return module_run_fail(run, ERROR_UNEXPECTED, "files.write needs the store");
	state = xcalloc(1, sizeof(*state));
	state->store = run->env->store;
	state->max_size = run->max_file_size > 0 ? run->max_file_size : 0;
	r = read_input(run, state);
	if (r >= 0) {
		state->job.work_fn = write_work;
		state->job.emit_fn = write_emit;
		state->job.free_fn = write_free;
		r = files_job_start(run, &state->job);
	}
	if (r < 0)
		write_free(&state->job);
	return r;
}
