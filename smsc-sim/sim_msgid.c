/*
 * Message id formatting: one switch per format, digits written by hand
 * from the right so that the hot path makes no snprintf call. Reading an
 * id back (cancel_sm, replace_sm) is rare: strtoull, then a check that
 * formatting gives the same bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_msgid.h"

static const char *const fmt_names[] = {
	[SIM_ID_DECIMAL] = "decimal",
	[SIM_ID_HEX] = "hex",
	[SIM_ID_HEX_UPPER] = "HEX",
	[SIM_ID_UUID] = "uuid",
	[SIM_ID_DIGITS10] = "digits10",
	[SIM_ID_DIGITS20] = "digits20",
};

int
sim_msgid_parse_fmt(const char *name)
{
	for (size_t i = 0; i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++)
		if (strcmp(name, fmt_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
sim_msgid_fmt_name(enum sim_msgid_fmt f)
{
	if ((size_t)f < sizeof(fmt_names) / sizeof(fmt_names[0]))
		return fmt_names[f];
	return "unknown";
}

/* Writes exactly width digits of v in base (10 or 16) at p. */
static void
put_digits(char *p, size_t width, uint64_t v, unsigned base, int upper)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = width; i > 0; i--) {
		p[i - 1] = dig[v % base];
		v /= base;
	}
}

/* Digits of v in base, at least min of them. */
static size_t
put_number(char *p, uint64_t v, unsigned base, int upper, size_t min)
{
	size_t w = 1;
	uint64_t t = v;

	while (t >= base) {
		t /= base;
		w++;
	}
	if (w < min)
		w = min;
	put_digits(p, w, v, base, upper);
	p[w] = '\0';
	return w;
}

size_t
sim_msgid_format(enum sim_msgid_fmt f, uint64_t n, uint64_t salt, char *buf)
{
	switch (f) {
	case SIM_ID_HEX:
		return put_number(buf, n, 16, 0, 8);
	case SIM_ID_HEX_UPPER:
		return put_number(buf, n, 16, 1, 8);
	case SIM_ID_UUID:
		/* salt (random per run) in the first 64 bits, version 4 and
		 * variant 10 bits set, the counter in the last 48. */
		put_digits(buf, 8, salt >> 32, 16, 0);
		buf[8] = '-';
		put_digits(buf + 9, 4, (salt >> 16) & 0xffff, 16, 0);
		buf[13] = '-';
		put_digits(buf + 14, 4, 0x4000 | (salt & 0x0fff), 16, 0);
		buf[18] = '-';
		put_digits(buf + 19, 4, 0x8000 | ((n >> 48) & 0x3fff), 16, 0);
		buf[23] = '-';
		put_digits(buf + 24, 12, n & 0xffffffffffffULL, 16, 0);
		buf[36] = '\0';
		return 36;
	case SIM_ID_DIGITS10:
		put_digits(buf, 10, n % 10000000000ULL, 10, 0);
		buf[10] = '\0';
		return 10;
	case SIM_ID_DIGITS20:
		put_digits(buf, 20, n, 10, 0);
		buf[20] = '\0';
		return 20;
	case SIM_ID_DECIMAL:
	default:
		return put_number(buf, n, 10, 0, 1);
	}
}

int
sim_msgid_read(enum sim_msgid_fmt f, const char *id, size_t len,
    uint64_t salt, uint64_t *n)
{
	char copy[SIM_MSGID_MAX], again[SIM_MSGID_MAX];
	unsigned long long v, hi;
	char *end;

	if (len == 0 || len >= sizeof(copy))
		return -1;
	memcpy(copy, id, len);
	copy[len] = '\0';
	errno = 0;
	if (f == SIM_ID_UUID) {
		/* the counter: 14 bits of the 4th group, all of the 5th */
		if (len != 36)
			return -1;
		copy[23] = '\0';
		hi = strtoull(copy + 19, &end, 16);
		v = strtoull(copy + 24, NULL, 16);
		v |= (hi & 0x3fff) << 48;
	} else
		v = strtoull(copy, &end, f == SIM_ID_HEX ||
		    f == SIM_ID_HEX_UPPER ? 16 : 10);
	if (errno != 0 || !isxdigit((unsigned char)copy[0]))
		return -1;
	/* whatever strtoull let through (signs, spaces, other widths):
	 * only an id this format really writes is one of ours */
	if (sim_msgid_format(f, v, salt, again) != len ||
	    memcmp(again, id, len) != 0)
		return -1;
	*n = v;
	return 0;
}
