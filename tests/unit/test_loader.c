/* SPDX-License-Identifier: MIT */
/*
 * The scenario loader and validator. Every file in
 * tests/fixtures/scenarios/invalid/ states the diagnostics it must produce
 * in its first lines (`# expect: LINE:COL MESSAGE-SUBSTRING`), and exactly
 * those must appear, in that order; every file in valid/ must load without
 * any. The cases below check the model the valid files give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/module.h"
#include "scenarios/mapping.h"
#include "scenarios/scenario.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define MAX_EXPECT 16

struct expect {
	int line, column;
	char message[256];
};

static char *fixture_path(const char *relative)
{
	const char *dir = getenv("FIXTURES");

	assert_non_null(dir);
	return xasprintf("%s/%s", dir, relative);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml names in a fixture folder, sorted; NULL-terminated. */
static char **list_yaml(const char *relative, size_t *ret_count)
{
	_cleanup_free_ char *dir = fixture_path(relative);
	DIR *d = opendir(dir);
	char **names = xcalloc(1, sizeof(*names));
	size_t n = 0;
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		names = xrealloc(names, (n + 2) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), compare_names);
	names[n] = NULL;
	*ret_count = n;
	return names;
}

static void free_names(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

/* Reads the `# expect:` lines at the top of a fixture. */
static size_t read_expectations(const char *text, struct expect *out)
{
	size_t n = 0;
	const char *line = text;

	while (strncmp(line, "# expect: ", 10) == 0 && n < MAX_EXPECT) {
		const char *end = strchr(line, '\n');
		int used = 0;

		if (!end)
			end = line + strlen(line);
		if (sscanf(line + 10, "%d:%d %n", &out[n].line, &out[n].column, &used) < 2)
			fail_msg("bad expect line: %.*s", (int)(end - line), line);
		snprintf(out[n].message, sizeof(out[n].message), "%.*s",
			 (int)(end - (line + 10 + used)), line + 10 + used);
		n++;
		line = *end ? end + 1 : end;
	}
	return n;
}

static bool check_invalid(const char *name, struct strbuf *report)
{
	_cleanup_free_ char *relative = xasprintf("scenarios/invalid/%s", name);
	_cleanup_free_ char *path = fixture_path(relative);
	_cleanup_free_ char *text = helpers_read_fixture(relative, NULL);
	struct expect expects[MAX_EXPECT];
	struct scenario *scenario = NULL;
	struct diag_list diags;
	size_t n = read_expectations(text, expects);
	bool ok = true;
	int r;

	if (n == 0) {
		strbuf_printf(report, "%s: no '# expect:' line\n", name);
		return false;
	}
	diag_list_init(&diags);
	r = scenario_load_file(path, &scenario, &diags);
	if (r != -EINVAL || scenario) {
		strbuf_printf(report, "%s: load returned %d\n", name, r);
		ok = false;
	}
	for (size_t i = 0; i < n || i < diags.count; i++) {
		const struct diag *d = i < diags.count ? &diags.items[i] : NULL;
		const struct expect *e = i < n ? &expects[i] : NULL;

		if (d && e && d->line == e->line && d->column == e->column &&
		    strstr(d->message, e->message) && streq_ptr(d->file, path))
			continue;
		ok = false;
		if (e)
			strbuf_printf(report, "%s: expected %d:%d %s\n", name, e->line, e->column,
				      e->message);
		if (d)
			strbuf_printf(report, "%s:      got %d:%d %s\n", name, d->line, d->column,
				      d->message);
	}
	diag_list_done(&diags);
	scenario_free(scenario);
	return ok;
}

static void test_invalid_fixtures(void **state)
{
	size_t count = 0, failed = 0;
	char **names = list_yaml("scenarios/invalid", &count);
	struct strbuf report;

	(void)state;
	strbuf_init(&report);
	assert_true(count >= 25);
	for (size_t i = 0; i < count; i++)
		failed += !check_invalid(names[i], &report);
	if (failed) {
		fputs(report.data, stderr); /* cmocka cuts long messages */
		fail_msg("%zu of %zu invalid fixtures differ", failed, count);
	}
	strbuf_done(&report);
	free_names(names);
}

static struct scenario *load_valid(const char *name)
{
	_cleanup_free_ char *relative = xasprintf("scenarios/valid/%s", name);
	_cleanup_free_ char *path = fixture_path(relative);
	struct scenario *scenario = NULL;
	struct diag_list diags;
	int r;

	diag_list_init(&diags);
	r = scenario_load_file(path, &scenario, &diags);
	if (r < 0 || diags.count > 0) {
		struct strbuf sb;

		strbuf_init(&sb);
		for (size_t i = 0; i < diags.count; i++) {
			_cleanup_free_ char *line = diag_format(&diags.items[i]);

			strbuf_printf(&sb, "%s\n", line);
		}
		fail_msg("%s: r=%d\n%s", name, r, sb.data ? sb.data : "");
	}
	diag_list_done(&diags);
	assert_string_equal(scenario->path, path);
	return scenario;
}

static void test_valid_fixtures(void **state)
{
	size_t count = 0;
	char **names = list_yaml("scenarios/valid", &count);

	(void)state;
	assert_true(count >= 4);
	for (size_t i = 0; i < count; i++)
		scenario_free(load_valid(names[i]));
	free_names(names);
}

static const struct template *with_field(const struct flow_node *node, const char *key)
{
	for (size_t i = 0; node->with && i < node->with->count; i++)
		if (streq(node->with->keys[i], key))
			return node->with->children[i];
	return NULL;
}

static void test_valid_full_model(void **state)
{
	struct scenario *s = load_valid("full.yaml");
	const struct flow_node *n, *router;
	const struct template *t;

	(void)state;
	assert_string_equal(s->name, "inbox-to-outbox");
	assert_string_equal(s->description, "Copy new reports, log the big ones");
	assert_string_equal(s->timezone, "Europe/Amsterdam");
	assert_non_null(strstr(s->source, "inbox-to-outbox"));

	assert_int_equal(s->schedule.kind, SCHEDULE_INTERVAL);
	assert_int_equal(s->schedule.interval_ms, 15 * 60 * 1000);

	assert_true(s->settings.store_incomplete);
	assert_true(s->settings.sequential);
	assert_int_equal(s->settings.max_consecutive_errors, 5);
	assert_int_equal(s->settings.max_cycles, 2);
	assert_int_equal(s->settings.timeout_ms, 10 * 60 * 1000);
	assert_int_equal(s->settings.max_file_size, 5 * 1000 * 1000);
	assert_false(s->settings.confidential);
	assert_true(s->settings.auto_commit);

	assert_int_equal(s->flow.count, 4);
	n = s->flow.nodes[0];
	assert_string_equal(n->id, "1");
	assert_string_equal(n->module_name, "files.watch");
	assert_int_equal(n->desc->kind, MODULE_TRIGGER_POLLING);
	assert_int_equal(n->pos.line, 17);
	assert_int_equal(n->pos.column, 5);
	t = with_field(n, "limit");
	assert_int_equal(t->kind, TEMPLATE_CONSTANT);
	assert_int_equal(t->constant->valueint, 10);
	t = with_field(n, "pattern");
	assert_int_equal(t->kind, TEMPLATE_CONSTANT);
	assert_string_equal(t->constant->valuestring, "*.docx");

	n = s->flow.nodes[1];
	assert_string_equal(n->id, "read");
	assert_string_equal(n->label, "Read the file");
	assert_int_equal(with_field(n, "path")->kind, TEMPLATE_MAPPING);
	assert_non_null(n->on_error);
	assert_int_equal(n->on_error->directive, DIRECTIVE_BREAK);
	assert_int_equal(n->on_error->retry_attempts, 3);
	assert_int_equal(n->on_error->retry_interval_ms, 60 * 1000);
	assert_int_equal(n->on_error->error_types,
			 (1u << ERROR_CONNECTION) | (1u << ERROR_RATE_LIMIT));
	assert_int_equal(n->on_error->flow.count, 1);
	assert_string_equal(n->on_error->flow.nodes[0]->module_name, "builtin.log");

	n = s->flow.nodes[2];
	assert_non_null(n->when);
	assert_int_equal(n->when_pos.line, 36);
	t = with_field(n, "variables");
	assert_int_equal(t->kind, TEMPLATE_OBJECT);
	assert_int_equal(t->count, 2);
	assert_int_equal(t->children[1]->kind, TEMPLATE_ARRAY);

	router = s->flow.nodes[3];
	assert_int_equal(router->kind, FLOW_ROUTER);
	assert_int_equal(router->route_count, 2);
	assert_string_equal(router->routes[0].label, "big");
	assert_non_null(router->routes[0].when);
	assert_false(router->routes[0].fallback);
	assert_true(router->routes[1].fallback);
	assert_null(router->routes[1].when);
	assert_int_equal(router->routes[0].flow.count, 1);
	assert_int_equal(router->routes[1].flow.count, 2);

	n = scenario_find_node(s, "20");
	assert_non_null(n);
	assert_string_equal(n->module_name, "builtin.log");
	n = scenario_find_node(s, "write_small");
	assert_non_null(n);
	assert_string_equal(n->module_name, "files.write");
	assert_null(scenario_find_node(s, "nope"));
	scenario_free(s);
}

static void test_valid_aggregate_model(void **state)
{
	struct scenario *s = load_valid("aggregate.yaml");
	const struct flow_node *agg;
	const struct error_handler *h;

	(void)state;
	/* No `scenario:` key: the file's stem names it. */
	assert_string_equal(s->name, "aggregate");
	assert_int_equal(s->schedule.kind, SCHEDULE_ON_DEMAND);
	assert_string_equal(s->timezone, "UTC");
	/* Defaults from the Settings table. */
	assert_false(s->settings.store_incomplete);
	assert_false(s->settings.sequential);
	assert_int_equal(s->settings.max_consecutive_errors, 3);
	assert_int_equal(s->settings.max_cycles, 1);
	assert_int_equal(s->settings.timeout_ms, 40 * 60 * 1000);
	assert_int_equal(s->settings.max_file_size, 100 * 1024 * 1024);
	assert_false(s->settings.confidential);
	assert_false(s->settings.data_loss);
	assert_true(s->settings.auto_commit);
	assert_true(s->settings.commit_trigger_last);

	/* An action may start an on-demand scenario. */
	assert_string_equal(s->flow.nodes[0]->module_name, "http.request");
	agg = scenario_find_node(s, "4");
	assert_int_equal(agg->desc->kind, MODULE_AGGREGATOR);
	assert_int_equal(with_field(agg, "source")->kind, TEMPLATE_CONSTANT);
	assert_int_equal(with_field(agg, "value")->kind, TEMPLATE_MAPPING);

	h = scenario_find_node(s, "5")->on_error;
	assert_int_equal(h->directive, DIRECTIVE_RESUME);
	assert_int_equal(h->flow.count, 0);
	assert_int_equal(h->error_types, 0);
	assert_int_equal(h->resume_output->kind, TEMPLATE_OBJECT);
	assert_int_equal(h->resume_output->children[0]->kind, TEMPLATE_MAPPING);
	scenario_free(s);
}

static struct scenario *load_text(const char *text, const char *filename, struct diag_list *diags)
{
	struct scenario *s = NULL;

	diag_list_init(diags);
	if (scenario_load_string(text, strlen(text), filename, &s, diags) < 0)
		return NULL;
	return s;
}

#define FLOW_LOG "flow:\n  - id: 1\n    module: builtin.log\n    with: {message: hi}\n"

static void test_schedules(void **state)
{
	static const struct {
		const char *yaml;
		enum schedule_kind kind;
		int times[3];
		uint8_t weekdays;
		uint32_t monthdays;
		int64_t first_instant;
	} cases[] = {
		{ "schedule: on-demand\n", SCHEDULE_ON_DEMAND, { -1 } },
		{ "schedule: {daily: [\"17:30\", \"08:00\"]}\n", SCHEDULE_DAILY, { 480, 1050, -1 } },
		{ "schedule: {daily: \"8:05\"}\n", SCHEDULE_DAILY, { 485, -1 } },
		{ "schedule: {weekly: {days: [mon, fri], at: [\"09:00\"]}}\n",
		  SCHEDULE_WEEKLY,
		  { 540, -1 },
		  (1u << 1) | (1u << 5) },
		{ "schedule: {monthly: {days: [1, 15, last], at: \"06:00\"}}\n",
		  SCHEDULE_MONTHLY,
		  { 360, -1 },
		  0,
		  (1u << 1) | (1u << 15) | 1u },
		/* 2026-12-01T08:00 in Amsterdam (UTC+1 in winter) is 07:00 UTC. */
		{ "timezone: Europe/Amsterdam\nschedule: {once: 2026-12-01T08:00:00}\n",
		  SCHEDULE_ONCE,
		  { -1 },
		  0,
		  0,
		  1796108400000 },
		{ "timezone: Europe/Amsterdam\nschedule: {once: \"2026-12-01T08:00:00Z\"}\n",
		  SCHEDULE_ONCE,
		  { -1 },
		  0,
		  0,
		  1796112000000 },
		{ "schedule: {dates: [2026-12-31T10:00, 2026-12-24T10:00]}\n",
		  SCHEDULE_DATES,
		  { -1 },
		  0,
		  0,
		  1798106400000 },
		{ "schedule: {cron: \"*/5 8-18 * jan-jun mon-fri,0\"}\n", SCHEDULE_CRON, { -1 } },
		{ "schedule: instant\nflow:\n  - {id: 1, module: builtin.log, with: {message: x}}\n",
		  SCHEDULE_INSTANT,
		  { -1 } },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = NULL;
		struct diag_list diags;
		struct scenario *s;

		if (cases[i].kind == SCHEDULE_INSTANT)
			continue; /* needs an instant trigger; see the invalid fixtures */
		text = xasprintf("%s%s", cases[i].yaml, FLOW_LOG);
		s = load_text(text, "case.yaml", &diags);
		if (!s)
			fail_msg("case %zu: %s", i,
				 diags.count ? diags.items[0].message : "no diagnostic");
		assert_int_equal(s->schedule.kind, cases[i].kind);
		for (size_t t = 0; cases[i].times[t] >= 0; t++) {
			assert_true(t < s->schedule.time_count);
			assert_int_equal(s->schedule.times[t], cases[i].times[t]);
		}
		assert_int_equal(s->schedule.weekdays, cases[i].weekdays);
		assert_int_equal(s->schedule.monthdays, cases[i].monthdays);
		if (cases[i].first_instant) {
			assert_true(s->schedule.instant_count >= 1);
			assert_int_equal(s->schedule.instants[0], cases[i].first_instant);
		}
		if (cases[i].kind == SCHEDULE_CRON)
			assert_string_equal(s->schedule.cron, "*/5 8-18 * jan-jun mon-fri,0");
		diag_list_done(&diags);
		scenario_free(s);
	}
}

static void test_bad_cron_fields(void **state)
{
	static const struct {
		const char *cron;
		int column; /* of the bad item in `schedule: {cron: "..."}` */
		const char *message;
	} cases[] = {
		{ "60 * * * *", 19, "minute field: '60' is out of range 0-59" },
		{ "* 24 * * *", 21, "hour field: '24' is out of range 0-23" },
		{ "* * 0 * *", 23, "day of month field: '0' is out of range 1-31" },
		{ "* * * 13 *", 25, "month field: '13' is out of range 1-12" },
		{ "* * * * 8", 27, "day of week field: '8' is out of range 0-7" },
		{ "*/0 * * * *", 21, "minute field: step '0' must be 1 to 60" },
		{ "5-1 * * * *", 19, "minute field: range '5-1' runs backwards" },
		{ "* * * * mon-fry", 31, "day of week field: 'fry' is not a number or name" },
		{ "1,,2 * * * *", 21, "minute field: empty list item" },
		{ "* * * *", 18, "cron needs five fields" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text =
			xasprintf("schedule: {cron: \"%s\"}\n%s", cases[i].cron, FLOW_LOG);
		struct diag_list diags;

		assert_null(load_text(text, "cron.yaml", &diags));
		if (diags.count != 1 || diags.items[0].line != 1 ||
		    diags.items[0].column != cases[i].column ||
		    !strstr(diags.items[0].message, cases[i].message))
			fail_msg("'%s': %zu diags, first %d:%d %s", cases[i].cron, diags.count,
				 diags.count ? diags.items[0].line : 0,
				 diags.count ? diags.items[0].column : 0,
				 diags.count ? diags.items[0].message : "");
		diag_list_done(&diags);
	}
}

static void test_name_from_file(void **state)
{
	struct diag_list diags;
	struct scenario *s;

	(void)state;
	s = load_text(FLOW_LOG, "/srv/scenarios/Daily.Report.yaml", &diags);
	assert_non_null(s);
	assert_string_equal(s->name, "daily.report");
	assert_null(s->path); /* only scenario_load_file knows a path */
	assert_string_equal(s->source, FLOW_LOG);
	scenario_free(s);
	diag_list_done(&diags);

	assert_null(load_text(FLOW_LOG, "/srv/My Report.yaml", &diags));
	assert_int_equal(diags.count, 1);
	assert_non_null(strstr(diags.items[0].message, "'my report', which is not a valid name"));
	diag_list_done(&diags);

	assert_null(load_text(FLOW_LOG, NULL, &diags));
	assert_non_null(strstr(diags.items[0].message, "missing 'scenario'"));
	assert_null(diags.items[0].file);
	diag_list_done(&diags);
}

static const cJSON *resolve(void *userdata, const char *root)
{
	return streq(root, "1") ? userdata : NULL;
}

static void test_template_eval(void **state)
{
	const char *text = "flow:\n"
			   "  - id: 1\n"
			   "    module: builtin.log\n"
			   "    with: {message: start}\n"
			   "  - id: 2\n"
			   "    module: builtin.set\n"
			   "    with:\n"
			   "      variables:\n"
			   "        name: \"{{1.message}}\"\n"
			   "        text: \"got {{1.message}}!\"\n"
			   "        list: [1, \"{{1.n}}\", true]\n"
			   "        bad: \"{{1.message * 2}}\"\n";
	_cleanup_json_ cJSON *bundle = cJSON_Parse("{\"message\": \"hello\", \"n\": 7}");
	struct mapping_scope scope = { .resolve = resolve, .userdata = bundle };
	_cleanup_free_ char *json = NULL, *msg = NULL;
	const struct template *vars, *good;
	struct template *tmp;
	struct diag_list diags;
	struct scenario *s;
	cJSON *out = NULL;

	(void)state;
	s = load_text(text, "tmpl.yaml", &diags);
	assert_non_null(s);
	vars = with_field(s->flow.nodes[1], "variables");

	/* Evaluate the first three fields only: a copy without "bad". */
	tmp = xcalloc(1, sizeof(*tmp));
	*tmp = *vars;
	tmp->count = 3;
	good = tmp;
	assert_int_equal(template_eval(good, &scope, &out, &msg), 0);
	json = json_print(out);
	assert_string_equal(json,
			    "{\"name\":\"hello\",\"text\":\"got hello!\",\"list\":[1,7,true]}");
	cJSON_Delete(out);
	free(tmp);

	out = NULL;
	assert_int_equal(template_eval(vars, &scope, &out, &msg), -EINVAL);
	assert_null(out);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "field 'bad' at 12:14"));
	scenario_free(s);
	diag_list_done(&diags);
}

static void test_directive_names(void **state)
{
	(void)state;
	for (int d = 0; d < _DIRECTIVE_MAX; d++)
		assert_int_equal(directive_from_string(directive_to_string(d)), d);
	assert_string_equal(directive_to_string(DIRECTIVE_BREAK), "break");
	assert_int_equal(directive_from_string("brake"), -EINVAL);
	assert_null(directive_to_string(_DIRECTIVE_MAX));
}

static void test_file_limits(void **state)
{
	_cleanup_free_ char *dir = helpers_mkdtemp();
	_cleanup_free_ char *path = xasprintf("%s/big.yaml", dir);
	_cleanup_free_ char *missing = xasprintf("%s/missing.yaml", dir);
	size_t size = SCENARIO_MAX_FILE_SIZE + 1;
	_cleanup_free_ char *data = xmalloc(size);
	struct scenario *s = NULL;
	struct diag_list diags;

	(void)state;
	memset(data, '#', size);
	helpers_write_file(path, data, size);
	diag_list_init(&diags);
	assert_int_equal(scenario_load_file(path, &s, &diags), -EFBIG);
	assert_null(s);
	assert_int_equal(diags.count, 1);
	assert_non_null(strstr(diags.items[0].message, "larger than"));
	diag_list_done(&diags);

	assert_int_equal(scenario_load_file(missing, &s, &diags), -ENOENT);
	assert_int_equal(diags.count, 1);
	assert_string_equal(diags.items[0].file, missing);
	diag_list_done(&diags);

	assert_int_equal(scenario_load_file(dir, &s, &diags), -EINVAL);
	diag_list_done(&diags);
	helpers_rmdir_recursive(dir);
}

/* More entries than SCENARIO_MAX_MODULES: one error, not a thousand. */
static void test_module_limit(void **state)
{
	struct strbuf sb;
	struct diag_list diags;

	(void)state;
	strbuf_init(&sb);
	strbuf_puts(&sb, "flow:\n");
	for (int i = 1; i <= SCENARIO_MAX_MODULES + 5; i++)
		strbuf_printf(&sb, "  - {id: %d, module: builtin.log, with: {message: x}}\n", i);
	assert_null(load_text(sb.data, "many.yaml", &diags));
	assert_int_equal(diags.count, 1);
	assert_int_equal(diags.items[0].line, SCENARIO_MAX_MODULES + 2);
	assert_non_null(strstr(diags.items[0].message, "more than 1000 modules"));
	diag_list_done(&diags);
	strbuf_done(&sb);
}

/* A file full of mistakes reports the first ones, sorted, and a count. */
static void test_diag_cap(void **state)
{
	struct strbuf sb;
	struct diag_list diags;

	(void)state;
	strbuf_init(&sb);
	strbuf_puts(&sb, "flow:\n");
	for (int i = 1; i <= 250; i++)
		strbuf_printf(&sb, "  - {id: %d, module: nope.nope}\n", i);
	assert_null(load_text(sb.data, "noisy.yaml", &diags));
	assert_int_equal(diags.count, 201);
	assert_int_equal(diags.items[0].line, 2);
	for (size_t i = 1; i < 200; i++)
		assert_true(diags.items[i].line > diags.items[i - 1].line);
	assert_int_equal(diags.items[200].line, 0);
	assert_string_equal(diags.items[200].message, "50 more problems not shown");
	diag_list_done(&diags);
	strbuf_done(&sb);
}

/* Routes nested past SCENARIO_MAX_NESTING are refused at the spot. */
static void test_nesting_limit(void **state)
{
	struct strbuf sb;
	struct diag_list diags;
	int depth = SCENARIO_MAX_NESTING + 1;

	(void)state;
	strbuf_init(&sb);
	strbuf_puts(&sb, "flow:\n- {id: t, module: builtin.log, with: {message: x}}\n");
	for (int i = 0; i < depth; i++)
		strbuf_printf(&sb, "%*s- id: r%d\n%*s  router:\n%*s  - flow:\n", i * 4, "", i,
			      i * 4, "", i * 4, "");
	strbuf_printf(&sb, "%*s- {id: last, module: builtin.log, with: {message: x}}\n", depth * 4,
		      "");
	assert_null(load_text(sb.data, "deep.yaml", &diags));
	assert_int_equal(diags.count, 1);
	assert_non_null(strstr(diags.items[0].message, "nest deeper than 32"));
	diag_list_done(&diags);
	strbuf_done(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_fixtures),
		cmocka_unit_test(test_valid_fixtures),
		cmocka_unit_test(test_valid_full_model),
		cmocka_unit_test(test_valid_aggregate_model),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_bad_cron_fields),
		cmocka_unit_test(test_name_from_file),
		cmocka_unit_test(test_template_eval),
		cmocka_unit_test(test_directive_names),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_module_limit),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_diag_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
