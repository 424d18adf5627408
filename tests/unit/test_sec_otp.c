/*
 * Unit tests for secure/otp: codes are digits of the asked length and
 * uniform (a loose chi-square bound that cannot flake); the HMAC is the
 * published construction and binds the registration id; the constant-
 * time check; the server secret file made 0600 and refused when wider;
 * the sliding-window quota with retry_after; the LRU bound on keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "secure/otp.h"

static void
test_generate(void **state)
{
	char buf[16], prev[16] = "";
	unsigned d;
	size_t i;
	int same = 0, k;

	(void)state;
	for (d = SEC_OTP_MIN_DIGITS; d <= SEC_OTP_MAX_DIGITS; d++) {
		assert_int_equal(sec_otp_generate(d, buf, d + 1), 0);
		assert_int_equal(strlen(buf), d);
		for (i = 0; i < d; i++)
			assert_true(buf[i] >= '0' && buf[i] <= '9');
		assert_true(sec_otp_well_formed(buf, d, d));
	}
	assert_int_equal(sec_otp_generate(5, buf, sizeof(buf)), -1);
	assert_int_equal(sec_otp_generate(11, buf, sizeof(buf)), -1);
	assert_int_equal(sec_otp_generate(6, buf, 6), -1);	/* no NUL room */
	assert_int_equal(sec_otp_generate(6, NULL, 7), -1);
	/* Consecutive 10-digit codes repeat with chance 1e-10 each. */
	for (k = 0; k < 50; k++) {
		assert_int_equal(sec_otp_generate(10, buf, sizeof(buf)), 0);
		same += strcmp(buf, prev) == 0;
		memcpy(prev, buf, sizeof(buf));
	}
	assert_int_equal(same, 0);
}

/*
 * 20,000 codes of 6 digits: per position and over all, the digit counts
 * against the uniform expectation. Chi-square with 9 degrees of freedom
 * exceeds 50 with p < 1e-7 for a uniform source; a modulo-biased
 * generator (byte % 10 without rejection: digits 0..5 at 26/256, 6..9 at
 * 25/256) scores about 53 (expected) over the 120,000 digits, a constant digit
 * thousands. The bound is loose on purpose: it must never flake.
 */
static void
test_uniform(void **state)
{
	enum { CODES = 20000, D = 6 };
	unsigned long pos[D][10], all[10];
	double chi, e, x;
	char buf[8];
	int i, j;

	(void)state;
	memset(pos, 0, sizeof(pos));
	memset(all, 0, sizeof(all));
	for (i = 0; i < CODES; i++) {
		assert_int_equal(sec_otp_generate(D, buf, sizeof(buf)), 0);
		for (j = 0; j < D; j++) {
			pos[j][buf[j] - '0']++;
			all[buf[j] - '0']++;
		}
	}
	for (j = 0; j < D; j++) {
		e = CODES / 10.0;
		chi = 0;
		for (i = 0; i < 10; i++) {
			x = (double)pos[j][i] - e;
			chi += x * x / e;
		}
		if (chi > 50)
			fail_msg("position %d: chi-square %.1f", j, chi);
	}
	e = CODES * D / 10.0;
	chi = 0;
	for (i = 0; i < 10; i++) {
		x = (double)all[i] - e;
		chi += x * x / e;
	}
	if (chi > 40)
		fail_msg("all digits: chi-square %.1f", chi);
}

static void
test_well_formed(void **state)
{
	(void)state;
	assert_true(sec_otp_well_formed("123456", 6, 10));
	assert_true(sec_otp_well_formed("0000000000", 6, 10));
	assert_false(sec_otp_well_formed("12345", 6, 10));
	assert_false(sec_otp_well_formed("12345678901", 6, 10));
	assert_false(sec_otp_well_formed("12345a", 6, 10));
	assert_false(sec_otp_well_formed(" 123456", 6, 10));
	assert_false(sec_otp_well_formed("123456 ", 6, 10));
	assert_false(sec_otp_well_formed("-123456", 6, 10));
	assert_false(sec_otp_well_formed("１２３４５６", 6, 10));
	assert_false(sec_otp_well_formed("", 6, 10));
	assert_false(sec_otp_well_formed(NULL, 6, 10));
	assert_true(sec_otp_well_formed("12345678", 8, 8));
	assert_false(sec_otp_well_formed("1234567", 8, 8));
}

static void
test_mac(void **state)
{
	/* HMAC-SHA256(32 x 0x0b, "rVec0000000000000000000|123456"), made
	 * with Python's hmac module. */
	static const uint8_t want[32] = {
		0xeb, 0x19, 0x97, 0x44, 0xeb, 0x6b, 0x1b, 0x12,
		0x74, 0x2b, 0x6b, 0xf9, 0xc3, 0x26, 0x14, 0x9d,
		0x69, 0xb0, 0xdd, 0xee, 0xd4, 0x37, 0xf7, 0x8a,
		0x49, 0x52, 0x89, 0x9d, 0xd4, 0xe3, 0x39, 0xb3,
	};
	uint8_t secret[SEC_OTP_SECRET_LEN], other[SEC_OTP_SECRET_LEN];
	uint8_t mac[SEC_OTP_HMAC_LEN], mac2[SEC_OTP_HMAC_LEN];
	const char *rid = "rVec0000000000000000000";

	(void)state;
	memset(secret, 0x0b, sizeof(secret));
	memset(other, 0x0c, sizeof(other));
	assert_int_equal(sec_otp_mac(secret, rid, "123456", mac), 0);
	assert_memory_equal(mac, want, sizeof(want));
	assert_true(sec_otp_check(secret, rid, "123456", mac));
	assert_false(sec_otp_check(secret, rid, "123457", mac));
	assert_false(sec_otp_check(secret, rid, "1234560", mac));
	assert_false(sec_otp_check(secret, rid, "", mac));
	assert_false(sec_otp_check(other, rid, "123456", mac));
	/* Bound to the registration id. */
	assert_false(sec_otp_check(secret, "rVec0000000000000000001",
	    "123456", mac));
	assert_int_equal(sec_otp_mac(secret, "rVec0000000000000000001",
	    "123456", mac2), 0);
	assert_memory_not_equal(mac, mac2, sizeof(mac));
	/* rid "a1" + code "23456" is not rid "a" + code "123456". */
	assert_int_equal(sec_otp_mac(secret, "a1", "23456", mac), 0);
	assert_int_equal(sec_otp_mac(secret, "a", "123456", mac2), 0);
	assert_memory_not_equal(mac, mac2, sizeof(mac));
	assert_false(sec_otp_check(secret, rid, "123456", NULL));
	assert_false(sec_otp_check(secret, NULL, "123456", want));
	assert_false(sec_otp_check(secret, rid, NULL, want));
}

static void
test_secret_file(void **state)
{
	char dir[] = "/tmp/sg-otp-XXXXXX", path[64], err[256], want[128];
	uint8_t s1[SEC_OTP_SECRET_LEN], s2[SEC_OTP_SECRET_LEN];
	struct stat st;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/otp.secret", dir);
	/* Absent: made, 0600, and the same bytes when loaded again. */
	assert_int_equal(sec_otp_secret_load(path, s1, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(sec_otp_secret_load(path, s2, err, sizeof(err)), 0);
	assert_memory_equal(s1, s2, sizeof(s1));
	/* Wider than 0600: refused, file and mode named. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(sec_otp_secret_load(path, s2, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: mode 0644, want 0600", path);
	assert_string_equal(err, want);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(sec_otp_secret_load(path, s2, err, sizeof(err)), -1);
	assert_int_equal(chmod(path, 0400), 0);	/* narrower is fine */
	assert_int_equal(sec_otp_secret_load(path, s2, err, sizeof(err)), 0);
	assert_memory_equal(s1, s2, sizeof(s1));
	/* Malformed content. */
	assert_int_equal(unlink(path), 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("not a secret\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(sec_otp_secret_load(path, s2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a secret"));
	assert_int_equal(unlink(path), 0);
	/* A directory that is not there. */
	snprintf(path, sizeof(path), "%s/no/such", dir);
	assert_int_equal(sec_otp_secret_load(path, s2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(rmdir(dir), 0);
}

static void
test_quota(void **state)
{
	struct sec_quota *q = sec_quota_new(3, 60, 100);
	unsigned ra = 0;

	(void)state;
	assert_non_null(q);
	assert_true(sec_quota_take(q, "4917", 0, &ra));
	assert_true(sec_quota_take(q, "4917", 1000, &ra));
	assert_true(sec_quota_take(q, "4917", 2000, &ra));
	/* The 4th within 60 s: refused until the first leaves. */
	assert_false(sec_quota_take(q, "4917", 3000, &ra));
	assert_int_equal(ra, 57);
	assert_false(sec_quota_take(q, "4917", 59500, &ra));
	assert_int_equal(ra, 1);	/* 0.5 s rounds up */
	/* Another key is independent. */
	assert_true(sec_quota_take(q, "4930", 3000, &ra));
	/* Refusals are not recorded: at 60 s the first event left. */
	assert_true(sec_quota_take(q, "4917", 60000, &ra));
	assert_false(sec_quota_take(q, "4917", 60001, &ra));
	assert_int_equal(ra, 1);	/* the 1000 ms event leaves at 61 s */
	assert_true(sec_quota_take(q, "4917", 61000, &ra));
	assert_true(sec_quota_take(q, "4917", 62000, &ra));
	assert_false(sec_quota_take(q, "4917", 62000, &ra));
	assert_int_equal(ra, 58);
	/* After a quiet window everything is allowed again. */
	assert_true(sec_quota_take(q, "4917", 200000, &ra));
	sec_quota_free(q);
	/* limit 0 refuses everything. */
	q = sec_quota_new(0, 10, 4);
	assert_non_null(q);
	assert_false(sec_quota_take(q, "x", 0, &ra));
	assert_int_equal(ra, 10);
	sec_quota_free(q);
}

static void
test_quota_lru(void **state)
{
	struct sec_quota *q = sec_quota_new(1, 3600, 2);
	unsigned ra;
	char key[16];
	int i;

	(void)state;
	assert_non_null(q);
	assert_true(sec_quota_take(q, "a", 0, &ra));
	assert_true(sec_quota_take(q, "b", 0, &ra));
	assert_false(sec_quota_take(q, "a", 1, &ra));	/* a is used */
	/* c pushes out the least recently used key, b. */
	assert_true(sec_quota_take(q, "c", 2, &ra));
	assert_false(sec_quota_take(q, "a", 3, &ra));	/* still known */
	assert_true(sec_quota_take(q, "b", 4, &ra));	/* forgotten */
	/* Many keys: the table stays bounded (and ASan sees no leak). */
	q = (sec_quota_free(q), sec_quota_new(2, 60, 1000));
	assert_non_null(q);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(sec_quota_take(q, key, i, &ra));
	}
	/* The newest 1000 are remembered, older ones are not. */
	assert_true(sec_quota_take(q, "k19999", 20000, &ra));
	assert_false(sec_quota_take(q, "k19999", 20001, &ra));
	assert_true(sec_quota_take(q, "k0", 20002, &ra));
	assert_true(sec_quota_take(q, "k0", 20003, &ra));
	sec_quota_free(q);
	assert_null(sec_quota_new(1, 1, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_quota_lru),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
