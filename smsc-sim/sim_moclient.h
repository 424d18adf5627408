/*
 * `smsc-sim mo ...`: injects an MO through a running simulator's control
 * API (POST /api/mo) with libevent's HTTP client; no curl needed.
 */
#ifndef SIM_MOCLIENT_H
#define SIM_MOCLIENT_H

/* argv[0] is "mo". Returns the process exit code (0 on HTTP 200). */
int sim_moclient_main(int argc, char **argv);

#endif
