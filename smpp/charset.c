/*
 * Character sets of SMS text (see charset.h): the GSM 03.38 default
 * alphabet and extension table, 7-bit packing, UCS-2/UTF-16BE and Latin-1,
 * each to and from UTF-8. Everything above smpp/ speaks UTF-8; these are
 * the only places where the wire encodings of short_message text are known.
 * The tables are transcribed from 3GPP TS 23.038 (GSM 03.38) section 6.2.1.
 */
#include <stddef.h>
#include <stdint.h>

#include "charset.h"

/* GSM 03.38 default alphabet, septet -> Unicode. 0x1B is the escape to the
 * extension table; its entry is what a lone escape displays as (a space). */
static const uint16_t gsm7_default[128] = {
	0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
	0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
	0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
	0x03A3, 0x0398, 0x039E, 0x0020, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
	0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
	0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
	0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
	0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
	0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
	0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

#define GSM7_ESC	0x1B
#define GSM7_CR		0x0D
#define GSM7_EXT	0x100	/* gsm7_encode_cp(): "escape, then this code" */

/* Extension table, code after 0x1B -> Unicode, or 0 if the code has none. */
static uint32_t
gsm7_ext_decode(uint8_t c)
{
	switch (c) {
	case 0x0A: return 0x000C;	/* form feed (page break) */
	case 0x14: return 0x005E;	/* ^ */
	case 0x28: return 0x007B;	/* { */
	case 0x29: return 0x007D;	/* } */
	case 0x2F: return 0x005C;	/* \ */
	case 0x3C: return 0x005B;	/* [ */
	case 0x3D: return 0x007E;	/* ~ */
	case 0x3E: return 0x005D;	/* ] */
	case 0x40: return 0x007C;	/* | */
	case 0x65: return 0x20AC;	/* euro sign */
	}
	return 0;
}

/*
 * Unicode -> GSM: the septet, GSM7_EXT | code for the extension table, or
 * -1. Exact mappings only (no folding of c-cedilla onto C-cedilla and the
 * like), so that every encodable text decodes back to itself.
 */
static int
gsm7_encode_cp(uint32_t cp)
{
	/* Most of printable ASCII sits at its own code point. */
	if ((cp >= 0x20 && cp <= 0x3F && cp != 0x24) ||
	    (cp >= 0x41 && cp <= 0x5A) || (cp >= 0x61 && cp <= 0x7A) ||
	    cp == 0x0A || cp == 0x0D)
		return (int)cp;
	switch (cp) {
	case 0x0040: return 0x00;	/* @ */
	case 0x0024: return 0x02;	/* $ */
	case 0x005F: return 0x11;	/* _ */
	case 0x000C: return GSM7_EXT | 0x0A;
	case 0x005E: return GSM7_EXT | 0x14;
	case 0x007B: return GSM7_EXT | 0x28;
	case 0x007D: return GSM7_EXT | 0x29;
	case 0x005C: return GSM7_EXT | 0x2F;
	case 0x005B: return GSM7_EXT | 0x3C;
	case 0x007E: return GSM7_EXT | 0x3D;
	case 0x005D: return GSM7_EXT | 0x3E;
	case 0x007C: return GSM7_EXT | 0x40;
	case 0x20AC: return GSM7_EXT | 0x65;
	case 0x00A3: return 0x01;
	case 0x00A5: return 0x03;
	case 0x00E8: return 0x04;
	case 0x00E9: return 0x05;
	case 0x00F9: return 0x06;
	case 0x00EC: return 0x07;
	case 0x00F2: return 0x08;
	case 0x00C7: return 0x09;
	case 0x00D8: return 0x0B;
	case 0x00F8: return 0x0C;
	case 0x00C5: return 0x0E;
	case 0x00E5: return 0x0F;
	case 0x0394: return 0x10;
	case 0x03A6: return 0x12;
	case 0x0393: return 0x13;
	case 0x039B: return 0x14;
	case 0x03A9: return 0x15;
	case 0x03A0: return 0x16;
	case 0x03A8: return 0x17;
	case 0x03A3: return 0x18;
	case 0x0398: return 0x19;
	case 0x039E: return 0x1A;
	case 0x00C6: return 0x1C;
	case 0x00E6: return 0x1D;
	case 0x00DF: return 0x1E;
	case 0x00C9: return 0x1F;
	case 0x00A4: return 0x24;
	case 0x00A1: return 0x40;
	case 0x00C4: return 0x5B;
	case 0x00D6: return 0x5C;
	case 0x00D1: return 0x5D;
	case 0x00DC: return 0x5E;
	case 0x00A7: return 0x5F;
	case 0x00BF: return 0x60;
	case 0x00E4: return 0x7B;
	case 0x00F6: return 0x7C;
	case 0x00F1: return 0x7D;
	case 0x00FC: return 0x7E;
	case 0x00E0: return 0x7F;
	}
	return -1;
}

/* An output buffer that also works as a counter when p is NULL. */
struct sink {
	uint8_t	*p;
	size_t	 cap;
	size_t	 n;
};

static int
sink_put(struct sink *s, uint8_t b)
{
	if (s->p != NULL) {
		if (s->n >= s->cap)
			return -1;
		s->p[s->n] = b;
	}
	s->n++;
	return 0;
}

static int
sink_utf8(struct sink *s, uint32_t cp)
{
	if (cp < 0x80)
		return sink_put(s, (uint8_t)cp);
	/* Check room for the whole sequence first: no half characters. */
	size_t need = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	if (s->p != NULL && s->cap - s->n < need)
		return -1;
	switch (need) {
	case 2:
		sink_put(s, (uint8_t)(0xC0 | (cp >> 6)));
		break;
	case 3:
		sink_put(s, (uint8_t)(0xE0 | (cp >> 12)));
		sink_put(s, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
		break;
	default:
		sink_put(s, (uint8_t)(0xF0 | (cp >> 18)));
		sink_put(s, (uint8_t)(0x80 | ((cp >> 12) & 0x3F)));
		sink_put(s, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
		break;
	}
	return sink_put(s, (uint8_t)(0x80 | (cp & 0x3F)));
}

static int
fail(struct smpp_charset_err *err, enum smpp_charset_reason r, size_t off)
{
	if (err != NULL) {
		err->reason = r;
		err->off = off;
	}
	return -1;
}

static int
done(struct smpp_charset_err *err, size_t n)
{
	if (err != NULL) {
		err->reason = SMPP_CHARSET_OK;
		err->off = 0;
	}
	return (int)n;
}

/*
 * Strict UTF-8 (RFC 3629): returns the code point at s[*pos] and advances
 * *pos, or returns -1 leaving *pos at the start of the bad sequence. The
 * second-byte ranges shut out overlongs (E0, F0), surrogates (ED) and
 * code points above U+10FFFF (F4); C0, C1 and F5..FF never start one.
 */
static int32_t
utf8_next(const uint8_t *s, size_t len, size_t *pos)
{
	size_t i = *pos, n;
	uint8_t c = s[i], lo = 0x80, hi = 0xBF;
	uint32_t cp;

	if (c < 0x80) {
		*pos = i + 1;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 1;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2;
		cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3;
		cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return -1;
	if (len - i - 1 < n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		uint8_t b = s[i + k];

		if (b < lo || b > hi)
			return -1;
		lo = 0x80;
		hi = 0xBF;
		cp = (cp << 6) | (b & 0x3F);
	}
	*pos = i + 1 + n;
	return (int32_t)cp;
}

const char *
smpp_charset_strerror(enum smpp_charset_reason reason)
{
	switch (reason) {
	case SMPP_CHARSET_OK:		return "ok";
	case SMPP_CHARSET_NOSPACE:	return "output buffer too small";
	case SMPP_CHARSET_BADUTF8:	return "invalid UTF-8";
	case SMPP_CHARSET_UNMAPPABLE:	return "character not in target set";
	case SMPP_CHARSET_BADINPUT:	return "invalid input for its encoding";
	case SMPP_CHARSET_BADDCS:	return "data_coding is not text";
	}
	return "unknown error";
}

int
smpp_gsm7_from_utf8(const char *in, size_t len, uint8_t *out, size_t cap,
    struct smpp_charset_err *err)
{
	const uint8_t *s = (const uint8_t *)in;
	struct sink o = { out, cap, 0 };
	size_t pos = 0;

	if (len > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	while (pos < len) {
		size_t at = pos;
		int32_t cp = utf8_next(s, len, &pos);
		int g;

		if (cp < 0)
			return fail(err, SMPP_CHARSET_BADUTF8, at);
		if ((g = gsm7_encode_cp((uint32_t)cp)) < 0)
			return fail(err, SMPP_CHARSET_UNMAPPABLE, at);
		if (g & GSM7_EXT) {
			/* Both septets or neither: never a dangling escape. */
			if (out != NULL && cap - o.n < 2)
				return fail(err, SMPP_CHARSET_NOSPACE, at);
			sink_put(&o, GSM7_ESC);
		}
		if (sink_put(&o, (uint8_t)(g & 0x7F)) != 0)
			return fail(err, SMPP_CHARSET_NOSPACE, at);
	}
	return done(err, o.n);
}

int
smpp_gsm7_count(const char *in, size_t len, struct smpp_charset_err *err)
{
	return smpp_gsm7_from_utf8(in, len, NULL, 0, err);
}

/* Septets read either one per octet or packed 7-bit after fill_bits. */
struct septets {
	const uint8_t	*p;
	size_t		 len;	/* octets */
	size_t		 n;	/* septets */
	unsigned	 fill;
	int		 packed;
};

static unsigned
septet_at(const struct septets *s, size_t i)
{
	size_t pos;
	unsigned sh, v;

	if (!s->packed)
		return s->p[i];
	pos = s->fill + 7 * i;
	sh = pos % 8;
	v = s->p[pos / 8] >> sh;
	if (sh > 1)
		v |= (unsigned)s->p[pos / 8 + 1] << (8 - sh);
	return v & 0x7F;
}

/* Offset of septet i in the input, for error reports. */
static size_t
septet_off(const struct septets *s, size_t i)
{
	return s->packed ? (s->fill + 7 * i) / 8 : i;
}

/*
 * How many septets packed octets hold: nsept when given (and there), else
 * all, less a last septet filling exactly the final 7 bits with CR or 0:
 * that is padding (03.38 6.1.2.3.1 pads with CR; many senders with 0).
 */
static int
septets_packed(struct septets *s, const uint8_t *in, size_t len,
    unsigned fill, size_t nsept)
{
	size_t bits = len * 8, avail;

	if (fill > 6 || len > SMPP_CHARSET_MAX_IN)
		return -1;
	avail = bits > fill ? (bits - fill) / 7 : 0;
	s->p = in;
	s->len = len;
	s->fill = fill;
	s->packed = 1;
	if (nsept != SMPP_GSM7_AUTO) {
		if (nsept > avail)
			return -1;
		s->n = nsept;
		return 0;
	}
	s->n = avail;
	if (avail > 0 && fill + 7 * avail == bits) {
		unsigned v = septet_at(s, avail - 1);

		if (v == GSM7_CR || v == 0)
			s->n--;
	}
	return 0;
}

static int
gsm7_decode(const struct septets *s, unsigned flags, char *out, size_t cap,
    struct smpp_charset_err *err)
{
	struct sink o = { (uint8_t *)out, cap, 0 };
	int replace = (flags & SMPP_CHARSET_REPLACE) != 0;

	for (size_t i = 0; i < s->n; i++) {
		unsigned c = septet_at(s, i);
		size_t at = i;
		uint32_t cp;

		if (c > 0x7F) {
			if (!replace)
				return fail(err, SMPP_CHARSET_BADINPUT, i);
			cp = '?';
		} else if (c != GSM7_ESC) {
			cp = gsm7_default[c];
		} else if (i + 1 == s->n) {
			cp = ' ';
		} else if ((c = septet_at(s, ++i)) > 0x7F) {
			if (!replace)
				return fail(err, SMPP_CHARSET_BADINPUT, i);
			cp = '?';
		} else if ((cp = gsm7_ext_decode((uint8_t)c)) == 0) {
			cp = gsm7_default[c];
		}
		if (sink_utf8(&o, cp) != 0)
			return fail(err, SMPP_CHARSET_NOSPACE, septet_off(s, at));
	}
	return done(err, o.n);
}

int
smpp_gsm7_to_utf8(const uint8_t *in, size_t len, unsigned flags, char *out,
    size_t cap, struct smpp_charset_err *err)
{
	struct septets s = { in, len, len, 0, 0 };

	if (len > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	return gsm7_decode(&s, flags, out, cap, err);
}

int
smpp_gsm7_packed_to_utf8(const uint8_t *in, size_t len, unsigned fill_bits,
    size_t nsept, unsigned flags, char *out, size_t cap,
    struct smpp_charset_err *err)
{
	struct septets s;

	if (septets_packed(&s, in, len, fill_bits, nsept) != 0)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	return gsm7_decode(&s, flags, out, cap, err);
}

int
smpp_gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
    uint8_t *out, size_t cap, struct smpp_charset_err *err)
{
	size_t bits, octets;

	if (fill_bits > 6 || n > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	for (size_t i = 0; i < n; i++)
		if (septets[i] > 0x7F)
			return fail(err, SMPP_CHARSET_BADINPUT, i);
	if (n == 0)
		return done(err, 0);
	bits = fill_bits + 7 * n;
	octets = (bits + 7) / 8;
	if (out == NULL)
		return done(err, octets);
	if (octets > cap)
		return fail(err, SMPP_CHARSET_NOSPACE, 0);
	for (size_t i = 0; i < octets; i++)
		out[i] = 0;
	for (size_t i = 0; i <= n; i++) {
		uint8_t v;
		size_t p = fill_bits + 7 * i;
		unsigned sh = p % 8;

		if (i < n)
			v = septets[i];
		else if (octets * 8 - bits == 7) {
			v = GSM7_CR;	/* pad, or the spare bits read as '@' */
		} else
			break;
		out[p / 8] |= (uint8_t)(v << sh);
		if (sh > 1)
			out[p / 8 + 1] |= (uint8_t)(v >> (8 - sh));
	}
	return done(err, octets);
}

int
smpp_gsm7_unpack(const uint8_t *in, size_t len, unsigned fill_bits,
    size_t nsept, uint8_t *out, size_t cap, struct smpp_charset_err *err)
{
	struct septets s;

	if (septets_packed(&s, in, len, fill_bits, nsept) != 0)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	if (out == NULL)
		return done(err, s.n);
	if (s.n > cap)
		return fail(err, SMPP_CHARSET_NOSPACE, 0);
	for (size_t i = 0; i < s.n; i++)
		out[i] = (uint8_t)septet_at(&s, i);
	return done(err, s.n);
}

int
smpp_ucs2_from_utf8(const char *in, size_t len, uint8_t *out, size_t cap,
    struct smpp_charset_err *err)
{
	const uint8_t *s = (const uint8_t *)in;
	struct sink o = { out, cap, 0 };
	size_t pos = 0;

	if (len > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	while (pos < len) {
		size_t at = pos;
		int32_t cp = utf8_next(s, len, &pos);
		size_t need;

		if (cp < 0)
			return fail(err, SMPP_CHARSET_BADUTF8, at);
		need = cp > 0xFFFF ? 4 : 2;
		if (out != NULL && cap - o.n < need)
			return fail(err, SMPP_CHARSET_NOSPACE, at);
		if (cp > 0xFFFF) {
			uint32_t v = (uint32_t)cp - 0x10000;
			uint32_t hi = 0xD800 | (v >> 10), lo = 0xDC00 | (v & 0x3FF);

			sink_put(&o, (uint8_t)(hi >> 8));
			sink_put(&o, (uint8_t)hi);
			sink_put(&o, (uint8_t)(lo >> 8));
			sink_put(&o, (uint8_t)lo);
		} else {
			sink_put(&o, (uint8_t)(cp >> 8));
			sink_put(&o, (uint8_t)cp);
		}
	}
	return done(err, o.n);
}

int
smpp_ucs2_to_utf8(const uint8_t *in, size_t len, unsigned flags, char *out,
    size_t cap, struct smpp_charset_err *err)
{
	struct sink o = { (uint8_t *)out, cap, 0 };
	int replace = (flags & SMPP_CHARSET_REPLACE) != 0;

	if (len > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	if (len % 2 != 0 && !replace)
		return fail(err, SMPP_CHARSET_BADINPUT, len - 1);
	for (size_t i = 0; i + 1 < len; i += 2) {
		uint32_t u = (uint32_t)in[i] << 8 | in[i + 1];
		size_t at = i;

		if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len &&
		    in[i + 2] >= 0xDC && in[i + 2] <= 0xDF) {
			uint32_t lo = (uint32_t)in[i + 2] << 8 | in[i + 3];

			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		} else if (u >= 0xD800 && u <= 0xDFFF) {
			if (!replace)
				return fail(err, SMPP_CHARSET_BADINPUT, i);
			u = 0xFFFD;
		}
		if (sink_utf8(&o, u) != 0)
			return fail(err, SMPP_CHARSET_NOSPACE, at);
	}
	/* An odd trailing octet (REPLACE only) is half a character. */
	if (len % 2 != 0 && sink_utf8(&o, 0xFFFD) != 0)
		return fail(err, SMPP_CHARSET_NOSPACE, len - 1);
	return done(err, o.n);
}

int
smpp_latin1_from_utf8(const char *in, size_t len, uint8_t *out, size_t cap,
    struct smpp_charset_err *err)
{
	const uint8_t *s = (const uint8_t *)in;
	struct sink o = { out, cap, 0 };
	size_t pos = 0;

	if (len > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	while (pos < len) {
		size_t at = pos;
		int32_t cp = utf8_next(s, len, &pos);

		if (cp < 0)
			return fail(err, SMPP_CHARSET_BADUTF8, at);
		if (cp > 0xFF)
			return fail(err, SMPP_CHARSET_UNMAPPABLE, at);
		if (sink_put(&o, (uint8_t)cp) != 0)
			return fail(err, SMPP_CHARSET_NOSPACE, at);
	}
	return done(err, o.n);
}

int
smpp_latin1_to_utf8(const uint8_t *in, size_t len, char *out, size_t cap,
    struct smpp_charset_err *err)
{
	struct sink o = { (uint8_t *)out, cap, 0 };

	if (len > SMPP_CHARSET_MAX_IN)
		return fail(err, SMPP_CHARSET_BADINPUT, 0);
	for (size_t i = 0; i < len; i++)
		if (sink_utf8(&o, in[i]) != 0)
			return fail(err, SMPP_CHARSET_NOSPACE, i);
	return done(err, o.n);
}
