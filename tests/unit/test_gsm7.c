/*
 * GSM 03.38 default alphabet, extension table and 7-bit packing
 * (smpp/charset.h): vectors from the spec, every table entry both ways,
 * the padding rules at 8-septet boundaries, and bad input with canaries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/charset.h"

#include "canary.h"

/* Every default-table septet (bar the escape) decodes to one character
 * that encodes back to that septet. */
static void
test_default_table_round_trip(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 128; c++) {
		uint8_t s = (uint8_t)c, back[4];
		char u[8];
		int n, m;

		if (c == 0x1B)
			continue;
		n = smpp_gsm7_to_utf8(&s, 1, 0, u, sizeof(u), NULL);
		assert_true(n >= 1 && n <= 3);
		m = smpp_gsm7_from_utf8(u, (size_t)n, back, sizeof(back),
		    NULL);
		assert_int_equal(m, 1);
		assert_int_equal(back[0], c);
	}
}

/* Spot checks against the table in 03.38 6.2.1. */
static void
test_default_table_values(void **state)
{
	static const struct {
		uint8_t		 septet;
		const char	*utf8;
	} v[] = {
		{ 0x00, "@" }, { 0x01, "\xC2\xA3" }, { 0x02, "$" },
		{ 0x03, "\xC2\xA5" }, { 0x09, "\xC3\x87" }, { 0x0A, "\n" },
		{ 0x0D, "\r" }, { 0x10, "\xCE\x94" }, { 0x11, "_" },
		{ 0x1A, "\xCE\x9E" }, { 0x1E, "\xC3\x9F" },
		{ 0x24, "\xC2\xA4" }, { 0x40, "\xC2\xA1" }, { 0x41, "A" },
		{ 0x5E, "\xC3\x9C" }, { 0x5F, "\xC2\xA7" },
		{ 0x60, "\xC2\xBF" }, { 0x7E, "\xC3\xBC" },
		{ 0x7F, "\xC3\xA0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char u[8];
		int n = smpp_gsm7_to_utf8(&v[i].septet, 1, 0, u, sizeof(u),
		    NULL);

		assert_int_equal(n, (int)strlen(v[i].utf8));
		assert_memory_equal(u, v[i].utf8, (size_t)n);
	}
}

static void
test_extension_table(void **state)
{
	static const struct {
		uint8_t		 code;
		const char	*utf8;
	} v[] = {
		{ 0x0A, "\f" }, { 0x14, "^" }, { 0x28, "{" }, { 0x29, "}" },
		{ 0x2F, "\\" }, { 0x3C, "[" }, { 0x3D, "~" }, { 0x3E, "]" },
		{ 0x40, "|" }, { 0x65, "\xE2\x82\xAC" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t s[2] = { 0x1B, v[i].code }, back[4];
		char u[8];
		int n = smpp_gsm7_to_utf8(s, 2, 0, u, sizeof(u), NULL);

		assert_int_equal(n, (int)strlen(v[i].utf8));
		assert_memory_equal(u, v[i].utf8, (size_t)n);
		assert_int_equal(smpp_gsm7_from_utf8(u, (size_t)n, back,
		    sizeof(back), NULL), 2);
		assert_memory_equal(back, s, 2);
	}
}

static void
test_euro_escape(void **state)
{
	uint8_t s[8];
	struct smpp_charset_err e;

	(void)state;
	assert_int_equal(smpp_gsm7_from_utf8("\xE2\x82\xAC" "5", 4, s,
	    sizeof(s), &e), 3);
	assert_int_equal(e.reason, SMPP_CHARSET_OK);
	assert_int_equal(s[0], 0x1B);
	assert_int_equal(s[1], 0x65);
	assert_int_equal(s[2], '5');
	assert_int_equal(smpp_gsm7_count("\xE2\x82\xAC" "uro", 6, NULL), 5);
}

/* 03.38: an escape to a code the extension table lacks shows the default
 * character; a lone escape at the end shows a space. */
static void
test_unknown_escape(void **state)
{
	uint8_t s1[] = { 0x1B, 0x41 }, s2[] = { 'a', 0x1B };
	char u[8];

	(void)state;
	assert_int_equal(smpp_gsm7_to_utf8(s1, 2, 0, u, sizeof(u), NULL), 1);
	assert_int_equal(u[0], 'A');
	assert_int_equal(smpp_gsm7_to_utf8(s2, 2, 0, u, sizeof(u), NULL), 2);
	assert_memory_equal(u, "a ", 2);
}

static void
test_unmappable(void **state)
{
	static const char *const bad[] = {
		"\xC5\x82",		/* l with stroke */
		"\xC3\xA7",		/* c cedilla: only C cedilla is there */
		"`",
		"\xF0\x9F\x98\x80",	/* emoji */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[8 + CANARY_LEN];
		struct smpp_charset_err e;
		char in[16];

		in[0] = 'o';
		in[1] = 'k';
		memcpy(in + 2, bad[i], strlen(bad[i]));
		canary_fill(out, sizeof(out));
		assert_int_equal(smpp_gsm7_from_utf8(in, 2 + strlen(bad[i]),
		    out, 8, &e), -1);
		assert_int_equal(e.reason, SMPP_CHARSET_UNMAPPABLE);
		assert_int_equal(e.off, 2);
		canary_check(out, 8);
	}
}

static void
test_bad_septets(void **state)
{
	uint8_t s[] = { 'a', 0x80, 'b' }, esc[] = { 0x1B, 0xC1 };
	char u[8];
	struct smpp_charset_err e;

	(void)state;
	assert_int_equal(smpp_gsm7_to_utf8(s, 3, 0, u, sizeof(u), &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	assert_int_equal(e.off, 1);
	assert_int_equal(smpp_gsm7_to_utf8(s, 3, SMPP_CHARSET_REPLACE, u,
	    sizeof(u), &e), 3);
	assert_memory_equal(u, "a?b", 3);
	assert_int_equal(smpp_gsm7_to_utf8(esc, 2, 0, u, sizeof(u), &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
}

static void
test_nospace(void **state)
{
	uint8_t out[1 + CANARY_LEN];
	char u[1 + CANARY_LEN];
	uint8_t s[] = { 0x05 };	/* e acute: 2 octets of UTF-8 */
	struct smpp_charset_err e;

	(void)state;
	/* An escape pair never goes out half. */
	canary_fill(out, sizeof(out));
	assert_int_equal(smpp_gsm7_from_utf8("\xE2\x82\xAC", 3, out, 1, &e),
	    -1);
	assert_int_equal(e.reason, SMPP_CHARSET_NOSPACE);
	assert_int_equal(out[0], CANARY);
	canary_check(out, 1);
	canary_fill(u, sizeof(u));
	assert_int_equal(smpp_gsm7_to_utf8(s, 1, 0, u, 1, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_NOSPACE);
	canary_check(u, 1);
	/* Measuring needs no buffer. */
	assert_int_equal(smpp_gsm7_to_utf8(s, 1, 0, NULL, 0, &e), 2);
}

/* The classic example: "hellohello" packs to E8 32 9B FD 46 97 D9 EC 37. */
static void
test_pack_hellohello(void **state)
{
	static const uint8_t want[] = {
		0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37,
	};
	uint8_t sept[16], packed[16 + CANARY_LEN], back[16];
	char u[16];
	int n;

	(void)state;
	assert_int_equal(smpp_gsm7_from_utf8("hellohello", 10, sept,
	    sizeof(sept), NULL), 10);
	canary_fill(packed, sizeof(packed));
	n = smpp_gsm7_pack(sept, 10, 0, packed, 9, NULL);
	assert_int_equal(n, 9);
	assert_memory_equal(packed, want, 9);
	canary_check(packed, 9);
	assert_int_equal(smpp_gsm7_unpack(want, 9, 0, SMPP_GSM7_AUTO, back,
	    sizeof(back), NULL), 10);
	assert_memory_equal(back, sept, 10);
	assert_int_equal(smpp_gsm7_packed_to_utf8(want, 9, 0, SMPP_GSM7_AUTO,
	    0, u, sizeof(u), NULL), 10);
	assert_memory_equal(u, "hellohello", 10);
	/* One octet short is NOSPACE. */
	assert_int_equal(smpp_gsm7_pack(sept, 10, 0, packed, 8, NULL), -1);
}

/* 8 septets fill 7 octets exactly; 7 septets leave 7 spare bits, which
 * must hold CR so that they do not read as '@'. */
static void
test_pack_octet_boundaries(void **state)
{
	uint8_t packed[16], back[16];
	struct smpp_charset_err e;

	(void)state;
	assert_int_equal(smpp_gsm7_pack((const uint8_t *)"12345678", 8, 0,
	    packed, sizeof(packed), NULL), 7);
	assert_int_equal(smpp_gsm7_unpack(packed, 7, 0, SMPP_GSM7_AUTO, back,
	    sizeof(back), NULL), 8);
	assert_memory_equal(back, "12345678", 8);

	assert_int_equal(smpp_gsm7_pack((const uint8_t *)"1234567", 7, 0,
	    packed, sizeof(packed), NULL), 7);
	assert_int_equal(packed[6] >> 1, 0x0D);
	assert_int_equal(smpp_gsm7_unpack(packed, 7, 0, SMPP_GSM7_AUTO, back,
	    sizeof(back), NULL), 7);
	assert_memory_equal(back, "1234567", 7);
	/* With the count given, the pad is a real septet. */
	assert_int_equal(smpp_gsm7_unpack(packed, 7, 0, 8, back,
	    sizeof(back), NULL), 8);
	assert_int_equal(back[7], 0x0D);
	/* More septets than the octets hold. */
	assert_int_equal(smpp_gsm7_unpack(packed, 7, 0, 9, back,
	    sizeof(back), &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	/* 9 septets: 8 octets, one spare bit. */
	assert_int_equal(smpp_gsm7_pack((const uint8_t *)"123456789", 9, 0,
	    packed, sizeof(packed), NULL), 8);
	assert_int_equal(smpp_gsm7_unpack(packed, 8, 0, SMPP_GSM7_AUTO, back,
	    sizeof(back), NULL), 9);
	assert_memory_equal(back, "123456789", 9);
}

/* '@' is septet 0x00, the same as zero padding. */
static void
test_at_sign(void **state)
{
	uint8_t at7[7] = { 0 }, packed[16], back[16];
	char u[16];

	(void)state;
	assert_int_equal(smpp_gsm7_from_utf8("@", 1, back, sizeof(back),
	    NULL), 1);
	assert_int_equal(back[0], 0x00);
	assert_int_equal(smpp_gsm7_pack(back, 1, 0, packed, sizeof(packed),
	    NULL), 1);
	assert_int_equal(packed[0], 0x00);
	/* One zero octet holds one septet and one bit: '@' stays. */
	assert_int_equal(smpp_gsm7_packed_to_utf8(packed, 1, 0,
	    SMPP_GSM7_AUTO, 0, u, sizeof(u), NULL), 1);
	assert_int_equal(u[0], '@');
	/* Seven '@' are padded with CR and come back as seven. */
	assert_int_equal(smpp_gsm7_pack(at7, 7, 0, packed, sizeof(packed),
	    NULL), 7);
	assert_int_equal(smpp_gsm7_packed_to_utf8(packed, 7, 0,
	    SMPP_GSM7_AUTO, 0, u, sizeof(u), NULL), 7);
	assert_memory_equal(u, "@@@@@@@", 7);
	/* Seven zero octets from a sender that pads with 0: seven '@'
	 * unless the count says eight. */
	assert_int_equal(smpp_gsm7_packed_to_utf8(at7, 7, 0, SMPP_GSM7_AUTO,
	    0, u, sizeof(u), NULL), 7);
	assert_int_equal(smpp_gsm7_packed_to_utf8(at7, 7, 0, 8, 0, u,
	    sizeof(u), NULL), 8);
	assert_memory_equal(u, "@@@@@@@@", 8);
}

/* After a 6-octet UDH one fill bit aligns the septets. */
static void
test_fill_bits(void **state)
{
	uint8_t sept[16], packed[32 + CANARY_LEN], back[32];
	struct smpp_charset_err e;

	(void)state;
	assert_int_equal(smpp_gsm7_from_utf8("hellohello", 10, sept,
	    sizeof(sept), NULL), 10);
	for (unsigned fill = 0; fill <= 6; fill++) {
		int n;

		canary_fill(packed, sizeof(packed));
		n = smpp_gsm7_pack(sept, 10, fill, packed, 32, NULL);
		assert_int_equal(n, (int)((fill + 70 + 7) / 8));
		assert_int_equal(packed[0] & ((1u << fill) - 1), 0);
		assert_int_equal(smpp_gsm7_unpack(packed, (size_t)n, fill, 10,
		    back, sizeof(back), NULL), 10);
		assert_memory_equal(back, sept, 10);
		canary_check(packed, 32);
	}
	assert_int_equal(smpp_gsm7_pack(sept, 10, 7, packed, 32, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	sept[3] = 0x80;
	assert_int_equal(smpp_gsm7_pack(sept, 10, 0, packed, 32, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	assert_int_equal(e.off, 3);
}

/* Every encodable character survives UTF-8 -> septets -> packed ->
 * septets -> UTF-8, for every text length from 1 to 20. */
static void
test_pack_round_trip_lengths(void **state)
{
	const char *src = "@Hello \xE2\x82\xAC{}[]~|^\\ \xC3\xA4\xC3\xB6"
	    "\xC3\xBC\xCE\xA9\r\n@@@@@@@@";
	uint8_t sept[64], packed[64], back[64];
	char u[128];
	int n = smpp_gsm7_from_utf8(src, strlen(src), sept, sizeof(sept),
	    NULL);

	(void)state;
	assert_true(n > 20);
	for (int len = 1; len <= n; len++) {
		int p = smpp_gsm7_pack(sept, (size_t)len, 0, packed,
		    sizeof(packed), NULL);

		assert_true(p > 0);
		assert_int_equal(smpp_gsm7_unpack(packed, (size_t)p, 0,
		    (size_t)len, back, sizeof(back), NULL), len);
		assert_memory_equal(back, sept, (size_t)len);
	}
	assert_int_equal(smpp_gsm7_to_utf8(sept, (size_t)n, 0, u, sizeof(u),
	    NULL), (int)strlen(src));
	assert_memory_equal(u, src, strlen(src));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_table_round_trip),
		cmocka_unit_test(test_default_table_values),
		cmocka_unit_test(test_extension_table),
		cmocka_unit_test(test_euro_escape),
		cmocka_unit_test(test_unknown_escape),
		cmocka_unit_test(test_unmappable),
		cmocka_unit_test(test_bad_septets),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_pack_hellohello),
		cmocka_unit_test(test_pack_octet_boundaries),
		cmocka_unit_test(test_at_sign),
		cmocka_unit_test(test_fill_bits),
		cmocka_unit_test(test_pack_round_trip_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
