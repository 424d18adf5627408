/*
 * Helpers over the shared daemon types (ctx.h): configuration generation
 * references, counters, token buckets, the account table and clocks.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ctx.h"
#include "gateway/hash.h"

const double gw_lat_bounds_us[GW_LAT_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 50000, 250000, 1000000,
};

struct gw_gen *
gw_gen_hold(struct gw_gen *g)
{
	g->refs++;
	return g;
}

void
gw_gen_release(struct gw_gen *g)
{
	if (g == NULL || --g->refs > 0)
		return;
	gw_config_free(g->cfg);
	free(g->links);
	free(g);
}

void
gw_status_count(struct gw_status_counts *c, uint32_t status)
{
	for (size_t i = 0; i < GW_STATUS_SLOTS; i++) {
		if (c->count[i] != 0 && c->status[i] == status) {
			c->count[i]++;
			return;
		}
		if (c->count[i] == 0) {
			c->status[i] = status;
			c->count[i] = 1;
			return;
		}
	}
	c->other++;
}

void
gw_latency_add(struct gw_latency *l, int64_t us)
{
	size_t i = 0;

	while (i < GW_LAT_BUCKETS && (double)us > gw_lat_bounds_us[i])
		i++;
	l->bucket[i]++;
	l->count++;
	l->sum_s += (double)us / 1e6;
}

bool
gw_bucket_take(struct gw_bucket *b, uint32_t rate, int64_t now_ms)
{
	if (rate == 0)
		return true;
	if (b->last_ms == 0) {
		b->tokens = rate;
		b->last_ms = now_ms;
	}
	b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
	b->last_ms = now_ms;
	if (b->tokens > rate)
		b->tokens = rate;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

static unsigned
name_hash(const char *s)
{
	unsigned h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h % GW_ACCT_BUCKETS;
}

struct gw_acct *
gw_acct_get(struct gw_ctx *ctx, const char *name, bool create)
{
	unsigned h = name_hash(name);
	struct gw_acct *a;

	for (a = ctx->accts[h]; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	if (!create || strlen(name) >= sizeof(a->name) ||
	    (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	memcpy(a->name, name, strlen(name) + 1);
	a->qstate = GW_Q_UNKNOWN;
	a->ctx = ctx;
	a->next = ctx->accts[h];
	ctx->accts[h] = a;
	return a;
}

int64_t
gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
gw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
gw_mono_ms(void)
{
	return gw_mono_us() / 1000;
}

static size_t
hint_slot(const char *id)
{
	return gw_fnv1a(GW_FNV1A_INIT, id) % GW_HINT_SLOTS;
}

void
gw_hint_put(struct gw_ctx *ctx, const char *gw_id, uint64_t serial)
{
	struct gw_hint *h;
	size_t n = strlen(gw_id);

	if (ctx->hints == NULL || n >= sizeof(h->gw_id))
		return;
	h = &ctx->hints[hint_slot(gw_id)];
	if (strcmp(h->gw_id, gw_id) != 0 || h->esme_serial != serial) {
		h->mark = 0;
		h->resp_ms = 0;
	}
	memcpy(h->gw_id, gw_id, n + 1);
	h->esme_serial = serial;
}

void
gw_hint_mark(struct gw_ctx *ctx, const char *gw_id, uint64_t serial,
    uint64_t mark)
{
	struct gw_hint *h;
	size_t n = strlen(gw_id);

	if (ctx->hints == NULL || n >= sizeof(h->gw_id))
		return;
	h = &ctx->hints[hint_slot(gw_id)];
	memcpy(h->gw_id, gw_id, n + 1);
	h->esme_serial = serial;
	h->mark = mark;
	h->resp_ms = gw_mono_ms();
}

const struct gw_hint *
gw_hint_find(const struct gw_ctx *ctx, const char *gw_id)
{
	const struct gw_hint *h;

	if (ctx->hints == NULL)
		return NULL;
	h = &ctx->hints[hint_slot(gw_id)];
	return strcmp(h->gw_id, gw_id) == 0 ? h : NULL;
}
