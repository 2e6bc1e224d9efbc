/* SPDX-License-Identifier: MIT */
/*
 * webhooks.custom's `verify` (modules/webhooks/verify.c): what the loader
 * accepts and refuses (never a literal secret), the address allow-list
 * (IPv4, IPv6, v4-mapped), and the HMAC header and basic credentials,
 * each right, wrong by one byte, or malformed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "modules/webhooks/verify.h"
#include "util/json.h"
#include "util/xalloc.h"

static int parse(const char *text, struct webhooks_verify *v, cJSON **ret_doc)
{
	_cleanup_free_ char *message = NULL;
	int r;

	*ret_doc = cJSON_Parse(text);
	assert_non_null(*ret_doc);
	r = webhooks_verify_parse(*ret_doc, v, &message);
	if (r < 0)
		assert_non_null(message);
	return r;
}

static void test_parse(void **state)
{
	static const struct {
		const char *verify;
		int result;
	} cases[] = {
		{ "{}", 0 },
		{ "{\"hmac\":{\"header\":\"x-signature\",\"secret\":{\"credential\":\"hook\"}}}",
		  0 },
		{ "{\"hmac\":{\"header\":\"x-signature\",\"secret\":{\"env\":\"HOOK\"},"
		  "\"algorithm\":\"sha256\"}}",
		  0 },
		{ "{\"basic\":{\"user\":\"alice\",\"password\":{\"env\":\"PASS\"}}}", 0 },
		{ "{\"ip_allow\":[\"127.0.0.1\",\"10.0.0.0/8\",\"::1\",\"fd00::/8\"]}", 0 },
		/* A secret written in the scenario is refused: its text is stored. */
		{ "{\"hmac\":{\"header\":\"x-signature\",\"secret\":\"s3cret\"}}", -EINVAL },
		{ "{\"basic\":{\"user\":\"alice\",\"password\":\"pw\"}}", -EINVAL },
		{ "{\"hmac\":{\"header\":\"x-signature\",\"secret\":{\"file\":\"/etc/x\"}}}",
		  -EINVAL },
		{ "{\"hmac\":{\"header\":\"X-Signature\",\"secret\":{\"env\":\"H\"}}}", -EINVAL },
		{ "{\"hmac\":{\"header\":\"x signature\",\"secret\":{\"env\":\"H\"}}}", -EINVAL },
		{ "{\"hmac\":{\"header\":\"x-s\",\"secret\":{\"env\":\"H\"},\"algorithm\":\"md5\"}}",
		  -EINVAL },
		{ "{\"hmac\":{\"header\":\"x-s\",\"secret\":{\"credential\":\"a/b\"}}}", -EINVAL },
		{ "{\"basic\":{\"user\":\"a:b\",\"password\":{\"env\":\"P\"}}}", -EINVAL },
		{ "{\"ip_allow\":[\"300.0.0.1\"]}", -EINVAL },
		{ "{\"ip_allow\":[\"10.0.0.0/33\"]}", -EINVAL },
		{ "{\"ip_allow\":[]}", -EINVAL },
		{ "{\"tls\":{}}", -EINVAL },
		{ "[]", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct webhooks_verify v;
		_cleanup_json_ cJSON *doc = NULL;

		if (parse(cases[i].verify, &v, &doc) != cases[i].result)
			fail_msg("case %zu (%s): expected %d", i, cases[i].verify, cases[i].result);
		webhooks_verify_done(&v);
	}
}

static void test_addresses(void **state)
{
	_cleanup_json_ cJSON *doc = NULL;
	struct webhooks_verify v;

	(void)state;
	assert_int_equal(parse("{\"ip_allow\":[\"192.168.1.0/24\",\"2001:db8::/32\",\"10.1.2.3\"]}",
			       &v, &doc),
			 0);
	assert_true(webhooks_verify_address(&v, "192.168.1.77"));
	assert_false(webhooks_verify_address(&v, "192.168.2.1"));
	assert_true(webhooks_verify_address(&v, "10.1.2.3"));
	assert_false(webhooks_verify_address(&v, "10.1.2.4"));
	assert_true(webhooks_verify_address(&v, "2001:db8:1::5"));
	assert_false(webhooks_verify_address(&v, "2001:db9::1"));
	assert_true(webhooks_verify_address(&v, "::ffff:192.168.1.5"));
	assert_false(webhooks_verify_address(&v, "not an address"));
	webhooks_verify_done(&v);
	/* Without a list, anyone. */
	cJSON_Delete(doc);
	assert_int_equal(parse("{}", &v, &doc), 0);
	assert_true(webhooks_verify_address(&v, "203.0.113.9"));
	webhooks_verify_done(&v);
}

static void test_hmac_header(void **state)
{
	static const char body[] = "{\"event\":\"ping\"}";
	unsigned char digest[32], other[32];
	unsigned int len = 0;
	char hex[65], upper[65];

	(void)state;
	HMAC(EVP_sha256(), "key", 3, (const unsigned char *)body, strlen(body), digest, &len);
	assert_int_equal(len, 32);
	for (int i = 0; i < 32; i++) {
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
		snprintf(upper + 2 * i, 3, "%02X", digest[i]);
	}
	assert_true(webhooks_verify_hmac_header(hex, digest));
	assert_true(webhooks_verify_hmac_header(upper, digest));
	{
		_cleanup_free_ char *prefixed = xasprintf("sha256=%s", hex);
		unsigned char b64[45];

		assert_true(webhooks_verify_hmac_header(prefixed, digest));
		EVP_EncodeBlock(b64, digest, 32);
		assert_true(webhooks_verify_hmac_header((const char *)b64, digest));
	}
	memcpy(other, digest, 32);
	other[31] ^= 1;
	assert_false(webhooks_verify_hmac_header(hex, other));
	hex[63] = '\0';
	assert_false(webhooks_verify_hmac_header(hex, digest));
	assert_false(webhooks_verify_hmac_header(NULL, digest));
	assert_false(webhooks_verify_hmac_header("", digest));
}

static void test_basic(void **state)
{
	(void)state;
	/* "alice:s3cret" */
	assert_true(webhooks_verify_basic("Basic YWxpY2U6czNjcmV0", "alice", "s3cret"));
	assert_true(webhooks_verify_basic("basic YWxpY2U6czNjcmV0", "alice", "s3cret"));
	assert_false(webhooks_verify_basic("Basic YWxpY2U6czNjcmV1", "alice", "s3cret"));
	assert_false(webhooks_verify_basic("Bearer YWxpY2U6czNjcmV0", "alice", "s3cret"));
	assert_false(webhooks_verify_basic(NULL, "alice", "s3cret"));
	assert_false(webhooks_verify_basic("Basic ", "alice", "s3cret"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_hmac_header),
		cmocka_unit_test(test_basic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
