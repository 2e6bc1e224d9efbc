/* SPDX-License-Identifier: MIT */
/*
 * `scenarioctl executions` (the list, newest first) and `scenarioctl
 * execution ID` (every operation with its input and output bundles), read
 * back from the store.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

static char *number_text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return json_to_text(v);
}

static void print_executions(const cJSON *list)
{
	static const char *const headers[] = { "ID",	  "SCENARIO", "STATUS",
					       "TRIGGER", "STARTED",  "DURATION",
					       "OPS",	  "ERROR",    NULL };
	struct table *t = table_new(headers);
	const cJSON *e;

	cJSON_ArrayForEach(e, list) {
		_cleanup_free_ char *id = number_text(e, "id");
		_cleanup_free_ char *ms =
			xasprintf("%lld ms", (long long)json_get_int(e, "duration_ms", 0));
		_cleanup_free_ char *ops = number_text(e, "operations");
		const cJSON *error = cJSON_GetObjectItem(e, "error");
		_cleanup_free_ char *err =
			cJSON_IsObject(error) ? xasprintf("%s: %s", json_get_string(error, "type"),
							  json_get_string(error, "message")) :
						xstrdup("");
		const char *status = json_get_string(e, "status");
		const char *row[] = { id,
				      json_get_string(e, "scenario"),
				      json_get_bool(e, "abandoned", false) ? "abandoned" : status,
				      json_get_string(e, "trigger"),
				      json_get_string(e, "started_at"),
				      ms,
				      ops,
				      err };

		table_add_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
}

int cmd_executions(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "scenario", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct store_execution_filter filter = { 0 };
	_cleanup_store_ struct store *store = NULL;
	_cleanup_json_ cJSON *list = NULL;
	char *end;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctl->json = true;
			break;
		case 's':
			filter.scenario = optarg;
			break;
		case 't':
			filter.status = optarg;
			break;
		case 'l':
			errno = 0;
			long n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 10000) {
				fprintf(stderr,
					"scenarioctl executions: --limit takes 1 to 10000\n");
				return EXIT_USAGE;
			}
			filter.limit = (int)n;
			break;
		case 'h':
			printf("Usage: scenarioctl executions [--scenario NAME] [--status S] "
			       "[--limit N] [--json]\n\nLists executions, newest first.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return EXIT_USAGE;
	if (ctl_open_store(ctl, &store) < 0)
		return EXIT_INTERNAL;
	r = store_execution_list(store, &filter, &list);
	if (r < 0) {
		fprintf(stderr, "scenarioctl executions: cannot read the store: %s\n",
			strerror(-r));
		return EXIT_INTERNAL;
	}
	if (ctl->json)
		ctl_print_json(list);
	else
		print_executions(list);
	return EXIT_OK;
}

static void print_json_block(const char *label, const cJSON *value)
{
	_cleanup_free_ char *text = NULL;

	if (!value || cJSON_IsNull(value))
		return;
	text = cJSON_Print(value);
	printf("  %s:\n", label);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		printf("    %s\n", line);
	}
}

static void print_execution(const cJSON *e)
{
	const cJSON *op, *error = cJSON_GetObjectItem(e, "error");
	_cleanup_free_ char *id = number_text(e, "id");

	printf("execution %s of '%s': %s\n", id, json_get_string(e, "scenario"),
	       json_get_bool(e, "abandoned", false) ? "abandoned (its process died)" :
						      json_get_string(e, "status"));
	printf("started %s, finished %s, %lld ms, %lld operations, %lld bytes\n",
	       json_get_string(e, "started_at") ? json_get_string(e, "started_at") : "-",
	       json_get_string(e, "finished_at") ? json_get_string(e, "finished_at") : "-",
	       (long long)json_get_int(e, "duration_ms", 0),
	       (long long)json_get_int(e, "operations", 0), (long long)json_get_int(e, "bytes", 0));
	if (cJSON_IsObject(error))
		printf("error: %s: %s\n", json_get_string(error, "type"),
		       json_get_string(error, "message"));
	cJSON_ArrayForEach(op, cJSON_GetObjectItem(e, "operations_list")) {
		_cleanup_free_ char *seq = number_text(op, "seq");

		printf("\n#%s  module %s (%s)  %s  %lld ms\n", seq,
		       json_get_string(op, "module_id"), json_get_string(op, "module"),
		       json_get_string(op, "status"),
		       (long long)json_get_int(op, "duration_ms", 0));
		print_json_block("input", cJSON_GetObjectItem(op, "input"));
		print_json_block("output", cJSON_GetObjectItem(op, "output"));
		print_json_block("error", cJSON_GetObjectItem(op, "error"));
	}
}

int cmd_execution(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_store_ struct store *store = NULL;
	_cleanup_json_ cJSON *doc = NULL;
	char *end;
	long long id;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: scenarioctl execution [--json] ID\n\n"
			       "Shows one execution: every module run with its input and output\n"
			       "bundles, error and timing.\n");
			return EXIT_OK;
		}
		if (c != 'j')
			return EXIT_USAGE;
		ctl->json = true;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "scenarioctl execution: name one execution id\n");
		return EXIT_USAGE;
	}
	errno = 0;
	id = strtoll(argv[optind], &end, 10);
	if (errno || *end || id <= 0) {
		fprintf(stderr, "scenarioctl execution: '%s' is not an execution id\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	if (ctl_open_store(ctl, &store) < 0)
		return EXIT_INTERNAL;
	r = store_execution_get(store, id, &doc);
	if (r == -ENOENT) {
		fprintf(stderr, "scenarioctl execution: no execution %lld\n", id);
		return EXIT_USAGE;
	}
	if (r < 0) {
		fprintf(stderr, "scenarioctl execution: cannot read the store: %s\n", strerror(-r));
		return EXIT_INTERNAL;
	}
	if (ctl->json)
		ctl_print_json(doc);
	else
		print_execution(doc);
	return EXIT_OK;
}
