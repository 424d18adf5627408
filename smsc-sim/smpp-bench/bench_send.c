/*
 * smpp-bench send: one message (all its parts), its responses and, when
 * asked, its receipts, printed one line each on stdout. A trx bind takes
 * the receipts on the same session; with --bind tx a second, receiver
 * session is opened for them. Every wait is bounded: --response-timeout
 * per part, --wait-receipt for the receipts, --timeout for the whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/tls.h"

#include "bench_conn.h"
#include "bench_ids.h"
#include "bench_msg.h"
#include "bench_opts.h"
#include "bench_send.h"
#include "bench_stats.h"

/* A receipt whose id no response has named yet. It may have come first
 * (on the receiver session, or from an SMSC that sends it so): held until
 * a response names its id, else printed as unknown once every part is
 * answered. */
#define HELD_MAX	16

struct held_rcpt {
	int		 used;
	struct bench_rcpt r;
	uint64_t	 at_ns;
};

struct send_part {
	unsigned	 n;		/* 1-based */
	uint64_t	 t_ns;		/* submitted at */
	int		 answered;
	uint32_t	 status;
	char		 id[SMPP_MESSAGE_ID_MAX];
};

struct send_ctx {
	struct event_base	*base;
	const struct bench_opts	*o;
	struct bench_target	 tgt;
	struct bench_msg	 msg;
	struct bench_ids	*ids;
	struct bench_ids	*early;		/* held receipts: id -> slot */
	struct held_rcpt	 held[HELD_MAX];
	struct smpp_session	*tx, *rx;
	int			 tx_bound, rx_bound, need_rx, sent;
	int			 want_receipts;
	struct send_part	*parts;
	unsigned		 n_resp, n_ok, n_rcpt;
	unsigned		 n_ended;	/* answered, timed out or aborted */
	int			 rc, finishing;
	struct event		*deadline;	/* --timeout */
	struct event		*rcpt_deadline;	/* --wait-receipt */
	struct event		*grace;		/* end of a finish */
	char			 reason[256];
};

static void finish(struct send_ctx *c, int rc);

/* One line for receipt r: intermediate, matched to part p (arrived at
 * at_ns), or (p NULL) for an id no response named. */
static void
print_receipt(struct send_ctx *c, const struct bench_rcpt *r,
    const struct send_part *p, uint64_t at_ns)
{
	char shown[SMPP_MESSAGE_ID_MAX * 4];
	const char *stat = smpp_dlr_stat_name(r->stat);

	smpp_log_escape(r->id, r->id_len, shown, sizeof(shown));
	if (stat == NULL)
		stat = "none";
	if (r->intermediate) {
		printf("receipt (intermediate): id=%s stat=%s\n", shown, stat);
		return;
	}
	if (p == NULL) {
		printf("receipt for an unknown id: id=%s stat=%s\n", shown,
		    stat);
		return;
	}
	printf("receipt %u/%u: id=%s stat=%s err=%s latency_ms=%.3f\n", p->n,
	    c->msg.nparts, shown, stat, r->err[0] != '\0' ? r->err : "-",
	    (double)(at_ns - p->t_ns) / 1e6);
}

/* Holds r until a response names its id; 0, or -1 when full. */
static int
hold_receipt(struct send_ctx *c, const struct bench_rcpt *r)
{
	for (unsigned i = 0; i < HELD_MAX; i++)
		if (!c->held[i].used) {
			if (bench_ids_put(c->early, r->id, r->id_len, i) != 0)
				return -1;
			c->held[i].used = 1;
			c->held[i].r = *r;
			c->held[i].at_ns = bench_now_ns();
			return 0;
		}
	return -1;
}

/* Every part is answered: what is still held named none of them. */
static void
flush_held(struct send_ctx *c)
{
	for (unsigned i = 0; i < HELD_MAX; i++)
		if (c->held[i].used) {
			c->held[i].used = 0;
			print_receipt(c, &c->held[i].r, NULL, 0);
		}
	bench_ids_clear(c->early);
}

static void
maybe_exit(struct send_ctx *c)
{
	if (c->finishing && c->tx == NULL && c->rx == NULL)
		event_base_loopexit(c->base, NULL);
}

/* Ends the command with exit code rc (the first one given wins):
 * sessions are unbound (or closed) and the loop ends when they are gone,
 * or after a short grace. */
static void
finish(struct send_ctx *c, int rc)
{
	struct timeval g = { 3, 0 };

	if (c->finishing)
		return;
	c->finishing = 1;
	c->rc = rc;
	flush_held(c);
	event_del(c->rcpt_deadline);
	if (c->tx != NULL && smpp_session_unbind(c->tx) != 0)
		smpp_session_close(c->tx);
	if (c->rx != NULL && smpp_session_unbind(c->rx) != 0)
		smpp_session_close(c->rx);
	evtimer_add(c->grace, &g);
	maybe_exit(c);
}

static void
send_parts(struct send_ctx *c)
{
	uint8_t buf[SMPP_HEADER_LEN + 1024 + 65536];
	uint16_t ref = (uint16_t)(time(NULL) ^ getpid());
	size_t dl = strlen(c->o->to);

	if (c->sent || !c->tx_bound || (c->need_rx && !c->rx_bound))
		return;
	c->sent = 1;
	for (unsigned i = 0; i < c->msg.nparts; i++) {
		struct send_part *p = &c->parts[i];
		size_t len;
		int rc;

		len = bench_msg_compose(&c->msg.parts[i], c->o->to, dl, ref,
		    buf, sizeof(buf));
		if (len == 0) {
			fprintf(stderr, "smpp-bench: --to is over %d "
			    "characters\n", SMPP_ADDR_MAX - 1);
			finish(c, BENCH_EXIT_USAGE);
			return;
		}
		p->n = i + 1;
		p->t_ns = bench_now_ns();
		rc = smpp_session_send_raw(c->tx, buf, len, p);
		if (rc != 0) {
			fprintf(stderr, "smpp-bench: cannot send part %u "
			    "(error %d)\n", p->n, rc);
			finish(c, BENCH_EXIT_ABORT);
			return;
		}
	}
}

static void
on_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct send_ctx *c = arg;

	(void)from;
	if (to != SMPP_ST_BOUND_TX && to != SMPP_ST_BOUND_TRX &&
	    to != SMPP_ST_BOUND_RX)
		return;
	if (s == c->tx)
		c->tx_bound = 1;
	else if (s == c->rx)
		c->rx_bound = 1;
	send_parts(c);
}

static void
all_answered(struct send_ctx *c)
{
	struct timeval tv;

	flush_held(c);
	if (c->n_ok < c->msg.nparts) {
		finish(c, c->n_resp == c->msg.nparts ? BENCH_EXIT_FAIL :
		    BENCH_EXIT_ABORT);
		return;
	}
	if (!c->want_receipts || c->n_rcpt >= c->n_ok) {
		finish(c, BENCH_EXIT_OK);
		return;
	}
	tv.tv_sec = (time_t)c->o->wait_receipt_s;
	tv.tv_usec = (suseconds_t)((c->o->wait_receipt_s - (double)tv.tv_sec) *
	    1e6);
	evtimer_add(c->rcpt_deadline, &tv);
}

static void
on_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct send_ctx *c = arg;
	struct send_part *p = ctx;
	char shown[SMPP_MESSAGE_ID_MAX * 4];
	double ms;

	(void)s;
	if (p == NULL || p->answered)
		return;
	p->answered = 1;
	ms = (double)(bench_now_ns() - p->t_ns) / 1e6;
	if (out != SMPP_OUT_RESP) {
		printf("submit_sm %u/%u: %s\n", p->n, c->msg.nparts,
		    out == SMPP_OUT_TIMEOUT ? "no response in time" :
		    "aborted: the connection closed first");
		if (out == SMPP_OUT_TIMEOUT)
			fprintf(stderr, "smpp-bench: submit_sm %u/%u got no "
			    "response within %u ms\n", p->n, c->msg.nparts,
			    c->o->response_timeout_ms);
	} else {
		c->n_resp++;
		p->status = resp->hdr.status;
		snprintf(p->id, sizeof(p->id), "%.*s",
		    (int)resp->message_id.len,
		    (const char *)resp->message_id.p);
		smpp_log_escape(p->id, strlen(p->id), shown, sizeof(shown));
		printf("submit_sm %u/%u: %s (0x%08" PRIx32 ") message_id=%s "
		    "latency_ms=%.3f\n", p->n, c->msg.nparts,
		    smpp_status_name(p->status), p->status, shown, ms);
		if (p->status == SMPP_ROK) {
			uint64_t slot;

			c->n_ok++;
			if (c->want_receipts && p->id[0] != '\0' &&
			    bench_ids_take(c->early, p->id, strlen(p->id),
			    &slot)) {
				/* its receipt came first */
				c->held[slot].used = 0;
				c->n_rcpt++;
				print_receipt(c, &c->held[slot].r, p,
				    c->held[slot].at_ns);
			} else if (c->want_receipts && p->id[0] != '\0' &&
			    bench_ids_put(c->ids, p->id, strlen(p->id),
			    p->n) != 0)
				fprintf(stderr, "smpp-bench: message id %s "
				    "cannot be matched to a receipt\n", shown);
		}
	}
	/* Parts that timed out count as ended, not as answered: the exit
	 * code then says so. */
	if (++c->n_ended == c->msg.nparts)
		all_answered(c);
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct send_ctx *c = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct bench_rcpt r;
	char from[64], to[64];
	uint64_t part = 0;

	if (req->hdr.id != SMPP_DELIVER_SM) {
		if (req->hdr.id != SMPP_ALERT_NOTIFICATION &&
		    req->hdr.id != SMPP_OUTBIND)
			(void)smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		return;
	}
	bench_rcpt_read(req, 1, &r);
	(void)smpp_session_reply(s, ref, SMPP_ROK, NULL);
	if (!r.is_receipt) {
		smpp_log_escape(req->src.addr.p, req->src.addr.len, from,
		    sizeof(from));
		smpp_log_escape(req->dst.addr.p, req->dst.addr.len, to,
		    sizeof(to));
		printf("mo: from=%s to=%s octets=%u data_coding=0x%02x\n",
		    from, to, (unsigned)req->short_message.len,
		    req->data_coding);
		return;
	}
	if (r.intermediate) {
		print_receipt(c, &r, NULL, 0);
		return;
	}
	if (r.id_len == 0 || !bench_ids_take(c->ids, r.id, r.id_len, &part)) {
		/* Parts still unanswered: the response may yet name it. */
		if (r.id_len == 0 || c->n_ended == c->msg.nparts ||
		    hold_receipt(c, &r) != 0)
			print_receipt(c, &r, NULL, 0);
		return;
	}
	c->n_rcpt++;
	print_receipt(c, &r, &c->parts[part - 1], bench_now_ns());
	if (c->n_rcpt >= c->n_ok && c->n_resp == c->msg.nparts)
		finish(c, BENCH_EXIT_OK);
}

static void
on_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct send_ctx *c = arg;
	int was_bound = s == c->tx ? c->tx_bound : c->rx_bound;
	char text[160];

	if (s == c->tx)
		c->tx = NULL;
	else if (s == c->rx)
		c->rx = NULL;
	if (!c->finishing) {
		bench_close_text(s, why, text, sizeof(text));
		fprintf(stderr, "smpp-bench: %s:%u: %s\n", c->o->host,
		    (unsigned)c->o->port, text);
		finish(c, was_bound ? BENCH_EXIT_ABORT : BENCH_EXIT_CONNECT);
	}
	maybe_exit(c);
}

static const struct smpp_session_ops send_ops = {
	.request = on_request,
	.response = on_response,
	.state = on_state,
	.closed = on_closed,
};

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct send_ctx *c = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "smpp-bench: timed out after %.1f s (--timeout): "
	    "%u of %u parts answered, %u receipts\n", c->o->timeout_s,
	    c->n_resp, c->msg.nparts, c->n_rcpt);
	finish(c, BENCH_EXIT_ABORT);
}

static void
on_rcpt_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct send_ctx *c = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "smpp-bench: %u of %u receipts within %.1f s "
	    "(--wait-receipt)\n", c->n_rcpt, c->n_ok, c->o->wait_receipt_s);
	finish(c, BENCH_EXIT_ABORT);
}

static void
on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct send_ctx *c = arg;

	(void)fd;
	(void)what;
	event_base_loopexit(c->base, NULL);
}

int
bench_send_run(const struct bench_opts *o, SSL_CTX *tls)
{
	static struct send_ctx c;
	struct bench_msg_spec sp;
	struct timeval tv;
	char err[256];
	uint8_t rd = o->registered_delivery;

	memset(&c, 0, sizeof(c));
	c.o = o;
	/* Waiting for a receipt means asking for one. */
	if (o->wait_receipt_s > 0 && (rd & 0x03) == 0)
		rd |= 0x01;
	c.want_receipts = o->wait_receipt_s > 0;
	memset(&sp, 0, sizeof(sp));
	sp.service_type = o->service_type;
	sp.from = o->from;
	sp.text = o->text;
	sp.text_len = strlen(o->text);
	sp.enc = o->enc;
	sp.split = o->split;
	sp.registered_delivery = rd;
	sp.tlvs = o->tlvs;
	sp.n_tlvs = o->n_tlvs;
	if (bench_msg_build(&sp, &c.msg, err, sizeof(err)) != 0) {
		fprintf(stderr, "smpp-bench: %s\n", err);
		return BENCH_EXIT_USAGE;
	}
	if (strlen(o->to) >= SMPP_ADDR_MAX) {
		fprintf(stderr, "smpp-bench: --to is over %d characters\n",
		    SMPP_ADDR_MAX - 1);
		bench_msg_free(&c.msg);
		return BENCH_EXIT_USAGE;
	}
	c.parts = calloc(c.msg.nparts, sizeof(*c.parts));
	c.ids = bench_ids_new(c.msg.nparts, o->id_match);
	c.early = bench_ids_new(HELD_MAX, o->id_match);
	c.base = event_base_new();
	if (c.parts == NULL || c.ids == NULL || c.early == NULL ||
	    c.base == NULL) {
		fprintf(stderr, "smpp-bench: out of memory\n");
		exit(BENCH_EXIT_ABORT);
	}
	printf("message: %u part(s), %s, data_coding=0x%02x, %zu octets, "
	    "registered_delivery=%u\n", c.msg.nparts,
	    smpp_text_enc_name(c.msg.enc), c.msg.dcs, c.msg.octets, rd);

	c.tgt.host = o->host;
	c.tgt.port = o->port;
	c.tgt.tls = tls;
	c.tgt.tls_host = o->tls_host;
	c.tgt.system_id = o->system_id;
	c.tgt.password = o->password;
	c.tgt.system_type = o->system_type;
	smpp_session_config_defaults(&c.tgt.cfg);
	c.tgt.cfg.window = c.msg.nparts;
	c.tgt.cfg.response_timeout_ms = o->response_timeout_ms;
	c.tgt.cfg.enquire_link_ms = o->enquire_link_ms;

	c.deadline = evtimer_new(c.base, on_deadline, &c);
	c.rcpt_deadline = evtimer_new(c.base, on_rcpt_deadline, &c);
	c.grace = evtimer_new(c.base, on_grace, &c);
	tv.tv_sec = (time_t)o->timeout_s;
	tv.tv_usec = (suseconds_t)((o->timeout_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(c.deadline, &tv);

	c.need_rx = c.want_receipts && o->bind_cmd == SMPP_BIND_TRANSMITTER;
	c.tx = bench_connect(c.base, &c.tgt, o->bind_cmd, &send_ops, &c,
	    "send", err, sizeof(err));
	if (c.tx == NULL) {
		fprintf(stderr, "smpp-bench: %s\n", err);
		c.rc = BENCH_EXIT_CONNECT;
		c.finishing = 1;
	} else if (c.need_rx) {
		c.rx = bench_connect(c.base, &c.tgt, SMPP_BIND_RECEIVER,
		    &send_ops, &c, "send-rx", err, sizeof(err));
		if (c.rx == NULL) {
			fprintf(stderr, "smpp-bench: %s\n", err);
			finish(&c, BENCH_EXIT_CONNECT);
		}
	}
	if (!c.finishing || c.tx != NULL || c.rx != NULL)
		event_base_dispatch(c.base);

	event_free(c.deadline);
	event_free(c.rcpt_deadline);
	event_free(c.grace);
	event_base_free(c.base);
	bench_ids_free(c.ids);
	bench_ids_free(c.early);
	bench_msg_free(&c.msg);
	free(c.parts);
	return c.rc;
}
