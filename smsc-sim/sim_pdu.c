/*
 * The deliver_sm writer: a bounded cursor over the caller's buffer.
 */
#include <string.h>

#include "smpp/build.h"
#include "smpp/proto.h"
#include "sim_pdu.h"

/* A C string of at most max - 1 octets, as a C-Octet string. */
static void
putstr(struct smpp_writer *w, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= max) {
		w->bad = 1;
		return;
	}
	smpp_writer_cstr(w, s ? s : "", n);
}

size_t
sim_build_deliver(uint8_t *buf, size_t cap, const struct sim_deliver *d)
{
	struct smpp_writer w = { buf, 0, cap, 0 };
	uint8_t hdr[SMPP_HEADER_LEN];

	if (d->sm_len > SMPP_SHORT_MESSAGE_MAX || d->n_tlvs > SIM_PDU_MAX_TLVS)
		return 0;
	smpp_build_header(hdr, sizeof(hdr), SMPP_DELIVER_SM, 0, 1);
	smpp_writer_put(&w, hdr, sizeof(hdr));
	smpp_writer_u8(&w, 0);			/* service_type "" */
	smpp_writer_u8(&w, d->src_ton);
	smpp_writer_u8(&w, d->src_npi);
	putstr(&w, d->src, SMPP_ADDR_MAX);
	smpp_writer_u8(&w, d->dst_ton);
	smpp_writer_u8(&w, d->dst_npi);
	putstr(&w, d->dst, SMPP_ADDR_MAX);
	smpp_writer_u8(&w, d->esm_class);
	smpp_writer_u8(&w, 0);			/* protocol_id */
	smpp_writer_u8(&w, 0);			/* priority_flag */
	smpp_writer_u8(&w, 0);			/* schedule_delivery_time */
	smpp_writer_u8(&w, 0);			/* validity_period */
	smpp_writer_u8(&w, 0);			/* registered_delivery */
	smpp_writer_u8(&w, 0);			/* replace_if_present */
	smpp_writer_u8(&w, d->data_coding);
	smpp_writer_u8(&w, 0);			/* sm_default_msg_id */
	smpp_writer_u8(&w, (uint8_t)d->sm_len);
	smpp_writer_put(&w, d->sm, d->sm_len);
	for (size_t i = 0; i < d->n_tlvs; i++) {
		uint8_t th[4];

		smpp_put16(th, d->tlvs[i].tag);
		smpp_put16(th + 2, d->tlvs[i].len);
		smpp_writer_put(&w, th, 4);
		smpp_writer_put(&w, d->tlvs[i].val, d->tlvs[i].len);
	}
	if (w.bad)
		return 0;
	smpp_put32(buf, (uint32_t)w.len);
	return w.len;
}
