/*
 * Unit tests for gateway/passwd: hashes verify, wrong passwords do not,
 * salts differ, malformed hashes are refused, the iteration count is read.
 * (The compare is CRYPTO_memcmp in gw_passwd_verify: by review.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/passwd.h"

/* The minimum keeps the tests quick; the default is tested once. */
#define FAST	GW_PASSWD_ITER_MIN

static void
test_roundtrip(void **state)
{
	char h[GW_PASSWD_HASH_MAX + 1];
	uint32_t iter = 0;

	(void)state;
	assert_int_equal(gw_passwd_hash("demopass", 8, FAST, h, sizeof(h)), 0);
	assert_int_equal(strncmp(h, "$pbkdf2-sha256$i=10000$", 23), 0);
	assert_int_equal(gw_passwd_parse(h, &iter, NULL), 0);
	assert_int_equal(iter, FAST);
	assert_int_equal(gw_passwd_verify("demopass", 8, h), 1);
	assert_int_equal(gw_passwd_verify("demopasS", 8, h), 0);
	assert_int_equal(gw_passwd_verify("demopas", 7, h), 0);
	assert_int_equal(gw_passwd_verify("", 0, h), 0);
	assert_int_equal(gw_passwd_verify("demopass1", 9, h), 0);
	/* The default count. */
	assert_int_equal(gw_passwd_hash("x", 1, 0, h, sizeof(h)), 0);
	assert_int_equal(gw_passwd_parse(h, &iter, NULL), 0);
	assert_int_equal(iter, GW_PASSWD_ITER_DEFAULT);
	assert_int_equal(gw_passwd_verify("x", 1, h), 1);
}

static void
test_salts_differ(void **state)
{
	char a[GW_PASSWD_HASH_MAX + 1], b[GW_PASSWD_HASH_MAX + 1];

	(void)state;
	assert_int_equal(gw_passwd_hash("same", 4, FAST, a, sizeof(a)), 0);
	assert_int_equal(gw_passwd_hash("same", 4, FAST, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	/* Salt parts differ, not just the hashes. */
	assert_memory_not_equal(a + 23, b + 23, 24);
	assert_int_equal(gw_passwd_verify("same", 4, a), 1);
	assert_int_equal(gw_passwd_verify("same", 4, b), 1);
}

static void
test_refused_inputs(void **state)
{
	char h[GW_PASSWD_HASH_MAX + 1];

	(void)state;
	assert_int_equal(gw_passwd_hash("toolongpw", 9, FAST, h, sizeof(h)),
	    -1);
	assert_int_equal(gw_passwd_hash("x", 1, 999, h, sizeof(h)), -1);
	assert_int_equal(gw_passwd_hash("x", 1, FAST, h, 20), -1);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *hash;
		const char *why;
	} bad[] = {
		{ "demopass", "not a password hash (make one with `sealgate "
		    "passwd`)" },
		{ "", "not a password hash (make one with `sealgate "
		    "passwd`)" },
		{ "$2y$10$abcdefghijklmnopqrstuv", "unsupported hash scheme "
		    "(expected $pbkdf2-sha256$)" },
		{ "$pbkdf2-sha256$i=$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAA=", "bad iteration count" },
		{ "$pbkdf2-sha256$i=0100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "bad iteration count" },
		{ "$pbkdf2-sha256$i=1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		    "iteration count must be 10000..10000000" },
		{ "$pbkdf2-sha256$i=99999999999$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		    "iteration count must be 10000..10000000" },
		{ "$pbkdf2-sha256$i=100000", "iteration count must be "
		    "10000..10000000" },
		{ "$pbkdf2-sha256$i=100000$AAAAAAAAAAAAAAAAAAAAAA==",
		    "missing hash part" },
		{ "$pbkdf2-sha256$i=100000$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAA=", "bad salt (expected base64 of 16..64 "
		    "bytes)" },
		{ "$pbkdf2-sha256$i=100000$AAAAAAAAAAAAAAAAAAAA*A==$AAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "bad salt (expected "
		    "base64 of 16..64 bytes)" },
		{ "$pbkdf2-sha256$i=100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "bad hash part "
		    "(expected base64 of 32 bytes)" },
		{ "$pbkdf2-sha256$i=100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ", "bad hash part "
		    "(expected base64 of 32 bytes)" },
		{ "$pbkdf2-sha256$i=100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$", "bad hash part "
		    "(expected base64 of 32 bytes)" },
	};
	const char *why;
	uint32_t iter;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (gw_passwd_parse(bad[i].hash, &iter, &why) != -1)
			fail_msg("accepted: %s", bad[i].hash);
		assert_non_null(why);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("%s: got '%s'", bad[i].hash, why);
		assert_int_equal(gw_passwd_verify("x", 1, bad[i].hash), -1);
	}
	/* A well-formed hash of other bytes: parses, does not verify. */
	assert_int_equal(gw_passwd_parse("$pbkdf2-sha256$i=10000$AAAAAAAAAAAAAA"
	    "AAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &iter,
	    &why), 0);
	assert_int_equal(iter, 10000);
	assert_int_equal(gw_passwd_verify("x", 1, "$pbkdf2-sha256$i=10000$AAA"
	    "AAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AA="), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_salts_differ),
		cmocka_unit_test(test_refused_inputs),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
