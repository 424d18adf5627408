/*
 * query_sm from ESMEs, answered from the gateway's own record of the
 * message (the id map, db/store.h), without asking the SMSC: many SMSCs
 * do not implement query_sm, and what the gateway knows of a message is
 * what its receipts said. message_state is the final state of the
 * receipt that closed the mapping, with its time as final_date; while no
 * final receipt came (or none was asked for) it is ENROUTE. Only the
 * account that submitted a message may query it: any other id, unknown,
 * purged (storage.retention, open_retention) or another account's, is
 * answered ESME_RQUERYFAIL alike. Storage down or full: ESME_RSYSERR
 * (transient).
 */
#ifndef GW_QUERY_H
#define GW_QUERY_H

#include "gateway/upstream.h"
#include "smpp/scan.h"

/* Answers req (a query_sm from e, bound TX or TRX) now or once storage
 * has answered; e is held meanwhile. */
void gw_query_sm(struct gw_esme *e, const struct smpp_scan *req);

#endif
