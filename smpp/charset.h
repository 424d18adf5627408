/*
 * Character sets of SMS text, to and from UTF-8: the GSM 03.38 default
 * alphabet with its extension table (as unpacked septets, one per octet,
 * and packed 7-bit), UCS-2 (UTF-16BE, with surrogate pairs) and Latin-1.
 * Pure functions: no allocation, no I/O.
 *
 * One convention for every function here: the caller owns the input
 * (read only within len) and the output buffer (written only within cap);
 * out may be NULL to measure the length without writing. The result is
 * the output length, or -1 with err->reason set (err may be NULL) and
 * err->off the input offset of the offending byte. On -1 the output holds
 * a partial result that must not be used. UTF-8 input is checked strictly:
 * overlong forms, encoded surrogates, code points above U+10FFFF, stray
 * continuation bytes and truncated sequences are all refused.
 */
#ifndef SMPP_CHARSET_H
#define SMPP_CHARSET_H

#include <stddef.h>
#include <stdint.h>

enum smpp_charset_reason {
	SMPP_CHARSET_OK = 0,
	SMPP_CHARSET_NOSPACE,		/* output capacity too small */
	SMPP_CHARSET_BADUTF8,		/* input is not strict UTF-8 */
	SMPP_CHARSET_UNMAPPABLE,	/* a character the target set lacks */
	SMPP_CHARSET_BADINPUT,		/* invalid in the source set (odd UCS-2
					 * length, lone surrogate, septet > 0x7F,
					 * fill bits > 6, input too long) */
	SMPP_CHARSET_BADDCS,		/* text.c: data_coding is not text */
};

struct smpp_charset_err {
	enum smpp_charset_reason reason;
	size_t			 off;
};

/* Inputs longer than this are refused (BADINPUT): results fit an int. */
#define SMPP_CHARSET_MAX_IN	(16u * 1024 * 1024)

/* Decoder flag: substitute invalid input instead of failing (U+FFFD for
 * UCS-2, '?' for GSM 7 and IA5). */
#define SMPP_CHARSET_REPLACE	0x01

/* Never NULL. */
const char *smpp_charset_strerror(enum smpp_charset_reason reason);

/* GSM 03.38 septets, unpacked: one septet per octet, escape pairs as
 * 0x1B + code. Encoding uses the extension table where needed. */
int smpp_gsm7_from_utf8(const char *in, size_t len, uint8_t *out,
    size_t cap, struct smpp_charset_err *err);
/* Septets > 0x7F are BADINPUT (or '?' with REPLACE). An escape followed by
 * a code the extension table lacks shows that code from the default table
 * (03.38 says so); a lone trailing escape shows a space. */
int smpp_gsm7_to_utf8(const uint8_t *in, size_t len, unsigned flags,
    char *out, size_t cap, struct smpp_charset_err *err);
/* Number of septets (escape pairs count 2) the text needs, or -1. */
int smpp_gsm7_count(const char *in, size_t len, struct smpp_charset_err *err);

/*
 * Packing. fill_bits (0..6) zero bits come first, so that septets start on
 * a septet boundary after a UDH (see smpp_udh_fill_bits()). When the last
 * octet would have 7 spare bits, they hold CR (0x0D), as 03.38 6.1.2.3.1
 * asks, so that they are not read as '@'. Returns octets written.
 */
int smpp_gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
    uint8_t *out, size_t cap, struct smpp_charset_err *err);
/* nsept: the septet count when known (TP-UDL), or SMPP_GSM7_AUTO to take
 * all the septets the octets hold; then a last septet filling exactly
 * the final 7 bits is dropped if it is CR or 0x00 (padding, not text:
 * pass the count to keep a real trailing '@' or CR there). */
#define SMPP_GSM7_AUTO	((size_t)-1)
int smpp_gsm7_unpack(const uint8_t *in, size_t len, unsigned fill_bits,
    size_t nsept, uint8_t *out, size_t cap, struct smpp_charset_err *err);
/* Packed septets straight to UTF-8 (unpack + to_utf8, no septet buffer). */
int smpp_gsm7_packed_to_utf8(const uint8_t *in, size_t len,
    unsigned fill_bits, size_t nsept, unsigned flags, char *out, size_t cap,
    struct smpp_charset_err *err);

/* UCS-2 as UTF-16BE: characters above U+FFFF become surrogate pairs. */
int smpp_ucs2_from_utf8(const char *in, size_t len, uint8_t *out,
    size_t cap, struct smpp_charset_err *err);
/* Odd length or a lone surrogate is BADINPUT (U+FFFD with REPLACE). */
int smpp_ucs2_to_utf8(const uint8_t *in, size_t len, unsigned flags,
    char *out, size_t cap, struct smpp_charset_err *err);

/* ISO-8859-1: code points above U+00FF are UNMAPPABLE. */
int smpp_latin1_from_utf8(const char *in, size_t len, uint8_t *out,
    size_t cap, struct smpp_charset_err *err);
/* Every octet is valid; this fails only for lack of space. */
int smpp_latin1_to_utf8(const uint8_t *in, size_t len, char *out,
    size_t cap, struct smpp_charset_err *err);

#endif
