/* Login process start-up and its master channel. Settings and listening
 * sockets come over IPC; on LOGIN_START it chroots to an empty directory,
 * becomes the unprivileged login user and installs its seccomp policy, and
 * only then accepts a connection (ARCHITECTURE: sandbox before any
 * untrusted byte). */
#include "login.h"

#include "../../common/child.h"
#include "../../common/config.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"
#include "../../common/privdrop.h"
#include "../../common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct login_process login;

#define LOGIN_MAX_LISTENERS 32

struct login_listener {
	int fd;
	bool tls;
};

static struct login_listener listeners[LOGIN_MAX_LISTENERS];
static size_t listener_count;
static char *drop_chroot;
static uint32_t drop_uid, drop_gid;
static bool dev_mode;

void login_send_master(struct buf *frame, int fd)
{
	ipc_channel_send(&login.master, frame, fd);
	if (ipc_channel_pending(&login.master))
		event_mod_fd(login.loop, login.master.fd, EPOLLIN | EPOLLOUT);
}

static void login_listener_ready(void *ctx, uint32_t events)
{
	struct login_listener *l = ctx;
	(void)events;
	for (int i = 0; i < 32; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		login_conn_accepted(fd, l->tls);
	}
}

static void login_start(void)
{
	if (login.started)
		fatal("LOGIN_START received twice");
	if (dev_mode)
		privdrop_no_new_privs();
	else
		privdrop_chroot_and_drop(drop_chroot, drop_uid, drop_gid,
					 NULL, 0);
	child_die_with_master();
	sandbox_apply(SANDBOX_LOGIN);
	login.started = true;
	for (size_t i = 0; i < listener_count; i++)
		event_add_fd(login.loop, listeners[i].fd,
			     EPOLLIN | EPOLLEXCLUSIVE, login_listener_ready,
			     &listeners[i]);
	log_debug("accepting on %zu listeners", listener_count);
}

static bool login_read_config(struct ipc_reader *r)
{
	struct login_settings s;
	char *dir = NULL;
	uint32_t uid, gid;
	uint8_t dev, level;
	if (!ipc_get_u32(r, &s.max_line) || !ipc_get_u32(r, &s.idle_timeout_s) ||
	    !ipc_get_u32(r, &s.max_bad_commands) ||
	    !ipc_get_u32(r, &s.max_connections) ||
	    !ipc_get_str(r, IPC_MAX_PATH, &dir) || !ipc_get_u32(r, &uid) ||
	    !ipc_get_u32(r, &gid) || !ipc_get_u8(r, &dev) ||
	    !ipc_get_u8(r, &level) || level > LOG_LEVEL_DEBUG ||
	    !ipc_get_u8(r, &s.plaintext_auth) ||
	    s.plaintext_auth > CONFIG_PLAINTEXT_AUTH_YES ||
	    !ipc_reader_done(r)) {
		free(dir);
		return false;
	}
	login.settings = s;
	log_set_level((enum log_level)level);
	if (!login.started) {
		free(drop_chroot);
		drop_chroot = dir;
		drop_uid = uid;
		drop_gid = gid;
		dev_mode = dev != 0;
	} else {
		free(dir);
	}
	return true;
}

/* New credentials serve new connections; sessions keep a reference to the
 * ones they started with. The PEM bytes, the private key among them, are
 * wiped from the receive buffer once GnuTLS holds its own copy. */
static void login_read_tls(struct ipc_msg *msg, struct ipc_reader *r)
{
	const uint8_t *cert, *key;
	size_t cert_len, key_len;
	char *priority = NULL, *error = NULL;
	if (!ipc_get_bytes(r, &cert, &cert_len) ||
	    !ipc_get_bytes(r, &key, &key_len) ||
	    !ipc_get_str(r, IPC_MAX_TLS_PRIORITY, &priority) ||
	    !ipc_reader_done(r))
		fatal("malformed LOGIN_TLS from master");
	struct tls_creds *creds = tls_creds_new(cert, cert_len, key, key_len,
						priority, &error);
	explicit_bzero((void *)msg->payload, msg->hdr.length);
	free(priority);
	if (creds == NULL) {
		/* The master checked the same bytes with the same library. */
		if (!login.started)
			fatal("TLS credentials: %s", error);
		log_error("TLS credentials: %s; keeping the previous ones",
			  error);
		free(error);
		return;
	}
	tls_creds_unref(login.tls_creds);
	login.tls_creds = creds;
	log_debug("TLS credentials loaded");
}

static void login_handle_master_msg(struct ipc_msg *msg)
{
	struct ipc_reader r;
	ipc_reader_init(&r, msg->payload, msg->hdr.length);
	switch (msg->hdr.type) {
	case IPC_MSG_LOGIN_CONFIG:
		if (!login_read_config(&r))
			fatal("malformed LOGIN_CONFIG from master");
		return;
	case IPC_MSG_LOGIN_LISTENER: {
		uint8_t tls;
		char *label = NULL;
		if (!ipc_get_u8(&r, &tls) || !ipc_get_str(&r, 256, &label) ||
		    !ipc_reader_done(&r) || login.started ||
		    listener_count == LOGIN_MAX_LISTENERS)
			fatal("unexpected LOGIN_LISTENER from master");
		free(label);
		fcntl(msg->fd, F_SETFL, fcntl(msg->fd, F_GETFL) | O_NONBLOCK);
		listeners[listener_count].fd = msg->fd;
		if (tls != 0 && login.tls_creds == NULL)
			fatal("TLS listener without TLS credentials");
		listeners[listener_count].tls = tls != 0;
		listener_count++;
		msg->fd = -1;
		return;
	}
	case IPC_MSG_LOGIN_TLS:
		login_read_tls(msg, &r);
		return;
	case IPC_MSG_LOGIN_START:
		login_start();
		return;
	case IPC_MSG_AUTH_REPLY: {
		uint8_t result;
		char *user = NULL;
		if (!ipc_get_u8(&r, &result) ||
		    !ipc_get_str(&r, IPC_MAX_USER, &user) ||
		    !ipc_reader_done(&r))
			fatal("malformed AUTH_REPLY from master");
		free(user);
		login_conn_auth_reply(msg->hdr.session, result);
		return;
	}
	case IPC_MSG_SHUTDOWN:
		login.shutting_down = true;
		login_conn_shutdown_all("Server shutting down");
		if (login.conn_count == 0)
			exit(0);
		return;
	default:
		fatal("unexpected message type %u from master", msg->hdr.type);
	}
}

static void login_master_ready(void *ctx, uint32_t events)
{
	(void)ctx;
	if (events & EPOLLOUT) {
		int r = ipc_channel_flush(&login.master);
		if (r < 0)
			exit(0);
		if (r > 0)
			event_mod_fd(login.loop, login.master.fd, EPOLLIN);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 64; i++) {
		struct ipc_msg msg;
		const char *error;
		int r = ipc_channel_recv(&login.master, &msg, &error);
		if (r == 0)
			return;
		if (r < 0) {
			/* The master is gone or broken: nothing to serve. */
			log_debug("master channel: %s", error);
			exit(0);
		}
		login_handle_master_msg(&msg);
		if (msg.fd >= 0)
			close(msg.fd);
	}
}

int login_main(void)
{
	child_init("login");
	/* Before the sandbox: GnuTLS's global state (random generator,
	 * crypto back-end detection) is set up here, once. */
	tls_global_init();
	login.loop = event_loop_new();
	login.next_id = 1;
	ipc_channel_init(&login.master, POSTERN_IPC_FD);
	fcntl(POSTERN_IPC_FD, F_SETFL,
	      fcntl(POSTERN_IPC_FD, F_GETFL) | O_NONBLOCK);
	event_add_fd(login.loop, POSTERN_IPC_FD, EPOLLIN, login_master_ready,
		     NULL);
	event_loop_run(login.loop);
	return 0;
}
