/* What every child role shares: its fixed IPC fd and its start-up. */
#ifndef POSTERN_CHILD_H
#define POSTERN_CHILD_H

#ifndef POSTERN_IPC_FD
#define POSTERN_IPC_FD 3
#endif

/* Logging to the master's pipe; SIGPIPE ignored. */
void child_init(const char *role);
/* After the uid change (which clears it): die with the master. */
void child_die_with_master(void);

#endif
