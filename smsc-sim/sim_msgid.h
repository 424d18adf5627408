/*
 * Message id formats: real SMSCs answer submit_sm with ids of many
 * shapes, and gateways break on them, so each account picks one. Ids are
 * made from a 64-bit counter (unique within a run) without allocation.
 */
#ifndef SIM_MSGID_H
#define SIM_MSGID_H

#include <stddef.h>
#include <stdint.h>

enum sim_msgid_fmt {
	SIM_ID_DECIMAL,		/* 1234567 */
	SIM_ID_HEX,		/* 0012d687 (lower case, at least 8) */
	SIM_ID_HEX_UPPER,	/* 0012D687 */
	SIM_ID_UUID,		/* 8-4-4-4-12 lower-case hex */
	SIM_ID_DIGITS10,	/* exactly 10 decimal digits */
	SIM_ID_DIGITS20,	/* exactly 20 decimal digits */
};

#define SIM_MSGID_MAX	40	/* buffer size that fits every format */

/* "decimal", "hex", "HEX", "uuid", "digits10", "digits20" -> format;
 * -1 if unknown. */
int sim_msgid_parse_fmt(const char *name);
const char *sim_msgid_fmt_name(enum sim_msgid_fmt f);

/* Writes the id of counter n (salt makes UUIDs differ between runs) into
 * buf (at least SIM_MSGID_MAX bytes). Returns its length. */
size_t sim_msgid_format(enum sim_msgid_fmt f, uint64_t n, uint64_t salt,
    char *buf);

/* The counter n whose id (sim_msgid_format with f and salt) is exactly
 * the len octets at id: 0 and *n, or -1 if no counter gives them. */
int sim_msgid_read(enum sim_msgid_fmt f, const char *id, size_t len,
    uint64_t salt, uint64_t *n);

#endif
