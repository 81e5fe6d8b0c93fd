/* Starting, watching and restarting child processes. Every child is fork
 * + exec of posternd with a role argument, its IPC socket at fd 3, its
 * stderr a pipe the master reads, and an environment built here rather
 * than inherited. */
#include "master.h"

#include "../../common/child.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child that lives less than this was not healthy: restart it with a
 * growing delay (Postfix-style throttling) instead of in a tight loop. */
#define CHILD_HEALTHY_SECONDS 10
#define RESTART_DELAY_MIN_MS 250
#define RESTART_DELAY_MAX_MS 30000

const char *master_role_name(enum master_role role)
{
	switch (role) {
	case ROLE_AUTH: return "auth";
	case ROLE_LOGIN: return "login";
	case ROLE_WORKER: return "worker";
	}
	return "?";
}

unsigned master_child_count(void)
{
	unsigned n = 0;
	for (struct master_child *c = master.children; c != NULL; c = c->next)
		n++;
	return n;
}

static bool env_kept(const char *entry, enum master_role role)
{
	static const char *const all_roles[] = {
		"ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=",
	};
	/* PAM and NSS run only in auth; test wrappers (pam_wrapper,
	 * nss_wrapper) are preloaded there and nowhere else. */
	static const char *const auth_only[] = {
		"LD_PRELOAD=", "PAM_WRAPPER", "NSS_WRAPPER", "PAM_MATRIX",
		"UID_WRAPPER_DISABLE_DEEPBIND=",
		"LD_LIBRARY_PATH=",
	};
	for (size_t i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++)
		if (strncmp(entry, all_roles[i], strlen(all_roles[i])) == 0)
			return true;
	if (role != ROLE_AUTH)
		return false;
	for (size_t i = 0; i < sizeof(auth_only) / sizeof(auth_only[0]); i++)
		if (strncmp(entry, auth_only[i], strlen(auth_only[i])) == 0)
			return true;
	return false;
}

static char **child_environment(enum master_role role)
{
	extern char **environ;
	size_t n = 0;
	for (char **e = environ; *e != NULL; e++)
		n++;
	char **env = xcalloc(n + 3, sizeof(char *));
	size_t k = 0;
	env[k++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	env[k++] = "LANG=C";
	for (char **e = environ; *e != NULL; e++)
		if (env_kept(*e, role))
			env[k++] = *e;
	env[k] = NULL;
	return env;
}

/* Runs in the forked child: only async-signal-safe work until exec. */
static void child_exec(int ipc_fd, int log_fd, enum master_role role,
		       char **env)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Own session: a Ctrl-C on the master's terminal reaches only the
	 * master, which then shuts its children down in order. */
	setsid();
	int null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
	    dup2(log_fd, 2) < 0 || dup2(ipc_fd, POSTERN_IPC_FD) < 0)
		_exit(127);
	/* dup2 onto itself keeps FD_CLOEXEC: clear it explicitly. */
	fcntl(2, F_SETFD, 0);
	fcntl(POSTERN_IPC_FD, F_SETFD, 0);
	fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
	for (int fd = POSTERN_IPC_FD + 1; fd < 1024; fd++)
		close(fd);
	char *argv[] = { "posternd", "--role", (char *)master_role_name(role),
			 NULL };
	execve(master.exe_path, argv, env);
	_exit(127);
}

static void master_child_log_ready(void *ctx, uint32_t events);
static void master_child_ipc_ready(void *ctx, uint32_t events);

struct master_child *master_child_spawn(enum master_role role, unsigned slot)
{
	int sv[2], lp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("socketpair: %s", strerror(errno));
		return NULL;
	}
	if (pipe2(lp, O_CLOEXEC) < 0) {
		log_error("pipe2: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	char **env = child_environment(role);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		free(env);
		close(sv[0]); close(sv[1]); close(lp[0]); close(lp[1]);
		return NULL;
	}
	if (pid == 0)
		child_exec(sv[1], lp[1], role, env);
	free(env);
	close(sv[1]);
	close(lp[1]);
	struct master_child *c = xcalloc(1, sizeof(*c));
	c->role = role;
	c->slot = slot;
	c->pid = pid;
	c->started = time(NULL);
	c->log_fd = lp[0];
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	fcntl(lp[0], F_SETFL, fcntl(lp[0], F_GETFL) | O_NONBLOCK);
	ipc_channel_init(&c->ipc, sv[0]);
	event_add_fd(master.loop, sv[0], EPOLLIN, master_child_ipc_ready, c);
	event_add_fd(master.loop, lp[0], EPOLLIN, master_child_log_ready, c);
	c->next = master.children;
	master.children = c;
	log_debug("started %s[%ld]", master_role_name(role), (long)pid);
	return c;
}

void master_child_send(struct master_child *c, struct buf *frame, int fd)
{
	if (c->ipc.fd < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	ipc_channel_send(&c->ipc, frame, fd);
	if (ipc_channel_pending(&c->ipc))
		event_mod_fd(master.loop, c->ipc.fd, EPOLLIN | EPOLLOUT);
}

/* A malformed or unexpected message is a bug or an attack: drop it. */
static void master_child_drop(struct master_child *c, const char *why)
{
	log_error("%s[%ld]: %s; killing it", master_role_name(c->role),
		  (long)c->pid, why);
	kill(c->pid, SIGKILL);
	if (c->ipc.fd >= 0) {
		event_del_fd(master.loop, c->ipc.fd);
		close(c->ipc.fd);
		c->ipc.fd = -1;
	}
}

static void master_child_read_ipc(struct master_child *c)
{
	for (int i = 0; i < 256 && c->ipc.fd >= 0; i++) {
		struct ipc_msg msg;
		const char *error;
		int r = ipc_channel_recv(&c->ipc, &msg, &error);
		if (r == 0)
			return;
		if (r < 0) {
			if (strcmp(error, "peer closed the channel") == 0) {
				event_del_fd(master.loop, c->ipc.fd);
				close(c->ipc.fd);
				c->ipc.fd = -1;
			} else {
				master_child_drop(c, error);
			}
			return;
		}
		if (msg.hdr.type == IPC_MSG_SANDBOX_VIOLATION) {
			struct ipc_reader rd;
			uint32_t nr, arch;
			ipc_reader_init(&rd, msg.payload, msg.hdr.length);
			if (ipc_get_u32(&rd, &nr) && ipc_get_u32(&rd, &arch) &&
			    ipc_reader_done(&rd)) {
				c->violation_syscall = nr;
				c->violation_seen = true;
			}
			continue;
		}
		master_handle_child_msg(c, &msg);
		if (msg.fd >= 0)
			close(msg.fd);
	}
}

static void master_child_ipc_ready(void *ctx, uint32_t events)
{
	struct master_child *c = ctx;
	if (events & EPOLLOUT) {
		int r = ipc_channel_flush(&c->ipc);
		if (r > 0 && c->ipc.fd >= 0)
			event_mod_fd(master.loop, c->ipc.fd, EPOLLIN);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		master_child_read_ipc(c);
}

static void master_child_log_line(struct master_child *c, char *line)
{
	if (line[0] >= '0' && line[0] <= '3' && line[1] != '\0') {
		log_relay((enum log_level)(line[0] - '0'), line + 1);
		return;
	}
	/* Not from our logger (a sanitizer report, a library): tag it. */
	char tagged[1200];
	snprintf(tagged, sizeof(tagged), "%s[%ld]: %s",
		 master_role_name(c->role), (long)c->pid, line);
	log_relay(LOG_LEVEL_ERROR, tagged);
}

static void master_child_read_log(struct master_child *c)
{
	char chunk[4096];
	for (;;) {
		ssize_t n = read(c->log_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
				event_del_fd(master.loop, c->log_fd);
				close(c->log_fd);
				c->log_fd = -1;
			}
			return;
		}
		for (ssize_t i = 0; i < n; i++) {
			char ch = chunk[i];
			if (ch == '\n' ||
			    c->log_partial_len == sizeof(c->log_partial) - 1) {
				c->log_partial[c->log_partial_len] = '\0';
				if (c->log_partial_len > 0)
					master_child_log_line(c, c->log_partial);
				c->log_partial_len = 0;
				if (ch == '\n')
					continue;
			}
			c->log_partial[c->log_partial_len++] = ch;
		}
	}
}

static void master_child_log_ready(void *ctx, uint32_t events)
{
	(void)events;
	master_child_read_log(ctx);
}

static void master_log_death(struct master_child *c, int status)
{
	const char *role = master_role_name(c->role);
	long pid = (long)c->pid;
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		if (code == 0)
			log_msg(c->role == ROLE_WORKER || master.shutting_down ?
				LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, 0,
				"%s[%ld] exited", role, pid);
		else
			log_error("%s[%ld] exited with status %d", role, pid,
				  code);
		return;
	}
	if (!WIFSIGNALED(status))
		return;
	int sig = WTERMSIG(status);
	if (sig == SIGSYS) {
		if (c->violation_seen) {
			char *name = seccomp_syscall_resolve_num_arch(
				SCMP_ARCH_NATIVE, (int)c->violation_syscall);
			log_error("%s[%ld] killed by SIGSYS: sandbox violation, "
				  "syscall %s (%u)", role, pid,
				  name ? name : "unknown", c->violation_syscall);
			free(name);
		} else {
			log_error("%s[%ld] killed by SIGSYS (sandbox violation, "
				  "syscall not reported)", role, pid);
		}
		return;
	}
	log_msg(sig == SIGKILL && master.shutting_down ? LOG_LEVEL_DEBUG :
		LOG_LEVEL_ERROR, 0, "%s[%ld] killed by signal %d (%s)%s", role,
		pid, sig, strsignal(sig), WCOREDUMP(status) ? ", core dumped" : "");
}

static void master_restart_timer(void *ctx)
{
	uintptr_t key = (uintptr_t)ctx;
	if (master.shutting_down)
		return;
	if (key == 0)
		master_start_auth();
	else
		master_start_login((unsigned)(key - 1));
}

static void master_schedule_restart(struct master_child *c)
{
	if (master.shutting_down)
		return;
	uintptr_t key = c->role == ROLE_AUTH ? 0 : 1 + c->slot;
	unsigned *delay = &master.restart_delay_ms[key];
	if (time(NULL) - c->started >= CHILD_HEALTHY_SECONDS)
		*delay = 0;
	else if (*delay == 0)
		*delay = RESTART_DELAY_MIN_MS;
	else if (*delay < RESTART_DELAY_MAX_MS)
		*delay = *delay * 2 > RESTART_DELAY_MAX_MS ?
			 RESTART_DELAY_MAX_MS : *delay * 2;
	if (*delay > 0)
		log_info("restarting %s in %u ms", master_role_name(c->role),
			 *delay);
	event_timer_add(master.loop, *delay, master_restart_timer, (void *)key);
}

static void master_child_free(struct master_child *c)
{
	for (struct master_child **pp = &master.children; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->ipc.fd >= 0)
		event_del_fd(master.loop, c->ipc.fd);
	ipc_channel_close(&c->ipc);
	if (c->log_fd >= 0) {
		event_del_fd(master.loop, c->log_fd);
		close(c->log_fd);
	}
	free(c);
}

void master_children_reap(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		struct master_child *c = master.children;
		while (c != NULL && c->pid != pid)
			c = c->next;
		if (c == NULL)
			continue;
		/* What it said before dying (a violation report, last log
		 * lines) is still queued: take it first. */
		if (c->ipc.fd >= 0)
			master_child_read_ipc(c);
		if (c->log_fd >= 0)
			master_child_read_log(c);
		master_log_death(c, status);
		master_child_gone(c);
		if (c->role != ROLE_WORKER)
			master_schedule_restart(c);
		master_child_free(c);
	}
}

void master_send_login_config(struct master_child *c)
{
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_LOGIN_CONFIG, 0);
	ipc_put_u32(&f, master.cfg.max_line_length);
	ipc_put_u32(&f, master.cfg.login_timeout);
	ipc_put_u32(&f, master.cfg.max_bad_commands);
	ipc_put_u32(&f, master.cfg.max_connections_per_login);
	ipc_put_str(&f, master.login_chroot);
	ipc_put_u32(&f, master.login_uid);
	ipc_put_u32(&f, master.login_gid);
	ipc_put_u8(&f, master.dev_mode ? 1 : 0);
	ipc_put_u8(&f, (uint8_t)master.cfg.log_level);
	ipc_put_u8(&f, (uint8_t)master.cfg.plaintext_auth);
	ipc_frame_end(&f, false);
	master_child_send(c, &f, -1);
	buf_free(&f);
}

void master_send_auth_config(struct master_child *c)
{
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_AUTH_CONFIG, 0);
	ipc_put_str(&f, master.cfg.pam_service);
	ipc_put_u32(&f, master.cfg.auth_penalty_base_ms);
	ipc_put_u32(&f, master.cfg.auth_penalty_max_ms);
	ipc_put_u8(&f, (uint8_t)master.cfg.log_level);
	ipc_frame_end(&f, false);
	master_child_send(c, &f, -1);
	buf_free(&f);
}

void master_start_auth(void)
{
	struct master_child *c = master_child_spawn(ROLE_AUTH, 0);
	if (c == NULL) {
		event_timer_add(master.loop, 1000, master_restart_timer,
				(void *)(uintptr_t)0);
		return;
	}
	master.auth = c;
	master_send_auth_config(c);
}

void master_start_login(unsigned slot)
{
	struct master_child *c = master_child_spawn(ROLE_LOGIN, slot);
	if (c == NULL) {
		event_timer_add(master.loop, 1000, master_restart_timer,
				(void *)(uintptr_t)(slot + 1));
		return;
	}
	master.logins[slot] = c;
	master_send_login_config(c);
	master_tls_send(c);
	struct buf f;
	buf_init(&f);
	for (size_t i = 0; i < master.listen_count; i++) {
		int fd = dup(master.listen_fds[i]);
		if (fd < 0)
			fatal("dup of listener: %s", strerror(errno));
		bool tls = master.listen_is_tls[i];
		size_t k = i - (tls ? master.cfg.listen_count : 0);
		ipc_frame_begin(&f, IPC_MSG_LOGIN_LISTENER, 0);
		ipc_put_u8(&f, tls ? 1 : 0);
		ipc_put_str(&f, tls ? master.cfg.listen_tls[k].text :
			    master.cfg.listen[i].text);
		ipc_frame_end(&f, true);
		master_child_send(c, &f, fd);
	}
	ipc_frame_begin(&f, IPC_MSG_LOGIN_START, 0);
	ipc_frame_end(&f, false);
	master_child_send(c, &f, -1);
	buf_free(&f);
}
