/* libFuzzer target: one received datagram through ipc_decode, then its
 * payload walked the way each message type's receiver reads it (the field
 * lists of common/ipc-messages.h). Input: byte 0 bit 0 says whether an fd
 * came with the datagram; the rest is the datagram.
 *
 * Beyond "no crash, no leak" it checks: a frame that decodes and whose
 * payload reads cleanly to its end re-encodes with the put helpers to the
 * very same bytes (the wire format has one spelling per message), and the
 * reader never claims more bytes than it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/ipc-messages.h"
#include "../../common/ipc.h"

enum field_kind {
	F_U8,
	F_U32,
	F_STR,		/* ipc_get_str with max */
	F_BYTES,	/* ipc_get_bytes, length at most max */
	F_GROUPS,	/* u32 n, then n x u32; n at most IPC_MAX_GROUPS */
};

struct field {
	enum field_kind kind;
	size_t max;
};

struct msg_spec {
	uint16_t type;
	const struct field *fields;
	size_t nfields;
};

#define U8 { F_U8, 0 }
#define U32 { F_U32, 0 }
#define STR(m) { F_STR, (m) }
#define BYTES(m) { F_BYTES, (m) }
#define GROUPS { F_GROUPS, IPC_MAX_GROUPS }

/* Bounds without a constant in ipc-messages.h, as the receivers apply
 * them (master-session.c, login-main.c, auth-main.c, worker-main.c,
 * master-control.c). */
#define MAX_MECH 32
#define MAX_LABEL 256
#define MAX_SERVICE 256
#define MAX_REASON 512
#define MAX_CTL_CMD 64
#define MAX_TEXT IPC_MAX_PAYLOAD

static const struct field f_sandbox_violation[] = { U32, U32 };
static const struct field f_login_config[] = {
	U32, U32, U32, U32, STR(IPC_MAX_PATH), U32, U32, U8, U8, U8,
};
static const struct field f_login_tls[] = {
	BYTES(IPC_MAX_PAYLOAD), BYTES(IPC_MAX_PAYLOAD),
	STR(IPC_MAX_TLS_PRIORITY),
};
static const struct field f_login_listener[] = { U8, STR(MAX_LABEL) };
static const struct field f_auth_request[] = {
	STR(MAX_MECH), BYTES(IPC_MAX_USER), BYTES(IPC_MAX_USER),
	BYTES(IPC_MAX_PASSWORD), STR(IPC_MAX_ADDR), STR(IPC_MAX_ADDR),
};
static const struct field f_auth_reply[] = { U8, STR(IPC_MAX_USER) };
static const struct field f_session_handoff[] = {
	STR(IPC_MAX_TAG), U8, U32, STR(IPC_MAX_ADDR), STR(IPC_MAX_ADDR),
	BYTES(IPC_MAX_PAYLOAD), STR(IPC_MAX_TLS_INFO),
};
static const struct field f_worker_session[] = {
	STR(IPC_MAX_TAG), U8, U32, STR(IPC_MAX_ADDR), STR(IPC_MAX_ADDR),
	BYTES(IPC_MAX_PAYLOAD),
};
static const struct field f_auth_config[] = { STR(MAX_SERVICE), U32, U32, U8 };
static const struct field f_auth_check[] = {
	BYTES(IPC_MAX_USER), BYTES(IPC_MAX_PASSWORD), STR(IPC_MAX_ADDR),
};
static const struct field f_auth_result[] = {
	U8, STR(IPC_MAX_USER), U32, U32, GROUPS, STR(IPC_MAX_PATH),
};
static const struct field f_worker_init[] = {
	STR(IPC_MAX_USER), U32, U32, GROUPS, STR(IPC_MAX_PATH), U32, U32,
	U32, U32, U8, U8,
};
static const struct field f_worker_kick[] = { STR(MAX_REASON) };
static const struct field f_ctl_request[] = {
	U32, STR(MAX_CTL_CMD), STR(IPC_MAX_USER), U8,
};
static const struct field f_ctl_reply[] = { U8, STR(MAX_TEXT) };

#define SPEC(t, f) { t, f, sizeof(f) / sizeof(f[0]) }
#define EMPTY(t) { t, NULL, 0 }

static const struct msg_spec specs[] = {
	SPEC(IPC_MSG_SANDBOX_VIOLATION, f_sandbox_violation),
	SPEC(IPC_MSG_LOGIN_CONFIG, f_login_config),
	SPEC(IPC_MSG_LOGIN_LISTENER, f_login_listener),
	EMPTY(IPC_MSG_LOGIN_START),
	SPEC(IPC_MSG_AUTH_REQUEST, f_auth_request),
	SPEC(IPC_MSG_AUTH_REPLY, f_auth_reply),
	SPEC(IPC_MSG_SESSION_HANDOFF, f_session_handoff),
	EMPTY(IPC_MSG_SESSION_GONE),
	SPEC(IPC_MSG_LOGIN_TLS, f_login_tls),
	SPEC(IPC_MSG_AUTH_CONFIG, f_auth_config),
	SPEC(IPC_MSG_AUTH_CHECK, f_auth_check),
	SPEC(IPC_MSG_AUTH_RESULT, f_auth_result),
	SPEC(IPC_MSG_WORKER_INIT, f_worker_init),
	SPEC(IPC_MSG_WORKER_SESSION, f_worker_session),
	EMPTY(IPC_MSG_WORKER_SESSION_CLOSED),
	EMPTY(IPC_MSG_WORKER_EXIT_REQUEST),
	EMPTY(IPC_MSG_WORKER_EXIT_OK),
	SPEC(IPC_MSG_WORKER_KICK, f_worker_kick),
	EMPTY(IPC_MSG_SHUTDOWN),
	SPEC(IPC_MSG_CTL_REQUEST, f_ctl_request),
	SPEC(IPC_MSG_CTL_REPLY, f_ctl_reply),
};

static const struct msg_spec *spec_find(uint16_t type)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (specs[i].type == type)
			return &specs[i];
	return NULL;
}

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* Reads the payload as spec says, writing every field read back into out
 * with the put helpers. Returns whether the whole payload read cleanly. */
static int walk(const struct msg_spec *spec, struct ipc_reader *r,
		struct buf *out)
{
	for (size_t i = 0; i < spec->nfields; i++) {
		const struct field *f = &spec->fields[i];
		size_t before = r->off;
		switch (f->kind) {
		case F_U8: {
			uint8_t v;
			if (!ipc_get_u8(r, &v))
				return 0;
			ipc_put_u8(out, v);
			break;
		}
		case F_U32: {
			uint32_t v;
			if (!ipc_get_u32(r, &v))
				return 0;
			ipc_put_u32(out, v);
			break;
		}
		case F_STR: {
			char *s = NULL;
			if (!ipc_get_str(r, f->max, &s)) {
				check(s == NULL);
				return 0;
			}
			size_t len = strlen(s);
			check(len <= f->max);
			/* no NUL inside: the whole field became the string */
			check(r->off - before == 4 + len);
			ipc_put_str(out, s);
			free(s);
			break;
		}
		case F_BYTES: {
			const uint8_t *p;
			size_t len;
			if (!ipc_get_bytes(r, &p, &len))
				return 0;
			check(p >= r->data && p + len <= r->data + r->len);
			if (len > f->max)
				return 0;	/* the receiver refuses it */
			ipc_put_bytes(out, p, len);
			break;
		}
		case F_GROUPS: {
			uint32_t n;
			if (!ipc_get_u32(r, &n))
				return 0;
			if (n > f->max)
				return 0;
			ipc_put_u32(out, n);
			for (uint32_t g = 0; g < n; g++) {
				uint32_t gid;
				if (!ipc_get_u32(r, &gid))
					return 0;
				ipc_put_u32(out, gid);
			}
			break;
		}
		}
		check(r->off <= r->len);
	}
	return ipc_reader_done(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool has_fd = (data[0] & 1) != 0;
	const uint8_t *dgram = data + 1;
	size_t len = size - 1;

	struct ipc_header hdr;
	const char *error = NULL;
	if (ipc_decode(dgram, len, has_fd, &hdr, &error) != IPC_DECODE_OK) {
		check(error != NULL && error[0] != '\0');
		return 0;
	}
	check(hdr.length == len - IPC_HEADER_SIZE);
	check(hdr.length <= IPC_MAX_PAYLOAD);
	check(((hdr.flags & IPC_FLAG_FD) != 0) == has_fd);

	/* A type added to ipc-messages.h but not yet to the table above is
	 * checked by ipc_decode only. */
	const struct msg_spec *spec = spec_find(hdr.type);
	if (spec == NULL)
		return 0;

	struct ipc_reader r;
	ipc_reader_init(&r, dgram + IPC_HEADER_SIZE, hdr.length);
	struct buf out;
	buf_init(&out);
	ipc_frame_begin(&out, hdr.type, hdr.session);
	if (walk(spec, &r, &out)) {
		check(r.off == r.len && !r.failed);
		ipc_frame_end(&out, has_fd);
		check(out.len == len);
		check(memcmp(out.data, dgram, len) == 0);
	} else {
		check(r.off <= r.len);
	}
	buf_free(&out);
	return 0;
}
