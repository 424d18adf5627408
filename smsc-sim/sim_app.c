/*
 * The simulated handset app. Each app is a small state machine driven
 * by the answers of the gateway's handset API (sim_https.c) and by two
 * timers' worth of polling: flow A watches the handset's own inbox for
 * the code SMS, flow B polls the registration until the gateway has seen
 * the MO. One operation per app at a time (register, sync, reply,
 * revoke); the control request that started it is answered when it ends
 * (register: at once with 202; its outcome shows in the app's state).
 *
 * Opening follows the contract to the letter: the envelope's id must be
 * the id asked for, its scheme the device's; the DEK is unwrapped under
 * context = id and the body opened under AAD "sealgate/v1/body|id|msisdn"
 * with the id asked for; anything short of that is "cannot be opened",
 * never acked, and no plaintext of it is kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "secure/envelope.h"
#include "smpp/log.h"
#include "sim.h"
#include "sim_app.h"
#include "sim_handset.h"
#include "sim_https.h"
#include "sim_smsc.h"

#define APP_MAX		1000	/* apps in the simulator */
#define APP_MSGS_MAX	100	/* opened messages kept per app */
#define APP_ID_MAX	128	/* registration/device/message ids */
#define APP_TOKEN_MAX	128
#define APP_TEXT_MAX	(1u << 20)
#define SMS_POLL_MS	100
#define REG_POLL_MS	250
#define REPOST_AFTER_MS	5000

enum app_state { ST_NEW, ST_REGISTERING, ST_ACTIVE, ST_FAILED, ST_REVOKED };
static const char *const state_names[] = { "new", "registering", "active",
    "failed", "revoked" };

enum app_op { OP_NONE, OP_REGISTER, OP_SYNC, OP_REPLY, OP_REVOKE };
static const char *const op_names[] = { "", "register", "sync", "reply",
    "revoke" };

enum reg_step { R_CREATE, R_WAIT_SMS, R_CODE, R_POLL, R_KEY, R_PROOF };
static const char *const step_names[] = { "creating", "waiting_for_sms",
    "posting_code", "waiting_for_gateway", "posting_key", "proving" };

enum msg_state { M_OPENED, M_UNOPENABLE };

struct app_msg {
	char		 id[APP_ID_MAX];
	char		 from[32];
	char		 received_at[40];
	char		 expires_at[40];
	char		 content_type[64];
	enum msg_state	 state;
	int		 acked;
	int		 binary;
	char		*text;		/* UTF-8 or hex; wiped on free */
	size_t		 text_len;
	char		 error[160];
	int64_t		 opened_at;
};

struct sim_app {
	struct sim_apps	*apps;
	struct sim_app	*next;
	char		 msisdn[16];
	char		 device[9];
	enum app_state	 state;
	enum app_op	 op;
	enum reg_step	 step;
	char		 error[512];
	struct sim_https *cli;
	struct event	*timer;

	/* The device identity, once active. */
	enum sec_scheme	 scheme;
	EVP_PKEY	*key;
	char		 device_id[APP_ID_MAX];
	char		 token[APP_TOKEN_MAX];
	char		 old_token[APP_TOKEN_MAX];	/* re-key: to revoke */
	int64_t		 registered_at;
	char		 reg_mode[4];

	/* A registration in progress. */
	char		 mode[4];
	enum sec_scheme	 new_scheme;
	int		 new_bits;	/* RSA */
	EVP_PKEY	*new_key;
	char		 rid[APP_ID_MAX];
	char		 code[16];
	char		 short_code[24];
	char		 keyword[40];
	uint64_t	 sms_seen;	/* inbox seq already looked at */
	uint64_t	 deadline_ms;
	uint64_t	 repost_ms;
	int		 reposted;

	/* A sync in progress. */
	json_t		*list;		/* the ids to fetch */
	size_t		 idx;
	json_t		*res_opened, *res_failed;
	int		 res_acked;
	char		 cur_id[APP_ID_MAX];
	json_t		*reply_body;	/* reply: {"text"} */

	/* The control request waiting for the operation. */
	sim_app_done	 done;
	void		*done_arg;

	struct app_msg	 msgs[APP_MSGS_MAX];	/* ring, oldest at head */
	size_t		 msg_head, n_msgs;
	uint64_t	 n_opened, n_unopenable, n_acked, n_replies;
};

struct sim_apps {
	struct sim	*sim;
	struct sim_app	*head;
	size_t		 count;
};

/* ---- small things -------------------------------------------------- */

int
sim_app_valid_msisdn(const char *s)
{
	size_t n = strlen(s);

	if (n < 6 || n > 15 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
sim_app_valid_device(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9')))
			return 0;
	return 1;
}

/* Scheme by short or contract name; bits for RSA. */
static enum sec_scheme
scheme_parse(const char *name, int *bits)
{
	enum sec_scheme s;

	*bits = 0;
	if (name == NULL || strcmp(name, "x25519") == 0)
		return SEC_SCHEME_X25519;
	if (strcmp(name, "p256") == 0)
		return SEC_SCHEME_P256;
	if (strcmp(name, "rsa2048") == 0) {
		*bits = 2048;
		return SEC_SCHEME_RSA;
	}
	if (strcmp(name, "rsa1024") == 0) {
		*bits = 1024;
		return SEC_SCHEME_RSA;
	}
	s = sec_scheme_from_name(name);
	if (s == SEC_SCHEME_RSA)
		*bits = 2048;
	return s;
}

int
sim_app_scheme_check(const char *name)
{
	int bits;

	return scheme_parse(name, &bits) == SEC_SCHEME_NONE ? -1 : 0;
}

/* Ids the gateway hands out go into URL paths: URL-safe only. */
static int
safe_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= APP_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *
err_body(const char *code, const char *msg)
{
	return json_pack("{s:s, s:s}", "error", code, "message", msg);
}

/* Answers a refused verb. */
static void
refuse(sim_app_done done, void *arg, int status, const char *code,
    const char *msg)
{
	done(arg, status, err_body(code, msg));
}

/* The gateway said no: 502 with its status and error code. */
static json_t *
api_err_body(const char *what, const struct sim_https_resp *r)
{
	char msg[700];

	if (r->status == 0)
		return err_body("api_unreachable", r->message);
	snprintf(msg, sizeof(msg), "%s: %d %s%s%s", what, r->status,
	    r->api_error[0] ? r->api_error : "", r->message[0] ? ": " : "",
	    r->message);
	return json_pack("{s:s, s:s, s:i, s:s}", "error", "api_error",
	    "message", msg, "status", r->status, "api_error", r->api_error);
}

static void
msg_wipe(struct app_msg *m)
{
	if (m->text != NULL) {
		OPENSSL_cleanse(m->text, m->text_len);
		free(m->text);
	}
	memset(m, 0, sizeof(*m));
}

static struct app_msg *
msg_slot(struct sim_app *app, const char *id)
{
	struct app_msg *m;

	/* The same id again (a re-sync after a failed ack): replace. */
	for (size_t i = 0; i < app->n_msgs; i++) {
		m = &app->msgs[(app->msg_head + i) % APP_MSGS_MAX];
		if (strcmp(m->id, id) == 0) {
			msg_wipe(m);
			return m;
		}
	}
	if (app->n_msgs < APP_MSGS_MAX) {
		m = &app->msgs[(app->msg_head + app->n_msgs) % APP_MSGS_MAX];
		app->n_msgs++;
	} else {
		m = &app->msgs[app->msg_head];
		app->msg_head = (app->msg_head + 1) % APP_MSGS_MAX;
		msg_wipe(m);
	}
	return m;
}

static void
wipe_identity(struct sim_app *app)
{
	EVP_PKEY_free(app->key);	/* clears the private key */
	app->key = NULL;
	app->scheme = SEC_SCHEME_NONE;
	OPENSSL_cleanse(app->token, sizeof(app->token));
	app->device_id[0] = '\0';
}

static void
wipe_registration(struct sim_app *app)
{
	EVP_PKEY_free(app->new_key);
	app->new_key = NULL;
	OPENSSL_cleanse(app->rid, sizeof(app->rid));
	OPENSSL_cleanse(app->code, sizeof(app->code));
	evtimer_del(app->timer);
}

static void
sync_clear(struct sim_app *app)
{
	json_decref(app->list);
	json_decref(app->res_opened);
	json_decref(app->res_failed);
	json_decref(app->reply_body);
	app->list = app->res_opened = app->res_failed = NULL;
	app->reply_body = NULL;
	app->idx = 0;
	app->res_acked = 0;
}

/* Ends the operation and answers its control request. */
static void
op_end(struct sim_app *app, int status, json_t *body)
{
	sim_app_done done = app->done;
	void *arg = app->done_arg;

	app->op = OP_NONE;
	app->done = NULL;
	app->done_arg = NULL;
	if (done != NULL)
		done(arg, status, body);
	else
		json_decref(body);
}

static void
app_free(struct sim_app *app)
{
	if (app->op != OP_NONE)
		op_end(app, 503, err_body("stopped", "the app was reset"));
	sync_clear(app);
	wipe_registration(app);
	wipe_identity(app);
	OPENSSL_cleanse(app->old_token, sizeof(app->old_token));
	for (size_t i = 0; i < APP_MSGS_MAX; i++)
		msg_wipe(&app->msgs[i]);
	sim_https_free(app->cli);
	if (app->timer)
		event_free(app->timer);
	OPENSSL_cleanse(app, sizeof(*app));
	free(app);
}

static struct sim_app *
app_find(struct sim_apps *a, const char *msisdn, const char *device)
{
	for (struct sim_app *p = a->head; p != NULL; p = p->next)
		if (strcmp(p->msisdn, msisdn) == 0 &&
		    strcmp(p->device, device) == 0)
			return p;
	return NULL;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);

static struct sim_app *
app_get(struct sim_apps *a, const char *msisdn, const char *device)
{
	struct sim_app *app = app_find(a, msisdn, device), **pp;

	if (app != NULL || a->count >= APP_MAX)
		return app;
	if ((app = calloc(1, sizeof(*app))) == NULL)
		return NULL;
	app->apps = a;
	snprintf(app->msisdn, sizeof(app->msisdn), "%s", msisdn);
	snprintf(app->device, sizeof(app->device), "%s", device);
	if ((app->timer = evtimer_new(a->sim->base, timer_cb, app)) == NULL) {
		free(app);
		return NULL;
	}
	/* Kept in creation order (the JSON lists devices that way). */
	for (pp = &a->head; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = app;
	a->count++;
	return app;
}

/* A client for the configured API, made on first use (so a CA file
 * that appears after the simulator started is still found). */
static int
ensure_client(struct sim_app *app, char *err, size_t errlen)
{
	const struct sim_app_cfg *ac = &app->apps->sim->cfg->app;
	struct sim_https_opts o;

	if (app->cli != NULL)
		return 0;
	o.url = ac->api_url;
	o.ca_file = ac->ca_file;
	o.insecure = ac->insecure;
	o.timeout_ms = ac->timeout_ms;
	app->cli = sim_https_new(app->apps->sim->base, &o, err, errlen);
	return app->cli != NULL ? 0 : -1;
}

static void
arm(struct sim_app *app, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(app->timer, &tv);
}

/* ---- registration -------------------------------------------------- */

static void
enter_state(struct sim_app *app, enum app_state st)
{
	if (app->state != st)
		smpp_log(SMPP_LOG_DEBUG, app->msisdn, "app", "state",
		    "device=%s from=%s to=%s", app->device,
		    state_names[app->state], state_names[st]);
	app->state = st;
}

static void
enter_step(struct sim_app *app, enum reg_step st)
{
	smpp_log(SMPP_LOG_DEBUG, app->msisdn, "app", "step", "device=%s "
	    "from=%s to=%s", app->device, step_names[app->step],
	    step_names[st]);
	app->step = st;
}


static void reg_step(struct sim_app *app);
static void on_reg(void *arg, const struct sim_https_resp *r);

static void reg_fail(struct sim_app *app, const struct sim_https_resp *r,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The registration failed: why (and the gateway's answer r, if any). */
static void
reg_fail(struct sim_app *app, const struct sim_https_resp *r,
    const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (r != NULL && r->status == 0)
		snprintf(app->error, sizeof(app->error), "%s", r->message);
	else if (r != NULL)
		snprintf(app->error, sizeof(app->error), "%s: %d %s%s%s", why,
		    r->status, r->api_error, r->message[0] ? ": " : "",
		    r->message);
	else
		snprintf(app->error, sizeof(app->error), "%s", why);
	wipe_registration(app);
	/* An earlier identity stays usable. */
	enter_state(app, app->key != NULL ? ST_ACTIVE : ST_FAILED);
	smpp_log(SMPP_LOG_WARN, app->msisdn, "app", "register_failed",
	    "device=%s step=%s", app->device, step_names[app->step]);
	op_end(app, 200, NULL);
}

static int
send_req(struct sim_app *app, const char *method, const char *path,
    const json_t *body, const char *bearer, sim_https_cb cb)
{
	char err[300];

	if (sim_https_request(app->cli, method, path, body, bearer, cb, app,
	    err, sizeof(err)) == 0)
		return 0;
	if (app->op == OP_REGISTER) {
		reg_fail(app, NULL, "%s", err);
	} else {
		sync_clear(app);
		op_end(app, 502, err_body("api_unreachable", err));
	}
	return -1;
}

/* The first run of 6 to 10 digits (bounded by non-digits) in text. */
static int
find_code(const char *t, char *out, size_t cap)
{
	size_t i = 0;

	while (t[i] != '\0') {
		size_t j = i;

		while (t[j] >= '0' && t[j] <= '9')
			j++;
		if (j - i >= 6 && j - i <= 10 && j - i < cap) {
			memcpy(out, t + i, j - i);
			out[j - i] = '\0';
			return 0;
		}
		i = j > i ? j : i + 1;
	}
	return -1;
}

/* Flow A: a new SMS in this handset's inbox with a code in it? */
static int
look_for_code(struct sim_app *app)
{
	const struct sim_handset *h = sim_handsets_find(app->apps->sim->hs,
	    app->msisdn);
	int found = -1;

	if (h == NULL)
		return -1;
	for (uint32_t i = 0; i < h->count && found != 0; i++) {
		const struct sim_sms *m = sim_handset_sms(h, i);

		if (m->seq <= app->sms_seen)
			continue;
		app->sms_seen = m->seq;
		if (m->dir == 'i' && m->text != NULL && !m->binary)
			found = find_code(m->text, app->code,
			    sizeof(app->code));
	}
	return found;
}

static uint64_t
inbox_last_seq(struct sim_app *app)
{
	const struct sim_handset *h = sim_handsets_find(app->apps->sim->hs,
	    app->msisdn);

	if (h == NULL || h->count == 0)
		return 0;
	return sim_handset_sms(h, h->count - 1)->seq;
}

/* Flow B: six digits from the CSPRNG without modulo bias. */
static int
make_code(char out[16])
{
	uint32_t v;

	do {
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return -1;
	} while (v >= 4294000000u);	/* 4294 * 10^6 */
	snprintf(out, 16, "%06u", v % 1000000u);
	OPENSSL_cleanse(&v, sizeof(v));
	return 0;
}

static int
send_mo(struct sim_app *app)
{
	const struct sim_app_cfg *ac = &app->apps->sim->cfg->app;
	struct sim_mo mo;
	struct sim_mo_result res;
	char text[64];
	int rc;

	snprintf(text, sizeof(text), "%s %s", app->keyword, app->code);
	memset(&mo, 0, sizeof(mo));
	mo.from = app->msisdn;
	mo.to = app->short_code;
	mo.text = text;
	mo.account = ac->mo_account[0] ? ac->mo_account : NULL;
	memset(&res, 0, sizeof(res));
	rc = sim_smsc_send_mo(app->apps->sim, &mo, &res);
	OPENSSL_cleanse(text, sizeof(text));
	if (rc != 0) {
		reg_fail(app, NULL, "the MO to the short code was not sent: %s",
		    res.message ? res.message : "?");
		return -1;
	}
	return 0;
}

static int
new_keypair(enum sec_scheme s, int bits, EVP_PKEY **out)
{
	*out = NULL;
	switch (s) {
	case SEC_SCHEME_X25519:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		break;
	case SEC_SCHEME_P256:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case SEC_SCHEME_RSA:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		break;
	}
	return *out != NULL ? 0 : -1;
}

static void
post_code(struct sim_app *app)
{
	char path[256];
	json_t *b = json_pack("{s:s}", "code", app->code);

	enter_step(app, R_CODE);
	snprintf(path, sizeof(path), "/v1/registrations/%s/code", app->rid);
	send_req(app, "POST", path, b, NULL, on_reg);
	if (b != NULL) {
		/* jansson keeps its own copy of the code */
		json_t *c = json_object_get(b, "code");

		if (c != NULL)
			OPENSSL_cleanse((char *)json_string_value(c),
			    json_string_length(c));
		json_decref(b);
	}
}

static void
post_key(struct sim_app *app)
{
	unsigned char *der = NULL;
	char *b64, path[256];
	int n;
	json_t *b;

	enter_step(app, R_KEY);
	if (new_keypair(app->new_scheme, app->new_bits, &app->new_key) != 0) {
		reg_fail(app, NULL, "%s", "cannot make a key pair");
		return;
	}
	if ((n = i2d_PUBKEY(app->new_key, &der)) <= 0) {
		reg_fail(app, NULL, "%s", "cannot encode the public key");
		return;
	}
	b64 = sec_b64_encode(der, (size_t)n);
	OPENSSL_free(der);
	if (b64 == NULL) {
		reg_fail(app, NULL, "%s", "out of memory");
		return;
	}
	b = json_pack("{s:s, s:s}", "scheme", sec_scheme_name(app->new_scheme),
	    "public_key", b64);
	free(b64);
	snprintf(path, sizeof(path), "/v1/registrations/%s/key", app->rid);
	send_req(app, "POST", path, b, NULL, on_reg);
	json_decref(b);
}

/* Opens the challenge and posts the answer. */
static void
post_proof(struct sim_app *app, const json_t *challenge)
{
	struct sec_wrap w;
	uint8_t c[64];
	size_t clen = 0;
	char ctx[APP_ID_MAX + 16], path[256], *b64;
	int n, rc;
	json_t *b;

	enter_step(app, R_PROOF);
	n = snprintf(ctx, sizeof(ctx), "challenge:%s", app->rid);
	rc = sec_wrap_from_json(app->new_scheme, challenge, &w);
	if (rc == 0)
		rc = sec_wrap_open(app->new_key, &w, ctx, (size_t)n, c,
		    sizeof(c), &clen);
	OPENSSL_cleanse(ctx, sizeof(ctx));
	if (rc != 0 || clen != SEC_CHALLENGE_LEN) {
		OPENSSL_cleanse(c, sizeof(c));
		reg_fail(app, NULL, "the challenge cannot be opened (%s)",
		    rc != 0 ? sec_env_strerror(rc) : "wrong length");
		return;
	}
	b64 = sec_b64_encode(c, clen);
	OPENSSL_cleanse(c, sizeof(c));
	if (b64 == NULL) {
		reg_fail(app, NULL, "%s", "out of memory");
		return;
	}
	b = json_pack("{s:s}", "answer", b64);
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	snprintf(path, sizeof(path), "/v1/registrations/%s/proof", app->rid);
	send_req(app, "POST", path, b, NULL, on_reg);
	json_decref(b);
}

static void on_old_revoked(void *arg, const struct sim_https_resp *r);

static void
activate(struct sim_app *app, const json_t *j)
{
	const char *did = jstr(j, "device_id"), *tok = jstr(j, "device_token");

	if (did == NULL || tok == NULL || !safe_id(did) ||
	    strlen(tok) >= sizeof(app->token) || tok[0] == '\0') {
		reg_fail(app, NULL, "%s", "the proof answer has no valid device_id "
		    "and device_token");
		return;
	}
	/* Re-key: the old device goes (below) once the new one is in. */
	if (app->key != NULL)
		snprintf(app->old_token, sizeof(app->old_token), "%s",
		    app->token);
	wipe_identity(app);
	app->key = app->new_key;
	app->new_key = NULL;
	app->scheme = app->new_scheme;
	snprintf(app->device_id, sizeof(app->device_id), "%s", did);
	snprintf(app->token, sizeof(app->token), "%s", tok);
	snprintf(app->reg_mode, sizeof(app->reg_mode), "%s", app->mode);
	app->registered_at = (int64_t)time(NULL);
	enter_state(app, ST_ACTIVE);
	app->error[0] = '\0';
	wipe_registration(app);
	smpp_log(SMPP_LOG_INFO, app->msisdn, "app", "registered",
	    "device=%s device_id=%s scheme=%s mode=%s", app->device,
	    app->device_id, sec_scheme_name(app->scheme), app->reg_mode);
	if (app->old_token[0] != '\0') {
		char err[200];

		/* Best effort: the new device is active either way. */
		if (sim_https_request(app->cli, "DELETE", "/v1/device", NULL,
		    app->old_token, on_old_revoked, app, err,
		    sizeof(err)) == 0)
			return;
		OPENSSL_cleanse(app->old_token, sizeof(app->old_token));
	}
	op_end(app, 200, NULL);
}

/* The device this app had before a re-key, revoked at the gateway. */
static void
on_old_revoked(void *arg, const struct sim_https_resp *r)
{
	struct sim_app *app = arg;

	OPENSSL_cleanse(app->old_token, sizeof(app->old_token));
	smpp_log(r->status == 204 ? SMPP_LOG_INFO : SMPP_LOG_WARN,
	    app->msisdn, "app", "revoked_old", "device=%s status=%d",
	    app->device, r->status);
	op_end(app, 200, NULL);
}

static void
on_reg(void *arg, const struct sim_https_resp *r)
{
	struct sim_app *app = arg;
	const char *st;

	switch (app->step) {
	case R_CREATE: {
		const char *rid = jstr(r->json, "registration_id");

		if (r->status != 201) {
			reg_fail(app, r, "%s", "POST /v1/registrations");
			return;
		}
		if (rid == NULL || !safe_id(rid)) {
			reg_fail(app, NULL, "%s", "POST /v1/registrations: no valid "
			    "registration_id");
			return;
		}
		snprintf(app->rid, sizeof(app->rid), "%s", rid);
		if (strcmp(app->mode, "mo") == 0) {
			const char *sc = jstr(r->json, "short_code");
			const char *kw = jstr(r->json, "keyword");

			if (sc != NULL && sc[0] != '\0')
				snprintf(app->short_code,
				    sizeof(app->short_code), "%s", sc);
			if (kw != NULL && kw[0] != '\0')
				snprintf(app->keyword, sizeof(app->keyword),
				    "%s", kw);
			if (make_code(app->code) != 0) {
				reg_fail(app, NULL, "%s", "RAND_bytes failed");
				return;
			}
			if (send_mo(app) != 0)
				return;
			post_code(app);
		} else {
			enter_step(app, R_WAIT_SMS);
			reg_step(app);
		}
		return;
	}
	case R_CODE:
		st = jstr(r->json, "status");
		if (r->status == 200 && st != NULL &&
		    strcmp(st, "verified") == 0) {
			OPENSSL_cleanse(app->code, sizeof(app->code));
			post_key(app);
		} else if (r->status == 202 && strcmp(app->mode, "mo") == 0) {
			enter_step(app, R_POLL);
			arm(app, REG_POLL_MS);
		} else if (r->status == 403 && strcmp(app->mode, "sms") == 0 &&
		    sim_now_ms() < app->deadline_ms) {
			/* Not the code SMS after all: wait for another. */
			OPENSSL_cleanse(app->code, sizeof(app->code));
			enter_step(app, R_WAIT_SMS);
			arm(app, SMS_POLL_MS);
		} else {
			reg_fail(app, r, "%s", "POST /v1/registrations/{id}/code");
		}
		return;
	case R_POLL:
		st = jstr(r->json, "status");
		if (r->status != 200 || st == NULL) {
			reg_fail(app, r, "%s", "GET /v1/registrations/{id}");
		} else if (strcmp(st, "verified") == 0) {
			OPENSSL_cleanse(app->code, sizeof(app->code));
			post_key(app);
		} else if (strcmp(st, "waiting_for_sms") == 0 ||
		    strcmp(st, "waiting_for_code") == 0) {
			if (sim_now_ms() >= app->deadline_ms)
				reg_fail(app, NULL, "the gateway did not see the MO "
				    "within the wait (status %s)", st);
			else if (!app->reposted && sim_now_ms() >=
			    app->repost_ms) {
				app->reposted = 1;
				post_code(app);
			} else
				arm(app, REG_POLL_MS);
		} else {
			reg_fail(app, NULL, "registration %s", st);
		}
		return;
	case R_KEY: {
		json_t *ch = json_object_get(r->json, "challenge");

		if (r->status != 200 || !json_is_object(ch)) {
			reg_fail(app, r, "%s", "POST /v1/registrations/{id}/key");
			return;
		}
		post_proof(app, ch);
		return;
	}
	case R_PROOF:
		if (r->status != 201) {
			reg_fail(app, r, "%s", "POST /v1/registrations/{id}/proof");
			return;
		}
		activate(app, r->json);
		return;
	default:
		return;
	}
}

/* Timer-driven steps: inbox watch (flow A), registration poll (B). */
static void
reg_step(struct sim_app *app)
{
	char path[256];

	if (app->step == R_WAIT_SMS) {
		if (look_for_code(app) == 0) {
			post_code(app);
			return;
		}
		if (sim_now_ms() >= app->deadline_ms) {
			reg_fail(app, NULL, "no SMS with a code reached the handset "
			    "within %s", "code_wait_ms");
			return;
		}
		arm(app, SMS_POLL_MS);
	} else if (app->step == R_POLL) {
		snprintf(path, sizeof(path), "/v1/registrations/%s", app->rid);
		send_req(app, "GET", path, NULL, NULL, on_reg);
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_app *app = arg;

	(void)fd;
	(void)what;
	if (app->op == OP_REGISTER)
		reg_step(app);
}

static json_t *app_json(const struct sim_app *app);

void
sim_apps_register(struct sim_apps *a, const char *msisdn,
    const char *device, const char *mode, const char *scheme, int replace,
    sim_app_done done, void *arg)
{
	const struct sim_app_cfg *ac = &a->sim->cfg->app;
	struct sim_app *app;
	enum sec_scheme s;
	char err[400];
	int bits;
	json_t *b;

	if (device == NULL)
		device = "a";
	if (mode == NULL)
		mode = "sms";
	if (!sim_app_valid_msisdn(msisdn)) {
		refuse(done, arg, 400, "bad_msisdn", "the MSISDN must "
		    "be 6 to 15 digits without a leading zero");
		return;
	}
	if (!sim_app_valid_device(device)) {
		refuse(done, arg, 400, "bad_device", "device must be 1 "
		    "to 8 of a-z and 0-9");
		return;
	}
	if (strcmp(mode, "sms") != 0 && strcmp(mode, "mo") != 0) {
		refuse(done, arg, 400, "bad_mode", "mode must be sms "
		    "or mo");
		return;
	}
	if ((s = scheme_parse(scheme, &bits)) == SEC_SCHEME_NONE) {
		refuse(done, arg, 400, "bad_scheme", "scheme must be "
		    "x25519, p256, rsa2048 or a contract scheme name");
		return;
	}
	if ((app = app_get(a, msisdn, device)) == NULL) {
		refuse(done, arg, 503, "too_many", "too many apps or "
		    "out of memory");
		return;
	}
	if (app->op != OP_NONE) {
		refuse(done, arg, 409, "busy", "the app is busy with "
		    "another operation");
		return;
	}
	app->op = OP_REGISTER;
	enter_state(app, ST_REGISTERING);
	enter_step(app, R_CREATE);
	app->error[0] = '\0';
	snprintf(app->mode, sizeof(app->mode), "%s", mode);
	app->new_scheme = s;
	app->new_bits = bits;
	snprintf(app->short_code, sizeof(app->short_code), "%s",
	    ac->short_code);
	snprintf(app->keyword, sizeof(app->keyword), "%s", ac->keyword);
	app->sms_seen = inbox_last_seq(app);
	app->deadline_ms = sim_now_ms() + ac->code_wait_ms;
	app->repost_ms = sim_now_ms() + REPOST_AFTER_MS;
	app->reposted = 0;
	smpp_log(SMPP_LOG_INFO, app->msisdn, "app", "register", "device=%s "
	    "mode=%s scheme=%s replace=%d", app->device, mode,
	    sec_scheme_name(s), replace);
	/* Answer first: the outcome shows in the app's state. */
	done(arg, 202, app_json(app));
	if (ensure_client(app, err, sizeof(err)) != 0) {
		reg_fail(app, NULL, "%s", err);
		return;
	}
	b = json_pack("{s:s, s:s, s:s}", "msisdn", msisdn, "mode", mode,
	    "device_type", "smsc-sim");
	if (b != NULL && replace)
		json_object_set_new(b, "replace", json_true());
	send_req(app, "POST", "/v1/registrations", b, NULL, on_reg);
	json_decref(b);
}

/* ---- messages ------------------------------------------------------ */

static int
b64_field(const json_t *o, const char *key, uint8_t **out, size_t *len)
{
	const char *s = jstr(o, key);
	size_t cap;

	*out = NULL;
	if (s == NULL)
		return -1;
	cap = strlen(s) / 4 * 3 + 3;
	if ((*out = malloc(cap)) == NULL)
		return -1;
	if (sec_b64_decode(s, *out, cap, len) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
valid_utf8(const uint8_t *p, size_t n)
{
	json_t *j = json_stringn((const char *)p, n);	/* checks UTF-8 */
	int ok = j != NULL && memchr(p, '\0', n) == NULL;

	if (j != NULL) {
		OPENSSL_cleanse((char *)json_string_value(j), n);
		json_decref(j);
	}
	return ok;
}

int
sim_app_open(struct evp_pkey_st *dsk, int scheme, const char *msisdn,
    const char *id, const json_t *env, char **text, size_t *len,
    int *binary, char *why, size_t whylen)
{
	const char *eid = jstr(env, "id"), *sch = jstr(env, "scheme");
	const char *ct_type = jstr(env, "content_type");
	const json_t *key = json_object_get(env, "key");
	const json_t *body = json_object_get(env, "body");
	struct sec_wrap w;
	uint8_t dek[64], *nonce = NULL, *ct = NULL, *pt = NULL;
	size_t dlen = 0, nlen = 0, clen = 0, plen = 0;
	int rc = -1, bin;

	*text = NULL;
	*len = 0;
	*binary = 0;
	snprintf(why, whylen, "cannot be opened");
	if (!json_is_object(env) || eid == NULL || strcmp(eid, id) != 0 ||
	    sch == NULL || (int)sec_scheme_from_name(sch) != scheme ||
	    !json_is_object(key) || !json_is_object(body) ||
	    ct_type == NULL)
		return -1;
	if (strcmp(ct_type, "text/plain; charset=utf-8") == 0)
		bin = 0;
	else if (strcmp(ct_type, "application/octet-stream") == 0)
		bin = 1;
	else
		return -1;
	if (sec_wrap_from_json((enum sec_scheme)scheme, key, &w) != 0 ||
	    sec_wrap_open(dsk, &w, id, strlen(id), dek, sizeof(dek),
	    &dlen) != 0 || dlen != SEC_DEK_LEN)
		goto out;
	if (b64_field(body, "nonce", &nonce, &nlen) != 0 ||
	    nlen != SEC_NONCE_LEN ||
	    b64_field(body, "ciphertext", &ct, &clen) != 0 ||
	    clen < SEC_TAG_LEN || clen - SEC_TAG_LEN > APP_TEXT_MAX)
		goto out;
	if ((pt = malloc(clen - SEC_TAG_LEN + 1)) == NULL)
		goto out;
	if (sec_body_open(dek, id, msisdn, nonce, ct, clen, pt,
	    clen - SEC_TAG_LEN + 1, &plen) != 0)
		goto out;
	if (!bin && !valid_utf8(pt, plen)) {
		snprintf(why, whylen, "cannot be opened: the text is not "
		    "UTF-8");
		OPENSSL_cleanse(pt, plen);
		goto out;
	}
	if (bin) {
		/* Shown as hex. */
		char *hex = malloc(plen * 2 + 1);

		if (hex == NULL) {
			OPENSSL_cleanse(pt, plen);
			goto out;
		}
		for (size_t i = 0; i < plen; i++)
			snprintf(hex + 2 * i, 3, "%02x", pt[i]);
		OPENSSL_cleanse(pt, plen);
		free(pt);
		pt = (uint8_t *)hex;
		plen *= 2;
	}
	pt[plen] = '\0';
	*text = (char *)pt;
	*len = plen;
	*binary = bin;
	pt = NULL;
	why[0] = '\0';
	rc = 0;
out:
	OPENSSL_cleanse(dek, sizeof(dek));
	free(nonce);
	free(ct);
	free(pt);	/* wiped by sec_body_open on failure */
	return rc;
}

static int
open_envelope(const struct sim_app *app, const char *id, const json_t *env,
    struct app_msg *m)
{
	return sim_app_open(app->key, (int)app->scheme, app->msisdn, id, env,
	    &m->text, &m->text_len, &m->binary, m->error, sizeof(m->error));
}

static void sync_next(struct sim_app *app);

static void
sync_failed(struct sim_app *app, const char *id, const char *why)
{
	json_array_append_new(app->res_failed, json_pack("{s:s, s:s}", "id",
	    id, "error", why));
}

static void
on_ack(void *arg, const struct sim_https_resp *r)
{
	struct sim_app *app = arg;

	if (r->status == 204 || r->status == 200) {
		for (size_t i = 0; i < app->n_msgs; i++) {
			struct app_msg *m = &app->msgs[(app->msg_head + i) %
			    APP_MSGS_MAX];

			if (strcmp(m->id, app->cur_id) == 0)
				m->acked = 1;
		}
		app->res_acked++;
		app->n_acked++;
	} else if (r->status == 0) {
		json_t *b = api_err_body("POST /v1/messages/{id}/ack", r);

		sync_clear(app);
		op_end(app, 502, b);
		return;
	} else {
		char why[300];

		snprintf(why, sizeof(why), "ack refused: %d %s", r->status,
		    r->api_error);
		sync_failed(app, app->cur_id, why);
	}
	app->idx++;
	sync_next(app);
}

static void
on_fetch(void *arg, const struct sim_https_resp *r)
{
	struct sim_app *app = arg;
	struct app_msg *m;
	char path[APP_ID_MAX + 32];

	if (r->status == 0) {
		json_t *b = api_err_body("GET /v1/messages/{id}", r);

		sync_clear(app);
		op_end(app, 502, b);
		return;
	}
	if (r->status != 200) {
		char why[300];

		snprintf(why, sizeof(why), "fetch refused: %d %s", r->status,
		    r->api_error);
		sync_failed(app, app->cur_id, why);
		app->idx++;
		sync_next(app);
		return;
	}
	m = msg_slot(app, app->cur_id);
	snprintf(m->id, sizeof(m->id), "%s", app->cur_id);
	snprintf(m->from, sizeof(m->from), "%s",
	    jstr(r->json, "from") ? jstr(r->json, "from") : "");
	snprintf(m->received_at, sizeof(m->received_at), "%s",
	    jstr(r->json, "received_at") ? jstr(r->json, "received_at") : "");
	snprintf(m->expires_at, sizeof(m->expires_at), "%s",
	    jstr(r->json, "expires_at") ? jstr(r->json, "expires_at") : "");
	snprintf(m->content_type, sizeof(m->content_type), "%s",
	    jstr(r->json, "content_type") ? jstr(r->json, "content_type") :
	    "");
	m->opened_at = (int64_t)time(NULL);
	if (open_envelope(app, app->cur_id, r->json, m) != 0) {
		m->state = M_UNOPENABLE;
		app->n_unopenable++;
		smpp_log(SMPP_LOG_WARN, app->msisdn, "app", "cannot_open",
		    "device=%s id=%s", app->device, app->cur_id);
		sync_failed(app, app->cur_id, m->error);
		app->idx++;
		sync_next(app);
		return;
	}
	m->state = M_OPENED;
	app->n_opened++;
	json_array_append_new(app->res_opened, json_string(app->cur_id));
	smpp_log(SMPP_LOG_INFO, app->msisdn, "app", "opened", "device=%s "
	    "id=%s bytes=%zu", app->device, app->cur_id, m->text_len);
	snprintf(path, sizeof(path), "/v1/messages/%s/ack", app->cur_id);
	send_req(app, "POST", path, NULL, app->token, on_ack);
}

static void
sync_next(struct sim_app *app)
{
	char path[APP_ID_MAX + 32];
	const char *id;

	while (app->idx < json_array_size(app->list)) {
		id = jstr(json_array_get(app->list, app->idx), "id");
		if (id != NULL && safe_id(id)) {
			snprintf(app->cur_id, sizeof(app->cur_id), "%s", id);
			snprintf(path, sizeof(path), "/v1/messages/%s", id);
			send_req(app, "GET", path, NULL, app->token, on_fetch);
			return;
		}
		sync_failed(app, id ? id : "", "the list has no valid id");
		app->idx++;
	}
	{
		json_t *b = json_pack("{s:s, s:I, s:O, s:O, s:i}", "device",
		    app->device, "listed",
		    (json_int_t)json_array_size(app->list), "opened",
		    app->res_opened, "failed", app->res_failed, "acked",
		    app->res_acked);

		smpp_log(SMPP_LOG_INFO, app->msisdn, "app", "synced",
		    "device=%s listed=%zu opened=%zu failed=%zu", app->device,
		    json_array_size(app->list),
		    json_array_size(app->res_opened),
		    json_array_size(app->res_failed));
		sync_clear(app);
		op_end(app, 200, b);
	}
}

static void
on_list(void *arg, const struct sim_https_resp *r)
{
	struct sim_app *app = arg;
	json_t *l = json_object_get(r->json, "messages");

	if (r->status != 200 || !json_is_array(l)) {
		json_t *b = api_err_body("GET /v1/messages", r);

		sync_clear(app);
		op_end(app, 502, b);
		return;
	}
	app->list = json_incref(l);
	app->idx = 0;
	sync_next(app);
}

/* The app for an operation that needs a device; NULL after answering. */
static struct sim_app *
app_for_op(struct sim_apps *a, const char *msisdn, const char *device,
    sim_app_done done, void *arg)
{
	struct sim_app *app;

	if (device == NULL)
		device = "a";
	if (!sim_app_valid_msisdn(msisdn)) {
		done(arg, 400, err_body("bad_msisdn", "the MSISDN must be 6 "
		    "to 15 digits without a leading zero"));
		return NULL;
	}
	if (!sim_app_valid_device(device)) {
		done(arg, 400, err_body("bad_device", "device must be 1 to 8 "
		    "of a-z and 0-9"));
		return NULL;
	}
	if ((app = app_find(a, msisdn, device)) == NULL) {
		done(arg, 404, err_body("no_app", "this handset has no app "
		    "with that device label; register first"));
		return NULL;
	}
	if (app->op != OP_NONE) {
		done(arg, 409, err_body("busy", "the app is busy with another "
		    "operation"));
		return NULL;
	}
	if (app->key == NULL || app->token[0] == '\0') {
		done(arg, 409, err_body("not_registered", "the app has no "
		    "active device; register first"));
		return NULL;
	}
	return app;
}

void
sim_apps_sync(struct sim_apps *a, const char *msisdn, const char *device,
    sim_app_done done, void *arg)
{
	struct sim_app *app = app_for_op(a, msisdn, device, done, arg);

	if (app == NULL)
		return;
	app->op = OP_SYNC;
	app->done = done;
	app->done_arg = arg;
	sync_clear(app);
	app->res_opened = json_array();
	app->res_failed = json_array();
	send_req(app, "GET", "/v1/messages", NULL, app->token, on_list);
}

static void
on_simple(void *arg, const struct sim_https_resp *r)
{
	struct sim_app *app = arg;
	enum app_op op = app->op;
	int ok = op == OP_REPLY ? (r->status == 202 || r->status == 200) :
	    (r->status == 204 || r->status == 200);

	sync_clear(app);
	if (!ok) {
		op_end(app, 502, api_err_body(op == OP_REPLY ?
		    "POST /v1/messages/{id}/reply" : "DELETE /v1/device", r));
		return;
	}
	if (op == OP_REPLY) {
		app->n_replies++;
		smpp_log(SMPP_LOG_INFO, app->msisdn, "app", "replied",
		    "device=%s id=%s", app->device, app->cur_id);
		op_end(app, 200, json_pack("{s:s, s:s}", "status", "sent",
		    "id", app->cur_id));
	} else {
		smpp_log(SMPP_LOG_INFO, app->msisdn, "app", "revoked",
		    "device=%s device_id=%s", app->device, app->device_id);
		wipe_identity(app);
		enter_state(app, ST_REVOKED);
		op_end(app, 200, json_pack("{s:s}", "status", "revoked"));
	}
}

void
sim_apps_reply(struct sim_apps *a, const char *msisdn, const char *device,
    const char *id, const char *text, sim_app_done done, void *arg)
{
	struct sim_app *app;
	char path[APP_ID_MAX + 32];

	if (id == NULL || !safe_id(id) || text == NULL) {
		refuse(done, arg, 400, "bad_field", "id (a message id) "
		    "and text are required");
		return;
	}
	if ((app = app_for_op(a, msisdn, device, done, arg)) == NULL)
		return;
	app->op = OP_REPLY;
	app->done = done;
	app->done_arg = arg;
	snprintf(app->cur_id, sizeof(app->cur_id), "%s", id);
	app->reply_body = json_pack("{s:s}", "text", text);
	snprintf(path, sizeof(path), "/v1/messages/%s/reply", id);
	send_req(app, "POST", path, app->reply_body, app->token, on_simple);
}

void
sim_apps_revoke(struct sim_apps *a, const char *msisdn, const char *device,
    sim_app_done done, void *arg)
{
	struct sim_app *app = app_for_op(a, msisdn, device, done, arg);

	if (app == NULL)
		return;
	app->op = OP_REVOKE;
	app->done = done;
	app->done_arg = arg;
	send_req(app, "DELETE", "/v1/device", NULL, app->token, on_simple);
}

/* ---- views and life cycle ------------------------------------------ */

static json_t *
msg_json(const struct app_msg *m)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:I}",
	    "id", m->id, "from", m->from, "received_at", m->received_at,
	    "expires_at", m->expires_at, "content_type", m->content_type,
	    "state", m->state == M_OPENED ? "opened" : "cannot_be_opened",
	    "acked", m->acked, "binary", m->binary,
	    "opened_at", (json_int_t)m->opened_at);

	if (o == NULL)
		return json_null();
	if (m->state == M_OPENED && m->text != NULL)
		json_object_set_new(o, "text", json_stringn(m->text,
		    m->text_len));
	else
		json_object_set_new(o, "error", json_string(m->error));
	return o;
}

static json_t *
app_json(const struct sim_app *app)
{
	json_t *msgs = json_array(), *o;

	for (size_t i = 0; i < app->n_msgs; i++)
		json_array_append_new(msgs, msg_json(&app->msgs[(app->msg_head +
		    i) % APP_MSGS_MAX]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:{s:I, s:I, s:I, "
	    "s:I}, s:o}", "msisdn", app->msisdn, "device", app->device,
	    "state", state_names[app->state], "busy", op_names[app->op],
	    "error", app->error, "registered_at",
	    (json_int_t)app->registered_at, "counts",
	    "opened", (json_int_t)app->n_opened,
	    "cannot_be_opened", (json_int_t)app->n_unopenable,
	    "acked", (json_int_t)app->n_acked,
	    "replies", (json_int_t)app->n_replies, "messages", msgs);
	if (o == NULL)
		return json_object();
	if (app->state == ST_REGISTERING) {
		json_object_set_new(o, "step", json_string(
		    step_names[app->step]));
		json_object_set_new(o, "mode", json_string(app->mode));
	}
	if (app->key != NULL) {
		json_object_set_new(o, "device_id", json_string(
		    app->device_id));
		json_object_set_new(o, "scheme", json_string(
		    sec_scheme_name(app->scheme)));
		json_object_set_new(o, "mode", json_string(app->reg_mode));
	}
	return o;
}

json_t *
sim_apps_json(struct sim_apps *a, const char *msisdn)
{
	json_t *arr = NULL;

	for (struct sim_app *p = a->head; p != NULL; p = p->next) {
		if (strcmp(p->msisdn, msisdn) != 0)
			continue;
		if (arr == NULL)
			arr = json_array();
		json_array_append_new(arr, app_json(p));
	}
	if (arr == NULL)
		return NULL;
	return json_pack("{s:s, s:o}", "msisdn", msisdn, "apps", arr);
}

struct sim_apps *
sim_apps_new(struct sim *sim)
{
	struct sim_apps *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->sim = sim;
	return a;
}

void
sim_apps_reset(struct sim_apps *a)
{
	struct sim_app *p, *n;

	for (p = a->head; p != NULL; p = n) {
		n = p->next;
		app_free(p);
	}
	a->head = NULL;
	a->count = 0;
}

void
sim_apps_free(struct sim_apps *a)
{
	if (a == NULL)
		return;
	sim_apps_reset(a);
	free(a);
}
