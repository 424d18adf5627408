/*
 * Fuzz target: sealgate's config loader on memory (gw_config_load_mem, and
 * through it smpp/yamlcfg). Properties: it returns 0 or -1 and never
 * crashes or leaks; on -1 every line of the message names the input
 * ("fuzz.yaml:..."); on 0 every index points inside its array, every
 * string is terminated within its field, every group has a link and every
 * route a group; and loading the same bytes again gives the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

static void
check_ok(const struct gw_config *c)
{
	for (size_t i = 0; i < c->n_accounts; i++) {
		const struct gw_account *a = &c->accounts[i];

		if (!TERMINATED(a->system_id) || a->system_id[0] == '\0' ||
		    !TERMINATED(a->password_hash) ||
		    gw_passwd_parse(a->password_hash, NULL, NULL) != 0)
			abort();
		if (a->bind_types == 0 || (a->bind_types & ~GW_BIND_ALL) ||
		    a->window == 0)
			abort();
		if (gw_config_account(c, a->system_id) != a)
			abort();	/* duplicates must be refused */
		for (size_t j = 0; j < a->n_sources; j++)
			if (!gw_addr_pattern_valid(a->sources[j]))
				abort();
		for (size_t j = 0; j < a->n_networks; j++)
			if (a->networks[j].prefix >
			    (a->networks[j].family == 2 ? 32 : 128))
				abort();
	}
	for (size_t i = 0; i < c->n_links; i++) {
		const struct gw_link *k = &c->links[i];

		if (!TERMINATED(k->name) || !TERMINATED(k->password) ||
		    !TERMINATED(k->system_id) || k->name[0] == '\0' ||
		    k->port == 0 || k->sessions == 0 ||
		    k->reconnect_max_ms < k->reconnect_min_ms)
			abort();
		if (gw_config_link(c, k->name) != k)
			abort();
	}
	for (size_t i = 0; i < c->n_groups; i++) {
		if (c->groups[i].n_links == 0)
			abort();
		for (size_t j = 0; j < c->groups[i].n_links; j++)
			if (c->groups[i].links[j] >= c->n_links)
				abort();
	}
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct gw_route *r = &c->routes[i];

		if (r->n_groups == 0 || !TERMINATED(r->prefix) ||
		    (r->account != GW_NONE && r->account >= c->n_accounts))
			abort();
		for (size_t j = 0; j < r->n_groups; j++)
			if (r->groups[j] >= c->n_groups)
				abort();
	}
	for (size_t i = 0; i < c->n_mo_routes; i++)
		if (c->mo_routes[i].account >= c->n_accounts)
			abort();
	if (c->statuses.no_route == 0 || c->statuses.links_down == 0 ||
	    c->storage.url[0] == '\0' || !TERMINATED(c->storage.url))
		abort();
}

static void
check_err(const char *err)
{
	const char *p = err;

	if (!memchr(err, '\0', 8192))
		abort();
	for (;;) {
		if (strncmp(p, "fuzz.yaml:", 10) != 0)
			abort();
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[8192], err2[8192];
	struct gw_config *a, *b;
	int rc, rc2;

	if (size > 65536)
		return 0;
	memset(err, 0x55, sizeof(err));
	rc = gw_config_load_mem("fuzz.yaml", data, size, &a, err, sizeof(err));
	if (rc == 0) {
		if (a == NULL)
			abort();
		check_ok(a);
	} else if (rc == -1) {
		if (a != NULL)
			abort();
		check_err(err);
	} else {
		abort();
	}
	rc2 = gw_config_load_mem("fuzz.yaml", data, size, &b, err2,
	    sizeof(err2));
	if (rc2 != rc || (rc != 0 && strcmp(err, err2) != 0))
		abort();
	if (rc == 0 && (a->n_accounts != b->n_accounts ||
	    a->n_links != b->n_links || a->n_routes != b->n_routes ||
	    a->n_mo_routes != b->n_mo_routes || a->n_groups != b->n_groups))
		abort();
	gw_config_free(a);
	gw_config_free(b);
	return 0;
}
