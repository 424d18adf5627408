/*
 * Recent id mappings, so the receipt of a message this process sent a
 * moment ago is mapped without a storage round trip (a find is a third
 * of the storage jobs of a message with a receipt; the storage worker
 * is what bounds the gateway's rate).
 *
 * A hint, never the truth: storage stays the record. A direct-mapped
 * table of GW_RCACHE_SLOTS entries keyed by (link key, SMSC id folded
 * as db_smsc_id_key folds it): a receipt whose id has another form
 * (decimal of a hex id, say), an entry pushed out by a newer one or
 * older than GW_RCACHE_MAX_AGE_MS (or half of storage.open_retention,
 * after which the purge may have taken the mapping), or a restart: all
 * go to storage as before.
 *
 * An entry is PENDING from the moment its mapping is queued to storage
 * until that write's callback. A receipt that meets a pending entry
 * waits on it (it would otherwise go to storage behind the same write):
 * on success it is mapped from the entry, after the ESME's
 * submit_sm_resp was queued; on failure it goes to storage.
 *
 * A receipt that storage did not find either may have come before the
 * SMSC's submit_sm_resp (some SMSCs send it first). It can park on the
 * entry its mapping will take (EXPECTED) for a while: when that mapping
 * is queued the entry turns PENDING and the receipt waits on the write
 * like any other, instead of asking storage again after a blind delay.
 *
 * Agreement with storage's choice (db/store.h: among rows of one id the
 * open and newest): a newer mapping of the same key replaces the entry
 * (a pending one is marked stale instead and its waiters then go to
 * storage); a final receipt removes the entry.
 *
 * Loop thread only. The table is owned by gw_ctx (ctx->rcache), made
 * on first use and freed by gw_rcache_free.
 */
#ifndef GW_RCACHE_H
#define GW_RCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "gateway/msgid.h"

#define GW_RCACHE_SLOTS		16384
#define GW_RCACHE_MAX_AGE_MS	(10 * 60 * 1000)

struct gw_ctx;
struct gw_rcache;

/* A mapping as a receipt needs it. */
struct gw_rcache_hit {
	char	gateway_id[GW_MSGID_MAX_LEN + 1];
	char	account[DB_NAME_MAX + 1];
};

/*
 * A waiting receipt: the owner (gateway/dlr.c) embeds it; resume runs
 * once, with the hit, or with NULL (go to storage).
 */
struct gw_rcache_wait {
	struct gw_rcache_wait	*next;
	void			(*resume)(struct gw_rcache_wait *w,
				    const struct gw_rcache_hit *hit);
	uint64_t		 arrival;	/* set by the owner, rising
						   with each receipt: waiters
						   resume lowest first */
};

/* m's mapping is being queued to storage (m->link is the link key). */
void gw_rcache_pending(struct gw_ctx *ctx, const struct db_idmap *m);

/* The write queued for (link, smsc_id, gateway_id) ended: committed or
 * not. Resumes the receipts waiting on it. */
void gw_rcache_done(struct gw_ctx *ctx, const char *link,
    const char *smsc_id, const char *gateway_id, bool committed);

enum gw_rcache_result { GW_RCACHE_MISS, GW_RCACHE_HIT, GW_RCACHE_WAIT };

/* Looks (link, smsc_id) up: HIT fills *hit; WAIT queued w (its resume
 * runs later); MISS: ask storage. */
enum gw_rcache_result gw_rcache_lookup(struct gw_ctx *ctx, const char *link,
    const char *smsc_id, struct gw_rcache_hit *hit, struct gw_rcache_wait *w);

/* Parks w on the entry (link, smsc_id)'s mapping will take, for a
 * receipt storage did not find: when that mapping is queued, w waits on
 * its write, and resume gets the hit once it is committed; NULL when the
 * write failed or another id's mapping took the entry. false: the entry
 * holds another id's write or parked receipts (w is not parked). The
 * owner bounds the wait with a timer and then calls gw_rcache_unexpect. */
bool gw_rcache_expect(struct gw_ctx *ctx, const char *link,
    const char *smsc_id, struct gw_rcache_wait *w);

/* The timer of a parked w ran out: true when w was taken off the entry
 * (its mapping never came); false when the mapping came meanwhile and w
 * waits on its write (it is resumed then, leave it). */
bool gw_rcache_unexpect(struct gw_ctx *ctx, const char *link,
    const char *smsc_id, struct gw_rcache_wait *w);

/* A final receipt mapped (link, smsc_id) to gateway_id: drop the entry. */
void gw_rcache_forget(struct gw_ctx *ctx, const char *link,
    const char *smsc_id, const char *gateway_id);

void gw_rcache_free(struct gw_ctx *ctx);

#endif
