/*
 * The vault's key ring: key-encryption keys (KEKs) that wrap the data
 * key of a secure message while its recipient has no device yet. Keys
 * live in one directory, one file per key, "<kid>.key" holding 32 random
 * bytes as base64 on one line; kid is "k" + the UTC creation time
 * "YYYYMMDDThhmmssZ" + "-" + 4 random hex digits, so names sort by age.
 * The directory must be 0700 and every key file 0600, owned by the
 * running user: anything wider is refused (the daemon does not start).
 * The newest key wraps; older ones only unwrap; sec_keyring_rewrap()
 * moves a record to the newest key without touching the message body.
 *
 * Ownership: the ring owns its key bytes and wipes them in
 * sec_keyring_free(). Thread-safe for reads after load.
 * Return convention: 0, or -1 with a reason in err (never key bytes).
 */
#ifndef SEC_KEYRING_H
#define SEC_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "secure/envelope.h"

#define SEC_KID_MAX	40

struct sec_keyring;

/* Loads every *.key in dir. A missing or empty dir with create_if_empty
 * set: makes the dir (0700) and a first key. Errors: unreadable dir,
 * wrong permissions or owner (named: "var/vault/k...key: mode 0644, want
 * 0600"), a malformed key file. */
struct sec_keyring *sec_keyring_load(const char *dir, int create_if_empty,
    char *err, size_t errlen);
void sec_keyring_free(struct sec_keyring *r);

/* Makes a new key file in dir (it becomes the newest), writes its kid
 * into kid (SEC_KID_MAX + 1). For `sealgate keys new`. */
int sec_keyring_new_key(const char *dir, char *kid, char *err,
    size_t errlen);

/* The newest kid, and how many keys there are. */
const char *sec_keyring_current(const struct sec_keyring *r);
size_t sec_keyring_count(const struct sec_keyring *r);

/* A vault-wrapped DEK: AES-256-GCM under the KEK, AAD
 * "sealgate/v1/vault|" + kid + "|" + id + "|" + msisdn. */
struct sec_vault_wrap {
	char	kid[SEC_KID_MAX + 1];
	uint8_t	nonce[SEC_NONCE_LEN];
	uint8_t	wrapped[SEC_DEK_LEN + SEC_TAG_LEN];
};
int sec_keyring_wrap(const struct sec_keyring *r, const char *id,
    const char *msisdn, const uint8_t dek[SEC_DEK_LEN],
    struct sec_vault_wrap *out);
/* -1 when the kid is unknown or the record does not open (dek wiped). */
int sec_keyring_unwrap(const struct sec_keyring *r, const char *id,
    const char *msisdn, const struct sec_vault_wrap *w,
    uint8_t dek[SEC_DEK_LEN]);
/* Re-wraps w under the newest key in place (no-op returning 0 when it
 * already is); the DEK is wiped before returning. */
int sec_keyring_rewrap(const struct sec_keyring *r, const char *id,
    const char *msisdn, struct sec_vault_wrap *w);

#endif
