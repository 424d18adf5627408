/*
 * MariaDB backend (Connector/C 3.x): the production choice, and the one
 * that lets several gateways share state. The worker thread owns one
 * connection and uses the blocking API (it is a thread of its own; the
 * loop never waits on it). Auto-reconnect stays off: it silently loses
 * the open transaction and every prepared statement (field guide), so on
 * a lost connection store.c calls reconnect(), which opens a fresh
 * connection and prepares every statement again.
 *
 * Runs of consecutive id-map puts in a batch go to the server as one
 * array-bound execute (column-wise, strings as arrays of char pointers:
 * a contiguous char block crashes Connector/C). A savepoint before it
 * lets a run with a bad row (a duplicate gateway id) fall back to one
 * execute per row, so only that job fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <openssl/crypto.h>

#include "schema.h"
#include "store_backend.h"

enum {
	Q_PUT, Q_FIND_KEY, Q_FIND_HEX, Q_FIND_DEC, Q_FIND_GW,
	Q_CLOSE, Q_PURGE, Q_PUSH, Q_FETCH, Q_DELETE, Q_COUNT, Q_COUNT_ALL,
	Q_FIND_MANY, Q_PURGE_OPEN, Q_CLOSE_MANY,
	Q_KV_INSERT, Q_KV_UPSERT, Q_KV_UPDATE, Q_KV_DEL, Q_KV_DEL_VER,
	Q_KV_EXISTS, Q_KV_DEL_IDX2, Q_KV_GET, Q_KV_LIST1, Q_KV_LIST2,
	Q_KV_COUNT1, Q_KV_COUNT2, Q_KV_EXPIRED,
	Q_MAX
};

/* Statements without a result set. */
static int
is_write(int q)
{
	return q == Q_PUT || q == Q_CLOSE || q == Q_CLOSE_MANY ||
	    q == Q_PURGE || q == Q_PUSH ||
	    q == Q_DELETE || q == Q_PURGE_OPEN || q == Q_KV_INSERT ||
	    q == Q_KV_UPSERT || q == Q_KV_UPDATE || q == Q_KV_DEL ||
	    q == Q_KV_DEL_VER || q == Q_KV_DEL_IDX2;
}

/* Statements whose result is one count. */
static int
is_count(int q)
{
	return q == Q_COUNT || q == Q_COUNT_ALL || q == Q_KV_EXISTS ||
	    q == Q_KV_COUNT1 || q == Q_KV_COUNT2;
}

/* Statements that answer kv rows. */
static int
is_kv_rows(int q)
{
	return q == Q_KV_GET || q == Q_KV_LIST1 || q == Q_KV_LIST2 ||
	    q == Q_KV_EXPIRED;
}

#define MAP_COLS "gateway_id, link, smsc_id, account, source_addr," \
	" dest_addr, registered_delivery, state, submitted_at, done_at"
#define MAP_ORDER " ORDER BY done_at IS NULL DESC, submitted_at DESC LIMIT 1"

/* Receipts come in bursts: their finds go FIND_MANY keys per round trip
 * (a round trip costs ~150 us on this kind of VM, the query far less). */
#define FIND_MANY 64
#define P8 "?,?,?,?,?,?,?,?"
#define P64 P8 "," P8 "," P8 "," P8 "," P8 "," P8 "," P8 "," P8

/* Closes go CLOSE_MANY rows per UPDATE: an array-bound UPDATE runs as
 * one statement per row on the server, optimizer and all (~28 us of
 * server CPU a row in bench_gw, more than the put's insert); one UPDATE
 * of 64 rows by primary key saves about a third of that. */
#define CLOSE_MANY 64
#define W8 "WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ?" \
	" WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? "
#define W64 W8 W8 W8 W8 W8 W8 W8 W8

/* kv: parameters (tbl, key, idx1, idx2, sort, expires_at, data) for the
 * inserts; the update takes (idx1, idx2, sort, expires_at, data, tbl,
 * key, version). */
#define KV_INSERT "INSERT INTO kv (tbl, rkey, idx1, idx2, sort, expires_at," \
	" version, data) VALUES (?, ?, ?, ?, ?, ?, 1, ?)"
#define KV_COLS "rkey, idx1, idx2, sort, expires_at, version, data"
/* (tbl, idx, sort, after_sort, after_key, max); sort >= ? bounds the
 * index range, the OR takes the rows after the page's last (sort, key). */
#define KV_LIST(idx) "SELECT " KV_COLS " FROM kv WHERE tbl = ? AND " idx \
	" = ? AND sort >= ? AND (sort > ? OR rkey > ?) ORDER BY sort, rkey" \
	" LIMIT ?"

static const char *const sql[Q_MAX] = {
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
	/* FORCE INDEX: left alone, the optimizer picks a done_at index for
	 * "done_at IS NULL" and walks every open row (4k closes/s at 100k
	 * open rows, measured; the primary key gives 40x that). */
	[Q_CLOSE] = "UPDATE idmap FORCE INDEX (PRIMARY) SET state = ?,"
	    " done_at = ? WHERE gateway_id = ? AND done_at IS NULL",
	/* idmap_open (done_at, submitted_at): NULLs sort first, so the
	 * closed rows are its range after them. */
	[Q_PURGE] = "DELETE FROM idmap WHERE done_at IS NOT NULL AND"
	    " done_at < ? ORDER BY done_at LIMIT ?",
	[Q_PUSH] = "INSERT INTO pending (account, kind, pdu, created_at)"
	    " VALUES (?,?,?,?)",
	[Q_FETCH] = "SELECT id, kind, pdu, created_at FROM pending WHERE"
	    " account = ? AND id > ? ORDER BY id LIMIT ?",
	[Q_DELETE] = "DELETE FROM pending WHERE id = ?",
	[Q_COUNT] = "SELECT COUNT(*) FROM pending WHERE account = ?",
	[Q_COUNT_ALL] = "SELECT COUNT(*) FROM pending",
	[Q_FIND_MANY] = "SELECT " MAP_COLS ", smsc_key FROM idmap WHERE"
	    " link = ? AND smsc_key IN (" P64 ")",
	/* (id, state) pairs, (id, done_at) pairs, the ids */
	[Q_CLOSE_MANY] = "UPDATE idmap FORCE INDEX (PRIMARY) SET state ="
	    " CASE gateway_id " W64 "END, done_at = CASE gateway_id " W64
	    "END WHERE gateway_id IN (" P64 ") AND done_at IS NULL",
	/* idmap_open (done_at, submitted_at) serves both conditions; the
	 * order is the index's own (with ORDER BY submitted_at alone the
	 * server sorts every old open row to delete max of them). */
	[Q_PURGE_OPEN] = "DELETE FROM idmap WHERE done_at IS NULL AND"
	    " submitted_at < ? ORDER BY done_at, submitted_at LIMIT ?",
	[Q_KV_INSERT] = KV_INSERT,
	[Q_KV_UPSERT] = KV_INSERT " ON DUPLICATE KEY UPDATE"
	    " idx1 = VALUES(idx1), idx2 = VALUES(idx2), sort = VALUES(sort),"
	    " expires_at = VALUES(expires_at), data = VALUES(data),"
	    " version = version + 1",
	/* version always changes, so "rows changed" is "rows matched". */
	[Q_KV_UPDATE] = "UPDATE kv SET idx1 = ?, idx2 = ?, sort = ?,"
	    " expires_at = ?, data = ?, version = version + 1"
	    " WHERE tbl = ? AND rkey = ? AND version = ?",
	[Q_KV_DEL] = "DELETE FROM kv WHERE tbl = ? AND rkey = ?",
	[Q_KV_DEL_VER] = "DELETE FROM kv WHERE tbl = ? AND rkey = ? AND"
	    " version = ?",
	[Q_KV_EXISTS] = "SELECT COUNT(*) FROM kv WHERE tbl = ? AND rkey = ?",
	[Q_KV_DEL_IDX2] = "DELETE FROM kv WHERE tbl = ? AND idx2 = ?",
	[Q_KV_GET] = "SELECT " KV_COLS " FROM kv WHERE tbl = ? AND rkey = ?",
	[Q_KV_LIST1] = KV_LIST("idx1"),
	[Q_KV_LIST2] = KV_LIST("idx2"),
	[Q_KV_COUNT1] = "SELECT COUNT(*) FROM kv WHERE tbl = ? AND idx1 = ?"
	    " AND sort >= ?",
	[Q_KV_COUNT2] = "SELECT COUNT(*) FROM kv WHERE tbl = ? AND idx2 = ?"
	    " AND sort >= ?",
	[Q_KV_EXPIRED] = "SELECT " KV_COLS " FROM kv WHERE tbl = ? AND"
	    " expires_at > 0 AND expires_at < ? ORDER BY expires_at, rkey"
	    " LIMIT ?",
};

/* The put's 13 columns, column-wise, for array binding. */
enum { PS_GW, PS_LINK, PS_SMSC, PS_KEY, PS_ACCT, PS_SRC, PS_DST, PS_N };
enum { PI_HEX, PI_DEC, PI_RD, PI_STATE, PI_SUB, PI_DONE, PI_N };

struct db_backend {
	MYSQL *m;
	MYSQL_STMT *q[Q_MAX];
	char *host, *user, *password, *database, *socket;
	unsigned port, timeout_s;

	size_t cap;			/* rows in the put arrays */
	char **s[PS_N];
	unsigned long *slen[PS_N];
	long long *iv[PI_N];
	char *ind[PI_N];

	/* Result buffers of the id-map selects and of fetch. */
	char r_str[7][DB_ID_MAX + 1];
	unsigned long r_len[7];
	long long r_int[4];
	my_bool r_null[4];
	long long f_id, f_kind, f_created;
	unsigned char *f_pdu;		/* DB_PDU_MAX bytes */
	unsigned long f_len;
	long long c_count;

	/* Result buffers of the kv selects. */
	char k_key[DB_KV_KEY_MAX + 1];
	char k_idx1[DB_KV_IDX_MAX + 1], k_idx2[DB_KV_IDX_MAX + 1];
	unsigned long k_len[4];
	long long k_sort, k_exp, k_ver;
	unsigned char *k_data;		/* DB_KV_DATA_MAX bytes */
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void
lib_init(void)
{
	/* Not thread-safe inside Connector/C: once per process. */
	mysql_library_init(0, NULL, NULL);
}

/* A connection-level error: the handle is unusable, reconnect. */
static int
is_lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == CR_COMMANDS_OUT_OF_SYNC || e == CR_SERVER_LOST_EXTENDED ||
	    e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN ||
	    e == CR_UNKNOWN_ERROR;
}

/* The transaction is gone but the connection is fine: try again later. */
static int
is_busy(unsigned e)
{
	return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT ||
	    e == ER_CON_COUNT_ERROR || e == ER_TOO_MANY_USER_CONNECTIONS;
}

static void
set_err(char *err, size_t errlen, struct db_backend *b, const char *what)
{
	snprintf(err, errlen, "mariadb %s: %s (%u)", what, mysql_error(b->m),
	    mysql_errno(b->m));
}

static void
stmt_err(char *err, size_t errlen, MYSQL_STMT *st, const char *what)
{
	snprintf(err, errlen, "mariadb %s: %s (%u)", what,
	    mysql_stmt_error(st), mysql_stmt_errno(st));
}

static void
drop_conn(struct db_backend *b)
{
	for (int i = 0; i < Q_MAX; i++) {
		if (b->q[i] != NULL)
			mysql_stmt_close(b->q[i]);
		b->q[i] = NULL;
	}
	if (b->m != NULL)
		mysql_close(b->m);
	b->m = NULL;
}

static void bind_ll(MYSQL_BIND *p, long long *v);

static int
bind_results(struct db_backend *b, int q)
{
	MYSQL_BIND r[11];

	memset(r, 0, sizeof(r));
	if (q == Q_FETCH) {
		r[0].buffer_type = MYSQL_TYPE_LONGLONG;
		r[0].buffer = &b->f_id;
		r[1].buffer_type = MYSQL_TYPE_LONGLONG;
		r[1].buffer = &b->f_kind;
		r[2].buffer_type = MYSQL_TYPE_BLOB;
		r[2].buffer = b->f_pdu;
		r[2].buffer_length = DB_PDU_MAX;
		r[2].length = &b->f_len;
		r[3].buffer_type = MYSQL_TYPE_LONGLONG;
		r[3].buffer = &b->f_created;
	} else if (is_kv_rows(q)) {
		r[0].buffer_type = MYSQL_TYPE_STRING;
		r[0].buffer = b->k_key;
		r[0].buffer_length = sizeof(b->k_key);
		r[0].length = &b->k_len[0];
		r[1].buffer_type = MYSQL_TYPE_STRING;
		r[1].buffer = b->k_idx1;
		r[1].buffer_length = sizeof(b->k_idx1);
		r[1].length = &b->k_len[1];
		r[2].buffer_type = MYSQL_TYPE_STRING;
		r[2].buffer = b->k_idx2;
		r[2].buffer_length = sizeof(b->k_idx2);
		r[2].length = &b->k_len[2];
		bind_ll(&r[3], &b->k_sort);
		bind_ll(&r[4], &b->k_exp);
		bind_ll(&r[5], &b->k_ver);
		r[6].buffer_type = MYSQL_TYPE_BLOB;
		r[6].buffer = b->k_data;
		r[6].buffer_length = DB_KV_DATA_MAX;
		r[6].length = &b->k_len[3];
	} else if (is_count(q)) {
		r[0].buffer_type = MYSQL_TYPE_LONGLONG;
		r[0].buffer = &b->c_count;
	} else {
		for (int i = 0; i < 6; i++) {
			r[i].buffer_type = MYSQL_TYPE_STRING;
			r[i].buffer = b->r_str[i];
			r[i].buffer_length = sizeof(b->r_str[i]);
			r[i].length = &b->r_len[i];
		}
		for (int i = 0; i < 4; i++) {
			r[6 + i].buffer_type = MYSQL_TYPE_LONGLONG;
			r[6 + i].buffer = &b->r_int[i];
			r[6 + i].is_null = &b->r_null[i];
		}
		if (q == Q_FIND_MANY) {
			r[10].buffer_type = MYSQL_TYPE_STRING;
			r[10].buffer = b->r_str[6];
			r[10].buffer_length = sizeof(b->r_str[6]);
			r[10].length = &b->r_len[6];
		}
	}
	return mysql_stmt_bind_result(b->q[q], r) ? -1 : 0;
}

static int
connect_db(struct db_backend *b, char *err, size_t errlen)
{
	my_bool off = 0;
	unsigned t = b->timeout_s;

	drop_conn(b);
	if ((b->m = mysql_init(NULL)) == NULL) {
		snprintf(err, errlen, "mariadb: out of memory");
		return -1;
	}
	mysql_options(b->m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(b->m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(b->m, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(b->m, MYSQL_OPT_WRITE_TIMEOUT, &t);
	mysql_options(b->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(b->m, b->socket ? "localhost" : b->host,
	    b->user, b->password, b->database, b->socket ? 0 : b->port,
	    b->socket, 0) == NULL) {
		snprintf(err, errlen, "mariadb connect %s:%u/%s: %s (%u)",
		    b->socket ? b->socket : b->host, b->port, b->database,
		    mysql_error(b->m), mysql_errno(b->m));
		drop_conn(b);
		return -1;
	}
	/* READ COMMITTED: no gap locks, so gateways sharing the tables do
	 * not deadlock on each other's purges and deletes. */
	if (mysql_query(b->m, "SET SESSION TRANSACTION ISOLATION LEVEL"
	    " READ COMMITTED") != 0) {
		set_err(err, errlen, b, "session");
		drop_conn(b);
		return -1;
	}
	return 0;
}

static int
prepare_all(struct db_backend *b, char *err, size_t errlen)
{
	for (int i = 0; i < Q_MAX; i++) {
		if ((b->q[i] = mysql_stmt_init(b->m)) == NULL) {
			set_err(err, errlen, b, "stmt_init");
			return -1;
		}
		if (mysql_stmt_prepare(b->q[i], sql[i], strlen(sql[i])) != 0) {
			stmt_err(err, errlen, b->q[i], "prepare");
			return -1;
		}
		if (!is_write(i) && bind_results(b, i) != 0) {
			stmt_err(err, errlen, b->q[i], "bind_result");
			return -1;
		}
	}
	return 0;
}

static int
io_exec(void *arg, const char *s, char *err, size_t errlen)
{
	struct db_backend *b = arg;

	if (mysql_query(b->m, s) != 0) {
		set_err(err, errlen, b, "migration");
		return -1;
	}
	return 0;
}

/* The first column of the first row of s as an int; 0 if no row. */
static int
query_int(struct db_backend *b, const char *s, long long *v, char *err,
    size_t errlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	*v = 0;
	if (mysql_query(b->m, s) != 0 || (res = mysql_store_result(b->m)) ==
	    NULL) {
		set_err(err, errlen, b, "query");
		return -1;
	}
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
		*v = strtoll(row[0], NULL, 10);
	mysql_free_result(res);
	return 0;
}

static int
io_version(void *arg, int *v, char *err, size_t errlen)
{
	long long x;

	if (query_int(arg, "SELECT COALESCE(MAX(version), 0) FROM"
	    " schema_version", &x, err, errlen) != 0)
		return -1;
	*v = (int)x;
	return 0;
}

static void
my_close(struct db_backend *b)
{
	if (b == NULL)
		return;
	drop_conn(b);
	if (b->password != NULL) {
		OPENSSL_cleanse(b->password, strlen(b->password));
		free(b->password);
	}
	free(b->host);
	free(b->user);
	free(b->database);
	free(b->socket);
	for (int i = 0; i < PS_N; i++) {
		free(b->s[i]);
		free(b->slen[i]);
	}
	for (int i = 0; i < PI_N; i++) {
		free(b->iv[i]);
		free(b->ind[i]);
	}
	free(b->f_pdu);
	free(b->k_data);
	free(b);
}

static char *
dup_or_null(const char *s, int *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

/* Applies the schema migrations under the server-wide lock
 * sealgate_schema, so instances starting (or reconnecting) together do
 * not both migrate. 0, or -1 with a reason in err. */
static int
migrate_locked(struct db_backend *b, char *err, size_t errlen)
{
	static const struct db_schema_io io = { io_exec, io_version };
	long long locked;
	int r;

	if (query_int(b, "SELECT GET_LOCK('sealgate_schema', 30)", &locked,
	    err, errlen) != 0)
		return -1;
	if (locked != 1) {
		snprintf(err, errlen, "mariadb: another process holds the"
		    " schema lock");
		return -1;
	}
	r = db_schema_migrate(&io, b, 1, err, errlen);
	if (query_int(b, "SELECT RELEASE_LOCK('sealgate_schema')", &locked,
	    err, errlen) != 0 || r != 0)
		return -1;
	return 0;
}

static int
my_open(struct db_backend **out, const struct db_dsn *d,
    const struct db_store_opts *opts, char *err, size_t errlen)
{
	struct db_backend *b;
	int bad = 0;

	pthread_once(&lib_once, lib_init);
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	b->host = dup_or_null(d->host, &bad);
	b->user = dup_or_null(d->user, &bad);
	b->password = dup_or_null(d->password, &bad);
	b->database = dup_or_null(d->database, &bad);
	b->socket = dup_or_null(d->socket, &bad);
	b->port = d->port;
	b->timeout_s = opts->timeout_s;
	b->cap = opts->batch_max;
	for (int i = 0; i < PS_N; i++) {
		b->s[i] = calloc(b->cap, sizeof(*b->s[i]));
		b->slen[i] = calloc(b->cap, sizeof(*b->slen[i]));
		bad |= b->s[i] == NULL || b->slen[i] == NULL;
	}
	for (int i = 0; i < PI_N; i++) {
		b->iv[i] = calloc(b->cap, sizeof(*b->iv[i]));
		b->ind[i] = calloc(b->cap, sizeof(*b->ind[i]));
		bad |= b->iv[i] == NULL || b->ind[i] == NULL;
	}
	b->f_pdu = malloc(DB_PDU_MAX);
	b->k_data = malloc(DB_KV_DATA_MAX);
	if (bad || b->f_pdu == NULL || b->k_data == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (connect_db(b, err, errlen) != 0 || migrate_locked(b, err,
	    errlen) != 0 || prepare_all(b, err, errlen) != 0)
		goto fail;
	*out = b;
	return 0;
fail:
	my_close(b);
	return -1;
}

static int
my_reconnect(struct db_backend *b, char *err, size_t errlen)
{
	if (connect_db(b, err, errlen) != 0)
		return -1;
	/* The server may be a new one (recreated, restored without our
	 * tables): migrate again, as at start; on a current schema this is
	 * a lock, a read and a commit. */
	if (migrate_locked(b, err, errlen) != 0 ||
	    prepare_all(b, err, errlen) != 0) {
		drop_conn(b);
		return -1;
	}
	return 0;
}

static void
my_thread_start(void)
{
	mysql_thread_init();
}

static void
my_thread_end(void)
{
	mysql_thread_end();
}

/* How a statement error affects the batch. */
enum verdict { V_JOB, V_LOST, V_BUSY };

static enum verdict
judge(unsigned e)
{
	if (is_lost(e))
		return V_LOST;
	if (is_busy(e))
		return V_BUSY;
	return V_JOB;		/* a duplicate key, say: this job only */
}

static void
bind_str(MYSQL_BIND *p, const char *s, unsigned long *len)
{
	*len = strlen(s);
	p->buffer_type = MYSQL_TYPE_STRING;
	p->buffer = (void *)(uintptr_t)s;
	p->buffer_length = *len;
	p->length = len;
}

static void
bind_ll(MYSQL_BIND *p, long long *v)
{
	p->buffer_type = MYSQL_TYPE_LONGLONG;
	p->buffer = v;
}

/* Fills row i of the put arrays from job j. */
static void
put_row(struct db_backend *b, size_t i, struct db_job *j)
{
	const struct db_idmap *m = &j->map;
	const char *str[PS_N] = {
		[PS_GW] = m->gateway_id, [PS_LINK] = m->link,
		[PS_SMSC] = m->smsc_id, [PS_KEY] = j->key.folded,
		[PS_ACCT] = m->account, [PS_SRC] = m->source_addr,
		[PS_DST] = m->dest_addr,
	};

	for (int c = 0; c < PS_N; c++) {
		b->s[c][i] = (char *)(uintptr_t)str[c];
		b->slen[c][i] = strlen(str[c]);
	}
	b->iv[PI_HEX][i] = (long long)j->key.hex;
	b->ind[PI_HEX][i] = j->key.has_hex ? STMT_INDICATOR_NONE :
	    STMT_INDICATOR_NULL;
	b->iv[PI_DEC][i] = (long long)j->key.dec;
	b->ind[PI_DEC][i] = j->key.has_dec ? STMT_INDICATOR_NONE :
	    STMT_INDICATOR_NULL;
	b->iv[PI_RD][i] = m->registered_delivery;
	b->iv[PI_STATE][i] = m->state;
	b->iv[PI_SUB][i] = m->submitted_at;
	b->iv[PI_DONE][i] = m->done_at;
	b->ind[PI_DONE][i] = m->done_at > 0 ? STMT_INDICATOR_NONE :
	    STMT_INDICATOR_NULL;
	b->ind[PI_RD][i] = b->ind[PI_STATE][i] = b->ind[PI_SUB][i] =
	    STMT_INDICATOR_NONE;
}

/* One array-bound execute of rows [first, first+n) of the put arrays.
 * 0, or the error number. */
static unsigned
put_exec(struct db_backend *b, size_t first, size_t n)
{
	static const int str_col[PS_N] = { 0, 1, 2, 3, 6, 7, 8 };
	static const int int_col[PI_N] = { 4, 5, 9, 10, 11, 12 };
	MYSQL_STMT *st = b->q[Q_PUT];
	MYSQL_BIND p[13];
	unsigned int size = (unsigned int)n;

	memset(p, 0, sizeof(p));
	for (int c = 0; c < PS_N; c++) {
		MYSQL_BIND *x = &p[str_col[c]];

		x->buffer_type = MYSQL_TYPE_STRING;
		x->buffer = b->s[c] + first;
		x->length = b->slen[c] + first;
	}
	for (int c = 0; c < PI_N; c++) {
		MYSQL_BIND *x = &p[int_col[c]];

		x->buffer_type = MYSQL_TYPE_LONGLONG;
		x->buffer = b->iv[c] + first;
		x->u.indicator = b->ind[c] + first;
	}
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	return 0;
}

/* Runs jobs[0..n), all puts. V_JOB when every job has its status. */
static enum verdict
run_puts(struct db_backend *b, struct db_job **jobs, size_t n, char *err,
    size_t errlen)
{
	unsigned e;

	for (size_t i = 0; i < n; i++)
		put_row(b, i, jobs[i]);
	if (n > 1 && mysql_query(b->m, "SAVEPOINT sg_put") != 0) {
		set_err(err, errlen, b, "savepoint");
		return judge(mysql_errno(b->m)) == V_LOST ? V_LOST : V_BUSY;
	}
	if ((e = put_exec(b, 0, n)) == 0) {
		for (size_t i = 0; i < n; i++)
			jobs[i]->status = DB_OK;
		return V_JOB;
	}
	stmt_err(err, errlen, b->q[Q_PUT], "put");
	if (judge(e) != V_JOB)
		return judge(e);
	if (n > 1) {
		/* A bad row: undo the run, then one row at a time. */
		if (mysql_query(b->m, "ROLLBACK TO SAVEPOINT sg_put") != 0) {
			set_err(err, errlen, b, "rollback to savepoint");
			return judge(mysql_errno(b->m)) == V_LOST ? V_LOST :
			    V_BUSY;
		}
		for (size_t i = 0; i < n; i++) {
			if ((e = put_exec(b, i, 1)) != 0 && judge(e) != V_JOB) {
				stmt_err(err, errlen, b->q[Q_PUT], "put");
				return judge(e);
			}
			jobs[i]->status = e == 0 ? DB_OK : DB_EFAIL;
		}
	} else {
		jobs[0]->status = DB_EFAIL;
	}
	return V_JOB;
}

static void
copy_str(char *dst, size_t cap, const char *src, unsigned long len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void read_row(struct db_backend *b, struct db_idmap *row);

/* Executes q (params in p), fetches at most one id-map row into row.
 * 1 found, 0 not, or -errno. */
static int
find_exec(struct db_backend *b, int q, MYSQL_BIND *p, struct db_idmap *row)
{
	MYSQL_STMT *st = b->q[q];
	int r, found = 0;
	unsigned int zero = 0;

	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_store_result(st) != 0)
		return -(int)mysql_stmt_errno(st);
	r = mysql_stmt_fetch(st);
	if (r == 0 || r == MYSQL_DATA_TRUNCATED) {
		read_row(b, row);
		found = 1;
	}
	mysql_stmt_free_result(st);
	if (r == 1)
		return -(int)mysql_stmt_errno(st);
	return found;
}

/* The id-map row in the result buffers. */
static void
read_row(struct db_backend *b, struct db_idmap *row)
{
	{
		memset(row, 0, sizeof(*row));
		copy_str(row->gateway_id, sizeof(row->gateway_id), b->r_str[0],
		    b->r_len[0]);
		copy_str(row->link, sizeof(row->link), b->r_str[1], b->r_len[1]);
		copy_str(row->smsc_id, sizeof(row->smsc_id), b->r_str[2],
		    b->r_len[2]);
		copy_str(row->account, sizeof(row->account), b->r_str[3],
		    b->r_len[3]);
		copy_str(row->source_addr, sizeof(row->source_addr),
		    b->r_str[4], b->r_len[4]);
		copy_str(row->dest_addr, sizeof(row->dest_addr), b->r_str[5],
		    b->r_len[5]);
		row->registered_delivery = (uint8_t)b->r_int[0];
		row->state = (int)b->r_int[1];
		row->submitted_at = b->r_int[2];
		row->done_at = b->r_null[3] ? 0 : b->r_int[3];
	}
}

static int
find_num(struct db_backend *b, int q, const char *link, uint64_t v,
    struct db_idmap *row)
{
	MYSQL_BIND p[2];
	unsigned long len;
	long long x = (long long)v;

	memset(p, 0, sizeof(p));
	bind_str(&p[0], link, &len);
	bind_ll(&p[1], &x);
	return find_exec(b, q, p, row);
}

/* The numeric readings of j's SMSC id, after the exact form missed:
 * same base first (leading zeros), then the other base. 1 found, 0 not,
 * or -errno. */
static int
find_numeric(struct db_backend *b, struct db_job *j)
{
	const struct db_smsc_key *k = &j->key;
	int r = 0;

	if (r == 0 && k->has_hex)
		r = find_num(b, Q_FIND_HEX, j->map.link, k->hex, &j->row);
	if (r == 0 && k->has_dec)
		r = find_num(b, Q_FIND_DEC, j->map.link, k->dec, &j->row);
	if (r == 0 && k->has_dec)
		r = find_num(b, Q_FIND_HEX, j->map.link, k->dec, &j->row);
	if (r == 0 && k->has_hex)
		r = find_num(b, Q_FIND_DEC, j->map.link, k->hex, &j->row);
	return r;
}

/* 1 if row is a better answer than cur: open beats closed, then newest. */
static int
better(const struct db_idmap *row, const struct db_idmap *cur)
{
	if ((row->done_at == 0) != (cur->done_at == 0))
		return row->done_at == 0;
	return row->submitted_at > cur->submitted_at;
}

/* Runs jobs[0..n), all finds by SMSC id: the exact forms of up to
 * FIND_MANY jobs of one link per query, then the numeric readings of
 * those that missed, one by one. 0, or the error number. */
static unsigned
run_finds(struct db_backend *b, struct db_job **jobs, size_t n)
{
	MYSQL_STMT *st = b->q[Q_FIND_MANY];
	unsigned int zero = 0;
	unsigned e = 0;

	for (size_t i = 0; i < n; i++)
		jobs[i]->value = 0;	/* 1: already in a query */
	for (size_t i = 0; i < n && e == 0; i++) {
		struct db_job *chunk[FIND_MANY];
		MYSQL_BIND p[1 + FIND_MANY];
		unsigned long len[1 + FIND_MANY];
		const char *link = jobs[i]->map.link;
		size_t k = 0;
		int r;

		if (jobs[i]->value)
			continue;
		for (size_t x = i; x < n && k < FIND_MANY; x++)
			if (!jobs[x]->value &&
			    strcmp(jobs[x]->map.link, link) == 0) {
				jobs[x]->value = 1;
				jobs[x]->status = DB_NOTFOUND;
				chunk[k++] = jobs[x];
			}
		memset(p, 0, sizeof(p));
		bind_str(&p[0], link, &len[0]);
		/* Unused slots repeat the last key. */
		for (size_t x = 0; x < FIND_MANY; x++)
			bind_str(&p[1 + x], chunk[x < k ? x : k - 1]->key.folded,
			    &len[1 + x]);
		if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
		    mysql_stmt_bind_param(st, p) != 0 ||
		    mysql_stmt_execute(st) != 0 ||
		    mysql_stmt_store_result(st) != 0) {
			e = mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
			    CR_UNKNOWN_ERROR;
			break;
		}
		while ((r = mysql_stmt_fetch(st)) == 0 ||
		    r == MYSQL_DATA_TRUNCATED) {
			struct db_idmap row;
			char key[DB_ID_MAX + 1];

			read_row(b, &row);
			copy_str(key, sizeof(key), b->r_str[6], b->r_len[6]);
			for (size_t x = 0; x < k; x++) {
				struct db_job *j = chunk[x];

				if (strcmp(j->key.folded, key) != 0 ||
				    (j->status == DB_OK && !better(&row,
				    &j->row)))
					continue;
				j->row = row;
				j->status = DB_OK;
			}
		}
		if (r == 1)
			e = mysql_stmt_errno(st);
		mysql_stmt_free_result(st);
		for (size_t x = 0; x < k && e == 0; x++) {
			if (chunk[x]->status == DB_OK)
				continue;
			if ((r = find_numeric(b, chunk[x])) < 0)
				e = (unsigned)-r;
			else
				chunk[x]->status = r ? DB_OK : DB_NOTFOUND;
		}
	}
	for (size_t i = 0; i < n; i++)
		jobs[i]->value = 0;
	return e;
}

/* Closes rows [first, first+n) of the arrays, n <= CLOSE_MANY, in one
 * UPDATE (unused slots repeat the last row); adds the rows changed to
 * *changed. 0, or the error number. */
static unsigned
close_many(struct db_backend *b, size_t first, size_t n,
    unsigned long long *changed)
{
	MYSQL_STMT *st = b->q[Q_CLOSE_MANY];
	MYSQL_BIND p[5 * CLOSE_MANY];
	unsigned int zero = 0;

	memset(p, 0, sizeof(p));
	for (size_t x = 0; x < CLOSE_MANY; x++) {
		size_t i = first + (x < n ? x : n - 1);
		MYSQL_BIND *id[3] = { &p[2 * x], &p[2 * CLOSE_MANY + 2 * x],
		    &p[4 * CLOSE_MANY + x] };

		for (int k = 0; k < 3; k++) {
			id[k]->buffer_type = MYSQL_TYPE_STRING;
			id[k]->buffer = b->s[PS_GW][i];
			id[k]->buffer_length = b->slen[PS_GW][i];
			id[k]->length = &b->slen[PS_GW][i];
		}
		p[2 * x + 1].buffer_type = MYSQL_TYPE_LONGLONG;
		p[2 * x + 1].buffer = &b->iv[PI_STATE][i];
		p[2 * CLOSE_MANY + 2 * x + 1].buffer_type = MYSQL_TYPE_LONGLONG;
		p[2 * CLOSE_MANY + 2 * x + 1].buffer = &b->iv[PI_DONE][i];
	}
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	*changed += mysql_stmt_affected_rows(st);
	return 0;
}

/* Closes rows [first, first+n) of the arrays: one row by the single
 * statement, more CLOSE_MANY at a time; the rows changed go to
 * *changed. 0, or the error number. */
static unsigned
close_exec(struct db_backend *b, size_t first, size_t n,
    unsigned long long *changed)
{
	MYSQL_STMT *st = b->q[Q_CLOSE];
	MYSQL_BIND p[3];
	unsigned int size = (unsigned int)n;

	if (n > 1) {
		unsigned e = 0;

		*changed = 0;
		for (size_t i = 0; i < n && e == 0; i += CLOSE_MANY)
			e = close_many(b, first + i, n - i < CLOSE_MANY ?
			    n - i : CLOSE_MANY, changed);
		return e;
	}

	memset(p, 0, sizeof(p));
	p[0].buffer_type = MYSQL_TYPE_LONGLONG;
	p[0].buffer = b->iv[PI_STATE] + first;
	p[0].u.indicator = b->ind[PI_STATE] + first;
	p[1].buffer_type = MYSQL_TYPE_LONGLONG;
	p[1].buffer = b->iv[PI_DONE] + first;
	p[1].u.indicator = b->ind[PI_DONE] + first;
	p[2].buffer_type = MYSQL_TYPE_STRING;
	p[2].buffer = b->s[PS_GW] + first;
	p[2].length = b->slen[PS_GW] + first;
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	*changed = mysql_stmt_affected_rows(st);
	return 0;
}

/* Runs jobs[0..n), all closes, as one array-bound UPDATE. When fewer
 * rows changed than jobs (a receipt for a closed or unknown message),
 * the run is undone to a savepoint and redone row by row, so each job
 * learns whether it was the one. 0, or the error number. */
static unsigned
run_closes(struct db_backend *b, struct db_job **jobs, size_t n)
{
	unsigned long long changed = 0;
	unsigned e;

	for (size_t i = 0; i < n; i++) {
		b->s[PS_GW][i] = jobs[i]->map.gateway_id;
		b->slen[PS_GW][i] = strlen(jobs[i]->map.gateway_id);
		b->iv[PI_STATE][i] = jobs[i]->arg;
		b->iv[PI_DONE][i] = jobs[i]->arg2;
		b->ind[PI_STATE][i] = b->ind[PI_DONE][i] = STMT_INDICATOR_NONE;
	}
	if (n > 1 && mysql_query(b->m, "SAVEPOINT sg_close") != 0)
		return mysql_errno(b->m);
	if ((e = close_exec(b, 0, n, &changed)) != 0)
		return e;
	if (changed != n) {
		if (n > 1 && mysql_query(b->m, "ROLLBACK TO SAVEPOINT sg_close")
		    != 0)
			return mysql_errno(b->m);
		for (size_t i = 0; i < n; i++) {
			if (n > 1 && (e = close_exec(b, i, 1, &changed)) != 0)
				return e;
			jobs[i]->value = (int64_t)changed;
			jobs[i]->status = changed ? DB_OK : DB_NOTFOUND;
		}
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i]->value = 1;
		jobs[i]->status = DB_OK;
	}
	return 0;
}

/* Executes a write statement with params p; 0 or the error number. */
static unsigned
write_exec(struct db_backend *b, int q, MYSQL_BIND *p)
{
	MYSQL_STMT *st = b->q[q];
	unsigned int zero = 0;

	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	return 0;
}

static unsigned
run_fetch(struct db_backend *b, struct db_job *j)
{
	MYSQL_STMT *st = b->q[Q_FETCH];
	MYSQL_BIND p[3];
	unsigned long alen;
	long long after = j->arg, max = j->max;
	size_t cap = 0, used = 0, n = 0, *off;
	unsigned int zero = 0;
	int r;

	memset(p, 0, sizeof(p));
	bind_str(&p[0], j->account, &alen);
	bind_ll(&p[1], &after);
	bind_ll(&p[2], &max);
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_store_result(st) != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	if ((j->rows = calloc(j->max, sizeof(*j->rows))) == NULL ||
	    (off = calloc(j->max, sizeof(*off))) == NULL) {
		mysql_stmt_free_result(st);
		j->status = DB_ENOMEM;
		return 0;
	}
	while (n < j->max && ((r = mysql_stmt_fetch(st)) == 0 ||
	    r == MYSQL_DATA_TRUNCATED)) {
		size_t len = b->f_len > DB_PDU_MAX ? DB_PDU_MAX : b->f_len;

		if (used + len > cap) {
			size_t ncap = (used + len) * 2 + 256;
			uint8_t *nd = realloc(j->rows_data, ncap);

			if (nd == NULL) {
				j->status = DB_ENOMEM;
				break;
			}
			j->rows_data = nd;
			cap = ncap;
		}
		memcpy(j->rows_data + used, b->f_pdu, len);
		j->rows[n].id = b->f_id;
		j->rows[n].kind = (enum db_pending_kind)b->f_kind;
		j->rows[n].created_at = b->f_created;
		j->rows[n].pdu_len = len;
		off[n++] = used;
		used += len;
	}
	mysql_stmt_free_result(st);
	for (size_t i = 0; i < n; i++)
		j->rows[i].pdu = j->rows_data + off[i];
	free(off);
	if (j->status != DB_ENOMEM) {
		j->nrows = n;
		j->status = DB_OK;
	}
	return 0;
}

/* ---- kv ---- */

/* The parameters of one kv op. */
struct kv_params {
	MYSQL_BIND p[8];
	unsigned long len[4];
	long long tbl, sort, exp, ver;
};

static void
kv_bind_blob(MYSQL_BIND *p, const void *data, unsigned long *len)
{
	p->buffer_type = MYSQL_TYPE_BLOB;
	p->buffer = (void *)(uintptr_t)data;
	p->buffer_length = *len;
	p->length = len;
}

/* Fills x for statement q from op o. */
static void
kv_params(struct kv_params *x, int q, const struct db_kv_op *o)
{
	MYSQL_BIND *p = x->p;

	memset(x, 0, sizeof(*x));
	x->tbl = o->table;
	x->sort = o->sort;
	x->exp = o->expires_at;
	x->ver = o->expect;
	x->len[3] = o->len;
	switch (q) {
	case Q_KV_INSERT:
	case Q_KV_UPSERT:
		bind_ll(&p[0], &x->tbl);
		bind_str(&p[1], o->key, &x->len[0]);
		bind_str(&p[2], o->idx1, &x->len[1]);
		bind_str(&p[3], o->idx2, &x->len[2]);
		bind_ll(&p[4], &x->sort);
		bind_ll(&p[5], &x->exp);
		kv_bind_blob(&p[6], o->data, &x->len[3]);
		break;
	case Q_KV_UPDATE:
		bind_str(&p[0], o->idx1, &x->len[1]);
		bind_str(&p[1], o->idx2, &x->len[2]);
		bind_ll(&p[2], &x->sort);
		bind_ll(&p[3], &x->exp);
		kv_bind_blob(&p[4], o->data, &x->len[3]);
		bind_ll(&p[5], &x->tbl);
		bind_str(&p[6], o->key, &x->len[0]);
		bind_ll(&p[7], &x->ver);
		break;
	case Q_KV_DEL_IDX2:
		bind_ll(&p[0], &x->tbl);
		bind_str(&p[1], o->idx2, &x->len[2]);
		break;
	default:		/* DEL, DEL_VER, EXISTS */
		bind_ll(&p[0], &x->tbl);
		bind_str(&p[1], o->key, &x->len[0]);
		bind_ll(&p[2], &x->ver);
		break;
	}
}

/* Executes a statement answering one count (params p) into *v. 0 or the
 * error number. */
static unsigned
count_exec(struct db_backend *b, int q, MYSQL_BIND *p, long long *v)
{
	MYSQL_STMT *st = b->q[q];
	unsigned int zero = 0;
	int r;

	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_store_result(st) != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	r = mysql_stmt_fetch(st);
	mysql_stmt_free_result(st);
	if (r != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	*v = b->c_count;
	return 0;
}

/* Applies one op: 0 (*conflict set when its guard failed), or the error
 * number. */
static unsigned
kv_op(struct db_backend *b, const struct db_kv_op *o, int *conflict)
{
	struct kv_params x;
	long long n;
	unsigned e;
	int q;

	*conflict = 0;
	switch (o->op) {
	case DB_KV_PUT:
		q = o->expect < 0 ? Q_KV_UPSERT : o->expect == 0 ?
		    Q_KV_INSERT : Q_KV_UPDATE;
		kv_params(&x, q, o);
		e = write_exec(b, q, x.p);
		if (e == ER_DUP_ENTRY && q == Q_KV_INSERT) {
			*conflict = 1;	/* only this statement undone */
			return 0;
		}
		if (e == 0 && q == Q_KV_UPDATE &&
		    mysql_stmt_affected_rows(b->q[q]) == 0)
			*conflict = 1;
		return e;
	case DB_KV_DEL:
		if (o->expect == 0) {
			kv_params(&x, Q_KV_EXISTS, o);
			if ((e = count_exec(b, Q_KV_EXISTS, x.p, &n)) != 0)
				return e;
			*conflict = n > 0;
			return 0;
		}
		q = o->expect > 0 ? Q_KV_DEL_VER : Q_KV_DEL;
		kv_params(&x, q, o);
		if ((e = write_exec(b, q, x.p)) != 0)
			return e;
		*conflict = o->expect > 0 &&
		    mysql_stmt_affected_rows(b->q[q]) == 0;
		return 0;
	case DB_KV_DEL_IDX2:
		kv_params(&x, Q_KV_DEL_IDX2, o);
		return write_exec(b, Q_KV_DEL_IDX2, x.p);
	}
	return CR_UNKNOWN_ERROR;
}

/* A job's ops all or none, under a savepoint when there are several.
 * 0 when the job has its status; else an error that ends the batch
 * (nothing of it committed). */
static unsigned
run_kv_write(struct db_backend *b, struct db_job *j)
{
	int sp = j->kv_n > 1, conflict;
	unsigned e;

	if (sp && mysql_query(b->m, "SAVEPOINT sg_kv") != 0)
		return mysql_errno(b->m) ? mysql_errno(b->m) :
		    CR_UNKNOWN_ERROR;
	for (size_t i = 0; i < j->kv_n; i++) {
		e = kv_op(b, &j->kv_ops[i], &conflict);
		if (e == 0 && !conflict)
			continue;
		if (e != 0 && judge(e) != V_JOB)
			return e;
		/* A failed guard, or an error of this job alone (which
		 * undid only its statement): undo the job's earlier ops. */
		if (sp && mysql_query(b->m, "ROLLBACK TO SAVEPOINT sg_kv") !=
		    0) {
			e = mysql_errno(b->m);
			/* Its writes would stay: end the batch instead. */
			return e != 0 && judge(e) != V_JOB ? e :
			    CR_UNKNOWN_ERROR;
		}
		j->status = e != 0 ? DB_EFAIL : DB_ECONFLICT;
		j->value = e != 0 ? 0 : (int64_t)i;
		return 0;
	}
	j->status = DB_OK;
	j->value = 0;
	return 0;
}

/* get, list, expired, count. 0 when the job has its status, else the
 * error number. */
static unsigned
run_kv_read(struct db_backend *b, struct db_job *j)
{
	MYSQL_BIND p[6];
	MYSQL_STMT *st;
	struct db_kv_acc a;
	unsigned long l0, l1;
	long long tbl = j->kv_table, arg = j->arg, max = j->max, n;
	unsigned int zero = 0;
	unsigned e = 0;
	int q, r = 0;

	memset(p, 0, sizeof(p));
	bind_ll(&p[0], &tbl);
	switch (j->kind) {
	case DB_JOB_KV_GET:
		q = Q_KV_GET;
		bind_str(&p[1], j->kv_key, &l0);
		break;
	case DB_JOB_KV_LIST:
		q = j->kv_which == 1 ? Q_KV_LIST1 : Q_KV_LIST2;
		bind_str(&p[1], j->kv_key, &l0);
		bind_ll(&p[2], &arg);
		bind_ll(&p[3], &arg);
		bind_str(&p[4], j->kv_after, &l1);
		bind_ll(&p[5], &max);
		break;
	case DB_JOB_KV_EXPIRED:
		q = Q_KV_EXPIRED;
		bind_ll(&p[1], &arg);
		bind_ll(&p[2], &max);
		break;
	default:		/* count */
		q = j->kv_which == 1 ? Q_KV_COUNT1 : Q_KV_COUNT2;
		bind_str(&p[1], j->kv_key, &l0);
		bind_ll(&p[2], &arg);
		if ((e = count_exec(b, q, p, &n)) != 0)
			return e;
		j->value = n;
		j->status = DB_OK;
		return 0;
	}
	/* Unbuffered: rows of up to 512 KiB come one at a time into our
	 * buffer, so the client never holds max of them at once besides the
	 * answer's own copy. */
	st = b->q[q];
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
	    mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0)
		return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	if (db_kv_rows_begin(j, &a) != 0)
		j->status = DB_ENOMEM;
	while (j->status != DB_ENOMEM && db_kv_rows_room(j, &a) &&
	    ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED)) {
		size_t len = b->k_len[3] > DB_KV_DATA_MAX ? DB_KV_DATA_MAX :
		    b->k_len[3];
		struct db_kv_row *row = db_kv_row_add(j, &a, b->k_data, len);

		if (row == NULL) {
			j->status = DB_ENOMEM;
			break;
		}
		row->table = j->kv_table;
		copy_str(row->key, sizeof(row->key), b->k_key, b->k_len[0]);
		copy_str(row->idx1, sizeof(row->idx1), b->k_idx1, b->k_len[1]);
		copy_str(row->idx2, sizeof(row->idx2), b->k_idx2, b->k_len[2]);
		row->sort = b->k_sort;
		row->expires_at = b->k_exp;
		row->version = b->k_ver;
	}
	/* Read what the answer left (it stopped at its byte bound, or out
	 * of memory), so the connection is ready for the next statement. */
	while (r == 0 || r == MYSQL_DATA_TRUNCATED)
		r = mysql_stmt_fetch(st);
	if (r == 1)
		e = mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
		    CR_UNKNOWN_ERROR;
	mysql_stmt_free_result(st);
	if (j->kv_rows != NULL)
		db_kv_rows_end(j, &a);
	if (e != 0)
		return e;
	if (j->status == DB_ENOMEM) {
		j->nrows = 0;
		return 0;
	}
	j->status = j->kind == DB_JOB_KV_GET && j->nrows == 0 ?
	    DB_NOTFOUND : DB_OK;
	return 0;
}

/* Runs one job other than a put. 0 when the job has its status, else
 * the error number that stopped it. */
static unsigned
run_job(struct db_backend *b, struct db_job *j)
{
	MYSQL_BIND p[4];
	unsigned long l0, l1;
	long long a, c;
	unsigned e;
	int r;

	memset(p, 0, sizeof(p));
	switch (j->kind) {
	case DB_JOB_FIND_SMSC: {
		const struct db_smsc_key *k = &j->key;

		bind_str(&p[0], j->map.link, &l0);
		bind_str(&p[1], k->folded, &l1);
		r = find_exec(b, Q_FIND_KEY, p, &j->row);
		if (r == 0)
			r = find_numeric(b, j);
		if (r < 0)
			return (unsigned)-r;
		j->status = r ? DB_OK : DB_NOTFOUND;
		return 0;
	}
	case DB_JOB_FIND_GW:
		bind_str(&p[0], j->map.gateway_id, &l0);
		if ((r = find_exec(b, Q_FIND_GW, p, &j->row)) < 0)
			return (unsigned)-r;
		j->status = r ? DB_OK : DB_NOTFOUND;
		return 0;
	case DB_JOB_CLOSE:
		a = j->arg;
		c = j->arg2;
		bind_ll(&p[0], &a);
		bind_ll(&p[1], &c);
		bind_str(&p[2], j->map.gateway_id, &l0);
		if ((e = write_exec(b, Q_CLOSE, p)) != 0)
			return e;
		j->value = (int64_t)mysql_stmt_affected_rows(b->q[Q_CLOSE]);
		j->status = j->value > 0 ? DB_OK : DB_NOTFOUND;
		return 0;
	case DB_JOB_PURGE:
		a = j->arg;
		c = j->max;
		bind_ll(&p[0], &a);
		bind_ll(&p[1], &c);
		if ((e = write_exec(b, Q_PURGE, p)) != 0)
			return e;
		j->value = (int64_t)mysql_stmt_affected_rows(b->q[Q_PURGE]);
		j->status = DB_OK;
		return 0;
	case DB_JOB_PUSH:
		a = j->kind_arg;
		c = j->arg;
		bind_str(&p[0], j->account, &l0);
		bind_ll(&p[1], &a);
		p[2].buffer_type = MYSQL_TYPE_BLOB;
		p[2].buffer = j->blob;
		p[2].buffer_length = j->blob_len;
		l1 = j->blob_len;
		p[2].length = &l1;
		bind_ll(&p[3], &c);
		if ((e = write_exec(b, Q_PUSH, p)) != 0)
			return e;
		j->value = (int64_t)mysql_stmt_insert_id(b->q[Q_PUSH]);
		j->status = DB_OK;
		return 0;
	case DB_JOB_FETCH:
		return run_fetch(b, j);
	case DB_JOB_DELETE:
		a = j->arg;
		bind_ll(&p[0], &a);
		if ((e = write_exec(b, Q_DELETE, p)) != 0)
			return e;
		j->value = (int64_t)mysql_stmt_affected_rows(b->q[Q_DELETE]);
		j->status = j->value > 0 ? DB_OK : DB_NOTFOUND;
		return 0;
	case DB_JOB_COUNT: {
		int q = j->account[0] ? Q_COUNT : Q_COUNT_ALL;
		MYSQL_STMT *st = b->q[q];
		unsigned int zero = 0;

		if (j->account[0])
			bind_str(&p[0], j->account, &l0);
		if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero) != 0 ||
		    (j->account[0] && mysql_stmt_bind_param(st, p) != 0) ||
		    mysql_stmt_execute(st) != 0 ||
		    mysql_stmt_store_result(st) != 0)
			return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
			    CR_UNKNOWN_ERROR;
		r = mysql_stmt_fetch(st);
		mysql_stmt_free_result(st);
		if (r != 0)
			return mysql_stmt_errno(st) ? mysql_stmt_errno(st) :
			    CR_UNKNOWN_ERROR;
		j->value = b->c_count;
		j->status = DB_OK;
		return 0;
	}
	case DB_JOB_PING:
		if (mysql_ping(b->m) != 0)
			return mysql_errno(b->m) ? mysql_errno(b->m) :
			    CR_SERVER_LOST;
		j->status = DB_OK;
		return 0;
	case DB_JOB_PUT:
		break;
	case DB_JOB_PURGE_OPEN:
		a = j->arg;
		c = j->max;
		bind_ll(&p[0], &a);
		bind_ll(&p[1], &c);
		if ((e = write_exec(b, Q_PURGE_OPEN, p)) != 0)
			return e;
		j->value = (int64_t)mysql_stmt_affected_rows(
		    b->q[Q_PURGE_OPEN]);
		j->status = DB_OK;
		return 0;
	case DB_JOB_KV_WRITE:
		return run_kv_write(b, j);
	case DB_JOB_KV_GET:
	case DB_JOB_KV_LIST:
	case DB_JOB_KV_COUNT:
	case DB_JOB_KV_EXPIRED:
		return run_kv_read(b, j);
	}
	return 0;
}

static enum db_batch_result
verdict_result(enum verdict v)
{
	return v == V_LOST ? DB_BATCH_LOST : DB_BATCH_BUSY;
}

/* A batch of reads only runs without START TRANSACTION/COMMIT (two
 * server round trips saved): under autocommit each SELECT is its own
 * READ COMMITTED snapshot, which is what it saw inside the transaction
 * too (READ COMMITTED takes a new snapshot per statement). */
static enum db_batch_result
run_reads(struct db_backend *b, struct db_job **jobs, size_t n, char *err,
    size_t errlen)
{
	enum verdict v;
	unsigned e;

	for (size_t i = 0; i < n; i++) {
		jobs[i]->status = DB_EFAIL;
		if ((e = run_job(b, jobs[i])) == 0)
			continue;
		jobs[i]->status = DB_EFAIL;
		if ((v = judge(e)) != V_JOB) {
			snprintf(err, errlen, "mariadb statement: %s (%u)",
			    mysql_error(b->m), e);
			return verdict_result(v);
		}
	}
	return DB_BATCH_DONE;
}

static enum db_batch_result
my_run(struct db_backend *b, struct db_job **jobs, size_t n, char *err,
    size_t errlen)
{
	enum verdict v;
	unsigned e;
	size_t reads = 0;

	if (b->m == NULL) {
		snprintf(err, errlen, "mariadb: not connected");
		return DB_BATCH_LOST;
	}
	while (reads < n && db_job_reads_only(jobs[reads]))
		reads++;
	if (reads == n)
		return run_reads(b, jobs, n, err, errlen);
	if (mysql_query(b->m, "START TRANSACTION") != 0) {
		set_err(err, errlen, b, "begin");
		return verdict_result(judge(mysql_errno(b->m)));
	}
	for (size_t i = 0; i < n;) {
		size_t k = i;

		if (jobs[i]->kind == DB_JOB_PUT) {
			while (k < n && jobs[k]->kind == DB_JOB_PUT)
				k++;
			if ((v = run_puts(b, jobs + i, k - i, err, errlen)) !=
			    V_JOB)
				goto abort;
			i = k;
			continue;
		}
		if (jobs[i]->kind == DB_JOB_FIND_SMSC ||
		    jobs[i]->kind == DB_JOB_CLOSE) {
			enum db_job_kind kind = jobs[i]->kind;

			while (k < n && jobs[k]->kind == kind)
				k++;
			e = kind == DB_JOB_CLOSE ? run_closes(b, jobs + i, k - i) :
			    run_finds(b, jobs + i, k - i);
			if (e != 0 && (v = judge(e)) != V_JOB) {
				snprintf(err, errlen, "mariadb statement: %s"
				    " (%u)", mysql_error(b->m), e);
				goto abort;
			}
			if (e != 0) {
				/* Not knowing which one failed, all did. */
				for (size_t x = i; x < k; x++)
					jobs[x]->status = DB_EFAIL;
			}
			i = k;
			continue;
		}
		jobs[i]->status = DB_EFAIL;
		if ((e = run_job(b, jobs[i])) != 0) {
			if ((v = judge(e)) != V_JOB) {
				snprintf(err, errlen, "mariadb statement: %s"
				    " (%u)", mysql_error(b->m), e);
				goto abort;
			}
			jobs[i]->status = DB_EFAIL;
		}
		i++;
	}
	if (mysql_commit(b->m) != 0) {
		set_err(err, errlen, b, "commit");
		e = mysql_errno(b->m);
		if (is_lost(e))
			return DB_BATCH_LOST_COMMIT;
		mysql_rollback(b->m);
		return is_busy(e) ? DB_BATCH_BUSY : DB_BATCH_FAILED;
	}
	return DB_BATCH_DONE;
abort:
	if (v != V_LOST)
		mysql_rollback(b->m);
	return verdict_result(v);
}

const struct db_backend_ops db_backend_mariadb = {
	.name = "mariadb",
	.open = my_open,
	.close = my_close,
	.thread_start = my_thread_start,
	.thread_end = my_thread_end,
	.reconnect = my_reconnect,
	.run = my_run,
};
