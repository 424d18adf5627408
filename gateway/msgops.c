/*
 * query_sm, cancel_sm, replace_sm: one storage lookup by gateway id,
 * then query_sm_resp from the row, or the request forwarded with the
 * SMSC's id (see msgops.h for what is answered and to whom).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "db/store.h"
#include "gateway/ctx.h"
#include "gateway/msgops.h"
#include "gateway/proxy.h"
#include "smpp/build.h"
#include "smpp/dlr.h"
#include "smpp/log.h"
#include "smpp/proto.h"

/* One request in flight: looked up, then (cancel, replace) forwarded. */
struct gw_msgop {
	struct gw_esme		*esme;		/* held */
	struct smpp_req_ref	 ref;
	char			 id[DB_ID_MAX + 1];
	uint8_t			*raw;		/* cancel, replace: a copy */
	size_t			 len;
	size_t			 id_off;	/* message_id in raw */
};

/* message_state values (SMPP 3.4 5.2.28) query_sm answers with. */
#define STATE_ENROUTE	1
#define STATE_UNKNOWN	7
#define STATE_REJECTED	8

const uint32_t gw_msgop_ids[GW_MSGOPS] = {
	SMPP_QUERY_SM, SMPP_CANCEL_SM, SMPP_REPLACE_SM,
};

/* Index into ctx->msgops_ok/failed (gw_msgop_ids' order). */
static int
op_index(uint32_t command_id)
{
	int i = 0;

	while (i < GW_MSGOPS - 1 && gw_msgop_ids[i] != command_id)
		i++;
	return i;
}

/* What the command answers for a message it cannot find. */
static uint32_t
fail_status(uint32_t command_id)
{
	return command_id == SMPP_QUERY_SM ? SMPP_RQUERYFAIL :
	    command_id == SMPP_CANCEL_SM ? SMPP_RCANCELFAIL :
	    SMPP_RREPLACEFAIL;
}

/* Answers e, and counts: ESME_ROK, or an error (why in the log; id as
 * the ESME gave it, escaped). */
static void
answer(struct gw_esme *e, struct smpp_req_ref ref, uint32_t status,
    const char *id, const char *why)
{
	char esc[4 * DB_ID_MAX + 1];

	if (status == SMPP_ROK) {
		e->ctx->msgops_ok[op_index(ref.command_id)]++;
		gw_esme_reply(e, ref, status, NULL);
		return;
	}
	e->ctx->msgops_failed[op_index(ref.command_id)]++;
	smpp_log(SMPP_LOG_DEBUG, e->id, "msgop", "refused",
	    "cmd=%s id=\"%s\" status=0x%08x why=%s", smpp_command_name(ref.command_id),
	    smpp_log_escape((const uint8_t *)id, strlen(id), esc,
	    sizeof(esc)), status, why);
	gw_esme_reply(e, ref, status, NULL);
}

static void
op_free(struct gw_msgop *op)
{
	gw_esme_release(op->esme);
	free(op->raw);
	free(op);
}

static void
query_answer(struct gw_esme *e, struct smpp_req_ref ref,
    const struct db_idmap *row)
{
	uint8_t body[SMPP_MESSAGE_ID_MAX + SMPP_TIME_MAX + 2];
	struct smpp_writer w = { body, 0, sizeof(body), 0 };
	char final_date[SMPP_TIME_MAX] = "";
	int state = STATE_ENROUTE;

	if (row->done_at > 0) {
		state = row->state >= STATE_ENROUTE &&
		    row->state <= STATE_REJECTED ? row->state : STATE_UNKNOWN;
		smpp_time_utc(row->done_at, final_date);
	}
	smpp_writer_cstr(&w, row->gateway_id, strlen(row->gateway_id));
	smpp_writer_cstr(&w, final_date, strlen(final_date));
	smpp_writer_u8(&w, (uint8_t)state);
	smpp_writer_u8(&w, 0);		/* error_code: not kept */
	if (w.bad) {
		answer(e, ref, SMPP_RSYSERR, row->gateway_id, "too_long");
		return;
	}
	e->ctx->msgops_ok[0]++;
	if (e->sess != NULL)
		(void)smpp_session_reply_body(e->sess, ref, SMPP_ROK, body,
		    w.len);
}

/* The SMSC's answer to a forwarded cancel_sm or replace_sm. */
static void
on_forwarded(void *arg, uint32_t status)
{
	struct gw_msgop *op = arg;

	answer(op->esme, op->ref, status, op->id, "smsc");
	op_free(op);
}

/* The request with the SMSC's id for ours; takes op (answered either
 * way). */
static void
forward(struct gw_msgop *op, const struct db_idmap *row)
{
	size_t n = strlen(row->smsc_id), old = strlen(op->id);
	size_t tail = op->len - op->id_off - old - 1;
	size_t len = op->id_off + n + 1 + tail;
	uint8_t *pdu;

	if ((pdu = malloc(len)) == NULL) {
		answer(op->esme, op->ref, SMPP_RSYSERR, op->id, "no_memory");
		op_free(op);
		return;
	}
	memcpy(pdu, op->raw, op->id_off);
	memcpy(pdu + op->id_off, row->smsc_id, n + 1);
	memcpy(pdu + op->id_off + n + 1, op->raw + op->id_off + old + 1,
	    tail);
	smpp_put32(pdu, (uint32_t)len);
	smpp_log(SMPP_LOG_DEBUG, row->gateway_id, "msgop", "forward",
	    "cmd=%s link=%s", smpp_command_name(op->ref.command_id), row->link);
	gw_proxy_to_smsc(op->esme->ctx, row->link, pdu, len, on_forwarded,
	    op);
}

static void
on_found(void *arg, enum db_status st, const struct db_idmap *row)
{
	struct gw_msgop *op = arg;
	struct gw_esme *e = op->esme;

	e->ctx->msgops_in_flight--;
	if (st == DB_OK && e->acct != NULL &&
	    strcmp(row->account, e->acct->name) == 0) {
		if (op->ref.command_id != SMPP_QUERY_SM) {
			forward(op, row);
			return;
		}
		query_answer(e, op->ref, row);
	} else if (st == DB_OK || st == DB_NOTFOUND)
		answer(e, op->ref, fail_status(op->ref.command_id), op->id,
		    "not_found");
	else
		answer(e, op->ref, SMPP_RSYSERR, op->id, db_status_name(st));
	op_free(op);
}

void
gw_msgop(struct gw_esme *e, const struct smpp_scan *req)
{
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct gw_ctx *ctx = e->ctx;
	struct gw_msgop *op;
	enum db_status st;
	size_t n = req->message_id.len;

	if (n == 0 || n > DB_ID_MAX) {
		/* cancel_sm by addresses alone: no id to find the SMSC by */
		answer(e, ref, req->hdr.id == SMPP_CANCEL_SM ?
		    SMPP_RCANCELFAIL : SMPP_RINVMSGID, "-", "bad_id");
		return;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL ||
	    (req->hdr.id != SMPP_QUERY_SM &&
	    (op->raw = malloc(req->hdr.len)) == NULL)) {
		free(op);
		answer(e, ref, SMPP_RSYSERR, "-", "no_memory");
		return;
	}
	/* Gateway ids are lower-case hex or decimal: an ESME that keeps
	 * them in upper case still finds its message. */
	for (size_t i = 0; i < n; i++)
		op->id[i] = (char)tolower(req->message_id.p[i]);
	if (op->raw != NULL) {
		memcpy(op->raw, req->raw, req->hdr.len);
		op->len = req->hdr.len;
		op->id_off = (size_t)(req->message_id.p - req->raw);
	}
	op->ref = ref;
	op->esme = gw_esme_hold(e);
	ctx->msgops_in_flight++;
	st = db_idmap_find_gw(ctx->store, op->id, on_found, op);
	if (st != DB_OK) {
		ctx->msgops_in_flight--;
		answer(e, ref, SMPP_RSYSERR, op->id, db_status_name(st));
		op_free(op);
	}
}
