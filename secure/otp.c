/*
 * One-time codes for handset registration (otp.h): uniform digits from
 * RAND_bytes by rejection sampling, kept only as HMAC-SHA256(server
 * secret, rid "|" code) and compared in constant time; the server secret
 * file; and the sliding-window send quotas that stop SMS pumping.
 */
#include "secure/otp.h"
#include "secure/secretfile.h"
#include "secure/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

int
sec_otp_generate(unsigned digits, char *buf, size_t cap)
{
	uint8_t rnd[32];
	size_t i, got = 0;

	if (buf == NULL || digits < SEC_OTP_MIN_DIGITS ||
	    digits > SEC_OTP_MAX_DIGITS || cap < (size_t)digits + 1)
		return -1;
	/* Bytes >= 250 are thrown away: 250 is a multiple of 10, so every
	 * digit keeps the same 25/256 chance (no modulo bias). */
	while (got < digits) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			OPENSSL_cleanse(buf, cap);
			OPENSSL_cleanse(rnd, sizeof(rnd));
			return -1;
		}
		for (i = 0; i < sizeof(rnd) && got < digits; i++)
			if (rnd[i] < 250)
				buf[got++] = (char)('0' + rnd[i] % 10);
	}
	buf[got] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

bool
sec_otp_well_formed(const char *code, unsigned min, unsigned max)
{
	size_t i;

	if (code == NULL)
		return false;
	for (i = 0; code[i] != '\0'; i++) {
		if (code[i] < '0' || code[i] > '9' || i >= max)
			return false;
	}
	return i >= min && i <= max;
}

int
sec_otp_mac(const uint8_t secret[SEC_OTP_SECRET_LEN], const char *rid,
    const char *code, uint8_t mac[SEC_OTP_HMAC_LEN])
{
	size_t rl, cl, n, outlen = 0;
	uint8_t *msg;
	int rc = -1;

	if (secret == NULL || rid == NULL || code == NULL || mac == NULL)
		return -1;
	rl = strlen(rid);
	cl = strlen(code);
	n = rl + 1 + cl;
	if ((msg = malloc(n)) == NULL)
		return -1;
	memcpy(msg, rid, rl);
	msg[rl] = '|';
	memcpy(msg + rl + 1, code, cl);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret,
	    SEC_OTP_SECRET_LEN, msg, n, mac, SEC_OTP_HMAC_LEN, &outlen) !=
	    NULL && outlen == SEC_OTP_HMAC_LEN)
		rc = 0;
	OPENSSL_cleanse(msg, n);
	free(msg);
	if (rc != 0)
		OPENSSL_cleanse(mac, SEC_OTP_HMAC_LEN);
	return rc;
}

bool
sec_otp_check(const uint8_t secret[SEC_OTP_SECRET_LEN], const char *rid,
    const char *code, const uint8_t want[SEC_OTP_HMAC_LEN])
{
	uint8_t mac[SEC_OTP_HMAC_LEN];
	bool ok;

	if (want == NULL || sec_otp_mac(secret, rid, code, mac) != 0)
		return false;
	ok = CRYPTO_memcmp(mac, want, SEC_OTP_HMAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

int
sec_otp_secret_load(const char *path, uint8_t secret[SEC_OTP_SECRET_LEN],
    char *err, size_t errlen)
{
	int rc;

	if (path == NULL || secret == NULL) {
		snprintf(err, errlen, "no secret path");
		return -1;
	}
	rc = sec_secret_read(path, "secret", secret, err, errlen);
	if (rc != SEC_SECRET_ABSENT)
		return rc;
	/* first start: make it */
	if (RAND_bytes(secret, SEC_OTP_SECRET_LEN) != 1) {
		snprintf(err, errlen, "cannot make a secret");
		return -1;
	}
	if (sec_secret_write(path, secret, err, errlen) != 0) {
		OPENSSL_cleanse(secret, SEC_OTP_SECRET_LEN);
		return -1;
	}
	return 0;
}

/* ---- send quotas ---- */

struct quota_ent {
	char		*key;
	struct quota_ent *hnext;		/* hash chain */
	struct quota_ent *prev, *next;	/* LRU list, most recent first */
	unsigned	 head, count;		/* ring of count timestamps */
	int64_t		 ts[];			/* limit slots */
};

struct sec_quota {
	unsigned	  limit;
	int64_t		  window_ms;
	size_t		  max_keys, nkeys, nbuckets;
	struct quota_ent **buckets;
	struct quota_ent *lru_head, *lru_tail;
};

static uint64_t
quota_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

struct sec_quota *
sec_quota_new(unsigned limit, unsigned window_s, size_t max_keys)
{
	struct sec_quota *q;
	size_t nb = 16;

	if (max_keys == 0 || limit > 100000)
		return NULL;
	while (nb < max_keys && nb < ((size_t)1 << 24))
		nb <<= 1;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->buckets = calloc(nb, sizeof(*q->buckets))) == NULL) {
		free(q);
		return NULL;
	}
	q->limit = limit;
	q->window_ms = (int64_t)window_s * 1000;
	q->max_keys = max_keys;
	q->nbuckets = nb;
	return q;
}

static void
lru_unlink(struct sec_quota *q, struct quota_ent *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		q->lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		q->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push_front(struct sec_quota *q, struct quota_ent *e)
{
	e->prev = NULL;
	e->next = q->lru_head;
	if (q->lru_head != NULL)
		q->lru_head->prev = e;
	q->lru_head = e;
	if (q->lru_tail == NULL)
		q->lru_tail = e;
}

static void
quota_remove(struct sec_quota *q, struct quota_ent *e)
{
	struct quota_ent **pp = &q->buckets[quota_hash(e->key) &
	    (q->nbuckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	lru_unlink(q, e);
	free(e->key);
	free(e);
	q->nkeys--;
}

void
sec_quota_free(struct sec_quota *q)
{
	struct quota_ent *e, *n;

	if (q == NULL)
		return;
	for (e = q->lru_head; e != NULL; e = n) {
		n = e->next;
		free(e->key);
		free(e);
	}
	free(q->buckets);
	free(q);
}

bool
sec_quota_take(struct sec_quota *q, const char *key, int64_t now_ms,
    unsigned *retry_after_s)
{
	struct quota_ent *e;
	size_t b;
	int64_t wait;

	if (retry_after_s != NULL)
		*retry_after_s = 0;
	if (q == NULL || key == NULL)
		return false;
	if (q->limit == 0) {
		if (retry_after_s != NULL)
			*retry_after_s = (unsigned)(q->window_ms / 1000);
		return false;
	}
	b = quota_hash(key) & (q->nbuckets - 1);
	for (e = q->buckets[b]; e != NULL; e = e->hnext)
		if (strcmp(e->key, key) == 0)
			break;
	if (e == NULL) {
		if (q->nkeys >= q->max_keys && q->lru_tail != NULL)
			quota_remove(q, q->lru_tail);
		e = calloc(1, sizeof(*e) + q->limit * sizeof(e->ts[0]));
		if (e == NULL)
			return false;
		if ((e->key = strdup(key)) == NULL) {
			free(e);
			return false;
		}
		e->hnext = q->buckets[b];
		q->buckets[b] = e;
		q->nkeys++;
	} else
		lru_unlink(q, e);
	lru_push_front(q, e);
	/* Forget the events that left the window. */
	while (e->count > 0 && e->ts[e->head] <= now_ms - q->window_ms) {
		e->head = (e->head + 1) % q->limit;
		e->count--;
	}
	if (e->count < q->limit) {
		e->ts[(e->head + e->count) % q->limit] = now_ms;
		e->count++;
		return true;
	}
	wait = e->ts[e->head] + q->window_ms - now_ms;
	if (retry_after_s != NULL)
		*retry_after_s = wait <= 0 ? 1 :
		    (unsigned)((wait + 999) / 1000);
	return false;
}
