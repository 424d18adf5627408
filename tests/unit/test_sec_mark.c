/*
 * Marking (secure/mark.c) and what the pipeline reads with it: each
 * marking kind, the prefix in GSM 7, IA5, Latin-1 and UCS-2 (any letter
 * case), in message_payload and after a UDH, binary data never marked,
 * unmarked messages left alone; the parts of a concatenated message
 * (UDH 8/16-bit, SAR) and the part-1 decision of sec_marked; the prefix
 * stripped when decoding; the notice templates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pdubuf.h"
#include "secure/notify.h"
#include "secure/pipeline_int.h"
#include "smpp/charset.h"
#include "smpp/proto.h"
#include "smpp/scan.h"
#include "smpp/text.h"

struct msg {
	struct pdubuf	pb;
	struct smpp_scan s;
};

struct opt {
	const char	*svc;
	uint8_t		 esm, dcs;
	const uint8_t	*udh;		/* with its UDHL */
	size_t		 udh_len;
	bool		 payload;	/* the text in message_payload */
	uint16_t	 tlv_tag;
	const uint8_t	*tlv_val;
	uint16_t	 tlv_len;
	const char	*dst;
	bool		 sar;
	uint16_t	 sar_ref;
	uint8_t		 sar_total, sar_seq;
};

/* A scanned submit_sm carrying text (len octets) as o says. */
static void
make(struct msg *m, const void *text, size_t len, const struct opt *o)
{
	struct smpp_limits lim;
	uint8_t sm[700];
	size_t n = 0;
	uint32_t st;

	if (o->udh != NULL) {
		memcpy(sm, o->udh, o->udh_len);
		n = o->udh_len;
	}
	memcpy(sm + n, text, len);
	n += len;
	pb_start(&m->pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&m->pb, o->svc != NULL ? o->svc : "", 5, 0, "ACME", 1, 1,
	    o->dst != NULL ? o->dst : "491701234567",
	    (uint8_t)(o->esm | (o->udh != NULL ? SMPP_ESM_UDHI : 0)), 1,
	    o->dcs, sm, o->payload ? 0 : (uint8_t)n);
	if (o->payload)
		pb_tlv(&m->pb, SMPP_TLV_MESSAGE_PAYLOAD, sm, (uint16_t)n);
	if (o->tlv_tag != 0)
		pb_tlv(&m->pb, o->tlv_tag, o->tlv_val, o->tlv_len);
	if (o->sar) {
		uint8_t ref[2] = { (uint8_t)(o->sar_ref >> 8),
		    (uint8_t)o->sar_ref };

		pb_tlv(&m->pb, SMPP_TLV_SAR_MSG_REF_NUM, ref, 2);
		pb_tlv(&m->pb, SMPP_TLV_SAR_TOTAL_SEGMENTS, &o->sar_total, 1);
		pb_tlv(&m->pb, SMPP_TLV_SAR_SEGMENT_SEQNUM, &o->sar_seq, 1);
	}
	pb_end(&m->pb);
	smpp_limits_default(&lim);
	assert_int_equal(smpp_scan(m->pb.b, m->pb.n, &lim, &m->s, &st), 0);
}

static struct sec_mark_rule
rule_prefix(void)
{
	struct sec_mark_rule r;

	memset(&r, 0, sizeof(r));
	r.enabled = true;
	snprintf(r.prefix, sizeof(r.prefix), "#secure ");
	return r;
}

static bool
marked(const struct sec_mark_rule *r, const void *text, size_t len,
    const struct opt *o)
{
	struct msg *m = calloc(1, sizeof(*m));
	bool b;

	assert_non_null(m);
	make(m, text, len, o);
	b = sec_mark_match(r, &m->s);
	free(m);
	return b;
}

#define S(t)	(t), strlen(t)

static void
test_unmarked(void **state)
{
	struct sec_mark_rule r = rule_prefix(), off;
	struct opt o = { 0 };

	(void)state;
	memset(&off, 0, sizeof(off));
	assert_false(marked(&r, S("hello there"), &o));
	assert_false(marked(&r, S("#secur"), &o));
	assert_false(marked(&r, S("#securehi"), &o));	/* no space */
	assert_false(marked(&r, S(" #secure hi"), &o));	/* not at the start */
	assert_false(marked(&r, S(""), &o));
	/* a rule switched off marks nothing, "all" included */
	off.all = true;
	assert_false(marked(&off, S("#secure hi"), &o));
	assert_false(sec_mark_match(NULL, NULL));
}

static void
test_prefix_encodings(void **state)
{
	struct sec_mark_rule r = rule_prefix();
	struct opt o = { 0 };
	/* "#SeCuRe héllo" in UCS-2 (UTF-16BE) */
	static const uint8_t ucs2[] = {
		0, '#', 0, 'S', 0, 'e', 0, 'C', 0, 'u', 0, 'R', 0, 'e', 0, ' ',
		0, 'h', 0, 0xE9, 0, 'l', 0, 'l', 0, 'o',
	};
	static const uint8_t latin1[] = { '#', 's', 'e', 'c', 'u', 'r', 'e',
	    ' ', 0xE9, 't', 0xE9 };

	(void)state;
	assert_true(marked(&r, S("#secure hi"), &o));	/* GSM 7 */
	assert_true(marked(&r, S("#SECURE HI"), &o));	/* any case */
	assert_true(marked(&r, S("#secure "), &o));	/* nothing after */
	o.dcs = SMPP_DCS_IA5;
	assert_true(marked(&r, S("#Secure hi"), &o));
	o.dcs = SMPP_DCS_LATIN1;
	assert_true(marked(&r, latin1, sizeof(latin1), &o));
	o.dcs = SMPP_DCS_UCS2;
	assert_true(marked(&r, ucs2, sizeof(ucs2), &o));
	/* an odd UCS-2 length is read with replacements, never a crash */
	assert_true(marked(&r, ucs2, sizeof(ucs2) - 1, &o));
	assert_false(marked(&r, ucs2, 9, &o));		/* cut inside */
	/* GSM 7 read as UCS-2 is not the prefix */
	assert_false(marked(&r, S("#secure hi"), &o));
	/* binary data is never text */
	o.dcs = SMPP_DCS_BINARY8;
	assert_false(marked(&r, S("#secure hi"), &o));
	o.dcs = SMPP_DCS_BINARY;
	assert_false(marked(&r, S("#secure hi"), &o));
}

static void
test_prefix_payload_and_udh(void **state)
{
	struct sec_mark_rule r = rule_prefix();
	static const uint8_t udh1[] = { 5, 0, 3, 9, 2, 1 };
	static const uint8_t udh2[] = { 5, 0, 3, 9, 2, 2 };
	struct opt o = { 0 };
	char big[600];

	(void)state;
	memset(big, 'x', sizeof(big));
	memcpy(big, "#secure ", 8);
	o.payload = true;
	assert_true(marked(&r, big, sizeof(big), &o));
	assert_false(marked(&r, big + 1, sizeof(big) - 1, &o));
	o.payload = false;
	o.udh = udh1;
	o.udh_len = sizeof(udh1);
	assert_true(marked(&r, S("#secure part one"), &o));
	/* the prefix counts in part 1 only */
	o.udh = udh2;
	assert_false(marked(&r, S("#secure part two"), &o));
	/* a broken UDH is not read as text */
	{
		static const uint8_t bad[] = { 9, 0, 3 };

		o.udh = bad;
		o.udh_len = sizeof(bad);
		assert_false(marked(&r, S("#secure x"), &o));
	}
}

static void
test_service_type_tlv_all(void **state)
{
	struct sec_mark_rule r;
	struct opt o = { 0 };
	static const uint8_t one[] = { 1 }, zero[] = { 0 }, one16[] = { 0, 1 },
	    two[] = { 2 }, five[] = { 0, 0, 0, 0, 1 };

	(void)state;
	memset(&r, 0, sizeof(r));
	r.enabled = true;
	snprintf(r.service_type, sizeof(r.service_type), "SECUR");
	o.svc = "SECUR";
	assert_true(marked(&r, S("plain"), &o));
	o.svc = "SEC";
	assert_false(marked(&r, S("plain"), &o));
	o.svc = "CMT";
	assert_false(marked(&r, S("plain"), &o));
	o.svc = NULL;
	assert_false(marked(&r, S("plain"), &o));

	memset(&r, 0, sizeof(r));
	r.enabled = true;
	r.tlv_tag = 0x1501;
	o.tlv_tag = 0x1501;
	o.tlv_val = one;
	o.tlv_len = 1;
	assert_true(marked(&r, S("plain"), &o));
	o.tlv_val = one16;
	o.tlv_len = 2;
	assert_true(marked(&r, S("plain"), &o));
	o.tlv_val = zero;
	o.tlv_len = 1;
	assert_false(marked(&r, S("plain"), &o));
	o.tlv_val = two;
	assert_false(marked(&r, S("plain"), &o));
	o.tlv_val = five;
	o.tlv_len = 5;
	assert_false(marked(&r, S("plain"), &o));
	o.tlv_tag = 0x1502;
	o.tlv_val = one;
	o.tlv_len = 1;
	assert_false(marked(&r, S("plain"), &o));
	o.tlv_tag = 0;
	assert_false(marked(&r, S("plain"), &o));

	memset(&r, 0, sizeof(r));
	r.enabled = true;
	r.all = true;
	assert_true(marked(&r, S("anything"), &o));
	o.dcs = SMPP_DCS_BINARY8;
	assert_true(marked(&r, S("\x01\x02"), &o));
}

static void
test_body_of(void **state)
{
	static const uint8_t udh16[] = { 6, 8, 4, 0x12, 0x34, 3, 2 };
	struct sec_body_view v;
	struct opt o = { 0 };
	struct msg *m = calloc(1, sizeof(*m));

	(void)state;
	assert_non_null(m);
	make(m, S("single"), &o);
	assert_int_equal(sec_body_of(&m->s, &v), 0);
	assert_false(v.multi);
	assert_int_equal(v.len, 6);
	assert_memory_equal(v.p, "single", 6);

	o.udh = udh16;
	o.udh_len = sizeof(udh16);
	make(m, S("part"), &o);
	assert_int_equal(sec_body_of(&m->s, &v), 0);
	assert_true(v.multi);
	assert_false(v.sar);
	assert_int_equal(v.ref, 0x1234);
	assert_int_equal(v.total, 3);
	assert_int_equal(v.seq, 2);
	assert_int_equal(v.len, 4);

	memset(&o, 0, sizeof(o));
	o.sar = true;
	o.sar_ref = 300;
	o.sar_total = 4;
	o.sar_seq = 4;
	make(m, S("last"), &o);
	assert_int_equal(sec_body_of(&m->s, &v), 0);
	assert_true(v.multi && v.sar);
	assert_int_equal(v.ref, 300);
	assert_int_equal(v.seq, 4);
	o.sar_seq = 5;			/* past the total */
	make(m, S("bad"), &o);
	assert_int_equal(sec_body_of(&m->s, &v), -1);
	o.sar_seq = 1;
	o.sar_total = 1;		/* one of one: not concatenated */
	make(m, S("one"), &o);
	assert_int_equal(sec_body_of(&m->s, &v), 0);
	assert_false(v.multi);
	free(m);
}

static void
test_body_decode(void **state)
{
	static const uint8_t ucs2[] = { 0, '#', 0, 's', 0, 'e', 0, 'c', 0,
	    'u', 0, 'r', 0, 'e', 0, ' ', 0x20, 0xAC, 0, '!' };
	uint8_t *out;
	size_t len;
	bool bin;

	(void)state;
	out = sec_body_decode(SMPP_DCS_UCS2, ucs2, sizeof(ucs2), "#secure ",
	    &len, &bin);
	assert_non_null(out);
	assert_false(bin);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "\xE2\x82\xAC!", 4);	/* "€!" */
	free(out);
	/* GSM 7: "@" is 0x00; prefix in another case is stripped too */
	out = sec_body_decode(0, (const uint8_t *)"#SECURE \x00x", 10,
	    "#secure ", &len, &bin);
	assert_non_null(out);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "@x", 2);
	free(out);
	/* no prefix: the text as is */
	out = sec_body_decode(0, (const uint8_t *)"hello", 5, "#secure ",
	    &len, &bin);
	assert_int_equal(len, 5);
	free(out);
	/* binary: bytes kept, nothing stripped */
	out = sec_body_decode(SMPP_DCS_BINARY8, (const uint8_t *)"#secure \xff",
	    9, "#secure ", &len, &bin);
	assert_true(bin);
	assert_int_equal(len, 9);
	assert_memory_equal(out, "#secure \xff", 9);
	free(out);
}

/* sec_marked: the decision for part 1 holds for its group; a later part
 * before its part 1 is held under a prefix rule. */
static void
test_marked_groups(void **state)
{
	struct sec_service svc;
	struct sec_mark_rule r = rule_prefix();
	static const uint8_t a1[] = { 5, 0, 3, 1, 2, 1 },
	    a2[] = { 5, 0, 3, 1, 2, 2 }, b1[] = { 5, 0, 3, 2, 2, 1 },
	    b2[] = { 5, 0, 3, 2, 2, 2 }, c2[] = { 5, 0, 3, 3, 2, 2 },
	    c1[] = { 5, 0, 3, 3, 2, 1 };
	struct msg *m = calloc(1, sizeof(*m));
	struct opt o = { 0 };
	char err[64];

	(void)state;
	assert_non_null(m);
	memset(&svc, 0, sizeof(svc));
	sec_config_default(&svc.cfg);
	assert_int_equal(sec_pipeline_init(&svc, err, sizeof(err)), 0);
	o.udh_len = 6;
	/* A: marked part 1, then part 2 follows it */
	o.udh = a1;
	make(m, S("#secure one "), &o);
	assert_true(sec_marked(&svc, &r, "demo", &m->s));
	o.udh = a2;
	make(m, S("two"), &o);
	assert_true(sec_marked(&svc, &r, "demo", &m->s));
	/* the same reference from another account is another group, whose
	 * part 1 was not seen: held */
	assert_true(sec_marked(&svc, &r, "other", &m->s));
	/* B: unmarked part 1, part 2 passes too */
	o.udh = b1;
	make(m, S("plain one "), &o);
	assert_false(sec_marked(&svc, &r, "demo", &m->s));
	o.udh = b2;
	make(m, S("#secure looks marked but is part 2"), &o);
	assert_false(sec_marked(&svc, &r, "demo", &m->s));
	/* C: part 2 first is held, and then part 1 with it, unmarked or
	 * not: the message never splits between the paths */
	o.udh = c2;
	make(m, S("two"), &o);
	assert_true(sec_marked(&svc, &r, "demo", &m->s));
	o.udh = c1;
	make(m, S("plain one "), &o);
	assert_true(sec_marked(&svc, &r, "demo", &m->s));
	/* without a service: the pure match */
	assert_false(sec_marked(NULL, &r, "demo", &m->s));
	/* a TLV rule judges each part; no prefix: nothing held */
	{
		struct sec_mark_rule t;
		static const uint8_t d2[] = { 5, 0, 3, 4, 2, 2 };

		memset(&t, 0, sizeof(t));
		t.enabled = true;
		t.tlv_tag = 0x1501;
		o.udh = d2;
		make(m, S("two"), &o);
		assert_false(sec_marked(&svc, &t, "demo", &m->s));
	}
	sec_pipeline_free(&svc);
	free(m);
}

static void
test_notify(void **state)
{
	struct sec_notify_vars v = { "ACME", "abc123", "https://x/app", NULL };
	char out[SEC_NOTIFY_MAX], err[160], ref[SEC_REF_LEN + 1];
	char big[600];

	(void)state;
	assert_int_equal(sec_notify_fill("{sender} sent {ref}: {link} {x}",
	    &v, out, sizeof(out)), (int)strlen("ACME sent abc123: "
	    "https://x/app {x}"));
	assert_string_equal(out, "ACME sent abc123: https://x/app {x}");
	assert_int_equal(sec_notify_fill("{sender}", &v, out, 4), -1);
	assert_int_equal(sec_notify_check("Hi {sender} {ref} {link} :}",
	    "sender,ref,link", 20, err, sizeof(err)), 0);
	assert_int_equal(sec_notify_check("Code {code}", "sender,ref,link",
	    20, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "{code}"));
	assert_int_equal(sec_notify_check("Hi {sendr}", "sender", 20, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "{sendr}"));
	assert_int_equal(sec_notify_check("", "sender", 20, err, sizeof(err)),
	    -1);
	assert_int_equal(sec_notify_check("\xff", "sender", 20, err,
	    sizeof(err)), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{link}", 6);
	assert_int_equal(sec_notify_check(big, "link", 500, err, sizeof(err)),
	    -1);
	sec_notify_ref("38aaf626e5b80", ref);
	assert_string_equal(ref, "6e5b80");
	sec_notify_ref("12", ref);
	assert_string_equal(ref, "12");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unmarked),
		cmocka_unit_test(test_prefix_encodings),
		cmocka_unit_test(test_prefix_payload_and_udh),
		cmocka_unit_test(test_service_type_tlv_all),
		cmocka_unit_test(test_body_of),
		cmocka_unit_test(test_body_decode),
		cmocka_unit_test(test_marked_groups),
		cmocka_unit_test(test_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
