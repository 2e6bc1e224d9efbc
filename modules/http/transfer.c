/* SPDX-License-Identifier: MIT */
/*
 * One request turned into a curl easy handle, and curl's per-transfer
 * callbacks: response headers into a JSON object, the body into memory (up
 * to the request's cap) or into the sink, and a file body read as curl asks
 * for it. Only 2xx bodies go to the sink, so an error page never becomes a
 * downloaded file and stays readable for the error message.
 *
 * The options are the safe set for a daemon fetching URLs a scenario wrote:
 * http and https only (redirects too), no signals, bounded redirects,
 * timeouts, and no Expect: 100-continue round trip.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "modules/http/internal.h"
#include "modules/http/request.h"
#include "store/store.h"
#include "util/json.h"
#include "util/log.h"
#include "util/xalloc.h"

#define MAX_REDIRECTS 10L
#define MAX_REASON 64

/* Stops curl from one of our callbacks with an error of our own words. */
static void stop(struct http_transfer *t, int error, const char *fmt, ...) _printf_(3, 4);
static void stop(struct http_transfer *t, int error, const char *fmt, ...)
{
	va_list ap;

	if (t->error < 0)
		return;
	t->error = error;
	va_start(ap, fmt);
	t->message = xvasprintf(fmt, ap);
	va_end(ap);
}

/* A status line starts a new response (after a redirect or a 100 Continue):
 * what was kept of the previous one goes. */
static void begin_response(struct http_transfer *t, const char *line, size_t len)
{
	struct http_response *response = &t->req->response;
	const char *p = memchr(line, ' ', len), *end = line + len;
	struct strbuf reason;

	cJSON_Delete(response->headers);
	response->headers = cJSON_CreateObject();
	t->n_headers = 0;
	t->sink_decided = false;
	free(response->reason);
	response->reason = NULL;
	if (!response->to_sink) {
		strbuf_reset(&response->body);
		response->received = 0;
	}
	if (!p)
		return;
	while (p < end && *p == ' ')
		p++;
	while (p < end && isdigit((unsigned char)*p))
		p++;
	while (p < end && *p == ' ')
		p++;
	strbuf_init(&reason);
	for (; p < end && *p != '\r' && *p != '\n' && reason.len < MAX_REASON; p++)
		strbuf_putc(&reason, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
	if (reason.len)
		response->reason = strbuf_steal(&reason);
	strbuf_done(&reason);
}

static char *trimmed_copy(const char *s, size_t len)
{
	char *copy;

	while (len > 0 && strchr(" \t\r\n", s[0])) {
		s++;
		len--;
	}
	while (len > 0 && strchr(" \t\r\n", s[len - 1]))
		len--;
	copy = xstrndup(s, len);
	/* cJSON strings must be UTF-8; a header in another charset stays readable. */
	if (!http_body_is_text(copy, strlen(copy)))
		for (char *p = copy; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
	return copy;
}

static void add_response_header(struct http_response *response, const char *line, size_t len,
				const char *colon)
{
	_cleanup_free_ char *name = trimmed_copy(line, (size_t)(colon - line));
	_cleanup_free_ char *value = trimmed_copy(colon + 1, len - (size_t)(colon + 1 - line));
	const char *before;

	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	before = json_get_string(response->headers, name);
	if (before) {
		_cleanup_free_ char *joined = xasprintf("%s, %s", before, value);

		cJSON_ReplaceItemInObjectCaseSensitive(response->headers, name,
						       cJSON_CreateString(joined));
	} else {
		cJSON_AddStringToObject(response->headers, name, value);
	}
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct http_transfer *t = userdata;
	size_t len = size * nitems;
	const char *colon;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		begin_response(t, buf, len);
		return len;
	}
	colon = memchr(buf, ':', len);
	if (!colon || colon == buf)
		return len; /* the blank line ending the headers */
	if (++t->n_headers > HTTP_MAX_RESPONSE_HEADERS) {
		stop(t, -EBADMSG, "the response has more than %d headers",
		     HTTP_MAX_RESPONSE_HEADERS);
		return 0;
	}
	add_response_header(&t->req->response, buf, len, colon);
	return len;
}

static int64_t max_body(const struct http_request *req)
{
	return req->max_body > 0 ? req->max_body : HTTP_DEFAULT_MAX_BODY;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct http_transfer *t = userdata;
	struct http_request *req = t->req;
	struct http_response *response = &req->response;
	size_t len = size * nmemb;
	int r;

	if (!t->sink_decided) {
		long code = 0;

		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
		response->to_sink = req->sink && code >= 200 && code < 300;
		t->sink_decided = true;
	}
	if (response->to_sink) {
		r = store_blob_writer_write(req->sink, data, len);
		if (r == -EFBIG) {
			stop(t, r, "the response is larger than the file size limit");
			return 0;
		}
		if (r < 0) {
			stop(t, r, "cannot store the response: %s", strerror(-r));
			return 0;
		}
	} else {
		if ((int64_t)(response->body.len + len) > max_body(req)) {
			stop(t, -EFBIG, "the response body is larger than %lld bytes",
			     (long long)max_body(req));
			return 0;
		}
		strbuf_append(&response->body, data, len);
	}
	response->received += (int64_t)len;
	return len;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct http_transfer *t = userdata;
	size_t got = fread(buf, 1, size * nitems, t->upload);

	if (got == 0 && ferror(t->upload)) {
		stop(t, -EIO, "cannot read '%s'", t->req->body_path);
		return CURL_READFUNC_ABORT;
	}
	return got;
}

/* curl rewinds a body it must send again (a 307/308 redirect). */
static int on_seek(void *userdata, curl_off_t offset, int origin)
{
	struct http_transfer *t = userdata;

	return fseeko(t->upload, (off_t)offset, origin) == 0 ? CURL_SEEKFUNC_OK :
							       CURL_SEEKFUNC_FAIL;
}

static int check_file(const char *path, struct stat *ret_st)
{
	if (stat(path, ret_st) < 0)
		return -errno;
	if (!S_ISREG(ret_st->st_mode))
		return -EISDIR;
	if (access(path, R_OK) < 0)
		return -errno;
	return 0;
}

/* Records the first option curl refuses; the set-up then fails as a whole. */
#define SET(rc, t, option, value)                                          \
	do {                                                               \
		if ((rc) == CURLE_OK)                                      \
			(rc) = curl_easy_setopt((t)->easy, option, value); \
	} while (0)

static CURLcode set_common(struct http_transfer *t, const char *url)
{
	const struct http_request *req = t->req;
	CURLcode rc = CURLE_OK;

	SET(rc, t, CURLOPT_URL, url);
	SET(rc, t, CURLOPT_PRIVATE, (char *)t);
	SET(rc, t, CURLOPT_ERRORBUFFER, t->errbuf);
	SET(rc, t, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the bitmask form is deprecated */
	SET(rc, t, CURLOPT_PROTOCOLS_STR, "http,https");
	SET(rc, t, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(rc, t, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(rc, t, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(rc, t, CURLOPT_FOLLOWLOCATION, 1L);
	SET(rc, t, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	SET(rc, t, CURLOPT_USERAGENT, "scenariod/" PACKAGE_VERSION);
	SET(rc, t, CURLOPT_TCP_KEEPALIVE, 1L);
	SET(rc, t, CURLOPT_HEADERFUNCTION, on_header);
	SET(rc, t, CURLOPT_HEADERDATA, t);
	SET(rc, t, CURLOPT_WRITEFUNCTION, on_write);
	SET(rc, t, CURLOPT_WRITEDATA, t);
	SET(rc, t, CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_timeout_ms);
	SET(rc, t, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	if (req->stall_timeout_ms > 0) {
		SET(rc, t, CURLOPT_LOW_SPEED_LIMIT, 1L);
		SET(rc, t, CURLOPT_LOW_SPEED_TIME, (long)((req->stall_timeout_ms + 999) / 1000));
	}
	/* A download is stored as sent: decoding a .gz served with
	 * Content-Encoding: gzip would store other bytes than the name says. */
	if (!req->sink) {
		SET(rc, t, CURLOPT_ACCEPT_ENCODING, "");
		SET(rc, t, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body(req));
	}
	return rc;
}

static CURLcode set_form(struct http_transfer *t)
{
	const struct http_request *req = t->req;
	CURLcode rc = CURLE_OK;
	curl_mimepart *part;

	t->mime = curl_mime_init(t->easy);
	if (!t->mime)
		return CURLE_OUT_OF_MEMORY;
	for (size_t i = 0; i < req->n_form && rc == CURLE_OK; i++) {
		part = curl_mime_addpart(t->mime);
		rc = curl_mime_name(part, req->form[i].name);
		if (rc == CURLE_OK)
			rc = curl_mime_data(part, req->form[i].value, CURL_ZERO_TERMINATED);
	}
	if (rc == CURLE_OK && req->form_file_field) {
		part = curl_mime_addpart(t->mime);
		rc = curl_mime_name(part, req->form_file_field);
		if (rc == CURLE_OK)
			rc = curl_mime_filedata(part, req->body_path);
		if (rc == CURLE_OK)
			rc = curl_mime_filename(part, req->form_file_name);
		if (rc == CURLE_OK)
			rc = curl_mime_type(part, req->content_type);
	}
	return rc;
}

/* The method and body. A body with a method other than POST is sent as a
 * POST body under CUSTOMREQUEST, the one way curl sends any body with any
 * method. */
static CURLcode set_body(struct http_transfer *t, int64_t file_size)
{
	const struct http_request *req = t->req;
	CURLcode rc = CURLE_OK;

	if (streq(req->method, "HEAD")) {
		SET(rc, t, CURLOPT_NOBODY, 1L);
		return rc;
	}
	switch (req->body_kind) {
	case HTTP_BODY_NONE:
		if (streq(req->method, "GET")) {
			SET(rc, t, CURLOPT_HTTPGET, 1L);
			return rc;
		}
		if (streq(req->method, "POST")) {
			SET(rc, t, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
			SET(rc, t, CURLOPT_POSTFIELDS, "");
			return rc;
		}
		break;
	case HTTP_BODY_MEMORY:
		SET(rc, t, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(rc, t, CURLOPT_POSTFIELDS, req->body);
		break;
	case HTTP_BODY_FILE:
		SET(rc, t, CURLOPT_POST, 1L);
		SET(rc, t, CURLOPT_READFUNCTION, on_read);
		SET(rc, t, CURLOPT_READDATA, t);
		SET(rc, t, CURLOPT_SEEKFUNCTION, on_seek);
		SET(rc, t, CURLOPT_SEEKDATA, t);
		SET(rc, t, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)file_size);
		break;
	case HTTP_BODY_FORM:
		if (rc == CURLE_OK)
			rc = set_form(t);
		SET(rc, t, CURLOPT_MIMEPOST, t->mime);
		break;
	}
	if (!streq(req->method, "POST"))
		SET(rc, t, CURLOPT_CUSTOMREQUEST, req->method);
	return rc;
}

static CURLcode set_headers(struct http_transfer *t)
{
	const struct http_request *req = t->req;
	bool typed_body = req->body_kind == HTTP_BODY_MEMORY || req->body_kind == HTTP_BODY_FILE;
	struct curl_slist *list = NULL;

	for (size_t i = 0; i < req->n_headers; i++) {
		const struct http_header *h = &req->headers[i];
		/* "Name;" is how curl is told to send a header with an empty value. */
		_cleanup_free_ char *line = h->value[0] ? xasprintf("%s: %s", h->name, h->value) :
							  xasprintf("%s;", h->name);

		list = curl_slist_append(list, line);
	}
	if (typed_body && req->content_type && !http_request_header(req, "Content-Type")) {
		_cleanup_free_ char *line = xasprintf("Content-Type: %s", req->content_type);

		list = curl_slist_append(list, line);
	}
	/* The 100-continue round trip only costs time with the servers we talk to. */
	if (!http_request_header(req, "Expect"))
		list = curl_slist_append(list, "Expect:");
	if (!list)
		return CURLE_OUT_OF_MEMORY;
	t->header_list = list;
	return curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, list);
}

int http_transfer_setup(struct http_transfer *t)
{
	const struct http_request *req = t->req;
	_cleanup_free_ char *url = http_request_url_with_query(req);
	int64_t file_size = 0;
	struct stat st;
	CURLcode rc;
	int r;

	if (!url)
		return -EINVAL;
	if (req->body_kind == HTTP_BODY_FILE ||
	    (req->body_kind == HTTP_BODY_FORM && req->form_file_field)) {
		r = check_file(req->body_path, &st);
		if (r < 0)
			return r;
		file_size = st.st_size;
	}
	if (req->body_kind == HTTP_BODY_FILE) {
		t->upload = fopen(req->body_path, "rbe");
		if (!t->upload)
			return -errno;
	}
	t->easy = curl_easy_init();
	if (!t->easy)
		return -ENOMEM;
	rc = set_common(t, url);
	if (rc == CURLE_OK)
		rc = set_body(t, file_size);
	if (rc == CURLE_OK)
		rc = set_headers(t);
	if (rc != CURLE_OK)
		return log_debug_errno(HTTP, -EIO, "curl refused the request's set-up: %s",
				       curl_easy_strerror(rc));
	return 0;
}
