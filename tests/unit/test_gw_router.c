/*
 * gateway/router: longest destination prefix, account routes beating
 * generic ones, failover through a route's groups in order, round-robin
 * inside a group, and the two refusals (no route, nothing usable).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/router.h"

static const char yaml[] =
    "accounts:\n"
    "  - system_id: a1\n"
    "    password_hash: \"$pbkdf2-sha256$i=100000$runmUJa7SKljS0SoCmlGEQ=="
    "$hbr813wXJ65xJNt8+aTp1L/aI1EOi+gUOAPfyt2H/Hw=\"\n"
    "  - system_id: a2\n"
    "    password_hash: \"$pbkdf2-sha256$i=100000$runmUJa7SKljS0SoCmlGEQ=="
    "$hbr813wXJ65xJNt8+aTp1L/aI1EOi+gUOAPfyt2H/Hw=\"\n"
    "links:\n"
    "  - {name: l0, host: 127.0.0.1, port: 1, system_id: x, password: y}\n"
    "  - {name: l1, host: 127.0.0.1, port: 2, system_id: x, password: y}\n"
    "  - {name: l2, host: 127.0.0.1, port: 3, system_id: x, password: y}\n"
    "groups:\n"
    "  g01: [l0, l1]\n"
    "  g2: [l2]\n"
    "routes:\n"
    "  - {prefix: \"\", groups: [g2]}\n"
    "  - {prefix: \"49\", groups: [g01, g2]}\n"
    "  - {prefix: \"4917\", groups: [g2]}\n"
    "  - {prefix: \"49\", groups: [g2], account: a2}\n"
    "mo_routes: []\n";

static struct gw_config *
load(const char *text)
{
	struct gw_config *cfg = NULL;
	char err[2048];

	if (gw_config_load_mem("test.yaml", text, strlen(text), &cfg, err,
	    sizeof(err)) != 0)
		fail_msg("config: %s", err);
	return cfg;
}

static int usable_mask;		/* bound links */
static int full_mask;		/* ... of them without room */

static enum gw_link_use
usable(size_t link, void *arg)
{
	(void)arg;
	if (((usable_mask >> link) & 1) == 0)
		return GW_LINK_DOWN;
	return ((full_mask >> link) & 1) ? GW_LINK_FULL : GW_LINK_READY;
}

static void
test_longest_prefix(void **state)
{
	struct gw_config *cfg = load(yaml);

	(void)state;
	assert_int_equal(gw_router_match(cfg, "a1", "4917123"), 2);
	assert_int_equal(gw_router_match(cfg, "a1", "4930123"), 1);
	assert_int_equal(gw_router_match(cfg, "a1", "3312"), 0);
	/* the account's own route wins at equal length, not over longer */
	assert_int_equal(gw_router_match(cfg, "a2", "4930123"), 3);
	assert_int_equal(gw_router_match(cfg, "a2", "4917123"), 2);
	gw_config_free(cfg);
}

static void
test_failover_order(void **state)
{
	struct gw_config *cfg = load(yaml);
	unsigned cursor = 0;
	size_t link = 99;

	(void)state;
	usable_mask = 0x7;
	assert_int_equal(gw_router_pick(cfg, "a1", "4930", &cursor, usable,
	    NULL, &link), GW_ROUTE_OK);
	assert_true(link == 0 || link == 1);
	/* the first group down: its links are skipped for the next group */
	usable_mask = 0x4;
	assert_int_equal(gw_router_pick(cfg, "a1", "4930", &cursor, usable,
	    NULL, &link), GW_ROUTE_OK);
	assert_int_equal(link, 2);
	/* one link of the first group up again: back to it */
	usable_mask = 0x6;
	assert_int_equal(gw_router_pick(cfg, "a1", "4930", &cursor, usable,
	    NULL, &link), GW_ROUTE_OK);
	assert_int_equal(link, 1);
	usable_mask = 0;
	assert_int_equal(gw_router_pick(cfg, "a1", "4930", &cursor, usable,
	    NULL, &link), GW_ROUTE_DOWN);
	gw_config_free(cfg);
}

static void
test_full_waits_no_overflow(void **state)
{
	struct gw_config *cfg = load(yaml);
	unsigned cursor = 0;
	size_t link = 99;

	(void)state;
	/* l0 bound but full, l1 down, l2 ready: the first group is still
	 * up, so the message waits at l0 rather than spill to group 2 */
	usable_mask = 0x5;
	full_mask = 0x1;
	assert_int_equal(gw_router_pick(cfg, "a1", "4930", &cursor, usable,
	    NULL, &link), GW_ROUTE_WAIT);
	assert_int_equal(link, 0);
	/* l1 up with room: it is taken */
	usable_mask = 0x7;
	assert_int_equal(gw_router_pick(cfg, "a1", "4930", &cursor, usable,
	    NULL, &link), GW_ROUTE_OK);
	assert_int_equal(link, 1);
	full_mask = 0;
	gw_config_free(cfg);
}

static void
test_spread(void **state)
{
	struct gw_config *cfg = load(yaml);
	unsigned cursor = 0, n[3] = { 0, 0, 0 };
	size_t link;

	(void)state;
	usable_mask = 0x7;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(gw_router_pick(cfg, "a1", "4930", &cursor,
		    usable, NULL, &link), GW_ROUTE_OK);
		n[link]++;
	}
	assert_int_equal(n[0], 50);
	assert_int_equal(n[1], 50);
	assert_int_equal(n[2], 0);
	gw_config_free(cfg);
}

static void
test_no_route(void **state)
{
	char text[sizeof(yaml)];
	struct gw_config *cfg;
	unsigned cursor = 0;
	size_t link;
	char *p;

	(void)state;
	/* drop the default route: a destination outside 49 has none */
	memcpy(text, yaml, sizeof(yaml));
	p = strstr(text, "  - {prefix: \"\", groups: [g2]}\n");
	assert_non_null(p);
	memmove(p, p + strlen("  - {prefix: \"\", groups: [g2]}\n"),
	    strlen(p) - strlen("  - {prefix: \"\", groups: [g2]}\n") + 1);
	cfg = load(text);
	usable_mask = 0x7;
	assert_int_equal(gw_router_match(cfg, "a1", "3312"), -1);
	assert_int_equal(gw_router_pick(cfg, "a1", "3312", &cursor, usable,
	    NULL, &link), GW_ROUTE_NONE);
	gw_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_prefix),
		cmocka_unit_test(test_failover_order),
		cmocka_unit_test(test_full_waits_no_overflow),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_no_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
