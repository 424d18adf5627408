/*
 * The secure service: everything between "this submit_sm is marked
 * secure" and "the recipient's app acked it". The gateway daemon owns one
 * struct sec_service and talks to it through this header only; the
 * service reaches back into the gateway through struct sec_hooks (send
 * an SMS downstream, hand a deliver_sm to an account), so secure/ never
 * includes gateway/ (DESIGN.md: nothing includes upward).
 *
 * Inside, one file per job: mark.c (is it marked? strip, reassemble),
 * pipeline.c (seal, store, notify, receipts, expiry, retention, rewrap),
 * registry.c (registrations, OTP flows A and B, devices, tokens, proof of
 * possession), api.c (the handset HTTPS API), records.c (row layouts),
 * envelope.c / keyring.c / otp.c (crypto). They share struct sec_service
 * through secure/service_int.h.
 *
 * Threads: loop thread only. Return convention: 0 / -1 with err.
 */
#ifndef SEC_SECURE_H
#define SEC_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct db_store;
struct sec_service;

#define SEC_MSISDN_MAX	15
#define SEC_ADDR_SIZE	21	/* SMPP address, with the NUL */
#define SEC_ACCOUNT_SIZE 16
#define SEC_TEMPLATE_SIZE 512
#define SEC_MAX_ORIGINS	16

/* The service's configuration (gateway/config.c fills it from the
 * `secure:` section; sec_config_default() gives every default). */
struct sec_config {
	bool		enabled;
	char		vault_dir[512];		/* var/vault (0700, keys 0600) */
	char		otp_secret[512];	/* var/otp.secret (0600) */
	char		short_code[SEC_ADDR_SIZE];	/* "7277": MO OTP, never
						   routed to an ESME */
	char		keyword[33];		/* "SEAL" */
	char		notify_source[SEC_ADDR_SIZE]; /* source of notices/OTP
						   SMS; "" = the sender's */
	char		app_link[256];		/* {link} in templates */
	/* Templates, UTF-8; placeholders {sender} {ref} {link} {code}. */
	char		tpl_unregistered[SEC_TEMPLATE_SIZE];
	char		tpl_registered[SEC_TEMPLATE_SIZE];
	char		tpl_otp[SEC_TEMPLATE_SIZE];
	char		tpl_new_device[SEC_TEMPLATE_SIZE];
	bool		flow_sms;		/* flow A on */
	bool		flow_mo;		/* flow B on */
	uint32_t	retention_s;		/* 7 days: unacked kept */
	uint32_t	acked_retention_s;	/* 7 days after the ack */
	uint32_t	reassembly_timeout_s;	/* 120 */
	uint32_t	max_per_msisdn;		/* 1000 messages held; checked
						   against a count kept 2 s
						   (pipeline.c), so approximate
						   across instances */
	uint32_t	max_devices;		/* 10 per MSISDN */
	uint32_t	max_message_bytes;	/* 65536 (UTF-8 or binary) */
	uint32_t	registration_ttl_s;	/* 900: code to proof */
	unsigned	otp_digits;		/* 6 (6..10) */
	uint32_t	otp_ttl_s;		/* 300 (max 600) */
	uint32_t	otp_max_tries;		/* 5 */
	uint32_t	otp_daily_cap;		/* 10 registrations per MSISDN
						   per 24 h */
	uint32_t	otp_sends_per_msisdn;	/* 3 per otp_send_window_s */
	uint32_t	otp_sends_per_client;	/* 10 per otp_send_window_s */
	uint32_t	otp_send_window_s;	/* 3600 */
	uint32_t	api_body_max;		/* 65536 */
	char		cors_origins[SEC_MAX_ORIGINS][256];
	size_t		n_cors_origins;
};
void sec_config_default(struct sec_config *c);

/* Per-account marking (the gateway keeps one in each account). */
struct sec_mark_rule {
	bool		enabled;		/* any marking at all */
	bool		all;			/* every message */
	char		prefix[33];		/* "#secure " ("" = off) */
	char		service_type[6];	/* "" = off */
	uint16_t	tlv_tag;		/* 0x1501 (0 = off), value 1 */
};

/* How the service reaches the gateway. All called on the loop thread. */
typedef void (*sec_sms_done)(void *arg, bool ok);
struct sec_hooks {
	void	*arg;
	/* Sends text (UTF-8) from source to msisdn through the normal
	 * downstream path (routing, GSM 7 or UCS-2, parts as needed). done
	 * (may be NULL) runs once: ok when every part got ESME_ROK, !ok when
	 * it failed for good. */
	void	(*send_sms)(void *arg, const char *source, const char *msisdn,
		    const char *text, sec_sms_done done, void *done_arg);
	/* Hands a deliver_sm PDU (a receipt: kind 1, an MO: kind 2) to the
	 * account's delivery path (bound receiver or durable queue). Takes
	 * pdu (malloc'd). */
	void	(*deliver)(void *arg, const char *account, int kind,
		    uint8_t *pdu, size_t len);
	/* The account's message id format: true for decimal ids. */
	bool	(*account_decimal_ids)(void *arg, const char *account);
};

/* Makes the service: loads the key ring (refusing wrong permissions) and
 * the OTP secret, starts the expiry/retention timer. NULL with err on
 * failure (the daemon then refuses to start). store and base outlive it. */
struct sec_service *sec_service_new(struct event_base *base,
    struct db_store *store, const struct sec_config *cfg,
    const struct sec_hooks *hooks, char *err, size_t errlen);
/* Stops timers and the API; answers nothing more. NULL is a no-op.
 * Call it after db_store_close(): the store's last callbacks may still
 * reach the pipeline, whose jobs hold the service itself (the registry's
 * and the API's hold its gate and survive either order). */
void sec_service_free(struct sec_service *svc);

/* Starts the handset HTTPS API on address:port with cert/key (PEM). */
int sec_api_start(struct sec_service *svc, const char *address,
    uint16_t port, const char *cert, const char *key, char *err,
    size_t errlen);

/*
 * A submit_sm (or data_sm) that sec_mark_match() said is marked. The
 * gateway has done its checks (bind, window, TPS, source) and minted
 * gw_id in the account's format. reply runs exactly once: ESME_ROK after
 * the sealed message (or this part) is committed, or an error status
 * (ESME_RTHROTTLED storage busy, ESME_RSYSERR, ESME_RINVMSGLEN too big,
 * ESME_RINVDSTADR not an MSISDN). pdu is the request's bytes (borrowed
 * for the call).
 */
typedef void (*sec_submit_reply)(void *arg, uint32_t status);
struct smpp_scan;
void sec_submit(struct sec_service *svc, const struct sec_mark_rule *rule,
    const char *account, const char *gw_id, const struct smpp_scan *req,
    sec_submit_reply reply, void *arg);

/* Is this submit marked under rule? Pure. */
bool sec_mark_match(const struct sec_mark_rule *rule,
    const struct smpp_scan *req);
/* What the gateway asks: sec_mark_match, and for parts of a concatenated
 * message the decision of its part 1 (a prefix is only in part 1; a
 * later part seen before its part 1 is held when a prefix rules). svc
 * may be NULL (then sec_mark_match alone). Loop thread only. */
bool sec_marked(struct sec_service *svc, const struct sec_mark_rule *rule,
    const char *account, const struct smpp_scan *req);

/*
 * An MO deliver_sm from an SMSC. True when it was addressed to the
 * registration short code (the service took it, whatever its content:
 * never route it to an ESME); the caller answers the SMSC ESME_ROK.
 */
bool sec_mo(struct sec_service *svc, const struct smpp_scan *req);

/* For /metrics and /status: counters, appended as Prometheus text. */
struct evbuffer;
void sec_metrics(struct sec_service *svc, struct evbuffer *out);

#endif
