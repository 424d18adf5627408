/*
 * Upstream ESME sessions and their binds (see upstream.h for the refusal
 * policy and lifetimes). The bind state machine per gw_esme:
 *   OPEN --bind--> AUTH --accept--> BOUND --close--> CLOSED
 *                    \--refuse (now or after failure_delay)--> CLOSED
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "gateway/auth.h"
#include "gateway/deliver.h"
#include "gateway/msgops.h"
#include "gateway/proxy.h"
#include "gateway/upstream.h"
#include "gateway/verify.h"
#include "smpp/legacy.h"
#include "smpp/listener.h"
#include "smpp/log.h"
#include "smpp/tls.h"

#define OUR_SYSTEM_ID	"sealgate"
/* The session's own cap on requests we owe; the account's (smaller)
 * window is enforced per request in the proxy with ESME_RMSGQFUL. */
#define SESSION_IN_WINDOW	65536

static const char *const state_names[] = {
	"open", "auth", "bound", "closed",
};

static void
enter_state(struct gw_esme *e, enum gw_esme_state st)
{
	smpp_log(SMPP_LOG_DEBUG, e->id, "esme", "state", "from=%s to=%s",
	    state_names[e->state], state_names[st]);
	e->state = st;
}

struct gw_esme *
gw_esme_hold(struct gw_esme *e)
{
	e->refs++;
	return e;
}

void
gw_esme_release(struct gw_esme *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	if (e->delay != NULL)
		event_free(e->delay);
	OPENSSL_cleanse(&e->bind, sizeof(e->bind));
	gw_gen_release(e->gen);
	free(e);
}

void
gw_esme_reply(struct gw_esme *e, struct smpp_req_ref ref, uint32_t status,
    const char *message_id)
{
	size_t n = SMPP_HEADER_LEN;

	if (e->sess == NULL ||
	    smpp_session_reply(e->sess, ref, status, message_id) != 0)
		return;
	/* the resp's size as smpp/session.c builds it: an id body only for
	 * an accepted submit_sm/data_sm (others: the header, a lower bound) */
	if (status == SMPP_ROK && message_id != NULL &&
	    (ref.command_id == SMPP_SUBMIT_SM ||
	    ref.command_id == SMPP_DATA_SM))
		n += strlen(message_id) + 1;
	e->out_bytes += n;
	if (status == SMPP_ROK && message_id != NULL &&
	    (ref.command_id == SMPP_SUBMIT_SM ||
	    ref.command_id == SMPP_DATA_SM))
		gw_hint_mark(e->ctx, message_id, e->serial, e->out_bytes);
}

/*
 * A deliver_sm or data_sm for a session bound as SMPP 3.3: its 3.3 form
 * in out (smpp/legacy.h), and that length; 0 to send raw as it is (not a
 * delivery, or one 3.3 cannot carry whole: that is logged, and the peer
 * gets the 3.4 PDU rather than a part of the message).
 */
static int
legacy_form(const struct gw_esme *e, const uint8_t *raw, size_t len,
    uint8_t *out, size_t cap)
{
	struct smpp_limits lim;
	struct smpp_scan sc;
	struct smpp_hdr h;
	enum smpp_legacy_reason why;
	uint32_t st;
	int n;

	smpp_hdr_read(raw, &h);
	if (h.id != SMPP_DELIVER_SM && h.id != SMPP_DATA_SM)
		return 0;
	smpp_limits_default(&lim);
	if (smpp_scan(raw, len, &lim, &sc, &st) != 0)
		return 0;	/* not reached: it was scanned on the way in */
	if ((n = smpp_legacy_deliver(&sc, out, cap, &why)) < 0) {
		smpp_log(SMPP_LOG_WARN, e->id, "deliver", "v33_as_is",
		    "cmd=%s reason=\"%s\"", smpp_command_name(h.id),
		    smpp_legacy_strerror(why));
		return 0;
	}
	return n;
}

int
gw_esme_send_raw(struct gw_esme *e, const uint8_t *raw, size_t len,
    void *ctx)
{
	uint8_t legacy[SMPP_LEGACY_MAX];
	int rc, n;

	if (e->sess == NULL)
		return -1;
	if (smpp_session_peer_version(e->sess) < SMPP_VERSION_34 &&
	    (n = legacy_form(e, raw, len, legacy, sizeof(legacy))) > 0) {
		raw = legacy;
		len = (size_t)n;
	}
	if ((rc = smpp_session_send_raw(e->sess, raw, len, ctx)) == 0)
		e->out_bytes += len;
	return rc;
}

bool
gw_esme_written(const struct gw_esme *e, uint64_t mark)
{
	struct smpp_session_stats st;

	if (e->sess == NULL)
		return true;
	smpp_session_stats(e->sess, &st);
	return st.out_queued <= e->out_bytes &&
	    e->out_bytes - st.out_queued >= mark;
}

bool
gw_esme_receiver(const struct gw_esme *e)
{
	return e->sess != NULL && e->state == GW_ESME_BOUND &&
	    (e->bind_bits & (GW_BIND_RX | GW_BIND_TRX)) != 0 &&
	    smpp_session_can_send(e->sess, SMPP_DELIVER_SM);
}

static unsigned
bind_bit(uint32_t command_id)
{
	switch (command_id) {
	case SMPP_BIND_TRANSMITTER:
		return GW_BIND_TX;
	case SMPP_BIND_RECEIVER:
		return GW_BIND_RX;
	default:
		return GW_BIND_TRX;
	}
}

static void
wipe_bind(struct gw_esme *e)
{
	OPENSSL_cleanse(e->bind.password, sizeof(e->bind.password));
}

static void
refuse_now(struct gw_esme *e, uint32_t status, const char *why)
{
	wipe_bind(e);
	smpp_log(SMPP_LOG_WARN, e->id, "esme", "bind_refused",
	    "peer=%s system_id=%s status=%s why=%s", e->peer_ip,
	    e->bind.system_id, smpp_status_name(status), why);
	if (e->acct != NULL)
		e->acct->binds_failed++;
	if (e->sess != NULL)
		(void)smpp_session_bind_reply(e->sess, status, OUR_SYSTEM_ID);
	enter_state(e, GW_ESME_CLOSED);
}

static void
on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct gw_esme *e = arg;

	(void)fd;
	(void)what;
	if (e->sess != NULL)
		(void)smpp_session_bind_reply(e->sess, e->delay_status,
		    OUR_SYSTEM_ID);
	gw_esme_release(e);
}

/* A failed credential: counted against the address, answered late so a
 * guesser gets few tries per connection-second. */
static void
refuse_late(struct gw_esme *e, uint32_t status, const char *why,
    bool count)
{
	const struct gw_auth *ac = &e->ctx->gen->cfg->auth;
	struct timeval tv = { ac->failure_delay_ms / 1000,
	    (ac->failure_delay_ms % 1000) * 1000 };

	wipe_bind(e);
	if (count && gw_auth_fail(e->ctx->guard, ac, e->peer_ip, gw_mono_ms()))
		smpp_log(SMPP_LOG_WARN, e->id, "esme", "locked_out",
		    "peer=%s for_ms=%u", e->peer_ip, ac->lockout_ms);
	smpp_log(SMPP_LOG_WARN, e->id, "esme", "bind_refused",
	    "peer=%s system_id=%s status=%s why=%s", e->peer_ip,
	    e->bind.system_id, smpp_status_name(status), why);
	if (e->acct != NULL)
		e->acct->binds_failed++;
	enter_state(e, GW_ESME_CLOSED);
	e->delay_status = status;
	if (e->delay == NULL)
		e->delay = evtimer_new(e->ctx->base, on_delay, e);
	if (e->delay == NULL || evtimer_add(e->delay, &tv) != 0) {
		if (e->sess != NULL)
			(void)smpp_session_bind_reply(e->sess, status,
			    OUR_SYSTEM_ID);
		return;
	}
	gw_esme_hold(e);
}

static void
accept_bind(struct gw_esme *e)
{
	struct gw_acct *a = e->acct;
	uint32_t max = e->account->max_binds;

	wipe_bind(e);
	if (e->sess == NULL) {
		enter_state(e, GW_ESME_CLOSED);
		return;
	}
	if (max != 0 && a->n_binds >= max) {
		refuse_now(e, SMPP_RBINDFAIL, "max_binds");
		return;
	}
	if (smpp_session_bind_reply(e->sess, SMPP_ROK, OUR_SYSTEM_ID) != 0) {
		refuse_now(e, SMPP_RSYSERR, "reply_failed");
		return;
	}
	gw_auth_success(e->ctx->guard, e->peer_ip);
	enter_state(e, GW_ESME_BOUND);
	a->n_binds++;
	a->binds_ok++;
	e->next_acct = a->esmes;
	e->prev_acct = NULL;
	if (a->esmes != NULL)
		a->esmes->prev_acct = e;
	a->esmes = e;
	smpp_log(SMPP_LOG_INFO, e->id, "esme", "bound",
	    "peer=%s system_id=%s bind=%s", e->peer_ip, a->name,
	    e->bind_bits == GW_BIND_TX ? "tx" :
	    e->bind_bits == GW_BIND_RX ? "rx" : "trx");
	if (gw_esme_receiver(e))
		gw_deliver_receiver_bound(e->ctx, a);
}

/*
 * One verification for every bind that presents the same credentials
 * while it runs: a thousand ESMEs reconnecting at once (after a restart
 * of ours) cost one PBKDF2, not a thousand, and the verifier's bounded
 * queue is left for other accounts.
 */
struct gw_vwait {
	struct gw_vwait	*next;
	struct gw_ctx	*ctx;
	uint8_t		 key[32];
	struct gw_esme	**e;		/* held */
	size_t		 n, cap;
};

static int
vwait_add(struct gw_vwait *w, struct gw_esme *e)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4;
		struct gw_esme **ne = realloc(w->e, cap * sizeof(*ne));

		if (ne == NULL)
			return -1;
		w->e = ne;
		w->cap = cap;
	}
	w->e[w->n++] = gw_esme_hold(e);
	return 0;
}

static void
on_verified(void *arg, int result)
{
	struct gw_vwait *w = arg, **pp;
	bool cached = false;

	for (pp = &w->ctx->vwaits; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	for (size_t i = 0; i < w->n; i++) {
		struct gw_esme *e = w->e[i];

		if (e->state == GW_ESME_AUTH) {
			if (result == 1) {
				if (!cached)
					gw_auth_cache_put(e->ctx->auth_cache,
					    e->bind.system_id, e->bind.password,
					    e->account->password_hash,
					    gw_mono_ms());
				cached = true;
				accept_bind(e);
			} else if (result == 0)
				refuse_late(e, SMPP_RINVPASWD, "password",
				    true);
			else
				refuse_now(e, SMPP_RBINDFAIL, "verify_failed");
		}
		gw_esme_release(e);
	}
	OPENSSL_cleanse(w->key, sizeof(w->key));
	free(w->e);
	free(w);
}

/* Verifies e's password off the loop, joining a verification of the same
 * credentials already running. 0, or -1 (the caller refuses). */
static int
verify(struct gw_esme *e)
{
	struct gw_ctx *ctx = e->ctx;
	uint8_t key[32];
	struct gw_vwait *w;

	gw_auth_cache_key(ctx->auth_cache, e->bind.system_id,
	    e->bind.password, e->account->password_hash, key);
	for (w = ctx->vwaits; w != NULL; w = w->next)
		if (CRYPTO_memcmp(w->key, key, sizeof(key)) == 0) {
			OPENSSL_cleanse(key, sizeof(key));
			return vwait_add(w, e);
		}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->ctx = ctx;
	memcpy(w->key, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	if (vwait_add(w, e) != 0 || gw_verify_submit(ctx->verifier,
	    e->bind.password, strlen(e->bind.password),
	    e->account->password_hash, on_verified, w) != 0) {
		if (w->n > 0)
			gw_esme_release(w->e[0]);
		free(w->e);
		free(w);
		return -1;
	}
	w->next = ctx->vwaits;
	ctx->vwaits = w;
	return 0;
}

static bool
peer_allowed(const struct gw_esme *e, const struct gw_account *acc)
{
	uint8_t addr[16];

	if (acc->n_networks == 0)
		return true;
	if (inet_pton(AF_INET, e->peer_ip, addr) == 1)
		return gw_cidr_match_any(acc->networks, acc->n_networks,
		    AF_INET, addr);
	if (inet_pton(AF_INET6, e->peer_ip, addr) == 1)
		return gw_cidr_match_any(acc->networks, acc->n_networks,
		    AF_INET6, addr);
	return false;
}

static void
on_bind(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct gw_esme *e = arg;
	struct gw_ctx *ctx = e->ctx;
	const struct gw_account *acc;
	int64_t now = gw_mono_ms();

	(void)s;
	if (e->state != GW_ESME_OPEN)
		return;
	enter_state(e, GW_ESME_AUTH);
	e->bind.command_id = req->hdr.id;
	e->bind_bits = bind_bit(req->hdr.id);
	smpp_str_copy(e->bind.system_id, sizeof(e->bind.system_id),
	    &req->system_id);
	smpp_str_copy(e->bind.password, sizeof(e->bind.password),
	    &req->password);
	if (ctx->draining) {
		refuse_now(e, SMPP_RBINDFAIL, "shutting_down");
		return;
	}
	if (gw_auth_locked(ctx->guard, &ctx->gen->cfg->auth, e->peer_ip,
	    now)) {
		refuse_late(e, SMPP_RBINDFAIL, "locked_out", false);
		return;
	}
	e->gen = gw_gen_hold(ctx->gen);
	acc = gw_config_account(e->gen->cfg, e->bind.system_id);
	if (acc == NULL) {
		refuse_late(e, SMPP_RINVSYSID, "system_id", true);
		return;
	}
	e->account = acc;
	e->acct = gw_acct_get(ctx, acc->system_id, true);
	if (e->acct == NULL) {
		refuse_now(e, SMPP_RSYSERR, "no_memory");
		return;
	}
	if (!peer_allowed(e, acc)) {
		refuse_now(e, SMPP_RBINDFAIL, "network");
		return;
	}
	if ((acc->bind_types & e->bind_bits) == 0) {
		refuse_now(e, SMPP_RBINDFAIL, "bind_type");
		return;
	}
	if (acc->max_binds != 0 && e->acct->n_binds >= acc->max_binds) {
		refuse_now(e, SMPP_RBINDFAIL, "max_binds");
		return;
	}
	if (gw_auth_cache_hit(ctx->auth_cache, e->bind.system_id,
	    e->bind.password, acc->password_hash, now)) {
		accept_bind(e);
		return;
	}
	if (verify(e) != 0)
		refuse_now(e, SMPP_RBINDFAIL, "verifier_busy");
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct gw_esme *e = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };

	switch (req->hdr.id) {
	case SMPP_SUBMIT_SM:
	case SMPP_DATA_SM:
		gw_proxy_submit(e, req);
		break;
	case SMPP_QUERY_SM:
	case SMPP_CANCEL_SM:
	case SMPP_REPLACE_SM:
		gw_msgop(e, req);
		break;
	case SMPP_ALERT_NOTIFICATION:
	case SMPP_OUTBIND:
		break;
	default:
		/* submit_multi is not proxied yet: answered as unsupported
		 * (SMPP 3.4 5.1.3). */
		(void)smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		break;
	}
}

static void
on_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	(void)s;
	gw_deliver_up_response(arg, out, resp, ctx);
}

static void
on_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct gw_esme *e = arg;
	struct gw_ctx *ctx = e->ctx;

	(void)s;
	if (e->state == GW_ESME_BOUND) {
		struct gw_acct *a = e->acct;

		if (e->prev_acct != NULL)
			e->prev_acct->next_acct = e->next_acct;
		else
			a->esmes = e->next_acct;
		if (e->next_acct != NULL)
			e->next_acct->prev_acct = e->prev_acct;
		a->n_binds--;
		gw_deliver_session_gone(ctx, a);
	}
	if (e->prev_all != NULL)
		e->prev_all->next_all = e->next_all;
	else
		ctx->all_esmes = e->next_all;
	if (e->next_all != NULL)
		e->next_all->prev_all = e->prev_all;
	ctx->n_esmes--;
	smpp_log(SMPP_LOG_INFO, e->id, "esme", "closed", "peer=%s reason=%s",
	    e->peer_ip, smpp_close_reason_name(why));
	if (e->state != GW_ESME_CLOSED)
		enter_state(e, GW_ESME_CLOSED);
	e->sess = NULL;
	gw_esme_release(e);
}

static const struct smpp_session_ops esme_ops = {
	.bind = on_bind,
	.request = on_request,
	.response = on_response,
	.closed = on_closed,
};

static void
on_accept(struct smpp_listener *l, struct bufferevent *bev,
    const char *peer, void *arg)
{
	struct gw_ctx *ctx = arg;
	struct smpp_session_config scfg;
	struct gw_esme *e;

	(void)l;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		bufferevent_free(bev);
		return;
	}
	e->ctx = ctx;
	e->refs = 1;
	e->serial = ++ctx->esme_serial;
	gw_auth_addr_ip(peer, e->peer_ip, sizeof(e->peer_ip));
	smpp_session_config_defaults(&scfg);
	scfg.in_window = SESSION_IN_WINDOW;
	e->sess = smpp_session_new(ctx->base, bev, SMPP_ROLE_SERVER, &scfg,
	    &esme_ops, e, peer);
	if (e->sess == NULL) {
		free(e);
		return;
	}
	snprintf(e->id, sizeof(e->id), "%s", smpp_session_name(e->sess));
	e->next_all = ctx->all_esmes;
	if (ctx->all_esmes != NULL)
		ctx->all_esmes->prev_all = e;
	ctx->all_esmes = e;
	ctx->n_esmes++;
	smpp_log(SMPP_LOG_DEBUG, e->id, "esme", "accepted", "peer=%s",
	    e->peer_ip);
}

int
gw_upstream_start(struct gw_ctx *ctx)
{
	const struct gw_listeners *ls = &ctx->gen->cfg->listeners;
	char err[256];

	if (ls->smpp.enabled) {
		ctx->smpp_listener = smpp_listener_new(ctx->base,
		    ls->smpp.address, ls->smpp.port, NULL, on_accept, ctx,
		    "smpp");
		if (ctx->smpp_listener == NULL)
			return -1;
	}
	if (ls->smpp_tls.enabled) {
		SSL_CTX *tls = smpp_tls_server_ctx(ls->smpp_tls.cert,
		    ls->smpp_tls.key, err, sizeof(err));

		if (tls == NULL) {
			smpp_log(SMPP_LOG_ERR, "-", "esme", "tls_failed",
			    "why=%s", err);
			return -1;
		}
		ctx->smpp_tls_listener = smpp_listener_new(ctx->base,
		    ls->smpp_tls.address, ls->smpp_tls.port, tls, on_accept,
		    ctx, "smpp-tls");
		SSL_CTX_free(tls);	/* the listener holds a reference */
		if (ctx->smpp_tls_listener == NULL)
			return -1;
	}
	return 0;
}

void
gw_upstream_stop_listening(struct gw_ctx *ctx)
{
	if (ctx->smpp_listener != NULL)
		smpp_listener_free(ctx->smpp_listener);
	if (ctx->smpp_tls_listener != NULL)
		smpp_listener_free(ctx->smpp_tls_listener);
	ctx->smpp_listener = ctx->smpp_tls_listener = NULL;
}

void
gw_upstream_unbind_all(struct gw_ctx *ctx)
{
	for (struct gw_esme *e = ctx->all_esmes; e != NULL; e = e->next_all) {
		if (e->sess == NULL)
			continue;
		if (e->state == GW_ESME_BOUND)
			(void)smpp_session_unbind(e->sess);
		else
			smpp_session_close(e->sess);
	}
}
