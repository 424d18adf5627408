/*
 * A listening SMPP endpoint: accepts TCP connections on host:port, plain
 * or TLS, sets TCP_NODELAY and hands each new bufferevent (not yet wrapped
 * in a session) to the owner, which normally makes a server session of it
 * with smpp_session_new().
 */
#ifndef SMPP_LISTENER_H
#define SMPP_LISTENER_H

#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct bufferevent;
struct sockaddr;
struct smpp_listener;

/* A new connection. The owner takes bev (BEV_OPT_CLOSE_ON_FREE; for TLS
 * the handshake runs once the bev is enabled). peer is "ip:port". */
typedef void (*smpp_accept_fn)(struct smpp_listener *l,
    struct bufferevent *bev, const char *peer, void *arg);

/*
 * Listens on host (numeric IPv4/IPv6, or NULL for 127.0.0.1) and port
 * (0 picks a free one; see smpp_listener_port). tls NULL means plain TCP;
 * otherwise the listener holds a reference to the context until freed.
 * Returns NULL (and logs why) on failure.
 */
struct smpp_listener *smpp_listener_new(struct event_base *base,
    const char *host, uint16_t port, SSL_CTX *tls, smpp_accept_fn fn,
    void *arg, const char *name);

/* The bound port (useful after port 0). */
uint16_t smpp_listener_port(const struct smpp_listener *l);

/* Stops listening; connections already handed out are unaffected. */
void smpp_listener_free(struct smpp_listener *l);

#endif
