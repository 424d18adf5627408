/*
 * A SQLite VFS that gathers a transaction's WAL writes into one write(2).
 *
 * SQLite appends each WAL frame as two writes (its 24-byte header, then
 * the page), so a commit of seven pages costs fourteen pwrite(2) calls.
 * On a virtual machine where every system call is dear, they were a
 * large share of the storage worker's CPU at 10,000 msg/s (about a fifth
 * of it went when they did). This layer sits on the
 * platform's default VFS and, for WAL files only, copies contiguous
 * appends into a buffer that it writes out at once:
 *
 *   - after the page of a commit frame (a frame header whose "database
 *     size after commit" field is not zero, as the WAL file format
 *     defines it): the commit's own write call returns the write's
 *     error, so a failed write fails the COMMIT as before, and SQLite
 *     publishes the new frames in the wal-index only after that call;
 *   - before anything else touches the file (read, sync, truncate, size,
 *     close) or a write that does not follow on;
 *   - at the database file's shared-memory barrier, as a backstop: that
 *     is where SQLite publishes a new wal-index header, and frames must
 *     be in the file before another connection may read them. A commit
 *     never reaches it with frames still held; should a write fail
 *     there, the process stops (abort) rather than let readers see
 *     frames that are not on disk: SQLite's recovery at the next start
 *     then drops the unwritten transaction, whose submits were not yet
 *     answered.
 *
 * Database files, journals and everything else pass straight through.
 * The buffer is per open file; the backstop finds it through the thread
 * that wrote it (a connection is used by one thread at a time). A thread
 * holds at most one file's frames, and none once it releases a wal-index
 * lock (a transaction's end: what a rollback left is written then, where
 * no reader looks), so that pointer never outlives its transaction.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sqlite_walbuf.h"
#include "smpp/log.h"

/* Past this, a write goes through on its own: a large transaction
 * spilling its cache needs no help. The unix VFS writes at most 128 KiB
 * a call (it masks the length to 17 bits), so the buffer stays below. */
#define WALBUF_CAP	(96 * 1024)
#define WAL_HDR_SIZE	32
#define FRAME_HDR_SIZE	24

struct walbuf_file {
	sqlite3_file	 base;		/* pMethods: walbuf_io */
	sqlite3_file	*real;		/* the default VFS's file, after us */
	int		 is_wal;
	int		 commit_next;	/* a commit frame's header was written */
	unsigned char	*buf;		/* held appends, NULL until the first */
	int		 len;
	sqlite3_int64	 off;		/* file offset of buf[0] */
};

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *real_vfs;
static sqlite3_io_methods walbuf_io_v[3];	/* iVersion 1, 2, 3 */
static _Thread_local struct walbuf_file *held_here;

static int
walbuf_flush(struct walbuf_file *f)
{
	int rc;

	if (f->len == 0)
		return SQLITE_OK;
	rc = f->real->pMethods->xWrite(f->real, f->buf, f->len, f->off);
	/* On an error the frames are dropped: SQLite fails the transaction
	 * and writes them again, or others, at the same offsets. */
	f->len = 0;
	if (held_here == f)
		held_here = NULL;
	return rc;
}

static int
walbuf_close(sqlite3_file *file)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc = walbuf_flush(f), rc2;

	rc2 = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
walbuf_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc;

	if ((rc = walbuf_flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xRead(f->real, out, amt, off);
}

static int
walbuf_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	const unsigned char *p = data;
	int rc, commit;

	if (!f->is_wal)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (held_here != NULL && held_here != f &&
	    (rc = walbuf_flush(held_here)) != SQLITE_OK)
		return rc;
	if (f->len > 0 && (off != f->off + f->len ||
	    f->len + amt > WALBUF_CAP))
		if ((rc = walbuf_flush(f)) != SQLITE_OK)
			return rc;
	if (amt > WALBUF_CAP)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (f->buf == NULL && (f->buf = malloc(WALBUF_CAP)) == NULL)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	/* The page after a commit frame's header ends the commit. */
	commit = f->commit_next && amt != FRAME_HDR_SIZE;
	f->commit_next = amt == FRAME_HDR_SIZE && off >= WAL_HDR_SIZE &&
	    (p[4] | p[5] | p[6] | p[7]) != 0;
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, data, amt);
	f->len += amt;
	held_here = f;
	return commit ? walbuf_flush(f) : SQLITE_OK;
}

static int
walbuf_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc;

	if ((rc = walbuf_flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xTruncate(f->real, size);
}

static int
walbuf_sync(sqlite3_file *file, int flags)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc;

	if ((rc = walbuf_flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xSync(f->real, flags);
}

static int
walbuf_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc;

	if ((rc = walbuf_flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFileSize(f->real, size);
}

static int
walbuf_lock(sqlite3_file *file, int level)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xLock(f->real, level);
}

static int
walbuf_unlock(sqlite3_file *file, int level)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xUnlock(f->real, level);
}

static int
walbuf_check_lock(sqlite3_file *file, int *out)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
walbuf_file_control(sqlite3_file *file, int op, void *arg)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
walbuf_sector_size(sqlite3_file *file)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xSectorSize(f->real);
}

static int
walbuf_device(sqlite3_file *file)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int
walbuf_shm_map(sqlite3_file *file, int region, int size, int extend,
    void volatile **out)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int
walbuf_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	if ((flags & SQLITE_SHM_UNLOCK) && held_here != NULL)
		(void)walbuf_flush(held_here);
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void
walbuf_shm_barrier(sqlite3_file *file)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	if (held_here != NULL && walbuf_flush(held_here) != SQLITE_OK) {
		smpp_log(SMPP_LOG_ERR, "-", "db", "wal-write-failed",
		    "backend=sqlite at=barrier action=abort");
		abort();
	}
	f->real->pMethods->xShmBarrier(f->real);
}

static int
walbuf_shm_unmap(sqlite3_file *file, int delete)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xShmUnmap(f->real, delete);
}

static int
walbuf_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int
walbuf_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct walbuf_file *f = (struct walbuf_file *)file;

	return f->real->pMethods->xUnfetch(f->real, off, p);
}

/* The methods of version 3; sqlite_walbuf_register() makes the copies
 * that say 1 and 2, for a default VFS whose files offer less. */
static const sqlite3_io_methods walbuf_io = {
	3,
	walbuf_close, walbuf_read, walbuf_write, walbuf_truncate, walbuf_sync,
	walbuf_file_size, walbuf_lock, walbuf_unlock, walbuf_check_lock,
	walbuf_file_control, walbuf_sector_size, walbuf_device,
	walbuf_shm_map, walbuf_shm_lock, walbuf_shm_barrier, walbuf_shm_unmap,
	walbuf_fetch, walbuf_unfetch,
};

static int
walbuf_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
    int flags, int *out_flags)
{
	struct walbuf_file *f = (struct walbuf_file *)file;
	int rc, v;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		if (f->real->pMethods != NULL)
			f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return rc;
	}
	f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	v = f->real->pMethods->iVersion;
	f->base.pMethods = &walbuf_io_v[(v < 1 ? 1 : v > 3 ? 3 : v) - 1];
	return SQLITE_OK;
}

const char *
sqlite_walbuf_register(void)
{
	if (real_vfs != NULL)
		return walbuf_vfs.zName;
	if ((real_vfs = sqlite3_vfs_find(NULL)) == NULL)
		return NULL;
	for (int v = 0; v < 3; v++) {
		walbuf_io_v[v] = walbuf_io;
		walbuf_io_v[v].iVersion = v + 1;
	}
	walbuf_vfs = *real_vfs;
	walbuf_vfs.zName = "sealgate-walbuf";
	walbuf_vfs.szOsFile = (int)sizeof(struct walbuf_file) +
	    real_vfs->szOsFile;
	walbuf_vfs.pNext = NULL;
	walbuf_vfs.xOpen = walbuf_open;
	if (sqlite3_vfs_register(&walbuf_vfs, 0) != SQLITE_OK) {
		real_vfs = NULL;
		return NULL;
	}
	return walbuf_vfs.zName;
}
