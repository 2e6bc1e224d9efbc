/* SPDX-License-Identifier: MIT */
/*
 * Shared fixtures for the cmocka unit tests: fixture files, temporary
 * directories and running a uv loop until it is idle, with a deadline.
 * Included after cmocka's own headers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Reads $FIXTURES/<relative> (tests/fixtures/) whole; caller frees.
 * Fails the test when it cannot be read. */
char *helpers_read_fixture(const char *relative, size_t *ret_len);
/* Reads ../shared/reference/<relative> ($REFERENCE) whole; caller frees. */
char *helpers_read_reference(const char *relative, size_t *ret_len);
/* Reads any file whole; NULL when it cannot. Caller frees. */
char *helpers_read_file(const char *path, size_t *ret_len);
/* Writes a file whole; fails the test on error. */
void helpers_write_file(const char *path, const void *data, size_t len);
/* Creates a fresh directory under $TMPDIR; caller removes it with
 * helpers_rmdir_recursive() and frees the string. */
char *helpers_mkdtemp(void);
void helpers_rmdir_recursive(const char *path);
/* Runs the loop until it has nothing left to do or `deadline_ms` passed.
 * Returns false on the deadline (the test should then fail). */
bool helpers_run_loop(uv_loop_t *loop, int64_t deadline_ms);
/* Closes every handle still open, runs the loop to let them close, and
 * asserts uv_loop_close() == 0 ("valgrind-happy" close, libuv style). */
void helpers_close_loop(uv_loop_t *loop);
