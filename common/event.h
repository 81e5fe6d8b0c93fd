/* One epoll event loop per process, with one-shot timers. Callbacks may
 * add or remove any fd or timer, including their own. */
#ifndef POSTERN_EVENT_H
#define POSTERN_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct event_loop;
struct event_timer;

typedef void event_io_cb(void *ctx, uint32_t events);
typedef void event_timer_cb(void *ctx);

struct event_loop *event_loop_new(void);
void event_loop_free(struct event_loop *loop);
/* events: EPOLLIN / EPOLLOUT. Fatal on a bad fd (a bug). */
void event_add_fd(struct event_loop *loop, int fd, uint32_t events,
		  event_io_cb *cb, void *ctx);
void event_mod_fd(struct event_loop *loop, int fd, uint32_t events);
void event_del_fd(struct event_loop *loop, int fd);

struct event_timer *event_timer_add(struct event_loop *loop, uint64_t ms,
				    event_timer_cb *cb, void *ctx);
/* Safe on NULL. */
void event_timer_cancel(struct event_loop *loop, struct event_timer *t);

/* Runs until event_loop_stop. */
void event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

uint64_t event_now_ms(void);

#endif
