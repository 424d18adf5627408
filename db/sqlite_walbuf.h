/*
 * The "sealgate-walbuf" SQLite VFS: the default VFS, with a transaction's
 * WAL appends written in one call (sqlite_walbuf.c says how and why).
 */
#ifndef SG_DB_SQLITE_WALBUF_H
#define SG_DB_SQLITE_WALBUF_H

/* Registers the VFS once (not as the default) and returns its name for
 * sqlite3_open_v2(); NULL if SQLite has no default VFS to wrap. Not
 * thread-safe: call it under the backend's pthread_once. */
const char *sqlite_walbuf_register(void);

#endif
