/*
 * deliver_sm built straight into bytes, for receipts and MO: the hot path
 * of receipts never goes through libsmpp34. The session rewrites the
 * sequence number (smpp_session_send_raw).
 */
#ifndef SIM_PDU_H
#define SIM_PDU_H

#include <stddef.h>
#include <stdint.h>

#define SIM_PDU_MAX_TLVS	8

struct sim_tlv {
	uint16_t	 tag;
	uint16_t	 len;
	const void	*val;
};

struct sim_deliver {
	uint8_t		 src_ton, src_npi;
	const char	*src;		/* C string, at most 20 octets */
	uint8_t		 dst_ton, dst_npi;
	const char	*dst;
	uint8_t		 esm_class;
	uint8_t		 data_coding;
	const uint8_t	*sm;
	size_t		 sm_len;	/* at most 254 */
	size_t		 n_tlvs;
	struct sim_tlv	 tlvs[SIM_PDU_MAX_TLVS];
};

/* Writes the PDU into buf; returns its length, or 0 when a field is too
 * long or cap too small. */
size_t sim_build_deliver(uint8_t *buf, size_t cap, const struct sim_deliver *d);

#endif
