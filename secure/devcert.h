/*
 * A self-signed development certificate for the handset API, made by
 * sec_api_start() when neither the certificate nor the key file exists:
 * EC P-256, CN localhost, SAN IP:127.0.0.1 and DNS:localhost, valid a
 * year. conf/make-dev-cert.sh makes the same with the openssl CLI.
 * Never for production: operators give a real certificate.
 *
 * Return convention: 0, or -1 with a reason in err.
 */
#ifndef SEC_DEVCERT_H
#define SEC_DEVCERT_H

#include <stddef.h>

/* Writes key (PEM, mode 0600, created exclusively) and cert (PEM, 0644).
 * Refuses to overwrite either. */
int sec_devcert_make(const char *cert, const char *key, char *err,
    size_t errlen);

#endif
