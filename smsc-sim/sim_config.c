/*
 * The YAML config loader. libyaml's event API drives a small recursive
 * descent: every mapping rejects unknown and duplicate keys, every scalar
 * is typed here (plain integers in range, true/false, known enum names),
 * aliases, anchors and second documents are refused, and each error
 * names file:line:column and the dotted key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "smpp/proto.h"
#include "sim_config.h"

#define MAX_KEYS	48	/* keys in one mapping */

/* Account keys given in the file (the others take the top-level
 * defaults once the whole file is read, wherever those keys stand). */
#define SET_WINDOW	0x01
#define SET_ID_FORMAT	0x02

struct yp {
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	int		 have;
	const char	*name;
	char		*err;
	size_t		 errlen;
	int		 failed;
	unsigned char	 acct_set[SIM_MAX_ACCOUNTS];	/* SET_* bits */
};

static int
fail_at(struct yp *y, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_at(struct yp *y, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (y->failed)
		return -1;
	y->failed = 1;
	n = snprintf(y->err, y->errlen, "%s:%zu:%zu: ", y->name,
	    (size_t)m->line + 1, (size_t)m->column + 1);
	if (n < 0 || (size_t)n >= y->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(y->err + n, y->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Next event into y->ev; -1 on a syntax error or a refused construct. */
static int
next(struct yp *y)
{
	if (y->have) {
		yaml_event_delete(&y->ev);
		y->have = 0;
	}
	if (!yaml_parser_parse(&y->p, &y->ev)) {
		if (y->p.context != NULL)
			return fail_at(y, &y->p.problem_mark,
			    "syntax error: %s (%s at %zu:%zu)",
			    y->p.problem ? y->p.problem : "?", y->p.context,
			    (size_t)y->p.context_mark.line + 1,
			    (size_t)y->p.context_mark.column + 1);
		return fail_at(y, &y->p.problem_mark, "syntax error: %s",
		    y->p.problem ? y->p.problem : "?");
	}
	y->have = 1;
	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		return fail_at(y, &y->ev.start_mark,
		    "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		if (y->ev.data.scalar.anchor != NULL)
			return fail_at(y, &y->ev.start_mark,
			    "anchors are not allowed");
		break;
	case YAML_MAPPING_START_EVENT:
		if (y->ev.data.mapping_start.anchor != NULL)
			return fail_at(y, &y->ev.start_mark,
			    "anchors are not allowed");
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (y->ev.data.sequence_start.anchor != NULL)
			return fail_at(y, &y->ev.start_mark,
			    "anchors are not allowed");
		break;
	default:
		break;
	}
	return 0;
}

static const char *
type_name(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT: return "a scalar";
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_SEQUENCE_START_EVENT: return "a list";
	default: return "something else";
	}
}

/* The value of key must be a plain scalar; returns its text or NULL. */
static const char *
scalar(struct yp *y, const char *key, int plain)
{
	if (next(y) != 0)
		return NULL;
	if (y->ev.type != YAML_SCALAR_EVENT) {
		fail_at(y, &y->ev.start_mark, "%s: expected a value, got %s",
		    key, type_name(y->ev.type));
		return NULL;
	}
	if (plain && y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		fail_at(y, &y->ev.start_mark,
		    "%s: expected an unquoted value, got '%s'", key,
		    (const char *)y->ev.data.scalar.value);
		return NULL;
	}
	return (const char *)y->ev.data.scalar.value;
}

static int
get_u32(struct yp *y, const char *key, uint32_t min, uint32_t max,
    uint32_t *out)
{
	const char *v = scalar(y, key, 1);
	char *end;
	unsigned long long n;

	if (v == NULL)
		return -1;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (v[0] == '-' || v[0] == '+' || v[0] == '\0' || *end != '\0' ||
	    errno != 0 || n < min || n > max)
		return fail_at(y, &y->ev.start_mark,
		    "%s: expected integer %u..%u, got '%s'", key, min, max, v);
	*out = (uint32_t)n;
	return 0;
}

static int
get_port(struct yp *y, const char *key, int allow0, uint16_t *out)
{
	uint32_t v;

	if (get_u32(y, key, allow0 ? 0 : 1, 65535, &v) != 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
get_bool(struct yp *y, const char *key, int *out)
{
	const char *v = scalar(y, key, 1);

	if (v == NULL)
		return -1;
	if (strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0)
		*out = 0;
	else
		return fail_at(y, &y->ev.start_mark,
		    "%s: expected true or false, got '%s'", key, v);
	return 0;
}

/* A string of at most cap-1 bytes (min 1 byte if nonempty). */
static int
get_str(struct yp *y, const char *key, char *out, size_t cap, int nonempty)
{
	const char *v = scalar(y, key, 0);
	size_t n;

	if (v == NULL)
		return -1;
	n = y->ev.data.scalar.length;
	if (n >= cap || memchr(v, '\0', n) != NULL)
		return fail_at(y, &y->ev.start_mark,
		    "%s: expected a string of at most %zu bytes", key,
		    cap - 1);
	if (nonempty && n == 0)
		return fail_at(y, &y->ev.start_mark, "%s: must not be empty",
		    key);
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

static int
get_idfmt(struct yp *y, const char *key, enum sim_msgid_fmt *out)
{
	const char *v = scalar(y, key, 1);
	int f;

	if (v == NULL)
		return -1;
	if ((f = sim_msgid_parse_fmt(v)) < 0)
		return fail_at(y, &y->ev.start_mark, "%s: expected decimal, "
		    "hex, HEX, uuid, digits10 or digits20, got '%s'", key, v);
	*out = (enum sim_msgid_fmt)f;
	return 0;
}

/* A mapping walker: calls fn(y, key, fullkey, ctx) for each key with the
 * key event consumed; fn reads the value. Rejects duplicates. */
typedef int (*key_fn)(struct yp *, const char *key, const char *full,
    void *ctx);

/* The keys of a mapping whose start event was just read. */
static int
walk_map_body(struct yp *y, const char *prefix, key_fn fn, void *ctx)
{
	char seen[MAX_KEYS][40];
	size_t n_seen = 0;

	for (;;) {
		char key[40], full[96];
		yaml_mark_t km;

		if (next(y) != 0)
			return -1;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (y->ev.type != YAML_SCALAR_EVENT)
			return fail_at(y, &y->ev.start_mark,
			    "%s: keys must be plain words", prefix[0] ?
			    prefix : "top level");
		km = y->ev.start_mark;
		snprintf(full, sizeof(full), "%s%s%s", prefix,
		    prefix[0] ? "." : "", (const char *)y->ev.data.scalar.value);
		if (y->ev.data.scalar.length >= sizeof(key) ||
		    memchr(y->ev.data.scalar.value, '\0',
		    y->ev.data.scalar.length) != NULL)
			return fail_at(y, &km, "%s: unknown key", full);
		memcpy(key, y->ev.data.scalar.value,
		    y->ev.data.scalar.length + 1);
		for (size_t i = 0; i < n_seen; i++)
			if (strcmp(seen[i], key) == 0)
				return fail_at(y, &km, "%s: duplicate key",
				    full);
		if (n_seen >= MAX_KEYS)
			return fail_at(y, &km, "%s: too many keys", full);
		memcpy(seen[n_seen++], key, sizeof(key));
		switch (fn(y, key, full, ctx)) {
		case 0:
			break;
		case 1:
			return fail_at(y, &km, "%s: unknown key", full);
		default:
			return -1;
		}
	}
}

static int
walk_map(struct yp *y, const char *prefix, key_fn fn, void *ctx)
{
	if (next(y) != 0)
		return -1;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return fail_at(y, &y->ev.start_mark,
		    "%s: expected a mapping, got %s", prefix[0] ? prefix :
		    "top level", type_name(y->ev.type));
	return walk_map_body(y, prefix, fn, ctx);
}

/* ---- sections ------------------------------------------------------ */

static int
smpp_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct sim_config *c = ctx;

	if (strcmp(k, "listen") == 0)
		return get_str(y, f, c->smpp_host, sizeof(c->smpp_host), 1);
	if (strcmp(k, "port") == 0)
		return get_port(y, f, 0, &c->smpp_port);
	if (strcmp(k, "tls_port") == 0)
		return get_port(y, f, 1, &c->tls_port);
	if (strcmp(k, "tls_cert") == 0)
		return get_str(y, f, c->tls_cert, sizeof(c->tls_cert), 0);
	if (strcmp(k, "tls_key") == 0)
		return get_str(y, f, c->tls_key, sizeof(c->tls_key), 0);
	if (strcmp(k, "system_id") == 0)
		return get_str(y, f, c->smsc_system_id,
		    sizeof(c->smsc_system_id), 1);
	if (strcmp(k, "max_sessions") == 0)
		return get_u32(y, f, 1, 100000, &c->max_sessions);
	if (strcmp(k, "enquire_link_ms") == 0)
		return get_u32(y, f, 0, 3600000, &c->enquire_link_ms);
	if (strcmp(k, "inactivity_ms") == 0)
		return get_u32(y, f, 0, 86400000, &c->inactivity_ms);
	if (strcmp(k, "deliver_window") == 0)
		return get_u32(y, f, 1, 65536, &c->deliver_window);
	return 1;
}

static int
http_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct sim_config *c = ctx;

	if (strcmp(k, "listen") == 0)
		return get_str(y, f, c->http_host, sizeof(c->http_host), 1);
	if (strcmp(k, "port") == 0)
		return get_port(y, f, 0, &c->http_port);
	if (strcmp(k, "web_root") == 0)
		return get_str(y, f, c->web_root, sizeof(c->web_root), 0);
	if (strcmp(k, "max_body") == 0)
		return get_u32(y, f, 256, 16u << 20, &c->http_max_body);
	return 1;
}

static int
handsets_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct sim_config *c = ctx;

	if (strcmp(k, "max_handsets") == 0)
		return get_u32(y, f, 1, 10000000, &c->max_handsets);
	if (strcmp(k, "inbox_size") == 0)
		return get_u32(y, f, 1, 10000, &c->inbox_size);
	if (strcmp(k, "reassembly_timeout_ms") == 0)
		return get_u32(y, f, 1000, 86400000, &c->reasm_timeout_ms);
	if (strcmp(k, "text_max") == 0)
		return get_u32(y, f, 16, 65536, &c->store_text_max);
	return 1;
}

static const char *const out_keys[SIM_OUT_ENROUTE] = {
	"delivrd", "undeliv", "expired", "rejectd", "deleted", "unknown",
};

static int
mix_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct sim_receipts_cfg *r = ctx;

	for (int i = 0; i < SIM_OUT_ENROUTE; i++)
		if (strcmp(k, out_keys[i]) == 0)
			return get_u32(y, f, 0, 1000000, &r->mix[i]);
	return 1;
}

static int
receipts_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct sim_receipts_cfg *r = ctx;
	const char *v;

	if (strcmp(k, "mode") == 0) {
		if ((v = scalar(y, f, 1)) == NULL)
			return -1;
		if (strcmp(v, "deterministic") == 0)
			r->mode = SIM_DLR_DETERMINISTIC;
		else if (strcmp(v, "random") == 0)
			r->mode = SIM_DLR_RANDOM;
		else
			return fail_at(y, &y->ev.start_mark, "%s: expected "
			    "deterministic or random, got '%s'", f, v);
		return 0;
	}
	if (strcmp(k, "mix") == 0)
		return walk_map(y, f, mix_key, r);
	if (strcmp(k, "delay") == 0) {
		if ((v = scalar(y, f, 1)) == NULL)
			return -1;
		if (strcmp(v, "fixed") == 0)
			r->dist = SIM_DELAY_FIXED;
		else if (strcmp(v, "uniform") == 0)
			r->dist = SIM_DELAY_UNIFORM;
		else if (strcmp(v, "exponential") == 0)
			r->dist = SIM_DELAY_EXPONENTIAL;
		else
			return fail_at(y, &y->ev.start_mark, "%s: expected "
			    "fixed, uniform or exponential, got '%s'", f, v);
		return 0;
	}
	if (strcmp(k, "delay_min_ms") == 0)
		return get_u32(y, f, 0, 86400000, &r->delay_min_ms);
	if (strcmp(k, "delay_max_ms") == 0)
		return get_u32(y, f, 0, 86400000, &r->delay_max_ms);
	if (strcmp(k, "delay_mean_ms") == 0)
		return get_u32(y, f, 0, 86400000, &r->delay_mean_ms);
	if (strcmp(k, "intermediate") == 0)
		return get_bool(y, f, &r->intermediate);
	if (strcmp(k, "duplicate_pct") == 0)
		return get_u32(y, f, 0, 100, &r->duplicate_pct);
	if (strcmp(k, "late_pct") == 0)
		return get_u32(y, f, 0, 100, &r->late_pct);
	if (strcmp(k, "late_ms") == 0)
		return get_u32(y, f, 0, 86400000, &r->late_ms);
	if (strcmp(k, "queue_max") == 0)
		return get_u32(y, f, 16, 10000000, &r->queue_max);
	if (strcmp(k, "hold_ms") == 0)
		return get_u32(y, f, 0, 86400000, &r->hold_ms);
	return 1;
}

static int
faults_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct sim_faults_cfg *x = ctx;

	if (strcmp(k, "throttle_tps") == 0)
		return get_u32(y, f, 0, 100000000, &x->throttle_tps);
	if (strcmp(k, "error_pct") == 0)
		return get_u32(y, f, 0, 100, &x->error_pct);
	if (strcmp(k, "error_status") == 0)
		return get_u32(y, f, 1, 0xffffffffu, &x->error_status);
	if (strcmp(k, "delay_ms") == 0)
		return get_u32(y, f, 0, 600000, &x->delay_ms);
	if (strcmp(k, "drop_after") == 0)
		return get_u32(y, f, 0, 0xffffffffu, &x->drop_after);
	if (strcmp(k, "silent_enquire_link") == 0)
		return get_bool(y, f, &x->silent_enquire_link);
	if (strcmp(k, "refuse_binds") == 0)
		return get_bool(y, f, &x->refuse_binds);
	if (strcmp(k, "refuse_status") == 0)
		return get_u32(y, f, 1, 0xffffffffu, &x->refuse_status);
	return 1;
}

struct acct_ctx {
	struct sim_config	*c;
	struct sim_account_cfg	*a;
	int			 has_id;
	int			 has_pw;
};

static int
binds_list(struct yp *y, const char *f, unsigned *out)
{
	if (next(y) != 0)
		return -1;
	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail_at(y, &y->ev.start_mark,
		    "%s: expected a list like [tx, rx, trx], got %s", f,
		    type_name(y->ev.type));
	*out = 0;
	for (;;) {
		const char *v;

		if (next(y) != 0)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (y->ev.type != YAML_SCALAR_EVENT)
			return fail_at(y, &y->ev.start_mark,
			    "%s: expected tx, rx or trx", f);
		v = (const char *)y->ev.data.scalar.value;
		if (strcmp(v, "tx") == 0)
			*out |= SIM_BIND_TX;
		else if (strcmp(v, "rx") == 0)
			*out |= SIM_BIND_RX;
		else if (strcmp(v, "trx") == 0)
			*out |= SIM_BIND_TRX;
		else
			return fail_at(y, &y->ev.start_mark,
			    "%s: expected tx, rx or trx, got '%s'", f, v);
	}
	if (*out == 0)
		return fail_at(y, &y->ev.start_mark, "%s: empty list", f);
	return 0;
}

static int
acct_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct acct_ctx *ac = ctx;
	struct sim_account_cfg *a = ac->a;

	if (strcmp(k, "system_id") == 0) {
		ac->has_id = 1;
		if (get_str(y, f, a->system_id, sizeof(a->system_id), 1) != 0)
			return -1;
		for (size_t i = 0; i < ac->c->n_accounts; i++)
			if (strcmp(ac->c->accounts[i].system_id,
			    a->system_id) == 0)
				return fail_at(y, &y->ev.start_mark,
				    "%s: duplicate account '%s'", f,
				    a->system_id);
		return 0;
	}
	if (strcmp(k, "password") == 0) {
		ac->has_pw = 1;
		return get_str(y, f, a->password, sizeof(a->password), 0);
	}
	if (strcmp(k, "binds") == 0)
		return binds_list(y, f, &a->binds);
	if (strcmp(k, "window") == 0) {
		y->acct_set[ac->c->n_accounts] |= SET_WINDOW;
		return get_u32(y, f, 1, 100000, &a->window);
	}
	if (strcmp(k, "tps") == 0)
		return get_u32(y, f, 0, 100000000, &a->tps);
	if (strcmp(k, "message_id") == 0) {
		y->acct_set[ac->c->n_accounts] |= SET_ID_FORMAT;
		return get_idfmt(y, f, &a->id_format);
	}
	if (strcmp(k, "max_binds") == 0)
		return get_u32(y, f, 0, 100000, &a->max_binds);
	return 1;
}

static int
accounts_list(struct yp *y, const char *f, struct sim_config *c)
{
	if (next(y) != 0)
		return -1;
	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail_at(y, &y->ev.start_mark,
		    "%s: expected a list of accounts, got %s", f,
		    type_name(y->ev.type));
	for (;;) {
		struct acct_ctx ac;
		yaml_mark_t m;
		char pre[48];

		if (next(y) != 0)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		m = y->ev.start_mark;
		if (y->ev.type != YAML_MAPPING_START_EVENT)
			return fail_at(y, &m, "%s: each account is a mapping",
			    f);
		if (c->n_accounts >= SIM_MAX_ACCOUNTS)
			return fail_at(y, &m, "%s: more than %d accounts", f,
			    SIM_MAX_ACCOUNTS);
		ac.c = c;
		ac.a = &c->accounts[c->n_accounts];
		ac.has_id = ac.has_pw = 0;
		memset(ac.a, 0, sizeof(*ac.a));
		ac.a->binds = SIM_BIND_ALL;
		y->acct_set[c->n_accounts] = 0;
		snprintf(pre, sizeof(pre), "%s[%zu]", f, c->n_accounts);
		if (walk_map_body(y, pre, acct_key, &ac) != 0)
			return -1;
		if (!ac.has_id || !ac.has_pw)
			return fail_at(y, &m, "%s: needs system_id and "
			    "password", pre);
		c->n_accounts++;
	}
}

static int
top_key(struct yp *y, const char *k, const char *f, void *ctx)
{
	struct sim_config *c = ctx;

	if (strcmp(k, "smpp") == 0)
		return walk_map(y, f, smpp_key, c);
	if (strcmp(k, "http") == 0)
		return walk_map(y, f, http_key, c);
	if (strcmp(k, "handsets") == 0)
		return walk_map(y, f, handsets_key, c);
	if (strcmp(k, "receipts") == 0)
		return walk_map(y, f, receipts_key, &c->receipts);
	if (strcmp(k, "faults") == 0)
		return walk_map(y, f, faults_key, &c->faults);
	if (strcmp(k, "accept_any") == 0)
		return get_bool(y, f, &c->accept_any);
	if (strcmp(k, "default_message_id") == 0)
		return get_idfmt(y, f, &c->default_id_format);
	if (strcmp(k, "default_window") == 0)
		return get_u32(y, f, 1, 100000, &c->default_window);
	if (strcmp(k, "accounts") == 0)
		return accounts_list(y, f, c);
	return 1;
}

void
sim_config_defaults(struct sim_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->smpp_host, sizeof(c->smpp_host), "127.0.0.1");
	c->smpp_port = 2776;
	snprintf(c->smsc_system_id, sizeof(c->smsc_system_id), "smsc-sim");
	c->max_sessions = 1024;
	c->enquire_link_ms = 0;
	c->inactivity_ms = 0;
	c->deliver_window = 256;
	snprintf(c->http_host, sizeof(c->http_host), "127.0.0.1");
	c->http_port = 8776;
	c->http_max_body = 64 * 1024;
	c->max_handsets = 10000;
	c->inbox_size = 50;
	c->reasm_timeout_ms = 60000;
	c->store_text_max = 2048;
	c->accept_any = 0;
	c->default_id_format = SIM_ID_HEX;
	c->default_window = 256;
	c->receipts.mode = SIM_DLR_DETERMINISTIC;
	c->receipts.mix[SIM_OUT_DELIVRD] = 90;
	c->receipts.mix[SIM_OUT_UNDELIV] = 4;
	c->receipts.mix[SIM_OUT_EXPIRED] = 2;
	c->receipts.mix[SIM_OUT_REJECTD] = 2;
	c->receipts.mix[SIM_OUT_DELETED] = 1;
	c->receipts.mix[SIM_OUT_UNKNOWN] = 1;
	c->receipts.dist = SIM_DELAY_FIXED;
	c->receipts.intermediate = 1;
	c->receipts.late_ms = 60000;
	c->receipts.queue_max = 1000000;
	c->receipts.hold_ms = 30000;
	c->faults.error_status = SMPP_RSYSERR;
	c->faults.refuse_status = SMPP_RBINDFAIL;
}

static int
load(struct sim_config *c, struct yp *y)
{
	size_t first = c->n_accounts;	/* accounts this file adds */
	int rc = -1;

	if (next(y) != 0 || y->ev.type != YAML_STREAM_START_EVENT)
		goto out;
	if (next(y) != 0)
		goto out;
	if (y->ev.type == YAML_STREAM_END_EVENT) {
		rc = 0;		/* an empty file: the defaults */
		goto out;
	}
	if (y->ev.type != YAML_DOCUMENT_START_EVENT)
		goto out;
	if (next(y) != 0)
		goto out;
	if (y->ev.type == YAML_SCALAR_EVENT &&
	    y->ev.data.scalar.length == 0) {
		/* a document with only comments */
	} else if (y->ev.type != YAML_MAPPING_START_EVENT) {
		fail_at(y, &y->ev.start_mark, "top level: expected a "
		    "mapping, got %s", type_name(y->ev.type));
		goto out;
	} else if (walk_map_body(y, "", top_key, c) != 0) {
		goto out;
	}
	for (size_t i = first; i < c->n_accounts; i++) {
		if (!(y->acct_set[i] & SET_WINDOW))
			c->accounts[i].window = c->default_window;
		if (!(y->acct_set[i] & SET_ID_FORMAT))
			c->accounts[i].id_format = c->default_id_format;
	}
	if (next(y) != 0 || y->ev.type != YAML_DOCUMENT_END_EVENT)
		goto out;
	if (next(y) != 0)
		goto out;
	if (y->ev.type != YAML_STREAM_END_EVENT) {
		fail_at(y, &y->ev.start_mark,
		    "only one YAML document is allowed");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && !y->failed)
		fail_at(y, &y->ev.start_mark, "unexpected YAML structure");
	if (y->have)
		yaml_event_delete(&y->ev);
	y->have = 0;
	return rc;
}

static int
check(struct sim_config *c, const char *name, char *err, size_t errlen)
{
	if (c->tls_port != 0 &&
	    (c->tls_cert[0] == '\0' || c->tls_key[0] == '\0')) {
		snprintf(err, errlen, "%s: smpp.tls_port needs smpp.tls_cert "
		    "and smpp.tls_key", name);
		return -1;
	}
	if (c->receipts.delay_max_ms < c->receipts.delay_min_ms)
		c->receipts.delay_max_ms = c->receipts.delay_min_ms;
	return 0;
}

int
sim_config_load_mem(struct sim_config *c, const char *name,
    const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct yp y;
	int rc;

	memset(&y, 0, sizeof(y));
	y.name = name;
	y.err = err;
	y.errlen = errlen;
	if (!yaml_parser_initialize(&y.p)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&y.p, data, len);
	rc = load(c, &y);
	yaml_parser_delete(&y.p);
	if (rc == 0)
		rc = check(c, name, err, errlen);
	return rc;
}

int
sim_config_load(struct sim_config *c, const char *path, char *err,
    size_t errlen)
{
	FILE *f;
	struct yp y;
	int rc;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	memset(&y, 0, sizeof(y));
	y.name = path;
	y.err = err;
	y.errlen = errlen;
	if (!yaml_parser_initialize(&y.p)) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_file(&y.p, f);
	rc = load(c, &y);
	yaml_parser_delete(&y.p);
	fclose(f);
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (rc == 0)
		rc = check(c, path, err, errlen);
	return rc;
}

const struct sim_account_cfg *
sim_config_account(const struct sim_config *c, const char *system_id,
    size_t len)
{
	for (size_t i = 0; i < c->n_accounts; i++)
		if (strlen(c->accounts[i].system_id) == len &&
		    memcmp(c->accounts[i].system_id, system_id, len) == 0)
			return &c->accounts[i];
	return NULL;
}

void
sim_config_wipe(struct sim_config *c)
{
	for (size_t i = 0; i < c->n_accounts; i++)
		OPENSSL_cleanse(c->accounts[i].password,
		    sizeof(c->accounts[i].password));
}
