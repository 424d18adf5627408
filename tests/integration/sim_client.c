/*
 * sim_client: a tiny ESME for the smsc-sim integration tests, for what
 * smpp-bench does not do: stay bound and print the MO deliver_sm it gets
 * (joined when multipart), and probe enquire_link.
 *
 * usage: sim_client PORT SYSTEM_ID PASSWORD [--bind trx|rx|tx]
 *          [--mo N] [--enquire] [--enquire-after MS] [--secs S]
 * Prints "bound", "mo from=F to=T parts=N text=TEXT" per complete MO,
 * "enquire_link answered" or "enquire_link silent"; exit 0 when all that
 * was asked for happened within S seconds (default 5), else 1.
 * --enquire-after sends the enquire_link MS after the bind (so a test can
 * switch a fault on while this session is live).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/concat.h"
#include "smpp/log.h"
#include "smpp/pdu.h"
#include "smpp/session.h"
#include "smpp/text.h"

struct cl {
	struct event_base	*base;
	struct smpp_session	*s;
	int			 want_mo, got_mo, enquire, enq_done;
	int			 enquire_after_ms;
	int			 bound, failed;
	char			 parts[256][1024];
	int			 have[256], total;
};

static void
done_check(struct cl *c)
{
	if (c->got_mo >= c->want_mo && (!c->enquire || c->enq_done))
		event_base_loopexit(c->base, NULL);
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct cl *c = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	char txt[1024];
	int n, seq = 1, total = 1;

	smpp_session_reply(s, ref, 0, NULL);
	if (req->hdr.id != SMPP_DELIVER_SM || (req->esm_class & 0x3c) != 0)
		return;
	n = smpp_text_decode_sm(req->data_coding, req->esm_class,
	    req->short_message.p, req->short_message.len, NULL, txt,
	    sizeof(txt) - 1, NULL);
	if (n < 0)
		n = 0;
	txt[n] = '\0';
	if (req->esm_class & SMPP_ESM_UDHI) {
		struct smpp_udh u;

		if (smpp_udh_parse(req->short_message.p, req->short_message.len,
		    &u, NULL) == 0 && u.concat) {
			seq = u.ci.seq;
			total = u.ci.total;
		}
	} else {
		const struct smpp_tlv_view *t =
		    smpp_scan_tlv(req, SMPP_TLV_SAR_TOTAL_SEGMENTS);
		const struct smpp_tlv_view *q =
		    smpp_scan_tlv(req, SMPP_TLV_SAR_SEGMENT_SEQNUM);

		if (t && q) {
			total = t->val[0];
			seq = q->val[0];
		}
	}
	if (seq < 1 || seq > total)
		return;
	snprintf(c->parts[seq], sizeof(c->parts[seq]), "%s", txt);
	c->have[seq] = 1;
	c->total = total;
	for (int i = 1; i <= total; i++)
		if (!c->have[i])
			return;
	printf("mo from=%.*s to=%.*s parts=%d text=", (int)req->src.addr.len,
	    (const char *)req->src.addr.p, (int)req->dst.addr.len,
	    (const char *)req->dst.addr.p, total);
	for (int i = 1; i <= total; i++) {
		printf("%s", c->parts[i]);
		c->have[i] = 0;
	}
	printf("\n");
	fflush(stdout);
	c->got_mo++;
	done_check(c);
}

static void
on_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct cl *c = arg;

	(void)s;
	(void)resp;
	if (ctx == NULL)
		return;
	printf("enquire_link %s\n", out == SMPP_OUT_RESP ? "answered" :
	    "silent");
	fflush(stdout);
	c->enq_done = 1;
	done_check(c);
}

static void
send_enquire(evutil_socket_t fd, short what, void *arg)
{
	struct cl *c = arg;
	struct smpp_pdu p;

	(void)fd;
	(void)what;
	if (c->s == NULL)
		return;
	smpp_pdu_init(&p, SMPP_ENQUIRE_LINK);
	smpp_session_send(c->s, &p, c);
}

static void
on_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct cl *c = arg;

	(void)s;
	(void)from;
	if (to == SMPP_ST_BOUND_TRX || to == SMPP_ST_BOUND_RX ||
	    to == SMPP_ST_BOUND_TX) {
		c->bound = 1;
		printf("bound\n");
		fflush(stdout);
		if (c->enquire) {
			struct timeval tv = { c->enquire_after_ms / 1000,
			    (c->enquire_after_ms % 1000) * 1000 };

			event_base_once(c->base, -1, EV_TIMEOUT, send_enquire,
			    c, &tv);
		}
		done_check(c);
	}
}

static void
on_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct cl *c = arg;

	printf("closed %s bind_status=0x%x\n", smpp_close_reason_name(why),
	    smpp_session_bind_status(s));
	c->s = NULL;
	event_base_loopexit(c->base, NULL);
}

static const struct smpp_session_ops ops = {
	.request = on_request, .response = on_response, .state = on_state,
	.closed = on_closed,
};

int
main(int argc, char **argv)
{
	struct cl c;
	struct smpp_session_config cfg;
	struct sockaddr_in sin;
	struct bufferevent *bev;
	uint32_t bind = SMPP_BIND_TRANSCEIVER;
	int secs = 5, ok;

	if (argc < 4) {
		fprintf(stderr, "usage: sim_client PORT SYSTEM_ID PASSWORD "
		    "[--bind trx|rx|tx] [--mo N] [--enquire] [--enquire-after MS] "
		    "[--secs S]\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--mo") == 0 && i + 1 < argc)
			c.want_mo = atoi(argv[++i]);
		else if (strcmp(argv[i], "--enquire") == 0)
			c.enquire = 1;
		else if (strcmp(argv[i], "--enquire-after") == 0 &&
		    i + 1 < argc) {
			c.enquire = 1;
			c.enquire_after_ms = atoi(argv[++i]);
			if (c.enquire_after_ms < 0 ||
			    c.enquire_after_ms > 60000)
				c.enquire_after_ms = 0;
		} else if (strcmp(argv[i], "--secs") == 0 && i + 1 < argc)
			secs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) {
			i++;
			bind = strcmp(argv[i], "rx") == 0 ? SMPP_BIND_RECEIVER :
			    strcmp(argv[i], "tx") == 0 ? SMPP_BIND_TRANSMITTER :
			    SMPP_BIND_TRANSCEIVER;
		}
	}
	smpp_log_init("sim_client", SMPP_LOG_WARN, 0);
	c.base = event_base_new();
	smpp_session_config_defaults(&cfg);
	cfg.enquire_link_ms = 0;
	cfg.response_timeout_ms = 1500;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(0x7f000001);
	bev = bufferevent_socket_new(c.base, -1, BEV_OPT_CLOSE_ON_FREE);
	c.s = smpp_session_new(c.base, bev, SMPP_ROLE_CLIENT, &cfg, &ops, &c,
	    "client");
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0 || smpp_session_bind(c.s, bind, argv[2],
	    argv[3], "", 0, 0, "") != 0) {
		printf("connect failed\n");
		return 1;
	}
	event_base_loopexit(c.base, &(struct timeval){ secs, 0 });
	event_base_dispatch(c.base);
	ok = c.bound && c.got_mo >= c.want_mo && (!c.enquire || c.enq_done);
	if (c.s != NULL) {
		smpp_session_close(c.s);
		event_base_loop(c.base, 0);
	}
	event_base_free(c.base);
	return ok ? 0 : 1;
}
