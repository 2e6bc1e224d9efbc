/* SPDX-License-Identifier: MIT */
/*
 * `scenarioctl run FILE|NAME`: runs a scenario once in this process, now,
 * whatever its schedule, with the same engine and store the daemon uses.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/engine.h"
#include "scenarios/executor.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/xalloc.h"

static void help(void)
{
	printf("Usage: scenarioctl run [--json] [--force] FILE|NAME\n\n"
	       "Runs the scenario once, now, in this process, and prints the execution's\n"
	       "id, status and a per-module summary. A NAME is looked up in the scenarios\n"
	       "folder. Exit codes: 0 success (or warning), 1 error, 3 stored as incomplete,\n"
	       "65 invalid scenario, 70 internal error, 75 held: a sequential scenario\n"
	       "has unresolved incomplete executions (--force runs it anyway). A sequential\n"
	       "scenario also waits while an earlier run of it (from any process) runs.\n");
}

/* Running by hand works whatever the scenario's state (Fusion's "Run once"),
 * but a person should know the schedule is off. */
static void warn_if_disabled(struct engine *engine, const struct scenario *scenario)
{
	struct store_scenario_state state;

	if (store_scenario_get(engine->store, scenario->name, &state) < 0)
		return;
	if (!state.enabled)
		fprintf(stderr,
			"scenarioctl: note: scenario '%s' is disabled (%s); running it once anyway "
			"('scenarioctl enable %s' turns it back on)\n",
			scenario->name, state.disabled_reason ? state.disabled_reason : "by hand",
			scenario->name);
	store_scenario_state_done(&state);
}

int cmd_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_free_ char *path = NULL;
	struct scenario *scenario = NULL;
	struct ctl_engine e;
	bool force = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			help();
			return EXIT_OK;
		}
		if (c == 'j') {
			ctl->json = true;
			continue;
		}
		if (c == 'f') {
			force = true;
			continue;
		}
		return EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "scenarioctl run: name one scenario file or name\n");
		return EXIT_USAGE;
	}
	path = ctl_scenario_path(ctl, argv[optind]);
	if (ctl_load_scenario(path, &scenario) < 0)
		return EXIT_INVALID;
	r = ctl_open_engine(ctl, &e);
	if (r != EXIT_OK) {
		scenario_free(scenario);
		return r;
	}
	warn_if_disabled(e.engine, scenario);
	r = ctl_execute(ctl, &e, scenario, force, NULL);
	ctl_close_engine(&e);
	scenario_free(scenario);
	return r;
}
