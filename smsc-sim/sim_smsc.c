/*
 * The SMPP side of smsc-sim. Listeners hand connections to server
 * sessions (smpp/session.h); binds are checked against the accounts;
 * submit_sm, data_sm and submit_multi are answered from the scan view
 * (no libsmpp34 decode) with an id in the account's format, stored in the
 * destination handset, and their receipts queued. Receipts and MO leave
 * as raw deliver_sm (sim_pdu.c). A receipt is queued only once its
 * submit's response is in the session's output, and a receipt for another
 * session waits until the submitting session's output has been written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "smpp/build.h"
#include "smpp/concat.h"
#include "smpp/dlr.h"
#include "smpp/listener.h"
#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/text.h"
#include "smpp/tls.h"
#include "sim_handset.h"
#include "sim_pdu.h"
#include "sim_smsc.h"

#define MAX_DYNAMIC_ACCOUNTS	256
#define CTX_RECEIPT		((void *)(uintptr_t)1)
#define CTX_MO			((void *)(uintptr_t)2)
#define DLR_BATCH		4096	/* receipts per ring per drain run, so
					 * one busy ring cannot starve I/O */

static void rq_init(struct sim_rq *q, struct sim_conn *c,
    struct sim_account *a);
static void rq_run(struct sim *sim, struct sim_rq *q);
static void conn_hand_over(struct sim *sim, struct sim_conn *c);

/* ---- counters ------------------------------------------------------ */

static void
count_status(struct sim_stats *st, uint32_t status)
{
	for (int i = 0; i < SIM_STATUS_SLOTS; i++) {
		if (st->status_count[i] != 0 && st->status_code[i] == status) {
			st->status_count[i]++;
			return;
		}
		if (st->status_count[i] == 0) {
			st->status_code[i] = status;
			st->status_count[i] = 1;
			return;
		}
	}
	st->status_other++;
}

/* ---- accounts ------------------------------------------------------ */

static struct sim_account *
add_account(struct sim *sim, const struct sim_account_cfg *cfg, int dynamic)
{
	struct sim_account *a;

	if (sim->n_accts == sim->cap_accts) {
		uint32_t nc = sim->cap_accts ? sim->cap_accts * 2 : 16;
		struct sim_account **na = realloc(sim->accts,
		    nc * sizeof(*na));

		if (na == NULL)
			return NULL;
		sim->accts = na;
		sim->cap_accts = nc;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->cfg = *cfg;
	rq_init(&a->rq, NULL, a);
	a->index = sim->n_accts;
	a->dynamic = dynamic;
	sim->accts[sim->n_accts++] = a;
	return a;
}

struct sim_account *
sim_smsc_account(struct sim *sim, const char *sid)
{
	for (uint32_t i = 0; i < sim->n_accts; i++)
		if (strcmp(sim->accts[i]->cfg.system_id, sid) == 0)
			return sim->accts[i];
	return NULL;
}

static void
attach(struct sim_conn *c, struct sim_account *a, int can_rx)
{
	c->acct = a;
	c->can_rx = can_rx;
	c->aprev = NULL;
	c->anext = a->conns;
	if (a->conns)
		a->conns->aprev = c;
	a->conns = c;
	a->n_bound++;
	rq_init(&c->rq, c, a);
	c->full = 0;
	/* A new receiver: receipts held for the account may go now. */
	if (can_rx && sim_rfifo_len(&a->rq.f) > 0)
		rq_run(c->sim, &a->rq);
}

static void
detach(struct sim_conn *c)
{
	struct sim_account *a = c->acct;

	if (a == NULL)
		return;
	/* Its receipts first, while it is still in the account's list. */
	conn_hand_over(c->sim, c);
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		a->conns = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	a->n_bound--;
	c->acct = NULL;
	c->can_rx = 0;
}

/* ---- binds --------------------------------------------------------- */

static int
str_is(const struct smpp_str *s, const char *want)
{
	size_t n = strlen(want);

	return s->len == n && CRYPTO_memcmp(s->p, want, n) == 0;
}

static void
on_bind(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct sim_conn *c = arg;
	struct sim *sim = c->sim;
	const struct sim_config *cfg = sim->cfg;
	struct sim_account *a = NULL;
	char sid[SMPP_SYSTEM_ID_MAX], esc[64];
	unsigned bit;
	uint32_t status = SMPP_ROK;
	const char *why = "ok";

	snprintf(sid, sizeof(sid), "%.*s", (int)req->system_id.len,
	    (const char *)req->system_id.p);
	bit = req->hdr.id == SMPP_BIND_TRANSMITTER ? SIM_BIND_TX :
	    req->hdr.id == SMPP_BIND_RECEIVER ? SIM_BIND_RX : SIM_BIND_TRX;
	a = sim_smsc_account(sim, sid);
	if (sim->faults.f.refuse_binds) {
		status = sim->faults.f.refuse_status;
		why = "fault_refuse_binds";
	} else if (!cfg->accept_any && cfg->n_accounts > 0) {
		if (a == NULL || a->dynamic) {
			status = SMPP_RINVSYSID;
			why = "unknown_system_id";
			a = NULL;
		} else if (!str_is(&req->password, a->cfg.password)) {
			status = SMPP_RINVPASWD;
			why = "bad_password";
		}
	} else if (a == NULL) {
		struct sim_account_cfg ac;

		memset(&ac, 0, sizeof(ac));
		snprintf(ac.system_id, sizeof(ac.system_id), "%s", sid);
		ac.binds = SIM_BIND_ALL;
		ac.window = cfg->default_window;
		ac.id_format = cfg->default_id_format;
		if (sim->n_accts >= cfg->n_accounts + MAX_DYNAMIC_ACCOUNTS ||
		    (a = add_account(sim, &ac, 1)) == NULL) {
			status = SMPP_RBINDFAIL;
			why = "too_many_accounts";
		}
	}
	if (status == SMPP_ROK && !(a->cfg.binds & bit)) {
		status = SMPP_RBINDFAIL;
		why = "bind_type_not_allowed";
	}
	if (status == SMPP_ROK && a->cfg.max_binds != 0 &&
	    a->n_bound >= a->cfg.max_binds) {
		status = SMPP_RBINDFAIL;
		why = "max_binds";
	}
	smpp_log(status == SMPP_ROK ? SMPP_LOG_INFO : SMPP_LOG_WARN, c->name,
	    "sim", status == SMPP_ROK ? "bind_ok" : "bind_refused",
	    "system_id=%s cmd=%s status=0x%x why=%s",
	    smpp_log_escape(sid, strlen(sid), esc, sizeof(esc)),
	    smpp_command_name(req->hdr.id), status, why);
	if (a != NULL) {
		if (status == SMPP_ROK)
			a->st.binds_ok++;
		else
			a->st.binds_refused++;
	}
	if (status == SMPP_ROK)
		attach(c, a, bit != SIM_BIND_TX);
	if (smpp_session_bind_reply(s, status, cfg->smsc_system_id) != 0 &&
	    status == SMPP_ROK)
		detach(c);
}

/* ---- receipts ------------------------------------------------------ */

/*
 * Receipt scheduling. A receipt that is due sits in a FIFO ring: the
 * ring of its submitting session when that session takes deliver_sm
 * (receipts go there first), else its account's ring (any RX/TRX of the
 * account may take it). Receipts with a delay wait in the heap and move
 * to their ring when due. A ring is on the run list when it may make
 * progress; the drain event sends from the rings on that list until a
 * receiver's window fills. A full receiver is marked and left alone: the
 * session's ops->writable (window room back) puts its rings on the run
 * list again, so a large backlog costs nothing while it waits. Two waits
 * have no session event to wake them and use the retry timer: the
 * submitting session's output not yet written (receipt for another
 * session), and the hold limit of an account with no receiver.
 */

static void dlr_arm(struct sim *sim, uint64_t due);

static void
rq_init(struct sim_rq *q, struct sim_conn *c, struct sim_account *a)
{
	memset(q, 0, sizeof(*q));
	q->conn = c;
	q->acct = a;
}

static void
rq_unlink(struct sim *sim, struct sim_rq *q)
{
	if (!q->on_run)
		return;
	if (q->rprev)
		q->rprev->rnext = q->rnext;
	else
		sim->run_head = q->rnext;
	if (q->rnext)
		q->rnext->rprev = q->rprev;
	else
		sim->run_tail = q->rprev;
	q->rprev = q->rnext = NULL;
	q->on_run = 0;
	sim->n_run--;
}

/* Puts q on the run list (at the tail) and makes sure a drain follows. */
static void
rq_run(struct sim *sim, struct sim_rq *q)
{
	if (!q->on_run) {
		q->on_run = 1;
		q->rnext = NULL;
		q->rprev = sim->run_tail;
		if (sim->run_tail)
			sim->run_tail->rnext = q;
		else
			sim->run_head = q;
		sim->run_tail = q;
		sim->n_run++;
	}
	if (!sim->drain_pending) {
		sim->drain_pending = 1;
		event_active(sim->drain_ev, EV_TIMEOUT, 0);
	}
}

static int
conn_takes_receipts(const struct sim_conn *c)
{
	return c->acct != NULL && c->can_rx && !c->dropping;
}

/* The account's bound session that submitted r, or NULL. */
static struct sim_conn *
find_sub(const struct sim_account *a, uint64_t serial)
{
	for (struct sim_conn *c = a->conns; c != NULL; c = c->anext)
		if (c->serial == serial)
			return c;
	return NULL;
}

/*
 * Puts a due receipt in its ring: its submitting session's (sub, or found
 * by serial when NULL) if that one takes deliver_sm, else the account's.
 * 0, or -1 when the ring could not grow (the caller counts the drop).
 */
static int
route(struct sim *sim, struct sim_conn *sub, const struct sim_receipt *r)
{
	struct sim_account *a = sim->accts[r->acct];
	struct sim_rq *q = &a->rq;

	if (sub == NULL)
		sub = find_sub(a, r->conn_serial);
	if (sub != NULL && sub->acct == a && conn_takes_receipts(sub))
		q = &sub->rq;
	if (sim_rfifo_push(&q->f, r) != 0)
		return -1;
	if (q->conn == NULL || !q->conn->full)
		rq_run(sim, q);
	return 0;
}

/* Moves the heap's receipts due by now to their rings, in due order. */
static void
move_due(struct sim *sim, uint64_t now)
{
	const struct sim_receipt *top;
	struct sim_receipt r;

	while ((top = sim_dlrq_peek(sim->dlrq)) != NULL && top->due_ms <= now) {
		sim_dlrq_pop(sim->dlrq, &r);
		if (route(sim, NULL, &r) != 0) {
			sim->accts[r.acct]->st.receipts_dropped++;
			sim->dlr_pending--;
		}
	}
}

/* One receipt of c's submit, delay ms from now. */
static void
schedule_receipt(struct sim *sim, struct sim_conn *c, struct sim_receipt *r,
    uint64_t now, uint32_t delay)
{
	struct sim_account *a = sim->accts[r->acct];

	if (sim->dlr_pending >= sim->cfg->receipts.queue_max) {
		a->st.receipts_dropped++;
		return;
	}
	r->due_ms = now + delay;
	r->first_ms = r->due_ms;
	if (delay > 0) {
		if (sim_dlrq_push(sim->dlrq, r) != 0) {
			a->st.receipts_dropped++;
			return;
		}
		sim->dlr_pending++;
		dlr_arm(sim, r->due_ms);
		return;
	}
	/* Heap receipts due by now go first: each ring stays in due order. */
	move_due(sim, now);
	if (route(sim, c, r) != 0) {
		a->st.receipts_dropped++;
		return;
	}
	sim->dlr_pending++;
}

/* Queues the receipts of a message of c whose response is now in c's
 * output (so nothing queued here can overtake it). */
static void
queue_receipts(struct sim *sim, struct sim_conn *c, struct sim_receipt *rs,
    int n)
{
	uint64_t now = sim_now_ms();
	const struct sim_receipts_cfg *rc = &sim->cfg->receipts;

	for (int i = 0; i < n; i++) {
		struct sim_receipt *r = &rs[i];
		uint32_t d = 0;

		if (r->out != SIM_OUT_ENROUTE) {
			d = sim_dlr_delay(rc, &sim->rng);
			if (r->err & 0x8000u) {		/* late flag */
				d += rc->late_ms;
			}
		}
		if (r->err & 0x4000u) {		/* duplicate flag */
			r->err &= (uint16_t)~0x4000u;
			r->err &= (uint16_t)~0x8000u;
			schedule_receipt(sim, c, r, now, d);
			schedule_receipt(sim, c, r, now, d);
			continue;
		}
		r->err &= (uint16_t)~0x8000u;
		schedule_receipt(sim, c, r, now, d);
	}
}

/* c no longer takes deliver_sm (unbinding, dropped, closed): its
 * receipts go to the account's ring, for the account's other receivers
 * or the hold limit. */
static void
conn_hand_over(struct sim *sim, struct sim_conn *c)
{
	struct sim_rfifo *f = &c->rq.f;
	const struct sim_receipt *r;
	struct sim_account *a;

	rq_unlink(sim, &c->rq);
	if ((r = sim_rfifo_front(f)) == NULL) {
		sim_rfifo_clear(f);
		return;
	}
	a = sim->accts[r->acct];
	if (sim_rfifo_merge(&a->rq.f, f) != 0) {
		a->st.receipts_dropped += sim_rfifo_len(f);
		sim->dlr_pending -= sim_rfifo_len(f);
		sim_rfifo_clear(f);
		return;
	}
	rq_run(sim, &a->rq);
}

/* 2-entry cache of YYMMDDhhmm dates: receipts mostly share a minute. */
static void
cached_date(struct sim *sim, int64_t t, char out[13])
{
	int slot = (int)(t / 60) & 1;

	if (sim->date_min[slot] != t / 60 + 1) {
		smpp_dlr_date(t * 1000, sim->date_str[slot]);
		sim->date_min[slot] = t / 60 + 1;
	}
	memcpy(out, sim->date_str[slot], 13);
}

/* A bounded writer for the receipt text: a write that does not fit is
 * cut at the end of the buffer (cap includes no NUL). */
struct tcur {
	char	*p;
	size_t	 len, cap;
};

static void
tput(struct tcur *t, const char *s, size_t n)
{
	if (n > t->cap - t->len)
		n = t->cap - t->len;
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

/* Three decimal digits of v % 1000, as "%03u" writes them. */
static void
tput3(struct tcur *t, unsigned v)
{
	char d[3] = { (char)('0' + v / 100 % 10), (char)('0' + v / 10 % 10),
	    (char)('0' + v % 10) };

	tput(t, d, 3);
}

#define TLIT(t, s)	tput((t), (s), sizeof(s) - 1)

/*
 * The Appendix B receipt text, byte for byte what smpp_dlr_format()
 * writes for these fields ("id:%s sub:%03u dlvrd:%03u submit date:%s done
 * date:%s stat:%s err:%03u text:" and the text), written by hand: it runs
 * once per receipt, and through snprintf it was the largest single cost
 * of the simulator under load. Every field is ours (an id of the
 * account's format, a known stat name, 10-digit dates), so nothing needs
 * checking. Returns the length (at most cap).
 */
static size_t
receipt_text(struct sim *sim, const struct sim_receipt *r, const char *id,
    size_t idlen, char *out, size_t cap)
{
	struct tcur t = { out, 0, cap };
	char date[13];
	const char *stat = sim_outcome_name((enum sim_outcome)r->out);

	TLIT(&t, "id:");
	tput(&t, id, idlen);
	TLIT(&t, " sub:001 dlvrd:");
	tput3(&t, r->out == SIM_OUT_DELIVRD ? 1 : 0);
	TLIT(&t, " submit date:");
	cached_date(sim, r->submit_time, date);
	tput(&t, date, 10);
	TLIT(&t, " done date:");
	cached_date(sim, (int64_t)time(NULL), date);
	tput(&t, date, 10);
	TLIT(&t, " stat:");
	tput(&t, stat, strlen(stat));
	TLIT(&t, " err:");
	tput3(&t, (unsigned)r->err % 1000u);
	TLIT(&t, " text:");
	tput(&t, r->text, r->text_len);
	return t.len;
}

static int
send_receipt(struct sim *sim, struct sim_conn *c, const struct sim_receipt *r)
{
	struct sim_account *a = c->acct;
	struct sim_deliver dv;
	char id[SIM_MSGID_MAX], text[SMPP_SHORT_MESSAGE_MAX];
	uint8_t pdu[512], state = sim_outcome_state((enum sim_outcome)r->out);
	uint8_t nec[3];
	size_t len, idlen, tl;

	idlen = sim_msgid_format(a->cfg.id_format, r->id_num, sim->id_salt,
	    id);
	tl = receipt_text(sim, r, id, idlen, text, sizeof(text));
	memset(&dv, 0, sizeof(dv));
	dv.src_ton = r->dst_ton;
	dv.src_npi = r->dst_npi;
	dv.src = r->dst;
	dv.dst_ton = r->src_ton;
	dv.dst_npi = r->src_npi;
	dv.dst = r->src;
	dv.esm_class = r->out == SIM_OUT_ENROUTE ? SMPP_ESM_INTERMEDIATE :
	    SMPP_ESM_DLR;
	dv.sm = (const uint8_t *)text;
	dv.sm_len = tl;
	dv.tlvs[0] = (struct sim_tlv){ SMPP_TLV_RECEIPTED_MESSAGE_ID,
	    (uint16_t)(idlen + 1), id };
	dv.tlvs[1] = (struct sim_tlv){ SMPP_TLV_MESSAGE_STATE, 1, &state };
	dv.n_tlvs = 2;
	if (r->err != 0) {
		nec[0] = 3;	/* GSM */
		nec[1] = (uint8_t)(r->err >> 8);
		nec[2] = (uint8_t)r->err;
		dv.tlvs[2] = (struct sim_tlv){ SMPP_TLV_NETWORK_ERROR_CODE, 3,
		    nec };
		dv.n_tlvs = 3;
	}
	if ((len = sim_build_deliver(pdu, sizeof(pdu), &dv)) == 0)
		return -1;
	if (smpp_session_send_raw(c->s, pdu, len, CTX_RECEIPT) != 0)
		return 1;	/* busy: try later */
	a->st.receipts[r->out]++;
	return 0;
}

/* Output bytes not yet written to the peer of c. */
static size_t
unwritten(const struct sim_conn *c)
{
	struct smpp_session_stats st;

	smpp_session_stats(c->s, &st);
	return st.out_queued;
}

/* Moves c to the end of its account's list so that receipts of the
 * account's ring spread over its receivers. */
static void
rotate(struct sim_account *a, struct sim_conn *c)
{
	struct sim_conn *t;

	if (c->anext == NULL)
		return;
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		a->conns = c->anext;
	c->anext->aprev = c->aprev;
	for (t = c->anext; t->anext != NULL; t = t->anext)
		;
	t->anext = c;
	c->aprev = t;
	c->anext = NULL;
}

/* Sends from c's own ring until it is empty, c's window or output is
 * full (then ops->writable wakes it), or budget runs out. */
static void
drain_conn(struct sim *sim, struct sim_conn *c, int budget)
{
	struct sim_rfifo *f = &c->rq.f;
	const struct sim_receipt *r;

	if (!conn_takes_receipts(c)) {
		conn_hand_over(sim, c);
		return;
	}
	while (!c->full && (r = sim_rfifo_front(f)) != NULL) {
		int rc;

		if (budget-- == 0) {
			rq_run(sim, &c->rq);
			return;
		}
		if ((rc = send_receipt(sim, c, r)) > 0) {
			c->full = 1;
			return;
		}
		if (rc < 0)
			c->acct->st.receipts_dropped++;
		sim_rfifo_pop(f);
		sim->dlr_pending--;
	}
}

/* The retry timer: for waits no session event ends (see above). */
static void
retry_arm(struct sim *sim, uint64_t due)
{
	uint64_t now = sim_now_ms(), ms;
	struct timeval tv;

	if (sim->retry_armed_ms != 0 && sim->retry_armed_ms <= due)
		return;
	sim->retry_armed_ms = due > now ? due : now + 1;
	ms = sim->retry_armed_ms - now;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	event_add(sim->retry_ev, &tv);
}

/*
 * Sends from the account's ring: on a receiver of the account (rotating;
 * skipping full ones), once the submitting session's output is written
 * (the response must not be overtaken). With no receiver at all, a
 * receipt waits receipts.hold_ms from its due time, then is dropped.
 */
static void
drain_acct(struct sim *sim, struct sim_account *a, uint64_t now, int budget)
{
	struct sim_rfifo *f = &a->rq.f;
	const struct sim_receipt *r;
	uint32_t hold = sim->cfg->receipts.hold_ms;

	while ((r = sim_rfifo_front(f)) != NULL) {
		struct sim_conn *c, *sub, *pick = NULL;
		int any = 0, rc;

		if (budget-- == 0) {
			rq_run(sim, &a->rq);
			return;
		}
		sub = find_sub(a, r->conn_serial);
		for (c = a->conns; c != NULL; c = c->anext) {
			if (!conn_takes_receipts(c))
				continue;
			any = 1;
			if (!c->full) {
				pick = c;
				break;
			}
		}
		if (!any) {
			if (r->first_ms + hold <= now) {
				a->st.receipts_dropped++;
				sim_rfifo_pop(f);
				sim->dlr_pending--;
				continue;
			}
			retry_arm(sim, r->first_ms + hold);
			return;
		}
		if (pick == NULL)
			return;		/* every receiver full: writable wakes us */
		if (sub != NULL && unwritten(sub) > 0) {
			retry_arm(sim, now + 1);
			return;
		}
		if ((rc = send_receipt(sim, pick, r)) > 0) {
			pick->full = 1;
			continue;	/* the next receiver, same receipt */
		}
		if (rc < 0)
			a->st.receipts_dropped++;
		sim_rfifo_pop(f);
		sim->dlr_pending--;
		rotate(a, pick);
	}
}

/* The drain event: each ring on the run list once, in list order. */
static void
dlr_drain(evutil_socket_t fd, short what, void *arg)
{
	struct sim *sim = arg;
	uint64_t now = sim_now_ms();
	uint32_t n = sim->n_run;

	(void)fd;
	(void)what;
	sim->drain_pending = 0;
	while (n-- > 0 && sim->run_head != NULL) {
		struct sim_rq *q = sim->run_head;

		rq_unlink(sim, q);
		if (q->conn != NULL)
			drain_conn(sim, q->conn, DLR_BATCH);
		else
			drain_acct(sim, q->acct, now, DLR_BATCH);
	}
}

/* The heap timer: receipts whose delay is over move to their rings. */
static void
dlr_due(evutil_socket_t fd, short what, void *arg)
{
	struct sim *sim = arg;
	const struct sim_receipt *top;

	(void)fd;
	(void)what;
	sim->dlr_armed_ms = 0;
	move_due(sim, sim_now_ms());
	if ((top = sim_dlrq_peek(sim->dlrq)) != NULL)
		dlr_arm(sim, top->due_ms);
}

/* The retry timer: every account with receipts waiting runs again. */
static void
dlr_retry(evutil_socket_t fd, short what, void *arg)
{
	struct sim *sim = arg;

	(void)fd;
	(void)what;
	sim->retry_armed_ms = 0;
	for (uint32_t i = 0; i < sim->n_accts; i++)
		if (sim_rfifo_len(&sim->accts[i]->rq.f) > 0)
			rq_run(sim, &sim->accts[i]->rq);
}

static void
dlr_arm(struct sim *sim, uint64_t due)
{
	uint64_t now;
	struct timeval tv;

	if (sim->dlr_armed_ms != 0 && sim->dlr_armed_ms <= due)
		return;
	now = sim_now_ms();
	sim->dlr_armed_ms = due > now ? due : now;
	tv.tv_sec = (time_t)((sim->dlr_armed_ms - now) / 1000);
	tv.tv_usec = (suseconds_t)(((sim->dlr_armed_ms - now) % 1000) * 1000);
	event_add(sim->dlr_ev, &tv);
}

/* ---- submits ------------------------------------------------------- */

/* Admission: faults and the account TPS cap; 0 when accepted. */
static uint32_t
admit(struct sim *sim, struct sim_account *a)
{
	struct sim_faults *f = &sim->faults;
	uint64_t sec;

	if (f->f.throttle_tps != 0 || a->cfg.tps != 0) {
		sec = sim_now_ms() / 1000;
		if (f->f.throttle_tps != 0) {
			if (f->tps_sec != sec) {
				f->tps_sec = sec;
				f->tps_count = 0;
			}
			if (f->tps_count >= f->f.throttle_tps)
				return SMPP_RTHROTTLED;
			f->tps_count++;
		}
		if (a->cfg.tps != 0) {
			if (a->tps_sec != sec) {
				a->tps_sec = sec;
				a->tps_count = 0;
			}
			if (a->tps_count >= a->cfg.tps)
				return SMPP_RTHROTTLED;
			a->tps_count++;
		}
	}
	if (f->f.error_pct != 0 && sim_rng_below(&sim->rng, 100) <
	    f->f.error_pct)
		return f->f.error_status;
	return SMPP_ROK;
}

/* Fills up to two receipts (ENROUTE, final) for one destination. */
static int
make_receipts(struct sim *sim, struct sim_conn *c, const struct smpp_scan *req,
    const char *dst, uint8_t dst_ton, uint8_t dst_npi, uint64_t id_num,
    const uint8_t *body, size_t blen, struct sim_receipt *rs)
{
	const struct sim_receipts_cfg *rc = &sim->cfg->receipts;
	uint8_t rd = req->registered_delivery;
	struct sim_outcome_pick p;
	struct sim_receipt r;
	int n = 0, want;

	if ((rd & 0x13) == 0)
		return 0;
	if (rc->mode == SIM_DLR_DETERMINISTIC)
		sim_dlr_pick_deterministic(dst, strlen(dst), &p);
	else
		sim_dlr_pick_random(rc, &sim->rng, &p);
	memset(&r, 0, sizeof(r));
	r.id_num = id_num;
	r.conn_serial = c->serial;
	r.submit_time = (int64_t)time(NULL);
	r.acct = c->acct->index;
	r.src_ton = req->src.ton;
	r.src_npi = req->src.npi;
	smpp_str_copy(r.src, sizeof(r.src), &req->src.addr);
	r.dst_ton = dst_ton;
	r.dst_npi = dst_npi;
	sim_copy_str(r.dst, sizeof(r.dst), dst);
	r.text_len = (uint8_t)(blen < sizeof(r.text) ? blen : sizeof(r.text));
	for (size_t i = 0; i < r.text_len; i++)
		r.text[i] = (body[i] >= 0x20 && body[i] < 0x7f) ?
		    (char)body[i] : '.';
	if ((rd & 0x10) && rc->intermediate) {
		rs[n] = r;
		rs[n].out = SIM_OUT_ENROUTE;
		rs[n].err = 0;
		n++;
	}
	switch (rd & 0x03) {
	case 1: want = 1; break;
	case 2: want = p.out != SIM_OUT_DELIVRD; break;
	case 3: want = p.out == SIM_OUT_DELIVRD; break;
	default: want = 0; break;
	}
	if (want) {
		rs[n] = r;
		rs[n].out = (uint8_t)p.out;
		/* Flags ride in the err's high bits until queued. */
		rs[n].err = (uint16_t)(p.err | (p.late ? 0x8000u : 0) |
		    (p.duplicate ? 0x4000u : 0));
		n++;
	}
	return n;
}

/* The body and SAR values of a message. */
static void
mt_body(const struct smpp_scan *req, struct sim_mt *mt)
{
	const struct smpp_tlv_view *t;

	mt->sm = req->short_message.p;
	mt->sm_len = req->short_message.len;
	mt->dcs = req->data_coding;
	mt->esm_class = req->esm_class;
	if ((t = smpp_scan_tlv(req, SMPP_TLV_MESSAGE_PAYLOAD)) != NULL &&
	    (mt->sm_len == 0 || req->hdr.id == SMPP_DATA_SM)) {
		mt->sm = t->val;
		mt->sm_len = t->len;
	}
	if (req->hdr.id == SMPP_DATA_SM && mt->sm == NULL) {
		mt->sm = (const uint8_t *)"";
		mt->sm_len = 0;
	}
	mt->sar = 0;
	if (req->n_tlvs > 0) {
		struct smpp_concat_info ci;

		if (smpp_sar_read(req, &ci) == 1) {
			mt->sar = 1;
			mt->sar_ref = ci.ref;
			mt->sar_total = ci.total;
			mt->sar_seq = ci.seq;
		}
	}
}

static void delayed_arm(struct sim_conn *c);

/*
 * Backpressure from receipts to submits: when this many receipts wait
 * for one session (its peer takes deliver_sm slower than it submits),
 * that session's submit responses wait in its delay queue until the ring
 * is below it again. The ESME's window then holds it back, instead of
 * the bounded queue overflowing and dropping receipts on a long run.
 */
#define RQ_BACKLOG_MAX		65536

static int
rq_backlog(const struct sim_conn *c)
{
	return sim_rfifo_len(&c->rq.f) >= RQ_BACKLOG_MAX;
}

/* Queues a response for later (response delay fault); -1 if full. */
static int
delay_reply(struct sim_conn *c, struct smpp_req_ref ref, uint32_t status,
    uint64_t id_num, struct sim_receipt *rs, int n)
{
	struct sim_delayed *d;
	uint32_t cap = c->acct->cfg.window ? c->acct->cfg.window : 256;
	uint32_t delay = c->sim->faults.f.delay_ms;
	uint32_t early = c->sim->cfg->receipts.before_response_ms;

	if (c->dq_len >= cap)
		return -1;
	if (c->dq == NULL) {
		if ((c->dq = calloc(cap, sizeof(*c->dq))) == NULL)
			return -1;
		c->dq_cap = cap;
	}
	if (c->dq_len >= c->dq_cap)
		return -1;
	d = &c->dq[(c->dq_head + c->dq_len) % c->dq_cap];
	c->dq_len++;
	d->due_ms = sim_now_ms() + (delay > early ? delay : early);
	d->ref = ref;
	d->status = status;
	d->id_num = id_num;
	d->n_receipts = n;
	for (int i = 0; i < n && i < 2; i++)
		d->r[i] = rs[i];
	if (c->dq_len == 1)
		delayed_arm(c);
	return 0;
}

static void
send_reply(struct sim_conn *c, struct smpp_req_ref ref, uint32_t status,
    uint64_t id_num, struct sim_receipt *rs, int n)
{
	char id[SIM_MSGID_MAX];

	if (status == SMPP_ROK)
		sim_msgid_format(c->acct->cfg.id_format, id_num,
		    c->sim->id_salt, id);
	if (smpp_session_reply(c->s, ref, status,
	    status == SMPP_ROK ? id : NULL) != 0)
		return;
	if (n > 0)
		queue_receipts(c->sim, c, rs, n);
}

static void
delayed_run(evutil_socket_t fd, short what, void *arg)
{
	struct sim_conn *c = arg;
	uint64_t now = sim_now_ms();

	(void)fd;
	(void)what;
	if (rq_backlog(c) && c->dq_ev != NULL) {
		/* Receipts still backed up: look again in a millisecond. */
		struct timeval ms1 = { 0, 1000 };

		event_add(c->dq_ev, &ms1);
		return;
	}
	while (c->dq_len > 0) {
		struct sim_delayed *d = &c->dq[c->dq_head];

		if (d->due_ms > now)
			break;
		c->dq_head = (c->dq_head + 1) % c->dq_cap;
		c->dq_len--;
		if (c->acct != NULL)
			send_reply(c, d->ref, d->status, d->id_num, d->r,
			    d->n_receipts);
	}
	if (c->dq_len > 0)
		delayed_arm(c);
}

static void
delayed_arm(struct sim_conn *c)
{
	struct sim_delayed *d = &c->dq[c->dq_head];
	uint64_t now = sim_now_ms(), ms = d->due_ms > now ? d->due_ms - now : 0;
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)((ms % 1000) * 1000) };

	if (c->dq_ev == NULL &&
	    (c->dq_ev = evtimer_new(c->sim->base, delayed_run, c)) == NULL)
		return;
	event_add(c->dq_ev, &tv);
}

static void
on_submit(struct sim_conn *c, const struct smpp_scan *req)
{
	struct sim *sim = c->sim;
	struct sim_account *a = c->acct;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct sim_receipt rs[2];
	struct sim_mt mt;
	char src[SMPP_ADDR65_MAX], dst[SMPP_ADDR65_MAX], id[SIM_MSGID_MAX];
	uint32_t status;
	uint64_t id_num;
	int n = 0, hold;

	a->st.submits++;
	status = admit(sim, a);
	if (status == SMPP_ROK && (req->dst.addr.len == 0 ||
	    req->dst.addr.len >= SIM_MSISDN_MAX))
		status = SMPP_RINVDSTADR;
	/* Responses wait (in order) under the delay fault, receipt
	 * backpressure or receipts.before_response_ms; beyond the account
	 * window: ESME_RMSGQFUL. */
	hold = sim->faults.f.delay_ms != 0 || c->dq_len > 0 || rq_backlog(c) ||
	    sim->cfg->receipts.before_response_ms != 0;
	if (status == SMPP_ROK && hold &&
	    c->dq_len >= (a->cfg.window ? a->cfg.window : 256))
		status = SMPP_RMSGQFUL;
	count_status(&a->st, status);
	if (status != SMPP_ROK) {
		smpp_session_reply(c->s, ref, status, NULL);
		return;
	}
	id_num = ++sim->id_counter;
	sim_msgid_format(a->cfg.id_format, id_num, sim->id_salt, id);
	smpp_str_copy(src, sizeof(src), &req->src.addr);
	smpp_str_copy(dst, sizeof(dst), &req->dst.addr);
	mt_body(req, &mt);
	mt.account = a->cfg.system_id;
	mt.src = src;
	mt.dst = dst;
	mt.msgid = id;
	if (sim_handsets_mt(sim->hs, &mt, sim_now_ms()) != 0)
		smpp_log(SMPP_LOG_WARN, c->name, "sim", "store_failed",
		    "msgid=%s", id);
	n = make_receipts(sim, c, req, dst, req->dst.ton, req->dst.npi,
	    id_num, mt.sm, mt.sm_len, rs);
	if (sim->cfg->receipts.before_response_ms != 0 && n > 0) {
		/* As some SMSCs do: the receipt first (on another session it
		 * may well arrive first), the response a while later. */
		queue_receipts(sim, c, rs, n);
		n = 0;
	}
	if (hold && delay_reply(c, ref, SMPP_ROK, id_num, rs, n) == 0)
		return;
	send_reply(c, ref, SMPP_ROK, id_num, rs, n);
}

/* Whether counter n (as read from an id of format f) was given out in
 * this run. */
static int
id_given_out(const struct sim *sim, enum sim_msgid_fmt f, uint64_t n)
{
	const uint64_t m = 10000000000ULL;

	if (sim->id_counter < sim->id_first)
		return 0;
	if (f == SIM_ID_DIGITS10)	/* the counter's last 10 digits */
		return (n + m - sim->id_first % m) % m <=
		    sim->id_counter - sim->id_first;
	return n >= sim->id_first && n <= sim->id_counter;
}

/* cancel_sm, replace_sm: ESME_ROK for an id this run gave out in the
 * session's account format, else ESME_RCANCELFAIL / ESME_RREPLACEFAIL.
 * Nothing changes: the message's receipt goes as planned. */
static void
on_cancel_replace(struct sim_conn *c, const struct smpp_scan *req)
{
	struct sim *sim = c->sim;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	char esc[4 * SIM_MSGID_MAX];
	uint64_t n;
	int known;

	known = sim_msgid_read(c->acct->cfg.id_format,
	    (const char *)req->message_id.p, req->message_id.len,
	    sim->id_salt, &n) == 0 &&
	    id_given_out(sim, c->acct->cfg.id_format, n);
	smpp_log(SMPP_LOG_INFO, c->name, "sim", smpp_command_name(req->hdr.id),
	    "id=%s known=%d", smpp_log_escape(req->message_id.p,
	    req->message_id.len, esc, sizeof(esc)), known);
	smpp_session_reply(c->s, ref, known ? SMPP_ROK :
	    req->hdr.id == SMPP_CANCEL_SM ? SMPP_RCANCELFAIL :
	    SMPP_RREPLACEFAIL, NULL);
}

static void
on_submit_multi(struct sim_conn *c, const struct smpp_scan *req)
{
	struct sim *sim = c->sim;
	struct sim_account *a = c->acct;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct smpp_dest_view dv;
	struct sim_receipt rs[2];
	struct sim_mt mt;
	char src[SMPP_ADDR65_MAX], dst[SMPP_ADDR65_MAX], id[SIM_MSGID_MAX];
	uint32_t status;
	uint64_t id_num;
	size_t pos = 0;

	a->st.submits++;
	status = admit(sim, a);
	if (status == SMPP_ROK && req->number_of_dests == 0)
		status = SMPP_RINVNUMDESTS;
	count_status(&a->st, status);
	if (status != SMPP_ROK) {
		smpp_session_reply(c->s, ref, status, NULL);
		return;
	}
	id_num = ++sim->id_counter;
	sim_msgid_format(a->cfg.id_format, id_num, sim->id_salt, id);
	smpp_str_copy(src, sizeof(src), &req->src.addr);
	mt_body(req, &mt);
	mt.account = a->cfg.system_id;
	mt.src = src;
	mt.dst = dst;
	mt.msgid = id;
	/* The response first; receipts for each SME destination after. */
	if (smpp_session_reply(c->s, ref, SMPP_ROK, id) != 0)
		return;
	while (smpp_scan_next_dest(req, &pos, &dv) == 1) {
		int n;

		if (dv.flag != 1 || dv.name.len == 0)
			continue;	/* distribution lists: nothing to store */
		smpp_str_copy(dst, sizeof(dst), &dv.name);
		sim_handsets_mt(sim->hs, &mt, sim_now_ms());
		n = make_receipts(sim, c, req, dst, dv.ton, dv.npi, id_num,
		    mt.sm, mt.sm_len, rs);
		queue_receipts(sim, c, rs, n);
	}
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct sim_conn *c = arg;
	struct sim *sim = c->sim;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };

	if (sim->faults.f.drop_after != 0) {
		struct smpp_session_stats st;

		smpp_session_stats(s, &st);
		if (st.rx_pdus >= sim->faults.f.drop_after) {
			smpp_log(SMPP_LOG_INFO, c->name, "sim", "fault_drop",
			    "after=%llu", (unsigned long long)st.rx_pdus);
			c->dropping = 1;
			smpp_session_close(s);
			return;
		}
	}
	if (c->acct == NULL) {
		if (req->hdr.id != SMPP_ALERT_NOTIFICATION &&
		    req->hdr.id != SMPP_OUTBIND)
			smpp_session_reply(s, ref, SMPP_RINVBNDSTS, NULL);
		return;
	}
	switch (req->hdr.id) {
	case SMPP_SUBMIT_SM:
	case SMPP_DATA_SM:
		on_submit(c, req);
		break;
	case SMPP_SUBMIT_MULTI:
		on_submit_multi(c, req);
		break;
	case SMPP_QUERY_SM:
		smpp_session_reply(s, ref, SMPP_RQUERYFAIL, NULL);
		break;
	case SMPP_CANCEL_SM:
	case SMPP_REPLACE_SM:
		on_cancel_replace(c, req);
		break;
	case SMPP_ALERT_NOTIFICATION:
	case SMPP_OUTBIND:
		break;
	default:
		smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		break;
	}
}

static void
on_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct sim_conn *c = arg;
	struct sim_account *a = c->acct;
	int ok = out == SMPP_OUT_RESP && resp->hdr.status == SMPP_ROK;

	(void)s;
	if (a == NULL || ctx == NULL)
		return;
	if (ctx == CTX_RECEIPT) {
		if (ok)
			a->st.receipts_acked++;
		else
			a->st.receipts_refused++;
	} else if (ctx == CTX_MO) {
		if (ok)
			a->st.mo_acked++;
		else
			a->st.mo_refused++;
	}
}

static void
on_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct sim_conn *c = arg;

	(void)s;
	(void)from;
	c->state = to;
	if (to == SMPP_ST_UNBINDING || to == SMPP_ST_UNBOUND ||
	    to == SMPP_ST_CLOSED) {
		c->can_rx = 0;
		if (c->acct != NULL)
			conn_hand_over(c->sim, c);
	}
}

static void
on_writable(struct smpp_session *s, void *arg)
{
	struct sim_conn *c = arg;

	(void)s;
	/* Window (or output) room again: this session's ring, and its
	 * account's ring, which may have waited for any receiver. */
	c->full = 0;
	if (sim_rfifo_len(&c->rq.f) > 0)
		rq_run(c->sim, &c->rq);
	if (c->acct != NULL && sim_rfifo_len(&c->acct->rq.f) > 0)
		rq_run(c->sim, &c->acct->rq);
}

static void
on_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct sim_conn *c = arg;
	struct sim *sim = c->sim;

	(void)s;
	smpp_log(SMPP_LOG_INFO, c->name, "sim", "closed", "reason=%s",
	    smpp_close_reason_name(why));
	detach(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		sim->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sim->n_conns--;
	if (c->dq_ev != NULL)
		event_free(c->dq_ev);
	free(c->dq);
	free(c);
	if (sim->stopping && sim->n_conns == 0)
		event_base_loopexit(sim->base, NULL);
}

static const struct smpp_session_ops sim_ops = {
	.bind = on_bind,
	.request = on_request,
	.response = on_response,
	.state = on_state,
	.writable = on_writable,
	.closed = on_closed,
};

static void
on_accept(struct smpp_listener *l, struct bufferevent *bev, const char *peer,
    void *arg)
{
	struct sim *sim = arg;
	struct sim_conn *c;
	char esc[80];

	(void)l;
	if (sim->stopping || sim->n_conns >= sim->cfg->max_sessions) {
		smpp_log(SMPP_LOG_WARN, "-", "sim", "accept_refused",
		    "peer=%s sessions=%u", smpp_log_escape(peer, strlen(peer),
		    esc, sizeof(esc)), sim->n_conns);
		bufferevent_free(bev);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		bufferevent_free(bev);
		return;
	}
	c->sim = sim;
	c->serial = ++sim->next_serial;
	snprintf(c->name, sizeof(c->name), "sim-%llu",
	    (unsigned long long)c->serial);
	c->next = sim->conns;
	if (sim->conns)
		sim->conns->prev = c;
	sim->conns = c;
	sim->n_conns++;
	c->s = smpp_session_new(sim->base, bev, SMPP_ROLE_SERVER, &sim->scfg,
	    &sim_ops, c, c->name);
	if (c->s == NULL) {
		sim->conns = c->next;
		if (c->next)
			c->next->prev = NULL;
		sim->n_conns--;
		free(c);
		return;
	}
	/* enquire_link is answered in any state, so the fault applies from
	 * the first byte, not from the bind. */
	smpp_session_set_silent_enquire_link(c->s,
	    sim->faults.f.silent_enquire_link);
}

/* ---- MO ------------------------------------------------------------ */

static int
addr_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= SMPP_ADDR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

static int
mo_fail(struct sim_mo_result *res, int code, const char *err,
    const char *msg)
{
	res->http_status = code;
	res->error = err;
	res->message = msg;
	return -1;
}

int
sim_smsc_send_mo(struct sim *sim, const struct sim_mo *mo,
    struct sim_mo_result *res)
{
	uint8_t text[65536];
	struct smpp_concat_part parts[255];
	enum smpp_concat_mode mode = SMPP_CONCAT_UDH8;
	enum smpp_text_enc enc;
	struct sim_account *a = NULL;
	struct sim_conn *c = NULL;
	unsigned flags = 0;
	uint8_t ref8[2];
	uint16_t ref;
	int tlen, n, numeric = 1;

	memset(res, 0, sizeof(*res));
	if (!addr_ok(mo->from) || !addr_ok(mo->to))
		return mo_fail(res, 400, "bad_address", "from and to must be "
		    "1..20 printable characters without spaces");
	if (mo->text == NULL)
		return mo_fail(res, 400, "bad_text", "text is required");
	if (mo->encoding == NULL || strcmp(mo->encoding, "auto") == 0 ||
	    strcmp(mo->encoding, "gsm7") == 0)
		flags = 0;
	else if (strcmp(mo->encoding, "ucs2") == 0)
		flags = SMPP_TEXT_FORCE_UCS2;
	else if (strcmp(mo->encoding, "latin1") == 0)
		flags = SMPP_TEXT_ALLOW_LATIN1;
	else
		return mo_fail(res, 400, "bad_encoding", "encoding must be "
		    "auto, gsm7, ucs2 or latin1");
	if (mo->split == NULL || strcmp(mo->split, "udh") == 0)
		mode = SMPP_CONCAT_UDH8;
	else if (strcmp(mo->split, "udh16") == 0)
		mode = SMPP_CONCAT_UDH16;
	else if (strcmp(mo->split, "sar") == 0)
		mode = SMPP_CONCAT_SAR;
	else
		return mo_fail(res, 400, "bad_split", "split must be udh, "
		    "udh16 or sar");
	tlen = smpp_text_encode(mo->text, strlen(mo->text), flags, text,
	    sizeof(text), &enc, NULL);
	if (tlen < 0)
		return mo_fail(res, 400, "bad_text", "text is not valid UTF-8 "
		    "or too long");
	if (mo->encoding != NULL && strcmp(mo->encoding, "gsm7") == 0 &&
	    enc != SMPP_TEXT_GSM7)
		return mo_fail(res, 400, "bad_text", "text has characters "
		    "outside the GSM 7-bit alphabet");
	if (mo->encoding != NULL && strcmp(mo->encoding, "latin1") == 0 &&
	    enc == SMPP_TEXT_UCS2)
		return mo_fail(res, 400, "bad_text", "text has characters "
		    "outside Latin-1");
	n = smpp_concat_split(enc, text, (size_t)tlen, mode, parts, 255, NULL);
	if (n < 1)
		return mo_fail(res, 400, "too_long", "text needs more than "
		    "255 parts");
	if (mo->account != NULL && mo->account[0] != '\0') {
		if ((a = sim_smsc_account(sim, mo->account)) == NULL)
			return mo_fail(res, 404, "unknown_account",
			    "no such account");
	}
	for (uint32_t i = 0; i < sim->n_accts && c == NULL; i++) {
		struct sim_account *x = sim->accts[i];

		if (a != NULL && x != a)
			continue;
		for (struct sim_conn *k = x->conns; k != NULL; k = k->anext)
			if (k->can_rx && !k->dropping) {
				c = k;
				break;
			}
	}
	if (c == NULL)
		return mo_fail(res, 409, "no_receiver", "no ESME is bound as "
		    "receiver or transceiver for this account");
	if (smpp_session_window_room(c->s) < (uint32_t)n)
		return mo_fail(res, 503, "busy", "the ESME's window is full; "
		    "try again");
	RAND_bytes(ref8, sizeof(ref8));
	ref = mode == SMPP_CONCAT_UDH8 ? ref8[0] :
	    (uint16_t)(ref8[0] << 8 | ref8[1]);
	for (size_t i = 0; mo->from[i]; i++)
		if (mo->from[i] < '0' || mo->from[i] > '9')
			numeric = 0;
	for (int i = 0; i < n; i++) {
		struct smpp_concat_info ci = { ref, (uint8_t)n,
		    (uint8_t)(i + 1) };
		struct sim_deliver dv;
		uint8_t sm[SMPP_SHORT_MESSAGE_MAX], pdu[512], rb[2];
		uint8_t tot = (uint8_t)n, seq = (uint8_t)(i + 1);
		int smlen;
		size_t len;

		smlen = smpp_concat_build_sm(enc, 0, text, (size_t)tlen,
		    &parts[i], mode, &ci, sm, sizeof(sm), NULL);
		if (smlen < 0)
			return mo_fail(res, 400, "bad_text", "could not split "
			    "the text");
		memset(&dv, 0, sizeof(dv));
		dv.src_ton = numeric ? 1 : 5;
		dv.src_npi = numeric ? 1 : 0;
		dv.src = mo->from;
		dv.dst_ton = 0;
		dv.dst_npi = 1;
		dv.dst = mo->to;
		dv.data_coding = smpp_text_enc_dcs(enc);
		dv.sm = sm;
		dv.sm_len = (size_t)smlen;
		if (n > 1 && mode != SMPP_CONCAT_SAR)
			dv.esm_class = SMPP_ESM_UDHI;
		if (n > 1 && mode == SMPP_CONCAT_SAR) {
			smpp_put16(rb, ref);
			dv.tlvs[0] = (struct sim_tlv){ SMPP_TLV_SAR_MSG_REF_NUM,
			    2, rb };
			dv.tlvs[1] = (struct sim_tlv){
			    SMPP_TLV_SAR_TOTAL_SEGMENTS, 1, &tot };
			dv.tlvs[2] = (struct sim_tlv){
			    SMPP_TLV_SAR_SEGMENT_SEQNUM, 1, &seq };
			dv.n_tlvs = 3;
		}
		if ((len = sim_build_deliver(pdu, sizeof(pdu), &dv)) == 0 ||
		    smpp_session_send_raw(c->s, pdu, len, CTX_MO) != 0)
			return mo_fail(res, 503, "send_failed", "the session "
			    "did not take the deliver_sm");
		c->acct->st.mo_sent++;
	}
	sim_handsets_mo(sim->hs, mo->from, mo->to, c->acct->cfg.system_id,
	    mo->text, smpp_text_enc_dcs(enc), (uint8_t)n);
	smpp_log(SMPP_LOG_INFO, c->name, "sim", "mo_sent", "parts=%d enc=%s",
	    n, smpp_text_enc_name(enc));
	res->parts = n;
	snprintf(res->account, sizeof(res->account), "%s",
	    c->acct->cfg.system_id);
	snprintf(res->session, sizeof(res->session), "%s", c->name);
	return 0;
}

/* ---- life cycle ---------------------------------------------------- */

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct sim *sim = arg;

	(void)fd;
	(void)what;
	sim_handsets_tick(sim->hs, sim_now_ms());
	/* Rings emptied after a burst give their memory back. */
	for (uint32_t i = 0; i < sim->n_accts; i++)
		sim_rfifo_trim(&sim->accts[i]->rq.f);
	for (struct sim_conn *c = sim->conns; c != NULL; c = c->next)
		sim_rfifo_trim(&c->rq.f);
}

int
sim_smsc_start(struct sim *sim)
{
	const struct sim_config *cfg = sim->cfg;
	struct timeval one = { 1, 0 };
	char err[256];

	sim_rng_seed(&sim->rng);
	sim->id_salt = sim_rng_next(&sim->rng);
	/* Ids start at a random point so that runs do not repeat them. */
	sim->id_counter = (sim_rng_next(&sim->rng) % 1000000000ULL) * 1000;
	sim->id_first = sim->id_counter + 1;
	sim->start_ms = sim_now_ms();
	sim->start_time = (int64_t)time(NULL);
	sim->faults.f = cfg->faults;
	smpp_session_config_defaults(&sim->scfg);
	sim->scfg.enquire_link_ms = cfg->enquire_link_ms;
	sim->scfg.inactivity_ms = cfg->inactivity_ms;
	sim->scfg.in_window = 4096;
	sim->scfg.window = cfg->deliver_window;
	for (size_t i = 0; i < cfg->n_accounts; i++)
		if (add_account(sim, &cfg->accounts[i], 0) == NULL)
			return -1;
	sim->hs = sim_handsets_new(cfg->max_handsets, cfg->inbox_size,
	    cfg->store_text_max, cfg->reasm_timeout_ms);
	sim->dlrq = sim_dlrq_new(cfg->receipts.queue_max);
	sim->dlr_ev = evtimer_new(sim->base, dlr_due, sim);
	sim->drain_ev = event_new(sim->base, -1, 0, dlr_drain, sim);
	sim->retry_ev = evtimer_new(sim->base, dlr_retry, sim);
	sim->tick_ev = event_new(sim->base, -1, EV_PERSIST, tick, sim);
	if (sim->hs == NULL || sim->dlrq == NULL || sim->dlr_ev == NULL ||
	    sim->drain_ev == NULL || sim->retry_ev == NULL ||
	    sim->tick_ev == NULL)
		return -1;
	event_add(sim->tick_ev, &one);
	sim->lis = smpp_listener_new(sim->base, cfg->smpp_host, cfg->smpp_port,
	    NULL, on_accept, sim, "sim-smpp");
	if (sim->lis == NULL)
		return -1;
	if (cfg->tls_port != 0) {
		sim->tls = smpp_tls_server_ctx(cfg->tls_cert, cfg->tls_key, err,
		    sizeof(err));
		if (sim->tls == NULL) {
			smpp_log(SMPP_LOG_ERR, "-", "sim", "tls_failed",
			    "why=\"%s\"", err);
			return -1;
		}
		sim->tls_lis = smpp_listener_new(sim->base, cfg->smpp_host,
		    cfg->tls_port, sim->tls, on_accept, sim, "sim-smpps");
		if (sim->tls_lis == NULL)
			return -1;
	}
	smpp_log(SMPP_LOG_INFO, "-", "sim", "smpp_listening",
	    "host=%s port=%u tls_port=%u accounts=%zu accept_any=%d",
	    cfg->smpp_host, smpp_listener_port(sim->lis), cfg->tls_port,
	    cfg->n_accounts, cfg->accept_any || cfg->n_accounts == 0);
	return 0;
}

void
sim_smsc_stop(struct sim *sim)
{
	sim->stopping = 1;
	if (sim->lis) {
		smpp_listener_free(sim->lis);
		sim->lis = NULL;
	}
	if (sim->tls_lis) {
		smpp_listener_free(sim->tls_lis);
		sim->tls_lis = NULL;
	}
	for (struct sim_conn *c = sim->conns; c != NULL; c = c->next) {
		c->can_rx = 0;
		if (c->state == SMPP_ST_BOUND_TX || c->state == SMPP_ST_BOUND_RX ||
		    c->state == SMPP_ST_BOUND_TRX) {
			if (smpp_session_unbind(c->s) != 0)
				smpp_session_close(c->s);
		} else {
			smpp_session_close(c->s);
		}
	}
}

/* Closes whatever is still open after the grace period. */
void
sim_smsc_free(struct sim *sim)
{
	if (sim->dlr_ev)
		event_free(sim->dlr_ev);
	if (sim->drain_ev)
		event_free(sim->drain_ev);
	if (sim->retry_ev)
		event_free(sim->retry_ev);
	if (sim->tick_ev)
		event_free(sim->tick_ev);
	sim_dlrq_free(sim->dlrq);
	sim_handsets_free(sim->hs);
	for (struct sim_conn *c = sim->conns; c != NULL; c = c->next)
		sim_rfifo_clear(&c->rq.f);
	for (uint32_t i = 0; i < sim->n_accts; i++) {
		sim_rfifo_clear(&sim->accts[i]->rq.f);
		free(sim->accts[i]);
	}
	free(sim->accts);
	if (sim->lis)
		smpp_listener_free(sim->lis);
	if (sim->tls_lis)
		smpp_listener_free(sim->tls_lis);
	if (sim->tls)
		SSL_CTX_free(sim->tls);
}

void
sim_smsc_set_faults(struct sim *sim, const struct sim_faults_cfg *f)
{
	int was = sim->faults.f.silent_enquire_link;

	sim->faults.f = *f;
	if ((was != 0) == (f->silent_enquire_link != 0))
		return;
	/* The session layer answers enquire_link itself; tell every live
	 * session (new ones get it in on_accept). */
	for (struct sim_conn *c = sim->conns; c != NULL; c = c->next)
		smpp_session_set_silent_enquire_link(c->s,
		    f->silent_enquire_link);
}

void
sim_smsc_reset(struct sim *sim)
{
	sim_handsets_reset(sim->hs);
	sim_dlrq_clear(sim->dlrq);
	for (struct sim_conn *c = sim->conns; c != NULL; c = c->next) {
		rq_unlink(sim, &c->rq);
		sim_rfifo_clear(&c->rq.f);
	}
	for (uint32_t i = 0; i < sim->n_accts; i++) {
		rq_unlink(sim, &sim->accts[i]->rq);
		sim_rfifo_clear(&sim->accts[i]->rq.f);
	}
	sim->dlr_pending = 0;
	sim_smsc_set_faults(sim, &sim->cfg->faults);
	for (uint32_t i = 0; i < sim->n_accts; i++)
		memset(&sim->accts[i]->st, 0, sizeof(sim->accts[i]->st));
}
