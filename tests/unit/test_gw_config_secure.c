/*
 * Unit tests for the secure parts of the gateway's config
 * (gateway/config_secure.c): the shipped sample's secure section and the
 * demo account's marking, the defaults, every key read back, and each
 * validation error with its exact file:line:column, key and reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/config.h"

#ifndef SG_SOURCE_DIR
#define SG_SOURCE_DIR "."
#endif

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

	(void)state;
	if (gw_config_load(SG_SOURCE_DIR "/conf/sealgate.yaml", &c, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(c->secure.enabled);
	assert_string_equal(c->secure.vault_dir, "var/vault");
	assert_string_equal(c->secure.short_code, "7277");
	assert_string_equal(c->secure.keyword, "SEAL");
	assert_int_equal(c->secure.retention_s, 7 * 86400);
	assert_int_equal(c->secure.reassembly_timeout_s, 120);
	assert_int_equal(c->secure.otp_digits, 6);
	assert_int_equal(c->secure.otp_ttl_s, 300);
	assert_non_null(strstr(c->secure.tpl_unregistered, "{link}"));
	assert_non_null(strstr(c->secure.tpl_otp, "{code}"));
	a = gw_config_account(c, "demo");
	assert_non_null(a);
	assert_true(a->secure.enabled);
	assert_string_equal(a->secure.prefix, "#secure ");
	assert_false(a->secure.all);
	assert_int_equal(a->secure.tlv_tag, 0);
	gw_config_free(c);
}

static void
test_defaults_and_keys(void **state)
{
	struct gw_config *c;
	const struct gw_account *a;

	(void)state;
	c = load_ok("accounts:\n  - {system_id: a, password_hash: \"" HASH
	    "\"}\n");
	assert_false(c->secure.enabled);
	assert_int_equal(c->secure.max_per_msisdn, 1000);
	assert_false(gw_config_account(c, "a")->secure.enabled);
	gw_config_free(c);

	c = load_ok(
	    "secure:\n"
	    "  enabled: true\n"
	    "  vault_dir: /v\n"
	    "  otp_secret: /o\n"
	    "  short_code: \"12345\"\n"
	    "  keyword: REG\n"
	    "  notify_source: Bank\n"
	    "  app_link: https://a.example/app\n"
	    "  templates:\n"
	    "    unregistered: \"{sender}: {ref} {link}\"\n"
	    "    registered: \"{sender}: {ref}\"\n"
	    "    otp: \"code {code}\"\n"
	    "    new_device: \"new device {link}\"\n"
	    "  flows: {sms: false, mo: true}\n"
	    "  retention: 2d\n"
	    "  acked_retention: 1h\n"
	    "  reassembly_timeout: 30s\n"
	    "  max_per_msisdn: 7\n"
	    "  max_devices: 3\n"
	    "  max_message_bytes: 2000\n"
	    "  registration_ttl: 20m\n"
	    "  otp: {digits: 8, ttl: 10m, max_tries: 3, daily_cap: 4,"
	    " sends_per_msisdn: 2, sends_per_client: 9, send_window: 2h}\n"
	    "  api_body_max: 4096\n"
	    "  cors_origins: [\"https://app.example\", \"*\"]\n"
	    "accounts:\n"
	    "  - system_id: a\n"
	    "    password_hash: \"" HASH "\"\n"
	    "    secure: {prefix: \"!s \", service_type: SEC, tlv: 0x2001}\n"
	    "  - system_id: b\n"
	    "    password_hash: \"" HASH "\"\n"
	    "    secure: {all: true, tlv: true}\n"
	    "  - system_id: c\n"
	    "    password_hash: \"" HASH "\"\n"
	    "    secure: {tlv: false}\n");
	assert_true(c->secure.enabled);
	assert_string_equal(c->secure.vault_dir, "/v");
	assert_string_equal(c->secure.otp_secret, "/o");
	assert_string_equal(c->secure.short_code, "12345");
	assert_string_equal(c->secure.keyword, "REG");
	assert_string_equal(c->secure.notify_source, "Bank");
	assert_string_equal(c->secure.app_link, "https://a.example/app");
	assert_string_equal(c->secure.tpl_registered, "{sender}: {ref}");
	assert_string_equal(c->secure.tpl_otp, "code {code}");
	assert_false(c->secure.flow_sms);
	assert_true(c->secure.flow_mo);
	assert_int_equal(c->secure.retention_s, 2 * 86400);
	assert_int_equal(c->secure.acked_retention_s, 3600);
	assert_int_equal(c->secure.reassembly_timeout_s, 30);
	assert_int_equal(c->secure.max_per_msisdn, 7);
	assert_int_equal(c->secure.max_devices, 3);
	assert_int_equal(c->secure.max_message_bytes, 2000);
	assert_int_equal(c->secure.registration_ttl_s, 1200);
	assert_int_equal(c->secure.otp_digits, 8);
	assert_int_equal(c->secure.otp_ttl_s, 600);
	assert_int_equal(c->secure.otp_max_tries, 3);
	assert_int_equal(c->secure.otp_daily_cap, 4);
	assert_int_equal(c->secure.otp_sends_per_msisdn, 2);
	assert_int_equal(c->secure.otp_sends_per_client, 9);
	assert_int_equal(c->secure.otp_send_window_s, 7200);
	assert_int_equal(c->secure.api_body_max, 4096);
	assert_int_equal(c->secure.n_cors_origins, 2);
	assert_string_equal(c->secure.cors_origins[1], "*");
	a = gw_config_account(c, "a");
	assert_true(a->secure.enabled);
	assert_string_equal(a->secure.prefix, "!s ");
	assert_string_equal(a->secure.service_type, "SEC");
	assert_int_equal(a->secure.tlv_tag, 0x2001);
	a = gw_config_account(c, "b");
	assert_true(a->secure.enabled && a->secure.all);
	assert_int_equal(a->secure.tlv_tag, 0x1501);
	/* a block that marks nothing leaves the account unmarked */
	assert_false(gw_config_account(c, "c")->secure.enabled);
	gw_config_free(c);
}

#define ACCT(m) "accounts:\n  - system_id: a\n    password_hash: \"" HASH \
	"\"\n    secure: " m "\n"

static void
test_errors(void **state)
{
	(void)state;
	expect_err("secure:\n  otp: {digits: 5}\n",
	    "g.yaml:2:17: secure.otp.digits: expected an integer 6..10, "
	    "got '5'");
	expect_err("secure:\n  otp: {ttl: 11m}\n",
	    "g.yaml:2:14: secure.otp.ttl: expected 30s..10m, got '11m'");
	expect_err("secure:\n  templates:\n    unregistered: \"hi {sendr}\"\n",
	    "g.yaml:3:19: secure.templates.unregistered: unknown placeholder "
	    "'{sendr}' (known: {sender} {ref} {link} {code})");
	expect_err("secure:\n  templates:\n    registered: \"code {code}\"\n",
	    "g.yaml:3:17: secure.templates.registered: {code} has no value "
	    "in this text (allowed: sender,ref,link)");
	expect_err("secure:\n  templates:\n    otp: \"no code\"\n",
	    "g.yaml:3:10: secure.templates.otp: needs {code}");
	expect_err("secure:\n  short_code: \"72a7\"\n",
	    "g.yaml:2:15: secure.short_code: expected digits (a short code); "
	    "quote it so YAML keeps it a string");
	expect_err("secure:\n  cors_origins: [\"ftp://x\"]\n",
	    "g.yaml:2:18: secure.cors_origins[0]: expected an origin like "
	    "https://app.example.com (or *)");
	expect_err("secure:\n  vault: /x\n",
	    "g.yaml:2:3: secure.vault: unknown key");
	expect_err("secure:\n  otp: {ttl: 10m}\n  registration_ttl: 5m\n",
	    "g.yaml:2:3: secure: otp.ttl is longer than registration_ttl");
	expect_err("secure: {enabled: true}\n" ACCT("{tlv: 0x99}"),
	    "g.yaml:5:19: accounts[0].secure.tlv: expected true, false or a "
	    "vendor TLV tag 0x1400..0x3FFF, got '0x99'");
	expect_err("secure: {enabled: true}\n" ACCT("{prefix: \"\\t#s\"}"),
	    "g.yaml:5:22: accounts[0].secure.prefix: expected printable ASCII "
	    "(it is compared with the start of the decoded text)");
	expect_err("secure: {enabled: true}\n" ACCT("{service_type: TOOLONG}"),
	    "g.yaml:5:28: accounts[0].secure.service_type: longer than 5 "
	    "bytes");
	/* marking without the service: it would pass through, refused */
	expect_err(ACCT("{prefix: \"#s \"}"),
	    "g.yaml:2:16: accounts[0].secure: account 'a' marks messages "
	    "secure but secure.enabled is false");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_defaults_and_keys),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
