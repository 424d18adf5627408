/*
 * Fuzz target: GSM 7-bit decoding and the UTF-8 round trip. The first
 * octet picks fill bits and a septet count; the rest is read as unpacked
 * septets, as packed septets, and as UTF-8 text. Properties: decoders
 * never overrun and always give valid UTF-8; whatever encodes to GSM 7
 * decodes back to the same bytes (unpacked and packed), and whatever
 * smpp_text_encode() makes, smpp_text_decode() turns back into the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/charset.h"
#include "smpp/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded text is strict UTF-8, and measuring agrees with writing. */
static void
check_utf8(const char *u, int n, int measured)
{
	if (n < 0)
		return;
	if (n != measured || smpp_text_utf8_check(u, (size_t)n, NULL) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned fill, flags;
	size_t nsept, len, cap;
	const uint8_t *in;
	char *u;
	uint8_t *sept, *packed, *back;
	int n, m;

	if (size < 1 || size > 4096)
		return 0;
	fill = data[0] % 7;
	flags = (data[0] & 0x80) ? SMPP_CHARSET_REPLACE : 0;
	in = data + 1;
	len = size - 1;
	nsept = (data[0] & 0x08) ? SMPP_GSM7_AUTO : len * 8 / 7 / 2;
	/* Room for the worst case: 4 UTF-8 octets per input octet. */
	cap = 4 * len + 8;
	u = malloc(cap);
	sept = malloc(cap);
	packed = malloc(cap);
	back = malloc(cap);
	if (u == NULL || sept == NULL || packed == NULL || back == NULL)
		abort();

	/* Unpacked and packed decoding of outside bytes. */
	n = smpp_gsm7_to_utf8(in, len, flags, u, cap, NULL);
	check_utf8(u, n, smpp_gsm7_to_utf8(in, len, flags, NULL, 0, NULL));
	n = smpp_gsm7_packed_to_utf8(in, len, fill, nsept, flags, u, cap,
	    NULL);
	check_utf8(u, n, smpp_gsm7_packed_to_utf8(in, len, fill, nsept, flags,
	    NULL, 0, NULL));
	/* Small buffers: never past cap (ASan watches the malloc'd end). */
	if (len > 0) {
		char *tiny = malloc(len / 2 + 1);

		if (tiny == NULL)
			abort();
		(void)smpp_gsm7_to_utf8(in, len, flags, tiny, len / 2 + 1,
		    NULL);
		(void)smpp_ucs2_to_utf8(in, len, flags, tiny, len / 2 + 1,
		    NULL);
		free(tiny);
	}

	/* Unpack then pack: the septets survive. */
	n = smpp_gsm7_unpack(in, len, fill, SMPP_GSM7_AUTO, sept, cap, NULL);
	if (n > 0) {
		m = smpp_gsm7_pack(sept, (size_t)n, fill, packed, cap, NULL);
		if (m < 0 || smpp_gsm7_unpack(packed, (size_t)m, fill,
		    (size_t)n, back, cap, NULL) != n ||
		    memcmp(back, sept, (size_t)n) != 0)
			abort();
	}

	/* UTF-8 -> GSM 7 -> UTF-8, when the text is encodable. */
	n = smpp_gsm7_from_utf8((const char *)in, len, sept, cap, NULL);
	if (n >= 0) {
		if (smpp_gsm7_count((const char *)in, len, NULL) != n)
			abort();
		m = smpp_gsm7_to_utf8(sept, (size_t)n, 0, u, cap, NULL);
		if (m != (int)len || memcmp(u, in, len) != 0)
			abort();
		m = smpp_gsm7_pack(sept, (size_t)n, fill, packed, cap, NULL);
		if (m < 0)
			abort();
		m = smpp_gsm7_packed_to_utf8(packed, (size_t)m, fill,
		    (size_t)n, 0, u, cap, NULL);
		if (m != (int)len || memcmp(u, in, len) != 0)
			abort();
	}

	/* Whatever encoding is chosen decodes back to the input. */
	{
		enum smpp_text_enc enc;
		unsigned tf = (data[0] & 0x40) ? SMPP_TEXT_ALLOW_LATIN1 : 0;

		n = smpp_text_encode((const char *)in, len, tf, packed, cap,
		    &enc, NULL);
		if (n >= 0) {
			m = smpp_text_decode(smpp_text_enc_dcs(enc), packed,
			    (size_t)n, NULL, u, cap, NULL);
			if (m != (int)len || memcmp(u, in, len) != 0)
				abort();
		} else if (smpp_text_utf8_check((const char *)in, len, NULL)
		    == 0)
			abort();	/* valid UTF-8 always encodes */
	}
	free(u);
	free(sept);
	free(packed);
	free(back);
	return 0;
}
