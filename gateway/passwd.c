/*
 * PBKDF2-HMAC-SHA256 password hashes (passwd.h). Encoding and decoding of
 * the base64 parts go through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock;
 * this file only checks the shape of the text around them, because
 * EVP_DecodeBlock skips spaces and does not report padding.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gateway/passwd.h"

#define PREFIX		"$pbkdf2-sha256$i="
#define DK_LEN		32
#define SALT_MIN	16
#define SALT_MAX	64

static bool
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Decodes the n base64 characters at s into out (cap bytes); returns the
 * number of bytes, or -1 when s is not canonical padded base64. */
static int
b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	unsigned char tmp[96];	/* >= the decoded size of the longest part */
	size_t pad = 0;
	int got;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
		return -1;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(s[i]))
			return -1;
	got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != n / 4 * 3 || (size_t)got - pad > cap) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -1;
	}
	memcpy(out, tmp, (size_t)got - pad);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return (int)((size_t)got - pad);
}

/* Splits hash into its parts; salt and dk get the decoded bytes. */
static int
split(const char *hash, uint32_t *iter, unsigned char *salt, size_t *saltlen,
    unsigned char *dk, const char **why)
{
	const char *p, *s, *h;
	uint64_t it = 0;
	int n;

	if (strncmp(hash, PREFIX, sizeof(PREFIX) - 1) != 0) {
		*why = hash[0] == '$' ? "unsupported hash scheme (expected "
		    "$pbkdf2-sha256$)" : "not a password hash (make one with "
		    "`sealgate passwd`)";
		return -1;
	}
	p = hash + sizeof(PREFIX) - 1;
	if (*p < '1' || *p > '9') {
		*why = "bad iteration count";
		return -1;
	}
	while (*p >= '0' && *p <= '9' && it <= GW_PASSWD_ITER_MAX)
		it = it * 10 + (uint64_t)(*p++ - '0');
	if (*p != '$' || it < GW_PASSWD_ITER_MIN || it > GW_PASSWD_ITER_MAX) {
		*why = "iteration count must be 10000..10000000";
		return -1;
	}
	s = p + 1;
	if ((h = strchr(s, '$')) == NULL) {
		*why = "missing hash part";
		return -1;
	}
	n = b64_decode(s, (size_t)(h - s), salt, SALT_MAX);
	if (n < SALT_MIN) {
		*why = "bad salt (expected base64 of 16..64 bytes)";
		return -1;
	}
	*saltlen = (size_t)n;
	h++;
	if (b64_decode(h, strlen(h), dk, DK_LEN) != DK_LEN) {
		*why = "bad hash part (expected base64 of 32 bytes)";
		return -1;
	}
	*iter = (uint32_t)it;
	return 0;
}

int
gw_passwd_parse(const char *hash, uint32_t *iter, const char **why)
{
	unsigned char salt[SALT_MAX], dk[DK_LEN];
	const char *w = NULL;
	size_t saltlen;
	uint32_t it;
	int rc;

	if (strlen(hash) > GW_PASSWD_HASH_MAX) {
		w = "too long for a password hash";
		rc = -1;
	} else {
		rc = split(hash, &it, salt, &saltlen, dk, &w);
	}
	if (rc == 0 && iter != NULL)
		*iter = it;
	if (why != NULL)
		*why = w;
	OPENSSL_cleanse(dk, sizeof(dk));
	return rc;
}

int
gw_passwd_hash(const char *pw, size_t len, uint32_t iter, char *out,
    size_t outlen)
{
	unsigned char salt[GW_PASSWD_SALT_LEN], dk[DK_LEN];
	char s64[4 * ((GW_PASSWD_SALT_LEN + 2) / 3) + 1];
	char d64[4 * ((DK_LEN + 2) / 3) + 1];
	int n, rc = -1;

	if (iter == 0)
		iter = GW_PASSWD_ITER_DEFAULT;
	if (iter < GW_PASSWD_ITER_MIN || iter > GW_PASSWD_ITER_MAX ||
	    len > GW_PASSWD_LEN_MAX || outlen < GW_PASSWD_HASH_MAX + 1)
		return -1;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -1;
	if (PKCS5_PBKDF2_HMAC(pw, (int)len, salt, sizeof(salt), (int)iter,
	    EVP_sha256(), DK_LEN, dk) != 1)
		goto out;
	EVP_EncodeBlock((unsigned char *)s64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)d64, dk, DK_LEN);
	n = snprintf(out, outlen, PREFIX "%u$%s$%s", (unsigned)iter, s64,
	    d64);
	if (n > 0 && (size_t)n < outlen)
		rc = 0;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	OPENSSL_cleanse(d64, sizeof(d64));
	return rc;
}

int
gw_passwd_verify(const char *pw, size_t len, const char *hash)
{
	unsigned char salt[SALT_MAX], want[DK_LEN], got[DK_LEN];
	const char *why;
	size_t saltlen;
	uint32_t iter;
	int rc = -1;

	if (strlen(hash) > GW_PASSWD_HASH_MAX ||
	    split(hash, &iter, salt, &saltlen, want, &why) != 0)
		goto out;
	/* Longer than SMPP allows: cannot match, but cost the same. */
	if (PKCS5_PBKDF2_HMAC(pw, (int)(len > 64 ? 64 : len), salt,
	    (int)saltlen, (int)iter, EVP_sha256(), DK_LEN, got) != 1)
		goto out;
	rc = CRYPTO_memcmp(want, got, DK_LEN) == 0 &&
	    len <= GW_PASSWD_LEN_MAX ? 1 : 0;
out:
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}
