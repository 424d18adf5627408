/*
 * Client sessions and receipt reading for smpp-bench (see bench_conn.h).
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/proto.h"
#include "smpp/tls.h"

#include "bench_conn.h"

struct smpp_session *
bench_connect(struct event_base *base, const struct bench_target *t,
    uint32_t bind_cmd, const struct smpp_session_ops *ops, void *arg,
    const char *name, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	struct bufferevent *bev;
	struct smpp_session *s;
	char port[8];
	int rc, one = 1;

	if (strlen(t->system_id) >= SMPP_SYSTEM_ID_MAX) {
		snprintf(err, errlen, "--system-id has at most %d characters",
		    SMPP_SYSTEM_ID_MAX - 1);
		return NULL;
	}
	if (strlen(t->password) >= SMPP_PASSWORD_MAX) {
		snprintf(err, errlen, "--password has at most %d characters",
		    SMPP_PASSWORD_MAX - 1);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", (unsigned)t->port);
	if ((rc = getaddrinfo(t->host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", t->host,
		    gai_strerror(rc));
		return NULL;
	}
	if (t->tls != NULL)
		bev = smpp_tls_connect_bev(base, t->tls, t->tls_host != NULL ?
		    t->tls_host : t->host);
	else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		freeaddrinfo(res);
		snprintf(err, errlen, "cannot set up the connection%s",
		    t->tls != NULL ? " (TLS)" : "");
		return NULL;
	}
	if (bufferevent_socket_connect(bev, res->ai_addr,
	    (int)res->ai_addrlen) != 0) {
		freeaddrinfo(res);
		bufferevent_free(bev);
		snprintf(err, errlen, "cannot connect to %s:%u", t->host,
		    (unsigned)t->port);
		return NULL;
	}
	freeaddrinfo(res);
	if (bufferevent_getfd(bev) >= 0)
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
	s = smpp_session_new(base, bev, SMPP_ROLE_CLIENT, &t->cfg, ops, arg,
	    name);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (smpp_session_bind(s, bind_cmd, t->system_id, t->password,
	    t->system_type != NULL ? t->system_type : "", 0, 0, "") != 0) {
		/* The session reports its close through ops later. */
		smpp_session_close(s);
		snprintf(err, errlen, "cannot send the bind");
		return NULL;
	}
	return s;
}

void
bench_close_text(struct smpp_session *s, enum smpp_close_reason why,
    char *out, size_t cap)
{
	uint32_t st;

	switch (why) {
	case SMPP_CLOSE_BIND_FAILED:
		st = smpp_session_bind_status(s);
		if (st == 0xFFFFFFFFu)
			snprintf(out, cap, "the bind got no answer");
		else
			snprintf(out, cap, "bind refused: %s (0x%08x)",
			    smpp_status_name(st), st);
		break;
	case SMPP_CLOSE_PEER_EOF:
		snprintf(out, cap, "the peer closed the connection");
		break;
	case SMPP_CLOSE_IO_ERROR:
		snprintf(out, cap, "the connection failed: refused, reset "
		    "by the peer, or unreachable");
		break;
	case SMPP_CLOSE_TLS_ERROR:
		snprintf(out, cap, "TLS failed (certificate, name or "
		    "handshake; see the log line above)");
		break;
	case SMPP_CLOSE_LINK_TIMEOUT:
		snprintf(out, cap, "the peer stopped answering "
		    "(enquire_link or unbind not answered)");
		break;
	case SMPP_CLOSE_INACTIVITY:
		snprintf(out, cap, "nothing received from the peer for too "
		    "long");
		break;
	case SMPP_CLOSE_BAD_FRAME:
		snprintf(out, cap, "the peer sent an invalid PDU length");
		break;
	default:
		snprintf(out, cap, "%s", smpp_close_reason_name(why));
		break;
	}
}

void
bench_rcpt_read(const struct smpp_scan *req, int full, struct bench_rcpt *r)
{
	const struct smpp_tlv_view *t;
	const uint8_t *text = req->short_message.p;
	size_t text_len = req->short_message.len;
	uint8_t type = req->esm_class & SMPP_ESM_TYPE_MASK;
	int have_stat = 0;

	memset(r, 0, sizeof(*r));
	r->is_receipt = type == SMPP_ESM_DLR || type == SMPP_ESM_INTERMEDIATE;
	if (!r->is_receipt)
		return;
	r->intermediate = type == SMPP_ESM_INTERMEDIATE;
	t = smpp_scan_tlv(req, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	if (t != NULL) {
		size_t n = t->len;

		while (n > 0 && t->val[n - 1] == '\0')	/* C-Octet string */
			n--;
		if (n > 0 && n <= SMPP_DLR_ID_MAX) {
			memcpy(r->id, t->val, n);
			r->id[n] = '\0';
			r->id_len = n;
		}
	}
	t = smpp_scan_tlv(req, SMPP_TLV_MESSAGE_STATE);
	if (t != NULL && t->len == 1 && t->val[0] <= SMPP_DLR_REJECTD) {
		r->stat = (enum smpp_dlr_stat)t->val[0];
		have_stat = 1;
	}
	if (text_len == 0) {
		t = smpp_scan_tlv(req, SMPP_TLV_MESSAGE_PAYLOAD);
		if (t != NULL) {
			text = t->val;
			text_len = t->len;
		}
	}
	if (full || r->id_len == 0 || !have_stat) {
		struct smpp_dlr d;

		if (smpp_dlr_parse((const char *)text, text_len, &d,
		    NULL) == 0) {
			if (r->id_len == 0) {
				r->id_len = strlen(d.id);
				memcpy(r->id, d.id, r->id_len + 1);
			}
			if (!have_stat)
				r->stat = d.stat;
			if (d.present & SMPP_DLR_F_ERR)
				snprintf(r->err, sizeof(r->err), "%s", d.err);
		}
	}
	if (r->stat == SMPP_DLR_ENROUTE)
		r->intermediate = 1;
}
