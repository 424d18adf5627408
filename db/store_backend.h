/*
 * Inside the store: the job the loop hands to the worker, and the ops
 * table each backend (store_sqlite.c, store_mariadb.c) fills in. store.c
 * owns the queue, the worker thread, reconnect backoff and the callbacks;
 * a backend only knows how to connect and how to run a batch of jobs in
 * one transaction. Backend functions run on the worker thread only (open
 * runs on the opening thread before the worker starts).
 */
#ifndef DB_STORE_BACKEND_H
#define DB_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum db_job_kind {
	DB_JOB_PUT,
	DB_JOB_FIND_SMSC,
	DB_JOB_FIND_GW,
	DB_JOB_CLOSE,
	DB_JOB_PURGE,
	DB_JOB_PUSH,
	DB_JOB_FETCH,
	DB_JOB_DELETE,
	DB_JOB_COUNT,
	DB_JOB_PING,
	DB_JOB_PURGE_OPEN,
	DB_JOB_KV_WRITE,
	DB_JOB_KV_GET,
	DB_JOB_KV_LIST,
	DB_JOB_KV_COUNT,
	DB_JOB_KV_EXPIRED,
};

/* A list or expired answer stops early (at least one row) once its data
 * passes this many bytes; the caller pages on until n is 0. */
#define DB_KV_ANSWER_BYTES	(64u * 1024 * 1024)

struct db_job {
	struct db_job *next;
	enum db_job_kind kind;
	enum db_status status;		/* set by the backend */
	union {
		db_done_cb done;
		db_idmap_cb idmap;
		db_pending_cb pending;
		db_kv_rows_cb kv_rows;
	} cb;
	void *ctx;

	/* Input (what each kind reads is listed in store.c). */
	struct db_idmap map;		/* put; find_gw/close use gateway_id;
					   find_smsc uses link */
	struct db_smsc_key key;		/* put, find_smsc */
	char account[DB_NAME_MAX + 1];	/* push, fetch, count ("" = all) */
	int64_t arg;			/* close state, purge before, push
					   created_at, fetch after_id, delete id */
	int64_t arg2;			/* close done_at */
	unsigned max;			/* purge, fetch */
	int kind_arg;			/* push kind */
	uint8_t *blob;			/* push: owned copy of the PDU;
					   kv_write: kv_ops, their strings
					   and data in one block */
	size_t blob_len;
	/* kv: get/list/count/expired. arg: list after_sort, count sort_min,
	 * expired before; max: list, expired. */
	enum db_kv_table kv_table;
	int kv_which;			/* list, count: 1 or 2 */
	char kv_key[DB_KV_KEY_MAX + 1];	/* get key; list/count idx value */
	char kv_after[DB_KV_KEY_MAX + 1];	/* list after_key */
	struct db_kv_op *kv_ops;	/* kv_write: in blob; strings never
					   NULL, data never NULL */
	size_t kv_n;

	/* Output (reset by db_job_reset_output before each run). */
	int64_t value;			/* done callbacks */
	struct db_idmap row;		/* finds */
	struct db_pending *rows;	/* fetch: owned array, and one */
	uint8_t *rows_data;		/* owned buffer holding every pdu
					   (fetch) or kv data (kv reads) */
	size_t nrows;
	struct db_kv_row *kv_rows;	/* kv reads: owned array */
};

/* Collects kv rows of a read job: db_kv_rows_begin() starts a small
 * array that db_kv_row_add() grows up to j->max rows as it appends one (its data copied into
 * rows_data; NULL when out of memory; fill the other fields of the row
 * it returns), db_kv_rows_end() points each row at its data. */
struct db_kv_acc {
	size_t cap, used;		/* rows_data bytes */
	size_t rows_cap;		/* kv_rows and off entries */
	size_t *off;
};
int db_kv_rows_begin(struct db_job *j, struct db_kv_acc *a);
struct db_kv_row *db_kv_row_add(struct db_job *j, struct db_kv_acc *a,
    const void *data, size_t len);
void db_kv_rows_end(struct db_job *j, struct db_kv_acc *a);
/* 1 while another row fits the answer (max rows, DB_KV_ANSWER_BYTES). */
int db_kv_rows_room(const struct db_job *j, const struct db_kv_acc *a);

/* What a batch run tells the store. */
enum db_batch_result {
	DB_BATCH_DONE,		/* committed; each job's status is set */
	DB_BATCH_LOST,		/* connection lost before COMMIT was sent:
				   nothing committed, safe to run again */
	DB_BATCH_LOST_COMMIT,	/* lost during COMMIT: outcome unknown, so
				   never retried (jobs: EUNAVAIL) */
	DB_BATCH_BUSY,		/* locked or overloaded: nothing committed,
				   the connection is fine (jobs: EUNAVAIL) */
	DB_BATCH_FAILED,	/* the transaction failed: nothing committed */
};

struct db_dsn;
struct db_backend;

struct db_backend_ops {
	const char *name;
	/* Connects and migrates. 0, or -1 with a reason in err. */
	int (*open)(struct db_backend **be, const struct db_dsn *dsn,
	    const struct db_store_opts *opts, char *err, size_t errlen);
	void (*close)(struct db_backend *be);
	/* Worker thread start and end (Connector/C wants to know). */
	void (*thread_start)(void);
	void (*thread_end)(void);
	/* Drops the connection and makes a new one, statements re-prepared.
	 * 0, or -1 with a reason in err. */
	int (*reconnect)(struct db_backend *be, char *err, size_t errlen);
	/* Runs jobs[0..n) in one transaction and commits; on LOST and FAILED
	 * the reason goes to err. */
	enum db_batch_result (*run)(struct db_backend *be, struct db_job **jobs,
	    size_t n, char *err, size_t errlen);
	/* Optional: called after each batch's jobs went back to the loop,
	 * for upkeep nobody should wait on. */
	void (*after_batch)(struct db_backend *be);
	/* Optional: 1 if the last batch run() reported DB_BATCH_DONE was
	 * fsync'ed by the backend before it returned (a counter for
	 * /metrics). */
	int (*batch_synced)(struct db_backend *be);
};

/* SQLite's ?sync=: which commits are fsync'ed before their callbacks.
 * MESSAGES (the default): those with a job that holds a message the
 * gateway alone now has (a pending push, a key/value write); a commit of
 * id-map jobs only is not, and rides on the next one that is, or on the
 * checkpoints. FULL: every commit. NORMAL: none. */
enum db_sync {
	DB_SYNC_MESSAGES,
	DB_SYNC_FULL,
	DB_SYNC_NORMAL,
};

/* A parsed DSN. Strings are owned; the password is wiped when freed. */
struct db_dsn {
	int is_mariadb;
	char *path;		/* sqlite */
	enum db_sync sync;	/* sqlite: which commits are fsync'ed */
	char *user, *password, *host, *database, *socket;
	unsigned port;
};

extern const struct db_backend_ops db_backend_sqlite;
extern const struct db_backend_ops db_backend_mariadb;

/* 1 when no statement of the job changes a row (a batch of such jobs
 * needs no write transaction). */
int db_job_reads_only(const struct db_job *j);

/* Clears a job's output, so a batch can run again after a lost
 * connection. */
void db_job_reset_output(struct db_job *j);

#endif
