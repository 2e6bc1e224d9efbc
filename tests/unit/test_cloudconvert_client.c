/* SPDX-License-Identifier: MIT */
/*
 * The CloudConvert client's small decisions, each a pure function: how long
 * to wait before a retry, which tag a job gets, what a remote file name
 * becomes before it names a file value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/cloudconvert.h"
#include "util/cleanup.h"

static void test_backoff(void **state)
{
	static const struct {
		int failures;
		int64_t base, cap, retry_after;
		int64_t min, max; /* the delay lies in [min, max] whatever the jitter */
	} cases[] = {
		{ 1, 1000, 30000, 0, 500, 1000 },
		{ 2, 1000, 30000, 0, 1000, 2000 },
		{ 3, 1000, 30000, 0, 2000, 4000 },
		{ 6, 1000, 30000, 0, 15000, 30000 }, /* 32 s capped at 30 s */
		{ 40, 1000, 30000, 0, 15000, 30000 }, /* no overflow far out */
		{ 1, 50, 2000, 0, 25, 50 },
		{ 1, 1000, 30000, 7000, 7000, 7000 }, /* Retry-After wins when longer */
		{ 3, 1000, 30000, 100, 2000, 4000 }, /* and not when shorter */
		{ 1, 0, 0, 0, 0, 1 }, /* a zero base still waits */
	};
	static const uint64_t randoms[] = { 0, 1, 12345, UINT64_MAX / 3, UINT64_MAX };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		for (size_t j = 0; j < ELEMENTSOF(randoms); j++) {
			int64_t d = cc_api_backoff_ms(cases[i].failures, cases[i].base,
						      cases[i].cap, randoms[j],
						      cases[i].retry_after);

			if (d < cases[i].min || d > cases[i].max)
				fail_msg("case %zu, random %zu: %lld not in [%lld, %lld]", i, j,
					 (long long)d, (long long)cases[i].min,
					 (long long)cases[i].max);
		}
}

static void test_backoff_jitter_spreads(void **state)
{
	int64_t first = cc_api_backoff_ms(4, 1000, 30000, 0, 0);
	bool differs = false;

	(void)state;
	for (uint64_t r = 1; r < 100; r++)
		differs |= cc_api_backoff_ms(4, 1000, 30000, r * 7919, 0) != first;
	assert_true(differs);
}

static void test_tag(void **state)
{
	_cleanup_free_ char *a = cc_jobs_tag(NULL, "docx-to-pdf", 42, "2", 3);
	_cleanup_free_ char *b = cc_jobs_tag(NULL, "docx-to-pdf", 42, "2", 3);
	_cleanup_free_ char *c = cc_jobs_tag(NULL, "docx-to-pdf", 42, "2", 4);
	_cleanup_free_ char *d = cc_jobs_tag("invoices", "docx-to-pdf", 42, "convert", 1);
	_cleanup_free_ char *e = cc_jobs_tag("", "s", 1, "1", 1);

	(void)state;
	assert_string_equal(a, "scenariod:docx-to-pdf:42:2:3");
	/* Deterministic: the same run asks for the same tag, another bundle not. */
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_equal(d, "invoices:42:convert:1");
	assert_string_equal(e, "scenariod:s:1:1:1");
}

static void test_filenames(void **state)
{
	static const struct {
		const char *remote;
		const char *safe;
	} cases[] = {
		{ "report.pdf", "report.pdf" },
		{ "../../etc/passwd", "_._etc_passwd" },
		{ "..", "file" },
		{ "a/b\\c.txt", "a_b_c.txt" },
		{ "line\nbreak\r.pdf", "line_break_.pdf" },
		{ "tab\there\x7f.pdf", "tab_here_.pdf" },
		{ ".hidden", "hidden" },
		{ "  spaced  ", "spaced" },
		{ "a..b", "a.b" },
		{ "rapport-été.pdf", "rapport-été.pdf" },
		{ "bad\xff\xfeutf8.pdf", "bad__utf8.pdf" },
		{ "", "file" },
		{ NULL, "file" },
	};
	_cleanup_free_ char *long_name = malloc(1000);

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *safe = cc_download_filename(cases[i].remote);

		assert_string_equal(safe, cases[i].safe);
		assert_null(strchr(safe, '/'));
		assert_null(strstr(safe, ".."));
	}
	memset(long_name, 'x', 999);
	long_name[999] = '\0';
	{
		_cleanup_free_ char *safe = cc_download_filename(long_name);

		assert_int_equal(strlen(safe), CC_FILENAME_MAX);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_backoff_jitter_spreads),
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_filenames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
