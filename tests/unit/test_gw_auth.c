/*
 * gateway/auth: lockout after N failures within the window, expiry of
 * the lockout, the window sliding, a success clearing the count, the
 * table surviving a flood of addresses; the verification cache keyed by
 * id, password and hash; peer address parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/auth.h"

static const struct gw_auth cfg = {
	.failure_delay_ms = 1000,
	.lockout_failures = 3,
	.lockout_window_ms = 60000,
	.lockout_ms = 5000,
};

static void
test_lockout(void **state)
{
	struct gw_auth_guard *g = gw_auth_guard_new();

	(void)state;
	assert_false(gw_auth_locked(g, &cfg, "10.0.0.1", 0));
	assert_false(gw_auth_fail(g, &cfg, "10.0.0.1", 0));
	assert_false(gw_auth_fail(g, &cfg, "10.0.0.1", 10));
	assert_false(gw_auth_locked(g, &cfg, "10.0.0.1", 20));
	assert_true(gw_auth_fail(g, &cfg, "10.0.0.1", 20));
	assert_true(gw_auth_locked(g, &cfg, "10.0.0.1", 21));
	assert_true(gw_auth_locked(g, &cfg, "10.0.0.1", 5019));
	/* other addresses are not affected */
	assert_false(gw_auth_locked(g, &cfg, "10.0.0.2", 21));
	/* it ends */
	assert_false(gw_auth_locked(g, &cfg, "10.0.0.1", 5020));
	/* and a new lockout needs a full set of failures again */
	assert_false(gw_auth_fail(g, &cfg, "10.0.0.1", 6000));
	assert_false(gw_auth_locked(g, &cfg, "10.0.0.1", 6001));
	gw_auth_guard_free(g);
}

static void
test_window_slides(void **state)
{
	struct gw_auth_guard *g = gw_auth_guard_new();

	(void)state;
	assert_false(gw_auth_fail(g, &cfg, "a", 0));
	assert_false(gw_auth_fail(g, &cfg, "a", 1000));
	/* the third comes after the window: counting starts again */
	assert_false(gw_auth_fail(g, &cfg, "a", 70000));
	assert_false(gw_auth_locked(g, &cfg, "a", 70001));
	gw_auth_guard_free(g);
}

static void
test_success_clears(void **state)
{
	struct gw_auth_guard *g = gw_auth_guard_new();

	(void)state;
	assert_false(gw_auth_fail(g, &cfg, "a", 0));
	assert_false(gw_auth_fail(g, &cfg, "a", 1));
	gw_auth_success(g, "a");
	assert_false(gw_auth_fail(g, &cfg, "a", 2));
	assert_false(gw_auth_locked(g, &cfg, "a", 3));
	gw_auth_guard_free(g);
}

static void
test_never_lock(void **state)
{
	struct gw_auth c = cfg;
	struct gw_auth_guard *g = gw_auth_guard_new();

	(void)state;
	c.lockout_failures = 0;
	for (int i = 0; i < 100; i++)
		assert_false(gw_auth_fail(g, &c, "a", i));
	assert_false(gw_auth_locked(g, &c, "a", 100));
	gw_auth_guard_free(g);
}

static void
test_flood(void **state)
{
	struct gw_auth_guard *g = gw_auth_guard_new();
	char a[32];

	(void)state;
	for (int i = 0; i < 3; i++)
		(void)gw_auth_fail(g, &cfg, "victim", 100);
	assert_true(gw_auth_locked(g, &cfg, "victim", 101));
	/* 100,000 other addresses: bounded table, no crash */
	for (int i = 0; i < 100000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		(void)gw_auth_fail(g, &cfg, a, 200 + i / 1000);
	}
	gw_auth_guard_free(g);
}

static void
test_cache(void **state)
{
	struct gw_auth_cache *c = gw_auth_cache_new();

	(void)state;
	assert_false(gw_auth_cache_hit(c, "demo", "pw", "$h1", 0));
	gw_auth_cache_put(c, "demo", "pw", "$h1", 0);
	assert_true(gw_auth_cache_hit(c, "demo", "pw", "$h1", 1));
	assert_false(gw_auth_cache_hit(c, "demo", "pX", "$h1", 1));
	assert_false(gw_auth_cache_hit(c, "demo", "pw", "$h2", 1));
	assert_false(gw_auth_cache_hit(c, "dem", "opw", "$h1", 1));
	assert_false(gw_auth_cache_hit(c, "demo", "pw", "$h1",
	    GW_AUTH_CACHE_TTL_MS + 1));
	gw_auth_cache_free(c);
}

static void
test_addr_ip(void **state)
{
	char ip[64];

	(void)state;
	gw_auth_addr_ip("127.0.0.1:4000", ip, sizeof(ip));
	assert_string_equal(ip, "127.0.0.1");
	gw_auth_addr_ip("[::1]:4000", ip, sizeof(ip));
	assert_string_equal(ip, "::1");
	gw_auth_addr_ip("-", ip, sizeof(ip));
	assert_string_equal(ip, "-");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockout),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_success_clears),
		cmocka_unit_test(test_never_lock),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_addr_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
