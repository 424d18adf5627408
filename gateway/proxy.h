/*
 * The pass-through path for submit_sm (and data_sm, the same way: the
 * ESME gets data_sm_resp with the gateway id). Checks, in order: bound, account
 * window (ESME_RMSGQFUL), account TPS (ESME_RTHROTTLED), source address
 * (ESME_RINVSRCADR), storage health (statuses.storage_down when the
 * database is unreachable, ESME_RTHROTTLED when its queue is full), route
 * (statuses.no_route / statuses.links_down). When the routed link is
 * bound but every session's window is full (or its TPS cap spent), the
 * submit waits in the link's queue (at most window x sessions of them,
 * beyond: ESME_RTHROTTLED) and goes in order as responses free room; one
 * that waits longer than the link's response timeout is answered
 * statuses.response_timeout, and when the link loses its last session the
 * waiting ones get statuses.links_down (never sent, never hanging).
 * The PDU then goes down byte
 * for byte (only the sequence number changes). The SMSC's status comes
 * back up unchanged; on ESME_ROK the gateway mints its own message id,
 * commits the mapping, and only in that commit's callback answers the
 * ESME. A downstream timeout answers statuses.response_timeout, a lost
 * session statuses.session_lost; neither records anything.
 * A submit the account's secure rule marks (sec_marked, after the same
 * checks up to storage health) never goes down: its gateway id is minted
 * at once and the secure service answers after the sealed commit.
 */
#ifndef GW_PROXY_H
#define GW_PROXY_H

#include "gateway/downstream.h"
#include "gateway/upstream.h"

/* A submit_sm from a bound ESME (req borrowed for the call). */
void gw_proxy_submit(struct gw_esme *e, const struct smpp_scan *req);
/*
 * A submit_sm the gateway sends itself (secure notices, one-time codes):
 * raw (malloc'd, taken) is routed for dest by the routes for any account,
 * waits like an ESME's when the link is full, and done gets the SMSC's
 * command_status (or statuses.* when the gateway gave up). Nothing is
 * recorded for its receipt: send it with registered_delivery 0.
 */
typedef void (*gw_local_done)(void *arg, uint32_t status);
void gw_proxy_local(struct gw_ctx *ctx, const char *dest, uint8_t *raw,
    size_t len, gw_local_done done, void *arg);
/*
 * Another request about a message (cancel_sm, replace_sm: raw, malloc'd,
 * taken) to the SMSC that has it: on a session with window room of any
 * link whose smsc key is smsc, at once or not at all (ESME_RTHROTTLED
 * when such a link is bound but full, statuses.links_down when none is
 * bound). done as for gw_proxy_local.
 */
void gw_proxy_to_smsc(struct gw_ctx *ctx, const char *smsc, uint8_t *raw,
    size_t len, gw_local_done done, void *arg);
/* Sends what waits for link as far as room allows (called when a
 * session binds or goes, and from the link's timer). */
void gw_proxy_link_service(struct gw_link_rt *l);
/* The end of a submit_sm sent down on one of link's sessions. */
void gw_proxy_down_response(struct gw_link_rt *l, struct smpp_session *s,
    enum smpp_outcome out, const struct smpp_scan *resp, void *ctx);

#endif
