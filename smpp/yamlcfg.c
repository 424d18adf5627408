/*
 * The config walker (yamlcfg.h). libyaml's parser hands out one event at a
 * time; this file keeps one event of look-ahead (peek), the nesting depth
 * and a count of events consumed, which is all it needs to skip whatever a
 * callback left unread after an error and carry on with the next key. The
 * first syntax error, alias, anchor or tag ends the walk: past those, the
 * positions of later errors would not be worth much.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "smpp/yamlcfg.h"

#define ERR_MAX		384	/* bytes of one error line */
#define NAME_MAX_	512	/* bytes of the file label */
#define SEEN_MAX	4096	/* keys in one mapping */

struct smpp_yc {
	yaml_parser_t		 p;
	yaml_event_t		 ev;		/* the event read last */
	bool			 have;		/* ev must be deleted */
	bool			 pending;	/* ev was peeked, not consumed */
	bool			 fatal;		/* the walk is over */
	bool			 truncated;	/* errors were dropped */
	unsigned		 depth;		/* open collections consumed */
	uint64_t		 consumed;	/* events consumed */
	struct smpp_yc_mark	 last;		/* of the event consumed last */
	const char		*where;		/* key path of the callback */
	FILE			*f;
	unsigned char		*buf;
	char			 name[NAME_MAX_];
	size_t			 nerr;
	struct smpp_yc_mark	 err_at[SMPP_YC_MAX_ERRORS];
	char			 errs[SMPP_YC_MAX_ERRORS][ERR_MAX];
};

/* ---- errors -------------------------------------------------------- */

void
smpp_yc_quote(const char *v, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, shown = 0;

	if (cap == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (shown == 48) {
			if (o + 4 <= cap) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			if (o + 2 > cap)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 5 > cap)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
		shown++;
	}
	out[o] = '\0';
}

static int
verror_at(struct smpp_yc *y, const struct smpp_yc_mark *m, const char *path,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static int
verror_at(struct smpp_yc *y, const struct smpp_yc_mark *m, const char *path,
    const char *fmt, va_list ap)
{
	char *e;
	int n;

	if (y->nerr >= SMPP_YC_MAX_ERRORS) {
		/* Enough to fix first; the rest would mostly be echoes. */
		y->truncated = true;
		y->fatal = true;
		return -1;
	}
	y->err_at[y->nerr] = *m;
	e = y->errs[y->nerr++];
	if (path != NULL && path[0] != '\0')
		n = snprintf(e, ERR_MAX, "%s:%u:%u: %s: ", y->name,
		    (unsigned)m->line, (unsigned)m->column, path);
	else
		n = snprintf(e, ERR_MAX, "%s:%u:%u: ", y->name,
		    (unsigned)m->line, (unsigned)m->column);
	if (n >= 0 && (size_t)n < ERR_MAX)
		vsnprintf(e + n, ERR_MAX - (size_t)n, fmt, ap);
	return -1;
}

int
smpp_yc_error_at(struct smpp_yc *y, const struct smpp_yc_mark *m,
    const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(y, m, path, fmt, ap);
	va_end(ap);
	return -1;
}

int
smpp_yc_error(struct smpp_yc *y, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(y, &y->last, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* A fatal error at a libyaml mark (0-based). */
static int
fatal_at(struct smpp_yc *y, const yaml_mark_t *ym, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fatal_at(struct smpp_yc *y, const yaml_mark_t *ym, const char *fmt, ...)
{
	struct smpp_yc_mark m;
	va_list ap;

	m.line = (uint32_t)ym->line + 1;
	m.column = (uint32_t)ym->column + 1;
	va_start(ap, fmt);
	verror_at(y, &m, y->where, fmt, ap);
	va_end(ap);
	y->fatal = true;
	return -1;
}

void
smpp_yc_mark(const struct smpp_yc *y, struct smpp_yc_mark *m)
{
	*m = y->last;
}

const char *
smpp_yc_name(const struct smpp_yc *y)
{
	return y->name;
}

size_t
smpp_yc_error_count(const struct smpp_yc *y)
{
	return y->nerr;
}

const char *
smpp_yc_error_text(const struct smpp_yc *y, size_t i)
{
	return i < y->nerr ? y->errs[i] : NULL;
}

static bool
mark_before(const struct smpp_yc_mark *a, const struct smpp_yc_mark *b)
{
	return a->line < b->line || (a->line == b->line &&
	    a->column < b->column);
}

void
smpp_yc_errors_join(const struct smpp_yc *y, char *out, size_t cap)
{
	size_t order[SMPP_YC_MAX_ERRORS], o = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	/* In file order: checks made after the walk (names, clashes) come
	 * last otherwise. Insertion sort, stable, at most 20 entries. */
	for (size_t i = 0; i < y->nerr; i++) {
		size_t j = i;

		while (j > 0 && mark_before(&y->err_at[i],
		    &y->err_at[order[j - 1]])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (size_t i = 0; i < y->nerr && o < cap; i++) {
		int n = snprintf(out + o, cap - o, "%s%s", i ? "\n" : "",
		    y->errs[order[i]]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (y->truncated && o < cap)
		snprintf(out + o, cap - o, "\n%s: too many errors, stopped",
		    y->name);
}

/* ---- events -------------------------------------------------------- */

/* Reads the parser's next event into y->ev; refuses the constructs a
 * config file has no business with. */
static int
fetch(struct smpp_yc *y)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (y->have) {
		yaml_event_delete(&y->ev);
		y->have = false;
	}
	if (!yaml_parser_parse(&y->p, &y->ev)) {
		const char *why = y->p.problem ? y->p.problem : "?";

		if (y->p.context != NULL)
			return fatal_at(y, &y->p.problem_mark,
			    "syntax error: %s (%s at %u:%u)", why,
			    y->p.context,
			    (unsigned)y->p.context_mark.line + 1,
			    (unsigned)y->p.context_mark.column + 1);
		return fatal_at(y, &y->p.problem_mark, "syntax error: %s",
		    why);
	}
	y->have = true;
	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		return fatal_at(y, &y->ev.start_mark,
		    "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		anchor = y->ev.data.scalar.anchor;
		tag = y->ev.data.scalar.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = y->ev.data.mapping_start.anchor;
		tag = y->ev.data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = y->ev.data.sequence_start.anchor;
		tag = y->ev.data.sequence_start.tag;
		break;
	default:
		break;
	}
	if (anchor != NULL)
		return fatal_at(y, &y->ev.start_mark,
		    "anchors are not allowed");
	if (tag != NULL)
		return fatal_at(y, &y->ev.start_mark, "tags are not allowed");
	return 0;
}

/* Consumes the next event (the peeked one first). */
static int
next(struct smpp_yc *y)
{
	if (y->fatal)
		return -1;
	if (!y->pending && fetch(y) != 0)
		return -1;
	y->pending = false;
	y->consumed++;
	y->last.line = (uint32_t)y->ev.start_mark.line + 1;
	y->last.column = (uint32_t)y->ev.start_mark.column + 1;
	switch (y->ev.type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		y->depth++;
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (y->depth > 0)
			y->depth--;
		break;
	default:
		break;
	}
	return 0;
}

/* Consumes events until the depth is back to d (the rest of a node whose
 * start was consumed). */
static void
skip_to(struct smpp_yc *y, unsigned d)
{
	while (!y->fatal && y->depth > d)
		if (next(y) != 0)
			return;
}

enum smpp_yc_kind
smpp_yc_peek(struct smpp_yc *y, struct smpp_yc_mark *m)
{
	if (y->fatal)
		return SMPP_YC_BROKEN;
	if (!y->pending) {
		if (fetch(y) != 0)
			return SMPP_YC_BROKEN;
		y->pending = true;
	}
	if (m != NULL) {
		m->line = (uint32_t)y->ev.start_mark.line + 1;
		m->column = (uint32_t)y->ev.start_mark.column + 1;
	}
	switch (y->ev.type) {
	case YAML_SCALAR_EVENT:
		return SMPP_YC_SCALAR;
	case YAML_MAPPING_START_EVENT:
		return SMPP_YC_MAP;
	case YAML_SEQUENCE_START_EVENT:
		return SMPP_YC_SEQ;
	default:
		return SMPP_YC_END;
	}
}

int
smpp_yc_skip(struct smpp_yc *y)
{
	unsigned d = y->depth;

	switch (smpp_yc_peek(y, NULL)) {
	case SMPP_YC_BROKEN:
		return -1;
	case SMPP_YC_END:
		return 0;	/* nothing to skip */
	default:
		break;
	}
	if (next(y) != 0)
		return -1;
	skip_to(y, d);
	return y->fatal ? -1 : 0;
}

static const char *
kind_name(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT: return "a value";
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_SEQUENCE_START_EVENT: return "a list";
	default: return "nothing";
	}
}

/* ---- walking ------------------------------------------------------- */

/* After a callback: whatever of its node it left unread is skipped, so
 * the walk goes on in step with the file. */
static void
resync(struct smpp_yc *y, uint64_t consumed_before, unsigned depth)
{
	if (y->fatal)
		return;
	if (y->consumed == consumed_before)
		smpp_yc_skip(y);
	else
		skip_to(y, depth);
}

/* Skips a refused key's value; errors inside it name that key. */
static void
skip_at(struct smpp_yc *y, const char *path)
{
	const char *saved = y->where;

	y->where = path;
	smpp_yc_skip(y);
	y->where = saved;
}

static int
map_body(struct smpp_yc *y, const char *path, smpp_yc_key_fn fn, void *ctx)
{
	size_t e0 = y->nerr, n_seen = 0;
	char **seen = NULL;
	unsigned d = y->depth;
	int rc = 0;

	for (;;) {
		char key[SMPP_YC_KEY_MAX + 1], q[SMPP_YC_KEY_MAX * 4 + 8];
		char full[SMPP_YC_PATH_MAX];
		struct smpp_yc_mark km;
		const char *saved;
		uint64_t c0;
		size_t klen;
		int r;

		if (next(y) != 0) {
			rc = -1;
			break;
		}
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		km = y->last;
		if (y->ev.type != YAML_SCALAR_EVENT) {
			smpp_yc_error(y, path[0] ? path : "top level",
			    "keys must be plain words, got %s",
			    kind_name(y->ev.type));
			skip_to(y, d);
			smpp_yc_skip(y);
			continue;
		}
		klen = y->ev.data.scalar.length;
		smpp_yc_quote((const char *)y->ev.data.scalar.value, klen, q,
		    sizeof(q));
		if (snprintf(full, sizeof(full), "%s%s%s", path,
		    path[0] ? "." : "", q) >= (int)sizeof(full))
			full[sizeof(full) - 1] = '\0';	/* cut: still says where */
		if (klen == 0 || klen > SMPP_YC_KEY_MAX ||
		    memchr(y->ev.data.scalar.value, '\0', klen) != NULL) {
			smpp_yc_error_at(y, &km, full, "unknown key");
			skip_at(y, full);
			continue;
		}
		memcpy(key, y->ev.data.scalar.value, klen);
		key[klen] = '\0';
		r = 0;
		for (size_t i = 0; i < n_seen; i++)
			if (strcmp(seen[i], key) == 0)
				r = 1;
		if (r) {
			/* libyaml would let the second one win silently. */
			smpp_yc_error_at(y, &km, full, "duplicate key");
			skip_at(y, full);
			continue;
		}
		if (n_seen >= SEEN_MAX) {
			smpp_yc_error_at(y, &km, full, "more than %d keys in "
			    "one mapping", SEEN_MAX);
			skip_at(y, full);
			continue;
		}
		if (n_seen % 16 == 0) {
			char **ns = realloc(seen, (n_seen + 16) * sizeof(*ns));

			if (ns == NULL) {
				smpp_yc_error_at(y, &km, full,
				    "out of memory");
				y->fatal = true;
				rc = -1;
				break;
			}
			seen = ns;
		}
		if ((seen[n_seen] = strdup(key)) == NULL) {
			smpp_yc_error_at(y, &km, full, "out of memory");
			y->fatal = true;
			rc = -1;
			break;
		}
		n_seen++;
		c0 = y->consumed;
		saved = y->where;
		y->where = full;
		r = fn(y, key, full, ctx);
		if (r == SMPP_YC_UNKNOWN)
			smpp_yc_error_at(y, &km, full, "unknown key");
		resync(y, c0, d);
		y->where = saved;
		if (y->fatal) {
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	free(seen);
	return rc != 0 || y->nerr > e0 ? -1 : 0;
}

int
smpp_yc_walk_map(struct smpp_yc *y, const char *path, smpp_yc_key_fn fn,
    void *ctx)
{
	unsigned d = y->depth;

	if (smpp_yc_peek(y, NULL) == SMPP_YC_END)
		return smpp_yc_error(y, path, "expected a mapping");
	if (next(y) != 0)
		return -1;
	if (y->ev.type != YAML_MAPPING_START_EVENT) {
		smpp_yc_error(y, path, "expected a mapping, got %s",
		    kind_name(y->ev.type));
		skip_to(y, d);
		return -1;
	}
	return map_body(y, path, fn, ctx);
}

int
smpp_yc_walk_seq(struct smpp_yc *y, const char *path, smpp_yc_item_fn fn,
    void *ctx)
{
	size_t e0 = y->nerr;
	unsigned d;

	if (smpp_yc_peek(y, NULL) == SMPP_YC_END)
		return smpp_yc_error(y, path, "expected a list");
	d = y->depth;
	if (next(y) != 0)
		return -1;
	if (y->ev.type != YAML_SEQUENCE_START_EVENT) {
		smpp_yc_error(y, path, "expected a list, got %s",
		    kind_name(y->ev.type));
		skip_to(y, d);
		return -1;
	}
	d = y->depth;
	for (size_t i = 0;; i++) {
		char ipath[SMPP_YC_PATH_MAX];
		const char *saved;
		uint64_t c0;

		switch (smpp_yc_peek(y, NULL)) {
		case SMPP_YC_BROKEN:
			return -1;
		case SMPP_YC_END:
			if (next(y) != 0)
				return -1;
			return y->nerr > e0 ? -1 : 0;
		default:
			break;
		}
		if (snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i) >=
		    (int)sizeof(ipath))
			ipath[sizeof(ipath) - 1] = '\0';
		c0 = y->consumed;
		saved = y->where;
		y->where = ipath;
		fn(y, i, ipath, ctx);
		resync(y, c0, d);
		y->where = saved;
		if (y->fatal)
			return -1;
	}
}

int
smpp_yc_walk_root(struct smpp_yc *y, smpp_yc_key_fn fn, void *ctx)
{
	if (next(y) != 0)
		return -1;
	if (y->ev.type != YAML_STREAM_START_EVENT)
		return smpp_yc_error(y, NULL, "unexpected YAML structure");
	if (next(y) != 0)
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT)
		return 0;	/* an empty file */
	if (y->ev.type != YAML_DOCUMENT_START_EVENT)
		return smpp_yc_error(y, NULL, "unexpected YAML structure");
	switch (smpp_yc_peek(y, NULL)) {
	case SMPP_YC_BROKEN:
		return -1;
	case SMPP_YC_MAP:
		if (next(y) != 0)
			return -1;
		map_body(y, "", fn, ctx);
		break;
	case SMPP_YC_SCALAR:
		if (next(y) != 0)
			return -1;
		/* A document of comments only is an empty plain scalar. */
		if (y->ev.data.scalar.length != 0 ||
		    y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			smpp_yc_error(y, "top level",
			    "expected a mapping, got a value");
		break;
	default:
		smpp_yc_error(y, "top level", "expected a mapping, got a list");
		smpp_yc_skip(y);
		break;
	}
	if (y->fatal || next(y) != 0)
		return -1;
	if (y->ev.type != YAML_DOCUMENT_END_EVENT)
		return smpp_yc_error(y, NULL, "unexpected YAML structure");
	if (next(y) != 0)
		return -1;
	if (y->ev.type != YAML_STREAM_END_EVENT) {
		smpp_yc_error(y, NULL, "only one YAML document is allowed");
		y->fatal = true;
		return -1;
	}
	return y->nerr > 0 ? -1 : 0;
}

/* ---- scalars ------------------------------------------------------- */

/* The next node as a scalar (unquoted when plain); NULL after an error,
 * the node consumed either way. */
static const char *
scalar(struct smpp_yc *y, const char *path, bool plain)
{
	unsigned d = y->depth;
	char q[256];

	if (smpp_yc_peek(y, NULL) == SMPP_YC_END) {
		smpp_yc_error(y, path, "expected a value");
		return NULL;
	}
	if (next(y) != 0)
		return NULL;
	if (y->ev.type != YAML_SCALAR_EVENT) {
		smpp_yc_error(y, path, "expected a value, got %s",
		    kind_name(y->ev.type));
		skip_to(y, d);
		return NULL;
	}
	if (plain && y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		smpp_yc_quote((const char *)y->ev.data.scalar.value,
		    y->ev.data.scalar.length, q, sizeof(q));
		smpp_yc_error(y, path, "expected an unquoted value, got '%s'",
		    q);
		return NULL;
	}
	if (memchr(y->ev.data.scalar.value, '\0', y->ev.data.scalar.length)
	    != NULL) {
		smpp_yc_error(y, path, "NUL bytes are not allowed");
		return NULL;
	}
	return (const char *)y->ev.data.scalar.value;
}

/* The current scalar, quoted for an error message. */
static const char *
cur_quoted(const struct smpp_yc *y, char *q, size_t cap)
{
	smpp_yc_quote((const char *)y->ev.data.scalar.value,
	    y->ev.data.scalar.length, q, cap);
	return q;
}

int
smpp_yc_get_scalar(struct smpp_yc *y, const char *path, const char **v,
    size_t *len)
{
	const char *s = scalar(y, path, false);

	if (s == NULL)
		return -1;
	*v = s;
	if (len != NULL)
		*len = y->ev.data.scalar.length;
	return 0;
}

int
smpp_yc_get_str(struct smpp_yc *y, const char *path, char *out, size_t cap,
    unsigned flags)
{
	const char *v = scalar(y, path, false);
	size_t n;

	if (v == NULL)
		return -1;
	n = y->ev.data.scalar.length;
	if (n >= cap)
		return smpp_yc_error(y, path, "longer than %zu bytes",
		    cap - 1);
	if ((flags & SMPP_YC_NONEMPTY) && n == 0)
		return smpp_yc_error(y, path, "must not be empty");
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/* Plain decimal, or hex after 0x; no sign, no spaces. */
static int
parse_u64(const char *v, uint64_t *out)
{
	int base = 10;
	char *end;
	unsigned long long n;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		v += 2;
	}
	if (!((v[0] >= '0' && v[0] <= '9') ||
	    (base == 16 && ((v[0] >= 'a' && v[0] <= 'f') ||
	    (v[0] >= 'A' && v[0] <= 'F')))))
		return -1;
	errno = 0;
	n = strtoull(v, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

int
smpp_yc_get_u32(struct smpp_yc *y, const char *path, uint32_t min,
    uint32_t max, uint32_t *out)
{
	const char *v = scalar(y, path, true);
	uint64_t n;
	char q[256];

	if (v == NULL)
		return -1;
	if (parse_u64(v, &n) != 0 || n < min || n > max)
		return smpp_yc_error(y, path,
		    "expected an integer %u..%u, got '%s'", (unsigned)min,
		    (unsigned)max, cur_quoted(y, q, sizeof(q)));
	*out = (uint32_t)n;
	return 0;
}

int
smpp_yc_get_port(struct smpp_yc *y, const char *path, bool allow0,
    uint16_t *out)
{
	uint32_t v = 0;	/* set on success; gcc -O3 cannot see that */

	if (smpp_yc_get_u32(y, path, allow0 ? 0 : 1, 65535, &v) != 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
smpp_yc_get_bool(struct smpp_yc *y, const char *path, bool *out)
{
	const char *v = scalar(y, path, true);
	char q[256];

	if (v == NULL)
		return -1;
	/* YAML 1.1's yes/no/on/off read as booleans by some tools and as
	 * strings by others; only the two unambiguous words are taken. */
	if (strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0)
		*out = false;
	else
		return smpp_yc_error(y, path,
		    "expected true or false, got '%s'",
		    cur_quoted(y, q, sizeof(q)));
	return 0;
}

int
smpp_yc_get_enum(struct smpp_yc *y, const char *path,
    const struct smpp_yc_enum *tab, int *out)
{
	const char *v = scalar(y, path, true);
	char list[256], q[256];
	size_t n = 0, o = 0;

	if (v == NULL)
		return -1;
	for (n = 0; tab[n].name != NULL; n++)
		if (strcmp(v, tab[n].name) == 0) {
			*out = tab[n].value;
			return 0;
		}
	list[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(list); i++) {
		int w = snprintf(list + o, sizeof(list) - o, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", tab[i].name);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	return smpp_yc_error(y, path, "expected %s, got '%s'", list,
	    cur_quoted(y, q, sizeof(q)));
}

int
smpp_yc_parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct {
		const char	*unit;
		uint64_t	 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].unit) == 0) {
			if (n > UINT64_MAX / units[i].ms)
				return -1;
			*out = n * units[i].ms;
			return 0;
		}
	return -1;
}

/* A duration in the largest unit that says it exactly ("90s", "5m"). */
static void
fmt_duration(uint64_t ms, char *out, size_t cap)
{
	static const struct {
		const char	*unit;
		uint64_t	 ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(out, cap, "%llu%s",
			    (unsigned long long)(ms / units[i].ms),
			    units[i].unit);
			return;
		}
	snprintf(out, cap, "%llums", (unsigned long long)ms);
}

int
smpp_yc_get_duration_ms(struct smpp_yc *y, const char *path,
    uint64_t min_ms, uint64_t max_ms, uint64_t *out)
{
	const char *v = scalar(y, path, true);
	char lo[32], hi[32], q[256];
	uint64_t ms;

	if (v == NULL)
		return -1;
	fmt_duration(min_ms, lo, sizeof(lo));
	fmt_duration(max_ms, hi, sizeof(hi));
	if (smpp_yc_parse_duration_ms(v, &ms) != 0)
		return smpp_yc_error(y, path, "expected a duration like "
		    "500ms, 30s, 5m, 2h or 7d (%s..%s), got '%s'", lo, hi,
		    cur_quoted(y, q, sizeof(q)));
	if (ms < min_ms || ms > max_ms)
		return smpp_yc_error(y, path, "expected %s..%s, got '%s'",
		    lo, hi, cur_quoted(y, q, sizeof(q)));
	*out = ms;
	return 0;
}

/* ---- open and close ------------------------------------------------ */

static struct smpp_yc *
yc_new(const char *name, char *err, size_t errlen)
{
	struct smpp_yc *y = calloc(1, sizeof(*y));

	if (y == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	snprintf(y->name, sizeof(y->name), "%s", name);
	if (!yaml_parser_initialize(&y->p)) {
		snprintf(err, errlen, "%s: out of memory", name);
		free(y);
		return NULL;
	}
	return y;
}

struct smpp_yc *
smpp_yc_open_file(const char *path, char *err, size_t errlen)
{
	struct smpp_yc *y;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((y = yc_new(path, err, errlen)) == NULL) {
		fclose(f);
		return NULL;
	}
	y->f = f;
	yaml_parser_set_input_file(&y->p, f);
	return y;
}

struct smpp_yc *
smpp_yc_open_mem(const char *name, const void *data, size_t len, char *err,
    size_t errlen)
{
	struct smpp_yc *y;

	if ((y = yc_new(name, err, errlen)) == NULL)
		return NULL;
	/* libyaml reads the input lazily: keep our own copy. */
	if ((y->buf = malloc(len ? len : 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		smpp_yc_close(y);
		return NULL;
	}
	if (len)
		memcpy(y->buf, data, len);
	yaml_parser_set_input_string(&y->p, y->buf, len);
	return y;
}

void
smpp_yc_close(struct smpp_yc *y)
{
	if (y == NULL)
		return;
	if (y->have)
		yaml_event_delete(&y->ev);
	yaml_parser_delete(&y->p);
	if (y->f != NULL)
		fclose(y->f);
	free(y->buf);
	free(y);
}
