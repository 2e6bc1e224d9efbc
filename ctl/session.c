/* SPDX-License-Identifier: MIT */
/*
 * What the commands that run something share: loading a scenario and the
 * connections file, and running one execution in the foreground with the
 * result printed for people or as the `run --json` document of cli.md.
 * SIGINT or SIGTERM stops the run at the next safe point; what ran is on
 * record either way.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/connections.h"
#include "scenarios/engine.h"
#include "scenarios/executor.h"
#include "scenarios/scenario.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/xalloc.h"

int ctl_open_store(const struct ctl *ctl, struct store **ret)
{
	_cleanup_free_ char *message = NULL;
	int r = store_open(ctl->state_dir, ret, &message);

	if (r < 0)
		fprintf(stderr, "scenarioctl: %s\n", message ? message : strerror(-r));
	return r;
}

void ctl_store_closep(struct store **store)
{
	*store = store_close(*store);
}

int ctl_load_scenario(const char *path, struct scenario **ret)
{
	struct diag_list diags;
	int r;

	diag_list_init(&diags);
	r = scenario_load_file(path, ret, &diags);
	diag_list_sort(&diags);
	diag_list_print(&diags, stderr);
	diag_list_done(&diags);
	return r;
}

int ctl_load_connections(const struct ctl *ctl, struct connections **ret)
{
	struct diag_list diags;
	int r;

	diag_list_init(&diags);
	r = connections_load_file(ctl->connections, ret, &diags);
	diag_list_sort(&diags);
	diag_list_print(&diags, stderr);
	diag_list_done(&diags);
	if (r == -ENOENT) {
		/* No file: fine until a module needs a connection, which then
		 * names the file to write. */
		*ret = connections_new_empty(ctl->connections);
		return 0;
	}
	return r;
}

struct run_session {
	struct engine *engine; /* borrowed */
	struct execution *execution; /* owned */
	uv_signal_t sigint;
	uv_signal_t sigterm;
	bool finished;
};

static void on_signal(uv_signal_t *handle, int signum)
{
	struct run_session *s = signum == SIGINT ?
					container_of(handle, struct run_session, sigint) :
					container_of(handle, struct run_session, sigterm);

	if (s->execution && !s->finished)
		execution_interrupt(s->execution, "stopped by a signal; the remaining bundles "
						  "were not processed");
}

static void on_done(struct execution *execution, void *userdata)
{
	struct run_session *s = userdata;

	(void)execution;
	s->finished = true;
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
}

static cJSON *result_json(const struct scenario *scenario, const struct execution *execution)
{
	const struct store_counters *counters = execution_counters(execution);
	cJSON *doc = cJSON_CreateObject();
	char id[32];

	snprintf(id, sizeof(id), "%lld", (long long)execution_id(execution));
	cJSON_AddStringToObject(doc, "execution_id", id);
	cJSON_AddStringToObject(doc, "scenario", scenario->name);
	cJSON_AddStringToObject(doc, "status",
				execution_status_to_string(execution_status(execution)));
	cJSON_AddNumberToObject(doc, "operations", (double)counters->operations);
	cJSON_AddNumberToObject(doc, "duration_ms", (double)counters->duration_ms);
	cJSON_AddNumberToObject(doc, "bytes", (double)counters->bytes);
	if (execution_incomplete_id(execution)) {
		snprintf(id, sizeof(id), "%lld", (long long)execution_incomplete_id(execution));
		cJSON_AddStringToObject(doc, "incomplete_id", id);
	} else {
		cJSON_AddNullToObject(doc, "incomplete_id");
	}
	cJSON_AddItemToObject(doc, "error",
			      execution_error(execution) ?
				      cJSON_Duplicate(execution_error(execution), true) :
				      cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "modules", execution_summary(execution));
	return doc;
}

static void print_log(const struct execution *execution)
{
	const cJSON *line;

	cJSON_ArrayForEach(line, execution_log(execution))
		fprintf(stderr, "[%s] %s: %s\n", json_get_string(line, "module"),
			json_get_string(line, "level"), json_get_string(line, "message"));
}

static void print_human(const cJSON *doc)
{
	static const char *const headers[] = {
		"ID", "MODULE", "IN", "OUT", "STATUS", "ERROR", NULL
	};
	const cJSON *error = cJSON_GetObjectItem(doc, "error");
	const cJSON *m;
	struct table *t = table_new(headers);

	printf("execution %s of '%s': %s, %lld operations, %lld ms\n",
	       json_get_string(doc, "execution_id"), json_get_string(doc, "scenario"),
	       json_get_string(doc, "status"), (long long)json_get_int(doc, "operations", 0),
	       (long long)json_get_int(doc, "duration_ms", 0));
	if (json_get_string(doc, "incomplete_id"))
		printf("stored as incomplete execution %s (scenarioctl incomplete show %s)\n",
		       json_get_string(doc, "incomplete_id"),
		       json_get_string(doc, "incomplete_id"));
	if (cJSON_IsObject(error))
		printf("%s in module %s: %s\n", json_get_string(error, "type"),
		       json_get_string(error, "module") ? json_get_string(error, "module") : "-",
		       json_get_string(error, "message"));
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "modules")) {
		const cJSON *e = cJSON_GetObjectItem(m, "error");
		_cleanup_free_ char *in =
			xasprintf("%lld", (long long)json_get_int(m, "bundles_in", 0));
		_cleanup_free_ char *out =
			xasprintf("%lld", (long long)json_get_int(m, "bundles_out", 0));
		_cleanup_free_ char *err = cJSON_IsObject(e) ?
						   xasprintf("%s: %s", json_get_string(e, "type"),
							     json_get_string(e, "message")) :
						   xstrdup("");
		const char *row[] = { json_get_string(m, "id"),
				      json_get_string(m, "module"),
				      in,
				      out,
				      json_get_string(m, "status"),
				      err };

		table_add_row(t, row);
	}
	printf("\n");
	table_print(t, stdout);
	table_free(t);
}

static int exit_code(const char *status)
{
	if (strcmp(status, "error") == 0)
		return EXIT_RUN_ERROR;
	if (strcmp(status, "incomplete") == 0)
		return EXIT_INCOMPLETE;
	return EXIT_OK;
}

int ctl_execute(struct ctl *ctl, struct engine *engine, const struct scenario *scenario,
		const struct execution_options *options, cJSON **ret_doc)
{
	struct run_session s = { .engine = engine };
	_cleanup_free_ char *message = NULL;
	_cleanup_json_ cJSON *doc = NULL;
	int r;

	uv_signal_init(&engine->loop, &s.sigint);
	uv_signal_init(&engine->loop, &s.sigterm);
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	r = execution_start(&engine->env, scenario, options, on_done, &s, &s.execution, &message);
	if (r < 0) {
		fprintf(stderr, "scenarioctl: cannot start the execution: %s\n",
			message ? message : strerror(-r));
		uv_close((uv_handle_t *)&s.sigint, NULL);
		uv_close((uv_handle_t *)&s.sigterm, NULL);
		uv_run(&engine->loop, UV_RUN_DEFAULT);
		return r == -EINVAL ? EXIT_INVALID : EXIT_INTERNAL;
	}
	uv_run(&engine->loop, UV_RUN_DEFAULT);

	doc = result_json(scenario, s.execution);
	print_log(s.execution);
	r = exit_code(json_get_string(doc, "status"));
	execution_free(s.execution);
	if (ret_doc) {
		*ret_doc = TAKE_PTR(doc);
		return r;
	}
	if (ctl->json)
		ctl_print_json(doc);
	else
		print_human(doc);
	return r;
}

void ctl_print_run(const struct ctl *ctl, const cJSON *doc)
{
	if (ctl->json)
		ctl_print_json(doc);
	else
		print_human(doc);
}

static void on_recovered(struct execution *execution, void *userdata)
{
	(void)execution;
	*(bool *)userdata = true;
}

/* Gives up on an abandoned execution that cannot be replayed, saying why
 * in its record. */
static void abandon(struct engine *engine, int64_t id, const char *why)
{
	_cleanup_json_ cJSON *error = cJSON_CreateObject();
	struct store_counters counters = { 0 };

	cJSON_AddStringToObject(error, "type", "ExecutionInterrupted");
	cJSON_AddStringToObject(error, "message", why);
	store_execution_finish(engine->store, id, "error", &counters, error);
	fprintf(stderr, "scenarioctl: execution %lld was interrupted and cannot be resumed: %s\n",
		(long long)id, why);
}

static void recover_one(struct engine *engine, int64_t id)
{
	struct store_execution_origin origin = { 0 };
	struct execution_options options = { .recover_execution_id = id };
	struct scenario *scenario = NULL;
	struct execution *execution = NULL;
	_cleanup_free_ char *message = NULL;
	struct diag_list diags;
	bool done = false;
	int r;

	if (store_execution_claim(engine->store, id) < 0)
		return; /* another process got there first */
	r = store_execution_get_origin(engine->store, id, &origin);
	if (r < 0 || !origin.snapshot) {
		abandon(engine, id, "its process stopped and no snapshot of the scenario was kept");
		store_execution_origin_done(&origin);
		return;
	}
	diag_list_init(&diags);
	r = scenario_load_string(origin.snapshot, strlen(origin.snapshot),
				 origin.path ? origin.path : origin.scenario, &scenario, &diags);
	diag_list_done(&diags);
	if (r < 0) {
		abandon(engine, id, "its process stopped and its scenario no longer loads");
	} else if (scenario->settings.confidential) {
		abandon(engine, id,
			"its process stopped; a confidential scenario keeps no bundles "
			"to resume from");
	} else if (execution_start(&engine->env, scenario, &options, on_recovered, &done,
				   &execution, &message) < 0) {
		abandon(engine, id, message ? message : "it could not be replayed");
	} else {
		while (!done && uv_run(&engine->loop, UV_RUN_ONCE))
			;
		if (execution_incomplete_id(execution))
			fprintf(stderr,
				"scenarioctl: execution %lld of '%s' was interrupted; stored as "
				"incomplete execution %lld\n",
				(long long)id, scenario->name,
				(long long)execution_incomplete_id(execution));
		execution_free(execution);
	}
	scenario_free(scenario);
	store_execution_origin_done(&origin);
}

int ctl_recover(struct engine *engine)
{
	_cleanup_json_ cJSON *abandoned = NULL;
	const cJSON *item;
	int r;

	r = store_execution_list_abandoned(engine->store, &abandoned);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(item, abandoned)
		recover_one(engine, json_get_int(item, "id", 0));
	return 0;
}

int ctl_open_engine(const struct ctl *ctl, struct ctl_engine *ret)
{
	_cleanup_free_ char *message = NULL;
	int r;

	*ret = (struct ctl_engine){ 0 };
	r = ctl_load_connections(ctl, &ret->connections);
	if (r < 0)
		return EXIT_INVALID;
	r = engine_open(ctl->state_dir, ret->connections, &ret->engine, &message);
	if (r < 0) {
		fprintf(stderr, "scenarioctl: %s\n", message ? message : strerror(-r));
		ret->connections = connections_free(ret->connections);
		return EXIT_INTERNAL;
	}
	/* Whatever a killed process left half-done is put on record first. */
	ctl_recover(ret->engine);
	return EXIT_OK;
}

void ctl_close_engine(struct ctl_engine *e)
{
	e->engine = engine_close(e->engine);
	e->connections = connections_free(e->connections);
}
