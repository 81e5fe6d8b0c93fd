/* IPC framing: frames built with the put helpers decode to the same values,
 * the decoder and the reader refuse every malformed input the header
 * comment of ipc.h lists, and a real SEQPACKET socketpair carries frames,
 * fds and a backlog without losing, reordering or leaking anything. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../common/ipc-messages.h"
#include "../../common/ipc.h"

/* ---- helpers ---------------------------------------------------------- */

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

static void make_pair(int sv[2])
{
	int r = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0, sv);
	CU_ASSERT_FATAL(r == 0);
}

/* A non-blocking pipe: the read end tells whether every copy of the write
 * end was closed (read returns 0) or one is still open somewhere (EAGAIN). */
static void make_pipe(int p[2])
{
	int r = pipe2(p, O_NONBLOCK | O_CLOEXEC);
	CU_ASSERT_FATAL(r == 0);
}

static bool pipe_writers_gone(int read_fd)
{
	char c;
	return read(read_fd, &c, 1) == 0;
}

/* Sends raw bytes with up to two fds, bypassing the ipc code, so malformed
 * frames reach the receiver exactly as written. */
static ssize_t raw_send(int sock, const void *data, size_t len,
			const int *fds, size_t nfds)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 2)];
	} cm;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void make_header(uint8_t *p, uint16_t type, uint16_t flags,
			uint32_t length, uint32_t session)
{
	put_le16(p, type);
	put_le16(p + 2, flags);
	put_le32(p + 4, length);
	put_le32(p + 8, session);
}

static const uint16_t known_types[] = {
	IPC_MSG_SANDBOX_VIOLATION, IPC_MSG_LOGIN_CONFIG,
	IPC_MSG_LOGIN_LISTENER, IPC_MSG_LOGIN_START, IPC_MSG_AUTH_REQUEST,
	IPC_MSG_AUTH_REPLY, IPC_MSG_SESSION_HANDOFF, IPC_MSG_SESSION_GONE,
	IPC_MSG_AUTH_CONFIG, IPC_MSG_AUTH_CHECK, IPC_MSG_AUTH_RESULT,
	IPC_MSG_WORKER_INIT, IPC_MSG_WORKER_SESSION,
	IPC_MSG_WORKER_SESSION_CLOSED, IPC_MSG_WORKER_EXIT_REQUEST,
	IPC_MSG_WORKER_EXIT_OK, IPC_MSG_WORKER_KICK, IPC_MSG_SHUTDOWN,
	IPC_MSG_CTL_REQUEST, IPC_MSG_CTL_REPLY,
};

/* ---- frames and the decoder ------------------------------------------ */

static void test_frame_roundtrip(void)
{
	static const uint8_t blob[] = { 0x00, 0xff, 0x80, 0x00, 0x7f };
	struct buf b;
	buf_init(&b);
	ipc_frame_begin(&b, IPC_MSG_AUTH_RESULT, 0xdeadbeefu);
	ipc_put_u8(&b, 0xab);
	ipc_put_u16(&b, 0xbeef);
	ipc_put_u32(&b, 0x89abcdefu);
	ipc_put_u64(&b, 0x0123456789abcdefull);
	ipc_put_u8(&b, 0);
	ipc_put_u16(&b, 0xffff);
	ipc_put_u32(&b, 0xffffffffu);
	ipc_put_u64(&b, UINT64_MAX);
	ipc_put_bytes(&b, blob, sizeof(blob));
	ipc_put_bytes(&b, NULL, 0);
	ipc_put_str(&b, "alice");
	ipc_put_str(&b, "");
	ipc_put_str(&b, NULL);
	ipc_frame_end(&b, false);

	size_t payload = 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + (4 + sizeof(blob)) +
			 4 + (4 + 5) + 4 + 4;
	CU_ASSERT_EQUAL_FATAL(b.len, IPC_HEADER_SIZE + payload);
	/* The wire layout is part of the protocol: check the bytes. */
	const uint8_t want_hdr[IPC_HEADER_SIZE] = {
		IPC_MSG_AUTH_RESULT, 0, 0, 0,
		(uint8_t)payload, (uint8_t)(payload >> 8), 0, 0,
		0xef, 0xbe, 0xad, 0xde,
	};
	CU_ASSERT(memcmp(b.data, want_hdr, IPC_HEADER_SIZE) == 0);
	static const uint8_t want_nums[] = {
		0xab, 0xef, 0xbe, 0xef, 0xcd, 0xab, 0x89,
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
	};
	CU_ASSERT(memcmp(b.data + IPC_HEADER_SIZE, want_nums,
			 sizeof(want_nums)) == 0);

	struct ipc_header hdr;
	const char *error = NULL;
	CU_ASSERT_EQUAL_FATAL(ipc_decode(b.data, b.len, false, &hdr, &error),
			      IPC_DECODE_OK);
	CU_ASSERT_EQUAL(hdr.type, IPC_MSG_AUTH_RESULT);
	CU_ASSERT_EQUAL(hdr.flags, 0);
	CU_ASSERT_EQUAL(hdr.length, payload);
	CU_ASSERT_EQUAL(hdr.session, 0xdeadbeefu);

	struct ipc_reader r;
	ipc_reader_init(&r, b.data + IPC_HEADER_SIZE, hdr.length);
	uint8_t u8 = 1;
	uint16_t u16 = 1;
	uint32_t u32 = 1;
	uint64_t u64 = 1;
	CU_ASSERT(ipc_get_u8(&r, &u8) && u8 == 0xab);
	CU_ASSERT(ipc_get_u16(&r, &u16) && u16 == 0xbeef);
	CU_ASSERT(ipc_get_u32(&r, &u32) && u32 == 0x89abcdefu);
	CU_ASSERT(ipc_get_u64(&r, &u64) && u64 == 0x0123456789abcdefull);
	CU_ASSERT(ipc_get_u8(&r, &u8) && u8 == 0);
	CU_ASSERT(ipc_get_u16(&r, &u16) && u16 == 0xffff);
	CU_ASSERT(ipc_get_u32(&r, &u32) && u32 == 0xffffffffu);
	CU_ASSERT(ipc_get_u64(&r, &u64) && u64 == UINT64_MAX);

	const uint8_t *p = NULL;
	size_t len = 99;
	CU_ASSERT_FATAL(ipc_get_bytes(&r, &p, &len));
	CU_ASSERT_EQUAL(len, sizeof(blob));
	CU_ASSERT(memcmp(p, blob, sizeof(blob)) == 0);
	/* No copy: the view points into the payload. */
	CU_ASSERT(p > b.data && p + len <= b.data + b.len);
	CU_ASSERT(ipc_get_bytes(&r, &p, &len) && len == 0);

	char *s = NULL;
	CU_ASSERT_FATAL(ipc_get_str(&r, 5, &s));
	CU_ASSERT_STRING_EQUAL(s, "alice");
	free(s);
	s = NULL;
	CU_ASSERT_FATAL(ipc_get_str(&r, 0, &s));
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);
	s = NULL;
	CU_ASSERT_FATAL(ipc_get_str(&r, 10, &s));
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);

	CU_ASSERT(ipc_reader_done(&r));
	CU_ASSERT_FALSE(r.failed);
	/* Nothing left: one more field fails and the reader stays failed. */
	CU_ASSERT_FALSE(ipc_get_u8(&r, &u8));
	CU_ASSERT_FALSE(ipc_reader_done(&r));
	buf_free(&b);
}

static void test_frame_fd_flag(void)
{
	struct buf b;
	buf_init(&b);
	ipc_frame_begin(&b, IPC_MSG_LOGIN_LISTENER, 7);
	ipc_put_u8(&b, 1);
	ipc_put_str(&b, "imaps");
	ipc_frame_end(&b, true);
	CU_ASSERT_EQUAL(b.data[2], IPC_FLAG_FD);
	CU_ASSERT_EQUAL(b.data[3], 0);

	struct ipc_header hdr;
	const char *error = "(not set)";
	CU_ASSERT_EQUAL(ipc_decode(b.data, b.len, true, &hdr, &error),
			IPC_DECODE_OK);
	CU_ASSERT_EQUAL(hdr.flags, IPC_FLAG_FD);
	CU_ASSERT_EQUAL(hdr.session, 7);
	CU_ASSERT_EQUAL(ipc_decode(b.data, b.len, false, &hdr, &error),
			IPC_DECODE_ERROR);
	CU_ASSERT_STRING_EQUAL(error, "missing file descriptor");

	/* ipc_frame_begin starts over in a used buffer. */
	ipc_frame_begin(&b, IPC_MSG_SHUTDOWN, 0);
	ipc_frame_end(&b, false);
	CU_ASSERT_EQUAL(b.len, IPC_HEADER_SIZE);
	CU_ASSERT_EQUAL(ipc_decode(b.data, b.len, false, &hdr, &error),
			IPC_DECODE_OK);
	CU_ASSERT_EQUAL(hdr.type, IPC_MSG_SHUTDOWN);
	CU_ASSERT_EQUAL(hdr.length, 0);
	CU_ASSERT_EQUAL(hdr.flags, 0);
	CU_ASSERT_EQUAL(ipc_decode(b.data, b.len, true, &hdr, &error),
			IPC_DECODE_ERROR);
	CU_ASSERT_STRING_EQUAL(error, "unexpected file descriptor");
	buf_free(&b);
}

static void test_frame_max_size(void)
{
	size_t n = IPC_MAX_PAYLOAD - 4;
	uint8_t *blob = malloc(n);
	CU_ASSERT_FATAL(blob != NULL);
	for (size_t i = 0; i < n; i++)
		blob[i] = (uint8_t)(i * 7 + 3);
	struct buf b;
	buf_init(&b);
	ipc_frame_begin(&b, IPC_MSG_CTL_REPLY, 1);
	ipc_put_bytes(&b, blob, n);
	ipc_frame_end(&b, false);
	CU_ASSERT_EQUAL_FATAL(b.len, IPC_MAX_FRAME);

	struct ipc_header hdr;
	const char *error = "(not set)";
	CU_ASSERT_EQUAL_FATAL(ipc_decode(b.data, b.len, false, &hdr, &error),
			      IPC_DECODE_OK);
	CU_ASSERT_EQUAL(hdr.length, IPC_MAX_PAYLOAD);
	struct ipc_reader r;
	ipc_reader_init(&r, b.data + IPC_HEADER_SIZE, hdr.length);
	const uint8_t *p;
	size_t len = 0;
	CU_ASSERT_FATAL(ipc_get_bytes(&r, &p, &len));
	CU_ASSERT_EQUAL(len, n);
	CU_ASSERT(memcmp(p, blob, n) == 0);
	CU_ASSERT(ipc_reader_done(&r));

	/* One byte more is over the limit even when the length field agrees
	 * with the datagram. */
	uint8_t *big = calloc(1, IPC_MAX_FRAME + 1);
	CU_ASSERT_FATAL(big != NULL);
	make_header(big, IPC_MSG_CTL_REPLY, 0, IPC_MAX_PAYLOAD + 1, 1);
	CU_ASSERT_EQUAL(ipc_decode(big, IPC_MAX_FRAME + 1, false, &hdr,
				   &error), IPC_DECODE_ERROR);
	CU_ASSERT_STRING_EQUAL(error, "payload length over limit");
	free(big);
	free(blob);
	buf_free(&b);
}

static void expect_decode_error(const uint8_t *data, size_t len, bool has_fd,
				const char *want)
{
	struct ipc_header hdr;
	const char *error = NULL;
	CU_ASSERT_EQUAL(ipc_decode(data, len, has_fd, &hdr, &error),
			IPC_DECODE_ERROR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(error);
	CU_ASSERT_STRING_EQUAL(error, want);
}

static void test_decode_short(void)
{
	uint8_t f[IPC_HEADER_SIZE + 8];
	make_header(f, IPC_MSG_SHUTDOWN, 0, 0, 0);
	expect_decode_error(f, 0, false, "frame shorter than header");
	expect_decode_error(f, 1, false, "frame shorter than header");
	expect_decode_error(f, IPC_HEADER_SIZE - 1, false,
			    "frame shorter than header");
	struct ipc_header hdr;
	const char *error;
	CU_ASSERT_EQUAL(ipc_decode(f, IPC_HEADER_SIZE, false, &hdr, &error),
			IPC_DECODE_OK);
}

static void test_decode_length_mismatch(void)
{
	uint8_t f[IPC_HEADER_SIZE + 8] = { 0 };
	/* length field bigger than what came */
	make_header(f, IPC_MSG_CTL_REPLY, 0, 9, 0);
	expect_decode_error(f, sizeof(f), false,
			    "payload length does not match frame size");
	make_header(f, IPC_MSG_CTL_REPLY, 0, 8, 0);
	expect_decode_error(f, sizeof(f) - 1, false,
			    "payload length does not match frame size");
	/* smaller */
	make_header(f, IPC_MSG_CTL_REPLY, 0, 7, 0);
	expect_decode_error(f, sizeof(f), false,
			    "payload length does not match frame size");
	make_header(f, IPC_MSG_CTL_REPLY, 0, 0, 0);
	expect_decode_error(f, sizeof(f), false,
			    "payload length does not match frame size");
	/* a length field over the limit, whatever the datagram */
	make_header(f, IPC_MSG_CTL_REPLY, 0, IPC_MAX_PAYLOAD + 1, 0);
	expect_decode_error(f, sizeof(f), false, "payload length over limit");
	make_header(f, IPC_MSG_CTL_REPLY, 0, 0xffffffffu, 0);
	expect_decode_error(f, sizeof(f), false, "payload length over limit");
	/* and the exact length passes */
	make_header(f, IPC_MSG_CTL_REPLY, 0, 8, 0);
	struct ipc_header hdr;
	const char *error;
	CU_ASSERT_EQUAL(ipc_decode(f, sizeof(f), false, &hdr, &error),
			IPC_DECODE_OK);
}

static void test_decode_flags(void)
{
	static const uint16_t bad[] = { 0x0002, 0x0004, 0x0100, 0x8000,
					0x8001, 0xffff };
	uint8_t f[IPC_HEADER_SIZE];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_header(f, IPC_MSG_SHUTDOWN, bad[i], 0, 0);
		expect_decode_error(f, sizeof(f), (bad[i] & IPC_FLAG_FD) != 0,
				    "unknown flags");
	}
}

static void test_decode_types(void)
{
	/* Gaps in the numbering are left out: new types fill them. */
	static const uint16_t bad[] = { IPC_MSG_NONE, IPC_MSG_TYPE_MAX,
					IPC_MSG_TYPE_MAX + 1, 256, 9999,
					0x8000, 0xffff };
	uint8_t f[IPC_HEADER_SIZE];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_header(f, bad[i], 0, 0, 0);
		expect_decode_error(f, sizeof(f), false,
				    "unknown message type");
	}
	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]);
	     i++) {
		struct ipc_header hdr;
		const char *error = NULL;
		make_header(f, known_types[i], 0, 0, 42);
		CU_ASSERT_EQUAL(ipc_decode(f, sizeof(f), false, &hdr, &error),
				IPC_DECODE_OK);
		CU_ASSERT_EQUAL(hdr.type, known_types[i]);
		CU_ASSERT_EQUAL(hdr.session, 42);
	}
}

static void test_decode_fd_mismatch(void)
{
	uint8_t f[IPC_HEADER_SIZE];
	make_header(f, IPC_MSG_LOGIN_LISTENER, IPC_FLAG_FD, 0, 0);
	expect_decode_error(f, sizeof(f), false, "missing file descriptor");
	make_header(f, IPC_MSG_LOGIN_LISTENER, 0, 0, 0);
	expect_decode_error(f, sizeof(f), true, "unexpected file descriptor");
}

/* ---- the payload reader ----------------------------------------------- */

static void test_reader_truncated(void)
{
	static const uint8_t three[] = { 1, 2, 3 };
	struct ipc_reader r;
	uint32_t u32 = 77;
	ipc_reader_init(&r, three, sizeof(three));
	CU_ASSERT_FALSE(ipc_get_u32(&r, &u32));
	CU_ASSERT_EQUAL(u32, 77);
	CU_ASSERT(r.failed);
	CU_ASSERT_FALSE(ipc_reader_done(&r));
	/* Failure sticks: the bytes that are there are not handed out
	 * afterwards, so a caller cannot read on out of step. */
	uint8_t u8;
	CU_ASSERT_FALSE(ipc_get_u8(&r, &u8));

	uint16_t u16;
	ipc_reader_init(&r, three, 1);
	CU_ASSERT_FALSE(ipc_get_u16(&r, &u16));
	CU_ASSERT_FALSE(ipc_reader_done(&r));

	static const uint8_t seven[7] = { 0 };
	uint64_t u64;
	ipc_reader_init(&r, seven, sizeof(seven));
	CU_ASSERT_FALSE(ipc_get_u64(&r, &u64));
	CU_ASSERT_FALSE(ipc_reader_done(&r));

	ipc_reader_init(&r, seven, 0);
	CU_ASSERT(ipc_reader_done(&r));
	CU_ASSERT_FALSE(ipc_get_u8(&r, &u8));
	CU_ASSERT_FALSE(ipc_reader_done(&r));

	/* A short read in the middle: the first field is fine. */
	static const uint8_t five[] = { 9, 0, 0, 0, 1 };
	ipc_reader_init(&r, five, sizeof(five));
	CU_ASSERT(ipc_get_u32(&r, &u32) && u32 == 9);
	CU_ASSERT_FALSE(ipc_get_u16(&r, &u16));
	CU_ASSERT_FALSE(ipc_reader_done(&r));
}

static void test_reader_bytes_past_end(void)
{
	uint8_t f[4 + 9];
	memset(f, 'x', sizeof(f));
	struct ipc_reader r;
	const uint8_t *p = NULL;
	size_t len = 0;

	put_le32(f, 10);
	ipc_reader_init(&r, f, sizeof(f));
	CU_ASSERT_FALSE(ipc_get_bytes(&r, &p, &len));
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_FALSE(ipc_reader_done(&r));

	put_le32(f, 0xffffffffu);
	ipc_reader_init(&r, f, sizeof(f));
	CU_ASSERT_FALSE(ipc_get_bytes(&r, &p, &len));
	CU_ASSERT_FALSE(ipc_reader_done(&r));

	put_le32(f, 0x80000000u);
	ipc_reader_init(&r, f, sizeof(f));
	char *s = NULL;
	CU_ASSERT_FALSE(ipc_get_str(&r, SIZE_MAX, &s));
	CU_ASSERT_PTR_NULL(s);

	/* the length prefix itself cut short */
	ipc_reader_init(&r, f, 3);
	CU_ASSERT_FALSE(ipc_get_bytes(&r, &p, &len));

	put_le32(f, 9);
	ipc_reader_init(&r, f, sizeof(f));
	CU_ASSERT(ipc_get_bytes(&r, &p, &len));
	CU_ASSERT_EQUAL(len, 9);
	CU_ASSERT(p == f + 4);
	CU_ASSERT(ipc_reader_done(&r));
}

static void test_reader_strings(void)
{
	struct buf b;
	buf_init(&b);
	struct ipc_reader r;
	char *s = NULL;

	static const char nul[] = { 'a', 'b', '\0', 'c' };
	ipc_put_bytes(&b, nul, sizeof(nul));
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT_FALSE(ipc_get_str(&r, 100, &s));
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT(r.failed);
	CU_ASSERT_FALSE(ipc_reader_done(&r));

	/* a trailing NUL is embedded too: C code would see a shorter name */
	buf_clear(&b);
	ipc_put_bytes(&b, "alice", 6);
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT_FALSE(ipc_get_str(&r, 100, &s));
	CU_ASSERT_PTR_NULL(s);

	/* ...while ipc_get_bytes takes the same field as it is */
	const uint8_t *p;
	size_t len;
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT(ipc_get_bytes(&r, &p, &len) && len == 6);

	buf_clear(&b);
	ipc_put_str(&b, "abcdef");
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT_FALSE(ipc_get_str(&r, 5, &s));
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_FALSE(ipc_reader_done(&r));
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT_FATAL(ipc_get_str(&r, 6, &s));
	CU_ASSERT_STRING_EQUAL(s, "abcdef");
	CU_ASSERT(ipc_reader_done(&r));
	free(s);
	s = NULL;

	/* A string right at a large limit. */
	char *longstr = malloc(IPC_MAX_PATH + 2);
	CU_ASSERT_FATAL(longstr != NULL);
	memset(longstr, 'p', IPC_MAX_PATH + 1);
	longstr[IPC_MAX_PATH + 1] = '\0';
	buf_clear(&b);
	ipc_put_str(&b, longstr);
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT_FALSE(ipc_get_str(&r, IPC_MAX_PATH, &s));
	longstr[IPC_MAX_PATH] = '\0';
	buf_clear(&b);
	ipc_put_str(&b, longstr);
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT_FATAL(ipc_get_str(&r, IPC_MAX_PATH, &s));
	CU_ASSERT_EQUAL(strlen(s), IPC_MAX_PATH);
	free(s);
	free(longstr);
	buf_free(&b);
}

static void test_reader_trailing(void)
{
	struct buf b;
	buf_init(&b);
	ipc_put_u32(&b, 5);
	ipc_put_u8(&b, 1);
	struct ipc_reader r;
	uint32_t u32;
	ipc_reader_init(&r, b.data, b.len);
	CU_ASSERT(ipc_get_u32(&r, &u32) && u32 == 5);
	CU_ASSERT_FALSE(r.failed);
	CU_ASSERT_FALSE(ipc_reader_done(&r));
	uint8_t u8;
	CU_ASSERT(ipc_get_u8(&r, &u8) && u8 == 1);
	CU_ASSERT(ipc_reader_done(&r));
	buf_free(&b);
}

/* ---- a real socketpair ------------------------------------------------ */

static void test_channel_roundtrip(void)
{
	int sv[2];
	make_pair(sv);
	struct ipc_channel a, b;
	ipc_channel_init(&a, sv[0]);
	ipc_channel_init(&b, sv[1]);

	struct ipc_msg msg;
	const char *error = NULL;
	CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), 0);

	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_CTL_REQUEST, 99);
	ipc_put_u32(&f, IPC_PROTOCOL_VERSION);
	ipc_put_str(&f, "kick");
	ipc_put_str(&f, "bob");
	ipc_put_u8(&f, 1);
	ipc_frame_end(&f, false);
	ipc_channel_send(&a, &f, -1);
	CU_ASSERT_FALSE(ipc_channel_pending(&a));
	CU_ASSERT_EQUAL(ipc_channel_flush(&a), 1);

	memset(&msg, 0, sizeof(msg));
	CU_ASSERT_EQUAL_FATAL(ipc_channel_recv(&b, &msg, &error), 1);
	CU_ASSERT_EQUAL(msg.hdr.type, IPC_MSG_CTL_REQUEST);
	CU_ASSERT_EQUAL(msg.hdr.session, 99);
	CU_ASSERT_EQUAL(msg.hdr.length, f.len - IPC_HEADER_SIZE);
	CU_ASSERT_EQUAL(msg.fd, -1);
	struct ipc_reader r;
	ipc_reader_init(&r, msg.payload, msg.hdr.length);
	uint32_t version = 0;
	char *cmd = NULL, *arg = NULL;
	uint8_t json = 0;
	CU_ASSERT(ipc_get_u32(&r, &version) && version == IPC_PROTOCOL_VERSION);
	CU_ASSERT(ipc_get_str(&r, 64, &cmd));
	CU_ASSERT(ipc_get_str(&r, 64, &arg));
	CU_ASSERT(ipc_get_u8(&r, &json) && json == 1);
	CU_ASSERT(ipc_reader_done(&r));
	CU_ASSERT(cmd != NULL && strcmp(cmd, "kick") == 0);
	CU_ASSERT(arg != NULL && strcmp(arg, "bob") == 0);
	free(cmd);
	free(arg);

	CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), 0);

	/* The blocking helpers speak the same format. */
	CU_ASSERT_EQUAL(ipc_send_blocking(sv[1], &f, -1), 0);
	uint8_t rx[256];
	CU_ASSERT_EQUAL(ipc_recv_blocking(sv[0], rx, sizeof(rx), &msg,
					  &error), 1);
	CU_ASSERT_EQUAL(msg.hdr.session, 99);
	CU_ASSERT(memcmp(msg.payload, f.data + IPC_HEADER_SIZE,
			 msg.hdr.length) == 0);
	error = NULL;
	CU_ASSERT_EQUAL(ipc_recv_blocking(sv[0], rx, sizeof(rx), &msg,
					  &error), -1);
	CU_ASSERT_PTR_NOT_NULL(error);

	buf_free(&f);
	ipc_channel_close(&a);
	ipc_channel_close(&b);
	CU_ASSERT_EQUAL(a.fd, -1);
	CU_ASSERT_FALSE(fd_is_open(sv[0]));
	CU_ASSERT_FALSE(fd_is_open(sv[1]));
}

static void test_channel_max_frame(void)
{
	int sv[2];
	make_pair(sv);
	struct ipc_channel a, b;
	ipc_channel_init(&a, sv[0]);
	ipc_channel_init(&b, sv[1]);

	size_t n = IPC_MAX_PAYLOAD - 4;
	uint8_t *blob = malloc(n);
	CU_ASSERT_FATAL(blob != NULL);
	for (size_t i = 0; i < n; i++)
		blob[i] = (uint8_t)(i ^ (i >> 8));
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_CTL_REPLY, 3);
	ipc_put_bytes(&f, blob, n);
	ipc_frame_end(&f, false);
	CU_ASSERT_EQUAL(f.len, IPC_MAX_FRAME);

	/* A frame the format allows must fit through the socket: the
	 * default socket send buffer is smaller than IPC_MAX_FRAME. */
	ipc_channel_send(&a, &f, -1);
	CU_ASSERT_EQUAL(ipc_channel_flush(&a), 1);
	struct ipc_msg msg;
	const char *error = "not set";
	CU_ASSERT_EQUAL_FATAL(ipc_channel_recv(&b, &msg, &error), 1);
	CU_ASSERT_EQUAL(msg.hdr.length, IPC_MAX_PAYLOAD);
	struct ipc_reader r;
	ipc_reader_init(&r, msg.payload, msg.hdr.length);
	const uint8_t *p;
	size_t len = 0;
	CU_ASSERT(ipc_get_bytes(&r, &p, &len) && len == n &&
		  memcmp(p, blob, n) == 0);
	CU_ASSERT(ipc_reader_done(&r));

	/* and the other way round */
	ipc_channel_send(&b, &f, -1);
	CU_ASSERT_EQUAL(ipc_channel_flush(&b), 1);
	CU_ASSERT_EQUAL(ipc_channel_recv(&a, &msg, &error), 1);
	CU_ASSERT_EQUAL(msg.hdr.length, IPC_MAX_PAYLOAD);
	ipc_channel_close(&a);
	ipc_channel_close(&b);

	/* The blocking helpers (posternctl and its replies) on a socket
	 * no channel was set up on. */
	make_pair(sv);
	CU_ASSERT_EQUAL(ipc_send_blocking(sv[0], &f, -1), 0);
	uint8_t *rx = malloc(IPC_MAX_FRAME + 1);
	CU_ASSERT_FATAL(rx != NULL);
	error = "not set";
	int got = ipc_recv_blocking(sv[1], rx, IPC_MAX_FRAME + 1, &msg, &error);
	CU_ASSERT_EQUAL(got, 1);
	if (got == 1) {
		CU_ASSERT_EQUAL(msg.hdr.length, IPC_MAX_PAYLOAD);
		CU_ASSERT(memcmp(msg.payload, f.data + IPC_HEADER_SIZE,
				 IPC_MAX_PAYLOAD) == 0);
	}
	free(rx);
	close(sv[0]);
	close(sv[1]);

	free(blob);
	buf_free(&f);
}

static void test_channel_fd_passing(void)
{
	int sv[2];
	make_pair(sv);
	struct ipc_channel a, b;
	ipc_channel_init(&a, sv[0]);
	ipc_channel_init(&b, sv[1]);
	int p[2];
	make_pipe(p);
	int fds_before = count_open_fds();

	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_WORKER_SESSION, 5);
	ipc_put_str(&f, "a001");
	ipc_put_u8(&f, 0);
	ipc_put_u32(&f, IPC_CAP_IMAP4REV2);
	ipc_put_str(&f, "192.0.2.1:4711");
	ipc_put_str(&f, "192.0.2.2:143");
	ipc_put_bytes(&f, "a002 NOOP\r\n", 11);
	ipc_frame_end(&f, true);
	ipc_channel_send(&a, &f, p[1]);
	/* Sent, so the sender's copy is closed: ownership went with it. */
	CU_ASSERT_FALSE(ipc_channel_pending(&a));
	CU_ASSERT_FALSE(fd_is_open(p[1]));
	CU_ASSERT_EQUAL(count_open_fds(), fds_before - 1);

	struct ipc_msg msg;
	const char *error = NULL;
	CU_ASSERT_EQUAL_FATAL(ipc_channel_recv(&b, &msg, &error), 1);
	CU_ASSERT_EQUAL(msg.hdr.type, IPC_MSG_WORKER_SESSION);
	CU_ASSERT_EQUAL(msg.hdr.flags, IPC_FLAG_FD);
	CU_ASSERT_FATAL(msg.fd >= 0);
	CU_ASSERT_EQUAL(count_open_fds(), fds_before);
	/* Received fds must not leak into exec'd children. */
	CU_ASSERT((fcntl(msg.fd, F_GETFD) & FD_CLOEXEC) != 0);

	CU_ASSERT_EQUAL(write(msg.fd, "hello", 5), 5);
	char got[8] = { 0 };
	CU_ASSERT_EQUAL(read(p[0], got, sizeof(got)), 5);
	CU_ASSERT(memcmp(got, "hello", 5) == 0);

	struct ipc_reader r;
	ipc_reader_init(&r, msg.payload, msg.hdr.length);
	char *tag = NULL;
	CU_ASSERT(ipc_get_str(&r, IPC_MAX_TAG, &tag));
	CU_ASSERT(tag != NULL && strcmp(tag, "a001") == 0);
	free(tag);

	close(msg.fd);
	CU_ASSERT(pipe_writers_gone(p[0]));
	close(p[0]);
	buf_free(&f);
	ipc_channel_close(&a);
	ipc_channel_close(&b);
}

/* The peer does not read: frames queue in the channel (the socket says
 * EAGAIN), keep their order and their fds, and all arrive once it reads. */
static void test_channel_backlog(void)
{
	int sv[2];
	make_pair(sv);
	struct ipc_channel a, b;
	ipc_channel_init(&a, sv[0]);
	ipc_channel_init(&b, sv[1]);
	int fds_start = count_open_fds();

	enum { MAX_SENT = 100000, FD_EVERY = 97 };
	uint8_t filler[1000];
	memset(filler, 'f', sizeof(filler));
	struct buf f;
	buf_init(&f);
	uint32_t sent = 0;
	int pipe_read[64];
	size_t npipes = 0;
	while (sent < MAX_SENT) {
		bool with_fd = sent % FD_EVERY == 0 && npipes < 64;
		int fd = -1;
		if (with_fd) {
			int p[2];
			make_pipe(p);
			pipe_read[npipes++] = p[0];
			fd = p[1];
		}
		ipc_frame_begin(&f, with_fd ? IPC_MSG_LOGIN_LISTENER :
					      IPC_MSG_CTL_REPLY, sent);
		ipc_put_u32(&f, sent);
		ipc_put_bytes(&f, filler, sizeof(filler));
		ipc_frame_end(&f, with_fd);
		ipc_channel_send(&a, &f, fd);
		sent++;
		/* Queue some more behind the first refusal. */
		if (ipc_channel_pending(&a) && sent % 50 == 0)
			break;
	}
	CU_ASSERT_FATAL(ipc_channel_pending(&a));
	CU_ASSERT(a.outq_bytes > 0);
	CU_ASSERT_EQUAL(ipc_channel_flush(&a), 0);

	uint32_t received = 0;
	size_t fds_received = 0;
	int rounds = 0;
	for (;;) {
		struct ipc_msg msg;
		const char *error = NULL;
		int r = ipc_channel_recv(&b, &msg, &error);
		CU_ASSERT_FATAL(r >= 0);
		if (r == 1) {
			CU_ASSERT_EQUAL(msg.hdr.session, received);
			struct ipc_reader rd;
			uint32_t seq = 0xffffffffu;
			ipc_reader_init(&rd, msg.payload, msg.hdr.length);
			CU_ASSERT(ipc_get_u32(&rd, &seq) && seq == received);
			bool want_fd = received % FD_EVERY == 0 &&
				       fds_received < npipes;
			CU_ASSERT_EQUAL(msg.fd >= 0, want_fd);
			if (msg.fd >= 0) {
				CU_ASSERT_EQUAL(write(msg.fd, "x", 1), 1);
				close(msg.fd);
				char c = 0;
				CU_ASSERT_EQUAL(read(pipe_read[fds_received],
						     &c, 1), 1);
				fds_received++;
			}
			received++;
			continue;
		}
		/* Socket drained: let the sender push what is queued. */
		int fl = ipc_channel_flush(&a);
		CU_ASSERT(fl >= 0);
		if (fl == 1 && received == sent) {
			CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), 0);
			break;
		}
		CU_ASSERT_FATAL(++rounds < 100000);
	}
	CU_ASSERT_EQUAL(received, sent);
	CU_ASSERT_EQUAL(fds_received, npipes);
	CU_ASSERT_FALSE(ipc_channel_pending(&a));
	CU_ASSERT_EQUAL(a.outq_bytes, 0);
	for (size_t i = 0; i < npipes; i++) {
		CU_ASSERT(pipe_writers_gone(pipe_read[i]));
		close(pipe_read[i]);
	}
	CU_ASSERT_EQUAL(count_open_fds(), fds_start);
	buf_free(&f);
	ipc_channel_close(&a);
	ipc_channel_close(&b);
}

/* Closing a channel with frames still queued closes the fds they carry. */
static void test_channel_close_queued_fds(void)
{
	int sv[2];
	make_pair(sv);
	struct ipc_channel a;
	ipc_channel_init(&a, sv[0]);
	int fds_start = count_open_fds();
	uint8_t filler[4000];
	memset(filler, 0, sizeof(filler));
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_CTL_REPLY, 0);
	ipc_put_bytes(&f, filler, sizeof(filler));
	ipc_frame_end(&f, false);
	for (int i = 0; i < 100000 && !ipc_channel_pending(&a); i++)
		ipc_channel_send(&a, &f, -1);
	CU_ASSERT_FATAL(ipc_channel_pending(&a));

	int p[2];
	make_pipe(p);
	ipc_frame_begin(&f, IPC_MSG_LOGIN_LISTENER, 0);
	ipc_put_u8(&f, 0);
	ipc_put_str(&f, "imap");
	ipc_frame_end(&f, true);
	ipc_channel_send(&a, &f, p[1]);
	CU_ASSERT(fd_is_open(p[1]));	/* still queued, still ours */
	CU_ASSERT_FALSE(pipe_writers_gone(p[0]));

	ipc_channel_close(&a);
	CU_ASSERT(pipe_writers_gone(p[0]));
	close(p[0]);
	close(sv[1]);
	CU_ASSERT_EQUAL(count_open_fds(), fds_start - 2);
	buf_free(&f);
}

static void test_channel_peer_closed(void)
{
	int sv[2];
	make_pair(sv);
	struct ipc_channel a, b;
	ipc_channel_init(&a, sv[0]);
	ipc_channel_init(&b, sv[1]);
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_SHUTDOWN, 1);
	ipc_frame_end(&f, false);
	ipc_channel_send(&a, &f, -1);
	ipc_frame_begin(&f, IPC_MSG_SHUTDOWN, 2);
	ipc_frame_end(&f, false);
	ipc_channel_send(&a, &f, -1);
	ipc_channel_close(&a);

	/* What was sent before the close still arrives, then the end. */
	struct ipc_msg msg;
	const char *error = NULL;
	CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), 1);
	CU_ASSERT_EQUAL(msg.hdr.session, 1);
	CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), 1);
	CU_ASSERT_EQUAL(msg.hdr.session, 2);
	CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(error);
	CU_ASSERT_STRING_EQUAL(error, "peer closed the channel");

	/* Sending to a closed peer fails; the process lives on (MSG_NOSIGNAL). */
	ipc_channel_send(&b, &f, -1);
	CU_ASSERT(ipc_channel_pending(&b));
	CU_ASSERT_EQUAL(ipc_channel_flush(&b), -1);
	buf_free(&f);
	ipc_channel_close(&b);
}

/* Sends raw bytes (and fds) to a fresh channel and expects the receiver
 * to refuse them with error want, closing every fd that came along. */
static void expect_recv_error(const uint8_t *data, size_t len, int nfds,
			      const char *want)
{
	int sv[2];
	make_pair(sv);
	if (len > 200000) {
		int sz = (int)len * 2;
		CU_ASSERT(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
				     sizeof(sz)) == 0);
	}
	struct ipc_channel b;
	ipc_channel_init(&b, sv[1]);
	int p[2][2], fds[2];
	for (int i = 0; i < nfds; i++) {
		make_pipe(p[i]);
		fds[i] = p[i][1];
	}
	CU_ASSERT_EQUAL_FATAL(raw_send(sv[0], data, len, fds, (size_t)nfds),
			      (ssize_t)len);
	for (int i = 0; i < nfds; i++)
		close(p[i][1]);
	int fds_before = count_open_fds();

	struct ipc_msg msg;
	msg.fd = -2;
	const char *error = NULL;
	CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(error);
	CU_ASSERT_STRING_EQUAL(error, want);
	/* No fd came out of the refused frame... */
	CU_ASSERT_EQUAL(count_open_fds(), fds_before);
	for (int i = 0; i < nfds; i++) {
		/* ...and no copy of it survives anywhere in this process. */
		CU_ASSERT(pipe_writers_gone(p[i][0]));
		close(p[i][0]);
	}
	ipc_channel_close(&b);
	close(sv[0]);
}

static void test_channel_malformed(void)
{
	uint8_t f[IPC_HEADER_SIZE + 16] = { 0 };

	expect_recv_error(f, 5, 0, "frame shorter than header");
	expect_recv_error(f, 5, 1, "frame shorter than header");
	expect_recv_error(f, IPC_HEADER_SIZE - 1, 0,
			  "frame shorter than header");

	make_header(f, IPC_MSG_CTL_REPLY, 0, 17, 0);
	expect_recv_error(f, sizeof(f), 0,
			  "payload length does not match frame size");
	make_header(f, IPC_MSG_CTL_REPLY, 0, 15, 0);
	expect_recv_error(f, sizeof(f), 0,
			  "payload length does not match frame size");
	make_header(f, IPC_MSG_CTL_REPLY, IPC_FLAG_FD, 15, 0);
	expect_recv_error(f, sizeof(f), 1,
			  "payload length does not match frame size");
	make_header(f, IPC_MSG_CTL_REPLY, 0, IPC_MAX_PAYLOAD + 1, 0);
	expect_recv_error(f, sizeof(f), 0, "payload length over limit");

	make_header(f, IPC_MSG_CTL_REPLY, 0x0002, 16, 0);
	expect_recv_error(f, sizeof(f), 0, "unknown flags");
	make_header(f, IPC_MSG_CTL_REPLY, IPC_FLAG_FD | 0x4000, 16, 0);
	expect_recv_error(f, sizeof(f), 1, "unknown flags");

	make_header(f, 0, 0, 16, 0);
	expect_recv_error(f, sizeof(f), 0, "unknown message type");
	make_header(f, IPC_MSG_TYPE_MAX, 0, 16, 0);
	expect_recv_error(f, sizeof(f), 0, "unknown message type");
	make_header(f, 9999, 0, 16, 0);
	expect_recv_error(f, sizeof(f), 0, "unknown message type");
	make_header(f, 9999, IPC_FLAG_FD, 16, 0);
	expect_recv_error(f, sizeof(f), 1, "unknown message type");

	make_header(f, IPC_MSG_LOGIN_LISTENER, IPC_FLAG_FD, 16, 0);
	expect_recv_error(f, sizeof(f), 0, "missing file descriptor");
	make_header(f, IPC_MSG_LOGIN_LISTENER, 0, 16, 0);
	expect_recv_error(f, sizeof(f), 1, "unexpected file descriptor");
	/* Two fds where the format allows one. */
	make_header(f, IPC_MSG_LOGIN_LISTENER, IPC_FLAG_FD, 16, 0);
	expect_recv_error(f, sizeof(f), 2,
			  "frame over size limit or too many fds");
}

static void test_channel_oversized(void)
{
	uint8_t *big = calloc(1, IPC_MAX_FRAME + 64);
	CU_ASSERT_FATAL(big != NULL);
	/* A header that agrees with the datagram, so only the size is
	 * wrong; one byte over must not be cut down to a valid frame. */
	make_header(big, IPC_MSG_CTL_REPLY, 0, IPC_MAX_PAYLOAD + 1, 0);
	expect_recv_error(big, IPC_MAX_FRAME + 1, 0,
			  "frame over size limit or too many fds");
	make_header(big, IPC_MSG_CTL_REPLY, 0, IPC_MAX_PAYLOAD, 0);
	expect_recv_error(big, IPC_MAX_FRAME + 1, 0,
			  "frame over size limit or too many fds");
	make_header(big, IPC_MSG_LOGIN_LISTENER, IPC_FLAG_FD,
		    IPC_MAX_PAYLOAD + 64, 0);
	expect_recv_error(big, IPC_MAX_FRAME + 64, 1,
			  "frame over size limit or too many fds");
	free(big);
}

/* A zero-length datagram reads like the end of the stream; either way the
 * peer is dropped. */
static void test_channel_empty_datagram(void)
{
	int sv[2];
	make_pair(sv);
	struct ipc_channel b;
	ipc_channel_init(&b, sv[1]);
	CU_ASSERT_EQUAL(raw_send(sv[0], "", 0, NULL, 0), 0);
	struct ipc_msg msg;
	const char *error = NULL;
	CU_ASSERT_EQUAL(ipc_channel_recv(&b, &msg, &error), -1);
	CU_ASSERT_PTR_NOT_NULL(error);
	ipc_channel_close(&b);
	close(sv[0]);
}

static void register_ipc(void)
{
	CU_pSuite s = CU_add_suite("ipc", NULL, NULL);
	CU_add_test(s, "frame round trip", test_frame_roundtrip);
	CU_add_test(s, "frame fd flag", test_frame_fd_flag);
	CU_add_test(s, "frame max size", test_frame_max_size);
	CU_add_test(s, "decode short", test_decode_short);
	CU_add_test(s, "decode length mismatch", test_decode_length_mismatch);
	CU_add_test(s, "decode flags", test_decode_flags);
	CU_add_test(s, "decode types", test_decode_types);
	CU_add_test(s, "decode fd mismatch", test_decode_fd_mismatch);
	CU_add_test(s, "reader truncated", test_reader_truncated);
	CU_add_test(s, "reader bytes past end", test_reader_bytes_past_end);
	CU_add_test(s, "reader strings", test_reader_strings);
	CU_add_test(s, "reader trailing", test_reader_trailing);
	CU_add_test(s, "channel round trip", test_channel_roundtrip);
	CU_add_test(s, "channel max frame", test_channel_max_frame);
	CU_add_test(s, "channel fd passing", test_channel_fd_passing);
	CU_add_test(s, "channel backlog", test_channel_backlog);
	CU_add_test(s, "channel close queued fds",
		    test_channel_close_queued_fds);
	CU_add_test(s, "channel peer closed", test_channel_peer_closed);
	CU_add_test(s, "channel malformed", test_channel_malformed);
	CU_add_test(s, "channel oversized", test_channel_oversized);
	CU_add_test(s, "channel empty datagram", test_channel_empty_datagram);
}

UNIT_SUITE(register_ipc)
