/* The master: binds listeners, supervises every other process, routes
 * IPC between them and serves posternctl. It never parses bytes a remote
 * peer sent: user names and passwords pass through it as opaque, bounded
 * byte strings, and it acts only on what the auth process says. */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../../common/config.h"
#include "../../common/event.h"
#include "../../common/ipc.h"
#include "../../common/ipc-messages.h"

enum master_role {
	ROLE_AUTH,
	ROLE_LOGIN,
	ROLE_WORKER,
};

struct master_child {
	struct master_child *next;
	enum master_role role;
	unsigned slot;			/* login: index; others 0 */
	pid_t pid;
	time_t started;
	struct ipc_channel ipc;
	int log_fd;			/* read end of its stderr */
	char log_partial[1024];
	size_t log_partial_len;
	uint32_t violation_syscall;	/* from SANDBOX_VIOLATION, if any */
	bool violation_seen;
	struct master_worker *worker;	/* ROLE_WORKER */
};

/* One per logged-in user with a running worker. */
struct master_worker {
	struct master_worker *next;
	char *user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	struct master_child *child;
	unsigned sessions;		/* handed to it and not yet closed */
	bool exiting;			/* EXIT_OK sent: no new sessions */
};

enum master_session_state {
	MSESSION_AUTHENTICATING,	/* with the auth process */
	MSESSION_APPROVED,		/* auth said yes; waiting for hand-off */
	MSESSION_ACTIVE,		/* in a worker */
};

struct master_session {
	struct master_session *next;
	uint32_t id;			/* master's id */
	enum master_session_state state;
	struct master_child *login;	/* NULL once handed off */
	uint32_t login_session;		/* the login process's id */
	struct master_worker *worker;	/* MSESSION_ACTIVE */
	char remote[(IPC_MAX_ADDR + 1)];
	char local[(IPC_MAX_ADDR + 1)];
	bool tls;
	char tls_info[IPC_MAX_TLS_INFO + 1];	/* "TLS1.3/AES-256-GCM" */
	time_t started;
	/* from auth, once approved */
	char *user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
};

/* Certificate chain, key and priority as checked at start or reload;
 * sent to every login process (master-tls.c). */
struct master_tls {
	bool enabled;
	struct buf cert;
	struct buf key;
	char *priority;
};

struct master_state {
	struct postern_config cfg;
	char *config_path;
	char *exe_path;
	bool foreground;
	bool dev_mode;
	struct event_loop *loop;
	int listen_fds[2 * CONFIG_MAX_LISTEN];	/* listen, then listen_tls */
	bool listen_is_tls[2 * CONFIG_MAX_LISTEN];
	size_t listen_count;
	struct master_tls tls;
	struct master_child *children;
	unsigned login_count;
	struct master_child **logins;	/* by slot; NULL while down */
	struct master_child *auth;
	struct master_worker *workers;
	struct master_session *sessions;
	uint32_t next_session_id;
	uid_t login_uid;
	gid_t login_gid;
	char *login_chroot;
	int control_fd;
	char *control_path;
	char *pid_path;
	bool shutting_down;
	time_t started;
	unsigned restart_delay_ms[2 + 64];	/* per auth / login slot */
};

extern struct master_state master;

/* master-main.c */
int master_main(int argc, char **argv);
void master_request_stop(void);
int master_reload(char **error_r);

/* master-child.c */
struct master_child *master_child_spawn(enum master_role role, unsigned slot);
void master_child_send(struct master_child *c, struct buf *frame, int fd);
void master_children_reap(void);
void master_start_auth(void);
void master_start_login(unsigned slot);
void master_send_login_config(struct master_child *c);
void master_send_auth_config(struct master_child *c);
const char *master_role_name(enum master_role role);
unsigned master_child_count(void);

/* master-session.c: routing of logins */
void master_handle_child_msg(struct master_child *c, struct ipc_msg *msg);
void master_child_gone(struct master_child *c);
struct master_session *master_session_find(uint32_t id);
void master_session_closed(struct master_worker *w, uint32_t id);

/* master-worker.c */
struct master_worker *master_worker_get(struct master_session *s,
					const char **error_r);
void master_worker_child_gone(struct master_worker *w);
void master_worker_handle_msg(struct master_child *c, struct ipc_msg *msg);
unsigned master_worker_kick(const char *user, const char *reason);

/* master-tls.c */
int master_tls_load(const struct postern_config *cfg, struct master_tls *out,
		    char **error_r);
void master_tls_free(struct master_tls *t);
void master_tls_send(struct master_child *c);

/* master-control.c */
int master_control_open(char **error_r);
void master_control_close(void);

#endif
