/* SPDX-License-Identifier: MIT */
/*
 * Shared fixtures for the unit tests; see helpers.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/timeutil.h"
#include "util/xalloc.h"

char *helpers_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rbe");
	char *data;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	data = xmalloc((size_t)size + 1);
	if (fread(data, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		free(data);
		return NULL;
	}
	fclose(f);
	data[size] = '\0';
	if (ret_len)
		*ret_len = (size_t)size;
	return data;
}

static char *read_below(const char *env, const char *fallback, const char *relative,
			size_t *ret_len)
{
	const char *base = getenv(env);
	char *path = xasprintf("%s/%s", base ? base : fallback, relative);
	char *data = helpers_read_file(path, ret_len);

	if (!data)
		fail_msg("cannot read fixture '%s': %s", path, strerror(errno));
	free(path);
	return data;
}

char *helpers_read_fixture(const char *relative, size_t *ret_len)
{
	return read_below("FIXTURES", "tests/fixtures", relative, ret_len);
}

char *helpers_read_reference(const char *relative, size_t *ret_len)
{
	static const char prefix[] = "cloudconvert-fixtures/";
	const char *vendored = getenv("REFERENCE_VENDORED");

	/* shared/ sits beside the clone in CI; a clone alone still has the
	 * fake server's byte-for-byte copies of the CloudConvert fixtures. */
	if (vendored && strncmp(relative, prefix, sizeof(prefix) - 1) == 0) {
		const char *base = getenv("REFERENCE");
		char *path = xasprintf("%s/%s", base ? base : "../shared/reference", relative);
		char *data = helpers_read_file(path, ret_len);

		free(path);
		if (data)
			return data;
		return read_below("REFERENCE_VENDORED", vendored, relative + sizeof(prefix) - 1,
				  ret_len);
	}
	return read_below("REFERENCE", "../shared/reference", relative, ret_len);
}

void helpers_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wbe");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

char *helpers_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/scenariod-test-XXXXXX", tmp ? tmp : "/tmp");

	assert_non_null(mkdtemp(path));
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void helpers_rmdir_recursive(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void stop_loop(uv_timer_t *timer)
{
	*(bool *)timer->data = true;
	uv_stop(timer->loop);
}

bool helpers_run_loop(uv_loop_t *loop, int64_t deadline_ms)
{
	uv_timer_t deadline;
	bool expired = false;

	/* The timer's data field is test-local plumbing, not engine context. */
	uv_timer_init(loop, &deadline);
	deadline.data = &expired;
	uv_timer_start(&deadline, stop_loop, (uint64_t)deadline_ms, 0);
	uv_unref((uv_handle_t *)&deadline);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&deadline, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return !expired;
}

static void close_walk(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

void helpers_close_loop(uv_loop_t *loop)
{
	uv_walk(loop, close_walk, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}
