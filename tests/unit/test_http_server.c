/* SPDX-License-Identifier: MIT */
/*
 * daemon/http_server.c over real HTTP on loopback. The server runs on the
 * test's own uv loop; the client runs in a thread with plain blocking
 * sockets, so it can send exactly what a case needs (an oversized
 * Content-Length, a chunked body without end, a trickle, a hang-up) and
 * only records what it read: every assertion runs on the main thread once
 * the client thread is joined. The route is the fixture's: it records what
 * it was given and answers at once, later from a timer, with a file, or
 * not at all, as the case sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "daemon/http_server.h"
#include "store/store.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define MAX_HELD 8
#define MAX_RESPONSES 4

enum reply_mode {
	REPLY_ECHO, /* 200 with the raw body back */
	REPLY_LATER, /* keeps the request, answers 200 "later" after delay_ms */
	REPLY_FILE, /* 200 with file_path */
	REPLY_NONE, /* neither answers nor keeps it */
};

struct response {
	int status; /* 0: the connection ended without a status line */
	char *head; /* status line and headers */
	char *body;
	size_t body_len;
	int error; /* errno of the read that ended it, 0 for an orderly end */
	int64_t elapsed_ms; /* from the client's first byte to the end of the read */
};

struct held {
	uv_timer_t timer;
	struct fixture *f;
	struct http_in *in; /* a reference */
	int result; /* of the late reply */
	bool connected; /* http_in_connected() then */
};

struct fixture {
	uv_loop_t loop;
	char *tmp;
	struct store *store;
	struct http_server *server;
	unsigned port;
	struct http_server_limits limits;

	/* the route */
	struct http_in_plan plan;
	unsigned headers_status; /* answer by the headers with this */
	int headers_hold; /* 0: no; else keep the request there and return headers_hold - 1 */
	enum reply_mode mode;
	uint64_t delay_ms;
	char *file_path;
	int stop_after; /* the route stops the server at this request */

	/* what the route saw */
	int headers_calls;
	atomic_int body_calls;
	char *method, *path, *remote, *body;
	size_t body_len;
	bool body_null, body_terminated;
	cJSON *query, *headers, *form, *files;
	unsigned char hmac[32];
	bool has_hmac;
	struct held held[MAX_HELD];
	uv_prepare_t prepare; /* counts loop turns */
	int turns;
	uv_timer_t stop_timer;
	int n_held;
	int pending; /* held requests not answered yet */

	/* the client */
	void (*client)(struct fixture *f);
	uv_thread_t thread;
	uv_async_t done;
	bool client_done;
	bool timed_out;
	const char *request; /* for client_request */
	size_t request_len;
	struct response resp[MAX_RESPONSES];
};

/* ---- the route ---- */

static void maybe_stop(struct fixture *f)
{
	if (f->client_done && f->pending == 0)
		uv_stop(&f->loop);
}

static void hold(struct fixture *f, struct http_in *in);

static int route_headers(struct http_in *in, struct http_in_plan *plan, void *userdata)
{
	struct fixture *f = userdata;

	f->headers_calls++;
	if (f->headers_status) {
		assert_int_equal(
			http_in_respond(in, f->headers_status, NULL, "text/plain", "nope\n", 5), 0);
		return 1;
	}
	*plan = f->plan;
	if (f->headers_hold) {
		hold(f, in);
		return f->headers_hold - 1;
	}
	return 0;
}

static void record(struct fixture *f, struct http_in *in)
{
	const char *body;
	size_t len = 0;

	free(f->method);
	free(f->path);
	free(f->remote);
	free(f->body);
	cJSON_Delete(f->query);
	cJSON_Delete(f->headers);
	cJSON_Delete(f->form);
	cJSON_Delete(f->files);
	f->method = xstrdup(http_in_method(in));
	f->path = xstrdup(http_in_path(in));
	f->remote = xstrdup(http_in_remote_address(in));
	f->query = cJSON_Duplicate(http_in_query(in), true);
	f->headers = cJSON_Duplicate(http_in_headers(in), true);
	f->form = http_in_form(in) ? cJSON_Duplicate(http_in_form(in), true) : NULL;
	f->files = http_in_files(in) ? cJSON_Duplicate(http_in_files(in), true) : NULL;
	body = http_in_body(in, &len);
	f->body_null = !body;
	f->body_terminated = body && body[len] == '\0';
	f->body = xmalloc(len + 1);
	if (body)
		memcpy(f->body, body, len);
	f->body_len = len;
	f->has_hmac = http_in_body_hmac(in) != NULL;
	if (f->has_hmac)
		memcpy(f->hmac, http_in_body_hmac(in), 32);
}

static void on_held_timer(uv_timer_t *timer)
{
	struct held *h = container_of(timer, struct held, timer);
	struct fixture *f = h->f;

	h->connected = http_in_connected(h->in);
	h->result = http_in_respond(h->in, 200, NULL, "text/plain", "later\n", 6);
	http_in_unref(h->in);
	h->in = NULL;
	uv_close((uv_handle_t *)timer, NULL);
	f->pending--;
	maybe_stop(f);
}

static void hold(struct fixture *f, struct http_in *in)
{
	struct held *h;

	assert_true(f->n_held < MAX_HELD);
	h = &f->held[f->n_held++];
	h->f = f;
	h->in = http_in_ref(in);
	h->result = 1;
	uv_timer_init(&f->loop, &h->timer);
	uv_timer_start(&h->timer, on_held_timer, f->delay_ms, 0);
	f->pending++;
}

/* Replies refused before anything is sent: the request still takes one. */
static void refused_replies(struct http_in *in)
{
	static const char *const bad[][2] = {
		{ "Bad Name", "x" },
		{ "X-Injected", "a\r\nSet-Cookie: x=1" },
		{ "Content-Length", "5" },
		{ "transfer-encoding", "chunked" },
		{ "", "x" },
	};

	assert_int_equal(http_in_respond(in, 42, NULL, NULL, "", 0), -EINVAL);
	assert_int_equal(http_in_respond(in, 600, NULL, NULL, "", 0), -EINVAL);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		cJSON *headers = cJSON_CreateObject();

		cJSON_AddStringToObject(headers, bad[i][0], bad[i][1]);
		assert_int_equal(http_in_respond(in, 200, headers, NULL, "", 0), -EINVAL);
		cJSON_Delete(headers);
	}
	assert_int_equal(http_in_respond(in, 200, NULL, "text/plain\r\nX: y", "", 0), -EINVAL);
}

static void route_body(struct http_in *in, void *userdata)
{
	struct fixture *f = userdata;
	cJSON *headers = cJSON_CreateObject();
	size_t len = 0;
	const char *body;

	record(f, in);
	f->body_calls++;
	switch (f->mode) {
	case REPLY_ECHO:
		body = http_in_body(in, &len);
		refused_replies(in);
		cJSON_AddStringToObject(headers, "X-Test", "yes");
		assert_int_equal(http_in_respond(in, 200, headers, "application/octet-stream",
						 body ? body : "", len),
				 0);
		/* One reply per request. */
		assert_int_equal(http_in_respond(in, 200, NULL, NULL, "", 0), -EALREADY);
		break;
	case REPLY_LATER:
		hold(f, in);
		break;
	case REPLY_FILE:
		/* A file that cannot be opened is no reply: the route still owes one. */
		assert_int_equal(http_in_respond_file(in, 200, NULL, NULL, "/nonexistent/file"),
				 -ENOENT);
		assert_int_equal(
			http_in_respond_file(in, 200, NULL, "application/pdf", f->file_path), 0);
		break;
	case REPLY_NONE:
		break;
	}
	cJSON_Delete(headers);
	if (f->stop_after && f->body_calls == f->stop_after) {
		http_server_stop(f->server);
		f->server = NULL;
	}
}

/* ---- the client (in its own thread: it records, it never asserts) ---- */

static int client_connect(const struct fixture *f)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->port) };
	struct timeval timeout = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void set_read_timeout(int fd, int ms)
{
	struct timeval timeout = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

static int client_send(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A header's value in a response head; caller frees. NULL when absent. */
static char *find_header(const char *head, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *value = p + 3 + len;

		if (strncasecmp(p + 2, name, len) != 0 || p[2 + len] != ':')
			continue;
		value += strspn(value, " ");
		return xstrndup(value, strcspn(value, "\r\n"));
	}
	return NULL;
}

/* Reads one response: the head, then Content-Length bytes (or up to the
 * end of the stream without one). */
static void client_read(int fd, struct response *r, int64_t start)
{
	struct strbuf in;
	char buf[16384];
	size_t head_len = 0, want = SIZE_MAX;
	strbuf_init(&in);
	for (;;) {
		ssize_t n;

		if (head_len && in.len - head_len >= want)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->error = n < 0 ? errno : 0;
			break;
		}
		strbuf_append(&in, buf, (size_t)n);
		if (!head_len && in.data && strstr(in.data, "\r\n\r\n")) {
			head_len = (size_t)(strstr(in.data, "\r\n\r\n") - in.data) + 4;
			r->head = xstrndup(in.data, head_len);
			r->status = (int)strtol(in.data + 9, NULL, 10);
			_cleanup_free_ char *length = find_header(r->head, "content-length");

			if (length)
				want = (size_t)strtoull(length, NULL, 10);
		}
	}
	if (head_len) {
		r->body_len = in.len - head_len;
		r->body = xmalloc(r->body_len + 1);
		memcpy(r->body, in.data + head_len, r->body_len);
		r->body[r->body_len] = '\0';
	}
	r->elapsed_ms = time_monotonic_ms() - start;
	strbuf_done(&in);
}

/* Sends f->request on a fresh connection and reads the answer. */
static void client_request(struct fixture *f)
{
	int64_t start = time_monotonic_ms();
	int fd = client_connect(f);

	if (fd < 0)
		return;
	if (client_send(fd, f->request, f->request_len) < 0)
		f->resp[0].error = errno;
	client_read(fd, &f->resp[0], start);
	close(fd);
}

static void on_client_done(uv_async_t *async)
{
	struct fixture *f = container_of(async, struct fixture, done);

	f->client_done = true;
	maybe_stop(f);
}

static void client_main(void *arg)
{
	struct fixture *f = arg;

	f->client(f);
	uv_async_send(&f->done);
}

/* Runs `client` in a thread and the loop until the client finished and
 * every held request was answered (or `deadline_ms` passed). */
static void responses_reset(struct fixture *f)
{
	for (int i = 0; i < MAX_RESPONSES; i++) {
		free(f->resp[i].head);
		free(f->resp[i].body);
		f->resp[i] = (struct response){ 0 };
	}
}

static void run_client(struct fixture *f, void (*client)(struct fixture *f), int64_t deadline_ms)
{
	responses_reset(f);
	f->client = client;
	f->client_done = false;
	uv_async_init(&f->loop, &f->done, on_client_done);
	assert_int_equal(uv_thread_create(&f->thread, client_main, f), 0);
	f->timed_out = !helpers_run_loop(&f->loop, deadline_ms);
	uv_thread_join(&f->thread);
	uv_close((uv_handle_t *)&f->done, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_false(f->timed_out);
}

/* Lets the server work for `ms` (a hang-up to be noticed, say). */
static void spin(struct fixture *f, int64_t ms)
{
	(void)helpers_run_loop(&f->loop, ms);
}

static void request_set(struct fixture *f, const char *text, size_t len)
{
	f->request = text;
	f->request_len = len;
}

/* ---- fixture ---- */

static void start(struct fixture *f)
{
	_cleanup_free_ char *msg = NULL;

	assert_int_equal(http_server_start(&f->loop, "127.0.0.1:0", &f->limits, f->store,
					   route_headers, route_body, f, &f->server, &msg),
			 0);
	f->port = http_server_port(f->server);
	assert_true(f->port > 0);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *dir = NULL;

	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->tmp = helpers_mkdtemp();
	dir = xasprintf("%s/state", f->tmp);
	assert_int_equal(store_open(dir, &f->store, &msg), 0);
	f->plan.max_body = 1024 * 1024;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_stop(f->server);
	/* The server closes all its handles itself: the loop must end. */
	assert_true(helpers_run_loop(&f->loop, 5000));
	helpers_close_loop(&f->loop);
	store_close(f->store);
	helpers_rmdir_recursive(f->tmp);
	free(f->tmp);
	free(f->file_path);
	free(f->method);
	free(f->path);
	free(f->remote);
	free(f->body);
	cJSON_Delete(f->query);
	cJSON_Delete(f->headers);
	cJSON_Delete(f->form);
	cJSON_Delete(f->files);
	responses_reset(f);
	free(f);
	return 0;
}

/* Files left in the store's blobs/tmp. */
static int temp_files(const struct fixture *f)
{
	_cleanup_free_ char *path = xasprintf("%s/tmp", store_blob_dir(f->store));
	DIR *dir = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static char *sha256_hex(const void *data, size_t len)
{
	unsigned char digest[32];
	char *hex = xmalloc(65);

	assert_int_equal(EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

static char *hex_of(const unsigned char *bytes, size_t len)
{
	char *hex = xmalloc(2 * len + 1);

	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	return hex;
}

/* A POST with a Content-Length; caller frees. */
static char *post(const char *path, const char *type, const void *body, size_t len, size_t *ret_len)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_printf(&sb,
		      "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		      path, type, len);
	strbuf_append(&sb, body, len);
	*ret_len = sb.len;
	return strbuf_steal(&sb);
}

/* ---- bodies ---- */

static char *pattern(size_t len)
{
	char *data = xmalloc(len);

	for (size_t i = 0; i < len; i++)
		data[i] = (char)((i * 7 + i / 251) & 0xff); /* NULs included */
	return data;
}

static void test_raw_body_exact(void **state)
{
	struct fixture *f = *state;
	size_t len = 200 * 1024, request_len;
	_cleanup_free_ char *body = pattern(len);
	_cleanup_free_ char *request = NULL, *header = NULL;

	start(f);
	request = post("/hooks/a", "application/json", body, len, &request_len);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);

	assert_int_equal(f->resp[0].status, 200);
	assert_int_equal(f->resp[0].body_len, len);
	assert_memory_equal(f->resp[0].body, body, len);
	header = find_header(f->resp[0].head, "x-test");
	assert_string_equal(header, "yes");
	assert_int_equal(f->headers_calls, 1);
	assert_int_equal(f->body_calls, 1);
	assert_string_equal(f->method, "POST");
	assert_string_equal(f->path, "/hooks/a");
	assert_string_equal(f->remote, "127.0.0.1");
	assert_string_equal(json_get_string(f->headers, "content-type"), "application/json");
	assert_int_equal(f->body_len, len);
	assert_memory_equal(f->body, body, len);
	assert_true(f->body_terminated);
	assert_null(f->form);
	assert_null(f->files);
	assert_false(f->has_hmac);
}

/* Two requests on one connection, the second chunked. */
static void client_keepalive(struct fixture *f)
{
	static const char first[] = "POST /one HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";
	static const char second[] =
		"POST /two HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
		"Connection: close\r\n\r\n"
		"3\r\nxyz\r\n4\r\n\0\0\0\0\r\n0\r\n\r\n";
	int64_t start = time_monotonic_ms();
	int fd = client_connect(f);

	if (fd < 0)
		return;
	client_send(fd, first, sizeof(first) - 1);
	client_read(fd, &f->resp[0], start);
	client_send(fd, second, sizeof(second) - 1);
	client_read(fd, &f->resp[1], start);
	close(fd);
}

static void test_keepalive_and_chunked(void **state)
{
	struct fixture *f = *state;

	start(f);
	run_client(f, client_keepalive, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_string_equal(f->resp[0].body, "abc");
	assert_int_equal(f->resp[1].status, 200);
	assert_int_equal(f->resp[1].body_len, 7);
	assert_memory_equal(f->resp[1].body, "xyz\0\0\0\0", 7);
	assert_int_equal(f->body_calls, 2);
	assert_string_equal(f->path, "/two");
}

static void client_headers_only(struct fixture *f)
{
	static const char head[] =
		"POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n";
	int64_t start = time_monotonic_ms();
	int fd = client_connect(f);

	if (fd < 0)
		return;
	client_send(fd, head, sizeof(head) - 1);
	client_read(fd, &f->resp[0], start);
	close(fd);
}

static void test_content_length_too_large(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *type = NULL;

	f->plan.max_body = 1000;
	start(f);
	run_client(f, client_headers_only, 10000);
	assert_int_equal(f->resp[0].status, 413);
	type = find_header(f->resp[0].head, "content-type");
	assert_string_equal(type, "text/plain; charset=utf-8");
	assert_int_equal(f->headers_calls, 1);
	assert_int_equal(f->body_calls, 0);
}

/* A chunked body without end: 16 KiB chunks until the server stops
 * reading, then the answer. */
static void client_chunked_flood(struct fixture *f)
{
	static const char head[] = "POST /flood HTTP/1.1\r\nHost: t\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	_cleanup_free_ char *chunk = xmalloc(16384 + 16);
	int64_t start = time_monotonic_ms();
	int fd = client_connect(f);
	int n;

	if (fd < 0)
		return;
	n = snprintf(chunk, 16, "4000\r\n");
	memset(chunk + n, 'x', 16384);
	memcpy(chunk + n + 16384, "\r\n", 2);
	client_send(fd, head, sizeof(head) - 1);
	for (int i = 0; i < 1024; i++)
		if (client_send(fd, chunk, (size_t)n + 16384 + 2) < 0)
			break;
	client_read(fd, &f->resp[0], start);
	close(fd);
}

static void test_chunked_too_large(void **state)
{
	struct fixture *f = *state;

	f->plan.max_body = 64 * 1024;
	start(f);
	run_client(f, client_chunked_flood, 20000);
	assert_int_equal(f->resp[0].status, 413);
	assert_string_equal(f->resp[0].body, "Payload Too Large\n");
	assert_int_equal(f->headers_calls, 1);
	assert_int_equal(f->body_calls, 0);
}

static void test_form_urlencoded(void **state)
{
	struct fixture *f = *state;
	static const char body[] = "a=1&b=hello+world&a=2&c=%26%3D&&empty=&bad=%zz%4&flag";
	_cleanup_free_ char *form = NULL, *query = NULL, *request = NULL;

	request = xasprintf("POST /hooks/x%%20y+z?q=1&r=%%C3%%A9&q=2&flag&p=a+b%%2Bc HTTP/1.1\r\n"
			    "Host: test\r\n"
			    "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
			    "X-Multi: a\r\n"
			    "x-multi: b\r\n"
			    "X-Case: Value\r\n"
			    "Content-Length: %zu\r\n"
			    "Connection: close\r\n\r\n%s",
			    sizeof(body) - 1, body);
	start(f);
	request_set(f, request, strlen(request));
	run_client(f, client_request, 10000);

	assert_int_equal(f->resp[0].status, 200);
	assert_string_equal(f->path, "/hooks/x y+z");
	query = json_print(f->query);
	assert_string_equal(query,
			    "{\"q\":\"1\",\"r\":\"\xc3\xa9\",\"flag\":\"\",\"p\":\"a b+c\"}");
	assert_string_equal(json_get_string(f->headers, "x-multi"), "a, b");
	assert_string_equal(json_get_string(f->headers, "x-case"), "Value");
	form = json_print(f->form);
	assert_string_equal(form, "{\"a\":[\"1\",\"2\"],\"b\":\"hello world\",\"c\":\"&=\","
				  "\"empty\":\"\",\"bad\":\"%zz%4\",\"flag\":\"\"}");
	/* The raw bytes stay available. */
	assert_int_equal(f->body_len, sizeof(body) - 1);
	assert_memory_equal(f->body, body, sizeof(body) - 1);
	assert_null(f->files);
}

/* ---- multipart ---- */

#define BOUNDARY "----scenariod-test-boundary"

static void part_field(struct strbuf *sb, const char *name, const char *value)
{
	strbuf_printf(sb,
		      "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
		      name, value);
}

static void part_file(struct strbuf *sb, const char *name, const char *filename, const char *mime,
		      const void *data, size_t len)
{
	strbuf_printf(sb,
		      "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"; "
		      "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
		      name, filename, mime);
	strbuf_append(sb, data, len);
	strbuf_puts(sb, "\r\n");
}

static void check_file(const cJSON *value, const char *field, const char *name, const char *mime,
		       const void *data, size_t len)
{
	_cleanup_free_ char *sha = sha256_hex(data, len);
	_cleanup_free_ char *stored = NULL;
	size_t stored_len = 0;

	assert_non_null(value);
	assert_true(json_is_file_value(value));
	assert_string_equal(json_get_string(value, "field"), field);
	assert_string_equal(json_get_string(value, "name"), name);
	assert_string_equal(json_get_string(value, "mime"), mime);
	assert_int_equal(json_get_int(value, "size", -1), (int64_t)len);
	assert_string_equal(json_get_string(value, "sha256"), sha);
	stored = helpers_read_file(json_get_string(value, "path"), &stored_len);
	assert_non_null(stored);
	assert_int_equal(stored_len, len);
	assert_memory_equal(stored, data, len);
}

static void test_multipart_files(void **state)
{
	struct fixture *f = *state;
	static const char key[] = "multipart secret";
	size_t big_len = 3 * 1024 * 1024 + 17, request_len;
	_cleanup_free_ char *big = pattern(big_len);
	_cleanup_free_ char *request = NULL, *body = NULL, *form = NULL;
	_cleanup_free_ char *expected_hmac = NULL, *got_hmac = NULL;
	static const char small[] = "small\0file\n";
	unsigned char mac[32];
	unsigned mac_len = 0;
	struct strbuf sb;
	size_t body_len;

	f->plan.max_body = 8 * 1024 * 1024;
	f->plan.files_to_blobs = true;
	f->plan.hmac_key = key;
	f->plan.hmac_key_len = sizeof(key) - 1;
	strbuf_init(&sb);
	part_field(&sb, "title", "hello");
	part_file(&sb, "upload", "C:\\fakepath\\big.bin", "application/octet-stream", big, big_len);
	part_field(&sb, "title", "again");
	part_file(&sb, "other", "dir/small.txt", "text/plain", small, sizeof(small) - 1);
	part_file(&sb, "none", "", "application/octet-stream", "", 0); /* an empty file input */
	strbuf_puts(&sb, "--" BOUNDARY "--\r\n");
	body_len = sb.len;
	body = strbuf_steal(&sb);
	request = post("/upload", "multipart/form-data; boundary=" BOUNDARY, body, body_len,
		       &request_len);
	start(f);
	request_set(f, request, request_len);
	run_client(f, client_request, 30000);

	assert_int_equal(f->resp[0].status, 200);
	assert_int_equal(f->body_calls, 1);
	/* Streamed to blobs: no raw copy in memory. */
	assert_true(f->body_null);
	form = json_print(f->form);
	assert_string_equal(form, "{\"title\":[\"hello\",\"again\"]}");
	assert_int_equal(cJSON_GetArraySize(f->files), 2);
	check_file(cJSON_GetArrayItem(f->files, 0), "upload", "big.bin", "application/octet-stream",
		   big, big_len);
	check_file(cJSON_GetArrayItem(f->files, 1), "other", "small.txt", "text/plain", small,
		   sizeof(small) - 1);
	assert_int_equal(temp_files(f), 0);

	/* The HMAC covers the raw multipart bytes. */
	assert_true(f->has_hmac);
	assert_non_null(HMAC(EVP_sha256(), key, (int)sizeof(key) - 1, (unsigned char *)body,
			     body_len, mac, &mac_len));
	expected_hmac = hex_of(mac, mac_len);
	got_hmac = hex_of(f->hmac, 32);
	assert_string_equal(got_hmac, expected_hmac);
}

/* Without files_to_blobs the raw bytes stay, fields are parsed, and the
 * file part is only in the raw bytes; a multipart body that does not
 * parse leaves the fields out. */
static void test_multipart_kept_raw(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *request = NULL, *body = NULL, *form = NULL;
	size_t request_len, body_len;
	struct strbuf sb;

	strbuf_init(&sb);
	part_field(&sb, "title", "hello");
	part_file(&sb, "upload", "a.bin", "application/octet-stream", "\0\1\2", 3);
	strbuf_puts(&sb, "--" BOUNDARY "--\r\n");
	body_len = sb.len;
	body = strbuf_steal(&sb);
	request = post("/form", "multipart/form-data; boundary=" BOUNDARY, body, body_len,
		       &request_len);
	start(f);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	form = json_print(f->form);
	assert_string_equal(form, "{\"title\":\"hello\"}");
	assert_null(f->files);
	assert_int_equal(f->body_len, body_len);
	assert_memory_equal(f->body, body, body_len);

	free(request);
	request = post("/form", "multipart/form-data", body, body_len, &request_len);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_null(f->form);
	assert_int_equal(f->body_len, body_len);

	/* Streamed to blobs, it is an error. */
	f->plan.files_to_blobs = true;
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 400);
	assert_int_equal(f->body_calls, 2);
}

static void test_multipart_too_many_files(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *request = NULL, *body = NULL;
	size_t request_len, body_len;
	struct strbuf sb;

	f->plan.files_to_blobs = true;
	strbuf_init(&sb);
	for (int i = 0; i < 101; i++)
		part_file(&sb, "f", "a.txt", "text/plain", "x", 1);
	strbuf_puts(&sb, "--" BOUNDARY "--\r\n");
	body_len = sb.len;
	body = strbuf_steal(&sb);
	request = post("/upload", "multipart/form-data; boundary=" BOUNDARY, body, body_len,
		       &request_len);
	start(f);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);

	assert_int_equal(f->resp[0].status, 413);
	assert_int_equal(f->body_calls, 0);
	assert_int_equal(temp_files(f), 0);
}

/* An urlencoded value is bounded by the body alone; a multipart field
 * and the number of fields have their own limits. */
static void test_form_limits(void **state)
{
	struct fixture *f = *state;
	size_t big = 2 * 1024 * 1024 + 1, request_len, body_len;
	_cleanup_free_ char *value = xmalloc(big + 1);
	_cleanup_free_ char *body = NULL, *request = NULL;
	struct strbuf sb;

	memset(value, 'a', big);
	value[big] = '\0';
	f->plan.max_body = 4 * 1024 * 1024;
	f->plan.files_to_blobs = true;
	start(f);

	body = xasprintf("payload=%s", value);
	request = post("/form", "application/x-www-form-urlencoded", body, strlen(body),
		       &request_len);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_int_equal(strlen(json_get_string(f->form, "payload")), big);

	free(body);
	free(request);
	strbuf_init(&sb);
	part_field(&sb, "big", value + big - (1024 * 1024 + 1));
	strbuf_puts(&sb, "--" BOUNDARY "--\r\n");
	body_len = sb.len;
	body = strbuf_steal(&sb);
	request = post("/form", "multipart/form-data; boundary=" BOUNDARY, body, body_len,
		       &request_len);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 413);

	free(body);
	free(request);
	strbuf_init(&sb);
	for (int i = 0; i <= 1000; i++)
		strbuf_printf(&sb, "%sf%d=%d", i ? "&" : "", i, i);
	body_len = sb.len;
	body = strbuf_steal(&sb);
	request = post("/form", "application/x-www-form-urlencoded", body, body_len, &request_len);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 413);
	assert_int_equal(f->body_calls, 1);
}

/* Half a file part, then the client hangs up. */
static void client_upload_half(struct fixture *f)
{
	int fd = client_connect(f);

	if (fd < 0)
		return;
	client_send(fd, f->request, f->request_len / 2);
	usleep(100 * 1000);
	close(fd);
}

static void test_multipart_hangup_leaves_no_temp(void **state)
{
	struct fixture *f = *state;
	size_t len = 1024 * 1024, request_len, body_len;
	_cleanup_free_ char *data = pattern(len);
	_cleanup_free_ char *request = NULL, *body = NULL;
	struct strbuf sb;

	f->plan.files_to_blobs = true;
	f->plan.max_body = 4 * 1024 * 1024;
	strbuf_init(&sb);
	part_file(&sb, "upload", "big.bin", "application/octet-stream", data, len);
	strbuf_puts(&sb, "--" BOUNDARY "--\r\n");
	body_len = sb.len;
	body = strbuf_steal(&sb);
	request = post("/upload", "multipart/form-data; boundary=" BOUNDARY, body, body_len,
		       &request_len);
	start(f);
	request_set(f, request, request_len);
	run_client(f, client_upload_half, 10000);
	spin(f, 300);
	assert_int_equal(f->headers_calls, 1);
	assert_int_equal(f->body_calls, 0);
	assert_int_equal(temp_files(f), 0);
}

/* ---- HMAC ---- */

static void test_hmac(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "The quick brown fox jumps over the lazy dog";
	_cleanup_free_ char *request = NULL, *hex = NULL;
	size_t request_len;

	f->plan.hmac_key = "key";
	f->plan.hmac_key_len = 3;
	start(f);
	request = post("/signed", "application/json", text, sizeof(text) - 1, &request_len);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_true(f->has_hmac);
	hex = hex_of(f->hmac, 32);
	assert_string_equal(hex,
			    "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");

	/* An empty key is a key, too (urlencoded this time: every kind). */
	free(hex);
	f->plan.hmac_key = "";
	f->plan.hmac_key_len = 0;
	free(request);
	request = post("/signed", "application/x-www-form-urlencoded", text, sizeof(text) - 1,
		       &request_len);
	request_set(f, request, request_len);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	hex = hex_of(f->hmac, 32);
	assert_string_equal(hex,
			    "fb011e6154a19b9a4c767373c305275a5a69e8b68b0b4c9200c383dced19a416");
}

/* ---- replies ---- */

static void test_delayed_reply(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "GET /wait HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

	f->mode = REPLY_LATER;
	f->delay_ms = 50;
	start(f);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_string_equal(f->resp[0].body, "later\n");
	assert_true(f->resp[0].elapsed_ms >= 45);
	assert_int_equal(f->held[0].result, 0);
	assert_true(f->held[0].connected);
}

static void client_hang_up(struct fixture *f)
{
	int fd = client_connect(f);

	if (fd < 0)
		return;
	client_send(fd, f->request, f->request_len);
	usleep(50 * 1000);
	close(fd);
}

static void test_hang_up_before_reply(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "GET /wait HTTP/1.1\r\nHost: t\r\n\r\n";

	f->mode = REPLY_LATER;
	f->delay_ms = 300;
	start(f);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_hang_up, 10000);
	/* The server noticed while waiting; the reply is dropped. */
	assert_int_equal(f->body_calls, 1);
	assert_false(f->held[0].connected);
	assert_int_equal(f->held[0].result, -ENOTCONN);
}

static void test_route_keeps_nothing(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "GET /lost HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

	f->mode = REPLY_NONE;
	start(f);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 500);
	assert_string_equal(f->resp[0].body, "Internal Server Error\n");
}

static void test_headers_answer_404(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "POST /nowhere HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
				      "Connection: close\r\n\r\n0123456789";
	_cleanup_free_ char *type = NULL;

	f->headers_status = 404;
	start(f);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 404);
	assert_string_equal(f->resp[0].body, "nope\n");
	type = find_header(f->resp[0].head, "content-type");
	assert_string_equal(type, "text/plain");
	assert_int_equal(f->headers_calls, 1);
	assert_int_equal(f->body_calls, 0);
}

/* The route keeps the request at its headers (an authorisation that takes
 * a while, say) and answers later; the body is never read. */
static void test_headers_answer_later(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "POST /auth HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
				      "Connection: close\r\n\r\nabc";

	f->headers_hold = 2; /* returns 1: answered (later) */
	f->delay_ms = 50;
	start(f);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_string_equal(f->resp[0].body, "later\n");
	assert_int_equal(f->held[0].result, 0);
	assert_int_equal(f->body_calls, 0);
}

/* Half the body, a pause, the rest. */
static void client_slow_body(struct fixture *f)
{
	int64_t start = time_monotonic_ms();
	int fd = client_connect(f);

	if (fd < 0)
		return;
	client_send(fd, f->request, f->request_len - 5);
	usleep(200 * 1000);
	client_send(fd, f->request + f->request_len - 5, 5);
	client_read(fd, &f->resp[0], start);
	close(fd);
}

/* A reply made while the body still arrives goes out once it ended; the
 * body is dropped and never routed. */
static void test_reply_before_body_ended(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
				      "Connection: close\r\n\r\n0123456789";

	f->headers_hold = 1; /* returns 0: the body comes */
	f->delay_ms = 50;
	start(f);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_slow_body, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_string_equal(f->resp[0].body, "later\n");
	assert_true(f->resp[0].elapsed_ms >= 190);
	assert_int_equal(f->held[0].result, 0);
	assert_int_equal(f->body_calls, 0);
}

static void test_respond_file(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "GET /file HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	size_t len = 3 * 1024 * 1024 + 5;
	_cleanup_free_ char *data = pattern(len);
	_cleanup_free_ char *type = NULL;

	f->file_path = xasprintf("%s/reply.pdf", f->tmp);
	helpers_write_file(f->file_path, data, len);
	f->mode = REPLY_FILE;
	start(f);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_request, 20000);
	assert_int_equal(f->resp[0].status, 200);
	type = find_header(f->resp[0].head, "content-type");
	assert_string_equal(type, "application/pdf");
	assert_int_equal(f->resp[0].body_len, len);
	assert_memory_equal(f->resp[0].body, data, len);
}

/* ---- limits ---- */

static void client_silent(struct fixture *f)
{
	static const char partial[] = "GET / HTTP/1.1\r\n";
	int64_t start = time_monotonic_ms();
	int fd = client_connect(f);

	if (fd < 0)
		return;
	client_send(fd, partial, sizeof(partial) - 1);
	client_read(fd, &f->resp[0], start);
	close(fd);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = *state;

	f->limits.idle_timeout_s = 1;
	start(f);
	run_client(f, client_silent, 10000);
	assert_int_equal(f->resp[0].status, 0);
	assert_true(f->resp[0].elapsed_ms >= 900);
	assert_true(f->resp[0].elapsed_ms < 5000);
	assert_int_equal(f->headers_calls, 0);
}

/* A header trickled a byte every 200 ms: never idle, never done. */
static void client_trickle(struct fixture *f)
{
	static const char line[] = "GET / HTTP/1.1\r\nX-Slow: ";
	int64_t start = time_monotonic_ms();
	int fd = client_connect(f);
	char buf[256];

	if (fd < 0)
		return;
	client_send(fd, line, sizeof(line) - 1);
	while (time_monotonic_ms() - start < 30000) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN) || client_send(fd, "a", 1) < 0)
			break;
		usleep(200 * 1000);
	}
	f->resp[0].elapsed_ms = time_monotonic_ms() - start;
	close(fd);
}

static void test_request_time_bound(void **state)
{
	struct fixture *f = *state;

	/* 1 s idle: a request must arrive within 10 s. */
	f->limits.idle_timeout_s = 1;
	start(f);
	run_client(f, client_trickle, 40000);
	assert_true(f->resp[0].elapsed_ms >= 9500);
	assert_true(f->resp[0].elapsed_ms < 15000);
	assert_int_equal(f->headers_calls, 0);
}

static void client_over_limit(struct fixture *f)
{
	static const char partial[] = "GET / HTTP/1.1\r\n";
	static const char whole[] = "GET /third HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	int64_t start;
	int a = client_connect(f), b = client_connect(f), c;
	char byte;

	client_send(a, partial, sizeof(partial) - 1);
	client_send(b, partial, sizeof(partial) - 1);
	usleep(200 * 1000);
	start = time_monotonic_ms();
	c = client_connect(f);
	if (c < 0) {
		f->resp[0].error = errno;
		goto out;
	}
	client_send(c, whole, sizeof(whole) - 1);
	/* Not served while two connections are open... */
	set_read_timeout(c, 500);
	if (recv(c, &byte, 1, 0) < 0)
		f->resp[0].error = errno;
	/* ...and served once one closed. */
	close(a);
	a = -1;
	set_read_timeout(c, 5000);
	client_read(c, &f->resp[1], start);
	close(c);
out:
	if (a >= 0)
		close(a);
	close(b);
}

static void test_connection_limit(void **state)
{
	struct fixture *f = *state;

	f->limits.max_connections = 2;
	start(f);
	run_client(f, client_over_limit, 10000);
	assert_int_equal(f->resp[0].error, EAGAIN);
	assert_int_equal(f->resp[1].status, 200);
	assert_string_equal(f->path, "/third");
}

static void client_per_address(struct fixture *f)
{
	static const char partial[] = "GET / HTTP/1.1\r\n";
	static const char whole[] = "GET /third HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	int64_t start = time_monotonic_ms();
	int a = client_connect(f), b = client_connect(f), c;

	client_send(a, partial, sizeof(partial) - 1);
	client_send(b, partial, sizeof(partial) - 1);
	usleep(200 * 1000);
	c = client_connect(f);
	if (c >= 0) {
		client_send(c, whole, sizeof(whole) - 1);
		client_read(c, &f->resp[0], start);
		close(c);
	}
	/* The others still work. */
	close(a);
	usleep(100 * 1000);
	c = client_connect(f);
	if (c >= 0) {
		client_send(c, whole, sizeof(whole) - 1);
		client_read(c, &f->resp[1], start);
		close(c);
	}
	close(b);
}

static void test_per_address_limit(void **state)
{
	struct fixture *f = *state;

	f->limits.max_per_address = 2;
	start(f);
	run_client(f, client_per_address, 10000);
	/* Refused at once: closed without a status line. */
	assert_int_equal(f->resp[0].status, 0);
	assert_true(f->resp[0].elapsed_ms < 2000);
	assert_int_equal(f->resp[1].status, 200);
	assert_int_equal(f->body_calls, 1);
}

/* MHD's memory pool bounds the header: one of max_header_bytes passes,
 * one far above is refused (MHD 0.9.75 closes the connection, or answers
 * 431 when the pool still has room for it). */
static void test_header_limit(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *filler = xmalloc(32 * 1024 + 1);
	_cleanup_free_ char *fits = NULL, *too_big = NULL;

	memset(filler, 'h', 32 * 1024);
	filler[32 * 1024] = '\0';
	fits = xasprintf("GET / HTTP/1.1\r\nHost: t\r\nX-Big: %.*s\r\nConnection: close\r\n\r\n",
			 3 * 1024, filler);
	too_big = xasprintf("GET / HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n", filler);
	f->limits.max_header_bytes = 4096;
	start(f);
	request_set(f, fits, strlen(fits));
	run_client(f, client_request, 10000);
	assert_int_equal(f->resp[0].status, 200);
	assert_int_equal(f->headers_calls, 1);

	request_set(f, too_big, strlen(too_big));
	run_client(f, client_request, 10000);
	assert_true(f->resp[0].status == 0 || f->resp[0].status == 431);
	assert_int_equal(f->headers_calls, 1);
}

/* ---- the loop sleeps ---- */

static void on_prepare(uv_prepare_t *prepare)
{
	container_of(prepare, struct fixture, prepare)->turns++;
}

static void test_loop_sleeps(void **state)
{
	struct fixture *f = *state;
	static const char request[] = "GET /wait HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

	f->mode = REPLY_LATER;
	f->delay_ms = 500;
	start(f);
	uv_prepare_init(&f->loop, &f->prepare);
	uv_prepare_start(&f->prepare, on_prepare);
	request_set(f, request, sizeof(request) - 1);
	run_client(f, client_request, 10000);
	uv_close((uv_handle_t *)&f->prepare, NULL);
	assert_int_equal(f->resp[0].status, 200);
	/* Half a second with a request waiting: a few loop turns, not a spin. */
	assert_true(f->turns < 50);
}

/* ---- stopping ---- */

static void client_three(struct fixture *f)
{
	static const char request[] = "GET /wait HTTP/1.1\r\nHost: t\r\n\r\n";
	int64_t start = time_monotonic_ms();
	int fds[3];

	for (int i = 0; i < 3; i++) {
		fds[i] = client_connect(f);
		if (fds[i] >= 0)
			client_send(fds[i], request, sizeof(request) - 1);
		usleep(20 * 1000);
	}
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		client_read(fds[i], &f->resp[i], start);
		close(fds[i]);
	}
}

static void test_stop_from_route(void **state)
{
	struct fixture *f = *state;

	f->mode = REPLY_LATER;
	f->delay_ms = 200;
	f->stop_after = 3;
	start(f);
	run_client(f, client_three, 10000);
	assert_null(f->server);
	assert_int_equal(f->body_calls, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->resp[i].status, 0);
		assert_false(f->held[i].connected);
		assert_int_equal(f->held[i].result, -ENOTCONN);
	}
}

static void on_stop_timer(uv_timer_t *timer)
{
	struct fixture *f = container_of(timer, struct fixture, stop_timer);

	http_server_stop(f->server);
	f->server = NULL;
	uv_close((uv_handle_t *)timer, NULL);
}

/* One request waiting for its reply, one sending its headers, one its
 * body. */
static void client_mixed(struct fixture *f)
{
	static const char *const sends[] = {
		"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n",
		"GET /slow HTTP/1.1\r\nHost: t\r\n",
		"POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789",
	};
	int64_t start = time_monotonic_ms();
	int fds[3];

	for (int i = 0; i < 3; i++) {
		fds[i] = client_connect(f);
		if (fds[i] >= 0)
			client_send(fds[i], sends[i], strlen(sends[i]));
	}
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		client_read(fds[i], &f->resp[i], start);
		close(fds[i]);
	}
}

static void test_stop_with_requests_in_flight(void **state)
{
	struct fixture *f = *state;

	f->mode = REPLY_LATER;
	f->delay_ms = 400;
	start(f);
	uv_timer_init(&f->loop, &f->stop_timer);
	uv_timer_start(&f->stop_timer, on_stop_timer, 200, 0);
	run_client(f, client_mixed, 10000);
	assert_null(f->server);
	assert_int_equal(f->body_calls, 1);
	assert_int_equal(f->held[0].result, -ENOTCONN);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->resp[i].status, 0);
		assert_true(f->resp[i].elapsed_ms < 1000);
	}
}

/* ---- addresses ---- */

static void test_addresses(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",	      "8080",	      "127.0.0.1",
		"127.0.0.1:", "1.2.3:80",     "127.0.0.1:65536",
		"[::1:80",    "localhost:80", "127.0.0.1:80x",
	};
	struct http_server *server = NULL;
	char *msg = NULL;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_int_equal(http_server_start(&f->loop, bad[i], NULL, f->store, route_headers,
						   route_body, f, &server, &msg),
				 -EINVAL);
		assert_non_null(strstr(msg, "invalid listen address"));
		free(msg);
		msg = NULL;
	}
	assert_int_equal(http_server_start(&f->loop, ":0", NULL, f->store, route_headers,
					   route_body, f, &server, &msg),
			 0);
	assert_true(http_server_port(server) > 0);
	http_server_stop(server);
	r = http_server_start(&f->loop, "[::1]:0", NULL, f->store, route_headers, route_body, f,
			      &server, &msg);
	if (r == 0)
		http_server_stop(server);
	else
		assert_true(r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT);
	free(msg);
	http_server_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_raw_body_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_and_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_length_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_form_urlencoded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart_kept_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart_too_many_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_form_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart_hangup_leaves_no_temp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hmac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delayed_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hang_up_before_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_keeps_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_answer_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_answer_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_before_body_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_respond_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_time_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_address_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_sleeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_with_requests_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
