/*
 * The app sub-commands. Each is one control API call (register also
 * polls the app's state until the registration ended, unless --no-wait)
 * made with evhttp's client on a private event loop; the simulator's
 * JSON answer is printed as it came.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "sim_appclient.h"

struct call {
	struct event_base	*base;
	int			 status;	/* 0: no answer */
	char			*body;		/* malloc'd, NUL-terminated */
};

static void
call_done(struct evhttp_request *req, void *arg)
{
	struct call *c = arg;
	struct evbuffer *in;
	size_t n;

	if (req != NULL && (c->status =
	    evhttp_request_get_response_code(req)) != 0) {
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_get_length(in);
		if ((c->body = malloc(n + 1)) != NULL) {
			evbuffer_copyout(in, c->body, n);
			c->body[n] = '\0';
		}
	}
	event_base_loopexit(c->base, NULL);
}

/* One request; the answer's status (0: unreachable) and body in c. */
static int
call(const char *host, int port, enum evhttp_cmd_type m, const char *path,
    const json_t *body, struct call *c)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	char *s = NULL;

	memset(c, 0, sizeof(*c));
	if ((c->base = event_base_new()) == NULL)
		return 0;
	conn = evhttp_connection_base_new(c->base, NULL, host,
	    (unsigned short)port);
	req = conn ? evhttp_request_new(call_done, c) : NULL;
	if (req == NULL) {
		if (conn)
			evhttp_connection_free(conn);
		event_base_free(c->base);
		return 0;
	}
	/* Sync and reply wait for the gateway; the simulator bounds them. */
	evhttp_connection_set_timeout(conn, 120);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
	if (body != NULL && (s = json_dumps(body, JSON_COMPACT)) != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), s,
		    strlen(s));
		free(s);
	}
	if (evhttp_make_request(conn, req, m, path) == 0)
		event_base_dispatch(c->base);
	evhttp_connection_free(conn);
	event_base_free(c->base);
	c->base = NULL;
	return c->status;
}

static void
print_body(const struct call *c)
{
	size_t n = c->body ? strlen(c->body) : 0;

	printf("%s", c->body ? c->body : "");
	if (n == 0 || c->body[n - 1] != '\n')
		printf("\n");
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smsc-sim app register MSISDN [--mode sms|mo] "
	    "[--scheme x25519|p256|rsa2048]\n"
	    "                    [--device D] [--replace] [--no-wait] "
	    "[--wait SECS]\n"
	    "       smsc-sim app sync MSISDN [--device D]\n"
	    "       smsc-sim app reply MSISDN ID TEXT [--device D]\n"
	    "       smsc-sim app revoke MSISDN [--device D]\n"
	    "       smsc-sim app show MSISDN\n"
	    "  common: [--host H] [--http-port N] (the simulator's control "
	    "API, 127.0.0.1:8776)\n"
	    "Runs the simulated handset app of MSISDN against the gateway's "
	    "handset API:\n"
	    "register (flow A: the code SMS; flow B: mode mo, the app texts "
	    "the code),\n"
	    "sync (list, fetch, open, ack), reply, revoke; show prints its "
	    "state.\n");
}

/* The state of device dev in an app JSON answer, or NULL. */
static json_t *
find_device(json_t *apps, const char *dev)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(apps, "apps"), i, a)
		if (json_is_string(json_object_get(a, "device")) &&
		    strcmp(json_string_value(json_object_get(a, "device")),
		    dev) == 0)
			return a;
	return NULL;
}

/* Polls the app until the registration of dev ended; prints the last
 * state. 0 active, 1 failed, 2 unreachable or timed out. */
static int
wait_registered(const char *host, int port, const char *path,
    const char *dev, int secs)
{
	struct timespec ts = { 0, 200 * 1000000L };
	time_t end = time(NULL) + secs;
	struct call c;

	for (;;) {
		json_t *j, *a;
		const char *st, *busy;

		if (call(host, port, EVHTTP_REQ_GET, path, NULL, &c) != 200) {
			fprintf(stderr, "smsc-sim app: no answer from the "
			    "simulator\n");
			free(c.body);
			return 2;
		}
		j = json_loads(c.body, 0, NULL);
		a = j ? find_device(j, dev) : NULL;
		st = a ? json_string_value(json_object_get(a, "state")) : NULL;
		busy = a ? json_string_value(json_object_get(a, "busy")) : NULL;
		if (st != NULL && busy != NULL && busy[0] == '\0') {
			const char *err = json_string_value(json_object_get(a,
			    "error"));
			int ok = strcmp(st, "active") == 0 &&
			    (err == NULL || err[0] == '\0');
			char *s = json_dumps(a, JSON_COMPACT);

			printf("%s\n", s ? s : "{}");
			free(s);
			json_decref(j);
			free(c.body);
			return ok ? 0 : 1;
		}
		json_decref(j);
		free(c.body);
		if (time(NULL) >= end) {
			fprintf(stderr, "smsc-sim app: the registration did "
			    "not end within %d s\n", secs);
			return 2;
		}
		nanosleep(&ts, NULL);
	}
}

int
sim_appclient_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "http-port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "scheme", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "replace", no_argument, NULL, 'r' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "127.0.0.1", *mode = NULL, *scheme = NULL;
	const char *dev = NULL, *verb, *msisdn;
	char path[256], base[256], *enc, *end;
	long port = 8776, wait_s = 60;
	int c, nowait = 0, replace = 0, rc, npos;
	enum evhttp_cmd_type m = EVHTTP_REQ_POST;
	struct call cl;
	json_t *body = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 1 || port > 65535) {
				fprintf(stderr, "smsc-sim app: bad "
				    "--http-port\n");
				return 2;
			}
			break;
		case 'm': mode = optarg; break;
		case 's': scheme = optarg; break;
		case 'd': dev = optarg; break;
		case 'n': nowait = 1; break;
		case 'r': replace = 1; break;
		case 'w':
			wait_s = strtol(optarg, &end, 10);
			if (*end != '\0' || wait_s < 1 || wait_s > 3600) {
				fprintf(stderr, "smsc-sim app: bad --wait\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	npos = argc - optind;
	if (npos < 2) {
		usage(stderr);
		return 2;
	}
	verb = argv[optind];
	msisdn = argv[optind + 1];
	if ((enc = evhttp_uriencode(msisdn, -1, 0)) == NULL)
		return 2;
	snprintf(base, sizeof(base), "/api/handsets/%s/app", enc);
	snprintf(path, sizeof(path), "%s", base);
	free(enc);
	if (strcmp(verb, "show") == 0 && npos == 2) {
		m = EVHTTP_REQ_GET;
	} else if (strcmp(verb, "register") == 0 && npos == 2) {
		body = json_object();
		if (mode)
			json_object_set_new(body, "mode", json_string(mode));
		if (scheme)
			json_object_set_new(body, "scheme",
			    json_string(scheme));
		if (replace)
			json_object_set_new(body, "replace", json_true());
	} else if ((strcmp(verb, "sync") == 0 ||
	    strcmp(verb, "revoke") == 0) && npos == 2) {
		body = json_object();
	} else if (strcmp(verb, "reply") == 0 && npos == 4) {
		body = json_pack("{s:s, s:s}", "id", argv[optind + 2], "text",
		    argv[optind + 3]);
		if (body == NULL) {
			fprintf(stderr, "smsc-sim app: text must be UTF-8\n");
			return 2;
		}
	} else {
		usage(stderr);
		return 2;
	}
	if (body != NULL && dev != NULL)
		json_object_set_new(body, "device", json_string(dev));
	if (m == EVHTTP_REQ_POST) {
		size_t l = strlen(path);

		snprintf(path + l, sizeof(path) - l, "/%s", verb);
	}
	rc = call(host, (int)port, m, path, body, &cl);
	json_decref(body);
	if (rc == 0) {
		fprintf(stderr, "smsc-sim app: no answer from the simulator at "
		    "%s:%ld\n", host, port);
		return 2;
	}
	if (strcmp(verb, "register") == 0 && rc == 202 && !nowait) {
		free(cl.body);
		return wait_registered(host, (int)port, base,
		    dev ? dev : "a", (int)wait_s);
	}
	print_body(&cl);
	free(cl.body);
	return rc == 200 || rc == 202 ? 0 : 1;
}
