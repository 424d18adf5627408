/*
 * The sealgate daemon: owns the event loop and everything on it (storage,
 * listeners, links, admin HTTP), the configuration generations, and the
 * signals:
 *   SIGTERM/SIGINT  stop listening, refuse new submits, wait up to
 *                   drain_time for answers in flight (submits down,
 *                   receipts and MO up), then unbind every ESME and SMSC
 *                   session, wait for the unbinds (bounded), flush and
 *                   close storage, exit 0. A second signal exits at once.
 *   SIGHUP          reload: parse the file again; a bad one is refused
 *                   with a log line and the old one kept; a good one
 *                   becomes the current generation (accounts, routes, MO
 *                   routes, statuses, auth). Sessions keep the generation
 *                   they bound under until they close. Listener, storage
 *                   and link changes need a restart (logged).
 */
#ifndef GW_DAEMON_H
#define GW_DAEMON_H

#include "gateway/config.h"

/* Runs until a stop signal. Takes cfg. Returns the exit code (0 after a
 * clean stop, 1 when start-up failed). */
int gw_daemon_run(struct gw_config *cfg, const char *version);

#endif
