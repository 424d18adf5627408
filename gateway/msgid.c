/*
 * Gateway message id generator (see msgid.h for the layout and why).
 * Pure functions of their state and the clock given: unit-tested in
 * tests/unit/test_gw_msgid.c.
 */
#include <stdio.h>
#include <inttypes.h>

#include "gateway/msgid.h"

#define COUNT_MAX	(1u << GW_MSGID_COUNT_BITS)
#define TIME_MASK	((UINT64_C(1) << GW_MSGID_TIME_BITS) - 1)

void
gw_msgid_init(struct gw_msgid_gen *g, uint16_t instance)
{
	g->instance = instance;
	g->last_ms = -1;
	g->count = 0;
}

uint64_t
gw_msgid_next(struct gw_msgid_gen *g, int64_t now_ms)
{
	int64_t ms = now_ms - GW_MSGID_EPOCH_MS;

	if (ms < 0)
		ms = 0;
	/* The logical clock only moves forward: a wall clock stepped back
	 * keeps using (and borrowing past) the last millisecond. */
	if (ms > g->last_ms) {
		g->last_ms = ms;
		g->count = 0;
	} else if (g->count >= COUNT_MAX) {
		g->last_ms++;
		g->count = 0;
	}
	return ((uint64_t)g->instance << (GW_MSGID_TIME_BITS +
	    GW_MSGID_COUNT_BITS)) |
	    (((uint64_t)g->last_ms & TIME_MASK) << GW_MSGID_COUNT_BITS) |
	    g->count++;
}

int
gw_msgid_format(uint64_t value, enum gw_msgid_format fmt, char *out,
    size_t cap)
{
	int n;

	if (fmt == GW_MSGID_DECIMAL)
		n = snprintf(out, cap, "%" PRIu64, value);
	else
		n = snprintf(out, cap, "%" PRIx64, value);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}
