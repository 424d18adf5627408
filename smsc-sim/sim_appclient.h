/*
 * `smsc-sim app ...`: drives the simulated handset app of a running
 * simulator through its control API (/api/handsets/{msisdn}/app...),
 * like `smsc-sim mo` does for MO injection.
 */
#ifndef SIM_APPCLIENT_H
#define SIM_APPCLIENT_H

/* argv[0] is "app". Returns the process exit code: 0 done, 1 the
 * simulator or the gateway said no (JSON printed), 2 usage error or the
 * simulator cannot be reached. */
int sim_appclient_main(int argc, char **argv);

#endif
