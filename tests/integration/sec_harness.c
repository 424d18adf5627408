/*
 * A test-only daemon around the secure service, for test_sec_api.sh: an
 * event base, the store (SQLite path or DSN), sec_service_new with hooks
 * that write every SMS the service sends as one JSON line
 * {"source","msisdn","text"} to --sms FILE and every deliver_sm it hands
 * up as "deliver ACCOUNT KIND LEN" to --events FILE, and the handset API
 * on 127.0.0.1:--port. SIGTERM or SIGINT: clean exit 0.
 *
 * --control FIFO takes lines from the test (no extra port, no signals):
 *   MO SRC DST TEXT...          an MO deliver_sm (GSM 7) through sec_mo;
 *                               "mo taken|passed" goes to the events file
 *   MO16 SRC DST TEXT...        the same, UCS-2
 *   SUBMIT ACCOUNT GW_ID MSISDN TEXT...
 *                               a submit_sm (marked: rule "all") through
 *                               sec_submit; "submit GW_ID STATUS" follows
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "db/store.h"
#include "secure/secure.h"
#include "smpp/build.h"
#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/scan.h"
#include "smpp/text.h"

struct harness {
	struct event_base	*base;
	struct sec_service	*svc;
	FILE			*sms;
	FILE			*events;
	int			 ctl_fd;
	struct event		*ctl_ev;
	char			 line[4096];
	size_t			 line_len;
	unsigned long		 delivers;
	uint32_t		 seq;
};

struct done_call {
	sec_sms_done	 done;
	void		*arg;
};

static void
on_done_later(evutil_socket_t fd, short what, void *arg)
{
	struct done_call *d = arg;

	(void)fd;
	(void)what;
	d->done(d->arg, true);
	free(d);
}

static void
hook_send_sms(void *arg, const char *source, const char *msisdn,
    const char *text, sec_sms_done done, void *done_arg)
{
	struct harness	*h = arg;
	json_t		*o = json_pack("{s:s, s:s, s:s}", "source", source,
	    "msisdn", msisdn, "text", text);
	char		*s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	struct timeval	 zero = { 0, 0 };
	struct done_call *d;

	if (s != NULL) {
		fprintf(h->sms, "%s\n", s);
		fflush(h->sms);
	}
	free(s);
	json_decref(o);
	if (done != NULL && (d = malloc(sizeof(*d))) != NULL) {
		d->done = done;
		d->arg = done_arg;
		if (event_base_once(h->base, -1, EV_TIMEOUT, on_done_later, d,
		    &zero) < 0) {
			free(d);
			done(done_arg, true);
		}
	}
}

static void
hook_deliver(void *arg, const char *account, int kind, uint8_t *pdu,
    size_t len)
{
	struct harness *h = arg;

	h->delivers++;
	fprintf(h->events, "deliver %s %d %zu\n", account, kind, len);
	fflush(h->events);
	free(pdu);
}

static bool
hook_decimal(void *arg, const char *account)
{
	(void)arg;
	(void)account;
	return false;
}

static int
put_str(uint8_t *buf, size_t cap, size_t *n, const char *s)
{
	size_t l = strlen(s) + 1;

	if (*n + l > cap)
		return -1;
	memcpy(buf + *n, s, l);
	*n += l;
	return 0;
}

static int
put_bytes(uint8_t *buf, size_t cap, size_t *n, const uint8_t *p, size_t l)
{
	if (*n + l > cap)
		return -1;
	memcpy(buf + *n, p, l);
	*n += l;
	return 0;
}

/* A submit_sm or deliver_sm PDU with the given fields; its length (0 if
 * it does not fit). */
static size_t
build_sm(uint32_t cmd, uint32_t seq, const char *src, const char *dst,
    uint8_t rd, uint8_t dcs, const uint8_t *sm, size_t smlen, uint8_t *buf,
    size_t cap)
{
	const uint8_t	ton_npi[2] = { 1, 1 };
	/* esm_class, protocol_id, priority_flag */
	const uint8_t	mid[3] = { 0, 0, 0 };
	/* registered_delivery, replace_if_present, data_coding,
	 * sm_default_msg_id, sm_length */
	const uint8_t	tail[5] = { rd, 0, dcs, 0, (uint8_t)smlen };
	size_t		n = 16;

	if (smlen > 254 ||
	    put_str(buf, cap, &n, "") < 0 ||
	    put_bytes(buf, cap, &n, ton_npi, 2) < 0 ||
	    put_str(buf, cap, &n, src) < 0 ||
	    put_bytes(buf, cap, &n, ton_npi, 2) < 0 ||
	    put_str(buf, cap, &n, dst) < 0 ||
	    put_bytes(buf, cap, &n, mid, 3) < 0 ||
	    put_str(buf, cap, &n, "") < 0 ||
	    put_str(buf, cap, &n, "") < 0 ||
	    put_bytes(buf, cap, &n, tail, 5) < 0 ||
	    put_bytes(buf, cap, &n, sm, smlen) < 0)
		return 0;
	smpp_put32(buf, (uint32_t)n);
	smpp_put32(buf + 4, cmd);
	smpp_put32(buf + 8, 0);
	smpp_put32(buf + 12, seq);
	return n;
}

struct submit_ctx {
	struct harness	*h;
	char		 gw_id[65];
};

static void
on_submit_reply(void *arg, uint32_t status)
{
	struct submit_ctx *c = arg;

	fprintf(c->h->events, "submit %s %u\n", c->gw_id, status);
	fflush(c->h->events);
	free(c);
}

/* Splits "A B C rest..." into n words and the rest (in place). */
static int
words(char *line, char **w, int n, char **rest)
{
	char *p = line;

	for (int i = 0; i < n; i++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return -1;
		w[i] = p;
		while (*p != '\0' && *p != ' ')
			p++;
		if (*p == ' ')
			*p++ = '\0';
	}
	*rest = p;
	return 0;
}

static void
control_line(struct harness *h, char *line)
{
	struct smpp_limits	lim;
	struct smpp_scan	scan;
	uint8_t			pdu[512], sm[300];
	size_t			len, smlen;
	uint32_t		status;
	char			*w[4], *rest;

	smpp_limits_default(&lim);
	if (strncmp(line, "MO ", 3) == 0 || strncmp(line, "MO16 ", 5) == 0) {
		bool ucs2 = line[2] == '1';
		if (words(line + (ucs2 ? 5 : 3), w, 2, &rest) < 0)
			goto bad;
		if (ucs2) {
			smlen = 0;
			for (const char *p = rest; *p != '\0' && smlen < 254;
			    p++) {
				sm[smlen++] = 0;
				sm[smlen++] = (uint8_t)*p;
			}
		} else {
			smlen = strlen(rest);
			if (smlen > 254)
				smlen = 254;
			memcpy(sm, rest, smlen);
		}
		len = build_sm(SMPP_DELIVER_SM, ++h->seq, w[0], w[1], 0,
		    ucs2 ? SMPP_DCS_UCS2 : 0, sm, smlen, pdu,
		    sizeof(pdu));
		if (len == 0 || smpp_scan(pdu, len, &lim, &scan, &status) < 0)
			goto bad;
		fprintf(h->events, "mo %s\n", sec_mo(h->svc, &scan) ?
		    "taken" : "passed");
		fflush(h->events);
		return;
	}
	if (strncmp(line, "SUBMIT ", 7) == 0) {
		struct sec_mark_rule	 rule;
		struct submit_ctx	*c;

		if (words(line + 7, w, 3, &rest) < 0)
			goto bad;
		smlen = strlen(rest);
		if (smlen > 254)
			smlen = 254;
		len = build_sm(SMPP_SUBMIT_SM, ++h->seq, "Bank", w[2], 1, 0,
		    (const uint8_t *)rest, smlen, pdu, sizeof(pdu));
		if (len == 0 || smpp_scan(pdu, len, &lim, &scan, &status) < 0 ||
		    (c = calloc(1, sizeof(*c))) == NULL)
			goto bad;
		memset(&rule, 0, sizeof(rule));
		rule.enabled = true;
		rule.all = true;
		c->h = h;
		snprintf(c->gw_id, sizeof(c->gw_id), "%s", w[1]);
		sec_submit(h->svc, &rule, w[0], w[1], &scan, on_submit_reply,
		    c);
		return;
	}
bad:
	fprintf(h->events, "control bad line\n");
	fflush(h->events);
}

static void
on_control(evutil_socket_t fd, short what, void *arg)
{
	struct harness	*h = arg;
	ssize_t		 n;
	char		*nl;

	(void)what;
	n = read(fd, h->line + h->line_len, sizeof(h->line) - 1 - h->line_len);
	if (n <= 0)
		return;
	h->line_len += (size_t)n;
	h->line[h->line_len] = '\0';
	while ((nl = strchr(h->line, '\n')) != NULL) {
		size_t used = (size_t)(nl - h->line) + 1;
		*nl = '\0';
		if (nl > h->line && nl[-1] == '\r')
			nl[-1] = '\0';
		control_line(h, h->line);
		memmove(h->line, h->line + used, h->line_len - used + 1);
		h->line_len -= used;
	}
	if (h->line_len == sizeof(h->line) - 1)
		h->line_len = 0;	/* an overlong line: dropped */
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct harness *h = arg;

	(void)sig;
	(void)what;
	event_base_loopexit(h->base, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sec_harness --db DSN --port PORT --dir DIR "
	    "--sms FILE --events FILE [--control FIFO] [--cert F --key F] "
	    "[--otp-ttl S] [--reg-ttl S] [--max-tries N] [--sends-msisdn N] "
	    "[--sends-client N] [--daily-cap N] [--body-max N] [--cors ORIGIN]"
	    " [--no-sms] [--no-mo] [--short-code X] [--keyword K] "
	    "[--max-devices N] [--log-level L]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'D' },
		{ "sms", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'e' },
		{ "control", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "otp-ttl", required_argument, NULL, 1 },
		{ "reg-ttl", required_argument, NULL, 2 },
		{ "max-tries", required_argument, NULL, 3 },
		{ "sends-msisdn", required_argument, NULL, 4 },
		{ "sends-client", required_argument, NULL, 5 },
		{ "daily-cap", required_argument, NULL, 6 },
		{ "body-max", required_argument, NULL, 7 },
		{ "cors", required_argument, NULL, 8 },
		{ "no-sms", no_argument, NULL, 9 },
		{ "no-mo", no_argument, NULL, 10 },
		{ "short-code", required_argument, NULL, 11 },
		{ "keyword", required_argument, NULL, 12 },
		{ "log-level", required_argument, NULL, 13 },
		{ "max-devices", required_argument, NULL, 14 },
		{ NULL, 0, NULL, 0 },
	};
	struct harness		 h;
	struct sec_config	 cfg;
	struct sec_hooks	 hooks;
	struct db_store		*store;
	struct event		*sig_term, *sig_int;
	const char		*dsn = NULL, *dir = NULL, *sms = NULL;
	const char		*events = NULL, *control = NULL;
	const char		*cert = NULL, *key = NULL, *level = "info";
	char			 err[512], certbuf[600], keybuf[600];
	long			 port = 0;
	int			 c;

	memset(&h, 0, sizeof(h));
	h.ctl_fd = -1;
	sec_config_default(&cfg);
	cfg.enabled = true;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dsn = optarg; break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'D': dir = optarg; break;
		case 's': sms = optarg; break;
		case 'e': events = optarg; break;
		case 'c': control = optarg; break;
		case 'C': cert = optarg; break;
		case 'K': key = optarg; break;
		case 1: cfg.otp_ttl_s = (uint32_t)atol(optarg); break;
		case 2: cfg.registration_ttl_s = (uint32_t)atol(optarg); break;
		case 3: cfg.otp_max_tries = (uint32_t)atol(optarg); break;
		case 4: cfg.otp_sends_per_msisdn = (uint32_t)atol(optarg);
			break;
		case 5: cfg.otp_sends_per_client = (uint32_t)atol(optarg);
			break;
		case 6: cfg.otp_daily_cap = (uint32_t)atol(optarg); break;
		case 7: cfg.api_body_max = (uint32_t)atol(optarg); break;
		case 8:
			if (cfg.n_cors_origins < SEC_MAX_ORIGINS)
				snprintf(cfg.cors_origins[cfg.n_cors_origins++],
				    sizeof(cfg.cors_origins[0]), "%s", optarg);
			break;
		case 9: cfg.flow_sms = false; break;
		case 10: cfg.flow_mo = false; break;
		case 11: snprintf(cfg.short_code, sizeof(cfg.short_code), "%s",
			    optarg); break;
		case 12: snprintf(cfg.keyword, sizeof(cfg.keyword), "%s",
			    optarg); break;
		case 13: level = optarg; break;
		case 14: cfg.max_devices = (uint32_t)atol(optarg); break;
		default: usage();
		}
	}
	if (dsn == NULL || dir == NULL || sms == NULL || events == NULL ||
	    port <= 0 || port > 65535)
		usage();
	smpp_log_init("sec_harness", smpp_log_level_parse(level) < 0 ?
	    SMPP_LOG_INFO : smpp_log_level_parse(level), 0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(cfg.vault_dir, sizeof(cfg.vault_dir), "%s/vault", dir);
	snprintf(cfg.otp_secret, sizeof(cfg.otp_secret), "%s/otp.secret", dir);
	if (cert == NULL) {
		snprintf(certbuf, sizeof(certbuf), "%s/api.crt", dir);
		cert = certbuf;
	}
	if (key == NULL) {
		snprintf(keybuf, sizeof(keybuf), "%s/api.key", dir);
		key = keybuf;
	}
	if ((h.sms = fopen(sms, "a")) == NULL ||
	    (h.events = fopen(events, "a")) == NULL) {
		fprintf(stderr, "sec_harness: cannot open output files\n");
		return 1;
	}
	if ((h.base = event_base_new()) == NULL)
		return 1;
	if ((store = db_store_open(h.base, dsn, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "sec_harness: store: %s\n", err);
		return 1;
	}
	memset(&hooks, 0, sizeof(hooks));
	hooks.arg = &h;
	hooks.send_sms = hook_send_sms;
	hooks.deliver = hook_deliver;
	hooks.account_decimal_ids = hook_decimal;
	if ((h.svc = sec_service_new(h.base, store, &cfg, &hooks, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "sec_harness: service: %s\n", err);
		db_store_close(store);
		return 1;
	}
	if (sec_api_start(h.svc, "127.0.0.1", (uint16_t)port, cert, key, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "sec_harness: api: %s\n", err);
		sec_service_free(h.svc);
		db_store_close(store);
		return 1;
	}
	if (control != NULL) {
		/* O_RDWR: the FIFO never reports EOF between writers */
		if ((h.ctl_fd = open(control, O_RDWR | O_NONBLOCK)) < 0 ||
		    (h.ctl_ev = event_new(h.base, h.ctl_fd, EV_READ |
		    EV_PERSIST, on_control, &h)) == NULL ||
		    event_add(h.ctl_ev, NULL) < 0) {
			fprintf(stderr, "sec_harness: control %s: %s\n",
			    control, strerror(errno));
			return 1;
		}
	}
	sig_term = evsignal_new(h.base, SIGTERM, on_signal, &h);
	sig_int = evsignal_new(h.base, SIGINT, on_signal, &h);
	event_add(sig_term, NULL);
	event_add(sig_int, NULL);
	fprintf(stderr, "sec_harness: ready port=%ld\n", port);
	event_base_dispatch(h.base);

	if (h.ctl_ev != NULL)
		event_free(h.ctl_ev);
	if (h.ctl_fd >= 0)
		close(h.ctl_fd);
	event_free(sig_term);
	event_free(sig_int);
	/* as the daemon: the store first, its last callbacks may still
	 * reach the service (the pipeline's jobs hold it) */
	db_store_close(store);
	sec_service_free(h.svc);
	event_base_free(h.base);
	fprintf(stderr, "sec_harness: stopped delivers=%lu\n", h.delivers);
	fclose(h.sms);
	fclose(h.events);
	return 0;
}
