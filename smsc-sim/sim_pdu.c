/*
 * The deliver_sm writer: a bounded cursor over the caller's buffer.
 */
#include <string.h>

#include "smpp/build.h"
#include "smpp/proto.h"
#include "sim_pdu.h"

struct wcur {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	int	 bad;
};

static void
put(struct wcur *w, const void *src, size_t n)
{
	if (w->bad || w->cap - w->len < n) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
put8(struct wcur *w, uint8_t v)
{
	put(w, &v, 1);
}

static void
putstr(struct wcur *w, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= max) {
		w->bad = 1;
		return;
	}
	put(w, s ? s : "", n);
	put8(w, 0);
}

size_t
sim_build_deliver(uint8_t *buf, size_t cap, const struct sim_deliver *d)
{
	struct wcur w = { buf, 0, cap, 0 };
	uint8_t hdr[SMPP_HEADER_LEN];

	if (d->sm_len > SMPP_SHORT_MESSAGE_MAX || d->n_tlvs > SIM_PDU_MAX_TLVS)
		return 0;
	smpp_build_header(hdr, sizeof(hdr), SMPP_DELIVER_SM, 0, 1);
	put(&w, hdr, sizeof(hdr));
	put8(&w, 0);				/* service_type "" */
	put8(&w, d->src_ton);
	put8(&w, d->src_npi);
	putstr(&w, d->src, SMPP_ADDR_MAX);
	put8(&w, d->dst_ton);
	put8(&w, d->dst_npi);
	putstr(&w, d->dst, SMPP_ADDR_MAX);
	put8(&w, d->esm_class);
	put8(&w, 0);				/* protocol_id */
	put8(&w, 0);				/* priority_flag */
	put8(&w, 0);				/* schedule_delivery_time */
	put8(&w, 0);				/* validity_period */
	put8(&w, 0);				/* registered_delivery */
	put8(&w, 0);				/* replace_if_present */
	put8(&w, d->data_coding);
	put8(&w, 0);				/* sm_default_msg_id */
	put8(&w, (uint8_t)d->sm_len);
	put(&w, d->sm, d->sm_len);
	for (size_t i = 0; i < d->n_tlvs; i++) {
		uint8_t th[4];

		smpp_put16(th, d->tlvs[i].tag);
		smpp_put16(th + 2, d->tlvs[i].len);
		put(&w, th, 4);
		put(&w, d->tlvs[i].val, d->tlvs[i].len);
	}
	if (w.bad)
		return 0;
	smpp_put32(buf, (uint32_t)w.len);
	return w.len;
}
