/*
 * smsc-sim configuration: the YAML file (conf/smsc-sim.yaml) read with
 * smpp/yamlcfg into an immutable struct. Without a file the defaults
 * apply and any system_id/password binds ("accept any").
 *
 * Return convention: sim_config_load() returns 0, or -1 with the file's
 * errors in err, one "file:line:column: key: why" per line.
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sim_msgid.h"

#define SIM_MAX_ACCOUNTS	64
#define SIM_HOST_MAX		64
#define SIM_PATH_MAX		512

/* Allowed bind types (bits). */
#define SIM_BIND_TX	0x01
#define SIM_BIND_RX	0x02
#define SIM_BIND_TRX	0x04
#define SIM_BIND_ALL	0x07

struct sim_account_cfg {
	char		system_id[16];
	char		password[9];
	unsigned	binds;		/* SIM_BIND_* bits */
	uint32_t	window;		/* peer requests in flight (in_window) */
	uint32_t	tps;		/* submits per second; 0 = no cap */
	enum sim_msgid_fmt id_format;
	uint32_t	max_binds;	/* sessions at once; 0 = no cap */
};

/* How receipt outcomes are chosen. */
enum sim_dlr_mode {
	SIM_DLR_DETERMINISTIC,	/* destination suffix picks (sim_dlr.h) */
	SIM_DLR_RANDOM,		/* the mix below */
};

enum sim_delay_dist {
	SIM_DELAY_FIXED,	/* delay_min_ms */
	SIM_DELAY_UNIFORM,	/* min..max */
	SIM_DELAY_EXPONENTIAL,	/* min + exp(mean), capped at max */
};

/* Outcome indexes of the mix (and of stats). */
enum sim_outcome {
	SIM_OUT_DELIVRD, SIM_OUT_UNDELIV, SIM_OUT_EXPIRED, SIM_OUT_REJECTD,
	SIM_OUT_DELETED, SIM_OUT_UNKNOWN, SIM_OUT_ENROUTE, SIM_OUT_N
};

struct sim_receipts_cfg {
	enum sim_dlr_mode	mode;
	uint32_t		mix[SIM_OUT_ENROUTE];	/* weights */
	enum sim_delay_dist	dist;
	uint32_t		delay_min_ms;
	uint32_t		delay_max_ms;
	uint32_t		delay_mean_ms;
	int			intermediate;	/* ENROUTE on rd bit 0x10 */
	uint32_t		duplicate_pct;	/* 0..100 */
	uint32_t		late_pct;	/* 0..100 */
	uint32_t		late_ms;
	uint32_t		queue_max;	/* pending receipts */
	uint32_t		hold_ms;	/* wait for a receiver this long */
	uint32_t		before_response_ms; /* 0, or: receipts first,
						 * the response this later */
};

struct sim_faults_cfg {
	uint32_t	throttle_tps;	/* 0 = off */
	uint32_t	error_pct;	/* 0..100 */
	uint32_t	error_status;
	uint32_t	delay_ms;
	uint32_t	drop_after;	/* PDUs; 0 = off */
	int		silent_enquire_link;
	int		refuse_binds;
	uint32_t	refuse_status;
};

/* The simulated handset app (sim_app.h): where the gateway's handset
 * API is and how to trust it. */
struct sim_app_cfg {
	char		api_url[SIM_PATH_MAX];	/* https://127.0.0.1:8443 */
	char		ca_file[SIM_PATH_MAX];	/* var/handset-api.crt */
	int		insecure;		/* no certificate check (dev) */
	char		short_code[21];		/* flow B: "7277" ... */
	char		keyword[33];		/* ... "SEAL CODE" (unless the
						 * gateway names others) */
	char		mo_account[16];		/* "" = first bound receiver */
	uint32_t	timeout_ms;		/* per HTTPS request */
	uint32_t	code_wait_ms;		/* flow A: the code SMS; flow B:
						 * the MO seen by the gateway */
};

struct sim_config {
	char		path[SIM_PATH_MAX];	/* "" = no file */
	/* smpp */
	char		smpp_host[SIM_HOST_MAX];
	uint16_t	smpp_port;
	uint16_t	tls_port;		/* 0 = off */
	char		tls_cert[SIM_PATH_MAX];
	char		tls_key[SIM_PATH_MAX];
	char		smsc_system_id[16];
	uint32_t	max_sessions;
	uint32_t	enquire_link_ms;
	uint32_t	inactivity_ms;
	uint32_t	deliver_window;		/* our deliver_sm in flight per
						 * session (receipts, MO) */
	/* http */
	char		http_host[SIM_HOST_MAX];
	uint16_t	http_port;
	char		web_root[SIM_PATH_MAX];	/* "" = built-in default */
	uint32_t	http_max_body;
	/* handsets */
	uint32_t	max_handsets;
	uint32_t	inbox_size;
	uint32_t	reasm_timeout_ms;
	uint32_t	store_text_max;		/* UTF-8 bytes kept per SMS */
	/* accounts: none (or accept_any) = any credentials bind */
	int		accept_any;
	enum sim_msgid_fmt default_id_format;
	uint32_t	default_window;
	size_t		n_accounts;
	struct sim_account_cfg accounts[SIM_MAX_ACCOUNTS];
	struct sim_receipts_cfg receipts;
	struct sim_faults_cfg	faults;
	struct sim_app_cfg	app;
};

/* Fills the defaults (accept any, ports 2776/8776, deterministic receipts
 * without delay). */
void sim_config_defaults(struct sim_config *c);

/* Parses a YAML file over the defaults already in c. */
int sim_config_load(struct sim_config *c, const char *path, char *err,
    size_t errlen);

/* The same from memory (fuzzing, tests); name labels errors. */
int sim_config_load_mem(struct sim_config *c, const char *name,
    const uint8_t *data, size_t len, char *err, size_t errlen);

/* The account with this system_id, or NULL. */
const struct sim_account_cfg *sim_config_account(const struct sim_config *c,
    const char *system_id, size_t len);

/* Wipes the passwords (OPENSSL_cleanse). */
void sim_config_wipe(struct sim_config *c);

#endif
