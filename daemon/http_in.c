/* SPDX-License-Identifier: MIT */
/*
 * The requests of the HTTP listener (struct http_in, http_server.h): MHD's
 * access handler and its "completed" notice, what a route reads of a
 * request, and the replies. http_server.c owns the connections they
 * arrive on.
 *
 * A request is made at MHD's first call, once its headers are in, and goes
 * to the route's on_headers; its body goes to http_body.c and, once it
 * ended, the request to on_body. A reply made inside those calls is queued
 * when they return; a reply made while the body still arrives waits for
 * its end (the rest is read and dropped); a later one finds the connection
 * suspended and is queued at once, and the connection resumed. A route
 * that neither answers nor keeps the request gets it answered 500.
 *
 * The body is bounded by the route's plan: a Content-Length above it is
 * answered 413 before any of it is read; a chunked body that grows past it
 * gets its 413 written on the socket and the connection closed, because
 * MHD 0.9.75 takes no response until a body ended.
 */
#include "daemon/http_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/http_body.h"
#include "daemon/http_internal.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/log.h"
#include "util/xalloc.h"

enum in_state {
	IN_ARRIVING, /* headers in, the body arriving */
	IN_ROUTED, /* whole; the route has it */
	IN_QUEUED, /* the reply is MHD's */
};

struct http_in {
	unsigned refs; /* one for the connection until MHD completed the request, one per ref */
	struct http_conn *conn; /* NULL once MHD completed the request */
	enum in_state state;
	bool connected; /* false once the client left (or the server stopped) */
	bool replied; /* a reply was made, sent or dropped */
	char *method, *path, *remote; /* owned */
	cJSON *query, *headers; /* owned */
	struct http_in_plan plan; /* the route's; hmac_key borrowed while the body starts */
	struct http_body *body; /* owned */
	int64_t received; /* body bytes */
	unsigned fail_status; /* the body failed: the answer at its end */
	struct MHD_Response *response; /* owned; made, waiting to be queued */
	unsigned status; /* of response */
};

/* ---- a request arrives ---- */

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	cJSON *headers = cls;
	_cleanup_free_ char *name = xstrdup(key);
	const cJSON *old;

	(void)kind;
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!value)
		value = "";
	old = cJSON_GetObjectItemCaseSensitive(headers, name);
	if (cJSON_IsString(old)) {
		_cleanup_free_ char *joined = xasprintf("%s, %s", old->valuestring, value);

		cJSON_ReplaceItemInObjectCaseSensitive(headers, name, cJSON_CreateString(joined));
	} else {
		cJSON_AddItemToObject(headers, name, cJSON_CreateString(value));
	}
	return MHD_YES;
}

/* Query arguments, decoded by MHD; the first of a repeated name counts. */
static enum MHD_Result on_argument(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	cJSON *query = cls;

	(void)kind;
	if (!cJSON_HasObjectItem(query, key))
		cJSON_AddItemToObject(query, key, cJSON_CreateString(value ? value : ""));
	return MHD_YES;
}

static char *remote_address(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;
	char text[INET6_ADDRSTRLEN] = "";

	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
			  sizeof(text));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		/* An IPv4 client of the dual-stack socket reads as itself. */
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], text, sizeof(text));
		else
			inet_ntop(AF_INET6, a, text, sizeof(text));
	}
	return xstrdup(text);
}

static struct http_in *in_new(struct http_conn *conn, struct MHD_Connection *connection,
			      const char *url, const char *method)
{
	struct http_in *in = xcalloc(1, sizeof(*in));

	in->refs = 1;
	in->conn = conn;
	in->connected = true;
	in->method = xstrdup(method);
	in->path = xstrdup(url);
	in->remote = remote_address(connection);
	in->query = cJSON_CreateObject();
	in->headers = cJSON_CreateObject();
	(void)MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, on_argument, in->query);
	(void)MHD_get_connection_values(connection, MHD_HEADER_KIND, on_header, in->headers);
	return in;
}

static unsigned status_for(int r)
{
	switch (r) {
	case -E2BIG:
	case -EFBIG:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case -EBADMSG:
	case -EINVAL:
		return MHD_HTTP_BAD_REQUEST;
	default:
		log_warning_errno(HTTP, r, "Failed to receive a request body: %m");
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* Our own answer: the status and its reason phrase, nothing internal. */
static void reply_status(struct http_in *in, unsigned status)
{
	_cleanup_free_ char *text = xasprintf("%s\n", MHD_get_reason_phrase_for(status));

	(void)http_in_respond(in, status, NULL, "text/plain; charset=utf-8", text, strlen(text));
}

/* The body is refused (`status` from status_for() or body_start()) before
 * the route saw it. */
static void refuse_body(struct http_in *in, unsigned status)
{
	if (status == MHD_HTTP_CONTENT_TOO_LARGE && in->plan.too_large)
		(*in->plan.too_large)++;
	reply_status(in, status);
}

/* A body past the limit while MHD still reads it: MHD 0.9.75 queues no
 * response before a body ended, so the 413 goes on the socket directly and
 * the connection closes. Nothing of a reply went out yet (a 100 Continue
 * is sent whole before the body is read), so the stream stays valid. */
static enum MHD_Result refuse_too_large(struct http_in *in)
{
#define TOO_LARGE_TEXT "Payload Too Large\n"
	static const char reply[] = "HTTP/1.1 413 Payload Too Large\r\n"
				    "Content-Type: text/plain; charset=utf-8\r\n"
				    "Content-Length: 18\r\n"
				    "Connection: close\r\n"
				    "\r\n" TOO_LARGE_TEXT;

	static_assert(sizeof(TOO_LARGE_TEXT) - 1 == 18, "Content-Length of the 413");
	log_debug(HTTP, "A body from %s passed %lld bytes, answering 413", in->remote,
		  (long long)in->plan.max_body);
	http_server_count(in->conn->server, 413);
	if (in->plan.too_large)
		(*in->plan.too_large)++;
	(void)send(in->conn->fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	in->replied = true;
	in->connected = false;
	return MHD_NO;
#undef TOO_LARGE_TEXT
}

static int64_t max_body(const struct http_in *in)
{
	return in->plan.max_body > 0 ? in->plan.max_body : 0;
}

/* Checks the Content-Length against the plan and starts the body; an HTTP
 * status when it is refused, 0 otherwise. */
static unsigned body_start(struct http_in *in, struct MHD_Connection *connection)
{
	const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;
	int r;

	if (length) {
		errno = 0;
		n = strtoull(length, &end, 10);
		if (errno || end == length || *end || !isdigit((unsigned char)length[0]))
			return MHD_HTTP_BAD_REQUEST;
		if (n > (unsigned long long)max_body(in)) {
			log_debug(HTTP, "A body of %llu bytes from %s is over %lld, answering 413",
				  n, in->remote, (long long)max_body(in));
			return MHD_HTTP_CONTENT_TOO_LARGE;
		}
	}
	r = http_body_new(connection, &in->plan, in->conn->server->store, &in->body);
	if (r < 0)
		return status_for(r);
	return 0;
}

static enum MHD_Result queue_reply(struct http_in *in)
{
	enum MHD_Result r = MHD_queue_response(in->conn->mhd, in->status, in->response);

	MHD_destroy_response(in->response);
	in->response = NULL;
	in->state = IN_QUEUED;
	return r;
}

/* The end of a route's turn: queue its reply, or wait (suspended) when it
 * kept the request to answer later. A route that did neither can never
 * answer, so it gets a 500. */
static enum MHD_Result request_answer(struct http_in *in)
{
	if (in->response)
		return queue_reply(in);
	if (in->state == IN_QUEUED)
		return MHD_YES;
	if (in->replied)
		return MHD_NO;
	if (in->refs == 1) {
		log_debug(HTTP, "No route answered %s '%s' nor kept it, answering 500", in->method,
			  in->path);
		reply_status(in, MHD_HTTP_INTERNAL_SERVER_ERROR);
		return queue_reply(in);
	}
	http_server_conn_suspend(in->conn);
	return MHD_YES;
}

static enum MHD_Result request_begin(struct http_server *server, struct MHD_Connection *connection,
				     const char *url, const char *method, void **con_cls)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *conn = info ? info->socket_context : NULL;
	struct http_in *in;
	unsigned refused;
	int r;

	if (!conn)
		return MHD_NO;
	in = in_new(conn, connection, url, method);
	*con_cls = in;
	conn->in = in;
	r = server->on_headers(in, &in->plan, server->userdata);
	if (r == 0 && !in->replied) {
		refused = body_start(in, connection);
		/* The key is the route's: used by now, not kept. */
		in->plan.hmac_key = NULL;
		if (refused == 0)
			return MHD_YES;
		refuse_body(in, refused);
	} else if (r != 1 && !in->replied) {
		log_debug(HTTP, "The route of %s '%s' failed (%d), answering 500", method, url, r);
		reply_status(in, MHD_HTTP_INTERNAL_SERVER_ERROR);
	}
	http_server_clock_stop(conn);
	in->state = IN_ROUTED;
	return request_answer(in);
}

static enum MHD_Result request_data(struct http_in *in, const char *data, size_t *size)
{
	size_t len = *size;
	int r;

	*size = 0;
	in->received += (int64_t)len;
	if (in->received > max_body(in))
		return refuse_too_large(in);
	/* Answered already, or failed: the rest is read and dropped (no more
	 * than max_body). */
	if (in->replied || in->fail_status || !in->body)
		return MHD_YES;
	r = http_body_feed(in->body, data, len);
	if (r < 0) {
		in->fail_status = status_for(r);
		in->body = http_body_free(in->body);
	}
	return MHD_YES;
}

static void route_body(struct http_in *in)
{
	struct http_server *server = in->conn->server;
	int r = 0;

	if (!in->fail_status && in->body) {
		r = http_body_finish(in->body);
		if (r < 0)
			in->fail_status = status_for(r);
	}
	if (in->fail_status) {
		in->body = http_body_free(in->body);
		refuse_body(in, in->fail_status);
		return;
	}
	server->on_body(in, server->userdata);
}

static enum MHD_Result request_end(struct http_in *in)
{
	if (in->state == IN_ARRIVING) {
		http_server_clock_stop(in->conn);
		in->state = IN_ROUTED;
		if (!in->replied)
			route_body(in);
	}
	return request_answer(in);
}

enum MHD_Result http_in_on_access(void *cls, struct MHD_Connection *connection, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *server = cls;
	struct http_in *in = *con_cls;

	(void)version;
	/* Stopped from a route inside this run: no route is called again. */
	if (server->stop_pending)
		return MHD_NO;
	if (!in)
		return request_begin(server, connection, url, method, con_cls);
	if (*upload_data_size > 0)
		return request_data(in, upload_data, upload_data_size);
	return request_end(in);
}

/* MHD is done with a request: answered, or the client left, or the
 * server stops. The route may still hold it. */
void http_in_on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct http_in *in = *con_cls;
	struct http_conn *conn;

	(void)cls;
	(void)connection;
	if (!in)
		return;
	*con_cls = NULL;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug(HTTP, "%s '%s' from %s ended before its reply was sent (%d)", in->method,
			  in->path, in->remote, (int)toe);
	conn = in->conn;
	if (conn) {
		conn->in = NULL;
		http_server_clock_start(conn); /* the next request on this connection */
	}
	in->conn = NULL;
	in->connected = false;
	if (in->response) {
		MHD_destroy_response(in->response);
		in->response = NULL;
	}
	/* A body cut short: its partial files go now. */
	if (in->state == IN_ARRIVING)
		in->body = http_body_free(in->body);
	http_in_unref(in);
}

/* ---- what a route reads ---- */

const char *http_in_method(const struct http_in *in)
{
	return in->method;
}

const char *http_in_path(const struct http_in *in)
{
	return in->path;
}

const cJSON *http_in_query(const struct http_in *in)
{
	return in->query;
}

const cJSON *http_in_headers(const struct http_in *in)
{
	return in->headers;
}

const char *http_in_header(const struct http_in *in, const char *lower_case_name)
{
	return json_get_string(in->headers, lower_case_name);
}

const char *http_in_remote_address(const struct http_in *in)
{
	return in->remote;
}

const char *http_in_body(const struct http_in *in, size_t *ret_len)
{
	size_t len = 0;
	const char *raw = in->body ? http_body_raw(in->body, &len) : "";

	if (ret_len)
		*ret_len = len;
	return raw;
}

const cJSON *http_in_form(const struct http_in *in)
{
	return in->body ? http_body_form(in->body) : NULL;
}

const cJSON *http_in_files(const struct http_in *in)
{
	return in->body ? http_body_files(in->body) : NULL;
}

const unsigned char *http_in_body_hmac(const struct http_in *in)
{
	return in->body ? http_body_hmac(in->body) : NULL;
}

struct http_in *http_in_ref(struct http_in *in)
{
	assert(in->refs > 0);
	in->refs++;
	return in;
}

void http_in_unref(struct http_in *in)
{
	if (!in)
		return;
	assert(in->refs > 0);
	if (--in->refs > 0)
		return;
	assert(!in->conn);
	free(in->method);
	free(in->path);
	free(in->remote);
	cJSON_Delete(in->query);
	cJSON_Delete(in->headers);
	http_body_free(in->body);
	free(in);
}

bool http_in_connected(const struct http_in *in)
{
	return in->conn && in->connected;
}

void http_in_client_left(struct http_in *in)
{
	struct http_conn *conn = in->conn;
	struct MHD_Response *response;

	log_debug(HTTP, "Client %s left before the reply to %s '%s'", in->remote, in->method,
		  in->path);
	in->connected = false;
	if (!conn || !conn->suspended)
		return;
	/* Something to send, so MHD ends the connection now rather than when
	 * the route answers. */
	response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!response)
		return;
	(void)MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
	if (MHD_queue_response(conn->mhd, MHD_HTTP_SERVICE_UNAVAILABLE, response) == MHD_YES)
		in->state = IN_QUEUED;
	MHD_destroy_response(response);
}

/* ---- replies ---- */

void http_server_count(struct http_server *server, unsigned status)
{
	unsigned class = status / 100;

	server->answered[class >= 1 && class <= 5 ? class : 0]++;
}

/* Whether a reply may be made now; a second one is refused, one for a
 * client that left is dropped (and counts as the reply). */
static int reply_check(struct http_in *in, unsigned status)
{
	if (status < 100 || status > 599)
		return -EINVAL;
	if (in->replied)
		return log_debug_errno(HTTP, -EALREADY, "A second reply to %s '%s', ignoring",
				       in->method, in->path);
	if (!http_in_connected(in)) {
		in->replied = true;
		return -ENOTCONN;
	}
	return 0;
}

/* Hands the response (taken) to MHD: at once when the connection waits
 * suspended, else when the route's call returns or the body ended. */
static int reply(struct http_in *in, unsigned status, struct MHD_Response *response)
{
	struct http_conn *conn = in->conn;
	enum MHD_Result q;

	in->replied = true;
	http_server_count(conn->server, status);
	if (!conn->suspended) {
		in->response = response;
		in->status = status;
		return 0;
	}
	q = MHD_queue_response(conn->mhd, status, response);
	MHD_destroy_response(response);
	if (q == MHD_YES)
		in->state = IN_QUEUED;
	http_server_conn_resume(conn);
	return q == MHD_YES ? 0 : -EIO;
}

static bool header_name_ok(const char *name)
{
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	return true;
}

static bool header_value_ok(const char *value)
{
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return false;
	return true;
}

/* Adds the route's headers and the Content-Type (the argument, else the
 * headers', else application/octet-stream). Framing is MHD's: a
 * Content-Length or Transfer-Encoding from the route is refused. */
static int add_headers(struct MHD_Response *response, const cJSON *headers,
		       const char *content_type)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, headers) {
		if (!cJSON_IsString(item) || !header_name_ok(item->string) ||
		    !header_value_ok(item->valuestring) ||
		    strcasecmp(item->string, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0 ||
		    strcasecmp(item->string, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
			return -EINVAL;
		if (strcasecmp(item->string, MHD_HTTP_HEADER_CONTENT_TYPE) == 0) {
			if (!content_type)
				content_type = item->valuestring;
			continue;
		}
		if (MHD_add_response_header(response, item->string, item->valuestring) != MHD_YES)
			return -EINVAL;
	}
	if (content_type && !header_value_ok(content_type))
		return -EINVAL;
	if (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
				    content_type ? content_type : "application/octet-stream") !=
	    MHD_YES)
		return -EINVAL;
	return 0;
}

int http_in_respond(struct http_in *in, unsigned status, const cJSON *headers,
		    const char *content_type, const void *body, size_t len)
{
	struct MHD_Response *response;
	int r;

	if (len > 0 && !body)
		return -EINVAL;
	r = reply_check(in, status);
	if (r < 0)
		return r;
	response = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!response)
		return -ENOMEM;
	r = add_headers(response, headers, content_type);
	if (r < 0) {
		MHD_destroy_response(response);
		return log_debug_errno(HTTP, r, "Invalid reply headers for %s '%s'", in->method,
				       in->path);
	}
	return reply(in, status, response);
}

int http_in_respond_json(struct http_in *in, unsigned status, const cJSON *doc)
{
	_cleanup_free_ char *text = json_print(doc);

	return http_in_respond(in, status, NULL, "application/json", text, strlen(text));
}

int http_in_respond_file(struct http_in *in, unsigned status, const cJSON *headers,
			 const char *content_type, const char *path)
{
	_cleanup_close_ int fd = -1;
	struct MHD_Response *response;
	struct stat st;
	int r;

	r = reply_check(in, status);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return log_debug_errno(HTTP, -errno, "Cannot open '%s' for a reply", path);
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	response = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!response)
		return -ENOMEM;
	TAKE_FD(fd); /* MHD closes it with the response */
	r = add_headers(response, headers, content_type);
	if (r < 0) {
		MHD_destroy_response(response);
		return r;
	}
	return reply(in, status, response);
}
