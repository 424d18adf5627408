/*
 * TLS contexts and bufferevents for SMPP (see tls.h). The settings that
 * matter were measured (shared field guide, section 3): hostname checks
 * need SSL_set1_host, and with OpenSSL 3 only SSL_OP_IGNORE_UNEXPECTED_EOF
 * turns a peer's missing close_notify into a plain EOF.
 */
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

/* "what: first OpenSSL error" into err; clears the queue. */
static void
set_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "no OpenSSL error");
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, buf);
	ERR_clear_error();
}

static SSL_CTX *
ctx_common(const SSL_METHOD *m, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(m);

	if (ctx == NULL) {
		set_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		set_err(err, errlen, "min protocol");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION);
	/* bufferevent_openssl may retry a write with a moved buffer. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	return ctx;
}

static int
load_pair(SSL_CTX *ctx, const char *chain, const char *key, char *err,
    size_t errlen)
{
	char what[300];

	if (SSL_CTX_use_certificate_chain_file(ctx, chain) != 1) {
		snprintf(what, sizeof(what), "certificate %s", chain);
		set_err(err, errlen, what);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(what, sizeof(what), "private key %s", key);
		set_err(err, errlen, what);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		set_err(err, errlen, "key does not match certificate");
		return -1;
	}
	return 0;
}

SSL_CTX *
smpp_tls_server_ctx(const char *chain_file, const char *key_file,
    char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (chain_file == NULL || key_file == NULL) {
		snprintf(err, errlen, "certificate and key files are required");
		return NULL;
	}
	if ((ctx = ctx_common(TLS_server_method(), err, errlen)) == NULL)
		return NULL;
	if (load_pair(ctx, chain_file, key_file, err, errlen) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *
smpp_tls_client_ctx(const char *ca_file, const char *cert_file,
    const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int rc;

	if ((cert_file == NULL) != (key_file == NULL)) {
		snprintf(err, errlen, "client certificate needs both files");
		return NULL;
	}
	if ((ctx = ctx_common(TLS_client_method(), err, errlen)) == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL)
		rc = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		rc = SSL_CTX_set_default_verify_paths(ctx);
	if (rc != 1) {
		set_err(err, errlen, ca_file != NULL ? ca_file :
		    "default verify paths");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (cert_file != NULL &&
	    load_pair(ctx, cert_file, key_file, err, errlen) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct bufferevent *
smpp_tls_accept_bev(struct event_base *base, SSL_CTX *ctx,
    evutil_socket_t fd)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

struct bufferevent *
smpp_tls_connect_bev(struct event_base *base, SSL_CTX *ctx, const char *host)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	if (host != NULL && host[0] != '\0') {
		/* SNI and the name check are separate settings; without
		 * set1_host any certificate from a trusted CA would pass.
		 * A numeric host is checked as an IP address instead. */
		if (SSL_set1_host(ssl, host) != 1) {
			SSL_free(ssl);
			return NULL;
		}
		if (strspn(host, "0123456789.:") != strlen(host)) {
			if (SSL_set_tlsext_host_name(ssl, host) != 1) {
				SSL_free(ssl);
				return NULL;
			}
		}
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

int
smpp_tls_log_errors(struct bufferevent *bev, const char *id)
{
	unsigned long e;
	int n = 0;

	if (bufferevent_openssl_get_ssl(bev) == NULL)
		return 0;
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		char buf[256];

		/* libevent queues a junk entry (lib 0, reason 1) of its own. */
		if (ERR_GET_LIB(e) == 0 && ERR_GET_REASON(e) == 1)
			continue;
		ERR_error_string_n(e, buf, sizeof(buf));
		smpp_log(SMPP_LOG_WARN, id, "smpp", "tls_error", "error=\"%s\"",
		    buf);
		n++;
	}
	return n;
}

void
smpp_tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl == NULL)
		return;
	/* One call queues and sends close_notify; we do not wait for the
	 * peer's (the connection is closed right after). */
	if (SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}
