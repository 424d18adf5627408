/*
 * The fault filter: a bufferevent filter under each server session that
 * frames the input stream and, while the silent_enquire_link fault is on,
 * swallows enquire_link PDUs before the session sees them (the session
 * answers enquire_link by itself otherwise). Everything else passes
 * through unchanged. When the session frees the filter, the socket below
 * lingers until its queued output is written (a refused bind's response
 * must reach the peer), then closes.
 */
#ifndef SIM_FILTER_H
#define SIM_FILTER_H

struct bufferevent;
struct sim;

/* Wraps bev (taken); returns the filtering bufferevent, or NULL (bev is
 * freed then). */
struct bufferevent *sim_filter_wrap(struct sim *sim, struct bufferevent *bev);

#endif
