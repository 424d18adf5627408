/*
 * Control API and static web page. One generic callback dispatches on the
 * path; each handler builds a jansson object and sends it. Nothing here
 * touches SMPP sessions except through sim_smsc.h.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "smpp/log.h"
#include "smpp/session.h"
#include "smpp/listener.h"
#include "sim_app.h"
#include "sim_handset.h"
#include "sim_http.h"
#include "sim_smsc.h"

struct sim_http {
	struct sim		*sim;
	struct evhttp		*http;
	uint16_t		 port;
	char			 web_root[SIM_PATH_MAX];
	struct sim_apps		*apps;		/* the simulated handset apps */
};

static void
send_json(struct evhttp_request *req, int code, const char *reason,
    json_t *j)
{
	struct evbuffer *b = evbuffer_new();
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	if (b != NULL && s != NULL)
		evbuffer_add(b, s, strlen(s));
	if (b != NULL)
		evbuffer_add(b, "\n", 1);
	evhttp_send_reply(req, code, reason, b);
	free(s);
	if (b != NULL)
		evbuffer_free(b);
}

static void
send_error(struct evhttp_request *req, int code, const char *err,
    const char *msg)
{
	const char *reason = code == 400 ? "Bad Request" : code == 404 ?
	    "Not Found" : code == 405 ? "Method Not Allowed" : code == 409 ?
	    "Conflict" : code == 413 ? "Payload Too Large" : code == 502 ?
	    "Bad Gateway" : code == 503 ? "Service Unavailable" : "Error";

	send_json(req, code, reason, json_pack("{s:s, s:s}", "error", err,
	    "message", msg));
}

/* The request body as JSON (an object), or NULL after answering 4xx.
 * read_body_opt: an empty body is {}. */
static json_t *read_body(struct sim_http *h, struct evhttp_request *req);

static json_t *
read_body_opt(struct sim_http *h, struct evhttp_request *req)
{
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) == 0)
		return json_object();
	return read_body(h, req);
}

static json_t *
read_body(struct sim_http *h, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	json_error_t je;
	json_t *j;
	char *buf;

	if (n > h->sim->cfg->http_max_body) {
		send_error(req, 413, "too_large", "request body too large");
		return NULL;
	}
	if ((buf = malloc(n + 1)) == NULL) {
		send_error(req, 503, "no_memory", "out of memory");
		return NULL;
	}
	evbuffer_copyout(in, buf, n);
	buf[n] = '\0';
	j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (j == NULL) {
		char msg[200];

		snprintf(msg, sizeof(msg), "invalid JSON at line %d column "
		    "%d: %s", je.line, je.column, je.text);
		send_error(req, 400, "bad_json", msg);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		send_error(req, 400, "bad_json", "expected a JSON object");
		return NULL;
	}
	return j;
}

static json_t *
stats_json(const struct sim_account *a)
{
	json_t *st = json_object(), *rc = json_object(), *o;
	char hex[16];

	for (int i = 0; i < SIM_STATUS_SLOTS; i++) {
		if (a->st.status_count[i] == 0)
			break;
		snprintf(hex, sizeof(hex), "0x%08x", a->st.status_code[i]);
		json_object_set_new(st, hex,
		    json_integer((json_int_t)a->st.status_count[i]));
	}
	if (a->st.status_other)
		json_object_set_new(st, "other",
		    json_integer((json_int_t)a->st.status_other));
	for (int i = 0; i < SIM_OUT_N; i++)
		json_object_set_new(rc, sim_outcome_name((enum sim_outcome)i),
		    json_integer((json_int_t)a->st.receipts[i]));
	o = json_pack("{s:s, s:s, s:b, s:i, s:I, s:I, s:I, s:o, s:o, s:I, "
	    "s:I, s:I, s:I, s:I, s:I}",
	    "system_id", a->cfg.system_id,
	    "message_id", sim_msgid_fmt_name(a->cfg.id_format),
	    "dynamic", a->dynamic,
	    "bound", (int)a->n_bound,
	    "binds_ok", (json_int_t)a->st.binds_ok,
	    "binds_refused", (json_int_t)a->st.binds_refused,
	    "submits", (json_int_t)a->st.submits,
	    "submit_status", st,
	    "receipts", rc,
	    "receipts_acked", (json_int_t)a->st.receipts_acked,
	    "receipts_refused", (json_int_t)a->st.receipts_refused,
	    "receipts_dropped", (json_int_t)a->st.receipts_dropped,
	    "mo_sent", (json_int_t)a->st.mo_sent,
	    "mo_acked", (json_int_t)a->st.mo_acked,
	    "mo_refused", (json_int_t)a->st.mo_refused);
	return o;
}

static json_t *
faults_json(const struct sim *sim)
{
	const struct sim_faults_cfg *f = &sim->faults.f;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:I}",
	    "throttle_tps", (json_int_t)f->throttle_tps,
	    "error_pct", (json_int_t)f->error_pct,
	    "error_status", (json_int_t)f->error_status,
	    "delay_ms", (json_int_t)f->delay_ms,
	    "drop_after", (json_int_t)f->drop_after,
	    "silent_enquire_link", f->silent_enquire_link,
	    "refuse_binds", f->refuse_binds,
	    "refuse_status", (json_int_t)f->refuse_status);
}

static json_t *
accounts_json(const struct sim *sim)
{
	json_t *arr = json_array();

	for (uint32_t i = 0; i < sim->n_accts; i++)
		json_array_append_new(arr, stats_json(sim->accts[i]));
	return arr;
}

static void
api_status(struct sim_http *h, struct evhttp_request *req)
{
	struct sim *sim = h->sim;
	struct sim_handsets_stats hst;
	json_t *sess = json_array();

	for (struct sim_conn *c = sim->conns; c != NULL; c = c->next) {
		struct smpp_session_stats st;

		smpp_session_stats(c->s, &st);
		json_array_append_new(sess, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:I, s:I}", "name", c->name, "system_id",
		    c->acct ? c->acct->cfg.system_id : "",
		    "state", smpp_state_name(c->state),
		    "peer", smpp_session_peer_addr(c->s),
		    "rx_pdus", (json_int_t)st.rx_pdus,
		    "tx_pdus", (json_int_t)st.tx_pdus));
	}
	sim_handsets_get_stats(sim->hs, &hst);
	send_json(req, 200, "OK", json_pack("{s:I, s:i, s:b, s:o, s:o, "
	    "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:o}",
	    "uptime_s", (json_int_t)((sim_now_ms() - sim->start_ms) / 1000),
	    "smpp_port", (int)sim->cfg->smpp_port,
	    "accept_any", sim->cfg->accept_any || sim->cfg->n_accounts == 0,
	    "sessions", sess,
	    "accounts", accounts_json(sim),
	    "handsets",
	    "count", (json_int_t)hst.handsets,
	    "evicted", (json_int_t)hst.evicted,
	    "messages", (json_int_t)hst.messages,
	    "parts", (json_int_t)hst.parts,
	    "reassembly_pending", (json_int_t)hst.reasm_pending,
	    "reassembly_expired", (json_int_t)hst.reasm_expired,
	    "reassembly_failed", (json_int_t)hst.reasm_failed,
	    "receipts_pending", (json_int_t)sim->dlr_pending,
	    "faults", faults_json(sim)));
}

static json_t *
sms_json(const struct sim_sms *m)
{
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:b, "
	    "s:b, s:s}", "seq", (json_int_t)m->seq, "time",
	    (json_int_t)m->time, "dir", m->dir == 'i' ? "in" : "out",
	    m->dir == 'i' ? "from" : "to", m->peer, "account", m->account,
	    "message_id", m->msgid, "data_coding", (int)m->dcs,
	    "parts", (int)m->parts, "truncated", m->truncated,
	    "binary", m->binary, "text", m->text ? m->text : "");
}

static void
api_handsets(struct sim_http *h, struct evhttp_request *req)
{
	json_t *arr = json_array();
	const struct sim_handset *hs = NULL;
	int n = 0;

	while ((hs = sim_handsets_next(h->sim->hs, hs)) != NULL && n++ < 500) {
		json_t *last = json_null();

		if (hs->count > 0)
			last = sms_json(sim_handset_sms(hs, hs->count - 1));
		json_array_append_new(arr, json_pack("{s:s, s:i, s:I, s:I, "
		    "s:o}", "msisdn", hs->msisdn, "count", (int)hs->count,
		    "received", (json_int_t)hs->received,
		    "sent", (json_int_t)hs->sent, "last", last));
	}
	send_json(req, 200, "OK", json_pack("{s:o}", "handsets", arr));
}

static void
api_handset(struct sim_http *h, struct evhttp_request *req,
    const char *msisdn)
{
	const struct sim_handset *hs = sim_handsets_find(h->sim->hs, msisdn);
	json_t *arr, *apps = sim_apps_json(h->apps, msisdn), *o;

	if (hs == NULL && apps == NULL) {
		send_error(req, 404, "no_handset", "no handset has this "
		    "number yet");
		return;
	}
	arr = json_array();
	for (uint32_t i = 0; hs != NULL && i < hs->count; i++)
		json_array_append_new(arr, sms_json(sim_handset_sms(hs, i)));
	o = json_pack("{s:s, s:I, s:I, s:o}", "msisdn", msisdn, "received",
	    (json_int_t)(hs ? hs->received : 0), "sent",
	    (json_int_t)(hs ? hs->sent : 0), "messages", arr);
	/* The app's state and the secure messages it opened. */
	if (apps != NULL)
		json_object_set(o, "apps", json_object_get(apps, "apps"));
	json_decref(apps);
	send_json(req, 200, "OK", o);
}

/* ---- the simulated handset app (sim_app.h) ----------------------- */

static void
app_done(void *arg, int status, json_t *body)
{
	struct evhttp_request *req = arg;
	const char *reason = status == 200 ? "OK" : status == 202 ?
	    "Accepted" : status == 400 ? "Bad Request" : status == 404 ?
	    "Not Found" : status == 409 ? "Conflict" : status == 502 ?
	    "Bad Gateway" : status == 503 ? "Service Unavailable" : "Error";

	if (body == NULL)
		body = json_object();
	send_json(req, status, reason, body);
}

static int opt_str(struct evhttp_request *req, json_t *j, const char *key,
    const char **out);
static int check_keys(struct evhttp_request *req, json_t *j,
    const char *const *keys);

/* /api/handsets/{msisdn}/app[/verb] */
static void
api_app(struct sim_http *h, struct evhttp_request *req, const char *msisdn,
    const char *verb)
{
	static const char *const reg_keys[] = { "device", "mode", "scheme",
	    "replace", NULL };
	static const char *const dev_keys[] = { "device", NULL };
	static const char *const reply_keys[] = { "device", "id", "text",
	    NULL };
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *device = NULL, *mode = NULL, *scheme = NULL, *id = NULL;
	const char *text = NULL;
	const char *const *keys;
	json_t *j;

	if (!sim_app_valid_msisdn(msisdn)) {
		send_error(req, 400, "bad_msisdn", "the MSISDN must be 6 to 15 "
		    "digits without a leading zero");
		return;
	}
	if (verb[0] == '\0') {
		json_t *o;

		if (m != EVHTTP_REQ_GET) {
			send_error(req, 405, "method_not_allowed", "use GET");
			return;
		}
		if ((o = sim_apps_json(h->apps, msisdn)) == NULL)
			send_error(req, 404, "no_app", "this handset has no "
			    "app; register one first");
		else
			send_json(req, 200, "OK", o);
		return;
	}
	if (strcmp(verb, "/register") == 0)
		keys = reg_keys;
	else if (strcmp(verb, "/sync") == 0 || strcmp(verb, "/revoke") == 0)
		keys = dev_keys;
	else if (strcmp(verb, "/reply") == 0)
		keys = reply_keys;
	else {
		send_error(req, 404, "not_found", "no such resource");
		return;
	}
	if (m != EVHTTP_REQ_POST) {
		send_error(req, 405, "method_not_allowed", "use POST");
		return;
	}
	if ((j = read_body_opt(h, req)) == NULL)
		return;
	if (check_keys(req, j, keys) != 0 ||
	    opt_str(req, j, "device", &device) != 0 ||
	    opt_str(req, j, "mode", &mode) != 0 ||
	    opt_str(req, j, "scheme", &scheme) != 0 ||
	    opt_str(req, j, "id", &id) != 0 ||
	    opt_str(req, j, "text", &text) != 0) {
		json_decref(j);
		return;
	}
	if (keys == reg_keys) {
		json_t *rp = json_object_get(j, "replace");

		if (rp != NULL && !json_is_boolean(rp)) {
			send_error(req, 400, "bad_field", "replace must be "
			    "true or false");
			json_decref(j);
			return;
		}
		sim_apps_register(h->apps, msisdn, device, mode, scheme,
		    json_is_true(rp), app_done, req);
	}
	else if (strcmp(verb, "/sync") == 0)
		sim_apps_sync(h->apps, msisdn, device, app_done, req);
	else if (strcmp(verb, "/revoke") == 0)
		sim_apps_revoke(h->apps, msisdn, device, app_done, req);
	else
		sim_apps_reply(h->apps, msisdn, device, id, text, app_done,
		    req);
	json_decref(j);
}

/* Reads an optional string member; -1 (answered) on a wrong type. */
static int
opt_str(struct evhttp_request *req, json_t *j, const char *key,
    const char **out)
{
	json_t *v = json_object_get(j, key);
	char msg[80];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(msg, sizeof(msg), "%s must be a string", key);
		send_error(req, 400, "bad_field", msg);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
check_keys(struct evhttp_request *req, json_t *j, const char *const *keys)
{
	const char *k;
	json_t *v;
	char msg[120];

	json_object_foreach(j, k, v) {
		size_t i;

		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL) {
			snprintf(msg, sizeof(msg), "unknown field '%.60s'", k);
			send_error(req, 400, "unknown_field", msg);
			return -1;
		}
	}
	return 0;
}

static void
api_mo(struct sim_http *h, struct evhttp_request *req, const char *from)
{
	static const char *const keys[] = { "from", "to", "text", "account",
	    "encoding", "split", NULL };
	struct sim_mo mo;
	struct sim_mo_result res;
	json_t *j = read_body(h, req);

	if (j == NULL)
		return;
	memset(&mo, 0, sizeof(mo));
	if (check_keys(req, j, keys) != 0 ||
	    opt_str(req, j, "from", &mo.from) != 0 ||
	    opt_str(req, j, "to", &mo.to) != 0 ||
	    opt_str(req, j, "text", &mo.text) != 0 ||
	    opt_str(req, j, "account", &mo.account) != 0 ||
	    opt_str(req, j, "encoding", &mo.encoding) != 0 ||
	    opt_str(req, j, "split", &mo.split) != 0) {
		json_decref(j);
		return;
	}
	if (from != NULL)
		mo.from = from;
	if (mo.from == NULL || mo.to == NULL || mo.text == NULL) {
		json_decref(j);
		send_error(req, 400, "missing_field", "from, to and text are "
		    "required");
		return;
	}
	if (sim_smsc_send_mo(h->sim, &mo, &res) != 0)
		send_error(req, res.http_status, res.error, res.message);
	else
		send_json(req, 200, "OK", json_pack("{s:i, s:s, s:s}",
		    "parts", res.parts, "account", res.account, "session",
		    res.session));
	json_decref(j);
}

static void
api_faults_set(struct sim_http *h, struct evhttp_request *req)
{
	struct sim_faults_cfg f = h->sim->faults.f;
	json_t *j = read_body(h, req), *v;
	const char *k;
	char msg[120];

	if (j == NULL)
		return;
	json_object_foreach(j, k, v) {
		uint32_t *u = NULL;
		int *b = NULL;
		json_int_t max = 0xffffffffLL;

		if (strcmp(k, "throttle_tps") == 0)
			u = &f.throttle_tps;
		else if (strcmp(k, "error_pct") == 0) {
			u = &f.error_pct;
			max = 100;
		} else if (strcmp(k, "error_status") == 0)
			u = &f.error_status;
		else if (strcmp(k, "delay_ms") == 0) {
			u = &f.delay_ms;
			max = 600000;
		} else if (strcmp(k, "drop_after") == 0)
			u = &f.drop_after;
		else if (strcmp(k, "refuse_status") == 0)
			u = &f.refuse_status;
		else if (strcmp(k, "silent_enquire_link") == 0)
			b = &f.silent_enquire_link;
		else if (strcmp(k, "refuse_binds") == 0)
			b = &f.refuse_binds;
		else {
			snprintf(msg, sizeof(msg), "unknown fault '%.60s'", k);
			send_error(req, 400, "unknown_field", msg);
			json_decref(j);
			return;
		}
		if (u != NULL && (!json_is_integer(v) ||
		    json_integer_value(v) < 0 ||
		    json_integer_value(v) > max)) {
			snprintf(msg, sizeof(msg), "%s must be an integer "
			    "0..%lld", k, (long long)max);
			send_error(req, 400, "bad_field", msg);
			json_decref(j);
			return;
		}
		if (b != NULL && !json_is_boolean(v)) {
			snprintf(msg, sizeof(msg), "%s must be true or false",
			    k);
			send_error(req, 400, "bad_field", msg);
			json_decref(j);
			return;
		}
		if (u != NULL)
			*u = (uint32_t)json_integer_value(v);
		else
			*b = json_is_true(v);
	}
	json_decref(j);
	sim_smsc_set_faults(h->sim, &f);
	smpp_log(SMPP_LOG_INFO, "-", "sim", "faults_set",
	    "throttle_tps=%u error_pct=%u error_status=0x%x delay_ms=%u "
	    "drop_after=%u silent_enquire_link=%d refuse_binds=%d",
	    f.throttle_tps, f.error_pct, f.error_status, f.delay_ms,
	    f.drop_after, f.silent_enquire_link, f.refuse_binds);
	send_json(req, 200, "OK", faults_json(h->sim));
}

/* Static files: a fixed list, so no path ever reaches the file system
 * from the request. */
static void
serve_file(struct sim_http *h, struct evhttp_request *req, const char *name,
    const char *type)
{
	char path[SIM_PATH_MAX + 32];
	struct evbuffer *b;
	FILE *f;
	char chunk[8192];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", h->web_root, name);
	if ((f = fopen(path, "rb")) == NULL) {
		send_error(req, 404, "not_found", "web page file missing; set "
		    "--web-root");
		return;
	}
	b = evbuffer_new();
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b != NULL)
		evbuffer_add(b, chunk, n);
	fclose(f);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evhttp_send_reply(req, 200, "OK", b);
	if (b != NULL)
		evbuffer_free(b);
}

static int
valid_msisdn(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SIM_MSISDN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '/')
			return 0;
	return 1;
}

static void
on_http(struct evhttp_request *req, void *arg)
{
	struct sim_http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	int get = m == EVHTTP_REQ_GET, post = m == EVHTTP_REQ_POST;
	char *dec = NULL;

	if (path == NULL || path[0] == '\0')
		path = "/";
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		if (get)
			serve_file(h, req, "index.html",
			    "text/html; charset=utf-8");
		else
			send_error(req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (strcmp(path, "/app.js") == 0 && get) {
		serve_file(h, req, "app.js", "text/javascript; charset=utf-8");
		return;
	}
	if (strcmp(path, "/style.css") == 0 && get) {
		serve_file(h, req, "style.css", "text/css; charset=utf-8");
		return;
	}
	if (strcmp(path, "/api/status") == 0 || strcmp(path, "/api/stats") ==
	    0) {
		if (get)
			api_status(h, req);
		else
			send_error(req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (strcmp(path, "/api/handsets") == 0) {
		if (get)
			api_handsets(h, req);
		else
			send_error(req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (strcmp(path, "/api/mo") == 0) {
		if (post)
			api_mo(h, req, NULL);
		else
			send_error(req, 405, "method_not_allowed", "use POST");
		return;
	}
	if (strcmp(path, "/api/faults") == 0) {
		if (get)
			send_json(req, 200, "OK", faults_json(h->sim));
		else if (post)
			api_faults_set(h, req);
		else
			send_error(req, 405, "method_not_allowed",
			    "use GET or POST");
		return;
	}
	if (strcmp(path, "/api/reset") == 0) {
		if (post) {
			sim_smsc_reset(h->sim);
			sim_apps_reset(h->apps);
			smpp_log(SMPP_LOG_INFO, "-", "sim", "reset", NULL);
			send_json(req, 200, "OK", json_pack("{s:b}", "reset",
			    1));
		} else {
			send_error(req, 405, "method_not_allowed",
			    "use POST");
		}
		return;
	}
	if (strncmp(path, "/api/handsets/", 14) == 0) {
		char *slash;

		dec = evhttp_uridecode(path + 14, 0, NULL);
		if (dec == NULL) {
			send_error(req, 400, "bad_path", "bad escape");
			return;
		}
		slash = strchr(dec, '/');
		if (slash != NULL && (strcmp(slash, "/app") == 0 ||
		    strncmp(slash, "/app/", 5) == 0)) {
			char verb[32];

			snprintf(verb, sizeof(verb), "%s", slash + 4);
			*slash = '\0';
			api_app(h, req, dec, verb);
		} else if (slash != NULL && strcmp(slash, "/send") == 0) {
			*slash = '\0';
			if (!valid_msisdn(dec))
				send_error(req, 400, "bad_address", "bad "
				    "MSISDN");
			else if (post)
				api_mo(h, req, dec);
			else
				send_error(req, 405, "method_not_allowed",
				    "use POST");
		} else if (slash != NULL || !valid_msisdn(dec)) {
			send_error(req, 404, "not_found", "no such resource");
		} else if (get) {
			api_handset(h, req, dec);
		} else {
			send_error(req, 405, "method_not_allowed", "use GET");
		}
		free(dec);
		return;
	}
	send_error(req, 404, "not_found", "no such resource");
}

struct sim_http *
sim_http_start(struct sim *sim, const char *web_root)
{
	struct sim_http *h = calloc(1, sizeof(*h));
	struct evhttp_bound_socket *bs;
	int one = 1;

	if (h == NULL)
		return NULL;
	h->sim = sim;
	snprintf(h->web_root, sizeof(h->web_root), "%s", web_root);
	if ((h->apps = sim_apps_new(sim)) == NULL) {
		free(h);
		return NULL;
	}
	if ((h->http = evhttp_new(sim->base)) == NULL) {
		sim_apps_free(h->apps);
		free(h);
		return NULL;
	}
	evhttp_set_max_body_size(h->http, sim->cfg->http_max_body);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(h->http, on_http, h);
	bs = evhttp_bind_socket_with_handle(h->http, sim->cfg->http_host,
	    sim->cfg->http_port);
	if (bs == NULL) {
		smpp_log(SMPP_LOG_ERR, "-", "sim", "http_listen_failed",
		    "host=%s port=%u", sim->cfg->http_host,
		    sim->cfg->http_port);
		evhttp_free(h->http);
		sim_apps_free(h->apps);
		free(h);
		return NULL;
	}
	/* Accepted sockets inherit it: no Nagle + delayed ACK stalls. */
	(void)setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof(one));
	h->port = sim->cfg->http_port;
	smpp_log(SMPP_LOG_INFO, "-", "sim", "http_listening",
	    "host=%s port=%u web_root=%s", sim->cfg->http_host, h->port,
	    h->web_root);
	return h;
}

uint16_t
sim_http_port(const struct sim_http *h)
{
	return h->port;
}

void
sim_http_free(struct sim_http *h)
{
	if (h == NULL)
		return;
	/* Apps first: they answer the control requests still waiting. */
	sim_apps_free(h->apps);
	evhttp_free(h->http);
	free(h);
}
