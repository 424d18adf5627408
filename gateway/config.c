/*
 * The loader of conf/sealgate.yaml (config.h). smpp/yamlcfg walks the file
 * and types the scalars; this file is the schema: one key callback per
 * mapping, defaults first, checks that need more than one value after each
 * item, and the cross references (routes -> groups -> links, routes and MO
 * routes -> accounts) resolved to indexes once the whole file is read.
 * Every error names file:line:column and the key; all of a file's errors
 * are reported in one run, so an operator fixes them in one go.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gateway/config.h"
#include "db/store.h"
#include "gateway/hash.h"
#include "smpp/proto.h"
#include "smpp/yamlcfg.h"

#define DAY_MS		86400000ull

/* A name written somewhere that must name something defined elsewhere;
 * resolved when the whole file has been read (definitions may follow). */
enum ref_kind {
	REF_GROUP_LINK,
	REF_ROUTE_GROUP,
	REF_ROUTE_ACCOUNT,
	REF_MO_ACCOUNT,
};

struct ref {
	enum ref_kind		kind;
	size_t			owner;		/* group, route or MO route */
	char			name[GW_NAME_SIZE];
	struct smpp_yc_mark	mark;
	char			path[SMPP_YC_PATH_MAX];
};

struct ld {
	struct smpp_yc		*y;
	struct gw_config	*c;
	struct ref		*refs;
	size_t			 n_refs;
};

/* ---- small parsers (exported) -------------------------------------- */

int
gw_status_parse(const char *s, uint32_t *out)
{
	const char *name = s;
	char *end;
	unsigned long long n;

	if (s[0] >= '0' && s[0] <= '9') {
		n = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' ||
		    s[1] == 'X')) ? 16 : 10);
		if (*end != '\0' || n > 0xffffffffull)
			return -1;
		*out = (uint32_t)n;
		return 0;
	}
	if (strncasecmp(name, "ESME_", 5) == 0)
		name += 5;
	/* smpp/proto.c owns the names; ask it rather than copy its table. */
	for (uint32_t st = 0; st <= 0xff; st++) {
		const char *known = smpp_status_name(st);

		if (strncmp(known, "ESME_", 5) == 0 &&
		    strcasecmp(known + 5, name) == 0) {
			*out = st;
			return 0;
		}
	}
	return -1;
}

const char *
gw_status_name(uint32_t status)
{
	const char *n = smpp_status_name(status);

	return strncmp(n, "ESME_", 5) == 0 ? n : NULL;
}

int
gw_cidr_parse(const char *s, struct gw_cidr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max, prefix;
	struct gw_cidr c;

	memset(&c, 0, sizeof(c));
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;

		if (*p < '0' || *p > '9' || strlen(p) > 3)
			return -1;
		for (prefix = 0; *p >= '0' && *p <= '9'; p++)
			prefix = prefix * 10 + (unsigned)(*p - '0');
		if (*p != '\0' || prefix > max ||
		    (slash[1] == '0' && slash[2] != '\0'))
			return -1;
	}
	c.prefix = (uint8_t)prefix;
	for (unsigned bit = prefix; bit < max; bit++)
		if (c.addr[bit / 8] & (0x80u >> (bit % 8)))
			return -2;	/* host bits set */
	*out = c;
	return 0;
}

static bool
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

bool
gw_cidr_match(const struct gw_cidr *c, int family, const void *addr)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	const uint8_t *a = addr;

	if (c->family == AF_INET && family == AF_INET6 &&
	    memcmp(a, mapped, sizeof(mapped)) == 0) {
		a += 12;
		family = AF_INET;
	}
	if (c->family != family)
		return false;
	return prefix_eq(c->addr, a, c->prefix);
}

bool
gw_cidr_match_any(const struct gw_cidr *c, size_t n, int family,
    const void *addr)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (gw_cidr_match(&c[i], family, addr))
			return true;
	return false;
}

bool
gw_addr_pattern_valid(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n >= GW_PATTERN_SIZE)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return false;
		if (p[i] == '*' && i + 1 != n)
			return false;
	}
	/* Without a star it is an exact address: 20 characters at most. */
	return p[n - 1] == '*' || n < GW_ADDR_SIZE;
}

bool
gw_addr_pattern_match(const char *p, const char *addr)
{
	size_t n = strlen(p);

	if (n > 0 && p[n - 1] == '*')
		return strncmp(p, addr, n - 1) == 0;
	return strcmp(p, addr) == 0;
}

bool
gw_account_source_allowed(const struct gw_account *a, const char *addr)
{
	if (a->n_sources == 0)
		return true;
	for (size_t i = 0; i < a->n_sources; i++)
		if (gw_addr_pattern_match(a->sources[i], addr))
			return true;
	return false;
}

uint16_t
gw_config_default_instance_id(void)
{
	char host[256];
	uint32_t h;

	if (gethostname(host, sizeof(host)) != 0)
		return 0;
	host[sizeof(host) - 1] = '\0';
	h = gw_fnv1a(GW_FNV1A_INIT, host);
	return (uint16_t)(h ^ (h >> 16));
}

/* ---- helpers for the schema ---------------------------------------- */

static void
mark_of(const struct smpp_yc *y, struct gw_mark *m)
{
	struct smpp_yc_mark ym;

	smpp_yc_mark(y, &ym);
	m->line = ym.line;
	m->column = ym.column;
}

static struct smpp_yc_mark
ycm(const struct gw_mark *m)
{
	struct smpp_yc_mark ym = { m->line, m->column };

	return ym;
}

/* Grows *arr (of n items of size sz) by one zeroed item; NULL when full or
 * out of memory, after an error. */
static void *
grow(struct smpp_yc *y, const char *path, void *arrp, size_t *n, size_t sz,
    size_t max)
{
	void **arr = arrp;
	char *na;

	if (*n >= max) {
		smpp_yc_error(y, path, "more than %zu entries", max);
		return NULL;
	}
	if ((na = realloc(*arr, (*n + 1) * sz)) == NULL) {
		smpp_yc_error(y, path, "out of memory");
		return NULL;
	}
	*arr = na;
	memset(na + *n * sz, 0, sz);
	return na + (*n)++ * sz;
}

static int
get_ms(struct smpp_yc *y, const char *path, uint64_t min, uint64_t max,
    uint32_t *out)
{
	uint64_t v;

	if (smpp_yc_get_duration_ms(y, path, min, max, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
get_s(struct smpp_yc *y, const char *path, uint64_t min, uint64_t max,
    uint32_t *out)
{
	uint64_t v;

	if (smpp_yc_get_duration_ms(y, path, min, max, &v) != 0)
		return -1;
	*out = (uint32_t)(v / 1000);
	return 0;
}

/* Link and group names: what a log line and a metric label can carry. */
static bool
name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		    *s == '.'))
			return false;
	return true;
}

static int
get_name(struct smpp_yc *y, const char *path, char *out)
{
	char q[160];

	if (smpp_yc_get_str(y, path, out, GW_NAME_SIZE, SMPP_YC_NONEMPTY) != 0)
		return -1;
	if (!name_ok(out)) {
		smpp_yc_quote(out, strlen(out), q, sizeof(q));
		return smpp_yc_error(y, path, "expected a name of letters, "
		    "digits, '_', '-' and '.', got '%s'", q);
	}
	return 0;
}

/* Printable ASCII without spaces: addresses, prefixes, keywords. */
static bool
token_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static int
get_token(struct smpp_yc *y, const char *path, char *out, size_t cap,
    unsigned flags)
{
	if (smpp_yc_get_str(y, path, out, cap, flags) != 0)
		return -1;
	if (!token_ok(out))
		return smpp_yc_error(y, path, "expected printable characters "
		    "without spaces");
	return 0;
}

static int
add_ref(struct ld *l, enum ref_kind kind, size_t owner, const char *path,
    int (*get)(struct smpp_yc *, const char *, char *))
{
	struct ref *r;

	if ((r = grow(l->y, path, &l->refs, &l->n_refs, sizeof(*r),
	    SIZE_MAX / sizeof(*r))) == NULL)
		return -1;
	r->kind = kind;
	r->owner = owner;
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (get(l->y, path, r->name) != 0) {
		l->n_refs--;
		return -1;
	}
	smpp_yc_mark(l->y, &r->mark);
	return 0;
}

static int
get_account_name(struct smpp_yc *y, const char *path, char *out)
{
	return smpp_yc_get_str(y, path, out, GW_SYSTEM_ID_SIZE,
	    SMPP_YC_NONEMPTY);
}

static int
get_status(struct smpp_yc *y, const char *path, uint32_t *out)
{
	const char *v;
	size_t len;
	char q[160];

	if (smpp_yc_get_scalar(y, path, &v, &len) != 0)
		return -1;
	if (gw_status_parse(v, out) != 0 || *out == 0) {
		smpp_yc_quote(v, len, q, sizeof(q));
		return smpp_yc_error(y, path, "expected an error status "
		    "(a name like ESME_RTHROTTLED, or a number), got '%s'", q);
	}
	return 0;
}

static const struct smpp_yc_enum bind_names[] = {
	{ "tx", GW_BIND_TX }, { "rx", GW_BIND_RX }, { "trx", GW_BIND_TRX },
	{ NULL, 0 },
};

/* ---- listeners, storage, log, auth, statuses ----------------------- */

struct lis_ctx {
	struct gw_listener	*l;
	bool			 tls;
};

static int
listener_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct lis_ctx *lc = ctx;
	struct gw_listener *l = lc->l;

	if (strcmp(k, "enabled") == 0)
		return smpp_yc_get_bool(y, f, &l->enabled);
	if (strcmp(k, "address") == 0)
		return get_token(y, f, l->address, sizeof(l->address),
		    SMPP_YC_NONEMPTY);
	if (strcmp(k, "port") == 0) {
		if (smpp_yc_get_port(y, f, false, &l->port) != 0)
			return -1;
		mark_of(y, &l->mark);
		return 0;
	}
	if (lc->tls && strcmp(k, "cert") == 0)
		return smpp_yc_get_str(y, f, l->cert, sizeof(l->cert), 0);
	if (lc->tls && strcmp(k, "key") == 0)
		return smpp_yc_get_str(y, f, l->key, sizeof(l->key), 0);
	return SMPP_YC_UNKNOWN;
}

static int
walk_listener(struct smpp_yc *y, const char *f, struct gw_listener *l,
    bool tls)
{
	struct lis_ctx lc = { l, tls };
	struct smpp_yc_mark m;

	smpp_yc_peek(y, &m);
	l->mark.line = m.line;
	l->mark.column = m.column;
	if (smpp_yc_walk_map(y, f, listener_key, &lc) != 0)
		return -1;
	if (tls && l->enabled && (l->cert[0] == '\0' || l->key[0] == '\0'))
		return smpp_yc_error_at(y, &m, f, "a TLS listener needs cert "
		    "and key");
	return 0;
}

static int
listeners_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct gw_listeners *ls = ctx;

	if (strcmp(k, "smpp") == 0)
		return walk_listener(y, f, &ls->smpp, false);
	if (strcmp(k, "smpp_tls") == 0)
		return walk_listener(y, f, &ls->smpp_tls, true);
	if (strcmp(k, "admin") == 0)
		return walk_listener(y, f, &ls->admin, false);
	if (strcmp(k, "handset_api") == 0)
		return walk_listener(y, f, &ls->handset_api, true);
	return SMPP_YC_UNKNOWN;
}

struct storage_ctx {
	struct gw_storage	*s;
	struct gw_mark		 rmax;		/* of reconnect_max */
};

static int
storage_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct storage_ctx *sc = ctx;
	struct gw_storage *s = sc->s;

	if (strcmp(k, "url") == 0) {
		/* Secret: a MariaDB URL carries a password. Never echoed. */
		if (smpp_yc_get_str(y, f, s->url, sizeof(s->url),
		    SMPP_YC_NONEMPTY | SMPP_YC_SECRET) != 0)
			return -1;
		if (strncmp(s->url, "sqlite:", 7) != 0 &&
		    strncmp(s->url, "mariadb://", 10) != 0)
			return smpp_yc_error(y, f, "expected sqlite:PATH or "
			    "mariadb://USER:PASSWORD@HOST[:PORT]/DATABASE");
		if (strncmp(s->url, "sqlite:", 7) == 0) {
			char why[160];

			/* A SQLite URL holds no secret: its reason may quote it. */
			if (db_sqlite_dsn_check(s->url, why, sizeof(why)) != 0)
				return smpp_yc_error(y, f, "%s", why);
		}
		return 0;
	}
	if (strcmp(k, "queue_max") == 0)
		return smpp_yc_get_u32(y, f, 1, 10000000, &s->queue_max);
	if (strcmp(k, "batch_max") == 0)
		return smpp_yc_get_u32(y, f, 1, 100000, &s->batch_max);
	if (strcmp(k, "reconnect_min") == 0)
		return get_ms(y, f, 10, 60000, &s->reconnect_min_ms);
	if (strcmp(k, "reconnect_max") == 0) {
		if (get_ms(y, f, 10, 600000, &s->reconnect_max_ms) != 0)
			return -1;
		mark_of(y, &sc->rmax);
		return 0;
	}
	if (strcmp(k, "stall") == 0)
		return get_ms(y, f, 0, 600000, &s->stall_ms);
	if (strcmp(k, "timeout") == 0) {
		uint32_t ms;

		/* MariaDB's client counts its timeouts in whole seconds */
		if (get_ms(y, f, 1000, 300000, &ms) != 0)
			return -1;
		if (ms % 1000 != 0)
			return smpp_yc_error(y, f, "expected whole seconds");
		s->timeout_s = ms / 1000;
		return 0;
	}
	if (strcmp(k, "retention") == 0)
		return get_s(y, f, 1000, 3650 * DAY_MS, &s->retention_s);
	if (strcmp(k, "open_retention") == 0)
		return get_s(y, f, 1000, 3650 * DAY_MS, &s->open_retention_s);
	return SMPP_YC_UNKNOWN;
}

static int
walk_storage(struct smpp_yc *y, const char *f, struct gw_storage *s)
{
	struct storage_ctx sc = { s, { 0, 0 } };
	struct smpp_yc_mark m;

	smpp_yc_peek(y, &m);
	if (smpp_yc_walk_map(y, f, storage_key, &sc) != 0)
		return -1;
	if (s->reconnect_max_ms < s->reconnect_min_ms) {
		if (sc.rmax.line != 0)
			m = ycm(&sc.rmax);
		return smpp_yc_error_at(y, &m, sc.rmax.line ?
		    "storage.reconnect_max" : f, "shorter than reconnect_min");
	}
	return 0;
}

static int
log_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	static const struct smpp_yc_enum levels[] = {
		{ "err", GW_LOG_ERR }, { "warn", GW_LOG_WARN },
		{ "info", GW_LOG_INFO }, { "debug", GW_LOG_DEBUG },
		{ NULL, 0 },
	};
	struct gw_log *lg = ctx;
	int v;

	if (strcmp(k, "level") == 0) {
		if (smpp_yc_get_enum(y, f, levels, &v) != 0)
			return -1;
		lg->level = (enum gw_log_level)v;
		return 0;
	}
	if (strcmp(k, "syslog") == 0)
		return smpp_yc_get_bool(y, f, &lg->syslog);
	return SMPP_YC_UNKNOWN;
}

static int
auth_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct gw_auth *a = ctx;

	if (strcmp(k, "failure_delay") == 0)
		return get_ms(y, f, 0, 10000, &a->failure_delay_ms);
	if (strcmp(k, "lockout_failures") == 0)
		return smpp_yc_get_u32(y, f, 0, 1000, &a->lockout_failures);
	if (strcmp(k, "lockout_window") == 0)
		return get_ms(y, f, 1000, DAY_MS, &a->lockout_window_ms);
	if (strcmp(k, "lockout_duration") == 0)
		return get_ms(y, f, 1000, 7 * DAY_MS, &a->lockout_ms);
	return SMPP_YC_UNKNOWN;
}

static int
statuses_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct gw_statuses *s = ctx;

	if (strcmp(k, "no_route") == 0)
		return get_status(y, f, &s->no_route);
	if (strcmp(k, "links_down") == 0)
		return get_status(y, f, &s->links_down);
	if (strcmp(k, "session_lost") == 0)
		return get_status(y, f, &s->session_lost);
	if (strcmp(k, "response_timeout") == 0)
		return get_status(y, f, &s->response_timeout);
	if (strcmp(k, "storage_down") == 0)
		return get_status(y, f, &s->storage_down);
	return SMPP_YC_UNKNOWN;
}

/* ---- accounts ------------------------------------------------------ */

struct acct_ctx {
	struct ld		*l;
	struct gw_account	*a;
	size_t			 index;
	bool			 has_id;
	bool			 has_hash;
};

static int
network_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct gw_account *a = ctx;
	struct gw_cidr *c;
	const char *v;
	size_t len;
	char q[160], net[INET6_ADDRSTRLEN];
	int rc;

	(void)i;
	if (smpp_yc_get_scalar(y, f, &v, &len) != 0)
		return -1;
	smpp_yc_quote(v, len, q, sizeof(q));
	if ((c = grow(y, f, &a->networks, &a->n_networks, sizeof(*c),
	    GW_MAX_LIST)) == NULL)
		return -1;
	if ((rc = gw_cidr_parse(v, c)) == 0)
		return 0;
	a->n_networks--;
	if (rc == -2) {
		/* Say which network the operator most likely meant. */
		struct gw_cidr fix;
		const char *slash = strchr(v, '/');
		unsigned bits = (unsigned)atoi(slash + 1);
		char host[INET6_ADDRSTRLEN + 1];
		size_t hl = (size_t)(slash - v);

		memcpy(host, v, hl);
		host[hl] = '\0';
		memset(&fix, 0, sizeof(fix));
		fix.family = strchr(host, ':') ? AF_INET6 : AF_INET;
		inet_pton(fix.family, host, fix.addr);
		for (unsigned b = bits; b < (fix.family == AF_INET ? 32u :
		    128u); b++)
			fix.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		inet_ntop(fix.family, fix.addr, net, sizeof(net));
		return smpp_yc_error(y, f, "host bits set in '%s' (did you "
		    "mean %s/%u?)", q, net, bits);
	}
	return smpp_yc_error(y, f, "expected an address or a network like "
	    "10.0.0.0/8 or 2001:db8::/32, got '%s'", q);
}

static int
source_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct gw_account *a = ctx;
	char (*s)[GW_PATTERN_SIZE];
	char q[160];

	(void)i;
	if ((s = grow(y, f, &a->sources, &a->n_sources, sizeof(*s),
	    GW_MAX_LIST)) == NULL)
		return -1;
	if (smpp_yc_get_str(y, f, *s, sizeof(*s), SMPP_YC_NONEMPTY) != 0) {
		a->n_sources--;
		return -1;
	}
	if (!gw_addr_pattern_valid(*s)) {
		smpp_yc_quote(*s, strlen(*s), q, sizeof(q));
		a->n_sources--;
		return smpp_yc_error(y, f, "expected an address (at most 20 "
		    "characters) or a prefix and a final '*' like 4930*, got "
		    "'%s'", q);
	}
	return 0;
}

static int
bind_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	unsigned *bits = ctx;
	int v;

	(void)i;
	if (smpp_yc_get_enum(y, f, bind_names, &v) != 0)
		return -1;
	*bits |= (unsigned)v;
	return 0;
}

static int
acct_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	static const struct smpp_yc_enum idfmt[] = {
		{ "hex", GW_MSGID_HEX }, { "decimal", GW_MSGID_DECIMAL },
		{ NULL, 0 },
	};
	struct acct_ctx *ac = ctx;
	struct gw_account *a = ac->a;
	struct gw_config *c = ac->l->c;
	const char *why;
	int v;

	if (strcmp(k, "system_id") == 0) {
		ac->has_id = true;
		if (smpp_yc_get_str(y, f, a->system_id, sizeof(a->system_id),
		    SMPP_YC_NONEMPTY) != 0)
			return -1;
		mark_of(y, &a->mark);
		if (!token_ok(a->system_id))
			return smpp_yc_error(y, f, "expected printable "
			    "characters without spaces");
		for (size_t i = 0; i < ac->index; i++)
			if (strcmp(c->accounts[i].system_id,
			    a->system_id) == 0)
				return smpp_yc_error(y, f, "account '%s' is "
				    "already defined at %u:%u", a->system_id,
				    (unsigned)c->accounts[i].mark.line,
				    (unsigned)c->accounts[i].mark.column);
		return 0;
	}
	if (strcmp(k, "password_hash") == 0) {
		ac->has_hash = true;
		/* Not echoed: a plaintext password may have landed here. */
		if (smpp_yc_get_str(y, f, a->password_hash,
		    sizeof(a->password_hash),
		    SMPP_YC_NONEMPTY | SMPP_YC_SECRET) != 0)
			return -1;
		if (gw_passwd_parse(a->password_hash, NULL, &why) != 0)
			return smpp_yc_error(y, f, "%s", why);
		return 0;
	}
	if (strcmp(k, "password") == 0) {
		ac->has_hash = true;	/* one error is enough */
		return smpp_yc_error(y, f, "plaintext passwords are refused; "
		    "set password_hash to the output of `sealgate passwd`");
	}
	if (strcmp(k, "networks") == 0)
		return smpp_yc_walk_seq(y, f, network_item, a);
	if (strcmp(k, "source_addresses") == 0)
		return smpp_yc_walk_seq(y, f, source_item, a);
	if (strcmp(k, "bind_types") == 0) {
		unsigned bits = 0;
		struct smpp_yc_mark m;

		smpp_yc_peek(y, &m);
		if (smpp_yc_walk_seq(y, f, bind_item, &bits) != 0)
			return -1;
		if (bits == 0)
			return smpp_yc_error_at(y, &m, f, "needs at least one "
			    "of tx, rx or trx");
		a->bind_types = bits;
		return 0;
	}
	if (strcmp(k, "max_binds") == 0)
		return smpp_yc_get_u32(y, f, 0, 100000, &a->max_binds);
	if (strcmp(k, "window") == 0)
		return smpp_yc_get_u32(y, f, 1, 100000, &a->window);
	if (strcmp(k, "tps") == 0)
		return smpp_yc_get_u32(y, f, 0, 10000000, &a->tps);
	if (strcmp(k, "message_id") == 0) {
		if (smpp_yc_get_enum(y, f, idfmt, &v) != 0)
			return -1;
		a->msgid_format = (enum gw_msgid_format)v;
		return 0;
	}
	if (strcmp(k, "receipts") == 0)
		return smpp_yc_get_bool(y, f, &a->receipts);
	if (strcmp(k, "pending_max") == 0)
		return smpp_yc_get_u32(y, f, 1, 100000000, &a->pending_max);
	if (strcmp(k, "receipt_grace") == 0)
		return get_ms(y, f, 0, GW_RECEIPT_GRACE_MAX_MS,
		    &a->receipt_grace_ms);
	if (strcmp(k, "secure") == 0)
		return gw_config_mark_walk(y, f, &a->secure);
	return SMPP_YC_UNKNOWN;
}

static int
account_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct gw_config *c = l->c;
	struct acct_ctx ac;
	struct smpp_yc_mark m;

	smpp_yc_peek(y, &m);
	memset(&ac, 0, sizeof(ac));
	(void)i;
	ac.l = l;
	if ((ac.a = grow(y, f, &c->accounts, &c->n_accounts,
	    sizeof(*ac.a), GW_MAX_ACCOUNTS)) == NULL)
		return -1;
	ac.index = c->n_accounts - 1;
	ac.a->bind_types = GW_BIND_ALL;
	ac.a->max_binds = 8;
	ac.a->window = 256;
	ac.a->tps = 0;
	ac.a->msgid_format = GW_MSGID_HEX;
	ac.a->receipts = true;
	ac.a->pending_max = 100000;
	ac.a->receipt_grace_ms = GW_RECEIPT_GRACE_MS;
	ac.a->mark.line = m.line;
	ac.a->mark.column = m.column;
	if (smpp_yc_walk_map(y, f, acct_key, &ac) != 0)
		return -1;
	if (!ac.has_id)
		return smpp_yc_error_at(y, &m, f, "missing key 'system_id'");
	if (!ac.has_hash)
		return smpp_yc_error_at(y, &m, f,
		    "missing key 'password_hash'");
	return 0;
}

/* ---- links --------------------------------------------------------- */

struct link_ctx {
	struct ld	*l;
	struct gw_link	*k;
	size_t		 index;
	bool		 has_name, has_host, has_port, has_sysid, has_smsc;
	struct gw_mark	 rmax;
};

static int
link_key(struct smpp_yc *y, const char *key, const char *f, void *ctx)
{
	static const struct smpp_yc_enum alphabets[] = {
		{ "gsm7", GW_ALPHABET_GSM7 }, { "ascii", GW_ALPHABET_ASCII },
		{ "latin1", GW_ALPHABET_LATIN1 }, { NULL, 0 },
	};
	static const struct smpp_yc_enum packing[] = {
		{ "unpacked", 0 }, { "packed", 1 }, { NULL, 0 },
	};
	struct link_ctx *lc = ctx;
	struct gw_link *k = lc->k;
	struct gw_config *c = lc->l->c;
	int v;

	if (strcmp(key, "name") == 0) {
		lc->has_name = true;
		if (get_name(y, f, k->name) != 0)
			return -1;
		mark_of(y, &k->mark);
		for (size_t i = 0; i < lc->index; i++)
			if (strcmp(c->links[i].name, k->name) == 0)
				return smpp_yc_error(y, f, "link '%s' is "
				    "already defined at %u:%u", k->name,
				    (unsigned)c->links[i].mark.line,
				    (unsigned)c->links[i].mark.column);
		return 0;
	}
	if (strcmp(key, "smsc") == 0) {
		lc->has_smsc = true;
		return get_name(y, f, k->smsc);
	}
	if (strcmp(key, "host") == 0) {
		lc->has_host = true;
		return get_token(y, f, k->host, sizeof(k->host),
		    SMPP_YC_NONEMPTY);
	}
	if (strcmp(key, "port") == 0) {
		lc->has_port = true;
		return smpp_yc_get_port(y, f, false, &k->port);
	}
	if (strcmp(key, "tls") == 0)
		return smpp_yc_get_bool(y, f, &k->tls);
	if (strcmp(key, "tls_ca") == 0)
		return smpp_yc_get_str(y, f, k->tls_ca, sizeof(k->tls_ca), 0);
	if (strcmp(key, "tls_name") == 0)
		return get_token(y, f, k->tls_name, sizeof(k->tls_name), 0);
	if (strcmp(key, "system_id") == 0) {
		lc->has_sysid = true;
		return smpp_yc_get_str(y, f, k->system_id,
		    sizeof(k->system_id), SMPP_YC_NONEMPTY);
	}
	if (strcmp(key, "password") == 0)
		return smpp_yc_get_str(y, f, k->password, sizeof(k->password),
		    SMPP_YC_SECRET);
	if (strcmp(key, "system_type") == 0)
		return smpp_yc_get_str(y, f, k->system_type,
		    sizeof(k->system_type), 0);
	if (strcmp(key, "bind") == 0) {
		if (smpp_yc_get_enum(y, f, bind_names, &v) != 0)
			return -1;
		k->bind = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "sessions") == 0)
		return smpp_yc_get_u32(y, f, 1, 1000, &k->sessions);
	if (strcmp(key, "window") == 0)
		return smpp_yc_get_u32(y, f, 1, 100000, &k->window);
	if (strcmp(key, "tps") == 0)
		return smpp_yc_get_u32(y, f, 0, 10000000, &k->tps);
	if (strcmp(key, "enquire_link") == 0)
		return get_ms(y, f, 1000, 3600000, &k->enquire_link_ms);
	if (strcmp(key, "response_timeout") == 0)
		return get_ms(y, f, 100, 600000, &k->response_timeout_ms);
	if (strcmp(key, "reconnect_min") == 0)
		return get_ms(y, f, 10, 600000, &k->reconnect_min_ms);
	if (strcmp(key, "reconnect_max") == 0) {
		if (get_ms(y, f, 10, 3600000, &k->reconnect_max_ms) != 0)
			return -1;
		mark_of(y, &lc->rmax);
		return 0;
	}
	if (strcmp(key, "default_alphabet") == 0) {
		if (smpp_yc_get_enum(y, f, alphabets, &v) != 0)
			return -1;
		k->default_alphabet = (enum gw_default_alphabet)v;
		return 0;
	}
	if (strcmp(key, "gsm7_packing") == 0) {
		if (smpp_yc_get_enum(y, f, packing, &v) != 0)
			return -1;
		k->gsm7_packed = v != 0;
		return 0;
	}
	return SMPP_YC_UNKNOWN;
}

static int
link_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct gw_config *c = l->c;
	struct link_ctx lc;
	struct smpp_yc_mark m;
	char rm[SMPP_YC_PATH_MAX + 16];

	smpp_yc_peek(y, &m);
	memset(&lc, 0, sizeof(lc));
	(void)i;
	lc.l = l;
	if ((lc.k = grow(y, f, &c->links, &c->n_links, sizeof(*lc.k),
	    GW_MAX_LINKS)) == NULL)
		return -1;
	lc.index = c->n_links - 1;
	lc.k->bind = GW_BIND_TRX;
	lc.k->sessions = 1;
	lc.k->window = 256;
	lc.k->enquire_link_ms = 30000;
	lc.k->response_timeout_ms = 10000;
	lc.k->reconnect_min_ms = 1000;
	lc.k->reconnect_max_ms = 60000;
	lc.k->default_alphabet = GW_ALPHABET_GSM7;
	lc.k->mark.line = m.line;
	lc.k->mark.column = m.column;
	if (smpp_yc_walk_map(y, f, link_key, &lc) != 0)
		return -1;
	if (!lc.has_name)
		return smpp_yc_error_at(y, &m, f, "missing key 'name'");
	if (!lc.has_host)
		return smpp_yc_error_at(y, &m, f, "missing key 'host'");
	if (!lc.has_port)
		return smpp_yc_error_at(y, &m, f, "missing key 'port'");
	if (!lc.has_sysid)
		return smpp_yc_error_at(y, &m, f, "missing key 'system_id'");
	if (!lc.has_smsc)
		memcpy(lc.k->smsc, lc.k->name, sizeof(lc.k->smsc));
	if (lc.k->reconnect_max_ms < lc.k->reconnect_min_ms) {
		snprintf(rm, sizeof(rm), "%s.reconnect_max", f);
		if (lc.rmax.line != 0)
			m = ycm(&lc.rmax);
		return smpp_yc_error_at(y, &m, lc.rmax.line ? rm : f,
		    "shorter than reconnect_min");
	}
	return 0;
}

/* ---- groups, routes, MO routes ------------------------------------- */

static int
member_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct ld *l = ctx;

	(void)y;
	(void)i;
	return add_ref(l, REF_GROUP_LINK, l->c->n_groups - 1, f, get_name);
}

static int
group_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct gw_config *c = l->c;
	struct gw_group *g;
	struct smpp_yc_mark m;
	size_t before = l->n_refs;
	char q[160];

	/* The key is the group's name; the walker already refused a
	 * duplicate one. */
	smpp_yc_mark(y, &m);
	if (strlen(k) >= GW_NAME_SIZE || !name_ok(k)) {
		smpp_yc_quote(k, strlen(k), q, sizeof(q));
		return smpp_yc_error_at(y, &m, f, "expected a group name of "
		    "at most %d letters, digits, '_', '-' and '.', got '%s'",
		    GW_NAME_SIZE - 1, q);
	}
	if ((g = grow(y, f, &c->groups, &c->n_groups, sizeof(*g),
	    GW_MAX_GROUPS)) == NULL)
		return -1;
	snprintf(g->name, sizeof(g->name), "%s", k);
	g->mark.line = m.line;
	g->mark.column = m.column;
	if (smpp_yc_walk_seq(y, f, member_item, l) != 0)
		return -1;
	if (l->n_refs == before)
		return smpp_yc_error_at(y, &m, f, "needs at least one link");
	return 0;
}

struct route_ctx {
	struct ld		*l;
	struct gw_route		*r;
	size_t			 index;
	bool			 has_prefix, has_groups;
};

static int
route_group_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct route_ctx *rc = ctx;

	(void)y;
	(void)i;
	return add_ref(rc->l, REF_ROUTE_GROUP, rc->index, f, get_name);
}

static int
route_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct route_ctx *rc = ctx;
	size_t before = rc->l->n_refs;

	if (strcmp(k, "prefix") == 0) {
		rc->has_prefix = true;
		return get_token(y, f, rc->r->prefix, sizeof(rc->r->prefix),
		    0);
	}
	if (strcmp(k, "account") == 0)
		return add_ref(rc->l, REF_ROUTE_ACCOUNT, rc->index, f,
		    get_account_name);
	if (strcmp(k, "groups") == 0) {
		struct smpp_yc_mark m;

		rc->has_groups = true;
		smpp_yc_peek(y, &m);
		if (smpp_yc_walk_seq(y, f, route_group_item, rc) != 0)
			return -1;
		if (rc->l->n_refs == before)
			return smpp_yc_error_at(y, &m, f,
			    "needs at least one group");
		return 0;
	}
	return SMPP_YC_UNKNOWN;
}

static int
route_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct gw_config *c = l->c;
	struct route_ctx rc;
	struct smpp_yc_mark m;

	smpp_yc_peek(y, &m);
	memset(&rc, 0, sizeof(rc));
	(void)i;
	rc.l = l;
	if ((rc.r = grow(y, f, &c->routes, &c->n_routes, sizeof(*rc.r),
	    GW_MAX_ROUTES)) == NULL)
		return -1;
	rc.index = c->n_routes - 1;
	rc.r->account = GW_NONE;
	rc.r->mark.line = m.line;
	rc.r->mark.column = m.column;
	if (smpp_yc_walk_map(y, f, route_key, &rc) != 0)
		return -1;
	if (!rc.has_prefix)
		return smpp_yc_error_at(y, &m, f, "missing key 'prefix' "
		    "(\"\" for the default route)");
	if (!rc.has_groups)
		return smpp_yc_error_at(y, &m, f, "missing key 'groups'");
	return 0;
}

struct mo_ctx {
	struct ld		*l;
	struct gw_mo_route	*r;
	size_t			 index;
	bool			 has_prefix, has_account;
};

static int
mo_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct mo_ctx *mc = ctx;

	if (strcmp(k, "prefix") == 0) {
		mc->has_prefix = true;
		return get_token(y, f, mc->r->prefix, sizeof(mc->r->prefix),
		    0);
	}
	if (strcmp(k, "keyword") == 0)
		return get_token(y, f, mc->r->keyword, sizeof(mc->r->keyword),
		    0);
	if (strcmp(k, "account") == 0) {
		mc->has_account = true;
		return add_ref(mc->l, REF_MO_ACCOUNT, mc->index, f,
		    get_account_name);
	}
	return SMPP_YC_UNKNOWN;
}

static int
mo_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct gw_config *c = l->c;
	struct mo_ctx mc;
	struct smpp_yc_mark m;

	smpp_yc_peek(y, &m);
	memset(&mc, 0, sizeof(mc));
	(void)i;
	mc.l = l;
	if ((mc.r = grow(y, f, &c->mo_routes, &c->n_mo_routes, sizeof(*mc.r),
	    GW_MAX_MO_ROUTES)) == NULL)
		return -1;
	mc.index = c->n_mo_routes - 1;
	mc.r->account = GW_NONE;
	mc.r->mark.line = m.line;
	mc.r->mark.column = m.column;
	if (smpp_yc_walk_map(y, f, mo_key, &mc) != 0)
		return -1;
	if (!mc.has_prefix)
		return smpp_yc_error_at(y, &m, f, "missing key 'prefix' "
		    "(\"\" for every destination)");
	if (!mc.has_account)
		return smpp_yc_error_at(y, &m, f, "missing key 'account'");
	return 0;
}

/* ---- top level ----------------------------------------------------- */

static int
top_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct ld *l = ctx;
	struct gw_config *c = l->c;
	uint32_t v;

	if (strcmp(k, "instance_id") == 0) {
		if (smpp_yc_get_u32(y, f, 0, 65535, &v) != 0)
			return -1;
		c->instance_id = (uint16_t)v;
		c->instance_id_set = true;
		return 0;
	}
	if (strcmp(k, "listeners") == 0)
		return smpp_yc_walk_map(y, f, listeners_key, &c->listeners);
	if (strcmp(k, "storage") == 0)
		return walk_storage(y, f, &c->storage);
	if (strcmp(k, "log") == 0)
		return smpp_yc_walk_map(y, f, log_key, &c->log);
	if (strcmp(k, "auth") == 0)
		return smpp_yc_walk_map(y, f, auth_key, &c->auth);
	if (strcmp(k, "statuses") == 0)
		return smpp_yc_walk_map(y, f, statuses_key, &c->statuses);
	if (strcmp(k, "drain_time") == 0)
		return get_ms(y, f, 0, 600000, &c->drain_ms);
	if (strcmp(k, "accounts") == 0)
		return smpp_yc_walk_seq(y, f, account_item, l);
	if (strcmp(k, "links") == 0)
		return smpp_yc_walk_seq(y, f, link_item, l);
	if (strcmp(k, "groups") == 0)
		return smpp_yc_walk_map(y, f, group_key, l);
	if (strcmp(k, "routes") == 0)
		return smpp_yc_walk_seq(y, f, route_item, l);
	if (strcmp(k, "mo_routes") == 0)
		return smpp_yc_walk_seq(y, f, mo_item, l);
	if (strcmp(k, "secure") == 0)
		return gw_config_secure_walk(y, f, &c->secure);
	return SMPP_YC_UNKNOWN;
}

static void
defaults(struct gw_config *c)
{
	struct gw_listeners *ls = &c->listeners;

	c->instance_id = gw_config_default_instance_id();
	ls->smpp = (struct gw_listener){ .enabled = true, .port = 2775 };
	ls->smpp_tls = (struct gw_listener){ .enabled = false, .port = 3550 };
	ls->admin = (struct gw_listener){ .enabled = true, .port = 8080 };
	ls->handset_api = (struct gw_listener){ .enabled = true,
	    .port = 8443 };
	snprintf(ls->smpp.address, sizeof(ls->smpp.address), "127.0.0.1");
	snprintf(ls->smpp_tls.address, sizeof(ls->smpp_tls.address),
	    "127.0.0.1");
	snprintf(ls->admin.address, sizeof(ls->admin.address), "127.0.0.1");
	snprintf(ls->handset_api.address, sizeof(ls->handset_api.address),
	    "127.0.0.1");
	snprintf(ls->handset_api.cert, sizeof(ls->handset_api.cert),
	    "var/handset-api.crt");
	snprintf(ls->handset_api.key, sizeof(ls->handset_api.key),
	    "var/handset-api.key");
	snprintf(c->storage.url, sizeof(c->storage.url),
	    "sqlite:var/sealgate.db");
	c->storage.queue_max = 10000;
	c->storage.batch_max = 1000;
	c->storage.reconnect_min_ms = 100;
	c->storage.reconnect_max_ms = 5000;
	c->storage.timeout_s = 5;
	c->storage.stall_ms = 1000;
	c->storage.retention_s = 3 * 86400;
	c->storage.open_retention_s = 7 * 86400;
	c->log.level = GW_LOG_INFO;
	c->log.syslog = false;
	c->auth.failure_delay_ms = 1000;
	c->auth.lockout_failures = 5;
	c->auth.lockout_window_ms = 300000;
	c->auth.lockout_ms = 900000;
	c->statuses.no_route = SMPP_RINVDSTADR;
	c->statuses.links_down = SMPP_RTHROTTLED;
	c->statuses.session_lost = SMPP_RSYSERR;
	c->statuses.response_timeout = SMPP_RSYSERR;
	c->statuses.storage_down = SMPP_RTHROTTLED;
	c->drain_ms = 10000;
	sec_config_default(&c->secure);
}

/* ---- checks across the file ---------------------------------------- */

static bool
wildcard(const char *a)
{
	return strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
}

static void
check_listeners(struct ld *l)
{
	static const char *const names[] = {
		"listeners.smpp", "listeners.smpp_tls", "listeners.admin",
		"listeners.handset_api",
	};
	struct gw_listeners *ls = &l->c->listeners;
	struct gw_listener *all[] = {
		&ls->smpp, &ls->smpp_tls, &ls->admin, &ls->handset_api,
	};

	for (size_t j = 1; j < 4; j++)
		for (size_t i = 0; i < j; i++) {
			struct gw_listener *a = all[i], *b = all[j];
			struct smpp_yc_mark m;
			char path[64];

			if (!a->enabled || !b->enabled || a->port != b->port)
				continue;
			if (strcmp(a->address, b->address) != 0 &&
			    !wildcard(a->address) && !wildcard(b->address))
				continue;
			/* Report where the operator wrote something. */
			if (b->mark.line != 0) {
				m = ycm(&b->mark);
				snprintf(path, sizeof(path), "%s.port",
				    names[j]);
				smpp_yc_error_at(l->y, &m, path, "%s:%u is "
				    "already used by %s", b->address,
				    (unsigned)b->port, names[i]);
			} else {
				m = ycm(&a->mark);
				snprintf(path, sizeof(path), "%s.port",
				    names[i]);
				smpp_yc_error_at(l->y, &m, path, "%s:%u is "
				    "already used by %s", a->address,
				    (unsigned)a->port, names[j]);
			}
		}
}

static size_t
find_account(const struct gw_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_accounts; i++)
		if (strcmp(c->accounts[i].system_id, name) == 0)
			return i;
	return GW_NONE;
}

static size_t
find_link(const struct gw_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_links; i++)
		if (strcmp(c->links[i].name, name) == 0)
			return i;
	return GW_NONE;
}

static size_t
find_group(const struct gw_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return i;
	return GW_NONE;
}

/* Appends idx to *arr unless it is there; -1 on a repeat or no memory. */
static int
push_index(size_t **arr, size_t *n, size_t idx, bool *repeat)
{
	size_t *na;

	*repeat = false;
	for (size_t i = 0; i < *n; i++)
		if ((*arr)[i] == idx) {
			*repeat = true;
			return -1;
		}
	if ((na = realloc(*arr, (*n + 1) * sizeof(*na))) == NULL)
		return -1;
	na[(*n)++] = idx;
	*arr = na;
	return 0;
}

static void
resolve(struct ld *l)
{
	struct gw_config *c = l->c;

	for (size_t i = 0; i < l->n_refs; i++) {
		struct ref *r = &l->refs[i];
		size_t idx;
		bool rep;

		switch (r->kind) {
		case REF_GROUP_LINK:
			if ((idx = find_link(c, r->name)) == GW_NONE) {
				smpp_yc_error_at(l->y, &r->mark, r->path,
				    "unknown link '%s'", r->name);
				break;
			}
			if (c->links[idx].bind == GW_BIND_RX) {
				/* submits on a receiver bind: every one
				 * would come back ESME_RINVBNDSTS */
				smpp_yc_error_at(l->y, &r->mark, r->path,
				    "link '%s' binds rx and cannot carry "
				    "submits", r->name);
				break;
			}
			if (push_index(&c->groups[r->owner].links,
			    &c->groups[r->owner].n_links, idx, &rep) != 0)
				smpp_yc_error_at(l->y, &r->mark, r->path, rep ?
				    "link '%s' is listed twice" :
				    "out of memory", r->name);
			break;
		case REF_ROUTE_GROUP:
			if ((idx = find_group(c, r->name)) == GW_NONE) {
				smpp_yc_error_at(l->y, &r->mark, r->path,
				    "unknown group '%s'", r->name);
				break;
			}
			if (push_index(&c->routes[r->owner].groups,
			    &c->routes[r->owner].n_groups, idx, &rep) != 0)
				smpp_yc_error_at(l->y, &r->mark, r->path, rep ?
				    "group '%s' is listed twice" :
				    "out of memory", r->name);
			break;
		case REF_ROUTE_ACCOUNT:
		case REF_MO_ACCOUNT:
			if ((idx = find_account(c, r->name)) == GW_NONE) {
				smpp_yc_error_at(l->y, &r->mark, r->path,
				    "unknown account '%s'", r->name);
				break;
			}
			if (r->kind == REF_ROUTE_ACCOUNT)
				c->routes[r->owner].account = idx;
			else
				c->mo_routes[r->owner].account = idx;
			break;
		}
	}
}

/* A marked message must never take the pass-through path: marking
 * without the secure service is refused. */
static void
check_secure(struct ld *l)
{
	struct gw_config *c = l->c;

	if (c->secure.enabled)
		return;
	for (size_t i = 0; i < c->n_accounts; i++) {
		struct smpp_yc_mark m = ycm(&c->accounts[i].mark);
		char path[48];

		if (!c->accounts[i].secure.enabled)
			continue;
		snprintf(path, sizeof(path), "accounts[%zu].secure", i);
		smpp_yc_error_at(l->y, &m, path, "account '%s' marks messages "
		    "secure but secure.enabled is false",
		    c->accounts[i].system_id);
	}
}

/* Two routes for the same destinations would make the choice depend on
 * file order: refuse them. Quadratic, but routes are few and load is
 * rare. */
static void
check_duplicates(struct ld *l)
{
	struct gw_config *c = l->c;

	for (size_t j = 0; j < c->n_routes; j++)
		for (size_t i = 0; i < j; i++) {
			struct gw_route *a = &c->routes[i], *b = &c->routes[j];
			struct smpp_yc_mark m = ycm(&b->mark);
			char path[48];

			if (strcmp(a->prefix, b->prefix) != 0 ||
			    a->account != b->account)
				continue;
			snprintf(path, sizeof(path), "routes[%zu]", j);
			smpp_yc_error_at(l->y, &m, path, "same prefix and "
			    "account as routes[%zu]", i);
			break;
		}
	for (size_t j = 0; j < c->n_mo_routes; j++)
		for (size_t i = 0; i < j; i++) {
			struct gw_mo_route *a = &c->mo_routes[i];
			struct gw_mo_route *b = &c->mo_routes[j];
			struct smpp_yc_mark m = ycm(&b->mark);
			char path[48];

			if (strcmp(a->prefix, b->prefix) != 0 ||
			    strcasecmp(a->keyword, b->keyword) != 0)
				continue;
			snprintf(path, sizeof(path), "mo_routes[%zu]", j);
			smpp_yc_error_at(l->y, &m, path, "same prefix and "
			    "keyword as mo_routes[%zu]", i);
			break;
		}
}

/* ---- load and free ------------------------------------------------- */

static int
load(struct smpp_yc *y, const char *path, struct gw_config **out, char *err,
    size_t errlen)
{
	struct gw_config *c;
	struct ld l;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", smpp_yc_name(y));
		smpp_yc_close(y);
		return -1;
	}
	defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", path);
	memset(&l, 0, sizeof(l));
	l.y = y;
	l.c = c;
	smpp_yc_walk_root(y, top_key, &l);
	/* Names are checked only in a file that parsed cleanly: after an
	 * error, "unknown link" would mostly be an echo of it. */
	if (smpp_yc_error_count(y) == 0) {
		check_listeners(&l);
		resolve(&l);
		check_duplicates(&l);
		check_secure(&l);
	}
	free(l.refs);
	if (smpp_yc_error_count(y) != 0) {
		smpp_yc_errors_join(y, err, errlen);
		smpp_yc_close(y);
		gw_config_free(c);
		return -1;
	}
	smpp_yc_close(y);
	*out = c;
	return 0;
}

int
gw_config_load(const char *path, struct gw_config **out, char *err,
    size_t errlen)
{
	struct smpp_yc *y;

	*out = NULL;
	if ((y = smpp_yc_open_file(path, err, errlen)) == NULL)
		return -1;
	return load(y, path, out, err, errlen);
}

int
gw_config_load_mem(const char *name, const void *data, size_t len,
    struct gw_config **out, char *err, size_t errlen)
{
	struct smpp_yc *y;

	*out = NULL;
	if ((y = smpp_yc_open_mem(name, data, len, err, errlen)) == NULL)
		return -1;
	return load(y, name, out, err, errlen);
}

void
gw_config_free(struct gw_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_accounts; i++) {
		free(c->accounts[i].networks);
		free(c->accounts[i].sources);
	}
	free(c->accounts);
	for (size_t i = 0; i < c->n_links; i++)
		OPENSSL_cleanse(c->links[i].password,
		    sizeof(c->links[i].password));
	free(c->links);
	for (size_t i = 0; i < c->n_groups; i++)
		free(c->groups[i].links);
	free(c->groups);
	for (size_t i = 0; i < c->n_routes; i++)
		free(c->routes[i].groups);
	free(c->routes);
	free(c->mo_routes);
	OPENSSL_cleanse(c->storage.url, sizeof(c->storage.url));
	free(c);
}

const struct gw_account *
gw_config_account(const struct gw_config *c, const char *system_id)
{
	size_t i = find_account(c, system_id);

	return i == GW_NONE ? NULL : &c->accounts[i];
}

const struct gw_link *
gw_config_link(const struct gw_config *c, const char *name)
{
	size_t i = find_link(c, name);

	return i == GW_NONE ? NULL : &c->links[i];
}
