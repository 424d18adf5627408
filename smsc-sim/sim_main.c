/*
 * smsc-sim: an SMSC simulator with the handsets behind it. This file is
 * the process: command line, config, event loop, signals and an orderly
 * stop (unbind every session, let the output drain, free everything).
 * The SMPP side is sim_smsc.c, the control API and web page sim_http.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "smpp/log.h"
#include "sim.h"
#include "sim_appclient.h"
#include "sim_http.h"
#include "sim_moclient.h"
#include "sim_smsc.h"

#ifndef SIM_WEB_DIR
#define SIM_WEB_DIR "smsc-sim/web"
#endif

#define GRACE_S	3

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smsc-sim [-c FILE] [--smpp-port N] [--http-port N]\n"
	    "                [--tls-port N --tls-cert FILE --tls-key FILE]\n"
	    "                [--web-root DIR] [--log-level err|warn|info|debug]\n"
	    "                [--app-api URL] [--app-ca FILE] [--app-insecure]\n"
	    "       smsc-sim mo [--http-port N] --from MSISDN --to ADDR --text T\n"
	    "       smsc-sim app register|sync|reply|revoke|show MSISDN ... "
	    "(smsc-sim app --help)\n"
	    "An SMSC simulator: SMPP server (default 127.0.0.1:2776), "
	    "simulated handsets,\n"
	    "delivery receipts, MO injection and faults, with a control API "
	    "and web page\n"
	    "(default http://127.0.0.1:8776/). Without -c any system_id and "
	    "password bind.\n"
	    "The web page files come from --web-root, else $SMSC_SIM_WEB, "
	    "else the config's\n"
	    "http.web_root, else %s.\n", SIM_WEB_DIR);
}

struct runner {
	struct sim	*sim;
	struct event	*grace;
	int		 signalled;
};

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runner *r = arg;

	(void)fd;
	(void)what;
	/* Peers that did not answer the unbind are closed now. */
	for (struct sim_conn *c = r->sim->conns; c != NULL; c = c->next)
		smpp_session_close(c->s);
	event_base_loopexit(r->sim->base, &(struct timeval){ 1, 0 });
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct runner *r = arg;
	struct timeval tv = { GRACE_S, 0 };

	(void)what;
	if (r->signalled++) {
		event_base_loopexit(r->sim->base, NULL);
		return;
	}
	smpp_log(SMPP_LOG_INFO, "-", "sim", "stopping", "signal=%d", (int)sig);
	sim_smsc_stop(r->sim);
	if (r->sim->n_conns == 0)
		event_base_loopexit(r->sim->base, NULL);
	else
		event_add(r->grace, &tv);
}

static int
port_arg(const char *s, uint16_t *out, int allow0)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < (allow0 ? 0 : 1) || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "smpp-port", required_argument, NULL, 'p' },
		{ "http-port", required_argument, NULL, 'H' },
		{ "tls-port", required_argument, NULL, 'T' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "web-root", required_argument, NULL, 'w' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "app-api", required_argument, NULL, 'A' },
		{ "app-ca", required_argument, NULL, 'a' },
		{ "app-insecure", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sim_config cfg;
	const char *cfile = NULL, *web = NULL, *lvl = "info";
	const char *p_smpp = NULL, *p_http = NULL, *p_tls = NULL;
	const char *tcert = NULL, *tkey = NULL;
	const char *app_api = NULL, *app_ca = NULL;
	int app_insecure = 0;
	struct sim sim;
	struct runner run;
	struct sim_http *http = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	char err[512];
	int c, level, rc = 1;

	if (argc > 1 && strcmp(argv[1], "mo") == 0)
		return sim_moclient_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "app") == 0)
		return sim_appclient_main(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfile = optarg; break;
		case 'p': p_smpp = optarg; break;
		case 'H': p_http = optarg; break;
		case 'T': p_tls = optarg; break;
		case 'C': tcert = optarg; break;
		case 'K': tkey = optarg; break;
		case 'w': web = optarg; break;
		case 'l': lvl = optarg; break;
		case 'A': app_api = optarg; break;
		case 'a': app_ca = optarg; break;
		case 'I': app_insecure = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((level = smpp_log_level_parse(lvl)) < 0) {
		fprintf(stderr, "smsc-sim: --log-level: expected err, warn, "
		    "info or debug\n");
		return 2;
	}
	smpp_log_init("smsc-sim", (enum smpp_log_level)level, 0);
	sim_config_defaults(&cfg);
	if (cfile != NULL && sim_config_load(&cfg, cfile, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "smsc-sim: %s\n", err);
		sim_config_wipe(&cfg);
		return 2;
	}
	if ((p_smpp && port_arg(p_smpp, &cfg.smpp_port, 0) != 0) ||
	    (p_http && port_arg(p_http, &cfg.http_port, 0) != 0) ||
	    (p_tls && port_arg(p_tls, &cfg.tls_port, 1) != 0)) {
		fprintf(stderr, "smsc-sim: a port must be 1..65535\n");
		sim_config_wipe(&cfg);
		return 2;
	}
	if (app_api)
		snprintf(cfg.app.api_url, sizeof(cfg.app.api_url), "%s",
		    app_api);
	if (app_ca)
		snprintf(cfg.app.ca_file, sizeof(cfg.app.ca_file), "%s",
		    app_ca);
	if (app_insecure)
		cfg.app.insecure = 1;
	if (tcert)
		snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s", tcert);
	if (tkey)
		snprintf(cfg.tls_key, sizeof(cfg.tls_key), "%s", tkey);
	if (cfg.tls_port != 0 && (cfg.tls_cert[0] == '\0' ||
	    cfg.tls_key[0] == '\0')) {
		fprintf(stderr, "smsc-sim: --tls-port needs --tls-cert and "
		    "--tls-key\n");
		sim_config_wipe(&cfg);
		return 2;
	}
	if (web == NULL)
		web = getenv("SMSC_SIM_WEB");
	if (web == NULL || web[0] == '\0')
		web = cfg.web_root[0] ? cfg.web_root : SIM_WEB_DIR;
	signal(SIGPIPE, SIG_IGN);

	memset(&sim, 0, sizeof(sim));
	memset(&run, 0, sizeof(run));
	sim.cfg = &cfg;
	run.sim = &sim;
	if ((sim.base = event_base_new()) == NULL)
		goto out;
	if (sim_smsc_start(&sim) != 0)
		goto out;
	if ((http = sim_http_start(&sim, web)) == NULL)
		goto out;
	run.grace = evtimer_new(sim.base, grace_cb, &run);
	sigterm = evsignal_new(sim.base, SIGTERM, on_signal, &run);
	sigint = evsignal_new(sim.base, SIGINT, on_signal, &run);
	if (run.grace == NULL || sigterm == NULL || sigint == NULL ||
	    event_add(sigterm, NULL) != 0 || event_add(sigint, NULL) != 0)
		goto out;
	smpp_log(SMPP_LOG_INFO, "-", "sim", "ready", "smpp_port=%u "
	    "http_port=%u", cfg.smpp_port, cfg.http_port);
	event_base_dispatch(sim.base);
	rc = 0;
	smpp_log(SMPP_LOG_INFO, "-", "sim", "stopped", "sessions_left=%u",
	    sim.n_conns);
out:
	if (rc != 0)
		smpp_log(SMPP_LOG_ERR, "-", "sim", "start_failed", NULL);
	sim_http_free(http);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (run.grace)
		event_free(run.grace);
	if (sim.base) {
		/* Let freed sessions finish their deferred frees. */
		event_base_loop(sim.base, EVLOOP_NONBLOCK);
		sim_smsc_free(&sim);
		event_base_free(sim.base);
	}
	sim_config_wipe(&cfg);
	return rc;
}
