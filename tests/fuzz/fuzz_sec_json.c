/*
 * Fuzz target: the handset API's request side (secure/api.h) and the
 * secure rows (secure/records.h). The first byte picks what reads the
 * rest: a body parser (registration, code, key, proof, reply), the path
 * router, or a row decoder. Properties: a parser that accepts gives
 * well-formed fields (MSISDN 6..15 digits not starting with 0, code 6..10
 * digits, a known scheme, a non-empty key and answer, text within the
 * limit); one that refuses names a 4xx status, a code and a message; an
 * accepted route's argument is 1..64 id characters; a decoded row encodes
 * and decodes again to the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secure/api.h"
#include "secure/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(const struct sec_api_err *e)
{
	if (e->status < 400 || e->status > 599 || e->code == NULL ||
	    e->message == NULL)
		abort();
}

static void
check_digits(const char *s, size_t min, size_t max, int no_lead_zero)
{
	size_t n = strlen(s);

	if (n < min || n > max || (no_lead_zero && s[0] == '0'))
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			abort();
}

static void
rows(uint8_t which, const uint8_t *p, size_t n)
{
	void	*buf;
	size_t	 len;

	switch (which % 4) {
	case 0: {
		struct sec_device_rec a, b;
		if (sec_rec_device_decode(p, n, &a) < 0)
			return;
		if ((buf = sec_rec_device_encode(&a, &len)) == NULL)
			return;
		if (sec_rec_device_decode(buf, len, &b) < 0 ||
		    memcmp(&a, &b, sizeof(a)) != 0)
			abort();
		free(buf);
		return;
	}
	case 1: {
		struct sec_reg_rec a, b;
		if (sec_rec_reg_decode(p, n, &a) < 0)
			return;
		if ((buf = sec_rec_reg_encode(&a, &len)) == NULL)
			return;
		if (sec_rec_reg_decode(buf, len, &b) < 0 ||
		    memcmp(&a, &b, sizeof(a)) != 0)
			abort();
		free(buf);
		return;
	}
	case 2: {
		struct sec_copy_rec a, b;
		void *env;
		if (sec_rec_copy_decode(p, n, &a) < 0)
			return;
		if ((buf = sec_rec_copy_encode(&a, &len)) != NULL) {
			if (sec_rec_copy_decode(buf, len, &b) < 0 ||
			    b.body_len != a.body_len ||
			    (a.body_len > 0 && memcmp(a.body, b.body,
			    a.body_len) != 0) ||
			    memcmp(&a.key, &b.key, sizeof(a.key)) != 0)
				abort();
			sec_rec_copy_clear(&b);
			free(buf);
		}
		if ((env = sec_rec_copy_envelope(&a)) != NULL)
			json_decref(env);
		sec_rec_copy_clear(&a);
		return;
	}
	default: {
		struct sec_msg_rec a, b;
		if (sec_rec_msg_decode(p, n, &a) < 0)
			return;
		if ((buf = sec_rec_msg_encode(&a, &len)) != NULL) {
			if (sec_rec_msg_decode(buf, len, &b) < 0 ||
			    b.n_parts != a.n_parts || b.state != a.state ||
			    b.body_len != a.body_len)
				abort();
			sec_rec_msg_clear(&b);
			free(buf);
		}
		sec_rec_msg_clear(&a);
		return;
	}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sec_api_err	 e;
	const uint8_t		*p = data + 1;
	size_t			 n = size - 1;

	if (size < 1 || size > 65536)
		return 0;
	memset(&e, 0, sizeof(e));
	switch (data[0] % 8) {
	case 0: {
		struct sec_reg_request rq;
		if (sec_api_parse_registration(p, n, &rq, &e) == 0)
			check_digits(rq.msisdn, 6, 15, 1);
		else
			check_err(&e);
		break;
	}
	case 1: {
		char code[11];
		if (sec_api_parse_code(p, n, code, &e) == 0)
			check_digits(code, 6, 10, 0);
		else
			check_err(&e);
		break;
	}
	case 2: {
		struct sec_key_request *k = malloc(sizeof(*k));
		if (k == NULL)
			return 0;
		if (sec_api_parse_key(p, n, k, &e) == 0) {
			if (sec_scheme_name(k->scheme) == NULL ||
			    k->spki_len == 0 || k->spki_len > SEC_SPKI_MAX ||
			    strlen(k->device_type) > 32)
				abort();
		} else
			check_err(&e);
		free(k);
		break;
	}
	case 3: {
		uint8_t	answer[64];
		size_t	len;
		if (sec_api_parse_proof(p, n, answer, &len, &e) == 0) {
			if (len == 0 || len > 64)
				abort();
		} else
			check_err(&e);
		break;
	}
	case 4: {
		char *text;
		if (sec_api_parse_reply(p, n, 160, &text, &e) == 0) {
			if (text == NULL || strlen(text) == 0 ||
			    strlen(text) > 160)
				abort();
			free(text);
		} else
			check_err(&e);
		break;
	}
	case 5: {
		struct sec_route r;
		char *path;
		if (n < 1 || (path = malloc(n)) == NULL)
			return 0;
		memcpy(path, p + 1, n - 1);
		path[n - 1] = '\0';
		sec_api_route((enum sec_method)(p[0] % 5), path, &r);
		if (r.kind != SEC_R_NONE && r.kind != SEC_R_OPTIONS &&
		    r.arg[0] != '\0' && strlen(r.arg) > SEC_ID_MAX)
			abort();
		(void)sec_route_name(r.kind);
		free(path);
		break;
	}
	default:
		if (n < 1)
			return 0;
		rows(p[0], p + 1, n - 1);
		break;
	}
	return 0;
}
