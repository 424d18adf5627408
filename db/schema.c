/*
 * Schema migrations, per backend. Each step brings the database from
 * version-1 to version; the applied version sits in the one-row table
 * schema_version. db_schema_migrate() runs at open: it applies the steps
 * the database lacks, does nothing on an up-to-date database, and refuses
 * a database newer than this code (an older sealgate must not write rows
 * a newer one laid out differently).
 *
 * SQLite runs the whole migration in one BEGIN IMMEDIATE transaction
 * (DDL is transactional there). MariaDB commits each DDL statement by
 * itself, so its statements are written to be re-runnable (IF NOT
 * EXISTS) and the backend holds GET_LOCK while migrating, so two gateways
 * starting together do not race.
 *
 * Adding a version: append a step to both arrays, never edit an old one.
 */
#include <stdio.h>

#include "schema.h"
#include "smpp/log.h"

#define SCHEMA_VERSION 4

static const char *const sqlite_v1[] = {
	"CREATE TABLE IF NOT EXISTS idmap ("
	" gateway_id TEXT NOT NULL PRIMARY KEY,"
	" link TEXT NOT NULL,"
	" smsc_id TEXT NOT NULL,"
	" smsc_key TEXT NOT NULL,"
	" smsc_hex INTEGER,"
	" smsc_dec INTEGER,"
	" account TEXT NOT NULL,"
	" source_addr TEXT NOT NULL,"
	" dest_addr TEXT NOT NULL,"
	" registered_delivery INTEGER NOT NULL,"
	" state INTEGER NOT NULL,"
	" submitted_at INTEGER NOT NULL,"
	" done_at INTEGER"
	") WITHOUT ROWID",
	/* Partial indexes: most ids have only one numeric reading. */
	"CREATE INDEX IF NOT EXISTS idmap_key ON idmap(link, smsc_key)",
	"CREATE INDEX IF NOT EXISTS idmap_hex ON idmap(link, smsc_hex)"
	" WHERE smsc_hex IS NOT NULL",
	"CREATE INDEX IF NOT EXISTS idmap_dec ON idmap(link, smsc_dec)"
	" WHERE smsc_dec IS NOT NULL",
	"CREATE INDEX IF NOT EXISTS idmap_done ON idmap(done_at)"
	" WHERE done_at IS NOT NULL",
	/* AUTOINCREMENT: ids never reused, so "id > after_id" paging holds. */
	"CREATE TABLE IF NOT EXISTS pending ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account TEXT NOT NULL,"
	" kind INTEGER NOT NULL,"
	" pdu BLOB NOT NULL,"
	" created_at INTEGER NOT NULL)",
	"CREATE INDEX IF NOT EXISTS pending_account ON pending(account, id)",
	NULL,
};

static const char *const mariadb_v1[] = {
	/* VARBINARY: ids and names are bytes compared exactly; folding is
	 * done by us into smsc_key, not by a collation. */
	"CREATE TABLE IF NOT EXISTS idmap ("
	" gateway_id VARBINARY(64) NOT NULL PRIMARY KEY,"
	" link VARBINARY(32) NOT NULL,"
	" smsc_id VARBINARY(64) NOT NULL,"
	" smsc_key VARBINARY(64) NOT NULL,"
	" smsc_hex BIGINT NULL,"
	" smsc_dec BIGINT NULL,"
	" account VARBINARY(32) NOT NULL,"
	" source_addr VARBINARY(32) NOT NULL,"
	" dest_addr VARBINARY(32) NOT NULL,"
	" registered_delivery TINYINT UNSIGNED NOT NULL,"
	" state INT NOT NULL,"
	" submitted_at BIGINT NOT NULL,"
	" done_at BIGINT NULL,"
	" KEY idmap_key (link, smsc_key),"
	" KEY idmap_hex (link, smsc_hex),"
	" KEY idmap_dec (link, smsc_dec),"
	" KEY idmap_done (done_at)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS pending ("
	" id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
	" account VARBINARY(32) NOT NULL,"
	" kind TINYINT NOT NULL,"
	" pdu MEDIUMBLOB NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" KEY pending_account (account, id)"
	") ENGINE=InnoDB",
	NULL,
};

/*
 * v2: the secure pipeline's records (db_kv_*), one table for every kind
 * (tbl), and an index for db_idmap_purge_open. kv is a rowid table: its
 * rows may hold up to 512 KiB, too big for WITHOUT ROWID. rkey, not key:
 * KEY is reserved in MariaDB. Text columns compare bytewise (BINARY),
 * as VARBINARY does on MariaDB, so both order keys alike.
 */
static const char *const sqlite_v2[] = {
	"CREATE TABLE IF NOT EXISTS kv ("
	" tbl INTEGER NOT NULL,"
	" rkey TEXT NOT NULL,"
	" idx1 TEXT NOT NULL,"
	" idx2 TEXT NOT NULL,"
	" sort INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" version INTEGER NOT NULL,"
	" data BLOB NOT NULL,"
	" PRIMARY KEY (tbl, rkey))",
	"CREATE INDEX IF NOT EXISTS kv_idx1 ON kv(tbl, idx1, sort, rkey)",
	"CREATE INDEX IF NOT EXISTS kv_idx2 ON kv(tbl, idx2, sort, rkey)",
	"CREATE INDEX IF NOT EXISTS kv_expires ON kv(tbl, expires_at, rkey)"
	" WHERE expires_at > 0",
	"CREATE INDEX IF NOT EXISTS idmap_open ON idmap(submitted_at)"
	" WHERE done_at IS NULL",
	NULL,
};

static const char *const mariadb_v2[] = {
	"CREATE TABLE IF NOT EXISTS kv ("
	" tbl TINYINT UNSIGNED NOT NULL,"
	" rkey VARBINARY(128) NOT NULL,"
	" idx1 VARBINARY(96) NOT NULL,"
	" idx2 VARBINARY(96) NOT NULL,"
	" sort BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" version BIGINT NOT NULL,"
	" data MEDIUMBLOB NOT NULL,"
	" PRIMARY KEY (tbl, rkey),"
	" KEY kv_idx1 (tbl, idx1, sort, rkey),"
	" KEY kv_idx2 (tbl, idx2, sort, rkey),"
	" KEY kv_expires (tbl, expires_at, rkey)"
	") ENGINE=InnoDB",
	"CREATE INDEX IF NOT EXISTS idmap_open ON idmap (done_at,"
	" submitted_at)",
	NULL,
};

/*
 * v3: on MariaDB idmap_done (done_at) goes: idmap_open (done_at,
 * submitted_at) serves the closed purge's "done_at < ?" as well, and one
 * secondary index fewer is one B-tree write fewer per put and per close
 * (the server's per-row work is what bounds a MariaDB gateway: its CPU a
 * message went down ~10% in bench_gw). SQLite keeps its two partial
 * indexes, which do not overlap; its step only moves the version.
 */
static const char *const sqlite_v3[] = {
	NULL,
};

static const char *const mariadb_v3[] = {
	"DROP INDEX IF EXISTS idmap_done ON idmap",
	NULL,
};

/*
 * v4: on SQLite idmap_key holds only the ids without a hex reading
 * (UUIDs, ids with other characters, more than 16 significant digits).
 * An id with one is found by it (idmap_hex, same value: the exact id
 * among them), so its idmap_key entry was a second copy: one B-tree
 * fewer per put, about 1.6 of the 8.5 WAL pages a commit of puts and
 * closes writes (measured on the bench's traffic), and so fewer
 * checkpoint pages too. Lookups keep their order (store_sqlite.c), so a
 * row an older sealgate wrote is found as before. MariaDB has no
 * partial indexes; its step only moves the version.
 */
static const char *const sqlite_v4[] = {
	"DROP INDEX IF EXISTS idmap_key",
	"CREATE INDEX IF NOT EXISTS idmap_key ON idmap(link, smsc_key)"
	" WHERE smsc_hex IS NULL",
	NULL,
};

static const char *const mariadb_v4[] = {
	NULL,
};

static const struct db_migration sqlite_steps[] = {
	{ 1, sqlite_v1 },
	{ 2, sqlite_v2 },
	{ 3, sqlite_v3 },
	{ 4, sqlite_v4 },
};
static const struct db_migration mariadb_steps[] = {
	{ 1, mariadb_v1 },
	{ 2, mariadb_v2 },
	{ 3, mariadb_v3 },
	{ 4, mariadb_v4 },
};

int
db_schema_version(void)
{
	return SCHEMA_VERSION;
}

int
db_schema_migrate(const struct db_schema_io *io, void *be, int mariadb,
    char *err, size_t errlen)
{
	const struct db_migration *steps = mariadb ? mariadb_steps : sqlite_steps;
	size_t n = mariadb ? sizeof(mariadb_steps) / sizeof(mariadb_steps[0]) :
	    sizeof(sqlite_steps) / sizeof(sqlite_steps[0]);
	int have = 0;

	if (io->exec(be, mariadb ? "BEGIN" : "BEGIN IMMEDIATE", err, errlen) ||
	    io->exec(be, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version INT NOT NULL)", err, errlen) ||
	    io->version(be, &have, err, errlen))
		goto fail;
	if (have > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema version %d is newer than"
		    " this program's %d: upgrade sealgate (refusing to touch it)",
		    have, SCHEMA_VERSION);
		goto fail;
	}
	if (have == SCHEMA_VERSION)
		return io->exec(be, "COMMIT", err, errlen);
	for (size_t i = 0; i < n; i++) {
		char sql[80];

		if (steps[i].version <= have)
			continue;
		for (const char *const *s = steps[i].sql; *s != NULL; s++)
			if (io->exec(be, *s, err, errlen))
				goto fail;
		/* One row, whatever was there (an empty table reads as 0). */
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version"
		    " (version) VALUES (%d)", steps[i].version);
		if (io->exec(be, "DELETE FROM schema_version", err, errlen) ||
		    io->exec(be, sql, err, errlen))
			goto fail;
	}
	if (io->exec(be, "COMMIT", err, errlen))
		return -1;
	/* One line per open that migrated, however many steps it took. */
	smpp_log(SMPP_LOG_INFO, "-", "db", "migrate", "backend=%s from=%d"
	    " to=%d", mariadb ? "mariadb" : "sqlite", have, SCHEMA_VERSION);
	return 0;
fail:
	{
		char ignore[8];

		io->exec(be, "ROLLBACK", ignore, sizeof(ignore));
	}
	return -1;
}
