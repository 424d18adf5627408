/*
 * The submit_sm PDUs smpp-bench sends, built once per distinct text with
 * the smpp/ encoder (smpp_pdu_encode) and then reused: per message only
 * the destination address and, for multipart messages, the concatenation
 * reference are written into a copy of the prebuilt bytes.
 *
 * Return convention: bench_msg_build returns 0, or -1 with a reason for
 * the user in err; bench_msg_compose returns the PDU length or 0.
 */
#ifndef BENCH_MSG_H
#define BENCH_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "smpp/text.h"

enum bench_enc {
	BENCH_ENC_AUTO,		/* GSM 7 if it fits, else UCS-2 */
	BENCH_ENC_GSM7,
	BENCH_ENC_UCS2,
	BENCH_ENC_LATIN1,
	BENCH_ENC_BINARY,	/* the text's bytes as they are, dcs 0x04 */
};

enum bench_split {
	BENCH_SPLIT_UDH,	/* 8-bit reference UDH */
	BENCH_SPLIT_UDH16,
	BENCH_SPLIT_SAR,	/* sar_* TLVs */
	BENCH_SPLIT_PAYLOAD,	/* one PDU, text in message_payload */
};

#define BENCH_MAX_TLVS		16
#define BENCH_TLV_MAX_LEN	1024
#define BENCH_MAX_PARTS		255
#define BENCH_TEXT_MAX		(64 * 1024)	/* octets of UTF-8 */

struct bench_tlv {
	uint16_t	tag;
	uint16_t	len;
	uint8_t		val[BENCH_TLV_MAX_LEN];
};

struct bench_msg_spec {
	const char		*service_type;	/* "" or up to 5 chars */
	const char		*from;		/* digits: TON 1/NPI 1; else 5/0 */
	const char		*text;		/* UTF-8 */
	size_t			 text_len;
	enum bench_enc		 enc;
	enum bench_split	 split;
	uint8_t			 registered_delivery;
	const struct bench_tlv	*tlvs;
	size_t			 n_tlvs;
};

/* One prebuilt part. raw holds a whole PDU with a placeholder
 * destination; the offsets say where to write the real one. */
struct bench_part {
	uint8_t		*raw;		/* owned */
	size_t		 len;
	size_t		 dst_off;	/* first octet of destination_addr */
	size_t		 dst_len;	/* placeholder length, without NUL */
	size_t		 ref_off;	/* concat reference (0 = none) */
	uint8_t		 ref_len;	/* 1 or 2 octets */
};

struct bench_msg {
	struct bench_part	*parts;	/* owned, nparts entries */
	unsigned		 nparts;
	enum smpp_text_enc	 enc;	/* what the text was encoded as */
	uint8_t			 dcs;
	size_t			 octets;	/* encoded text length */
};

/* Builds every part of the message. On -1 nothing is left allocated. */
int bench_msg_build(const struct bench_msg_spec *spec, struct bench_msg *m,
    char *err, size_t errlen);
void bench_msg_free(struct bench_msg *m);

/* Writes part p into out with destination dst (dst_len octets, at most
 * 20) and concatenation reference ref. Returns the length, or 0 if it
 * does not fit cap or dst is too long. */
size_t bench_msg_compose(const struct bench_part *p, const char *dst,
    size_t dst_len, uint16_t ref, uint8_t *out, size_t cap);

/* Largest PDU bench_msg_compose can write for m. */
size_t bench_msg_max_len(const struct bench_msg *m);

/* "auto", "gsm7", ... -> enum; -1 if unknown. */
int bench_enc_parse(const char *s);
int bench_split_parse(const char *s);

#endif
