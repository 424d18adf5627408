/*
 * The handset envelope (../shared/handset-api-v1.md, docs/handset-api.md):
 * the body sealed once under a fresh 256-bit data key (DEK) with
 * AES-256-GCM, and the DEK (or a proof-of-possession challenge) wrapped
 * for one device key in one of three schemes. Both directions live here:
 * the gateway seals and wraps, the simulated handset app (smsc-sim) and
 * the tests unwrap and open, so the two can never drift apart.
 *
 * Pure functions over OpenSSL 3 EVP; no I/O, no logging, thread-safe.
 * Return convention: 0 on success, or a negative enum sec_env_err. Every
 * output buffer is the caller's; every secret the functions make inside
 * (shared secrets, HKDF output, DEK copies) is wiped before they return.
 * Randomness comes from RAND_bytes only; the *_fixed variants take the
 * randomness as arguments and exist for the published test vectors.
 */
#ifndef SEC_ENVELOPE_H
#define SEC_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

struct evp_pkey_st;

enum sec_env_err {
	SEC_ENV_OK = 0,
	SEC_ENV_EUNSUPPORTED = -1,	/* unknown scheme: unsupported_scheme */
	SEC_ENV_EKEY = -2,		/* bad DER, wrong key type for the
					   scheme, RSA < 2048, invalid point:
					   invalid_key */
	SEC_ENV_EOPEN = -3,		/* tag, AAD, key or length wrong: the
					   app says "cannot be opened" */
	SEC_ENV_EINTERNAL = -4,		/* OpenSSL failed (RNG, allocation) */
	SEC_ENV_ESPACE = -5,		/* output buffer too small */
};
/* "ok", "unsupported_scheme", "invalid_key", ... never NULL. */
const char *sec_env_strerror(int err);

enum sec_scheme {
	SEC_SCHEME_NONE = 0,
	SEC_SCHEME_P256,	/* "ecdh-p256-hkdf-sha256-aes256gcm" */
	SEC_SCHEME_X25519,	/* "x25519-hkdf-sha256-aes256gcm" */
	SEC_SCHEME_RSA,		/* "rsa-oaep-sha256-aes256gcm" */
};
/* Contract name <-> enum; SEC_SCHEME_NONE for an unknown name. */
enum sec_scheme sec_scheme_from_name(const char *name);
const char *sec_scheme_name(enum sec_scheme s);	/* NULL for NONE */

#define SEC_DEK_LEN	32
#define SEC_NONCE_LEN	12
#define SEC_TAG_LEN	16
#define SEC_CHALLENGE_LEN 32
#define SEC_EPK_MAX	65	/* P-256 uncompressed point */
#define SEC_WRAPPED_MAX	512	/* RSA-4096 output; ECDH: 32 + 16 */
#define SEC_RSA_MIN_BITS 2048
#define SEC_RSA_MAX_BITS 8192
#define SEC_SPKI_MAX	1200	/* DER SubjectPublicKeyInfo we accept */

/*
 * A device public key: DER SubjectPublicKeyInfo checked against its
 * scheme (P-256 point on the curve and not infinity; X25519 32 bytes,
 * not all zero; RSA 2048..4096 bits, odd e >= 3, odd n without a prime
 * factor below 752). On success *out is a new EVP_PKEY (free with
 * EVP_PKEY_free); on failure *out is NULL. Errors: EUNSUPPORTED, EKEY,
 * EINTERNAL.
 *
 * Two imports, because OpenSSL's full RSA public key check
 * (EVP_PKEY_public_check, SP 800-56B) tests n with Miller-Rabin under
 * random witnesses: for a modulus that is not the product of two large
 * primes the same bytes can pass on one call and fail on the next.
 *
 * sec_pubkey_import: a key from outside (the handset API's key post, at
 * registration and re-key). All the checks above, and for RSA also
 * EVP_PKEY_public_check.
 *
 * sec_pubkey_load_stored: a key read back from our own storage, which
 * sec_pubkey_import accepted before it was stored. The same parsing and
 * the same checks but the randomized one, so its answer never changes:
 * a key accepted once stays usable for sealing. Whatever
 * sec_pubkey_import accepts, this accepts too, as the same bytes or
 * re-encoded, and gives an equal key (fuzz_sec_key holds it to that).
 * Not for bytes from outside.
 */
int sec_pubkey_import(enum sec_scheme s, const uint8_t *der, size_t len,
    struct evp_pkey_st **out);
int sec_pubkey_load_stored(enum sec_scheme s, const uint8_t *der,
    size_t len, struct evp_pkey_st **out);

/* A WRAP: the secret S wrapped for one device key under a context X. */
struct sec_wrap {
	enum sec_scheme	scheme;
	uint8_t		epk[SEC_EPK_MAX];	/* ECDH only */
	size_t		epk_len;
	uint8_t		nonce[SEC_NONCE_LEN];	/* ECDH only */
	uint8_t		wrapped[SEC_WRAPPED_MAX];	/* ECDH: S || tag */
	size_t		wrapped_len;
};

/*
 * Wraps secret (1..64 bytes; a DEK or a challenge) for device key dpk of
 * scheme s under context ctx (the message id, or "challenge:" + rid;
 * ctx_len bytes). ECDH: fresh ephemeral key, HKDF-SHA256, AES-256-GCM as
 * the contract says; RSA: OAEP-SHA256/MGF1-SHA256, empty label.
 */
int sec_wrap_seal(enum sec_scheme s, struct evp_pkey_st *dpk,
    const uint8_t *secret, size_t secret_len, const char *ctx,
    size_t ctx_len, struct sec_wrap *out);
/* Test vectors only: the ephemeral private key (raw 32 bytes: X25519
 * private key or P-256 scalar) and the nonce given. RSA: not supported
 * (OAEP is randomized; vectors check opening only). */
int sec_wrap_seal_fixed(enum sec_scheme s, struct evp_pkey_st *dpk,
    const uint8_t *secret, size_t secret_len, const char *ctx,
    size_t ctx_len, const uint8_t eph_priv[32],
    const uint8_t nonce[SEC_NONCE_LEN], struct sec_wrap *out);

/* The device side: opens w with the device private key dsk into secret
 * (cap bytes), *secret_len set. EOPEN on any failure (the output is then
 * wiped). An all-zero ECDH shared secret is refused (EOPEN). */
int sec_wrap_open(struct evp_pkey_st *dsk, const struct sec_wrap *w,
    const char *ctx, size_t ctx_len, uint8_t *secret, size_t cap,
    size_t *secret_len);

/* The body AAD: "sealgate/v1/body|" + id + "|" + msisdn, into buf (cap);
 * returns its length, or -1 if it does not fit. */
int sec_body_aad(const char *id, const char *msisdn, char *buf, size_t cap);

/*
 * Body: ct (cap >= len + SEC_TAG_LEN) = AES-256-GCM(dek, nonce, pt, aad)
 * with the tag appended; nonce is filled with 12 random bytes (the _fixed
 * variant takes it). *ct_len = len + SEC_TAG_LEN.
 */
int sec_body_seal(const uint8_t dek[SEC_DEK_LEN], const char *id,
    const char *msisdn, const uint8_t *pt, size_t len,
    uint8_t nonce[SEC_NONCE_LEN], uint8_t *ct, size_t cap, size_t *ct_len);
int sec_body_seal_fixed(const uint8_t dek[SEC_DEK_LEN], const char *id,
    const char *msisdn, const uint8_t *pt, size_t len,
    const uint8_t nonce[SEC_NONCE_LEN], uint8_t *ct, size_t cap,
    size_t *ct_len);
/* Opens ct (with its tag) into pt (cap >= ct_len - SEC_TAG_LEN). EOPEN on
 * any failure; pt is wiped then. */
int sec_body_open(const uint8_t dek[SEC_DEK_LEN], const char *id,
    const char *msisdn, const uint8_t nonce[SEC_NONCE_LEN],
    const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t cap,
    size_t *pt_len);

/* A fresh DEK from RAND_bytes. */
int sec_dek_new(uint8_t dek[SEC_DEK_LEN]);

/*
 * The contract's JSON WRAP object ({"epk","nonce","wrapped"} or
 * {"wrapped"}, base64 with padding via OpenSSL's EVP_EncodeBlock) as a
 * new jansson object (json_t *, returned as void * so this header needs
 * no jansson), and back. sec_wrap_from_json: 0 or EKEY/EOPEN on a
 * malformed object.
 */
void *sec_wrap_to_json(const struct sec_wrap *w);
int sec_wrap_from_json(enum sec_scheme s, const void *json,
    struct sec_wrap *out);

/* Standard base64 with padding over OpenSSL EVP_{En,De}codeBlock.
 * encode: returns a malloc'd NUL-terminated string (NULL on ENOMEM).
 * decode: strict (padding required, no whitespace); 0 with *len set, or
 * -1 if malformed or longer than cap. */
char *sec_b64_encode(const uint8_t *in, size_t len);
int sec_b64_decode(const char *in, uint8_t *out, size_t cap, size_t *len);
/* URL-safe base64 without padding of n random bytes (ids, tokens) into
 * buf (cap >= 4*n/3 + 2). 0, or -1 if the RNG failed. */
int sec_random_id(size_t n, char *buf, size_t cap);

#endif
