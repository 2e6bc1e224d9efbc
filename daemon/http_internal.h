/* SPDX-License-Identifier: MIT */
/*
 * What the HTTP listener's two halves share: http_server.c (the listening
 * socket, MHD on the loop, the connections) and http_in.c (the requests on
 * them). Nothing else includes it.
 */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/http_server.h"

struct http_server {
	uv_loop_t *loop; /* borrowed */
	struct MHD_Daemon *mhd; /* owned; NULL once stopped */
	uv_poll_t poll; /* MHD's epoll descriptor */
	uv_timer_t timer; /* MHD's next timeout */
	uv_idle_t idle; /* MHD has work to do now */
	uv_timer_t clock; /* the oldest arriving request's time limit */
	struct store *store; /* borrowed */
	http_route_headers_fn *on_headers;
	http_route_body_fn *on_body;
	void *userdata;
	uint64_t request_ms; /* how long a request may take to arrive */
	unsigned port;
	uint64_t answered[6]; /* replies by status class ([0]: other) */
	struct http_conn *conns; /* every open connection */
	struct http_conn *arriving_head, *arriving_tail; /* oldest first */
	int handles; /* open uv handles, the connections' watchers included */
	bool in_run; /* inside MHD_run() */
	bool kicked; /* MHD_run() must run once more */
	bool stop_pending; /* http_server_stop() was called inside MHD_run() */
	bool stopped;
};

/* One TCP connection, from MHD's NOTIFY_CONNECTION started to closed;
 * http_server.c's. */
struct http_conn {
	struct http_server *server; /* borrowed */
	struct MHD_Connection *mhd;
	int fd; /* MHD's socket, not ours to close */
	struct http_conn *prev, *next; /* server->conns */
	struct http_conn *aprev, *anext; /* server->arriving_*, while arriving */
	bool arriving; /* a request is on its way in */
	uint64_t deadline; /* loop ms by which it must have arrived */
	struct http_in *in; /* the request in progress (http_in.c sets it); NULL between */
	uv_poll_t watch; /* while suspended: the client leaving */
	bool watch_open;
	bool suspended;
};

/* http_server.c: the request on `conn` has arrived whole (or was
 * answered), or the next one starts. */
void http_server_clock_stop(struct http_conn *conn);
void http_server_clock_start(struct http_conn *conn);
/* Called from MHD's access handler only: the connection waits for a
 * reply, watched for the client leaving. */
void http_server_conn_suspend(struct http_conn *conn);
/* A reply was queued (or the server stops): MHD takes the connection back
 * on its next run, which this asks for. */
void http_server_conn_resume(struct http_conn *conn);

/* http_in.c: counts a reply with `status`. */
void http_server_count(struct http_server *server, unsigned status);

/* http_in.c: MHD's access handler and completion notice (cls: the
 * server). */
enum MHD_Result http_in_on_access(void *cls, struct MHD_Connection *connection, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls);
void http_in_on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			  enum MHD_RequestTerminationCode toe);
/* The client of a suspended request left (or the server stops): the
 * request reads as disconnected and the connection gets a closing response
 * to end it; the caller resumes it. */
void http_in_client_left(struct http_in *in);
