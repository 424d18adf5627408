/*
 * Internal to sg_secure_crypto: the one AES-256-GCM routine that the
 * envelope (body and ECDH wraps) and the key ring (vault wraps) share, so
 * there is one place that sets the tag before DecryptFinal and wipes a
 * failed open. Not part of the contract; other modules use envelope.h.
 */
#ifndef SEC_AEAD_INT_H
#define SEC_AEAD_INT_H

#include <stddef.h>
#include <stdint.h>

/* ct (len + 16 bytes) = AES-256-GCM(key, nonce, pt, aad) || tag.
 * SEC_ENV_OK or SEC_ENV_EINTERNAL. */
int sec_aead_seal(const uint8_t key[32], const uint8_t nonce[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
    uint8_t *ct);
/* pt (ct_len - 16 bytes) from ct || tag; SEC_ENV_EOPEN (pt wiped) when
 * the tag does not verify or ct_len < 16. */
int sec_aead_open(const uint8_t key[32], const uint8_t nonce[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
    uint8_t *pt);

#endif
