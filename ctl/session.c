/* SPDX-License-Identifier: MIT */
/*
 * What the commands that run something share: loading a scenario and the
 * connections file, and driving one runner job (scenarios/runner.h) in the
 * foreground with the result printed for people or as the `run --json`
 * document of cli.md. The runner decides; this file only waits and prints.
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
#include "scenarios/runner.h"
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

/* One job run in the foreground: the loop turns until it is done, and ^C
 * (or SIGTERM) asks it to stop at the next safe point. */
struct session {
	struct runner_job *job; /* owned */
	const char *what; /* "run" or "incomplete retry", for messages */
	uv_signal_t sigint;
	uv_signal_t sigterm;
	bool finished;
};

static void on_signal(uv_signal_t *handle, int signum)
{
	struct session *s = signum == SIGINT ? container_of(handle, struct session, sigint) :
					       container_of(handle, struct session, sigterm);

	if (s->job && !s->finished)
		runner_job_interrupt(s->job, "stopped by a signal; the remaining bundles "
					     "were not processed");
}

static void on_job_done(struct runner_job *job, void *userdata)
{
	struct session *s = userdata;

	(void)job;
	s->finished = true;
}

/* A sequential scenario waits for the runs queued before it, in this
 * process or another. */
static void on_waiting(struct runner_job *job, int64_t ahead, void *userdata)
{
	struct session *s = userdata;

	fprintf(stderr,
		"scenarioctl %s: scenario '%s' is sequential; waiting for %lld earlier run%s to "
		"finish\n",
		s->what, runner_job_scenario(job)->name, (long long)ahead, ahead == 1 ? "" : "s");
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

void ctl_print_run(const struct ctl *ctl, const cJSON *doc)
{
	if (ctl->json)
		ctl_print_json(doc);
	else
		print_human(doc);
}

static void session_begin(struct session *s, struct ctl_engine *e, const char *what)
{
	*s = (struct session){ .what = what };
	uv_signal_init(&e->engine->loop, &s->sigint);
	uv_signal_init(&e->engine->loop, &s->sigterm);
	uv_signal_start(&s->sigint, on_signal, SIGINT);
	uv_signal_start(&s->sigterm, on_signal, SIGTERM);
}

/* Runs the loop until the job (if it started) is done, then lets the
 * signal handles close. */
static void session_wait(struct session *s, struct ctl_engine *e)
{
	while (s->job && !s->finished && uv_run(&e->engine->loop, UV_RUN_ONCE))
		;
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_run(&e->engine->loop, UV_RUN_NOWAIT);
}

/* What a finished job means for the person: the exit code of cli.md, and
 * the run document (returned, or printed). */
static int session_result(struct ctl *ctl, struct session *s, cJSON **ret_doc)
{
	_cleanup_json_ cJSON *doc = NULL;
	int r;

	switch (runner_job_outcome(s->job)) {
	case RUNNER_HELD:
		fprintf(stderr,
			"scenarioctl %s: %s ('scenarioctl incomplete --scenario %s'), or run "
			"with --force\n",
			s->what, runner_job_message(s->job), runner_job_scenario(s->job)->name);
		return EXIT_HELD;
	case RUNNER_NOT_STARTED:
		fprintf(stderr, "scenarioctl %s: cannot start the execution: %s\n", s->what,
			runner_job_message(s->job));
		return EXIT_INTERNAL;
	case RUNNER_CANCELLED:
		fprintf(stderr, "scenarioctl %s: stopped while waiting for its turn\n", s->what);
		return EXIT_RUN_ERROR;
	case RUNNER_RAN:
		break;
	}
	doc = runner_job_document(s->job);
	print_log(runner_job_execution(s->job));
	r = runner_status_exit_code(json_get_string(doc, "status"));
	if (ret_doc)
		*ret_doc = TAKE_PTR(doc);
	else
		ctl_print_run(ctl, doc);
	return r;
}

int ctl_execute(struct ctl *ctl, struct ctl_engine *e, const struct scenario *scenario, bool force,
		cJSON **ret_doc)
{
	struct runner_run_options options = {
		.trigger = "manual",
		.force = force,
		.waiting = on_waiting,
	};
	_cleanup_free_ char *message = NULL;
	struct session s;
	int r;

	session_begin(&s, e, "run");
	r = runner_run(e->runner, scenario, &options, on_job_done, &s, &s.job, &message);
	session_wait(&s, e);
	if (r < 0) {
		fprintf(stderr, "scenarioctl run: cannot start the execution: %s\n",
			message ? message : strerror(-r));
		return r == -EINVAL ? EXIT_INVALID : EXIT_INTERNAL;
	}
	r = session_result(ctl, &s, ret_doc);
	runner_job_free(s.job);
	return r;
}

int ctl_retry(struct ctl *ctl, struct ctl_engine *e, int64_t id, const struct scenario *current,
	      cJSON **ret_doc)
{
	_cleanup_free_ char *message = NULL;
	struct session s;
	int r;

	session_begin(&s, e, "incomplete retry");
	r = runner_retry(e->runner, id, current, on_waiting, on_job_done, &s, &s.job, &message);
	session_wait(&s, e);
	if (r < 0) {
		if (r == -ENOENT)
			fprintf(stderr, "scenarioctl incomplete: no incomplete execution %lld\n",
				(long long)id);
		else
			fprintf(stderr, "scenarioctl incomplete: cannot retry %lld: %s\n",
				(long long)id,
				r == -EALREADY ? "it is resolved already" :
				r == -EBUSY    ? "another process is resuming it right now" :
				message	       ? message :
						 strerror(-r));
		return r == -ENOENT   ? EXIT_USAGE :
		       r == -EALREADY ? EXIT_OK :
		       r == -EINVAL   ? EXIT_INVALID :
		       r == -EBUSY    ? EXIT_RUN_ERROR :
					EXIT_INTERNAL;
	}
	s.what = "incomplete retry";
	r = session_result(ctl, &s, ret_doc);
	runner_job_free(s.job);
	return r;
}

static void on_recovered(int64_t execution_id, const char *scenario, int64_t incomplete_id,
			 const char *note, void *userdata)
{
	(void)incomplete_id;
	(void)userdata;
	fprintf(stderr, "scenarioctl: execution %lld of '%s': %s\n", (long long)execution_id,
		scenario ? scenario : "?", note);
}

static void on_recover_done(int recovered, void *userdata)
{
	(void)recovered;
	*(bool *)userdata = true;
}

int ctl_recover(struct ctl_engine *e)
{
	bool done = false;
	int r;

	r = runner_recover(e->runner, on_recovered, on_recover_done, &done);
	if (r < 0)
		return r;
	while (!done && uv_run(&e->engine->loop, UV_RUN_ONCE))
		;
	return 0;
}

/* SCENARIOD_RETRY_BACKOFF: the daemon's default backoff, so a record
 * stored by scenarioctl plans its attempts as the daemon would. */
static int runner_config_from_env(struct runner_config *config)
{
	const char *text = getenv("SCENARIOD_RETRY_BACKOFF");
	_cleanup_free_ char *message = NULL;

	*config = (struct runner_config){ 0 };
	if (!text || !*text)
		return 0;
	if (runner_config_parse_backoff(config, text, &message) < 0) {
		fprintf(stderr, "scenarioctl: SCENARIOD_RETRY_BACKOFF: %s\n", message);
		return -EINVAL;
	}
	return 0;
}

int ctl_open_engine(const struct ctl *ctl, struct ctl_engine *ret)
{
	_cleanup_free_ char *message = NULL;
	struct connections *connections = NULL;
	struct runner_config config;
	int r;

	*ret = (struct ctl_engine){ 0 };
	if (runner_config_from_env(&config) < 0)
		return EXIT_USAGE;
	r = ctl_load_connections(ctl, &connections);
	if (r < 0)
		return EXIT_INVALID;
	r = engine_open(ctl->state_dir, NULL, &ret->engine, &message);
	if (r < 0) {
		fprintf(stderr, "scenarioctl: %s\n", message ? message : strerror(-r));
		connections_free(connections);
		return EXIT_INTERNAL;
	}
	runner_new(ret->engine, &config, connections, &ret->runner);
	/* Whatever a killed process left half-done is put on record first. */
	ctl_recover(ret);
	return EXIT_OK;
}

void ctl_close_engine(struct ctl_engine *e)
{
	e->runner = runner_free(e->runner);
	e->engine = engine_close(e->engine);
}
