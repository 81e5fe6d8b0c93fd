/* Seccomp policies, one per sandboxed role (login, worker, lmtp).
 *
 * sandbox_apply is the last step of the one privilege-drop order (STYLE
 * rule 2): load everything that needs files, chroot and drop ids with
 * privdrop_chroot_and_drop (which also sets PR_SET_NO_NEW_PRIVS), then
 * sandbox_apply, then read the first untrusted byte. Failure is fatal.
 *
 * A forbidden syscall is never executed: the process reports it to the
 * master (IPC_MSG_SANDBOX_VIOLATION on POSTERN_IPC_FD, and the log line
 * "0ROLE[pid]: error: sandbox violation: syscall N" on stderr) and dies by
 * SIGSYS. A trap while SIGSYS is blocked (glibc blocks every signal around
 * clone in pthread_create and posix_spawn) still kills by SIGSYS, but
 * unreported. clone3 fails with ENOSYS instead, so glibc falls back to
 * clone, which every policy refuses: the roles are single-threaded and
 * never fork.
 *
 * Before calling sandbox_apply a role must already have done everything
 * that opens files or creates sockets: tzset() (then localtime_r/gmtime_r
 * only), umask(), gnutls_global_init, the credentials and the priority
 * cache, iconv_open of every converter, the master's listeners; and it
 * must be single-threaded (seccomp filters the calling thread only; a
 * thread started before would run unfiltered). The login and lmtp
 * policies open no file at all, not even read-only; the worker's opens
 * are confined by its chroot. Signals may be sent only to the process
 * itself (tgkill with its own pid: raise, abort). */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

/* The fixed fd of a child's IPC socket to the master. */
#ifndef POSTERN_IPC_FD
#define POSTERN_IPC_FD 3
#endif

enum sandbox_role {
	SANDBOX_LOGIN,
	SANDBOX_WORKER,
	SANDBOX_LMTP,
};

/* Installs the SIGSYS reporter and the role's seccomp filter. Sets
 * PR_SET_NO_NEW_PRIVS itself too (idempotent), so a caller that did not
 * drop privileges (development mode) still gets a working filter. */
void sandbox_apply(enum sandbox_role role);

/* "login", "worker", "lmtp". */
const char *sandbox_role_name(enum sandbox_role role);

/* Parses a role name; -1 if unknown (for sandbox-probe and tests). */
int sandbox_role_parse(const char *name);

#endif
