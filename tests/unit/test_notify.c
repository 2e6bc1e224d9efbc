/* SPDX-License-Identifier: MIT */
/*
 * daemon/notify.c: the test plays the service manager. It binds its own
 * datagram socket (a path, or an abstract name), points $NOTIFY_SOCKET at
 * it and compares what arrives; with the variable unset nothing is sent and
 * the call still succeeds. The watchdog cases are a table of
 * WATCHDOG_USEC/WATCHDOG_PID pairs, including a pid of another process.
 * The same test passes with libsystemd and with the built-in fallback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/notify.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

struct fixture {
	char *tmp;
	int fd; /* the "manager's" socket, or -1 */
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->tmp = helpers_mkdtemp();
	f->fd = -1;
	unsetenv("NOTIFY_SOCKET");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (f->fd >= 0)
		close(f->fd);
	helpers_rmdir_recursive(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

/* Binds a datagram socket to `name` as $NOTIFY_SOCKET spells it: a path,
 * or '@' for the abstract namespace. */
static int listen_at(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	socklen_t addr_len;
	int fd;

	assert_true(len < sizeof(addr.sun_path));
	memcpy(addr.sun_path, name, len);
	if (name[0] == '@') {
		addr.sun_path[0] = '\0';
		addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, addr_len), 0);
	return fd;
}

/* The next datagram, waiting up to five seconds for it; caller frees. */
static char *receive(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	return xstrndup(buf, (size_t)n);
}

static void assert_nothing_queued(int fd)
{
	char buf[64];

	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_send_path(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *path = xasprintf("%s/notify.sock", f->tmp);
	_cleanup_free_ char *got = NULL;

	f->fd = listen_at(path);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);

	assert_int_equal(notify_send("READY=1\nSTATUS=Listening on control.sock"), 0);
	got = receive(f->fd);
	assert_string_equal(got, "READY=1\nSTATUS=Listening on control.sock");
	assert_nothing_queued(f->fd);
}

static void test_send_abstract(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *name = xasprintf("@scenariod-test-notify-%ld", (long)getpid());
	_cleanup_free_ char *got = NULL;

	f->fd = listen_at(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);

	assert_int_equal(notify_sendf("STATUS=%d scenarios, %s", 3, "0 runs"), 0);
	got = receive(f->fd);
	assert_string_equal(got, "STATUS=3 scenarios, 0 runs");
}

/* A reload and a stop, as the daemon sends them: one datagram each, in order. */
static void test_send_sequence(void **state)
{
	static const char *const states[] = {
		"READY=1", "RELOADING=1", "READY=1\nSTATUS=Reloaded", "WATCHDOG=1", "STOPPING=1",
	};
	struct fixture *f = *state;
	_cleanup_free_ char *path = xasprintf("%s/n", f->tmp);

	f->fd = listen_at(path);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);

	for (size_t i = 0; i < ELEMENTSOF(states); i++)
		assert_int_equal(notify_send(states[i]), 0);
	for (size_t i = 0; i < ELEMENTSOF(states); i++) {
		_cleanup_free_ char *got = receive(f->fd);

		assert_string_equal(got, states[i]);
	}
	assert_nothing_queued(f->fd);
}

static void test_unset(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *path = xasprintf("%s/notify.sock", f->tmp);

	f->fd = listen_at(path);
	unsetenv("NOTIFY_SOCKET");

	assert_int_equal(notify_send("READY=1"), 0);
	assert_int_equal(notify_sendf("STATUS=%s", "x"), 0);
	assert_nothing_queued(f->fd);
}

static void test_invalid(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *missing = xasprintf("%s/nobody-listens", f->tmp);
	char long_path[200];

	assert_int_equal(notify_send(NULL), -EINVAL);
	assert_int_equal(notify_send(""), -EINVAL);

	assert_int_equal(setenv("NOTIFY_SOCKET", "relative/notify.sock", 1), 0);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	assert_int_equal(setenv("NOTIFY_SOCKET", "@", 1), 0);
	assert_int_equal(notify_send("READY=1"), -EINVAL);

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", long_path, 1), 0);
	assert_int_equal(notify_send("READY=1"), -ENAMETOOLONG);

	assert_int_equal(setenv("NOTIFY_SOCKET", missing, 1), 0);
	assert_int_equal(notify_send("READY=1"), -ENOENT);
}

enum pid_kind {
	PID_UNSET,
	PID_SELF,
	PID_PARENT, /* another process: the watchdog is not ours */
	PID_TEXT, /* `pid_text` as written */
};

struct watchdog_case {
	const char *usec; /* WATCHDOG_USEC, or NULL for unset */
	enum pid_kind pid; /* WATCHDOG_PID */
	const char *pid_text; /* for PID_TEXT */
	int expect; /* return value; a negative errno, or 1 for "any < 0" */
	uint64_t expect_usec; /* when expect == 0 */
};

static const struct watchdog_case watchdog_cases[] = {
	{ NULL, PID_UNSET, NULL, -ENODATA, 0 },
	{ NULL, PID_SELF, NULL, -ENODATA, 0 },
	{ "30000000", PID_UNSET, NULL, 0, 30000000 },
	{ "30000000", PID_SELF, NULL, 0, 30000000 },
	{ "1", PID_SELF, NULL, 0, 1 },
	{ "30000000", PID_PARENT, NULL, -ENODATA, 0 },
	{ "30000000", PID_TEXT, "1", -ENODATA, 0 }, /* we are not PID 1 */
	{ "30000000", PID_TEXT, "nope", -EINVAL, 0 },
	{ "0", PID_UNSET, NULL, -EINVAL, 0 },
	{ "", PID_UNSET, NULL, -EINVAL, 0 },
	{ "thirty", PID_UNSET, NULL, -EINVAL, 0 },
	{ "30s", PID_UNSET, NULL, -EINVAL, 0 },
	{ "-5", PID_UNSET, NULL, 1, 0 },
	{ "99999999999999999999999", PID_UNSET, NULL, 1, 0 },
};

static void test_watchdog(void **state)
{
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(watchdog_cases); i++) {
		const struct watchdog_case *c = &watchdog_cases[i];
		uint64_t usec = 4242; /* must stay untouched on failure */
		char pid[32];
		int r;

		if (c->usec)
			assert_int_equal(setenv("WATCHDOG_USEC", c->usec, 1), 0);
		else
			unsetenv("WATCHDOG_USEC");
		switch (c->pid) {
		case PID_UNSET:
			unsetenv("WATCHDOG_PID");
			break;
		case PID_SELF:
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
			assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
			break;
		case PID_PARENT:
			snprintf(pid, sizeof(pid), "%ld", (long)getppid());
			assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
			break;
		case PID_TEXT:
			assert_int_equal(setenv("WATCHDOG_PID", c->pid_text, 1), 0);
			break;
		}

		r = notify_watchdog_usec(&usec);
		print_message("case %zu: WATCHDOG_USEC=%s -> %d\n", i,
			      c->usec ? c->usec : "(unset)", r);
		if (c->expect == 1) {
			assert_true(r < 0);
			assert_int_equal(usec, 4242);
		} else if (c->expect < 0) {
			assert_int_equal(r, c->expect);
			assert_int_equal(usec, 4242);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(usec, c->expect_usec);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_abstract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
