/*
 * MO routing and hand-over to gateway/deliver (see mo.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/deliver.h"
#include "gateway/mo.h"
#include "secure/secure.h"
#include "smpp/log.h"

struct gw_mo {
	struct gw_ctx		*ctx;
	struct gw_smsc_req	 req;
};

/* Whether text starts with keyword as a whole word, in any case. */
static bool
keyword_match(const char *kw, const uint8_t *text, size_t len)
{
	size_t k = strlen(kw), i = 0;

	while (i < len && text[i] == ' ')
		i++;
	if (len - i < k || strncasecmp(kw, (const char *)text + i, k) != 0)
		return false;
	return len - i == k || text[i + k] == ' ';
}

long
gw_mo_match(const struct gw_config *cfg, const char *dest,
    const uint8_t *text, size_t len)
{
	long best = -1;
	size_t best_len = 0;
	bool best_kw = false;

	for (size_t i = 0; i < cfg->n_mo_routes; i++) {
		const struct gw_mo_route *r = &cfg->mo_routes[i];
		size_t pl = strlen(r->prefix);
		bool kw = r->keyword[0] != '\0';

		if (strncmp(r->prefix, dest, pl) != 0)
			continue;
		if (kw && !keyword_match(r->keyword, text, len))
			continue;
		if (best < 0 || pl > best_len ||
		    (pl == best_len && kw && !best_kw)) {
			best = (long)i;
			best_len = pl;
			best_kw = kw;
		}
	}
	return best;
}

static void
on_delivered(void *arg, bool ok)
{
	struct gw_mo *m = arg;

	gw_smsc_reply(&m->req, ok ? SMPP_ROK : SMPP_RX_T_APPN);
	m->ctx->dlr_in_flight--;
	free(m);
}

void
gw_mo_from_smsc(struct gw_dsess *d, struct smpp_session *s,
    const struct smpp_scan *req)
{
	struct gw_ctx *ctx = d->link->ctx;
	const struct gw_config *cfg = ctx->gen->cfg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	const uint8_t *text = req->short_message.p;
	size_t len = req->short_message.len;
	char dest[SMPP_ADDR65_MAX];
	struct gw_acct *a;
	struct gw_mo *m;
	uint8_t *copy;
	long ri;
	size_t n = req->dst.addr.len < sizeof(dest) - 1 ?
	    req->dst.addr.len : sizeof(dest) - 1;

	d->link->mo++;
	/* MO to the registration short code: the secure service's, never
	 * an ESME's */
	if (ctx->sec != NULL && sec_mo(ctx->sec, req)) {
		(void)smpp_session_reply(s, ref, SMPP_ROK, NULL);
		return;
	}
	memcpy(dest, req->dst.addr.p, n);
	dest[n] = '\0';
	if (len == 0) {
		const struct smpp_tlv_view *t =
		    smpp_scan_tlv(req, SMPP_TLV_MESSAGE_PAYLOAD);

		if (t != NULL) {
			text = t->val;
			len = t->len;
		}
	}
	ri = gw_mo_match(cfg, dest, text, len);
	if (ri < 0) {
		smpp_log(SMPP_LOG_INFO, smpp_session_name(s), "mo", "no_route",
		    "link=%s", d->link->cfg.name);
		(void)smpp_session_reply(s, ref, SMPP_RINVDSTADR, NULL);
		return;
	}
	a = gw_acct_get(ctx, cfg->accounts[cfg->mo_routes[ri].account]
	    .system_id, true);
	m = calloc(1, sizeof(*m));
	copy = malloc(req->hdr.len);
	if (a == NULL || m == NULL || copy == NULL) {
		free(m);
		free(copy);
		(void)smpp_session_reply(s, ref, SMPP_RX_T_APPN, NULL);
		return;
	}
	memcpy(copy, req->raw, req->hdr.len);
	m->ctx = ctx;
	gw_smsc_req_init(&m->req, d, s, req);
	ctx->dlr_in_flight++;
	smpp_log(SMPP_LOG_DEBUG, smpp_session_name(s), "mo", "routed",
	    "link=%s account=%s", d->link->cfg.name, a->name);
	gw_deliver(ctx, a, DB_PENDING_MO, copy, req->hdr.len, 0,
	    on_delivered, m);
}
