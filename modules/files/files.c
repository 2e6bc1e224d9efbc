/* SPDX-License-Identifier: MIT */
/*
 * The files app: local folders as a trigger, a source and a destination.
 * This file holds the app's table (files_modules[], listed in
 * modules/registry.c) and what its three modules share: the thread-pool job
 * that keeps file work off the loop, and reading typed input fields.
 *
 * A job keeps libuv's contract: once queued, its after-work callback runs
 * exactly once, on the loop, and that is where the run finishes. cancel()
 * takes a job off the queue when no worker has picked it up yet; a job
 * already on a worker cannot be stopped halfway (a copy, a rename), so it
 * completes, and the run still ends with ExecutionInterrupted as the
 * contract asks, its outputs dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "modules/files/internal.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static void on_work(uv_work_t *work)
{
	struct files_job *job = container_of(work, struct files_job, work);

	job->work_fn(job);
}

static void on_after_work(uv_work_t *work, int status)
{
	struct files_job *job = container_of(work, struct files_job, work);
	struct module_run *run = job->run;

	if (status == UV_ECANCELED || job->cancelled)
		module_run_fail(run, ERROR_EXECUTION_INTERRUPTED, "%s.%s was interrupted",
				run->desc->app, run->desc->name);
	else if (job->error)
		module_run_fail(run, job->error_type, "%s", job->error);
	else
		job->emit_fn(job, run);

	free(job->error);
	run->priv = NULL;
	job->free_fn(job);
	module_run_finish(run);
}

int files_job_start(struct module_run *run, struct files_job *job)
{
	int r;

	job->run = run;
	r = uv_queue_work(run->env->loop, &job->work, on_work, on_after_work);
	if (r < 0)
		return module_run_fail(run, ERROR_UNEXPECTED, "Cannot queue file work: %s",
				       uv_strerror(r));
	run->priv = job;
	return MODULE_PENDING;
}

void files_job_cancel(struct module_run *run)
{
	struct files_job *job = run->priv;

	if (!job)
		return;
	job->cancelled = true;
	/* Fails with EBUSY once a worker runs it; the flag covers that case. */
	uv_cancel((uv_req_t *)&job->work);
}

static void job_vfail(struct files_job *job, enum error_type type, const char *suffix,
		      const char *fmt, va_list ap)
{
	_cleanup_free_ char *text = NULL;

	if (job->error)
		return;
	text = xvasprintf(fmt, ap);
	job->error_type = type;
	job->error = suffix ? xasprintf("%s: %s", text, suffix) : TAKE_PTR(text);
}

void files_job_fail(struct files_job *job, enum error_type type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_vfail(job, type, NULL, fmt, ap);
	va_end(ap);
}

/*
 * What a failed system call means to the person who wrote the scenario: a
 * path that is not there or not usable is their data (DataError, which does
 * not count towards deactivation, so a folder on a mount that comes back
 * later heals itself); missing permissions are a setup problem to fix once;
 * a full disk is OutOfSpaceError, retried later.
 */
static enum error_type error_type_from_errno(int r)
{
	switch (-r) {
	case ENOENT:
	case ENOTDIR:
	case EISDIR:
	case ENAMETOOLONG:
	case ELOOP:
	case EINVAL:
		return ERROR_DATA;
	case EEXIST:
		return ERROR_DUPLICATE_DATA;
	case EACCES:
	case EPERM:
	case EROFS:
		return ERROR_INVALID_CONFIGURATION;
	case ENOSPC:
	case EDQUOT:
		return ERROR_OUT_OF_SPACE;
	case EFBIG:
		return ERROR_MAX_FILE_SIZE_EXCEEDED;
	default:
		return ERROR_UNEXPECTED;
	}
}

int files_job_fail_errno(struct files_job *job, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_vfail(job, error_type_from_errno(r), strerror(-r), fmt, ap);
	va_end(ap);
	return r;
}

int files_input_text(struct module_run *run, const char *field, bool required, char **ret)
{
	const cJSON *value = module_input(run, field);

	if (!value) {
		if (required)
			return module_run_fail(run, ERROR_DATA, "%s is required", field);
		*ret = NULL;
		return 0;
	}
	if (!cJSON_IsString(value) && !cJSON_IsNumber(value) && !cJSON_IsBool(value))
		return module_run_fail(run, ERROR_DATA, "%s must be text, not %s", field,
				       cJSON_IsArray(value) ? "a list" : "a map");
	*ret = json_to_text(value);
	return 0;
}

int files_input_bool(struct module_run *run, const char *field, bool fallback, bool *ret)
{
	const cJSON *value = module_input(run, field);

	if (!value)
		*ret = fallback;
	else if (cJSON_IsBool(value))
		*ret = cJSON_IsTrue(value);
	else if (cJSON_IsString(value) && streq(value->valuestring, "true"))
		*ret = true;
	else if (cJSON_IsString(value) && streq(value->valuestring, "false"))
		*ret = false;
	else
		return module_run_fail(run, ERROR_DATA, "%s must be true or false", field);
	return 0;
}

int files_input_integer(struct module_run *run, const char *field, int64_t fallback, int64_t min,
			int64_t max, int64_t *ret)
{
	const cJSON *value = module_input(run, field);
	double number = 0;
	bool ok = false;

	if (!value) {
		*ret = fallback;
		return 0;
	}
	if (cJSON_IsNumber(value)) {
		number = value->valuedouble;
		ok = true;
	} else if (cJSON_IsString(value)) {
		char *end;

		number = strtod(value->valuestring, &end);
		ok = end != value->valuestring && !*end;
	}
	/* The range check comes first so that the cast below is defined. */
	if (!ok || !(number >= (double)min && number <= (double)max) ||
	    number != (double)(int64_t)number)
		return module_run_fail(run, ERROR_DATA,
				       "%s must be a whole number from %lld to %lld", field,
				       (long long)min, (long long)max);
	*ret = (int64_t)number;
	return 0;
}

void files_time_format(const struct timespec *ts, char *buf, size_t size)
{
	time_format_iso((int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000, buf, size);
}

const struct module_desc files_modules[] = {
	{
		.app = "files",
		.name = "watch",
		.summary = "Watch a folder for new or changed files",
		.kind = MODULE_TRIGGER_POLLING,
		.fields = watch_fields,
		.validate = watch_with_validate,
		.start = watch_run_start,
		.cancel = files_job_cancel,
		/* Reads, or (write) the same bytes to the same name again. */
		.safe_to_repeat = module_repeat_always,
	},
	{
		.app = "files",
		.name = "read",
		.summary = "Read a file",
		.kind = MODULE_ACTION,
		.fields = read_fields,
		.start = read_run_start,
		.cancel = files_job_cancel,
		/* Reads, or (write) the same bytes to the same name again. */
		.safe_to_repeat = module_repeat_always,
	},
	{
		.app = "files",
		.name = "write",
		.summary = "Write a file into a folder",
		.kind = MODULE_ACTION,
		.fields = write_fields,
		.validate = write_with_validate,
		.start = write_run_start,
		.cancel = files_job_cancel,
		/* Reads, or (write) the same bytes to the same name again. */
		.safe_to_repeat = module_repeat_always,
	},
	{ .name = NULL },
};
