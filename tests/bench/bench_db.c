/*
 * bench_db: id-map throughput through the async store API with group
 * commit, as the gateway will drive it: submit until DB_EBUSY, run the
 * loop, repeat. Two phases per run: N puts (the mapping committed before
 * submit_sm_resp), then N receipts (find by (link, SMSC id), and a close
 * from the find's callback). Medians of --runs runs, for SQLite
 * (synchronous FULL and NORMAL) and MariaDB.
 *
 * The kv case: --kv-n secure-pipeline writes, each a db_kv_write of two
 * inserts (a message and its copy for one device, 1 KiB each, as
 * secure/ stores an accepted message), submitted the same way; each run
 * stops submitting after 15 s, so a slow disk cannot make it run away.
 * --kv-only skips the id-map phases.
 *
 *   bench_db [-n N] [--runs R] [--dir DIR] [--sqlite-only]
 *            [--kv-n N] [--kv-only]
 *            [--mariadb-script tests/mariadb.sh --mariadb-dir DIR]
 *
 * MariaDB: SG_TEST_MARIADB_DSN if set; else, with --mariadb-script, the
 * bench starts a private server in --mariadb-dir and stops it at the end;
 * else MariaDB is skipped with a note.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <mysql.h>

#include "db/store.h"
#include "smpp/log.h"

struct bench {
	struct event_base *base;
	struct db_store *st;
	int done, errors, closes;
	int n;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
put_cb(void *ctx, enum db_status st, int64_t v)
{
	struct bench *b = ctx;

	(void)v;
	b->done++;
	if (st != DB_OK)
		b->errors++;
}

static void
close_cb(void *ctx, enum db_status st, int64_t v)
{
	struct bench *b = ctx;

	(void)v;
	b->closes++;
	if (st != DB_OK)
		b->errors++;
}

static void
find_cb(void *ctx, enum db_status st, const struct db_idmap *row)
{
	struct bench *b = ctx;

	b->done++;
	if (st != DB_OK) {
		b->errors++;
		b->closes++;	/* none will come */
		return;
	}
	/* Room was made by this job's own callback; a refusal here would
	 * be a bug in the bound accounting. */
	if (db_idmap_close(b->st, row->gateway_id, 2, 2, close_cb, b) != DB_OK) {
		b->errors++;
		b->closes++;	/* none will come */
	}
}

/* Submits job i (phase 0 put, 1 find); 0 accepted, -1 busy. */
static int
submit(struct bench *b, int phase, int run, int i)
{
	char smsc[24];
	enum db_status st;

	/* Runs share one link: the SMSC id carries the run number. */
	snprintf(smsc, sizeof(smsc), "%X", 0x10000000 + run * 0x1000000 + i);
	if (phase == 0) {
		struct db_idmap m;

		memset(&m, 0, sizeof(m));
		snprintf(m.gateway_id, sizeof(m.gateway_id), "%02d%014x", run,
		    i);
		snprintf(m.link, sizeof(m.link), "smsc1");
		memcpy(m.smsc_id, smsc, sizeof(smsc));
		snprintf(m.account, sizeof(m.account), "demo");
		snprintf(m.source_addr, sizeof(m.source_addr), "Sealgate");
		snprintf(m.dest_addr, sizeof(m.dest_addr), "49151%08d", i);
		m.registered_delivery = 1;
		m.state = 1;
		m.submitted_at = 1700000000000LL + i;
		st = db_idmap_put(b->st, &m, put_cb, b);
	} else {
		st = db_idmap_find_smsc(b->st, "smsc1", smsc, find_cb, b);
	}
	if (st == DB_EBUSY)
		return -1;
	if (st != DB_OK) {
		fprintf(stderr, "submit: %s\n", db_status_name(st));
		exit(1);
	}
	return 0;
}

static double
phase_run(struct bench *b, int phase, int run)
{
	double t0 = now_s();
	int next = 0;

	b->done = b->closes = 0;
	while (b->done < b->n || (phase == 1 && b->closes < b->done)) {
		while (next < b->n && submit(b, phase, run, next) == 0)
			next++;
		event_base_loop(b->base, EVLOOP_ONCE);
	}
	return now_s() - t0;
}

/* ---- kv ---- */

#define KV_DATA 1024		/* bytes per record */
#define KV_RUN_S 15.0		/* submitting stops after this */

static void
kv_cb(void *ctx, enum db_status st, int64_t v)
{
	struct bench *b = ctx;

	(void)v;
	b->done++;
	if (st != DB_OK)
		b->errors++;
}

/* Submits kv write i of run; 0 accepted, -1 busy. */
static int
kv_submit(struct bench *b, int run, int i, const uint8_t *data)
{
	char mkey[32], ckey[32], acct[16], dev[16];
	struct db_kv_op ops[2];
	enum db_status st;

	snprintf(mkey, sizeof(mkey), "m%02d-%08d", run, i);
	snprintf(ckey, sizeof(ckey), "c%02d-%08d", run, i);
	snprintf(acct, sizeof(acct), "acct%03d", i % 100);
	snprintf(dev, sizeof(dev), "dev%04d", i % 1000);
	memset(ops, 0, sizeof(ops));
	ops[0].op = ops[1].op = DB_KV_PUT;
	ops[0].table = DB_KV_MSG;
	ops[0].key = mkey;
	ops[0].idx1 = acct;
	ops[1].table = DB_KV_COPY;
	ops[1].key = ckey;
	ops[1].idx1 = mkey;
	ops[1].idx2 = dev;
	for (int k = 0; k < 2; k++) {
		ops[k].sort = 1700000000000LL + i;
		ops[k].expires_at = 1700086400000LL + i;
		ops[k].expect = 0;
		ops[k].data = data;
		ops[k].len = KV_DATA;
	}
	st = db_kv_write(b->st, ops, 2, kv_cb, b);
	if (st == DB_EBUSY)
		return -1;
	if (st != DB_OK) {
		fprintf(stderr, "kv submit: %s\n", db_status_name(st));
		exit(1);
	}
	return 0;
}

/* One kv run: returns the writes done, their time in *secs. */
static int
kv_run(struct bench *b, int run, int n, double *secs)
{
	uint8_t data[KV_DATA];
	double t0 = now_s();
	int next = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);	/* not compressible */
	b->done = 0;
	while (b->done < next || next < n) {
		while (next < n && now_s() - t0 < KV_RUN_S &&
		    kv_submit(b, run, next, data) == 0)
			next++;
		if (next < n && now_s() - t0 >= KV_RUN_S)
			n = next;	/* out of time: finish what is queued */
		if (b->done < next)
			event_base_loop(b->base, EVLOOP_ONCE);
	}
	*secs = now_s() - t0;
	return b->done;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Runs the bench on dsn; prints one line per run and the medians. */
static int
bench_dsn(const char *label, const char *dsn, int n, int runs, int kv_n,
    int kv_only)
{
	double put[16], rcpt[16], full[16], kv[16];
	struct bench b;
	char err[256];

	memset(&b, 0, sizeof(b));
	b.n = n;
	b.base = event_base_new();
	b.st = db_store_open(b.base, dsn, NULL, err, sizeof(err));
	if (b.st == NULL) {
		fprintf(stderr, "%s: %s\n", label, err);
		return -1;
	}
	for (int r = 0; r < runs && kv_n > 0; r++) {
		struct db_store_stats st0, st1;
		double secs;
		int done;

		db_store_stats(b.st, &st0);
		done = kv_run(&b, r, kv_n, &secs);
		db_store_stats(b.st, &st1);
		kv[r] = done / secs;
		printf("%-16s kv run %d: %d writes (2 x %d B inserts) in %.2f s:"
		    " %8.0f writes/s  batches %" PRIu64 " avg %.0f"
		    "  commit avg %.2f ms  errors %d\n", label, r + 1, done,
		    KV_DATA, secs, kv[r], st1.batches - st0.batches,
		    (double)(st1.jobs - st0.jobs) /
		    (double)(st1.batches - st0.batches ? st1.batches - st0.batches
		    : 1),
		    (double)(st1.commit_us_sum - st0.commit_us_sum) / 1000.0 /
		    (double)(st1.batches - st0.batches ? st1.batches - st0.batches
		    : 1), b.errors);
		fflush(stdout);
	}
	if (kv_n > 0) {
		qsort(kv, (size_t)runs, sizeof(double), cmp_double);
		printf("%-16s kv MEDIAN of %d x %d: %.0f writes/s (%.0f records"
		    "/s)\n", label, runs, kv_n, kv[runs / 2], 2 * kv[runs / 2]);
	}
	for (int r = 0; r < runs && !kv_only; r++) {
		struct db_store_stats st0, st1;
		double tp, tr;

		db_store_stats(b.st, &st0);
		tp = phase_run(&b, 0, r);
		tr = phase_run(&b, 1, r);
		db_store_stats(b.st, &st1);
		put[r] = n / tp;
		rcpt[r] = n / tr;
		full[r] = n / (tp + tr);
		printf("%-16s run %d: puts %8.0f/s  receipts (find+close)"
		    " %8.0f/s  put+receipt %8.0f msg/s  batches %" PRIu64
		    " avg %.0f max %" PRIu64 " commit avg %.2f ms  errors %d\n",
		    label, r + 1, put[r], rcpt[r], full[r],
		    st1.batches - st0.batches,
		    (double)(st1.jobs - st0.jobs) /
		    (double)(st1.batches - st0.batches ? st1.batches - st0.batches
		    : 1), st1.batch_max,
		    (double)(st1.commit_us_sum - st0.commit_us_sum) / 1000.0 /
		    (double)(st1.batches - st0.batches ? st1.batches - st0.batches
		    : 1), b.errors);
		fflush(stdout);
	}
	if (kv_only)
		goto done;
	qsort(put, (size_t)runs, sizeof(double), cmp_double);
	qsort(rcpt, (size_t)runs, sizeof(double), cmp_double);
	qsort(full, (size_t)runs, sizeof(double), cmp_double);
	printf("%-16s MEDIAN of %d x %d: puts %.0f/s  receipts %.0f/s"
	    "  put+receipt %.0f msg/s\n", label, runs, n, put[runs / 2],
	    rcpt[runs / 2], full[runs / 2]);
done:
	db_store_close(b.st);
	event_base_free(b.base);
	return b.errors ? -1 : 0;
}

static int
mariadb_sql(const char *user, const char *pass, const char *host,
    unsigned port, const char *sql)
{
	MYSQL *m = mysql_init(NULL);
	int rc = -1;

	if (m != NULL && mysql_real_connect(m, host, user, pass, NULL, port,
	    NULL, 0) != NULL && mysql_query(m, sql) == 0)
		rc = 0;
	else if (m != NULL)
		fprintf(stderr, "mariadb: %s\n", mysql_error(m));
	mysql_close(m);
	return rc;
}

/* Reads SG_TEST_MARIADB_DSN from a tests/mariadb.sh env file. */
static int
dsn_from_envfile(const char *dir, char *out, size_t cap)
{
	char path[512], line[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/env", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *q;

		if (strncmp(line, "SG_TEST_MARIADB_DSN='", 21) != 0)
			continue;
		if ((q = strchr(line + 21, '\'')) != NULL) {
			*q = '\0';
			snprintf(out, cap, "%s", line + 21);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

int
main(int argc, char **argv)
{
	int n = 100000, runs = 3, sqlite_only = 0, started = 0, rc = 0;
	int kv_n = 20000, kv_only = 0;
	const char *dir = "/tmp", *script = NULL, *mdir = NULL;
	char dsn[600], base_dsn[600] = "", cmd[1200];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--sqlite-only") == 0)
			sqlite_only = 1;
		else if (strcmp(argv[i], "--kv-n") == 0 && i + 1 < argc)
			kv_n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--kv-only") == 0)
			kv_only = 1;
		else if (strcmp(argv[i], "--mariadb-script") == 0 && i + 1 < argc)
			script = argv[++i];
		else if (strcmp(argv[i], "--mariadb-dir") == 0 && i + 1 < argc)
			mdir = argv[++i];
		else {
			fprintf(stderr, "usage: bench_db [-n N] [--runs R]"
			    " [--dir DIR] [--sqlite-only] [--kv-n N] [--kv-only]"
			    " [--mariadb-script S --mariadb-dir D]\n");
			return 2;
		}
	}
	if (n < 1 || runs < 1 || runs > 16 || kv_n < 0 || (kv_only &&
	    kv_n == 0))
		return 2;
	smpp_log_init("bench_db", SMPP_LOG_WARN, 0);

	for (int sync = 0; sync < 2; sync++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/bench_db_%ld.db", dir,
		    (long)getpid());
		unlink(path);
		snprintf(dsn, sizeof(dsn), "sqlite:%s%s", path,
		    sync ? "?sync=normal" : "");
		if (bench_dsn(sync ? "sqlite normal" : "sqlite full", dsn, n,
		    runs, kv_n, kv_only) != 0)
			rc = 1;
		unlink(path);
		snprintf(cmd, sizeof(cmd), "%s-wal", path);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s-shm", path);
		unlink(cmd);
	}
	if (sqlite_only)
		return rc;

	if (getenv("SG_TEST_MARIADB_DSN") != NULL) {
		snprintf(base_dsn, sizeof(base_dsn), "%s",
		    getenv("SG_TEST_MARIADB_DSN"));
	} else if (script != NULL && mdir != NULL) {
		snprintf(cmd, sizeof(cmd), "bash '%s' start '%s' >&2", script,
		    mdir);
		if (system(cmd) != 0 || dsn_from_envfile(mdir, base_dsn,
		    sizeof(base_dsn)) != 0) {
			fprintf(stderr, "bench_db: could not start MariaDB\n");
			return 1;
		}
		started = 1;
	} else {
		printf("note: no SG_TEST_MARIADB_DSN and no --mariadb-script:"
		    " MariaDB skipped\n");
		return rc;
	}
	{
		char user[64], pass[64], host[64], db[64], sql[128];
		unsigned port;

		if (sscanf(base_dsn, "mariadb://%63[^:]:%63[^@]@%63[^:]:%u/%63s",
		    user, pass, host, &port, db) != 5) {
			fprintf(stderr, "bench_db: cannot read the DSN\n");
			rc = 1;
			goto out;
		}
		snprintf(db, sizeof(db), "sealgate_test_bench_%ld",
		    (long)getpid());
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
		if (mariadb_sql(user, pass, host, port, sql) != 0) {
			rc = 1;
			goto out;
		}
		snprintf(dsn, sizeof(dsn), "mariadb://%s:%s@%s:%u/%s", user,
		    pass, host, port, db);
		if (bench_dsn("mariadb", dsn, n, runs, kv_n, kv_only) != 0)
			rc = 1;
		snprintf(sql, sizeof(sql), "DROP DATABASE %s", db);
		mariadb_sql(user, pass, host, port, sql);
	}
out:
	if (started) {
		snprintf(cmd, sizeof(cmd), "bash '%s' stop '%s' >&2", script,
		    mdir);
		(void)!system(cmd);
	}
	return rc;
}
