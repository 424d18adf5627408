/*
 * What smpp-bench's send and load commands share: opening a bound client
 * session (plain TCP or TLS, no reconnecting: a bench run that loses its
 * peer reports it), and reading a deliver_sm as a receipt.
 */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "smpp/dlr.h"
#include "smpp/scan.h"
#include "smpp/session.h"

struct event_base;

struct bench_target {
	const char		*host;
	uint16_t		 port;
	SSL_CTX			*tls;		/* NULL: plain TCP */
	const char		*tls_host;	/* name to check; NULL: host */
	const char		*system_id;
	const char		*password;	/* never logged */
	const char		*system_type;
	struct smpp_session_config cfg;
};

/*
 * Connects and sends the bind (bind_cmd: SMPP_BIND_*); the outcome comes
 * through ops (state BOUND_* or closed). Returns the session, or NULL
 * with the reason in err (bad address, bad credentials length, no
 * memory); if the session was made before the failure, its ops->closed
 * still follows from the loop.
 */
struct smpp_session *bench_connect(struct event_base *base,
    const struct bench_target *t, uint32_t bind_cmd,
    const struct smpp_session_ops *ops, void *arg, const char *name,
    char *err, size_t errlen);

/* A clear sentence for why a session closed, e.g. "bind refused:
 * ESME_RINVPASWD" or "the peer closed the connection". */
void bench_close_text(struct smpp_session *s, enum smpp_close_reason why,
    char *out, size_t cap);

/* What a deliver_sm says as a receipt. */
struct bench_rcpt {
	int			 is_receipt;	/* esm_class 0x04 or 0x20 */
	int			 intermediate;	/* not a final state */
	char			 id[SMPP_DLR_ID_MAX + 1];
	size_t			 id_len;	/* 0: no usable id */
	enum smpp_dlr_stat	 stat;
	char			 err[17];	/* "" unless the text has err: */
};

/* Reads req (a deliver_sm). The id comes from receipted_message_id if
 * present, else the text's id:; the stat from message_state if present
 * (the text is then parsed only when full is set), else the text. */
void bench_rcpt_read(const struct smpp_scan *req, int full,
    struct bench_rcpt *r);

#endif
