/*
 * Bind authentication policy, the parts that need no I/O:
 *  - the guard: failed binds counted per source address (the IP, not the
 *    port); lockout_failures within lockout_window lock that address out
 *    for lockout_ms. A bounded table (GW_AUTH_GUARD_SLOTS): under a flood
 *    of addresses the stalest entries are forgotten first.
 *  - the cache: recent successful verifications, keyed by an HMAC (with a
 *    per-process random key) of system_id, password and the stored hash,
 *    so a rebinding ESME does not pay the ~31 ms PBKDF2 again and a
 *    changed hash (reload) misses. Only digests are kept, never passwords.
 * Time is passed in (ms, any monotonic origin) so tests drive it.
 *
 * Return convention: bool answers; constructors return NULL on failure.
 */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"

#define GW_AUTH_GUARD_SLOTS	4096
#define GW_AUTH_CACHE_SLOTS	1024
#define GW_AUTH_CACHE_TTL_MS	(10 * 60 * 1000)

struct gw_auth_guard;
struct gw_auth_cache;

struct gw_auth_guard *gw_auth_guard_new(void);
void gw_auth_guard_free(struct gw_auth_guard *g);
/* Whether addr is locked out now. */
bool gw_auth_locked(struct gw_auth_guard *g, const struct gw_auth *cfg,
    const char *addr, int64_t now_ms);
/* Counts a failure; true when this one starts a lockout. */
bool gw_auth_fail(struct gw_auth_guard *g, const struct gw_auth *cfg,
    const char *addr, int64_t now_ms);
/* A success forgets the address's failures. */
void gw_auth_success(struct gw_auth_guard *g, const char *addr);

struct gw_auth_cache *gw_auth_cache_new(void);
void gw_auth_cache_free(struct gw_auth_cache *c);
bool gw_auth_cache_hit(struct gw_auth_cache *c, const char *system_id,
    const char *password, const char *hash, int64_t now_ms);
void gw_auth_cache_put(struct gw_auth_cache *c, const char *system_id,
    const char *password, const char *hash, int64_t now_ms);

/* The cache's key for these credentials (equal credentials, equal key):
 * lets the daemon run one verification for many identical binds. */
void gw_auth_cache_key(const struct gw_auth_cache *c, const char *system_id,
    const char *password, const char *hash, uint8_t out[32]);

/* "ip" part of "ip:port" / "[v6]:port" into out (for the guard). */
void gw_auth_addr_ip(const char *peer, char *out, size_t cap);

#endif
