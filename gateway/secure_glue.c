/*
 * The secure service inside the daemon (see secure_glue.h). Its hooks:
 *   send_sms  the notice or code text becomes submit_sm PDUs (GSM 7 or
 *             UCS-2, UDH parts when long) that go down through the
 *             proxy's local path: routed, windowed and queued exactly as
 *             an ESME's submit; done(ok) once every part got ESME_ROK;
 *   deliver   a receipt (only when the account wants receipts) or an MO
 *             goes to gateway/deliver: a bound receiver, else the
 *             durable queue;
 *   account_decimal_ids  the account's message id format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "db/store.h"
#include "gateway/deliver.h"
#include "gateway/proxy.h"
#include "gateway/secure_glue.h"
#include "secure/secure.h"
#include "smpp/concat.h"
#include "smpp/log.h"
#include "smpp/pdu.h"
#include "smpp/text.h"

#define SMS_PARTS_MAX	16

/* ---- PDUs of an SMS ------------------------------------------------ */

static void
addr_type(const char *a, uint8_t *ton, uint8_t *npi)
{
	size_t n = strlen(a);
	bool digits = n > 0;

	for (size_t i = 0; i < n; i++)
		if (a[i] < '0' || a[i] > '9')
			digits = false;
	if (!digits) {
		*ton = 5;		/* alphanumeric */
		*npi = 0;
	} else if (n > 8) {
		*ton = 1;		/* international */
		*npi = 1;
	} else {
		*ton = 3;		/* network specific: a short code */
		*npi = 0;
	}
}

int
gw_secure_sms_pdus(const char *source, const char *dest, const char *text,
    uint8_t ref, uint8_t **pdus, size_t *lens, size_t max)
{
	struct smpp_concat_part parts[SMS_PARTS_MAX];
	struct smpp_concat_info ci;
	enum smpp_text_enc enc;
	uint8_t *buf = NULL;
	size_t tl = strlen(text), k = 0, cap;
	int n, np = -1;

	if (max > SMS_PARTS_MAX)
		max = SMS_PARTS_MAX;
	if ((n = smpp_text_encode(text, tl, 0, NULL, 0, &enc, NULL)) < 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    smpp_text_encode(text, tl, 0, buf, (size_t)n + 1, &enc, NULL) != n)
		goto out;
	if ((np = smpp_concat_split(enc, buf, (size_t)n, SMPP_CONCAT_UDH8,
	    parts, max, NULL)) < 1)
		goto fail;
	for (k = 0; k < (size_t)np; k++) {
		struct smpp_pdu pdu;
		int sm;

		smpp_pdu_init(&pdu, SMPP_SUBMIT_SM);
		addr_type(source, &pdu.source_addr_ton,
		    &pdu.source_addr_npi);
		snprintf(pdu.source_addr, sizeof(pdu.source_addr), "%s",
		    source);
		pdu.dest_addr_ton = 1;
		pdu.dest_addr_npi = 1;
		snprintf(pdu.destination_addr, sizeof(pdu.destination_addr),
		    "%s", dest);
		pdu.data_coding = smpp_text_enc_dcs(enc);
		ci.ref = ref;
		ci.total = (uint8_t)np;
		ci.seq = (uint8_t)(k + 1);
		if (np > 1)
			pdu.esm_class = SMPP_ESM_UDHI;
		sm = smpp_concat_build_sm(enc, 0, buf, (size_t)n, &parts[k],
		    SMPP_CONCAT_UDH8, &ci, pdu.short_message,
		    sizeof(pdu.short_message), NULL);
		lens[k] = smpp_pdu_encoded_max(&pdu) + SMPP_SHORT_MESSAGE_MAX;
		if (sm < 0 || (pdus[k] = malloc(lens[k])) == NULL) {
			OPENSSL_cleanse(pdu.short_message,
			    sizeof(pdu.short_message));
			smpp_pdu_clear(&pdu);
			goto fail;
		}
		pdu.sm_length = (uint8_t)sm;
		cap = lens[k];
		if (smpp_pdu_encode(&pdu, pdus[k], cap, &lens[k]) != 0) {
			OPENSSL_clear_free(pdus[k], cap);
			OPENSSL_cleanse(pdu.short_message,
			    sizeof(pdu.short_message));
			smpp_pdu_clear(&pdu);
			goto fail;
		}
		OPENSSL_cleanse(pdu.short_message, sizeof(pdu.short_message));
		smpp_pdu_clear(&pdu);
	}
	goto out;
fail:
	while (k > 0) {
		k--;
		OPENSSL_clear_free(pdus[k], lens[k]);
	}
	np = -1;
out:
	if (buf != NULL)
		OPENSSL_clear_free(buf, (size_t)n + 1);
	return np;
}

/* ---- hooks ------------------------------------------------------- */

/*
 * An SMS in flight: its parts go down as local submits; a part refused
 * for a passing reason (throttled, window or queue full, no link bound,
 * timed out, session lost) is sent again after 1, 2, 4 and 8 s; any
 * other refusal, or the last retry failing, fails the SMS for good.
 */
#define SMS_RETRIES	4

struct gw_sms;

struct gw_sms_part {
	struct gw_sms	*m;
	uint8_t		*raw;		/* kept for retries */
	size_t		 len;
	unsigned	 tries;
	struct event	*timer;
};

struct gw_sms {
	struct gw_sec_glue	*g;
	struct gw_sms		*next, *prev;
	char			 dest[SEC_MSISDN_MAX + 1];
	sec_sms_done		 done;
	void			*done_arg;
	unsigned		 parts, answered;
	uint32_t		 failed;	/* first status for good */
	struct gw_sms_part	 part[SMS_PARTS_MAX];
};

struct gw_sec_glue {
	struct gw_ctx		*ctx;
	struct gw_sms		*sms;		/* in flight */
};

static void
sms_free(struct gw_sms *m)
{
	struct gw_sec_glue *g = m->g;

	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		g->sms = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	for (unsigned i = 0; i < m->parts; i++) {
		if (m->part[i].timer != NULL)
			event_free(m->part[i].timer);
		/* a code SMS: the PDU holds the one-time code */
		OPENSSL_clear_free(m->part[i].raw, m->part[i].len);
	}
	free(m);
}

static bool
passing(const struct gw_ctx *ctx, uint32_t st)
{
	const struct gw_statuses *s = &ctx->gen->cfg->statuses;

	return st == SMPP_RTHROTTLED || st == SMPP_RMSGQFUL ||
	    st == SMPP_RX_T_APPN || st == s->links_down ||
	    st == s->session_lost || st == s->response_timeout;
}

static void part_send(struct gw_sms_part *p);

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	part_send(arg);
}

static void
on_part(void *arg, uint32_t status)
{
	struct gw_sms_part *p = arg;
	struct gw_sms *m = p->m;
	struct gw_ctx *ctx = m->g->ctx;

	if (status != SMPP_ROK && passing(ctx, status) &&
	    p->tries < SMS_RETRIES) {
		struct timeval tv = { 1 << p->tries, 0 };

		if (p->timer == NULL)
			p->timer = evtimer_new(ctx->base, on_retry, p);
		if (p->timer != NULL && evtimer_add(p->timer, &tv) == 0) {
			p->tries++;
			smpp_log(SMPP_LOG_INFO, "-", "secure", "sms_retry",
			    "status=%s try=%u", smpp_status_name(status),
			    p->tries);
			return;
		}
	}
	if (status != SMPP_ROK && m->failed == 0)
		m->failed = status;
	if (++m->answered < m->parts)
		return;
	if (m->failed != 0)
		smpp_log(SMPP_LOG_WARN, "-", "secure", "sms_failed",
		    "parts=%u status=%s", m->parts,
		    smpp_status_name(m->failed));
	if (m->done != NULL)
		m->done(m->done_arg, m->failed == 0);
	sms_free(m);
}

static void
part_send(struct gw_sms_part *p)
{
	uint8_t *copy = malloc(p->len);

	if (copy == NULL) {
		on_part(p, SMPP_RSYSERR);
		return;
	}
	memcpy(copy, p->raw, p->len);
	gw_proxy_local(p->m->g->ctx, p->m->dest, copy, p->len, on_part, p);
}

static void
hook_send_sms(void *arg, const char *source, const char *msisdn,
    const char *text, sec_sms_done done, void *done_arg)
{
	struct gw_sec_glue *g = arg;
	uint8_t *pdus[SMS_PARTS_MAX];
	size_t lens[SMS_PARTS_MAX];
	struct gw_sms *m;
	int np;

	np = gw_secure_sms_pdus(source, msisdn, text,
	    (uint8_t)(gw_mono_us() & 0xff), pdus, lens, SMS_PARTS_MAX);
	if (np < 1 || strlen(msisdn) > SEC_MSISDN_MAX ||
	    (m = calloc(1, sizeof(*m))) == NULL) {
		while (np > 0) {
			np--;
			OPENSSL_clear_free(pdus[np], lens[np]);
		}
		smpp_log(SMPP_LOG_WARN, "-", "secure", "sms_refused",
		    "why=encode");
		if (done != NULL)
			done(done_arg, false);
		return;
	}
	m->g = g;
	snprintf(m->dest, sizeof(m->dest), "%s", msisdn);
	m->done = done;
	m->done_arg = done_arg;
	m->parts = (unsigned)np;
	for (int i = 0; i < np; i++) {
		m->part[i].m = m;
		m->part[i].raw = pdus[i];
		m->part[i].len = lens[i];
	}
	m->next = g->sms;
	if (g->sms != NULL)
		g->sms->prev = m;
	g->sms = m;
	/* on_part may run at once (no route) and end m with the last part:
	 * count the parts sent before sending each */
	for (int i = 0, n = np; i < n; i++)
		part_send(&m->part[i]);
}

static void
on_delivered(void *arg, bool ok)
{
	struct gw_ctx *ctx = arg;

	ctx->dlr_in_flight--;
	if (!ok)
		smpp_log(SMPP_LOG_WARN, "-", "secure", "deliver_failed", NULL);
}

static void
hook_deliver(void *arg, const char *account, int kind, uint8_t *pdu,
    size_t len)
{
	struct gw_ctx *ctx = ((struct gw_sec_glue *)arg)->ctx;
	const struct gw_account *acc = gw_config_account(ctx->gen->cfg,
	    account);
	struct gw_acct *a;

	if (acc == NULL || (kind == 1 && !acc->receipts) ||
	    (a = gw_acct_get(ctx, account, true)) == NULL) {
		smpp_log(SMPP_LOG_DEBUG, account, "secure", "not_wanted",
		    "kind=%d", kind);
		free(pdu);
		return;
	}
	ctx->dlr_in_flight++;
	gw_deliver(ctx, a, kind == 1 ? DB_PENDING_RECEIPT : DB_PENDING_MO,
	    pdu, len, 0, on_delivered, ctx);
}

static bool
hook_decimal(void *arg, const char *account)
{
	struct gw_ctx *ctx = ((struct gw_sec_glue *)arg)->ctx;
	const struct gw_account *acc = gw_config_account(ctx->gen->cfg,
	    account);

	return acc != NULL && acc->msgid_format == GW_MSGID_DECIMAL;
}

/* ---- start and free ------------------------------------------------ */

int
gw_secure_start(struct gw_ctx *ctx)
{
	const struct gw_config *cfg = ctx->gen->cfg;
	const struct gw_listener *api = &cfg->listeners.handset_api;
	struct sec_hooks h;
	char err[512];

	if (!cfg->secure.enabled)
		return 0;
	if ((ctx->sec_glue = calloc(1, sizeof(*ctx->sec_glue))) == NULL)
		return -1;
	ctx->sec_glue->ctx = ctx;
	memset(&h, 0, sizeof(h));
	h.arg = ctx->sec_glue;
	h.send_sms = hook_send_sms;
	h.deliver = hook_deliver;
	h.account_decimal_ids = hook_decimal;
	err[0] = '\0';
	ctx->sec = sec_service_new(ctx->base, ctx->store, &cfg->secure, &h,
	    err, sizeof(err));
	if (ctx->sec == NULL) {
		smpp_log(SMPP_LOG_ERR, "-", "daemon", "secure_failed",
		    "why=\"%s\"", err);
		return -1;
	}
	if (api->enabled && sec_api_start(ctx->sec, api->address, api->port,
	    api->cert, api->key, err, sizeof(err)) != 0) {
		smpp_log(SMPP_LOG_ERR, "-", "daemon", "handset_api_failed",
		    "address=%s port=%u why=\"%s\"", api->address,
		    (unsigned)api->port, err);
		return -1;
	}
	return 0;
}

void
gw_secure_free(struct gw_ctx *ctx)
{
	struct gw_sec_glue *g = ctx->sec_glue;

	sec_service_free(ctx->sec);
	ctx->sec = NULL;
	/* SMS still waiting for a retry when the loop ended: their done never
	 * runs (the service is gone; the store closed before it, so nothing
	 * was recorded as failed: a notice goes again after the restart) */
	while (g != NULL && g->sms != NULL)
		sms_free(g->sms);
	free(g);
	ctx->sec_glue = NULL;
}
