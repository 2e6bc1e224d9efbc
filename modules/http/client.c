/* SPDX-License-Identifier: MIT */
/*
 * The HTTP transport: libcurl's multi-socket API driven by the engine's libuv
 * loop, after curl's docs/examples/multi-uv.c with its rough edges fixed.
 *
 * curl tells us which sockets to watch (on_socket_update) and when to wake
 * it (on_timeout_update); uv_poll handles (one per socket, allocated on the
 * first CURL_POLL_IN/OUT, freed from their close callback) and one uv_timer
 * call back into curl_multi_socket_action(), never from inside one of curl's
 * own callbacks. After every socket_action the finished transfers are
 * drained with curl_multi_info_read() and their done callbacks run; a
 * cancelled transfer leaves curl at once and its done callback runs from a
 * zero timer, so no callback ever runs inside the call that caused it.
 *
 * This file is also the one place where CURLcode becomes a negative errno
 * and a message (transfer_error()). Messages name the request without its
 * query or credentials, and header values are never logged.
 */
#include "modules/http/client.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "config.h"
#include "modules/http/curl_dl.h"
#include "modules/http/internal.h"
#include "modules/http/request.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

struct http_client {
	uv_loop_t *loop; /* borrowed */
	CURLM *multi; /* owned */
	uv_timer_t timer; /* wakes curl when it asked to be woken */
	uv_timer_t deliver; /* runs the done callbacks of cancelled requests */
	struct http_transfer *flying; /* in curl */
	struct http_transfer *cancelled; /* out of curl, done callback pending */
	struct http_socket *sockets; /* watched for curl */
	unsigned in_flight; /* flying + cancelled */
	uint64_t outcomes[_HTTP_OUTCOME_MAX]; /* finished requests, for GET /metrics */
	int closing; /* handles still closing after free */
	bool freeing;
};

/* One socket curl asked us to watch; attached with curl_multi_assign(). */
struct http_socket {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http_client *client;
	struct http_socket *prev, *next;
};

static const struct {
	CURLcode code;
	int error;
} curl_errors[] = {
	{ CURLE_UNSUPPORTED_PROTOCOL, -EPROTONOSUPPORT },
	{ CURLE_URL_MALFORMAT, -EINVAL },
	{ CURLE_COULDNT_RESOLVE_PROXY, -EHOSTUNREACH },
	{ CURLE_COULDNT_RESOLVE_HOST, -EHOSTUNREACH },
	{ CURLE_COULDNT_CONNECT, -ECONNREFUSED },
	{ CURLE_WEIRD_SERVER_REPLY, -EBADMSG },
	{ CURLE_HTTP2, -EBADMSG },
	{ CURLE_HTTP2_STREAM, -EBADMSG },
	{ CURLE_BAD_CONTENT_ENCODING, -EBADMSG },
	{ CURLE_PARTIAL_FILE, -ECONNRESET },
	{ CURLE_GOT_NOTHING, -ECONNRESET },
	{ CURLE_SEND_ERROR, -ECONNRESET },
	{ CURLE_RECV_ERROR, -ECONNRESET },
	{ CURLE_OPERATION_TIMEDOUT, -ETIMEDOUT },
	{ CURLE_TOO_MANY_REDIRECTS, -ELOOP },
	{ CURLE_FILESIZE_EXCEEDED, -EFBIG },
	{ CURLE_SSL_CONNECT_ERROR, -EPROTO },
	{ CURLE_PEER_FAILED_VERIFICATION, -EPROTO },
	{ CURLE_SSL_CERTPROBLEM, -EPROTO },
	{ CURLE_SSL_CACERT_BADFILE, -EPROTO },
	{ CURLE_LOGIN_DENIED, -EACCES },
	{ CURLE_READ_ERROR, -EIO },
	{ CURLE_OUT_OF_MEMORY, -ENOMEM },
};

static void link_transfer(struct http_transfer **head, struct http_transfer *t)
{
	t->prev = NULL;
	t->next = *head;
	if (*head)
		(*head)->prev = t;
	*head = t;
}

static void unlink_transfer(struct http_transfer **head, struct http_transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		*head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

static void on_socket_closed(uv_handle_t *handle)
{
	free(container_of((uv_poll_t *)handle, struct http_socket, poll));
}

static void close_socket(struct http_socket *s)
{
	struct http_client *client = s->client;

	if (s->prev)
		s->prev->next = s->next;
	else
		client->sockets = s->next;
	if (s->next)
		s->next->prev = s->prev;
	curl_multi_assign(client->multi, s->fd, NULL);
	uv_close((uv_handle_t *)&s->poll, on_socket_closed);
}

static void finish_transfer(struct http_transfer *t, CURLcode result);

/* Runs the done callbacks of every transfer that curl reports finished. The
 * message is gone once its handle is removed, so the result is read first. */
static void drain_messages(struct http_client *client)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(client->multi, &left))) {
		CURLcode result = msg->data.result;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		finish_transfer((struct http_transfer *)(void *)priv, result);
	}
}

static void act(struct http_client *client, curl_socket_t fd, int flags)
{
	CURLMcode rc;
	int running;

	rc = curl_multi_socket_action(client->multi, fd, flags, &running);
	if (rc != CURLM_OK)
		log_debug(HTTP, "curl_multi_socket_action: %s", curl_multi_strerror(rc));
	drain_messages(client);
}

static void on_poll_event(uv_poll_t *poll, int status, int events)
{
	struct http_socket *s = container_of(poll, struct http_socket, poll);
	int flags = 0;

	/* `s` may be closed during act(); nothing of it is read afterwards. */
	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	act(s->client, s->fd, flags);
}

static void on_timer(uv_timer_t *timer)
{
	act(container_of(timer, struct http_client, timer), CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_SOCKETFUNCTION: curl wants `fd` watched for `what`. */
static int on_socket_update(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *client = userp;
	struct http_socket *s = socketp;
	int events = 0, r;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s)
			close_socket(s);
		return 0;
	}
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		r = uv_poll_init_socket(client->loop, &s->poll, fd);
		if (r < 0) {
			free(s);
			log_debug(HTTP, "Cannot watch socket %d: %s", (int)fd, uv_strerror(r));
			return -1;
		}
		s->fd = fd;
		s->client = client;
		s->next = client->sockets;
		if (s->next)
			s->next->prev = s;
		client->sockets = s;
		curl_multi_assign(client->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, on_poll_event);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION. A zero timeout becomes 1 ms so that curl is
 * never called back from inside this callback or the same loop phase. */
static int on_timeout_update(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *client = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&client->timer);
	else
		uv_timer_start(&client->timer, on_timer, timeout_ms > 0 ? (uint64_t)timeout_ms : 1,
			       0);
	return 0;
}

int http_client_new(uv_loop_t *loop, struct http_client **ret)
{
	struct http_client *client = xcalloc(1, sizeof(*client));

	client->loop = loop;
	uv_timer_init(loop, &client->timer);
	uv_timer_init(loop, &client->deliver);
	*ret = client;
	return 0;
}

/* libcurl and its multi handle come with the first request: a process that
 * never makes one never maps curl's libraries (curl_dl.c). */
static int ensure_multi(struct http_client *client, char **reterr_msg)
{
	int r;

	if (client->multi)
		return 0;
	r = curl_dl_load();
	if (r < 0) {
		*reterr_msg = xasprintf("cannot load libcurl: %s", curl_dl_error());
		return r;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*reterr_msg = xstrdup("libcurl did not initialise");
		return -EIO;
	}
	client->multi = curl_multi_init();
	if (!client->multi) {
		curl_global_cleanup();
		*reterr_msg = xstrdup("libcurl could not create its multi handle");
		return -ENOMEM;
	}
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, on_socket_update);
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, on_timeout_update);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
	return 0;
}

static void release_client(struct http_client *client)
{
	if (--client->closing == 0)
		free(client);
}

static void on_timer_closed(uv_handle_t *handle)
{
	release_client(container_of((uv_timer_t *)handle, struct http_client, timer));
}

static void on_deliver_closed(uv_handle_t *handle)
{
	release_client(container_of((uv_timer_t *)handle, struct http_client, deliver));
}

static void deliver_cancelled(struct http_client *client);

struct http_client *http_client_free(struct http_client *client)
{
	if (!client)
		return NULL;
	client->freeing = true;
	while (client->flying)
		http_client_request_cancel(client->flying->req);
	deliver_cancelled(client);

	/* Removing the transfers made curl release their sockets; whatever it
	 * still watches is closed here, before curl closes the descriptors. */
	while (client->sockets)
		close_socket(client->sockets);
	if (client->multi) {
		curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, NULL);
		curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, NULL);
		curl_multi_cleanup(client->multi);
		curl_global_cleanup();
	}

	client->closing = 2;
	uv_close((uv_handle_t *)&client->timer, on_timer_closed);
	uv_close((uv_handle_t *)&client->deliver, on_deliver_closed);
	return NULL;
}

unsigned http_client_in_flight(const struct http_client *client)
{
	return client->in_flight;
}

const char *http_outcome_to_string(enum http_outcome outcome)
{
	static const char *const names[_HTTP_OUTCOME_MAX] = {
		[HTTP_OUTCOME_2XX] = "2xx",	  [HTTP_OUTCOME_3XX] = "3xx",
		[HTTP_OUTCOME_4XX] = "4xx",	  [HTTP_OUTCOME_5XX] = "5xx",
		[HTTP_OUTCOME_FAILED] = "failed", [HTTP_OUTCOME_CANCELLED] = "cancelled",
	};

	return outcome < _HTTP_OUTCOME_MAX ? names[outcome] : NULL;
}

uint64_t http_client_outcomes(const struct http_client *client, enum http_outcome outcome)
{
	return outcome < _HTTP_OUTCOME_MAX ? client->outcomes[outcome] : 0;
}

/* Frees curl's side of a transfer; the transfer itself stays. */
static void release_easy(struct http_transfer *t)
{
	if (t->easy) {
		curl_multi_remove_handle(t->client->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	curl_slist_free_all(t->header_list);
	t->header_list = NULL;
	curl_mime_free(t->mime);
	t->mime = NULL;
	if (t->upload) {
		fclose(t->upload);
		t->upload = NULL;
	}
}

static void free_transfer(struct http_transfer *t)
{
	release_easy(t);
	free(t->message);
	free(t);
}

/* The one place a CURLcode becomes an errno and a message. An error set by
 * our own callbacks (a full sink, an unreadable file) wins over curl's
 * generic CURLE_WRITE_ERROR or CURLE_ABORTED_BY_CALLBACK. */
static int transfer_error(struct http_transfer *t, CURLcode result)
{
	struct http_request *req = t->req;
	_cleanup_free_ char *what = http_request_describe(req);
	int error = -EIO;
	const char *why;

	if (t->error < 0) {
		error = t->error;
		why = t->message;
	} else {
		for (size_t i = 0; i < ELEMENTSOF(curl_errors); i++)
			if (curl_errors[i].code == result)
				error = curl_errors[i].error;
		why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(result);
		if (result == CURLE_FILESIZE_EXCEEDED)
			why = "the response body is larger than the limit";
	}
	req->response.error = xasprintf("%s: %s", what, why);
	return error;
}

static void collect_info(struct http_transfer *t)
{
	struct http_response *response = &t->req->response;
	curl_off_t sent = 0;
	char *url = NULL;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &response->status);
	curl_easy_getinfo(t->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
	response->sent = sent;
	if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
		response->url = xstrdup(url);
	response->duration_ms = time_monotonic_ms() - t->started_ms;
}

static void log_outcome(const struct http_request *req, int status)
{
	_cleanup_free_ char *what = NULL;

	if (!log_would_log(LOG_LEVEL_DEBUG, LOG_GRP_HTTP))
		return;
	what = http_request_describe(req);
	if (status < 0)
		log_debug(HTTP, "%s failed after %lld ms: %s", what,
			  (long long)req->response.duration_ms, strerror(-status));
	else
		log_debug(HTTP, "%s: %ld in %lld ms, %lld bytes", what, req->response.status,
			  (long long)req->response.duration_ms, (long long)req->response.received);
}

/* Ends a transfer curl finished: the response is completed, curl's state
 * freed and the done callback called, the last time `req` is touched. */
static void finish_transfer(struct http_transfer *t, CURLcode result)
{
	struct http_client *client = t->client;
	struct http_request *req = t->req;
	http_done_fn *done = t->done;
	int status = 0;

	collect_info(t);
	if (result != CURLE_OK)
		status = transfer_error(t, result);
	if (status < 0)
		client->outcomes[HTTP_OUTCOME_FAILED]++;
	else if (req->response.status >= 200 && req->response.status < 600)
		client->outcomes[HTTP_OUTCOME_2XX + (req->response.status / 100 - 2)]++;
	else
		client->outcomes[HTTP_OUTCOME_FAILED]++;
	unlink_transfer(&client->flying, t);
	client->in_flight--;
	req->transfer = NULL;
	free_transfer(t);
	log_outcome(req, status);
	done(req, status);
}

static void deliver_cancelled(struct http_client *client)
{
	while (client->cancelled) {
		struct http_transfer *t = client->cancelled;
		struct http_request *req = t->req;
		http_done_fn *done = t->done;

		unlink_transfer(&client->cancelled, t);
		client->in_flight--;
		client->outcomes[HTTP_OUTCOME_CANCELLED]++;
		req->transfer = NULL;
		free_transfer(t);
		log_outcome(req, -ECANCELED);
		done(req, -ECANCELED);
	}
}

static void on_deliver(uv_timer_t *timer)
{
	deliver_cancelled(container_of(timer, struct http_client, deliver));
}

void http_client_request_cancel(struct http_request *req)
{
	struct http_transfer *t = req->transfer;
	_cleanup_free_ char *what = NULL;
	struct http_client *client;

	if (!t || t->cancelled)
		return;
	client = t->client;
	t->cancelled = true;
	collect_info(t);
	release_easy(t);
	what = http_request_describe(req);
	req->response.error = xasprintf("%s: cancelled", what);
	unlink_transfer(&client->flying, t);
	link_transfer(&client->cancelled, t);
	if (!client->freeing)
		uv_timer_start(&client->deliver, on_deliver, 0, 0);
}

int http_client_request_start(struct http_client *client, struct http_request *req,
			      http_done_fn *done)
{
	struct http_transfer *t;
	int r;

	if (!req->url || req->transfer || client->freeing)
		return -EINVAL;
	http_response_done(&req->response);
	req->response.headers = cJSON_CreateObject();
	r = ensure_multi(client, &req->response.error);
	if (r < 0)
		return r;

	t = xcalloc(1, sizeof(*t));
	t->client = client;
	t->req = req;
	t->done = done;
	t->started_ms = time_monotonic_ms();
	r = http_transfer_setup(t);
	if (r < 0) {
		free_transfer(t);
		return r;
	}
	if (curl_multi_add_handle(client->multi, t->easy) != CURLM_OK) {
		free_transfer(t);
		return -EIO;
	}
	link_transfer(&client->flying, t);
	client->in_flight++;
	req->transfer = t;
	return 0;
}
