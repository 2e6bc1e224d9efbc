/* SPDX-License-Identifier: MIT */
/*
 * scenariod's life (daemon.h): it takes its state directory, opens the
 * store, loads the connections and the scenario folder, listens on its
 * control socket and tells systemd READY=1; then it recovers what a killed
 * predecessor left (runner_recover) before the scheduler starts, so nothing
 * new runs on top of unfinished business.
 *
 * SIGHUP reloads (RELOADING=1 … READY=1). SIGTERM and SIGINT stop it in
 * three steps: no new work (queued runs are dropped and their slots given
 * back, runs in flight are asked to stop before their next module and store
 * the rest as incomplete executions); after --stop-timeout the modules in
 * flight are cancelled too; ten seconds later whatever still runs is left
 * to the next start's recovery. Then it exits 0.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon/notify.h"
#include "scenarios/connections.h"
#include "scenarios/engine.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define GIVE_UP_MS (10 * 1000) /* after the cancels, how long a stop still waits */

static void maybe_finish(struct daemon *d);

/* Problems of the connections file become reload problems. */
static void add_diags(struct reload_report *report, const struct diag_list *diags)
{
	for (size_t i = 0; i < diags->count; i++) {
		const struct diag *p = &diags->items[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "file", p->file ? p->file : "");
		cJSON_AddNumberToObject(o, "line", p->line);
		cJSON_AddNumberToObject(o, "column", p->column);
		cJSON_AddStringToObject(o, "message", p->message);
		cJSON_AddItemToArray(report->problems, o);
	}
}

/* The connections file: a missing one is an empty set (a module that needs
 * a connection then names the file to write); an invalid one is refused. */
static int load_connections(struct daemon *d, struct connections **ret,
			    struct reload_report *report)
{
	struct diag_list diags;
	int r;

	diag_list_init(&diags);
	r = connections_load_file(d->config->connections, ret, &diags);
	if (r == -ENOENT) {
		*ret = connections_new_empty(d->config->connections);
		r = 0;
	}
	diag_list_sort(&diags);
	add_diags(report, &diags);
	diag_list_done(&diags);
	return r;
}

static void log_problems(const struct reload_report *report)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, report->problems)
		log_warning(DAEMON, "%s:%lld:%lld: %s", json_get_string(p, "file"),
			    (long long)json_get_int(p, "line", 0),
			    (long long)json_get_int(p, "column", 0), json_get_string(p, "message"));
}

static void log_report(const struct reload_report *report)
{
	log_problems(report);
	log_info(DAEMON,
		 "Scenarios loaded: added=%d changed=%d removed=%d unchanged=%d problems=%d",
		 cJSON_GetArraySize(report->added), cJSON_GetArraySize(report->changed),
		 cJSON_GetArraySize(report->removed), report->unchanged,
		 cJSON_GetArraySize(report->problems));
}

/* Webhooks and queued events follow what the folder now holds: removed
 * scenarios lose their webhooks, the others are registered as needed, and
 * events that waited for a scenario are taken. */
static void after_load(struct daemon *d, const struct reload_report *report)
{
	const cJSON *name;

	if (d->recovering)
		return; /* on_recover_done does it all */
	cJSON_ArrayForEach(name, report->removed)
		registrations_forget(d, name->valuestring);
	registrations_sync(d, NULL);
	for (size_t i = 0; i < d->catalog.count; i++)
		instant_kick(d, d->catalog.items[i]);
}

int daemon_reload(struct daemon *d, struct reload_report *report)
{
	struct connections *connections = NULL;
	int r;

	notify_sendf("RELOADING=1\nMONOTONIC_USEC=%llu",
		     (unsigned long long)time_monotonic_ms() * 1000);
	if (load_connections(d, &connections, report) == 0)
		runner_set_connections(d->runner, connections);
	else
		log_warning(DAEMON,
			    "The connections file '%s' did not load; the previous one "
			    "stays in use",
			    d->config->connections);
	r = catalog_reload(d, report);
	if (r < 0)
		log_error_errno(DAEMON, r, "Cannot read the scenario folder '%s': %m",
				d->config->scenarios_dir);
	after_load(d, report);
	log_report(report);
	notify_sendf("READY=1\nSTATUS=%zu scenarios, %d workers", d->catalog.count,
		     d->config->workers);
	return r;
}

int daemon_set_enabled(struct daemon *d, struct daemon_scenario *s, bool enabled)
{
	int r;

	r = store_scenario_set_enabled(d->engine->store, s->name, enabled,
				       enabled ? NULL : "disabled by hand");
	if (r < 0)
		return r;
	s->enabled = enabled;
	log_notice(SCHED, "Scenario '%s' %s", s->name, enabled ? "enabled" : "disabled");
	if (enabled)
		scheduler_plan(d, s, true);
	else
		scheduler_unplan(d, s);
	/* Its waiting attempts and events may go now; its webhook follows. */
	scheduler_incomplete_changed(d);
	registrations_sync(d, s);
	instant_kick(d, s);
	return 0;
}

void daemon_after_job(struct daemon *d, const char *scenario)
{
	struct daemon_scenario *s = scenario ? catalog_find(&d->catalog, scenario) : NULL;
	struct store_scenario_state state;

	if (s && store_scenario_get(d->engine->store, s->name, &state) == 0) {
		if (s->enabled && !state.enabled) {
			log_notice(SCHED, "Scenario '%s' was deactivated: %s", s->name,
				   state.disabled_reason ? state.disabled_reason : "disabled");
			s->enabled = false;
			scheduler_unplan(d, s);
		}
		store_scenario_state_done(&state);
	}
	scheduler_incomplete_changed(d);
	maybe_finish(d);
}

static void on_watchdog(uv_timer_t *timer)
{
	(void)timer;
	notify_send("WATCHDOG=1");
}

/* The stop's bounds: cancel what still runs, then leave it to recovery. */
static void on_stop_timer(uv_timer_t *timer)
{
	struct daemon *d = container_of(timer, struct daemon, stop_timer);

	if (d->stop_phase == 1) {
		d->stop_phase = 2;
		log_notice(DAEMON,
			   "Stop: %d run%s did not reach a safe point within %lld ms; "
			   "cancelling the modules in flight",
			   d->running, d->running == 1 ? "" : "s",
			   (long long)d->config->stop_timeout_ms);
		work_stop(d, true);
		uv_timer_start(&d->stop_timer, on_stop_timer, GIVE_UP_MS, 0);
		return;
	}
	d->stop_phase = 3;
	log_warning(DAEMON, "Stop: %d run%s did not end; the next start recovers %s", d->running,
		    d->running == 1 ? "" : "s", d->running == 1 ? "it" : "them");
	uv_stop(&d->engine->loop);
}

static void maybe_finish(struct daemon *d)
{
	if (d->stop_phase == 0 || d->running > 0 || d->recovering || runner_recovering(d->runner))
		return;
	uv_stop(&d->engine->loop);
}

void daemon_shutdown(struct daemon *d)
{
	if (d->stop_phase > 0) {
		/* A second signal: do not wait for the safe points. */
		if (d->stop_phase == 1)
			on_stop_timer(&d->stop_timer);
		return;
	}
	d->stop_phase = 1;
	notify_send("STOPPING=1");
	/* No new requests: callers still waiting get 503 (their events stay
	 * queued), CloudConvert delivers again later. */
	http_front_stop(d);
	registrations_stop(d);
	log_notice(DAEMON, "Stopping: %d run%s in flight stop at a safe point (up to %lld ms)",
		   d->running, d->running == 1 ? "" : "s", (long long)d->config->stop_timeout_ms);
	scheduler_stop(d);
	work_stop(d, false);
	uv_timer_start(&d->stop_timer, on_stop_timer, (uint64_t)d->config->stop_timeout_ms, 0);
	maybe_finish(d);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	struct daemon *d = handle->data;

	if (signum == SIGHUP) {
		struct reload_report report;

		log_info(DAEMON, "SIGHUP: reloading");
		reload_report_init(&report);
		daemon_reload(d, &report);
		reload_report_done(&report);
		return;
	}
	log_info(DAEMON, "%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	daemon_shutdown(d);
}

static void on_recover_done(int recovered, void *userdata)
{
	struct daemon *d = userdata;

	d->recovering = false;
	if (recovered > 0)
		log_notice(RUN, "Recovered %d execution%s left by a stopped scenariod", recovered,
			   recovered == 1 ? "" : "s");
	if (d->stop_phase == 0) {
		scheduler_start(d);
		registrations_sync(d, NULL);
		for (size_t i = 0; i < d->catalog.count; i++)
			instant_kick(d, d->catalog.items[i]);
	}
	maybe_finish(d);
}

void daemon_log_recovered(int64_t execution_id, const char *scenario, int64_t incomplete_id,
			  const char *note, void *userdata)
{
	(void)userdata;
	(void)incomplete_id;
	log_notice(RUN, "Recovered execution=%lld scenario='%s': %s", (long long)execution_id,
		   scenario ? scenario : "?", note);
}

static int make_state_dir(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Everything up to the control socket; an exit code of docs/cli.md, 0 when
 * all is open. */
static int open_all(struct daemon *d)
{
	struct daemon_config *c = d->config;
	struct connections *connections = NULL;
	struct reload_report report;
	_cleanup_free_ char *message = NULL;
	long other = 0;
	int r;

	r = make_state_dir(c->state_dir);
	if (r < 0) {
		log_error_errno(DAEMON, r, "Cannot create the state directory '%s': %m",
				c->state_dir);
		return 73;
	}
	r = daemon_lock_take(c->state_dir, &d->lock_fd, &other, &message);
	if (r < 0) {
		log_error(DAEMON, "%s", message);
		return r == -EBUSY ? 75 : 73;
	}
	reload_report_init(&report);
	r = load_connections(d, &connections, &report);
	log_problems(&report);
	reload_report_done(&report);
	if (r < 0) {
		log_error(DAEMON, "The connections file '%s' is not valid; fix it and start again",
			  c->connections);
		return 65;
	}
	r = engine_open(c->state_dir, NULL, &d->engine, &message);
	if (r < 0) {
		log_error(DAEMON, "%s", message ? message : strerror(-r));
		connections_free(connections);
		return r == -EPROTO ? 65 : 73;
	}
	/* Runs reach the HTTP front's callers through the module environment. */
	d->engine->env.webhooks = &hooks_host;
	d->engine->env.webhooks_userdata = d;
	runner_new(d->engine, &c->runner, connections, &d->runner);
	scheduler_init(d);
	reload_report_init(&report);
	r = catalog_reload(d, &report);
	if (r < 0)
		log_error_errno(DAEMON, r, "Cannot read the scenario folder '%s': %m",
				c->scenarios_dir);
	log_report(&report);
	reload_report_done(&report);
	free(TAKE_PTR(message));
	r = control_open(d, c->socket_path, &d->control, &message);
	if (r < 0) {
		log_error(DAEMON, "%s", message);
		return 73;
	}
	free(TAKE_PTR(message));
	r = http_front_start(d, &message);
	if (r < 0) {
		log_error(DAEMON, "Cannot listen on '%s': %s", c->listen,
			  message ? message : strerror(-r));
		return r == -EINVAL ? 64 : 73;
	}
	return 0;
}

static void start_handles(struct daemon *d)
{
	uv_loop_t *loop = &d->engine->loop;
	uint64_t usec;

	uv_signal_init(loop, &d->sigterm);
	uv_signal_init(loop, &d->sigint);
	uv_signal_init(loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sighup, on_signal, SIGHUP);
	uv_timer_init(loop, &d->stop_timer);
	uv_timer_init(loop, &d->watchdog);
	if (notify_watchdog_usec(&usec) == 0 && usec >= 2000) {
		uint64_t every = usec / 2000;

		uv_timer_start(&d->watchdog, on_watchdog, every, every);
	}
}

static void close_handles(struct daemon *d)
{
	uv_handle_t *handles[] = {
		(uv_handle_t *)&d->sigterm,  (uv_handle_t *)&d->sigint,
		(uv_handle_t *)&d->sighup,   (uv_handle_t *)&d->stop_timer,
		(uv_handle_t *)&d->watchdog,
	};

	for (size_t i = 0; i < ELEMENTSOF(handles); i++)
		if (!uv_is_closing(handles[i]))
			uv_close(handles[i], NULL);
	if (d->scheduler.running || !uv_is_closing((uv_handle_t *)&d->scheduler.timer))
		scheduler_stop(d);
	control_close(d->control);
	d->control = NULL;
	http_front_stop(d);
	registrations_stop(d);
}

int daemon_main(struct daemon_config *config)
{
	struct daemon d = { .config = config, .lock_fd = -1 };
	int r;

	d.started_at = time_now_ms();
	log_info(DAEMON,
		 "scenariod %s starting: state_dir='%s' scenarios='%s' socket='%s' "
		 "workers=%d",
		 PACKAGE_VERSION, config->state_dir, config->scenarios_dir, config->socket_path,
		 config->workers);
	if (config->public_url && !config->listen)
		log_warning(DAEMON,
			    "--public-url without --listen: CloudConvert would deliver to a "
			    "daemon that does not listen");
	r = open_all(&d);
	if (r == 0) {
		start_handles(&d);
		d.taking_work = true;
		d.recovering = true;
		if (runner_recover(d.runner, daemon_log_recovered, on_recover_done, &d) < 0) {
			log_warning(RUN, "Cannot look for executions left by a stopped scenariod");
			on_recover_done(0, &d);
		}
		notify_sendf("READY=1\nSTATUS=%zu scenarios, %d workers\nMAINPID=%ld",
			     d.catalog.count, config->workers, (long)getpid());
		log_notice(DAEMON, "Ready: %zu scenarios, %d workers, control socket '%s'",
			   d.catalog.count, config->workers, config->socket_path);
		uv_run(&d.engine->loop, UV_RUN_DEFAULT);
		close_handles(&d);
		r = d.stop_phase == 3 ? -1 : 0;
	} else if (d.engine) {
		/* Opening stopped half-way: what it opened on the loop closes
		 * before the engine runs the loop dry. */
		scheduler_stop(&d);
		control_close(TAKE_PTR(d.control));
		http_front_stop(&d);
	}
	if (r == -1) {
		/* Runs that did not stop still point into the runner: the
		 * process ends without taking them apart (main() uses _exit). */
		return -1;
	}
	if (d.engine)
		uv_run(&d.engine->loop, UV_RUN_NOWAIT);
	catalog_done(&d.catalog);
	d.runner = runner_free(d.runner);
	d.engine = engine_close(d.engine);
	free(d.registrations);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	if (r == 0)
		log_notice(DAEMON, "Stopped");
	return r;
}
