/*
 * The libsmpp34 wrapper: round trips (encode(decode(x)) == x) for every
 * command it decodes, and one test per libsmpp34 trap showing the wrapper
 * handles it (see ../shared/field-guide.md, section 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "smpp/pdu.h"
#include "pdubuf.h"

static struct smpp_limits lim;
static struct pdubuf pb;
static uint8_t out[80000];

static int
setup(void **state)
{
	(void)state;
	smpp_limits_default(&lim);
	return 0;
}

/* decode pb, encode again, and require the very same bytes */
static void
assert_round_trip(struct smpp_pdu *pdu)
{
	uint32_t st = 0;
	size_t n = 0;

	assert_int_equal(smpp_pdu_decode(pb.b, pb.n, &lim, pdu, &st), 0);
	assert_int_equal(smpp_pdu_encode(pdu, out, sizeof(out), &n), 0);
	assert_int_equal(n, pb.n);
	assert_memory_equal(out, pb.b, n);
}

static void
test_bind_round_trip_and_v33(void **state)
{
	struct smpp_pdu pdu;

	(void)state;
	pb_start(&pb, SMPP_BIND_TRANSCEIVER, 0, 1);
	pb_cstr(&pb, "demo");
	pb_cstr(&pb, "demopass");
	pb_cstr(&pb, "VMA");
	pb_u8(&pb, 0x34);
	pb_u8(&pb, 1);
	pb_u8(&pb, 1);
	pb_cstr(&pb, "^49");
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_string_equal(pdu.system_id, "demo");
	assert_string_equal(pdu.password, "demopass");
	assert_string_equal(pdu.system_type, "VMA");
	assert_string_equal(pdu.address_range, "^49");
	smpp_pdu_clear(&pdu);

	/* trap: libsmpp34 refuses interface_version 0x33 both ways */
	pb_start(&pb, SMPP_BIND_TRANSMITTER, 0, 2);
	pb_cstr(&pb, "old");
	pb_cstr(&pb, "pw");
	pb_cstr(&pb, "");
	pb_u8(&pb, 0x33);
	pb_u8(&pb, 0);
	pb_u8(&pb, 0);
	pb_cstr(&pb, "");
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_int_equal(pdu.interface_version, 0x33);
	smpp_pdu_clear(&pdu);
}

static void
test_submit_sm_tlv_order_and_unknown(void **state)
{
	struct smpp_pdu pdu;
	uint8_t ref[2] = { 0xAB, 0xCD };

	(void)state;
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 77);
	pb_sm_body(&pb, "CMT", 1, 1, "4930123", 1, 1, "491701234567", 0x40, 1,
	    0, "\x05\x00\x03\x01\x02\x01hello", 11);
	/* trap: libsmpp34 reverses TLV order; ours is kept */
	pb_tlv(&pb, SMPP_TLV_SAR_MSG_REF_NUM, ref, 2);
	pb_tlv(&pb, SMPP_TLV_SAR_TOTAL_SEGMENTS, "\x02", 1);
	pb_tlv(&pb, SMPP_TLV_SAR_SEGMENT_SEQNUM, "\x01", 1);
	pb_tlv(&pb, 0x1501, "\x01", 1);		/* unknown vendor TLV */
	pb_tlv(&pb, 0x2222, "vendor-data", 11);
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_int_equal(pdu.n_tlvs, 5);
	assert_int_equal(pdu.tlvs[0].tag, SMPP_TLV_SAR_MSG_REF_NUM);
	assert_int_equal(pdu.tlvs[3].tag, 0x1501);
	assert_int_equal(pdu.tlvs[4].len, 11);
	assert_memory_equal(pdu.tlvs[4].val, "vendor-data", 11);
	assert_int_equal(pdu.esm_class, 0x40);
	assert_int_equal(pdu.sequence_number, 77);
	assert_int_equal(pdu.sm_length, 11);
	assert_non_null(smpp_pdu_tlv(&pdu, 0x2222));
	assert_int_equal(smpp_pdu_del_tlv(&pdu, 0x1501), 1);
	assert_int_equal(pdu.n_tlvs, 4);
	smpp_pdu_clear(&pdu);
	smpp_pdu_clear(&pdu);	/* safe twice */
}

static void
test_short_message_254(void **state)
{
	struct smpp_pdu pdu;
	uint8_t sm[254];

	(void)state;
	for (unsigned i = 0; i < sizeof(sm); i++)
		sm[i] = (uint8_t)('a' + i % 26);
	/* trap: libsmpp34 cannot pack sm_length 254 (off by one) */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 3);
	pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "2", 0, 0, 4, sm, 254);
	pb_tlv(&pb, 0x1501, "\x01", 1);
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_int_equal(pdu.sm_length, 254);
	assert_memory_equal(pdu.short_message, sm, 254);
	smpp_pdu_clear(&pdu);

	/* and replace_sm, whose short_message ends the mandatory part */
	pb_start(&pb, SMPP_REPLACE_SM, 0, 4);
	pb_cstr(&pb, "id-1");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4930");
	pb_cstr(&pb, ""); pb_cstr(&pb, "");
	pb_u8(&pb, 1); pb_u8(&pb, 0); pb_u8(&pb, 254);
	pb_bytes(&pb, sm, 254);
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_string_equal(pdu.message_id, "id-1");
	smpp_pdu_clear(&pdu);
}

static void
test_deliver_sm_receipt(void **state)
{
	struct smpp_pdu pdu;
	const char *txt = "id:1a2b sub:001 dlvrd:001 submit date:2611280455 "
	    "done date:2611280456 stat:DELIVRD err:000 text:hello";

	(void)state;
	pb_start(&pb, SMPP_DELIVER_SM, 0, 0x7FFFFFFF);
	pb_sm_body(&pb, "", 1, 1, "491701234567", 1, 1, "4930123", 0x04, 0, 0,
	    txt, (uint8_t)strlen(txt));
	pb_tlv(&pb, SMPP_TLV_RECEIPTED_MESSAGE_ID, "1a2b", 5);
	pb_tlv(&pb, SMPP_TLV_MESSAGE_STATE, "\x02", 1);
	pb_tlv(&pb, SMPP_TLV_NETWORK_ERROR_CODE, "\x03\x00\x00", 3);
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_int_equal(pdu.esm_class, 0x04);
	assert_memory_equal(pdu.short_message, txt, strlen(txt));
	smpp_pdu_clear(&pdu);
}

static void
test_data_sm_long_source_and_payload(void **state)
{
	struct smpp_pdu pdu;
	char src[65];
	static uint8_t payload[3000];

	(void)state;
	memset(src, '5', 40);
	src[40] = '\0';
	memset(payload, 'p', sizeof(payload));
	/* traps: source_addr over 20 (libsmpp34's data_sm limit, the spec
	 * allows 64) and message_payload over 1024 octets */
	pb_start(&pb, SMPP_DATA_SM, 0, 5);
	pb_cstr(&pb, "WAP");
	pb_u8(&pb, 5); pb_u8(&pb, 0); pb_cstr(&pb, src);
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "491701234567");
	pb_u8(&pb, 0); pb_u8(&pb, 1); pb_u8(&pb, 4);
	pb_tlv(&pb, SMPP_TLV_MESSAGE_PAYLOAD, payload, sizeof(payload));
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_string_equal(pdu.source_addr, src);
	assert_string_equal(pdu.service_type, "WAP");
	assert_int_equal(pdu.tlvs[0].len, sizeof(payload));
	smpp_pdu_clear(&pdu);
}

static void
test_submit_multi_round_trip(void **state)
{
	struct smpp_pdu pdu;

	(void)state;
	pb_start(&pb, SMPP_SUBMIT_MULTI, 0, 6);
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
	pb_tlv(&pb, SMPP_TLV_USER_MESSAGE_REFERENCE, "\x00\x01", 2);
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_int_equal(pdu.number_of_dests, 3);
	assert_string_equal(pdu.dests[0].name, "4917011");
	assert_int_equal(pdu.dests[1].flag, 2);
	assert_string_equal(pdu.dests[1].name, "friends");
	assert_int_equal(pdu.dests[2].npi, 8);
	smpp_pdu_clear(&pdu);
}

static void
test_other_commands_round_trip(void **state)
{
	struct smpp_pdu pdu;

	(void)state;
	pb_start(&pb, SMPP_QUERY_SM, 0, 7);
	pb_cstr(&pb, "msg-1");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4930");
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_string_equal(pdu.message_id, "msg-1");
	smpp_pdu_clear(&pdu);

	pb_start(&pb, SMPP_CANCEL_SM, 0, 8);
	pb_cstr(&pb, "");
	pb_cstr(&pb, "msg-2");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4930");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4917");
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_string_equal(pdu.destination_addr, "4917");
	smpp_pdu_clear(&pdu);

	pb_start(&pb, SMPP_ALERT_NOTIFICATION, 0, 9);
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "4917");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "esme");
	pb_tlv(&pb, SMPP_TLV_MS_AVAILABILITY_STATUS, "\x00", 1);
	pb_end(&pb);
	assert_round_trip(&pdu);
	smpp_pdu_clear(&pdu);

	pb_start(&pb, SMPP_OUTBIND, 0, 10);
	pb_cstr(&pb, "smsc");
	pb_cstr(&pb, "secret");
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_string_equal(pdu.system_id, "smsc");
	smpp_pdu_clear(&pdu);

	/* responses and header-only commands, built without libsmpp34 */
	pb_start(&pb, SMPP_SUBMIT_SM_RESP, 0, 11);
	pb_cstr(&pb, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	    "abcdef");
	pb_end(&pb);
	assert_round_trip(&pdu);
	smpp_pdu_clear(&pdu);

	pb_start(&pb, SMPP_ENQUIRE_LINK, 0, 12);
	pb_end(&pb);
	assert_round_trip(&pdu);
	smpp_pdu_clear(&pdu);

	pb_start(&pb, SMPP_DATA_SM_RESP, SMPP_RDELIVERYFAILURE, 13);
	pb_cstr(&pb, "");
	pb_tlv(&pb, SMPP_TLV_DELIVERY_FAILURE_REASON, "\x01", 1);
	pb_end(&pb);
	assert_round_trip(&pdu);
	smpp_pdu_clear(&pdu);
}

static void
test_lib_refusals_handled(void **state)
{
	struct smpp_pdu pdu;

	(void)state;
	/* traps: sequence 0, TON 7, unlisted NPI 5 in a request */
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 0);
	pb_sm_body(&pb, "", 7, 5, "1", 1, 2, "2", 0, 0, 0, "x", 1);
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_int_equal(pdu.source_addr_ton, 7);
	assert_int_equal(pdu.source_addr_npi, 5);
	assert_int_equal(pdu.dest_addr_npi, 2);
	assert_int_equal(pdu.sequence_number, 0);
	smpp_pdu_clear(&pdu);

	/* trap: vendor command_status in a response */
	pb_start(&pb, SMPP_SUBMIT_SM_RESP, 0x00000450, 14);
	pb_u8(&pb, 0);
	pb_end(&pb);
	assert_round_trip(&pdu);
	assert_int_equal(pdu.command_status, 0x450);
	smpp_pdu_clear(&pdu);

	/* trap: deliver_sm_resp with no body, and with a message_id */
	pb_start(&pb, SMPP_DELIVER_SM_RESP, 0, 15);
	pb_end(&pb);
	{
		uint32_t st;

		assert_int_equal(smpp_pdu_decode(pb.b, pb.n, &lim, &pdu, &st), 0);
		smpp_pdu_clear(&pdu);
		pb_start(&pb, SMPP_DELIVER_SM_RESP, 0, 15);
		pb_cstr(&pb, "not-empty");
		pb_end(&pb);
		assert_int_equal(smpp_pdu_decode(pb.b, pb.n, &lim, &pdu, &st), 0);
		assert_string_equal(pdu.message_id, "not-empty");
		smpp_pdu_clear(&pdu);
	}

	/* a deliver_sm with (non-spec) schedule time still decodes */
	pb_start(&pb, SMPP_DELIVER_SM, 0, 16);
	pb_cstr(&pb, "");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "1");
	pb_u8(&pb, 1); pb_u8(&pb, 1); pb_cstr(&pb, "2");
	pb_u8(&pb, 0); pb_u8(&pb, 0); pb_u8(&pb, 0);
	pb_cstr(&pb, "261128000000000+");
	pb_cstr(&pb, "");
	pb_u8(&pb, 0); pb_u8(&pb, 0); pb_u8(&pb, 0); pb_u8(&pb, 0);
	pb_u8(&pb, 1); pb_bytes(&pb, "z", 1);
	pb_end(&pb);
	{
		uint32_t st;

		assert_int_equal(smpp_pdu_decode(pb.b, pb.n, &lim, &pdu, &st), 0);
		assert_string_equal(pdu.schedule_delivery_time,
		    "261128000000000+");
		assert_memory_equal(pdu.short_message, "z", 1);
		smpp_pdu_clear(&pdu);
	}
}

static void
test_many_tlvs_no_crash(void **state)
{
	struct smpp_pdu pdu;
	uint32_t st;

	(void)state;
	/* trap: 70 TLVs overflow libsmpp34's trace buffer and crash it */
	for (unsigned n = 30; n <= 70; n += 40) {
		pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
		pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "2", 0, 0, 0, "x", 1);
		for (unsigned i = 0; i < n; i++)
			pb_tlv(&pb, (uint16_t)(0x1400 + i), "", 0);
		pb_end(&pb);
		if (n <= 32) {
			assert_round_trip(&pdu);
			assert_int_equal(pdu.n_tlvs, n);
			smpp_pdu_clear(&pdu);
		} else {
			assert_int_equal(smpp_pdu_decode(pb.b, pb.n, &lim, &pdu,
			    &st), -1);
			assert_int_equal(st, SMPP_RINVOPTPARSTREAM);
			assert_int_equal(pdu.n_tlvs, 0);
		}
	}
	/* trap: malformed TLVs made libsmpp34 leak; they never reach it
	 * (the ASan build of this test checks for leaks) */
	for (unsigned i = 0; i < 1000; i++) {
		pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
		pb_sm_body(&pb, "", 1, 1, "1", 1, 1, "2", 0, 0, 0, "x", 1);
		pb_u16(&pb, SMPP_TLV_MESSAGE_PAYLOAD);
		pb_u16(&pb, (uint16_t)(100 + i));
		pb_end(&pb);
		assert_int_equal(smpp_pdu_decode(pb.b, pb.n, &lim, &pdu, &st), -1);
		assert_int_equal(st, SMPP_RINVOPTPARSTREAM);
	}
}

static void
test_encode_refuses_not_truncates(void **state)
{
	struct smpp_pdu pdu, before;
	size_t n = 0;

	(void)state;
	smpp_pdu_init(&pdu, SMPP_SUBMIT_SM);
	pdu.sequence_number = 1;
	/* trap: libsmpp34 would silently truncate and edit the struct */
	memset(pdu.source_addr, '9', 21);	/* 21 digits: over the limit */
	pdu.source_addr[21] = '\0';
	memcpy(pdu.destination_addr, "4917", 5);
	pdu.sm_length = 2;
	memcpy(pdu.short_message, "hi", 2);
	before = pdu;
	assert_int_equal(smpp_pdu_encode(&pdu, out, sizeof(out), &n), -1);
	assert_memory_equal(&pdu, &before, sizeof(pdu));

	pdu.source_addr[20] = '\0';
	assert_int_equal(smpp_pdu_encode(&pdu, out, sizeof(out), &n), 0);
	/* a buffer exactly the PDU size is enough (libsmpp34 needs +1) */
	{
		uint8_t exact[128];
		size_t n2 = 0;

		assert_true(n <= sizeof(exact));
		assert_int_equal(smpp_pdu_encode(&pdu, exact, n, &n2), 0);
		assert_int_equal(n2, n);
		assert_int_equal(smpp_pdu_encode(&pdu, exact, n - 1, &n2), -1);
	}

	/* a fixed-size TLV of the wrong size is refused when added */
	assert_int_equal(smpp_pdu_add_tlv(&pdu, SMPP_TLV_SAR_TOTAL_SEGMENTS,
	    "\x00\x02", 2), -1);
	assert_int_equal(pdu.n_tlvs, 0);
	/* TLVs on a command that has none */
	smpp_pdu_clear(&pdu);
	smpp_pdu_init(&pdu, SMPP_ENQUIRE_LINK);
	assert_int_equal(smpp_pdu_add_tlv(&pdu, 0x1400, "a", 1), 0);
	assert_int_equal(smpp_pdu_encode(&pdu, out, sizeof(out), &n), -1);
	smpp_pdu_clear(&pdu);

	/* deliver_sm times must be empty; query_sm_resp is not encodable */
	smpp_pdu_init(&pdu, SMPP_DELIVER_SM);
	pdu.sequence_number = 1;
	memcpy(pdu.validity_period, "000001000000000R", 17);
	assert_int_equal(smpp_pdu_encode(&pdu, out, sizeof(out), &n), -1);
	smpp_pdu_init(&pdu, SMPP_QUERY_SM_RESP);
	assert_int_equal(smpp_pdu_encode(&pdu, out, sizeof(out), &n), -1);
}

static void
test_describe(void **state)
{
	struct smpp_pdu pdu;
	char line[256];

	(void)state;
	smpp_pdu_init(&pdu, SMPP_SUBMIT_SM);
	pdu.sequence_number = 3;
	memcpy(pdu.short_message, "secret", 6);
	pdu.sm_length = 6;
	smpp_pdu_describe(&pdu, line, sizeof(line));
	assert_non_null(strstr(line, "cmd=submit_sm"));
	assert_null(strstr(line, "secret"));	/* never the text */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bind_round_trip_and_v33, setup),
		cmocka_unit_test_setup(test_submit_sm_tlv_order_and_unknown, setup),
		cmocka_unit_test_setup(test_short_message_254, setup),
		cmocka_unit_test_setup(test_deliver_sm_receipt, setup),
		cmocka_unit_test_setup(test_data_sm_long_source_and_payload, setup),
		cmocka_unit_test_setup(test_submit_multi_round_trip, setup),
		cmocka_unit_test_setup(test_other_commands_round_trip, setup),
		cmocka_unit_test_setup(test_lib_refusals_handled, setup),
		cmocka_unit_test_setup(test_many_tlvs_no_crash, setup),
		cmocka_unit_test_setup(test_encode_refuses_not_truncates, setup),
		cmocka_unit_test_setup(test_describe, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
