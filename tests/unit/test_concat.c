/*
 * Splitting, UDH build/parse and reassembly (smpp/concat.h): the exact
 * part boundaries, escape and surrogate pairs at them, UDHs with other IEs
 * and broken ones, and the reassembly table's order, duplicates, expiry
 * and bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/concat.h"
#include "smpp/text.h"

#include "canary.h"

static uint8_t text[256 * 160];

static int
split(enum smpp_text_enc enc, size_t len, enum smpp_concat_mode mode,
    struct smpp_concat_part *parts, size_t max)
{
	return smpp_concat_split(enc, text, len, mode, parts, max, NULL);
}

static void
test_split_gsm7_boundaries(void **state)
{
	struct smpp_concat_part p[8];

	(void)state;
	memset(text, 'a', sizeof(text));
	assert_int_equal(split(SMPP_TEXT_GSM7, 0, SMPP_CONCAT_UDH8, p, 8), 1);
	assert_int_equal(p[0].len, 0);
	assert_int_equal(split(SMPP_TEXT_GSM7, 160, SMPP_CONCAT_UDH8, p, 8),
	    1);
	assert_int_equal(p[0].len, 160);
	assert_int_equal(split(SMPP_TEXT_GSM7, 161, SMPP_CONCAT_UDH8, p, 8),
	    2);
	assert_int_equal(p[0].len, 153);
	assert_int_equal(p[1].off, 153);
	assert_int_equal(p[1].len, 8);
	assert_int_equal(split(SMPP_TEXT_GSM7, 306, SMPP_CONCAT_UDH8, p, 8),
	    2);
	assert_int_equal(p[1].len, 153);
	assert_int_equal(split(SMPP_TEXT_GSM7, 307, SMPP_CONCAT_UDH8, p, 8),
	    3);
	assert_int_equal(p[2].len, 1);
	/* SAR parts are sized for the UDH the SMSC will add. */
	assert_int_equal(split(SMPP_TEXT_GSM7, 161, SMPP_CONCAT_SAR, p, 8), 2);
	assert_int_equal(p[0].len, 153);
	/* A 16-bit reference takes one more octet: 152 septets. */
	assert_int_equal(split(SMPP_TEXT_GSM7, 161, SMPP_CONCAT_UDH16, p, 8),
	    2);
	assert_int_equal(p[0].len, 152);
	assert_int_equal(p[1].len, 9);
}

/* A euro sign (1B 65) at septets 152-153 would straddle the boundary: it
 * goes whole to the next part. */
static void
test_split_escape_at_boundary(void **state)
{
	struct smpp_concat_part p[4];

	(void)state;
	memset(text, 'a', sizeof(text));
	text[152] = 0x1B;
	text[153] = 0x65;
	assert_int_equal(split(SMPP_TEXT_GSM7, 200, SMPP_CONCAT_UDH8, p, 4),
	    2);
	assert_int_equal(p[0].len, 152);
	assert_int_equal(p[1].off, 152);
	assert_int_equal(text[p[1].off], 0x1B);
	assert_int_equal(p[1].len, 48);
	/* Right at the end of the part it fits. */
	memset(text, 'a', sizeof(text));
	text[151] = 0x1B;
	text[152] = 0x65;
	assert_int_equal(split(SMPP_TEXT_GSM7, 200, SMPP_CONCAT_UDH8, p, 4),
	    2);
	assert_int_equal(p[0].len, 153);
	/* 159 septets and a euro: 161, two parts. */
	memset(text, 'a', sizeof(text));
	text[159] = 0x1B;
	text[160] = 0x65;
	assert_int_equal(split(SMPP_TEXT_GSM7, 161, SMPP_CONCAT_UDH8, p, 4),
	    2);
	memset(text, 'a', sizeof(text));
}

static void
put_ucs2(size_t unit, uint16_t v)
{
	text[2 * unit] = (uint8_t)(v >> 8);
	text[2 * unit + 1] = (uint8_t)v;
}

static void
test_split_ucs2(void **state)
{
	struct smpp_concat_part p[4];
	enum smpp_concat_reason why;

	(void)state;
	for (size_t i = 0; i < 200; i++)
		put_ucs2(i, 0x0142);
	assert_int_equal(split(SMPP_TEXT_UCS2, 140, SMPP_CONCAT_UDH8, p, 4),
	    1);
	assert_int_equal(split(SMPP_TEXT_UCS2, 142, SMPP_CONCAT_UDH8, p, 4),
	    2);
	assert_int_equal(p[0].len, 134);
	assert_int_equal(p[1].len, 8);
	assert_int_equal(split(SMPP_TEXT_UCS2, 142, SMPP_CONCAT_UDH16, p, 4),
	    2);
	assert_int_equal(p[0].len, 132);
	/* A surrogate pair in units 66-67 goes whole to part two. */
	put_ucs2(66, 0xD83D);
	put_ucs2(67, 0xDE00);
	assert_int_equal(split(SMPP_TEXT_UCS2, 160, SMPP_CONCAT_UDH8, p, 4),
	    2);
	assert_int_equal(p[0].len, 132);
	assert_int_equal(p[1].off, 132);
	assert_int_equal(text[p[1].off], 0xD8);
	/* In units 65-66 it ends part one exactly. */
	for (size_t i = 0; i < 200; i++)
		put_ucs2(i, 0x0142);
	put_ucs2(65, 0xD83D);
	put_ucs2(66, 0xDE00);
	assert_int_equal(split(SMPP_TEXT_UCS2, 160, SMPP_CONCAT_UDH8, p, 4),
	    2);
	assert_int_equal(p[0].len, 134);
	/* Odd octet count is not UCS-2. */
	assert_int_equal(smpp_concat_split(SMPP_TEXT_UCS2, text, 141,
	    SMPP_CONCAT_UDH8, p, 4, &why), -1);
	assert_int_equal(why, SMPP_CONCAT_BADINPUT);
	memset(text, 'a', sizeof(text));
}

static void
test_split_8bit_and_limits(void **state)
{
	struct smpp_concat_part p[256];
	enum smpp_concat_reason why;

	(void)state;
	memset(text, 'a', sizeof(text));
	assert_int_equal(split(SMPP_TEXT_LATIN1, 140, SMPP_CONCAT_UDH8, p, 4),
	    1);
	assert_int_equal(split(SMPP_TEXT_LATIN1, 141, SMPP_CONCAT_UDH8, p, 4),
	    2);
	assert_int_equal(p[0].len, 134);
	assert_int_equal(split(SMPP_TEXT_BINARY, 141, SMPP_CONCAT_UDH16, p, 4),
	    2);
	assert_int_equal(p[0].len, 133);
	/* 255 parts is the most; one septet more is TOOLONG. */
	assert_int_equal(split(SMPP_TEXT_GSM7, 255 * 153, SMPP_CONCAT_UDH8, p,
	    256), 255);
	assert_int_equal(smpp_concat_split(SMPP_TEXT_GSM7, text, 255 * 153 + 1,
	    SMPP_CONCAT_UDH8, p, 256, &why), -1);
	assert_int_equal(why, SMPP_CONCAT_TOOLONG);
	/* Room for 2 parts, 3 needed: parts[2] is never written. */
	canary_fill(p, sizeof(p));
	assert_int_equal(smpp_concat_split(SMPP_TEXT_GSM7, text, 307,
	    SMPP_CONCAT_UDH8, p, 2, &why), -1);
	assert_int_equal(why, SMPP_CONCAT_NOSPACE);
	canary_check(p, 2 * sizeof(p[0]));
	/* Malformed GSM 7: a septet over 0x7F, a dangling escape. */
	text[10] = 0x80;
	assert_int_equal(smpp_concat_split(SMPP_TEXT_GSM7, text, 20,
	    SMPP_CONCAT_UDH8, p, 4, &why), -1);
	assert_int_equal(why, SMPP_CONCAT_BADINPUT);
	text[10] = 'a';
	text[19] = 0x1B;
	assert_int_equal(smpp_concat_split(SMPP_TEXT_GSM7, text, 20,
	    SMPP_CONCAT_UDH8, p, 4, &why), -1);
	assert_int_equal(why, SMPP_CONCAT_BADINPUT);
	memset(text, 'a', sizeof(text));
}

static void
test_udh_round_trip(void **state)
{
	static const uint8_t want8[] = { 0x05, 0x00, 0x03, 0xA7, 0x03, 0x02 };
	static const uint8_t want16[] = {
		0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03,
	};
	uint8_t b[8 + CANARY_LEN];
	struct smpp_concat_info ci = { 0xA7, 3, 2 };
	struct smpp_udh u;
	enum smpp_concat_reason why;

	(void)state;
	assert_int_equal(smpp_udh_build(SMPP_CONCAT_UDH8, &ci, b, 8, &why), 6);
	assert_memory_equal(b, want8, 6);
	assert_int_equal(smpp_udh_parse(b, 6, &u, &why), 0);
	assert_int_equal(u.len, 6);
	assert_true(u.concat);
	assert_false(u.ref16);
	assert_int_equal(u.ci.ref, 0xA7);
	assert_int_equal(u.ci.total, 3);
	assert_int_equal(u.ci.seq, 2);

	ci.ref = 0x1234;
	ci.seq = 3;
	assert_int_equal(smpp_udh_build(SMPP_CONCAT_UDH16, &ci, b, 8, &why),
	    7);
	assert_memory_equal(b, want16, 7);
	assert_int_equal(smpp_udh_parse(b, 7, &u, &why), 0);
	assert_true(u.ref16);
	assert_int_equal(u.ci.ref, 0x1234);
	assert_int_equal(u.ci.seq, 3);

	/* A 16-bit value does not fit an 8-bit reference. */
	assert_int_equal(smpp_udh_build(SMPP_CONCAT_UDH8, &ci, b, 8, &why),
	    -1);
	assert_int_equal(why, SMPP_CONCAT_BADINPUT);
	ci.ref = 1;
	ci.seq = 0;
	assert_int_equal(smpp_udh_build(SMPP_CONCAT_UDH8, &ci, b, 8, &why),
	    -1);
	ci.seq = 1;
	assert_int_equal(smpp_udh_build(SMPP_CONCAT_SAR, &ci, b, 8, &why), -1);
	canary_fill(b, sizeof(b));
	assert_int_equal(smpp_udh_build(SMPP_CONCAT_UDH16, &ci, b, 6, &why),
	    -1);
	assert_int_equal(why, SMPP_CONCAT_NOSPACE);
	canary_check(b, 6);
	assert_int_equal(smpp_udh_fill_bits(0), 0);
	assert_int_equal(smpp_udh_fill_bits(6), 1);
	assert_int_equal(smpp_udh_fill_bits(7), 0);
	assert_int_equal(smpp_udh_fill_bits(12), 2);
}

/* A port IE (0x05) and a special SMS indication (0x01) before the
 * concat IE; the text follows the UDH. */
static void
test_udh_other_ies(void **state)
{
	static const uint8_t sm[] = {
		0x0F,
		0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0,
		0x01, 0x02, 0x00, 0x00,
		0x00, 0x03, 0x5C, 0x04, 0x04,
		'h', 'i',
	};
	static const uint8_t twice[] = {
		0x0B, 0x00, 0x03, 0x01, 0x02, 0x01,
		0x08, 0x04, 0x00, 0x07, 0x05, 0x02,
	};
	static const uint8_t none[] = { 0x00, 'x' };
	struct smpp_udh u;

	(void)state;
	assert_int_equal(smpp_udh_parse(sm, sizeof(sm), &u, NULL), 0);
	assert_int_equal(u.len, 16);
	assert_true(u.concat);
	assert_int_equal(u.ci.ref, 0x5C);
	assert_int_equal(u.ci.total, 4);
	assert_int_equal(u.ci.seq, 4);
	/* Repeated: the last one counts. */
	assert_int_equal(smpp_udh_parse(twice, sizeof(twice), &u, NULL), 0);
	assert_true(u.ref16);
	assert_int_equal(u.ci.ref, 7);
	assert_int_equal(u.ci.total, 5);
	/* An empty UDH is valid and has no concat IE. */
	assert_int_equal(smpp_udh_parse(none, sizeof(none), &u, NULL), 0);
	assert_int_equal(u.len, 1);
	assert_false(u.concat);
}

static void
test_udh_bad(void **state)
{
	static const struct {
		uint8_t			 b[12];
		size_t			 len;
		enum smpp_concat_reason	 why;
	} bad[] = {
		{ { 0 }, 0, SMPP_CONCAT_TRUNCATED },
		{ { 0x05, 0x00, 0x03, 0x01, 0x02 }, 5, SMPP_CONCAT_TRUNCATED },
		{ { 0xFF, 0x00, 0x03 }, 3, SMPP_CONCAT_TRUNCATED },
		{ { 0x01, 0x00 }, 2, SMPP_CONCAT_BADIE },	/* half an IE */
		{ { 0x04, 0x00, 0x03, 0x01, 0x02 }, 5, SMPP_CONCAT_BADIE },
		{ { 0x05, 0x05, 0x04, 0x00, 0x00, 0x00 }, 6,
		  SMPP_CONCAT_BADIE },				/* overruns */
		{ { 0x04, 0x00, 0x02, 0x01, 0x02 }, 5, SMPP_CONCAT_BADIE },
		{ { 0x05, 0x00, 0x03, 0x01, 0x02, 0x00 }, 6,
		  SMPP_CONCAT_BADIE },				/* seq 0 */
		{ { 0x05, 0x00, 0x03, 0x01, 0x02, 0x03 }, 6,
		  SMPP_CONCAT_BADIE },				/* seq > total */
		{ { 0x05, 0x00, 0x03, 0x01, 0x00, 0x00 }, 6,
		  SMPP_CONCAT_BADIE },				/* total 0 */
		{ { 0x06, 0x08, 0x03, 0x00, 0x01, 0x02, 0x01 }, 7,
		  SMPP_CONCAT_BADIE },				/* 16-bit, len 3 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct smpp_udh u;
		enum smpp_concat_reason why = SMPP_CONCAT_OK;

		assert_int_equal(smpp_udh_parse(bad[i].b, bad[i].len, &u, &why),
		    -1);
		assert_int_equal(why, bad[i].why);
	}
}

/* Each part as a short_message: UDH plus septets, unpacked or packed. */
static void
test_build_sm(void **state)
{
	struct smpp_concat_part p[4];
	struct smpp_concat_info ci = { 9, 0, 0 };
	uint8_t sm[160 + CANARY_LEN];
	struct smpp_udh u;
	enum smpp_concat_reason why;
	int n, k;

	(void)state;
	memset(text, 'b', sizeof(text));
	n = split(SMPP_TEXT_GSM7, 200, SMPP_CONCAT_UDH8, p, 4);
	assert_int_equal(n, 2);
	ci.total = 2;
	ci.seq = 1;
	assert_int_equal(smpp_concat_build_sm(SMPP_TEXT_GSM7, 0, text, 200,
	    &p[0], SMPP_CONCAT_UDH8, &ci, sm, 160, &why), 6 + 153);
	assert_int_equal(smpp_udh_parse(sm, 159, &u, NULL), 0);
	assert_int_equal(u.ci.seq, 1);
	assert_int_equal(sm[6], 'b');
	/* Packed: 6 octets of UDH, a fill bit, 153 septets: 140 octets. */
	assert_int_equal(smpp_concat_build_sm(SMPP_TEXT_GSM7, 1, text, 200,
	    &p[0], SMPP_CONCAT_UDH8, &ci, sm, 160, &why), 140);
	n = split(SMPP_TEXT_GSM7, 200, SMPP_CONCAT_UDH16, p, 4);
	assert_int_equal(smpp_concat_build_sm(SMPP_TEXT_GSM7, 1, text, 200,
	    &p[0], SMPP_CONCAT_UDH16, &ci, sm, 160, &why), 140);
	/* SAR: no UDH, the text alone. */
	assert_int_equal(smpp_concat_build_sm(SMPP_TEXT_GSM7, 0, text, 200,
	    &p[1], SMPP_CONCAT_SAR, &ci, sm, 160, &why), (int)p[1].len);
	/* One part: no UDH either. */
	ci.total = 1;
	p[0].len = 10;
	assert_int_equal(smpp_concat_build_sm(SMPP_TEXT_GSM7, 0, text, 200,
	    &p[0], SMPP_CONCAT_UDH8, &ci, sm, 160, &why), 10);
	/* Too small, and a part outside the text. */
	ci.total = 2;
	p[0].len = 153;
	canary_fill(sm, sizeof(sm));
	k = smpp_concat_build_sm(SMPP_TEXT_GSM7, 0, text, 200, &p[0],
	    SMPP_CONCAT_UDH8, &ci, sm, 100, &why);
	assert_int_equal(k, -1);
	assert_int_equal(why, SMPP_CONCAT_NOSPACE);
	canary_check(sm, 100);
	p[0].off = 190;
	assert_int_equal(smpp_concat_build_sm(SMPP_TEXT_GSM7, 0, text, 200,
	    &p[0], SMPP_CONCAT_UDH8, &ci, sm, 160, &why), -1);
	assert_int_equal(why, SMPP_CONCAT_BADINPUT);
	memset(text, 'a', sizeof(text));
}

static struct smpp_reasm *
table(size_t groups, size_t bytes, uint64_t timeout)
{
	struct smpp_reasm_limits lim = { groups, bytes, 254, timeout };
	struct smpp_reasm *r = smpp_reasm_new(&lim);

	assert_non_null(r);
	return r;
}

static int
add(struct smpp_reasm *r, const char *key, uint16_t ref, uint8_t total,
    uint8_t seq, const char *data, uint64_t now, char *out, size_t cap,
    size_t *olen, enum smpp_concat_reason *why)
{
	struct smpp_concat_info ci = { ref, total, seq };

	return smpp_reasm_add(r, key, &ci, (const uint8_t *)data,
	    strlen(data), now, (uint8_t *)out, cap, olen, why);
}

static void
test_reasm_out_of_order_and_duplicate(void **state)
{
	struct smpp_reasm *r = table(4, 4096, 100);
	char out[64];
	size_t olen = 0;
	enum smpp_concat_reason why;

	(void)state;
	assert_int_equal(add(r, "k", 7, 3, 3, "C", 1, out, 64, &olen, &why),
	    SMPP_REASM_PENDING);
	assert_int_equal(add(r, "k", 7, 3, 1, "Aa", 2, out, 64, &olen, &why),
	    SMPP_REASM_PENDING);
	assert_int_equal(add(r, "k", 7, 3, 1, "XX", 3, out, 64, &olen, &why),
	    SMPP_REASM_DUPLICATE);
	/* Same ref, other key or other total: other groups. */
	assert_int_equal(add(r, "j", 7, 3, 2, "no", 3, out, 64, &olen, &why),
	    SMPP_REASM_PENDING);
	assert_int_equal(add(r, "k", 7, 2, 2, "no", 3, out, 64, &olen, &why),
	    SMPP_REASM_PENDING);
	assert_int_equal(smpp_reasm_pending(r), 3);
	assert_int_equal(add(r, "k", 7, 3, 2, "Bb", 4, out, 64, &olen, &why),
	    SMPP_REASM_COMPLETE);
	assert_int_equal(olen, 5);
	assert_memory_equal(out, "AaBbC", 5);
	assert_int_equal(smpp_reasm_pending(r), 2);
	assert_int_equal(smpp_reasm_bytes(r), 4);
	/* One part is a whole message. */
	assert_int_equal(add(r, "k", 8, 1, 1, "solo", 5, out, 64, &olen, &why),
	    SMPP_REASM_COMPLETE);
	assert_int_equal(olen, 4);
	smpp_reasm_free(r);
}

static void
test_reasm_expiry(void **state)
{
	struct smpp_reasm *r = table(4, 4096, 10);
	struct smpp_reasm_expired x;
	char out[64];
	size_t olen;

	(void)state;
	add(r, "old", 1, 2, 1, "a", 100, out, 64, &olen, NULL);
	add(r, "new", 2, 3, 2, "b", 105, out, 64, &olen, NULL);
	add(r, "new", 2, 3, 3, "c", 106, out, 64, &olen, NULL);
	assert_int_equal(smpp_reasm_expire(r, 109, &x), 0);
	assert_int_equal(smpp_reasm_expire(r, 110, &x), 1);
	assert_string_equal(x.key, "old");
	assert_int_equal(x.ref, 1);
	assert_int_equal(x.total, 2);
	assert_int_equal(x.received, 1);
	assert_int_equal(x.first, 100);
	assert_int_equal(smpp_reasm_expire(r, 110, &x), 0);
	/* A clock that went back expires nothing. */
	assert_int_equal(smpp_reasm_expire(r, 50, &x), 0);
	assert_int_equal(smpp_reasm_expire(r, 1000, &x), 1);
	assert_string_equal(x.key, "new");
	assert_int_equal(x.received, 2);
	assert_int_equal(smpp_reasm_pending(r), 0);
	assert_int_equal(smpp_reasm_bytes(r), 0);
	/* The late part of an expired group starts a new one. */
	assert_int_equal(add(r, "old", 1, 2, 2, "z", 1001, out, 64, &olen,
	    NULL), SMPP_REASM_PENDING);
	smpp_reasm_free(r);
}

static void
test_reasm_bounds(void **state)
{
	struct smpp_reasm *r = table(2, 10, 10);
	struct smpp_reasm_expired x;
	char out[8 + CANARY_LEN], key[SMPP_REASM_KEY_MAX + 2];
	size_t olen;
	enum smpp_concat_reason why;
	struct smpp_concat_info ci = { 1, 2, 1 };
	uint8_t big[255];

	(void)state;
	assert_int_equal(add(r, "a", 1, 2, 1, "1", 0, out, 8, &olen, &why),
	    SMPP_REASM_PENDING);
	assert_int_equal(add(r, "b", 1, 2, 1, "1", 0, out, 8, &olen, &why),
	    SMPP_REASM_PENDING);
	assert_int_equal(add(r, "c", 1, 2, 1, "1", 1, out, 8, &olen, &why),
	    -1);
	assert_int_equal(why, SMPP_CONCAT_TABLEFULL);
	/* Expiring makes room. */
	assert_int_equal(smpp_reasm_expire(r, 10, &x), 1);
	assert_int_equal(add(r, "c", 1, 2, 1, "1", 11, out, 8, &olen, &why),
	    SMPP_REASM_PENDING);
	/* Bytes: 2 held, 10 allowed. */
	assert_int_equal(add(r, "c", 1, 2, 2, "123456789", 11, out, 8, &olen,
	    &why), -1);
	assert_int_equal(why, SMPP_CONCAT_TABLEFULL);
	/* Parts over max_part_len, over-long keys, bad seq. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(smpp_reasm_add(r, "c", &ci, big, 255, 11,
	    (uint8_t *)out, 8, &olen, &why), -1);
	assert_int_equal(why, SMPP_CONCAT_TOOBIG);
	memset(key, 'k', sizeof(key));
	key[SMPP_REASM_KEY_MAX + 1] = '\0';
	assert_int_equal(add(r, key, 1, 2, 1, "1", 11, out, 8, &olen, &why),
	    -1);
	assert_int_equal(why, SMPP_CONCAT_BADINPUT);
	assert_int_equal(add(r, "c", 1, 2, 3, "1", 11, out, 8, &olen, &why),
	    -1);
	assert_int_equal(why, SMPP_CONCAT_BADINPUT);
	/* A whole message too big for out: dropped, out not overrun. */
	canary_fill(out, sizeof(out));
	assert_int_equal(add(r, "c", 1, 2, 2, "12345678", 11, out, 4, &olen,
	    &why), -1);
	assert_int_equal(why, SMPP_CONCAT_NOSPACE);
	canary_check(out, 4);
	assert_int_equal(smpp_reasm_pending(r), 1);
	assert_int_equal(smpp_reasm_bytes(r), 1);
	smpp_reasm_free(r);
	smpp_reasm_free(NULL);
}

/* Split, build each part, parse and reassemble: the text comes back. */
static void
test_split_reassemble_round_trip(void **state)
{
	static const char msg[] = "Hello \xE2\x82\xAC world! ";
	uint8_t sept[1200], sm[160], out[1200];
	struct smpp_concat_part p[16];
	struct smpp_reasm *r = table(4, 1 << 16, 10);
	size_t pos = 0, olen = 0;
	int n, parts, st = -1;

	(void)state;
	while (pos + sizeof(msg) < 1000) {
		n = smpp_gsm7_from_utf8(msg, sizeof(msg) - 1, sept + pos,
		    sizeof(sept) - pos, NULL);
		pos += (size_t)n;
	}
	parts = smpp_concat_split(SMPP_TEXT_GSM7, sept, pos, SMPP_CONCAT_UDH8,
	    p, 16, NULL);
	assert_true(parts > 6);
	for (int i = parts - 1; i >= 0; i--) {
		struct smpp_concat_info ci = { 42, (uint8_t)parts,
		    (uint8_t)(i + 1) };
		struct smpp_udh u;

		n = smpp_concat_build_sm(SMPP_TEXT_GSM7, 0, sept, pos, &p[i],
		    SMPP_CONCAT_UDH8, &ci, sm, sizeof(sm), NULL);
		assert_true(n > 6 && n <= 159);
		assert_int_equal(smpp_udh_parse(sm, (size_t)n, &u, NULL), 0);
		st = smpp_reasm_add(r, "esme1", &u.ci, sm + u.len,
		    (size_t)n - u.len, 0, out, sizeof(out), &olen, NULL);
	}
	assert_int_equal(st, SMPP_REASM_COMPLETE);
	assert_int_equal(olen, pos);
	assert_memory_equal(out, sept, pos);
	smpp_reasm_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_gsm7_boundaries),
		cmocka_unit_test(test_split_escape_at_boundary),
		cmocka_unit_test(test_split_ucs2),
		cmocka_unit_test(test_split_8bit_and_limits),
		cmocka_unit_test(test_udh_round_trip),
		cmocka_unit_test(test_udh_other_ies),
		cmocka_unit_test(test_udh_bad),
		cmocka_unit_test(test_build_sm),
		cmocka_unit_test(test_reasm_out_of_order_and_duplicate),
		cmocka_unit_test(test_reasm_expiry),
		cmocka_unit_test(test_reasm_bounds),
		cmocka_unit_test(test_split_reassemble_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
