/* SPDX-License-Identifier: MIT */
/*
 * What the rest of scenariod (the daemon's webhook listener, the unit
 * tests) uses of the CloudConvert app: the webhook signature, the pure
 * parsers the client reads API answers with, and the small decisions worth
 * testing on their own (error mapping, backoff, job tags, file names).
 * Everything here is synchronous and touches no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "modules/errors.h"

#define CC_SIGNATURE_HEX_LEN 64 /* lowercase hex of an HMAC-SHA256 */

/* ---- signature.c ---- */

/** Lowercase hex HMAC-SHA256 of the exact body bytes keyed with `secret`,
 * as CloudConvert computes CloudConvert-Signature. `ret_hex` holds 65
 * bytes. -EINVAL for a NULL or empty secret, -EIO when OpenSSL fails. */
int cc_signature_compute(const char *secret, const void *body, size_t len, char *ret_hex);
/** True when `header` (the CloudConvert-Signature value, surrounding
 * whitespace ignored, hex case ignored) is the signature of the body.
 * Constant time in the body's signature; false for a missing header. */
bool cc_signature_verify(const char *secret, const void *body, size_t len, const char *header);

/* ---- parse.c ---- */

/** Parses a JSON answer. -EBADMSG when it is not JSON. Caller frees. */
int cc_parse_body(const char *body, size_t len, cJSON **ret_doc);
/** The `data` member of an envelope (borrowed), or NULL. */
const cJSON *cc_parse_data(const cJSON *doc);
/** Takes `data` out of an envelope: the object or list without it. NULL
 * when there is none. Caller frees. */
cJSON *cc_parse_take_data(cJSON *doc);
/** A list answer's items (borrowed) and whether links.next says another
 * page follows. -EBADMSG when `data` is not a list. */
int cc_parse_list(const cJSON *doc, const cJSON **ret_items, bool *ret_more);
/** Whether a job or task has reached finished or error. */
bool cc_parse_is_final(const cJSON *job_or_task);
/** Why a job or task ended in error, reported by its root tasks (those
 * with a code other than INPUT_TASK_FAILED), each as "task 'NAME'
 * (OPERATION) failed: CODE: MESSAGE". -ENOENT when it did not fail.
 * Caller frees. */
int cc_parse_failure(const cJSON *job_or_task, char **ret_message);
/** The files of a job's finished export/url tasks, in task order, as a
 * list of {filename, size, url, task}; a task object works too. Never
 * NULL. Caller frees. */
cJSON *cc_parse_export_files(const cJSON *job_or_task);
/** The upload form of a waiting import/upload task: its URL and the
 * parameters to send verbatim, in order (both borrowed). -ENOENT when the
 * task has no form (not waiting, or listed without its result), -EBADMSG
 * when the form is malformed. */
int cc_parse_upload_form(const cJSON *task, const char **ret_url, const cJSON **ret_params);
/** The typed error of a failed API answer (scenario-format.md "Errors"),
 * with CloudConvert's message, code and field errors in the text. `what`
 * names the request ("POST /v2/jobs"); `retry_after` is the header or NULL.
 * The caller calls module_error_done(). */
void cc_parse_error(long status, const char *body, size_t len, const char *retry_after,
		    const char *what, struct module_error *ret);
/** The same for the storage host (uploads and downloads), whose errors are
 * S3 XML: the <Code> and <Message> go into the text. */
void cc_parse_storage_error(long status, const char *body, size_t len, const char *what,
			    struct module_error *ret);
/** A verified webhook delivery as the New Job Event trigger's bundle:
 * {event, job}. -EBADMSG when the body is not an event; -ENOENT when
 * `events` (a list of names; NULL: all) does not include it. */
int cc_parse_webhook_event(const char *body, size_t len, const cJSON *events, cJSON **ret_bundle);

/* ---- account webhooks, for the daemon (webhook_admin.c) ----
 * These start like a module's start() on a module_run the caller sets up
 * (env, connection, done; see modules/module.h) and finish it the same way. */
struct module_run;
/** Registers a webhook for `url` and `events` (deleting any the account
 * already has at that URL first); the run emits {id, signing_secret}. */
int cc_webhook_register_start(struct module_run *run, const char *url, const cJSON *events);
/** Deletes webhook `remote_id` (one already gone counts as deleted). */
int cc_webhook_delete_start(struct module_run *run, const char *remote_id);

/* ---- api.c ---- */

/** The delay before retry number `failures` (1 after the first failure):
 * base doubled per failure up to cap, half of it random ("equal jitter"),
 * and never shorter than what the server asked for with Retry-After. */
int64_t cc_api_backoff_ms(int failures, int64_t base_ms, int64_t cap_ms, uint64_t random,
			  int64_t retry_after_ms);

/* ---- jobs.c ---- */

#define CC_TAG_PREFIX_MAX 128

/** The deterministic tag of the job one module run creates:
 * "PREFIX:EXECUTION:MODULE:BUNDLE", the prefix being `prefix` or
 * "scenariod:SCENARIO". The same run asks for the same tag, which is how a
 * job whose creation was not confirmed is found again. Caller frees. */
char *cc_jobs_tag(const char *prefix, const char *scenario, int64_t execution_id,
		  const char *module_id, uint64_t bundle_seq);

/* ---- download.c ---- */

#define CC_FILENAME_MAX 200 /* bytes */

/** A file name from the remote side made safe to use: path separators and
 * control characters become '_', ".." cannot survive, leading dots and
 * spaces go, the length is capped on a UTF-8 boundary; "file" when nothing
 * is left. Caller frees. */
char *cc_download_filename(const char *remote);
