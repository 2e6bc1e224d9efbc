/* SPDX-License-Identifier: MIT */
/*
 * File bytes, content-addressed under STATE_DIR/blobs/XX/<sha256> (XX: the
 * first two hex digits, so no folder grows past a few thousand entries).
 * A writer streams bytes into a temporary file in blobs/tmp/, hashing them
 * as they arrive, and on commit fsyncs it and renames it into place; the
 * same content written twice is stored once. Bytes are never held whole in
 * memory, and a size limit is enforced while writing, not after.
 *
 * Writers touch only files, so a worker thread may drive one; the rows that
 * tie blobs to executions are written on the loop thread by
 * store_operation_finish(), which finds the file values in an operation's
 * outputs (store_blobs_link).
 *
 * A process killed mid-write leaves a file in blobs/tmp/; the next open
 * sweeps those that have not been touched for a day (a live writer in
 * another process keeps its file's mtime fresh).
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "util/json.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define SHA256_HEX_LEN 64
#define IMPORT_BUFFER_BYTES (64 * 1024)
#define STALE_TMP_SECONDS (24 * 60 * 60)
/* How deep store_blobs_link looks for file values in output bundles. */
#define LINK_MAX_DEPTH 64

struct store_blob_writer {
	char *blob_dir; /* owned copy: the writer outlives no store but may run on
			 * another thread, so it reads nothing of it */
	char *tmp_path; /* owned; NULL once moved or removed */
	int fd; /* the temporary file; -1 once closed */
	EVP_MD_CTX *md; /* owned; SHA-256 of the bytes so far */
	int64_t size; /* bytes written */
	int64_t max_size; /* 0: no limit */
	int error; /* first failure; every later call returns it */
};

static void drop_temp(struct store_blob_writer *writer)
{
	if (writer->fd >= 0) {
		close(writer->fd);
		writer->fd = -1;
	}
	if (writer->tmp_path) {
		(void)unlink(writer->tmp_path);
		free(writer->tmp_path);
		writer->tmp_path = NULL;
	}
}

/* Remembers the first failure and removes the partial file at once, so a
 * caller that forgets to abort still leaves nothing behind but memory. */
static int writer_fail(struct store_blob_writer *writer, int r)
{
	drop_temp(writer);
	if (!writer->error)
		writer->error = r;
	return writer->error;
}

int store_blob_writer_new(struct store *store, int64_t max_size, struct store_blob_writer **ret)
{
	struct store_blob_writer *writer;

	if (max_size < 0)
		return -EINVAL;
	writer = xcalloc(1, sizeof(*writer));
	writer->blob_dir = xstrdup(store->blob_dir);
	writer->max_size = max_size;
	writer->tmp_path = xasprintf("%s/blob-XXXXXX", store->blob_tmp_dir);
	writer->fd = mkostemp(writer->tmp_path, O_CLOEXEC);
	if (writer->fd < 0) {
		int r = -errno;

		free(writer->tmp_path);
		writer->tmp_path = NULL;
		store_blob_writer_abort(writer);
		return log_debug_errno(STORE, r, "Failed to create a temporary blob file");
	}
	/* mkostemp() creates 0600; the group may read blobs (operators). */
	(void)fchmod(writer->fd, 0640);
	writer->md = EVP_MD_CTX_new();
	if (!writer->md || EVP_DigestInit_ex(writer->md, EVP_sha256(), NULL) != 1) {
		store_blob_writer_abort(writer);
		return -EIO;
	}
	*ret = writer;
	return 0;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int store_blob_writer_write(struct store_blob_writer *writer, const void *data, size_t len)
{
	int r;

	if (writer->error)
		return writer->error;
	if (len == 0)
		return 0;
	if (len > INT64_MAX - (uint64_t)writer->size ||
	    (writer->max_size > 0 && writer->size + (int64_t)len > writer->max_size))
		return writer_fail(writer, -EFBIG);
	r = write_all(writer->fd, data, len);
	if (r < 0)
		return writer_fail(writer, log_debug_errno(STORE, r, "Failed to write a blob"));
	if (EVP_DigestUpdate(writer->md, data, len) != 1)
		return writer_fail(writer, -EIO);
	writer->size += (int64_t)len;
	return 0;
}

int64_t store_blob_writer_size(const struct store_blob_writer *writer)
{
	return writer->size;
}

static void hex_encode(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int fsync_dir(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Moves the finished temporary file to blob_dir/XX/HEX. Content already
 * there with the right size is kept and ours dropped; the rename makes the
 * blob appear whole or not at all. */
static int move_into_place(struct store_blob_writer *writer, const char *hex, char **ret_path)
{
	_cleanup_free_ char *dir = xasprintf("%s/%.2s", writer->blob_dir, hex);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, hex);
	struct stat st;
	int r;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == writer->size) {
		drop_temp(writer);
	} else {
		if (rename(writer->tmp_path, path) < 0)
			return -errno;
		free(writer->tmp_path);
		writer->tmp_path = NULL;
		r = fsync_dir(dir);
		if (r < 0)
			return r;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}

static int finish_writer(struct store_blob_writer *writer, char *hex, char **ret_path)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	int r;

	if (writer->error)
		return writer->error;
	if (fsync(writer->fd) < 0)
		return -errno;
	r = close(TAKE_FD(writer->fd));
	if (r < 0)
		return -errno;
	if (EVP_DigestFinal_ex(writer->md, digest, &digest_len) != 1 || digest_len != 32)
		return -EIO;
	hex_encode(digest, digest_len, hex);
	r = move_into_place(writer, hex, ret_path);
	if (r < 0)
		return log_debug_errno(STORE, r, "Failed to move blob %s into place", hex);
	return 0;
}

int store_blob_writer_commit(struct store_blob_writer *writer, const char *name, const char *mime,
			     cJSON **ret_file_value)
{
	_cleanup_free_ char *path = NULL;
	char hex[SHA256_HEX_LEN + 1];
	int r;

	r = finish_writer(writer, hex, &path);
	if (r >= 0)
		*ret_file_value = json_file_value_new(name ? name : hex, writer->size,
						      mime ? mime : store_mime_guess(name), hex,
						      path);
	store_blob_writer_abort(writer);
	return r;
}

void store_blob_writer_abort(struct store_blob_writer *writer)
{
	if (!writer)
		return;
	drop_temp(writer);
	EVP_MD_CTX_free(writer->md);
	free(writer->blob_dir);
	free(writer);
}

static int copy_fd(int fd, struct store_blob_writer *writer)
{
	_cleanup_free_ uint8_t *buf = xmalloc(IMPORT_BUFFER_BYTES);

	for (;;) {
		ssize_t n = read(fd, buf, IMPORT_BUFFER_BYTES);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		r = store_blob_writer_write(writer, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

int store_blob_import_path(struct store *store, const char *path, const char *name,
			   int64_t max_size, cJSON **ret_file_value)
{
	_cleanup_close_ int fd = -1;
	struct store_blob_writer *writer = NULL;
	const char *slash;
	struct stat st;
	int r;

	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return log_debug_errno(STORE, -errno, "Failed to open '%s'", path);
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* Fail before copying a byte when the size already says so. */
	if (max_size > 0 && st.st_size > max_size)
		return -EFBIG;
	if (!name) {
		slash = strrchr(path, '/');
		name = slash ? slash + 1 : path;
	}

	r = store_blob_writer_new(store, max_size, &writer);
	if (r < 0)
		return r;
	r = copy_fd(fd, writer);
	if (r < 0) {
		store_blob_writer_abort(writer);
		return r;
	}
	return store_blob_writer_commit(writer, name, NULL, ret_file_value);
}

static bool is_sha256_hex(const char *s)
{
	if (!s || strlen(s) != SHA256_HEX_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* A file value is trusted only as far as it names a blob of this store: its
 * path, with every symlink and '..' resolved, must be exactly
 * blobs/XX/<its sha256>, which also keeps writers' temporary files and
 * anything outside the folder out of reach. */
int store_blob_resolve(const struct store *store, const cJSON *file_value, const char **ret_path)
{
	_cleanup_free_ char *real = NULL;
	_cleanup_free_ char *expected = NULL;
	const char *path, *sha256;
	struct stat st;

	if (!json_is_file_value(file_value))
		return -EINVAL;
	path = json_get_string(file_value, "path");
	sha256 = json_get_string(file_value, "sha256");
	if (!is_sha256_hex(sha256))
		return -EINVAL;
	real = realpath(path, NULL);
	if (!real)
		return -errno;
	expected = xasprintf("%s/%.2s/%s", store->blob_dir_real, sha256, sha256);
	if (!streq(real, expected))
		return log_debug_errno(STORE, -EPERM, "File value path '%s' is not a blob of '%s'",
				       path, store->blob_dir);
	if (stat(real, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	*ret_path = path;
	return 0;
}

static int insert_blob_row(struct store *store, const char *sha256, int64_t size)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_BLOB_INSERT);

	store_bind_text(stmt, 1, sha256);
	sqlite3_bind_int64(stmt, 2, size);
	sqlite3_bind_int64(stmt, 3, time_now_ms());
	return store_step_done(store, stmt);
}

static int link_blob(struct store *store, int64_t execution_id, const cJSON *file_value)
{
	_cleanup_reset_ sqlite3_stmt *stmt = NULL;
	const char *sha256 = json_get_string(file_value, "sha256");
	int r;

	/* Values from elsewhere (hand-made in a mapping) are not blobs. */
	if (!is_sha256_hex(sha256))
		return 0;
	r = insert_blob_row(store, sha256, json_get_int(file_value, "size", 0));
	if (r < 0)
		return r;
	stmt = store_stmt(store, STMT_EXECUTION_BLOB_INSERT);
	sqlite3_bind_int64(stmt, 1, execution_id);
	store_bind_text(stmt, 2, sha256);
	return store_step_done(store, stmt);
}

static int link_tree(struct store *store, int64_t execution_id, const cJSON *item, int depth)
{
	const cJSON *child;
	int r;

	if (json_is_file_value(item))
		return link_blob(store, execution_id, item);
	if (depth >= LINK_MAX_DEPTH || !(cJSON_IsArray(item) || cJSON_IsObject(item)))
		return 0;
	cJSON_ArrayForEach(child, item) {
		r = link_tree(store, execution_id, child, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

int store_blobs_link(struct store *store, int64_t execution_id, const cJSON *outputs)
{
	return link_tree(store, execution_id, outputs, 0);
}

static void sweep_stale_temps(const char *tmp_dir)
{
	DIR *dir = opendir(tmp_dir);
	time_t cutoff = (time_t)(time_now_ms() / 1000) - STALE_TMP_SECONDS;
	struct dirent *de;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_mtime < cutoff)
			(void)unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
}

int store_blobs_open(struct store *store, const char *state_dir, char **reterr_msg)
{
	int r;

	if (state_dir) {
		store->blob_dir = xasprintf("%s/blobs", state_dir);
		if (mkdir(store->blob_dir, 0750) < 0 && errno != EEXIST)
			goto fail;
	} else {
		const char *tmp = getenv("TMPDIR");

		store->blob_dir =
			xasprintf("%s/scenariod-blobs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(store->blob_dir))
			goto fail;
		store->memory = true;
	}
	store->blob_tmp_dir = xasprintf("%s/tmp", store->blob_dir);
	if (mkdir(store->blob_tmp_dir, 0750) < 0 && errno != EEXIST)
		goto fail;
	store->blob_dir_real = realpath(store->blob_dir, NULL);
	if (!store->blob_dir_real)
		goto fail;
	if (state_dir)
		sweep_stale_temps(store->blob_tmp_dir);
	return 0;

fail:
	r = -errno;
	*reterr_msg = xasprintf("Failed to create the blob folder '%s': %s", store->blob_dir,
				strerror(-r));
	return r;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	(void)remove(path);
	return 0;
}

void store_blobs_close(struct store *store)
{
	if (store->memory && store->blob_dir)
		(void)nftw(store->blob_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
