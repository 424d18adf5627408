/*
 * Inside the secure pipeline: what mark.c, pipeline.c, pipeline_parts.c
 * and pipeline_receipts.c share. Not for gateway/ (it sees
 * secure/secure.h) nor for registry.c and api.c (they see
 * secure/service_int.h).
 *
 * Threads: loop thread only. Return convention: 0 / -1 unless a
 * function says otherwise.
 */
#ifndef SEC_PIPELINE_INT_H
#define SEC_PIPELINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/store.h"
#include "secure/service_int.h"

struct smpp_scan;
struct event;
struct sec_active;
struct sec_mcache;

/* ---- mark.c ---- */

/* Where a submit's message sits and which part of a concatenated
 * message it is. */
struct sec_body_view {
	const uint8_t	*p;		/* the octets, UDH skipped */
	size_t		 len;
	bool		 multi;		/* a part of several */
	bool		 sar;		/* numbered by the SAR TLVs */
	uint16_t	 ref;
	uint8_t		 total, seq;
};

/* Fills v from req: message_payload when short_message is empty, the
 * UDH (UDHI set) parsed and skipped, SAR TLVs read. -1 when the UDH or
 * the SAR TLVs are malformed. */
int sec_body_of(const struct smpp_scan *req, struct sec_body_view *v);

/* Whether the text in octets p[0..len) of data_coding dcs starts with
 * prefix (ASCII letters in any case). Binary data never does. */
bool sec_text_has_prefix(const char *prefix, uint8_t dcs, const uint8_t *p,
    size_t len);

/* Whether data_coding dcs carries bytes rather than text. */
bool sec_dcs_binary(uint8_t dcs);

/* The key of a concatenated message's group: account|src|dst|ref
 * (DB_KV_PART idx2); -1 if it does not fit cap. */
int sec_group_key(const char *account, const struct smpp_scan *req,
    uint16_t ref, char *out, size_t cap);

/* ---- pipeline.c ---- */

#define SEC_GROUPS_MAX	32768	/* concatenated messages remembered */

/* What the gateway decided for the first part of a concatenated message
 * (prefix marking is read from part 1 only). */
struct sec_group_mark {
	char		key[DB_KV_IDX_MAX + 1];
	bool		used;
	bool		marked;
	int64_t		until;		/* mono-free wall ms; forgotten after */
};

/* A group whose assembly runs (every part's commit lists the group, so
 * several may see it complete at once: one assembles). */
struct sec_busy {
	struct sec_busy		*next;
	char			 key[DB_KV_IDX_MAX + 1];
};

struct sec_pipeline {
	struct sec_service	*svc;
	struct event		*expire_timer;
	struct event		*rewrap_timer;
	struct event		*resend_timer;	/* once, after the start */
	int64_t			 started_at;
	int			 resend_state;	/* SEC_MSG_VAULT, then SEALED */
	int64_t			 resend_after_sort;
	char			 resend_after_key[DB_KV_KEY_MAX + 1];
	uint64_t		 resent;
	bool			 expiring;	/* an expiry round runs */
	unsigned		 expire_batches;
	bool			 rewrapping;
	int64_t			 rewrap_after_sort;
	char			 rewrap_after_key[DB_KV_KEY_MAX + 1];
	struct sec_group_mark	*groups;	/* SEC_GROUPS_MAX, hashed */
	struct sec_notice	*notices;	/* notices in flight */
	struct sec_notice	*notified;	/* accepted, to be recorded */
	struct event		*notified_timer;	/* records them */
	struct sec_busy		*busy;		/* groups being assembled */
	struct sec_active	*actives;	/* devices being sealed to */
	struct sec_mcache	**mcache;	/* per MSISDN: devices, count
						   (pipeline.c) */
	size_t			 mcache_n;
	uint64_t		 in_flight;	/* jobs waiting for storage */
};

/* A message ready to be sealed: everything but the body, which is
 * passed to sec_seal_message beside it. */
struct sec_incoming {
	struct sec_msg_rec	 m;		/* body NULL; part_ids owned */
	char			 group[DB_KV_IDX_MAX + 1];	/* "" single */
	sec_submit_reply	 reply;		/* NULL: no one to answer */
	void			*reply_arg;
};

/* Seals text (len bytes; wiped and freed here, whatever happens) for
 * in->m.msisdn, stores it (with the group's parts deleted in the same
 * write) and sends the notice. in is taken (freed here). */
void sec_seal_message(struct sec_service *svc, struct sec_incoming *in,
    uint8_t *text, size_t len);

/* Decodes the concatenated octets of a message of data_coding dcs to
 * what is stored: UTF-8 text, or the bytes for binary data. A prefix is
 * stripped when the text starts with it. Returns a malloc'd buffer with
 * *len (NULL on failure: bad text or out of memory), *binary set. */
uint8_t *sec_body_decode(uint8_t dcs, const uint8_t *in, size_t in_len,
    const char *prefix, size_t *len, bool *binary);

#define SEC_MAX_DEVICES_WRITE	32	/* copies in one message write */

/* The message's DB_KV_MSG row values. */
void sec_msg_row(const struct sec_msg_rec *m, struct db_kv_op *op,
    void *data, size_t len, int64_t expect);

/* A DB_KV_COPY row of c; key (keycap bytes) gets "id/device_id". */
void sec_copy_row(const struct sec_copy_rec *c, struct db_kv_op *op,
    char *key, size_t keycap, void *data, size_t len, int64_t expect);
/* dst = m without its body; part_ids duplicated (clear dst with
 * sec_rec_msg_clear). -1 when out of memory. */
int sec_msg_copy_head(struct sec_msg_rec *dst, const struct sec_msg_rec *m);

/* Fills m's id, msisdn, account, addresses, registered_delivery,
 * data_coding and received_at from the request. */
void sec_msg_from_req(struct sec_msg_rec *m, const char *account,
    const char *gw_id, const char *msisdn, const struct smpp_scan *req);

/* Marks group as being assembled: false when it already is. */
bool sec_group_busy(struct sec_service *svc, const char *group);
/* Its assembly ended (stored, dropped or failed). */
void sec_group_idle(struct sec_service *svc, const char *group);

/* Wall clock in Unix ms. */

/* ---- pipeline_parts.c ---- */

/* A part of a marked concatenated message: seal it into a DB_KV_PART
 * row, answer after its commit, assemble when it was the last one. */
void sec_part_submit(struct sec_service *svc, const struct sec_mark_rule
    *rule, const char *account, const char *gw_id,
    const struct smpp_scan *req, const struct sec_body_view *bv,
    const char *msisdn, sec_submit_reply reply, void *arg);
/* A group that will never become a message: its rows are deleted, then
 * UNDELIV goes to each of m's parts (m copied; its body is not used). */
void sec_group_drop(struct sec_service *svc, const char *group,
    const struct sec_msg_rec *m);
/* The expiry round of parts: complete groups are assembled, incomplete
 * ones receipted UNDELIV and deleted. done runs when the round ends. */
void sec_parts_expire(struct sec_service *svc, void (*done)(void *),
    void *arg);

/* ---- pipeline_receipts.c ---- */

/* Sends a receipt of stat (enum smpp_dlr_stat) for every part of m to its
 * account, when m's registered_delivery asks for it. */
void sec_receipts(struct sec_service *svc, const struct sec_msg_rec *m,
    int stat);
/* The same for one part id. */
void sec_receipt_one(struct sec_service *svc, const struct sec_msg_rec *m,
    const char *part_id, int stat);
/* Whether registered_delivery rd asks for a receipt of stat. */
bool sec_receipt_wanted(uint8_t rd, int stat);

/* The expiry round of messages (then of parts). */
void sec_expire_round(struct sec_service *svc);
/* The re-wrap round: vault messages under an older key get the newest. */
void sec_rewrap_round(struct sec_service *svc);

/* ---- notices (pipeline.c) ---- */

struct sec_notice;
/* Sends the notice SMS for m (copied); registered picks the template. */
void sec_notice_send(struct sec_service *svc, const struct sec_msg_rec *m,
    bool registered);

#endif
