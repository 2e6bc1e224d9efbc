/* SPDX-License-Identifier: MIT */
/*
 * scenariod: the daemon (docs/cli.md "scenariod", docs/operations.md).
 * This file reads the options and sets up logging; daemon.c does the rest.
 *
 * Exit codes: 0 stopped cleanly; 64 usage; 65 invalid connections file or a
 * store written by a newer scenariod; 73 cannot create the state directory,
 * the store or the control socket; 75 another scenariod runs on the state
 * directory.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon/daemon.h"
#include "store/store.h"
#include "util/xalloc.h"

static void help(FILE *out)
{
	fprintf(out,
		"Usage: scenariod [OPTIONS]\n\n"
		"Runs the scenarios of a folder on their schedules, retries incomplete\n"
		"executions, and answers scenarioctl on its control socket.\n\n"
		"Options (and their environment variables):\n"
		"  --state-dir DIR         store and blobs (SCENARIOD_STATE_DIR, $STATE_DIRECTORY)\n"
		"  --scenarios DIR         scenario folder (SCENARIOD_SCENARIOS)\n"
		"  --connections FILE      connections file (SCENARIOD_CONNECTIONS)\n"
		"  --socket PATH           control socket (SCENARIOD_SOCKET, $RUNTIME_DIRECTORY)\n"
		"  --listen ADDR:PORT      HTTP listener for webhooks (SCENARIOD_LISTEN)\n"
		"  --public-url URL        address CloudConvert calls back (SCENARIOD_PUBLIC_URL)\n"
		"  --workers N             runs in flight at most (SCENARIOD_WORKERS)\n"
		"  --instant-runs N        runs of one webhook scenario at once "
		"(SCENARIOD_INSTANT_RUNS, 4)\n"
		"  --stop-timeout D        SIGTERM waits this long for safe points "
		"(SCENARIOD_STOP_TIMEOUT, 30s)\n"
		"  --retry-backoff LIST    delays of automatic attempts, e.g. '1m, 10m, 3h'\n"
		"                          (SCENARIOD_RETRY_BACKOFF)\n"
		"  --log-level LEVEL       error, warning, notice, info, debug (SCENARIOD_LOG_LEVEL)\n"
		"  --version               print the version\n"
		"  -h, --help              this text\n");
}

/* Timestamps only on a terminal: journald stamps every line itself. */
static void set_up_logging(const struct daemon_config *config)
{
	log_set_level(config->log_level);
	log_set_timestamps(isatty(STDERR_FILENO) && !getenv("JOURNAL_STREAM"));
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "state-dir", required_argument, NULL, 'S' },
		{ "scenarios", required_argument, NULL, 'D' },
		{ "connections", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 'K' },
		{ "listen", required_argument, NULL, 'L' },
		{ "public-url", required_argument, NULL, 'P' },
		{ "workers", required_argument, NULL, 'w' },
		{ "instant-runs", required_argument, NULL, 'i' },
		{ "stop-timeout", required_argument, NULL, 't' },
		{ "retry-backoff", required_argument, NULL, 'b' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon_config config = { .stop_timeout_ms = -1 };
	_cleanup_free_ char *message = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		const char *key = NULL;

		switch (c) {
		case 'S':
			config.state_dir = optarg;
			break;
		case 'D':
			config.scenarios_dir = optarg;
			break;
		case 'C':
			config.connections = optarg;
			break;
		case 'K':
			config.socket_path = optarg;
			break;
		case 'L':
			config.listen = optarg;
			break;
		case 'P':
			config.public_url = optarg;
			break;
		case 'w':
			key = "workers";
			break;
		case 'i':
			key = "instant-runs";
			break;
		case 't':
			key = "stop-timeout";
			break;
		case 'b':
			key = "retry-backoff";
			break;
		case 'l':
			key = "log-level";
			break;
		case 'V':
			printf("scenariod %s (store schema %d)\n", PACKAGE_VERSION,
			       store_schema_version());
			return 0;
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return 64;
		}
		if (key && daemon_config_set(&config, key, optarg, &message) < 0) {
			fprintf(stderr, "scenariod: %s\n", message);
			return 64;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "scenariod: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 64;
	}
	if (daemon_config_complete(&config, &message) < 0) {
		fprintf(stderr, "scenariod: %s\n", message);
		daemon_config_done(&config);
		return 64;
	}
	set_up_logging(&config);
	/* A control client that hangs up must not kill the daemon mid-write. */
	signal(SIGPIPE, SIG_IGN);
	r = daemon_main(&config);
	daemon_config_done(&config);
	if (r < 0) {
		/* Runs that would not stop are left for the next start's
		 * recovery; their memory goes with the process. */
		fflush(stderr);
		_exit(0);
	}
	return r;
}
