/*
 * Building the PDUs that carry no body, or only a message_id or system_id,
 * straight from their fields: responses, generic_nack, enquire_link,
 * unbind. This is the hot path for responses and never touches libsmpp34.
 * Every builder writes into the caller's buffer and returns the PDU length,
 * or 0 if cap is too small or a string is over its maximum size.
 */
#ifndef SMPP_BUILD_H
#define SMPP_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Room enough for any PDU these builders make. */
#define SMPP_BUILD_MAX	(16 + SMPP_MESSAGE_ID_MAX + 8)

/* A 16-byte header-only PDU (generic_nack, enquire_link(_resp), unbind(_resp),
 * cancel_sm_resp, replace_sm_resp). */
size_t smpp_build_header(uint8_t *buf, size_t cap, uint32_t id,
    uint32_t status, uint32_t seq);

/*
 * A response with one C-Octet string body: submit_sm_resp, deliver_sm_resp,
 * data_sm_resp (message_id) or bind_*_resp (system_id). A NULL str writes
 * an empty string. sc_interface_version > 0 appends that TLV (bind_*_resp).
 */
size_t smpp_build_resp_str(uint8_t *buf, size_t cap, uint32_t id,
    uint32_t status, uint32_t seq, const char *str,
    uint8_t sc_interface_version);

/*
 * A bounded writer for PDUs built field by field: each put either fits
 * or sets bad and writes nothing more, so a builder checks once, at the
 * end. The buffer is the caller's.
 */
struct smpp_writer {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	int	 bad;
};

void smpp_writer_put(struct smpp_writer *w, const void *src, size_t n);
void smpp_writer_u8(struct smpp_writer *w, uint8_t v);
/* A C-Octet string of n octets (plus its NUL). */
void smpp_writer_cstr(struct smpp_writer *w, const void *s, size_t n);

/* Writes big-endian integers into a buffer (no bounds check). */
void smpp_put32(uint8_t *p, uint32_t v);
void smpp_put16(uint8_t *p, uint16_t v);

/* Rewrites the sequence number of a raw PDU in place (byte-transparent
 * forwarding: nothing else changes). */
void smpp_set_seq(uint8_t *raw, uint32_t seq);

#endif
