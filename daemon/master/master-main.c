/* posternd master: start-up, signals, reload and shutdown. */
#include "master.h"

#include "../../common/log.h"
#include "../../common/privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 4000

struct master_state master;
static int signal_fd = -1;
static struct event_timer *shutdown_timer;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: posternd [-f] [-t] [-c FILE] [--unprivileged-dev]\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -f       stay in the foreground, log to stderr\n"
		"  -t       check the configuration and exit\n"
		"  --unprivileged-dev\n"
		"           development mode without root: no chroot and no\n"
		"           uid change (seccomp still applies); never for\n"
		"           production\n",
		POSTERN_DEFAULT_CONFIG);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int r = mkdir(p, mode);
	free(p);
	return r < 0 && errno != EEXIST ? -1 : 0;
}

static int bind_listener(const struct config_listen *l)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("listen %s: socket: %s", l->text, strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0)
		fatal("listen %s: bind: %s", l->text, strerror(errno));
	if (listen(fd, 511) < 0)
		fatal("listen %s: listen: %s", l->text, strerror(errno));
	return fd;
}

static void check_pid_file(void)
{
	FILE *f = fopen(master.pid_path, "r");
	if (f == NULL)
		return;
	long pid = 0;
	if (fscanf(f, "%ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) == 0) {
		char comm[64] = "";
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		FILE *c = fopen(path, "r");
		if (c != NULL) {
			if (fgets(comm, sizeof(comm), c) == NULL)
				comm[0] = '\0';
			fclose(c);
		}
		if (strncmp(comm, "posternd", 8) == 0)
			fatal("already running (pid %ld, %s)", pid,
			      master.pid_path);
	}
	fclose(f);
}

static void write_pid_file(void)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", master.pid_path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0 || rename(tmp, master.pid_path) < 0)
		fatal("%s: %s", master.pid_path, strerror(errno));
}

static void daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	log_init("master", LOG_SINK_SYSLOG);
}

static void master_finish_if_done(void)
{
	if (master.shutting_down && master.children == NULL) {
		event_timer_cancel(master.loop, shutdown_timer);
		shutdown_timer = NULL;
		event_loop_stop(master.loop);
	}
}

static void master_shutdown_timeout(void *ctx)
{
	(void)ctx;
	shutdown_timer = NULL;
	for (struct master_child *c = master.children; c != NULL; c = c->next) {
		log_warn("%s[%ld] still running after %d ms; killing it",
			 master_role_name(c->role), (long)c->pid,
			 SHUTDOWN_GRACE_MS);
		kill(c->pid, SIGKILL);
	}
}

void master_request_stop(void)
{
	if (master.shutting_down)
		return;
	master.shutting_down = true;
	log_info("shutting down");
	for (size_t i = 0; i < master.listen_count; i++) {
		close(master.listen_fds[i]);
		master.listen_fds[i] = -1;
	}
	master_control_close();
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_SHUTDOWN, 0);
	ipc_frame_end(&f, false);
	for (struct master_child *c = master.children; c != NULL; c = c->next)
		master_child_send(c, &f, -1);
	buf_free(&f);
	shutdown_timer = event_timer_add(master.loop, SHUTDOWN_GRACE_MS,
					 master_shutdown_timeout, NULL);
	master_finish_if_done();
}

static bool listen_same(const struct postern_config *a,
			const struct postern_config *b)
{
	if (a->listen_count != b->listen_count ||
	    a->listen_tls_count != b->listen_tls_count)
		return false;
	for (size_t i = 0; i < a->listen_count; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return false;
	for (size_t i = 0; i < a->listen_tls_count; i++)
		if (strcmp(a->listen_tls[i].text, b->listen_tls[i].text) != 0)
			return false;
	return true;
}

int master_reload(char **error_r)
{
	struct postern_config cfg;
	config_init_defaults(&cfg);
	if (config_load(&cfg, master.config_path, error_r) < 0) {
		config_free(&cfg);
		log_error("reload: %s; keeping the running configuration",
			  *error_r);
		return -1;
	}
	/* Certificate and key are re-read and checked now; a bad set keeps
	 * the running one. New connections get the new set; sessions keep
	 * the credentials they started with (the login process counts
	 * references). */
	struct master_tls tls;
	if (master_tls_load(&cfg, &tls, error_r) < 0) {
		config_free(&cfg);
		log_error("reload: %s; keeping the running configuration",
			  *error_r);
		return -1;
	}
	if (!listen_same(&cfg, &master.cfg))
		log_warn("reload: listen changes take effect at restart");
	if (strcmp(cfg.login_user, master.cfg.login_user) != 0 ||
	    strcmp(cfg.run_dir, master.cfg.run_dir) != 0)
		log_warn("reload: login_user and run_dir changes take effect "
			 "at restart");
	/* Keep what running processes were built on. */
	memcpy(cfg.listen, master.cfg.listen, sizeof(cfg.listen));
	cfg.listen_count = master.cfg.listen_count;
	memcpy(cfg.listen_tls, master.cfg.listen_tls, sizeof(cfg.listen_tls));
	cfg.listen_tls_count = master.cfg.listen_tls_count;
	if (!tls.enabled && master.tls.enabled) {
		/* Implicit-TLS listeners stay until restart: keep their
		 * credentials. */
		log_warn("reload: TLS cannot be turned off without a restart; "
			 "keeping the running certificate");
		master_tls_free(&tls);
		tls = master.tls;
	} else {
		master_tls_free(&master.tls);
	}
	master.tls = tls;
	free(cfg.login_user);
	cfg.login_user = xstrdup(master.cfg.login_user);
	free(cfg.run_dir);
	cfg.run_dir = xstrdup(master.cfg.run_dir);
	config_free(&master.cfg);
	master.cfg = cfg;
	log_set_level((enum log_level)cfg.log_level);
	for (unsigned i = 0; i < master.login_count; i++) {
		if (master.logins[i] == NULL)
			continue;
		master_send_login_config(master.logins[i]);
		master_tls_send(master.logins[i]);
	}
	if (master.auth != NULL)
		master_send_auth_config(master.auth);
	log_info("configuration reloaded from %s", master.config_path);
	return 0;
}

static void master_signal_ready(void *ctx, uint32_t events)
{
	(void)ctx;
	(void)events;
	struct signalfd_siginfo si;
	while (read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			master_children_reap();
			master_finish_if_done();
			break;
		case SIGTERM:
		case SIGINT:
			master_request_stop();
			break;
		case SIGHUP: {
			char *error = NULL;
			if (master_reload(&error) < 0)
				free(error);
			break;
		}
		default:
			break;
		}
	}
}

static void master_setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		fatal("sigprocmask: %s", strerror(errno));
	signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_fd < 0)
		fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	event_add_fd(master.loop, signal_fd, EPOLLIN, master_signal_ready, NULL);
}

static void master_resolve_login_user(void)
{
	if (master.dev_mode) {
		master.login_uid = geteuid();
		master.login_gid = getegid();
		return;
	}
	struct passwd *pw = getpwnam(master.cfg.login_user);
	if (pw == NULL)
		fatal("login_user %s does not exist: create it (make install "
		      "does: useradd --system %s) or set login_user",
		      master.cfg.login_user, master.cfg.login_user);
	if (pw->pw_uid == 0)
		fatal("login_user %s must not be root", master.cfg.login_user);
	master.login_uid = pw->pw_uid;
	master.login_gid = pw->pw_gid;
}

static void master_prepare_dirs(void)
{
	if (mkdir_p(master.cfg.run_dir, 0755) < 0)
		fatal("run_dir %s: %s", master.cfg.run_dir, strerror(errno));
	if (mkdir_p(master.cfg.mail_root, 0711) < 0)
		fatal("mail_root %s: %s", master.cfg.mail_root, strerror(errno));
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s/empty", master.cfg.run_dir);
	master.login_chroot = xstrdup(buf_cstr(&b));
	buf_clear(&b);
	buf_printf(&b, "%s/posternd.pid", master.cfg.run_dir);
	master.pid_path = xstrdup(buf_cstr(&b));
	buf_free(&b);
	if (!master.dev_mode) {
		char *error = NULL;
		if (privdrop_prepare_empty_dir(master.login_chroot, &error) < 0)
			fatal("%s", error);
	}
}

int master_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unprivileged-dev", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool test_only = false;
	const char *config_path = POSTERN_DEFAULT_CONFIG;
	log_init("master", LOG_SINK_STDERR);
	int opt;
	while ((opt = getopt_long(argc, argv, "c:fth", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'f': master.foreground = true; break;
		case 't': test_only = true; break;
		case 'D': master.dev_mode = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	master.config_path = xstrdup(config_path);
	config_init_defaults(&master.cfg);
	char *error = NULL;
	if (config_load(&master.cfg, config_path, &error) < 0) {
		fprintf(stderr, "posternd: %s\n", error);
		free(error);
		return 1;
	}
	if (master_tls_load(&master.cfg, &master.tls, &error) < 0) {
		fprintf(stderr, "posternd: %s: %s\n", config_path, error);
		free(error);
		return 1;
	}
	if (test_only) {
		printf("posternd: %s: configuration OK\n", config_path);
		return 0;
	}
	if (geteuid() != 0 && !master.dev_mode) {
		fprintf(stderr, "posternd: must be started as root: it binds the "
			"listeners and runs each user's worker under that user's "
			"uid.\nFor development without root, use "
			"--unprivileged-dev (see README).\n");
		return 1;
	}
	log_set_level((enum log_level)master.cfg.log_level);
	master.started = time(NULL);
	master.next_session_id = 1;
	master.control_fd = -1;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		fatal("readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	master.exe_path = xstrdup(exe);
	if (master.dev_mode)
		log_warn("unprivileged development mode: no chroot, no uid "
			 "separation between users; never use in production");

	master_resolve_login_user();
	master_prepare_dirs();
	check_pid_file();
	for (size_t i = 0; i < master.cfg.listen_count; i++)
		master.listen_fds[master.listen_count++] =
			bind_listener(&master.cfg.listen[i]);
	for (size_t i = 0; i < master.cfg.listen_tls_count; i++) {
		master.listen_is_tls[master.listen_count] = true;
		master.listen_fds[master.listen_count++] =
			bind_listener(&master.cfg.listen_tls[i]);
	}
	if (master.listen_count == 0)
		fatal("no listen address configured");

	if (!master.foreground)
		daemonize();
	master.loop = event_loop_new();
	master_setup_signals();
	if (master_control_open(&error) < 0)
		fatal("control socket: %s", error);
	write_pid_file();

	master.login_count = master.cfg.login_processes;
	if (master.login_count == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		master.login_count = cores > 0 ? (unsigned)cores : 1;
	}
	if (master.login_count > 64)
		master.login_count = 64;
	master.logins = xcalloc(master.login_count, sizeof(*master.logins));
	master_start_auth();
	for (unsigned i = 0; i < master.login_count; i++)
		master_start_login(i);
	for (size_t i = 0; i < master.cfg.listen_count; i++)
		log_info("listening on %s", master.cfg.listen[i].text);
	for (size_t i = 0; i < master.cfg.listen_tls_count; i++)
		log_info("listening on %s (TLS)", master.cfg.listen_tls[i].text);
	log_info("posternd started (pid %ld, %u login processes)",
		 (long)getpid(), master.login_count);

	event_loop_run(master.loop);

	unlink(master.pid_path);
	log_info("stopped");
	return 0;
}
