/*
 * gateway/dlr: a receipt PDU rewritten to the gateway id: the text's id:
 * and the receipted_message_id TLV change, every other byte (fields,
 * other TLVs, their order) stays; a text in message_payload is rewritten
 * there; the SMSC id is taken from the TLV first, else from the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/dlr.h"
#include "smpp/build.h"
#include "smpp/proto.h"

static size_t
put_cstr(uint8_t *p, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p, s, n);
	return n;
}

/* A deliver_sm receipt; text in short_message or (payload) in TLV. */
static size_t
make(uint8_t *b, const char *text, const char *tlv_id, int payload)
{
	size_t n = 16, tl = strlen(text);

	n += put_cstr(b + n, "");		/* service_type */
	b[n++] = 1; b[n++] = 1;
	n += put_cstr(b + n, "491700000001");
	b[n++] = 0; b[n++] = 0;
	n += put_cstr(b + n, "4930");
	b[n++] = SMPP_ESM_DLR;			/* esm_class */
	b[n++] = 0; b[n++] = 0;
	n += put_cstr(b + n, "");
	n += put_cstr(b + n, "");
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 0;
	if (payload) {
		b[n++] = 0;
		smpp_put16(b + n, SMPP_TLV_MESSAGE_PAYLOAD);
		smpp_put16(b + n + 2, (uint16_t)tl);
		memcpy(b + n + 4, text, tl);
		n += 4 + tl;
	} else {
		b[n++] = (uint8_t)tl;
		memcpy(b + n, text, tl);
		n += tl;
	}
	smpp_put16(b + n, SMPP_TLV_MESSAGE_STATE);
	smpp_put16(b + n + 2, 1);
	b[n + 4] = 2;
	n += 5;
	if (tlv_id != NULL) {
		smpp_put16(b + n, SMPP_TLV_RECEIPTED_MESSAGE_ID);
		smpp_put16(b + n + 2, (uint16_t)(strlen(tlv_id) + 1));
		n += 4 + put_cstr(b + n + 4, tlv_id);
	}
	smpp_put32(b, (uint32_t)n);
	smpp_put32(b + 4, SMPP_DELIVER_SM);
	smpp_put32(b + 8, 0);
	smpp_put32(b + 12, 7);
	return n;
}

static void
scan(const uint8_t *b, size_t n, struct smpp_scan *sc)
{
	struct smpp_limits lim;
	uint32_t st;

	smpp_limits_default(&lim);
	assert_int_equal(smpp_scan(b, n, &lim, sc, &st), 0);
}

static const char text_in[] = "id:1A2B3C4D sub:001 dlvrd:001 submit "
    "date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:hi";
static const char text_out[] = "id:7f00aa sub:001 dlvrd:001 submit "
    "date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:hi";

static void
test_rewrite_short_message(void **state)
{
	uint8_t in[512], out[512];
	struct smpp_scan a, b;
	const struct smpp_tlv_view *t;
	char id[65];
	int n;

	(void)state;
	scan(in, make(in, text_in, "1a2b3c4d", 0), &a);
	assert_int_equal(gw_dlr_smsc_id(&a, id, sizeof(id)), 0);
	assert_string_equal(id, "1a2b3c4d");	/* the TLV wins */
	n = gw_dlr_rewrite_pdu(&a, "7f00aa", out, sizeof(out));
	assert_true(n > 0);
	scan(out, (size_t)n, &b);
	assert_int_equal(b.hdr.seq, 7);
	assert_int_equal(b.esm_class, SMPP_ESM_DLR);
	assert_int_equal(b.short_message.len, strlen(text_out));
	assert_memory_equal(b.short_message.p, text_out, strlen(text_out));
	assert_int_equal(b.n_tlvs, 2);
	assert_int_equal(b.tlvs[0].tag, SMPP_TLV_MESSAGE_STATE);
	assert_int_equal(b.tlvs[0].val[0], 2);
	t = smpp_scan_tlv(&b, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	assert_non_null(t);
	assert_int_equal(t->len, 7);
	assert_memory_equal(t->val, "7f00aa", 7);
	/* everything before the text is the same bytes */
	assert_memory_equal(in + 4, out + 4,
	    (size_t)(a.short_message.p - a.raw) - 5);
}

static void
test_rewrite_payload_no_tlv_id(void **state)
{
	uint8_t in[512], out[512];
	struct smpp_scan a, b;
	const struct smpp_tlv_view *t;
	char id[65];
	int n;

	(void)state;
	scan(in, make(in, text_in, NULL, 1), &a);
	assert_int_equal(gw_dlr_smsc_id(&a, id, sizeof(id)), 0);
	assert_string_equal(id, "1A2B3C4D");	/* from the text */
	n = gw_dlr_rewrite_pdu(&a, "7f00aa", out, sizeof(out));
	assert_true(n > 0);
	scan(out, (size_t)n, &b);
	assert_int_equal(b.short_message.len, 0);
	t = smpp_scan_tlv(&b, SMPP_TLV_MESSAGE_PAYLOAD);
	assert_non_null(t);
	assert_int_equal(t->len, strlen(text_out));
	assert_memory_equal(t->val, text_out, strlen(text_out));
	assert_null(smpp_scan_tlv(&b, SMPP_TLV_RECEIPTED_MESSAGE_ID));
}

static void
test_too_small(void **state)
{
	uint8_t in[512], out[40];
	struct smpp_scan a;

	(void)state;
	scan(in, make(in, text_in, "1a2b3c4d", 0), &a);
	assert_int_equal(gw_dlr_rewrite_pdu(&a, "7f00aa", out, sizeof(out)),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite_short_message),
		cmocka_unit_test(test_rewrite_payload_no_tlv_id),
		cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
