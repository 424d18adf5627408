/*
 * Row layouts of the secure pipeline (records.h): each record is one
 * jansson object, binary fields in standard base64 with padding. Decoding
 * is strict: a missing field, a wrong type or an oversize value makes the
 * whole row malformed (-1), so a damaged row is never half-used.
 *
 * Also the contract's ENVELOPE for a device copy, the state names and the
 * MSISDN normaliser that the API and the SMPP side share.
 *
 * Base64 goes through OpenSSL's EVP_{En,De}codeBlock directly here (the
 * same rules as sec_b64_*), so rows do not depend on envelope.c's link
 * order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "secure/records.h"

/* Largest body or size a row may claim (the store caps a row at 512 KiB). */
#define REC_BODY_MAX	(512 * 1024)

/* ---- base64 ---- */

static char *
b64_enc(const uint8_t *in, size_t len)
{
	size_t	 cap = 4 * ((len + 2) / 3) + 1;
	char	*out;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	if (len == 0) {
		out[0] = '\0';
		return out;
	}
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* Strict: length a multiple of 4, padding only at the end, no
 * whitespace. *outlen set; -1 if malformed or more than cap bytes. */
static int
b64_dec(const char *in, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t	 n = strlen(in), pad = 0, need;
	uint8_t	*tmp;
	int	 r;

	*outlen = 0;
	if (n == 0)
		return 0;
	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/')
			continue;
		if (c == '=' && i >= n - 2) {
			if (i == n - 2 && in[n - 1] != '=')
				return -1;
			continue;
		}
		return -1;
	}
	if (in[n - 1] == '=')
		pad++;
	if (in[n - 2] == '=')
		pad++;
	need = n / 4 * 3;
	if (need - pad > cap)
		return -1;
	if ((tmp = malloc(need)) == NULL)
		return -1;
	r = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
	if (r < 0 || (size_t)r != need) {
		OPENSSL_clear_free(tmp, need);
		return -1;
	}
	memcpy(out, tmp, need - pad);
	*outlen = need - pad;
	OPENSSL_clear_free(tmp, need);
	return 0;
}

/* ---- field helpers (encode: 0 / -1 on ENOMEM) ---- */

static int
put_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v));
}

static int
put_int(json_t *o, const char *k, int64_t v)
{
	return json_object_set_new(o, k, json_integer((json_int_t)v));
}

static int
put_bool(json_t *o, const char *k, bool v)
{
	return json_object_set_new(o, k, json_boolean(v));
}

static int
put_b64(json_t *o, const char *k, const uint8_t *p, size_t len)
{
	char	*s;
	int	 r;

	if ((s = b64_enc(p, len)) == NULL)
		return -1;
	r = json_object_set_new(o, k, json_string(s));
	free(s);
	return r;
}

static int
get_str(const json_t *o, const char *k, char *buf, size_t cap)
{
	const json_t	*v = json_object_get(o, k);
	size_t		 n;

	if (!json_is_string(v))
		return -1;
	n = json_string_length(v);
	if (n >= cap || memchr(json_string_value(v), '\0', n) != NULL)
		return -1;
	memcpy(buf, json_string_value(v), n);
	buf[n] = '\0';
	return 0;
}

static int
get_int(const json_t *o, const char *k, int64_t *out)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
get_uint(const json_t *o, const char *k, uint64_t max, uint64_t *out)
{
	int64_t v;

	if (get_int(o, k, &v) < 0 || v < 0 || (uint64_t)v > max)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int
get_u8(const json_t *o, const char *k, uint8_t *out)
{
	uint64_t v;

	if (get_uint(o, k, 255, &v) < 0)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int
get_bool(const json_t *o, const char *k, bool *out)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

/* Exactly len bytes. */
static int
get_b64_fixed(const json_t *o, const char *k, uint8_t *out, size_t len)
{
	const json_t	*v = json_object_get(o, k);
	size_t		 n;

	if (!json_is_string(v) || b64_dec(json_string_value(v), out, len,
	    &n) < 0 || n != len)
		return -1;
	return 0;
}

/* Up to cap bytes, *len set. */
static int
get_b64_var(const json_t *o, const char *k, uint8_t *out, size_t cap,
    size_t *len)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		return -1;
	return b64_dec(json_string_value(v), out, cap, len);
}

/* A malloc'd buffer (freed by the caller; NULL with *len 0 if empty). */
static int
get_b64_alloc(const json_t *o, const char *k, size_t max, uint8_t **out,
    size_t *len)
{
	const json_t	*v = json_object_get(o, k);
	size_t		 cap;
	uint8_t		*p;

	*out = NULL;
	*len = 0;
	if (!json_is_string(v))
		return -1;
	cap = json_string_length(v) / 4 * 3;
	if (cap > max)
		return -1;
	if (cap == 0)
		return json_string_length(v) == 0 ? 0 : -1;
	if ((p = malloc(cap)) == NULL)
		return -1;
	if (b64_dec(json_string_value(v), p, cap, len) < 0) {
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

static void *
finish(json_t *o, int bad, size_t *len)
{
	char *s = NULL;

	if (!bad)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*len = s != NULL ? strlen(s) : 0;
	return s;
}

/* Parses a row: a JSON object, or NULL. */
static json_t *
load(const void *buf, size_t len)
{
	json_t *o;

	if (buf == NULL || len == 0)
		return NULL;
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- state names ---- */

const char *
sec_msg_state_name(enum sec_msg_state s)
{
	switch (s) {
	case SEC_MSG_VAULT:	return "vault";
	case SEC_MSG_SEALED:	return "sealed";
	case SEC_MSG_ACKED:	return "acked";
	case SEC_MSG_DONE:	return "done";
	}
	return "unknown";
}

static int
msg_state_parse(const char *n, enum sec_msg_state *s)
{
	for (int i = SEC_MSG_VAULT; i <= SEC_MSG_DONE; i++)
		if (strcmp(n, sec_msg_state_name(i)) == 0) {
			*s = i;
			return 0;
		}
	return -1;
}

/* The contract's words: a registration whose key is posted but not yet
 * proved is still "verified" to the app. */
const char *
sec_reg_state_name(enum sec_reg_state s)
{
	switch (s) {
	case SEC_REG_WAITING_CODE:	return "waiting_for_code";
	case SEC_REG_WAITING_SMS:	return "waiting_for_sms";
	case SEC_REG_VERIFIED:		return "verified";
	case SEC_REG_CHALLENGED:	return "verified";
	case SEC_REG_ACTIVE:		return "active";
	case SEC_REG_EXPIRED:		return "expired";
	case SEC_REG_LOCKED:		return "locked";
	}
	return "unknown";
}

/* Stored names (distinct for every state). */
static const char *
reg_state_row(enum sec_reg_state s)
{
	return s == SEC_REG_CHALLENGED ? "challenged" : sec_reg_state_name(s);
}

static int
reg_state_parse(const char *n, enum sec_reg_state *s)
{
	for (int i = SEC_REG_WAITING_CODE; i <= SEC_REG_LOCKED; i++)
		if (strcmp(n, reg_state_row(i)) == 0) {
			*s = i;
			return 0;
		}
	return -1;
}

static int
scheme_parse(const json_t *o, const char *k, enum sec_scheme *s, bool none_ok)
{
	char name[64];

	if (get_str(o, k, name, sizeof(name)) < 0)
		return -1;
	if (name[0] == '\0' && none_ok) {
		*s = SEC_SCHEME_NONE;
		return 0;
	}
	if (strcmp(name, "ecdh-p256-hkdf-sha256-aes256gcm") == 0)
		*s = SEC_SCHEME_P256;
	else if (strcmp(name, "x25519-hkdf-sha256-aes256gcm") == 0)
		*s = SEC_SCHEME_X25519;
	else if (strcmp(name, "rsa-oaep-sha256-aes256gcm") == 0)
		*s = SEC_SCHEME_RSA;
	else
		return -1;
	return 0;
}

static const char *
scheme_row(enum sec_scheme s)
{
	switch (s) {
	case SEC_SCHEME_P256:	return "ecdh-p256-hkdf-sha256-aes256gcm";
	case SEC_SCHEME_X25519:	return "x25519-hkdf-sha256-aes256gcm";
	case SEC_SCHEME_RSA:	return "rsa-oaep-sha256-aes256gcm";
	case SEC_SCHEME_NONE:	break;
	}
	return "";
}

/* ---- sec_msg_rec ---- */

void *
sec_rec_msg_encode(const struct sec_msg_rec *r, size_t *len)
{
	json_t	*o = json_object(), *parts, *v;
	int	 bad = 0;

	*len = 0;
	if (o == NULL)
		return NULL;
	bad |= put_str(o, "id", r->id);
	bad |= put_str(o, "msisdn", r->msisdn);
	bad |= put_str(o, "account", r->account);
	bad |= put_str(o, "source", r->source);
	bad |= put_int(o, "source_ton", r->source_ton);
	bad |= put_int(o, "source_npi", r->source_npi);
	bad |= put_int(o, "dest_ton", r->dest_ton);
	bad |= put_int(o, "dest_npi", r->dest_npi);
	bad |= put_int(o, "registered_delivery", r->registered_delivery);
	bad |= put_int(o, "data_coding", r->data_coding);
	bad |= put_bool(o, "binary", r->binary);
	if ((parts = json_array()) == NULL)
		bad = 1;
	else {
		for (size_t i = 0; i < r->n_parts && r->part_ids != NULL; i++)
			bad |= json_array_append_new(parts,
			    json_string(r->part_ids[i]));
		bad |= json_object_set_new(o, "parts", parts);
	}
	bad |= put_str(o, "state", sec_msg_state_name(r->state));
	bad |= put_int(o, "received_at", r->received_at);
	bad |= put_int(o, "expires_at", r->expires_at);
	bad |= put_int(o, "acked_at", r->acked_at);
	bad |= put_int(o, "size", (int64_t)r->size);
	bad |= put_bool(o, "notified", r->notified);
	bad |= put_b64(o, "nonce", r->body_nonce, sizeof(r->body_nonce));
	bad |= put_b64(o, "body", r->body, r->body_len);
	if (r->has_vault) {
		if ((v = json_object()) == NULL)
			bad = 1;
		else {
			bad |= put_str(v, "kid", r->vault.kid);
			bad |= put_b64(v, "nonce", r->vault.nonce,
			    sizeof(r->vault.nonce));
			bad |= put_b64(v, "wrapped", r->vault.wrapped,
			    sizeof(r->vault.wrapped));
			bad |= json_object_set_new(o, "vault", v);
		}
	} else
		bad |= json_object_set_new(o, "vault", json_null());
	return finish(o, bad, len);
}

int
sec_rec_msg_decode(const void *buf, size_t len, struct sec_msg_rec *r)
{
	json_t		*o = load(buf, len);
	const json_t	*parts, *v;
	char		 state[16];
	uint64_t	 size;
	size_t		 n;

	memset(r, 0, sizeof(*r));
	if (o == NULL)
		return -1;
	if (get_str(o, "id", r->id, sizeof(r->id)) < 0 || r->id[0] == '\0' ||
	    get_str(o, "msisdn", r->msisdn, sizeof(r->msisdn)) < 0 ||
	    get_str(o, "account", r->account, sizeof(r->account)) < 0 ||
	    get_str(o, "source", r->source, sizeof(r->source)) < 0 ||
	    get_u8(o, "source_ton", &r->source_ton) < 0 ||
	    get_u8(o, "source_npi", &r->source_npi) < 0 ||
	    get_u8(o, "dest_ton", &r->dest_ton) < 0 ||
	    get_u8(o, "dest_npi", &r->dest_npi) < 0 ||
	    get_u8(o, "registered_delivery", &r->registered_delivery) < 0 ||
	    get_u8(o, "data_coding", &r->data_coding) < 0 ||
	    get_bool(o, "binary", &r->binary) < 0 ||
	    get_str(o, "state", state, sizeof(state)) < 0 ||
	    msg_state_parse(state, &r->state) < 0 ||
	    get_int(o, "received_at", &r->received_at) < 0 ||
	    get_int(o, "expires_at", &r->expires_at) < 0 ||
	    get_int(o, "acked_at", &r->acked_at) < 0 ||
	    get_uint(o, "size", REC_BODY_MAX, &size) < 0 ||
	    get_bool(o, "notified", &r->notified) < 0 ||
	    get_b64_fixed(o, "nonce", r->body_nonce,
	    sizeof(r->body_nonce)) < 0 ||
	    get_b64_alloc(o, "body", REC_BODY_MAX, &r->body,
	    &r->body_len) < 0)
		goto bad;
	r->size = (size_t)size;
	parts = json_object_get(o, "parts");
	if (!json_is_array(parts) || (n = json_array_size(parts)) == 0 ||
	    n > SEC_PARTS_MAX)
		goto bad;
	if ((r->part_ids = calloc(n, sizeof(*r->part_ids))) == NULL)
		goto bad;
	r->n_parts = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(parts, i);
		if (!json_is_string(p) || json_string_length(p) == 0 ||
		    json_string_length(p) > SEC_ID_MAX)
			goto bad;
		memcpy(r->part_ids[i], json_string_value(p),
		    json_string_length(p));
	}
	v = json_object_get(o, "vault");
	if (json_is_object(v)) {
		if (get_str(v, "kid", r->vault.kid, sizeof(r->vault.kid)) < 0 ||
		    get_b64_fixed(v, "nonce", r->vault.nonce,
		    sizeof(r->vault.nonce)) < 0 ||
		    get_b64_fixed(v, "wrapped", r->vault.wrapped,
		    sizeof(r->vault.wrapped)) < 0)
			goto bad;
		r->has_vault = true;
	} else if (!json_is_null(v))
		goto bad;
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	sec_rec_msg_clear(r);
	return -1;
}

void
sec_rec_msg_clear(struct sec_msg_rec *r)
{
	if (r == NULL)
		return;
	if (r->body != NULL)
		OPENSSL_clear_free(r->body, r->body_len);
	free(r->part_ids);
	OPENSSL_cleanse(r, sizeof(*r));
	memset(r, 0, sizeof(*r));
}

/* ---- sec_copy_rec ---- */

static int
wrap_put(json_t *o, const struct sec_wrap *w)
{
	json_t	*k = json_object();
	int	 bad = 0;

	if (k == NULL)
		return -1;
	bad |= put_str(k, "scheme", scheme_row(w->scheme));
	bad |= put_b64(k, "epk", w->epk, w->epk_len);
	bad |= put_b64(k, "nonce", w->nonce, sizeof(w->nonce));
	bad |= put_b64(k, "wrapped", w->wrapped, w->wrapped_len);
	bad |= json_object_set_new(o, "key", k);
	return bad ? -1 : 0;
}

static int
wrap_get(const json_t *o, struct sec_wrap *w)
{
	const json_t *k = json_object_get(o, "key");

	if (!json_is_object(k) || scheme_parse(k, "scheme", &w->scheme,
	    false) < 0 ||
	    get_b64_var(k, "epk", w->epk, sizeof(w->epk), &w->epk_len) < 0 ||
	    get_b64_fixed(k, "nonce", w->nonce, sizeof(w->nonce)) < 0 ||
	    get_b64_var(k, "wrapped", w->wrapped, sizeof(w->wrapped),
	    &w->wrapped_len) < 0 || w->wrapped_len == 0)
		return -1;
	return 0;
}

void *
sec_rec_copy_encode(const struct sec_copy_rec *r, size_t *len)
{
	json_t	*o = json_object();
	int	 bad = 0;

	*len = 0;
	if (o == NULL)
		return NULL;
	bad |= put_str(o, "id", r->id);
	bad |= put_str(o, "device_id", r->device_id);
	bad |= put_str(o, "msisdn", r->msisdn);
	bad |= put_str(o, "from", r->from);
	bad |= put_bool(o, "binary", r->binary);
	bad |= put_int(o, "received_at", r->received_at);
	bad |= put_int(o, "expires_at", r->expires_at);
	bad |= put_int(o, "acked_at", r->acked_at);
	bad |= put_int(o, "size", (int64_t)r->size);
	bad |= wrap_put(o, &r->key);
	bad |= put_b64(o, "nonce", r->body_nonce, sizeof(r->body_nonce));
	bad |= put_b64(o, "body", r->body, r->body_len);
	return finish(o, bad, len);
}

int
sec_rec_copy_decode(const void *buf, size_t len, struct sec_copy_rec *r)
{
	json_t		*o = load(buf, len);
	uint64_t	 size;

	memset(r, 0, sizeof(*r));
	if (o == NULL)
		return -1;
	if (get_str(o, "id", r->id, sizeof(r->id)) < 0 || r->id[0] == '\0' ||
	    get_str(o, "device_id", r->device_id, sizeof(r->device_id)) < 0 ||
	    get_str(o, "msisdn", r->msisdn, sizeof(r->msisdn)) < 0 ||
	    get_str(o, "from", r->from, sizeof(r->from)) < 0 ||
	    get_bool(o, "binary", &r->binary) < 0 ||
	    get_int(o, "received_at", &r->received_at) < 0 ||
	    get_int(o, "expires_at", &r->expires_at) < 0 ||
	    get_int(o, "acked_at", &r->acked_at) < 0 ||
	    get_uint(o, "size", REC_BODY_MAX, &size) < 0 ||
	    wrap_get(o, &r->key) < 0 ||
	    get_b64_fixed(o, "nonce", r->body_nonce,
	    sizeof(r->body_nonce)) < 0 ||
	    get_b64_alloc(o, "body", REC_BODY_MAX, &r->body,
	    &r->body_len) < 0) {
		json_decref(o);
		sec_rec_copy_clear(r);
		return -1;
	}
	r->size = (size_t)size;
	json_decref(o);
	return 0;
}

void
sec_rec_copy_clear(struct sec_copy_rec *r)
{
	if (r == NULL)
		return;
	if (r->body != NULL)
		OPENSSL_clear_free(r->body, r->body_len);
	OPENSSL_cleanse(r, sizeof(*r));
	memset(r, 0, sizeof(*r));
}

/* ---- sec_device_rec ---- */

void *
sec_rec_device_encode(const struct sec_device_rec *r, size_t *len)
{
	json_t	*o = json_object();
	int	 bad = 0;

	*len = 0;
	if (o == NULL)
		return NULL;
	bad |= put_str(o, "device_id", r->device_id);
	bad |= put_str(o, "msisdn", r->msisdn);
	bad |= put_str(o, "scheme", scheme_row(r->scheme));
	bad |= put_b64(o, "spki", r->spki, r->spki_len);
	bad |= put_str(o, "device_type", r->device_type);
	bad |= put_b64(o, "token_hash", r->token_hash, sizeof(r->token_hash));
	bad |= put_int(o, "created_at", r->created_at);
	bad |= put_int(o, "revoked_at", r->revoked_at);
	return finish(o, bad, len);
}

int
sec_rec_device_decode(const void *buf, size_t len, struct sec_device_rec *r)
{
	json_t *o = load(buf, len);
	int	rc = -1;

	memset(r, 0, sizeof(*r));
	if (o == NULL)
		return -1;
	if (get_str(o, "device_id", r->device_id, sizeof(r->device_id)) == 0 &&
	    r->device_id[0] != '\0' &&
	    get_str(o, "msisdn", r->msisdn, sizeof(r->msisdn)) == 0 &&
	    scheme_parse(o, "scheme", &r->scheme, false) == 0 &&
	    get_b64_var(o, "spki", r->spki, sizeof(r->spki),
	    &r->spki_len) == 0 && r->spki_len > 0 &&
	    get_str(o, "device_type", r->device_type,
	    sizeof(r->device_type)) == 0 &&
	    get_b64_fixed(o, "token_hash", r->token_hash,
	    sizeof(r->token_hash)) == 0 &&
	    get_int(o, "created_at", &r->created_at) == 0 &&
	    get_int(o, "revoked_at", &r->revoked_at) == 0)
		rc = 0;
	json_decref(o);
	if (rc < 0)
		memset(r, 0, sizeof(*r));
	return rc;
}

/* ---- sec_reg_rec ---- */

void *
sec_rec_reg_encode(const struct sec_reg_rec *r, size_t *len)
{
	json_t	*o = json_object();
	int	 bad = 0;

	*len = 0;
	if (o == NULL)
		return NULL;
	bad |= put_str(o, "rid", r->rid);
	bad |= put_str(o, "msisdn", r->msisdn);
	bad |= put_str(o, "mode", r->mode_mo ? "mo" : "sms");
	bad |= put_str(o, "device_type", r->device_type);
	bad |= put_str(o, "client", r->client);
	bad |= put_str(o, "state", reg_state_row(r->state));
	bad |= put_int(o, "attempts", r->attempts);
	bad |= put_int(o, "sends", r->sends);
	bad |= put_int(o, "created_at", r->created_at);
	bad |= put_int(o, "code_expires_at", r->code_expires_at);
	bad |= put_int(o, "expires_at", r->expires_at);
	if (r->has_code)
		bad |= put_b64(o, "code_mac", r->code_mac,
		    sizeof(r->code_mac));
	if (r->has_mo) {
		bad |= put_b64(o, "mo_mac", r->mo_mac, sizeof(r->mo_mac));
		bad |= put_int(o, "mo_at", r->mo_at);
	}
	bad |= put_str(o, "scheme", scheme_row(r->scheme));
	bad |= put_b64(o, "spki", r->spki, r->spki_len);
	bad |= put_b64(o, "challenge_hash", r->challenge_hash,
	    sizeof(r->challenge_hash));
	bad |= put_str(o, "device_id", r->device_id);
	bad |= put_bool(o, "replace", r->replace);
	return finish(o, bad, len);
}

int
sec_rec_reg_decode(const void *buf, size_t len, struct sec_reg_rec *r)
{
	json_t		*o = load(buf, len);
	char		 mode[8], state[24];
	uint64_t	 attempts, sends;

	memset(r, 0, sizeof(*r));
	if (o == NULL)
		return -1;
	if (get_str(o, "rid", r->rid, sizeof(r->rid)) < 0 ||
	    r->rid[0] == '\0' ||
	    get_str(o, "msisdn", r->msisdn, sizeof(r->msisdn)) < 0 ||
	    get_str(o, "mode", mode, sizeof(mode)) < 0 ||
	    (strcmp(mode, "mo") != 0 && strcmp(mode, "sms") != 0) ||
	    get_str(o, "device_type", r->device_type,
	    sizeof(r->device_type)) < 0 ||
	    get_str(o, "client", r->client, sizeof(r->client)) < 0 ||
	    get_str(o, "state", state, sizeof(state)) < 0 ||
	    reg_state_parse(state, &r->state) < 0 ||
	    get_uint(o, "attempts", UINT32_MAX, &attempts) < 0 ||
	    get_uint(o, "sends", UINT32_MAX, &sends) < 0 ||
	    get_int(o, "created_at", &r->created_at) < 0 ||
	    get_int(o, "code_expires_at", &r->code_expires_at) < 0 ||
	    get_int(o, "expires_at", &r->expires_at) < 0 ||
	    scheme_parse(o, "scheme", &r->scheme, true) < 0 ||
	    get_b64_var(o, "spki", r->spki, sizeof(r->spki),
	    &r->spki_len) < 0 ||
	    get_b64_fixed(o, "challenge_hash", r->challenge_hash,
	    sizeof(r->challenge_hash)) < 0 ||
	    get_str(o, "device_id", r->device_id, sizeof(r->device_id)) < 0)
		goto bad;
	if (json_object_get(o, "replace") != NULL &&
	    get_bool(o, "replace", &r->replace) < 0)
		goto bad;
	r->mode_mo = strcmp(mode, "mo") == 0;
	r->attempts = (uint32_t)attempts;
	r->sends = (uint32_t)sends;
	if (json_object_get(o, "code_mac") != NULL) {
		if (get_b64_fixed(o, "code_mac", r->code_mac,
		    sizeof(r->code_mac)) < 0)
			goto bad;
		r->has_code = true;
	}
	if (json_object_get(o, "mo_mac") != NULL) {
		if (get_b64_fixed(o, "mo_mac", r->mo_mac,
		    sizeof(r->mo_mac)) < 0 ||
		    get_int(o, "mo_at", &r->mo_at) < 0)
			goto bad;
		r->has_mo = true;
	}
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	OPENSSL_cleanse(r, sizeof(*r));
	return -1;
}

/* ---- the contract's ENVELOPE ---- */

/* Unix ms -> "2026-11-28T07:30:00Z" (RFC 3339, UTC, seconds). */
static void
rfc3339(int64_t ms, char buf[32])
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "1970-01-01T00:00:00Z");
}

void *
sec_rec_copy_envelope(const struct sec_copy_rec *r)
{
	json_t	*o = json_object(), *k, *b;
	char	 t[32];
	int	 bad = 0;

	if (o == NULL)
		return NULL;
	bad |= put_str(o, "id", r->id);
	bad |= put_str(o, "from", r->from);
	rfc3339(r->received_at, t);
	bad |= put_str(o, "received_at", t);
	rfc3339(r->expires_at, t);
	bad |= put_str(o, "expires_at", t);
	bad |= put_str(o, "content_type", r->binary ? SEC_CT_BINARY :
	    SEC_CT_TEXT);
	bad |= put_str(o, "scheme", scheme_row(r->key.scheme));
	if ((k = sec_wrap_to_json(&r->key)) == NULL)
		bad = 1;
	else
		bad |= json_object_set_new(o, "key", k);
	if ((b = json_object()) == NULL)
		bad = 1;
	else {
		bad |= put_b64(b, "nonce", r->body_nonce,
		    sizeof(r->body_nonce));
		bad |= put_b64(b, "ciphertext", r->body, r->body_len);
		bad |= json_object_set_new(o, "body", b);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- MSISDN ---- */

/*
 * Accepts an optional leading '+', then digits with single spaces,
 * hyphens, dots or parentheses between them; the result must be 6..15
 * digits not starting with 0 (a national "0170..." or "0049..." is
 * refused rather than guessed at).
 */
int
sec_msisdn_normalize(const char *in, char out[SEC_MSISDN_MAX + 1])
{
	char	d[SEC_MSISDN_MAX + 1];
	size_t	n = 0;

	out[0] = '\0';
	if (in == NULL)
		return -1;
	if (*in == '+')
		in++;
	for (; *in != '\0'; in++) {
		char c = *in;
		if (c >= '0' && c <= '9') {
			if ((n == 0 && c == '0') || n == SEC_MSISDN_MAX)
				return -1;
			d[n++] = c;
		} else if ((c == ' ' || c == '-' || c == '.' || c == '(' ||
		    c == ')') && n > 0 && in[1] != '\0')
			continue;
		else if (c == '(' && n == 0)
			continue;
		else
			return -1;
	}
	if (n < 6)
		return -1;
	memcpy(out, d, n);
	out[n] = '\0';
	return 0;
}
