/*
 * db/sqlite_walbuf: SQLite's WAL appends gathered into one write a
 * commit. Real files in a temp directory; the write calls are counted by
 * the kernel (syscw in /proc/thread-self/io), so a commit that still
 * wrote frame by frame fails the first test. The others check that
 * nothing committed is lost on the way: a second connection sees every
 * commit at once, a process killed without closing leaves every commit
 * it was told succeeded, and a write the file system refuses fails its
 * COMMIT (the rows before it intact, the next commit fine).
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db/sqlite_walbuf.h"

#define ROWS_PER_COMMIT	40	/* of ~300 bytes: several pages a commit */

struct fixture {
	char dir[256];
	char path[300];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/test_db_walbuf.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[320];

	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

/* A WAL database as the store opens it: NORMAL sync (no fsync per
 * commit) and no automatic checkpoint, so every write of a commit is
 * one of its WAL frames. vfs NULL: SQLite's default. */
static sqlite3 *
open_db(const char *path, const char *vfs)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	exec_ok(db, "PRAGMA journal_mode=WAL");
	exec_ok(db, "PRAGMA synchronous=NORMAL");
	exec_ok(db, "PRAGMA wal_autocheckpoint=0");
	exec_ok(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY,"
	    " k TEXT UNIQUE, v BLOB)");
	return db;
}

/* One transaction of ROWS_PER_COMMIT rows; SQLite's result code. */
static int
commit_rows(sqlite3 *db, int batch)
{
	char sql[256];
	int rc;

	exec_ok(db, "BEGIN IMMEDIATE");
	snprintf(sql, sizeof(sql), "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL"
	    " SELECT i + 1 FROM n WHERE i + 1 < %d) INSERT INTO t (k, v)"
	    " SELECT printf('b%d-%%d', i), randomblob(256) FROM n",
	    ROWS_PER_COMMIT, batch);
	exec_ok(db, sql);
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static long
count_rows(sqlite3 *db)
{
	sqlite3_stmt *st;
	long n;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
integrity_ok(sqlite3 *db)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

/* Write system calls of this thread so far (the kernel's count). */
static long
writes_so_far(void)
{
	FILE *fp = fopen("/proc/thread-self/io", "r");
	char line[128];
	long n = -1;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "syscw: %ld", &n) == 1)
			break;
	fclose(fp);
	assert_true(n >= 0);
	return n;
}

/* Most write calls any one of 20 commits made, through vfs. */
static long
most_writes_a_commit(const char *path, const char *vfs)
{
	sqlite3 *db = open_db(path, vfs);
	long most = 0;

	assert_int_equal(commit_rows(db, 0), SQLITE_OK);	/* WAL header */
	for (int i = 1; i <= 20; i++) {
		long before = writes_so_far(), n;

		assert_int_equal(commit_rows(db, i), SQLITE_OK);
		n = writes_so_far() - before;
		if (n > most)
			most = n;
	}
	assert_int_equal(count_rows(db), 21 * ROWS_PER_COMMIT);
	sqlite3_close(db);
	return most;
}

static void
test_one_write_a_commit(void **state)
{
	struct fixture *f = *state;
	const char *vfs = sqlite_walbuf_register();
	char plain[320];
	long gathered, unbuffered;

	assert_non_null(vfs);
	/* Registering again gives the same VFS; the default is untouched. */
	assert_string_equal(sqlite_walbuf_register(), vfs);
	assert_string_not_equal(sqlite3_vfs_find(NULL)->zName, vfs);
	gathered = most_writes_a_commit(f->path, vfs);
	snprintf(plain, sizeof(plain), "%s/plain.db", f->dir);
	unbuffered = most_writes_a_commit(plain, NULL);
	/* Frame by frame: two writes a page, several pages a commit. */
	assert_true(unbuffered >= 6);
	assert_int_equal(gathered, 1);
	snprintf(plain, sizeof(plain), "%s/plain.db-wal", f->dir);
	unlink(plain);
	snprintf(plain, sizeof(plain), "%s/plain.db-shm", f->dir);
	unlink(plain);
	snprintf(plain, sizeof(plain), "%s/plain.db", f->dir);
	unlink(plain);
}

/* Another connection (as the checkpointer has) sees each commit as soon
 * as COMMIT returned, and copies the WAL back into an intact file. */
static void
test_reader_sees_each_commit(void **state)
{
	struct fixture *f = *state;
	const char *vfs = sqlite_walbuf_register();
	sqlite3 *w = open_db(f->path, vfs), *r = open_db(f->path, vfs);

	for (int i = 0; i < 50; i++) {
		assert_int_equal(commit_rows(w, i), SQLITE_OK);
		assert_int_equal(count_rows(r), (long)(i + 1) * ROWS_PER_COMMIT);
		if (i % 10 == 9)
			assert_int_equal(sqlite3_wal_checkpoint_v2(r, NULL,
			    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL), SQLITE_OK);
	}
	integrity_ok(r);
	sqlite3_close(r);
	sqlite3_close(w);
}

/* A transaction too big for its page cache writes frames before its
 * COMMIT (a spill). Rolled back, none of them is seen, by the writer or
 * another connection, and the next commits go on from where the last
 * commit ended. */
static void
test_spilled_rollback(void **state)
{
	struct fixture *f = *state;
	const char *vfs = sqlite_walbuf_register();
	sqlite3 *w = open_db(f->path, vfs), *r = open_db(f->path, vfs);

	assert_int_equal(commit_rows(w, 0), SQLITE_OK);
	exec_ok(w, "PRAGMA cache_size=10");
	exec_ok(w, "BEGIN IMMEDIATE");
	exec_ok(w, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1"
	    " FROM n WHERE i < 2999) INSERT INTO t (k, v)"
	    " SELECT 'spill-' || i, randomblob(300) FROM n");
	exec_ok(w, "ROLLBACK");
	assert_int_equal(count_rows(w), ROWS_PER_COMMIT);
	assert_int_equal(count_rows(r), ROWS_PER_COMMIT);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(commit_rows(w, i), SQLITE_OK);
		assert_int_equal(count_rows(r), (long)(i + 1) * ROWS_PER_COMMIT);
	}
	integrity_ok(r);
	assert_int_equal(sqlite3_wal_checkpoint_v2(r, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL), SQLITE_OK);
	integrity_ok(w);
	sqlite3_close(r);
	sqlite3_close(w);
}

/* A writer killed without closing: every commit it saw succeed is in
 * the file when the next process opens it (SQLite recovers the WAL). */
static void
test_killed_writer_keeps_commits(void **state)
{
	struct fixture *f = *state;
	int st, fds[2];
	pid_t pid;
	char done = 0;
	ssize_t n;
	int commits = 0;
	sqlite3 *db;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *c;

		close(fds[0]);
		c = open_db(f->path, sqlite_walbuf_register());
		for (int i = 0; i < 1000; i++) {
			if (commit_rows(c, i) != SQLITE_OK)
				_exit(2);
			/* One byte per commit that succeeded. */
			if (write(fds[1], "c", 1) != 1)
				_exit(3);
		}
		_exit(0);
	}
	close(fds[1]);
	/* Let it commit a while, then kill it mid-stream. */
	while (commits < 200 && (n = read(fds[0], &done, 1)) == 1)
		commits++;
	kill(pid, SIGKILL);
	while ((n = read(fds[0], &done, 1)) == 1)
		commits++;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(commits >= 200);
	db = open_db(f->path, sqlite_walbuf_register());
	/* At least what it reported, at most the one commit after it. */
	assert_true(count_rows(db) >= (long)commits * ROWS_PER_COMMIT);
	assert_true(count_rows(db) <= (long)(commits + 1) * ROWS_PER_COMMIT);
	assert_int_equal(count_rows(db) % ROWS_PER_COMMIT, 0);
	integrity_ok(db);
	sqlite3_close(db);
}

/* The file system refuses the write (here: the file size limit, as a
 * full disk would): COMMIT fails with SQLite's I/O error, the rows
 * committed before are intact, and once there is room again the next
 * commit goes through. */
static void
test_refused_write_fails_commit(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = open_db(f->path, sqlite_walbuf_register());
	struct rlimit old, lim;
	struct stat sb;
	char wal[320];
	int rc;

	for (int i = 0; i < 5; i++)
		assert_int_equal(commit_rows(db, i), SQLITE_OK);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 1024;	/* not one more commit */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = commit_rows(db, 5);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc & 0xff, SQLITE_IOERR);
	assert_int_equal(count_rows(db), 5 * ROWS_PER_COMMIT);
	assert_int_equal(commit_rows(db, 6), SQLITE_OK);
	assert_int_equal(count_rows(db), 6 * ROWS_PER_COMMIT);
	integrity_ok(db);
	sqlite3_close(db);
	/* And from a fresh connection, after recovery. */
	db = open_db(f->path, NULL);
	assert_int_equal(count_rows(db), 6 * ROWS_PER_COMMIT);
	integrity_ok(db);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_write_a_commit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_sees_each_commit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_spilled_rollback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_writer_keeps_commits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_write_fails_commit,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
