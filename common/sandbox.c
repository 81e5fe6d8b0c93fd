/* Seccomp policies per role, built with libseccomp.
 *
 * Default action: SCMP_ACT_TRAP, not SCMP_ACT_KILL_PROCESS. Both stop the
 * forbidden syscall before it runs, so the security is the same; TRAP
 * additionally lets this process tell the master which syscall it was
 * (IPC_MSG_SANDBOX_VIOLATION, plus a log line), so the master's log names
 * the syscall instead of a bare "killed by SIGSYS", and then the process
 * dies by SIGSYS all the same. The handler cannot be used to survive a
 * violation: it never returns, and a trap while SIGSYS is blocked or
 * ignored (inside the handler, or in glibc code that blocks all signals
 * around clone) makes the kernel reset SIGSYS and kill the process
 * outright, unreported.
 *
 * A syscall of another ABI (i386 int 0x80, x32) is refused by the
 * bad-arch action, which kills at once: the filter only lists native
 * numbers, and another ABI's numbers mean different calls.
 *
 * Every rule below exists because the role's code or glibc calls it after
 * the sandbox is in place; see the comments at each list. */
#include "sandbox.h"

#include "ipc-messages.h"
#include "ipc.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* si_code of a seccomp SIGSYS (asm-generic/siginfo.h, which clashes with
 * glibc's signal.h and so cannot be included). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* ---- the SIGSYS reporter ---- */

/* Everything the handler needs is prepared by sandbox_apply, so the
 * handler only fills in two numbers and calls write(), sigaction(),
 * sigprocmask() and tgkill(), all async-signal-safe and all allowed by
 * every policy. */
static pid_t violation_pid;
static uint8_t violation_frame[IPC_HEADER_SIZE + 8];
static char violation_line[160];
static size_t violation_prefix_len;

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Decimal digits of v at out; returns their count. No snprintf: it is
 * not async-signal-safe. */
static size_t format_uint(char *out, unsigned long v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* nobody listening: dying matters more */
		p += n;
		len -= (size_t)n;
	}
}

/* The header layout of common/ipc.h, written by hand because buf.c
 * allocates. Session 0: the violation belongs to the process. */
static void report_violation(int nr, uint32_t arch)
{
	uint8_t *f = violation_frame;
	put_le16(f, IPC_MSG_SANDBOX_VIOLATION);
	put_le16(f + 2, 0);
	put_le32(f + 4, 8);
	put_le32(f + 8, 0);
	put_le32(f + 12, (uint32_t)nr);
	put_le32(f + 16, arch);
	/* One datagram on the SEQPACKET channel, so it cannot interleave
	 * with a frame the process's own queue was sending. */
	ssize_t n = write(POSTERN_IPC_FD, f, sizeof(violation_frame));
	(void)n;	/* no master (a probe, a test): the log line remains */

	size_t len = violation_prefix_len;
	if (nr < 0)
		violation_line[len++] = '-';
	len += format_uint(violation_line + len,
			   nr < 0 ? -(unsigned long)nr : (unsigned long)nr);
	violation_line[len++] = '\n';
	write_all(STDERR_FILENO, violation_line, len);
}

/* Re-raises SIGSYS with its default action, so the master sees the
 * process die by SIGSYS (its exit status names the cause). */
static _Noreturn void die_by_sigsys(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGSYS, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	(void)tgkill(violation_pid, gettid(), SIGSYS);
	/* Not reached unless the signal could not be sent. */
	_exit(128 + SIGSYS);
}

static void sandbox_sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)uctx;
	/* Only the kernel's seccomp trap carries a syscall number; a SIGSYS
	 * sent by someone else still ends the process, unreported. */
	if (si->si_code == SYS_SECCOMP)
		report_violation(si->si_syscall, si->si_arch);
	die_by_sigsys();
}

static void install_sigsys_handler(enum sandbox_role role)
{
	violation_pid = getpid();
	/* "<level digit>role[pid]: error: ..." as log.c's LOG_SINK_MASTER
	 * writes it, so the master relays it like any other child line. */
	char *p = violation_line;
	*p++ = (char)('0' + LOG_LEVEL_ERROR);
	const char *name = sandbox_role_name(role);
	memcpy(p, name, strlen(name));
	p += strlen(name);
	*p++ = '[';
	p += format_uint(p, (unsigned long)violation_pid);
	static const char msg[] = "]: error: sandbox violation: syscall ";
	memcpy(p, msg, sizeof(msg) - 1);
	p += sizeof(msg) - 1;
	violation_prefix_len = (size_t)(p - violation_line);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	/* Block everything while reporting: a SIGPIPE from writing to a
	 * master that is gone must not end the process by another signal,
	 * and nothing else should run in between. */
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		fatal("sandbox: sigaction(SIGSYS): %s", strerror(errno));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		fatal("sandbox: sigprocmask: %s", strerror(errno));
}

/* ---- building filters ---- */

static void rule_add(scmp_filter_ctx ctx, uint32_t action, int nr,
		     unsigned count, const struct scmp_arg_cmp *cmp)
{
	int ret = seccomp_rule_add_array(ctx, action, nr, count, cmp);
	if (ret < 0) {
		char *name = seccomp_syscall_resolve_num_arch(
			SCMP_ARCH_NATIVE, nr);
		fatal("sandbox: adding a rule for syscall %s (%d): %s",
		      name != NULL ? name : "?", nr, strerror(-ret));
	}
}

static void allow(scmp_filter_ctx ctx, int nr)
{
	rule_add(ctx, SCMP_ACT_ALLOW, nr, 0, NULL);
}

static void allow_list(scmp_filter_ctx ctx, const int *nrs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		allow(ctx, nrs[i]);
}

/* Allows nr when argument arg equals one of values. */
static void allow_arg_in(scmp_filter_ctx ctx, int nr, unsigned arg,
			 const long *values, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct scmp_arg_cmp cmp = SCMP_CMP(arg, SCMP_CMP_EQ,
						   (scmp_datum_t)values[i]);
		rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
	}
}

/* Allows nr when (argument arg & mask) == 0. */
static void allow_arg_clear(scmp_filter_ctx ctx, int nr, unsigned arg,
			    scmp_datum_t mask)
{
	struct scmp_arg_cmp cmp = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, 0);
	rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
}

/* ---- what every role may do ---- */

/* A single-threaded event-loop process: I/O on fds it already has, time,
 * memory, signals for its own death, randomness. */
static const int base_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(lseek),
	/* glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH); stdio calls
	 * it when it first buffers a stream. */
	SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(poll), SCMP_SYS(ppoll),
	/* The vDSO answers these, but falls back to the syscall when the
	 * clock source is not vDSO-capable (some VMs). */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* malloc seeds its tcache key from it; GnuTLS draws from it. */
	SCMP_SYS(getrandom),
	SCMP_SYS(futex), SCMP_SYS(rseq), SCMP_SYS(sched_yield),
	/* qsort of more than 1 KB asks sysconf(_SC_PHYS_PAGES), which is
	 * sysinfo; it reveals only memory totals and load. */
	SCMP_SYS(sysinfo),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* fcntl commands of a non-blocking server: flags, close-on-exec. */
static const long base_fcntl_cmds[] = { F_GETFD, F_SETFD, F_GETFL, F_SETFL };

static void add_base_rules(scmp_filter_ctx ctx)
{
	allow_list(ctx, base_syscalls, N_ELEMENTS(base_syscalls));
	allow_arg_in(ctx, SCMP_SYS(fcntl), 1, base_fcntl_cmds,
		     N_ELEMENTS(base_fcntl_cmds));
	/* No executable memory ever: nothing here JITs or loads code after
	 * start-up, and W^X denies an attacker a place for shellcode. */
	allow_arg_clear(ctx, SCMP_SYS(mmap), 2, PROT_EXEC);
	allow_arg_clear(ctx, SCMP_SYS(mprotect), 2, PROT_EXEC);
	/* Signals only to this process: abort() and the SIGSYS reporter
	 * raise with tgkill(getpid(), gettid(), sig). fork is forbidden,
	 * so the pid cannot change under the filter. */
	long self[] = { (long)getpid() };
	allow_arg_in(ctx, SCMP_SYS(tgkill), 0, self, 1);
	/* glibc's pthread_create and posix_spawn try clone3 first and fall
	 * back to clone on ENOSYS, as on an old kernel (ARCHITECTURE
	 * pitfalls). clone3 passes its flags in memory, where a filter
	 * cannot look, so it can never be allowed selectively; the fallback,
	 * clone, is refused by the default action. */
	rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
}

/* ---- network roles: login and lmtp ---- */

/* Serves client sockets it accepts on listeners the master passed it.
 * No socket(), connect(), bind(): it never makes a new endpoint. */
static const int net_syscalls[] = {
	SCMP_SYS(accept4), SCMP_SYS(accept),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(shutdown),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};

struct sockopt {
	long level;
	long name;
};

/* Tuning of accepted connections; nothing that changes where traffic
 * goes (no SO_BINDTODEVICE, IP options, TCP_ULP, ...). */
static const struct sockopt net_setsockopts[] = {
	{ SOL_SOCKET, SO_KEEPALIVE }, { SOL_SOCKET, SO_LINGER },
	{ SOL_SOCKET, SO_SNDBUF }, { SOL_SOCKET, SO_RCVBUF },
	{ SOL_SOCKET, SO_SNDTIMEO }, { SOL_SOCKET, SO_RCVTIMEO },
	{ IPPROTO_TCP, TCP_NODELAY }, { IPPROTO_TCP, TCP_CORK },
	{ IPPROTO_TCP, TCP_KEEPIDLE }, { IPPROTO_TCP, TCP_KEEPINTVL },
	{ IPPROTO_TCP, TCP_KEEPCNT }, { IPPROTO_TCP, TCP_USER_TIMEOUT },
};

static void add_net_rules(scmp_filter_ctx ctx)
{
	allow_list(ctx, net_syscalls, N_ELEMENTS(net_syscalls));
	for (size_t i = 0; i < N_ELEMENTS(net_setsockopts); i++) {
		struct scmp_arg_cmp cmp[2] = {
			SCMP_A1(SCMP_CMP_EQ,
				(scmp_datum_t)net_setsockopts[i].level),
			SCMP_A2(SCMP_CMP_EQ,
				(scmp_datum_t)net_setsockopts[i].name),
		};
		rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, cmp);
	}
	/* Reading options (SO_ERROR, SO_TYPE, ...) changes nothing. */
	static const long levels[] = { SOL_SOCKET, IPPROTO_TCP };
	allow_arg_in(ctx, SCMP_SYS(getsockopt), 1, levels,
		     N_ELEMENTS(levels));
	/* The TLS proxy hands plaintext to a worker over a socketpair; only
	 * local pairs, never a network socket. */
	static const long unix_only[] = { AF_UNIX };
	allow_arg_in(ctx, SCMP_SYS(socketpair), 0, unix_only, 1);
}

/* ---- worker: the user's store ---- */

/* LMDB (open, pread/pwrite, fdatasync, msync, ftruncate, fcntl locks,
 * MAP_SHARED mmap; fstatfs and uname in mdb_env_open, which distrusts
 * fdatasync on ext3/4 of old kernels) and the blob files (temp file,
 * fsync, rename, directory fsync, unlink, orphan scan with getdents64).
 * Paths are confined by the chroot. */
static const int worker_syscalls[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(msync), SCMP_SYS(ftruncate), SCMP_SYS(fallocate),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(getdents64),
	SCMP_SYS(flock), SCMP_SYS(statx), SCMP_SYS(fstatfs), SCMP_SYS(uname),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(dup),
	/* store-blob.c starts writeback early, then fsyncs each blob or,
	 * for a batch, syncfs()s the store's file system once. */
	SCMP_SYS(sync_file_range), SCMP_SYS(syncfs),
	/* Sessions arrive as fds in IPC frames (recvmsg); clients are
	 * served on those fds (send/recv are sendto/recvfrom). */
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(shutdown),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
};

static const long worker_fcntl_cmds[] = {
	F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
};

static void add_worker_rules(scmp_filter_ctx ctx)
{
	allow_list(ctx, worker_syscalls, N_ELEMENTS(worker_syscalls));
	allow_arg_in(ctx, SCMP_SYS(fcntl), 1, worker_fcntl_cmds,
		     N_ELEMENTS(worker_fcntl_cmds));
	/* ipc_channel_init sizes a channel's send buffer for a full frame. */
	static const long bufs[] = { SO_SNDBUF, SO_RCVBUF };
	for (size_t i = 0; i < N_ELEMENTS(bufs); i++) {
		struct scmp_arg_cmp cmp[2] = {
			SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
			SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)bufs[i]),
		};
		rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, cmp);
	}
}

/* ---- sanitizer builds only ---- */

#ifdef POSTERN_SANITIZE
/* ASan/UBSan at run time: the alternate signal stack for its SEGV
 * handler, rlimit queries, isatty, and, when writing a report, reading
 * /proc/self/maps, readlink(/proc/self/exe) and opening the binary and
 * its libraries to symbolize the stack (libbacktrace in gcc's runtime).
 * So sanitizer builds let login and lmtp open files read-only; in the
 * chroot there is nothing to read, and writing or creating stays refused.
 * Never compiled into a release build, whose tests keep read-only opens
 * refused. */
static const int sanitize_syscalls[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getppid),
};

static void allow_read_only_open(scmp_filter_ctx ctx, int nr, unsigned arg)
{
	struct scmp_arg_cmp cmp = SCMP_CMP(
		arg, SCMP_CMP_MASKED_EQ,
		(scmp_datum_t)(O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE),
		O_RDONLY);
	rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
}

static void add_sanitize_rules(scmp_filter_ctx ctx, enum sandbox_role role)
{
	allow_list(ctx, sanitize_syscalls, N_ELEMENTS(sanitize_syscalls));
	/* isatty(stderr) decides whether a report is coloured. */
	static const long tcgets[] = { TCGETS };
	allow_arg_in(ctx, SCMP_SYS(ioctl), 1, tcgets, 1);
	if (role != SANDBOX_WORKER) {
		allow_read_only_open(ctx, SCMP_SYS(open), 1);
		allow_read_only_open(ctx, SCMP_SYS(openat), 2);
	}
}

/* LeakSanitizer's exit-time check stops the world with a clone()d tracer
 * that ptraces the process and reads /proc: none of that exists inside
 * the sandbox (or the chroot). Turn the check off in sandboxed processes
 * only; the unsandboxed ones still check for leaks. LSan calls this weak
 * hook before its check. */
static bool sandbox_applied;

int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return sandbox_applied ? 1 : 0;
}
#endif

/* ---- public API ---- */

const char *sandbox_role_name(enum sandbox_role role)
{
	switch (role) {
	case SANDBOX_LOGIN: return "login";
	case SANDBOX_WORKER: return "worker";
	case SANDBOX_LMTP: return "lmtp";
	}
	return "unknown";
}

int sandbox_role_parse(const char *name)
{
	static const enum sandbox_role roles[] = {
		SANDBOX_LOGIN, SANDBOX_WORKER, SANDBOX_LMTP,
	};
	for (size_t i = 0; i < N_ELEMENTS(roles); i++)
		if (strcmp(name, sandbox_role_name(roles[i])) == 0)
			return (int)roles[i];
	return -1;
}

static scmp_filter_ctx build_filter(enum sandbox_role role)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (ctx == NULL)
		fatal("sandbox: seccomp_init failed");
	int ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				   SCMP_ACT_KILL_PROCESS);
	if (ret < 0)
		fatal("sandbox: setting the bad-arch action: %s",
		      strerror(-ret));
	add_base_rules(ctx);
	switch (role) {
	case SANDBOX_LOGIN:
	case SANDBOX_LMTP:
		/* LMTP speaks to the MTA over an accepted socket exactly as
		 * login speaks to clients; neither touches files. */
		add_net_rules(ctx);
		break;
	case SANDBOX_WORKER:
		add_worker_rules(ctx);
		break;
	default:
		fatal("sandbox: unknown role %d", (int)role);
	}
#ifdef POSTERN_SANITIZE
	add_sanitize_rules(ctx, role);
#endif
	return ctx;
}

void sandbox_apply(enum sandbox_role role)
{
	scmp_filter_ctx ctx = build_filter(role);
	/* Idempotent; seccomp without CAP_SYS_ADMIN requires it, and it
	 * keeps the filter from being shed by exec of a setuid binary. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("sandbox: prctl(PR_SET_NO_NEW_PRIVS): %s",
		      strerror(errno));
	install_sigsys_handler(role);
	int ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret < 0)
		fatal("sandbox: seccomp_load: %s", strerror(-ret));
#ifdef POSTERN_SANITIZE
	sandbox_applied = true;
#endif
}
