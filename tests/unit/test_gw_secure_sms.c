/*
 * The submit_sm PDUs of the gateway's own SMS (gateway/secure_glue.c:
 * notices and one-time codes): GSM 7 when every character allows, else
 * UCS-2; one part up to 160 septets / 70 units, else parts with an
 * 8-bit-reference UDH; addresses typed (alphanumeric, short code,
 * international); no receipt asked; the text comes back whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/secure_glue.h"
#include "smpp/concat.h"
#include "smpp/proto.h"
#include "smpp/scan.h"
#include "smpp/text.h"

#define MAXP 16

struct out {
	uint8_t		*pdus[MAXP];
	size_t		 lens[MAXP];
	int		 n;
	struct smpp_scan s[MAXP];
	char		 text[4096];	/* the parts decoded and joined */
};

static void
build(struct out *o, const char *src, const char *text)
{
	struct smpp_limits lim;
	size_t tl = 0;

	smpp_limits_default(&lim);
	o->n = gw_secure_sms_pdus(src, "491701234567", text, 42, o->pdus,
	    o->lens, MAXP);
	assert_true(o->n >= 1);
	for (int i = 0; i < o->n; i++) {
		uint32_t st;
		int k;

		assert_int_equal(smpp_scan(o->pdus[i], o->lens[i], &lim,
		    &o->s[i], &st), 0);
		assert_int_equal(o->s[i].hdr.id, SMPP_SUBMIT_SM);
		assert_int_equal(o->s[i].registered_delivery, 0);
		assert_int_equal(o->s[i].dst.ton, 1);
		assert_int_equal(o->s[i].dst.npi, 1);
		k = smpp_text_decode_sm(o->s[i].data_coding,
		    o->s[i].esm_class, o->s[i].short_message.p,
		    o->s[i].short_message.len, NULL, o->text + tl,
		    sizeof(o->text) - tl, NULL);
		assert_true(k >= 0);
		tl += (size_t)k;
	}
	o->text[tl] = '\0';
}

static void
clear(struct out *o)
{
	for (int i = 0; i < o->n; i++)
		free(o->pdus[i]);
}

static void
test_gsm7_one(void **state)
{
	struct out o;
	const char *t = "ACME sent you a secure message (ref abc123). "
	    "Get the app: https://x.example/app [€]";

	(void)state;
	build(&o, "ACME", t);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.s[0].data_coding, 0);
	assert_int_equal(o.s[0].esm_class & SMPP_ESM_UDHI, 0);
	assert_int_equal(o.s[0].src.ton, 5);	/* alphanumeric */
	assert_string_equal(o.text, t);
	clear(&o);
}

static void
test_ucs2_and_parts(void **state)
{
	struct out o;
	char t[1024];
	struct smpp_udh u;

	(void)state;
	/* 80 characters outside GSM 7: two UCS-2 parts */
	for (int i = 0; i < 80; i++)
		memcpy(t + 2 * i, "ж", 2);	/* U+0436: 2 octets */
	t[160] = '\0';
	build(&o, "7277", t);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.s[0].src.ton, 3);	/* a short code */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(o.s[i].data_coding, SMPP_DCS_UCS2);
		assert_true(o.s[i].esm_class & SMPP_ESM_UDHI);
		assert_int_equal(smpp_udh_parse(o.s[i].short_message.p,
		    o.s[i].short_message.len, &u, NULL), 0);
		assert_true(u.concat);
		assert_int_equal(u.ci.ref, 42);
		assert_int_equal(u.ci.total, 2);
		assert_int_equal(u.ci.seq, i + 1);
	}
	assert_string_equal(o.text, t);
	clear(&o);
	/* 161 GSM 7 characters: two parts; an international source */
	memset(t, 'a', 161);
	t[161] = '\0';
	build(&o, "491709876543", t);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.s[0].data_coding, 0);
	assert_int_equal(o.s[0].src.ton, 1);
	assert_string_equal(o.text, t);
	clear(&o);
}

static void
test_refused(void **state)
{
	uint8_t *pdus[2];
	size_t lens[2];
	char t[2000];

	(void)state;
	/* more parts than allowed, and text that is not UTF-8 */
	memset(t, 'a', sizeof(t) - 1);
	t[sizeof(t) - 1] = '\0';
	assert_int_equal(gw_secure_sms_pdus("A", "4917012", t, 1, pdus, lens,
	    2), -1);
	assert_int_equal(gw_secure_sms_pdus("A", "4917012", "\xff", 1, pdus,
	    lens, 2), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gsm7_one),
		cmocka_unit_test(test_ucs2_and_parts),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
