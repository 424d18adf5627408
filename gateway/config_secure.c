/*
 * The secure parts of conf/sealgate.yaml (see config.h): the top-level
 * `secure:` section (struct sec_config; every key optional, defaults
 * from sec_config_default) and an account's `secure:` block (its marking
 * rule). Same conventions as config.c: every error names
 * file:line:column and the key, and all of them are reported in one run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "secure/notify.h"
#include "smpp/yamlcfg.h"

#define DAY_MS		86400000ull
#define VENDOR_TLV_MIN	0x1400	/* SMPP 3.4 5.3.2: vendor specific */
#define VENDOR_TLV_MAX	0x3FFF

static int
get_s(struct smpp_yc *y, const char *path, uint64_t min_ms, uint64_t max_ms,
    uint32_t *out)
{
	uint64_t v;

	if (smpp_yc_get_duration_ms(y, path, min_ms, max_ms, &v) != 0)
		return -1;
	*out = (uint32_t)(v / 1000);
	return 0;
}

/* Printable ASCII without spaces (addresses, keywords). */
static int
get_token(struct smpp_yc *y, const char *path, char *out, size_t cap,
    unsigned flags)
{
	if (smpp_yc_get_str(y, path, out, cap, flags) != 0)
		return -1;
	for (const char *s = out; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return smpp_yc_error(y, path, "expected printable "
			    "characters without spaces");
	return 0;
}

static int
get_digits(struct smpp_yc *y, const char *path, char *out, size_t cap)
{
	if (smpp_yc_get_str(y, path, out, cap, SMPP_YC_NONEMPTY) != 0)
		return -1;
	for (const char *s = out; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return smpp_yc_error(y, path, "expected digits (a "
			    "short code); quote it so YAML keeps it a string");
	return 0;
}

/* ---- templates ----------------------------------------------------- */

struct tpl_ctx {
	struct sec_config	*c;
};

static int
get_template(struct smpp_yc *y, const char *path, char *out, size_t cap,
    const char *allowed, bool need_code, size_t link_len)
{
	char why[160];

	if (smpp_yc_get_str(y, path, out, cap, SMPP_YC_NONEMPTY) != 0)
		return -1;
	if (sec_notify_check(out, allowed, link_len, why, sizeof(why)) != 0)
		return smpp_yc_error(y, path, "%s", why);
	if (need_code && strstr(out, "{code}") == NULL)
		return smpp_yc_error(y, path, "needs {code}");
	return 0;
}

static int
tpl_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sec_config *c = ((struct tpl_ctx *)ctx)->c;
	/* app_link may come after the templates: check with its maximum */
	size_t link = sizeof(c->app_link) - 1;

	if (strcmp(k, "unregistered") == 0)
		return get_template(y, f, c->tpl_unregistered,
		    sizeof(c->tpl_unregistered), "sender,ref,link", false,
		    link);
	if (strcmp(k, "registered") == 0)
		return get_template(y, f, c->tpl_registered,
		    sizeof(c->tpl_registered), "sender,ref,link", false, link);
	if (strcmp(k, "otp") == 0)
		return get_template(y, f, c->tpl_otp, sizeof(c->tpl_otp),
		    "code,link", true, link);
	if (strcmp(k, "new_device") == 0)
		return get_template(y, f, c->tpl_new_device,
		    sizeof(c->tpl_new_device), "link", false, link);
	return SMPP_YC_UNKNOWN;
}

static int
flows_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sec_config *c = ctx;

	if (strcmp(k, "sms") == 0)
		return smpp_yc_get_bool(y, f, &c->flow_sms);
	if (strcmp(k, "mo") == 0)
		return smpp_yc_get_bool(y, f, &c->flow_mo);
	return SMPP_YC_UNKNOWN;
}

static int
otp_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sec_config *c = ctx;

	if (strcmp(k, "digits") == 0)
		return smpp_yc_get_u32(y, f, 6, 10, &c->otp_digits);
	if (strcmp(k, "ttl") == 0)
		return get_s(y, f, 30000, 600000, &c->otp_ttl_s);
	if (strcmp(k, "max_tries") == 0)
		return smpp_yc_get_u32(y, f, 1, 5, &c->otp_max_tries);
	if (strcmp(k, "daily_cap") == 0)
		return smpp_yc_get_u32(y, f, 1, 1000, &c->otp_daily_cap);
	if (strcmp(k, "sends_per_msisdn") == 0)
		return smpp_yc_get_u32(y, f, 1, 1000,
		    &c->otp_sends_per_msisdn);
	if (strcmp(k, "sends_per_client") == 0)
		return smpp_yc_get_u32(y, f, 1, 100000,
		    &c->otp_sends_per_client);
	if (strcmp(k, "send_window") == 0)
		return get_s(y, f, 60000, DAY_MS, &c->otp_send_window_s);
	return SMPP_YC_UNKNOWN;
}

static int
origin_item(struct smpp_yc *y, size_t i, const char *f, void *ctx)
{
	struct sec_config *c = ctx;
	char *o;

	(void)i;
	if (c->n_cors_origins >= SEC_MAX_ORIGINS)
		return smpp_yc_error(y, f, "more than %d origins",
		    SEC_MAX_ORIGINS);
	o = c->cors_origins[c->n_cors_origins];
	if (get_token(y, f, o, sizeof(c->cors_origins[0]),
	    SMPP_YC_NONEMPTY) != 0)
		return -1;
	if (strcmp(o, "*") != 0 && strncmp(o, "https://", 8) != 0 &&
	    strncmp(o, "http://", 7) != 0)
		return smpp_yc_error(y, f, "expected an origin like "
		    "https://app.example.com (or *)");
	c->n_cors_origins++;
	return 0;
}

static int
secure_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sec_config *c = ctx;

	if (strcmp(k, "enabled") == 0)
		return smpp_yc_get_bool(y, f, &c->enabled);
	if (strcmp(k, "vault_dir") == 0)
		return smpp_yc_get_str(y, f, c->vault_dir, sizeof(c->vault_dir),
		    SMPP_YC_NONEMPTY);
	if (strcmp(k, "otp_secret") == 0)
		return smpp_yc_get_str(y, f, c->otp_secret,
		    sizeof(c->otp_secret), SMPP_YC_NONEMPTY);
	if (strcmp(k, "short_code") == 0)
		return get_digits(y, f, c->short_code, sizeof(c->short_code));
	if (strcmp(k, "keyword") == 0)
		return get_token(y, f, c->keyword, sizeof(c->keyword),
		    SMPP_YC_NONEMPTY);
	if (strcmp(k, "notify_source") == 0)
		return get_token(y, f, c->notify_source,
		    sizeof(c->notify_source), 0);
	if (strcmp(k, "app_link") == 0)
		return get_token(y, f, c->app_link, sizeof(c->app_link), 0);
	if (strcmp(k, "templates") == 0) {
		struct tpl_ctx tc = { c };

		return smpp_yc_walk_map(y, f, tpl_key, &tc);
	}
	if (strcmp(k, "flows") == 0)
		return smpp_yc_walk_map(y, f, flows_key, c);
	if (strcmp(k, "retention") == 0)
		return get_s(y, f, 1000, 3650 * DAY_MS, &c->retention_s);
	if (strcmp(k, "acked_retention") == 0)
		return get_s(y, f, 1000, 3650 * DAY_MS, &c->acked_retention_s);
	if (strcmp(k, "reassembly_timeout") == 0)
		return get_s(y, f, 1000, DAY_MS, &c->reassembly_timeout_s);
	if (strcmp(k, "max_per_msisdn") == 0)
		return smpp_yc_get_u32(y, f, 1, 1000000, &c->max_per_msisdn);
	if (strcmp(k, "max_devices") == 0)
		return smpp_yc_get_u32(y, f, 1, 32, &c->max_devices);
	if (strcmp(k, "max_message_bytes") == 0)
		return smpp_yc_get_u32(y, f, 1, 262144, &c->max_message_bytes);
	if (strcmp(k, "registration_ttl") == 0)
		return get_s(y, f, 60000, DAY_MS, &c->registration_ttl_s);
	if (strcmp(k, "otp") == 0)
		return smpp_yc_walk_map(y, f, otp_key, c);
	if (strcmp(k, "api_body_max") == 0)
		return smpp_yc_get_u32(y, f, 1024, 1048576, &c->api_body_max);
	if (strcmp(k, "cors_origins") == 0)
		return smpp_yc_walk_seq(y, f, origin_item, c);
	return SMPP_YC_UNKNOWN;
}

int
gw_config_secure_walk(struct smpp_yc *y, const char *path,
    struct sec_config *c)
{
	struct smpp_yc_mark m;

	smpp_yc_peek(y, &m);
	if (smpp_yc_walk_map(y, path, secure_key, c) != 0)
		return -1;
	if (c->otp_ttl_s > c->registration_ttl_s)
		return smpp_yc_error_at(y, &m, path, "otp.ttl is longer than "
		    "registration_ttl");
	return 0;
}

/* ---- an account's marking ----------------------------------------- */

static int
mark_key(struct smpp_yc *y, const char *k, const char *f, void *ctx)
{
	struct sec_mark_rule *r = ctx;
	const char *v;
	size_t len;
	char *end, q[160];
	unsigned long n;

	if (strcmp(k, "all") == 0)
		return smpp_yc_get_bool(y, f, &r->all);
	if (strcmp(k, "prefix") == 0) {
		/* may end in a space ("#secure "): quote it in YAML */
		if (smpp_yc_get_str(y, f, r->prefix, sizeof(r->prefix), 0) !=
		    0)
			return -1;
		for (const char *s = r->prefix; *s != '\0'; s++)
			if (*s < 0x20 || *s >= 0x7f)
				return smpp_yc_error(y, f, "expected printable "
				    "ASCII (it is compared with the start of "
				    "the decoded text)");
		return 0;
	}
	if (strcmp(k, "service_type") == 0)
		return get_token(y, f, r->service_type,
		    sizeof(r->service_type), 0);
	if (strcmp(k, "tlv") == 0) {
		/* true: the default tag 0x1501; false: off; or a tag */
		if (smpp_yc_get_scalar(y, f, &v, &len) != 0)
			return -1;
		if (strcmp(v, "true") == 0) {
			r->tlv_tag = 0x1501;
			return 0;
		}
		if (strcmp(v, "false") == 0) {
			r->tlv_tag = 0;
			return 0;
		}
		n = strtoul(v, &end, 0);
		if (len == 0 || *end != '\0' || n < VENDOR_TLV_MIN ||
		    n > VENDOR_TLV_MAX) {
			smpp_yc_quote(v, len, q, sizeof(q));
			return smpp_yc_error(y, f, "expected true, false or a "
			    "vendor TLV tag 0x1400..0x3FFF, got '%s'", q);
		}
		r->tlv_tag = (uint16_t)n;
		return 0;
	}
	return SMPP_YC_UNKNOWN;
}

int
gw_config_mark_walk(struct smpp_yc *y, const char *path,
    struct sec_mark_rule *r)
{
	memset(r, 0, sizeof(*r));
	if (smpp_yc_walk_map(y, path, mark_key, r) != 0)
		return -1;
	r->enabled = r->all || r->prefix[0] != '\0' ||
	    r->service_type[0] != '\0' || r->tlv_tag != 0;
	return 0;
}
