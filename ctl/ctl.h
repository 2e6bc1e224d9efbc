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
