/*
 * The secure service's shell: the defaults of its configuration, making
 * and freeing struct sec_service (key ring, OTP secret, pipeline,
 * registry; the API comes later with sec_api_start) and its counters as
 * Prometheus text. Everything that does work lives in the modules it
 * starts (secure.h lists them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "secure/service_int.h"
#include "smpp/log.h"

static void
set(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

int64_t
sec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sec_config_default(struct sec_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = false;
	set(c->vault_dir, sizeof(c->vault_dir), "var/vault");
	set(c->otp_secret, sizeof(c->otp_secret), "var/otp.secret");
	set(c->short_code, sizeof(c->short_code), "7277");
	set(c->keyword, sizeof(c->keyword), "SEAL");
	c->notify_source[0] = '\0';
	set(c->app_link, sizeof(c->app_link), "https://localhost:8443/app");
	set(c->tpl_unregistered, sizeof(c->tpl_unregistered),
	    "{sender} sent you a secure message (ref {ref}). "
	    "Get the Sealgate app to read it: {link}");
	set(c->tpl_registered, sizeof(c->tpl_registered),
	    "{sender} sent you a secure message (ref {ref}). "
	    "Open the Sealgate app to read it.");
	set(c->tpl_otp, sizeof(c->tpl_otp),
	    "Your Sealgate code is {code}. Do not share it.");
	set(c->tpl_new_device, sizeof(c->tpl_new_device),
	    "A new device was registered for secure messages on this "
	    "number. If it was not you, register again to replace it.");
	c->flow_sms = true;
	c->flow_mo = true;
	c->retention_s = 7 * 86400;
	c->acked_retention_s = 7 * 86400;
	c->reassembly_timeout_s = 120;
	c->max_per_msisdn = 1000;
	c->max_devices = 10;
	c->max_message_bytes = 65536;
	c->registration_ttl_s = 900;
	c->otp_digits = 6;
	c->otp_ttl_s = 300;
	c->otp_max_tries = 5;
	c->otp_daily_cap = 10;
	c->otp_sends_per_msisdn = 3;
	c->otp_sends_per_client = 10;
	c->otp_send_window_s = 3600;
	c->api_body_max = 65536;
	c->n_cors_origins = 0;
}

struct sec_service *
sec_service_new(struct event_base *base, struct db_store *store,
    const struct sec_config *cfg, const struct sec_hooks *hooks, char *err,
    size_t errlen)
{
	struct sec_service	*svc;
	char			 why[256];

	if ((svc = calloc(1, sizeof(*svc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	svc->base = base;
	svc->store = store;
	svc->cfg = *cfg;
	svc->hooks = *hooks;
	if (svc->cfg.otp_digits < SEC_OTP_MIN_DIGITS ||
	    svc->cfg.otp_digits > SEC_OTP_MAX_DIGITS) {
		snprintf(err, errlen, "otp_digits %u: want %d..%d",
		    svc->cfg.otp_digits, SEC_OTP_MIN_DIGITS,
		    SEC_OTP_MAX_DIGITS);
		goto fail;
	}
	why[0] = '\0';
	if ((svc->keyring = sec_keyring_load(svc->cfg.vault_dir, 1, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "vault: %s", why);
		goto fail;
	}
	if (sec_otp_secret_load(svc->cfg.otp_secret, svc->otp_secret, why,
	    sizeof(why)) < 0) {
		snprintf(err, errlen, "otp secret: %s", why);
		goto fail;
	}
	if (sec_pipeline_init(svc, err, errlen) < 0)
		goto fail;
	if (sec_registry_init(svc, err, errlen) < 0) {
		sec_pipeline_free(svc);
		goto fail;
	}
	smpp_log(SMPP_LOG_INFO, "-", "secure", "start",
	    "keys=%zu current=%s flow_sms=%d flow_mo=%d short_code=%s",
	    sec_keyring_count(svc->keyring),
	    sec_keyring_current(svc->keyring), svc->cfg.flow_sms,
	    svc->cfg.flow_mo, svc->cfg.short_code);
	return svc;
fail:
	sec_keyring_free(svc->keyring);
	OPENSSL_cleanse(svc->otp_secret, sizeof(svc->otp_secret));
	free(svc);
	return NULL;
}

void
sec_service_free(struct sec_service *svc)
{
	if (svc == NULL)
		return;
	sec_api_free(svc);
	sec_registry_free(svc);
	sec_pipeline_free(svc);
	sec_keyring_free(svc->keyring);
	OPENSSL_cleanse(svc->otp_secret, sizeof(svc->otp_secret));
	free(svc);
}

void
sec_metrics(struct sec_service *svc, struct evbuffer *out)
{
	const struct sec_counters *n = &svc->n;
	const struct {
		const char	*name, *help;
		uint64_t	 v;
	} c[] = {
#define C(f, h) { "sealgate_secure_" #f "_total", h, n->f }
		C(accepted, "secure messages accepted (ESME_ROK)"),
		C(accepted_parts, "parts of multipart secure messages accepted"),
		C(refused, "secure submits refused"),
		C(vaulted, "messages sealed by the vault"),
		C(sealed_direct, "messages sealed to devices at once"),
		C(sealed_later, "vault messages sealed to a new device"),
		C(notices_sent, "notification SMS accepted downstream"),
		C(notices_failed, "notification SMS failed for good"),
		C(fetches, "envelopes fetched by devices"),
		C(acks, "messages acked by devices"),
		C(replies, "replies from devices"),
		C(expired, "messages expired unacked"),
		C(receipts_delivrd, "DELIVRD receipts sent"),
		C(receipts_expired, "EXPIRED receipts sent"),
		C(receipts_undeliv, "UNDELIV receipts sent"),
		C(receipts_enroute, "ENROUTE receipts sent"),
		C(registrations, "registrations started"),
		C(codes_sent, "one-time codes sent by SMS"),
		C(codes_wrong, "wrong codes and failed proofs"),
		C(verified, "registrations verified"),
		C(devices_active, "devices activated"),
		C(devices_revoked, "devices revoked"),
		C(mo_otp, "MO to the registration short code"),
		C(mo_otp_unmatched, "MO codes that matched no registration"),
		C(api_requests, "handset API requests"),
		C(api_errors, "handset API requests answered 4xx/5xx"),
#undef C
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n"
		    "%s %llu\n", c[i].name, c[i].help, c[i].name, c[i].name,
		    (unsigned long long)c[i].v);
}
