/*
 * smpp-bench load: N messages (or a duration) over S sessions with a
 * window per session and an optional rate; a summary (or one JSON line)
 * at the end. Returns a BENCH_EXIT_* code. tls as for bench_send_run.
 */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <openssl/ssl.h>

struct bench_opts;

int bench_load_run(const struct bench_opts *o, SSL_CTX *tls);

#endif
