/*
 * smpp-bench load (see bench_load.h).
 *
 * The hot path: a session with a free slot composes the next submit_sm
 * from the prebuilt parts (bench_msg.h) into its own buffer and hands it
 * to smpp_session_send_raw with the slot as ctx. A response frees the
 * slot, records the latency in a fixed histogram, files the message id
 * in the fixed-size receipt table and refills the window, all from inside
 * the session's read pass, so a read of many responses costs one write.
 * Nothing is allocated per message.
 *
 * The run moves through phases: CONNECT (every session binds), SEND,
 * DRAIN (last responses), RECEIPTS (bounded by --receipt-timeout) and
 * CLOSE (unbind, or close at once after a fatal error). --timeout bounds
 * the whole, and a peer that goes silent for a response timeout ends the
 * run with a clear error.
 */
#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "smpp/log.h"
#include "smpp/proto.h"

#include "bench_conn.h"
#include "bench_ids.h"
#include "bench_load.h"
#include "bench_msg.h"
#include "bench_opts.h"
#include "bench_stats.h"

#define PROGRESS_MS	250
#define MAX_DEST_LINES	1000000
#define CLOSE_GRACE_S	7

enum phase {
	PH_CONNECT,
	PH_SEND,
	PH_RECEIPTS,
	PH_CLOSE,
};

struct slot {
	uint64_t	t_ns;		/* submitted at */
	uint64_t	pdu;		/* message * nparts + part */
	uint32_t	tries;		/* earlier sends of this pdu */
};

struct retry {
	uint64_t	pdu;
	uint32_t	tries;
};

struct load;

struct lsess {
	struct load		*L;
	struct smpp_session	*s;
	char			 name[24];
	int			 submits;	/* tx or trx */
	int			 bound, closed;
	struct slot		*slots;		/* window entries */
	uint32_t		*free_stack;
	uint32_t		 n_free;
	struct retry		*ring;		/* window entries */
	uint32_t		 ring_head, ring_n;
	uint64_t		 cur_msg;
	unsigned		 cur_part;
	int			 have_cur;
	uint64_t		 backoff_until_ns;
	struct event		*backoff_ev;
	uint64_t		 last_resp_ns;
	uint8_t			*buf;
	size_t			 buf_cap;
};

struct load {
	struct event_base	*base;
	const struct bench_opts	*o;
	struct bench_target	 tgt;
	struct bench_msg	 msg;
	struct bench_ids	*ids;
	struct bench_ids	*early;		/* receipts that came before
						 * their submit_sm_resp: arrival
						 * time | stat (low 4 bits) */
	struct bench_stats	 st;
	struct lsess		*sess;
	unsigned		 n_sess, n_bound, n_open;
	uint32_t		 window;
	int			 expect_rcpt;	/* (rd & 3) == 1 */
	int			 track_rcpt;	/* rd & 3 != 0 */

	char			*dest_text;	/* --to-file, NUL-separated */
	uint32_t		*dest_off;
	uint8_t			*dest_len;
	size_t			 n_dests;

	enum phase		 phase;
	uint64_t		 next_msg;
	uint64_t		 n_msgs;	/* UINT64_MAX: --duration */
	int			 sending_done;
	uint64_t		 t_start_ns, t_send_end_ns;
	uint64_t		 t_warm_ns;	/* latency counts from here */
	uint64_t		 inflight;

	double			 tokens;
	uint64_t		 last_refill_ns;
	unsigned		 rr;		/* rate: next session to pump */
	struct event		*rate_ev;
	struct event		*tick_ev;
	struct event		*deadline_ev;
	struct event		*rcpt_ev;
	struct event		*grace_ev;

	int			 progress;
	uint64_t		 prog_last_resp;
	uint64_t		 prog_last_ns;
	int			 rc;
	char			 fatal[256];
};

static void check_phase(struct load *);
static void enter_close(struct load *, int hard);

static void
tv_from_s(double s, struct timeval *tv)
{
	tv->tv_sec = (time_t)s;
	tv->tv_usec = (suseconds_t)((s - (double)tv->tv_sec) * 1e6);
}

static void
tv_from_ns(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000ull);
	tv->tv_usec = (suseconds_t)((ns % 1000000000ull) / 1000);
}

/* Records the first fatal error; the run then ends. */
static void
fatal(struct load *L, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fatal(struct load *L, int rc, const char *fmt, ...)
{
	va_list ap;

	if (L->fatal[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(L->fatal, sizeof(L->fatal), fmt, ap);
		va_end(ap);
		L->rc = rc;
	}
	enter_close(L, 1);
}

/* ---- destinations ---- */

/* Writes the destination of message m into out (24 bytes); returns its
 * length. */
static size_t
dest_for(const struct load *L, uint64_t m, char *out)
{
	const struct bench_opts *o = L->o;
	char tmp[24];
	size_t n = 0, len;
	uint64_t v;

	if (L->n_dests > 0) {
		size_t i = (size_t)(m % L->n_dests);

		len = L->dest_len[i];
		memcpy(out, L->dest_text + L->dest_off[i], len);
		return len;
	}
	if (o->to != NULL) {
		len = strlen(o->to);
		memcpy(out, o->to, len);
		return len;
	}
	v = o->range_lo + m % (o->range_hi - o->range_lo + 1);
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	len = 0;
	for (int w = o->range_width; w > (int)n; w--)
		out[len++] = '0';
	while (n > 0)
		out[len++] = tmp[--n];
	return len;
}

static int
load_dest_file(struct load *L, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t used = 0, cap = 0, lineno = 0, alloc_lines = 0;

	if (f == NULL) {
		fprintf(stderr, "smpp-bench: --to-file %s: cannot open\n",
		    path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *e;
		size_t n;

		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		*e = '\0';
		n = (size_t)(e - p);
		if (n == 0 || *p == '#')
			continue;
		if (n >= SMPP_ADDR_MAX) {
			fprintf(stderr, "smpp-bench: %s:%zu: address over %d "
			    "characters\n", path, lineno, SMPP_ADDR_MAX - 1);
			goto fail;
		}
		if (L->n_dests >= MAX_DEST_LINES) {
			fprintf(stderr, "smpp-bench: %s: over %d addresses\n",
			    path, MAX_DEST_LINES);
			goto fail;
		}
		if (L->n_dests == alloc_lines) {
			size_t na = alloc_lines ? alloc_lines * 2 : 1024;
			uint32_t *no = realloc(L->dest_off, na * sizeof(*no));
			uint8_t *nl;

			if (no == NULL)
				goto nomem;
			L->dest_off = no;
			if ((nl = realloc(L->dest_len, na)) == NULL)
				goto nomem;
			L->dest_len = nl;
			alloc_lines = na;
		}
		if (used + n + 1 > cap) {
			size_t nc = cap ? cap * 2 : 16384;
			char *nt = realloc(L->dest_text, nc);

			if (nt == NULL)
				goto nomem;
			L->dest_text = nt;
			cap = nc;
		}
		memcpy(L->dest_text + used, p, n + 1);
		L->dest_off[L->n_dests] = (uint32_t)used;
		L->dest_len[L->n_dests] = (uint8_t)n;
		L->n_dests++;
		used += n + 1;
	}
	fclose(f);
	if (L->n_dests == 0) {
		fprintf(stderr, "smpp-bench: --to-file %s: no addresses\n",
		    path);
		return -1;
	}
	return 0;
nomem:
	fprintf(stderr, "smpp-bench: out of memory\n");
fail:
	fclose(f);
	return -1;
}

/* ---- sending ---- */

static void
refill(struct load *L, uint64_t now)
{
	double burst = L->o->rate / 50.0;	/* 20 ms worth */

	if (burst < 1.0)
		burst = 1.0;
	L->tokens += (double)(now - L->last_refill_ns) * L->o->rate / 1e9;
	if (L->tokens > burst)
		L->tokens = burst;
	L->last_refill_ns = now;
}

static void
arm_rate(struct load *L)
{
	struct timeval tv;
	double wait_s;

	if (evtimer_pending(L->rate_ev, NULL))
		return;
	wait_s = (1.0 - L->tokens) / L->o->rate;
	if (wait_s < 0.001)
		wait_s = 0.001;
	tv_from_s(wait_s, &tv);
	evtimer_add(L->rate_ev, &tv);
}

static void
mark_sending_done(struct load *L)
{
	if (L->sending_done)
		return;
	L->sending_done = 1;
	check_phase(L);
}

/* Sends one pdu on ss. Returns 0, or the session's negative error. */
static int
send_pdu(struct lsess *ss, uint64_t pdu, uint32_t tries, uint64_t now)
{
	struct load *L = ss->L;
	unsigned np = L->msg.nparts;
	uint64_t m = pdu / np;
	char dst[24];
	size_t dl, len;
	uint32_t si;
	struct slot *sl;
	int rc;

	dl = dest_for(L, m, dst);
	len = bench_msg_compose(&L->msg.parts[pdu % np], dst, dl,
	    (uint16_t)m, ss->buf, ss->buf_cap);
	if (len == 0)
		return -SMPP_ERR_ARG;
	si = ss->free_stack[--ss->n_free];
	sl = &ss->slots[si];
	sl->t_ns = now;
	sl->pdu = pdu;
	sl->tries = tries;
	rc = smpp_session_send_raw(ss->s, ss->buf, len, sl);
	if (rc != 0) {
		ss->free_stack[ss->n_free++] = si;
		return rc;
	}
	L->inflight++;
	L->st.submitted++;
	if (tries > 0)
		L->st.retries++;
	if (L->st.t_first_submit_ns == 0)
		L->st.t_first_submit_ns = now;
	return 0;
}

/* Fills ss's window: re-sends first, then the current message's parts,
 * then new messages, within the rate. */
static void
pump(struct lsess *ss)
{
	struct load *L = ss->L;
	const struct bench_opts *o = L->o;
	uint64_t now;

	if (L->phase != PH_SEND || !ss->bound || ss->closed || !ss->submits)
		return;
	now = bench_now_ns();
	if (ss->backoff_until_ns > now)
		return;
	if (o->rate > 0)
		refill(L, now);
	while (ss->n_free > 0) {
		uint64_t pdu;
		uint32_t tries = 0;
		int from_ring = 0, rc;

		if (o->rate > 0 && L->tokens < 1.0) {
			arm_rate(L);
			break;
		}
		if (ss->ring_n > 0) {
			pdu = ss->ring[ss->ring_head].pdu;
			tries = ss->ring[ss->ring_head].tries;
			from_ring = 1;
		} else if (ss->have_cur) {
			pdu = ss->cur_msg * L->msg.nparts + ss->cur_part;
		} else {
			if (L->sending_done)
				break;
			if (L->next_msg >= L->n_msgs || (L->t_send_end_ns != 0
			    && now >= L->t_send_end_ns)) {
				mark_sending_done(L);
				break;
			}
			ss->cur_msg = L->next_msg++;
			ss->cur_part = 0;
			ss->have_cur = 1;
			pdu = ss->cur_msg * L->msg.nparts;
		}
		rc = send_pdu(ss, pdu, tries, now);
		if (rc == -SMPP_ERR_WINDOW || rc == -SMPP_ERR_BUSY)
			break;		/* ops->writable calls us again */
		if (rc == -SMPP_ERR_STATE)
			break;		/* closing: the close handles the rest */
		if (rc != 0)
			L->st.send_errors++;	/* dropped: counted */
		if (from_ring) {
			ss->ring_head = (ss->ring_head + 1) % L->window;
			ss->ring_n--;
		} else if (ss->cur_part == 0 && rc == 0) {
			L->st.messages++;
		}
		if (!from_ring && ++ss->cur_part >= L->msg.nparts) {
			ss->have_cur = 0;
		}
		if (o->rate > 0)
			L->tokens -= 1.0;
		now = bench_now_ns();
	}
}

static void
pump_all(struct load *L)
{
	unsigned start = L->rr++;

	for (unsigned i = 0; i < L->n_sess; i++)
		pump(&L->sess[(start + i) % L->n_sess]);
}

static void
on_rate(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump_all(arg);
}

static void
on_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct lsess *ss = arg;

	(void)fd;
	(void)what;
	ss->backoff_until_ns = 0;
	pump(ss);
	check_phase(ss->L);
}

static void
backoff(struct lsess *ss, uint64_t now)
{
	struct timeval tv;
	uint64_t ms = ss->L->o->throttle_backoff_ms;

	if (ms == 0 || evtimer_pending(ss->backoff_ev, NULL))
		return;
	ss->backoff_until_ns = now + ms * 1000000ull;
	tv_from_ns(ms * 1000000ull, &tv);
	evtimer_add(ss->backoff_ev, &tv);
}

/* ---- session callbacks ---- */

/* A receipt matched to its submit (sent at t_ns), arrived at at_ns. */
static void
count_receipt(struct load *L, uint64_t t_ns, uint64_t at_ns, unsigned stat)
{
	L->st.receipts++;
	L->st.receipts_by_stat[stat < BENCH_STAT_MAX ? stat : 0]++;
	if (at_ns > L->st.t_last_rcpt_ns)
		L->st.t_last_rcpt_ns = at_ns;
	if (t_ns >= L->t_warm_ns && at_ns >= t_ns)
		bench_hist_record(&L->st.rcpt_lat, (at_ns - t_ns) / 1000);
}

static void
on_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct lsess *ss = arg;
	struct load *L = ss->L;
	struct slot *sl = ctx;
	uint64_t now, t_ns, pdu;
	uint32_t tries;

	(void)s;
	if (sl == NULL)		/* the session's own enquire_link/unbind */
		return;
	t_ns = sl->t_ns;
	pdu = sl->pdu;
	tries = sl->tries;
	ss->free_stack[ss->n_free++] = (uint32_t)(sl - ss->slots);
	L->inflight--;
	now = bench_now_ns();

	if (out == SMPP_OUT_RESP) {
		uint32_t status = resp->hdr.status;

		ss->last_resp_ns = now;
		L->st.t_last_resp_ns = now;
		if (t_ns >= L->t_warm_ns)
			bench_hist_record(&L->st.resp_lat, (now - t_ns) / 1000);
		bench_stats_status(&L->st, status);
		if (status == SMPP_ROK) {
			uint64_t early;

			if (L->track_rcpt && resp->message_id.len > 0 &&
			    bench_ids_take(L->early,
			    (const char *)resp->message_id.p,
			    resp->message_id.len, &early)) {
				/* Its receipt came first (on another
				 * session, or the SMSC sends it so). */
				if (L->expect_rcpt)
					L->st.receipts_expected++;
				L->st.receipts_early++;
				count_receipt(L, t_ns, early & ~(uint64_t)0xf,
				    (unsigned)(early & 0xf));
			} else if (L->track_rcpt) {
				if (resp->message_id.len == 0 ||
				    bench_ids_put(L->ids,
				    (const char *)resp->message_id.p,
				    resp->message_id.len, t_ns) != 0)
					L->st.receipts_untracked++;
				else if (L->expect_rcpt)
					L->st.receipts_expected++;
			}
		} else if (status == SMPP_RTHROTTLED) {
			backoff(ss, now);
			if (tries < L->o->retry_throttled &&
			    L->phase == PH_SEND && ss->ring_n < L->window) {
				struct retry *r = &ss->ring[(ss->ring_head +
				    ss->ring_n) % L->window];

				r->pdu = pdu;
				r->tries = tries + 1;
				ss->ring_n++;
				L->st.requeued++;
			}
		}
	} else if (out == SMPP_OUT_TIMEOUT) {
		L->st.timeouts++;
		if (now - ss->last_resp_ns >=
		    (uint64_t)L->o->response_timeout_ms * 1000000ull)
			fatal(L, BENCH_EXIT_ABORT, "%s: the peer stopped "
			    "answering (no response for %u ms)", ss->name,
			    L->o->response_timeout_ms);
	} else {
		L->st.aborted++;
	}
	pump(ss);
	if (L->inflight == 0)
		check_phase(L);
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct lsess *ss = arg;
	struct load *L = ss->L;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct bench_rcpt r;
	uint64_t t_ns, now;

	if (req->hdr.id != SMPP_DELIVER_SM) {
		if (req->hdr.id != SMPP_ALERT_NOTIFICATION &&
		    req->hdr.id != SMPP_OUTBIND)
			(void)smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		return;
	}
	(void)smpp_session_reply(s, ref, SMPP_ROK, NULL);
	bench_rcpt_read(req, 0, &r);
	if (!r.is_receipt) {
		L->st.mo++;
		return;
	}
	if (r.intermediate) {
		L->st.receipts_intermediate++;
		return;
	}
	now = bench_now_ns();
	if (r.id_len == 0) {
		L->st.receipts_unmatched++;
		return;
	}
	if (!bench_ids_take(L->ids, r.id, r.id_len, &t_ns)) {
		/* Its submit_sm_resp may still be on its way (receipts on
		 * another session, or an SMSC that sends them first): held
		 * until it comes; unmatched if it never does. */
		if (bench_ids_put(L->early, r.id, r.id_len,
		    (now & ~(uint64_t)0xf) | (r.stat < BENCH_STAT_MAX ?
		    (uint64_t)r.stat : 0)) != 0)
			L->st.receipts_unmatched++;
		return;
	}
	count_receipt(L, t_ns, now, r.stat);
	if (L->phase == PH_RECEIPTS && bench_ids_count(L->ids) == 0)
		check_phase(L);
}

static void
on_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct lsess *ss = arg;
	struct load *L = ss->L;

	(void)s;
	(void)from;
	if (to != SMPP_ST_BOUND_TX && to != SMPP_ST_BOUND_TRX &&
	    to != SMPP_ST_BOUND_RX)
		return;
	ss->bound = 1;
	ss->last_resp_ns = bench_now_ns();
	if (++L->n_bound < L->n_sess || L->phase != PH_CONNECT)
		return;
	/* Every session is bound: receipts have somewhere to go. */
	L->phase = PH_SEND;
	L->last_refill_ns = bench_now_ns();
	L->tokens = 1.0;
	L->t_warm_ns = L->last_refill_ns + (uint64_t)(L->o->warmup_s * 1e9);
	if (L->o->duration_s > 0)
		L->t_send_end_ns = L->last_refill_ns +
		    (uint64_t)(L->o->duration_s * 1e9);
	pump_all(L);
}

static void
on_writable(struct smpp_session *s, void *arg)
{
	(void)s;
	pump(arg);
}

static void
on_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct lsess *ss = arg;
	struct load *L = ss->L;
	char text[160];

	ss->closed = 1;
	ss->s = NULL;
	L->n_open--;
	if (L->phase != PH_CLOSE) {
		bench_close_text(s, why, text, sizeof(text));
		fatal(L, ss->bound ? BENCH_EXIT_ABORT : BENCH_EXIT_CONNECT,
		    "%s: %s:%u: %s", ss->name, L->o->host,
		    (unsigned)L->o->port, text);
	}
	if (L->n_open == 0)
		event_base_loopexit(L->base, NULL);
}

static const struct smpp_session_ops load_ops = {
	.request = on_request,
	.response = on_response,
	.state = on_state,
	.writable = on_writable,
	.closed = on_closed,
};

/* ---- phases ---- */

static void
enter_close(struct load *L, int hard)
{
	struct timeval g = { CLOSE_GRACE_S, 0 };

	if (L->phase == PH_CLOSE)
		return;
	L->phase = PH_CLOSE;
	event_del(L->rate_ev);
	event_del(L->rcpt_ev);
	evtimer_add(L->grace_ev, &g);
	for (unsigned i = 0; i < L->n_sess; i++) {
		struct lsess *ss = &L->sess[i];

		/* Re-sends that never went out are counted, not lost. */
		L->st.send_errors += ss->ring_n;
		ss->ring_n = 0;
		if (ss->s == NULL)
			continue;
		if (hard || smpp_session_unbind(ss->s) != 0)
			smpp_session_close(ss->s);
	}
	if (L->n_open == 0)
		event_base_loopexit(L->base, NULL);
}

static int
all_idle(const struct load *L)
{
	if (L->inflight != 0)
		return 0;
	for (unsigned i = 0; i < L->n_sess; i++)
		if (L->sess[i].ring_n != 0 || L->sess[i].have_cur)
			return 0;
	return 1;
}

static void
check_phase(struct load *L)
{
	struct timeval tv;

	if (L->phase == PH_SEND) {
		if (!L->sending_done || !all_idle(L))
			return;
		if (!L->track_rcpt || bench_ids_count(L->ids) == 0 ||
		    L->o->receipt_timeout_s <= 0) {
			enter_close(L, 0);
			return;
		}
		L->phase = PH_RECEIPTS;
		tv_from_s(L->o->receipt_timeout_s, &tv);
		evtimer_add(L->rcpt_ev, &tv);
		return;
	}
	if (L->phase == PH_RECEIPTS && bench_ids_count(L->ids) == 0)
		enter_close(L, 0);
}

static void
on_rcpt_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct load *L = arg;

	(void)fd;
	(void)what;
	enter_close(L, 0);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct load *L = arg;

	(void)fd;
	(void)what;
	fatal(L, BENCH_EXIT_ABORT, "timed out after %.1f s (--timeout) in "
	    "the %s phase", L->o->timeout_s, L->phase == PH_CONNECT ?
	    "connect" : L->phase == PH_SEND ? "send" : "receipt");
}

static void
on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct load *L = arg;

	(void)fd;
	(void)what;
	event_base_loopexit(L->base, NULL);
}

static void
progress_line(struct load *L, int last)
{
	uint64_t now = bench_now_ns();
	double dt = (double)(now - L->prog_last_ns) / 1e9;
	double rate = dt > 0 ? (double)(L->st.responses -
	    L->prog_last_resp) / dt : 0;

	fprintf(stderr, "\r%7.1fs  submitted %" PRIu64 "  ok %" PRIu64
	    "  receipts %" PRIu64 "  inflight %" PRIu64 "  %.0f/s    %s",
	    (double)(now - L->t_start_ns) / 1e9, L->st.submitted,
	    L->st.responses_ok, L->st.receipts, L->inflight, rate,
	    last ? "\n" : "");
	L->prog_last_resp = L->st.responses;
	L->prog_last_ns = now;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct load *L = arg;

	(void)fd;
	(void)what;
	if (L->progress)
		progress_line(L, 0);
	if (L->phase == PH_SEND && !L->sending_done &&
	    L->t_send_end_ns != 0 && bench_now_ns() >= L->t_send_end_ns)
		mark_sending_done(L);
	if (L->phase == PH_SEND)
		check_phase(L);
}

/* ---- set-up and report ---- */

static int
build_message(struct load *L)
{
	const struct bench_opts *o = L->o;
	static const char pattern[] = "Sealgate smpp-bench load message ";
	struct bench_msg_spec sp;
	char err[256], *gen = NULL;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.service_type = o->service_type;
	sp.from = o->from;
	if (o->text != NULL) {
		sp.text = o->text;
		sp.text_len = strlen(o->text);
	} else {
		if ((gen = malloc(o->text_size + 1)) == NULL)
			return -1;
		for (size_t i = 0; i < o->text_size; i++)
			gen[i] = pattern[i % (sizeof(pattern) - 1)];
		gen[o->text_size] = '\0';
		sp.text = gen;
		sp.text_len = o->text_size;
	}
	sp.enc = o->enc;
	sp.split = o->split;
	sp.registered_delivery = o->registered_delivery;
	sp.tlvs = o->tlvs;
	sp.n_tlvs = o->n_tlvs;
	rc = bench_msg_build(&sp, &L->msg, err, sizeof(err));
	free(gen);
	if (rc != 0) {
		fprintf(stderr, "smpp-bench: %s\n", err);
		return -1;
	}
	if (L->msg.nparts > L->window) {
		fprintf(stderr, "smpp-bench: the message has %u parts: the "
		    "window (-w) must be at least that\n", L->msg.nparts);
		return -1;
	}
	return 0;
}

static int
sess_init(struct load *L, struct lsess *ss, unsigned i, int submits)
{
	ss->L = L;
	ss->submits = submits;
	snprintf(ss->name, sizeof(ss->name), "%s%u", submits ? "s" : "rx",
	    i);
	ss->slots = calloc(L->window, sizeof(*ss->slots));
	ss->free_stack = calloc(L->window, sizeof(*ss->free_stack));
	ss->ring = calloc(L->window, sizeof(*ss->ring));
	ss->buf_cap = bench_msg_max_len(&L->msg);
	ss->buf = malloc(ss->buf_cap);
	ss->backoff_ev = evtimer_new(L->base, on_backoff, ss);
	if (ss->slots == NULL || ss->free_stack == NULL || ss->ring == NULL ||
	    ss->buf == NULL || ss->backoff_ev == NULL)
		return -1;
	for (uint32_t k = 0; k < L->window; k++)
		ss->free_stack[k] = L->window - 1 - k;
	ss->n_free = L->window;
	return 0;
}

static void
sess_free(struct lsess *ss)
{
	free(ss->slots);
	free(ss->free_stack);
	free(ss->ring);
	free(ss->buf);
	if (ss->backoff_ev != NULL)
		event_free(ss->backoff_ev);
}

static uint64_t
error_limit(const struct load *L)
{
	if (L->o->max_errors_pct >= 0)
		return (uint64_t)floor(L->o->max_errors_pct / 100.0 *
		    (double)L->st.submitted);
	return L->o->max_errors;
}

static void
report(struct load *L, uint64_t errors)
{
	const struct bench_opts *o = L->o;
	struct rusage ru;
	json_t *j;
	char *s;
	FILE *human = o->json ? stderr : stdout;

	getrusage(RUSAGE_SELF, &ru);
	fprintf(human, "smpp-bench load: %s:%u%s, %u session(s) %s, window "
	    "%u, %u part(s)/message, %s\n", o->host, (unsigned)o->port,
	    o->tls ? " (TLS)" : "", o->sessions,
	    o->bind_cmd == SMPP_BIND_TRANSMITTER ? "tx" : "trx", L->window,
	    L->msg.nparts, smpp_text_enc_name(L->msg.enc));
	bench_stats_print(&L->st, human);
	fprintf(human, "cpu               user %.3f s, sys %.3f s, max rss "
	    "%ld KiB\n", (double)ru.ru_utime.tv_sec +
	    (double)ru.ru_utime.tv_usec / 1e6, (double)ru.ru_stime.tv_sec +
	    (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
	if (L->fatal[0] != '\0')
		fprintf(human, "error             %s\n", L->fatal);
	else if (errors > error_limit(L))
		fprintf(human, "error             %" PRIu64 " errors, over "
		    "the limit of %" PRIu64 " (--max-errors)\n", errors,
		    error_limit(L));
	if (!o->json)
		return;
	if ((j = bench_stats_json(&L->st)) == NULL) {
		fprintf(stderr, "smpp-bench: out of memory for the JSON\n");
		return;
	}
	json_object_set_new(j, "sessions", json_integer(o->sessions));
	json_object_set_new(j, "window", json_integer(L->window));
	json_object_set_new(j, "parts_per_message",
	    json_integer(L->msg.nparts));
	json_object_set_new(j, "cpu_user_s", json_real(
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6));
	json_object_set_new(j, "cpu_sys_s", json_real(
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6));
	json_object_set_new(j, "max_rss_kib", json_integer(ru.ru_maxrss));
	json_object_set_new(j, "error_limit", json_integer(
	    (json_int_t)error_limit(L)));
	json_object_set_new(j, "fatal", L->fatal[0] != '\0' ?
	    json_string(L->fatal) : json_null());
	json_object_set_new(j, "exit", json_integer(L->rc));
	if ((s = json_dumps(j, JSON_COMPACT)) != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	json_decref(j);
}

int
bench_load_run(const struct bench_opts *o, SSL_CTX *tls)
{
	static struct load L0;
	struct load *L = &L0;
	struct timeval tv = { 0, PROGRESS_MS * 1000 };
	unsigned n_rx;
	size_t table;
	uint64_t errors, total_pdus;
	char err[256];

	memset(L, 0, sizeof(*L));
	L->o = o;
	L->window = o->window;
	L->n_msgs = o->duration_s > 0 ? UINT64_MAX : o->n;
	L->track_rcpt = (o->registered_delivery & 0x03) != 0;
	L->expect_rcpt = (o->registered_delivery & 0x03) == 1;
	L->progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
	bench_stats_init(&L->st);
	if ((L->base = event_base_new()) == NULL) {
		fprintf(stderr, "smpp-bench: event_base_new failed\n");
		return BENCH_EXIT_ABORT;
	}
	if (build_message(L) != 0 ||
	    (o->to_file != NULL && load_dest_file(L, o->to_file) != 0)) {
		L->rc = BENCH_EXIT_USAGE;
		goto out;
	}
	/* The receipt table holds what can be pending at once; for a
	 * count run no more than the whole run. */
	table = o->max_pending;
	total_pdus = o->duration_s > 0 ? UINT64_MAX :
	    o->n * L->msg.nparts;
	if (total_pdus < table)
		table = (size_t)total_pdus;
	if ((L->ids = bench_ids_new(table, o->id_match)) == NULL ||
	    (L->early = bench_ids_new(table, o->id_match)) == NULL) {
		fprintf(stderr, "smpp-bench: out of memory for the receipt "
		    "table (--max-pending %zu)\n", table);
		L->rc = BENCH_EXIT_ABORT;
		goto out;
	}

	n_rx = o->bind_cmd == SMPP_BIND_TRANSMITTER && L->track_rcpt ? 1 : 0;
	L->n_sess = o->sessions + n_rx;
	if ((L->sess = calloc(L->n_sess, sizeof(*L->sess))) == NULL)
		goto nomem;
	for (unsigned i = 0; i < L->n_sess; i++)
		if (sess_init(L, &L->sess[i], i, i < o->sessions) != 0)
			goto nomem;
	L->rate_ev = evtimer_new(L->base, on_rate, L);
	L->tick_ev = event_new(L->base, -1, EV_PERSIST, on_tick, L);
	L->deadline_ev = evtimer_new(L->base, on_deadline, L);
	L->rcpt_ev = evtimer_new(L->base, on_rcpt_timeout, L);
	L->grace_ev = evtimer_new(L->base, on_grace, L);
	if (L->rate_ev == NULL || L->tick_ev == NULL ||
	    L->deadline_ev == NULL || L->rcpt_ev == NULL || L->grace_ev == NULL)
		goto nomem;

	L->tgt.host = o->host;
	L->tgt.port = o->port;
	L->tgt.tls = tls;
	L->tgt.tls_host = o->tls_host;
	L->tgt.system_id = o->system_id;
	L->tgt.password = o->password;
	L->tgt.system_type = o->system_type;
	smpp_session_config_defaults(&L->tgt.cfg);
	L->tgt.cfg.window = L->window;
	L->tgt.cfg.in_window = 65536;
	L->tgt.cfg.response_timeout_ms = o->response_timeout_ms;
	L->tgt.cfg.enquire_link_ms = o->enquire_link_ms;

	L->t_start_ns = L->prog_last_ns = bench_now_ns();
	event_add(L->tick_ev, &tv);
	tv_from_s(o->timeout_s, &tv);
	evtimer_add(L->deadline_ev, &tv);
	for (unsigned i = 0; i < L->n_sess; i++) {
		struct lsess *ss = &L->sess[i];

		ss->s = bench_connect(L->base, &L->tgt, ss->submits ?
		    o->bind_cmd : SMPP_BIND_RECEIVER, &load_ops, ss, ss->name,
		    err, sizeof(err));
		if (ss->s == NULL) {
			ss->closed = 1;
			fatal(L, BENCH_EXIT_CONNECT, "%s", err);
			break;
		}
		L->n_open++;
	}
	if (L->n_open > 0)
		event_base_dispatch(L->base);
	/* Anything still open after the grace is closed now. */
	if (L->n_open > 0) {
		struct timeval last = { 1, 0 };

		for (unsigned i = 0; i < L->n_sess; i++)
			if (L->sess[i].s != NULL)
				smpp_session_close(L->sess[i].s);
		event_base_loopexit(L->base, &last);
		event_base_dispatch(L->base);
	}
	if (L->progress)
		progress_line(L, 1);

	L->st.duration_s = (double)(bench_now_ns() - L->t_start_ns) / 1e9;
	L->st.warmup_s = L->o->warmup_s;
	if (L->expect_rcpt)
		L->st.receipts_missing = bench_ids_count(L->ids);
	L->st.receipts_unmatched += bench_ids_count(L->early);
	/* Submits that never got any answer are aborted, not lost. */
	if (L->inflight > 0)
		L->st.aborted += L->inflight;
	errors = bench_stats_errors(&L->st);
	if (L->rc == 0 && errors > error_limit(L))
		L->rc = BENCH_EXIT_FAIL;
	if (L->fatal[0] != '\0')
		fprintf(stderr, "smpp-bench: %s\n", L->fatal);
	report(L, errors);
	goto out;
nomem:
	fprintf(stderr, "smpp-bench: out of memory\n");
	L->rc = BENCH_EXIT_ABORT;
out:
	if (L->sess != NULL)
		for (unsigned i = 0; i < L->n_sess; i++)
			sess_free(&L->sess[i]);
	free(L->sess);
	if (L->rate_ev != NULL)
		event_free(L->rate_ev);
	if (L->tick_ev != NULL)
		event_free(L->tick_ev);
	if (L->deadline_ev != NULL)
		event_free(L->deadline_ev);
	if (L->rcpt_ev != NULL)
		event_free(L->rcpt_ev);
	if (L->grace_ev != NULL)
		event_free(L->grace_ev);
	bench_ids_free(L->ids);
	bench_ids_free(L->early);
	bench_msg_free(&L->msg);
	free(L->dest_text);
	free(L->dest_off);
	free(L->dest_len);
	event_base_free(L->base);
	return L->rc;
}
