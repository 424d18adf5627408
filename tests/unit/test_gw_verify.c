/*
 * gateway/verify: password checks run on the worker, never on the loop:
 * submitting returns at once (the ~31 ms PBKDF2 happens elsewhere), each
 * callback runs once, on the loop, in order, with the right result; a
 * full queue refuses; freeing with jobs queued answers them -1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "gateway/passwd.h"
#include "gateway/verify.h"

struct res {
	int	n;
	int	got[128];
};

static void
on_done(void *ctx, int result)
{
	struct res *r = ctx;

	r->got[r->n++] = result;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
test_off_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_verifier *v = gw_verifier_new(base);
	char hash[GW_PASSWD_HASH_MAX + 1];
	struct res r = { 0, { 0 } };
	int64_t t0, t1;

	(void)state;
	assert_non_null(v);
	/* A costly hash (about 0.3 s per verify, 10x the default) so that
	 * "not on this thread" shows as a wide margin, not a scheduling
	 * race: three submits on the calling thread would take about 0.6 s;
	 * off it they take microseconds. */
	assert_int_equal(gw_passwd_hash("secret", 6, 1000000u, hash,
	    sizeof(hash)), 0);
	t0 = now_us();
	assert_int_equal(gw_verify_submit(v, "secret", 6, hash, on_done, &r),
	    0);
	assert_int_equal(gw_verify_submit(v, "wrong", 5, hash, on_done, &r),
	    0);
	assert_int_equal(gw_verify_submit(v, "secret", 6, "$bad", on_done,
	    &r), 0);
	t1 = now_us();
	assert_true(t1 - t0 < 150000);	/* no PBKDF2 on this thread */
	assert_int_equal(r.n, 0);	/* never from inside submit */
	for (int i = 0; i < 1000 && r.n < 3; i++) {
		struct timeval tv = { 0, 10000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(r.n, 3);
	assert_int_equal(r.got[0], 1);
	assert_int_equal(r.got[1], 0);
	assert_int_equal(r.got[2], -1);
	gw_verifier_free(v);
	event_base_free(base);
}

static void
test_queue_bound_and_free(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_verifier *v = gw_verifier_new(base);
	char hash[GW_PASSWD_HASH_MAX + 1];
	struct res r = { 0, { 0 } };
	int accepted = 0;

	(void)state;
	assert_int_equal(gw_passwd_hash("secret", 6, 0, hash, sizeof(hash)),
	    0);
	for (int i = 0; i < GW_VERIFY_QUEUE_MAX + 10; i++)
		if (gw_verify_submit(v, "secret", 6, hash, on_done, &r) == 0)
			accepted++;
	assert_int_equal(accepted, GW_VERIFY_QUEUE_MAX);
	/* too long a password is refused, not truncated */
	assert_int_equal(gw_verify_submit(v, "123456789", 9, hash, on_done,
	    &r), -1);
	gw_verifier_free(v);	/* every accepted job answered exactly once */
	assert_int_equal(r.n, GW_VERIFY_QUEUE_MAX);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_loop),
		cmocka_unit_test(test_queue_bound_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
