/*
 * Delivery receipt text (smpp/dlr.h): the Appendix B format both ways,
 * the variants real SMSCs send, the id rewrite and id equivalence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/dlr.h"

#include "canary.h"

static const char appendix_b[] = "id:0123456789 sub:001 dlvrd:001 "
    "submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 "
    "text:Hello world";

static void
test_format_parse_round_trip(void **state)
{
	struct smpp_dlr d, e;
	char out[256];
	int n;

	(void)state;
	assert_int_equal(smpp_dlr_parse(appendix_b, strlen(appendix_b), &d,
	    NULL), 0);
	assert_string_equal(d.id, "0123456789");
	assert_int_equal(d.sub, 1);
	assert_int_equal(d.dlvrd, 1);
	assert_string_equal(d.submit_date, "2401311200");
	assert_string_equal(d.done_date, "2401311201");
	assert_int_equal(d.stat, SMPP_DLR_DELIVRD);
	assert_string_equal(d.err, "000");
	assert_int_equal(d.text_len, 11);
	assert_memory_equal(d.text, "Hello world", 11);
	assert_int_equal(d.present, 0xFF);
	assert_int_equal(d.malformed, 0);
	assert_int_equal(d.id_off, 3);
	assert_int_equal(d.id_len, 10);

	n = smpp_dlr_format(&d, out, sizeof(out), NULL);
	assert_int_equal(n, (int)strlen(appendix_b));
	assert_string_equal(out, appendix_b);
	assert_int_equal(smpp_dlr_parse(out, (size_t)n, &e, NULL), 0);
	assert_string_equal(e.id, d.id);
	assert_int_equal(e.stat, d.stat);
}

static void
test_format_defaults_and_errors(void **state)
{
	struct smpp_dlr d;
	char out[128 + CANARY_LEN];
	enum smpp_dlr_reason why;
	int n;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.present = SMPP_DLR_F_ID | SMPP_DLR_F_STAT;
	memcpy(d.id, "abc", 4);
	d.stat = SMPP_DLR_EXPIRED;
	n = smpp_dlr_format(&d, out, 128, &why);
	assert_string_equal(out, "id:abc sub:000 dlvrd:000 submit date:"
	    "0000000000 done date:0000000000 stat:EXPIRED err:000 text:");
	assert_int_equal(n, (int)strlen(out));
	/* Too small: NOSPACE, nothing past cap. */
	canary_fill(out, sizeof(out));
	assert_int_equal(smpp_dlr_format(&d, out, 40, &why), -1);
	assert_int_equal(why, SMPP_DLR_NOSPACE);
	canary_check(out, 40);
	/* Text that does not fit. */
	d.present |= SMPP_DLR_F_TEXT;
	d.text = "0123456789";
	d.text_len = 10;
	canary_fill(out, sizeof(out));
	assert_int_equal(smpp_dlr_format(&d, out, (size_t)n + 5, &why), -1);
	assert_int_equal(why, SMPP_DLR_NOSPACE);
	canary_check(out, (size_t)n + 5);
	assert_int_equal(smpp_dlr_format(&d, out, (size_t)n + 11, &why),
	    n + 10);
	/* Bad fields. */
	d.present |= SMPP_DLR_F_SUBMIT_DATE;
	memcpy(d.submit_date, "24013112", 9);
	assert_int_equal(smpp_dlr_format(&d, out, 128, &why), -1);
	assert_int_equal(why, SMPP_DLR_BADINPUT);
	d.present &= ~(unsigned)SMPP_DLR_F_SUBMIT_DATE;
	d.id[0] = '\0';
	assert_int_equal(smpp_dlr_format(&d, out, 128, &why), -1);
	assert_int_equal(why, SMPP_DLR_BADINPUT);
	assert_string_equal(smpp_dlr_stat_name(SMPP_DLR_UNDELIV), "UNDELIV");
	assert_null(smpp_dlr_stat_name(SMPP_DLR_STAT_NONE));
	assert_null(smpp_dlr_stat_name((enum smpp_dlr_stat)99));
}

/* Receipts as SMSCs and simulators in the field send them. */
static const struct {
	const char		*what;
	const char		*in;
	const char		*id;
	enum smpp_dlr_stat	 stat;
	const char		*done;
	const char		*text;	/* NULL: no text: field */
	unsigned		 absent;
} variants[] = {
	{ "lowercase keys",
	  "id:77 sub:001 dlvrd:001 submit date:2401311200 done date:"
	  "2401311201 stat:delivrd err:000 text:x",
	  "77", SMPP_DLR_DELIVRD, "2401311201", "x", 0 },
	{ "capitalised keys and Text:",
	  "ID:77 Sub:001 Dlvrd:001 Submit Date:2401311200 Done Date:"
	  "2401311201 Stat:UNDELIV Err:034 Text:Hi there",
	  "77", SMPP_DLR_UNDELIV, "2401311201", "Hi there", 0 },
	{ "12-digit dates",
	  "id:5 sub:001 dlvrd:000 submit date:240131120059 done date:"
	  "240131120102 stat:EXPIRED err:000 text:",
	  "5", SMPP_DLR_EXPIRED, "240131120102", "", 0 },
	{ "UUID id",
	  "id:3f2504e0-4f89-11d3-9a0c-0305e82c3301 sub:001 dlvrd:001 "
	  "submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 "
	  "text:abc",
	  "3f2504e0-4f89-11d3-9a0c-0305e82c3301", SMPP_DLR_DELIVRD,
	  "2401311201", "abc", 0 },
	{ "hex id",
	  "id:1A2B3C4D5E6F sub:001 dlvrd:001 submit date:2401311200 "
	  "done date:2401311201 stat:ACCEPTD err:000 text:",
	  "1A2B3C4D5E6F", SMPP_DLR_ACCEPTD, "2401311201", "", 0 },
	{ "missing sub, dlvrd, err, text",
	  "id:42 submit date:2401311200 done date:2401311201 stat:REJECTD",
	  "42", SMPP_DLR_REJECTD, "2401311201", NULL,
	  SMPP_DLR_F_SUB | SMPP_DLR_F_DLVRD | SMPP_DLR_F_ERR },
	{ "another order",
	  "stat:DELETED err:000 done date:2401311201 id:99 sub:001 "
	  "dlvrd:000 submit date:2401311200 text:late",
	  "99", SMPP_DLR_DELETED, "2401311201", "late", 0 },
	{ "extra spaces",
	  "  id:  123   sub:001  dlvrd:001   submit date: 2401311200  "
	  "done  date:2401311201   stat:  ENROUTE   err:000  text:a b",
	  "123", SMPP_DLR_ENROUTE, "2401311201", "a b", 0 },
	{ "underscored date keys",
	  "id:1 sub:001 dlvrd:001 submit_date:2401311200 done_date:"
	  "2401311201 stat:UNKNOWN err:000 text:",
	  "1", SMPP_DLR_UNKNOWN, "2401311201", "", 0 },
	{ "64-character id",
	  "id:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  " stat:DELIVRD done date:2401311201",
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	  SMPP_DLR_DELIVRD, "2401311201", NULL,
	  SMPP_DLR_F_SUB | SMPP_DLR_F_DLVRD | SMPP_DLR_F_ERR },
	{ "text holding keys, NUL padding",
	  "id:8 stat:DELIVRD done date:2401311201 text:id:9 stat:EXPIRED\0\0",
	  "8", SMPP_DLR_DELIVRD, "2401311201", "id:9 stat:EXPIRED", 0 },
	{ "spelled-out stat, CRLF",
	  "id:6\r\nstat:DELIVERED\r\ndone date:2401311201\r\n",
	  "6", SMPP_DLR_DELIVRD, "2401311201", NULL, 0 },
	{ "Kannel-like with colon in text",
	  "id:c0ffee sub:001 dlvrd:001 submit date:2401311200 done date:"
	  "2401311201 stat:DELIVRD err:000 Text:Time: 12:00",
	  "c0ffee", SMPP_DLR_DELIVRD, "2401311201", "Time: 12:00", 0 },
};

static size_t
variant_len(size_t i)
{
	/* The NUL-padded variant carries its two NULs. */
	size_t n = strlen(variants[i].in);

	return strstr(variants[i].what, "NUL") != NULL ? n + 2 : n;
}

static void
test_parse_variants(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct smpp_dlr d;
		enum smpp_dlr_reason why;
		size_t len = variant_len(i);

		if (smpp_dlr_parse(variants[i].in, len, &d, &why) != 0)
			fail_msg("%s: %s", variants[i].what,
			    smpp_dlr_strerror(why));
		assert_string_equal(d.id, variants[i].id);
		assert_int_equal(d.stat, variants[i].stat);
		assert_string_equal(d.done_date, variants[i].done);
		if (variants[i].text == NULL) {
			assert_false(d.present & SMPP_DLR_F_TEXT);
		} else {
			assert_true(d.present & SMPP_DLR_F_TEXT);
			assert_int_equal(d.text_len, strlen(variants[i].text));
			assert_memory_equal(d.text, variants[i].text,
			    d.text_len);
		}
		assert_int_equal(d.present & variants[i].absent, 0);
		assert_int_equal(d.malformed, 0);
		assert_memory_equal(variants[i].in + d.id_off, d.id, d.id_len);
	}
}

static void
test_parse_bad(void **state)
{
	struct smpp_dlr d;
	enum smpp_dlr_reason why;
	static const char long_id[] = "id:0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdefX stat:DELIVRD";

	(void)state;
	assert_int_equal(smpp_dlr_parse("stat:DELIVRD err:000", 20, &d, &why),
	    -1);
	assert_int_equal(why, SMPP_DLR_NOID);
	assert_int_equal(smpp_dlr_parse("id: sub:001 stat:DELIVRD", 24, &d,
	    &why), -1);
	assert_int_equal(why, SMPP_DLR_NOID);
	assert_int_equal(smpp_dlr_parse("id:", 3, &d, &why), -1);
	assert_int_equal(why, SMPP_DLR_NOID);
	assert_int_equal(smpp_dlr_parse("", 0, &d, &why), -1);
	assert_int_equal(why, SMPP_DLR_NOID);
	assert_int_equal(smpp_dlr_parse(long_id, strlen(long_id), &d, &why),
	    -1);
	assert_int_equal(why, SMPP_DLR_BADID);
	assert_int_equal(smpp_dlr_parse("id:a\x01" "b", 6, &d, &why), -1);
	assert_int_equal(why, SMPP_DLR_BADID);
	/* "bid:" is not "id:". */
	assert_int_equal(smpp_dlr_parse("bid:12 stat:DELIVRD", 19, &d, &why),
	    -1);
	/* Bad values are flagged, the receipt still parses. */
	assert_int_equal(smpp_dlr_parse("id:1 sub:1234 submit date:24013 "
	    "stat:WHATEVER done date:2401311201", 66, &d, &why), 0);
	assert_int_equal(d.malformed, SMPP_DLR_F_SUB |
	    SMPP_DLR_F_SUBMIT_DATE | SMPP_DLR_F_STAT);
	assert_int_equal(d.stat, SMPP_DLR_STAT_NONE);
	assert_string_equal(d.done_date, "2401311201");
	/* Parsing stops at len: nothing after it is read. */
	assert_int_equal(smpp_dlr_parse("id:12345", 5, &d, &why), 0);
	assert_string_equal(d.id, "12");
}

static void
test_stat_values(void **state)
{
	static const char *const names[] = {
		"ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV",
		"ACCEPTD", "UNKNOWN", "REJECTD",
	};

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		char in[64];
		struct smpp_dlr d;
		int n = snprintf(in, sizeof(in), "id:1 stat:%s", names[i]);

		assert_int_equal(smpp_dlr_parse(in, (size_t)n, &d, NULL), 0);
		assert_int_equal(d.stat, (int)i + 1);
		assert_string_equal(smpp_dlr_stat_name(d.stat), names[i]);
	}
}

static void
test_rewrite_id(void **state)
{
	char out[256 + CANARY_LEN];
	enum smpp_dlr_reason why;
	const char *in = "stat:DELIVRD id:1A2B sub:001 text:id:1A2B";
	int n;

	(void)state;
	n = smpp_dlr_rewrite_id(appendix_b, strlen(appendix_b),
	    "sg-000000000042", out, 256, &why);
	assert_int_equal(n, (int)strlen(appendix_b) + 5);
	assert_memory_equal(out, "id:sg-000000000042 sub:001", 26);
	assert_string_equal(out + 19, appendix_b + 14);
	/* Only the id field changes, wherever it is, not the text. */
	n = smpp_dlr_rewrite_id(in, strlen(in), "7", out, 256, &why);
	assert_string_equal(out, "stat:DELIVRD id:7 sub:001 text:id:1A2B");
	/* Room for all but the NUL. */
	canary_fill(out, sizeof(out));
	assert_int_equal(smpp_dlr_rewrite_id(in, strlen(in), "7", out,
	    (size_t)n, &why), -1);
	assert_int_equal(why, SMPP_DLR_NOSPACE);
	canary_check(out, (size_t)n);
	assert_int_equal(smpp_dlr_rewrite_id("stat:DELIVRD", 12, "7", out, 256,
	    &why), -1);
	assert_int_equal(why, SMPP_DLR_NOID);
	assert_int_equal(smpp_dlr_rewrite_id(in, strlen(in), "a b", out, 256,
	    &why), -1);
	assert_int_equal(why, SMPP_DLR_BADID);
	assert_int_equal(smpp_dlr_rewrite_id(in, strlen(in), "", out, 256,
	    &why), -1);
	assert_int_equal(why, SMPP_DLR_BADID);
}

static void
test_id_equivalent(void **state)
{
	struct smpp_dlr_idset s;

	(void)state;
	/* submit_sm_resp said hex, the receipt says decimal. */
	assert_true(smpp_dlr_id_equivalent("1A2B", "6699",
	    SMPP_DLR_ID_NUMERIC));
	assert_true(smpp_dlr_id_equivalent("6699", "1a2b",
	    SMPP_DLR_ID_TOLERANT));
	assert_false(smpp_dlr_id_equivalent("1A2B", "6699", 0));
	assert_false(smpp_dlr_id_equivalent("1A2B", "6698",
	    SMPP_DLR_ID_TOLERANT));
	/* Case. */
	assert_true(smpp_dlr_id_equivalent("abcDEF", "ABCdef",
	    SMPP_DLR_ID_CASE));
	assert_false(smpp_dlr_id_equivalent("abcDEF", "ABCdef", 0));
	assert_true(smpp_dlr_id_equivalent("same", "same", 0));
	/* Leading zeros. */
	assert_true(smpp_dlr_id_equivalent("007", "7", SMPP_DLR_ID_NUMERIC));
	assert_false(smpp_dlr_id_equivalent("007", "7", SMPP_DLR_ID_CASE));
	/* No chains: 10 (hex 16) and 22 (hex 34) are unrelated. */
	assert_false(smpp_dlr_id_equivalent("10", "22", SMPP_DLR_ID_TOLERANT));
	assert_true(smpp_dlr_id_equivalent("10", "16", SMPP_DLR_ID_NUMERIC));
	/* UUIDs with and without dashes, any case. */
	assert_true(smpp_dlr_id_equivalent(
	    "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
	    "3f2504e04f8911d39a0c0305e82c3301", SMPP_DLR_ID_TOLERANT));
	assert_false(smpp_dlr_id_equivalent(
	    "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
	    "3f2504e04f8911d39a0c0305e82c3301", SMPP_DLR_ID_CASE));
	/* Over 16 hex digits: text only. */
	assert_int_equal(smpp_dlr_id_canon("12345678901234567", 17,
	    SMPP_DLR_ID_NUMERIC, &s, NULL), 0);
	assert_false(s.has_hex);
	assert_true(s.has_dec);
	assert_int_equal(smpp_dlr_id_canon("ffffffffffffffff", 16,
	    SMPP_DLR_ID_NUMERIC, &s, NULL), 0);
	assert_true(s.has_hex);
	assert_true(s.hex == UINT64_MAX);
	assert_false(s.has_dec);
	/* Over 64 characters is no id. */
	assert_false(smpp_dlr_id_equivalent(
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX",
	    0));
	assert_false(smpp_dlr_id_equivalent("", "0", SMPP_DLR_ID_TOLERANT));
}

/* Dates in UTC: the receipt's ten digits are the absolute time's first
 * ten; tenths of a second, then "00+" (no offset from UTC). */
static void
test_dates_utc(void **state)
{
	char t[SMPP_TIME_MAX], d[11];

	(void)state;
	smpp_time_utc(1796530263987LL, t);	/* 2026-12-06 04:11:03.987 */
	assert_string_equal(t, "261206041103900+");
	smpp_dlr_date(1796530263987LL, d);
	assert_string_equal(d, "2612060411");
	smpp_time_utc(0, t);
	assert_string_equal(t, "700101000000000+");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_format_defaults_and_errors),
		cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_stat_values),
		cmocka_unit_test(test_rewrite_id),
		cmocka_unit_test(test_id_equivalent),
		cmocka_unit_test(test_dates_utc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
