/* The seccomp policies and the privilege drop, tested for real: every
 * case forks a child that applies a role's actual filter, so a syscall a
 * role needs but its policy lacks fails here (the child dies by SIGSYS and
 * its report names the syscall), not in front of a user. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../common/ipc-messages.h"
#include "../../common/ipc.h"
#include "../../common/privdrop.h"
#include "../../common/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <grp.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- running a child under a policy ---- */

/* A failed check inside the sandboxed child: say where on stderr (which
 * the parent shows) and exit with a status the parent reports. */
#define CHILD_CHECK(cond) \
	do { \
		if (!(cond)) \
			child_fail(__LINE__, #cond); \
	} while (0)

static _Noreturn void child_fail(int line, const char *what)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "child check failed: line %d: %s\n",
			 line, what);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
		_exit(3);
	_exit(2);
}

typedef void sandbox_fn(void *ctx);

struct sandbox_case {
	enum sandbox_role role;
	sandbox_fn *before;	/* in the child, before sandbox_apply */
	sandbox_fn *body;	/* in the child, under the filter */
	sandbox_fn *parent;	/* in the parent while the child runs */
	void *ctx;
	/* A frame the parent queues on the child's IPC socket first. */
	struct buf *frame_to_child;
	int fd_to_child;
};

struct sandbox_result {
	pid_t pid;
	int status;
	char err[8192];		/* the child's stderr */
	int frames;		/* IPC frames the child sent */
	struct ipc_header hdr;	/* the first one */
	uint32_t nr, arch;
	bool payload_ok;
};

/* Puts fd at target without clobbering anything the child still needs
 * (the source fds are first moved above the low numbers). */
static void child_place_fd(int fd, int target)
{
	if (fd == target)
		return;
	if (dup2(fd, target) < 0)
		_exit(4);
	close(fd);
}

static int dup_high(int fd)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 20);
	CU_ASSERT_FATAL(n >= 0);
	close(fd);
	return n;
}

/* Test fds live above 20, so placing the IPC socket at fd 3 in the child
 * never lands on one of them. */
static void make_high_pair(int pair[2], bool sockets)
{
	int ret = sockets ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				       pair) :
			    pipe2(pair, O_CLOEXEC);
	CU_ASSERT_FATAL(ret == 0);
	pair[0] = dup_high(pair[0]);
	pair[1] = dup_high(pair[1]);
}

static void child_start(const struct sandbox_case *c, int ipc_fd, int err_fd)
{
	child_place_fd(ipc_fd, POSTERN_IPC_FD);
	child_place_fd(err_fd, STDERR_FILENO);
	int flags = fcntl(POSTERN_IPC_FD, F_GETFD);
	fcntl(POSTERN_IPC_FD, F_SETFD, flags & ~FD_CLOEXEC);
	/* No core files from the SIGSYS deaths; no test may hang. */
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);
	alarm(30);
	/* What a role does before its sandbox (child_init, sandbox.h). */
	signal(SIGPIPE, SIG_IGN);
	tzset();
	if (c->before != NULL)
		c->before(c->ctx);
	sandbox_apply(c->role);
	c->body(c->ctx);
	_exit(0);
}

static void read_all(int fd, char *out, size_t size)
{
	size_t len = 0;
	for (;;) {
		char tmp[4096];
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t take = (size_t)n < size - 1 - len ? (size_t)n :
							  size - 1 - len;
		memcpy(out + len, tmp, take);
		len += take;
	}
	out[len] = '\0';
}

static void collect_frames(int fd, struct sandbox_result *res)
{
	uint8_t buf[IPC_MAX_FRAME + 1];
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct ipc_msg msg;
		const char *error;
		if (ipc_recv_blocking(fd, buf, sizeof(buf), &msg, &error) <= 0)
			break;
		if (msg.fd >= 0)
			close(msg.fd);
		if (res->frames++ > 0)
			continue;
		res->hdr = msg.hdr;
		struct ipc_reader r;
		ipc_reader_init(&r, msg.payload, msg.hdr.length);
		res->payload_ok = ipc_get_u32(&r, &res->nr) &&
				  ipc_get_u32(&r, &res->arch) &&
				  ipc_reader_done(&r);
	}
}

static void sandbox_run(const struct sandbox_case *c,
			struct sandbox_result *res)
{
	memset(res, 0, sizeof(*res));
	int sv[2], errp[2];
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				   sv) == 0);
	CU_ASSERT_FATAL(pipe2(errp, O_CLOEXEC) == 0);
	sv[0] = dup_high(sv[0]);
	sv[1] = dup_high(sv[1]);
	errp[0] = dup_high(errp[0]);
	errp[1] = dup_high(errp[1]);
	if (c->frame_to_child != NULL)
		CU_ASSERT_FATAL(ipc_send_blocking(sv[0], c->frame_to_child,
						  c->fd_to_child) == 0);
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		close(errp[0]);
		child_start(c, sv[1], errp[1]);
	}
	close(sv[1]);
	close(errp[1]);
	if (c->parent != NULL)
		c->parent(c->ctx);
	read_all(errp[0], res->err, sizeof(res->err));
	close(errp[0]);
	while (waitpid(pid, &res->status, 0) < 0 && errno == EINTR)
		;
	res->pid = pid;
	collect_frames(sv[0], res);
	close(sv[0]);
}

static bool exited_zero(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void show_child(const char *what, const struct sandbox_result *res)
{
	if (exited_zero(res->status))
		return;
	printf("\n  %s: child ", what);
	if (WIFSIGNALED(res->status))
		printf("killed by signal %d", WTERMSIG(res->status));
	else
		printf("exited %d", WEXITSTATUS(res->status));
	printf("; its stderr:\n%s\n", res->err);
}

/* ---- the allowed workload, shared by every role ---- */

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

static void memory_workload(void)
{
	/* Sizes on both sides of malloc's mmap threshold (128 KiB), and a
	 * realloc that grows a mapping (mremap). */
	static const size_t sizes[] = { 24, 5000, 200 * 1024, 8 << 20 };
	for (size_t i = 0; i < N_ELEMENTS(sizes); i++) {
		char *p = malloc(sizes[i]);
		CHILD_CHECK(p != NULL);
		memset(p, 0x5a, sizes[i]);
		free(p);
	}
	char *p = malloc(1 << 20);
	CHILD_CHECK(p != NULL);
	p = realloc(p, 16 << 20);
	CHILD_CHECK(p != NULL);
	p[(16 << 20) - 1] = 1;
	free(p);
	int *zeros = calloc(100000, sizeof(int));
	CHILD_CHECK(zeros != NULL && zeros[99999] == 0);
	free(zeros);
}

static void time_workload(void)
{
	struct timespec ts;
	CHILD_CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0);
	CHILD_CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	CHILD_CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0);
	time_t now = time(NULL);
	struct tm tm;
	CHILD_CHECK(localtime_r(&now, &tm) != NULL);
	CHILD_CHECK(gmtime_r(&now, &tm) != NULL);
	char date[64];
	CHILD_CHECK(strftime(date, sizeof(date), "%d-%b-%Y %H:%M:%S %z",
			     &tm) > 0);
	struct timespec nap = { 0, 1000000 };
	CHILD_CHECK(nanosleep(&nap, NULL) == 0);
}

static void misc_workload(void)
{
	CHILD_CHECK(getpid() > 0);
	/* qsort over 1 KB asks sysconf(_SC_PHYS_PAGES), i.e. sysinfo. */
	int *v = malloc(20000 * sizeof(int));
	CHILD_CHECK(v != NULL);
	for (int i = 0; i < 20000; i++)
		v[i] = (i * 7919) % 20000;
	qsort(v, 20000, sizeof(int), compare_ints);
	CHILD_CHECK(v[0] == 0 && v[19999] == 19999);
	free(v);
	uint8_t rnd[16];
	CHILD_CHECK(getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd));
	char num[64];
	CHILD_CHECK(snprintf(num, sizeof(num), "%.3f %s", 2.5,
			     strerror(ENOENT)) > 0);
	/* Signal handling as the event loop and the reporter use it. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	CHILD_CHECK(sigaction(SIGPIPE, &sa, NULL) == 0);
	sigset_t set;
	sigemptyset(&set);
	CHILD_CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	struct stat st;
	CHILD_CHECK(fstat(STDERR_FILENO, &st) == 0);
}

struct workload_ctx {
	int pipe_w;		/* the child writes "ok" here */
	int pipe_r;		/* the parent reads it */
	int listen_fd;		/* login/lmtp: a listener with a pending... */
	int client_fd;		/* ...connection from this socket */
	char dir[64];		/* worker: a scratch store directory */
};

static void common_workload(struct workload_ctx *w)
{
	memory_workload();
	time_workload();
	misc_workload();
	CHILD_CHECK(write(w->pipe_w, "ok", 2) == 2);
}

/* ---- login and lmtp: an accepted TCP connection, a socketpair ---- */

static void net_accept_workload(struct workload_ctx *w)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHILD_CHECK(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = w->listen_fd };
	CHILD_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, w->listen_fd, &ev) == 0);
	CHILD_CHECK(epoll_wait(ep, &ev, 1, 5000) == 1);
	int fd = accept4(w->listen_fd, NULL, NULL,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHILD_CHECK(fd >= 0);
	int one = 1, err = -1;
	socklen_t len = sizeof(err);
	CHILD_CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) == 0);
	CHILD_CHECK(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
			       sizeof(one)) == 0);
	CHILD_CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		    err == 0);
	struct sockaddr_storage ss;
	len = sizeof(ss);
	CHILD_CHECK(getpeername(fd, (struct sockaddr *)&ss, &len) == 0);
	len = sizeof(ss);
	CHILD_CHECK(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
	CHILD_CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
	CHILD_CHECK(send(fd, "* OK\r\n", 6, MSG_NOSIGNAL) == 6);
	char buf[16];
	CHILD_CHECK(read(w->client_fd, buf, sizeof(buf)) == 6);
	CHILD_CHECK(write(w->client_fd, "a1 NOOP\r\n", 9) == 9);
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	CHILD_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	CHILD_CHECK(epoll_wait(ep, &ev, 1, 5000) == 1);
	CHILD_CHECK(recv(fd, buf, sizeof(buf), 0) == 9);
	CHILD_CHECK(shutdown(fd, SHUT_RDWR) == 0);
	CHILD_CHECK(close(fd) == 0 && close(ep) == 0);
}

/* The TLS proxy's plaintext channel to a worker. */
static void net_socketpair_workload(void)
{
	int sp[2];
	CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) ==
		    0);
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	CHILD_CHECK(sendmsg(sp[0], &mh, MSG_NOSIGNAL) == 1);
	char c;
	iov.iov_base = &c;
	CHILD_CHECK(recvmsg(sp[1], &mh, 0) == 1 && c == 'x');
	close(sp[0]);
	close(sp[1]);
}

static void net_body(void *ctx)
{
	struct workload_ctx *w = ctx;
	common_workload(w);
	net_accept_workload(w);
	net_socketpair_workload();
}

static void net_setup(struct workload_ctx *w)
{
	w->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(w->listen_fd >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sin);
	CU_ASSERT_FATAL(bind(w->listen_fd, (struct sockaddr *)&sin,
			     sizeof(sin)) == 0);
	CU_ASSERT_FATAL(listen(w->listen_fd, 4) == 0);
	w->listen_fd = dup_high(w->listen_fd);
	CU_ASSERT_FATAL(getsockname(w->listen_fd, (struct sockaddr *)&sin,
				    &len) == 0);
	w->client_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(w->client_fd >= 0);
	CU_ASSERT_FATAL(connect(w->client_fd, (struct sockaddr *)&sin,
				sizeof(sin)) == 0);
	w->client_fd = dup_high(w->client_fd);
}

/* ---- worker: a session fd from the master, blob files, LMDB ---- */

static void worker_session_workload(void)
{
	uint8_t buf[IPC_MAX_FRAME + 1];
	struct ipc_msg msg;
	const char *error;
	CHILD_CHECK(ipc_recv_blocking(POSTERN_IPC_FD, buf, sizeof(buf), &msg,
				      &error) == 1);
	CHILD_CHECK(msg.hdr.type == IPC_MSG_WORKER_SESSION && msg.fd >= 0);
	CHILD_CHECK(send(msg.fd, "* OK\r\n", 6, MSG_NOSIGNAL) == 6);
	char in[8];
	CHILD_CHECK(recv(msg.fd, in, sizeof(in), 0) == 6);
	CHILD_CHECK(shutdown(msg.fd, SHUT_WR) == 0 && close(msg.fd) == 0);
}

/* The blob protocol of ARCHITECTURE "Store": temp file, fsync, rename,
 * fsync the directory; then the orphan scan and a delete. */
static void worker_blob_workload(const char *dir)
{
	char tmp[128], final[128], sub[128];
	snprintf(tmp, sizeof(tmp), "%s/tmp.1", dir);
	snprintf(final, sizeof(final), "%s/blob.1", dir);
	snprintf(sub, sizeof(sub), "%s/blobs", dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(write(fd, "Subject: x\r\n\r\nbody\r\n", 20) == 20);
	CHILD_CHECK(pwrite(fd, "S", 1, 0) == 1);
	CHILD_CHECK(fsync(fd) == 0 && fdatasync(fd) == 0);
	CHILD_CHECK(close(fd) == 0);
	CHILD_CHECK(rename(tmp, final) == 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHILD_CHECK(dfd >= 0 && fsync(dfd) == 0 && close(dfd) == 0);
	fd = open(final, O_RDONLY | O_CLOEXEC);
	char head[8];
	CHILD_CHECK(fd >= 0 && pread(fd, head, 8, 0) == 8 && close(fd) == 0);
	struct stat st;
	CHILD_CHECK(stat(final, &st) == 0 && st.st_size == 20);
	CHILD_CHECK(mkdir(sub, 0700) == 0 && rmdir(sub) == 0);
	DIR *d = opendir(dir);
	CHILD_CHECK(d != NULL);
	int entries = 0;
	while (readdir(d) != NULL)
		entries++;
	CHILD_CHECK(closedir(d) == 0 && entries >= 3);
	CHILD_CHECK(unlink(final) == 0);
}

/* The same through a directory fd, as store-blob.c and store-env.c do
 * it: *at calls, renameat2, dup for fdopendir, sync_file_range, flock. */
static void worker_blob_at_workload(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHILD_CHECK(dfd >= 0);
	CHILD_CHECK(mkdirat(dfd, "blobs", 0700) == 0);
	int fd = openat(dfd, "blobs/tmp.2",
			O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHILD_CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	CHILD_CHECK(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0);
	CHILD_CHECK(fdatasync(fd) == 0 && close(fd) == 0);
	CHILD_CHECK(renameat2(dfd, "blobs/tmp.2", dfd, "blobs/2",
			      RENAME_NOREPLACE) == 0);
	struct stat st;
	CHILD_CHECK(fstatat(dfd, "blobs/2", &st, AT_SYMLINK_NOFOLLOW) == 0);
	CHILD_CHECK(faccessat(dfd, "blobs/2", F_OK, 0) == 0);
	CHILD_CHECK(flock(dfd, LOCK_EX | LOCK_NB) == 0 &&
		    flock(dfd, LOCK_UN) == 0);
	int copy = dup(dfd);
	CHILD_CHECK(copy >= 0);
	DIR *d = fdopendir(copy);
	CHILD_CHECK(d != NULL);
	rewinddir(d);
	while (readdir(d) != NULL)
		;
	CHILD_CHECK(closedir(d) == 0);
	CHILD_CHECK(unlinkat(dfd, "blobs/2", 0) == 0);
	CHILD_CHECK(unlinkat(dfd, "blobs", AT_REMOVEDIR) == 0);
	CHILD_CHECK(close(dfd) == 0);
}

static void worker_lmdb_workload(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	CHILD_CHECK(mdb_env_create(&env) == 0);
	CHILD_CHECK(mdb_env_set_mapsize(env, 16 << 20) == 0);
	CHILD_CHECK(mdb_env_set_maxdbs(env, 4) == 0);
	CHILD_CHECK(mdb_env_open(env, dir, 0, 0600) == 0);
	CHILD_CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHILD_CHECK(mdb_dbi_open(txn, "mailboxes", MDB_CREATE, &dbi) == 0);
	MDB_val key = { 5, "INBOX" }, val = { 1, "1" };
	CHILD_CHECK(mdb_put(txn, dbi, &key, &val, 0) == 0);
	CHILD_CHECK(mdb_txn_commit(txn) == 0);
	CHILD_CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
	CHILD_CHECK(mdb_get(txn, dbi, &key, &val) == 0 && val.mv_size == 1);
	mdb_txn_abort(txn);
	CHILD_CHECK(mdb_env_sync(env, 1) == 0);
	mdb_env_close(env);
}

static void worker_body(void *ctx)
{
	struct workload_ctx *w = ctx;
	common_workload(w);
	worker_session_workload();
	worker_blob_workload(w->dir);
	worker_blob_at_workload(w->dir);
	worker_lmdb_workload(w->dir);
	/* What ipc_channel_init does to a channel. */
	int sndbuf = IPC_MAX_FRAME;
	CHILD_CHECK(setsockopt(POSTERN_IPC_FD, SOL_SOCKET, SO_SNDBUF, &sndbuf,
			       sizeof(sndbuf)) == 0);
}

/* ---- allowed workloads, per role ---- */

static void run_allowed(enum sandbox_role role)
{
	struct workload_ctx w;
	memset(&w, 0, sizeof(w));
	w.listen_fd = w.client_fd = -1;
	int p[2];
	make_high_pair(p, false);
	w.pipe_r = p[0];
	w.pipe_w = p[1];
	struct sandbox_case c = {
		.role = role, .ctx = &w, .fd_to_child = -1,
	};
	struct buf frame;
	buf_init(&frame);
	int session[2] = { -1, -1 };
	if (role == SANDBOX_WORKER) {
		snprintf(w.dir, sizeof(w.dir), "/tmp/postern-sandbox-XXXXXX");
		CU_ASSERT_FATAL(mkdtemp(w.dir) != NULL);
		make_high_pair(session, true);
		ipc_frame_begin(&frame, IPC_MSG_WORKER_SESSION, 7);
		ipc_frame_end(&frame, true);
		c.frame_to_child = &frame;
		c.fd_to_child = session[1];
		CU_ASSERT_FATAL(write(session[0], "a NOOP", 6) == 6);
		c.body = worker_body;
	} else {
		net_setup(&w);
		c.body = net_body;
	}

	struct sandbox_result res;
	sandbox_run(&c, &res);
	show_child(sandbox_role_name(role), &res);
	CU_ASSERT(exited_zero(res.status));
	CU_ASSERT_EQUAL(res.frames, 0);
	close(p[1]);
	char ok[4] = "";
	CU_ASSERT(read(p[0], ok, sizeof(ok)) == 2 && memcmp(ok, "ok", 2) == 0);
	close(p[0]);

	if (role == SANDBOX_WORKER) {
		/* Our copy closed, a child that died early reads as EOF. */
		close(session[1]);
		char in[8];
		CU_ASSERT(read(session[0], in, sizeof(in)) == 6);
		close(session[0]);
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w.dir);
		CU_ASSERT(system(cmd) == 0);
	} else {
		close(w.listen_fd);
		close(w.client_fd);
	}
	buf_free(&frame);
}

static void test_login_allowed(void)
{
	run_allowed(SANDBOX_LOGIN);
}

static void test_lmtp_allowed(void)
{
	run_allowed(SANDBOX_LMTP);
}

static void test_worker_allowed(void)
{
	run_allowed(SANDBOX_WORKER);
}

/* ---- login: a TLS handshake under the filter ---- */

/* What the login process does per connection, after its sandbox:
 * gnutls_init, handshake, records. Global init, the key, the certificate
 * and the priority cache come before (sandbox.h). The client is the
 * unsandboxed parent. */
struct tls_ctx {
	gnutls_certificate_credentials_t server_cred;
	gnutls_priority_t prio;
	int server_fd;
	int client_fd;
	int client_ok;
};

static void tls_make_credentials(struct tls_ctx *t)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	CU_ASSERT_FATAL(gnutls_x509_privkey_init(&key) == 0);
	CU_ASSERT_FATAL(gnutls_x509_privkey_generate(
		key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) == 0);
	CU_ASSERT_FATAL(gnutls_x509_crt_init(&crt) == 0);
	time_t now = time(NULL);
	CU_ASSERT_FATAL(gnutls_x509_crt_set_version(crt, 3) == 0);
	CU_ASSERT_FATAL(gnutls_x509_crt_set_serial(crt, "\x01", 1) == 0);
	CU_ASSERT_FATAL(gnutls_x509_crt_set_activation_time(crt, now - 3600) ==
			0);
	CU_ASSERT_FATAL(gnutls_x509_crt_set_expiration_time(crt, now + 3600) ==
			0);
	CU_ASSERT_FATAL(gnutls_x509_crt_set_dn(crt, "CN=localhost", NULL) ==
			0);
	CU_ASSERT_FATAL(gnutls_x509_crt_set_key(crt, key) == 0);
	CU_ASSERT_FATAL(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
					      0) == 0);
	CU_ASSERT_FATAL(gnutls_certificate_allocate_credentials(
				&t->server_cred) == 0);
	CU_ASSERT_FATAL(gnutls_certificate_set_x509_key(t->server_cred, &crt,
							1, key) == 0);
	CU_ASSERT_FATAL(gnutls_priority_init(&t->prio, "NORMAL", NULL) == 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void tls_server_body(void *ctx)
{
	struct tls_ctx *t = ctx;
	gnutls_session_t s;
	/* The server must see EOF when the client gives up. */
	close(t->client_fd);
	CHILD_CHECK(gnutls_init(&s, GNUTLS_SERVER) == 0);
	CHILD_CHECK(gnutls_priority_set(s, t->prio) == 0);
	CHILD_CHECK(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
					   t->server_cred) == 0);
	gnutls_transport_set_int(s, t->server_fd);
	int ret;
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	CHILD_CHECK(ret == 0);
	char buf[16];
	CHILD_CHECK(gnutls_record_recv(s, buf, sizeof(buf)) == 7);
	CHILD_CHECK(gnutls_record_send(s, "* BYE\r\n", 7) == 7);
	/* The client may be gone already; the alert then fails (EPIPE). */
	(void)gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
}

static void tls_client(void *ctx)
{
	struct tls_ctx *t = ctx;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	close(t->server_fd);
	/* A server that died mid-handshake must fail the test, not end the
	 * test runner by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (gnutls_certificate_allocate_credentials(&cred) != 0 ||
	    gnutls_init(&s, GNUTLS_CLIENT) != 0)
		return;
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, t->client_fd);
	int ret;
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret != 0)
		printf("\n  TLS client: %s\n", gnutls_strerror(ret));
	char buf[16];
	if (ret == 0 && gnutls_record_send(s, "a NOOP\n", 7) == 7 &&
	    gnutls_record_recv(s, buf, sizeof(buf)) == 7)
		t->client_ok = 1;
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(t->client_fd);
}

static void test_login_tls(void)
{
	struct tls_ctx t;
	memset(&t, 0, sizeof(t));
	tls_make_credentials(&t);
	int sp[2];
	make_high_pair(sp, true);
	t.server_fd = sp[0];
	t.client_fd = sp[1];
	struct sandbox_case c = {
		.role = SANDBOX_LOGIN, .body = tls_server_body,
		.parent = tls_client, .ctx = &t, .fd_to_child = -1,
	};
	struct sandbox_result res;
	sandbox_run(&c, &res);
	show_child("login TLS", &res);
	CU_ASSERT(exited_zero(res.status));
	CU_ASSERT_EQUAL(res.frames, 0);
	CU_ASSERT_EQUAL(t.client_ok, 1);
	gnutls_priority_deinit(t.prio);
	gnutls_certificate_free_credentials(t.server_cred);
}

/* ---- forbidden syscalls: SIGSYS, a report frame and a log line ---- */

static void call_execve(void)
{
	char *argv[] = { "/bin/true", NULL };
	char *envp[] = { NULL };
	execve("/bin/true", argv, envp);
}

static void call_socket(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

/* Sanitizer builds let login and lmtp open read-only (sandbox.c), so
 * the read-only case is release-only; writing and creating are refused in
 * every build. */
#ifndef POSTERN_SANITIZE
static void call_openat(void)
{
	(void)openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
}
#endif

static void call_openat_write(void)
{
	(void)openat(AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
}

static void call_open_create(void)
{
	(void)syscall(SYS_open, "/tmp/postern-sandbox-x",
		      O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
}

static void call_fork(void)
{
	if (fork() == 0)
		_exit(0);
}

static void call_ptrace(void)
{
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void call_setuid(void)
{
	(void)setuid(0);
}

static void call_chroot(void)
{
	(void)chroot("/");
}

static void call_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	(void)connect(0, (struct sockaddr *)&sin, sizeof(sin));
}

/* The test runner's pid, taken before the fork (getppid is not in any
 * policy). */
static pid_t runner_pid;

static void call_kill_parent(void)
{
	(void)kill(runner_pid, 0);
}

static void call_tgkill_other(void)
{
	(void)syscall(SYS_tgkill, runner_pid, runner_pid, 0);
}

static void call_mmap_exec(void)
{
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void call_mprotect_exec(void)
{
	static char page[8192] __attribute__((aligned(4096)));
	(void)mprotect(page, 4096, PROT_READ | PROT_EXEC);
}

static void call_setsockopt_tos(void)
{
	int tos = 0;
	(void)setsockopt(0, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

static void call_socketpair_inet(void)
{
	int sp[2];
	(void)socketpair(AF_INET, SOCK_STREAM, 0, sp);
}

static void call_fcntl_lock(void)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	(void)fcntl(STDERR_FILENO, F_SETLK, &fl);
}

static void call_accept(void)
{
	(void)accept4(0, NULL, NULL, 0);
}

static void *thread_main(void *arg)
{
	return arg;
}

/* glibc tries clone3 (ENOSYS) and falls back to clone, which traps; it
 * blocks every signal around the clone, so the kernel kills the process
 * without running the reporter. */
static void call_pthread_create(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, NULL) == 0)
		pthread_join(t, NULL);
}

static void call_getuid(void)
{
	(void)getuid();
}

struct forbidden {
	enum sandbox_role role;
	const char *what;
	void (*call)(void);
	int nr;
};

static const struct forbidden forbidden_calls[] = {
	{ SANDBOX_LOGIN, "execve", call_execve, SYS_execve },
	{ SANDBOX_LOGIN, "openat O_WRONLY", call_openat_write, SYS_openat },
	{ SANDBOX_LOGIN, "open O_CREAT", call_open_create, SYS_open },
	{ SANDBOX_LOGIN, "socket", call_socket, SYS_socket },
	{ SANDBOX_LOGIN, "connect", call_connect, SYS_connect },
	{ SANDBOX_LOGIN, "fork", call_fork, SYS_clone },
	{ SANDBOX_LOGIN, "ptrace", call_ptrace, SYS_ptrace },
	{ SANDBOX_LOGIN, "kill", call_kill_parent, SYS_kill },
	{ SANDBOX_LOGIN, "tgkill other", call_tgkill_other, SYS_tgkill },
	{ SANDBOX_LOGIN, "mmap exec", call_mmap_exec, SYS_mmap },
	{ SANDBOX_LOGIN, "mprotect exec", call_mprotect_exec, SYS_mprotect },
	{ SANDBOX_LOGIN, "setsockopt IP_TOS", call_setsockopt_tos,
	  SYS_setsockopt },
	{ SANDBOX_LOGIN, "socketpair AF_INET", call_socketpair_inet,
	  SYS_socketpair },
	{ SANDBOX_LOGIN, "fcntl lock", call_fcntl_lock, SYS_fcntl },
	{ SANDBOX_LOGIN, "getuid", call_getuid, SYS_getuid },
#ifndef POSTERN_SANITIZE
	{ SANDBOX_LOGIN, "openat O_RDONLY", call_openat, SYS_openat },
	{ SANDBOX_LMTP, "openat O_RDONLY", call_openat, SYS_openat },
#endif
	{ SANDBOX_LMTP, "openat O_WRONLY", call_openat_write, SYS_openat },
	{ SANDBOX_LMTP, "execve", call_execve, SYS_execve },
	{ SANDBOX_LMTP, "socket", call_socket, SYS_socket },
	{ SANDBOX_LMTP, "fork", call_fork, SYS_clone },
	{ SANDBOX_WORKER, "execve", call_execve, SYS_execve },
	{ SANDBOX_WORKER, "socket", call_socket, SYS_socket },
	{ SANDBOX_WORKER, "connect", call_connect, SYS_connect },
	{ SANDBOX_WORKER, "accept4", call_accept, SYS_accept4 },
	{ SANDBOX_WORKER, "fork", call_fork, SYS_clone },
	{ SANDBOX_WORKER, "ptrace", call_ptrace, SYS_ptrace },
	{ SANDBOX_WORKER, "setuid", call_setuid, SYS_setuid },
	{ SANDBOX_WORKER, "chroot", call_chroot, SYS_chroot },
	{ SANDBOX_WORKER, "kill", call_kill_parent, SYS_kill },
	{ SANDBOX_WORKER, "tgkill other", call_tgkill_other, SYS_tgkill },
	{ SANDBOX_WORKER, "mmap exec", call_mmap_exec, SYS_mmap },
	{ SANDBOX_WORKER, "mprotect exec", call_mprotect_exec,
	  SYS_mprotect },
};

static void forbidden_body(void *ctx)
{
	const struct forbidden *f = ctx;
	f->call();
}

static void check_forbidden(const struct forbidden *f)
{
	struct sandbox_case c = {
		.role = f->role, .body = forbidden_body, .ctx = (void *)f,
		.fd_to_child = -1,
	};
	struct sandbox_result res;
	sandbox_run(&c, &res);
	bool sigsys = WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGSYS;
	char line[128];
	snprintf(line, sizeof(line),
		 "0%s[%ld]: error: sandbox violation: syscall %d\n",
		 sandbox_role_name(f->role), (long)res.pid, f->nr);
	bool reported = res.frames == 1 &&
			res.hdr.type == IPC_MSG_SANDBOX_VIOLATION &&
			res.hdr.session == 0 && res.payload_ok &&
			res.nr == (uint32_t)f->nr &&
			res.arch == seccomp_arch_native();
	bool logged = strstr(res.err, line) != NULL;
	if (!sigsys || !reported || !logged) {
		printf("\n  %s %s: sigsys=%d reported=%d (frames %d, nr %u) "
		       "logged=%d\n", sandbox_role_name(f->role), f->what,
		       sigsys, reported, res.frames, res.nr, logged);
		show_child(f->what, &res);
		if (exited_zero(res.status))
			printf("  (the call was allowed)\n");
	}
	CU_ASSERT(sigsys);
	CU_ASSERT(reported);
	CU_ASSERT(logged);
}

static void test_forbidden(void)
{
	runner_pid = getpid();
	for (size_t i = 0; i < N_ELEMENTS(forbidden_calls); i++)
		check_forbidden(&forbidden_calls[i]);
}

static void thread_body(void *ctx)
{
	(void)ctx;
	call_pthread_create();
}

/* Threads are refused (clone); the death cannot be reported because
 * glibc blocks SIGSYS around the clone, and the kernel then kills
 * outright. Single-threaded roles are part of the contract (sandbox.h). */
static void test_thread_refused(void)
{
	struct sandbox_case c = {
		.role = SANDBOX_WORKER, .body = thread_body, .fd_to_child = -1,
	};
	struct sandbox_result res;
	sandbox_run(&c, &res);
	CU_ASSERT(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGSYS);
	CU_ASSERT_EQUAL(res.frames, 0);
}

/* ---- clone3: ENOSYS, so glibc falls back instead of dying ---- */

static void clone3_body(void *ctx)
{
	(void)ctx;
	uint64_t args[11];
	memset(args, 0, sizeof(args));
	errno = 0;
	long ret = syscall(SYS_clone3, args, sizeof(args));
	CHILD_CHECK(ret == -1 && errno == ENOSYS);
}

/* exit() runs atexit handlers and flushes stdio (and, in sanitizer
 * builds, would run LeakSanitizer's check, which sandbox.c turns off):
 * none of it may trap. */
static void exit_body(void *ctx)
{
	(void)ctx;
	static char out[64];
	setvbuf(stdout, out, _IOFBF, sizeof(out));
	printf("%s", "");
	exit(0);
}

/* abort() (assert, malloc's corruption checks) must end by SIGABRT, not
 * by a trap: the master's log should say what really happened. */
static void abort_body(void *ctx)
{
	(void)ctx;
	abort();
}

static void test_abort(void)
{
	static const enum sandbox_role roles[] = {
		SANDBOX_LOGIN, SANDBOX_WORKER, SANDBOX_LMTP,
	};
	for (size_t i = 0; i < N_ELEMENTS(roles); i++) {
		struct sandbox_case c = {
			.role = roles[i], .body = abort_body,
			.fd_to_child = -1,
		};
		struct sandbox_result res;
		sandbox_run(&c, &res);
		CU_ASSERT(WIFSIGNALED(res.status) &&
			  WTERMSIG(res.status) == SIGABRT);
		CU_ASSERT_EQUAL(res.frames, 0);
	}
}

static void test_exit(void)
{
	static const enum sandbox_role roles[] = {
		SANDBOX_LOGIN, SANDBOX_WORKER, SANDBOX_LMTP,
	};
	for (size_t i = 0; i < N_ELEMENTS(roles); i++) {
		struct sandbox_case c = {
			.role = roles[i], .body = exit_body,
			.fd_to_child = -1,
		};
		struct sandbox_result res;
		sandbox_run(&c, &res);
		show_child("exit", &res);
		CU_ASSERT(exited_zero(res.status));
		CU_ASSERT_EQUAL(res.frames, 0);
	}
}

static void test_clone3_enosys(void)
{
	static const enum sandbox_role roles[] = {
		SANDBOX_LOGIN, SANDBOX_WORKER, SANDBOX_LMTP,
	};
	for (size_t i = 0; i < N_ELEMENTS(roles); i++) {
		struct sandbox_case c = {
			.role = roles[i], .body = clone3_body,
			.fd_to_child = -1,
		};
		struct sandbox_result res;
		sandbox_run(&c, &res);
		show_child("clone3", &res);
		CU_ASSERT(exited_zero(res.status));
		CU_ASSERT_EQUAL(res.frames, 0);
	}
}

#ifdef POSTERN_SANITIZE
/* ---- SANITIZE builds: a sanitizer report gets written, not trapped ---- */

static void asan_overflow_body(void *ctx)
{
	(void)ctx;
	char *volatile p = malloc(16);
	volatile char c = p[16];
	(void)c;
	free(p);
}

static void ubsan_overflow_body(void *ctx)
{
	(void)ctx;
	volatile int big = 0x7fffffff;
	volatile int sum = big + 1;
	(void)sum;
}

static void check_sanitizer_report(enum sandbox_role role, sandbox_fn *body,
				   const char *expect)
{
	struct sandbox_case c = {
		.role = role, .body = body, .fd_to_child = -1,
	};
	struct sandbox_result res;
	sandbox_run(&c, &res);
	bool reported = strstr(res.err, expect) != NULL;
	bool trapped = strstr(res.err, "sandbox violation") != NULL;
	if (!reported || trapped || !WIFEXITED(res.status))
		printf("\n  %s %s: status %#x; stderr:\n%s\n",
		       sandbox_role_name(role), expect, res.status, res.err);
	CU_ASSERT(reported);
	CU_ASSERT(!trapped);
	CU_ASSERT(WIFEXITED(res.status) && WEXITSTATUS(res.status) != 0);
}

static void test_sanitizer_reports(void)
{
	static const enum sandbox_role roles[] = {
		SANDBOX_LOGIN, SANDBOX_WORKER, SANDBOX_LMTP,
	};
	for (size_t i = 0; i < N_ELEMENTS(roles); i++) {
		check_sanitizer_report(
			roles[i], asan_overflow_body,
			"AddressSanitizer: heap-buffer-overflow");
		check_sanitizer_report(
			roles[i], ubsan_overflow_body,
			"runtime error: signed integer overflow");
	}
}
#endif

static void test_role_names(void)
{
	CU_ASSERT_STRING_EQUAL(sandbox_role_name(SANDBOX_LOGIN), "login");
	CU_ASSERT_STRING_EQUAL(sandbox_role_name(SANDBOX_WORKER), "worker");
	CU_ASSERT_STRING_EQUAL(sandbox_role_name(SANDBOX_LMTP), "lmtp");
	CU_ASSERT_EQUAL(sandbox_role_parse("worker"), SANDBOX_WORKER);
	CU_ASSERT_EQUAL(sandbox_role_parse("lmtp"), SANDBOX_LMTP);
	CU_ASSERT_EQUAL(sandbox_role_parse("master"), -1);
}

/* ---- privdrop ---- */

static bool skip_unless_root(const char *test)
{
	if (geteuid() == 0)
		return false;
	printf("\n  %s: skipped: needs root\n", test);
	return true;
}

/* Runs fn in a child with stderr silenced; returns its wait status. */
static int run_child(void (*fn)(void *), void *ctx)
{
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		alarm(30);
		fn(ctx);
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static bool exited_with(int status, int code)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static void make_scratch(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/postern-privdrop-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

static void remove_scratch(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", dir,
		 dir);
	CU_ASSERT(system(cmd) == 0);
}

#define DROP_UID 12345
#define DROP_GID 12345
#define DROP_GROUP 12346

static void drop_child(void *ctx)
{
	const char *root = ctx;
	static const gid_t groups[] = { DROP_GROUP };
	privdrop_chroot_and_drop(root, DROP_UID, DROP_GID, groups, 1);
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	CHILD_CHECK(getresuid(&ru, &eu, &su) == 0);
	CHILD_CHECK(ru == DROP_UID && eu == DROP_UID && su == DROP_UID);
	CHILD_CHECK(getresgid(&rg, &eg, &sg) == 0);
	CHILD_CHECK(rg == DROP_GID && eg == DROP_GID && sg == DROP_GID);
	gid_t have[4];
	CHILD_CHECK(getgroups(4, have) == 1 && have[0] == DROP_GROUP);
	CHILD_CHECK(setuid(0) == -1 && errno == EPERM);
	CHILD_CHECK(setgid(0) == -1 && errno == EPERM);
	CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	char cwd[64];
	CHILD_CHECK(getcwd(cwd, sizeof(cwd)) != NULL &&
		    strcmp(cwd, "/") == 0);
	/* Inside the empty chroot: nothing of the real root is visible. */
	CHILD_CHECK(access("/etc/passwd", F_OK) == -1 && errno == ENOENT);
	CHILD_CHECK(access("/tmp", F_OK) == -1 && errno == ENOENT);
	/* And the sandbox still goes on top. */
	sandbox_apply(SANDBOX_LOGIN);
	_exit(0);
}

static void test_privdrop_drop(void)
{
	if (skip_unless_root("privdrop drop"))
		return;
	char dir[64], root[96];
	make_scratch(dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/empty", dir);
	char *error = NULL;
	CU_ASSERT_FATAL(privdrop_prepare_empty_dir(root, &error) == 0);
	int status = run_child(drop_child, root);
	if (!exited_with(status, 0))
		printf("\n  drop child status %#x\n", status);
	CU_ASSERT(exited_with(status, 0));
	remove_scratch(dir);
}

struct drop_args {
	const char *root;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	uid_t become_first;	/* 0: stay root */
};

static void drop_args_child(void *ctx)
{
	const struct drop_args *a = ctx;
	if (a->become_first != 0 &&
	    (setgroups(0, NULL) < 0 || setresgid(a->become_first,
						 a->become_first,
						 a->become_first) < 0 ||
	     setresuid(a->become_first, a->become_first,
		       a->become_first) < 0))
		_exit(3);
	privdrop_chroot_and_drop(a->root, a->uid, a->gid, a->groups,
				 a->ngroups);
	_exit(0);
}

/* Every refusal is fatal (exit 1), never a half-dropped process. */
static void test_privdrop_refusals(void)
{
	if (skip_unless_root("privdrop refusals"))
		return;
	static const gid_t root_group[] = { 0 };
	const struct drop_args fatal_cases[] = {
		{ NULL, 0, DROP_GID, NULL, 0, 0 },		/* to uid 0 */
		{ NULL, DROP_UID, 0, NULL, 0, 0 },		/* to gid 0 */
		{ NULL, DROP_UID, DROP_GID, root_group, 1, 0 },
		{ NULL, DROP_UID, DROP_GID, NULL, 2, 0 },	/* no list */
		{ "/nonexistent-postern", DROP_UID, DROP_GID, NULL, 0, 0 },
	};
	for (size_t i = 0; i < N_ELEMENTS(fatal_cases); i++) {
		int status = run_child(drop_args_child,
				       (void *)&fatal_cases[i]);
		if (!exited_with(status, 1))
			printf("\n  refusal case %zu: status %#x\n", i, status);
		CU_ASSERT(exited_with(status, 1));
	}
}

/* Development mode: an unprivileged process may only keep its own ids
 * and cannot chroot. As root, the child first becomes DROP_UID. */
static void test_privdrop_unprivileged(void)
{
	bool root = geteuid() == 0;
	uid_t uid = root ? DROP_UID : getuid();
	gid_t gid = root ? DROP_UID : getgid();
	uid_t first = root ? DROP_UID : 0;
	struct drop_args own = { NULL, uid, gid, NULL, 0, first };
	CU_ASSERT(exited_with(run_child(drop_args_child, &own), 0));
	struct drop_args other = { NULL, uid + 1, gid, NULL, 0, first };
	CU_ASSERT(exited_with(run_child(drop_args_child, &other), 1));
	struct drop_args jail = { "/", uid, gid, NULL, 0, first };
	CU_ASSERT(exited_with(run_child(drop_args_child, &jail), 1));
}

static void expect_prepare_error(const char *path, const char *reason)
{
	char *error = NULL;
	CU_ASSERT(privdrop_prepare_empty_dir(path, &error) == -1);
	CU_ASSERT(error != NULL && strstr(error, reason) != NULL);
	if (error == NULL || strstr(error, reason) == NULL)
		printf("\n  %s: expected '%s', got '%s'\n", path, reason,
		       error != NULL ? error : "(null)");
	free(error);
}

static void test_privdrop_prepare_empty_dir(void)
{
	if (skip_unless_root("privdrop_prepare_empty_dir"))
		return;
	char dir[64], path[128];
	make_scratch(dir, sizeof(dir));
	char *error = NULL;

	snprintf(path, sizeof(path), "%s/good", dir);
	mode_t old = umask(077);
	CU_ASSERT(privdrop_prepare_empty_dir(path, &error) == 0);
	umask(old);
	struct stat st;
	CU_ASSERT(lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		  (st.st_mode & 07777) == 0555 && st.st_uid == 0);
	/* Again: an existing good directory is fine. */
	CU_ASSERT(privdrop_prepare_empty_dir(path, &error) == 0);

	snprintf(path, sizeof(path), "%s/full", dir);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	char file[160];
	snprintf(file, sizeof(file), "%s/x", path);
	int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CU_ASSERT(fd >= 0);
	close(fd);
	expect_prepare_error(path, "not empty");

	snprintf(path, sizeof(path), "%s/open", dir);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0 && chmod(path, 0777) == 0);
	expect_prepare_error(path, "writable by group or others");
	CU_ASSERT(chmod(path, 0775) == 0);
	expect_prepare_error(path, "writable by group or others");

	snprintf(path, sizeof(path), "%s/owned", dir);
	CU_ASSERT_FATAL(mkdir(path, 0555) == 0);
	CU_ASSERT(chown(path, DROP_UID, DROP_GID) == 0);
	expect_prepare_error(path, "not owned by root");

	snprintf(path, sizeof(path), "%s/link", dir);
	char target[128];
	snprintf(target, sizeof(target), "%s/good", dir);
	CU_ASSERT(symlink(target, path) == 0);
	expect_prepare_error(path, "symlink");

	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
	CU_ASSERT(fd >= 0);
	close(fd);
	expect_prepare_error(path, "not a directory");

	snprintf(path, sizeof(path), "%s/missing/dir", dir);
	expect_prepare_error(path, "mkdir");
	remove_scratch(dir);
}

static void register_sandbox(void)
{
	CU_pSuite s = CU_add_suite("sandbox", NULL, NULL);
	CU_add_test(s, "role names", test_role_names);
	CU_add_test(s, "login allowed workload", test_login_allowed);
	CU_add_test(s, "lmtp allowed workload", test_lmtp_allowed);
	CU_add_test(s, "worker allowed workload", test_worker_allowed);
	CU_add_test(s, "login TLS handshake", test_login_tls);
	CU_add_test(s, "forbidden syscalls die by SIGSYS", test_forbidden);
	CU_add_test(s, "clone3 fails with ENOSYS", test_clone3_enosys);
	CU_add_test(s, "exit() under the filter", test_exit);
	CU_add_test(s, "abort() under the filter", test_abort);
	CU_add_test(s, "threads are refused", test_thread_refused);
#ifdef POSTERN_SANITIZE
	CU_add_test(s, "sanitizer reports under the filter",
		    test_sanitizer_reports);
#endif
	CU_add_test(s, "privdrop drop and verify", test_privdrop_drop);
	CU_add_test(s, "privdrop refusals", test_privdrop_refusals);
	CU_add_test(s, "privdrop unprivileged mode",
		    test_privdrop_unprivileged);
	CU_add_test(s, "privdrop_prepare_empty_dir",
		    test_privdrop_prepare_empty_dir);
}

UNIT_SUITE(register_sandbox)
