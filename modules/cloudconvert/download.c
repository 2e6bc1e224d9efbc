/* SPDX-License-Identifier: MIT */
/*
 * Downloading exported files (cloudconvert-api.md §10): each URL of a
 * finished export/url task is fetched without the API key (the URLs are
 * presigned) and streamed straight into a store blob writer, so a file of
 * any size passes through a fixed amount of memory. The run's
 * max_file_size is enforced twice: against the size CloudConvert reports
 * before anything is fetched, and by the blob writer while bytes arrive,
 * since the report may be missing or wrong.
 *
 * File names come from the remote side and end up as names of file values
 * that files.write may put on disk, so they are reduced to one harmless
 * path segment first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cloudconvert/internal.h"
#include "store/store.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* Length of the UTF-8 sequence starting at s (at most `left` bytes), or 0
 * when it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

char *cc_download_filename(const char *remote)
{
	const unsigned char *s = (const unsigned char *)(remote ? remote : "");
	size_t len = strlen((const char *)s);
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(s + i, len - i);

		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' || s[i] == '\\') {
			strbuf_putc(&sb, '_');
			i += n ? n : 1;
			continue;
		}
		/* ".." never survives: a run of dots becomes one. */
		if (s[i] == '.' && sb.len && sb.data[sb.len - 1] == '.') {
			i++;
			continue;
		}
		if (sb.len + n > CC_FILENAME_MAX)
			break;
		strbuf_append(&sb, (const char *)s + i, n);
		i += n;
	}
	/* No hidden files, no names that are only dots or spaces. */
	while (sb.len && (sb.data[0] == '.' || sb.data[0] == ' ')) {
		memmove(sb.data, sb.data + 1, sb.len);
		sb.len--;
	}
	while (sb.len && sb.data[sb.len - 1] == ' ')
		sb.data[--sb.len] = '\0';
	if (!sb.len) {
		strbuf_done(&sb);
		return xstrdup("file");
	}
	return strbuf_steal(&sb);
}

static void next_file(struct cc_op *op);

static const cJSON *current(const struct cc_op *op)
{
	return cJSON_GetArrayItem(op->download.todo, op->download.index);
}

static int setup_download(struct cc_op *op, struct http_request *req)
{
	struct cc_download *dl = &op->download;
	const char *url = json_get_string(current(op), "url");
	int64_t max = op->run->max_file_size > 0 ? op->run->max_file_size : 0;
	int r;

	/* A new attempt starts a new blob: a partial one is worthless. */
	store_blob_writer_abort(dl->writer);
	dl->writer = NULL;
	r = store_blob_writer_new(op->run->env->store, max, &dl->writer);
	if (r < 0) {
		cc_op_set_error(
			op, r == -ENOSPC || r == -EDQUOT ? ERROR_OUT_OF_SPACE : ERROR_UNEXPECTED,
			"cannot store a downloaded file: %s", strerror(-r));
		return r;
	}
	r = cc_api_request(op, req, CC_HOST_STORAGE, "GET", url);
	if (r < 0)
		return r;
	req->sink = dl->writer;
	return 0;
}

static void on_downloaded(struct cc_op *op, int status)
{
	struct cc_download *dl = &op->download;
	_cleanup_free_ char *name = cc_download_filename(json_get_string(current(op), "filename"));
	cJSON *value = NULL;
	int r;

	if (status < 0) {
		store_blob_writer_abort(dl->writer);
		dl->writer = NULL;
		if (op->error.type == ERROR_MAX_FILE_SIZE_EXCEEDED)
			cc_op_set_error(op, ERROR_MAX_FILE_SIZE_EXCEEDED,
					"the exported file '%s' is larger than max_file_size "
					"(%lld bytes)",
					name, (long long)op->run->max_file_size);
		dl->done(op, status);
		return;
	}
	r = store_blob_writer_commit(TAKE_PTR(dl->writer), name, NULL, &value);
	if (r < 0) {
		cc_op_set_error(
			op, r == -ENOSPC || r == -EDQUOT ? ERROR_OUT_OF_SPACE : ERROR_UNEXPECTED,
			"cannot store the exported file '%s': %s", name, strerror(-r));
		dl->done(op, r);
		return;
	}
	op->run->bytes += json_get_int(value, "size", 0);
	cJSON_AddItemToArray(dl->values, value);
	dl->index++;
	next_file(op);
}

static void finish_later(struct cc_op *op)
{
	op->download.done(op, op->error.message ? -EIO : 0);
}

static void next_file(struct cc_op *op)
{
	if (op->download.index >= cJSON_GetArraySize(op->download.todo)) {
		cc_op_schedule(op, 0, finish_later);
		return;
	}
	cc_api_call(op, CC_CALL_IDEMPOTENT | CC_CALL_RAW, setup_download, on_downloaded);
}

void cc_download_start(struct cc_op *op, const cJSON *files, cc_done_fn *done)
{
	struct cc_download *dl = &op->download;
	int64_t max = op->run->max_file_size;
	const cJSON *file;

	store_blob_writer_abort(dl->writer);
	cJSON_Delete(dl->todo);
	cJSON_Delete(dl->values);
	*dl = (struct cc_download){
		.todo = cJSON_Duplicate(files, true),
		.values = cJSON_CreateArray(),
		.done = done,
	};
	module_error_done(&op->error);
	op->error = (struct module_error){ 0 };
	cJSON_ArrayForEach(file, dl->todo) {
		int64_t size = json_get_int(file, "size", -1);

		if (max > 0 && size > max) {
			_cleanup_free_ char *name =
				cc_download_filename(json_get_string(file, "filename"));

			cc_op_set_error(op, ERROR_MAX_FILE_SIZE_EXCEEDED,
					"the exported file '%s' is %lld bytes, larger than "
					"max_file_size (%lld bytes)",
					name, (long long)size, (long long)max);
			cc_op_schedule(op, 0, finish_later);
			return;
		}
	}
	next_file(op);
}
