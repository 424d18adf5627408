/*
 * Fuzz target: the simulated handset app's opening rule (smsc-sim
 * sim_app_open), fed the envelope JSON a gateway answers GET
 * /v1/messages/{id} with. A fixed X25519 device key (the seeds in
 * corpus/fuzz_sim_envelope/ are sealed to it by fuzz_sim_envelope_seeds.py, so
 * the fuzzer starts from envelopes that open). Properties: never a crash;
 * an envelope that opens gives NUL-terminated text of the length told,
 * one that does not gives no text at all and says "cannot be opened".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "secure/envelope.h"
#include "sim_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SHA-256("sealgate sim fuzz device key"), as the seed maker derives it */
static const uint8_t dev_priv[32] = {
	0x46, 0x1c, 0x74, 0x61, 0xe8, 0xa0, 0xbf, 0x1e, 0xa5, 0x35, 0x6e,
	0x1c, 0xb2, 0x34, 0xc5, 0xb8, 0xe4, 0x4b, 0x32, 0xef, 0x35, 0xff,
	0x1f, 0xd2, 0xdd, 0x12, 0x71, 0x8d, 0x86, 0xd2, 0x7d, 0x0f,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *dk;
	json_t *env;
	char *text = NULL, why[160];
	size_t len = 7;
	int bin = 7, rc;

	if (dk == NULL && (dk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519,
	    NULL, dev_priv, sizeof(dev_priv))) == NULL)
		abort();
	if ((env = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	rc = sim_app_open(dk, SEC_SCHEME_X25519, "491701234567", "fuzz1", env,
	    &text, &len, &bin, why, sizeof(why));
	if (rc == 0) {
		if (text == NULL || strlen(text) != len || (bin != 0 &&
		    bin != 1))
			abort();
	} else if (rc != -1 || text != NULL || len != 0 ||
	    strstr(why, "cannot be opened") == NULL) {
		abort();
	}
	free(text);
	json_decref(env);
	return 0;
}
