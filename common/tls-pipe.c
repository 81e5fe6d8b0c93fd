#include "tls-pipe.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void tls_pipe_init(struct tls_pipe *p, size_t cap)
{
	memset(p, 0, sizeof(*p));
	p->cap = cap;
}

void tls_pipe_free(struct tls_pipe *p)
{
	if (p->data != NULL) {
		explicit_bzero(p->data, p->cap);
		free(p->data);
	}
	p->data = NULL;
	p->start = p->len = 0;
}

size_t tls_pipe_room(const struct tls_pipe *p)
{
	return p->cap - p->len;
}

uint8_t *tls_pipe_space(struct tls_pipe *p, size_t *size_r)
{
	*size_r = 0;
	if (p->len == p->cap)
		return NULL;
	if (p->data == NULL)
		p->data = xmalloc(p->cap);
	/* Keep the free space in one piece: move the unread bytes to the
	 * front (at most cap bytes, and only once the tail is used up). */
	if (p->start > 0 && p->start + p->len == p->cap) {
		memmove(p->data, p->data + p->start, p->len);
		p->start = 0;
	}
	*size_r = p->cap - p->start - p->len;
	return p->data + p->start + p->len;
}

void tls_pipe_added(struct tls_pipe *p, size_t n)
{
	if (n > p->cap - p->start - p->len)
		abort();	/* more than tls_pipe_space offered: a bug */
	p->len += n;
}

const uint8_t *tls_pipe_peek(const struct tls_pipe *p, size_t *len_r)
{
	*len_r = p->len;
	return p->len > 0 ? p->data + p->start : NULL;
}

void tls_pipe_consumed(struct tls_pipe *p, size_t n)
{
	if (n > p->len)
		abort();
	p->start += n;
	p->len -= n;
	if (p->len == 0)
		tls_pipe_free(p);
}

void tls_pipe_clear(struct tls_pipe *p)
{
	tls_pipe_free(p);
}

void tls_pipe_shrink(struct tls_pipe *p)
{
	if (p->len == 0)
		tls_pipe_free(p);
}

struct tls_proxy_interest tls_proxy_interest(const struct tls_proxy_state *s)
{
	struct tls_proxy_interest in;
	memset(&in, 0, sizeof(in));
	/* A client that is gone ends the session at once: the worker needs
	 * none of its last bytes (it sees EOF, as with a plaintext client).
	 * A worker that is gone (LOGOUT, BYE, kick) still has its last words
	 * delivered to the client. */
	if (s->client_eof || (s->worker_eof && s->down->len == 0)) {
		in.finished = true;
		return in;
	}
	in.client_read = !s->worker_eof && tls_pipe_room(s->up) > 0;
	in.client_write = s->down->len > 0 || s->tls_wants_write;
	if (!s->worker_eof) {
		in.worker_read = tls_pipe_room(s->down) > 0;
		in.worker_write = s->up->len > 0;
	}
	return in;
}
