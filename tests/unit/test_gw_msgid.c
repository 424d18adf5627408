/*
 * gateway/msgid: ids are unique (also past 128 per millisecond and when
 * the clock steps back), differ between instances, stay below 2^63, and
 * print as lower-case hex or decimal within 65 octets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/msgid.h"

#define T0	1767225600000LL		/* 2026-01-01 */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_unique_burst(void **state)
{
	enum { N = 100000 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct gw_msgid_gen g;

	(void)state;
	assert_non_null(v);
	gw_msgid_init(&g, 1);
	/* all in one wall-clock millisecond, then the clock steps back */
	for (int i = 0; i < N; i++)
		v[i] = gw_msgid_next(&g, i < N / 2 ? T0 : T0 - 5000);
	qsort(v, N, sizeof(*v), cmp_u64);
	for (int i = 1; i < N; i++)
		assert_true(v[i] != v[i - 1]);
	free(v);
}

static void
test_instances_differ(void **state)
{
	struct gw_msgid_gen a, b;

	(void)state;
	gw_msgid_init(&a, 1);
	gw_msgid_init(&b, 2);
	for (int i = 0; i < 1000; i++)
		assert_true(gw_msgid_next(&a, T0 + i / 10) !=
		    gw_msgid_next(&b, T0 + i / 10));
}

static void
test_restart_later_is_unique(void **state)
{
	struct gw_msgid_gen a, b;
	uint64_t last;

	(void)state;
	gw_msgid_init(&a, 9);
	for (int i = 0; i < 200; i++)
		last = gw_msgid_next(&a, T0);
	/* a restart a second later starts above everything minted */
	gw_msgid_init(&b, 9);
	assert_true(gw_msgid_next(&b, T0 + 1000) > last);
}

static void
test_below_2_63(void **state)
{
	struct gw_msgid_gen g;
	uint64_t v;
	char s[GW_MSGID_MAX_LEN + 1];

	(void)state;
	gw_msgid_init(&g, 0xFFFF);
	/* the end of the 40-bit time range (2058) */
	v = gw_msgid_next(&g, GW_MSGID_EPOCH_MS + (1LL << 40) - 1);
	assert_true(v < (UINT64_C(1) << 63));
	assert_true(v > (UINT64_C(1) << 62));
	assert_int_equal(gw_msgid_format(v, GW_MSGID_HEX, s, sizeof(s)), 16);
	assert_true(s[0] >= '4' && s[0] <= '7');
	for (const char *p = s; *p; p++)
		assert_non_null(strchr("0123456789abcdef", *p));
}

static void
test_formats(void **state)
{
	char s[GW_MSGID_MAX_LEN + 1];

	(void)state;
	assert_int_equal(gw_msgid_format(0x1a2bULL, GW_MSGID_HEX, s,
	    sizeof(s)), 4);
	assert_string_equal(s, "1a2b");
	assert_int_equal(gw_msgid_format(6699, GW_MSGID_DECIMAL, s,
	    sizeof(s)), 4);
	assert_string_equal(s, "6699");
	assert_int_equal(gw_msgid_format(INT64_MAX, GW_MSGID_DECIMAL, s,
	    sizeof(s)), 19);
	assert_int_equal(gw_msgid_format(6699, GW_MSGID_DECIMAL, s, 4), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_burst),
		cmocka_unit_test(test_instances_differ),
		cmocka_unit_test(test_restart_later_is_unique),
		cmocka_unit_test(test_below_2_63),
		cmocka_unit_test(test_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
