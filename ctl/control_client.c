/* SPDX-License-Identifier: MIT */
/*
 * scenarioctl's end of the daemon's control socket: one connection per
 * request, one JSON object per line each way (the request at most 64 KiB,
 * the reply at most 64 MiB), and the one message a person sees when the
 * daemon cannot be reached. Blocking is fine in a CLI, so this is plain
 * poll() with a deadline rather than a uv loop. The commands that use it are
 * in cmd_daemon.c.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define REQUEST_MAX (64 * 1024) /* bytes, the newline included */
#define REPLY_MAX (64 * 1024 * 1024) /* bytes, the newline included */
#define REPLY_CHUNK (64 * 1024) /* bytes read at a time */

int ctl_daemon_timeout_ms(void)
{
	const char *text = getenv("SCENARIOCTL_TIMEOUT_MS");
	char *end;
	long ms;

	if (!text || !*text)
		return CTL_DAEMON_TIMEOUT_MS;
	errno = 0;
	ms = strtol(text, &end, 10);
	if (errno || *end || ms < 1 || ms > INT_MAX)
		return CTL_DAEMON_TIMEOUT_MS;
	return (int)ms;
}

/* Milliseconds left until `deadline` for poll(): -1 without a deadline,
 * 0 once it has passed. */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - time_monotonic_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits until fd is ready for `events`; -ETIMEDOUT at the deadline. */
static int wait_for(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&p, 1, remaining_ms(deadline));
		if (n > 0)
			return 0; /* POLLERR/POLLHUP too: the next read or write says what */
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Connects a blocking socket. A Unix stream connect only blocks while the
 * daemon's backlog is full; SO_SNDTIMEO bounds that wait by the deadline. */
static int connect_socket(const char *path, int64_t deadline, int *ret_fd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int left = remaining_ms(deadline);

	if (strlen(path) >= sizeof(addr.sun_path))
		return -EMSGSIZE;
	memcpy(addr.sun_path, path, strlen(path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (left > 0) {
		struct timeval tv = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };

		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EINTR)
			continue;
		/* The backlog stayed full until SO_SNDTIMEO ran out. */
		if (errno == EAGAIN || errno == EINPROGRESS)
			return -ETIMEDOUT;
		return -errno;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int send_all(int fd, const char *data, size_t len, int64_t deadline)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that hung up is an error, not SIGPIPE. */
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		int r;

		if (n >= 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = wait_for(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads up to the first newline. The line (without the newline) is
 * returned NUL-terminated in *ret_line, its length in *ret_len. A reply cut
 * by the end of the connection is taken as it is; the parser judges it. */
static int read_line(int fd, int64_t deadline, char **ret_line, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, capacity = 0;

	for (;;) {
		ssize_t n;
		char *newline;
		int r;

		if (len + REPLY_CHUNK + 1 > capacity)
			buf = xgrow(buf, &capacity, len + REPLY_CHUNK + 1, 1);
		n = read(fd, buf + len, REPLY_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			r = wait_for(fd, POLLIN, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n == 0) {
			if (len == 0)
				return -EPROTO; /* hung up without a word */
			break;
		}
		newline = memchr(buf + len, '\n', (size_t)n);
		if (newline) {
			len = (size_t)(newline - buf);
			break;
		}
		len += (size_t)n;
		if (len >= REPLY_MAX)
			return -EPROTO;
	}
	if (len >= REPLY_MAX)
		return -EPROTO;
	buf[len] = '\0';
	*ret_len = len;
	*ret_line = TAKE_PTR(buf);
	return 0;
}

/* One JSON object with a boolean "ok", and nothing after it but blanks. */
static int parse_reply(const char *line, size_t len, cJSON **ret_reply)
{
	const char *end = NULL;
	_cleanup_json_ cJSON *reply = cJSON_ParseWithLengthOpts(line, len, &end, false);

	if (!cJSON_IsObject(reply) || !cJSON_IsBool(cJSON_GetObjectItem(reply, "ok")))
		return -EPROTO;
	for (; end && end < line + len; end++)
		if (!strchr(" \t\r", *end))
			return -EPROTO;
	*ret_reply = TAKE_PTR(reply);
	return 0;
}

/*
 * Sends `request` to the daemon and returns its reply. Called by every
 * command that needs the daemon, once per command. Returns 0 with the reply
 * (which may say ok:false), or the negative errno that
 * ctl_daemon_unreachable() turns into a message.
 */
int ctl_daemon_call(const struct ctl *ctl, const cJSON *request, int timeout_ms, cJSON **ret_reply)
{
	int64_t deadline = timeout_ms > 0 ? time_monotonic_ms() + timeout_ms : -1;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r;

	text = cJSON_PrintUnformatted(request);
	if (!text)
		return -EINVAL;
	len = strlen(text);
	if (len + 1 > REQUEST_MAX)
		return -E2BIG;
	text[len] = '\n'; /* the NUL cJSON wrote; send_all() takes a length */

	r = connect_socket(ctl->socket, deadline, &fd);
	if (r < 0)
		return r;
	r = send_all(fd, text, len + 1, deadline);
	if (r < 0)
		return r;
	r = read_line(fd, deadline, &line, &len);
	if (r < 0)
		return r;
	return parse_reply(line, len, ret_reply);
}

/* The group that decides who may use the socket: the socket file's, or,
 * when even that cannot be looked at, its directory's. Caller frees. */
static char *access_group(const char *socket_path)
{
	_cleanup_free_ char *copy = xstrdup(socket_path);
	struct stat st;
	struct group *g;

	if (stat(socket_path, &st) < 0 && stat(dirname(copy), &st) < 0)
		return NULL;
	g = getgrgid(st.st_gid);
	return g ? xstrdup(g->gr_name) : xasprintf("%u", (unsigned)st.st_gid);
}

int ctl_daemon_unreachable(const struct ctl *ctl, int r, const char *command)
{
	_cleanup_free_ char *group = NULL;
	int ms;

	switch (r) {
	case -ENOENT:
	case -ECONNREFUSED:
		fprintf(stderr,
			"scenarioctl %s: no scenariod is answering on %s (is it running? "
			"'systemctl status scenariod')\n",
			command, ctl->socket);
		return EXIT_UNREACHABLE;
	case -EACCES:
	case -EPERM:
		group = access_group(ctl->socket);
		if (group)
			fprintf(stderr,
				"scenarioctl %s: permission denied on %s; only root and members of "
				"group '%s' may use it ('usermod -aG %s USER', then log in again)\n",
				command, ctl->socket, group, group);
		else
			fprintf(stderr,
				"scenarioctl %s: permission denied on %s; only root and members of "
				"the socket's group may use it\n",
				command, ctl->socket);
		return EXIT_UNREACHABLE;
	case -ETIMEDOUT:
		ms = ctl_daemon_timeout_ms();
		fprintf(stderr, "scenarioctl %s: scenariod on %s did not answer within %g s\n",
			command, ctl->socket, ms / 1000.0);
		return EXIT_UNREACHABLE;
	case -EMSGSIZE:
		fprintf(stderr,
			"scenarioctl %s: the socket path %s is too long (at most %zu bytes)\n",
			command, ctl->socket, sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
		return EXIT_INTERNAL;
	case -E2BIG:
		fprintf(stderr,
			"scenarioctl %s: the request is longer than the %d KiB the daemon "
			"accepts\n",
			command, REQUEST_MAX / 1024);
		return EXIT_INTERNAL;
	case -EPROTO:
		fprintf(stderr,
			"scenarioctl %s: scenariod on %s sent a reply that is not one JSON "
			"object line of at most %d MiB (a different version?)\n",
			command, ctl->socket, REPLY_MAX / (1024 * 1024));
		return EXIT_INTERNAL;
	default:
		fprintf(stderr, "scenarioctl %s: talking to scenariod on %s failed: %s\n", command,
			ctl->socket, strerror(-r));
		return EXIT_INTERNAL;
	}
}

int ctl_daemon_reply_error(const cJSON *reply, const char *command)
{
	const char *error = json_get_string(reply, "error");
	int64_t code = json_get_int(reply, "exit", EXIT_INTERNAL);

	fprintf(stderr, "scenarioctl %s: %s\n", command,
		error ? error : "scenariod refused the request without saying why");
	/* Anything but a code of cli.md's table would confuse a script. */
	if (code < 1 || code > 125)
		return EXIT_INTERNAL;
	return (int)code;
}

int ctl_exit_code_for_status(const char *status)
{
	if (!status)
		return EXIT_INTERNAL;
	if (streq(status, "success") || streq(status, "warning"))
		return EXIT_OK;
	if (streq(status, "error"))
		return EXIT_RUN_ERROR;
	if (streq(status, "incomplete"))
		return EXIT_INCOMPLETE;
	return EXIT_INTERNAL;
}

bool ctl_daemon_absent(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED;
}
