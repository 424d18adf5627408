/*
 * Deliveries to ESMEs (receipts and MO): straight to a bound RX/TRX
 * session of the account when its durable queue is empty, else through
 * the queue (db pending table) in order. The SMSC is answered only once
 * a delivery is safe: the ESME answered ESME_ROK, or the PDU is committed
 * to the queue. A queued row is deleted only after the ESME's ROK. The
 * queue is drained when a receiver binds (and after each round of
 * answers), oldest first; a row the ESME refused stays for the next bind.
 *
 * Ownership: gw_deliver takes pdu (malloc'd) and frees it.
 */
#ifndef GW_DELIVER_H
#define GW_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/store.h"
#include "gateway/upstream.h"

/* ok: delivered or queued (answer the SMSC ROK); !ok: neither (answer
 * a transient error so the SMSC retries). */
typedef void (*gw_deliver_done)(void *arg, bool ok);

/* prefer: the serial of the session to try first (0: any). */
void gw_deliver(struct gw_ctx *ctx, struct gw_acct *a,
    enum db_pending_kind kind, uint8_t *pdu, size_t len, uint64_t prefer,
    gw_deliver_done done, void *arg);
/* A receiver of a bound: start draining its account's queue. */
void gw_deliver_receiver_bound(struct gw_ctx *ctx, struct gw_acct *a);
/* The end of a deliver_sm we sent to an ESME (ctx from gw_deliver). */
void gw_deliver_up_response(struct gw_esme *e, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx);

#endif
