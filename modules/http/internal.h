/* SPDX-License-Identifier: MIT */
/*
 * What client.c and transfer.c share and nothing outside modules/http/ sees:
 * the state of one request while curl holds it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#include "modules/http/client.h"

/* One attempt of one request: created at start, freed just before the done
 * callback. curl's callbacks get it as their userdata pointer. */
struct http_transfer {
	struct http_request *req; /* borrowed: the caller's */
	struct http_client *client; /* borrowed */
	http_done_fn *done;
	CURL *easy; /* owned; CURLOPT_PRIVATE points back here */
	struct curl_slist *header_list; /* owned */
	curl_mime *mime; /* owned; freed after `easy` */
	FILE *upload; /* owned: a FILE body */
	int error; /* < 0: why one of our callbacks stopped curl */
	char *message; /* owned: with `error`, for people */
	char errbuf[CURL_ERROR_SIZE]; /* curl's words for its own errors */
	int n_headers; /* of the current response */
	bool sink_decided; /* whether this response goes to the sink is known */
	bool cancelled;
	int64_t started_ms; /* monotonic */
	struct http_transfer *prev, *next; /* in the client's flying or cancelled list */
};

/* Creates the easy handle for `t->req` with every option and callback set;
 * opens a FILE body. Returns -ENOENT/-EACCES/-EISDIR for the body's file,
 * -EIO when curl refuses an option. On error the caller frees what was
 * created with the transfer. */
int http_transfer_setup(struct http_transfer *t);

/* The request's URL with its query appended, or NULL when it has no valid
 * URL. Caller frees. */
char *http_request_url_with_query(const struct http_request *req);
