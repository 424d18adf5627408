/*
 * Benchmark: the secure path's crypto on one core. Per scheme (P-256,
 * X25519, RSA-2048, RSA-3072): seal = a fresh DEK + the 160-byte body
 * (AES-256-GCM) + the DEK wrapped to a device key, as the gateway does
 * for each message and device; open = unwrap + body open, as the app
 * does. Also the vault wrap (key ring, AES-GCM under the KEK) that holds
 * the DEK of a message for an unregistered recipient. Each round runs
 * for a fixed time; the table shows the median of the rounds.
 * Usage: bench_seal [rounds (5)] [seconds per round (0.3)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bench_util.h"

#include "secure/envelope.h"
#include "secure/keyring.h"

#define BODY_LEN	160
#define ROUNDS_MAX	32

static const char *id = "mQ2f9XkT0aB7cD1e", *msisdn = "491701234567";
static uint8_t body[BODY_LEN];

struct state {
	enum sec_scheme	s;
	EVP_PKEY	*dev, *pub;
	struct sec_wrap	w;
	uint8_t		nonce[SEC_NONCE_LEN], ct[BODY_LEN + SEC_TAG_LEN];
	size_t		ctl;
	struct sec_keyring *ring;
	struct sec_vault_wrap vw;
};

static void
die(const char *what)
{
	fprintf(stderr, "bench_seal: %s failed\n", what);
	exit(1);
}

static void
op_seal(struct state *st)
{
	uint8_t dek[SEC_DEK_LEN];

	if (sec_dek_new(dek) != SEC_ENV_OK ||
	    sec_body_seal(dek, id, msisdn, body, BODY_LEN, st->nonce, st->ct,
	    sizeof(st->ct), &st->ctl) != SEC_ENV_OK ||
	    sec_wrap_seal(st->s, st->pub, dek, sizeof(dek), id, strlen(id),
	    &st->w) != SEC_ENV_OK)
		die("seal");
	OPENSSL_cleanse(dek, sizeof(dek));
}

static void
op_open(struct state *st)
{
	uint8_t dek[64], pt[BODY_LEN];
	size_t n, ptl;

	if (sec_wrap_open(st->dev, &st->w, id, strlen(id), dek, sizeof(dek),
	    &n) != SEC_ENV_OK ||
	    sec_body_open(dek, id, msisdn, st->nonce, st->ct, st->ctl, pt,
	    sizeof(pt), &ptl) != SEC_ENV_OK || ptl != BODY_LEN)
		die("open");
	OPENSSL_cleanse(dek, sizeof(dek));
}

static void
op_vault_seal(struct state *st)
{
	uint8_t dek[SEC_DEK_LEN];

	if (sec_dek_new(dek) != SEC_ENV_OK ||
	    sec_body_seal(dek, id, msisdn, body, BODY_LEN, st->nonce, st->ct,
	    sizeof(st->ct), &st->ctl) != SEC_ENV_OK ||
	    sec_keyring_wrap(st->ring, id, msisdn, dek, &st->vw) != 0)
		die("vault seal");
	OPENSSL_cleanse(dek, sizeof(dek));
}

static void
op_vault_open(struct state *st)
{
	uint8_t dek[SEC_DEK_LEN], pt[BODY_LEN];
	size_t ptl;

	if (sec_keyring_unwrap(st->ring, id, msisdn, &st->vw, dek) != 0 ||
	    sec_body_open(dek, id, msisdn, st->nonce, st->ct, st->ctl, pt,
	    sizeof(pt), &ptl) != SEC_ENV_OK)
		die("vault open");
	OPENSSL_cleanse(dek, sizeof(dek));
}

/* Median over rounds of ops per second, each round secs long. */
static double
rate(void (*op)(struct state *), struct state *st, int rounds, double secs)
{
	double r[ROUNDS_MAX], t0, t;
	long n;
	int i, k;

	op(st);		/* warm up, and leaves a sealed message for open */
	for (i = 0; i < rounds; i++) {
		n = 0;
		t0 = bench_now_s();
		do {
			for (k = 0; k < 8; k++)
				op(st);
			n += 8;
			t = bench_now_s() - t0;
		} while (t < secs);
		r[i] = (double)n / t;
	}
	return bench_median(r, rounds);
}

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	double secs = argc > 2 ? atof(argv[2]) : 0.3;
	static const struct {
		const char *label;
		enum sec_scheme s;
		const char *type;
		size_t bits;
	} rows[] = {
		{ "P-256", SEC_SCHEME_P256, "EC", 0 },
		{ "X25519", SEC_SCHEME_X25519, "X25519", 0 },
		{ "RSA-2048", SEC_SCHEME_RSA, "RSA", 2048 },
		{ "RSA-3072", SEC_SCHEME_RSA, "RSA", 3072 },
	};
	char dir[] = "/tmp/sg-bench-seal-XXXXXX", err[256], path[300];
	struct state st;
	uint8_t *der;
	size_t i;
	int dl;

	if (rounds < 1 || rounds > ROUNDS_MAX)
		rounds = 5;
	if (secs <= 0 || secs > 10)
		secs = 0.3;
	memset(body, 'x', sizeof(body));
	printf("seal = DEK + %d-byte body + wrap; open = unwrap + body; "
	    "median of %d rounds of %.2f s, one core\n\n", BODY_LEN, rounds,
	    secs);
	printf("| key | seal/s | open/s |\n|---|---|---|\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&st, 0, sizeof(st));
		st.s = rows[i].s;
		if (rows[i].bits)
			st.dev = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
			    rows[i].bits);
		else if (rows[i].s == SEC_SCHEME_P256)
			st.dev = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		else
			st.dev = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		der = NULL;
		if (st.dev == NULL || (dl = i2d_PUBKEY(st.dev, &der)) <= 0 ||
		    sec_pubkey_import(st.s, der, (size_t)dl, &st.pub) !=
		    SEC_ENV_OK)
			die("key");
		OPENSSL_free(der);
		printf("| %s | %.0f |", rows[i].label,
		    rate(op_seal, &st, rounds, secs));
		fflush(stdout);
		printf(" %.0f |\n", rate(op_open, &st, rounds, secs));
		fflush(stdout);
		EVP_PKEY_free(st.pub);
		EVP_PKEY_free(st.dev);
	}
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/vault", dir);
	memset(&st, 0, sizeof(st));
	if ((st.ring = sec_keyring_load(path, 1, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_seal: %s\n", err);
		return 1;
	}
	printf("| vault (AES-GCM KEK) | %.0f |", rate(op_vault_seal, &st,
	    rounds, secs));
	printf(" %.0f |\n", rate(op_vault_open, &st, rounds, secs));
	sec_keyring_free(st.ring);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return 0;
}
