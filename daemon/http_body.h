/* SPDX-License-Identifier: MIT */
/*
 * The body of one request to the HTTP listener, as it arrives: kept as raw
 * bytes, parsed into form fields, or (multipart with files_to_blobs)
 * streamed into the blob store, with an HMAC over the raw bytes when the
 * plan has a key. Used by http_server.c only; see http_server.h for what
 * a route gets from it.
 */
#pragma once

#include <stddef.h>

#include <cjson/cJSON.h>

struct MHD_Connection;
struct http_body;
struct http_in_plan;
struct store;

/* Form fields, file parts and their sizes a body may hold at most. */
#define HTTP_BODY_MAX_FIELDS 1000 /* form fields and file parts together */
#define HTTP_BODY_MAX_FILES 100
#define HTTP_BODY_MAX_NAME 256 /* bytes of a field name */
#define HTTP_BODY_MAX_FILENAME 1024 /* bytes of a part's file name */
#define HTTP_BODY_MAX_VALUE (1024 * 1024) /* bytes of one multipart field */
#define HTTP_BODY_MAX_FIELD_BYTES (8 * 1024 * 1024) /* of all multipart fields */
/* An urlencoded value is bounded by the body alone: its bytes are in
 * memory anyway (e.g. GitHub's payload=, up to 25 MB). */

/* Starts the body of a request on `connection` (its Content-Type decides
 * how the body is kept). `store` (borrowed) receives file parts. -EBADMSG
 * for a multipart body without a boundary, -EIO when the HMAC cannot be
 * set up. */
int http_body_new(struct MHD_Connection *connection, const struct http_in_plan *plan,
		  struct store *store, struct http_body **ret);
/* Takes the next bytes of the body. -E2BIG: a field, file or count limit
 * was passed; -EBADMSG: malformed form data; another negative errno when a
 * blob cannot be written. After an error the body only awaits its free. */
int http_body_feed(struct http_body *body, const void *data, size_t len);
/* The whole body arrived: ends the last part, commits the file parts and
 * finishes the HMAC. Errors as http_body_feed(). */
int http_body_finish(struct http_body *body);
/* Frees the body; file parts not yet committed are dropped, so no
 * temporary file is left. Accepts NULL; returns NULL. */
struct http_body *http_body_free(struct http_body *body);

/* What it holds (borrowed; valid until the body is freed). The raw bytes
 * are NUL-terminated; NULL when they were not kept (multipart to blobs). */
const char *http_body_raw(const struct http_body *body, size_t *ret_len);
/* {name: value or [values]}; NULL unless the body is a form. */
const cJSON *http_body_form(const struct http_body *body);
/* [file values with "field"]; NULL unless file parts go to blobs. */
const cJSON *http_body_files(const struct http_body *body);
/* 32 bytes after http_body_finish() when the plan had a key; else NULL. */
const unsigned char *http_body_hmac(const struct http_body *body);
