/* SPDX-License-Identifier: MIT */
/*
 * The five "common" modules of Fusion's CloudConvert app: Capture a
 * Website, Convert a File, Create an Archive, Merge Files and Optimize a
 * File. Each builds the job Fusion's module would (modules.md): import tasks
 * named import-1, import-2, … (an upload of a file value, or an import of a
 * URL with headers), one processing task named after what it does
 * (capture, convert, archive, merge, optimize) carrying the module's fields
 * and the "conversion and engine specific options", and an export/url task
 * named export. jobs.c runs it. Also the typed readers of input fields the
 * modules share.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "util/json.h"
#include "util/units.h"
#include "util/xalloc.h"

#define MAX_INPUTS 50 /* files in one archive or merge */

static const char *const capture_formats[] = { "pdf", "png", "jpg", NULL };
static const char *const archive_formats[] = {
	"zip", "rar", "7z", "tar", "tar.gz", "tar.bz2", NULL
};
static const char *const merge_formats[] = { "pdf", NULL };
static const char *const optimize_formats[] = { "pdf", "png", "jpg", NULL };
static const char *const profiles[] = { "web", "print", "archive", "mrc", "max", NULL };

/* The fields every job module shares, after its own. */
#define FILENAME_FIELD                                                                \
	{                                                                             \
		.name = "filename", .type = FIELD_TEXT, .summary = "output file name" \
	}
#define OPTIONS_FIELD                                                                      \
	{                                                                                  \
		.name = "options", .type = FIELD_MAP, .summary = "engine specific options" \
	}
#define DOWNLOAD_FIELD                                                                  \
	{                                                                               \
		.name = "download", .type = FIELD_BOOLEAN, .summary = "wait, emit file" \
	}
#define WAIT_FIELD                                                                     \
	{                                                                              \
		.name = "wait", .type = FIELD_DURATION, .summary = "longest wait (3m)" \
	}
#define TAG_FIELD                                                                       \
	{                                                                               \
		.name = "tag", .type = FIELD_TEXT, .summary = "prefix of the job's tag" \
	}
#define COMMON_FIELDS FILENAME_FIELD, OPTIONS_FIELD, DOWNLOAD_FIELD, WAIT_FIELD, TAG_FIELD

const struct module_field cc_capture_website_fields[] = {
	{ .name = "url", .type = FIELD_TEXT, .required = true, .summary = "the page to capture" },
	{ .name = "output_format",
	  .type = FIELD_ENUM,
	  .required = true,
	  .choices = capture_formats,
	  .summary = "pdf, png or jpg" },
	{ .name = "headers", .type = FIELD_MAP, .summary = "HTTP headers sent with the request" },
	COMMON_FIELDS,
	{ .name = NULL },
};

const struct module_field cc_convert_file_fields[] = {
	{ .name = "input",
	  .type = FIELD_INPUT,
	  .required = true,
	  .summary = "{upload: FILE} or {url: TEXT, headers: MAP}" },
	{ .name = "input_format",
	  .type = FIELD_TEXT,
	  .summary = "format of the input (default: from the file name)" },
	{ .name = "output_format",
	  .type = FIELD_TEXT,
	  .required = true,
	  .summary = "target format, e.g. pdf" },
	COMMON_FIELDS,
	{ .name = NULL },
};

const struct module_field cc_create_archive_fields[] = {
	{ .name = "inputs",
	  .type = FIELD_LIST,
	  .required = true,
	  .summary = "the files to archive: a list of inputs" },
	{ .name = "output_format",
	  .type = FIELD_ENUM,
	  .required = true,
	  .choices = archive_formats,
	  .summary = "zip, rar, 7z, tar, tar.gz or tar.bz2" },
	COMMON_FIELDS,
	{ .name = NULL },
};

const struct module_field cc_merge_files_fields[] = {
	{ .name = "inputs",
	  .type = FIELD_LIST,
	  .required = true,
	  .summary = "the files to merge, in order: a list of at least two inputs" },
	{ .name = "output_format",
	  .type = FIELD_ENUM,
	  .choices = merge_formats,
	  .summary = "pdf (the only one)" },
	COMMON_FIELDS,
	{ .name = NULL },
};

const struct module_field cc_optimize_file_fields[] = {
	{ .name = "input",
	  .type = FIELD_INPUT,
	  .required = true,
	  .summary = "{upload: FILE} or {url: TEXT, headers: MAP}" },
	{ .name = "input_format",
	  .type = FIELD_ENUM,
	  .choices = optimize_formats,
	  .summary = "pdf, png or jpg (default: from the file name)" },
	{ .name = "profile",
	  .type = FIELD_ENUM,
	  .choices = profiles,
	  .summary = "web (default), print, archive, mrc (scanned images) or max" },
	COMMON_FIELDS,
	{ .name = NULL },
};

/* ---- input fields ---- */

char *cc_input_text(struct module_run *run, const char *field)
{
	const cJSON *value = module_input(run, field);

	if (!value || cJSON_IsObject(value) || cJSON_IsArray(value))
		return NULL;
	return json_to_text(value);
}

bool cc_input_bool(struct module_run *run, const char *field, bool fallback)
{
	const cJSON *value = module_input(run, field);

	if (cJSON_IsBool(value))
		return cJSON_IsTrue(value);
	if (cJSON_IsString(value))
		return streq(value->valuestring, "true");
	return fallback;
}

int cc_input_duration(struct module_run *run, const char *field, int64_t fallback, int64_t *ret_ms)
{
	const cJSON *value = module_input(run, field);
	int64_t ms;

	if (!value) {
		*ret_ms = fallback;
		return 0;
	}
	if (!cJSON_IsString(value) || units_parse_duration(value->valuestring, &ms) < 0 ||
	    ms <= 0 || ms > CC_MAX_WAIT_MS)
		return module_run_fail(run, ERROR_DATA,
				       "%s must be a duration such as 30s, 3m or 1h (at most 1d)",
				       field);
	*ret_ms = ms;
	return 0;
}

int cc_input_integer(struct module_run *run, const char *field, int64_t fallback, int64_t min,
		     int64_t max, int64_t *ret)
{
	const cJSON *value = module_input(run, field);

	if (!value) {
		*ret = fallback;
		return 0;
	}
	if (!cJSON_IsNumber(value) || value->valuedouble < (double)min ||
	    value->valuedouble > (double)max ||
	    value->valuedouble != (double)(int64_t)value->valuedouble)
		return module_run_fail(run, ERROR_DATA,
				       "%s must be a whole number from %lld to %lld", field,
				       (long long)min, (long long)max);
	*ret = (int64_t)value->valuedouble;
	return 0;
}

/* ---- building the jobs ---- */

/* The extension of the input's name, lowercased: what CloudConvert would
 * guess the format from. NULL when there is none. Caller frees. */
static char *format_from_input(const cJSON *input)
{
	const cJSON *upload = cJSON_GetObjectItemCaseSensitive(input, "upload");
	const char *name = json_get_string(upload, "name");
	_cleanup_free_ char *from_url = NULL;
	const char *dot, *slash;
	char *format;

	if (!name)
		name = json_get_string(input, "filename");
	if (!name && json_get_string(input, "url")) {
		const char *url = json_get_string(input, "url");

		from_url = xstrndup(url, strcspn(url, "?#"));
		name = from_url;
	}
	if (!name)
		return NULL;
	slash = strrchr(name, '/');
	dot = strrchr(slash ? slash : name, '.');
	if (!dot || !dot[1] || strlen(dot + 1) > 10)
		return NULL;
	format = xstrdup(dot + 1);
	for (char *p = format; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return format;
}

static struct cc_job_flow *flow_new(void)
{
	struct cc_job_flow *flow = xcalloc(1, sizeof(*flow));

	flow->tasks = cJSON_CreateObject();
	return flow;
}

/* Adds the processing task, the options that do not clash with the
 * module's own fields, and the export task. */
static int add_process_and_export(struct cc_job_flow *flow, struct module_run *run,
				  const char *name, cJSON *task)
{
	const cJSON *options = module_input(run, "options");
	_cleanup_free_ char *filename = cc_input_text(run, "filename");
	const cJSON *option;
	cJSON *export;

	if (filename && *filename)
		cJSON_AddStringToObject(task, "filename", filename);
	cJSON_ArrayForEach(option, (cJSON_IsObject(options) ? options : NULL)) {
		if (streq(option->string, "operation") || streq(option->string, "input")) {
			cJSON_Delete(task);
			return module_run_fail(run, ERROR_DATA,
					       "options: '%s' is set by the module itself",
					       option->string);
		}
		if (!cJSON_GetObjectItemCaseSensitive(task, option->string))
			cJSON_AddItemToObject(task, option->string, cJSON_Duplicate(option, true));
	}
	cJSON_AddItemToObject(flow->tasks, name, task);
	export = cJSON_CreateObject();
	cJSON_AddStringToObject(export, "operation", "export/url");
	cJSON_AddStringToObject(export, "input", name);
	cJSON_AddItemToObject(flow->tasks, "export", export);
	return 0;
}

/* Adds import-1 … import-N for a list field; returns the input names. */
static cJSON *add_inputs(struct cc_job_flow *flow, struct module_run *run, const char *field,
			 int min)
{
	const cJSON *inputs = module_input(run, field), *input;
	cJSON *names = cJSON_CreateArray();
	int i = 0, n = cJSON_GetArraySize(inputs);

	if (!cJSON_IsArray(inputs) || n < min || n > MAX_INPUTS) {
		cJSON_Delete(names);
		module_run_fail(run, ERROR_DATA, "%s must be a list of %d to %d inputs", field, min,
				MAX_INPUTS);
		return NULL;
	}
	cJSON_ArrayForEach(input, inputs) {
		_cleanup_free_ char *name = xasprintf("import-%d", ++i);
		_cleanup_free_ char *where = xasprintf("%s[%d]", field, i);

		if (cc_jobs_add_input(flow, run, name, input, where) < 0) {
			cJSON_Delete(names);
			return NULL;
		}
		cJSON_AddItemToArray(names, cJSON_CreateString(name));
	}
	return names;
}

static int start_flow(struct cc_job_flow *flow, struct module_run *run, int r)
{
	if (r < 0) {
		cc_jobs_flow_free(flow);
		return r;
	}
	return cc_jobs_start(flow, run);
}

int cc_capture_website_start(struct module_run *run)
{
	struct cc_job_flow *flow = flow_new();
	const cJSON *headers = module_input(run, "headers");
	cJSON *task;
	int r;

	r = cc_jobs_read_common(flow, run);
	if (r < 0)
		return start_flow(flow, run, r);
	task = cJSON_CreateObject();
	cJSON_AddStringToObject(task, "operation", "capture-website");
	cJSON_AddStringToObject(task, "url", module_input_string(run, "url") ?: "");
	cJSON_AddStringToObject(task, "output_format",
				module_input_string(run, "output_format") ?: "");
	if (cJSON_IsObject(headers) && cJSON_GetArraySize(headers) > 0)
		cJSON_AddItemToObject(task, "headers", cJSON_Duplicate(headers, true));
	return start_flow(flow, run, add_process_and_export(flow, run, "capture", task));
}

int cc_convert_file_start(struct module_run *run)
{
	struct cc_job_flow *flow = flow_new();
	_cleanup_free_ char *input_format = cc_input_text(run, "input_format");
	cJSON *task;
	int r;

	r = cc_jobs_read_common(flow, run);
	if (r == 0)
		r = cc_jobs_add_input(flow, run, "import-1", module_input(run, "input"), "input");
	if (r < 0)
		return start_flow(flow, run, r);
	if (!input_format || !*input_format) {
		free(input_format);
		input_format = format_from_input(module_input(run, "input"));
	}
	task = cJSON_CreateObject();
	cJSON_AddStringToObject(task, "operation", "convert");
	cJSON_AddStringToObject(task, "input", "import-1");
	if (input_format)
		cJSON_AddStringToObject(task, "input_format", input_format);
	cJSON_AddStringToObject(task, "output_format",
				module_input_string(run, "output_format") ?: "");
	return start_flow(flow, run, add_process_and_export(flow, run, "convert", task));
}

static int start_many(struct module_run *run, const char *operation, const char *name, int min,
		      const char *default_format)
{
	struct cc_job_flow *flow = flow_new();
	const char *format = module_input_string(run, "output_format");
	cJSON *names, *task;
	int r;

	r = cc_jobs_read_common(flow, run);
	if (r < 0)
		return start_flow(flow, run, r);
	names = add_inputs(flow, run, "inputs", min);
	if (!names)
		return start_flow(flow, run, -EIO);
	task = cJSON_CreateObject();
	cJSON_AddStringToObject(task, "operation", operation);
	cJSON_AddItemToObject(task, "input", names);
	cJSON_AddStringToObject(task, "output_format", format ? format : default_format);
	return start_flow(flow, run, add_process_and_export(flow, run, name, task));
}

int cc_create_archive_start(struct module_run *run)
{
	return start_many(run, "archive", "archive", 1, "zip");
}

int cc_merge_files_start(struct module_run *run)
{
	return start_many(run, "merge", "merge", 2, "pdf");
}

int cc_optimize_file_start(struct module_run *run)
{
	struct cc_job_flow *flow = flow_new();
	_cleanup_free_ char *input_format = cc_input_text(run, "input_format");
	const char *profile = module_input_string(run, "profile");
	cJSON *task;
	int r;

	r = cc_jobs_read_common(flow, run);
	if (r == 0)
		r = cc_jobs_add_input(flow, run, "import-1", module_input(run, "input"), "input");
	if (r < 0)
		return start_flow(flow, run, r);
	if (!input_format || !*input_format) {
		free(input_format);
		input_format = format_from_input(module_input(run, "input"));
	}
	task = cJSON_CreateObject();
	cJSON_AddStringToObject(task, "operation", "optimize");
	cJSON_AddStringToObject(task, "input", "import-1");
	if (input_format)
		cJSON_AddStringToObject(task, "input_format", input_format);
	cJSON_AddStringToObject(task, "profile", profile ? profile : "web");
	return start_flow(flow, run, add_process_and_export(flow, run, "optimize", task));
}
