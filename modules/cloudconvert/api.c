/* SPDX-License-Identifier: MIT */
/*
 * The CloudConvert client's core: the life of a cc_op (see internal.h) and
 * one API call with its retries.
 *
 * None of CloudConvert's SDKs retries, yet the API answers 429 under load,
 * 502 from its CDN and drops connections (cloudconvert-api.md §9, §14). A
 * call here is retried on 429 (after Retry-After), 408, 5xx and network
 * faults with capped exponential backoff and jitter, as the connection's
 * `retry:` setting says. Only idempotent calls are retried blindly: a POST
 * that may have reached the API (a 5xx, a connection lost after sending)
 * is reported back as ambiguous, and the caller decides (jobs.c looks the
 * job up by its tag before creating it again). A 429, or a connection
 * that was never made, proves nothing happened, so those are retried for
 * every call.
 *
 * A connection that dies before the answer makes curl send the request
 * again on its own when the connection had been reused (a keep-alive socket
 * the server may have closed). For a job creation that is exactly the
 * double creation the tag lookup exists to prevent, so such calls
 * (CC_CALL_FRESH) go out on a client of their own, made per attempt, whose
 * connections are never reused.
 *
 * The API key goes into the Authorization header of API and sync-host
 * requests, flagged secret, and nowhere else: storage URLs are presigned.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "modules/connection.h"
#include "modules/http/client.h"
#include "store/store.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static uint64_t next_random(struct cc_op *op)
{
	/* xorshift64*: jitter only needs to differ between runs and clients. */
	op->rng ^= op->rng >> 12;
	op->rng ^= op->rng << 25;
	op->rng ^= op->rng >> 27;
	return op->rng * 2685821657736338717ULL;
}

int64_t cc_api_backoff_ms(int failures, int64_t base_ms, int64_t cap_ms, uint64_t random,
			  int64_t retry_after_ms)
{
	int64_t delay = base_ms > 0 ? base_ms : 1;

	for (int i = 1; i < failures && delay < cap_ms; i++)
		delay *= 2;
	if (delay > cap_ms)
		delay = cap_ms;
	/* Equal jitter: clients that failed together do not retry together,
	 * and no delay collapses to nothing. */
	delay = delay / 2 + (int64_t)(random % (uint64_t)(delay / 2 + 1));
	return retry_after_ms > delay ? retry_after_ms : delay;
}

/* ---- the op ---- */

static void on_timer(uv_timer_t *timer)
{
	struct cc_op *op = container_of(timer, struct cc_op, timer);
	cc_step_fn *step = op->on_timer;

	op->timer_pending = false;
	op->on_timer = NULL;
	step(op);
}

void cc_op_schedule(struct cc_op *op, int64_t delay_ms, cc_step_fn *step)
{
	op->on_timer = step;
	op->timer_pending = true;
	uv_timer_start(&op->timer, on_timer, (uint64_t)(delay_ms > 0 ? delay_ms : 0), 0);
}

void cc_op_set_error(struct cc_op *op, enum error_type type, const char *fmt, ...)
{
	va_list ap;

	module_error_done(&op->error);
	op->error.type = type;
	va_start(ap, fmt);
	op->error.message = xvasprintf(fmt, ap);
	va_end(ap);
}

int cc_op_begin(struct cc_op *op, struct module_run *run, void (*free_fn)(struct cc_op *op))
{
	const struct connection *conn = run->connection;
	const char *module = run->desc->name;

	if (!conn)
		return module_run_fail(run, ERROR_INVALID_CONFIGURATION,
				       "cloudconvert.%s needs a connection: add 'connection: NAME' "
				       "naming a CloudConvert connection of the connections file",
				       module);
	if (conn->problem)
		return module_run_fail(run, ERROR_INVALID_CONFIGURATION, "%s", conn->problem);
	if (!streq_ptr(conn->app, "cloudconvert") || !conn->api_key || !conn->base_url)
		return module_run_fail(run, ERROR_INVALID_CONFIGURATION,
				       "connection '%s' is not a CloudConvert connection "
				       "(app: cloudconvert with an api_key)",
				       conn->name);
	if (!run->env->http || !run->env->store)
		return module_run_fail(run, ERROR_UNEXPECTED,
				       "cloudconvert.%s needs the HTTP client and the store",
				       module);
	op->run = run;
	op->conn = conn;
	op->free_fn = free_fn;
	op->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)op ^ 0x9e3779b97f4a7c15ULL;
	http_request_init(&op->req);
	uv_timer_init(run->env->loop, &op->timer);
	run->priv = op;
	return 0;
}

static void on_closed(uv_handle_t *handle)
{
	struct cc_op *op = container_of((uv_timer_t *)handle, struct cc_op, timer);
	struct module_run *run = op->run;

	http_request_done(&op->req);
	op->own_http = http_client_free(op->own_http);
	module_error_done(&op->error);
	cJSON_Delete(op->doc);
	free(op->wait.id);
	free(op->wait.last_status);
	free(op->upload.url);
	cJSON_Delete(op->upload.params);
	free(op->upload.path);
	free(op->upload.name);
	free(op->upload.mime);
	store_blob_writer_abort(op->download.writer);
	cJSON_Delete(op->download.todo);
	cJSON_Delete(op->download.values);
	run->priv = NULL;
	op->free_fn(op);
	module_run_finish(run);
}

void cc_op_finish(struct cc_op *op)
{
	assert(!op->in_flight);
	uv_timer_stop(&op->timer);
	op->timer_pending = false;
	uv_close((uv_handle_t *)&op->timer, on_closed);
}

void cc_op_fail(struct cc_op *op)
{
	if (!op->error.message)
		cc_op_set_error(op, ERROR_UNEXPECTED, "cloudconvert.%s failed",
				op->run->desc->name);
	module_run_fail(op->run, op->error.type, "%s", op->error.message);
	if (op->error.type == ERROR_RATE_LIMIT)
		module_run_set_retry_after(op->run, op->error.retry_after_ms);
	cc_op_finish(op);
}

void cc_op_fail_with(struct cc_op *op, enum error_type type, const char *fmt, ...)
{
	va_list ap;

	module_error_done(&op->error);
	op->error.type = type;
	va_start(ap, fmt);
	op->error.message = xvasprintf(fmt, ap);
	va_end(ap);
	cc_op_fail(op);
}

static void fail_interrupted(struct cc_op *op)
{
	cc_op_fail_with(op, ERROR_EXECUTION_INTERRUPTED, "cloudconvert.%s was interrupted",
			op->run->desc->name);
}

void cc_op_cancel(struct module_run *run)
{
	struct cc_op *op = run->priv;

	if (!op || op->cancelled)
		return;
	op->cancelled = true;
	if (op->in_flight) {
		http_client_request_cancel(&op->req);
		return;
	}
	if (op->timer_pending) {
		uv_timer_stop(&op->timer);
		cc_op_schedule(op, 0, fail_interrupted);
	}
}

/* ---- requests ---- */

char *cc_api_describe(const struct http_request *req)
{
	const char *url = req->url ? req->url : "";
	const char *path = strstr(url, "://");

	path = path ? strchr(path + 3, '/') : NULL;
	if (!path)
		path = "/";
	return xasprintf("%s %.*s", req->method, (int)strcspn(path, "?#"), path);
}

int cc_api_request(struct cc_op *op, struct http_request *req, enum cc_host host,
		   const char *method, const char *path)
{
	_cleanup_free_ char *url = NULL;
	int r;

	op->host = host;
	switch (host) {
	case CC_HOST_API:
		url = xasprintf("%s%s", op->conn->base_url, path);
		break;
	case CC_HOST_SYNC:
		url = xasprintf("%s%s", op->conn->sync_url, path);
		break;
	case CC_HOST_STORAGE:
		url = xstrdup(path);
		break;
	}
	r = http_request_set_method(req, method);
	if (r == 0)
		r = http_request_set_url(req, url);
	if (r < 0) {
		cc_op_set_error(op, ERROR_DATA, "CloudConvert gave a URL that cannot be used (%s)",
				strerror(-r));
		return r;
	}
	req->connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	if (host == CC_HOST_STORAGE) {
		/* Files may be large: no total limit, but no silent stall either. */
		req->timeout_ms = 0;
		req->stall_timeout_ms = CC_STALL_TIMEOUT_MS;
		return 0;
	}
	req->timeout_ms = CC_API_TIMEOUT_MS;
	http_request_add_header(req, "Accept", "application/json", 0);
	{
		_cleanup_free_ char *bearer = xasprintf("Bearer %s", op->conn->api_key);

		r = http_request_add_header(req, "Authorization", bearer, HTTP_HEADER_SECRET);
		explicit_bzero(bearer, strlen(bearer));
	}
	if (r < 0)
		cc_op_set_error(op, ERROR_INVALID_CONFIGURATION,
				"the API key of connection '%s' cannot be sent in a header",
				op->conn->name);
	return r;
}

/* ---- one call ---- */

static void attempt(struct cc_op *op);

static void call_failed_later(struct cc_op *op)
{
	op->call_done(op, -EIO);
}

static bool transport_retryable(int status)
{
	switch (status) {
	case -ECANCELED:
	case -EFBIG:
	case -EINVAL:
	case -EPROTONOSUPPORT:
	case -ENOSPC:
	case -EDQUOT:
	case -ENOENT:
	case -EACCES:
		return false;
	default:
		return true;
	}
}

/* A connection that was never made proves the request was not sent. */
static bool never_sent(int status)
{
	return status == -ECONNREFUSED || status == -EHOSTUNREACH;
}

static void set_http_error(struct cc_op *op, int status)
{
	const struct http_request *req = &op->req;
	const struct http_response *response = &req->response;
	_cleanup_free_ char *what = cc_api_describe(req);
	bool storage = op->host == CC_HOST_STORAGE;

	module_error_done(&op->error);
	if (status < 0) {
		op->error.type = status == -EFBIG ? ERROR_MAX_FILE_SIZE_EXCEEDED :
				 status == -ENOSPC || status == -EDQUOT ? ERROR_OUT_OF_SPACE :
									  ERROR_CONNECTION;
		op->error.message =
			xasprintf("%s on the CloudConvert %s failed: %s", what,
				  storage ? "storage host" : "API",
				  response->error ? response->error : strerror(-status));
		return;
	}
	if (storage)
		cc_parse_storage_error(response->status, response->body.data, response->body.len,
				       what, &op->error);
	else
		cc_parse_error(response->status, response->body.data, response->body.len,
			       http_response_header(req, "retry-after"), what, &op->error);
	if (http_request_leaks_secret(req, op->error.message)) {
		free(op->error.message);
		op->error.message = xasprintf("%s: HTTP %ld", what, response->status);
	}
}

/* Decides what a failed attempt leads to: another attempt after a delay,
 * or the end of the call. */
static void retry_or_fail(struct cc_op *op, int status)
{
	long code = status < 0 ? 0 : op->req.response.status;
	bool transient = status < 0 ? transport_retryable(status) :
				      code == 429 || code == 408 || code >= 500;
	bool safe = op->flags & CC_CALL_IDEMPOTENT || code == 429 || never_sent(status);
	const struct connection_retry *retry = &op->conn->retry;
	int64_t delay;

	if (transient && !safe)
		op->ambiguous = true;
	if (!transient || !safe || op->flags & CC_CALL_ONCE || op->attempt >= retry->attempts) {
		op->call_done(op, -EIO);
		return;
	}
	if (op->error.retry_after_ms > CC_RETRY_AFTER_MAX_MS) {
		op->call_done(op, -EIO);
		return;
	}
	delay = cc_api_backoff_ms(op->attempt, retry->base_ms, retry->cap_ms, next_random(op),
				  op->error.retry_after_ms);
	if (op->call_deadline_ms && time_monotonic_ms() + delay >= op->call_deadline_ms) {
		op->deadline_hit = true;
		op->call_done(op, -EIO);
		return;
	}
	cc_op_schedule(op, delay, attempt);
}

static void on_http_done(struct http_request *req, int status)
{
	struct cc_op *op = container_of(req, struct cc_op, req);
	long code = req->response.status;
	int r;

	op->in_flight = false;
	if (op->cancelled || status == -ECANCELED) {
		cc_op_set_error(op, ERROR_EXECUTION_INTERRUPTED, "cloudconvert.%s was interrupted",
				op->run->desc->name);
		op->ambiguous = false;
		op->call_done(op, -ECANCELED);
		return;
	}
	if (status == 0 && code == 404 && op->flags & CC_CALL_GONE_OK && op->attempt > 1) {
		op->call_done(op, 0);
		return;
	}
	if (status < 0 || code < 200 || code >= 300) {
		set_http_error(op, status);
		retry_or_fail(op, status);
		return;
	}
	if (op->flags & CC_CALL_RAW || req->response.body.len == 0) {
		op->call_done(op, 0);
		return;
	}
	r = cc_parse_body(req->response.body.data, req->response.body.len, &op->doc);
	if (r < 0) {
		_cleanup_free_ char *what = cc_api_describe(req);

		/* A cut-off answer looks like this too: worth another try. */
		cc_op_set_error(op, ERROR_CONNECTION,
				"%s: CloudConvert answered HTTP %ld with a body that is not JSON",
				what, code);
		retry_or_fail(op, -EBADMSG);
		return;
	}
	op->call_done(op, 0);
}

static void attempt(struct cc_op *op)
{
	struct http_client *client;
	int r;

	if (op->cancelled) {
		fail_interrupted(op);
		return;
	}
	op->attempt++;
	http_request_done(&op->req);
	http_request_init(&op->req);
	module_error_done(&op->error);
	op->error = (struct module_error){ 0 };
	r = op->setup(op, &op->req);
	if (r < 0) {
		if (!op->error.message)
			cc_op_set_error(op, ERROR_UNEXPECTED, "cannot prepare the request: %s",
					strerror(-r));
		cc_op_schedule(op, 0, call_failed_later);
		return;
	}
	client = op->run->env->http;
	if (op->flags & CC_CALL_FRESH) {
		op->own_http = http_client_free(op->own_http);
		r = http_client_new(op->run->env->loop, &op->own_http);
		if (r < 0) {
			cc_op_set_error(op, ERROR_UNEXPECTED, "cannot set up an HTTP client: %s",
					strerror(-r));
			cc_op_schedule(op, 0, call_failed_later);
			return;
		}
		client = op->own_http;
	}
	r = http_client_request_start(client, &op->req, on_http_done);
	if (r < 0) {
		_cleanup_free_ char *what = cc_api_describe(&op->req);

		cc_op_set_error(op, r == -ENOENT || r == -EACCES ? ERROR_DATA : ERROR_UNEXPECTED,
				"%s cannot start: %s", what, strerror(-r));
		cc_op_schedule(op, 0, call_failed_later);
		return;
	}
	op->in_flight = true;
}

void cc_api_call(struct cc_op *op, unsigned flags, cc_setup_fn *setup, cc_done_fn *done)
{
	if (!(flags & CC_CALL_IDEMPOTENT))
		flags |= CC_CALL_FRESH;
	op->flags = flags;
	op->setup = setup;
	op->call_done = done;
	op->attempt = 0;
	op->ambiguous = false;
	op->deadline_hit = false;
	op->call_deadline_ms = 0;
	cJSON_Delete(op->doc);
	op->doc = NULL;
	/* Through the timer, so `done` never runs inside this call. */
	cc_op_schedule(op, 0, attempt);
}
