/*
 * smpp-demo: the SMPP library layer end to end, in one process and on one
 * loopback connection, narrated in plain words.
 *
 * An SMSC (server role, on an smpp/listener.h listener at 127.0.0.1, a free
 * port by default) and an ESME (client role) both run on smpp/session.h. The
 * ESME binds as transceiver with system_id "demo" and password "demopass"
 * (the SMSC checks both), submits three messages (one carries a TLV) and
 * asks for receipts. The SMSC answers each submit_sm with a message id and
 * then sends a delivery receipt (deliver_sm, esm_class 0x04, the receipt
 * text of SMPP 3.4 appendix B and the receipted_message_id TLV). The ESME
 * answers each receipt and, when it has them all, unbinds.
 *
 * Exit 0 when every message was accepted and receipted and the unbind was
 * orderly; 1 otherwise, or when nothing is done after a 10 s watchdog.
 * gateway/demo.sh runs it; integration tests may too.
 *
 * usage: smpp-demo [-p port] [-P password] [-v]
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/crypto.h>

#include "smpp/build.h"
#include "smpp/listener.h"
#include "smpp/log.h"
#include "smpp/pdu.h"
#include "smpp/proto.h"
#include "smpp/session.h"

#define DEMO_SYSTEM_ID		"demo"
#define DEMO_PASSWORD		"demopass"
#define DEMO_SMSC_ID		"demo-smsc"
#define DEMO_SOURCE		"Sealgate"
#define DEMO_WATCHDOG_S		10
#define DEMO_MAX_RECEIPTS	16
#define DEMO_MSG_REF		7	/* user_message_reference of #2 */
#define ARROW			"\u2192"

/* One message the ESME submits. */
struct demo_msg {
	int		 n;		/* 1-based, for the narration */
	const char	*dest;
	const char	*text;
	int		 with_tlv;	/* adds user_message_reference */
	char		 id[SMPP_MESSAGE_ID_MAX];	/* from submit_sm_resp */
	int		 receipted;
};

/* A receipt the SMSC sent; its address is the ctx of the deliver_sm. */
struct demo_receipt {
	char		 id[SMPP_MESSAGE_ID_MAX];
};

struct demo {
	struct event_base	*base;
	struct smpp_session_config cfg;
	struct event		*watchdog;

	/* SMSC side */
	struct smpp_listener	*lis;
	struct smpp_session	*smsc;
	int			 smsc_seen;	/* a connection was accepted */
	uint32_t		 id_base;
	uint32_t		 ids_given;
	struct demo_receipt	 receipts[DEMO_MAX_RECEIPTS];
	int			 n_receipts;

	/* ESME side */
	struct smpp_session	*esme;
	const char		*password;
	struct demo_msg		 msgs[3];
	int			 n_resps;	/* submits answered (any way) */
	int			 n_ok;		/* submits accepted */
	int			 n_dlr;		/* receipts matched */
	int			 unbind_sent;
	int			 esme_unbound;	/* closed by an orderly unbind */
	int			 failed;
};

#define N_MSGS	((int)(sizeof(((struct demo *)0)->msgs) / \
		    sizeof(((struct demo *)0)->msgs[0])))

static void	check_done(struct demo *);

/* Copies an SMPP string view into a C string of cap bytes. */
static void
str_copy(char *dst, size_t cap, const struct smpp_str *s)
{
	snprintf(dst, cap, "%.*s", (int)s->len, (const char *)s->p);
}

/* 1 if the view equals want; constant time over the bytes compared. */
static int
str_eq(const struct smpp_str *s, const char *want)
{
	size_t n = strlen(want);

	return s->len == n && CRYPTO_memcmp(s->p, want, n) == 0;
}

static void
set_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

/* YYMMDDhhmm, the receipt's date format (SMPP 3.4 appendix B). */
static void
receipt_date(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	/* Each field reduced mod 100 so the compiler sees two digits. */
	snprintf(buf, cap, "%02u%02u%02u%02u%02u",
	    (unsigned)tm.tm_year % 100u, (unsigned)(tm.tm_mon + 1) % 100u,
	    (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
	    (unsigned)tm.tm_min % 100u);
}

/* ---- SMSC side ---------------------------------------------------- */

static void
smsc_bind(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct demo *d = arg;
	char who[64];
	uint32_t status = SMPP_ROK;
	const char *why = "accepted";

	(void)d;
	smpp_log_escape(req->system_id.p, req->system_id.len, who, sizeof(who));
	if (!str_eq(&req->system_id, DEMO_SYSTEM_ID)) {
		status = SMPP_RINVSYSID;
		why = "refused: unknown system_id";
	} else if (!str_eq(&req->password, DEMO_PASSWORD)) {
		status = SMPP_RINVPASWD;
		why = "refused: wrong password";
	}
	printf("smsc: %s from system_id %s: %s\n",
	    smpp_command_name(req->hdr.id), who, why);
	if (smpp_session_bind_reply(s, status, DEMO_SMSC_ID) != 0)
		printf("smsc: could not answer the bind\n");
}

/* Sends the delivery receipt for the submit_sm req that got message id. */
static void
smsc_send_receipt(struct demo *d, struct smpp_session *s,
    const struct smpp_scan *req, const char *id)
{
	struct smpp_pdu pdu;
	struct demo_receipt *r;
	char date[16], text[SMPP_SHORT_MESSAGE_MAX + 1], orig[21];
	uint8_t state = 2;	/* message_state DELIVERED */
	size_t i, n;
	int len, rc;

	if (d->n_receipts >= DEMO_MAX_RECEIPTS) {
		printf("smsc: no receipt for %s: the demo keeps only %d\n",
		    id, DEMO_MAX_RECEIPTS);
		return;
	}
	r = &d->receipts[d->n_receipts++];
	snprintf(r->id, sizeof(r->id), "%s", id);

	/* The receipt's text: field carries the first 20 characters of the
	 * original message, printable ASCII only. */
	n = req->short_message.len < 20 ? req->short_message.len : 20;
	for (i = 0; i < n; i++) {
		uint8_t c = req->short_message.p[i];
		orig[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	}
	orig[n] = '\0';
	receipt_date(date, sizeof(date));
	len = snprintf(text, sizeof(text), "id:%s sub:001 dlvrd:001 "
	    "submit date:%s done date:%s stat:DELIVRD err:000 text:%s",
	    id, date, date, orig);
	if (len < 0 || (size_t)len >= sizeof(text) - 1)
		len = (int)sizeof(text) - 2;

	smpp_pdu_init(&pdu, SMPP_DELIVER_SM);
	/* A receipt flows back: from the handset to the sender. */
	pdu.source_addr_ton = req->dst.ton;
	pdu.source_addr_npi = req->dst.npi;
	str_copy(pdu.source_addr, sizeof(pdu.source_addr), &req->dst.addr);
	pdu.dest_addr_ton = req->src.ton;
	pdu.dest_addr_npi = req->src.npi;
	str_copy(pdu.destination_addr, sizeof(pdu.destination_addr),
	    &req->src.addr);
	pdu.esm_class = SMPP_ESM_DLR;
	pdu.sm_length = (uint8_t)len;
	memcpy(pdu.short_message, text, (size_t)len);
	if (smpp_pdu_add_tlv(&pdu, SMPP_TLV_RECEIPTED_MESSAGE_ID, id,
	    (uint16_t)(strlen(id) + 1)) != 0 ||
	    smpp_pdu_add_tlv(&pdu, SMPP_TLV_MESSAGE_STATE, &state, 1) != 0) {
		printf("smsc: could not build the receipt for %s\n", id);
		smpp_pdu_clear(&pdu);
		return;
	}
	rc = smpp_session_send(s, &pdu, r);
	smpp_pdu_clear(&pdu);
	if (rc != 0) {
		printf("smsc: could not send the receipt for %s (error %d)\n",
		    id, rc);
		return;
	}
	printf("smsc: sent delivery receipt \"%.*s\"\n", len, text);
}

static void
smsc_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct demo *d = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	char id[SMPP_MESSAGE_ID_MAX], dest[64], tlvs[64] = "";

	if (req->hdr.id != SMPP_SUBMIT_SM) {
		printf("smsc: %s is not part of this demo: refused\n",
		    smpp_command_name(req->hdr.id));
		if (req->hdr.id != SMPP_ALERT_NOTIFICATION &&
		    req->hdr.id != SMPP_OUTBIND)
			(void)smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		return;
	}

	snprintf(id, sizeof(id), "%08" PRIx32, d->id_base + ++d->ids_given);
	smpp_log_escape(req->dst.addr.p, req->dst.addr.len, dest, sizeof(dest));
	if (req->n_tlvs > 0) {
		const struct smpp_tlv_view *t = &req->tlvs[0];

		if (t->tag == SMPP_TLV_USER_MESSAGE_REFERENCE && t->len == 2)
			snprintf(tlvs, sizeof(tlvs),
			    ", TLV user_message_reference=%u",
			    (unsigned)((t->val[0] << 8) | t->val[1]));
		else
			snprintf(tlvs, sizeof(tlvs), ", %u TLV(s)",
			    (unsigned)req->n_tlvs);
	}
	if (smpp_session_reply(s, ref, SMPP_ROK, id) != 0) {
		printf("smsc: could not answer submit_sm\n");
		return;
	}
	printf("smsc: submit_sm to %s (%u octets%s) accepted as %s\n",
	    dest, (unsigned)req->short_message.len, tlvs, id);
	if ((req->registered_delivery & 0x03) != 0)
		smsc_send_receipt(d, s, req, id);
}

static void
smsc_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct demo_receipt *r = ctx;

	(void)s;
	(void)arg;
	if (r == NULL)		/* the session's own enquire_link or unbind */
		return;
	if (out == SMPP_OUT_RESP && resp->hdr.status == SMPP_ROK)
		printf("smsc: the esme confirmed the receipt for %s\n", r->id);
	else if (out == SMPP_OUT_RESP)
		printf("smsc: the esme refused the receipt for %s: %s\n",
		    r->id, smpp_status_name(resp->hdr.status));
	else
		printf("smsc: the receipt for %s got no answer (%s)\n", r->id,
		    out == SMPP_OUT_TIMEOUT ? "timed out" : "aborted");
}

static void
smsc_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	(void)s;
	(void)from;
	(void)arg;
	if (to == SMPP_ST_BOUND_TRX || to == SMPP_ST_BOUND_TX ||
	    to == SMPP_ST_BOUND_RX)
		printf("smsc: session is %s\n", smpp_state_name(to));
}

static void
smsc_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct demo *d = arg;

	(void)s;
	printf("smsc: session closed (%s)\n", smpp_close_reason_name(why));
	d->smsc = NULL;
	check_done(d);
}

static const struct smpp_session_ops smsc_ops = {
	.bind = smsc_bind,
	.request = smsc_request,
	.response = smsc_response,
	.state = smsc_state,
	.closed = smsc_closed,
};

/* The listener hands over each accepted connection (TCP_NODELAY set). */
static void
smsc_accept(struct smpp_listener *l, struct bufferevent *bev,
    const char *peer, void *arg)
{
	struct demo *d = arg;

	(void)l;
	if (d->smsc != NULL || d->smsc_seen) {
		/* One connection is the whole demo. */
		printf("smsc: connection from %s refused: the demo takes one\n",
		    peer);
		bufferevent_free(bev);
		return;
	}
	d->smsc_seen = 1;
	d->smsc = smpp_session_new(d->base, bev, SMPP_ROLE_SERVER, &d->cfg,
	    &smsc_ops, d, "smsc");
	if (d->smsc == NULL) {
		printf("smsc: out of memory\n");
		d->failed = 1;
		return;
	}
	printf("smsc: connection from %s\n", peer);
}

/* ---- ESME side ---------------------------------------------------- */

static void
esme_maybe_unbind(struct demo *d)
{
	if (d->unbind_sent || d->esme == NULL)
		return;
	/* Every submit answered, and a receipt for every accepted one. */
	if (d->n_resps < N_MSGS || d->n_dlr < d->n_ok)
		return;
	d->unbind_sent = 1;
	printf("esme: all %d receipts are in; unbinding\n", d->n_dlr);
	if (smpp_session_unbind(d->esme) != 0) {
		printf("esme: unbind refused by the session; closing\n");
		d->failed = 1;
		smpp_session_close(d->esme);
	}
}

static void
esme_submit_all(struct demo *d)
{
	for (int i = 0; i < N_MSGS; i++) {
		struct demo_msg *m = &d->msgs[i];
		struct smpp_pdu pdu;
		size_t len = strlen(m->text);
		int rc;

		smpp_pdu_init(&pdu, SMPP_SUBMIT_SM);
		pdu.source_addr_ton = 5;	/* alphanumeric */
		pdu.source_addr_npi = 0;
		snprintf(pdu.source_addr, sizeof(pdu.source_addr), "%s",
		    DEMO_SOURCE);
		pdu.dest_addr_ton = 1;		/* international */
		pdu.dest_addr_npi = 1;		/* E.164 */
		snprintf(pdu.destination_addr, sizeof(pdu.destination_addr),
		    "%s", m->dest);
		pdu.registered_delivery = 1;	/* receipt on final outcome */
		pdu.data_coding = 0;
		if (len > SMPP_SHORT_MESSAGE_MAX)
			len = SMPP_SHORT_MESSAGE_MAX;
		pdu.sm_length = (uint8_t)len;
		memcpy(pdu.short_message, m->text, len);
		rc = 0;
		if (m->with_tlv) {
			uint8_t ref[2];

			smpp_put16(ref, DEMO_MSG_REF);
			rc = smpp_pdu_add_tlv(&pdu,
			    SMPP_TLV_USER_MESSAGE_REFERENCE, ref, sizeof(ref));
		}
		if (rc == 0)
			rc = smpp_session_send(d->esme, &pdu, m);
		smpp_pdu_clear(&pdu);
		if (rc != 0) {
			printf("esme: could not submit #%d (error %d)\n", m->n,
			    rc);
			d->failed = 1;
			d->n_resps++;	/* it will never be answered */
		}
	}
	esme_maybe_unbind(d);
}

static void
esme_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct demo *d = arg;

	(void)from;
	switch (to) {
	case SMPP_ST_BINDING:
		printf("esme: connected; binding as transceiver with "
		    "system_id %s\n", DEMO_SYSTEM_ID);
		break;
	case SMPP_ST_BOUND_TRX:
		printf("esme: bound as transceiver to %s\n",
		    smpp_session_peer_system_id(s));
		esme_submit_all(d);
		break;
	default:
		break;
	}
}

static void
esme_response(struct smpp_session *s, enum smpp_outcome out,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct demo *d = arg;
	struct demo_msg *m = ctx;

	(void)s;
	if (m == NULL)		/* the session's own enquire_link or unbind */
		return;
	d->n_resps++;
	if (out != SMPP_OUT_RESP) {
		printf("esme: submit #%d %s\n", m->n,
		    out == SMPP_OUT_TIMEOUT ? "timed out" : "was aborted");
		d->failed = 1;
	} else if (resp->hdr.status != SMPP_ROK) {
		printf("esme: submit #%d refused: %s\n", m->n,
		    smpp_status_name(resp->hdr.status));
		d->failed = 1;
	} else {
		str_copy(m->id, sizeof(m->id), &resp->message_id);
		d->n_ok++;
		printf("esme: submitted #%d to %s " ARROW " id %s\n", m->n,
		    m->dest, m->id);
	}
	esme_maybe_unbind(d);
}

/* Finds "key:" in a receipt text and copies its value (up to a space). */
static void
receipt_field(const char *text, const char *key, char *out, size_t cap)
{
	const char *p = text, *e;
	size_t klen = strlen(key);

	out[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if (p == text || p[-1] == ' ')
			break;
		p += klen;
	}
	if (p == NULL)
		return;
	p += klen;
	e = strchr(p, ' ');
	snprintf(out, cap, "%.*s", (int)(e != NULL ? (size_t)(e - p) :
	    strlen(p)), p);
}

static void
esme_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct demo *d = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	const struct smpp_tlv_view *t;
	struct demo_msg *m = NULL;
	char text[SMPP_SHORT_MESSAGE_MAX + 1], id[SMPP_MESSAGE_ID_MAX];
	char stat[16], shown[SMPP_MESSAGE_ID_MAX * 4];

	if (req->hdr.id != SMPP_DELIVER_SM) {
		printf("esme: %s is not part of this demo: refused\n",
		    smpp_command_name(req->hdr.id));
		if (req->hdr.id != SMPP_ALERT_NOTIFICATION &&
		    req->hdr.id != SMPP_OUTBIND)
			(void)smpp_session_reply(s, ref, SMPP_RINVCMDID, NULL);
		return;
	}
	if ((req->esm_class & SMPP_ESM_TYPE_MASK) != SMPP_ESM_DLR) {
		printf("esme: got a mobile-originated message (%u octets)\n",
		    (unsigned)req->short_message.len);
		(void)smpp_session_reply(s, ref, SMPP_ROK, NULL);
		return;
	}

	snprintf(text, sizeof(text), "%.*s", (int)req->short_message.len,
	    (const char *)req->short_message.p);
	/* The TLV is the reliable id; the text's id: is the fallback. */
	t = smpp_scan_tlv(req, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	if (t != NULL && t->len > 0)
		snprintf(id, sizeof(id), "%.*s", (int)t->len,
		    (const char *)t->val);
	else
		receipt_field(text, "id:", id, sizeof(id));
	receipt_field(text, "stat:", stat, sizeof(stat));
	smpp_log_escape(id, strlen(id), shown, sizeof(shown));

	for (int i = 0; i < N_MSGS; i++)
		if (d->msgs[i].id[0] != '\0' && strcmp(d->msgs[i].id, id) == 0)
			m = &d->msgs[i];
	if (smpp_session_reply(s, ref, SMPP_ROK, NULL) != 0)
		printf("esme: could not answer the receipt\n");
	if (m == NULL) {
		printf("esme: receipt for unknown id %s: %s\n", shown,
		    stat[0] != '\0' ? stat : "(no stat)");
		d->failed = 1;
		return;
	}
	printf("esme: receipt for %s: %s (message #%d)\n", shown,
	    stat[0] != '\0' ? stat : "(no stat)", m->n);
	if (strcmp(stat, "DELIVRD") != 0)
		d->failed = 1;
	if (!m->receipted) {
		m->receipted = 1;
		d->n_dlr++;
	}
	esme_maybe_unbind(d);
}

static void
esme_closed(struct smpp_session *s, enum smpp_close_reason why, void *arg)
{
	struct demo *d = arg;

	if (why == SMPP_CLOSE_BIND_FAILED) {
		uint32_t st = smpp_session_bind_status(s);

		printf("esme: bind refused: %s\n", st == 0xFFFFFFFFu ?
		    "no answer" : smpp_status_name(st));
	} else if (why == SMPP_CLOSE_UNBOUND) {
		printf("esme: unbound; connection closed\n");
		d->esme_unbound = 1;
	} else {
		printf("esme: connection closed (%s)\n",
		    smpp_close_reason_name(why));
	}
	d->esme = NULL;
	check_done(d);
}

static const struct smpp_session_ops esme_ops = {
	.request = esme_request,
	.response = esme_response,
	.state = esme_state,
	.closed = esme_closed,
};

/* ---- the whole ---------------------------------------------------- */

/* Ends the loop once both sessions are gone; if the SMSC side lingers
 * after the ESME left, it gets two seconds. */
static void
check_done(struct demo *d)
{
	struct timeval grace = { 2, 0 };

	if (d->esme != NULL)
		return;
	if (d->smsc == NULL)
		event_base_loopexit(d->base, NULL);
	else
		event_base_loopexit(d->base, &grace);
}

static void
watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct demo *d = arg;

	(void)fd;
	(void)what;
	printf("demo: still not done after %d s (%d of %d submits answered, "
	    "%d receipts): giving up\n", DEMO_WATCHDOG_S, d->n_resps, N_MSGS,
	    d->n_dlr);
	fflush(stdout);
	exit(1);
}

static int
esme_start(struct demo *d, const struct sockaddr_in *to)
{
	struct bufferevent *bev;
	int rc;

	bev = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return -1;
	if (bufferevent_socket_connect(bev, (const struct sockaddr *)to,
	    sizeof(*to)) != 0) {
		bufferevent_free(bev);
		return -1;
	}
	set_nodelay(bufferevent_getfd(bev));
	d->esme = smpp_session_new(d->base, bev, SMPP_ROLE_CLIENT, &d->cfg,
	    &esme_ops, d, "esme");
	if (d->esme == NULL)
		return -1;
	rc = smpp_session_bind(d->esme, SMPP_BIND_TRANSCEIVER, DEMO_SYSTEM_ID,
	    d->password, "", 0, 0, "");
	if (rc != 0) {
		printf("esme: cannot bind (error %d; a password has at most "
		    "%d characters)\n", rc, SMPP_PASSWORD_MAX - 1);
		smpp_session_close(d->esme);
		d->failed = 1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: smpp-demo [-p port] [-P password] [-v]\n"
	    "  -p port      SMSC port on 127.0.0.1 (default 0: any free one)\n"
	    "  -P password  the ESME's password (default %s; try a wrong one)\n"
	    "  -v           library log lines on stderr\n", DEMO_PASSWORD);
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct demo d;
	struct sockaddr_in sin;
	struct timeval wd = { DEMO_WATCHDOG_S, 0 };
	unsigned long port = 0;
	int ch, verbose = 0, ok;
	char *end;

	d.password = DEMO_PASSWORD;
	while ((ch = getopt(argc, argv, "p:P:vh")) != -1) {
		switch (ch) {
		case 'p':
			port = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port > 65535)
				usage();
			break;
		case 'P':
			d.password = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	smpp_log_init("smpp-demo", verbose ? SMPP_LOG_DEBUG : SMPP_LOG_WARN, 0);

	d.msgs[0] = (struct demo_msg){ .n = 1, .dest = "491701234567",
	    .text = "Hello from the Sealgate SMPP demo" };
	d.msgs[1] = (struct demo_msg){ .n = 2, .dest = "491701234568",
	    .text = "Second message, tagged with a TLV", .with_tlv = 1 };
	d.msgs[2] = (struct demo_msg){ .n = 3, .dest = "491701234569",
	    .text = "Third and last message" };
	d.id_base = ((uint32_t)time(NULL) & 0xffffu) << 16;

	d.base = event_base_new();
	if (d.base == NULL) {
		fprintf(stderr, "smpp-demo: event_base_new failed\n");
		return 1;
	}
	smpp_session_config_defaults(&d.cfg);

	d.lis = smpp_listener_new(d.base, "127.0.0.1", (uint16_t)port, NULL,
	    smsc_accept, &d, "smsc");
	if (d.lis == NULL) {
		fprintf(stderr, "smpp-demo: cannot listen on 127.0.0.1:%lu\n",
		    port);
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(smpp_listener_port(d.lis));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	printf("smsc: listening on 127.0.0.1:%u (system_id %s, accepts "
	    "%s/%s)\n", (unsigned)ntohs(sin.sin_port), DEMO_SMSC_ID,
	    DEMO_SYSTEM_ID, DEMO_PASSWORD);

	d.watchdog = evtimer_new(d.base, watchdog, &d);
	if (d.watchdog == NULL || evtimer_add(d.watchdog, &wd) != 0) {
		fprintf(stderr, "smpp-demo: cannot arm the watchdog\n");
		return 1;
	}
	if (esme_start(&d, &sin) != 0) {
		fprintf(stderr, "smpp-demo: cannot connect to 127.0.0.1:%u\n",
		    (unsigned)ntohs(sin.sin_port));
		return 1;
	}

	event_base_dispatch(d.base);

	/* The loop ended; close what is left and let the closes run. */
	smpp_listener_free(d.lis);
	d.lis = NULL;
	if (d.esme != NULL || d.smsc != NULL) {
		struct timeval last = { 1, 0 };

		if (d.esme != NULL)
			smpp_session_close(d.esme);
		if (d.smsc != NULL)
			smpp_session_close(d.smsc);
		event_base_loopexit(d.base, &last);
		event_base_dispatch(d.base);
	}
	event_free(d.watchdog);
	event_base_free(d.base);

	ok = !d.failed && d.n_ok == N_MSGS && d.n_dlr == N_MSGS &&
	    d.esme_unbound;
	printf("demo: %d of %d messages accepted, %d receipts, %s: %s\n",
	    d.n_ok, N_MSGS, d.n_dlr,
	    d.esme_unbound ? "unbound cleanly" : "no orderly unbind",
	    ok ? "OK" : "FAILED");
	return ok ? 0 : 1;
}
