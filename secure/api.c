/*
 * The handset HTTPS API (../shared/handset-api-v1.md): evhttp over TLS
 * (bufferevent_openssl, TLS >= 1.2), a router for /v1/..., one pure
 * parser per request body, bearer-token auth, CORS for configured
 * origins, and JSON errors {"error","message"} with the contract's
 * statuses. Registrations go to registry.c; acks and replies to the
 * pipeline; the message list and envelopes are read here.
 *
 * A request waits for storage in a struct areq. It holds the service's
 * gate (registry.h) while it waits, so a callback that comes after the
 * service is freed only frees the areq (evhttp freed the request).
 *
 * Bodies larger than api_body_max get 413 payload_too_large as JSON;
 * evhttp itself reads at most four times that (beyond it, evhttp's own
 * 413 or a closed connection).
 *
 * Logs: "<rid|device_id> api <route> status=N" (rids cut to 8
 * characters); never a code, token, key or body.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "db/store.h"
#include "secure/api.h"
#include "secure/devcert.h"
#include "smpp/log.h"

#define HARD_BODY_FACTOR 4
#define TOKEN_MAX	128

struct sec_api {
	struct sec_service		*svc;
	struct sec_quota		*replies;	/* per device */
	struct evhttp			*http;
	struct evhttp_bound_socket	*bs;
	SSL_CTX				*ssl;
};

/* Messages read per list round trip (the store sizes its answer by what
 * is asked; a device rarely has more than a few waiting). */
#define LIST_PAGE	100

/* Replies a device may send per window: each becomes an MO to the
 * sending account, so an app (or a stolen token) must not flood it. */
#define REPLY_LIMIT	30
#define REPLY_WINDOW_S	600
#define REPLY_KEYS	100000

struct areq {
	struct evhttp_request	*req;
	struct sec_gate		*gate;
	enum sec_route_kind	 kind;
	char			 arg[SEC_ID_MAX + 1];
	char			 origin[256];	/* an allowed Origin, or "" */
	char			 logid[48];
	struct sec_device_rec	 dev;
	char			*text;		/* reply text */
	json_t			*list;		/* messages so far */
	int64_t			 after_sort;	/* the list's last row */
	char			 after_key[DB_KV_KEY_MAX + 1];
};

/* ---- pure parts ---- */

static const struct {
	enum sec_route_kind	 kind;
	const char		*name;
} route_names[] = {
	{ SEC_R_NONE, "none" }, { SEC_R_OPTIONS, "options" },
	{ SEC_R_REG_CREATE, "reg_create" }, { SEC_R_REG_STATUS, "reg_status" },
	{ SEC_R_REG_CODE, "reg_code" }, { SEC_R_REG_KEY, "reg_key" },
	{ SEC_R_REG_PROOF, "reg_proof" }, { SEC_R_MSG_LIST, "msg_list" },
	{ SEC_R_MSG_GET, "msg_get" }, { SEC_R_MSG_ACK, "msg_ack" },
	{ SEC_R_MSG_REPLY, "msg_reply" },
	{ SEC_R_DEVICE_DELETE, "device_delete" },
};

const char *
sec_route_name(enum sec_route_kind k)
{
	for (size_t i = 0; i < sizeof(route_names) / sizeof(route_names[0]);
	    i++)
		if (route_names[i].kind == k)
			return route_names[i].name;
	return "none";
}

/* One path segment of 1..SEC_ID_MAX id characters; returns its length
 * or 0. */
static size_t
segment(const char *p, char *out)
{
	size_t n = 0;

	while (p[n] != '\0' && p[n] != '/') {
		char c = p[n];
		if (n == SEC_ID_MAX || !((c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.'))
			return 0;
		out[n] = c;
		n++;
	}
	out[n] = '\0';
	return n;
}

void
sec_api_route(enum sec_method m, const char *path, struct sec_route *out)
{
	const char	*p;
	size_t		 n;

	memset(out, 0, sizeof(*out));
	if (path == NULL || strncmp(path, "/v1/", 4) != 0)
		return;
	if (m == SEC_M_OPTIONS) {
		out->kind = SEC_R_OPTIONS;
		return;
	}
	p = path + 4;
	if (strcmp(p, "registrations") == 0) {
		if (m == SEC_M_POST)
			out->kind = SEC_R_REG_CREATE;
		return;
	}
	if (strcmp(p, "messages") == 0) {
		if (m == SEC_M_GET)
			out->kind = SEC_R_MSG_LIST;
		return;
	}
	if (strcmp(p, "device") == 0) {
		if (m == SEC_M_DELETE)
			out->kind = SEC_R_DEVICE_DELETE;
		return;
	}
	if (strncmp(p, "registrations/", 14) == 0) {
		p += 14;
		if ((n = segment(p, out->arg)) == 0)
			goto none;
		p += n;
		if (*p == '\0' && m == SEC_M_GET)
			out->kind = SEC_R_REG_STATUS;
		else if (m != SEC_M_POST)
			goto none;
		else if (strcmp(p, "/code") == 0)
			out->kind = SEC_R_REG_CODE;
		else if (strcmp(p, "/key") == 0)
			out->kind = SEC_R_REG_KEY;
		else if (strcmp(p, "/proof") == 0)
			out->kind = SEC_R_REG_PROOF;
		else
			goto none;
		return;
	}
	if (strncmp(p, "messages/", 9) == 0) {
		p += 9;
		if ((n = segment(p, out->arg)) == 0)
			goto none;
		p += n;
		if (*p == '\0' && m == SEC_M_GET)
			out->kind = SEC_R_MSG_GET;
		else if (m != SEC_M_POST)
			goto none;
		else if (strcmp(p, "/ack") == 0)
			out->kind = SEC_R_MSG_ACK;
		else if (strcmp(p, "/reply") == 0)
			out->kind = SEC_R_MSG_REPLY;
		else
			goto none;
		return;
	}
none:
	memset(out, 0, sizeof(*out));
}

static int
fail(struct sec_api_err *err, int status, const char *code, const char *msg)
{
	err->status = status;
	err->code = code;
	err->message = msg;
	return -1;
}

/* The body as a JSON object, or NULL with err set. */
static json_t *
body_object(const void *body, size_t len, struct sec_api_err *err)
{
	json_t		*o;
	json_error_t	 je;

	if (body == NULL || len == 0) {
		fail(err, 400, "invalid_request", "a JSON body is required");
		return NULL;
	}
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		fail(err, 400, "invalid_request", "the body is not valid JSON");
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		fail(err, 400, "invalid_request",
		    "the body must be a JSON object");
		return NULL;
	}
	return o;
}

/* A string member: 1 present (copied, NUL-free, < cap), 0 absent, -1
 * wrong type, too long or with a NUL. */
static int
member_str(const json_t *o, const char *k, char *buf, size_t cap)
{
	const json_t	*v = json_object_get(o, k);
	size_t		 n;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return -1;
	n = json_string_length(v);
	if (n >= cap || memchr(json_string_value(v), '\0', n) != NULL)
		return -1;
	memcpy(buf, json_string_value(v), n);
	buf[n] = '\0';
	return 1;
}

/* Wipes the string member k inside o (jansson frees without wiping). */
static void
member_wipe(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		OPENSSL_cleanse((char *)json_string_value(v),
		    json_string_length(v));
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* device_type: optional, up to 32 bytes of printable text. */
static int
member_device_type(const json_t *o, char out[33], struct sec_api_err *err)
{
	out[0] = '\0';
	if (member_str(o, "device_type", out, 33) < 0 || !printable(out))
		return fail(err, 400, "invalid_request",
		    "device_type must be a string of at most 32 bytes");
	return 0;
}

int
sec_api_parse_registration(const void *body, size_t len,
    struct sec_reg_request *out, struct sec_api_err *err)
{
	json_t		*o;
	const json_t	*v;
	char		 raw[64], mode[8];
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = body_object(body, len, err)) == NULL)
		return -1;
	switch (member_str(o, "msisdn", raw, sizeof(raw))) {
	case 0:
		fail(err, 400, "invalid_request", "msisdn is required");
		goto out;
	case -1:
		fail(err, 400, "invalid_msisdn",
		    "msisdn must be a phone number as a string");
		goto out;
	}
	if (sec_msisdn_normalize(raw, out->msisdn) < 0) {
		fail(err, 400, "invalid_msisdn", "msisdn must be an "
		    "international number of 6 to 15 digits");
		goto out;
	}
	if (member_str(o, "mode", mode, sizeof(mode)) != 1 ||
	    (strcmp(mode, "sms") != 0 && strcmp(mode, "mo") != 0)) {
		fail(err, 400, "invalid_request",
		    "mode must be \"sms\" or \"mo\"");
		goto out;
	}
	out->mode_mo = strcmp(mode, "mo") == 0;
	if (member_device_type(o, out->device_type, err) < 0)
		goto out;
	if ((v = json_object_get(o, "replace")) != NULL) {
		if (!json_is_boolean(v)) {
			fail(err, 400, "invalid_request",
			    "replace must be true or false");
			goto out;
		}
		out->replace = json_is_true(v);
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int
sec_api_parse_code(const void *body, size_t len, char code[11],
    struct sec_api_err *err)
{
	json_t	*o;
	int	 rc = -1;

	code[0] = '\0';
	if ((o = body_object(body, len, err)) == NULL)
		return -1;
	if (member_str(o, "code", code, SEC_OTP_MAX_DIGITS + 1) != 1 ||
	    !sec_otp_well_formed(code, SEC_OTP_MIN_DIGITS,
	    SEC_OTP_MAX_DIGITS)) {
		OPENSSL_cleanse(code, SEC_OTP_MAX_DIGITS + 1);
		fail(err, 400, "invalid_request",
		    "code must be a string of 6 to 10 digits");
	} else
		rc = 0;
	member_wipe(o, "code");
	json_decref(o);
	return rc;
}

int
sec_api_parse_key(const void *body, size_t len, struct sec_key_request *out,
    struct sec_api_err *err)
{
	json_t		*o;
	const json_t	*v;
	char		 scheme[64];
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = body_object(body, len, err)) == NULL)
		return -1;
	switch (member_str(o, "scheme", scheme, sizeof(scheme))) {
	case 0:
		fail(err, 400, "invalid_request", "scheme is required");
		goto out;
	case -1:
		fail(err, 400, "unsupported_scheme",
		    "this scheme is not supported");
		goto out;
	}
	if ((out->scheme = sec_scheme_from_name(scheme)) == SEC_SCHEME_NONE) {
		fail(err, 400, "unsupported_scheme",
		    "this scheme is not supported");
		goto out;
	}
	v = json_object_get(o, "public_key");
	if (v == NULL) {
		fail(err, 400, "invalid_request", "public_key is required");
		goto out;
	}
	if (!json_is_string(v) || sec_b64_decode(json_string_value(v),
	    out->spki, sizeof(out->spki), &out->spki_len) < 0 ||
	    out->spki_len == 0) {
		fail(err, 400, "invalid_key", "public_key must be a DER "
		    "SubjectPublicKeyInfo in base64");
		goto out;
	}
	if (member_device_type(o, out->device_type, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int
sec_api_parse_proof(const void *body, size_t len, uint8_t answer[64],
    size_t *answer_len, struct sec_api_err *err)
{
	json_t		*o;
	const json_t	*v;
	int		 rc = -1;

	*answer_len = 0;
	if ((o = body_object(body, len, err)) == NULL)
		return -1;
	v = json_object_get(o, "answer");
	if (!json_is_string(v) || sec_b64_decode(json_string_value(v),
	    answer, 64, answer_len) < 0 || *answer_len == 0) {
		OPENSSL_cleanse(answer, 64);
		*answer_len = 0;
		fail(err, 400, "invalid_request",
		    "answer must be base64 of the opened challenge");
	} else
		rc = 0;
	member_wipe(o, "answer");
	json_decref(o);
	return rc;
}

int
sec_api_parse_reply(const void *body, size_t len, size_t max, char **text,
    struct sec_api_err *err)
{
	json_t		*o;
	const json_t	*v;
	size_t		 n;
	int		 rc = -1;

	*text = NULL;
	if ((o = body_object(body, len, err)) == NULL)
		return -1;
	v = json_object_get(o, "text");
	if (!json_is_string(v) || (n = json_string_length(v)) == 0 ||
	    n > max || memchr(json_string_value(v), '\0', n) != NULL) {
		fail(err, 400, "invalid_request",
		    "text must be a non-empty string within the size limit");
		goto out;
	}
	if ((*text = malloc(n + 1)) == NULL) {
		fail(err, 500, "internal_error", "out of memory");
		goto out;
	}
	memcpy(*text, json_string_value(v), n + 1);
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* ---- replies ---- */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status < 500 ? "Error" : "Internal Server Error";
	}
}

static void
areq_free(struct areq *a)
{
	if (a->list != NULL)
		json_decref(a->list);
	if (a->text != NULL) {
		OPENSSL_cleanse(a->text, strlen(a->text));
		free(a->text);
	}
	OPENSSL_clear_free(a, sizeof(*a));
}

/* Sends status with body (taken; may be NULL) and frees a. */
static void
areply(struct sec_service *svc, struct areq *a, int status, json_t *body,
    unsigned retry_after)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(a->req);
	struct evbuffer		*b = NULL;
	char			*s = NULL, ra[16];
	const json_t		*v;

	if (a->origin[0] != '\0') {
		evhttp_add_header(h, "Access-Control-Allow-Origin", a->origin);
		evhttp_add_header(h, "Access-Control-Expose-Headers",
		    "Retry-After");
		evhttp_add_header(h, "Vary", "Origin");
	}
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%u", retry_after);
		evhttp_add_header(h, "Retry-After", ra);
	}
	if (status == 401)
		evhttp_add_header(h, "WWW-Authenticate", "Bearer");
	if (status == 201 && body != NULL &&
	    (v = json_object_get(body, "registration_id")) != NULL &&
	    json_is_string(v))
		snprintf(a->logid, sizeof(a->logid), "r:%.8s",
		    json_string_value(v));
	if (body != NULL && status != 204) {
		s = json_dumps(body, JSON_COMPACT);
		if (s != NULL && (b = evbuffer_new()) != NULL) {
			evbuffer_add(b, s, strlen(s));
			evhttp_add_header(h, "Content-Type",
			    "application/json");
		}
	}
	if (status >= 400)
		svc->n.api_errors++;
	smpp_log(status >= 500 ? SMPP_LOG_WARN : SMPP_LOG_INFO, a->logid,
	    "api", sec_route_name(a->kind), "status=%d", status);
	evhttp_send_reply(a->req, status, reason(status), b);
	if (b != NULL)
		evbuffer_free(b);
	if (s != NULL) {
		/* may hold a device token */
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
	if (body != NULL) {
		member_wipe(body, "device_token");
		json_decref(body);
	}
	areq_free(a);
}

static void
aerror(struct sec_service *svc, struct areq *a, int status,
    const char *code, const char *msg)
{
	areply(svc, a, status, sec_error_json(code, msg), 0);
}

/* ---- storage and registry callbacks ---- */

static void
on_reg_reply(void *arg, int status, json_t *body, unsigned retry_after)
{
	struct areq		*a = arg;
	struct sec_service	*svc = sec_gate_release(a->gate);

	if (status == 0 || svc == NULL) {
		if (body != NULL)
			json_decref(body);
		areq_free(a);
		return;
	}
	areply(svc, a, status, body, retry_after);
}

static void
on_done(void *arg, int status)
{
	struct areq		*a = arg;
	struct sec_service	*svc = sec_gate_release(a->gate);

	if (svc == NULL) {
		areq_free(a);
		return;
	}
	switch (status) {
	case 202:
	case 204:
		areply(svc, a, status, NULL, 0);
		return;
	case 404:
		aerror(svc, a, 404, "not_found", "no such message");
		return;
	case 400:
		aerror(svc, a, 400, "invalid_request",
		    "the text is empty or too long");
		return;
	case 410:
		aerror(svc, a, 410, "expired", "the message has expired");
		return;
	default:
		areply(svc, a, 503, sec_error_json("unavailable",
		    "storage is busy, try again"), 1);
		return;
	}
}

static void
rfc3339(int64_t ms, char buf[32])
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "1970-01-01T00:00:00Z");
}

static void
on_list(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct areq		*a = ctx;
	struct sec_service	*svc = sec_gate_release(a->gate);
	json_t			*list, *o;
	int64_t			 now = sec_now_ms();
	char			 t1[32], t2[32];

	if (svc == NULL) {
		areq_free(a);
		return;
	}
	if (st != DB_OK && st != DB_NOTFOUND) {
		areply(svc, a, 503, sec_error_json("unavailable",
		    "storage is busy, try again"), 1);
		return;
	}
	if (a->list == NULL && (a->list = json_array()) == NULL) {
		aerror(svc, a, 500, "internal_error", "out of memory");
		return;
	}
	list = a->list;
	for (size_t i = 0; st == DB_OK && i < n; i++) {
		struct sec_copy_rec c;

		a->after_sort = rows[i].sort;
		snprintf(a->after_key, sizeof(a->after_key), "%s",
		    rows[i].key);
		if (sec_rec_copy_decode(rows[i].data, rows[i].len, &c) < 0)
			continue;
		if (strcmp(c.device_id, a->dev.device_id) == 0 &&
		    c.acked_at == 0 && (c.expires_at == 0 ||
		    c.expires_at > now)) {
			rfc3339(c.received_at, t1);
			rfc3339(c.expires_at, t2);
			o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", c.id,
			    "from", c.from, "received_at", t1, "expires_at",
			    t2, "size", (json_int_t)c.size);
			if (o != NULL)
				json_array_append_new(list, o);
		}
		sec_rec_copy_clear(&c);
	}
	if (st == DB_OK && n == LIST_PAGE &&
	    json_array_size(list) < DB_KV_LIST_MAX) {
		/* a full page: read on after its last row */
		sec_gate_hold(a->gate);
		if (db_kv_list(svc->store, DB_KV_COPY, 1, a->dev.device_id,
		    a->after_sort, a->after_key, LIST_PAGE, on_list, a) ==
		    DB_OK)
			return;
		(void)sec_gate_release(a->gate);
	}
	a->list = NULL;
	areply(svc, a, 200, json_pack("{s:o}", "messages", list), 0);
}

static void
on_copy(void *ctx, enum db_status st, const struct db_kv_row *rows,
    size_t n)
{
	struct areq		*a = ctx;
	struct sec_service	*svc = sec_gate_release(a->gate);
	struct sec_copy_rec	 c;
	json_t			*env;

	if (svc == NULL) {
		areq_free(a);
		return;
	}
	if (st != DB_OK && st != DB_NOTFOUND) {
		areply(svc, a, 503, sec_error_json("unavailable",
		    "storage is busy, try again"), 1);
		return;
	}
	if (st == DB_NOTFOUND || n == 0 ||
	    sec_rec_copy_decode(rows[0].data, rows[0].len, &c) < 0) {
		aerror(svc, a, 404, "not_found", "no such message");
		return;
	}
	if (strcmp(c.device_id, a->dev.device_id) != 0 ||
	    strcmp(c.id, a->arg) != 0) {
		sec_rec_copy_clear(&c);
		aerror(svc, a, 404, "not_found", "no such message");
		return;
	}
	if (c.expires_at != 0 && c.expires_at <= sec_now_ms()) {
		sec_rec_copy_clear(&c);
		aerror(svc, a, 410, "expired", "the message has expired");
		return;
	}
	env = sec_rec_copy_envelope(&c);
	sec_rec_copy_clear(&c);
	if (env == NULL) {
		aerror(svc, a, 500, "internal_error", "out of memory");
		return;
	}
	svc->n.fetches++;
	areply(svc, a, 200, env, 0);
}

/* The device is known: run the message or device verb. */
static void
on_authed(void *arg, int status, const struct sec_device_rec *dev)
{
	struct areq		*a = arg;
	struct sec_service	*svc;
	char			 key[DB_KV_KEY_MAX + 1];
	enum db_status		 st;

	svc = sec_gate_release(a->gate);
	if (status == 0 || svc == NULL) {
		areq_free(a);
		return;
	}
	if (status == 401 || dev == NULL) {
		if (status == 401)
			aerror(svc, a, 401, "unauthorized",
			    "unknown or revoked device token");
		else
			areply(svc, a, 503, sec_error_json("unavailable",
			    "storage is busy, try again"), 1);
		return;
	}
	a->dev = *dev;
	snprintf(a->logid, sizeof(a->logid), "%s", dev->device_id);
	sec_gate_hold(a->gate);
	switch (a->kind) {
	case SEC_R_MSG_LIST:
		st = db_kv_list(svc->store, DB_KV_COPY, 1, dev->device_id, 0,
		    "", LIST_PAGE, on_list, a);
		break;
	case SEC_R_MSG_GET:
		snprintf(key, sizeof(key), "%s/%s", a->arg, dev->device_id);
		st = db_kv_get(svc->store, DB_KV_COPY, key, on_copy, a);
		break;
	case SEC_R_MSG_ACK:
		sec_pipeline_ack(svc, &a->dev, a->arg, on_done, a);
		return;
	case SEC_R_MSG_REPLY: {
		unsigned retry = 0;

		if (!sec_quota_take(svc->api->replies, dev->device_id,
		    sec_now_ms(), &retry)) {
			(void)sec_gate_release(a->gate);
			areply(svc, a, 429, sec_error_json("rate_limited",
			    "too many replies from this device, try later"),
			    retry);
			return;
		}
		sec_pipeline_reply(svc, &a->dev, a->arg, a->text, on_done, a);
		return;
	}
	case SEC_R_DEVICE_DELETE:
		sec_registry_revoke(svc, &a->dev, on_reg_reply, a);
		return;
	default:
		(void)sec_gate_release(a->gate);
		aerror(svc, a, 404, "not_found", "no such endpoint");
		return;
	}
	if (st != DB_OK) {
		(void)sec_gate_release(a->gate);
		areply(svc, a, 503, sec_error_json("unavailable",
		    "storage is busy, try again"), 1);
	}
}

/* ---- the request handler ---- */

static enum sec_method
method_of(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:	return SEC_M_GET;
	case EVHTTP_REQ_POST:	return SEC_M_POST;
	case EVHTTP_REQ_DELETE:	return SEC_M_DELETE;
	case EVHTTP_REQ_OPTIONS: return SEC_M_OPTIONS;
	default:		return SEC_M_OTHER;
	}
}

static void
cors_origin(const struct sec_config *cfg, struct evhttp_request *req,
    char out[256])
{
	const char *o = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Origin");

	out[0] = '\0';
	if (o == NULL)
		return;
	for (size_t i = 0; i < cfg->n_cors_origins && i < SEC_MAX_ORIGINS;
	    i++)
		if (strcmp(cfg->cors_origins[i], o) == 0 ||
		    strcmp(cfg->cors_origins[i], "*") == 0) {
			snprintf(out, 256, "%s", o);
			return;
		}
}

/* "Bearer TOKEN" -> token (1..TOKEN_MAX base64url characters). */
static int
bearer(struct evhttp_request *req, char token[TOKEN_MAX + 1])
{
	const char	*h = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	size_t		 n = 0;

	token[0] = '\0';
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	h += 7;
	while (*h == ' ')
		h++;
	for (; h[n] != '\0' && h[n] != ' '; n++) {
		char c = h[n];
		if (n == TOKEN_MAX || !((c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return -1;
		token[n] = c;
	}
	token[n] = '\0';
	return n > 0 ? 0 : -1;
}

static void
client_addr(struct evhttp_request *req, char out[48])
{
	struct evhttp_connection	*c = evhttp_request_get_connection(req);
	char				*host = NULL;
	ev_uint16_t			 port = 0;

	out[0] = '\0';
	if (c != NULL)
		evhttp_connection_get_peer(c, &host, &port);
	snprintf(out, 48, "%s", host != NULL ? host : "-");
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct sec_api		*api = arg;
	struct sec_service	*svc = api->svc;
	struct sec_route	 rt;
	struct sec_api_err	 err = { 0, NULL, NULL };
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct areq		*a;
	size_t			 len = evbuffer_get_length(in);
	const uint8_t		*body = NULL;
	char			 client[48], token[TOKEN_MAX + 1];
	char			 code[SEC_OTP_MAX_DIGITS + 1];
	uint8_t			 answer[64];
	size_t			 answer_len;
	int			 rc;
	struct sec_reg_request	 rq;
	struct sec_key_request	*kq;

	svc->n.api_requests++;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	a->req = req;
	a->gate = sec_gate_of(svc);
	snprintf(a->logid, sizeof(a->logid), "-");
	cors_origin(&svc->cfg, req, a->origin);
	sec_api_route(method_of(req), uri != NULL ? evhttp_uri_get_path(uri) :
	    NULL, &rt);
	a->kind = rt.kind;
	memcpy(a->arg, rt.arg, sizeof(a->arg));

	if (rt.kind == SEC_R_OPTIONS) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		if (a->origin[0] != '\0') {
			evhttp_add_header(h, "Access-Control-Allow-Methods",
			    "GET, POST, DELETE, OPTIONS");
			evhttp_add_header(h, "Access-Control-Allow-Headers",
			    "Authorization, Content-Type");
			evhttp_add_header(h, "Access-Control-Max-Age", "600");
		}
		areply(svc, a, 204, NULL, 0);
		return;
	}
	if (rt.kind == SEC_R_NONE) {
		aerror(svc, a, 404, "not_found", "no such endpoint");
		return;
	}
	if (len > svc->cfg.api_body_max) {
		aerror(svc, a, 413, "payload_too_large",
		    "the body is larger than the limit");
		return;
	}
	if (len > 0 && (body = evbuffer_pullup(in, -1)) == NULL) {
		aerror(svc, a, 500, "internal_error", "out of memory");
		return;
	}
	if (rt.kind == SEC_R_REG_STATUS || rt.kind == SEC_R_REG_CODE ||
	    rt.kind == SEC_R_REG_KEY || rt.kind == SEC_R_REG_PROOF)
		snprintf(a->logid, sizeof(a->logid), "r:%.8s", rt.arg);

	switch (rt.kind) {
	case SEC_R_REG_CREATE:
		if (sec_api_parse_registration(body, len, &rq, &err) < 0)
			break;
		client_addr(req, client);
		sec_gate_hold(a->gate);
		sec_registry_create(svc, &rq, client, on_reg_reply, a);
		return;
	case SEC_R_REG_STATUS:
		sec_gate_hold(a->gate);
		sec_registry_status(svc, rt.arg, on_reg_reply, a);
		return;
	case SEC_R_REG_CODE:
		rc = sec_api_parse_code(body, len, code, &err);
		/* the request body holds the code too */
		if (body != NULL)
			OPENSSL_cleanse((void *)body, len);
		if (rc < 0)
			break;
		sec_gate_hold(a->gate);
		sec_registry_code(svc, rt.arg, code, on_reg_reply, a);
		OPENSSL_cleanse(code, sizeof(code));
		return;
	case SEC_R_REG_KEY:
		if ((kq = malloc(sizeof(*kq))) == NULL) {
			err = (struct sec_api_err){ 500, "internal_error",
			    "out of memory" };
			break;
		}
		if (sec_api_parse_key(body, len, kq, &err) < 0) {
			free(kq);
			break;
		}
		sec_gate_hold(a->gate);
		sec_registry_key(svc, rt.arg, kq->scheme, kq->spki,
		    kq->spki_len, kq->device_type, on_reg_reply, a);
		free(kq);
		return;
	case SEC_R_REG_PROOF:
		rc = sec_api_parse_proof(body, len, answer, &answer_len, &err);
		/* the request body holds the challenge too */
		if (body != NULL)
			OPENSSL_cleanse((void *)body, len);
		if (rc < 0)
			break;
		sec_gate_hold(a->gate);
		sec_registry_proof(svc, rt.arg, answer, answer_len,
		    on_reg_reply, a);
		OPENSSL_cleanse(answer, sizeof(answer));
		return;
	case SEC_R_MSG_REPLY:
		if (sec_api_parse_reply(body, len, svc->cfg.max_message_bytes,
		    &a->text, &err) < 0)
			break;
		/* FALLTHROUGH */
	case SEC_R_MSG_LIST:
	case SEC_R_MSG_GET:
	case SEC_R_MSG_ACK:
	case SEC_R_DEVICE_DELETE:
		if (bearer(req, token) < 0) {
			OPENSSL_cleanse(token, sizeof(token));
			err = (struct sec_api_err){ 401, "unauthorized",
			    "a device token is required" };
			break;
		}
		sec_gate_hold(a->gate);
		sec_registry_auth(svc, token, on_authed, a);
		OPENSSL_cleanse(token, sizeof(token));
		return;
	default:
		err = (struct sec_api_err){ 404, "not_found",
		    "no such endpoint" };
		break;
	}
	aerror(svc, a, err.status, err.code, err.message);
}

/* ---- TLS listener ---- */

static struct bufferevent *
on_bev(struct event_base *base, void *arg)
{
	struct sec_api	*api = arg;
	SSL		*ssl = SSL_new(api->ssl);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static void
ssl_err(const char *what, char *err, size_t errlen)
{
	char		buf[256] = "";
	unsigned long	e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int
sec_api_start(struct sec_service *svc, const char *address, uint16_t port,
    const char *cert, const char *key, char *err, size_t errlen)
{
	struct sec_api	*api;
	size_t		 hard;
	int		 one = 1;

	if (svc->api != NULL) {
		snprintf(err, errlen, "handset API already started");
		return -1;
	}
	if (!exists(cert) && !exists(key)) {
		if (sec_devcert_make(cert, key, err, errlen) < 0)
			return -1;
		smpp_log(SMPP_LOG_WARN, "-", "api", "devcert",
		    "cert=%s key=%s (self-signed, for development)", cert,
		    key);
	}
	if ((api = calloc(1, sizeof(*api))) == NULL ||
	    (api->replies = sec_quota_new(REPLY_LIMIT, REPLY_WINDOW_S,
	    REPLY_KEYS)) == NULL) {
		free(api);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	api->svc = svc;
	if ((api->ssl = SSL_CTX_new(TLS_server_method())) == NULL) {
		ssl_err("TLS context", err, errlen);
		goto fail;
	}
	SSL_CTX_set_min_proto_version(api->ssl, TLS1_2_VERSION);
	SSL_CTX_set_options(api->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(api->ssl, cert) != 1) {
		char what[600];
		snprintf(what, sizeof(what), "%s", cert);
		ssl_err(what, err, errlen);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(api->ssl, key, SSL_FILETYPE_PEM) != 1) {
		char what[600];
		snprintf(what, sizeof(what), "%s", key);
		ssl_err(what, err, errlen);
		goto fail;
	}
	if (SSL_CTX_check_private_key(api->ssl) != 1) {
		ssl_err("certificate and key do not match", err, errlen);
		goto fail;
	}
	if ((api->http = evhttp_new(svc->base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		goto fail;
	}
	evhttp_set_bevcb(api->http, on_bev, api);
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
	/* read a bit more than the limit so the answer is our JSON 413 */
	hard = (size_t)svc->cfg.api_body_max * HARD_BODY_FACTOR;
	if (hard < (size_t)svc->cfg.api_body_max + 65536)
		hard = (size_t)svc->cfg.api_body_max + 65536;
	evhttp_set_max_body_size(api->http, (ev_ssize_t)hard);
	evhttp_set_max_headers_size(api->http, 16384);
	evhttp_set_timeout(api->http, 30);
	evhttp_set_gencb(api->http, on_request, api);
	api->bs = evhttp_bind_socket_with_handle(api->http, address, port);
	if (api->bs == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u", address,
		    (unsigned)port);
		goto fail;
	}
	/* Nagle plus delayed ACKs cost 40 ms per request; accepted sockets
	 * inherit this */
	(void)setsockopt(evhttp_bound_socket_get_fd(api->bs), IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof(one));
	svc->api = api;
	smpp_log(SMPP_LOG_INFO, "-", "api", "listening", "address=%s port=%u",
	    address, (unsigned)port);
	return 0;
fail:
	if (api->http != NULL)
		evhttp_free(api->http);
	if (api->ssl != NULL)
		SSL_CTX_free(api->ssl);
	sec_quota_free(api->replies);
	free(api);
	return -1;
}

void
sec_api_free(struct sec_service *svc)
{
	struct sec_api *api = svc->api;

	if (api == NULL)
		return;
	evhttp_free(api->http);
	SSL_CTX_free(api->ssl);
	sec_quota_free(api->replies);
	free(api);
	svc->api = NULL;
}
