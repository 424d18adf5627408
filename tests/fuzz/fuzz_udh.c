/*
 * Fuzz target: UDH parsing and the reassembly table. The input is one
 * short_message parsed as a whole, then a sequence of records
 *   [key/expire byte][time step][length][short_message ...]
 * each parsed and, when it carries a concat IE, added to a small table
 * (so that groups complete, collide, overflow and expire). Asserts the
 * bounds the header promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/concat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_udh(const uint8_t *sm, size_t len)
{
	struct smpp_udh u;
	enum smpp_concat_reason why;

	if (smpp_udh_parse(sm, len, &u, &why) == 0) {
		if (u.len < 1 || u.len > len)
			abort();
		if (u.concat && (u.ci.total < 1 || u.ci.seq < 1 ||
		    u.ci.seq > u.ci.total || (!u.ref16 && u.ci.ref > 255)))
			abort();
	} else if (why != SMPP_CONCAT_TRUNCATED && why != SMPP_CONCAT_BADIE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "a", "b", "esme|123|456", "" };
	struct smpp_reasm_limits lim;
	struct smpp_reasm *r;
	struct smpp_reasm_expired x;
	uint64_t now = 0;
	size_t pos = 1;
	uint8_t *out;
	/* 255 parts of at most 64 octets. */
	const size_t cap = 255 * 64;

	check_udh(data, size);
	if (size < 1)
		return 0;
	lim.max_groups = 1 + (data[0] & 3);
	lim.max_bytes = 64u << ((data[0] >> 2) & 7);
	lim.max_part_len = 64;
	lim.timeout = 1 + (data[0] >> 5);
	if ((r = smpp_reasm_new(&lim)) == NULL)
		abort();
	if ((out = malloc(cap)) == NULL)
		abort();
	while (size - pos >= 3) {
		uint8_t kb = data[pos], step = data[pos + 1];
		size_t len = data[pos + 2];
		struct smpp_udh u;
		enum smpp_concat_reason why;
		size_t olen = 0;
		int st;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		now += step;
		if (kb & 0x80)
			while (smpp_reasm_expire(r, now, &x) == 1)
				if (x.received >= x.total ||
				    strlen(x.key) > SMPP_REASM_KEY_MAX)
					abort();
		if (smpp_udh_parse(data + pos, len, &u, NULL) == 0 &&
		    u.concat) {
			st = smpp_reasm_add(r, keys[kb & 3], &u.ci,
			    data + pos + u.len, len - u.len, now, out, cap,
			    &olen, &why);
			if (st == SMPP_REASM_COMPLETE && olen > cap)
				abort();
			if (st < 0 && why == SMPP_CONCAT_OK)
				abort();
		}
		if (smpp_reasm_pending(r) > lim.max_groups ||
		    smpp_reasm_bytes(r) > lim.max_bytes)
			abort();
		pos += len;
	}
	free(out);
	smpp_reasm_free(r);
	return 0;
}
