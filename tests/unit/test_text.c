/*
 * Encoding choice and decoding by data_coding (smpp/text.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/concat.h"
#include "smpp/proto.h"
#include "smpp/text.h"

#include "canary.h"

static void
test_choose(void **state)
{
	static const struct {
		const char		*utf8;
		unsigned		 flags;
		enum smpp_text_enc	 enc;
		int			 len;
	} v[] = {
		{ "Hello, world!", 0, SMPP_TEXT_GSM7, 13 },
		{ "", 0, SMPP_TEXT_GSM7, 0 },
		{ "\xC3\xBC", 0, SMPP_TEXT_GSM7, 1 },		/* u umlaut */
		{ "\xE2\x82\xAC" "5 {x}", 0, SMPP_TEXT_GSM7, 9 },
		{ "\xCE\xA9", 0, SMPP_TEXT_GSM7, 1 },		/* Omega */
		{ "\xC5\x82", 0, SMPP_TEXT_UCS2, 2 },		/* l stroke */
		{ "\xC5\x82", SMPP_TEXT_ALLOW_LATIN1, SMPP_TEXT_UCS2, 2 },
		{ "\xC3\xA7", 0, SMPP_TEXT_UCS2, 2 },		/* c cedilla */
		{ "\xC3\xA7", SMPP_TEXT_ALLOW_LATIN1, SMPP_TEXT_LATIN1, 1 },
		{ "`", SMPP_TEXT_ALLOW_LATIN1, SMPP_TEXT_LATIN1, 1 },
		{ "Hi", SMPP_TEXT_FORCE_UCS2, SMPP_TEXT_UCS2, 4 },
		{ "\xF0\x9F\x98\x80", SMPP_TEXT_ALLOW_LATIN1, SMPP_TEXT_UCS2,
		  4 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t out[32];
		enum smpp_text_enc enc = SMPP_TEXT_BINARY;
		struct smpp_charset_err e;

		assert_int_equal(smpp_text_encode(v[i].utf8, strlen(v[i].utf8),
		    v[i].flags, out, sizeof(out), &enc, &e), v[i].len);
		assert_int_equal(enc, v[i].enc);
		assert_int_equal(e.reason, SMPP_CHARSET_OK);
	}
	assert_int_equal(smpp_text_enc_dcs(SMPP_TEXT_GSM7), 0x00);
	assert_int_equal(smpp_text_enc_dcs(SMPP_TEXT_LATIN1), 0x03);
	assert_int_equal(smpp_text_enc_dcs(SMPP_TEXT_UCS2), 0x08);
	assert_string_equal(smpp_text_enc_name(SMPP_TEXT_UCS2), "ucs2");
}

/* A character late in the text decides the encoding even when the
 * buffer is too small for what comes before it. */
static void
test_choose_measures_first(void **state)
{
	char in[64];
	uint8_t out[8 + CANARY_LEN];
	enum smpp_text_enc enc;
	struct smpp_charset_err e;

	(void)state;
	memset(in, 'a', 40);
	memcpy(in + 40, "\xC5\x82", 2);
	canary_fill(out, sizeof(out));
	assert_int_equal(smpp_text_encode(in, 42, 0, out, 8, &enc, &e), -1);
	assert_int_equal(enc, SMPP_TEXT_UCS2);
	assert_int_equal(e.reason, SMPP_CHARSET_NOSPACE);
	canary_check(out, 8);
	/* Measuring: NULL output. */
	assert_int_equal(smpp_text_encode(in, 42, 0, NULL, 0, &enc, &e), 82);
}

static void
test_encode_bad_utf8(void **state)
{
	uint8_t out[16 + CANARY_LEN];
	enum smpp_text_enc enc;
	struct smpp_charset_err e;

	(void)state;
	canary_fill(out, sizeof(out));
	assert_int_equal(smpp_text_encode("abc\xED\xA0\x80", 6, 0, out, 16,
	    &enc, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADUTF8);
	assert_int_equal(e.off, 3);
	canary_check(out, 16);
	assert_int_equal(smpp_text_utf8_check("x\xC0\xAF", 3, &e), -1);
	assert_int_equal(e.off, 1);
	assert_int_equal(smpp_text_utf8_check("\xC3\xA9t\xC3\xA9", 5, &e), 0);
}

static void
test_dcs_map(void **state)
{
	struct smpp_text_opts o;

	(void)state;
	smpp_text_opts_default(&o);
	assert_int_equal(smpp_text_dcs_enc(0x00, NULL), SMPP_TEXT_GSM7);
	assert_int_equal(smpp_text_dcs_enc(0x01, NULL), SMPP_TEXT_ASCII);
	assert_int_equal(smpp_text_dcs_enc(0x02, NULL), SMPP_TEXT_BINARY);
	assert_int_equal(smpp_text_dcs_enc(0x03, NULL), SMPP_TEXT_LATIN1);
	assert_int_equal(smpp_text_dcs_enc(0x04, NULL), SMPP_TEXT_BINARY);
	assert_int_equal(smpp_text_dcs_enc(0x05, NULL), SMPP_TEXT_UNSUPPORTED);
	assert_int_equal(smpp_text_dcs_enc(0x08, NULL), SMPP_TEXT_UCS2);
	assert_int_equal(smpp_text_dcs_enc(0x0E, NULL), SMPP_TEXT_UNSUPPORTED);
	assert_int_equal(smpp_text_dcs_enc(0x10, NULL), SMPP_TEXT_GSM7);
	assert_int_equal(smpp_text_dcs_enc(0x18, NULL), SMPP_TEXT_UCS2);
	assert_int_equal(smpp_text_dcs_enc(0xF0, NULL), SMPP_TEXT_GSM7);
	assert_int_equal(smpp_text_dcs_enc(0xF4, NULL), SMPP_TEXT_BINARY);
	assert_int_equal(smpp_text_dcs_enc(0xE0, NULL), SMPP_TEXT_UCS2);
	o.dcs0 = SMPP_TEXT_LATIN1;
	assert_int_equal(smpp_text_dcs_enc(0x00, &o), SMPP_TEXT_LATIN1);
}

static void
test_decode(void **state)
{
	static const uint8_t gsm[] = { 'H', 0x05, 0x1B, 0x65 };
	static const uint8_t ucs2[] = { 0x01, 0x42, 0xD8, 0x3D, 0xDE, 0x00 };
	static const uint8_t lat[] = { 'a', 0xE9 };
	static const uint8_t packed[] = {
		0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37,
	};
	struct smpp_text_opts o;
	struct smpp_charset_err e;
	char u[32 + CANARY_LEN];

	(void)state;
	assert_int_equal(smpp_text_decode(0x00, gsm, 4, NULL, u, 32, &e), 6);
	assert_memory_equal(u, "H\xC3\xA9\xE2\x82\xAC", 6);
	assert_int_equal(smpp_text_decode(0x08, ucs2, 6, NULL, u, 32, &e), 6);
	assert_memory_equal(u, "\xC5\x82\xF0\x9F\x98\x80", 6);
	assert_int_equal(smpp_text_decode(0x03, lat, 2, NULL, u, 32, &e), 3);
	assert_memory_equal(u, "a\xC3\xA9", 3);
	assert_int_equal(smpp_text_decode(0x01, (const uint8_t *)"ab~", 3,
	    NULL, u, 32, &e), 3);
	assert_memory_equal(u, "ab~", 3);
	/* IA5 is 7-bit. */
	assert_int_equal(smpp_text_decode(0x01, lat, 2, NULL, u, 32, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	assert_int_equal(e.off, 1);
	/* Binary is not text. */
	canary_fill(u, sizeof(u));
	assert_int_equal(smpp_text_decode(0x04, lat, 2, NULL, u, 32, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADDCS);
	assert_int_equal(smpp_text_decode(0x02, lat, 2, NULL, u, 32, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADDCS);
	canary_check(u, 32);
	/* data_coding 0 read as Latin-1, or as packed GSM 7. */
	smpp_text_opts_default(&o);
	o.dcs0 = SMPP_TEXT_LATIN1;
	assert_int_equal(smpp_text_decode(0x00, lat, 2, &o, u, 32, &e), 3);
	smpp_text_opts_default(&o);
	o.gsm7_packed = 1;
	assert_int_equal(smpp_text_decode(0x00, packed, 9, &o, u, 32, &e),
	    10);
	assert_memory_equal(u, "hellohello", 10);
	/* Odd UCS-2: error by default, U+FFFD with REPLACE. */
	assert_int_equal(smpp_text_decode(0x08, ucs2, 5, NULL, u, 32, &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	o.flags = SMPP_CHARSET_REPLACE;
	assert_true(smpp_text_decode(0x08, ucs2, 5, &o, u, 32, &e) > 0);
}

static void
test_decode_sm_with_udh(void **state)
{
	static const uint8_t sm[] = {
		0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'h', 'i', 0x1B, 0x65,
	};
	static const uint8_t bad[] = { 0x09, 0x00, 0x03, 0x2A, 0x02, 0x01 };
	uint8_t sept[16], msg[32];
	struct smpp_concat_part part = { 0, 0 };
	struct smpp_concat_info ci = { 0x2A, 2, 1 };
	struct smpp_text_opts o;
	struct smpp_charset_err e;
	char u[32];
	int n, m;

	(void)state;
	assert_int_equal(smpp_text_decode_sm(0x00, SMPP_ESM_UDHI, sm,
	    sizeof(sm), NULL, u, sizeof(u), &e), 5);
	assert_memory_equal(u, "hi\xE2\x82\xAC", 5);
	/* Without UDHI the header is text: e acute, @, yen, *, $, pound. */
	assert_int_equal(smpp_text_decode_sm(0x00, 0, sm, 6, NULL, u,
	    sizeof(u), &e), 9);
	assert_int_equal(smpp_text_decode_sm(0x00, SMPP_ESM_UDHI, bad,
	    sizeof(bad), NULL, u, sizeof(u), &e), -1);
	assert_int_equal(e.reason, SMPP_CHARSET_BADINPUT);
	/* Packed GSM 7 after a UDH starts after one fill bit. */
	n = smpp_gsm7_from_utf8("hellohello", 10, sept, sizeof(sept), NULL);
	part.len = (size_t)n;
	m = smpp_concat_build_sm(SMPP_TEXT_GSM7, 1, sept, (size_t)n, &part,
	    SMPP_CONCAT_UDH8, &ci, msg, sizeof(msg), NULL);
	assert_int_equal(m, 6 + 9);
	smpp_text_opts_default(&o);
	o.gsm7_packed = 1;
	assert_int_equal(smpp_text_decode_sm(0x00, SMPP_ESM_UDHI, msg,
	    (size_t)m, &o, u, sizeof(u), &e), 10);
	assert_memory_equal(u, "hellohello", 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_choose_measures_first),
		cmocka_unit_test(test_encode_bad_utf8),
		cmocka_unit_test(test_dcs_map),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_sm_with_udh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
