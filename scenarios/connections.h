/* SPDX-License-Identifier: MIT */
/*
 * The connections file (scenario-format.md "Connections"): named settings
 * and secrets for apps, kept apart from scenarios so that a secret is never
 * in a scenario file, a log line or the store. Loading reports structural
 * problems as FILE:LINE:COL diagnostics; a secret that cannot be read is
 * not a load error but a problem of that one connection, reported as an
 * InvalidConfigurationError by the module that uses it, so one missing
 * credential does not stop scenarios that do not need it.
 */
#pragma once

#include <stddef.h>

struct connection;
struct connections;
struct diag_list;

#define CONNECTIONS_MAX_FILE_SIZE (256 * 1024) /* bytes of YAML */
#define CONNECTIONS_MAX 256 /* entries in one file */
#define CONNECTION_MAX_SECRET (16 * 1024) /* bytes of one secret */
#define CONNECTION_MAX_URL 2048 /* bytes of base_url / sync_url */

/* The hosts of scenario-format.md and cloudconvert-api.md §1. */
#define CLOUDCONVERT_LIVE_API "https://api.cloudconvert.com"
#define CLOUDCONVERT_LIVE_SYNC "https://sync.api.cloudconvert.com"
#define CLOUDCONVERT_SANDBOX_API "https://api.sandbox.cloudconvert.com"
#define CLOUDCONVERT_SANDBOX_SYNC "https://sync.api.sandbox.cloudconvert.com"

/** Loads a connections file. -ENOENT, with no diagnostic, when it does not
 * exist (the caller decides whether that matters); -EINVAL with every
 * problem in `diags`; another negative errno (with a diagnostic) when it
 * cannot be read. */
int connections_load_file(const char *path, struct connections **ret, struct diag_list *diags);
/** The same from text; `file` names it in diagnostics and messages and
 * anchors relative {file: PATH} secrets (may be NULL: the working folder). */
int connections_load_string(const char *text, size_t len, const char *file,
			    struct connections **ret, struct diag_list *diags);
/** No connections: what a run gets when the file `path` does not exist, so
 * that a module needing one can say which file to write. */
struct connections *connections_new_empty(const char *path);
/** Wipes every secret and frees the set; accepts NULL; returns NULL. */
struct connections *connections_free(struct connections *set);

/** The connection named `name`, or NULL when the file does not define it. */
const struct connection *connections_get(const struct connections *set, const char *name);
/** How many connections the set holds. */
size_t connections_count(const struct connections *set);
/** module_env.find_connection: like connections_get(), but a name the file
 * does not define gives a connection whose `problem` says so and names the
 * file; such stand-ins live as long as the set. `userdata` is the set. */
const struct connection *connections_lookup(void *userdata, const char *name);

/** Reads a secret from `source` ("credential": $CREDENTIALS_DIRECTORY/NAME,
 * "file": a path, relative to `anchor_file`'s folder, "env": a variable):
 * one line, one trailing newline dropped. 0 with the secret (caller wipes
 * and frees it), or a negative errno with a message naming `key` that
 * never holds the secret (caller frees). */
int connections_secret_read(const char *key, const char *source, const char *name,
			    const char *anchor_file, char **ret_secret, char **ret_problem);
/** Normalises a base_url/sync_url setting: http or https, a host, an
 * optional port and path, no userinfo, query or fragment; trailing '/'
 * and a trailing "/v2" dropped. -EINVAL when it is not such a URL. */
int connections_url_normalize(const char *text, char **ret);
