/*
 * Secret files: see secretfile.h. The checks run on the opened file
 * (fstat after open with O_NOFOLLOW), so what is checked is what is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "secure/envelope.h"
#include "secure/secretfile.h"

/* base64 of 32 bytes is 44 characters; room for a newline and slack */
#define SECRET_FILE_MAX	128

int
sec_secret_read(const char *path, const char *what,
    uint8_t out[SEC_SECRET_LEN], char *err, size_t errlen)
{
	char buf[SECRET_FILE_MAX + 1];
	struct stat st;
	size_t got = 0, n;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return SEC_SECRET_ABSENT;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, want %u", path,
		    (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %04o, want 0600", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (got < sizeof(buf) - 1) {
		r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (got > 0 && buf[got - 1] == '\n')
		buf[--got] = '\0';
	if (got == 0 || got >= SECRET_FILE_MAX ||
	    sec_b64_decode(buf, out, SEC_SECRET_LEN, &n) != 0 ||
	    n != SEC_SECRET_LEN) {
		snprintf(err, errlen, "%s: not a %s (want 32 bytes as base64 "
		    "on one line)", path, what);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(out, SEC_SECRET_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

int
sec_secret_write(const char *path, const uint8_t secret[SEC_SECRET_LEN],
    char *err, size_t errlen)
{
	char line[64], *b64;
	size_t len, off;
	ssize_t w;
	int fd, rc = -1;

	if ((b64 = sec_b64_encode(secret, SEC_SECRET_LEN)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s\n", b64);
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (off = 0; off < len; off += (size_t)w) {
		w = write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	/* 0600 whatever the umask left; on disk before it is used */
	if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (rc != 0)
			unlink(path);
	}
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}
