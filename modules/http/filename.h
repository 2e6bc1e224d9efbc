/* SPDX-License-Identifier: MIT */
/*
 * The name a downloaded body gets. Names come from the server and from URLs
 * a scenario wrote, so they are reduced to one harmless path segment before
 * anything uses them.
 */
#pragma once

struct http_request;

#define HTTP_FILENAME_MAX 200 /* bytes */

/** Content-Disposition's filename* (RFC 8187) or filename, else the last
 * segment of the URL answered, sanitised. Never NULL; caller frees. */
char *http_filename_from_response(const struct http_request *req);
/** One safe path segment: what follows the last '/' or '\\', without
 * control characters, leading dots or "..", valid UTF-8, at most
 * HTTP_FILENAME_MAX bytes; "download" when nothing is left. Caller frees. */
char *http_filename_sanitize(const char *name);
