/*
 * Password verification off the event loop. PBKDF2 costs ~31 ms per
 * check (gateway/passwd.h); one worker thread does them in order and
 * posts each result back to the loop through a pipe, where the callback
 * runs. The queue is bounded so a bind flood cannot grow memory: a full
 * queue refuses the job (the caller answers the bind ESME_RBINDFAIL).
 *
 * Return convention: gw_verify_submit returns 0 (the callback will run
 * exactly once, on the loop, never inside the call) or -1 (queue full or
 * closing: no callback). Callback result: 1 match, 0 no match, -1 bad
 * hash or shutdown.
 */
#ifndef GW_VERIFY_H
#define GW_VERIFY_H

#include <stddef.h>

struct event_base;
struct gw_verifier;

typedef void (*gw_verify_cb)(void *ctx, int result);

#define GW_VERIFY_QUEUE_MAX	64

struct gw_verifier *gw_verifier_new(struct event_base *base);
/* pw (len bytes) and hash are copied; the copy is wiped after use. */
int gw_verify_submit(struct gw_verifier *v, const char *pw, size_t len,
    const char *hash, gw_verify_cb cb, void *ctx);
/* Stops the worker; jobs not yet run are answered -1 from this call. */
void gw_verifier_free(struct gw_verifier *v);

#endif
