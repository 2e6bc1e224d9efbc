/* SPDX-License-Identifier: MIT */
/*
 * One HTTP exchange as the modules see it: what to send (method, URL, query,
 * headers, a body from memory, from a file or as a multipart form) and what
 * came back (status, headers, body or a blob). The struct is embedded in its
 * owner, who gets back to itself with container_of() in the done callback of
 * http_client_request_start() (modules/http/client.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/strbuf.h"

struct http_transfer;
struct store_blob_writer;

/* Limits on what a caller (ultimately a scenario) can put in one request,
 * and on what a server can send back. */
#define HTTP_MAX_URL 8192
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEADER_LEN 8192 /* name + value, bytes */
#define HTTP_MAX_QUERY_LEN 16384 /* the encoded query, bytes */
#define HTTP_MAX_FORM_FIELDS 64
#define HTTP_MAX_BODY (64LL * 1024 * 1024) /* a request body held in memory */
#define HTTP_MAX_RESPONSE_HEADERS 200
#define HTTP_DEFAULT_MAX_BODY (10LL * 1024 * 1024) /* a response body held in memory */
#define HTTP_DEFAULT_TIMEOUT_MS (30 * 1000)
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS (10 * 1000)

/* http_request_add_header() flags. */
enum {
	/* The value is a credential: it never appears in a log line, an error
	 * message or the store. Authorization, Proxy-Authorization, Cookie and
	 * X-Api-Key are always treated so. */
	HTTP_HEADER_SECRET = 1 << 0,
};

enum http_body_kind {
	HTTP_BODY_NONE,
	HTTP_BODY_MEMORY, /* body/body_len */
	HTTP_BODY_FILE, /* body_path, streamed */
	HTTP_BODY_FORM, /* form fields, then the file part last (when set) */
};

struct http_header {
	char *name; /* owned */
	char *value; /* owned */
	bool secret;
};

struct http_form_field {
	char *name; /* owned */
	char *value; /* owned */
};

/* What came back; written by the client only, valid from the done callback
 * until the next start or http_request_done(). */
struct http_response {
	long status; /* HTTP status of the last response; 0 when none came */
	char *reason; /* owned: its reason phrase, printable; may be NULL */
	char *url; /* owned: the URL answered, after redirects; may be NULL */
	cJSON *headers; /* owned: lowercased name → value (repeats joined by ", ") */
	struct strbuf body; /* the body when it did not go to the sink */
	bool to_sink; /* the body went to the request's sink (2xx with a sink) */
	int64_t received; /* body bytes received, into `body` or the sink */
	int64_t sent; /* request body bytes sent */
	int64_t duration_ms; /* from start to done */
	char *error; /* owned: why the transfer failed (done status < 0);
			       * names the request without query or credentials */
};

struct http_request {
	/* What to send: written through the functions below (the plain fields
	 * may be set directly); read by the client at start. */
	char *method; /* owned; "GET" after init */
	char *url; /* owned; http or https, checked when set */
	struct strbuf query; /* encoded "a=1&b=x%20y", appended to url's own */
	struct http_header *headers; /* owned array */
	size_t n_headers;
	enum http_body_kind body_kind;
	char *body; /* owned: MEMORY bytes */
	size_t body_len;
	char *body_path; /* owned: FILE path, or FORM's file part */
	char *content_type; /* owned: sent unless a Content-Type header is set */
	struct http_form_field *form; /* owned array */
	size_t n_form;
	char *form_file_field; /* owned: name of the file part; NULL: none */
	char *form_file_name; /* owned: filename= of the file part */
	int64_t connect_timeout_ms; /* 0: curl's own (300 s) */
	int64_t timeout_ms; /* whole exchange; 0: none */
	int64_t stall_timeout_ms; /* abort below 1 byte/s for this long; 0: never */
	int64_t max_body; /* response bytes kept in memory; over → -EFBIG */
	struct store_blob_writer *sink; /* borrowed: a 2xx body streams here, not to memory */

	struct http_response response;

	struct http_transfer *transfer; /* client.c's; non-NULL while in flight */
};

/** Sets defaults: GET, 30 s total, 10 s connect, 10 MiB response in memory. */
void http_request_init(struct http_request *req);
/** Frees what the request owns; MUST NOT be called while it is in flight. */
void http_request_done(struct http_request *req);
/** Frees the response only (done before every start). */
void http_response_done(struct http_response *response);

/** GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS (any case); -EINVAL otherwise. */
int http_request_set_method(struct http_request *req, const char *method);
/** Copies the URL after checking it: -EINVAL when malformed or too long,
 * -EPROTONOSUPPORT for a scheme other than http and https. */
int http_request_set_url(struct http_request *req, const char *url);
/** Adds a header sent as given. -EINVAL for a name that is not an HTTP token
 * or a value holding CR, LF or NUL (header injection); -E2BIG past the
 * limits. */
int http_request_add_header(struct http_request *req, const char *name, const char *value,
			    unsigned flags);
/** The value of a request header (case-insensitive name) or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/** Appends name=value to the query, percent-encoded (RFC 3986: everything
 * but unreserved characters). -E2BIG past HTTP_MAX_QUERY_LEN. */
int http_request_add_query(struct http_request *req, const char *name, const char *value);
/** Body from memory (copied). `content_type` NULL: application/octet-stream.
 * -E2BIG past HTTP_MAX_BODY. */
int http_request_set_body(struct http_request *req, const void *data, size_t len,
			  const char *content_type);
/** Body as compact JSON with Content-Type application/json. */
int http_request_set_body_json(struct http_request *req, const cJSON *json);
/** Body streamed from a file, read again on every start (and rewound on
 * redirects). The file is checked when the request starts. */
int http_request_set_body_file(struct http_request *req, const char *path,
			       const char *content_type);
/** Adds a text field of a multipart/form-data body, in order. */
int http_request_add_form_field(struct http_request *req, const char *name, const char *value);
/** Sets the file part of a multipart/form-data body: always sent after the
 * fields (some APIs, CloudConvert's among them, require the file last),
 * streamed from `path` with `filename` (NULL: the path's last segment) and
 * `content_type` (NULL: application/octet-stream). */
int http_request_set_form_file(struct http_request *req, const char *field, const char *path,
			       const char *filename, const char *content_type);

/** A response header by lowercase name, or NULL. */
const char *http_response_header(const struct http_request *req, const char *name);
/** The response's media type, lowercased, without parameters ("application/json"),
 * or NULL. Caller frees. */
char *http_response_media_type(const struct http_request *req);
/** True for a JSON media type (application/json, anything +json). */
bool http_media_type_is_json(const char *media_type);

/** "GET https://host:port/path": the request without userinfo, query or
 * fragment, safe for logs and errors. Caller frees. */
char *http_request_describe(const struct http_request *req);
/** True when `text` contains the value of a secret header, so a caller
 * about to show server text can drop it. */
bool http_request_leaks_secret(const struct http_request *req, const char *text);
/** True when the bytes are valid UTF-8 without NUL: text a JSON string can hold. */
bool http_body_is_text(const char *data, size_t len);
