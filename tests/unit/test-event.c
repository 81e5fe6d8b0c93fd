/* The event loop: fd callbacks, timer order and cancellation, stale events
 * after a callback removed another fd, and event_loop_stop. Every loop run
 * has a guard timer, and alarm() backs that up, so a broken loop fails the
 * test instead of hanging it. */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/event.h"

#define GUARD_MS 3000
#define IDLE_MS 100

struct guard {
	struct event_loop *loop;
	bool fired;
};

static void guard_cb(void *ctx)
{
	struct guard *g = ctx;
	g->fired = true;
	event_loop_stop(g->loop);
}

/* Runs the loop with a guard timer of ms; true if something else stopped
 * it first. */
static bool run_for(struct event_loop *loop, uint64_t ms)
{
	struct guard g = { .loop = loop, .fired = false };
	struct event_timer *t = event_timer_add(loop, ms, guard_cb, &g);
	alarm(30);
	event_loop_run(loop);
	alarm(0);
	if (!g.fired)
		event_timer_cancel(loop, t);
	return !g.fired;
}

/* For runs a callback is expected to stop. */
static bool run_guarded(struct event_loop *loop)
{
	return run_for(loop, GUARD_MS);
}

/* For runs where nothing is expected to happen: false if nothing did. */
static bool run_idle(struct event_loop *loop)
{
	return run_for(loop, IDLE_MS);
}

static void make_pipe(int p[2])
{
	CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
}

/* ---- fd callbacks ----------------------------------------------------- */

struct io_rec {
	struct event_loop *loop;
	int fd;
	int calls;
	uint32_t events;
	char data[16];
	bool stop;
};

static void io_read_cb(void *ctx, uint32_t events)
{
	struct io_rec *r = ctx;
	r->calls++;
	r->events |= events;
	if (events & EPOLLIN) {
		ssize_t n = read(r->fd, r->data, sizeof(r->data) - 1);
		if (n > 0)
			r->data[n] = '\0';
	}
	if (r->stop)
		event_loop_stop(r->loop);
}

static void test_fd_callback(void)
{
	struct event_loop *loop = event_loop_new();
	int p[2];
	make_pipe(p);
	struct io_rec r = { .loop = loop, .fd = p[0], .stop = true };
	event_add_fd(loop, p[0], EPOLLIN, io_read_cb, &r);
	CU_ASSERT_EQUAL(write(p[1], "ping", 4), 4);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT(r.events & EPOLLIN);
	CU_ASSERT_STRING_EQUAL(r.data, "ping");

	/* Nothing readable now: the callback is not called again. */
	r.calls = 0;
	r.stop = false;
	CU_ASSERT_FALSE(run_idle(loop));
	CU_ASSERT_EQUAL(r.calls, 0);

	/* Level-triggered: readable data keeps calling until read. */
	r.stop = true;
	CU_ASSERT_EQUAL(write(p[1], "x", 1), 1);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(r.calls, 1);

	/* Writable end, switched between EPOLLOUT and nothing. */
	struct io_rec w = { .loop = loop, .fd = p[1], .stop = true };
	event_add_fd(loop, p[1], EPOLLOUT, io_read_cb, &w);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(w.calls, 1);
	CU_ASSERT(w.events & EPOLLOUT);
	event_mod_fd(loop, p[1], 0);
	w.calls = 0;
	r.calls = 0;
	CU_ASSERT_FALSE(run_idle(loop));
	CU_ASSERT_EQUAL(w.calls, 0);
	CU_ASSERT_EQUAL(r.calls, 0);
	event_mod_fd(loop, p[1], EPOLLOUT);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(w.calls, 1);

	/* A removed fd is not called, even when ready. */
	event_del_fd(loop, p[1]);
	event_del_fd(loop, p[1]);	/* twice is harmless */
	CU_ASSERT_EQUAL(write(p[1], "y", 1), 1);
	event_del_fd(loop, p[0]);
	w.calls = 0;
	r.calls = 0;
	CU_ASSERT_FALSE(run_idle(loop));
	CU_ASSERT_EQUAL(w.calls, 0);
	CU_ASSERT_EQUAL(r.calls, 0);

	/* ...and can be added again. */
	r.stop = true;
	event_add_fd(loop, p[0], EPOLLIN, io_read_cb, &r);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_STRING_EQUAL(r.data, "y");

	/* Peer hang-up is reported to a reader. */
	close(p[1]);
	r.calls = 0;
	r.events = 0;
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT(r.events & EPOLLHUP);
	event_del_fd(loop, p[0]);
	close(p[0]);
	event_loop_free(loop);
}

/* ---- timers ----------------------------------------------------------- */

struct timer_log {
	struct event_loop *loop;
	int order[64];
	uint64_t at[64];
	int n;
	int stop_after;
	struct event_timer *cancel_me;
};

struct timer_arg {
	struct timer_log *log;
	int id;
};

static void timer_cb(void *ctx)
{
	struct timer_arg *a = ctx;
	struct timer_log *log = a->log;
	if (log->n < 64) {
		log->order[log->n] = a->id;
		log->at[log->n] = event_now_ms();
		log->n++;
	}
	if (log->cancel_me != NULL) {
		event_timer_cancel(log->loop, log->cancel_me);
		log->cancel_me = NULL;
	}
	if (log->n == log->stop_after)
		event_loop_stop(log->loop);
}

static void test_timer_order(void)
{
	struct event_loop *loop = event_loop_new();
	struct timer_log log = { .loop = loop, .stop_after = 6 };
	/* Added out of order; equal times fire in the order added. */
	static const uint64_t ms[] = { 60, 20, 40, 20, 0, 20 };
	struct timer_arg args[6];
	uint64_t start = event_now_ms();
	for (int i = 0; i < 6; i++) {
		args[i] = (struct timer_arg){ &log, i };
		event_timer_add(loop, ms[i], timer_cb, &args[i]);
	}
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL_FATAL(log.n, 6);
	static const int want[] = { 4, 1, 3, 5, 2, 0 };
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(log.order[i], want[i]);
		/* never early */
		CU_ASSERT(log.at[i] >= start + ms[want[i]]);
	}
	/* not absurdly late either */
	CU_ASSERT(log.at[5] < start + 60 + 1000);

	event_loop_free(loop);
}

static void chain_cb(void *ctx)
{
	struct timer_arg *a = ctx;
	struct timer_log *log = a->log;
	log->order[log->n++] = a->id;
	if (a->id < 3) {
		a->id++;
		event_timer_add(log->loop, 5, chain_cb, a);
	} else {
		event_loop_stop(log->loop);
	}
}

static void test_timer_from_callback(void)
{
	struct event_loop *loop = event_loop_new();
	struct timer_log log = { .loop = loop };
	struct timer_arg a = { &log, 0 };
	event_timer_add(loop, 0, chain_cb, &a);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL_FATAL(log.n, 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(log.order[i], i);
	event_loop_free(loop);
}

static void test_timer_cancel(void)
{
	struct event_loop *loop = event_loop_new();
	struct timer_log log = { .loop = loop, .stop_after = 2 };
	struct timer_arg args[4];
	for (int i = 0; i < 4; i++)
		args[i] = (struct timer_arg){ &log, i };
	struct event_timer *t0 = event_timer_add(loop, 10, timer_cb, &args[0]);
	event_timer_add(loop, 20, timer_cb, &args[1]);
	event_timer_add(loop, 30, timer_cb, &args[2]);
	event_timer_add(loop, 50, timer_cb, &args[3]);
	event_timer_cancel(loop, t0);
	event_timer_cancel(loop, NULL);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL_FATAL(log.n, 2);
	CU_ASSERT_EQUAL(log.order[0], 1);
	CU_ASSERT_EQUAL(log.order[1], 2);
	/* The 50 ms timer is still pending. */
	log.stop_after = 3;
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(log.n, 3);
	CU_ASSERT_EQUAL(log.order[2], 3);
	event_loop_free(loop);

	/* A callback cancels a timer that is due in the same pass. */
	loop = event_loop_new();
	memset(&log, 0, sizeof(log));
	log.loop = loop;
	log.stop_after = 2;
	event_timer_add(loop, 10, timer_cb, &args[0]);
	log.cancel_me = event_timer_add(loop, 10, timer_cb, &args[1]);
	event_timer_add(loop, 10, timer_cb, &args[2]);
	usleep(20 * 1000);
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL_FATAL(log.n, 2);
	CU_ASSERT_EQUAL(log.order[0], 0);
	CU_ASSERT_EQUAL(log.order[1], 2);
	event_loop_free(loop);
}

/* Cancelling from the middle of a bigger heap keeps the others in order.
 * A timer's due time is taken when it is added, so each one is known only
 * within the clock readings around its event_timer_add (slow machines and
 * valgrind can take milliseconds over the 48 adds). */
static void test_timer_cancel_many(void)
{
	enum { N = 48 };
	struct event_loop *loop = event_loop_new();
	struct timer_log log = { .loop = loop };
	struct timer_arg args[N];
	struct event_timer *timers[N];
	uint64_t lo[N], hi[N];
	unsigned seed = 12345;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		uint64_t ms = (seed >> 16) % 40;
		args[i] = (struct timer_arg){ &log, i };
		lo[i] = event_now_ms() + ms;
		timers[i] = event_timer_add(loop, ms, timer_cb, &args[i]);
		hi[i] = event_now_ms() + ms;
	}
	int kept = 0;
	for (int i = 0; i < N; i++) {
		if (i % 3 == 1)
			event_timer_cancel(loop, timers[i]);
		else
			kept++;
	}
	log.stop_after = kept;
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL_FATAL(log.n, kept);
	for (int i = 0; i < log.n; i++) {
		int id = log.order[i];
		CU_ASSERT(id % 3 != 1);
		CU_ASSERT(log.at[i] >= lo[id]);
		if (i == 0)
			continue;
		int prev = log.order[i - 1];
		/* prev cannot have been due after id... */
		CU_ASSERT(lo[prev] <= hi[id]);
		/* ...and of two timers due at one known time, the one added
		 * first fires first. */
		if (lo[prev] == hi[prev] && lo[id] == hi[id] &&
		    lo[prev] == lo[id])
			CU_ASSERT(prev < id);
	}
	event_loop_free(loop);
}

/* Freeing a loop with timers still pending frees them (ASan checks). */
static void test_free_with_timers(void)
{
	struct event_loop *loop = event_loop_new();
	struct timer_log log = { .loop = loop };
	struct timer_arg a = { &log, 0 };
	for (int i = 0; i < 40; i++)
		event_timer_add(loop, 100000 + (uint64_t)i, timer_cb, &a);
	event_loop_free(loop);
	event_loop_free(NULL);
	CU_ASSERT_EQUAL(log.n, 0);
}

/* ---- stale events ----------------------------------------------------- */

struct pair_ctx {
	struct event_loop *loop;
	int self_fd;
	int *other_fd;
	int calls;
	int *replacement_fd;	/* if set: reuse the other's fd number */
	struct pair_ctx *replacement_ctx;
};

static void pair_cb(void *ctx, uint32_t events)
{
	struct pair_ctx *c = ctx;
	(void)events;
	c->calls++;
	char buf[8];
	(void)read(c->self_fd, buf, sizeof(buf));
	if (*c->other_fd < 0)
		return;
	int other = *c->other_fd;
	*c->other_fd = -1;
	event_del_fd(c->loop, other);
	if (c->replacement_fd == NULL) {
		close(other);
		return;
	}
	/* A new, idle fd under the same number with a new callback: the
	 * event already fetched for the old one must not reach it. */
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return;
	dup3(p[0], other, O_CLOEXEC);	/* closes the old one */
	close(p[0]);
	*c->replacement_fd = p[1];
	c->replacement_ctx->self_fd = other;
	event_add_fd(c->loop, other, EPOLLIN, pair_cb, c->replacement_ctx);
}

static void stop_cb(void *ctx)
{
	event_loop_stop(ctx);
}

static void run_stale_case(bool reuse_number)
{
	struct event_loop *loop = event_loop_new();
	int a[2], b[2];
	make_pipe(a);
	make_pipe(b);
	int a_fd = a[0], b_fd = b[0];
	int new_writer = -1, dummy = -1;
	struct pair_ctx ca = { loop, a[0], &b_fd, 0, NULL, NULL };
	struct pair_ctx cb = { loop, b[0], &a_fd, 0, NULL, NULL };
	struct pair_ctx cnew = { loop, -1, &dummy, 0, NULL, NULL };
	if (reuse_number) {
		ca.replacement_fd = &new_writer;
		ca.replacement_ctx = &cnew;
		cb.replacement_fd = &new_writer;
		cb.replacement_ctx = &cnew;
	}
	event_add_fd(loop, a[0], EPOLLIN, pair_cb, &ca);
	event_add_fd(loop, b[0], EPOLLIN, pair_cb, &cb);
	/* Both readable before the loop runs: one epoll_wait batch. */
	CU_ASSERT_EQUAL(write(a[1], "a", 1), 1);
	CU_ASSERT_EQUAL(write(b[1], "b", 1), 1);
	event_timer_add(loop, 50, stop_cb, loop);
	CU_ASSERT(run_guarded(loop));
	/* Whichever ran first removed the other; the other never ran. */
	CU_ASSERT_EQUAL(ca.calls + cb.calls, 1);
	CU_ASSERT_EQUAL(cnew.calls, 0);
	if (reuse_number) {
		CU_ASSERT(new_writer >= 0);
		CU_ASSERT(cnew.self_fd == a[0] || cnew.self_fd == b[0]);
	}

	if (a_fd >= 0) {
		event_del_fd(loop, a_fd);
		close(a_fd);
	}
	if (b_fd >= 0) {
		event_del_fd(loop, b_fd);
		close(b_fd);
	}
	if (cnew.self_fd >= 0) {
		event_del_fd(loop, cnew.self_fd);
		close(cnew.self_fd);
	}
	if (new_writer >= 0)
		close(new_writer);
	close(a[1]);
	close(b[1]);
	event_loop_free(loop);
}

static void test_stale_event(void)
{
	run_stale_case(false);
	run_stale_case(true);
}

/* ---- event_loop_stop -------------------------------------------------- */

static void test_stop(void)
{
	struct event_loop *loop = event_loop_new();
	int a[2], b[2];
	make_pipe(a);
	make_pipe(b);
	struct io_rec ra = { .loop = loop, .fd = a[0], .stop = true };
	struct io_rec rb = { .loop = loop, .fd = b[0], .stop = true };
	event_add_fd(loop, a[0], EPOLLIN, io_read_cb, &ra);
	event_add_fd(loop, b[0], EPOLLIN, io_read_cb, &rb);
	CU_ASSERT_EQUAL(write(a[1], "a", 1), 1);
	CU_ASSERT_EQUAL(write(b[1], "b", 1), 1);
	struct timer_log log = { .loop = loop };
	struct timer_arg ta = { &log, 0 };
	event_timer_add(loop, 0, timer_cb, &ta);
	usleep(2000);
	/* Stop takes effect at once: the rest of the batch and the due
	 * timer wait for the next run. */
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(ra.calls + rb.calls, 1);
	CU_ASSERT_EQUAL(log.n, 0);

	/* Running again resumes with what is still pending. */
	ra.stop = rb.stop = false;
	log.stop_after = 1;
	CU_ASSERT(run_guarded(loop));
	CU_ASSERT_EQUAL(ra.calls, 1);
	CU_ASSERT_EQUAL(rb.calls, 1);
	CU_ASSERT_EQUAL(log.n, 1);

	/* Stop called before run does not carry over into it. */
	event_loop_stop(loop);
	CU_ASSERT_FALSE(run_idle(loop));

	event_del_fd(loop, a[0]);
	event_del_fd(loop, b[0]);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	event_loop_free(loop);
}

static void test_now_monotonic(void)
{
	uint64_t t0 = event_now_ms();
	usleep(20 * 1000);
	uint64_t t1 = event_now_ms();
	CU_ASSERT(t1 >= t0 + 20);
	CU_ASSERT(t1 < t0 + 2000);
}

static void register_event(void)
{
	CU_pSuite s = CU_add_suite("event", NULL, NULL);
	CU_add_test(s, "fd callback", test_fd_callback);
	CU_add_test(s, "timer order", test_timer_order);
	CU_add_test(s, "timer from callback", test_timer_from_callback);
	CU_add_test(s, "timer cancel", test_timer_cancel);
	CU_add_test(s, "timer cancel many", test_timer_cancel_many);
	CU_add_test(s, "free with timers", test_free_with_timers);
	CU_add_test(s, "stale event", test_stale_event);
	CU_add_test(s, "stop", test_stop);
	CU_add_test(s, "now monotonic", test_now_monotonic);
}

UNIT_SUITE(register_event)
