/* SPDX-License-Identifier: MIT */
/*
 * The webhook signature helper against the test vectors the official SDKs
 * assert (../shared/reference/cloudconvert-fixtures/README.md and
 * cloudconvert-api.md §8): both fixture payloads, byte for byte, the same
 * payload re-encoded as Laravel's test does, and the python SDK's short
 * one; then what must not verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/cloudconvert.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strbuf.h"

static const struct {
	const char *fixture; /* NULL: `body` */
	const char *body;
	size_t size; /* the bytes the vector is over */
	const char *secret;
	const char *signature;
} vectors[] = {
	{ "cloudconvert-fixtures/php__webhook_job_finished_payload.json", NULL, 3602, "secret",
	  "576b653f726c85265a389532988f483b5c7d7d5f40cede5f5ddf9c3f02934f35" },
	{ "cloudconvert-fixtures/dotnet__webhook_job_created_payload.json", NULL, 2975,
	  "9E1I8fQSLM7WsH1Y2Zp0uurYfhLqdERu",
	  "88c3103f1d64282bf963af5dd8405ef26348af25b8903e10f0c288c11f0f907b" },
	{ NULL, "cloudconvert", 12, "90sffs0d8fs0f9sf0",
	  "5c4c0691bce8a1a2af738b7073fe0627e792734813358c5f88a658819dd0a6d2" },
};

static char *body_of(size_t i, size_t *ret_len)
{
	if (vectors[i].fixture)
		return helpers_read_reference(vectors[i].fixture, ret_len);
	*ret_len = strlen(vectors[i].body);
	return strdup(vectors[i].body);
}

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		char hex[CC_SIGNATURE_HEX_LEN + 1];
		_cleanup_free_ char *body = NULL;
		size_t len;

		body = body_of(i, &len);
		/* Exactly the bytes as shipped: a reformatted copy fails (node#65). */
		assert_int_equal(len, vectors[i].size);
		assert_int_equal(cc_signature_compute(vectors[i].secret, body, len, hex), 0);
		assert_string_equal(hex, vectors[i].signature);
		assert_true(
			cc_signature_verify(vectors[i].secret, body, len, vectors[i].signature));
	}
}

/* Laravel's test posts the parsed payload again, re-encoded PHP-style
 * (compact, "/" as "\/"): other bytes, so another signature. */
static void test_reencoded_payload(void **state)
{
	static const char expected[] =
		"38c9a2e4db791ef8c9ca5f7300417376028fa55d5c875894137b1c312e5e3560";
	_cleanup_free_ char *body = NULL, *compact = NULL;
	_cleanup_json_ cJSON *doc = NULL;
	char hex[CC_SIGNATURE_HEX_LEN + 1];
	struct strbuf php;
	size_t len;

	(void)state;
	body = body_of(0, &len);
	doc = cJSON_ParseWithLength(body, len);
	assert_non_null(doc);
	compact = cJSON_PrintUnformatted(doc);
	strbuf_init(&php);
	for (const char *p = compact; *p; p++) {
		if (*p == '/')
			strbuf_putc(&php, '\\');
		strbuf_putc(&php, *p);
	}
	assert_int_equal(php.len, 2519);
	assert_int_equal(cc_signature_compute("secret", php.data, php.len, hex), 0);
	assert_string_equal(hex, expected);
	/* The original signature does not cover the re-encoded bytes. */
	assert_false(cc_signature_verify("secret", php.data, php.len, vectors[0].signature));
	strbuf_done(&php);
}

static void test_header_forms(void **state)
{
	_cleanup_free_ char *body = NULL;
	char upper[CC_SIGNATURE_HEX_LEN + 8];
	size_t len;

	(void)state;
	body = body_of(1, &len);
	snprintf(upper, sizeof(upper), "  %s\r\n", vectors[1].signature);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_true(cc_signature_verify(vectors[1].secret, body, len, upper));
}

static void test_rejections(void **state)
{
	static const char *const bad_headers[] = {
		"invalid",
		"a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1",
		"576b653f726c85265a389532988f483b5c7d7d5f40cede5f5ddf9c3f02934f3",
		"576b653f726c85265a389532988f483b5c7d7d5f40cede5f5ddf9c3f02934f355",
		"",
	};
	_cleanup_free_ char *body = NULL;
	char hex[CC_SIGNATURE_HEX_LEN + 1];
	size_t len;

	(void)state;
	body = body_of(0, &len);
	for (size_t i = 0; i < ELEMENTSOF(bad_headers); i++)
		assert_false(cc_signature_verify("secret", body, len, bad_headers[i]));
	/* Missing header, wrong secret, one byte changed, the final newline dropped. */
	assert_false(cc_signature_verify("secret", body, len, NULL));
	assert_false(cc_signature_verify("Secret", body, len, vectors[0].signature));
	assert_false(cc_signature_verify("secret", body, len - 1, vectors[0].signature));
	body[100] ^= 1;
	assert_false(cc_signature_verify("secret", body, len, vectors[0].signature));
	/* No secret: nothing verifies, nothing is computed. */
	assert_false(cc_signature_verify("", body, len, vectors[0].signature));
	assert_int_equal(cc_signature_compute(NULL, body, len, hex), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_reencoded_payload),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_rejections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
