/* IPC framing shared by every channel (master <-> children, posternctl).
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, so each frame is one datagram and a
 * passed fd arrives with exactly the frame it belongs to.
 *
 * Frame: a 12-byte header, all fields little-endian,
 *   u16 type | u16 flags | u32 payload length | u32 session id
 * followed by the payload. Payloads are built and read with the typed
 * put/get helpers below (explicit encoding, never a raw struct copy).
 * A reader that finds a short field, trailing bytes or an embedded NUL in a
 * string marks itself failed; the caller then drops the peer. */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IPC_HEADER_SIZE 12
#define IPC_MAX_PAYLOAD (256u * 1024u)
#define IPC_MAX_FRAME (IPC_HEADER_SIZE + IPC_MAX_PAYLOAD)

/* The frame carries one file descriptor (SCM_RIGHTS). */
#define IPC_FLAG_FD 0x0001u
#define IPC_FLAGS_KNOWN IPC_FLAG_FD

struct ipc_header {
	uint16_t type;
	uint16_t flags;
	uint32_t length;
	uint32_t session;
};

enum ipc_decode_result {
	IPC_DECODE_OK,
	IPC_DECODE_ERROR,
};

/* Pure decoder of one received datagram. has_fd says whether an fd came
 * with it. On success the payload is data + IPC_HEADER_SIZE. Rejects: a
 * datagram shorter than the header, a length field that disagrees with the
 * datagram size, a payload over IPC_MAX_PAYLOAD, unknown flags, a type not
 * in ipc-messages.h, an fd without IPC_FLAG_FD or the flag without an fd. */
enum ipc_decode_result ipc_decode(const uint8_t *data, size_t len, bool has_fd,
				  struct ipc_header *hdr_r,
				  const char **error_r);

/* Building a frame. */
void ipc_frame_begin(struct buf *b, uint16_t type, uint32_t session);
void ipc_put_u8(struct buf *b, uint8_t v);
void ipc_put_u16(struct buf *b, uint16_t v);
void ipc_put_u32(struct buf *b, uint32_t v);
void ipc_put_u64(struct buf *b, uint64_t v);
/* u32 length + bytes */
void ipc_put_bytes(struct buf *b, const void *data, size_t len);
void ipc_put_str(struct buf *b, const char *s);
/* Fills in the length; sets IPC_FLAG_FD if with_fd. */
void ipc_frame_end(struct buf *b, bool with_fd);

/* Reading a payload. */
struct ipc_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
	bool failed;
};

void ipc_reader_init(struct ipc_reader *r, const uint8_t *payload, size_t len);
bool ipc_get_u8(struct ipc_reader *r, uint8_t *v_r);
bool ipc_get_u16(struct ipc_reader *r, uint16_t *v_r);
bool ipc_get_u32(struct ipc_reader *r, uint32_t *v_r);
bool ipc_get_u64(struct ipc_reader *r, uint64_t *v_r);
/* Points into the payload; no copy. */
bool ipc_get_bytes(struct ipc_reader *r, const uint8_t **data_r, size_t *len_r);
/* Copies into a new NUL-terminated string; refuses embedded NULs and
 * strings longer than max_len. */
bool ipc_get_str(struct ipc_reader *r, size_t max_len, char **str_r);
/* True if every byte was consumed and nothing failed. */
bool ipc_reader_done(struct ipc_reader *r);

/* A received, decoded message. */
struct ipc_msg {
	struct ipc_header hdr;
	const uint8_t *payload;	/* valid until the next receive */
	int fd;			/* -1 unless IPC_FLAG_FD */
};

/* A non-blocking SEQPACKET channel with an output queue. */
struct ipc_channel {
	int fd;
	uint8_t *rxbuf;
	struct ipc_outq *outq_head;
	struct ipc_outq *outq_tail;
	size_t outq_bytes;
};

void ipc_channel_init(struct ipc_channel *ch, int fd);
/* Closes the socket, any queued fds and frees the queue. */
void ipc_channel_close(struct ipc_channel *ch);
/* Queues a frame built with ipc_frame_*; fd (or -1) is sent with it and
 * closed here once sent (the caller gives up ownership). */
void ipc_channel_send(struct ipc_channel *ch, struct buf *frame, int fd);
/* Sends as much as the socket takes. 1: queue empty, 0: more queued,
 * -1: peer gone or error. */
int ipc_channel_flush(struct ipc_channel *ch);
bool ipc_channel_pending(const struct ipc_channel *ch);
/* 1: message in msg_r, 0: nothing available (EAGAIN), -1: peer closed or a
 * malformed frame (error_r says which; the caller drops the peer). */
int ipc_channel_recv(struct ipc_channel *ch, struct ipc_msg *msg_r,
		     const char **error_r);

/* Blocking helpers for simple request/reply users (posternctl, tests). */
int ipc_send_blocking(int fd, struct buf *frame, int pass_fd);
int ipc_recv_blocking(int fd, uint8_t *buf, size_t size, struct ipc_msg *msg_r,
		      const char **error_r);

#endif
