/* sandbox-probe ROLE SYSCALL
 *
 * Applies ROLE's real seccomp policy (no chroot, no uid change) and then
 * makes one syscall. Exits 0 if the syscall returned, whatever it
 * returned; a forbidden one never returns: the process dies by SIGSYS
 * (status 128+31 in a shell, WTERMSIG == SIGSYS in Python) after writing
 * "0ROLE[pid]: error: sandbox violation: syscall N" to stderr.
 * Exit 2: usage.
 *
 * SYSCALL: socket, execve, open, getpid, fork, ptrace. "open" opens
 * /dev/null for writing, which every build refuses to login and lmtp
 * (sanitizer builds let them open read-only; see common/sandbox.c). */
#include "../../common/log.h"
#include "../../common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

static long probe_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static long probe_execve(void)
{
	char *argv[] = { "/bin/true", NULL };
	char *envp[] = { NULL };
	return execve("/bin/true", argv, envp);
}

static long probe_open(void)
{
	return openat(AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
}

static long probe_getpid(void)
{
	return getpid();
}

static long probe_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	return pid;
}

static long probe_ptrace(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

struct probe {
	const char *name;
	long (*call)(void);
};

static const struct probe probes[] = {
	{ "socket", probe_socket }, { "execve", probe_execve },
	{ "open", probe_open }, { "getpid", probe_getpid },
	{ "fork", probe_fork }, { "ptrace", probe_ptrace },
};

static int usage(void)
{
	fprintf(stderr, "usage: sandbox-probe login|worker|lmtp "
			"socket|execve|open|getpid|fork|ptrace\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return usage();
	int role = sandbox_role_parse(argv[1]);
	const struct probe *probe = NULL;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (strcmp(argv[2], probes[i].name) == 0)
			probe = &probes[i];
	if (role < 0 || probe == NULL)
		return usage();

	log_init(argv[1], LOG_SINK_MASTER);
	sandbox_apply((enum sandbox_role)role);
	errno = 0;
	long ret = probe->call();
	/* Only allowed syscalls get here; write(2) is in every policy. */
	char line[128];
	int n = snprintf(line, sizeof(line),
			 "sandbox-probe: %s %s returned %ld (%s)\n", argv[1],
			 argv[2], ret, ret < 0 ? strerror(errno) : "ok");
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		return 1;
	return 0;
}
