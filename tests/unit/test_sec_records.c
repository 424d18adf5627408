/*
 * secure/records and the pure parts of secure/api: every row encodes and
 * decodes to the same struct; a damaged row (truncated, wrong type, bad
 * base64, unknown state or scheme, missing field) is refused whole; the
 * ENVELOPE has exactly the contract's fields; state names are the
 * contract's words; MSISDNs normalise or are refused; the router and the
 * request-body parsers give the contract's error codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "secure/api.h"
#include "secure/records.h"

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void
test_msg_round_trip(void **state)
{
	struct sec_msg_rec	m, d;
	char			(*parts)[SEC_ID_MAX + 1];
	uint8_t			body[40];
	void			*buf;
	size_t			len;

	(void)state;
	memset(&m, 0, sizeof(m));
	snprintf(m.id, sizeof(m.id), "0123456789abcdef");
	snprintf(m.msisdn, sizeof(m.msisdn), "491701234567");
	snprintf(m.account, sizeof(m.account), "demo");
	snprintf(m.source, sizeof(m.source), "Bank");
	m.source_ton = 5;
	m.dest_ton = 1;
	m.dest_npi = 1;
	m.registered_delivery = 17;
	m.data_coding = 8;
	parts = calloc(2, sizeof(*parts));
	assert_non_null(parts);
	snprintf(parts[0], sizeof(parts[0]), "%s", m.id);
	snprintf(parts[1], sizeof(parts[1]), "0123456789abcdf0");
	m.part_ids = parts;
	m.n_parts = 2;
	m.state = SEC_MSG_VAULT;
	m.received_at = 1764316800123;
	m.expires_at = m.received_at + 7 * 86400000LL;
	m.size = 24;
	m.notified = true;
	fill(m.body_nonce, sizeof(m.body_nonce), 1);
	fill(body, sizeof(body), 9);
	m.body = body;
	m.body_len = sizeof(body);
	m.has_vault = true;
	snprintf(m.vault.kid, sizeof(m.vault.kid), "k20261128T000000Z-abcd");
	fill(m.vault.nonce, sizeof(m.vault.nonce), 3);
	fill(m.vault.wrapped, sizeof(m.vault.wrapped), 4);

	buf = sec_rec_msg_encode(&m, &len);
	assert_non_null(buf);
	assert_int_equal(sec_rec_msg_decode(buf, len, &d), 0);
	assert_string_equal(d.id, m.id);
	assert_string_equal(d.msisdn, m.msisdn);
	assert_string_equal(d.account, "demo");
	assert_string_equal(d.source, "Bank");
	assert_int_equal(d.source_ton, 5);
	assert_int_equal(d.registered_delivery, 17);
	assert_int_equal(d.data_coding, 8);
	assert_int_equal(d.n_parts, 2);
	assert_string_equal(d.part_ids[1], "0123456789abcdf0");
	assert_int_equal(d.state, SEC_MSG_VAULT);
	assert_true(d.received_at == m.received_at);
	assert_true(d.expires_at == m.expires_at);
	assert_int_equal(d.size, 24);
	assert_true(d.notified);
	assert_memory_equal(d.body_nonce, m.body_nonce, SEC_NONCE_LEN);
	assert_int_equal(d.body_len, sizeof(body));
	assert_memory_equal(d.body, body, sizeof(body));
	assert_true(d.has_vault);
	assert_string_equal(d.vault.kid, m.vault.kid);
	assert_memory_equal(d.vault.wrapped, m.vault.wrapped,
	    sizeof(m.vault.wrapped));
	sec_rec_msg_clear(&d);
	assert_null(d.body);
	free(buf);

	/* sealed: no vault */
	m.has_vault = false;
	m.state = SEC_MSG_SEALED;
	buf = sec_rec_msg_encode(&m, &len);
	assert_int_equal(sec_rec_msg_decode(buf, len, &d), 0);
	assert_false(d.has_vault);
	assert_int_equal(d.state, SEC_MSG_SEALED);
	sec_rec_msg_clear(&d);
	free(buf);
	free(parts);
}

static void
copy_fixture(struct sec_copy_rec *c, uint8_t *body, size_t n,
    enum sec_scheme s)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "gw42");
	snprintf(c->device_id, sizeof(c->device_id), "dev_AAAAAAAAAAAAAAAAAA");
	snprintf(c->msisdn, sizeof(c->msisdn), "491701234567");
	snprintf(c->from, sizeof(c->from), "Bank");
	c->received_at = 1764316800000;	/* 2025-11-28T08:00:00Z */
	c->expires_at = 1764921600000;	/* 2025-12-05T08:00:00Z */
	c->size = n - SEC_TAG_LEN;
	c->key.scheme = s;
	if (s != SEC_SCHEME_RSA) {
		c->key.epk_len = s == SEC_SCHEME_P256 ? 65 : 32;
		fill(c->key.epk, c->key.epk_len, 5);
		fill(c->key.nonce, sizeof(c->key.nonce), 6);
		c->key.wrapped_len = 48;
	} else
		c->key.wrapped_len = 256;
	fill(c->key.wrapped, c->key.wrapped_len, 7);
	fill(c->body_nonce, sizeof(c->body_nonce), 8);
	fill(body, n, 2);
	c->body = body;
	c->body_len = n;
}

static void
test_copy_round_trip_and_envelope(void **state)
{
	struct sec_copy_rec	c, d;
	uint8_t			body[30];
	void			*buf;
	size_t			len;
	json_t			*env;
	const char		*k;
	json_t			*v;
	size_t			nkeys = 0;

	(void)state;
	for (int s = SEC_SCHEME_P256; s <= SEC_SCHEME_RSA; s++) {
		copy_fixture(&c, body, sizeof(body), s);
		buf = sec_rec_copy_encode(&c, &len);
		assert_non_null(buf);
		assert_int_equal(sec_rec_copy_decode(buf, len, &d), 0);
		assert_string_equal(d.id, "gw42");
		assert_string_equal(d.device_id, c.device_id);
		assert_int_equal(d.key.scheme, s);
		assert_int_equal(d.key.epk_len, c.key.epk_len);
		assert_int_equal(d.key.wrapped_len, c.key.wrapped_len);
		assert_memory_equal(d.key.wrapped, c.key.wrapped,
		    c.key.wrapped_len);
		assert_int_equal(d.body_len, sizeof(body));
		assert_memory_equal(d.body, body, sizeof(body));
		sec_rec_copy_clear(&d);
		free(buf);
	}

	copy_fixture(&c, body, sizeof(body), SEC_SCHEME_X25519);
	env = sec_rec_copy_envelope(&c);
	assert_non_null(env);
	json_object_foreach(env, k, v)
		nkeys++;
	assert_int_equal(nkeys, 8);
	assert_string_equal(json_string_value(json_object_get(env, "id")),
	    "gw42");
	assert_string_equal(json_string_value(json_object_get(env, "from")),
	    "Bank");
	assert_string_equal(json_string_value(json_object_get(env,
	    "received_at")), "2025-11-28T08:00:00Z");
	assert_string_equal(json_string_value(json_object_get(env,
	    "expires_at")), "2025-12-05T08:00:00Z");
	assert_string_equal(json_string_value(json_object_get(env,
	    "content_type")), SEC_CT_TEXT);
	assert_string_equal(json_string_value(json_object_get(env, "scheme")),
	    "x25519-hkdf-sha256-aes256gcm");
	v = json_object_get(env, "key");
	assert_int_equal(json_object_size(v), 3);
	assert_non_null(json_object_get(v, "epk"));
	assert_non_null(json_object_get(v, "nonce"));
	assert_non_null(json_object_get(v, "wrapped"));
	v = json_object_get(env, "body");
	assert_int_equal(json_object_size(v), 2);
	assert_string_equal(json_string_value(json_object_get(v, "nonce")),
	    "CA8WHSQrMjlAR05V");
	json_decref(env);

	copy_fixture(&c, body, sizeof(body), SEC_SCHEME_RSA);
	c.binary = true;
	env = sec_rec_copy_envelope(&c);
	assert_string_equal(json_string_value(json_object_get(env,
	    "content_type")), SEC_CT_BINARY);
	assert_int_equal(json_object_size(json_object_get(env, "key")), 1);
	json_decref(env);
}

static void
test_device_and_reg_round_trip(void **state)
{
	struct sec_device_rec	dv, dd;
	struct sec_reg_rec	r, rd;
	void			*buf;
	size_t			len;

	(void)state;
	memset(&dv, 0, sizeof(dv));
	snprintf(dv.device_id, sizeof(dv.device_id), "AbCdEfGhIjKlMnOpQrStUv");
	snprintf(dv.msisdn, sizeof(dv.msisdn), "491701234567");
	dv.scheme = SEC_SCHEME_P256;
	dv.spki_len = 91;
	fill(dv.spki, dv.spki_len, 1);
	snprintf(dv.device_type, sizeof(dv.device_type), "android");
	fill(dv.token_hash, 32, 2);
	dv.created_at = 1;
	dv.revoked_at = 2;
	buf = sec_rec_device_encode(&dv, &len);
	assert_int_equal(sec_rec_device_decode(buf, len, &dd), 0);
	assert_memory_equal(&dd, &dv, sizeof(dv));
	free(buf);

	for (int st = SEC_REG_WAITING_CODE; st <= SEC_REG_LOCKED; st++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.rid, sizeof(r.rid), "rid-%d", st);
		snprintf(r.msisdn, sizeof(r.msisdn), "491701234567");
		r.mode_mo = st % 2;
		snprintf(r.client, sizeof(r.client), "127.0.0.1");
		r.state = st;
		r.attempts = 3;
		r.sends = 1;
		r.created_at = 10;
		r.code_expires_at = 20;
		r.expires_at = 30;
		r.has_code = st % 2 == 0;
		fill(r.code_mac, 32, 3);
		r.has_mo = st == SEC_REG_WAITING_SMS;
		fill(r.mo_mac, 32, 4);
		r.mo_at = r.has_mo ? 15 : 0;
		r.scheme = st >= SEC_REG_CHALLENGED ? SEC_SCHEME_RSA :
		    SEC_SCHEME_NONE;
		r.spki_len = st >= SEC_REG_CHALLENGED ? 294 : 0;
		fill(r.spki, r.spki_len, 5);
		fill(r.challenge_hash, 32, 6);
		r.replace = st == SEC_REG_ACTIVE;
		if (!r.has_code)
			memset(r.code_mac, 0, 32);
		if (!r.has_mo)
			memset(r.mo_mac, 0, 32);
		buf = sec_rec_reg_encode(&r, &len);
		assert_non_null(buf);
		assert_int_equal(sec_rec_reg_decode(buf, len, &rd), 0);
		assert_memory_equal(&rd, &r, sizeof(r));
		free(buf);
	}
}

static void
test_decode_refuses_damage(void **state)
{
	struct sec_device_rec	dv, dd;
	struct sec_copy_rec	c, cd;
	uint8_t			body[20];
	char			*buf, *bad;
	size_t			len;
	json_t			*o;
	static const char *const drop[] = { "device_id", "msisdn", "scheme",
	    "spki", "device_type", "token_hash", "created_at", "revoked_at" };

	(void)state;
	memset(&dv, 0, sizeof(dv));
	snprintf(dv.device_id, sizeof(dv.device_id), "dev");
	dv.scheme = SEC_SCHEME_X25519;
	dv.spki_len = 44;
	buf = sec_rec_device_encode(&dv, &len);
	assert_non_null(buf);
	/* every truncation */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(sec_rec_device_decode(buf, n, &dd), -1);
	/* every field missing */
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		o = json_loads(buf, 0, NULL);
		json_object_del(o, drop[i]);
		bad = json_dumps(o, 0);
		assert_int_equal(sec_rec_device_decode(bad, strlen(bad), &dd),
		    -1);
		free(bad);
		json_decref(o);
	}
	/* wrong types and values */
	o = json_loads(buf, 0, NULL);
	json_object_set_new(o, "created_at", json_string("1"));
	bad = json_dumps(o, 0);
	assert_int_equal(sec_rec_device_decode(bad, strlen(bad), &dd), -1);
	free(bad);
	json_object_set_new(o, "created_at", json_integer(1));
	json_object_set_new(o, "scheme", json_string("rsa-pkcs1"));
	bad = json_dumps(o, 0);
	assert_int_equal(sec_rec_device_decode(bad, strlen(bad), &dd), -1);
	free(bad);
	json_object_set_new(o, "scheme",
	    json_string("x25519-hkdf-sha256-aes256gcm"));
	json_object_set_new(o, "token_hash", json_string("AAAA"));
	bad = json_dumps(o, 0);
	assert_int_equal(sec_rec_device_decode(bad, strlen(bad), &dd), -1);
	free(bad);
	json_object_set_new(o, "token_hash", json_string("not base64!"));
	bad = json_dumps(o, 0);
	assert_int_equal(sec_rec_device_decode(bad, strlen(bad), &dd), -1);
	free(bad);
	json_decref(o);
	assert_int_equal(sec_rec_device_decode("[]", 2, &dd), -1);
	assert_int_equal(sec_rec_device_decode(NULL, 0, &dd), -1);
	free(buf);

	copy_fixture(&c, body, sizeof(body), SEC_SCHEME_P256);
	buf = sec_rec_copy_encode(&c, &len);
	o = json_loads(buf, 0, NULL);
	json_object_set_new(json_object_get(o, "key"), "nonce",
	    json_string("AAAA"));
	bad = json_dumps(o, 0);
	assert_int_equal(sec_rec_copy_decode(bad, strlen(bad), &cd), -1);
	assert_null(cd.body);
	free(bad);
	json_decref(o);
	free(buf);

	/* a message row with an unknown state or no parts */
	{
		struct sec_msg_rec	m, md;
		char			ids[1][SEC_ID_MAX + 1] = { "x" };

		memset(&m, 0, sizeof(m));
		snprintf(m.id, sizeof(m.id), "x");
		m.part_ids = ids;
		m.n_parts = 1;
		m.state = SEC_MSG_DONE;
		buf = sec_rec_msg_encode(&m, &len);
		assert_int_equal(sec_rec_msg_decode(buf, len, &md), 0);
		sec_rec_msg_clear(&md);
		o = json_loads(buf, 0, NULL);
		json_object_set_new(o, "state", json_string("lost"));
		bad = json_dumps(o, 0);
		assert_int_equal(sec_rec_msg_decode(bad, strlen(bad), &md), -1);
		free(bad);
		json_object_set_new(o, "state", json_string("done"));
		json_object_set_new(o, "parts", json_array());
		bad = json_dumps(o, 0);
		assert_int_equal(sec_rec_msg_decode(bad, strlen(bad), &md), -1);
		free(bad);
		json_decref(o);
		free(buf);
	}
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(sec_reg_state_name(SEC_REG_WAITING_CODE),
	    "waiting_for_code");
	assert_string_equal(sec_reg_state_name(SEC_REG_WAITING_SMS),
	    "waiting_for_sms");
	assert_string_equal(sec_reg_state_name(SEC_REG_VERIFIED), "verified");
	assert_string_equal(sec_reg_state_name(SEC_REG_CHALLENGED),
	    "verified");
	assert_string_equal(sec_reg_state_name(SEC_REG_ACTIVE), "active");
	assert_string_equal(sec_reg_state_name(SEC_REG_EXPIRED), "expired");
	assert_string_equal(sec_reg_state_name(SEC_REG_LOCKED), "locked");
	assert_string_equal(sec_msg_state_name(SEC_MSG_VAULT), "vault");
	assert_string_equal(sec_msg_state_name(SEC_MSG_SEALED), "sealed");
	assert_string_equal(sec_msg_state_name(SEC_MSG_ACKED), "acked");
	assert_string_equal(sec_msg_state_name(SEC_MSG_DONE), "done");
}

static void
test_msisdn(void **state)
{
	char out[SEC_MSISDN_MAX + 1];

	(void)state;
	assert_int_equal(sec_msisdn_normalize("+49 170 1234567", out), 0);
	assert_string_equal(out, "491701234567");
	assert_int_equal(sec_msisdn_normalize("491701234567", out), 0);
	assert_string_equal(out, "491701234567");
	assert_int_equal(sec_msisdn_normalize("+1 (555) 123-4567", out), 0);
	assert_string_equal(out, "15551234567");
	assert_int_equal(sec_msisdn_normalize("123456", out), 0);
	assert_int_equal(sec_msisdn_normalize("123456789012345", out), 0);
	assert_int_equal(sec_msisdn_normalize("1234567890123456", out), -1);
	assert_string_equal(out, "");
	assert_int_equal(sec_msisdn_normalize("12345", out), -1);
	assert_int_equal(sec_msisdn_normalize("0170 1234567", out), -1);
	assert_int_equal(sec_msisdn_normalize("0049170123456", out), -1);
	assert_int_equal(sec_msisdn_normalize("++49170123456", out), -1);
	assert_int_equal(sec_msisdn_normalize("49170x123456", out), -1);
	assert_int_equal(sec_msisdn_normalize("49170123456 ", out), -1);
	assert_int_equal(sec_msisdn_normalize(" 49170123456", out), -1);
	assert_int_equal(sec_msisdn_normalize("", out), -1);
	assert_int_equal(sec_msisdn_normalize(NULL, out), -1);
}

static void
test_router(void **state)
{
	struct sec_route r;

	(void)state;
	sec_api_route(SEC_M_POST, "/v1/registrations", &r);
	assert_int_equal(r.kind, SEC_R_REG_CREATE);
	sec_api_route(SEC_M_GET, "/v1/registrations", &r);
	assert_int_equal(r.kind, SEC_R_NONE);
	sec_api_route(SEC_M_GET, "/v1/registrations/abc_DEF-1", &r);
	assert_int_equal(r.kind, SEC_R_REG_STATUS);
	assert_string_equal(r.arg, "abc_DEF-1");
	sec_api_route(SEC_M_POST, "/v1/registrations/abc/code", &r);
	assert_int_equal(r.kind, SEC_R_REG_CODE);
	sec_api_route(SEC_M_POST, "/v1/registrations/abc/key", &r);
	assert_int_equal(r.kind, SEC_R_REG_KEY);
	sec_api_route(SEC_M_POST, "/v1/registrations/abc/proof", &r);
	assert_int_equal(r.kind, SEC_R_REG_PROOF);
	sec_api_route(SEC_M_POST, "/v1/registrations/abc/proof/", &r);
	assert_int_equal(r.kind, SEC_R_NONE);
	sec_api_route(SEC_M_POST, "/v1/registrations//code", &r);
	assert_int_equal(r.kind, SEC_R_NONE);
	sec_api_route(SEC_M_GET, "/v1/registrations/a%2Fb", &r);
	assert_int_equal(r.kind, SEC_R_NONE);
	sec_api_route(SEC_M_GET, "/v1/messages", &r);
	assert_int_equal(r.kind, SEC_R_MSG_LIST);
	sec_api_route(SEC_M_GET, "/v1/messages/00ff", &r);
	assert_int_equal(r.kind, SEC_R_MSG_GET);
	assert_string_equal(r.arg, "00ff");
	sec_api_route(SEC_M_POST, "/v1/messages/00ff/ack", &r);
	assert_int_equal(r.kind, SEC_R_MSG_ACK);
	sec_api_route(SEC_M_POST, "/v1/messages/00ff/reply", &r);
	assert_int_equal(r.kind, SEC_R_MSG_REPLY);
	sec_api_route(SEC_M_DELETE, "/v1/messages/00ff", &r);
	assert_int_equal(r.kind, SEC_R_NONE);
	sec_api_route(SEC_M_DELETE, "/v1/device", &r);
	assert_int_equal(r.kind, SEC_R_DEVICE_DELETE);
	sec_api_route(SEC_M_OPTIONS, "/v1/anything", &r);
	assert_int_equal(r.kind, SEC_R_OPTIONS);
	sec_api_route(SEC_M_GET, "/v2/messages", &r);
	assert_int_equal(r.kind, SEC_R_NONE);
	sec_api_route(SEC_M_GET, NULL, &r);
	assert_int_equal(r.kind, SEC_R_NONE);
	{
		char path[200];
		memset(path, 'a', sizeof(path));
		memcpy(path, "/v1/messages/", 13);
		path[13 + SEC_ID_MAX] = '\0';
		sec_api_route(SEC_M_GET, path, &r);
		assert_int_equal(r.kind, SEC_R_MSG_GET);
		path[13 + SEC_ID_MAX] = 'a';
		path[14 + SEC_ID_MAX] = '\0';
		sec_api_route(SEC_M_GET, path, &r);
		assert_int_equal(r.kind, SEC_R_NONE);
	}
}

#define B(s) (s), strlen(s)

static void
test_parse_registration(void **state)
{
	struct sec_reg_request	rq;
	struct sec_api_err	e;

	(void)state;
	assert_int_equal(sec_api_parse_registration(B("{\"msisdn\":\"+49 170 "
	    "1234567\",\"mode\":\"mo\",\"device_type\":\"ios\","
	    "\"replace\":true}"), &rq, &e), 0);
	assert_string_equal(rq.msisdn, "491701234567");
	assert_true(rq.mode_mo);
	assert_true(rq.replace);
	assert_string_equal(rq.device_type, "ios");
	assert_int_equal(sec_api_parse_registration(B("{\"msisdn\":"
	    "\"491701234567\",\"mode\":\"sms\"}"), &rq, &e), 0);
	assert_false(rq.mode_mo);
	assert_false(rq.replace);

#define REFUSED(body, want) do { \
	assert_int_equal(sec_api_parse_registration(B(body), &rq, &e), -1); \
	assert_int_equal(e.status, 400); \
	assert_string_equal(e.code, want); \
	assert_non_null(e.message); } while (0)
	REFUSED("", "invalid_request");
	REFUSED("{", "invalid_request");
	REFUSED("null", "invalid_request");
	REFUSED("[]", "invalid_request");
	REFUSED("{\"mode\":\"sms\"}", "invalid_request");
	REFUSED("{\"msisdn\":491701234567,\"mode\":\"sms\"}",
	    "invalid_msisdn");
	REFUSED("{\"msisdn\":\"0170123456\",\"mode\":\"sms\"}",
	    "invalid_msisdn");
	REFUSED("{\"msisdn\":\"491701234567\"}", "invalid_request");
	REFUSED("{\"msisdn\":\"491701234567\",\"mode\":\"SMS\"}",
	    "invalid_request");
	REFUSED("{\"msisdn\":\"491701234567\",\"mode\":1}", "invalid_request");
	REFUSED("{\"msisdn\":\"491701234567\",\"mode\":\"sms\","
	    "\"replace\":1}", "invalid_request");
	REFUSED("{\"msisdn\":\"491701234567\",\"mode\":\"sms\","
	    "\"device_type\":\"0123456789012345678901234567890123\"}",
	    "invalid_request");
	REFUSED("{\"msisdn\":\"491701234567\",\"mode\":\"sms\","
	    "\"device_type\":\"a\\nb\"}", "invalid_request");
	REFUSED("{\"msisdn\":\"491701234567\",\"mode\":\"sms\","
	    "\"mode\":\"mo\"}", "invalid_request");
	/* jansson refuses \u0000 in strings: not valid JSON here */
	REFUSED("{\"msisdn\":\"4917\\u00001234567\",\"mode\":\"sms\"}",
	    "invalid_request");
#undef REFUSED
}

static void
test_parse_other_bodies(void **state)
{
	struct sec_api_err	e;
	struct sec_key_request	k;
	char			code[11], *text;
	uint8_t			answer[64];
	size_t			n;

	(void)state;
	assert_int_equal(sec_api_parse_code(B("{\"code\":\"0123456789\"}"), code,
	    &e), 0);
	assert_string_equal(code, "0123456789");
	assert_int_equal(sec_api_parse_code(B("{\"code\":\"12345\"}"), code,
	    &e), -1);
	assert_string_equal(e.code, "invalid_request");
	assert_int_equal(sec_api_parse_code(B("{\"code\":\"01234567890\"}"),
	    code, &e), -1);
	assert_int_equal(sec_api_parse_code(B("{\"code\":123456}"), code, &e),
	    -1);
	assert_int_equal(sec_api_parse_code(B("{\"code\":\"12 456\"}"), code,
	    &e), -1);

	assert_int_equal(sec_api_parse_key(B("{\"scheme\":\"x25519-hkdf-sha256"
	    "-aes256gcm\",\"public_key\":\"AAEC\",\"device_type\":\"web\"}"),
	    &k, &e), 0);
	assert_int_equal(k.scheme, SEC_SCHEME_X25519);
	assert_int_equal(k.spki_len, 3);
	assert_string_equal(k.device_type, "web");
	assert_int_equal(sec_api_parse_key(B("{\"scheme\":\"ed25519\","
	    "\"public_key\":\"AAEC\"}"), &k, &e), -1);
	assert_string_equal(e.code, "unsupported_scheme");
	assert_int_equal(sec_api_parse_key(B("{\"scheme\":7,"
	    "\"public_key\":\"AAEC\"}"), &k, &e), -1);
	assert_string_equal(e.code, "unsupported_scheme");
	assert_int_equal(sec_api_parse_key(B("{\"scheme\":\"rsa-oaep-sha256-"
	    "aes256gcm\",\"public_key\":\"AAE\"}"), &k, &e), -1);
	assert_string_equal(e.code, "invalid_key");
	assert_int_equal(sec_api_parse_key(B("{\"scheme\":\"rsa-oaep-sha256-"
	    "aes256gcm\",\"public_key\":\"\"}"), &k, &e), -1);
	assert_string_equal(e.code, "invalid_key");
	assert_int_equal(sec_api_parse_key(B("{\"scheme\":\"rsa-oaep-sha256-"
	    "aes256gcm\"}"), &k, &e), -1);
	assert_string_equal(e.code, "invalid_request");

	assert_int_equal(sec_api_parse_proof(B("{\"answer\":\"AAECAw==\"}"),
	    answer, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_int_equal(sec_api_parse_proof(B("{\"answer\":\"AAECAw\"}"),
	    answer, &n, &e), -1);
	assert_string_equal(e.code, "invalid_request");
	assert_int_equal(sec_api_parse_proof(B("{}"), answer, &n, &e), -1);

	assert_int_equal(sec_api_parse_reply(B("{\"text\":\"h\\u00e9\"}"), 10,
	    &text, &e), 0);
	assert_string_equal(text, "h\xc3\xa9");
	free(text);
	assert_int_equal(sec_api_parse_reply(B("{\"text\":\"\"}"), 10, &text,
	    &e), -1);
	assert_null(text);
	assert_int_equal(sec_api_parse_reply(B("{\"text\":\"12345678901\"}"),
	    10, &text, &e), -1);
	assert_int_equal(sec_api_parse_reply(B("{\"text\":\"a\\u0000b\"}"),
	    10, &text, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_round_trip),
		cmocka_unit_test(test_copy_round_trip_and_envelope),
		cmocka_unit_test(test_device_and_reg_round_trip),
		cmocka_unit_test(test_decode_refuses_damage),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_msisdn),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_parse_registration),
		cmocka_unit_test(test_parse_other_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
