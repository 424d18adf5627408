/*
 * Password hashes for ESME accounts. The config stores
 *   $pbkdf2-sha256$i=ITERATIONS$SALT$HASH
 * (SALT: 16 random bytes, HASH: 32 bytes of PBKDF2-HMAC-SHA256, both in
 * standard base64), made by `sealgate passwd`; a bind is checked against it
 * in constant time. Only OpenSSL does the crypto and the base64.
 *
 * Cost: GW_PASSWD_ITER_DEFAULT iterations take about 31 ms per verify on
 * the 2-core development machine (measured with PKCS5_PBKDF2_HMAC: 10,000
 * ~3-6 ms, 100,000 ~31 ms, 200,000 ~59 ms). SMPP passwords are at most 8
 * characters, so the iteration count is most of what slows an offline
 * guesser; the daemon must keep binds cheap by itself (verify off the
 * event loop, remember a recent success) rather than by a weaker hash.
 *
 * Return convention: gw_passwd_hash and gw_passwd_parse return 0 or -1;
 * gw_passwd_verify returns 1 (match), 0 (no match) or -1 (bad hash).
 */
#ifndef GW_PASSWD_H
#define GW_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#define GW_PASSWD_ITER_DEFAULT	100000u
#define GW_PASSWD_ITER_MIN	10000u		/* weaker hashes are refused */
#define GW_PASSWD_ITER_MAX	10000000u	/* ~3 s: beyond is a typo */
#define GW_PASSWD_SALT_LEN	16
#define GW_PASSWD_LEN_MAX	8		/* SMPP 3.4 password field */
#define GW_PASSWD_HASH_MAX	127		/* bytes of an encoded hash */

/* Hashes len bytes of pw with a fresh salt into out (NUL-terminated,
 * outlen >= GW_PASSWD_HASH_MAX + 1). iter 0 = the default. */
int gw_passwd_hash(const char *pw, size_t len, uint32_t iter, char *out,
    size_t outlen);

/* Checks that hash is well formed; *iter gets its iteration count (may be
 * NULL); *why (may be NULL) a short reason on -1. */
int gw_passwd_parse(const char *hash, uint32_t *iter, const char **why);

/* Whether len bytes of pw match hash, compared in constant time. */
int gw_passwd_verify(const char *pw, size_t len, const char *hash);

#endif
