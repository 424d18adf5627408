/*
 * The control HTTP API and the web page, on one evhttp port: JSON in and
 * out (jansson), errors as {"error": code, "message": text} with a 4xx,
 * bodies limited to http.max_body, TCP_NODELAY on the listener. The API
 * is documented in docs/smsc-sim.md.
 */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <stdint.h>

struct sim;
struct sim_http;

/* Listens on cfg http_host:http_port; web_root holds index.html, app.js
 * and style.css. NULL (logged) on failure. */
struct sim_http *sim_http_start(struct sim *sim, const char *web_root);
uint16_t sim_http_port(const struct sim_http *h);
void sim_http_free(struct sim_http *h);

#endif
