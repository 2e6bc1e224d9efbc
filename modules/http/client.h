/* SPDX-License-Identifier: MIT */
/*
 * The HTTP client every module shares: libcurl's multi-socket API on the
 * engine's libuv loop (curl's docs/examples/multi-uv.c, made solid). One
 * client per loop, owned by the engine; requests are struct http_request
 * (modules/http/request.h), owned by their callers.
 *
 * Usage:
 *	http_request_init(&st->req);
 *	http_request_set_method(&st->req, "POST");
 *	http_request_set_url(&st->req, url);
 *	http_request_add_header(&st->req, "Authorization", bearer, HTTP_HEADER_SECRET);
 *	http_request_set_body_json(&st->req, json);
 *	r = http_client_request_start(client, &st->req, on_done);
 *	...
 *	static void on_done(struct http_request *req, int status)
 *	{
 *		struct state *st = container_of(req, struct state, req);
 *		if (http_outcome_error(req, status, &err)) ...
 *		... req->response.status, req->response.body.data ...
 *		http_request_done(req);
 *	}
 *
 * A finished request may be started again (a retry): its response is reset
 * at start and a file body is read again from the beginning; a sink, being
 * a one-shot blob writer, is the caller's to replace.
 */
#pragma once

#include <uv.h>

struct http_client;
struct http_request;

/* `status` is 0 when a whole HTTP response arrived, whatever its code
 * (req->response.status), and a negative errno when the exchange failed
 * (req->response.error says why): -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET,
 * -EHOSTUNREACH, -EPROTO (TLS), -EFBIG (response over max_body or the sink's
 * limit), -ECANCELED, -EIO, … It is the last time the client touches `req`;
 * the callback may free it, start it again or start others. */
typedef void http_done_fn(struct http_request *req, int status);

/** Creates a client on `loop`. -ENOMEM/-EIO when curl cannot be set up. */
int http_client_new(uv_loop_t *loop, struct http_client **ret);
/** Cancels what is in flight (their done callbacks run before this returns,
 * with -ECANCELED) and closes the client's handles; the memory goes when the
 * loop runs their close callbacks. Accepts NULL; returns NULL. Not from a
 * done callback. */
struct http_client *http_client_free(struct http_client *client);

/** Starts `req`, which MUST stay valid until `done` is called. On 0, `done`
 * is called exactly once, later, never from inside this call. On < 0 it is
 * never called: -EINVAL (no URL, or the request is already in flight),
 * -ENOENT/-EACCES/-EISDIR (the body's file), -EIO (curl refused the set-up).
 * The request's description is read now; changing it later has no effect on
 * this exchange, but the memory of `body` and `body_path` is used until done. */
int http_client_request_start(struct http_client *client, struct http_request *req,
			      http_done_fn *done);
/** Stops an in-flight request; its done callback still runs, later, once,
 * with -ECANCELED. Does nothing for a request not in flight or already
 * cancelled. */
void http_client_request_cancel(struct http_request *req);
/** Requests in flight (started, done not yet called). */
unsigned http_client_in_flight(const struct http_client *client);

/* How the requests a client finished ended, since it was created: answers
 * by status class, and those that got no answer. */
enum http_outcome {
	HTTP_OUTCOME_2XX,
	HTTP_OUTCOME_3XX,
	HTTP_OUTCOME_4XX,
	HTTP_OUTCOME_5XX,
	HTTP_OUTCOME_FAILED, /* no answer: refused, timed out, reset, TLS */
	HTTP_OUTCOME_CANCELLED,
	_HTTP_OUTCOME_MAX,
};
const char *http_outcome_to_string(enum http_outcome outcome);
uint64_t http_client_outcomes(const struct http_client *client, enum http_outcome outcome);
