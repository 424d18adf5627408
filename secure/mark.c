/*
 * Marking: is this submit_sm (or data_sm) one the secure pipeline takes?
 * Per account (struct sec_mark_rule) any of: every message, a
 * service_type value, a vendor TLV whose value is 1, or a text prefix.
 * The prefix is read from the decoded start of the text (GSM 7 unpacked,
 * IA5, Latin-1 or UCS-2 by data_coding), in short_message or in
 * message_payload, after a UDH; ASCII letters match in any case.
 * Stripping the prefix is the pipeline's job, when it seals.
 *
 * Also the small readers the pipeline shares: where the message octets
 * sit, which part of a concatenated message this is, the group key.
 * Pure functions over the scan view; nothing here allocates.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db/store.h"
#include "secure/pipeline_int.h"
#include "smpp/concat.h"
#include "smpp/proto.h"
#include "smpp/scan.h"
#include "smpp/text.h"

bool
sec_dcs_binary(uint8_t dcs)
{
	enum smpp_text_enc e = smpp_text_dcs_enc(dcs, NULL);

	return e == SMPP_TEXT_BINARY || e == SMPP_TEXT_UNSUPPORTED;
}

int
sec_body_of(const struct smpp_scan *req, struct sec_body_view *v)
{
	const struct smpp_tlv_view *t;
	struct smpp_concat_info ci;
	struct smpp_udh u;
	int sar;

	memset(v, 0, sizeof(*v));
	v->p = req->short_message.p;
	v->len = req->short_message.len;
	if (v->len == 0 &&
	    (t = smpp_scan_tlv(req, SMPP_TLV_MESSAGE_PAYLOAD)) != NULL) {
		v->p = t->val;
		v->len = t->len;
	}
	if (req->esm_class & SMPP_ESM_UDHI) {
		if (v->len == 0 || smpp_udh_parse(v->p, v->len, &u, NULL) != 0)
			return -1;
		v->p += u.len;
		v->len -= u.len;
		if (u.concat && u.ci.total > 1) {
			v->multi = true;
			v->ref = u.ci.ref;
			v->total = u.ci.total;
			v->seq = u.ci.seq;
		}
		return 0;
	}
	if ((sar = smpp_sar_read(req, &ci)) == 0)
		return 0;
	if (sar < 0 || ci.total == 0 || ci.seq == 0 || ci.seq > ci.total)
		return -1;
	if (ci.total > 1) {
		v->multi = true;
		v->sar = true;
		v->ref = ci.ref;
		v->total = ci.total;
		v->seq = ci.seq;
	}
	return 0;
}

bool
sec_text_has_prefix(const char *prefix, uint8_t dcs, const uint8_t *p,
    size_t len)
{
	struct smpp_text_opts o;
	size_t plen = strlen(prefix), head;
	char out[4 * 80];
	int n;

	if (plen == 0 || sec_dcs_binary(dcs))
		return false;
	/* enough octets for plen characters in any of the encodings (GSM 7
	 * escapes take two septets, UCS-2 two octets or four) */
	head = 4 * plen + 4;
	if (head > len)
		head = len;
	if (smpp_text_dcs_enc(dcs, NULL) == SMPP_TEXT_UCS2)
		head &= ~(size_t)1;
	smpp_text_opts_default(&o);
	o.flags = SMPP_CHARSET_REPLACE;
	n = smpp_text_decode(dcs, p, head, &o, out, sizeof(out), NULL);
	return n >= 0 && (size_t)n >= plen &&
	    strncasecmp(out, prefix, plen) == 0;
}

/* A TLV "with value 1": 1 in big-endian, whatever its length (1..4). */
static bool
tlv_is_one(const struct smpp_tlv_view *t)
{
	if (t == NULL || t->len == 0 || t->len > 4)
		return false;
	for (uint16_t i = 0; i + 1 < t->len; i++)
		if (t->val[i] != 0)
			return false;
	return t->val[t->len - 1] == 1;
}

bool
sec_mark_match(const struct sec_mark_rule *rule, const struct smpp_scan *req)
{
	struct sec_body_view v;

	if (rule == NULL || !rule->enabled)
		return false;
	if (rule->all)
		return true;
	if (rule->service_type[0] != '\0' &&
	    req->service_type.len == strlen(rule->service_type) &&
	    memcmp(req->service_type.p, rule->service_type,
	    req->service_type.len) == 0)
		return true;
	if (rule->tlv_tag != 0 &&
	    tlv_is_one(smpp_scan_tlv(req, rule->tlv_tag)))
		return true;
	if (rule->prefix[0] != '\0' && sec_body_of(req, &v) == 0 &&
	    (!v.multi || v.seq == 1) &&
	    sec_text_has_prefix(rule->prefix, req->data_coding, v.p, v.len))
		return true;
	return false;
}

int
sec_group_key(const char *account, const struct smpp_scan *req,
    uint16_t ref, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s|%.*s|%.*s|%u", account,
	    (int)req->src.addr.len, (const char *)req->src.addr.p,
	    (int)req->dst.addr.len, (const char *)req->dst.addr.p,
	    (unsigned)ref);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
