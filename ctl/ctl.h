/* SPDX-License-Identifier: MIT */
/*
 * scenarioctl's commands and what they share: where things live (cli.md
 * "Where things live"), the exit codes, and the output helpers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* cli.md "Exit codes". */
enum {
	EXIT_OK = 0,
	EXIT_RUN_ERROR = 1,
	EXIT_INCOMPLETE = 3,
	EXIT_USAGE = 64,
	EXIT_INVALID = 65,
	EXIT_UNREACHABLE = 69,
	EXIT_INTERNAL = 70,
	EXIT_HELD = 75, /* EX_TEMPFAIL: a sequential scenario waits for its incomplete runs */
};

struct ctl {
	const char *state_dir; /* borrowed from argv or the environment */
	const char *scenarios; /* likewise */
	const char *connections; /* likewise */
	const char *socket; /* likewise */
	bool json; /* --json: one JSON document on stdout */
	char *owned[4]; /* defaults computed from XDG variables; freed at exit */
};

/* Fills the locations from options already parsed, the environment and the
 * defaults (root or user). */
void ctl_paths_resolve(struct ctl *ctl);
void ctl_done(struct ctl *ctl);
/* A scenario given as a file path (has '/' or ends in .yaml/.yml) or as a
 * name looked up in the scenarios folder. Caller frees. */
char *ctl_scenario_path(const struct ctl *ctl, const char *file_or_name);

/* Prints a JSON document on stdout (pretty when stdout is a terminal). */
void ctl_print_json(const cJSON *doc);

/* An aligned text table for people. */
struct table;
struct table *table_new(const char *const *headers);
void table_add_row(struct table *table, const char *const *cells);
void table_print(struct table *table, FILE *out);
struct table *table_free(struct table *table);

struct connections;
struct engine;
struct execution_options;
struct scenario;

struct store;
/* Opens the store for commands that only read or flip state, saying why on
 * stderr when it cannot. */
int ctl_open_store(const struct ctl *ctl, struct store **ret);
void ctl_store_closep(struct store **store);
#define _cleanup_store_ __attribute__((cleanup(ctl_store_closep)))

/* Loads a scenario, printing every problem on stderr. */
int ctl_load_scenario(const char *path, struct scenario **ret);
/* Loads the connections file (an empty set when there is none), printing
 * every problem on stderr. */
int ctl_load_connections(const struct ctl *ctl, struct connections **ret);
/* An engine and its runner, after recovering whatever a killed process
 * left half-done (its executions become incomplete ones). */
struct runner;
struct ctl_engine {
	struct engine *engine; /* owned */
	struct runner *runner; /* owned; holds the connections */
};
/* Returns an exit code: EXIT_OK, or the failure already reported. */
int ctl_open_engine(const struct ctl *ctl, struct ctl_engine *ret);
void ctl_close_engine(struct ctl_engine *e);
/* Replays every abandoned execution into an incomplete one. */
int ctl_recover(struct ctl_engine *e);
/* Runs a scenario once in the foreground through the runner (a sequential
 * scenario waits for its turn; `force` runs it even while held by
 * incomplete executions); returns the exit code of cli.md. With ret_doc the
 * result document (run --json's) is returned instead of printed. */
int ctl_execute(struct ctl *ctl, struct ctl_engine *e, const struct scenario *scenario, bool force,
		cJSON **ret_doc);
/* Resumes incomplete execution `id` in the foreground (with `current`, or
 * the stored snapshot when NULL); the same exit codes and document. */
int ctl_retry(struct ctl *ctl, struct ctl_engine *e, int64_t id, const struct scenario *current,
	      cJSON **ret_doc);
/* Prints a result document of ctl_execute() for people or as JSON. */
void ctl_print_run(const struct ctl *ctl, const cJSON *doc);

int cmd_validate(struct ctl *ctl, int argc, char **argv);
int cmd_run(struct ctl *ctl, int argc, char **argv);
int cmd_executions(struct ctl *ctl, int argc, char **argv);
int cmd_execution(struct ctl *ctl, int argc, char **argv);
int cmd_incomplete(struct ctl *ctl, int argc, char **argv);
int cmd_scenarios(struct ctl *ctl, int argc, char **argv);
int cmd_enable(struct ctl *ctl, int argc, char **argv);
int cmd_disable(struct ctl *ctl, int argc, char **argv);

/* ---- the daemon's control socket (control_client.c, cmd_daemon.c) ---- */

/* How long status, reload and trigger (without --wait) wait for a reply. */
#define CTL_DAEMON_TIMEOUT_MS 30000
/** The reply timeout in ms: $SCENARIOCTL_TIMEOUT_MS when set to a positive
 * number (the tests shorten it), else CTL_DAEMON_TIMEOUT_MS. */
int ctl_daemon_timeout_ms(void);
/** Sends `request` as one line on ctl->socket and reads the one reply line
 * within timeout_ms (≤ 0: no limit). Returns 0 with the parsed reply, an
 * object with a boolean "ok" (caller frees; it may say ok:false), or
 * -ENOENT/-ECONNREFUSED (no daemon listens), -EACCES (not ours to use),
 * -ETIMEDOUT, -EPROTO (not one JSON object line, or over 64 MiB), -EMSGSIZE
 * (socket path too long), -E2BIG (request over 64 KiB), another -errno. */
int ctl_daemon_call(const struct ctl *ctl, const cJSON *request, int timeout_ms, cJSON **ret_reply);
/** Says on stderr why ctl_daemon_call() failed with `r`; returns the exit
 * code (69 when the daemon cannot be reached or did not answer within
 * ctl_daemon_timeout_ms(), 70 otherwise). */
int ctl_daemon_unreachable(const struct ctl *ctl, int r, const char *command);
/** Whether a failed ctl_daemon_call() means no daemon runs (so the command
 * may act on the store itself). */
bool ctl_daemon_absent(int r);
/** For an ok:false reply: prints "scenarioctl COMMAND: ERROR" on stderr and
 * returns the reply's "exit" (70 when absent or out of range). */
int ctl_daemon_reply_error(const cJSON *reply, const char *command);
/** The exit code of a run document's "status" (as `run`'s): 0 success or
 * warning, 1 error, 3 incomplete, 70 missing or unknown. */
int ctl_exit_code_for_status(const char *status);

int cmd_status(struct ctl *ctl, int argc, char **argv);
int cmd_reload(struct ctl *ctl, int argc, char **argv);
int cmd_trigger(struct ctl *ctl, int argc, char **argv);
