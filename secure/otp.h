/*
 * One-time codes for handset registration (NIST SP 800-63B 3.1.3, OWASP):
 * digits from the CSPRNG without modulo bias, stored only as an
 * HMAC-SHA256 under a server secret, compared in constant time; and the
 * in-memory send quotas that stop SMS pumping (per MSISDN and per client
 * address, sliding windows).
 *
 * Pure functions except the quota table (owned by the caller, loop thread
 * only). The server secret: 32 bytes in a 0600 file (made on first start,
 * beside the vault keys). Return convention: 0, or -1.
 */
#ifndef SEC_OTP_H
#define SEC_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEC_OTP_MIN_DIGITS	6
#define SEC_OTP_MAX_DIGITS	10
#define SEC_OTP_HMAC_LEN	32
#define SEC_OTP_SECRET_LEN	32

/* A code of digits (6..10) decimal digits into buf (>= digits + 1):
 * uniform, by rejection sampling of RAND_bytes. -1 if the RNG failed. */
int sec_otp_generate(unsigned digits, char *buf, size_t cap);

/* True when code is digits-only and of length min..max. */
bool sec_otp_well_formed(const char *code, unsigned min, unsigned max);

/* HMAC-SHA256(secret, rid "|" code) into mac. Binding the registration
 * id keeps one registration's code from matching another's. */
int sec_otp_mac(const uint8_t secret[SEC_OTP_SECRET_LEN], const char *rid,
    const char *code, uint8_t mac[SEC_OTP_HMAC_LEN]);
/* Constant-time: true when code's MAC equals want. */
bool sec_otp_check(const uint8_t secret[SEC_OTP_SECRET_LEN],
    const char *rid, const char *code,
    const uint8_t want[SEC_OTP_HMAC_LEN]);

/* Loads the server secret from path (0600 checked, like the key ring),
 * making it when absent. 0, or -1 with a reason in err. */
int sec_otp_secret_load(const char *path,
    uint8_t secret[SEC_OTP_SECRET_LEN], char *err, size_t errlen);

/*
 * Send quotas: at most `limit` events per key within `window_s`
 * seconds (a sliding log of timestamps per key, bounded in keys: the
 * least recently used key is forgotten beyond max_keys).
 */
struct sec_quota;
struct sec_quota *sec_quota_new(unsigned limit, unsigned window_s,
    size_t max_keys);
void sec_quota_free(struct sec_quota *q);
/* Records one event for key at now_ms if the quota allows it: true.
 * False: refused, *retry_after_s set to when the oldest event leaves. */
bool sec_quota_take(struct sec_quota *q, const char *key, int64_t now_ms,
    unsigned *retry_after_s);

#endif
