/* SPDX-License-Identifier: MIT */
/*
 * Request bodies for the HTTP listener: http_server.c hands over the bytes
 * as libmicrohttpd reads them, already bounded by the plan's max_body, and
 * this file decides from the Content-Type how they are kept:
 *
 *  - raw: the bytes in memory;
 *  - application/x-www-form-urlencoded: the raw bytes, split into fields
 *    once the body ended (here, not by MHD's PostProcessor: the one of MHD
 *    0.9.75 drops a last name without "=" and then reports the whole body
 *    as bad, and the bytes are in memory anyway);
 *  - multipart/form-data: its fields parsed as they arrive by MHD's
 *    PostProcessor; with files_to_blobs, no raw copy, each file part
 *    streams into a blob writer of the store and becomes a file value;
 *    without, the raw bytes are kept and file parts are only there.
 *
 * The PostProcessor hands a part over in pieces with their offset; a piece
 * at offset 0 starts the next part (its first piece may be empty, then the
 * data comes at offset 0 again), and a part ends when the next one starts
 * or the body ends. Fields and file parts are counted and sized against
 * fixed limits (http_body.h). A form kept raw that does not parse leaves
 * the fields out (NULL) and the route the raw bytes; a body streamed to
 * blobs that does not parse is an error. With an HMAC key every raw byte
 * also goes through HMAC-SHA256 (OpenSSL's EVP_MAC), whatever the kind.
 */
#include "daemon/http_body.h"

#include <errno.h>
#include <microhttpd.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/http_server.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/percent.h"
#include "util/xalloc.h"

#define POST_BUFFER_SIZE (16 * 1024) /* the PostProcessor's own buffer (keys, boundaries) */
#define HMAC_LEN 32

enum body_kind {
	BODY_RAW,
	BODY_URLENCODED, /* raw bytes, split into fields at the end */
	BODY_MULTIPART, /* raw bytes, and the fields as they arrive */
	BODY_BLOBS, /* fields, and file parts in the blob store */
};

struct body_part {
	bool open; /* a part is being received */
	bool skip; /* a file part of a form kept raw: no field */
	char *name; /* owned; the field name */
	char *filename; /* owned; as sent; NULL for a plain field */
	char *mime; /* owned; the part's Content-Type; may be NULL */
	struct store_blob_writer *writer; /* owned; a file part on its way to a blob */
	struct strbuf value; /* a field's bytes */
	uint64_t size; /* bytes so far */
};

struct http_body {
	enum body_kind kind;
	struct store *store; /* borrowed */
	int64_t max_file; /* bytes; the plan's max_body */
	struct strbuf raw; /* every kind but BODY_BLOBS */
	struct MHD_PostProcessor *pp; /* owned; NULL for raw bodies and once finished */
	struct body_part part; /* the part being received */
	cJSON *form; /* owned; NULL for raw bodies */
	cJSON *files; /* owned; BODY_BLOBS only */
	unsigned parts; /* fields and file parts so far */
	size_t field_bytes; /* multipart fields held in memory */
	unsigned file_parts;
	EVP_MAC_CTX *mac; /* owned; NULL without a key */
	unsigned char hmac[HMAC_LEN];
	bool hmac_done;
	bool closing; /* being freed: the PostProcessor's last calls are ignored */
	int error; /* the first failure; every later call returns it */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct http_body, http_body_free)

static int fail(struct http_body *body, int r)
{
	if (!body->error)
		body->error = r;
	/* A partial file goes at once, not when the request is freed. */
	store_blob_writer_abort(body->part.writer);
	body->part.writer = NULL;
	return body->error;
}

static void part_clear(struct body_part *part);

/* A form kept raw that does not parse: the route gets the raw bytes and
 * no fields. */
static void form_drop(struct http_body *body)
{
	body->closing = true;
	if (body->pp)
		(void)MHD_destroy_post_processor(body->pp);
	body->pp = NULL;
	body->closing = false;
	part_clear(&body->part);
	cJSON_Delete(body->form);
	body->form = NULL;
}

/* The PostProcessor failed: the error stands for a body streamed to
 * blobs or past a limit; a form kept raw goes on without fields. */
static int form_failed(struct http_body *body, int r)
{
	if (body->error)
		return body->error;
	if (body->kind == BODY_MULTIPART && r == -EBADMSG) {
		form_drop(body);
		return 0;
	}
	return fail(body, r);
}

static void part_clear(struct body_part *part)
{
	store_blob_writer_abort(part->writer);
	free(part->name);
	free(part->filename);
	free(part->mime);
	strbuf_done(&part->value);
	*part = (struct body_part){ 0 };
}

/* Adds a field; a name seen before turns into an array of its values. */
static void form_add(cJSON *form, const char *name, const char *value)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(form, name);
	cJSON *values;

	if (!old) {
		cJSON_AddItemToObject(form, name, cJSON_CreateString(value));
		return;
	}
	if (cJSON_IsArray(old)) {
		cJSON_AddItemToArray(old, cJSON_CreateString(value));
		return;
	}
	values = cJSON_CreateArray();
	cJSON_AddItemToArray(values, cJSON_CreateString(old->valuestring));
	cJSON_AddItemToArray(values, cJSON_CreateString(value));
	cJSON_ReplaceItemInObjectCaseSensitive(form, name, values);
}

/* The last path component of a file name as browsers and tools send it
 * ("C:\fakepath\a.pdf", "dir/a.pdf"); NULL when nothing is left. */
static const char *file_basename(const char *filename)
{
	const char *base = filename;

	for (const char *p = filename; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	return *base ? base : NULL;
}

static int file_end(struct http_body *body, struct body_part *part)
{
	struct store_blob_writer *writer = part->writer;
	cJSON *value = NULL;
	int r;

	part->writer = NULL;
	/* An empty file input of a browser form: no file at all. */
	if (part->filename[0] == '\0' && part->size == 0) {
		store_blob_writer_abort(writer);
		return 0;
	}
	r = store_blob_writer_commit(writer, file_basename(part->filename), part->mime, &value);
	if (r < 0)
		return r;
	cJSON_AddStringToObject(value, "field", part->name);
	cJSON_AddItemToArray(body->files, value);
	return 0;
}

static int part_end(struct http_body *body)
{
	struct body_part *part = &body->part;
	int r = 0;

	if (!part->open)
		return 0;
	if (part->writer)
		r = file_end(body, part);
	else if (!part->skip)
		form_add(body->form, part->name, part->value.data ? part->value.data : "");
	part_clear(part);
	return r;
}

static int part_begin(struct http_body *body, const char *name, const char *filename,
		      const char *mime)
{
	struct body_part *part = &body->part;

	if (body->parts >= HTTP_BODY_MAX_FIELDS || strlen(name) > HTTP_BODY_MAX_NAME ||
	    (filename && strlen(filename) > HTTP_BODY_MAX_FILENAME))
		return -E2BIG;
	body->parts++;
	part->open = true;
	part->name = xstrdup(name);
	part->filename = filename ? xstrdup(filename) : NULL;
	part->mime = mime ? xstrdup(mime) : NULL;
	if (!filename)
		return 0;
	if (body->kind == BODY_MULTIPART) {
		part->skip = true;
		return 0;
	}
	if (body->file_parts >= HTTP_BODY_MAX_FILES)
		return -E2BIG;
	body->file_parts++;
	return store_blob_writer_new(body->store, body->max_file, &part->writer);
}

static int part_append(struct http_body *body, const char *data, size_t size)
{
	struct body_part *part = &body->part;

	part->size += size;
	if (part->skip || size == 0)
		return 0;
	if (part->writer)
		return store_blob_writer_write(part->writer, data, size);
	body->field_bytes += size;
	if (part->value.len + size > HTTP_BODY_MAX_VALUE ||
	    body->field_bytes > HTTP_BODY_MAX_FIELD_BYTES)
		return -E2BIG;
	strbuf_append(&part->value, data, size);
	return 0;
}

static bool starts_part(const struct body_part *part, const char *name, const char *filename,
			uint64_t off)
{
	if (!part->open || !streq(part->name, name) || !streq_ptr(part->filename, filename))
		return true;
	return off == 0 && part->size > 0;
}

/* The PostProcessor's iterator: one piece of one part. */
static enum MHD_Result on_post_data(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *filename, const char *content_type,
				    const char *transfer_encoding, const char *data, uint64_t off,
				    size_t size)
{
	struct http_body *body = cls;
	int r = 0;

	(void)kind;
	(void)transfer_encoding;
	if (body->closing || body->error)
		return MHD_NO;
	if (!key)
		key = "";
	if (starts_part(&body->part, key, filename, off)) {
		r = part_end(body);
		if (r >= 0)
			r = part_begin(body, key, filename, content_type);
	}
	if (r >= 0)
		r = part_append(body, data, size);
	if (r < 0) {
		fail(body, r);
		return MHD_NO;
	}
	return MHD_YES;
}

/* Splits the urlencoded raw bytes into fields: "a=1&b&a=2" is {"a": ["1",
 * "2"], "b": ""}; empty pieces ("a=1&&b=2") are skipped. */
static int urlencoded_parse(struct http_body *body)
{
	const char *p = body->raw.data, *end = p + body->raw.len;

	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *eq;

		if (!amp)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (amp > p) {
			_cleanup_free_ char *name =
				percent_decode(p, (size_t)((eq ? eq : amp) - p), true);
			_cleanup_free_ char *value =
				eq ? percent_decode(eq + 1, (size_t)(amp - eq - 1), true) :
				     xstrdup("");

			if (++body->parts > HTTP_BODY_MAX_FIELDS ||
			    strlen(name) > HTTP_BODY_MAX_NAME)
				return -E2BIG;
			form_add(body->form, name, value);
		}
		p = amp + 1;
	}
	return 0;
}

/* Whether a Content-Type names `type` (case-insensitive, parameters
 * after it allowed). */
static bool type_is(const char *content_type, const char *type)
{
	size_t len = strlen(type);

	if (!content_type || strncasecmp(content_type, type, len) != 0)
		return false;
	return strchr("; \t", content_type[len]) != NULL;
}

static int hmac_start(struct http_body *body, const void *key, size_t len)
{
	static const unsigned char zero_key = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	if (!mac)
		return -EIO;
	body->mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!body->mac)
		return -EIO;
	/* OpenSSL takes an empty key for "the key set before"; HMAC pads a
	 * short key with zeros, so an empty key is the same as one zero byte. */
	if (len == 0) {
		key = &zero_key;
		len = 1;
	}
	if (EVP_MAC_init(body->mac, key, len, params) != 1)
		return -EIO;
	return 0;
}

int http_body_new(struct MHD_Connection *connection, const struct http_in_plan *plan,
		  struct store *store, struct http_body **ret)
{
	_cleanup_(http_body_freep) struct http_body *body = xcalloc(1, sizeof(*body));
	const char *type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	int r;

	body->store = store;
	body->max_file = plan->max_body > 0 ? plan->max_body : 1;
	if (type_is(type, MHD_HTTP_POST_ENCODING_FORM_URLENCODED))
		body->kind = BODY_URLENCODED;
	else if (type_is(type, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA))
		body->kind = plan->files_to_blobs && store ? BODY_BLOBS : BODY_MULTIPART;
	if (body->kind != BODY_RAW)
		body->form = cJSON_CreateObject();
	if (body->kind == BODY_BLOBS)
		body->files = cJSON_CreateArray();
	if (body->kind == BODY_MULTIPART || body->kind == BODY_BLOBS) {
		body->pp =
			MHD_create_post_processor(connection, POST_BUFFER_SIZE, on_post_data, body);
		if (!body->pp && body->kind == BODY_BLOBS)
			return -EBADMSG;
		if (!body->pp)
			form_drop(body);
	}
	if (plan->hmac_key) {
		r = hmac_start(body, plan->hmac_key, plan->hmac_key_len);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(body);
	return 0;
}

int http_body_feed(struct http_body *body, const void *data, size_t len)
{
	if (body->error)
		return body->error;
	if (len == 0)
		return 0;
	if (body->mac && EVP_MAC_update(body->mac, data, len) != 1)
		return fail(body, -EIO);
	if (body->kind != BODY_BLOBS)
		strbuf_append(&body->raw, data, len);
	if (body->pp && MHD_post_process(body->pp, data, len) != MHD_YES)
		return form_failed(body, -EBADMSG);
	return 0;
}

int http_body_finish(struct http_body *body)
{
	size_t len = 0;
	int r;

	if (body->error)
		return body->error;
	if (body->pp) {
		r = MHD_destroy_post_processor(TAKE_PTR(body->pp)) == MHD_YES ? 0 : -EBADMSG;
		if (r >= 0)
			r = part_end(body);
		if (r < 0)
			r = form_failed(body, r);
		if (r < 0)
			return r;
	}
	if (body->kind == BODY_URLENCODED) {
		r = urlencoded_parse(body);
		if (r < 0)
			return fail(body, r);
	}
	if (body->mac) {
		if (EVP_MAC_final(body->mac, body->hmac, &len, sizeof(body->hmac)) != 1 ||
		    len != HMAC_LEN)
			return fail(body, -EIO);
		body->hmac_done = true;
	}
	return 0;
}

struct http_body *http_body_free(struct http_body *body)
{
	if (!body)
		return NULL;
	body->closing = true;
	if (body->pp)
		(void)MHD_destroy_post_processor(body->pp);
	part_clear(&body->part);
	strbuf_done(&body->raw);
	cJSON_Delete(body->form);
	cJSON_Delete(body->files);
	EVP_MAC_CTX_free(body->mac);
	free(body);
	return NULL;
}

const char *http_body_raw(const struct http_body *body, size_t *ret_len)
{
	if (body->kind == BODY_BLOBS) {
		*ret_len = 0;
		return NULL;
	}
	*ret_len = body->raw.len;
	return body->raw.data ? body->raw.data : "";
}

const cJSON *http_body_form(const struct http_body *body)
{
	return body->form;
}

const cJSON *http_body_files(const struct http_body *body)
{
	return body->files;
}

const unsigned char *http_body_hmac(const struct http_body *body)
{
	return body->hmac_done ? body->hmac : NULL;
}
