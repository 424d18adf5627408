/*
 * Logging for every Sealgate process. One line per event, in the grammar
 * of STYLE.md:  <id> <subsystem> <event> key=value ...
 * The id is the session or message the line is about ("-" if none).
 * Values that came from outside go through smpp_log_escape(). Never pass
 * an OTP, a key, a token, a password or a message body.
 *
 * The level and destination are process-wide, set once at start-up.
 */
#ifndef SMPP_LOG_H
#define SMPP_LOG_H

#include <stddef.h>

enum smpp_log_level {
	SMPP_LOG_ERR,
	SMPP_LOG_WARN,
	SMPP_LOG_INFO,
	SMPP_LOG_DEBUG,
};

/* Lines above level are dropped. use_syslog 0: stderr with a timestamp. */
void smpp_log_init(const char *progname, enum smpp_log_level level,
    int use_syslog);
/* "err", "warn", "info", "debug" -> level; -1 if unknown. */
int smpp_log_level_parse(const char *name);
int smpp_log_enabled(enum smpp_log_level level);

/* fmt continues the line after "<id> <subsystem> <event>" (may be NULL). */
void smpp_log(enum smpp_log_level level, const char *id, const char *subsys,
    const char *event, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Copies len bytes of outside input into out (cap bytes, NUL-terminated),
 * printable ASCII as is and everything else (and spaces, '=', '\\') as
 * \xHH; truncated with "..." if it does not fit. Returns out. */
char *smpp_log_escape(const void *in, size_t len, char *out, size_t cap);

#endif
