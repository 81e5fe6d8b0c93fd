/* The TLS proxy's bounded byte pipes and its backpressure rule, kept free
 * of I/O so they can be tested alone (tests/unit/test-tls-pipe.c).
 *
 * A pipe holds at most cap bytes; its storage is allocated when bytes
 * arrive and freed when the last byte leaves, so an idle proxied session
 * costs no buffer memory. */
#ifndef POSTERN_TLS_PIPE_H
#define POSTERN_TLS_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tls_pipe {
	uint8_t *data;		/* NULL while empty */
	size_t start;		/* first unread byte */
	size_t len;		/* unread bytes */
	size_t cap;
};

void tls_pipe_init(struct tls_pipe *p, size_t cap);
/* Wipes and frees the storage (the bytes may be a user's mail). */
void tls_pipe_free(struct tls_pipe *p);
size_t tls_pipe_room(const struct tls_pipe *p);
/* Contiguous free space for up to tls_pipe_room bytes (NULL if full);
 * fill some of it, then tls_pipe_added. */
uint8_t *tls_pipe_space(struct tls_pipe *p, size_t *size_r);
void tls_pipe_added(struct tls_pipe *p, size_t n);
/* The unread bytes, in one piece (NULL if none). */
const uint8_t *tls_pipe_peek(const struct tls_pipe *p, size_t *len_r);
void tls_pipe_consumed(struct tls_pipe *p, size_t n);
/* Drops everything unread (the side it was going to is gone). */
void tls_pipe_clear(struct tls_pipe *p);
/* Frees the storage if nothing is unread (after a read that found
 * nothing: an idle session keeps no buffer). */
void tls_pipe_shrink(struct tls_pipe *p);

/* Which way each end of a proxied session should be watched. "up" flows
 * client -> worker, "down" worker -> client. A side stops being read
 * while the pipe toward the other side is full (backpressure), and is
 * written only while its pipe holds bytes or GnuTLS has a record half
 * sent. */
struct tls_proxy_state {
	const struct tls_pipe *up;
	const struct tls_pipe *down;
	bool client_eof;	/* client gone or failed: finished */
	bool worker_eof;	/* worker closed its end or failed */
	bool tls_wants_write;	/* the last TLS call blocked on writing */
};

struct tls_proxy_interest {
	bool client_read, client_write;
	bool worker_read, worker_write;
	bool finished;		/* nothing more can move: close both */
};

struct tls_proxy_interest tls_proxy_interest(const struct tls_proxy_state *s);

#endif
