/*
 * The gateway's side of the secure service (secure/secure.h): making it
 * after the store, the hooks it reaches the gateway through (an SMS sent
 * downstream like an ESME's submit, a deliver_sm handed to an account's
 * delivery path), the handset API listener, and freeing it after the
 * store closed (the store's last callbacks may still reach the service).
 *
 * Return convention: 0 / -1 (logged, with the reason: a vault key file
 * with the wrong mode is named).
 */
#ifndef GW_SECURE_GLUE_H
#define GW_SECURE_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/ctx.h"

/* Makes ctx->sec when cfg secure.enabled (else leaves it NULL) and
 * starts the handset API when listeners.handset_api is enabled. */
int gw_secure_start(struct gw_ctx *ctx);
/* Frees ctx->sec (after db_store_close). */
void gw_secure_free(struct gw_ctx *ctx);

/*
 * The submit_sm PDUs of an SMS from the gateway itself: text (UTF-8) in
 * GSM 7 (unpacked, data_coding 0) when every character allows, else
 * UCS-2, split with an 8-bit-reference UDH when it needs more than one
 * part (ref). Each PDU is malloc'd into pdus[i] with lens[i]; returns
 * the count (1..max), or -1.
 */
int gw_secure_sms_pdus(const char *source, const char *dest,
    const char *text, uint8_t ref, uint8_t **pdus, size_t *lens,
    size_t max);

#endif
