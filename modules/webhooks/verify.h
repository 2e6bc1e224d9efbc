/* SPDX-License-Identifier: MIT */
/*
 * webhooks.custom's `verify`: how a custom webhook checks its callers
 * before anything is queued (docs/modules.md). Parsed here, for the
 * module's validation at load and for the daemon's HTTP front, which
 * resolves the secrets and applies the checks to each request. Secrets are
 * only ever references ({credential: NAME}, {env: NAME}): a scenario file,
 * whose text is kept in the store, never holds one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct webhook_secret_ref {
	const char *source; /* "credential" or "env" (borrowed from the cJSON) */
	const char *name; /* borrowed from the cJSON */
};

struct webhook_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char address[16];
	int prefix; /* bits */
};

struct webhooks_verify {
	bool hmac; /* an HMAC-SHA256 of the raw body in a header */
	const char *hmac_header; /* borrowed; lower case */
	struct webhook_secret_ref hmac_secret;
	bool basic; /* HTTP basic authentication */
	const char *basic_user; /* borrowed */
	struct webhook_secret_ref basic_password;
	struct webhook_cidr *allow; /* owned; NULL: any address */
	size_t allow_count;
};

#define WEBHOOKS_MAX_ALLOW 256 /* entries of ip_allow */

/* Parses `verify` (NULL: nothing to check) into `ret`, borrowing strings
 * from it (it must outlive `ret`). -EINVAL with a message naming the key
 * (caller frees). */
int webhooks_verify_parse(const cJSON *verify, struct webhooks_verify *ret, char **reterr_msg);
void webhooks_verify_done(struct webhooks_verify *verify);
/* Whether `address` ("127.0.0.1", "::1", "::ffff:10.0.0.1") is allowed. */
bool webhooks_verify_address(const struct webhooks_verify *verify, const char *address);
/* Whether `header` carries the HMAC-SHA256 `digest` (32 bytes) of the body:
 * lowercase or uppercase hex, or base64, optionally after "sha256=";
 * compared in constant time. */
bool webhooks_verify_hmac_header(const char *header, const unsigned char digest[32]);
/* Whether an Authorization header carries `user` and `password` (basic),
 * compared in constant time. */
bool webhooks_verify_basic(const char *authorization, const char *user, const char *password);
