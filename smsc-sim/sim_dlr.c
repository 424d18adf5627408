/*
 * Receipt outcome rules and the receipt containers: a min-heap on due
 * time for delayed receipts and FIFO rings for due ones (sim_dlr.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "sim_dlr.h"

void
sim_rng_seed(struct sim_rng *r)
{
	if (RAND_bytes((unsigned char *)r->s, sizeof(r->s)) != 1 ||
	    (r->s[0] | r->s[1]) == 0) {
		r->s[0] = 0x9E3779B97F4A7C15ULL;
		r->s[1] = 0xBF58476D1CE4E5B9ULL;
	}
}

static const char *const out_names[SIM_OUT_N] = {
	[SIM_OUT_DELIVRD] = "DELIVRD", [SIM_OUT_UNDELIV] = "UNDELIV",
	[SIM_OUT_EXPIRED] = "EXPIRED", [SIM_OUT_REJECTD] = "REJECTD",
	[SIM_OUT_DELETED] = "DELETED", [SIM_OUT_UNKNOWN] = "UNKNOWN",
	[SIM_OUT_ENROUTE] = "ENROUTE",
};

/* message_state values (SMPP 3.4 5.2.28). */
static const uint8_t out_state[SIM_OUT_N] = {
	[SIM_OUT_DELIVRD] = 2, [SIM_OUT_UNDELIV] = 5, [SIM_OUT_EXPIRED] = 3,
	[SIM_OUT_REJECTD] = 8, [SIM_OUT_DELETED] = 4, [SIM_OUT_UNKNOWN] = 7,
	[SIM_OUT_ENROUTE] = 1,
};

/* The err: each failure carries in random mode and in the rule. */
static const uint16_t out_err[SIM_OUT_N] = {
	[SIM_OUT_DELIVRD] = 0, [SIM_OUT_UNDELIV] = 1, [SIM_OUT_EXPIRED] = 27,
	[SIM_OUT_REJECTD] = 13, [SIM_OUT_DELETED] = 0, [SIM_OUT_UNKNOWN] = 255,
	[SIM_OUT_ENROUTE] = 0,
};

const char *
sim_outcome_name(enum sim_outcome o)
{
	return (unsigned)o < SIM_OUT_N ? out_names[o] : "UNKNOWN";
}

uint8_t
sim_outcome_state(enum sim_outcome o)
{
	return (unsigned)o < SIM_OUT_N ? out_state[o] : 7;
}

int
sim_outcome_parse(const char *name)
{
	for (int i = 0; i < SIM_OUT_N; i++)
		if (strcasecmp(name, out_names[i]) == 0)
			return i;
	return -1;
}

void
sim_dlr_pick_deterministic(const char *dst, size_t len,
    struct sim_outcome_pick *p)
{
	memset(p, 0, sizeof(*p));
	p->out = SIM_OUT_DELIVRD;
	if (len >= 3 && dst[len - 3] == '9' && dst[len - 2] == '9') {
		switch (dst[len - 1]) {
		case '1': p->out = SIM_OUT_UNDELIV; break;
		case '2': p->out = SIM_OUT_EXPIRED; break;
		case '3': p->out = SIM_OUT_REJECTD; break;
		case '4': p->out = SIM_OUT_DELETED; break;
		case '5': p->out = SIM_OUT_UNKNOWN; break;
		case '6': p->late = 1; break;
		case '7': p->duplicate = 1; break;
		default: break;
		}
	}
	p->err = out_err[p->out];
}

void
sim_dlr_pick_random(const struct sim_receipts_cfg *rc, struct sim_rng *rng,
    struct sim_outcome_pick *p)
{
	uint64_t total = 0, r;
	int i;

	memset(p, 0, sizeof(*p));
	p->out = SIM_OUT_DELIVRD;
	for (i = 0; i < SIM_OUT_ENROUTE; i++)
		total += rc->mix[i];
	if (total > 0) {
		r = sim_rng_next(rng) % total;
		for (i = 0; i < SIM_OUT_ENROUTE; i++) {
			if (r < rc->mix[i]) {
				p->out = (enum sim_outcome)i;
				break;
			}
			r -= rc->mix[i];
		}
	}
	p->err = out_err[p->out];
	if (rc->late_pct > 0 && sim_rng_below(rng, 100) < rc->late_pct)
		p->late = 1;
	if (rc->duplicate_pct > 0 &&
	    sim_rng_below(rng, 100) < rc->duplicate_pct)
		p->duplicate = 1;
}

uint32_t
sim_dlr_delay(const struct sim_receipts_cfg *rc, struct sim_rng *rng)
{
	double u, d;

	switch (rc->dist) {
	case SIM_DELAY_UNIFORM:
		if (rc->delay_max_ms <= rc->delay_min_ms)
			return rc->delay_min_ms;
		return rc->delay_min_ms + sim_rng_below(rng,
		    rc->delay_max_ms - rc->delay_min_ms + 1);
	case SIM_DELAY_EXPONENTIAL:
		u = ((double)(sim_rng_next(rng) >> 11) + 1.0) /
		    9007199254740993.0;
		d = -log(u) * (double)rc->delay_mean_ms;
		d += rc->delay_min_ms;
		if (rc->delay_max_ms > 0 && d > rc->delay_max_ms)
			d = rc->delay_max_ms;
		return (uint32_t)d;
	case SIM_DELAY_FIXED:
	default:
		return rc->delay_min_ms;
	}
}

struct sim_dlrq {
	struct sim_receipt	*h;
	size_t			 len;
	size_t			 cap;	/* allocated */
	size_t			 max;
};

struct sim_dlrq *
sim_dlrq_new(size_t cap)
{
	struct sim_dlrq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->max = cap;
	return q;
}

void
sim_dlrq_free(struct sim_dlrq *q)
{
	if (q == NULL)
		return;
	free(q->h);
	free(q);
}

int
sim_dlrq_push(struct sim_dlrq *q, const struct sim_receipt *r)
{
	size_t i;

	if (q->len >= q->max)
		return -1;
	if (q->len == q->cap) {
		/* Grows by doubling up to max, then stays: flat memory. */
		size_t nc = q->cap ? q->cap * 2 : 1024;
		struct sim_receipt *nh;

		if (nc > q->max)
			nc = q->max;
		nh = realloc(q->h, nc * sizeof(*nh));
		if (nh == NULL)
			return -1;
		q->h = nh;
		q->cap = nc;
	}
	i = q->len++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (q->h[p].due_ms <= r->due_ms)
			break;
		q->h[i] = q->h[p];
		i = p;
	}
	q->h[i] = *r;
	return 0;
}

const struct sim_receipt *
sim_dlrq_peek(const struct sim_dlrq *q)
{
	return q->len > 0 ? &q->h[0] : NULL;
}

int
sim_dlrq_pop(struct sim_dlrq *q, struct sim_receipt *r)
{
	struct sim_receipt last;
	size_t i = 0;

	if (q->len == 0)
		return -1;
	*r = q->h[0];
	last = q->h[--q->len];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->len)
			break;
		if (c + 1 < q->len && q->h[c + 1].due_ms < q->h[c].due_ms)
			c++;
		if (last.due_ms <= q->h[c].due_ms)
			break;
		q->h[i] = q->h[c];
		i = c;
	}
	if (q->len > 0)
		q->h[i] = last;
	return 0;
}

size_t
sim_dlrq_len(const struct sim_dlrq *q)
{
	return q->len;
}

void
sim_dlrq_clear(struct sim_dlrq *q)
{
	q->len = 0;
}

/* ---- FIFO ring ----------------------------------------------------- */

static int
rfifo_grow(struct sim_rfifo *f, uint32_t need)
{
	struct sim_receipt *nr;
	uint32_t nc = f->cap ? f->cap : 64;

	while (nc < need) {
		if (nc > UINT32_MAX / 2)
			return -1;
		nc *= 2;
	}
	if (nc == f->cap)
		return 0;
	if ((nr = malloc((size_t)nc * sizeof(*nr))) == NULL)
		return -1;
	/* Unwrap into the new block: head back to 0. */
	for (uint32_t i = 0; i < f->len; i++)
		nr[i] = f->r[(f->head + i) % f->cap];
	free(f->r);
	f->r = nr;
	f->head = 0;
	f->cap = nc;
	return 0;
}

int
sim_rfifo_push(struct sim_rfifo *f, const struct sim_receipt *r)
{
	uint32_t tail;

	if (f->len == f->cap && rfifo_grow(f, f->len + 1) != 0)
		return -1;
	tail = f->head + f->len;
	if (tail >= f->cap)
		tail -= f->cap;
	f->r[tail] = *r;
	f->len++;
	return 0;
}

const struct sim_receipt *
sim_rfifo_front(const struct sim_rfifo *f)
{
	return f->len > 0 ? &f->r[f->head] : NULL;
}

void
sim_rfifo_pop(struct sim_rfifo *f)
{
	if (f->len == 0)
		return;
	if (--f->len == 0)
		f->head = 0;
	else if (++f->head == f->cap)
		f->head = 0;
}

void
sim_rfifo_trim(struct sim_rfifo *f)
{
	if (f->len == 0 && f->cap > SIM_RFIFO_KEEP)
		sim_rfifo_clear(f);
}

void
sim_rfifo_clear(struct sim_rfifo *f)
{
	free(f->r);
	f->r = NULL;
	f->head = f->len = f->cap = 0;
}

int
sim_rfifo_merge(struct sim_rfifo *dst, struct sim_rfifo *src)
{
	struct sim_rfifo m = { NULL, 0, 0, 0 };
	uint32_t i = 0, j = 0;

	if (src->len == 0)
		return 0;
	if (dst->len == 0) {
		sim_rfifo_clear(dst);
		*dst = *src;
		src->r = NULL;
		src->head = src->len = src->cap = 0;
		return 0;
	}
	if (dst->len > UINT32_MAX - src->len ||
	    rfifo_grow(&m, dst->len + src->len) != 0)
		return -1;
	while (i < dst->len || j < src->len) {
		const struct sim_receipt *a = i < dst->len ?
		    &dst->r[(dst->head + i) % dst->cap] : NULL;
		const struct sim_receipt *b = j < src->len ?
		    &src->r[(src->head + j) % src->cap] : NULL;

		/* Ties keep dst's first: it was there before. */
		if (b == NULL || (a != NULL && a->due_ms <= b->due_ms)) {
			m.r[m.len++] = *a;
			i++;
		} else {
			m.r[m.len++] = *b;
			j++;
		}
	}
	sim_rfifo_clear(dst);
	sim_rfifo_clear(src);
	*dst = m;
	return 0;
}
