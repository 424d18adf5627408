/*
 * SQLite backend: the zero-setup default. One connection, owned by the
 * worker thread (opened and migrated on the opening thread before the
 * worker starts), WAL journal, every statement prepared once at open.
 * A batch is BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front
 * so a second process on the same file makes us wait (busy_timeout) at
 * BEGIN, not fail half-way. A constraint error fails only its own job:
 * SQLite rolls back just that statement and the transaction goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "schema.h"
#include "store_backend.h"

enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_PUT, Q_FIND_KEY, Q_FIND_HEX, Q_FIND_DEC, Q_FIND_GW,
	Q_CLOSE, Q_PURGE, Q_PUSH, Q_FETCH, Q_DELETE, Q_COUNT, Q_COUNT_ALL,
	Q_PING, Q_MAX
};

#define MAP_COLS "gateway_id, link, smsc_id, account, source_addr," \
	" dest_addr, registered_delivery, state, submitted_at, done_at"
/* Among several rows of one id (an SMSC that reuses ids), the open and
 * newest one is the message a receipt is about. */
#define MAP_ORDER " ORDER BY done_at IS NULL DESC, submitted_at DESC LIMIT 1"

static const char *const sql[Q_MAX] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_PUT] = "INSERT INTO idmap (gateway_id, link, smsc_id, smsc_key,"
	    " smsc_hex, smsc_dec, account, source_addr, dest_addr,"
	    " registered_delivery, state, submitted_at, done_at)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[Q_FIND_KEY] = "SELECT " MAP_COLS " FROM idmap WHERE link = ? AND"
	    " smsc_key = ?" MAP_ORDER,
	[Q_FIND_HEX] = "SELECT " MAP_COLS " FROM idmap WHERE link = ? AND"
	    " smsc_hex = ?" MAP_ORDER,
	[Q_FIND_DEC] = "SELECT " MAP_COLS " FROM idmap WHERE link = ? AND"
	    " smsc_dec = ?" MAP_ORDER,
	[Q_FIND_GW] = "SELECT " MAP_COLS " FROM idmap WHERE gateway_id = ?",
	[Q_CLOSE] = "UPDATE idmap SET state = ?, done_at = ? WHERE"
	    " gateway_id = ? AND done_at IS NULL",
	[Q_PURGE] = "DELETE FROM idmap WHERE gateway_id IN (SELECT gateway_id"
	    " FROM idmap WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)",
	[Q_PUSH] = "INSERT INTO pending (account, kind, pdu, created_at)"
	    " VALUES (?,?,?,?)",
	[Q_FETCH] = "SELECT id, kind, pdu, created_at FROM pending WHERE"
	    " account = ? AND id > ? ORDER BY id LIMIT ?",
	[Q_DELETE] = "DELETE FROM pending WHERE id = ?",
	[Q_COUNT] = "SELECT COUNT(*) FROM pending WHERE account = ?",
	[Q_COUNT_ALL] = "SELECT COUNT(*) FROM pending",
	[Q_PING] = "SELECT 1",
};

struct db_backend {
	sqlite3 *db;
	sqlite3_stmt *q[Q_MAX];
};

static void
set_err(char *err, size_t errlen, sqlite3 *db, const char *what)
{
	snprintf(err, errlen, "sqlite %s: %s", what,
	    db ? sqlite3_errmsg(db) : "out of memory");
}

static int
io_exec(void *arg, const char *s, char *err, size_t errlen)
{
	struct db_backend *b = arg;

	if (sqlite3_exec(b->db, s, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(err, errlen, b->db, "migration");
		return -1;
	}
	return 0;
}

static int
io_version(void *arg, int *v, char *err, size_t errlen)
{
	struct db_backend *b = arg;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(b->db, "SELECT COALESCE(MAX(version), 0) FROM"
	    " schema_version", -1, &st, NULL) != SQLITE_OK) {
		set_err(err, errlen, b->db, "schema_version");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		set_err(err, errlen, b->db, "schema_version");
		return -1;
	}
	return 0;
}

static void
sq_close(struct db_backend *b)
{
	if (b == NULL)
		return;
	for (int i = 0; i < Q_MAX; i++)
		sqlite3_finalize(b->q[i]);
	sqlite3_close(b->db);
	free(b);
}

static int
sq_open(struct db_backend **out, const struct db_dsn *d,
    const struct db_store_opts *opts, char *err, size_t errlen)
{
	static const struct db_schema_io io = { io_exec, io_version };
	struct db_backend *b;
	sqlite3_stmt *st = NULL;
	int ok = 0;

	(void)opts;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* NOMUTEX: one thread at a time uses the connection (the opener,
	 * then the worker; pthread_create orders the two). */
	if (sqlite3_open_v2(d->path, &b->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite open %s: %s", d->path,
		    b->db ? sqlite3_errmsg(b->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(b->db, 5000);
	/* journal_mode answers with the mode in force: a read-only or
	 * network file system may refuse WAL, and we want to know. */
	if (sqlite3_prepare_v2(b->db, "PRAGMA journal_mode=WAL", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0)
		ok = 1;
	sqlite3_finalize(st);
	if (!ok) {
		set_err(err, errlen, b->db, "cannot switch to WAL");
		goto fail;
	}
	if (sqlite3_exec(b->db, d->sync_full ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(err, errlen, b->db, "synchronous");
		goto fail;
	}
	if (db_schema_migrate(&io, b, 0, err, errlen) != 0)
		goto fail;
	for (int i = 0; i < Q_MAX; i++)
		if (sqlite3_prepare_v3(b->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &b->q[i], NULL) != SQLITE_OK) {
			set_err(err, errlen, b->db, "prepare");
			goto fail;
		}
	*out = b;
	return 0;
fail:
	sq_close(b);
	return -1;
}

static int
sq_reconnect(struct db_backend *b, char *err, size_t errlen)
{
	/* A file does not go away like a server does: nothing to redo. */
	(void)b;
	(void)err;
	(void)errlen;
	return 0;
}

static void
col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t len = t ? (size_t)sqlite3_column_bytes(st, i) : 0;

	if (len >= cap)
		len = cap - 1;
	if (len > 0)
		memcpy(dst, t, len);
	dst[len] = '\0';
}

static void
read_map(sqlite3_stmt *st, struct db_idmap *m)
{
	memset(m, 0, sizeof(*m));
	col_text(st, 0, m->gateway_id, sizeof(m->gateway_id));
	col_text(st, 1, m->link, sizeof(m->link));
	col_text(st, 2, m->smsc_id, sizeof(m->smsc_id));
	col_text(st, 3, m->account, sizeof(m->account));
	col_text(st, 4, m->source_addr, sizeof(m->source_addr));
	col_text(st, 5, m->dest_addr, sizeof(m->dest_addr));
	m->registered_delivery = (uint8_t)sqlite3_column_int(st, 6);
	m->state = sqlite3_column_int(st, 7);
	m->submitted_at = sqlite3_column_int64(st, 8);
	m->done_at = sqlite3_column_int64(st, 9);
}

/* Steps a find statement whose parameters are bound. 1 found (row set),
 * 0 not found, or -(sqlite rc) on an error. */
static int
find_one(sqlite3_stmt *st, struct db_idmap *row)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		read_map(st, row);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -rc;
}

static int
find_num(struct db_backend *b, int q, const char *link, uint64_t v,
    struct db_idmap *row)
{
	sqlite3_stmt *st = b->q[q];

	sqlite3_bind_text(st, 1, link, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)v);
	return find_one(st, row);
}

static int
run_find_smsc(struct db_backend *b, struct db_job *j)
{
	const struct db_smsc_key *k = &j->key;
	const char *link = j->map.link;
	sqlite3_stmt *st = b->q[Q_FIND_KEY];
	int r;

	sqlite3_bind_text(st, 1, link, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->folded, -1, SQLITE_STATIC);
	r = find_one(st, &j->row);
	/* Same base first (leading zeros), then the other base. */
	if (r == 0 && k->has_hex)
		r = find_num(b, Q_FIND_HEX, link, k->hex, &j->row);
	if (r == 0 && k->has_dec)
		r = find_num(b, Q_FIND_DEC, link, k->dec, &j->row);
	if (r == 0 && k->has_dec)
		r = find_num(b, Q_FIND_HEX, link, k->dec, &j->row);
	if (r == 0 && k->has_hex)
		r = find_num(b, Q_FIND_DEC, link, k->hex, &j->row);
	if (r < 0)
		return -r;
	j->status = r ? DB_OK : DB_NOTFOUND;
	return SQLITE_OK;
}

/* Runs a write statement whose parameters are bound. */
static int
step_write(struct db_backend *b, sqlite3_stmt *st, struct db_job *j)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE) {
		j->status = DB_OK;
		return SQLITE_OK;
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		/* Only this statement was rolled back. */
		j->status = DB_EFAIL;
		return SQLITE_OK;
	}
	(void)b;
	return rc;
}

static int
run_fetch(struct db_backend *b, struct db_job *j)
{
	sqlite3_stmt *st = b->q[Q_FETCH];
	size_t cap = 0, used = 0, n = 0;
	size_t *off;
	int rc;

	if ((j->rows = calloc(j->max, sizeof(*j->rows))) == NULL ||
	    (off = calloc(j->max, sizeof(*off))) == NULL) {
		j->status = DB_ENOMEM;
		return SQLITE_OK;
	}
	sqlite3_bind_text(st, 1, j->account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, j->arg);
	sqlite3_bind_int(st, 3, (int)j->max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < j->max) {
		const void *p = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);

		if (used + len > cap) {
			size_t ncap = (used + len) * 2 + 256;
			uint8_t *nd = realloc(j->rows_data, ncap);

			if (nd == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			j->rows_data = nd;
			cap = ncap;
		}
		if (len > 0)
			memcpy(j->rows_data + used, p, len);
		j->rows[n].id = sqlite3_column_int64(st, 0);
		j->rows[n].kind = (enum db_pending_kind)sqlite3_column_int(st, 1);
		j->rows[n].created_at = sqlite3_column_int64(st, 3);
		j->rows[n].pdu_len = len;
		off[n++] = used;
		used += len;
	}
	sqlite3_reset(st);
	/* Pointers only now: realloc may have moved the buffer. */
	for (size_t i = 0; i < n; i++)
		j->rows[i].pdu = j->rows_data + off[i];
	free(off);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return rc == SQLITE_NOMEM ? (j->status = DB_ENOMEM, SQLITE_OK) :
		    rc;
	j->nrows = n;
	j->status = DB_OK;
	return SQLITE_OK;
}

static int
run_count(struct db_backend *b, struct db_job *j)
{
	sqlite3_stmt *st = b->q[j->account[0] ? Q_COUNT : Q_COUNT_ALL];
	int rc;

	if (j->account[0])
		sqlite3_bind_text(st, 1, j->account, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		j->value = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc;
	j->status = DB_OK;
	return SQLITE_OK;
}

/* Runs one job inside the open transaction. SQLITE_OK when the job has
 * its status (even a failed one); any other code aborts the batch. */
static int
run_job(struct db_backend *b, struct db_job *j)
{
	sqlite3_stmt *st;
	const struct db_idmap *m = &j->map;
	int rc;

	j->status = DB_EFAIL;
	switch (j->kind) {
	case DB_JOB_PUT:
		st = b->q[Q_PUT];
		sqlite3_bind_text(st, 1, m->gateway_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->link, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, m->smsc_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, j->key.folded, -1, SQLITE_STATIC);
		if (j->key.has_hex)
			sqlite3_bind_int64(st, 5, (int64_t)j->key.hex);
		if (j->key.has_dec)
			sqlite3_bind_int64(st, 6, (int64_t)j->key.dec);
		sqlite3_bind_text(st, 7, m->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, m->source_addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, m->dest_addr, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 10, m->registered_delivery);
		sqlite3_bind_int(st, 11, m->state);
		sqlite3_bind_int64(st, 12, m->submitted_at);
		if (m->done_at > 0)
			sqlite3_bind_int64(st, 13, m->done_at);
		return step_write(b, st, j);
	case DB_JOB_FIND_SMSC:
		return run_find_smsc(b, j);
	case DB_JOB_FIND_GW:
		st = b->q[Q_FIND_GW];
		sqlite3_bind_text(st, 1, m->gateway_id, -1, SQLITE_STATIC);
		rc = find_one(st, &j->row);
		if (rc < 0)
			return -rc;
		j->status = rc ? DB_OK : DB_NOTFOUND;
		return SQLITE_OK;
	case DB_JOB_CLOSE:
		st = b->q[Q_CLOSE];
		sqlite3_bind_int64(st, 1, j->arg);
		sqlite3_bind_int64(st, 2, j->arg2);
		sqlite3_bind_text(st, 3, m->gateway_id, -1, SQLITE_STATIC);
		if ((rc = step_write(b, st, j)) != SQLITE_OK)
			return rc;
		j->value = sqlite3_changes(b->db);
		if (j->status == DB_OK && j->value == 0)
			j->status = DB_NOTFOUND;
		return SQLITE_OK;
	case DB_JOB_PURGE:
		st = b->q[Q_PURGE];
		sqlite3_bind_int64(st, 1, j->arg);
		sqlite3_bind_int(st, 2, (int)j->max);
		if ((rc = step_write(b, st, j)) != SQLITE_OK)
			return rc;
		j->value = sqlite3_changes(b->db);
		return SQLITE_OK;
	case DB_JOB_PUSH:
		st = b->q[Q_PUSH];
		sqlite3_bind_text(st, 1, j->account, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, j->kind_arg);
		sqlite3_bind_blob(st, 3, j->blob, (int)j->blob_len,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, j->arg);
		if ((rc = step_write(b, st, j)) != SQLITE_OK)
			return rc;
		j->value = sqlite3_last_insert_rowid(b->db);
		return SQLITE_OK;
	case DB_JOB_FETCH:
		return run_fetch(b, j);
	case DB_JOB_DELETE:
		st = b->q[Q_DELETE];
		sqlite3_bind_int64(st, 1, j->arg);
		if ((rc = step_write(b, st, j)) != SQLITE_OK)
			return rc;
		j->value = sqlite3_changes(b->db);
		if (j->status == DB_OK && j->value == 0)
			j->status = DB_NOTFOUND;
		return SQLITE_OK;
	case DB_JOB_COUNT:
		return run_count(b, j);
	case DB_JOB_PING:
		st = b->q[Q_PING];
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return rc;
		j->status = DB_OK;
		return SQLITE_OK;
	}
	return SQLITE_OK;
}

static int
is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static enum db_batch_result
sq_run(struct db_backend *b, struct db_job **jobs, size_t n, char *err,
    size_t errlen)
{
	int rc;

	rc = sqlite3_step(b->q[Q_BEGIN]);
	sqlite3_reset(b->q[Q_BEGIN]);
	if (rc != SQLITE_DONE) {
		set_err(err, errlen, b->db, "begin");
		return is_busy(rc) ? DB_BATCH_BUSY : DB_BATCH_FAILED;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i]->value = 0;
		if ((rc = run_job(b, jobs[i])) != SQLITE_OK) {
			set_err(err, errlen, b->db, "statement");
			goto rollback;
		}
	}
	rc = sqlite3_step(b->q[Q_COMMIT]);
	sqlite3_reset(b->q[Q_COMMIT]);
	if (rc == SQLITE_DONE)
		return DB_BATCH_DONE;
	set_err(err, errlen, b->db, "commit");
rollback:
	/* After a failed COMMIT the transaction may still be open. */
	if (!sqlite3_get_autocommit(b->db)) {
		sqlite3_step(b->q[Q_ROLLBACK]);
		sqlite3_reset(b->q[Q_ROLLBACK]);
	}
	return is_busy(rc) ? DB_BATCH_BUSY : DB_BATCH_FAILED;
}

const struct db_backend_ops db_backend_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.reconnect = sq_reconnect,
	.run = sq_run,
};
