/*
 * Bind authentication policy (see auth.h): the per-address failure guard
 * and the cache of recent successful verifications.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "gateway/auth.h"
#include "gateway/hash.h"

#define ADDR_CAP	64
#define PROBE		8

struct guard_slot {
	char		addr[ADDR_CAP];	/* "" = free */
	uint32_t	failures;
	int64_t		first_ms;	/* start of the counting window */
	int64_t		last_ms;
	int64_t		locked_until;
};

struct gw_auth_guard {
	struct guard_slot slots[GW_AUTH_GUARD_SLOTS];
};

struct cache_slot {
	uint8_t		digest[32];
	int64_t		expires;	/* 0 = free */
};

struct gw_auth_cache {
	uint8_t			key[32];
	struct cache_slot	slots[GW_AUTH_CACHE_SLOTS];
};

static uint32_t
hash_str(const char *s)
{
	return gw_fnv1a(GW_FNV1A_INIT, s);
}

struct gw_auth_guard *
gw_auth_guard_new(void)
{
	return calloc(1, sizeof(struct gw_auth_guard));
}

void
gw_auth_guard_free(struct gw_auth_guard *g)
{
	free(g);
}

/* The slot of addr, or (create) a free or the stalest one in its probe
 * range, reset for addr. */
static struct guard_slot *
guard_find(struct gw_auth_guard *g, const char *addr, bool create)
{
	uint32_t h = hash_str(addr);
	struct guard_slot *victim = NULL;

	for (unsigned i = 0; i < PROBE; i++) {
		struct guard_slot *s =
		    &g->slots[(h + i) % GW_AUTH_GUARD_SLOTS];

		if (strcmp(s->addr, addr) == 0)
			return s;
		/* a free slot first, else the one unused for longest */
		if (s->addr[0] == '\0') {
			if (victim == NULL || victim->addr[0] != '\0')
				victim = s;
		} else if (victim == NULL || (victim->addr[0] != '\0' &&
		    s->last_ms < victim->last_ms))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->addr, addr, strnlen(addr, ADDR_CAP - 1));
	return victim;
}

bool
gw_auth_locked(struct gw_auth_guard *g, const struct gw_auth *cfg,
    const char *addr, int64_t now_ms)
{
	struct guard_slot *s;

	if (cfg->lockout_failures == 0)
		return false;
	s = guard_find(g, addr, false);
	return s != NULL && s->locked_until > now_ms;
}

bool
gw_auth_fail(struct gw_auth_guard *g, const struct gw_auth *cfg,
    const char *addr, int64_t now_ms)
{
	struct guard_slot *s = guard_find(g, addr, true);

	s->last_ms = now_ms;
	if (s->failures == 0 ||
	    now_ms - s->first_ms > (int64_t)cfg->lockout_window_ms) {
		s->failures = 0;
		s->first_ms = now_ms;
	}
	s->failures++;
	if (cfg->lockout_failures == 0 || s->failures < cfg->lockout_failures)
		return false;
	/* Locked: the count starts again, so the next lockout needs a full
	 * set of new failures after this one ends. */
	s->locked_until = now_ms + (int64_t)cfg->lockout_ms;
	s->failures = 0;
	return true;
}

void
gw_auth_success(struct gw_auth_guard *g, const char *addr)
{
	struct guard_slot *s = guard_find(g, addr, false);

	if (s != NULL && s->locked_until == 0)
		memset(s, 0, sizeof(*s));
	else if (s != NULL)
		s->failures = 0;
}

struct gw_auth_cache *
gw_auth_cache_new(void)
{
	struct gw_auth_cache *c = calloc(1, sizeof(*c));

	if (c != NULL && RAND_bytes(c->key, sizeof(c->key)) != 1) {
		free(c);
		return NULL;
	}
	return c;
}

void
gw_auth_cache_free(struct gw_auth_cache *c)
{
	if (c == NULL)
		return;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* HMAC-SHA256(key, system_id NUL password NUL hash). */
static void
cache_digest(const struct gw_auth_cache *c, const char *system_id,
    const char *password, const char *hash, uint8_t out[32])
{
	char buf[GW_SYSTEM_ID_SIZE + GW_PASSWORD_SIZE + GW_HASH_SIZE + 3];
	size_t n = 0, l;
	unsigned int outlen = 32;
	const char *parts[3] = { system_id, password, hash };

	for (int i = 0; i < 3; i++) {
		l = strnlen(parts[i], sizeof(buf) - n - 1);
		memcpy(buf + n, parts[i], l);
		n += l;
		buf[n++] = '\0';
		if (n >= sizeof(buf) - 1)
			break;
	}
	if (HMAC(EVP_sha256(), c->key, sizeof(c->key), (const uint8_t *)buf,
	    n, out, &outlen) == NULL)
		memset(out, 0, 32);
	OPENSSL_cleanse(buf, sizeof(buf));
}

void
gw_auth_cache_key(const struct gw_auth_cache *c, const char *system_id,
    const char *password, const char *hash, uint8_t out[32])
{
	cache_digest(c, system_id, password, hash, out);
}

static struct cache_slot *
cache_slot(struct gw_auth_cache *c, const uint8_t d[32])
{
	uint32_t i = ((uint32_t)d[0] << 8 | d[1]) % GW_AUTH_CACHE_SLOTS;

	return &c->slots[i];
}

bool
gw_auth_cache_hit(struct gw_auth_cache *c, const char *system_id,
    const char *password, const char *hash, int64_t now_ms)
{
	uint8_t d[32];
	struct cache_slot *s;
	bool hit;

	cache_digest(c, system_id, password, hash, d);
	s = cache_slot(c, d);
	hit = s->expires > now_ms && CRYPTO_memcmp(s->digest, d, 32) == 0;
	OPENSSL_cleanse(d, sizeof(d));
	return hit;
}

void
gw_auth_cache_put(struct gw_auth_cache *c, const char *system_id,
    const char *password, const char *hash, int64_t now_ms)
{
	uint8_t d[32];
	struct cache_slot *s;

	cache_digest(c, system_id, password, hash, d);
	s = cache_slot(c, d);
	memcpy(s->digest, d, 32);
	s->expires = now_ms + GW_AUTH_CACHE_TTL_MS;
	OPENSSL_cleanse(d, sizeof(d));
}

void
gw_auth_addr_ip(const char *peer, char *out, size_t cap)
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon != NULL ? (size_t)(colon - peer) : strlen(peer);

	if (n > 0 && peer[0] == '[' && peer[n - 1] == ']') {
		peer++;
		n -= 2;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, peer, n);
	out[n] = '\0';
}
