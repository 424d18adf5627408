/*
 * smsc-sim's handset app: the opening rule (sim_app_open) against
 * envelopes sealed with secure/envelope.h for each scheme, every kind of
 * tampering refused with nothing kept, and the control API's validators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "secure/envelope.h"
#include "sim_app.h"

#define MSISDN	"491701234567"
#define ID	"3f00a1b2c3d4e5"

struct seal_opts {
	const char	*env_id;	/* id written into the envelope */
	const char	*wrap_ctx;	/* context of the DEK wrap */
	const char	*aad_id;	/* id in the body AAD */
	const char	*aad_msisdn;
	const char	*scheme_name;	/* written into the envelope */
	const char	*content_type;
	int		 flip_ct;	/* flip a ciphertext bit */
	int		 flip_tag;
	int		 flip_nonce;
	int		 no_body;
	int		 rsa_opens;	/* RSA wraps carry no context */
};

static EVP_PKEY *
keygen(enum sec_scheme s)
{
	EVP_PKEY *k = NULL;

	if (s == SEC_SCHEME_X25519)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	else if (s == SEC_SCHEME_P256)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(k);
	return k;
}

/* An envelope of pt for device key dk (scheme s), tampered as o says. */
static json_t *
seal(enum sec_scheme s, EVP_PKEY *dk, const uint8_t *pt, size_t len,
    const struct seal_opts *o)
{
	uint8_t dek[SEC_DEK_LEN], nonce[SEC_NONCE_LEN], ct[512];
	size_t ct_len = 0;
	struct sec_wrap w;
	const char *ctx = o->wrap_ctx ? o->wrap_ctx : ID;
	char *b_nonce, *b_ct;
	json_t *env, *body;

	assert_int_equal(sec_dek_new(dek), 0);
	assert_int_equal(sec_body_seal(dek, o->aad_id ? o->aad_id : ID,
	    o->aad_msisdn ? o->aad_msisdn : MSISDN, pt, len, nonce, ct,
	    sizeof(ct), &ct_len), 0);
	assert_int_equal(sec_wrap_seal(s, dk, dek, sizeof(dek), ctx,
	    strlen(ctx), &w), 0);
	if (o->flip_ct)
		ct[0] ^= 0x01;
	if (o->flip_tag)
		ct[ct_len - 1] ^= 0x80;
	if (o->flip_nonce)
		nonce[3] ^= 0x10;
	b_nonce = sec_b64_encode(nonce, sizeof(nonce));
	b_ct = sec_b64_encode(ct, ct_len);
	body = json_pack("{s:s, s:s}", "nonce", b_nonce, "ciphertext", b_ct);
	free(b_nonce);
	free(b_ct);
	env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
	    "id", o->env_id ? o->env_id : ID, "from", "Bank",
	    "received_at", "2026-11-28T08:00:00Z",
	    "expires_at", "2026-12-05T08:00:00Z",
	    "content_type", o->content_type ? o->content_type :
	    "text/plain; charset=utf-8",
	    "scheme", o->scheme_name ? o->scheme_name : sec_scheme_name(s),
	    "key", (json_t *)sec_wrap_to_json(&w));
	assert_non_null(env);
	if (o->no_body)
		json_decref(body);
	else
		json_object_set_new(env, "body", body);
	return env;
}

static int
try_open(EVP_PKEY *dk, enum sec_scheme s, const json_t *env, char **text,
    int *binary)
{
	char why[160];
	size_t len = 99;
	int rc;

	rc = sim_app_open(dk, (int)s, MSISDN, ID, env, text, &len, binary,
	    why, sizeof(why));
	if (rc != 0) {
		/* Nothing kept, and the user reads "cannot be opened". */
		assert_null(*text);
		assert_int_equal(len, 0);
		assert_non_null(strstr(why, "cannot be opened"));
	} else {
		assert_int_equal(strlen(*text), len);
	}
	return rc;
}

static void
opens_each_scheme(void **state)
{
	static const enum sec_scheme schemes[] = { SEC_SCHEME_X25519,
	    SEC_SCHEME_P256, SEC_SCHEME_RSA };
	const char *msg = "Grüße ✓ — your PIN letter";

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		EVP_PKEY *dk = keygen(schemes[i]);
		struct seal_opts o = { 0 };
		json_t *env = seal(schemes[i], dk, (const uint8_t *)msg,
		    strlen(msg), &o);
		char *text = NULL;
		int bin = -1;

		assert_int_equal(try_open(dk, schemes[i], env, &text, &bin),
		    0);
		assert_string_equal(text, msg);
		assert_int_equal(bin, 0);
		free(text);
		json_decref(env);
		EVP_PKEY_free(dk);
	}
}

static void
refuses_tampering(void **state)
{
	static const enum sec_scheme schemes[] = { SEC_SCHEME_X25519,
	    SEC_SCHEME_P256, SEC_SCHEME_RSA };
	const struct seal_opts bad[] = {
		{ .env_id = "3f00a1b2c3d4e6" },		/* another id */
		{ .env_id = "3f00a1b2c3d4e6", .wrap_ctx = "3f00a1b2c3d4e6",
		  .aad_id = "3f00a1b2c3d4e6" },		/* consistently
							 * another message */
		{ .wrap_ctx = "challenge:x", .rsa_opens = 1 },	/* wrap
							 * context */
		{ .aad_id = "3f00a1b2c3d4e6" },		/* body AAD id */
		{ .aad_msisdn = "491701234568" },	/* body AAD msisdn */
		{ .flip_ct = 1 },
		{ .flip_tag = 1 },
		{ .flip_nonce = 1 },
		{ .content_type = "text/html" },
		{ .no_body = 1 },
	};
	const char *msg = "secret text";

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		EVP_PKEY *dk = keygen(schemes[i]);

		for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			json_t *env = seal(schemes[i], dk,
			    (const uint8_t *)msg, strlen(msg), &bad[j]);
			char *text = NULL;
			int bin;

			/* The RSA wrap has no context of its own (the body
			 * AAD binds the id there): a DEK "wrapped under
			 * another context" is just the DEK. */
			int want = schemes[i] == SEC_SCHEME_RSA &&
			    bad[j].rsa_opens ? 0 : -1;

			assert_int_equal(try_open(dk, schemes[i], env, &text,
			    &bin), want);
			free(text);
			json_decref(env);
		}
		EVP_PKEY_free(dk);
	}
}

static void
refuses_other_keys_and_schemes(void **state)
{
	EVP_PKEY *a = keygen(SEC_SCHEME_X25519), *b = keygen(SEC_SCHEME_X25519);
	EVP_PKEY *p = keygen(SEC_SCHEME_P256);
	struct seal_opts o = { 0 }, lie = { .scheme_name =
	    "ecdh-p256-hkdf-sha256-aes256gcm" };
	json_t *env = seal(SEC_SCHEME_X25519, a, (const uint8_t *)"x", 1, &o);
	json_t *env2 = seal(SEC_SCHEME_X25519, a, (const uint8_t *)"x", 1,
	    &lie);
	char *text = NULL;
	int bin;

	(void)state;
	/* another device's key */
	assert_int_equal(try_open(b, SEC_SCHEME_X25519, env, &text, &bin), -1);
	/* the device is P-256, the envelope says x25519 */
	assert_int_equal(try_open(p, SEC_SCHEME_P256, env, &text, &bin), -1);
	/* the envelope names another scheme than the device's */
	assert_int_equal(try_open(a, SEC_SCHEME_X25519, env2, &text, &bin),
	    -1);
	/* malformed: not an object, no key */
	assert_int_equal(try_open(a, SEC_SCHEME_X25519, json_null(), &text,
	    &bin), -1);
	json_object_del(env, "key");
	assert_int_equal(try_open(a, SEC_SCHEME_X25519, env, &text, &bin), -1);
	json_decref(env);
	json_decref(env2);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(p);
}

static void
text_must_be_utf8_binary_is_hex(void **state)
{
	EVP_PKEY *k = keygen(SEC_SCHEME_P256);
	const uint8_t bad[] = { 'o', 'k', 0xff, 0xfe };
	const uint8_t nul[] = { 'a', 0, 'b' };
	struct seal_opts o = { 0 }, bin = { .content_type =
	    "application/octet-stream" };
	json_t *env;
	char *text = NULL;
	int b;

	(void)state;
	env = seal(SEC_SCHEME_P256, k, bad, sizeof(bad), &o);
	assert_int_equal(try_open(k, SEC_SCHEME_P256, env, &text, &b), -1);
	json_decref(env);
	env = seal(SEC_SCHEME_P256, k, nul, sizeof(nul), &o);
	assert_int_equal(try_open(k, SEC_SCHEME_P256, env, &text, &b), -1);
	json_decref(env);
	env = seal(SEC_SCHEME_P256, k, bad, sizeof(bad), &bin);
	assert_int_equal(try_open(k, SEC_SCHEME_P256, env, &text, &b), 0);
	assert_string_equal(text, "6f6bfffe");
	assert_int_equal(b, 1);
	free(text);
	json_decref(env);
	/* an empty message opens as "" */
	env = seal(SEC_SCHEME_P256, k, (const uint8_t *)"", 0, &o);
	assert_int_equal(try_open(k, SEC_SCHEME_P256, env, &text, &b), 0);
	assert_string_equal(text, "");
	free(text);
	json_decref(env);
	EVP_PKEY_free(k);
}

static void
validators(void **state)
{
	(void)state;
	assert_true(sim_app_valid_msisdn("491701234567"));
	assert_true(sim_app_valid_msisdn("123456"));
	assert_true(sim_app_valid_msisdn("123456789012345"));
	assert_false(sim_app_valid_msisdn("12345"));
	assert_false(sim_app_valid_msisdn("1234567890123456"));
	assert_false(sim_app_valid_msisdn("0491701234567"));
	assert_false(sim_app_valid_msisdn("+491701234567"));
	assert_false(sim_app_valid_msisdn("4917012345a7"));
	assert_false(sim_app_valid_msisdn(""));
	assert_true(sim_app_valid_device("a"));
	assert_true(sim_app_valid_device("phone2b"));
	assert_false(sim_app_valid_device(""));
	assert_false(sim_app_valid_device("A"));
	assert_false(sim_app_valid_device("abcdefghi"));
	assert_false(sim_app_valid_device("a/b"));
	assert_int_equal(sim_app_scheme_check("x25519"), 0);
	assert_int_equal(sim_app_scheme_check("p256"), 0);
	assert_int_equal(sim_app_scheme_check("rsa2048"), 0);
	assert_int_equal(sim_app_scheme_check(
	    "ecdh-p256-hkdf-sha256-aes256gcm"), 0);
	assert_int_equal(sim_app_scheme_check(
	    "rsa-oaep-sha256-aes256gcm"), 0);
	assert_int_equal(sim_app_scheme_check("ed25519"), -1);
	assert_int_equal(sim_app_scheme_check(""), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opens_each_scheme),
		cmocka_unit_test(refuses_tampering),
		cmocka_unit_test(refuses_other_keys_and_schemes),
		cmocka_unit_test(text_must_be_utf8_binary_is_hex),
		cmocka_unit_test(validators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
