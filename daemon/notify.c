/* SPDX-License-Identifier: MIT */
/*
 * sd_notify for the daemon. Under systemd (Type=notify) the service manager
 * passes a datagram socket in $NOTIFY_SOCKET and, with WatchdogSec=, an
 * interval in $WATCHDOG_USEC; the daemon tells it READY=1 once the store is
 * open and the control socket listens, RELOADING=1/READY=1 around reloads,
 * STOPPING=1 on SIGTERM and WATCHDOG=1 from a loop timer. With libsystemd
 * we call sd_notify() and sd_watchdog_enabled(); without it we speak the
 * same small protocol ourselves: one AF_UNIX datagram to a path, or to an
 * abstract address when the variable starts with '@'. Outside systemd the
 * variables are unset and everything here is a no-op. Nothing here logs:
 * the caller decides whether a failed notification matters.
 */
#include "daemon/notify.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#if !HAVE_LIBSYSTEMD
/*
 * Fills in the address $NOTIFY_SOCKET names: an absolute path, or '@' and
 * an abstract name (the '@' becomes the leading NUL). Returns the address
 * length, -ENAMETOOLONG when it does not fit, or -EINVAL for anything else,
 * as libsystemd does.
 */
static int notify_address(const char *path, struct sockaddr_un *ret_addr)
{
	size_t len = strlen(path);
	bool abstract = path[0] == '@';

	if ((path[0] != '/' && !abstract) || len < 2)
		return -EINVAL;
	/* A path needs room for its NUL; an abstract name has none. */
	if (len > sizeof(ret_addr->sun_path) - !abstract)
		return -ENAMETOOLONG;

	memset(ret_addr, 0, sizeof(*ret_addr));
	ret_addr->sun_family = AF_UNIX;
	memcpy(ret_addr->sun_path, path, len);
	if (abstract)
		ret_addr->sun_path[0] = '\0';
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + !abstract);
}

static int send_state(const char *state)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un addr;
	const char *path;
	size_t len = strlen(state);
	ssize_t n;
	int addr_len;

	path = getenv("NOTIFY_SOCKET");
	if (!path)
		return 0;
	addr_len = notify_address(path, &addr);
	if (addr_len < 0)
		return addr_len;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;

	do
		n = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&addr,
			   (socklen_t)addr_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* A datagram goes whole or not at all; anything else is a bug. */
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/* Decimal digits only (no sign, no blanks), as systemd writes them. */
static int parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int watchdog_usec(uint64_t *ret_usec)
{
	const char *s;
	uint64_t usec, pid;
	int r;

	s = getenv("WATCHDOG_USEC");
	if (!s)
		return -ENODATA;
	r = parse_u64(s, &usec);
	if (r < 0)
		return r;
	/* 0 and UINT64_MAX are "unset" and "infinity" to systemd, never an interval. */
	if (usec == 0 || usec == UINT64_MAX)
		return -EINVAL;

	s = getenv("WATCHDOG_PID");
	if (s) {
		r = parse_u64(s, &pid);
		if (r < 0)
			return r;
		if (pid == 0 || pid > INT_MAX)
			return -ERANGE;
		/* Set for another process (our parent, say): not ours to feed. */
		if ((pid_t)pid != getpid())
			return -ENODATA;
	}

	*ret_usec = usec;
	return 0;
}
#endif

int notify_send(const char *state)
{
	if (!state || !*state)
		return -EINVAL;
#if HAVE_LIBSYSTEMD
	int r = sd_notify(0, state);

	/* sd_notify() returns 1 when sent, 0 when $NOTIFY_SOCKET is unset. */
	return r < 0 ? r : 0;
#else
	return send_state(state);
#endif
}

int notify_sendf(const char *fmt, ...)
{
	_cleanup_free_ char *state = NULL;
	va_list ap;

	va_start(ap, fmt);
	state = xvasprintf(fmt, ap);
	va_end(ap);
	return notify_send(state);
}

int notify_watchdog_usec(uint64_t *ret_usec)
{
#if HAVE_LIBSYSTEMD
	uint64_t usec;
	int r;

	/* Keep the variables: a later reload asks again. */
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENODATA;
	*ret_usec = usec;
	return 0;
#else
	return watchdog_usec(ret_usec);
#endif
}
