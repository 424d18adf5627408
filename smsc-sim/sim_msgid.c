/*
 * Message id formatting: one switch per format, digits written by hand
 * from the right so that the hot path makes no snprintf call.
 */
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
