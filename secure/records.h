/*
 * The secure pipeline's rows, as stored through db/store.h's key/value
 * verbs: one C struct per table and its encoding (a jansson JSON object,
 * binary fields in base64). Which key, idx1, idx2, sort and expires_at
 * each table uses is fixed here, so pipeline.c, registry.c and api.c
 * agree:
 *
 *   DB_KV_MSG    key id;                 idx1 msisdn;      idx2 state name
 *                sort received_at;       expires_at: retention end
 *   DB_KV_COPY   key id "/" device_id;   idx1 device_id while unacked,
 *                                        "" once acked;    idx2 id
 *                sort received_at;       expires_at: the message's
 *   DB_KV_DEVICE key device_id;          idx1 msisdn while active, ""
 *                                        once revoked;     idx2 token hash
 *                                        (hex SHA-256 of the token)
 *                sort created_at;        expires_at 0
 *   DB_KV_REG    key rid;                idx1 msisdn;      idx2 "mo:" msisdn
 *                                        while a mode-mo registration waits
 *                                        for its SMS, else ""
 *                sort created_at;        expires_at: registration end
 *   DB_KV_PART   key account "|" src "|" dst "|" ref "|" seq;
 *                idx2 account "|" src "|" dst "|" ref;  sort seq;
 *                expires_at: reassembly deadline. A part's content is
 *                vault-sealed like a message body (never plaintext at rest).
 *
 * Ownership: decode fills the caller's struct; the heap members are body
 * and part_ids (malloc'd by decode, freed by sec_rec_*_clear, which also
 * wipes).
 * Return convention: encode returns a malloc'd buffer (NULL on ENOMEM)
 * with *len; decode returns 0, or -1 on a malformed row.
 */
#ifndef SEC_RECORDS_H
#define SEC_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secure/envelope.h"
#include "secure/keyring.h"
#include "secure/secure.h"

#define SEC_ID_MAX	64	/* gateway message ids */
#define SEC_RID_MAX	43	/* 32 random bytes, base64url */
#define SEC_PARTS_MAX	255
#define SEC_CT_TEXT	"text/plain; charset=utf-8"
#define SEC_CT_BINARY	"application/octet-stream"

enum sec_msg_state {
	SEC_MSG_VAULT = 1,	/* DEK wrapped by the vault (no device yet) */
	SEC_MSG_SEALED,		/* DEK only in device copies */
	SEC_MSG_ACKED,		/* a device acked it; DELIVRD sent */
	SEC_MSG_DONE,		/* expired or failed; receipt sent */
};
const char *sec_msg_state_name(enum sec_msg_state s);	/* "vault", ... */

/* A secure message (DB_KV_MSG). */
struct sec_msg_rec {
	char		id[SEC_ID_MAX + 1];	/* gateway id of the first part */
	char		msisdn[SEC_MSISDN_MAX + 1];
	char		account[SEC_ACCOUNT_SIZE];
	char		source[SEC_ADDR_SIZE];	/* the sender's source_addr */
	uint8_t		source_ton, source_npi;
	uint8_t		dest_ton, dest_npi;
	uint8_t		registered_delivery;
	uint8_t		data_coding;		/* as submitted */
	bool		binary;			/* content_type octet-stream */
	/* every part's gateway id (receipts go to each); n_parts >= 1,
	 * part_ids[0] == id */
	char		(*part_ids)[SEC_ID_MAX + 1];
	size_t		n_parts;
	enum sec_msg_state state;
	int64_t		received_at, expires_at, acked_at;	/* Unix ms */
	size_t		size;			/* plaintext bytes */
	bool		notified;		/* notice SMS accepted */
	uint8_t		body_nonce[SEC_NONCE_LEN];
	uint8_t		*body;			/* ciphertext || tag */
	size_t		body_len;
	bool		has_vault;
	struct sec_vault_wrap vault;
};

/* A message sealed to one device (DB_KV_COPY): all an envelope needs. */
struct sec_copy_rec {
	char		id[SEC_ID_MAX + 1];
	char		device_id[SEC_RID_MAX + 1];
	char		msisdn[SEC_MSISDN_MAX + 1];
	char		from[SEC_ADDR_SIZE];
	bool		binary;
	int64_t		received_at, expires_at, acked_at;
	size_t		size;
	struct sec_wrap	key;			/* its scheme is the device's */
	uint8_t		body_nonce[SEC_NONCE_LEN];
	uint8_t		*body;
	size_t		body_len;
};

/* A device (DB_KV_DEVICE). */
struct sec_device_rec {
	char		device_id[SEC_RID_MAX + 1];
	char		msisdn[SEC_MSISDN_MAX + 1];
	enum sec_scheme	scheme;
	uint8_t		spki[SEC_SPKI_MAX];	/* DER public key */
	size_t		spki_len;
	char		device_type[33];
	uint8_t		token_hash[32];		/* SHA-256 of the token */
	int64_t		created_at, revoked_at;	/* revoked 0: active */
};

enum sec_reg_state {
	SEC_REG_WAITING_CODE = 1,	/* mode sms: code sent */
	SEC_REG_WAITING_SMS,		/* mode mo: MO not yet matched */
	SEC_REG_VERIFIED,		/* code matched: key may come */
	SEC_REG_CHALLENGED,		/* key posted, proof awaited */
	SEC_REG_ACTIVE,
	SEC_REG_EXPIRED,
	SEC_REG_LOCKED,
};
const char *sec_reg_state_name(enum sec_reg_state s);	/* contract words */

/* A registration (DB_KV_REG). */
struct sec_reg_rec {
	char		rid[SEC_RID_MAX + 1];
	char		msisdn[SEC_MSISDN_MAX + 1];
	bool		mode_mo;
	char		device_type[33];
	char		client[48];		/* client address (quotas) */
	enum sec_reg_state state;
	uint32_t	attempts;		/* wrong codes so far */
	uint32_t	sends;			/* codes sent (mode sms) */
	int64_t		created_at, code_expires_at, expires_at;
	bool		has_code;		/* mode sms: the sent code;
						   mode mo: the app's code */
	uint8_t		code_mac[32];
	bool		has_mo;			/* mode mo: the MO's code */
	uint8_t		mo_mac[32];
	int64_t		mo_at;
	enum sec_scheme	scheme;			/* once the key is posted */
	uint8_t		spki[SEC_SPKI_MAX];
	size_t		spki_len;
	uint8_t		challenge_hash[32];	/* SHA-256 of C */
	char		device_id[SEC_RID_MAX + 1];	/* once active */
	bool		replace;		/* revoke the MSISDN's other
						   devices when this one is
						   active ("replace": true) */
};

void *sec_rec_msg_encode(const struct sec_msg_rec *r, size_t *len);
int sec_rec_msg_decode(const void *buf, size_t len, struct sec_msg_rec *r);
void sec_rec_msg_clear(struct sec_msg_rec *r);

void *sec_rec_copy_encode(const struct sec_copy_rec *r, size_t *len);
int sec_rec_copy_decode(const void *buf, size_t len, struct sec_copy_rec *r);
void sec_rec_copy_clear(struct sec_copy_rec *r);

void *sec_rec_device_encode(const struct sec_device_rec *r, size_t *len);
int sec_rec_device_decode(const void *buf, size_t len,
    struct sec_device_rec *r);

void *sec_rec_reg_encode(const struct sec_reg_rec *r, size_t *len);
int sec_rec_reg_decode(const void *buf, size_t len, struct sec_reg_rec *r);

/* The contract's ENVELOPE for a copy, as a new json_t * (void *). */
void *sec_rec_copy_envelope(const struct sec_copy_rec *r);

/* "+49 170 123" -> "49170123": digits only, no leading zero, 6..15
 * digits; -1 otherwise. For the API and for SMPP dest/source addresses. */
int sec_msisdn_normalize(const char *in, char out[SEC_MSISDN_MAX + 1]);

#endif
