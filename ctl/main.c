/* SPDX-License-Identifier: MIT */
/*
 * scenarioctl: the tool a person types (cli.md). Global options come before
 * the command; each command parses its own. Commands that need the daemon
 * land with the daemon.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl/ctl.h"
#include "util/log.h"

struct command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "validate", cmd_validate,
	  "check scenario files; report every problem with its position" },
	{ "run", cmd_run, "run a scenario once, now, in this process" },
	{ "executions", cmd_executions, "list executions, newest first" },
	{ "execution", cmd_execution,
	  "show one execution with every operation's input and output" },
	{ "incomplete", cmd_incomplete,
	  "list, show, retry, resolve or delete incomplete executions" },
	{ "scenarios", cmd_scenarios, "list scenarios with their state (enabled, errors)" },
	{ "status", cmd_status, "ask the running daemon for its scenarios and runs" },
	{ "reload", cmd_reload, "ask the running daemon to reload its scenarios" },
	{ "trigger", cmd_trigger, "ask the running daemon to start a run now" },
	{ "enable", cmd_enable, "turn a scenario's schedule on" },
	{ "disable", cmd_disable, "turn a scenario's schedule off" },
	{ NULL, NULL, NULL },
};

static void help(FILE *out)
{
	fprintf(out, "Usage: scenarioctl [OPTIONS] COMMAND [ARGS]\n\n"
		     "Options:\n"
		     "  --state-dir DIR       store and blobs (SCENARIOD_STATE_DIR)\n"
		     "  --scenarios DIR       scenario folder (SCENARIOD_SCENARIOS)\n"
		     "  --connections FILE    connections file (SCENARIOD_CONNECTIONS)\n"
		     "  --socket PATH         the daemon's control socket (SCENARIOD_SOCKET)\n"
		     "  --json                one JSON document on stdout\n"
		     "  -v, --verbose         debug logging on stderr\n"
		     "  --version             print the version\n"
		     "  -h, --help            this text\n\n"
		     "Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out, "\n'scenarioctl COMMAND --help' tells more about each.\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "state-dir", required_argument, NULL, 'S' },
		{ "scenarios", required_argument, NULL, 'D' },
		{ "connections", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 'K' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl ctl = { 0 };
	int c, r;

	/* "+": stop at the command; its own options are parsed by it. */
	while ((c = getopt_long(argc, argv, "+hv", options, NULL)) != -1) {
		switch (c) {
		case 'S':
			ctl.state_dir = optarg;
			break;
		case 'D':
			ctl.scenarios = optarg;
			break;
		case 'C':
			ctl.connections = optarg;
			break;
		case 'K':
			ctl.socket = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'V':
			printf("scenarioctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, argv[optind]) != 0)
			continue;
		ctl_paths_resolve(&ctl);
		/* The command sees its name as argv[0], as getopt expects; optind 0
		 * makes glibc's getopt forget the "+" mode and its own state. */
		argv += optind;
		argc -= optind;
		optind = 0;
		r = cmd->run(&ctl, argc, argv);
		ctl_done(&ctl);
		return r;
	}
	fprintf(stderr, "scenarioctl: unknown command '%s' (see 'scenarioctl --help')\n",
		argv[optind]);
	return EXIT_USAGE;
}
