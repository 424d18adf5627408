/*
 * The reconnecting client link (see connector.h). It owns at most one
 * session at a time, sits between that session and the owner (every
 * session callback goes through a trampoline here), and runs a one-shot
 * retry timer between sessions. Backoff after n failed attempts is a
 * uniform random delay in [min, min(max, min * 2^n)] (full jitter above
 * the floor), and resets once a bind succeeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "connector.h"
#include "log.h"
#include "tls.h"

struct smpp_connector {
	struct event_base		*base;
	struct smpp_connector_config	 cfg;	/* strings point below */
	struct smpp_session_ops		 ops;	/* the owner's */
	void				*arg;
	struct smpp_session		*sess;
	struct event			*retry_ev;
	uint32_t			 failures;	/* since last bind */
	uint32_t			 attempts;
	int				 bound;
	int				 stopping;
	char				 name[64];
	char				 host[256];
	char				 tls_host[256];
	char				 system_id[SMPP_SYSTEM_ID_MAX];
	char				 password[SMPP_PASSWORD_MAX];
	char				 system_type[SMPP_SYSTEM_TYPE_MAX];
	char				 address_range[SMPP_ADDRESS_RANGE_MAX];
};

static void connect_now(struct smpp_connector *);

void
smpp_connector_config_defaults(struct smpp_connector_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host = "127.0.0.1";
	cfg->bind_command = SMPP_BIND_TRANSCEIVER;
	cfg->backoff_min_ms = 500;
	cfg->backoff_max_ms = 60000;
	smpp_session_config_defaults(&cfg->session);
}

static int
copy(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= cap)
		return -1;
	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
	return 0;
}

static uint32_t
backoff_ms(struct smpp_connector *c)
{
	uint64_t lo = c->cfg.backoff_min_ms, hi = lo;
	uint32_t r = 0;

	for (uint32_t i = 0; i < c->failures && hi < c->cfg.backoff_max_ms;
	    i++)
		hi *= 2;
	if (hi > c->cfg.backoff_max_ms)
		hi = c->cfg.backoff_max_ms;
	if (hi <= lo)
		return (uint32_t)lo;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)rand();
	return (uint32_t)(lo + r % (hi - lo + 1));
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	connect_now(arg);
}

static void
schedule_retry(struct smpp_connector *c)
{
	uint32_t ms = backoff_ms(c);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	c->failures++;
	smpp_log(SMPP_LOG_INFO, c->name, "smpp", "reconnect_in", "ms=%u "
	    "failures=%u", ms, c->failures);
	event_add(c->retry_ev, &tv);
}

static void
conn_free(struct smpp_connector *c)
{
	event_free(c->retry_ev);
	SSL_CTX_free(c->cfg.tls);
	OPENSSL_cleanse(c->password, sizeof(c->password));
	free(c);
}

/* ---- trampolines: session -> owner ---- */

static void
t_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	struct smpp_connector *c = arg;

	if (c->ops.request != NULL)
		c->ops.request(s, req, c->arg);
}

static void
t_response(struct smpp_session *s, enum smpp_outcome o,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct smpp_connector *c = arg;

	if (c->ops.response != NULL)
		c->ops.response(s, o, resp, ctx, c->arg);
}

static void
t_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct smpp_connector *c = arg;

	if (to == SMPP_ST_BOUND_TX || to == SMPP_ST_BOUND_RX ||
	    to == SMPP_ST_BOUND_TRX) {
		c->bound = 1;
		c->failures = 0;
	} else if (to == SMPP_ST_UNBINDING || to == SMPP_ST_UNBOUND ||
	    to == SMPP_ST_CLOSED) {
		c->bound = 0;
	}
	if (c->ops.state != NULL)
		c->ops.state(s, from, to, c->arg);
}

static void
t_writable(struct smpp_session *s, void *arg)
{
	struct smpp_connector *c = arg;

	if (c->ops.writable != NULL)
		c->ops.writable(s, c->arg);
}

static void
t_closed(struct smpp_session *s, enum smpp_close_reason r, void *arg)
{
	struct smpp_connector *c = arg;

	c->sess = NULL;
	c->bound = 0;
	if (c->ops.closed != NULL)
		c->ops.closed(s, r, c->arg);
	if (c->stopping) {
		smpp_log(SMPP_LOG_INFO, c->name, "smpp", "connector_stopped",
		    NULL);
		conn_free(c);
		return;
	}
	schedule_retry(c);
}

static const struct smpp_session_ops tramp = {
	.bind = NULL,
	.request = t_request,
	.response = t_response,
	.state = t_state,
	.writable = t_writable,
	.closed = t_closed,
};

static void
connect_now(struct smpp_connector *c)
{
	struct bufferevent *bev;
	evutil_socket_t fd;
	int one = 1, rc;

	c->attempts++;
	if (c->cfg.tls != NULL)
		bev = smpp_tls_connect_bev(c->base, c->cfg.tls,
		    c->tls_host[0] != '\0' ? c->tls_host : c->host);
	else
		bev = bufferevent_socket_new(c->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		smpp_log(SMPP_LOG_ERR, c->name, "smpp", "connect_failed",
		    "error=no_memory");
		schedule_retry(c);
		return;
	}
	c->sess = smpp_session_new(c->base, bev, SMPP_ROLE_CLIENT,
	    &c->cfg.session, &tramp, c, c->name);
	if (c->sess == NULL) {
		schedule_retry(c);
		return;
	}
	smpp_log(SMPP_LOG_INFO, c->name, "smpp", "connecting",
	    "host=%s port=%u tls=%d attempt=%u", c->host, c->cfg.port,
	    c->cfg.tls != NULL, c->attempts);
	/* No evdns base: a host name is resolved with a blocking lookup,
	 * which is what a config of numeric addresses never pays. */
	rc = bufferevent_socket_connect_hostname(bev, NULL, AF_UNSPEC,
	    c->host, c->cfg.port);
	if (rc != 0) {
		smpp_log(SMPP_LOG_WARN, c->name, "smpp", "connect_failed",
		    "host=%s port=%u", c->host, c->cfg.port);
		smpp_session_close(c->sess);	/* closed -> retry */
		return;
	}
	if ((fd = bufferevent_getfd(bev)) >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	/* The bind waits in the output buffer until the link is up. */
	if (smpp_session_bind(c->sess, c->cfg.bind_command, c->system_id,
	    c->password, c->system_type, c->cfg.addr_ton, c->cfg.addr_npi,
	    c->address_range) != 0)
		smpp_session_close(c->sess);
}

struct smpp_connector *
smpp_connector_new(struct event_base *base,
    const struct smpp_connector_config *cfg,
    const struct smpp_session_ops *ops, void *arg)
{
	struct smpp_connector *c;

	if (cfg == NULL || cfg->host == NULL || cfg->port == 0)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->cfg = *cfg;
	if (ops != NULL)
		c->ops = *ops;
	c->arg = arg;
	if (copy(c->name, sizeof(c->name), cfg->name != NULL ? cfg->name :
	    "connector") != 0 ||
	    copy(c->host, sizeof(c->host), cfg->host) != 0 ||
	    copy(c->tls_host, sizeof(c->tls_host), cfg->tls_host) != 0 ||
	    copy(c->system_id, sizeof(c->system_id), cfg->system_id) != 0 ||
	    copy(c->password, sizeof(c->password), cfg->password) != 0 ||
	    copy(c->system_type, sizeof(c->system_type), cfg->system_type)
	    != 0 ||
	    copy(c->address_range, sizeof(c->address_range),
	    cfg->address_range) != 0 ||
	    (cfg->bind_command != SMPP_BIND_TRANSMITTER &&
	    cfg->bind_command != SMPP_BIND_RECEIVER &&
	    cfg->bind_command != SMPP_BIND_TRANSCEIVER)) {
		smpp_log(SMPP_LOG_ERR, cfg->name, "smpp", "connector_config",
		    "error=bad_field");
		OPENSSL_cleanse(c->password, sizeof(c->password));
		free(c);
		return NULL;
	}
	/* Only our copies are used from here on. */
	c->cfg.name = c->cfg.host = c->cfg.tls_host = NULL;
	c->cfg.system_id = c->cfg.password = c->cfg.system_type = NULL;
	c->cfg.address_range = NULL;
	if (c->cfg.backoff_min_ms == 0)
		c->cfg.backoff_min_ms = 1;
	if (c->cfg.backoff_max_ms < c->cfg.backoff_min_ms)
		c->cfg.backoff_max_ms = c->cfg.backoff_min_ms;
	if ((c->retry_ev = evtimer_new(base, retry_cb, c)) == NULL) {
		free(c);
		return NULL;
	}
	if (c->cfg.tls != NULL)
		SSL_CTX_up_ref(c->cfg.tls);
	connect_now(c);
	return c;
}

struct smpp_session *
smpp_connector_session(const struct smpp_connector *c)
{
	return c->bound ? c->sess : NULL;
}

uint32_t
smpp_connector_attempts(const struct smpp_connector *c)
{
	return c->attempts;
}

void
smpp_connector_free(struct smpp_connector *c)
{
	if (c == NULL)
		return;
	c->stopping = 1;
	event_del(c->retry_ev);
	if (c->sess == NULL) {
		conn_free(c);
		return;
	}
	if (!c->bound || smpp_session_unbind(c->sess) != 0)
		smpp_session_close(c->sess);
}
