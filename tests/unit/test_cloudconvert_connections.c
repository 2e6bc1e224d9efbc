/* SPDX-License-Identifier: MIT */
/*
 * The connections file a CloudConvert connection comes from
 * (scenario-format.md "Connections"): where secrets are read from, which
 * hosts a connection resolves to, what is an error of the file (with its
 * position) and what is a problem of one connection, reported when a
 * module uses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/connection.h"
#include "scenarios/connections.h"
#include "util/diag.h"
#include "util/xalloc.h"

struct fixture {
	char *dir;
	struct diag_list diags;
	struct connections *set;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->dir = helpers_mkdtemp();
	diag_list_init(&f->diags);
	unsetenv("CREDENTIALS_DIRECTORY");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	connections_free(f->set);
	diag_list_done(&f->diags);
	helpers_rmdir_recursive(f->dir);
	free(f->dir);
	free(f);
	unsetenv("CC_TEST_KEY");
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static int load(struct fixture *f, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/connections.yaml", f->dir);

	helpers_write_file(path, text, strlen(text));
	connections_free(f->set);
	f->set = NULL;
	return connections_load_file(path, &f->set, &f->diags);
}

static void write_in(struct fixture *f, const char *name, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", f->dir, name);

	helpers_write_file(path, text, strlen(text));
}

static void assert_diag(const struct fixture *f, int line, int column, const char *part)
{
	for (size_t i = 0; i < f->diags.count; i++)
		if (f->diags.items[i].line == line && f->diags.items[i].column == column &&
		    strstr(f->diags.items[i].message, part))
			return;
	for (size_t i = 0; i < f->diags.count; i++)
		print_message("%d:%d: %s\n", f->diags.items[i].line, f->diags.items[i].column,
			      f->diags.items[i].message);
	fail_msg("no diagnostic %d:%d containing '%s'", line, column, part);
}

static void test_secret_sources(void **state)
{
	struct fixture *f = *state;
	const struct connection *c;

	setenv("CC_TEST_KEY", "key-from-env", 1);
	setenv("CREDENTIALS_DIRECTORY", f->dir, 1);
	write_in(f, "cred", "key-from-credential\n");
	write_in(f, "key.txt", "key-from-file\n\n");
	assert_int_equal(load(f, "by-env:\n"
				 "  app: cloudconvert\n"
				 "  api_key: {env: CC_TEST_KEY}\n"
				 "by-credential:\n"
				 "  app: cloudconvert\n"
				 "  api_key: {credential: cred}\n"
				 "  webhook_signing_secret: {env: CC_TEST_KEY}\n"
				 "by-file:\n"
				 "  app: cloudconvert\n"
				 "  api_key: {file: key.txt}\n"),
			 0);
	assert_int_equal(connections_count(f->set), 3);
	c = connections_get(f->set, "by-env");
	assert_string_equal(c->api_key, "key-from-env");
	assert_null(c->problem);
	c = connections_get(f->set, "by-credential");
	assert_string_equal(c->api_key, "key-from-credential");
	assert_string_equal(c->webhook_signing_secret, "key-from-env");
	/* Only one trailing newline is trimmed; a second line is refused. */
	c = connections_get(f->set, "by-file");
	assert_null(c->api_key);
	assert_non_null(strstr(c->problem, "more than one line"));
	assert_null(strstr(c->problem, "key-from-file"));
}

static void test_secret_problems_are_deferred(void **state)
{
	struct fixture *f = *state;
	const struct connection *c;

	assert_int_equal(load(f, "a:\n"
				 "  app: cloudconvert\n"
				 "  api_key: {env: CC_TEST_KEY}\n"
				 "b:\n"
				 "  app: cloudconvert\n"
				 "  api_key: {credential: cloudconvert}\n"
				 "c:\n"
				 "  app: cloudconvert\n"
				 "  api_key: {file: /nonexistent/key}\n"),
			 0);
	c = connections_get(f->set, "a");
	assert_non_null(strstr(c->problem, "environment variable 'CC_TEST_KEY' is not set"));
	assert_non_null(strstr(c->problem, "connections.yaml:1:1"));
	c = connections_get(f->set, "b");
	assert_non_null(strstr(c->problem, "CREDENTIALS_DIRECTORY"));
	c = connections_get(f->set, "c");
	assert_non_null(strstr(c->problem, "/nonexistent/key"));
	assert_null(c->api_key);
}

static void test_hosts(void **state)
{
	static const struct {
		const char *settings;
		const char *base, *sync;
	} cases[] = {
		{ "", "https://api.cloudconvert.com", "https://sync.api.cloudconvert.com" },
		{ "  sandbox: true\n", "https://api.sandbox.cloudconvert.com",
		  "https://sync.api.sandbox.cloudconvert.com" },
		{ "  region: eu-central\n", "https://eu-central.api.cloudconvert.com",
		  "https://eu-central.sync.api.cloudconvert.com" },
		{ "  base_url: http://127.0.0.1:18750/v2/\n"
		  "  sync_url: http://127.0.0.1:18750/sync\n",
		  "http://127.0.0.1:18750", "http://127.0.0.1:18750/sync" },
		{ "  base_url: https://cc.example.com\n", "https://cc.example.com",
		  "https://cc.example.com" },
	};
	struct fixture *f = *state;

	setenv("CC_TEST_KEY", "k", 1);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = xasprintf("cc:\n  app: cloudconvert\n"
						      "  api_key: {env: CC_TEST_KEY}\n%s",
						      cases[i].settings);
		const struct connection *c;

		assert_int_equal(load(f, text), 0);
		c = connections_get(f->set, "cc");
		assert_string_equal(c->base_url, cases[i].base);
		assert_string_equal(c->sync_url, cases[i].sync);
		assert_int_equal(c->retry.attempts, CONNECTION_RETRY_ATTEMPTS);
	}
}

static void test_retry_settings(void **state)
{
	struct fixture *f = *state;
	const struct connection *c;

	setenv("CC_TEST_KEY", "k", 1);
	assert_int_equal(load(f, "cc:\n  app: cloudconvert\n  api_key: {env: CC_TEST_KEY}\n"
				 "  retry: {base: 50ms, cap: 2s, attempts: 6}\n"),
			 0);
	c = connections_get(f->set, "cc");
	assert_int_equal(c->retry.base_ms, 50);
	assert_int_equal(c->retry.cap_ms, 2000);
	assert_int_equal(c->retry.attempts, 6);
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;

	setenv("CC_TEST_KEY", "k", 1);
	assert_int_equal(load(f, "cc:\n"
				 "  app: cloudconvert\n"
				 "  api_key: sk-written-here\n"
				 "  sandbx: true\n"
				 "  base_url: ftp://example.com\n"
				 "  retry: {base: 5s, cap: 1s, attempts: 0}\n"
				 "other:\n"
				 "  app: dropbox\n"
				 "  api_key: {vault: x}\n"),
			 -EINVAL);
	assert_null(f->set);
	assert_diag(f, 3, 12, "a secret written in this file itself is not accepted");
	assert_diag(f, 4, 3, "unknown key 'sandbx' (did you mean 'sandbox'?)");
	assert_diag(f, 5, 13, "base_url");
	assert_diag(f, 6, 40, "retry.attempts");
	assert_diag(f, 6, 10, "base is longer than cap");
	assert_diag(f, 8, 8, "unknown app 'dropbox'");
	assert_diag(f, 9, 13, "unknown secret source 'vault'");
	/* The secret written in the file never reaches a message. */
	for (size_t i = 0; i < f->diags.count; i++)
		assert_null(strstr(f->diags.items[i].message, "sk-written-here"));
}

static void test_missing_key_and_file(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *path = xasprintf("%s/none.yaml", f->dir);
	const struct connection *c;

	assert_int_equal(load(f, "cc:\n  app: cloudconvert\n"), -EINVAL);
	assert_diag(f, 2, 3, "missing key 'api_key'");

	assert_int_equal(connections_load_file(path, &f->set, &f->diags), -ENOENT);
	f->set = connections_new_empty(path);
	c = connections_lookup(f->set, "cloudconvert-main");
	assert_non_null(strstr(c->problem, "'cloudconvert-main' is not defined"));
	assert_non_null(strstr(c->problem, "none.yaml' does not exist"));
	/* The stand-in is kept: the same pointer for the same name. */
	assert_ptr_equal(c, connections_lookup(f->set, "cloudconvert-main"));
	assert_null(connections_get(f->set, "cloudconvert-main"));
}

static void test_url_normalize(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
	} cases[] = {
		{ "https://api.cloudconvert.com", "https://api.cloudconvert.com" },
		{ "https://api.cloudconvert.com/v2", "https://api.cloudconvert.com" },
		{ "https://api.cloudconvert.com/v2/", "https://api.cloudconvert.com" },
		{ "http://127.0.0.1:8080/sync/v2", "http://127.0.0.1:8080/sync" },
		{ "http://localhost:1/", "http://localhost:1" },
		{ "https://user:pw@example.com", NULL },
		{ "https://example.com/?a=1", NULL },
		{ "https://", NULL },
		{ "example.com", NULL },
		{ "file:///etc/passwd", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *out = NULL;
		int r = connections_url_normalize(cases[i].in, &out);

		if (!cases[i].out) {
			assert_int_equal(r, -EINVAL);
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_secret_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_problems_are_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_key_and_file, setup, teardown),
		cmocka_unit_test(test_url_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
