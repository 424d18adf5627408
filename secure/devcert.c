/*
 * The development certificate (devcert.h): an EC P-256 key and a
 * self-signed X.509 v3 certificate for localhost, made with OpenSSL 3's
 * EVP and X509 calls. The key file is created 0600 with O_EXCL before a
 * byte of it is written, so it is never readable by others, not even for
 * a moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "secure/devcert.h"

#define DAYS	365

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;
	int		 ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -1;
}

static FILE *
create(const char *path, mode_t mode, char *err, size_t errlen)
{
	int	 fd;
	FILE	*f;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	(void)fchmod(fd, mode);
	if ((f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

int
sec_devcert_make(const char *cert, const char *key, char *err,
    size_t errlen)
{
	EVP_PKEY	*pk = NULL;
	X509		*x = NULL;
	X509_NAME	*name;
	FILE		*kf = NULL, *cf = NULL;
	uint8_t		 serial[16];
	BIGNUM		*bn = NULL;
	int		 rc = -1;

	if ((pk = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL) {
		snprintf(err, errlen, "devcert: key generation failed");
		goto out;
	}
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail_x509;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)DAYS * 86400) == NULL ||
	    X509_set_pubkey(x, pk) != 1)
		goto fail_x509;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail_x509;
	if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_ext(x, NID_key_usage,
	    "critical,digitalSignature,keyCertSign") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, NID_subject_alt_name,
	    "IP:127.0.0.1,DNS:localhost") < 0)
		goto fail_x509;
	if (X509_sign(x, pk, EVP_sha256()) <= 0)
		goto fail_x509;
	if ((kf = create(key, 0600, err, errlen)) == NULL)
		goto out;
	if ((cf = create(cert, 0644, err, errlen)) == NULL) {
		fclose(kf);
		kf = NULL;
		unlink(key);
		goto out;
	}
	if (PEM_write_PrivateKey(kf, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_X509(cf, x) != 1) {
		snprintf(err, errlen, "devcert: cannot write PEM");
		goto out;
	}
	rc = 0;
	goto out;
fail_x509:
	snprintf(err, errlen, "devcert: cannot make the certificate");
out:
	if (kf != NULL && fclose(kf) != 0)
		rc = -1;
	if (cf != NULL && fclose(cf) != 0)
		rc = -1;
	if (rc < 0 && kf != NULL) {
		unlink(key);
		unlink(cert);
	}
	ERR_clear_error();
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}
