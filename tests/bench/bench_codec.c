/*
 * Benchmark: the validating scan of a submit_sm with TLVs, and the full
 * decode + encode through the libsmpp34 wrapper, on one core. Prints
 * PDUs per second for each, as the median of several timed rounds.
 * Bounded: a fixed number of iterations per round.
 * Usage: bench_codec [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "smpp/pdu.h"
#include "smpp/scan.h"
#include "../unit/pdubuf.h"

static struct pdubuf pb;

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	const long scan_iters = 4000000, codec_iters = 200000;
	double scan_rate[32], codec_rate[32];
	struct smpp_limits lim;
	static uint8_t out[4096];
	const char *text = "Your parcel 4711 arrives today between 10:00 and "
	    "12:00. Reply STOP to opt out. Thanks for shopping with us!";
	volatile unsigned sink = 0;

	if (rounds < 1 || rounds > 32)
		rounds = 5;
	smpp_limits_default(&lim);
	pb_start(&pb, SMPP_SUBMIT_SM, 0, 1);
	pb_sm_body(&pb, "", 1, 1, "4930123", 1, 1, "491701234567", 0, 1, 0,
	    text, (uint8_t)strlen(text));
	pb_tlv(&pb, SMPP_TLV_USER_MESSAGE_REFERENCE, "\x00\x07", 2);
	pb_tlv(&pb, 0x1501, "\x01", 1);
	pb_tlv(&pb, SMPP_TLV_SOURCE_PORT, "\x0b\x84", 2);
	pb_end(&pb);

	for (int r = 0; r < rounds; r++) {
		struct smpp_scan sc;
		uint32_t st;
		double t0 = bench_now_s();

		for (long i = 0; i < scan_iters; i++) {
			if (smpp_scan(pb.b, pb.n, &lim, &sc, &st) != 0)
				return 1;
			sink += sc.n_tlvs;
		}
		scan_rate[r] = (double)scan_iters / (bench_now_s() - t0);

		t0 = bench_now_s();
		for (long i = 0; i < codec_iters; i++) {
			struct smpp_pdu pdu;
			size_t n;

			if (smpp_pdu_decode(pb.b, pb.n, &lim, &pdu, &st) != 0 ||
			    smpp_pdu_encode(&pdu, out, sizeof(out), &n) != 0)
				return 1;
			sink += (unsigned)n;
			smpp_pdu_clear(&pdu);
		}
		codec_rate[r] = (double)codec_iters / (bench_now_s() - t0);
	}
	printf("pdu size: %zu octets, %d rounds\n", pb.n, rounds);
	printf("scan submit_sm+3 TLVs: median %.0f PDU/s\n",
	    bench_median(scan_rate, rounds));
	printf("decode+encode (libsmpp34 wrapper): median %.0f PDU/s\n",
	    bench_median(codec_rate, rounds));
	(void)sink;
	return 0;
}
