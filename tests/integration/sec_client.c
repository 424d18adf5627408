/*
 * A test-only handset over sg_secure_crypto, for test_sec_api.sh: makes
 * device keys, opens proof-of-possession challenges and envelopes the way
 * an app would. Test input only; secrets go to stdout on purpose.
 *
 *   sec_client keygen SCHEME PRIVFILE [RSA_BITS]  -> base64 DER SPKI
 *   sec_client open-wrap PRIVFILE CONTEXT         < WRAP or {"challenge":
 *                                                  WRAP} -> base64 secret
 *   sec_client open-envelope PRIVFILE MSISDN      < ENVELOPE -> plaintext
 *   sec_client bad-point                          -> a P-256 SPKI whose
 *                                                  point is off the curve
 * Exit 0 on success, 1 on failure (a message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "secure/envelope.h"

static int
die(const char *msg)
{
	fprintf(stderr, "sec_client: %s\n", msg);
	return 1;
}

static int
print_b64(const uint8_t *p, size_t n)
{
	char *s = sec_b64_encode(p, n);

	if (s == NULL)
		return die("out of memory");
	printf("%s\n", s);
	free(s);
	return 0;
}

static int
keygen(const char *scheme, const char *path, int bits)
{
	enum sec_scheme	 s = sec_scheme_from_name(scheme);
	EVP_PKEY	*pk = NULL;
	unsigned char	*der = NULL;
	FILE		*f;
	int		 n, rc;

	switch (s) {
	case SEC_SCHEME_P256:
		pk = EVP_EC_gen("P-256");
		break;
	case SEC_SCHEME_X25519:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		break;
	case SEC_SCHEME_RSA:
		pk = EVP_RSA_gen(bits > 0 ? (unsigned)bits : 2048);
		break;
	default:
		return die("unknown scheme");
	}
	if (pk == NULL)
		return die("keygen failed");
	if ((f = fopen(path, "w")) == NULL ||
	    PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) != 1) {
		EVP_PKEY_free(pk);
		return die("cannot write the key");
	}
	fclose(f);
	if ((n = i2d_PUBKEY(pk, &der)) <= 0) {
		EVP_PKEY_free(pk);
		return die("cannot encode the public key");
	}
	rc = print_b64(der, (size_t)n);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return rc;
}

static EVP_PKEY *
load_key(const char *path, enum sec_scheme *s)
{
	FILE		*f = fopen(path, "r");
	EVP_PKEY	*pk;

	if (f == NULL)
		return NULL;
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL)
		return NULL;
	if (EVP_PKEY_is_a(pk, "EC"))
		*s = SEC_SCHEME_P256;
	else if (EVP_PKEY_is_a(pk, "X25519"))
		*s = SEC_SCHEME_X25519;
	else
		*s = SEC_SCHEME_RSA;
	return pk;
}

static json_t *
read_stdin_json(void)
{
	json_error_t e;

	return json_loadf(stdin, 0, &e);
}

static int
open_wrap(const char *path, const char *ctx)
{
	enum sec_scheme	 s;
	EVP_PKEY	*pk = load_key(path, &s);
	json_t		*o = read_stdin_json(), *w;
	struct sec_wrap	 wrap;
	uint8_t		 secret[64];
	size_t		 n;
	int		 rc = 1;

	if (pk == NULL || o == NULL)
		return die("bad key or JSON");
	w = json_object_get(o, "challenge");
	if (w == NULL)
		w = o;
	if (sec_wrap_from_json(s, w, &wrap) != SEC_ENV_OK)
		die("malformed WRAP");
	else if (sec_wrap_open(pk, &wrap, ctx, strlen(ctx), secret,
	    sizeof(secret), &n) != SEC_ENV_OK)
		die("cannot be opened");
	else
		rc = print_b64(secret, n);
	json_decref(o);
	EVP_PKEY_free(pk);
	return rc;
}

static int
open_envelope(const char *path, const char *msisdn)
{
	enum sec_scheme	 s;
	EVP_PKEY	*pk = load_key(path, &s);
	json_t		*o = read_stdin_json();
	const char	*id, *scheme, *nonce_b64, *ct_b64;
	struct sec_wrap	 wrap;
	uint8_t		 dek[64], nonce[SEC_NONCE_LEN], *ct = NULL, *pt = NULL;
	size_t		 n, nn, ctlen, ptlen;
	int		 rc = 1;

	if (pk == NULL || o == NULL)
		return die("bad key or JSON");
	if (json_unpack(o, "{s:s, s:s, s:{s:s, s:s}}", "id", &id, "scheme",
	    &scheme, "body", "nonce", &nonce_b64, "ciphertext",
	    &ct_b64) != 0) {
		die("not an envelope");
		goto out;
	}
	if (sec_scheme_from_name(scheme) != s) {
		die("scheme differs from the key's");
		goto out;
	}
	ctlen = strlen(ct_b64);
	if ((ct = malloc(ctlen + 1)) == NULL ||
	    (pt = malloc(ctlen + 1)) == NULL) {
		die("out of memory");
		goto out;
	}
	if (sec_wrap_from_json(s, json_object_get(o, "key"), &wrap) !=
	    SEC_ENV_OK || sec_wrap_open(pk, &wrap, id, strlen(id), dek,
	    sizeof(dek), &n) != SEC_ENV_OK || n != SEC_DEK_LEN ||
	    sec_b64_decode(nonce_b64, nonce, sizeof(nonce), &nn) != 0 ||
	    nn != SEC_NONCE_LEN ||
	    sec_b64_decode(ct_b64, ct, ctlen, &ctlen) != 0 ||
	    sec_body_open(dek, id, msisdn, nonce, ct, ctlen, pt, ctlen + 1,
	    &ptlen) != SEC_ENV_OK) {
		die("cannot be opened");
		goto out;
	}
	fwrite(pt, 1, ptlen, stdout);
	printf("\n");
	rc = 0;
out:
	free(ct);
	free(pt);
	json_decref(o);
	EVP_PKEY_free(pk);
	return rc;
}

/* A P-256 SubjectPublicKeyInfo with the point (1, 1): not on the curve. */
static int
bad_point(void)
{
	static const uint8_t prefix[] = {
		0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
		0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
	};
	uint8_t der[sizeof(prefix) + 64] = { 0 };

	memcpy(der, prefix, sizeof(prefix));
	der[sizeof(prefix) + 31] = 1;
	der[sizeof(prefix) + 63] = 1;
	return print_b64(der, sizeof(der));
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "keygen") == 0)
		return keygen(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 0);
	if (argc == 4 && strcmp(argv[1], "open-wrap") == 0)
		return open_wrap(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "open-envelope") == 0)
		return open_envelope(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "bad-point") == 0)
		return bad_point();
	fprintf(stderr, "usage: sec_client keygen SCHEME PRIVFILE [BITS] | "
	    "open-wrap PRIVFILE CONTEXT | open-envelope PRIVFILE MSISDN | "
	    "bad-point\n");
	return 2;
}
