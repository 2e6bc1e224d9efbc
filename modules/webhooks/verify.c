/* SPDX-License-Identifier: MIT */
/*
 * The checks of webhooks.custom's `verify` (verify.h): the parsing both the
 * loader and the daemon use, the address allow-list, and the constant-time
 * comparisons of an HMAC header and of basic credentials.
 */
#include "modules/webhooks/verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/cleanup.h"
#include "util/json.h"
#include "util/percent.h"
#include "util/xalloc.h"

static int parse_secret(const cJSON *node, const char *key, struct webhook_secret_ref *ret,
			char **reterr_msg)
{
	const cJSON *only = node ? node->child : NULL;

	if (!cJSON_IsObject(node) || !only || only->next || !cJSON_IsString(only) ||
	    !*only->valuestring ||
	    (!streq(only->string, "credential") && !streq(only->string, "env"))) {
		*reterr_msg = xasprintf("%s: write {credential: NAME} or {env: NAME}; a secret "
					"written in the scenario file is not accepted (its text "
					"is kept in the store)",
					key);
		return -EINVAL;
	}
	if (streq(only->string, "credential") && strchr(only->valuestring, '/')) {
		*reterr_msg = xasprintf("%s: a credential name is one path segment", key);
		return -EINVAL;
	}
	*ret = (struct webhook_secret_ref){ .source = only->string, .name = only->valuestring };
	return 0;
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') &&
		    !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z'))
			return false;
	return true;
}

static int parse_hmac(const cJSON *hmac, struct webhooks_verify *v, char **reterr_msg)
{
	const char *header = json_get_string(hmac, "header");
	const char *algorithm = json_get_string(hmac, "algorithm");

	if (!cJSON_IsObject(hmac) || !header || !is_token(header)) {
		*reterr_msg = xstrdup("verify.hmac: needs 'header' (the header that carries the "
				      "signature) and 'secret'");
		return -EINVAL;
	}
	if (algorithm && !streq(algorithm, "sha256")) {
		*reterr_msg = xasprintf("verify.hmac.algorithm: '%s' is not supported (sha256)",
					algorithm);
		return -EINVAL;
	}
	for (const char *c = header; *c; c++)
		if (*c >= 'A' && *c <= 'Z') {
			*reterr_msg =
				xasprintf("verify.hmac.header: write '%s' in lower case", header);
			return -EINVAL;
		}
	v->hmac = true;
	v->hmac_header = header;
	return parse_secret(cJSON_GetObjectItemCaseSensitive(hmac, "secret"), "verify.hmac.secret",
			    &v->hmac_secret, reterr_msg);
}

static int parse_cidr(const char *text, struct webhook_cidr *ret)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *slash = strchr(copy, '/');
	int max, prefix;
	char *end;

	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, copy, ret->address) == 1) {
		ret->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, copy, ret->address) == 1) {
		ret->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	prefix = max;
	if (slash) {
		errno = 0;
		long p = strtol(slash + 1, &end, 10);

		if (errno || *end || end == slash + 1 || p < 0 || p > max)
			return -EINVAL;
		prefix = (int)p;
	}
	ret->prefix = prefix;
	return 0;
}

static int parse_allow(const cJSON *list, struct webhooks_verify *v, char **reterr_msg)
{
	const cJSON *item;

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0 ||
	    cJSON_GetArraySize(list) > WEBHOOKS_MAX_ALLOW) {
		*reterr_msg = xasprintf("verify.ip_allow: a list of 1 to %d addresses or CIDR "
					"ranges",
					WEBHOOKS_MAX_ALLOW);
		return -EINVAL;
	}
	v->allow = xcalloc((size_t)cJSON_GetArraySize(list), sizeof(*v->allow));
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsString(item) ||
		    parse_cidr(item->valuestring, &v->allow[v->allow_count])) {
			*reterr_msg =
				xasprintf("verify.ip_allow: '%s' is not an address or a CIDR "
					  "range (10.0.0.0/8, ::1)",
					  cJSON_IsString(item) ? item->valuestring : "(not text)");
			return -EINVAL;
		}
		v->allow_count++;
	}
	return 0;
}

int webhooks_verify_parse(const cJSON *verify, struct webhooks_verify *ret, char **reterr_msg)
{
	static const char *const keys[] = { "hmac", "basic", "ip_allow", NULL };
	const cJSON *item, *basic;
	int r = 0;

	*ret = (struct webhooks_verify){ 0 };
	if (!verify || cJSON_IsNull(verify))
		return 0;
	if (!cJSON_IsObject(verify)) {
		*reterr_msg = xstrdup("verify: expected a map of hmac, basic and/or ip_allow");
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, verify) {
		bool known = false;

		for (size_t i = 0; keys[i]; i++)
			known |= streq(item->string, keys[i]);
		if (!known) {
			*reterr_msg = xasprintf("verify: unknown key '%s' (hmac, basic, ip_allow)",
						item->string);
			return -EINVAL;
		}
	}
	item = cJSON_GetObjectItemCaseSensitive(verify, "hmac");
	if (item)
		r = parse_hmac(item, ret, reterr_msg);
	basic = cJSON_GetObjectItemCaseSensitive(verify, "basic");
	if (r == 0 && basic) {
		ret->basic = true;
		ret->basic_user = json_get_string(basic, "user");
		if (!ret->basic_user || !*ret->basic_user || strchr(ret->basic_user, ':')) {
			*reterr_msg = xstrdup("verify.basic: needs 'user' (without ':') and "
					      "'password'");
			r = -EINVAL;
		} else {
			r = parse_secret(cJSON_GetObjectItemCaseSensitive(basic, "password"),
					 "verify.basic.password", &ret->basic_password, reterr_msg);
		}
	}
	item = cJSON_GetObjectItemCaseSensitive(verify, "ip_allow");
	if (r == 0 && item)
		r = parse_allow(item, ret, reterr_msg);
	if (r < 0)
		webhooks_verify_done(ret);
	return r;
}

void webhooks_verify_done(struct webhooks_verify *v)
{
	free(v->allow);
	*v = (struct webhooks_verify){ 0 };
}

static bool prefix_matches(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

bool webhooks_verify_address(const struct webhooks_verify *v, const char *address)
{
	unsigned char a4[4], a6[16];
	bool is4 = inet_pton(AF_INET, address, a4) == 1;
	bool is6 = !is4 && inet_pton(AF_INET6, address, a6) == 1;

	if (!v->allow_count)
		return true;
	/* An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d. */
	if (is6 && !memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memcpy(a4, a6 + 12, 4);
		is4 = true;
	}
	for (size_t i = 0; i < v->allow_count; i++) {
		const struct webhook_cidr *c = &v->allow[i];

		if (c->family == AF_INET && is4 && prefix_matches(c->address, a4, c->prefix))
			return true;
		if (c->family == AF_INET6 && is6 && prefix_matches(c->address, a6, c->prefix))
			return true;
	}
	return false;
}

/* The header's digest, from 64 hex digits or 44 base64 characters. */
static bool decode_digest(const char *text, unsigned char out[32])
{
	size_t len = strlen(text);

	if (len == 64) {
		for (size_t i = 0; i < 32; i++) {
			int hi = hex_digit_value(text[2 * i]),
			    lo = hex_digit_value(text[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return false;
			out[i] = (unsigned char)(hi << 4 | lo);
		}
		return true;
	}
	if (len == 44) {
		unsigned char buf[33];

		return EVP_DecodeBlock(buf, (const unsigned char *)text, 44) == 33 &&
		       text[43] == '=' && (memcpy(out, buf, 32), true);
	}
	return false;
}

bool webhooks_verify_hmac_header(const char *header, const unsigned char digest[32])
{
	unsigned char claimed[32];

	if (!header)
		return false;
	while (*header == ' ')
		header++;
	if (!strncasecmp(header, "sha256=", 7))
		header += 7;
	if (!decode_digest(header, claimed))
		return false;
	return CRYPTO_memcmp(claimed, digest, 32) == 0;
}

bool webhooks_verify_basic(const char *authorization, const char *user, const char *password)
{
	_cleanup_free_ char *expected = NULL;
	_cleanup_free_ unsigned char *encoded = NULL;
	size_t want, got;
	bool same;

	if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0)
		return false;
	authorization += 6;
	expected = xasprintf("%s:%s", user, password);
	encoded = xmalloc(4 * ((strlen(expected) + 2) / 3) + 1);
	want = (size_t)EVP_EncodeBlock(encoded, (const unsigned char *)expected,
				       (int)strlen(expected));
	got = strlen(authorization);
	/* Compare in time that depends on the expected length only. */
	same = got == want && CRYPTO_memcmp(encoded, authorization, want) == 0;
	OPENSSL_cleanse(expected, strlen(expected));
	return same;
}
