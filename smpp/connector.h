/*
 * A client SMPP link that keeps itself up: connects (plain or TLS with a
 * host name check), makes a client session, binds, and after any close
 * reconnects with exponential backoff and full jitter, then binds again.
 * Session events are forwarded to the owner's ops with the owner's arg;
 * the session pointer they carry is valid only until its ops->closed.
 */
#ifndef SMPP_CONNECTOR_H
#define SMPP_CONNECTOR_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "session.h"

struct event_base;
struct smpp_connector;

struct smpp_connector_config {
	const char	*name;		/* log id */
	const char	*host;		/* name or numeric address */
	uint16_t	 port;
	SSL_CTX		*tls;		/* NULL: plain TCP; else a reference
					 * is held until the connector ends */
	const char	*tls_host;	/* certificate name to check (NULL:
					 * host) */
	uint32_t	 bind_command;	/* SMPP_BIND_TRANSCEIVER, ... */
	const char	*system_id;
	const char	*password;
	const char	*system_type;
	uint8_t		 addr_ton;
	uint8_t		 addr_npi;
	const char	*address_range;
	uint32_t	 backoff_min_ms;	/* first retry delay floor (500) */
	uint32_t	 backoff_max_ms;	/* ceiling (60000) */
	struct smpp_session_config session;
};

/* Defaults: 127.0.0.1, transceiver, backoff 500..60000 ms, session
 * defaults. Strings NULL. */
void smpp_connector_config_defaults(struct smpp_connector_config *cfg);

/*
 * Starts connecting at once. All strings in cfg are copied (the password
 * is wiped on free). ops/arg as for smpp_session_new (ops->bind unused).
 * Returns NULL on bad config or allocation failure.
 */
struct smpp_connector *smpp_connector_new(struct event_base *base,
    const struct smpp_connector_config *cfg,
    const struct smpp_session_ops *ops, void *arg);

/* The current session if it is bound, else NULL. */
struct smpp_session *smpp_connector_session(const struct smpp_connector *c);

/* Connection attempts made so far (for tests and metrics). */
uint32_t smpp_connector_attempts(const struct smpp_connector *c);

/*
 * Stops reconnecting and ends the link: a bound session is unbound
 * (orderly), any other is closed. The owner's ops keep being called for
 * that last session until its ops->closed, which is the final callback;
 * the connector frees itself after it. With no session it is freed at
 * once and no callback follows. The pointer is invalid after this call.
 */
void smpp_connector_free(struct smpp_connector *c);

#endif
