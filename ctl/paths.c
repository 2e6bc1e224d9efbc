/* SPDX-License-Identifier: MIT */
/*
 * Where scenarioctl finds the store, the scenarios, the connections and the
 * daemon: option, else environment, else the defaults of cli.md (system
 * paths for root, XDG paths for everyone else).
 */
#include "ctl/ctl.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

#define SYSTEM_SOCKET "/run/scenariod/control.sock"

static const char *user_dir(struct ctl *ctl, int slot, const char *xdg, const char *fallback,
			    const char *leaf)
{
	const char *base = getenv(xdg);
	const char *home = getenv("HOME");

	if (base && *base)
		ctl->owned[slot] = xasprintf("%s/%s", base, leaf);
	else
		ctl->owned[slot] = xasprintf("%s/%s/%s", home ? home : ".", fallback, leaf);
	return ctl->owned[slot];
}

static const char *pick(const char *option, const char *env)
{
	const char *value = getenv(env);

	if (option)
		return option;
	return value && *value ? value : NULL;
}

void ctl_paths_resolve(struct ctl *ctl)
{
	bool root = geteuid() == 0;
	const char *state_directory = getenv("STATE_DIRECTORY");

	ctl->state_dir = pick(ctl->state_dir, "SCENARIOD_STATE_DIR");
	if (!ctl->state_dir)
		ctl->state_dir =
			root ? (state_directory ? state_directory : "/var/lib/scenariod") :
			       user_dir(ctl, 0, "XDG_STATE_HOME", ".local/state", "scenariod");
	ctl->scenarios = pick(ctl->scenarios, "SCENARIOD_SCENARIOS");
	if (!ctl->scenarios)
		ctl->scenarios = root ? "/etc/scenariod/scenarios" :
					user_dir(ctl, 1, "XDG_CONFIG_HOME", ".config",
						 "scenariod/scenarios");
	ctl->connections = pick(ctl->connections, "SCENARIOD_CONNECTIONS");
	if (!ctl->connections)
		ctl->connections = root ? "/etc/scenariod/connections.yaml" :
					  user_dir(ctl, 2, "XDG_CONFIG_HOME", ".config",
						   "scenariod/connections.yaml");
	ctl->socket = pick(ctl->socket, "SCENARIOD_SOCKET");
	if (ctl->socket)
		return;
	ctl->socket = root ? SYSTEM_SOCKET :
			     user_dir(ctl, 3, "XDG_RUNTIME_DIR", ".cache", "scenariod.sock");
	/* A member of the scenariod group talks to the system's daemon when
	 * no daemon of their own runs. */
	if (!root && access(ctl->socket, F_OK) < 0 && access(SYSTEM_SOCKET, F_OK) == 0)
		ctl->socket = SYSTEM_SOCKET;
}

void ctl_done(struct ctl *ctl)
{
	for (size_t i = 0; i < ELEMENTSOF(ctl->owned); i++)
		free(ctl->owned[i]);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

char *ctl_scenario_path(const struct ctl *ctl, const char *file_or_name)
{
	if (strchr(file_or_name, '/') || ends_with(file_or_name, ".yaml") ||
	    ends_with(file_or_name, ".yml"))
		return xstrdup(file_or_name);
	return xasprintf("%s/%s.yaml", ctl->scenarios, file_or_name);
}
