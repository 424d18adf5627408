/*
 * Session layer tests over real 127.0.0.1 sockets: a listener and server
 * sessions on one side, client sessions, connectors or raw sockets on the
 * other, all in one event loop. Raw sockets send exactly the bytes a bad
 * peer would and read the answers byte for byte.
 *
 * Every wait is bounded (loop_until with a deadline, plus a loopexit
 * watchdog), so a broken test fails instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/build.h"
#include "smpp/connector.h"
#include "smpp/listener.h"
#include "smpp/log.h"
#include "smpp/pdu.h"
#include "smpp/proto.h"
#include "smpp/session.h"
#include "smpp/tls.h"
#include "testcert.h"

#define HOLD_BIND	0xFFFFFFFFu
#define NCTX		300

struct fx;

/* The owner of one session (either side). */
struct side {
	struct fx		*fx;
	struct smpp_session	*s;
	int			 closed;
	enum smpp_close_reason	 reason;
	enum smpp_state		 st;
	int			 writable;
	uint32_t		 bind_reply;	/* server: status, or HOLD_BIND */
	int			 n_bind;
	int			 n_req;
	uint32_t		 last_req_cmd;
	uint32_t		 req_seqs[8];	/* first requests' seqs */
	int			 hold;		/* keep requests unanswered */
	struct smpp_req_ref	 held[NCTX];
	int			 n_held;
	int			 n_resp, n_timeout, n_abort;
	uint32_t		 last_status;
	char			 last_msgid[SMPP_MESSAGE_ID_MAX];
	int			 ctx_seen[NCTX];
	size_t			 max_out;
	int			 saw_paused;
	int			 resend;	/* bench-like: send again on resp */
};

struct raw {
	int	fd;
	int	eof;
	size_t	off;		/* start of unread bytes in b */
	size_t	n;		/* end of unread bytes in b */
	uint8_t	b[1 << 17];
};

struct fx {
	struct event_base	*base;
	struct smpp_listener	*l;
	uint16_t		 port;
	struct side		 srv, cli;
	struct smpp_session_config scfg, ccfg;
	SSL_CTX			*stls, *ctls;
	struct testcert		 tc;
	struct event		*tick;
	char			 ctxs[NCTX];
	int			 srv_sessions;
	struct smpp_session	*srvs[16];	/* every live server session */
	int			 srv_live;
	int			 small_sndbuf;	/* server sockets: small SO_SNDBUF,
						 * so backpressure comes sooner */
	const int		*wp;		/* wait_ge() condition */
	int			 wv;
};

/* ---- helpers ---- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

typedef int (*cond_fn)(struct fx *);

/* Runs the loop until cond holds or ms pass; returns cond. */
static int
loop_until(struct fx *fx, cond_fn cond, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;

	while (!cond(fx) && mono_ms() < end)
		event_base_loop(fx->base, EVLOOP_ONCE);
	return cond(fx);
}

static int
ge_cond(struct fx *fx)
{
	return *fx->wp >= fx->wv;
}

/* Runs the loop until *p >= v (or ms pass); returns whether it did. */
static int
wait_ge(struct fx *fx, const int *p, int v, int ms)
{
	fx->wp = p;
	fx->wv = v;
	return loop_until(fx, ge_cond, ms);
}

static void
loop_for(struct fx *fx, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;

	while (mono_ms() < end)
		event_base_loop(fx->base, EVLOOP_ONCE);
}

static int
ctx_index(struct fx *fx, void *ctx)
{
	return (int)((char *)ctx - fx->ctxs);
}

/* ---- server owner ---- */

static void
srv_bind(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct side *sd = arg;

	(void)req;
	sd->n_bind++;
	if (sd->bind_reply != HOLD_BIND)
		assert_int_equal(smpp_session_bind_reply(s, sd->bind_reply,
		    "SGTEST"), 0);
}

static void
track_out(struct side *sd, struct smpp_session *s)
{
	struct smpp_session_stats st;

	smpp_session_stats(s, &st);
	if (st.out_queued > sd->max_out)
		sd->max_out = st.out_queued;
	if (st.read_paused)
		sd->saw_paused = 1;
}

static void
any_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct side *sd = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	char mid[32];

	if (sd->n_req < 8)
		sd->req_seqs[sd->n_req] = req->hdr.seq;
	sd->n_req++;
	sd->last_req_cmd = req->hdr.id;
	if (sd->hold) {
		if (sd->n_held < NCTX)
			sd->held[sd->n_held++] = ref;
		return;
	}
	snprintf(mid, sizeof(mid), "m%u", req->hdr.seq);
	assert_int_equal(smpp_session_reply(s, ref, SMPP_ROK, mid), 0);
	track_out(sd, s);
}

static void
any_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct side *sd = arg;

	(void)s;
	(void)from;
	sd->st = to;
}

static void
any_closed(struct smpp_session *s, enum smpp_close_reason r, void *arg)
{
	struct side *sd = arg;

	sd->closed++;
	sd->reason = r;
	sd->s = NULL;
	for (int i = 0; i < 16; i++)
		if (sd->fx->srvs[i] == s) {
			sd->fx->srvs[i] = NULL;
			sd->fx->srv_live--;
		}
}

static void
any_writable(struct smpp_session *s, void *arg)
{
	struct side *sd = arg;

	(void)s;
	sd->writable++;
}

static void
any_response(struct smpp_session *s, enum smpp_outcome o,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct side *sd = arg;
	int i = ctx_index(sd->fx, ctx);

	(void)s;
	assert_true(i >= 0 && i < NCTX);
	sd->ctx_seen[i]++;
	switch (o) {
	case SMPP_OUT_RESP:
		assert_non_null(resp);
		sd->n_resp++;
		sd->last_status = resp->hdr.status;
		sd->last_msgid[0] = '\0';
		if (resp->message_id.p != NULL && resp->message_id.len <
		    sizeof(sd->last_msgid)) {
			memcpy(sd->last_msgid, resp->message_id.p,
			    resp->message_id.len);
			sd->last_msgid[resp->message_id.len] = '\0';
		}
		break;
	case SMPP_OUT_TIMEOUT:
		assert_null(resp);
		sd->n_timeout++;
		break;
	case SMPP_OUT_ABORTED:
		assert_null(resp);
		sd->n_abort++;
		break;
	}
}

static const struct smpp_session_ops srv_ops = {
	.bind = srv_bind,
	.request = any_request,
	.response = any_response,
	.state = any_state,
	.writable = any_writable,
	.closed = any_closed,
};

static const struct smpp_session_ops cli_ops = {
	.request = any_request,
	.response = any_response,
	.state = any_state,
	.writable = any_writable,
	.closed = any_closed,
};

static void
on_accept(struct smpp_listener *l, struct bufferevent *bev, const char *peer,
    void *arg)
{
	struct fx *fx = arg;

	(void)l;
	(void)peer;
	fx->srv.closed = 0;
	fx->srv_sessions++;
	if (fx->small_sndbuf) {
		int sz = 4096;

		setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
	}
	fx->srv.s = smpp_session_new(fx->base, bev, SMPP_ROLE_SERVER,
	    &fx->scfg, &srv_ops, &fx->srv, "srv");
	assert_non_null(fx->srv.s);
	for (int i = 0; i < 16; i++)
		if (fx->srvs[i] == NULL) {
			fx->srvs[i] = fx->srv.s;
			fx->srv_live++;
			break;
		}
}

static void
listen_on(struct fx *fx, int tls)
{
	fx->l = smpp_listener_new(fx->base, "127.0.0.1", 0,
	    tls ? fx->stls : NULL, on_accept, fx, "lst");
	assert_non_null(fx->l);
	fx->port = smpp_listener_port(fx->l);
	assert_true(fx->port != 0);
}

static void
sockaddr_lo(struct sockaddr_in *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void
cli_connect(struct fx *fx, int tls, const char *host)
{
	struct bufferevent *bev;
	struct sockaddr_in sin;

	if (tls)
		bev = smpp_tls_connect_bev(fx->base, fx->ctls, host);
	else
		bev = bufferevent_socket_new(fx->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	fx->cli.closed = 0;
	fx->cli.s = smpp_session_new(fx->base, bev, SMPP_ROLE_CLIENT,
	    &fx->ccfg, &cli_ops, &fx->cli, "cli");
	assert_non_null(fx->cli.s);
	sockaddr_lo(&sin, fx->port);
	assert_int_equal(bufferevent_socket_connect(bev,
	    (struct sockaddr *)&sin, sizeof(sin)), 0);
}

static int
both_bound(struct fx *fx)
{
	return fx->cli.s != NULL && fx->srv.s != NULL &&
	    (fx->cli.st == SMPP_ST_BOUND_TX || fx->cli.st == SMPP_ST_BOUND_RX ||
	    fx->cli.st == SMPP_ST_BOUND_TRX) && fx->srv.st == fx->cli.st;
}

static void
cli_bind(struct fx *fx, uint32_t cmd)
{
	assert_int_equal(smpp_session_bind(fx->cli.s, cmd, "esme", "secret",
	    "", 1, 1, ""), 0);
}

static void
connect_and_bind(struct fx *fx, uint32_t cmd)
{
	cli_connect(fx, 0, NULL);
	cli_bind(fx, cmd);
	assert_true(loop_until(fx, both_bound, 2000));
}

static int
both_closed(struct fx *fx)
{
	return fx->cli.closed && fx->srv.closed;
}

static int
cli_closed(struct fx *fx)
{
	return fx->cli.closed;
}

static int
srv_closed(struct fx *fx)
{
	return fx->srv.closed;
}

static void
make_submit(struct smpp_pdu *p, const char *text)
{
	smpp_pdu_init(p, SMPP_SUBMIT_SM);
	snprintf(p->source_addr, sizeof(p->source_addr), "12345");
	snprintf(p->destination_addr, sizeof(p->destination_addr),
	    "4915112345678");
	p->source_addr_ton = 1;
	p->source_addr_npi = 1;
	p->dest_addr_ton = 1;
	p->dest_addr_npi = 1;
	p->sm_length = (uint8_t)strlen(text);
	memcpy(p->short_message, text, p->sm_length);
}

static int
send_submit(struct fx *fx, struct side *sd, int ctx)
{
	struct smpp_pdu p;
	int rc;

	make_submit(&p, "hello");
	rc = smpp_session_send(sd->s, &p, &fx->ctxs[ctx]);
	smpp_pdu_clear(&p);
	return rc;
}

/* A submit_sm by hand, for raw sockets; returns its length. */
static size_t
raw_submit(uint8_t *b, uint32_t seq, const char *text)
{
	size_t o = 16, tl = strlen(text);

	b[o++] = 0;				/* service_type */
	b[o++] = 1; b[o++] = 1;
	memcpy(b + o, "12345", 6); o += 6;
	b[o++] = 1; b[o++] = 1;
	memcpy(b + o, "4915112345678", 14); o += 14;
	b[o++] = 0; b[o++] = 0; b[o++] = 0;	/* esm, pid, priority */
	b[o++] = 0; b[o++] = 0;			/* schedule, validity */
	b[o++] = 0; b[o++] = 0; b[o++] = 0; b[o++] = 0;
	b[o++] = (uint8_t)tl;
	memcpy(b + o, text, tl); o += tl;
	smpp_put32(b, (uint32_t)o);
	smpp_put32(b + 4, SMPP_SUBMIT_SM);
	smpp_put32(b + 8, 0);
	smpp_put32(b + 12, seq);
	return o;
}

static size_t
raw_bind(uint8_t *b, uint32_t cmd, uint32_t seq)
{
	size_t o = 16;

	memcpy(b + o, "esme", 5); o += 5;
	memcpy(b + o, "secret", 7); o += 7;
	b[o++] = 0;
	b[o++] = 0x34; b[o++] = 0; b[o++] = 0;
	b[o++] = 0;
	smpp_put32(b, (uint32_t)o);
	smpp_put32(b + 4, cmd);
	smpp_put32(b + 8, 0);
	smpp_put32(b + 12, seq);
	return o;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static struct raw *
raw_open(struct fx *fx)
{
	struct raw *r = calloc(1, sizeof(*r));
	struct sockaddr_in sin;

	assert_non_null(r);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->fd >= 0);
	sockaddr_lo(&sin, fx->port);
	assert_int_equal(connect(r->fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	return r;
}

static void
raw_close(struct raw *r)
{
	close(r->fd);
	free(r);
}

static void
raw_send(struct raw *r, const void *p, size_t n)
{
	assert_int_equal(send(r->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Pumps the loop until a whole PDU is buffered; copies it to out and
 * returns its length, 0 on EOF, -1 on timeout. */
static int
raw_recv(struct fx *fx, struct raw *r, uint8_t *out, size_t cap, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;

	for (;;) {
		ssize_t k;

		if (r->n - r->off >= 4) {
			uint32_t len = get32(r->b + r->off);

			assert_true(len >= 16 && len <= cap);
			if (r->n - r->off >= len) {
				memcpy(out, r->b + r->off, len);
				r->off += len;
				return (int)len;
			}
		}
		if (r->off > 0) {
			memmove(r->b, r->b + r->off, r->n - r->off);
			r->n -= r->off;
			r->off = 0;
		}
		k = recv(r->fd, r->b + r->n, sizeof(r->b) - r->n, MSG_DONTWAIT);
		if (k > 0) {
			r->n += (size_t)k;
			continue;
		}
		if (k == 0) {
			r->eof = 1;
			return 0;
		}
		if (mono_ms() >= end)
			return -1;
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		usleep(200);
	}
}

static void
expect_pdu(struct fx *fx, struct raw *r, uint32_t id, uint32_t status,
    uint32_t seq)
{
	uint8_t b[4096];
	int n = raw_recv(fx, r, b, sizeof(b), 2000);

	assert_true(n >= 16);
	assert_int_equal(get32(b + 4), id);
	assert_int_equal(get32(b + 8), status);
	assert_int_equal(get32(b + 12), seq);
}

static void
expect_eof(struct fx *fx, struct raw *r)
{
	uint8_t b[4096];

	assert_int_equal(raw_recv(fx, r, b, sizeof(b), 2000), 0);
}

/* Binds a raw socket as type cmd (server bind_reply must be ROK). */
static struct raw *
raw_bound(struct fx *fx, uint32_t cmd)
{
	struct raw *r = raw_open(fx);
	uint8_t b[128];
	size_t n = raw_bind(b, cmd, 1);

	raw_send(r, b, n);
	expect_pdu(fx, r, cmd | SMPP_RESP_BIT, SMPP_ROK, 1);
	return r;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct timeval tv = { 0, 5000 }, wd = { 30, 0 };

	if (fx == NULL)
		return -1;
	fx->base = event_base_new();
	fx->tick = event_new(fx->base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(fx->tick, &tv);
	/* Watchdog: no loop call of a broken test outlives this. */
	event_base_loopexit(fx->base, &wd);
	fx->srv.fx = fx->cli.fx = fx;
	fx->srv.bind_reply = SMPP_ROK;
	smpp_session_config_defaults(&fx->scfg);
	smpp_session_config_defaults(&fx->ccfg);
	fx->scfg.enquire_link_ms = 0;
	fx->ccfg.enquire_link_ms = 0;
	*state = fx;
	return 0;
}

static int
any_open(struct fx *fx)
{
	return fx->cli.s == NULL && fx->srv_live == 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx->cli.s != NULL)
		smpp_session_close(fx->cli.s);
	for (int i = 0; i < 16; i++)
		if (fx->srvs[i] != NULL)
			smpp_session_close(fx->srvs[i]);
	loop_until(fx, any_open, 3000);
	assert_int_equal(fx->srv_live, 0);
	if (fx->l != NULL)
		smpp_listener_free(fx->l);
	SSL_CTX_free(fx->stls);
	SSL_CTX_free(fx->ctls);
	testcert_remove(&fx->tc);
	event_free(fx->tick);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

/* ---- tests ---- */

static void
bind_one(struct fx *fx, uint32_t cmd, enum smpp_state want)
{
	listen_on(fx, 0);
	connect_and_bind(fx, cmd);
	assert_int_equal(fx->cli.st, want);
	assert_int_equal(smpp_session_state(fx->srv.s), want);
	assert_int_equal(smpp_session_bind_status(fx->cli.s), SMPP_ROK);
	assert_string_equal(smpp_session_peer_system_id(fx->cli.s), "SGTEST");
	assert_string_equal(smpp_session_peer_system_id(fx->srv.s), "esme");
	assert_int_equal(fx->srv.n_bind, 1);
	assert_int_equal(strncmp(smpp_session_peer_addr(fx->srv.s),
	    "127.0.0.1:", 10), 0);
}

static void
test_bind_tx(void **state)
{
	struct fx *fx = *state;

	bind_one(fx, SMPP_BIND_TRANSMITTER, SMPP_ST_BOUND_TX);
	assert_true(smpp_session_can_send(fx->cli.s, SMPP_SUBMIT_SM));
	assert_false(smpp_session_can_send(fx->cli.s, SMPP_DELIVER_SM));
	assert_false(smpp_session_can_send(fx->srv.s, SMPP_DELIVER_SM));
	assert_true(smpp_session_can_send(fx->srv.s, SMPP_DATA_SM));
}

static void
test_bind_rx(void **state)
{
	struct fx *fx = *state;

	bind_one(fx, SMPP_BIND_RECEIVER, SMPP_ST_BOUND_RX);
	assert_false(smpp_session_can_send(fx->cli.s, SMPP_SUBMIT_SM));
	assert_true(smpp_session_can_send(fx->srv.s, SMPP_DELIVER_SM));
	assert_int_equal(send_submit(fx, &fx->cli, 0), -SMPP_ERR_STATE);
}

static void
test_bind_trx(void **state)
{
	struct fx *fx = *state;
	struct smpp_pdu p;

	bind_one(fx, SMPP_BIND_TRANSCEIVER, SMPP_ST_BOUND_TRX);
	/* deliver_sm from the server side reaches the client owner. */
	smpp_pdu_init(&p, SMPP_DELIVER_SM);
	snprintf(p.source_addr, sizeof(p.source_addr), "4915112345678");
	snprintf(p.destination_addr, sizeof(p.destination_addr), "12345");
	assert_int_equal(smpp_session_send(fx->srv.s, &p, &fx->ctxs[7]), 0);
	smpp_pdu_clear(&p);
	assert_true(wait_ge(fx, &fx->srv.n_resp, 1, 2000));
	assert_int_equal(fx->cli.last_req_cmd, SMPP_DELIVER_SM);
	assert_int_equal(fx->srv.n_resp, 1);
	assert_int_equal(fx->srv.ctx_seen[7], 1);
	assert_int_equal(fx->srv.last_status, SMPP_ROK);
}

static void
test_bind_refused(void **state)
{
	struct fx *fx = *state;

	fx->srv.bind_reply = SMPP_RINVPASWD;
	listen_on(fx, 0);
	cli_connect(fx, 0, NULL);
	cli_bind(fx, SMPP_BIND_TRANSCEIVER);
	assert_true(loop_until(fx, both_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_BIND_FAILED);
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_BIND_FAILED);
	assert_int_equal(fx->cli.st, SMPP_ST_CLOSED);
	assert_int_equal(fx->srv.n_bind, 1);
}

static void
test_bind_status_seen(void **state)
{
	struct fx *fx = *state;
	struct smpp_session *cs;

	/* The status is readable from the state callback before close. */
	fx->srv.bind_reply = SMPP_RINVSYSID;
	listen_on(fx, 0);
	cli_connect(fx, 0, NULL);
	cs = fx->cli.s;
	cli_bind(fx, SMPP_BIND_TRANSMITTER);
	assert_int_equal(smpp_session_bind_status(cs), 0xFFFFFFFFu);
	assert_true(loop_until(fx, both_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_BIND_FAILED);
}

static void
test_submit_roundtrip(void **state)
{
	struct fx *fx = *state;
	uint8_t raw[256];
	size_t n;

	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSMITTER);
	assert_int_equal(send_submit(fx, &fx->cli, 3), 0);
	assert_true(wait_ge(fx, &fx->cli.n_resp, 1, 2000));
	assert_int_equal(fx->cli.ctx_seen[3], 1);
	assert_int_equal(fx->cli.last_status, SMPP_ROK);
	assert_int_equal(fx->cli.last_msgid[0], 'm');
	assert_int_equal(fx->srv.last_req_cmd, SMPP_SUBMIT_SM);

	/* Raw bytes forwarded as they are, with a new sequence number. */
	n = raw_submit(raw, 999, "raw text");
	assert_int_equal(smpp_session_send_raw(fx->cli.s, raw, n,
	    &fx->ctxs[4]), 0);
	assert_int_equal(get32(raw + 12), 999);	/* caller's copy untouched */
	assert_true(wait_ge(fx, &fx->cli.n_resp, 2, 2000));
	assert_int_equal(fx->cli.ctx_seen[4], 1);
	assert_int_equal(smpp_session_send_raw(fx->cli.s, raw, n - 1,
	    &fx->ctxs[5]), -SMPP_ERR_ARG);
	assert_int_equal(fx->srv.n_req, 2);
}

static void
test_seq_wrap(void **state)
{
	struct fx *fx = *state;

	/* Sequence numbers run 1..0x7FFFFFFF and wrap to 1, never to 0 or
	 * to the high half; responses across the wrap still match. */
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSMITTER);
	smpp_session_set_next_seq(fx->cli.s, 0x7FFFFFFE);
	for (int i = 0; i < 3; i++)
		assert_int_equal(send_submit(fx, &fx->cli, 10 + i), 0);
	assert_true(wait_ge(fx, &fx->cli.n_resp, 3, 2000));
	assert_int_equal(fx->srv.n_req, 3);
	assert_int_equal(fx->srv.req_seqs[0], 0x7FFFFFFE);
	assert_int_equal(fx->srv.req_seqs[1], 0x7FFFFFFF);
	assert_int_equal(fx->srv.req_seqs[2], 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx->cli.ctx_seen[10 + i], 1);
	assert_int_equal(fx->cli.n_timeout + fx->cli.n_abort, 0);
}

static void
test_silent_enquire_link(void **state)
{
	struct fx *fx = *state;
	struct raw *r;
	uint8_t b[64];
	size_t n;

	/* A simulator's fault: enquire_link goes unanswered while silent,
	 * other requests are still answered, and answering comes back. */
	listen_on(fx, 0);
	r = raw_bound(fx, SMPP_BIND_TRANSCEIVER);
	assert_true(wait_ge(fx, &fx->srv_live, 1, 2000));
	smpp_session_set_silent_enquire_link(fx->srv.s, 1);
	n = smpp_build_header(b, sizeof(b), SMPP_ENQUIRE_LINK, 0, 2);
	raw_send(r, b, n);
	n = raw_submit(b, 3, "still served");
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_SUBMIT_SM_RESP, SMPP_ROK, 3);
	smpp_session_set_silent_enquire_link(fx->srv.s, 0);
	n = smpp_build_header(b, sizeof(b), SMPP_ENQUIRE_LINK, 0, 4);
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_ENQUIRE_LINK_RESP, SMPP_ROK, 4);
	raw_close(r);
}

static int
cli_writable(struct fx *fx)
{
	return fx->cli.writable > 0;
}

static void
test_window_full(void **state)
{
	struct fx *fx = *state;

	fx->ccfg.window = 4;
	fx->srv.hold = 1;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSCEIVER);
	for (int i = 0; i < 4; i++)
		assert_int_equal(send_submit(fx, &fx->cli, i), 0);
	assert_int_equal(smpp_session_window_room(fx->cli.s), 0);
	assert_int_equal(send_submit(fx, &fx->cli, 4), -SMPP_ERR_WINDOW);
	assert_true(wait_ge(fx, &fx->srv.n_held, 4, 2000));
	assert_int_equal(fx->cli.writable, 0);
	assert_int_equal(smpp_session_reply(fx->srv.s, fx->srv.held[0],
	    SMPP_ROK, "x"), 0);
	assert_true(loop_until(fx, cli_writable, 2000));
	assert_int_equal(fx->cli.writable, 1);
	assert_int_equal(smpp_session_window_room(fx->cli.s), 1);
	assert_int_equal(send_submit(fx, &fx->cli, 4), 0);
	assert_int_equal(fx->cli.ctx_seen[0], 1);
}

static int
cli_has_timeout(struct fx *fx)
{
	return fx->cli.n_timeout > 0;
}

static void
test_response_timeout(void **state)
{
	struct fx *fx = *state;
	uint64_t t0;

	fx->ccfg.response_timeout_ms = 150;
	fx->srv.hold = 1;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSMITTER);
	t0 = mono_ms();
	assert_int_equal(send_submit(fx, &fx->cli, 9), 0);
	assert_int_equal(send_submit(fx, &fx->cli, 10), 0);
	assert_true(loop_until(fx, cli_has_timeout, 2000));
	loop_for(fx, 30);
	assert_true(mono_ms() - t0 >= 140);
	assert_int_equal(fx->cli.n_timeout, 2);
	assert_int_equal(fx->cli.ctx_seen[9], 1);
	assert_int_equal(fx->cli.ctx_seen[10], 1);
	/* A late answer is ignored: reported once only. */
	assert_int_equal(smpp_session_reply(fx->srv.s, fx->srv.held[0],
	    SMPP_ROK, "late"), 0);
	loop_for(fx, 50);
	assert_int_equal(fx->cli.ctx_seen[9], 1);
	assert_int_equal(fx->cli.n_resp, 0);
	assert_int_equal(smpp_session_state(fx->cli.s), SMPP_ST_BOUND_TX);
}

static void
test_enquire_link(void **state)
{
	struct fx *fx = *state;
	struct smpp_session_stats st;
	struct raw *r;
	uint8_t b[16];

	fx->ccfg.enquire_link_ms = 40;
	fx->ccfg.response_timeout_ms = 200;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSCEIVER);
	loop_for(fx, 400);
	smpp_session_stats(fx->cli.s, &st);
	/* bind + several probes out, and as many answers back */
	assert_true(st.tx_pdus >= 4);
	assert_true(st.rx_pdus >= 4);
	assert_int_equal(fx->cli.st, SMPP_ST_BOUND_TRX);
	assert_int_equal(fx->cli.closed, 0);
	assert_int_equal(fx->srv.n_req, 0);	/* never bothered the owner */

	/* A raw peer's enquire_link is answered, even before a bind. */
	r = raw_open(fx);
	smpp_build_header(b, sizeof(b), SMPP_ENQUIRE_LINK, 0, 77);
	raw_send(r, b, sizeof(b));
	expect_pdu(fx, r, SMPP_ENQUIRE_LINK_RESP, SMPP_ROK, 77);
	raw_close(r);
}

static void
test_enquire_link_unanswered(void **state)
{
	struct fx *fx = *state;
	struct smpp_session *cs;
	struct raw *r;
	struct sockaddr_in sin;
	struct bufferevent *bev;
	int lfd, afd, one = 1;
	socklen_t sl = sizeof(sin);
	uint8_t b[256];

	/* A fake SMSC that answers the bind and then goes silent. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_lo(&sin, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	fx->ccfg.enquire_link_ms = 30;
	fx->ccfg.response_timeout_ms = 60;
	bev = bufferevent_socket_new(fx->base, -1, BEV_OPT_CLOSE_ON_FREE);
	cs = fx->cli.s = smpp_session_new(fx->base, bev, SMPP_ROLE_CLIENT,
	    &fx->ccfg, &cli_ops, &fx->cli, "cli");
	bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin));
	cli_bind(fx, SMPP_BIND_TRANSCEIVER);
	while ((afd = accept(lfd, NULL, NULL)) < 0)
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
	r = calloc(1, sizeof(*r));
	r->fd = afd;
	assert_true(raw_recv(fx, r, b, sizeof(b), 2000) > 16);
	assert_int_equal(get32(b + 4), SMPP_BIND_TRANSCEIVER);
	raw_send(r, b, smpp_build_resp_str(b, sizeof(b),
	    SMPP_BIND_TRANSCEIVER_RESP, 0, get32(b + 12), "SMSC", 0));
	assert_true(loop_until(fx, cli_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_LINK_TIMEOUT);
	(void)cs;
	raw_close(r);
	close(lfd);
}

/* A fake SMSC on a plain socket: listens, accepts the client session's
 * connection, answers its bind, then does only what the test says. */
static struct raw *
fake_smsc(struct fx *fx, int *lfd_out, int sndbuf)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct bufferevent *bev;
	struct raw *r;
	uint8_t b[256];
	int lfd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_lo(&sin, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	bev = bufferevent_socket_new(fx->base, -1, BEV_OPT_CLOSE_ON_FREE);
	fx->cli.s = smpp_session_new(fx->base, bev, SMPP_ROLE_CLIENT,
	    &fx->ccfg, &cli_ops, &fx->cli, "cli");
	assert_non_null(fx->cli.s);
	assert_int_equal(bufferevent_socket_connect(bev,
	    (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (sndbuf > 0)
		setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_SNDBUF,
		    &sndbuf, sizeof(sndbuf));
	cli_bind(fx, SMPP_BIND_TRANSMITTER);
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->fd = accept(lfd, NULL, NULL);	/* loopback: already there */
	assert_true(r->fd >= 0);
	if (sndbuf > 0)
		setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &sndbuf,
		    sizeof(sndbuf));
	assert_true(raw_recv(fx, r, b, sizeof(b), 2000) > 16);
	assert_int_equal(get32(b + 4), SMPP_BIND_TRANSMITTER);
	raw_send(r, b, smpp_build_resp_str(b, sizeof(b),
	    SMPP_BIND_TRANSMITTER_RESP, 0, get32(b + 12), "SMSC", 0));
	*lfd_out = lfd;
	return r;
}

static int
cli_bound_tx(struct fx *fx)
{
	return fx->cli.st == SMPP_ST_BOUND_TX;
}

/* An SMSC that stops reading: sends hit out_limit and return BUSY;
 * writable fires once it reads again. */
static void
test_busy(void **state)
{
	struct fx *fx = *state;
	struct raw *r;
	int lfd, rc = 0, n = 0;
	uint64_t end;

	fx->ccfg.window = 60000;
	fx->ccfg.out_limit = 4096;
	r = fake_smsc(fx, &lfd, 4096);
	assert_true(loop_until(fx, cli_bound_tx, 2000));
	end = mono_ms() + 3000;
	while (n < 60000 && mono_ms() < end) {
		rc = send_submit(fx, &fx->cli, 0);
		if (rc == -SMPP_ERR_BUSY)
			break;
		assert_int_equal(rc, 0);
		if (++n % 64 == 0)
			event_base_loop(fx->base, EVLOOP_NONBLOCK);
	}
	assert_int_equal(rc, -SMPP_ERR_BUSY);
	assert_int_equal(fx->cli.writable, 0);
	{
		struct smpp_session_stats st;

		smpp_session_stats(fx->cli.s, &st);
		assert_true(st.out_queued > 4096);
		assert_true(st.out_queued <= 4096 + 256);
		assert_int_equal(st.outstanding, (uint32_t)n);
	}
	/* the SMSC reads everything it was sent: room comes back */
	end = mono_ms() + 3000;
	while (fx->cli.writable == 0 && mono_ms() < end) {
		uint8_t x[256];

		(void)raw_recv(fx, r, x, sizeof(x), 5);
	}
	assert_int_equal(fx->cli.writable, 1);
	assert_int_equal(send_submit(fx, &fx->cli, 0), 0);
	raw_close(r);
	close(lfd);
	assert_true(loop_until(fx, cli_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_PEER_EOF);
	assert_int_equal(fx->cli.n_abort, n + 1);
}

/*
 * Sends outside a read go to the socket straight away while it takes
 * them, and to the output buffer once it does not: a slow SMSC still
 * gets every PDU once, in the order sent, across both switches (socket
 * to buffer when it fills, back to the socket once the buffer drained).
 */
static void
test_send_order_slow_reader(void **state)
{
	struct fx *fx = *state;
	struct smpp_session_stats st;
	struct raw *r;
	uint8_t x[256];
	uint32_t want = 2, sent = 0;
	int lfd, k;
	uint64_t end;

	fx->ccfg.window = 60000;
	fx->ccfg.out_limit = 4 * 1024 * 1024;
	r = fake_smsc(fx, &lfd, 4096);
	assert_true(loop_until(fx, cli_bound_tx, 2000));
	/* Phase 1: the SMSC reads nothing; what the kernel does not take
	 * waits in the output buffer. */
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(send_submit(fx, &fx->cli, 0), 0);
		sent++;
		if (i % 50 == 0)
			event_base_loop(fx->base, EVLOOP_NONBLOCK);
	}
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	smpp_session_stats(fx->cli.s, &st);
	assert_true(st.out_queued > 0);
	/* Phase 2: it reads half, more is sent meanwhile, then it reads
	 * the rest: every submit once, sequence numbers in order. */
	end = mono_ms() + 8000;
	while (want < 2 + sent && mono_ms() < end) {
		if ((k = raw_recv(fx, r, x, sizeof(x), 50)) <= 0)
			continue;
		assert_int_equal(get32(x + 4), SMPP_SUBMIT_SM);
		assert_int_equal(get32(x + 12), want);
		want++;
		if (want == 1500)
			for (int i = 0; i < 100; i++, sent++)
				assert_int_equal(send_submit(fx, &fx->cli, 0),
				    0);
	}
	assert_int_equal(want, 2 + sent);
	assert_int_equal(sent, 3100);
	/* Drained: a new send goes out at once (the next loop pass). */
	smpp_session_stats(fx->cli.s, &st);
	assert_int_equal(st.out_queued, 0);
	assert_int_equal(send_submit(fx, &fx->cli, 0), 0);
	assert_true(raw_recv(fx, r, x, sizeof(x), 2000) > 0);
	assert_int_equal(get32(x + 12), want);
	raw_close(r);
	close(lfd);
	assert_true(loop_until(fx, cli_closed, 2000));
}

static void
test_inactivity(void **state)
{
	struct fx *fx = *state;

	fx->scfg.inactivity_ms = 150;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSCEIVER);
	assert_true(loop_until(fx, both_closed, 2000));
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_INACTIVITY);
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_PEER_EOF);
}

static void
test_bind_timeout(void **state)
{
	struct fx *fx = *state;
	struct raw *r;

	fx->scfg.bind_timeout_ms = 100;
	listen_on(fx, 0);
	r = raw_open(fx);
	assert_true(loop_until(fx, srv_closed, 2000));
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_BIND_TIMEOUT);
	expect_eof(fx, r);
	raw_close(r);
}

static int
srv_held3(struct fx *fx)
{
	return fx->srv.n_held >= 3;
}

static void
test_unbind_client(void **state)
{
	struct fx *fx = *state;

	fx->srv.hold = 1;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSCEIVER);
	for (int i = 0; i < 3; i++)
		assert_int_equal(send_submit(fx, &fx->cli, i), 0);
	assert_true(loop_until(fx, srv_held3, 2000));
	assert_int_equal(smpp_session_reply(fx->srv.s, fx->srv.held[0],
	    SMPP_ROK, "a"), 0);
	assert_int_equal(smpp_session_unbind(fx->cli.s), 0);
	assert_int_equal(fx->cli.st, SMPP_ST_UNBINDING);
	assert_int_equal(send_submit(fx, &fx->cli, 5), -SMPP_ERR_STATE);
	loop_for(fx, 50);
	/* The unbind waits for the two requests still outstanding. */
	assert_int_equal(fx->srv.closed, 0);
	assert_int_equal(smpp_session_reply(fx->srv.s, fx->srv.held[1],
	    SMPP_ROK, "b"), 0);
	assert_int_equal(smpp_session_reply(fx->srv.s, fx->srv.held[2],
	    SMPP_RSYSERR, NULL), 0);
	assert_true(loop_until(fx, both_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_UNBOUND);
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_UNBOUND);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx->cli.ctx_seen[i], 1);
	assert_int_equal(fx->cli.n_resp, 3);
	assert_int_equal(fx->cli.n_abort, 0);
	assert_int_equal(fx->cli.last_status, SMPP_RSYSERR);
}

static void
test_unbind_server(void **state)
{
	struct fx *fx = *state;

	fx->srv.hold = 1;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSCEIVER);
	for (int i = 0; i < 3; i++)
		assert_int_equal(send_submit(fx, &fx->cli, i), 0);
	assert_true(loop_until(fx, srv_held3, 2000));
	assert_int_equal(smpp_session_reply(fx->srv.s, fx->srv.held[0],
	    SMPP_ROK, "a"), 0);
	/* The server unbinds with two of the client's requests open: the
	 * client answers, closes, and reports both as aborted, once. */
	assert_int_equal(smpp_session_unbind(fx->srv.s), 0);
	assert_true(loop_until(fx, both_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_UNBOUND);
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_UNBOUND);
	assert_int_equal(fx->cli.n_resp, 1);
	assert_int_equal(fx->cli.n_abort, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx->cli.ctx_seen[i], 1);
}

static void
test_close_aborts(void **state)
{
	struct fx *fx = *state;

	fx->srv.hold = 1;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSCEIVER);
	for (int i = 0; i < 5; i++)
		assert_int_equal(send_submit(fx, &fx->cli, i), 0);
	smpp_session_close(fx->cli.s);
	/* closed runs from the loop, not from inside close() */
	assert_int_equal(fx->cli.closed, 0);
	assert_int_equal(send_submit(fx, &fx->cli, 6), -SMPP_ERR_STATE);
	assert_true(loop_until(fx, both_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_LOCAL);
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_PEER_EOF);
	assert_int_equal(fx->cli.n_abort, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(fx->cli.ctx_seen[i], 1);
	/* everything the client wrote before closing reached the server */
	assert_int_equal(fx->srv.n_req, 5);
}

static void
test_wrong_state(void **state)
{
	struct fx *fx = *state;
	struct raw *r;
	uint8_t b[256];
	size_t n;

	listen_on(fx, 0);
	r = raw_open(fx);
	/* submit_sm before bind */
	n = raw_submit(b, 5, "early");
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_SUBMIT_SM_RESP, SMPP_RINVBNDSTS, 5);
	assert_int_equal(fx->srv.n_req, 0);
	/* bind as transmitter */
	n = raw_bind(b, SMPP_BIND_TRANSMITTER, 6);
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_BIND_TRANSMITTER_RESP, SMPP_ROK, 6);
	/* deliver_sm from an ESME bound TX */
	n = raw_submit(b, 7, "wrong way");
	smpp_put32(b + 4, SMPP_DELIVER_SM);
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_DELIVER_SM_RESP, SMPP_RINVBNDSTS, 7);
	/* a second bind */
	n = raw_bind(b, SMPP_BIND_RECEIVER, 8);
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_BIND_RECEIVER_RESP, SMPP_RALYBND, 8);
	/* alert_notification has no response: generic_nack */
	{
		uint8_t a[64];
		size_t o = 16;

		a[o++] = 1; a[o++] = 1; memcpy(a + o, "123", 4); o += 4;
		a[o++] = 1; a[o++] = 1; memcpy(a + o, "456", 4); o += 4;
		smpp_put32(a, (uint32_t)o);
		smpp_put32(a + 4, SMPP_ALERT_NOTIFICATION);
		smpp_put32(a + 8, 0);
		smpp_put32(a + 12, 9);
		raw_send(r, a, o);
		expect_pdu(fx, r, SMPP_GENERIC_NACK, SMPP_RINVBNDSTS, 9);
	}
	/* and the session still serves a correct submit_sm */
	n = raw_submit(b, 10, "fine");
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_SUBMIT_SM_RESP, SMPP_ROK, 10);
	assert_int_equal(fx->srv.n_req, 1);
	assert_int_equal(smpp_session_state(fx->srv.s), SMPP_ST_BOUND_TX);
	/* the server may not send deliver_sm to a TX-bound ESME */
	{
		struct smpp_pdu p;

		smpp_pdu_init(&p, SMPP_DELIVER_SM);
		assert_int_equal(smpp_session_send(fx->srv.s, &p,
		    &fx->ctxs[0]), -SMPP_ERR_STATE);
	}
	raw_close(r);
}

static void
bad_length(struct fx *fx, uint32_t len)
{
	struct raw *r;
	uint8_t b[512];
	size_t n;

	r = raw_bound(fx, SMPP_BIND_TRANSCEIVER);
	/* an accepted submit_sm right before the bad frame, in one write */
	n = raw_submit(b, 2, "before");
	smpp_build_header(b + n, 16, SMPP_SUBMIT_SM, 0, 3);
	smpp_put32(b + n, len);
	raw_send(r, b, n + 16);
	expect_pdu(fx, r, SMPP_SUBMIT_SM_RESP, SMPP_ROK, 2);
	expect_pdu(fx, r, SMPP_GENERIC_NACK, SMPP_RINVCMDLEN, 3);
	expect_eof(fx, r);
	assert_true(loop_until(fx, srv_closed, 2000));
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_BAD_FRAME);
	assert_int_equal(fx->srv.n_req, 1);
	raw_close(r);
}

static void
test_bad_length_short(void **state)
{
	struct fx *fx = *state;

	listen_on(fx, 0);
	bad_length(fx, 8);
}

static void
test_bad_length_huge(void **state)
{
	struct fx *fx = *state;

	listen_on(fx, 0);
	bad_length(fx, 1u << 30);
}

static void
test_unknown_command(void **state)
{
	struct fx *fx = *state;
	struct raw *r;
	uint8_t b[256];
	size_t n;

	listen_on(fx, 0);
	r = raw_bound(fx, SMPP_BIND_TRANSCEIVER);
	n = raw_submit(b, 2, "one");
	raw_send(r, b, n);
	smpp_build_header(b, 16, 0x00000777u, 0, 3);
	raw_send(r, b, 16);
	n = raw_submit(b, 4, "two");
	raw_send(r, b, n);
	/* a response nobody asked for (unknown id with the resp bit) */
	smpp_build_header(b, 16, 0x80000777u, 0, 5);
	raw_send(r, b, 16);
	/* a malformed submit_sm: unterminated source_addr */
	n = raw_submit(b, 6, "x");
	memset(b + 19, 'A', 30);
	raw_send(r, b, n);
	n = raw_submit(b, 7, "three");
	raw_send(r, b, n);
	expect_pdu(fx, r, SMPP_SUBMIT_SM_RESP, SMPP_ROK, 2);
	expect_pdu(fx, r, SMPP_GENERIC_NACK, SMPP_RINVCMDID, 3);
	expect_pdu(fx, r, SMPP_SUBMIT_SM_RESP, SMPP_ROK, 4);
	expect_pdu(fx, r, SMPP_GENERIC_NACK, SMPP_RINVCMDID, 5);
	{
		uint8_t x[256];
		int k = raw_recv(fx, r, x, sizeof(x), 2000);

		assert_true(k >= 16);
		assert_int_equal(get32(x + 4), SMPP_SUBMIT_SM_RESP);
		assert_int_equal(get32(x + 12), 6);
		assert_true(get32(x + 8) != SMPP_ROK);
	}
	expect_pdu(fx, r, SMPP_SUBMIT_SM_RESP, SMPP_ROK, 7);
	assert_int_equal(fx->srv.n_req, 3);
	assert_int_equal(fx->srv.closed, 0);
	assert_true(smpp_session_state(fx->srv.s) == SMPP_ST_BOUND_TRX);
	raw_close(r);
}

static int
cli_resp3(struct fx *fx)
{
	return fx->cli.n_resp >= 1 && fx->srv.n_held >= 2;
}

static void
test_in_window(void **state)
{
	struct fx *fx = *state;

	fx->scfg.in_window = 2;
	fx->srv.hold = 1;
	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSMITTER);
	for (int i = 0; i < 3; i++)
		assert_int_equal(send_submit(fx, &fx->cli, i), 0);
	assert_true(loop_until(fx, cli_resp3, 2000));
	assert_int_equal(fx->cli.ctx_seen[2], 1);
	assert_int_equal(fx->cli.last_status, SMPP_RMSGQFUL);
	assert_int_equal(fx->srv.n_req, 2);
	/* once the owner answers, the window opens again */
	assert_int_equal(smpp_session_reply(fx->srv.s, fx->srv.held[0],
	    SMPP_ROK, "a"), 0);
	fx->srv.hold = 0;
	assert_int_equal(send_submit(fx, &fx->cli, 3), 0);
	assert_true(wait_ge(fx, &fx->cli.ctx_seen[3], 1, 2000));
	assert_int_equal(fx->cli.last_status, SMPP_ROK);
	assert_int_equal(fx->cli.ctx_seen[0], 1);
}

static void
tls_setup(struct fx *fx)
{
	char err[256];

	assert_int_equal(testcert_make(&fx->tc, "localhost"), 0);
	fx->stls = smpp_tls_server_ctx(fx->tc.chain, fx->tc.key, err,
	    sizeof(err));
	assert_non_null(fx->stls);
	fx->ctls = smpp_tls_client_ctx(fx->tc.ca, NULL, NULL, err, sizeof(err));
	assert_non_null(fx->ctls);
	assert_null(smpp_tls_server_ctx("/nonexistent", fx->tc.key, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent"));
}

static void
test_tls(void **state)
{
	struct fx *fx = *state;

	tls_setup(fx);
	listen_on(fx, 1);
	cli_connect(fx, 1, "localhost");
	cli_bind(fx, SMPP_BIND_TRANSCEIVER);
	assert_true(loop_until(fx, both_bound, 3000));
	for (int i = 0; i < 20; i++)
		assert_int_equal(send_submit(fx, &fx->cli, i), 0);
	assert_true(wait_ge(fx, &fx->cli.n_resp, 20, 3000));
	for (int i = 0; i < 20; i++)
		assert_int_equal(fx->cli.ctx_seen[i], 1);
	/* orderly unbind with close_notify: the server sees a clean end */
	assert_int_equal(smpp_session_unbind(fx->cli.s), 0);
	assert_true(loop_until(fx, both_closed, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_UNBOUND);
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_UNBOUND);
}

static void
test_tls_ip(void **state)
{
	struct fx *fx = *state;

	tls_setup(fx);
	listen_on(fx, 1);
	cli_connect(fx, 1, "127.0.0.1");
	cli_bind(fx, SMPP_BIND_TRANSMITTER);
	assert_true(loop_until(fx, both_bound, 3000));
}

static void
test_tls_wrong_host(void **state)
{
	struct fx *fx = *state;

	tls_setup(fx);
	listen_on(fx, 1);
	cli_connect(fx, 1, "wrong.example");
	cli_bind(fx, SMPP_BIND_TRANSCEIVER);
	assert_true(loop_until(fx, both_closed, 3000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_TLS_ERROR);
	assert_int_equal(fx->srv.n_bind, 0);
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_TLS_ERROR);
}

/* A peer that floods submit_sm and reads nothing. */
static void
test_never_reads(void **state)
{
	struct fx *fx = *state;
	struct raw *r;
	uint8_t pdu[128], buf[8192];
	size_t n, pos = 0, bsz, tot = 0;
	uint32_t sent, got = 0, next = 2;
	uint64_t end;

	fx->scfg.out_limit = 32 * 1024;
	fx->scfg.in_window = 1000000;
	fx->small_sndbuf = 1;
	listen_on(fx, 0);
	r = raw_bound(fx, SMPP_BIND_TRANSMITTER);
	n = raw_submit(pdu, 1, "flood");
	bsz = (sizeof(buf) / n) * n;
	for (size_t o = 0; o < bsz; o += n)
		memcpy(buf + o, pdu, n);
	/* Phase 1: write until the kernel refuses for a while, never read.
	 * Chunks hold whole PDUs with consecutive sequence numbers. */
	end = mono_ms() + 1500;
	while (mono_ms() < end && tot < 20u * 1024 * 1024) {
		ssize_t k;

		if (pos == 0)
			for (size_t o = 0; o < bsz; o += n)
				smpp_put32(buf + o + 12, next++);
		k = send(r->fd, buf + pos, bsz - pos,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k > 0) {
			pos = (pos + (size_t)k) % bsz;
			tot += (size_t)k;
		}
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		if (fx->srv.s != NULL)
			track_out(&fx->srv, fx->srv.s);
		if (k < 0)
			usleep(300);
	}
	assert_true(fx->srv.saw_paused);
	assert_true(fx->srv.max_out <= fx->scfg.out_limit + SMPP_BUILD_MAX);
	assert_true(fx->srv.n_req > 0);
	assert_true((size_t)fx->srv.n_req < tot / n);
	/* Phase 2: read everything (finishing a partial PDU on the way);
	 * every submit written is answered, in order. */
	end = mono_ms() + 8000;
	while (mono_ms() < end) {
		uint8_t x[256];
		int k;

		if (tot % n != 0) {
			ssize_t w = send(r->fd, buf + pos, n - tot % n,
			    MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w > 0) {
				pos += (size_t)w;
				tot += (size_t)w;
			}
		} else if (got >= tot / n) {
			break;
		}
		k = raw_recv(fx, r, x, sizeof(x), 50);
		if (k == 0)
			break;
		if (k < 0)
			continue;
		assert_int_equal(get32(x + 4), SMPP_SUBMIT_SM_RESP);
		assert_int_equal(get32(x + 12), got + 2);
		got++;
	}
	assert_int_equal(tot % n, 0);
	sent = (uint32_t)(tot / n);
	if (got != sent && fx->srv.s != NULL) {
		struct smpp_session_stats st;

		smpp_session_stats(fx->srv.s, &st);
		fprintf(stderr, "never_reads: sent=%u got=%u n_req=%d rx=%llu "
		    "tx=%llu out=%zu in=%zu paused=%d\n", sent, got,
		    fx->srv.n_req, (unsigned long long)st.rx_pdus,
		    (unsigned long long)st.tx_pdus, st.out_queued, st.in_queued,
		    st.read_paused);
	}
	assert_int_equal(got, sent);
	assert_int_equal((uint32_t)fx->srv.n_req, sent);
	assert_true(fx->srv.max_out <= fx->scfg.out_limit + SMPP_BUILD_MAX);
	raw_close(r);
}

static void
test_bad_args(void **state)
{
	struct fx *fx = *state;
	struct smpp_req_ref ref = { SMPP_ALERT_NOTIFICATION, 1 };

	listen_on(fx, 0);
	connect_and_bind(fx, SMPP_BIND_TRANSCEIVER);
	assert_int_equal(smpp_session_reply(fx->srv.s, ref, 0, NULL),
	    -SMPP_ERR_ARG);
	ref.command_id = SMPP_SUBMIT_SM;
	assert_int_equal(smpp_session_reply(fx->srv.s, ref, 0,
	    "0123456789012345678901234567890123456789012345678901234567890"
	    "123456789"), -SMPP_ERR_ARG);
	assert_int_equal(smpp_session_bind(fx->cli.s, SMPP_BIND_TRANSCEIVER,
	    "a", "b", "", 0, 0, ""), -SMPP_ERR_STATE);
	assert_int_equal(smpp_session_bind_reply(fx->srv.s, 0, "x"),
	    -SMPP_ERR_STATE);
	assert_string_equal(smpp_state_name(SMPP_ST_UNBOUND), "unbound");
	assert_string_equal(smpp_close_reason_name(SMPP_CLOSE_BAD_FRAME),
	    "bad_frame");
}

/* ---- connector ---- */

static int
conn_bound(struct fx *fx)
{
	return fx->srv.st == SMPP_ST_BOUND_TRX &&
	    fx->cli.st == SMPP_ST_BOUND_TRX;
}

static int
conn_rebound(struct fx *fx)
{
	return fx->srv_sessions >= 2 && fx->srv.st == SMPP_ST_BOUND_TRX &&
	    fx->cli.st == SMPP_ST_BOUND_TRX;
}

static int
cli_done(struct fx *fx)
{
	return fx->cli.closed && fx->srv.closed;
}

static void
test_connector(void **state)
{
	struct fx *fx = *state;
	struct smpp_connector_config cc;
	struct smpp_connector *c;

	listen_on(fx, 0);
	smpp_connector_config_defaults(&cc);
	cc.name = "conn";
	cc.port = fx->port;
	cc.system_id = "esme";
	cc.password = "secret";
	cc.backoff_min_ms = 20;
	cc.backoff_max_ms = 60;
	cc.session.enquire_link_ms = 0;
	c = smpp_connector_new(fx->base, &cc, &cli_ops, &fx->cli);
	assert_non_null(c);
	assert_true(loop_until(fx, conn_bound, 2000));
	assert_non_null(smpp_connector_session(c));
	/* The server drops the link: the connector reconnects and binds. */
	fx->cli.st = SMPP_ST_CLOSED;
	smpp_session_close(fx->srv.s);
	assert_true(loop_until(fx, conn_rebound, 3000));
	assert_true(smpp_connector_attempts(c) >= 2);
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_PEER_EOF);
	/* Free unbinds cleanly and stops. */
	fx->cli.closed = 0;
	smpp_connector_free(c);
	assert_true(loop_until(fx, cli_done, 2000));
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_UNBOUND);
	assert_int_equal(fx->srv.reason, SMPP_CLOSE_UNBOUND);
	loop_for(fx, 150);
	assert_int_equal(fx->srv_sessions, 2);	/* no reconnect after free */
	fx->cli.s = NULL;
}

static void
test_connector_refused(void **state)
{
	struct fx *fx = *state;
	struct smpp_connector_config cc;
	struct smpp_connector *c;
	int fd, one = 1;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	/* a port with nobody listening */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_lo(&sin, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	smpp_connector_config_defaults(&cc);
	cc.port = ntohs(sin.sin_port);
	cc.system_id = "esme";
	cc.backoff_min_ms = 10;
	cc.backoff_max_ms = 40;
	c = smpp_connector_new(fx->base, &cc, &cli_ops, &fx->cli);
	assert_non_null(c);
	loop_for(fx, 300);
	assert_true(smpp_connector_attempts(c) >= 3);
	assert_true(fx->cli.closed >= 2);
	assert_int_equal(fx->cli.reason, SMPP_CLOSE_IO_ERROR);
	smpp_connector_free(c);
	loop_for(fx, 50);
	fx->cli.s = NULL;
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_enquire_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bind_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_trx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bind_status_seen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_submit_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_window_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_response_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enquire_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enquire_link_unanswered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_order_slow_reader,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_inactivity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bind_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unbind_client, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unbind_server, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_aborts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_length_short, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_length_huge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_in_window, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_wrong_host, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_never_reads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_connector, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_connector_refused, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	smpp_log_init("test_session", SMPP_LOG_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
