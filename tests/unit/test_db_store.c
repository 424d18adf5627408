/*
 * db/store.h against both backends: every test below runs once on SQLite
 * (a temp file) and once on MariaDB when SG_TEST_MARIADB_DSN is set (a
 * database sealgate_test_<pid> of its own, dropped at the end; tests/run.sh
 * starts the server). Without the variable the MariaDB group is skipped
 * with a note. MariaDB alone also gets "database down and back", through
 * a TCP forwarder in this process that the test cuts and restores.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

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

struct res {
	int called;
	enum db_status st;
	int64_t value;
	struct db_idmap row;
	size_t n;
	int64_t ids[64];
	int kinds[64];
	size_t lens[64];
	uint8_t first[64];
	uint8_t last[64];
	int *counter;		/* shared count of callbacks, if set */
};

static void
done_cb(void *ctx, enum db_status st, int64_t value)
{
	struct res *r = ctx;

	r->called++;
	r->st = st;
	r->value = value;
	if (r->counter != NULL)
		(*r->counter)++;
}

static void
map_cb(void *ctx, enum db_status st, const struct db_idmap *row)
{
	struct res *r = ctx;

	r->called++;
	r->st = st;
	if (st == DB_OK) {
		assert_non_null(row);
		r->row = *row;
	} else {
		assert_null(row);
	}
	if (r->counter != NULL)
		(*r->counter)++;
}

static void
pending_cb(void *ctx, enum db_status st, const struct db_pending *rows,
    size_t n)
{
	struct res *r = ctx;

	r->called++;
	r->st = st;
	r->n = n;
	for (size_t i = 0; i < n && i < 64; i++) {
		r->ids[i] = rows[i].id;
		r->kinds[i] = rows[i].kind;
		r->lens[i] = rows[i].pdu_len;
		r->first[i] = rows[i].pdu[0];
		r->last[i] = rows[i].pdu[rows[i].pdu_len - 1];
	}
}

/* ---- synchronous wrappers ---- */

static void
make_map(struct db_idmap *m, const char *gw, const char *link,
    const char *smsc_id, int64_t at)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->gateway_id, sizeof(m->gateway_id), "%s", gw);
	snprintf(m->link, sizeof(m->link), "%s", link);
	snprintf(m->smsc_id, sizeof(m->smsc_id), "%s", smsc_id);
	snprintf(m->account, sizeof(m->account), "demo");
	snprintf(m->source_addr, sizeof(m->source_addr), "Sealgate");
	snprintf(m->dest_addr, sizeof(m->dest_addr), "4915112345678");
	m->registered_delivery = 1;
	m->state = 1;
	m->submitted_at = at;
}

static enum db_status
put_sync(struct tctx *t, const char *gw, const char *link, const char *smsc,
    int64_t at)
{
	struct db_idmap m;
	struct res r = { 0 };

	make_map(&m, gw, link, smsc, at);
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r), DB_OK);
	run_until(t, &r.called, 1);
	assert_int_equal(r.called, 1);
	return r.st;
}

/* Finds (link, smsc) and returns the gateway id found, or "" if none. */
static const char *
find_smsc(struct tctx *t, const char *link, const char *smsc)
{
	static char out[DB_ID_MAX + 1];	/* test-only scratch */
	struct res r = { 0 };

	assert_int_equal(db_idmap_find_smsc(t->st, link, smsc, map_cb, &r),
	    DB_OK);
	run_until(t, &r.called, 1);
	if (r.st == DB_NOTFOUND)
		return "";
	assert_int_equal(r.st, DB_OK);
	snprintf(out, sizeof(out), "%s", r.row.gateway_id);
	return out;
}

static enum db_status
find_gw(struct tctx *t, const char *gw, struct db_idmap *row)
{
	struct res r = { 0 };

	assert_int_equal(db_idmap_find_gw(t->st, gw, map_cb, &r), DB_OK);
	run_until(t, &r.called, 1);
	if (row != NULL)
		*row = r.row;
	return r.st;
}

static enum db_status
done_sync(struct tctx *t, struct res *r)
{
	run_until(t, &r->called, 1);
	assert_int_equal(r->called, 1);
	return r->st;
}

/* ---- tests ---- */

static void
test_migrate(void **state)
{
	struct tctx *t = *state;
	struct capture c;
	char *log, err[256];

	capture_start(&c, t);
	open_store(t);
	reopen(t);
	reopen(t);
	log = capture_stop(&c);
	/* Applied once, from empty; the re-opens do nothing. */
	assert_int_equal(count_substr(log, "db migrate"), 1);
	assert_non_null(strstr(log, "- db migrate backend="));
	snprintf(err, sizeof(err), " from=0 to=%d", db_schema_version());
	assert_non_null(strstr(log, err));	/* every step, one line */
	free(log);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM schema_version"), 1);
	assert_int_equal(raw_int(t, "SELECT MAX(version) FROM schema_version"),
	    db_schema_version());
	assert_int_equal(put_sync(t, "gw-1", "smsc1", "abc", 1), DB_OK);

	/* A database from the future is refused, and left alone. */
	db_store_close(t->st);
	t->st = NULL;
	raw_exec(t, "UPDATE schema_version SET version = 99");
	assert_null(db_store_open(t->base, t->dsn, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "99"));
	assert_int_equal(raw_int(t, "SELECT MAX(version) FROM schema_version"),
	    99);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), 1);
	raw_exec(t, "UPDATE schema_version SET version = 1");
	open_store(t);
}

static void
test_smsc_key(void **state)
{
	struct db_smsc_key k;
	char long_id[DB_ID_MAX + 2];

	(void)state;
	assert_int_equal(db_smsc_id_key("1A2B", &k), DB_OK);
	assert_string_equal(k.folded, "1a2b");
	assert_true(k.has_hex);
	assert_false(k.has_dec);
	assert_int_equal(k.hex, 0x1a2b);
	assert_int_equal(db_smsc_id_key("006699", &k), DB_OK);
	assert_true(k.has_hex && k.has_dec);
	assert_int_equal(k.hex, 0x6699);
	assert_int_equal(k.dec, 6699);
	/* 2^64 does not fit: no decimal reading, still a hex one? no: 20
	 * digits are too many for 64 bits of hex too. */
	assert_int_equal(db_smsc_id_key("18446744073709551616", &k), DB_OK);
	assert_false(k.has_dec);
	assert_false(k.has_hex);
	assert_int_equal(db_smsc_id_key("18446744073709551615", &k), DB_OK);
	assert_true(k.has_dec);
	assert_true(k.dec == UINT64_MAX);
	assert_int_equal(db_smsc_id_key("00000000000000000000ffffffffffffffff",
	    &k), DB_OK);
	assert_true(k.has_hex);
	assert_true(k.hex == UINT64_MAX);
	assert_int_equal(db_smsc_id_key("550E8400-E29B", &k), DB_OK);
	assert_string_equal(k.folded, "550e8400-e29b");
	assert_false(k.has_hex || k.has_dec);
	assert_int_equal(db_smsc_id_key("", &k), DB_EINVAL);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(db_smsc_id_key(long_id, &k), DB_EINVAL);
	long_id[DB_ID_MAX] = '\0';
	assert_int_equal(db_smsc_id_key(long_id, &k), DB_OK);
}

static void
test_idmap_put_find(void **state)
{
	struct tctx *t = *state;
	struct db_idmap m, row;
	char long_id[DB_ID_MAX + 2], long_gw[DB_ID_MAX + 1];
	struct res r[3] = { { 0 } };
	int n = 0;

	open_store(t);
	/* A hex id from submit_sm_resp; the receipt may say it in decimal,
	 * other case, or with leading zeros. */
	assert_int_equal(put_sync(t, "gw-hex", "smsc1", "1A2B3C", 100), DB_OK);
	assert_string_equal(find_smsc(t, "smsc1", "1A2B3C"), "gw-hex");
	assert_string_equal(find_smsc(t, "smsc1", "1a2b3c"), "gw-hex");
	assert_string_equal(find_smsc(t, "smsc1", "001a2B3c"), "gw-hex");
	assert_string_equal(find_smsc(t, "smsc1", "1715004"), "gw-hex");
	assert_string_equal(find_smsc(t, "smsc2", "1A2B3C"), "");
	assert_string_equal(find_smsc(t, "smsc1", "1A2B3D"), "");

	/* A decimal id; the receipt carries it in hex. */
	assert_int_equal(put_sync(t, "gw-dec", "smsc1", "6699", 101), DB_OK);
	assert_string_equal(find_smsc(t, "smsc1", "6699"), "gw-dec");
	assert_string_equal(find_smsc(t, "smsc1", "1A2B"), "gw-dec");
	assert_string_equal(find_smsc(t, "smsc1", "0006699"), "gw-dec");

	/* The exact form beats a numeric coincidence: "64" hex is 100. */
	assert_int_equal(put_sync(t, "gw-100", "smsc2", "100", 102), DB_OK);
	assert_int_equal(put_sync(t, "gw-64", "smsc2", "64", 103), DB_OK);
	assert_string_equal(find_smsc(t, "smsc2", "100"), "gw-100");
	assert_string_equal(find_smsc(t, "smsc2", "64"), "gw-64");

	/* UUIDs: case-folded only. */
	assert_int_equal(put_sync(t, "gw-uuid", "smsc3",
	    "550e8400-e29b-41d4-a716-446655440000", 104), DB_OK);
	assert_string_equal(find_smsc(t, "smsc3",
	    "550E8400-E29B-41D4-A716-446655440000"), "gw-uuid");
	assert_string_equal(find_smsc(t, "smsc3",
	    "550e8400-e29b-41d4-a716-446655440001"), "");

	/* Longest ids (64) pass; 65 is refused at submit. */
	memset(long_id, 'Z', sizeof(long_id) - 1);
	long_id[DB_ID_MAX] = '\0';
	memset(long_gw, 'g', sizeof(long_gw) - 1);
	long_gw[DB_ID_MAX] = '\0';
	assert_int_equal(put_sync(t, long_gw, "smsc3", long_id, 105), DB_OK);
	long_id[0] = 'z';
	assert_string_equal(find_smsc(t, "smsc3", long_id), long_gw);
	assert_int_equal(find_gw(t, long_gw, &row), DB_OK);
	assert_int_equal(strlen(row.smsc_id), DB_ID_MAX);
	long_id[DB_ID_MAX] = 'Z';
	assert_int_equal(db_idmap_find_smsc(t->st, "smsc3", long_id, map_cb,
	    &r[0]), DB_EINVAL);
	make_map(&m, "gw-x", "smsc3", "abc", 1);
	memset(m.gateway_id, 'g', sizeof(m.gateway_id));
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[0]), DB_EINVAL);
	make_map(&m, "", "smsc3", "abc", 1);
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[0]), DB_EINVAL);
	assert_int_equal(r[0].called, 0);

	/* Every field comes back as written. */
	assert_int_equal(find_gw(t, "gw-hex", &row), DB_OK);
	assert_string_equal(row.gateway_id, "gw-hex");
	assert_string_equal(row.link, "smsc1");
	assert_string_equal(row.smsc_id, "1A2B3C");
	assert_string_equal(row.account, "demo");
	assert_string_equal(row.source_addr, "Sealgate");
	assert_string_equal(row.dest_addr, "4915112345678");
	assert_int_equal(row.registered_delivery, 1);
	assert_int_equal(row.state, 1);
	assert_int_equal(row.submitted_at, 100);
	assert_int_equal(row.done_at, 0);
	assert_int_equal(find_gw(t, "gw-none", NULL), DB_NOTFOUND);

	/* A duplicate gateway id fails alone; its batch mates commit. */
	make_map(&m, "gw-a", "smsc4", "a1", 1);
	r[0].counter = r[1].counter = r[2].counter = &n;
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[0]), DB_OK);
	make_map(&m, "gw-hex", "smsc4", "a2", 1);
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[1]), DB_OK);
	make_map(&m, "gw-b", "smsc4", "a3", 1);
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[2]), DB_OK);
	run_until(t, &n, 3);
	assert_int_equal(r[0].st, DB_OK);
	assert_int_equal(r[1].st, DB_EFAIL);
	assert_int_equal(r[2].st, DB_OK);
	assert_string_equal(find_smsc(t, "smsc4", "A1"), "gw-a");
	assert_string_equal(find_smsc(t, "smsc4", "A3"), "gw-b");
	assert_string_equal(find_smsc(t, "smsc4", "A2"), "");
	assert_int_equal(find_gw(t, "gw-hex", &row), DB_OK);
	assert_string_equal(row.link, "smsc1");

	/* Survives a re-open. */
	reopen(t);
	assert_string_equal(find_smsc(t, "smsc1", "1715004"), "gw-hex");
}

static void
test_idmap_close_purge(void **state)
{
	struct tctx *t = *state;
	struct db_idmap row;
	struct res r;
	char gw[16];

	open_store(t);
	for (int i = 0; i < 5; i++) {
		snprintf(gw, sizeof(gw), "gw-%d", i);
		assert_int_equal(put_sync(t, gw, "smsc1", gw + 3, 10 + i),
		    DB_OK);
	}
	for (int i = 0; i < 3; i++) {
		memset(&r, 0, sizeof(r));
		snprintf(gw, sizeof(gw), "gw-%d", i);
		assert_int_equal(db_idmap_close(t->st, gw, 2, 1000 * (i + 1),
		    done_cb, &r), DB_OK);
		assert_int_equal(done_sync(t, &r), DB_OK);
		assert_int_equal(r.value, 1);
	}
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_idmap_close(t->st, "gw-0", 5, 9999, done_cb, &r),
	    DB_OK);
	assert_int_equal(done_sync(t, &r), DB_NOTFOUND);	/* closed once */
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_idmap_close(t->st, "gw-x", 5, 9999, done_cb, &r),
	    DB_OK);
	assert_int_equal(done_sync(t, &r), DB_NOTFOUND);
	assert_int_equal(db_idmap_close(t->st, "gw-x", 5, 0, done_cb, &r),
	    DB_EINVAL);
	assert_int_equal(find_gw(t, "gw-1", &row), DB_OK);
	assert_int_equal(row.state, 2);
	assert_int_equal(row.done_at, 2000);

	/* Purge closed rows older than 2500, one per call. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_idmap_purge(t->st, 2500, 1, done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_OK);
	assert_int_equal(r.value, 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_idmap_purge(t->st, 2500, 10, done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_OK);
	assert_int_equal(r.value, 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_idmap_purge(t->st, 2500, 10, done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_OK);
	assert_int_equal(r.value, 0);
	assert_int_equal(find_gw(t, "gw-0", NULL), DB_NOTFOUND);
	assert_int_equal(find_gw(t, "gw-1", NULL), DB_NOTFOUND);
	assert_int_equal(find_gw(t, "gw-2", NULL), DB_OK);	/* 3000 */
	assert_int_equal(find_gw(t, "gw-3", NULL), DB_OK);	/* open */
	assert_int_equal(find_gw(t, "gw-4", NULL), DB_OK);
	assert_string_equal(find_smsc(t, "smsc1", "3"), "gw-3");
}

/* Receipts in a burst: many finds, then many closes, each burst in one
 * batch (MariaDB runs them as multi-key and array-bound statements). */
static void
test_batched_receipts(void **state)
{
	struct tctx *t = *state;
	static const struct {
		const char *link, *smsc, *want;
	} finds[] = {
		{ "l1", "ABC1", "r0" }, { "l1", "abc1", "r0" },
		{ "l2", "abc1", "r1" }, { "l1", "43969", "r0" },
		{ "l1", "nope", "" }, { "l3", "abc1", "" },
		{ "l1", "00ABC1", "r0" }, { "l2", "uuid-X", "r2" },
		{ "l1", "6699", "r3" }, { "l1", "1a2b", "r3" },
		{ "l2", "ABC1", "r1" }, { "l1", "r-old", "r5" },
	};
	enum { NF = sizeof(finds) / sizeof(finds[0]) };
	static const char *const closes[] = {
		"r0", "r1", "r0", "r2", "nope", "r3", "r4",
	};
	static const enum db_status close_want[] = {
		DB_OK, DB_OK, DB_NOTFOUND, DB_OK, DB_NOTFOUND, DB_OK, DB_OK,
	};
	enum { NC = sizeof(closes) / sizeof(closes[0]) };
	struct res r[NF + NC];
	struct db_idmap row;
	int n = 0;

	open_store(t);
	assert_int_equal(put_sync(t, "r0", "l1", "abc1", 10), DB_OK);
	assert_int_equal(put_sync(t, "r1", "l2", "ABC1", 11), DB_OK);
	assert_int_equal(put_sync(t, "r2", "l2", "UUID-x", 12), DB_OK);
	assert_int_equal(put_sync(t, "r3", "l1", "6699", 13), DB_OK);
	assert_int_equal(put_sync(t, "r4", "l3", "x", 14), DB_OK);
	/* An SMSC that reused an id: the open, newest row wins. */
	assert_int_equal(put_sync(t, "r5", "l1", "R-OLD", 15), DB_OK);
	assert_int_equal(put_sync(t, "r6", "l1", "r-old", 5), DB_OK);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < NF; i++) {
		r[i].counter = &n;
		assert_int_equal(db_idmap_find_smsc(t->st, finds[i].link,
		    finds[i].smsc, map_cb, &r[i]), DB_OK);
	}
	run_until(t, &n, NF);
	for (int i = 0; i < NF; i++) {
		if (finds[i].want[0] == '\0') {
			assert_int_equal(r[i].st, DB_NOTFOUND);
			continue;
		}
		assert_int_equal(r[i].st, DB_OK);
		assert_string_equal(r[i].row.gateway_id, finds[i].want);
	}
	n = 0;
	for (int i = 0; i < NC; i++) {
		r[NF + i].counter = &n;
		assert_int_equal(db_idmap_close(t->st, closes[i], 2, 100 + i,
		    done_cb, &r[NF + i]), DB_OK);
	}
	run_until(t, &n, NC);
	for (int i = 0; i < NC; i++)
		assert_int_equal(r[NF + i].st, close_want[i]);
	assert_int_equal(find_gw(t, "r0", &row), DB_OK);
	assert_int_equal(row.done_at, 100);	/* the first close */
	assert_int_equal(find_gw(t, "r4", &row), DB_OK);
	assert_int_equal(row.done_at, 106);
	assert_int_equal(find_gw(t, "r5", &row), DB_OK);
	assert_int_equal(row.done_at, 0);
	/* Closed now: a newer closed row loses to an older open one. */
	assert_int_equal(put_sync(t, "r7", "l1", "ABC1", 1), DB_OK);
	assert_string_equal(find_smsc(t, "l1", "abc1"), "r7");
}

static void
push_sync(struct tctx *t, const char *acct, int kind, uint8_t fill,
    size_t len, int64_t *id)
{
	uint8_t *pdu = malloc(len);
	struct res r = { 0 };

	assert_non_null(pdu);
	memset(pdu, fill, len);
	pdu[len - 1] = (uint8_t)(fill + 1);
	assert_int_equal(db_pending_push(t->st, acct, kind, pdu, len, 5,
	    done_cb, &r), DB_OK);
	free(pdu);		/* copied at submit */
	assert_int_equal(done_sync(t, &r), DB_OK);
	assert_true(r.value > 0);
	*id = r.value;
}

static int64_t
count_sync(struct tctx *t, const char *acct)
{
	struct res r = { 0 };

	assert_int_equal(db_pending_count(t->st, acct, done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_OK);
	return r.value;
}

static void
fetch_sync(struct tctx *t, const char *acct, int64_t after, unsigned max,
    struct res *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(db_pending_fetch(t->st, acct, after, max, pending_cb,
	    r), DB_OK);
	run_until(t, &r->called, 1);
	assert_int_equal(r->st, DB_OK);
}

static void
test_pending(void **state)
{
	struct tctx *t = *state;
	int64_t a[6], b[3], prev = 0;
	struct res r;
	uint8_t one = 1;

	open_store(t);
	/* Interleaved accounts; ids increase in push order. */
	for (int i = 0; i < 5; i++) {
		push_sync(t, "alice", i % 2 ? DB_PENDING_MO : DB_PENDING_RECEIPT,
		    (uint8_t)(0x10 + i), 20 + (size_t)i, &a[i]);
		assert_true(a[i] > prev);
		prev = a[i];
		if (i < 3) {
			push_sync(t, "bob", DB_PENDING_RECEIPT,
			    (uint8_t)(0x40 + i), 30, &b[i]);
			assert_true(b[i] > prev);
			prev = b[i];
		}
	}
	push_sync(t, "alice", DB_PENDING_MO, 0x77, DB_PDU_MAX, &a[5]);
	assert_int_equal(count_sync(t, "alice"), 6);
	assert_int_equal(count_sync(t, "bob"), 3);
	assert_int_equal(count_sync(t, NULL), 9);
	assert_int_equal(count_sync(t, "carol"), 0);

	fetch_sync(t, "alice", 0, 3, &r);
	assert_int_equal(r.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.ids[i], a[i]);
		assert_int_equal(r.kinds[i], i % 2 ? DB_PENDING_MO :
		    DB_PENDING_RECEIPT);
		assert_int_equal(r.lens[i], 20 + i);
		assert_int_equal(r.first[i], 0x10 + i);
		assert_int_equal(r.last[i], 0x11 + i);
	}
	fetch_sync(t, "alice", r.ids[2], 10, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ids[0], a[3]);
	assert_int_equal(r.ids[2], a[5]);
	assert_int_equal(r.lens[2], DB_PDU_MAX);
	assert_int_equal(r.first[2], 0x77);
	assert_int_equal(r.last[2], 0x78);
	fetch_sync(t, "alice", a[5], 10, &r);
	assert_int_equal(r.n, 0);

	/* Delete after the ESME's ROK; order of the rest holds. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_pending_delete(t->st, a[1], done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_OK);
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_pending_delete(t->st, a[1], done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_NOTFOUND);
	assert_int_equal(count_sync(t, "alice"), 5);
	fetch_sync(t, "alice", 0, 10, &r);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.ids[0], a[0]);
	assert_int_equal(r.ids[1], a[2]);
	assert_int_equal(r.ids[4], a[5]);
	fetch_sync(t, "bob", 0, 10, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ids[0], b[0]);
	assert_int_equal(r.ids[2], b[2]);

	/* Ids never go back, even after the newest row is deleted. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_pending_delete(t->st, a[5], done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_OK);
	reopen(t);
	push_sync(t, "alice", DB_PENDING_RECEIPT, 1, 10, &prev);
	assert_true(prev > a[5]);

	assert_int_equal(db_pending_push(t->st, "alice", DB_PENDING_MO, &one, 0,
	    1, done_cb, &r), DB_EINVAL);
	assert_int_equal(db_pending_push(t->st, "alice", 9, &one, 1, 1,
	    done_cb, &r), DB_EINVAL);
	assert_int_equal(db_pending_fetch(t->st, "alice", 0, 0, pending_cb,
	    &r), DB_EINVAL);
}

/* Submits n puts (gateway ids PREFIX0.., SMSC ids hex from smsc0) in
 * one pass of the loop; their callbacks count into *counter. */
static void
put_many(struct tctx *t, const char *prefix, unsigned smsc0, int n,
    struct res *r, int *counter)
{
	struct db_idmap m;

	for (int i = 0; i < n; i++) {
		char gw[16], smsc[16];

		snprintf(gw, sizeof(gw), "%s%d", prefix, i);
		snprintf(smsc, sizeof(smsc), "%X", smsc0 + (unsigned)i);
		make_map(&m, gw, "smsc1", smsc, i);
		r[i].counter = counter;
		assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[i]),
		    DB_OK);
	}
}

static void
test_group_commit(void **state)
{
	struct tctx *t = *state;
	enum { N = 1000 };
	struct db_store_opts o;
	struct db_store_stats st;
	struct res *r = calloc(N, sizeof(*r));
	int n = 0;

	assert_non_null(r);
	db_store_opts_default(&o);
	o.queue_max = 2 * N;
	t->st = open_opts(t, t->dsn, &o);
	put_many(t, "g", 0x100000, N, r, &n);
	/* No callback runs inside a submit or before the loop runs. */
	assert_int_equal(n, 0);
	run_until(t, &n, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].called, 1);
		assert_int_equal(r[i].st, DB_OK);
	}
	db_store_stats(t->st, &st);
	fprintf(stderr, "group commit: %d jobs in %" PRIu64 " transactions,"
	    " largest %" PRIu64 "\n", N, st.batches, st.batch_max);
	assert_true(st.batches < N / 2);
	assert_true(st.batch_max > 1);
	assert_int_equal(st.jobs, N);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), N);
	/* A sample, found through the decimal of the hex id. */
	assert_string_equal(find_smsc(t, "smsc1", "1049076"), "g500");
	free(r);
}

/* Jobs submitted during one pass of the loop wake the worker once, at
 * the end of the pass, and go as one transaction (not one per wake-up
 * of a worker that started on the first). */
static void
test_batch_per_pass(void **state)
{
	struct tctx *t = *state;
	enum { N = 200 };
	struct db_store_stats st;
	struct res *r = calloc(N, sizeof(*r));
	int n = 0;

	assert_non_null(r);
	open_store(t);
	usleep(20000);		/* the worker thread is up and waiting */
	put_many(t, "p", 0x200000, N, r, &n);
	run_until(t, &n, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].st, DB_OK);
	db_store_stats(t->st, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.batch_max, N);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), N);
	free(r);
}

/* A close (nothing waits on it) does not wake the worker: alone it is
 * committed once it has waited ~10 ms; next to a put it rides in the
 * put's transaction. Either way it is committed and answered. */
static void
test_lazy_close(void **state)
{
	struct tctx *t = *state;
	struct db_store_stats st0, st1;
	struct res put = { 0 }, cl = { 0 };
	struct db_idmap m, row;
	uint64_t t0, waited;
	int n = 0;

	open_store(t);
	for (int i = 0; i < 2; i++) {
		char gw[16];

		snprintf(gw, sizeof(gw), "z%d", i);
		make_map(&m, gw, "smsc1", i == 0 ? "AA01" : "AA02", i);
		put.counter = &n;
		assert_int_equal(db_idmap_put(t->st, &m, done_cb, &put),
		    DB_OK);
	}
	run_until(t, &n, 2);
	assert_int_equal(put.st, DB_OK);
	usleep(30000);		/* the worker's ticks end: it sleeps */

	t0 = ms_now();
	assert_int_equal(db_idmap_close(t->st, "z0", 2, 1234, done_cb, &cl),
	    DB_OK);
	run_until(t, &cl.called, 1);
	waited = ms_now() - t0;
	assert_int_equal(cl.st, DB_OK);
	assert_true(waited >= 8);
	assert_int_equal(find_gw(t, "z0", &row), DB_OK);
	assert_int_equal(row.state, 2);
	assert_int_equal(row.done_at, 1234);

	if (strcmp(db_store_backend(t->st), "sqlite") != 0)
		return;		/* MariaDB runs closes on a lane of their own */
	usleep(30000);
	db_store_stats(t->st, &st0);
	memset(&cl, 0, sizeof(cl));
	memset(&put, 0, sizeof(put));
	n = 0;
	cl.counter = put.counter = &n;
	assert_int_equal(db_idmap_close(t->st, "z1", 3, 2345, done_cb, &cl),
	    DB_OK);
	make_map(&m, "z2", "smsc1", "AA03", 2);
	assert_int_equal(db_idmap_put(t->st, &m, done_cb, &put), DB_OK);
	run_until(t, &n, 2);
	assert_int_equal(cl.st, DB_OK);
	assert_int_equal(put.st, DB_OK);
	db_store_stats(t->st, &st1);
	assert_int_equal(st1.batches, st0.batches + 1);
	assert_int_equal(find_gw(t, "z1", &row), DB_OK);
	assert_int_equal(row.state, 3);
}

static void
test_backpressure(void **state)
{
	struct tctx *t = *state;
	struct db_store_opts o;
	struct db_store_stats st;
	struct res r[12] = { { 0 } };
	struct db_idmap m;
	int n = 0;

	db_store_opts_default(&o);
	o.queue_max = 10;
	t->st = open_opts(t, t->dsn, &o);
	for (int i = 0; i < 11; i++) {
		char gw[16];

		snprintf(gw, sizeof(gw), "g%d", i);
		make_map(&m, gw, "smsc1", gw, i);
		r[i].counter = &n;
		assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[i]),
		    i < 10 ? DB_OK : DB_EBUSY);
	}
	/* Pings count too: everything accepted counts until its callback. */
	assert_int_equal(db_store_ping(t->st, done_cb, &r[11]), DB_EBUSY);
	db_store_stats(t->st, &st);
	assert_int_equal(st.busy, 2);
	assert_int_equal(st.in_flight, 10);
	run_until(t, &n, 10);
	assert_int_equal(r[10].called, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(r[i].st, DB_OK);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), 10);
	/* Room again once the callbacks ran. */
	assert_int_equal(put_sync(t, "g10", "smsc1", "g10", 10), DB_OK);
}

static void
test_close_drains(void **state)
{
	struct tctx *t = *state;
	enum { N = 500 };
	struct res *r = calloc(N + 1, sizeof(*r));
	struct db_idmap m;
	int n = 0;
	uint8_t pdu[40];

	assert_non_null(r);
	open_store(t);
	memset(pdu, 0xab, sizeof(pdu));
	for (int i = 0; i < N; i++) {
		char gw[16];

		snprintf(gw, sizeof(gw), "g%d", i);
		make_map(&m, gw, "smsc1", gw, i);
		r[i].counter = &n;
		assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[i]),
		    DB_OK);
	}
	r[N].counter = &n;
	assert_int_equal(db_pending_push(t->st, "alice", DB_PENDING_MO, pdu,
	    sizeof(pdu), 1, done_cb, &r[N]), DB_OK);
	/* Close without running the loop: every callback runs in it. */
	db_store_close(t->st);
	t->st = NULL;
	assert_int_equal(n, N + 1);
	for (int i = 0; i <= N; i++) {
		assert_int_equal(r[i].called, 1);
		assert_int_equal(r[i].st, DB_OK);
	}
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), N);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM pending"), 1);
	open_store(t);
	assert_int_equal(find_gw(t, "g499", NULL), DB_OK);
	free(r);
}

/* The child of the kill -9 test: writes n rows, waits for their
 * callbacks, says "committed" on fd, then keeps writing until killed. */
static void
kill9_child(const char *dsn, int n, int fd)
{
	struct event_base *base = event_base_new();
	char err[256];
	struct db_store *s;
	struct db_idmap m;
	int done = 0, bad = 0;
	struct res r;

	s = db_store_open(base, dsn, NULL, err, sizeof(err));
	if (base == NULL || s == NULL)
		_exit(2);
	memset(&r, 0, sizeof(r));
	r.counter = &done;
	for (int i = 0; i < n; i++) {
		char gw[16];

		snprintf(gw, sizeof(gw), "k%d", i);
		make_map(&m, gw, "smsc1", gw, i);
		if (db_idmap_put(s, &m, done_cb, &r) != DB_OK)
			_exit(3);
	}
	while (done < n)
		event_base_loop(base, EVLOOP_ONCE);
	if (r.st != DB_OK)
		bad = 1;
	(void)!write(fd, bad ? "failed\n" : "committed\n", bad ? 7 : 10);
	/* More writes in flight when the kill lands; bounded in case the
	 * parent dies first. */
	for (int i = 0; i < 2000000; i++) {
		char gw[16];

		snprintf(gw, sizeof(gw), "more%d", i);
		make_map(&m, gw, "smsc1", gw, i);
		if (db_idmap_put(s, &m, done_cb, &r) != DB_OK)
			event_base_loop(base, EVLOOP_ONCE);
		if (i % 100 == 0)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	_exit(0);
}

static void
kill9_run(struct tctx *t, const char *dsn)
{
	enum { N = 300 };
	int p[2], status;
	char buf[32] = "";
	ssize_t got;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		kill9_child(dsn, N, p[1]);
	}
	close(p[1]);
	got = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	usleep(20000);		/* let it be busy writing more */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(got > 0);
	assert_string_equal(buf, "committed\n");

	t->st = open_opts(t, dsn, NULL);
	for (int i = 0; i < N; i++) {
		char gw[16];

		snprintf(gw, sizeof(gw), "k%d", i);
		assert_int_equal(find_gw(t, gw, NULL), DB_OK);
	}
	assert_true(raw_int(t, "SELECT COUNT(*) FROM idmap WHERE gateway_id"
	    " LIKE 'k%'") == N);
	fprintf(stderr, "kill -9: %d committed rows kept, %lld rows in all\n",
	    N, raw_int(t, "SELECT COUNT(*) FROM idmap"));
	db_store_close(t->st);
	t->st = NULL;
}

static void
test_kill9(void **state)
{
	struct tctx *t = *state;
	char dsn[600];

	kill9_run(t, t->dsn);
	if (!t->be->mariadb) {
		/* synchronous=NORMAL still writes the WAL before COMMIT
		 * returns: only a power cut could lose it, not kill -9. */
		raw_exec(t, "DELETE FROM idmap");
		snprintf(dsn, sizeof(dsn), "%s?sync=normal", t->dsn);
		kill9_run(t, dsn);
	}
}

static void
test_ping_stats(void **state)
{
	struct tctx *t = *state;
	struct db_store_stats st;
	struct res r = { 0 };

	open_store(t);
	assert_int_equal(db_store_ping(t->st, done_cb, &r), DB_OK);
	assert_int_equal(done_sync(t, &r), DB_OK);
	assert_int_equal(put_sync(t, "a", "l", "1", 1), DB_OK);
	assert_int_equal(put_sync(t, "a", "l", "2", 1), DB_EFAIL);
	db_store_stats(t->st, &st);
	assert_int_equal(st.connected, 1);
	assert_int_equal(st.jobs, 3);
	assert_int_equal(st.job_errors, 1);
	assert_int_equal(st.batches, 3);
	assert_int_equal(st.batch_hist[0], 3);
	assert_int_equal(st.batch_last, 1);
	assert_true(st.commit_us_max > 0);
	assert_true(st.commit_us_sum >= st.commit_us_max);
	assert_int_equal(st.disconnects, 0);
	assert_string_equal(db_status_name(DB_EBUSY), "busy");
	assert_string_equal(db_status_name(DB_EUNAVAIL), "unavailable");
}

/*
 * SQLite's ?sync=: which commits are fsync'ed. The default (messages):
 * a commit with a queued message is, one of id-map jobs only is not;
 * full: every commit that writes; normal: none. Counted by the store
 * (sealgate_storage_synced_batches_total).
 */
static uint64_t
synced_batches(struct tctx *t)
{
	struct db_store_stats st;

	db_store_stats(t->st, &st);
	return st.batches_synced;
}

/* Closes the store and opens it again with ?sync=mode. */
static void
reopen_sync(struct tctx *t, const char *mode)
{
	char dsn[600];

	db_store_close(t->st);
	snprintf(dsn, sizeof(dsn), "%s?sync=%s", t->dsn, mode);
	t->st = open_opts(t, dsn, NULL);
}

static void
test_sync_modes(void **state)
{
	struct tctx *t = *state;
	int64_t id;

	open_store(t);			/* no option: messages */
	assert_int_equal(put_sync(t, "s1", "l", "1", 1), DB_OK);
	assert_int_equal(synced_batches(t), 0);
	push_sync(t, "acct", 1, 'a', 40, &id);
	assert_int_equal(synced_batches(t), 1);
	assert_int_equal(put_sync(t, "s2", "l", "2", 1), DB_OK);
	assert_int_equal(synced_batches(t), 1);
	push_sync(t, "acct", 1, 'b', 40, &id);
	assert_int_equal(synced_batches(t), 2);

	reopen_sync(t, "messages");
	assert_int_equal(put_sync(t, "s3", "l", "3", 1), DB_OK);
	push_sync(t, "acct", 1, 'c', 40, &id);
	assert_int_equal(synced_batches(t), 1);

	reopen_sync(t, "full");
	assert_int_equal(put_sync(t, "s4", "l", "4", 1), DB_OK);
	assert_int_equal(synced_batches(t), 1);

	reopen_sync(t, "normal");
	push_sync(t, "acct", 1, 'd', 40, &id);
	assert_int_equal(put_sync(t, "s5", "l", "5", 1), DB_OK);
	assert_int_equal(synced_batches(t), 0);
	/* Whatever the mode, every commit is there. */
	for (int i = 1; i <= 5; i++) {
		char gw[8];

		snprintf(gw, sizeof(gw), "s%d", i);
		assert_int_equal(find_gw(t, gw, NULL), DB_OK);
	}
	assert_int_equal(count_sync(t, "acct"), 4);
	db_store_close(t->st);
	t->st = NULL;
}

/* Size of the store's file with suffix ("" or "-wal"); -1 if absent. */
static long long
sqlite_file_size(struct tctx *t, const char *suffix)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/store.db%s", t->dir, suffix);
	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/*
 * SQLite: checkpoints run on the backend's own thread, not in the
 * worker's COMMIT. Many batches take the WAL past the checkpointer's mark
 * (128 pages at sync=messages, the default, and normal; 1000 at full),
 * far below the worker's bound (32768): the database file grows while
 * the store is open, which only a checkpoint does. The WAL
 * file stays small (SQLite starts it over once a checkpoint copied all of
 * it), and every row is there after close (which empties the WAL) and
 * reopen.
 */
static void
test_checkpointer(void **state)
{
	struct tctx *t = *state;
	enum { ROUNDS = 80, PER = 500, N = ROUNDS * PER };
	struct res *r = calloc(PER, sizeof(*r));
	long long db0, db1 = 0, wal, wal_max = 0;
	struct db_idmap m;
	uint64_t end;

	assert_non_null(r);
	open_store(t);
	db0 = sqlite_file_size(t, "");
	for (int round = 0; round < ROUNDS; round++) {
		int n = 0;

		memset(r, 0, PER * sizeof(*r));
		for (int i = 0; i < PER; i++) {
			char gw[16], smsc[24];
			int k = round * PER + i;

			snprintf(gw, sizeof(gw), "c%d", k);
			/* Scattered ids: index pages all over the file. */
			snprintf(smsc, sizeof(smsc), "%08X",
			    (unsigned)k * 2654435761u);
			make_map(&m, gw, "smsc1", smsc, k);
			r[i].counter = &n;
			assert_int_equal(db_idmap_put(t->st, &m, done_cb,
			    &r[i]), DB_OK);
		}
		run_until(t, &n, PER);
		for (int i = 0; i < PER; i++)
			assert_int_equal(r[i].st, DB_OK);
		if ((wal = sqlite_file_size(t, "-wal")) > wal_max)
			wal_max = wal;
	}
	/* The checkpointer runs beside the worker: give it time. */
	end = ms_now() + 10000;
	while ((db1 = sqlite_file_size(t, "")) < db0 + 1024 * 1024 &&
	    ms_now() < end)
		usleep(10000);
	fprintf(stderr, "checkpointer: %d rows, db file %lld -> %lld bytes,"
	    " largest WAL %lld bytes\n", N, db0, db1, wal_max);
	assert_true(db1 >= db0 + 1024 * 1024);
	/* These batches write far more WAL frames (~300 MiB) than the
	 * worker's bound (128 MiB): a WAL never started over would reach it.
	 * Started over after 16384 pages (64 MiB) plus a pass, it stays
	 * under ~80 MiB. */
	assert_true(wal_max < 100LL * 1024 * 1024);

	db_store_close(t->st);
	t->st = NULL;
	wal = sqlite_file_size(t, "-wal");
	assert_true(wal <= 0);
	open_store(t);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), N);
	assert_int_equal(find_gw(t, "c0", NULL), DB_OK);
	assert_int_equal(find_gw(t, "c39999", NULL), DB_OK);
	assert_string_equal(find_smsc(t, "smsc1", "9E3779B1"), "c1");
	free(r);
}

static void
test_bad_dsn(void **state)
{
	struct tctx *t = *state;
	struct capture c;
	char err[256], *log;
	static const char *const bad[] = {
		"", "sqlite:", "mariadb://u:p@127.0.0.1:99999/db",
		"mariadb://u:p@127.0.0.1:3306", "mariadb://u:p@127.0.0.1/",
		"mariadb://u:p%zz@127.0.0.1/db",
		"mariadb://u:p@127.0.0.1/db?ssl=1",
		"sqlite:/nonexistent-dir/x/y.db",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(db_store_open(t->base, bad[i], NULL, err,
		    sizeof(err)));
		assert_true(err[0] != '\0');
	}
	/* SQLite options: a misspelt one is refused, not taken as part of
	 * the file name (no such file is made, the good file untouched). */
	if (!t->be->mariadb) {
		static const char *const opts[] = {
			"?sync=fulll", "?sync=", "?foo=1", "?",
		};
		char dsn[600];
		struct stat sb;

		open_store(t);
		assert_int_equal(put_sync(t, "keep", "l", "1", 1), DB_OK);
		db_store_close(t->st);
		t->st = NULL;
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
			snprintf(dsn, sizeof(dsn), "%s%s", t->dsn, opts[i]);
			err[0] = '\0';
			assert_null(db_store_open(t->base, dsn, NULL, err,
			    sizeof(err)));
			assert_non_null(strstr(err, "unknown option"));
			assert_non_null(strstr(err, "?sync=messages"));
			snprintf(dsn, sizeof(dsn), "%s/store.db%s", t->dir,
			    opts[i]);
			assert_int_equal(stat(dsn, &sb), -1);
		}
		open_store(t);
		assert_int_equal(find_gw(t, "keep", NULL), DB_OK);
		db_store_close(t->st);
		t->st = NULL;
	}
	/* Nobody listens on port 1: the error names the server, never the
	 * password, and neither does the log. */
	capture_start(&c, t);
	assert_null(db_store_open(t->base,
	    "mariadb://sg:S3cr%40tPw@127.0.0.1:1/sealgate_test", NULL, err,
	    sizeof(err)));
	log = capture_stop(&c);
	assert_non_null(strstr(err, "127.0.0.1:1"));
	assert_null(strstr(err, "S3cr"));
	assert_null(strstr(log, "S3cr"));
	free(log);
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

/* A store on MariaDB through a proxy the test can cut (px), quick to
 * reconnect. */
static void
open_proxied(struct tctx *t, struct proxy *px)
{
	struct db_store_opts o;
	char dsn[600];

	px_start(px, (int)t->srv.port);
	snprintf(dsn, sizeof(dsn), "mariadb://%s:%s@127.0.0.1:%d/%s",
	    t->srv.user, t->srv.pass, px->port, t->srv.db);
	db_store_opts_default(&o);
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 200;
	o.timeout_s = 2;
	t->st = open_opts(t, dsn, &o);
}

static void
test_down_and_back(void **state)
{
	struct tctx *t = *state;
	struct db_store_stats st;
	struct proxy px;
	struct capture c;
	char *log, gw[32];
	uint64_t t0, end;
	int ok_at = -1;

	open_proxied(t, &px);
	assert_int_equal(put_sync(t, "up-1", "smsc1", "1", 1), DB_OK);

	/* Cut while idle, restore: the next batch meets a dead connection,
	 * reconnects and runs again, and the caller sees only success. */
	px_cmd(&px, 'c');
	px_cmd(&px, 'r');
	assert_int_equal(put_sync(t, "up-2", "smsc1", "2", 2), DB_OK);
	db_store_stats(t->st, &st);
	assert_int_equal(st.disconnects, 1);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(st.job_errors, 0);

	capture_start(&c, t);
	px_cmd(&px, 'c');
	t0 = ms_now();
	/* Down: transient failures, promptly, never a false OK. */
	assert_int_equal(put_sync(t, "down-1", "smsc1", "3", 3), DB_EUNAVAIL);
	assert_int_equal(put_sync(t, "down-2", "smsc1", "4", 4), DB_EUNAVAIL);
	assert_int_equal(find_gw(t, "up-1", NULL), DB_EUNAVAIL);
	assert_true(ms_now() - t0 < 1500);
	db_store_stats(t->st, &st);
	assert_int_equal(st.connected, 0);
	assert_int_equal(st.disconnects, 2);
	usleep(300000);		/* a few reconnect attempts, still down */
	assert_int_equal(put_sync(t, "down-3", "smsc1", "5", 5), DB_EUNAVAIL);

	/* Back: the store finds it by itself. */
	px_cmd(&px, 'r');
	end = ms_now() + 10000;
	for (int i = 0; ms_now() < end; i++) {
		enum db_status s;

		snprintf(gw, sizeof(gw), "back-%d", i);
		s = put_sync(t, gw, "smsc1", gw, 6);
		if (s == DB_OK) {
			ok_at = i;
			break;
		}
		assert_int_equal(s, DB_EUNAVAIL);
		usleep(20000);
	}
	log = capture_stop(&c);
	assert_true(ok_at >= 0);
	db_store_stats(t->st, &st);
	assert_int_equal(st.connected, 1);
	assert_int_equal(st.reconnects, 2);
	/* One line per state change, not one per failed attempt. */
	assert_int_equal(count_substr(log, "- db disconnected backend=mariadb"
	    " reason="), 1);
	assert_int_equal(count_substr(log, "- db reconnected backend=mariadb"),
	    1);
	free(log);

	assert_int_equal(find_gw(t, "up-1", NULL), DB_OK);
	assert_int_equal(find_gw(t, "up-2", NULL), DB_OK);
	assert_int_equal(find_gw(t, gw, NULL), DB_OK);
	assert_int_equal(find_gw(t, "down-1", NULL), DB_NOTFOUND);
	assert_int_equal(find_gw(t, "down-2", NULL), DB_NOTFOUND);
	assert_int_equal(find_gw(t, "down-3", NULL), DB_NOTFOUND);

	/* Closing while down: accepted jobs still get their callback. */
	px_cmd(&px, 'c');
	{
		struct res r = { 0 };
		struct db_idmap m;

		make_map(&m, "late", "smsc1", "late", 1);
		assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r), DB_OK);
		db_store_close(t->st);
		t->st = NULL;
		assert_int_equal(r.called, 1);
		assert_true(r.st == DB_EUNAVAIL || r.st == DB_OK);
	}
	px_stop(&px);
}

/*
 * MariaDB: the id-map closes run on a connection of their own (store.c,
 * lanes). The server sees two connections of the store; closes and puts
 * submitted interleaved each get their own answer and every row ends
 * with its own state and time; the closes' connection, cut while idle,
 * is found dead by the next close, which reconnects (logged for lane 1)
 * and runs without the caller seeing an error.
 */
static void
test_close_lane(void **state)
{
	struct tctx *t = *state;
	enum { N = 300 };
	struct proxy px;
	struct capture c;
	struct db_idmap m;
	struct res *r, one = { 0 };
	char gw[32], sql[200], *log;
	int n = 0;

	open_proxied(t, &px);
	/* the store's two and the one asking */
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM"
	    " information_schema.processlist WHERE db = DATABASE()"), 3);

	assert_non_null(r = calloc(3 * N, sizeof(*r)));
	for (int i = 0; i < N; i++) {
		snprintf(gw, sizeof(gw), "lane-%d", i);
		make_map(&m, gw, "l1", gw, 10 + i);
		r[i].counter = &n;
		assert_int_equal(db_idmap_put(t->st, &m, done_cb, &r[i]),
		    DB_OK);
	}
	run_until(t, &n, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].st, DB_OK);
	/* closes of the first N, puts of N more, interleaved */
	n = 0;
	for (int i = 0; i < N; i++) {
		snprintf(gw, sizeof(gw), "lane-%d", i);
		r[N + i].counter = &n;
		assert_int_equal(db_idmap_close(t->st, gw, 2 + i % 3,
		    1000 + i, done_cb, &r[N + i]), DB_OK);
		snprintf(gw, sizeof(gw), "lane-%d", N + i);
		make_map(&m, gw, "l1", gw, 10 + N + i);
		r[2 * N + i].counter = &n;
		assert_int_equal(db_idmap_put(t->st, &m, done_cb,
		    &r[2 * N + i]), DB_OK);
	}
	run_until(t, &n, 2 * N);
	for (int i = N; i < 3 * N; i++) {
		assert_int_equal(r[i].called, 1);
		assert_int_equal(r[i].st, DB_OK);
	}
	free(r);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap"), 2 * N);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM idmap WHERE"
	    " done_at = 1000 + CAST(SUBSTRING(gateway_id, 6) AS INT) AND"
	    " state = 2 + CAST(SUBSTRING(gateway_id, 6) AS INT) %% 3");
	assert_int_equal(raw_int(t, sql), N);
	assert_int_equal(raw_int(t, "SELECT COUNT(*) FROM idmap WHERE"
	    " done_at IS NULL"), N);

	/* Cut both connections while idle, restore: a close alone finds
	 * its connection dead and reconnects it. */
	px_cmd(&px, 'c');
	px_cmd(&px, 'r');
	capture_start(&c, t);
	assert_int_equal(db_idmap_close(t->st, "lane-300", 7, 5000, done_cb,
	    &one), DB_OK);
	assert_int_equal(done_sync(t, &one), DB_OK);
	log = capture_stop(&c);
	assert_int_equal(count_substr(log, "- db reconnected backend=mariadb"
	    " lane=1"), 1);
	assert_int_equal(count_substr(log, "- db disconnected backend=mariadb"
	    " lane=1 reason="), 1);
	free(log);
	assert_int_equal(raw_int(t, "SELECT done_at FROM idmap WHERE"
	    " gateway_id = 'lane-300'"), 5000);
	assert_int_equal(put_sync(t, "lane-x", "l1", "x", 1), DB_OK);
	db_store_close(t->st);
	t->st = NULL;
	px_stop(&px);
}

/*
 * MariaDB: a server that comes back without our tables (recreated,
 * restored from elsewhere) is migrated again when the store reconnects,
 * and the job that met the lost connection then runs on the new tables.
 */
static void
test_reconnect_migrates(void **state)
{
	struct tctx *t = *state;
	struct proxy px;
	struct capture c;
	char want[64], *log;

	open_proxied(t, &px);
	assert_int_equal(put_sync(t, "m-1", "smsc1", "1", 1), DB_OK);
	raw_exec(t, "DROP TABLE idmap, pending, kv, schema_version");
	px_cmd(&px, 'c');
	px_cmd(&px, 'r');
	capture_start(&c, t);
	assert_int_equal(put_sync(t, "m-2", "smsc1", "2", 2), DB_OK);
	log = capture_stop(&c);
	snprintf(want, sizeof(want), "db migrate backend=mariadb from=0 to=%d",
	    db_schema_version());
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "db reconnected backend=mariadb"));
	free(log);
	assert_int_equal(raw_int(t, "SELECT MAX(version) FROM schema_version"),
	    db_schema_version());
	assert_int_equal(find_gw(t, "m-2", NULL), DB_OK);
	assert_int_equal(find_gw(t, "m-1", NULL), DB_NOTFOUND);
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
		cmocka_unit_test(test_smsc_key),
		BOTH(test_bad_dsn),
		BOTH(test_migrate),
		BOTH(test_idmap_put_find),
		BOTH(test_idmap_close_purge),
		BOTH(test_batched_receipts),
		BOTH(test_pending),
		BOTH(test_group_commit),
		BOTH(test_batch_per_pass),
		BOTH(test_lazy_close),
		BOTH(test_backpressure),
		BOTH(test_close_drains),
		BOTH(test_kill9),
		BOTH(test_ping_stats),
		BOTH(test_sync_modes),
		BOTH(test_checkpointer),
	};
#undef BE
#define BE &be_mariadb
	const struct CMUnitTest mariadb_tests[] = {
		BOTH(test_migrate),
		BOTH(test_idmap_put_find),
		BOTH(test_idmap_close_purge),
		BOTH(test_batched_receipts),
		BOTH(test_pending),
		BOTH(test_group_commit),
		BOTH(test_batch_per_pass),
		BOTH(test_lazy_close),
		BOTH(test_backpressure),
		BOTH(test_close_drains),
		BOTH(test_kill9),
		BOTH(test_ping_stats),
		BOTH(test_down_and_back),
		BOTH(test_close_lane),
		BOTH(test_reconnect_migrates),
	};
#undef BE

	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("db_store_sqlite", sqlite_tests, NULL,
	    NULL);
	if (server_from_env(&srv) != 0) {
		printf("note: SG_TEST_MARIADB_DSN is not set: MariaDB tests"
		    " skipped (tests/run.sh starts a server and sets it)\n");
		return rc;
	}
	rc |= cmocka_run_group_tests_name("db_store_mariadb", mariadb_tests,
	    NULL, NULL);
	return rc;
}
