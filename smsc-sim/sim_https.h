/*
 * A small HTTPS JSON client for the simulated handset app (sim_app.c):
 * one keep-alive connection to one origin (libevent evhttp over
 * bufferevent_openssl), one request at a time, a per-request timeout,
 * TLS >= 1.2 with the server certificate checked against a CA file and
 * the URL's host name or IP address (or, with insecure, not checked:
 * development only). A connection that closed or failed is replaced for
 * the next request, never reconnected under an old TLS state.
 *
 * Ownership: the client owns its connection and SSL_CTX; a response and
 * its JSON are valid during the callback only. Return convention: 0 / -1
 * with a reason in err.
 */
#ifndef SIM_HTTPS_H
#define SIM_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct event_base;
struct sim_https;

struct sim_https_opts {
	const char	*url;		/* https://host[:port][/prefix] */
	const char	*ca_file;	/* PEM; "" or NULL: the system store */
	int		 insecure;	/* 1: no certificate check (dev) */
	uint32_t	 timeout_ms;	/* per request, connect included */
};

struct sim_https_resp {
	int		 status;	/* HTTP status; 0: no answer */
	json_t		*json;		/* the body when it was JSON, else
					 * NULL; borrowed */
	const char	*api_error;	/* "error" of an error body, or "" */
	const char	*message;	/* "message" of it, or why no answer */
};

typedef void (*sim_https_cb)(void *arg, const struct sim_https_resp *r);

/* A client for url; NULL with err (bad URL, CA file unreadable). */
struct sim_https *sim_https_new(struct event_base *base,
    const struct sim_https_opts *o, char *err, size_t errlen);
/* Cancels a request in flight (its callback never runs). Not from
 * inside this client's callback. NULL is a no-op. */
void sim_https_free(struct sim_https *c);

/*
 * Sends method (GET, POST, DELETE) path (below the URL's prefix, e.g.
 * "/v1/messages") with body as JSON (may be NULL; not taken) and, if
 * bearer is set, "Authorization: Bearer ...". cb runs exactly once,
 * later, from the event loop (never inside this call). -1 with err if a
 * request is in flight or it could not be sent.
 */
int sim_https_request(struct sim_https *c, const char *method,
    const char *path, const json_t *body, const char *bearer,
    sim_https_cb cb, void *arg, char *err, size_t errlen);

/* Is a request in flight? */
int sim_https_busy(const struct sim_https *c);

#endif
