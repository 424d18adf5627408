/*
 * TLS for SMPP sessions: SSL_CTX set-up for both roles and bufferevents
 * over OpenSSL (bufferevent_openssl). TLS 1.2 is the minimum. Every
 * context sets SSL_OP_IGNORE_UNEXPECTED_EOF, so a peer that closes
 * without close_notify is an ordinary EOF (SMPP carries its own lengths).
 *
 * Return convention: constructors return NULL on failure and write the
 * reason (OpenSSL's error text included) into err.
 */
#ifndef SMPP_TLS_H
#define SMPP_TLS_H

#include <stddef.h>

#include <event2/util.h>
#include <openssl/ssl.h>

struct event_base;
struct bufferevent;

/* Server context from a PEM certificate chain (leaf first, intermediates
 * after) and a PEM private key. The caller owns it (SSL_CTX_free); the
 * bufferevents made from it hold their own references. */
SSL_CTX *smpp_tls_server_ctx(const char *chain_file, const char *key_file,
    char *err, size_t errlen);

/* Client context verifying the server against ca_file (NULL: the system
 * default store), optionally presenting cert_file/key_file (both or NULL). */
SSL_CTX *smpp_tls_client_ctx(const char *ca_file, const char *cert_file,
    const char *key_file, char *err, size_t errlen);

/* A server-side bufferevent for an accepted fd (handshake as acceptor);
 * BEV_OPT_CLOSE_ON_FREE: freeing it frees the SSL and closes fd. */
struct bufferevent *smpp_tls_accept_bev(struct event_base *base,
    SSL_CTX *ctx, evutil_socket_t fd);

/* A client-side bufferevent with no fd yet (connect it with
 * bufferevent_socket_connect*); host is sent as SNI and the server's
 * certificate must match it (SSL_set1_host). CLOSE_ON_FREE as above. */
struct bufferevent *smpp_tls_connect_bev(struct event_base *base,
    SSL_CTX *ctx, const char *host);

/* Logs and clears the OpenSSL errors queued on bev (a no-op for plain
 * bufferevents) with id as the log line id; returns how many. */
int smpp_tls_log_errors(struct bufferevent *bev, const char *id);

/* Sends close_notify on a TLS bufferevent (no-op for plain ones). Call
 * after the output has drained, right before bufferevent_free(). */
void smpp_tls_close_notify(struct bufferevent *bev);

#endif
