/*
 * 32-byte secrets in files (the vault's key-encryption keys, the OTP
 * secret): base64 on one line, in a regular file owned by the running
 * user with no group or other bits, never reached through a symlink.
 * One reader and one writer, so the key ring and the OTP secret check
 * and write their files the same way.
 *
 * Return convention: 0, or -1 with a reason naming the file in err
 * (never the secret); sec_secret_read returns SEC_SECRET_ABSENT when the
 * file does not exist (err untouched). Output buffers are wiped on every
 * failure.
 */
#ifndef SEC_SECRETFILE_H
#define SEC_SECRETFILE_H

#include <stddef.h>
#include <stdint.h>

#define SEC_SECRET_LEN		32
#define SEC_SECRET_ABSENT	1

/* Reads path into out. what names the content in the error for a
 * malformed file ("key": "PATH: not a key (want 32 bytes as base64 on
 * one line)"). */
int sec_secret_read(const char *path, const char *what,
    uint8_t out[SEC_SECRET_LEN], char *err, size_t errlen);

/* Creates path (O_EXCL: never over an existing file, 0600, fsync'd)
 * holding secret; on failure the file is removed. */
int sec_secret_write(const char *path, const uint8_t secret[SEC_SECRET_LEN],
    char *err, size_t errlen);

#endif
