/* SPDX-License-Identifier: MIT */
/*
 * What the files of modules/files/ share: the thread-pool job every module
 * of the app runs its file work in, reading of typed input fields, and each
 * module's table entries (files.c lists them in files_modules[]). Nothing
 * outside modules/files/ includes this header.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "modules/module.h"

/* files.watch: most files per run, as its `limit` may say */
#define WATCH_MAX_LIMIT 1000
/* files.watch: a scan stops with MaxResultsExceededError past this many entries */
#define WATCH_MAX_ENTRIES 100000
/* files.watch: how many folder levels below `dir` a recursive watch descends */
#define WATCH_MAX_DEPTH 16
/* files.watch: a file is taken once its modification time is this old (ms) */
#define WATCH_SETTLE_MS 2000

/*
 * The file work of one run, done on the uv thread pool. It is embedded in
 * the module's per-run state (run->priv points at it). work_fn runs on a
 * worker and touches only files and its own state, never the run, the
 * store's database or the loop; it reports a failure with files_job_fail*.
 * Back on the loop, emit_fn reports the outputs when the work succeeded,
 * then free_fn frees the embedding state, then the run finishes.
 */
struct files_job {
	uv_work_t work; /* embedded uv request */
	struct module_run *run; /* borrowed; loop thread only */
	bool cancelled; /* loop thread: cancel() was called */
	enum error_type error_type;
	char *error; /* owned; set by the worker on failure */
	void (*work_fn)(struct files_job *job);
	void (*emit_fn)(struct files_job *job, struct module_run *run);
	void (*free_fn)(struct files_job *job);
};

/* Queues the job; returns MODULE_PENDING, or < 0 with the run's error set
 * (the job is then not freed: the caller still owns it). */
int files_job_start(struct module_run *run, struct files_job *job);
/* The cancel() hook of every files module. */
void files_job_cancel(struct module_run *run);
/* Worker side: records the failure (the first one wins). */
void files_job_fail(struct files_job *job, enum error_type type, const char *fmt, ...)
	_printf_(3, 4);
/* Worker side: records a failure for the negative errno `r`, typed by what
 * the errno means to a person, with strerror appended. Returns r. */
int files_job_fail_errno(struct files_job *job, int r, const char *fmt, ...) _printf_(3, 4);

/* The text of a field (numbers and booleans as text); *ret NULL when the
 * field is missing or null and not `required`. Fails the run with a
 * DataError naming the field otherwise. */
int files_input_text(struct module_run *run, const char *field, bool required, char **ret);
int files_input_bool(struct module_run *run, const char *field, bool fallback, bool *ret);
int files_input_integer(struct module_run *run, const char *field, int64_t fallback, int64_t min,
			int64_t max, int64_t *ret);
/* ISO 8601 UTC with milliseconds (util/timeutil.h) of a file time. */
void files_time_format(const struct timespec *ts, char *buf, size_t size);

extern const struct module_field watch_fields[];
int watch_with_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
int watch_run_start(struct module_run *run);

extern const struct module_field read_fields[];
int read_run_start(struct module_run *run);

extern const struct module_field write_fields[];
int write_with_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
int write_run_start(struct module_run *run);
