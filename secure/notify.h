/*
 * Notice and code texts: the templates of struct sec_config filled in.
 * Placeholders are {sender} (the sender's source address), {ref} (a
 * short reference of the message: the last 6 characters of its id),
 * {link} (the app link from the config) and {code} (a one-time code).
 * The content of a secure message is never a placeholder.
 *
 * Pure functions. Return convention: a length, or -1.
 */
#ifndef SEC_NOTIFY_H
#define SEC_NOTIFY_H

#include <stddef.h>

/* A filled text is at most this many bytes (UTF-8): 10 UCS-2 parts. */
#define SEC_NOTIFY_MAX	1024
#define SEC_REF_LEN	6

struct sec_notify_vars {
	const char	*sender;	/* NULL: "" */
	const char	*ref;
	const char	*link;
	const char	*code;
};

/* Fills tpl into out (cap bytes, NUL-terminated); an unknown {name} is
 * copied as written. Returns the length, or -1 if it does not fit. */
int sec_notify_fill(const char *tpl, const struct sec_notify_vars *v,
    char *out, size_t cap);

/* Checks a template for the config loader: valid UTF-8, not empty, only
 * the placeholders named in allowed (e.g. "sender,ref,link"), and at most
 * SEC_NOTIFY_MAX bytes once filled with the longest values (sender 20,
 * ref 6, link link_len, code 10). 0, or -1 with a reason in err. */
int sec_notify_check(const char *tpl, const char *allowed, size_t link_len,
    char *err, size_t errlen);

/* The short reference of a message id: its last SEC_REF_LEN characters
 * (all of it when shorter), into out (SEC_REF_LEN + 1). */
void sec_notify_ref(const char *id, char out[SEC_REF_LEN + 1]);

#endif
