/*
 * The pipeline's answers after the store: receipts to the sending
 * account, acks and replies from devices, and the two timers (expiry of
 * messages and parts, re-wrap of vault records under the newest key).
 *
 * Receipts are deliver_sm with esm_class 0x04 (0x20 for ENROUTE, an
 * intermediate notification), the Appendix B text (smpp/dlr.h) with the
 * part's gateway id, and the receipted_message_id and message_state
 * TLVs; one per part of the message, each with that part's id, handed to
 * the account through hooks.deliver (bound receiver or durable queue).
 * The text: field stays empty: the content never leaves the vault.
 * Which receipts go follows registered_delivery: bits 0-1 = 01 every
 * final state, 10 failures only; bit 4 (0x10) intermediates (ENROUTE
 * once the notice is accepted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db/store.h"
#include "secure/pipeline_int.h"
#include "smpp/build.h"
#include "smpp/charset.h"
#include "smpp/dlr.h"
#include "smpp/log.h"
#include "smpp/pdu.h"
#include "smpp/proto.h"
#include "smpp/text.h"

#define EXPIRE_BATCH	500	/* messages per expired-rows answer */
#define EXPIRE_BATCHES	20	/* answers per round (every 5 s): the
				   deletes queue before the next question,
				   so it does not see them again */
#define REWRAP_PAGE	100
#define REPLY_MAX	4096	/* bytes of UTF-8 in a reply */

/* ---- receipts ------------------------------------------------------ */

bool
sec_receipt_wanted(uint8_t rd, int stat)
{
	unsigned mode = rd & 0x03;

	if (stat == SMPP_DLR_ENROUTE)
		return (rd & 0x10) != 0;
	if (stat == SMPP_DLR_DELIVRD)
		return mode == 1;
	return mode == 1 || mode == 2;
}

static void
count_receipt(struct sec_service *svc, int stat)
{
	switch (stat) {
	case SMPP_DLR_DELIVRD:	svc->n.receipts_delivrd++; break;
	case SMPP_DLR_EXPIRED:	svc->n.receipts_expired++; break;
	case SMPP_DLR_UNDELIV:	svc->n.receipts_undeliv++; break;
	case SMPP_DLR_ENROUTE:	svc->n.receipts_enroute++; break;
	default:		break;
	}
}

void
sec_receipt_one(struct sec_service *svc, const struct sec_msg_rec *m,
    const char *part_id, int stat)
{
	struct smpp_pdu pdu;
	struct smpp_dlr d;
	char text[256];
	uint8_t state = (uint8_t)stat, *buf;
	size_t cap, len;
	int n;

	if (svc->hooks.deliver == NULL ||
	    !sec_receipt_wanted(m->registered_delivery, stat))
		return;
	memset(&d, 0, sizeof(d));
	d.present = SMPP_DLR_F_ID | SMPP_DLR_F_SUB | SMPP_DLR_F_DLVRD |
	    SMPP_DLR_F_SUBMIT_DATE | SMPP_DLR_F_DONE_DATE | SMPP_DLR_F_STAT |
	    SMPP_DLR_F_ERR;
	snprintf(d.id, sizeof(d.id), "%s", part_id);
	d.sub = 1;
	d.dlvrd = stat == SMPP_DLR_DELIVRD ? 1 : 0;
	smpp_dlr_date(m->received_at, d.submit_date);
	smpp_dlr_date(sec_now_ms(), d.done_date);
	d.stat = (enum smpp_dlr_stat)stat;
	snprintf(d.err, sizeof(d.err), "000");
	if ((n = smpp_dlr_format(&d, text, sizeof(text), NULL)) < 0 ||
	    n > SMPP_SHORT_MESSAGE_MAX)
		return;
	smpp_pdu_init(&pdu, SMPP_DELIVER_SM);
	/* a receipt comes from the recipient, to the sender */
	pdu.source_addr_ton = m->dest_ton;
	pdu.source_addr_npi = m->dest_npi;
	snprintf(pdu.source_addr, sizeof(pdu.source_addr), "%s", m->msisdn);
	pdu.dest_addr_ton = m->source_ton;
	pdu.dest_addr_npi = m->source_npi;
	snprintf(pdu.destination_addr, sizeof(pdu.destination_addr), "%s",
	    m->source);
	pdu.esm_class = stat == SMPP_DLR_ENROUTE ? SMPP_ESM_INTERMEDIATE :
	    SMPP_ESM_DLR;
	pdu.sm_length = (uint8_t)n;
	memcpy(pdu.short_message, text, (size_t)n);
	if (smpp_pdu_add_tlv(&pdu, SMPP_TLV_RECEIPTED_MESSAGE_ID, part_id,
	    (uint16_t)(strlen(part_id) + 1)) != 0 ||
	    smpp_pdu_add_tlv(&pdu, SMPP_TLV_MESSAGE_STATE, &state, 1) != 0) {
		smpp_pdu_clear(&pdu);
		return;
	}
	cap = smpp_pdu_encoded_max(&pdu);
	if ((buf = malloc(cap)) == NULL ||
	    smpp_pdu_encode(&pdu, buf, cap, &len) != 0) {
		free(buf);
		smpp_pdu_clear(&pdu);
		smpp_log(SMPP_LOG_WARN, part_id, "secure", "receipt_failed",
		    "stat=%s", smpp_dlr_stat_name(d.stat));
		return;
	}
	smpp_pdu_clear(&pdu);
	count_receipt(svc, stat);
	smpp_log(SMPP_LOG_DEBUG, part_id, "secure", "receipt",
	    "account=%s stat=%s", m->account, smpp_dlr_stat_name(d.stat));
	svc->hooks.deliver(svc->hooks.arg, m->account, 1, buf, len);
}

void
sec_receipts(struct sec_service *svc, const struct sec_msg_rec *m, int stat)
{
	if (!sec_receipt_wanted(m->registered_delivery, stat))
		return;
	for (size_t i = 0; i < m->n_parts; i++)
		sec_receipt_one(svc, m, m->part_ids[i], stat);
}

/* ---- ack ----------------------------------------------------------- */

struct ack_job {
	struct sec_service	*svc;
	char			 id[SEC_ID_MAX + 1];
	char			 device_id[SEC_RID_MAX + 1];
	sec_http_done		 done;
	void			*arg;
	unsigned		 tries;
	bool			 have_copy;
	struct sec_copy_rec	 c;
	int64_t			 copy_version;
	struct sec_msg_rec	 m;
	bool			 first;		/* this ack made it ACKED */
};

static void ack_start(struct ack_job *a);

static void
ack_end(struct ack_job *a, int http)
{
	a->done(a->arg, http);
	sec_rec_copy_clear(&a->c);
	sec_rec_msg_clear(&a->m);
	free(a);
}

static void
on_ack_written(void *arg, enum db_status st, int64_t v)
{
	struct ack_job *a = arg;
	struct sec_service *svc = a->svc;

	(void)v;
	if (st == DB_ECONFLICT && ++a->tries < 4) {
		sec_rec_copy_clear(&a->c);
		sec_rec_msg_clear(&a->m);
		a->have_copy = false;
		ack_start(a);
		return;
	}
	if (st != DB_OK) {
		smpp_log(SMPP_LOG_WARN, a->id, "secure", "ack_failed",
		    "device=%s db=%s", a->device_id, db_status_name(st));
		ack_end(a, 503);
		return;
	}
	svc->n.acks++;
	smpp_log(SMPP_LOG_INFO, a->id, "secure", "acked", "device=%s first=%d",
	    a->device_id, a->first);
	if (a->first)
		sec_receipts(svc, &a->m, SMPP_DLR_DELIVRD);
	ack_end(a, 204);
}

static void
on_ack_msg(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct ack_job *a = arg;
	struct sec_service *svc = a->svc;
	struct db_kv_op ops[2];
	char key[DB_KV_KEY_MAX + 1];
	void *cb = NULL, *mb = NULL;
	size_t cl, ml, nops = 0;
	int64_t now = sec_now_ms();

	if (st == DB_NOTFOUND || (st == DB_OK && n == 0)) {
		ack_end(a, 404);	/* expired meanwhile */
		return;
	}
	if (st != DB_OK || sec_rec_msg_decode(rows[0].data, rows[0].len,
	    &a->m) != 0) {
		ack_end(a, 503);
		return;
	}
	a->c.acked_at = now;
	a->c.expires_at = now + (int64_t)svc->cfg.acked_retention_s * 1000;
	if ((cb = sec_rec_copy_encode(&a->c, &cl)) == NULL) {
		ack_end(a, 503);
		return;
	}
	sec_copy_row(&a->c, &ops[nops++], key, sizeof(key), cb, cl,
	    a->copy_version);
	a->first = a->m.state == SEC_MSG_VAULT || a->m.state == SEC_MSG_SEALED;
	if (a->first) {
		a->m.state = SEC_MSG_ACKED;
		a->m.acked_at = now;
		a->m.expires_at = a->c.expires_at;
		if ((mb = sec_rec_msg_encode(&a->m, &ml)) == NULL) {
			free(cb);
			ack_end(a, 503);
			return;
		}
		sec_msg_row(&a->m, &ops[nops++], mb, ml, rows[0].version);
	}
	st = db_kv_write(svc->store, ops, nops, on_ack_written, a);
	free(cb);
	free(mb);
	if (st != DB_OK)
		ack_end(a, 503);
}

static void
on_ack_copy(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct ack_job *a = arg;

	if (st == DB_NOTFOUND || (st == DB_OK && n == 0)) {
		ack_end(a, 404);
		return;
	}
	if (st != DB_OK || sec_rec_copy_decode(rows[0].data, rows[0].len,
	    &a->c) != 0) {
		ack_end(a, 503);
		return;
	}
	a->have_copy = true;
	if (strcmp(a->c.device_id, a->device_id) != 0) {
		ack_end(a, 404);
		return;
	}
	if (a->c.acked_at != 0 || rows[0].idx1[0] == '\0') {
		ack_end(a, 204);	/* acked before: the same answer */
		return;
	}
	a->copy_version = rows[0].version;
	if (db_kv_get(a->svc->store, DB_KV_MSG, a->id, on_ack_msg, a) !=
	    DB_OK)
		ack_end(a, 503);
}

static void
ack_start(struct ack_job *a)
{
	char key[DB_KV_KEY_MAX + 1];

	snprintf(key, sizeof(key), "%s/%s", a->id, a->device_id);
	if (db_kv_get(a->svc->store, DB_KV_COPY, key, on_ack_copy, a) !=
	    DB_OK)
		ack_end(a, 503);
}

void
sec_pipeline_ack(struct sec_service *svc, const struct sec_device_rec *dev,
    const char *id, sec_http_done done, void *arg)
{
	struct ack_job *a;

	if (strlen(id) == 0 || strlen(id) > SEC_ID_MAX) {
		done(arg, 404);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		done(arg, 503);
		return;
	}
	a->svc = svc;
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->device_id, sizeof(a->device_id), "%s", dev->device_id);
	a->done = done;
	a->arg = arg;
	ack_start(a);
}

/* ---- reply --------------------------------------------------------- */

struct reply_job {
	struct sec_service	*svc;
	char			 id[SEC_ID_MAX + 1];
	char			 device_id[SEC_RID_MAX + 1];
	char			 msisdn[SEC_MSISDN_MAX + 1];
	char			*text;
	sec_http_done		 done;
	void			*arg;
};

static void
reply_end(struct reply_job *r, int http)
{
	r->done(r->arg, http);
	if (r->text != NULL)
		OPENSSL_clear_free(r->text, strlen(r->text) + 1);
	free(r);
}

/*
 * The MO for m's account: from the MSISDN to the original sender, GSM 7
 * when the text allows (160 septets in short_message), else UCS-2 (70
 * units), longer ones in message_payload. -1 if it cannot be built.
 */
static int
reply_pdu(const struct sec_msg_rec *m, const char *text, uint8_t **out,
    size_t *outlen)
{
	struct smpp_pdu pdu;
	enum smpp_text_enc enc;
	uint8_t *enc_buf = NULL;
	size_t tl = strlen(text), cap;
	int n, rc = -1;

	*out = NULL;
	if ((n = smpp_text_encode(text, tl, 0, NULL, 0, &enc, NULL)) < 0 ||
	    (enc_buf = malloc((size_t)n + 1)) == NULL ||
	    smpp_text_encode(text, tl, 0, enc_buf, (size_t)n + 1, &enc,
	    NULL) != n)
		goto out;
	smpp_pdu_init(&pdu, SMPP_DELIVER_SM);
	pdu.source_addr_ton = 1;
	pdu.source_addr_npi = 1;
	snprintf(pdu.source_addr, sizeof(pdu.source_addr), "%s", m->msisdn);
	pdu.dest_addr_ton = m->source_ton;
	pdu.dest_addr_npi = m->source_npi;
	snprintf(pdu.destination_addr, sizeof(pdu.destination_addr), "%s",
	    m->source);
	pdu.data_coding = smpp_text_enc_dcs(enc);
	if ((enc == SMPP_TEXT_GSM7 && n <= 160) ||
	    (enc != SMPP_TEXT_GSM7 && n <= 140)) {
		pdu.sm_length = (uint8_t)n;
		memcpy(pdu.short_message, enc_buf, (size_t)n);
	} else if (n > 0xFFFF || smpp_pdu_add_tlv(&pdu,
	    SMPP_TLV_MESSAGE_PAYLOAD, enc_buf, (uint16_t)n) != 0) {
		smpp_pdu_clear(&pdu);
		goto out;
	}
	cap = smpp_pdu_encoded_max(&pdu);
	if ((*out = malloc(cap)) != NULL &&
	    smpp_pdu_encode(&pdu, *out, cap, outlen) == 0)
		rc = 0;
	else {
		free(*out);
		*out = NULL;
	}
	OPENSSL_cleanse(pdu.short_message, sizeof(pdu.short_message));
	smpp_pdu_clear(&pdu);
out:
	if (enc_buf != NULL)
		OPENSSL_clear_free(enc_buf, (size_t)(n > 0 ? n : 0) + 1);
	return rc;
}

static void
on_reply_msg(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct reply_job *r = arg;
	struct sec_service *svc = r->svc;
	struct sec_msg_rec m;
	uint8_t *pdu;
	size_t len;

	if (st == DB_NOTFOUND || (st == DB_OK && n == 0)) {
		reply_end(r, 404);
		return;
	}
	if (st != DB_OK || sec_rec_msg_decode(rows[0].data, rows[0].len,
	    &m) != 0) {
		reply_end(r, 503);
		return;
	}
	if (reply_pdu(&m, r->text, &pdu, &len) != 0) {
		sec_rec_msg_clear(&m);
		reply_end(r, 400);
		return;
	}
	svc->n.replies++;
	smpp_log(SMPP_LOG_INFO, r->id, "secure", "reply", "device=%s "
	    "account=%s", r->device_id, m.account);
	if (svc->hooks.deliver != NULL)
		svc->hooks.deliver(svc->hooks.arg, m.account, 2, pdu, len);
	else
		free(pdu);
	sec_rec_msg_clear(&m);
	reply_end(r, 202);
}

static void
on_reply_copy(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct reply_job *r = arg;
	struct sec_copy_rec c;

	if (st == DB_NOTFOUND || (st == DB_OK && n == 0)) {
		reply_end(r, 404);
		return;
	}
	if (st != DB_OK || sec_rec_copy_decode(rows[0].data, rows[0].len,
	    &c) != 0) {
		reply_end(r, 503);
		return;
	}
	if (strcmp(c.device_id, r->device_id) != 0) {
		sec_rec_copy_clear(&c);
		reply_end(r, 404);
		return;
	}
	sec_rec_copy_clear(&c);
	if (db_kv_get(r->svc->store, DB_KV_MSG, r->id, on_reply_msg, r) !=
	    DB_OK)
		reply_end(r, 503);
}

void
sec_pipeline_reply(struct sec_service *svc, const struct sec_device_rec *dev,
    const char *id, const char *text, sec_http_done done, void *arg)
{
	struct reply_job *r;
	char key[DB_KV_KEY_MAX + 1];
	size_t tl = text != NULL ? strlen(text) : 0;

	if (strlen(id) == 0 || strlen(id) > SEC_ID_MAX) {
		done(arg, 404);
		return;
	}
	if (tl == 0 || tl > REPLY_MAX ||
	    smpp_text_utf8_check(text, tl, NULL) != 0) {
		done(arg, 400);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->text = strdup(text)) == NULL) {
		free(r);
		done(arg, 503);
		return;
	}
	r->svc = svc;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->device_id, sizeof(r->device_id), "%s", dev->device_id);
	snprintf(r->msisdn, sizeof(r->msisdn), "%s", dev->msisdn);
	r->done = done;
	r->arg = arg;
	snprintf(key, sizeof(key), "%s/%s", id, dev->device_id);
	if (db_kv_get(svc->store, DB_KV_COPY, key, on_reply_copy, r) != DB_OK)
		reply_end(r, 503);
}

/* ---- expiry -------------------------------------------------------- */

struct exp_one {
	struct sec_service	*svc;
	struct sec_msg_rec	 m;		/* no body */
	bool			 receipt;
};

static void
on_exp_deleted(void *arg, enum db_status st, int64_t v)
{
	struct exp_one *e = arg;

	(void)v;
	if (st == DB_OK) {
		smpp_log(SMPP_LOG_INFO, e->m.id, "secure",
		    e->receipt ? "expired" : "purged", "state=%s",
		    sec_msg_state_name(e->m.state));
		if (e->receipt) {
			e->svc->n.expired++;
			sec_receipts(e->svc, &e->m, SMPP_DLR_EXPIRED);
		}
	}
	/* a conflict: acked meanwhile, or another round took it */
	sec_rec_msg_clear(&e->m);
	free(e);
}

static void
parts_round_done(void *arg)
{
	struct sec_service *svc = arg;

	if (svc->pipeline != NULL)
		svc->pipeline->expiring = false;
}

static void
on_expired_msgs(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct sec_service *svc = arg;
	size_t i;

	for (i = 0; st == DB_OK && i < n; i++) {
		struct db_kv_op ops[2];
		struct exp_one *e;
		struct sec_msg_rec m;

		if ((e = calloc(1, sizeof(*e))) == NULL)
			break;
		e->svc = svc;
		if (sec_rec_msg_decode(rows[i].data, rows[i].len, &m) == 0) {
			(void)sec_msg_copy_head(&e->m, &m);
			sec_rec_msg_clear(&m);
			e->receipt = e->m.state == SEC_MSG_VAULT ||
			    e->m.state == SEC_MSG_SEALED;
		} else
			snprintf(e->m.id, sizeof(e->m.id), "%.*s", SEC_ID_MAX,
			    rows[i].key);
		memset(ops, 0, sizeof(ops));
		ops[0].op = DB_KV_DEL;
		ops[0].table = DB_KV_MSG;
		ops[0].key = rows[i].key;
		ops[0].expect = rows[i].version;
		ops[1].op = DB_KV_DEL_IDX2;
		ops[1].table = DB_KV_COPY;
		ops[1].idx2 = rows[i].key;
		ops[1].expect = -1;
		if (db_kv_write(svc->store, ops, 2, on_exp_deleted, e) !=
		    DB_OK) {
			sec_rec_msg_clear(&e->m);
			free(e);
			break;
		}
	}
	/* a full answer all queued for deletion: the next one at once */
	if (st == DB_OK && n == EXPIRE_BATCH && i == n &&
	    ++svc->pipeline->expire_batches < EXPIRE_BATCHES &&
	    db_kv_expired(svc->store, DB_KV_MSG, sec_now_ms(), EXPIRE_BATCH,
	    on_expired_msgs, svc) == DB_OK)
		return;
	sec_parts_expire(svc, parts_round_done, svc);
}

void
sec_expire_round(struct sec_service *svc)
{
	struct sec_pipeline *p = svc->pipeline;

	if (p->expiring)
		return;
	p->expiring = true;
	p->expire_batches = 0;
	if (db_kv_expired(svc->store, DB_KV_MSG, sec_now_ms(), EXPIRE_BATCH,
	    on_expired_msgs, svc) != DB_OK)
		p->expiring = false;
}

/* ---- re-wrap ------------------------------------------------------- */

static void rewrap_next(struct sec_service *svc);

static void
on_rewrapped(void *arg, enum db_status st, int64_t v)
{
	(void)arg;
	(void)v;
	if (st != DB_OK && st != DB_ECONFLICT)
		smpp_log(SMPP_LOG_WARN, "-", "secure", "rewrap_failed",
		    "db=%s", db_status_name(st));
}

static void
on_rewrap_page(void *arg, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct sec_service *svc = arg;
	struct sec_pipeline *p = svc->pipeline;
	const char *cur = sec_keyring_current(svc->keyring);
	size_t moved = 0, lost = 0;
	char lost_kid[SEC_KID_MAX + 1] = "";

	if (st != DB_OK || n == 0) {
		p->rewrapping = false;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct sec_msg_rec m;
		struct db_kv_op op;
		void *buf;
		size_t len;

		if (sec_rec_msg_decode(rows[i].data, rows[i].len, &m) != 0)
			continue;
		if (m.state != SEC_MSG_VAULT || !m.has_vault ||
		    strcmp(m.vault.kid, cur) == 0) {
			sec_rec_msg_clear(&m);
			continue;
		}
		/* A record that no key of the ring opens (its key file
		 * was lost, or the vault dir was made anew) can never be
		 * delivered: say so loudly, once per page. */
		if (sec_keyring_rewrap(svc->keyring, m.id, m.msisdn,
		    &m.vault) != 0) {
			if (lost++ == 0)
				snprintf(lost_kid, sizeof(lost_kid), "%s",
				    m.vault.kid);
		} else if ((buf = sec_rec_msg_encode(&m, &len)) != NULL) {
			sec_msg_row(&m, &op, buf, len, rows[i].version);
			if (db_kv_write(svc->store, &op, 1, on_rewrapped,
			    NULL) == DB_OK)
				moved++;
			free(buf);
		}
		sec_rec_msg_clear(&m);
	}
	if (moved > 0)
		smpp_log(SMPP_LOG_INFO, "-", "secure", "rewrapped",
		    "records=%zu kid=%s", moved, cur);
	if (lost > 0)
		smpp_log(SMPP_LOG_ERR, "-", "secure", "vault_key_missing",
		    "records=%zu kid=%s", lost, lost_kid);
	p->rewrap_after_sort = rows[n - 1].sort;
	snprintf(p->rewrap_after_key, sizeof(p->rewrap_after_key), "%s",
	    rows[n - 1].key);
	/* (A short page is not the end: the store caps an answer's
	 * bytes. Only an empty one is.) */
	rewrap_next(svc);
}

static void
rewrap_next(struct sec_service *svc)
{
	struct sec_pipeline *p = svc->pipeline;

	if (db_kv_list(svc->store, DB_KV_MSG, 2,
	    sec_msg_state_name(SEC_MSG_VAULT), p->rewrap_after_sort,
	    p->rewrap_after_key, REWRAP_PAGE, on_rewrap_page, svc) != DB_OK)
		p->rewrapping = false;
}

void
sec_rewrap_round(struct sec_service *svc)
{
	struct sec_pipeline *p = svc->pipeline;

	/* With one key too: records under a kid the ring lacks are then
	 * found and reported (vault_key_missing). */
	if (p->rewrapping)
		return;
	p->rewrapping = true;
	p->rewrap_after_sort = 0;
	p->rewrap_after_key[0] = '\0';
	rewrap_next(svc);
}
