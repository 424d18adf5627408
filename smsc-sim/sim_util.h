/*
 * Small helpers shared by the simulator's files: clocks and the fast
 * PRNG. The PRNG (xoshiro-style xorshift128+) is seeded from RAND_bytes
 * once; it only shapes simulated distributions (receipt outcomes and
 * delays, error rates), where speed matters and nothing secret is made.
 */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Copies the C string src into dst (cap > 0 bytes), cut to fit and
 * always NUL-terminated; returns the length copied. The hot paths use it
 * instead of snprintf("%s"), which costs a format parse per call. */
static inline size_t
sim_copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

static inline uint64_t
sim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct sim_rng {
	uint64_t	s[2];
};

/* Seeds from RAND_bytes (a fixed seed if that fails). */
void sim_rng_seed(struct sim_rng *r);

static inline uint64_t
sim_rng_next(struct sim_rng *r)
{
	uint64_t s1 = r->s[0];
	const uint64_t s0 = r->s[1];

	r->s[0] = s0;
	s1 ^= s1 << 23;
	r->s[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return r->s[1] + s0;
}

/* Uniform in [0, n) (n > 0); the tiny modulo bias is irrelevant here. */
static inline uint32_t
sim_rng_below(struct sim_rng *r, uint32_t n)
{
	return (uint32_t)((sim_rng_next(r) >> 32) % n);
}

#endif
