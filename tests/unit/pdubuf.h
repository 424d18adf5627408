/*
 * Test helper: builds raw PDUs field by field, the way a peer would put
 * them on the wire, so tests can make valid and broken PDUs alike.
 * Header-only; every test owns its own struct pdubuf on the stack.
 */
#ifndef TESTS_PDUBUF_H
#define TESTS_PDUBUF_H

#include <stdint.h>
#include <string.h>

struct pdubuf {
	uint8_t	b[70000];
	size_t	n;
};

static inline void
pb_u8(struct pdubuf *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static inline void
pb_u16(struct pdubuf *p, uint16_t v)
{
	pb_u8(p, (uint8_t)(v >> 8));
	pb_u8(p, (uint8_t)v);
}

static inline void
pb_u32(struct pdubuf *p, uint32_t v)
{
	pb_u16(p, (uint16_t)(v >> 16));
	pb_u16(p, (uint16_t)v);
}

static inline void
pb_bytes(struct pdubuf *p, const void *v, size_t n)
{
	memcpy(p->b + p->n, v, n);
	p->n += n;
}

/* A C-Octet string, NUL included. */
static inline void
pb_cstr(struct pdubuf *p, const char *s)
{
	pb_bytes(p, s, strlen(s) + 1);
}

/* Starts a PDU: the length is filled in by pb_end(). */
static inline void
pb_start(struct pdubuf *p, uint32_t id, uint32_t status, uint32_t seq)
{
	p->n = 0;
	pb_u32(p, 0);
	pb_u32(p, id);
	pb_u32(p, status);
	pb_u32(p, seq);
}

static inline void
pb_tlv(struct pdubuf *p, uint16_t tag, const void *v, uint16_t len)
{
	pb_u16(p, tag);
	pb_u16(p, len);
	pb_bytes(p, v, len);
}

static inline size_t
pb_end(struct pdubuf *p)
{
	uint32_t n = (uint32_t)p->n;

	p->b[0] = (uint8_t)(n >> 24);
	p->b[1] = (uint8_t)(n >> 16);
	p->b[2] = (uint8_t)(n >> 8);
	p->b[3] = (uint8_t)n;
	return p->n;
}

/* submit_sm/deliver_sm body up to and including short_message. */
static inline void
pb_sm_body(struct pdubuf *p, const char *svc, uint8_t ston, uint8_t snpi,
    const char *src, uint8_t dton, uint8_t dnpi, const char *dst,
    uint8_t esm, uint8_t regdlv, uint8_t dcs, const void *sm, uint8_t smlen)
{
	pb_cstr(p, svc);
	pb_u8(p, ston);
	pb_u8(p, snpi);
	pb_cstr(p, src);
	pb_u8(p, dton);
	pb_u8(p, dnpi);
	pb_cstr(p, dst);
	pb_u8(p, esm);
	pb_u8(p, 0);		/* protocol_id */
	pb_u8(p, 0);		/* priority_flag */
	pb_cstr(p, "");		/* schedule_delivery_time */
	pb_cstr(p, "");		/* validity_period */
	pb_u8(p, regdlv);
	pb_u8(p, 0);		/* replace_if_present_flag */
	pb_u8(p, dcs);
	pb_u8(p, 0);		/* sm_default_msg_id */
	pb_u8(p, smlen);
	pb_bytes(p, sm, smlen);
}

#endif
