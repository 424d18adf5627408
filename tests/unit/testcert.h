/*
 * Throwaway TLS material for tests, made with the OpenSSL API (no openssl
 * command needed): a self-signed CA and a server certificate it signs,
 * written as PEM files into a fresh temporary directory.
 */
#ifndef TESTCERT_H
#define TESTCERT_H

#include <stddef.h>

struct testcert {
	char	dir[256];
	char	ca[300];	/* CA certificate (the client's trust anchor) */
	char	chain[300];	/* server certificate followed by the CA's */
	char	key[300];	/* server private key */
};

/* Makes the files; the server certificate names dns (SAN DNS) and
 * 127.0.0.1 (SAN IP). Returns 0 or -1. */
int testcert_make(struct testcert *tc, const char *dns);

/* Removes the files and the directory. */
void testcert_remove(struct testcert *tc);

#endif
