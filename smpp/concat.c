/*
 * Concatenated SMS (see concat.h). Outgoing: the gateway's own texts
 * (notifications, OTPs, MO replies) are split here. Incoming: the secure
 * path must hold a whole message before it seals it, so parts that come
 * with a UDH or SAR TLVs are collected in a smpp_reasm table that its
 * caller owns, bounded in groups and bytes and expired by the caller's
 * clock. Layouts follow 3GPP TS 23.040 9.2.3.24.1 and 9.2.3.24.8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "concat.h"
#include "scan.h"

#define IEI_CONCAT8	0x00
#define IEI_CONCAT16	0x08
#define GSM7_ESC	0x1B

static int
fail(enum smpp_concat_reason *why, enum smpp_concat_reason r)
{
	if (why != NULL)
		*why = r;
	return -1;
}

static int
ok(enum smpp_concat_reason *why, int n)
{
	if (why != NULL)
		*why = SMPP_CONCAT_OK;
	return n;
}

const char *
smpp_concat_strerror(enum smpp_concat_reason why)
{
	switch (why) {
	case SMPP_CONCAT_OK:		return "ok";
	case SMPP_CONCAT_NOSPACE:	return "output buffer too small";
	case SMPP_CONCAT_TOOLONG:	return "text needs more than 255 parts";
	case SMPP_CONCAT_BADINPUT:	return "invalid input";
	case SMPP_CONCAT_TRUNCATED:	return "UDH runs past the message";
	case SMPP_CONCAT_BADIE:		return "malformed UDH information element";
	case SMPP_CONCAT_TABLEFULL:	return "reassembly table full";
	case SMPP_CONCAT_TOOBIG:	return "part too long";
	}
	return "unknown error";
}

/* Octets one part may hold: single message, or with the mode's UDH. */
static size_t
part_room(enum smpp_text_enc enc, enum smpp_concat_mode mode, int multi)
{
	/* 140 octets of user data less the UDH; GSM 7 counts septets
	 * (one per octet here), i.e. floor((140 - udh) * 8 / 7), and UCS-2
	 * whole 2-octet units. */
	size_t udh = !multi ? 0 : mode == SMPP_CONCAT_UDH16 ? 7 : 6;

	switch (enc) {
	case SMPP_TEXT_GSM7:
		return (140 - udh) * 8 / 7;
	case SMPP_TEXT_UCS2:
		return (140 - udh) & ~(size_t)1;
	default:
		return 140 - udh;
	}
}

/*
 * Octets of the character at text[i]: an escape pair or a surrogate pair
 * is one character. 0 if the text is not valid for its encoding there.
 */
static size_t
char_len(enum smpp_text_enc enc, const uint8_t *text, size_t len, size_t i)
{
	switch (enc) {
	case SMPP_TEXT_GSM7:
		if (text[i] > 0x7F)
			return 0;
		if (text[i] != GSM7_ESC)
			return 1;
		return i + 1 < len && text[i + 1] <= 0x7F ? 2 : 0;
	case SMPP_TEXT_UCS2:
		if (len - i < 2)
			return 0;
		if (text[i] >= 0xD8 && text[i] <= 0xDB && len - i >= 4 &&
		    text[i + 2] >= 0xDC && text[i + 2] <= 0xDF)
			return 4;
		return 2;
	default:
		return 1;
	}
}

int
smpp_concat_split(enum smpp_text_enc enc, const uint8_t *text, size_t len,
    enum smpp_concat_mode mode, struct smpp_concat_part *parts,
    size_t max_parts, enum smpp_concat_reason *why)
{
	size_t room, n = 0, start = 0;

	if (enc == SMPP_TEXT_UNSUPPORTED || mode > SMPP_CONCAT_SAR ||
	    (len > 0 && text == NULL))
		return fail(why, SMPP_CONCAT_BADINPUT);
	if (enc == SMPP_TEXT_UCS2 && len % 2 != 0)
		return fail(why, SMPP_CONCAT_BADINPUT);
	/* Refuse malformed text whatever its length, one part or many. */
	for (size_t i = 0, c; i < len; i += c)
		if ((c = char_len(enc, text, len, i)) == 0)
			return fail(why, SMPP_CONCAT_BADINPUT);
	if (len <= part_room(enc, mode, 0)) {
		if (max_parts < 1)
			return fail(why, SMPP_CONCAT_NOSPACE);
		parts[0].off = 0;
		parts[0].len = len;
		return ok(why, 1);
	}
	room = part_room(enc, mode, 1);
	for (size_t i = 0, c; i <= len; i += c) {
		c = i < len ? char_len(enc, text, len, i) : 0;
		if (i == len || i + c - start > room) {
			/* Close the part before this character. */
			if (n == 255)
				return fail(why, SMPP_CONCAT_TOOLONG);
			if (n < max_parts) {
				parts[n].off = start;
				parts[n].len = i - start;
			}
			n++;
			start = i;
			if (i == len)
				break;
		}
	}
	if (n > max_parts)
		return fail(why, SMPP_CONCAT_NOSPACE);
	return ok(why, (int)n);
}

static int
info_ok(const struct smpp_concat_info *ci)
{
	return ci->total >= 1 && ci->seq >= 1 && ci->seq <= ci->total;
}

int
smpp_udh_build(enum smpp_concat_mode mode, const struct smpp_concat_info *ci,
    uint8_t *out, size_t cap, enum smpp_concat_reason *why)
{
	if (!info_ok(ci))
		return fail(why, SMPP_CONCAT_BADINPUT);
	if (mode == SMPP_CONCAT_UDH8) {
		if (ci->ref > 0xFF)
			return fail(why, SMPP_CONCAT_BADINPUT);
		if (cap < 6)
			return fail(why, SMPP_CONCAT_NOSPACE);
		out[0] = 5;
		out[1] = IEI_CONCAT8;
		out[2] = 3;
		out[3] = (uint8_t)ci->ref;
		out[4] = ci->total;
		out[5] = ci->seq;
		return ok(why, 6);
	}
	if (mode == SMPP_CONCAT_UDH16) {
		if (cap < 7)
			return fail(why, SMPP_CONCAT_NOSPACE);
		out[0] = 6;
		out[1] = IEI_CONCAT16;
		out[2] = 4;
		out[3] = (uint8_t)(ci->ref >> 8);
		out[4] = (uint8_t)ci->ref;
		out[5] = ci->total;
		out[6] = ci->seq;
		return ok(why, 7);
	}
	return fail(why, SMPP_CONCAT_BADINPUT);
}

int
smpp_concat_build_sm(enum smpp_text_enc enc, int packed, const uint8_t *text,
    size_t text_len, const struct smpp_concat_part *part,
    enum smpp_concat_mode mode, const struct smpp_concat_info *ci,
    uint8_t *out, size_t cap, enum smpp_concat_reason *why)
{
	int hdr = 0, n;

	if (part->off > text_len || part->len > text_len - part->off ||
	    !info_ok(ci))
		return fail(why, SMPP_CONCAT_BADINPUT);
	if (mode != SMPP_CONCAT_SAR && ci->total > 1 &&
	    (hdr = smpp_udh_build(mode, ci, out, cap, why)) < 0)
		return -1;
	if (enc == SMPP_TEXT_GSM7 && packed) {
		struct smpp_charset_err e;

		n = smpp_gsm7_pack(text + part->off, part->len,
		    smpp_udh_fill_bits((size_t)hdr), out + hdr,
		    cap - (size_t)hdr, &e);
		if (n < 0)
			return fail(why, e.reason == SMPP_CHARSET_NOSPACE ?
			    SMPP_CONCAT_NOSPACE : SMPP_CONCAT_BADINPUT);
		return ok(why, hdr + n);
	}
	if (part->len > cap - (size_t)hdr)
		return fail(why, SMPP_CONCAT_NOSPACE);
	if (part->len > 0)
		memcpy(out + hdr, text + part->off, part->len);
	return ok(why, hdr + (int)part->len);
}

int
smpp_udh_parse(const uint8_t *sm, size_t len, struct smpp_udh *u,
    enum smpp_concat_reason *why)
{
	size_t i = 1, end;

	memset(u, 0, sizeof(*u));
	if (len < 1 || (size_t)sm[0] + 1 > len)
		return fail(why, SMPP_CONCAT_TRUNCATED);
	end = (size_t)sm[0] + 1;
	while (i < end) {
		uint8_t iei, iel;
		const uint8_t *v;

		if (end - i < 2)
			return fail(why, SMPP_CONCAT_BADIE);
		iei = sm[i];
		iel = sm[i + 1];
		i += 2;
		if (iel > end - i)
			return fail(why, SMPP_CONCAT_BADIE);
		v = sm + i;
		i += iel;
		if (iei != IEI_CONCAT8 && iei != IEI_CONCAT16)
			continue;	/* ports, indications, EMS, ... */
		if (iel != (iei == IEI_CONCAT8 ? 3 : 4))
			return fail(why, SMPP_CONCAT_BADIE);
		u->concat = 1;
		u->ref16 = iei == IEI_CONCAT16;
		if (u->ref16) {
			u->ci.ref = (uint16_t)(v[0] << 8 | v[1]);
			v++;
		} else
			u->ci.ref = v[0];
		u->ci.total = v[1];
		u->ci.seq = v[2];
		if (!info_ok(&u->ci))
			return fail(why, SMPP_CONCAT_BADIE);
	}
	u->len = end;
	return ok(why, 0);
}

unsigned
smpp_udh_fill_bits(size_t udh_len)
{
	return (unsigned)((7 - (udh_len * 8) % 7) % 7);
}

/*
 * The reassembly table: a fixed array of group slots, a chained hash on
 * (key, ref, total) to find a group, and a list in arrival order of each
 * group's first part. The timeout is the same for all, so the oldest
 * group is the first to expire and expiry looks only at the list head.
 */
struct part {
	uint8_t	*data;
	size_t	 len;
	int	 have;
};

struct group {
	char		 key[SMPP_REASM_KEY_MAX + 1];
	size_t		 keylen;
	uint16_t	 ref;
	uint8_t		 total;
	uint8_t		 received;
	uint64_t	 first;
	size_t		 bytes;
	struct part	*parts;		/* total of them; NULL: slot free */
	int32_t		 hnext;		/* hash chain, or free list */
	int32_t		 older;
	int32_t		 newer;
};

struct smpp_reasm {
	struct smpp_reasm_limits lim;
	struct group	*g;
	int32_t		*bucket;
	size_t		 nbuckets;	/* a power of two */
	int32_t		 free;
	int32_t		 oldest;
	int32_t		 newest;
	size_t		 pending;
	size_t		 bytes;
};

#define REASM_MAX_GROUPS	(1u << 20)

struct smpp_reasm *
smpp_reasm_new(const struct smpp_reasm_limits *lim)
{
	struct smpp_reasm *r;

	if (lim->max_groups < 1 || lim->max_groups > REASM_MAX_GROUPS ||
	    lim->max_part_len < 1)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->lim = *lim;
	for (r->nbuckets = 1; r->nbuckets < 2 * lim->max_groups;)
		r->nbuckets *= 2;
	r->g = calloc(lim->max_groups, sizeof(*r->g));
	r->bucket = malloc(r->nbuckets * sizeof(*r->bucket));
	if (r->g == NULL || r->bucket == NULL) {
		smpp_reasm_free(r);
		return NULL;
	}
	for (size_t i = 0; i < r->nbuckets; i++)
		r->bucket[i] = -1;
	for (size_t i = 0; i < lim->max_groups; i++)
		r->g[i].hnext = i + 1 < lim->max_groups ? (int32_t)(i + 1) : -1;
	r->free = 0;
	r->oldest = r->newest = -1;
	return r;
}

static void
group_clear(struct group *g)
{
	if (g->parts != NULL)
		for (size_t i = 0; i < g->total; i++)
			free(g->parts[i].data);
	free(g->parts);
	g->parts = NULL;
}

void
smpp_reasm_free(struct smpp_reasm *r)
{
	if (r == NULL)
		return;
	if (r->g != NULL)
		for (size_t i = 0; i < r->lim.max_groups; i++)
			group_clear(&r->g[i]);
	free(r->g);
	free(r->bucket);
	free(r);
}

/* FNV-1a over the key, then the ref and total. */
static size_t
group_hash(const struct smpp_reasm *r, const char *key, size_t keylen,
    uint16_t ref, uint8_t total)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < keylen; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	h = (h ^ (ref >> 8)) * 16777619u;
	h = (h ^ (ref & 0xFF)) * 16777619u;
	h = (h ^ total) * 16777619u;
	return h & (r->nbuckets - 1);
}

static int32_t
group_find(const struct smpp_reasm *r, size_t b, const char *key,
    size_t keylen, uint16_t ref, uint8_t total)
{
	for (int32_t i = r->bucket[b]; i >= 0; i = r->g[i].hnext) {
		const struct group *g = &r->g[i];

		if (g->ref == ref && g->total == total &&
		    g->keylen == keylen && memcmp(g->key, key, keylen) == 0)
			return i;
	}
	return -1;
}

/* Unlinks group i from its hash chain and the age list, frees its parts
 * and returns the slot to the free list. */
static void
group_drop(struct smpp_reasm *r, int32_t i)
{
	struct group *g = &r->g[i];
	size_t b = group_hash(r, g->key, g->keylen, g->ref, g->total);
	int32_t *pp = &r->bucket[b];

	while (*pp != i)
		pp = &r->g[*pp].hnext;
	*pp = g->hnext;
	if (g->older >= 0)
		r->g[g->older].newer = g->newer;
	else
		r->oldest = g->newer;
	if (g->newer >= 0)
		r->g[g->newer].older = g->older;
	else
		r->newest = g->older;
	r->bytes -= g->bytes;
	r->pending--;
	group_clear(g);
	g->hnext = r->free;
	r->free = i;
}

/* Joins the parts of a complete group into out. */
static int
group_join(const struct group *g, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = 0;

	if (g->bytes > cap)
		return -1;
	for (size_t i = 0; i < g->total; i++) {
		if (g->parts[i].len > 0)
			memcpy(out + n, g->parts[i].data, g->parts[i].len);
		n += g->parts[i].len;
	}
	*out_len = n;
	return 0;
}

int
smpp_reasm_add(struct smpp_reasm *r, const char *key,
    const struct smpp_concat_info *ci, const uint8_t *data, size_t len,
    uint64_t now, uint8_t *out, size_t cap, size_t *out_len,
    enum smpp_concat_reason *why)
{
	size_t keylen, b;
	int32_t i;
	struct group *g;
	struct part *p;

	keylen = strnlen(key, SMPP_REASM_KEY_MAX + 1);
	if (keylen > SMPP_REASM_KEY_MAX || !info_ok(ci) ||
	    (len > 0 && data == NULL))
		return fail(why, SMPP_CONCAT_BADINPUT);
	if (len > r->lim.max_part_len)
		return fail(why, SMPP_CONCAT_TOOBIG);
	if (ci->total == 1) {
		/* Not concatenated after all: nothing to keep. */
		if (len > cap)
			return fail(why, SMPP_CONCAT_NOSPACE);
		if (len > 0)
			memcpy(out, data, len);
		*out_len = len;
		return ok(why, SMPP_REASM_COMPLETE);
	}
	b = group_hash(r, key, keylen, ci->ref, ci->total);
	if ((i = group_find(r, b, key, keylen, ci->ref, ci->total)) >= 0 &&
	    r->g[i].parts[ci->seq - 1].have)
		return ok(why, SMPP_REASM_DUPLICATE);
	if (len > r->lim.max_bytes - r->bytes || r->bytes > r->lim.max_bytes)
		return fail(why, SMPP_CONCAT_TABLEFULL);
	if (i < 0) {
		if (r->free < 0)
			return fail(why, SMPP_CONCAT_TABLEFULL);
		i = r->free;
		g = &r->g[i];
		if ((g->parts = calloc(ci->total, sizeof(*g->parts))) == NULL)
			return fail(why, SMPP_CONCAT_TABLEFULL);
		r->free = g->hnext;
		memcpy(g->key, key, keylen);
		g->key[keylen] = '\0';
		g->keylen = keylen;
		g->ref = ci->ref;
		g->total = ci->total;
		g->received = 0;
		g->first = now;
		g->bytes = 0;
		g->hnext = r->bucket[b];
		r->bucket[b] = i;
		g->older = r->newest;
		g->newer = -1;
		if (r->newest >= 0)
			r->g[r->newest].newer = i;
		else
			r->oldest = i;
		r->newest = i;
		r->pending++;
	}
	g = &r->g[i];
	p = &g->parts[ci->seq - 1];
	if (len > 0) {
		if ((p->data = malloc(len)) == NULL) {
			if (g->received == 0)
				group_drop(r, i);
			return fail(why, SMPP_CONCAT_TABLEFULL);
		}
		memcpy(p->data, data, len);
	}
	p->len = len;
	p->have = 1;
	g->received++;
	g->bytes += len;
	r->bytes += len;
	if (g->received < g->total)
		return ok(why, SMPP_REASM_PENDING);
	if (group_join(g, out, cap, out_len) != 0) {
		group_drop(r, i);
		return fail(why, SMPP_CONCAT_NOSPACE);
	}
	group_drop(r, i);
	return ok(why, SMPP_REASM_COMPLETE);
}

int
smpp_reasm_expire(struct smpp_reasm *r, uint64_t now,
    struct smpp_reasm_expired *x)
{
	struct group *g;

	if (r->oldest < 0)
		return 0;
	g = &r->g[r->oldest];
	/* A clock that went back leaves groups alone rather than wrapping. */
	if (now < g->first || now - g->first < r->lim.timeout)
		return 0;
	memcpy(x->key, g->key, g->keylen + 1);
	x->ref = g->ref;
	x->total = g->total;
	x->received = g->received;
	x->first = g->first;
	group_drop(r, r->oldest);
	return 1;
}

size_t
smpp_reasm_pending(const struct smpp_reasm *r)
{
	return r->pending;
}

size_t
smpp_reasm_bytes(const struct smpp_reasm *r)
{
	return r->bytes;
}

int
smpp_sar_read(const struct smpp_scan *s, struct smpp_concat_info *ci)
{
	const struct smpp_tlv_view *ref, *total, *seq;

	ref = smpp_scan_tlv(s, SMPP_TLV_SAR_MSG_REF_NUM);
	total = smpp_scan_tlv(s, SMPP_TLV_SAR_TOTAL_SEGMENTS);
	seq = smpp_scan_tlv(s, SMPP_TLV_SAR_SEGMENT_SEQNUM);
	if (ref == NULL && total == NULL && seq == NULL)
		return 0;
	if (ref == NULL || total == NULL || seq == NULL)
		return -1;
	ci->ref = (uint16_t)(ref->val[0] << 8 | ref->val[1]);
	ci->total = total->val[0];
	ci->seq = seq->val[0];
	return 1;
}
