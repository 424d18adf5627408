/*
 * MT routing: which SMSC link a submit_sm goes to. Pure functions over a
 * loaded configuration; the caller says which links can take a message
 * now (bound, window room, TPS budget), so the router holds no state but
 * a round-robin cursor the caller keeps.
 *
 * Rules: the longest destination prefix wins; at equal length a route for
 * the submitting account beats one for any account. A route's groups are
 * tried in order: the next group only when no link of this one is bound
 * (failover, not overflow). Inside a group, links are tried round-robin
 * from *cursor so load spreads; a ready one wins, else a bound but full
 * one is returned with GW_ROUTE_WAIT (the message waits for room there).
 *
 * Return convention: gw_router_match returns a route index or -1;
 * gw_router_pick returns an enum gw_route_result.
 */
#ifndef GW_ROUTER_H
#define GW_ROUTER_H

#include <stddef.h>

#include "gateway/config.h"

enum gw_route_result {
	GW_ROUTE_OK,
	GW_ROUTE_WAIT,		/* a bound link, but it is full: wait */
	GW_ROUTE_NONE,		/* no route: statuses.no_route */
	GW_ROUTE_DOWN,		/* routed, nothing bound: links_down */
};

/* How a link (an index into cfg->links) can take a message now. */
enum gw_link_use {
	GW_LINK_DOWN = 0,	/* not bound */
	GW_LINK_FULL = 1,	/* bound, no window room or TPS budget now */
	GW_LINK_READY = 2,
};
typedef enum gw_link_use (*gw_link_usable_fn)(size_t link, void *arg);

/* The route for dest sent by account (system_id), or -1. */
long gw_router_match(const struct gw_config *cfg, const char *account,
    const char *dest);

/* Picks a link for dest; *link gets its index on OK and WAIT. */
enum gw_route_result gw_router_pick(const struct gw_config *cfg,
    const char *account, const char *dest, unsigned *cursor,
    gw_link_usable_fn usable, void *arg, size_t *link);

#endif
