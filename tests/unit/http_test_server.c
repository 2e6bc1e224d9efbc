/* SPDX-License-Identifier: MIT */
/*
 * The loopback HTTP server of the HTTP tests; see http_test_server.h.
 * libmicrohttpd runs it in its own threads (one per connection, so a slow
 * answer never holds up the others); the test's loop thread only talks to
 * it over sockets. Everything a request leaves behind lives in its
 * struct exchange, created by the URI callback and freed when MHD reports
 * the request complete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_test_server.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

#define SLOW_MS 3000

struct test_server {
	struct MHD_Daemon *daemon;
	uint16_t port;
	atomic_bool stopping;
};

struct part {
	char *name, *filename, *content_type;
	struct strbuf data;
};

struct exchange {
	char *uri; /* raw, with the query */
	bool started;
	struct strbuf body;
	struct MHD_PostProcessor *pp;
	struct part parts[16];
	size_t n_parts;
};

void test_server_fill(uint8_t *buf, size_t len, uint64_t offset)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t at = offset + i;

		buf[i] = (uint8_t)((at * 31) ^ (at >> 9));
	}
}

void test_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	assert_int_equal(EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL), 1);
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct exchange *ex = xcalloc(1, sizeof(*ex));

	(void)cls;
	(void)conn;
	ex->uri = xstrdup(uri);
	return ex;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct exchange *ex = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!ex)
		return;
	if (ex->pp)
		MHD_destroy_post_processor(ex->pp);
	for (size_t i = 0; i < ex->n_parts; i++) {
		free(ex->parts[i].name);
		free(ex->parts[i].filename);
		free(ex->parts[i].content_type);
		strbuf_done(&ex->parts[i].data);
	}
	strbuf_done(&ex->body);
	free(ex->uri);
	free(ex);
	*con_cls = NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, unsigned status,
				     struct MHD_Response *response)
{
	enum MHD_Result r = MHD_queue_response(conn, status, response);

	MHD_destroy_response(response);
	return r;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *type,
				 const void *data, size_t len)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);

	MHD_add_response_header(response, "Content-Type", type);
	return send_response(conn, status, response);
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, cJSON *json)
{
	char *text = cJSON_PrintUnformatted(json);
	enum MHD_Result r = send_text(conn, status, "application/json", text, strlen(text));

	free(text);
	cJSON_Delete(json);
	return r;
}

/* ---- generated bodies ---- */

struct generated {
	uint64_t size;
	uint64_t cut; /* stop with an error at this offset; 0: never */
};

static ssize_t on_generate(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct generated *g = cls;
	uint64_t left;

	if (g->cut && pos >= g->cut)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (pos >= g->size)
		return MHD_CONTENT_READER_END_OF_STREAM;
	left = (g->cut ? g->cut : g->size) - pos;
	if (max > left)
		max = (size_t)left;
	test_server_fill((uint8_t *)buf, max, pos);
	return (ssize_t)max;
}

static enum MHD_Result send_generated(struct MHD_Connection *conn, uint64_t size, bool known,
				      uint64_t cut)
{
	struct generated *g = xcalloc(1, sizeof(*g));
	struct MHD_Response *response;

	g->size = size;
	g->cut = cut;
	response = MHD_create_response_from_callback(known ? size : MHD_SIZE_UNKNOWN, 64 * 1024,
						     on_generate, g, free);
	MHD_add_response_header(response, "Content-Type", "application/octet-stream");
	MHD_add_response_header(response, "Content-Disposition",
				"attachment; filename=\"big.bin\"");
	return send_response(conn, MHD_HTTP_OK, response);
}

static uint64_t arg_size(struct MHD_Connection *conn)
{
	const char *s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "size");

	return s ? strtoull(s, NULL, 10) : 1024;
}

/* ---- echo and upload ---- */

static enum MHD_Result add_value(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	cJSON *object = cls;
	char *name = xstrdup(key);
	cJSON *before;

	(void)kind;
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	before = cJSON_GetObjectItemCaseSensitive(object, name);
	if (!before) {
		cJSON_AddStringToObject(object, name, value ? value : "");
	} else {
		/* A repeated name becomes a list, in order. */
		if (!cJSON_IsArray(before)) {
			cJSON *list = cJSON_CreateArray();

			cJSON_AddItemToArray(list, cJSON_Duplicate(before, true));
			cJSON_ReplaceItemInObjectCaseSensitive(object, name, list);
			before = list;
		}
		cJSON_AddItemToArray(before, cJSON_CreateString(value ? value : ""));
	}
	free(name);
	return MHD_YES;
}

static enum MHD_Result send_echo(struct MHD_Connection *conn, const char *method,
				 struct exchange *ex)
{
	cJSON *json = cJSON_CreateObject(), *headers = cJSON_CreateObject();
	cJSON *args = cJSON_CreateObject();
	const char *status = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "status");
	char sha[65];

	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_value, headers);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_value, args);
	cJSON_AddStringToObject(json, "method", method);
	cJSON_AddStringToObject(json, "uri", ex->uri);
	cJSON_AddItemToObject(json, "headers", headers);
	cJSON_AddItemToObject(json, "args", args);
	if (ex->body.len < 64 * 1024 && (!ex->body.len || !memchr(ex->body.data, 0, ex->body.len)))
		cJSON_AddStringToObject(json, "body", ex->body.data ? ex->body.data : "");
	cJSON_AddNumberToObject(json, "body_size", (double)ex->body.len);
	test_sha256_hex(ex->body.data ? ex->body.data : "", ex->body.len, sha);
	cJSON_AddStringToObject(json, "body_sha256", sha);
	if (status) {
		/* As plain text, the way a careless server echoes a request. */
		char *json_text = cJSON_PrintUnformatted(json);
		char *text = xasprintf("you sent %s", json_text);
		enum MHD_Result r = send_text(conn, (unsigned)strtoul(status, NULL, 10),
					      "text/plain", text, strlen(text));

		free(json_text);
		free(text);
		cJSON_Delete(json);
		return r;
	}
	return send_json(conn, MHD_HTTP_OK, json);
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *filename, const char *content_type,
			       const char *transfer_encoding, const char *data, uint64_t off,
			       size_t size)
{
	struct exchange *ex = cls;
	struct part *p = ex->n_parts ? &ex->parts[ex->n_parts - 1] : NULL;

	(void)kind;
	(void)transfer_encoding;
	if (off == 0 && (!p || p->data.len > 0 || strcmp(p->name, key) != 0)) {
		if (ex->n_parts == ELEMENTSOF(ex->parts))
			return MHD_NO;
		p = &ex->parts[ex->n_parts++];
		p->name = xstrdup(key);
		p->filename = filename ? xstrdup(filename) : NULL;
		p->content_type = content_type ? xstrdup(content_type) : NULL;
	}
	strbuf_append(&p->data, data, size);
	return MHD_YES;
}

static enum MHD_Result send_parts(struct MHD_Connection *conn, struct exchange *ex)
{
	cJSON *json = cJSON_CreateObject(), *parts = cJSON_AddArrayToObject(json, "parts");

	if (ex->pp)
		MHD_post_process(ex->pp, NULL, 0);
	for (size_t i = 0; i < ex->n_parts; i++) {
		struct part *p = &ex->parts[i];
		cJSON *item = cJSON_CreateObject();
		char sha[65];

		cJSON_AddStringToObject(item, "name", p->name);
		if (p->filename)
			cJSON_AddStringToObject(item, "filename", p->filename);
		if (p->content_type)
			cJSON_AddStringToObject(item, "content_type", p->content_type);
		cJSON_AddNumberToObject(item, "size", (double)p->data.len);
		test_sha256_hex(p->data.data ? p->data.data : "", p->data.len, sha);
		cJSON_AddStringToObject(item, "sha256", sha);
		if (!p->filename)
			cJSON_AddStringToObject(item, "value", p->data.data ? p->data.data : "");
		cJSON_AddItemToArray(parts, item);
	}
	return send_json(conn, MHD_HTTP_OK, json);
}

/* ---- the other endpoints ---- */

static enum MHD_Result send_status(struct MHD_Connection *conn, unsigned status)
{
	cJSON *json = cJSON_CreateObject();
	char message[64];

	snprintf(message, sizeof(message), "status %u said no", status);
	cJSON_AddStringToObject(json, "message", message);
	return send_json(conn, status, json);
}

static enum MHD_Result send_ratelimit(struct MHD_Connection *conn, bool as_date)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(4, "slow", MHD_RESPMEM_PERSISTENT);
	char value[64];

	if (as_date) {
		time_t when = time(NULL) + 120;
		struct tm tm;

		gmtime_r(&when, &tm);
		strftime(value, sizeof(value), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	} else {
		snprintf(value, sizeof(value), "7");
	}
	MHD_add_response_header(response, "Content-Type", "text/plain");
	MHD_add_response_header(response, "Retry-After", value);
	return send_response(conn, 429, response);
}

static enum MHD_Result send_many_headers(struct MHD_Connection *conn)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
	char name[32];

	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "X-Header-%d", i);
		MHD_add_response_header(response, name, "v");
	}
	return send_response(conn, MHD_HTTP_OK, response);
}

static enum MHD_Result send_twice(struct MHD_Connection *conn)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(10, "hello text", MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(response, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(response, "X-Twice", "a");
	MHD_add_response_header(response, "X-Twice", "b");
	return send_response(conn, MHD_HTTP_OK, response);
}

static enum MHD_Result send_redirect(struct MHD_Connection *conn)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(response, "Location", "/json");
	return send_response(conn, MHD_HTTP_FOUND, response);
}

static enum MHD_Result send_named(struct MHD_Connection *conn)
{
	struct MHD_Response *response =
		MHD_create_response_from_buffer(5, "named", MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(response, "Content-Type", "text/plain");
	MHD_add_response_header(response, "Content-Disposition",
				"attachment; filename=\"plain.txt\"; "
				"filename*=UTF-8''..%2F..%2Fna%C3%AFve%0A report.txt");
	return send_response(conn, MHD_HTTP_OK, response);
}

static enum MHD_Result respond(struct test_server *server, struct MHD_Connection *conn,
			       const char *url, const char *method, struct exchange *ex)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

	if (strcmp(url, "/json") == 0)
		return send_text(conn, 200, "application/json", "{\"hello\":\"world\",\"n\":42}",
				 24);
	if (strcmp(url, "/text") == 0)
		return send_twice(conn);
	if (strcmp(url, "/binary") == 0)
		return send_text(conn, 200, "image/png", png, sizeof(png) - 1);
	if (strcmp(url, "/big") == 0)
		return send_generated(conn, arg_size(conn), true, 0);
	if (strcmp(url, "/stream") == 0)
		return send_generated(conn, arg_size(conn), false, 0);
	if (strcmp(url, "/partial") == 0)
		return send_generated(conn, 1000, true, 100);
	if (strcmp(url, "/named") == 0)
		return send_named(conn);
	if (strncmp(url, "/status/", 8) == 0)
		return send_status(conn, (unsigned)strtoul(url + 8, NULL, 10));
	if (strcmp(url, "/ratelimit") == 0)
		return send_ratelimit(conn, false);
	if (strcmp(url, "/ratelimit-date") == 0)
		return send_ratelimit(conn, true);
	if (strcmp(url, "/redirect") == 0)
		return send_redirect(conn);
	if (strcmp(url, "/many-headers") == 0)
		return send_many_headers(conn);
	if (strcmp(url, "/slow") == 0) {
		for (int waited = 0; waited < SLOW_MS && !atomic_load(&server->stopping);
		     waited += 10)
			usleep(10 * 1000);
		return send_text(conn, 200, "text/plain", "late", 4);
	}
	if (strcmp(url, "/echo") == 0)
		return send_echo(conn, method, ex);
	if (strcmp(url, "/upload") == 0)
		return send_parts(conn, ex);
	return send_status(conn, 404);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct exchange *ex = *con_cls;

	(void)version;
	if (!ex->started) {
		ex->started = true;
		if (strcmp(url, "/drop") == 0)
			return MHD_NO;
		if (strcmp(url, "/upload") == 0)
			ex->pp = MHD_create_post_processor(conn, 64 * 1024, on_part, ex);
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (ex->pp)
			MHD_post_process(ex->pp, upload_data, *upload_data_size);
		else
			strbuf_append(&ex->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return respond(cls, conn, url, method, ex);
}

struct test_server *test_server_start(void)
{
	struct test_server *server = xcalloc(1, sizeof(*server));
	struct sockaddr_in addr = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
		on_request, server, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, 500U, MHD_OPTION_END);
	assert_non_null(server->daemon);
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	server->port = info->port;
	assert_true(server->port > 0);
	return server;
}

void test_server_stop(struct test_server *server)
{
	atomic_store(&server->stopping, true);
	MHD_stop_daemon(server->daemon);
	free(server);
}

char *test_server_url(const struct test_server *server, const char *path)
{
	return xasprintf("http://127.0.0.1:%u%s", server->port, path);
}
