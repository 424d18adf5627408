/*
 * The daemon's start, signals and stop (see daemon.h). Stop is a small
 * state machine driven by one timer:
 *   RUNNING -> DRAIN (answers in flight) -> UNBIND (sessions closing)
 *           -> DONE (loop exits; storage closed after the loop)
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "db/store.h"
#include "gateway/admin.h"
#include "gateway/auth.h"
#include "gateway/daemon.h"
#include "gateway/deliver.h"
#include "gateway/downstream.h"
#include "gateway/rcache.h"
#include "gateway/secure_glue.h"
#include "gateway/upstream.h"
#include "gateway/verify.h"
#include "smpp/log.h"

#define ERR_CAP		8192
#define TICK_MS		20
#define UNBIND_MAX_MS	6000	/* session unbind timeout (5 s) + slack */
#define PURGE_EVERY_S	600
#define PURGE_MAX	10000

enum { PH_RUNNING, PH_DRAIN, PH_UNBIND, PH_DONE };
static const char *const phase_names[] = {
	"running", "drain", "unbind", "done",
};

struct daemon {
	struct gw_ctx	 ctx;
	int		 phase;
	int64_t		 deadline;	/* of the current phase (mono ms) */
};

static void
enter_phase(struct daemon *d, int ph, int64_t ms)
{
	smpp_log(SMPP_LOG_INFO, "-", "daemon", "phase", "from=%s to=%s",
	    phase_names[d->phase], phase_names[ph]);
	d->phase = ph;
	d->deadline = gw_mono_ms() + ms;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct gw_ctx *ctx = &d->ctx;
	struct timeval tv = { 0, TICK_MS * 1000 };
	int64_t now = gw_mono_ms();

	(void)fd;
	(void)what;
	if (d->phase == PH_DRAIN) {
		if ((ctx->submits_in_flight == 0 && ctx->dlr_in_flight == 0 &&
		    ctx->msgops_in_flight == 0) || now >= d->deadline) {
			if (ctx->submits_in_flight != 0 ||
			    ctx->dlr_in_flight != 0)
				smpp_log(SMPP_LOG_WARN, "-", "daemon",
				    "drain_timeout", "submits=%llu "
				    "deliveries=%llu", (unsigned long long)
				    ctx->submits_in_flight,
				    (unsigned long long)ctx->dlr_in_flight);
			gw_upstream_unbind_all(ctx);
			gw_downstream_stop(ctx);
			enter_phase(d, PH_UNBIND, UNBIND_MAX_MS);
		}
	} else if (d->phase == PH_UNBIND) {
		if ((ctx->n_esmes == 0 && gw_downstream_live(ctx) == 0) ||
		    now >= d->deadline) {
			enter_phase(d, PH_DONE, 0);
			/* a moment for closes already scheduled to run */
			tv.tv_usec = 100000;
			event_base_loopexit(ctx->base, &tv);
			return;
		}
	}
	if (d->phase != PH_DONE)
		evtimer_add(ctx->drain_timer, &tv);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct gw_ctx *ctx = &d->ctx;
	struct timeval tv = { 0, 0 };

	(void)what;
	if (d->phase != PH_RUNNING) {
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "stop_now",
		    "signal=%d", (int)sig);
		event_base_loopexit(ctx->base, NULL);
		return;
	}
	smpp_log(SMPP_LOG_INFO, "-", "daemon", "stopping",
	    "signal=%d drain_ms=%u", (int)sig, ctx->gen->cfg->drain_ms);
	ctx->draining = true;
	gw_upstream_stop_listening(ctx);
	gw_admin_stop(ctx);
	enter_phase(d, PH_DRAIN, ctx->gen->cfg->drain_ms);
	evtimer_add(ctx->drain_timer, &tv);
}

/* What a reload cannot change, as a log line for the operator. */
static void
reload_warnings(const struct gw_config *old, const struct gw_config *nw)
{
	if (memcmp(&old->listeners, &nw->listeners, sizeof(old->listeners))
	    != 0)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "reload_partial",
		    "what=listeners needs=restart");
	if (strcmp(old->storage.url, nw->storage.url) != 0 ||
	    old->storage.queue_max != nw->storage.queue_max ||
	    old->storage.batch_max != nw->storage.batch_max ||
	    old->storage.reconnect_min_ms != nw->storage.reconnect_min_ms ||
	    old->storage.reconnect_max_ms != nw->storage.reconnect_max_ms ||
	    old->storage.timeout_s != nw->storage.timeout_s)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "reload_partial",
		    "what=storage needs=restart");
	if (old->log.syslog != nw->log.syslog)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "reload_partial",
		    "what=log.syslog needs=restart");
	if (old->instance_id_set != nw->instance_id_set ||
	    old->instance_id != nw->instance_id)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "reload_partial",
		    "what=instance_id needs=restart");
	if (memcmp(&old->secure, &nw->secure, sizeof(old->secure)) != 0)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "reload_partial",
		    "what=secure needs=restart");
	if (old->n_links != nw->n_links)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "reload_partial",
		    "what=links needs=restart");
	else
		for (size_t i = 0; i < old->n_links; i++)
			if (memcmp(&old->links[i], &nw->links[i],
			    offsetof(struct gw_link, mark)) != 0) {
				smpp_log(SMPP_LOG_WARN, nw->links[i].name,
				    "daemon", "reload_partial",
				    "what=link needs=restart");
			}
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct gw_ctx *ctx = &d->ctx;
	struct gw_config *cfg;
	struct gw_gen *g;
	char *err = malloc(ERR_CAP);

	(void)sig;
	(void)what;
	if (err == NULL)
		return;
	if (gw_config_load(ctx->gen->cfg->path, &cfg, err, ERR_CAP) != 0) {
		/* one line per error: the file's own words, no secrets
		 * (config.h promises errors never echo them) */
		for (char *line = strtok(err, "\n"); line != NULL;
		    line = strtok(NULL, "\n"))
			smpp_log(SMPP_LOG_ERR, "-", "daemon", "reload_refused",
			    "error=\"%s\"", line);
		ctx->reloads_failed++;
		free(err);
		return;
	}
	free(err);
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->links = calloc(cfg->n_links + 1, sizeof(*g->links))) == NULL) {
		free(g);
		gw_config_free(cfg);
		ctx->reloads_failed++;
		return;
	}
	g->cfg = cfg;
	g->refs = 1;
	g->number = ctx->gen->number + 1;
	for (size_t i = 0; i < cfg->n_links; i++)
		for (size_t k = 0; k < ctx->n_links; k++)
			if (strcmp(ctx->links[k]->cfg.name,
			    cfg->links[i].name) == 0)
				g->links[i] = ctx->links[k];
	reload_warnings(ctx->gen->cfg, cfg);
	if (cfg->log.level != ctx->gen->cfg->log.level) {
		/* the destination stays: syslog needs a restart (above) */
		smpp_log_init(NULL, (enum smpp_log_level)cfg->log.level,
		    ctx->gen->cfg->log.syslog);
		smpp_log(SMPP_LOG_INFO, "-", "daemon", "log_level",
		    "level=%d", (int)cfg->log.level);
	}
	gw_gen_release(ctx->gen);
	ctx->gen = g;
	ctx->reloads_ok++;
	smpp_log(SMPP_LOG_INFO, "-", "daemon", "reloaded",
	    "generation=%llu accounts=%zu routes=%zu mo_routes=%zu",
	    (unsigned long long)g->number, cfg->n_accounts, cfg->n_routes,
	    cfg->n_mo_routes);
}

/*
 * The purge of id mappings: closed ones after storage.retention, open
 * ones (no final receipt ever came) after storage.open_retention. Each
 * runs in rounds of PURGE_MAX rows, the next round queued from the
 * previous one's callback while rounds come back full, so a large
 * backlog is cleared without one huge transaction. purge_open: a late
 * receipt for a purged open mapping is then an unknown receipt.
 */
enum { PURGE_CLOSED, PURGE_OPEN };
static void purge_round(struct gw_ctx *ctx, int which);

static void
on_purged_closed(void *arg, enum db_status st, int64_t n)
{
	struct gw_ctx *ctx = arg;

	if (st == DB_OK && n > 0)
		smpp_log(SMPP_LOG_INFO, "-", "daemon", "purged",
		    "rows=%lld which=closed", (long long)n);
	else if (st != DB_OK)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "purge_failed",
		    "which=closed db=%s", db_status_name(st));
	if (st == DB_OK && n == PURGE_MAX && !ctx->draining)
		purge_round(ctx, PURGE_CLOSED);
}

static void
on_purged_open(void *arg, enum db_status st, int64_t n)
{
	struct gw_ctx *ctx = arg;

	if (st == DB_OK && n > 0)
		smpp_log(SMPP_LOG_INFO, "-", "daemon", "purged",
		    "rows=%lld which=open", (long long)n);
	else if (st != DB_OK)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "purge_failed",
		    "which=open db=%s", db_status_name(st));
	if (st == DB_OK && n == PURGE_MAX && !ctx->draining)
		purge_round(ctx, PURGE_OPEN);
}

static void
purge_round(struct gw_ctx *ctx, int which)
{
	const struct gw_storage *s = &ctx->gen->cfg->storage;
	int64_t now = gw_now_ms();

	if (ctx->store == NULL)
		return;
	if (which == PURGE_CLOSED)
		(void)db_idmap_purge(ctx->store, now -
		    (int64_t)s->retention_s * 1000, PURGE_MAX,
		    on_purged_closed, ctx);
	else
		(void)db_idmap_purge_open(ctx->store, now -
		    (int64_t)s->open_retention_s * 1000, PURGE_MAX,
		    on_purged_open, ctx);
}

static void
on_purge(evutil_socket_t fd, short what, void *arg)
{
	struct gw_ctx *ctx = arg;

	(void)fd;
	(void)what;
	purge_round(ctx, PURGE_CLOSED);
	purge_round(ctx, PURGE_OPEN);
}

/* Purge every PURGE_EVERY_S, or half the shorter retention when that is
 * shorter (at least 1 s), so a short retention is kept to roughly. */
static struct timeval
purge_interval(const struct gw_config *cfg)
{
	uint32_t s = cfg->storage.retention_s;
	struct timeval tv = { PURGE_EVERY_S, 0 };

	if (cfg->storage.open_retention_s < s)
		s = cfg->storage.open_retention_s;
	s /= 2;
	if (s < 1)
		s = 1;
	if (s < PURGE_EVERY_S)
		tv.tv_sec = s;
	return tv;
}

static void
on_counted(void *arg, enum db_status st, int64_t n)
{
	struct gw_acct *a = arg;

	/* the count ran before any fetch or push of this account (jobs
	 * run in order); a push already seen has set the state */
	if (st != DB_OK || a->qstate != GW_Q_UNKNOWN || a->pushes != 0)
		return;
	a->queued = n;
	a->qstate = n > 0 ? GW_Q_NONEMPTY : GW_Q_EMPTY;
	if (n > 0)
		smpp_log(SMPP_LOG_INFO, a->name, "daemon", "queued_from_before",
		    "rows=%lld", (long long)n);
}

/* SQLite wants its directory: make the last level (var/) if missing. */
static void
make_db_dir(const char *url)
{
	const char *path = url, *slash;
	char dir[GW_URL_SIZE];
	size_t n;

	if (strncmp(url, "mariadb:", 8) == 0)
		return;
	if (strncmp(url, "sqlite:", 7) == 0)
		path = url + 7;
	if ((slash = strrchr(path, '/')) == NULL || slash == path)
		return;
	n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		smpp_log(SMPP_LOG_WARN, "-", "daemon", "mkdir_failed",
		    "errno=%d", errno);
}

static int
start(struct daemon *d, struct gw_config *cfg)
{
	struct gw_ctx *ctx = &d->ctx;
	struct db_store_opts o;
	struct timeval purge = purge_interval(cfg);
	char err[512];

	if ((ctx->gen = calloc(1, sizeof(*ctx->gen))) == NULL ||
	    (ctx->gen->links = calloc(cfg->n_links + 1,
	    sizeof(*ctx->gen->links))) == NULL) {
		free(ctx->gen);
		ctx->gen = NULL;
		gw_config_free(cfg);
		return -1;
	}
	ctx->gen->cfg = cfg;
	ctx->gen->refs = 1;
	ctx->gen->number = 1;
	gw_msgid_init(&ctx->msgid, cfg->instance_id_set ? cfg->instance_id :
	    gw_config_default_instance_id());
	db_store_opts_default(&o);
	o.queue_max = cfg->storage.queue_max;
	o.batch_max = cfg->storage.batch_max;
	o.reconnect_min_ms = cfg->storage.reconnect_min_ms;
	o.reconnect_max_ms = cfg->storage.reconnect_max_ms;
	o.timeout_s = cfg->storage.timeout_s;
	make_db_dir(cfg->storage.url);
	ctx->store = db_store_open(ctx->base, cfg->storage.url, &o, err,
	    sizeof(err));
	if (ctx->store == NULL) {
		smpp_log(SMPP_LOG_ERR, "-", "daemon", "storage_failed",
		    "why=\"%s\"", err);
		return -1;
	}
	smpp_log(SMPP_LOG_INFO, "-", "daemon", "storage_open", "backend=%s",
	    db_store_backend(ctx->store));
	/* what each account has queued from an earlier run: an empty queue
	 * lets deliveries go straight up at once */
	for (size_t i = 0; i < cfg->n_accounts; i++) {
		struct gw_acct *a = gw_acct_get(ctx,
		    cfg->accounts[i].system_id, true);

		if (a != NULL)
			(void)db_pending_count(ctx->store, a->name, on_counted,
			    a);
	}
	if ((ctx->hints = calloc(GW_HINT_SLOTS, sizeof(*ctx->hints))) == NULL ||
	    (ctx->verifier = gw_verifier_new(ctx->base)) == NULL ||
	    (ctx->guard = gw_auth_guard_new()) == NULL ||
	    (ctx->auth_cache = gw_auth_cache_new()) == NULL)
		return -1;
	/* the secure service before the listeners: a marked submit needs it */
	if (gw_secure_start(ctx) != 0)
		return -1;
	if (gw_downstream_start(ctx) != 0 || gw_upstream_start(ctx) != 0 ||
	    gw_admin_start(ctx) != 0)
		return -1;
	ctx->sig_term = evsignal_new(ctx->base, SIGTERM, on_term, d);
	ctx->sig_int = evsignal_new(ctx->base, SIGINT, on_term, d);
	ctx->sig_hup = evsignal_new(ctx->base, SIGHUP, on_hup, d);
	ctx->drain_timer = evtimer_new(ctx->base, on_tick, d);
	ctx->purge_timer = event_new(ctx->base, -1, EV_PERSIST, on_purge,
	    ctx);
	if (ctx->sig_term == NULL || ctx->sig_int == NULL ||
	    ctx->sig_hup == NULL || ctx->drain_timer == NULL ||
	    ctx->purge_timer == NULL || evsignal_add(ctx->sig_term, NULL) ||
	    evsignal_add(ctx->sig_int, NULL) ||
	    evsignal_add(ctx->sig_hup, NULL) ||
	    evtimer_add(ctx->purge_timer, &purge))
		return -1;
	smpp_log(SMPP_LOG_INFO, "-", "daemon", "started",
	    "version=%s instance=%u accounts=%zu links=%zu", ctx->version,
	    ctx->msgid.instance, cfg->n_accounts, cfg->n_links);
	return 0;
}

static void
free_event(struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
}

static void
stop(struct daemon *d)
{
	struct gw_ctx *ctx = &d->ctx;

	gw_upstream_stop_listening(ctx);
	gw_admin_stop(ctx);
	if (d->phase == PH_RUNNING)
		gw_downstream_stop(ctx);
	/* the worker finishes every accepted job; their callbacks run
	 * here and may still touch accounts and links */
	gw_verifier_free(ctx->verifier);
	db_store_close(ctx->store);
	ctx->store = NULL;
	/* after the store: its last callbacks may still reach the service */
	gw_secure_free(ctx);
	free_event(&ctx->sig_term);
	free_event(&ctx->sig_int);
	free_event(&ctx->sig_hup);
	free_event(&ctx->drain_timer);
	free_event(&ctx->purge_timer);
	gw_auth_guard_free(ctx->guard);
	gw_auth_cache_free(ctx->auth_cache);
	free(ctx->hints);
	gw_rcache_free(ctx);
	for (size_t h = 0; h < GW_ACCT_BUCKETS; h++)
		while (ctx->accts[h] != NULL) {
			struct gw_acct *a = ctx->accts[h];

			ctx->accts[h] = a->next;
			gw_deliver_acct_free(a);
			free(a);
		}
	gw_gen_release(ctx->gen);
}

int
gw_daemon_run(struct gw_config *cfg, const char *version)
{
	struct daemon d;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	smpp_log_init("sealgate", (enum smpp_log_level)cfg->log.level,
	    cfg->log.syslog);
	signal(SIGPIPE, SIG_IGN);
	d.ctx.version = version;
	d.ctx.started_ms = gw_mono_ms();
	if ((d.ctx.base = event_base_new()) == NULL) {
		gw_config_free(cfg);
		return 1;
	}
	if (start(&d, cfg) != 0) {
		smpp_log(SMPP_LOG_ERR, "-", "daemon", "start_failed", NULL);
		rc = 1;
	} else
		event_base_dispatch(d.ctx.base);
	stop(&d);
	/* sessions that did not close in time are left to process exit */
	gw_downstream_free(&d.ctx);
	event_base_free(d.ctx.base);
	smpp_log(SMPP_LOG_INFO, "-", "daemon", "exit", "rc=%d", rc);
	return rc;
}
