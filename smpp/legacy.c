/*
 * The 3.3 form of a delivery: one deliver_sm without optional parameters,
 * written field by field through a bounded cursor from a scanned PDU (the
 * scanner has already checked every length this reads).
 */
#include <stdio.h>
#include <string.h>

#include "build.h"
#include "concat.h"
#include "dlr.h"
#include "legacy.h"
#include "proto.h"

/* A C-Octet string from the scan view (len excludes the NUL). */
static void
put_cstr(struct smpp_writer *w, const struct smpp_str *s)
{
	smpp_writer_cstr(w, s->p, s->p != NULL ? s->len : 0);
}

static int
fail(enum smpp_legacy_reason *why, enum smpp_legacy_reason r)
{
	if (why != NULL)
		*why = r;
	return -1;
}

const char *
smpp_legacy_strerror(enum smpp_legacy_reason why)
{
	switch (why) {
	case SMPP_LEGACY_OK:		return "ok";
	case SMPP_LEGACY_NOTDELIVERY:	return "not a deliver_sm or data_sm";
	case SMPP_LEGACY_TOOLONG:	return "text over 254 octets";
	case SMPP_LEGACY_LONGADDR:	return "address over 20 octets";
	case SMPP_LEGACY_NOSPACE:	return "output buffer too small";
	case SMPP_LEGACY_TWOTEXTS:	return "short_message and message_payload";
	}
	return "unknown";
}

/*
 * The Appendix B text of a receipt that came with TLVs only. 0 and the
 * text's length in *len, or -1 when the TLVs give no usable id (the
 * receipt then goes up without text, as it came).
 */
static int
receipt_text(const struct smpp_scan *in, char *out, size_t cap,
    size_t *len)
{
	const struct smpp_tlv_view *id, *state, *err;
	struct smpp_dlr d;
	int n;

	if ((id = smpp_scan_tlv(in, SMPP_TLV_RECEIPTED_MESSAGE_ID)) == NULL)
		return -1;
	memset(&d, 0, sizeof(d));
	/* a C-Octet string; smpp_dlr_format refuses an id that is not
	 * printable text, with or without its NUL */
	n = id->len;
	if (n > 0 && id->val[n - 1] == '\0')
		n--;
	if (n == 0 || n > SMPP_DLR_ID_MAX)
		return -1;
	memcpy(d.id, id->val, (size_t)n);
	d.present = SMPP_DLR_F_ID;
	if ((state = smpp_scan_tlv(in, SMPP_TLV_MESSAGE_STATE)) != NULL &&
	    smpp_dlr_stat_name((enum smpp_dlr_stat)state->val[0]) != NULL) {
		d.stat = (enum smpp_dlr_stat)state->val[0];
		d.present |= SMPP_DLR_F_STAT | SMPP_DLR_F_SUB |
		    SMPP_DLR_F_DLVRD;
		d.sub = 1;
		d.dlvrd = d.stat == SMPP_DLR_DELIVRD;
	}
	if ((err = smpp_scan_tlv(in, SMPP_TLV_NETWORK_ERROR_CODE)) != NULL) {
		/* network type, then a 2-octet code: the code, as 3 digits */
		snprintf(d.err, sizeof(d.err), "%03u",
		    (unsigned)(err->val[1] << 8 | err->val[2]));
		d.present |= SMPP_DLR_F_ERR;
	}
	if ((n = smpp_dlr_format(&d, out, cap, NULL)) < 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

/* The sar_* TLVs as a UDH, when all three are there and the message has
 * more than one part. Its length, or 0. */
static size_t
sar_udh(const struct smpp_scan *in, uint8_t *out, size_t cap)
{
	struct smpp_concat_info ci;
	int n;

	if (smpp_sar_read(in, &ci) != 1 || ci.total < 2 || ci.seq < 1 ||
	    ci.seq > ci.total)
		return 0;
	n = smpp_udh_build(ci.ref > 255 ? SMPP_CONCAT_UDH16 : SMPP_CONCAT_UDH8,
	    &ci, out, cap, NULL);
	return n > 0 ? (size_t)n : 0;
}

int
smpp_legacy_deliver(const struct smpp_scan *in, uint8_t *out, size_t cap,
    enum smpp_legacy_reason *why)
{
	const struct smpp_tlv_view *payload;
	struct smpp_writer w = { out, 0, cap, 0 };
	const uint8_t *text = NULL;
	size_t text_len = 0, udh_len = 0;
	uint8_t udh[8], hdr[SMPP_HEADER_LEN], esm = in->esm_class;
	char rtext[SMPP_SHORT_MESSAGE_MAX + 1];
	int dsm = in->hdr.id == SMPP_DATA_SM;

	if ((in->hdr.id != SMPP_DELIVER_SM && !dsm) ||
	    !(in->has & SMPP_HAS_SM))
		return fail(why, SMPP_LEGACY_NOTDELIVERY);
	if (in->src.addr.len >= SMPP_ADDR_MAX ||
	    in->dst.addr.len >= SMPP_ADDR_MAX)
		return fail(why, SMPP_LEGACY_LONGADDR);
	payload = smpp_scan_tlv(in, SMPP_TLV_MESSAGE_PAYLOAD);
	if (!dsm && in->short_message.len > 0) {
		/* both (a sloppy SMSC): neither may be dropped */
		if (payload != NULL && payload->len > 0)
			return fail(why, SMPP_LEGACY_TWOTEXTS);
		text = in->short_message.p;
		text_len = in->short_message.len;
	} else if (payload != NULL) {
		text = payload->val;
		text_len = payload->len;
	}
	if (smpp_dlr_is_receipt(in)) {
		if (dsm && (esm & SMPP_ESM_TYPE_MASK) == 0)
			esm |= SMPP_ESM_DLR;
		if (text_len == 0 && receipt_text(in, rtext, sizeof(rtext),
		    &text_len) == 0)
			text = (const uint8_t *)rtext;
	}
	if (!(esm & SMPP_ESM_UDHI) &&
	    (udh_len = sar_udh(in, udh, sizeof(udh))) > 0)
		esm |= SMPP_ESM_UDHI;
	if (udh_len + text_len > SMPP_SHORT_MESSAGE_MAX)
		return fail(why, SMPP_LEGACY_TOOLONG);

	smpp_build_header(hdr, sizeof(hdr), SMPP_DELIVER_SM, 0, in->hdr.seq);
	smpp_writer_put(&w, hdr, sizeof(hdr));
	put_cstr(&w, &in->service_type);
	smpp_writer_u8(&w, in->src.ton);
	smpp_writer_u8(&w, in->src.npi);
	put_cstr(&w, &in->src.addr);
	smpp_writer_u8(&w, in->dst.ton);
	smpp_writer_u8(&w, in->dst.npi);
	put_cstr(&w, &in->dst.addr);
	smpp_writer_u8(&w, esm);
	if (dsm) {
		/* protocol_id, priority_flag, schedule_delivery_time,
		 * validity_period: data_sm has none of them */
		smpp_writer_u8(&w, 0);
		smpp_writer_u8(&w, 0);
		smpp_writer_u8(&w, 0);
		smpp_writer_u8(&w, 0);
	} else {
		smpp_writer_u8(&w, in->protocol_id);
		smpp_writer_u8(&w, in->priority_flag);
		put_cstr(&w, &in->schedule_delivery_time);
		put_cstr(&w, &in->validity_period);
	}
	smpp_writer_u8(&w, in->registered_delivery);
	smpp_writer_u8(&w, dsm ? 0 : in->replace_if_present_flag);
	smpp_writer_u8(&w, in->data_coding);
	smpp_writer_u8(&w, dsm ? 0 : in->sm_default_msg_id);
	smpp_writer_u8(&w, (uint8_t)(udh_len + text_len));
	smpp_writer_put(&w, udh, udh_len);
	smpp_writer_put(&w, text, text_len);
	if (w.bad)
		return fail(why, SMPP_LEGACY_NOSPACE);
	smpp_put32(out, (uint32_t)w.len);
	if (why != NULL)
		*why = SMPP_LEGACY_OK;
	return (int)w.len;
}
