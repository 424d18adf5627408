/*
 * Test helper: canary bytes past an output buffer's capacity, to prove a
 * function never writes beyond the cap it was given. The buffer must be
 * at least cap + CANARY_LEN bytes. Include after <cmocka.h>.
 */
#ifndef TESTS_CANARY_H
#define TESTS_CANARY_H

#include <stdint.h>
#include <string.h>

#define CANARY		0xA5
#define CANARY_LEN	16

static inline void
canary_fill(void *buf, size_t size)
{
	memset(buf, CANARY, size);
}

static inline void
canary_check(const void *buf, size_t cap)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < CANARY_LEN; i++)
		assert_int_equal(p[cap + i], CANARY);
}

#endif
