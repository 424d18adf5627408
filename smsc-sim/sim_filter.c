/*
 * See sim_filter.h. The input side tracks PDU boundaries with a byte
 * countdown, peeking 8 bytes per PDU; bytes move with evbuffer_remove_
 * buffer, which moves whole chains without copying.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/proto.h"
#include "smpp/tls.h"
#include "sim.h"
#include "sim_filter.h"

struct flt {
	struct sim		*sim;
	struct bufferevent	*under;
	uint32_t		 skip;	/* bytes of the current PDU to pass */
	uint32_t		 drop;	/* bytes of the current PDU to drop */
	int			 lost;	/* bad framing: pass everything */
};

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static enum bufferevent_filter_result
in_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	struct flt *f = ctx;
	int moved = 0;
	size_t avail;

	(void)lim;
	(void)mode;
	while ((avail = evbuffer_get_length(src)) > 0) {
		uint8_t h[8];
		uint32_t len, id;

		if (f->lost) {
			evbuffer_add_buffer(dst, src);
			return BEV_OK;
		}
		if (f->drop > 0) {
			size_t n = avail < f->drop ? avail : f->drop;

			evbuffer_drain(src, n);
			f->drop -= (uint32_t)n;
			continue;
		}
		if (f->skip > 0) {
			size_t n = avail < f->skip ? avail : f->skip;

			evbuffer_remove_buffer(src, dst, n);
			f->skip -= (uint32_t)n;
			moved = 1;
			continue;
		}
		if (avail < sizeof(h))
			break;
		evbuffer_copyout(src, h, sizeof(h));
		len = rd32(h);
		id = rd32(h + 4);
		if (len < SMPP_HEADER_LEN ||
		    len > f->sim->scfg.limits.max_pdu) {
			f->lost = 1;	/* the session nacks and closes */
			continue;
		}
		if (id == SMPP_ENQUIRE_LINK &&
		    f->sim->faults.f.silent_enquire_link) {
			f->sim->enquire_dropped++;
			f->drop = len;
			continue;
		}
		f->skip = len;
	}
	return moved ? BEV_OK : BEV_NEED_MORE;
}

static void
linger_done(struct bufferevent *under, struct sim *sim)
{
	smpp_tls_close_notify(under);
	bufferevent_free(under);
	sim->lingering--;
}

static void
linger_write(struct bufferevent *under, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(under)) == 0)
		linger_done(under, arg);
}

static void
linger_event(struct bufferevent *under, short what, void *arg)
{
	(void)what;
	linger_done(under, arg);
}

static void
linger_start(evutil_socket_t fd, short what, void *arg)
{
	struct flt *f = arg;
	struct bufferevent *under = f->under;
	struct sim *sim = f->sim;
	struct timeval tv = { 2, 0 };

	(void)fd;
	(void)what;
	free(f);
	if (evbuffer_get_length(bufferevent_get_output(under)) == 0) {
		linger_done(under, sim);
		return;
	}
	bufferevent_setcb(under, NULL, linger_write, linger_event, sim);
	bufferevent_setwatermark(under, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(under, NULL, &tv);
	bufferevent_disable(under, EV_READ);
	bufferevent_enable(under, EV_WRITE);
}

static void
flt_free(void *ctx)
{
	struct flt *f = ctx;
	struct timeval zero = { 0, 0 };

	/* The filter is being destroyed and will unhook itself from the
	 * socket bufferevent right after this; take over on the next turn
	 * of the loop. */
	f->sim->lingering++;
	if (event_base_once(f->sim->base, -1, EV_TIMEOUT, linger_start, f,
	    &zero) != 0) {
		f->sim->lingering--;
		bufferevent_free(f->under);
		free(f);
	}
}

struct bufferevent *
sim_filter_wrap(struct sim *sim, struct bufferevent *bev)
{
	struct flt *f = calloc(1, sizeof(*f));
	struct bufferevent *fb;

	if (f == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	f->sim = sim;
	f->under = bev;
	fb = bufferevent_filter_new(bev, in_filter, NULL, 0, flt_free, f);
	if (fb == NULL) {
		bufferevent_free(bev);
		free(f);
		return NULL;
	}
	return fb;
}
