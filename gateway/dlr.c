/*
 * Receipts from SMSCs to ESMEs (see dlr.h). A gw_rcpt lives from the
 * SMSC's deliver_sm to our deliver_sm_resp: it owns a copy of the PDU
 * (the scan view only lives during the session callback).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gateway/deliver.h"
#include "gateway/dlr.h"
#include "gateway/mo.h"
#include "gateway/rcache.h"
#include "smpp/build.h"
#include "smpp/dlr.h"
#include "smpp/log.h"

#define FIND_RETRIES	4	/* 250, 500, 1000, 2000 ms */

struct gw_rcpt {
	struct gw_ctx		*ctx;
	struct gw_link_rt	*link;
	struct gw_smsc_req	 req;
	uint8_t			*raw;
	size_t			 len;
	char			 smsc_id[SMPP_MESSAGE_ID_MAX];
	int			 stat;		/* smpp_dlr_stat */
	unsigned		 tries;
	struct event		*retry;
	bool			 parked;	/* wait is on an expected entry */
	struct gw_rcache_wait	 wait;		/* on a mapping being written,
						   or parked until one comes */
	char			 gw_id[DB_ID_MAX + 1];
};

static void lookup(struct gw_rcpt *r);
static void found_cached(struct gw_rcpt *r, const struct gw_rcache_hit *hit);
static void on_wait_over(struct gw_rcache_wait *w,
    const struct gw_rcache_hit *hit);

static void
rcpt_end(struct gw_rcpt *r, uint32_t status)
{
	gw_smsc_reply(&r->req, status);
	r->ctx->dlr_in_flight--;
	if (r->retry != NULL)
		event_free(r->retry);
	free(r->raw);
	free(r);
}

static void
copy_id(char *out, size_t cap, const uint8_t *p, size_t n)
{
	while (n > 0 && p[n - 1] == '\0')
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The receipt text: short_message, or message_payload when empty. */
static const struct smpp_tlv_view *
text_of(const struct smpp_scan *req, const uint8_t **p, size_t *n)
{
	const struct smpp_tlv_view *t = NULL;

	*p = req->short_message.p;
	*n = req->short_message.len;
	if (*n == 0 && (t = smpp_scan_tlv(req, SMPP_TLV_MESSAGE_PAYLOAD))) {
		*p = t->val;
		*n = t->len;
	}
	return t;
}

int
gw_dlr_smsc_id(const struct smpp_scan *req, char *out, size_t cap)
{
	const struct smpp_tlv_view *t;
	const uint8_t *p;
	struct smpp_dlr d;
	size_t n;

	t = smpp_scan_tlv(req, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	if (t != NULL) {
		copy_id(out, cap, t->val, t->len);
		if (out[0] != '\0')
			return 0;
	}
	(void)text_of(req, &p, &n);
	if (n > 0 && smpp_dlr_parse((const char *)p, n, &d, NULL) == 0) {
		copy_id(out, cap, (const uint8_t *)d.id, strlen(d.id));
		return 0;
	}
	return -1;
}

static int
stat_of(const struct smpp_scan *req)
{
	const struct smpp_tlv_view *t;
	const uint8_t *p;
	struct smpp_dlr d;
	size_t n;

	t = smpp_scan_tlv(req, SMPP_TLV_MESSAGE_STATE);
	if (t != NULL && t->len == 1)
		return t->val[0];
	(void)text_of(req, &p, &n);
	if (n > 0 && smpp_dlr_parse((const char *)p, n, &d, NULL) == 0)
		return (int)d.stat;
	return SMPP_DLR_STAT_NONE;
}

static int
put_tlv(uint8_t *out, size_t cap, size_t *pos, uint16_t tag,
    const void *val, size_t len)
{
	if (len > 0xFFFF || *pos + 4 + len > cap)
		return -1;
	smpp_put16(out + *pos, tag);
	smpp_put16(out + *pos + 2, (uint16_t)len);
	memcpy(out + *pos + 4, val, len);
	*pos += 4 + len;
	return 0;
}

int
gw_dlr_rewrite_pdu(const struct smpp_scan *req, const char *new_id,
    uint8_t *out, size_t cap)
{
	const struct smpp_tlv_view *payload;
	const uint8_t *text;
	size_t text_len, pos, head;
	char newtext[1024];
	int nt = -1;

	payload = text_of(req, &text, &text_len);
	if (text_len > 0 && text_len < sizeof(newtext))
		nt = smpp_dlr_rewrite_id((const char *)text, text_len, new_id,
		    newtext, sizeof(newtext), NULL);
	if ((req->has & SMPP_HAS_SM) && payload == NULL &&
	    req->short_message.len > 0) {
		/* everything up to sm_length, then the new text */
		head = (size_t)(req->short_message.p - req->raw) - 1;
		if (nt < 0 || nt > SMPP_SHORT_MESSAGE_MAX || head + 1 +
		    (size_t)nt > cap)
			return -1;
		memcpy(out, req->raw, head);
		out[head] = (uint8_t)nt;
		memcpy(out + head + 1, newtext, (size_t)nt);
		pos = head + 1 + (size_t)nt;
	} else {
		head = req->tlv_off;
		if (head > cap)
			return -1;
		memcpy(out, req->raw, head);
		pos = head;
	}
	for (uint16_t i = 0; i < req->n_tlvs; i++) {
		const struct smpp_tlv_view *t = &req->tlvs[i];
		int rc;

		if (t->tag == SMPP_TLV_RECEIPTED_MESSAGE_ID)
			rc = put_tlv(out, cap, &pos, t->tag, new_id,
			    strlen(new_id) + 1);
		else if (t == payload && nt >= 0)
			rc = put_tlv(out, cap, &pos, t->tag, newtext,
			    (size_t)nt);
		else
			rc = put_tlv(out, cap, &pos, t->tag, t->val, t->len);
		if (rc != 0)
			return -1;
	}
	smpp_put32(out, (uint32_t)pos);
	return (int)pos;
}

static void
on_delivered(void *arg, bool ok)
{
	struct gw_rcpt *r = arg;

	/* not delivered and not queued: a transient error makes the SMSC
	 * send it again later, so nothing is lost */
	rcpt_end(r, ok ? SMPP_ROK : SMPP_RX_T_APPN);
}

static void
on_closed_map(void *arg, enum db_status st, int64_t value)
{
	(void)arg;
	(void)value;
	if (st != DB_OK && st != DB_NOTFOUND)
		smpp_log(SMPP_LOG_WARN, "-", "dlr", "close_failed", "db=%s",
		    db_status_name(st));
}

static bool
final_state(int stat)
{
	return stat == SMPP_DLR_DELIVRD || stat == SMPP_DLR_EXPIRED ||
	    stat == SMPP_DLR_DELETED || stat == SMPP_DLR_UNDELIV ||
	    stat == SMPP_DLR_UNKNOWN || stat == SMPP_DLR_REJECTD;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct gw_rcpt *r = arg;

	(void)fd;
	(void)what;
	if (r->parked) {
		/* Its mapping came meanwhile: the write's end resumes it. */
		if (!gw_rcache_unexpect(r->ctx, r->link->cfg.smsc, r->smsc_id,
		    &r->wait))
			return;
		r->parked = false;
	}
	lookup(r);
}

/* Maps r from the recent-mapping table if it can: true when it was (a
 * hit) or will be (r now waits on its mapping's write); false: a miss. */
static bool
from_cache(struct gw_rcpt *r)
{
	struct gw_rcache_hit hit;

	r->wait.resume = on_wait_over;
	switch (gw_rcache_lookup(r->ctx, r->link->cfg.smsc, r->smsc_id, &hit,
	    &r->wait)) {
	case GW_RCACHE_HIT:
		found_cached(r, &hit);
		return true;
	case GW_RCACHE_WAIT:
		return true;
	case GW_RCACHE_MISS:
		break;
	}
	return false;
}

/*
 * Storage knows no mapping for r yet: look again later (FIND_RETRIES
 * times, 250 ms doubling). Meanwhile r parks on the entry its mapping
 * would take in the recent-mapping table: a receipt that came before the
 * SMSC's submit_sm_resp is then mapped as soon as that mapping is
 * written, not a retry later. 0, or -1 when no retry could be armed.
 */
static int
retry_later(struct gw_rcpt *r)
{
	struct timeval tv = { 0, 250000 };

	r->tries++;
	/* The mapping may have been queued while storage looked. */
	if (from_cache(r))
		return 0;
	tv.tv_usec <<= r->tries - 1;
	tv.tv_sec = tv.tv_usec / 1000000;
	tv.tv_usec %= 1000000;
	if (r->retry == NULL)
		r->retry = evtimer_new(r->ctx->base, on_retry, r);
	if (r->retry == NULL || evtimer_add(r->retry, &tv) != 0)
		return -1;
	r->parked = gw_rcache_expect(r->ctx, r->link->cfg.smsc, r->smsc_id,
	    &r->wait);
	return 0;
}

static void
on_found(void *arg, enum db_status st, const struct db_idmap *row)
{
	struct gw_rcpt *r = arg;
	struct gw_ctx *ctx = r->ctx;
	const struct gw_account *acc;
	struct smpp_scan sc;
	struct smpp_limits lim;
	uint32_t why;
	struct gw_acct *a;
	uint8_t *out;
	int n;

	if (st == DB_NOTFOUND && r->tries < FIND_RETRIES &&
	    retry_later(r) == 0)
		return;
	if (st == DB_NOTFOUND) {
		ctx->receipts_unknown++;
		smpp_log(SMPP_LOG_WARN, r->smsc_id, "dlr", "unknown",
		    "link=%s", r->link->cfg.name);
		rcpt_end(r, SMPP_ROK);
		return;
	}
	if (st != DB_OK) {
		smpp_log(SMPP_LOG_WARN, r->smsc_id, "dlr", "lookup_failed",
		    "link=%s db=%s", r->link->cfg.name, db_status_name(st));
		rcpt_end(r, SMPP_RX_T_APPN);
		return;
	}
	if (r->tries > 0)
		ctx->receipts_before_mapping++;
	memcpy(r->gw_id, row->gateway_id, sizeof(r->gw_id));
	if (final_state(r->stat)) {
		(void)db_idmap_close(ctx->store, row->gateway_id, r->stat,
		    gw_now_ms(), on_closed_map, NULL);
		gw_rcache_forget(ctx, r->link->cfg.smsc, r->smsc_id,
		    row->gateway_id);
	}
	acc = gw_config_account(ctx->gen->cfg, row->account);
	a = gw_acct_get(ctx, row->account, true);
	if (acc == NULL || !acc->receipts || a == NULL) {
		smpp_log(SMPP_LOG_DEBUG, r->gw_id, "dlr", "not_wanted",
		    "account=%s", row->account);
		rcpt_end(r, SMPP_ROK);
		return;
	}
	smpp_limits_default(&lim);
	if (smpp_scan(r->raw, r->len, &lim, &sc, &why) != 0 ||
	    (out = malloc(r->len + 128)) == NULL) {
		rcpt_end(r, SMPP_RX_T_APPN);
		return;
	}
	n = gw_dlr_rewrite_pdu(&sc, r->gw_id, out, r->len + 128);
	if (n < 0) {
		smpp_log(SMPP_LOG_WARN, r->gw_id, "dlr", "rewrite_failed",
		    "link=%s", r->link->cfg.name);
		free(out);
		rcpt_end(r, SMPP_RX_P_APPN);
		return;
	}
	smpp_log(SMPP_LOG_DEBUG, r->gw_id, "dlr", "mapped",
	    "link=%s smsc_id=%s account=%s stat=%d", r->link->cfg.name,
	    r->smsc_id, row->account, r->stat);
	gw_deliver_receipt(ctx, a, out, (size_t)n, gw_hint_find(ctx, r->gw_id),
	    acc->receipt_grace_ms, on_delivered, r);
}

/* A mapping from the recent-mapping table, as storage would give it. */
static void
found_cached(struct gw_rcpt *r, const struct gw_rcache_hit *hit)
{
	struct db_idmap row;

	memset(&row, 0, sizeof(row));
	memcpy(row.gateway_id, hit->gateway_id, sizeof(hit->gateway_id));
	memcpy(row.account, hit->account, sizeof(hit->account));
	r->ctx->receipts_cached++;
	on_found(r, DB_OK, &row);
}

static void
lookup_stored(struct gw_rcpt *r)
{
	enum db_status st = db_idmap_find_smsc(r->ctx->store,
	    r->link->cfg.smsc, r->smsc_id, on_found, r);

	if (st != DB_OK)
		rcpt_end(r, SMPP_RX_T_APPN);
}

/* The mapping r waited on was written (hit), or not (NULL). */
static void
on_wait_over(struct gw_rcache_wait *w, const struct gw_rcache_hit *hit)
{
	struct gw_rcpt *r = (struct gw_rcpt *)((char *)w -
	    offsetof(struct gw_rcpt, wait));

	if (r->parked) {
		r->parked = false;
		/* Its entry went to another id, or its mapping's write
		 * failed: storage would not know it either yet, so the
		 * retry timer, still armed, decides. */
		if (hit == NULL)
			return;
		evtimer_del(r->retry);
	}
	if (hit != NULL)
		found_cached(r, hit);
	else
		lookup_stored(r);
}

static void
lookup(struct gw_rcpt *r)
{
	if (!from_cache(r))
		lookup_stored(r);
}

void
gw_dlr_from_smsc(struct gw_dsess *d, struct smpp_session *s,
    const struct smpp_scan *req)
{
	struct gw_ctx *ctx = d->link->ctx;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct gw_rcpt *r;

	if (!smpp_dlr_is_receipt(req)) {
		gw_mo_from_smsc(d, s, req);
		return;
	}
	d->link->receipts++;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->raw = malloc(req->hdr.len)) == NULL) {
		free(r);
		(void)smpp_session_reply(s, ref, SMPP_RX_T_APPN, NULL);
		return;
	}
	r->ctx = ctx;
	r->link = d->link;
	gw_smsc_req_init(&r->req, d, s, req);
	memcpy(r->raw, req->raw, req->hdr.len);
	r->len = req->hdr.len;
	r->stat = stat_of(req);
	r->wait.arrival = ++ctx->receipts_arrived;
	ctx->dlr_in_flight++;
	if (gw_dlr_smsc_id(req, r->smsc_id, sizeof(r->smsc_id)) != 0) {
		smpp_log(SMPP_LOG_WARN, smpp_session_name(s), "dlr", "no_id",
		    "link=%s", d->link->cfg.name);
		ctx->receipts_unknown++;
		rcpt_end(r, SMPP_ROK);
		return;
	}
	lookup(r);
}
