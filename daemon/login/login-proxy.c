/* A TLS session after login: this process keeps the TLS state and relays
 * plaintext between the client and the user's worker over a socketpair
 * (ARCHITECTURE: kTLS is a later optimisation). Each direction has a
 * bounded pipe; a side is not read while the pipe toward the other side
 * is full, so a fast sender is held back by TCP instead of by our memory
 * (common/tls-pipe.h has the rule). Many sessions share the process's one
 * event loop; each wake-up moves at most a few rounds of data so one busy
 * session cannot starve the others. */
#include "login.h"

#include "../../common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOGIN_PROXY_PIPE (64 * 1024)
#define LOGIN_PROXY_ROUNDS 8
#define LOGIN_PROXY_CLOSE_MS 5000

static void login_proxy_run(struct login_conn *c);

static void login_proxy_worker_ready(void *ctx, uint32_t events)
{
	(void)events;
	login_proxy_run(ctx);
}

static void login_proxy_kick(void *ctx)
{
	struct login_conn *c = ctx;
	c->proxy->kick = NULL;
	login_proxy_run(c);
}

static void login_proxy_close_timeout(void *ctx)
{
	struct login_conn *c = ctx;
	c->timer = NULL;
	login_conn_free(c);
}

void login_proxy_start(struct login_conn *c, int worker_fd)
{
	struct login_proxy *p = xcalloc(1, sizeof(*p));
	p->worker_fd = worker_fd;
	tls_pipe_init(&p->up, LOGIN_PROXY_PIPE);
	tls_pipe_init(&p->down, LOGIN_PROXY_PIPE);
	/* Pre-login state is done with; what the client sent after its
	 * LOGIN line went to the worker with the hand-off. */
	imap_parser_wipe(c->parser);
	imap_parser_free(c->parser);
	c->parser = NULL;
	free(c->auth_tag);
	c->auth_tag = NULL;
	buf_wipe(&c->net.in);
	buf_wipe(&c->net.out);
	event_timer_cancel(login.loop, c->timer);
	c->timer = NULL;
	c->proxy = p;
	c->state = LOGIN_CONN_PROXY;
	event_add_fd(login.loop, worker_fd, EPOLLIN, login_proxy_worker_ready,
		     c);
	/* GnuTLS may already hold decrypted bytes epoll will not report. */
	login_proxy_run(c);
}

void login_proxy_free(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	event_timer_cancel(login.loop, p->kick);
	if (p->worker_fd >= 0) {
		event_del_fd(login.loop, p->worker_fd);
		close(p->worker_fd);
	}
	tls_pipe_free(&p->up);
	tls_pipe_free(&p->down);
	free(p);
	c->proxy = NULL;
}

static void login_proxy_client_gone(struct login_conn *c, const char *error)
{
	if (error != NULL)
		log_msg(LOG_LEVEL_INFO, c->id, "TLS error from %s: %s",
			c->remote, error);
	c->proxy->client_eof = true;
	tls_pipe_clear(&c->proxy->down);
}

static void login_proxy_worker_gone(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	p->worker_eof = true;
	tls_pipe_clear(&p->up);
	/* Closed now: a hung-up socket would wake epoll forever while the
	 * client drains the worker's last words. */
	event_del_fd(login.loop, p->worker_fd);
	close(p->worker_fd);
	p->worker_fd = -1;
}

/* Client -> up pipe. */
static bool login_proxy_from_client(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	bool moved = false;
	/* Only a receive that is under way may want the socket writable: a
	 * flag left from an earlier one while the up pipe is full would keep
	 * EPOLLOUT armed on an idle socket and spin the loop until the
	 * worker drains. */
	p->recv_wants_write = false;
	while (!p->client_eof && !p->worker_eof) {
		size_t room;
		uint8_t *space = tls_pipe_space(&p->up, &room);
		if (space == NULL)
			break;
		const char *error = NULL;
		ssize_t n = tls_session_recv(c->tls_session, space, room, &error);
		if (n > 0) {
			tls_pipe_added(&p->up, (size_t)n);
			moved = true;
			continue;
		}
		if (n == TLS_IO_AGAIN)
			p->recv_wants_write = tls_session_wants_write(c->tls_session);
		else
			login_proxy_client_gone(c, n == TLS_IO_EOF ? NULL : error);
		break;
	}
	tls_pipe_shrink(&p->up);
	return moved;
}

/* Up pipe -> worker. */
static bool login_proxy_to_worker(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	bool moved = false;
	while (!p->worker_eof) {
		size_t len;
		const uint8_t *data = tls_pipe_peek(&p->up, &len);
		if (data == NULL)
			break;
		ssize_t n = send(p->worker_fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			tls_pipe_consumed(&p->up, (size_t)n);
			moved = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		login_proxy_worker_gone(c);
	}
	return moved;
}

/* Worker -> down pipe. */
static bool login_proxy_from_worker(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	bool moved = false;
	while (!p->worker_eof && !p->client_eof) {
		size_t room;
		uint8_t *space = tls_pipe_space(&p->down, &room);
		if (space == NULL)
			break;
		ssize_t n = recv(p->worker_fd, space, room, 0);
		if (n > 0) {
			tls_pipe_added(&p->down, (size_t)n);
			moved = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		login_proxy_worker_gone(c);
	}
	tls_pipe_shrink(&p->down);
	return moved;
}

/* Down pipe -> client, a record at a time. */
static bool login_proxy_to_client(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	bool moved = false;
	p->send_blocked = false;
	while (!p->client_eof) {
		size_t len;
		const uint8_t *data = tls_pipe_peek(&p->down, &len);
		if (data == NULL)
			break;
		const char *error = NULL;
		ssize_t n = tls_session_send(c->tls_session, data, len, &error);
		if (n > 0) {
			tls_pipe_consumed(&p->down, (size_t)n);
			moved = true;
			continue;
		}
		if (n == TLS_IO_AGAIN)
			p->send_blocked = true;
		else
			login_proxy_client_gone(c, error);
		break;
	}
	return moved;
}

/* The worker ended the session (LOGOUT, BYE, kick) and its last bytes
 * are out: close_notify, FIN, and wait for the client's FIN, so closing
 * with its unread bytes does not reset the connection under the
 * client's last read. */
static void login_proxy_finish(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	if (p->client_eof) {
		log_msg(LOG_LEVEL_DEBUG, c->id, "TLS session from %s ended",
			c->remote);
		login_conn_free(c);
		return;
	}
	tls_session_bye(c->tls_session);
	shutdown(c->net.fd, SHUT_WR);
	p->closing = true;
	event_mod_fd(login.loop, c->net.fd, EPOLLIN);
	c->timer = event_timer_add(login.loop, LOGIN_PROXY_CLOSE_MS,
				   login_proxy_close_timeout, c);
}

static void login_proxy_run(struct login_conn *c)
{
	struct login_proxy *p = c->proxy;
	event_timer_cancel(login.loop, p->kick);
	p->kick = NULL;
	for (int round = 0; round < LOGIN_PROXY_ROUNDS; round++) {
		bool moved = login_proxy_from_client(c);
		moved |= login_proxy_to_worker(c);
		moved |= login_proxy_from_worker(c);
		moved |= login_proxy_to_client(c);
		if (!moved)
			break;
	}
	struct tls_proxy_state st = {
		.up = &p->up,
		.down = &p->down,
		.client_eof = p->client_eof,
		.worker_eof = p->worker_eof,
		.tls_wants_write = p->recv_wants_write || p->send_blocked,
	};
	struct tls_proxy_interest in = tls_proxy_interest(&st);
	if (in.finished) {
		login_proxy_finish(c);
		return;
	}
	event_mod_fd(login.loop, c->net.fd,
		     (in.client_read ? EPOLLIN : 0) |
		     (in.client_write ? EPOLLOUT : 0));
	if (p->worker_fd >= 0)
		event_mod_fd(login.loop, p->worker_fd,
			     (in.worker_read ? EPOLLIN : 0) |
			     (in.worker_write ? EPOLLOUT : 0));
	/* Decrypted bytes GnuTLS holds wake no epoll: come back for them
	 * (also when the round limit stopped us). */
	if (in.client_read && tls_session_pending(c->tls_session) > 0)
		p->kick = event_timer_add(login.loop, 0, login_proxy_kick, c);
}

void login_proxy_client_io(struct login_conn *c, uint32_t events)
{
	struct login_proxy *p = c->proxy;
	if (p->closing) {
		/* Discard until the client's FIN. */
		uint8_t scratch[4096];
		for (;;) {
			ssize_t n = recv(c->net.fd, scratch, sizeof(scratch), 0);
			if (n > 0)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			log_msg(LOG_LEVEL_DEBUG, c->id,
				"TLS session from %s ended", c->remote);
			login_conn_free(c);
			return;
		}
	}
	if (events & EPOLLERR) {
		login_proxy_client_gone(c, NULL);
		login_conn_free(c);
		return;
	}
	login_proxy_run(c);
}
