/* SPDX-License-Identifier: MIT */
/*
 * Loading the connections file into struct connection (modules/connection.h):
 * the YAML tree is walked entry by entry, each key checked against the ones
 * its app takes, and secrets are read from where the entry says, a systemd
 * credential ($CREDENTIALS_DIRECTORY/NAME), a file or an environment
 * variable, never from the file itself. The hosts are resolved here too
 * (live, sandbox, a region, or overrides such as the local fake), so a
 * module only joins a base URL and a path.
 *
 * Secret bytes pass through two places: the buffer they are read into and
 * the connection that keeps them. Both are wiped with explicit_bzero().
 */
#include "scenarios/connections.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/connection.h"
#include "util/diag.h"
#include "util/units.h"
#include "util/xalloc.h"
#include "util/yaml.h"

#define MAX_NAME 64
#define MAX_ATTEMPTS 20
#define MAX_DELAY_MS (10 * 60 * 1000)

struct connections {
	char *path; /* owned: the file, for messages; may be NULL */
	struct connection **items; /* owned */
	size_t count, capacity;
	struct connection **absent; /* owned: stand-ins for names the file lacks */
	size_t n_absent, absent_capacity;
};

/* What loading one file needs at hand. */
struct loading {
	const char *file;
	struct diag_list *diags;
	int errors;
};

static void error_at(struct loading *l, const struct yaml_node *at, const char *fmt, ...)
	_printf_(3, 4);
static void error_at(struct loading *l, const struct yaml_node *at, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(l->diags, l->file, at ? at->line : 0, at ? at->column : 0, "%s", msg);
	l->errors++;
}

static void wipe_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static struct connection *connection_free(struct connection *c)
{
	if (!c)
		return NULL;
	wipe_free(c->api_key);
	wipe_free(c->webhook_signing_secret);
	free(c->name);
	free(c->app);
	free(c->file);
	free(c->problem);
	free(c->base_url);
	free(c->sync_url);
	free(c);
	return NULL;
}

struct connections *connections_new_empty(const char *path)
{
	struct connections *set = xcalloc(1, sizeof(*set));

	set->path = path ? xstrdup(path) : NULL;
	return set;
}

struct connections *connections_free(struct connections *set)
{
	if (!set)
		return NULL;
	for (size_t i = 0; i < set->count; i++)
		connection_free(set->items[i]);
	for (size_t i = 0; i < set->n_absent; i++)
		connection_free(set->absent[i]);
	free(set->items);
	free(set->absent);
	free(set->path);
	free(set);
	return NULL;
}

const struct connection *connections_get(const struct connections *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->count; i++)
		if (streq(set->items[i]->name, name))
			return set->items[i];
	return NULL;
}

size_t connections_count(const struct connections *set)
{
	return set ? set->count : 0;
}

const struct connection *connections_lookup(void *userdata, const char *name)
{
	struct connections *set = userdata;
	const struct connection *found = connections_get(set, name);
	struct connection *c;
	struct stat st;

	if (found || !set || !name)
		return found;
	for (size_t i = 0; i < set->n_absent; i++)
		if (streq(set->absent[i]->name, name))
			return set->absent[i];
	c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(name);
	c->file = set->path ? xstrdup(set->path) : NULL;
	if (!set->path)
		c->problem =
			xasprintf("connection '%s' is not defined (no connections file)", name);
	else if (stat(set->path, &st) < 0)
		c->problem = xasprintf("connection '%s' is not defined: the connections file '%s' "
				       "does not exist",
				       name, set->path);
	else
		c->problem = xasprintf("connection '%s' is not defined in '%s'", name, set->path);
	set->absent =
		xgrow(set->absent, &set->absent_capacity, set->n_absent + 1, sizeof(*set->absent));
	set->absent[set->n_absent++] = c;
	return c;
}

int connections_url_normalize(const char *text, char **ret)
{
	_cleanup_free_ char *url = NULL;
	const char *host, *end;
	size_t len;

	if (!text || strlen(text) > CONNECTION_MAX_URL)
		return -EINVAL;
	if (strncmp(text, "https://", 8) == 0)
		host = text + 8;
	else if (strncmp(text, "http://", 7) == 0)
		host = text + 7;
	else
		return -EINVAL;
	end = host + strcspn(host, "/");
	if (end == host || *host == ':')
		return -EINVAL;
	for (const char *p = text; *p; p++)
		if (strchr("?#@ \\", *p) || iscntrl((unsigned char)*p))
			return -EINVAL;

	url = xstrdup(text);
	len = strlen(url);
	for (;;) {
		size_t authority = (size_t)(end - text);

		while (len > authority && url[len - 1] == '/')
			url[--len] = '\0';
		if (len >= authority + 3 && strcmp(url + len - 3, "/v2") == 0) {
			len -= 3;
			url[len] = '\0';
			continue;
		}
		break;
	}
	*ret = TAKE_PTR(url);
	return 0;
}

/* ---- secrets ---- */

/* Reads a small file whole, then drops one trailing newline. The buffer is
 * wiped before it is freed on every path but success. */
static int read_secret_file(const char *path, char **ret)
{
	_cleanup_close_ int fd = -1;
	char *buf;
	ssize_t n;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = xmalloc(CONNECTION_MAX_SECRET + 1);
	for (;;) {
		n = read(fd, buf + len, CONNECTION_MAX_SECRET + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > CONNECTION_MAX_SECRET)
			break;
	}
	if (n < 0 || len > CONNECTION_MAX_SECRET || memchr(buf, '\0', len)) {
		int r = n < 0 ? -errno : len > CONNECTION_MAX_SECRET ? -EFBIG : -EBADMSG;

		explicit_bzero(buf, CONNECTION_MAX_SECRET + 1);
		free(buf);
		return r;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

static char *relative_to(const char *file, const char *path)
{
	const char *slash = file ? strrchr(file, '/') : NULL;

	if (path[0] == '/' || !slash)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - file), file, path);
}

int connections_secret_read(const char *key, const char *source, const char *name,
			    const char *anchor_file, char **ret_secret, char **ret_problem)
{
	_cleanup_free_ char *path = NULL;
	char *secret = NULL;
	const char *dir;
	int r;

	if (streq(source, "credential")) {
		dir = getenv("CREDENTIALS_DIRECTORY");
		if (!dir || !*dir) {
			*ret_problem =
				xasprintf("%s: credential '%s' cannot be read: "
					  "$CREDENTIALS_DIRECTORY is not set (LoadCredential=)",
					  key, name);
			return -ENOENT;
		}
		path = xasprintf("%s/%s", dir, name);
	} else if (streq(source, "file")) {
		path = relative_to(anchor_file, name);
	} else if (streq(source, "env")) {
		const char *v = getenv(name);

		if (!v) {
			*ret_problem =
				xasprintf("%s: environment variable '%s' is not set", key, name);
			return -ENOENT;
		}
		if (strlen(v) > CONNECTION_MAX_SECRET) {
			*ret_problem =
				xasprintf("%s: environment variable '%s' is too long", key, name);
			return -EFBIG;
		}
		secret = xstrdup(v);
	} else {
		*ret_problem = xasprintf("%s: unknown secret source '%s'", key, source);
		return -EINVAL;
	}
	if (path) {
		r = read_secret_file(path, &secret);
		if (r < 0) {
			*ret_problem = xasprintf("%s: cannot read %s '%s': %s", key, source, name,
						 strerror(-r));
			return r;
		}
	}
	if (!*secret || strpbrk(secret, "\r\n")) {
		*ret_problem = xasprintf("%s: the %s '%s' is %s", key,
					 streq(source, "env") ? "environment variable" : source,
					 name, *secret ? "more than one line" : "empty");
		wipe_free(secret);
		return -EBADMSG;
	}
	*ret_secret = secret;
	return 0;
}

/*
 * Resolves {credential: NAME}, {file: PATH} or {env: NAME}. A malformed
 * source is a load error (returns -EINVAL); a source that is well formed
 * but cannot be read now leaves *ret_problem set (returns 0), so the
 * connection loads and fails only where it is used.
 */
static int read_secret(struct loading *l, const char *key, const struct yaml_node *node,
		       char **ret_secret, char **ret_problem)
{
	const struct yaml_node *kind, *value;
	const char *source;

	if (node->kind != YAML_NODE_MAPPING || node->count != 1) {
		error_at(l, node,
			 "%s: write {credential: NAME}, {file: PATH} or {env: NAME}; a secret "
			 "written in this file itself is not accepted",
			 key);
		return -EINVAL;
	}
	kind = node->pairs[0].key;
	value = node->pairs[0].value;
	source = kind->value;
	if (!yaml_node_is_string(value) || !*value->value) {
		error_at(l, value, "%s: '%s' takes a name or a path", key, source);
		return -EINVAL;
	}
	if (streq(source, "credential") &&
	    (strchr(value->value, '/') || streq(value->value, ".") || streq(value->value, ".."))) {
		error_at(l, value, "%s: a credential name is one path segment", key);
		return -EINVAL;
	}
	if (!streq(source, "credential") && !streq(source, "file") && !streq(source, "env")) {
		static const char *const kinds[] = { "credential", "file", "env", NULL };
		const char *hint = diag_did_you_mean(source, kinds);

		error_at(l, kind, "%s: unknown secret source '%s'%s%s%s", key, source,
			 hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		return -EINVAL;
	}
	/* Well formed: one that cannot be read is the connection's problem. */
	(void)connections_secret_read(key, source, value->value, l->file, ret_secret, ret_problem);
	return 0;
}

/* ---- settings ---- */

static int get_bool(struct loading *l, const struct yaml_node *node, const char *key, bool *ret)
{
	if (yaml_node_get_bool(node, ret) < 0) {
		error_at(l, node, "%s: expected true or false", key);
		return -EINVAL;
	}
	return 0;
}

static int get_url(struct loading *l, const struct yaml_node *node, const char *key, char **ret)
{
	if (!yaml_node_is_string(node) || connections_url_normalize(node->value, ret) < 0) {
		error_at(l, node,
			 "%s: expected an http or https URL: scheme, host, optional port "
			 "and path, no query",
			 key);
		return -EINVAL;
	}
	return 0;
}

static int get_duration(struct loading *l, const struct yaml_node *node, const char *key,
			int64_t *ret)
{
	if (!yaml_node_is_string(node) || units_parse_duration(node->value, ret) < 0 || *ret < 1 ||
	    *ret > MAX_DELAY_MS) {
		error_at(l, node, "retry.%s: expected a duration from 1ms to 10m, such as 500ms",
			 key);
		return -EINVAL;
	}
	return 0;
}

static void load_retry(struct loading *l, const struct yaml_node *node, struct connection *c)
{
	static const char *const keys[] = { "base", "cap", "attempts", NULL };

	if (node->kind != YAML_NODE_MAPPING) {
		error_at(l, node,
			 "retry: expected a map such as {base: 1s, cap: 30s, attempts: 6}");
		return;
	}
	for (size_t i = 0; i < node->count; i++) {
		const struct yaml_node *k = node->pairs[i].key, *v = node->pairs[i].value;
		int64_t n;

		if (streq(k->value, "base"))
			get_duration(l, v, "base", &c->retry.base_ms);
		else if (streq(k->value, "cap"))
			get_duration(l, v, "cap", &c->retry.cap_ms);
		else if (streq(k->value, "attempts")) {
			if (yaml_node_get_int(v, &n) < 0 || n < 1 || n > MAX_ATTEMPTS)
				error_at(l, v,
					 "retry.attempts: expected a whole number from 1 to %d",
					 MAX_ATTEMPTS);
			else
				c->retry.attempts = (int)n;
		} else {
			const char *hint = diag_did_you_mean(k->value, keys);

			error_at(l, k, "retry: unknown key '%s'%s%s%s", k->value,
				 hint ? " (did you mean '" : "", hint ? hint : "",
				 hint ? "'?)" : "");
		}
	}
	if (c->retry.base_ms > c->retry.cap_ms)
		error_at(l, node, "retry: base is longer than cap");
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAX_NAME || !isalnum((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

/* Fills in the hosts the entry did not override (cloudconvert-api.md §1). */
static void resolve_hosts(struct loading *l, const struct yaml_node *entry, const char *region,
			  struct connection *c)
{
	if (region && c->sandbox) {
		error_at(l, yaml_node_get(entry, "region"),
			 "region: the sandbox has no regional hosts");
		return;
	}
	if (!c->base_url) {
		if (region)
			c->base_url = xasprintf("https://%s.api.cloudconvert.com", region);
		else
			c->base_url = xstrdup(c->sandbox ? CLOUDCONVERT_SANDBOX_API :
							   CLOUDCONVERT_LIVE_API);
		if (!c->sync_url && region)
			c->sync_url = xasprintf("https://%s.sync.api.cloudconvert.com", region);
		if (!c->sync_url)
			c->sync_url = xstrdup(c->sandbox ? CLOUDCONVERT_SANDBOX_SYNC :
							   CLOUDCONVERT_LIVE_SYNC);
	}
	/* An overridden API host without a sync host: waiting falls back to
	 * polling the API host, which always works. */
	if (!c->sync_url)
		c->sync_url = xstrdup(c->base_url);
}

static bool valid_region(const char *region)
{
	if (!*region || strlen(region) > 32)
		return false;
	for (const char *p = region; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return false;
	return true;
}

static void load_key(struct loading *l, const struct yaml_node *k, const struct yaml_node *v,
		     struct connection *c, const char **region, char **problem)
{
	static const char *const keys[] = { "app",	"api_key", "webhook_signing_secret",
					    "sandbox",	"region",  "base_url",
					    "sync_url", "retry",   NULL };
	const char *key = k->value;

	if (streq(key, "app")) {
		if (!yaml_node_is_string(v) || !streq(v->value, "cloudconvert"))
			error_at(l, v,
				 "app: unknown app '%s' (the apps with connections: "
				 "cloudconvert)",
				 v->kind == YAML_NODE_SCALAR ? v->value : "");
		else
			c->app = xstrdup(v->value);
	} else if (streq(key, "api_key")) {
		read_secret(l, key, v, &c->api_key, problem);
	} else if (streq(key, "webhook_signing_secret")) {
		_cleanup_free_ char *later = NULL;

		/* Only the webhook listener needs it: an unreadable one must not
		 * stop modules that call the API. */
		read_secret(l, key, v, &c->webhook_signing_secret, &later);
	} else if (streq(key, "sandbox")) {
		get_bool(l, v, key, &c->sandbox);
	} else if (streq(key, "region")) {
		if (!yaml_node_is_string(v) || !valid_region(v->value))
			error_at(l, v, "region: expected a region name such as eu-central");
		else
			*region = v->value;
	} else if (streq(key, "base_url")) {
		get_url(l, v, key, &c->base_url);
	} else if (streq(key, "sync_url")) {
		get_url(l, v, key, &c->sync_url);
	} else if (streq(key, "retry")) {
		load_retry(l, v, c);
	} else {
		const char *hint = diag_did_you_mean(key, keys);

		error_at(l, k, "unknown key '%s'%s%s%s", key, hint ? " (did you mean '" : "",
			 hint ? hint : "", hint ? "'?)" : "");
	}
}

static struct connection *load_entry(struct loading *l, const struct yaml_node *name,
				     const struct yaml_node *entry)
{
	struct connection *c = xcalloc(1, sizeof(*c));
	_cleanup_free_ char *problem = NULL;
	const char *region = NULL;
	int errors = l->errors;

	c->name = xstrdup(name->value);
	c->file = l->file ? xstrdup(l->file) : NULL;
	c->line = name->line;
	c->column = name->column;
	c->retry = (struct connection_retry){ CONNECTION_RETRY_BASE_MS, CONNECTION_RETRY_CAP_MS,
					      CONNECTION_RETRY_ATTEMPTS };
	if (!valid_name(name->value))
		error_at(l, name,
			 "connection name '%s': use letters, digits, '.', '_' and '-' "
			 "(at most %d)",
			 name->value, MAX_NAME);
	if (entry->kind != YAML_NODE_MAPPING) {
		error_at(l, entry, "connection '%s': expected a map of settings", name->value);
		return connection_free(c);
	}
	for (size_t i = 0; i < entry->count; i++)
		load_key(l, entry->pairs[i].key, entry->pairs[i].value, c, &region, &problem);
	if (!yaml_node_get(entry, "app"))
		error_at(l, entry, "connection '%s': missing key 'app' (app: cloudconvert)",
			 name->value);
	else if (!yaml_node_get(entry, "api_key"))
		error_at(l, entry, "connection '%s': missing key 'api_key'", name->value);
	resolve_hosts(l, entry, region, c);
	if (l->errors > errors)
		return connection_free(c);
	if (problem) {
		c->problem = xasprintf("connection '%s' (%s:%d:%d): %s", c->name,
				       c->file ? c->file : "-", c->line, c->column, problem);
		wipe_free(TAKE_PTR(c->api_key));
	}
	return c;
}

int connections_load_string(const char *text, size_t len, const char *file,
			    struct connections **ret, struct diag_list *diags)
{
	static const struct yaml_limits limits = {
		.max_size = CONNECTIONS_MAX_FILE_SIZE,
		.max_depth = 8,
		.max_nodes = 16 * CONNECTIONS_MAX,
	};
	_cleanup_yaml_node_ struct yaml_node *root = NULL;
	struct loading l = { .file = file, .diags = diags };
	struct connections *set;
	int r;

	r = yaml_tree_parse(text, len, file, &limits, &root, diags);
	if (r < 0)
		return r;
	l.errors = r;
	set = connections_new_empty(file);
	if (root && yaml_node_is_null(root))
		root = yaml_node_free(root);
	if (root && root->kind != YAML_NODE_MAPPING)
		error_at(&l, root, "expected a map of connection names to their settings");
	else if (root && root->count > CONNECTIONS_MAX)
		error_at(&l, root, "more than %d connections", CONNECTIONS_MAX);
	for (size_t i = 0;
	     root && root->kind == YAML_NODE_MAPPING && i < root->count && i < CONNECTIONS_MAX;
	     i++) {
		struct connection *c = load_entry(&l, root->pairs[i].key, root->pairs[i].value);

		if (!c)
			continue;
		set->items = xgrow(set->items, &set->capacity, set->count + 1, sizeof(*set->items));
		set->items[set->count++] = c;
	}
	if (l.errors > 0) {
		connections_free(set);
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

int connections_load_file(const char *path, struct connections **ret, struct diag_list *diags)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return -ENOENT;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = -errno;

		diag_error(diags, path, 0, 0, "cannot read the connections file: %s", strerror(-r));
		return r;
	}
	if (st.st_size > CONNECTIONS_MAX_FILE_SIZE) {
		diag_error(diags, path, 0, 0, "the file is larger than %d bytes",
			   CONNECTIONS_MAX_FILE_SIZE);
		return -EFBIG;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			diag_error(diags, path, 0, 0, "cannot read the connections file: %s",
				   strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	return connections_load_string(text, len, path, ret, diags);
}
