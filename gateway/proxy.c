/*
 * submit_sm pass-through (see proxy.h). One gw_submit per message in
 * flight: made when the PDU goes down, freed once the ESME is answered.
 * It holds a reference to the ESME, so a session that closes meanwhile
 * only drops the answer; the SMSC's response is still handled (and a
 * ROK still recorded, so its receipt can be queued for the account).
 */
#include <stdlib.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <string.h>

#include "db/store.h"
#include "gateway/proxy.h"
#include "gateway/rcache.h"
#include "gateway/router.h"
#include "secure/secure.h"
#include "smpp/log.h"

struct gw_submit {
	struct gw_submit	*next;		/* link wait queue */
	uint8_t			*raw;		/* while waiting: the PDU */
	size_t			 len;
	int64_t			 queued_ms;
	struct gw_esme		*esme;		/* held; NULL: a local
						 * submit (notices, codes) */
	gw_local_done		 done;		/* local submits */
	void			*done_arg;
	struct smpp_req_ref	 ref;
	struct gw_link_rt	*link;
	int64_t			 t0_us;
	int64_t			 sent_us;	/* went down (mono) */
	int64_t			 down_us;	/* waited for the SMSC */
	char			 gw_id[GW_MSGID_MAX_LEN + 1];
	struct db_idmap		 map;
};

/* Answers the ESME and ends the submit. */
static void
finish(struct gw_submit *sub, uint32_t status, const char *id)
{
	struct gw_esme *e = sub->esme;
	struct gw_acct *a;
	int64_t total;

	if (e == NULL) {
		sub->link->ctx->submits_in_flight--;
		sub->done(sub->done_arg, status);
		OPENSSL_clear_free(sub->raw, sub->len);
		free(sub);
		return;
	}
	a = e->acct;
	gw_esme_reply(e, sub->ref, status, id);
	gw_status_count(&a->submits, status);
	total = gw_mono_us() - sub->t0_us;
	gw_latency_add(&a->submit_latency, total);
	gw_latency_add(&a->submit_added, total - sub->down_us);
	a->in_flight--;
	e->owed--;
	e->ctx->submits_in_flight--;
	gw_esme_release(e);
	OPENSSL_clear_free(sub->raw, sub->len);
	free(sub);
}

/* Refuses before anything went down. */
static void
refuse(struct gw_esme *e, struct smpp_req_ref ref, uint32_t status,
    const char *why)
{
	smpp_log(SMPP_LOG_DEBUG, e->id, "proxy", "refused",
	    "seq=%u status=%s why=%s", ref.seq, smpp_status_name(status),
	    why);
	gw_status_count(&e->acct->submits, status);
	gw_esme_reply(e, ref, status, NULL);
}

/*
 * Whether storage is stalled: the transaction every put waits on has run
 * storage.stall (1 s) or longer, which means a hung database (a MariaDB
 * that stopped answering is only given up after storage.timeout, and
 * once more on the retry). New submits are then refused with
 * statuses.storage_down before they go down, rather than sent to an SMSC
 * while their mappings cannot be written. Commits take milliseconds, a
 * purge chunk of 10,000 rows about 0.1 s. Logs when a stall is first seen
 * and when a submit finds it over; counts the refusals.
 */
static bool
storage_stalled(struct gw_ctx *ctx, const struct db_store_stats *ds)
{
	uint32_t stall_ms = ctx->gen->cfg->storage.stall_ms;

	if (stall_ms == 0 || ds->stalled_ms < stall_ms) {
		if (ctx->storage_stalled) {
			ctx->storage_stalled = false;
			smpp_log(SMPP_LOG_WARN, "-", "proxy", "storage_resumed",
			    "refused=%llu", (unsigned long long)
			    (ctx->storage_stall_refused -
			    ctx->stall_refused_at));
		}
		return false;
	}
	if (!ctx->storage_stalled) {
		ctx->storage_stalled = true;
		ctx->stall_refused_at = ctx->storage_stall_refused;
		smpp_log(SMPP_LOG_WARN, "-", "proxy", "storage_stalled",
		    "ms=%llu", (unsigned long long)ds->stalled_ms);
	}
	ctx->storage_stall_refused++;
	return true;
}

static enum gw_link_use
link_usable(size_t li, void *arg)
{
	struct gw_gen *g = arg;

	return gw_link_use(g->links[li]);
}

static void
sent(struct gw_submit *sub)
{
	sub->sent_us = gw_mono_us();
	sub->link->submits_sent++;
	sub->link->in_flight++;
}

void
gw_proxy_link_service(struct gw_link_rt *l)
{
	const struct gw_statuses *st = &l->ctx->gen->cfg->statuses;
	int64_t now = gw_mono_ms();
	struct timeval tv = { 0, 10000 };
	struct gw_submit *sub;
	struct smpp_session *s;

	while ((sub = l->wait_head) != NULL) {
		uint32_t status = 0;

		if (sub->esme != NULL && sub->esme->sess == NULL)
			status = SMPP_RSYSERR;	/* its ESME left: not sent, so
						 * its retry makes no twin */
		else if (now - sub->queued_ms >
		    (int64_t)l->cfg.response_timeout_ms)
			status = st->response_timeout;
		else if (l->n_bound == 0)
			status = st->links_down;
		else if ((s = gw_link_session(l, true)) == NULL ||
		    smpp_session_send_raw(s, sub->raw, sub->len, sub) != 0)
			break;
		l->wait_head = sub->next;
		if (l->wait_head == NULL)
			l->wait_tail = NULL;
		l->n_wait--;
		if (status != 0) {
			finish(sub, status, NULL);
			continue;
		}
		OPENSSL_clear_free(sub->raw, sub->len);
		sub->raw = NULL;
		sent(sub);
	}
	/* responses wake the queue; the timer covers TPS refills and the
	 * waiting time limit */
	if (l->wait_head != NULL && !evtimer_pending(l->wait_timer, NULL))
		evtimer_add(l->wait_timer, &tv);
}

static void
on_secure_reply(void *arg, uint32_t status)
{
	struct gw_submit *sub = arg;

	if (status == SMPP_ROK)
		gw_hint_put(sub->esme->ctx, sub->gw_id, sub->esme->serial);
	finish(sub, status, status == SMPP_ROK ? sub->gw_id : NULL);
}

/* A marked message: the secure service stores it sealed and answers;
 * nothing goes down. The id is minted as for pass-through. */
static void
secure_submit(struct gw_esme *e, const struct smpp_scan *req,
    struct smpp_req_ref ref)
{
	struct gw_ctx *ctx = e->ctx;
	struct gw_submit *sub;

	if (ctx->sec == NULL) {
		refuse(e, ref, SMPP_RSYSERR, "secure_off");
		return;
	}
	if ((sub = calloc(1, sizeof(*sub))) == NULL) {
		refuse(e, ref, SMPP_RSYSERR, "no_memory");
		return;
	}
	if (gw_msgid_format(gw_msgid_next(&ctx->msgid, gw_now_ms()),
	    e->account->msgid_format, sub->gw_id, sizeof(sub->gw_id)) < 0) {
		free(sub);
		refuse(e, ref, SMPP_RSYSERR, "msgid");
		return;
	}
	sub->ref = ref;
	sub->t0_us = gw_mono_us();
	sub->esme = gw_esme_hold(e);
	e->owed++;
	e->acct->in_flight++;
	ctx->submits_in_flight++;
	sec_submit(ctx->sec, &e->account->secure, e->acct->name, sub->gw_id,
	    req, on_secure_reply, sub);
}

/* A request of the gateway's own for link, counted in flight until
 * finish() gives done its status; NULL on allocation failure. */
static struct gw_submit *
local_new(struct gw_link_rt *link, gw_local_done done, void *arg)
{
	struct gw_submit *sub;

	if ((sub = calloc(1, sizeof(*sub))) == NULL)
		return NULL;
	sub->link = link;
	sub->done = done;
	sub->done_arg = arg;
	sub->t0_us = gw_mono_us();
	link->ctx->submits_in_flight++;
	return sub;
}

void
gw_proxy_local(struct gw_ctx *ctx, const char *dest, uint8_t *raw,
    size_t len, gw_local_done done, void *arg)
{
	const struct gw_statuses *st = &ctx->gen->cfg->statuses;
	struct gw_link_rt *link;
	struct gw_submit *sub;
	struct smpp_session *down;
	enum gw_route_result rr;
	size_t li = 0;

	/* The PDU may carry a one-time code: every copy is wiped when
	 * freed (queued ESME PDUs too; a memset is cheap beside a send). */
	rr = gw_router_pick(ctx->gen->cfg, "", dest, &ctx->route_cursor,
	    link_usable, ctx->gen, &li);
	if (rr == GW_ROUTE_NONE || rr == GW_ROUTE_DOWN ||
	    (link = ctx->gen->links[li]) == NULL) {
		OPENSSL_clear_free(raw, len);
		done(arg, rr == GW_ROUTE_NONE ? st->no_route : st->links_down);
		return;
	}
	if ((rr == GW_ROUTE_WAIT && link->n_wait >= link->wait_max) ||
	    (sub = local_new(link, done, arg)) == NULL) {
		OPENSSL_clear_free(raw, len);
		done(arg, SMPP_RTHROTTLED);
		return;
	}
	if (rr == GW_ROUTE_WAIT) {
		sub->raw = raw;
		sub->len = len;
		sub->queued_ms = gw_mono_ms();
		if (link->wait_tail != NULL)
			link->wait_tail->next = sub;
		else
			link->wait_head = sub;
		link->wait_tail = sub;
		link->n_wait++;
		gw_proxy_link_service(link);
		return;
	}
	down = gw_link_session(link, true);
	if (down == NULL || smpp_session_send_raw(down, raw, len, sub) != 0) {
		OPENSSL_clear_free(raw, len);
		finish(sub, st->links_down, NULL);
		return;
	}
	OPENSSL_clear_free(raw, len);
	sent(sub);
}

void
gw_proxy_to_smsc(struct gw_ctx *ctx, const char *smsc, uint8_t *raw,
    size_t len, gw_local_done done, void *arg)
{
	const struct gw_statuses *st = &ctx->gen->cfg->statuses;
	struct smpp_session *down = NULL;
	struct gw_link_rt *link = NULL;
	struct gw_submit *sub;
	bool bound = false;

	for (size_t i = 0; i < ctx->n_links && down == NULL; i++) {
		link = ctx->links[i];
		if (strcmp(link->cfg.smsc, smsc) != 0)
			continue;
		bound |= link->n_bound > 0;
		down = gw_link_session(link, true);
	}
	if (down == NULL || (sub = local_new(link, done, arg)) == NULL) {
		/* bound but full: the ESME may try again shortly */
		free(raw);
		done(arg, bound ? SMPP_RTHROTTLED : st->links_down);
		return;
	}
	if (smpp_session_send_raw(down, raw, len, sub) != 0) {
		free(raw);
		finish(sub, st->links_down, NULL);
		return;
	}
	free(raw);
	sub->sent_us = gw_mono_us();
	link->in_flight++;	/* not a submit: submits_sent stays */
}

/* The end of a local submit: its status, nothing recorded. */
static void
local_response(struct gw_link_rt *l, enum smpp_outcome out,
    const struct smpp_scan *resp, struct gw_submit *sub)
{
	const struct gw_statuses *st = &l->ctx->gen->cfg->statuses;

	if (out == SMPP_OUT_TIMEOUT) {
		l->timeouts++;
		finish(sub, st->response_timeout, NULL);
		return;
	}
	if (out == SMPP_OUT_ABORTED) {
		l->lost++;
		finish(sub, st->session_lost, NULL);
		return;
	}
	gw_status_count(&l->resp, resp->hdr.status);
	finish(sub, resp->hdr.status, NULL);
}

void
gw_proxy_submit(struct gw_esme *e, const struct smpp_scan *req)
{
	struct gw_ctx *ctx = e->ctx;
	const struct gw_account *acc = e->account;
	const struct gw_statuses *st = &ctx->gen->cfg->statuses;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct db_store_stats ds;
	struct gw_submit *sub;
	struct smpp_session *down;
	/* data_sm addresses may be 64 octets; the map keeps DB_ADDR_MAX */
	char src[SMPP_ADDR65_MAX], dst[SMPP_ADDR65_MAX];
	enum gw_route_result rr;
	struct gw_link_rt *link;
	size_t li = 0;

	if (e->state != GW_ESME_BOUND) {
		gw_esme_reply(e, ref, SMPP_RINVBNDSTS, NULL);
		return;
	}
	if (ctx->draining) {
		refuse(e, ref, st->links_down, "draining");
		return;
	}
	if (e->owed >= acc->window) {
		refuse(e, ref, SMPP_RMSGQFUL, "window");
		return;
	}
	if (!gw_bucket_take(&e->acct->tps, acc->tps, gw_mono_ms())) {
		refuse(e, ref, SMPP_RTHROTTLED, "tps");
		return;
	}
	smpp_str_copy(src, sizeof(src), &req->src.addr);
	smpp_str_copy(dst, sizeof(dst), &req->dst.addr);
	if (!gw_account_source_allowed(acc, src)) {
		refuse(e, ref, SMPP_RINVSRCADR, "source_addr");
		return;
	}
	db_store_stats(ctx->store, &ds);
	if (!ds.connected) {
		refuse(e, ref, st->storage_down, "storage_down");
		return;
	}
	if (storage_stalled(ctx, &ds)) {
		refuse(e, ref, st->storage_down, "storage_stalled");
		return;
	}
	if (ds.in_flight >= ctx->gen->cfg->storage.queue_max) {
		refuse(e, ref, SMPP_RTHROTTLED, "storage_busy");
		return;
	}
	if (acc->secure.enabled &&
	    sec_marked(ctx->sec, &acc->secure, e->acct->name, req)) {
		secure_submit(e, req, ref);
		return;
	}
	rr = gw_router_pick(ctx->gen->cfg, e->acct->name, dst,
	    &ctx->route_cursor, link_usable, ctx->gen, &li);
	if (rr == GW_ROUTE_NONE) {
		refuse(e, ref, st->no_route, "no_route");
		return;
	}
	if (rr == GW_ROUTE_DOWN) {
		refuse(e, ref, st->links_down, "links_down");
		return;
	}
	link = ctx->gen->links[li];
	if (rr == GW_ROUTE_WAIT && link->n_wait >= link->wait_max) {
		refuse(e, ref, SMPP_RTHROTTLED, "link_queue_full");
		return;
	}
	if ((sub = calloc(1, sizeof(*sub))) == NULL) {
		refuse(e, ref, SMPP_RSYSERR, "no_memory");
		return;
	}
	sub->ref = ref;
	sub->link = link;
	sub->t0_us = gw_mono_us();
	memcpy(sub->map.source_addr, src, strnlen(src, DB_ADDR_MAX));
	memcpy(sub->map.dest_addr, dst, strnlen(dst, DB_ADDR_MAX));
	sub->map.registered_delivery = req->registered_delivery;
	if (rr == GW_ROUTE_WAIT) {
		if ((sub->raw = malloc(req->hdr.len)) == NULL) {
			free(sub);
			refuse(e, ref, SMPP_RSYSERR, "no_memory");
			return;
		}
		memcpy(sub->raw, req->raw, req->hdr.len);
		sub->len = req->hdr.len;
		sub->queued_ms = gw_mono_ms();
	}
	/* from here on finish() answers it, whatever happens */
	sub->esme = gw_esme_hold(e);
	e->owed++;
	e->acct->in_flight++;
	ctx->submits_in_flight++;
	if (rr == GW_ROUTE_WAIT) {
		if (link->wait_tail != NULL)
			link->wait_tail->next = sub;
		else
			link->wait_head = sub;
		link->wait_tail = sub;
		link->n_wait++;
		gw_proxy_link_service(link);
		return;
	}
	down = gw_link_session(link, true);
	if (down == NULL || smpp_session_send_raw(down, req->raw, req->hdr.len,
	    sub) != 0) {
		finish(sub, st->links_down, NULL);
		return;
	}
	sent(sub);
}

static void
on_put(void *arg, enum db_status dst, int64_t value)
{
	struct gw_submit *sub = arg;
	struct gw_ctx *ctx = sub->esme->ctx;
	char link[sizeof(sub->map.link)], smsc_id[sizeof(sub->map.smsc_id)];
	char gw_id[sizeof(sub->map.gateway_id)];

	(void)value;
	/* finish() frees sub; the receipts waiting on this mapping go on
	 * after it, so none overtakes the submit_sm_resp it queues */
	memcpy(link, sub->map.link, sizeof(link));
	memcpy(smsc_id, sub->map.smsc_id, sizeof(smsc_id));
	memcpy(gw_id, sub->map.gateway_id, sizeof(gw_id));
	if (dst == DB_OK) {
		gw_hint_put(ctx, sub->gw_id, sub->esme->serial);
		finish(sub, SMPP_ROK, sub->gw_id);
		gw_rcache_done(ctx, link, smsc_id, gw_id, true);
		return;
	}
	smpp_log(SMPP_LOG_WARN, sub->gw_id, "proxy", "store_failed",
	    "esme=%s link=%s smsc_id=%s db=%s", sub->esme->id,
	    sub->link->cfg.name, sub->map.smsc_id, db_status_name(dst));
	finish(sub, dst == DB_EUNAVAIL ? ctx->gen->cfg->statuses.storage_down :
	    SMPP_RSYSERR, NULL);
	gw_rcache_done(ctx, link, smsc_id, gw_id, false);
}

void
gw_proxy_down_response(struct gw_link_rt *l, struct smpp_session *s,
    enum smpp_outcome out, const struct smpp_scan *resp, void *arg)
{
	struct gw_submit *sub = arg;
	struct gw_esme *e = sub->esme;
	struct gw_ctx *ctx = l->ctx;
	const struct gw_statuses *st = &ctx->gen->cfg->statuses;
	enum db_status dst;
	uint32_t status;

	l->in_flight--;
	sub->down_us = gw_mono_us() - sub->sent_us;
	if (l->wait_head != NULL)
		gw_proxy_link_service(l);	/* a window slot is free */
	if (e == NULL) {
		local_response(l, out, resp, sub);
		return;
	}
	if (out == SMPP_OUT_TIMEOUT) {
		l->timeouts++;
		smpp_log(SMPP_LOG_WARN, smpp_session_name(s), "proxy",
		    "timeout", "esme=%s seq=%u", e->id, sub->ref.seq);
		finish(sub, st->response_timeout, NULL);
		return;
	}
	if (out == SMPP_OUT_ABORTED) {
		l->lost++;
		finish(sub, st->session_lost, NULL);
		return;
	}
	status = resp->hdr.status;
	gw_status_count(&l->resp, status);
	if (status != SMPP_ROK) {
		finish(sub, status, NULL);
		return;
	}
	if (gw_msgid_format(gw_msgid_next(&ctx->msgid, gw_now_ms()),
	    e->account->msgid_format, sub->gw_id, sizeof(sub->gw_id)) < 0) {
		finish(sub, SMPP_RSYSERR, NULL);
		return;
	}
	if (resp->message_id.len == 0 || resp->message_id.len > DB_ID_MAX) {
		/* Nothing to map a receipt by: the message is accepted, so
		 * the ESME still gets ROK and an id of ours. */
		smpp_log(SMPP_LOG_WARN, sub->gw_id, "proxy", "no_smsc_id",
		    "link=%s", l->cfg.name);
		finish(sub, SMPP_ROK, sub->gw_id);
		return;
	}
	memcpy(sub->map.gateway_id, sub->gw_id, sizeof(sub->gw_id));
	memcpy(sub->map.link, l->cfg.smsc, strlen(l->cfg.smsc) + 1);
	smpp_str_copy(sub->map.smsc_id, sizeof(sub->map.smsc_id),
	    &resp->message_id);
	memcpy(sub->map.account, e->acct->name, strlen(e->acct->name) + 1);
	sub->map.submitted_at = gw_now_ms();
	dst = db_idmap_put(ctx->store, &sub->map, on_put, sub);
	if (dst == DB_OK)
		gw_rcache_pending(ctx, &sub->map);
	else {
		smpp_log(SMPP_LOG_WARN, sub->gw_id, "proxy", "store_refused",
		    "link=%s db=%s", l->cfg.name, db_status_name(dst));
		finish(sub, dst == DB_EBUSY ? SMPP_RTHROTTLED :
		    st->storage_down, NULL);
	}
}
