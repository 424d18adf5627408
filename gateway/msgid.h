/*
 * Gateway message ids: the id an ESME gets in submit_sm_resp and finds
 * again in its receipts. Unique across instances and restarts without any
 * coordination: a 63-bit number made of
 *   instance id (16 bits) | milliseconds since 2024-01-01 (40 bits,
 *   until 2058) | counter within that millisecond (7 bits)
 * so hex ids stay below 2^63 (Kannel reads them as a signed 64-bit
 * integer). Above 128 ids in one millisecond the generator borrows the
 * next millisecond (its clock runs ahead of the wall clock for a moment);
 * it never goes backwards when the wall clock does. A restart reuses no
 * id unless the previous run was ahead of the wall clock by more than the
 * restart took (it would take > 128,000 msg/s sustained for that long).
 *
 * Return convention: gw_msgid_format returns the length written or -1.
 */
#ifndef GW_MSGID_H
#define GW_MSGID_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"

#define GW_MSGID_EPOCH_MS	1704067200000LL	/* 2024-01-01T00:00:00Z */
#define GW_MSGID_TIME_BITS	40
#define GW_MSGID_COUNT_BITS	7
#define GW_MSGID_MAX_LEN	20	/* 19 decimal digits and a NUL */

struct gw_msgid_gen {
	uint16_t	instance;
	int64_t		last_ms;	/* logical ms since the epoch */
	uint32_t	count;		/* ids minted in last_ms */
};

void gw_msgid_init(struct gw_msgid_gen *g, uint16_t instance);
/* The next id's value for the wall clock now_ms (Unix ms). */
uint64_t gw_msgid_next(struct gw_msgid_gen *g, int64_t now_ms);
/* Writes value in fmt (hex: lower case, no leading zeros) into out. */
int gw_msgid_format(uint64_t value, enum gw_msgid_format fmt, char *out,
    size_t cap);

#endif
