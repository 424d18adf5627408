/*
 * libFuzzer target for the session layer: the input is the byte stream a
 * peer sends, fed into one session over a bufferevent_pair (the peer end
 * just drains what the session answers). The first byte picks the mode:
 *   bit 0: 0 = server session (the input binds to us), 1 = client session
 *          (we bind out first, seq 1, and send three submit_sm, seqs 2..4,
 *          once bound, so responses in the input can match them);
 *   bit 1: feed the stream in two halves (partial PDUs across reads).
 * The owner binds ROK and runs the full decode (smpp_pdu_decode) on every
 * request before answering it. Everything is freed on every run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/build.h"
#include "smpp/log.h"
#include "smpp/pdu.h"
#include "smpp/proto.h"
#include "smpp/session.h"

struct owner {
	struct smpp_limits	lim;
	int			closed;
	int			sent;
	int			outstanding;
	size_t			sink;
};

static void
o_bind(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	(void)req;
	(void)arg;
	smpp_session_bind_reply(s, SMPP_ROK, "FUZZ");
}

static void
o_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct owner *o = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	struct smpp_pdu pdu;
	uint32_t status = SMPP_ROK;

	if (smpp_pdu_decode(req->raw, req->hdr.len, &o->lim, &pdu, &status)
	    == 0) {
		char desc[256];

		smpp_pdu_describe(&pdu, desc, sizeof(desc));
		smpp_pdu_clear(&pdu);
	}
	smpp_session_reply(s, ref, status, status == SMPP_ROK ? "id1" : NULL);
}

static void
o_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct owner *o = arg;

	(void)s;
	(void)ctx;
	/* Read what an owner would read from a response. */
	if (out == SMPP_OUT_RESP)
		for (uint16_t i = 0; i < resp->message_id.len; i++)
			o->sink += resp->message_id.p[i];
	o->outstanding--;
}

static void
o_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct owner *o = arg;
	uint8_t b[64];
	size_t n;

	(void)from;
	if (smpp_session_role(s) != SMPP_ROLE_CLIENT || o->sent ||
	    (to != SMPP_ST_BOUND_TX && to != SMPP_ST_BOUND_TRX))
		return;
	o->sent = 1;
	/* a minimal valid submit_sm */
	memset(b, 0, sizeof(b));
	n = 16 + 1 + 2 + 2 + 2 + 3 + 2 + 4 + 1 + 2;
	b[16 + 1 + 2] = 0;
	smpp_put32(b, (uint32_t)n);
	smpp_put32(b + 4, SMPP_SUBMIT_SM);
	b[n - 3] = 2;
	b[n - 2] = 'h';
	b[n - 1] = 'i';
	for (int i = 0; i < 3; i++)
		if (smpp_session_send_raw(s, b, n, o) == 0)
			o->outstanding++;
}

static void
o_closed(struct smpp_session *s, enum smpp_close_reason r, void *arg)
{
	struct owner *o = arg;

	(void)s;
	(void)r;
	o->closed = 1;
}

static void
peer_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct smpp_session_ops ops = {
		.bind = o_bind,
		.request = o_request,
		.response = o_response,
		.state = o_state,
		.closed = o_closed,
	};
	struct smpp_session_config cfg;
	struct event_base *base;
	struct bufferevent *pair[2];
	struct smpp_session *s;
	struct owner o;
	uint8_t mode;
	size_t half;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	smpp_log_init("fuzz_session", SMPP_LOG_ERR, 0);
	memset(&o, 0, sizeof(o));
	smpp_limits_default(&o.lim);
	smpp_session_config_defaults(&cfg);
	cfg.window = 8;
	cfg.in_window = 16;
	cfg.limits.max_pdu = 4096;

	if ((base = event_base_new()) == NULL)
		return 0;
	if (bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE, pair) != 0) {
		event_base_free(base);
		return 0;
	}
	bufferevent_setcb(pair[1], peer_read, NULL, NULL, NULL);
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
	s = smpp_session_new(base, pair[0], (mode & 1) ? SMPP_ROLE_CLIENT :
	    SMPP_ROLE_SERVER, &cfg, &ops, &o, "fuzz");
	if (s == NULL) {
		bufferevent_free(pair[1]);
		event_base_free(base);
		return 0;
	}
	if (mode & 1)
		smpp_session_bind(s, SMPP_BIND_TRANSCEIVER, "esme", "pw", "",
		    0, 0, "");
	half = (mode & 2) ? size / 2 : size;
	bufferevent_write(pair[1], data, half);
	for (int i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (!o.closed && half < size) {
		bufferevent_write(pair[1], data + half, size - half);
		for (int i = 0; i < 4; i++)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	if (!o.closed)
		smpp_session_close(s);
	for (int i = 0; i < 100 && !o.closed; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (!o.closed) {
		fprintf(stderr, "fuzz_session: session did not close\n");
		__builtin_trap();
	}
	if (o.outstanding != 0 && o.sent) {
		/* every request reported exactly once */
		fprintf(stderr, "fuzz_session: outstanding=%d\n", o.outstanding);
		__builtin_trap();
	}
	bufferevent_free(pair[1]);
	event_base_free(base);
	return 0;
}
