/*
 * Delivery receipt text (see dlr.h). The gateway reads the SMSC's receipt
 * to find the message it is about, rewrites the id to the one the ESME
 * was given, and writes receipts of its own for secure messages. SMSCs
 * differ a lot in the details of this free-text format, so the parser is
 * a key scanner, not a template match: it finds known keys wherever they
 * are and reads each value by that field's own character class.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dlr.h"
#include "scan.h"

static int
fail(enum smpp_dlr_reason *why, enum smpp_dlr_reason r)
{
	if (why != NULL)
		*why = r;
	return -1;
}

static int
ok(enum smpp_dlr_reason *why, int n)
{
	if (why != NULL)
		*why = SMPP_DLR_OK;
	return n;
}

const char *
smpp_dlr_strerror(enum smpp_dlr_reason why)
{
	switch (why) {
	case SMPP_DLR_OK:	return "ok";
	case SMPP_DLR_NOSPACE:	return "output buffer too small";
	case SMPP_DLR_NOID:	return "receipt has no id";
	case SMPP_DLR_BADID:	return "message id too long or not printable";
	case SMPP_DLR_BADINPUT:	return "invalid receipt field";
	}
	return "unknown error";
}

static const char *const stat_names[] = {
	NULL, "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV",
	"ACCEPTD", "UNKNOWN", "REJECTD",
};

const char *
smpp_dlr_stat_name(enum smpp_dlr_stat stat)
{
	if ((unsigned)stat >= sizeof(stat_names) / sizeof(stat_names[0]))
		return NULL;
	return stat_names[stat];
}

/* Spelled-out forms some SMSCs send instead of the 7-letter ones. */
static const struct {
	const char		*name;
	enum smpp_dlr_stat	 stat;
} stat_aliases[] = {
	{ "DELIVERED", SMPP_DLR_DELIVRD },
	{ "UNDELIVERABLE", SMPP_DLR_UNDELIV },
	{ "UNDELIVERED", SMPP_DLR_UNDELIV },
	{ "ACCEPTED", SMPP_DLR_ACCEPTD },
	{ "REJECTED", SMPP_DLR_REJECTD },
	{ "REJECT", SMPP_DLR_REJECTD },
	{ "EN_ROUTE", SMPP_DLR_ENROUTE },
};

static int
ci_equal(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (toupper((unsigned char)a[i]) != toupper((unsigned char)b[i]))
			return 0;
	return 1;
}

static enum smpp_dlr_stat
stat_lookup(const char *v, size_t n)
{
	for (unsigned s = SMPP_DLR_ENROUTE; s <= SMPP_DLR_REJECTD; s++)
		if (ci_equal(v, n, stat_names[s]))
			return (enum smpp_dlr_stat)s;
	for (size_t i = 0; i < sizeof(stat_aliases) / sizeof(stat_aliases[0]);
	    i++)
		if (ci_equal(v, n, stat_aliases[i].name))
			return stat_aliases[i].stat;
	/* A message_state number instead of a name. */
	if (n == 1 && v[0] >= '1' && v[0] <= '8')
		return (enum smpp_dlr_stat)(v[0] - '0');
	return SMPP_DLR_STAT_NONE;
}

/* NUL counts as a separator: some SMSCs pad or terminate with it. */
static int
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

static const struct {
	const char		*key;	/* ' ' matches any run of ' ' or '_' */
	enum smpp_dlr_field	 field;
} keys[] = {
	{ "id", SMPP_DLR_F_ID },
	{ "sub", SMPP_DLR_F_SUB },
	{ "dlvrd", SMPP_DLR_F_DLVRD },
	{ "submit date", SMPP_DLR_F_SUBMIT_DATE },
	{ "done date", SMPP_DLR_F_DONE_DATE },
	{ "stat", SMPP_DLR_F_STAT },
	{ "err", SMPP_DLR_F_ERR },
	{ "text", SMPP_DLR_F_TEXT },
};

/*
 * If a known key and its colon start at in[i], returns its field and sets
 * *vpos just past the colon; else 0.
 */
static enum smpp_dlr_field
key_at(const char *in, size_t len, size_t i, size_t *vpos)
{
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *p = keys[k].key;
		size_t j = i;

		for (; *p != '\0'; p++) {
			if (*p == ' ') {
				while (j < len && (in[j] == ' ' || in[j] == '_'))
					j++;
				continue;
			}
			if (j >= len || tolower((unsigned char)in[j]) != *p)
				break;
			j++;
		}
		if (*p != '\0')
			continue;
		/* "Id :" has been seen too. */
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j < len && in[j] == ':') {
			*vpos = j + 1;
			return keys[k].field;
		}
	}
	return 0;
}

/* End of the run of characters from i for which ok() holds. */
static size_t
span(const char *in, size_t len, size_t i, int (*okc)(int))
{
	while (i < len && okc((unsigned char)in[i]))
		i++;
	return i;
}

static int
not_sep(int c)
{
	return !is_sep((char)c);
}

static int
is_word(int c)
{
	return isalnum(c) || c == '_';
}

/* 1 if every byte is printable ASCII other than space. */
static int
id_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
			return 0;
	return 1;
}

int
smpp_dlr_parse(const char *in, size_t len, struct smpp_dlr *d,
    enum smpp_dlr_reason *why)
{
	size_t i = 0;

	memset(d, 0, sizeof(*d));
	while (i < len) {
		enum smpp_dlr_field f;
		size_t v, e;

		while (i < len && is_sep(in[i]))
			i++;
		if (i >= len)
			break;
		if ((f = key_at(in, len, i, &v)) == 0) {
			/* Something unknown: skip that word. */
			i = span(in, len, i, not_sep);
			continue;
		}
		if (f == SMPP_DLR_F_TEXT) {
			/* The rest is text, bar NUL padding at the end. */
			e = len;
			while (e > v && in[e - 1] == '\0')
				e--;
			if (!(d->present & SMPP_DLR_F_TEXT)) {
				d->present |= SMPP_DLR_F_TEXT;
				d->text = in + v;
				d->text_len = e - v;
			}
			break;
		}
		/* Spaces after the colon, unless the value is empty and the
		 * next key follows. */
		e = v;
		while (e < len && (in[e] == ' ' || in[e] == '\t'))
			e++;
		if (e > v && e < len && key_at(in, len, e, &i) != 0) {
			i = e;
			if (f == SMPP_DLR_F_ID && !(d->present & f))
				return fail(why, SMPP_DLR_NOID);
			d->malformed |= f;
			continue;
		}
		v = e;
		if (f == SMPP_DLR_F_ID) {
			e = span(in, len, v, not_sep);
		} else if (f == SMPP_DLR_F_SUB || f == SMPP_DLR_F_DLVRD ||
		    f == SMPP_DLR_F_SUBMIT_DATE || f == SMPP_DLR_F_DONE_DATE) {
			e = span(in, len, v, isdigit);
		} else
			e = span(in, len, v, is_word);
		i = e;
		if (d->present & f)
			continue;	/* the first occurrence counts */
		switch (f) {
		case SMPP_DLR_F_ID:
			if (e == v)
				return fail(why, SMPP_DLR_NOID);
			if (e - v > SMPP_DLR_ID_MAX || !id_chars_ok(in + v, e - v))
				return fail(why, SMPP_DLR_BADID);
			memcpy(d->id, in + v, e - v);
			d->id[e - v] = '\0';
			d->id_off = v;
			d->id_len = e - v;
			break;
		case SMPP_DLR_F_SUB:
		case SMPP_DLR_F_DLVRD: {
			unsigned n = 0;

			if (e == v || e - v > 3) {
				d->malformed |= f;
				continue;
			}
			for (size_t k = v; k < e; k++)
				n = n * 10 + (unsigned)(in[k] - '0');
			if (f == SMPP_DLR_F_SUB)
				d->sub = n;
			else
				d->dlvrd = n;
			break;
		}
		case SMPP_DLR_F_SUBMIT_DATE:
		case SMPP_DLR_F_DONE_DATE: {
			char *dst = f == SMPP_DLR_F_SUBMIT_DATE ?
			    d->submit_date : d->done_date;

			if (e - v != 10 && e - v != 12) {
				d->malformed |= f;
				continue;
			}
			memcpy(dst, in + v, e - v);
			dst[e - v] = '\0';
			break;
		}
		case SMPP_DLR_F_STAT:
			if ((d->stat = stat_lookup(in + v, e - v)) ==
			    SMPP_DLR_STAT_NONE) {
				d->malformed |= f;
				continue;
			}
			break;
		case SMPP_DLR_F_ERR:
			if (e == v || e - v >= sizeof(d->err)) {
				d->malformed |= f;
				continue;
			}
			memcpy(d->err, in + v, e - v);
			d->err[e - v] = '\0';
			break;
		default:
			break;
		}
		d->present |= f;
	}
	if (!(d->present & SMPP_DLR_F_ID))
		return fail(why, SMPP_DLR_NOID);
	return ok(why, 0);
}

static int
date_ok(const char *s)
{
	size_t n = strnlen(s, 13);

	if (n != 10 && n != 12)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
smpp_dlr_is_receipt(const struct smpp_scan *req)
{
	uint8_t type = req->esm_class & SMPP_ESM_TYPE_MASK;

	if (type == SMPP_ESM_DLR || type == SMPP_ESM_INTERMEDIATE)
		return 1;
	return req->hdr.id == SMPP_DATA_SM &&
	    smpp_scan_tlv(req, SMPP_TLV_RECEIPTED_MESSAGE_ID) != NULL;
}

void
smpp_time_utc(int64_t unix_ms, char out[SMPP_TIME_MAX])
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	/* each field reduced to its digits, so the length is fixed */
	snprintf(out, SMPP_TIME_MAX, "%02u%02u%02u%02u%02u%02u%u00+",
	    (unsigned)tm.tm_year % 100, (unsigned)(tm.tm_mon + 1) % 100,
	    (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100,
	    (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100,
	    (unsigned)(unix_ms % 1000 / 100) % 10);
}

void
smpp_dlr_date(int64_t unix_ms, char *out)
{
	char t[SMPP_TIME_MAX];

	smpp_time_utc(unix_ms, t);
	memcpy(out, t, 10);
	out[10] = '\0';
}

int
smpp_dlr_format(const struct smpp_dlr *d, char *out, size_t cap,
    enum smpp_dlr_reason *why)
{
	unsigned p = d->present;
	const char *stat = "UNKNOWN", *sdate = "0000000000",
	    *ddate = "0000000000", *err = "000";
	size_t idlen = strnlen(d->id, sizeof(d->id));
	int n;

	if (!(p & SMPP_DLR_F_ID) || idlen == 0 || idlen > SMPP_DLR_ID_MAX ||
	    !id_chars_ok(d->id, idlen))
		return fail(why, SMPP_DLR_BADINPUT);
	if (((p & SMPP_DLR_F_SUB) && d->sub > 999) ||
	    ((p & SMPP_DLR_F_DLVRD) && d->dlvrd > 999))
		return fail(why, SMPP_DLR_BADINPUT);
	if (p & SMPP_DLR_F_SUBMIT_DATE) {
		if (!date_ok(d->submit_date))
			return fail(why, SMPP_DLR_BADINPUT);
		sdate = d->submit_date;
	}
	if (p & SMPP_DLR_F_DONE_DATE) {
		if (!date_ok(d->done_date))
			return fail(why, SMPP_DLR_BADINPUT);
		ddate = d->done_date;
	}
	if ((p & SMPP_DLR_F_STAT) &&
	    (stat = smpp_dlr_stat_name(d->stat)) == NULL)
		return fail(why, SMPP_DLR_BADINPUT);
	if (p & SMPP_DLR_F_ERR) {
		size_t el = strnlen(d->err, sizeof(d->err));

		if (el == 0 || el == sizeof(d->err) || !id_chars_ok(d->err, el))
			return fail(why, SMPP_DLR_BADINPUT);
		err = d->err;
	}
	n = snprintf(out, cap, "id:%s sub:%03u dlvrd:%03u submit date:%s "
	    "done date:%s stat:%s err:%s text:", d->id,
	    (p & SMPP_DLR_F_SUB) ? d->sub : 0,
	    (p & SMPP_DLR_F_DLVRD) ? d->dlvrd : 0, sdate, ddate, stat, err);
	if (n < 0 || (size_t)n >= cap)
		return fail(why, SMPP_DLR_NOSPACE);
	if ((p & SMPP_DLR_F_TEXT) && d->text_len > 0) {
		if (d->text_len >= cap - (size_t)n)
			return fail(why, SMPP_DLR_NOSPACE);
		memcpy(out + n, d->text, d->text_len);
		n += (int)d->text_len;
		out[n] = '\0';
	}
	return ok(why, n);
}

int
smpp_dlr_rewrite_id(const char *in, size_t len, const char *new_id,
    char *out, size_t cap, enum smpp_dlr_reason *why)
{
	struct smpp_dlr d;
	size_t nl = strnlen(new_id, SMPP_DLR_ID_MAX + 1), total;

	if (nl == 0 || nl > SMPP_DLR_ID_MAX || !id_chars_ok(new_id, nl))
		return fail(why, SMPP_DLR_BADID);
	if (smpp_dlr_parse(in, len, &d, why) != 0)
		return -1;
	total = len - d.id_len + nl;
	if (total >= cap)
		return fail(why, SMPP_DLR_NOSPACE);
	memcpy(out, in, d.id_off);
	memcpy(out + d.id_off, new_id, nl);
	memcpy(out + d.id_off + nl, in + d.id_off + d.id_len,
	    len - d.id_off - d.id_len);
	out[total] = '\0';
	return ok(why, (int)total);
}

/* Value of s read in base 16 or 10; 0 if a character or the value does
 * not fit that reading. */
static int
read_number(const char *s, size_t n, unsigned base, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], d;

		if (isdigit(c))
			d = c - '0';
		else if (base == 16 && isxdigit(c))
			d = tolower(c) - 'a' + 10;
		else
			return 0;
		if (x > (UINT64_MAX - (uint64_t)d) / base)
			return 0;
		x = x * base + (uint64_t)d;
	}
	*v = x;
	return 1;
}

int
smpp_dlr_id_canon(const char *id, size_t len, unsigned flags,
    struct smpp_dlr_idset *set, enum smpp_dlr_reason *why)
{
	size_t n = 0;

	memset(set, 0, sizeof(*set));
	if (len > SMPP_DLR_ID_MAX)
		return fail(why, SMPP_DLR_BADID);
	for (size_t i = 0; i < len; i++) {
		char c = id[i];

		if (c == '-' && (flags & SMPP_DLR_ID_DASHES))
			continue;
		if (flags & SMPP_DLR_ID_CASE)
			c = (char)tolower((unsigned char)c);
		set->text[n++] = c;
	}
	set->text[n] = '\0';
	if (flags & SMPP_DLR_ID_NUMERIC) {
		set->has_hex = read_number(set->text, n, 16, &set->hex);
		set->has_dec = read_number(set->text, n, 10, &set->dec);
	}
	return ok(why, 0);
}

int
smpp_dlr_id_equivalent(const char *a, const char *b, unsigned flags)
{
	struct smpp_dlr_idset x, y;

	if (smpp_dlr_id_canon(a, strnlen(a, SMPP_DLR_ID_MAX + 1), flags, &x,
	    NULL) != 0 ||
	    smpp_dlr_id_canon(b, strnlen(b, SMPP_DLR_ID_MAX + 1), flags, &y,
	    NULL) != 0)
		return 0;
	if (strcmp(x.text, y.text) == 0)
		return 1;
	/* Same number: the same reading with other zeros or case, or one
	 * side in hex and the other in decimal. */
	return (x.has_hex && y.has_hex && x.hex == y.hex) ||
	    (x.has_dec && y.has_dec && x.dec == y.dec) ||
	    (x.has_hex && y.has_dec && x.hex == y.dec) ||
	    (x.has_dec && y.has_hex && x.dec == y.hex);
}
