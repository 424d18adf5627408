/*
 * Command-line parsing for smpp-bench (see bench_opts.h). Every number
 * is range-checked; a bad option names itself in the message.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/log.h"
#include "smpp/proto.h"

#include "bench_opts.h"

void
bench_usage(FILE *f)
{
	fprintf(f,
"usage: smpp-bench send --to MSISDN --text TEXT [options]\n"
"       smpp-bench load [-n N | --duration SECS] [-w W] [options]\n"
"\n"
"connection (both):\n"
"  --host H                 SMSC address (127.0.0.1)\n"
"  --port P                 SMSC port (2776)\n"
"  --system-id S            (bench)\n"
"  --password W             (bench; at most 8 characters)\n"
"  --system-type T          ()\n"
"  --bind tx|rx|trx         (trx; tx opens a separate rx for receipts)\n"
"  --tls                    SMPP over TLS\n"
"  --ca FILE                CA to verify the SMSC with (system store)\n"
"  --tls-host NAME          certificate name to check (--host)\n"
"  --response-timeout MS    per submit_sm (10000)\n"
"  --timeout SECS           the whole run (send: 30; load: derived)\n"
"  -v, --verbose            library log lines (repeat for debug)\n"
"\n"
"message (both):\n"
"  --from ADDR              source (Bench; digits: TON 1/NPI 1)\n"
"  --to MSISDN              destination (send)\n"
"  --text TEXT              UTF-8 text\n"
"  --encoding auto|gsm7|ucs2|latin1|binary   (auto)\n"
"  --split udh|udh16|sar|payload             long texts (udh)\n"
"  --registered-delivery N  (send 0, load 1)\n"
"  --service-type S\n"
"  --tlv TAG:HEX            extra TLV, tag in hex (repeatable)\n"
"  --id-match exact|hexdec  receipt id matching (exact)\n"
"\n"
"send:\n"
"  --wait-receipt SECS      wait this long for the receipt(s)\n"
"\n"
"load:\n"
"  -n N                     messages (1000 unless --duration)\n"
"  -w, --window W           outstanding submits per session (64)\n"
"  --sessions S             sessions (1)\n"
"  --rate R                 submits per second over all sessions\n"
"                           (0: as fast as the window allows)\n"
"  --duration SECS          send for this long instead of -n\n"
"  --warmup SECS            leave submits sent in the first SECS out of\n"
"                           the latency figures (0)\n"
"  --to-range LO-HI         destinations, cycled\n"
"                           (491700000000-491709999999)\n"
"  --to-file F              destinations, one a line, cycled\n"
"  --text-size N            generated text of N characters (20)\n"
"  --receipt-timeout SECS   wait for receipts after the last response (10)\n"
"  --max-errors N|PCT%%      exit 1 above this many errors (0)\n"
"  --retry-throttled N      re-send a throttled submit up to N times (0)\n"
"  --throttle-backoff MS    pause a session after ESME_RTHROTTLED (50)\n"
"  --max-pending N          receipt table size (524288)\n"
"  --json                   one JSON object as the last stdout line\n"
"  --progress | --no-progress   progress line (default: on a terminal)\n"
"\n"
"exit: 0 ok, 1 refused or too many errors, 2 usage, 3 connect/bind/TLS,\n"
"      4 timeout, peer lost or silent\n");
}

enum {
	O_HOST = 256, O_PORT, O_SYSID, O_PASS, O_SYSTYPE, O_BIND, O_TLS, O_CA,
	O_TLSHOST, O_FROM, O_TO, O_TEXT, O_ENC, O_SPLIT, O_RD, O_SVC, O_TLV,
	O_IDMATCH, O_WAITRCPT, O_TIMEOUT, O_RTO, O_SESSIONS, O_RATE, O_DUR,
	O_WARMUP,
	O_JSON, O_RANGE, O_TOFILE, O_TEXTSIZE, O_RCPTTO, O_MAXERR, O_RETRY,
	O_BACKOFF, O_PROGRESS, O_NOPROGRESS, O_MAXPEND, O_ENQ, O_HELP,
};

static const struct option longopts[] = {
	{ "host", required_argument, NULL, O_HOST },
	{ "port", required_argument, NULL, O_PORT },
	{ "system-id", required_argument, NULL, O_SYSID },
	{ "password", required_argument, NULL, O_PASS },
	{ "system-type", required_argument, NULL, O_SYSTYPE },
	{ "bind", required_argument, NULL, O_BIND },
	{ "tls", no_argument, NULL, O_TLS },
	{ "ca", required_argument, NULL, O_CA },
	{ "tls-host", required_argument, NULL, O_TLSHOST },
	{ "from", required_argument, NULL, O_FROM },
	{ "to", required_argument, NULL, O_TO },
	{ "text", required_argument, NULL, O_TEXT },
	{ "encoding", required_argument, NULL, O_ENC },
	{ "split", required_argument, NULL, O_SPLIT },
	{ "registered-delivery", required_argument, NULL, O_RD },
	{ "service-type", required_argument, NULL, O_SVC },
	{ "tlv", required_argument, NULL, O_TLV },
	{ "id-match", required_argument, NULL, O_IDMATCH },
	{ "wait-receipt", required_argument, NULL, O_WAITRCPT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "response-timeout", required_argument, NULL, O_RTO },
	{ "enquire-link", required_argument, NULL, O_ENQ },
	{ "window", required_argument, NULL, 'w' },
	{ "sessions", required_argument, NULL, O_SESSIONS },
	{ "rate", required_argument, NULL, O_RATE },
	{ "duration", required_argument, NULL, O_DUR },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "json", no_argument, NULL, O_JSON },
	{ "to-range", required_argument, NULL, O_RANGE },
	{ "to-file", required_argument, NULL, O_TOFILE },
	{ "text-size", required_argument, NULL, O_TEXTSIZE },
	{ "receipt-timeout", required_argument, NULL, O_RCPTTO },
	{ "max-errors", required_argument, NULL, O_MAXERR },
	{ "retry-throttled", required_argument, NULL, O_RETRY },
	{ "throttle-backoff", required_argument, NULL, O_BACKOFF },
	{ "progress", no_argument, NULL, O_PROGRESS },
	{ "no-progress", no_argument, NULL, O_NOPROGRESS },
	{ "max-pending", required_argument, NULL, O_MAXPEND },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static int
bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "smpp-bench: --%s %s: %s\n", opt, val, why);
	return -1;
}

static int
get_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '\0' || *s == '-' || !isdigit((unsigned char)*s))
		return bad(opt, s, "not a number");
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return bad(opt, s, "not a whole number");
	if (v < min || v > max) {
		char why[96];

		snprintf(why, sizeof(why), "out of range %llu..%llu",
		    (unsigned long long)min, (unsigned long long)max);
		return bad(opt, s, why);
	}
	*out = v;
	return 0;
}

static int
get_u32(const char *opt, const char *s, uint32_t min, uint32_t max,
    uint32_t *out)
{
	uint64_t v;

	if (get_u64(opt, s, min, max, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
get_double(const char *opt, const char *s, double min, double max,
    double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || errno != 0 || *end != '\0' || !isfinite(v))
		return bad(opt, s, "not a number");
	if (v < min || v > max) {
		char why[96];

		snprintf(why, sizeof(why), "out of range %g..%g", min, max);
		return bad(opt, s, why);
	}
	*out = v;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* TAG:HEX, the tag in hex (0x optional), the value as hex octets. */
static int
get_tlv(const char *s, struct bench_tlv *t)
{
	const char *colon = strchr(s, ':'), *v;
	char tag[16], *end;
	unsigned long tv;
	size_t n, tl;

	if (colon == NULL || colon == s)
		return bad("tlv", s, "expected TAG:HEX, e.g. 0x1403:0102");
	tl = (size_t)(colon - s);
	if (tl >= sizeof(tag))
		return bad("tlv", s, "tag too long");
	memcpy(tag, s, tl);
	tag[tl] = '\0';
	errno = 0;
	tv = strtoul(tag, &end, 16);
	if (errno != 0 || *end != '\0' || tv > 0xFFFF)
		return bad("tlv", s, "the tag is not a 16-bit hex number");
	v = colon + 1;
	n = strlen(v);
	if (n % 2 != 0)
		return bad("tlv", s, "the value needs an even number of hex "
		    "digits");
	if (n / 2 > BENCH_TLV_MAX_LEN)
		return bad("tlv", s, "value too long");
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)v[2 * i]);
		int lo = hexval((unsigned char)v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return bad("tlv", s, "the value is not hex");
		t->val[i] = (uint8_t)(hi << 4 | lo);
	}
	t->tag = (uint16_t)tv;
	t->len = (uint16_t)(n / 2);
	return 0;
}

static int
get_range(const char *s, struct bench_opts *o)
{
	const char *dash = strchr(s, '-');
	char lo[24], hi[24];
	size_t ll, hl;

	if (dash == NULL)
		return bad("to-range", s, "expected LO-HI");
	ll = (size_t)(dash - s);
	hl = strlen(dash + 1);
	if (ll == 0 || hl == 0 || ll > 19 || hl > 19)
		return bad("to-range", s, "each end has 1..19 digits");
	memcpy(lo, s, ll);
	lo[ll] = '\0';
	memcpy(hi, dash + 1, hl + 1);
	if (get_u64("to-range", lo, 0, UINT64_MAX, &o->range_lo) != 0 ||
	    get_u64("to-range", hi, 0, UINT64_MAX, &o->range_hi) != 0)
		return -1;
	if (o->range_hi < o->range_lo)
		return bad("to-range", s, "HI is below LO");
	o->range_width = ll == hl ? (int)ll : 0;
	return 0;
}

static void
defaults(struct bench_opts *o, enum bench_cmd cmd)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->host = "127.0.0.1";
	o->port = 2776;
	o->system_id = "bench";
	o->password = "bench";
	o->system_type = "";
	o->bind_cmd = SMPP_BIND_TRANSCEIVER;
	o->from = "Bench";
	o->enc = BENCH_ENC_AUTO;
	o->split = BENCH_SPLIT_UDH;
	o->registered_delivery = cmd == BENCH_CMD_LOAD ? 1 : 0;
	o->service_type = "";
	o->id_match = BENCH_ID_EXACT;
	o->response_timeout_ms = 10000;
	o->enquire_link_ms = 10000;
	o->log_level = SMPP_LOG_ERR;
	o->window = 64;
	o->sessions = 1;
	o->range_lo = 491700000000ull;
	o->range_hi = 491709999999ull;
	o->range_width = 12;
	o->text_size = 20;
	o->receipt_timeout_s = 10;
	o->max_errors_pct = -1;
	o->throttle_backoff_ms = 50;
	o->progress = -1;
	o->max_pending = 524288;
}

int
bench_opts_parse(int argc, char **argv, enum bench_cmd cmd,
    struct bench_opts *o)
{
	int ch, have_n = 0, rc = 0;
	uint64_t u = 0;
	uint32_t u32 = 0;

	defaults(o, cmd);
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, "n:w:vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case O_HOST:	o->host = optarg; break;
		case O_PORT:
			rc = get_u32("port", optarg, 1, 65535, &u32);
			o->port = (uint16_t)u32;
			break;
		case O_SYSID:	o->system_id = optarg; break;
		case O_PASS:	o->password = optarg; break;
		case O_SYSTYPE:	o->system_type = optarg; break;
		case O_BIND:
			if (strcmp(optarg, "tx") == 0)
				o->bind_cmd = SMPP_BIND_TRANSMITTER;
			else if (strcmp(optarg, "rx") == 0)
				o->bind_cmd = SMPP_BIND_RECEIVER;
			else if (strcmp(optarg, "trx") == 0)
				o->bind_cmd = SMPP_BIND_TRANSCEIVER;
			else
				rc = bad("bind", optarg, "tx, rx or trx");
			break;
		case O_TLS:	o->tls = 1; break;
		case O_CA:	o->ca = optarg; o->tls = 1; break;
		case O_TLSHOST:	o->tls_host = optarg; break;
		case O_FROM:	o->from = optarg; break;
		case O_TO:	o->to = optarg; break;
		case O_TEXT:	o->text = optarg; break;
		case O_ENC:
			if ((ch = bench_enc_parse(optarg)) < 0)
				rc = bad("encoding", optarg,
				    "auto, gsm7, ucs2, latin1 or binary");
			else
				o->enc = (enum bench_enc)ch;
			break;
		case O_SPLIT:
			if ((ch = bench_split_parse(optarg)) < 0)
				rc = bad("split", optarg,
				    "udh, udh16, sar or payload");
			else
				o->split = (enum bench_split)ch;
			break;
		case O_RD:
			rc = get_u32("registered-delivery", optarg, 0, 255,
			    &u32);
			o->registered_delivery = (uint8_t)u32;
			break;
		case O_SVC:
			if (strlen(optarg) >= SMPP_SERVICE_TYPE_MAX)
				rc = bad("service-type", optarg,
				    "at most 5 characters");
			o->service_type = optarg;
			break;
		case O_TLV:
			if (o->n_tlvs >= BENCH_MAX_TLVS)
				rc = bad("tlv", optarg, "too many TLVs");
			else
				rc = get_tlv(optarg, &o->tlvs[o->n_tlvs++]);
			break;
		case O_IDMATCH:
			if (strcmp(optarg, "exact") == 0)
				o->id_match = BENCH_ID_EXACT;
			else if (strcmp(optarg, "hexdec") == 0)
				o->id_match = BENCH_ID_HEXDEC;
			else
				rc = bad("id-match", optarg,
				    "exact or hexdec");
			break;
		case O_WAITRCPT:
			rc = get_double("wait-receipt", optarg, 0, 86400,
			    &o->wait_receipt_s);
			break;
		case O_TIMEOUT:
			rc = get_double("timeout", optarg, 0.1, 864000,
			    &o->timeout_s);
			break;
		case O_RTO:
			rc = get_u32("response-timeout", optarg, 10, 3600000,
			    &o->response_timeout_ms);
			break;
		case O_ENQ:
			rc = get_u32("enquire-link", optarg, 0, 3600000,
			    &o->enquire_link_ms);
			break;
		case 'n':
			rc = get_u64("n", optarg, 1, 1000000000000ull, &o->n);
			have_n = 1;
			break;
		case 'w':
			rc = get_u32("window", optarg, 1, 65536, &o->window);
			break;
		case O_SESSIONS:
			rc = get_u32("sessions", optarg, 1, 256, &o->sessions);
			break;
		case O_RATE:
			rc = get_double("rate", optarg, 0, 1e8, &o->rate);
			break;
		case O_DUR:
			rc = get_double("duration", optarg, 0.01, 864000,
			    &o->duration_s);
			break;
		case O_WARMUP:
			rc = get_double("warmup", optarg, 0, 3600,
			    &o->warmup_s);
			break;
		case O_JSON:	o->json = 1; break;
		case O_RANGE:	rc = get_range(optarg, o); break;
		case O_TOFILE:	o->to_file = optarg; break;
		case O_TEXTSIZE:
			rc = get_u64("text-size", optarg, 0, BENCH_TEXT_MAX,
			    &u);
			o->text_size = (size_t)u;
			break;
		case O_RCPTTO:
			rc = get_double("receipt-timeout", optarg, 0, 86400,
			    &o->receipt_timeout_s);
			break;
		case O_MAXERR: {
			size_t l = strlen(optarg);

			if (l > 1 && optarg[l - 1] == '%') {
				char num[32];

				if (l > sizeof(num)) {
					rc = bad("max-errors", optarg,
					    "too long");
					break;
				}
				memcpy(num, optarg, l - 1);
				num[l - 1] = '\0';
				rc = get_double("max-errors", num, 0, 100,
				    &o->max_errors_pct);
			} else {
				rc = get_u64("max-errors", optarg, 0,
				    UINT64_MAX, &o->max_errors);
				o->max_errors_pct = -1;
			}
			break;
		}
		case O_RETRY:
			rc = get_u32("retry-throttled", optarg, 0, 1000,
			    &o->retry_throttled);
			break;
		case O_BACKOFF:
			rc = get_u32("throttle-backoff", optarg, 0, 60000,
			    &o->throttle_backoff_ms);
			break;
		case O_PROGRESS:	o->progress = 1; break;
		case O_NOPROGRESS:	o->progress = 0; break;
		case O_MAXPEND:
			rc = get_u64("max-pending", optarg, 1, 1u << 26, &u);
			o->max_pending = (size_t)u;
			break;
		case 'v':
			if (o->log_level < SMPP_LOG_DEBUG)
				o->log_level++;
			break;
		case O_HELP:
		case 'h':
			bench_usage(stdout);
			exit(BENCH_EXIT_OK);
		default:
			fprintf(stderr, "smpp-bench: try --help\n");
			return -1;
		}
	}
	if (rc != 0)
		return -1;
	if (optind != argc) {
		fprintf(stderr, "smpp-bench: unexpected argument '%s'\n",
		    argv[optind]);
		return -1;
	}
	if (cmd == BENCH_CMD_SEND) {
		if (o->to == NULL || o->text == NULL) {
			fprintf(stderr, "smpp-bench send: --to and --text are "
			    "required\n");
			return -1;
		}
		if (o->bind_cmd == SMPP_BIND_RECEIVER) {
			fprintf(stderr, "smpp-bench send: --bind rx cannot "
			    "submit; use tx or trx\n");
			return -1;
		}
		if (o->timeout_s == 0)
			o->timeout_s = 30 + o->wait_receipt_s;
		return 0;
	}
	if (o->bind_cmd == SMPP_BIND_RECEIVER) {
		fprintf(stderr, "smpp-bench load: --bind rx cannot submit; "
		    "use tx or trx\n");
		return -1;
	}
	if (have_n && o->duration_s > 0) {
		fprintf(stderr, "smpp-bench load: give -n or --duration, not "
		    "both\n");
		return -1;
	}
	if (!have_n && o->duration_s == 0)
		o->n = 1000;
	if (o->to != NULL && o->to_file != NULL) {
		fprintf(stderr, "smpp-bench load: --to and --to-file exclude "
		    "each other\n");
		return -1;
	}
	if (o->timeout_s == 0) {
		/* Generous, but a run always ends by itself. */
		o->timeout_s = (o->duration_s > 0 ? o->duration_s : 600) +
		    o->receipt_timeout_s + o->response_timeout_ms / 1000.0 +
		    30;
	}
	return 0;
}
