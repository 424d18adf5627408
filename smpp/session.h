/*
 * One SMPP session over a libevent bufferevent (plain TCP or TLS), in
 * either role: server (the peer binds to us; the owner decides the bind
 * status) or client (we bind out). The session frames PDUs, scans them
 * (smpp/scan.h), enforces the SMPP 3.4 state rules, numbers and windows
 * our requests, matches responses, keeps the link alive with enquire_link
 * and applies backpressure when the peer does not read.
 *
 * Lifetime: smpp_session_new() takes the bufferevent. The session lives
 * until its ops->closed callback has returned; then it frees itself (and
 * the bufferevent). The owner must not use the pointer after that.
 * Every request we sent is reported exactly once through ops->response:
 * with its response, on timeout, or as aborted when the session closes.
 *
 * Return convention: functions that can fail return 0 or a negative
 * enum smpp_err value.
 */
#ifndef SMPP_SESSION_H
#define SMPP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"

struct event_base;
struct bufferevent;
struct smpp_session;
struct smpp_pdu;

enum smpp_role {
	SMPP_ROLE_SERVER,	/* we are the SMSC side: the peer binds */
	SMPP_ROLE_CLIENT,	/* we are the ESME side: we bind */
};

enum smpp_state {
	SMPP_ST_OPEN,		/* connected, not bound */
	SMPP_ST_BINDING,	/* client: bind sent; server: bind being decided */
	SMPP_ST_BOUND_TX,
	SMPP_ST_BOUND_RX,
	SMPP_ST_BOUND_TRX,
	SMPP_ST_UNBINDING,	/* unbind sent, waiting for unbind_resp */
	SMPP_ST_UNBOUND,	/* unbind done; closing once output drains */
	SMPP_ST_CLOSED,
};

enum smpp_close_reason {
	SMPP_CLOSE_LOCAL,	/* smpp_session_close() */
	SMPP_CLOSE_UNBOUND,	/* orderly unbind, either side */
	SMPP_CLOSE_PEER_EOF,	/* peer closed the connection */
	SMPP_CLOSE_IO_ERROR,
	SMPP_CLOSE_TLS_ERROR,
	SMPP_CLOSE_BAD_FRAME,	/* invalid command_length: nacked, closed */
	SMPP_CLOSE_INACTIVITY,	/* nothing received for inactivity_ms */
	SMPP_CLOSE_LINK_TIMEOUT, /* enquire_link or unbind not answered */
	SMPP_CLOSE_BIND_FAILED,	/* client: bind refused or not answered */
	SMPP_CLOSE_BIND_TIMEOUT, /* server: no bind within bind_timeout_ms */
};

enum smpp_err {
	SMPP_OK		= 0,
	SMPP_ERR_STATE	= 1,	/* not allowed in the current state */
	SMPP_ERR_WINDOW	= 2,	/* window full: wait for ops->writable */
	SMPP_ERR_BUSY	= 3,	/* output queue over out_limit: wait */
	SMPP_ERR_ENCODE	= 4,	/* the PDU could not be encoded */
	SMPP_ERR_NOMEM	= 5,
	SMPP_ERR_ARG	= 6,
};

/* How a request of ours ended. */
enum smpp_outcome {
	SMPP_OUT_RESP,		/* resp is the peer's response */
	SMPP_OUT_TIMEOUT,	/* no response within response_timeout_ms */
	SMPP_OUT_ABORTED,	/* the session closed first */
};

struct smpp_session_config {
	uint32_t	window;		/* our outstanding requests (64) */
	uint32_t	in_window;	/* peer's unanswered requests; beyond:
					 * ESME_RMSGQFUL (256) */
	uint32_t	response_timeout_ms;	/* 30000 */
	uint32_t	enquire_link_ms;	/* 30000; 0 = never */
	uint32_t	inactivity_ms;		/* 120000; 0 = never */
	uint32_t	bind_timeout_ms;	/* 10000 */
	uint32_t	unbind_timeout_ms;	/* 5000 */
	size_t		out_limit;	/* bytes queued to the peer before we
					 * stop reading from it (1 MiB) */
	struct smpp_limits limits;	/* max PDU, max TLVs */
};

void smpp_session_config_defaults(struct smpp_session_config *cfg);

/* What the peer asked for, enough to answer it later. */
struct smpp_req_ref {
	uint32_t	command_id;
	uint32_t	seq;
};

/*
 * Callbacks; any may be NULL except where noted. The scan views passed in
 * borrow the input buffer: valid only during the call.
 */
struct smpp_session_ops {
	/* server: a bind_* arrived in OPEN state; the owner answers it, now
	 * or later, with smpp_session_bind_reply(). Required for servers. */
	void (*bind)(struct smpp_session *, const struct smpp_scan *req,
	    void *arg);
	/* a request from the peer that the session does not answer itself
	 * (submit_sm, deliver_sm, data_sm, query_sm, cancel_sm, replace_sm,
	 * submit_multi, alert_notification, outbind); the owner answers with
	 * smpp_session_reply*() unless the command has no response. */
	void (*request)(struct smpp_session *, const struct smpp_scan *req,
	    void *arg);
	/* one of our requests ended; resp is NULL unless SMPP_OUT_RESP.
	 * ctx is the pointer given to smpp_session_send*(). */
	void (*response)(struct smpp_session *, enum smpp_outcome,
	    const struct smpp_scan *resp, void *ctx, void *arg);
	/* every state change, including bind results on the client side */
	void (*state)(struct smpp_session *, enum smpp_state from,
	    enum smpp_state to, void *arg);
	/* window room or output room is back after SMPP_ERR_WINDOW/BUSY */
	void (*writable)(struct smpp_session *, void *arg);
	/* the session is closing; it is freed when this returns */
	void (*closed)(struct smpp_session *, enum smpp_close_reason,
	    void *arg);
};

/*
 * Takes ownership of bev (connected, or connecting for clients). name
 * labels log lines (copied). Returns NULL on allocation failure (bev is
 * freed then too).
 */
struct smpp_session *smpp_session_new(struct event_base *base,
    struct bufferevent *bev, enum smpp_role role,
    const struct smpp_session_config *cfg,
    const struct smpp_session_ops *ops, void *arg, const char *name);

/* client: sends bind_transmitter/receiver/transceiver (command id) once
 * connected; the result arrives as a state change (BOUND_* or closed with
 * SMPP_CLOSE_BIND_FAILED; smpp_session_bind_status() tells the status). */
int smpp_session_bind(struct smpp_session *s, uint32_t bind_command,
    const char *system_id, const char *password, const char *system_type,
    uint8_t addr_ton, uint8_t addr_npi, const char *address_range);

/* server: answers the pending bind. ESME_ROK binds the session in the
 * state that matches the request; any other status refuses it, and the
 * session closes once the response is written. system_id is ours. */
int smpp_session_bind_reply(struct smpp_session *s, uint32_t status,
    const char *system_id);

/* Answers a peer request: with a message_id body (submit_sm_resp,
 * deliver_sm_resp, data_sm_resp, submit_multi_resp with no unsuccess
 * list; NULL = empty) or header-only for the other commands. */
int smpp_session_reply(struct smpp_session *s, struct smpp_req_ref ref,
    uint32_t status, const char *message_id);

/* Answers a peer request with an arbitrary body (bytes after the header,
 * e.g. query_sm_resp or data_sm_resp with TLVs). */
int smpp_session_reply_body(struct smpp_session *s, struct smpp_req_ref ref,
    uint32_t status, const uint8_t *body, size_t body_len);

/* Sends a request: encodes pdu (its sequence_number is ignored and a new
 * one assigned). ctx comes back in ops->response. */
int smpp_session_send(struct smpp_session *s, const struct smpp_pdu *pdu,
    void *ctx);

/* Sends a request given as raw PDU bytes (already valid; e.g. scanned from
 * another session): copied with only the sequence number rewritten. */
int smpp_session_send_raw(struct smpp_session *s, const uint8_t *raw,
    size_t len, void *ctx);

/* Starts an orderly unbind; the session closes with SMPP_CLOSE_UNBOUND
 * when unbind_resp arrives (or LINK_TIMEOUT after unbind_timeout_ms).
 * Requests still outstanding are answered or timed out first. */
int smpp_session_unbind(struct smpp_session *s);

/* Closes now (queued output is flushed best-effort). ops->closed runs from
 * the event loop, not from inside this call. */
void smpp_session_close(struct smpp_session *s);

enum smpp_state smpp_session_state(const struct smpp_session *s);
enum smpp_role smpp_session_role(const struct smpp_session *s);
/* Server role: the interface_version the peer bound with (below
 * SMPP_VERSION_34: a 3.3 peer). 0 before a bind, and in the client role. */
uint8_t smpp_session_peer_version(const struct smpp_session *s);
const char *smpp_session_name(const struct smpp_session *s);
/* 1 if the state allows us to send this request command id. */
int smpp_session_can_send(const struct smpp_session *s, uint32_t command_id);
/* How many more requests the window takes now. */
uint32_t smpp_session_window_room(const struct smpp_session *s);
/* client: the status of the bind_resp (or 0xFFFFFFFF if none came). */
uint32_t smpp_session_bind_status(const struct smpp_session *s);
/* The peer's system_id once bound (server: from the bind; client: from
 * the bind_resp), "" before. */
const char *smpp_session_peer_system_id(const struct smpp_session *s);
/* The peer's address "ip:port" (or "-" if unknown). */
const char *smpp_session_peer_addr(const struct smpp_session *s);
void smpp_session_set_arg(struct smpp_session *s, void *arg);
/* The sequence number our next request takes (1..0x7FFFFFFF; others are
 * ignored). Numbers wrap from 0x7FFFFFFF to 1; tests use this to reach
 * the wrap without sending two billion requests. */
void smpp_session_set_next_seq(struct smpp_session *s, uint32_t seq);
/* Fault injection for simulators: 1 stops answering the peer's
 * enquire_link (everything else keeps working), 0 answers again. */
void smpp_session_set_silent_enquire_link(struct smpp_session *s, int silent);

const char *smpp_state_name(enum smpp_state st);
const char *smpp_close_reason_name(enum smpp_close_reason r);

/* Counters for metrics and tests; a snapshot. */
struct smpp_session_stats {
	uint64_t	rx_pdus;	/* PDUs framed from the peer */
	uint64_t	tx_pdus;	/* PDUs queued to the peer */
	size_t		out_queued;	/* bytes not yet written to the peer */
	size_t		in_queued;	/* bytes read but not yet framed */
	uint32_t	outstanding;	/* our requests awaiting a response */
	uint32_t	in_pending;	/* peer requests the owner still owes */
	int		read_paused;	/* 1 while backpressure stops reading */
};
void smpp_session_stats(const struct smpp_session *s,
    struct smpp_session_stats *st);

/*
 * Clarifications of the rules above:
 * - A response that fails smpp_scan() is answered with generic_nack and
 *   its request is left to time out (we cannot say what it answered).
 * - Peer requests that arrive while we are UNBINDING still reach the
 *   owner (checked against the state we were bound in).
 * - The bufferevent should have BEV_OPT_CLOSE_ON_FREE; TLS ones get
 *   SSL_shutdown (close_notify) on orderly closes before the free.
 */

#endif
