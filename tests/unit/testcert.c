/*
 * Test certificates (see testcert.h): P-256 keys, one-day validity,
 * a CA with basicConstraints CA:TRUE and a leaf with subjectAltName.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "testcert.h"

static EVP_PKEY *
keygen(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int rc;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	rc = X509_add_ext(cert, ex, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ex);
	return rc;
}

static X509 *
mkcert(EVP_PKEY *key, const char *cn, X509 *issuer,
    long serial)
{
	X509 *c = X509_new();
	X509_NAME *n;

	if (c == NULL)
		return NULL;
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), 86400);
	X509_set_pubkey(c, key);
	n = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	return c;
}

static int
write_pem(const char *path, X509 *a, X509 *b, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	int ok = f != NULL;

	if (ok && a != NULL)
		ok = PEM_write_X509(f, a) == 1;
	if (ok && b != NULL)
		ok = PEM_write_X509(f, b) == 1;
	if (ok && key != NULL)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		    == 1;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
testcert_make(struct testcert *tc, const char *dns)
{
	EVP_PKEY *cakey = NULL, *key = NULL;
	X509 *ca = NULL, *crt = NULL;
	char san[300];
	int rc = -1;

	memset(tc, 0, sizeof(*tc));
	snprintf(tc->dir, sizeof(tc->dir), "/tmp/sg-testcert-XXXXXX");
	if (mkdtemp(tc->dir) == NULL)
		return -1;
	snprintf(tc->ca, sizeof(tc->ca), "%s/ca.pem", tc->dir);
	snprintf(tc->chain, sizeof(tc->chain), "%s/chain.pem", tc->dir);
	snprintf(tc->key, sizeof(tc->key), "%s/key.pem", tc->dir);
	snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1", dns);

	if ((cakey = keygen()) == NULL || (key = keygen()) == NULL)
		goto out;
	if ((ca = mkcert(cakey, "sealgate test CA", NULL, 1)) == NULL ||
	    add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign")
	    != 0 || add_ext(ca, ca, NID_subject_key_identifier, "hash") != 0 ||
	    X509_sign(ca, cakey, EVP_sha256()) == 0)
		goto out;
	if ((crt = mkcert(key, dns, ca, 2)) == NULL ||
	    add_ext(crt, ca, NID_basic_constraints, "CA:FALSE") != 0 ||
	    add_ext(crt, ca, NID_subject_alt_name, san) != 0 ||
	    add_ext(crt, ca, NID_ext_key_usage, "serverAuth") != 0 ||
	    X509_sign(crt, cakey, EVP_sha256()) == 0)
		goto out;
	if (write_pem(tc->ca, ca, NULL, NULL) != 0 ||
	    write_pem(tc->chain, crt, ca, NULL) != 0 ||
	    write_pem(tc->key, NULL, NULL, key) != 0)
		goto out;
	rc = 0;
out:
	X509_free(ca);
	X509_free(crt);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	if (rc != 0)
		testcert_remove(tc);
	return rc;
}

void
testcert_remove(struct testcert *tc)
{
	if (tc->dir[0] == '\0')
		return;
	unlink(tc->ca);
	unlink(tc->chain);
	unlink(tc->key);
	rmdir(tc->dir);
	tc->dir[0] = '\0';
}
