/* SPDX-License-Identifier: MIT */
/*
 * `scenarioctl scenarios` (every scenario the store knows, with its state)
 * and `enable NAME` / `disable NAME` (the persisted on/off switch that a
 * run of consecutive errors also turns off).
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

static int only_json_option(struct ctl *ctl, int argc, char **argv, const char *usage)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("%s", usage);
			return 1;
		}
		if (c != 'j')
			return -EINVAL;
		ctl->json = true;
	}
	return 0;
}

int cmd_scenarios(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "SCENARIO", "ENABLED", "ERRORS",
					       "LAST RUN", "REASON",  NULL };
	_cleanup_store_ struct store *store = NULL;
	_cleanup_json_ cJSON *list = NULL;
	const cJSON *s;
	struct table *t;
	int r;

	r = only_json_option(ctl, argc, argv,
			     "Usage: scenarioctl scenarios [--json]\n\n"
			     "Lists every scenario that has run, whether it is enabled, its\n"
			     "consecutive errors and why it was disabled.\n");
	if (r != 0)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind != argc)
		return EXIT_USAGE;
	if (ctl_open_store(ctl, &store) < 0)
		return EXIT_INTERNAL;
	if (store_scenario_list(store, &list) < 0)
		return EXIT_INTERNAL;
	if (ctl->json) {
		ctl_print_json(list);
		return EXIT_OK;
	}
	t = table_new(headers);
	cJSON_ArrayForEach(s, list) {
		_cleanup_free_ char *errors =
			json_to_text(cJSON_GetObjectItem(s, "consecutive_errors"));
		const char *last = json_get_string(s, "last_run_at");
		const char *reason = json_get_string(s, "disabled_reason");
		const char *row[] = { json_get_string(s, "name"),
				      json_get_bool(s, "enabled", true) ? "yes" : "no", errors,
				      last ? last : "-", reason ? reason : "" };

		table_add_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	return EXIT_OK;
}

/* A running daemon switches the scenario and plans or drops its next run
 * at once; 1 when no daemon runs or it does not know the scenario (it is
 * not in its folder), so the store is switched directly. */
static int through_daemon(struct ctl *ctl, const char *name, bool enabled)
{
	const char *verb = enabled ? "enable" : "disable";
	_cleanup_json_ cJSON *request = cJSON_CreateObject();
	_cleanup_json_ cJSON *reply = NULL;
	const char *next;
	int r;

	cJSON_AddStringToObject(request, "command", verb);
	cJSON_AddStringToObject(request, "scenario", name);
	r = ctl_daemon_call(ctl, request, ctl_daemon_timeout_ms(), &reply);
	if (r < 0)
		return ctl_daemon_absent(r) ? 1 : ctl_daemon_unreachable(ctl, r, verb);
	if (!json_get_bool(reply, "ok", false))
		return json_get_int(reply, "exit", 0) == EXIT_USAGE ?
			       1 :
			       ctl_daemon_reply_error(reply, verb);
	next = json_get_string(reply, "next_run_at");
	if (ctl->json)
		ctl_print_json(reply);
	else if (next)
		printf("scenario '%s' %s; next run %s\n", name, enabled ? "enabled" : "disabled",
		       next);
	else
		printf("scenario '%s' %s\n", name, enabled ? "enabled" : "disabled");
	return EXIT_OK;
}

static int set_enabled(struct ctl *ctl, int argc, char **argv, bool enabled)
{
	_cleanup_store_ struct store *store = NULL;
	const char *verb = enabled ? "enable" : "disable";
	_cleanup_free_ char *usage = xasprintf(
		"Usage: scenarioctl %s NAME [--json]\n\nTurns the scenario's schedule %s "
		"(persisted)%s.\nA running scenariod does it and plans the next run at once.\n",
		verb, enabled ? "on" : "off", enabled ? " and forgets its consecutive errors" : "");
	int r;

	r = only_json_option(ctl, argc, argv, usage);
	if (r != 0)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind + 1 != argc) {
		fprintf(stderr, "scenarioctl %s: name one scenario\n", verb);
		return EXIT_USAGE;
	}
	r = through_daemon(ctl, argv[optind], enabled);
	if (r != 1)
		return r;
	if (ctl_open_store(ctl, &store) < 0)
		return EXIT_INTERNAL;
	r = store_scenario_set_enabled(store, argv[optind], enabled,
				       enabled ? NULL : "disabled by hand");
	if (r < 0) {
		fprintf(stderr, "scenarioctl %s: %s\n", verb, strerror(-r));
		return EXIT_INTERNAL;
	}
	if (ctl->json) {
		_cleanup_json_ cJSON *doc = cJSON_CreateObject();

		cJSON_AddStringToObject(doc, "scenario", argv[optind]);
		cJSON_AddBoolToObject(doc, "enabled", enabled);
		cJSON_AddNullToObject(doc, "next_run_at");
		ctl_print_json(doc);
	} else {
		printf("scenario '%s' %s\n", argv[optind], enabled ? "enabled" : "disabled");
	}
	return EXIT_OK;
}

int cmd_enable(struct ctl *ctl, int argc, char **argv)
{
	return set_enabled(ctl, argc, argv, true);
}

int cmd_disable(struct ctl *ctl, int argc, char **argv)
{
	return set_enabled(ctl, argc, argv, false);
}
