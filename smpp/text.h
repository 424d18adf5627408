/*
 * SMS text as the rest of Sealgate sees it: UTF-8 in, the smallest SMPP
 * encoding out (GSM 7-bit, else Latin-1 if allowed, else UCS-2); octets
 * and a data_coding in, UTF-8 out. Pure functions over caller buffers,
 * with the conventions and error reasons of charset.h: the result is a
 * length, or -1 with err->reason set; nothing is written past cap; out may
 * be NULL to measure.
 */
#ifndef SMPP_TEXT_H
#define SMPP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "charset.h"

/* SMPP 3.4 data_coding values (5.2.19) this layer knows. */
#define SMPP_DCS_DEFAULT	0x00	/* SMSC default alphabet */
#define SMPP_DCS_IA5		0x01	/* IA5 (CCITT T.50) / ASCII */
#define SMPP_DCS_BINARY		0x02	/* octet unspecified (8-bit binary) */
#define SMPP_DCS_LATIN1		0x03
#define SMPP_DCS_BINARY8	0x04	/* octet unspecified (8-bit binary) */
#define SMPP_DCS_UCS2		0x08

enum smpp_text_enc {
	SMPP_TEXT_GSM7,		/* GSM 03.38 septets (unpacked unless said) */
	SMPP_TEXT_ASCII,	/* IA5 */
	SMPP_TEXT_LATIN1,
	SMPP_TEXT_UCS2,
	SMPP_TEXT_BINARY,	/* not text: 0x02, 0x04, GSM 8-bit classes */
	SMPP_TEXT_UNSUPPORTED,	/* JIS, Cyrillic, Hebrew, KS C 5601, ... */
};

/* How incoming data_coding values are read (the SMSC's conventions). */
struct smpp_text_opts {
	enum smpp_text_enc	dcs0;		/* data_coding 0: GSM7, ASCII
						 * or LATIN1; default GSM7 */
	int			gsm7_packed;	/* GSM 7 arrives packed; 0 */
	unsigned		flags;		/* SMPP_CHARSET_REPLACE */
};

void smpp_text_opts_default(struct smpp_text_opts *o);

/* What a data_coding value carries (o may be NULL for the defaults);
 * covers 0x00-0x0E and the GSM classes 0xC0-0xFF. */
enum smpp_text_enc smpp_text_dcs_enc(uint8_t dcs,
    const struct smpp_text_opts *o);
/* The data_coding to send an encoding with (GSM7 -> 0x00). */
uint8_t smpp_text_enc_dcs(enum smpp_text_enc enc);
/* "gsm7", "ascii", ...; never NULL. */
const char *smpp_text_enc_name(enum smpp_text_enc enc);

/* Flags for smpp_text_encode(). */
#define SMPP_TEXT_ALLOW_LATIN1	0x01	/* prefer Latin-1 over UCS-2 */
#define SMPP_TEXT_FORCE_UCS2	0x02

/*
 * Encodes UTF-8 in the smallest encoding that holds it: GSM 7 unpacked
 * septets when every character is in the default alphabet or extension
 * table, else Latin-1 if SMPP_TEXT_ALLOW_LATIN1 and it fits, else UCS-2.
 * Sets *enc (also when measuring). Invalid UTF-8 is BADUTF8 with err->off.
 */
int smpp_text_encode(const char *utf8, size_t len, unsigned flags,
    uint8_t *out, size_t cap, enum smpp_text_enc *enc,
    struct smpp_charset_err *err);

/* Returns 0 if the input is strict UTF-8, else -1 with BADUTF8 and off. */
int smpp_text_utf8_check(const char *in, size_t len,
    struct smpp_charset_err *err);

/*
 * Decodes a message body (no UDH) to UTF-8 by its data_coding. Binary and
 * unsupported data_coding values are BADDCS. o may be NULL (defaults).
 */
int smpp_text_decode(uint8_t dcs, const uint8_t *in, size_t len,
    const struct smpp_text_opts *o, char *out, size_t cap,
    struct smpp_charset_err *err);

/* The same for a whole short_message: with SMPP_ESM_UDHI in esm_class the
 * UDH is checked and skipped (packed GSM 7 starts after its fill bits);
 * a bad UDH is BADINPUT. */
int smpp_text_decode_sm(uint8_t dcs, uint8_t esm_class, const uint8_t *sm,
    size_t len, const struct smpp_text_opts *o, char *out, size_t cap,
    struct smpp_charset_err *err);

#endif
