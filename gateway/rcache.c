/*
 * Recent id mappings for receipts (see rcache.h).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/ctx.h"
#include "gateway/hash.h"
#include "gateway/rcache.h"

/* EXPECTED: no mapping yet, receipts parked on the key (waiters). */
enum slot_state { SLOT_EMPTY, SLOT_PENDING, SLOT_COMMITTED, SLOT_EXPECTED };

struct slot {
	char			 link[DB_NAME_MAX + 1];
	char			 folded[DB_ID_MAX + 1];
	struct gw_rcache_hit	 map;
	int64_t			 born_ms;	/* monotonic */
	uint8_t			 state;		/* enum slot_state */
	bool			 stale;		/* pending, and a newer mapping
						 * of its key came */
	struct gw_rcache_wait	*waiters;	/* pending or expected */
};

struct gw_rcache {
	struct slot		 slots[GW_RCACHE_SLOTS];
};

static size_t
slot_of(const char *link, const char *folded)
{
	/* a byte no name holds between the two, so (ab, c) != (a, bc) */
	return gw_fnv1a(gw_fnv1a(gw_fnv1a(GW_FNV1A_INIT, link), "\377"),
	    folded) % GW_RCACHE_SLOTS;
}

/* The slot of (link, smsc_id) with the folded id in folded; NULL when the
 * id cannot be a key or the table cannot be had. */
static struct slot *
find_slot(struct gw_ctx *ctx, const char *link, const char *smsc_id,
    struct db_smsc_key *key, bool make)
{
	if (strlen(link) > DB_NAME_MAX ||
	    db_smsc_id_key(smsc_id, key) != DB_OK)
		return NULL;
	if (ctx->rcache == NULL) {
		/* calloc'ed pages stay untouched (no RSS) until used */
		if (!make || (ctx->rcache = calloc(1, sizeof(*ctx->rcache))) ==
		    NULL)
			return NULL;
	}
	return &ctx->rcache->slots[slot_of(link, key->folded)];
}

static bool
same_key(const struct slot *s, const char *link, const char *folded)
{
	return strcmp(s->folded, folded) == 0 && strcmp(s->link, link) == 0;
}

/* The slot holding (link, smsc_id) in any state but empty, or NULL. */
static struct slot *
slot_holding(struct gw_ctx *ctx, const char *link, const char *smsc_id)
{
	struct db_smsc_key key;
	struct slot *s;

	if ((s = find_slot(ctx, link, smsc_id, &key, false)) == NULL ||
	    s->state == SLOT_EMPTY || !same_key(s, link, key.folded))
		return NULL;
	return s;
}

/* Adds w to s's waiters by arrival: they are resumed in the order their
 * receipts came from the SMSC, so an ENROUTE and then a DELIVRD for one
 * message go up in that order (Kannel drops an intermediate receipt
 * after the final), even when the first came back from a storage lookup
 * after the second began to wait here. */
static void
add_waiter(struct slot *s, struct gw_rcache_wait *w)
{
	struct gw_rcache_wait **pp;

	for (pp = &s->waiters; *pp != NULL && (*pp)->arrival <= w->arrival;
	    pp = &(*pp)->next)
		;
	w->next = *pp;
	*pp = w;
}

/* Hands every waiter of s to resume(hit), in order, and empties the
 * list. */
static void
resume_all(struct slot *s, const struct gw_rcache_hit *hit)
{
	struct gw_rcache_wait *w = s->waiters, *next;

	s->waiters = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		w->next = NULL;
		w->resume(w, hit);
	}
}

void
gw_rcache_pending(struct gw_ctx *ctx, const struct db_idmap *m)
{
	struct db_smsc_key key;
	struct slot *s;

	if (strlen(m->gateway_id) > GW_MSGID_MAX_LEN ||
	    strlen(m->account) > DB_NAME_MAX ||
	    (s = find_slot(ctx, m->link, m->smsc_id, &key, true)) == NULL)
		return;
	if (s->state == SLOT_PENDING) {
		/* Never push out a write in flight: its receipts wait on
		 * it. A newer mapping of the same key makes it stale:
		 * storage then picks between the two. */
		if (same_key(s, m->link, key.folded))
			s->stale = true;
		return;
	}
	if (s->state == SLOT_EXPECTED && !same_key(s, m->link, key.folded)) {
		/* Another id's parked receipts give way (resumed without a
		 * hit: their owners' timers decide): a mapping in hand is
		 * worth more than a hope. */
		s->state = SLOT_EMPTY;
		resume_all(s, NULL);
	}
	/* Receipts parked on this key (EXPECTED) now wait on this write. */
	if (s->state != SLOT_EXPECTED)
		s->waiters = NULL;
	memcpy(s->link, m->link, strlen(m->link) + 1);
	memcpy(s->folded, key.folded, strlen(key.folded) + 1);
	memcpy(s->map.gateway_id, m->gateway_id, strlen(m->gateway_id) + 1);
	memcpy(s->map.account, m->account, strlen(m->account) + 1);
	s->born_ms = gw_mono_ms();
	s->state = SLOT_PENDING;
	s->stale = false;
}

void
gw_rcache_done(struct gw_ctx *ctx, const char *link, const char *smsc_id,
    const char *gateway_id, bool committed)
{
	struct gw_rcache_hit hit;
	struct slot *s;
	bool usable;

	if ((s = slot_holding(ctx, link, smsc_id)) == NULL ||
	    s->state != SLOT_PENDING ||
	    strcmp(s->map.gateway_id, gateway_id) != 0)
		return;
	usable = committed && !s->stale;
	hit = s->map;
	s->state = usable ? SLOT_COMMITTED : SLOT_EMPTY;
	resume_all(s, usable ? &hit : NULL);
}

/* Beyond this age storage may have purged the mapping (open_retention;
 * half of it: the purge reads the wall clock, we the monotonic one). */
static int64_t
max_age_ms(const struct gw_ctx *ctx)
{
	int64_t open_ms = (int64_t)ctx->gen->cfg->storage.open_retention_s *
	    1000 / 2;

	return open_ms < GW_RCACHE_MAX_AGE_MS ? open_ms : GW_RCACHE_MAX_AGE_MS;
}

enum gw_rcache_result
gw_rcache_lookup(struct gw_ctx *ctx, const char *link, const char *smsc_id,
    struct gw_rcache_hit *hit, struct gw_rcache_wait *w)
{
	struct slot *s;

	/* Parked receipts do not make a mapping: the caller asks storage
	 * (and may park in turn, with a timer of its own). */
	if ((s = slot_holding(ctx, link, smsc_id)) == NULL ||
	    s->state == SLOT_EXPECTED)
		return GW_RCACHE_MISS;
	if (s->state == SLOT_PENDING) {
		add_waiter(s, w);
		return GW_RCACHE_WAIT;
	}
	if (gw_mono_ms() - s->born_ms > max_age_ms(ctx)) {
		/* storage may have purged it meanwhile: it decides */
		s->state = SLOT_EMPTY;
		return GW_RCACHE_MISS;
	}
	*hit = s->map;
	return GW_RCACHE_HIT;
}

bool
gw_rcache_expect(struct gw_ctx *ctx, const char *link, const char *smsc_id,
    struct gw_rcache_wait *w)
{
	struct db_smsc_key key;
	struct slot *s;

	if ((s = find_slot(ctx, link, smsc_id, &key, true)) == NULL)
		return false;
	if (s->state == SLOT_EXPECTED && same_key(s, link, key.folded)) {
		add_waiter(s, w);
		return true;
	}
	/* A write in flight, or another id's parked receipts, keep the
	 * slot; a committed mapping is only a hint and gives way. */
	if (s->state == SLOT_PENDING || s->state == SLOT_EXPECTED)
		return false;
	memcpy(s->link, link, strlen(link) + 1);
	memcpy(s->folded, key.folded, strlen(key.folded) + 1);
	s->state = SLOT_EXPECTED;
	s->stale = false;
	s->waiters = NULL;
	add_waiter(s, w);
	return true;
}

bool
gw_rcache_unexpect(struct gw_ctx *ctx, const char *link, const char *smsc_id,
    struct gw_rcache_wait *w)
{
	struct gw_rcache_wait **pp;
	struct slot *s;

	if ((s = slot_holding(ctx, link, smsc_id)) == NULL)
		return true;
	for (pp = &s->waiters; *pp != NULL && *pp != w; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return true;		/* not parked here any more */
	if (s->state == SLOT_PENDING)
		return false;		/* its mapping is being written */
	*pp = w->next;
	w->next = NULL;
	if (s->waiters == NULL)
		s->state = SLOT_EMPTY;
	return true;
}

void
gw_rcache_forget(struct gw_ctx *ctx, const char *link, const char *smsc_id,
    const char *gateway_id)
{
	struct slot *s;

	if ((s = slot_holding(ctx, link, smsc_id)) != NULL &&
	    s->state == SLOT_COMMITTED &&
	    strcmp(s->map.gateway_id, gateway_id) == 0)
		s->state = SLOT_EMPTY;
}

void
gw_rcache_free(struct gw_ctx *ctx)
{
	if (ctx->rcache == NULL)
		return;
	/* Nobody may still wait: storage was closed first, so every
	 * pending write's callback ran. Resume to storage anyway rather
	 * than lose a receipt. */
	for (size_t i = 0; i < GW_RCACHE_SLOTS; i++)
		if (ctx->rcache->slots[i].waiters != NULL)
			resume_all(&ctx->rcache->slots[i], NULL);
	free(ctx->rcache);
	ctx->rcache = NULL;
}
