/*
 * smpp/legacy.c: deliveries in the form an SMPP 3.3 peer reads. Every
 * result is scanned again: a valid deliver_sm without TLVs, the
 * mandatory fields as they came, and what the TLVs carried in its place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pdubuf.h"
#include "smpp/dlr.h"
#include "smpp/legacy.h"
#include "smpp/proto.h"
#include "smpp/scan.h"

struct conv {
	uint8_t			out[SMPP_LEGACY_MAX];
	struct smpp_scan	in;
	struct smpp_scan	sc;
	int			n;
	enum smpp_legacy_reason	why;
};

/* The mandatory part of a deliver_sm from +4917000001 to 12345. */
static void
deliver_head(struct pdubuf *p, uint8_t esm, const char *sm, size_t sm_len)
{
	pb_start(p, SMPP_DELIVER_SM, 0, 77);
	pb_cstr(p, "WAP");
	pb_u8(p, 1);
	pb_u8(p, 1);
	pb_cstr(p, "4917000001");
	pb_u8(p, 0);
	pb_u8(p, 1);
	pb_cstr(p, "12345");
	pb_u8(p, esm);
	pb_u8(p, 5);		/* protocol_id */
	pb_u8(p, 1);		/* priority_flag */
	pb_cstr(p, "");
	pb_cstr(p, "");
	pb_u8(p, 0);		/* registered_delivery */
	pb_u8(p, 0);
	pb_u8(p, 8);		/* data_coding */
	pb_u8(p, 0);
	pb_u8(p, (uint8_t)sm_len);
	pb_bytes(p, sm, sm_len);
}

/* The mandatory part of a data_sm between the same two. */
static void
data_head(struct pdubuf *p, uint8_t esm, const char *src)
{
	pb_start(p, SMPP_DATA_SM, 0, 78);
	pb_cstr(p, "");
	pb_u8(p, 1);
	pb_u8(p, 1);
	pb_cstr(p, src);
	pb_u8(p, 0);
	pb_u8(p, 1);
	pb_cstr(p, "12345");
	pb_u8(p, esm);
	pb_u8(p, 0);		/* registered_delivery */
	pb_u8(p, 0);		/* data_coding */
}

/* Scans p, converts it, and scans the result; n < 0 on refusal. */
static void
convert(struct pdubuf *p, struct conv *c)
{
	struct smpp_limits lim;
	uint32_t st;

	smpp_limits_default(&lim);
	pb_end(p);
	assert_int_equal(smpp_scan(p->b, p->n, &lim, &c->in, &st), 0);
	c->n = smpp_legacy_deliver(&c->in, c->out, sizeof(c->out), &c->why);
	if (c->n < 0)
		return;
	assert_int_equal(c->why, SMPP_LEGACY_OK);
	assert_int_equal(smpp_scan(c->out, (size_t)c->n, &lim, &c->sc, &st),
	    0);
	assert_int_equal(c->sc.hdr.id, SMPP_DELIVER_SM);
	assert_int_equal(c->sc.hdr.seq, c->in.hdr.seq);
	assert_int_equal(c->sc.n_tlvs, 0);
	/* nothing after short_message */
	assert_ptr_equal(c->sc.short_message.p + c->sc.short_message.len,
	    c->out + c->n);
	assert_int_equal(c->sc.src.ton, 1);
	assert_string_equal((const char *)c->sc.src.addr.p,
	    (const char *)c->in.src.addr.p);
	assert_string_equal((const char *)c->sc.dst.addr.p, "12345");
}

static int
sm_is(const struct smpp_scan *sc, const void *want, size_t len)
{
	return sc->short_message.len == len &&
	    memcmp(sc->short_message.p, want, len) == 0;
}

static void
test_receipt_text_kept(void **state)
{
	static const char text[] = "id:4a2f sub:001 dlvrd:001 submit date:"
	    "2611281200 done date:2611281201 stat:DELIVRD err:000 text:";
	struct pdubuf p;
	struct conv c;
	uint8_t st = SMPP_DLR_DELIVRD;

	(void)state;
	deliver_head(&p, SMPP_ESM_DLR, text, sizeof(text) - 1);
	pb_tlv(&p, SMPP_TLV_RECEIPTED_MESSAGE_ID, "4a2f", 5);
	pb_tlv(&p, SMPP_TLV_MESSAGE_STATE, &st, 1);
	convert(&p, &c);
	assert_true(c.n > 0);
	assert_true(sm_is(&c.sc, text, sizeof(text) - 1));
	assert_int_equal(c.sc.esm_class, SMPP_ESM_DLR);
	assert_int_equal(c.sc.protocol_id, 5);
	assert_int_equal(c.sc.priority_flag, 1);
	assert_int_equal(c.sc.data_coding, 8);
	assert_string_equal((const char *)c.sc.service_type.p, "WAP");
	/* exactly the TLVs were cut: 5 + 4 and 1 + 4 octets */
	assert_int_equal((size_t)c.n, p.n - 9 - 5);
}

static void
test_receipt_text_from_tlvs(void **state)
{
	static const uint8_t nec[3] = { 3, 0x00, 0x45 };
	struct pdubuf p;
	struct conv c;
	struct smpp_dlr d;
	uint8_t st = SMPP_DLR_UNDELIV;

	(void)state;
	deliver_head(&p, SMPP_ESM_DLR, "", 0);
	pb_tlv(&p, SMPP_TLV_RECEIPTED_MESSAGE_ID, "1a2b3c", 7);
	pb_tlv(&p, SMPP_TLV_MESSAGE_STATE, &st, 1);
	pb_tlv(&p, SMPP_TLV_NETWORK_ERROR_CODE, nec, 3);
	convert(&p, &c);
	assert_true(c.n > 0);
	assert_int_equal(smpp_dlr_parse((const char *)c.sc.short_message.p,
	    c.sc.short_message.len, &d, NULL), 0);
	assert_string_equal(d.id, "1a2b3c");
	assert_int_equal(d.stat, SMPP_DLR_UNDELIV);
	assert_string_equal(d.err, "069");
	assert_int_equal(d.dlvrd, 0);
}

static void
test_data_sm_receipt(void **state)
{
	struct pdubuf p;
	struct conv c;
	struct smpp_dlr d;
	uint8_t st = SMPP_DLR_DELIVRD;

	(void)state;
	data_head(&p, 0, "4917000001");
	pb_tlv(&p, SMPP_TLV_RECEIPTED_MESSAGE_ID, "5f00000000000001", 17);
	pb_tlv(&p, SMPP_TLV_MESSAGE_STATE, &st, 1);
	convert(&p, &c);
	assert_true(c.n > 0);
	/* a 3.3 peer knows receipts by esm_class alone */
	assert_int_equal(c.sc.esm_class & SMPP_ESM_TYPE_MASK, SMPP_ESM_DLR);
	assert_int_equal(smpp_dlr_parse((const char *)c.sc.short_message.p,
	    c.sc.short_message.len, &d, NULL), 0);
	assert_string_equal(d.id, "5f00000000000001");
	assert_int_equal(d.stat, SMPP_DLR_DELIVRD);
	assert_int_equal(d.sub, 1);
	assert_int_equal(d.dlvrd, 1);
}

static void
test_payload_to_short_message(void **state)
{
	char text[254];
	struct pdubuf p;
	struct conv c;

	(void)state;
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	/* data_sm MO: the payload is the text */
	data_head(&p, 0, "4917000001");
	pb_tlv(&p, SMPP_TLV_MESSAGE_PAYLOAD, text, 160);
	pb_tlv(&p, SMPP_TLV_USER_MESSAGE_REFERENCE, "\x00\x07", 2);
	convert(&p, &c);
	assert_true(c.n > 0);
	assert_true(sm_is(&c.sc, text, 160));
	assert_int_equal(c.sc.esm_class, 0);
	/* deliver_sm with sm_length 0 and the payload, 254 octets: fits */
	deliver_head(&p, 0, "", 0);
	pb_tlv(&p, SMPP_TLV_MESSAGE_PAYLOAD, text, sizeof(text));
	convert(&p, &c);
	assert_true(c.n > 0);
	assert_true(sm_is(&c.sc, text, sizeof(text)));
	assert_int_equal(c.sc.data_coding, 8);
}

static void
test_sar_to_udh(void **state)
{
	static const uint8_t udh8[] = { 5, 0, 3, 0x12, 3, 2 };
	static const uint8_t udh16[] = { 6, 8, 4, 0x12, 0x34, 3, 2 };
	static const uint8_t ref8[2] = { 0, 0x12 }, ref16[2] = { 0x12, 0x34 };
	uint8_t total = 3, seq = 2, want[16];
	struct pdubuf p;
	struct conv c;

	(void)state;
	deliver_head(&p, 0, "part", 4);
	pb_tlv(&p, SMPP_TLV_SAR_MSG_REF_NUM, ref8, 2);
	pb_tlv(&p, SMPP_TLV_SAR_TOTAL_SEGMENTS, &total, 1);
	pb_tlv(&p, SMPP_TLV_SAR_SEGMENT_SEQNUM, &seq, 1);
	convert(&p, &c);
	assert_true(c.n > 0);
	assert_int_equal(c.sc.esm_class, SMPP_ESM_UDHI);
	memcpy(want, udh8, sizeof(udh8));
	memcpy(want + sizeof(udh8), "part", 4);
	assert_true(sm_is(&c.sc, want, sizeof(udh8) + 4));

	deliver_head(&p, 0, "part", 4);
	pb_tlv(&p, SMPP_TLV_SAR_MSG_REF_NUM, ref16, 2);
	pb_tlv(&p, SMPP_TLV_SAR_TOTAL_SEGMENTS, &total, 1);
	pb_tlv(&p, SMPP_TLV_SAR_SEGMENT_SEQNUM, &seq, 1);
	convert(&p, &c);
	assert_true(c.n > 0);
	memcpy(want, udh16, sizeof(udh16));
	memcpy(want + sizeof(udh16), "part", 4);
	assert_true(sm_is(&c.sc, want, sizeof(udh16) + 4));

	/* a UDH already there wins; so does a message of one part */
	deliver_head(&p, SMPP_ESM_UDHI, "\x05\x00\x03\x01\x02\x01x", 7);
	pb_tlv(&p, SMPP_TLV_SAR_MSG_REF_NUM, ref8, 2);
	pb_tlv(&p, SMPP_TLV_SAR_TOTAL_SEGMENTS, &total, 1);
	pb_tlv(&p, SMPP_TLV_SAR_SEGMENT_SEQNUM, &seq, 1);
	convert(&p, &c);
	assert_true(sm_is(&c.sc, "\x05\x00\x03\x01\x02\x01x", 7));
	total = 1;
	seq = 1;
	deliver_head(&p, 0, "whole", 5);
	pb_tlv(&p, SMPP_TLV_SAR_MSG_REF_NUM, ref8, 2);
	pb_tlv(&p, SMPP_TLV_SAR_TOTAL_SEGMENTS, &total, 1);
	pb_tlv(&p, SMPP_TLV_SAR_SEGMENT_SEQNUM, &seq, 1);
	convert(&p, &c);
	assert_int_equal(c.sc.esm_class, 0);
	assert_true(sm_is(&c.sc, "whole", 5));
}

static void
test_refused(void **state)
{
	char text[255];
	struct pdubuf p;
	struct conv c;
	uint8_t small[40];

	(void)state;
	memset(text, 'x', sizeof(text));
	/* one octet over: 3.3 has no room for it */
	deliver_head(&p, 0, "", 0);
	pb_tlv(&p, SMPP_TLV_MESSAGE_PAYLOAD, text, sizeof(text));
	convert(&p, &c);
	assert_int_equal(c.n, -1);
	assert_int_equal(c.why, SMPP_LEGACY_TOOLONG);
	/* a UDH from SAR that would push a full text over */
	deliver_head(&p, 0, text, 250);
	pb_tlv(&p, SMPP_TLV_SAR_MSG_REF_NUM, "\x00\x01", 2);
	pb_tlv(&p, SMPP_TLV_SAR_TOTAL_SEGMENTS, "\x02", 1);
	pb_tlv(&p, SMPP_TLV_SAR_SEGMENT_SEQNUM, "\x01", 1);
	convert(&p, &c);
	assert_int_equal(c.why, SMPP_LEGACY_TOOLONG);
	/* text in both places (against 3.4): neither is dropped */
	deliver_head(&p, 0, "hello", 5);
	pb_tlv(&p, SMPP_TLV_MESSAGE_PAYLOAD, "world", 5);
	convert(&p, &c);
	assert_int_equal(c.n, -1);
	assert_int_equal(c.why, SMPP_LEGACY_TWOTEXTS);
	/* a data_sm source deliver_sm cannot hold */
	data_head(&p, 0, "4917000001234567890123");
	pb_tlv(&p, SMPP_TLV_MESSAGE_PAYLOAD, "hi", 2);
	convert(&p, &c);
	assert_int_equal(c.why, SMPP_LEGACY_LONGADDR);
	/* not a delivery */
	pb_start(&p, SMPP_SUBMIT_SM, 0, 1);
	pb_bytes(&p, "\0\1\1a\0\1\1b\0\0\0\0\0\0\0\0\0\0\0", 19);
	convert(&p, &c);
	assert_int_equal(c.why, SMPP_LEGACY_NOTDELIVERY);
	/* no room: refused, nothing written past cap */
	deliver_head(&p, 0, "hello", 5);
	convert(&p, &c);
	assert_true(c.n > (int)sizeof(small));
	memset(small, 0xA5, sizeof(small));
	assert_int_equal(smpp_legacy_deliver(&c.in, small, sizeof(small) - 8,
	    &c.why), -1);
	assert_int_equal(c.why, SMPP_LEGACY_NOSPACE);
	for (size_t i = sizeof(small) - 8; i < sizeof(small); i++)
		assert_int_equal(small[i], 0xA5);
	assert_string_equal(smpp_legacy_strerror(SMPP_LEGACY_TOOLONG),
	    "text over 254 octets");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipt_text_kept),
		cmocka_unit_test(test_receipt_text_from_tlvs),
		cmocka_unit_test(test_data_sm_receipt),
		cmocka_unit_test(test_payload_to_short_message),
		cmocka_unit_test(test_sar_to_udh),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
