/*
 * Downstream SMSC links (see downstream.h). One gw_dsess per connector:
 * it follows the connector's session through state changes so the proxy
 * can pick a bound one without asking the connector each time.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "gateway/dlr.h"
#include "gateway/downstream.h"
#include "gateway/proxy.h"
#include "smpp/connector.h"
#include "smpp/log.h"

#define DSESS_IN_WINDOW	4096	/* SMSC requests we owe an answer */
#include "smpp/tls.h"

static bool
bound_state(enum smpp_state st)
{
	return st == SMPP_ST_BOUND_TX || st == SMPP_ST_BOUND_RX ||
	    st == SMPP_ST_BOUND_TRX;
}

static void
on_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct gw_dsess *d = arg;
	struct gw_link_rt *l = d->link;

	d->live = to != SMPP_ST_CLOSED;
	if (bound_state(to) && !bound_state(from)) {
		d->sess = s;
		l->n_bound++;
		l->binds++;
		smpp_log(SMPP_LOG_INFO, smpp_session_name(s), "link", "bound",
		    "link=%s session=%u state=%s", l->cfg.name, d->idx,
		    smpp_state_name(to));
		gw_proxy_link_service(l);
	} else if (bound_state(from) && !bound_state(to) && d->sess == s) {
		d->sess = NULL;
		l->n_bound--;
		l->unbinds++;
		smpp_log(SMPP_LOG_INFO, smpp_session_name(s), "link",
		    "unbound", "link=%s session=%u state=%s", l->cfg.name,
		    d->idx, smpp_state_name(to));
		gw_proxy_link_service(l);
	}
}

static void
on_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct gw_dsess *d = arg;

	if (d->sess == s) {
		d->sess = NULL;
		d->link->n_bound--;
		d->link->unbinds++;
	}
	d->epoch++;
	d->live = false;
	gw_proxy_link_service(d->link);
	smpp_log(SMPP_LOG_INFO, smpp_session_name(s), "link", "closed",
	    "link=%s session=%u reason=%s", d->link->cfg.name, d->idx,
	    smpp_close_reason_name(why));
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct gw_dsess *d = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };

	switch (req->hdr.id) {
	case SMPP_DELIVER_SM:
	case SMPP_DATA_SM:
		gw_dlr_from_smsc(d, s, req);
		break;
	case SMPP_ALERT_NOTIFICATION:
	case SMPP_OUTBIND:
		break;			/* no response exists */
	default:
		(void)smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		break;
	}
}

static void
on_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct gw_dsess *d = arg;

	gw_proxy_down_response(d->link, s, out, resp, ctx);
}

void
gw_smsc_req_init(struct gw_smsc_req *r, struct gw_dsess *d,
    struct smpp_session *s, const struct smpp_scan *req)
{
	r->d = d;
	r->s = s;
	r->epoch = d->epoch;
	r->ref.command_id = req->hdr.id;
	r->ref.seq = req->hdr.seq;
}

void
gw_smsc_reply(const struct gw_smsc_req *r, uint32_t status)
{
	/* d->sess is the bound session: one that unbound or closed since
	 * cannot take the answer any more */
	if (r->d->epoch == r->epoch && r->d->sess == r->s)
		(void)smpp_session_reply(r->s, r->ref, status, NULL);
}

static const struct smpp_session_ops link_ops = {
	.request = on_request,
	.response = on_response,
	.state = on_state,
	.closed = on_closed,
};

static uint32_t
bind_command(unsigned bind)
{
	switch (bind) {
	case GW_BIND_TX:
		return SMPP_BIND_TRANSMITTER;
	case GW_BIND_RX:
		return SMPP_BIND_RECEIVER;
	default:
		return SMPP_BIND_TRANSCEIVER;
	}
}

static void
on_wait_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gw_proxy_link_service(arg);
}

static struct gw_link_rt *
link_new(struct gw_ctx *ctx, const struct gw_link *lc)
{
	struct smpp_connector_config cc;
	struct gw_link_rt *l;
	SSL_CTX *tls = NULL;
	char err[256];

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->ctx = ctx;
	l->cfg = *lc;
	l->n_dsess = lc->sessions;
	l->wait_max = lc->window * lc->sessions;
	if ((l->dsess = calloc(l->n_dsess, sizeof(*l->dsess))) == NULL ||
	    (l->wait_timer = evtimer_new(ctx->base, on_wait_timer, l)) ==
	    NULL) {
		free(l->dsess);
		free(l);
		return NULL;
	}
	if (lc->tls && (tls = smpp_tls_client_ctx(lc->tls_ca[0] != '\0' ?
	    lc->tls_ca : NULL, NULL, NULL, err, sizeof(err))) == NULL) {
		smpp_log(SMPP_LOG_ERR, lc->name, "link", "tls_failed",
		    "why=%s", err);
		event_free(l->wait_timer);
		free(l->dsess);
		free(l);
		return NULL;
	}
	smpp_connector_config_defaults(&cc);
	cc.name = lc->name;
	cc.host = lc->host;
	cc.port = lc->port;
	cc.tls = tls;
	cc.tls_host = lc->tls_name[0] != '\0' ? lc->tls_name : NULL;
	cc.bind_command = bind_command(lc->bind);
	cc.system_id = lc->system_id;
	cc.password = lc->password;
	cc.system_type = lc->system_type;
	cc.backoff_min_ms = lc->reconnect_min_ms;
	cc.backoff_max_ms = lc->reconnect_max_ms;
	cc.session.window = lc->window;
	cc.session.enquire_link_ms = lc->enquire_link_ms;
	cc.session.response_timeout_ms = lc->response_timeout_ms;
	/* Receipts and MO wait unanswered while the ESME is slow (that is
	 * the backpressure, gateway/deliver.h): the SMSC's own window must
	 * fill before ours would answer ESME_RMSGQFUL. Memory: a held
	 * receipt is its PDU and ~300 bytes, so at most a few MB a session. */
	cc.session.in_window = DSESS_IN_WINDOW;
	for (uint32_t i = 0; i < l->n_dsess; i++) {
		struct gw_dsess *d = &l->dsess[i];

		d->link = l;
		d->idx = i;
		d->conn = smpp_connector_new(ctx->base, &cc, &link_ops, d);
		if (d->conn == NULL)
			smpp_log(SMPP_LOG_ERR, lc->name, "link", "start_failed",
			    "session=%u", i);
	}
	if (tls != NULL)
		SSL_CTX_free(tls);	/* the connectors hold references */
	smpp_log(SMPP_LOG_INFO, lc->name, "link", "started",
	    "host=%s port=%u sessions=%u", lc->host, lc->port, l->n_dsess);
	return l;
}

int
gw_downstream_start(struct gw_ctx *ctx)
{
	const struct gw_config *cfg = ctx->gen->cfg;

	ctx->n_links = cfg->n_links;
	ctx->links = calloc(cfg->n_links + 1, sizeof(*ctx->links));
	if (ctx->links == NULL)
		return -1;
	for (size_t i = 0; i < cfg->n_links; i++) {
		if ((ctx->links[i] = link_new(ctx, &cfg->links[i])) == NULL)
			return -1;
		ctx->gen->links[i] = ctx->links[i];
	}
	return 0;
}

struct smpp_session *
gw_link_session(struct gw_link_rt *l, bool take)
{
	if (l == NULL || l->n_bound == 0)
		return NULL;
	if (l->cfg.tps != 0) {
		/* peek: a full bucket check without spending */
		struct gw_bucket b = l->tps;

		if (!gw_bucket_take(&b, l->cfg.tps, gw_mono_ms()))
			return NULL;
	}
	for (uint32_t k = 0; k < l->n_dsess; k++) {
		struct gw_dsess *d = &l->dsess[(l->rr + k) % l->n_dsess];

		if (d->sess == NULL || smpp_session_window_room(d->sess) == 0 ||
		    !smpp_session_can_send(d->sess, SMPP_SUBMIT_SM))
			continue;
		if (take) {
			l->rr = (l->rr + k + 1) % l->n_dsess;
			(void)gw_bucket_take(&l->tps, l->cfg.tps, gw_mono_ms());
		}
		return d->sess;
	}
	return NULL;
}

enum gw_link_use
gw_link_use(struct gw_link_rt *l)
{
	if (l == NULL || l->n_bound == 0)
		return GW_LINK_DOWN;
	/* a queue already waiting keeps its order: newcomers wait too */
	if (l->wait_head == NULL && gw_link_session(l, false) != NULL)
		return GW_LINK_READY;
	return GW_LINK_FULL;
}

void
gw_downstream_stop(struct gw_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_links; i++) {
		struct gw_link_rt *l = ctx->links[i];

		for (uint32_t k = 0; l != NULL && k < l->n_dsess; k++) {
			if (l->dsess[k].conn != NULL)
				smpp_connector_free(l->dsess[k].conn);
			l->dsess[k].conn = NULL;
		}
	}
}

uint32_t
gw_downstream_bound(const struct gw_ctx *ctx)
{
	uint32_t n = 0;

	for (size_t i = 0; i < ctx->n_links; i++)
		if (ctx->links[i] != NULL)
			n += ctx->links[i]->n_bound;
	return n;
}

uint32_t
gw_downstream_live(const struct gw_ctx *ctx)
{
	uint32_t n = 0;

	for (size_t i = 0; i < ctx->n_links; i++)
		for (uint32_t k = 0; ctx->links[i] != NULL &&
		    k < ctx->links[i]->n_dsess; k++)
			n += ctx->links[i]->dsess[k].live;
	return n;
}

void
gw_downstream_free(struct gw_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_links; i++) {
		struct gw_link_rt *l = ctx->links[i];

		if (l == NULL)
			continue;
		OPENSSL_cleanse(l->cfg.password, sizeof(l->cfg.password));
		event_free(l->wait_timer);
		free(l->dsess);
		free(l);
	}
	free(ctx->links);
	ctx->links = NULL;
	ctx->n_links = 0;
}
