/*
 * The validating scanner (see scan.h). Every read goes through a bounded
 * cursor; nothing is copied and nothing is allocated. The first failing
 * field decides the command_status that the caller answers with.
 *
 * Requests are scanned strictly. Responses are scanned tolerantly, as real
 * SMSCs send them: an error response may carry no body at all or a
 * malformed one (its body is then ignored), and deliver_sm_resp may carry
 * a non-empty message_id.
 */
#include <stddef.h>
#include <string.h>

#include "scan.h"

struct cursor {
	const uint8_t	*pos;
	const uint8_t	*end;
};

static const uint8_t empty_string[1] = { 0 };

void
smpp_limits_default(struct smpp_limits *lim)
{
	lim->max_pdu = SMPP_DEFAULT_MAX_PDU;
	lim->max_tlvs = SMPP_DEFAULT_MAX_TLVS;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
smpp_str_copy(char *dst, size_t cap, const struct smpp_str *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	if (s->p != NULL)
		memcpy(dst, s->p, n);
	else
		n = 0;
	dst[n] = '\0';
}

void
smpp_hdr_read(const uint8_t *p, struct smpp_hdr *h)
{
	h->len = get_be32(p);
	h->id = get_be32(p + 4);
	h->status = get_be32(p + 8);
	h->seq = get_be32(p + 12);
}

int
smpp_frame_len_ok(uint32_t command_length, const struct smpp_limits *lim)
{
	return command_length >= SMPP_HEADER_LEN &&
	    command_length <= lim->max_pdu ? 0 : -1;
}

static int
get_u8(struct cursor *c, uint8_t *v)
{
	if (c->pos >= c->end)
		return -1;
	*v = *c->pos++;
	return 0;
}

/* A C-Octet string of at most max octets, NUL included. */
static int
get_cstr(struct cursor *c, size_t max, struct smpp_str *s)
{
	size_t avail = (size_t)(c->end - c->pos);
	const uint8_t *nul = memchr(c->pos, 0, avail < max ? avail : max);

	if (nul == NULL)
		return -1;
	s->p = c->pos;
	s->len = (uint16_t)(nul - c->pos);
	c->pos = nul + 1;
	return 0;
}

static int
get_addr(struct cursor *c, size_t max, struct smpp_addr *a)
{
	if (get_u8(c, &a->ton) != 0 || get_u8(c, &a->npi) != 0)
		return -1;
	return get_cstr(c, max, &a->addr);
}

unsigned
smpp_tlv_fixed_size(uint16_t tag)
{
	switch (tag) {
	case SMPP_TLV_DEST_ADDR_SUBUNIT:
	case SMPP_TLV_DEST_NETWORK_TYPE:
	case SMPP_TLV_DEST_BEARER_TYPE:
	case SMPP_TLV_SOURCE_ADDR_SUBUNIT:
	case SMPP_TLV_SOURCE_NETWORK_TYPE:
	case SMPP_TLV_SOURCE_BEARER_TYPE:
	case SMPP_TLV_SOURCE_TELEMATICS_ID:
	case SMPP_TLV_PAYLOAD_TYPE:
	case SMPP_TLV_MS_MSG_WAIT_FACILITIES:
	case SMPP_TLV_PRIVACY_INDICATOR:
	case SMPP_TLV_USER_RESPONSE_CODE:
	case SMPP_TLV_LANGUAGE_INDICATOR:
	case SMPP_TLV_SAR_TOTAL_SEGMENTS:
	case SMPP_TLV_SAR_SEGMENT_SEQNUM:
	case SMPP_TLV_SC_INTERFACE_VERSION:
	case SMPP_TLV_CALLBACK_NUM_PRES_IND:
	case SMPP_TLV_NUMBER_OF_MESSAGES:
	case SMPP_TLV_DPF_RESULT:
	case SMPP_TLV_SET_DPF:
	case SMPP_TLV_MS_AVAILABILITY_STATUS:
	case SMPP_TLV_DELIVERY_FAILURE_REASON:
	case SMPP_TLV_MORE_MESSAGES_TO_SEND:
	case SMPP_TLV_MESSAGE_STATE:
	case SMPP_TLV_USSD_SERVICE_OP:
	case SMPP_TLV_DISPLAY_TIME:
	case SMPP_TLV_MS_VALIDITY:
	case SMPP_TLV_ITS_REPLY_TYPE:
		return 1;
	case SMPP_TLV_DEST_TELEMATICS_ID:
	case SMPP_TLV_USER_MESSAGE_REFERENCE:
	case SMPP_TLV_SOURCE_PORT:
	case SMPP_TLV_DESTINATION_PORT:
	case SMPP_TLV_SAR_MSG_REF_NUM:
	case SMPP_TLV_SMS_SIGNAL:
	case SMPP_TLV_ITS_SESSION_INFO:
		return 2;
	case SMPP_TLV_NETWORK_ERROR_CODE:
		return 3;
	case SMPP_TLV_QOS_TIME_TO_LIVE:
		return 4;
	}
	/* Variable, or unknown (vendor tags are passed on unchanged). */
	return 0;
}

/*
 * The optional part: from the cursor to the end of the PDU, every TLV
 * header must fit, every value must fit, and the lengths must add up to
 * exactly the end. Fixed-size TLVs must have their size.
 */
static int
scan_tlvs(struct cursor *c, const struct smpp_limits *lim,
    struct smpp_scan *out, uint32_t *status)
{
	uint32_t max = lim->max_tlvs < SMPP_HARD_MAX_TLVS ?
	    lim->max_tlvs : SMPP_HARD_MAX_TLVS;

	out->tlv_off = (uint32_t)(c->pos - out->raw);
	out->n_tlvs = 0;
	while (c->pos < c->end) {
		struct smpp_tlv_view *t;
		unsigned fixed;

		if (c->end - c->pos < 4 || out->n_tlvs >= max) {
			*status = SMPP_RINVOPTPARSTREAM;
			return -1;
		}
		t = &out->tlvs[out->n_tlvs];
		t->tag = (uint16_t)(c->pos[0] << 8 | c->pos[1]);
		t->len = (uint16_t)(c->pos[2] << 8 | c->pos[3]);
		c->pos += 4;
		if ((size_t)(c->end - c->pos) < t->len) {
			*status = SMPP_RINVOPTPARSTREAM;
			return -1;
		}
		fixed = smpp_tlv_fixed_size(t->tag);
		if (fixed != 0 && t->len != fixed) {
			*status = SMPP_RINVPARLEN;
			return -1;
		}
		t->val = c->pos;
		c->pos += t->len;
		out->n_tlvs++;
	}
	return 0;
}

/* The part shared by submit_sm, deliver_sm and submit_multi after the
 * destination(s): esm_class .. short_message. */
static uint32_t
scan_sm_tail(struct cursor *c, struct smpp_scan *s)
{
	uint8_t sm_length;

	if (get_u8(c, &s->esm_class) || get_u8(c, &s->protocol_id) ||
	    get_u8(c, &s->priority_flag))
		return SMPP_RINVCMDLEN;
	if (get_cstr(c, SMPP_TIME_MAX, &s->schedule_delivery_time))
		return SMPP_RINVSCHED;
	if (get_cstr(c, SMPP_TIME_MAX, &s->validity_period))
		return SMPP_RINVEXPIRY;
	if (get_u8(c, &s->registered_delivery) ||
	    get_u8(c, &s->replace_if_present_flag) ||
	    get_u8(c, &s->data_coding) || get_u8(c, &s->sm_default_msg_id) ||
	    get_u8(c, &sm_length))
		return SMPP_RINVCMDLEN;
	if (sm_length > SMPP_SHORT_MESSAGE_MAX ||
	    (size_t)(c->end - c->pos) < sm_length)
		return SMPP_RINVMSGLEN;
	s->short_message.p = c->pos;
	s->short_message.len = sm_length;
	c->pos += sm_length;
	s->has |= SMPP_HAS_SM;
	return SMPP_ROK;
}

static uint32_t
scan_bind(struct cursor *c, struct smpp_scan *s)
{
	if (get_cstr(c, SMPP_SYSTEM_ID_MAX, &s->system_id))
		return SMPP_RINVSYSID;
	if (get_cstr(c, SMPP_PASSWORD_MAX, &s->password))
		return SMPP_RINVPASWD;
	if (get_cstr(c, SMPP_SYSTEM_TYPE_MAX, &s->system_type))
		return SMPP_RINVSYSTYP;
	if (get_u8(c, &s->interface_version) || get_u8(c, &s->addr_ton) ||
	    get_u8(c, &s->addr_npi))
		return SMPP_RINVCMDLEN;
	if (get_cstr(c, SMPP_ADDRESS_RANGE_MAX, &s->address_range))
		return SMPP_RINVPARLEN;
	s->has |= SMPP_HAS_BIND;
	return SMPP_ROK;
}

static uint32_t
scan_submit_sm(struct cursor *c, struct smpp_scan *s)
{
	if (get_cstr(c, SMPP_SERVICE_TYPE_MAX, &s->service_type))
		return SMPP_RINVSERTYP;
	if (get_addr(c, SMPP_ADDR_MAX, &s->src))
		return SMPP_RINVSRCADR;
	if (get_addr(c, SMPP_ADDR_MAX, &s->dst))
		return SMPP_RINVDSTADR;
	return scan_sm_tail(c, s);
}

static uint32_t
scan_data_sm(struct cursor *c, struct smpp_scan *s)
{
	if (get_cstr(c, SMPP_SERVICE_TYPE_MAX, &s->service_type))
		return SMPP_RINVSERTYP;
	if (get_addr(c, SMPP_ADDR65_MAX, &s->src))
		return SMPP_RINVSRCADR;
	if (get_addr(c, SMPP_ADDR65_MAX, &s->dst))
		return SMPP_RINVDSTADR;
	if (get_u8(c, &s->esm_class) || get_u8(c, &s->registered_delivery) ||
	    get_u8(c, &s->data_coding))
		return SMPP_RINVCMDLEN;
	s->short_message.p = empty_string;
	s->short_message.len = 0;
	s->has |= SMPP_HAS_SM;
	return SMPP_ROK;
}

static uint32_t
scan_submit_multi(struct cursor *c, struct smpp_scan *s)
{
	const uint8_t *start;

	if (get_cstr(c, SMPP_SERVICE_TYPE_MAX, &s->service_type))
		return SMPP_RINVSERTYP;
	if (get_addr(c, SMPP_ADDR_MAX, &s->src))
		return SMPP_RINVSRCADR;
	if (get_u8(c, &s->number_of_dests))
		return SMPP_RINVCMDLEN;
	if (s->number_of_dests == 0 || s->number_of_dests > SMPP_MAX_DESTS)
		return SMPP_RINVNUMDESTS;
	start = c->pos;
	for (unsigned i = 0; i < s->number_of_dests; i++) {
		struct smpp_addr a;
		struct smpp_str name;
		uint8_t flag;

		if (get_u8(c, &flag))
			return SMPP_RINVCMDLEN;
		if (flag == 1) {
			if (get_addr(c, SMPP_ADDR_MAX, &a))
				return SMPP_RINVDSTADR;
		} else if (flag == 2) {
			if (get_cstr(c, SMPP_DL_NAME_MAX, &name))
				return SMPP_RINVDLNAME;
		} else {
			return SMPP_RINVDESTFLAG;
		}
	}
	s->dests.p = start;
	s->dests.len = (uint16_t)(c->pos - start);
	s->has |= SMPP_HAS_DESTS;
	return scan_sm_tail(c, s);
}

static uint32_t
scan_query_sm(struct cursor *c, struct smpp_scan *s)
{
	if (get_cstr(c, SMPP_MESSAGE_ID_MAX, &s->message_id))
		return SMPP_RINVMSGID;
	s->has |= SMPP_HAS_MESSAGE_ID;
	if (get_addr(c, SMPP_ADDR_MAX, &s->src))
		return SMPP_RINVSRCADR;
	return SMPP_ROK;
}

static uint32_t
scan_cancel_sm(struct cursor *c, struct smpp_scan *s)
{
	if (get_cstr(c, SMPP_SERVICE_TYPE_MAX, &s->service_type))
		return SMPP_RINVSERTYP;
	if (get_cstr(c, SMPP_MESSAGE_ID_MAX, &s->message_id))
		return SMPP_RINVMSGID;
	s->has |= SMPP_HAS_MESSAGE_ID;
	if (get_addr(c, SMPP_ADDR_MAX, &s->src))
		return SMPP_RINVSRCADR;
	if (get_addr(c, SMPP_ADDR_MAX, &s->dst))
		return SMPP_RINVDSTADR;
	return SMPP_ROK;
}

static uint32_t
scan_replace_sm(struct cursor *c, struct smpp_scan *s)
{
	uint8_t sm_length;

	if (get_cstr(c, SMPP_MESSAGE_ID_MAX, &s->message_id))
		return SMPP_RINVMSGID;
	s->has |= SMPP_HAS_MESSAGE_ID;
	if (get_addr(c, SMPP_ADDR_MAX, &s->src))
		return SMPP_RINVSRCADR;
	if (get_cstr(c, SMPP_TIME_MAX, &s->schedule_delivery_time))
		return SMPP_RINVSCHED;
	if (get_cstr(c, SMPP_TIME_MAX, &s->validity_period))
		return SMPP_RINVEXPIRY;
	if (get_u8(c, &s->registered_delivery) ||
	    get_u8(c, &s->sm_default_msg_id) || get_u8(c, &sm_length))
		return SMPP_RINVCMDLEN;
	if (sm_length > SMPP_SHORT_MESSAGE_MAX ||
	    (size_t)(c->end - c->pos) < sm_length)
		return SMPP_RINVMSGLEN;
	s->short_message.p = c->pos;
	s->short_message.len = sm_length;
	c->pos += sm_length;
	return SMPP_ROK;
}

static uint32_t
scan_alert(struct cursor *c, struct smpp_scan *s)
{
	if (get_addr(c, SMPP_ADDR65_MAX, &s->src))
		return SMPP_RINVSRCADR;
	if (get_addr(c, SMPP_ADDR65_MAX, &s->dst))
		return SMPP_RINVDSTADR;
	return SMPP_ROK;
}

static uint32_t
scan_outbind(struct cursor *c, struct smpp_scan *s)
{
	if (get_cstr(c, SMPP_SYSTEM_ID_MAX, &s->system_id))
		return SMPP_RINVSYSID;
	if (get_cstr(c, SMPP_PASSWORD_MAX, &s->password))
		return SMPP_RINVPASWD;
	s->has |= SMPP_HAS_SYSTEM_ID;
	return SMPP_ROK;
}

/*
 * Responses with a string body. A missing body reads as "". Bind
 * responses accept a system_id up to 65 octets: we only read it, and
 * some SMSCs send longer ones than the spec allows.
 */
static uint32_t
scan_resp_str(struct cursor *c, struct smpp_scan *s, size_t max,
    struct smpp_str *field, uint32_t has)
{
	if (c->pos == c->end) {
		field->p = empty_string;
		field->len = 0;
		s->has |= has;
		return SMPP_ROK;
	}
	if (get_cstr(c, max, field))
		return has == SMPP_HAS_SYSTEM_ID ? SMPP_RINVSYSID :
		    SMPP_RINVMSGID;
	s->has |= has;
	return SMPP_ROK;
}

static uint32_t
scan_query_sm_resp(struct cursor *c, struct smpp_scan *s)
{
	struct smpp_str final_date;
	uint8_t state, error;

	if (get_cstr(c, SMPP_MESSAGE_ID_MAX, &s->message_id))
		return SMPP_RINVMSGID;
	s->has |= SMPP_HAS_MESSAGE_ID;
	if (get_cstr(c, SMPP_TIME_MAX, &final_date) || get_u8(c, &state) ||
	    get_u8(c, &error))
		return SMPP_RINVCMDLEN;
	return SMPP_ROK;
}

static uint32_t
scan_submit_multi_resp(struct cursor *c, struct smpp_scan *s)
{
	uint8_t n;

	if (scan_resp_str(c, s, SMPP_MESSAGE_ID_MAX, &s->message_id,
	    SMPP_HAS_MESSAGE_ID) != SMPP_ROK)
		return SMPP_RINVMSGID;
	if (c->pos == c->end)
		return SMPP_ROK;
	if (get_u8(c, &n))
		return SMPP_RINVCMDLEN;
	for (unsigned i = 0; i < n; i++) {
		struct smpp_addr a;

		if (get_addr(c, SMPP_ADDR_MAX, &a) || c->end - c->pos < 4)
			return SMPP_RINVCMDLEN;
		c->pos += 4;		/* error_status_code */
	}
	return SMPP_ROK;
}

/* Commands whose body is scanned, and whether TLVs may follow it. */
static int
scan_body(struct cursor *c, struct smpp_scan *s, uint32_t *status,
    int *tlvs)
{
	uint32_t st;

	*tlvs = 1;
	switch (s->hdr.id) {
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
		st = scan_bind(c, s);
		break;
	case SMPP_OUTBIND:
		st = scan_outbind(c, s);
		break;
	case SMPP_SUBMIT_SM:
	case SMPP_DELIVER_SM:
		st = scan_submit_sm(c, s);
		break;
	case SMPP_DATA_SM:
		st = scan_data_sm(c, s);
		break;
	case SMPP_SUBMIT_MULTI:
		st = scan_submit_multi(c, s);
		break;
	case SMPP_QUERY_SM:
		st = scan_query_sm(c, s);
		break;
	case SMPP_CANCEL_SM:
		st = scan_cancel_sm(c, s);
		break;
	case SMPP_REPLACE_SM:
		st = scan_replace_sm(c, s);
		break;
	case SMPP_ALERT_NOTIFICATION:
		st = scan_alert(c, s);
		break;
	case SMPP_BIND_RECEIVER_RESP:
	case SMPP_BIND_TRANSMITTER_RESP:
	case SMPP_BIND_TRANSCEIVER_RESP:
		st = scan_resp_str(c, s, SMPP_MESSAGE_ID_MAX, &s->system_id,
		    SMPP_HAS_SYSTEM_ID);
		break;
	case SMPP_SUBMIT_SM_RESP:
	case SMPP_DELIVER_SM_RESP:
	case SMPP_DATA_SM_RESP:
		st = scan_resp_str(c, s, SMPP_MESSAGE_ID_MAX, &s->message_id,
		    SMPP_HAS_MESSAGE_ID);
		break;
	case SMPP_QUERY_SM_RESP:
		st = scan_query_sm_resp(c, s);
		*tlvs = 0;
		break;
	case SMPP_SUBMIT_MULTI_RESP:
		st = scan_submit_multi_resp(c, s);
		*tlvs = 0;
		break;
	case SMPP_GENERIC_NACK:
	case SMPP_UNBIND:
	case SMPP_UNBIND_RESP:
	case SMPP_ENQUIRE_LINK:
	case SMPP_ENQUIRE_LINK_RESP:
	case SMPP_CANCEL_SM_RESP:
	case SMPP_REPLACE_SM_RESP:
		/* Header only; a stray body is ignored, as peers do. */
		*tlvs = 0;
		c->pos = c->end;
		st = SMPP_ROK;
		break;
	default:
		*status = SMPP_RINVCMDID;
		return -1;
	}
	if (st != SMPP_ROK) {
		*status = st;
		return -1;
	}
	return 0;
}

int
smpp_scan(const uint8_t *raw, size_t len, const struct smpp_limits *lim,
    struct smpp_scan *out, uint32_t *status)
{
	struct cursor c;
	int tlvs;

	/* The TLV array is filled by count; the rest starts from zero. */
	memset(out, 0, offsetof(struct smpp_scan, tlvs));
	out->raw = raw;
	out->message_id.p = empty_string;
	if (len < SMPP_HEADER_LEN) {
		*status = SMPP_RINVCMDLEN;
		return -1;
	}
	smpp_hdr_read(raw, &out->hdr);
	if (out->hdr.len != len || smpp_frame_len_ok(out->hdr.len, lim)) {
		*status = SMPP_RINVCMDLEN;
		return -1;
	}
	c.pos = raw + SMPP_HEADER_LEN;
	c.end = raw + len;
	if (scan_body(&c, out, status, &tlvs) != 0) {
		/* An error response is only a status: its body is ignored. */
		if (smpp_is_resp(out->hdr.id) && out->hdr.status != SMPP_ROK &&
		    *status != SMPP_RINVCMDID) {
			out->has = 0;
			out->message_id.p = empty_string;
			out->message_id.len = 0;
			out->tlv_off = (uint32_t)len;
			return 0;
		}
		return -1;
	}
	if (!tlvs) {
		out->tlv_off = (uint32_t)len;
		return 0;
	}
	if (scan_tlvs(&c, lim, out, status) != 0) {
		if (smpp_is_resp(out->hdr.id) && out->hdr.status != SMPP_ROK) {
			out->n_tlvs = 0;
			return 0;
		}
		return -1;
	}
	return 0;
}

const struct smpp_tlv_view *
smpp_scan_tlv(const struct smpp_scan *s, uint16_t tag)
{
	for (unsigned i = 0; i < s->n_tlvs; i++)
		if (s->tlvs[i].tag == tag)
			return &s->tlvs[i];
	return NULL;
}

int
smpp_scan_next_dest(const struct smpp_scan *s, size_t *pos,
    struct smpp_dest_view *d)
{
	struct cursor c;

	if (!(s->has & SMPP_HAS_DESTS) || *pos >= s->dests.len)
		return 0;
	c.pos = s->dests.p + *pos;
	c.end = s->dests.p + s->dests.len;
	memset(d, 0, sizeof(*d));
	/* Validated by smpp_scan(), so these reads cannot fail. */
	if (get_u8(&c, &d->flag))
		return 0;
	if (d->flag == 1) {
		struct smpp_addr a;

		if (get_addr(&c, SMPP_ADDR_MAX, &a))
			return 0;
		d->ton = a.ton;
		d->npi = a.npi;
		d->name = a.addr;
	} else if (get_cstr(&c, SMPP_DL_NAME_MAX, &d->name)) {
		return 0;
	}
	*pos = (size_t)(c.pos - s->dests.p);
	return 1;
}
