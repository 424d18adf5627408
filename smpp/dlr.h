/*
 * Delivery receipt text (SMPP 3.4 Appendix B), the short_message of a
 * deliver_sm with esm_class SMPP_ESM_DLR:
 *   id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm
 *   stat:DELIVRD err:000 text:...
 * Formatting writes exactly that; parsing takes what SMSCs really send
 * (any key case, 12-digit dates, long/hex/UUID ids, fields missing or out
 * of order, extra spaces). Also: the dates in UTC (receipt dates, and
 * SMPP absolute times), replacing the id in a receipt text, and
 * telling whether two message ids name the same message.
 *
 * Buffers belong to the caller. Functions return a length, or -1 with
 * *why set (why may be NULL); nothing is written past cap.
 */
#ifndef SMPP_DLR_H
#define SMPP_DLR_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum smpp_dlr_reason {
	SMPP_DLR_OK = 0,
	SMPP_DLR_NOSPACE,	/* output capacity too small */
	SMPP_DLR_NOID,		/* no id: field (or an empty one) */
	SMPP_DLR_BADID,		/* an id over 64 octets, or with a byte that
				 * is not printable ASCII */
	SMPP_DLR_BADINPUT,	/* bad fields given to the formatter */
};

const char *smpp_dlr_strerror(enum smpp_dlr_reason why);

/* The stat: values, numbered as the message_state TLV (5.2.28). */
enum smpp_dlr_stat {
	SMPP_DLR_STAT_NONE	= 0,	/* absent or not recognised */
	SMPP_DLR_ENROUTE	= 1,
	SMPP_DLR_DELIVRD	= 2,
	SMPP_DLR_EXPIRED	= 3,
	SMPP_DLR_DELETED	= 4,
	SMPP_DLR_UNDELIV	= 5,
	SMPP_DLR_ACCEPTD	= 6,
	SMPP_DLR_UNKNOWN	= 7,
	SMPP_DLR_REJECTD	= 8,
};

/* "DELIVRD", ...; NULL for SMPP_DLR_STAT_NONE or out of range. */
const char *smpp_dlr_stat_name(enum smpp_dlr_stat stat);

/* Which fields a parse found (bits of smpp_dlr.present). */
enum smpp_dlr_field {
	SMPP_DLR_F_ID		= 1 << 0,
	SMPP_DLR_F_SUB		= 1 << 1,
	SMPP_DLR_F_DLVRD	= 1 << 2,
	SMPP_DLR_F_SUBMIT_DATE	= 1 << 3,
	SMPP_DLR_F_DONE_DATE	= 1 << 4,
	SMPP_DLR_F_STAT		= 1 << 5,
	SMPP_DLR_F_ERR		= 1 << 6,
	SMPP_DLR_F_TEXT		= 1 << 7,
};

#define SMPP_DLR_ID_MAX	(SMPP_MESSAGE_ID_MAX - 1)	/* 64 */

struct smpp_dlr {
	unsigned		present;	/* enum smpp_dlr_field bits */
	unsigned		malformed;	/* fields seen but unusable */
	char			id[SMPP_DLR_ID_MAX + 1];
	size_t			id_off;		/* where the id value sits */
	size_t			id_len;		/* in the parsed text */
	unsigned		sub;		/* 0..999 */
	unsigned		dlvrd;		/* 0..999 */
	char			submit_date[13];	/* 10 or 12 digits */
	char			done_date[13];
	enum smpp_dlr_stat	stat;
	char			err[17];	/* as sent: "000", "0x1F" */
	const char		*text;		/* borrowed from the input, */
	size_t			text_len;	/* to its end; not a C string */
};

/*
 * Parses a receipt text of len octets. Keys are matched in any case and
 * order, each at the start or after white space ("submit date", also
 * "submit_date"); values may follow the colon after spaces; "text:" takes
 * the rest of the input (it is last in every known variant). Dates of
 * other than 10 or 12 digits, counts over 3 digits and unknown stat
 * values are left out and flagged in malformed. Returns 0, or -1: NOID,
 * BADID. out->text borrows in.
 */
int smpp_dlr_parse(const char *in, size_t len, struct smpp_dlr *out,
    enum smpp_dlr_reason *why);

/*
 * Writes the Appendix B text from the fields in present (id required;
 * others absent are written as "000", "0000000000", "UNKNOWN", ...).
 * text is copied as given: Appendix B suggests its first 20 characters.
 * The result is NUL-terminated; the length excludes the NUL.
 */
int smpp_dlr_format(const struct smpp_dlr *d, char *out, size_t cap,
    enum smpp_dlr_reason *why);

struct smpp_scan;

/* Whether a scanned deliver_sm or data_sm is a receipt: esm_class says a
 * delivery receipt or an intermediate notification, or a data_sm names
 * the message in receipted_message_id. */
int smpp_dlr_is_receipt(const struct smpp_scan *req);

/* Unix ms as an SMPP absolute time in UTC (3.4 7.1.1, e.g. query_sm_resp's
 * final_date): YYMMDDhhmmsst00+, NUL-terminated. */
void smpp_time_utc(int64_t unix_ms, char out[SMPP_TIME_MAX]);
/* Unix ms as a receipt date in UTC: YYMMDDhhmm (its first ten digits),
 * NUL-terminated; out holds at least 11. */
void smpp_dlr_date(int64_t unix_ms, char *out);

/* Copies a receipt text into out with the id value replaced by new_id
 * (a C string), everything else byte for byte. NUL-terminated. */
int smpp_dlr_rewrite_id(const char *in, size_t len, const char *new_id,
    char *out, size_t cap, enum smpp_dlr_reason *why);

/* How tolerant id comparison is. */
#define SMPP_DLR_ID_CASE	0x01	/* ignore letter case */
#define SMPP_DLR_ID_DASHES	0x02	/* ignore '-' (UUIDs with/without) */
#define SMPP_DLR_ID_NUMERIC	0x04	/* compare as numbers: hex (up to 16
					 * digits) and decimal (up to 20)
					 * readings, so 1A2B == 6699 and
					 * 007 == 7 */
#define SMPP_DLR_ID_TOLERANT	0x07

/* The canonical forms of an id: equal ids share at least one. */
struct smpp_dlr_idset {
	char		text[SMPP_DLR_ID_MAX + 1];	/* folded as asked */
	int		has_hex;
	int		has_dec;
	uint64_t	hex;		/* value read as hexadecimal */
	uint64_t	dec;		/* value read as decimal */
};

/* Fills *set; -1 (BADID) for an id longer than 64 octets. */
int smpp_dlr_id_canon(const char *id, size_t len, unsigned flags,
    struct smpp_dlr_idset *set, enum smpp_dlr_reason *why);
/* 1 if two ids (C strings) name the same message under flags, else 0. */
int smpp_dlr_id_equivalent(const char *a, const char *b, unsigned flags);

#endif
