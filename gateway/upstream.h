/*
 * Upstream: ESMEs bind to us. Listeners (plain and TLS) accept
 * connections; each becomes a server session and a gw_esme, whose bind is
 * decided here (gateway/auth.h policy, password checked off the loop by
 * gateway/verify.h) and whose submits go to gateway/proxy.
 *
 * Bind refusals, each logged with the peer address (never the password):
 *   address locked out            ESME_RBINDFAIL, after failure_delay
 *   unknown system_id             ESME_RINVSYSID, after failure_delay
 *   wrong password                ESME_RINVPASWD, after failure_delay
 *   address outside the account's networks, bind type not allowed, too
 *   many binds, verifier busy     ESME_RBINDFAIL (at once)
 * RBINDFAIL for the network check because the credentials may well be
 * right: it is the bind from here that is refused (SMPP 3.4 5.1.3 "Bind
 * Failed"), and the check comes before the password so a foreign network
 * costs us no PBKDF2. Only unknown id and wrong password count towards
 * the lockout of the source address.
 *
 * Lifetime: a gw_esme is refcounted: the session holds one reference
 * until ops->closed, and every piece of work in flight for it (a verify,
 * a delayed refusal, a submit sent down, a receipt sent up) holds one.
 * esme->sess is NULL once the session closed: replies are then dropped.
 *
 * Return convention: 0 / -1 (logged).
 */
#ifndef GW_UPSTREAM_H
#define GW_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/ctx.h"
#include "smpp/session.h"

enum gw_esme_state {
	GW_ESME_OPEN,		/* connected, no bind yet */
	GW_ESME_AUTH,		/* bind being decided */
	GW_ESME_BOUND,
	GW_ESME_CLOSED,
};

struct gw_esme {
	struct gw_ctx		*ctx;
	struct smpp_session	*sess;		/* NULL once closed */
	enum gw_esme_state	 state;
	unsigned		 refs;
	uint64_t		 serial;	/* unique per process */
	char			 id[48];	/* log id: session name */
	char			 peer_ip[64];
	struct gw_gen		*gen;		/* held while bound */
	const struct gw_account	*account;	/* inside gen->cfg */
	struct gw_acct		*acct;		/* runtime state */
	unsigned		 bind_bits;	/* GW_BIND_* */
	uint32_t		 owed;		/* submits not yet answered:
						 * the account window */
	uint64_t		 out_bytes;	/* bytes of replies and
						 * deliveries queued to the
						 * session, a lower bound (see
						 * gw_esme_written) */
	struct smpp_scan_copy {
		uint32_t	command_id;
		char		system_id[GW_SYSTEM_ID_SIZE];
		char		password[GW_PASSWORD_SIZE];
	}			 bind;		/* wiped after the decision */
	struct event		*delay;		/* delayed refusal */
	uint32_t		 delay_status;
	struct gw_esme		*next_all, *prev_all;	/* ctx->all_esmes */
	struct gw_esme		*next_acct, *prev_acct;	/* acct->esmes */
};

int gw_upstream_start(struct gw_ctx *ctx);
/* Stops listening (SIGTERM). */
void gw_upstream_stop_listening(struct gw_ctx *ctx);
/* Unbinds every ESME session (SIGTERM, after in-flight work drained). */
void gw_upstream_unbind_all(struct gw_ctx *ctx);

struct gw_esme *gw_esme_hold(struct gw_esme *e);
void gw_esme_release(struct gw_esme *e);
/* Answers a request of the ESME if its session is still there. */
void gw_esme_reply(struct gw_esme *e, struct smpp_req_ref ref,
    uint32_t status, const char *message_id);
/* Whether e is bound and can receive deliver_sm (RX or TRX). */
bool gw_esme_receiver(const struct gw_esme *e);
/* Sends a PDU (raw, ctx as smpp_session_send_raw) and counts its bytes
 * in out_bytes; 0 or the session's error. To an ESME bound as SMPP 3.3 a
 * deliver_sm or data_sm goes in its 3.3 form (smpp/legacy.h). */
int gw_esme_send_raw(struct gw_esme *e, const uint8_t *raw, size_t len,
    void *ctx);
/*
 * Whether everything up to out_bytes == mark has been written to the
 * socket: out_bytes minus what the session still holds. out_bytes counts
 * only what went through gw_esme_reply and gw_esme_send_raw (the session's
 * own answers, e.g. enquire_link_resp, are not in it), so this can say
 * "not yet" too long, never "written" too early. A closed session: true.
 */
bool gw_esme_written(const struct gw_esme *e, uint64_t mark);

#endif
