/* SPDX-License-Identifier: MIT */
/*
 * What the files of modules/cloudconvert/ share and nothing outside sees:
 * struct cc_op, the state every CloudConvert module run is built around, and
 * the steps composed from it (a call with retries, waiting, uploading,
 * downloading, running a job).
 *
 * A run is a chain of asynchronous steps on one cc_op. Each step takes a
 * callback that is called exactly once, later, never from inside the call
 * that started the step: status 0 when it succeeded, < 0 with op->error
 * set when it failed. At most one thing is pending at a time, an HTTP
 * exchange or the op's timer, which is what makes cancel() simple. A run
 * ends with cc_op_finish() (outputs emitted) or cc_op_fail(); both close
 * the timer, free the module's state from the close callback and then
 * finish the module run.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "modules/cloudconvert/cloudconvert.h"
#include "modules/http/request.h"
#include "modules/module.h"

struct connection;
struct store_blob_writer;

#define CC_API_TIMEOUT_MS (60 * 1000) /* one API exchange */
#define CC_SYNC_MAX_MS (5 * 60 * 1000) /* one blocking sync-host GET */
#define CC_STALL_TIMEOUT_MS (60 * 1000) /* uploads and downloads: no byte for this long */
#define CC_RETRY_AFTER_MAX_MS (120 * 1000) /* longer Retry-After: give up, RateLimitError */
#define CC_DEFAULT_WAIT_MS (3 * 60 * 1000) /* Fusion's Convert a File limit */
#define CC_MAX_WAIT_MS (24 * 3600 * 1000LL) /* jobs are deleted a day after they end */
#define CC_MAX_TASKS 100 /* tasks in one job we create */
#define CC_MAX_LIST 1000 /* items one list module emits */
#define CC_PER_PAGE 100 /* the API's page size */

enum cc_host {
	CC_HOST_API, /* conn->base_url + path, with the key */
	CC_HOST_SYNC, /* conn->sync_url + path, with the key */
	CC_HOST_STORAGE, /* an absolute upload or download URL, never the key */
};

/* cc_api_call() flags. */
enum {
	CC_CALL_IDEMPOTENT = 1 << 0, /* may be repeated after any failure */
	CC_CALL_RAW = 1 << 1, /* the answer is not a CloudConvert JSON document */
	CC_CALL_ONCE = 1 << 2, /* no retry at all (the caller has its own plan) */
	CC_CALL_GONE_OK = 1 << 3, /* a 404 after a retry means an earlier try worked */
	CC_CALL_FRESH = 1 << 4, /* every attempt on a new connection (see api.c) */
};

struct cc_op;
/* Describes one attempt of a call on a freshly initialised request. On < 0
 * the call fails with op->error (set it, or an UnexpectedError is used). */
typedef int cc_setup_fn(struct cc_op *op, struct http_request *req);
typedef void cc_done_fn(struct cc_op *op, int status);
typedef void cc_step_fn(struct cc_op *op);

/* wait.c: waiting for a job or task to end. */
struct cc_wait {
	const char *kind; /* "jobs" or "tasks" (static) */
	char *id; /* owned */
	int64_t deadline_ms; /* monotonic */
	int64_t wait_ms; /* as asked, for the message */
	int64_t delay_ms; /* next poll interval */
	bool polling; /* the sync host did not answer with a final state */
	char *last_status; /* owned: for the timeout message */
	cc_done_fn *done;
};

/* upload.c: one file into an import/upload task's form. */
struct cc_upload {
	char *url; /* owned: the form's target */
	cJSON *params; /* owned: the form's parameters, in order */
	char *path; /* owned: the blob's path */
	char *name; /* owned: filename= of the file part */
	char *mime; /* owned */
	cc_done_fn *done;
};

/* download.c: export files into blobs. */
struct cc_download {
	cJSON *todo; /* owned: [{filename, size, url}] */
	int index; /* the file being fetched */
	struct store_blob_writer *writer; /* owned: the current attempt's sink */
	cJSON *values; /* owned: the file values so far */
	cc_done_fn *done;
};

struct cc_op {
	struct module_run *run; /* borrowed */
	const struct connection *conn; /* borrowed; checked usable by cc_op_begin() */
	uv_timer_t timer; /* retry delays, poll intervals, deferred callbacks */
	struct http_client *own_http; /* owned: CC_CALL_FRESH's pool-less client */
	struct http_request req; /* the current attempt's exchange */
	bool in_flight;
	bool timer_pending;
	bool cancelled;
	uint64_t rng; /* xorshift state for jitter */
	cc_step_fn *on_timer;

	/* The call in progress (api.c). */
	enum cc_host host; /* of the current attempt */
	unsigned flags;
	cc_setup_fn *setup;
	cc_done_fn *call_done;
	int attempt; /* 1-based */
	int64_t call_deadline_ms; /* monotonic; 0: none. No retry is planned past it. */
	bool ambiguous; /* the failed call may have taken effect */
	bool deadline_hit; /* it failed because a retry would pass the deadline */
	struct module_error error; /* why the last step failed */
	cJSON *doc; /* owned: the last successful answer (NULL: no body) */

	struct cc_wait wait;
	struct cc_upload upload;
	struct cc_download download;

	/* Frees the module's state that holds this op; called last. */
	void (*free_fn)(struct cc_op *op);
};

/* ---- api.c ---- */

/** Checks the run's connection and sets the op up. On < 0 the run has
 * failed (InvalidConfigurationError, …) and nothing needs closing: the
 * caller frees its state and returns the error from start(). */
int cc_op_begin(struct cc_op *op, struct module_run *run, void (*free_fn)(struct cc_op *op));
/** Ends the run successfully (outputs already emitted), asynchronously. */
void cc_op_finish(struct cc_op *op);
/** Ends the run with op->error. */
void cc_op_fail(struct cc_op *op);
/** Ends the run with this error. */
void cc_op_fail_with(struct cc_op *op, enum error_type type, const char *fmt, ...) _printf_(3, 4);
/** Sets op->error (replacing it). */
void cc_op_set_error(struct cc_op *op, enum error_type type, const char *fmt, ...) _printf_(3, 4);
/** Calls `step` from the timer after `delay_ms`. */
void cc_op_schedule(struct cc_op *op, int64_t delay_ms, cc_step_fn *step);
/** The module's cancel(): the pending exchange or delay stops and the run
 * ends with ExecutionInterrupted. */
void cc_op_cancel(struct module_run *run);

/** Runs one call, retrying as `flags` and the connection's retry settings
 * allow: 429 (after Retry-After), 408, 5xx and network faults. A call that
 * is not idempotent is retried only on 429 and on faults that prove the
 * request was never sent; after any other fault op->ambiguous is set. On
 * success op->doc holds the parsed answer (unless CC_CALL_RAW: then the
 * answer is in op->req.response). `done` is always called, later. */
void cc_api_call(struct cc_op *op, unsigned flags, cc_setup_fn *setup, cc_done_fn *done);
/** Fills `req` for a request to `host`: URL, the Authorization header
 * (API and sync hosts only), Accept and the timeouts. `path` starts with
 * "/v2/" for the API and sync hosts and is an absolute URL for storage. */
int cc_api_request(struct cc_op *op, struct http_request *req, enum cc_host host,
		   const char *method, const char *path);
/** "GET /v2/jobs/ID" for messages: the method and the path, no host, no
 * query. Caller frees. */
char *cc_api_describe(const struct http_request *req);

/* ---- wait.c ---- */

/** Waits until job or task `id` ("jobs"/"tasks") is finished or error: the
 * sync host first, then polling the API host with backoff, all within
 * `wait_ms`; past it ModuleTimeoutError "Maximum number of repeats
 * exceeded". On success op->doc holds the final object's answer. */
void cc_wait_start(struct cc_op *op, const char *kind, const char *id, int64_t wait_ms,
		   cc_done_fn *done);

/* ---- upload.c ---- */

/** Uploads the blob of `file_value` to a waiting import/upload task's form:
 * the parameters verbatim and in order, the file part last, no
 * Authorization header. */
void cc_upload_start(struct cc_op *op, const cJSON *task, const cJSON *file_value,
		     cc_done_fn *done);

/* ---- download.c ---- */

/** Streams each file of `files` ({filename, size, url}) into a blob,
 * enforcing the run's max_file_size while bytes arrive. On success
 * op->download.values holds the file values in order. */
void cc_download_start(struct cc_op *op, const cJSON *files, cc_done_fn *done);

/* ---- jobs.c: create a job, upload its inputs, wait, download ---- */

struct cc_job_flow {
	struct cc_op op;
	cJSON *tasks; /* owned: the "tasks" object to send */
	cJSON *uploads; /* owned: task name → file value, for import/upload tasks */
	char *tag; /* owned */
	bool download;
	int64_t wait_ms;
	cJSON *job; /* owned: the latest job object */
	struct module_error create_error; /* the unconfirmed creation's, while looking it up */
	cJSON *failed_before; /* owned: ids of same-tag jobs that had failed when resumed */
	int creations; /* POST /v2/jobs sent */
	int next_task; /* index in job.tasks of the next upload to consider */
	bool refetched; /* the job was fetched again for its upload forms */
	void (*free_extra)(struct cc_job_flow *flow); /* MAY be NULL */
};

/** Creates the job (tagged), uploads its files, and then either emits the
 * job as created or waits, downloads the exported files and emits the
 * job with `file` and `files`. Takes over the flow: it is freed with the
 * run. Returns MODULE_PENDING, or < 0 (the flow freed) when the run
 * failed before anything started. */
int cc_jobs_start(struct cc_job_flow *flow, struct module_run *run);
/** Adds an import task named `name` for one input ({upload: FILE} or
 * {url, headers, filename}) to flow->tasks. `where` names the field for
 * messages. Returns 0, or fails the run and returns -EIO. */
int cc_jobs_add_input(struct cc_job_flow *flow, struct module_run *run, const char *name,
		      const cJSON *input, const char *where);
/** Reads the fields every job module shares (download, wait, tag) into
 * the flow. Fails the run and returns -EIO on a bad value. */
int cc_jobs_read_common(struct cc_job_flow *flow, struct module_run *run);
/** Frees a flow that was never started. */
void cc_jobs_flow_free(struct cc_job_flow *flow);

/* ---- calls.c: modules made of one API call (or pages of one) ---- */

struct cc_simple;
/* Called once the call succeeded (op.doc holds the answer): emits, then
 * finishes the op, fails it or starts another call. */
typedef void cc_emit_fn(struct cc_simple *s);

struct cc_simple {
	struct cc_op op;
	enum cc_host host;
	const char *method; /* static */
	char *path; /* owned: "/v2/…" */
	cJSON *query; /* owned: name → text, sent in order */
	cJSON *headers; /* owned: name → text, extra request headers */
	cJSON *body; /* owned: sent as JSON; NULL: no body */
	unsigned flags; /* cc_api_call() flags */
	int64_t limit; /* lists: most items to emit */
	int64_t emitted; /* lists: items emitted so far */
	int page; /* lists: the page to ask for (1-based); 0: no paging */
	int64_t wait_ms; /* modules that wait */
	cc_emit_fn *emit;
	cJSON *state; /* owned: what a module keeps between calls */
};

/** A call of `method` on `path` of the API host that emits what emit()
 * makes of the answer. Caller fills the rest, then cc_simple_start(). */
struct cc_simple *cc_simple_new(const char *method, const char *path, cc_emit_fn *emit);
/** Frees a simple call that was never started. */
void cc_simple_free(struct cc_simple *s);
/** Starts it: MODULE_PENDING, or < 0 (s freed) when the run failed first. */
int cc_simple_start(struct cc_simple *s, struct module_run *run);
/** Makes the call again (the next page: s->page was advanced). */
void cc_simple_again(struct cc_simple *s);
/** emit() for an answer that is one object: emits it without the envelope. */
void cc_simple_emit_object(struct cc_simple *s);
/** emit() for a list: one bundle per item, following pages up to limit. */
void cc_simple_emit_list(struct cc_simple *s);
/** emit() for a deletion: emits {id} from s->state's "id". */
void cc_simple_emit_id(struct cc_simple *s);
/** Adds filter[name]=value to the query when the field has a value. */
void cc_simple_filter(struct cc_simple *s, struct module_run *run, const char *field,
		      const char *name);
/** Reads a required id field (job_id, task_id): one path segment. Fails the
 * run and returns NULL when it is not one. Caller frees. */
char *cc_simple_id(struct module_run *run, const char *field);

/* ---- input helpers (common.c) ---- */

/** A duration field in ms (`fallback` when absent); fails the run on a bad one. */
int cc_input_duration(struct module_run *run, const char *field, int64_t fallback, int64_t *ret_ms);
/** An integer field within [min, max]; fails the run otherwise. */
int cc_input_integer(struct module_run *run, const char *field, int64_t fallback, int64_t min,
		     int64_t max, int64_t *ret);
bool cc_input_bool(struct module_run *run, const char *field, bool fallback);
/** The text of a scalar field, or NULL when absent. Caller frees. */
char *cc_input_text(struct module_run *run, const char *field);

/* ---- the modules' fields and start functions ---- */

extern const struct module_field cc_capture_website_fields[];
extern const struct module_field cc_convert_file_fields[];
extern const struct module_field cc_create_archive_fields[];
extern const struct module_field cc_merge_files_fields[];
extern const struct module_field cc_optimize_file_fields[];
extern const struct module_field cc_create_job_fields[];
extern const struct module_field cc_watch_job_events_fields[];
extern const struct module_field cc_list_jobs_fields[];
extern const struct module_field cc_get_job_fields[];
extern const struct module_field cc_delete_job_fields[];
extern const struct module_field cc_get_task_fields[];
extern const struct module_field cc_download_file_fields[];
extern const struct module_field cc_list_tasks_fields[];
extern const struct module_field cc_retry_task_fields[];
extern const struct module_field cc_cancel_task_fields[];
extern const struct module_field cc_delete_task_fields[];
extern const struct module_field cc_list_operations_fields[];
extern const struct module_field cc_get_my_info_fields[];
extern const struct module_field cc_make_api_call_fields[];

int cc_capture_website_start(struct module_run *run);
int cc_convert_file_start(struct module_run *run);
int cc_create_archive_start(struct module_run *run);
int cc_merge_files_start(struct module_run *run);
int cc_optimize_file_start(struct module_run *run);
int cc_create_job_start(struct module_run *run);
int cc_create_job_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
int cc_watch_job_events_start(struct module_run *run);
int cc_watch_job_events_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
int cc_list_jobs_start(struct module_run *run);
int cc_get_job_start(struct module_run *run);
int cc_delete_job_start(struct module_run *run);
int cc_get_task_start(struct module_run *run);
int cc_download_file_start(struct module_run *run);
int cc_list_tasks_start(struct module_run *run);
int cc_retry_task_start(struct module_run *run);
int cc_cancel_task_start(struct module_run *run);
int cc_delete_task_start(struct module_run *run);
int cc_list_operations_start(struct module_run *run);
int cc_get_my_info_start(struct module_run *run);
int cc_make_api_call_start(struct module_run *run);
int cc_make_api_call_validate(const cJSON *constant_with, module_report_fn *report, void *ctx);
