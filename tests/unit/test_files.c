/* SPDX-License-Identifier: MIT */
/*
 * The files app through its module contract, on real folders under a
 * tmpdir and a real store (store_open on a tmp state dir): files.read and
 * files.watch must hand later modules file values that resolve to the
 * right bytes in the blob folder; files.write must write atomically, refuse
 * names that would leave its folder, and honour overwrite; files.watch
 * must emit new and changed files oldest first, `limit` at a time, and
 * keep its place in the cursor.
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "modules/module.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

extern const struct module_desc files_modules[];

/* An instant well in the past, so that files made "now" sort after it. */
#define BASE_SEC 1700000000

struct harness {
	uv_loop_t loop;
	struct module_env env;
	struct module_run run;
	cJSON *input;
	int done_calls;
	char *tmp; /* owned: everything below is in here */
	char *state_dir; /* owned: the store's */
	char *dir; /* owned: the folder the modules work on */
	char *cursor; /* owned: files.watch's cursor between runs */
};

static void on_done(struct module_run *run)
{
	struct harness *h = run->done_data;

	h->done_calls++;
}

static const struct module_desc *find_module(const char *name)
{
	for (const struct module_desc *d = files_modules; d->name; d++)
		if (streq(d->name, name))
			return d;
	fail_msg("no module files.%s", name);
	return NULL;
}

static int setup(void **state)
{
	struct harness *h = xcalloc(1, sizeof(*h));
	_cleanup_free_ char *err = NULL;

	assert_int_equal(uv_loop_init(&h->loop), 0);
	h->tmp = helpers_mkdtemp();
	h->state_dir = xasprintf("%s/state", h->tmp);
	h->dir = xasprintf("%s/folder", h->tmp);
	assert_int_equal(mkdir(h->state_dir, 0700), 0);
	assert_int_equal(mkdir(h->dir, 0700), 0);
	if (store_open(h->state_dir, &h->env.store, &err) < 0)
		fail_msg("store_open: %s", err);
	h->env.loop = &h->loop;
	*state = h;
	return 0;
}

static void reset_run(struct harness *h)
{
	cJSON_Delete(h->run.outputs);
	cJSON_Delete(h->run.log);
	free(h->run.new_cursor);
	module_error_done(&h->run.error);
	cJSON_Delete(h->input);
	h->input = NULL;
	memset(&h->run, 0, sizeof(h->run));
	h->done_calls = 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;

	reset_run(h);
	helpers_close_loop(&h->loop);
	store_close(h->env.store);
	helpers_rmdir_recursive(h->tmp);
	free(h->tmp);
	free(h->state_dir);
	free(h->dir);
	free(h->cursor);
	free(h);
	return 0;
}

static struct module_run *prepare(struct harness *h, const char *name, cJSON *input)
{
	reset_run(h);
	h->input = input;
	h->run.env = &h->env;
	h->run.desc = find_module(name);
	h->run.input = h->input;
	h->run.module_id = "1";
	h->run.bundle_seq = 1;
	h->run.max_file_size = 100 << 20;
	h->run.cursor = h->cursor;
	h->run.done = on_done;
	h->run.done_data = h;
	return &h->run;
}

/* Runs start() and the loop; checks the async contract; returns start's value. */
static int finish_run(struct harness *h)
{
	int r = h->run.desc->start(&h->run);

	assert_int_equal(h->done_calls, 0);
	assert_true(helpers_run_loop(&h->loop, 20000));
	assert_int_equal(h->done_calls, r == MODULE_PENDING ? 1 : 0);
	assert_null(h->run.priv);
	if (r < 0)
		assert_true(h->run.failed);
	return r;
}

/* Input from printf-style JSON text. */
static cJSON *input_json(const char *fmt, ...) _printf_(1, 2);
static cJSON *input_json(const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	cJSON *json;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	json = cJSON_Parse(text);
	if (!json)
		fail_msg("bad test JSON: %s", text);
	return json;
}

static void assert_error(const struct harness *h, enum error_type type, const char *needle)
{
	if (!h->run.failed)
		fail_msg("expected %s, the run succeeded", error_type_to_string(type));
	if (h->run.error.type != type)
		fail_msg("expected %s, got %s: %s", error_type_to_string(type),
			 error_type_to_string(h->run.error.type), h->run.error.message);
	if (!strstr(h->run.error.message, needle))
		fail_msg("error '%s' does not mention '%s'", h->run.error.message, needle);
	assert_null(h->run.outputs);
}

static char *path_in(const struct harness *h, const char *name)
{
	return xasprintf("%s/%s", h->dir, name);
}

static void make_file(const struct harness *h, const char *name, const char *data,
		      int64_t mtime_sec)
{
	_cleanup_free_ char *path = path_in(h, name);
	struct timespec times[2] = { { mtime_sec, 0 }, { mtime_sec, 0 } };

	helpers_write_file(path, data, strlen(data));
	if (mtime_sec)
		assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* The value is a file value of this store whose blob holds `data`. */
static void assert_blob(const struct harness *h, const cJSON *file, const char *name,
			const char *data)
{
	_cleanup_free_ char *bytes = NULL;
	const char *blob;
	size_t len;

	assert_true(json_is_file_value(file));
	assert_string_equal(json_get_string(file, "name"), name);
	assert_int_equal(json_get_int(file, "size", -1), strlen(data));
	assert_int_equal(store_blob_resolve(h->env.store, file, &blob), 0);
	bytes = helpers_read_file(blob, &len);
	assert_non_null(bytes);
	assert_int_equal(len, strlen(data));
	assert_memory_equal(bytes, data, len);
}

static void assert_file_holds(const char *path, const char *data)
{
	_cleanup_free_ char *bytes = NULL;
	size_t len;

	bytes = helpers_read_file(path, &len);
	if (!bytes)
		fail_msg("cannot read '%s'", path);
	assert_int_equal(len, strlen(data));
	assert_memory_equal(bytes, data, len);
}

/* Names in a folder, sorted, joined with ' ' ("" when empty). */
static char *list_folder(const char *path)
{
	struct dirent **entries;
	char *names = xstrdup("");
	int n = scandir(path, &entries, NULL, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (!streq(entries[i]->d_name, ".") && !streq(entries[i]->d_name, "..")) {
			char *joined =
				xasprintf("%s%s%s", names, *names ? " " : "", entries[i]->d_name);

			free(names);
			names = joined;
		}
		free(entries[i]);
	}
	free(entries);
	return names;
}

/* The clock the kernel stamps files with, in ns. */
static int64_t coarse_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static void set_mtime_ns(const struct harness *h, const char *name, int64_t ns)
{
	_cleanup_free_ char *path = path_in(h, name);
	struct timespec times[2] = { { ns / 1000000000, ns % 1000000000 },
				     { ns / 1000000000, ns % 1000000000 } };

	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* Waits (a tick of the coarse clock, a few ms) until the clock is past `ns`. */
static void wait_past(int64_t ns)
{
	while (coarse_now_ns() <= ns)
		usleep(1000);
}

/* ---- the table and load-time checks ---- */

static void test_table(void **state)
{
	const struct module_desc *watch = find_module("watch");
	const struct module_desc *read = find_module("read");
	const struct module_desc *write = find_module("write");
	size_t count = 0;

	(void)state;
	for (const struct module_desc *d = files_modules; d->name; d++, count++) {
		assert_string_equal(d->app, "files");
		assert_non_null(d->start);
		assert_non_null(d->cancel);
	}
	assert_int_equal(count, 3);

	assert_int_equal(watch->kind, MODULE_TRIGGER_POLLING);
	assert_string_equal(watch->fields[0].name, "dir");
	assert_true(watch->fields[0].required);
	assert_string_equal(watch->fields[3].name, "start");
	assert_int_equal(watch->fields[3].type, FIELD_ENUM);
	assert_string_equal(watch->fields[3].choices[0], "all");
	assert_string_equal(watch->fields[3].choices[1], "now");
	assert_null(watch->fields[3].choices[2]);
	assert_string_equal(watch->fields[4].name, "recursive");
	assert_int_equal(watch->fields[4].type, FIELD_BOOLEAN);

	assert_int_equal(read->kind, MODULE_ACTION);
	assert_string_equal(read->fields[0].name, "path");
	assert_true(read->fields[0].required);

	assert_int_equal(write->kind, MODULE_ACTION);
	for (int i = 0; i < 3; i++)
		assert_true(write->fields[i].required);
	assert_string_equal(write->fields[2].name, "data");
	assert_string_equal(write->fields[3].name, "overwrite");
	assert_false(write->fields[3].required);
}

struct reports {
	int calls;
	char fields[128];
};

static void collect_report(void *ctx, const char *field, const char *fmt, ...)
{
	struct reports *r = ctx;
	size_t len = strlen(r->fields);

	(void)fmt;
	r->calls++;
	snprintf(r->fields + len, sizeof(r->fields) - len, "%s%s", len ? " " : "", field);
}

static void test_validate(void **state)
{
	static const struct {
		const char *module, *with, *fields;
	} cases[] = {
		{ "watch", "{\"dir\": \"/srv/in\", \"limit\": 10, \"pattern\": \"*.pdf\"}", "" },
		{ "watch", "{\"dir\": \"/srv/in\", \"limit\": 0}", "limit" },
		{ "watch", "{\"dir\": \"/srv/in\", \"limit\": 1001}", "limit" },
		{ "watch", "{\"dir\": \"\", \"pattern\": \"\"}", "dir pattern" },
		{ "write", "{\"dir\": \"/srv/out\", \"name\": \"report.pdf\"}", "" },
		{ "write", "{\"dir\": \"/srv/out\", \"name\": \"../etc/passwd\"}", "name" },
		{ "write", "{\"dir\": \"/srv/out\", \"name\": \"..\"}", "name" },
		{ "write", "{\"dir\": \"\", \"name\": \"a\"}", "dir" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ cJSON *with = cJSON_Parse(cases[i].with);
		struct reports reports = { 0 };
		int problems =
			find_module(cases[i].module)->validate(with, collect_report, &reports);

		assert_int_equal(problems, reports.calls);
		assert_string_equal(reports.fields, cases[i].fields);
	}
}

/* ---- files.read ---- */

static void test_read(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *path = path_in(h, "report.pdf");
	const cJSON *bundle;

	make_file(h, "report.pdf", "%PDF-1.7 hello", BASE_SEC);
	prepare(h, "read", input_json("{\"path\": \"%s\"}", path));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_false(h->run.failed);
	assert_int_equal(cJSON_GetArraySize(h->run.outputs), 1);
	bundle = cJSON_GetArrayItem(h->run.outputs, 0);
	assert_blob(h, cJSON_GetObjectItemCaseSensitive(bundle, "file"), "report.pdf",
		    "%PDF-1.7 hello");
	assert_string_equal(json_get_string(bundle, "path"), path);
	assert_string_equal(json_get_string(bundle, "modified"), "2023-11-14T22:13:20.000Z");
	assert_int_equal(h->run.bytes, strlen("%PDF-1.7 hello"));
}

static void test_read_errors(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *missing = path_in(h, "missing.txt");
	_cleanup_free_ char *big = path_in(h, "big.txt");

	prepare(h, "read", input_json("{\"path\": \"%s\"}", missing));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_DATA, missing);

	prepare(h, "read", input_json("{\"path\": \"%s\"}", h->dir));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_DATA, "not a regular file");

	make_file(h, "big.txt", "0123456789", 0);
	prepare(h, "read", input_json("{\"path\": \"%s\"}", big));
	h->run.max_file_size = 9;
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_MAX_FILE_SIZE_EXCEEDED, "big.txt");

	prepare(h, "read", input_json("{\"path\": [1]}"));
	assert_true(finish_run(h) < 0);
	assert_error(h, ERROR_DATA, "path");
}

/* ---- files.write ---- */

static void test_write_text(void **state)
{
	static const struct {
		const char *data, *written;
	} cases[] = {
		{ "\"héllo\\n\"", "héllo\n" },
		{ "42", "42" },
		{ "true", "true" },
		{ "null", "" },
		{ "{\"a\": [1, 2.5]}", "{\"a\":[1,2.5]}" },
	};
	struct harness *h = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *target = path_in(h, "out/sub/note.txt");
		_cleanup_free_ char *out = path_in(h, "out/sub");
		_cleanup_free_ char *listing = NULL;
		const cJSON *bundle;
		struct stat st;

		prepare(h, "write",
			input_json("{\"dir\": \"%s\", \"name\": \"note.txt\", \"data\": %s}", out,
				   cases[i].data));
		assert_int_equal(finish_run(h), MODULE_PENDING);
		assert_false(h->run.failed);
		assert_file_holds(target, cases[i].written);
		bundle = cJSON_GetArrayItem(h->run.outputs, 0);
		assert_blob(h, cJSON_GetObjectItemCaseSensitive(bundle, "file"), "note.txt",
			    cases[i].written);
		assert_string_equal(json_get_string(bundle, "path"), target);
		assert_int_equal(h->run.bytes, strlen(cases[i].written));
		/* no temporary file left behind, and an ordinary file's mode */
		listing = list_folder(out);
		assert_string_equal(listing, "note.txt");
		assert_int_equal(stat(target, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
	}
}

static void test_write_file_value(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *source = path_in(h, "in.bin");
	_cleanup_free_ char *out = path_in(h, "out");
	_cleanup_free_ char *target = path_in(h, "out/copy.bin");
	_cleanup_free_ char *printed = NULL;
	_cleanup_json_ cJSON *file = NULL;
	const cJSON *written;

	make_file(h, "in.bin", "binary\001bytes", 0);
	assert_int_equal(store_blob_import_path(h->env.store, source, "in.bin", 0, &file), 0);
	printed = json_print(file);
	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"copy.bin\", \"data\": %s}", out,
			   printed));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_false(h->run.failed);
	assert_file_holds(target, "binary\001bytes");
	written = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(h->run.outputs, 0), "file");
	assert_blob(h, written, "copy.bin", "binary\001bytes");
	assert_string_equal(json_get_string(written, "sha256"), json_get_string(file, "sha256"));
	assert_int_equal(h->run.bytes, strlen("binary\001bytes"));

	/* A file value that does not point into the store is refused. */
	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"x\", \"data\": {\"name\": \"x\", "
			   "\"size\": 1, \"sha256\": \"%064d\", \"path\": \"%s\"}}",
			   out, 0, source));
	assert_true(finish_run(h) < 0);
	assert_error(h, ERROR_DATA, "not in the store");
}

static void test_write_overwrite(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *target = path_in(h, "a.txt");
	_cleanup_free_ char *listing = NULL;
	_cleanup_close_ int old_fd = -1;
	char old[8] = { 0 };

	make_file(h, "a.txt", "old", 0);
	old_fd = open(target, O_RDONLY | O_CLOEXEC);
	assert_true(old_fd >= 0);

	/* overwrite defaults to true; the old file is replaced, not rewritten in
	 * place: a reader holding it open still sees it whole */
	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"a.txt\", \"data\": \"new\"}", h->dir));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_false(h->run.failed);
	assert_file_holds(target, "new");
	assert_int_equal(pread(old_fd, old, sizeof(old) - 1, 0), 3);
	assert_string_equal(old, "old");

	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"a.txt\", \"data\": \"newer\", "
			   "\"overwrite\": false}",
			   h->dir));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_DUPLICATE_DATA, "a.txt");
	assert_file_holds(target, "new");
	listing = list_folder(h->dir);
	assert_string_equal(listing, "a.txt");

	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"b.txt\", \"data\": \"b\", "
			   "\"overwrite\": false}",
			   h->dir));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_false(h->run.failed);
}

static void test_write_unsafe_names(void **state)
{
	static const char *const names[] = {
		"",	  ".",	  "..",		"a/b",	      "../escape",  "/abs",	 " lead",
		"trail ", "\\tb", "new\\nline", "nul\\u0001", "del\\u007f", "a\\u001fb",
	};
	struct harness *h = *state;

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_free_ char *listing = NULL;

		prepare(h, "write",
			input_json("{\"dir\": \"%s/x\", \"name\": \"%s\", \"data\": \"d\"}", h->dir,
				   names[i]));
		assert_true(finish_run(h) < 0);
		assert_error(h, ERROR_DATA, "name");
		listing = list_folder(h->dir);
		assert_string_equal(listing, ""); /* not even dir was created */
	}
	/* a long name within NAME_MAX, dots inside, and a hidden name are fine */
	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"..a.b..\", \"data\": \"d\"}", h->dir));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_false(h->run.failed);
}

static void test_write_errors(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *blocker = path_in(h, "plain");

	/* dir runs through a regular file */
	make_file(h, "plain", "x", 0);
	prepare(h, "write",
		input_json("{\"dir\": \"%s/sub\", \"name\": \"a\", \"data\": \"d\"}", blocker));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_DATA, blocker);

	/* name is an existing folder */
	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"folder\", \"data\": \"d\"}", h->tmp));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_DATA, "folder");

	prepare(h, "write",
		input_json("{\"dir\": \"%s\", \"name\": \"big\", \"data\": \"0123456789\"}",
			   h->dir));
	h->run.max_file_size = 5;
	assert_true(finish_run(h) < 0);
	assert_error(h, ERROR_MAX_FILE_SIZE_EXCEEDED, "max_file_size");
}

/* ---- files.watch ---- */

/* Runs files.watch on `with` (dir added), keeps its cursor for the next
 * run, and returns the emitted files' paths relative to dir, joined with ' '. */
static char *watch_once(struct harness *h, const char *with)
{
	char *names = xstrdup("");
	const cJSON *bundle;
	size_t prefix = strlen(h->dir) + 1;

	prepare(h, "watch", input_json("{\"dir\": \"%s\"%s%s}", h->dir, *with ? ", " : "", with));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	if (h->run.failed)
		fail_msg("files.watch failed: %s", h->run.error.message);
	assert_non_null(h->run.new_cursor);
	free(h->cursor);
	h->cursor = xstrdup(h->run.new_cursor);

	cJSON_ArrayForEach(bundle, h->run.outputs) {
		const char *path = json_get_string(bundle, "path");
		_cleanup_free_ char *data = helpers_read_file(path, NULL);
		const char *slash = strrchr(path, '/');
		char *joined;

		assert_true(strncmp(path, h->dir, prefix - 1) == 0);
		assert_non_null(json_get_string(bundle, "modified"));
		assert_blob(h, cJSON_GetObjectItemCaseSensitive(bundle, "file"), slash + 1, data);
		joined = xasprintf("%s%s%s", names, *names ? " " : "", path + prefix);
		free(names);
		names = joined;
	}
	return names;
}

#define assert_watch(h, with, expected)                          \
	do {                                                     \
		_cleanup_free_ char *_got = watch_once(h, with); \
		assert_string_equal(_got, expected);             \
	} while (0)

static void test_watch_all(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *sub = path_in(h, "sub");
	_cleanup_free_ char *outside = path_in(h, "../outside.txt");
	_cleanup_free_ char *link = path_in(h, "link.txt");

	make_file(h, "b.txt", "b", BASE_SEC + 3);
	make_file(h, "a.txt", "a", BASE_SEC + 1);
	make_file(h, "c.txt", "c", BASE_SEC + 2);
	make_file(h, "a2.txt", "a2", BASE_SEC + 1); /* same time as a.txt: path decides */
	make_file(h, "d.log", "d", BASE_SEC); /* does not match */
	make_file(h, ".hidden.txt", "h", BASE_SEC); /* `*` skips hidden files */
	assert_int_equal(mkdir(sub, 0700), 0);
	make_file(h, "sub/e.txt", "e", BASE_SEC); /* not recursive */
	helpers_write_file(outside, "secret", 6);
	assert_int_equal(symlink(outside, link), 0); /* never followed */
	assert_int_equal(utimensat(AT_FDCWD, link,
				   (struct timespec[2]){ { BASE_SEC, 0 }, { BASE_SEC, 0 } },
				   AT_SYMLINK_NOFOLLOW),
			 0);

	assert_watch(h, "\"pattern\": \"*.txt\", \"limit\": 2", "a.txt a2.txt");
	assert_int_equal(h->run.bytes, 3);
	assert_watch(h, "\"pattern\": \"*.txt\", \"limit\": 2", "c.txt b.txt");
	assert_watch(h, "\"pattern\": \"*.txt\", \"limit\": 2", "");
	assert_watch(h, "\"pattern\": \"*.txt\", \"limit\": 2", "");

	/* a new file, and a changed one, come next, in time order */
	make_file(h, "new.txt", "new", BASE_SEC + 10);
	make_file(h, "a.txt", "a changed", BASE_SEC + 11);
	make_file(h, "old.txt", "copied with its old time", BASE_SEC); /* before the cursor */
	assert_watch(h, "\"pattern\": \"*.txt\"", "new.txt a.txt");
	assert_watch(h, "\"pattern\": \"*.txt\"", "");
}

static void test_watch_recursive(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *path = NULL;

	path = path_in(h, "x");
	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
	path = path_in(h, "x/y");
	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
	path = path_in(h, ".git");
	assert_int_equal(mkdir(path, 0700), 0);
	make_file(h, "top.pdf", "1", BASE_SEC + 1);
	make_file(h, "x/y/deep.pdf", "2", BASE_SEC + 2);
	make_file(h, "x/mid.pdf", "3", BASE_SEC + 3);
	make_file(h, ".git/hidden.pdf", "4", BASE_SEC + 4);

	assert_watch(h, "\"pattern\": \"*.pdf\", \"recursive\": true",
		     "top.pdf x/y/deep.pdf x/mid.pdf");
	/* the default: every visible file of dir itself */
	free(h->cursor);
	h->cursor = NULL;
	assert_watch(h, "", "top.pdf");
}

static void test_watch_now(void **state)
{
	struct harness *h = *state;
	const int64_t settle = 2000 * 1000000LL; /* WATCH_SETTLE_MS */
	int64_t first;

	make_file(h, "before.txt", "b", 0);
	set_mtime_ns(h, "before.txt", coarse_now_ns() - 3 * settle);
	assert_watch(h, "\"start\": \"now\"", "");
	first = coarse_now_ns(); /* at or after what the first run called now */
	assert_watch(h, "\"start\": \"now\"", "");

	/* A file modified after the first run began (shifted back by the settle
	 * time, so it is taken as soon as the clock moves on) is new. */
	make_file(h, "after.txt", "after", 0);
	set_mtime_ns(h, "after.txt", first - settle);
	wait_past(first);
	assert_watch(h, "\"start\": \"now\"", "after.txt");
	assert_watch(h, "\"start\": \"now\"", "");
}

static void test_watch_settles(void **state)
{
	struct harness *h = *state;

	/* Just written: left for a later run, so it cannot be half-written and
	 * nothing written after this run can sort before it. */
	make_file(h, "fresh.txt", "f", 0);
	make_file(h, "old.txt", "o", BASE_SEC);
	assert_watch(h, "", "old.txt");
	set_mtime_ns(h, "fresh.txt", coarse_now_ns() - 3000 * 1000000LL);
	assert_watch(h, "", "fresh.txt");

	/* A time in the future waits until it has passed. */
	make_file(h, "future.txt", "x", 0);
	set_mtime_ns(h, "future.txt", coarse_now_ns() + 3600 * 1000000000LL);
	assert_watch(h, "", "");
}

static void test_watch_empty_first_run(void **state)
{
	struct harness *h = *state;

	/* start=all on an empty folder: the files that come later are new */
	assert_watch(h, "", "");
	make_file(h, "late.txt", "l", BASE_SEC);
	assert_watch(h, "", "late.txt");
}

static void test_watch_bad_cursor(void **state)
{
	struct harness *h = *state;

	make_file(h, "a.txt", "a", BASE_SEC);
	h->cursor = xstrdup("{\"job\": \"something else\"}");
	assert_watch(h, "", "a.txt");
	assert_int_equal(cJSON_GetArraySize(h->run.log), 1);
	assert_string_equal(json_get_string(cJSON_GetArrayItem(h->run.log, 0), "level"), "warning");
}

static void test_watch_errors(void **state)
{
	static const char *const bad[] = {
		"\"limit\": 0",	      "\"limit\": 1001",      "\"limit\": 2.5",
		"\"limit\": \"ten\"", "\"start\": \"later\"", "\"recursive\": \"yes\"",
	};
	struct harness *h = *state;
	_cleanup_free_ char *missing = path_in(h, "nope");

	prepare(h, "watch", input_json("{\"dir\": \"%s\"}", missing));
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_DATA, missing);
	assert_null(h->run.new_cursor);

	make_file(h, "small.txt", "s", BASE_SEC);
	make_file(h, "large.txt", "0123456789", BASE_SEC + 1);
	prepare(h, "watch", input_json("{\"dir\": \"%s\"}", h->dir));
	h->run.max_file_size = 5;
	assert_int_equal(finish_run(h), MODULE_PENDING);
	assert_error(h, ERROR_MAX_FILE_SIZE_EXCEEDED, "large.txt");
	assert_null(h->run.new_cursor);

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		prepare(h, "watch", input_json("{\"dir\": \"%s\", %s}", h->dir, bad[i]));
		assert_true(finish_run(h) < 0);
		assert_int_equal(h->run.error.type, ERROR_DATA);
	}
}

static void test_cancel(void **state)
{
	struct harness *h = *state;

	make_file(h, "a.txt", "a", BASE_SEC);
	prepare(h, "watch", input_json("{\"dir\": \"%s\"}", h->dir));
	assert_int_equal(h->run.desc->start(&h->run), MODULE_PENDING);
	h->run.desc->cancel(&h->run);
	assert_int_equal(h->done_calls, 0);
	assert_true(helpers_run_loop(&h->loop, 20000));
	assert_int_equal(h->done_calls, 1);
	assert_error(h, ERROR_EXECUTION_INTERRUPTED, "files.watch");
	assert_null(h->run.new_cursor);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_validate),
		T(test_read),
		T(test_read_errors),
		T(test_write_text),
		T(test_write_file_value),
		T(test_write_overwrite),
		T(test_write_unsafe_names),
		T(test_write_errors),
		T(test_watch_all),
		T(test_watch_recursive),
		T(test_watch_now),
		T(test_watch_settles),
		T(test_watch_empty_first_run),
		T(test_watch_bad_cursor),
		T(test_watch_errors),
		T(test_cancel),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
