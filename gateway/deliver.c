/*
 * Deliveries to ESMEs (see deliver.h). One gw_dlv per PDU on its way:
 * either a direct one (done callback pending: the SMSC is not answered
 * yet; no queue row) or a queue row fetched from the durable queue
 * (pending_id set, no done callback). A gw_dlv is in at most one of the
 * account's lists (wait, held, back) or sent (esme set) at a time.
 *
 * pump() is the one place that sends: it runs whenever room may have
 * appeared (a response came, a receiver bound, a fetch or push finished,
 * the account's timer fired).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gateway/deliver.h"
#include "smpp/log.h"

#define DRAIN_BATCH	64
#define TICK_MS		100	/* timer: waits, retries, lost receivers */
#define HELD_TICK_MS	2	/* timer while a receipt waits for a resp */

struct gw_dlv {
	struct gw_dlv		*next;
	struct gw_ctx		*ctx;
	struct gw_acct		*acct;
	enum db_pending_kind	 kind;
	uint8_t			*pdu;		/* owned */
	size_t			 len;
	int64_t			 pending_id;	/* > 0: a queue row */
	gw_deliver_done		 done;
	void			*arg;
	uint64_t		 prefer;	/* submitting session's serial */
	uint64_t		 mark;		/* its resp's end (out_bytes) */
	int64_t			 release_ms;	/* mono: that resp was queued, plus
						 * the account's receipt_grace */
	int64_t			 since_ms;	/* mono: entered the wait list */
	int64_t			 held_ms;	/* mono: started waiting for a
						 * submit_sm_resp (0: never) */
	struct gw_esme		*esme;		/* held while sent */
};

static void pump(struct gw_acct *a);
static void push(struct gw_dlv *v);

/* ---- small lists ---- */

static void
list_add(struct gw_dlv **head, struct gw_dlv **tail, uint32_t *n,
    struct gw_dlv *v)
{
	v->next = NULL;
	if (*tail != NULL)
		(*tail)->next = v;
	else
		*head = v;
	*tail = v;
	(*n)++;
}

static struct gw_dlv *
list_take(struct gw_dlv **head, struct gw_dlv **tail, uint32_t *n)
{
	struct gw_dlv *v = *head;

	if (v == NULL)
		return NULL;
	*head = v->next;
	if (*head == NULL)
		*tail = NULL;
	v->next = NULL;
	(*n)--;
	return v;
}

static void
dlv_free(struct gw_dlv *v)
{
	free(v->pdu);
	free(v);
}

/* ---- receivers ---- */

static bool
have_receiver(struct gw_acct *a)
{
	for (struct gw_esme *e = a->esmes; e != NULL; e = e->next_acct)
		if (gw_esme_receiver(e))
			return true;
	return false;
}

static struct gw_esme *
pick_receiver(struct gw_acct *a, uint64_t prefer)
{
	unsigned n = 0, k;

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

/* Whether v's submit_sm_resp is not yet written on the session that
 * submitted it (one of this account's). */
static bool
resp_unwritten(struct gw_acct *a, const struct gw_dlv *v)
{
	if (v->mark == 0)
		return false;		/* no response of ours to wait for */
	for (struct gw_esme *e = a->esmes; e != NULL; e = e->next_acct)
		if (e->serial == v->prefer)
			return !gw_esme_written(e, v->mark);
	return false;		/* gone: nothing left to overtake */
}

/* Whether v, going up on another session than its submitter, must wait
 * for its submit_sm_resp (deliver.h): until it is written and the grace
 * has passed, at most GW_DELIVER_RESP_WAIT_MS. */
static bool
must_hold(struct gw_acct *a, const struct gw_dlv *v, int64_t now)
{
	if (v->mark == 0 || now - v->held_ms >= GW_DELIVER_RESP_WAIT_MS)
		return false;
	return now < v->release_ms || resp_unwritten(a, v);
}

/* ---- the account's timer ---- */

static void on_timer(evutil_socket_t fd, short what, void *arg);

/* Makes the timer fire within ms; never later than it was already due
 * (pump runs on every response: re-adding each time would push a due
 * timer back for as long as traffic flows). */
static void
arm(struct gw_acct *a, int ms)
{
	struct timeval tv = { 0, ms * 1000 };
	int64_t due = gw_mono_ms() + ms;

	if (a->pump_timer == NULL &&
	    (a->pump_timer = evtimer_new(a->ctx->base, on_timer, a)) == NULL)
		return;
	if (evtimer_pending(a->pump_timer, NULL) && a->timer_due_ms <= due)
		return;
	a->timer_due_ms = due;
	evtimer_add(a->pump_timer, &tv);
}

/* Moves held deliveries whose submit_sm_resp is out (or that waited long
 * enough) to the front of the wait list, in their order. */
static void
release_held(struct gw_acct *a, int64_t now)
{
	struct gw_dlv *keep_h = NULL, *keep_t = NULL, *go_h = NULL,
	    *go_t = NULL, *v;
	uint32_t nk = 0, ng = 0;

	while ((v = list_take(&a->held_head, &a->held_tail, &a->n_held))) {
		if (must_hold(a, v, now))
			list_add(&keep_h, &keep_t, &nk, v);
		else
			list_add(&go_h, &go_t, &ng, v);
	}
	a->held_head = keep_h;
	a->held_tail = keep_t;
	a->n_held = nk;
	if (go_h != NULL) {
		go_t->next = a->wait_head;
		if (a->wait_head == NULL)
			a->wait_tail = go_t;
		a->wait_head = go_h;
		a->n_wait += ng;
	}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_acct *a = arg;
	int64_t now = gw_mono_ms();
	struct gw_dlv *v;

	(void)fd;
	(void)what;
	release_held(a, now);
	if (!have_receiver(a)) {
		/* nobody to wait for: to the durable queue, in order */
		while ((v = list_take(&a->wait_head, &a->wait_tail,
		    &a->n_wait)) != NULL) {
			a->ctx->dlr_in_flight--;	/* push counts it */
			push(v);
		}
	} else
		while (a->wait_head != NULL &&
		    now - a->wait_head->since_ms >= GW_DELIVER_WAIT_MS) {
			v = list_take(&a->wait_head, &a->wait_tail,
			    &a->n_wait);
			a->waited_out++;
			a->ctx->dlr_in_flight--;
			push(v);
		}
	pump(a);
}

/* ---- the durable queue ---- */

static void
count_sent(struct gw_dlv *v)
{
	if (v->kind == DB_PENDING_RECEIPT)
		v->acct->receipts_sent++;
	else
		v->acct->mo_sent++;
}

static void
maybe_empty(struct gw_acct *a)
{
	if (a->exhausted && a->back_head == NULL && a->back_out == 0 &&
	    !a->fetching && a->pushes == 0 && !a->drain_failed) {
		a->qstate = GW_Q_EMPTY;
		a->queued = 0;
	}
}

static void
on_fetched(void *arg, enum db_status st, const struct db_pending *rows,
    size_t n)
{
	struct gw_acct *a = arg;
	struct gw_ctx *ctx = a->ctx;

	a->fetching = false;
	if (st != DB_OK) {
		smpp_log(SMPP_LOG_WARN, a->name, "deliver", "fetch_failed",
		    "db=%s", db_status_name(st));
		arm(a, TICK_MS);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct gw_dlv *v = calloc(1, sizeof(*v));

		if (v == NULL || (v->pdu = malloc(rows[i].pdu_len)) == NULL) {
			/* the rest stays in the queue for the next fetch */
			free(v);
			break;
		}
		memcpy(v->pdu, rows[i].pdu, rows[i].pdu_len);
		v->len = rows[i].pdu_len;
		v->ctx = ctx;
		v->acct = a;
		v->kind = rows[i].kind;
		v->pending_id = rows[i].id;
		a->after_id = rows[i].id;
		list_add(&a->back_head, &a->back_tail, &a->n_back, v);
	}
	if (n == 0) {
		a->exhausted = true;
		maybe_empty(a);
	}
	pump(a);
}

/* Fetches the next rows of the queue when none are in hand. */
static void
fetch_more(struct gw_acct *a)
{
	struct gw_ctx *ctx = a->ctx;

	if (ctx->store == NULL || a->fetching || a->back_head != NULL ||
	    !have_receiver(a))
		return;
	if (a->rescan && a->back_out == 0) {
		/* a new receiver retries rows an earlier one refused; only
		 * with nothing of the queue in hand, so no row goes twice */
		a->rescan = false;
		a->after_id = 0;
		a->drain_failed = false;
		a->exhausted = false;
	}
	if (a->qstate == GW_Q_EMPTY || a->exhausted)
		return;
	a->fetching = true;
	if (db_pending_fetch(ctx->store, a->name, a->after_id, DRAIN_BATCH,
	    on_fetched, a) != DB_OK) {
		a->fetching = false;
		arm(a, TICK_MS);
	}
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
		a->exhausted = false;
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
	dlv_free(v);
	pump(a);
}

/* Commits a direct delivery's PDU to the queue; v is consumed. */
static void
push(struct gw_dlv *v)
{
	struct gw_acct *a = v->acct;
	const struct gw_account *acc = gw_config_account(v->ctx->gen->cfg,
	    a->name);
	enum db_status st = DB_EBUSY;

	if (acc == NULL || a->queued + a->pushes < (int64_t)acc->pending_max)
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

/* ---- sending ---- */

/* Sends v on e; false if the session would not take it. */
static bool
send_up(struct gw_esme *e, struct gw_dlv *v)
{
	struct gw_acct *a = v->acct;

	if (gw_esme_send_raw(e, v->pdu, v->len, v) != 0)
		return false;
	v->esme = gw_esme_hold(e);
	if (v->pending_id != 0) {
		/* the row keeps the PDU; a refusal leaves it there */
		free(v->pdu);
		v->pdu = NULL;
		a->back_out++;
	}
	return true;
}

static void
pump(struct gw_acct *a)
{
	int64_t now = 0;
	bool stuck = false;

	for (;;) {
		bool w = a->wait_head != NULL, b = a->back_head != NULL;
		bool from_back = b && (!w || a->turn);
		struct gw_dlv *v = from_back ? a->back_head : a->wait_head;
		struct gw_esme *e;

		if (!w && !b)
			break;
		if ((e = pick_receiver(a, v->prefer)) == NULL)
			break;		/* no room: a response wakes us */
		if (!from_back && v->prefer != 0 && e->serial != v->prefer) {
			if (now == 0)
				now = gw_mono_ms();
			if (v->held_ms == 0)
				v->held_ms = now;
			if (must_hold(a, v, now)) {
				/* it could overtake its submit_sm_resp */
				v = list_take(&a->wait_head, &a->wait_tail,
				    &a->n_wait);
				list_add(&a->held_head, &a->held_tail,
				    &a->n_held, v);
				a->resp_waits++;
				smpp_log(SMPP_LOG_DEBUG, a->name, "deliver",
				    "resp_wait", "submitter=%llu receiver=%s",
				    (unsigned long long)v->prefer, e->id);
				continue;
			}
		}
		if (from_back)
			v = list_take(&a->back_head, &a->back_tail, &a->n_back);
		else
			v = list_take(&a->wait_head, &a->wait_tail, &a->n_wait);
		if (!send_up(e, v)) {
			/* put back in front; try again on the timer */
			if (from_back) {
				v->next = a->back_head;
				a->back_head = v;
				if (a->back_tail == NULL)
					a->back_tail = v;
				a->n_back++;
			} else {
				v->next = a->wait_head;
				a->wait_head = v;
				if (a->wait_tail == NULL)
					a->wait_tail = v;
				a->n_wait++;
			}
			stuck = true;
			break;
		}
		if (w && b)
			a->turn = !from_back;
	}
	if (a->back_head == NULL)
		fetch_more(a);
	if (a->held_head != NULL)
		arm(a, HELD_TICK_MS);
	else if (stuck || a->wait_head != NULL ||
	    (a->back_head != NULL && have_receiver(a)))
		arm(a, TICK_MS);
}

static void deliver_one(struct gw_ctx *ctx, struct gw_acct *a,
    enum db_pending_kind kind, uint8_t *pdu, size_t len, uint64_t prefer,
    const struct gw_hint *hint, uint32_t grace_ms, gw_deliver_done done,
    void *arg);

void
gw_deliver(struct gw_ctx *ctx, struct gw_acct *a, enum db_pending_kind kind,
    uint8_t *pdu, size_t len, uint64_t prefer, gw_deliver_done done,
    void *arg)
{
	deliver_one(ctx, a, kind, pdu, len, prefer, NULL, 0, done, arg);
}

void
gw_deliver_receipt(struct gw_ctx *ctx, struct gw_acct *a, uint8_t *pdu,
    size_t len, const struct gw_hint *hint, uint32_t grace_ms,
    gw_deliver_done done, void *arg)
{
	deliver_one(ctx, a, DB_PENDING_RECEIPT, pdu, len,
	    hint != NULL ? hint->esme_serial : 0, hint, grace_ms, done, arg);
}

static void
deliver_one(struct gw_ctx *ctx, struct gw_acct *a, enum db_pending_kind kind,
    uint8_t *pdu, size_t len, uint64_t prefer, const struct gw_hint *hint,
    uint32_t grace_ms, gw_deliver_done done, void *arg)
{
	struct gw_dlv *v = calloc(1, sizeof(*v));

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
	v->prefer = prefer;
	if (hint != NULL) {
		v->mark = hint->mark;
		v->release_ms = hint->resp_ms + grace_ms;
	}
	if (!have_receiver(a) || a->n_wait >= GW_DELIVER_WAIT_MAX) {
		push(v);
		return;
	}
	/* the SMSC is answered once the ESME took it (or the queue did) */
	v->since_ms = gw_mono_ms();
	list_add(&a->wait_head, &a->wait_tail, &a->n_wait, v);
	ctx->dlr_in_flight++;
	pump(a);
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
		/* a direct one: its dlr_in_flight passes to the push */
		ctx->dlr_in_flight--;
		if (ok) {
			count_sent(v);
			v->done(v->arg, true);
			dlv_free(v);
		} else {
			smpp_log(SMPP_LOG_INFO, e->id, "deliver", "to_queue",
			    "outcome=%d status=%s", (int)out,
			    out == SMPP_OUT_RESP ?
			    smpp_status_name(resp->hdr.status) : "-");
			push(v);
		}
	} else {
		a->back_out--;
		if (ok) {
			count_sent(v);
			a->queued--;
			(void)db_pending_delete(ctx->store, v->pending_id,
			    on_deleted, a);
		} else
			a->drain_failed = true;
		dlv_free(v);
		maybe_empty(a);
	}
	pump(a);
}

void
gw_deliver_receiver_bound(struct gw_ctx *ctx, struct gw_acct *a)
{
	(void)ctx;
	if (a->drain_failed)
		a->rescan = true;
	a->exhausted = false;
	pump(a);
}

void
gw_deliver_session_gone(struct gw_ctx *ctx, struct gw_acct *a)
{
	(void)ctx;
	if ((a->wait_head != NULL || a->held_head != NULL) &&
	    !have_receiver(a))
		arm(a, 0);
}

void
gw_deliver_acct_free(struct gw_acct *a)
{
	struct gw_dlv *v;

	if (a->pump_timer != NULL)
		event_free(a->pump_timer);
	a->pump_timer = NULL;
	while ((v = list_take(&a->held_head, &a->held_tail, &a->n_held)))
		list_add(&a->wait_head, &a->wait_tail, &a->n_wait, v);
	while ((v = list_take(&a->wait_head, &a->wait_tail, &a->n_wait))) {
		a->ctx->dlr_in_flight--;
		v->done(v->arg, false);
		dlv_free(v);
	}
	while ((v = list_take(&a->back_head, &a->back_tail, &a->n_back)))
		dlv_free(v);
}
