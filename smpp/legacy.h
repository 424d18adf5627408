/*
 * Deliveries for SMPP 3.3 peers. An ESME that binds with an
 * interface_version below 0x34 knows neither optional parameters nor
 * data_sm (both are new in 3.4, see 5.2.4): what an SMSC sends as a
 * deliver_sm with TLVs, or as a data_sm, reaches it as the plain
 * deliver_sm it knows. What the TLVs carried moves into the mandatory
 * fields where 3.3 has a place for it:
 *   - message_payload becomes the short_message (when short_message is
 *     empty);
 *   - the sar_* TLVs become a concatenation UDH at the front of the
 *     short_message, with UDHI set (IEI 0x00, or 0x08 for a reference
 *     over 255), unless the message has a UDH already;
 *   - a receipt without text gets the Appendix B text made from
 *     receipted_message_id, message_state and network_error_code;
 *   - a data_sm receipt gets the esm_class of a delivery receipt.
 * The other TLVs are left out: a 3.3 peer could not read them.
 *
 * Pure functions; buffers belong to the caller.
 */
#ifndef SMPP_LEGACY_H
#define SMPP_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"

/* Room for any deliver_sm this writes. */
#define SMPP_LEGACY_MAX	400

enum smpp_legacy_reason {
	SMPP_LEGACY_OK = 0,
	SMPP_LEGACY_NOTDELIVERY,	/* neither deliver_sm nor data_sm */
	SMPP_LEGACY_TOOLONG,	/* the text is over 254 octets */
	SMPP_LEGACY_LONGADDR,	/* a data_sm address over 20 octets */
	SMPP_LEGACY_NOSPACE,	/* cap too small */
	SMPP_LEGACY_TWOTEXTS,	/* short_message and message_payload both */
};

/* Never NULL. */
const char *smpp_legacy_strerror(enum smpp_legacy_reason why);

/*
 * Writes the 3.3 form of a scanned deliver_sm or data_sm into out (same
 * sequence number). Returns its length, or -1 with *why set (why may be
 * NULL): then nothing usable is in out, and the caller decides (the PDU
 * cannot be said in 3.3 without losing part of it).
 */
int smpp_legacy_deliver(const struct smpp_scan *in, uint8_t *out,
    size_t cap, enum smpp_legacy_reason *why);

#endif
