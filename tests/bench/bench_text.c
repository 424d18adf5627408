/*
 * Benchmark: the text codecs on one core. UTF-8 -> GSM 7 unpacked ->
 * packed for a 160-character text, the reverse decode, and the split of
 * a 1000-character text into UDH parts. Prints operations per second as
 * the median of several timed rounds of a fixed number of iterations.
 * Usage: bench_text [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "smpp/charset.h"
#include "smpp/concat.h"

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	const long iters = 500000, split_iters = 200000;
	double enc_rate[32], dec_rate[32], split_rate[32];
	/* 160 characters, some of them escapes or non-ASCII (157 + 3). */
	const char *line = "Your code is 4711. Valid 5 min. Don't share it: "
	    "we never ask for it. Gr\xC3\xBC\xC3\x9F" "e aus M\xC3\xBC" "nchen "
	    "[info] \xE2\x82\xAC" "5 credit {promo}. Reply STOP to opt out. "
	    "Thanks for shopping";
	uint8_t sept[400], packed[400];
	char utf8[800];
	static uint8_t long_sept[1200];
	struct smpp_concat_part parts[16];
	size_t llen;
	int ns, np;
	volatile long sink = 0;

	if (rounds < 1 || rounds > 32)
		rounds = 5;
	ns = smpp_gsm7_from_utf8(line, strlen(line), sept, sizeof(sept), NULL);
	np = smpp_gsm7_pack(sept, (size_t)ns, 0, packed, sizeof(packed), NULL);
	if (ns < 0 || np < 0)
		return 1;
	for (llen = 0; llen < 1000; llen++)
		long_sept[llen] = (uint8_t)('a' + llen % 26);
	long_sept[152] = 0x1B;	/* an escape pair on a part boundary */
	long_sept[153] = 0x65;

	for (int r = 0; r < rounds; r++) {
		double t0 = bench_now_s();

		for (long i = 0; i < iters; i++) {
			int a = smpp_gsm7_from_utf8(line, strlen(line), sept,
			    sizeof(sept), NULL);
			int b = smpp_gsm7_pack(sept, (size_t)a, 0, packed,
			    sizeof(packed), NULL);

			sink += b;
		}
		enc_rate[r] = (double)iters / (bench_now_s() - t0);

		t0 = bench_now_s();
		for (long i = 0; i < iters; i++)
			sink += smpp_gsm7_packed_to_utf8(packed, (size_t)np, 0,
			    SMPP_GSM7_AUTO, 0, utf8, sizeof(utf8), NULL);
		dec_rate[r] = (double)iters / (bench_now_s() - t0);

		t0 = bench_now_s();
		for (long i = 0; i < split_iters; i++)
			sink += smpp_concat_split(SMPP_TEXT_GSM7, long_sept,
			    llen, SMPP_CONCAT_UDH8, parts, 16, NULL);
		split_rate[r] = (double)split_iters / (bench_now_s() - t0);
	}
	printf("text: %d septets (%d packed octets), %d rounds\n", ns, np,
	    rounds);
	printf("gsm7 encode+pack 160 chars  %12.0f ops/s\n",
	    bench_median(enc_rate, rounds));
	printf("gsm7 unpack+decode 160 chars %11.0f ops/s\n",
	    bench_median(dec_rate, rounds));
	printf("split 1000 septets (UDH8)   %12.0f ops/s\n",
	    bench_median(split_rate, rounds));
	return sink == 0;
}
