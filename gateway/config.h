/*
 * sealgate's configuration: conf/sealgate.yaml read through smpp/yamlcfg
 * into one struct gw_config. The struct is immutable once loaded: a reload
 * (SIGHUP) loads a NEW struct and the daemon swaps the pointer whole, so
 * sessions never see half of an old file and half of a new one; the old
 * struct is freed when nothing refers to it any more.
 *
 * Every cross reference is resolved at load time to an index (a route's
 * groups, a group's links, a route's or MO route's account), so the router
 * never looks a name up on the message path.
 *
 * Return convention: gw_config_load* return 0 with *out set (free it with
 * gw_config_free), or -1 with every error found, one per line, in err:
 * "file:line:column: key.path: why". The small parsers below return 0 or
 * -1 (or bool where they answer a question).
 *
 * Secrets: link passwords and the storage URL (it may carry a MariaDB
 * password) are never logged or printed, and gw_config_free wipes them.
 * Account passwords exist only as hashes (gateway/passwd.h).
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/passwd.h"
#include "secure/secure.h"

#define GW_CONFIG_DEFAULT_PATH	"conf/sealgate.yaml"

/* Sizes with room for the NUL. SMPP 3.4 limits: system_id 16, password 9,
 * system_type 13, addresses 21 octets including the NUL. */
#define GW_SYSTEM_ID_SIZE	16
#define GW_PASSWORD_SIZE	9
#define GW_SYSTEM_TYPE_SIZE	13
#define GW_ADDR_SIZE		21
#define GW_PATTERN_SIZE		22	/* an address and a final '*' */
#define GW_NAME_SIZE		33	/* link and group names (db: 32) */
#define GW_KEYWORD_SIZE		33
#define GW_HOST_SIZE		256
#define GW_PATH_SIZE		512
#define GW_URL_SIZE		512
#define GW_HASH_SIZE		(GW_PASSWD_HASH_MAX + 1)

/* Caps on list lengths: a config beyond them is a mistake, not a need. */
#define GW_MAX_ACCOUNTS		10000
#define GW_MAX_LINKS		1000
#define GW_MAX_GROUPS		1000
#define GW_MAX_ROUTES		100000
#define GW_MAX_MO_ROUTES	100000
#define GW_MAX_LIST		1000	/* networks, addresses, members */

#define GW_NONE			SIZE_MAX	/* "no index" (any account) */

/* accounts[].receipt_grace: default and cap (the cap is the hold's own,
 * GW_DELIVER_RESP_WAIT_MS in gateway/deliver.h) */
#define GW_RECEIPT_GRACE_MS	50
#define GW_RECEIPT_GRACE_MAX_MS	1000

/* Where a thing was written, for errors found after parsing. */
struct gw_mark {
	uint32_t	line;
	uint32_t	column;
};

enum gw_log_level {
	GW_LOG_ERR,
	GW_LOG_WARN,
	GW_LOG_INFO,
	GW_LOG_DEBUG,
};

/* Bind types as bits (an account's allowed set; a link's one bind). */
#define GW_BIND_TX	0x01u
#define GW_BIND_RX	0x02u
#define GW_BIND_TRX	0x04u
#define GW_BIND_ALL	0x07u

enum gw_msgid_format {
	GW_MSGID_HEX,		/* lower-case hex, value below 2^63 */
	GW_MSGID_DECIMAL,
};

/* What data_coding 0 ("SMSC default alphabet") means on a link. */
enum gw_default_alphabet {
	GW_ALPHABET_GSM7,
	GW_ALPHABET_ASCII,	/* IA5 */
	GW_ALPHABET_LATIN1,
};

/* An IPv4 or IPv6 network; IPv4 is matched against IPv4-mapped IPv6
 * peers (::ffff:a.b.c.d) too, as a dual-stack listener reports them. */
struct gw_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network bytes, host bits zero */
	uint8_t		prefix;		/* 0..32 or 0..128 */
};

struct gw_listener {
	bool		enabled;
	char		address[GW_HOST_SIZE];	/* numeric IP or host name */
	uint16_t	port;
	char		cert[GW_PATH_SIZE];	/* TLS listeners: PEM chain */
	char		key[GW_PATH_SIZE];	/* TLS listeners: PEM key */
	struct gw_mark	mark;			/* of the port */
};

struct gw_listeners {
	struct gw_listener	smpp;		/* plain SMPP (on) */
	struct gw_listener	smpp_tls;	/* SMPP over TLS (off) */
	struct gw_listener	admin;		/* /metrics, /status (on) */
	struct gw_listener	handset_api;	/* HTTPS, a later issue (on) */
};

struct gw_storage {
	char		url[GW_URL_SIZE];	/* db_store_open DSN; secret */
	uint32_t	queue_max;		/* jobs before ESME_RTHROTTLED */
	uint32_t	batch_max;		/* jobs per transaction */
	uint32_t	reconnect_min_ms;
	uint32_t	reconnect_max_ms;
	uint32_t	timeout_s;		/* MariaDB connect/read/write */
	uint32_t	stall_ms;		/* refuse submits once a
						   transaction ran this long
						   (0: never) */
	uint32_t	retention_s;		/* closed mappings kept */
	uint32_t	open_retention_s;	/* unanswered mappings kept */
};

struct gw_log {
	enum gw_log_level level;
	bool		syslog;			/* else stderr */
};

/* Failed binds: each costs the peer failure_delay_ms before the answer;
 * lockout_failures failures from one address within lockout_window_ms
 * refuse that address for lockout_ms (0 failures = never lock out). */
struct gw_auth {
	uint32_t	failure_delay_ms;
	uint32_t	lockout_failures;
	uint32_t	lockout_window_ms;
	uint32_t	lockout_ms;
};

/* command_status values the gateway answers with when it, not the SMSC,
 * refuses a message. */
struct gw_statuses {
	uint32_t	no_route;		/* ESME_RINVDSTADR */
	uint32_t	links_down;		/* ESME_RTHROTTLED */
	uint32_t	session_lost;		/* ESME_RSYSERR */
	uint32_t	response_timeout;	/* ESME_RSYSERR */
	uint32_t	storage_down;		/* ESME_RTHROTTLED */
};

struct gw_account {
	char		system_id[GW_SYSTEM_ID_SIZE];
	char		password_hash[GW_HASH_SIZE];
	struct gw_cidr	*networks;		/* empty = any address */
	size_t		n_networks;
	char		(*sources)[GW_PATTERN_SIZE];	/* empty = any */
	size_t		n_sources;
	unsigned	bind_types;		/* GW_BIND_* bits */
	uint32_t	max_binds;		/* 0 = no cap */
	uint32_t	window;			/* beyond: ESME_RMSGQFUL */
	uint32_t	tps;			/* 0 = no cap; ESME_RTHROTTLED */
	enum gw_msgid_format msgid_format;
	bool		receipts;		/* deliver_sm receipts wanted */
	uint32_t	pending_max;		/* queued receipts and MO */
	uint32_t	receipt_grace_ms;	/* gateway/deliver.h */
	struct gw_mark	mark;			/* of the system_id */
	struct sec_mark_rule secure;		/* key "secure": marking */
};

struct gw_link {
	char		name[GW_NAME_SIZE];
	/* The SMSC this link talks to, as the id map's link column: links
	 * that share it (a TX link and an RX link to one SMSC) find each
	 * other's receipts. Default: the link's own name. */
	char		smsc[GW_NAME_SIZE];
	char		host[GW_HOST_SIZE];
	uint16_t	port;
	bool		tls;
	char		tls_ca[GW_PATH_SIZE];	/* "" = the system store */
	char		tls_name[GW_HOST_SIZE];	/* "" = host */
	char		system_id[GW_SYSTEM_ID_SIZE];
	char		password[GW_PASSWORD_SIZE];	/* secret: sent in binds */
	char		system_type[GW_SYSTEM_TYPE_SIZE];
	unsigned	bind;			/* one GW_BIND_* bit */
	uint32_t	sessions;
	uint32_t	window;
	uint32_t	tps;			/* 0 = no cap */
	uint32_t	enquire_link_ms;
	uint32_t	response_timeout_ms;
	uint32_t	reconnect_min_ms;
	uint32_t	reconnect_max_ms;
	enum gw_default_alphabet default_alphabet;
	bool		gsm7_packed;		/* else one septet per octet */
	struct gw_mark	mark;			/* of the name */
};

struct gw_group {
	char		name[GW_NAME_SIZE];
	size_t		*links;			/* indexes into links, in order */
	size_t		n_links;
	struct gw_mark	mark;
};

/* MT: destination prefix (longest wins; "" = default), optionally only
 * for one account; groups are tried in order (failover). */
struct gw_route {
	char		prefix[GW_ADDR_SIZE];
	size_t		account;		/* GW_NONE = any */
	size_t		*groups;		/* indexes into groups */
	size_t		n_groups;
	struct gw_mark	mark;
};

/* MO: destination prefix (a short code) and optionally a first word of
 * the text (case-insensitive), to an account. */
struct gw_mo_route {
	char		prefix[GW_ADDR_SIZE];
	char		keyword[GW_KEYWORD_SIZE];	/* "" = any text */
	size_t		account;
	struct gw_mark	mark;
};

struct gw_config {
	char		path[GW_PATH_SIZE];	/* the file it came from */
	uint16_t	instance_id;		/* in every gateway message id */
	bool		instance_id_set;	/* else derived from hostname */
	struct gw_listeners listeners;
	struct gw_storage storage;
	struct gw_log	log;
	struct gw_auth	auth;
	struct gw_statuses statuses;
	uint32_t	drain_ms;		/* SIGTERM: wait for responses */
	struct gw_account *accounts;
	size_t		n_accounts;
	struct gw_link	*links;
	size_t		n_links;
	struct gw_group	*groups;
	size_t		n_groups;
	struct gw_route	*routes;
	size_t		n_routes;
	struct gw_mo_route *mo_routes;
	size_t		n_mo_routes;
	struct sec_config secure;		/* the secure service */
};

/* Loads path (or len bytes at data, labelled name in errors). */
int gw_config_load(const char *path, struct gw_config **out, char *err,
    size_t errlen);
int gw_config_load_mem(const char *name, const void *data, size_t len,
    struct gw_config **out, char *err, size_t errlen);
/* Wipes the secrets and frees; NULL is fine. */
void gw_config_free(struct gw_config *cfg);

/* config_secure.c: the top-level `secure:` section and an account's
 * `secure:` block (struct smpp_yc walkers; 0 or -1 after errors). */
struct smpp_yc;
int gw_config_secure_walk(struct smpp_yc *y, const char *path,
    struct sec_config *c);
int gw_config_mark_walk(struct smpp_yc *y, const char *path,
    struct sec_mark_rule *r);

/* Lookups by name; NULL when absent. */
const struct gw_account *gw_config_account(const struct gw_config *cfg,
    const char *system_id);
const struct gw_link *gw_config_link(const struct gw_config *cfg,
    const char *name);

/* 16 bits of a hash of the host name: the instance id when none is set. */
uint16_t gw_config_default_instance_id(void);

/* A command_status from "ESME_RTHROTTLED", "RTHROTTLED" or a number
 * ("88", "0x58"); 0 or -1. gw_status_name gives the ESME_ name back, or
 * NULL for numbers without a name. */
int gw_status_parse(const char *s, uint32_t *out);
const char *gw_status_name(uint32_t status);

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (/32, /128). Host bits
 * must be zero: "10.0.0.1/8" is refused as a likely typo (returns -2 for
 * that case, -1 for anything else malformed). */
int gw_cidr_parse(const char *s, struct gw_cidr *out);
/* Whether the address (family AF_INET: 4 bytes, AF_INET6: 16) is inside. */
bool gw_cidr_match(const struct gw_cidr *c, int family, const void *addr);
/* Whether any of n networks holds the address; n == 0 means any. */
bool gw_cidr_match_any(const struct gw_cidr *c, size_t n, int family,
    const void *addr);

/* Source address patterns: an exact address, or a prefix and a final '*'
 * ("4930*"; "*" alone is any). Valid: printable ASCII without spaces, at
 * most one '*', last. */
bool gw_addr_pattern_valid(const char *pattern);
bool gw_addr_pattern_match(const char *pattern, const char *addr);
/* Whether addr passes an account's list (empty list = any address). */
bool gw_account_source_allowed(const struct gw_account *a, const char *addr);

#endif
