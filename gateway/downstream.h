/*
 * Downstream: the SMSC links. Each configured link runs `sessions`
 * reconnecting client sessions (smpp/connector.h: bind, enquire_link,
 * backoff with jitter, rebind). The proxy asks for a bound session with
 * window room; requests from the SMSC (receipts, MO) go to gateway/dlr.
 * Links are made once at start from the startup configuration; a reload
 * changes routes and accounts, not links (a changed link needs a restart,
 * and the reload says so in its log line).
 *
 * Return convention: 0 / -1 (logged).
 */
#ifndef GW_DOWNSTREAM_H
#define GW_DOWNSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/ctx.h"
#include "gateway/router.h"
#include "smpp/session.h"

struct gw_submit;

struct gw_dsess {
	struct gw_link_rt	*link;
	struct smpp_connector	*conn;		/* NULL once freed */
	struct smpp_session	*sess;		/* bound session, else NULL */
	unsigned		 idx;
	uint64_t		 epoch;		/* +1 per session closed */
	bool			 live;		/* a session reported state
						 * and has not closed yet */
};

/* A request from an SMSC session that we answer later (receipts, MO):
 * the answer is dropped if that session is gone by then (the SMSC then
 * sends it again, which is the safe side). */
struct gw_smsc_req {
	struct gw_dsess		*d;
	struct smpp_session	*s;
	uint64_t		 epoch;
	struct smpp_req_ref	 ref;
};
void gw_smsc_req_init(struct gw_smsc_req *r, struct gw_dsess *d,
    struct smpp_session *s, const struct smpp_scan *req);
void gw_smsc_reply(const struct gw_smsc_req *r, uint32_t status);

struct gw_link_rt {
	struct gw_ctx		*ctx;
	struct gw_link		 cfg;		/* startup copy (password
						 * wiped on free) */
	struct gw_dsess		*dsess;
	uint32_t		 n_dsess;
	uint32_t		 n_bound;
	unsigned		 rr;
	struct gw_bucket	 tps;
	/* submits routed here while every bound session was full (or the
	 * TPS cap spent): served in order as responses free the window,
	 * bounded by wait_max; owned by gateway/proxy */
	struct gw_submit	*wait_head, *wait_tail;
	uint32_t		 n_wait, wait_max;
	struct event		*wait_timer;
	/* counters */
	uint64_t		 binds, unbinds;
	uint64_t		 submits_sent;
	struct gw_status_counts	 resp;
	uint64_t		 timeouts, lost;
	uint64_t		 receipts, mo;
	uint64_t		 in_flight;
};

/* Makes and starts every link of ctx->gen->cfg into ctx->links. */
int gw_downstream_start(struct gw_ctx *ctx);
/* A bound session of link with window room and TPS budget, or NULL;
 * take: spend a TPS token (when the message is really going). */
struct smpp_session *gw_link_session(struct gw_link_rt *l, bool take);
/* DOWN (nothing bound), FULL (bound, no room or budget now) or READY. */
enum gw_link_use gw_link_use(struct gw_link_rt *l);
/* Unbinds every session and stops reconnecting (SIGTERM). */
void gw_downstream_stop(struct gw_ctx *ctx);
/* Sessions still bound, and sessions still open (shutdown waits for 0:
 * the connector does not say whether a last closed callback follows its
 * free, so sessions are counted from their first state change). */
uint32_t gw_downstream_bound(const struct gw_ctx *ctx);
uint32_t gw_downstream_live(const struct gw_ctx *ctx);
/* Frees the link structs (after stop and the loop is done). */
void gw_downstream_free(struct gw_ctx *ctx);

#endif
