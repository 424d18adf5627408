/*
 * MT routing (see router.h). A linear scan of the routes: fine for the
 * hundreds of routes real deployments have; a prefix trie built per
 * config generation is the next step if route tables grow to the 100,000
 * the config allows.
 */
#include <stdbool.h>
#include <string.h>

#include "gateway/router.h"

long
gw_router_match(const struct gw_config *cfg, const char *account,
    const char *dest)
{
	long best = -1;
	size_t best_len = 0;
	int best_own = 0;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct gw_route *r = &cfg->routes[i];
		size_t len = strlen(r->prefix);
		int own;

		if (strncmp(r->prefix, dest, len) != 0)
			continue;
		if (r->account != GW_NONE) {
			if (account == NULL || strcmp(
			    cfg->accounts[r->account].system_id, account) != 0)
				continue;
			own = 1;
		} else
			own = 0;
		if (best < 0 || len > best_len ||
		    (len == best_len && own && !best_own)) {
			best = (long)i;
			best_len = len;
			best_own = own;
		}
	}
	return best;
}

enum gw_route_result
gw_router_pick(const struct gw_config *cfg, const char *account,
    const char *dest, unsigned *cursor, gw_link_usable_fn usable, void *arg,
    size_t *link)
{
	long ri = gw_router_match(cfg, account, dest);
	const struct gw_route *r;

	if (ri < 0)
		return GW_ROUTE_NONE;
	r = &cfg->routes[ri];
	for (size_t g = 0; g < r->n_groups; g++) {
		const struct gw_group *grp = &cfg->groups[r->groups[g]];
		bool full = false;
		unsigned start;

		if (grp->n_links == 0)
			continue;
		start = (*cursor)++;
		for (size_t k = 0; k < grp->n_links; k++) {
			size_t li = grp->links[(start + k) % grp->n_links];
			enum gw_link_use u = usable(li, arg);

			if (u == GW_LINK_READY) {
				*link = li;
				return GW_ROUTE_OK;
			}
			if (u == GW_LINK_FULL && !full) {
				full = true;
				*link = li;
			}
		}
		if (full)
			return GW_ROUTE_WAIT;
	}
	return GW_ROUTE_DOWN;
}
