/*
 * Fuzz target: what a handset sends the key-handling code. The first byte
 * picks the input kind and scheme (bit 7: JSON WRAP, else DER; bits 0-1:
 * the scheme, 0 = none), the rest is the payload.
 * Properties: any DER is refused or loaded cleanly by the stored-key
 * import; a DER key that the outside import accepts loads through the
 * stored-key import, as the same bytes and re-exported, as an equal key
 * that can be sealed to; a WRAP object that parses goes back to JSON
 * and parses to the same struct; base64 that decodes re-encodes to the
 * same text (the decoder is strict: one encoding per value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "secure/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* rc and k as an import must leave them on failure. */
static void
check_refusal(int rc, const struct evp_pkey_st *k)
{
	if (k != NULL || (rc != SEC_ENV_EKEY && rc != SEC_ENV_EUNSUPPORTED &&
	    rc != SEC_ENV_EINTERNAL))
		abort();
}

static void
check_der(enum sec_scheme s, const uint8_t *der, size_t len)
{
	static const uint8_t secret[SEC_DEK_LEN] = { 1, 2, 3 };
	struct evp_pkey_st *k = NULL, *st = NULL, *k2 = NULL;
	struct sec_wrap w;
	uint8_t *out = NULL;
	int rc, src, n;

	/* The stored-key import takes any bytes (a damaged row) calmly. */
	src = sec_pubkey_load_stored(s, der, len, &st);
	if (src != SEC_ENV_OK)
		check_refusal(src, st);
	rc = sec_pubkey_import(s, der, len, &k);
	if (rc != SEC_ENV_OK) {
		check_refusal(rc, k);
		EVP_PKEY_free(st);
		return;
	}
	if (k == NULL)
		abort();
	/* Accepted from outside: the bytes as stored, and their
	 * re-encoding, load as the same key (the randomized part of the
	 * outside check is not run again: its answer may differ). */
	if (src != SEC_ENV_OK || EVP_PKEY_eq(k, st) != 1)
		abort();
	n = i2d_PUBKEY(k, &out);
	if (n <= 0 ||
	    sec_pubkey_load_stored(s, out, (size_t)n, &k2) != SEC_ENV_OK ||
	    EVP_PKEY_eq(k, k2) != 1)
		abort();
	/* and can be sealed to, as the pipeline does */
	if (sec_wrap_seal(s, st, secret, sizeof(secret), "m", 1, &w) !=
	    SEC_ENV_OK)
		abort();
	if (w.wrapped_len == 0 || w.wrapped_len > sizeof(w.wrapped))
		abort();
	OPENSSL_free(out);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(st);
	EVP_PKEY_free(k);
}

static void
check_json(enum sec_scheme s, const uint8_t *p, size_t len)
{
	struct sec_wrap w, w2;
	json_t *j, *j2;
	int rc;

	j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL)
		return;
	rc = sec_wrap_from_json(s, j, &w);
	json_decref(j);
	if (rc != SEC_ENV_OK)
		return;
	if (w.scheme != s || w.wrapped_len == 0 ||
	    w.wrapped_len > sizeof(w.wrapped) || w.epk_len > sizeof(w.epk))
		abort();
	if ((j2 = sec_wrap_to_json(&w)) == NULL)
		abort();
	if (sec_wrap_from_json(s, j2, &w2) != SEC_ENV_OK ||
	    memcmp(&w, &w2, sizeof(w)) != 0)
		abort();
	json_decref(j2);
}

static void
check_b64(const uint8_t *p, size_t len)
{
	uint8_t out[1024];
	char *in, *again;
	size_t n;

	if (len > 1300 || (in = malloc(len + 1)) == NULL)
		return;
	memcpy(in, p, len);
	in[len] = '\0';
	if (sec_b64_decode(in, out, sizeof(out), &n) == 0) {
		again = sec_b64_encode(out, n);
		if (again == NULL || strcmp(again, in) != 0)
			abort();
		free(again);
	}
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sec_scheme s;

	if (size < 1 || size > 4096)
		return 0;
	s = (enum sec_scheme)(data[0] & 3);
	if (data[0] & 0x80)
		check_json(s, data + 1, size - 1);
	else
		check_der(s, data + 1, size - 1);
	check_b64(data + 1, size - 1);
	return 0;
}
