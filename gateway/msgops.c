/*
 * query_sm: one storage lookup by gateway id, then query_sm_resp (see
 * query.h for what it says and to whom).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ctx.h"
#include "gateway/query.h"
#include "db/store.h"
#include "smpp/build.h"
#include "smpp/log.h"
#include "smpp/proto.h"

struct gw_query {
	struct gw_esme		*esme;		/* held */
	struct smpp_req_ref	 ref;
	char			 id[DB_ID_MAX + 1];
};

/* message_state values (SMPP 3.4 5.2.28) this answers with. */
#define STATE_ENROUTE	1
#define STATE_UNKNOWN	7
#define STATE_REJECTED	8

/* id: as the ESME gave it (escaped for the log). */
static void
answer_error(struct gw_esme *e, struct smpp_req_ref ref, uint32_t status,
    const char *id, const char *why)
{
	char esc[4 * DB_ID_MAX + 1];

	e->ctx->queries_failed++;
	smpp_log(SMPP_LOG_DEBUG, e->id, "query", "refused",
	    "id=\"%s\" status=0x%08x why=%s", smpp_log_escape((const
	    uint8_t *)id, strlen(id), esc, sizeof(esc)), status, why);
	gw_esme_reply(e, ref, status, NULL);
}

/* Unix ms as an SMPP absolute time in UTC: YYMMDDhhmmsst00+. */
static void
smpp_time(int64_t ms, char out[SMPP_TIME_MAX])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	/* each field reduced to its digits, so the length is fixed */
	snprintf(out, SMPP_TIME_MAX, "%02u%02u%02u%02u%02u%02u%u00+",
	    (unsigned)tm.tm_year % 100, (unsigned)tm.tm_mon % 12 + 1,
	    (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100,
	    (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100,
	    (unsigned)(ms % 1000 / 100) % 10);
}

static void
answer_row(struct gw_esme *e, struct smpp_req_ref ref,
    const struct db_idmap *row)
{
	uint8_t body[SMPP_MESSAGE_ID_MAX + SMPP_TIME_MAX + 2];
	struct smpp_writer w = { body, 0, sizeof(body), 0 };
	char final_date[SMPP_TIME_MAX] = "";
	int state = STATE_ENROUTE;

	if (row->done_at > 0) {
		state = row->state >= STATE_ENROUTE &&
		    row->state <= STATE_REJECTED ? row->state : STATE_UNKNOWN;
		smpp_time(row->done_at, final_date);
	}
	smpp_writer_cstr(&w, row->gateway_id, strlen(row->gateway_id));
	smpp_writer_cstr(&w, final_date, strlen(final_date));
	smpp_writer_u8(&w, (uint8_t)state);
	smpp_writer_u8(&w, 0);		/* error_code: not kept */
	if (w.bad) {
		answer_error(e, ref, SMPP_RSYSERR, row->gateway_id, "too_long");
		return;
	}
	e->ctx->queries_answered++;
	if (e->sess != NULL)
		(void)smpp_session_reply_body(e->sess, ref, SMPP_ROK, body,
		    w.len);
}

static void
on_found(void *arg, enum db_status st, const struct db_idmap *row)
{
	struct gw_query *q = arg;
	struct gw_esme *e = q->esme;

	e->ctx->queries_in_flight--;
	if (st == DB_OK && e->acct != NULL &&
	    strcmp(row->account, e->acct->name) == 0)
		answer_row(e, q->ref, row);
	else if (st == DB_OK || st == DB_NOTFOUND)
		answer_error(e, q->ref, SMPP_RQUERYFAIL, q->id, "not_found");
	else
		answer_error(e, q->ref, SMPP_RSYSERR, q->id,
		    db_status_name(st));
	gw_esme_release(e);
	free(q);
}

void
gw_query_sm(struct gw_esme *e, const struct smpp_scan *req)
{
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct gw_ctx *ctx = e->ctx;
	struct gw_query *q;
	enum db_status st;
	size_t n = req->message_id.len;

	if (n == 0 || n > DB_ID_MAX) {
		answer_error(e, ref, SMPP_RINVMSGID, "-", "bad_id");
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		answer_error(e, ref, SMPP_RSYSERR, "-", "no_memory");
		return;
	}
	/* Gateway ids are lower-case hex or decimal: an ESME that keeps
	 * them in upper case still finds its message. */
	for (size_t i = 0; i < n; i++)
		q->id[i] = (char)tolower(req->message_id.p[i]);
	q->ref = ref;
	q->esme = gw_esme_hold(e);
	ctx->queries_in_flight++;
	st = db_idmap_find_gw(ctx->store, q->id, on_found, q);
	if (st != DB_OK) {
		ctx->queries_in_flight--;
		answer_error(e, ref, SMPP_RSYSERR, q->id, db_status_name(st));
		gw_esme_release(e);
		free(q);
	}
}
