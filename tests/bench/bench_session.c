/*
 * Session throughput on loopback, in two processes: a forked server
 * process answers every submit_sm with submit_sm_resp; this process binds
 * as a client and keeps a window of prebuilt submit_sm PDUs in flight
 * (smpp_session_send_raw), refilling from the response callback. Prints
 * msg/s for N messages; stops by itself (message count and time limit).
 *
 *   bench_session [--tls] [-n messages] [-w window] [-t max_seconds]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/build.h"
#include "smpp/listener.h"
#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/session.h"
#include "smpp/tls.h"
#include "testcert.h"

struct bench {
	struct event_base	*base;
	struct smpp_session	*s;
	uint8_t			 pdu[256];
	size_t			 pdu_len;
	uint64_t		 target, sent, done, failed;
	uint32_t		 window;
	double			 t0, t1;
	int			 stopping;
	uint64_t		 ids;		/* server: message id counter */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- server process ---- */

static void
srv_bind(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	(void)req;
	(void)arg;
	smpp_session_bind_reply(s, SMPP_ROK, "BENCH");
}

static void
srv_request(struct smpp_session *s, const struct smpp_scan *req, void *arg)
{
	static const char hex[] = "0123456789abcdef";
	struct bench *b = arg;
	struct smpp_req_ref ref = { req->hdr.id, req->hdr.seq };
	char id[17];
	uint64_t v = ++b->ids;
	int i = 16;

	/* A cheap unique id, as a gateway would hand out. */
	id[i] = '\0';
	do {
		id[--i] = hex[v & 15];
		v >>= 4;
	} while (v != 0 && i > 0);
	smpp_session_reply(s, ref, SMPP_ROK, id + i);
}

static void
srv_closed(struct smpp_session *s, enum smpp_close_reason r, void *arg)
{
	struct bench *b = arg;

	(void)s;
	(void)r;
	event_base_loopbreak(b->base);
}

static void
srv_accept(struct smpp_listener *l, struct bufferevent *bev, const char *peer,
    void *arg)
{
	static const struct smpp_session_ops ops = {
		.bind = srv_bind,
		.request = srv_request,
		.closed = srv_closed,
	};
	struct bench *b = arg;
	struct smpp_session_config cfg;

	(void)l;
	(void)peer;
	smpp_session_config_defaults(&cfg);
	cfg.in_window = 100000;
	cfg.enquire_link_ms = 0;
	b->s = smpp_session_new(b->base, bev, SMPP_ROLE_SERVER, &cfg, &ops, b,
	    "bench-srv");
}

static int
server_main(int pipefd, SSL_CTX *tls)
{
	struct bench b;
	struct smpp_listener *l;
	uint16_t port;

	memset(&b, 0, sizeof(b));
	b.base = event_base_new();
	l = smpp_listener_new(b.base, "127.0.0.1", 0, tls, srv_accept, &b,
	    "bench-lst");
	if (l == NULL)
		return 1;
	port = smpp_listener_port(l);
	if (write(pipefd, &port, sizeof(port)) != (ssize_t)sizeof(port))
		return 1;
	close(pipefd);
	event_base_dispatch(b.base);
	smpp_listener_free(l);
	event_base_free(b.base);
	return 0;
}

/* ---- client process ---- */

static void
fill(struct bench *b)
{
	while (!b->stopping && b->sent < b->target) {
		int rc = smpp_session_send_raw(b->s, b->pdu, b->pdu_len, NULL);

		if (rc != 0)
			break;	/* window or output full: writable/response */
		b->sent++;
	}
}

static void
cli_response(struct smpp_session *s, enum smpp_outcome o,
    const struct smpp_scan *resp, void *ctx, void *arg)
{
	struct bench *b = arg;

	(void)ctx;
	if (o != SMPP_OUT_RESP || resp->hdr.status != SMPP_ROK)
		b->failed++;
	b->done++;
	if (b->done == b->target && !b->stopping) {
		b->t1 = now_s();
		b->stopping = 1;
		smpp_session_unbind(s);
		return;
	}
	fill(b);
}

static void
cli_writable(struct smpp_session *s, void *arg)
{
	(void)s;
	fill(arg);
}

static void
cli_state(struct smpp_session *s, enum smpp_state from, enum smpp_state to,
    void *arg)
{
	struct bench *b = arg;

	(void)s;
	(void)from;
	if (to == SMPP_ST_BOUND_TX) {
		b->t0 = now_s();
		fill(b);
	}
}

static void
cli_closed(struct smpp_session *s, enum smpp_close_reason r, void *arg)
{
	struct bench *b = arg;

	(void)s;
	if (r != SMPP_CLOSE_UNBOUND)
		fprintf(stderr, "bench_session: closed: %s\n",
		    smpp_close_reason_name(r));
	b->s = NULL;
	event_base_loopbreak(b->base);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	(void)fd;
	(void)what;
	if (b->stopping || b->s == NULL)
		return;
	fprintf(stderr, "bench_session: time limit, %llu of %llu done\n",
	    (unsigned long long)b->done, (unsigned long long)b->target);
	b->t1 = now_s();
	b->stopping = 1;
	smpp_session_close(b->s);
}

static size_t
make_submit(uint8_t *p)
{
	static const char text[] = "Your verification code is 123456. "
	    "Do not share it with anyone.";
	size_t o = 16, tl = sizeof(text) - 1;

	/* service_type "", source 1/1 SEALGATE, destination 1/1 MSISDN */
	memcpy(p + o, "\0\1\1SEALGATE\0\1\1" "4915112345678", 28);
	o += 28;
	memcpy(p + o, "\0\0\0\0\0\1\0\0\0", 9);	/* esm..sm_default_msg_id */
	o += 9;
	p[o++] = (uint8_t)tl;
	memcpy(p + o, text, tl);
	o += tl;
	smpp_put32(p, (uint32_t)o);
	smpp_put32(p + 4, SMPP_SUBMIT_SM);
	smpp_put32(p + 8, 0);
	smpp_put32(p + 12, 1);
	return o;
}

static int
client_main(uint16_t port, SSL_CTX *tls, uint64_t n, uint32_t window,
    int max_s)
{
	static const struct smpp_session_ops ops = {
		.response = cli_response,
		.state = cli_state,
		.writable = cli_writable,
		.closed = cli_closed,
	};
	struct smpp_session_config cfg;
	struct bufferevent *bev;
	struct sockaddr_in sin;
	struct event *dl;
	struct timeval tv = { max_s, 0 };
	struct bench b;
	int one = 1;

	memset(&b, 0, sizeof(b));
	b.base = event_base_new();
	b.target = n;
	b.window = window;
	b.pdu_len = make_submit(b.pdu);
	smpp_session_config_defaults(&cfg);
	cfg.window = window;
	cfg.enquire_link_ms = 0;
	cfg.response_timeout_ms = (uint32_t)max_s * 1000;
	bev = tls != NULL ? smpp_tls_connect_bev(b.base, tls, "localhost") :
	    bufferevent_socket_new(b.base, -1, BEV_OPT_CLOSE_ON_FREE);
	b.s = smpp_session_new(b.base, bev, SMPP_ROLE_CLIENT, &cfg, &ops, &b,
	    "bench-cli");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0)
		return 1;
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	smpp_session_bind(b.s, SMPP_BIND_TRANSMITTER, "bench", "bench", "",
	    0, 0, "");
	dl = evtimer_new(b.base, deadline_cb, &b);
	evtimer_add(dl, &tv);
	event_base_dispatch(b.base);
	event_free(dl);
	event_base_free(b.base);
	if (b.t1 <= b.t0 || b.done == 0) {
		fprintf(stderr, "bench_session: no result\n");
		return 1;
	}
	printf("bench_session %s: %llu msgs (window %u, %zu-byte submit_sm) "
	    "in %.3f s = %.0f msg/s, failed %llu\n", tls != NULL ? "tls" :
	    "plain", (unsigned long long)b.done, window, b.pdu_len,
	    b.t1 - b.t0, (double)b.done / (b.t1 - b.t0),
	    (unsigned long long)b.failed);
	return b.done == b.target && b.failed == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	uint64_t n = 500000;
	uint32_t window = 256;
	int use_tls = 0, max_s = 30, pfd[2], status = 0, rc;
	struct testcert tc;
	SSL_CTX *stls = NULL, *ctls = NULL;
	uint16_t port = 0;
	pid_t pid;
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tls") == 0)
			use_tls = 1;
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			window = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			max_s = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_session [--tls] [-n N] "
			    "[-w window] [-t max_seconds]\n");
			return 2;
		}
	}
	if (n == 0 || window == 0 || max_s <= 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	smpp_log_init("bench_session", SMPP_LOG_WARN, 0);
	if (use_tls) {
		if (testcert_make(&tc, "localhost") != 0 ||
		    (stls = smpp_tls_server_ctx(tc.chain, tc.key, err,
		    sizeof(err))) == NULL ||
		    (ctls = smpp_tls_client_ctx(tc.ca, NULL, NULL, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "bench_session: tls: %s\n", err);
			return 1;
		}
		testcert_remove(&tc);
	}
	if (pipe(pfd) != 0)
		return 1;
	if ((pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		close(pfd[0]);
		alarm((unsigned)max_s + 10);	/* never outlive the parent */
		_exit(server_main(pfd[1], stls));
	}
	close(pfd[1]);
	if (read(pfd[0], &port, sizeof(port)) != (ssize_t)sizeof(port)) {
		fprintf(stderr, "bench_session: server did not start\n");
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return 1;
	}
	close(pfd[0]);
	rc = client_main(port, ctls, n, window, max_s);
	if (waitpid(pid, &status, 0) == pid && (!WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0))
		rc = 1;
	SSL_CTX_free(stls);
	SSL_CTX_free(ctls);
	return rc;
}
