/*
 * Deliveries to ESMEs (see deliver.h). One gw_dlv per PDU on its way:
 * either a direct one (done callback pending, no queue row) or a drained
 * queue row (pending_id set, no done callback).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gateway/deliver.h"
#include "smpp/log.h"

#define DRAIN_BATCH	64

struct gw_dlv {
	struct gw_ctx		*ctx;
	struct gw_acct		*acct;
	enum db_pending_kind	 kind;
	uint8_t			*pdu;		/* owned; NULL for queue rows */
	size_t			 len;
	int64_t			 pending_id;	/* > 0: a queue row */
	gw_deliver_done		 done;
	void			*arg;
	struct gw_esme		*esme;		/* held while sent */
};

static void drain(struct gw_ctx *ctx, struct gw_acct *a);

static bool have_receiver(struct gw_acct *a);

static void
on_drain_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_acct *a = arg;

	(void)fd;
	(void)what;
	if (!a->draining && have_receiver(a))
		drain(a->ctx, a);
}

static struct gw_esme *
pick_receiver(struct gw_acct *a, uint64_t prefer)
{
	unsigned n = 0, k = 0;

	if (prefer != 0)
		for (struct gw_esme *e = a->esmes; e != NULL; e = e->next_acct)
			if (e->serial == prefer && gw_esme_receiver(e) &&
			    smpp_session_window_room(e->sess) > 0)
				return e;

	for (struct gw_esme *e = a->esmes; e != NULL; e = e->next_acct)
		n++;
	if (n == 0)
		return NULL;
	a->rr++;
	/* two passes: from the round-robin start, then from the head */
	for (int pass = 0; pass < 2; pass++) {
		k = 0;
		for (struct gw_esme *e = a->esmes; e != NULL;
		    e = e->next_acct, k++) {
			if (pass == 0 && k < a->rr % n)
				continue;
			if (gw_esme_receiver(e) &&
			    smpp_session_window_room(e->sess) > 0)
				return e;
		}
	}
	return NULL;
}

static bool
have_receiver(struct gw_acct *a)
{
	for (struct gw_esme *e = a->esmes; e != NULL; e = e->next_acct)
		if (gw_esme_receiver(e))
			return true;
	return false;
}

static void
dlv_free(struct gw_dlv *v)
{
	free(v->pdu);
	free(v);
}

static void
count_sent(struct gw_dlv *v)
{
	if (v->kind == DB_PENDING_RECEIPT)
		v->acct->receipts_sent++;
	else
		v->acct->mo_sent++;
}

static void
on_pushed(void *arg, enum db_status st, int64_t id)
{
	struct gw_dlv *v = arg;
	struct gw_acct *a = v->acct;

	a->pushes--;
	v->ctx->dlr_in_flight--;
	if (st == DB_OK) {
		a->queued++;
		a->qstate = GW_Q_NONEMPTY;
		if (v->kind == DB_PENDING_RECEIPT)
			a->receipts_queued++;
		else
			a->mo_queued++;
		smpp_log(SMPP_LOG_DEBUG, a->name, "deliver", "queued",
		    "row=%lld kind=%d", (long long)id, (int)v->kind);
	} else
		smpp_log(SMPP_LOG_WARN, a->name, "deliver", "queue_failed",
		    "db=%s", db_status_name(st));
	v->done(v->arg, st == DB_OK);
	if (st == DB_OK && !a->draining && have_receiver(a))
		drain(v->ctx, a);
	dlv_free(v);
}

/* Commits v's PDU to the queue; v is consumed. */
static void
push(struct gw_dlv *v)
{
	struct gw_acct *a = v->acct;
	const struct gw_account *acc = gw_config_account(v->ctx->gen->cfg,
	    a->name);
	enum db_status st = DB_EBUSY;

	if (acc == NULL || a->queued < (int64_t)acc->pending_max)
		st = db_pending_push(v->ctx->store, a->name, v->kind, v->pdu,
		    v->len, gw_now_ms(), on_pushed, v);
	if (st != DB_OK) {
		smpp_log(SMPP_LOG_WARN, a->name, "deliver", "queue_refused",
		    "db=%s queued=%lld", db_status_name(st),
		    (long long)a->queued);
		v->done(v->arg, false);
		dlv_free(v);
		return;
	}
	a->pushes++;
	v->ctx->dlr_in_flight++;
}

void
gw_deliver(struct gw_ctx *ctx, struct gw_acct *a, enum db_pending_kind kind,
    uint8_t *pdu, size_t len, uint64_t prefer, gw_deliver_done done,
    void *arg)
{
	struct gw_dlv *v = calloc(1, sizeof(*v));
	struct gw_esme *e;

	if (v == NULL) {
		free(pdu);
		done(arg, false);
		return;
	}
	v->ctx = ctx;
	v->acct = a;
	v->kind = kind;
	v->pdu = pdu;
	v->len = len;
	v->done = done;
	v->arg = arg;
	/* Straight up only when nothing older waits in the queue. */
	if (a->qstate == GW_Q_EMPTY && a->pushes == 0 && !a->draining &&
	    (e = pick_receiver(a, prefer)) != NULL &&
	    smpp_session_send_raw(e->sess, pdu, len, v) == 0) {
		v->esme = gw_esme_hold(e);
		ctx->dlr_in_flight++;
		return;
	}
	push(v);
}

static void
on_deleted(void *arg, enum db_status st, int64_t value)
{
	struct gw_acct *a = arg;

	(void)value;
	if (st != DB_OK)
		smpp_log(SMPP_LOG_WARN, a->name, "deliver", "delete_failed",
		    "db=%s", db_status_name(st));
}

void
gw_deliver_up_response(struct gw_esme *e, enum smpp_outcome out,
    const struct smpp_scan *resp, void *arg)
{
	struct gw_dlv *v = arg;
	struct gw_ctx *ctx = v->ctx;
	struct gw_acct *a = v->acct;
	bool ok = out == SMPP_OUT_RESP && resp->hdr.status == SMPP_ROK;

	gw_esme_release(v->esme);
	v->esme = NULL;
	if (v->pending_id == 0) {
		ctx->dlr_in_flight--;
		if (ok) {
			count_sent(v);
			v->done(v->arg, true);
			dlv_free(v);
			return;
		}
		smpp_log(SMPP_LOG_INFO, e->id, "deliver", "to_queue",
		    "outcome=%d status=%s", (int)out, out == SMPP_OUT_RESP ?
		    smpp_status_name(resp->hdr.status) : "-");
		push(v);
		return;
	}
	/* a drained queue row */
	a->drain_out--;
	if (ok) {
		count_sent(v);
		a->queued--;
		(void)db_pending_delete(ctx->store, v->pending_id, on_deleted,
		    a);
	} else
		a->drain_failed = true;
	dlv_free(v);
	if (a->drain_out == 0 && a->draining) {
		a->draining = false;
		if (!a->drain_failed && have_receiver(a))
			drain(ctx, a);
	}
}

static void
on_fetched(void *arg, enum db_status st, const struct db_pending *rows,
    size_t n)
{
	struct gw_acct *a = arg;
	struct gw_ctx *ctx = a->ctx;
	size_t i;

	if (st != DB_OK) {
		a->draining = false;
		return;
	}
	if (n == 0) {
		a->draining = false;
		if (!a->drain_failed && a->pushes == 0) {
			a->qstate = GW_Q_EMPTY;
			a->queued = 0;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		struct gw_esme *e = pick_receiver(a, 0);
		struct gw_dlv *v;

		if (e == NULL || (v = calloc(1, sizeof(*v))) == NULL)
			break;
		v->ctx = ctx;
		v->acct = a;
		v->kind = rows[i].kind;
		v->pending_id = rows[i].id;
		if (smpp_session_send_raw(e->sess, rows[i].pdu, rows[i].pdu_len,
		    v) != 0) {
			free(v);
			break;
		}
		v->esme = gw_esme_hold(e);
		a->after_id = rows[i].id;
		a->drain_out++;
	}
	if (a->drain_out == 0) {
		/* every receiver's window is full: look again shortly */
		struct timeval tv = { 0, 50000 };

		a->draining = false;
		if (a->drain_timer == NULL)
			a->drain_timer = evtimer_new(ctx->base, on_drain_timer,
			    a);
		if (a->drain_timer != NULL)
			evtimer_add(a->drain_timer, &tv);
	}
}

static void
drain(struct gw_ctx *ctx, struct gw_acct *a)
{
	if (ctx->store == NULL)
		return;
	if (a->draining)
		return;
	a->draining = true;
	a->drain_out = 0;
	if (db_pending_fetch(ctx->store, a->name, a->after_id, DRAIN_BATCH,
	    on_fetched, a) != DB_OK)
		a->draining = false;
}

void
gw_deliver_receiver_bound(struct gw_ctx *ctx, struct gw_acct *a)
{
	if (a->draining)
		return;
	/* a new receiver retries rows an earlier one refused */
	a->after_id = 0;
	a->drain_failed = false;
	if (a->qstate != GW_Q_EMPTY)
		drain(ctx, a);
}
