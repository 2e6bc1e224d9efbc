/* SPDX-License-Identifier: MIT */
/*
 * The scenariod process: what its parts share. One libuv loop (the
 * engine's) owns everything: the HTTP client, the control socket, the
 * scheduler's timer, signals and the runs, which are the runner's jobs
 * (scenarios/runner.h). The store is used from the loop thread: in WAL mode
 * a commit is an append without fsync, well under a millisecond
 * (bench/store), so handing it to the thread pool would cost more than it
 * saves; file copies and hashing, which can take long, go to the uv thread
 * pool inside the modules.
 *
 * The parts, one file each:
 *   config.c    options, environment and defaults
 *   lock.c      one daemon per state directory
 *   catalog.c   the scenario folder: versions, reload
 *   scheduler.c what is due next: scenario slots, incomplete attempts,
 *               housekeeping; a heap (heap.c) and one timer
 *   work.c      the work queue and the worker limit
 *   control.c   the control socket; commands.c its commands
 *   daemon.c    start, signals, reload, watchdog and shutdown
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "daemon/heap.h"
#include "scenarios/runner.h"
#include "util/log.h"

struct control;
struct engine;
struct scenario;
struct tz;

/* ---- configuration (config.c) ---- */

#define DAEMON_MAX_WORKERS 1024

struct daemon_config {
	const char *state_dir; /* borrowed from argv/env, or one of owned[] */
	const char *scenarios_dir;
	const char *connections;
	const char *socket_path;
	const char *listen; /* ADDR:PORT of the HTTP front; NULL: none */
	const char *public_url;
	int workers; /* runs in flight at most */
	int instant_runs; /* runs of one instant scenario at once (unless sequential) */
	int64_t stop_timeout_ms; /* how long SIGTERM waits for runs to reach a safe point */
	struct runner_config runner;
	enum log_level log_level;
	char *owned[8];
};

/* Fills what the options left unset from SCENARIOD_* variables, systemd's
 * directory variables and the defaults of docs/cli.md; -EINVAL with a
 * message (caller frees) for a malformed value. */
int daemon_config_complete(struct daemon_config *config, char **reterr_msg);
void daemon_config_done(struct daemon_config *config);
/* Parses --workers / --stop-timeout / --retry-backoff / --log-level values. */
int daemon_config_set(struct daemon_config *config, const char *key, const char *value,
		      char **reterr_msg);

/* ---- the state directory lock (lock.c) ---- */

/* Takes STATE_DIR/scenariod.lock for this process; -EBUSY when another
 * scenariod holds it (its pid in *ret_other_pid, 0 when unknown). Returns
 * the lock's fd, kept open for the life of the process. */
int daemon_lock_take(const char *state_dir, int *ret_fd, long *ret_other_pid, char **reterr_msg);

/* ---- scenarios (catalog.c) ---- */

/* One loaded version of a scenario file, shared by the runs started with
 * it: a reload replaces the current version, and runs in flight keep
 * theirs. */
struct scenario_version {
	int refs;
	struct scenario *scenario; /* owned */
	const struct tz *tz; /* the scenario's zone, from the catalog's zones; NULL: UTC */
};
struct scenario_version *scenario_version_ref(struct scenario_version *v);
void scenario_version_unref(struct scenario_version *v);

struct trigger_route;

struct daemon_scenario {
	char *name; /* owned */
	char *path; /* owned: the file it was loaded from */
	struct scenario_version *version; /* a reference: the version that runs */
	char *problem; /* owned: why the file's last load failed ("FILE:LINE:COL: …"); NULL */
	bool enabled; /* the store's switch, as last read */
	uint64_t stat_ino; /* the file as last loaded: unchanged files are not read again */
	int64_t stat_size;
	int64_t stat_mtime_ns;
	bool seen; /* catalog_reload(): claimed by a file of this reload */

	/* Scheduling (scheduler.c). */
	struct heap_entry slot; /* queued while a next run is planned */
	int64_t slot_ms; /* the slot `slot` stands for */
	char *schedule_key; /* owned: schedule_key() of the planned slots */
	bool scheduled_active; /* a scheduled run is queued or running */
	bool due_again; /* a slot came while it was: run once more after it */

	int running; /* jobs of this scenario in flight */

	/* Instant triggers (http_front.c, instant in work.c). */
	struct trigger_route *route; /* owned: built for `version` when a request needs it */
	int instant_runs; /* runs started for queued events, queued or running */
	char *webhook_secret; /* owned, secret: the registered webhook's (registrations.c) */
	char *webhook_problem; /* owned: why its webhook is not registered; NULL */

	/* Counters since the daemon started, for GET /metrics. */
	uint64_t runs_by_status[5]; /* indexed by enum execution_status */
	uint64_t operations;
};

/* Loaded zones are immutable: one copy of each, shared by every scenario
 * and run that uses it, for the life of the daemon. */
struct zone_cache {
	struct tz **zones; /* owned */
	size_t count;
};

struct catalog {
	struct daemon_scenario **items; /* owned, sorted by name */
	size_t count;
	struct zone_cache zones;
	cJSON *problems; /* owned: the last load's problems, as in reload_report */
};

struct reload_report {
	cJSON *added; /* owned arrays of names */
	cJSON *changed;
	cJSON *removed;
	int unchanged;
	cJSON *problems; /* owned: [{file, line, column, message}] */
};
void reload_report_init(struct reload_report *report);
void reload_report_done(struct reload_report *report);

struct daemon;
/* Loads the scenario folder (again): added, changed and removed scenarios
 * take effect; a file that fails to load is reported and its previous
 * version (if any) keeps running. */
int catalog_reload(struct daemon *d, struct reload_report *report);
struct daemon_scenario *catalog_find(const struct catalog *catalog, const char *name);
void catalog_done(struct catalog *catalog);

/* ---- the scheduler (scheduler.c) ---- */

#define LAG_SAMPLES 4096

struct scheduler {
	struct heap heap;
	uv_timer_t timer; /* fires at the heap's first due time */
	struct heap_entry incomplete; /* the next automatic attempt of an incomplete execution */
	struct heap_entry housekeeping; /* recovery of others' dead runs, due attempts */
	bool running;
	/* How late entries fired (ms), the last LAG_SAMPLES of them. */
	int64_t lag[LAG_SAMPLES];
	uint64_t lag_count;
};

void scheduler_init(struct daemon *d);
void scheduler_start(struct daemon *d);
void scheduler_stop(struct daemon *d);
/* Plans the scenario's next slot afresh after a load, a change or an
 * enable (`activated`: an interval schedule runs at once, as on
 * activation in Fusion), or from what the store remembers at start. */
void scheduler_plan(struct daemon *d, struct daemon_scenario *s, bool activated);
void scheduler_unplan(struct daemon *d, struct daemon_scenario *s);
/* Something may have changed the earliest due incomplete attempt. */
void scheduler_incomplete_changed(struct daemon *d);
/* Lag percentiles in ms; 0 when nothing fired yet. */
void scheduler_lag(const struct daemon *d, int64_t *ret_p50, int64_t *ret_p99, int64_t *ret_max);

/* ---- work: the queue and the worker limit (work.c) ---- */

struct work;
/* A run or retry asked for by a person (control socket) ended, or was
 * dropped (`job` NULL, with a message). The job is freed after the call. */
typedef void work_done_fn(struct work *work, struct runner_job *job, const char *message,
			  void *userdata);

struct work_request {
	const char *trigger; /* "schedule", "manual" (trigger), "retry" */
	int64_t slot_ms; /* a scheduled run's slot; 0 otherwise */
	int64_t incomplete_id; /* a retry */
	bool current; /* a retry with the scenario's current version, not its snapshot */
	work_done_fn *done; /* MAY be NULL */
	void *userdata;
};

#define WORK_QUEUE_MAX 100000 /* work items waiting for a worker */

/* A run of `s` (its current version) or a retry: it starts now when a
 * worker is free, else it is queued (work_started() tells). Fails without
 * calling req->done: -ESHUTDOWN while stopping, -ENOBUFS when the queue is
 * full, or why it could not start now (a message in *reterr_msg, caller
 * frees). `ret` (may be NULL) is valid until req->done is called; a work
 * that is queued and later cannot start calls req->done with the reason. */
int work_submit(struct daemon *d, struct daemon_scenario *s, const struct work_request *req,
		struct work **ret, char **reterr_msg);
/* The execution id of a work that started (0: waiting for its turn). */
int64_t work_execution_id(const struct work *work);
bool work_started(const struct work *work);
/* Stops taking work: queued items are dropped (their `done` hears so),
 * running jobs are asked to stop (runner_job_stop). */
void work_stop(struct daemon *d, bool now);
int work_running(const struct daemon *d);
int work_queued(const struct daemon *d);
/* Whether incomplete execution `id` is being retried by this daemon. */
bool work_retrying(const struct daemon *d, int64_t id);

/* ---- the HTTP front (http_front.c, hooks.c, cc_events.c, registrations.c) ---- */

struct http_server;
struct http_in;
struct http_in_plan;
struct hook_waiter;

enum delivery_outcome {
	DELIVERY_QUEUED, /* accepted and queued */
	DELIVERY_IGNORED, /* signed, but an event the trigger does not take */
	DELIVERY_UNAUTHORIZED, /* signature, credentials or address refused: 401 */
	DELIVERY_REJECTED, /* malformed: 400 */
	DELIVERY_TOO_LARGE, /* 413 */
	DELIVERY_UNAVAILABLE, /* not queued: the store failed or the trigger is not set up */
	_DELIVERY_OUTCOME_MAX,
};
const char *delivery_outcome_to_string(enum delivery_outcome outcome);

struct http_front {
	struct http_server *server; /* owned */
	struct hook_waiter **waiters; /* owned hash table: event id → the caller waiting */
	size_t waiter_buckets;
	size_t waiter_count;
	uint64_t deliveries[2][_DELIVERY_OUTCOME_MAX]; /* [custom, cloudconvert] */
};

/* Listens on --listen (when given). */
int http_front_start(struct daemon *d, char **reterr_msg);
/* Stops listening; callers still waiting get 503. */
void http_front_stop(struct daemon *d);
/* The port it listens on; 0 when it does not. */
unsigned http_front_port(const struct daemon *d);
/* The route of a scenario's trigger for the current version (built when
 * needed; NULL when its first module is not an instant trigger). */
struct trigger_route *http_front_route(struct daemon *d, struct daemon_scenario *s);
void trigger_route_free(struct trigger_route *route);
/* metrics_page.c: answers GET /metrics. */
void metrics_page(struct daemon *d, struct http_in *in);

/* hooks.c: /hooks/<scenario> and the webhook host of webhooks.respond. */
int hooks_headers(struct daemon *d, struct daemon_scenario *s, struct http_in *in,
		  struct http_in_plan *plan);
void hooks_body(struct daemon *d, struct daemon_scenario *s, struct http_in *in);
extern const struct webhook_host hooks_host;
void hooks_stop(struct daemon *d);

/* cc_events.c: /webhooks/<scenario>/<module-id>. */
int cc_events_headers(struct daemon *d, struct daemon_scenario *s, const char *module_id,
		      struct http_in *in, struct http_in_plan *plan);
void cc_events_body(struct daemon *d, struct daemon_scenario *s, struct http_in *in);

/* registrations.c: CloudConvert webhooks for New Job Event triggers. */
/* Registers, keeps or deletes the webhook of `s`'s trigger as its state
 * asks (after a load, an enable or disable); `s` NULL: every scenario. */
void registrations_sync(struct daemon *d, struct daemon_scenario *s);
/* A scenario left the folder: its webhook is deleted. */
void registrations_forget(struct daemon *d, const char *scenario);
void registrations_stop(struct daemon *d);

/* instant (work.c): runs for queued events, up to the scenario's limit. */
void instant_kick(struct daemon *d, struct daemon_scenario *s);

/* ---- the daemon ---- */

struct daemon {
	struct daemon_config *config; /* borrowed */
	struct engine *engine; /* owned */
	struct runner *runner; /* owned */
	int lock_fd;
	int64_t started_at; /* epoch ms */

	struct catalog catalog;
	struct scheduler scheduler;
	struct control *control; /* owned */
	struct http_front http; /* the listener and its state; server NULL without --listen */
	struct registrations *registrations; /* owned: webhook registrations in flight */

	/* work.c */
	struct work *queue_head, *queue_tail; /* waiting for a worker */
	struct work *active; /* started, not yet done */
	int queued;
	int running;
	bool taking_work; /* false once stopping */

	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t watchdog;
	uv_timer_t stop_timer; /* the stop's bounds */
	int stop_phase; /* 0 running; 1 waiting for safe points; 2 cancelling; 3 giving up */
	bool recovering; /* crash recovery runs; scheduling waits for it */
	bool ready; /* READY=1 was sent */
	int exit_code;
};

/* The whole life of the process: returns main()'s exit code. */
int daemon_main(struct daemon_config *config);
/* Reloads connections and scenarios (SIGHUP, `scenarioctl reload`). */
int daemon_reload(struct daemon *d, struct reload_report *report);
/* Begins the shutdown (SIGTERM, SIGINT). */
void daemon_shutdown(struct daemon *d);
/* A job of `scenario` ended (NULL: some other work, such as a recovery):
 * what the store now says of the scenario (deactivated after errors?) and
 * of incomplete executions is taken in, and a stop may finish. */
void daemon_after_job(struct daemon *d, const char *scenario);
/* runner_recovered_fn: one line in the log per execution recovered. */
void daemon_log_recovered(int64_t execution_id, const char *scenario, int64_t incomplete_id,
			  const char *note, void *userdata);
/* Sets the scenario's switch in the store and plans or unplans it. */
int daemon_set_enabled(struct daemon *d, struct daemon_scenario *s, bool enabled);

/* ---- the control socket (control.c, commands.c) ---- */

struct control_conn;
int control_open(struct daemon *d, const char *path, struct control **ret, char **reterr_msg);
/* Stops listening and closes every connection; accepts NULL. */
void control_close(struct control *control);
/* Sends the reply to a request (takes ownership of `reply`) and goes on
 * reading the next request; a connection that went away drops it. */
void control_reply(struct control_conn *conn, cJSON *reply);
/* The same with the reply's text, one JSON object without its newline
 * (takes ownership of `text`): for replies built piece by piece. */
void control_reply_text(struct control_conn *conn, char *text, size_t len);
/* Whether the peer is still there to read a reply. */
bool control_conn_open(const struct control_conn *conn);
/* A reference that outlives the connection, for replies that come later. */
struct control_conn *control_conn_ref(struct control_conn *conn);
void control_conn_unref(struct control_conn *conn);
/* Handles one request (commands.c); replies now or later through
 * control_reply(). `request` is borrowed for the call. */
void commands_handle(struct daemon *d, struct control_conn *conn, const cJSON *request);
/* {"ok": false, "error": …, "exit": N} */
cJSON *commands_error(int exit_code, const char *fmt, ...) _printf_(2, 3);
