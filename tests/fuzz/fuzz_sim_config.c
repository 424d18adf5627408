/*
 * Fuzz target: the smsc-sim YAML config loader (sim_config_load_mem), the
 * one parser of the simulator that reads a file an operator wrote.
 * Properties: it returns 0 or -1 and never crashes; on -1 the message is
 * a terminated string naming the input ("name:line:column: ..."); on 0
 * every string is terminated within its field, every value is in the
 * range the loader promises, and loading the same bytes again over fresh
 * defaults gives the same struct (no state leaks between loads).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

static void
check_ok(const struct sim_config *c)
{
	if (!TERMINATED(c->smpp_host) || !TERMINATED(c->tls_cert) ||
	    !TERMINATED(c->tls_key) || !TERMINATED(c->smsc_system_id) ||
	    !TERMINATED(c->http_host) || !TERMINATED(c->web_root))
		abort();
	if (c->smpp_host[0] == '\0' || c->http_host[0] == '\0' ||
	    c->smsc_system_id[0] == '\0')
		abort();
	if (c->smpp_port == 0 || c->http_port == 0)
		abort();
	if (c->tls_port != 0 && (c->tls_cert[0] == '\0' ||
	    c->tls_key[0] == '\0'))
		abort();
	if (c->n_accounts > SIM_MAX_ACCOUNTS)
		abort();
	for (size_t i = 0; i < c->n_accounts; i++) {
		const struct sim_account_cfg *a = &c->accounts[i];

		if (!TERMINATED(a->system_id) || !TERMINATED(a->password) ||
		    a->system_id[0] == '\0')
			abort();
		if (a->binds == 0 || (a->binds & ~SIM_BIND_ALL) != 0 ||
		    a->window == 0)
			abort();
		if (sim_config_account(c, a->system_id,
		    strlen(a->system_id)) != a)
			abort();	/* duplicates must be refused */
	}
	if (c->inbox_size == 0 || c->max_handsets == 0 ||
	    c->default_window == 0)
		abort();
	if (c->receipts.delay_max_ms < c->receipts.delay_min_ms)
		abort();
	if (c->receipts.duplicate_pct > 100 || c->receipts.late_pct > 100 ||
	    c->faults.error_pct > 100)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim_config a, b;	/* large: keep off the stack */
	char err[512], err2[512];
	int rc, rc2;

	if (size > 65536)
		return 0;
	sim_config_defaults(&a);
	memset(err, 0x55, sizeof(err));
	rc = sim_config_load_mem(&a, "fuzz.yaml", data, size, err,
	    sizeof(err));
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1) {
		if (!TERMINATED(err) || strncmp(err, "fuzz.yaml:", 10) != 0)
			abort();
	} else {
		check_ok(&a);
	}
	sim_config_defaults(&b);
	rc2 = sim_config_load_mem(&b, "fuzz.yaml", data, size, err2,
	    sizeof(err2));
	if (rc2 != rc || (rc == 0 && memcmp(&a, &b, sizeof(a)) != 0) ||
	    (rc != 0 && strcmp(err, err2) != 0))
		abort();
	sim_config_wipe(&a);
	sim_config_wipe(&b);
	return 0;
}
