/* SPDX-License-Identifier: MIT */
/*
 * The daemon's HTTP listener (--listen): libmicrohttpd driven from the
 * daemon's libuv loop through its epoll descriptor, so requests are handled
 * on the loop thread like everything else. It knows nothing of scenarios:
 * it receives requests within limits and hands each, with its whole body,
 * to the daemon's routes (http_front.c), which answer at once or later.
 *
 * Every size and time a remote side controls is bounded: connections in
 * all and per address, idle time per connection, header bytes, and the
 * body (the route's plan says how much; more is answered 413 without
 * reading it). A multipart/form-data body can be streamed into the blob
 * store, file parts becoming file values, so an upload is never whole in
 * memory; its other parts, and every other body, are kept in memory up to
 * the limit.
 *
 * Lifecycle of a request (struct http_in): route_headers() is called once
 * the headers arrived and returns the plan for the body (or answers at
 * once); route_body() is called once the whole body arrived; a reply
 * (http_in_respond_*) may come from either, or any time later — the
 * connection waits (suspended) until then. If the client goes away before
 * the reply, the reply is dropped; a request whose reply never comes is
 * answered by the route's own timer, not here. The request stays valid
 * until replied and until every http_in_ref() was released.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

struct http_in;
struct http_server;
struct store;

/* A request must also have arrived whole (headers and body) within ten
 * idle timeouts, however steadily its bytes trickle in. */
struct http_server_limits {
	unsigned max_connections; /* in all; 0: 512 */
	unsigned max_per_address; /* per client address; 0: 64 */
	unsigned idle_timeout_s; /* a connection silent this long is closed; 0: 30 */
	size_t max_header_bytes; /* request line and headers; 0: 32 KiB */
};

/* What a route wants of the body, decided from the method, path and
 * headers. */
struct http_in_plan {
	int64_t max_body; /* bytes; a longer body (by Content-Length, or as it
			   * arrives) is answered 413 and the route never sees it */
	bool files_to_blobs; /* multipart/form-data: file parts go to the blob
			      * store (streamed); other parts become form fields */
	const void *hmac_key; /* not NULL: HMAC-SHA256 of the raw body bytes is
			       * computed as they arrive (http_in_body_hmac) */
	size_t hmac_key_len;
	uint64_t *too_large; /* not NULL: incremented when the body is answered
			      * 413 without the route seeing it */
};

/* Returns 0 with the plan filled in, or 1 when it answered the request
 * already (e.g. 404, 405, 401 by headers) or kept it (http_in_ref) to
 * answer later. A route that neither answers nor keeps a request gets it
 * answered 500. */
typedef int http_route_headers_fn(struct http_in *in, struct http_in_plan *plan, void *userdata);
/* The whole body arrived (as the plan said); the route answers now or
 * later. */
typedef void http_route_body_fn(struct http_in *in, void *userdata);

/* Starts listening on `address` ("127.0.0.1:8080", "[::1]:8080", ":8080"
 * for every address) on `loop`. `store` (borrowed) receives streamed file
 * parts. -EINVAL with a message for a bad address, another negative errno
 * (with a message) when it cannot listen. */
int http_server_start(uv_loop_t *loop, const char *address, const struct http_server_limits *limits,
		      struct store *store, http_route_headers_fn *on_headers,
		      http_route_body_fn *on_body, void *userdata, struct http_server **ret,
		      char **reterr_msg);
/* The port it listens on (for ":0"). */
unsigned http_server_port(const struct http_server *server);
/* Replies sent since the start, by status class: [1] 1xx … [5] 5xx, [0]
 * anything else. */
void http_server_answered(const struct http_server *server, uint64_t ret[6]);
/* Stops listening, closes every connection (requests waiting for a reply
 * are dropped), and frees the server once its handles closed. Accepts
 * NULL. */
void http_server_stop(struct http_server *server);

/* ---- a request ---- */

const char *http_in_method(const struct http_in *in); /* "POST" */
const char *http_in_path(const struct http_in *in); /* decoded, without the query */
const cJSON *http_in_query(const struct http_in *in); /* {name: value}, decoded */
const cJSON *http_in_headers(const struct http_in *in); /* {lower-case name: value} */
const char *http_in_header(const struct http_in *in, const char *lower_case_name);
const char *http_in_remote_address(const struct http_in *in); /* "127.0.0.1", "::1" */
/* The raw body as received (not with files_to_blobs multipart); its bytes
 * are followed by a NUL that is not counted. */
const char *http_in_body(const struct http_in *in, size_t *ret_len);
/* multipart/form-data or application/x-www-form-urlencoded fields: {name:
 * value} (a repeated name gives an array); NULL for other bodies. */
const cJSON *http_in_form(const struct http_in *in);
/* Streamed file parts: [{field, name, size, mime, sha256, path}] file
 * values (store_blob_writer_commit's), in the order they came. */
const cJSON *http_in_files(const struct http_in *in);
/* The plan's HMAC-SHA256 of the raw body (32 bytes); NULL without a key. */
const unsigned char *http_in_body_hmac(const struct http_in *in);

/* Keeps the request (for a reply later) beyond the route's callback. */
struct http_in *http_in_ref(struct http_in *in);
void http_in_unref(struct http_in *in);
/* Whether the client is still there to read a reply. */
bool http_in_connected(const struct http_in *in);

/* ---- the reply: exactly one per request ---- */

/* Each returns 0 when the reply is on its way (sent once the route's
 * callback returned, or once the body ended if it still arrived);
 * -ENOTCONN when the client left or the server stopped: the reply is
 * dropped and counts as made; -EALREADY for a second reply. -EINVAL (a
 * status outside 100..599, an invalid header, or a Content-Length or
 * Transfer-Encoding header: those are the server's) and, for a file, the
 * error of opening `path`: nothing was sent, the route still owes one. */

/* `headers` (borrowed; may be NULL) is {name: value}. The body is copied. */
int http_in_respond(struct http_in *in, unsigned status, const cJSON *headers,
		    const char *content_type, const void *body, size_t len);
/* The text of `doc`, as application/json. */
int http_in_respond_json(struct http_in *in, unsigned status, const cJSON *doc);
/* A file streamed from disk (a blob): `path` is opened now; the reply
 * says `content_type` and the file's size. */
int http_in_respond_file(struct http_in *in, unsigned status, const cJSON *headers,
			 const char *content_type, const char *path);
