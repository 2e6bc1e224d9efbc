/* SPDX-License-Identifier: MIT */
/*
 * Building an HTTP request and reading its response, apart from moving the
 * bytes (client.c). Everything a scenario can put into a request is checked
 * here, when it is added, so a bad header or URL is a clear error at the
 * module's start rather than a confusing failure on the wire: header names
 * must be tokens and values may not hold line breaks (no header injection),
 * only http and https URLs are accepted, and every size has a limit.
 */
#include "modules/http/request.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "modules/http/internal.h"
#include "util/json.h"
#include "util/xalloc.h"

/* Headers whose values are credentials whatever the caller says. */
static const char *const secret_headers[] = {
	"authorization",
	"proxy-authorization",
	"cookie",
	"x-api-key",
};

static const char *const methods[] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
};

void http_request_init(struct http_request *req)
{
	*req = (struct http_request){
		.method = xstrdup("GET"),
		.connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS,
		.timeout_ms = HTTP_DEFAULT_TIMEOUT_MS,
		.max_body = HTTP_DEFAULT_MAX_BODY,
	};
}

void http_response_done(struct http_response *response)
{
	free(response->reason);
	free(response->url);
	cJSON_Delete(response->headers);
	strbuf_done(&response->body);
	free(response->error);
	*response = (struct http_response){ 0 };
}

static void clear_body(struct http_request *req)
{
	free(req->body);
	free(req->body_path);
	free(req->content_type);
	for (size_t i = 0; i < req->n_form; i++) {
		free(req->form[i].name);
		free(req->form[i].value);
	}
	free(req->form);
	free(req->form_file_field);
	free(req->form_file_name);
	req->body = req->body_path = req->content_type = NULL;
	req->form_file_field = req->form_file_name = NULL;
	req->form = NULL;
	req->n_form = req->body_len = 0;
	req->body_kind = HTTP_BODY_NONE;
}

void http_request_done(struct http_request *req)
{
	assert(!req->transfer);
	free(req->method);
	free(req->url);
	strbuf_done(&req->query);
	for (size_t i = 0; i < req->n_headers; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->headers);
	clear_body(req);
	http_response_done(&req->response);
	*req = (struct http_request){ 0 };
}

int http_request_set_method(struct http_request *req, const char *method)
{
	for (size_t i = 0; i < ELEMENTSOF(methods); i++)
		if (strcasecmp(method, methods[i]) == 0) {
			free(req->method);
			req->method = xstrdup(methods[i]);
			return 0;
		}
	return -EINVAL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(CURLU, curl_url_cleanup)

static inline void curl_freep(char **p)
{
	curl_free(*p);
}

static int parse_url(const char *url, CURLU **ret)
{
	_cleanup_(curl_url_cleanupp) CURLU *u = curl_url();
	_cleanup_(curl_freep) char *scheme = NULL;
	char *host = NULL;
	CURLUcode rc;

	if (!u)
		return -ENOMEM;
	rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (rc != CURLUE_OK)
		return -EINVAL;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return -EINVAL;
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		return -EPROTONOSUPPORT;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return -EINVAL;
	curl_free(host);
	*ret = TAKE_PTR(u);
	return 0;
}

int http_request_set_url(struct http_request *req, const char *url)
{
	_cleanup_(curl_url_cleanupp) CURLU *u = NULL;
	int r;

	if (strlen(url) > HTTP_MAX_URL)
		return -EINVAL;
	r = parse_url(url, &u);
	if (r < 0)
		return r;
	free(req->url);
	req->url = xstrdup(url);
	return 0;
}

/* RFC 9110 token characters. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* No control characters but tab: CR and LF would inject headers. */
static bool is_field_value(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}

static bool is_secret_name(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(secret_headers); i++)
		if (strcasecmp(name, secret_headers[i]) == 0)
			return true;
	return false;
}

int http_request_add_header(struct http_request *req, const char *name, const char *value,
			    unsigned flags)
{
	struct http_header *h;

	if (!is_token(name) || !is_field_value(value))
		return -EINVAL;
	if (req->n_headers >= HTTP_MAX_HEADERS ||
	    strlen(name) + strlen(value) > HTTP_MAX_HEADER_LEN)
		return -E2BIG;
	req->headers = xrealloc(req->headers, (req->n_headers + 1) * sizeof(*req->headers));
	h = &req->headers[req->n_headers++];
	h->name = xstrdup(name);
	h->value = xstrdup(value);
	h->secret = (flags & HTTP_HEADER_SECRET) || is_secret_name(name);
	return 0;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static void put_encoded(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			strbuf_putc(sb, (char)c);
		} else {
			strbuf_putc(sb, '%');
			strbuf_putc(sb, hex[c >> 4]);
			strbuf_putc(sb, hex[c & 15]);
		}
	}
}

int http_request_add_query(struct http_request *req, const char *name, const char *value)
{
	size_t before = req->query.len;

	if (before)
		strbuf_putc(&req->query, '&');
	put_encoded(&req->query, name);
	strbuf_putc(&req->query, '=');
	put_encoded(&req->query, value);
	if (req->query.len > HTTP_MAX_QUERY_LEN) {
		req->query.len = before;
		req->query.data[before] = '\0';
		return -E2BIG;
	}
	return 0;
}

int http_request_set_body(struct http_request *req, const void *data, size_t len,
			  const char *content_type)
{
	if (len > HTTP_MAX_BODY)
		return -E2BIG;
	clear_body(req);
	req->body_kind = HTTP_BODY_MEMORY;
	req->body = xmalloc(len + 1);
	memcpy(req->body, data, len);
	req->body[len] = '\0';
	req->body_len = len;
	req->content_type = xstrdup(content_type ? content_type : "application/octet-stream");
	return 0;
}

int http_request_set_body_json(struct http_request *req, const cJSON *json)
{
	_cleanup_free_ char *text = json_print(json);

	return http_request_set_body(req, text, strlen(text), "application/json");
}

int http_request_set_body_file(struct http_request *req, const char *path, const char *content_type)
{
	clear_body(req);
	req->body_kind = HTTP_BODY_FILE;
	req->body_path = xstrdup(path);
	req->content_type = xstrdup(content_type ? content_type : "application/octet-stream");
	return 0;
}

static void make_form(struct http_request *req)
{
	if (req->body_kind != HTTP_BODY_FORM) {
		clear_body(req);
		req->body_kind = HTTP_BODY_FORM;
	}
}

int http_request_add_form_field(struct http_request *req, const char *name, const char *value)
{
	struct http_form_field *f;

	if (req->body_kind == HTTP_BODY_FORM && req->n_form >= HTTP_MAX_FORM_FIELDS)
		return -E2BIG;
	if (strlen(value) > HTTP_MAX_BODY)
		return -E2BIG;
	make_form(req);
	req->form = xrealloc(req->form, (req->n_form + 1) * sizeof(*req->form));
	f = &req->form[req->n_form++];
	f->name = xstrdup(name);
	f->value = xstrdup(value);
	return 0;
}

int http_request_set_form_file(struct http_request *req, const char *field, const char *path,
			       const char *filename, const char *content_type)
{
	const char *slash = strrchr(path, '/');

	make_form(req);
	free(req->form_file_field);
	free(req->form_file_name);
	free(req->body_path);
	free(req->content_type);
	req->form_file_field = xstrdup(field);
	req->form_file_name = xstrdup(filename ? filename : slash ? slash + 1 : path);
	req->body_path = xstrdup(path);
	req->content_type = xstrdup(content_type ? content_type : "application/octet-stream");
	return 0;
}

const char *http_response_header(const struct http_request *req, const char *name)
{
	return json_get_string(req->response.headers, name);
}

char *http_response_media_type(const struct http_request *req)
{
	const char *value = http_response_header(req, "content-type");
	size_t len;
	char *type;

	if (!value)
		return NULL;
	len = strcspn(value, ";");
	while (len > 0 && isspace((unsigned char)value[len - 1]))
		len--;
	type = xstrndup(value, len);
	for (char *p = type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return type;
}

bool http_media_type_is_json(const char *media_type)
{
	size_t len;

	if (!media_type)
		return false;
	len = strlen(media_type);
	return streq(media_type, "application/json") ||
	       (len > 5 && streq(media_type + len - 5, "+json"));
}

/* The query is appended as text: going through curl's URL API would
 * rewrite our %XX escapes in lowercase, and some signed URLs must arrive
 * exactly as encoded. The fragment is never sent. */
char *http_request_url_with_query(const struct http_request *req)
{
	size_t base;

	if (!req->url)
		return NULL;
	base = strcspn(req->url, "#");
	if (!req->query.len)
		return xstrndup(req->url, base);
	return xasprintf("%.*s%c%s", (int)base, req->url, memchr(req->url, '?', base) ? '&' : '?',
			 req->query.data);
}

char *http_request_describe(const struct http_request *req)
{
	_cleanup_(curl_url_cleanupp) CURLU *u = NULL;
	_cleanup_(curl_freep) char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;

	if (!req->url || parse_url(req->url, &u) < 0)
		return xasprintf("%s (no valid URL)", req->method);
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	return xasprintf("%s %s://%s%s%s%s", req->method, scheme, host, port ? ":" : "",
			 port ? port : "", path ? path : "/");
}

bool http_request_leaks_secret(const struct http_request *req, const char *text)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *value = req->headers[i].value;
		const char *space = strrchr(value, ' ');

		if (!req->headers[i].secret || !*value)
			continue;
		/* "Bearer TOKEN": the token alone is the secret part. */
		if (strstr(text, value) || (space && space[1] && strstr(text, space + 1)))
			return true;
	}
	return false;
}

/*
 * True when `data` reads as text: valid UTF-8 (no overlong forms, no
 * surrogates) without NUL bytes. Used to refuse binary bodies where text is
 * expected, and to keep file names printable.
 */
bool http_body_is_text(const char *data, size_t len)
{
	/* Per lead byte class: continuation bytes and the smallest code point
	 * that needs that many (anything less is an overlong form). */
	static const struct {
		unsigned char mask, lead;
		int more;
		unsigned min;
	} forms[] = {
		{ 0xe0, 0xc0, 1, 0x80 },
		{ 0xf0, 0xe0, 2, 0x800 },
		{ 0xf8, 0xf0, 3, 0x10000 },
	};
	const unsigned char *p = (const unsigned char *)data, *end = p + len;

	while (p < end) {
		unsigned char c = *p++;
		size_t f = 0;
		unsigned cp;

		if (c == 0)
			return false;
		if (c < 0x80)
			continue;
		while (f < ELEMENTSOF(forms) && (c & forms[f].mask) != forms[f].lead)
			f++;
		if (f == ELEMENTSOF(forms) || end - p < forms[f].more)
			return false;
		cp = c & (unsigned char)~forms[f].mask;
		for (int i = 0; i < forms[f].more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*p & 0x3f);
		}
		if (cp < forms[f].min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}
