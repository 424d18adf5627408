/*
 * Inside the handset HTTPS API: the pure parts of api.c (the path
 * router and one parser per request body), separate so unit tests and
 * tests/fuzz/fuzz_sec_json.c drive them without a server.
 *
 * Parsers take the body as bytes (not NUL-terminated, any content) and
 * return 0 with *out filled, or -1 with *err set to the contract's error
 * (status, code, message: static strings). Pure, no logging.
 */
#ifndef SEC_API_H
#define SEC_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secure/registry.h"

struct sec_api_err {
	int		 status;
	const char	*code;
	const char	*message;
};

enum sec_route_kind {
	SEC_R_NONE = 0,		/* no such endpoint: 404 not_found */
	SEC_R_OPTIONS,		/* CORS preflight, any /v1 path */
	SEC_R_REG_CREATE,	/* POST /v1/registrations */
	SEC_R_REG_STATUS,	/* GET /v1/registrations/{rid} */
	SEC_R_REG_CODE,		/* POST /v1/registrations/{rid}/code */
	SEC_R_REG_KEY,		/* POST /v1/registrations/{rid}/key */
	SEC_R_REG_PROOF,	/* POST /v1/registrations/{rid}/proof */
	SEC_R_MSG_LIST,		/* GET /v1/messages */
	SEC_R_MSG_GET,		/* GET /v1/messages/{id} */
	SEC_R_MSG_ACK,		/* POST /v1/messages/{id}/ack */
	SEC_R_MSG_REPLY,	/* POST /v1/messages/{id}/reply */
	SEC_R_DEVICE_DELETE,	/* DELETE /v1/device */
};

enum sec_method {
	SEC_M_GET, SEC_M_POST, SEC_M_DELETE, SEC_M_OPTIONS, SEC_M_OTHER,
};

struct sec_route {
	enum sec_route_kind	kind;
	char			arg[SEC_ID_MAX + 1];	/* rid or message id */
};

/* Routes method + path (no query). A path argument must be 1..64 of
 * [A-Za-z0-9_.-] (rids are base64url, message ids hex or decimal);
 * anything else is SEC_R_NONE. */
void sec_api_route(enum sec_method m, const char *path,
    struct sec_route *out);
const char *sec_route_name(enum sec_route_kind k);	/* for logs */

int sec_api_parse_registration(const void *body, size_t len,
    struct sec_reg_request *out, struct sec_api_err *err);
/* {"code": "123456"}: 6..10 digits. */
int sec_api_parse_code(const void *body, size_t len, char code[11],
    struct sec_api_err *err);
/* {"scheme", "public_key", "device_type"?}: an unknown scheme is
 * unsupported_scheme, public_key not base64 or longer than SEC_SPKI_MAX
 * bytes is invalid_key (the key itself is checked later). */
struct sec_key_request {
	enum sec_scheme	scheme;
	uint8_t		spki[SEC_SPKI_MAX];
	size_t		spki_len;
	char		device_type[33];
};
int sec_api_parse_key(const void *body, size_t len,
    struct sec_key_request *out, struct sec_api_err *err);
/* {"answer": base64 of 1..64 bytes}. */
int sec_api_parse_proof(const void *body, size_t len, uint8_t answer[64],
    size_t *answer_len, struct sec_api_err *err);
/* {"text": non-empty UTF-8, at most max bytes}: *text malloc'd. */
int sec_api_parse_reply(const void *body, size_t len, size_t max,
    char **text, struct sec_api_err *err);

#endif
