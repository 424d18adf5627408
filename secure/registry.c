/*
 * The registry: handset registrations from "here is my number" to an
 * active device with a token. Flow A (mode sms): the gateway texts a
 * one-time code and the app posts it back. Flow B (mode mo): the app
 * makes a code, texts "KEYWORD CODE" to the short code and posts the same
 * code over HTTPS; the MO (sec_mo) and the post match in either order.
 * Then the app posts its public key, the gateway wraps a random challenge
 * to it, and the app proves possession by posting the challenge back; the
 * device is stored with the hash of a fresh token and the pipeline seals
 * the MSISDN's waiting messages to it.
 *
 * Every verb is a small job: read the registration (or list the
 * MSISDN's), decide, write back with compare-and-set on the row version
 * (a lost race re-reads, at most three times), and answer only after the
 * write committed. Codes are kept only as HMACs bound to the rid; no log
 * line carries a code, a token, a key or a challenge, and rids appear in
 * logs cut to 8 characters (a rid is a secret handle until the device
 * exists).
 *
 * Attempt rules (NIST SP 800-63B / OWASP): at most otp_max_tries wrong
 * codes per registration; a registration made again for the same MSISDN
 * inherits the wrong tries of that MSISDN's unverified registrations of
 * the last 24 h (the most any of them holds: each already inherited the
 * earlier ones), so a resend never resets the count; a failed proof of
 * possession counts as a wrong try too (the challenge is spent and the
 * registration goes back to verified, or is locked at the limit).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "db/store.h"
#include "secure/registry.h"
#include "smpp/log.h"
#include "smpp/proto.h"
#include "smpp/scan.h"
#include "smpp/text.h"

#define DAY_MS		(86400 * (int64_t)1000)
#define TRIES_MAX	3	/* compare-and-set retries */
#define PURGE_EVERY_S	60
/* Rows asked for per list: an MSISDN's active devices and its
 * registrations of a day are bounded by max_devices and the daily cap;
 * the store sizes its answer by what is asked, so ask for no more. */
#define LIST_ROWS	256

struct sec_gate {
	struct sec_service	*svc;
	unsigned		 refs;
};

/*
 * Recently checked tokens: a direct-mapped table keyed by the token's
 * SHA-256, so a keep-alive app's every request does not pay a storage
 * round trip to learn who it is. An entry lives AUTH_TTL_MS; a revoke
 * through this instance drops it at once (through another instance
 * sharing MariaDB, within AUTH_TTL_MS).
 */
#define AUTH_SLOTS	1024
#define AUTH_TTL_MS	2000

struct auth_slot {
	uint8_t			 hash[32];
	int64_t			 until;		/* monotonic ms; 0 = empty */
	struct sec_device_rec	 dev;
};

struct sms_ctx;

struct sec_registry {
	struct sec_gate		*gate;
	struct sms_ctx		*sms;		/* code/notice SMS not yet done */
	struct sec_quota	*q_msisdn;
	struct sec_quota	*q_client;
	struct event		*purge_timer;
	bool			 purging;
	struct auth_slot	*auth;		/* AUTH_SLOTS */
};

enum job_kind {
	J_CREATE, J_STATUS, J_CODE, J_KEY, J_PROOF, J_MO, J_AUTH, J_REVOKE,
};

struct job {
	enum job_kind		 kind;
	struct sec_gate		*gate;
	sec_reg_reply		 cb;
	sec_dev_reply		 dcb;
	void			*arg;
	int			 tries;
	char			 logid[16];
	char			 rid[SEC_RID_MAX + 1];

	/* inputs */
	struct sec_reg_request	 rq;
	char			 client[48];
	char			 code[SEC_OTP_MAX_DIGITS + 1];
	enum sec_scheme		 scheme;
	uint8_t			 spki[SEC_SPKI_MAX];
	size_t			 spki_len;
	char			 device_type[33];
	uint8_t			 answer[64];
	size_t			 answer_len;
	char			 token_hex[65];
	struct sec_device_rec	 dev;
	char			 msisdn[SEC_MSISDN_MAX + 1];

	/* between read and write */
	struct sec_reg_rec	 rec;
	int64_t			 version;
	char			 idx2[DB_KV_IDX_MAX + 1];

	/* the answer, given once the write committed */
	int			 status;
	json_t			*body;
	unsigned		 retry_after;

	/* after the commit */
	char			*sms_text;
	char			 sms_to[SEC_MSISDN_MAX + 1];
	bool			 activate;
	struct sec_device_rec	 newdev;
	unsigned		 n_revoked;
};

static void job_read(struct sec_service *, struct job *);

/* ---- the gate ---- */

struct sec_gate *
sec_gate_of(struct sec_service *svc)
{
	return svc->registry->gate;
}

void
sec_gate_hold(struct sec_gate *g)
{
	g->refs++;
}

struct sec_service *
sec_gate_release(struct sec_gate *g)
{
	struct sec_service *svc = g->svc;

	g->refs--;
	if (svc == NULL && g->refs == 0)
		free(g);
	return svc;
}

/* ---- small helpers ---- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct auth_slot *
auth_slot(struct sec_registry *reg, const uint8_t hash[32])
{
	if (reg->auth == NULL)
		return NULL;
	return &reg->auth[((unsigned)hash[0] | (unsigned)hash[1] << 8) %
	    AUTH_SLOTS];
}

/* Forgets the device whose token hash this is. */
static void
auth_forget(struct sec_registry *reg, const uint8_t hash[32])
{
	struct auth_slot *a = auth_slot(reg, hash);

	if (a != NULL && CRYPTO_memcmp(a->hash, hash, 32) == 0)
		OPENSSL_cleanse(a, sizeof(*a));
}

json_t *
sec_error_json(const char *code, const char *msg)
{
	return json_pack("{s:s, s:s}", "error", code, "message", msg);
}

static void
logid_rid(char out[16], const char *rid)
{
	snprintf(out, 16, "r:%.8s", rid);
}

static void
hex32(const uint8_t h[32], char out[65])
{
	static const char x[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = x[h[i] >> 4];
		out[2 * i + 1] = x[h[i] & 15];
	}
	out[64] = '\0';
}

static int
sha256(const void *p, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	return 0;
}

/* The template with {code} and {link} filled in (malloc'd; the caller
 * wipes it: it may hold a code). */
static char *
render(const char *tpl, const char *code, const char *link)
{
	size_t	 cap = strlen(tpl) + 1, n = 0;
	char	*out;

	for (const char *p = tpl; (p = strchr(p, '{')) != NULL; p++)
		cap += 256 + SEC_OTP_MAX_DIGITS;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (const char *p = tpl; *p != '\0';) {
		const char *v = NULL;
		size_t skip = 0;

		if (strncmp(p, "{code}", 6) == 0) {
			v = code;
			skip = 6;
		} else if (strncmp(p, "{link}", 6) == 0) {
			v = link;
			skip = 6;
		}
		if (v != NULL) {
			size_t l = strlen(v);
			if (n + l >= cap)
				break;
			memcpy(out + n, v, l);
			n += l;
			p += skip;
		} else {
			if (n + 1 >= cap)
				break;
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

static const char *
sms_source(const struct sec_service *svc)
{
	return svc->cfg.notify_source[0] != '\0' ? svc->cfg.notify_source :
	    svc->cfg.short_code;
}

/*
 * An SMS the registry sent (a code, a new-device notice), until the
 * gateway says how it ended. Listed on the registry so that the ones
 * still out when the daemon stops (the gateway then drops their done
 * callbacks) are freed with it.
 */
struct sms_ctx {
	struct sms_ctx	*next, *prev;
	struct sec_gate	*gate;
	char		 to[SEC_MSISDN_MAX + 1];
	const char	*what;
};

static void
sms_unlink(struct sec_registry *reg, struct sms_ctx *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		reg->sms = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
}

static void
sms_done(void *arg, bool ok)
{
	struct sms_ctx		*s = arg;
	struct sec_service	*svc = sec_gate_release(s->gate);

	if (svc != NULL) {
		sms_unlink(svc->registry, s);
		if (!ok)
			smpp_log(SMPP_LOG_WARN, s->to, "reg", "sms_failed",
			    "what=%s", s->what);
	}
	free(s);
}

static void
send_sms(struct sec_service *svc, const char *to, const char *text,
    const char *what)
{
	struct sec_registry *reg = svc->registry;
	struct sms_ctx *s;

	if (svc->hooks.send_sms == NULL)
		return;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		svc->hooks.send_sms(svc->hooks.arg, sms_source(svc), to, text,
		    NULL, NULL);
		return;
	}
	s->gate = reg->gate;
	snprintf(s->to, sizeof(s->to), "%s", to);
	s->what = what;
	sec_gate_hold(s->gate);
	s->next = reg->sms;
	if (reg->sms != NULL)
		reg->sms->prev = s;
	reg->sms = s;
	svc->hooks.send_sms(svc->hooks.arg, sms_source(svc), to, text,
	    sms_done, s);
}

/* ---- jobs ---- */

static struct job *
job_new(struct sec_service *svc, enum job_kind kind, sec_reg_reply cb,
    void *arg)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->kind = kind;
	j->gate = svc->registry->gate;
	j->cb = cb;
	j->arg = arg;
	snprintf(j->logid, sizeof(j->logid), "-");
	return j;
}

static void
job_free(struct job *j)
{
	if (j->body != NULL)
		json_decref(j->body);
	if (j->sms_text != NULL) {
		OPENSSL_cleanse(j->sms_text, strlen(j->sms_text));
		free(j->sms_text);
	}
	OPENSSL_clear_free(j, sizeof(*j));
}

/* The service is going away: let the caller free its arg. */
static void
job_cancel(struct job *j)
{
	if (j->cb != NULL)
		j->cb(j->arg, 0, NULL, 0);
	else if (j->dcb != NULL)
		j->dcb(j->arg, 0, NULL);
	job_free(j);
}

/* Answers and frees the job. */
static void
job_finish(struct job *j)
{
	json_t *body = j->body;

	j->body = NULL;
	if (j->cb != NULL)
		j->cb(j->arg, j->status, body, j->retry_after);
	else {
		if (j->dcb != NULL)
			j->dcb(j->arg, j->status, j->status == 200 ? &j->dev :
			    NULL);
		if (body != NULL)
			json_decref(body);
	}
	job_free(j);
}

static void
job_set(struct job *j, int status, json_t *body, unsigned retry_after)
{
	if (j->body != NULL)
		json_decref(j->body);
	j->status = status;
	j->body = body;
	j->retry_after = retry_after;
}

static void
job_err(struct job *j, int status, const char *code, const char *msg)
{
	job_set(j, status, sec_error_json(code, msg), 0);
}

static void
on_soon(evutil_socket_t fd, short what, void *arg)
{
	struct job		*j = arg;
	struct sec_service	*svc = sec_gate_release(j->gate);

	(void)fd;
	(void)what;
	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	job_finish(j);
}

/* Answers from the next loop turn (never from inside the verb). */
static void
job_finish_soon(struct sec_service *svc, struct job *j)
{
	struct timeval zero = { 0, 0 };

	sec_gate_hold(j->gate);
	if (event_base_once(svc->base, -1, EV_TIMEOUT, on_soon, j,
	    &zero) < 0) {
		(void)sec_gate_release(j->gate);
		/* no loop to defer to: answer now rather than never */
		job_finish(j);
	}
}

static void
job_storage_err(struct job *j, enum db_status st)
{
	smpp_log(SMPP_LOG_WARN, j->logid, "reg", "storage", "status=%s",
	    db_status_name(st));
	job_err(j, 503, "unavailable", "storage is busy, try again");
	j->retry_after = 1;
}

/* ---- registrations: state and writes ---- */

/* What a registration is now: waiting or verified ones past their time
 * are expired, whatever the row says. */
static enum sec_reg_state
reg_effective(const struct sec_reg_rec *r, int64_t now)
{
	switch (r->state) {
	case SEC_REG_WAITING_CODE:
	case SEC_REG_WAITING_SMS:
		if (now >= r->code_expires_at || now >= r->expires_at)
			return SEC_REG_EXPIRED;
		break;
	case SEC_REG_VERIFIED:
	case SEC_REG_CHALLENGED:
		if (now >= r->expires_at)
			return SEC_REG_EXPIRED;
		break;
	default:
		break;
	}
	return r->state;
}

/* Fills op to write r (idx2 kept in buf, data in *data: the caller frees
 * it). -1 on ENOMEM. */
static int
reg_op(const struct sec_reg_rec *r, int64_t expect, char *idx2buf,
    struct db_kv_op *op, void **data)
{
	size_t len;

	if (r->state == SEC_REG_WAITING_SMS)
		snprintf(idx2buf, DB_KV_IDX_MAX + 1, "mo:%s", r->msisdn);
	else
		idx2buf[0] = '\0';
	if ((*data = sec_rec_reg_encode(r, &len)) == NULL)
		return -1;
	memset(op, 0, sizeof(*op));
	op->op = DB_KV_PUT;
	op->table = DB_KV_REG;
	op->key = r->rid;
	op->idx1 = r->msisdn;
	op->idx2 = idx2buf;
	op->sort = r->created_at;
	op->expires_at = r->expires_at;
	op->expect = expect;
	op->data = *data;
	op->len = len;
	return 0;
}

static void free_data(void **d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i] != NULL) {
			OPENSSL_cleanse(d[i], strlen(d[i]));
			free(d[i]);
		}
}

static void on_write(void *ctx, enum db_status st, int64_t value);

/* Submits ops (data freed here); the answer waits for on_write. */
static void
job_write(struct sec_service *svc, struct job *j, struct db_kv_op *ops,
    void **data, size_t n)
{
	enum db_status st;

	sec_gate_hold(j->gate);
	st = db_kv_write(svc->store, ops, n, on_write, j);
	free_data(data, n);
	if (st != DB_OK) {
		(void)sec_gate_release(j->gate);
		job_storage_err(j, st);
		job_finish_soon(svc, j);
	}
}

/* Writes the job's registration alone. */
static void
job_write_reg(struct sec_service *svc, struct job *j)
{
	struct db_kv_op	 op;
	void		*data = NULL;

	if (reg_op(&j->rec, j->version, j->idx2, &op, &data) < 0) {
		job_err(j, 500, "internal_error", "out of memory");
		job_finish_soon(svc, j);
		return;
	}
	job_write(svc, j, &op, &data, 1);
}

static void
after_commit(struct sec_service *svc, struct job *j)
{
	if (j->sms_text != NULL) {
		send_sms(svc, j->sms_to, j->sms_text,
		    j->kind == J_CREATE ? "code" : "new_device");
		OPENSSL_cleanse(j->sms_text, strlen(j->sms_text));
		free(j->sms_text);
		j->sms_text = NULL;
	}
	if (j->activate)
		sec_pipeline_device_active(svc, &j->newdev);
	if (j->kind == J_REVOKE)
		sec_pipeline_msisdn_changed(svc, j->dev.msisdn);
}

static void
on_write(void *ctx, enum db_status st, int64_t value)
{
	struct job		*j = ctx;
	struct sec_service	*svc = sec_gate_release(j->gate);

	(void)value;
	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	if (st == DB_ECONFLICT && ++j->tries < TRIES_MAX) {
		/* someone else changed a row first: decide again */
		job_set(j, 0, NULL, 0);
		if (j->sms_text != NULL) {
			OPENSSL_cleanse(j->sms_text, strlen(j->sms_text));
			free(j->sms_text);
			j->sms_text = NULL;
		}
		j->activate = false;
		j->n_revoked = 0;
		job_read(svc, j);
		return;
	}
	if (st != DB_OK) {
		if (st == DB_ECONFLICT) {
			job_err(j, 503, "unavailable",
			    "the registration changed meanwhile, try again");
			j->retry_after = 1;
		} else
			job_storage_err(j, st);
		job_finish(j);
		return;
	}
	after_commit(svc, j);
	job_finish(j);
}

/* ---- the verbs, once their row is read ---- */

static void
reply_status(struct job *j, enum sec_reg_state s)
{
	job_set(j, 200, json_pack("{s:s}", "status", sec_reg_state_name(s)),
	    0);
}

/* A wrong code (or a failed proof): counts, locks at the limit. */
static void
wrong_try(struct sec_service *svc, struct job *j, const char *what)
{
	struct sec_reg_rec	*r = &j->rec;
	uint32_t		 max = svc->cfg.otp_max_tries;
	json_t			*e;

	r->attempts++;
	svc->n.codes_wrong++;
	if (r->attempts >= max)
		r->state = SEC_REG_LOCKED;
	e = sec_error_json("code_mismatch", what);
	if (e != NULL)
		json_object_set_new(e, "attempts_left", json_integer(
		    r->attempts >= max ? 0 : max - r->attempts));
	job_set(j, 403, e, 0);
	smpp_log(SMPP_LOG_INFO, j->logid, "reg", "wrong_try",
	    "attempts=%u locked=%d", r->attempts,
	    r->state == SEC_REG_LOCKED);
}

/* Answers for the states where a verb cannot go on; false if it can. */
static bool
state_refused(struct job *j, enum sec_reg_state es)
{
	switch (es) {
	case SEC_REG_LOCKED:
		job_err(j, 423, "locked", "too many wrong codes");
		return true;
	case SEC_REG_EXPIRED:
		job_err(j, 410, "expired", "the registration has expired");
		return true;
	case SEC_REG_ACTIVE:
		job_err(j, 410, "expired",
		    "the registration is complete and cannot be used again");
		return true;
	default:
		return false;
	}
}

static void
do_code(struct sec_service *svc, struct job *j)
{
	struct sec_reg_rec	*r = &j->rec;
	int64_t			 now = sec_now_ms();
	enum sec_reg_state	 es = reg_effective(r, now);
	const uint8_t		*secret = svc->otp_secret;

	if (state_refused(j, es)) {
		job_finish_soon(svc, j);
		return;
	}
	switch (es) {
	case SEC_REG_VERIFIED:
	case SEC_REG_CHALLENGED:
		/* mode mo: the app polls with its own code */
		if (r->mode_mo && r->has_code &&
		    sec_otp_check(secret, r->rid, j->code, r->code_mac))
			reply_status(j, SEC_REG_VERIFIED);
		else
			job_err(j, 410, "expired",
			    "the code was already used");
		job_finish_soon(svc, j);
		return;
	case SEC_REG_WAITING_CODE:
		if (r->has_code && sec_otp_check(secret, r->rid, j->code,
		    r->code_mac)) {
			r->state = SEC_REG_VERIFIED;
			r->has_code = false;
			OPENSSL_cleanse(r->code_mac, sizeof(r->code_mac));
			svc->n.verified++;
			reply_status(j, SEC_REG_VERIFIED);
			smpp_log(SMPP_LOG_INFO, j->logid, "reg", "verified",
			    "mode=sms msisdn=%s", r->msisdn);
		} else
			wrong_try(svc, j, "the code does not match");
		break;
	case SEC_REG_WAITING_SMS:
		if (r->has_mo) {
			if (sec_otp_check(secret, r->rid, j->code,
			    r->mo_mac)) {
				r->state = SEC_REG_VERIFIED;
				r->has_code = true;
				memcpy(r->code_mac, r->mo_mac,
				    sizeof(r->code_mac));
				svc->n.verified++;
				reply_status(j, SEC_REG_VERIFIED);
				smpp_log(SMPP_LOG_INFO, j->logid, "reg",
				    "verified", "mode=mo msisdn=%s order=mo",
				    r->msisdn);
			} else
				wrong_try(svc, j,
				    "the code does not match the SMS");
		} else {
			if (sec_otp_mac(secret, r->rid, j->code,
			    r->code_mac) < 0) {
				job_err(j, 500, "internal_error",
				    "cannot keep the code");
				job_finish_soon(svc, j);
				return;
			}
			r->has_code = true;
			job_set(j, 202, json_pack("{s:s}", "status",
			    "waiting_for_sms"), 0);
		}
		break;
	default:
		job_err(j, 500, "internal_error", "bad registration state");
		job_finish_soon(svc, j);
		return;
	}
	job_write_reg(svc, j);
}

static void
do_key(struct sec_service *svc, struct job *j)
{
	struct sec_reg_rec	*r = &j->rec;
	enum sec_reg_state	 es = reg_effective(r, sec_now_ms());
	struct evp_pkey_st	*pk = NULL;
	uint8_t			 c[SEC_CHALLENGE_LEN];
	char			 ctx[16 + SEC_RID_MAX];
	struct sec_wrap		 w;
	json_t			*wj;
	int			 rc;

	if (state_refused(j, es))
		goto answer;
	if (es != SEC_REG_VERIFIED && es != SEC_REG_CHALLENGED) {
		job_err(j, 400, "invalid_request",
		    "the registration is not verified yet");
		goto answer;
	}
	/* from outside: the full check (sealing later loads it stored) */
	rc = sec_pubkey_import(j->scheme, j->spki, j->spki_len, &pk);
	if (rc == SEC_ENV_EUNSUPPORTED) {
		job_err(j, 400, "unsupported_scheme",
		    "this scheme is not supported");
		goto answer;
	}
	if (rc != SEC_ENV_OK) {
		smpp_log(SMPP_LOG_INFO, j->logid, "reg", "key_refused",
		    "scheme=%s reason=%s", sec_scheme_name(j->scheme),
		    sec_env_strerror(rc));
		job_err(j, 400, "invalid_key",
		    "the public key is not valid for this scheme");
		goto answer;
	}
	snprintf(ctx, sizeof(ctx), "challenge:%s", r->rid);
	if (RAND_bytes(c, sizeof(c)) != 1 ||
	    sec_wrap_seal(j->scheme, pk, c, sizeof(c), ctx, strlen(ctx),
	    &w) != SEC_ENV_OK || sha256(c, sizeof(c),
	    r->challenge_hash) < 0 || (wj = sec_wrap_to_json(&w)) == NULL) {
		OPENSSL_cleanse(c, sizeof(c));
		EVP_PKEY_free(pk);
		job_err(j, 500, "internal_error", "cannot make a challenge");
		goto answer;
	}
	OPENSSL_cleanse(c, sizeof(c));
	EVP_PKEY_free(pk);
	r->scheme = j->scheme;
	memcpy(r->spki, j->spki, j->spki_len);
	r->spki_len = j->spki_len;
	if (j->device_type[0] != '\0')
		snprintf(r->device_type, sizeof(r->device_type), "%s",
		    j->device_type);
	r->state = SEC_REG_CHALLENGED;
	job_set(j, 200, json_pack("{s:o}", "challenge", wj), 0);
	smpp_log(SMPP_LOG_INFO, j->logid, "reg", "challenged", "scheme=%s",
	    sec_scheme_name(j->scheme));
	job_write_reg(svc, j);
	return;
answer:
	job_finish_soon(svc, j);
}

static void on_devices(void *ctx, enum db_status st,
    const struct db_kv_row *rows, size_t n);

static void
do_proof(struct sec_service *svc, struct job *j)
{
	struct sec_reg_rec	*r = &j->rec;
	enum sec_reg_state	 es = reg_effective(r, sec_now_ms());
	uint8_t			 h[32];
	enum db_status		 st;

	if (state_refused(j, es))
		goto answer;
	if (es == SEC_REG_VERIFIED) {
		job_err(j, 400, "invalid_request",
		    "post the public key first");
		goto answer;
	}
	if (es != SEC_REG_CHALLENGED) {
		job_err(j, 400, "invalid_request",
		    "the registration is not verified yet");
		goto answer;
	}
	if (sha256(j->answer, j->answer_len, h) < 0) {
		job_err(j, 500, "internal_error", "hash failed");
		goto answer;
	}
	if (CRYPTO_memcmp(h, r->challenge_hash, sizeof(h)) != 0) {
		/* the challenge is spent: a new key post makes a new one */
		OPENSSL_cleanse(r->challenge_hash, sizeof(r->challenge_hash));
		r->state = SEC_REG_VERIFIED;
		wrong_try(svc, j, "the answer does not match the challenge");
		job_write_reg(svc, j);
		return;
	}
	/* right: which devices does the MSISDN have? */
	sec_gate_hold(j->gate);
	st = db_kv_list(svc->store, DB_KV_DEVICE, 1, r->msisdn, 0, "",
	    LIST_ROWS, on_devices, j);
	if (st != DB_OK) {
		(void)sec_gate_release(j->gate);
		job_storage_err(j, st);
		goto answer;
	}
	return;
answer:
	job_finish_soon(svc, j);
}

static void
on_devices(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct job		*j = ctx;
	struct sec_service	*svc = sec_gate_release(j->gate);
	struct sec_reg_rec	*r;
	struct sec_device_rec	*nd, *old = NULL;
	struct db_kv_op		*ops = NULL;
	void			**data = NULL;
	char			 token[64], (*hx)[65] = NULL;
	size_t			 nops = 0, n_active = 0, len;
	int64_t			 now = sec_now_ms();
	json_t			*body;

	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	r = &j->rec;
	if (st != DB_OK && st != DB_NOTFOUND) {
		job_storage_err(j, st);
		job_finish(j);
		return;
	}
	if (st == DB_NOTFOUND)
		n = 0;
	ops = calloc(n + 2, sizeof(*ops));
	data = calloc(n + 2, sizeof(*data));
	old = calloc(n + 1, sizeof(*old));
	hx = calloc(n + 1, sizeof(*hx));
	if (ops == NULL || data == NULL || old == NULL || hx == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (sec_rec_device_decode(rows[i].data, rows[i].len,
		    &old[n_active]) < 0 || old[n_active].revoked_at != 0)
			continue;
		if (r->replace && nops < DB_KV_OPS_MAX - 2) {
			struct sec_device_rec *d = &old[n_active];
			d->revoked_at = now;
			auth_forget(svc->registry, d->token_hash);
			hex32(d->token_hash, hx[n_active]);
			if ((data[nops] = sec_rec_device_encode(d, &len)) ==
			    NULL)
				goto nomem;
			ops[nops] = (struct db_kv_op){ .op = DB_KV_PUT,
			    .table = DB_KV_DEVICE, .key = d->device_id,
			    .idx1 = "", .idx2 = hx[n_active],
			    .sort = d->created_at, .expires_at = 0,
			    .expect = rows[i].version, .data = data[nops],
			    .len = len };
			nops++;
			j->n_revoked++;
		}
		n_active++;
	}
	if (!r->replace && n_active >= svc->cfg.max_devices) {
		job_err(j, 400, "invalid_request", "this number has the most "
		    "devices allowed; register again with \"replace\": true");
		goto out;
	}
	/* the new device and its token */
	nd = &j->newdev;
	memset(nd, 0, sizeof(*nd));
	if (sec_random_id(16, nd->device_id, sizeof(nd->device_id)) < 0 ||
	    sec_random_id(32, token, sizeof(token)) < 0 ||
	    sha256(token, strlen(token), nd->token_hash) < 0) {
		OPENSSL_cleanse(token, sizeof(token));
		job_err(j, 500, "internal_error", "random failed");
		goto out;
	}
	snprintf(nd->msisdn, sizeof(nd->msisdn), "%s", r->msisdn);
	nd->scheme = r->scheme;
	memcpy(nd->spki, r->spki, r->spki_len);
	nd->spki_len = r->spki_len;
	snprintf(nd->device_type, sizeof(nd->device_type), "%s",
	    r->device_type);
	nd->created_at = now;
	hex32(nd->token_hash, hx[n]);
	if ((data[nops] = sec_rec_device_encode(nd, &len)) == NULL) {
		OPENSSL_cleanse(token, sizeof(token));
		goto nomem;
	}
	ops[nops] = (struct db_kv_op){ .op = DB_KV_PUT,
	    .table = DB_KV_DEVICE, .key = nd->device_id, .idx1 = nd->msisdn,
	    .idx2 = hx[n], .sort = now, .expires_at = 0, .expect = 0,
	    .data = data[nops], .len = len };
	nops++;
	/* the registration is spent */
	r->state = SEC_REG_ACTIVE;
	snprintf(r->device_id, sizeof(r->device_id), "%s", nd->device_id);
	OPENSSL_cleanse(r->challenge_hash, sizeof(r->challenge_hash));
	r->has_code = r->has_mo = false;
	if (reg_op(r, j->version, j->idx2, &ops[nops], &data[nops]) < 0) {
		OPENSSL_cleanse(token, sizeof(token));
		goto nomem;
	}
	nops++;
	body = json_pack("{s:s, s:s}", "device_id", nd->device_id,
	    "device_token", token);
	OPENSSL_cleanse(token, sizeof(token));
	job_set(j, 201, body, 0);
	j->activate = true;
	if (n_active > 0) {
		j->sms_text = render(svc->cfg.tpl_new_device, "",
		    svc->cfg.app_link);
		snprintf(j->sms_to, sizeof(j->sms_to), "%s", r->msisdn);
	}
	smpp_log(SMPP_LOG_INFO, nd->device_id, "reg", "active",
	    "reg=%s msisdn=%s scheme=%s others=%zu revoked=%u", j->logid,
	    r->msisdn, sec_scheme_name(nd->scheme), n_active, j->n_revoked);
	svc->n.devices_active++;
	svc->n.devices_revoked += j->n_revoked;
	job_write(svc, j, ops, data, nops);
	nops = 0;
	goto done;
nomem:
	job_err(j, 500, "internal_error", "out of memory");
out:
	if (data != NULL)
		free_data(data, nops);
	job_finish(j);
done:
	free(ops);
	free(data);
	if (old != NULL)
		OPENSSL_clear_free(old, (n + 1) * sizeof(*old));
	free(hx);
}

/* Rows of one registration arrived (J_STATUS, J_CODE, J_KEY, J_PROOF). */
static void
on_reg_row(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct job		*j = ctx;
	struct sec_service	*svc = sec_gate_release(j->gate);

	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	if (st == DB_NOTFOUND || (st == DB_OK && n == 0)) {
		job_err(j, 404, "not_found", "no such registration");
		job_finish(j);
		return;
	}
	if (st != DB_OK) {
		job_storage_err(j, st);
		job_finish(j);
		return;
	}
	if (sec_rec_reg_decode(rows[0].data, rows[0].len, &j->rec) < 0) {
		smpp_log(SMPP_LOG_ERR, j->logid, "reg", "bad_row", NULL);
		job_err(j, 500, "internal_error", "unreadable registration");
		job_finish(j);
		return;
	}
	j->version = rows[0].version;
	switch (j->kind) {
	case J_STATUS:
		reply_status(j, reg_effective(&j->rec, sec_now_ms()));
		job_finish(j);
		return;
	case J_CODE:
		do_code(svc, j);
		return;
	case J_KEY:
		do_key(svc, j);
		return;
	case J_PROOF:
		do_proof(svc, j);
		return;
	default:
		job_err(j, 500, "internal_error", "bad job");
		job_finish(j);
		return;
	}
}

/* ---- create ---- */

static void
on_msisdn_regs(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct job		*j = ctx;
	struct sec_service	*svc = sec_gate_release(j->gate);
	const struct sec_config	*cfg;
	struct sec_reg_rec	*r, *olds = NULL;
	struct db_kv_op		*ops = NULL;
	void			**data = NULL;
	char			(*idx2)[DB_KV_IDX_MAX + 1] = NULL;
	char			 code[SEC_OTP_MAX_DIGITS + 1];
	size_t			 nops = 0, today = 0;
	int64_t			 now = sec_now_ms(), oldest = 0;
	uint64_t		 carried = 0;
	json_t			*body;

	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	cfg = &svc->cfg;
	if (st == DB_NOTFOUND)
		n = 0;
	else if (st != DB_OK) {
		job_storage_err(j, st);
		job_finish(j);
		return;
	}
	ops = calloc(n + 1, sizeof(*ops));
	data = calloc(n + 1, sizeof(*data));
	olds = calloc(n + 1, sizeof(*olds));
	idx2 = calloc(n + 1, sizeof(*idx2));
	if (ops == NULL || data == NULL || olds == NULL || idx2 == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		struct sec_reg_rec *o = &olds[i];
		enum sec_reg_state es;

		if (sec_rec_reg_decode(rows[i].data, rows[i].len, o) < 0 ||
		    o->created_at < now - DAY_MS)
			continue;
		if (today++ == 0 || o->created_at < oldest)
			oldest = o->created_at;
		/* each registration starts with the tries it inherited, so
		 * the newest holds the sum: take the largest (adding them
		 * counted the older tries again for every resend) */
		if (o->state != SEC_REG_VERIFIED &&
		    o->state != SEC_REG_CHALLENGED &&
		    o->state != SEC_REG_ACTIVE && o->attempts > carried)
			carried = o->attempts;
		es = reg_effective(o, now);
		if ((es == SEC_REG_WAITING_CODE || es == SEC_REG_WAITING_SMS) &&
		    nops < DB_KV_OPS_MAX - 1) {
			/* superseded: its code no longer counts */
			o->state = SEC_REG_EXPIRED;
			o->has_code = o->has_mo = false;
			if (reg_op(o, rows[i].version, idx2[nops], &ops[nops],
			    &data[nops]) < 0)
				goto nomem;
			nops++;
		}
	}
	/* n == LIST_ROWS: the day may hold more than were read (a cap set
	 * above LIST_ROWS would never be reached): refused as at the cap */
	if ((cfg->otp_daily_cap > 0 && today >= cfg->otp_daily_cap) ||
	    n >= LIST_ROWS) {
		int64_t wait = oldest + DAY_MS - now;
		job_err(j, 429, "rate_limited",
		    "too many registrations for this number today");
		j->retry_after = wait > 1000 ? (unsigned)(wait / 1000) : 1;
		smpp_log(SMPP_LOG_INFO, j->rq.msisdn, "reg", "refused",
		    "reason=daily_cap today=%zu", today);
		goto out;
	}
	if (carried >= cfg->otp_max_tries) {
		job_err(j, 423, "locked",
		    "too many wrong codes for this number today");
		smpp_log(SMPP_LOG_INFO, j->rq.msisdn, "reg", "refused",
		    "reason=locked attempts=%llu",
		    (unsigned long long)carried);
		goto out;
	}
	/* the new registration */
	r = &j->rec;
	memset(r, 0, sizeof(*r));
	if (sec_random_id(32, r->rid, sizeof(r->rid)) < 0) {
		job_err(j, 500, "internal_error", "random failed");
		goto out;
	}
	snprintf(j->rid, sizeof(j->rid), "%s", r->rid);
	logid_rid(j->logid, r->rid);
	snprintf(r->msisdn, sizeof(r->msisdn), "%s", j->rq.msisdn);
	r->mode_mo = j->rq.mode_mo;
	snprintf(r->device_type, sizeof(r->device_type), "%s",
	    j->rq.device_type);
	snprintf(r->client, sizeof(r->client), "%s", j->client);
	r->replace = j->rq.replace;
	r->attempts = (uint32_t)carried;
	r->created_at = now;
	r->code_expires_at = now + (int64_t)cfg->otp_ttl_s * 1000;
	r->expires_at = now + (int64_t)cfg->registration_ttl_s * 1000;
	if (r->expires_at < r->code_expires_at)
		r->expires_at = r->code_expires_at;
	if (r->mode_mo)
		r->state = SEC_REG_WAITING_SMS;
	else {
		r->state = SEC_REG_WAITING_CODE;
		r->sends = 1;
		if (sec_otp_generate(cfg->otp_digits, code, sizeof(code)) < 0 ||
		    sec_otp_mac(svc->otp_secret, r->rid, code,
		    r->code_mac) < 0) {
			OPENSSL_cleanse(code, sizeof(code));
			job_err(j, 500, "internal_error", "cannot make a code");
			goto out;
		}
		r->has_code = true;
		j->sms_text = render(cfg->tpl_otp, code, cfg->app_link);
		OPENSSL_cleanse(code, sizeof(code));
		if (j->sms_text == NULL)
			goto nomem;
		snprintf(j->sms_to, sizeof(j->sms_to), "%s", r->msisdn);
	}
	if (reg_op(r, 0, j->idx2, &ops[nops], &data[nops]) < 0)
		goto nomem;
	nops++;
	body = json_pack("{s:s, s:s, s:I}", "registration_id", r->rid,
	    "mode", r->mode_mo ? "mo" : "sms", "expires_in",
	    (json_int_t)cfg->otp_ttl_s);
	if (body != NULL && r->mode_mo) {
		json_object_set_new(body, "short_code",
		    json_string(cfg->short_code));
		json_object_set_new(body, "keyword",
		    json_string(cfg->keyword));
	}
	job_set(j, 201, body, 0);
	svc->n.registrations++;
	if (!r->mode_mo)
		svc->n.codes_sent++;
	smpp_log(SMPP_LOG_INFO, j->logid, "reg", "created",
	    "mode=%s msisdn=%s attempts=%u superseded=%zu client=%s",
	    r->mode_mo ? "mo" : "sms", r->msisdn, r->attempts, nops - 1,
	    j->client);
	job_write(svc, j, ops, data, nops);
	nops = 0;
	goto done;
nomem:
	job_err(j, 500, "internal_error", "out of memory");
out:
	if (data != NULL)
		free_data(data, nops);
	job_finish(j);
done:
	free(ops);
	free(data);
	free(idx2);
	if (olds != NULL)
		OPENSSL_clear_free(olds, (n + 1) * sizeof(*olds));
}

/* ---- MO to the short code ---- */

static void
mo_unmatched(struct sec_service *svc, const char *id, const char *reason)
{
	svc->n.mo_otp_unmatched++;
	smpp_log(SMPP_LOG_INFO, id, "reg", "mo_unmatched", "reason=%s",
	    reason);
}

static void
on_mo_regs(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct job		*j = ctx;
	struct sec_service	*svc = sec_gate_release(j->gate);
	struct sec_reg_rec	*r = &j->rec, cand;
	const uint8_t		*secret;
	int64_t			 now = sec_now_ms();
	bool			 found = false;

	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	if (st != DB_OK && st != DB_NOTFOUND) {
		smpp_log(SMPP_LOG_WARN, j->msisdn, "reg", "mo_storage",
		    "status=%s", db_status_name(st));
		mo_unmatched(svc, j->msisdn, "storage");
		job_free(j);
		return;
	}
	if (st == DB_NOTFOUND)
		n = 0;
	/* the newest waiting registration of that MSISDN */
	for (size_t i = 0; i < n; i++) {
		if (sec_rec_reg_decode(rows[i].data, rows[i].len, &cand) < 0)
			continue;
		if (reg_effective(&cand, now) == SEC_REG_WAITING_SMS &&
		    (!found || cand.created_at >= r->created_at)) {
			*r = cand;
			j->version = rows[i].version;
			found = true;
		}
		OPENSSL_cleanse(&cand, sizeof(cand));
	}
	if (!found) {
		mo_unmatched(svc, j->msisdn, "no_registration");
		job_free(j);
		return;
	}
	logid_rid(j->logid, r->rid);
	secret = svc->otp_secret;
	if (r->has_code) {
		if (sec_otp_check(secret, r->rid, j->code, r->code_mac)) {
			r->state = SEC_REG_VERIFIED;
			r->has_mo = true;
			memcpy(r->mo_mac, r->code_mac, sizeof(r->mo_mac));
			r->mo_at = now;
			svc->n.verified++;
			smpp_log(SMPP_LOG_INFO, j->logid, "reg", "verified",
			    "mode=mo msisdn=%s order=app", r->msisdn);
		} else {
			mo_unmatched(svc, j->logid, "code_mismatch");
			wrong_try(svc, j, "mo");
		}
	} else {
		if (sec_otp_mac(secret, r->rid, j->code, r->mo_mac) < 0) {
			job_free(j);
			return;
		}
		r->has_mo = true;
		r->mo_at = now;
		smpp_log(SMPP_LOG_INFO, j->logid, "reg", "mo_received",
		    "msisdn=%s", r->msisdn);
	}
	job_write_reg(svc, j);
}

/* Finds the code in "KEYWORD CODE" (keyword in any case, any blanks
 * around). -1 if the text is not that. */
static int
mo_parse(const char *text, const char *keyword, char code[11])
{
	const char	*p = text, *k;
	size_t		 kl = strlen(keyword), cl = 0;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	k = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' &&
	    *p != '\n')
		p++;
	if ((size_t)(p - k) != kl || strncasecmp(k, keyword, kl) != 0)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	while (p[cl] >= '0' && p[cl] <= '9' && cl <= SEC_OTP_MAX_DIGITS)
		cl++;
	if (cl < SEC_OTP_MIN_DIGITS || cl > SEC_OTP_MAX_DIGITS)
		return -1;
	memcpy(code, p, cl);
	code[cl] = '\0';
	p += cl;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
	    *p == '.')
		p++;
	if (*p != '\0') {
		OPENSSL_cleanse(code, 11);
		return -1;
	}
	return 0;
}

static bool
same_digits(const char *a, size_t alen, const char *b)
{
	size_t i = 0, k = 0, nb = strlen(b);

	for (;;) {
		while (i < alen && !isdigit((unsigned char)a[i]))
			i++;
		while (k < nb && !isdigit((unsigned char)b[k]))
			k++;
		if (i == alen || k == nb)
			return i == alen && k == nb;
		if (a[i++] != b[k++])
			return false;
	}
}

bool
sec_mo(struct sec_service *svc, const struct smpp_scan *req)
{
	const struct smpp_tlv_view	*pl;
	const uint8_t			*sm = req->short_message.p;
	size_t				 smlen = req->short_message.len;
	uint8_t				 esm = req->esm_class;
	char				 text[1024], src[SEC_ADDR_SIZE * 4];
	char				 msisdn[SEC_MSISDN_MAX + 1];
	struct smpp_charset_err		 cerr;
	struct job			*j;
	int				 len;

	if (svc == NULL || req->dst.addr.p == NULL ||
	    svc->cfg.short_code[0] == '\0' ||
	    !same_digits((const char *)req->dst.addr.p, req->dst.addr.len,
	    svc->cfg.short_code))
		return false;
	svc->n.mo_otp++;
	smpp_log_escape(req->src.addr.p, req->src.addr.len, src, sizeof(src));
	if (!svc->cfg.flow_mo) {
		mo_unmatched(svc, src, "flow_off");
		return true;
	}
	if (smlen == 0 && (pl = smpp_scan_tlv(req,
	    SMPP_TLV_MESSAGE_PAYLOAD)) != NULL) {
		sm = pl->val;
		smlen = pl->len;
		esm &= (uint8_t)~SMPP_ESM_UDHI;
	}
	len = smpp_text_decode_sm(req->data_coding, esm, sm, smlen, NULL,
	    text, sizeof(text) - 1, &cerr);
	if (len < 0) {
		/* what was decoded before the error may hold a code */
		OPENSSL_cleanse(text, sizeof(text));
		mo_unmatched(svc, src, "bad_text");
		return true;
	}
	text[len] = '\0';
	if (sec_msisdn_normalize(src, msisdn) < 0) {
		mo_unmatched(svc, src, "bad_source");
		OPENSSL_cleanse(text, sizeof(text));
		return true;
	}
	if ((j = job_new(svc, J_MO, NULL, NULL)) == NULL) {
		OPENSSL_cleanse(text, sizeof(text));
		mo_unmatched(svc, msisdn, "nomem");
		return true;
	}
	if (mo_parse(text, svc->cfg.keyword, j->code) < 0) {
		OPENSSL_cleanse(text, sizeof(text));
		mo_unmatched(svc, msisdn, "not_keyword_code");
		job_free(j);
		return true;
	}
	OPENSSL_cleanse(text, sizeof(text));
	snprintf(j->msisdn, sizeof(j->msisdn), "%s", msisdn);
	job_read(svc, j);
	return true;
}

/* ---- devices ---- */

static void
on_auth(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct job		*j = ctx;
	struct sec_service	*svc = sec_gate_release(j->gate);

	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	if (st != DB_OK && st != DB_NOTFOUND) {
		job_storage_err(j, st);
		job_finish(j);
		return;
	}
	j->status = 401;
	if (st == DB_OK && n == 1 && rows[0].idx1[0] != '\0' &&
	    sec_rec_device_decode(rows[0].data, rows[0].len, &j->dev) == 0) {
		hex32(j->dev.token_hash, j->idx2);
		if (j->dev.revoked_at == 0 &&
		    CRYPTO_memcmp(j->idx2, j->token_hex, 64) == 0) {
			struct auth_slot *a = auth_slot(svc->registry,
			    j->dev.token_hash);

			j->status = 200;
			if (a != NULL) {
				memcpy(a->hash, j->dev.token_hash, 32);
				a->dev = j->dev;
				a->until = mono_ms() + AUTH_TTL_MS;
			}
		}
	}
	job_finish(j);
}

static void
on_revoke_row(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct job		*j = ctx;
	struct sec_service	*svc = sec_gate_release(j->gate);
	struct db_kv_op		 op;
	void			*data;
	size_t			 len;

	if (svc == NULL) {
		job_cancel(j);
		return;
	}
	if (st != DB_OK && st != DB_NOTFOUND) {
		job_storage_err(j, st);
		job_finish(j);
		return;
	}
	if (st == DB_NOTFOUND || n == 0 || sec_rec_device_decode(rows[0].data,
	    rows[0].len, &j->dev) < 0 || j->dev.revoked_at != 0) {
		job_err(j, 401, "unauthorized", "the device is revoked");
		job_finish(j);
		return;
	}
	j->dev.revoked_at = sec_now_ms();
	hex32(j->dev.token_hash, j->idx2);
	if ((data = sec_rec_device_encode(&j->dev, &len)) == NULL) {
		job_err(j, 500, "internal_error", "out of memory");
		job_finish(j);
		return;
	}
	op = (struct db_kv_op){ .op = DB_KV_PUT, .table = DB_KV_DEVICE,
	    .key = j->dev.device_id, .idx1 = "", .idx2 = j->idx2,
	    .sort = j->dev.created_at, .expires_at = 0,
	    .expect = rows[0].version, .data = data, .len = len };
	auth_forget(svc->registry, j->dev.token_hash);
	job_set(j, 204, NULL, 0);
	svc->n.devices_revoked++;
	smpp_log(SMPP_LOG_INFO, j->dev.device_id, "reg", "revoked",
	    "msisdn=%s by=self", j->dev.msisdn);
	job_write(svc, j, &op, &data, 1);
}

/* (Re)starts a job at its first read. */
static void
job_read(struct sec_service *svc, struct job *j)
{
	enum db_status	st;
	char		idx[DB_KV_IDX_MAX + 1];

	sec_gate_hold(j->gate);
	switch (j->kind) {
	case J_CREATE:
		st = db_kv_list(svc->store, DB_KV_REG, 1, j->rq.msisdn,
		    sec_now_ms() - DAY_MS - 1, " ", LIST_ROWS,
		    on_msisdn_regs, j);
		break;
	case J_MO:
		snprintf(idx, sizeof(idx), "mo:%s", j->msisdn);
		st = db_kv_list(svc->store, DB_KV_REG, 2, idx, 0, "", 16,
		    on_mo_regs, j);
		break;
	case J_AUTH:
		st = db_kv_list(svc->store, DB_KV_DEVICE, 2, j->token_hex, 0,
		    "", 1, on_auth, j);
		break;
	case J_REVOKE:
		st = db_kv_get(svc->store, DB_KV_DEVICE, j->dev.device_id,
		    on_revoke_row, j);
		break;
	default:
		st = db_kv_get(svc->store, DB_KV_REG, j->rid, on_reg_row, j);
		break;
	}
	if (st != DB_OK) {
		(void)sec_gate_release(j->gate);
		if (j->kind == J_MO) {
			mo_unmatched(svc, j->msisdn, "storage");
			job_free(j);
			return;
		}
		job_storage_err(j, st);
		job_finish_soon(svc, j);
	}
}

/* ---- the verbs ---- */

/* A job could not be made: answer 500 soon, through a minimal job on
 * the stack-free path (the caller's arg still gets exactly one call). */
static void
fail_nomem(struct sec_service *svc, sec_reg_reply cb, sec_dev_reply dcb,
    void *arg)
{
	(void)svc;
	/* Out of memory for 1 KiB: answering synchronously is the lesser
	 * evil; api.c tolerates it. */
	if (cb != NULL)
		cb(arg, 500, sec_error_json("internal_error", "out of memory"),
		    0);
	else if (dcb != NULL)
		dcb(arg, 503, NULL);
}

static bool
flow_refused(struct sec_service *svc, struct job *j)
{
	if (j->rq.mode_mo ? !svc->cfg.flow_mo : !svc->cfg.flow_sms) {
		job_err(j, 400, "invalid_request", j->rq.mode_mo ?
		    "mode mo is switched off on this gateway" :
		    "mode sms is switched off on this gateway");
		return true;
	}
	return false;
}

void
sec_registry_create(struct sec_service *svc,
    const struct sec_reg_request *rq, const char *client, sec_reg_reply cb,
    void *arg)
{
	struct sec_registry	*reg = svc->registry;
	struct job		*j;
	unsigned		 wait = 0;
	int64_t			 now = sec_now_ms();

	if ((j = job_new(svc, J_CREATE, cb, arg)) == NULL) {
		fail_nomem(svc, cb, NULL, arg);
		return;
	}
	j->rq = *rq;
	snprintf(j->client, sizeof(j->client), "%s", client);
	snprintf(j->logid, sizeof(j->logid), "%s", rq->msisdn);
	if (flow_refused(svc, j)) {
		job_finish_soon(svc, j);
		return;
	}
	/* SMS pumping: codes sent per client address and per MSISDN */
	if (!rq->mode_mo && (!sec_quota_take(reg->q_client, client, now,
	    &wait) || !sec_quota_take(reg->q_msisdn, rq->msisdn, now,
	    &wait))) {
		job_err(j, 429, "rate_limited",
		    "too many codes sent, try again later");
		j->retry_after = wait > 0 ? wait : 1;
		smpp_log(SMPP_LOG_INFO, rq->msisdn, "reg", "refused",
		    "reason=send_quota client=%s retry_after=%u", client,
		    j->retry_after);
		job_finish_soon(svc, j);
		return;
	}
	job_read(svc, j);
}

static struct job *
rid_job(struct sec_service *svc, enum job_kind kind, const char *rid,
    sec_reg_reply cb, void *arg)
{
	struct job *j;

	if ((j = job_new(svc, kind, cb, arg)) == NULL) {
		fail_nomem(svc, cb, NULL, arg);
		return NULL;
	}
	logid_rid(j->logid, rid);
	/* a longer path segment would be cut to a real rid's length and
	 * name that registration: no such registration */
	if (strlen(rid) == 0 || strlen(rid) > SEC_RID_MAX) {
		job_err(j, 404, "not_found", "no such registration");
		job_finish_soon(svc, j);
		return NULL;
	}
	snprintf(j->rid, sizeof(j->rid), "%s", rid);
	return j;
}

void
sec_registry_status(struct sec_service *svc, const char *rid,
    sec_reg_reply cb, void *arg)
{
	struct job *j;

	if ((j = rid_job(svc, J_STATUS, rid, cb, arg)) != NULL)
		job_read(svc, j);
}

void
sec_registry_code(struct sec_service *svc, const char *rid,
    const char *code, sec_reg_reply cb, void *arg)
{
	struct job *j;

	if ((j = rid_job(svc, J_CODE, rid, cb, arg)) == NULL)
		return;
	snprintf(j->code, sizeof(j->code), "%s", code);
	job_read(svc, j);
}

void
sec_registry_key(struct sec_service *svc, const char *rid,
    enum sec_scheme scheme, const uint8_t *spki, size_t spki_len,
    const char *device_type, sec_reg_reply cb, void *arg)
{
	struct job *j;

	if ((j = rid_job(svc, J_KEY, rid, cb, arg)) == NULL)
		return;
	j->scheme = scheme;
	if (spki_len > sizeof(j->spki))
		spki_len = 0;
	memcpy(j->spki, spki, spki_len);
	j->spki_len = spki_len;
	snprintf(j->device_type, sizeof(j->device_type), "%s",
	    device_type != NULL ? device_type : "");
	job_read(svc, j);
}

void
sec_registry_proof(struct sec_service *svc, const char *rid,
    const uint8_t *answer, size_t len, sec_reg_reply cb, void *arg)
{
	struct job *j;

	if ((j = rid_job(svc, J_PROOF, rid, cb, arg)) == NULL)
		return;
	if (len > sizeof(j->answer))
		len = sizeof(j->answer);
	memcpy(j->answer, answer, len);
	j->answer_len = len;
	job_read(svc, j);
}

void
sec_registry_auth(struct sec_service *svc, const char *token,
    sec_dev_reply cb, void *arg)
{
	struct job		*j;
	struct auth_slot	*a;
	uint8_t			 h[32];

	if ((j = job_new(svc, J_AUTH, NULL, arg)) == NULL) {
		fail_nomem(svc, NULL, cb, arg);
		return;
	}
	j->dcb = cb;
	if (sha256(token, strlen(token), h) < 0) {
		j->status = 503;
		job_finish_soon(svc, j);
		return;
	}
	a = auth_slot(svc->registry, h);
	if (a != NULL && a->until > mono_ms() &&
	    CRYPTO_memcmp(a->hash, h, sizeof(h)) == 0) {
		/* answered from the cache, inside the call */
		OPENSSL_cleanse(h, sizeof(h));
		j->dev = a->dev;
		j->status = 200;
		job_finish(j);
		return;
	}
	hex32(h, j->token_hex);
	OPENSSL_cleanse(h, sizeof(h));
	job_read(svc, j);
}

void
sec_registry_revoke(struct sec_service *svc,
    const struct sec_device_rec *dev, sec_reg_reply cb, void *arg)
{
	struct job *j;

	if ((j = job_new(svc, J_REVOKE, cb, arg)) == NULL) {
		fail_nomem(svc, cb, NULL, arg);
		return;
	}
	j->dev = *dev;
	snprintf(j->logid, sizeof(j->logid), "%.15s", dev->device_id);
	job_read(svc, j);
}

/* ---- purge and life cycle ---- */

static void
on_purged(void *ctx, enum db_status st, int64_t value)
{
	struct sec_gate		*g = ctx;
	struct sec_service	*svc = sec_gate_release(g);

	(void)value;
	if (svc == NULL)
		return;
	svc->registry->purging = false;
	if (st != DB_OK)
		smpp_log(SMPP_LOG_WARN, "-", "reg", "purge_failed",
		    "status=%s", db_status_name(st));
}

/* Registrations are kept a day past their end: the daily cap and the
 * carried wrong tries count them. */
static void
on_expired(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct sec_gate		*g = ctx;
	struct sec_service	*svc = sec_gate_release(g);
	struct db_kv_op		 ops[DB_KV_OPS_MAX];
	size_t			 k = 0;

	if (svc == NULL)
		return;
	if (st != DB_OK || n == 0) {
		svc->registry->purging = false;
		return;
	}
	for (size_t i = 0; i < n && k < DB_KV_OPS_MAX; i++)
		ops[k++] = (struct db_kv_op){ .op = DB_KV_DEL,
		    .table = DB_KV_REG, .key = rows[i].key, .expect = -1 };
	sec_gate_hold(g);
	if (db_kv_write(svc->store, ops, k, on_purged, g) != DB_OK) {
		(void)sec_gate_release(g);
		svc->registry->purging = false;
		return;
	}
	smpp_log(SMPP_LOG_DEBUG, "-", "reg", "purge", "rows=%zu", k);
}

static void
on_purge_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sec_service	*svc = arg;
	struct sec_registry	*reg = svc->registry;

	(void)fd;
	(void)what;
	if (reg->purging)
		return;
	sec_gate_hold(reg->gate);
	if (db_kv_expired(svc->store, DB_KV_REG, sec_now_ms() - DAY_MS,
	    DB_KV_OPS_MAX, on_expired, reg->gate) != DB_OK) {
		(void)sec_gate_release(reg->gate);
		return;
	}
	reg->purging = true;
}

int
sec_registry_init(struct sec_service *svc, char *err, size_t errlen)
{
	struct sec_registry	*reg;
	const struct sec_config	*c = &svc->cfg;
	struct timeval		 tv = { PURGE_EVERY_S, 0 };

	if ((reg = calloc(1, sizeof(*reg))) == NULL ||
	    (reg->gate = calloc(1, sizeof(*reg->gate))) == NULL)
		goto nomem;
	reg->gate->svc = svc;
	reg->q_msisdn = sec_quota_new(c->otp_sends_per_msisdn,
	    c->otp_send_window_s, 100000);
	reg->q_client = sec_quota_new(c->otp_sends_per_client,
	    c->otp_send_window_s, 100000);
	reg->auth = calloc(AUTH_SLOTS, sizeof(*reg->auth));
	if (reg->q_msisdn == NULL || reg->q_client == NULL ||
	    reg->auth == NULL)
		goto nomem;
	if (svc->base != NULL) {
		reg->purge_timer = event_new(svc->base, -1, EV_PERSIST,
		    on_purge_timer, svc);
		if (reg->purge_timer == NULL ||
		    event_add(reg->purge_timer, &tv) < 0)
			goto nomem;
	}
	svc->registry = reg;
	return 0;
nomem:
	snprintf(err, errlen, "registry: out of memory");
	if (reg != NULL) {
		if (reg->purge_timer != NULL)
			event_free(reg->purge_timer);
		sec_quota_free(reg->q_msisdn);
		sec_quota_free(reg->q_client);
		free(reg->auth);
		free(reg->gate);
		free(reg);
	}
	return -1;
}

void
sec_registry_free(struct sec_service *svc)
{
	struct sec_registry *reg = svc->registry;

	if (reg == NULL)
		return;
	if (reg->purge_timer != NULL)
		event_free(reg->purge_timer);
	sec_quota_free(reg->q_msisdn);
	sec_quota_free(reg->q_client);
	OPENSSL_clear_free(reg->auth, AUTH_SLOTS * sizeof(*reg->auth));
	/* SMS still out: the gateway drops their done callbacks once the
	 * service is gone, so they are released here */
	while (reg->sms != NULL) {
		struct sms_ctx *s = reg->sms;

		reg->sms = s->next;
		reg->gate->refs--;
		free(s);
	}
	/* jobs still out get NULL from the gate and only free themselves */
	reg->gate->svc = NULL;
	if (reg->gate->refs == 0)
		free(reg->gate);
	free(reg);
	svc->registry = NULL;
}
