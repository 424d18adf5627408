/*
 * Deliveries to ESMEs (receipts and MO).
 *
 * While a receiver (RX/TRX session) of the account is bound, every new
 * delivery goes straight up as window room allows: first in a FIFO wait
 * list in memory, sent the moment a receiver has room. The SMSC's
 * deliver_sm stays unanswered meanwhile, so the SMSC's own window throttles
 * it to the ESME's pace (backpressure) instead of the durable queue
 * growing. Only what cannot go up goes to the durable queue (db pending
 * table), and the SMSC is answered ROK after that commit:
 *   - nothing of the account is bound for receiving,
 *   - the ESME answered a deliver_sm with an error, or its session closed
 *     first,
 *   - a delivery waited GW_DELIVER_WAIT_MS for room (so the SMSC is
 *     answered well within its response timeout), or the wait list holds
 *     GW_DELIVER_WAIT_MAX already (memory bound; in practice the SMSC
 *     windows bound it first).
 * Beyond the account's pending_max the SMSC gets a transient error.
 *
 * The durable queue is drained oldest first while a receiver is bound
 * (from its bind on), interleaved one for one with new deliveries when
 * both wait for room. Order between the backlog and new deliveries is not
 * kept, on purpose: SMPP gives no order between deliver_sm (a window of
 * several is answered in any order, sessions are independent), each
 * receipt names its own message, and holding new receipts behind an old
 * backlog is what let the backlog outgrow the drain. The backlog itself
 * goes up in queue order ("delivered in order when one binds"). A queued
 * row is deleted only after the ESME's ROK; a row the ESME refused stays
 * and is tried again after the next receiver bind.
 *
 * A receipt never overtakes its submit_sm_resp: when it would go up on
 * another session than the one that submitted the message (a TX submitter
 * and an RX receiver, or a TRX session without window room) while that
 * session has not yet written the response to its socket (counted in
 * bytes: gw_esme_written), it waits until it has, at most
 * GW_DELIVER_RESP_WAIT_MS. Written is not yet read: an ESME may read
 * each socket in a thread of its own (Kannel does, and matches receipts
 * only once its TX thread has handled the response), so such a receipt
 * also waits until the account's receipt_grace has passed since the
 * response was queued. A receipt that comes later is not delayed. The
 * SMSC's deliver_sm stays unanswered meanwhile: beyond its deliver
 * window per grace, receipts wait at the SMSC and come past their grace,
 * so the rate holds and receipts come up to a grace later.
 *
 * Ownership: gw_deliver takes pdu (malloc'd) and frees it.
 */
#ifndef GW_DELIVER_H
#define GW_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/store.h"
#include "gateway/config.h"
#include "gateway/upstream.h"

#define GW_DELIVER_WAIT_MS	5000
#define GW_DELIVER_WAIT_MAX	20000	/* per account */
#define GW_DELIVER_RESP_WAIT_MS	GW_RECEIPT_GRACE_MAX_MS

/* ok: delivered or queued (answer the SMSC ROK); !ok: neither (answer
 * a transient error so the SMSC retries). May run inside gw_deliver. */
typedef void (*gw_deliver_done)(void *arg, bool ok);

/* prefer: the serial of the session that submitted the message, tried
 * first (0: any). */
void gw_deliver(struct gw_ctx *ctx, struct gw_acct *a,
    enum db_pending_kind kind, uint8_t *pdu, size_t len, uint64_t prefer,
    gw_deliver_done done, void *arg);
/* A receipt: as gw_deliver, preferring the session that submitted the
 * message and, on another, waiting for its submit_sm_resp as above, and
 * grace_ms after it; hint (gw_hint_find; NULL: unknown) is only read
 * during the call. */
void gw_deliver_receipt(struct gw_ctx *ctx, struct gw_acct *a,
    uint8_t *pdu, size_t len, const struct gw_hint *hint, uint32_t grace_ms,
    gw_deliver_done done, void *arg);
/* A receiver of a bound: start draining its account's queue. */
void gw_deliver_receiver_bound(struct gw_ctx *ctx, struct gw_acct *a);
/* A session of a closed: what waits for a receiver that is no longer
 * there goes to the queue. */
void gw_deliver_session_gone(struct gw_ctx *ctx, struct gw_acct *a);
/* The end of a deliver_sm we sent to an ESME (ctx from gw_deliver). */
void gw_deliver_up_response(struct gw_esme *e, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx);
/* Shutdown: what still waits in memory is given up (the SMSC gets a
 * transient error, so it sends it again); frees the account's state. */
void gw_deliver_acct_free(struct gw_acct *a);

#endif
