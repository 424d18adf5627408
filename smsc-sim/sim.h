/*
 * The simulator's shared state, split out so that the SMPP side, the
 * receipt scheduler and the control API can see the same accounts,
 * connections and counters (STYLE.md 1: types in their own header).
 * One struct sim per process, owned by sim_main.c.
 */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "smpp/session.h"
#include "sim_config.h"
#include "sim_dlr.h"
#include "sim_util.h"

struct event_base;
struct event;
struct smpp_listener;
struct sim_handsets;
struct sim_http;

#define SIM_STATUS_SLOTS	16	/* distinct command_status counted */

/* Per-account counters; cheap increments on the hot path. */
struct sim_stats {
	uint64_t	binds_ok;
	uint64_t	binds_refused;
	uint64_t	submits;		/* submit_sm/data_sm/multi */
	uint32_t	status_code[SIM_STATUS_SLOTS];
	uint64_t	status_count[SIM_STATUS_SLOTS];
	uint64_t	status_other;
	uint64_t	receipts[SIM_OUT_N];	/* sent, by outcome */
	uint64_t	receipts_acked;
	uint64_t	receipts_refused;	/* non-zero deliver_sm_resp */
	uint64_t	receipts_dropped;	/* queue full or no receiver */
	uint64_t	mo_sent;
	uint64_t	mo_acked;
	uint64_t	mo_refused;
};

struct sim_conn;
struct sim_account;

/* A ring of due receipts and its place on the run list (sim_smsc.c):
 * one per session (receipts of its own submits) and one per account. */
struct sim_rq {
	struct sim_rfifo	 f;
	struct sim_rq		*rprev, *rnext;	/* run list */
	int			 on_run;
	struct sim_conn		*conn;		/* a session's, or NULL */
	struct sim_account	*acct;		/* an account's */
};

struct sim_account {
	struct sim_account_cfg	 cfg;		/* a copy (dynamic ones too) */
	uint32_t		 index;
	int			 dynamic;	/* made by accept-any */
	struct sim_conn		*conns;		/* bound sessions */
	uint32_t		 n_bound;
	uint64_t		 tps_sec;	/* TPS cap window */
	uint32_t		 tps_count;
	struct sim_rq		 rq;		/* receipts for any receiver */
	struct sim_stats	 st;
};

/* A submit whose response waits (the response delay fault). */
struct sim_delayed {
	uint64_t		 due_ms;
	struct smpp_req_ref	 ref;
	uint32_t		 status;
	uint64_t		 id_num;
	int			 n_receipts;
	struct sim_receipt	 r[2];	/* ENROUTE + final at most */
};

struct sim_conn {
	struct sim		*sim;
	struct smpp_session	*s;
	struct sim_account	*acct;		/* once bound */
	uint64_t		 serial;
	char			 name[24];
	int			 can_rx;	/* RX or TRX: takes deliver_sm */
	enum smpp_state		 state;
	struct sim_conn		*prev, *next;	/* all connections */
	struct sim_conn		*aprev, *anext;	/* the account's */
	struct sim_delayed	*dq;		/* FIFO ring */
	uint32_t		 dq_head, dq_len, dq_cap;
	struct event		*dq_ev;
	int			 dropping;
	struct sim_rq		 rq;		/* receipts of its submits */
	int			 full;		/* window or output full:
						 * ops->writable clears it */
};

/* The faults in force, changed at run time through the control API. */
struct sim_faults {
	struct sim_faults_cfg	 f;
	uint64_t		 tps_sec;
	uint32_t		 tps_count;
};

struct sim {
	struct event_base	*base;
	const struct sim_config	*cfg;
	struct sim_faults	 faults;
	struct sim_rng		 rng;
	struct smpp_session_config scfg;

	struct sim_account	**accts;
	uint32_t		 n_accts;
	uint32_t		 cap_accts;

	struct sim_conn		*conns;
	uint32_t		 n_conns;
	uint64_t		 next_serial;

	SSL_CTX			*tls;
	struct smpp_listener	*lis;
	struct smpp_listener	*tls_lis;

	struct sim_handsets	*hs;
	struct sim_dlrq		*dlrq;		/* delayed receipts */
	struct event		*dlr_ev;	/* its timer */
	uint64_t		 dlr_armed_ms;	/* 0: not armed */
	struct sim_rq		*run_head, *run_tail;	/* rings to drain */
	uint32_t		 n_run;
	struct event		*drain_ev;	/* drains the run list */
	int			 drain_pending;
	struct event		*retry_ev;	/* hold and written waits */
	uint64_t		 retry_armed_ms;
	uint64_t		 dlr_pending;	/* heap + rings */
	struct event		*tick_ev;	/* 1 s housekeeping */

	uint64_t		 id_counter;	/* the last id given out */
	uint64_t		 id_first;	/* the first of this run */
	uint64_t		 id_salt;
	uint64_t		 start_ms;
	int64_t			 start_time;
	int			 stopping;
	int64_t			 date_min[2];	/* receipt date cache */
	char			 date_str[2][13];
};

#endif
