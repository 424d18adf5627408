/*
 * query_sm, cancel_sm and replace_sm from ESMEs: requests about a message
 * already submitted, named by the gateway id its submit_sm_resp gave.
 * Each starts with one storage lookup of that id in the id map
 * (db/store.h). Only the account that submitted a message may ask about
 * it: an unknown id, one purged (storage.retention, open_retention) or
 * another account's gets the command's failure status alike
 * (ESME_RQUERYFAIL, ESME_RCANCELFAIL, ESME_RREPLACEFAIL); an empty id
 * too (ESME_RINVMSGID for query_sm), so cancel_sm by addresses alone is
 * not done. Storage down or full: ESME_RSYSERR (transient).
 *
 * query_sm is answered here, without asking the SMSC (many do not
 * implement it; what sealgate knows of a message is what its receipts
 * said): message_state of the final receipt that closed the mapping,
 * with its time as final_date; ENROUTE while none came (or none was
 * asked for).
 *
 * cancel_sm and replace_sm go to the SMSC that has the message, on a
 * link with its smsc key, with the SMSC's id in place of ours and every
 * other field unchanged; the SMSC's status comes back unchanged.
 */
#ifndef GW_MSGOPS_H
#define GW_MSGOPS_H

#include "gateway/upstream.h"
#include "smpp/scan.h"

/* Answers req (query_sm, cancel_sm or replace_sm from e, bound TX or
 * TRX) now or once storage and the SMSC have answered; e is held
 * meanwhile. */
void gw_msgop(struct gw_esme *e, const struct smpp_scan *req);

/* The command ids counted in ctx->msgops_ok and msgops_failed, in their
 * order (query_sm, cancel_sm, replace_sm). */
extern const uint32_t gw_msgop_ids[GW_MSGOPS];

#endif
