/* SPDX-License-Identifier: MIT */
/*
 * The HTTP client against a real loopback server: what goes on the wire
 * (method, encoded query, headers, JSON, file and multipart bodies with the
 * file last), what comes back (status, lowercased headers, bodies in memory
 * or streamed into a blob), every failure as the errno and typed error a
 * module gets, the done callback exactly once (also on cancel, never on a
 * failed start), many requests at once, and a loop that closes cleanly.
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
#include "modules/http/outcome.h"
#include "modules/http/request.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

#define DEADLINE_MS 20000

static struct test_server *server;

struct fixture {
	uv_loop_t loop;
	struct http_client *client;
};

/* One request and what its done callback saw. */
struct probe {
	struct http_request req;
	int status;
	int calls;
	bool restart; /* start the request again from its done callback */
	struct http_client *client;
};

static void on_done(struct http_request *req, int status)
{
	struct probe *p = container_of(req, struct probe, req);

	p->status = status;
	p->calls++;
	if (p->restart) {
		p->restart = false;
		assert_int_equal(http_client_request_start(p->client, req, on_done), 0);
	}
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

	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(http_client_new(&f->loop, &f->client), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_client_free(f->client);
	helpers_close_loop(&f->loop);
	free(f);
	return 0;
}

static void probe_init(struct probe *p, const char *method, const char *path)
{
	_cleanup_free_ char *url = test_server_url(server, path);

	*p = (struct probe){ 0 };
	http_request_init(&p->req);
	assert_int_equal(http_request_set_method(&p->req, method), 0);
	assert_int_equal(http_request_set_url(&p->req, url), 0);
}

/* Runs one request to its end; asserts done ran exactly once. */
static void exchange(struct fixture *f, struct probe *p)
{
	p->client = f->client;
	assert_int_equal(http_client_request_start(f->client, &p->req, on_done), 0);
	assert_int_equal(p->calls, 0);
	assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
	assert_int_equal(p->calls, 1);
	assert_null(p->req.transfer);
}

static cJSON *body_json(const struct probe *p)
{
	cJSON *json = cJSON_ParseWithLength(p->req.response.body.data, p->req.response.body.len);

	assert_non_null(json);
	return json;
}

static void test_get_json(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *type = NULL;
	struct probe p;

	probe_init(&p, "GET", "/json");
	exchange(f, &p);
	assert_int_equal(p.status, 0);
	assert_int_equal(p.req.response.status, 200);
	assert_string_equal(p.req.response.body.data, "{\"hello\":\"world\",\"n\":42}");
	assert_int_equal(p.req.response.received, 24);
	type = http_response_media_type(&p.req);
	assert_string_equal(type, "application/json");
	assert_true(http_media_type_is_json(type));
	assert_string_equal(http_response_header(&p.req, "content-length"), "24");
	http_request_done(&p.req);
}

static void test_headers_lowercased_and_joined(void **state)
{
	struct fixture *f = *state;
	struct probe p;

	probe_init(&p, "GET", "/text");
	exchange(f, &p);
	assert_int_equal(p.req.response.status, 200);
	assert_string_equal(p.req.response.body.data, "hello text");
	assert_string_equal(http_response_header(&p.req, "content-type"),
			    "text/plain; charset=utf-8");
	assert_string_equal(http_response_header(&p.req, "x-twice"), "a, b");
	assert_null(http_response_header(&p.req, "X-Twice"));
	assert_string_equal(p.req.response.reason, "OK");
	http_request_done(&p.req);
}

/* Query parameters are percent-encoded after the URL's own; JSON bodies
 * carry their content type; no Expect: 100-continue; headers as given. */
static void test_echo_what_was_sent(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ cJSON *echo = NULL, *body = cJSON_Parse("{\"a\":[1,2],\"b\":\"é\"}");
	const cJSON *headers, *args;
	struct probe p;

	probe_init(&p, "POST", "/echo?fixed=1");
	assert_int_equal(http_request_add_query(&p.req, "q", "x y&z=1"), 0);
	assert_int_equal(http_request_add_query(&p.req, "ü/?", "~a-b_c.d"), 0);
	assert_int_equal(http_request_add_header(&p.req, "X-Custom", "value 1", 0), 0);
	assert_int_equal(http_request_add_header(&p.req, "X-Empty", "", 0), 0);
	assert_int_equal(http_request_set_body_json(&p.req, body), 0);
	exchange(f, &p);
	assert_int_equal(p.status, 0);
	assert_int_equal(p.req.response.status, 200);

	echo = body_json(&p);
	assert_string_equal(json_get_string(echo, "method"), "POST");
	assert_string_equal(json_get_string(echo, "uri"),
			    "/echo?fixed=1&q=x%20y%26z%3D1&%C3%BC%2F%3F=~a-b_c.d");
	args = cJSON_GetObjectItem(echo, "args");
	assert_string_equal(json_get_string(args, "q"), "x y&z=1");
	assert_string_equal(json_get_string(args, "fixed"), "1");
	headers = cJSON_GetObjectItem(echo, "headers");
	assert_string_equal(json_get_string(headers, "content-type"), "application/json");
	assert_string_equal(json_get_string(headers, "x-custom"), "value 1");
	assert_string_equal(json_get_string(headers, "x-empty"), "");
	assert_null(json_get_string(headers, "expect"));
	assert_non_null(strstr(json_get_string(headers, "user-agent"), "scenariod/"));
	assert_string_equal(json_get_string(echo, "body"), "{\"a\":[1,2],\"b\":\"é\"}");
	http_request_done(&p.req);
}

/* Every method reaches the server as itself, with and without a body. */
static void test_methods(void **state)
{
	static const struct {
		const char *method;
		const char *body; /* NULL: none */
	} cases[] = {
		{ "GET", NULL },      { "POST", NULL },	    { "POST", "text" },
		{ "PUT", "put me" },  { "PATCH", "patch" }, { "DELETE", NULL },
		{ "DELETE", "gone" }, { "OPTIONS", NULL },  { "put", "lowercase" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ cJSON *echo = NULL;
		_cleanup_free_ char *upper = xstrdup(cases[i].method);
		struct probe p;

		for (char *c = upper; *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		probe_init(&p, cases[i].method, "/echo");
		if (cases[i].body)
			assert_int_equal(http_request_set_body(&p.req, cases[i].body,
							       strlen(cases[i].body), "text/plain"),
					 0);
		exchange(f, &p);
		assert_int_equal(p.status, 0);
		echo = body_json(&p);
		assert_string_equal(json_get_string(echo, "method"), upper);
		assert_string_equal(json_get_string(echo, "body"),
				    cases[i].body ? cases[i].body : "");
		http_request_done(&p.req);
	}
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	struct probe p;

	probe_init(&p, "HEAD", "/json");
	exchange(f, &p);
	assert_int_equal(p.status, 0);
	assert_int_equal(p.req.response.status, 200);
	assert_int_equal(p.req.response.body.len, 0);
	http_request_done(&p.req);
}

static char *write_generated_file(const char *dir, size_t size, char sha[65])
{
	char *path = xasprintf("%s/upload.bin", dir);
	uint8_t *data = xmalloc(size);

	test_server_fill(data, size, 0);
	helpers_write_file(path, data, size);
	test_sha256_hex(data, size, sha);
	free(data);
	return path;
}

/* A file body is streamed, every byte arrives, and starting the same
 * request again reads the file again from the start. */
static void test_body_file(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *dir = helpers_mkdtemp(), *path = NULL;
	_cleanup_json_ cJSON *echo = NULL;
	const size_t size = 1024 * 1024 + 17;
	struct probe p;
	char sha[65];

	path = write_generated_file(dir, size, sha);
	probe_init(&p, "PUT", "/echo");
	assert_int_equal(http_request_set_body_file(&p.req, path, "application/x-test"), 0);
	p.restart = true;
	p.client = f->client;
	assert_int_equal(http_client_request_start(f->client, &p.req, on_done), 0);
	assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
	assert_int_equal(p.calls, 2);
	assert_int_equal(p.status, 0);
	assert_int_equal(p.req.response.sent, (int64_t)size);
	echo = body_json(&p);
	assert_string_equal(json_get_string(echo, "method"), "PUT");
	assert_int_equal(json_get_int(echo, "body_size", -1), (int64_t)size);
	assert_string_equal(json_get_string(echo, "body_sha256"), sha);
	assert_string_equal(json_get_string(cJSON_GetObjectItem(echo, "headers"), "content-type"),
			    "application/x-test");
	http_request_done(&p.req);
	helpers_rmdir_recursive(dir);
}

/* Fields in the order added, the file part last even when a field was
 * added after it, with its own name and type, streamed whole. */
static void test_multipart_file_last(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *dir = helpers_mkdtemp(), *path = NULL;
	_cleanup_json_ cJSON *parts_json = NULL;
	const size_t size = 300 * 1024 + 5;
	const cJSON *parts, *file;
	struct probe p;
	char sha[65];

	path = write_generated_file(dir, size, sha);
	probe_init(&p, "POST", "/upload");
	assert_int_equal(http_request_add_form_field(&p.req, "expires", "2026-12-01"), 0);
	assert_int_equal(http_request_set_form_file(&p.req, "file", path, "report final.pdf",
						    "application/pdf"),
			 0);
	assert_int_equal(http_request_add_form_field(&p.req, "signature", "abc=="), 0);
	exchange(f, &p);
	assert_int_equal(p.status, 0);
	assert_int_equal(p.req.response.status, 200);

	parts_json = body_json(&p);
	parts = cJSON_GetObjectItem(parts_json, "parts");
	assert_int_equal(cJSON_GetArraySize(parts), 3);
	assert_string_equal(json_get_string(cJSON_GetArrayItem(parts, 0), "name"), "expires");
	assert_string_equal(json_get_string(cJSON_GetArrayItem(parts, 0), "value"), "2026-12-01");
	assert_string_equal(json_get_string(cJSON_GetArrayItem(parts, 1), "name"), "signature");
	assert_string_equal(json_get_string(cJSON_GetArrayItem(parts, 1), "value"), "abc==");
	file = cJSON_GetArrayItem(parts, 2);
	assert_string_equal(json_get_string(file, "name"), "file");
	assert_string_equal(json_get_string(file, "filename"), "report final.pdf");
	assert_string_equal(json_get_string(file, "content_type"), "application/pdf");
	assert_int_equal(json_get_int(file, "size", -1), (int64_t)size);
	assert_string_equal(json_get_string(file, "sha256"), sha);
	http_request_done(&p.req);
	helpers_rmdir_recursive(dir);
}

static void test_redirect_followed(void **state)
{
	struct fixture *f = *state;
	struct probe p;

	probe_init(&p, "GET", "/redirect");
	exchange(f, &p);
	assert_int_equal(p.status, 0);
	assert_int_equal(p.req.response.status, 200);
	assert_string_equal(p.req.response.body.data, "{\"hello\":\"world\",\"n\":42}");
	assert_non_null(strstr(p.req.response.url, "/json"));
	assert_null(http_response_header(&p.req, "location"));
	http_request_done(&p.req);
}

/* A complete response is status 0 whatever its code; the outcome maps
 * the code to the typed error a module fails with. */
static void test_status_outcomes(void **state)
{
	static const struct {
		const char *path;
		bool failed;
		enum error_type type;
	} cases[] = {
		{ "/status/200", false, 0 },
		{ "/status/204", false, 0 },
		{ "/status/400", true, ERROR_DATA },
		{ "/status/401", true, ERROR_INVALID_ACCESS_TOKEN },
		{ "/status/403", true, ERROR_INVALID_ACCESS_TOKEN },
		{ "/status/404", true, ERROR_DATA },
		{ "/status/408", true, ERROR_CONNECTION },
		{ "/status/413", true, ERROR_MAX_FILE_SIZE_EXCEEDED },
		{ "/status/422", true, ERROR_DATA },
		{ "/status/500", true, ERROR_CONNECTION },
		{ "/status/503", true, ERROR_CONNECTION },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct module_error error = { 0 };
		struct probe p;

		probe_init(&p, "GET", cases[i].path);
		exchange(f, &p);
		assert_int_equal(p.status, 0);
		assert_int_equal(p.req.response.status, strtol(cases[i].path + 8, NULL, 10));
		assert_int_equal(http_outcome_error(&p.req, p.status, &error), cases[i].failed);
		if (cases[i].failed) {
			_cleanup_free_ char *says = xasprintf("HTTP %s", cases[i].path + 8);

			assert_int_equal(error.type, cases[i].type);
			assert_non_null(strstr(error.message, says));
			assert_non_null(strstr(error.message, "said no"));
			assert_non_null(strstr(error.message, "GET http://127.0.0.1:"));
			module_error_done(&error);
		}
		http_request_done(&p.req);
	}
}

static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct module_error error;
	struct probe p;

	probe_init(&p, "GET", "/ratelimit");
	exchange(f, &p);
	assert_true(http_outcome_error(&p.req, p.status, &error));
	assert_int_equal(error.type, ERROR_RATE_LIMIT);
	assert_int_equal(error.retry_after_ms, 7000);
	assert_non_null(strstr(error.message, "HTTP 429"));
	assert_non_null(strstr(error.message, "retry after 7 s"));
	module_error_done(&error);
	http_request_done(&p.req);

	probe_init(&p, "GET", "/ratelimit-date");
	exchange(f, &p);
	assert_true(http_outcome_error(&p.req, p.status, &error));
	assert_int_equal(error.type, ERROR_RATE_LIMIT);
	assert_in_range(error.retry_after_ms, 100000, 121000);
	module_error_done(&error);
	http_request_done(&p.req);
}

static void test_retry_after_values(void **state)
{
	/* Wed, 21 Oct 2015 07:28:00 GMT */
	const int64_t at = 1445412480000LL;
	static const struct {
		const char *value;
		int64_t now_offset_ms; /* now = at + this */
		int64_t expect_ms;
	} cases[] = {
		{ "7", 0, 7000 },
		{ " 120 ", 0, 120000 },
		{ "0", 0, 0 },
		{ "-5", 0, 0 },
		{ "1.5", 0, 0 },
		{ "soon", 0, 0 },
		{ "", 0, 0 },
		{ "99999999999999999999", 0, 86400000 },
		{ "Wed, 21 Oct 2015 07:28:00 GMT", -60000, 60000 },
		{ "Wednesday, 21-Oct-15 07:28:00 GMT", -30000, 30000 },
		{ "Wed Oct 21 07:28:00 2015", -1000, 1000 },
		{ "Wed, 21 Oct 2015 07:28:00 GMT", 5000, 0 },
		{ "Wed, 21 Oct 2025 07:28:00 GMT", 0, 86400000 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(http_outcome_retry_after_ms(cases[i].value,
							     at + cases[i].now_offset_ms),
				 cases[i].expect_ms);
	assert_int_equal(http_outcome_retry_after_ms(NULL, at), 0);
}

static void expect_failure(struct fixture *f, const char *path, int64_t timeout_ms,
			   int expect_status, enum error_type expect_type)
{
	struct module_error error;
	struct probe p;

	probe_init(&p, "GET", path);
	if (timeout_ms)
		p.req.timeout_ms = timeout_ms;
	exchange(f, &p);
	assert_int_equal(p.status, expect_status);
	assert_non_null(p.req.response.error);
	assert_true(http_outcome_error(&p.req, p.status, &error));
	assert_int_equal(error.type, expect_type);
	/* The query (which may hold a token) never reaches a message. */
	assert_null(strstr(error.message, "token"));
	assert_non_null(strstr(error.message, "GET http://127.0.0.1:"));
	module_error_done(&error);
	http_request_done(&p.req);
}

static void test_transport_failures(void **state)
{
	struct fixture *f = *state;

	expect_failure(f, "/slow?token=abc", 200, -ETIMEDOUT, ERROR_CONNECTION);
	expect_failure(f, "/drop?token=abc", 0, -ECONNRESET, ERROR_CONNECTION);
	expect_failure(f, "/partial?token=abc", 0, -ECONNRESET, ERROR_CONNECTION);
	expect_failure(f, "/many-headers?token=abc", 0, -EBADMSG, ERROR_CONNECTION);
}

static void test_connection_refused(void **state)
{
	struct fixture *f = *state;
	struct probe p = { 0 };

	http_request_init(&p.req);
	/* Port 1 on loopback: nothing listens there in a test environment. */
	assert_int_equal(http_request_set_url(&p.req, "http://127.0.0.1:1/x"), 0);
	exchange(f, &p);
	assert_int_equal(p.status, -ECONNREFUSED);
	assert_int_equal(p.req.response.status, 0);
	http_request_done(&p.req);
}

/* The in-memory cap holds with a Content-Length and without one. */
static void test_max_body(void **state)
{
	static const char *const paths[] = { "/big?size=100000", "/stream?size=100000" };
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		struct module_error error;
		struct probe p;

		probe_init(&p, "GET", paths[i]);
		p.req.max_body = 1000;
		exchange(f, &p);
		assert_int_equal(p.status, -EFBIG);
		assert_true(p.req.response.body.len <= 1000);
		assert_true(http_outcome_error(&p.req, p.status, &error));
		assert_int_equal(error.type, ERROR_MAX_FILE_SIZE_EXCEEDED);
		module_error_done(&error);
		http_request_done(&p.req);
	}
}

/* A secret header's value never shows in an error, even when the server
 * echoes it back in its error text. */
static void test_secret_not_in_errors(void **state)
{
	struct fixture *f = *state;
	struct module_error error;
	struct probe p;

	probe_init(&p, "POST", "/echo?status=400");
	assert_int_equal(http_request_add_header(&p.req, "Authorization", "Bearer s3cr3t-t0ken", 0),
			 0);
	assert_int_equal(
		http_request_add_header(&p.req, "X-Signature", "sig-v4lue", HTTP_HEADER_SECRET), 0);
	exchange(f, &p);
	assert_int_equal(p.req.response.status, 400);
	assert_non_null(strstr(p.req.response.body.data, "s3cr3t-t0ken"));
	assert_true(http_outcome_error(&p.req, p.status, &error));
	assert_int_equal(error.type, ERROR_DATA);
	assert_null(strstr(error.message, "s3cr3t"));
	assert_null(strstr(error.message, "sig-v4lue"));
	module_error_done(&error);
	http_request_done(&p.req);

	/* Without secrets, the server's short text is part of the message. */
	probe_init(&p, "POST", "/echo?status=422");
	assert_int_equal(http_request_add_header(&p.req, "X-Visible", "plain", 0), 0);
	exchange(f, &p);
	assert_true(http_outcome_error(&p.req, p.status, &error));
	assert_non_null(strstr(error.message, "HTTP 422"));
	assert_non_null(strstr(error.message, "you sent"));
	assert_non_null(strstr(error.message, "x-visible"));
	module_error_done(&error);
	http_request_done(&p.req);
}

static void on_cancel_timer(uv_timer_t *timer)
{
	struct probe *p = timer->data; /* test plumbing, not engine context */

	http_client_request_cancel(&p->req);
	assert_int_equal(p->calls, 0);
	http_client_request_cancel(&p->req);
	uv_close((uv_handle_t *)timer, NULL);
}

/* Cancel: done runs once, later, with -ECANCELED; before the request got
 * anywhere and while it waits for the server. */
static void test_cancel(void **state)
{
	struct fixture *f = *state;
	uv_timer_t timer;
	struct probe p;

	probe_init(&p, "GET", "/slow");
	assert_int_equal(http_client_request_start(f->client, &p.req, on_done), 0);
	http_client_request_cancel(&p.req);
	http_client_request_cancel(&p.req);
	assert_int_equal(p.calls, 0);
	assert_int_equal(http_client_in_flight(f->client), 1);
	assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.status, -ECANCELED);
	assert_int_equal(http_client_in_flight(f->client), 0);
	http_request_done(&p.req);

	probe_init(&p, "GET", "/slow");
	assert_int_equal(http_client_request_start(f->client, &p.req, on_done), 0);
	uv_timer_init(&f->loop, &timer);
	timer.data = &p;
	uv_timer_start(&timer, on_cancel_timer, 100, 0);
	assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.status, -ECANCELED);
	assert_non_null(strstr(p.req.response.error, "cancelled"));
	/* Cancelling a finished request does nothing. */
	http_client_request_cancel(&p.req);
	assert_int_equal(p.calls, 1);
	http_request_done(&p.req);
}

/* A start that fails never calls done; one that succeeds calls it once. */
static void test_start_errors(void **state)
{
	struct fixture *f = *state;
	struct probe none = { 0 }, missing, twice;

	http_request_init(&none.req);
	assert_int_equal(http_client_request_start(f->client, &none.req, on_done), -EINVAL);

	probe_init(&missing, "POST", "/echo");
	assert_int_equal(http_request_set_body_file(&missing.req, "/nonexistent/file", NULL), 0);
	assert_int_equal(http_client_request_start(f->client, &missing.req, on_done), -ENOENT);
	probe_init(&twice, "POST", "/echo");
	assert_int_equal(http_request_set_form_file(&twice.req, "file", "/", NULL, NULL), 0);
	assert_int_equal(http_client_request_start(f->client, &twice.req, on_done), -EISDIR);

	http_request_done(&twice.req);
	probe_init(&twice, "GET", "/json");
	assert_int_equal(http_client_request_start(f->client, &twice.req, on_done), 0);
	assert_int_equal(http_client_request_start(f->client, &twice.req, on_done), -EINVAL);
	assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
	assert_int_equal(none.calls, 0);
	assert_int_equal(missing.calls, 0);
	assert_int_equal(twice.calls, 1);
	assert_int_equal(twice.status, 0);
	http_request_done(&none.req);
	http_request_done(&missing.req);
	http_request_done(&twice.req);
}

static void test_many_concurrent(void **state)
{
	enum { N = 50 };
	struct fixture *f = *state;
	struct probe *probes = xcalloc(N, sizeof(*probes));

	for (int i = 0; i < N; i++) {
		_cleanup_free_ char *value = xasprintf("%d", i);

		probe_init(&probes[i], i % 2 ? "GET" : "POST",
			   i % 5 ? "/echo" : "/big?size=200000");
		assert_int_equal(http_request_add_query(&probes[i].req, "i", value), 0);
		assert_int_equal(http_client_request_start(f->client, &probes[i].req, on_done), 0);
	}
	assert_int_equal(http_client_in_flight(f->client), N);
	assert_true(helpers_run_loop(&f->loop, DEADLINE_MS));
	for (int i = 0; i < N; i++) {
		assert_int_equal(probes[i].calls, 1);
		assert_int_equal(probes[i].status, 0);
		assert_int_equal(probes[i].req.response.status, 200);
		if (i % 5) {
			_cleanup_json_ cJSON *echo = body_json(&probes[i]);
			_cleanup_free_ char *value = xasprintf("%d", i);

			assert_string_equal(json_get_string(cJSON_GetObjectItem(echo, "args"), "i"),
					    value);
		} else {
			assert_int_equal(probes[i].req.response.received, 200000);
		}
		http_request_done(&probes[i].req);
	}
	assert_int_equal(http_client_in_flight(f->client), 0);
	free(probes);
}

/* Freeing the client ends what is in flight with -ECANCELED at once. */
static void test_free_in_flight(void **state)
{
	struct fixture *f = *state;
	struct probe p;

	probe_init(&p, "GET", "/slow");
	assert_int_equal(http_client_request_start(f->client, &p.req, on_done), 0);
	helpers_run_loop(&f->loop, 50);
	f->client = http_client_free(f->client);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.status, -ECANCELED);
	http_request_done(&p.req);
}

/* ---- responses streamed into a blob ---- */

static void test_sink_big_download(void **state)
{
	struct fixture *f = *state;
	const size_t size = 8 * 1024 * 1024 + 3;
	_cleanup_free_ char *path = xasprintf("/big?size=%zu", size), *msg = NULL;
	_cleanup_free_ char *name = NULL, *data = NULL;
	_cleanup_json_ cJSON *file = NULL;
	struct store_blob_writer *writer;
	struct store *store;
	uint8_t *expect = xmalloc(size);
	char sha[65];
	size_t len;
	struct probe p;

	test_server_fill(expect, size, 0);
	test_sha256_hex(expect, size, sha);
	free(expect);

	assert_int_equal(store_open(":memory:", &store, &msg), 0);
	assert_int_equal(store_blob_writer_new(store, 0, &writer), 0);
	probe_init(&p, "GET", path);
	p.req.sink = writer;
	exchange(f, &p);
	assert_int_equal(p.status, 0);
	assert_true(p.req.response.to_sink);
	assert_int_equal(p.req.response.received, (int64_t)size);
	assert_int_equal(p.req.response.body.len, 0);
	assert_int_equal(store_blob_writer_size(writer), (int64_t)size);
	name = http_filename_from_response(&p.req);
	assert_string_equal(name, "big.bin");
	assert_int_equal(store_blob_writer_commit(writer, name, NULL, &file), 0);
	assert_string_equal(json_get_string(file, "sha256"), sha);
	assert_int_equal(json_get_int(file, "size", -1), (int64_t)size);
	data = helpers_read_file(json_get_string(file, "path"), &len);
	assert_int_equal(len, size);
	http_request_done(&p.req);
	store_close(store);
}

/* The sink's limit stops the download; an error page stays in memory. */
static void test_sink_limit_and_errors(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *msg = NULL;
	struct store_blob_writer *writer;
	struct module_error error;
	struct store *store;
	struct probe p;

	assert_int_equal(store_open(":memory:", &store, &msg), 0);
	assert_int_equal(store_blob_writer_new(store, 50000, &writer), 0);
	probe_init(&p, "GET", "/stream?size=200000");
	p.req.sink = writer;
	exchange(f, &p);
	assert_int_equal(p.status, -EFBIG);
	assert_true(http_outcome_error(&p.req, p.status, &error));
	assert_int_equal(error.type, ERROR_MAX_FILE_SIZE_EXCEEDED);
	module_error_done(&error);
	store_blob_writer_abort(writer);
	http_request_done(&p.req);

	assert_int_equal(store_blob_writer_new(store, 0, &writer), 0);
	probe_init(&p, "GET", "/status/404");
	p.req.sink = writer;
	exchange(f, &p);
	assert_int_equal(p.status, 0);
	assert_false(p.req.response.to_sink);
	assert_int_equal(store_blob_writer_size(writer), 0);
	assert_non_null(strstr(p.req.response.body.data, "said no"));
	store_blob_writer_abort(writer);
	http_request_done(&p.req);
	store_close(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_lowercased_and_joined, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_what_was_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart_file_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test(test_retry_after_values),
		cmocka_unit_test_setup_teardown(test_transport_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_not_in_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_big_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_limit_and_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
