/*
 * The MO sub-command: builds the JSON body with jansson, POSTs it with
 * evhttp's client, prints the JSON answer and exits 0 on 200, 1 on an
 * HTTP error, 2 on a usage error or when the simulator cannot be reached.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "sim_moclient.h"

struct moc {
	struct event_base	*base;
	int			 rc;
};

static void
done(struct evhttp_request *req, void *arg)
{
	struct moc *m = arg;
	struct evbuffer *in;
	size_t n;
	char buf[4096];

	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		fprintf(stderr, "smsc-sim mo: no answer from the simulator\n");
		m->rc = 2;
		event_base_loopexit(m->base, NULL);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_remove(in, buf, sizeof(buf) - 1) > 0 ?
	    strnlen(buf, sizeof(buf) - 1) : 0;
	buf[n] = '\0';
	printf("%s", buf);
	if (n == 0 || buf[n - 1] != '\n')
		printf("\n");
	m->rc = evhttp_request_get_response_code(req) == 200 ? 0 : 1;
	event_base_loopexit(m->base, NULL);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: smsc-sim mo [--host H] [--http-port N] --from MSISDN "
	    "--to ADDR --text TEXT\n"
	    "                   [--encoding auto|gsm7|ucs2|latin1] "
	    "[--split udh|udh16|sar] [--account SYSTEM_ID]\n"
	    "Sends an MO (a handset's SMS) to a bound ESME through the "
	    "simulator's control API.\n");
}

int
sim_moclient_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "http-port", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "text", required_argument, NULL, 'x' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "split", required_argument, NULL, 's' },
		{ "account", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "127.0.0.1", *from = NULL, *to = NULL, *text = NULL;
	const char *enc = NULL, *split = NULL, *acct = NULL;
	long port = 8776;
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct moc m = { NULL, 2 };
	json_t *j;
	char *body, *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 1 || port > 65535) {
				fprintf(stderr, "smsc-sim mo: bad --http-port\n");
				return 2;
			}
			break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'x': text = optarg; break;
		case 'e': enc = optarg; break;
		case 's': split = optarg; break;
		case 'a': acct = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (from == NULL || to == NULL || text == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	j = json_pack("{s:s, s:s, s:s}", "from", from, "to", to, "text", text);
	if (j == NULL) {
		fprintf(stderr, "smsc-sim mo: text must be UTF-8\n");
		return 2;
	}
	if (enc)
		json_object_set_new(j, "encoding", json_string(enc));
	if (split)
		json_object_set_new(j, "split", json_string(split));
	if (acct)
		json_object_set_new(j, "account", json_string(acct));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL)
		return 2;
	m.base = event_base_new();
	conn = m.base ? evhttp_connection_base_new(m.base, NULL, host,
	    (unsigned short)port) : NULL;
	req = conn ? evhttp_request_new(done, &m) : NULL;
	if (req == NULL) {
		fprintf(stderr, "smsc-sim mo: out of memory\n");
		free(body);
		if (conn)
			evhttp_connection_free(conn);
		if (m.base)
			event_base_free(m.base);
		return 2;
	}
	evhttp_connection_set_timeout(conn, 10);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	free(body);
	if (evhttp_make_request(conn, req, EVHTTP_REQ_POST, "/api/mo") != 0) {
		fprintf(stderr, "smsc-sim mo: cannot send the request\n");
	} else {
		event_base_dispatch(m.base);
	}
	evhttp_connection_free(conn);
	event_base_free(m.base);
	return m.rc;
}
