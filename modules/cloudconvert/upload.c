/* SPDX-License-Identifier: MIT */
/*
 * Uploading a file into a waiting import/upload task (cloudconvert-api.md
 * §6): a multipart/form-data POST to the task's result.form.url carrying
 * every form parameter verbatim and in the given order, then the file part
 * last (S3 ignores fields after the file), streamed from the blob with its
 * length known up front (S3 refuses chunked uploads). The form is
 * presigned, so the request carries no Authorization header: the API key
 * must never reach the storage host.
 *
 * An upload may be repeated (S3 stores the same key again), so faults are
 * retried like any idempotent call.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "store/store.h"
#include "util/json.h"
#include "util/xalloc.h"

/* Form values may be JSON numbers in some generations of the form (§3.4). */
static char *param_text(const cJSON *value)
{
	if (cJSON_IsString(value))
		return xstrdup(value->valuestring);
	if (cJSON_IsNumber(value) && value->valuedouble == floor(value->valuedouble) &&
	    fabs(value->valuedouble) < 9e15)
		return xasprintf("%" PRId64, (int64_t)value->valuedouble);
	if (cJSON_IsNull(value))
		return xstrdup("");
	return json_to_text(value);
}

static int setup_upload(struct cc_op *op, struct http_request *req)
{
	struct cc_upload *up = &op->upload;
	const cJSON *param;
	int r;

	r = cc_api_request(op, req, CC_HOST_STORAGE, "POST", up->url);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(param, up->params) {
		_cleanup_free_ char *value = param_text(param);

		r = http_request_add_form_field(req, param->string, value);
		if (r < 0) {
			cc_op_set_error(op, ERROR_DATA,
					"the upload form's parameter '%s' cannot be sent (%s)",
					param->string, strerror(-r));
			return r;
		}
	}
	r = http_request_set_form_file(req, "file", up->path, up->name, up->mime);
	if (r < 0)
		cc_op_set_error(op, ERROR_DATA, "cannot upload '%s': %s", up->name, strerror(-r));
	return r;
}

static void on_uploaded(struct cc_op *op, int status)
{
	op->upload.done(op, status);
}

static void fail_later(struct cc_op *op)
{
	op->upload.done(op, -EIO);
}

void cc_upload_start(struct cc_op *op, const cJSON *task, const cJSON *file_value, cc_done_fn *done)
{
	struct cc_upload *up = &op->upload;
	const cJSON *params = NULL;
	const char *url = NULL, *path = NULL, *mime;
	int r;

	free(up->url);
	cJSON_Delete(up->params);
	free(up->path);
	free(up->name);
	free(up->mime);
	*up = (struct cc_upload){ .done = done };

	r = cc_parse_upload_form(task, &url, &params);
	if (r < 0) {
		cc_op_set_error(op, ERROR_UNEXPECTED,
				"CloudConvert gave task '%s' no usable upload form",
				json_get_string(task, "name") ?: "?");
		cc_op_schedule(op, 0, fail_later);
		return;
	}
	r = store_blob_resolve(op->run->env->store, file_value, &path);
	if (r < 0) {
		cc_op_set_error(op, ERROR_DATA,
				"the file '%s' for task '%s' is not in this scenariod's store",
				json_get_string(file_value, "name") ?: "?",
				json_get_string(task, "name") ?: "?");
		cc_op_schedule(op, 0, fail_later);
		return;
	}
	mime = json_get_string(file_value, "mime");
	up->url = xstrdup(url);
	up->params = params ? cJSON_Duplicate(params, true) : cJSON_CreateObject();
	up->path = xstrdup(path);
	up->name = cc_download_filename(json_get_string(file_value, "name") ?: "file");
	up->mime = xstrdup(mime && *mime ? mime : "application/octet-stream");
	op->run->bytes += json_get_int(file_value, "size", 0);
	cc_api_call(op, CC_CALL_IDEMPOTENT | CC_CALL_RAW, setup_upload, on_uploaded);
}
