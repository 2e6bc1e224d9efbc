/* SPDX-License-Identifier: MIT */
/*
 * The job modules: List Jobs, Get a Job, Delete a Job.
 *
 * list_jobs is declared MODULE_SEARCH: Fusion's List Jobs is a search, and
 * the loader allows a trigger kind only as the first module, so a search
 * is the one kind that works everywhere. It emits the newest `limit` jobs
 * matching the filters, newest first. When the executor hands it a cursor
 * (run->cursor: it does so today only for MODULE_TRIGGER_POLLING, see
 * docs/modules/cloudconvert.md), it behaves as the polling trigger
 * modules.md describes and emits only jobs it has not emitted before. The
 * cursor is {"since": ISO time, "seen": [ids]}: a run without one emits the
 * newest `limit` jobs and records every job it looked at, so watching
 * starts from that moment; a run with one looks at the newest 300 jobs and
 * emits those created since then and not seen yet, oldest first, `limit`
 * per run. Keeping ids rather than a time matters with a status filter: a
 * job created long ago appears in the "finished" list when it finishes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define SCAN_MAX 300 /* jobs a trigger run looks at */
#define SEEN_MAX 1000 /* ids a cursor keeps */

static const char *const job_statuses[] = { "processing", "finished", "error", NULL };

const struct module_field cc_list_jobs_fields[] = {
	{ .name = "status",
	  .type = FIELD_ENUM,
	  .choices = job_statuses,
	  .summary = "only jobs in this status: processing, finished or error" },
	{ .name = "tag", .type = FIELD_TEXT, .summary = "only jobs with this tag" },
	{ .name = "limit",
	  .type = FIELD_INTEGER,
	  .summary = "most jobs emitted per run (default 10)" },
	{ .name = NULL },
};

const struct module_field cc_get_job_fields[] = {
	{ .name = "job_id", .type = FIELD_TEXT, .required = true, .summary = "the job's id" },
	{ .name = NULL },
};

const struct module_field cc_delete_job_fields[] = {
	{ .name = "job_id", .type = FIELD_TEXT, .required = true, .summary = "the job's id" },
	{ .name = NULL },
};

/* ---- list_jobs ---- */

static int64_t created_ms(const cJSON *job)
{
	const char *text = json_get_string(job, "created_at");
	int64_t ms;

	return text && time_parse_iso(text, &ms) == 0 ? ms : INT64_MAX;
}

static bool in_list(const cJSON *ids, const char *id)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, ids)
		if (cJSON_IsString(item) && streq_ptr(item->valuestring, id))
			return true;
	return false;
}

static void set_cursor(struct module_run *run, int64_t since, cJSON *seen)
{
	_cleanup_json_ cJSON *cursor = cJSON_CreateObject();
	_cleanup_free_ char *text = NULL;
	char iso[32];

	time_format_iso(since, iso, sizeof(iso));
	cJSON_AddStringToObject(cursor, "since", iso);
	while (cJSON_GetArraySize(seen) > SEEN_MAX)
		cJSON_DeleteItemFromArray(seen, 0);
	cJSON_AddItemToObject(cursor, "seen", seen);
	text = json_print(cursor);
	module_run_set_cursor(run, text);
}

/* No cursor: the newest `limit`, newest first; everything looked at is seen. */
static void emit_first(struct cc_simple *s, const cJSON *scanned)
{
	int64_t since = time_now_ms();
	cJSON *seen = cJSON_CreateArray();
	const cJSON *job;

	cJSON_ArrayForEach(job, scanned) {
		int64_t created = created_ms(job);

		if (s->emitted < s->limit) {
			module_run_emit(s->op.run, cJSON_Duplicate(job, true));
			s->emitted++;
		}
		if (created < since)
			since = created;
		cJSON_AddItemToArray(seen, cJSON_CreateString(json_get_string(job, "id") ?: ""));
	}
	set_cursor(s->op.run, since, seen);
}

static void emit_new(struct cc_simple *s, const cJSON *scanned, const cJSON *cursor)
{
	const cJSON *old_seen = cJSON_GetObjectItemCaseSensitive(cursor, "seen");
	const char *since_text = json_get_string(cursor, "since");
	cJSON *seen = cJSON_CreateArray();
	int64_t since;
	const cJSON *job;

	if (!since_text || time_parse_iso(since_text, &since) < 0)
		since = 0;
	/* What is still listed and was seen stays seen. */
	cJSON_ArrayForEach(job, scanned)
		if (in_list(old_seen, json_get_string(job, "id")))
			cJSON_AddItemToArray(seen, cJSON_CreateString(json_get_string(job, "id")));
	/* The list is newest first; new jobs go out oldest first. */
	for (int i = cJSON_GetArraySize(scanned) - 1; i >= 0 && s->emitted < s->limit; i--) {
		job = cJSON_GetArrayItem(scanned, i);
		if (created_ms(job) < since || in_list(old_seen, json_get_string(job, "id")))
			continue;
		module_run_emit(s->op.run, cJSON_Duplicate(job, true));
		s->emitted++;
		cJSON_AddItemToArray(seen, cJSON_CreateString(json_get_string(job, "id") ?: ""));
	}
	set_cursor(s->op.run, since, seen);
}

static void emit_jobs(struct cc_simple *s)
{
	cJSON *scanned = cJSON_GetObjectItemCaseSensitive(s->state, "scanned");
	const char *text = s->op.run->cursor;
	_cleanup_json_ cJSON *cursor = text ? cJSON_Parse(text) : NULL;
	const cJSON *items, *item;
	bool more;

	if (cc_parse_list(s->op.doc, &items, &more) < 0) {
		cc_op_fail_with(&s->op, ERROR_UNEXPECTED, "CloudConvert answered without a list");
		return;
	}
	cJSON_ArrayForEach(item, items)
		cJSON_AddItemToArray(scanned, cJSON_Duplicate(item, true));
	if (more && cJSON_GetArraySize(items) > 0 &&
	    cJSON_GetArraySize(scanned) < (cursor ? SCAN_MAX : s->limit)) {
		s->page++;
		cc_simple_again(s);
		return;
	}
	if (cJSON_IsObject(cursor) &&
	    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(cursor, "seen")))
		emit_new(s, scanned, cursor);
	else
		emit_first(s, scanned);
	cc_op_finish(&s->op);
}

int cc_list_jobs_start(struct module_run *run)
{
	struct cc_simple *s = cc_simple_new("GET", "/v2/jobs", emit_jobs);
	char per_page[16];
	int r;

	r = cc_input_integer(run, "limit", 10, 1, CC_MAX_LIST, &s->limit);
	if (r < 0) {
		cc_simple_free(s);
		return r;
	}
	cc_simple_filter(s, run, "status", "filter[status]");
	cc_simple_filter(s, run, "tag", "filter[tag]");
	cJSON_AddStringToObject(s->query, "include", "tasks");
	/* Full pages even for a few jobs: a first run marks every job it saw
	 * as seen, and jobs created in the same second are only told apart by
	 * having been seen. */
	snprintf(per_page, sizeof(per_page), "%d", CC_PER_PAGE);
	cJSON_AddStringToObject(s->query, "per_page", per_page);
	s->page = 1;
	s->flags = CC_CALL_IDEMPOTENT;
	s->state = cJSON_CreateObject();
	cJSON_AddItemToObject(s->state, "scanned", cJSON_CreateArray());
	return cc_simple_start(s, run);
}

/* ---- get_job, delete_job ---- */

int cc_get_job_start(struct module_run *run)
{
	_cleanup_free_ char *id = cc_simple_id(run, "job_id");
	_cleanup_free_ char *path = NULL;
	struct cc_simple *s;

	if (!id)
		return -EIO;
	path = xasprintf("/v2/jobs/%s", id);
	s = cc_simple_new("GET", path, cc_simple_emit_object);
	s->flags = CC_CALL_IDEMPOTENT;
	return cc_simple_start(s, run);
}

int cc_delete_job_start(struct module_run *run)
{
	_cleanup_free_ char *id = cc_simple_id(run, "job_id");
	_cleanup_free_ char *path = NULL;
	struct cc_simple *s;

	if (!id)
		return -EIO;
	path = xasprintf("/v2/jobs/%s", id);
	s = cc_simple_new("DELETE", path, cc_simple_emit_id);
	/* Deleting twice deletes once: a 404 after a lost answer means done. */
	s->flags = CC_CALL_IDEMPOTENT | CC_CALL_GONE_OK;
	s->state = cJSON_CreateObject();
	cJSON_AddStringToObject(s->state, "id", id);
	return cc_simple_start(s, run);
}
