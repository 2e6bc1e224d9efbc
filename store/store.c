/* SPDX-License-Identifier: MIT */
/*
 * Opening and closing the store: the state folder, the SQLite connection and
 * its pragmas (WAL, foreign keys, synchronous=NORMAL, a busy timeout), the
 * schema migrations tracked by PRAGMA user_version, and the lease owner
 * identity. Also the two things every other file of store/ leans on: the
 * single mapping from SQLite result codes to errno values, and transactions.
 *
 * Why WAL with synchronous=NORMAL: the daemon and scenarioctl share the file,
 * readers never block the writer, and a commit is an append to the WAL
 * without an fsync, so recording every operation as its own transaction
 * stays cheap. A crash can lose the last commits before a checkpoint's fsync
 * but never corrupts the file, which is the promise scenario runs need:
 * whatever is on record is consistent, and unfinished runs are found through
 * their expired leases.
 *
 * SQLite's unix VFS opens its files with O_CLOEXEC, so child processes do
 * not inherit the database.
 */
#include "store/store.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "util/log.h"
#include "util/xalloc.h"

#define BUSY_TIMEOUT_MS 5000
/* The largest text a column may hold (a module's input or output bundles). */
#define MAX_VALUE_BYTES (64 * 1024 * 1024)

int store_sql_error(struct store *store, int rc, const char *what)
{
	int r;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		r = -EBUSY;
		break;
	case SQLITE_CONSTRAINT:
		r = -EEXIST;
		break;
	case SQLITE_TOOBIG:
		r = -E2BIG;
		break;
	default:
		r = -EIO;
		break;
	}
	return log_debug_errno(STORE, r, "SQLite error %d (%s) in '%s'", rc,
			       store->db ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc),
			       what ? what : "?");
}

int store_step_done(struct store *store, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_ROW)
		return log_debug_errno(STORE, -EIO, "Unexpected row from '%s'", sqlite3_sql(stmt));
	return store_sql_error(store, rc, sqlite3_sql(stmt));
}

int store_step_row(struct store *store, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_sql_error(store, rc, sqlite3_sql(stmt));
}

static int run_stmt(struct store *store, enum store_stmt id)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, id);

	return store_step_done(store, stmt);
}

/* Rolls back whatever transaction is open; SQLite may already have done so
 * itself after an I/O error, which is why autocommit is asked first. */
static void rollback_quietly(struct store *store)
{
	if (sqlite3_get_autocommit(store->db))
		return;
	if (store->stmts[STMT_ROLLBACK])
		(void)run_stmt(store, STMT_ROLLBACK);
	else
		(void)sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_begin(struct store *store)
{
	int r;

	if (store->in_transaction)
		return log_debug_errno(STORE, -EINVAL, "Transactions do not nest");
	r = run_stmt(store, STMT_BEGIN);
	if (r < 0)
		return r;
	store->in_transaction = true;
	return 0;
}

int store_commit(struct store *store)
{
	int r;

	if (!store->in_transaction)
		return log_debug_errno(STORE, -EINVAL, "Commit without a transaction");
	store->in_transaction = false;
	if (sqlite3_get_autocommit(store->db))
		return log_debug_errno(STORE, -EIO, "Transaction was rolled back by SQLite");
	r = run_stmt(store, STMT_COMMIT);
	if (r < 0)
		rollback_quietly(store);
	return r;
}

int store_rollback(struct store *store)
{
	if (!store->in_transaction)
		return log_debug_errno(STORE, -EINVAL, "Rollback without a transaction");
	store->in_transaction = false;
	rollback_quietly(store);
	return 0;
}

int store_txn_enter(struct store *store)
{
	return run_stmt(store, store->in_transaction ? STMT_SAVEPOINT : STMT_BEGIN);
}

int store_txn_leave(struct store *store, int r)
{
	int k;

	if (store->in_transaction) {
		if (r < 0 && !sqlite3_get_autocommit(store->db))
			(void)run_stmt(store, STMT_ROLLBACK_TO);
		k = sqlite3_get_autocommit(store->db) ? 0 : run_stmt(store, STMT_RELEASE);
		return r < 0 ? r : k;
	}
	if (r < 0) {
		rollback_quietly(store);
		return r;
	}
	k = run_stmt(store, STMT_COMMIT);
	if (k < 0)
		rollback_quietly(store);
	return k;
}

int store_check_integrity(struct store *store, char **reterr_msg)
{
	_cleanup_reset_ sqlite3_stmt *stmt = store_stmt(store, STMT_INTEGRITY_CHECK);
	const char *first;
	int r;

	r = store_step_row(store, stmt);
	if (r < 0) {
		if (reterr_msg)
			*reterr_msg = xasprintf("Integrity check of '%s' failed: %s",
						store->db_path, sqlite3_errmsg(store->db));
		return r;
	}
	first = r > 0 ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
	if (first && streq(first, "ok"))
		return 0;
	if (reterr_msg)
		*reterr_msg = xasprintf("'%s' is damaged: %s", store->db_path,
					first ? first : "no answer from integrity_check");
	return -EIO;
}

const char *store_owner(const struct store *store)
{
	return store->owner;
}

const char *store_blob_dir(const struct store *store)
{
	return store->blob_dir;
}

static char *make_owner(void)
{
	char host[256] = "";
	uint64_t nonce = 0;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	/* The nonce tells apart two stores opened by one process (and a pid
	 * reused after a reboot); no secret depends on it. */
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
		nonce = (uint64_t)(uintptr_t)&nonce ^ ((uint64_t)getpid() << 32);
	return xasprintf("%s:%d:%016llx", host, (int)getpid(), (unsigned long long)nonce);
}

/*
 * SQL function owner_alive(owner): 0 when the owner of a claim is a process
 * on this host that no longer exists, else 1. A killed scenarioctl's claim
 * is then recognised at once instead of after its lease runs out; a claim
 * from another host is trusted until its lease ends, since no signal can
 * reach that process from here.
 */
static void sql_owner_alive(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *owner = (const char *)sqlite3_value_text(argv[0]);
	char host[256] = "";
	const char *colon;
	char *end;
	long pid;

	(void)argc;
	if (!owner || gethostname(host, sizeof(host) - 1) < 0) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	colon = strchr(owner, ':');
	if (!colon || (size_t)(colon - owner) != strlen(host) ||
	    strncmp(owner, host, (size_t)(colon - owner)) != 0) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	errno = 0;
	pid = strtol(colon + 1, &end, 10);
	if (errno || *end != ':' || pid <= 0) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	sqlite3_result_int(ctx, !(kill((pid_t)pid, 0) < 0 && errno == ESRCH));
}

/* Creates `path` and its missing parents with `mode`; an existing folder is
 * left as it is. */
static int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = xstrdup(path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int read_user_version(struct store *store, int *ret)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return store_sql_error(store, rc, "PRAGMA user_version");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return store_sql_error(store, rc, "PRAGMA user_version");
	return 0;
}

static int exec_sql(struct store *store, const char *sql)
{
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_sql_error(store, rc, sql);
}

static int apply_migrations(struct store *store, int from)
{
	_cleanup_free_ char *set_version = NULL;
	int r;

	for (int v = from + 1; v <= store_schema_version(); v++) {
		r = exec_sql(store, store_schema_migration(v));
		if (r < 0)
			return log_debug_errno(STORE, r, "Migration %d failed", v);
	}
	set_version = xasprintf("PRAGMA user_version = %d", store_schema_version());
	return exec_sql(store, set_version);
}

/* Brings the schema up to date in one transaction. The version is read again
 * under the write lock because scenarioctl and the daemon may open a new
 * state folder at the same moment. */
static int migrate(struct store *store, char **reterr_msg)
{
	int version = 0, r;

	r = read_user_version(store, &version);
	if (r >= 0 && version == store_schema_version())
		return 0;
	if (r >= 0)
		r = exec_sql(store, "BEGIN IMMEDIATE");
	if (r >= 0) {
		r = read_user_version(store, &version);
		if (r >= 0 && version > store_schema_version())
			r = -EPROTO;
		else if (r >= 0 && version < store_schema_version())
			r = apply_migrations(store, version);
		if (r >= 0)
			r = exec_sql(store, "COMMIT");
		if (r < 0)
			rollback_quietly(store);
	}
	if (r == -EPROTO)
		*reterr_msg = xasprintf("%s was written by a newer scenariod (schema %d, this "
					"program knows %d); upgrade scenariod or use another "
					"--state-dir",
					store->db_path, version, store_schema_version());
	else if (r < 0)
		*reterr_msg = xasprintf("Failed to prepare the schema of %s: %s", store->db_path,
					r == -EBUSY ? "the database is locked by another process" :
						      sqlite3_errmsg(store->db));
	return r;
}

static int open_database(struct store *store, char **reterr_msg)
{
	int rc, r;

	rc = sqlite3_open_v2(store->db_path, &store->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		*reterr_msg =
			xasprintf("Failed to open %s: %s", store->db_path, sqlite3_errstr(rc));
		return store_sql_error(store, rc, "open");
	}
	sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
	sqlite3_limit(store->db, SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES);

	/* journal_mode answers with the mode in force: "memory" for
	 * ":memory:", and the old mode where WAL is impossible (a file system
	 * without shared memory), which still works, only with readers
	 * blocking the writer. */
	r = exec_sql(store, "PRAGMA journal_mode = WAL");
	if (r >= 0)
		r = exec_sql(store, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL");
	if (r < 0) {
		*reterr_msg = xasprintf("Failed to open %s: %s", store->db_path,
					r == -EBUSY ? "the database is locked by another process" :
						      sqlite3_errmsg(store->db));
		return r;
	}
	r = migrate(store, reterr_msg);
	if (r < 0)
		return r;
	sqlite3_create_function(store->db, "owner_alive", 1, SQLITE_UTF8, NULL, sql_owner_alive,
				NULL, NULL);
	r = store_stmts_prepare(store);
	if (r < 0)
		*reterr_msg = xasprintf("Failed to prepare the statements of %s: %s",
					store->db_path, sqlite3_errmsg(store->db));
	return r;
}

int store_open(const char *state_dir, struct store **ret, char **reterr_msg)
{
	struct store *store;
	char *msg = NULL;
	int r;

	if (!state_dir || !*state_dir)
		return -EINVAL;

	/* Blob writers hash on worker threads; OpenSSL's lazy set-up must
	 * happen here, on the opening thread, or its per-thread state leaks. */
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);

	store = xcalloc(1, sizeof(*store));
	store->owner = make_owner();
	if (streq(state_dir, ":memory:")) {
		store->db_path = xstrdup(":memory:");
		r = store_blobs_open(store, NULL, &msg);
	} else {
		store->db_path = xasprintf("%s/store.db", state_dir);
		r = mkdir_parents(state_dir, 0700);
		if (r < 0)
			msg = xasprintf("Failed to create the state folder '%s': %s", state_dir,
					strerror(-r));
		else
			r = store_blobs_open(store, state_dir, &msg);
	}
	if (r >= 0)
		r = open_database(store, &msg);
	if (r < 0) {
		store_close(store);
		if (reterr_msg)
			*reterr_msg = msg;
		else
			free(msg);
		return r;
	}
	*ret = store;
	return 0;
}

struct store *store_close(struct store *store)
{
	if (!store)
		return NULL;
	/* Closing rolls back a transaction left open. */
	if (store->db) {
		store_stmts_finalize(store);
		sqlite3_close(store->db);
	}
	store_blobs_close(store);
	free(store->db_path);
	free(store->blob_dir);
	free(store->blob_dir_real);
	free(store->blob_tmp_dir);
	free(store->owner);
	free(store);
	return NULL;
}
