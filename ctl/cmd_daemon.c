/* SPDX-License-Identifier: MIT */
/*
 * The commands that ask the running daemon over its control socket:
 * `status` (the daemon and every scenario it schedules), `reload` (re-read
 * the scenarios; a file that fails keeps its previous version running) and
 * `trigger NAME` (start a run now, or with --wait print it as `run` does
 * when it ends). Each sends one request through control_client.c and turns
 * the reply into text for people or a JSON document (the reply without its
 * "ok").
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>

#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* Parses --json, --help and, when ret_wait is given, --wait. Returns 0,
 * 1 after printing the help, or -EINVAL for a bad option. */
static int parse_options(struct ctl *ctl, int argc, char **argv, const char *usage, bool *ret_wait)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s", usage);
			return 1;
		case 'j':
			ctl->json = true;
			break;
		case 'w':
			if (!ret_wait)
				return -EINVAL;
			*ret_wait = true;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* Sends the request and returns the reply, ok:true or not. When there is
 * none, the reason has been told on stderr and *reterr_exit holds the exit
 * code. */
static cJSON *call(const struct ctl *ctl, const cJSON *request, const char *command, int timeout_ms,
		   int *reterr_exit)
{
	cJSON *reply = NULL;
	int r = ctl_daemon_call(ctl, request, timeout_ms, &reply);

	if (r < 0) {
		*reterr_exit = ctl_daemon_unreachable(ctl, r, command);
		return NULL;
	}
	return reply;
}

static cJSON *request_new(const char *command)
{
	cJSON *request = cJSON_CreateObject();

	cJSON_AddStringToObject(request, "command", command);
	return request;
}

/* Prints a reply as the command's JSON document: everything but "ok". */
static void print_reply_json(cJSON *reply)
{
	cJSON_DeleteItemFromObjectCaseSensitive(reply, "ok");
	ctl_print_json(reply);
}

/* Text of a member for a table cell: "-" when missing or null. Caller frees. */
static char *cell(const cJSON *object, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(object, key);

	if (!v || cJSON_IsNull(v))
		return xstrdup("-");
	return json_to_text(v);
}

/* "2 pending, 1 unresolved", or NULL when all three counts are 0. */
static char *incomplete_text(const cJSON *counts)
{
	static const char *const keys[][2] = {
		{ "pending", "pending" },
		{ "in_progress", "in progress" },
		{ "unresolved", "unresolved" },
	};
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		int64_t n = json_get_int(counts, keys[i][0], 0);

		if (n > 0)
			strbuf_printf(&sb, "%s%lld %s", sb.len ? ", " : "", (long long)n,
				      keys[i][1]);
	}
	if (sb.len == 0) {
		strbuf_done(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

static void print_daemon_line(const cJSON *d)
{
	printf("scenariod %lld, version %s, up since %s; %lld workers, %lld running, %lld queued%s\n",
	       (long long)json_get_int(d, "pid", 0),
	       json_get_string(d, "version") ? json_get_string(d, "version") : "?",
	       json_get_string(d, "started_at") ? json_get_string(d, "started_at") : "?",
	       (long long)json_get_int(d, "workers", 0), (long long)json_get_int(d, "running", 0),
	       (long long)json_get_int(d, "queued", 0),
	       json_get_bool(d, "stopping", false) ? "; stopping" : "");
	if (json_get_string(d, "listen"))
		printf("HTTP on %s (port %lld)\n", json_get_string(d, "listen"),
		       (long long)json_get_int(d, "listen_port", 0));
}

/* "success 2026-12-04T10:00:00.000Z", or "-" before the first run. Caller frees. */
static char *last_run_text(const cJSON *last)
{
	const char *status = json_get_string(last, "status");
	const char *started = json_get_string(last, "started_at");

	if (!cJSON_IsObject(last))
		return xstrdup("-");
	return xasprintf("%s%s%s", status ? status : "?", started ? " " : "",
			 started ? started : "");
}

static void add_scenario_row(struct table *t, const cJSON *s)
{
	_cleanup_free_ char *schedule = cell(s, "schedule");
	_cleanup_free_ char *next = cell(s, "next_run_at");
	_cleanup_free_ char *last = last_run_text(cJSON_GetObjectItem(s, "last_run"));
	_cleanup_free_ char *running = cell(s, "running");
	_cleanup_free_ char *incomplete = incomplete_text(cJSON_GetObjectItem(s, "incomplete"));
	const char *row[] = { json_get_string(s, "name"),
			      json_get_bool(s, "enabled", true) ? "yes" : "no",
			      schedule,
			      next,
			      last,
			      running,
			      incomplete ? incomplete : "-" };

	table_add_row(t, row);
}

/* Instant triggers: each CloudConvert webhook's state, and the events
 * waiting, one line a scenario that has either. */
static void print_instant(const cJSON *scenarios)
{
	const cJSON *s;
	bool first = true;

	cJSON_ArrayForEach(s, scenarios) {
		const cJSON *webhook = cJSON_GetObjectItem(s, "webhook");
		int64_t queued = json_get_int(s, "events_queued", 0);
		const char *problem = json_get_string(webhook, "problem");

		if (!cJSON_IsObject(webhook) && queued == 0)
			continue;
		if (first)
			printf("\n");
		first = false;
		printf("%s:", json_get_string(s, "name"));
		if (cJSON_IsObject(webhook))
			printf(" webhook %s%s%s%s%s", json_get_string(webhook, "status") ?: "?",
			       json_get_string(webhook, "url") ? " " : "",
			       json_get_string(webhook, "url") ?: "", problem ? ": " : "",
			       problem ?: "");
		if (queued > 0)
			printf("%s%lld events queued", cJSON_IsObject(webhook) ? "; " : " ",
			       (long long)queued);
		printf("\n");
	}
}

/* The human form of a status reply: the daemon, a table of scenarios, the
 * files that failed to load, and the incomplete executions overall. Times
 * stay in the ISO text the daemon sends, as in the other tables. */
static void print_status(const cJSON *reply)
{
	static const char *const headers[] = { "SCENARIO", "ENABLED", "SCHEDULE",   "NEXT RUN",
					       "LAST RUN", "RUNNING", "INCOMPLETE", NULL };
	const cJSON *d = cJSON_GetObjectItem(reply, "daemon");
	const cJSON *scenarios = cJSON_GetObjectItem(reply, "scenarios");
	_cleanup_free_ char *incomplete = incomplete_text(cJSON_GetObjectItem(reply, "incomplete"));
	const char *next = json_get_string(reply, "next_incomplete_attempt_at");
	const cJSON *s, *fallback;
	bool problems = false;
	struct table *t;

	print_daemon_line(d);
	printf("\n");
	if (cJSON_GetArraySize(scenarios) == 0) {
		printf("no scenarios in %s\n", json_get_string(d, "scenarios_dir") ?
						       json_get_string(d, "scenarios_dir") :
						       "the scenarios folder");
	} else {
		t = table_new(headers);
		cJSON_ArrayForEach(s, scenarios)
			add_scenario_row(t, s);
		table_print(t, stdout);
		table_free(t);
	}
	/* The last load's problems, files that never loaded included; an
	 * older daemon only names the scenarios' own. */
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(reply, "problems")) {
		if (!problems)
			printf("\n");
		problems = true;
		printf("%s:%lld:%lld: %s\n", json_get_string(s, "file"),
		       (long long)json_get_int(s, "line", 0),
		       (long long)json_get_int(s, "column", 0), json_get_string(s, "message"));
	}
	fallback = problems ? NULL : scenarios;
	cJSON_ArrayForEach(s, fallback) {
		const char *problem = json_get_string(s, "problem");

		if (!problem)
			continue;
		if (!problems)
			printf("\n");
		problems = true;
		printf("%s\n", problem);
	}
	print_instant(scenarios);
	if (incomplete)
		printf("\nincomplete executions: %s%s%s\n", incomplete,
		       next ? "; next automatic attempt " : "", next ? next : "");
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_json_ cJSON *request = request_new("status");
	_cleanup_json_ cJSON *reply = NULL;
	int r;

	r = parse_options(ctl, argc, argv,
			  "Usage: scenarioctl status [--json]\n\n"
			  "Asks the running scenariod for its state: workers and runs in flight,\n"
			  "every scenario with its schedule, next and last run and incomplete\n"
			  "executions, and the files that failed to load.\n",
			  NULL);
	if (r != 0)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind != argc) {
		fprintf(stderr, "scenarioctl status: takes no arguments\n");
		return EXIT_USAGE;
	}
	reply = call(ctl, request, "status", ctl_daemon_timeout_ms(), &r);
	if (!reply)
		return r;
	if (!json_get_bool(reply, "ok", false))
		return ctl_daemon_reply_error(reply, "status");
	if (ctl->json)
		print_reply_json(reply);
	else
		print_status(reply);
	return EXIT_OK;
}

/* "2 added (a, b)": the count and, when there are any, the names. */
static void print_names(const cJSON *reply, const char *key, const char *sep)
{
	const cJSON *list = cJSON_GetObjectItem(reply, key);
	const cJSON *name;
	bool first = true;

	printf("%s%d %s", sep, cJSON_GetArraySize(list), key);
	if (cJSON_GetArraySize(list) == 0)
		return;
	printf(" (");
	cJSON_ArrayForEach(name, list) {
		printf("%s%s", first ? "" : ", ", cJSON_IsString(name) ? name->valuestring : "?");
		first = false;
	}
	printf(")");
}

/* Each problem as validate reports one, on stderr: they explain the exit code. */
static void print_problems(const cJSON *reply)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItem(reply, "problems"))
		fprintf(stderr, "%s:%lld:%lld: error: %s\n",
			json_get_string(p, "file") ? json_get_string(p, "file") : "?",
			(long long)json_get_int(p, "line", 0),
			(long long)json_get_int(p, "column", 0),
			json_get_string(p, "message") ? json_get_string(p, "message") : "");
}

int cmd_reload(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_json_ cJSON *request = request_new("reload");
	_cleanup_json_ cJSON *reply = NULL;
	bool ok, summary;
	int r;

	r = parse_options(
		ctl, argc, argv,
		"Usage: scenarioctl reload [--json]\n\n"
		"Asks the running scenariod to read its scenarios and connections again.\n"
		"A file that fails to load is reported as FILE:LINE:COL: error: MESSAGE\n"
		"and its previous version keeps running; the exit code is then 65.\n",
		NULL);
	if (r != 0)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind != argc) {
		fprintf(stderr, "scenarioctl reload: takes no arguments\n");
		return EXIT_USAGE;
	}
	reply = call(ctl, request, "reload", ctl_daemon_timeout_ms(), &r);
	if (!reply)
		return r;
	ok = json_get_bool(reply, "ok", false);
	/* A refusal (the daemon is stopping, say) carries no summary. */
	summary = cJSON_IsArray(cJSON_GetObjectItem(reply, "added"));
	if (ctl->json && (ok || summary)) {
		print_reply_json(reply);
	} else if (summary) {
		print_names(reply, "added", "reloaded: ");
		print_names(reply, "changed", ", ");
		print_names(reply, "removed", ", ");
		printf(", %lld unchanged\n", (long long)json_get_int(reply, "unchanged", 0));
		print_problems(reply);
	}
	return ok ? EXIT_OK : ctl_daemon_reply_error(reply, "reload");
}

/* Without --wait: what the daemon did with the request. */
static void print_trigger(const cJSON *reply, const char *name)
{
	const char *id = json_get_string(reply, "execution_id");

	if (json_get_bool(reply, "queued", false) && id)
		printf("queued execution %s of '%s' (all workers are busy)\n", id, name);
	else if (json_get_bool(reply, "queued", false))
		printf("queued a run of '%s' (all workers are busy)\n", name);
	else if (id)
		printf("started execution %s of '%s'\n", id, name);
	else
		printf("started a run of '%s'\n", name);
}

/* With --wait: the run document, printed and judged as `run` does. */
static int finish_wait(struct ctl *ctl, const cJSON *reply)
{
	const cJSON *run = cJSON_GetObjectItem(reply, "run");
	int code;

	if (!cJSON_IsObject(run)) {
		fprintf(stderr, "scenarioctl trigger: scenariod's reply holds no run document\n");
		return EXIT_INTERNAL;
	}
	ctl_print_run(ctl, run);
	code = ctl_exit_code_for_status(json_get_string(run, "status"));
	if (code == EXIT_INTERNAL)
		fprintf(stderr, "scenarioctl trigger: the run ended with an unknown status '%s'\n",
			json_get_string(run, "status") ? json_get_string(run, "status") : "");
	return code;
}

int cmd_trigger(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_json_ cJSON *request = request_new("trigger");
	_cleanup_json_ cJSON *reply = NULL;
	const char *name;
	bool wait = false;
	int r;

	r = parse_options(ctl, argc, argv,
			  "Usage: scenarioctl trigger NAME [--wait] [--json]\n\n"
			  "Asks the running scenariod to start a run of NAME now, whatever its\n"
			  "schedule. It is queued when all workers are busy. With --wait the\n"
			  "command waits for the run to end, prints it as 'run' does and exits\n"
			  "like 'run' (0, 1 or 3); Ctrl-C stops the waiting, not the run.\n"
			  "Exits 75 when the scenario is sequential and has unresolved\n"
			  "incomplete executions.\n",
			  &wait);
	if (r != 0)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind + 1 != argc) {
		fprintf(stderr, "scenarioctl trigger: name one scenario\n");
		return EXIT_USAGE;
	}
	name = argv[optind];
	cJSON_AddStringToObject(request, "scenario", name);
	cJSON_AddBoolToObject(request, "wait", wait);

	/* A run may take hours: --wait waits as long as it takes. */
	reply = call(ctl, request, "trigger", wait ? 0 : ctl_daemon_timeout_ms(), &r);
	if (!reply)
		return r;
	if (!json_get_bool(reply, "ok", false))
		return ctl_daemon_reply_error(reply, "trigger");
	if (wait)
		return finish_wait(ctl, reply);
	if (ctl->json)
		print_reply_json(reply);
	else
		print_trigger(reply, name);
	return EXIT_OK;
}
