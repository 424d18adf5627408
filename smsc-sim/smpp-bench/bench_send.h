/*
 * smpp-bench send: submit one message and report its response(s) and,
 * with --wait-receipt, its receipt(s). Returns a BENCH_EXIT_* code.
 * tls is the client context for --tls (NULL otherwise; not taken over).
 */
#ifndef BENCH_SEND_H
#define BENCH_SEND_H

#include <openssl/ssl.h>

struct bench_opts;

int bench_send_run(const struct bench_opts *o, SSL_CTX *tls);

#endif
