/*
 * smpp-bench's receipt table: exact and hex/decimal matching (checked
 * against smpp_dlr_id_equivalent), removal under probing collisions,
 * repeated ids, a full table and bad ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/dlr.h"

#include "bench_ids.h"

static int
put(struct bench_ids *t, const char *id, uint64_t v)
{
	return bench_ids_put(t, id, strlen(id), v);
}

static int
take(struct bench_ids *t, const char *id, uint64_t *v)
{
	return bench_ids_take(t, id, strlen(id), v);
}

static void
test_exact(void **state)
{
	struct bench_ids *t = bench_ids_new(8, BENCH_ID_EXACT);
	uint64_t v = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(put(t, "1a2b", 7), 0);
	assert_int_equal(put(t, "00ff", 8), 0);
	assert_int_equal(bench_ids_count(t), 2);
	/* Exact means exact: no case folding, no numeric reading. */
	assert_int_equal(take(t, "1A2B", &v), 0);
	assert_int_equal(take(t, "6699", &v), 0);
	assert_int_equal(take(t, "ff", &v), 0);
	assert_int_equal(bench_ids_peek(t, "1a2b", 4, &v), 1);
	assert_int_equal(v, 7);
	assert_int_equal(take(t, "1a2b", &v), 1);
	assert_int_equal(v, 7);
	assert_int_equal(take(t, "1a2b", &v), 0);	/* gone */
	assert_int_equal(take(t, "00ff", &v), 1);
	assert_int_equal(v, 8);
	assert_int_equal(bench_ids_count(t), 0);
	bench_ids_free(t);
}

static void
test_hexdec(void **state)
{
	static const char *const pairs[][2] = {
		{ "1A2B", "6699" },	/* hex in the resp, decimal after */
		{ "1a2b", "1A2B" },	/* case */
		{ "007", "7" },		/* leading zeros */
		{ "abcdef-0123", "ABCDEF0123" },	/* dashes */
	};
	struct bench_ids *t = bench_ids_new(16, BENCH_ID_HEXDEC);
	uint64_t v = 0;

	(void)state;
	assert_non_null(t);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		/* The helper agrees that they are the same message. */
		assert_true(smpp_dlr_id_equivalent(pairs[i][0], pairs[i][1],
		    SMPP_DLR_ID_TOLERANT));
		assert_int_equal(put(t, pairs[i][0], 100 + i), 0);
		assert_int_equal(take(t, pairs[i][1], &v), 1);
		assert_int_equal(v, 100 + i);
		assert_int_equal(bench_ids_count(t), 0);
	}
	/* Different messages stay apart. */
	assert_false(smpp_dlr_id_equivalent("1a2c", "6699",
	    SMPP_DLR_ID_TOLERANT));
	assert_int_equal(put(t, "1a2c", 1), 0);
	assert_int_equal(take(t, "6699", &v), 0);
	assert_int_equal(take(t, "6700", &v), 1);	/* 0x1a2c == 6700 */
	bench_ids_free(t);
}

static void
test_many_and_collisions(void **state)
{
	enum { N = 20000 };
	struct bench_ids *t = bench_ids_new(N, BENCH_ID_EXACT);
	char id[32];
	uint64_t v = 0;

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%08x", i * 7919);
		assert_int_equal(put(t, id, (uint64_t)i), 0);
	}
	assert_int_equal(put(t, "one-too-many", 0), BENCH_IDS_EFULL);
	/* Take every other one, then check the rest are all still
	 * findable: backward-shift deletion kept probe runs intact. */
	for (int i = 0; i < N; i += 2) {
		snprintf(id, sizeof(id), "%08x", i * 7919);
		assert_int_equal(take(t, id, &v), 1);
		assert_int_equal(v, (uint64_t)i);
	}
	assert_int_equal(bench_ids_count(t), N / 2);
	for (int i = 1; i < N; i += 2) {
		snprintf(id, sizeof(id), "%08x", i * 7919);
		assert_int_equal(bench_ids_peek(t, id, strlen(id), &v), 1);
		assert_int_equal(v, (uint64_t)i);
	}
	/* Space freed is reused. */
	for (int i = 0; i < N / 2; i++) {
		snprintf(id, sizeof(id), "new%d", i);
		assert_int_equal(put(t, id, 1), 0);
	}
	assert_int_equal(put(t, "full", 0), BENCH_IDS_EFULL);
	bench_ids_clear(t);
	assert_int_equal(bench_ids_count(t), 0);
	assert_int_equal(put(t, "again", 5), 0);
	assert_int_equal(take(t, "again", &v), 1);
	bench_ids_free(t);
}

static void
test_repeats_and_bad(void **state)
{
	struct bench_ids *t = bench_ids_new(4, BENCH_ID_HEXDEC);
	char longid[80];
	uint64_t v = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(put(t, "42", 1), 0);
	assert_int_equal(put(t, "42", 2), 0);	/* a repeat is kept twice */
	assert_int_equal(take(t, "42", &v), 1);
	assert_int_equal(take(t, "42", &v), 1);
	assert_int_equal(take(t, "42", &v), 0);
	assert_int_equal(put(t, "", 1), BENCH_IDS_EBADID);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(put(t, longid, 1), BENCH_IDS_EBADID);
	assert_int_equal(take(t, longid, &v), 0);
	assert_null(bench_ids_new(0, BENCH_ID_EXACT));
	bench_ids_free(t);
	bench_ids_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_hexdec),
		cmocka_unit_test(test_many_and_collisions),
		cmocka_unit_test(test_repeats_and_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
