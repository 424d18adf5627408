/*
 * smpp-bench's measurements: latency histograms with fixed log-linear
 * buckets (microsecond resolution, exact below 256 us, then 128 buckets
 * per power of two, about 0.8 % wide, up to 60 s) and the run's counters,
 * printed as a human summary or as one JSON object (jansson).
 *
 * Nothing here allocates on the recording path: a histogram is a plain
 * struct of counters, so a run's memory does not grow with its length.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define BENCH_HIST_SUB_BITS	8
#define BENCH_HIST_MAX_US	60000000ull	/* larger values clamp here */
#define BENCH_HIST_BUCKETS	2560

struct bench_hist {
	uint64_t	count;
	uint64_t	sum_us;
	uint64_t	min_us;
	uint64_t	max_us;		/* exact, unclamped */
	uint64_t	clamped;	/* values over BENCH_HIST_MAX_US */
	uint64_t	b[BENCH_HIST_BUCKETS];
};

void bench_hist_init(struct bench_hist *h);
void bench_hist_record(struct bench_hist *h, uint64_t us);
/* Bucket of a value (clamped to BENCH_HIST_MAX_US) and the highest value
 * that bucket holds. */
size_t bench_hist_index(uint64_t us);
uint64_t bench_hist_bucket_high(size_t idx);
/* The value at percentile p (0 < p <= 100): the upper edge of the bucket
 * holding that rank, never above the recorded maximum; 0 when empty. */
uint64_t bench_hist_percentile(const struct bench_hist *h, double p);
/* Adds src into dst. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);

/* Response statuses seen; ROK always sits in entry 0. */
#define BENCH_STATUS_MAX	32

struct bench_status_count {
	uint32_t	status;
	uint64_t	count;
};

/* The receipt stat values (enum smpp_dlr_stat, 0 = none/unreadable). */
#define BENCH_STAT_MAX	9

struct bench_stats {
	uint64_t	messages;	/* messages started (all parts) */
	uint64_t	submitted;	/* submit_sm PDUs sent, retries too */
	uint64_t	retries;	/* of which re-sends after throttling */
	uint64_t	responses;	/* submit_sm_resp/generic_nack seen */
	uint64_t	responses_ok;
	uint64_t	throttled;	/* ESME_RTHROTTLED responses */
	uint64_t	requeued;	/* of which re-queued to send again */
	uint64_t	timeouts;	/* no response in time */
	uint64_t	aborted;	/* the session closed first */
	uint64_t	send_errors;	/* could not be queued */
	struct bench_status_count by_status[BENCH_STATUS_MAX];
	size_t		n_status;
	uint64_t	status_other;	/* beyond BENCH_STATUS_MAX kinds */

	uint64_t	receipts;	/* final receipts matched to a submit */
	uint64_t	receipts_by_stat[BENCH_STAT_MAX];
	uint64_t	receipts_intermediate;	/* ENROUTE, esm 0x20 */
	uint64_t	receipts_unmatched;	/* unknown id, or a repeat */
	uint64_t	receipts_early;		/* of receipts: came before
						 * their submit_sm_resp */
	uint64_t	receipts_untracked;	/* id table full at submit */
	uint64_t	receipts_missing;	/* expected, never came */
	uint64_t	receipts_expected;	/* ok responses that ask one */
	uint64_t	mo;		/* deliver_sm that are not receipts */

	struct bench_hist resp_lat;	/* submit -> response */
	struct bench_hist rcpt_lat;	/* submit -> receipt */

	uint64_t	t_first_submit_ns;	/* monotonic; 0 = none */
	uint64_t	t_last_resp_ns;
	uint64_t	t_last_rcpt_ns;
	double		duration_s;	/* whole run, connect to end */
	double		warmup_s;	/* latency left out before this */
};

void bench_stats_init(struct bench_stats *st);
/* Counts one response by its status. */
void bench_stats_status(struct bench_stats *st, uint32_t status);
/* Errors in the sense of --max-errors: refused submits (but not the
 * throttled ones that were sent again), timeouts, aborts, queueing
 * failures and missing receipts. */
uint64_t bench_stats_errors(const struct bench_stats *st);
/* Submits per second from the first submit to the last response. */
double bench_stats_rate(const struct bench_stats *st);
/* Human-readable summary. */
void bench_stats_print(const struct bench_stats *st, FILE *f);
/* The summary as a new JSON object (the caller owns the reference), or
 * NULL on allocation failure. */
json_t *bench_stats_json(const struct bench_stats *st);
/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

#endif
