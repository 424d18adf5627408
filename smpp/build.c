/*
 * Builders for header-only and single-string PDUs. These carry every
 * response the hot path sends, so they write bytes directly. Also the
 * bounded writer that longer builders (sim_pdu.c, legacy.c) put fields
 * through.
 */
#include <string.h>

#include "build.h"
#include "proto.h"

void
smpp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
smpp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
smpp_writer_put(struct smpp_writer *w, const void *src, size_t n)
{
	if (w->bad || w->cap - w->len < n) {
		w->bad = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

void
smpp_writer_u8(struct smpp_writer *w, uint8_t v)
{
	smpp_writer_put(w, &v, 1);
}

void
smpp_writer_cstr(struct smpp_writer *w, const void *s, size_t n)
{
	smpp_writer_put(w, s, n);
	smpp_writer_u8(w, 0);
}

void
smpp_set_seq(uint8_t *raw, uint32_t seq)
{
	smpp_put32(raw + 12, seq);
}

size_t
smpp_build_header(uint8_t *buf, size_t cap, uint32_t id, uint32_t status,
    uint32_t seq)
{
	if (cap < SMPP_HEADER_LEN)
		return 0;
	smpp_put32(buf, SMPP_HEADER_LEN);
	smpp_put32(buf + 4, id);
	smpp_put32(buf + 8, status);
	smpp_put32(buf + 12, seq);
	return SMPP_HEADER_LEN;
}

size_t
smpp_build_resp_str(uint8_t *buf, size_t cap, uint32_t id, uint32_t status,
    uint32_t seq, const char *str, uint8_t sc_interface_version)
{
	size_t slen = str != NULL ? strnlen(str, SMPP_MESSAGE_ID_MAX) : 0;
	size_t len = SMPP_HEADER_LEN + slen + 1;

	/* message_id is the largest string a response carries (65 with NUL). */
	if (slen >= SMPP_MESSAGE_ID_MAX)
		return 0;
	if (sc_interface_version != 0)
		len += 5;
	if (cap < len)
		return 0;
	smpp_put32(buf, (uint32_t)len);
	smpp_put32(buf + 4, id);
	smpp_put32(buf + 8, status);
	smpp_put32(buf + 12, seq);
	memcpy(buf + SMPP_HEADER_LEN, str != NULL ? str : "", slen);
	buf[SMPP_HEADER_LEN + slen] = '\0';
	if (sc_interface_version != 0) {
		uint8_t *t = buf + SMPP_HEADER_LEN + slen + 1;

		smpp_put16(t, SMPP_TLV_SC_INTERFACE_VERSION);
		smpp_put16(t + 2, 1);
		t[4] = sc_interface_version;
	}
	return len;
}
