/*
 * The YAML config loader of smsc-sim. smpp/yamlcfg walks the file (one
 * document, a mapping at the top; no duplicate keys, aliases, anchors or
 * tags) and types the scalars; this file is the schema: one key callback
 * per mapping, the account rules, and the top-level defaults handed to
 * the accounts that do not set their own once the whole file is read.
 * Every error names file:line:column and the dotted key; all of a file's
 * errors are reported in one run.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "smpp/proto.h"
#include "smpp/yamlcfg.h"
#include "sim_config.h"

/* Account keys given in the file (the others take the top-level
 * defaults once the whole file is read, wherever those keys stand). */
#define SET_WINDOW	0x01
#define SET_ID_FORMAT	0x02

/* One load: the config filled and what the file said per account. */
struct ld {
	struct sim_config	*c;
	unsigned char		 acct_set[SIM_MAX_ACCOUNTS];	/* SET_* */
};

/* The simulator keeps its flags as int (the control API points at
 * them); yamlcfg reads bool. */
static int
get_flag(struct smpp_yc *y, const char *path, int *out)
{
	bool b;

	if (smpp_yc_get_bool(y, path, &b) != 0)
		return -1;
	*out = b;
	return 0;
}

/* A message id format by the names sim_msgid knows. */
static int
get_idfmt(struct smpp_yc *y, const char *path, enum sim_msgid_fmt *out)
{
	struct smpp_yc_enum tab[SIM_ID_DIGITS20 + 2];
	int v;

	for (int f = 0; f <= SIM_ID_DIGITS20; f++) {
		tab[f].name = sim_msgid_fmt_name((enum sim_msgid_fmt)f);
		tab[f].value = f;
	}
	tab[SIM_ID_DIGITS20 + 1].name = NULL;
	if (smpp_yc_get_enum(y, path, tab, &v) != 0)
		return -1;
	*out = (enum sim_msgid_fmt)v;
	return 0;
}

/* ---- sections ------------------------------------------------------ */

static int
smpp_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sim_config *c = ctx;

	if (strcmp(k, "listen") == 0)
		return smpp_yc_get_str(y, f, c->smpp_host,
		    sizeof(c->smpp_host), SMPP_YC_NONEMPTY);
	if (strcmp(k, "port") == 0)
		return smpp_yc_get_port(y, f, false, &c->smpp_port);
	if (strcmp(k, "tls_port") == 0)
		return smpp_yc_get_port(y, f, true, &c->tls_port);
	if (strcmp(k, "tls_cert") == 0)
		return smpp_yc_get_str(y, f, c->tls_cert, sizeof(c->tls_cert),
		    0);
	if (strcmp(k, "tls_key") == 0)
		return smpp_yc_get_str(y, f, c->tls_key, sizeof(c->tls_key),
		    0);
	if (strcmp(k, "system_id") == 0)
		return smpp_yc_get_str(y, f, c->smsc_system_id,
		    sizeof(c->smsc_system_id), SMPP_YC_NONEMPTY);
	if (strcmp(k, "max_sessions") == 0)
		return smpp_yc_get_u32(y, f, 1, 100000, &c->max_sessions);
	if (strcmp(k, "enquire_link_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 3600000, &c->enquire_link_ms);
	if (strcmp(k, "inactivity_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 86400000, &c->inactivity_ms);
	if (strcmp(k, "deliver_window") == 0)
		return smpp_yc_get_u32(y, f, 1, 65536, &c->deliver_window);
	return SMPP_YC_UNKNOWN;
}

static int
http_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sim_config *c = ctx;

	if (strcmp(k, "listen") == 0)
		return smpp_yc_get_str(y, f, c->http_host,
		    sizeof(c->http_host), SMPP_YC_NONEMPTY);
	if (strcmp(k, "port") == 0)
		return smpp_yc_get_port(y, f, false, &c->http_port);
	if (strcmp(k, "web_root") == 0)
		return smpp_yc_get_str(y, f, c->web_root, sizeof(c->web_root),
		    0);
	if (strcmp(k, "max_body") == 0)
		return smpp_yc_get_u32(y, f, 256, 16u << 20,
		    &c->http_max_body);
	return SMPP_YC_UNKNOWN;
}

static int
handsets_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sim_config *c = ctx;

	if (strcmp(k, "max_handsets") == 0)
		return smpp_yc_get_u32(y, f, 1, 10000000, &c->max_handsets);
	if (strcmp(k, "inbox_size") == 0)
		return smpp_yc_get_u32(y, f, 1, 10000, &c->inbox_size);
	if (strcmp(k, "reassembly_timeout_ms") == 0)
		return smpp_yc_get_u32(y, f, 1000, 86400000,
		    &c->reasm_timeout_ms);
	if (strcmp(k, "text_max") == 0)
		return smpp_yc_get_u32(y, f, 16, 65536, &c->store_text_max);
	return SMPP_YC_UNKNOWN;
}

static int
app_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sim_app_cfg *a = ctx;

	if (strcmp(k, "api_url") == 0)
		return smpp_yc_get_str(y, f, a->api_url, sizeof(a->api_url),
		    SMPP_YC_NONEMPTY);
	if (strcmp(k, "ca_file") == 0)
		return smpp_yc_get_str(y, f, a->ca_file, sizeof(a->ca_file),
		    0);
	if (strcmp(k, "insecure") == 0)
		return get_flag(y, f, &a->insecure);
	if (strcmp(k, "short_code") == 0)
		return smpp_yc_get_str(y, f, a->short_code,
		    sizeof(a->short_code), SMPP_YC_NONEMPTY);
	if (strcmp(k, "keyword") == 0)
		return smpp_yc_get_str(y, f, a->keyword, sizeof(a->keyword),
		    SMPP_YC_NONEMPTY);
	if (strcmp(k, "mo_account") == 0)
		return smpp_yc_get_str(y, f, a->mo_account,
		    sizeof(a->mo_account), 0);
	if (strcmp(k, "timeout_ms") == 0)
		return smpp_yc_get_u32(y, f, 100, 600000, &a->timeout_ms);
	if (strcmp(k, "code_wait_ms") == 0)
		return smpp_yc_get_u32(y, f, 100, 600000, &a->code_wait_ms);
	return SMPP_YC_UNKNOWN;
}

static const char *const out_keys[SIM_OUT_ENROUTE] = {
	"delivrd", "undeliv", "expired", "rejectd", "deleted", "unknown",
};

static int
mix_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sim_receipts_cfg *r = ctx;

	for (int i = 0; i < SIM_OUT_ENROUTE; i++)
		if (strcmp(k, out_keys[i]) == 0)
			return smpp_yc_get_u32(y, f, 0, 1000000, &r->mix[i]);
	return SMPP_YC_UNKNOWN;
}

static int
receipts_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	static const struct smpp_yc_enum modes[] = {
		{ "deterministic", SIM_DLR_DETERMINISTIC },
		{ "random", SIM_DLR_RANDOM },
		{ NULL, 0 },
	};
	static const struct smpp_yc_enum dists[] = {
		{ "fixed", SIM_DELAY_FIXED },
		{ "uniform", SIM_DELAY_UNIFORM },
		{ "exponential", SIM_DELAY_EXPONENTIAL },
		{ NULL, 0 },
	};
	struct sim_receipts_cfg *r = ctx;
	int v;

	if (strcmp(k, "mode") == 0) {
		if (smpp_yc_get_enum(y, f, modes, &v) != 0)
			return -1;
		r->mode = (enum sim_dlr_mode)v;
		return 0;
	}
	if (strcmp(k, "mix") == 0)
		return smpp_yc_walk_map(y, f, mix_key, r);
	if (strcmp(k, "delay") == 0) {
		if (smpp_yc_get_enum(y, f, dists, &v) != 0)
			return -1;
		r->dist = (enum sim_delay_dist)v;
		return 0;
	}
	if (strcmp(k, "delay_min_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 86400000, &r->delay_min_ms);
	if (strcmp(k, "delay_max_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 86400000, &r->delay_max_ms);
	if (strcmp(k, "delay_mean_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 86400000, &r->delay_mean_ms);
	if (strcmp(k, "intermediate") == 0)
		return get_flag(y, f, &r->intermediate);
	if (strcmp(k, "duplicate_pct") == 0)
		return smpp_yc_get_u32(y, f, 0, 100, &r->duplicate_pct);
	if (strcmp(k, "late_pct") == 0)
		return smpp_yc_get_u32(y, f, 0, 100, &r->late_pct);
	if (strcmp(k, "late_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 86400000, &r->late_ms);
	if (strcmp(k, "queue_max") == 0)
		return smpp_yc_get_u32(y, f, 16, 10000000, &r->queue_max);
	if (strcmp(k, "hold_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 86400000, &r->hold_ms);
	if (strcmp(k, "before_response_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 60000,
		    &r->before_response_ms);
	return SMPP_YC_UNKNOWN;
}

static int
faults_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sim_faults_cfg *x = ctx;

	if (strcmp(k, "throttle_tps") == 0)
		return smpp_yc_get_u32(y, f, 0, 100000000, &x->throttle_tps);
	if (strcmp(k, "error_pct") == 0)
		return smpp_yc_get_u32(y, f, 0, 100, &x->error_pct);
	if (strcmp(k, "error_status") == 0)
		return smpp_yc_get_u32(y, f, 1, 0xffffffffu, &x->error_status);
	if (strcmp(k, "delay_ms") == 0)
		return smpp_yc_get_u32(y, f, 0, 600000, &x->delay_ms);
	if (strcmp(k, "drop_after") == 0)
		return smpp_yc_get_u32(y, f, 0, 0xffffffffu, &x->drop_after);
	if (strcmp(k, "silent_enquire_link") == 0)
		return get_flag(y, f, &x->silent_enquire_link);
	if (strcmp(k, "refuse_binds") == 0)
		return get_flag(y, f, &x->refuse_binds);
	if (strcmp(k, "refuse_status") == 0)
		return smpp_yc_get_u32(y, f, 1, 0xffffffffu,
		    &x->refuse_status);
	return SMPP_YC_UNKNOWN;
}

/* ---- accounts ------------------------------------------------------ */

struct acct_ctx {
	struct ld		*l;
	struct sim_account_cfg	*a;
	size_t			 index;
	bool			 has_id;
	bool			 has_pw;
};

/* One of tx, rx, trx. Quoted names are taken too, as they always were
 * in this list (smpp_yc_get_enum wants them unquoted). */
static int
bind_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	static const struct smpp_yc_enum names[] = {
		{ "tx", SIM_BIND_TX }, { "rx", SIM_BIND_RX },
		{ "trx", SIM_BIND_TRX }, { NULL, 0 },
	};
	unsigned *bits = ctx;
	const char *v;
	size_t len;
	char q[256];

	(void)i;
	if (smpp_yc_get_scalar(y, f, &v, &len) != 0)
		return -1;
	for (size_t n = 0; names[n].name != NULL; n++)
		if (strcmp(v, names[n].name) == 0) {
			*bits |= (unsigned)names[n].value;
			return 0;
		}
	smpp_yc_quote(v, len, q, sizeof(q));
	return smpp_yc_error(y, f, "expected tx, rx or trx, got '%s'", q);
}

static int
acct_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct acct_ctx *ac = ctx;
	struct sim_account_cfg *a = ac->a;
	struct sim_config *c = ac->l->c;

	if (strcmp(k, "system_id") == 0) {
		ac->has_id = true;
		if (smpp_yc_get_str(y, f, a->system_id, sizeof(a->system_id),
		    SMPP_YC_NONEMPTY) != 0)
			return -1;
		for (size_t i = 0; i < ac->index; i++)
			if (strcmp(c->accounts[i].system_id,
			    a->system_id) == 0)
				return smpp_yc_error(y, f,
				    "duplicate account '%s'", a->system_id);
		return 0;
	}
	if (strcmp(k, "password") == 0) {
		ac->has_pw = true;
		return smpp_yc_get_str(y, f, a->password, sizeof(a->password),
		    SMPP_YC_SECRET);
	}
	if (strcmp(k, "binds") == 0) {
		a->binds = 0;
		if (smpp_yc_walk_seq(y, f, bind_item, &a->binds) != 0)
			return -1;
		/* At the closing bracket, the node read last. */
		if (a->binds == 0)
			return smpp_yc_error(y, f, "empty list");
		return 0;
	}
	if (strcmp(k, "window") == 0) {
		ac->l->acct_set[ac->index] |= SET_WINDOW;
		return smpp_yc_get_u32(y, f, 1, 100000, &a->window);
	}
	if (strcmp(k, "tps") == 0)
		return smpp_yc_get_u32(y, f, 0, 100000000, &a->tps);
	if (strcmp(k, "message_id") == 0) {
		ac->l->acct_set[ac->index] |= SET_ID_FORMAT;
		return get_idfmt(y, f, &a->id_format);
	}
	if (strcmp(k, "max_binds") == 0)
		return smpp_yc_get_u32(y, f, 0, 100000, &a->max_binds);
	return SMPP_YC_UNKNOWN;
}

static int
account_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct sim_config *c = l->c;
	struct acct_ctx ac;
	struct smpp_yc_mark m;

	(void)i;
	smpp_yc_peek(y, &m);
	if (c->n_accounts >= SIM_MAX_ACCOUNTS)
		return smpp_yc_error_at(y, &m, f, "more than %d accounts",
		    SIM_MAX_ACCOUNTS);
	memset(&ac, 0, sizeof(ac));
	ac.l = l;
	ac.index = c->n_accounts++;
	ac.a = &c->accounts[ac.index];
	memset(ac.a, 0, sizeof(*ac.a));
	ac.a->binds = SIM_BIND_ALL;
	l->acct_set[ac.index] = 0;
	if (smpp_yc_walk_map(y, f, acct_key, &ac) != 0)
		return -1;
	if (!ac.has_id || !ac.has_pw)
		return smpp_yc_error_at(y, &m, f, "needs system_id and "
		    "password");
	return 0;
}

static int
top_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct sim_config *c = l->c;

	if (strcmp(k, "smpp") == 0)
		return smpp_yc_walk_map(y, f, smpp_key, c);
	if (strcmp(k, "http") == 0)
		return smpp_yc_walk_map(y, f, http_key, c);
	if (strcmp(k, "handsets") == 0)
		return smpp_yc_walk_map(y, f, handsets_key, c);
	if (strcmp(k, "receipts") == 0)
		return smpp_yc_walk_map(y, f, receipts_key, &c->receipts);
	if (strcmp(k, "faults") == 0)
		return smpp_yc_walk_map(y, f, faults_key, &c->faults);
	if (strcmp(k, "app") == 0)
		return smpp_yc_walk_map(y, f, app_key, &c->app);
	if (strcmp(k, "accept_any") == 0)
		return get_flag(y, f, &c->accept_any);
	if (strcmp(k, "default_message_id") == 0)
		return get_idfmt(y, f, &c->default_id_format);
	if (strcmp(k, "default_window") == 0)
		return smpp_yc_get_u32(y, f, 1, 100000, &c->default_window);
	if (strcmp(k, "accounts") == 0)
		return smpp_yc_walk_seq(y, f, account_item, l);
	return SMPP_YC_UNKNOWN;
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
	snprintf(c->app.api_url, sizeof(c->app.api_url),
	    "https://127.0.0.1:8443");
	snprintf(c->app.ca_file, sizeof(c->app.ca_file),
	    "var/handset-api.crt");
	snprintf(c->app.short_code, sizeof(c->app.short_code), "7277");
	snprintf(c->app.keyword, sizeof(c->app.keyword), "SEAL");
	c->app.timeout_ms = 10000;
	c->app.code_wait_ms = 30000;
}

/* Walks the file of y over c; closes y. 0, or -1 with every error in
 * err, one per line. */
static int
load(struct sim_config *c, struct smpp_yc *y, char *err, size_t errlen)
{
	size_t first = c->n_accounts;	/* accounts this file adds */
	struct ld l;

	memset(&l, 0, sizeof(l));
	l.c = c;
	smpp_yc_walk_root(y, top_key, &l);
	if (smpp_yc_error_count(y) != 0) {
		smpp_yc_errors_join(y, err, errlen);
		smpp_yc_close(y);
		return -1;
	}
	smpp_yc_close(y);
	for (size_t i = first; i < c->n_accounts; i++) {
		if (!(l.acct_set[i] & SET_WINDOW))
			c->accounts[i].window = c->default_window;
		if (!(l.acct_set[i] & SET_ID_FORMAT))
			c->accounts[i].id_format = c->default_id_format;
	}
	return 0;
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
	struct smpp_yc *y;

	if ((y = smpp_yc_open_mem(name, data, len, err, errlen)) == NULL)
		return -1;
	if (load(c, y, err, errlen) != 0)
		return -1;
	return check(c, name, err, errlen);
}

int
sim_config_load(struct sim_config *c, const char *path, char *err,
    size_t errlen)
{
	struct smpp_yc *y;

	if ((y = smpp_yc_open_file(path, err, errlen)) == NULL)
		return -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (load(c, y, err, errlen) != 0)
		return -1;
	return check(c, path, err, errlen);
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
