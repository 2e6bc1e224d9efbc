/* SPDX-License-Identifier: MIT */
/*
 * A connection as a module sees it: the resolved settings of one entry of
 * the connections file (scenario-format.md "Connections"), loaded by
 * scenarios/connections.c and handed to a module run as run->connection.
 *
 * Secrets (api_key, webhook_signing_secret) live only here, in memory: they
 * are read from a systemd credential, a file or the environment when the
 * file is loaded, wiped with explicit_bzero() when the connection is freed,
 * and never printed, logged or stored. A module puts api_key into an
 * Authorization header flagged HTTP_HEADER_SECRET and nowhere else.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Retries of idempotent calls: capped exponential backoff with jitter. The
 * production defaults suit the live API; tests shorten them through the
 * connection's `retry:` setting. */
#define CONNECTION_RETRY_BASE_MS 1000
#define CONNECTION_RETRY_CAP_MS 30000
#define CONNECTION_RETRY_ATTEMPTS 6

struct connection_retry {
	int64_t base_ms; /* first delay */
	int64_t cap_ms; /* longest delay */
	int attempts; /* tries of one call in all, the first included (>= 1) */
};

struct connection {
	char *name; /* owned: the key in the connections file */
	char *app; /* owned: "cloudconvert" */
	char *file; /* owned: the connections file, for messages; may be NULL */
	int line; /* where the entry starts in `file`; 0 when not from a file */
	int column;

	/* Why the connection cannot be used, for an InvalidConfigurationError
	 * (a secret that cannot be read, a name the file does not define);
	 * owned; NULL when it is usable. Never holds a secret. */
	char *problem;

	char *api_key; /* owned, secret; NULL when problem is set */
	char *webhook_signing_secret; /* owned, secret; may be NULL */
	bool sandbox;
	char *base_url; /* owned: "https://api.cloudconvert.com" (scheme, host, port,
			 * optional path; never a trailing '/' or "/v2") */
	char *sync_url; /* owned: the sync host, same form */
	struct connection_retry retry;
};
