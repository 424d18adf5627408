/*
 * smpp-bench's prebuilt submit_sm: composing with a destination and a
 * concatenation reference gives PDUs that scan and decode to what was
 * asked, for single and multipart (UDH, UDH16, SAR) and message_payload;
 * bad input gives a clear error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/pdu.h"
#include "smpp/proto.h"
#include "smpp/scan.h"

#include "bench_msg.h"

static void
spec_init(struct bench_msg_spec *sp, const char *text)
{
	memset(sp, 0, sizeof(*sp));
	sp->service_type = "";
	sp->from = "Bench";
	sp->text = text;
	sp->text_len = strlen(text);
	sp->enc = BENCH_ENC_AUTO;
	sp->split = BENCH_SPLIT_UDH;
	sp->registered_delivery = 1;
}

static void
compose_scan(const struct bench_part *p, const char *dst, uint16_t ref,
    uint8_t *buf, size_t cap, struct smpp_scan *sc)
{
	struct smpp_limits lim;
	uint32_t status = 0;
	size_t len;

	len = bench_msg_compose(p, dst, strlen(dst), ref, buf, cap);
	assert_true(len > SMPP_HEADER_LEN);
	smpp_limits_default(&lim);
	assert_int_equal(smpp_scan(buf, len, &lim, sc, &status), 0);
	assert_int_equal(sc->hdr.id, SMPP_SUBMIT_SM);
	assert_int_equal(sc->dst.addr.len, strlen(dst));
	assert_memory_equal(sc->dst.addr.p, dst, strlen(dst));
}

static void
test_single(void **state)
{
	static struct smpp_scan sc;
	struct bench_msg_spec sp;
	struct bench_msg m;
	struct bench_tlv tlv = { .tag = 0x0204, .len = 2, .val = { 0, 7 } };
	uint8_t buf[1024];
	char err[128];

	(void)state;
	spec_init(&sp, "Hello");
	sp.service_type = "CMT";
	sp.tlvs = &tlv;
	sp.n_tlvs = 1;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.dcs, 0);
	/* Destinations of other lengths than the placeholder. */
	compose_scan(&m.parts[0], "491701234567", 0, buf, sizeof(buf), &sc);
	assert_int_equal(sc.short_message.len, 5);
	assert_int_equal(sc.registered_delivery, 1);
	assert_int_equal(sc.src.ton, 5);
	assert_int_equal(sc.n_tlvs, 1);
	assert_int_equal(sc.tlvs[0].tag, 0x0204);
	assert_memory_equal(sc.service_type.p, "CMT", 3);
	compose_scan(&m.parts[0], "1", 0, buf, sizeof(buf), &sc);
	compose_scan(&m.parts[0], "12345678901234567890", 0, buf, sizeof(buf),
	    &sc);
	/* 21 characters do not fit an SMPP address. */
	assert_int_equal(bench_msg_compose(&m.parts[0],
	    "123456789012345678901", 21, 0, buf, sizeof(buf)), 0);
	/* Nor does a too small buffer. */
	assert_int_equal(bench_msg_compose(&m.parts[0], "49", 2, 0, buf, 20),
	    0);
	bench_msg_free(&m);
}

static void
test_udh_parts(void **state)
{
	static struct smpp_scan sc;
	struct bench_msg_spec sp;
	struct bench_msg m;
	char text[400], err[128];
	uint8_t buf[1024];

	(void)state;
	memset(text, 'a', 399);
	text[399] = '\0';
	spec_init(&sp, text);
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nparts, 3);	/* 153 + 153 + 93 septets */
	for (unsigned i = 0; i < m.nparts; i++) {
		compose_scan(&m.parts[i], "4917000", 0xA5, buf, sizeof(buf),
		    &sc);
		assert_true(sc.esm_class & SMPP_ESM_UDHI);
		assert_int_equal(sc.short_message.p[0], 5);	/* UDHL */
		assert_int_equal(sc.short_message.p[1], 0);	/* IEI 8-bit */
		assert_int_equal(sc.short_message.p[3], 0xA5);	/* ref */
		assert_int_equal(sc.short_message.p[4], 3);	/* total */
		assert_int_equal(sc.short_message.p[5], i + 1);	/* seq */
	}
	bench_msg_free(&m);

	sp.split = BENCH_SPLIT_UDH16;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), 0);
	compose_scan(&m.parts[1], "4917000", 0x1234, buf, sizeof(buf), &sc);
	assert_int_equal(sc.short_message.p[1], 8);	/* IEI 16-bit */
	assert_int_equal(sc.short_message.p[3], 0x12);
	assert_int_equal(sc.short_message.p[4], 0x34);
	assert_int_equal(sc.short_message.p[6], 2);
	bench_msg_free(&m);
}

static void
test_sar_and_payload(void **state)
{
	static struct smpp_scan sc;
	struct bench_msg_spec sp;
	struct bench_msg m;
	const struct smpp_tlv_view *t;
	char err[128];
	uint8_t buf[2048];
	/* Not GSM 7: UCS-2, 67 units a part with a UDH (or SAR). */
	const char *text = "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 !";

	(void)state;
	spec_init(&sp, text);	/* 71 characters: one over a part */
	sp.split = BENCH_SPLIT_SAR;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.dcs, 0x08);
	assert_int_equal(m.octets, 142);
	assert_int_equal(m.nparts, 2);
	compose_scan(&m.parts[1], "49", 0xBEEF, buf, sizeof(buf), &sc);
	assert_false(sc.esm_class & SMPP_ESM_UDHI);
	t = smpp_scan_tlv(&sc, SMPP_TLV_SAR_MSG_REF_NUM);
	assert_non_null(t);
	assert_int_equal(t->val[0], 0xBE);
	assert_int_equal(t->val[1], 0xEF);
	t = smpp_scan_tlv(&sc, SMPP_TLV_SAR_SEGMENT_SEQNUM);
	assert_non_null(t);
	assert_int_equal(t->val[0], 2);
	bench_msg_free(&m);

	sp.split = BENCH_SPLIT_PAYLOAD;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nparts, 1);
	compose_scan(&m.parts[0], "4917", 0, buf, sizeof(buf), &sc);
	assert_int_equal(sc.short_message.len, 0);
	t = smpp_scan_tlv(&sc, SMPP_TLV_MESSAGE_PAYLOAD);
	assert_non_null(t);
	assert_int_equal(t->len, 142);
	bench_msg_free(&m);
}

static void
test_errors(void **state)
{
	struct bench_msg_spec sp;
	struct bench_msg m;
	struct bench_tlv tlv = { .tag = SMPP_TLV_MESSAGE_STATE, .len = 2 };
	char err[160];

	(void)state;
	spec_init(&sp, "\xd0\x9f");	/* Cyrillic: not GSM 7 */
	sp.enc = BENCH_ENC_GSM7;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "gsm7"));
	sp.enc = BENCH_ENC_LATIN1;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "latin1"));
	spec_init(&sp, "\xff bad utf-8");
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), -1);
	spec_init(&sp, "ok");
	sp.tlvs = &tlv;		/* message_state is one octet */
	sp.n_tlvs = 1;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TLV 0x0427"));
	spec_init(&sp, "ok");
	sp.from = "123456789012345678901";
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--from"));
	spec_init(&sp, "ok");
	sp.enc = BENCH_ENC_BINARY;
	assert_int_equal(bench_msg_build(&sp, &m, err, sizeof(err)), 0);
	assert_int_equal(m.dcs, 0x04);
	bench_msg_free(&m);
	assert_int_equal(bench_enc_parse("ucs2"), BENCH_ENC_UCS2);
	assert_int_equal(bench_enc_parse("utf8"), -1);
	assert_int_equal(bench_split_parse("sar"), BENCH_SPLIT_SAR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_udh_parts),
		cmocka_unit_test(test_sar_and_payload),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
