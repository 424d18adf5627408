/*
 * SQLite backend: the zero-setup default. One connection, owned by the
 * worker thread (opened and migrated on the opening thread before the
 * worker starts), WAL journal, every statement prepared once at open.
 * A batch is BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front
 * so a second process on the same file makes us wait (busy_timeout) at
 * BEGIN, not fail half-way. A constraint error fails only its own job:
 * SQLite rolls back just that statement and the transaction goes on.
 *
 * Checkpoints (copying the WAL back into the database file, with its
 * fsyncs) stay off the worker's path: SQLite's automatic one would copy
 * 1000 pages inside a COMMIT, and every message of that batch would wait
 * for it. A checkpointer thread with a connection of its own copies them
 * instead, woken by the worker's WAL hook after a commit. The worker then
 * copies only the few pages committed during that pass, so that SQLite
 * can start the WAL file over instead of growing it; and if the WAL still
 * grows past CK_BOUND pages (the checkpointer cannot keep up, or another
 * process's reader holds it back), the worker checkpoints after each
 * commit, as SQLite would have.
 *
 * Both connections open the files through the "sealgate-walbuf" VFS
 * (sqlite_walbuf.c): a commit's WAL frames go out in one write instead
 * of two per page, which took about a fifth off the worker's CPU at
 * 10,000 msg/s.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "schema.h"
#include "sqlite_walbuf.h"
#include "store_backend.h"
#include "smpp/log.h"

/* WAL pages: the checkpointer is woken every CK_PAGES new pages. Each
 * pass ends in two fsyncs, and the worker's commits slow down while one
 * runs (sealgate's slowest submits cluster inside passes): small passes
 * keep each fsync, and so each stall, short. Measured at 10,000 msg/s on
 * a 2-core VM with sync=normal: passes every 1000 pages added ~1 ms to
 * sealgate's p99, every 128 pages about as much as no checkpoints at
 * all, for the same throughput flat out. With sync=full every commit
 * already waits for an fsync, and the checkpointer's own fsyncs only
 * compete with them (at 128 pages: p99 no better, flat out no faster,
 * maybe a few % slower): it keeps CK_PAGES_FULL. After a
 * pass over a WAL of CK_RESTART pages or more, the worker copies what the
 * pass left behind (when that is more than CK_FINISH_MAX pages, after one
 * more pass first) so that SQLite starts the WAL file over. That costs
 * the worker two fsyncs (3-6 ms measured), and every message behind it
 * waits: once per 16384 pages (the WAL file then peaks near 70 MiB) is
 * once a second or so at 10,000 msg/s. Past CK_BOUND (128 MiB of 4 KiB
 * pages) the worker checkpoints after every commit. */
#define CK_PAGES	128
#define CK_PAGES_FULL	1000
#define CK_RESTART	16384
#define CK_FINISH_MAX	250
#define CK_BOUND	32768

enum {
	Q_BEGIN, Q_BEGIN_READ, Q_COMMIT, Q_ROLLBACK,
	Q_PUT, Q_FIND_KEY, Q_FIND_HEX, Q_FIND_DEC, Q_FIND_GW,
	Q_CLOSE, Q_PURGE, Q_PUSH, Q_FETCH, Q_DELETE, Q_COUNT, Q_COUNT_ALL,
	Q_PING, Q_PURGE_OPEN,
	Q_SAVEPOINT, Q_RELEASE, Q_ROLLBACK_TO,
	Q_KV_INSERT, Q_KV_UPSERT, Q_KV_UPDATE, Q_KV_DEL, Q_KV_DEL_VER,
	Q_KV_EXISTS, Q_KV_DEL_IDX2, Q_KV_GET, Q_KV_LIST1, Q_KV_LIST2,
	Q_KV_COUNT1, Q_KV_COUNT2, Q_KV_EXPIRED,
	Q_MAX
};

#define MAP_COLS "gateway_id, link, smsc_id, account, source_addr," \
	" dest_addr, registered_delivery, state, submitted_at, done_at"
/* Among several rows of one id (an SMSC that reuses ids), the open and
 * newest one is the message a receipt is about. */
#define MAP_ORDER " ORDER BY done_at IS NULL DESC, submitted_at DESC LIMIT 1"

/* kv writes share their parameters: ?1 tbl, ?2 key, ?3 idx1, ?4 idx2,
 * ?5 sort, ?6 expires_at, ?7 data, ?8 the expected version. */
#define KV_INSERT "INSERT INTO kv (tbl, rkey, idx1, idx2, sort, expires_at," \
	" version, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)"
#define KV_COLS "rkey, idx1, idx2, sort, expires_at, version, data"
/* sort >= ?3 bounds the index range; the OR picks the rows after the
 * page's last (sort, key). */
#define KV_LIST(idx) "SELECT " KV_COLS " FROM kv WHERE tbl = ?1 AND " idx \
	" = ?2 AND sort >= ?3 AND (sort > ?3 OR rkey > ?4)" \
	" ORDER BY sort, rkey LIMIT ?5"

static const char *const sql[Q_MAX] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_BEGIN_READ] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_PUT] = "INSERT INTO idmap (gateway_id, link, smsc_id, smsc_key,"
	    " smsc_hex, smsc_dec, account, source_addr, dest_addr,"
	    " registered_delivery, state, submitted_at, done_at)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	/* idmap_key is partial (schema v4): the condition lets it serve. */
	[Q_FIND_KEY] = "SELECT " MAP_COLS " FROM idmap WHERE link = ? AND"
	    " smsc_key = ? AND smsc_hex IS NULL" MAP_ORDER,
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
	[Q_PURGE_OPEN] = "DELETE FROM idmap WHERE gateway_id IN (SELECT"
	    " gateway_id FROM idmap WHERE done_at IS NULL AND submitted_at < ?"
	    " ORDER BY submitted_at LIMIT ?)",
	[Q_SAVEPOINT] = "SAVEPOINT sg_kv",
	[Q_RELEASE] = "RELEASE sg_kv",
	[Q_ROLLBACK_TO] = "ROLLBACK TO sg_kv",
	[Q_KV_INSERT] = KV_INSERT,
	[Q_KV_UPSERT] = KV_INSERT " ON CONFLICT (tbl, rkey) DO UPDATE SET"
	    " idx1 = excluded.idx1, idx2 = excluded.idx2, sort = excluded.sort,"
	    " expires_at = excluded.expires_at, data = excluded.data,"
	    " version = version + 1",
	[Q_KV_UPDATE] = "UPDATE kv SET idx1 = ?3, idx2 = ?4, sort = ?5,"
	    " expires_at = ?6, data = ?7, version = version + 1"
	    " WHERE tbl = ?1 AND rkey = ?2 AND version = ?8",
	[Q_KV_DEL] = "DELETE FROM kv WHERE tbl = ?1 AND rkey = ?2",
	[Q_KV_DEL_VER] = "DELETE FROM kv WHERE tbl = ?1 AND rkey = ?2 AND"
	    " version = ?8",
	[Q_KV_EXISTS] = "SELECT 1 FROM kv WHERE tbl = ?1 AND rkey = ?2",
	[Q_KV_DEL_IDX2] = "DELETE FROM kv WHERE tbl = ?1 AND idx2 = ?4",
	[Q_KV_GET] = "SELECT " KV_COLS " FROM kv WHERE tbl = ?1 AND rkey = ?2",
	[Q_KV_LIST1] = KV_LIST("idx1"),
	[Q_KV_LIST2] = KV_LIST("idx2"),
	[Q_KV_COUNT1] = "SELECT COUNT(*) FROM kv WHERE tbl = ?1 AND idx1 = ?2"
	    " AND sort >= ?3",
	[Q_KV_COUNT2] = "SELECT COUNT(*) FROM kv WHERE tbl = ?1 AND idx2 = ?2"
	    " AND sort >= ?3",
	[Q_KV_EXPIRED] = "SELECT " KV_COLS " FROM kv WHERE tbl = ?1 AND"
	    " expires_at > 0 AND expires_at < ?2 ORDER BY expires_at, rkey"
	    " LIMIT ?3",
};

struct db_backend {
	sqlite3 *db;
	sqlite3_stmt *q[Q_MAX];
	enum db_sync sync;	/* the DSN's ?sync= */
	int sync_full_now;	/* the connection's synchronous is FULL */
	int synced;		/* the last batch was fsync'ed */

	/* Worker-only (the WAL hook runs on the worker, inside COMMIT). */
	int wal_pages;		/* WAL size after the last commit */
	unsigned wal_gen;	/* times the WAL was started over */
	int ck_pages;		/* CK_PAGES or CK_PAGES_FULL */
	int ck_mark;		/* wake the checkpointer at this size */
	int ck_chased;		/* asked for a second pass over this WAL */
	int ck_self;		/* past CK_BOUND: checkpoint after COMMIT */
	unsigned self_logged;	/* error kinds the worker has logged */

	/* The checkpointer: its connection and its log state are its own;
	 * the flags are under ck_mu, which is never held across a
	 * checkpoint (the worker only ever waits for a flag access). */
	sqlite3 *ck;
	pthread_t ck_thread;
	int ck_started;
	unsigned ck_logged;
	pthread_mutex_t ck_mu;
	pthread_cond_t ck_cv;
	int ck_want;		/* worker -> checkpointer: a pass, please */
	unsigned ck_want_gen;	/* ... over this WAL (wal_gen) */
	int ck_passed;		/* checkpointer -> worker: a pass over a WAL
				   of this many pages (0: none) ... */
	unsigned ck_passed_gen;	/* ... of this wal_gen */
	int ck_stop;
};

/* SQLite counts every allocation under a global mutex unless told not to
 * before it initialises; we never read those counters. Once per process:
 * sqlite3_config() is refused (SQLITE_MISUSE, ignored) once the library
 * is initialised, e.g. by another user in the same process. */
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;
static const char *sq_vfs;

static void
sq_global_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* NULL (none to wrap) leaves SQLite's default VFS. */
	sq_vfs = sqlite_walbuf_register();
}

static void
set_err(char *err, size_t errlen, sqlite3 *db, const char *what)
{
	snprintf(err, errlen, "sqlite %s: %s", what,
	    db ? sqlite3_errmsg(db) : "out of memory");
}

/* synchronous=FULL (full != 0) or NORMAL on db. An exec, not a prepared
 * statement: a PRAGMA takes effect when it is prepared, not stepped. */
static int
sq_synchronous(sqlite3 *db, int full)
{
	return sqlite3_exec(db, full ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
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

/* Logs a failed checkpoint once per kind of error (primary result code)
 * and per thread: a failing disk keeps failing, and one line says so.
 * BUSY is no error: another checkpoint (ours, or another process's) was
 * running. who: "checkpointer", "worker" or "close". */
static void
ck_fail(unsigned *logged, const char *who, sqlite3 *db, int rc)
{
	unsigned bit = 1u << ((rc & 0xff) % 32);
	const char *msg = sqlite3_errmsg(db);
	char esc[256];

	if ((rc & 0xff) == SQLITE_BUSY || (*logged & bit) != 0)
		return;
	*logged |= bit;
	smpp_log(SMPP_LOG_WARN, "-", "db", "checkpoint-failed", "backend=sqlite"
	    " by=%s rc=%d reason=%s", who, rc, smpp_log_escape(msg,
	    strlen(msg), esc, sizeof(esc)));
}

/* Runs one PASSIVE checkpoint on db: it copies what is committed and no
 * reader still needs, and waits for no one. Returns the WAL's size in
 * pages as the pass began, or 0 when it failed. */
static int
ck_run(sqlite3 *db, unsigned *logged, const char *who)
{
	int rc, wal = -1;

	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &wal, NULL);
	if (rc != SQLITE_OK) {
		ck_fail(logged, who, db, rc);
		return 0;
	}
	return wal;
}

/* The checkpointer thread: a checkpoint each time the worker asks.
 * SQLite starts the WAL over only when a write finds it wholly copied,
 * and under a steady load the worker commits during every pass: a pass
 * never catches up alone, and the WAL file would grow to CK_BOUND (each
 * commit then extends the file, which costs its fsync more). So each
 * pass is reported to the worker, which copies the rest: the few pages
 * committed during the pass, not the thousand SQLite would copy. */
static void *
ck_main(void *arg)
{
	struct db_backend *b = arg;
	unsigned gen;
	int wal;

	pthread_mutex_lock(&b->ck_mu);
	for (;;) {
		while (!b->ck_want && !b->ck_stop)
			pthread_cond_wait(&b->ck_cv, &b->ck_mu);
		if (b->ck_stop)
			break;
		b->ck_want = 0;
		gen = b->ck_want_gen;
		pthread_mutex_unlock(&b->ck_mu);
		wal = ck_run(b->ck, &b->ck_logged, "checkpointer");
		pthread_mutex_lock(&b->ck_mu);
		b->ck_passed = wal;
		b->ck_passed_gen = gen;
	}
	pthread_mutex_unlock(&b->ck_mu);
	return NULL;
}

/* Worker: asks the checkpointer for a pass over the current WAL. */
static void
ck_wake(struct db_backend *b)
{
	pthread_mutex_lock(&b->ck_mu);
	b->ck_want = 1;
	b->ck_want_gen = b->wal_gen;
	pthread_cond_signal(&b->ck_cv);
	pthread_mutex_unlock(&b->ck_mu);
}

/* SQLite calls this on the worker after each commit that wrote to the
 * WAL, inside COMMIT, with the WAL's size in pages. It only sets flags:
 * the checkpointer's mutex is never held across a checkpoint. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct db_backend *b = arg;

	(void)db;
	(void)name;
	/* Smaller than last time: the WAL was started over. What the
	 * checkpointer says of a pass over the old one no longer holds. */
	if (pages < b->wal_pages) {
		b->wal_gen++;
		b->ck_mark = b->ck_pages;
		b->ck_chased = 0;
	}
	b->wal_pages = pages;
	b->ck_self = pages >= CK_BOUND;
	if (pages >= b->ck_mark) {
		b->ck_mark = pages + b->ck_pages;
		ck_wake(b);
	}
	return SQLITE_OK;
}

/* Opens the checkpointer's connection and starts its thread. 0, or -1
 * with a reason in err. */
static int
ck_start(struct db_backend *b, const struct db_dsn *d, char *err,
    size_t errlen)
{
	/* NOMUTEX: only the checkpointer thread uses it once started. */
	if (sqlite3_open_v2(d->path, &b->ck, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, sq_vfs) != SQLITE_OK) {
		set_err(err, errlen, b->ck, "checkpointer open");
		return -1;
	}
	sqlite3_busy_timeout(b->ck, 5000);
	/* The checkpoint's fsyncs follow the connection's setting. A first
	 * read opens the WAL: until then a checkpoint on this connection
	 * would find no WAL and do nothing. */
	if (sq_synchronous(b->ck, d->sync == DB_SYNC_FULL) != SQLITE_OK ||
	    sqlite3_exec(b->ck, "SELECT COUNT(*) FROM sqlite_schema", NULL,
	    NULL, NULL) != SQLITE_OK) {
		set_err(err, errlen, b->ck, "checkpointer");
		return -1;
	}
	if (pthread_create(&b->ck_thread, NULL, ck_main, b) != 0) {
		snprintf(err, errlen, "cannot start the checkpointer thread");
		return -1;
	}
	b->ck_started = 1;
	return 0;
}

static void
sq_close(struct db_backend *b)
{
	int rc;

	if (b == NULL)
		return;
	if (b->ck_started) {
		pthread_mutex_lock(&b->ck_mu);
		b->ck_stop = 1;
		pthread_cond_signal(&b->ck_cv);
		pthread_mutex_unlock(&b->ck_mu);
		pthread_join(b->ck_thread, NULL);
	}
	sqlite3_close(b->ck);
	for (int i = 0; i < Q_MAX; i++)
		sqlite3_finalize(b->q[i]);
	/* Everything into the database file and the WAL emptied: a copy of
	 * the file alone is then whole, and the next start replays
	 * nothing. */
	if (b->ck_started && (rc = sqlite3_wal_checkpoint_v2(b->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL)) != SQLITE_OK)
		ck_fail(&b->self_logged, "close", b->db, rc);
	sqlite3_close(b->db);
	pthread_cond_destroy(&b->ck_cv);
	pthread_mutex_destroy(&b->ck_mu);
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
	pthread_once(&sq_once, sq_global_init);
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&b->ck_mu, NULL);
	pthread_cond_init(&b->ck_cv, NULL);
	b->sync = d->sync;
	b->sync_full_now = d->sync == DB_SYNC_FULL;
	b->ck_pages = b->sync_full_now ? CK_PAGES_FULL : CK_PAGES;
	b->ck_mark = b->ck_pages;
	/* NOMUTEX: one thread at a time uses the connection (the opener,
	 * then the worker; pthread_create orders the two). */
	if (sqlite3_open_v2(d->path, &b->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, sq_vfs) != SQLITE_OK) {
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
	if (sq_synchronous(b->db, b->sync_full_now) != SQLITE_OK) {
		set_err(err, errlen, b->db, "synchronous");
		goto fail;
	}
	/* Statement and savepoint journals in memory: a batch opens one per
	 * kv_write job, and on a temp file they cost ~10 writes a job. */
	if (sqlite3_exec(b->db, "PRAGMA temp_store=MEMORY", NULL, NULL,
	    NULL) != SQLITE_OK) {
		set_err(err, errlen, b->db, "temp_store");
		goto fail;
	}
	/* A page cache of up to 64 MiB (the default is 2 MiB) and reads
	 * through a mapping of up to 256 MiB of the file: a fetch of a
	 * message held for days then costs no read(2) once it was read
	 * (bench_secure: a 100 MB database, ~1 disk read a fetch with the
	 * defaults). Both are only memory limits; other processes still
	 * read the file as before (no exclusive locking). */
	if (sqlite3_exec(b->db, "PRAGMA cache_size=-65536", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, "PRAGMA mmap_size=268435456", NULL, NULL,
	    NULL) != SQLITE_OK) {
		set_err(err, errlen, b->db, "cache_size");
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
	/* From here on checkpoints are the checkpointer's (migrations, at
	 * start-up, still had SQLite's own). The hook replaces SQLite's
	 * autocheckpoint hook; the pragma says so for anyone who asks. */
	if (sqlite3_exec(b->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL,
	    NULL) != SQLITE_OK) {
		set_err(err, errlen, b->db, "wal_autocheckpoint");
		goto fail;
	}
	if (ck_start(b, d, err, errlen) != 0)
		goto fail;
	sqlite3_wal_hook(b->db, wal_hook, b);
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
	/* The exact id among those without a hex reading (idmap_key holds
	 * only them); an id with one is found by its value next, exactly
	 * or with other leading zeros or case. */
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

/* ---- kv ---- */

/* A failed guard, told apart from every sqlite result code. */
#define KV_CONFLICT (-1)

/* Steps a statement to its end. */
static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void
kv_bind(sqlite3_stmt *st, const struct db_kv_op *o)
{
	int n = sqlite3_bind_parameter_count(st);

	sqlite3_bind_int(st, 1, (int)o->table);
	if (n >= 2)
		sqlite3_bind_text(st, 2, o->key, -1, SQLITE_STATIC);
	if (n >= 4) {
		sqlite3_bind_text(st, 3, o->idx1, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, o->idx2, -1, SQLITE_STATIC);
	}
	if (n >= 7) {
		sqlite3_bind_int64(st, 5, o->sort);
		sqlite3_bind_int64(st, 6, o->expires_at);
		/* data is never NULL: len 0 binds an empty blob, not NULL. */
		sqlite3_bind_blob(st, 7, o->data, (int)o->len, SQLITE_STATIC);
	}
	if (n >= 8)
		sqlite3_bind_int64(st, 8, o->expect);
}

/* Applies one op. SQLITE_OK, KV_CONFLICT, or an sqlite error. */
static int
kv_op(struct db_backend *b, const struct db_kv_op *o)
{
	sqlite3_stmt *st;
	int rc;

	switch (o->op) {
	case DB_KV_PUT:
		st = b->q[o->expect < 0 ? Q_KV_UPSERT : o->expect == 0 ?
		    Q_KV_INSERT : Q_KV_UPDATE];
		kv_bind(st, o);
		rc = step_done(st);
		if (o->expect == 0 && (rc & 0xff) == SQLITE_CONSTRAINT)
			return KV_CONFLICT;	/* only this statement undone */
		if (rc == SQLITE_OK && o->expect > 0 &&
		    sqlite3_changes(b->db) == 0)
			return KV_CONFLICT;
		return rc;
	case DB_KV_DEL:
		if (o->expect == 0) {
			st = b->q[Q_KV_EXISTS];
			kv_bind(st, o);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			if (rc == SQLITE_ROW)
				return KV_CONFLICT;
			return rc == SQLITE_DONE ? SQLITE_OK : rc;
		}
		st = b->q[o->expect > 0 ? Q_KV_DEL_VER : Q_KV_DEL];
		kv_bind(st, o);
		rc = step_done(st);
		if (rc == SQLITE_OK && o->expect > 0 &&
		    sqlite3_changes(b->db) == 0)
			return KV_CONFLICT;
		return rc;
	case DB_KV_DEL_IDX2:
		st = b->q[Q_KV_DEL_IDX2];
		sqlite3_bind_int(st, 1, (int)o->table);
		sqlite3_bind_text(st, 4, o->idx2, -1, SQLITE_STATIC);
		return step_done(st);
	}
	return SQLITE_MISUSE;
}

/* A job's ops all or none: a savepoint around them when there are
 * several (one op that fails its guard wrote nothing). */
static int
run_kv_write(struct db_backend *b, struct db_job *j)
{
	int sp = j->kv_n > 1, rc;

	if (sp && (rc = step_done(b->q[Q_SAVEPOINT])) != SQLITE_OK)
		return rc;
	for (size_t i = 0; i < j->kv_n; i++) {
		rc = kv_op(b, &j->kv_ops[i]);
		if (rc == SQLITE_OK)
			continue;
		if (rc != KV_CONFLICT)
			return rc;	/* the batch rolls back */
		if (sp && ((rc = step_done(b->q[Q_ROLLBACK_TO])) != SQLITE_OK ||
		    (rc = step_done(b->q[Q_RELEASE])) != SQLITE_OK))
			return rc;
		j->status = DB_ECONFLICT;
		j->value = (int64_t)i;
		return SQLITE_OK;
	}
	if (sp && (rc = step_done(b->q[Q_RELEASE])) != SQLITE_OK)
		return rc;
	j->status = DB_OK;
	j->value = 0;
	return SQLITE_OK;
}

/* Steps a bound kv select into j's rows. */
static int
kv_read(struct db_job *j, sqlite3_stmt *st)
{
	struct db_kv_acc a;
	int rc = SQLITE_DONE;

	if (db_kv_rows_begin(j, &a) != 0) {
		sqlite3_reset(st);
		j->status = DB_ENOMEM;
		return SQLITE_OK;
	}
	while (db_kv_rows_room(j, &a) && (rc = sqlite3_step(st)) ==
	    SQLITE_ROW) {
		struct db_kv_row *r = db_kv_row_add(j, &a,
		    sqlite3_column_blob(st, 6),
		    (size_t)sqlite3_column_bytes(st, 6));

		if (r == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		r->table = j->kv_table;
		col_text(st, 0, r->key, sizeof(r->key));
		col_text(st, 1, r->idx1, sizeof(r->idx1));
		col_text(st, 2, r->idx2, sizeof(r->idx2));
		r->sort = sqlite3_column_int64(st, 3);
		r->expires_at = sqlite3_column_int64(st, 4);
		r->version = sqlite3_column_int64(st, 5);
	}
	if (!db_kv_rows_room(j, &a))
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	db_kv_rows_end(j, &a);
	if (rc == SQLITE_NOMEM) {
		j->nrows = 0;
		j->status = DB_ENOMEM;
		return SQLITE_OK;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return rc;
	j->status = j->kind == DB_JOB_KV_GET && j->nrows == 0 ?
	    DB_NOTFOUND : DB_OK;
	return SQLITE_OK;
}

static int
run_kv(struct db_backend *b, struct db_job *j)
{
	sqlite3_stmt *st;
	int rc;

	switch (j->kind) {
	case DB_JOB_KV_WRITE:
		return run_kv_write(b, j);
	case DB_JOB_KV_GET:
		st = b->q[Q_KV_GET];
		sqlite3_bind_int(st, 1, (int)j->kv_table);
		sqlite3_bind_text(st, 2, j->kv_key, -1, SQLITE_STATIC);
		return kv_read(j, st);
	case DB_JOB_KV_LIST:
		st = b->q[j->kv_which == 1 ? Q_KV_LIST1 : Q_KV_LIST2];
		sqlite3_bind_int(st, 1, (int)j->kv_table);
		sqlite3_bind_text(st, 2, j->kv_key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, j->arg);
		sqlite3_bind_text(st, 4, j->kv_after, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, (int)j->max);
		return kv_read(j, st);
	case DB_JOB_KV_EXPIRED:
		st = b->q[Q_KV_EXPIRED];
		sqlite3_bind_int(st, 1, (int)j->kv_table);
		sqlite3_bind_int64(st, 2, j->arg);
		sqlite3_bind_int(st, 3, (int)j->max);
		return kv_read(j, st);
	case DB_JOB_KV_COUNT:
		st = b->q[j->kv_which == 1 ? Q_KV_COUNT1 : Q_KV_COUNT2];
		sqlite3_bind_int(st, 1, (int)j->kv_table);
		sqlite3_bind_text(st, 2, j->kv_key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, j->arg);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			j->value = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return rc;
		j->status = DB_OK;
		return SQLITE_OK;
	default:
		return SQLITE_MISUSE;
	}
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
	case DB_JOB_PURGE_OPEN:
		st = b->q[Q_PURGE_OPEN];
		sqlite3_bind_int64(st, 1, j->arg);
		sqlite3_bind_int(st, 2, (int)j->max);
		if ((rc = step_write(b, st, j)) != SQLITE_OK)
			return rc;
		j->value = sqlite3_changes(b->db);
		return SQLITE_OK;
	case DB_JOB_KV_WRITE:
	case DB_JOB_KV_GET:
	case DB_JOB_KV_LIST:
	case DB_JOB_KV_COUNT:
	case DB_JOB_KV_EXPIRED:
		return run_kv(b, j);
	}
	return SQLITE_OK;
}

static int
is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* After a commit that left a large WAL: the worker's own checkpoint when
 * the checkpointer's last pass left little behind, or when it is behind
 * (CK_BOUND). It runs once the batch's callbacks were posted
 * (sq_after_batch), so only a batch queued meanwhile waits for it; the
 * checkpointer's pass keeps it short. */
static void
ck_after_commit(struct db_backend *b)
{
	unsigned gen;
	int passed;

	pthread_mutex_lock(&b->ck_mu);
	passed = b->ck_passed;
	gen = b->ck_passed_gen;
	b->ck_passed = 0;
	pthread_mutex_unlock(&b->ck_mu);
	if (passed < CK_RESTART || gen != b->wal_gen)
		passed = 0;
	if (passed > 0 && b->wal_pages - passed > CK_FINISH_MAX &&
	    !b->ck_chased) {
		/* Much was committed during the pass: another pass copies
		 * it, and likely leaves less behind. Only one: under a load
		 * of large batches each pass may leave as much. */
		ck_wake(b);
		b->ck_chased = 1;
		passed = 0;
	}
	if (passed > 0 || b->ck_self) {
		b->ck_self = 0;
		(void)ck_run(b->db, &b->self_logged, "worker");
	}
}

/*
 * ?sync=messages: a commit is fsync'ed when it holds a message that only
 * the gateway will have once the callbacks answer: a receipt or MO queued
 * for an ESME (the SMSC's deliver_sm_resp follows) or a secure-pipeline
 * record (the sender's submit_sm_resp follows). A commit of id-map jobs
 * only is not: a power cut may lose the last moments' mappings, whose
 * receipts then come back unknown, but no message. In WAL the fsync of
 * one commit covers every commit before it. synchronous is the
 * connection's, set between transactions (sq_synchronous); the
 * pass-through path never switches.
 */
static int
sync_for_batch(struct db_backend *b, struct db_job **jobs, size_t n)
{
	int want = 0;

	for (size_t i = 0; i < n && !want; i++)
		want = jobs[i]->kind == DB_JOB_PUSH ||
		    jobs[i]->kind == DB_JOB_KV_WRITE;
	if (want == b->sync_full_now)
		return SQLITE_OK;
	b->sync_full_now = want;
	return sq_synchronous(b->db, want);
}

static enum db_batch_result
sq_run(struct db_backend *b, struct db_job **jobs, size_t n, char *err,
    size_t errlen)
{
	int rc, q = Q_BEGIN_READ;

	b->synced = 0;
	if (b->sync == DB_SYNC_MESSAGES &&
	    (rc = sync_for_batch(b, jobs, n)) != SQLITE_OK) {
		/* Unknown now: the next batch sets it again. */
		b->sync_full_now = -1;
		set_err(err, errlen, b->db, "synchronous");
		return is_busy(rc) ? DB_BATCH_BUSY : DB_BATCH_FAILED;
	}

	/* A batch of reads only takes no write lock (a plain BEGIN: two
	 * lock calls fewer, and another process's writer is not held). */
	for (size_t i = 0; i < n && q == Q_BEGIN_READ; i++)
		if (!db_job_reads_only(jobs[i]))
			q = Q_BEGIN;
	rc = sqlite3_step(b->q[q]);
	sqlite3_reset(b->q[q]);
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
	if (rc == SQLITE_DONE) {
		/* A read-only batch writes nothing to sync. */
		b->synced = q == Q_BEGIN && b->sync_full_now == 1;
		return DB_BATCH_DONE;
	}
	set_err(err, errlen, b->db, "commit");
rollback:
	/* After a failed COMMIT the transaction may still be open. */
	if (!sqlite3_get_autocommit(b->db)) {
		sqlite3_step(b->q[Q_ROLLBACK]);
		sqlite3_reset(b->q[Q_ROLLBACK]);
	}
	return is_busy(rc) ? DB_BATCH_BUSY : DB_BATCH_FAILED;
}

static int
sq_batch_synced(struct db_backend *b)
{
	return b->synced;
}

/* After a batch's callbacks were posted: the worker's own checkpoint
 * work waits for nobody in that batch (it may take a few ms of fsync). */
static void
sq_after_batch(struct db_backend *b)
{
	if (b->wal_pages >= CK_RESTART || b->ck_self)
		ck_after_commit(b);
}

const struct db_backend_ops db_backend_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.reconnect = sq_reconnect,
	.run = sq_run,
	.after_batch = sq_after_batch,
	.batch_synced = sq_batch_synced,
};
