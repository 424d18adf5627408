/*
 * Process-wide log sink: stderr (with a UTC timestamp and level) or
 * syslog. Lines are formatted into one buffer and written with a single
 * call, so lines of concurrent threads do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum smpp_log_level log_level = SMPP_LOG_INFO;
static int log_syslog;
static char log_prog[32] = "sealgate";

static const char *const level_names[] = { "err", "warn", "info", "debug" };

void
smpp_log_init(const char *progname, enum smpp_log_level level, int use_syslog)
{
	if (progname != NULL)
		snprintf(log_prog, sizeof(log_prog), "%s", progname);
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
smpp_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

int
smpp_log_enabled(enum smpp_log_level level)
{
	return level <= log_level;
}

void
smpp_log(enum smpp_log_level level, const char *id, const char *subsys,
    const char *event, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024];
	size_t n = 0;
	int r;

	if (level > log_level)
		return;
	if (!log_syslog) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s[%ld] %s ",
		    ts.tv_nsec / 1000000, log_prog, (long)getpid(),
		    level_names[level]);
		if (r > 0)
			n += (size_t)r;
	}
	r = snprintf(line + n, sizeof(line) - n, "%s %s %s",
	    id != NULL ? id : "-", subsys, event);
	if (r > 0)
		n += (size_t)r;
	if (fmt != NULL && n < sizeof(line) - 1) {
		va_list ap;

		line[n++] = ' ';
		va_start(ap, fmt);
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (log_syslog) {
		line[n] = '\0';
		syslog(prio[level], "%s", line);
		return;
	}
	line[n++] = '\n';
	/* One write per line; a short write to stderr is not worth a retry. */
	(void)!write(STDERR_FILENO, line, n);
}

char *
smpp_log_escape(const void *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t o = 0;

	if (cap == 0)
		return out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		int plain = c > 0x20 && c < 0x7f && c != '=' && c != '\\';
		size_t need = plain ? 1 : 4;

		if (o + need + 4 > cap) {	/* room for "..." and NUL */
			if (cap >= 4) {
				memcpy(out + (o < cap - 4 ? o : cap - 4), "...", 3);
				o = (o < cap - 4 ? o : cap - 4) + 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o < cap ? o : cap - 1] = '\0';
	return out;
}
