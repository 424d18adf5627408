/*
 * One SMPP session over a bufferevent, in either role (see session.h).
 *
 * The read callback frames every complete PDU in the input buffer, scans
 * it (scan.h) and either answers it here (enquire_link, unbind, state and
 * window errors, malformed PDUs) or hands it to the owner. Responses made
 * while reading are collected in a per-session batch and written once per
 * read, so a read of many PDUs costs one write. On a plain socket, PDUs
 * sent from elsewhere (storage callbacks, other sessions' reads) go to the
 * same batch, flushed by flush_ev later in the same loop pass; a flush
 * with nothing queued before it is written to the socket at once, and
 * only what the kernel does not take goes to the bufferevent's output.
 * That spares each flush the write event's two epoll_ctl calls and the
 * wait for the next loop round. TLS sessions keep the bufferevent path.
 *
 * Our outstanding requests live in a fixed slot table indexed by
 * seq & mask (sized at twice the window, no allocation per PDU); user
 * requests are also on a FIFO list ordered by deadline, which works
 * because every request has the same response timeout, so one timer
 * armed for the head covers them all.
 *
 * Closing is always deferred to the event loop (close_ev), so the session
 * is never freed while one of its own callbacks is on the stack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "build.h"
#include "log.h"
#include "pdu.h"
#include "proto.h"
#include "scan.h"
#include "session.h"
#include "tls.h"

/* Responses produced while reading are gathered here first. */
#define BATCH_CAP	16384
/* Reads larger than libevent's 16 KiB default mean fewer read calls. */
#define MAX_SINGLE_READ	65536

enum slot_kind {
	SLOT_FREE = 0,
	SLOT_USER,		/* smpp_session_send*(): reported to owner */
	SLOT_BIND,		/* client bind_* */
	SLOT_ENQ,		/* our keepalive enquire_link */
	SLOT_UNBIND,		/* our unbind */
};

struct slot {
	uint32_t	 seq;
	uint32_t	 cmd;		/* request command id */
	uint8_t		 kind;		/* enum slot_kind */
	uint64_t	 deadline;	/* ms, monotonic (SLOT_USER) */
	void		*ctx;
	struct slot	*next, *prev;	/* deadline FIFO (SLOT_USER) */
};

struct smpp_session {
	struct event_base	*base;
	struct bufferevent	*bev;
	enum smpp_role		 role;
	enum smpp_state		 state;
	enum smpp_state		 bound_state;	/* kept through UNBINDING */
	struct smpp_session_config cfg;
	struct smpp_session_ops	 ops;
	void			*arg;

	char			 name[64];
	char			 peer_addr[64];
	char			 peer_sysid[SMPP_SYSTEM_ID_MAX];
	uint32_t		 bind_status;
	uint32_t		 bind_cmd;	/* server: pending bind; client: sent */
	uint32_t		 bind_seq;	/* server: seq of the pending bind */
	uint8_t			 peer_version;	/* server: bind interface_version */

	uint32_t		 next_seq;
	struct slot		*slots;
	uint32_t		 mask;
	uint32_t		 n_user;	/* outstanding SLOT_USER */
	struct slot		*fifo_head, *fifo_tail;
	uint32_t		 in_pending;	/* peer requests the owner owes */
	uint32_t		 el_seq;	/* outstanding enquire_link, 0 none */
	uint64_t		 el_sent_ms;
	uint64_t		 last_rx_ms;

	struct event		*rto_ev;	/* head of FIFO deadline */
	struct event		*el_ev;		/* enquire_link tick */
	struct event		*ia_ev;		/* inactivity check */
	struct event		*st_ev;		/* bind, unbind and drain timeout */
	struct event		*close_ev;	/* deferred finish */
	struct event		*flush_ev;	/* batch flush, same loop pass */

	unsigned		 closing:1;
	unsigned		 finishing:1;
	unsigned		 io_dead:1;	/* no drain, no close_notify */
	unsigned		 rto_armed:1;
	unsigned		 read_paused:1;
	unsigned		 wm_low:1;	/* write low-watermark is set */
	unsigned		 want_writable:1;
	unsigned		 in_read:1;
	unsigned		 wcb_pending:1;
	unsigned		 batching:1;
	unsigned		 direct_write:1; /* plain socket: send() first */
	unsigned		 flush_armed:1;
	unsigned		 unbind_pending:1;
	unsigned		 silent_enquire:1; /* fault injection (simulator) */
	enum smpp_close_reason	 close_reason;

	uint64_t		 rx_pdus, tx_pdus;

	struct smpp_scan	 scan;		/* reused for every PDU */
	uint8_t			*enc;		/* smpp_session_send() buffer */
	size_t			 enc_cap;
	size_t			 batch_len;
	uint8_t			 batch[BATCH_CAP];
};

static void process_input(struct smpp_session *);
static void begin_close(struct smpp_session *, enum smpp_close_reason, int);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
ms_tv(uint64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

static void
timer_add_ms(struct event *ev, uint64_t ms)
{
	struct timeval tv;

	ms_tv(ms, &tv);
	event_add(ev, &tv);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

const char *
smpp_state_name(enum smpp_state st)
{
	switch (st) {
	case SMPP_ST_OPEN:	return "open";
	case SMPP_ST_BINDING:	return "binding";
	case SMPP_ST_BOUND_TX:	return "bound_tx";
	case SMPP_ST_BOUND_RX:	return "bound_rx";
	case SMPP_ST_BOUND_TRX:	return "bound_trx";
	case SMPP_ST_UNBINDING:	return "unbinding";
	case SMPP_ST_UNBOUND:	return "unbound";
	case SMPP_ST_CLOSED:	return "closed";
	}
	return "unknown";
}

const char *
smpp_close_reason_name(enum smpp_close_reason r)
{
	switch (r) {
	case SMPP_CLOSE_LOCAL:		return "local";
	case SMPP_CLOSE_UNBOUND:	return "unbound";
	case SMPP_CLOSE_PEER_EOF:	return "peer_eof";
	case SMPP_CLOSE_IO_ERROR:	return "io_error";
	case SMPP_CLOSE_TLS_ERROR:	return "tls_error";
	case SMPP_CLOSE_BAD_FRAME:	return "bad_frame";
	case SMPP_CLOSE_INACTIVITY:	return "inactivity";
	case SMPP_CLOSE_LINK_TIMEOUT:	return "link_timeout";
	case SMPP_CLOSE_BIND_FAILED:	return "bind_failed";
	case SMPP_CLOSE_BIND_TIMEOUT:	return "bind_timeout";
	}
	return "unknown";
}

void
smpp_session_config_defaults(struct smpp_session_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->window = 64;
	cfg->in_window = 256;
	cfg->response_timeout_ms = 30000;
	cfg->enquire_link_ms = 30000;
	cfg->inactivity_ms = 120000;
	cfg->bind_timeout_ms = 10000;
	cfg->unbind_timeout_ms = 5000;
	cfg->out_limit = 1024 * 1024;
	smpp_limits_default(&cfg->limits);
}

/* ---- command tables (SMPP 3.4 section 2.3, table 2-1) ---- */

static int
is_bind(uint32_t id)
{
	return id == SMPP_BIND_TRANSMITTER || id == SMPP_BIND_RECEIVER ||
	    id == SMPP_BIND_TRANSCEIVER;
}

/* A request that has a response PDU. */
static int
has_response(uint32_t id)
{
	switch (id) {
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
	case SMPP_QUERY_SM:
	case SMPP_SUBMIT_SM:
	case SMPP_DELIVER_SM:
	case SMPP_UNBIND:
	case SMPP_REPLACE_SM:
	case SMPP_CANCEL_SM:
	case SMPP_ENQUIRE_LINK:
	case SMPP_SUBMIT_MULTI:
	case SMPP_DATA_SM:
		return 1;
	}
	return 0;
}

static int
is_bound(enum smpp_state st)
{
	return st == SMPP_ST_BOUND_TX || st == SMPP_ST_BOUND_RX ||
	    st == SMPP_ST_BOUND_TRX;
}

/*
 * May a request with this id travel in this direction while bound as st?
 * from_esme: the ESME (client role) sends it. Binds, unbind and
 * enquire_link are handled by the session and not checked here.
 */
static int
dir_allowed(int from_esme, enum smpp_state st, uint32_t id)
{
	int tx = st == SMPP_ST_BOUND_TX || st == SMPP_ST_BOUND_TRX;
	int rx = st == SMPP_ST_BOUND_RX || st == SMPP_ST_BOUND_TRX;

	switch (id) {
	case SMPP_SUBMIT_SM:
	case SMPP_SUBMIT_MULTI:
	case SMPP_QUERY_SM:
	case SMPP_CANCEL_SM:
	case SMPP_REPLACE_SM:
		return from_esme && tx;
	case SMPP_DELIVER_SM:
	case SMPP_ALERT_NOTIFICATION:
		return !from_esme && rx;
	case SMPP_DATA_SM:
		return is_bound(st);
	case SMPP_ENQUIRE_LINK:
		return is_bound(st);
	}
	return 0;
}

/* The bound state a request may be checked against: the one we had
 * before UNBINDING, so traffic in flight during an unbind still flows. */
static enum smpp_state
eff_state(const struct smpp_session *s)
{
	return s->state == SMPP_ST_UNBINDING ? s->bound_state : s->state;
}

static enum smpp_state
bound_state_for(uint32_t bind_cmd)
{
	switch (bind_cmd) {
	case SMPP_BIND_TRANSMITTER:	return SMPP_ST_BOUND_TX;
	case SMPP_BIND_RECEIVER:	return SMPP_ST_BOUND_RX;
	default:			return SMPP_ST_BOUND_TRX;
	}
}

/* ---- state and logging ---- */

static void
enter_state(struct smpp_session *s, enum smpp_state to)
{
	enum smpp_state from = s->state;

	if (from == to)
		return;
	s->state = to;
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "state", "from=%s to=%s",
	    smpp_state_name(from), smpp_state_name(to));
	if (s->ops.state != NULL)
		s->ops.state(s, from, to, s->arg);
}

/* ---- output ---- */

static size_t
out_queued(const struct smpp_session *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev)) +
	    s->batch_len;
}

static void
log_io_error(const struct smpp_session *s, int err)
{
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "io_error",
	    "errno=%d error=\"%s\"", err, evutil_socket_error_to_string(err));
}

/* Writes what the kernel takes now when nothing is queued before it;
 * the rest (or all, on TLS or a busy socket) goes to the output buffer,
 * whose write event finishes the job and reports errors as usual. */
static int
out_write(struct smpp_session *s, const uint8_t *p, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	ssize_t w;

	if (s->direct_write && !s->io_dead && evbuffer_get_length(out) == 0) {
		do
			w = send(bufferevent_getfd(s->bev), p, n,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* send() took the socket's error: the bufferevent
			 * will not see it, so report it as it would. */
			log_io_error(s, errno);
			s->io_dead = 1;
			begin_close(s, SMPP_CLOSE_IO_ERROR, 0);
			return 0;	/* the bytes go with the connection */
		}
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
		if (n == 0)
			return 0;
	}
	return evbuffer_add(out, p, n);
}

static void
batch_flush(struct smpp_session *s)
{
	size_t n = s->batch_len;

	if (n == 0)
		return;
	s->batch_len = 0;
	if (out_write(s, s->batch, n) != 0)
		begin_close(s, SMPP_CLOSE_IO_ERROR, 0);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smpp_session *s = arg;

	(void)fd;
	(void)what;
	s->flush_armed = 0;
	if (!s->batching)
		batch_flush(s);
}

/* Queues bytes for the peer: into the batch while reading or on a plain
 * socket (flushed later in this loop pass), else straight to the output
 * buffer. Fails only on allocation failure. */
static int
out_append(struct smpp_session *s, const void *p, size_t n)
{
	s->tx_pdus++;
	if (s->batching || (s->direct_write && !s->closing)) {
		if (s->batch_len + n > sizeof(s->batch))
			batch_flush(s);
		if (n <= sizeof(s->batch)) {
			memcpy(s->batch + s->batch_len, p, n);
			s->batch_len += n;
			if (!s->batching && !s->flush_armed) {
				s->flush_armed = 1;
				event_active(s->flush_ev, EV_TIMEOUT, 1);
			}
			return 0;
		}
	}
	return out_write(s, p, n);
}

static void
set_write_lowmark(struct smpp_session *s, size_t low)
{
	bufferevent_setwatermark(s->bev, EV_WRITE, low, 0);
	s->wm_low = low != 0;
}

static void
send_header(struct smpp_session *s, uint32_t id, uint32_t status,
    uint32_t seq)
{
	uint8_t b[SMPP_HEADER_LEN];

	smpp_build_header(b, sizeof(b), id, status, seq);
	if (out_append(s, b, sizeof(b)) != 0)
		begin_close(s, SMPP_CLOSE_IO_ERROR, 0);
}

/*
 * Builds the response to request req_id into b (SMPP_BUILD_MAX + 1).
 * Per SMPP 3.4 the bodies of submit_sm_resp, submit_multi_resp,
 * data_sm_resp and bind_*_resp are left out when the status is an error;
 * deliver_sm_resp always carries its (empty) message_id.
 */
static size_t
build_resp(uint8_t *b, size_t cap, uint32_t req_id, uint32_t status,
    uint32_t seq, const char *str, uint8_t version)
{
	uint32_t rid = req_id | SMPP_RESP_BIT;
	size_t n;

	switch (req_id) {
	case SMPP_SUBMIT_SM:
	case SMPP_DATA_SM:
		if (status != SMPP_ROK)
			return smpp_build_header(b, cap, rid, status, seq);
		return smpp_build_resp_str(b, cap, rid, status, seq, str, 0);
	case SMPP_SUBMIT_MULTI:
		if (status != SMPP_ROK)
			return smpp_build_header(b, cap, rid, status, seq);
		n = smpp_build_resp_str(b, cap - 1, rid, status, seq, str, 0);
		if (n == 0)
			return 0;
		b[n++] = 0;	/* no_unsuccess */
		smpp_put32(b, (uint32_t)n);
		return n;
	case SMPP_DELIVER_SM:
		return smpp_build_resp_str(b, cap, rid, status, seq, str, 0);
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
		if (status != SMPP_ROK)
			return smpp_build_header(b, cap, rid, status, seq);
		if (str != NULL && strnlen(str, SMPP_SYSTEM_ID_MAX) >=
		    SMPP_SYSTEM_ID_MAX)
			return 0;
		return smpp_build_resp_str(b, cap, rid, status, seq, str,
		    version);
	}
	return smpp_build_header(b, cap, rid, status, seq);
}

/* Answers a request ourselves (state errors, queue full, bad PDUs):
 * its response, or generic_nack when the command has none. */
static void
answer(struct smpp_session *s, uint32_t req_id, uint32_t status,
    uint32_t seq)
{
	uint8_t b[SMPP_BUILD_MAX + 1];
	size_t n;

	if (!has_response(req_id)) {
		send_header(s, SMPP_GENERIC_NACK, status, seq);
		return;
	}
	n = build_resp(b, sizeof(b), req_id, status, seq, NULL, 0);
	if (n == 0 || out_append(s, b, n) != 0)
		begin_close(s, SMPP_CLOSE_IO_ERROR, 0);
}

/* ---- slots, sequence numbers, response timeouts ---- */

static struct slot *
slot_alloc(struct smpp_session *s, enum slot_kind kind, uint32_t cmd,
    void *ctx)
{
	struct slot *sl;
	uint32_t seq;

	/* The table has more slots than requests can be outstanding, so a
	 * free one is found; a seq whose slot is busy is simply skipped. */
	for (;;) {
		seq = s->next_seq;
		s->next_seq = seq >= SMPP_SEQ_MAX ? 1 : seq + 1;
		sl = &s->slots[seq & s->mask];
		if (sl->kind == SLOT_FREE)
			break;
	}
	sl->seq = seq;
	sl->cmd = cmd;
	sl->kind = (uint8_t)kind;
	sl->ctx = ctx;
	sl->next = sl->prev = NULL;
	if (kind == SLOT_USER) {
		sl->deadline = now_ms() + s->cfg.response_timeout_ms;
		sl->prev = s->fifo_tail;
		if (s->fifo_tail != NULL)
			s->fifo_tail->next = sl;
		else
			s->fifo_head = sl;
		s->fifo_tail = sl;
		s->n_user++;
		if (!s->rto_armed) {
			timer_add_ms(s->rto_ev, s->cfg.response_timeout_ms);
			s->rto_armed = 1;
		}
	}
	return sl;
}

static void
slot_release(struct smpp_session *s, struct slot *sl)
{
	if (sl->kind == SLOT_USER) {
		if (sl->prev != NULL)
			sl->prev->next = sl->next;
		else
			s->fifo_head = sl->next;
		if (sl->next != NULL)
			sl->next->prev = sl->prev;
		else
			s->fifo_tail = sl->prev;
		s->n_user--;
	}
	sl->kind = SLOT_FREE;
	sl->ctx = NULL;
	sl->next = sl->prev = NULL;
}

static void send_unbind(struct smpp_session *);

/* After a user request ends: a deferred unbind may go now. */
static void
after_user_done(struct smpp_session *s)
{
	if (s->unbind_pending && s->n_user == 0 && !s->closing) {
		s->unbind_pending = 0;
		send_unbind(s);
	}
}

static uint32_t
window_room(const struct smpp_session *s)
{
	return s->n_user >= s->cfg.window ? 0 : s->cfg.window - s->n_user;
}

static int
we_may_send(const struct smpp_session *s, uint32_t id)
{
	if (s->closing)
		return 0;
	return dir_allowed(s->role == SMPP_ROLE_CLIENT, s->state, id);
}

static void
maybe_writable(struct smpp_session *s)
{
	if (!s->want_writable || s->closing || !is_bound(s->state))
		return;
	if (window_room(s) == 0 || out_queued(s) > s->cfg.out_limit)
		return;
	s->want_writable = 0;
	if (s->ops.writable != NULL)
		s->ops.writable(s, s->arg);
}

static void
rto_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smpp_session *s = arg;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	s->rto_armed = 0;
	while (s->fifo_head != NULL && s->fifo_head->deadline <= now &&
	    !s->finishing) {
		struct slot *sl = s->fifo_head;
		void *ctx = sl->ctx;
		uint32_t seq = sl->seq, cmd = sl->cmd;

		slot_release(s, sl);
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "response_timeout",
		    "cmd=%s seq=%u", smpp_command_name(cmd), seq);
		if (s->ops.response != NULL)
			s->ops.response(s, SMPP_OUT_TIMEOUT, NULL, ctx, s->arg);
	}
	if (s->fifo_head != NULL && !s->rto_armed && !s->closing) {
		uint64_t d = s->fifo_head->deadline;

		timer_add_ms(s->rto_ev, d > now ? d - now : 1);
		s->rto_armed = 1;
	}
	after_user_done(s);
	maybe_writable(s);
}

/* ---- closing ---- */

static void
close_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smpp_session *s = arg;

	(void)fd;
	(void)what;
	s->finishing = 1;
	/* close_notify only after the output has drained and only on a
	 * healthy link: SSL_shutdown writes straight to the socket. */
	if (!s->io_dead)
		smpp_tls_close_notify(s->bev);
	while (s->fifo_head != NULL) {
		struct slot *sl = s->fifo_head;
		void *ctx = sl->ctx;

		slot_release(s, sl);
		if (s->ops.response != NULL)
			s->ops.response(s, SMPP_OUT_ABORTED, NULL, ctx, s->arg);
	}
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "close",
	    "reason=%s peer=%s rx=%llu tx=%llu", smpp_close_reason_name(
	    s->close_reason), s->peer_addr, (unsigned long long)s->rx_pdus,
	    (unsigned long long)s->tx_pdus);
	enter_state(s, SMPP_ST_CLOSED);
	if (s->ops.closed != NULL)
		s->ops.closed(s, s->close_reason, s->arg);

	bufferevent_free(s->bev);
	event_free(s->rto_ev);
	event_free(s->el_ev);
	event_free(s->ia_ev);
	event_free(s->st_ev);
	event_free(s->close_ev);
	event_free(s->flush_ev);
	free(s->slots);
	free(s->enc);
	free(s);
}

static void
schedule_finish(struct smpp_session *s)
{
	event_del(s->st_ev);
	event_active(s->close_ev, EV_TIMEOUT, 1);
}

/*
 * Starts closing: stop reading and every timer, then (drain) wait until
 * the output is written, bounded by a timeout, or finish at once. The
 * finish always runs from the loop (close_cb), never from this call.
 */
static void
begin_close(struct smpp_session *s, enum smpp_close_reason reason, int drain)
{
	uint64_t t;

	if (s->closing)
		return;
	s->closing = 1;
	s->close_reason = reason;
	bufferevent_disable(s->bev, EV_READ);
	event_del(s->rto_ev);
	event_del(s->el_ev);
	event_del(s->ia_ev);
	event_del(s->st_ev);
	s->rto_armed = 0;
	if (!drain)
		s->io_dead = reason == SMPP_CLOSE_IO_ERROR ||
		    reason == SMPP_CLOSE_TLS_ERROR ||
		    reason == SMPP_CLOSE_PEER_EOF;
	batch_flush(s);
	if (drain && !s->io_dead &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) > 0) {
		set_write_lowmark(s, 0);
		bufferevent_enable(s->bev, EV_WRITE);
		t = s->cfg.unbind_timeout_ms != 0 ? s->cfg.unbind_timeout_ms :
		    1000;
		timer_add_ms(s->st_ev, t);
		return;
	}
	schedule_finish(s);
}

/* ---- requests we send ourselves ---- */

static void
send_internal(struct smpp_session *s, enum slot_kind kind, uint32_t cmd)
{
	struct slot *sl = slot_alloc(s, kind, cmd, NULL);

	if (kind == SLOT_ENQ) {
		s->el_seq = sl->seq;
		s->el_sent_ms = now_ms();
	}
	send_header(s, cmd, 0, sl->seq);
}

static void
send_unbind(struct smpp_session *s)
{
	send_internal(s, SLOT_UNBIND, SMPP_UNBIND);
	batch_flush(s);
	timer_add_ms(s->st_ev, s->cfg.unbind_timeout_ms);
}

static void
el_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smpp_session *s = arg;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	if (s->closing || !is_bound(s->state))
		return;
	if (s->el_seq != 0) {
		if (now - s->el_sent_ms >= s->cfg.response_timeout_ms) {
			smpp_log(SMPP_LOG_WARN, s->name, "smpp",
			    "enquire_link_timeout", "seq=%u", s->el_seq);
			begin_close(s, SMPP_CLOSE_LINK_TIMEOUT, 0);
		}
		return;
	}
	/* A link that carried traffic lately needs no probe. */
	if (now - s->last_rx_ms < s->cfg.enquire_link_ms)
		return;
	send_internal(s, SLOT_ENQ, SMPP_ENQUIRE_LINK);
}

static void
ia_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smpp_session *s = arg;
	uint64_t now = now_ms(), idle = now - s->last_rx_ms;

	(void)fd;
	(void)what;
	if (s->closing)
		return;
	if (idle >= s->cfg.inactivity_ms) {
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "inactivity",
		    "idle_ms=%llu", (unsigned long long)idle);
		begin_close(s, SMPP_CLOSE_INACTIVITY, 1);
		return;
	}
	timer_add_ms(s->ia_ev, s->cfg.inactivity_ms - idle);
}

static void
st_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smpp_session *s = arg;

	(void)fd;
	(void)what;
	if (s->closing) {	/* drain took too long */
		s->io_dead = 1;
		schedule_finish(s);
		return;
	}
	switch (s->state) {
	case SMPP_ST_OPEN:
	case SMPP_ST_BINDING:
		smpp_log(SMPP_LOG_WARN, s->name, "smpp", "bind_timeout", NULL);
		begin_close(s, s->role == SMPP_ROLE_SERVER ?
		    SMPP_CLOSE_BIND_TIMEOUT : SMPP_CLOSE_BIND_FAILED, 0);
		break;
	case SMPP_ST_UNBINDING:
		smpp_log(SMPP_LOG_WARN, s->name, "smpp", "unbind_timeout",
		    NULL);
		begin_close(s, SMPP_CLOSE_LINK_TIMEOUT, 0);
		break;
	default:
		break;
	}
}

static void
start_bound(struct smpp_session *s, enum smpp_state st)
{
	event_del(s->st_ev);
	s->bound_state = st;
	enter_state(s, st);
	if (s->cfg.enquire_link_ms != 0 && !s->closing)
		timer_add_ms(s->el_ev, s->cfg.enquire_link_ms);
}

/* ---- incoming PDUs ---- */

static void
copy_str(char *dst, size_t cap, const struct smpp_str *src)
{
	size_t n = src->p != NULL ? src->len : 0;

	if (n >= cap)
		n = cap - 1;
	if (n != 0)
		memcpy(dst, src->p, n);
	dst[n] = '\0';
}

static void
on_bind_resp(struct smpp_session *s, const struct smpp_scan *sc)
{
	char esc[80];

	event_del(s->st_ev);
	s->bind_status = sc->hdr.status;
	if (sc->hdr.id != SMPP_GENERIC_NACK && sc->hdr.status == SMPP_ROK) {
		if (sc->has & SMPP_HAS_SYSTEM_ID)
			copy_str(s->peer_sysid, sizeof(s->peer_sysid),
			    &sc->system_id);
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "bound",
		    "cmd=%s peer_system_id=%s", smpp_command_name(s->bind_cmd),
		    smpp_log_escape(s->peer_sysid, strlen(s->peer_sysid), esc,
		    sizeof(esc)));
		start_bound(s, bound_state_for(s->bind_cmd));
		return;
	}
	smpp_log(SMPP_LOG_WARN, s->name, "smpp", "bind_failed",
	    "cmd=%s status=%s(0x%x)", smpp_command_name(sc->hdr.id),
	    smpp_status_name(sc->hdr.status), sc->hdr.status);
	begin_close(s, SMPP_CLOSE_BIND_FAILED, 0);
}

static void
on_response(struct smpp_session *s, const struct smpp_scan *sc)
{
	uint32_t id = sc->hdr.id, seq = sc->hdr.seq;
	struct slot *sl = &s->slots[seq & s->mask];
	void *ctx;

	/* generic_nack matches any request by seq; other responses need
	 * the request's id too. */
	if (sl->kind == SLOT_FREE || sl->seq != seq ||
	    (id != SMPP_GENERIC_NACK && (sl->cmd | SMPP_RESP_BIT) != id)) {
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "unexpected_resp",
		    "cmd=%s seq=%u status=0x%x", smpp_command_name(id), seq,
		    sc->hdr.status);
		return;
	}
	switch (sl->kind) {
	case SLOT_USER:
		ctx = sl->ctx;
		slot_release(s, sl);
		if (s->ops.response != NULL)
			s->ops.response(s, SMPP_OUT_RESP, sc, ctx, s->arg);
		after_user_done(s);
		break;
	case SLOT_BIND:
		slot_release(s, sl);
		if (s->state == SMPP_ST_BINDING)
			on_bind_resp(s, sc);
		break;
	case SLOT_ENQ:
		slot_release(s, sl);
		s->el_seq = 0;
		break;
	case SLOT_UNBIND:
		slot_release(s, sl);
		event_del(s->st_ev);
		enter_state(s, SMPP_ST_UNBOUND);
		begin_close(s, SMPP_CLOSE_UNBOUND, 1);
		break;
	}
}

static void
on_bind(struct smpp_session *s, const struct smpp_scan *sc)
{
	char esc[80];

	if (s->role != SMPP_ROLE_SERVER) {
		answer(s, sc->hdr.id, SMPP_RINVBNDSTS, sc->hdr.seq);
		return;
	}
	if (s->state != SMPP_ST_OPEN) {
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "bind_again",
		    "cmd=%s state=%s", smpp_command_name(sc->hdr.id),
		    smpp_state_name(s->state));
		answer(s, sc->hdr.id, SMPP_RALYBND, sc->hdr.seq);
		return;
	}
	s->bind_cmd = sc->hdr.id;
	s->bind_seq = sc->hdr.seq;
	s->peer_version = sc->interface_version;
	copy_str(s->peer_sysid, sizeof(s->peer_sysid), &sc->system_id);
	/* The password is never logged. */
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "bind_request",
	    "cmd=%s system_id=%s version=0x%02x peer=%s",
	    smpp_command_name(sc->hdr.id), smpp_log_escape(sc->system_id.p,
	    sc->system_id.len, esc, sizeof(esc)), sc->interface_version,
	    s->peer_addr);
	enter_state(s, SMPP_ST_BINDING);
	if (s->ops.bind == NULL) {
		smpp_session_bind_reply(s, SMPP_RBINDFAIL, NULL);
		return;
	}
	s->ops.bind(s, sc, s->arg);
}

static void
on_unbind(struct smpp_session *s, const struct smpp_scan *sc)
{
	if (!is_bound(s->state) && s->state != SMPP_ST_UNBINDING) {
		answer(s, SMPP_UNBIND, SMPP_RINVBNDSTS, sc->hdr.seq);
		return;
	}
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "peer_unbind", NULL);
	send_header(s, SMPP_UNBIND_RESP, SMPP_ROK, sc->hdr.seq);
	enter_state(s, SMPP_ST_UNBOUND);
	begin_close(s, SMPP_CLOSE_UNBOUND, 1);
}

static void
on_request(struct smpp_session *s, const struct smpp_scan *sc)
{
	uint32_t id = sc->hdr.id;
	int allowed;

	if (id == SMPP_OUTBIND)
		allowed = s->role == SMPP_ROLE_CLIENT &&
		    s->state == SMPP_ST_OPEN;
	else
		allowed = dir_allowed(s->role == SMPP_ROLE_SERVER,
		    eff_state(s), id);
	if (!allowed) {
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "wrong_state",
		    "cmd=%s seq=%u state=%s", smpp_command_name(id),
		    sc->hdr.seq, smpp_state_name(s->state));
		answer(s, id, SMPP_RINVBNDSTS, sc->hdr.seq);
		return;
	}
	if (s->ops.request == NULL) {
		answer(s, id, SMPP_RINVCMDID, sc->hdr.seq);
		return;
	}
	if (has_response(id)) {
		if (s->in_pending >= s->cfg.in_window) {
			answer(s, id, SMPP_RMSGQFUL, sc->hdr.seq);
			return;
		}
		s->in_pending++;
	}
	s->ops.request(s, sc, s->arg);
}

static void
handle_pdu(struct smpp_session *s, const uint8_t *p, uint32_t len)
{
	struct smpp_scan *sc = &s->scan;
	uint32_t status = 0;

	if (smpp_scan(p, len, &s->cfg.limits, sc, &status) != 0) {
		struct smpp_hdr h;

		smpp_hdr_read(p, &h);
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "bad_pdu",
		    "cmd=%s(0x%08x) seq=%u len=%u status=%s",
		    smpp_command_name(h.id), h.id, h.seq, len,
		    smpp_status_name(status));
		if (status == 0)
			status = SMPP_RSYSERR;
		/* A malformed response leaves its request to time out: we
		 * cannot tell the owner what it said. Never nack a nack. */
		if (smpp_is_resp(h.id)) {
			if (h.id != SMPP_GENERIC_NACK)
				send_header(s, SMPP_GENERIC_NACK, status, h.seq);
		} else {
			answer(s, h.id, status, h.seq);
		}
		return;
	}
	if (smpp_is_resp(sc->hdr.id)) {
		on_response(s, sc);
		return;
	}
	switch (sc->hdr.id) {
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
		on_bind(s, sc);
		break;
	case SMPP_ENQUIRE_LINK:
		/* Answered in any state: real peers probe before binding. */
		if (!s->silent_enquire)
			send_header(s, SMPP_ENQUIRE_LINK_RESP, SMPP_ROK,
			    sc->hdr.seq);
		break;
	case SMPP_UNBIND:
		on_unbind(s, sc);
		break;
	default:
		on_request(s, sc);
		break;
	}
}

static void
bad_frame(struct smpp_session *s, struct evbuffer *in, uint32_t len)
{
	uint8_t h[SMPP_HEADER_LEN];
	uint32_t seq = 0;

	if (evbuffer_copyout(in, h, sizeof(h)) == (ev_ssize_t)sizeof(h))
		seq = get32(h + 12);
	smpp_log(SMPP_LOG_WARN, s->name, "smpp", "bad_frame",
	    "command_length=%u max=%u seq=%u", len, s->cfg.limits.max_pdu, seq);
	send_header(s, SMPP_GENERIC_NACK, SMPP_RINVCMDLEN, seq);
	begin_close(s, SMPP_CLOSE_BAD_FRAME, 1);
}

static void
pause_read(struct smpp_session *s)
{
	if (s->read_paused)
		return;
	s->read_paused = 1;
	bufferevent_disable(s->bev, EV_READ);
	set_write_lowmark(s, s->cfg.out_limit / 2);
	smpp_log(SMPP_LOG_DEBUG, s->name, "smpp", "read_paused",
	    "queued=%zu", out_queued(s));
}

/* One pass over every complete PDU in the input buffer. */
static void
read_batch(struct smpp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	s->batching = 1;
	while (!s->closing) {
		size_t avail = evbuffer_get_length(in);
		struct evbuffer_iovec v;
		uint8_t lb[4];
		const uint8_t *p;
		uint32_t len;

		if (avail < 4)
			break;
		if (out_queued(s) > s->cfg.out_limit) {
			pause_read(s);
			break;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) >= 1 && v.iov_len >= 4)
			p = v.iov_base;
		else {
			evbuffer_copyout(in, lb, 4);
			p = lb;
			v.iov_len = 0;
		}
		len = get32(p);
		if (smpp_frame_len_ok(len, &s->cfg.limits) != 0) {
			bad_frame(s, in, len);
			break;
		}
		if (avail < len)
			break;
		/* Most PDUs lie inside the first chunk: no copy then. */
		if (v.iov_len < len && (p = evbuffer_pullup(in, len)) == NULL) {
			begin_close(s, SMPP_CLOSE_IO_ERROR, 0);
			break;
		}
		s->rx_pdus++;
		handle_pdu(s, p, len);
		evbuffer_drain(in, len);
	}
	batch_flush(s);
	s->batching = 0;
}

/* The write side caught up: lift the read pause and tell the owner.
 * Returns 1 if reading resumed (the caller then reads what is queued). */
static int
on_written(struct smpp_session *s)
{
	size_t q = evbuffer_get_length(bufferevent_get_output(s->bev));

	if (s->closing) {
		if (q == 0 && !s->finishing)
			schedule_finish(s);
		return 0;
	}
	if (s->wm_low && q <= s->cfg.out_limit / 2)
		set_write_lowmark(s, 0);
	if (s->read_paused && q <= s->cfg.out_limit / 2) {
		s->read_paused = 0;
		bufferevent_enable(s->bev, EV_READ);
		return 1;
	}
	return 0;
}

static void
process_input(struct smpp_session *s)
{
	s->in_read = 1;
	for (;;) {
		read_batch(s);
		/* A TLS write may run our write callback from inside the
		 * flush; it only left a note, handled here. */
		if (!s->wcb_pending)
			break;
		s->wcb_pending = 0;
		if (!on_written(s))
			break;
	}
	s->in_read = 0;
	maybe_writable(s);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct smpp_session *s = arg;

	(void)bev;
	s->last_rx_ms = now_ms();
	if (s->in_read || s->closing)
		return;
	process_input(s);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct smpp_session *s = arg;

	(void)bev;
	if (s->in_read) {
		s->wcb_pending = 1;
		return;
	}
	if (on_written(s))
		process_input(s);
	else
		maybe_writable(s);
}

static void
set_peer_addr(struct smpp_session *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	const void *a;

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)&ss;

		a = &in4->sin_addr;
		port = ntohs(in4->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)&ss;

		a = &in6->sin6_addr;
		port = ntohs(in6->sin6_port);
	} else {
		return;
	}
	if (evutil_inet_ntop(ss.ss_family, a, ip, sizeof(ip)) == NULL)
		return;
	snprintf(s->peer_addr, sizeof(s->peer_addr),
	    ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct smpp_session *s = arg;
	int tls_errs;

	if (what & BEV_EVENT_CONNECTED) {
		s->direct_write = bufferevent_openssl_get_ssl(bev) == NULL;
		set_peer_addr(s);
		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "connected",
		    "peer=%s", s->peer_addr);
		return;
	}
	tls_errs = smpp_tls_log_errors(bev, s->name);
	if (what & BEV_EVENT_EOF) {
		s->io_dead = 1;
		if (s->closing) {
			if (!s->finishing)
				schedule_finish(s);
			return;
		}
		begin_close(s, tls_errs > 0 ? SMPP_CLOSE_TLS_ERROR :
		    SMPP_CLOSE_PEER_EOF, 0);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();

		s->io_dead = 1;
		if (tls_errs == 0)
			log_io_error(s, err);
		if (s->closing) {
			if (!s->finishing)
				schedule_finish(s);
			return;
		}
		begin_close(s, tls_errs > 0 || (bufferevent_openssl_get_ssl(bev)
		    != NULL && err == 0) ? SMPP_CLOSE_TLS_ERROR :
		    SMPP_CLOSE_IO_ERROR, 0);
	}
}

/* ---- public API ---- */

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

struct smpp_session *
smpp_session_new(struct event_base *base, struct bufferevent *bev,
    enum smpp_role role, const struct smpp_session_config *cfg,
    const struct smpp_session_ops *ops, void *arg, const char *name)
{
	struct smpp_session *s;
	size_t high;
	uint32_t n;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	s->base = base;
	s->bev = bev;
	s->role = role;
	s->state = SMPP_ST_OPEN;
	s->bound_state = SMPP_ST_OPEN;
	s->arg = arg;
	s->bind_status = 0xFFFFFFFFu;
	s->next_seq = 1;
	if (cfg != NULL)
		s->cfg = *cfg;
	else
		smpp_session_config_defaults(&s->cfg);
	if (ops != NULL)
		s->ops = *ops;
	/* Clamp what would break the machinery; everything else is the
	 * owner's choice. */
	if (s->cfg.window == 0)
		s->cfg.window = 1;
	if (s->cfg.window > 65536)
		s->cfg.window = 65536;
	if (s->cfg.in_window == 0)
		s->cfg.in_window = 1;
	if (s->cfg.limits.max_pdu < SMPP_HEADER_LEN)
		smpp_limits_default(&s->cfg.limits);
	if (s->cfg.response_timeout_ms == 0)
		s->cfg.response_timeout_ms = 30000;
	if (s->cfg.unbind_timeout_ms == 0)
		s->cfg.unbind_timeout_ms = 5000;
	if (s->cfg.out_limit < 4096)
		s->cfg.out_limit = 4096;
	snprintf(s->name, sizeof(s->name), "%s", name != NULL ? name : "-");
	snprintf(s->peer_addr, sizeof(s->peer_addr), "-");

	n = pow2_at_least(2 * (s->cfg.window + 4));
	s->mask = n - 1;
	s->slots = calloc(n, sizeof(*s->slots));
	s->rto_ev = evtimer_new(base, rto_cb, s);
	s->el_ev = event_new(base, -1, EV_PERSIST, el_cb, s);
	s->ia_ev = evtimer_new(base, ia_cb, s);
	s->st_ev = evtimer_new(base, st_cb, s);
	s->close_ev = event_new(base, -1, 0, close_cb, s);
	s->flush_ev = event_new(base, -1, 0, flush_cb, s);
	if (s->slots == NULL || s->rto_ev == NULL || s->el_ev == NULL ||
	    s->ia_ev == NULL || s->st_ev == NULL || s->close_ev == NULL ||
	    s->flush_ev == NULL) {
		if (s->rto_ev != NULL)
			event_free(s->rto_ev);
		if (s->el_ev != NULL)
			event_free(s->el_ev);
		if (s->ia_ev != NULL)
			event_free(s->ia_ev);
		if (s->st_ev != NULL)
			event_free(s->st_ev);
		if (s->close_ev != NULL)
			event_free(s->close_ev);
		if (s->flush_ev != NULL)
			event_free(s->flush_ev);
		free(s->slots);
		free(s);
		bufferevent_free(bev);
		return NULL;
	}
	s->last_rx_ms = now_ms();
	/* A client's socket is written directly only once it is connected:
	 * a send() before would take a refused connect's error from the
	 * bufferevent (event_cb turns it on). */
	s->direct_write = role == SMPP_ROLE_SERVER &&
	    bufferevent_openssl_get_ssl(bev) == NULL;
	set_peer_addr(s);

	/* The read high-watermark must hold a whole PDU, or reading stalls
	 * with a partial one buffered; above it the peer waits in TCP. */
	high = (size_t)s->cfg.limits.max_pdu + MAX_SINGLE_READ;
	bufferevent_setwatermark(bev, EV_READ, 0, high);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_set_max_single_read(bev, MAX_SINGLE_READ);
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);

	if (s->cfg.inactivity_ms != 0)
		timer_add_ms(s->ia_ev, s->cfg.inactivity_ms);
	if (role == SMPP_ROLE_SERVER && s->cfg.bind_timeout_ms != 0)
		timer_add_ms(s->st_ev, s->cfg.bind_timeout_ms);
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "session",
	    "role=%s peer=%s", role == SMPP_ROLE_SERVER ? "server" : "client",
	    s->peer_addr);
	return s;
}

static int
put_cstr(uint8_t *b, size_t *off, size_t cap, const char *str, size_t max)
{
	size_t n = str != NULL ? strnlen(str, max) : 0;

	if (n >= max || *off + n + 1 > cap)
		return -1;
	memcpy(b + *off, str != NULL ? str : "", n);
	b[*off + n] = '\0';
	*off += n + 1;
	return 0;
}

int
smpp_session_bind(struct smpp_session *s, uint32_t bind_command,
    const char *system_id, const char *password, const char *system_type,
    uint8_t addr_ton, uint8_t addr_npi, const char *address_range)
{
	uint8_t b[128];
	size_t off = SMPP_HEADER_LEN;
	struct slot *sl;
	char esc[80];
	int rc = 0;

	if (!is_bind(bind_command))
		return -SMPP_ERR_ARG;
	if (s->role != SMPP_ROLE_CLIENT || s->state != SMPP_ST_OPEN ||
	    s->closing)
		return -SMPP_ERR_STATE;
	if (put_cstr(b, &off, sizeof(b), system_id, SMPP_SYSTEM_ID_MAX) != 0 ||
	    put_cstr(b, &off, sizeof(b), password, SMPP_PASSWORD_MAX) != 0 ||
	    put_cstr(b, &off, sizeof(b), system_type, SMPP_SYSTEM_TYPE_MAX)
	    != 0) {
		rc = -SMPP_ERR_ARG;
		goto out;
	}
	b[off++] = SMPP_VERSION_34;
	b[off++] = addr_ton;
	b[off++] = addr_npi;
	if (put_cstr(b, &off, sizeof(b), address_range,
	    SMPP_ADDRESS_RANGE_MAX) != 0) {
		rc = -SMPP_ERR_ARG;
		goto out;
	}
	sl = slot_alloc(s, SLOT_BIND, bind_command, NULL);
	smpp_put32(b, (uint32_t)off);
	smpp_put32(b + 4, bind_command);
	smpp_put32(b + 8, 0);
	smpp_put32(b + 12, sl->seq);
	if (out_append(s, b, off) != 0) {
		slot_release(s, sl);
		rc = -SMPP_ERR_NOMEM;
		goto out;
	}
	s->bind_cmd = bind_command;
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "bind_sent",
	    "cmd=%s system_id=%s", smpp_command_name(bind_command),
	    smpp_log_escape(system_id, system_id != NULL ? strlen(system_id) :
	    0, esc, sizeof(esc)));
	enter_state(s, SMPP_ST_BINDING);
	if (s->cfg.bind_timeout_ms != 0 && !s->closing)
		timer_add_ms(s->st_ev, s->cfg.bind_timeout_ms);
out:
	OPENSSL_cleanse(b, sizeof(b));	/* it held the password */
	return rc;
}

int
smpp_session_bind_reply(struct smpp_session *s, uint32_t status,
    const char *system_id)
{
	uint8_t b[SMPP_BUILD_MAX + 1];
	uint8_t version;
	size_t n;

	if (s->role != SMPP_ROLE_SERVER || s->state != SMPP_ST_BINDING ||
	    s->closing)
		return -SMPP_ERR_STATE;
	/* sc_interface_version only for peers that speak 3.4 or later. */
	version = s->peer_version >= SMPP_VERSION_34 ? SMPP_VERSION_34 : 0;
	n = build_resp(b, sizeof(b), s->bind_cmd, status, s->bind_seq,
	    system_id, version);
	if (n == 0)
		return -SMPP_ERR_ARG;
	if (out_append(s, b, n) != 0)
		return -SMPP_ERR_NOMEM;
	if (status == SMPP_ROK) {
		char esc[80];

		smpp_log(SMPP_LOG_INFO, s->name, "smpp", "bound",
		    "cmd=%s peer_system_id=%s", smpp_command_name(s->bind_cmd),
		    smpp_log_escape(s->peer_sysid, strlen(s->peer_sysid), esc,
		    sizeof(esc)));
		start_bound(s, bound_state_for(s->bind_cmd));
		return 0;
	}
	s->bind_status = status;
	smpp_log(SMPP_LOG_INFO, s->name, "smpp", "bind_refused",
	    "cmd=%s status=%s(0x%x)", smpp_command_name(s->bind_cmd),
	    smpp_status_name(status), status);
	begin_close(s, SMPP_CLOSE_BIND_FAILED, 1);
	return 0;
}

/* Replies are taken in any state in which the peer's requests reach the
 * owner; a closing session has nobody to answer. */
static int
reply_check(struct smpp_session *s, struct smpp_req_ref ref)
{
	if (s->closing)
		return -SMPP_ERR_STATE;
	if (smpp_is_resp(ref.command_id) || is_bind(ref.command_id) ||
	    !has_response(ref.command_id))
		return -SMPP_ERR_ARG;
	return 0;
}

static void
reply_done(struct smpp_session *s)
{
	if (s->in_pending > 0)
		s->in_pending--;
}

int
smpp_session_reply(struct smpp_session *s, struct smpp_req_ref ref,
    uint32_t status, const char *message_id)
{
	uint8_t b[SMPP_BUILD_MAX + 1];
	size_t n;
	int rc;

	if ((rc = reply_check(s, ref)) != 0)
		return rc;
	n = build_resp(b, sizeof(b), ref.command_id, status, ref.seq,
	    message_id, 0);
	if (n == 0)
		return -SMPP_ERR_ARG;
	if (out_append(s, b, n) != 0)
		return -SMPP_ERR_NOMEM;
	reply_done(s);
	return 0;
}

int
smpp_session_reply_body(struct smpp_session *s, struct smpp_req_ref ref,
    uint32_t status, const uint8_t *body, size_t body_len)
{
	uint8_t h[SMPP_HEADER_LEN];
	int rc;

	if ((rc = reply_check(s, ref)) != 0)
		return rc;
	if (body_len > s->cfg.limits.max_pdu - SMPP_HEADER_LEN ||
	    (body_len > 0 && body == NULL))
		return -SMPP_ERR_ARG;
	smpp_build_header(h, sizeof(h), ref.command_id | SMPP_RESP_BIT, status,
	    ref.seq);
	smpp_put32(h, (uint32_t)(SMPP_HEADER_LEN + body_len));
	/* Both parts in one batch, or both straight to the buffer. */
	if (s->batching && s->batch_len + sizeof(h) + body_len >
	    sizeof(s->batch))
		batch_flush(s);
	if (out_append(s, h, sizeof(h)) != 0 ||
	    (body_len > 0 && out_append(s, body, body_len) != 0))
		return -SMPP_ERR_NOMEM;
	if (body_len > 0)
		s->tx_pdus--;	/* two appends, one PDU */
	reply_done(s);
	return 0;
}

/* Common checks of send and send_raw; 0 when a request may go now. */
static int
send_check(struct smpp_session *s, uint32_t id)
{
	if (smpp_is_resp(id) || is_bind(id) || id == SMPP_UNBIND ||
	    id == SMPP_OUTBIND)
		return -SMPP_ERR_ARG;
	if (!we_may_send(s, id))
		return -SMPP_ERR_STATE;
	if (window_room(s) == 0) {
		s->want_writable = 1;
		return -SMPP_ERR_WINDOW;
	}
	if (out_queued(s) > s->cfg.out_limit) {
		s->want_writable = 1;
		if (!s->wm_low)
			set_write_lowmark(s, s->cfg.out_limit / 2);
		return -SMPP_ERR_BUSY;
	}
	return 0;
}

int
smpp_session_send(struct smpp_session *s, const struct smpp_pdu *pdu,
    void *ctx)
{
	struct slot *sl;
	size_t max, len = 0;
	int rc;

	if (pdu == NULL)
		return -SMPP_ERR_ARG;
	if ((rc = send_check(s, pdu->command_id)) != 0)
		return rc;
	max = smpp_pdu_encoded_max(pdu) + 1;	/* libsmpp34 wants a spare */
	if (max > s->enc_cap) {
		uint8_t *nb = realloc(s->enc, max);

		if (nb == NULL)
			return -SMPP_ERR_NOMEM;
		s->enc = nb;
		s->enc_cap = max;
	}
	if (smpp_pdu_encode(pdu, s->enc, s->enc_cap, &len) != 0 ||
	    len < SMPP_HEADER_LEN || len > s->cfg.limits.max_pdu)
		return -SMPP_ERR_ENCODE;
	sl = slot_alloc(s, SLOT_USER, pdu->command_id, ctx);
	smpp_set_seq(s->enc, sl->seq);
	if (out_append(s, s->enc, len) != 0) {
		slot_release(s, sl);
		return -SMPP_ERR_NOMEM;
	}
	return 0;
}

int
smpp_session_send_raw(struct smpp_session *s, const uint8_t *raw,
    size_t len, void *ctx)
{
	uint8_t h[SMPP_HEADER_LEN];
	struct slot *sl;
	uint32_t id;
	int rc;

	if (raw == NULL || len < SMPP_HEADER_LEN || len != get32(raw) ||
	    len > s->cfg.limits.max_pdu)
		return -SMPP_ERR_ARG;
	id = get32(raw + 4);
	if ((rc = send_check(s, id)) != 0)
		return rc;
	memcpy(h, raw, sizeof(h));
	sl = slot_alloc(s, SLOT_USER, id, ctx);
	smpp_set_seq(h, sl->seq);
	if (s->batching && s->batch_len + len > sizeof(s->batch))
		batch_flush(s);
	if (out_append(s, h, sizeof(h)) != 0 ||
	    out_append(s, raw + SMPP_HEADER_LEN, len - SMPP_HEADER_LEN) != 0) {
		/* Nothing sensible can follow half a PDU. */
		slot_release(s, sl);
		begin_close(s, SMPP_CLOSE_IO_ERROR, 0);
		return -SMPP_ERR_NOMEM;
	}
	s->tx_pdus--;
	return 0;
}

int
smpp_session_unbind(struct smpp_session *s)
{
	if (s->closing || !is_bound(s->state))
		return -SMPP_ERR_STATE;
	s->bound_state = s->state;
	event_del(s->el_ev);
	enter_state(s, SMPP_ST_UNBINDING);
	if (s->closing)
		return 0;
	if (s->n_user > 0) {
		/* Outstanding requests end first (answered or timed out). */
		s->unbind_pending = 1;
		return 0;
	}
	send_unbind(s);
	return 0;
}

void
smpp_session_close(struct smpp_session *s)
{
	begin_close(s, SMPP_CLOSE_LOCAL, 1);
}

enum smpp_state
smpp_session_state(const struct smpp_session *s)
{
	return s->state;
}

enum smpp_role
smpp_session_role(const struct smpp_session *s)
{
	return s->role;
}

uint8_t
smpp_session_peer_version(const struct smpp_session *s)
{
	return s->peer_version;
}

const char *
smpp_session_name(const struct smpp_session *s)
{
	return s->name;
}

int
smpp_session_can_send(const struct smpp_session *s, uint32_t command_id)
{
	return we_may_send(s, command_id);
}

uint32_t
smpp_session_window_room(const struct smpp_session *s)
{
	return window_room(s);
}

uint32_t
smpp_session_bind_status(const struct smpp_session *s)
{
	return s->bind_status;
}

const char *
smpp_session_peer_system_id(const struct smpp_session *s)
{
	return is_bound(s->state) || s->state == SMPP_ST_UNBINDING ||
	    s->state == SMPP_ST_UNBOUND ? s->peer_sysid : "";
}

const char *
smpp_session_peer_addr(const struct smpp_session *s)
{
	return s->peer_addr;
}

void
smpp_session_set_silent_enquire_link(struct smpp_session *s, int silent)
{
	s->silent_enquire = silent != 0;
}

void
smpp_session_set_next_seq(struct smpp_session *s, uint32_t seq)
{
	if (seq >= 1 && seq <= SMPP_SEQ_MAX)
		s->next_seq = seq;
}

void
smpp_session_set_arg(struct smpp_session *s, void *arg)
{
	s->arg = arg;
}

void
smpp_session_stats(const struct smpp_session *s,
    struct smpp_session_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->rx_pdus = s->rx_pdus;
	st->tx_pdus = s->tx_pdus;
	st->out_queued = out_queued(s);
	st->in_queued = evbuffer_get_length(bufferevent_get_input(s->bev));
	st->outstanding = s->n_user;
	st->in_pending = s->in_pending;
	st->read_paused = s->read_paused;
}
