/*
 * FNV-1a over C strings, for the gateway's small in-memory tables (auth
 * failure counters, receipt hints, recent mappings) and the default
 * instance id. Not for anything an attacker may aim collisions at where
 * that matters: callers bound their tables and compare full keys.
 */
#ifndef GW_HASH_H
#define GW_HASH_H

#include <stdint.h>

#define GW_FNV1A_INIT	2166136261u

/* Continues hash h over the bytes of s (up to its NUL). */
static inline uint32_t
gw_fnv1a(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

#endif
