/*
 * Delivery receipts: which outcome a message gets (the deterministic
 * suffix rule or a weighted random mix), when (the delay distribution),
 * and the bounded queue of receipts waiting for their time.
 *
 * Deterministic rule (documented in docs/smsc-sim.md): the last three
 * digits of the destination pick the outcome:
 *   ...991 UNDELIV err:001   ...992 EXPIRED err:027  ...993 REJECTD err:013
 *   ...994 DELETED err:000   ...995 UNKNOWN err:255  ...996 DELIVRD late
 *   ...997 DELIVRD twice (a duplicate receipt)
 *   anything else: DELIVRD err:000
 *
 * Two containers hold pending receipts (the scheduler in sim_smsc.c keeps
 * their sum under receipts.queue_max and counts drops beyond it):
 * - a binary min-heap on due time, only for receipts with a delay, so
 *   each one is pushed and popped once;
 * - FIFO rings of receipts that are due, one per receiving session and
 *   one per account, kept in due order. The common "delay 0" receipt goes
 *   straight to a ring: O(1), no heap work, and a ring whose receiver is
 *   busy is simply left alone instead of being popped and pushed back.
 * Neither allocates per receipt once grown.
 */
#ifndef SIM_DLR_H
#define SIM_DLR_H

#include <stddef.h>
#include <stdint.h>

#include "sim_config.h"
#include "sim_util.h"

struct sim_outcome_pick {
	enum sim_outcome out;
	uint16_t	 err;		/* network error code (GSM MAP) */
	int		 late;		/* add receipts.late_ms */
	int		 duplicate;	/* send it twice */
};

/* The deterministic rule above for destination dst (len octets). */
void sim_dlr_pick_deterministic(const char *dst, size_t len,
    struct sim_outcome_pick *p);
/* The mix of rc, the delay, late and duplicate from the config. */
void sim_dlr_pick_random(const struct sim_receipts_cfg *rc,
    struct sim_rng *rng, struct sim_outcome_pick *p);
/* Delay in ms before a receipt is due. */
uint32_t sim_dlr_delay(const struct sim_receipts_cfg *rc,
    struct sim_rng *rng);

/* "DELIVRD", ... and the message_state TLV value of an outcome. */
const char *sim_outcome_name(enum sim_outcome o);
uint8_t sim_outcome_state(enum sim_outcome o);
/* The outcome of a name (any case: "delivrd"); -1 if unknown. */
int sim_outcome_parse(const char *name);

/* A receipt waiting for its time. Plain data, copied in and out. */
struct sim_receipt {
	uint64_t	due_ms;
	uint64_t	first_ms;	/* first due time (hold limit) */
	uint64_t	id_num;		/* message id counter */
	uint64_t	conn_serial;	/* the submitting connection */
	int64_t		submit_time;	/* wall clock, seconds */
	uint32_t	acct;		/* account index */
	uint16_t	err;
	uint8_t		out;		/* enum sim_outcome */
	uint8_t		src_ton, src_npi, dst_ton, dst_npi;
	uint8_t		text_len;
	char		src[21];	/* the MT's source (receipt's dest) */
	char		dst[21];
	char		text[20];	/* first 20 octets, printable */
};

struct sim_dlrq;

/* NULL on allocation failure. cap is the most receipts held. */
struct sim_dlrq *sim_dlrq_new(size_t cap);
void sim_dlrq_free(struct sim_dlrq *q);
/* 0, or -1 when full (the caller counts the drop). */
int sim_dlrq_push(struct sim_dlrq *q, const struct sim_receipt *r);
/* The earliest receipt, or NULL if empty (valid until the next call). */
const struct sim_receipt *sim_dlrq_peek(const struct sim_dlrq *q);
/* Removes the earliest receipt into *r; -1 if empty. */
int sim_dlrq_pop(struct sim_dlrq *q, struct sim_receipt *r);
size_t sim_dlrq_len(const struct sim_dlrq *q);
void sim_dlrq_clear(struct sim_dlrq *q);

/*
 * A FIFO ring of receipts. Embedded by value (zeroed = empty, no
 * allocation); the fields are the ring's own. It grows by doubling;
 * sim_rfifo_trim() gives a big block back once a burst is over, so long
 * runs stay flat (called from a slow timer, not on every pop, so that a
 * ring that empties often does not allocate each time). The caller keeps it in
 * due order: it appends receipts that are due now (monotonic clock) or
 * moves in the heap's due ones in their order.
 */
#define SIM_RFIFO_KEEP	4096

struct sim_rfifo {
	struct sim_receipt	*r;
	uint32_t		 head, len, cap;
};

/* 0, or -1 on allocation failure (nothing queued). */
int sim_rfifo_push(struct sim_rfifo *f, const struct sim_receipt *r);
/* The oldest receipt, or NULL if empty (valid until the next change). */
const struct sim_receipt *sim_rfifo_front(const struct sim_rfifo *f);
/* Drops the oldest receipt (no-op when empty). */
void sim_rfifo_pop(struct sim_rfifo *f);
static inline uint32_t
sim_rfifo_len(const struct sim_rfifo *f)
{
	return f->len;
}
/* Frees the memory of an empty ring over SIM_RFIFO_KEEP entries. */
void sim_rfifo_trim(struct sim_rfifo *f);
/* Empties f and frees its memory. */
void sim_rfifo_clear(struct sim_rfifo *f);
/* Moves every receipt of src into dst, merged by due time (both are in
 * due order, so dst stays so); src is left empty. 0, or -1 on allocation
 * failure (then both are unchanged). */
int sim_rfifo_merge(struct sim_rfifo *dst, struct sim_rfifo *src);

#endif
