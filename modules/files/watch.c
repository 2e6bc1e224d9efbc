/* SPDX-License-Identifier: MIT */
/*
 * files.watch, a polling trigger on a local folder: each run emits the files
 * that are new or changed since the stored cursor, oldest first, at most
 * `limit` of them; the rest come on the next run. Each file is imported
 * into the blob store, so later modules (and a resumed incomplete
 * execution) see the bytes as they were, whatever happens to the folder.
 *
 * Order and cursor. Files are ordered by (modification time in ns, path
 * relative to dir, bytewise); the cursor is the position of the last file
 * emitted, as JSON text {"sec", "nsec", "path"}. A file is new when its
 * position is after the cursor: touching or rewriting a file moves it to
 * the end, so a changed file comes again. A file that appears with an old
 * modification time (cp -p, rsync -t, mv from another folder keeps it)
 * sorts before the cursor and is not seen: that is the price of a cursor of
 * one position, which Fusion's date-based triggers pay too.
 *
 * Settling. A file is taken only once its modification time is at least
 * WATCH_SETTLE_MS old (by CLOCK_REALTIME_COARSE, the clock the kernel
 * stamps files with); younger files wait for the next run. That makes one
 * position enough: every file written after a scan gets a time later than
 * anything that scan could emit, even on file systems that round times
 * down to 1 or 2 s (ext3, HFS+, FAT), so a late file can never sort before
 * the cursor by sharing its time. It also leaves a writer that writes in
 * place a moment to finish. A file with a modification time in the future
 * waits until that time has passed.
 *
 * start=now: the first run emits nothing and sets the cursor to the
 * settling limit, so every file written from then on is new (and one
 * modified in the last WATCH_SETTLE_MS before it too: when in doubt a file
 * comes rather than being lost). start=all (the default): the first run
 * treats every file already there as new.
 *
 * What is scanned: regular files whose name matches `pattern` (fnmatch with
 * FNM_PERIOD, so `*` skips hidden files: a writer that writes to a hidden
 * temporary name and renames it is never seen half-written); with
 * `recursive`, subfolders down to WATCH_MAX_DEPTH levels, hidden ones
 * skipped, the pattern matched against the file's own name. Symbolic links
 * are never followed, so a watch cannot leave its folder. More than
 * WATCH_MAX_ENTRIES entries is a MaxResultsExceededError rather than a
 * silently partial scan. A missing folder is a DataError naming it (it
 * does not count towards deactivation: a mount that comes back heals it).
 * The scan and the imports run on the thread pool.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/files/internal.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

static const char *const start_choices[] = { "all", "now", NULL };

const struct module_field watch_fields[] = {
	{ .name = "dir", .type = FIELD_TEXT, .required = true, .summary = "the folder to watch" },
	{ .name = "pattern",
	  .type = FIELD_TEXT,
	  .summary = "glob the file names must match (default *)" },
	{ .name = "limit",
	  .type = FIELD_INTEGER,
	  .summary = "most files per run (default 10, at most 1000)" },
	{ .name = "start",
	  .type = FIELD_ENUM,
	  .choices = start_choices,
	  .summary = "all (default): files already there count as new; now: only later ones" },
	{ .name = "recursive",
	  .type = FIELD_BOOLEAN,
	  .summary = "also watch subfolders (default false)" },
	{ .name = NULL },
};

/* A position in the order files are emitted in. */
struct mark {
	int64_t sec, nsec; /* modification time */
	char *path; /* owned; relative to dir; "" sorts before every file */
};

struct found {
	struct mark mark;
	int64_t size; /* bytes */
};

struct watch_state {
	struct files_job job;
	struct store *store; /* borrowed; only its blob functions are used */
	char *dir, *pattern; /* owned */
	int64_t limit, max_size;
	bool recursive, start_now, first_run;
	struct mark cursor; /* valid unless first_run */

	/* Written by the worker. */
	struct found *found; /* owned: matching files after the cursor */
	size_t nfound, capacity, entries;
	struct mark settled; /* files modified at or after this wait (path "") */
	cJSON *bundles; /* owned */
	char *new_cursor; /* owned */
	int64_t bytes;
	size_t vanished; /* files that were gone by the time they were imported */
};

static int compare_marks(const struct mark *a, const struct mark *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return strcmp(a->path, b->path);
}

static int compare_found(const void *a, const void *b)
{
	return compare_marks(&((const struct found *)a)->mark, &((const struct found *)b)->mark);
}

static int parse_cursor(const char *text, struct mark *ret)
{
	_cleanup_json_ cJSON *json = cJSON_Parse(text);
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(json, "sec");
	const cJSON *nsec = cJSON_GetObjectItemCaseSensitive(json, "nsec");
	const char *path = json_get_string(json, "path");

	/* The bounds come first so that the casts are defined. */
	if (!cJSON_IsNumber(sec) || !cJSON_IsNumber(nsec) || !path ||
	    !(fabs(sec->valuedouble) < 1e15) ||
	    !(nsec->valuedouble >= 0 && nsec->valuedouble < 1e9) ||
	    sec->valuedouble != (double)(int64_t)sec->valuedouble ||
	    nsec->valuedouble != (double)(int64_t)nsec->valuedouble)
		return -EINVAL;
	*ret = (struct mark){
		.sec = (int64_t)sec->valuedouble,
		.nsec = (int64_t)nsec->valuedouble,
		.path = xstrdup(path),
	};
	return 0;
}

static char *format_cursor(const struct mark *mark)
{
	_cleanup_json_ cJSON *json = cJSON_CreateObject();

	cJSON_AddNumberToObject(json, "sec", (double)mark->sec);
	cJSON_AddNumberToObject(json, "nsec", (double)mark->nsec);
	cJSON_AddStringToObject(json, "path", mark->path);
	return json_print(json);
}

static void add_found(struct watch_state *state, const struct stat *st, const char *path)
{
	struct mark mark = { st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (char *)path };

	if (compare_marks(&mark, &state->settled) >= 0)
		return; /* too young: next run */
	if (!state->first_run && compare_marks(&mark, &state->cursor) <= 0)
		return;
	state->found =
		xgrow(state->found, &state->capacity, state->nfound + 1, sizeof(*state->found));
	mark.path = xstrdup(path);
	state->found[state->nfound++] = (struct found){ .mark = mark, .size = st->st_size };
}

static int scan_folder(struct watch_state *state, int fd, const char *relative, int depth);

static int scan_entry(struct watch_state *state, int dirfd, const char *relative, const char *name,
		      int depth)
{
	_cleanup_free_ char *path = relative ? xasprintf("%s/%s", relative, name) : xstrdup(name);
	struct stat st;
	int fd;

	if (++state->entries > WATCH_MAX_ENTRIES) {
		files_job_fail(&state->job, ERROR_MAX_RESULTS_EXCEEDED,
			       "Folder '%s' holds more than %d entries; files.watch scans at most "
			       "that many",
			       state->dir, WATCH_MAX_ENTRIES);
		return -E2BIG;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT) /* gone since readdir */
			return 0;
		return files_job_fail_errno(&state->job, -errno, "Cannot read '%s/%s'", state->dir,
					    path);
	}

	if (S_ISREG(st.st_mode)) {
		if (fnmatch(state->pattern, name, FNM_PERIOD) == 0)
			add_found(state, &st, path);
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || !state->recursive || name[0] == '.' || depth >= WATCH_MAX_DEPTH)
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* Gone, or replaced by a link since fstatat: not ours to follow. */
		if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
			return 0;
		return files_job_fail_errno(&state->job, -errno, "Cannot open folder '%s/%s'",
					    state->dir, path);
	}
	return scan_folder(state, fd, path, depth + 1);
}

/* Scans the folder open at `fd` (taking it over) and below; `relative` is
 * its path below dir, NULL for dir itself. */
static int scan_folder(struct watch_state *state, int fd, const char *relative, int depth)
{
	DIR *dir = fdopendir(fd);
	struct dirent *entry;
	int r = 0;

	if (!dir) {
		close(fd);
		return files_job_fail_errno(&state->job, -errno, "Cannot read folder '%s'",
					    state->dir);
	}
	for (;;) {
		errno = 0;
		entry = readdir(dir);
		if (!entry) {
			if (errno)
				r = files_job_fail_errno(&state->job, -errno,
							 "Cannot read folder '%s'", state->dir);
			break;
		}
		if (streq(entry->d_name, ".") || streq(entry->d_name, ".."))
			continue;
		r = scan_entry(state, dirfd(dir), relative, entry->d_name, depth);
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

static void import_found(struct watch_state *state, const struct found *f)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", state->dir, f->mark.path);
	const char *name = strrchr(f->mark.path, '/');
	cJSON *file = NULL, *bundle;
	char modified[32];
	int r;

	r = store_blob_import_path(state->store, path, name ? name + 1 : f->mark.path,
				   state->max_size, &file);
	if (r == -ENOENT) {
		state->vanished++;
		return;
	}
	if (r == -EFBIG) {
		files_job_fail(&state->job, ERROR_MAX_FILE_SIZE_EXCEEDED,
			       "File '%s' is larger than max_file_size (%lld bytes)", path,
			       (long long)state->max_size);
		return;
	}
	if (r < 0) {
		files_job_fail_errno(&state->job, r, "Cannot import '%s'", path);
		return;
	}
	files_time_format(&(struct timespec){ f->mark.sec, f->mark.nsec }, modified,
			  sizeof(modified));
	bundle = cJSON_CreateObject();
	cJSON_AddItemToObject(bundle, "file", file);
	cJSON_AddStringToObject(bundle, "path", path);
	cJSON_AddStringToObject(bundle, "modified", modified);
	cJSON_AddItemToArray(state->bundles, bundle);
	state->bytes +=
		(int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(file, "size"));
}

/* The position before which files have settled: now - WATCH_SETTLE_MS. */
static void set_settled(struct watch_state *state)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - (int64_t)WATCH_SETTLE_MS * 1000000;
	state->settled =
		(struct mark){ .sec = ns / 1000000000, .nsec = ns % 1000000000, .path = "" };
}

static void watch_work(struct files_job *job)
{
	struct watch_state *state = container_of(job, struct watch_state, job);
	size_t take;
	int fd;

	fd = open(state->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			files_job_fail(job, ERROR_DATA, "Folder '%s' does not exist", state->dir);
		else
			files_job_fail_errno(job, -errno, "Cannot open folder '%s'", state->dir);
		return;
	}
	set_settled(state);
	if (state->start_now && state->first_run) {
		/* The folder exists; where "now" is is all this run has to find out. */
		close(fd);
		state->new_cursor = format_cursor(&state->settled);
		return;
	}
	if (scan_folder(state, fd, NULL, 0) < 0)
		return;

	if (state->nfound > 1)
		qsort(state->found, state->nfound, sizeof(*state->found), compare_found);
	take = state->nfound < (size_t)state->limit ? state->nfound : (size_t)state->limit;
	/* Refuse before importing anything: a run imports all of its files or none. */
	for (size_t i = 0; i < take; i++)
		if (state->max_size > 0 && state->found[i].size > state->max_size) {
			files_job_fail(
				job, ERROR_MAX_FILE_SIZE_EXCEEDED,
				"File '%s/%s' is %lld bytes, larger than max_file_size (%lld "
				"bytes)",
				state->dir, state->found[i].mark.path,
				(long long)state->found[i].size, (long long)state->max_size);
			return;
		}
	state->bundles = cJSON_CreateArray();
	for (size_t i = 0; i < take && !job->error; i++)
		import_found(state, &state->found[i]);
	if (take > 0)
		state->new_cursor = format_cursor(&state->found[take - 1].mark);
	else if (!state->first_run)
		state->new_cursor = format_cursor(&state->cursor);
	else
		state->new_cursor = format_cursor(&(struct mark){ .path = "" });
}

static void watch_emit(struct files_job *job, struct module_run *run)
{
	struct watch_state *state = container_of(job, struct watch_state, job);
	cJSON *bundle;

	while (state->bundles && (bundle = cJSON_DetachItemFromArray(state->bundles, 0)))
		module_run_emit(run, bundle);
	module_run_set_cursor(run, state->new_cursor);
	run->bytes += state->bytes;
	if (state->vanished)
		module_run_log(run, LOG_LEVEL_DEBUG,
			       "%zu file(s) in '%s' disappeared before they "
			       "could be read",
			       state->vanished, state->dir);
}

static void watch_free(struct files_job *job)
{
	struct watch_state *state = container_of(job, struct watch_state, job);

	for (size_t i = 0; i < state->nfound; i++)
		free(state->found[i].mark.path);
	free(state->found);
	free(state->cursor.path);
	cJSON_Delete(state->bundles);
	free(state->new_cursor);
	free(state->dir);
	free(state->pattern);
	free(state);
}

int watch_with_validate(const cJSON *constant_with, module_report_fn *report, void *ctx)
{
	const cJSON *limit = cJSON_GetObjectItemCaseSensitive(constant_with, "limit");
	const char *dir = json_get_string(constant_with, "dir");
	const char *pattern = json_get_string(constant_with, "pattern");
	int problems = 0;

	if (dir && !*dir) {
		report(ctx, "dir", "dir may not be empty");
		problems++;
	}
	if (pattern && !*pattern) {
		report(ctx, "pattern", "pattern may not be empty (use '*' for every file)");
		problems++;
	}
	if (cJSON_IsNumber(limit) &&
	    (limit->valuedouble < 1 || limit->valuedouble > WATCH_MAX_LIMIT)) {
		report(ctx, "limit", "limit must be from 1 to %d", WATCH_MAX_LIMIT);
		problems++;
	}
	return problems;
}

/* Reads the fields into a new state; NULL with the run's error set. */
static struct watch_state *read_input(struct module_run *run)
{
	struct watch_state *state = xcalloc(1, sizeof(*state));
	_cleanup_free_ char *start = NULL;

	if (files_input_text(run, "dir", true, &state->dir) < 0 ||
	    files_input_text(run, "pattern", false, &state->pattern) < 0 ||
	    files_input_text(run, "start", false, &start) < 0 ||
	    files_input_integer(run, "limit", 10, 1, WATCH_MAX_LIMIT, &state->limit) < 0 ||
	    files_input_bool(run, "recursive", false, &state->recursive) < 0)
		goto fail;
	if (!*state->dir) {
		module_run_fail(run, ERROR_DATA, "dir may not be empty");
		goto fail;
	}
	if (!state->pattern || !*state->pattern) {
		free(state->pattern);
		state->pattern = xstrdup("*");
	}
	if (start && !streq(start, "all") && !streq(start, "now")) {
		module_run_fail(run, ERROR_DATA, "start must be all or now, not '%s'", start);
		goto fail;
	}
	state->start_now = start && streq(start, "now");
	/* "/srv/inbox/" and "/srv/inbox" name the same folder and the same paths. */
	for (size_t len = strlen(state->dir); len > 1 && state->dir[len - 1] == '/'; len--)
		state->dir[len - 1] = '\0';
	return state;

fail:
	watch_free(&state->job);
	return NULL;
}

int watch_run_start(struct module_run *run)
{
	struct watch_state *state;
	int r;

	if (!run->env->store)
		return module_run_fail(run, ERROR_UNEXPECTED, "files.watch needs the store");
	state = read_input(run);
	if (!state)
		return -EINVAL;

	state->store = run->env->store;
	state->max_size = run->max_file_size > 0 ? run->max_file_size : 0;
	state->first_run = !run->cursor;
	if (run->cursor && parse_cursor(run->cursor, &state->cursor) < 0) {
		/* Not ours (the module under this id changed?): start over. */
		module_run_log(run, LOG_LEVEL_WARNING,
			       "The stored position of files.watch is unreadable; starting as on a "
			       "first run");
		state->first_run = true;
	}
	state->job.work_fn = watch_work;
	state->job.emit_fn = watch_emit;
	state->job.free_fn = watch_free;
	r = files_job_start(run, &state->job);
	if (r < 0)
		watch_free(&state->job);
	return r;
}
