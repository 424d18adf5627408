/*
 * smpp-bench: the ESME side of Sealgate's test tools. `send` submits one
 * message and reports its response and receipt; `load` drives a bounded
 * load and reports throughput and latency. See bench_opts.c for the
 * options and bench_send.c / bench_load.c for the two commands.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "smpp/log.h"
#include "smpp/tls.h"

#include "bench_load.h"
#include "bench_opts.h"
#include "bench_send.h"

int
main(int argc, char **argv)
{
	static struct bench_opts o;
	enum bench_cmd cmd;
	SSL_CTX *tls = NULL;
	char err[256];
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		bench_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? BENCH_EXIT_USAGE : BENCH_EXIT_OK;
	}
	if (strcmp(argv[1], "send") == 0)
		cmd = BENCH_CMD_SEND;
	else if (strcmp(argv[1], "load") == 0)
		cmd = BENCH_CMD_LOAD;
	else {
		fprintf(stderr, "smpp-bench: unknown command '%s' (send or "
		    "load; --help)\n", argv[1]);
		return BENCH_EXIT_USAGE;
	}
	if (bench_opts_parse(argc - 1, argv + 1, cmd, &o) != 0)
		return BENCH_EXIT_USAGE;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	smpp_log_init("smpp-bench", (enum smpp_log_level)o.log_level, 0);
	if (o.tls) {
		tls = smpp_tls_client_ctx(o.ca, NULL, NULL, err, sizeof(err));
		if (tls == NULL) {
			fprintf(stderr, "smpp-bench: TLS set-up: %s\n", err);
			return BENCH_EXIT_CONNECT;
		}
	}
	rc = cmd == BENCH_CMD_SEND ? bench_send_run(&o, tls) :
	    bench_load_run(&o, tls);
	SSL_CTX_free(tls);
	return rc;
}
