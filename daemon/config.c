/* SPDX-License-Identifier: MIT */
/*
 * scenariod's configuration: command-line options first, then SCENARIOD_*
 * variables, then the directories systemd hands a service
 * (STATE_DIRECTORY, RUNTIME_DIRECTORY, CONFIGURATION_DIRECTORY), then the
 * defaults of docs/cli.md for root and for everyone else.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/units.h"
#include "util/xalloc.h"

#define MAX_STOP_TIMEOUT_MS ((int64_t)3600 * 1000)

static const char *owned(struct daemon_config *c, char *value)
{
	for (size_t i = 0; i < ELEMENTSOF(c->owned); i++)
		if (!c->owned[i])
			return c->owned[i] = value;
	abort(); /* more defaults than slots: a programming error */
}

/* systemd passes a colon-separated list when a unit names several
 * directories; scenariod uses the first. */
static const char *first_dir(struct daemon_config *c, const char *name, const char *leaf)
{
	const char *value = getenv(name);
	size_t len;

	if (!value || !*value)
		return NULL;
	len = strcspn(value, ":");
	return owned(c, leaf ? xasprintf("%.*s/%s", (int)len, value, leaf) :
			       xasprintf("%.*s", (int)len, value));
}

static const char *env(const char *name)
{
	const char *value = getenv(name);

	return value && *value ? value : NULL;
}

static const char *user_dir(struct daemon_config *c, const char *xdg, const char *fallback,
			    const char *leaf)
{
	const char *base = env(xdg);
	const char *home = env("HOME");

	if (base)
		return owned(c, xasprintf("%s/%s", base, leaf));
	return owned(c, xasprintf("%s/%s/%s", home ? home : ".", fallback, leaf));
}

int daemon_config_set(struct daemon_config *c, const char *key, const char *value,
		      char **reterr_msg)
{
	int64_t n;
	char *end;

	if (streq(key, "workers")) {
		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno || *end || end == value || n < 1 || n > DAEMON_MAX_WORKERS) {
			*reterr_msg = xasprintf("--workers: '%s' is not a number from 1 to %d",
						value, DAEMON_MAX_WORKERS);
			return -EINVAL;
		}
		c->workers = (int)n;
		return 0;
	}
	if (streq(key, "instant-runs")) {
		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno || *end || end == value || n < 1 || n > DAEMON_MAX_WORKERS) {
			*reterr_msg = xasprintf("--instant-runs: '%s' is not a number from 1 to %d",
						value, DAEMON_MAX_WORKERS);
			return -EINVAL;
		}
		c->instant_runs = (int)n;
		return 0;
	}
	if (streq(key, "stop-timeout")) {
		if (units_parse_duration(value, &n) < 0 || n < 0 || n > MAX_STOP_TIMEOUT_MS) {
			*reterr_msg = xasprintf("--stop-timeout: '%s' is not a duration from 0s "
						"to 1h",
						value);
			return -EINVAL;
		}
		c->stop_timeout_ms = n;
		return 0;
	}
	if (streq(key, "retry-backoff")) {
		_cleanup_free_ char *why = NULL;

		if (runner_config_parse_backoff(&c->runner, value, &why) < 0) {
			*reterr_msg = xasprintf("--retry-backoff: %s", why);
			return -EINVAL;
		}
		return 0;
	}
	if (streq(key, "log-level")) {
		int level = log_level_from_string(value);

		if (level < 0) {
			*reterr_msg = xasprintf("--log-level: '%s' is not one of error, warning, "
						"notice, info, debug",
						value);
			return -EINVAL;
		}
		c->log_level = level;
		return 0;
	}
	*reterr_msg = xasprintf("unknown setting '%s'", key);
	return -EINVAL;
}

/* Runs mostly wait on the network (CloudConvert jobs take seconds to
 * minutes), so several per core keep the machine busy without crowding
 * it. */
static int default_workers(void)
{
	unsigned cpus = uv_available_parallelism();
	unsigned workers = 4 * (cpus ? cpus : 1);

	return (int)(workers < 4 ? 4 : workers > 64 ? 64 : workers);
}

/* The numeric settings from SCENARIOD_* when no option set them. */
/* The address CloudConvert calls back: http(s)://host[:port][/path],
 * without a query, a fragment or a trailing slash (the daemon appends
 * /webhooks/...). */
static int complete_public_url(struct daemon_config *c, char **reterr_msg)
{
	const char *url = c->public_url, *host;
	size_t len = strlen(url);

	host = !strncmp(url, "https://", 8) ? url + 8 :
	       !strncmp(url, "http://", 7)  ? url + 7 :
					      NULL;
	if (!host || !*host || *host == '/' || len > 2000 || strpbrk(url, "?# \t\r\n")) {
		*reterr_msg =
			xasprintf("--public-url: '%s' is not an http:// or https:// URL "
				  "without a query (e.g. https://hooks.example.com/scenariod)",
				  url);
		return -EINVAL;
	}
	while (len > 0 && url[len - 1] == '/')
		len--;
	c->public_url = owned(c, xstrndup(url, len));
	return 0;
}

static int complete_numbers(struct daemon_config *c, char **reterr_msg)
{
	static const struct {
		const char *variable;
		const char *key;
	} numbers[] = {
		{ "SCENARIOD_WORKERS", "workers" },
		{ "SCENARIOD_INSTANT_RUNS", "instant-runs" },
		{ "SCENARIOD_STOP_TIMEOUT", "stop-timeout" },
		{ "SCENARIOD_RETRY_BACKOFF", "retry-backoff" },
		{ "SCENARIOD_LOG_LEVEL", "log-level" },
	};
	bool unset[] = { c->workers == 0, c->instant_runs == 0, c->stop_timeout_ms < 0,
			 c->runner.backoff_count == 0, c->log_level == 0 };
	int r;

	for (size_t i = 0; i < ELEMENTSOF(numbers); i++) {
		const char *value = env(numbers[i].variable);

		if (!unset[i] || !value)
			continue;
		r = daemon_config_set(c, numbers[i].key, value, reterr_msg);
		if (r < 0)
			return r;
	}
	if (c->workers == 0)
		c->workers = default_workers();
	/* Webhook runs of one scenario at once: enough to keep callers moving,
	 * few enough that one busy webhook cannot take every worker. */
	if (c->instant_runs == 0)
		c->instant_runs = c->workers < 4 ? c->workers : 4;
	if (c->stop_timeout_ms < 0)
		c->stop_timeout_ms = 30 * 1000;
	if (c->log_level == 0)
		c->log_level = LOG_LEVEL_INFO;
	return 0;
}

int daemon_config_complete(struct daemon_config *c, char **reterr_msg)
{
	bool root = geteuid() == 0;

	if (!c->state_dir)
		c->state_dir = env("SCENARIOD_STATE_DIR");
	if (!c->state_dir)
		c->state_dir = first_dir(c, "STATE_DIRECTORY", NULL);
	if (!c->state_dir)
		c->state_dir = root ? "/var/lib/scenariod" :
				      user_dir(c, "XDG_STATE_HOME", ".local/state", "scenariod");
	if (!c->scenarios_dir)
		c->scenarios_dir = env("SCENARIOD_SCENARIOS");
	if (!c->scenarios_dir)
		c->scenarios_dir = first_dir(c, "CONFIGURATION_DIRECTORY", "scenarios");
	if (!c->scenarios_dir)
		c->scenarios_dir =
			root ? "/etc/scenariod/scenarios" :
			       user_dir(c, "XDG_CONFIG_HOME", ".config", "scenariod/scenarios");
	if (!c->connections)
		c->connections = env("SCENARIOD_CONNECTIONS");
	if (!c->connections)
		c->connections = first_dir(c, "CONFIGURATION_DIRECTORY", "connections.yaml");
	if (!c->connections)
		c->connections = root ? "/etc/scenariod/connections.yaml" :
					user_dir(c, "XDG_CONFIG_HOME", ".config",
						 "scenariod/connections.yaml");
	if (!c->socket_path)
		c->socket_path = env("SCENARIOD_SOCKET");
	if (!c->socket_path)
		c->socket_path = first_dir(c, "RUNTIME_DIRECTORY", "control.sock");
	if (!c->socket_path)
		c->socket_path = root ? "/run/scenariod/control.sock" :
					user_dir(c, "XDG_RUNTIME_DIR", ".cache", "scenariod.sock");
	if (!c->listen)
		c->listen = env("SCENARIOD_LISTEN");
	if (!c->public_url)
		c->public_url = env("SCENARIOD_PUBLIC_URL");
	if (c->public_url && complete_public_url(c, reterr_msg) < 0)
		return -EINVAL;
	return complete_numbers(c, reterr_msg);
}

void daemon_config_done(struct daemon_config *c)
{
	for (size_t i = 0; i < ELEMENTSOF(c->owned); i++)
		free(c->owned[i]);
}
