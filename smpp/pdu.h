/*
 * Full decode and encode of PDU bodies, through libsmpp34, behind one
 * wrapper: no libsmpp34 type, global or macro is visible past pdu.c.
 *
 * libsmpp34 only ever sees PDUs that smpp_scan() has already accepted, and
 * only their mandatory part: optional parameters (TLVs) are read and
 * written here, in wire order, so its TLV traps (reversed order, unchecked
 * lengths, leaks on malformed TLVs, the trace-buffer overflow with many
 * TLVs, the 1024-octet cap) cannot be reached. Its other traps are handled
 * too: 254-octet short_message, interface_version 0x33, vendor
 * command_status values, sequence number 0, silent truncation of strings.
 *
 * Not thread-safe (libsmpp34 keeps global state): call from one thread.
 */
#ifndef SMPP_PDU_H
#define SMPP_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "scan.h"

struct smpp_tlv {
	uint16_t	 tag;
	uint16_t	 len;
	uint8_t		*val;		/* owned by the smpp_pdu */
};

struct smpp_dest {
	uint8_t		flag;		/* 1 SME address, 2 distribution list */
	uint8_t		ton;
	uint8_t		npi;
	char		name[SMPP_ADDR_MAX];	/* address or dl_name */
};

/*
 * A decoded PDU. Strings are NUL-terminated; a field a command does not
 * have stays zero. Allocated members (tlvs, dests) are owned by the struct
 * and released by smpp_pdu_clear().
 */
struct smpp_pdu {
	uint32_t	command_id;
	uint32_t	command_status;
	uint32_t	sequence_number;

	char		system_id[SMPP_SYSTEM_ID_MAX];
	char		password[SMPP_PASSWORD_MAX];
	char		system_type[SMPP_SYSTEM_TYPE_MAX];
	uint8_t		interface_version;
	uint8_t		addr_ton;
	uint8_t		addr_npi;
	char		address_range[SMPP_ADDRESS_RANGE_MAX];

	char		service_type[SMPP_SERVICE_TYPE_MAX];
	uint8_t		source_addr_ton;
	uint8_t		source_addr_npi;
	char		source_addr[SMPP_ADDR65_MAX];
	uint8_t		dest_addr_ton;
	uint8_t		dest_addr_npi;
	char		destination_addr[SMPP_ADDR65_MAX];  /* esme_addr in alert */
	uint8_t		esm_class;
	uint8_t		protocol_id;
	uint8_t		priority_flag;
	char		schedule_delivery_time[SMPP_TIME_MAX];
	char		validity_period[SMPP_TIME_MAX];
	uint8_t		registered_delivery;
	uint8_t		replace_if_present_flag;
	uint8_t		data_coding;
	uint8_t		sm_default_msg_id;
	uint8_t		sm_length;
	uint8_t		short_message[SMPP_SHORT_MESSAGE_MAX];

	char		message_id[SMPP_MESSAGE_ID_MAX];

	uint8_t		 number_of_dests;
	struct smpp_dest *dests;	/* number_of_dests entries */

	uint16_t	 n_tlvs;
	struct smpp_tlv	*tlvs;		/* wire order */
};

/* Zeroes a struct for first use. */
void smpp_pdu_init(struct smpp_pdu *pdu, uint32_t command_id);

/* Releases what the struct owns and zeroes it; safe to call twice. */
void smpp_pdu_clear(struct smpp_pdu *pdu);

/*
 * Decodes one PDU of exactly len bytes: smpp_scan() first, then the body.
 * Returns 0, or -1 with *status the command_status to answer (the struct is
 * cleared on failure). Handles every command: bind_*, outbind, submit_sm,
 * deliver_sm, data_sm, query_sm, cancel_sm, replace_sm, submit_multi,
 * alert_notification through libsmpp34; responses, generic_nack,
 * enquire_link and unbind from the scan alone.
 */
int smpp_pdu_decode(const uint8_t *raw, size_t len,
    const struct smpp_limits *lim, struct smpp_pdu *pdu, uint32_t *status);

/*
 * Encodes into buf (cap bytes) and sets *outlen. Returns 0, or -1 when a
 * field does not fit (an over-long string is an error, never truncated),
 * a value is out of range or buf is too small. pdu is not modified.
 */
int smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap,
    size_t *outlen);

/* Upper bound of the encoded size of pdu, for sizing buf. */
size_t smpp_pdu_encoded_max(const struct smpp_pdu *pdu);

/* Appends a TLV (copies val). Returns 0, or -1 on allocation failure or
 * when len does not fit the tag's fixed size. */
int smpp_pdu_add_tlv(struct smpp_pdu *pdu, uint16_t tag, const void *val,
    uint16_t len);

/* First TLV with this tag, or NULL. */
const struct smpp_tlv *smpp_pdu_tlv(const struct smpp_pdu *pdu, uint16_t tag);

/* Removes every TLV with this tag; returns how many. */
int smpp_pdu_del_tlv(struct smpp_pdu *pdu, uint16_t tag);

/* One-line, printable description for debug logs (no message text). */
void smpp_pdu_describe(const struct smpp_pdu *pdu, char *buf, size_t cap);

#endif
