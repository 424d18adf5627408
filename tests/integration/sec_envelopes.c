/*
 * sec_envelopes: envelopes made by the gateway's own sealing code
 * (secure/envelope.c) for test_sec_webcrypto.sh, which opens them in a
 * browser with WebCrypto only. For each scheme (P-256, X25519, RSA-2048,
 * RSA-3072) a fresh device key pair, one message envelope (random DEK,
 * body sealed under the id and msisdn, DEK wrapped to the device) and
 * one registration challenge; printed as one JSON object on stdout with
 * the device private key as PKCS#8 (what WebCrypto imports).
 *
 * usage: sec_envelopes MSISDN TEXT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "secure/envelope.h"

static void
die(const char *what)
{
	fprintf(stderr, "sec_envelopes: %s\n", what);
	exit(1);
}

static json_t *
b64_json(const uint8_t *b, size_t n)
{
	char *s = sec_b64_encode(b, n);
	json_t *j;

	if (s == NULL)
		die("base64");
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
pkcs8_json(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	json_t *j;

	if (bio == NULL || i2d_PKCS8PrivateKey_bio(bio, k, NULL, NULL, 0, NULL,
	    NULL) != 1)
		die("pkcs8");
	n = BIO_get_mem_data(bio, &p);
	j = b64_json((const uint8_t *)p, (size_t)n);
	BIO_free(bio);
	return j;
}

static json_t *
one_case(enum sec_scheme s, unsigned bits, const char *msisdn,
    const char *text)
{
	EVP_PKEY *dev, *pub = NULL;
	uint8_t *der = NULL, dek[SEC_DEK_LEN], c[SEC_CHALLENGE_LEN];
	uint8_t nonce[SEC_NONCE_LEN], *ct;
	size_t tl = strlen(text), ctl;
	char id[32], rid[32], ctx[48];
	struct sec_wrap w;
	json_t *o, *env, *body;
	int dl = 0;

	if (s == SEC_SCHEME_P256)
		dev = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (s == SEC_SCHEME_X25519)
		dev = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	else
		dev = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (dev == NULL || (dl = i2d_PUBKEY(dev, &der)) <= 0)
		die("keygen");
	/* The gateway's view: only the uploaded SPKI. */
	if (sec_pubkey_import(s, der, (size_t)dl, &pub) != SEC_ENV_OK)
		die("import");
	if (sec_random_id(12, id, sizeof(id)) != 0 ||
	    sec_random_id(16, rid, sizeof(rid)) != 0 ||
	    sec_dek_new(dek) != SEC_ENV_OK)
		die("random");
	if ((ct = malloc(tl + SEC_TAG_LEN)) == NULL)
		die("malloc");
	if (sec_body_seal(dek, id, msisdn, (const uint8_t *)text, tl, nonce,
	    ct, tl + SEC_TAG_LEN, &ctl) != SEC_ENV_OK)
		die("body seal");
	if (sec_wrap_seal(s, pub, dek, sizeof(dek), id, strlen(id), &w) !=
	    SEC_ENV_OK)
		die("wrap");
	env = json_object();
	json_object_set_new(env, "id", json_string(id));
	json_object_set_new(env, "from", json_string("4930"));
	json_object_set_new(env, "received_at",
	    json_string("2026-11-28T08:00:00Z"));
	json_object_set_new(env, "expires_at",
	    json_string("2026-12-05T08:00:00Z"));
	json_object_set_new(env, "content_type",
	    json_string("text/plain; charset=utf-8"));
	json_object_set_new(env, "scheme", json_string(sec_scheme_name(s)));
	json_object_set_new(env, "key", sec_wrap_to_json(&w));
	body = json_object();
	json_object_set_new(body, "nonce", b64_json(nonce, sizeof(nonce)));
	json_object_set_new(body, "ciphertext", b64_json(ct, ctl));
	json_object_set_new(env, "body", body);
	/* A registration challenge under "challenge:" + rid. */
	if (RAND_bytes(c, sizeof(c)) != 1)
		die("random");
	snprintf(ctx, sizeof(ctx), "challenge:%s", rid);
	if (sec_wrap_seal(s, pub, c, sizeof(c), ctx, strlen(ctx), &w) !=
	    SEC_ENV_OK)
		die("challenge");
	o = json_object();
	json_object_set_new(o, "scheme", json_string(sec_scheme_name(s)));
	json_object_set_new(o, "bits", json_integer(bits));
	json_object_set_new(o, "device_pkcs8", pkcs8_json(dev));
	json_object_set_new(o, "device_spki", b64_json(der, (size_t)dl));
	json_object_set_new(o, "envelope", env);
	json_object_set_new(o, "rid", json_string(rid));
	json_object_set_new(o, "challenge", sec_wrap_to_json(&w));
	json_object_set_new(o, "answer", b64_json(c, sizeof(c)));
	free(ct);
	OPENSSL_free(der);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(dev);
	return o;
}

int
main(int argc, char **argv)
{
	json_t *out, *cases;

	if (argc != 3) {
		fprintf(stderr, "usage: sec_envelopes MSISDN TEXT\n");
		return 2;
	}
	cases = json_array();
	json_array_append_new(cases, one_case(SEC_SCHEME_P256, 0, argv[1],
	    argv[2]));
	json_array_append_new(cases, one_case(SEC_SCHEME_X25519, 0, argv[1],
	    argv[2]));
	json_array_append_new(cases, one_case(SEC_SCHEME_RSA, 2048, argv[1],
	    argv[2]));
	json_array_append_new(cases, one_case(SEC_SCHEME_RSA, 3072, argv[1],
	    argv[2]));
	out = json_object();
	json_object_set_new(out, "msisdn", json_string(argv[1]));
	json_object_set_new(out, "plaintext", json_string(argv[2]));
	json_object_set_new(out, "cases", cases);
	if (json_dumpf(out, stdout, JSON_COMPACT) != 0)
		die("write");
	putchar('\n');
	json_decref(out);
	return 0;
}
