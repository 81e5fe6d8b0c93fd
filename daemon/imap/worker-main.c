/* Worker start-up: the master tells it which user it serves and where the
 * store is; it then chroots there, becomes the user, installs its seccomp
 * policy, and only then takes sessions. */
#include "worker.h"

#include "../../common/child.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"
#include "../../common/privdrop.h"
#include "../../common/sandbox.h"
#include "../../store/charset.h"
#include "../../store/mime-cache.h"
#include "search-plan.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct worker_process worker;
static bool worker_ready;

static void worker_send_master(struct buf *f)
{
	ipc_channel_send(&worker.master, f, -1);
	if (ipc_channel_pending(&worker.master))
		event_mod_fd(worker.loop, worker.master.fd, EPOLLIN | EPOLLOUT);
}

static void worker_linger_expired(void *ctx)
{
	(void)ctx;
	worker.linger_timer = NULL;
	if (worker.session_count > 0)
		return;
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_WORKER_EXIT_REQUEST, 0);
	ipc_frame_end(&f, false);
	worker_send_master(&f);
	buf_free(&f);
	worker.exit_requested = true;
}

void worker_session_count_changed(void)
{
	if (worker.session_count == 0 && worker.shutting_down)
		exit(0);
	if (worker.session_count > 0) {
		event_timer_cancel(worker.loop, worker.linger_timer);
		worker.linger_timer = NULL;
		worker.exit_requested = false;
	} else if (worker.linger_timer == NULL) {
		worker.linger_timer = event_timer_add(
			worker.loop, worker.settings.linger_s * 1000ull,
			worker_linger_expired, NULL);
	}
}

static int worker_cache_builder(void *ctx, const uint8_t *data, size_t len,
				struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

/* The store is locked by one process at a time; a worker that is still
 * exiting for this user may hold it for a moment. */
static void worker_open_store(const char *dir)
{
	const char *err = NULL;
	for (int attempt = 0; attempt < 100; attempt++) {
		if (store_open(dir, STORE_OPEN_CREATE, &worker.store, &err) == 0) {
			store_set_cache_builder(worker.store, worker_cache_builder,
						NULL);
			search_plan_attach(worker.store);	/* issue 6 */
			return;
		}
		if (store_open_last_error() != STORE_ERR_INUSE)
			break;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	fatal("cannot open the mail store of %s: %s", worker.user, err);
}

static void worker_init(struct ipc_reader *r)
{
	char *user = NULL, *dir = NULL;
	uint32_t uid, gid, ngroups;
	uint8_t dev, level;
	gid_t groups[IPC_MAX_GROUPS];
	if (!ipc_get_str(r, IPC_MAX_USER, &user) || !ipc_get_u32(r, &uid) ||
	    !ipc_get_u32(r, &gid) || !ipc_get_u32(r, &ngroups) ||
	    ngroups > IPC_MAX_GROUPS)
		fatal("malformed WORKER_INIT");
	for (uint32_t i = 0; i < ngroups; i++) {
		uint32_t g;
		if (!ipc_get_u32(r, &g))
			fatal("malformed WORKER_INIT");
		groups[i] = g;
	}
	if (!ipc_get_str(r, IPC_MAX_PATH, &dir) ||
	    !ipc_get_u32(r, &worker.settings.linger_s) ||
	    !ipc_get_u32(r, &worker.settings.max_line) ||
	    !ipc_get_u32(r, &worker.settings.idle_timeout_s) ||
	    !ipc_get_u32(r, &worker.settings.max_bad_commands) ||
	    !ipc_get_u8(r, &dev) || !ipc_get_u8(r, &level) ||
	    level > LOG_LEVEL_DEBUG || !ipc_reader_done(r))
		fatal("malformed WORKER_INIT");
	log_set_level((enum log_level)level);
	worker.user = user;
	/* Converters for the charsets mail uses, before chroot hides the
	 * gconv modules (ARCHITECTURE "Pitfalls"). */
	charset_preload();
	charset_disable_lazy_open();
	tzset();
	static char role[IPC_MAX_USER + 16];
	snprintf(role, sizeof(role), "worker/%s", user);
	log_init(role, LOG_SINK_MASTER);
	if (dev) {
		if (chdir(dir) < 0)
			fatal("chdir %s failed", dir);
		privdrop_no_new_privs();
	} else {
		privdrop_chroot_and_drop(dir, uid, gid, groups, ngroups);
	}
	free(dir);
	child_die_with_master();
	sandbox_apply(SANDBOX_WORKER);
	worker_open_store(dev ? "." : "/");
	worker_ready = true;
	log_debug("serving %s", user);
	worker_session_count_changed();
}

static void worker_session_msg(struct ipc_msg *msg, struct ipc_reader *r)
{
	char *tag = NULL, *remote = NULL, *local = NULL;
	uint8_t tls;
	uint32_t caps;
	const uint8_t *pending;
	size_t pending_len;
	if (!ipc_get_str(r, IPC_MAX_TAG, &tag) || !ipc_get_u8(r, &tls) ||
	    !ipc_get_u32(r, &caps) || !ipc_get_str(r, IPC_MAX_ADDR, &remote) ||
	    !ipc_get_str(r, IPC_MAX_ADDR, &local) ||
	    !ipc_get_bytes(r, &pending, &pending_len) || !ipc_reader_done(r))
		fatal("malformed WORKER_SESSION");
	fcntl(msg->fd, F_SETFL, fcntl(msg->fd, F_GETFL) | O_NONBLOCK);
	worker_session_new(msg->hdr.session, msg->fd, tag, tls != 0, caps,
			   remote, pending, pending_len);
	msg->fd = -1;
	free(tag);
	free(remote);
	free(local);
}

static void worker_handle(struct ipc_msg *msg)
{
	struct ipc_reader r;
	ipc_reader_init(&r, msg->payload, msg->hdr.length);
	if (!worker_ready && msg->hdr.type != IPC_MSG_WORKER_INIT)
		fatal("message %u before WORKER_INIT", msg->hdr.type);
	switch (msg->hdr.type) {
	case IPC_MSG_WORKER_INIT:
		if (worker_ready)
			fatal("WORKER_INIT received twice");
		worker_init(&r);
		return;
	case IPC_MSG_WORKER_SESSION:
		worker_session_msg(msg, &r);
		return;
	case IPC_MSG_WORKER_EXIT_OK:
		if (worker.session_count == 0)
			exit(0);
		return;
	case IPC_MSG_WORKER_KICK: {
		char *reason = NULL;
		if (!ipc_get_str(&r, 512, &reason) || !ipc_reader_done(&r))
			fatal("malformed WORKER_KICK");
		worker_session_bye_all(reason);
		free(reason);
		return;
	}
	case IPC_MSG_SHUTDOWN:
		worker_session_bye_all("Server shutting down");
		worker.shutting_down = true;
		if (worker.session_count == 0)
			exit(0);
		return;
	default:
		fatal("unexpected message type %u from master", msg->hdr.type);
	}
}

static void worker_master_ready(void *ctx, uint32_t events)
{
	(void)ctx;
	if (events & EPOLLOUT) {
		int r = ipc_channel_flush(&worker.master);
		if (r < 0)
			exit(0);
		if (r > 0)
			event_mod_fd(worker.loop, worker.master.fd, EPOLLIN);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int i = 0; i < 64; i++) {
		struct ipc_msg msg;
		const char *error;
		int r = ipc_channel_recv(&worker.master, &msg, &error);
		if (r == 0)
			return;
		if (r < 0)
			exit(0);	/* the master is gone */
		worker_handle(&msg);
		if (msg.fd >= 0)
			close(msg.fd);
	}
}

int worker_main(void)
{
	child_init("worker");
	worker.loop = event_loop_new();
	ipc_channel_init(&worker.master, POSTERN_IPC_FD);
	fcntl(POSTERN_IPC_FD, F_SETFL,
	      fcntl(POSTERN_IPC_FD, F_GETFL) | O_NONBLOCK);
	event_add_fd(worker.loop, POSTERN_IPC_FD, EPOLLIN, worker_master_ready,
		     NULL);
	event_loop_run(worker.loop);
	return 0;
}
