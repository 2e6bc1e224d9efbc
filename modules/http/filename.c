/* SPDX-License-Identifier: MIT */
/*
 * File names for downloads: parsing Content-Disposition (RFC 6266 with the
 * RFC 8187 filename* form), falling back to the URL's last segment, and the
 * sanitising every such name goes through, so that no server can make a
 * name that climbs out of a folder, hides itself or breaks a terminal.
 */
#include "modules/http/filename.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "modules/http/request.h"
#include "util/strbuf.h"
#include "util/percent.h"
#include "util/xalloc.h"

/* Reads one parameter value at *p: a quoted-string (with \-escapes) or a
 * token up to ';'. Advances *p past it. */
static char *param_value(const char **p)
{
	const char *s = *p;
	struct strbuf sb;

	strbuf_init(&sb);
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1])
				s++;
			strbuf_putc(&sb, *s);
		}
		if (*s == '"')
			s++;
	} else {
		size_t len = strcspn(s, ";");

		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		strbuf_append(&sb, s, len);
		s += len;
	}
	*p = s;
	return strbuf_steal(&sb);
}

/* filename*=charset'language'value: the charset is taken as UTF-8 (what
 * every sender uses); the sanitiser replaces what is not. */
static char *extended_value(const char *value)
{
	const char *quote = strchr(value, '\'');

	if (!quote || !(quote = strchr(quote + 1, '\'')))
		return NULL;
	return percent_decode(quote + 1, strlen(quote + 1), false);
}

static char *disposition_filename(const char *header)
{
	_cleanup_free_ char *plain = NULL, *extended = NULL;
	const char *p = strchr(header, ';');

	while (p && *p) {
		const char *name;
		size_t name_len;
		char *value;

		p += strspn(p, "; \t");
		name = p;
		name_len = strcspn(p, "=;");
		p += name_len;
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " \t");
		while (name_len > 0 && isspace((unsigned char)name[name_len - 1]))
			name_len--;
		value = param_value(&p);
		if (name_len == 9 && strncasecmp(name, "filename*", 9) == 0 && !extended)
			extended = extended_value(value);
		else if (name_len == 8 && strncasecmp(name, "filename", 8) == 0 && !plain)
			plain = xstrdup(value);
		free(value);
		p = strchr(p, ';');
	}
	if (extended && *extended)
		return TAKE_PTR(extended);
	return plain && *plain ? TAKE_PTR(plain) : NULL;
}

static char *url_last_segment(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *result = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
		const char *slash = strrchr(path, '/');
		const char *segment = slash ? slash + 1 : path;

		result = percent_decode(segment, strlen(segment), false);
	}
	curl_free(path);
	curl_url_cleanup(u);
	return result;
}

char *http_filename_from_response(const struct http_request *req)
{
	const char *disposition = http_response_header(req, "content-disposition");
	const char *url = req->response.url ? req->response.url : req->url;
	_cleanup_free_ char *name = NULL;

	if (disposition)
		name = disposition_filename(disposition);
	if (!name && url)
		name = url_last_segment(url);
	return http_filename_sanitize(name ? name : "");
}

char *http_filename_sanitize(const char *name)
{
	const char *slash = strrchr(name, '/'), *backslash = strrchr(name, '\\');
	struct strbuf sb;
	size_t len;

	if (backslash && (!slash || backslash > slash))
		slash = backslash;
	if (slash)
		name = slash + 1;

	strbuf_init(&sb);
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			continue;
		/* Leading dots hide a file or climb a folder; runs of dots go. */
		if (c == '.' && (sb.len == 0 || sb.data[sb.len - 1] == '.'))
			continue;
		if (c == ' ' && sb.len == 0)
			continue;
		strbuf_putc(&sb, (char)c);
	}
	if (sb.len && !http_body_is_text(sb.data, sb.len))
		for (size_t i = 0; i < sb.len; i++)
			if ((unsigned char)sb.data[i] >= 0x80)
				sb.data[i] = '_';

	len = sb.len;
	if (len > HTTP_FILENAME_MAX) {
		len = HTTP_FILENAME_MAX;
		while (len > 0 && ((unsigned char)sb.data[len] & 0xc0) == 0x80)
			len--;
	}
	while (len > 0 && (sb.data[len - 1] == ' ' || sb.data[len - 1] == '.'))
		len--;
	if (len == 0) {
		strbuf_done(&sb);
		return xstrdup("download");
	}
	sb.data[len] = '\0';
	return strbuf_steal(&sb);
}
