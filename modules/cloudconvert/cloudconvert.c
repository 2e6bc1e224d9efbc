/* SPDX-License-Identifier: MIT */
/*
 * The CloudConvert app: every module of Fusion's CloudConvert app, in the
 * order modules.md lists them (cloudconvert_modules[], listed in
 * modules/registry.c). Every one needs a connection.
 *
 * Reading order for the folder: this table, internal.h (the op every run
 * is built on), api.c (calls and retries), parse.c (what the API answers),
 * jobs.c with wait.c, upload.c and download.c (a job from creation to
 * files), then the module files: common.c, create_job.c, jobs_modules.c,
 * tasks_modules.c, other.c, watch.c; signature.c is for the daemon's
 * webhook listener.
 *
 * Every module but Retry a Task is safe to run again after a run that
 * stopped without knowing its outcome: the job modules find the job the
 * first attempt created by its deterministic tag, the others read, or
 * cancel and delete (which cannot act twice). Retrying a task twice would
 * start two new tasks; Make an API Call is safe for idempotent methods.
 */
#include "modules/cloudconvert/internal.h"

#define CC_MODULE(module, kind_, summary_, ...)                                             \
	{                                                                                   \
		.app = "cloudconvert", .name = #module, .summary = summary_, .kind = kind_, \
		.needs_connection = true, .fields = cc_##module##_fields,                   \
		.start = cc_##module##_start, .cancel = cc_op_cancel, __VA_ARGS__           \
	}

const struct module_desc cloudconvert_modules[] = {
	CC_MODULE(capture_website, MODULE_ACTION, "Capture a website as PDF, PNG or JPG",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(convert_file, MODULE_ACTION, "Convert a file",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(create_archive, MODULE_ACTION, "Create an archive of files",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(merge_files, MODULE_ACTION, "Merge files into one PDF",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(optimize_file, MODULE_ACTION, "Optimize a PDF, PNG or JPG",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(create_job, MODULE_ACTION, "Create a job from any task graph (advanced)",
		  .validate = cc_create_job_validate, .safe_to_repeat = module_repeat_always),
	CC_MODULE(watch_job_events, MODULE_TRIGGER_INSTANT, "New job event (webhook)",
		  .validate = cc_watch_job_events_validate, .safe_to_repeat = module_repeat_always),
	CC_MODULE(list_jobs, MODULE_SEARCH,
		  "List jobs (first in a flow: only jobs not seen before)",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(get_job, MODULE_ACTION, "Get a job", .safe_to_repeat = module_repeat_always),
	CC_MODULE(delete_job, MODULE_ACTION, "Delete a job",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(get_task, MODULE_ACTION, "Get a task", .safe_to_repeat = module_repeat_always),
	CC_MODULE(download_file, MODULE_SEARCH, "Download the files of an export task",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(list_tasks, MODULE_SEARCH, "List tasks", .safe_to_repeat = module_repeat_always),
	CC_MODULE(retry_task, MODULE_ACTION, "Retry a task"),
	CC_MODULE(cancel_task, MODULE_ACTION, "Cancel a task",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(delete_task, MODULE_ACTION, "Delete a task",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(list_operations, MODULE_SEARCH, "List possible operations",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(get_my_info, MODULE_ACTION, "Get my account's info",
		  .safe_to_repeat = module_repeat_always),
	CC_MODULE(make_api_call, MODULE_ACTION, "Make an API call",
		  .validate = cc_make_api_call_validate,
		  .safe_to_repeat = module_repeat_idempotent_method),
	{ .name = NULL },
};
