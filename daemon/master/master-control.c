/* The control socket for posternctl: <run_dir>/control.sock, mode 0600,
 * and every caller checked with SO_PEERCRED (root, or the daemon's own
 * uid in development mode). One request, one reply per connection. */
#include "master.h"

#include "../../common/ipc-messages.h"
#include "../../common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct control_conn {
	int fd;
	struct event_timer *timer;
};

static void json_string(struct buf *b, const char *s)
{
	buf_append_byte(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_append_byte(b, *p);
	}
	buf_append_byte(b, '"');
}

static uid_t master_child_uid(const struct master_child *c)
{
	switch (c->role) {
	case ROLE_LOGIN: return master.dev_mode ? geteuid() : master.login_uid;
	case ROLE_WORKER: return master.dev_mode || c->worker == NULL ?
				 geteuid() : c->worker->uid;
	default: return 0;
	}
}

static void control_status(struct buf *out, bool json)
{
	time_t now = time(NULL);
	if (json) {
		buf_printf(out, "{\"version\":%d,\"processes\":[", IPC_PROTOCOL_VERSION);
		buf_printf(out, "{\"role\":\"master\",\"pid\":%ld,\"uid\":%u,"
			   "\"uptime\":%ld}", (long)getpid(), (unsigned)geteuid(),
			   (long)(now - master.started));
	} else {
		buf_printf(out, "%-8s %8s %8s %10s  %s\n", "ROLE", "PID", "UID",
			   "UPTIME", "USER");
		buf_printf(out, "%-8s %8ld %8u %9lds  -\n", "master",
			   (long)getpid(), (unsigned)geteuid(),
			   (long)(now - master.started));
	}
	for (struct master_child *c = master.children; c != NULL; c = c->next) {
		const char *user = c->worker != NULL ? c->worker->user : NULL;
		if (json) {
			buf_printf(out, ",{\"role\":\"%s\",\"pid\":%ld,\"uid\":%u,"
				   "\"uptime\":%ld", master_role_name(c->role),
				   (long)c->pid, (unsigned)master_child_uid(c),
				   (long)(now - c->started));
			if (user != NULL) {
				buf_append_str(out, ",\"user\":");
				json_string(out, user);
			}
			buf_append_str(out, "}");
		} else {
			buf_printf(out, "%-8s %8ld %8u %9lds  %s\n",
				   master_role_name(c->role), (long)c->pid,
				   (unsigned)master_child_uid(c),
				   (long)(now - c->started),
				   user != NULL ? user : "-");
		}
	}
	if (json)
		buf_append_str(out, "]}\n");
}

static void control_who(struct buf *out, bool json)
{
	if (json)
		buf_append_str(out, "[");
	else
		buf_printf(out, "%-20s %8s %8s  %s\n", "USER", "SESSIONS",
			   "WORKER", "REMOTE");
	bool first = true;
	for (struct master_worker *w = master.workers; w != NULL; w = w->next) {
		if (w->child == NULL)
			continue;
		if (json) {
			buf_append_str(out, first ? "{\"user\":" : ",{\"user\":");
			json_string(out, w->user);
			buf_printf(out, ",\"sessions\":%u,\"worker_pid\":%ld,"
				   "\"remote\":[", w->sessions, (long)w->child->pid);
		} else {
			buf_printf(out, "%-20s %8u %8ld  ", w->user, w->sessions,
				   (long)w->child->pid);
		}
		first = false;
		bool first_addr = true;
		for (struct master_session *s = master.sessions; s != NULL;
		     s = s->next) {
			if (s->worker != w)
				continue;
			if (json) {
				if (!first_addr)
					buf_append_byte(out, ',');
				json_string(out, s->remote);
			} else {
				/* "192.0.2.7:50123/TLS1.3/AES-256-GCM" */
				buf_printf(out, "%s%s%s%s", first_addr ? "" : " ",
					   s->remote, s->tls ? "/" : "",
					   s->tls ? s->tls_info : "");
			}
			first_addr = false;
		}
		if (json) {
			/* Per session: where from, and over what. */
			buf_append_str(out, "],\"connections\":[");
			first_addr = true;
			for (struct master_session *s = master.sessions;
			     s != NULL; s = s->next) {
				if (s->worker != w)
					continue;
				buf_append_str(out, first_addr ?
					       "{\"remote\":" : ",{\"remote\":");
				json_string(out, s->remote);
				buf_append_str(out, ",\"tls\":");
				if (s->tls)
					json_string(out, s->tls_info);
				else
					buf_append_str(out, "null");
				buf_append_byte(out, '}');
				first_addr = false;
			}
		}
		buf_append_str(out, json ? "]}" : "\n");
	}
	if (json)
		buf_append_str(out, "]\n");
}

static bool control_execute(const char *cmd, const char *arg, bool json,
			    struct buf *out)
{
	if (strcmp(cmd, "status") == 0) {
		control_status(out, json);
		return true;
	}
	if (strcmp(cmd, "who") == 0) {
		control_who(out, json);
		return true;
	}
	if (strcmp(cmd, "kick") == 0) {
		if (arg[0] == '\0') {
			buf_append_str(out, "kick needs a user name\n");
			return false;
		}
		unsigned n = master_worker_kick(arg, "Disconnected by the administrator");
		log_info("posternctl: kick %s (%u sessions)", arg, n);
		buf_printf(out, "kicked %u session%s of %s\n", n, n == 1 ? "" : "s",
			   arg);
		return true;
	}
	if (strcmp(cmd, "reload") == 0) {
		char *error = NULL;
		if (master_reload(&error) < 0) {
			buf_printf(out, "reload failed: %s\n", error);
			free(error);
			return false;
		}
		buf_append_str(out, "configuration reloaded\n");
		return true;
	}
	if (strcmp(cmd, "stop") == 0) {
		buf_append_str(out, "stopping\n");
		master_request_stop();
		return true;
	}
	buf_printf(out, "unknown command: %s\n", cmd);
	return false;
}

static void control_conn_free(struct control_conn *cc)
{
	event_timer_cancel(master.loop, cc->timer);
	event_del_fd(master.loop, cc->fd);
	close(cc->fd);
	free(cc);
}

static void control_conn_timeout(void *ctx)
{
	struct control_conn *cc = ctx;
	cc->timer = NULL;
	control_conn_free(cc);
}

static void control_conn_ready(void *ctx, uint32_t events)
{
	struct control_conn *cc = ctx;
	(void)events;
	uint8_t *rx = xmalloc(IPC_MAX_FRAME + 1);
	struct ipc_msg msg;
	const char *error;
	int r = ipc_recv_blocking(cc->fd, rx, IPC_MAX_FRAME + 1, &msg, &error);
	char *cmd = NULL, *arg = NULL;
	uint32_t version;
	uint8_t json;
	struct ipc_reader rd;
	bool ok = r > 0 && msg.hdr.type == IPC_MSG_CTL_REQUEST;
	if (r > 0 && msg.fd >= 0)
		close(msg.fd);
	if (ok) {
		ipc_reader_init(&rd, msg.payload, msg.hdr.length);
		ok = ipc_get_u32(&rd, &version) && ipc_get_str(&rd, 64, &cmd) &&
		     ipc_get_str(&rd, IPC_MAX_USER, &arg) &&
		     ipc_get_u8(&rd, &json) && ipc_reader_done(&rd);
	}
	free(rx);
	if (!ok) {
		log_warn("control: malformed request; dropping the connection");
		free(cmd);
		free(arg);
		control_conn_free(cc);
		return;
	}
	struct buf out, f;
	buf_init(&out);
	buf_init(&f);
	bool success;
	if (version != IPC_PROTOCOL_VERSION) {
		buf_printf(&out, "protocol version mismatch: posternctl %u, "
			   "posternd %d\n", version, IPC_PROTOCOL_VERSION);
		success = false;
	} else {
		success = control_execute(cmd, arg, json != 0, &out);
	}
	if (out.len > IPC_MAX_PAYLOAD - 64)
		out.len = IPC_MAX_PAYLOAD - 64;
	ipc_frame_begin(&f, IPC_MSG_CTL_REPLY, 0);
	ipc_put_u8(&f, success ? 1 : 0);
	ipc_put_bytes(&f, out.data, out.len);
	ipc_frame_end(&f, false);
	/* Blocking with a send timeout: replies are small. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(cc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int fl = fcntl(cc->fd, F_GETFL);
	fcntl(cc->fd, F_SETFL, fl & ~O_NONBLOCK);
	(void)ipc_send_blocking(cc->fd, &f, -1);
	buf_free(&f);
	buf_free(&out);
	free(cmd);
	free(arg);
	control_conn_free(cc);
}

static void control_accept(void *ctx, uint32_t events)
{
	(void)ctx;
	(void)events;
	for (;;) {
		int fd = accept4(master.control_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		uid_t allowed = master.dev_mode ? geteuid() : 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (cred.uid != 0 && cred.uid != allowed)) {
			log_warn("control: refused a caller with uid %ld",
				 (long)cred.uid);
			close(fd);
			continue;
		}
		struct control_conn *cc = xcalloc(1, sizeof(*cc));
		cc->fd = fd;
		cc->timer = event_timer_add(master.loop, 5000,
					    control_conn_timeout, cc);
		event_add_fd(master.loop, fd, EPOLLIN, control_conn_ready, cc);
	}
}

int master_control_open(char **error_r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s/control.sock", master.cfg.run_dir);
	if (b.len >= sizeof(sa.sun_path)) {
		buf_free(&b);
		buf_printf(&b, "run_dir path too long for a socket");
		*error_r = (char *)b.data;
		return -1;
	}
	master.control_path = xstrdup(buf_cstr(&b));
	memcpy(sa.sun_path, b.data, b.len);
	buf_free(&b);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	unlink(master.control_path);
	mode_t old = umask(0077);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(master.control_path, 0600) < 0 || listen(fd, 16) < 0)
		goto fail;
	master.control_fd = fd;
	event_add_fd(master.loop, fd, EPOLLIN, control_accept, NULL);
	return 0;
fail:
	buf_printf(&b, "%s: %s", master.control_path, strerror(errno));
	*error_r = (char *)b.data;
	if (fd >= 0)
		close(fd);
	return -1;
}

void master_control_close(void)
{
	if (master.control_fd >= 0) {
		event_del_fd(master.loop, master.control_fd);
		close(master.control_fd);
		master.control_fd = -1;
		unlink(master.control_path);
	}
}
