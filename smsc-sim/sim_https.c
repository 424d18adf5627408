/*
 * The handset app's HTTPS client. evhttp does the HTTP/1.1 framing and
 * keep-alive over a bufferevent_openssl; this file adds what evhttp lacks
 * for TLS: a connection whose socket closed is never reused (evhttp would
 * reconnect the same bufferevent, whose SSL has finished its handshake,
 * and talk garbage), a whole-request timer, readable transport errors
 * (certificate checks, refused connects), and JSON in and out. Callbacks
 * always run from this client's own zero-delay event, so a callback may
 * start the next request or free things without running inside evhttp.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sim_https.h"

#define HTTPS_BODY_MAX	(8u << 20)	/* a response larger is refused */
#define HTTPS_RETRIES	3		/* after 503 unavailable (storage
					 * busy: the contract says retry) */

struct sim_https {
	struct event_base	*base;
	SSL_CTX			*ctx;
	char			 host[256];	/* without brackets */
	char			 hosthdr[300];	/* Host: value */
	char			 prefix[256];	/* URL path, no trailing / */
	uint16_t		 port;
	int			 host_is_ip;
	int			 insecure;
	uint32_t		 timeout_ms;

	struct evhttp_connection *conn;
	int			 dead;		/* conn closed or failed */
	struct evhttp_request	*req;		/* in flight, evhttp's */
	int			 busy;		/* a callback is owed */
	sim_https_cb		 cb;
	void			*cb_arg;
	struct event		*timer;		/* whole-request timeout */
	struct event		*fire;		/* runs the callback */
	char			 what[64];	/* "POST /v1/..." for errors */
	/* The request, kept for a retry after 503 unavailable. */
	enum evhttp_cmd_type	 cmd;
	char			 path[1024];
	char			*body;		/* JSON; wiped */
	char			 auth[600];	/* "Bearer ..."; wiped */
	int			 retries;
	struct event		*retry;

	/* The answer being delivered. */
	int			 status;
	json_t			*json;
	char			 api_error[64];
	char			 message[512];
	int			 req_err;	/* evhttp_request_error + 1 */
	int			 sock_err;
	char			 tls_err[320];
};

static void clear_stored(struct sim_https *c);
static void retry_cb(evutil_socket_t fd, short what, void *arg);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The first useful OpenSSL error of the connection's bufferevent (or
 * the verify result), for "certificate verify failed: ..." messages. */
static void
capture_tls_error(struct sim_https *c)
{
	struct bufferevent *bev;
	SSL *ssl;
	unsigned long e;
	long v;

	c->tls_err[0] = '\0';
	if (c->conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(c->conn)) == NULL)
		return;
	if ((ssl = bufferevent_openssl_get_ssl(bev)) != NULL &&
	    !c->insecure && (v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(c->tls_err, sizeof(c->tls_err), "certificate verify "
		    "failed: %s", X509_verify_cert_error_string(v));
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		return;
	}
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		/* libevent adds its own lib(0) entries (errno, reason 1):
		 * skip them */
		if (ERR_GET_LIB(e) == 0 || c->tls_err[0] != '\0')
			continue;
		ERR_error_string_n(e, c->tls_err, sizeof(c->tls_err));
	}
}

static void
on_req_error(enum evhttp_request_error e, void *arg)
{
	struct sim_https *c = arg;

	c->req_err = (int)e + 1;
	c->sock_err = EVUTIL_SOCKET_ERROR();
	capture_tls_error(c);
}

static void
on_close(struct evhttp_connection *conn, void *arg)
{
	struct sim_https *c = arg;

	(void)conn;
	c->dead = 1;
}

static void
fire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_https *c = arg;
	struct sim_https_resp r;
	sim_https_cb cb = c->cb;
	void *cb_arg = c->cb_arg;
	json_t *j = c->json;

	(void)fd;
	(void)what;
	c->busy = 0;
	c->cb = NULL;
	c->json = NULL;
	clear_stored(c);
	r.status = c->status;
	r.json = j;
	r.api_error = c->api_error;
	r.message = c->message;
	if (cb != NULL)
		cb(cb_arg, &r);
	json_decref(j);
}

static void
deliver_later(struct sim_https *c)
{
	evtimer_del(c->timer);
	event_active(c->fire, EV_TIMEOUT, 0);
}

static const char *
req_err_name(int e)
{
	switch (e - 1) {
	case EVREQ_HTTP_TIMEOUT: return "timed out";
	case EVREQ_HTTP_EOF: return "connection closed before an answer";
	case EVREQ_HTTP_INVALID_HEADER: return "invalid HTTP answer";
	case EVREQ_HTTP_BUFFER_ERROR: return "connection failed";
	case EVREQ_HTTP_DATA_TOO_LONG: return "answer too large";
	default: return "no answer";
	}
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct sim_https *c = arg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

	c->req = NULL;
	if (code == 0) {
		c->dead = 1;
		c->status = 0;
		/* evhttp fails a connect without the error callback. */
		if (c->req_err == 0) {
			capture_tls_error(c);
			if (c->tls_err[0] == '\0')
				snprintf(c->tls_err, sizeof(c->tls_err),
				    "https://%s:%u: cannot connect (refused "
				    "or unreachable)", c->host, c->port);
		}
		if (c->tls_err[0] != '\0')
			snprintf(c->message, sizeof(c->message), "%s: %s",
			    c->what, c->tls_err);
		else if (c->sock_err != 0 && c->req_err - 1 ==
		    EVREQ_HTTP_BUFFER_ERROR)
			snprintf(c->message, sizeof(c->message), "%s: "
			    "https://%s:%u: %s", c->what, c->host, c->port,
			    evutil_socket_error_to_string(c->sock_err));
		else
			snprintf(c->message, sizeof(c->message), "%s: "
			    "https://%s:%u: %s", c->what, c->host, c->port,
			    req_err_name(c->req_err));
		deliver_later(c);
		return;
	}
	{
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		const char *conn_hdr = evhttp_find_header(
		    evhttp_request_get_input_headers(req), "Connection");
		json_error_t je;
		char *buf;

		if (conn_hdr != NULL && strcasecmp(conn_hdr, "close") == 0)
			c->dead = 1;
		c->status = code;
		if (n > 0 && (buf = malloc(n + 1)) != NULL) {
			evbuffer_copyout(in, buf, n);
			buf[n] = '\0';
			c->json = json_loadb(buf, n, JSON_REJECT_DUPLICATES,
			    &je);
			/* The body may hold a token or a sealed message. */
			OPENSSL_cleanse(buf, n);
			free(buf);
		}
		evbuffer_drain(in, n);
		if (code == 503 && c->retries < HTTPS_RETRIES &&
		    json_is_object(c->json) && json_is_string(json_object_get(
		    c->json, "error")) && strcmp(json_string_value(
		    json_object_get(c->json, "error")), "unavailable") == 0) {
			struct timeval tv = { 1, 0 };

			c->retries++;
			evtimer_del(c->timer);
			evtimer_add(c->retry, &tv);
			return;
		}
		if (code >= 400 && json_is_object(c->json)) {
			json_t *e = json_object_get(c->json, "error");
			json_t *m = json_object_get(c->json, "message");

			if (json_is_string(e))
				snprintf(c->api_error, sizeof(c->api_error),
				    "%s", json_string_value(e));
			if (json_is_string(m))
				snprintf(c->message, sizeof(c->message), "%s",
				    json_string_value(m));
		} else if (code >= 400) {
			snprintf(c->message, sizeof(c->message), "HTTP %d "
			    "without a JSON error body", code);
		} else if (n > 0 && c->json == NULL) {
			snprintf(c->message, sizeof(c->message), "%s: answer "
			    "%d is not JSON: %s", c->what, code, je.text);
		}
	}
	deliver_later(c);
}

/* Drops the connection (not from inside its own evhttp callbacks). */
static void
drop_conn(struct sim_https *c)
{
	if (c->conn == NULL)
		return;
	evhttp_connection_set_closecb(c->conn, NULL, NULL);
	evhttp_connection_free(c->conn);	/* frees c->req too */
	c->conn = NULL;
	c->req = NULL;
	c->dead = 0;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_https *c = arg;

	(void)fd;
	(void)what;
	if (c->req == NULL)
		return;
	drop_conn(c);
	c->status = 0;
	snprintf(c->message, sizeof(c->message), "%s: https://%s:%u: no "
	    "answer within %u ms", c->what, c->host, c->port, c->timeout_ms);
	event_active(c->fire, EV_TIMEOUT, 0);
}

static int
new_conn(struct sim_https *c, char *err, size_t errlen)
{
	struct bufferevent *bev;
	struct timeval tv;
	SSL *ssl;

	if ((ssl = SSL_new(c->ctx)) == NULL) {
		set_err(err, errlen, "out of memory (SSL_new)");
		return -1;
	}
	if (!c->insecure) {
		if (c->host_is_ip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    c->host) != 1)
				goto fail;
		} else if (SSL_set1_host(ssl, c->host) != 1) {
			goto fail;
		}
	}
	if (!c->host_is_ip)
		SSL_set_tlsext_host_name(ssl, c->host);
	bev = bufferevent_openssl_socket_new(c->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		goto fail;
	c->conn = evhttp_connection_base_bufferevent_new(c->base, NULL, bev,
	    c->host, c->port);
	if (c->conn == NULL) {
		bufferevent_free(bev);
		set_err(err, errlen, "out of memory (connection)");
		return -1;
	}
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(c->conn, &tv);
	evhttp_connection_set_retries(c->conn, 0);
	evhttp_connection_set_max_body_size(c->conn, HTTPS_BODY_MAX);
	evhttp_connection_set_max_headers_size(c->conn, 16384);
	evhttp_connection_set_closecb(c->conn, on_close, c);
	c->dead = 0;
	return 0;
fail:
	SSL_free(ssl);
	set_err(err, errlen, "cannot set up TLS for the connection");
	return -1;
}

struct sim_https *
sim_https_new(struct event_base *base, const struct sim_https_opts *o,
    char *err, size_t errlen)
{
	struct sim_https *c;
	struct evhttp_uri *u;
	const char *scheme, *host, *path;
	int port;
	size_t hl;
	unsigned char tmp[16];

	if (o->url == NULL || (u = evhttp_uri_parse_with_flags(o->url, 0)) ==
	    NULL) {
		set_err(err, errlen, "api_url '%s' is not a URL",
		    o->url ? o->url : "");
		return NULL;
	}
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	port = evhttp_uri_get_port(u);
	path = evhttp_uri_get_path(u);
	if (scheme == NULL || strcasecmp(scheme, "https") != 0 ||
	    host == NULL || host[0] == '\0' ||
	    evhttp_uri_get_query(u) != NULL) {
		evhttp_uri_free(u);
		set_err(err, errlen, "api_url '%s': expected "
		    "https://HOST[:PORT][/PATH]", o->url);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evhttp_uri_free(u);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->base = base;
	hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']')
		snprintf(c->host, sizeof(c->host), "%.*s", (int)(hl - 2),
		    host + 1);
	else
		snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = (uint16_t)(port > 0 ? port : 443);
	if (port > 0)
		snprintf(c->hosthdr, sizeof(c->hosthdr), "%s:%d", host, port);
	else
		snprintf(c->hosthdr, sizeof(c->hosthdr), "%s", host);
	snprintf(c->prefix, sizeof(c->prefix), "%s", path ? path : "");
	hl = strlen(c->prefix);
	while (hl > 0 && c->prefix[hl - 1] == '/')
		c->prefix[--hl] = '\0';
	evhttp_uri_free(u);
	c->host_is_ip = inet_pton(AF_INET, c->host, tmp) == 1 ||
	    inet_pton(AF_INET6, c->host, tmp) == 1;
	c->insecure = o->insecure;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
	c->timer = evtimer_new(base, timer_cb, c);
	c->fire = event_new(base, -1, 0, fire_cb, c);
	c->retry = evtimer_new(base, retry_cb, c);
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->timer == NULL || c->fire == NULL || c->retry == NULL ||
	    c->ctx == NULL) {
		set_err(err, errlen, "out of memory");
		sim_https_free(c);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	/* A server that closes without close_notify is a clean EOF
	 * (HTTP carries its own lengths). */
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!c->insecure) {
		int ok;

		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca_file != NULL && o->ca_file[0] != '\0')
			ok = SSL_CTX_load_verify_locations(c->ctx, o->ca_file,
			    NULL);
		else
			ok = SSL_CTX_set_default_verify_paths(c->ctx);
		if (ok != 1) {
			char e[200];

			ERR_error_string_n(ERR_get_error(), e, sizeof(e));
			ERR_clear_error();
			set_err(err, errlen, "ca_file '%s': cannot load: %s",
			    o->ca_file ? o->ca_file : "(system)", e);
			sim_https_free(c);
			return NULL;
		}
	} else {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	}
	return c;
}

void
sim_https_free(struct sim_https *c)
{
	if (c == NULL)
		return;
	drop_conn(c);
	if (c->timer)
		event_free(c->timer);
	if (c->fire)
		event_free(c->fire);
	if (c->retry)
		event_free(c->retry);
	clear_stored(c);
	json_decref(c->json);
	SSL_CTX_free(c->ctx);
	free(c);
}

/* "METHOD /path" for error messages, with long path segments (random
 * ids: registration ids are secret handles) shown as {id}. */
static void
what_label(char *out, size_t cap, const char *method, const char *path)
{
	size_t o = (size_t)snprintf(out, cap, "%s ", method);

	while (*path != '\0' && o + 1 < cap) {
		size_t seg = strcspn(path + 1, "/") + 1;	/* "/" + name */

		if (seg > 20)
			o += (size_t)snprintf(out + o, cap - o, "/{id}");
		else
			o += (size_t)snprintf(out + o, cap - o, "%.*s",
			    (int)seg, path);
		path += seg;
		if (o >= cap)
			break;
	}
}

int
sim_https_busy(const struct sim_https *c)
{
	return c->busy;
}

/* The stored request's secrets (body: codes, proofs; token) wiped. */
static void
clear_stored(struct sim_https *c)
{
	if (c->body != NULL) {
		OPENSSL_cleanse(c->body, strlen(c->body));
		free(c->body);
		c->body = NULL;
	}
	OPENSSL_cleanse(c->auth, sizeof(c->auth));
}

/* Sends the stored request on the connection (a new one if the last
 * closed). 0, or -1 with err. */
static int
send_stored(struct sim_https *c, char *err, size_t errlen)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	struct timeval tv;

	if (c->dead)
		drop_conn(c);
	if (c->conn == NULL && new_conn(c, err, errlen) != 0)
		return -1;
	if ((req = evhttp_request_new(on_done, c)) == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	evhttp_request_set_error_cb(req, on_req_error);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", c->hosthdr);
	evhttp_add_header(h, "Accept", "application/json");
	evhttp_add_header(h, "User-Agent", "smsc-sim-app/1");
	if (c->auth[0] != '\0')
		evhttp_add_header(h, "Authorization", c->auth);
	if (c->body != NULL) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), c->body,
		    strlen(c->body));
	}
	c->status = 0;
	c->api_error[0] = '\0';
	c->message[0] = '\0';
	c->req_err = 0;
	c->sock_err = 0;
	c->tls_err[0] = '\0';
	json_decref(c->json);
	c->json = NULL;
	c->req = req;
	if (evhttp_make_request(c->conn, req, c->cmd, c->path) != 0) {
		/* req is freed; the connection may be half set up. */
		c->req = NULL;
		drop_conn(c);
		set_err(err, errlen, "cannot send %s: connection failed",
		    c->what);
		return -1;
	}
	{
		/* A request with a body may leave in two TLS records:
		 * without this, Nagle holds the second for the server's
		 * delayed ACK (40 ms a request). The socket exists once the
		 * connect started (numeric hosts connect at once). */
		struct bufferevent *bev =
		    evhttp_connection_get_bufferevent(c->conn);
		evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
		int one = 1;

		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
	}
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	return 0;
}

/* 503 unavailable (storage busy): the same request again. */
static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_https *c = arg;
	char err[200];

	(void)fd;
	(void)what;
	if (send_stored(c, err, sizeof(err)) != 0) {
		c->status = 0;
		snprintf(c->message, sizeof(c->message), "%s", err);
		event_active(c->fire, EV_TIMEOUT, 0);
	}
}

int
sim_https_request(struct sim_https *c, const char *method,
    const char *path, const json_t *body, const char *bearer,
    sim_https_cb cb, void *arg, char *err, size_t errlen)
{
	enum evhttp_cmd_type cmd;

	if (c->busy) {
		set_err(err, errlen, "a request is in flight");
		return -1;
	}
	if (strcmp(method, "GET") == 0)
		cmd = EVHTTP_REQ_GET;
	else if (strcmp(method, "POST") == 0)
		cmd = EVHTTP_REQ_POST;
	else if (strcmp(method, "DELETE") == 0)
		cmd = EVHTTP_REQ_DELETE;
	else {
		set_err(err, errlen, "method %s not supported", method);
		return -1;
	}
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s%s", c->prefix,
	    path) >= sizeof(c->path) || (bearer != NULL &&
	    strlen(bearer) + 8 >= sizeof(c->auth))) {
		set_err(err, errlen, "path or token too long");
		return -1;
	}
	clear_stored(c);
	if (body != NULL && (c->body = json_dumps(body, JSON_COMPACT)) ==
	    NULL) {
		set_err(err, errlen, "cannot encode JSON");
		return -1;
	}
	if (bearer != NULL)
		snprintf(c->auth, sizeof(c->auth), "Bearer %s", bearer);
	c->cmd = cmd;
	what_label(c->what, sizeof(c->what), method, path);
	c->retries = 0;
	if (send_stored(c, err, errlen) != 0) {
		clear_stored(c);
		return -1;
	}
	c->cb = cb;
	c->cb_arg = arg;
	c->busy = 1;
	return 0;
}
