/* The auth process: checks user and password with PAM for the master.
 * It stays root (PAM modules such as pam_unix read /etc/shadow) and is not
 * seccomp-confined (modules load and do what they need), which is why it
 * talks to nothing but the master and never to a client. */
#include "auth-pam.h"
#include "auth-penalty.h"

#include "../common/child.h"
#include "../common/event.h"
#include "../common/ipc.h"
#include "../common/ipc-messages.h"
#include "../common/log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int auth_main(void);

struct auth_delayed {
	struct buf frame;
};

static struct event_loop *auth_loop;
static struct ipc_channel auth_master;
static struct auth_penalty *auth_penalties;
static char *auth_service;
static uint32_t penalty_base_ms = 500, penalty_max_ms = 15000;

static void auth_send(struct buf *frame)
{
	ipc_channel_send(&auth_master, frame, -1);
	if (ipc_channel_pending(&auth_master))
		event_mod_fd(auth_loop, auth_master.fd, EPOLLIN | EPOLLOUT);
}

static void auth_delayed_send(void *ctx)
{
	struct auth_delayed *d = ctx;
	auth_send(&d->frame);
	buf_free(&d->frame);
	free(d);
}

static void auth_check(uint32_t request, struct ipc_reader *r)
{
	const uint8_t *user_b, *pass_b;
	size_t user_len, pass_len;
	char *remote = NULL;
	if (!ipc_get_bytes(r, &user_b, &user_len) ||
	    !ipc_get_bytes(r, &pass_b, &pass_len) ||
	    !ipc_get_str(r, IPC_MAX_ADDR, &remote) || !ipc_reader_done(r) ||
	    user_len > IPC_MAX_USER || pass_len > IPC_MAX_PASSWORD)
		fatal("malformed AUTH_CHECK from master");
	char *user = xstrndup((const char *)user_b, user_len);
	char *pass = xstrndup((const char *)pass_b, pass_len);
	explicit_bzero((void *)pass_b, pass_len);
	struct auth_user u;
	const char *reason = "";
	int result;
	if (strlen(user) != user_len || strlen(pass) != pass_len || !auth_service)
		result = IPC_AUTH_FAILED;	/* NUL inside: never valid */
	else
		result = auth_pam_check(auth_service, user, pass, remote, &u,
					&reason);
	explicit_bzero(pass, pass_len);
	free(pass);

	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_AUTH_RESULT, request);
	ipc_put_u8(&f, (uint8_t)result);
	if (result == IPC_AUTH_OK) {
		ipc_put_str(&f, u.name);
		ipc_put_u32(&f, u.uid);
		ipc_put_u32(&f, u.gid);
		ipc_put_u32(&f, (uint32_t)u.ngroups);
		for (size_t i = 0; i < u.ngroups; i++)
			ipc_put_u32(&f, u.groups[i]);
		ipc_put_str(&f, u.home);
		log_info("auth ok: user=%s uid=%u remote=%s", u.name,
			 (unsigned)u.uid, remote);
		auth_penalty_success(auth_penalties, remote);
		auth_user_free(&u);
	} else {
		ipc_put_str(&f, "");
		ipc_put_u32(&f, 0);
		ipc_put_u32(&f, 0);
		ipc_put_u32(&f, 0);
		ipc_put_str(&f, "");
	}
	ipc_frame_end(&f, false);
	if (result == IPC_AUTH_OK || result == IPC_AUTH_TEMPFAIL) {
		if (result == IPC_AUTH_TEMPFAIL)
			log_error("auth unavailable: user=%s remote=%s: %s",
				  user, remote, reason);
		auth_send(&f);
		buf_free(&f);
	} else {
		uint32_t delay = auth_penalty_fail(auth_penalties, remote,
						   event_now_ms(),
						   penalty_base_ms,
						   penalty_max_ms);
		log_info("auth failed: user=%s remote=%s: %s (answer delayed "
			 "%u ms)", user, remote, reason, delay);
		struct auth_delayed *d = xcalloc(1, sizeof(*d));
		d->frame = f;
		event_timer_add(auth_loop, delay, auth_delayed_send, d);
	}
	free(user);
	free(remote);
}

static void auth_handle(struct ipc_msg *msg)
{
	struct ipc_reader r;
	ipc_reader_init(&r, msg->payload, msg->hdr.length);
	switch (msg->hdr.type) {
	case IPC_MSG_AUTH_CONFIG: {
		char *service = NULL;
		uint8_t level;
		if (!ipc_get_str(&r, 256, &service) ||
		    !ipc_get_u32(&r, &penalty_base_ms) ||
		    !ipc_get_u32(&r, &penalty_max_ms) ||
		    !ipc_get_u8(&r, &level) || level > LOG_LEVEL_DEBUG ||
		    !ipc_reader_done(&r))
			fatal("malformed AUTH_CONFIG from master");
		log_set_level((enum log_level)level);
		free(auth_service);
		auth_service = service;
		return;
	}
	case IPC_MSG_AUTH_CHECK:
		auth_check(msg->hdr.session, &r);
		return;
	case IPC_MSG_SHUTDOWN:
		exit(0);
	default:
		fatal("unexpected message type %u from master", msg->hdr.type);
	}
}

static void auth_master_ready(void *ctx, uint32_t events)
{
	(void)ctx;
	if (events & EPOLLOUT) {
		int r = ipc_channel_flush(&auth_master);
		if (r < 0)
			exit(0);
		if (r > 0)
			event_mod_fd(auth_loop, auth_master.fd, EPOLLIN);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 64; i++) {
		struct ipc_msg msg;
		const char *error;
		int r = ipc_channel_recv(&auth_master, &msg, &error);
		if (r == 0)
			return;
		if (r < 0)
			exit(0);	/* the master is gone */
		auth_handle(&msg);
		if (msg.fd >= 0)
			close(msg.fd);
	}
}

int auth_main(void)
{
	child_init("auth");
	child_die_with_master();
	auth_loop = event_loop_new();
	auth_penalties = auth_penalty_new();
	ipc_channel_init(&auth_master, POSTERN_IPC_FD);
	fcntl(POSTERN_IPC_FD, F_SETFL,
	      fcntl(POSTERN_IPC_FD, F_GETFL) | O_NONBLOCK);
	event_add_fd(auth_loop, POSTERN_IPC_FD, EPOLLIN, auth_master_ready,
		     NULL);
	event_loop_run(auth_loop);
	return 0;
}
