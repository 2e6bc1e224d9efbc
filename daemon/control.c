/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a Unix stream socket where scenarioctl sends one JSON
 * request per line and reads one JSON reply per line (docs/cli.md, "The
 * control socket"). Requests on one connection are answered in order, one
 * at a time; a reply that takes long (trigger --wait, retries) holds that
 * connection only.
 *
 * What a local user controls is bounded: at most CONTROL_MAX_CONNECTIONS
 * connections, CONTROL_MAX_LINE bytes per request, CONTROL_IDLE_MS of
 * silence between requests, and reading stops while a reply is being
 * written, so a client that sends without reading cannot make the daemon
 * buffer without end. Access is the socket file's (0660, in a 0750
 * folder: root, the daemon's user and its group); the peer's credentials
 * are checked again on accept (SO_PEERCRED) and every request is logged
 * with the peer's uid.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "scenarios/engine.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define CONTROL_MAX_CONNECTIONS 64
#define CONTROL_MAX_LINE (64 * 1024)
#define CONTROL_IDLE_MS (30 * 1000)
#define CONTROL_READ_CHUNK 4096

struct control {
	struct daemon *d; /* borrowed */
	uv_pipe_t server;
	char *path; /* owned */
	struct control_conn *conns; /* open connections */
	int count;
	bool closing;
};

struct control_conn {
	int refs; /* one for being open, one per reply still to come */
	struct control *control; /* borrowed; NULL once the connection closed */
	struct control_conn *prev, *next;
	uv_pipe_t pipe;
	uv_timer_t idle;
	int handles; /* open handles; freed when 0 and refs 0 */
	struct strbuf in; /* bytes read, not yet a whole request */
	bool busy; /* a request is being answered */
	bool reading;
	bool close_after_reply; /* an error that ends the connection: close once it is written */
	uid_t uid;
	pid_t pid;
};

struct reply_write {
	uv_write_t req;
	struct control_conn *conn; /* a reference */
	char *text; /* owned */
	size_t len;
};

/* A reply this large leaves memory that glibc keeps for later unless asked
 * to give it back (a status of 10,000 scenarios is a few MB). */
#define CONTROL_TRIM_BYTES (1024 * 1024)

static void conn_close(struct control_conn *conn);
static void process(struct control_conn *conn);

struct control_conn *control_conn_ref(struct control_conn *conn)
{
	conn->refs++;
	return conn;
}

void control_conn_unref(struct control_conn *conn)
{
	if (--conn->refs > 0 || conn->handles > 0)
		return;
	strbuf_done(&conn->in);
	free(conn);
}

static void on_handle_closed(uv_handle_t *handle)
{
	struct control_conn *conn = handle->data;

	conn->handles--;
	if (conn->handles == 0)
		control_conn_unref(conn);
}

static void conn_close(struct control_conn *conn)
{
	struct control *control = conn->control;

	if (!control)
		return;
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		control->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	control->count--;
	conn->control = NULL;
	uv_close((uv_handle_t *)&conn->pipe, on_handle_closed);
	uv_close((uv_handle_t *)&conn->idle, on_handle_closed);
}

static void on_idle(uv_timer_t *timer)
{
	struct control_conn *conn = timer->data;

	if (!conn->busy)
		conn_close(conn);
}

static void on_written(uv_write_t *req, int status)
{
	struct reply_write *w = container_of(req, struct reply_write, req);
	struct control_conn *conn = w->conn;
	bool large = w->len >= CONTROL_TRIM_BYTES;

	free(w->text);
	free(w);
	if (large)
		malloc_trim(0);
	if (status < 0 || conn->close_after_reply)
		conn_close(conn);
	else if (conn->control)
		process(conn);
	control_conn_unref(conn);
}

/* Takes ownership of `text` (a reply without its newline, `len` bytes). */
static void send_line(struct control_conn *conn, char *text, size_t len)
{
	struct reply_write *w = xcalloc(1, sizeof(*w));
	uv_buf_t buf;
	int r;

	w->text = xrealloc(text, len + 2);
	w->text[len] = '\n';
	w->text[len + 1] = '\0';
	w->len = len + 1;
	w->conn = control_conn_ref(conn);
	buf = uv_buf_init(w->text, (unsigned int)(len + 1));
	r = uv_write(&w->req, (uv_stream_t *)&conn->pipe, &buf, 1, on_written);
	if (r < 0) {
		free(w->text);
		free(w);
		control_conn_unref(conn);
		conn_close(conn);
	}
}

void control_reply_text(struct control_conn *conn, char *text, size_t len)
{
	conn->busy = false;
	if (!conn->control) {
		free(text);
		return;
	}
	uv_timer_start(&conn->idle, on_idle, CONTROL_IDLE_MS, 0);
	send_line(conn, text, len);
}

void control_reply(struct control_conn *conn, cJSON *reply)
{
	char *text = cJSON_PrintUnformatted(reply);

	cJSON_Delete(reply);
	control_reply_text(conn, text, strlen(text));
}

bool control_conn_open(const struct control_conn *conn)
{
	return conn->control != NULL;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	(void)suggested;
	buf->base = xmalloc(CONTROL_READ_CHUNK);
	buf->len = CONTROL_READ_CHUNK;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void pause_reading(struct control_conn *conn)
{
	if (conn->reading)
		uv_read_stop((uv_stream_t *)&conn->pipe);
	conn->reading = false;
}

static void resume_reading(struct control_conn *conn)
{
	if (!conn->reading && uv_read_start((uv_stream_t *)&conn->pipe, on_alloc, on_read) == 0)
		conn->reading = true;
}

/* Answers the first whole request in the buffer, if there is one and no
 * other is being answered. */
static void process(struct control_conn *conn)
{
	char *newline;
	cJSON *request;
	size_t len;

	if (conn->busy || !conn->control)
		return;
	newline = conn->in.len ? memchr(conn->in.data, '\n', conn->in.len) : NULL;
	if (!newline) {
		resume_reading(conn);
		return;
	}
	len = (size_t)(newline - conn->in.data);
	request = cJSON_ParseWithLength(conn->in.data, len);
	memmove(conn->in.data, newline + 1, conn->in.len - len - 1);
	conn->in.len -= len + 1;
	conn->in.data[conn->in.len] = '\0';
	conn->busy = true;
	pause_reading(conn);
	uv_timer_stop(&conn->idle);
	if (!cJSON_IsObject(request)) {
		control_reply(conn, commands_error(64, "the request is not one JSON object"));
	} else {
		log_debug(CONTROL, "Request from uid=%d: command='%s'", (int)conn->uid,
			  json_get_string(request, "command") ?
				  json_get_string(request, "command") :
				  "?");
		commands_handle(conn->control->d, conn, request);
	}
	cJSON_Delete(request);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct control_conn *conn = stream->data;

	if (nread > 0)
		strbuf_append(&conn->in, buf->base, (size_t)nread);
	free(buf->base);
	if (nread < 0) {
		conn_close(conn);
		return;
	}
	if (conn->in.len > CONTROL_MAX_LINE && !memchr(conn->in.data, '\n', CONTROL_MAX_LINE)) {
		cJSON *e =
			commands_error(64, "the request is longer than %d bytes", CONTROL_MAX_LINE);

		log_warning(CONTROL, "Request from uid=%d longer than %d bytes, closing",
			    (int)conn->uid, CONTROL_MAX_LINE);
		pause_reading(conn);
		strbuf_reset(&conn->in);
		conn->busy = true;
		conn->close_after_reply = true;
		control_reply(conn, e);
		return;
	}
	process(conn);
}

/* root, our own user, and the socket's group (the daemon's): the same
 * people the socket file's mode lets in, checked again from the peer's
 * credentials. */
static bool peer_allowed(uid_t uid, gid_t gid)
{
	_cleanup_free_ char *pwbuf = NULL;
	struct passwd pw, *found = NULL;
	gid_t groups[256];
	int n = (int)ELEMENTSOF(groups);
	gid_t ours = getegid();

	if (uid == 0 || uid == geteuid() || gid == ours)
		return true;
	pwbuf = xmalloc(16384);
	if (getpwuid_r(uid, &pw, pwbuf, 16384, &found) != 0 || !found)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == ours)
			return true;
	return false;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *control = server->data;
	struct control_conn *conn;
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0 || control->closing)
		return;
	conn = xcalloc(1, sizeof(*conn));
	conn->refs = 1;
	strbuf_init(&conn->in);
	uv_pipe_init(server->loop, &conn->pipe, 0);
	uv_timer_init(server->loop, &conn->idle);
	conn->pipe.data = conn->idle.data = conn;
	conn->handles = 2;
	conn->control = control;
	conn->next = control->conns;
	if (control->conns)
		control->conns->prev = conn;
	control->conns = conn;
	control->count++;
	if (uv_accept(server, (uv_stream_t *)&conn->pipe) < 0) {
		conn_close(conn);
		return;
	}
	if (uv_fileno((uv_handle_t *)&conn->pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		conn->uid = cred.uid;
		conn->pid = cred.pid;
	}
	if (!peer_allowed(cred.uid, cred.gid)) {
		log_warning(CONTROL, "Refused a control connection from uid=%d pid=%d",
			    (int)cred.uid, (int)cred.pid);
		conn->busy = true;
		conn->close_after_reply = true;
		control_reply(conn, commands_error(69, "permission denied"));
		return;
	}
	if (control->count > CONTROL_MAX_CONNECTIONS) {
		conn->busy = true;
		conn->close_after_reply = true;
		control_reply(conn, commands_error(69,
						   "too many control connections (%d); try "
						   "again",
						   CONTROL_MAX_CONNECTIONS));
		return;
	}
	uv_timer_start(&conn->idle, on_idle, CONTROL_IDLE_MS, 0);
	resume_reading(conn);
}

static void on_server_closed(uv_handle_t *handle)
{
	struct control *control = handle->data;

	free(control->path);
	free(control);
}

/* A socket file left by a daemon that died is removed; one that answers
 * belongs to a live daemon, which this one must not take over. */
static int clear_stale(const char *path, char **reterr_msg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		*reterr_msg = xasprintf("'%s' exists and is not a socket; remove it or choose "
					"another --socket",
					path);
		return -EEXIST;
	}
	memcpy(addr.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
	if (r == 0) {
		*reterr_msg = xasprintf("another scenariod answers on '%s'; stop it first, or "
					"choose another --socket",
					path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* The socket's folder: created 0750 when missing (systemd creates it as
 * RuntimeDirectory= otherwise). */
static int make_parent(const char *path)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int control_open(struct daemon *d, const char *path, struct control **ret, char **reterr_msg)
{
	struct control *control;
	mode_t old_umask;
	int r;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		*reterr_msg = xasprintf("the socket path '%s' is too long for a Unix socket", path);
		return -ENAMETOOLONG;
	}
	r = make_parent(path);
	if (r < 0) {
		*reterr_msg = xasprintf("cannot create the folder of '%s': %s", path, strerror(-r));
		return r;
	}
	r = clear_stale(path, reterr_msg);
	if (r < 0) {
		if (!*reterr_msg)
			*reterr_msg = xasprintf("cannot use '%s': %s", path, strerror(-r));
		return r;
	}
	control = xcalloc(1, sizeof(*control));
	control->d = d;
	control->path = xstrdup(path);
	uv_pipe_init(&d->engine->loop, &control->server, 0);
	control->server.data = control;
	/* Created 0660 from the start: no moment where others could connect. */
	old_umask = umask(0117);
	r = uv_pipe_bind(&control->server, path);
	umask(old_umask);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&control->server, 64, on_connection);
	if (r < 0) {
		*reterr_msg = xasprintf("cannot listen on '%s': %s", path, uv_strerror(r));
		uv_close((uv_handle_t *)&control->server, on_server_closed);
		return r;
	}
	*ret = control;
	return 0;
}

void control_close(struct control *control)
{
	if (!control || control->closing)
		return;
	control->closing = true;
	while (control->conns)
		conn_close(control->conns);
	unlink(control->path);
	uv_close((uv_handle_t *)&control->server, on_server_closed);
}
