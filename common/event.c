#include "event.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct event_handler {
	event_io_cb *cb;
	void *ctx;
	uint32_t generation;
	bool active;
};

struct event_timer {
	uint64_t due;
	uint64_t seq;	/* ties: earlier-added first */
	size_t heap_index;
	event_timer_cb *cb;
	void *ctx;
};

struct event_loop {
	int epfd;
	struct event_handler *handlers;	/* indexed by fd */
	size_t nhandlers;
	struct event_timer **heap;
	size_t heap_len, heap_cap;
	uint64_t timer_seq;
	bool stop;
};

uint64_t event_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct event_loop *event_loop_new(void)
{
	struct event_loop *loop = xcalloc(1, sizeof(*loop));
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		fatal("epoll_create1: %s", strerror(errno));
	return loop;
}

void event_loop_free(struct event_loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->epfd);
	for (size_t i = 0; i < loop->heap_len; i++)
		free(loop->heap[i]);
	free(loop->heap);
	free(loop->handlers);
	free(loop);
}

static uint64_t event_key(int fd, uint32_t generation)
{
	return ((uint64_t)generation << 32) | (uint32_t)fd;
}

void event_add_fd(struct event_loop *loop, int fd, uint32_t events,
		  event_io_cb *cb, void *ctx)
{
	if (fd < 0)
		fatal("event_add_fd: bad fd %d", fd);
	if ((size_t)fd >= loop->nhandlers) {
		size_t n = loop->nhandlers ? loop->nhandlers : 64;
		while (n <= (size_t)fd)
			n *= 2;
		loop->handlers = xrealloc(loop->handlers,
					  n * sizeof(*loop->handlers));
		memset(loop->handlers + loop->nhandlers, 0,
		       (n - loop->nhandlers) * sizeof(*loop->handlers));
		loop->nhandlers = n;
	}
	struct event_handler *h = &loop->handlers[fd];
	if (h->active)
		fatal("event_add_fd: fd %d already registered", fd);
	h->cb = cb;
	h->ctx = ctx;
	h->generation++;
	h->active = true;
	struct epoll_event ev = { .events = events,
				  .data.u64 = event_key(fd, h->generation) };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		fatal("epoll_ctl(ADD, %d): %s", fd, strerror(errno));
}

void event_mod_fd(struct event_loop *loop, int fd, uint32_t events)
{
	if (fd < 0 || (size_t)fd >= loop->nhandlers ||
	    !loop->handlers[fd].active)
		fatal("event_mod_fd: fd %d not registered", fd);
	struct epoll_event ev = {
		.events = events,
		.data.u64 = event_key(fd, loop->handlers[fd].generation)
	};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		fatal("epoll_ctl(MOD, %d): %s", fd, strerror(errno));
}

void event_del_fd(struct event_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nhandlers ||
	    !loop->handlers[fd].active)
		return;
	loop->handlers[fd].active = false;
	/* The fd may already be closed (EBADF); either way it is gone. */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static bool timer_before(const struct event_timer *a,
			 const struct event_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_swap(struct event_loop *loop, size_t i, size_t j)
{
	struct event_timer *t = loop->heap[i];
	loop->heap[i] = loop->heap[j];
	loop->heap[j] = t;
	loop->heap[i]->heap_index = i;
	loop->heap[j]->heap_index = j;
}

static void heap_up(struct event_loop *loop, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!timer_before(loop->heap[i], loop->heap[parent]))
			break;
		heap_swap(loop, i, parent);
		i = parent;
	}
}

static void heap_down(struct event_loop *loop, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < loop->heap_len && timer_before(loop->heap[l], loop->heap[m]))
			m = l;
		if (r < loop->heap_len && timer_before(loop->heap[r], loop->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(loop, i, m);
		i = m;
	}
}

struct event_timer *event_timer_add(struct event_loop *loop, uint64_t ms,
				    event_timer_cb *cb, void *ctx)
{
	struct event_timer *t = xmalloc(sizeof(*t));
	t->due = event_now_ms() + ms;
	t->seq = loop->timer_seq++;
	t->cb = cb;
	t->ctx = ctx;
	if (loop->heap_len == loop->heap_cap) {
		loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
		loop->heap = xrealloc(loop->heap,
				      loop->heap_cap * sizeof(*loop->heap));
	}
	t->heap_index = loop->heap_len;
	loop->heap[loop->heap_len++] = t;
	heap_up(loop, t->heap_index);
	return t;
}

static void heap_remove(struct event_loop *loop, struct event_timer *t)
{
	size_t i = t->heap_index;
	loop->heap_len--;
	if (i != loop->heap_len) {
		loop->heap[i] = loop->heap[loop->heap_len];
		loop->heap[i]->heap_index = i;
		heap_down(loop, i);
		heap_up(loop, i);
	}
}

void event_timer_cancel(struct event_loop *loop, struct event_timer *t)
{
	if (t == NULL)
		return;
	heap_remove(loop, t);
	free(t);
}

static void event_run_timers(struct event_loop *loop)
{
	uint64_t now = event_now_ms();
	while (loop->heap_len > 0 && loop->heap[0]->due <= now &&
	       !loop->stop) {
		struct event_timer *t = loop->heap[0];
		heap_remove(loop, t);
		event_timer_cb *cb = t->cb;
		void *ctx = t->ctx;
		free(t);
		cb(ctx);
	}
}

void event_loop_run(struct event_loop *loop)
{
	struct epoll_event evs[64];
	loop->stop = false;
	while (!loop->stop) {
		int timeout = -1;
		if (loop->heap_len > 0) {
			uint64_t now = event_now_ms();
			uint64_t due = loop->heap[0]->due;
			timeout = due <= now ? 0 :
				  (due - now > 60000 ? 60000 : (int)(due - now));
		}
		int n = epoll_wait(loop->epfd, evs, 64, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n && !loop->stop; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			if ((size_t)fd >= loop->nhandlers)
				continue;
			struct event_handler *h = &loop->handlers[fd];
			/* Removed, or removed and re-added, by an earlier
			 * callback of this batch: the event is stale. */
			if (!h->active || h->generation != gen)
				continue;
			h->cb(h->ctx, evs[i].events);
		}
		event_run_timers(loop);
	}
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}
