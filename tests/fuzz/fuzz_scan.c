/*
 * Fuzz target: raw bytes as one PDU through the scanner and the full
 * decode (libsmpp34 behind our checks); what decodes must encode, and
 * encoding must be stable: decode(encode(x)) encodes to the same bytes.
 * A delivery that scans is also written in its SMPP 3.3 form, which must
 * scan again as a deliver_sm without TLVs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/legacy.h"
#include "smpp/pdu.h"
#include "smpp/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
legacy_form(const struct smpp_scan *sc, const struct smpp_limits *lim)
{
	uint8_t out[SMPP_LEGACY_MAX];
	struct smpp_scan again;
	uint32_t st;
	int n;

	if (sc->hdr.id != SMPP_DELIVER_SM && sc->hdr.id != SMPP_DATA_SM)
		return;
	if ((n = smpp_legacy_deliver(sc, out, sizeof(out), NULL)) < 0)
		return;
	if (smpp_scan(out, (size_t)n, lim, &again, &st) != 0 ||
	    again.hdr.id != SMPP_DELIVER_SM || again.n_tlvs != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out1[80000], out2[80000];
	struct smpp_limits lim;
	struct smpp_scan sc;
	struct smpp_pdu pdu, again;
	uint32_t st;
	size_t n1, n2;

	smpp_limits_default(&lim);
	/* Let the input's own length field be right most of the time. */
	if (size >= 16 && (data[0] & 1)) {
		uint8_t *copy = malloc(size);

		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		copy[0] = (uint8_t)(size >> 24);
		copy[1] = (uint8_t)(size >> 16);
		copy[2] = (uint8_t)(size >> 8);
		copy[3] = (uint8_t)size;
		if (smpp_scan(copy, size, &lim, &sc, &st) == 0)
			legacy_form(&sc, &lim);
		if (smpp_pdu_decode(copy, size, &lim, &pdu, &st) == 0) {
			if (smpp_pdu_encode(&pdu, out1, sizeof(out1), &n1) == 0) {
				if (smpp_pdu_decode(out1, n1, &lim, &again,
				    &st) != 0)
					abort();
				if (smpp_pdu_encode(&again, out2, sizeof(out2),
				    &n2) != 0 || n1 != n2 ||
				    memcmp(out1, out2, n1) != 0)
					abort();
				smpp_pdu_clear(&again);
			}
			smpp_pdu_clear(&pdu);
		}
		free(copy);
		return 0;
	}
	if (smpp_scan(data, size, &lim, &sc, &st) == 0)
		legacy_form(&sc, &lim);
	if (smpp_pdu_decode(data, size, &lim, &pdu, &st) == 0)
		smpp_pdu_clear(&pdu);
	return 0;
}
