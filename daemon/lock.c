/* SPDX-License-Identifier: MIT */
/*
 * One scenariod per state directory. Two daemons on one store would both
 * schedule every scenario (each slot run twice) and fight over the same
 * control socket, so the second refuses to start. The lock is flock() on
 * STATE_DIR/scenariod.lock, held by the open file for the life of the
 * process: the kernel drops it when the process dies, however it dies, so a
 * crash never leaves a stale lock behind. The file holds the owner's pid,
 * for the message the second daemon prints. scenarioctl does not take it:
 * it shares the store with the daemon through the store's own claims.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

static long read_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

int daemon_lock_take(const char *state_dir, int *ret_fd, long *ret_other_pid, char **reterr_msg)
{
	_cleanup_free_ char *path = xasprintf("%s/scenariod.lock", state_dir);
	char pid[32];
	int fd, len;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int r = -errno;

		*reterr_msg = xasprintf("cannot open the lock file '%s': %s", path, strerror(-r));
		return r;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

		*ret_other_pid = r == -EBUSY ? read_pid(fd) : 0;
		if (r == -EBUSY && *ret_other_pid)
			*reterr_msg = xasprintf("another scenariod (pid %ld) is running on the "
						"state directory '%s'; stop it first, or give this "
						"one another --state-dir",
						*ret_other_pid, state_dir);
		else if (r == -EBUSY)
			*reterr_msg = xasprintf("another scenariod is running on the state "
						"directory '%s'; stop it first, or give this one "
						"another --state-dir",
						state_dir);
		else
			*reterr_msg = xasprintf("cannot lock '%s': %s", path, strerror(-r));
		close(fd);
		return r;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		int r = -errno;

		*reterr_msg = xasprintf("cannot write the lock file '%s': %s", path, strerror(-r));
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
