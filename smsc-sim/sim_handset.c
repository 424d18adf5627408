/*
 * Handsets and their SMS lists. A hash table (chained) finds a handset by
 * MSISDN; a creation-order list evicts the oldest when the table is full.
 * Each handset's messages live in a ring whose text buffers are reused,
 * so a long run allocates only when new handsets appear. Multipart parts
 * are joined with smpp/concat.h's reassembly table before decoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smpp/concat.h"
#include "smpp/proto.h"
#include "smpp/text.h"
#include "sim_handset.h"
#include "sim_util.h"

#define REASM_OUT_MAX	(255 * 256)
#define DECODE_MAX	(REASM_OUT_MAX * 3 + 1)

struct sim_handsets {
	struct sim_handset	**buckets;
	size_t			  mask;
	uint32_t		  max;
	uint32_t		  inbox_size;
	uint32_t		  text_max;
	struct sim_handset	 *oldest, *newest;
	uint64_t		  count;
	uint64_t		  seq;
	struct smpp_reasm	 *reasm;
	struct smpp_reasm_limits  rlim;
	uint8_t			 *joined;	/* REASM_OUT_MAX */
	char			 *utf8;		/* DECODE_MAX */
	struct smpp_text_opts	  topts;
	struct sim_handsets_stats st;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return h;
}

struct sim_handsets *
sim_handsets_new(uint32_t max_handsets, uint32_t inbox_size,
    uint32_t text_max, uint32_t reasm_timeout_ms)
{
	struct sim_handsets *hs = calloc(1, sizeof(*hs));
	size_t nb = 64;

	if (hs == NULL)
		return NULL;
	while (nb < (size_t)max_handsets && nb < (1u << 20))
		nb <<= 1;
	hs->buckets = calloc(nb, sizeof(*hs->buckets));
	hs->mask = nb - 1;
	hs->max = max_handsets;
	hs->inbox_size = inbox_size;
	hs->text_max = text_max;
	hs->rlim.max_groups = 10000;
	hs->rlim.max_bytes = 16u << 20;
	hs->rlim.max_part_len = 65536;
	hs->rlim.timeout = reasm_timeout_ms;
	hs->reasm = smpp_reasm_new(&hs->rlim);
	hs->joined = malloc(REASM_OUT_MAX);
	hs->utf8 = malloc(DECODE_MAX);
	smpp_text_opts_default(&hs->topts);
	hs->topts.flags = SMPP_CHARSET_REPLACE;
	if (hs->buckets == NULL || hs->reasm == NULL || hs->joined == NULL ||
	    hs->utf8 == NULL) {
		sim_handsets_free(hs);
		return NULL;
	}
	return hs;
}

static void
handset_free(struct sim_handset *h, uint32_t inbox_size)
{
	for (uint32_t i = 0; i < inbox_size; i++)
		free(h->box[i].text);
	free(h->box);
	free(h);
}

static void
unlink_handset(struct sim_handsets *hs, struct sim_handset *h)
{
	struct sim_handset **pp = &hs->buckets[hash_str(h->msisdn) & hs->mask];

	while (*pp != NULL && *pp != h)
		pp = &(*pp)->hnext;
	if (*pp == h)
		*pp = h->hnext;
	if (h->older)
		h->older->newer = h->newer;
	else
		hs->oldest = h->newer;
	if (h->newer)
		h->newer->older = h->older;
	else
		hs->newest = h->older;
	hs->count--;
}

void
sim_handsets_reset(struct sim_handsets *hs)
{
	struct sim_handset *h, *n;
	struct smpp_reasm *r;

	for (h = hs->oldest; h != NULL; h = n) {
		n = h->newer;
		handset_free(h, hs->inbox_size);
	}
	memset(hs->buckets, 0, (hs->mask + 1) * sizeof(*hs->buckets));
	hs->oldest = hs->newest = NULL;
	hs->count = 0;
	if ((r = smpp_reasm_new(&hs->rlim)) != NULL) {
		smpp_reasm_free(hs->reasm);
		hs->reasm = r;
	}
	memset(&hs->st, 0, sizeof(hs->st));
}

void
sim_handsets_free(struct sim_handsets *hs)
{
	if (hs == NULL)
		return;
	if (hs->buckets != NULL)
		sim_handsets_reset(hs);
	smpp_reasm_free(hs->reasm);
	free(hs->buckets);
	free(hs->joined);
	free(hs->utf8);
	free(hs);
}

const struct sim_handset *
sim_handsets_find(const struct sim_handsets *hs, const char *msisdn)
{
	struct sim_handset *h = hs->buckets[hash_str(msisdn) & hs->mask];

	while (h != NULL && strcmp(h->msisdn, msisdn) != 0)
		h = h->hnext;
	return h;
}

/* Finds or makes the handset of msisdn (evicting the oldest if full). */
static struct sim_handset *
get_handset(struct sim_handsets *hs, const char *msisdn)
{
	struct sim_handset *h = (struct sim_handset *)sim_handsets_find(hs,
	    msisdn);
	size_t b;

	if (h != NULL)
		return h;
	if (strlen(msisdn) >= SIM_MSISDN_MAX)
		return NULL;
	if (hs->count >= hs->max && hs->oldest != NULL) {
		struct sim_handset *o = hs->oldest;

		unlink_handset(hs, o);
		handset_free(o, hs->inbox_size);
		hs->st.evicted++;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->box = calloc(hs->inbox_size, sizeof(*h->box))) == NULL) {
		free(h);
		return NULL;
	}
	snprintf(h->msisdn, sizeof(h->msisdn), "%s", msisdn);
	h->cap = hs->inbox_size;
	b = hash_str(msisdn) & hs->mask;
	h->hnext = hs->buckets[b];
	hs->buckets[b] = h;
	h->older = hs->newest;
	if (hs->newest)
		hs->newest->newer = h;
	else
		hs->oldest = h;
	hs->newest = h;
	hs->count++;
	return h;
}

/* The next slot of h's ring (the oldest is overwritten when full). */
static struct sim_sms *
new_slot(struct sim_handsets *hs, struct sim_handset *h)
{
	struct sim_sms *m;

	if (h->count < hs->inbox_size) {
		m = &h->box[(h->head + h->count) % hs->inbox_size];
		h->count++;
	} else {
		m = &h->box[h->head];
		h->head = (h->head + 1) % hs->inbox_size;
	}
	m->seq = ++hs->seq;
	m->time = (int64_t)time(NULL);
	return m;
}

static int
set_text(struct sim_handsets *hs, struct sim_sms *m, const char *t,
    size_t n)
{
	m->truncated = 0;
	if (n > hs->text_max) {
		/* Cut on a UTF-8 character boundary. */
		n = hs->text_max;
		while (n > 0 && ((uint8_t)t[n] & 0xC0) == 0x80)
			n--;
		m->truncated = 1;
	}
	if (m->text_cap < n + 1) {
		char *nt = realloc(m->text, n + 1);

		if (nt == NULL)
			return -1;
		m->text = nt;
		m->text_cap = (uint32_t)n + 1;
	}
	memcpy(m->text, t, n);
	m->text[n] = '\0';
	m->text_len = (uint32_t)n;
	return 0;
}

/* Stores a complete message body (no UDH) for the MT's destination. */
static int
store_mt(struct sim_handsets *hs, const struct sim_mt *mt,
    const uint8_t *body, size_t len, uint8_t parts)
{
	struct sim_handset *h = get_handset(hs, mt->dst);
	struct sim_sms *m;
	int n;

	if (h == NULL)
		return -1;
	m = new_slot(hs, h);
	h->received++;
	hs->st.messages++;
	m->dir = 'i';
	sim_copy_str(m->peer, sizeof(m->peer), mt->src);
	sim_copy_str(m->account, sizeof(m->account), mt->account);
	sim_copy_str(m->msgid, sizeof(m->msgid), mt->msgid);
	m->dcs = mt->dcs;
	m->parts = parts;
	m->binary = 0;
	n = smpp_text_decode(mt->dcs, body, len, &hs->topts, hs->utf8,
	    DECODE_MAX, NULL);
	if (n < 0) {
		/* Binary or unsupported: shown as hex (first 64 octets). */
		size_t k = len < 64 ? len : 64, o = 0;

		m->binary = 1;
		for (size_t i = 0; i < k; i++)
			o += (size_t)snprintf(hs->utf8 + o, DECODE_MAX - o,
			    "%02x", body[i]);
		n = (int)o;
	}
	return set_text(hs, m, hs->utf8, (size_t)n);
}

int
sim_handsets_mt(struct sim_handsets *hs, const struct sim_mt *mt,
    uint64_t now_ms)
{
	struct smpp_concat_info ci;
	const uint8_t *body = mt->sm;
	size_t blen = mt->sm_len, out_len = 0;
	char key[SMPP_REASM_KEY_MAX];
	int have_ci = 0, rc;

	hs->st.parts++;
	if (mt->esm_class & SMPP_ESM_UDHI) {
		struct smpp_udh u;

		if (smpp_udh_parse(mt->sm, mt->sm_len, &u, NULL) != 0) {
			/* A broken UDH: keep the message, shown as binary. */
			return store_mt(hs, &(struct sim_mt){ .account =
			    mt->account, .src = mt->src, .dst = mt->dst,
			    .msgid = mt->msgid, .dcs = SMPP_DCS_BINARY },
			    mt->sm, mt->sm_len, 1);
		}
		body = mt->sm + u.len;
		blen = mt->sm_len - u.len;
		if (u.concat) {
			ci = u.ci;
			have_ci = 1;
		}
	} else if (mt->sar) {
		ci.ref = mt->sar_ref;
		ci.total = mt->sar_total;
		ci.seq = mt->sar_seq;
		have_ci = ci.total >= 1 && ci.seq >= 1 && ci.seq <= ci.total;
	}
	if (!have_ci || ci.total <= 1)
		return store_mt(hs, mt, body, blen, 1);
	snprintf(key, sizeof(key), "%s|%s|%s", mt->account, mt->src, mt->dst);
	rc = smpp_reasm_add(hs->reasm, key, &ci, body, blen, now_ms,
	    hs->joined, REASM_OUT_MAX, &out_len, NULL);
	if (rc < 0) {
		hs->st.reasm_failed++;
		/* Table full or the group broke: show the part alone. */
		return store_mt(hs, mt, body, blen, 1);
	}
	if (rc == SMPP_REASM_COMPLETE)
		return store_mt(hs, mt, hs->joined, out_len, ci.total);
	return 0;
}

int
sim_handsets_mo(struct sim_handsets *hs, const char *msisdn, const char *to,
    const char *account, const char *text, uint8_t dcs, uint8_t parts)
{
	struct sim_handset *h = get_handset(hs, msisdn);
	struct sim_sms *m;

	if (h == NULL)
		return -1;
	m = new_slot(hs, h);
	h->sent++;
	m->dir = 'o';
	snprintf(m->peer, sizeof(m->peer), "%s", to);
	snprintf(m->account, sizeof(m->account), "%s", account);
	m->msgid[0] = '\0';
	m->dcs = dcs;
	m->parts = parts;
	m->binary = 0;
	return set_text(hs, m, text, strlen(text));
}

void
sim_handsets_tick(struct sim_handsets *hs, uint64_t now_ms)
{
	struct smpp_reasm_expired x;

	while (smpp_reasm_expire(hs->reasm, now_ms, &x) == 1)
		hs->st.reasm_expired++;
}

const struct sim_handset *
sim_handsets_next(const struct sim_handsets *hs,
    const struct sim_handset *prev)
{
	return prev == NULL ? hs->newest : prev->older;
}

const struct sim_sms *
sim_handset_sms(const struct sim_handset *h, uint32_t i)
{
	return &h->box[(h->head + i) % h->cap];
}

void
sim_handsets_get_stats(const struct sim_handsets *hs,
    struct sim_handsets_stats *st)
{
	*st = hs->st;
	st->handsets = hs->count;
	st->reasm_pending = smpp_reasm_pending(hs->reasm);
}
