/*
 * smpp-bench's command line: one struct for both commands (send, load),
 * filled from argv with checked conversions. Everything in it is read
 * only once parsing is done. Strings point into argv.
 */
#ifndef BENCH_OPTS_H
#define BENCH_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_ids.h"
#include "bench_msg.h"

/* Exit codes, the same for both commands. */
#define BENCH_EXIT_OK		0
#define BENCH_EXIT_FAIL		1	/* refused, or errors over --max-errors */
#define BENCH_EXIT_USAGE	2
#define BENCH_EXIT_CONNECT	3	/* could not connect, TLS, bind */
#define BENCH_EXIT_ABORT	4	/* timeout, peer lost or silent */

enum bench_cmd {
	BENCH_CMD_SEND,
	BENCH_CMD_LOAD,
};

struct bench_opts {
	enum bench_cmd		 cmd;
	const char		*host;
	uint16_t		 port;
	const char		*system_id;
	const char		*password;
	const char		*system_type;
	uint32_t		 bind_cmd;	/* SMPP_BIND_* */
	int			 tls;
	const char		*ca;
	const char		*tls_host;
	const char		*from;
	const char		*to;
	const char		*text;
	enum bench_enc		 enc;
	enum bench_split	 split;
	uint8_t			 registered_delivery;
	const char		*service_type;
	struct bench_tlv	 tlvs[BENCH_MAX_TLVS];
	size_t			 n_tlvs;
	enum bench_id_match	 id_match;
	double			 wait_receipt_s;	/* send */
	double			 timeout_s;	/* whole run; 0 = derived */
	uint32_t		 response_timeout_ms;
	uint32_t		 enquire_link_ms;
	int			 log_level;

	/* load */
	uint64_t		 n;
	uint32_t		 window;
	uint32_t		 sessions;
	double			 rate;		/* submits/s; 0 = window only */
	double			 duration_s;	/* 0 = count mode */
	double			 warmup_s;	/* latency: skip the first */
	int			 json;
	uint64_t		 range_lo, range_hi;
	int			 range_width;	/* zero-pad to this */
	const char		*to_file;
	size_t			 text_size;
	double			 receipt_timeout_s;
	uint64_t		 max_errors;
	double			 max_errors_pct;	/* < 0: use max_errors */
	uint32_t		 retry_throttled;	/* tries after the first */
	uint32_t		 throttle_backoff_ms;
	int			 progress;	/* -1 auto (a terminal), 0, 1 */
	size_t			 max_pending;	/* receipt table size */
};

/* Parses argv (argv[0] is the command name). Returns 0, or -1 after
 * printing why to stderr. */
int bench_opts_parse(int argc, char **argv, enum bench_cmd cmd,
    struct bench_opts *o);
void bench_usage(FILE *f);

#endif
