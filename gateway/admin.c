/*
 * Admin HTTP: /metrics and /status (see admin.h). Handlers read the
 * daemon's counters on the loop thread, so no locking; storage counters
 * come from db_store_stats (a locked copy).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "db/store.h"
#include "gateway/admin.h"
#include "gateway/downstream.h"
#include "gateway/msgops.h"
#include "secure/secure.h"
#include "smpp/log.h"
#include "smpp/session.h"

static void
status_counts(struct evbuffer *b, const char *name, const char *label,
    const char *who, const struct gw_status_counts *c)
{
	for (size_t i = 0; i < GW_STATUS_SLOTS && c->count[i] != 0; i++) {
		const char *sn = gw_status_name(c->status[i]);

		if (sn != NULL)
			evbuffer_add_printf(b, "%s{%s=\"%s\",status=\"%s\"} "
			    "%llu\n", name, label, who, sn,
			    (unsigned long long)c->count[i]);
		else
			evbuffer_add_printf(b, "%s{%s=\"%s\",status=\"0x%08x\"} "
			    "%llu\n", name, label, who, c->status[i],
			    (unsigned long long)c->count[i]);
	}
	if (c->other != 0)
		evbuffer_add_printf(b, "%s{%s=\"%s\",status=\"other\"} %llu\n",
		    name, label, who, (unsigned long long)c->other);
}

static void
help(struct evbuffer *b, const char *name, const char *type,
    const char *text)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text,
	    name, type);
}

/* One account's series of a latency histogram (cumulative buckets). */
static void
histogram(struct evbuffer *b, const char *name, const char *account,
    const struct gw_latency *l)
{
	uint64_t cum = 0;

	for (size_t i = 0; i <= GW_LAT_BUCKETS; i++) {
		cum += l->bucket[i];
		if (i < GW_LAT_BUCKETS)
			evbuffer_add_printf(b, "%s_bucket{account=\"%s\","
			    "le=\"%g\"} %llu\n", name, account,
			    gw_lat_bounds_us[i] / 1e6, (unsigned long long)cum);
		else
			evbuffer_add_printf(b, "%s_bucket{account=\"%s\","
			    "le=\"+Inf\"} %llu\n", name, account,
			    (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "%s_sum{account=\"%s\"} %.6f\n"
	    "%s_count{account=\"%s\"} %llu\n", name, account, l->sum_s,
	    name, account, (unsigned long long)l->count);
}

/*
 * Per-account and per-link series. The text format wants every line of a
 * family in one group, after its HELP and TYPE: so families are the
 * outer loop and accounts (links) the inner one.
 */
enum acct_value {
	AV_BINDS, AV_BINDS_OK, AV_BINDS_FAILED, AV_RCPT_SENT, AV_RCPT_QUEUED,
	AV_MO_SENT, AV_MO_QUEUED, AV_QUEUE_DEPTH, AV_IN_FLIGHT, AV_WAITING,
	AV_HELD, AV_HELD_TOTAL, AV_WAITED_OUT,
};

static long long
acct_value(const struct gw_acct *a, enum acct_value v)
{
	switch (v) {
	case AV_BINDS:		return a->n_binds;
	case AV_BINDS_OK:	return (long long)a->binds_ok;
	case AV_BINDS_FAILED:	return (long long)a->binds_failed;
	case AV_RCPT_SENT:	return (long long)a->receipts_sent;
	case AV_RCPT_QUEUED:	return (long long)a->receipts_queued;
	case AV_MO_SENT:	return (long long)a->mo_sent;
	case AV_MO_QUEUED:	return (long long)a->mo_queued;
	case AV_QUEUE_DEPTH:	return a->queued;
	case AV_IN_FLIGHT:	return (long long)a->in_flight;
	case AV_WAITING:	return a->n_wait;
	case AV_HELD:		return a->n_held;
	case AV_HELD_TOTAL:	return (long long)a->resp_waits;
	case AV_WAITED_OUT:	return (long long)a->waited_out;
	}
	return 0;
}

/* A family of one or two series per account: label (NULL: none) takes
 * l1 for v1 and l2 for v2. */
#define ACCT_SCALAR(name, type, help, v) \
	{ name, type, help, NULL, NULL, NULL, v, v }

static const struct acct_family {
	const char *name, *type, *help, *label, *l1, *l2;
	enum acct_value v1, v2;
} acct_families[] = {
	ACCT_SCALAR("sealgate_account_binds", "gauge",
	    "bound ESME sessions", AV_BINDS),
	{ "sealgate_account_bind_total", "counter", "binds by result",
	    "result", "ok", "failed", AV_BINDS_OK, AV_BINDS_FAILED },
	{ "sealgate_account_receipts_total", "counter",
	    "receipts delivered or queued", "how", "sent", "queued",
	    AV_RCPT_SENT, AV_RCPT_QUEUED },
	{ "sealgate_account_mo_total", "counter", "MO delivered or queued",
	    "how", "sent", "queued", AV_MO_SENT, AV_MO_QUEUED },
	ACCT_SCALAR("sealgate_account_queue_depth", "gauge",
	    "receipts and MO queued in storage (since start)",
	    AV_QUEUE_DEPTH),
	ACCT_SCALAR("sealgate_account_in_flight", "gauge",
	    "submits sent down, not yet answered", AV_IN_FLIGHT),
	ACCT_SCALAR("sealgate_account_deliver_waiting", "gauge",
	    "receipts and MO in memory waiting for room on a bound"
	    " receiver (the SMSC not answered yet)", AV_WAITING),
	ACCT_SCALAR("sealgate_account_deliver_held", "gauge",
	    "receipts in memory held until their submit_sm_resp is"
	    " written", AV_HELD),
	ACCT_SCALAR("sealgate_account_deliver_held_total", "counter",
	    "receipts held for their submit_sm_resp", AV_HELD_TOTAL),
	ACCT_SCALAR("sealgate_account_deliver_waited_out_total", "counter",
	    "deliveries queued in storage after waiting in memory too long",
	    AV_WAITED_OUT),
};

#define FOR_ACCTS(ctx, a)						\
	for (size_t h_ = 0; h_ < GW_ACCT_BUCKETS; h_++)			\
		for (struct gw_acct *a = (ctx)->accts[h_]; a != NULL;	\
		    a = a->next)

static void
metrics_accounts(struct gw_ctx *ctx, struct evbuffer *b)
{
	for (size_t i = 0; i < sizeof(acct_families) /
	    sizeof(acct_families[0]); i++) {
		const struct acct_family *f = &acct_families[i];

		help(b, f->name, f->type, f->help);
		FOR_ACCTS(ctx, a) {
			if (f->label == NULL) {
				evbuffer_add_printf(b, "%s{account=\"%s\"} "
				    "%lld\n", f->name, a->name,
				    acct_value(a, f->v1));
				continue;
			}
			evbuffer_add_printf(b, "%s{account=\"%s\",%s=\"%s\"}"
			    " %lld\n%s{account=\"%s\",%s=\"%s\"} %lld\n",
			    f->name, a->name, f->label, f->l1,
			    acct_value(a, f->v1), f->name, a->name, f->label,
			    f->l2, acct_value(a, f->v2));
		}
	}
	help(b, "sealgate_account_submits_total", "counter",
	    "submit_sm answered, by command_status");
	FOR_ACCTS(ctx, a)
		status_counts(b, "sealgate_account_submits_total", "account",
		    a->name, &a->submits);
	help(b, "sealgate_submit_latency_seconds", "histogram",
	    "submit_sm to submit_sm_resp through the gateway");
	FOR_ACCTS(ctx, a)
		histogram(b, "sealgate_submit_latency_seconds", a->name,
		    &a->submit_latency);
	help(b, "sealgate_submit_added_seconds", "histogram",
	    "submit_sm to submit_sm_resp less the wait for the SMSC's"
	    " response: the time the gateway itself adds");
	FOR_ACCTS(ctx, a)
		histogram(b, "sealgate_submit_added_seconds", a->name,
		    &a->submit_added);
}

enum link_value {
	LV_BOUND, LV_BINDS, LV_SUBMITS, LV_TIMEOUTS, LV_LOST, LV_RECEIPTS,
	LV_MO, LV_IN_FLIGHT,
};

static unsigned long long
link_value(const struct gw_link_rt *l, enum link_value v)
{
	switch (v) {
	case LV_BOUND:		return l->n_bound;
	case LV_BINDS:		return l->binds;
	case LV_SUBMITS:	return l->submits_sent;
	case LV_TIMEOUTS:	return l->timeouts;
	case LV_LOST:		return l->lost;
	case LV_RECEIPTS:	return l->receipts;
	case LV_MO:		return l->mo;
	case LV_IN_FLIGHT:	return l->in_flight;
	}
	return 0;
}

static const struct link_family {
	const char *name, *type, *help;
	enum link_value v;
} link_families[] = {
	{ "sealgate_link_bound_sessions", "gauge",
	    "bound sessions of the link", LV_BOUND },
	{ "sealgate_link_binds_total", "counter",
	    "successful binds of the link's sessions", LV_BINDS },
	{ "sealgate_link_submits_total", "counter",
	    "submit_sm sent on the link", LV_SUBMITS },
	{ "sealgate_link_timeouts_total", "counter",
	    "submit_sm the SMSC did not answer in time", LV_TIMEOUTS },
	{ "sealgate_link_lost_total", "counter",
	    "submit_sm in flight on a session that was lost", LV_LOST },
	{ "sealgate_link_receipts_total", "counter",
	    "receipts that came in on the link", LV_RECEIPTS },
	{ "sealgate_link_mo_total", "counter",
	    "MO that came in on the link", LV_MO },
	{ "sealgate_link_in_flight", "gauge",
	    "submit_sm sent, not yet answered", LV_IN_FLIGHT },
};

static void
metrics_links(struct gw_ctx *ctx, struct evbuffer *b)
{
	for (size_t f = 0; f < sizeof(link_families) /
	    sizeof(link_families[0]); f++) {
		const struct link_family *lf = &link_families[f];

		help(b, lf->name, lf->type, lf->help);
		for (size_t i = 0; i < ctx->n_links; i++)
			evbuffer_add_printf(b, "%s{link=\"%s\"} %llu\n",
			    lf->name, ctx->links[i]->cfg.name,
			    link_value(ctx->links[i], lf->v));
	}
	help(b, "sealgate_link_responses_total", "counter",
	    "submit_sm_resp from the SMSC by command_status");
	for (size_t i = 0; i < ctx->n_links; i++)
		status_counts(b, "sealgate_link_responses_total", "link",
		    ctx->links[i]->cfg.name, &ctx->links[i]->resp);
}

/* The families of one unlabelled series. */
static void
metrics_scalars(const struct gw_ctx *ctx, const struct db_store_stats *s,
    struct evbuffer *b)
{
	const struct {
		const char *name, *type, *help;
		unsigned long long v;
	} fams[] = {
		{ "sealgate_storage_up", "gauge",
		    "1: database reachable, 0: reconnecting", s->connected },
		{ "sealgate_storage_queued", "gauge",
		    "storage jobs waiting for the worker", s->queued },
		{ "sealgate_storage_in_flight", "gauge",
		    "storage jobs accepted, not yet answered", s->in_flight },
		{ "sealgate_storage_jobs_total", "counter",
		    "storage jobs finished, any result", s->jobs },
		{ "sealgate_storage_job_errors_total", "counter",
		    "storage jobs finished with an error", s->job_errors },
		{ "sealgate_storage_busy_total", "counter",
		    "storage jobs refused: queue full", s->busy },
		{ "sealgate_storage_disconnects_total", "counter",
		    "database connections lost", s->disconnects },
		{ "sealgate_storage_reconnects_total", "counter",
		    "database connections back", s->reconnects },
		{ "sealgate_storage_stall_refused_total", "counter",
		    "submits refused: a storage transaction past storage.stall",
		    ctx->storage_stall_refused },
		{ "sealgate_receipts_unknown_total", "counter",
		    "receipts no mapping knows", ctx->receipts_unknown },
		{ "sealgate_receipts_cached_total", "counter",
		    "receipts mapped from memory", ctx->receipts_cached },
		{ "sealgate_receipts_before_mapping_total", "counter",
		    "receipts mapped after storage first had none",
		    ctx->receipts_before_mapping },
		{ "sealgate_esme_sessions", "gauge",
		    "ESME sessions open, bound or not", ctx->n_esmes },
		{ "sealgate_submits_in_flight", "gauge",
		    "submits sent down, unanswered", ctx->submits_in_flight },
	};

	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		help(b, fams[i].name, fams[i].type, fams[i].help);
		evbuffer_add_printf(b, "%s %llu\n", fams[i].name, fams[i].v);
	}
}

static void
metrics_store(struct gw_ctx *ctx, struct evbuffer *b)
{
	static const char *const bnames[DB_BATCH_BUCKETS] = {
		"1", "3", "15", "63", "255", "1023", "4095", "+Inf",
	};
	struct db_store_stats s;
	uint64_t cum = 0;

	db_store_stats(ctx->store, &s);
	help(b, "sealgate_storage_batch_size", "histogram",
	    "jobs per storage transaction");
	for (int i = 0; i < DB_BATCH_BUCKETS; i++) {
		cum += s.batch_hist[i];
		evbuffer_add_printf(b, "sealgate_storage_batch_size_bucket"
		    "{le=\"%s\"} %llu\n", bnames[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "sealgate_storage_batch_size_sum %llu\n"
	    "sealgate_storage_batch_size_count %llu\n",
	    (unsigned long long)s.batch_jobs, (unsigned long long)s.batches);
	/* The same transactions, timed: a summary without quantiles. */
	help(b, "sealgate_storage_commit_seconds", "summary",
	    "time to run and commit a storage transaction");
	evbuffer_add_printf(b, "sealgate_storage_commit_seconds_sum %.6f\n"
	    "sealgate_storage_commit_seconds_count %llu\n",
	    (double)s.commit_us_sum / 1e6, (unsigned long long)s.batches);
	help(b, "sealgate_storage_commit_seconds_max", "gauge",
	    "longest storage transaction since start");
	evbuffer_add_printf(b, "sealgate_storage_commit_seconds_max %.6f\n",
	    (double)s.commit_us_max / 1e6);
	help(b, "sealgate_storage_synced_batches_total", "counter",
	    "storage transactions fsync'ed before their answers"
	    " (SQLite ?sync=; 0 on MariaDB, whose server decides)");
	evbuffer_add_printf(b, "sealgate_storage_synced_batches_total %llu\n",
	    (unsigned long long)s.batches_synced);
	metrics_scalars(ctx, &s, b);
	help(b, "sealgate_message_ops_total", "counter",
	    "query_sm, cancel_sm and replace_sm by result");
	for (int i = 0; i < GW_MSGOPS; i++)
		evbuffer_add_printf(b, "sealgate_message_ops_total{op=\"%s\","
		    "result=\"ok\"} %llu\n"
		    "sealgate_message_ops_total{op=\"%s\",result=\"failed\"}"
		    " %llu\n", smpp_command_name(gw_msgop_ids[i]),
		    (unsigned long long)ctx->msgops_ok[i],
		    smpp_command_name(gw_msgop_ids[i]),
		    (unsigned long long)ctx->msgops_failed[i]);
	help(b, "sealgate_reloads_total", "counter",
	    "configuration reloads by result");
	evbuffer_add_printf(b, "sealgate_reloads_total{result=\"ok\"} %llu\n"
	    "sealgate_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ctx->reloads_ok,
	    (unsigned long long)ctx->reloads_failed);
}

static void
on_metrics(struct evhttp_request *req, void *arg)
{
	struct gw_ctx *ctx = arg;
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	metrics_accounts(ctx, b);
	metrics_links(ctx, b);
	metrics_store(ctx, b);
	if (ctx->sec != NULL)
		sec_metrics(ctx->sec, b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
send_json(struct evhttp_request *req, int code, const char *reason,
    json_t *j)
{
	struct evbuffer *b = evbuffer_new();
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	if (b == NULL || s == NULL) {
		evhttp_send_error(req, 500, NULL);
	} else {
		evbuffer_add(b, s, strlen(s));
		evbuffer_add(b, "\n", 1);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
		evhttp_send_reply(req, code, reason, b);
	}
	free(s);
	if (b != NULL)
		evbuffer_free(b);
	json_decref(j);
}

static void
on_status(struct evhttp_request *req, void *arg)
{
	struct gw_ctx *ctx = arg;
	json_t *j = json_object(), *accts = json_array(), *links =
	    json_array();
	struct db_store_stats s;

	for (size_t h = 0; h < GW_ACCT_BUCKETS; h++)
		for (struct gw_acct *a = ctx->accts[h]; a; a = a->next)
			json_array_append_new(accts, json_pack(
			    "{s:s, s:I, s:I, s:I}", "system_id", a->name,
			    "binds", (json_int_t)a->n_binds, "queued",
			    (json_int_t)a->queued, "in_flight",
			    (json_int_t)a->in_flight));
	for (size_t i = 0; i < ctx->n_links; i++) {
		struct gw_link_rt *l = ctx->links[i];
		json_t *ss = json_array();

		for (uint32_t k = 0; k < l->n_dsess; k++)
			json_array_append_new(ss, json_string(
			    l->dsess[k].sess != NULL ? smpp_state_name(
			    smpp_session_state(l->dsess[k].sess)) :
			    "down"));
		json_array_append_new(links, json_pack(
		    "{s:s, s:s, s:i, s:I, s:I, s:o}", "name", l->cfg.name,
		    "host", l->cfg.host, "port", (int)l->cfg.port, "bound",
		    (json_int_t)l->n_bound, "in_flight",
		    (json_int_t)l->in_flight, "sessions", ss));
	}
	db_store_stats(ctx->store, &s);
	json_object_set_new(j, "version", json_string(ctx->version));
	json_object_set_new(j, "uptime_s", json_integer(
	    (gw_mono_ms() - ctx->started_ms) / 1000));
	json_object_set_new(j, "config_generation",
	    json_integer((json_int_t)ctx->gen->number));
	json_object_set_new(j, "draining", json_boolean(ctx->draining));
	json_object_set_new(j, "esme_sessions",
	    json_integer((json_int_t)ctx->n_esmes));
	json_object_set_new(j, "storage", json_pack("{s:s, s:b}", "backend",
	    db_store_backend(ctx->store), "connected", s.connected));
	json_object_set_new(j, "accounts", accts);
	json_object_set_new(j, "links", links);
	send_json(req, 200, "OK", j);
}

static void
on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	send_json(req, 404, "Not Found", json_pack("{s:s, s:s}", "error",
	    "not_found", "message", "try /metrics or /status"));
}

int
gw_admin_start(struct gw_ctx *ctx)
{
	const struct gw_listener *l = &ctx->gen->cfg->listeners.admin;
	struct evhttp_bound_socket *bs;
	int one = 1;

	if (!l->enabled)
		return 0;
	if ((ctx->http = evhttp_new(ctx->base)) == NULL)
		return -1;
	evhttp_set_allowed_methods(ctx->http, EVHTTP_REQ_GET);
	evhttp_set_max_body_size(ctx->http, 4096);
	evhttp_set_timeout(ctx->http, 10);
	evhttp_set_cb(ctx->http, "/metrics", on_metrics, ctx);
	evhttp_set_cb(ctx->http, "/status", on_status, ctx);
	evhttp_set_gencb(ctx->http, on_other, ctx);
	bs = evhttp_bind_socket_with_handle(ctx->http, l->address, l->port);
	if (bs == NULL) {
		smpp_log(SMPP_LOG_ERR, "-", "admin", "listen_failed",
		    "address=%s port=%u", l->address, l->port);
		return -1;
	}
	/* accepted sockets inherit it: without, Nagle and delayed ACKs
	 * cost ~40 ms per request */
	(void)setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof(one));
	smpp_log(SMPP_LOG_INFO, "-", "admin", "listening",
	    "address=%s port=%u", l->address, l->port);
	return 0;
}

void
gw_admin_stop(struct gw_ctx *ctx)
{
	if (ctx->http != NULL)
		evhttp_free(ctx->http);
	ctx->http = NULL;
}
