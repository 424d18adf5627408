/*
 * smpp-bench's histogram and counters: bucket edges, percentiles against
 * exact values, clamping, merging and the JSON summary's fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "smpp/proto.h"

#include "bench_stats.h"

static void
test_bucket_edges(void **state)
{
	(void)state;
	/* Exact below 256 us. */
	for (uint64_t v = 0; v < 256; v++) {
		assert_int_equal(bench_hist_index(v), v);
		assert_int_equal(bench_hist_bucket_high(v), v);
	}
	/* Every value lies in its bucket, buckets are contiguous and no
	 * wider than 1/128 of their values. */
	for (uint64_t v = 256; v < 70000000; v += 1 + v / 1000) {
		size_t i = bench_hist_index(v);
		uint64_t hi = bench_hist_bucket_high(i);
		uint64_t lo = bench_hist_bucket_high(i - 1) + 1;

		if (v > BENCH_HIST_MAX_US) {
			assert_int_equal(i,
			    bench_hist_index(BENCH_HIST_MAX_US));
			continue;
		}
		assert_true(lo <= v && v <= hi);
		assert_true(hi - lo + 1 <= lo / 128 + 1);
		assert_true(i < BENCH_HIST_BUCKETS);
	}
}

static void
test_percentiles_uniform(void **state)
{
	struct bench_hist *h = malloc(sizeof(*h));

	(void)state;
	bench_hist_init(h);
	assert_int_equal(bench_hist_percentile(h, 50), 0);
	for (uint64_t v = 1; v <= 100000; v++)
		bench_hist_record(h, v);
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->min_us, 1);
	assert_int_equal(h->max_us, 100000);
	/* Within a bucket's width (under 1 %) of the exact answer, and
	 * never below it (the upper edge is reported). */
	assert_true(bench_hist_percentile(h, 50) >= 50000);
	assert_true(bench_hist_percentile(h, 50) <= 50000 * 1.01);
	assert_true(bench_hist_percentile(h, 90) >= 90000);
	assert_true(bench_hist_percentile(h, 90) <= 90000 * 1.01);
	assert_true(bench_hist_percentile(h, 99) >= 99000);
	assert_true(bench_hist_percentile(h, 99) <= 99000 * 1.01);
	assert_int_equal(bench_hist_percentile(h, 100), 100000);
	assert_int_equal(bench_hist_percentile(h, 0), 1);
	free(h);
}

static void
test_percentiles_small(void **state)
{
	struct bench_hist *h = malloc(sizeof(*h));

	(void)state;
	bench_hist_init(h);
	/* 99 fast and one slow: p99 is fast, max is slow. */
	for (int i = 0; i < 99; i++)
		bench_hist_record(h, 100);
	bench_hist_record(h, 5000000);
	assert_int_equal(bench_hist_percentile(h, 50), 100);
	assert_int_equal(bench_hist_percentile(h, 99), 100);
	assert_true(bench_hist_percentile(h, 99.5) >= 5000000);
	assert_int_equal(h->max_us, 5000000);
	free(h);
}

static void
test_clamp_and_merge(void **state)
{
	struct bench_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

	(void)state;
	bench_hist_init(a);
	bench_hist_init(b);
	bench_hist_record(a, 10);
	bench_hist_record(b, 120000000);	/* 2 min: clamped */
	assert_int_equal(b->clamped, 1);
	assert_int_equal(b->max_us, 120000000);
	bench_hist_merge(a, b);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->min_us, 10);
	assert_int_equal(a->max_us, 120000000);
	assert_int_equal(bench_hist_percentile(a, 50), 10);
	assert_int_equal(bench_hist_percentile(a, 100), 120000000);
	free(a);
	free(b);
}

static void
test_counters_json(void **state)
{
	struct bench_stats *st = malloc(sizeof(*st));
	json_t *j, *lat;

	(void)state;
	bench_stats_init(st);
	st->submitted = 5;
	st->messages = 5;
	bench_stats_status(st, SMPP_ROK);
	bench_stats_status(st, SMPP_ROK);
	bench_stats_status(st, SMPP_RTHROTTLED);
	bench_stats_status(st, SMPP_RSYSERR);
	st->timeouts = 1;
	st->receipts = 2;
	st->receipts_by_stat[2] = 2;
	st->t_first_submit_ns = 1000000000;
	st->t_last_resp_ns = 2000000000;
	bench_hist_record(&st->resp_lat, 1500);
	assert_int_equal(st->responses, 4);
	assert_int_equal(st->responses_ok, 2);
	assert_int_equal(st->throttled, 1);
	assert_int_equal(bench_stats_errors(st), 3);
	st->requeued = 1;
	assert_int_equal(bench_stats_errors(st), 2);
	assert_true(bench_stats_rate(st) > 3.99 && bench_stats_rate(st) < 4.01);

	j = bench_stats_json(st);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "submitted")),
	    5);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "responses_ok")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "receipts")),
	    2);
	assert_non_null(json_object_get(j, "rate_per_s"));
	assert_non_null(json_object_get(j, "duration_s"));
	assert_int_equal(json_integer_value(json_object_get(j, "errors")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "responses_by_status"), "ESME_RTHROTTLED")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "receipts_by_stat"), "DELIVRD")), 2);
	lat = json_object_get(j, "latency_ms");
	assert_non_null(lat);
	assert_true(json_real_value(json_object_get(lat, "p50")) >= 1.5);
	assert_true(json_real_value(json_object_get(lat, "p50")) < 1.52);
	assert_non_null(json_object_get(lat, "p90"));
	assert_non_null(json_object_get(lat, "p99"));
	assert_non_null(json_object_get(lat, "max"));
	lat = json_object_get(j, "receipt_latency_ms");
	assert_non_null(lat);
	assert_true(json_real_value(json_object_get(lat, "max")) == 0.0);
	json_decref(j);
	free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_percentiles_uniform),
		cmocka_unit_test(test_percentiles_small),
		cmocka_unit_test(test_clamp_and_merge),
		cmocka_unit_test(test_counters_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
