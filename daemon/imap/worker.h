/* The per-user worker: serves every IMAP session of one user in one event
 * loop, as that user, chrooted to the user's store, under seccomp. */
#ifndef POSTERN_WORKER_H
#define POSTERN_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../common/event.h"
#include "../../common/imap-parser.h"
#include "../../common/ipc.h"
#include "../../common/net-conn.h"

struct worker_settings {
	uint32_t linger_s;
	uint32_t max_line;
	uint32_t idle_timeout_s;
	uint32_t max_bad_commands;
};

struct worker_session {
	struct worker_session *prev, *next;
	uint32_t id;			/* the master's session id */
	struct net_conn net;
	struct imap_parser *parser;
	unsigned bad_commands;
	struct event_timer *timer;
	bool closing;			/* flush output, then close */
	bool writing;
	bool tls;
	uint32_t caps;
	char *remote;
};

struct worker_process {
	struct event_loop *loop;
	struct ipc_channel master;
	struct worker_settings settings;
	char *user;
	struct worker_session *sessions;
	unsigned session_count;
	struct event_timer *linger_timer;
	bool exit_requested;
	bool shutting_down;
};

extern struct worker_process worker;

/* worker-session.c */
void worker_session_new(uint32_t id, int fd, const char *tag, bool tls,
			uint32_t caps, const char *remote,
			const uint8_t *pending, size_t pending_len);
void worker_session_bye_all(const char *reason);

/* worker-main.c */
void worker_session_count_changed(void);
int worker_main(void);

/* One IMAP command handler; cmd-*.c. The handler writes its responses,
 * including the tagged one, to s->net. */
struct imap_command;
typedef void worker_cmd_fn(struct worker_session *s,
			   const struct imap_command *cmd);

struct worker_cmd_def {
	const char *name;
	worker_cmd_fn *fn;
};

/* cmd-basic.c */
void cmd_capability(struct worker_session *s, const struct imap_command *cmd);
void cmd_noop(struct worker_session *s, const struct imap_command *cmd);
void cmd_logout(struct worker_session *s, const struct imap_command *cmd);
void cmd_id(struct worker_session *s, const struct imap_command *cmd);

/* worker-session.c: answers BAD and counts it toward the limit. */
void worker_session_bad(struct worker_session *s, const char *tag,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
