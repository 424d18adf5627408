/*
 * Storage: the one face of the database for the gateway and the secure
 * pipeline. The event loop never waits on the database: every verb below
 * copies its arguments into a job, queues it and returns at once; a worker
 * thread runs queued jobs in batches (one transaction, one commit per batch:
 * group commit) and each job's callback then runs ON THE LOOP THREAD with
 * the caller's ctx. Backends (SQLite, MariaDB) sit behind this header.
 * Jobs run in the order submitted, with one exception: on MariaDB the id-map
 * closes run on a second connection of their own (store.c says why that is
 * safe: a close only ever follows its put's commit).
 *
 * Return convention (one for the module): every function that returns
 * enum db_status returns DB_OK on success. A submit verb that returns
 * DB_OK has accepted the job and will call its callback exactly once,
 * later, from the loop (never from inside the submit call); any other
 * return means nothing was queued and no callback will run:
 *   DB_EBUSY   more than opts.queue_max jobs are in flight: answer the ESME
 *              with ESME_RTHROTTLED and retry later
 *   DB_EINVAL  an argument is too long or missing
 *   DB_ECLOSED db_store_close() has started
 *   DB_ENOMEM  out of memory
 * A callback's status is DB_OK, DB_NOTFOUND (a find or close that matched
 * nothing), DB_EUNAVAIL (transient: the database is unreachable or busy;
 * nothing of that job was written, the store reconnects by itself) or
 * DB_EFAIL (the database refused the job, e.g. a duplicate gateway id)
 * or, from db_kv_write only, DB_ECONFLICT (a guard failed; nothing of
 * that job was written; not counted in job_errors).
 * Only DB_OK means "committed": the gateway answers submit_sm_resp after it.
 *
 * Durability: a job's callback runs after its transaction committed,
 * written to the OS, so a crash or kill -9 loses nothing. On SQLite (WAL)
 * the DSN's ?sync= says which commits are also fsync'ed before their
 * callbacks, against a power cut or kernel crash (one fsync per batch,
 * not per message):
 *   messages (the default)  those that hold a message only the gateway
 *                           now has: a pending push, a key/value write.
 *                           Not those of id-map jobs alone (a power cut
 *                           may lose the last moments' mappings; their
 *                           receipts then come back unknown) nor deletes
 *                           (a queued message may then go out twice);
 *   full                    every commit;
 *   normal                  none.
 * Checkpoints (copying the WAL into the database file) do not add
 * to a commit: a thread of the SQLite backend runs them, and what the
 * worker itself must finish of them waits until its batch's callbacks
 * were posted. While traffic flows the worker takes what came every
 * 0.1 ms, and id-map closes wait (up to 10 ms) to ride with a batch
 * something waits on (store.c). On MariaDB durability is the server's
 * (innodb_flush_log_at_trx_commit).
 *
 * Threads: all verbs except db_store_stats() must be called on the loop
 * thread that owns the event_base given to db_store_open(). The store wakes
 * the loop through a socketpair, so the program does NOT need
 * evthread_use_pthreads() for the store's sake.
 */
#ifndef DB_STORE_H
#define DB_STORE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct db_store;

enum db_status {
	DB_OK = 0,
	DB_NOTFOUND,
	DB_EBUSY,
	DB_EUNAVAIL,
	DB_EINVAL,
	DB_ECLOSED,
	DB_ENOMEM,
	DB_EFAIL,
	DB_ECONFLICT,	/* db_kv_write: a compare-and-set guard failed */
};

/* "ok", "notfound", "busy", ... for logs and metrics; never NULL. */
const char *db_status_name(enum db_status st);

/* Field limits (bytes, without the NUL). Longer input: DB_EINVAL. */
#define DB_ID_MAX	64	/* gateway and SMSC message ids */
#define DB_NAME_MAX	32	/* link names, account (system_id) */
#define DB_ADDR_MAX	32	/* source and destination addresses */
#define DB_PDU_MAX	65536	/* a queued PDU */

struct db_store_opts {
	size_t queue_max;	/* jobs in flight before DB_EBUSY (10000) */
	size_t batch_max;	/* jobs per transaction (1000) */
	unsigned reconnect_min_ms;	/* first reconnect delay (100) */
	unsigned reconnect_max_ms;	/* backoff cap (5000) */
	unsigned timeout_s;	/* MariaDB connect/read/write timeout (5) */
};
void db_store_opts_default(struct db_store_opts *opts);

/*
 * Opens dsn, applies schema migrations and starts the worker. dsn:
 *   sqlite:PATH[?sync=messages|full|normal]   or a bare PATH
 *   mariadb://user:pass@host[:port]/db[?socket=/path]  (%XX escapes in
 *   user and pass; port 3306 by default)
 * opts may be NULL for the defaults. Blocks while it connects and
 * migrates (start-up only). Refuses a database whose schema is newer than
 * this code. Returns the store, or NULL with a reason in err (never the
 * password). The store keeps base; base must outlive it.
 */
struct db_store *db_store_open(struct event_base *base, const char *dsn,
    const struct db_store_opts *opts, char *err, size_t errlen);
/* Checks a SQLite dsn's form as db_store_open() would, touching nothing
 * (a config check). 0, or -1 with the reason in err. */
int db_sqlite_dsn_check(const char *dsn, char *err, size_t errlen);

/*
 * Refuses new jobs, lets the worker finish every accepted job (committed,
 * or DB_EUNAVAIL if the database is down), joins it, runs the remaining
 * callbacks on the calling (loop) thread before returning, and frees the
 * store. Must not be called from inside a store callback. NULL is a no-op.
 */
void db_store_close(struct db_store *store);

/* "sqlite" or "mariadb". */
const char *db_store_backend(const struct db_store *store);

/* The schema version this code writes. */
int db_schema_version(void);

/* --- id map: gateway message id <-> (link, SMSC message id) --- */

struct db_idmap {
	char gateway_id[DB_ID_MAX + 1];
	char link[DB_NAME_MAX + 1];
	char smsc_id[DB_ID_MAX + 1];	/* as the SMSC gave it */
	char account[DB_NAME_MAX + 1];
	char source_addr[DB_ADDR_MAX + 1];
	char dest_addr[DB_ADDR_MAX + 1];
	uint8_t registered_delivery;
	int state;		/* the caller's (SMPP message_state) */
	int64_t submitted_at;	/* Unix ms */
	int64_t done_at;	/* Unix ms; 0 while open */
};

/*
 * SMSC ids are matched tolerantly. The store keeps three forms of each:
 * the id case-folded, its value read as hex (when all hex digits and
 * <= 16 of them) and its value read as decimal (when all decimal digits
 * and < 2^64). A lookup of R tries, in order, the case-folded R, then R's
 * numeric values against the stored value of the same base, then against
 * the other base, so a receipt that carries the decimal of a hex id (or
 * upper case, or leading zeros) finds the message. First match wins; the
 * exact form always wins over a numeric coincidence.
 */
struct db_smsc_key {
	char folded[DB_ID_MAX + 1];
	int has_hex, has_dec;
	uint64_t hex, dec;
};
/* Fills key from id. DB_OK, or DB_EINVAL when id is empty or too long. */
enum db_status db_smsc_id_key(const char *id, struct db_smsc_key *key);

typedef void (*db_done_cb)(void *ctx, enum db_status st, int64_t value);
/* row is valid only during the call. */
typedef void (*db_idmap_cb)(void *ctx, enum db_status st,
    const struct db_idmap *row);

/* Inserts m (copied; done_at 0 means open). Callback value: 0.
 * A gateway_id already present: DB_EFAIL. */
enum db_status db_idmap_put(struct db_store *store, const struct db_idmap *m,
    db_done_cb cb, void *ctx);
/* The row of (link, smsc_id), tolerant as above; DB_NOTFOUND if none. */
enum db_status db_idmap_find_smsc(struct db_store *store, const char *link,
    const char *smsc_id, db_idmap_cb cb, void *ctx);
enum db_status db_idmap_find_gw(struct db_store *store, const char *gateway_id,
    db_idmap_cb cb, void *ctx);
/* Sets the final state and done_at (must be > 0) of an open row.
 * Callback: DB_OK (value 1), or DB_NOTFOUND if no open row has that id. */
enum db_status db_idmap_close(struct db_store *store, const char *gateway_id,
    int state, int64_t done_at, db_done_cb cb, void *ctx);
/* Deletes at most max closed rows with done_at < before.
 * Callback value: rows deleted (call again while it equals max). */
enum db_status db_idmap_purge(struct db_store *store, int64_t before,
    unsigned max, db_done_cb cb, void *ctx);

/* Deletes at most max OPEN rows (never answered by a final receipt) with
 * submitted_at < before: the SMSC will never send their receipt.
 * Callback value: rows deleted (call again while it equals max). */
enum db_status db_idmap_purge_open(struct db_store *store, int64_t before,
    unsigned max, db_done_cb cb, void *ctx);

/* --- pending deliveries to ESMEs (receipts and MOs) --- */

enum db_pending_kind { DB_PENDING_RECEIPT = 1, DB_PENDING_MO = 2 };

struct db_pending {
	int64_t id;		/* increasing per store: delivery order */
	enum db_pending_kind kind;
	int64_t created_at;
	const uint8_t *pdu;	/* valid only during the callback */
	size_t pdu_len;
};
typedef void (*db_pending_cb)(void *ctx, enum db_status st,
    const struct db_pending *rows, size_t n);

/* Queues pdu (copied, 1..DB_PDU_MAX bytes) for account. Callback value:
 * the new row's id. */
enum db_status db_pending_push(struct db_store *store, const char *account,
    enum db_pending_kind kind, const void *pdu, size_t pdu_len,
    int64_t created_at, db_done_cb cb, void *ctx);
/* Up to max (1..1000) rows of account with id > after_id, oldest first.
 * n == 0 with DB_OK: nothing more. */
enum db_status db_pending_fetch(struct db_store *store, const char *account,
    int64_t after_id, unsigned max, db_pending_cb cb, void *ctx);
/* Deletes row id (after the ESME's ROK). Callback value: 1, or
 * DB_NOTFOUND. */
enum db_status db_pending_delete(struct db_store *store, int64_t id,
    db_done_cb cb, void *ctx);
/* Callback value: rows queued for account (NULL: all accounts). */
enum db_status db_pending_count(struct db_store *store, const char *account,
    db_done_cb cb, void *ctx);

/* --- secure pipeline records: a small key/value store with indexes ---
 *
 * The secure pipeline (secure/) keeps its messages, per-device copies,
 * devices and registrations as opaque records (secure/records.h lays them
 * out) in one table, with the few columns it needs to find them: a key,
 * two secondary index values, a sort value (creation time), an expiry and
 * a version for compare-and-set. The store knows nothing of their meaning.
 */
enum db_kv_table {
	DB_KV_MSG = 1,		/* secure messages */
	DB_KV_COPY = 2,		/* a message sealed to one device */
	DB_KV_DEVICE = 3,	/* registered devices */
	DB_KV_REG = 4,		/* registrations (OTP flows) */
	DB_KV_PART = 5,		/* parts of a multipart secure message */
};
#define DB_KV_KEY_MAX	128	/* key, bytes */
#define DB_KV_IDX_MAX	96	/* idx1, idx2, bytes */
#define DB_KV_DATA_MAX	(512 * 1024)
#define DB_KV_OPS_MAX	256	/* ops in one db_kv_write */
#define DB_KV_LIST_MAX	1000	/* rows in one list/expired answer */

struct db_kv_row {
	enum db_kv_table table;
	char key[DB_KV_KEY_MAX + 1];
	char idx1[DB_KV_IDX_MAX + 1];	/* "" = none */
	char idx2[DB_KV_IDX_MAX + 1];	/* "" = none */
	int64_t sort;			/* list order (then key) */
	int64_t expires_at;		/* Unix ms; 0 = never */
	int64_t version;		/* 1 on insert, +1 per update */
	const uint8_t *data;		/* valid only during the callback */
	size_t len;
};

enum db_kv_op_kind {
	DB_KV_PUT,		/* insert or update the row (all columns) */
	DB_KV_DEL,		/* delete the row of key (absent: no error
				   unless expect > 0) */
	DB_KV_DEL_IDX2,		/* delete every row of table with
				   idx2 == idx2 (expect ignored; idx2
				   must not be "": DB_EINVAL) */
};

/*
 * One write. expect is a compare-and-set guard checked before the op:
 * -1 no check (PUT upserts); 0 the row must not exist (PUT inserts); n > 0
 * the row must exist with version n. A PUT stores version old + 1 (1 on
 * insert). Fields are copied at submit time; data may be NULL with len 0.
 * DEL with expect 0 fails its guard when the row exists. table: 1..255.
 * expires_at must be >= 0.
 */
struct db_kv_op {
	enum db_kv_op_kind op;
	enum db_kv_table table;
	const char *key;
	const char *idx1, *idx2;	/* NULL = "" */
	int64_t sort, expires_at;
	int64_t expect;
	const void *data;
	size_t len;
};

typedef void (*db_kv_rows_cb)(void *ctx, enum db_status st,
    const struct db_kv_row *rows, size_t n);

/*
 * Applies ops[0..n) (1..DB_KV_OPS_MAX) atomically: all or none. Callback
 * value: 0 on DB_OK; DB_ECONFLICT (value: the index of the first op
 * whose guard failed) when a guard failed, and then nothing was written.
 */
enum db_status db_kv_write(struct db_store *store, const struct db_kv_op *ops,
    size_t n, db_done_cb cb, void *ctx);
/* The row of key: one row, or DB_NOTFOUND (n 0). */
enum db_status db_kv_get(struct db_store *store, enum db_kv_table table,
    const char *key, db_kv_rows_cb cb, void *ctx);
/* Rows with idx<which> (1 or 2) == value, ordered by (sort, key), after
 * (after_sort, after_key) ("" key or NULL: from the start, whatever
 * after_sort is), at most max (1..DB_KV_LIST_MAX). n 0 with DB_OK:
 * nothing (more). An answer whose data passes 64 MiB stops early (at
 * least one row), so n < max does not mean the end: page on until n 0.
 * value may be "" (rows without that index). */
enum db_status db_kv_list(struct db_store *store, enum db_kv_table table,
    int which, const char *value, int64_t after_sort, const char *after_key,
    unsigned max, db_kv_rows_cb cb, void *ctx);
/* Callback value: rows with idx<which> == value and sort >= sort_min. */
enum db_status db_kv_count(struct db_store *store, enum db_kv_table table,
    int which, const char *value, int64_t sort_min, db_done_cb cb,
    void *ctx);
/* Rows with 0 < expires_at < before, ordered by (expires_at, key), at
 * most max (1..DB_KV_LIST_MAX; may stop early at 64 MiB of data, as
 * a list does). They are not deleted. */
enum db_status db_kv_expired(struct db_store *store, enum db_kv_table table,
    int64_t before, unsigned max, db_kv_rows_cb cb, void *ctx);

/* --- health and counters --- */

/* A round trip to the database. DB_OK or DB_EUNAVAIL; value 0. */
enum db_status db_store_ping(struct db_store *store, db_done_cb cb, void *ctx);

#define DB_BATCH_BUCKETS 8	/* batch sizes 1, 2-3, 4-15, 16-63, 64-255,
				   256-1023, 1024-4095, more */
struct db_store_stats {
	int connected;		/* 1 up, 0 reconnecting */
	uint64_t queued;	/* jobs waiting for the worker now */
	uint64_t in_flight;	/* accepted, callback not yet run */
	uint64_t jobs;		/* jobs finished (any status) */
	uint64_t job_errors;	/* ... with a status other than OK/NOTFOUND */
	uint64_t busy;		/* submits refused with DB_EBUSY */
	uint64_t batches;	/* transactions run */
	uint64_t batches_synced; /* ... of them fsync'ed (SQLite's ?sync=) */
	uint64_t batch_hist[DB_BATCH_BUCKETS];
	uint64_t batch_jobs;	/* jobs in those transactions */
	uint64_t batch_last, batch_max;
	uint64_t commit_us_last, commit_us_max, commit_us_sum; /* per batch */
	uint64_t disconnects, reconnects;
	uint64_t stalled_ms;	/* the transaction every put waits on has
				   run this long so far (0: none running) */
};
/* Copies the counters. Safe from any thread. */
void db_store_stats(struct db_store *store, struct db_store_stats *out);

#endif
