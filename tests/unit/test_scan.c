/*
 * The validating scanner: valid PDUs of every command give the right
 * views; every kind of broken PDU gives the status the spec asks for and
 * keeps the header, so it can be answered with the right sequence number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smpp/scan.h"
#include "pdubuf.h"

static struct smpp_limits lim;
static struct pdubuf pb;
static struct smpp_scan sc;

static int
setup(void **state)
{
	(void)state;
	smpp_limits_default(&lim);
	return 0;
}

static uint32_t
scan_status(void)
{
	uint32_t st = 0xdeadbeef;

	if (smpp_scan(pb.b, pb.n, &lim, &sc, &st) == 0)
		return SMPP_ROK;
	assert_int_not_equal(st, 0xdeadbeef);
	return st;
}

static void
valid_submit_sm(void)
{
	uint8_t ref[2] = { 0x12, 0x34 };

	pb_start(&pb, SMPP_SUBMIT_SM, 0, 7);
	pb_sm_body(&pb, "CMT", 1, 1, "4930123", 1, 1, "491701234567", 0, 1,
	    0, "hello", 5);
	pb_tlv(&pb, SMPP_TLV_SAR_MSG_REF_NUM, ref, 2);
	pb_tlv(&pb, 0x1501, "\x01", 1);
	pb_end(&pb);
}

static void
test_submit_sm_fields(void **state)
{
	(void)state;
	valid_submit_sm();
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.hdr.id, SMPP_SUBMIT_SM);
	assert_int_equal(sc.hdr.seq, 7);
	assert_int_equal(sc.hdr.len, pb.n);
	assert_string_equal((const char *)sc.service_type.p, "CMT");
	assert_string_equal((const char *)sc.src.addr.p, "4930123");
	assert_string_equal((const char *)sc.dst.addr.p, "491701234567");
	assert_int_equal(sc.dst.ton, 1);
	assert_int_equal(sc.registered_delivery, 1);
	assert_int_equal(sc.short_message.len, 5);
	assert_memory_equal(sc.short_message.p, "hello", 5);
	assert_int_equal(sc.n_tlvs, 2);
	/* wire order kept */
	assert_int_equal(sc.tlvs[0].tag, SMPP_TLV_SAR_MSG_REF_NUM);
	assert_int_equal(sc.tlvs[1].tag, 0x1501);
	assert_non_null(smpp_scan_tlv(&sc, 0x1501));
	assert_null(smpp_scan_tlv(&sc, SMPP_TLV_MESSAGE_PAYLOAD));
	assert_int_equal(sc.tlv_off, pb.n - 6 - 5);
}

static void
test_bind(void **state)
{
	(void)state;
	pb_start(&pb, SMPP_BIND_TRANSCEIVER, 0, 1);
	pb_cstr(&pb, "demo");
	pb_cstr(&pb, "demopass");
	pb_cstr(&pb, "");
	pb_u8(&pb, 0x33);
	pb_u8(&pb, 0);
	pb_u8(&pb, 0);
	pb_cstr(&pb, "");
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_true(sc.has & SMPP_HAS_BIND);
	assert_string_equal((const char *)sc.system_id.p, "demo");
	assert_string_equal((const char *)sc.password.p, "demopass");
	assert_int_equal(sc.interface_version, 0x33);

	/* 16 octets of system_id leave no room for the NUL */
	pb_start(&pb, SMPP_BIND_TRANSMITTER, 0, 2);
	pb_cstr(&pb, "0123456789abcdef");
	pb_cstr(&pb, "pw");
	pb_cstr(&pb, "");
	pb_u8(&pb, 0x34);
	pb_u8(&pb, 0);
	pb_u8(&pb, 0);
	pb_cstr(&pb, "");
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVSYSID);
	assert_int_equal(sc.hdr.seq, 2);

	pb_start(&pb, SMPP_BIND_TRANSMITTER, 0, 3);
	pb_cstr(&pb, "sys");
	pb_cstr(&pb, "123456789");	/* password max is 8 + NUL */
	pb_cstr(&pb, "");
	pb_u8(&pb, 0x34);
	pb_u8(&pb, 0);
	pb_u8(&pb, 0);
	pb_cstr(&pb, "");
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVPASWD);
}

static void
test_framing(void **state)
{
	(void)state;
	/* command_length must equal the bytes handed over */
	valid_submit_sm();
	assert_int_equal(smpp_scan(pb.b, pb.n - 1, &lim, &sc,
	    &(uint32_t){0}), -1);
	{
		uint32_t st;

		assert_int_equal(smpp_scan(pb.b, pb.n - 1, &lim, &sc, &st), -1);
		assert_int_equal(st, SMPP_RINVCMDLEN);
		assert_int_equal(smpp_scan(pb.b, 15, &lim, &sc, &st), -1);
		assert_int_equal(st, SMPP_RINVCMDLEN);
	}
	assert_int_equal(smpp_frame_len_ok(15, &lim), -1);
	assert_int_equal(smpp_frame_len_ok(16, &lim), 0);
	assert_int_equal(smpp_frame_len_ok(SMPP_DEFAULT_MAX_PDU, &lim), 0);
	assert_int_equal(smpp_frame_len_ok(SMPP_DEFAULT_MAX_PDU + 1, &lim), -1);
	assert_int_equal(smpp_frame_len_ok(0xFFFFFFFFu, &lim), -1);

	/* a PDU over a lowered limit */
	lim.max_pdu = 40;
	valid_submit_sm();
	assert_int_equal(scan_status(), SMPP_RINVCMDLEN);
	smpp_limits_default(&lim);

	/* unknown command id: ESME_RINVCMDID, header still readable */
	pb_start(&pb, 0x00000999, 0, 4242);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVCMDID);
	assert_int_equal(sc.hdr.seq, 4242);
	assert_int_equal(sc.hdr.id, 0x999);
}

static void
test_field_errors(void **state)
{
	uint8_t big[255];

	(void)state;
	memset(big, 'x', sizeof(big));

	/* service_type of 6 octets */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&pb, "ABCDEF", 1, 1, "1", 1, 1, "2", 0, 0, 0, "", 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVSERTYP);

	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&pb, "", 1, 1, "123456789012345678901", 1, 1, "2", 0, 0, 0,
	    "", 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVSRCADR);

	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "123456789012345678901", 0, 0, 0,
	    "", 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVDSTADR);

	/* sm_length past the end of the PDU */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "2", 0, 0, 0, "abc", 3);
	pb.b[pb.n - 4] = 4;
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVMSGLEN);

	/* sm_length 255 is over the maximum even if the bytes are there */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "2", 0, 0, 0, big, 255);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVMSGLEN);

	/* 254 is the spec maximum and is accepted */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "2", 0, 0, 0, big, 254);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.short_message.len, 254);

	/* an unterminated validity_period */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_cstr(&pb, "");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "1");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "2");
	pb_u8(&pb, 0); pb_u8(&pb, 0); pb_u8(&pb, 0);
	pb_cstr(&pb, "");
	pb_bytes(&pb, "00000000000000000R", 18);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVEXPIRY);

	/* a body cut off in the middle of the fixed fields */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_cstr(&pb, "");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "1");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "2");
	pb_u8(&pb, 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVCMDLEN);

	/* a string running to the end of the PDU with no NUL */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_bytes(&pb, "CMT", 3);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVSERTYP);
}

static void
test_tlv_errors(void **state)
{
	uint8_t two[2] = { 0, 2 };

	(void)state;
	/* a TLV header that does not fit */
	valid_submit_sm();
	pb_u8(&pb, 0x02);
	pb_u8(&pb, 0x0C);
	pb_u8(&pb, 0x00);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVOPTPARSTREAM);

	/* a TLV value running past the end */
	valid_submit_sm();
	pb_u16(&pb, SMPP_TLV_MESSAGE_PAYLOAD);
	pb_u16(&pb, 10);
	pb_bytes(&pb, "abc", 3);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVOPTPARSTREAM);

	/* a fixed-size TLV with the wrong size (libsmpp34 misparses it) */
	valid_submit_sm();
	pb_tlv(&pb, SMPP_TLV_SAR_TOTAL_SEGMENTS, two, 2);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVPARLEN);

	valid_submit_sm();
	pb_tlv(&pb, SMPP_TLV_NETWORK_ERROR_CODE, two, 2);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVPARLEN);

	/* a zero-length vendor TLV is fine */
	valid_submit_sm();
	pb_tlv(&pb, 0x1400, "", 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.n_tlvs, 3);
	assert_int_equal(sc.tlvs[2].len, 0);
}

static void
make_many_tlvs(unsigned n)
{
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 9);
	pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "2", 0, 0, 0, "x", 1);
	for (unsigned i = 0; i < n; i++)
		pb_tlv(&pb, (uint16_t)(0x1400 + i), "", 0);
	pb_end(&pb);
}

static void
test_tlv_count_cap(void **state)
{
	(void)state;
	assert_int_equal(lim.max_tlvs, 32);
	make_many_tlvs(32);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.n_tlvs, 32);
	make_many_tlvs(33);
	assert_int_equal(scan_status(), SMPP_RINVOPTPARSTREAM);
	/* the PDU that crashes libsmpp34 (70 TLVs, 313 octets) */
	make_many_tlvs(70);
	assert_int_equal(scan_status(), SMPP_RINVOPTPARSTREAM);
	assert_int_equal(sc.hdr.seq, 9);
	/* a configured cap above the array is clamped */
	lim.max_tlvs = 1000;
	make_many_tlvs(SMPP_HARD_MAX_TLVS + 1);
	assert_int_equal(scan_status(), SMPP_RINVOPTPARSTREAM);
	smpp_limits_default(&lim);
}

static void
test_responses_tolerant(void **state)
{
	(void)state;
	pb_start(&pb, SMPP_SUBMIT_SM_RESP, 0, 5);
	pb_cstr(&pb, "1a2b3c");
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_string_equal((const char *)sc.message_id.p, "1a2b3c");

	/* an error response with no body at all */
	pb_start(&pb, SMPP_SUBMIT_SM_RESP, SMPP_RTHROTTLED, 6);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.hdr.status, SMPP_RTHROTTLED);
	assert_int_equal(sc.message_id.len, 0);

	/* an error response with a 1-octet empty body (libsmpp34 fails it) */
	pb_start(&pb, SMPP_SUBMIT_SM_RESP, SMPP_RSYSERR, 6);
	pb_u8(&pb, 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);

	/* an error response with a garbage body: the status is what counts */
	pb_start(&pb, SMPP_SUBMIT_SM_RESP, 0x401, 6);
	pb_bytes(&pb, "garbage-without-nul-garbage-without-nul-garbage-without"
	    "-nul-garbage", 66);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.hdr.status, 0x401);

	/* a successful response whose id is not terminated is refused */
	pb_start(&pb, SMPP_SUBMIT_SM_RESP, 0, 6);
	pb_bytes(&pb, "abc", 3);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVMSGID);

	/* deliver_sm_resp: no body, empty id, non-empty id */
	pb_start(&pb, SMPP_DELIVER_SM_RESP, 0, 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.hdr.seq, 0);
	pb_start(&pb, SMPP_DELIVER_SM_RESP, 0, 8);
	pb_cstr(&pb, "");
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	pb_start(&pb, SMPP_DELIVER_SM_RESP, 0, 8);
	pb_cstr(&pb, "some-id");
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_string_equal((const char *)sc.message_id.p, "some-id");

	/* bind_resp with sc_interface_version, and without a body */
	pb_start(&pb, SMPP_BIND_TRANSCEIVER_RESP, 0, 1);
	pb_cstr(&pb, "SMSC");
	pb_tlv(&pb, SMPP_TLV_SC_INTERFACE_VERSION, "\x34", 1);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_string_equal((const char *)sc.system_id.p, "SMSC");
	assert_int_equal(sc.n_tlvs, 1);
	pb_start(&pb, SMPP_BIND_TRANSCEIVER_RESP, SMPP_RINVPASWD, 1);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);

	/* header-only commands ignore a stray body */
	pb_start(&pb, SMPP_ENQUIRE_LINK_RESP, 0, 3);
	pb_u8(&pb, 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	pb_start(&pb, SMPP_GENERIC_NACK, SMPP_RINVCMDID, 3);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
}

static void
test_submit_multi(void **state)
{
	struct smpp_dest_view d;
	size_t pos = 0;

	(void)state;
	pb_start(&pb, SMPP_SUBMIT_MULTI, 0, 11);
	pb_cstr(&pb, "");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4930");
	pb_u8(&pb, 3);
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4917011");
	pb_u8(&pb, 2); pb_cstr(&pb, "friends");
	pb_u8(&pb, 1); pb_u8(&pb, 2); pb_u8(&pb, 8); pb_cstr(&pb, "017022");
	pb_u8(&pb, 0); pb_u8(&pb, 0); pb_u8(&pb, 0);
	pb_cstr(&pb, ""); pb_cstr(&pb, "");
	pb_u8(&pb, 0); pb_u8(&pb, 0); pb_u8(&pb, 0); pb_u8(&pb, 0);
	pb_u8(&pb, 2); pb_bytes(&pb, "hi", 2);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.number_of_dests, 3);
	assert_int_equal(smpp_scan_next_dest(&sc, &pos, &d), 1);
	assert_int_equal(d.flag, 1);
	assert_string_equal((const char *)d.name.p, "4917011");
	assert_int_equal(smpp_scan_next_dest(&sc, &pos, &d), 1);
	assert_int_equal(d.flag, 2);
	assert_string_equal((const char *)d.name.p, "friends");
	assert_int_equal(smpp_scan_next_dest(&sc, &pos, &d), 1);
	assert_int_equal(d.ton, 2);
	assert_int_equal(d.npi, 8);
	assert_int_equal(smpp_scan_next_dest(&sc, &pos, &d), 0);
	assert_memory_equal(sc.short_message.p, "hi", 2);

	/* bad dest_flag */
	pb.b[16 + 1 + 2 + 5 + 1] = 7;
	assert_int_equal(scan_status(), SMPP_RINVDESTFLAG);

	/* no destinations */
	pb_start(&pb, SMPP_SUBMIT_MULTI, 0, 11);
	pb_cstr(&pb, "");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4930");
	pb_u8(&pb, 0);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVNUMDESTS);
}

static void
test_data_sm_and_others(void **state)
{
	char src[65];

	(void)state;
	memset(src, '7', 64);
	src[64] = '\0';
	pb_start(&pb, SMPP_DATA_SM, 0, 12);
	pb_cstr(&pb, "");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, src);
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "491701234567");
	pb_u8(&pb, 0); pb_u8(&pb, 1); pb_u8(&pb, 8);
	pb_tlv(&pb, SMPP_TLV_MESSAGE_PAYLOAD, "\x00\x41", 2);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_int_equal(sc.src.addr.len, 64);
	assert_int_equal(sc.data_coding, 8);

	pb_start(&pb, SMPP_QUERY_SM, 0, 13);
	pb_cstr(&pb, "abc");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4930");
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_string_equal((const char *)sc.message_id.p, "abc");

	pb_start(&pb, SMPP_CANCEL_SM, 0, 14);
	pb_cstr(&pb, "");
	pb_bytes(&pb, "0123456789012345678901234567890123456789012345678901234567"
	    "8901234", 65);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_RINVMSGID);

	pb_start(&pb, SMPP_ALERT_NOTIFICATION, 0, 15);
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4917");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "esme");
	pb_tlv(&pb, SMPP_TLV_MS_AVAILABILITY_STATUS, "\x00", 1);
	pb_end(&pb);
	assert_int_equal(scan_status(), SMPP_ROK);
	assert_string_equal((const char *)sc.dst.addr.p, "esme");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_submit_sm_fields, setup),
		cmocka_unit_test_setup(test_bind, setup),
		cmocka_unit_test_setup(test_framing, setup),
		cmocka_unit_test_setup(test_field_errors, setup),
		cmocka_unit_test_setup(test_tlv_errors, setup),
		cmocka_unit_test_setup(test_tlv_count_cap, setup),
		cmocka_unit_test_setup(test_responses_tolerant, setup),
		cmocka_unit_test_setup(test_submit_multi, setup),
		cmocka_unit_test_setup(test_data_sm_and_others, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
