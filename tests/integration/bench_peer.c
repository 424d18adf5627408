/*
 * bench-peer: a tiny scripted SMSC for smpp-bench's fault tests. It binds
 * anyone, answers submit_sm with sequential ids and sends a DELIVRD
 * receipt when registered_delivery asks; switches make it misbehave in
 * exactly one way each, so a test knows what smpp-bench must report:
 *   --silent          never answer submit_sm
 *   --drop-after N    close the connection after N submit_sm
 *   --throttle-every K  answer every K-th submit_sm with ESME_RTHROTTLED
 *   --refuse-bind     answer binds with ESME_RBINDFAIL
 *   --dec-receipts    ids in hex in the response, decimal in the receipt
 *                     text (and no receipted_message_id TLV)
 *   --sibling-receipts  send each receipt on another bound session than
 *                     the submit's (when there is one): a link of several
 *                     sessions gets receipts on a sibling; the counts are
 *                     printed at exit
 * It listens on 127.0.0.1 only and exits by itself after --max-seconds.
 * smsc-sim is the real simulator; this exists so that the tests of the
 * bench's own fault handling do not depend on the simulator's switches.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/build.h"
#include "smpp/listener.h"
#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/session.h"

struct peer {
	struct event_base	*base;
	struct smpp_session_config cfg;
	int			 silent, refuse, dec_receipts, sibling;
	struct smpp_session	*sess[16];		/* --sibling-receipts */
	unsigned long		 receipts, on_sibling;
	unsigned long		 drop_after, throttle_every;
	unsigned long		 submits;
	unsigned long		 next_id;
};

static void
put_cstr(uint8_t *b, size_t *off, const char *s, size_t n)
{
	memcpy(b + *off, s, n);
	*off += n;
	b[(*off)++] = 0;
}

/* A receipt as raw bytes: deliver_sm, esm_class 0x04, the appendix B
 * text and (unless dec_receipts) receipted_message_id + message_state. */
static void
send_receipt(struct peer *p, struct smpp_session *s,
    const struct smpp_scan *req, unsigned long id)
{
	uint8_t b[512];
	char text[200], ids[32];
	size_t off = SMPP_HEADER_LEN;
	int tl;

	if (p->dec_receipts)
		snprintf(ids, sizeof(ids), "%lu", id);
	else
		snprintf(ids, sizeof(ids), "%lx", id);
	tl = snprintf(text, sizeof(text), "id:%s sub:001 dlvrd:001 submit "
	    "date:2601010000 done date:2601010000 stat:DELIVRD err:000 "
	    "text:bench", ids);
	smpp_build_header(b, sizeof(b), SMPP_DELIVER_SM, 0, 1);
	put_cstr(b, &off, "", 0);			/* service_type */
	b[off++] = req->dst.ton;
	b[off++] = req->dst.npi;
	put_cstr(b, &off, (const char *)req->dst.addr.p, req->dst.addr.len);
	b[off++] = req->src.ton;
	b[off++] = req->src.npi;
	put_cstr(b, &off, (const char *)req->src.addr.p, req->src.addr.len);
	b[off++] = SMPP_ESM_DLR;
	b[off++] = 0;					/* protocol_id */
	b[off++] = 0;					/* priority */
	b[off++] = 0;					/* schedule */
	b[off++] = 0;					/* validity */
	b[off++] = 0;					/* registered_delivery */
	b[off++] = 0;					/* replace */
	b[off++] = 0;					/* data_coding */
	b[off++] = 0;					/* sm_default_msg_id */
	b[off++] = (uint8_t)tl;
	memcpy(b + off, text, (size_t)tl);
	off += (size_t)tl;
	if (!p->dec_receipts) {
		size_t n = strlen(ids) + 1;

		smpp_put16(b + off, SMPP_TLV_RECEIPTED_MESSAGE_ID);
		smpp_put16(b + off + 2, (uint16_t)n);
		memcpy(b + off + 4, ids, n);
		off += 4 + n;
		smpp_put16(b + off, SMPP_TLV_MESSAGE_STATE);
		smpp_put16(b + off + 2, 1);
		b[off + 4] = 2;				/* DELIVERED */
		off += 5;
	}
	smpp_put32(b, (uint32_t)off);
	if (p->sibling)
		for (size_t i = 0; i < sizeof(p->sess) / sizeof(p->sess[0]);
		    i++)
			if (p->sess[i] != NULL && p->sess[i] != s &&
			    smpp_session_can_send(p->sess[i], SMPP_DELIVER_SM)) {
				s = p->sess[i];
				p->on_sibling++;
				break;
			}
	p->receipts++;
	(void)smpp_session_send_raw(s, b, off, NULL);
}

static void
on_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct peer *p = arg;

	(void)why;
	for (size_t i = 0; i < sizeof(p->sess) / sizeof(p->sess[0]); i++)
		if (p->sess[i] == s)
			p->sess[i] = NULL;
}

static void
on_bind(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct peer *p = arg;

	(void)req;
	(void)smpp_session_bind_reply(s, p->refuse ? SMPP_RBINDFAIL : SMPP_ROK,
	    "bench-peer");
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct peer *p = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	char id[32];
	unsigned long n;

	if (req->hdr.id != SMPP_SUBMIT_SM) {
		if (req->hdr.id != SMPP_ALERT_NOTIFICATION &&
		    req->hdr.id != SMPP_OUTBIND)
			(void)smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		return;
	}
	n = ++p->submits;
	if (p->drop_after != 0 && n > p->drop_after) {
		smpp_session_close(s);
		return;
	}
	if (p->silent)
		return;
	if (p->throttle_every != 0 && n % p->throttle_every == 0) {
		(void)smpp_session_reply(s, ref, SMPP_RTHROTTLED, NULL);
		return;
	}
	n = ++p->next_id;
	snprintf(id, sizeof(id), "%lx", n);
	(void)smpp_session_reply(s, ref, SMPP_ROK, id);
	if ((req->registered_delivery & 0x03) == 1)
		send_receipt(p, s, req, n);
}

static const struct smpp_session_ops peer_ops = {
	.bind = on_bind,
	.request = on_request,
	.closed = on_closed,
};

static void
on_accept(struct smpp_listener *l, struct bufferevent *bev,
    const char *peer, void *arg)
{
	struct peer *p = arg;

	struct smpp_session *s;

	(void)l;
	(void)peer;
	s = smpp_session_new(p->base, bev, SMPP_ROLE_SERVER, &p->cfg,
	    &peer_ops, p, "peer");
	for (size_t i = 0; s != NULL && i < sizeof(p->sess) /
	    sizeof(p->sess[0]); i++)
		if (p->sess[i] == NULL) {
			p->sess[i] = s;
			break;
		}
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	static struct peer p;
	struct smpp_listener *l;
	struct event *sig;
	struct timeval life = { 120, 0 };
	unsigned long port = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(a, "-p") == 0 && ++i)
			port = strtoul(v, NULL, 10);
		else if (strcmp(a, "--max-seconds") == 0 && ++i)
			life.tv_sec = (time_t)strtoul(v, NULL, 10);
		else if (strcmp(a, "--drop-after") == 0 && ++i)
			p.drop_after = strtoul(v, NULL, 10);
		else if (strcmp(a, "--throttle-every") == 0 && ++i)
			p.throttle_every = strtoul(v, NULL, 10);
		else if (strcmp(a, "--silent") == 0)
			p.silent = 1;
		else if (strcmp(a, "--refuse-bind") == 0)
			p.refuse = 1;
		else if (strcmp(a, "--dec-receipts") == 0)
			p.dec_receipts = 1;
		else if (strcmp(a, "--sibling-receipts") == 0)
			p.sibling = 1;
		else {
			fprintf(stderr, "bench-peer: unknown option %s\n", a);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	smpp_log_init("bench-peer", SMPP_LOG_WARN, 0);
	p.base = event_base_new();
	smpp_session_config_defaults(&p.cfg);
	p.cfg.in_window = 65536;
	p.cfg.window = 4096;
	p.next_id = 0x1000;
	l = smpp_listener_new(p.base, "127.0.0.1", (uint16_t)port, NULL,
	    on_accept, &p, "peer");
	if (l == NULL)
		return 1;
	printf("bench-peer: listening on 127.0.0.1:%u\n",
	    (unsigned)smpp_listener_port(l));
	fflush(stdout);
	sig = evsignal_new(p.base, SIGTERM, on_signal, p.base);
	event_add(sig, NULL);
	event_base_loopexit(p.base, &life);
	event_base_dispatch(p.base);
	printf("bench-peer: receipts=%lu on_sibling=%lu\n", p.receipts,
	    p.on_sibling);
	fflush(stdout);
	smpp_listener_free(l);
	event_free(sig);
	return 0;
}
