/*
 * bench_fetch: handset API reads per second over HTTPS keep-alive, for
 * bench_secure.sh. C connections (each one TLS session, kept alive, one
 * request at a time: what one app connection can do) send
 * GET /v1/messages/{id} (ids cycled from a file) or GET /v1/messages
 * with a device token until N answers or SECS seconds, whichever first.
 * Each connection makes one untimed request first (TCP and TLS
 * handshakes out of the measure). Every answer must be 200 with a body;
 * anything else is counted as an error (exit 1).
 *
 *   bench_fetch --port P --ca FILE --token-file F [--ids-file F | --list]
 *               [-c CONNS] [-n N] [--duration SECS] [--dump FILE]
 *
 * --dump writes the first timed answer's body to FILE (the script opens
 * the envelope with sec_client to check it is the device's message).
 * Output: one JSON line {"requests", "errors", "seconds", "rate_per_s",
 * "latency_ms": {"p50", "p99", "max"}, "reconnects", "bytes", "cpu_s"}
 * (cpu_s: this process's user + system CPU, handshakes included).
 * Test tool: the token is read from a file and never printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench_util.h"

#define FETCH_CONNS_MAX	64
#define FETCH_TOKEN_MAX	128

struct fetch;

struct fconn {
	struct fetch		*f;
	struct evhttp_connection *conn;
	struct event		*next;		/* zero-delay: send the next */
	double			 t0;		/* request sent */
	int			 warm;		/* the untimed one answered */
	int			 closed;	/* the server closed it */
};

struct fetch {
	struct event_base	*base;
	SSL_CTX			*ctx;
	uint16_t		 port;
	char			 auth[FETCH_TOKEN_MAX + 16];
	char			**ids;
	size_t			 n_ids, next_id;
	int			 list;
	const char		*dump;

	struct fconn		 c[FETCH_CONNS_MAX];
	int			 nconn, warm, inflight;
	uint64_t		 want, sent, done, errors, reconnects, bytes;
	double			 start, end, deadline_s;
	int			 timing, stopping;
	double			*lat;		/* ms, one per timed answer */
};

static void send_one(struct fconn *c);

static void
die(const char *msg)
{
	fprintf(stderr, "bench_fetch: %s\n", msg);
	exit(2);
}

static int
new_conn(struct fconn *c)
{
	struct fetch *f = c->f;
	struct bufferevent *bev;
	SSL *ssl;

	if ((ssl = SSL_new(f->ctx)) == NULL ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    "127.0.0.1") != 1)
		return -1;
	bev = bufferevent_openssl_socket_new(f->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return -1;
	c->conn = evhttp_connection_base_bufferevent_new(f->base, NULL, bev,
	    "127.0.0.1", f->port);
	if (c->conn == NULL) {
		bufferevent_free(bev);
		return -1;
	}
	evhttp_connection_set_timeout(c->conn, 10);
	evhttp_connection_set_retries(c->conn, 0);
	c->closed = 0;
	return 0;
}

static void
on_close(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	((struct fconn *)arg)->closed = 1;
}

static void
finish_if_done(struct fetch *f)
{
	if (f->stopping && f->inflight == 0)
		event_base_loopexit(f->base, NULL);
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct fconn *c = arg;
	struct fetch *f = c->f;
	double now = bench_now_s();
	int code = req ? evhttp_request_get_response_code(req) : 0;
	struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) :
	    NULL;
	size_t n = in ? evbuffer_get_length(in) : 0;
	const char *ch;

	f->inflight--;
	if (code != 200 || n == 0) {
		f->errors++;
		if (f->errors <= 5)
			fprintf(stderr, "bench_fetch: answer %d (%zu bytes)\n",
			    code, n);
		c->closed = 1;
	}
	if (req != NULL && (ch = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Connection")) != NULL &&
	    strcmp(ch, "close") == 0)
		c->closed = 1;
	if (!c->warm) {
		c->warm = 1;
		if (++f->warm == f->nconn) {
			f->timing = 1;
			f->start = bench_now_s();
			f->end = f->start + f->deadline_s;
			for (int i = 0; i < f->nconn; i++)
				event_active(f->c[i].next, EV_TIMEOUT, 0);
		}
		return;
	}
	if (code == 200 && n > 0) {
		if (f->dump != NULL && f->done == 0) {
			FILE *d = fopen(f->dump, "w");
			unsigned char *p = evbuffer_pullup(in, -1);

			if (d == NULL || fwrite(p, 1, n, d) != n)
				die("cannot write the dump file");
			fclose(d);
		}
		f->lat[f->done++] = (now - c->t0) * 1000.0;
		f->bytes += n;
	}
	if (f->sent >= f->want || now >= f->end)
		f->stopping = 1;
	if (f->stopping) {
		finish_if_done(f);
		return;
	}
	/* next request from our own event, not inside evhttp's callback */
	event_active(c->next, EV_TIMEOUT, 0);
}

static void
on_next(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_one(arg);
}

static void
send_one(struct fconn *c)
{
	struct fetch *f = c->f;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char path[256];

	if (c->warm && f->stopping) {
		finish_if_done(f);
		return;
	}
	if (c->closed) {
		evhttp_connection_free(c->conn);
		c->conn = NULL;
		if (f->errors > 100 || new_conn(c) < 0) {
			f->stopping = 1;
			finish_if_done(f);
			return;
		}
		f->reconnects++;
		evhttp_connection_set_closecb(c->conn, on_close, c);
	}
	if (f->list)
		snprintf(path, sizeof(path), "/v1/messages");
	else
		snprintf(path, sizeof(path), "/v1/messages/%s",
		    f->ids[f->next_id++ % f->n_ids]);
	if ((req = evhttp_request_new(on_done, c)) == NULL)
		die("out of memory");
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "127.0.0.1");
	evhttp_add_header(h, "Authorization", f->auth);
	c->t0 = bench_now_s();
	if (c->warm)
		f->sent++;
	f->inflight++;
	if (evhttp_make_request(c->conn, req, EVHTTP_REQ_GET, path) != 0) {
		/* evhttp freed req */
		f->inflight--;
		f->errors++;
		f->stopping = 1;
		finish_if_done(f);
	}
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (nb == NULL)
				die("out of memory");
			buf = nb;
		}
		if ((r = fread(buf + n, 1, 4096, fp)) == 0)
			break;
		n += r;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
cmp_d(const void *a, const void *b)
{
	return bench_cmp_double(a, b);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' },
		{ "ids-file", required_argument, NULL, 'i' },
		{ "list", no_argument, NULL, 'l' },
		{ "conns", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "dump", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct fetch f;
	const char *ca = NULL, *tokfile = NULL, *idsfile = NULL;
	char *tok, *ids = NULL, *p;
	size_t len;
	int o;
	long v;

	memset(&f, 0, sizeof(f));
	f.nconn = 1;
	f.want = 10000;
	f.deadline_s = 10;
	while ((o = getopt_long(argc, argv, "c:n:", lo, NULL)) != -1) {
		switch (o) {
		case 'p':
			v = strtol(optarg, NULL, 10);
			if (v < 1 || v > 65535)
				die("--port: 1..65535");
			f.port = (uint16_t)v;
			break;
		case 'a': ca = optarg; break;
		case 't': tokfile = optarg; break;
		case 'i': idsfile = optarg; break;
		case 'l': f.list = 1; break;
		case 'D': f.dump = optarg; break;
		case 'c':
			v = strtol(optarg, NULL, 10);
			if (v < 1 || v > FETCH_CONNS_MAX)
				die("-c: 1..64");
			f.nconn = (int)v;
			break;
		case 'n':
			v = strtol(optarg, NULL, 10);
			if (v < 1 || v > 10000000)
				die("-n: 1..10000000");
			f.want = (uint64_t)v;
			break;
		case 'd':
			f.deadline_s = strtod(optarg, NULL);
			if (!(f.deadline_s > 0 && f.deadline_s <= 600))
				die("--duration: 0..600 seconds");
			break;
		default:
			fprintf(stderr, "usage: bench_fetch --port P --ca FILE "
			    "--token-file F [--ids-file F | --list] [-c CONNS] "
			    "[-n N] [--duration SECS] [--dump FILE]\n");
			return 2;
		}
	}
	if (f.port == 0 || ca == NULL || tokfile == NULL ||
	    (idsfile == NULL) == (f.list == 0))
		die("--port, --ca, --token-file and one of --ids-file or "
		    "--list are needed");
	if ((tok = read_file(tokfile, &len)) == NULL)
		die("cannot read the token file");
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
		tok[--len] = '\0';
	if (len == 0 || len > FETCH_TOKEN_MAX)
		die("bad token file");
	snprintf(f.auth, sizeof(f.auth), "Bearer %s", tok);
	OPENSSL_cleanse(tok, len);
	free(tok);
	if (idsfile != NULL) {
		if ((ids = read_file(idsfile, &len)) == NULL)
			die("cannot read the ids file");
		for (p = strtok(ids, "\n"); p != NULL; p = strtok(NULL, "\n")) {
			char **ni;

			if (*p == '\0')
				continue;
			if ((ni = realloc(f.ids, (f.n_ids + 1) *
			    sizeof(*ni))) == NULL)
				die("out of memory");
			f.ids = ni;
			f.ids[f.n_ids++] = p;
		}
		if (f.n_ids == 0)
			die("no ids in the ids file");
	}
	if ((f.lat = calloc(f.want + (uint64_t)f.nconn, sizeof(double))) ==
	    NULL)
		die("out of memory");

	if ((f.base = event_base_new()) == NULL ||
	    (f.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("out of memory");
	SSL_CTX_set_min_proto_version(f.ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(f.ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(f.ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(f.ctx, ca, NULL) != 1)
		die("cannot load the CA file");
	for (int i = 0; i < f.nconn; i++) {
		f.c[i].f = &f;
		if (new_conn(&f.c[i]) < 0 || (f.c[i].next = event_new(f.base,
		    -1, 0, on_next, &f.c[i])) == NULL)
			die("cannot set up a connection");
		evhttp_connection_set_closecb(f.c[i].conn, on_close, &f.c[i]);
	}
	/* the untimed first request of each connection */
	for (int i = 0; i < f.nconn; i++)
		send_one(&f.c[i]);
	{
		/* a hard stop well after the deadline */
		struct timeval tv = { (long)f.deadline_s + 30, 0 };
		event_base_loopexit(f.base, &tv);
	}
	event_base_dispatch(f.base);
	{
		double secs = (f.timing ? bench_now_s() : 0) - f.start;
		double p50 = 0, p99 = 0, mx = 0, cpu;
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		if (!f.timing)
			f.errors += (uint64_t)(f.nconn - f.warm) + 1;
		if (f.done > 0) {
			qsort(f.lat, f.done, sizeof(double), cmp_d);
			p50 = f.lat[f.done / 2];
			p99 = f.lat[(size_t)((double)f.done * 0.99)];
			mx = f.lat[f.done - 1];
		}
		printf("{\"requests\": %llu, \"errors\": %llu, \"seconds\": "
		    "%.3f, \"rate_per_s\": %.1f, \"latency_ms\": {\"p50\": "
		    "%.3f, \"p99\": %.3f, \"max\": %.3f}, \"reconnects\": %llu, "
		    "\"bytes\": %llu, \"cpu_s\": %.3f}\n",
		    (unsigned long long)f.done,
		    (unsigned long long)f.errors, secs > 0 ? secs : 0,
		    secs > 0 ? (double)f.done / secs : 0, p50, p99, mx,
		    (unsigned long long)f.reconnects,
		    (unsigned long long)f.bytes, cpu);
	}
	OPENSSL_cleanse(f.auth, sizeof(f.auth));
	for (int i = 0; i < f.nconn; i++) {
		if (f.c[i].conn != NULL)
			evhttp_connection_free(f.c[i].conn);
		event_free(f.c[i].next);
	}
	SSL_CTX_free(f.ctx);
	event_base_free(f.base);
	free(f.lat);
	free(f.ids);
	free(ids);
	return f.errors > 0 || f.done == 0 ? 1 : 0;
}
