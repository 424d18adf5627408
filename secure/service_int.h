/*
 * Inside the secure service: the one struct the service's files share,
 * and the calls they make on each other. Not for gateway/ (it sees
 * secure/secure.h only). service.c makes and frees the struct; each
 * module hangs its private state off one pointer.
 */
#ifndef SEC_SERVICE_INT_H
#define SEC_SERVICE_INT_H

#include "secure/keyring.h"
#include "secure/otp.h"
#include "secure/records.h"
#include "secure/secure.h"

struct event;
struct evhttp;
struct sec_pipeline;
struct sec_registry;
struct sec_api;

struct sec_counters {
	uint64_t accepted, accepted_parts, refused;
	uint64_t vaulted, sealed_direct, sealed_later;
	uint64_t notices_sent, notices_failed;
	uint64_t fetches, acks, replies, expired;
	uint64_t receipts_delivrd, receipts_expired, receipts_undeliv,
	    receipts_enroute;
	uint64_t registrations, codes_sent, codes_wrong, verified,
	    devices_active, devices_revoked, mo_otp, mo_otp_unmatched;
	uint64_t api_requests, api_errors;
};

struct sec_service {
	struct event_base	*base;
	struct db_store		*store;
	struct sec_config	 cfg;		/* a copy */
	struct sec_hooks	 hooks;
	struct sec_keyring	*keyring;
	uint8_t			 otp_secret[SEC_OTP_SECRET_LEN];
	struct sec_pipeline	*pipeline;	/* pipeline.c */
	struct sec_registry	*registry;	/* registry.c */
	struct sec_api		*api;		/* api.c */
	struct sec_counters	 n;
};

/* The wall clock in Unix ms (service.c): one clock for the service. */
int64_t sec_now_ms(void);

/* pipeline.c (made by sec_service_new) */
int sec_pipeline_init(struct sec_service *svc, char *err, size_t errlen);
void sec_pipeline_free(struct sec_service *svc);
/* A device became active: seal every vault message of its MSISDN to it
 * (and, when it is the only active device, shred the vault copies).
 * Asynchronous; logs its own failures. */
void sec_pipeline_device_active(struct sec_service *svc,
    const struct sec_device_rec *dev);
/* msisdn's devices changed (a device revoked): what the pipeline keeps
 * of its devices is read again for the next message. */
void sec_pipeline_msisdn_changed(struct sec_service *svc,
    const char *msisdn);
/* The device acked message id: sets the copy acked, the message ACKED
 * on the first ack, and sends DELIVRD to the sender (once). done gets
 * an HTTP status: 204, 404 (not this device's), 503 (storage). */
typedef void (*sec_http_done)(void *arg, int http_status);
void sec_pipeline_ack(struct sec_service *svc,
    const struct sec_device_rec *dev, const char *id, sec_http_done done,
    void *arg);
/* A reply from the device to message id: an MO deliver_sm to the
 * sending account (source = msisdn, dest = the original sender). done:
 * 202, 404, 400 (text empty/too long), 503. */
void sec_pipeline_reply(struct sec_service *svc,
    const struct sec_device_rec *dev, const char *id, const char *text,
    sec_http_done done, void *arg);

/* registry.c */
int sec_registry_init(struct sec_service *svc, char *err, size_t errlen);
void sec_registry_free(struct sec_service *svc);

/* api.c (sec_api_start is in secure.h) */
void sec_api_free(struct sec_service *svc);

#endif
