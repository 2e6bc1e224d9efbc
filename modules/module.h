/* SPDX-License-Identifier: MIT */
/*
 * What a module is, and what it may rely on.
 *
 * A module (an "app.module" such as files.write) is a static descriptor: its
 * fields, declared with their types so that scenario validation is generic,
 * and a table of functions. The executor in scenarios/ starts one
 * struct module_run per module per bundle; the module runs asynchronously on
 * the libuv loop and reports output bundles and at most one typed error.
 *
 * The async contract (libuv's): start() returns
 *   MODULE_PENDING (0)  the module MUST call module_run_finish() exactly once,
 *                       later, never from inside start();
 *   MODULE_DONE (1)     it finished synchronously (outputs emitted, or an
 *                       error set with module_run_fail()); no callback;
 *   < 0                 it could not start; the error set with
 *                       module_run_fail() (or, when none was set, an
 *                       UnexpectedError naming the errno) is the outcome;
 *                       no callback.
 * Blocking work (file copies, hashing) goes to the uv thread pool.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "modules/errors.h"
#include "util/cleanup.h"
#include "util/log.h"

struct http_client;
struct store;
struct module_run;
struct connection;

enum {
	MODULE_PENDING = 0,
	MODULE_DONE = 1,
};

enum module_kind {
	MODULE_ACTION, /* one bundle in, usually one out */
	MODULE_SEARCH, /* one bundle in, zero or more out (a list) */
	MODULE_TRIGGER_POLLING, /* first module: bundles since the stored cursor */
	MODULE_TRIGGER_INSTANT, /* first module: bundles from a webhook queue */
	MODULE_AGGREGATOR, /* run by the executor itself; no start() */
	_MODULE_KIND_MAX,
};

enum field_type {
	FIELD_ANY, /* any value */
	FIELD_TEXT, /* a string (numbers and booleans are accepted as text) */
	FIELD_NUMBER,
	FIELD_INTEGER,
	FIELD_BOOLEAN,
	FIELD_MAP, /* an object */
	FIELD_LIST, /* an array */
	FIELD_FILE, /* a file value */
	FIELD_DURATION, /* "30s", "3m" */
	FIELD_SIZE, /* "100MiB" */
	FIELD_ENUM, /* one of `choices` */
	FIELD_INPUT, /* {upload: FILE} or {url: TEXT, headers: MAP} */
	FIELD_MODULE_ID, /* the id of an earlier module (aggregator's source) */
	_FIELD_TYPE_MAX,
};

const char *field_type_to_string(enum field_type type);

struct module_field {
	const char *name;
	enum field_type type;
	bool required;
	const char *const *choices; /* FIELD_ENUM (and lists of enums): NULL-terminated */
	bool constant; /* read before any run (by the daemon): no mapping allowed */
	const char *summary; /* one line for docs and `scenarioctl modules` */
};

/* webhooks.respond's answer to the HTTP request that brought an event. */
struct webhook_reply {
	unsigned status;
	const cJSON *headers; /* {name: value}; may be NULL */
	const char *content_type; /* NULL: text/plain, or application/json for `json` */
	const char *body; /* text; NULL with `json` or `file_path` */
	size_t len;
	const cJSON *json; /* a JSON body; NULL otherwise */
	const char *file_path; /* a blob to stream; NULL otherwise */
};

/* The daemon's HTTP front, for instant triggers; absent in scenarioctl. */
struct webhook_host {
	/* Answers the request that brought event `event_id`; -ENOENT when no
	 * request waits for it (answered already, gone, or never one). */
	int (*respond)(void *userdata, int64_t event_id, const struct webhook_reply *reply);
	/* A run is done with event `event_id`: `acknowledged` when the cycle
	 * completed (else the event went back to the queue). */
	void (*event_done)(void *userdata, int64_t event_id, int64_t execution_id,
			   bool acknowledged);
};

/* Shared by every run in a process; owned by the engine, valid while any
 * run is in flight. */
struct module_env {
	uv_loop_t *loop;
	struct http_client *http;
	struct store *store;
	/* Looks a connection up by name; NULL when there is none. Borrowed. */
	const struct connection *(*find_connection)(void *userdata, const char *name);
	void *connections_userdata;
	const struct webhook_host *webhooks; /* NULL: no HTTP front (scenarioctl) */
	void *webhooks_userdata;
};

/* Called by the module through module_run_finish(); belongs to the executor. */
typedef void module_run_done_fn(struct module_run *run);

/* Reports a problem with a constant field value at validation time. */
typedef void module_report_fn(void *ctx, const char *field, const char *fmt, ...) _printf_(3, 4);

struct module_desc {
	const char *app; /* "files" */
	const char *name; /* "write" → "files.write" */
	const char *summary; /* one line */
	enum module_kind kind;
	bool needs_connection; /* `connection:` is required */
	const struct module_field *fields; /* terminated by { .name = NULL } */

	/* Checks constant field values at load time beyond their declared types
	 * (e.g. a sleep longer than 5m). `constant_with` holds only fields with
	 * no mapping in them. MAY be NULL. Returns the number of problems. */
	int (*validate)(const cJSON *constant_with, module_report_fn *report, void *ctx);

	/* Starts the module on its mapped input; see the contract above. MUST be
	 * set unless kind is MODULE_AGGREGATOR. */
	int (*start)(struct module_run *run);

	/* Asks an in-flight run to stop; it still finishes, with an error.
	 * MAY be NULL (the executor then waits for the run to end). */
	void (*cancel)(struct module_run *run);

	/* Whether running the module again on the same input, after a run that
	 * stopped without knowing its outcome (a killed process, a stop past
	 * its bound), cannot act twice: it only reads, repeats to the same
	 * effect, or finds what the first attempt did (a CloudConvert job by
	 * its tag, see module_run.resumed). Such a bundle is retried
	 * automatically; any other waits for a person. `input` is the recorded
	 * input, NULL when none was recorded (a confidential scenario). MAY be
	 * NULL: never safe. */
	bool (*safe_to_repeat)(const cJSON *input);
};

/* safe_to_repeat for modules that only read or repeat to the same effect. */
bool module_repeat_always(const cJSON *input);
/* safe_to_repeat for modules that send an HTTP request with the `method`
 * field (GET by default): HTTP's idempotent methods (RFC 9110 §9.2.2). */
bool module_repeat_idempotent_method(const cJSON *input);

/* One module run on one bundle. Allocated and freed by the executor; the
 * module reads the first block and writes only through the functions below. */
struct module_run {
	const struct module_env *env; /* borrowed */
	const struct module_desc *desc; /* borrowed, static */
	const cJSON *input; /* mapped `with`, borrowed until finish */
	const struct connection *connection; /* borrowed; NULL when none */
	int64_t execution_id;
	const char *scenario; /* borrowed */
	const char *module_id; /* borrowed: the id in the scenario */
	uint64_t bundle_seq; /* which bundle of this module in the run (1-based) */
	const char *cursor; /* polling trigger: stored cursor, NULL on first run */
	int64_t max_file_size; /* bytes; settings.max_file_size */
	/* This bundle ran this module before, in a run that stopped without
	 * knowing the outcome (an incomplete execution being resumed, a crash):
	 * what that attempt did may exist remotely. A module with side effects
	 * looks them up (a CloudConvert job by its tag) before repeating them. */
	bool resumed;
	/* An instant trigger's event for this cycle (borrowed; NULL when the
	 * queue was empty: the trigger then emits nothing), and for every module
	 * the id of the event that started this bundle's cycle (0: none). */
	const cJSON *event;
	int64_t event_id;
	void *priv; /* the module's own state; it frees it before finishing */

	/* Written through the functions below; read by the executor. */
	cJSON *outputs; /* owned: array of output bundles */
	char *new_cursor; /* owned: polling trigger's cursor after this run */
	bool failed;
	struct module_error error;
	int64_t bytes; /* file bytes transferred, for the execution's counters */
	cJSON *log; /* owned: array of {level, message} lines */

	module_run_done_fn *done; /* the executor's */
	void *done_data; /* the executor's */
};

/* Appends an output bundle; takes ownership. */
void module_run_emit(struct module_run *run, cJSON *bundle);
/* Sets the error of this run (the first one set wins) and returns -EIO, so
 * `return module_run_fail(…);` works in start(). */
int module_run_fail(struct module_run *run, enum error_type type, const char *fmt, ...)
	_printf_(3, 4);
/* RateLimitError: how long the remote side asked to wait, in ms (0:
 * unknown), kept with the error already set by module_run_fail(). */
void module_run_set_retry_after(struct module_run *run, int64_t ms);
/* Polling triggers: the cursor to store once the run commits. */
void module_run_set_cursor(struct module_run *run, const char *cursor);
/* A line for the run's log (shown by scenarioctl, stored with the operation). */
void module_run_log(struct module_run *run, enum log_level level, const char *fmt, ...)
	_printf_(3, 4);
/* Ends an asynchronous run (start() returned MODULE_PENDING). */
void module_run_finish(struct module_run *run);

/* Field access on run->input with the declared defaults applied by the
 * caller: borrowed values, NULL when missing or null. */
const cJSON *module_input(const struct module_run *run, const char *field);
const char *module_input_string(const struct module_run *run, const char *field);
