/*
 * The vault's key ring (keyring.h): KEK files "<kid>.key" in one 0700
 * directory, 32 random bytes as base64 on one line, each 0600 and owned
 * by us. The newest kid (they sort by their UTC creation time) wraps;
 * older ones only unwrap, until sec_keyring_rewrap() has moved every
 * record forward and the operator removes the old file.
 *
 * Vault wraps are AES-256-GCM under the KEK with AAD
 * "sealgate/v1/vault|" kid "|" id "|" msisdn, so a wrapped DEK cannot be
 * moved to another message, recipient or key id.
 */
#include "secure/keyring.h"
#include "secure/secretfile.h"
#include "secure/aead_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define KEY_LEN		32
#define KEYS_MAX	256

struct sec_key {
	char	kid[SEC_KID_MAX + 1];
	uint8_t	key[KEY_LEN];
};

struct sec_keyring {
	struct sec_key	*keys;	/* sorted by kid, oldest first */
	size_t		 n;
};

static const char vault_aad_prefix[] = "sealgate/v1/vault|";

static int
kid_ok(const char *kid, size_t len)
{
	size_t i;

	if (len == 0 || len > SEC_KID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = kid[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* Directory: ours, a directory, nothing for group or others. */
static int
check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, want %u", dir,
		    (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %04o, want 0700", dir,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Reads one key file (0600, ours, regular) into key. */
static int
read_key_file(const char *path, uint8_t key[KEY_LEN], char *err,
    size_t errlen)
{
	int rc = sec_secret_read(path, "key", key, err, errlen);

	if (rc == SEC_SECRET_ABSENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOENT));
		return -1;
	}
	return rc;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sec_key *)a)->kid,
	    ((const struct sec_key *)b)->kid);
}

void
sec_keyring_free(struct sec_keyring *r)
{
	if (r == NULL)
		return;
	if (r->keys != NULL) {
		OPENSSL_cleanse(r->keys, r->n * sizeof(*r->keys));
		free(r->keys);
	}
	free(r);
}

/* Reads every *.key of dir into r. 0, or -1 with err set. */
static int
load_keys(struct sec_keyring *r, const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct dirent *de;
	struct sec_key *k;
	size_t nl, cap = 0;
	DIR *d;
	int rc = -1;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl <= 4 || strcmp(de->d_name + nl - 4, ".key") != 0)
			continue;
		if (!kid_ok(de->d_name, nl - 4)) {
			snprintf(err, errlen, "%s/%s: not a key id", dir,
			    de->d_name);
			goto out;
		}
		if (r->n == KEYS_MAX) {
			snprintf(err, errlen, "%s: more than %d keys", dir,
			    KEYS_MAX);
			goto out;
		}
		if (r->n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct sec_key *nk = calloc(ncap, sizeof(*nk));

			if (nk == NULL) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			if (r->keys != NULL) {
				memcpy(nk, r->keys, r->n * sizeof(*nk));
				OPENSSL_cleanse(r->keys, r->n * sizeof(*nk));
				free(r->keys);
			}
			r->keys = nk;
			cap = ncap;
		}
		k = &r->keys[r->n];
		memcpy(k->kid, de->d_name, nl - 4);
		k->kid[nl - 4] = '\0';
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", dir);
			goto out;
		}
		if (read_key_file(path, k->key, err, errlen) != 0)
			goto out;
		r->n++;
	}
	if (r->n > 1)
		qsort(r->keys, r->n, sizeof(*r->keys), key_cmp);
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* mkdir -p: dir and any missing parent, each 0700 (the vault dir must be
 * 0700; a parent made here, like var/, need be no wider). 0, or -1 with
 * errno. */
static int
make_dir(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

struct sec_keyring *
sec_keyring_load(const char *dir, int create_if_empty, char *err,
    size_t errlen)
{
	struct sec_keyring *r;
	char kid[SEC_KID_MAX + 1];
	struct stat st;

	if (dir == NULL) {
		snprintf(err, errlen, "no key directory");
		return NULL;
	}
	if (stat(dir, &st) != 0 && errno == ENOENT && create_if_empty) {
		if (make_dir(dir) != 0) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return NULL;
		}
	}
	if (check_dir(dir, err, errlen) != 0)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (load_keys(r, dir, err, errlen) != 0)
		goto fail;
	if (r->n == 0 && create_if_empty) {
		if (sec_keyring_new_key(dir, kid, err, errlen) != 0)
			goto fail;
		if (load_keys(r, dir, err, errlen) != 0)
			goto fail;
	}
	if (r->n == 0) {
		snprintf(err, errlen, "%s: no key files (*.key)", dir);
		goto fail;
	}
	return r;
fail:
	sec_keyring_free(r);
	return NULL;
}

/* The newest kid already in dir into out ("" when none). */
static int
newest_kid(const char *dir, char out[SEC_KID_MAX + 1])
{
	char name[SEC_KID_MAX + 1];
	struct dirent *de;
	size_t nl;
	DIR *d;

	out[0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl <= 4 || strcmp(de->d_name + nl - 4, ".key") != 0 ||
		    !kid_ok(de->d_name, nl - 4))
			continue;
		memcpy(name, de->d_name, nl - 4);
		name[nl - 4] = '\0';
		if (strcmp(name, out) > 0)
			memcpy(out, name, nl - 3);
	}
	closedir(d);
	return 0;
}

int
sec_keyring_new_key(const char *dir, char *kid, char *err, size_t errlen)
{
	char path[4096], newest[SEC_KID_MAX + 1], stamp[32];
	uint8_t key[KEY_LEN], rnd[2];
	unsigned suffix;
	struct stat st;
	struct tm tm;
	time_t now;
	size_t len;
	int rc = -1, dfd;

	if (stat(dir, &st) != 0 && errno == ENOENT && make_dir(dir) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (check_dir(dir, err, errlen) != 0)
		return -1;
	if (newest_kid(dir, newest) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "k%Y%m%dT%H%M%SZ", &tm) == 0) {
		snprintf(err, errlen, "clock unreadable");
		return -1;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errlen, "random generator failed");
		return -1;
	}
	suffix = (unsigned)rnd[0] << 8 | rnd[1];
	/* Two keys made in one second: the new one must still sort last. */
	len = strlen(stamp);
	if (strncmp(newest, stamp, len) == 0 && newest[len] == '-') {
		unsigned old;

		if (sscanf(newest + len + 1, "%4x", &old) == 1 &&
		    suffix <= old) {
			if (old == 0xffff) {
				snprintf(err, errlen, "%s: too many keys this "
				    "second; retry", dir);
				return -1;
			}
			suffix = old + 1;
		}
	}
	snprintf(kid, SEC_KID_MAX + 1, "%s-%04x", stamp, suffix);
	if (newest[0] != '\0' && strcmp(kid, newest) <= 0) {
		snprintf(err, errlen, "%s: newest key %s is later than the "
		    "clock", dir, newest);
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", dir, kid) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (RAND_bytes(key, sizeof(key)) != 1) {
		snprintf(err, errlen, "cannot make a key");
		goto out;
	}
	if (sec_secret_write(path, key, err, errlen) != 0)
		goto out;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0)
		kid[0] = '\0';
	return rc;
}

const char *
sec_keyring_current(const struct sec_keyring *r)
{
	return r != NULL && r->n > 0 ? r->keys[r->n - 1].kid : NULL;
}

size_t
sec_keyring_count(const struct sec_keyring *r)
{
	return r != NULL ? r->n : 0;
}

static const struct sec_key *
find_key(const struct sec_keyring *r, const char *kid)
{
	struct sec_key k;

	if (r == NULL || r->n == 0 || strlen(kid) > SEC_KID_MAX)
		return NULL;
	memset(&k, 0, sizeof(k));
	memcpy(k.kid, kid, strlen(kid));
	return bsearch(&k, r->keys, r->n, sizeof(*r->keys), key_cmp);
}

/* "sealgate/v1/vault|" kid "|" id "|" msisdn, malloc'd. */
static uint8_t *
vault_aad(const char *kid, const char *id, const char *msisdn, size_t *len)
{
	size_t n = strlen(vault_aad_prefix) + strlen(kid) + strlen(id) +
	    strlen(msisdn) + 3;
	char *p;
	int w;

	if ((p = malloc(n)) == NULL)
		return NULL;
	w = snprintf(p, n, "%s%s|%s|%s", vault_aad_prefix, kid, id, msisdn);
	if (w < 0 || (size_t)w >= n) {
		free(p);
		return NULL;
	}
	*len = (size_t)w;
	return (uint8_t *)p;
}

static int
wrap_with(const struct sec_key *k, const char *id, const char *msisdn,
    const uint8_t dek[SEC_DEK_LEN], struct sec_vault_wrap *out)
{
	uint8_t *aad;
	size_t aad_len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((aad = vault_aad(k->kid, id, msisdn, &aad_len)) == NULL)
		return -1;
	memcpy(out->kid, k->kid, sizeof(out->kid));
	rc = RAND_bytes(out->nonce, SEC_NONCE_LEN) == 1 &&
	    sec_aead_seal(k->key, out->nonce, aad, aad_len, dek, SEC_DEK_LEN,
	    out->wrapped) == SEC_ENV_OK ? 0 : -1;
	free(aad);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
sec_keyring_wrap(const struct sec_keyring *r, const char *id,
    const char *msisdn, const uint8_t dek[SEC_DEK_LEN],
    struct sec_vault_wrap *out)
{
	if (r == NULL || r->n == 0 || id == NULL || msisdn == NULL ||
	    out == NULL)
		return -1;
	return wrap_with(&r->keys[r->n - 1], id, msisdn, dek, out);
}

int
sec_keyring_unwrap(const struct sec_keyring *r, const char *id,
    const char *msisdn, const struct sec_vault_wrap *w,
    uint8_t dek[SEC_DEK_LEN])
{
	char kid[SEC_KID_MAX + 1];
	const struct sec_key *k;
	uint8_t *aad;
	size_t aad_len;
	int rc;

	OPENSSL_cleanse(dek, SEC_DEK_LEN);
	if (r == NULL || id == NULL || msisdn == NULL || w == NULL)
		return -1;
	memcpy(kid, w->kid, SEC_KID_MAX);
	kid[SEC_KID_MAX] = '\0';
	if ((k = find_key(r, kid)) == NULL)
		return -1;
	if ((aad = vault_aad(k->kid, id, msisdn, &aad_len)) == NULL)
		return -1;
	rc = sec_aead_open(k->key, w->nonce, aad, aad_len, w->wrapped,
	    sizeof(w->wrapped), dek) == SEC_ENV_OK ? 0 : -1;
	free(aad);
	if (rc != 0)
		OPENSSL_cleanse(dek, SEC_DEK_LEN);
	return rc;
}

int
sec_keyring_rewrap(const struct sec_keyring *r, const char *id,
    const char *msisdn, struct sec_vault_wrap *w)
{
	uint8_t dek[SEC_DEK_LEN];
	struct sec_vault_wrap nw;
	const char *cur = sec_keyring_current(r);
	int rc;

	if (cur == NULL || w == NULL)
		return -1;
	if (strncmp(w->kid, cur, sizeof(w->kid)) == 0)
		return 0;
	if (sec_keyring_unwrap(r, id, msisdn, w, dek) != 0)
		return -1;
	rc = sec_keyring_wrap(r, id, msisdn, dek, &nw);
	OPENSSL_cleanse(dek, sizeof(dek));
	if (rc == 0)
		*w = nw;
	return rc;
}
