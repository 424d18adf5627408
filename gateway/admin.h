/*
 * Admin HTTP (evhttp, its own listener; keep it on 127.0.0.1):
 *   GET /metrics  Prometheus text format: per account binds, submits by
 *                 status, receipts, MO, queue depth, in flight, submit
 *                 latency histogram; per link bound sessions, responses
 *                 by status, timeouts, lost sessions, receipts, MO, in
 *                 flight; storage batches, sizes and commit latency.
 *   GET /status   JSON (jansson): version, uptime, config generation,
 *                 binds per account, links and their sessions' state.
 * Anything else: 404 with a JSON body.
 *
 * Return convention: 0 / -1 (logged).
 */
#ifndef GW_ADMIN_H
#define GW_ADMIN_H

#include "gateway/ctx.h"

int gw_admin_start(struct gw_ctx *ctx);
void gw_admin_stop(struct gw_ctx *ctx);

#endif
