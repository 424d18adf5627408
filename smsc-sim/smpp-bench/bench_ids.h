/*
 * The receipt matching table of smpp-bench: message id (from a
 * submit_sm_resp) -> a 64-bit value (the submit time), taken out again by
 * the id a receipt names. Fixed capacity chosen at creation: no
 * allocation after bench_ids_new(), so long runs stay flat in memory.
 *
 * Ids are held as 64-bit hashes of their canonical forms, not as text.
 * In exact mode an id has one form, its bytes. In hexdec mode the forms
 * are those of smpp_dlr_id_canon(..., SMPP_DLR_ID_TOLERANT): the folded
 * text and its hexadecimal and decimal readings, so two ids match exactly
 * when smpp_dlr_id_equivalent() says they are the same message (up to
 * 64-bit hash collisions).
 *
 * Return convention: put returns 0 or a negative BENCH_IDS_E*; take and
 * peek return 1 (found) or 0.
 */
#ifndef BENCH_IDS_H
#define BENCH_IDS_H

#include <stddef.h>
#include <stdint.h>

enum bench_id_match {
	BENCH_ID_EXACT,
	BENCH_ID_HEXDEC,
};

#define BENCH_IDS_EFULL		(-1)	/* max_entries ids held already */
#define BENCH_IDS_EBADID	(-2)	/* empty or over 64 octets */

struct bench_ids;

/* A table for up to max_entries ids (1..2^26); NULL on bad size or no
 * memory. */
struct bench_ids *bench_ids_new(size_t max_entries, enum bench_id_match m);
void bench_ids_free(struct bench_ids *t);

/* Adds id (len octets, not NUL-terminated) with value. Ids already there
 * are added again (a repeated id is two entries). */
int bench_ids_put(struct bench_ids *t, const char *id, size_t len,
    uint64_t value);
/* Finds an entry matching id: 1 with *value set and the entry removed,
 * or 0. */
int bench_ids_take(struct bench_ids *t, const char *id, size_t len,
    uint64_t *value);
/* As take, but the entry stays. */
int bench_ids_peek(const struct bench_ids *t, const char *id, size_t len,
    uint64_t *value);
/* Entries held now. */
size_t bench_ids_count(const struct bench_ids *t);
/* Removes every entry. */
void bench_ids_clear(struct bench_ids *t);

#endif
