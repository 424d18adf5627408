/*
 * The password verification worker (see verify.h). Jobs move from the
 * todo list (loop -> worker) to the done list (worker -> loop); a byte on
 * the pipe wakes the loop, which takes the whole done list at once.
 * libevent is only touched on the loop thread, so the program needs no
 * evthread locking for this.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "gateway/config.h"
#include "gateway/passwd.h"
#include "gateway/verify.h"

struct job {
	struct job	*next;
	char		 pw[GW_PASSWD_LEN_MAX + 1];
	size_t		 len;
	char		 hash[GW_HASH_SIZE];
	int		 result;
	gw_verify_cb	 cb;
	void		*ctx;
};

struct gw_verifier {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct job	*todo_head, *todo_tail;
	struct job	*done_head, *done_tail;
	size_t		 queued;	/* todo + running + done */
	bool		 stop;
	int		 pipe[2];
	struct event	*ev;
};

static void
push(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *
worker(void *arg)
{
	struct gw_verifier *v = arg;

	pthread_mutex_lock(&v->mu);
	for (;;) {
		struct job *j;
		char b = 1;

		while (!v->stop && v->todo_head == NULL)
			pthread_cond_wait(&v->cv, &v->mu);
		if (v->stop)
			break;
		j = v->todo_head;
		v->todo_head = j->next;
		if (v->todo_head == NULL)
			v->todo_tail = NULL;
		pthread_mutex_unlock(&v->mu);
		j->result = gw_passwd_verify(j->pw, j->len, j->hash);
		OPENSSL_cleanse(j->pw, sizeof(j->pw));
		pthread_mutex_lock(&v->mu);
		push(&v->done_head, &v->done_tail, j);
		/* A full pipe already holds a wake-up: dropping is fine. */
		while (write(v->pipe[1], &b, 1) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

static void
run_done(struct gw_verifier *v)
{
	struct job *j;

	pthread_mutex_lock(&v->mu);
	j = v->done_head;
	v->done_head = v->done_tail = NULL;
	pthread_mutex_unlock(&v->mu);
	while (j != NULL) {
		struct job *next = j->next;

		pthread_mutex_lock(&v->mu);
		v->queued--;
		pthread_mutex_unlock(&v->mu);
		j->cb(j->ctx, j->result);
		OPENSSL_cleanse(j, sizeof(*j));
		free(j);
		j = next;
	}
}

static void
on_pipe(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	run_done(arg);
}

struct gw_verifier *
gw_verifier_new(struct event_base *base)
{
	struct gw_verifier *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	if (pipe(v->pipe) != 0) {
		free(v);
		return NULL;
	}
	fcntl(v->pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(v->pipe[1], F_SETFL, O_NONBLOCK);
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	v->ev = event_new(base, v->pipe[0], EV_READ | EV_PERSIST, on_pipe, v);
	if (v->ev == NULL || event_add(v->ev, NULL) != 0 ||
	    pthread_create(&v->thread, NULL, worker, v) != 0) {
		if (v->ev != NULL)
			event_free(v->ev);
		close(v->pipe[0]);
		close(v->pipe[1]);
		free(v);
		return NULL;
	}
	return v;
}

int
gw_verify_submit(struct gw_verifier *v, const char *pw, size_t len,
    const char *hash, gw_verify_cb cb, void *ctx)
{
	struct job *j;
	size_t hl = strlen(hash);

	if (len > GW_PASSWD_LEN_MAX || hl >= GW_HASH_SIZE)
		return -1;
	pthread_mutex_lock(&v->mu);
	if (v->stop || v->queued >= GW_VERIFY_QUEUE_MAX) {
		pthread_mutex_unlock(&v->mu);
		return -1;
	}
	pthread_mutex_unlock(&v->mu);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	memcpy(j->pw, pw, len);
	j->len = len;
	memcpy(j->hash, hash, hl + 1);
	j->cb = cb;
	j->ctx = ctx;
	pthread_mutex_lock(&v->mu);
	v->queued++;
	push(&v->todo_head, &v->todo_tail, j);
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
	return 0;
}

void
gw_verifier_free(struct gw_verifier *v)
{
	struct job *j;

	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
	pthread_join(v->thread, NULL);
	run_done(v);
	while ((j = v->todo_head) != NULL) {
		v->todo_head = j->next;
		j->cb(j->ctx, -1);
		OPENSSL_cleanse(j, sizeof(*j));
		free(j);
	}
	event_free(v->ev);
	close(v->pipe[0]);
	close(v->pipe[1]);
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->cv);
	free(v);
}
