/*
 * The simulated handsets: one per MSISDN that received or sent an SMS,
 * each with a bounded SMS list (oldest dropped) as a phone shows it:
 * multipart messages joined (UDH or SAR), text decoded from data_coding.
 * The number of handsets is bounded too: the oldest one is forgotten.
 *
 * Ownership: the table owns every handset and message; pointers handed
 * out are valid until the next call that adds, evicts or resets.
 */
#ifndef SIM_HANDSET_H
#define SIM_HANDSET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sim_msgid.h"

#define SIM_MSISDN_MAX	21	/* SMPP address + NUL */

struct sim_sms {
	uint64_t	 seq;		/* global order of arrival */
	int64_t		 time;		/* wall clock, seconds */
	char		 dir;		/* 'i' received (MT), 'o' sent (MO) */
	char		 peer[SIM_MSISDN_MAX];	/* from (MT) or to (MO) */
	char		 account[16];
	char		 msgid[SIM_MSGID_MAX];
	uint8_t		 dcs;
	uint8_t		 parts;
	uint8_t		 truncated;
	uint8_t		 binary;	/* not text: shown as hex */
	char		*text;		/* UTF-8, NUL-terminated */
	uint32_t	 text_len;
	uint32_t	 text_cap;
};

struct sim_handset {
	char		 msisdn[SIM_MSISDN_MAX];
	struct sim_sms	*box;		/* ring of inbox_size */
	uint32_t	 cap;		/* ring size */
	uint32_t	 head;		/* oldest */
	uint32_t	 count;
	uint64_t	 received;	/* all time, dropped included */
	uint64_t	 sent;
	struct sim_handset *hnext;	/* hash chain */
	struct sim_handset *older, *newer;	/* creation order */
};

struct sim_handsets;

/* One MT part as it came in (views into the PDU). */
struct sim_mt {
	const char	*account;
	const char	*src;		/* C strings */
	const char	*dst;
	const char	*msgid;
	uint8_t		 dcs;
	uint8_t		 esm_class;
	const uint8_t	*sm;		/* short_message or message_payload */
	size_t		 sm_len;
	int		 sar;		/* sar_* TLVs present */
	uint16_t	 sar_ref;
	uint8_t		 sar_total;
	uint8_t		 sar_seq;
};

struct sim_handsets_stats {
	uint64_t	 handsets;
	uint64_t	 evicted;
	uint64_t	 messages;	/* stored (complete) */
	uint64_t	 parts;		/* MT parts seen */
	uint64_t	 reasm_pending;
	uint64_t	 reasm_expired;
	uint64_t	 reasm_failed;
};

struct sim_handsets *sim_handsets_new(uint32_t max_handsets,
    uint32_t inbox_size, uint32_t text_max, uint32_t reasm_timeout_ms);
void sim_handsets_free(struct sim_handsets *hs);
/* Forgets every handset and pending part. */
void sim_handsets_reset(struct sim_handsets *hs);

/* Stores one MT part; a part of a multipart message is held until the
 * last one comes. Returns 0, or -1 when memory is short. */
int sim_handsets_mt(struct sim_handsets *hs, const struct sim_mt *mt,
    uint64_t now_ms);

/* Records a text the handset msisdn sent (MO) to "to". */
int sim_handsets_mo(struct sim_handsets *hs, const char *msisdn,
    const char *to, const char *account, const char *text, uint8_t dcs,
    uint8_t parts);

/* Drops stale partial messages; call about once a second. */
void sim_handsets_tick(struct sim_handsets *hs, uint64_t now_ms);

const struct sim_handset *sim_handsets_find(const struct sim_handsets *hs,
    const char *msisdn);
/* Newest first: start with NULL, then the previous result. */
const struct sim_handset *sim_handsets_next(const struct sim_handsets *hs,
    const struct sim_handset *prev);
/* The i-th message of h, oldest first (i < h->count). */
const struct sim_sms *sim_handset_sms(const struct sim_handset *h,
    uint32_t i);
void sim_handsets_get_stats(const struct sim_handsets *hs,
    struct sim_handsets_stats *st);

#endif
