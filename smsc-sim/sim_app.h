/*
 * The reference handset app inside the simulator: per simulated handset
 * (MSISDN) one or more app installs ("devices", labelled "a", "b", ...),
 * each with its key pair (x25519 by default, p256, rsa2048), its
 * registration with the gateway's handset HTTPS API
 * (../shared/handset-api-v1.md) by flow A (the code SMS read from its own
 * inbox) or flow B (it texts "KEYWORD CODE" itself through the
 * simulator's MO path), proof of possession, device id and token, and the
 * messages it opened. Driven by the control API (sim_http.c) and the CLI
 * (`smsc-sim app ...`).
 *
 * Private keys and tokens live in memory only and are wiped when an app
 * is freed or re-keyed. Nothing secret is logged.
 *
 * Every verb answers exactly once through done(arg, http_status, body):
 * at once for refusals (400, 404, 409), later for work that talks to the
 * gateway. body (a JSON object) is handed over to done.
 */
#ifndef SIM_APP_H
#define SIM_APP_H

#include <jansson.h>

struct sim;
struct sim_apps;

typedef void (*sim_app_done)(void *arg, int http_status, json_t *body);

/* Apps of sim (config sim->cfg->app); NULL on ENOMEM. */
struct sim_apps *sim_apps_new(struct sim *sim);
/* Answers every control request still waiting (503), wipes, frees. */
void sim_apps_free(struct sim_apps *a);
/* Forgets every app (as sim_apps_free, keeping the table). */
void sim_apps_reset(struct sim_apps *a);

/* Digits only, 6..15, no leading zero (the contract's msisdn). */
int sim_app_valid_msisdn(const char *s);
/* A device label: 1..8 of [a-z0-9]. */
int sim_app_valid_device(const char *s);
/* "x25519", "p256", "rsa2048" (and "rsa1024", refused by any gateway;
 * for tests), or a contract scheme name. 0, or -1 if unknown. */
int sim_app_scheme_check(const char *name);

/*
 * Starts a registration of msisdn's app `device` (made if new): mode
 * "sms" (flow A) or "mo" (flow B), scheme as above (NULL: x25519);
 * replace asks the gateway to revoke the number's other devices. A
 * re-registration (re-key) revokes the app's own old device once the new
 * one is active. Answers 202 with the app's state at once (progress and
 * the result in sim_apps_json), 400 on bad arguments, 409 while busy.
 */
void sim_apps_register(struct sim_apps *a, const char *msisdn,
    const char *device, const char *mode, const char *scheme, int replace,
    sim_app_done done, void *arg);
/* Lists, fetches, opens and acks every waiting message; 200 with what
 * was opened and what could not be (not acked), 404 no such app, 409
 * not registered or busy, 502 the gateway failed. */
void sim_apps_sync(struct sim_apps *a, const char *msisdn,
    const char *device, sim_app_done done, void *arg);
/* Replies text to message id; 200, or 404/409/502 as above. */
void sim_apps_reply(struct sim_apps *a, const char *msisdn,
    const char *device, const char *id, const char *text,
    sim_app_done done, void *arg);
/* Revokes the device at the gateway (DELETE /v1/device) and forgets
 * its key; 200, or 404/409/502. */
void sim_apps_revoke(struct sim_apps *a, const char *msisdn,
    const char *device, sim_app_done done, void *arg);

/*
 * The opening rule, pure (unit-tested): envelope env (the contract's
 * ENVELOPE) of message id, for the device private key dsk of scheme
 * (enum sec_scheme) and the recipient msisdn: the envelope's id must be
 * id and its scheme the device's; the DEK unwraps under context id, the
 * body opens under AAD "sealgate/v1/body|id|msisdn"; text/plain must be
 * UTF-8. 0 with *text (malloc'd, NUL-terminated; hex for
 * application/octet-stream, *binary set) and *len, or -1 with why
 * ("cannot be opened...") and nothing kept.
 */
struct evp_pkey_st;
int sim_app_open(struct evp_pkey_st *dsk, int scheme, const char *msisdn,
    const char *id, const json_t *env, char **text, size_t *len,
    int *binary, char *why, size_t whylen);

/* {"msisdn", "apps": [...]} for msisdn (never a key, token, code or
 * registration id), or NULL when it has no app. */
json_t *sim_apps_json(struct sim_apps *a, const char *msisdn);

#endif
