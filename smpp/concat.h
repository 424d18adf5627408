/*
 * Concatenated SMS: splitting an encoded text into parts, the UDH that
 * numbers them (IEI 0x00, 8-bit reference, or IEI 0x08, 16-bit) or the
 * values of the SAR TLVs instead, parsing a received UDH, and a bounded
 * table that puts received parts back together.
 *
 * Conventions: buffers belong to the caller (input read within len,
 * output written within cap). Functions return a length or count, or -1
 * with *why set (why may be NULL). The reassembly table owns copies of the
 * parts it holds; it has no timers: functions that care take `now` in the
 * caller's clock and unit.
 */
#ifndef SMPP_CONCAT_H
#define SMPP_CONCAT_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

enum smpp_concat_reason {
	SMPP_CONCAT_OK = 0,
	SMPP_CONCAT_NOSPACE,	/* output capacity too small */
	SMPP_CONCAT_TOOLONG,	/* needs more than 255 parts */
	SMPP_CONCAT_BADINPUT,	/* bad arguments, or text not of its encoding */
	SMPP_CONCAT_TRUNCATED,	/* the UDH runs past the data */
	SMPP_CONCAT_BADIE,	/* an IE overruns the UDH, or a concat IE has
				 * a bad length, total 0 or seq not 1..total */
	SMPP_CONCAT_TABLEFULL,	/* too many pending groups or bytes */
	SMPP_CONCAT_TOOBIG,	/* a part over max_part_len */
};

/* Never NULL. */
const char *smpp_concat_strerror(enum smpp_concat_reason why);

enum smpp_concat_mode {
	SMPP_CONCAT_UDH8,	/* IEI 0x00, 6-octet UDH */
	SMPP_CONCAT_UDH16,	/* IEI 0x08, 7-octet UDH */
	SMPP_CONCAT_SAR,	/* sar_* TLVs; parts sized as for UDH8, since
				 * the SMSC adds that UDH towards the handset */
};

/* One part of a concatenated message. As SAR TLVs: sar_msg_ref_num = ref,
 * sar_total_segments = total, sar_segment_seqnum = seq. */
struct smpp_concat_info {
	uint16_t	ref;	/* 0..255 with UDH8 */
	uint8_t		total;	/* 1..255 */
	uint8_t		seq;	/* 1..total */
};

/* A part's span in the encoded text, in octets. */
struct smpp_concat_part {
	size_t	off;
	size_t	len;
};

/*
 * Splits encoded text (GSM 7 as unpacked septets, UCS-2 as UTF-16BE,
 * others as octets) into at most max_parts parts. One part holds 160
 * septets / 70 UCS-2 units / 140 octets; with a UDH8 (or SAR) each part
 * holds 153 / 67 / 134, with a UDH16 152 / 66 / 133. An escape pair or a
 * surrogate pair is never cut: it goes whole to the next part. Returns the
 * number of parts (1 when no concatenation is needed, also for an empty
 * text), or -1: TOOLONG over 255 parts, NOSPACE over max_parts.
 */
int smpp_concat_split(enum smpp_text_enc enc, const uint8_t *text,
    size_t len, enum smpp_concat_mode mode, struct smpp_concat_part *parts,
    size_t max_parts, enum smpp_concat_reason *why);

/* Writes the UDH (UDHL included) for one part: 6 octets for UDH8, 7 for
 * UDH16. SAR mode has no UDH: BADINPUT. */
int smpp_udh_build(enum smpp_concat_mode mode,
    const struct smpp_concat_info *ci, uint8_t *out, size_t cap,
    enum smpp_concat_reason *why);

/*
 * Writes one part's short_message: the UDH (UDH modes, when ci->total > 1;
 * the caller then sets SMPP_ESM_UDHI) followed by the part's text; GSM 7
 * is packed (after the fill bits) when packed is set, else one septet per
 * octet. In SAR mode the caller adds the TLVs from ci. part must lie
 * within text_len (BADINPUT otherwise). Returns sm_length.
 */
int smpp_concat_build_sm(enum smpp_text_enc enc, int packed,
    const uint8_t *text, size_t text_len, const struct smpp_concat_part *part,
    enum smpp_concat_mode mode, const struct smpp_concat_info *ci,
    uint8_t *out, size_t cap, enum smpp_concat_reason *why);

/* A parsed User Data Header. */
struct smpp_udh {
	size_t			len;	/* UDHL + 1: the text starts here */
	int			concat;	/* a concatenation IE was found */
	int			ref16;	/* it was IEI 0x08 */
	struct smpp_concat_info	ci;	/* valid when concat */
};

/*
 * Parses the UDH at the start of a short_message sent with UDHI. Other IEs
 * are skipped; a repeated concat IE counts by its last occurrence (23.040
 * 9.2.3.24). Returns 0, or -1: TRUNCATED (UDHL past the data), BADIE.
 */
int smpp_udh_parse(const uint8_t *sm, size_t len, struct smpp_udh *u,
    enum smpp_concat_reason *why);

struct smpp_scan;

/*
 * The sar_* TLVs of a scanned PDU (the scanner checked their sizes):
 * 1 and *ci filled when all three are there, 0 when none is, -1 when
 * only some are. Their values are as sent: the caller judges them.
 */
int smpp_sar_read(const struct smpp_scan *s, struct smpp_concat_info *ci);

/* Fill bits that put packed septets on a septet boundary after a UDH of
 * udh_len octets (0 when there is no UDH). */
unsigned smpp_udh_fill_bits(size_t udh_len);

/* Reassembly. */
#define SMPP_REASM_KEY_MAX	128	/* octets of a caller key */

struct smpp_reasm_limits {
	size_t		max_groups;	/* pending messages; 1..1048576 */
	size_t		max_bytes;	/* bytes held over all groups */
	size_t		max_part_len;	/* bytes of one part */
	uint64_t	timeout;	/* a group expires when now - first
					 * part >= timeout */
};

struct smpp_reasm;

/* NULL if the limits are out of range or memory is short. */
struct smpp_reasm *smpp_reasm_new(const struct smpp_reasm_limits *lim);
/* Frees the table and every part it holds; NULL is fine. */
void smpp_reasm_free(struct smpp_reasm *r);

enum smpp_reasm_status {
	SMPP_REASM_PENDING = 0,		/* kept; the message is incomplete */
	SMPP_REASM_COMPLETE = 1,	/* the whole message is in out */
	SMPP_REASM_DUPLICATE = 2,	/* that part was there: ignored */
};

/*
 * Adds one part of the group (key, ci->ref, ci->total); key is a caller
 * string (e.g. bind + addresses) of at most SMPP_REASM_KEY_MAX octets. When
 * this completes the group, the parts are joined in seq order into out
 * (cap should allow total * max_part_len), *out_len set, the group freed,
 * and COMPLETE returned; a group that does not fit is dropped with -1
 * NOSPACE. total 1 completes at once. Stale groups are not expired here:
 * call smpp_reasm_expire(), or a full table answers -1 TABLEFULL.
 */
int smpp_reasm_add(struct smpp_reasm *r, const char *key,
    const struct smpp_concat_info *ci, const uint8_t *data, size_t len,
    uint64_t now, uint8_t *out, size_t cap, size_t *out_len,
    enum smpp_concat_reason *why);

/* What smpp_reasm_expire() reports about a group it dropped. */
struct smpp_reasm_expired {
	char		key[SMPP_REASM_KEY_MAX + 1];
	uint16_t	ref;
	uint8_t		total;
	uint8_t		received;	/* parts that had come */
	uint64_t	first;		/* now of its first part */
};

/* Drops the oldest group whose time is up: returns 1 and describes it in
 * *x, or 0 when none is due. Call until 0. */
int smpp_reasm_expire(struct smpp_reasm *r, uint64_t now,
    struct smpp_reasm_expired *x);

/* Pending groups and bytes held. */
size_t smpp_reasm_pending(const struct smpp_reasm *r);
size_t smpp_reasm_bytes(const struct smpp_reasm *r);

#endif
