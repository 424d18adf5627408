/*
 * UCS-2 (UTF-16BE, surrogate pairs), Latin-1 and the strict UTF-8 reader
 * they share with GSM 7 (smpp/charset.h). Every bad input is checked for
 * its reason, its offset and untouched bytes past the capacity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/charset.h"

#include "canary.h"

/* 1 if U+FFFD (EF BF BD) is in u[0..n). */
static int
has_replacement(const char *u, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++)
		if (memcmp(u + i, "\xEF\xBF\xBD", 3) == 0)
			return 1;
	return 0;
}

static const struct {
	const char	*utf8;
	size_t		 ulen;
	const char	*ucs2;
	size_t		 blen;
} ucs2_vectors[] = {
	{ "A", 1, "\x00\x41", 2 },
	{ "\xC3\xA9", 2, "\x00\xE9", 2 },
	{ "\xE2\x82\xAC", 3, "\x20\xAC", 2 },
	{ "\xC5\x82", 2, "\x01\x42", 2 },
	{ "\xF0\x9F\x98\x80", 4, "\xD8\x3D\xDE\x00", 4 },	/* U+1F600 */
	{ "\xF4\x8F\xBF\xBF", 4, "\xDB\xFF\xDF\xFF", 4 },	/* U+10FFFF */
	{ "\xF0\x90\x80\x80", 4, "\xD8\x00\xDC\x00", 4 },	/* U+10000 */
	{ "\xEF\xBF\xBF", 3, "\xFF\xFF", 2 },
	{ "\xEE\x80\x80", 3, "\xE0\x00", 2 },
	{ "\xED\x9F\xBF", 3, "\xD7\xFF", 2 },
	{ "\x00", 1, "\x00\x00", 2 },
	{ "a\xF0\x9F\x98\x80z", 6, "\x00\x61\xD8\x3D\xDE\x00\x00\x7A", 8 },
};

static void
test_ucs2_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ucs2_vectors) / sizeof(ucs2_vectors[0]);
	    i++) {
		uint8_t b[16];
		char u[16];
		size_t ul = ucs2_vectors[i].ulen, bl = ucs2_vectors[i].blen;

		assert_int_equal(smpp_ucs2_from_utf8(ucs2_vectors[i].utf8, ul,
		    b, sizeof(b), NULL), (int)bl);
		assert_memory_equal(b, ucs2_vectors[i].ucs2, bl);
		assert_int_equal(smpp_ucs2_to_utf8(
		    (const uint8_t *)ucs2_vectors[i].ucs2, bl, 0, u, sizeof(u),
		    NULL), (int)ul);
		assert_memory_equal(u, ucs2_vectors[i].utf8, ul);
		/* Measuring agrees. */
		assert_int_equal(smpp_ucs2_from_utf8(ucs2_vectors[i].utf8, ul,
		    NULL, 0, NULL), (int)bl);
	}
}

static void
test_ucs2_bad_surrogates(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		size_t		 off;
	} bad[] = {
		{ "\xD8\x3D", 2, 0 },			/* lone high */
		{ "\xDE\x00", 2, 0 },			/* lone low */
		{ "\x00\x41\xD8\x3D\x00\x41", 6, 2 },	/* high, no low */
		{ "\xDE\x00\xD8\x3D", 4, 0 },		/* reversed */
		{ "\xD8\x3D\xD8\x3D\xDE\x00", 6, 0 },	/* high, high, low */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char u[16 + CANARY_LEN];
		struct smpp_charset_err e;
		int n;

		canary_fill(u, sizeof(u));
		assert_int_equal(smpp_ucs2_to_utf8((const uint8_t *)bad[i].in,
		    bad[i].len, 0, u, 16, &e), -1);
		assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
		assert_int_equal(e.off, bad[i].off);
		canary_check(u, 16);
		/* REPLACE puts U+FFFD (EF BF BD) in their place. */
		n = smpp_ucs2_to_utf8((const uint8_t *)bad[i].in, bad[i].len,
		    SMPP_CHARSET_REPLACE, u, 16, &e);
		assert_true(n >= 3);
		assert_true(has_replacement(u, (size_t)n));
		canary_check(u, 16);
	}
}

static void
test_ucs2_odd_length_and_space(void **state)
{
	char u[4 + CANARY_LEN];
	uint8_t b[3 + CANARY_LEN];
	struct smpp_charset_err e;

	(void)state;
	assert_int_equal(smpp_ucs2_to_utf8((const uint8_t *)"\x00\x41\x00",
	    3, 0, u, 4, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	assert_int_equal(e.off, 2);
	assert_int_equal(smpp_ucs2_to_utf8((const uint8_t *)"\x00\x41\x00",
	    3, SMPP_CHARSET_REPLACE, u, 4, &e), 4);
	assert_memory_equal(u, "A\xEF\xBF\xBD", 4);
	/* Three octets of room: the surrogate pair needs four. */
	canary_fill(b, sizeof(b));
	assert_int_equal(smpp_ucs2_from_utf8("\xF0\x9F\x98\x80", 4, b, 3, &e),
	    -1);
	assert_int_equal(e.reason, SMPP_CHARSET_NOSPACE);
	assert_int_equal(b[0], CANARY);
	canary_check(b, 3);
	/* A 3-octet character never goes out in part. */
	canary_fill(u, sizeof(u));
	assert_int_equal(smpp_ucs2_to_utf8((const uint8_t *)"\x00\x41\x20\xAC",
	    4, 0, u, 3, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_NOSPACE);
	assert_int_equal(e.off, 2);
	assert_int_equal((uint8_t)u[1], CANARY);
	canary_check(u, 3);
}

/* Invalid UTF-8 and where it starts; each encoder must refuse it. */
static const struct {
	const char	*in;
	size_t		 len;
	size_t		 off;
	const char	*what;
} bad_utf8[] = {
	{ "\xC0\x80", 2, 0, "overlong NUL" },
	{ "\xC1\xBF", 2, 0, "overlong 2-octet" },
	{ "a\xE0\x80\x80", 4, 1, "overlong 3-octet" },
	{ "\xE0\x9F\xBF", 3, 0, "overlong U+07FF" },
	{ "\xF0\x80\x80\x80", 4, 0, "overlong 4-octet" },
	{ "\xF0\x8F\xBF\xBF", 4, 0, "overlong U+FFFF" },
	{ "\xED\xA0\x80", 3, 0, "surrogate U+D800" },
	{ "ab\xED\xBF\xBF", 5, 2, "surrogate U+DFFF" },
	{ "\xED\xA0\xBD\xED\xB8\x80", 6, 0, "CESU-8 pair" },
	{ "\xF4\x90\x80\x80", 4, 0, "above U+10FFFF" },
	{ "\xF5\x80\x80\x80", 4, 0, "F5 lead" },
	{ "\xFF", 1, 0, "FF" },
	{ "\xFE", 1, 0, "FE" },
	{ "x\x80", 2, 1, "stray continuation" },
	{ "\xC3", 1, 0, "truncated 2-octet" },
	{ "\xE2\x82", 2, 0, "truncated euro" },
	{ "ok\xF0\x9F\x98", 5, 2, "truncated emoji" },
	{ "a\xE2\x28\xA1", 4, 1, "bad continuation" },
	{ "\xC3\x28", 2, 0, "ASCII as continuation" },
};

static void
test_bad_utf8(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		uint8_t out[8 + CANARY_LEN];
		struct smpp_charset_err e;
		int (*enc[])(const char *, size_t, uint8_t *, size_t,
		    struct smpp_charset_err *) = {
			smpp_gsm7_from_utf8, smpp_ucs2_from_utf8,
			smpp_latin1_from_utf8,
		};

		for (size_t k = 0; k < 3; k++) {
			canary_fill(out, sizeof(out));
			e.reason = SMPP_CHARSET_OK;
			if (enc[k](bad_utf8[i].in, bad_utf8[i].len, out, 8,
			    &e) != -1)
				fail_msg("%s accepted by encoder %zu",
				    bad_utf8[i].what, k);
			assert_int_equal(e.reason, SMPP_CHARSET_BADUTF8);
			assert_int_equal(e.off, bad_utf8[i].off);
			canary_check(out, 8);
		}
	}
}

/* The boundaries of each UTF-8 length are accepted. */
static void
test_utf8_boundaries(void **state)
{
	static const char *const good[] = {
		"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
		"\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80",
		"\xF4\x8F\xBF\xBF",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint8_t b[8];
		char u[8];
		size_t l = strlen(good[i]);
		int n = smpp_ucs2_from_utf8(good[i], l, b, sizeof(b), NULL);

		assert_true(n == 2 || n == 4);
		assert_int_equal(smpp_ucs2_to_utf8(b, (size_t)n, 0, u,
		    sizeof(u), NULL), (int)l);
		assert_memory_equal(u, good[i], l);
	}
}

static void
test_latin1(void **state)
{
	uint8_t all[256], back[256 + CANARY_LEN];
	char u[512];
	struct smpp_charset_err e;
	int n;

	(void)state;
	for (unsigned i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	n = smpp_latin1_to_utf8(all, 256, u, sizeof(u), NULL);
	assert_int_equal(n, 128 + 2 * 128);
	assert_int_equal(smpp_latin1_from_utf8(u, (size_t)n, back, 256, NULL),
	    256);
	assert_memory_equal(back, all, 256);
	assert_int_equal(smpp_latin1_from_utf8("\xC3\xBF", 2, back, 1, NULL),
	    1);
	assert_int_equal(back[0], 0xFF);
	canary_fill(back, sizeof(back));
	assert_int_equal(smpp_latin1_from_utf8("ab\xE2\x82\xAC", 5, back, 256,
	    &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_UNMAPPABLE);
	assert_int_equal(e.off, 2);
	canary_check(back, 256);
	/* 0xE9 needs two octets of UTF-8. */
	canary_fill(u, sizeof(u));
	assert_int_equal(smpp_latin1_to_utf8((const uint8_t *)"a\xE9", 2, u, 2,
	    &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_NOSPACE);
	assert_int_equal(e.off, 1);
	canary_check(u, 2);
	assert_string_equal(smpp_charset_strerror(SMPP_CHARSET_BADUTF8),
	    "invalid UTF-8");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ucs2_vectors),
		cmocka_unit_test(test_ucs2_bad_surrogates),
		cmocka_unit_test(test_ucs2_odd_length_and_space),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_utf8_boundaries),
		cmocka_unit_test(test_latin1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
