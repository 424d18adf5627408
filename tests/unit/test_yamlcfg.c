/*
 * Unit tests for smpp/yamlcfg: the typed getters, the refusals libyaml
 * does not make by itself (duplicate keys, aliases, anchors, tags, second
 * documents), error positions (1-based) and key paths, and the walk going
 * on after a bad value so one run reports every error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "smpp/yamlcfg.h"

/* The schema of these tests. */
struct t_cfg {
	char		name[8];
	uint32_t	n;
	uint16_t	port;
	bool		flag;
	int		color;
	uint64_t	wait_ms;
	uint32_t	items[8];
	size_t		n_items;
	uint32_t	inner;
};

static const struct smpp_yc_enum colors[] = {
	{ "red", 1 }, { "green", 2 }, { "blue", 3 }, { NULL, 0 },
};

static int
item_fn(struct smpp_yc *y, size_t i, const char *path, void *ctx)
{
	struct t_cfg *c = ctx;

	if (i >= 8)
		return smpp_yc_error(y, path, "too many");
	if (smpp_yc_get_u32(y, path, 0, 100, &c->items[i]) != 0)
		return -1;
	c->n_items = i + 1;
	return 0;
}

static int
inner_fn(struct smpp_yc *y, const char *k, const char *path, void *ctx)
{
	struct t_cfg *c = ctx;

	if (strcmp(k, "x") == 0)
		return smpp_yc_get_u32(y, path, 0, 9, &c->inner);
	return SMPP_YC_UNKNOWN;
}

static int
top_fn(struct smpp_yc *y, const char *k, const char *path, void *ctx)
{
	struct t_cfg *c = ctx;

	if (strcmp(k, "name") == 0)
		return smpp_yc_get_str(y, path, c->name, sizeof(c->name),
		    SMPP_YC_NONEMPTY);
	if (strcmp(k, "n") == 0)
		return smpp_yc_get_u32(y, path, 1, 1000, &c->n);
	if (strcmp(k, "port") == 0)
		return smpp_yc_get_port(y, path, false, &c->port);
	if (strcmp(k, "flag") == 0)
		return smpp_yc_get_bool(y, path, &c->flag);
	if (strcmp(k, "color") == 0)
		return smpp_yc_get_enum(y, path, colors, &c->color);
	if (strcmp(k, "wait") == 0)
		return smpp_yc_get_duration_ms(y, path, 100, 3600000,
		    &c->wait_ms);
	if (strcmp(k, "items") == 0)
		return smpp_yc_walk_seq(y, path, item_fn, c);
	if (strcmp(k, "inner") == 0)
		return smpp_yc_walk_map(y, path, inner_fn, c);
	return SMPP_YC_UNKNOWN;
}

static char errbuf[4096];

static int
run(const char *yaml, struct t_cfg *c)
{
	struct smpp_yc *y;
	int rc;

	memset(c, 0, sizeof(*c));
	errbuf[0] = '\0';
	y = smpp_yc_open_mem("t.yaml", yaml, strlen(yaml), errbuf,
	    sizeof(errbuf));
	assert_non_null(y);
	rc = smpp_yc_walk_root(y, top_fn, c);
	smpp_yc_errors_join(y, errbuf, sizeof(errbuf));
	if (rc == 0)
		assert_int_equal(smpp_yc_error_count(y), 0);
	else
		assert_true(smpp_yc_error_count(y) > 0);
	smpp_yc_close(y);
	return rc;
}

static void
expect_err(const char *yaml, const char *want)
{
	struct t_cfg c;

	assert_int_equal(run(yaml, &c), -1);
	assert_string_equal(errbuf, want);
}

static void
test_values(void **state)
{
	struct t_cfg c;

	(void)state;
	assert_int_equal(run("name: abc\nn: 0x10\nport: 2775\nflag: true\n"
	    "color: green\nwait: 5m\nitems: [1, 2, 3]\ninner: {x: 7}\n", &c),
	    0);
	assert_string_equal(c.name, "abc");
	assert_int_equal(c.n, 16);
	assert_int_equal(c.port, 2775);
	assert_true(c.flag);
	assert_int_equal(c.color, 2);
	assert_int_equal(c.wait_ms, 300000);
	assert_int_equal(c.n_items, 3);
	assert_int_equal(c.items[2], 3);
	assert_int_equal(c.inner, 7);
	/* Quoted strings are strings; "" is empty. */
	assert_int_equal(run("name: \"a b\"\n", &c), 0);
	assert_string_equal(c.name, "a b");
}

static void
test_empty(void **state)
{
	struct t_cfg c;

	(void)state;
	assert_int_equal(run("", &c), 0);
	assert_int_equal(run("# nothing but a comment\n", &c), 0);
	assert_int_equal(run("---\n", &c), 0);
	expect_err("just a string\n",
	    "t.yaml:1:1: top level: expected a mapping, got a value");
	expect_err("- a\n", "t.yaml:1:1: top level: expected a mapping, got "
	    "a list");
}

static void
test_refusals(void **state)
{
	(void)state;
	expect_err("n: 1\nn: 2\n", "t.yaml:2:1: n: duplicate key");
	expect_err("inner: {x: 1, x: 2}\n",
	    "t.yaml:1:15: inner.x: duplicate key");
	expect_err("n: &a 5\n", "t.yaml:1:4: n: anchors are not allowed");
	expect_err("name: x\nn: *a\n",
	    "t.yaml:2:4: n: aliases are not allowed");
	expect_err("n: !!int 5\n", "t.yaml:1:4: n: tags are not allowed");
	expect_err("n: 1\n---\nn: 2\n",
	    "t.yaml:2:1: only one YAML document is allowed");
	expect_err("nn: 1\n", "t.yaml:1:1: nn: unknown key");
	expect_err("inner: {y: 1}\n", "t.yaml:1:9: inner.y: unknown key");
	expect_err("? [a]\n: 1\n",
	    "t.yaml:1:3: top level: keys must be plain words, got a list");
}

static void
test_types(void **state)
{
	(void)state;
	expect_err("n: 0\n", "t.yaml:1:4: n: expected an integer 1..1000, "
	    "got '0'");
	expect_err("n: -1\n", "t.yaml:1:4: n: expected an integer 1..1000, "
	    "got '-1'");
	expect_err("n: 12abc\n", "t.yaml:1:4: n: expected an integer "
	    "1..1000, got '12abc'");
	expect_err("n: \"5\"\n",
	    "t.yaml:1:4: n: expected an unquoted value, got '5'");
	expect_err("port: 70000\n", "t.yaml:1:7: port: expected an integer "
	    "1..65535, got '70000'");
	expect_err("flag: yes\n",
	    "t.yaml:1:7: flag: expected true or false, got 'yes'");
	expect_err("color: pink\n", "t.yaml:1:8: color: expected red, green "
	    "or blue, got 'pink'");
	expect_err("wait: 30\n", "t.yaml:1:7: wait: expected a duration like "
	    "500ms, 30s, 5m, 2h or 7d (100ms..1h), got '30'");
	expect_err("wait: 2h\n", "t.yaml:1:7: wait: expected 100ms..1h, got "
	    "'2h'");
	expect_err("name: abcdefgh\n",
	    "t.yaml:1:7: name: longer than 7 bytes");
	expect_err("name: \"\"\n", "t.yaml:1:7: name: must not be empty");
	expect_err("n: [1]\n", "t.yaml:1:4: n: expected a value, got a list");
	expect_err("items: 5\n",
	    "t.yaml:1:8: items: expected a list, got a value");
	expect_err("inner: [1]\n",
	    "t.yaml:1:8: inner: expected a mapping, got a list");
	expect_err("items: [1, 200]\n", "t.yaml:1:12: items[1]: expected an "
	    "integer 0..100, got '200'");
	/* Bytes from the file are escaped when echoed. */
	expect_err("color: \"a\\tb\"\n", "t.yaml:1:8: color: expected an "
	    "unquoted value, got 'a\\x09b'");
}

static void
test_goes_on(void **state)
{
	struct t_cfg c;

	(void)state;
	/* Every error of the file, in file order, and good values after a
	 * bad one still read. */
	assert_int_equal(run("n: {a: [1, 2]}\nport: 0\nbogus: [x, {y: z}]\n"
	    "flag: true\n", &c), -1);
	assert_string_equal(errbuf,
	    "t.yaml:1:4: n: expected a value, got a mapping\n"
	    "t.yaml:2:7: port: expected an integer 1..65535, got '0'\n"
	    "t.yaml:3:1: bogus: unknown key");
	assert_true(c.flag);
}

static void
test_syntax(void **state)
{
	(void)state;
	/* The error names the key whose value was being read. */
	expect_err("n: 1\n\tport: 2\n", "t.yaml:2:1: n: syntax error: found "
	    "a tab character that violates indentation (while scanning a "
	    "plain scalar at 1:4)");
	expect_err("\tport: 2\n", "t.yaml:1:1: syntax error: found "
	    "character that cannot start any token (while scanning for the "
	    "next token at 1:1)");
	expect_err("inner:\n  x: 1\n y: 2\n", "t.yaml:3:2: syntax error: "
	    "did not find expected key (while parsing a block mapping at "
	    "1:1)");
}

static void
test_many_errors(void **state)
{
	char yaml[2048];
	size_t o = 0;
	struct t_cfg c;
	const char *last;

	(void)state;
	for (int i = 0; i < 30; i++)
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o,
		    "k%d: 1\n", i);
	assert_int_equal(run(yaml, &c), -1);
	last = strrchr(errbuf, '\n');
	assert_non_null(last);
	assert_string_equal(last + 1, "t.yaml: too many errors, stopped");
}

static void
test_file(void **state)
{
	char path[] = "/tmp/test_yamlcfg.XXXXXX", err[256];
	struct smpp_yc *y;
	struct t_cfg c;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "n: 5\nx: 1\n", 10), 10);
	close(fd);
	y = smpp_yc_open_file(path, err, sizeof(err));
	assert_non_null(y);
	memset(&c, 0, sizeof(c));
	assert_int_equal(smpp_yc_walk_root(y, top_fn, &c), -1);
	assert_int_equal(c.n, 5);
	assert_int_equal(smpp_yc_error_count(y), 1);
	snprintf(err, sizeof(err), "%s:2:1: x: unknown key", path);
	assert_string_equal(smpp_yc_error_text(y, 0), err);
	assert_null(smpp_yc_error_text(y, 1));
	smpp_yc_close(y);
	unlink(path);
	assert_null(smpp_yc_open_file(path, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

static void
test_duration_quote(void **state)
{
	uint64_t ms;
	char q[64];

	(void)state;
	assert_int_equal(smpp_yc_parse_duration_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(smpp_yc_parse_duration_ms("7d", &ms), 0);
	assert_int_equal(ms, 7ull * 86400000);
	assert_int_equal(smpp_yc_parse_duration_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(smpp_yc_parse_duration_ms("5", &ms), -1);
	assert_int_equal(smpp_yc_parse_duration_ms("s", &ms), -1);
	assert_int_equal(smpp_yc_parse_duration_ms("5 s", &ms), -1);
	assert_int_equal(smpp_yc_parse_duration_ms("-5s", &ms), -1);
	assert_int_equal(smpp_yc_parse_duration_ms("99999999999999999999d",
	    &ms), -1);
	smpp_yc_quote("a'b\\\n", 5, q, sizeof(q));
	assert_string_equal(q, "a\\x27b\\x5c\\x0a");
	smpp_yc_quote("0123456789012345678901234567890123456789012345678901",
	    52, q, sizeof(q));
	assert_string_equal(q,
	    "012345678901234567890123456789012345678901234567...");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_goes_on),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_duration_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
