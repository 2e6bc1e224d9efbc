/* SPDX-License-Identifier: MIT */
/*
 * The daemon's HTTP listener (http_server.h): libmicrohttpd in its external
 * epoll mode, driven from the libuv loop. MHD keeps its sockets in an epoll
 * set of its own; one uv_poll_t watches that set's descriptor and MHD_run()
 * does the work without blocking. After each run the loop is armed from
 * MHD_get_timeout(): a timer for the next idle timeout, an idle handle
 * while MHD has work now (0 ms), nothing at all without connections, so
 * the loop sleeps until something happens. Requests are http_in.c's.
 *
 * This file owns the listening socket and the connections. A connection
 * whose request waits for a later reply is suspended; the reply resumes
 * it and asks for one more MHD_run() (MHD's resume also writes its eventfd,
 * which sits in the epoll set). MHD does not watch a suspended socket, so
 * a uv_poll_t on it notices a client that leaves; the connection then ends
 * at once and the route's reply is dropped.
 *
 * MHD bounds connections (in all and per address), header bytes (its
 * memory pool) and silence (its connection timeout). The time a request
 * may take to arrive, headers and body, is bounded here too, against a
 * client trickling bytes just fast enough never to be idle: arriving
 * connections are listed oldest first, one timer watches the oldest, and
 * one past its time has its socket shut down, which MHD takes for the
 * client leaving.
 */
#include "daemon/http_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/http_internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/xalloc.h"

#define DEFAULT_MAX_CONNECTIONS 512
#define DEFAULT_MAX_PER_ADDRESS 64
#define DEFAULT_IDLE_TIMEOUT_S 30
#define DEFAULT_MAX_HEADER_BYTES (32 * 1024)
/* MHD's pool per connection holds the request line and headers, the read
 * buffer and the reply's header lines: the header limit plus this. */
#define POOL_SLACK (16 * 1024)
/* A request must have arrived whole within this many idle timeouts: 5
 * minutes with the default 30 s. */
#define REQUEST_TIME_FACTOR 10
#define LISTEN_BACKLOG 128

static void schedule(struct http_server *server);
static void stop_now(struct http_server *server);

/* ---- driving MHD from the loop ---- */

static void run(struct http_server *server)
{
	server->kicked = false;
	server->in_run = true;
	(void)MHD_run(server->mhd);
	server->in_run = false;
	if (server->stop_pending) {
		stop_now(server);
		return;
	}
	schedule(server);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
	(void)status;
	(void)events;
	run(container_of(handle, struct http_server, poll));
}

static void on_timer(uv_timer_t *timer)
{
	run(container_of(timer, struct http_server, timer));
}

static void on_idle(uv_idle_t *idle)
{
	run(container_of(idle, struct http_server, idle));
}

/* Arms the loop for MHD's next need: now (idle handle: the loop polls
 * without blocking and runs MHD once per turn while work is pending), in
 * `ms` (timer), or only when its epoll descriptor becomes readable. */
static void schedule(struct http_server *server)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	bool timeout = MHD_get_timeout(server->mhd, &ms) == MHD_YES;

	if (server->kicked || (timeout && ms == 0)) {
		uv_timer_stop(&server->timer);
		uv_idle_start(&server->idle, on_idle);
		return;
	}
	uv_idle_stop(&server->idle);
	if (timeout)
		uv_timer_start(&server->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&server->timer);
}

/* MHD must run again soon (a connection was resumed). */
static void kick(struct http_server *server)
{
	if (server->stopped)
		return;
	server->kicked = true;
	if (!server->in_run)
		uv_idle_start(&server->idle, on_idle);
}

/* ---- the time a request may take to arrive ---- */

static void on_clock(uv_timer_t *timer);

static void clock_arm(struct http_server *server)
{
	struct http_conn *head = server->arriving_head;
	uint64_t now = uv_now(server->loop);

	if (server->stopped)
		return;
	if (!head) {
		uv_timer_stop(&server->clock);
		return;
	}
	uv_timer_start(&server->clock, on_clock, head->deadline > now ? head->deadline - now : 0,
		       0);
}

void http_server_clock_stop(struct http_conn *conn)
{
	struct http_server *server = conn->server;
	bool was_head = server->arriving_head == conn;

	if (!conn->arriving)
		return;
	if (conn->aprev)
		conn->aprev->anext = conn->anext;
	else
		server->arriving_head = conn->anext;
	if (conn->anext)
		conn->anext->aprev = conn->aprev;
	else
		server->arriving_tail = conn->aprev;
	conn->aprev = conn->anext = NULL;
	conn->arriving = false;
	if (was_head)
		clock_arm(server);
}

/* Starts the clock of the next request on `conn`. Deadlines are now plus
 * a constant, so appending keeps the list sorted. */
void http_server_clock_start(struct http_conn *conn)
{
	struct http_server *server = conn->server;

	http_server_clock_stop(conn);
	if (server->stopped)
		return;
	conn->deadline = uv_now(server->loop) + server->request_ms;
	conn->arriving = true;
	conn->aprev = server->arriving_tail;
	if (server->arriving_tail)
		server->arriving_tail->anext = conn;
	else
		server->arriving_head = conn;
	server->arriving_tail = conn;
	if (server->arriving_head == conn)
		clock_arm(server);
}

static void on_clock(uv_timer_t *timer)
{
	struct http_server *server = container_of(timer, struct http_server, clock);
	uint64_t now = uv_now(server->loop);
	struct http_conn *conn;

	while ((conn = server->arriving_head) && conn->deadline <= now) {
		http_server_clock_stop(conn);
		log_debug(HTTP,
			  "A request took longer than %llu s to arrive, closing its connection",
			  (unsigned long long)server->request_ms / 1000);
		/* MHD sees the end of the stream and closes the connection. */
		(void)shutdown(conn->fd, SHUT_RDWR);
	}
	clock_arm(server);
}

/* ---- connections ---- */

/* One of the server's handles closed; the last frees the server. */
static void handle_released(struct http_server *server)
{
	assert(server->handles > 0);
	if (--server->handles == 0)
		free(server);
}

static void on_watch_closed(uv_handle_t *handle)
{
	struct http_conn *conn = container_of((uv_poll_t *)handle, struct http_conn, watch);
	struct http_server *server = conn->server;

	free(conn);
	handle_released(server);
}

void http_server_conn_resume(struct http_conn *conn)
{
	if (conn->watch_open)
		uv_poll_stop(&conn->watch);
	conn->suspended = false;
	MHD_resume_connection(conn->mhd);
	kick(conn->server);
}

/* The client of a suspended connection left (or reset it): the request is
 * no longer connected, and the connection is given something to send so
 * MHD ends it now rather than when the route answers. */
static void on_watch(uv_poll_t *handle, int status, int events)
{
	struct http_conn *conn = container_of(handle, struct http_conn, watch);

	if (status >= 0 && !(events & UV_DISCONNECT))
		return;
	uv_poll_stop(handle);
	if (!conn->suspended || !conn->in)
		return;
	http_in_client_left(conn->in);
	http_server_conn_resume(conn);
}

void http_server_conn_suspend(struct http_conn *conn)
{
	struct http_server *server = conn->server;
	int r;

	MHD_suspend_connection(conn->mhd);
	conn->suspended = true;
	if (!conn->watch_open) {
		r = uv_poll_init(server->loop, &conn->watch, conn->fd);
		if (r < 0) {
			/* Then a client that left is noticed when the reply is sent. */
			log_debug_errno(HTTP, r, "Cannot watch a waiting connection");
			return;
		}
		conn->watch_open = true;
		server->handles++;
	}
	(void)uv_poll_start(&conn->watch, UV_DISCONNECT, on_watch);
}

static void conn_started(struct http_server *server, struct MHD_Connection *connection,
			 void **socket_context)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct http_conn *conn = xcalloc(1, sizeof(*conn));

	conn->server = server;
	conn->mhd = connection;
	conn->fd = info ? info->connect_fd : -1;
	conn->next = server->conns;
	if (server->conns)
		server->conns->prev = conn;
	server->conns = conn;
	http_server_clock_start(conn);
	*socket_context = conn;
}

static void conn_closed(struct http_conn *conn)
{
	struct http_server *server = conn->server;

	http_server_clock_stop(conn);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		server->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	/* MHD completes a request before it closes its connection; should it
	 * not, the request is completed here. */
	if (conn->in) {
		void *in = conn->in;

		http_in_on_completed(NULL, conn->mhd, &in, MHD_REQUEST_TERMINATED_WITH_ERROR);
	}
	/* At the connection limit MHD took its listening socket out of its
	 * epoll set; only its next run puts it back, and nothing else may
	 * wake it before a connection times out. */
	kick(server);
	if (!conn->watch_open) {
		free(conn);
		return;
	}
	/* The socket closes right after this call: stop watching it first. */
	uv_poll_stop(&conn->watch);
	uv_close((uv_handle_t *)&conn->watch, on_watch_closed);
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		conn_started(cls, connection, socket_context);
		return;
	}
	if (*socket_context)
		conn_closed(*socket_context);
	*socket_context = NULL;
}

/* ---- the listening socket ---- */

/* "host:port", "[v6]:port" or ":port" (every address: IPv6 with IPv4
 * mapped, or IPv4 alone where the host has no IPv6). */
static int parse_address(const char *address, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	const char *colon = strrchr(address, ':');
	_cleanup_free_ char *host = NULL;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;
	struct sockaddr_in *in4 = (struct sockaddr_in *)ret;
	unsigned long port;
	size_t len;
	char *end;

	if (!colon || !isdigit((unsigned char)colon[1]))
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port > 65535)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	host = xstrndup(address, (size_t)(colon - address));
	len = strlen(host);
	if (len == 0 || (len > 2 && host[0] == '[' && host[len - 1] == ']')) {
		host[len ? len - 1 : 0] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*in6);
		if (len == 0)
			return 1;
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	*ret_len = sizeof(*in4);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -EINVAL;
}

static int listen_on(struct sockaddr_storage *addr, socklen_t len, bool any)
{
	_cleanup_close_ int fd =
		socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int on = 1, off = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return -errno;
	if (any && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)addr, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int open_listener(const char *address, unsigned *ret_port, char **reterr_msg)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int fd, any;

	any = parse_address(address, &addr, &len);
	if (any < 0) {
		*reterr_msg = xasprintf("invalid listen address '%s' (expected IP:PORT, "
					"[IPv6]:PORT or :PORT)",
					address);
		return -EINVAL;
	}
	fd = listen_on(&addr, len, any);
	if ((fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) && any) {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;
		uint16_t port = ((struct sockaddr_in6 *)&addr)->sin6_port;

		memset(&addr, 0, sizeof(addr));
		in4->sin_family = AF_INET;
		in4->sin_port = port;
		in4->sin_addr.s_addr = htonl(INADDR_ANY);
		fd = listen_on(&addr, sizeof(*in4), false);
	}
	if (fd < 0) {
		*reterr_msg = xasprintf("cannot listen on '%s': %s", address, strerror(-fd));
		return fd;
	}
	len = sizeof(addr);
	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
		int r = -errno;

		close(fd);
		*reterr_msg = xasprintf("cannot listen on '%s': %s", address, strerror(-r));
		return r;
	}
	*ret_port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port :
						       ((struct sockaddr_in *)&addr)->sin_port);
	return fd;
}

/* ---- the server ---- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap) _printf_(2, 0);
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	_cleanup_free_ char *text = xvasprintf(fmt, ap);
	size_t len = strlen(text);

	(void)cls;
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	log_debug(HTTP, "libmicrohttpd: %s", text);
}

/* MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD: no thread of
 * MHD's own, its epoll descriptor goes into our loop. MHD_ALLOW_SUSPEND_
 * RESUME: later replies (it brings the eventfd that signals a resume).
 * MHD_USE_ERROR_LOG: its messages, at debug level. Not MHD_USE_TURBO: it
 * skips the shutdown() before close, which can cost a client the tail of
 * its reply. */
static struct MHD_Daemon *start_mhd(struct http_server *server, int fd,
				    const struct http_server_limits *limits)
{
	unsigned connections = limits->max_connections ?: DEFAULT_MAX_CONNECTIONS;
	unsigned per_address = limits->max_per_address ?: DEFAULT_MAX_PER_ADDRESS;
	unsigned idle_s = limits->idle_timeout_s ?: DEFAULT_IDLE_TIMEOUT_S;
	size_t pool = (limits->max_header_bytes ?: DEFAULT_MAX_HEADER_BYTES) + POOL_SLACK;

	server->request_ms = (uint64_t)idle_s * 1000 * REQUEST_TIME_FACTOR;
	/* clang-format off */
	return MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
				0, NULL, NULL, http_in_on_access, server,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, connections,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,
				MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
				MHD_OPTION_NOTIFY_COMPLETED, http_in_on_completed, server,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
				MHD_OPTION_END);
	/* clang-format on */
}

int http_server_start(uv_loop_t *loop, const char *address, const struct http_server_limits *limits,
		      struct store *store, http_route_headers_fn *on_headers,
		      http_route_body_fn *on_body, void *userdata, struct http_server **ret,
		      char **reterr_msg)
{
	static const struct http_server_limits defaults = { 0 };
	const union MHD_DaemonInfo *info;
	struct http_server *server;
	unsigned port = 0;
	int fd, r;

	fd = open_listener(address, &port, reterr_msg);
	if (fd < 0)
		return fd;
	server = xcalloc(1, sizeof(*server));
	server->loop = loop;
	server->store = store;
	server->on_headers = on_headers;
	server->on_body = on_body;
	server->userdata = userdata;
	server->port = port;
	server->mhd = start_mhd(server, fd, limits ? limits : &defaults);
	if (!server->mhd) {
		/* MHD may or may not have closed the socket it was given. */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		free(server);
		*reterr_msg = xasprintf("cannot start the HTTP listener on '%s'", address);
		return -EIO;
	}
	info = MHD_get_daemon_info(server->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	r = info ? uv_poll_init(loop, &server->poll, info->epoll_fd) : -EIO;
	if (r < 0) {
		MHD_stop_daemon(server->mhd);
		free(server);
		*reterr_msg = xasprintf("cannot poll the HTTP listener: %s", strerror(-r));
		return r;
	}
	uv_timer_init(loop, &server->timer);
	uv_idle_init(loop, &server->idle);
	uv_timer_init(loop, &server->clock);
	server->handles = 4;
	uv_poll_start(&server->poll, UV_READABLE, on_poll);
	schedule(server);
	*ret = server;
	return 0;
}

unsigned http_server_port(const struct http_server *server)
{
	return server->port;
}

void http_server_answered(const struct http_server *server, uint64_t ret[6])
{
	memcpy(ret, server->answered, sizeof(server->answered));
}

static void on_poll_closed(uv_handle_t *handle)
{
	handle_released(container_of((uv_poll_t *)handle, struct http_server, poll));
}

static void on_timer_closed(uv_handle_t *handle)
{
	handle_released(container_of((uv_timer_t *)handle, struct http_server, timer));
}

static void on_idle_closed(uv_handle_t *handle)
{
	handle_released(container_of((uv_idle_t *)handle, struct http_server, idle));
}

static void on_clock_closed(uv_handle_t *handle)
{
	handle_released(container_of((uv_timer_t *)handle, struct http_server, clock));
}

/* Resumes what waits (MHD must not stop with suspended connections; their
 * requests read as disconnected), stops MHD, which closes every
 * connection, and closes the handles; the last close frees the server. */
static void stop_now(struct http_server *server)
{
	server->stopped = true;
	server->stop_pending = false;
	/* Out of the loop's epoll before MHD closes the descriptor. */
	uv_poll_stop(&server->poll);
	for (struct http_conn *conn = server->conns; conn; conn = conn->next) {
		if (!conn->suspended)
			continue;
		if (conn->in)
			http_in_client_left(conn->in);
		http_server_conn_resume(conn);
	}
	MHD_stop_daemon(server->mhd);
	server->mhd = NULL;
	uv_close((uv_handle_t *)&server->poll, on_poll_closed);
	uv_close((uv_handle_t *)&server->timer, on_timer_closed);
	uv_close((uv_handle_t *)&server->idle, on_idle_closed);
	uv_close((uv_handle_t *)&server->clock, on_clock_closed);
}

void http_server_stop(struct http_server *server)
{
	if (!server || server->stopped || server->stop_pending)
		return;
	if (server->in_run) {
		server->stop_pending = true;
		return;
	}
	stop_now(server);
}
