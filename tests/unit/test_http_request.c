/* SPDX-License-Identifier: MIT */
/*
 * http.request as a scenario runs it: mapped input in, one bundle
 * {status, headers, body|file} out or one typed error, against a real
 * loopback server and an in-memory store. Covers what is sent (query,
 * headers, JSON, text and file bodies), how bodies come back (JSON, text,
 * files named safely), the error mapping of HTTP failures, input checks,
 * load-time validation and cancel; and the request-building checks below
 * the module (URLs, methods, header injection, file names, text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http_test_server.h"
#include "modules/http/client.h"
#include "modules/http/filename.h"
#include "modules/http/request.h"
#include "modules/module.h"
#include "modules/registry.h"
#include "store/store.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define DEADLINE_MS 20000

static struct test_server *server;

struct fixture {
	uv_loop_t loop;
	struct module_env env;
	const struct module_desc *desc;
};

struct probe {
	struct module_run run;
	cJSON *input;
	int done_calls;
};

static void on_run_done(struct module_run *run)
{
	container_of(run, struct probe, run)->done_calls++;
}

static int group_setup(void **state)
{
	(void)state;
	server = test_server_start();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	test_server_stop(server);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	_cleanup_free_ char *msg = NULL;

	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->env.loop = &f->loop;
	assert_int_equal(http_client_new(&f->loop, &f->env.http), 0);
	assert_int_equal(store_open(":memory:", &f->env.store, &msg), 0);
	f->desc = registry_find("http.request");
	assert_non_null(f->desc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_client_free(f->env.http);
	helpers_close_loop(&f->loop);
	store_close(f->env.store);
	free(f);
	return 0;
}

/* The run of one module on `input_json`, where "@/" stands for the
 * server's base URL. */
static void probe_init(struct fixture *f, struct probe *p, const char *input_json)
{
	_cleanup_free_ char *base = test_server_url(server, "");
	struct strbuf sb;

	strbuf_init(&sb);
	for (const char *s = input_json; *s; s++) {
		if (s[0] == '@' && s[1] == '/')
			strbuf_puts(&sb, base); /* the '/' follows as it is */
		else
			strbuf_putc(&sb, *s);
	}
	*p = (struct probe){ 0 };
	p->input = cJSON_Parse(sb.data);
	assert_non_null(p->input);
	strbuf_done(&sb);
	p->run = (struct module_run){
		.env = &f->env,
		.desc = f->desc,
		.input = p->input,
		.scenario = "test",
		.module_id = "http",
		.bundle_seq = 1,
		.max_file_size = 100LL * 1024 * 1024,
		.done = on_run_done,
	};
}

static void probe_done(struct probe *p)
{
	cJSON_Delete(p->input);
	cJSON_Delete(p->run.outputs);
	cJSON_Delete(p->run.log);
	free(p->run.new_cursor);
	module_error_done(&p->run.error);
}

/* Starts the module and runs it to its end; returns start()'s result. */
static int run_module(struct fixture *f, struct probe *p)
{
	int r = f->desc->start(&p->run);

	assert_int_equal(p->done_calls, 0);
	if (r == MODULE_PENDING) {
		assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
		assert_int_equal(p->done_calls, 1);
		assert_null(p->run.priv);
	} else {
		assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
		assert_int_equal(p->done_calls, 0);
	}
	return r;
}

static const cJSON *only_bundle(const struct probe *p)
{
	assert_false(p->run.failed);
	assert_int_equal(cJSON_GetArraySize(p->run.outputs), 1);
	return cJSON_GetArrayItem(p->run.outputs, 0);
}

static void test_json_body_parsed(void **state)
{
	struct fixture *f = *state;
	const cJSON *bundle, *body;
	struct probe p;

	probe_init(f, &p, "{\"url\": \"@/json\"}");
	assert_int_equal(run_module(f, &p), MODULE_PENDING);
	bundle = only_bundle(&p);
	assert_int_equal(json_get_int(bundle, "status", 0), 200);
	assert_string_equal(json_get_string(cJSON_GetObjectItem(bundle, "headers"), "content-type"),
			    "application/json");
	body = cJSON_GetObjectItem(bundle, "body");
	assert_string_equal(json_get_string(body, "hello"), "world");
	assert_int_equal(json_get_int(body, "n", 0), 42);
	assert_int_equal(p.run.bytes, 0);
	probe_done(&p);
}

static void test_text_and_empty_bodies(void **state)
{
	static const struct {
		const char *input;
		const char *body;
	} cases[] = {
		{ "{\"url\": \"@/text\"}", "hello text" },
		{ "{\"url\": \"@/json\", \"method\": \"HEAD\"}", "" },
		{ "{\"url\": \"@/redirect\", \"method\": \"get\"}",
		  NULL }, /* JSON after redirect */
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const cJSON *body;
		struct probe p;

		probe_init(f, &p, cases[i].input);
		assert_int_equal(run_module(f, &p), MODULE_PENDING);
		body = cJSON_GetObjectItem(only_bundle(&p), "body");
		if (cases[i].body)
			assert_string_equal(cJSON_GetStringValue(body), cases[i].body);
		else
			assert_string_equal(json_get_string(body, "hello"), "world");
		probe_done(&p);
	}
}

/* What reaches the server: the encoded query (a list repeats the name),
 * mapped headers as text, and each kind of body with its content type. */
static void test_what_is_sent(void **state)
{
	static const struct {
		const char *input;
		const char *method;
		const char *uri;
		const char *content_type; /* NULL: none sent */
		const char *body;
	} cases[] = {
		{ "{\"url\": \"@/echo\", \"query\": {\"a\": \"x y\", \"list\": [1, true], \"n\": null}}",
		  "GET", "/echo?a=x%20y&list=1&list=true", NULL, "" },
		{ "{\"url\": \"@/echo?k=v\", \"method\": \"POST\", \"body\": {\"a\": [1, 2]}}",
		  "POST", "/echo?k=v", "application/json", "{\"a\":[1,2]}" },
		{ "{\"url\": \"@/echo\", \"method\": \"PUT\", \"body\": [\"x\"]}", "PUT", "/echo",
		  "application/json", "[\"x\"]" },
		{ "{\"url\": \"@/echo\", \"method\": \"PATCH\", \"body\": \"plain words\"}",
		  "PATCH", "/echo", "text/plain; charset=utf-8", "plain words" },
		{ "{\"url\": \"@/echo\", \"method\": \"POST\", \"body\": 12.5}", "POST", "/echo",
		  "text/plain; charset=utf-8", "12.5" },
		{ "{\"url\": \"@/echo\", \"method\": \"POST\", \"body\": \"<a/>\","
		  " \"headers\": {\"Content-Type\": \"application/xml\"}}",
		  "POST", "/echo", "application/xml", "<a/>" },
		{ "{\"url\": \"@/echo\", \"method\": \"DELETE\"}", "DELETE", "/echo", NULL, "" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const cJSON *body, *headers;
		struct probe p;

		probe_init(f, &p, cases[i].input);
		assert_int_equal(run_module(f, &p), MODULE_PENDING);
		body = cJSON_GetObjectItem(only_bundle(&p), "body");
		headers = cJSON_GetObjectItem(body, "headers");
		assert_string_equal(json_get_string(body, "method"), cases[i].method);
		assert_string_equal(json_get_string(body, "uri"), cases[i].uri);
		if (cases[i].content_type)
			assert_string_equal(json_get_string(headers, "content-type"),
					    cases[i].content_type);
		else
			assert_null(json_get_string(headers, "content-type"));
		assert_string_equal(json_get_string(body, "body"), cases[i].body);
		probe_done(&p);
	}
}

static void test_headers_sent(void **state)
{
	struct fixture *f = *state;
	const cJSON *headers;
	struct probe p;

	probe_init(f, &p,
		   "{\"url\": \"@/echo\", \"headers\": {\"X-Text\": \"a b\", \"X-Number\": 5,"
		   " \"X-Bool\": false, \"X-Null\": null}}");
	assert_int_equal(run_module(f, &p), MODULE_PENDING);
	headers = cJSON_GetObjectItem(cJSON_GetObjectItem(only_bundle(&p), "body"), "headers");
	assert_string_equal(json_get_string(headers, "x-text"), "a b");
	assert_string_equal(json_get_string(headers, "x-number"), "5");
	assert_string_equal(json_get_string(headers, "x-bool"), "false");
	assert_null(json_get_string(headers, "x-null"));
	probe_done(&p);
}

static cJSON *make_blob(struct fixture *f, size_t size, const char *name, char sha[65])
{
	struct store_blob_writer *writer;
	uint8_t *data = xmalloc(size);
	cJSON *file;

	test_server_fill(data, size, 0);
	test_sha256_hex(data, size, sha);
	assert_int_equal(store_blob_writer_new(f->env.store, 0, &writer), 0);
	assert_int_equal(store_blob_writer_write(writer, data, size), 0);
	assert_int_equal(store_blob_writer_commit(writer, name, NULL, &file), 0);
	free(data);
	return file;
}

/* A file value is sent as its bytes, streamed from the blob, and counted. */
static void test_file_body(void **state)
{
	struct fixture *f = *state;
	const size_t size = 512 * 1024 + 1;
	const cJSON *echo;
	struct probe p;
	char sha[65];

	probe_init(f, &p, "{\"url\": \"@/echo\", \"method\": \"PUT\"}");
	cJSON_AddItemToObject(p.input, "body", make_blob(f, size, "photo.png", sha));
	assert_int_equal(run_module(f, &p), MODULE_PENDING);
	echo = cJSON_GetObjectItem(only_bundle(&p), "body");
	assert_int_equal(json_get_int(echo, "body_size", -1), (int64_t)size);
	assert_string_equal(json_get_string(echo, "body_sha256"), sha);
	assert_string_equal(json_get_string(cJSON_GetObjectItem(echo, "headers"), "content-type"),
			    "image/png");
	assert_int_equal(p.run.bytes, (int64_t)size);
	probe_done(&p);
}

/* download: true streams the body into a blob named from the response. */
static void test_download(void **state)
{
	struct fixture *f = *state;
	const size_t size = 8 * 1024 * 1024;
	uint8_t *data = xmalloc(size);
	const cJSON *bundle, *file;
	struct probe p;
	char sha[65];

	test_server_fill(data, size, 0);
	test_sha256_hex(data, size, sha);
	free(data);

	probe_init(f, &p, "{\"url\": \"@/big?size=8388608\", \"download\": true}");
	assert_int_equal(run_module(f, &p), MODULE_PENDING);
	bundle = only_bundle(&p);
	assert_int_equal(json_get_int(bundle, "status", 0), 200);
	assert_null(cJSON_GetObjectItem(bundle, "body"));
	file = cJSON_GetObjectItem(bundle, "file");
	assert_true(json_is_file_value(file));
	assert_string_equal(json_get_string(file, "name"), "big.bin");
	assert_string_equal(json_get_string(file, "sha256"), sha);
	assert_int_equal(json_get_int(file, "size", -1), (int64_t)size);
	assert_int_equal(p.run.bytes, (int64_t)size);
	probe_done(&p);

	probe_init(f, &p, "{\"url\": \"@/named\", \"download\": true}");
	assert_int_equal(run_module(f, &p), MODULE_PENDING);
	file = cJSON_GetObjectItem(only_bundle(&p), "file");
	assert_string_equal(json_get_string(file, "name"), "naïve report.txt");
	assert_string_equal(json_get_string(file, "mime"), "text/plain");
	assert_int_equal(json_get_int(file, "size", -1), 5);
	probe_done(&p);

	/* Without Content-Disposition: the last segment of the URL answered. */
	probe_init(f, &p, "{\"url\": \"@/redirect?x=1\", \"download\": true}");
	assert_int_equal(run_module(f, &p), MODULE_PENDING);
	file = cJSON_GetObjectItem(only_bundle(&p), "file");
	assert_string_equal(json_get_string(file, "name"), "json");
	assert_string_equal(json_get_string(file, "mime"), "application/json");
	probe_done(&p);
}

/* Each way a request fails becomes the typed error a user routes on. */
static void test_failures(void **state)
{
	static const struct {
		const char *input;
		enum error_type type;
		const char *says;
		int64_t retry_after_ms;
	} cases[] = {
		{ "{\"url\": \"@/status/404\"}", ERROR_DATA, "HTTP 404", 0 },
		{ "{\"url\": \"@/status/422\", \"download\": true}", ERROR_DATA, "said no", 0 },
		{ "{\"url\": \"@/status/401\"}", ERROR_INVALID_ACCESS_TOKEN, "HTTP 401", 0 },
		{ "{\"url\": \"@/status/500\"}", ERROR_CONNECTION, "HTTP 500", 0 },
		{ "{\"url\": \"@/status/413\"}", ERROR_MAX_FILE_SIZE_EXCEEDED, "HTTP 413", 0 },
		{ "{\"url\": \"@/ratelimit\"}", ERROR_RATE_LIMIT, "HTTP 429", 7000 },
		{ "{\"url\": \"@/slow\", \"timeout\": \"200ms\"}", ERROR_CONNECTION, "imed out",
		  0 },
		{ "{\"url\": \"@/slow\", \"timeout\": 0.2}", ERROR_CONNECTION, "imed out", 0 },
		{ "{\"url\": \"@/drop\"}", ERROR_CONNECTION, "GET http://", 0 },
		{ "{\"url\": \"@/binary\"}", ERROR_DATA, "download: true", 0 },
		{ "{\"url\": \"@/big?size=11000000\"}", ERROR_DATA, "download: true", 0 },
		{ "{\"url\": \"@/stream?size=200000\", \"download\": true}",
		  ERROR_MAX_FILE_SIZE_EXCEEDED, "max_file_size", 0 },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct probe p;

		probe_init(f, &p, cases[i].input);
		p.run.max_file_size = 100000;
		assert_int_equal(run_module(f, &p), MODULE_PENDING);
		assert_true(p.run.failed);
		assert_null(p.run.outputs);
		assert_int_equal(p.run.error.type, cases[i].type);
		if (!strstr(p.run.error.message, cases[i].says))
			fail_msg("case %zu: '%s' lacks '%s'", i, p.run.error.message,
				 cases[i].says);
		assert_int_equal(p.run.error.retry_after_ms, cases[i].retry_after_ms);
		probe_done(&p);
	}
}

/* Bad input fails start() with a DataError and never calls back; no
 * message quotes a header value or the URL (it may hold a token). */
static void test_bad_input(void **state)
{
	static const struct {
		const char *input;
		const char *says;
	} cases[] = {
		{ "{}", "url is required" },
		{ "{\"url\": \"ftp://example.com/?token=t0k\"}", "not a valid http" },
		{ "{\"url\": \"@/json\", \"method\": \"TRACE\"}", "TRACE" },
		{ "{\"url\": \"@/json\", \"headers\": {\"Bad Name\": \"x\"}}", "Bad Name" },
		{ "{\"url\": \"@/json\", \"headers\": {\"X-A\": \"s3cr3t\\r\\nX-B: 1\"}}", "X-A" },
		{ "{\"url\": \"@/json\", \"headers\": {\"X-A\": {\"b\": 1}}}", "must be text" },
		{ "{\"url\": \"@/json\", \"headers\": [1]}", "headers must be a map" },
		{ "{\"url\": \"@/json\", \"query\": {\"a\": {\"b\": 1}}}", "query parameter 'a'" },
		{ "{\"url\": \"@/json\", \"download\": \"yes\"}", "download must be" },
		{ "{\"url\": \"@/json\", \"timeout\": \"forever\"}", "timeout" },
		{ "{\"url\": \"@/json\", \"timeout\": \"2h\"}", "timeout" },
		{ "{\"url\": \"@/json\", \"body\": {\"name\": \"x.pdf\", \"size\": 1, "
		  "\"sha256\": \"00\", \"path\": \"/etc/passwd\"}}",
		  "not in the store" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct probe p;

		probe_init(f, &p, cases[i].input);
		assert_true(run_module(f, &p) < 0);
		assert_true(p.run.failed);
		assert_int_equal(p.run.error.type, ERROR_DATA);
		if (!strstr(p.run.error.message, cases[i].says))
			fail_msg("case %zu: '%s' lacks '%s'", i, p.run.error.message,
				 cases[i].says);
		assert_null(strstr(p.run.error.message, "s3cr3t"));
		assert_null(strstr(p.run.error.message, "t0k"));
		probe_done(&p);
	}
}

static void test_secret_header_not_in_error(void **state)
{
	struct fixture *f = *state;
	struct probe p;

	probe_init(f, &p,
		   "{\"url\": \"@/echo?status=401\", \"headers\": {\"Authorization\": "
		   "\"Bearer s3cr3t-t0ken\"}}");
	assert_int_equal(run_module(f, &p), MODULE_PENDING);
	assert_int_equal(p.run.error.type, ERROR_INVALID_ACCESS_TOKEN);
	assert_non_null(strstr(p.run.error.message, "HTTP 401"));
	assert_null(strstr(p.run.error.message, "s3cr3t"));
	probe_done(&p);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct probe p;

	probe_init(f, &p, "{\"url\": \"@/slow\"}");
	assert_int_equal(f->desc->start(&p.run), MODULE_PENDING);
	f->desc->cancel(&p.run);
	assert_int_equal(p.done_calls, 0);
	assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
	assert_int_equal(p.done_calls, 1);
	assert_true(p.run.failed);
	assert_int_equal(p.run.error.type, ERROR_EXECUTION_INTERRUPTED);
	assert_null(p.run.priv);
	probe_done(&p);
}

struct reports {
	int count;
	char fields[8][32];
};

static void on_report(void *ctx, const char *field, const char *fmt, ...)
{
	struct reports *r = ctx;

	(void)fmt;
	assert_true(r->count < 8);
	snprintf(r->fields[r->count++], sizeof(r->fields[0]), "%s", field);
}

static void test_validate(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *bad = cJSON_Parse(
		"{\"url\": \"ftp://x/\", \"timeout\": \"2h\", \"headers\": {\"Bad Name\": \"v\"}}");
	_cleanup_json_ cJSON *good = cJSON_Parse(
		"{\"url\": \"https://example.com/x\", \"timeout\": \"30s\", \"headers\": {\"A\": \"v\"}}");
	struct reports reports = { 0 };

	assert_int_equal(f->desc->validate(bad, on_report, &reports), 3);
	assert_string_equal(reports.fields[0], "url");
	assert_string_equal(reports.fields[1], "headers");
	assert_string_equal(reports.fields[2], "timeout");
	reports.count = 0;
	assert_int_equal(f->desc->validate(good, on_report, &reports), 0);
	assert_int_equal(reports.count, 0);
}

/* ---- building requests, names, text ---- */

static void test_request_checks(void **state)
{
	struct http_request req;
	_cleanup_free_ char *what = NULL;

	(void)state;
	http_request_init(&req);
	assert_int_equal(http_request_set_url(&req, "ftp://example.com/x"), -EPROTONOSUPPORT);
	assert_int_equal(http_request_set_url(&req, "file:///etc/passwd"), -EPROTONOSUPPORT);
	assert_int_equal(http_request_set_url(&req, "not a url"), -EINVAL);
	assert_int_equal(http_request_set_url(&req, "/relative"), -EINVAL);
	assert_int_equal(http_request_set_method(&req, "TRACE"), -EINVAL);
	assert_int_equal(http_request_set_method(&req, "patch"), 0);
	assert_string_equal(req.method, "PATCH");
	assert_int_equal(http_request_add_header(&req, "Bad Name", "v", 0), -EINVAL);
	assert_int_equal(http_request_add_header(&req, "", "v", 0), -EINVAL);
	assert_int_equal(http_request_add_header(&req, "X-Injected", "a\r\nX-Evil: 1", 0), -EINVAL);
	assert_int_equal(http_request_add_header(&req, "X-Injected", "a\nb", 0), -EINVAL);
	assert_int_equal(http_request_add_header(&req, "X-Control", "a\x01b", 0), -EINVAL);
	assert_int_equal(http_request_add_header(&req, "X-Tab", "a\tb", 0), 0);
	for (int i = 1; i < HTTP_MAX_HEADERS; i++)
		assert_int_equal(http_request_add_header(&req, "X-Many", "v", 0), 0);
	assert_int_equal(http_request_add_header(&req, "X-Many", "v", 0), -E2BIG);

	assert_int_equal(http_request_set_url(
				 &req, "https://user:pw@api.example.com:8443/v2/jobs?token=1#f"),
			 0);
	what = http_request_describe(&req);
	assert_string_equal(what, "PATCH https://api.example.com:8443/v2/jobs");
	http_request_done(&req);
}

static void test_filename_sanitize(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "report.pdf", "report.pdf" },
		{ "../../etc/passwd", "passwd" },
		{ "..\\..\\boot.ini", "boot.ini" },
		{ ".hidden", "hidden" },
		{ "a..b.txt", "a.b.txt" },
		{ "line\nbreak\x1b[31m.txt", "linebreak[31m.txt" },
		{ "", "download" },
		{ "..", "download" },
		{ "/", "download" },
		{ "dir/", "download" },
		{ "  spaced name.txt  ", "spaced name.txt" },
		{ "naïve.txt", "naïve.txt" },
		{ "\xff\xfe.txt", "__.txt" },
		{ "trailing.", "trailing" },
	};
	char long_name[400];
	_cleanup_free_ char *cut = NULL;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *out = http_filename_sanitize(cases[i].in);

		assert_string_equal(out, cases[i].out);
	}
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cut = http_filename_sanitize(long_name);
	assert_int_equal(strlen(cut), HTTP_FILENAME_MAX);
}

static void test_body_is_text(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		bool text;
	} cases[] = {
		{ "plain", 5, true },	      { "naïve", 6, true },
		{ "a\0b", 3, false },	      { "\xff", 1, false },
		{ "\xc3", 1, false },	      { "\xc0\xaf", 2, false },
		{ "\xed\xa0\x80", 3, false }, { "\xf0\x9f\x98\x80", 4, true },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(http_body_is_text(cases[i].data, cases[i].len), cases[i].text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json_body_parsed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_and_empty_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_is_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_header_not_in_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
		cmocka_unit_test(test_request_checks),
		cmocka_unit_test(test_filename_sanitize),
		cmocka_unit_test(test_body_is_text),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
