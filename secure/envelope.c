/*
 * The handset envelope: a message body sealed once under a fresh DEK with
 * AES-256-GCM, and the DEK (or a proof-of-possession challenge) wrapped
 * for each device key in one of the contract's three schemes
 * (../shared/handset-api-v1.md, docs/handset-api.md). The gateway uses the
 * sealing half, smsc-sim's simulated app and the tests the opening half.
 *
 * OpenSSL 3.0 has no HPKE, so the ECDH schemes are built here from their
 * parts: an ephemeral key on the device key's curve, ECDH, HKDF-SHA256
 * with info = "sealgate/v1/wrap|" scheme "|" || epk || dpk, and
 * AES-256-GCM under AAD "sealgate/v1/key|" + context. Every step can be
 * done with WebCrypto alone (tests/integration/test_sec_webcrypto.sh).
 *
 * No I/O, no logging, no mutable state except the lazily fetched cipher
 * and KDF (pthread_once), so every function is thread-safe.
 */
#include "secure/envelope.h"
#include "secure/aead_int.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define P256_POINT_LEN	65
#define X25519_LEN	32
#define ECDH_Z_LEN	32
#define WRAP_SECRET_MAX	64
#define AAD_STACK	256

static const char wrap_info_prefix[] = "sealgate/v1/wrap|";
static const char wrap_aad_prefix[] = "sealgate/v1/key|";
static const char body_aad_prefix[] = "sealgate/v1/body|";

/* ---- fetched algorithms, once per process ---- */

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *alg_gcm;
static EVP_KDF *alg_hkdf;

static void
algs_fetch(void)
{
	alg_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	alg_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

static const EVP_CIPHER *
gcm_cipher(void)
{
	pthread_once(&algs_once, algs_fetch);
	return alg_gcm;
}

static EVP_KDF *
hkdf_kdf(void)
{
	pthread_once(&algs_once, algs_fetch);
	return alg_hkdf;
}

/* ---- names and errors ---- */

const char *
sec_env_strerror(int err)
{
	switch (err) {
	case SEC_ENV_OK:
		return "ok";
	case SEC_ENV_EUNSUPPORTED:
		return "unsupported_scheme";
	case SEC_ENV_EKEY:
		return "invalid_key";
	case SEC_ENV_EOPEN:
		return "cannot_open";
	case SEC_ENV_EINTERNAL:
		return "internal_error";
	case SEC_ENV_ESPACE:
		return "no_space";
	default:
		return "unknown_error";
	}
}

static const struct {
	enum sec_scheme	s;
	const char	*name;
} scheme_names[] = {
	{ SEC_SCHEME_P256, "ecdh-p256-hkdf-sha256-aes256gcm" },
	{ SEC_SCHEME_X25519, "x25519-hkdf-sha256-aes256gcm" },
	{ SEC_SCHEME_RSA, "rsa-oaep-sha256-aes256gcm" },
};

enum sec_scheme
sec_scheme_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return SEC_SCHEME_NONE;
	for (i = 0; i < sizeof(scheme_names) / sizeof(scheme_names[0]); i++)
		if (strcmp(name, scheme_names[i].name) == 0)
			return scheme_names[i].s;
	return SEC_SCHEME_NONE;
}

const char *
sec_scheme_name(enum sec_scheme s)
{
	size_t i;

	for (i = 0; i < sizeof(scheme_names) / sizeof(scheme_names[0]); i++)
		if (scheme_names[i].s == s)
			return scheme_names[i].name;
	return NULL;
}

static int
scheme_is_ecdh(enum sec_scheme s)
{
	return s == SEC_SCHEME_P256 || s == SEC_SCHEME_X25519;
}

/* ---- AES-256-GCM ---- */

int
sec_aead_seal(const uint8_t key[32], const uint8_t nonce[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
    uint8_t *ct)
{
	const EVP_CIPHER *c = gcm_cipher();
	EVP_CIPHER_CTX *ctx;
	int n, fin, rc = SEC_ENV_EINTERNAL;

	if (c == NULL || len > INT_MAX - 32 || aad_len > INT_MAX)
		return SEC_ENV_EINTERNAL;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SEC_ENV_EINTERNAL;
	if (EVP_EncryptInit_ex2(ctx, c, key, nonce, NULL) != 1)
		goto out;
	if (aad_len > 0 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	n = 0;
	if (len > 0 && EVP_EncryptUpdate(ctx, ct, &n, pt, (int)len) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1)
		goto out;
	if ((size_t)n + (size_t)fin != len)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEC_TAG_LEN,
	    ct + len) != 1)
		goto out;
	rc = SEC_ENV_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != SEC_ENV_OK)
		OPENSSL_cleanse(ct, len + SEC_TAG_LEN);
	return rc;
}

int
sec_aead_open(const uint8_t key[32], const uint8_t nonce[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
    uint8_t *pt)
{
	const EVP_CIPHER *c = gcm_cipher();
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[SEC_TAG_LEN];
	size_t len;
	int n, fin, rc = SEC_ENV_EOPEN;

	if (ct_len < SEC_TAG_LEN)
		return SEC_ENV_EOPEN;
	len = ct_len - SEC_TAG_LEN;
	if (c == NULL || len > INT_MAX - 32 || aad_len > INT_MAX)
		return SEC_ENV_EINTERNAL;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SEC_ENV_EINTERNAL;
	memcpy(tag, ct + len, SEC_TAG_LEN);
	if (EVP_DecryptInit_ex2(ctx, c, key, nonce, NULL) != 1)
		goto out;
	if (aad_len > 0 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	n = 0;
	if (len > 0 && EVP_DecryptUpdate(ctx, pt, &n, ct, (int)len) != 1)
		goto out;
	/* The tag must be set before Final, and Final <= 0 is a forgery. */
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEC_TAG_LEN,
	    tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) <= 0)
		goto out;
	if ((size_t)n + (size_t)fin != len)
		goto out;
	rc = SEC_ENV_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != SEC_ENV_OK && len > 0)
		OPENSSL_cleanse(pt, len);
	return rc;
}

/*
 * prefix || a [|| "|" || b] into stack (AAD_STACK) or, when longer, a
 * malloc'd buffer; *out points at whichever was used (free it when it is
 * not stack). -1 on ENOMEM.
 */
static int
aad_build(const char *prefix, const char *a, size_t alen, const char *b,
    uint8_t *stack, uint8_t **out, size_t *out_len)
{
	size_t plen = strlen(prefix), blen = b != NULL ? strlen(b) : 0;
	size_t total = plen + alen + (b != NULL ? 1 + blen : 0);
	uint8_t *p;

	if (total < plen)
		return -1;
	if (total <= AAD_STACK)
		p = stack;
	else if ((p = malloc(total)) == NULL)
		return -1;
	memcpy(p, prefix, plen);
	if (alen > 0)
		memcpy(p + plen, a, alen);
	if (b != NULL) {
		p[plen + alen] = '|';
		if (blen > 0)
			memcpy(p + plen + alen + 1, b, blen);
	}
	*out = p;
	*out_len = total;
	return 0;
}

static void
aad_free(uint8_t *p, uint8_t *stack)
{
	if (p != stack)
		free(p);
}

/* ---- keys ---- */

/* The device key's type agrees with the scheme. */
static int
key_fits_scheme(enum sec_scheme s, EVP_PKEY *k)
{
	char group[64];
	size_t glen = 0;

	if (k == NULL)
		return 0;
	switch (s) {
	case SEC_SCHEME_P256:
		if (!EVP_PKEY_is_a(k, "EC"))
			return 0;
		if (EVP_PKEY_get_utf8_string_param(k,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		    &glen) != 1)
			return 0;
		return OBJ_txt2nid(group) == NID_X9_62_prime256v1;
	case SEC_SCHEME_X25519:
		return EVP_PKEY_is_a(k, "X25519");
	case SEC_SCHEME_RSA:
		return EVP_PKEY_is_a(k, "RSA");
	default:
		return 0;
	}
}

/* The raw public key of k: 65-byte uncompressed P-256 point built from
 * its coordinates (independent of the key's point format), or the 32
 * X25519 bytes. -1 on failure. */
static int
raw_public(enum sec_scheme s, EVP_PKEY *k, uint8_t *out, size_t *len)
{
	BIGNUM *x = NULL, *y = NULL;
	int rc = -1;

	if (s == SEC_SCHEME_X25519) {
		*len = X25519_LEN;
		if (EVP_PKEY_get_raw_public_key(k, out, len) != 1 ||
		    *len != X25519_LEN)
			return -1;
		return 0;
	}
	if (s != SEC_SCHEME_P256)
		return -1;
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
		goto out;
	out[0] = 0x04;
	if (BN_bn2binpad(x, out + 1, 32) != 32 ||
	    BN_bn2binpad(y, out + 33, 32) != 32)
		goto out;
	*len = P256_POINT_LEN;
	rc = 0;
out:
	BN_free(x);
	BN_free(y);
	return rc;
}

/* An EVP_PKEY from a raw public key (the ephemeral key of a WRAP). NULL
 * when it is not a valid key of that scheme (P-256: not on the curve). */
static EVP_PKEY *
from_raw_public(enum sec_scheme s, const uint8_t *raw, size_t len)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *k = NULL;
	OSSL_PARAM params[3];

	if (s == SEC_SCHEME_X25519) {
		if (len != X25519_LEN)
			return NULL;
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw,
		    len);
	}
	if (s != SEC_SCHEME_P256 || len != P256_POINT_LEN || raw[0] != 0x04)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)raw, len);
	params[2] = OSSL_PARAM_construct_end();
	if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(pc);
	return k;
}

/*
 * The SPKI that WebCrypto and OpenSSL write for a P-256 key with an
 * uncompressed point, or for an X25519 key, is a fixed prefix and the raw
 * key: taken apart here, because OpenSSL 3.0's generic decoder (d2i_PUBKEY)
 * costs more than the rest of an import, and the gateway imports a device
 * key for every message it seals. Anything else (compressed points, other
 * encodings, garbage) goes through d2i_PUBKEY. NULL when not this form or
 * not a valid key.
 */
static const uint8_t spki_p256_prefix[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
	0x07, 0x03, 0x42, 0x00,
};
static const uint8_t spki_x25519_prefix[] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21,
	0x00,
};

static EVP_PKEY *
spki_fast(enum sec_scheme s, const uint8_t *der, size_t len)
{
	if (s == SEC_SCHEME_P256 &&
	    len == sizeof(spki_p256_prefix) + P256_POINT_LEN &&
	    memcmp(der, spki_p256_prefix, sizeof(spki_p256_prefix)) == 0)
		return from_raw_public(s, der + sizeof(spki_p256_prefix),
		    P256_POINT_LEN);
	if (s == SEC_SCHEME_X25519 &&
	    len == sizeof(spki_x25519_prefix) + X25519_LEN &&
	    memcmp(der, spki_x25519_prefix, sizeof(spki_x25519_prefix)) == 0)
		return from_raw_public(s, der + sizeof(spki_x25519_prefix),
		    X25519_LEN);
	return NULL;
}

/*
 * 1 if one of the ng primes in group (whose product is prod, below
 * 2^(BN_BITS2/2): BN_mod_word's fast case) divides n, or on error.
 */
static int
group_divides(const BIGNUM *n, const BN_ULONG *group, size_t ng,
    BN_ULONG prod)
{
	BN_ULONG r = BN_mod_word(n, prod);
	size_t i;

	if (r == (BN_ULONG)-1)
		return 1;
	for (i = 0; i < ng; i++)
		if (r % group[i] == 0)
			return 1;
	return 0;
}

/* 1 if n has an odd prime factor below 752, or on error. */
#define RSA_SMALL_PRIME_LIMIT	752

static int
rsa_small_factor(const BIGNUM *n)
{
	const BN_ULONG word_limit = (BN_ULONG)1 << (BN_BITS2 / 2);
	BN_ULONG group[8], prod = 1, p, d;
	size_t ng = 0;

	for (p = 3; p < RSA_SMALL_PRIME_LIMIT; p += 2) {
		for (d = 3; d * d <= p && p % d != 0; d += 2)
			;
		if (d * d <= p)		/* not a prime */
			continue;
		if (prod > word_limit / p || ng == sizeof(group) /
		    sizeof(group[0])) {
			if (group_divides(n, group, ng, prod))
				return 1;
			ng = 0;
			prod = 1;
		}
		group[ng++] = p;
		prod *= p;
	}
	return ng > 0 && group_divides(n, group, ng, prod);
}

/*
 * The RSA checks that give the same answer on every call: the size, an
 * odd e >= 3, an odd modulus without a prime factor below 752. The last
 * two are part of EVP_PKEY_public_check (SP 800-56B 6.4.2.1) as well,
 * which then tests n with Miller-Rabin under random witnesses; that part
 * is left to the import of outside keys. 1 if k passes.
 */
static int
rsa_fixed_checks(EVP_PKEY *k)
{
	BIGNUM *n = NULL, *e = NULL;
	int bits, ok = 0;

	bits = EVP_PKEY_get_bits(k);
	/* A WRAP holds at most SEC_WRAPPED_MAX bytes of OAEP output, so the
	 * modulus is also capped there (4096 bits). */
	if (bits < SEC_RSA_MIN_BITS || bits > SEC_RSA_MAX_BITS ||
	    bits > SEC_WRAPPED_MAX * 8)
		return 0;
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		goto out;
	if (!BN_is_odd(e) || BN_num_bits(e) < 2)	/* e >= 3 */
		goto out;
	if (!BN_is_odd(n) || rsa_small_factor(n))
		goto out;
	ok = 1;
out:
	BN_free(n);
	BN_free(e);
	return ok;
}

/*
 * Both imports: parse, scheme, the deterministic checks, and with
 * full_check also OpenSSL's randomized RSA check (see envelope.h).
 */
static int
pubkey_import(enum sec_scheme s, const uint8_t *der, size_t len,
    int full_check, struct evp_pkey_st **out)
{
	const unsigned char *p = der;
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *cc = NULL;
	int rc = SEC_ENV_EKEY;

	*out = NULL;
	if (s != SEC_SCHEME_P256 && s != SEC_SCHEME_X25519 &&
	    s != SEC_SCHEME_RSA)
		return SEC_ENV_EUNSUPPORTED;
	if (der == NULL || len == 0 || len > SEC_SPKI_MAX)
		return SEC_ENV_EKEY;
	k = spki_fast(s, der, len);
	if (k == NULL) {
		k = d2i_PUBKEY(NULL, &p, (long)len);
		if (k == NULL || p != der + len)	/* trailing bytes */
			goto out;
	}
	if (!key_fits_scheme(s, k))
		goto out;
	if (s == SEC_SCHEME_RSA && !rsa_fixed_checks(k))
		goto out;
	if (s == SEC_SCHEME_X25519) {
		uint8_t raw[X25519_LEN], zero[X25519_LEN] = { 0 };
		size_t rl;

		if (raw_public(s, k, raw, &rl) != 0 ||
		    CRYPTO_memcmp(raw, zero, sizeof(raw)) == 0)
			goto out;
	}
	if ((s == SEC_SCHEME_P256 || (s == SEC_SCHEME_RSA && full_check)) &&
	    (cc = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL) {
		rc = SEC_ENV_EINTERNAL;
		goto out;
	}
	if (s == SEC_SCHEME_P256) {
		uint8_t raw[P256_POINT_LEN];
		size_t rl;

		/* On the curve and not infinity: the quick check (the full
		 * one adds n*Q = infinity, which a curve of cofactor 1 gives
		 * for free, at the price of a scalar multiplication on every
		 * import). Deterministic, so both imports run it. */
		if (EVP_PKEY_public_check_quick(cc) != 1 ||
		    raw_public(s, k, raw, &rl) != 0)
			goto out;
	}
	/* RSA from outside: SP 800-56B's public key check, whose
	 * Miller-Rabin part draws random witnesses. */
	if (s == SEC_SCHEME_RSA && full_check && EVP_PKEY_public_check(cc) != 1)
		goto out;
	*out = k;
	k = NULL;
	rc = SEC_ENV_OK;
out:
	EVP_PKEY_CTX_free(cc);
	EVP_PKEY_free(k);
	return rc;
}

int
sec_pubkey_import(enum sec_scheme s, const uint8_t *der, size_t len,
    struct evp_pkey_st **out)
{
	return pubkey_import(s, der, len, 1, out);
}

int
sec_pubkey_load_stored(enum sec_scheme s, const uint8_t *der, size_t len,
    struct evp_pkey_st **out)
{
	return pubkey_import(s, der, len, 0, out);
}

/* ---- ECDH wrap ---- */

/*
 * Z = ECDH(priv, peer), 32 bytes; refuses an all-zero Z. check_peer runs
 * OpenSSL's full public key check on peer: always when opening (the epk
 * comes from outside, and an invalid point would leak bits of the
 * device key), but not when sealing, where the peer is the device key
 * that sec_pubkey_import() or sec_pubkey_load_stored() already checked
 * (for P-256 the check costs a scalar multiplication, a third of the
 * seal).
 */
static int
ecdh_derive(EVP_PKEY *priv, EVP_PKEY *peer, int check_peer,
    uint8_t z[ECDH_Z_LEN])
{
	static const uint8_t zero[ECDH_Z_LEN];
	EVP_PKEY_CTX *dc;
	size_t zlen = ECDH_Z_LEN;
	int rc = -1;

	if ((dc = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL)) == NULL)
		return -1;
	if (EVP_PKEY_derive_init(dc) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(dc, peer, check_peer) != 1)
		goto out;
	if (EVP_PKEY_derive(dc, NULL, &zlen) != 1 || zlen != ECDH_Z_LEN)
		goto out;
	if (EVP_PKEY_derive(dc, z, &zlen) != 1 || zlen != ECDH_Z_LEN)
		goto out;
	if (CRYPTO_memcmp(z, zero, ECDH_Z_LEN) == 0)
		goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(dc);
	if (rc != 0)
		OPENSSL_cleanse(z, ECDH_Z_LEN);
	return rc;
}

/* K = HKDF-SHA256(Z, salt empty, info = prefix scheme "|" epk dpk). */
static int
wrap_kdf(enum sec_scheme s, const uint8_t z[ECDH_Z_LEN], const uint8_t *epk,
    size_t epk_len, const uint8_t *dpk, size_t dpk_len, uint8_t k[32])
{
	uint8_t info[sizeof(wrap_info_prefix) + 64 + 2 * P256_POINT_LEN];
	const char *name = sec_scheme_name(s);
	size_t plen = sizeof(wrap_info_prefix) - 1, nlen, ilen;
	EVP_KDF *kdf = hkdf_kdf();
	EVP_KDF_CTX *kc;
	OSSL_PARAM params[4];
	int rc = -1;

	if (kdf == NULL || name == NULL)
		return -1;
	nlen = strlen(name);
	if (plen + nlen + 1 + epk_len + dpk_len > sizeof(info))
		return -1;
	memcpy(info, wrap_info_prefix, plen);
	memcpy(info + plen, name, nlen);
	info[plen + nlen] = '|';
	ilen = plen + nlen + 1;
	memcpy(info + ilen, epk, epk_len);
	ilen += epk_len;
	memcpy(info + ilen, dpk, dpk_len);
	ilen += dpk_len;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)z, ECDH_Z_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    info, ilen);
	params[3] = OSSL_PARAM_construct_end();
	if ((kc = EVP_KDF_CTX_new(kdf)) == NULL)
		return -1;
	if (EVP_KDF_derive(kc, k, 32, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(kc);
	if (rc != 0)
		OPENSSL_cleanse(k, 32);
	return rc;
}

/* The P-256 key with scalar d (big-endian, 1 <= d < n) and its point. */
static EVP_PKEY *
p256_from_scalar(const uint8_t d[32])
{
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL;
	BIGNUM *bd = NULL;
	BN_CTX *bc = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *k = NULL;
	uint8_t pub[P256_POINT_LEN];

	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (bc = BN_CTX_new()) == NULL ||
	    (bd = BN_secure_new()) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL)
		goto out;
	if (BN_bin2bn(d, 32, bd) == NULL || BN_is_zero(bd) ||
	    BN_cmp(bd, EC_GROUP_get0_order(g)) >= 0)
		goto out;
	if (EC_POINT_mul(g, pt, bd, NULL, NULL, bc) != 1 ||
	    EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub,
	    sizeof(pub), bc) != sizeof(pub))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bd) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    sizeof(pub)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &k, EVP_PKEY_KEYPAIR, params) != 1)
		k = NULL;
out:
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);	/* clears the pushed secret BN copy */
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(bd);
	EC_POINT_free(pt);
	BN_CTX_free(bc);
	EC_GROUP_free(g);
	return k;
}

static int
ecdh_wrap(enum sec_scheme s, EVP_PKEY *dpk, EVP_PKEY *eph,
    const uint8_t *secret, size_t secret_len, const char *ctx,
    size_t ctx_len, const uint8_t nonce[SEC_NONCE_LEN], struct sec_wrap *out)
{
	uint8_t dpk_raw[P256_POINT_LEN], z[ECDH_Z_LEN], k[32];
	uint8_t aad_stack[AAD_STACK], *aad = NULL;
	size_t dpk_len, aad_len;
	int rc = SEC_ENV_EINTERNAL;

	if (raw_public(s, dpk, dpk_raw, &dpk_len) != 0)
		return SEC_ENV_EKEY;
	if (raw_public(s, eph, out->epk, &out->epk_len) != 0)
		return SEC_ENV_EINTERNAL;
	if (ecdh_derive(eph, dpk, 0, z) != 0)
		return SEC_ENV_EKEY;	/* low-order device key */
	if (wrap_kdf(s, z, out->epk, out->epk_len, dpk_raw, dpk_len, k) != 0)
		goto out;
	if (aad_build(wrap_aad_prefix, ctx, ctx_len, NULL, aad_stack, &aad,
	    &aad_len) != 0)
		goto out;
	memcpy(out->nonce, nonce, SEC_NONCE_LEN);
	rc = sec_aead_seal(k, nonce, aad, aad_len, secret, secret_len,
	    out->wrapped);
	if (rc == SEC_ENV_OK)
		out->wrapped_len = secret_len + SEC_TAG_LEN;
	aad_free(aad, aad_stack);
out:
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

static int
rsa_wrap(EVP_PKEY *dpk, const uint8_t *secret, size_t secret_len,
    struct sec_wrap *out)
{
	EVP_PKEY_CTX *ec;
	size_t olen = 0;
	int rc = SEC_ENV_EINTERNAL;

	if ((ec = EVP_PKEY_CTX_new_from_pkey(NULL, dpk, NULL)) == NULL)
		return SEC_ENV_EINTERNAL;
	if (EVP_PKEY_encrypt_init(ec) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ec, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md_name(ec, "SHA256", NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(ec, "SHA256", NULL) != 1)
		goto out;
	if (EVP_PKEY_encrypt(ec, NULL, &olen, secret, secret_len) != 1)
		goto out;
	if (olen > sizeof(out->wrapped)) {
		rc = SEC_ENV_ESPACE;
		goto out;
	}
	if (EVP_PKEY_encrypt(ec, out->wrapped, &olen, secret,
	    secret_len) != 1)
		goto out;
	out->wrapped_len = olen;
	rc = SEC_ENV_OK;
out:
	EVP_PKEY_CTX_free(ec);
	return rc;
}

static int
wrap_args_ok(enum sec_scheme s, struct evp_pkey_st *dpk,
    const uint8_t *secret, size_t secret_len, const char *ctx,
    size_t ctx_len, struct sec_wrap *out)
{
	if (out == NULL)
		return SEC_ENV_EINTERNAL;
	memset(out, 0, sizeof(*out));
	if (sec_scheme_name(s) == NULL)
		return SEC_ENV_EUNSUPPORTED;
	if (!key_fits_scheme(s, dpk))
		return SEC_ENV_EKEY;
	if (secret == NULL || secret_len == 0 ||
	    secret_len > WRAP_SECRET_MAX || (ctx == NULL && ctx_len > 0))
		return SEC_ENV_EINTERNAL;
	out->scheme = s;
	return SEC_ENV_OK;
}

/*
 * A fresh ephemeral key for scheme s. The key generation context is
 * made once per thread and kept (EVP_PKEY_Q_keygen fetches the
 * algorithm and builds a context for every key: ~half of a wrap's
 * keygen time on the registered path). Never freed: one small object a
 * thread that seals.
 */
static EVP_PKEY *
eph_keygen(enum sec_scheme s)
{
	static _Thread_local EVP_PKEY_CTX *kc[2];
	int i = s == SEC_SCHEME_P256 ? 0 : 1;
	EVP_PKEY *k = NULL;

	if (kc[i] == NULL) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL,
		    i == 0 ? "EC" : "X25519", NULL);

		if (c == NULL || EVP_PKEY_keygen_init(c) <= 0 ||
		    (i == 0 && EVP_PKEY_CTX_set_group_name(c, "P-256") <= 0)) {
			EVP_PKEY_CTX_free(c);
			return NULL;
		}
		kc[i] = c;
	}
	if (EVP_PKEY_keygen(kc[i], &k) <= 0) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

int
sec_wrap_seal(enum sec_scheme s, struct evp_pkey_st *dpk,
    const uint8_t *secret, size_t secret_len, const char *ctx,
    size_t ctx_len, struct sec_wrap *out)
{
	uint8_t nonce[SEC_NONCE_LEN];
	EVP_PKEY *eph;
	int rc;

	if ((rc = wrap_args_ok(s, dpk, secret, secret_len, ctx, ctx_len,
	    out)) != SEC_ENV_OK)
		return rc;
	if (s == SEC_SCHEME_RSA)
		return rsa_wrap(dpk, secret, secret_len, out);
	eph = eph_keygen(s);
	if (eph == NULL || RAND_bytes(nonce, sizeof(nonce)) != 1) {
		EVP_PKEY_free(eph);
		return SEC_ENV_EINTERNAL;
	}
	rc = ecdh_wrap(s, dpk, eph, secret, secret_len, ctx, ctx_len, nonce,
	    out);
	EVP_PKEY_free(eph);
	if (rc != SEC_ENV_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
sec_wrap_seal_fixed(enum sec_scheme s, struct evp_pkey_st *dpk,
    const uint8_t *secret, size_t secret_len, const char *ctx,
    size_t ctx_len, const uint8_t eph_priv[32],
    const uint8_t nonce[SEC_NONCE_LEN], struct sec_wrap *out)
{
	EVP_PKEY *eph;
	int rc;

	if ((rc = wrap_args_ok(s, dpk, secret, secret_len, ctx, ctx_len,
	    out)) != SEC_ENV_OK)
		return rc;
	if (s == SEC_SCHEME_RSA)
		return SEC_ENV_EUNSUPPORTED;
	if (s == SEC_SCHEME_P256)
		eph = p256_from_scalar(eph_priv);
	else
		eph = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
		    eph_priv, 32);
	if (eph == NULL)
		return SEC_ENV_EKEY;
	rc = ecdh_wrap(s, dpk, eph, secret, secret_len, ctx, ctx_len, nonce,
	    out);
	EVP_PKEY_free(eph);
	if (rc != SEC_ENV_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

static int
ecdh_unwrap(EVP_PKEY *dsk, const struct sec_wrap *w, const char *ctx,
    size_t ctx_len, uint8_t *secret)
{
	uint8_t dpk_raw[P256_POINT_LEN], z[ECDH_Z_LEN], k[32];
	uint8_t aad_stack[AAD_STACK], *aad = NULL;
	size_t dpk_len, aad_len;
	EVP_PKEY *epk;
	int rc = SEC_ENV_EOPEN;

	if (raw_public(w->scheme, dsk, dpk_raw, &dpk_len) != 0)
		return SEC_ENV_EOPEN;
	if ((epk = from_raw_public(w->scheme, w->epk, w->epk_len)) == NULL)
		return SEC_ENV_EOPEN;
	if (ecdh_derive(dsk, epk, 1, z) != 0)
		goto out;
	if (wrap_kdf(w->scheme, z, w->epk, w->epk_len, dpk_raw, dpk_len,
	    k) != 0)
		goto out;
	if (aad_build(wrap_aad_prefix, ctx, ctx_len, NULL, aad_stack, &aad,
	    &aad_len) != 0)
		goto out;
	rc = sec_aead_open(k, w->nonce, aad, aad_len, w->wrapped,
	    w->wrapped_len, secret) == SEC_ENV_OK ? SEC_ENV_OK : SEC_ENV_EOPEN;
	aad_free(aad, aad_stack);
out:
	EVP_PKEY_free(epk);
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

static int
rsa_unwrap(EVP_PKEY *dsk, const struct sec_wrap *w, uint8_t *secret,
    size_t cap, size_t *secret_len)
{
	uint8_t buf[SEC_WRAPPED_MAX];
	EVP_PKEY_CTX *dc;
	size_t olen = sizeof(buf);
	int rc = SEC_ENV_EOPEN;

	if ((dc = EVP_PKEY_CTX_new_from_pkey(NULL, dsk, NULL)) == NULL)
		return SEC_ENV_EINTERNAL;
	if (EVP_PKEY_decrypt_init(dc) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(dc, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md_name(dc, "SHA256", NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(dc, "SHA256", NULL) != 1)
		goto out;
	if ((size_t)EVP_PKEY_get_size(dsk) != w->wrapped_len)
		goto out;
	if (EVP_PKEY_decrypt(dc, buf, &olen, w->wrapped, w->wrapped_len) != 1)
		goto out;
	if (olen == 0 || olen > WRAP_SECRET_MAX)
		goto out;
	if (olen > cap) {
		rc = SEC_ENV_ESPACE;
		goto out;
	}
	memcpy(secret, buf, olen);
	*secret_len = olen;
	rc = SEC_ENV_OK;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	EVP_PKEY_CTX_free(dc);
	return rc;
}

static int
wrap_open(struct evp_pkey_st *dsk, const struct sec_wrap *w,
    const char *ctx, size_t ctx_len, uint8_t *secret, size_t cap,
    size_t *secret_len)
{
	size_t n;

	if (w == NULL || (ctx == NULL && ctx_len > 0))
		return SEC_ENV_EOPEN;
	if (sec_scheme_name(w->scheme) == NULL)
		return SEC_ENV_EUNSUPPORTED;
	if (!key_fits_scheme(w->scheme, dsk) ||
	    w->wrapped_len > sizeof(w->wrapped))
		return SEC_ENV_EOPEN;
	if (w->scheme == SEC_SCHEME_RSA)
		return rsa_unwrap(dsk, w, secret, cap, secret_len);
	if (w->wrapped_len <= SEC_TAG_LEN ||
	    w->wrapped_len > WRAP_SECRET_MAX + SEC_TAG_LEN ||
	    w->epk_len > sizeof(w->epk))
		return SEC_ENV_EOPEN;
	n = w->wrapped_len - SEC_TAG_LEN;
	if (n > cap)
		return SEC_ENV_ESPACE;
	if (ecdh_unwrap(dsk, w, ctx, ctx_len, secret) != SEC_ENV_OK)
		return SEC_ENV_EOPEN;
	*secret_len = n;
	return SEC_ENV_OK;
}

int
sec_wrap_open(struct evp_pkey_st *dsk, const struct sec_wrap *w,
    const char *ctx, size_t ctx_len, uint8_t *secret, size_t cap,
    size_t *secret_len)
{
	int rc;

	if (secret_len != NULL)
		*secret_len = 0;
	if (secret == NULL || secret_len == NULL)
		return SEC_ENV_EOPEN;
	rc = wrap_open(dsk, w, ctx, ctx_len, secret, cap, secret_len);
	if (rc != SEC_ENV_OK) {
		*secret_len = 0;
		if (cap > 0)
			OPENSSL_cleanse(secret, cap);
	}
	return rc;
}

/* ---- body ---- */

int
sec_body_aad(const char *id, const char *msisdn, char *buf, size_t cap)
{
	int n;

	if (id == NULL || msisdn == NULL || buf == NULL)
		return -1;
	n = snprintf(buf, cap, "%s%s|%s", body_aad_prefix, id, msisdn);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

int
sec_body_seal_fixed(const uint8_t dek[SEC_DEK_LEN], const char *id,
    const char *msisdn, const uint8_t *pt, size_t len,
    const uint8_t nonce[SEC_NONCE_LEN], uint8_t *ct, size_t cap,
    size_t *ct_len)
{
	uint8_t aad_stack[AAD_STACK], *aad;
	size_t aad_len;
	int rc;

	if (ct_len != NULL)
		*ct_len = 0;
	if (id == NULL || msisdn == NULL || (pt == NULL && len > 0) ||
	    ct_len == NULL)
		return SEC_ENV_EINTERNAL;
	if (len > SIZE_MAX - SEC_TAG_LEN || cap < len + SEC_TAG_LEN)
		return SEC_ENV_ESPACE;
	if (aad_build(body_aad_prefix, id, strlen(id), msisdn, aad_stack,
	    &aad, &aad_len) != 0)
		return SEC_ENV_EINTERNAL;
	rc = sec_aead_seal(dek, nonce, aad, aad_len, pt, len, ct);
	aad_free(aad, aad_stack);
	if (rc == SEC_ENV_OK)
		*ct_len = len + SEC_TAG_LEN;
	return rc;
}

int
sec_body_seal(const uint8_t dek[SEC_DEK_LEN], const char *id,
    const char *msisdn, const uint8_t *pt, size_t len,
    uint8_t nonce[SEC_NONCE_LEN], uint8_t *ct, size_t cap, size_t *ct_len)
{
	if (RAND_bytes(nonce, SEC_NONCE_LEN) != 1) {
		if (ct_len != NULL)
			*ct_len = 0;
		return SEC_ENV_EINTERNAL;
	}
	return sec_body_seal_fixed(dek, id, msisdn, pt, len, nonce, ct, cap,
	    ct_len);
}

int
sec_body_open(const uint8_t dek[SEC_DEK_LEN], const char *id,
    const char *msisdn, const uint8_t nonce[SEC_NONCE_LEN],
    const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t cap,
    size_t *pt_len)
{
	uint8_t aad_stack[AAD_STACK], *aad;
	size_t aad_len;
	int rc;

	if (pt_len != NULL)
		*pt_len = 0;
	if (pt == NULL || pt_len == NULL)
		return SEC_ENV_EOPEN;
	if (id == NULL || msisdn == NULL || ct == NULL ||
	    ct_len < SEC_TAG_LEN)
		rc = SEC_ENV_EOPEN;
	else if (cap < ct_len - SEC_TAG_LEN)
		rc = SEC_ENV_ESPACE;
	else if (aad_build(body_aad_prefix, id, strlen(id), msisdn, aad_stack,
	    &aad, &aad_len) != 0)
		rc = SEC_ENV_EINTERNAL;
	else {
		rc = sec_aead_open(dek, nonce, aad, aad_len, ct, ct_len, pt);
		aad_free(aad, aad_stack);
	}
	if (rc != SEC_ENV_OK) {
		if (cap > 0)
			OPENSSL_cleanse(pt, cap);
		return rc;
	}
	*pt_len = ct_len - SEC_TAG_LEN;
	return SEC_ENV_OK;
}

int
sec_dek_new(uint8_t dek[SEC_DEK_LEN])
{
	if (RAND_bytes(dek, SEC_DEK_LEN) != 1)
		return SEC_ENV_EINTERNAL;
	return SEC_ENV_OK;
}

/* ---- JSON ---- */

static int
json_set_b64(json_t *o, const char *key, const uint8_t *v, size_t len)
{
	char *s = sec_b64_encode(v, len);
	int rc;

	if (s == NULL)
		return -1;
	rc = json_object_set_new(o, key, json_string(s));
	free(s);
	return rc;
}

void *
sec_wrap_to_json(const struct sec_wrap *w)
{
	json_t *o;

	if (w == NULL || sec_scheme_name(w->scheme) == NULL ||
	    w->wrapped_len > sizeof(w->wrapped) ||
	    w->epk_len > sizeof(w->epk))
		return NULL;
	if ((o = json_object()) == NULL)
		return NULL;
	if (scheme_is_ecdh(w->scheme) &&
	    (json_set_b64(o, "epk", w->epk, w->epk_len) != 0 ||
	    json_set_b64(o, "nonce", w->nonce, SEC_NONCE_LEN) != 0))
		goto fail;
	if (json_set_b64(o, "wrapped", w->wrapped, w->wrapped_len) != 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* The base64 string member key of o, decoded into out (exactly want
 * bytes when want != 0, else 1..cap). -1 when absent or malformed. */
static int
json_get_b64(const json_t *o, const char *key, uint8_t *out, size_t cap,
    size_t want, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return -1;
	if (sec_b64_decode(json_string_value(v), out, cap, len) != 0)
		return -1;
	if (want != 0 ? *len != want : *len == 0)
		return -1;
	return 0;
}

int
sec_wrap_from_json(enum sec_scheme s, const void *json,
    struct sec_wrap *out)
{
	const json_t *o = json;
	size_t n;

	if (out == NULL)
		return SEC_ENV_EINTERNAL;
	memset(out, 0, sizeof(*out));
	if (sec_scheme_name(s) == NULL)
		return SEC_ENV_EUNSUPPORTED;
	if (!json_is_object(o))
		return SEC_ENV_EOPEN;
	out->scheme = s;
	if (scheme_is_ecdh(s)) {
		if (json_get_b64(o, "epk", out->epk, sizeof(out->epk),
		    s == SEC_SCHEME_P256 ? P256_POINT_LEN : X25519_LEN,
		    &out->epk_len) != 0) {
			memset(out, 0, sizeof(*out));
			return SEC_ENV_EKEY;
		}
		if (json_get_b64(o, "nonce", out->nonce, sizeof(out->nonce),
		    SEC_NONCE_LEN, &n) != 0)
			goto fail;
		if (json_get_b64(o, "wrapped", out->wrapped,
		    WRAP_SECRET_MAX + SEC_TAG_LEN, 0, &out->wrapped_len) != 0 ||
		    out->wrapped_len <= SEC_TAG_LEN)
			goto fail;
		return SEC_ENV_OK;
	}
	if (json_get_b64(o, "wrapped", out->wrapped, sizeof(out->wrapped), 0,
	    &out->wrapped_len) != 0 ||
	    out->wrapped_len < SEC_RSA_MIN_BITS / 8)
		goto fail;
	return SEC_ENV_OK;
fail:
	memset(out, 0, sizeof(*out));
	return SEC_ENV_EOPEN;
}

/* ---- base64 ---- */

char *
sec_b64_encode(const uint8_t *in, size_t len)
{
	size_t olen;
	char *s;

	if (len > (SIZE_MAX / 4) * 3 - 3 || len > INT_MAX / 2)
		return NULL;
	olen = 4 * ((len + 2) / 3);
	if ((s = malloc(olen + 1)) == NULL)
		return NULL;
	if (len == 0) {
		s[0] = '\0';
		return s;
	}
	if (EVP_EncodeBlock((unsigned char *)s, in, (int)len) != (int)olen) {
		free(s);
		return NULL;
	}
	return s;
}

/* Value of a standard base64 character, or -1. */
static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
sec_b64_decode(const char *in, uint8_t *out, size_t cap, size_t *len)
{
	size_t n, i, pad = 0, olen;
	uint8_t *tmp;
	int v, dl;

	if (len != NULL)
		*len = 0;
	if (in == NULL || len == NULL)
		return -1;
	n = strlen(in);
	if (n == 0)
		return 0;
	if (n % 4 != 0 || n > INT_MAX)
		return -1;
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (b64_val((unsigned char)in[i]) < 0)
			return -1;
	/* The bits the padding drops must be zero (one encoding only). */
	v = b64_val((unsigned char)in[n - pad - 1]);
	if ((pad == 2 && (v & 0x0f) != 0) || (pad == 1 && (v & 0x03) != 0))
		return -1;
	olen = n / 4 * 3 - pad;
	if (olen > cap || (olen > 0 && out == NULL))
		return -1;
	if ((tmp = malloc(n / 4 * 3)) == NULL)
		return -1;
	dl = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
	if (dl < 0 || (size_t)dl != n / 4 * 3) {
		OPENSSL_cleanse(tmp, n / 4 * 3);
		free(tmp);
		return -1;
	}
	memcpy(out, tmp, olen);
	OPENSSL_cleanse(tmp, n / 4 * 3);
	free(tmp);
	*len = olen;
	return 0;
}

int
sec_random_id(size_t n, char *buf, size_t cap)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	uint8_t raw[256];
	size_t i, o = 0, olen;
	uint32_t v;

	if (buf == NULL || n > sizeof(raw))
		return -1;
	olen = (4 * n + 2) / 3;
	if (cap < olen + 1)
		return -1;
	if (n > 0 && RAND_bytes(raw, (int)n) != 1)
		return -1;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];
		buf[o++] = alpha[v >> 18 & 63];
		buf[o++] = alpha[v >> 12 & 63];
		buf[o++] = alpha[v >> 6 & 63];
		buf[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)raw[i] << 16;
		buf[o++] = alpha[v >> 18 & 63];
		buf[o++] = alpha[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8;
		buf[o++] = alpha[v >> 18 & 63];
		buf[o++] = alpha[v >> 12 & 63];
		buf[o++] = alpha[v >> 6 & 63];
	}
	buf[o] = '\0';
	OPENSSL_cleanse(raw, n);
	return 0;
}
