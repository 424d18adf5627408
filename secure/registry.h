/*
 * Inside the secure service: the registry's verbs as api.c calls them
 * (registrations, OTP flows A and B, proof of possession, devices and
 * their tokens), and the gate that keeps late storage callbacks away
 * from a freed service. Not for gateway/.
 *
 * Every verb is asynchronous: it answers exactly once through its
 * callback, on the loop thread, never from inside the call. An answer
 * is an HTTP status and a JSON body (a new reference the callback owns:
 * the success object, or {"error","message",...}); retry_after > 0 asks
 * for a Retry-After header. Status 0 means the service is being freed:
 * the callback must free its arg and touch nothing else.
 */
#ifndef SEC_REGISTRY_H
#define SEC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "secure/service_int.h"

/*
 * The gate: one per service, made by sec_registry_init. Every
 * asynchronous job holds it; when the job's callback runs it releases
 * it and gets the service back, or NULL once sec_registry_free has run
 * (the job then only frees its own memory). The gate itself is freed
 * with its last holder.
 */
struct sec_gate;
struct sec_gate *sec_gate_of(struct sec_service *svc);
void sec_gate_hold(struct sec_gate *g);
struct sec_service *sec_gate_release(struct sec_gate *g);

typedef void (*sec_reg_reply)(void *arg, int status, json_t *body,
    unsigned retry_after);
typedef void (*sec_dev_reply)(void *arg, int status,
    const struct sec_device_rec *dev);

/* {"error": code, "message": msg} (a new object; NULL on ENOMEM). */
json_t *sec_error_json(const char *code, const char *msg);

/* A parsed POST /v1/registrations. */
struct sec_reg_request {
	char		msisdn[SEC_MSISDN_MAX + 1];
	bool		mode_mo;
	char		device_type[33];
	bool		replace;	/* revoke the MSISDN's devices once
					   this registration is active */
};

void sec_registry_create(struct sec_service *svc,
    const struct sec_reg_request *rq, const char *client, sec_reg_reply cb,
    void *arg);
void sec_registry_status(struct sec_service *svc, const char *rid,
    sec_reg_reply cb, void *arg);
void sec_registry_code(struct sec_service *svc, const char *rid,
    const char *code, sec_reg_reply cb, void *arg);
/* device_type "" keeps the one given at registration. */
void sec_registry_key(struct sec_service *svc, const char *rid,
    enum sec_scheme scheme, const uint8_t *spki, size_t spki_len,
    const char *device_type, sec_reg_reply cb, void *arg);
void sec_registry_proof(struct sec_service *svc, const char *rid,
    const uint8_t *answer, size_t len, sec_reg_reply cb, void *arg);

/* The active device whose token this is: 200 with dev, 401 (unknown or
 * revoked; dev NULL), 503, or 0 (service freed). dev is valid during the
 * callback only. The one verb that may answer from inside the call: a
 * token checked within the last 2 s is answered from memory. */
void sec_registry_auth(struct sec_service *svc, const char *token,
    sec_dev_reply cb, void *arg);
/* Revokes dev: 204, 401 (already revoked), 503, 0. */
void sec_registry_revoke(struct sec_service *svc,
    const struct sec_device_rec *dev, sec_reg_reply cb, void *arg);

#endif
