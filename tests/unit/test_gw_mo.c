/*
 * gateway/mo: MO routes by destination prefix (longest wins) and an
 * optional first word of the text (any case, a whole word; a keyword
 * route beats a plain one of the same prefix); no match: -1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/mo.h"

#define HASH "\"$pbkdf2-sha256$i=100000$runmUJa7SKljS0SoCmlGEQ==" \
	"$hbr813wXJ65xJNt8+aTp1L/aI1EOi+gUOAPfyt2H/Hw=\""

static const char yaml[] =
    "accounts:\n"
    "  - {system_id: a0, password_hash: " HASH "}\n"
    "  - {system_id: a1, password_hash: " HASH "}\n"
    "  - {system_id: a2, password_hash: " HASH "}\n"
    "links: []\ngroups: {}\nroutes: []\n"
    "mo_routes:\n"
    "  - {prefix: \"4444\", account: a0}\n"
    "  - {prefix: \"4444\", keyword: INFO, account: a1}\n"
    "  - {prefix: \"44445\", account: a2}\n";

#define T(s) (const uint8_t *)(s), strlen(s)

static void
test_match(void **state)
{
	struct gw_config *cfg = NULL;
	char err[2048];

	(void)state;
	if (gw_config_load_mem("t.yaml", yaml, strlen(yaml), &cfg, err,
	    sizeof(err)) != 0)
		fail_msg("config: %s", err);
	assert_int_equal(gw_mo_match(cfg, "4444", T("hello")), 0);
	assert_int_equal(gw_mo_match(cfg, "4444", T("info please")), 1);
	assert_int_equal(gw_mo_match(cfg, "4444", T("  Info")), 1);
	assert_int_equal(gw_mo_match(cfg, "4444", T("information")), 0);
	assert_int_equal(gw_mo_match(cfg, "4444", T("")), 0);
	assert_int_equal(gw_mo_match(cfg, "444451", T("info")), 2);
	assert_int_equal(gw_mo_match(cfg, "5555", T("info")), -1);
	gw_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
