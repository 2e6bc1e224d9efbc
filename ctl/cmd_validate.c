/* SPDX-License-Identifier: MIT */
/*
 * `scenarioctl validate FILE...`: loads each file and reports every problem
 * as FILE:LINE:COL: error: MESSAGE, so an editor can jump to it.
 */
#include "ctl/ctl.h"

#include <getopt.h>
#include <string.h>

#include "scenarios/scenario.h"
#include "util/diag.h"

static void help(void)
{
	printf("Usage: scenarioctl validate [--json] FILE...\n\n"
	       "Loads each scenario file and reports every problem as\n"
	       "FILE:LINE:COL: error: MESSAGE. Exits 0 when all are valid, 65 otherwise.\n");
}

static cJSON *diags_to_json(const struct diag_list *diags)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; i < diags->count; i++) {
		const struct diag *d = &diags->items[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "file", d->file ? d->file : "");
		cJSON_AddNumberToObject(o, "line", d->line);
		cJSON_AddNumberToObject(o, "column", d->column);
		cJSON_AddStringToObject(o, "severity",
					d->severity == DIAG_ERROR ? "error" : "warning");
		cJSON_AddStringToObject(o, "message", d->message);
		cJSON_AddItemToArray(array, o);
	}
	return array;
}

int cmd_validate(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct diag_list diags;
	bool all_valid = true;
	cJSON *results = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			help();
			return EXIT_OK;
		}
		if (c == 'j') {
			ctl->json = true;
			continue;
		}
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "scenarioctl validate: name at least one scenario file\n");
		return EXIT_USAGE;
	}
	if (ctl->json)
		results = cJSON_CreateArray();

	for (int i = optind; i < argc; i++) {
		struct scenario *scenario = NULL;
		_cleanup_free_ char *path = ctl_scenario_path(ctl, argv[i]);
		int r;

		diag_list_init(&diags);
		r = scenario_load_file(path, &scenario, &diags);
		diag_list_sort(&diags);
		if (r < 0 || diag_list_errors(&diags) > 0)
			all_valid = false;
		if (results) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "file", path);
			cJSON_AddBoolToObject(o, "valid", r == 0 && diag_list_errors(&diags) == 0);
			cJSON_AddStringToObject(o, "scenario", scenario ? scenario->name : "");
			cJSON_AddItemToObject(o, "problems", diags_to_json(&diags));
			cJSON_AddItemToArray(results, o);
		} else {
			diag_list_print(&diags, stdout);
			if (r == 0 && diag_list_errors(&diags) == 0)
				printf("%s: valid (scenario '%s', %zu modules)\n", path,
				       scenario->name, scenario->flow.count);
		}
		scenario_free(scenario);
		diag_list_done(&diags);
	}
	if (results) {
		ctl_print_json(results);
		cJSON_Delete(results);
	}
	return all_valid ? EXIT_OK : EXIT_INVALID;
}
