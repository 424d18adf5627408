/*
 * Receipts from SMSCs: deliver_sm with esm_class receipt (or intermediate
 * notification) and data_sm carrying receipted_message_id, from any
 * session of a link. The SMSC id (the receipted_message_id TLV, else the
 * text's id:) is looked up by (link, id), tolerant of hex/decimal/case
 * (db/store.h) under the link's smsc name (links to one SMSC share it);
 * a mapping this process wrote moments ago is taken from memory instead
 * (gateway/rcache.h). Because a storage lookup is queued after the
 * mapping's commit, a receipt meeting a mapping still being written waits
 * for that commit, and the ESME's submit_sm_resp is queued to its session
 * in the commit's callback before either goes on, a receipt never
 * overtakes its response on the same session; on another session it
 * waits until that response is written (gateway/deliver.h).
 * A receipt found nowhere (the
 * response is still on its way on a sibling session) is looked up again
 * a few times before it is given up (answered ROK, counted, logged).
 * The text's id: and the receipted_message_id TLV are rewritten to the
 * gateway id; every other byte stays. Other deliver_sm go to gateway/mo.
 */
#ifndef GW_DLR_H
#define GW_DLR_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/downstream.h"
#include "smpp/scan.h"

void gw_dlr_from_smsc(struct gw_dsess *d, struct smpp_session *s,
    const struct smpp_scan *req);

/*
 * Writes req (scanned from raw) with the receipt id replaced by new_id:
 * the id: in the text (short_message, or message_payload when the text is
 * empty) and the receipted_message_id TLV. Returns the new length, or -1
 * if it does not fit cap or the new text would exceed 254 octets.
 */
int gw_dlr_rewrite_pdu(const struct smpp_scan *req, const char *new_id,
    uint8_t *out, size_t cap);

/* The SMSC id of a receipt into out (C string); 0, or -1 if none. */
int gw_dlr_smsc_id(const struct smpp_scan *req, char *out, size_t cap);

#endif
