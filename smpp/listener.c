/*
 * The SMPP listener (see listener.h): an evconnlistener whose accepted
 * sockets get TCP_NODELAY (SMPP is request/response; Nagle plus delayed
 * ACK costs tens of ms per round) and a plain or TLS bufferevent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "listener.h"
#include "log.h"
#include "tls.h"

struct smpp_listener {
	struct event_base	*base;
	struct evconnlistener	*lev;
	SSL_CTX			*tls;
	smpp_accept_fn		 fn;
	void			*arg;
	uint16_t		 port;
	char			 name[64];
};

static void
addr_str(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;

		evutil_inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(in4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, cap, "-");
	}
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct smpp_listener *l = arg;
	struct bufferevent *bev;
	char peer[80];
	int one = 1;

	(void)lev;
	(void)salen;
	addr_str(sa, peer, sizeof(peer));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->tls != NULL)
		bev = smpp_tls_accept_bev(l->base, l->tls, fd);
	else
		bev = bufferevent_socket_new(l->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		smpp_log(SMPP_LOG_ERR, l->name, "smpp", "accept_failed",
		    "peer=%s error=no_memory", peer);
		evutil_closesocket(fd);
		return;
	}
	smpp_log(SMPP_LOG_DEBUG, l->name, "smpp", "accept", "peer=%s tls=%d",
	    peer, l->tls != NULL);
	l->fn(l, bev, peer, l->arg);
}

static void
error_cb(struct evconnlistener *lev, void *arg)
{
	struct smpp_listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	/* EMFILE and friends: keep listening, the next accept may work. */
	smpp_log(SMPP_LOG_WARN, l->name, "smpp", "accept_error",
	    "errno=%d error=\"%s\"", err, evutil_socket_error_to_string(err));
}

struct smpp_listener *
smpp_listener_new(struct event_base *base, const char *host, uint16_t port,
    SSL_CTX *tls, smpp_accept_fn fn, void *arg, const char *name)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	struct smpp_listener *l;
	char spec[128];
	evutil_socket_t fd;
	int one = 1;

	if (host == NULL)
		host = "127.0.0.1";
	snprintf(spec, sizeof(spec), strchr(host, ':') != NULL ? "[%s]:%u" :
	    "%s:%u", host, port);
	memset(&ss, 0, sizeof(ss));
	/* Parsed without the port: libevent refuses port 0. */
	if (fn == NULL || evutil_parse_sockaddr_port(host,
	    (struct sockaddr *)&ss, &sslen) != 0) {
		smpp_log(SMPP_LOG_ERR, name, "smpp", "listen_failed",
		    "addr=%s error=bad_address", spec);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->base = base;
	l->fn = fn;
	l->arg = arg;
	snprintf(l->name, sizeof(l->name), "%s", name != NULL ? name : "-");
	l->lev = evconnlistener_new_bind(base, accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, (struct sockaddr *)&ss, sslen);
	if (l->lev == NULL) {
		int err = EVUTIL_SOCKET_ERROR();

		smpp_log(SMPP_LOG_ERR, l->name, "smpp", "listen_failed",
		    "addr=%s errno=%d error=\"%s\"", spec, err,
		    evutil_socket_error_to_string(err));
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->lev, error_cb);
	fd = evconnlistener_get_fd(l->lev);
	/* Accepted sockets inherit it on Linux; set again per socket anyway. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, (socklen_t *)&sslen) == 0)
		l->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	if (tls != NULL) {
		SSL_CTX_up_ref(tls);
		l->tls = tls;
	}
	smpp_log(SMPP_LOG_INFO, l->name, "smpp", "listening",
	    "addr=%s port=%u tls=%d", host, l->port, tls != NULL);
	return l;
}

uint16_t
smpp_listener_port(const struct smpp_listener *l)
{
	return l->port;
}

void
smpp_listener_free(struct smpp_listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->lev);
	SSL_CTX_free(l->tls);
	free(l);
}
