/*
 * MO (mobile originated) deliver_sm and data_sm from SMSCs: routed by
 * destination prefix (a short code) and an optional first word of the
 * text to an account, then delivered like receipts (gateway/deliver.h):
 * straight to a bound receiver, else queued durably. The PDU goes up
 * unchanged (to an ESME bound as SMPP 3.3, in 3.3 form: upstream.h). No
 * MO route: answered ESME_RINVDSTADR.
 */
#ifndef GW_MO_H
#define GW_MO_H

#include <stddef.h>

#include "gateway/downstream.h"
#include "smpp/scan.h"

void gw_mo_from_smsc(struct gw_dsess *d, struct smpp_session *s,
    const struct smpp_scan *req);

/* The MO route for dest and text (len octets), or -1: the longest
 * prefix wins, and at equal length a keyword route that matches beats
 * one without a keyword. */
long gw_mo_match(const struct gw_config *cfg, const char *dest,
    const uint8_t *text, size_t len);

#endif
