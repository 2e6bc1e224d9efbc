/* SPDX-License-Identifier: MIT */
/*
 * `scenarioctl incomplete`: list, show, retry, resolve and delete incomplete
 * executions. Retry resumes a record at its failed module, with the
 * scenario as it was stored (the default) or with the current file
 * (--current); one record, several, or all of a scenario's (--scenario NAME
 * --all). The runner (scenarios/runner.h) claims the record first, so a
 * daemon and a person never resume the same one twice.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/engine.h"
#include "scenarios/executor.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/xalloc.h"

#define MAX_IDS 10000

struct incomplete_args {
	const char *scenario; /* --scenario */
	const char *status; /* --status */
	bool all; /* --all */
	bool current; /* --current */
	int64_t *ids; /* owned */
	size_t id_count;
};

static void help(void)
{
	printf("Usage: scenarioctl incomplete [list] [--scenario NAME] [--status S] [--all] [--json]\n"
	       "       scenarioctl incomplete show ID [--json]\n"
	       "       scenarioctl incomplete retry ID... | --scenario NAME --all [--current] "
	       "[--json]\n"
	       "       scenarioctl incomplete resolve ID...\n"
	       "       scenarioctl incomplete delete ID... | --scenario NAME --all\n\n"
	       "Incomplete executions hold a failing bundle with everything needed to finish\n"
	       "it later. 'retry' resumes at the failed module with the scenario as it was\n"
	       "stored, or with the current file (--current); a module that already succeeded\n"
	       "is never run again. Statuses: pending (an automatic retry is planned),\n"
	       "in_progress, resolved, unresolved. 'list' shows records not resolved unless\n"
	       "--status or --all. 'retry' exits like 'run': 0, 1, or 3.\n");
}

static int parse_ids(struct incomplete_args *a, int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++) {
		char *end;
		long long id;

		errno = 0;
		id = strtoll(argv[i], &end, 10);
		if (errno || *end || id <= 0) {
			fprintf(stderr, "scenarioctl incomplete: '%s' is not an id\n", argv[i]);
			return -EINVAL;
		}
		if (a->id_count >= MAX_IDS)
			return -E2BIG;
		a->ids = xrealloc(a->ids, (a->id_count + 1) * sizeof(*a->ids));
		a->ids[a->id_count++] = id;
	}
	return 0;
}

static int parse_options(struct ctl *ctl, struct incomplete_args *a, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "scenario", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "current", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctl->json = true;
			break;
		case 's':
			a->scenario = optarg;
			break;
		case 't':
			a->status = optarg;
			break;
		case 'a':
			a->all = true;
			break;
		case 'c':
			a->current = true;
			break;
		case 'h':
			help();
			return 1;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static void print_list(const cJSON *list)
{
	static const char *const headers[] = { "ID",   "SCENARIO", "STATUS", "MODULE", "ATTEMPTS",
					       "NEXT", "CREATED",  "ERROR",  NULL };
	struct table *t = table_new(headers);
	const cJSON *r;

	cJSON_ArrayForEach(r, list) {
		const cJSON *error = cJSON_GetObjectItem(r, "error");
		_cleanup_free_ char *id = json_to_text(cJSON_GetObjectItem(r, "id"));
		_cleanup_free_ char *attempts =
			xasprintf("%lld/%lld", (long long)json_get_int(r, "attempts", 0),
				  (long long)json_get_int(r, "max_attempts", 0));
		_cleanup_free_ char *err = xasprintf("%s: %s", json_get_string(error, "type"),
						     json_get_string(error, "message"));
		const char *next = json_get_string(r, "next_attempt_at");
		const char *row[] = { id,
				      json_get_string(r, "scenario"),
				      json_get_string(r, "status"),
				      json_get_string(r, "module_id"),
				      attempts,
				      next ? next : "-",
				      json_get_string(r, "created_at"),
				      err };

		table_add_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
}

static int do_list(struct ctl *ctl, struct engine *engine, const struct incomplete_args *a)
{
	struct store_incomplete_filter filter = {
		.scenario = a->scenario,
		.status = a->status,
		.all = a->all,
	};
	_cleanup_json_ cJSON *list = NULL;
	int r = store_incomplete_list(engine->store, &filter, &list);

	if (r < 0) {
		fprintf(stderr, "scenarioctl incomplete: cannot read the store: %s\n",
			strerror(-r));
		return EXIT_INTERNAL;
	}
	if (ctl->json)
		ctl_print_json(list);
	else if (cJSON_GetArraySize(list) == 0)
		printf("no incomplete executions\n");
	else
		print_list(list);
	return EXIT_OK;
}

static void print_record(const cJSON *rec)
{
	const cJSON *error = cJSON_GetObjectItem(rec, "error");
	const cJSON *frames = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "state"), "frames");
	const cJSON *frame;
	_cleanup_free_ char *id = json_to_text(cJSON_GetObjectItem(rec, "id"));
	_cleanup_free_ char *exec = json_to_text(cJSON_GetObjectItem(rec, "execution_id"));

	printf("incomplete execution %s of '%s': %s\n", id, json_get_string(rec, "scenario"),
	       json_get_string(rec, "status"));
	printf("failed module: %s\n", json_get_string(rec, "module_id"));
	printf("error: %s: %s\n", json_get_string(error, "type"),
	       json_get_string(error, "message"));
	printf("stored by execution %s, %s; attempts %lld of %lld automatic; next attempt %s\n",
	       exec, json_get_string(rec, "created_at"),
	       (long long)json_get_int(rec, "attempts", 0),
	       (long long)json_get_int(rec, "max_attempts", 0),
	       json_get_string(rec, "next_attempt_at") ? json_get_string(rec, "next_attempt_at") :
							 "none planned");
	printf("scenario file: %s (a snapshot of %lld bytes is stored)\n",
	       json_get_string(rec, "scenario_path") ? json_get_string(rec, "scenario_path") : "-",
	       (long long)strlen(json_get_string(rec, "source") ? json_get_string(rec, "source") :
								  ""));
	printf("\nbundles the failed module can map:\n");
	cJSON_ArrayForEach(frame, frames) {
		const char *kind = json_get_string(frame, "kind");
		const cJSON *outputs = cJSON_GetObjectItem(frame, "outputs");
		const cJSON *bundle;
		_cleanup_free_ char *text = NULL;

		if (!kind || strcmp(kind, "outputs") != 0)
			continue;
		bundle = cJSON_GetArrayItem(outputs, (int)json_get_int(frame, "current", 0));
		text = bundle ? cJSON_PrintUnformatted(bundle) : xstrdup("null");
		printf("  module %s: %s\n", json_get_string(frame, "node"), text);
	}
}

static int do_show(struct ctl *ctl, struct engine *engine, const struct incomplete_args *a)
{
	_cleanup_json_ cJSON *rec = NULL;
	int r;

	if (a->id_count != 1) {
		fprintf(stderr, "scenarioctl incomplete show: name one id\n");
		return EXIT_USAGE;
	}
	r = store_incomplete_get(engine->store, a->ids[0], &rec);
	if (r == -ENOENT) {
		fprintf(stderr, "scenarioctl incomplete: no incomplete execution %lld\n",
			(long long)a->ids[0]);
		return EXIT_USAGE;
	}
	if (r < 0) {
		fprintf(stderr, "scenarioctl incomplete: cannot read the store: %s\n",
			strerror(-r));
		return EXIT_INTERNAL;
	}
	if (ctl->json)
		ctl_print_json(rec);
	else
		print_record(rec);
	return EXIT_OK;
}

/* The ids a command acts on: those given, or with --scenario NAME --all every
 * record of that scenario that is not resolved. */
static int select_ids(struct engine *engine, struct incomplete_args *a, const char *verb)
{
	struct store_incomplete_filter filter = { .scenario = a->scenario, .limit = MAX_IDS };
	_cleanup_json_ cJSON *list = NULL;
	const cJSON *item;

	if (a->id_count > 0 && !a->all)
		return 0;
	if (!a->scenario || !a->all || a->id_count > 0) {
		fprintf(stderr, "scenarioctl incomplete %s: name ids, or --scenario NAME --all\n",
			verb);
		return -EINVAL;
	}
	if (store_incomplete_list(engine->store, &filter, &list) < 0)
		return -EIO;
	cJSON_ArrayForEach(item, list) {
		a->ids = xrealloc(a->ids, (a->id_count + 1) * sizeof(*a->ids));
		a->ids[a->id_count++] = json_get_int(item, "id", 0);
	}
	return 0;
}

/* --current: the scenario file as it is now. */
static int current_scenario(const struct ctl *ctl, const cJSON *rec, struct scenario **ret)
{
	const char *path = json_get_string(rec, "scenario_path");
	_cleanup_free_ char *named = NULL;

	if (!path)
		path = named = ctl_scenario_path(ctl, json_get_string(rec, "scenario"));
	return ctl_load_scenario(path, ret);
}

static int worse(int a, int b)
{
	/* Internal errors first, then invalid input, an error, an incomplete run. */
	static const int order[] = { EXIT_INTERNAL,  EXIT_INVALID,    EXIT_USAGE,
				     EXIT_RUN_ERROR, EXIT_INCOMPLETE, EXIT_OK };

	for (size_t i = 0; i < ELEMENTSOF(order); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a;
}

static int retry_one(struct ctl *ctl, struct ctl_engine *e, int64_t id, bool current, cJSON *docs)
{
	_cleanup_json_ cJSON *rec = NULL;
	struct scenario *scenario = NULL;
	cJSON *doc = NULL;
	int r;

	if (current) {
		r = store_incomplete_get(e->engine->store, id, &rec);
		if (r == -ENOENT) {
			fprintf(stderr, "scenarioctl incomplete: no incomplete execution %lld\n",
				(long long)id);
			return EXIT_USAGE;
		}
		if (r < 0)
			return EXIT_INTERNAL;
		if (current_scenario(ctl, rec, &scenario) < 0)
			return EXIT_INVALID;
	}
	r = ctl_retry(ctl, e, id, scenario, &doc);
	if (doc) {
		if (docs) {
			cJSON_AddItemToArray(docs, doc);
		} else {
			ctl_print_run(ctl, doc);
			cJSON_Delete(doc);
		}
	}
	scenario_free(scenario);
	return r;
}

/* A running daemon does the retries (its workers, its connections); 1
 * when none runs. */
static int retry_through_daemon(struct ctl *ctl, const struct incomplete_args *a)
{
	_cleanup_json_ cJSON *request = cJSON_CreateObject();
	_cleanup_json_ cJSON *reply = NULL;
	const cJSON *runs, *run, *error;
	cJSON *ids;
	int result = EXIT_OK, r;

	cJSON_AddStringToObject(request, "command", "incomplete_retry");
	ids = cJSON_AddArrayToObject(request, "ids");
	for (size_t i = 0; i < a->id_count; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)a->ids[i]));
	cJSON_AddBoolToObject(request, "current", a->current);
	r = ctl_daemon_call(ctl, request, 0, &reply);
	if (r < 0)
		return ctl_daemon_absent(r) ? 1 :
					      ctl_daemon_unreachable(ctl, r, "incomplete retry");
	if (!json_get_bool(reply, "ok", false))
		return ctl_daemon_reply_error(reply, "incomplete retry");
	runs = cJSON_GetObjectItem(reply, "runs");
	cJSON_ArrayForEach(error, cJSON_GetObjectItem(reply, "errors")) {
		fprintf(stderr, "scenarioctl incomplete: cannot retry %lld: %s\n",
			(long long)json_get_int(error, "id", 0), json_get_string(error, "error"));
		result = worse(result, (int)json_get_int(error, "exit", EXIT_INTERNAL));
	}
	cJSON_ArrayForEach(run, runs)
		result = worse(result, runner_status_exit_code(json_get_string(run, "status")));
	if (ctl->json && a->id_count > 1)
		ctl_print_json(runs);
	else
		cJSON_ArrayForEach(run, runs)
			ctl_print_run(ctl, run);
	return result;
}

static int do_retry(struct ctl *ctl, struct ctl_engine *e, struct incomplete_args *a)
{
	_cleanup_json_ cJSON *docs = NULL;
	int result = EXIT_OK;

	if (select_ids(e->engine, a, "retry") < 0)
		return EXIT_USAGE;
	if (a->id_count == 0) {
		printf("nothing to retry\n");
		return EXIT_OK;
	}
	result = retry_through_daemon(ctl, a);
	if (result != 1)
		return result;
	result = EXIT_OK;
	/* Several runs with --json: one document, an array of run results. */
	if (ctl->json && a->id_count > 1)
		docs = cJSON_CreateArray();
	for (size_t i = 0; i < a->id_count; i++)
		result = worse(result, retry_one(ctl, e, a->ids[i], a->current, docs));
	if (docs)
		ctl_print_json(docs);
	return result;
}

static int do_change(struct ctl *ctl, struct engine *engine, struct incomplete_args *a, bool delete)
{
	const char *verb = delete ? "delete" : "resolve";
	int result = EXIT_OK;

	(void)ctl;
	if (select_ids(engine, a, verb) < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < a->id_count; i++) {
		int r = delete ? store_incomplete_delete(engine->store, a->ids[i]) :
				 store_incomplete_resolve(engine->store, a->ids[i]);

		if (r == 0) {
			printf("%s incomplete execution %lld\n", delete ? "deleted" : "resolved",
			       (long long)a->ids[i]);
			continue;
		}
		fprintf(stderr, "scenarioctl incomplete %s %lld: %s\n", verb, (long long)a->ids[i],
			r == -ENOENT ? "no such incomplete execution" :
			r == -EBUSY  ? "it is being resumed right now" :
				       strerror(-r));
		result = worse(result, r == -ENOENT ? EXIT_USAGE : EXIT_RUN_ERROR);
	}
	return result;
}

int cmd_incomplete(struct ctl *ctl, int argc, char **argv)
{
	static const char *const verbs[] = { "list", "show", "retry", "resolve", "delete", NULL };
	struct incomplete_args a = { 0 };
	const char *verb = "list";
	struct ctl_engine e;
	int first = 1, r;

	if (argc > 1 && argv[1][0] != '-') {
		verb = argv[1];
		first = 2;
	}
	for (r = 0; verbs[r] && strcmp(verbs[r], verb) != 0; r++)
		;
	if (!verbs[r]) {
		fprintf(stderr, "scenarioctl incomplete: unknown command '%s'\n", verb);
		return EXIT_USAGE;
	}
	argv += first - 1;
	argc -= first - 1;
	optind = 0;
	r = parse_options(ctl, &a, argc, argv);
	if (r > 0)
		return EXIT_OK;
	if (r < 0 || parse_ids(&a, argc, argv, optind) < 0) {
		free(a.ids);
		return EXIT_USAGE;
	}
	r = ctl_open_engine(ctl, &e);
	if (r != EXIT_OK) {
		free(a.ids);
		return r;
	}
	if (strcmp(verb, "list") == 0)
		r = do_list(ctl, e.engine, &a);
	else if (strcmp(verb, "show") == 0)
		r = do_show(ctl, e.engine, &a);
	else if (strcmp(verb, "retry") == 0)
		r = do_retry(ctl, &e, &a);
	else
		r = do_change(ctl, e.engine, &a, strcmp(verb, "delete") == 0);
	ctl_close_engine(&e);
	free(a.ids);
	return r;
}
