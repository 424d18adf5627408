/*
 * db/store.h's key/value verbs (the secure pipeline's records) and
 * db_idmap_purge_open, against both backends: every test runs on SQLite
 * (a temp file) and on MariaDB when SG_TEST_MARIADB_DSN is set (a
 * database sealgate_test_<pid> of its own, dropped at the end).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <event2/event.h>
#include <mysql.h>
#include <sqlite3.h>

#include "db/store.h"

struct backend {
	const char *name;
	int mariadb;
};

static const struct backend be_sqlite = { "sqlite", 0 };
static const struct backend be_mariadb = { "mariadb", 1 };

/* MariaDB server of the run, from SG_TEST_MARIADB_DSN. */
struct server {
	char user[64], pass[64], host[64];
	unsigned port;
	char db[64];		/* sealgate_test_<pid> */
};

struct tctx {
	int saved_stderr;	/* >= 0 while stderr is captured */
	const struct backend *be;
	struct server srv;
	char dir[128];
	char dsn[512];
	struct event_base *base;
	struct event *tick;
	struct db_store *st;
};

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
server_from_env(struct server *s)
{
	const char *dsn = getenv("SG_TEST_MARIADB_DSN");
	char db[64];

	memset(s, 0, sizeof(*s));
	if (dsn == NULL || *dsn == '\0')
		return -1;
	if (sscanf(dsn, "mariadb://%63[^:]:%63[^@]@%63[^:]:%u/%63s", s->user,
	    s->pass, s->host, &s->port, db) != 5)
		return -1;
	snprintf(s->db, sizeof(s->db), "sealgate_test_%ld", (long)getpid());
	return 0;
}

/* An admin connection to the server (no database selected). */
static MYSQL *
server_conn(const struct server *s)
{
	MYSQL *m = mysql_init(NULL);

	assert_non_null(m);
	if (mysql_real_connect(m, s->host, s->user, s->pass, NULL, s->port,
	    NULL, 0) == NULL) {
		fprintf(stderr, "mariadb connect: %s\n", mysql_error(m));
		fail();
	}
	return m;
}

static void
server_sql(const struct server *s, const char *sql)
{
	MYSQL *m = server_conn(s);

	if (mysql_query(m, sql) != 0) {
		fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
		fail();
	}
	mysql_close(m);
}

/* ---- raw access, to look behind the store's back ---- */

static void
raw_exec(struct tctx *t, const char *sql)
{
	if (t->be->mariadb) {
		MYSQL *m = server_conn(&t->srv);

		assert_int_equal(mysql_select_db(m, t->srv.db), 0);
		if (mysql_query(m, sql) != 0) {
			fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
			fail();
		}
		mysql_close(m);
	} else {
		char path[256];
		sqlite3 *db;

		snprintf(path, sizeof(path), "%s/store.db", t->dir);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 5000);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
}

static long long
raw_int(struct tctx *t, const char *sql)
{
	long long v = -1;

	if (t->be->mariadb) {
		MYSQL *m = server_conn(&t->srv);
		MYSQL_RES *res;
		MYSQL_ROW row;

		assert_int_equal(mysql_select_db(m, t->srv.db), 0);
		assert_int_equal(mysql_query(m, sql), 0);
		assert_non_null(res = mysql_store_result(m));
		if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
			v = strtoll(row[0], NULL, 10);
		mysql_free_result(res);
		mysql_close(m);
	} else {
		char path[256];
		sqlite3 *db;
		sqlite3_stmt *st;

		snprintf(path, sizeof(path), "%s/store.db", t->dir);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 5000);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
		    SQLITE_OK);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return v;
}

/* ---- stderr capture, to assert log lines ---- */

struct capture {
	struct tctx *t;
	int saved;
	char path[160];
};

static void
capture_start(struct capture *c, struct tctx *t)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "%s/stderr.log", t->dir);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	c->saved = dup(2);
	t->saved_stderr = c->saved;
	c->t = t;
	dup2(fd, 2);
	close(fd);
}

/* Restores stderr; returns the captured text (caller frees) and echoes
 * it, so a failing test still shows the log. */
static char *
capture_stop(struct capture *c)
{
	FILE *f;
	char *buf = calloc(1, 65536);
	size_t n;

	dup2(c->saved, 2);
	close(c->saved);
	c->t->saved_stderr = -1;
	assert_non_null(buf);
	assert_non_null(f = fopen(c->path, "r"));
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	fputs(buf, stderr);
	return buf;
}

static int
count_substr(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- setup ---- */

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static int
setup(void **state)
{
	const struct backend *be = *state;
	struct tctx *t = calloc(1, sizeof(*t));
	struct timeval tv = { 0, 50000 };

	assert_non_null(t);
	t->be = be;
	t->saved_stderr = -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/sg-dbtest-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	if (be->mariadb) {
		char sql[160];

		assert_int_equal(server_from_env(&t->srv), 0);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s",
		    t->srv.db);
		server_sql(&t->srv, sql);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", t->srv.db);
		server_sql(&t->srv, sql);
		snprintf(t->dsn, sizeof(t->dsn), "mariadb://%s:%s@%s:%u/%s",
		    t->srv.user, t->srv.pass, t->srv.host, t->srv.port,
		    t->srv.db);
	} else {
		snprintf(t->dsn, sizeof(t->dsn), "sqlite:%s/store.db", t->dir);
	}
	assert_non_null(t->base = event_base_new());
	/* EVLOOP_ONCE returns at least every 50 ms, so waits can time out. */
	t->tick = event_new(t->base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(t->tick, &tv);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tctx *t = *state;
	char cmd[200];

	if (t->saved_stderr >= 0) {
		/* A test failed while capturing: show what it said. */
		snprintf(cmd, sizeof(cmd), "%s/stderr.log", t->dir);
		dup2(t->saved_stderr, 2);
		close(t->saved_stderr);
		FILE *f = fopen(cmd, "r");
		int ch;

		while (f != NULL && (ch = fgetc(f)) != EOF)
			fputc(ch, stderr);
		if (f != NULL)
			fclose(f);
	}
	db_store_close(t->st);
	event_free(t->tick);
	event_base_free(t->base);
	if (t->be->mariadb) {
		char sql[160];

		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s",
		    t->srv.db);
		server_sql(&t->srv, sql);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static struct db_store *
open_opts(struct tctx *t, const char *dsn, const struct db_store_opts *o)
{
	char err[256] = "";
	struct db_store *s = db_store_open(t->base, dsn, o, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "db_store_open: %s\n", err);
	assert_non_null(s);
	return s;
}

static void
open_store(struct tctx *t)
{
	t->st = open_opts(t, t->dsn, NULL);
	assert_string_equal(db_store_backend(t->st), t->be->name);
}

static void
reopen(struct tctx *t)
{
	db_store_close(t->st);
	t->st = NULL;
	open_store(t);
}

/* Runs the loop until *count reaches target; fails after 30 s. */
static void
run_until(struct tctx *t, const int *count, int target)
{
	uint64_t end = ms_now() + 30000;

	while (*count < target) {
		event_base_loop(t->base, EVLOOP_ONCE);
		if (ms_now() > end) {
			fprintf(stderr, "timeout: %d of %d callbacks\n", *count,
			    target);
			fail();
		}
	}
}

/* ---- callbacks ---- */

#define KEEP 16		/* rows a callback keeps */

struct krow {
	char key[DB_KV_KEY_MAX + 1];
	char idx1[DB_KV_IDX_MAX + 1], idx2[DB_KV_IDX_MAX + 1];
	int64_t sort, expires_at, version;
	size_t len;
	uint32_t hash;		/* FNV-1a of the data */
	uint8_t head[32];
	int table;
};

struct res {
	int called;
	enum db_status st;
	int64_t value;
	size_t n;
	int rows_null;
	struct krow rows[KEEP];
};

static uint32_t
fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void
done_cb(void *ctx, enum db_status st, int64_t value)
{
	struct res *r = ctx;

	r->called++;
	r->st = st;
	r->value = value;
}

static void
rows_cb(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct res *r = ctx;

	r->called++;
	r->st = st;
	r->n = n;
	r->rows_null = rows == NULL;
	if (st != DB_OK)
		assert_int_equal(n, 0);
	for (size_t i = 0; i < n && i < KEEP; i++) {
		struct krow *k = &r->rows[i];

		assert_non_null(rows[i].data);
		snprintf(k->key, sizeof(k->key), "%s", rows[i].key);
		snprintf(k->idx1, sizeof(k->idx1), "%s", rows[i].idx1);
		snprintf(k->idx2, sizeof(k->idx2), "%s", rows[i].idx2);
		k->sort = rows[i].sort;
		k->expires_at = rows[i].expires_at;
		k->version = rows[i].version;
		k->len = rows[i].len;
		k->table = rows[i].table;
		k->hash = fnv(rows[i].data, rows[i].len);
		memcpy(k->head, rows[i].data, rows[i].len < sizeof(k->head) ?
		    rows[i].len : sizeof(k->head));
	}
}

/* ---- synchronous wrappers ---- */

static struct db_kv_op
put_op(enum db_kv_table tbl, const char *key, const char *idx1,
    const char *idx2, int64_t sort, int64_t expires_at, int64_t expect,
    const char *data)
{
	struct db_kv_op o = {
		.op = DB_KV_PUT, .table = tbl, .key = key, .idx1 = idx1,
		.idx2 = idx2, .sort = sort, .expires_at = expires_at,
		.expect = expect, .data = data, .len = data ? strlen(data) : 0,
	};

	return o;
}

static struct db_kv_op
del_op(enum db_kv_table tbl, const char *key, int64_t expect)
{
	struct db_kv_op o = {
		.op = DB_KV_DEL, .table = tbl, .key = key, .expect = expect,
	};

	return o;
}

/* Runs a write; returns its status, the callback value in *value. */
static enum db_status
write_sync(struct tctx *t, const struct db_kv_op *ops, size_t n,
    int64_t *value)
{
	struct res r = { 0 };

	assert_int_equal(db_kv_write(t->st, ops, n, done_cb, &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.called, 1);
	if (value != NULL)
		*value = r.value;
	return r.st;
}

static enum db_status
put_sync(struct tctx *t, enum db_kv_table tbl, const char *key,
    const char *idx1, const char *idx2, int64_t sort, int64_t expires_at,
    int64_t expect, const char *data)
{
	struct db_kv_op o = put_op(tbl, key, idx1, idx2, sort, expires_at,
	    expect, data);

	return write_sync(t, &o, 1, NULL);
}

/* Gets key into *row; returns the status. */
static enum db_status
get_sync(struct tctx *t, enum db_kv_table tbl, const char *key,
    struct krow *row)
{
	struct res r = { 0 };

	assert_int_equal(db_kv_get(t->st, tbl, key, rows_cb, &r), DB_OK);
	run_until(t, &r.called, 1);
	if (r.st == DB_OK) {
		assert_int_equal(r.n, 1);
		if (row != NULL)
			*row = r.rows[0];
	} else {
		assert_int_equal(r.n, 0);
		assert_true(r.rows_null);
	}
	return r.st;
}

/* The version of key, or 0 if absent. */
static int64_t
version_of(struct tctx *t, enum db_kv_table tbl, const char *key)
{
	struct krow row;

	return get_sync(t, tbl, key, &row) == DB_OK ? row.version : 0;
}

static void
list_sync(struct tctx *t, enum db_kv_table tbl, int which, const char *v,
    int64_t after_sort, const char *after_key, unsigned max, struct res *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(db_kv_list(t->st, tbl, which, v, after_sort,
	    after_key, max, rows_cb, r), DB_OK);
	run_until(t, &r->called, 1);
	assert_int_equal(r->st, DB_OK);
}

static int64_t
count_sync(struct tctx *t, enum db_kv_table tbl, int which, const char *v,
    int64_t sort_min)
{
	struct res r = { 0 };

	assert_int_equal(db_kv_count(t->st, tbl, which, v, sort_min, done_cb,
	    &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_OK);
	return r.value;
}

static int64_t
purge_open_sync(struct tctx *t, int64_t before, unsigned max)
{
	struct res r = { 0 };

	assert_int_equal(db_idmap_purge_open(t->st, before, max, done_cb, &r),
	    DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_OK);
	return r.value;
}

/* ---- tests ---- */

static void
test_status_name(void **state)
{
	(void)state;
	assert_string_equal(db_status_name(DB_ECONFLICT), "conflict");
	assert_string_equal(db_status_name(DB_EFAIL), "failed");
	assert_string_equal(db_status_name((enum db_status)99), "unknown");
}

static void
test_put_get(void **state)
{
	struct tctx *t = *state;
	struct krow row;

	open_store(t);
	assert_int_equal(get_sync(t, DB_KV_MSG, "m1", NULL), DB_NOTFOUND);
	assert_int_equal(put_sync(t, DB_KV_MSG, "m1", "alice", "dev9", 1000,
	    5000, 0, "hello"), DB_OK);
	assert_int_equal(get_sync(t, DB_KV_MSG, "m1", &row), DB_OK);
	assert_string_equal(row.key, "m1");
	assert_string_equal(row.idx1, "alice");
	assert_string_equal(row.idx2, "dev9");
	assert_int_equal(row.table, DB_KV_MSG);
	assert_int_equal(row.sort, 1000);
	assert_int_equal(row.expires_at, 5000);
	assert_int_equal(row.version, 1);
	assert_int_equal(row.len, 5);
	assert_memory_equal(row.head, "hello", 5);

	/* Same key, other table: a row of its own. */
	assert_int_equal(get_sync(t, DB_KV_COPY, "m1", NULL), DB_NOTFOUND);
	assert_int_equal(put_sync(t, DB_KV_COPY, "m1", NULL, NULL, 1, 0, -1,
	    NULL), DB_OK);
	assert_int_equal(get_sync(t, DB_KV_COPY, "m1", &row), DB_OK);
	assert_int_equal(row.version, 1);
	assert_int_equal(row.len, 0);
	assert_string_equal(row.idx1, "");
	assert_string_equal(row.idx2, "");

	/* Upsert (-1) and compare-and-set (n) both bump the version and
	 * replace every column. */
	assert_int_equal(put_sync(t, DB_KV_MSG, "m1", "bob", NULL, 2000, 0,
	    -1, "second"), DB_OK);
	assert_int_equal(get_sync(t, DB_KV_MSG, "m1", &row), DB_OK);
	assert_int_equal(row.version, 2);
	assert_string_equal(row.idx1, "bob");
	assert_string_equal(row.idx2, "");
	assert_int_equal(row.sort, 2000);
	assert_int_equal(row.expires_at, 0);
	assert_int_equal(row.len, 6);
	assert_memory_equal(row.head, "second", 6);
	assert_int_equal(put_sync(t, DB_KV_MSG, "m1", "bob", "d", 3000, 7, 2,
	    "third"), DB_OK);
	assert_int_equal(get_sync(t, DB_KV_MSG, "m1", &row), DB_OK);
	assert_int_equal(row.version, 3);
	assert_int_equal(row.sort, 3000);
	assert_memory_equal(row.head, "third", 5);
	assert_int_equal(version_of(t, DB_KV_COPY, "m1"), 1);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM kv"), 2);

	/* Everything is copied at submit: the caller's buffers may change
	 * before the worker runs. */
	{
		char key[8] = "mine", i1[8] = "idx1", i2[8] = "idx2";
		char data[8] = "payload";
		struct db_kv_op o = put_op(DB_KV_MSG, key, i1, i2, 9, 0, 0,
		    data);
		struct res r = { 0 };

		assert_int_equal(db_kv_write(t->st, &o, 1, done_cb, &r), DB_OK);
		memset(key, 'X', sizeof(key) - 1);
		memset(i1, 'X', sizeof(i1) - 1);
		memset(i2, 'X', sizeof(i2) - 1);
		memset(data, 'X', sizeof(data) - 1);
		memset(&o, 0xff, sizeof(o));
		run_until(t, &r.called, 1);
		assert_int_equal(r.st, DB_OK);
		assert_int_equal(get_sync(t, DB_KV_MSG, "mine", &row), DB_OK);
		assert_string_equal(row.idx1, "idx1");
		assert_string_equal(row.idx2, "idx2");
		assert_int_equal(row.len, 7);
		assert_memory_equal(row.head, "payload", 7);
	}
}

static void
test_conflict(void **state)
{
	struct tctx *t = *state;
	struct db_kv_op ops[4];
	struct krow row;
	int64_t v;

	open_store(t);
	assert_int_equal(put_sync(t, DB_KV_DEVICE, "d1", "u1", NULL, 1, 0, 0,
	    "one"), DB_OK);

	/* Insert guard: the row exists. */
	ops[0] = put_op(DB_KV_DEVICE, "d1", "u1", NULL, 1, 0, 0, "other");
	assert_int_equal(write_sync(t, ops, 1, &v), DB_ECONFLICT);
	assert_int_equal(v, 0);
	/* Version guard: wrong version, and absent row. */
	ops[0] = put_op(DB_KV_DEVICE, "d1", "u1", NULL, 1, 0, 2, "other");
	assert_int_equal(write_sync(t, ops, 1, &v), DB_ECONFLICT);
	ops[0] = put_op(DB_KV_DEVICE, "nope", "u1", NULL, 1, 0, 1, "x");
	assert_int_equal(write_sync(t, ops, 1, &v), DB_ECONFLICT);
	assert_int_equal(get_sync(t, DB_KV_DEVICE, "nope", NULL), DB_NOTFOUND);
	assert_int_equal(get_sync(t, DB_KV_DEVICE, "d1", &row), DB_OK);
	assert_int_equal(row.version, 1);
	assert_memory_equal(row.head, "one", 3);

	/* Op 2 conflicts: ops 0 and 1 (an insert, a delete) leave nothing. */
	assert_int_equal(put_sync(t, DB_KV_DEVICE, "d2", "u1", NULL, 2, 0, 0,
	    "two"), DB_OK);
	ops[0] = put_op(DB_KV_DEVICE, "new", "u1", NULL, 3, 0, 0, "new");
	ops[1] = del_op(DB_KV_DEVICE, "d2", 1);
	ops[2] = put_op(DB_KV_DEVICE, "d1", "u1", NULL, 1, 0, 7, "bad");
	ops[3] = put_op(DB_KV_DEVICE, "new2", "u1", NULL, 3, 0, 0, "new2");
	assert_int_equal(write_sync(t, ops, 4, &v), DB_ECONFLICT);
	assert_int_equal(v, 2);
	assert_int_equal(get_sync(t, DB_KV_DEVICE, "new", NULL), DB_NOTFOUND);
	assert_int_equal(get_sync(t, DB_KV_DEVICE, "new2", NULL), DB_NOTFOUND);
	assert_int_equal(version_of(t, DB_KV_DEVICE, "d2"), 1);
	assert_int_equal(version_of(t, DB_KV_DEVICE, "d1"), 1);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM kv"), 2);

	/* Later ops see earlier ones: insert, then update by version 1,
	 * then delete by version 2, in one job. */
	ops[0] = put_op(DB_KV_DEVICE, "seq", "u1", NULL, 3, 0, 0, "a");
	ops[1] = put_op(DB_KV_DEVICE, "seq", "u1", NULL, 3, 0, 1, "b");
	ops[2] = put_op(DB_KV_DEVICE, "seq2", "u1", NULL, 3, 0, 0, "c");
	ops[3] = del_op(DB_KV_DEVICE, "seq2", 1);
	assert_int_equal(write_sync(t, ops, 4, &v), DB_OK);
	assert_int_equal(v, 0);
	assert_int_equal(get_sync(t, DB_KV_DEVICE, "seq", &row), DB_OK);
	assert_int_equal(row.version, 2);
	assert_memory_equal(row.head, "b", 1);
	assert_int_equal(get_sync(t, DB_KV_DEVICE, "seq2", NULL), DB_NOTFOUND);

	/* Delete guards: a version on an absent row, and "must not exist"
	 * on a present one. */
	ops[0] = del_op(DB_KV_DEVICE, "absent", 1);
	assert_int_equal(write_sync(t, ops, 1, &v), DB_ECONFLICT);
	ops[0] = del_op(DB_KV_DEVICE, "seq", 0);
	assert_int_equal(write_sync(t, ops, 1, &v), DB_ECONFLICT);
	ops[0] = del_op(DB_KV_DEVICE, "seq", 1);
	assert_int_equal(write_sync(t, ops, 1, &v), DB_ECONFLICT);
	assert_int_equal(version_of(t, DB_KV_DEVICE, "seq"), 2);
}

/* Jobs of one batch (one transaction): a conflicting job undoes only
 * itself, its neighbours commit. */
static void
test_conflict_in_batch(void **state)
{
	struct tctx *t = *state;
	struct db_kv_op a[2], b[2], c[1];
	struct res ra = { 0 }, rb = { 0 }, rc = { 0 };
	struct db_store_stats st;

	open_store(t);
	assert_int_equal(put_sync(t, DB_KV_REG, "held", NULL, NULL, 1, 0, 0,
	    "v1"), DB_OK);
	a[0] = put_op(DB_KV_REG, "a1", NULL, NULL, 1, 0, 0, "a1");
	a[1] = put_op(DB_KV_REG, "a2", NULL, NULL, 1, 0, 0, "a2");
	b[0] = put_op(DB_KV_REG, "b1", NULL, NULL, 1, 0, 0, "b1");
	b[1] = put_op(DB_KV_REG, "held", NULL, NULL, 1, 0, 0, "dup");
	c[0] = put_op(DB_KV_REG, "held", NULL, NULL, 1, 0, 1, "v2");
	/* Queued together, before the loop runs: one batch, most likely;
	 * the outcome must be the same either way. */
	assert_int_equal(db_kv_write(t->st, a, 2, done_cb, &ra), DB_OK);
	assert_int_equal(db_kv_write(t->st, b, 2, done_cb, &rb), DB_OK);
	assert_int_equal(db_kv_write(t->st, c, 1, done_cb, &rc), DB_OK);
	run_until(t, &ra.called, 1);
	run_until(t, &rb.called, 1);
	run_until(t, &rc.called, 1);
	assert_int_equal(ra.st, DB_OK);
	assert_int_equal(rb.st, DB_ECONFLICT);
	assert_int_equal(rb.value, 1);
	assert_int_equal(rc.st, DB_OK);
	assert_int_equal(get_sync(t, DB_KV_REG, "b1", NULL), DB_NOTFOUND);
	assert_int_equal(version_of(t, DB_KV_REG, "a1"), 1);
	assert_int_equal(version_of(t, DB_KV_REG, "a2"), 1);
	assert_int_equal(version_of(t, DB_KV_REG, "held"), 2);
	/* A conflict is an answer, not a job error. */
	db_store_stats(t->st, &st);
	assert_int_equal(st.job_errors, 0);
}

static void
test_del(void **state)
{
	struct tctx *t = *state;
	struct db_kv_op ops[2];
	int64_t v;

	open_store(t);
	assert_int_equal(put_sync(t, DB_KV_COPY, "c1", "m1", "devA", 1, 0, 0,
	    "x"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "c2", "m1", "devA", 2, 0, 0,
	    "x"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "c3", "m2", "devB", 3, 0, 0,
	    "x"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "c4", "m2", "devAA", 3, 0, 0,
	    "x"), DB_OK);
	/* Same idx2 in another table: not touched. */
	assert_int_equal(put_sync(t, DB_KV_MSG, "c1", "m1", "devA", 1, 0, 0,
	    "x"), DB_OK);

	ops[0] = del_op(DB_KV_COPY, "c3", -1);
	assert_int_equal(write_sync(t, ops, 1, &v), DB_OK);
	assert_int_equal(get_sync(t, DB_KV_COPY, "c3", NULL), DB_NOTFOUND);
	/* Absent, no guard: fine. By version: right one deletes. */
	assert_int_equal(write_sync(t, ops, 1, &v), DB_OK);
	ops[0] = del_op(DB_KV_COPY, "c3", 0);
	assert_int_equal(write_sync(t, ops, 1, &v), DB_OK);

	memset(ops, 0, sizeof(ops));
	ops[0].op = DB_KV_DEL_IDX2;
	ops[0].table = DB_KV_COPY;
	ops[0].idx2 = "devA";
	ops[0].expect = 5;	/* ignored */
	assert_int_equal(write_sync(t, ops, 1, &v), DB_OK);
	assert_int_equal(get_sync(t, DB_KV_COPY, "c1", NULL), DB_NOTFOUND);
	assert_int_equal(get_sync(t, DB_KV_COPY, "c2", NULL), DB_NOTFOUND);
	assert_int_equal(version_of(t, DB_KV_COPY, "c4"), 1);	/* devAA */
	assert_int_equal(version_of(t, DB_KV_MSG, "c1"), 1);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM kv"), 2);
	/* Again: nothing left to delete, still OK. */
	assert_int_equal(write_sync(t, ops, 1, &v), DB_OK);
	ops[1] = del_op(DB_KV_COPY, "c4", 1);
	assert_int_equal(write_sync(t, ops, 2, &v), DB_OK);
	assert_int_equal(get_sync(t, DB_KV_COPY, "c4", NULL), DB_NOTFOUND);
}

static void
test_list_count(void **state)
{
	struct tctx *t = *state;
	/* Expected order by (sort, key). */
	static const char *const order[] = { "k5", "a", "b", "c", "d", "z" };
	static const int64_t sorts[] = { 5, 10, 10, 10, 10, 20 };
	const char *after = "";
	int64_t after_sort = 0;
	struct res r;
	size_t got = 0;

	open_store(t);
	/* Inserted out of order, with neighbours that must not show. */
	assert_int_equal(put_sync(t, DB_KV_COPY, "z", "u", "g", 20, 0, 0,
	    "z"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "c", "u", "g", 10, 0, 0,
	    "c"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "a", "u", "h", 10, 0, 0,
	    "a"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "k5", "u", "g", 5, 0, 0,
	    "k5"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "d", "u", "g", 10, 0, 0,
	    "d"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "b", "u", "g", 10, 0, 0,
	    "b"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_COPY, "x", "uu", "g", 1, 0, 0,
	    "x"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_MSG, "y", "u", "g", 1, 0, 0, "y"),
	    DB_OK);

	/* Pages of 2 split the run of equal sort values. */
	for (int page = 0; page < 4; page++) {
		list_sync(t, DB_KV_COPY, 1, "u", after_sort, after, 2, &r);
		if (page == 3) {
			assert_int_equal(r.n, 0);
			break;
		}
		assert_int_equal(r.n, 2);
		for (size_t i = 0; i < r.n; i++, got++) {
			assert_string_equal(r.rows[i].key, order[got]);
			assert_int_equal(r.rows[i].sort, sorts[got]);
			assert_string_equal(r.rows[i].idx1, "u");
			assert_int_equal(r.rows[i].table, DB_KV_COPY);
			assert_memory_equal(r.rows[i].head, order[got],
			    strlen(order[got]));
		}
		after = order[got - 1];
		after_sort = sorts[got - 1];
	}
	assert_int_equal(got, 6);

	/* All in one page; "" is the start whatever after_sort says; NULL
	 * likewise. */
	list_sync(t, DB_KV_COPY, 1, "u", 999, "", 100, &r);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.rows[0].key, "k5");
	list_sync(t, DB_KV_COPY, 1, "u", 999, NULL, 100, &r);
	assert_int_equal(r.n, 6);
	/* From the middle of the equal run. */
	list_sync(t, DB_KV_COPY, 1, "u", 10, "b", 100, &r);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.rows[0].key, "c");
	assert_string_equal(r.rows[2].key, "z");
	/* By idx2. */
	list_sync(t, DB_KV_COPY, 2, "g", 0, "", 100, &r);
	assert_int_equal(r.n, 6);	/* every "g", "a" is "h" */
	assert_string_equal(r.rows[0].key, "x");
	assert_string_equal(r.rows[1].key, "k5");
	assert_string_equal(r.rows[2].key, "b");
	assert_string_equal(r.rows[5].key, "z");
	list_sync(t, DB_KV_COPY, 2, "h", 0, "", 100, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.rows[0].key, "a");
	list_sync(t, DB_KV_COPY, 1, "nobody", 0, "", 100, &r);
	assert_int_equal(r.n, 0);
	assert_true(r.rows_null);

	assert_int_equal(count_sync(t, DB_KV_COPY, 1, "u", INT64_MIN), 6);
	assert_int_equal(count_sync(t, DB_KV_COPY, 1, "u", 10), 5);
	assert_int_equal(count_sync(t, DB_KV_COPY, 1, "u", 11), 1);
	assert_int_equal(count_sync(t, DB_KV_COPY, 1, "u", 21), 0);
	assert_int_equal(count_sync(t, DB_KV_COPY, 2, "g", 0), 6);
	assert_int_equal(count_sync(t, DB_KV_COPY, 2, "g", 6), 4);
	assert_int_equal(count_sync(t, DB_KV_MSG, 1, "u", 0), 1);
	assert_int_equal(count_sync(t, DB_KV_DEVICE, 1, "u", 0), 0);
}

static void
test_expired(void **state)
{
	struct tctx *t = *state;
	struct res r;

	open_store(t);
	assert_int_equal(put_sync(t, DB_KV_REG, "never", NULL, NULL, 1, 0, 0,
	    "n"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_REG, "e100", NULL, NULL, 1, 100,
	    0, "1"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_REG, "b50", NULL, NULL, 1, 50, 0,
	    "2"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_REG, "a50", NULL, NULL, 1, 50, 0,
	    "3"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_REG, "e200", NULL, NULL, 1, 200,
	    0, "4"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_REG, "e300", NULL, NULL, 1, 300,
	    0, "5"), DB_OK);
	assert_int_equal(put_sync(t, DB_KV_MSG, "m10", NULL, NULL, 1, 10, 0,
	    "6"), DB_OK);

	memset(&r, 0, sizeof(r));
	assert_int_equal(db_kv_expired(t->st, DB_KV_REG, 200, 10, rows_cb,
	    &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_OK);
	assert_int_equal(r.n, 3);	/* 200 is not < 200; 0 never */
	assert_string_equal(r.rows[0].key, "a50");
	assert_string_equal(r.rows[1].key, "b50");
	assert_string_equal(r.rows[2].key, "e100");
	assert_int_equal(r.rows[2].expires_at, 100);
	assert_int_equal(r.rows[0].len, 1);
	assert_memory_equal(r.rows[0].head, "3", 1);

	memset(&r, 0, sizeof(r));
	assert_int_equal(db_kv_expired(t->st, DB_KV_REG, 1000, 2, rows_cb,
	    &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.rows[1].key, "b50");

	memset(&r, 0, sizeof(r));
	assert_int_equal(db_kv_expired(t->st, DB_KV_REG, 50, 10, rows_cb,
	    &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_OK);
	assert_int_equal(r.n, 0);
	/* Listed, not deleted. */
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM kv"), 7);
}

static void
test_limits(void **state)
{
	struct tctx *t = *state;
	char key[DB_KV_KEY_MAX + 2], idx[DB_KV_IDX_MAX + 2];
	struct db_kv_op ops[DB_KV_OPS_MAX + 1], o;
	struct res r = { 0 };
	uint8_t *big;
	int64_t v;

	open_store(t);
	assert_int_equal(put_sync(t, DB_KV_MSG, "keep", "i", "j", 1, 0, 0,
	    "kept"), DB_OK);
	memset(key, 'k', sizeof(key));
	key[DB_KV_KEY_MAX + 1] = '\0';		/* 129 bytes */
	memset(idx, 'i', sizeof(idx));
	idx[DB_KV_IDX_MAX + 1] = '\0';		/* 97 bytes */
	assert_non_null(big = calloc(1, DB_KV_DATA_MAX + 1));

#define BAD(op) do { o = (op); assert_int_equal(db_kv_write(t->st, &o, 1, \
	done_cb, &r), DB_EINVAL); } while (0)
	BAD(put_op(DB_KV_MSG, key, NULL, NULL, 1, 0, -1, "x"));
	BAD(put_op(DB_KV_MSG, "", NULL, NULL, 1, 0, -1, "x"));
	BAD(put_op(DB_KV_MSG, NULL, NULL, NULL, 1, 0, -1, "x"));
	BAD(put_op(DB_KV_MSG, "k", idx, NULL, 1, 0, -1, "x"));
	BAD(put_op(DB_KV_MSG, "k", NULL, idx, 1, 0, -1, "x"));
	BAD(put_op(0, "k", NULL, NULL, 1, 0, -1, "x"));
	BAD(put_op(DB_KV_MSG, "k", NULL, NULL, 1, 0, -2, "x"));
	BAD(put_op(DB_KV_MSG, "k", NULL, NULL, 1, -1, -1, "x"));
	o = put_op(DB_KV_MSG, "k", NULL, NULL, 1, 0, -1, NULL);
	o.len = 3;				/* NULL data, len 3 */
	BAD(o);
	o.data = big;
	o.len = DB_KV_DATA_MAX + 1;
	BAD(o);
	o = del_op(DB_KV_MSG, "k", -1);
	o.op = (enum db_kv_op_kind)7;
	BAD(o);
	memset(&o, 0, sizeof(o));
	o.op = DB_KV_DEL_IDX2;
	o.table = DB_KV_MSG;
	BAD(o);					/* no idx2 */
	o.idx2 = "";
	BAD(o);					/* "" would take every row */
	assert_int_equal(db_kv_write(t->st, NULL, 1, done_cb, &r), DB_EINVAL);
	o = put_op(DB_KV_MSG, "k", NULL, NULL, 1, 0, -1, "x");
	assert_int_equal(db_kv_write(t->st, &o, 0, done_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_write(t->st, &o, 1, NULL, &r), DB_EINVAL);
	for (size_t i = 0; i < DB_KV_OPS_MAX + 1; i++)
		ops[i] = put_op(DB_KV_MSG, "many", NULL, NULL, 1, 0, -1, "x");
	assert_int_equal(db_kv_write(t->st, ops, DB_KV_OPS_MAX + 1, done_cb,
	    &r), DB_EINVAL);
	/* One bad op refuses the whole job. */
	ops[5] = put_op(DB_KV_MSG, key, NULL, NULL, 1, 0, -1, "x");
	assert_int_equal(db_kv_write(t->st, ops, 10, done_cb, &r), DB_EINVAL);
#undef BAD
	assert_int_equal(db_kv_get(t->st, DB_KV_MSG, key, rows_cb, &r),
	    DB_EINVAL);
	assert_int_equal(db_kv_get(t->st, DB_KV_MSG, "", rows_cb, &r),
	    DB_EINVAL);
	assert_int_equal(db_kv_get(t->st, 0, "k", rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 0, "i", 0, "", 10,
	    rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 3, "i", 0, "", 10,
	    rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 1, idx, 0, "", 10,
	    rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 1, NULL, 0, "", 10,
	    rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 1, "i", 0, key, 10,
	    rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 1, "i", 0, "", 0,
	    rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 1, "i", 0, "",
	    DB_KV_LIST_MAX + 1, rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_kv_count(t->st, DB_KV_MSG, 0, "i", 0, done_cb,
	    &r), DB_EINVAL);
	assert_int_equal(db_kv_count(t->st, DB_KV_MSG, 1, idx, 0, done_cb,
	    &r), DB_EINVAL);
	assert_int_equal(db_kv_expired(t->st, DB_KV_MSG, 1, 0, rows_cb, &r),
	    DB_EINVAL);
	assert_int_equal(db_kv_expired(t->st, DB_KV_MSG, 1,
	    DB_KV_LIST_MAX + 1, rows_cb, &r), DB_EINVAL);
	assert_int_equal(db_idmap_purge_open(t->st, 1, 0, done_cb, &r),
	    DB_EINVAL);
	assert_int_equal(r.called, 0);		/* no callback for a refusal */

	/* The largest of each is fine. */
	key[DB_KV_KEY_MAX] = '\0';
	idx[DB_KV_IDX_MAX] = '\0';
	for (size_t i = 0; i < DB_KV_OPS_MAX; i++)
		ops[i] = put_op(DB_KV_MSG, key, idx, idx, 1, 0, -1, "x");
	assert_int_equal(write_sync(t, ops, DB_KV_OPS_MAX, &v), DB_OK);
	assert_int_equal(version_of(t, DB_KV_MSG, key), DB_KV_OPS_MAX);
	assert_int_equal(count_sync(t, DB_KV_MSG, 1, idx, 0), 1);
	list_sync(t, DB_KV_MSG, 2, idx, 0, "", DB_KV_LIST_MAX, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.rows[0].key, key);
	assert_string_equal(r.rows[0].idx1, idx);
	assert_string_equal(r.rows[0].idx2, idx);

	/* Nothing refused was written; what was there is intact. */
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM kv"), 2);
	assert_int_equal(version_of(t, DB_KV_MSG, "keep"), 1);
	free(big);
}

static void
test_big_and_reopen(void **state)
{
	struct tctx *t = *state;
	struct db_kv_op o;
	struct krow row;
	struct res r;
	uint8_t *big = malloc(DB_KV_DATA_MAX);
	uint32_t h;

	assert_non_null(big);
	for (size_t i = 0; i < DB_KV_DATA_MAX; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 9));
	h = fnv(big, DB_KV_DATA_MAX);
	open_store(t);
	o = put_op(DB_KV_MSG, "big", "u", "", 1, 0, 0, NULL);
	o.data = big;
	o.len = DB_KV_DATA_MAX;
	assert_int_equal(write_sync(t, &o, 1, NULL), DB_OK);
	o.key = "big2";
	o.sort = 2;
	big[0] ^= 0xff;
	assert_int_equal(write_sync(t, &o, 1, NULL), DB_OK);
	big[0] ^= 0xff;
	assert_int_equal(put_sync(t, DB_KV_MSG, "small", "u", NULL, 3, 0, 0,
	    "s"), DB_OK);
	free(big);		/* the store kept its own copy */

	assert_int_equal(get_sync(t, DB_KV_MSG, "big", &row), DB_OK);
	assert_int_equal(row.len, DB_KV_DATA_MAX);
	assert_int_equal(row.hash, h);
	list_sync(t, DB_KV_MSG, 1, "u", 0, "", 10, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.rows[0].hash, h);
	assert_int_equal(r.rows[1].len, DB_KV_DATA_MAX);
	assert_true(r.rows[1].hash != h);
	assert_int_equal(r.rows[2].len, 1);

	/* Committed means on disk: a fresh store sees it all. */
	reopen(t);
	assert_int_equal(get_sync(t, DB_KV_MSG, "big", &row), DB_OK);
	assert_int_equal(row.hash, h);
	assert_int_equal(row.version, 1);
	assert_int_equal(get_sync(t, DB_KV_MSG, "small", &row), DB_OK);
	assert_int_equal(row.sort, 3);
	assert_string_equal(row.idx1, "u");
}

/* An answer stops at 64 MiB of data (at least one row): 130 rows of
 * 512 KiB come as 128, then 2, then none. */
static void
test_list_bytes_cap(void **state)
{
	struct tctx *t = *state;
	struct db_kv_op ops[10];
	char keys[10][16];
	struct res r;
	uint8_t *big = malloc(DB_KV_DATA_MAX);
	size_t total = 0;
	int pages = 0;
	int64_t after_sort = 0;
	char after[DB_KV_KEY_MAX + 1] = "";

	assert_non_null(big);
	memset(big, 0x5a, DB_KV_DATA_MAX);
	open_store(t);
	for (int job = 0; job < 13; job++) {
		for (int i = 0; i < 10; i++) {
			snprintf(keys[i], sizeof(keys[i]), "r%03d",
			    job * 10 + i);
			ops[i] = put_op(DB_KV_PART, keys[i], "p", NULL,
			    job * 10 + i, 0, 0, NULL);
			ops[i].data = big;
			ops[i].len = DB_KV_DATA_MAX;
		}
		assert_int_equal(write_sync(t, ops, 10, NULL), DB_OK);
	}
	free(big);
	for (;;) {
		list_sync(t, DB_KV_PART, 1, "p", after_sort, after,
		    DB_KV_LIST_MAX, &r);
		if (r.n == 0)
			break;
		assert_true(r.n <= 128);
		assert_int_equal(pages == 0 ? 128 : 2, r.n);
		pages++;
		total += r.n;
		/* The rows kept are the first KEEP; page by the count. */
		after_sort = (int64_t)total - 1;
		snprintf(after, sizeof(after), "r%03zu", total - 1);
	}
	assert_int_equal(pages, 2);
	assert_int_equal(total, 130);
	assert_int_equal(count_sync(t, DB_KV_PART, 1, "p", 0), 130);
}

/* The v1 schema as v1 sealgate made it (schema.c's v1 step, frozen). */
static const char *const sqlite_v1[] = {
	"CREATE TABLE schema_version (version INT NOT NULL)",
	"CREATE TABLE idmap (gateway_id TEXT NOT NULL PRIMARY KEY,"
	" link TEXT NOT NULL, smsc_id TEXT NOT NULL, smsc_key TEXT NOT NULL,"
	" smsc_hex INTEGER, smsc_dec INTEGER, account TEXT NOT NULL,"
	" source_addr TEXT NOT NULL, dest_addr TEXT NOT NULL,"
	" registered_delivery INTEGER NOT NULL, state INTEGER NOT NULL,"
	" submitted_at INTEGER NOT NULL, done_at INTEGER) WITHOUT ROWID",
	"CREATE INDEX idmap_key ON idmap(link, smsc_key)",
	"CREATE INDEX idmap_hex ON idmap(link, smsc_hex)"
	" WHERE smsc_hex IS NOT NULL",
	"CREATE INDEX idmap_dec ON idmap(link, smsc_dec)"
	" WHERE smsc_dec IS NOT NULL",
	"CREATE INDEX idmap_done ON idmap(done_at) WHERE done_at IS NOT NULL",
	"CREATE TABLE pending (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account TEXT NOT NULL, kind INTEGER NOT NULL, pdu BLOB NOT NULL,"
	" created_at INTEGER NOT NULL)",
	"CREATE INDEX pending_account ON pending(account, id)",
	NULL,
};
static const char *const mariadb_v1[] = {
	"CREATE TABLE schema_version (version INT NOT NULL)",
	"CREATE TABLE idmap (gateway_id VARBINARY(64) NOT NULL PRIMARY KEY,"
	" link VARBINARY(32) NOT NULL, smsc_id VARBINARY(64) NOT NULL,"
	" smsc_key VARBINARY(64) NOT NULL, smsc_hex BIGINT NULL,"
	" smsc_dec BIGINT NULL, account VARBINARY(32) NOT NULL,"
	" source_addr VARBINARY(32) NOT NULL, dest_addr VARBINARY(32) NOT NULL,"
	" registered_delivery TINYINT UNSIGNED NOT NULL, state INT NOT NULL,"
	" submitted_at BIGINT NOT NULL, done_at BIGINT NULL,"
	" KEY idmap_key (link, smsc_key), KEY idmap_hex (link, smsc_hex),"
	" KEY idmap_dec (link, smsc_dec), KEY idmap_done (done_at)"
	") ENGINE=InnoDB",
	"CREATE TABLE pending (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
	" account VARBINARY(32) NOT NULL, kind TINYINT NOT NULL,"
	" pdu MEDIUMBLOB NOT NULL, created_at BIGINT NOT NULL,"
	" KEY pending_account (account, id)) ENGINE=InnoDB",
	NULL,
};

static void
test_migrate_v1(void **state)
{
	struct tctx *t = *state;
	struct capture c;
	struct res r = { 0 };
	char *log, want[64];

	for (const char *const *s = t->be->mariadb ? mariadb_v1 : sqlite_v1;
	    *s != NULL; s++)
		raw_exec(t, *s);
	raw_exec(t, "INSERT INTO schema_version (version) VALUES (1)");
	raw_exec(t, "INSERT INTO idmap (gateway_id, link, smsc_id, smsc_key,"
	    " account, source_addr, dest_addr, registered_delivery, state,"
	    " submitted_at) VALUES ('gw-old', 'smsc1', 'AB', 'ab', 'demo',"
	    " 'src', 'dst', 1, 1, 100)");
	raw_exec(t, "INSERT INTO pending (account, kind, pdu, created_at)"
	    " VALUES ('demo', 1, 'pdu', 5)");

	capture_start(&c, t);
	open_store(t);
	reopen(t);
	log = capture_stop(&c);
	snprintf(want, sizeof(want), " from=1 to=%d", db_schema_version());
	assert_int_equal(count_substr(log, "db migrate"), 1);
	assert_non_null(strstr(log, want));
	free(log);
	assert_int_equal(db_schema_version(), 4);
	assert_int_equal(raw_int(t, "SELECT MAX(version) FROM schema_version"),
	    4);
	/* v4: SQLite's idmap_key only holds ids without a hex reading. */
	if (!t->be->mariadb)
		assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM sqlite_master"
		    " WHERE name = 'idmap_key' AND sql LIKE"
		    " '%WHERE smsc_hex IS NULL'"), 1);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM schema_version"), 1);

	/* Old rows are still there and still work... */
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM pending"), 1);
	assert_int_equal(db_idmap_close(t->st, "gw-old", 2, 200, done_cb, &r),
	    DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_OK);
	assert_int_equal(r.value, 1);
	/* ...and the new table is usable. */
	assert_int_equal(put_sync(t, DB_KV_MSG, "m", "u", NULL, 1, 0, 0, "d"),
	    DB_OK);
	assert_int_equal(version_of(t, DB_KV_MSG, "m"), 1);
}

static void
put_map(struct tctx *t, const char *gw, int64_t submitted, int64_t done)
{
	struct db_idmap m;
	struct res r = { 0 };

	memset(&m, 0, sizeof(m));
	snprintf(m.gateway_id, sizeof(m.gateway_id), "%s", gw);
	snprintf(m.link, sizeof(m.link), "smsc1");
	snprintf(m.smsc_id, sizeof(m.smsc_id), "s-%s", gw);
	snprintf(m.account, sizeof(m.account), "demo");
	m.registered_delivery = 1;
	m.state = 1;
	m.submitted_at = submitted;
	m.done_at = done;
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_OK);
}

static long long
idmap_has(struct tctx *t, const char *gw)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM idmap WHERE"
	    " gateway_id = '%s'", gw);
	return raw_int(t, sql);
}

static void
test_purge_open(void **state)
{
	struct tctx *t = *state;

	open_store(t);
	put_map(t, "open100", 100, 0);
	put_map(t, "open200", 200, 0);
	put_map(t, "open210", 210, 0);
	put_map(t, "open300", 300, 0);
	put_map(t, "closed50", 50, 60);		/* old, but answered */
	put_map(t, "closed150", 150, 400);

	assert_int_equal(purge_open_sync(t, 250, 1), 1);	/* oldest */
	assert_int_equal(idmap_has(t, "open100"), 0);
	assert_int_equal(idmap_has(t, "open200"), 1);
	assert_int_equal(purge_open_sync(t, 250, 10), 2);
	assert_int_equal(purge_open_sync(t, 250, 10), 0);
	assert_int_equal(idmap_has(t, "open200"), 0);
	assert_int_equal(idmap_has(t, "open210"), 0);
	assert_int_equal(idmap_has(t, "open300"), 1);	/* newer */
	assert_int_equal(idmap_has(t, "closed50"), 1);
	assert_int_equal(idmap_has(t, "closed150"), 1);
	/* before is exclusive. */
	assert_int_equal(purge_open_sync(t, 300, 10), 0);
	assert_int_equal(purge_open_sync(t, 301, 10), 1);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), 2);
}

/* ---- a TCP forwarder we can cut, for "database down and back" ---- */

#define PX_PAIRS 16

struct proxy {
	int lfd, port, up_port;
	int ctl[2], ack[2];
	int a[PX_PAIRS], b[PX_PAIRS];
	int cut;
	pthread_t th;
};

static void
px_close_pair(struct proxy *px, int i)
{
	close(px->a[i]);
	close(px->b[i]);
	px->a[i] = px->b[i] = -1;
}

static void *
px_main(void *arg)
{
	struct proxy *px = arg;

	for (;;) {
		struct pollfd pf[2 + 2 * PX_PAIRS];
		int nf = 0;

		pf[nf].fd = px->ctl[0];
		pf[nf++].events = POLLIN;
		pf[nf].fd = px->lfd;
		pf[nf++].events = POLLIN;
		for (int i = 0; i < PX_PAIRS; i++) {
			pf[nf].fd = px->a[i];
			pf[nf++].events = POLLIN;
			pf[nf].fd = px->b[i];
			pf[nf++].events = POLLIN;
		}
		if (poll(pf, (nfds_t)nf, 1000) < 0)
			continue;
		if (pf[0].revents) {
			char c = 0;

			if (read(px->ctl[0], &c, 1) != 1 || c == 'q')
				break;
			if (c == 'c') {
				px->cut = 1;
				for (int i = 0; i < PX_PAIRS; i++)
					if (px->a[i] >= 0)
						px_close_pair(px, i);
			} else {
				px->cut = 0;
			}
			(void)!write(px->ack[1], &c, 1);
			continue;
		}
		if (pf[1].revents) {
			int fd = accept(px->lfd, NULL, NULL), slot = -1;
			struct sockaddr_in sa;
			int up;

			for (int i = 0; i < PX_PAIRS; i++)
				if (px->a[i] < 0)
					slot = i;
			if (fd >= 0 && (px->cut || slot < 0)) {
				close(fd);
			} else if (fd >= 0) {
				memset(&sa, 0, sizeof(sa));
				sa.sin_family = AF_INET;
				sa.sin_port = htons((uint16_t)px->up_port);
				sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
				up = socket(AF_INET, SOCK_STREAM, 0);
				if (up < 0 || connect(up, (struct sockaddr *)&sa,
				    sizeof(sa)) != 0) {
					close(fd);
					if (up >= 0)
						close(up);
				} else {
					px->a[slot] = fd;
					px->b[slot] = up;
				}
			}
		}
		for (int i = 0; i < PX_PAIRS; i++) {
			for (int side = 0; side < 2; side++) {
				struct pollfd *p = &pf[2 + 2 * i + side];
				int from = side ? px->b[i] : px->a[i];
				int to = side ? px->a[i] : px->b[i];
				char buf[16384];
				ssize_t n;

				if (from < 0 || p->fd != from || !p->revents)
					continue;
				n = read(from, buf, sizeof(buf));
				if (n <= 0 || write(to, buf, (size_t)n) != n) {
					px_close_pair(px, i);
					break;
				}
			}
		}
	}
	for (int i = 0; i < PX_PAIRS; i++)
		if (px->a[i] >= 0)
			px_close_pair(px, i);
	return NULL;
}

static void
px_start(struct proxy *px, int up_port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int one = 1;

	memset(px, 0, sizeof(*px));
	for (int i = 0; i < PX_PAIRS; i++)
		px->a[i] = px->b[i] = -1;
	px->up_port = up_port;
	assert_int_equal(pipe(px->ctl), 0);
	assert_int_equal(pipe(px->ack), 0);
	px->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(px->lfd >= 0);
	setsockopt(px->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(px->lfd, 16), 0);
	assert_int_equal(getsockname(px->lfd, (struct sockaddr *)&sa, &len), 0);
	px->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&px->th, NULL, px_main, px), 0);
}

/* 'c' cut every connection and refuse new ones, 'r' restore; returns
 * when the forwarder has done it. */
static void
px_cmd(struct proxy *px, char c)
{
	char a;

	assert_int_equal(write(px->ctl[1], &c, 1), 1);
	if (c != 'q')
		assert_int_equal(read(px->ack[0], &a, 1), 1);
}

static void
px_stop(struct proxy *px)
{
	px_cmd(px, 'q');
	pthread_join(px->th, NULL);
	close(px->lfd);
	close(px->ctl[0]);
	close(px->ctl[1]);
	close(px->ack[0]);
	close(px->ack[1]);
}

/* The store's reconnect machinery carries the kv verbs too: statements
 * prepared again after a reconnect, DB_EUNAVAIL while down, nothing of a
 * refused job written, and back by itself. */
static void
test_down_and_back(void **state)
{
	struct tctx *t = *state;
	struct db_store_opts o;
	struct db_store_stats st;
	struct db_kv_op ops[2];
	struct proxy px;
	struct res r;
	char dsn[600], key[32];
	uint64_t end;
	int ok_at = -1;

	px_start(&px, (int)t->srv.port);
	snprintf(dsn, sizeof(dsn), "mariadb://%s:%s@127.0.0.1:%d/%s",
	    t->srv.user, t->srv.pass, px.port, t->srv.db);
	db_store_opts_default(&o);
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 200;
	o.timeout_s = 2;
	t->st = open_opts(t, dsn, &o);
	assert_int_equal(put_sync(t, DB_KV_MSG, "up-1", "u", NULL, 1, 0, 0,
	    "a"), DB_OK);

	/* Cut while idle, restore: the two-op job (savepoint and all)
	 * runs on a fresh connection and the caller sees only success. */
	px_cmd(&px, 'c');
	px_cmd(&px, 'r');
	ops[0] = put_op(DB_KV_MSG, "up-2", "u", NULL, 2, 0, 0, "b");
	ops[1] = put_op(DB_KV_MSG, "up-1", "u", NULL, 1, 0, 1, "a2");
	assert_int_equal(write_sync(t, ops, 2, NULL), DB_OK);
	db_store_stats(t->st, &st);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.job_errors, 0);

	px_cmd(&px, 'c');
	ops[0] = put_op(DB_KV_MSG, "down-1", "u", NULL, 3, 0, 0, "c");
	ops[1] = put_op(DB_KV_MSG, "up-1", "u", NULL, 1, 0, 2, "a3");
	assert_int_equal(write_sync(t, ops, 2, NULL), DB_EUNAVAIL);
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_kv_get(t->st, DB_KV_MSG, "up-1", rows_cb, &r),
	    DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_EUNAVAIL);
	assert_true(r.rows_null);
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_kv_list(t->st, DB_KV_MSG, 1, "u", 0, "", 10,
	    rows_cb, &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_EUNAVAIL);
	assert_int_equal(r.n, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_kv_count(t->st, DB_KV_MSG, 1, "u", 0, done_cb,
	    &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.st, DB_EUNAVAIL);

	px_cmd(&px, 'r');
	end = ms_now() + 10000;
	for (int i = 0; ms_now() < end; i++) {
		enum db_status s;

		snprintf(key, sizeof(key), "back-%d", i);
		s = put_sync(t, DB_KV_MSG, key, "u", NULL, 4, 0, 0, "d");
		if (s == DB_OK) {
			ok_at = i;
			break;
		}
		assert_int_equal(s, DB_EUNAVAIL);
		usleep(20000);
	}
	assert_true(ok_at >= 0);
	assert_int_equal(get_sync(t, DB_KV_MSG, "down-1", NULL), DB_NOTFOUND);
	assert_int_equal(version_of(t, DB_KV_MSG, "up-1"), 2);
	assert_int_equal(version_of(t, DB_KV_MSG, "up-2"), 1);
	assert_int_equal(version_of(t, DB_KV_MSG, key), 1);
	assert_int_equal(count_sync(t, DB_KV_MSG, 1, "u", 0), 3);
	db_store_close(t->st);
	t->st = NULL;
	px_stop(&px);
}

#define BOTH(f) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, \
	(void *)BE)

int
main(void)
{
	struct server srv;
	int rc;

#define BE &be_sqlite
	const struct CMUnitTest sqlite_tests[] = {
		cmocka_unit_test(test_status_name),
		BOTH(test_put_get),
		BOTH(test_conflict),
		BOTH(test_conflict_in_batch),
		BOTH(test_del),
		BOTH(test_list_count),
		BOTH(test_expired),
		BOTH(test_limits),
		BOTH(test_big_and_reopen),
		BOTH(test_list_bytes_cap),
		BOTH(test_migrate_v1),
		BOTH(test_purge_open),
	};
#undef BE
#define BE &be_mariadb
	const struct CMUnitTest mariadb_tests[] = {
		BOTH(test_put_get),
		BOTH(test_conflict),
		BOTH(test_conflict_in_batch),
		BOTH(test_del),
		BOTH(test_list_count),
		BOTH(test_expired),
		BOTH(test_limits),
		BOTH(test_big_and_reopen),
		BOTH(test_list_bytes_cap),
		BOTH(test_migrate_v1),
		BOTH(test_purge_open),
		BOTH(test_down_and_back),
	};
#undef BE

	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("db_kv_sqlite", sqlite_tests, NULL,
	    NULL);
	if (server_from_env(&srv) != 0) {
		printf("note: SG_TEST_MARIADB_DSN is not set: MariaDB tests"
		    " skipped (tests/run.sh starts a server and sets it)\n");
		return rc;
	}
	rc |= cmocka_run_group_tests_name("db_kv_mariadb", mariadb_tests,
	    NULL, NULL);
	return rc;
}
