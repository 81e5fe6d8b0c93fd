#include "ipc.h"
#include "ipc-messages.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ipc_outq {
	struct ipc_outq *next;
	int fd;
	size_t len;
	uint8_t data[];
};

static bool ipc_type_known(uint16_t type)
{
	switch ((enum ipc_msg_type)type) {
	case IPC_MSG_SANDBOX_VIOLATION:
	case IPC_MSG_LOGIN_CONFIG:
	case IPC_MSG_LOGIN_LISTENER:
	case IPC_MSG_LOGIN_START:
	case IPC_MSG_AUTH_REQUEST:
	case IPC_MSG_AUTH_REPLY:
	case IPC_MSG_SESSION_HANDOFF:
	case IPC_MSG_SESSION_GONE:
	case IPC_MSG_LOGIN_TLS:
	case IPC_MSG_AUTH_CONFIG:
	case IPC_MSG_AUTH_CHECK:
	case IPC_MSG_AUTH_RESULT:
	case IPC_MSG_WORKER_INIT:
	case IPC_MSG_WORKER_SESSION:
	case IPC_MSG_WORKER_SESSION_CLOSED:
	case IPC_MSG_WORKER_EXIT_REQUEST:
	case IPC_MSG_WORKER_EXIT_OK:
	case IPC_MSG_WORKER_KICK:
	case IPC_MSG_SHUTDOWN:
	case IPC_MSG_CTL_REQUEST:
	case IPC_MSG_CTL_REPLY:
		return true;
	case IPC_MSG_NONE:
	case IPC_MSG_TYPE_MAX:
		break;
	}
	return false;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void set_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

enum ipc_decode_result ipc_decode(const uint8_t *data, size_t len, bool has_fd,
				  struct ipc_header *hdr_r,
				  const char **error_r)
{
	if (len < IPC_HEADER_SIZE) {
		*error_r = "frame shorter than header";
		return IPC_DECODE_ERROR;
	}
	hdr_r->type = get_le16(data);
	hdr_r->flags = get_le16(data + 2);
	hdr_r->length = get_le32(data + 4);
	hdr_r->session = get_le32(data + 8);
	if (hdr_r->length > IPC_MAX_PAYLOAD) {
		*error_r = "payload length over limit";
		return IPC_DECODE_ERROR;
	}
	if ((size_t)hdr_r->length != len - IPC_HEADER_SIZE) {
		*error_r = "payload length does not match frame size";
		return IPC_DECODE_ERROR;
	}
	if ((hdr_r->flags & ~IPC_FLAGS_KNOWN) != 0) {
		*error_r = "unknown flags";
		return IPC_DECODE_ERROR;
	}
	if (!ipc_type_known(hdr_r->type)) {
		*error_r = "unknown message type";
		return IPC_DECODE_ERROR;
	}
	if (has_fd != ((hdr_r->flags & IPC_FLAG_FD) != 0)) {
		*error_r = has_fd ? "unexpected file descriptor" :
				    "missing file descriptor";
		return IPC_DECODE_ERROR;
	}
	return IPC_DECODE_OK;
}

void ipc_frame_begin(struct buf *b, uint16_t type, uint32_t session)
{
	uint8_t hdr[IPC_HEADER_SIZE] = { 0 };
	hdr[0] = (uint8_t)type;
	hdr[1] = (uint8_t)(type >> 8);
	set_le32(hdr + 8, session);
	buf_clear(b);
	buf_append(b, hdr, sizeof(hdr));
}

void ipc_put_u8(struct buf *b, uint8_t v)
{
	buf_append_byte(b, v);
}

void ipc_put_u16(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	buf_append(b, p, 2);
}

void ipc_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4];
	set_le32(p, v);
	buf_append(b, p, 4);
}

void ipc_put_u64(struct buf *b, uint64_t v)
{
	ipc_put_u32(b, (uint32_t)v);
	ipc_put_u32(b, (uint32_t)(v >> 32));
}

void ipc_put_bytes(struct buf *b, const void *data, size_t len)
{
	if (len > IPC_MAX_PAYLOAD)
		fatal("ipc: field of %zu bytes is over the frame limit", len);
	ipc_put_u32(b, (uint32_t)len);
	buf_append(b, data, len);
}

void ipc_put_str(struct buf *b, const char *s)
{
	ipc_put_bytes(b, s, s != NULL ? strlen(s) : 0);
}

void ipc_frame_end(struct buf *b, bool with_fd)
{
	if (b->len < IPC_HEADER_SIZE)
		fatal("ipc: frame without header");
	size_t payload = b->len - IPC_HEADER_SIZE;
	if (payload > IPC_MAX_PAYLOAD)
		fatal("ipc: frame payload of %zu bytes over limit", payload);
	set_le32(b->data + 4, (uint32_t)payload);
	uint16_t flags = with_fd ? IPC_FLAG_FD : 0;
	b->data[2] = (uint8_t)flags;
	b->data[3] = (uint8_t)(flags >> 8);
}

void ipc_reader_init(struct ipc_reader *r, const uint8_t *payload, size_t len)
{
	r->data = payload;
	r->len = len;
	r->off = 0;
	r->failed = false;
}

static const uint8_t *ipc_take(struct ipc_reader *r, size_t n)
{
	if (r->failed || r->len - r->off < n) {
		r->failed = true;
		return NULL;
	}
	const uint8_t *p = r->data + r->off;
	r->off += n;
	return p;
}

bool ipc_get_u8(struct ipc_reader *r, uint8_t *v_r)
{
	const uint8_t *p = ipc_take(r, 1);
	if (p == NULL)
		return false;
	*v_r = p[0];
	return true;
}

bool ipc_get_u16(struct ipc_reader *r, uint16_t *v_r)
{
	const uint8_t *p = ipc_take(r, 2);
	if (p == NULL)
		return false;
	*v_r = get_le16(p);
	return true;
}

bool ipc_get_u32(struct ipc_reader *r, uint32_t *v_r)
{
	const uint8_t *p = ipc_take(r, 4);
	if (p == NULL)
		return false;
	*v_r = get_le32(p);
	return true;
}

bool ipc_get_u64(struct ipc_reader *r, uint64_t *v_r)
{
	const uint8_t *p = ipc_take(r, 8);
	if (p == NULL)
		return false;
	*v_r = (uint64_t)get_le32(p) | ((uint64_t)get_le32(p + 4) << 32);
	return true;
}

bool ipc_get_bytes(struct ipc_reader *r, const uint8_t **data_r, size_t *len_r)
{
	uint32_t len;
	if (!ipc_get_u32(r, &len))
		return false;
	const uint8_t *p = ipc_take(r, len);
	if (p == NULL)
		return false;
	*data_r = p;
	*len_r = len;
	return true;
}

bool ipc_get_str(struct ipc_reader *r, size_t max_len, char **str_r)
{
	const uint8_t *p;
	size_t len;
	if (!ipc_get_bytes(r, &p, &len))
		return false;
	if (len > max_len || memchr(p, '\0', len) != NULL) {
		r->failed = true;
		return false;
	}
	*str_r = xstrndup((const char *)p, len);
	return true;
}

bool ipc_reader_done(struct ipc_reader *r)
{
	return !r->failed && r->off == r->len;
}

/* An AF_UNIX datagram must fit in the sender's SO_SNDBUF, whose default
 * (wmem_default, 208 KiB) is below IPC_MAX_FRAME: without this a full-size
 * frame fails with EMSGSIZE. The kernel doubles the value, so two full
 * frames fit and the cap (wmem_max) is not hit on a stock system. */
static void ipc_fit_max_frame(int fd)
{
	int sndbuf = IPC_MAX_FRAME;
	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				 sizeof(sndbuf));
}

void ipc_channel_init(struct ipc_channel *ch, int fd)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->rxbuf = xmalloc(IPC_MAX_FRAME + 1);
	ipc_fit_max_frame(fd);
}

void ipc_channel_close(struct ipc_channel *ch)
{
	struct ipc_outq *q = ch->outq_head;
	while (q != NULL) {
		struct ipc_outq *next = q->next;
		if (q->fd >= 0)
			close(q->fd);
		free(q);
		q = next;
	}
	ch->outq_head = ch->outq_tail = NULL;
	ch->outq_bytes = 0;
	if (ch->fd >= 0)
		close(ch->fd);
	ch->fd = -1;
	free(ch->rxbuf);
	ch->rxbuf = NULL;
}

static ssize_t ipc_sendmsg(int fd, const uint8_t *data, size_t len, int pass_fd)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (pass_fd >= 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	ssize_t n;
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n;
}

void ipc_channel_send(struct ipc_channel *ch, struct buf *frame, int fd)
{
	struct ipc_outq *q = xmalloc(sizeof(*q) + frame->len);
	q->next = NULL;
	q->fd = fd;
	q->len = frame->len;
	memcpy(q->data, frame->data, frame->len);
	if (ch->outq_tail != NULL)
		ch->outq_tail->next = q;
	else
		ch->outq_head = q;
	ch->outq_tail = q;
	ch->outq_bytes += frame->len;
	(void)ipc_channel_flush(ch);
}

int ipc_channel_flush(struct ipc_channel *ch)
{
	while (ch->outq_head != NULL) {
		struct ipc_outq *q = ch->outq_head;
		if (ch->fd < 0)
			return -1;
		ssize_t n = ipc_sendmsg(ch->fd, q->data, q->len, q->fd);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return 0;
			return -1;
		}
		ch->outq_head = q->next;
		if (ch->outq_head == NULL)
			ch->outq_tail = NULL;
		ch->outq_bytes -= q->len;
		if (q->fd >= 0)
			close(q->fd);
		free(q);
	}
	return 1;
}

bool ipc_channel_pending(const struct ipc_channel *ch)
{
	return ch->outq_head != NULL;
}

/* Receives one datagram; returns its size, 0 on EOF, -1 with errno. Any
 * fd beyond the first, or an fd in a truncated message, is closed. */
static ssize_t ipc_recvmsg(int fd, uint8_t *buf, size_t size, int *fd_r,
			   bool *truncated_r)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cmsgbuf;
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsgbuf.buf,
		.msg_controllen = sizeof(cmsgbuf.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	*fd_r = -1;
	*truncated_r = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int),
			       sizeof(int));
			if (*fd_r < 0) {
				*fd_r = got;
			} else {
				close(got);
				*truncated_r = true;
			}
		}
	}
	return n;
}

static int ipc_receive_into(int fd, uint8_t *buf, size_t size,
			    struct ipc_msg *msg_r, const char **error_r)
{
	int got_fd;
	bool truncated;
	ssize_t n = ipc_recvmsg(fd, buf, size, &got_fd, &truncated);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		*error_r = errno == ECONNRESET ? "peer closed the channel" :
						 strerror(errno);
		return -1;
	}
	if (n == 0) {
		*error_r = "peer closed the channel";
		return -1;
	}
	if (truncated || (size_t)n >= size) {
		if (got_fd >= 0)
			close(got_fd);
		*error_r = "frame over size limit or too many fds";
		return -1;
	}
	if (ipc_decode(buf, (size_t)n, got_fd >= 0, &msg_r->hdr, error_r) !=
	    IPC_DECODE_OK) {
		if (got_fd >= 0)
			close(got_fd);
		return -1;
	}
	msg_r->payload = buf + IPC_HEADER_SIZE;
	msg_r->fd = got_fd;
	return 1;
}

int ipc_channel_recv(struct ipc_channel *ch, struct ipc_msg *msg_r,
		     const char **error_r)
{
	/* +1 so a datagram of exactly IPC_MAX_FRAME+1 bytes shows up as
	 * over-long rather than silently truncated to a valid size. */
	return ipc_receive_into(ch->fd, ch->rxbuf, IPC_MAX_FRAME + 1, msg_r,
				error_r);
}

int ipc_send_blocking(int fd, struct buf *frame, int pass_fd)
{
	ipc_fit_max_frame(fd);
	ssize_t n = ipc_sendmsg(fd, frame->data, frame->len, pass_fd);
	return n == (ssize_t)frame->len ? 0 : -1;
}

int ipc_recv_blocking(int fd, uint8_t *buf, size_t size, struct ipc_msg *msg_r,
		      const char **error_r)
{
	int ret = ipc_receive_into(fd, buf, size, msg_r, error_r);
	if (ret == 0) {
		*error_r = "no message";
		return -1;
	}
	return ret;
}
