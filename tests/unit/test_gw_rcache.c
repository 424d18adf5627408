/*
 * gateway/rcache: the recent-mapping table agrees with what storage
 * would answer, or says "ask storage". A receipt hits a committed
 * mapping, waits on one being written (and then gets it, or is sent to
 * storage when the write failed), misses another link, another form of
 * the id, an entry a final receipt removed, an entry older than half of
 * open_retention; a newer mapping of the same SMSC id wins, and one that
 * comes while the older is still being written sends that one's waiters
 * to storage. A receipt storage did not find parks on its id until the
 * mapping is queued, then waits on that write. Waiters are resumed in
 * the order their receipts came (an ENROUTE before its DELIVRD), also
 * when the first one joined last. A parked one is taken off when its
 * timer runs out (unless the write is under way), pushed to storage by
 * another id's mapping that needs the slot, resumed when the table is
 * freed.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gateway/config.h"
#include "gateway/ctx.h"
#include "gateway/rcache.h"

struct fixture {
	struct gw_ctx		 ctx;
	struct gw_gen		 gen;
	struct gw_config	 cfg;
};

/* A waiting receipt: what resume handed it. */
struct waiter {
	struct gw_rcache_wait	 w;
	int			 resumed;
	int			 order;		/* 1 for the first resumed */
	int			 hit;
	struct gw_rcache_hit	 got;
};

static int resumes;	/* in this test so far (setup clears it) */

static void
on_resume(struct gw_rcache_wait *w, const struct gw_rcache_hit *hit)
{
	struct waiter *x = (struct waiter *)((char *)w -
	    offsetof(struct waiter, w));

	x->resumed++;
	x->order = ++resumes;
	x->hit = hit != NULL;
	if (hit != NULL)
		x->got = *hit;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	resumes = 0;
	f->cfg.storage.open_retention_s = 7 * 24 * 3600;
	f->gen.cfg = &f->cfg;
	f->ctx.gen = &f->gen;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gw_rcache_free(&f->ctx);
	free(f);
	return 0;
}

static struct db_idmap
mapping(const char *link, const char *smsc_id, const char *gw_id,
    const char *account)
{
	struct db_idmap m;

	memset(&m, 0, sizeof(m));
	snprintf(m.link, sizeof(m.link), "%s", link);
	snprintf(m.smsc_id, sizeof(m.smsc_id), "%s", smsc_id);
	snprintf(m.gateway_id, sizeof(m.gateway_id), "%s", gw_id);
	snprintf(m.account, sizeof(m.account), "%s", account);
	return m;
}

/* A lookup by a receipt that came arrival-th (0: order of the calls). */
static enum gw_rcache_result
look_nth(struct fixture *f, const char *link, const char *smsc_id,
    struct gw_rcache_hit *hit, struct waiter *w, uint64_t arrival)
{
	memset(w, 0, sizeof(*w));
	w->w.resume = on_resume;
	w->w.arrival = arrival;
	return gw_rcache_lookup(&f->ctx, link, smsc_id, hit, &w->w);
}

static enum gw_rcache_result
look(struct fixture *f, const char *link, const char *smsc_id,
    struct gw_rcache_hit *hit, struct waiter *w)
{
	return look_nth(f, link, smsc_id, hit, w, 0);
}

static void
test_hit_after_commit(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "0A1B", "1f00", "acme");
	struct gw_rcache_hit hit;
	struct waiter w;

	assert_int_equal(look(f, "smsc1", "0a1b", &hit, &w), GW_RCACHE_MISS);
	gw_rcache_pending(&f->ctx, &m);
	gw_rcache_done(&f->ctx, "smsc1", "0A1B", "1f00", true);
	/* case folded, as storage matches it */
	assert_int_equal(look(f, "smsc1", "0a1b", &hit, &w), GW_RCACHE_HIT);
	assert_string_equal(hit.gateway_id, "1f00");
	assert_string_equal(hit.account, "acme");
	/* another link key, another form of the number: storage decides */
	assert_int_equal(look(f, "smsc2", "0A1B", &hit, &w), GW_RCACHE_MISS);
	assert_int_equal(look(f, "smsc1", "2587", &hit, &w), GW_RCACHE_MISS);
	assert_int_equal(look(f, "smsc1", "A1B", &hit, &w), GW_RCACHE_MISS);
	/* an intermediate receipt leaves it; the final one removes it */
	assert_int_equal(look(f, "smsc1", "0A1B", &hit, &w), GW_RCACHE_HIT);
	gw_rcache_forget(&f->ctx, "smsc1", "0A1B", "1f00");
	assert_int_equal(look(f, "smsc1", "0A1B", &hit, &w), GW_RCACHE_MISS);
	assert_int_equal(w.resumed, 0);
}

static void
test_wait_on_write(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "77", "2a", "acme");
	struct gw_rcache_hit hit;
	struct waiter a, b, c;

	gw_rcache_pending(&f->ctx, &m);
	assert_int_equal(look(f, "smsc1", "77", &hit, &a), GW_RCACHE_WAIT);
	assert_int_equal(look(f, "smsc1", "77", &hit, &b), GW_RCACHE_WAIT);
	assert_int_equal(look(f, "smsc1", "77", &hit, &c), GW_RCACHE_WAIT);
	assert_int_equal(a.resumed + b.resumed + c.resumed, 0);
	/* another write's end does not wake them */
	gw_rcache_done(&f->ctx, "smsc1", "77", "2b", true);
	assert_int_equal(a.resumed + b.resumed + c.resumed, 0);
	gw_rcache_done(&f->ctx, "smsc1", "77", "2a", true);
	assert_int_equal(a.resumed, 1);
	assert_int_equal(b.resumed, 1);
	assert_int_equal(c.resumed, 1);
	/* in the order they came: an ENROUTE before its DELIVRD */
	assert_int_equal(a.order, 1);
	assert_int_equal(b.order, 2);
	assert_int_equal(c.order, 3);
	assert_true(a.hit && b.hit && c.hit);
	assert_string_equal(a.got.gateway_id, "2a");
	assert_string_equal(b.got.account, "acme");
}

/* A receipt that came first but went to storage (its mapping was not
 * queued yet) and then finds the write under way waits ahead of one that
 * came later and waited on the write at once. */
static void
test_wait_by_arrival(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "5e", "5a", "acme");
	struct gw_rcache_hit hit;
	struct waiter first, second, third;

	gw_rcache_pending(&f->ctx, &m);
	assert_int_equal(look_nth(f, "smsc1", "5e", &hit, &second, 2),
	    GW_RCACHE_WAIT);
	assert_int_equal(look_nth(f, "smsc1", "5e", &hit, &third, 3),
	    GW_RCACHE_WAIT);
	assert_int_equal(look_nth(f, "smsc1", "5e", &hit, &first, 1),
	    GW_RCACHE_WAIT);
	gw_rcache_done(&f->ctx, "smsc1", "5e", "5a", true);
	assert_int_equal(first.order, 1);
	assert_int_equal(second.order, 2);
	assert_int_equal(third.order, 3);
	assert_true(first.hit && second.hit && third.hit);
}

static void
test_failed_write_sends_to_storage(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "78", "2c", "acme");
	struct gw_rcache_hit hit;
	struct waiter a, c;

	gw_rcache_pending(&f->ctx, &m);
	assert_int_equal(look(f, "smsc1", "78", &hit, &a), GW_RCACHE_WAIT);
	gw_rcache_done(&f->ctx, "smsc1", "78", "2c", false);
	assert_int_equal(a.resumed, 1);
	assert_false(a.hit);
	assert_int_equal(look(f, "smsc1", "78", &hit, &c), GW_RCACHE_MISS);
}

static void
test_newer_mapping_wins(void **state)
{
	struct fixture *f = *state;
	struct db_idmap old = mapping("smsc1", "99", "30", "acme");
	struct db_idmap new = mapping("smsc1", "99", "31", "other");
	struct gw_rcache_hit hit;
	struct waiter a, c;

	/* committed, then the SMSC reuses the id: the newer one answers */
	gw_rcache_pending(&f->ctx, &old);
	gw_rcache_done(&f->ctx, "smsc1", "99", "30", true);
	gw_rcache_pending(&f->ctx, &new);
	gw_rcache_done(&f->ctx, "smsc1", "99", "31", true);
	assert_int_equal(look(f, "smsc1", "99", &hit, &c), GW_RCACHE_HIT);
	assert_string_equal(hit.gateway_id, "31");
	/* a final receipt for the older one (mapped by storage) leaves it */
	gw_rcache_forget(&f->ctx, "smsc1", "99", "30");
	assert_int_equal(look(f, "smsc1", "99", &hit, &c), GW_RCACHE_HIT);
	gw_rcache_forget(&f->ctx, "smsc1", "99", "31");

	/* reused while the first is still being written: neither is
	 * trusted, the waiters go to storage, which picks the newest */
	gw_rcache_pending(&f->ctx, &old);
	assert_int_equal(look(f, "smsc1", "99", &hit, &a), GW_RCACHE_WAIT);
	gw_rcache_pending(&f->ctx, &new);
	gw_rcache_done(&f->ctx, "smsc1", "99", "30", true);
	assert_int_equal(a.resumed, 1);
	assert_false(a.hit);
	gw_rcache_done(&f->ctx, "smsc1", "99", "31", true);
	assert_int_equal(look(f, "smsc1", "99", &hit, &c), GW_RCACHE_MISS);
}

static void
test_old_entry_goes_to_storage(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "abc", "40", "acme");
	struct gw_rcache_hit hit;
	struct waiter w;

	/* open_retention 1 s: after half of it the purge may have run */
	f->cfg.storage.open_retention_s = 1;
	gw_rcache_pending(&f->ctx, &m);
	gw_rcache_done(&f->ctx, "smsc1", "abc", "40", true);
	assert_int_equal(look(f, "smsc1", "abc", &hit, &w), GW_RCACHE_HIT);
	{
		struct timespec ts = { 0, 600 * 1000000L };

		nanosleep(&ts, NULL);
	}
	assert_int_equal(look(f, "smsc1", "abc", &hit, &w), GW_RCACHE_MISS);
}

static void
test_free_resumes_waiters(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "5", "50", "acme");
	struct gw_rcache_hit hit;
	struct waiter a;

	gw_rcache_pending(&f->ctx, &m);
	assert_int_equal(look(f, "smsc1", "5", &hit, &a), GW_RCACHE_WAIT);
	gw_rcache_free(&f->ctx);
	assert_int_equal(a.resumed, 1);
	assert_false(a.hit);
	assert_null(f->ctx.rcache);
}

static bool
park(struct fixture *f, const char *smsc_id, struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	w->w.resume = on_resume;
	return gw_rcache_expect(&f->ctx, "smsc1", smsc_id, &w->w);
}

static void
test_parked_until_mapping(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "99", "9a", "acme");
	struct gw_rcache_hit hit;
	struct waiter a, b, c;

	assert_true(park(f, "99", &a));
	assert_true(park(f, "99", &b));
	/* parked receipts are no mapping: another one asks storage */
	assert_int_equal(look(f, "smsc1", "99", &hit, &c), GW_RCACHE_MISS);
	gw_rcache_pending(&f->ctx, &m);
	assert_int_equal(a.resumed + b.resumed, 0);
	/* now a write is under way: the timer leaves them waiting on it */
	assert_false(gw_rcache_unexpect(&f->ctx, "smsc1", "99", &a.w));
	gw_rcache_done(&f->ctx, "smsc1", "99", "9a", true);
	assert_int_equal(a.resumed, 1);
	assert_int_equal(b.resumed, 1);
	assert_int_equal(a.order, 1);
	assert_int_equal(b.order, 2);
	assert_true(a.hit && b.hit);
	assert_string_equal(b.got.gateway_id, "9a");
	assert_int_equal(look(f, "smsc1", "99", &hit, &c), GW_RCACHE_HIT);
	assert_int_equal(c.resumed, 0);
}

static void
test_unexpect_takes_off(void **state)
{
	struct fixture *f = *state;
	struct db_idmap m = mapping("smsc1", "98", "9b", "acme");
	struct waiter a, b;

	assert_true(park(f, "98", &a));
	assert_true(park(f, "98", &b));
	assert_true(gw_rcache_unexpect(&f->ctx, "smsc1", "98", &a.w));
	/* taken off once: a second call finds it nowhere, still true */
	assert_true(gw_rcache_unexpect(&f->ctx, "smsc1", "98", &a.w));
	gw_rcache_pending(&f->ctx, &m);
	gw_rcache_done(&f->ctx, "smsc1", "98", "9b", true);
	assert_int_equal(a.resumed, 0);
	assert_int_equal(b.resumed, 1);
	assert_true(b.hit);
}

static void
test_other_mapping_evicts_parked(void **state)
{
	struct fixture *f = *state;
	struct gw_rcache_hit hit;
	struct waiter a, c;
	char id[32];
	int i;

	assert_true(park(f, "abc1", &a));
	/* Mappings of other ids until one needs a's slot: a goes to
	 * storage at once (resumed without a hit). */
	for (i = 0; i < 20 * GW_RCACHE_SLOTS && a.resumed == 0; i++) {
		struct db_idmap m;

		snprintf(id, sizeof(id), "%d", 1000000 + i);
		m = mapping("smsc1", id, "7e", "acme");
		gw_rcache_pending(&f->ctx, &m);
	}
	assert_int_equal(a.resumed, 1);
	assert_false(a.hit);
	/* that slot now holds a write in flight: no parking on it */
	assert_false(park(f, "abc1", &c));
	assert_int_equal(look(f, "smsc1", "abc1", &hit, &c), GW_RCACHE_MISS);
	assert_true(gw_rcache_unexpect(&f->ctx, "smsc1", "abc1", &a.w));
}

static void
test_free_resumes_parked(void **state)
{
	struct fixture *f = *state;
	struct waiter a;

	assert_true(park(f, "5", &a));
	gw_rcache_free(&f->ctx);
	assert_int_equal(a.resumed, 1);
	assert_false(a.hit);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_after_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wait_on_write, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wait_by_arrival, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_write_sends_to_storage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_mapping_wins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_old_entry_goes_to_storage,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_resumes_waiters,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_parked_until_mapping,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unexpect_takes_off,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_mapping_evicts_parked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_resumes_parked,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
