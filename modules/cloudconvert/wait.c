/* SPDX-License-Identifier: MIT */
/*
 * Waiting for a job or task to end, within the module's `wait` limit.
 *
 * The sync host's blocking GET (cloudconvert-api.md §7) answers the moment
 * the job ends, so it goes first, bounded by what is left of the limit and
 * by CC_SYNC_MAX_MS: proxies cut idle connections (php#97, dotnet PR #17).
 * When it cannot give a final answer (it answered early, failed, or the
 * connection has no sync host), waiting falls back to polling the API host
 * with backoff, from the connection's retry base up to its cap, so a long
 * job costs a few requests a minute against the 500-request rate limit.
 * Past the limit the module fails as Fusion's Convert a File does, with
 * ModuleTimeoutError "Maximum number of repeats exceeded"; the job keeps
 * running at CloudConvert and can be picked up later (list_jobs, get_job,
 * watch_job_events).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "modules/connection.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/units.h"
#include "util/xalloc.h"

static void poll_now(struct cc_op *op);

static int64_t remaining_ms(const struct cc_op *op)
{
	return op->wait.deadline_ms - time_monotonic_ms();
}

static void timed_out(struct cc_op *op)
{
	_cleanup_free_ char *limit = units_format_duration(op->wait.wait_ms);

	cc_op_set_error(op, ERROR_MODULE_TIMEOUT,
			"Maximum number of repeats exceeded: %s %s did not finish within %s "
			"(last status: %s); it keeps running at CloudConvert",
			streq(op->wait.kind, "jobs") ? "job" : "task", op->wait.id, limit,
			op->wait.last_status ? op->wait.last_status : "unknown");
	op->wait.done(op, -ETIMEDOUT);
}

static void remember_status(struct cc_op *op)
{
	const char *status = json_get_string(cc_parse_data(op->doc), "status");

	if (!status)
		return;
	free(op->wait.last_status);
	op->wait.last_status = xstrdup(status);
}

/* Plans the next poll, never past the deadline: the last one happens at
 * the deadline itself, so a job ending just in time still counts. */
static void poll_later(struct cc_op *op, int64_t delay_ms)
{
	int64_t left = remaining_ms(op);

	op->wait.polling = true;
	if (left <= 0) {
		timed_out(op);
		return;
	}
	cc_op_schedule(op, delay_ms < left ? delay_ms : left, poll_now);
}

static int64_t next_delay(struct cc_op *op)
{
	int64_t delay = op->wait.delay_ms;
	int64_t cap = op->conn->retry.cap_ms;

	op->wait.delay_ms = delay * 2 < cap ? delay * 2 : cap;
	return delay;
}

static void on_poll(struct cc_op *op, int status)
{
	if (status < 0) {
		/* The call already retried what can be retried. */
		if (op->deadline_hit ||
		    (op->error.type == ERROR_CONNECTION && remaining_ms(op) <= 0))
			timed_out(op);
		else
			op->wait.done(op, status);
		return;
	}
	remember_status(op);
	if (cc_parse_is_final(cc_parse_data(op->doc))) {
		op->wait.done(op, 0);
		return;
	}
	if (remaining_ms(op) <= 0) {
		timed_out(op);
		return;
	}
	poll_later(op, next_delay(op));
}

static int setup_poll(struct cc_op *op, struct http_request *req)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/%s", op->wait.kind, op->wait.id);
	int64_t left = remaining_ms(op);
	int r;

	r = cc_api_request(op, req, CC_HOST_API, "GET", path);
	if (r == 0 && left > 0 && left < req->timeout_ms)
		req->timeout_ms = left;
	return r;
}

static void poll_now(struct cc_op *op)
{
	cc_api_call(op, CC_CALL_IDEMPOTENT, setup_poll, on_poll);
	op->call_deadline_ms = op->wait.deadline_ms;
}

static void on_sync(struct cc_op *op, int status)
{
	if (status == 0) {
		remember_status(op);
		if (cc_parse_is_final(cc_parse_data(op->doc))) {
			op->wait.done(op, 0);
			return;
		}
		poll_later(op, next_delay(op));
		return;
	}
	switch (op->error.type) {
	case ERROR_CONNECTION:
	case ERROR_RATE_LIMIT:
		/* The sync host is optional; the API host can tell the same. */
		if (remaining_ms(op) <= 0) {
			timed_out(op);
			return;
		}
		poll_later(op, op->error.retry_after_ms > 0 ? op->error.retry_after_ms :
							      next_delay(op));
		return;
	default:
		op->wait.done(op, status);
	}
}

static int setup_sync(struct cc_op *op, struct http_request *req)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/%s", op->wait.kind, op->wait.id);
	int64_t left = remaining_ms(op);
	int r;

	r = cc_api_request(op, req, CC_HOST_SYNC, "GET", path);
	if (r == 0)
		req->timeout_ms = left < CC_SYNC_MAX_MS ? (left > 0 ? left : 1) : CC_SYNC_MAX_MS;
	return r;
}

void cc_wait_start(struct cc_op *op, const char *kind, const char *id, int64_t wait_ms,
		   cc_done_fn *done)
{
	free(op->wait.id);
	free(op->wait.last_status);
	op->wait = (struct cc_wait){
		.kind = kind,
		.id = xstrdup(id),
		.wait_ms = wait_ms,
		.deadline_ms = time_monotonic_ms() + wait_ms,
		.delay_ms = op->conn->retry.base_ms,
		.done = done,
	};
	cc_api_call(op, CC_CALL_IDEMPOTENT | CC_CALL_ONCE, setup_sync, on_sync);
	op->call_deadline_ms = op->wait.deadline_ms;
}
