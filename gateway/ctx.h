/*
 * The daemon's shared types: the context every gateway module hangs off,
 * refcounted configuration generations, and the runtime state of accounts
 * and links that outlives a reload. Split from daemon.h so that upstream,
 * downstream, proxy, dlr, mo and admin can see each other's state without
 * including each other (STYLE.md: x_types.h).
 *
 * Threads: everything here is touched on the loop thread only.
 */
#ifndef GW_CTX_H
#define GW_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/msgid.h"

struct event_base;
struct event;
struct db_store;
struct smpp_session;
struct smpp_connector;
struct smpp_listener;
struct gw_verifier;
struct gw_auth_guard;
struct gw_auth_cache;
struct gw_link_rt;
struct gw_esme;
struct gw_vwait;
struct gw_dlv;
struct evhttp;
struct ssl_ctx_st;
struct sec_service;
struct gw_sec_glue;

/*
 * A configuration generation. The daemon holds one reference to the
 * current one; every bound ESME session holds one to the generation it
 * bound under (its account pointer points into it), so a reload never
 * frees an account a session still uses. links[i] maps the generation's
 * link i to the running link of the same name (NULL: a link added by a
 * reload, which needs a restart to connect).
 */
struct gw_gen {
	struct gw_config	*cfg;
	struct gw_link_rt	**links;
	unsigned		 refs;
	uint64_t		 number;	/* 1 at start, +1 per reload */
};

struct gw_gen *gw_gen_hold(struct gw_gen *g);
void gw_gen_release(struct gw_gen *g);

/* query_sm, cancel_sm, replace_sm (gateway/msgops.h). */
#define GW_MSGOPS	3

/* A small table of counts by command_status for metrics. */
#define GW_STATUS_SLOTS	16
struct gw_status_counts {
	uint32_t	status[GW_STATUS_SLOTS];
	uint64_t	count[GW_STATUS_SLOTS];
	uint64_t	other;		/* statuses beyond the table */
};
void gw_status_count(struct gw_status_counts *c, uint32_t status);

/* Latency buckets (upper bounds, microseconds) for /metrics. */
#define GW_LAT_BUCKETS	10
extern const double gw_lat_bounds_us[GW_LAT_BUCKETS];
struct gw_latency {
	uint64_t	bucket[GW_LAT_BUCKETS + 1];	/* last: +Inf */
	uint64_t	count;
	double		sum_s;
};
void gw_latency_add(struct gw_latency *l, int64_t us);

/* A token bucket: rate per second, burst one second's worth. */
struct gw_bucket {
	double		tokens;
	int64_t		last_ms;
};
/* Takes a token if rate allows (rate 0 = no cap); true when taken. */
bool gw_bucket_take(struct gw_bucket *b, uint32_t rate, int64_t now_ms);

/* Runtime state of an account, by system_id; created on first use and
 * kept across reloads (counters, bound sessions, queued deliveries). */
struct gw_acct {
	struct gw_acct		*next;		/* hash chain */
	struct gw_ctx		*ctx;
	char			 name[GW_SYSTEM_ID_SIZE];
	struct gw_esme		*esmes;		/* bound sessions, a list */
	uint32_t		 n_binds;
	struct gw_bucket	 tps;
	/* deliveries (gateway/deliver.c): the wait list in memory (SMSC
	 * not answered yet), those waiting for a submit_sm_resp to be
	 * written, and the durable queue (db pending table) */
	struct gw_dlv		*wait_head, *wait_tail;
	uint32_t		 n_wait;
	struct gw_dlv		*held_head, *held_tail;
	uint32_t		 n_held;
	struct gw_dlv		*back_head, *back_tail;	/* fetched rows */
	uint32_t		 n_back;
	uint32_t		 back_out;	/* rows sent, unanswered */
	enum { GW_Q_UNKNOWN, GW_Q_EMPTY, GW_Q_NONEMPTY } qstate;
	bool			 fetching;	/* a fetch runs */
	bool			 exhausted;	/* the last fetch found none */
	bool			 drain_failed;	/* a row stays for later */
	bool			 rescan;	/* from the start when idle */
	bool			 turn;		/* backlog's turn next */
	unsigned		 pushes;	/* pushes not yet committed */
	int64_t			 after_id;	/* drain cursor */
	struct event		*pump_timer;	/* made on first use */
	int64_t			 timer_due_ms;	/* mono: when it fires */
	unsigned		 rr;		/* receiver round robin */
	int64_t			 queued;	/* pushed minus delivered */
	/* counters */
	uint64_t		 binds_ok, binds_failed;
	struct gw_status_counts	 submits;
	uint64_t		 receipts_sent, receipts_queued;
	uint64_t		 mo_sent, mo_queued;
	uint64_t		 waited_out;	/* queued after GW_DELIVER_WAIT_MS */
	uint64_t		 resp_waits;	/* held for a submit_sm_resp */
	uint64_t		 in_flight;
	struct gw_latency	 submit_latency;
	struct gw_latency	 submit_added;	/* the same less the wait for
						 * the SMSC's response */
};

#define GW_ACCT_BUCKETS	256

/*
 * Which ESME session a recent message came from, so its receipt goes up
 * on that same session when it is a receiver: a receipt on a sibling
 * session can overtake the submit_sm_resp (the ESME may read the other
 * socket first; Kannel then drops the receipt), so there it waits for the
 * response (gateway/deliver.h). A direct-mapped table of the last
 * GW_HINT_SLOTS ids: a hint, never a source of truth.
 */
#define GW_HINT_SLOTS	65536
struct gw_hint {
	char		gw_id[GW_MSGID_MAX_LEN + 1];
	uint64_t	esme_serial;
	uint64_t	mark;		/* the session's out_bytes once its
					 * submit_sm_resp was queued (0: -) */
	int64_t		resp_ms;	/* mono: when it was queued */
};
void gw_hint_put(struct gw_ctx *ctx, const char *gw_id, uint64_t serial);
/* The session serial queued gw_id's submit_sm_resp; mark: its out_bytes
 * just after (gateway/upstream.h). */
void gw_hint_mark(struct gw_ctx *ctx, const char *gw_id, uint64_t serial,
    uint64_t mark);
/* gw_id's hint, or NULL; valid until the next gw_hint_put/mark. */
const struct gw_hint *gw_hint_find(const struct gw_ctx *ctx,
    const char *gw_id);

struct gw_ctx {
	struct event_base	*base;
	struct gw_gen		*gen;		/* current configuration */
	struct db_store		*store;
	struct gw_verifier	*verifier;
	struct sec_service	*sec;		/* NULL: secure.enabled false */
	struct gw_sec_glue	*sec_glue;	/* gateway/secure_glue.c */
	struct gw_auth_guard	*guard;
	struct gw_auth_cache	*auth_cache;
	struct gw_vwait		*vwaits;	/* verifications running */
	struct gw_msgid_gen	 msgid;
	struct smpp_listener	*smpp_listener;
	struct smpp_listener	*smpp_tls_listener;
	struct ssl_ctx_st	*tls_server;
	struct evhttp		*http;
	struct gw_link_rt	**links;	/* by startup link index */
	size_t			 n_links;
	unsigned		 route_cursor;
	struct gw_acct		*accts[GW_ACCT_BUCKETS];
	struct gw_hint		*hints;		/* GW_HINT_SLOTS */
	uint64_t		 esme_serial;	/* last one given out */
	struct gw_esme		*all_esmes;	/* every upstream session */
	uint64_t		 n_esmes;
	uint64_t		 submits_in_flight;	/* sent down, unanswered */
	uint64_t		 dlr_in_flight;	/* receipts/MO being handled */
	uint64_t		 msgops_in_flight;	/* gateway/msgops.c, at
							   storage */
	uint64_t		 msgops_ok[GW_MSGOPS];	/* by op: query, */
	uint64_t		 msgops_failed[GW_MSGOPS]; /* cancel, replace */
	bool			 draining;	/* SIGTERM seen */
	int64_t			 started_ms;
	const char		*version;
	uint64_t		 reloads_ok, reloads_failed;
	uint64_t		 receipts_unknown;	/* no mapping found */
	uint64_t		 receipts_cached;	/* mapped without storage */
	uint64_t		 receipts_before_mapping; /* storage had none
							   at first */
	uint64_t		 receipts_arrived;	/* their arrival order */
	bool			 storage_stalled;	/* gateway/proxy.c */
	uint64_t		 storage_stall_refused;	/* submits refused
							   meanwhile */
	uint64_t		 stall_refused_at;	/* ... when it began */
	struct gw_rcache	*rcache;	/* gateway/rcache.h; NULL until used */
	struct event		*sig_term, *sig_int, *sig_hup;
	struct event		*drain_timer, *purge_timer;
	int			 drain_phase;
};

/* Finds (create: makes) the runtime state of an account. */
struct gw_acct *gw_acct_get(struct gw_ctx *ctx, const char *name,
    bool create);

/* Wall clock in Unix ms, and a monotonic clock in ms / us. */
int64_t gw_now_ms(void);
int64_t gw_mono_ms(void);
int64_t gw_mono_us(void);

#endif
