/*
 * A small walker over libyaml's event API for config files that people
 * write by hand. The loader of a program (sealgate, smsc-sim) describes its
 * schema as callbacks: a key callback per mapping, an item callback per
 * list, and typed getters for the values. The walker does what every such
 * loader needs and none should repeat:
 *   - errors read "file:line:column: key.path: why" (1-based positions);
 *   - duplicate keys, aliases, anchors, tags and a second document are
 *     refused (libyaml accepts them silently);
 *   - scalars are typed here: integers in range and unquoted, booleans are
 *     exactly true or false, enums come from a table, durations need a unit;
 *   - after a bad value the walker skips it and goes on, so one run reports
 *     every error of a file (up to SMPP_YC_MAX_ERRORS); a syntax error ends
 *     the walk.
 *
 * Return convention: functions returning int return 0, or -1 after an
 * error was recorded (read them with smpp_yc_error_count/_text/_join).
 * Key callbacks return 0, SMPP_YC_UNKNOWN for a key they do not know (the
 * walker reports "unknown key"), or -1 after recording an error. A callback
 * need not consume a value it refused: the walker skips what is left.
 */
#ifndef SMPP_YAMLCFG_H
#define SMPP_YAMLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMPP_YC_UNKNOWN		1	/* key callback: not a key of mine */
#define SMPP_YC_MAX_ERRORS	20	/* errors kept; the walk stops after */
#define SMPP_YC_PATH_MAX	192	/* bytes of a dotted key path */
#define SMPP_YC_KEY_MAX		64	/* bytes of one key */

struct smpp_yc;

/* A position in the file, 1-based (libyaml's marks are 0-based). */
struct smpp_yc_mark {
	uint32_t	line;
	uint32_t	column;
};

/* What the next node is (smpp_yc_peek). */
enum smpp_yc_kind {
	SMPP_YC_SCALAR,
	SMPP_YC_MAP,
	SMPP_YC_SEQ,
	SMPP_YC_END,		/* the end of the enclosing collection */
	SMPP_YC_BROKEN,		/* a syntax error was just recorded */
};

/* Flags of smpp_yc_get_str. */
#define SMPP_YC_NONEMPTY	0x01	/* "" is an error */
#define SMPP_YC_SECRET		0x02	/* never echo the value in errors */

/* One name of an enum table; the table ends with a NULL name. */
struct smpp_yc_enum {
	const char	*name;
	int		 value;
};

/* Called with the key read and its value not yet read; path is the
 * dotted path of the key ("links[0].port"). */
typedef int (*smpp_yc_key_fn)(struct smpp_yc *y, const char *key,
    const char *path, void *ctx);
/* Called for item index of a list, its value not yet read; path is
 * "accounts[2]". */
typedef int (*smpp_yc_item_fn)(struct smpp_yc *y, size_t index,
    const char *path, void *ctx);

/* Opens a walker on a file, or on len bytes at data (copied, so the caller
 * may free them) labelled name in errors. NULL with a message in err when
 * the file cannot be opened or memory is short. Free with smpp_yc_close. */
struct smpp_yc *smpp_yc_open_file(const char *path, char *err,
    size_t errlen);
struct smpp_yc *smpp_yc_open_mem(const char *name, const void *data,
    size_t len, char *err, size_t errlen);
void smpp_yc_close(struct smpp_yc *y);

/* The whole stream: exactly one document whose root is a mapping (an empty
 * file or a document of comments calls fn never); fn gets each top key. */
int smpp_yc_walk_root(struct smpp_yc *y, smpp_yc_key_fn fn, void *ctx);
/* The next node must be a mapping (a list): fn per key (per item). */
int smpp_yc_walk_map(struct smpp_yc *y, const char *path, smpp_yc_key_fn fn,
    void *ctx);
int smpp_yc_walk_seq(struct smpp_yc *y, const char *path,
    smpp_yc_item_fn fn, void *ctx);
/* Consumes the next node whatever it is. */
int smpp_yc_skip(struct smpp_yc *y);
/* The kind and position of the next node, without consuming it. */
enum smpp_yc_kind smpp_yc_peek(struct smpp_yc *y, struct smpp_yc_mark *m);

/* Typed getters: each consumes the next node, which must be a scalar.
 * Numbers, booleans, enums and durations must be unquoted. */
/* A string of at most cap-1 bytes without NUL bytes, copied to out. */
int smpp_yc_get_str(struct smpp_yc *y, const char *path, char *out,
    size_t cap, unsigned flags);
/* The scalar as is (any style); *v stays valid until the next call on y. */
int smpp_yc_get_scalar(struct smpp_yc *y, const char *path, const char **v,
    size_t *len);
/* Decimal (or 0x hex) integer in min..max. */
int smpp_yc_get_u32(struct smpp_yc *y, const char *path, uint32_t min,
    uint32_t max, uint32_t *out);
/* A TCP port, 1..65535 (0 too when allow0). */
int smpp_yc_get_port(struct smpp_yc *y, const char *path, bool allow0,
    uint16_t *out);
/* true or false, nothing else (no yes/no/on/off). */
int smpp_yc_get_bool(struct smpp_yc *y, const char *path, bool *out);
/* One of the names of tab; *out gets its value. */
int smpp_yc_get_enum(struct smpp_yc *y, const char *path,
    const struct smpp_yc_enum *tab, int *out);
/* A number with a unit: 500ms, 30s, 5m, 2h, 7d; in milliseconds, in
 * min_ms..max_ms. A bare number is refused: the unit must be said. */
int smpp_yc_get_duration_ms(struct smpp_yc *y, const char *path,
    uint64_t min_ms, uint64_t max_ms, uint64_t *out);

/* Parses a duration string as smpp_yc_get_duration_ms does; 0 or -1. */
int smpp_yc_parse_duration_ms(const char *s, uint64_t *out);

/* Records "name:line:column: path: why" at the node read last (or at m).
 * Always returns -1. path may be NULL or "" (then no key part). */
int smpp_yc_error(struct smpp_yc *y, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int smpp_yc_error_at(struct smpp_yc *y, const struct smpp_yc_mark *m,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The position of the node read last. */
void smpp_yc_mark(const struct smpp_yc *y, struct smpp_yc_mark *m);
/* Writes v into out (cap bytes) with bytes outside printable ASCII as
 * \xNN and at most 48 characters ("..." after), for echoing file text. */
void smpp_yc_quote(const char *v, size_t len, char *out, size_t cap);

/* The label used in messages (the path or the name given). */
const char *smpp_yc_name(const struct smpp_yc *y);
size_t smpp_yc_error_count(const struct smpp_yc *y);
/* Error i (0 = first), or NULL. */
const char *smpp_yc_error_text(const struct smpp_yc *y, size_t i);
/* All errors in file order, one per line (no final newline), truncated to
 * cap; "" when there are none. */
void smpp_yc_errors_join(const struct smpp_yc *y, char *out, size_t cap);

#endif
