/*
 * Histograms, counters and the end-of-run report of smpp-bench (see
 * bench_stats.h). The bucket layout is the HDR-histogram idea in its
 * simplest form: values below 2^S are exact, and each further power of
 * two is cut into 2^(S-1) equal buckets, so the relative error is the
 * same at 1 ms as at 10 s.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "smpp/dlr.h"
#include "smpp/proto.h"

#include "bench_stats.h"

#define SUB	(1u << BENCH_HIST_SUB_BITS)
#define HALF	(SUB / 2)

_Static_assert(BENCH_HIST_MAX_US < (1ull << 26),
    "BENCH_HIST_BUCKETS is sized for values below 2^26");
_Static_assert(SUB + (25 - BENCH_HIST_SUB_BITS + 1) * HALF <=
    BENCH_HIST_BUCKETS, "BENCH_HIST_BUCKETS too small");

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
}

size_t
bench_hist_index(uint64_t us)
{
	unsigned m, shift;

	if (us > BENCH_HIST_MAX_US)
		us = BENCH_HIST_MAX_US;
	if (us < SUB)
		return (size_t)us;
	m = 63u - (unsigned)__builtin_clzll(us);
	shift = m - (BENCH_HIST_SUB_BITS - 1);
	return SUB + (size_t)(m - BENCH_HIST_SUB_BITS) * HALF +
	    (size_t)((us >> shift) - HALF);
}

uint64_t
bench_hist_bucket_high(size_t idx)
{
	size_t k;
	unsigned m, shift;
	uint64_t sub;

	if (idx < SUB)
		return idx;
	k = idx - SUB;
	m = BENCH_HIST_SUB_BITS + (unsigned)(k / HALF);
	sub = (uint64_t)(k % HALF) + HALF;
	shift = m - (BENCH_HIST_SUB_BITS - 1);
	return (sub << shift) + ((1ull << shift) - 1);
}

void
bench_hist_record(struct bench_hist *h, uint64_t us)
{
	if (h->count == 0 || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	if (us > BENCH_HIST_MAX_US)
		h->clamped++;
	h->count++;
	h->sum_us += us;
	h->b[bench_hist_index(us)]++;
}

uint64_t
bench_hist_percentile(const struct bench_hist *h, double p)
{
	uint64_t rank, seen = 0, v;

	if (h->count == 0)
		return 0;
	if (p >= 100.0)
		return h->max_us;
	if (p <= 0.0)
		return h->min_us;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank == 0)
		rank = 1;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			v = bench_hist_bucket_high(i);
			if (v > h->max_us)
				v = h->max_us;
			if (v < h->min_us)
				v = h->min_us;
			return v;
		}
	}
	return h->max_us;
}

void
bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min_us < dst->min_us)
		dst->min_us = src->min_us;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
	dst->count += src->count;
	dst->sum_us += src->sum_us;
	dst->clamped += src->clamped;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

void
bench_stats_init(struct bench_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->by_status[0].status = SMPP_ROK;
	st->n_status = 1;
}

void
bench_stats_status(struct bench_stats *st, uint32_t status)
{
	st->responses++;
	if (status == SMPP_ROK) {
		st->by_status[0].count++;
		st->responses_ok++;
		return;
	}
	if (status == SMPP_RTHROTTLED)
		st->throttled++;
	for (size_t i = 1; i < st->n_status; i++) {
		if (st->by_status[i].status == status) {
			st->by_status[i].count++;
			return;
		}
	}
	if (st->n_status < BENCH_STATUS_MAX) {
		st->by_status[st->n_status].status = status;
		st->by_status[st->n_status].count = 1;
		st->n_status++;
		return;
	}
	st->status_other++;
}

uint64_t
bench_stats_errors(const struct bench_stats *st)
{
	return (st->responses - st->responses_ok - st->requeued) +
	    st->timeouts +
	    st->aborted + st->send_errors + st->receipts_missing;
}

double
bench_stats_rate(const struct bench_stats *st)
{
	double s;

	if (st->t_first_submit_ns == 0 ||
	    st->t_last_resp_ns <= st->t_first_submit_ns)
		return 0.0;
	s = (double)(st->t_last_resp_ns - st->t_first_submit_ns) / 1e9;
	return (double)st->responses / s;
}

static const char *
stat_name(size_t i)
{
	const char *n = smpp_dlr_stat_name((enum smpp_dlr_stat)i);

	return n != NULL ? n : "none";
}

static double
ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static void
print_hist(FILE *f, const char *what, const struct bench_hist *h)
{
	if (h->count == 0) {
		fprintf(f, "  %-18s none\n", what);
		return;
	}
	fprintf(f, "  %-18s p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  "
	    "mean %.3f ms  (%llu samples)\n", what,
	    ms(bench_hist_percentile(h, 50)), ms(bench_hist_percentile(h, 90)),
	    ms(bench_hist_percentile(h, 99)), ms(h->max_us),
	    ms(h->sum_us / h->count), (unsigned long long)h->count);
}

void
bench_stats_print(const struct bench_stats *st, FILE *f)
{
	fprintf(f, "submitted         %llu submit_sm (%llu messages, %llu "
	    "retries)\n", (unsigned long long)st->submitted,
	    (unsigned long long)st->messages,
	    (unsigned long long)st->retries);
	fprintf(f, "responses         %llu (ok %llu, timeouts %llu, aborted "
	    "%llu, not sent %llu)\n", (unsigned long long)st->responses,
	    (unsigned long long)st->responses_ok,
	    (unsigned long long)st->timeouts,
	    (unsigned long long)st->aborted,
	    (unsigned long long)st->send_errors);
	for (size_t i = 0; i < st->n_status; i++) {
		if (st->by_status[i].count == 0)
			continue;
		fprintf(f, "  %-18s %llu\n",
		    smpp_status_name(st->by_status[i].status),
		    (unsigned long long)st->by_status[i].count);
	}
	if (st->status_other != 0)
		fprintf(f, "  %-18s %llu\n", "other",
		    (unsigned long long)st->status_other);
	fprintf(f, "receipts          %llu of %llu expected (missing %llu, "
	    "unmatched %llu, intermediate %llu, untracked %llu, before "
	    "their response %llu)\n",
	    (unsigned long long)st->receipts,
	    (unsigned long long)st->receipts_expected,
	    (unsigned long long)st->receipts_missing,
	    (unsigned long long)st->receipts_unmatched,
	    (unsigned long long)st->receipts_intermediate,
	    (unsigned long long)st->receipts_untracked,
	    (unsigned long long)st->receipts_early);
	for (size_t i = 0; i < BENCH_STAT_MAX; i++)
		if (st->receipts_by_stat[i] != 0)
			fprintf(f, "  %-18s %llu\n", stat_name(i),
			    (unsigned long long)st->receipts_by_stat[i]);
	fprintf(f, "mo received       %llu\n", (unsigned long long)st->mo);
	fprintf(f, "throughput        %.0f submit/s over %.3f s (run %.3f s)\n",
	    bench_stats_rate(st), st->t_last_resp_ns > st->t_first_submit_ns &&
	    st->t_first_submit_ns != 0 ? (double)(st->t_last_resp_ns -
	    st->t_first_submit_ns) / 1e9 : 0.0, st->duration_s);
	if (st->warmup_s > 0)
		fprintf(f, "latency (ms), submits of the first %.3f s left out"
		    "\n", st->warmup_s);
	else
		fprintf(f, "latency (ms)\n");
	print_hist(f, "submit->response", &st->resp_lat);
	print_hist(f, "submit->receipt", &st->rcpt_lat);
	fprintf(f, "errors            %llu\n",
	    (unsigned long long)bench_stats_errors(st));
}

static json_t *
hist_json(const struct bench_hist *h)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}",
	    "p50", ms(bench_hist_percentile(h, 50)),
	    "p90", ms(bench_hist_percentile(h, 90)),
	    "p99", ms(bench_hist_percentile(h, 99)),
	    "max", ms(h->max_us),
	    "min", ms(h->count != 0 ? h->min_us : 0),
	    "mean", h->count != 0 ? ms(h->sum_us / h->count) : 0.0,
	    "count", (json_int_t)h->count);
}

json_t *
bench_stats_json(const struct bench_stats *st)
{
	json_t *o, *bys, *byst;

	bys = json_object();
	byst = json_object();
	if (bys == NULL || byst == NULL)
		goto fail;
	for (size_t i = 0; i < st->n_status; i++) {
		if (st->by_status[i].count == 0)
			continue;
		if (json_object_set_new(bys,
		    smpp_status_name(st->by_status[i].status),
		    json_integer((json_int_t)st->by_status[i].count)) != 0)
			goto fail;
	}
	if (st->status_other != 0 && json_object_set_new(bys, "other",
	    json_integer((json_int_t)st->status_other)) != 0)
		goto fail;
	for (size_t i = 0; i < BENCH_STAT_MAX; i++) {
		if (st->receipts_by_stat[i] == 0)
			continue;
		if (json_object_set_new(byst, stat_name(i),
		    json_integer((json_int_t)st->receipts_by_stat[i])) != 0)
			goto fail;
	}
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:f, s:o, s:o, s:I, "
	    "s:f, s:f}",
	    "submitted", (json_int_t)st->submitted,
	    "messages", (json_int_t)st->messages,
	    "retries", (json_int_t)st->retries,
	    "responses", (json_int_t)st->responses,
	    "responses_ok", (json_int_t)st->responses_ok,
	    "throttled", (json_int_t)st->throttled,
	    "requeued", (json_int_t)st->requeued,
	    "timeouts", (json_int_t)st->timeouts,
	    "aborted", (json_int_t)st->aborted,
	    "not_sent", (json_int_t)st->send_errors,
	    "responses_by_status", bys,
	    "receipts", (json_int_t)st->receipts,
	    "receipts_expected", (json_int_t)st->receipts_expected,
	    "receipts_missing", (json_int_t)st->receipts_missing,
	    "receipts_unmatched", (json_int_t)st->receipts_unmatched,
	    "receipts_intermediate", (json_int_t)st->receipts_intermediate,
	    "receipts_untracked", (json_int_t)st->receipts_untracked,
	    "receipts_early", (json_int_t)st->receipts_early,
	    "receipts_by_stat", byst,
	    "mo", (json_int_t)st->mo,
	    "rate_per_s", bench_stats_rate(st),
	    "latency_ms", hist_json(&st->resp_lat),
	    "receipt_latency_ms", hist_json(&st->rcpt_lat),
	    "errors", (json_int_t)bench_stats_errors(st),
	    "duration_s", st->duration_s,
	    "warmup_s", st->warmup_s);
	return o;	/* json_pack took bys and byst ("o"), even on failure */
fail:
	json_decref(bys);
	json_decref(byst);
	return NULL;
}
