/*
 * The pass-through path for submit_sm. Checks, in order: bound, account
 * window (ESME_RMSGQFUL), account TPS (ESME_RTHROTTLED), source address
 * (ESME_RINVSRCADR), storage health (statuses.storage_down when the
 * database is unreachable, ESME_RTHROTTLED when its queue is full), route
 * (statuses.no_route / statuses.links_down). The PDU then goes down byte
 * for byte (only the sequence number changes). The SMSC's status comes
 * back up unchanged; on ESME_ROK the gateway mints its own message id,
 * commits the mapping, and only in that commit's callback answers the
 * ESME. A downstream timeout answers statuses.response_timeout, a lost
 * session statuses.session_lost; neither records anything.
 */
#ifndef GW_PROXY_H
#define GW_PROXY_H

#include "gateway/downstream.h"
#include "gateway/upstream.h"

/* A submit_sm from a bound ESME (req borrowed for the call). */
void gw_proxy_submit(struct gw_esme *e, const struct smpp_scan *req);
/* The end of a submit_sm sent down on one of link's sessions. */
void gw_proxy_down_response(struct gw_link_rt *l, struct smpp_session *s,
    enum smpp_outcome out, const struct smpp_scan *resp, void *ctx);

#endif
