/*
 * Filling the notice and code templates (notify.h). The gateway's config
 * loader checks each template with sec_notify_check() so that a notice
 * can never be refused at run time for its length or a typo in a
 * placeholder.
 */
#include <stdio.h>
#include <string.h>

#include "secure/notify.h"
#include "smpp/text.h"

static const char *const names[] = { "sender", "ref", "link", "code" };

/* The placeholder at p ("{name}"): its index in names and its length,
 * or -1. */
static int
placeholder(const char *p, size_t *len)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (p[0] == '{' && strncmp(p + 1, names[i], n) == 0 &&
		    p[n + 1] == '}') {
			*len = n + 2;
			return (int)i;
		}
	}
	return -1;
}

int
sec_notify_fill(const char *tpl, const struct sec_notify_vars *v, char *out,
    size_t cap)
{
	const char *vals[4] = { v->sender, v->ref, v->link, v->code };
	size_t o = 0, plen;
	int k;

	if (cap == 0)
		return -1;
	for (const char *p = tpl; *p != '\0';) {
		const char *add = p;
		size_t n = 1;

		if (*p == '{' && (k = placeholder(p, &plen)) >= 0) {
			add = vals[k] != NULL ? vals[k] : "";
			n = strlen(add);
			p += plen;
		} else
			p++;
		if (o + n >= cap)
			return -1;
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
	return (int)o;
}

int
sec_notify_check(const char *tpl, const char *allowed, size_t link_len,
    char *err, size_t errlen)
{
	static const size_t longest[4] = { 20, SEC_REF_LEN, 0, 10 };
	size_t total = 0, plen;
	int k;

	if (*tpl == '\0') {
		snprintf(err, errlen, "empty");
		return -1;
	}
	if (smpp_text_utf8_check(tpl, strlen(tpl), NULL) != 0) {
		snprintf(err, errlen, "not valid UTF-8");
		return -1;
	}
	for (const char *p = tpl; *p != '\0';) {
		if (*p == '{' && (k = placeholder(p, &plen)) >= 0) {
			const char *a = strstr(allowed, names[k]);

			if (a == NULL) {
				snprintf(err, errlen, "{%s} has no value in "
				    "this text (allowed: %s)", names[k],
				    allowed);
				return -1;
			}
			total += k == 2 ? link_len : longest[k];
			p += plen;
			continue;
		}
		if (*p == '{') {
			const char *e = strchr(p, '}');
			int n = e != NULL && e - p < 24 ? (int)(e - p + 1) : 1;

			snprintf(err, errlen, "unknown placeholder '%.*s' "
			    "(known: {sender} {ref} {link} {code})", n, p);
			return -1;
		}
		total++;
		p++;
	}
	if (total >= SEC_NOTIFY_MAX) {
		snprintf(err, errlen, "longer than %d bytes once filled",
		    SEC_NOTIFY_MAX - 1);
		return -1;
	}
	return 0;
}

void
sec_notify_ref(const char *id, char out[SEC_REF_LEN + 1])
{
	size_t n = strlen(id);
	const char *p = n > SEC_REF_LEN ? id + n - SEC_REF_LEN : id;

	snprintf(out, SEC_REF_LEN + 1, "%s", p);
}
