/*
 * The libsmpp34 wrapper (see pdu.h for what it guarantees).
 *
 * Decode: smpp_scan() validates the whole PDU. The mandatory part (the
 * bytes before the TLVs) is copied, with the values libsmpp34 refuses
 * although the spec or real peers allow them neutralised in the copy
 * (vendor command_status, sequence 0, interface_version 0x33, unlisted
 * TON/NPI, data_sm source_addr over 20 octets, non-empty deliver_sm
 * times); libsmpp34 unpacks the copy; the neutralised values are put back
 * from the scan. TLVs come from the scan, in wire order.
 *
 * Encode: every string is checked against its size first (libsmpp34
 * would truncate silently); the mandatory part is packed by libsmpp34
 * from a neutralised struct; the true values are patched into the packed
 * bytes (located by scanning them) and a 254th short_message octet or a
 * long data_sm source_addr spliced in; our TLVs are appended.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libsmpp34's headers do not include their own dependencies; this order
 * is required, and these names must not leave this file. */
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "build.h"
#include "pdu.h"

/* Mandatory parts are at most ~6.5 KiB (submit_multi with 254 dests). */
#define PACK_BUF	8192

/* Mirrors of the limits libsmpp34 enforces that the spec does not. */
#define LIB_DATA_SM_SRC_MAX	21
#define LIB_SM_MAX		253

union lib_pdu {
	bind_transmitter_t	bind_tx;
	bind_receiver_t		bind_rx;
	bind_transceiver_t	bind_trx;
	outbind_t		outbind;
	submit_sm_t		submit;
	deliver_sm_t		deliver;
	data_sm_t		data;
	submit_multi_t		multi;
	query_sm_t		query;
	cancel_sm_t		cancel;
	replace_sm_t		replace;
	alert_notification_t	alert;
};

static int
lib_command(uint32_t id)
{
	switch (id) {
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
	case SMPP_OUTBIND:
	case SMPP_SUBMIT_SM:
	case SMPP_DELIVER_SM:
	case SMPP_DATA_SM:
	case SMPP_SUBMIT_MULTI:
	case SMPP_QUERY_SM:
	case SMPP_CANCEL_SM:
	case SMPP_REPLACE_SM:
	case SMPP_ALERT_NOTIFICATION:
		return 1;
	}
	return 0;
}

static int
lib_ton_ok(uint8_t ton)
{
	return ton <= 6;
}

static int
lib_npi_ok(uint8_t npi)
{
	switch (npi) {
	case 0: case 1: case 3: case 4: case 6: case 8: case 9: case 10:
	case 14: case 18:
		return 1;
	}
	return 0;
}

/* The value itself if libsmpp34 accepts it, else 0 (put back later). */
static uint8_t
lib_ton(uint8_t ton)
{
	return lib_ton_ok(ton) ? ton : 0;
}

static uint8_t
lib_npi(uint8_t npi)
{
	return lib_npi_ok(npi) ? npi : 0;
}

/* Copies a C string of at most cap-1 octets; -1 if it does not fit. */
static int
put_cstr(uint8_t *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap);

	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

void
smpp_pdu_init(struct smpp_pdu *pdu, uint32_t command_id)
{
	memset(pdu, 0, sizeof(*pdu));
	pdu->command_id = command_id;
	pdu->interface_version = SMPP_VERSION_34;
}

void
smpp_pdu_clear(struct smpp_pdu *pdu)
{
	for (unsigned i = 0; i < pdu->n_tlvs; i++)
		free(pdu->tlvs[i].val);
	free(pdu->tlvs);
	free(pdu->dests);
	memset(pdu, 0, sizeof(*pdu));
}

int
smpp_pdu_add_tlv(struct smpp_pdu *pdu, uint16_t tag, const void *val,
    uint16_t len)
{
	unsigned fixed = smpp_tlv_fixed_size(tag);
	struct smpp_tlv *tlvs;
	uint8_t *copy;

	if ((fixed != 0 && len != fixed) || pdu->n_tlvs >= SMPP_HARD_MAX_TLVS)
		return -1;
	tlvs = realloc(pdu->tlvs, (pdu->n_tlvs + 1u) * sizeof(*tlvs));
	if (tlvs == NULL)
		return -1;
	pdu->tlvs = tlvs;
	/* malloc(0) may return NULL; keep a real pointer for empty values. */
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		return -1;
	if (len > 0)
		memcpy(copy, val, len);
	tlvs[pdu->n_tlvs].tag = tag;
	tlvs[pdu->n_tlvs].len = len;
	tlvs[pdu->n_tlvs].val = copy;
	pdu->n_tlvs++;
	return 0;
}

const struct smpp_tlv *
smpp_pdu_tlv(const struct smpp_pdu *pdu, uint16_t tag)
{
	for (unsigned i = 0; i < pdu->n_tlvs; i++)
		if (pdu->tlvs[i].tag == tag)
			return &pdu->tlvs[i];
	return NULL;
}

int
smpp_pdu_del_tlv(struct smpp_pdu *pdu, uint16_t tag)
{
	unsigned out = 0, removed = 0;

	for (unsigned i = 0; i < pdu->n_tlvs; i++) {
		if (pdu->tlvs[i].tag == tag) {
			free(pdu->tlvs[i].val);
			removed++;
		} else {
			pdu->tlvs[out++] = pdu->tlvs[i];
		}
	}
	pdu->n_tlvs = (uint16_t)out;
	return (int)removed;
}

/* ---- decode ---------------------------------------------------------- */

/* Byte ranges of the original to leave out of libsmpp34's copy. */
struct cut {
	size_t	off;
	size_t	len;
};

static void
add_cut(struct cut *cuts, int *n, const struct smpp_scan *s,
    const struct smpp_str *str)
{
	cuts[*n].off = (size_t)(str->p - s->raw);
	cuts[*n].len = str->len;
	(*n)++;
}

static void
patch_addr(uint8_t *copy, const struct smpp_scan *s,
    const struct smpp_addr *a, const struct cut *cuts, int ncuts)
{
	size_t off = (size_t)(a->addr.p - s->raw) - 2;

	/* Shift by what was cut before this offset. */
	for (int i = 0; i < ncuts; i++)
		if (cuts[i].off < off)
			off -= cuts[i].len;
	copy[off] = lib_ton(copy[off]);
	copy[off + 1] = lib_npi(copy[off + 1]);
}

/*
 * Builds the neutralised copy of the mandatory part and unpacks it.
 * Returns 0, or -1 if libsmpp34 refused it anyway (a status of
 * ESME_RSYSERR then: the scan accepted it, so it is our bug or theirs).
 */
static int
lib_unpack(const struct smpp_scan *s, union lib_pdu *lp)
{
	uint8_t copy[PACK_BUF];
	struct cut cuts[4];
	int ncuts = 0;
	size_t n = 0, from = 0, mand = s->tlv_off;
	int rc;

	if (s->hdr.id == SMPP_DATA_SM && s->src.addr.len >= LIB_DATA_SM_SRC_MAX)
		add_cut(cuts, &ncuts, s, &s->src.addr);
	if (s->hdr.id == SMPP_DELIVER_SM) {
		if (s->schedule_delivery_time.len > 0)
			add_cut(cuts, &ncuts, s, &s->schedule_delivery_time);
		if (s->validity_period.len > 0)
			add_cut(cuts, &ncuts, s, &s->validity_period);
	}
	if (mand > sizeof(copy))
		return -1;
	for (int i = 0; i < ncuts; i++) {
		memcpy(copy + n, s->raw + from, cuts[i].off - from);
		n += cuts[i].off - from;
		from = cuts[i].off + cuts[i].len;
	}
	memcpy(copy + n, s->raw + from, mand - from);
	n += mand - from;

	smpp_put32(copy, (uint32_t)n);
	smpp_put32(copy + 8, SMPP_ROK);
	if (s->hdr.seq == 0)
		smpp_put32(copy + 12, 1);
	if (s->has & SMPP_HAS_BIND) {
		size_t off = (size_t)(s->address_range.p - s->raw) - 3;

		copy[off] = SMPP_VERSION_34;
		copy[off + 1] = lib_ton(copy[off + 1]);
		copy[off + 2] = lib_npi(copy[off + 2]);
	}
	if (s->src.addr.p != NULL)
		patch_addr(copy, s, &s->src, cuts, ncuts);
	if (s->dst.addr.p != NULL)
		patch_addr(copy, s, &s->dst, cuts, ncuts);
	if (s->has & SMPP_HAS_DESTS) {
		struct smpp_dest_view d;
		size_t pos = 0;

		while (smpp_scan_next_dest(s, &pos, &d)) {
			struct smpp_addr a = { d.ton, d.npi, d.name };

			if (d.flag == 1)
				patch_addr(copy, s, &a, cuts, ncuts);
		}
	}

	memset(lp, 0, sizeof(*lp));
	rc = smpp34_unpack2(lp, copy, (int)n);
	/* Nothing was passed that could build a TLV list, but the library
	 * attaches what it parsed even on failure: release it always. */
	switch (s->hdr.id) {
	case SMPP_SUBMIT_SM:	destroy_tlv(lp->submit.tlv); break;
	case SMPP_DELIVER_SM:	destroy_tlv(lp->deliver.tlv); break;
	case SMPP_DATA_SM:	destroy_tlv(lp->data.tlv); break;
	case SMPP_ALERT_NOTIFICATION: destroy_tlv(lp->alert.tlv); break;
	case SMPP_SUBMIT_MULTI:
		destroy_tlv(lp->multi.tlv);
		if (rc != 0)
			destroy_dad(lp->multi.dest_addr_def);
		break;
	}
	return rc == 0 ? 0 : -1;
}

#define COPY_STR(dst, src)	get_str_raw((dst), sizeof(dst), (src), sizeof(src))

static void
get_str_raw(char *dst, size_t cap, const uint8_t *src, size_t srccap)
{
	size_t n = strnlen((const char *)src, srccap);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* submit_sm and deliver_sm share their field names in libsmpp34. */
#define FROM_LIB_SM(pdu, t) do {					\
	COPY_STR((pdu)->service_type, (t)->service_type);		\
	COPY_STR((pdu)->source_addr, (t)->source_addr);		\
	(pdu)->esm_class = (t)->esm_class;				\
	(pdu)->protocol_id = (t)->protocol_id;				\
	(pdu)->priority_flag = (t)->priority_flag;			\
	COPY_STR((pdu)->schedule_delivery_time, (t)->schedule_delivery_time); \
	COPY_STR((pdu)->validity_period, (t)->validity_period);	\
	(pdu)->registered_delivery = (t)->registered_delivery;		\
	(pdu)->replace_if_present_flag = (t)->replace_if_present_flag;	\
	(pdu)->data_coding = (t)->data_coding;				\
	(pdu)->sm_default_msg_id = (t)->sm_default_msg_id;		\
	(pdu)->sm_length = (t)->sm_length;				\
	memcpy((pdu)->short_message, (t)->short_message, (t)->sm_length); \
} while (0)

static int
from_lib(const struct smpp_scan *s, const union lib_pdu *lp,
    struct smpp_pdu *pdu)
{
	switch (s->hdr.id) {
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSCEIVER:
		/* The three bind structs have one layout. */
		COPY_STR(pdu->system_id, lp->bind_tx.system_id);
		COPY_STR(pdu->password, lp->bind_tx.password);
		COPY_STR(pdu->system_type, lp->bind_tx.system_type);
		COPY_STR(pdu->address_range, lp->bind_tx.address_range);
		break;
	case SMPP_OUTBIND:
		COPY_STR(pdu->system_id, lp->outbind.system_id);
		COPY_STR(pdu->password, lp->outbind.password);
		break;
	case SMPP_SUBMIT_SM:
		FROM_LIB_SM(pdu, &lp->submit);
		COPY_STR(pdu->destination_addr, lp->submit.destination_addr);
		break;
	case SMPP_DELIVER_SM:
		FROM_LIB_SM(pdu, &lp->deliver);
		COPY_STR(pdu->destination_addr, lp->deliver.destination_addr);
		break;
	case SMPP_DATA_SM:
		COPY_STR(pdu->service_type, lp->data.service_type);
		COPY_STR(pdu->source_addr, lp->data.source_addr);
		COPY_STR(pdu->destination_addr, lp->data.destination_addr);
		pdu->esm_class = lp->data.esm_class;
		pdu->registered_delivery = lp->data.registered_delivery;
		pdu->data_coding = lp->data.data_coding;
		break;
	case SMPP_SUBMIT_MULTI: {
		const dad_t *d;
		unsigned n = 0;

		FROM_LIB_SM(pdu, &lp->multi);
		pdu->number_of_dests = lp->multi.number_of_dests;
		/* The destinations themselves are taken from the scan, in wire
		 * order (from_scan); libsmpp34's list must agree on the count. */
		for (d = lp->multi.dest_addr_def; d != NULL; d = d->next)
			n++;
		if (n != pdu->number_of_dests)
			return -1;
		break;
	}
	case SMPP_QUERY_SM:
		COPY_STR(pdu->message_id, lp->query.message_id);
		COPY_STR(pdu->source_addr, lp->query.source_addr);
		break;
	case SMPP_CANCEL_SM:
		COPY_STR(pdu->service_type, lp->cancel.service_type);
		COPY_STR(pdu->message_id, lp->cancel.message_id);
		COPY_STR(pdu->source_addr, lp->cancel.source_addr);
		COPY_STR(pdu->destination_addr, lp->cancel.destination_addr);
		break;
	case SMPP_REPLACE_SM:
		COPY_STR(pdu->message_id, lp->replace.message_id);
		COPY_STR(pdu->source_addr, lp->replace.source_addr);
		COPY_STR(pdu->schedule_delivery_time,
		    lp->replace.schedule_delivery_time);
		COPY_STR(pdu->validity_period, lp->replace.validity_period);
		pdu->registered_delivery = lp->replace.registered_delivery;
		pdu->sm_default_msg_id = lp->replace.sm_default_msg_id;
		pdu->sm_length = lp->replace.sm_length;
		memcpy(pdu->short_message, lp->replace.short_message,
		    lp->replace.sm_length);
		break;
	case SMPP_ALERT_NOTIFICATION:
		COPY_STR(pdu->source_addr, lp->alert.source_addr);
		COPY_STR(pdu->destination_addr, lp->alert.esme_addr);
		break;
	}
	return 0;
}

/* The values the copy neutralised, and the TLVs, come from the scan. */
static int
from_scan(const struct smpp_scan *s, struct smpp_pdu *pdu, int lib_done)
{
	pdu->command_id = s->hdr.id;
	pdu->command_status = s->hdr.status;
	pdu->sequence_number = s->hdr.seq;
	if (s->has & SMPP_HAS_BIND) {
		pdu->interface_version = s->interface_version;
		pdu->addr_ton = s->addr_ton;
		pdu->addr_npi = s->addr_npi;
	}
	if (s->src.addr.p != NULL) {
		pdu->source_addr_ton = s->src.ton;
		pdu->source_addr_npi = s->src.npi;
		smpp_str_copy(pdu->source_addr, sizeof(pdu->source_addr),
		    &s->src.addr);
	}
	if (s->dst.addr.p != NULL) {
		pdu->dest_addr_ton = s->dst.ton;
		pdu->dest_addr_npi = s->dst.npi;
	}
	if (s->hdr.id == SMPP_DELIVER_SM) {
		smpp_str_copy(pdu->schedule_delivery_time,
		    sizeof(pdu->schedule_delivery_time),
		    &s->schedule_delivery_time);
		smpp_str_copy(pdu->validity_period,
		    sizeof(pdu->validity_period), &s->validity_period);
	}
	if (s->has & SMPP_HAS_DESTS) {
		struct smpp_dest_view d;
		size_t pos = 0;
		unsigned i = 0;

		pdu->number_of_dests = s->number_of_dests;
		pdu->dests = calloc(s->number_of_dests, sizeof(*pdu->dests));
		if (pdu->dests == NULL)
			return -1;
		while (smpp_scan_next_dest(s, &pos, &d) &&
		    i < pdu->number_of_dests) {
			pdu->dests[i].flag = d.flag;
			pdu->dests[i].ton = d.ton;
			pdu->dests[i].npi = d.npi;
			smpp_str_copy(pdu->dests[i].name,
			    sizeof(pdu->dests[i].name), &d.name);
			i++;
		}
	}
	if (!lib_done) {
		/* Responses and header-only commands: the scan is all. */
		if (s->has & SMPP_HAS_SYSTEM_ID)
			smpp_str_copy(pdu->system_id, sizeof(pdu->system_id),
			    &s->system_id);
		if (s->has & SMPP_HAS_MESSAGE_ID)
			smpp_str_copy(pdu->message_id, sizeof(pdu->message_id),
			    &s->message_id);
	}
	for (unsigned i = 0; i < s->n_tlvs; i++)
		if (smpp_pdu_add_tlv(pdu, s->tlvs[i].tag, s->tlvs[i].val,
		    s->tlvs[i].len) != 0)
			return -1;
	return 0;
}

int
smpp_pdu_decode(const uint8_t *raw, size_t len, const struct smpp_limits *lim,
    struct smpp_pdu *pdu, uint32_t *status)
{
	struct smpp_scan s;
	union lib_pdu lp;
	int lib = 0, rc;

	smpp_pdu_init(pdu, 0);
	if (smpp_scan(raw, len, lim, &s, status) != 0)
		return -1;
	if (lib_command(s.hdr.id)) {
		if (lib_unpack(&s, &lp) != 0) {
			*status = SMPP_RSYSERR;
			return -1;
		}
		rc = from_lib(&s, &lp, pdu);
		if (s.hdr.id == SMPP_SUBMIT_MULTI)
			destroy_dad(lp.multi.dest_addr_def);
		if (rc != 0) {
			smpp_pdu_clear(pdu);
			*status = SMPP_RSYSERR;
			return -1;
		}
		lib = 1;
	}
	if (from_scan(&s, pdu, lib) != 0) {
		smpp_pdu_clear(pdu);
		*status = SMPP_RSYSERR;
		return -1;
	}
	return 0;
}

/* ---- encode ---------------------------------------------------------- */

size_t
smpp_pdu_encoded_max(const struct smpp_pdu *pdu)
{
	size_t n = PACK_BUF;

	for (unsigned i = 0; i < pdu->n_tlvs; i++)
		n += 4u + pdu->tlvs[i].len;
	return n;
}

/* Fills the sm fields shared by submit_sm, deliver_sm and submit_multi. */
#define TO_LIB_SM(t, pdu, smlen, rc) do {				\
	rc |= put_cstr((t)->service_type, sizeof((t)->service_type),	\
	    (pdu)->service_type);					\
	rc |= put_cstr((t)->source_addr, sizeof((t)->source_addr),	\
	    (pdu)->source_addr);					\
	(t)->source_addr_ton = lib_ton((pdu)->source_addr_ton);		\
	(t)->source_addr_npi = lib_npi((pdu)->source_addr_npi);		\
	(t)->esm_class = (pdu)->esm_class;				\
	(t)->protocol_id = (pdu)->protocol_id;				\
	(t)->priority_flag = (pdu)->priority_flag;			\
	(t)->registered_delivery = (pdu)->registered_delivery;		\
	(t)->replace_if_present_flag = (pdu)->replace_if_present_flag;	\
	(t)->data_coding = (pdu)->data_coding;				\
	(t)->sm_default_msg_id = (pdu)->sm_default_msg_id;		\
	(t)->sm_length = (uint8_t)(smlen);				\
	memcpy((t)->short_message, (pdu)->short_message, (smlen));	\
} while (0)

#define TO_LIB_DST(t, pdu, rc) do {					\
	rc |= put_cstr((t)->destination_addr,				\
	    sizeof((t)->destination_addr), (pdu)->destination_addr);	\
	(t)->dest_addr_ton = lib_ton((pdu)->dest_addr_ton);		\
	(t)->dest_addr_npi = lib_npi((pdu)->dest_addr_npi);		\
} while (0)

/*
 * Fills the libsmpp34 struct from ours, with only values it accepts.
 * Returns 0, or -1 if a string does not fit the spec's size.
 */
static int
to_lib(const struct smpp_pdu *pdu, union lib_pdu *lp, dad_t **dads)
{
	/* Room for the 254th octet is made after packing (see encode). */
	size_t smlen = pdu->sm_length > LIB_SM_MAX ? LIB_SM_MAX : pdu->sm_length;
	int rc = 0;

	memset(lp, 0, sizeof(*lp));
	switch (pdu->command_id) {
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSCEIVER:
		rc |= put_cstr(lp->bind_tx.system_id,
		    sizeof(lp->bind_tx.system_id), pdu->system_id);
		rc |= put_cstr(lp->bind_tx.password,
		    sizeof(lp->bind_tx.password), pdu->password);
		rc |= put_cstr(lp->bind_tx.system_type,
		    sizeof(lp->bind_tx.system_type), pdu->system_type);
		rc |= put_cstr(lp->bind_tx.address_range,
		    sizeof(lp->bind_tx.address_range), pdu->address_range);
		lp->bind_tx.interface_version = SMPP_VERSION_34;
		lp->bind_tx.addr_ton = lib_ton(pdu->addr_ton);
		lp->bind_tx.addr_npi = lib_npi(pdu->addr_npi);
		break;
	case SMPP_OUTBIND:
		rc |= put_cstr(lp->outbind.system_id,
		    sizeof(lp->outbind.system_id), pdu->system_id);
		rc |= put_cstr(lp->outbind.password,
		    sizeof(lp->outbind.password), pdu->password);
		break;
	case SMPP_SUBMIT_SM:
		TO_LIB_SM(&lp->submit, pdu, smlen, rc);
		TO_LIB_DST(&lp->submit, pdu, rc);
		rc |= put_cstr(lp->submit.schedule_delivery_time,
		    sizeof(lp->submit.schedule_delivery_time),
		    pdu->schedule_delivery_time);
		rc |= put_cstr(lp->submit.validity_period,
		    sizeof(lp->submit.validity_period), pdu->validity_period);
		break;
	case SMPP_DELIVER_SM:
		TO_LIB_SM(&lp->deliver, pdu, smlen, rc);
		TO_LIB_DST(&lp->deliver, pdu, rc);
		/* The spec says both are NULL in deliver_sm. */
		if (pdu->schedule_delivery_time[0] != '\0' ||
		    pdu->validity_period[0] != '\0')
			rc = -1;
		break;
	case SMPP_DATA_SM: {
		size_t slen = strnlen(pdu->source_addr, sizeof(pdu->source_addr));

		rc |= put_cstr(lp->data.service_type,
		    sizeof(lp->data.service_type), pdu->service_type);
		/* A long source_addr is spliced in after packing. */
		if (slen < LIB_DATA_SM_SRC_MAX)
			rc |= put_cstr(lp->data.source_addr,
			    sizeof(lp->data.source_addr), pdu->source_addr);
		else if (slen >= SMPP_ADDR65_MAX)
			rc = -1;
		lp->data.source_addr_ton = lib_ton(pdu->source_addr_ton);
		lp->data.source_addr_npi = lib_npi(pdu->source_addr_npi);
		TO_LIB_DST(&lp->data, pdu, rc);
		lp->data.esm_class = pdu->esm_class;
		lp->data.registered_delivery = pdu->registered_delivery;
		lp->data.data_coding = pdu->data_coding;
		break;
	}
	case SMPP_SUBMIT_MULTI:
		if (pdu->number_of_dests == 0 ||
		    pdu->number_of_dests > SMPP_MAX_DESTS || pdu->dests == NULL)
			return -1;
		TO_LIB_SM(&lp->multi, pdu, smlen, rc);
		rc |= put_cstr(lp->multi.schedule_delivery_time,
		    sizeof(lp->multi.schedule_delivery_time),
		    pdu->schedule_delivery_time);
		rc |= put_cstr(lp->multi.validity_period,
		    sizeof(lp->multi.validity_period), pdu->validity_period);
		lp->multi.number_of_dests = pdu->number_of_dests;
		/* build_dad prepends: add them last to first for wire order. */
		for (unsigned i = pdu->number_of_dests; i-- > 0;) {
			const struct smpp_dest *d = &pdu->dests[i];
			dad_t one;

			memset(&one, 0, sizeof(one));
			one.dest_flag = d->flag;
			if (d->flag == 1) {
				rc |= put_cstr(one.value.sme.destination_addr,
				    sizeof(one.value.sme.destination_addr),
				    d->name);
				one.value.sme.dest_addr_ton = lib_ton(d->ton);
				one.value.sme.dest_addr_npi = lib_npi(d->npi);
			} else if (d->flag == 2) {
				rc |= put_cstr(one.value.dl_name,
				    sizeof(one.value.dl_name), d->name);
			} else {
				rc = -1;
			}
			if (rc != 0 || build_dad(dads, &one) != 0)
				return -1;
		}
		lp->multi.dest_addr_def = *dads;
		break;
	case SMPP_QUERY_SM:
		rc |= put_cstr(lp->query.message_id,
		    sizeof(lp->query.message_id), pdu->message_id);
		rc |= put_cstr(lp->query.source_addr,
		    sizeof(lp->query.source_addr), pdu->source_addr);
		lp->query.source_addr_ton = lib_ton(pdu->source_addr_ton);
		lp->query.source_addr_npi = lib_npi(pdu->source_addr_npi);
		break;
	case SMPP_CANCEL_SM:
		rc |= put_cstr(lp->cancel.service_type,
		    sizeof(lp->cancel.service_type), pdu->service_type);
		rc |= put_cstr(lp->cancel.message_id,
		    sizeof(lp->cancel.message_id), pdu->message_id);
		rc |= put_cstr(lp->cancel.source_addr,
		    sizeof(lp->cancel.source_addr), pdu->source_addr);
		lp->cancel.source_addr_ton = lib_ton(pdu->source_addr_ton);
		lp->cancel.source_addr_npi = lib_npi(pdu->source_addr_npi);
		TO_LIB_DST(&lp->cancel, pdu, rc);
		break;
	case SMPP_REPLACE_SM:
		rc |= put_cstr(lp->replace.message_id,
		    sizeof(lp->replace.message_id), pdu->message_id);
		rc |= put_cstr(lp->replace.source_addr,
		    sizeof(lp->replace.source_addr), pdu->source_addr);
		lp->replace.source_addr_ton = lib_ton(pdu->source_addr_ton);
		lp->replace.source_addr_npi = lib_npi(pdu->source_addr_npi);
		rc |= put_cstr(lp->replace.schedule_delivery_time,
		    sizeof(lp->replace.schedule_delivery_time),
		    pdu->schedule_delivery_time);
		rc |= put_cstr(lp->replace.validity_period,
		    sizeof(lp->replace.validity_period), pdu->validity_period);
		lp->replace.registered_delivery = pdu->registered_delivery;
		lp->replace.sm_default_msg_id = pdu->sm_default_msg_id;
		lp->replace.sm_length = (uint8_t)smlen;
		memcpy(lp->replace.short_message, pdu->short_message, smlen);
		break;
	case SMPP_ALERT_NOTIFICATION:
		rc |= put_cstr(lp->alert.source_addr,
		    sizeof(lp->alert.source_addr), pdu->source_addr);
		lp->alert.source_addr_ton = lib_ton(pdu->source_addr_ton);
		lp->alert.source_addr_npi = lib_npi(pdu->source_addr_npi);
		rc |= put_cstr(lp->alert.esme_addr, sizeof(lp->alert.esme_addr),
		    pdu->destination_addr);
		lp->alert.esme_addr_ton = lib_ton(pdu->dest_addr_ton);
		lp->alert.esme_addr_npi = lib_npi(pdu->dest_addr_npi);
		break;
	default:
		return -1;
	}
	return rc != 0 ? -1 : 0;
}

/* Inserts n bytes at off in a PDU of *len bytes (cap is the buffer). */
static int
splice_in(uint8_t *buf, size_t cap, size_t *len, size_t off,
    const void *bytes, size_t n)
{
	if (*len + n > cap || off > *len)
		return -1;
	memmove(buf + off + n, buf + off, *len - off);
	memcpy(buf + off, bytes, n);
	*len += n;
	return 0;
}

static void
set_addr(uint8_t *buf, const struct smpp_scan *s, const struct smpp_addr *a,
    uint8_t ton, uint8_t npi)
{
	size_t off = (size_t)(a->addr.p - s->raw) - 2;

	buf[off] = ton;
	buf[off + 1] = npi;
}

/*
 * Puts the true values into the packed mandatory part: the header,
 * interface_version, TON/NPI, the 254th octet, a long data_sm source.
 */
static int
fix_packed(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap, size_t *len)
{
	struct smpp_limits lim = { (uint32_t)cap, 0 };
	struct smpp_scan s;
	uint32_t status;

	smpp_put32(buf, (uint32_t)*len);
	smpp_put32(buf + 8, pdu->command_status);
	smpp_put32(buf + 12, pdu->sequence_number);
	if (smpp_scan(buf, *len, &lim, &s, &status) != 0)
		return -1;
	if (s.has & SMPP_HAS_BIND) {
		size_t off = (size_t)(s.address_range.p - buf) - 3;

		buf[off] = pdu->interface_version;
		buf[off + 1] = pdu->addr_ton;
		buf[off + 2] = pdu->addr_npi;
	}
	if (s.src.addr.p != NULL)
		set_addr(buf, &s, &s.src, pdu->source_addr_ton,
		    pdu->source_addr_npi);
	if (s.dst.addr.p != NULL)
		set_addr(buf, &s, &s.dst, pdu->dest_addr_ton,
		    pdu->dest_addr_npi);
	if (s.has & SMPP_HAS_DESTS) {
		struct smpp_dest_view d;
		size_t pos = 0;
		unsigned i = 0;

		while (smpp_scan_next_dest(&s, &pos, &d)) {
			if (d.flag == 1) {
				struct smpp_addr a = { d.ton, d.npi, d.name };

				set_addr(buf, &s, &a, pdu->dests[i].ton,
				    pdu->dests[i].npi);
			}
			i++;
		}
	}
	/* Splices last: they move what follows them. */
	if (pdu->sm_length > LIB_SM_MAX && (s.has & SMPP_HAS_SM)) {
		size_t end = (size_t)(s.short_message.p - buf) +
		    s.short_message.len;

		buf[(size_t)(s.short_message.p - buf) - 1] = pdu->sm_length;
		if (splice_in(buf, cap, len, end,
		    pdu->short_message + LIB_SM_MAX,
		    pdu->sm_length - LIB_SM_MAX) != 0)
			return -1;
	} else if (pdu->command_id == SMPP_REPLACE_SM &&
	    pdu->sm_length > LIB_SM_MAX) {
		/* replace_sm: short_message is the last mandatory field. */
		buf[*len - LIB_SM_MAX - 1] = pdu->sm_length;
		if (splice_in(buf, cap, len, *len,
		    pdu->short_message + LIB_SM_MAX,
		    pdu->sm_length - LIB_SM_MAX) != 0)
			return -1;
	}
	if (pdu->command_id == SMPP_DATA_SM &&
	    strnlen(pdu->source_addr, SMPP_ADDR65_MAX) >= LIB_DATA_SM_SRC_MAX) {
		size_t off = (size_t)(s.src.addr.p - buf);

		if (splice_in(buf, cap, len, off, pdu->source_addr,
		    strlen(pdu->source_addr)) != 0)
			return -1;
	}
	smpp_put32(buf, (uint32_t)*len);
	return 0;
}

/* Bodies we write ourselves: responses and header-only commands. */
static int
encode_own(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap,
    size_t *outlen)
{
	const char *str;
	size_t n;

	switch (pdu->command_id) {
	case SMPP_GENERIC_NACK:
	case SMPP_UNBIND:
	case SMPP_UNBIND_RESP:
	case SMPP_ENQUIRE_LINK:
	case SMPP_ENQUIRE_LINK_RESP:
	case SMPP_CANCEL_SM_RESP:
	case SMPP_REPLACE_SM_RESP:
		n = smpp_build_header(buf, cap, pdu->command_id,
		    pdu->command_status, pdu->sequence_number);
		break;
	case SMPP_BIND_RECEIVER_RESP:
	case SMPP_BIND_TRANSMITTER_RESP:
	case SMPP_BIND_TRANSCEIVER_RESP:
		str = pdu->system_id;
		if (strnlen(str, sizeof(pdu->system_id)) >= sizeof(pdu->system_id))
			return -1;
		n = smpp_build_resp_str(buf, cap, pdu->command_id,
		    pdu->command_status, pdu->sequence_number, str, 0);
		break;
	case SMPP_SUBMIT_SM_RESP:
	case SMPP_DELIVER_SM_RESP:
	case SMPP_DATA_SM_RESP:
	case SMPP_SUBMIT_MULTI_RESP:
		str = pdu->message_id;
		if (strnlen(str, sizeof(pdu->message_id)) >= sizeof(pdu->message_id))
			return -1;
		n = smpp_build_resp_str(buf, cap, pdu->command_id,
		    pdu->command_status, pdu->sequence_number, str, 0);
		/* no_unsuccess = 0: we never report per-destination errors. */
		if (n != 0 && pdu->command_id == SMPP_SUBMIT_MULTI_RESP) {
			if (n + 1 > cap)
				return -1;
			buf[n++] = 0;
			smpp_put32(buf, (uint32_t)n);
		}
		break;
	default:
		return -1;
	}
	if (n == 0)
		return -1;
	*outlen = n;
	return 0;
}

static int
append_tlvs(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap,
    size_t *len)
{
	for (unsigned i = 0; i < pdu->n_tlvs; i++) {
		const struct smpp_tlv *t = &pdu->tlvs[i];
		unsigned fixed = smpp_tlv_fixed_size(t->tag);

		if ((fixed != 0 && t->len != fixed) || *len + 4u + t->len > cap)
			return -1;
		smpp_put16(buf + *len, t->tag);
		smpp_put16(buf + *len + 2, t->len);
		if (t->len > 0)
			memcpy(buf + *len + 4, t->val, t->len);
		*len += 4u + t->len;
	}
	if (*len > UINT32_MAX)
		return -1;
	smpp_put32(buf, (uint32_t)*len);
	return 0;
}

/* Commands whose body may carry TLVs when we encode them. */
static int
tlvs_allowed(uint32_t id)
{
	switch (id) {
	case SMPP_SUBMIT_SM:
	case SMPP_DELIVER_SM:
	case SMPP_DATA_SM:
	case SMPP_SUBMIT_MULTI:
	case SMPP_ALERT_NOTIFICATION:
	case SMPP_DATA_SM_RESP:
	case SMPP_BIND_RECEIVER_RESP:
	case SMPP_BIND_TRANSMITTER_RESP:
	case SMPP_BIND_TRANSCEIVER_RESP:
		return 1;
	}
	return 0;
}

int
smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap,
    size_t *outlen)
{
	uint8_t packed[PACK_BUF];
	union lib_pdu lp;
	dad_t *dads = NULL;
	size_t len;
	int plen = 0, rc;

	if (pdu->n_tlvs > 0 && !tlvs_allowed(pdu->command_id))
		return -1;
	if (!lib_command(pdu->command_id)) {
		if (encode_own(pdu, buf, cap, &len) != 0)
			return -1;
	} else {
		if (to_lib(pdu, &lp, &dads) != 0) {
			destroy_dad(dads);
			return -1;
		}
		/* Sequence 0 and vendor statuses are refused by pack; the
		 * header is written by fix_packed() anyway. */
		lp.submit.command_id = pdu->command_id;
		lp.submit.command_status = SMPP_ROK;
		lp.submit.sequence_number = 1;
		rc = smpp34_pack2(packed, sizeof(packed), &plen, &lp);
		destroy_dad(dads);
		if (rc != 0 || plen < SMPP_HEADER_LEN || (size_t)plen > cap)
			return -1;
		memcpy(buf, packed, (size_t)plen);
		len = (size_t)plen;
		if (fix_packed(pdu, buf, cap, &len) != 0)
			return -1;
	}
	if (append_tlvs(pdu, buf, cap, &len) != 0)
		return -1;
	*outlen = len;
	return 0;
}

void
smpp_pdu_describe(const struct smpp_pdu *pdu, char *buf, size_t cap)
{
	snprintf(buf, cap, "cmd=%s status=%s seq=%u src=%s dst=%s esm=0x%02x "
	    "dcs=0x%02x sm_len=%u tlvs=%u", smpp_command_name(pdu->command_id),
	    smpp_status_name(pdu->command_status), pdu->sequence_number,
	    pdu->source_addr, pdu->destination_addr, pdu->esm_class,
	    pdu->data_coding, pdu->sm_length, pdu->n_tlvs);
}
