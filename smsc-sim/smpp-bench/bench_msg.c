/*
 * Prebuilt submit_sm parts (see bench_msg.h). The text is encoded and
 * split with the smpp/ text codecs, each part goes through the regular
 * encoder once, and the scanner then tells where its destination and its
 * concatenation reference sit, so that composing a message later is two
 * memcpy calls and a few stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/build.h"
#include "smpp/charset.h"
#include "smpp/concat.h"
#include "smpp/pdu.h"
#include "smpp/proto.h"
#include "smpp/scan.h"

#include "bench_msg.h"

#define PLACEHOLDER	"0"

int
bench_enc_parse(const char *s)
{
	static const char *const names[] = { "auto", "gsm7", "ucs2",
	    "latin1", "binary" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int
bench_split_parse(const char *s)
{
	static const char *const names[] = { "udh", "udh16", "sar",
	    "payload" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int
is_numeric_addr(const char *a)
{
	if (*a == '+')
		a++;
	if (*a == '\0')
		return 0;
	return strspn(a, "0123456789") == strlen(a);
}

/* Encodes the text as asked; returns octets or -1 with err set. */
static int
encode_text(const struct bench_msg_spec *sp, uint8_t *out, size_t cap,
    enum smpp_text_enc *enc, char *err, size_t errlen)
{
	struct smpp_charset_err ce = { 0, 0 };
	int n = -1;

	switch (sp->enc) {
	case BENCH_ENC_AUTO:
		n = smpp_text_encode(sp->text, sp->text_len, 0, out, cap, enc,
		    &ce);
		break;
	case BENCH_ENC_GSM7:
		*enc = SMPP_TEXT_GSM7;
		n = smpp_gsm7_from_utf8(sp->text, sp->text_len, out, cap, &ce);
		break;
	case BENCH_ENC_UCS2:
		*enc = SMPP_TEXT_UCS2;
		n = smpp_ucs2_from_utf8(sp->text, sp->text_len, out, cap, &ce);
		break;
	case BENCH_ENC_LATIN1:
		*enc = SMPP_TEXT_LATIN1;
		n = smpp_latin1_from_utf8(sp->text, sp->text_len, out, cap,
		    &ce);
		break;
	case BENCH_ENC_BINARY:
		*enc = SMPP_TEXT_BINARY;
		if (sp->text_len > cap) {
			ce.reason = SMPP_CHARSET_NOSPACE;
			break;
		}
		memcpy(out, sp->text, sp->text_len);
		n = (int)sp->text_len;
		break;
	}
	if (n < 0)
		snprintf(err, errlen, "cannot encode the text as %s: %s at "
		    "byte %zu", sp->enc == BENCH_ENC_AUTO ? "gsm7/ucs2" :
		    smpp_text_enc_name(*enc), smpp_charset_strerror(ce.reason),
		    ce.off);
	return n;
}

/* Encodes one part and finds its offsets. */
static int
finish_part(struct smpp_pdu *pdu, enum bench_split split, int concat,
    struct bench_part *p, char *err, size_t errlen)
{
	struct smpp_limits lim;
	struct smpp_scan *sc;
	uint32_t status = 0;
	size_t cap = smpp_pdu_encoded_max(pdu) + 1, len = 0;
	uint8_t *buf = malloc(cap);

	sc = malloc(sizeof(*sc));
	if (buf == NULL || sc == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (smpp_pdu_encode(pdu, buf, cap, &len) != 0) {
		snprintf(err, errlen, "the submit_sm cannot be encoded (a "
		    "field is too long for SMPP 3.4: service_type at most 5, "
		    "addresses at most 20 characters)");
		goto fail;
	}
	smpp_limits_default(&lim);
	if (smpp_scan(buf, len, &lim, sc, &status) != 0) {
		snprintf(err, errlen, "the encoded submit_sm does not scan: "
		    "%s", smpp_status_name(status));
		goto fail;
	}
	p->raw = buf;
	p->len = len;
	p->dst_off = (size_t)(sc->dst.addr.p - buf);
	p->dst_len = sc->dst.addr.len;
	p->ref_off = 0;
	p->ref_len = 0;
	if (concat && split == BENCH_SPLIT_SAR) {
		const struct smpp_tlv_view *t =
		    smpp_scan_tlv(sc, SMPP_TLV_SAR_MSG_REF_NUM);

		if (t != NULL) {
			p->ref_off = (size_t)(t->val - buf);
			p->ref_len = 2;
		}
	} else if (concat) {
		/* UDHL, IEI, IEDL, then the reference. */
		p->ref_off = (size_t)(sc->short_message.p - buf) + 3;
		p->ref_len = split == BENCH_SPLIT_UDH16 ? 2 : 1;
	}
	free(sc);
	return 0;
fail:
	free(buf);
	free(sc);
	return -1;
}

static void
pdu_base(const struct bench_msg_spec *sp, struct smpp_pdu *pdu, uint8_t dcs)
{
	smpp_pdu_init(pdu, SMPP_SUBMIT_SM);
	snprintf(pdu->service_type, sizeof(pdu->service_type), "%s",
	    sp->service_type != NULL ? sp->service_type : "");
	if (is_numeric_addr(sp->from)) {
		pdu->source_addr_ton = 1;
		pdu->source_addr_npi = 1;
	} else {
		pdu->source_addr_ton = 5;
		pdu->source_addr_npi = 0;
	}
	snprintf(pdu->source_addr, sizeof(pdu->source_addr), "%s", sp->from);
	pdu->dest_addr_ton = 1;
	pdu->dest_addr_npi = 1;
	snprintf(pdu->destination_addr, sizeof(pdu->destination_addr), "%s",
	    PLACEHOLDER);
	pdu->registered_delivery = sp->registered_delivery;
	pdu->data_coding = dcs;
}

static int
add_user_tlvs(const struct bench_msg_spec *sp, struct smpp_pdu *pdu,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < sp->n_tlvs; i++) {
		const struct bench_tlv *t = &sp->tlvs[i];

		if (smpp_pdu_add_tlv(pdu, t->tag, t->val, t->len) != 0) {
			snprintf(err, errlen, "TLV 0x%04x: a value of %u "
			    "octets is not valid for this tag", t->tag,
			    (unsigned)t->len);
			return -1;
		}
	}
	return 0;
}

int
bench_msg_build(const struct bench_msg_spec *sp, struct bench_msg *m,
    char *err, size_t errlen)
{
	struct smpp_concat_part spans[BENCH_MAX_PARTS];
	enum smpp_concat_reason why = SMPP_CONCAT_OK;
	enum smpp_concat_mode mode;
	struct smpp_pdu pdu;
	size_t cap;
	uint8_t *text;
	int n, nparts;

	memset(m, 0, sizeof(*m));
	if (errlen > 0)
		err[0] = '\0';
	if (sp->text_len > BENCH_TEXT_MAX) {
		snprintf(err, errlen, "the text is over %u octets",
		    BENCH_TEXT_MAX);
		return -1;
	}
	if (strlen(sp->from) >= SMPP_ADDR_MAX) {
		snprintf(err, errlen, "--from is over %d characters",
		    SMPP_ADDR_MAX - 1);
		return -1;
	}
	cap = 2 * sp->text_len + 16;
	if ((text = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((n = encode_text(sp, text, cap, &m->enc, err, errlen)) < 0)
		goto fail;
	m->octets = (size_t)n;
	m->dcs = smpp_text_enc_dcs(m->enc);

	if (sp->split == BENCH_SPLIT_PAYLOAD) {
		if (n > 60000) {
			snprintf(err, errlen, "the text is too long for one "
			    "message_payload");
			goto fail;
		}
		if ((m->parts = calloc(1, sizeof(*m->parts))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		pdu_base(sp, &pdu, m->dcs);
		if (smpp_pdu_add_tlv(&pdu, SMPP_TLV_MESSAGE_PAYLOAD, text,
		    (uint16_t)n) != 0 || add_user_tlvs(sp, &pdu, err,
		    errlen) != 0 || finish_part(&pdu, sp->split, 0,
		    &m->parts[0], err, errlen) != 0) {
			if (err[0] == '\0')
				snprintf(err, errlen, "out of memory");
			smpp_pdu_clear(&pdu);
			goto fail;
		}
		smpp_pdu_clear(&pdu);
		m->nparts = 1;
		free(text);
		return 0;
	}

	mode = sp->split == BENCH_SPLIT_UDH16 ? SMPP_CONCAT_UDH16 :
	    sp->split == BENCH_SPLIT_SAR ? SMPP_CONCAT_SAR : SMPP_CONCAT_UDH8;
	nparts = smpp_concat_split(m->enc, text, (size_t)n, mode, spans,
	    BENCH_MAX_PARTS, &why);
	if (nparts < 1) {
		snprintf(err, errlen, "cannot split the text: %s",
		    smpp_concat_strerror(why));
		goto fail;
	}
	if ((m->parts = calloc((size_t)nparts, sizeof(*m->parts))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < nparts; i++) {
		struct smpp_concat_info ci = { 0, (uint8_t)nparts,
		    (uint8_t)(i + 1) };
		int concat = nparts > 1, sm;

		pdu_base(sp, &pdu, m->dcs);
		if (!concat) {
			memcpy(pdu.short_message, text, (size_t)n);
			pdu.sm_length = (uint8_t)n;
		} else {
			sm = smpp_concat_build_sm(m->enc, 0, text, (size_t)n,
			    &spans[i], mode, &ci, pdu.short_message,
			    sizeof(pdu.short_message), &why);
			if (sm < 0) {
				snprintf(err, errlen, "cannot build part %d: "
				    "%s", i + 1, smpp_concat_strerror(why));
				smpp_pdu_clear(&pdu);
				goto fail;
			}
			pdu.sm_length = (uint8_t)sm;
			if (mode == SMPP_CONCAT_SAR) {
				uint8_t ref[2] = { 0, 0 };
				uint8_t tot = ci.total, seq = ci.seq;

				if (smpp_pdu_add_tlv(&pdu,
				    SMPP_TLV_SAR_MSG_REF_NUM, ref, 2) != 0 ||
				    smpp_pdu_add_tlv(&pdu,
				    SMPP_TLV_SAR_TOTAL_SEGMENTS, &tot, 1) != 0 ||
				    smpp_pdu_add_tlv(&pdu,
				    SMPP_TLV_SAR_SEGMENT_SEQNUM, &seq, 1) != 0) {
					snprintf(err, errlen, "out of memory");
					smpp_pdu_clear(&pdu);
					goto fail;
				}
			} else {
				pdu.esm_class |= SMPP_ESM_UDHI;
			}
		}
		if (add_user_tlvs(sp, &pdu, err, errlen) != 0 ||
		    finish_part(&pdu, sp->split, concat, &m->parts[i], err,
		    errlen) != 0) {
			smpp_pdu_clear(&pdu);
			goto fail;
		}
		smpp_pdu_clear(&pdu);
		m->nparts = (unsigned)i + 1;
	}
	free(text);
	return 0;
fail:
	free(text);
	bench_msg_free(m);
	return -1;
}

void
bench_msg_free(struct bench_msg *m)
{
	if (m->parts != NULL)
		for (unsigned i = 0; i < m->nparts; i++)
			free(m->parts[i].raw);
	free(m->parts);
	m->parts = NULL;
	m->nparts = 0;
}

size_t
bench_msg_max_len(const struct bench_msg *m)
{
	size_t max = 0;

	for (unsigned i = 0; i < m->nparts; i++)
		if (m->parts[i].len > max)
			max = m->parts[i].len;
	return max + SMPP_ADDR_MAX;
}

size_t
bench_msg_compose(const struct bench_part *p, const char *dst,
    size_t dst_len, uint16_t ref, uint8_t *out, size_t cap)
{
	size_t head = p->dst_off, tail_off = p->dst_off + p->dst_len;
	size_t tail = p->len - tail_off, len = head + dst_len + tail;

	if (dst_len >= SMPP_ADDR_MAX || len > cap)
		return 0;
	memcpy(out, p->raw, head);
	memcpy(out + head, dst, dst_len);
	memcpy(out + head + dst_len, p->raw + tail_off, tail);
	smpp_put32(out, (uint32_t)len);
	if (p->ref_len != 0) {
		uint8_t *r = out + p->ref_off - p->dst_len + dst_len;

		if (p->ref_len == 2) {
			r[0] = (uint8_t)(ref >> 8);
			r[1] = (uint8_t)ref;
		} else {
			r[0] = (uint8_t)ref;
		}
	}
	return len;
}
