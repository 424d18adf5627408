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
 * The queue is a binary min-heap on due time with a fixed capacity
 * (receipts.queue_max): no allocation per receipt once it has grown. When
 * it is full, new receipts are dropped and counted (receipts_dropped).
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

#endif
