/*
 * Unit tests for gateway/config: the shipped conf/sealgate.yaml loads and
 * means what its comments say; the defaults; each validation error with its
 * exact file:line:column, key and reason; secrets never echoed; status
 * names both ways; CIDR networks and source address patterns.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "gateway/config.h"
#include "smpp/proto.h"

#ifndef SG_SOURCE_DIR
#define SG_SOURCE_DIR "."
#endif

/* Well formed (gw_passwd_parse), made with --iterations 10000. */
#define HASH "$pbkdf2-sha256$i=10000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAA="

static char err[8192];

static struct gw_config *
load_ok(const char *yaml)
{
	struct gw_config *c = NULL;

	if (gw_config_load_mem("g.yaml", yaml, strlen(yaml), &c, err,
	    sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_non_null(c);
	return c;
}

static void
expect_err(const char *yaml, const char *want)
{
	struct gw_config *c = (struct gw_config *)1;

	if (gw_config_load_mem("g.yaml", yaml, strlen(yaml), &c, err,
	    sizeof(err)) != -1)
		fail_msg("accepted: %s", yaml);
	assert_null(c);
	assert_string_equal(err, want);
}

static void
test_shipped(void **state)
{
	struct gw_config *c = NULL;
	const struct gw_account *a;
	const struct gw_link *k;

	(void)state;
	if (gw_config_load(SG_SOURCE_DIR "/conf/sealgate.yaml", &c, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(c->listeners.smpp.enabled);
	assert_string_equal(c->listeners.smpp.address, "127.0.0.1");
	assert_int_equal(c->listeners.smpp.port, 2775);
	assert_false(c->listeners.smpp_tls.enabled);
	assert_int_equal(c->listeners.admin.port, 8080);
	assert_int_equal(c->listeners.handset_api.port, 8443);
	assert_string_equal(c->storage.url,
	    "sqlite:var/sealgate.db?sync=messages");
	assert_int_equal(c->storage.timeout_s, 5);
	assert_int_equal(c->storage.stall_ms, 1000);
	assert_int_equal(c->n_accounts, 1);
	a = gw_config_account(c, "demo");
	assert_non_null(a);
	assert_true(a->receipts);
	assert_int_equal(a->receipt_grace_ms, 50);
	assert_int_equal(gw_passwd_verify("demopass", 8, a->password_hash), 1);
	assert_int_equal(gw_passwd_verify("demopasx", 8, a->password_hash), 0);
	assert_int_equal(c->n_links, 1);
	k = gw_config_link(c, "sim");
	assert_non_null(k);
	assert_string_equal(k->host, "127.0.0.1");
	assert_int_equal(k->port, 2776);
	assert_int_equal(k->bind, GW_BIND_TRX);
	assert_int_equal(c->n_groups, 1);
	assert_int_equal(c->groups[0].n_links, 1);
	assert_int_equal(c->groups[0].links[0], 0);
	assert_int_equal(c->n_routes, 1);
	assert_string_equal(c->routes[0].prefix, "");
	assert_int_equal(c->routes[0].account, GW_NONE);
	assert_int_equal(c->routes[0].n_groups, 1);
	assert_int_equal(c->n_mo_routes, 1);
	assert_int_equal(c->mo_routes[0].account, 0);
	assert_string_equal(c->mo_routes[0].prefix, "");
	assert_null(gw_config_account(c, "nobody"));
	gw_config_free(c);
}

static void
test_defaults(void **state)
{
	struct gw_config *c = load_ok("# defaults only\n");

	(void)state;
	assert_false(c->instance_id_set);
	assert_int_equal(c->instance_id, gw_config_default_instance_id());
	assert_int_equal(c->listeners.smpp.port, 2775);
	assert_true(c->listeners.smpp.enabled);
	assert_int_equal(c->listeners.smpp_tls.port, 3550);
	assert_false(c->listeners.smpp_tls.enabled);
	assert_true(c->listeners.admin.enabled);
	assert_int_equal(c->listeners.admin.port, 8080);
	assert_int_equal(c->listeners.handset_api.port, 8443);
	assert_string_equal(c->storage.url, "sqlite:var/sealgate.db");
	assert_int_equal(c->storage.queue_max, 10000);
	assert_int_equal(c->storage.batch_max, 1000);
	assert_int_equal(c->storage.timeout_s, 5);
	assert_int_equal(c->log.level, GW_LOG_INFO);
	assert_false(c->log.syslog);
	assert_int_equal(c->auth.failure_delay_ms, 1000);
	assert_int_equal(c->auth.lockout_failures, 5);
	assert_int_equal(c->statuses.no_route, SMPP_RINVDSTADR);
	assert_int_equal(c->statuses.links_down, SMPP_RTHROTTLED);
	assert_int_equal(c->statuses.session_lost, SMPP_RSYSERR);
	assert_int_equal(c->drain_ms, 10000);
	assert_int_equal(c->n_accounts, 0);
	gw_config_free(c);

	/* Per-item defaults. */
	c = load_ok("instance_id: 0\n"
	    "accounts:\n  - {system_id: a, password_hash: \"" HASH "\"}\n"
	    "links:\n  - {name: l, host: h, port: 1, system_id: s}\n");
	assert_true(c->instance_id_set);
	assert_int_equal(c->instance_id, 0);
	assert_int_equal(c->accounts[0].bind_types, GW_BIND_ALL);
	assert_int_equal(c->accounts[0].window, 256);
	assert_int_equal(c->accounts[0].tps, 0);
	assert_int_equal(c->accounts[0].msgid_format, GW_MSGID_HEX);
	assert_true(c->accounts[0].receipts);
	assert_int_equal(c->accounts[0].n_networks, 0);
	assert_true(gw_account_source_allowed(&c->accounts[0], "123"));
	assert_int_equal(c->links[0].bind, GW_BIND_TRX);
	assert_int_equal(c->links[0].sessions, 1);
	assert_int_equal(c->links[0].enquire_link_ms, 30000);
	assert_int_equal(c->links[0].reconnect_min_ms, 1000);
	assert_int_equal(c->links[0].reconnect_max_ms, 60000);
	assert_int_equal(c->links[0].default_alphabet, GW_ALPHABET_GSM7);
	assert_false(c->links[0].gsm7_packed);
	assert_string_equal(c->links[0].password, "");
	gw_config_free(c);
}

static void
test_values(void **state)
{
	struct gw_config *c;

	(void)state;
	c = load_ok("statuses: {no_route: 0x45, links_down: RMSGQFUL, "
	    "session_lost: esme_rx_t_appn}\n"
	    "accounts:\n"
	    "  - system_id: b\n"
	    "    password_hash: \"" HASH "\"\n"
	    "    networks: [10.0.0.0/8, \"2001:db8::/32\"]\n"
	    "    source_addresses: [\"4930*\", \"12345\"]\n"
	    "    bind_types: [rx]\n"
	    "    message_id: decimal\n"
	    "  - {system_id: a, password_hash: \"" HASH "\"}\n"
	    "links:\n"
	    "  - {name: l1, host: h, port: 1, system_id: s, password: "
	    "\"12345678\", bind: tx, gsm7_packing: packed, default_alphabet: "
	    "latin1}\n"
	    "  - {name: l2, host: h, port: 2, system_id: s, smsc: l1}\n"
	    "groups: {g1: [l2, l1], g2: [l1]}\n"
	    "routes:\n"
	    "  - {prefix: \"49\", account: a, groups: [g2, g1]}\n"
	    "  - {prefix: \"49\", groups: [g1]}\n"
	    "mo_routes:\n"
	    "  - {prefix: \"7777\", keyword: REG, account: a}\n"
	    "  - {prefix: \"7777\", account: b}\n");
	assert_int_equal(c->statuses.no_route, 0x45);
	assert_int_equal(c->statuses.links_down, SMPP_RMSGQFUL);
	assert_int_equal(c->statuses.session_lost, SMPP_RX_T_APPN);
	assert_int_equal(c->accounts[0].n_networks, 2);
	assert_int_equal(c->accounts[0].bind_types, GW_BIND_RX);
	assert_int_equal(c->accounts[0].msgid_format, GW_MSGID_DECIMAL);
	assert_true(gw_account_source_allowed(&c->accounts[0], "4930777"));
	assert_true(gw_account_source_allowed(&c->accounts[0], "12345"));
	assert_false(gw_account_source_allowed(&c->accounts[0], "123456"));
	assert_false(gw_account_source_allowed(&c->accounts[0], "4931"));
	assert_string_equal(c->links[0].password, "12345678");
	assert_int_equal(c->links[0].bind, GW_BIND_TX);
	assert_true(c->links[0].gsm7_packed);
	assert_int_equal(c->links[0].default_alphabet, GW_ALPHABET_LATIN1);
	/* smsc: the link's own name unless set (links sharing it share
	 * receipts) */
	assert_string_equal(c->links[0].smsc, "l1");
	assert_string_equal(c->links[1].smsc, "l1");
	assert_int_equal(c->groups[0].n_links, 2);
	assert_int_equal(c->groups[0].links[0], 1);
	assert_int_equal(c->groups[0].links[1], 0);
	assert_int_equal(c->routes[0].account, 1);
	assert_int_equal(c->routes[0].groups[0], 1);
	assert_int_equal(c->routes[0].groups[1], 0);
	assert_int_equal(c->routes[1].account, GW_NONE);
	assert_int_equal(c->mo_routes[0].account, 1);
	assert_string_equal(c->mo_routes[0].keyword, "REG");
	assert_int_equal(c->mo_routes[1].account, 0);
	gw_config_free(c);
}

#define ACCT "accounts:\n  - system_id: demo\n    password_hash: \"" HASH "\"\n"
#define LINK "links:\n  - {name: sim, host: h, port: 1, system_id: s}\n"

static void
test_errors(void **state)
{
	(void)state;
	/* 1. unknown keys, at any depth */
	expect_err("listner: {}\n", "g.yaml:1:1: listner: unknown key");
	expect_err("listeners:\n  smpp:\n    prot: 2775\n",
	    "g.yaml:3:5: listeners.smpp.prot: unknown key");
	/* cert belongs to TLS listeners only */
	expect_err("listeners:\n  admin: {cert: x}\n",
	    "g.yaml:2:11: listeners.admin.cert: unknown key");
	/* 2. wrong types */
	expect_err("listeners:\n  smpp:\n    port: \"2775\"\n",
	    "g.yaml:3:11: listeners.smpp.port: expected an unquoted value, "
	    "got '2775'");
	expect_err("log: debug\n",
	    "g.yaml:1:6: log: expected a mapping, got a value");
	expect_err(ACCT "    receipts: yes\n", "g.yaml:4:15: "
	    "accounts[0].receipts: expected true or false, got 'yes'");
	/* 3. out of range */
	expect_err("listeners:\n  smpp:\n    port: 70000\n",
	    "g.yaml:3:11: listeners.smpp.port: expected an integer 1..65535, "
	    "got '70000'");
	expect_err("instance_id: 65536\n", "g.yaml:1:14: instance_id: "
	    "expected an integer 0..65535, got '65536'");
	expect_err("drain_time: 11m\n",
	    "g.yaml:1:13: drain_time: expected 0ms..10m, got '11m'");
	expect_err("storage: {timeout: 1500ms}\n",
	    "g.yaml:1:20: storage.timeout: expected whole seconds");
	expect_err("storage: {timeout: 0s}\n",
	    "g.yaml:1:20: storage.timeout: expected 1s..5m, got '0s'");
	expect_err("storage: {stall: 11m}\n",
	    "g.yaml:1:18: storage.stall: expected 0ms..10m, got '11m'");
	expect_err(ACCT "    receipt_grace: 2s\n", "g.yaml:4:20: "
	    "accounts[0].receipt_grace: expected 0ms..1s, got '2s'");
	/* A misspelt SQLite option is not taken into the file name. */
	expect_err("storage: {url: \"sqlite:var/x.db?sync=fulll\"}\n",
	    "g.yaml:1:16: storage.url: sqlite DSN: unknown option"
	    " \"sync=fulll\" (expected ?sync=messages, ?sync=full or"
	    " ?sync=normal)");
	expect_err("storage: {url: \"sqlite:\"}\n",
	    "g.yaml:1:16: storage.url: sqlite DSN has no path");
	/* 4. duplicate keys */
	expect_err("log:\n  level: info\n  level: debug\n",
	    "g.yaml:3:3: log.level: duplicate key");
	/* 5. accounts */
	expect_err("accounts:\n  - system_id: abcdefghijklmnop\n",
	    "g.yaml:2:16: accounts[0].system_id: longer than 15 bytes");
	expect_err(ACCT "  - system_id: demo\n    password_hash: \"" HASH
	    "\"\n", "g.yaml:4:16: accounts[1].system_id: account 'demo' is "
	    "already defined at 2:16");
	expect_err("accounts:\n  - system_id: demo\n    password: demopass\n",
	    "g.yaml:3:5: accounts[0].password: plaintext passwords are "
	    "refused; set password_hash to the output of `sealgate passwd`");
	expect_err("accounts:\n  - system_id: demo\n"
	    "    password_hash: demopass\n", "g.yaml:3:20: "
	    "accounts[0].password_hash: not a password hash (make one with "
	    "`sealgate passwd`)");
	expect_err("accounts:\n  - system_id: demo\n"
	    "    password_hash: \"$pbkdf2-sha256$i=500$AAAA$AAAA\"\n",
	    "g.yaml:3:20: accounts[0].password_hash: iteration count must be "
	    "10000..10000000");
	expect_err("accounts:\n  - password_hash: \"" HASH "\"\n",
	    "g.yaml:2:5: accounts[0]: missing key 'system_id'");
	expect_err(ACCT "    networks: [10.0.0.0/8, 10.0.0/8]\n",
	    "g.yaml:4:28: accounts[0].networks[1]: expected an address or a "
	    "network like 10.0.0.0/8 or 2001:db8::/32, got '10.0.0/8'");
	expect_err(ACCT "    networks: [\"2001:db8::1/32\"]\n",
	    "g.yaml:4:16: accounts[0].networks[0]: host bits set in "
	    "'2001:db8::1/32' (did you mean 2001:db8::/32?)");
	expect_err(ACCT "    source_addresses: [\"49*1\"]\n",
	    "g.yaml:4:24: accounts[0].source_addresses[0]: expected an "
	    "address (at most 20 characters) or a prefix and a final '*' like "
	    "4930*, got '49*1'");
	expect_err(ACCT "    bind_types: []\n", "g.yaml:4:17: "
	    "accounts[0].bind_types: needs at least one of tx, rx or trx");
	/* 6. links */
	expect_err(LINK "  - {name: sim, host: h, port: 2, system_id: s}\n",
	    "g.yaml:3:12: links[1].name: link 'sim' is already defined at "
	    "2:12");
	expect_err("links:\n  - {name: a, host: h, port: 1, system_id: s, "
	    "password: \"123456789\"}\n", "g.yaml:2:57: links[0].password: "
	    "longer than 8 bytes");
	expect_err("links:\n  - {name: \"a b\", host: h, port: 1, "
	    "system_id: s}\n", "g.yaml:2:12: links[0].name: expected a name "
	    "of letters, digits, '_', '-' and '.', got 'a b'");
	expect_err("links:\n  - name: a\n    host: h\n    port: 1\n"
	    "    system_id: s\n    reconnect_min: 5s\n    reconnect_max: 1s\n",
	    "g.yaml:7:20: links[0].reconnect_max: shorter than reconnect_min");
	expect_err("links:\n  - {name: a, port: 1, system_id: s}\n",
	    "g.yaml:2:5: links[0]: missing key 'host'");
	expect_err("links:\n  - {name: a, host: h, port: 1, system_id: s, "
	    "smsc: \"x y\"}\n", "g.yaml:2:53: links[0].smsc: expected a name "
	    "of letters, digits, '_', '-' and '.', got 'x y'");
	expect_err("links:\n  - {name: sim, host: h, port: 1, system_id: s, "
	    "bind: rx}\ngroups:\n  g: [sim]\n", "g.yaml:4:7: groups.g[0]: link "
	    "'sim' binds rx and cannot carry submits");
	expect_err("links:\n  - name: a\n    bind: transceiver\n",
	    "g.yaml:3:11: links[0].bind: expected tx, rx or trx, got "
	    "'transceiver'");
	/* 7. names that name nothing */
	expect_err(LINK "groups:\n  g: [sim, sim2]\n",
	    "g.yaml:4:12: groups.g[1]: unknown link 'sim2'");
	expect_err(LINK "groups:\n  g: []\n",
	    "g.yaml:4:3: groups.g: needs at least one link");
	expect_err(LINK "groups:\n  g: [sim]\nroutes:\n  - prefix: \"\"\n"
	    "    groups: [g, eu]\n",
	    "g.yaml:7:17: routes[0].groups[1]: unknown group 'eu'");
	expect_err(LINK "groups:\n  g: [sim]\nroutes:\n  - prefix: \"\"\n"
	    "    account: nobody\n    groups: [g]\n",
	    "g.yaml:7:14: routes[0].account: unknown account 'nobody'");
	expect_err("mo_routes:\n  - {prefix: \"7777\", account: demo}\n",
	    "g.yaml:2:31: mo_routes[0].account: unknown account 'demo'");
	expect_err(LINK "groups:\n  g: [sim]\nroutes:\n"
	    "  - {prefix: \"1\", groups: [g]}\n  - {prefix: \"1\", groups: [g]}\n",
	    "g.yaml:7:5: routes[1]: same prefix and account as routes[0]");
	expect_err(LINK "groups:\n  g: [sim]\nroutes:\n  - {groups: [g]}\n",
	    "g.yaml:6:5: routes[0]: missing key 'prefix' (\"\" for the "
	    "default route)");
	/* 8. listeners */
	expect_err("listeners:\n  admin:\n    port: 2775\n",
	    "g.yaml:3:11: listeners.admin.port: 127.0.0.1:2775 is already "
	    "used by listeners.smpp");
	expect_err("listeners:\n  smpp: {address: 0.0.0.0}\n"
	    "  admin: {port: 2775}\n", "g.yaml:3:17: listeners.admin.port: "
	    "127.0.0.1:2775 is already used by listeners.smpp");
	expect_err("listeners:\n  smpp_tls:\n    enabled: true\n",
	    "g.yaml:3:5: listeners.smpp_tls: a TLS listener needs cert and "
	    "key");
	/* 9. statuses and the rest */
	expect_err("statuses:\n  no_route: ESME_NOPE\n",
	    "g.yaml:2:13: statuses.no_route: expected an error status (a name "
	    "like ESME_RTHROTTLED, or a number), got 'ESME_NOPE'");
	expect_err("statuses:\n  links_down: ESME_ROK\n",
	    "g.yaml:2:15: statuses.links_down: expected an error status (a "
	    "name like ESME_RTHROTTLED, or a number), got 'ESME_ROK'");
	expect_err("log: {level: loud}\n", "g.yaml:1:14: log.level: expected "
	    "err, warn, info or debug, got 'loud'");
	expect_err("log: &x {}\n", "g.yaml:1:6: log: anchors are not allowed");
	expect_err("a: &x 1\n", "g.yaml:1:1: a: unknown key\n"
	    "g.yaml:1:4: a: anchors are not allowed");
	expect_err("log: {}\n---\nlog: {}\n",
	    "g.yaml:2:1: only one YAML document is allowed");
}

static void
test_secrets_not_echoed(void **state)
{
	(void)state;
	expect_err("storage:\n  url: \"postgres://u:hunter2@h/db\"\n",
	    "g.yaml:2:8: storage.url: expected sqlite:PATH or "
	    "mariadb://USER:PASSWORD@HOST[:PORT]/DATABASE");
	assert_null(strstr(err, "hunter2"));
	expect_err("links:\n  - {name: a, host: h, port: 1, system_id: s, "
	    "password: hunter2hunter2}\n", "g.yaml:2:57: links[0].password: "
	    "longer than 8 bytes");
	assert_null(strstr(err, "hunter2"));
	expect_err("accounts:\n  - {system_id: a, password_hash: hunter2}\n",
	    "g.yaml:2:35: accounts[0].password_hash: not a password hash "
	    "(make one with `sealgate passwd`)");
	assert_null(strstr(err, "hunter2"));
	expect_err("accounts:\n  - {system_id: a, password: hunter2}\n",
	    "g.yaml:2:20: accounts[0].password: plaintext passwords are "
	    "refused; set password_hash to the output of `sealgate passwd`");
	assert_null(strstr(err, "hunter2"));
}

static void
test_all_errors(void **state)
{
	(void)state;
	/* One run lists every error, in file order. */
	expect_err("listeners:\n  smpp: {port: 0}\nlog: {level: x}\n"
	    "bogus: 1\n",
	    "g.yaml:2:16: listeners.smpp.port: expected an integer 1..65535, "
	    "got '0'\n"
	    "g.yaml:3:14: log.level: expected err, warn, info or debug, got "
	    "'x'\n"
	    "g.yaml:4:1: bogus: unknown key");
}

static void
test_file_errors(void **state)
{
	struct gw_config *c = NULL;

	(void)state;
	assert_int_equal(gw_config_load("/nonexistent/sealgate.yaml", &c, err,
	    sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/sealgate.yaml: No such file "
	    "or directory");
	gw_config_free(NULL);
}

static void
test_status_names(void **state)
{
	uint32_t st;
	int named = 0;

	(void)state;
	for (uint32_t s = 0; s <= 0x4ff; s++) {
		const char *n = gw_status_name(s);

		if (n == NULL)
			continue;
		named++;
		assert_int_equal(gw_status_parse(n, &st), 0);
		assert_int_equal(st, s);
		assert_int_equal(gw_status_parse(n + 5, &st), 0);
		assert_int_equal(st, s);
	}
	assert_true(named > 40);
	assert_string_equal(gw_status_name(0x58), "ESME_RTHROTTLED");
	assert_null(gw_status_name(0x1234));
	assert_int_equal(gw_status_parse("esme_rthrottled", &st), 0);
	assert_int_equal(st, 0x58);
	assert_int_equal(gw_status_parse("0x58", &st), 0);
	assert_int_equal(st, 0x58);
	assert_int_equal(gw_status_parse("88", &st), 0);
	assert_int_equal(st, 88);
	assert_int_equal(gw_status_parse("4294967295", &st), 0);
	assert_int_equal(st, 0xffffffffu);
	assert_int_equal(gw_status_parse("4294967296", &st), -1);
	assert_int_equal(gw_status_parse("ESME_BOGUS", &st), -1);
	assert_int_equal(gw_status_parse("", &st), -1);
	assert_int_equal(gw_status_parse("0x", &st), -1);
	assert_int_equal(gw_status_parse("12a", &st), -1);
	assert_int_equal(gw_status_parse("-1", &st), -1);
}

static bool
match4(const struct gw_cidr *c, const char *ip)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	return gw_cidr_match(c, AF_INET, a);
}

static bool
match6(const struct gw_cidr *c, const char *ip)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, ip, a), 1);
	return gw_cidr_match(c, AF_INET6, a);
}

static void
test_cidr(void **state)
{
	static const char *const bad[] = {
		"", "10.0.0.0/33", "10.0.0/8", "abc", "10.0.0.0/", "/8",
		"10.0.0.0/08", "::1/129", "10.0.0.0/8/9", "10.0.0.0/-1",
		"10.0.0.0/+8", " 10.0.0.0/8", "10.0.0.0/8 ", "1.2.3.4.5",
		"::ffff::1", "10.0.0.0/1000",
	};
	struct gw_cidr c;
	uint8_t a[16];

	(void)state;
	assert_int_equal(gw_cidr_parse("10.0.0.0/8", &c), 0);
	assert_true(match4(&c, "10.255.1.2"));
	assert_false(match4(&c, "11.0.0.0"));
	assert_true(match6(&c, "::ffff:10.1.2.3"));	/* dual stack */
	assert_false(match6(&c, "::10.1.2.3"));
	assert_int_equal(gw_cidr_parse("0.0.0.0/0", &c), 0);
	assert_true(match4(&c, "1.2.3.4"));
	assert_true(match4(&c, "255.255.255.255"));
	assert_false(match6(&c, "2001:db8::1"));
	assert_int_equal(gw_cidr_parse("192.168.1.7/32", &c), 0);
	assert_true(match4(&c, "192.168.1.7"));
	assert_false(match4(&c, "192.168.1.6"));
	assert_int_equal(gw_cidr_parse("192.168.1.7", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(gw_cidr_parse("172.16.0.0/12", &c), 0);
	assert_true(match4(&c, "172.31.255.255"));
	assert_false(match4(&c, "172.32.0.0"));
	assert_int_equal(gw_cidr_parse("::/0", &c), 0);
	assert_true(match6(&c, "2001:db8::1"));
	assert_false(match4(&c, "1.2.3.4"));
	assert_int_equal(gw_cidr_parse("::1/128", &c), 0);
	assert_true(match6(&c, "::1"));
	assert_false(match6(&c, "::2"));
	assert_int_equal(gw_cidr_parse("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(gw_cidr_parse("2001:db8::/33", &c), 0);
	assert_true(match6(&c, "2001:db8:7fff::1"));
	assert_false(match6(&c, "2001:db8:8000::1"));
	assert_int_equal(gw_cidr_parse("10.0.0.1/8", &c), -2);
	assert_int_equal(gw_cidr_parse("2001:db8::1/32", &c), -2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gw_cidr_parse(bad[i], &c) != -1)
			fail_msg("accepted '%s'", bad[i]);
	/* No networks: any address. */
	memset(a, 0, sizeof(a));
	assert_true(gw_cidr_match_any(NULL, 0, AF_INET, a));
}

static void
test_patterns(void **state)
{
	(void)state;
	assert_true(gw_addr_pattern_valid("4930*"));
	assert_true(gw_addr_pattern_valid("*"));
	assert_true(gw_addr_pattern_valid("+4930*"));
	assert_true(gw_addr_pattern_valid("MyBrand"));
	assert_true(gw_addr_pattern_valid("12345678901234567890"));
	assert_true(gw_addr_pattern_valid("12345678901234567890*"));
	assert_false(gw_addr_pattern_valid("123456789012345678901"));
	assert_false(gw_addr_pattern_valid(""));
	assert_false(gw_addr_pattern_valid("49*30"));
	assert_false(gw_addr_pattern_valid("**"));
	assert_false(gw_addr_pattern_valid("49 30"));
	assert_false(gw_addr_pattern_valid("49\x7f"));
	assert_true(gw_addr_pattern_match("4930*", "4930123"));
	assert_true(gw_addr_pattern_match("4930*", "4930"));
	assert_false(gw_addr_pattern_match("4930*", "493"));
	assert_false(gw_addr_pattern_match("4930*", "4931"));
	assert_true(gw_addr_pattern_match("*", ""));
	assert_true(gw_addr_pattern_match("*", "anything"));
	assert_true(gw_addr_pattern_match("12345", "12345"));
	assert_false(gw_addr_pattern_match("12345", "123456"));
	assert_false(gw_addr_pattern_match("12345", "1234"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_secrets_not_echoed),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
