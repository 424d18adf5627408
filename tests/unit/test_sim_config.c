/* smsc-sim pure functions: config parsing and its errors, message id
 * formats, the deterministic receipt rule, the receipt heap order, the
 * due-receipt ring (order, wrap, merge, trim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim_config.h"
#include "sim_dlr.h"
#include "sim_msgid.h"

static int
load(const char *yaml, struct sim_config *c, char *err, size_t n)
{
	sim_config_defaults(c);
	return sim_config_load_mem(c, "t.yaml", (const uint8_t *)yaml,
	    strlen(yaml), err, n);
}

static void
config_ok(void **st)
{
	struct sim_config c;
	char err[256];

	(void)st;
	assert_int_equal(load("smpp:\n  port: 2000\naccounts:\n"
	    "  - system_id: a\n    password: p\n    binds: [tx]\n"
	    "    message_id: uuid\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.smpp_port, 2000);
	assert_int_equal(c.n_accounts, 1);
	assert_int_equal(c.accounts[0].binds, SIM_BIND_TX);
	assert_int_equal(c.accounts[0].id_format, SIM_ID_UUID);
	assert_int_equal(load("", &c, err, sizeof(err)), 0);
	assert_int_equal(c.http_port, 8776);
	assert_int_equal(c.deliver_window, 256);
	assert_int_equal(c.receipts.before_response_ms, 0);
	assert_int_equal(load("receipts:\n  before_response_ms: 20\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.receipts.before_response_ms, 20);
	assert_int_equal(load("smpp:\n  deliver_window: 1024\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.deliver_window, 1024);
	/* Top-level defaults reach accounts wherever they stand. */
	assert_int_equal(load("accounts:\n  - system_id: a\n    password: p\n"
	    "  - system_id: b\n    password: p\n    window: 7\n"
	    "    message_id: decimal\n"
	    "default_window: 9\ndefault_message_id: HEX\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.accounts[0].window, 9);
	assert_int_equal(c.accounts[0].id_format, SIM_ID_HEX_UPPER);
	assert_int_equal(c.accounts[1].window, 7);
	assert_int_equal(c.accounts[1].id_format, SIM_ID_DECIMAL);
	/* A key with a NUL byte is not the key before the NUL. */
	assert_int_equal(load("\"smpp\\0x\": {}\n", &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "unknown key"));
	/* Bind names were always taken quoted as well. */
	assert_int_equal(load("accounts:\n  - system_id: a\n    password: p\n"
	    "    binds: [\"rx\", trx]\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.accounts[0].binds, SIM_BIND_RX | SIM_BIND_TRX);
}

/* One run reports every error of a file, one per line in file order. */
static void
config_all_errors(void **st)
{
	struct sim_config c;
	char err[512];

	(void)st;
	assert_int_equal(load("smpp:\n  port: 0\n  prot: 1\n"
	    "receipts:\n  mode: rand\n", &c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "t.yaml:2:9: smpp.port: expected an integer 1..65535, got '0'\n"
	    "t.yaml:3:3: smpp.prot: unknown key\n"
	    "t.yaml:5:9: receipts.mode: expected deterministic or random, "
	    "got 'rand'");
}

static void
config_errors(void **st)
{
	static const struct { const char *y, *want; } cases[] = {
		{ "smpp:\n  port: 70000\n", "t.yaml:2:9: smpp.port: expected an integer" },
		{ "smpp:\n  port: 1\n  port: 2\n", "t.yaml:3:3: smpp.port: duplicate key" },
		{ "smpp:\n  prot: 1\n", "t.yaml:2:3: smpp.prot: unknown key" },
		{ "smpp:\n  port: \"1\"\n", "smpp.port: expected an unquoted" },
		{ "accept_any: yes\n", "accept_any: expected true or false" },
		{ "accept_any: &x true\n", "anchors are not allowed" },
		{ "smpp: 1\n", "smpp: expected a mapping" },
		{ "accounts:\n  - system_id: a\n", "needs system_id and password" },
		{ "accept_any: true\n---\naccept_any: false\n", "only one YAML document" },
		{ "smpp:\n\tport: 1\n", "syntax error" },
		{ "default_message_id: octal\n", "expected decimal, hex" },
		{ "smpp:\n  deliver_window: 0\n", "smpp.deliver_window:" },
		{ "accounts:\n  - system_id: a\n    password: p\n    binds: []\n",
		  "t.yaml:4:13: accounts[0].binds: empty list" },
		{ "accounts:\n  - system_id: a\n    password: p\n    binds: [tx, x]\n",
		  "t.yaml:4:17: accounts[0].binds[1]: expected tx, rx or trx, got 'x'" },
		{ "accounts:\n  - {system_id: a, password: p}\n"
		  "  - {system_id: a, password: q}\n",
		  "t.yaml:3:17: accounts[1].system_id: duplicate account 'a'" },
		{ "smpp:\n  tls_port: 3000\n", "t.yaml: smpp.tls_port needs" },
		{ "receipts:\n  before_response_ms: 60001\n",
		  "t.yaml:2:23: receipts.before_response_ms: expected an integer"
		  " 0..60000, got '60001'" },
	};
	struct sim_config c;
	char err[256];

	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(cases[i].y, &c, err, sizeof(err)), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    cases[i].want);
	}
}

static void
msgid_formats(void **st)
{
	char b[SIM_MSGID_MAX];

	(void)st;
	sim_msgid_format(SIM_ID_DECIMAL, 1234, 0, b);
	assert_string_equal(b, "1234");
	sim_msgid_format(SIM_ID_HEX, 0xabc, 0, b);
	assert_string_equal(b, "00000abc");
	sim_msgid_format(SIM_ID_HEX_UPPER, 0xabc, 0, b);
	assert_string_equal(b, "00000ABC");
	sim_msgid_format(SIM_ID_DIGITS10, 42, 0, b);
	assert_string_equal(b, "0000000042");
	sim_msgid_format(SIM_ID_DIGITS20, 42, 0, b);
	assert_string_equal(b, "00000000000000000042");
	assert_int_equal(sim_msgid_format(SIM_ID_UUID, 1,
	    0x0123456789abcdefULL, b), 36);
	assert_string_equal(b, "01234567-89ab-4def-8000-000000000001");
	assert_int_equal(sim_msgid_parse_fmt("HEX"), SIM_ID_HEX_UPPER);
	assert_int_equal(sim_msgid_parse_fmt("nope"), -1);
}

/* Reading an id back: every format round-trips, and only the exact
 * bytes a format writes are read (cancel_sm and replace_sm in sim_smsc.c
 * tell the ids they gave out by it). */
static void
msgid_read_back(void **st)
{
	static const uint64_t salt = 0x0123456789abcdefULL;
	static const char *const not_ours[][2] = {
		{ "decimal", "01234" }, { "decimal", "+1234" },
		{ "decimal", " 1234" }, { "decimal", "12a" },
		{ "hex", "00000ABC" }, { "hex", "abc" }, { "HEX", "00000abc" },
		{ "digits10", "42" }, { "uuid", "01234567-89ab-4def-8000-00000000001" },
		{ "uuid", "ffffffff-89ab-4def-8000-000000000001" },
		{ "decimal", "" }, { "decimal", "99999999999999999999999" },
	};
	char b[SIM_MSGID_MAX];
	uint64_t n;
	size_t len;

	(void)st;
	for (int f = SIM_ID_DECIMAL; f <= SIM_ID_DIGITS20; f++) {
		for (uint64_t v = 1; v < (1ULL << 40); v = v * 7 + 3) {
			len = sim_msgid_format((enum sim_msgid_fmt)f, v, salt, b);
			assert_int_equal(sim_msgid_read((enum sim_msgid_fmt)f,
			    b, len, salt, &n), 0);
			/* digits10 keeps the counter's last 10 digits */
			assert_true(n == (f == SIM_ID_DIGITS10 ?
			    v % 10000000000ULL : v));
		}
	}
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
		assert_int_equal(sim_msgid_read((enum sim_msgid_fmt)
		    sim_msgid_parse_fmt(not_ours[i][0]), not_ours[i][1],
		    strlen(not_ours[i][1]), salt, &n), -1);
}

static void
deterministic_rule(void **st)
{
	static const struct { const char *d; int out; int err; } t[] = {
		{ "491700", SIM_OUT_DELIVRD, 0 },
		{ "4917991", SIM_OUT_UNDELIV, 1 },
		{ "4917992", SIM_OUT_EXPIRED, 27 },
		{ "4917993", SIM_OUT_REJECTD, 13 },
		{ "4917994", SIM_OUT_DELETED, 0 },
		{ "4917995", SIM_OUT_UNKNOWN, 255 },
		{ "91", SIM_OUT_DELIVRD, 0 },
	};
	struct sim_outcome_pick p;

	(void)st;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sim_dlr_pick_deterministic(t[i].d, strlen(t[i].d), &p);
		assert_int_equal(p.out, t[i].out);
		assert_int_equal(p.err, t[i].err);
	}
	sim_dlr_pick_deterministic("1996", 4, &p);
	assert_true(p.late);
	sim_dlr_pick_deterministic("1997", 4, &p);
	assert_true(p.duplicate);
}

static void
queue_order_and_bound(void **st)
{
	struct sim_dlrq *q = sim_dlrq_new(16);
	struct sim_receipt r;
	uint64_t last = 0;

	(void)st;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 16; i++) {
		r.due_ms = (uint64_t)((i * 7) % 16);
		assert_int_equal(sim_dlrq_push(q, &r), 0);
	}
	assert_int_equal(sim_dlrq_push(q, &r), -1);	/* full */
	for (int i = 0; i < 16; i++) {
		assert_int_equal(sim_dlrq_pop(q, &r), 0);
		assert_true(r.due_ms >= last);
		last = r.due_ms;
	}
	assert_int_equal(sim_dlrq_pop(q, &r), -1);
	sim_dlrq_free(q);
}

/* The due-receipt ring: FIFO order across wrap-around and growth, merge
 * by due time (a session's ring handed to its account's), trim. */
static void
ring_order_merge_trim(void **st)
{
	struct sim_rfifo a = { 0 }, b = { 0 };
	const struct sim_receipt *f;
	struct sim_receipt r;
	uint64_t last = 0;

	(void)st;
	memset(&r, 0, sizeof(r));
	assert_null(sim_rfifo_front(&a));
	sim_rfifo_pop(&a);			/* empty: no-op */
	/* Wrap the ring many times while it grows and shrinks in use. */
	for (uint64_t i = 0, next = 0; i < 20000; i++) {
		r.due_ms = i;
		r.id_num = i;
		assert_int_equal(sim_rfifo_push(&a, &r), 0);
		if (i % 3 == 0) {
			f = sim_rfifo_front(&a);
			assert_non_null(f);
			assert_int_equal(f->id_num, next);
			next++;
			sim_rfifo_pop(&a);
		}
	}
	while ((f = sim_rfifo_front(&a)) != NULL) {
		assert_true(f->due_ms >= last);
		last = f->due_ms;
		sim_rfifo_pop(&a);
	}
	assert_int_equal(last, 19999);
	assert_int_equal(sim_rfifo_len(&a), 0);
	/* A burst over: trim gives the block back; small rings keep theirs. */
	assert_true(a.cap > SIM_RFIFO_KEEP);
	sim_rfifo_trim(&a);
	assert_null(a.r);
	/* Merge: odd due times in a, even ones in b, one tie. */
	for (uint64_t i = 1; i < 200; i += 2) {
		r.due_ms = i;
		r.id_num = 1;
		assert_int_equal(sim_rfifo_push(&a, &r), 0);
	}
	for (uint64_t i = 0; i < 200; i += 2) {
		r.due_ms = i;
		r.id_num = 2;
		assert_int_equal(sim_rfifo_push(&b, &r), 0);
	}
	r.due_ms = 199;
	r.id_num = 2;
	assert_int_equal(sim_rfifo_push(&b, &r), 0);
	sim_rfifo_pop(&a);			/* a wraps once: head moved */
	r.due_ms = 201;
	r.id_num = 1;
	assert_int_equal(sim_rfifo_push(&a, &r), 0);
	assert_int_equal(sim_rfifo_merge(&a, &b), 0);
	assert_int_equal(sim_rfifo_len(&b), 0);
	assert_null(b.r);
	assert_int_equal(sim_rfifo_len(&a), 99 + 1 + 101);
	last = 0;
	for (int k = 0; (f = sim_rfifo_front(&a)) != NULL; k++) {
		assert_true(f->due_ms >= last);
		if (f->due_ms == 199 && last == 199)
			assert_int_equal(f->id_num, 2);	/* the tie: a's first */
		last = f->due_ms;
		sim_rfifo_pop(&a);
	}
	assert_int_equal(last, 201);
	/* Merge into an empty ring takes the block as it is. */
	r.due_ms = 5;
	assert_int_equal(sim_rfifo_push(&b, &r), 0);
	assert_int_equal(sim_rfifo_merge(&a, &b), 0);
	assert_int_equal(sim_rfifo_len(&a), 1);
	assert_int_equal(sim_rfifo_merge(&a, &b), 0);	/* empty src */
	assert_int_equal(sim_rfifo_len(&a), 1);
	sim_rfifo_clear(&a);
	sim_rfifo_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_ok),
		cmocka_unit_test(config_errors),
		cmocka_unit_test(config_all_errors),
		cmocka_unit_test(msgid_formats),
		cmocka_unit_test(msgid_read_back),
		cmocka_unit_test(deterministic_rule),
		cmocka_unit_test(queue_order_and_bound),
		cmocka_unit_test(ring_order_merge_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
