/*
 * The SMPP side of the simulator: listeners (plain and TLS), server
 * sessions, binds against the accounts, submit_sm / data_sm /
 * submit_multi answered with configured ids, MTs stored in handsets,
 * faults applied, receipts scheduled and sent, and MO deliver_sm.
 *
 * Return convention: 0 or -1 (with a reason where one is given).
 */
#ifndef SIM_SMSC_H
#define SIM_SMSC_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

/* Sets up state and listeners; -1 (logged) on failure. */
int sim_smsc_start(struct sim *sim);
/* Stops listening and unbinds every session (the loop then drains). */
void sim_smsc_stop(struct sim *sim);
/* Frees what is left once the loop has ended. */
void sim_smsc_free(struct sim *sim);

/* Puts f in force (copied), for live sessions too. */
void sim_smsc_set_faults(struct sim *sim, const struct sim_faults_cfg *f);

/* Clears counters, handsets, pending receipts; faults back to config. */
void sim_smsc_reset(struct sim *sim);

/* An MO to inject. account NULL: the first account with a receiver. */
struct sim_mo {
	const char	*from;
	const char	*to;
	const char	*text;		/* UTF-8 */
	const char	*account;
	const char	*encoding;	/* auto, gsm7, ucs2, latin1 */
	const char	*split;		/* udh, udh16, sar */
};

/* Result of an MO: parts sent and the session, or why not. */
struct sim_mo_result {
	int		 parts;
	char		 account[16];
	char		 session[24];
	const char	*error;		/* machine code */
	const char	*message;	/* for humans */
	int		 http_status;	/* 400, 404, 409, 503 */
};

int sim_smsc_send_mo(struct sim *sim, const struct sim_mo *mo,
    struct sim_mo_result *res);

/* Finds an account by system_id (NULL if none). */
struct sim_account *sim_smsc_account(struct sim *sim, const char *sid);

#endif
