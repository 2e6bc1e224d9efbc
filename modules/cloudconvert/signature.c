/* SPDX-License-Identifier: MIT */
/*
 * The CloudConvert-Signature of webhook deliveries (cloudconvert-api.md §8):
 * lowercase hex HMAC-SHA256 of the raw body bytes, keyed with the
 * webhook's signing secret. The daemon's listener checks it before it
 * parses anything, since re-serialising a parsed body changes the bytes
 * (node#65). The comparison is constant time, unlike most SDKs'.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "modules/cloudconvert/cloudconvert.h"

int cc_signature_compute(const char *secret, const void *body, size_t len, char *ret_hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (!secret || !*secret || (!body && len))
		return -EINVAL;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), body ? body : (const void *)"", len,
		  mac, &mac_len) ||
	    mac_len * 2 != CC_SIGNATURE_HEX_LEN)
		return -EIO;
	for (unsigned int i = 0; i < mac_len; i++) {
		ret_hex[2 * i] = digits[mac[i] >> 4];
		ret_hex[2 * i + 1] = digits[mac[i] & 0xf];
	}
	ret_hex[CC_SIGNATURE_HEX_LEN] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

bool cc_signature_verify(const char *secret, const void *body, size_t len, const char *header)
{
	char expected[CC_SIGNATURE_HEX_LEN + 1], given[CC_SIGNATURE_HEX_LEN + 1];
	size_t n;
	bool ok;

	if (!header)
		return false;
	while (isspace((unsigned char)*header))
		header++;
	n = strlen(header);
	while (n > 0 && isspace((unsigned char)header[n - 1]))
		n--;
	/* The length is public (always 64), so checking it first leaks nothing. */
	if (n != CC_SIGNATURE_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		given[i] = (char)tolower((unsigned char)header[i]);
	given[n] = '\0';
	if (cc_signature_compute(secret, body, len, expected) < 0)
		return false;
	ok = CRYPTO_memcmp(expected, given, CC_SIGNATURE_HEX_LEN) == 0;
	OPENSSL_cleanse(expected, sizeof(expected));
	return ok;
}
