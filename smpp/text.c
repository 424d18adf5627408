/*
 * Choosing an encoding for outgoing text and decoding incoming text by
 * data_coding (see text.h). The gateway's notification texts and the
 * secure path's message bodies go through here; pass-through traffic
 * never does (its bytes are forwarded as they came).
 */
#include <stddef.h>
#include <stdint.h>

#include "charset.h"
#include "concat.h"
#include "proto.h"
#include "text.h"

static int
fail(struct smpp_charset_err *err, enum smpp_charset_reason r, size_t off)
{
	if (err != NULL) {
		err->reason = r;
		err->off = off;
	}
	return -1;
}

void
smpp_text_opts_default(struct smpp_text_opts *o)
{
	o->dcs0 = SMPP_TEXT_GSM7;
	o->gsm7_packed = 0;
	o->flags = 0;
}

enum smpp_text_enc
smpp_text_dcs_enc(uint8_t dcs, const struct smpp_text_opts *o)
{
	switch (dcs) {
	case SMPP_DCS_DEFAULT:
		return o != NULL ? o->dcs0 : SMPP_TEXT_GSM7;
	case SMPP_DCS_IA5:
		return SMPP_TEXT_ASCII;
	case SMPP_DCS_BINARY:
	case SMPP_DCS_BINARY8:
		return SMPP_TEXT_BINARY;
	case SMPP_DCS_LATIN1:
		return SMPP_TEXT_LATIN1;
	case SMPP_DCS_UCS2:
		return SMPP_TEXT_UCS2;
	}
	/* GSM 03.38 coding groups that SMSCs pass through in data_coding:
	 * the general group with a message class (alphabet in bits 3..2),
	 * message waiting indication, and the message class group. */
	if (dcs >= 0x10 && dcs <= 0x1F) {
		switch ((dcs >> 2) & 3) {
		case 0:	return SMPP_TEXT_GSM7;
		case 1:	return SMPP_TEXT_BINARY;
		case 2:	return SMPP_TEXT_UCS2;
		}
		return SMPP_TEXT_UNSUPPORTED;
	}
	if (dcs >= 0xC0 && dcs <= 0xDF)
		return SMPP_TEXT_GSM7;
	if (dcs >= 0xE0 && dcs <= 0xEF)
		return SMPP_TEXT_UCS2;
	if (dcs >= 0xF0)
		return (dcs & 0x04) ? SMPP_TEXT_BINARY : SMPP_TEXT_GSM7;
	return SMPP_TEXT_UNSUPPORTED;
}

uint8_t
smpp_text_enc_dcs(enum smpp_text_enc enc)
{
	switch (enc) {
	case SMPP_TEXT_GSM7:	return SMPP_DCS_DEFAULT;
	case SMPP_TEXT_ASCII:	return SMPP_DCS_IA5;
	case SMPP_TEXT_LATIN1:	return SMPP_DCS_LATIN1;
	case SMPP_TEXT_UCS2:	return SMPP_DCS_UCS2;
	case SMPP_TEXT_BINARY:
	case SMPP_TEXT_UNSUPPORTED:
		break;
	}
	return SMPP_DCS_BINARY8;
}

const char *
smpp_text_enc_name(enum smpp_text_enc enc)
{
	switch (enc) {
	case SMPP_TEXT_GSM7:		return "gsm7";
	case SMPP_TEXT_ASCII:		return "ascii";
	case SMPP_TEXT_LATIN1:		return "latin1";
	case SMPP_TEXT_UCS2:		return "ucs2";
	case SMPP_TEXT_BINARY:		return "binary";
	case SMPP_TEXT_UNSUPPORTED:	return "unsupported";
	}
	return "unknown";
}

int
smpp_text_utf8_check(const char *in, size_t len, struct smpp_charset_err *err)
{
	/* Every Unicode scalar value has a UTF-16 form, so measuring one
	 * fails exactly on bad UTF-8 (or on an over-long input). */
	return smpp_ucs2_from_utf8(in, len, NULL, 0, err) < 0 ? -1 : 0;
}

int
smpp_text_encode(const char *utf8, size_t len, unsigned flags, uint8_t *out,
    size_t cap, enum smpp_text_enc *enc, struct smpp_charset_err *err)
{
	struct smpp_charset_err e;

	/* Measure first: writing would stop at a full buffer before it saw
	 * whether a later character forces a wider encoding. */
	if (!(flags & SMPP_TEXT_FORCE_UCS2)) {
		if (smpp_gsm7_from_utf8(utf8, len, NULL, 0, &e) >= 0) {
			*enc = SMPP_TEXT_GSM7;
			return smpp_gsm7_from_utf8(utf8, len, out, cap, err);
		}
		if (e.reason != SMPP_CHARSET_UNMAPPABLE)
			return fail(err, e.reason, e.off);
		if ((flags & SMPP_TEXT_ALLOW_LATIN1) &&
		    smpp_latin1_from_utf8(utf8, len, NULL, 0, &e) >= 0) {
			*enc = SMPP_TEXT_LATIN1;
			return smpp_latin1_from_utf8(utf8, len, out, cap, err);
		}
	}
	*enc = SMPP_TEXT_UCS2;
	return smpp_ucs2_from_utf8(utf8, len, out, cap, err);
}

/* IA5: 7-bit ASCII, one octet per character. */
static int
ia5_to_utf8(const uint8_t *in, size_t len, unsigned flags, char *out,
    size_t cap, struct smpp_charset_err *err)
{
	if (len > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	for (size_t i = 0; i < len; i++) {
		char c = (char)in[i];

		if (in[i] > 0x7F) {
			if (!(flags & SMPP_CHARSET_REPLACE))
				return fail(err, SMPP_CHARSET_BADINPUT, i);
			c = '?';
		}
		if (out != NULL) {
			if (i >= cap)
				return fail(err, SMPP_CHARSET_NOSPACE, i);
			out[i] = c;
		}
	}
	if (err != NULL) {
		err->reason = SMPP_CHARSET_OK;
		err->off = 0;
	}
	return (int)len;
}

/* Decodes in[] (after a UDH of udh_len octets, for packed fill bits). */
static int
decode(uint8_t dcs, const uint8_t *in, size_t len, size_t udh_len,
    const struct smpp_text_opts *o, char *out, size_t cap,
    struct smpp_charset_err *err)
{
	struct smpp_text_opts def;

	if (o == NULL) {
		smpp_text_opts_default(&def);
		o = &def;
	}
	switch (smpp_text_dcs_enc(dcs, o)) {
	case SMPP_TEXT_GSM7:
		if (o->gsm7_packed)
			return smpp_gsm7_packed_to_utf8(in, len,
			    smpp_udh_fill_bits(udh_len), SMPP_GSM7_AUTO,
			    o->flags, out, cap, err);
		return smpp_gsm7_to_utf8(in, len, o->flags, out, cap, err);
	case SMPP_TEXT_ASCII:
		return ia5_to_utf8(in, len, o->flags, out, cap, err);
	case SMPP_TEXT_LATIN1:
		return smpp_latin1_to_utf8(in, len, out, cap, err);
	case SMPP_TEXT_UCS2:
		return smpp_ucs2_to_utf8(in, len, o->flags, out, cap, err);
	case SMPP_TEXT_BINARY:
	case SMPP_TEXT_UNSUPPORTED:
		break;
	}
	return fail(err, SMPP_CHARSET_BADDCS, 0);
}

int
smpp_text_decode(uint8_t dcs, const uint8_t *in, size_t len,
    const struct smpp_text_opts *o, char *out, size_t cap,
    struct smpp_charset_err *err)
{
	return decode(dcs, in, len, 0, o, out, cap, err);
}

int
smpp_text_decode_sm(uint8_t dcs, uint8_t esm_class, const uint8_t *sm,
    size_t len, const struct smpp_text_opts *o, char *out, size_t cap,
    struct smpp_charset_err *err)
{
	struct smpp_udh u;
	int n;

	if (!(esm_class & SMPP_ESM_UDHI))
		return decode(dcs, sm, len, 0, o, out, cap, err);
	if (smpp_udh_parse(sm, len, &u, NULL) != 0)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	n = decode(dcs, sm + u.len, len - u.len, u.len, o, out, cap, err);
	if (n < 0 && err != NULL)
		err->off += u.len;	/* offsets count from the start of sm */
	return n;
}
