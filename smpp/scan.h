/*
 * The validating scanner: the security boundary between the network and
 * everything else, libsmpp34 included. It reads one whole PDU through a
 * bounded cursor and fills a view of pointers into the caller's bytes; it
 * never allocates and never copies. A PDU that passes smpp_scan() has:
 *   - a command_length equal to the bytes given, within limits;
 *   - every C-Octet string terminated inside its maximum size;
 *   - sm_length inside the PDU and at most 254;
 *   - TLV headers that fit, TLV lengths that add up exactly to the end,
 *     at most limits.max_tlvs TLVs, and fixed-size TLVs of the right size.
 * The view borrows the bytes: it is valid only while they are.
 */
#ifndef SMPP_SCAN_H
#define SMPP_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct smpp_limits {
	uint32_t	max_pdu;	/* command_length above this is refused */
	uint32_t	max_tlvs;	/* more TLVs: ESME_RINVOPTPARSTREAM */
};

/* SMPP_DEFAULT_MAX_PDU and SMPP_DEFAULT_MAX_TLVS. */
void smpp_limits_default(struct smpp_limits *lim);

struct smpp_hdr {
	uint32_t	len;
	uint32_t	id;
	uint32_t	status;
	uint32_t	seq;
};

/* Reads the 16-byte header at p (at least 16 bytes must be readable). */
void smpp_hdr_read(const uint8_t *p, struct smpp_hdr *h);

/*
 * Checks command_length alone, as soon as 4 bytes are in: 0 if it is in
 * [16, lim->max_pdu], else -1 (the caller answers generic_nack
 * ESME_RINVCMDLEN and closes).
 */
int smpp_frame_len_ok(uint32_t command_length, const struct smpp_limits *lim);

/* A C-Octet string or an octet string inside the PDU. For C-Octet strings
 * p is NUL-terminated in place and len excludes the NUL. */
struct smpp_str {
	const uint8_t	*p;
	uint16_t	 len;
};

/* Copies s into dst (cap >= 1) as a C string, cut at cap - 1 octets; an
 * empty view (p NULL) gives "". */
void smpp_str_copy(char *dst, size_t cap, const struct smpp_str *s);

struct smpp_addr {
	uint8_t		ton;
	uint8_t		npi;
	struct smpp_str	addr;
};

struct smpp_tlv_view {
	uint16_t	 tag;
	uint16_t	 len;
	const uint8_t	*val;
};

/* Which body fields a command has; scan sets the bits it filled. */
enum smpp_scan_has {
	SMPP_HAS_BIND		= 1 << 0,  /* system_id..address_range */
	SMPP_HAS_SM		= 1 << 1,  /* service_type..short_message */
	SMPP_HAS_MESSAGE_ID	= 1 << 2,
	SMPP_HAS_DESTS		= 1 << 3,  /* submit_multi destinations */
	SMPP_HAS_SYSTEM_ID	= 1 << 4,  /* bind_*_resp, outbind */
};

struct smpp_scan {
	struct smpp_hdr		hdr;
	const uint8_t		*raw;		/* the whole PDU, hdr.len bytes */
	uint32_t		has;		/* enum smpp_scan_has bits */

	/* bind_*, outbind (system_id, password), bind_*_resp (system_id) */
	struct smpp_str		system_id;
	struct smpp_str		password;
	struct smpp_str		system_type;
	uint8_t			interface_version;
	uint8_t			addr_ton;
	uint8_t			addr_npi;
	struct smpp_str		address_range;

	/* submit_sm, deliver_sm, data_sm, submit_multi, replace_sm,
	 * query_sm, cancel_sm, alert_notification (dst = esme_addr) */
	struct smpp_str		service_type;
	struct smpp_addr	src;
	struct smpp_addr	dst;
	uint8_t			esm_class;
	uint8_t			protocol_id;
	uint8_t			priority_flag;
	struct smpp_str		schedule_delivery_time;
	struct smpp_str		validity_period;
	uint8_t			registered_delivery;
	uint8_t			replace_if_present_flag;
	uint8_t			data_coding;
	uint8_t			sm_default_msg_id;
	struct smpp_str		short_message;	/* octets, sm_length long */

	/* *_sm_resp, query_sm, cancel_sm, replace_sm, query_sm_resp;
	 * len 0 when a response carries no body at all */
	struct smpp_str		message_id;

	/* submit_multi: number_of_dests and the raw dest_address list,
	 * walked with smpp_scan_next_dest() */
	uint8_t			number_of_dests;
	struct smpp_str		dests;

	/* optional parameters, in wire order */
	uint32_t		tlv_off;	/* offset of the TLV area in raw */
	uint16_t		n_tlvs;
	struct smpp_tlv_view	tlvs[SMPP_HARD_MAX_TLVS];
};

/*
 * Scans one PDU of exactly len bytes (len must equal its command_length).
 * Returns 0 and fills *out, or -1 and sets *status to the command_status
 * to answer with (ESME_RINVCMDLEN, ESME_RINVCMDID, ESME_RINVSRCADR,
 * ESME_RINVDSTADR, ESME_RINVPARLEN, ESME_RINVOPTPARSTREAM, ...); on -1
 * out->hdr is still filled when len >= 16, so the error can be answered
 * with the right sequence number.
 */
int smpp_scan(const uint8_t *raw, size_t len, const struct smpp_limits *lim,
    struct smpp_scan *out, uint32_t *status);

/* First TLV with this tag, or NULL. */
const struct smpp_tlv_view *smpp_scan_tlv(const struct smpp_scan *s,
    uint16_t tag);

/* One submit_multi destination: an SME address or a distribution list. */
struct smpp_dest_view {
	uint8_t		flag;	/* 1 SME address, 2 distribution list */
	uint8_t		ton;	/* SME only */
	uint8_t		npi;	/* SME only */
	struct smpp_str	name;	/* address or dl_name */
};

/* Walks s->dests: *pos starts at 0; returns 1 with *d filled, 0 at the end.
 * The list was validated by smpp_scan(). */
int smpp_scan_next_dest(const struct smpp_scan *s, size_t *pos,
    struct smpp_dest_view *d);

/* Size a fixed-size TLV must have (1, 2 or 4), or 0 if its size varies. */
unsigned smpp_tlv_fixed_size(uint16_t tag);

#endif
