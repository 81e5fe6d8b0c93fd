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
#include "../../store/store.h"
#include "imap-seqset.h"
#include "mailbox-view.h"

/* The largest message APPEND takes (RFC 7889 APPENDLIMIT), below the
 * store's STORE_MESSAGE_MAX_SIZE. Checked when the literal is announced:
 * a synchronizing one over it gets NO [TOOBIG] before the client sends
 * it, a LITERAL+ one is skipped, then NO [TOOBIG]. A plain number:
 * worker-caps.c pastes it into the capability list. */
#define WORKER_APPEND_LIMIT 67108864
/* Literals over this many bytes are streamed by the command parser: an
 * APPEND message goes to a temp file as it arrives, any other literal
 * that big is refused. Smaller ones are buffered. */
#define WORKER_STREAM_LITERAL (256 * 1024)
/* Streamed messages of one MULTIAPPEND: an open temp file each. */
#define WORKER_APPEND_STREAMS_MAX 64

struct worker_settings {
	uint32_t linger_s;
	uint32_t max_line;
	uint32_t idle_timeout_s;
	uint32_t max_bad_commands;
};

/* A sorted set of UIDs waiting to be told to a client. */
struct uid_list {
	uint32_t *uids;
	size_t count, cap;
};
void uid_list_add(struct uid_list *l, uint32_t uid);
void uid_list_sort_unique(struct uid_list *l);
void uid_list_clear(struct uid_list *l);
void uid_list_free(struct uid_list *l);

/* The mailbox a session has selected, as that client knows it. The view
 * changes only when the client is told (EXISTS, EXPUNGE), so sequence
 * numbers stay consistent for each client (RFC 9051 7.5.1). Views are
 * shared between sessions (mailbox-view.h): a session that has been told
 * everything holds its mailbox's newest view. */
struct worker_selected {
	uint32_t mailbox_id;
	uint32_t uidvalidity;
	bool readonly;
	struct mailbox_head *head;	/* the mailbox as the worker knows it */
	struct mailbox_view *view;	/* as this client was told */
	struct imap_seqset recent;	/* UIDs \Recent to this session */
	/* changes by others (or by this session's own commands) not yet
	 * told to the client, besides head->newest != view */
	struct uid_list flag_changed;
	bool keywords_changed;
};

/* A command that did not finish in one go (large FETCH output): its
 * resume function runs again when the output has drained. */
struct worker_session;
typedef bool worker_cmd_resume_fn(struct worker_session *s, void *state);
typedef void worker_cmd_free_fn(void *state);

enum worker_session_flags {
	SESSION_IMAP4REV2 = 0x01,	/* ENABLE IMAP4rev2 */
	SESSION_UTF8_ACCEPT = 0x02,	/* ENABLE UTF8=ACCEPT */
};

struct worker_session {
	struct worker_session *prev, *next;
	uint32_t id;			/* the master's session id */
	struct net_conn net;
	struct imap_parser *parser;
	unsigned bad_commands;
	struct event_timer *timer;
	bool closing;			/* flush output, then close */
	bool tls;
	uint32_t caps;
	unsigned enabled;		/* enum worker_session_flags */
	char *remote;
	struct worker_selected *selected;	/* NULL: authenticated state */
	/* output streamed from a file after net.out (message bodies) */
	int out_fd;
	uint64_t out_off, out_left;
	/* a suspended command */
	worker_cmd_resume_fn *resume;
	worker_cmd_free_fn *resume_free;
	void *resume_state;
	/* it asked to run again on the next loop iteration */
	struct event_timer *yield_timer;
	/* IDLE (RFC 2177): tag of the running IDLE command, or NULL */
	char *idle_tag;
	/* the command being run, for handlers that need it */
	const char *cmd_tag;
	bool cmd_uid;			/* UID prefix */
	bool cmd_allow_expunge;		/* RFC 9051 7.5.1, for this command */
	/* APPEND messages being streamed to temp files (cmd-append.c) */
	struct worker_append_stream *append_stream;
	/* SEARCHRES (RFC 5182): the saved result as UIDs */
	struct imap_seqset saved_uids;
	bool saved_valid;
};

struct worker_process {
	struct event_loop *loop;
	struct ipc_channel master;
	struct worker_settings settings;
	char *user;
	struct store *store;
	struct worker_session *sessions;
	unsigned session_count;
	struct event_timer *linger_timer;
	/* the newest view of each selected mailbox (worker-selected.c) */
	struct mailbox_heads views;
	bool exit_requested;
	bool shutting_down;
};

extern struct worker_process worker;

/* worker-session.c */
void worker_session_new(uint32_t id, int fd, const char *tag, bool tls,
			uint32_t caps, const char *remote,
			const uint8_t *pending, size_t pending_len);
void worker_session_bye_all(const char *reason);
/* Answers BAD and counts it toward the bad-command limit. */
void worker_session_bad(struct worker_session *s, const char *tag,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answers "tag NO [code] text" from the store's last error. */
void worker_session_store_error(struct worker_session *s, const char *tag,
				const char *error);
/* Queues len bytes of fd from off after the buffered output. */
void worker_session_stream_file(struct worker_session *s, int fd,
				uint64_t off, uint64_t len);
/* True while the output buffer is under its high-water mark. */
bool worker_session_can_write(const struct worker_session *s);
void worker_session_suspend(struct worker_session *s,
			    worker_cmd_resume_fn *resume,
			    worker_cmd_free_fn *free_fn, void *state);
/* For a command with long work of its own (SORT's key loading, the size
 * pass of a decoded BINARY): resume runs again on the next loop
 * iteration, after the other sessions' events, whether or not the
 * output drained, so the work goes in slices and no session waits for
 * all of it. A resume function that wants another turn calls
 * worker_session_yield() before it returns false. */
void worker_session_suspend_yield(struct worker_session *s,
				  worker_cmd_resume_fn *resume,
				  worker_cmd_free_fn *free_fn, void *state);
void worker_session_yield(struct worker_session *s);
/* Re-arms I/O interest after a change made outside the session's own
 * callbacks (notifications to an IDLE session). */
void worker_session_kick_io(struct worker_session *s);

/* worker-main.c */
void worker_session_count_changed(void);
int worker_main(void);

/* worker-sync.c: changes to a mailbox, told to every session that has it
 * selected. The store was changed by the worker itself (a command of some
 * session, or a delivery): the mailbox's newest view is rebuilt from the
 * previous one, and each session is told at its next chance. */
void worker_notify_appended(uint32_t mailbox_id);
/* uids: any order. */
void worker_notify_expunged(uint32_t mailbox_id, const uint32_t *uids,
			    size_t n);
void worker_notify_flags(uint32_t mailbox_id, const uint32_t *uids, size_t n,
			 const struct worker_session *except);
void worker_notify_keywords(uint32_t mailbox_id);
/* A mailbox was deleted or renamed away: sessions that have it selected
 * get BYE? No: RFC 9051 leaves this open; they keep their view and every
 * later command on it fails with NO [NONEXISTENT]. */
/* True if the client of sel has not been told everything. */
bool worker_sync_pending(const struct worker_selected *sel);
/* Tells the client of s what changed. allow_expunge is false during FETCH,
 * STORE and SEARCH (RFC 9051 7.5.1). */
void worker_sync_flush(struct worker_session *s, bool allow_expunge);
/* After every command: flush IDLE sessions that got notifications. */
void worker_sync_idle_sessions(void);

/* worker-selected.c */
/* Selects mb for a session: its view is the worker's newest view of the
 * mailbox when that is current with the store, else one loaded now. */
int worker_selected_open(const struct store_mailbox *mb, bool readonly,
			 struct worker_selected **sel_r, const char **error_r);
void worker_selected_free(struct worker_selected *sel);
/* Writes "* n FETCH (FLAGS (...) UID u)" for one message. */
void worker_write_flags(struct buf *out, const struct store_message *msg,
			const struct worker_selected *sel);
/* Resolves a sequence set or UID set argument of the selected mailbox to
 * a UID set (sorted ranges). 0, or -1 with a BAD reason. */
int worker_resolve_set(struct worker_session *s, const struct imap_arg *arg,
		       bool uid, struct imap_seqset *uids_r,
		       const char **error_r);
/* Mailbox names on the wire <-> UTF-8 names in the store. */
int worker_mailbox_name_in(struct worker_session *s, const struct imap_arg *arg,
			   char **name_r, const char **error_r);
void worker_mailbox_name_out(struct worker_session *s, const char *name,
			     struct buf *out);

/* One IMAP command handler; cmd-*.c. The handler writes its responses,
 * including the tagged one, to s->net. */
struct imap_command;
typedef void worker_cmd_fn(struct worker_session *s,
			   const struct imap_command *cmd);

enum worker_cmd_flags {
	CMD_SELECTED = 0x01,	/* needs a selected mailbox */
	CMD_UID = 0x02,		/* has a UID form */
	CMD_NO_EXPUNGE = 0x04,	/* EXPUNGE responses not allowed after it */
};

struct worker_cmd_def {
	const char *name;
	worker_cmd_fn *fn;
	unsigned flags;
};

/* cmd-basic.c */
void cmd_capability(struct worker_session *s, const struct imap_command *cmd);
void cmd_noop(struct worker_session *s, const struct imap_command *cmd);
void cmd_logout(struct worker_session *s, const struct imap_command *cmd);
void cmd_id(struct worker_session *s, const struct imap_command *cmd);
void cmd_enable(struct worker_session *s, const struct imap_command *cmd);
void cmd_namespace(struct worker_session *s, const struct imap_command *cmd);
/* cmd-select.c */
void cmd_select(struct worker_session *s, const struct imap_command *cmd);
void cmd_examine(struct worker_session *s, const struct imap_command *cmd);
void cmd_close(struct worker_session *s, const struct imap_command *cmd);
void cmd_unselect(struct worker_session *s, const struct imap_command *cmd);
void cmd_check(struct worker_session *s, const struct imap_command *cmd);
/* cmd-mailbox.c */
void cmd_create(struct worker_session *s, const struct imap_command *cmd);
void cmd_delete(struct worker_session *s, const struct imap_command *cmd);
void cmd_rename(struct worker_session *s, const struct imap_command *cmd);
void cmd_subscribe(struct worker_session *s, const struct imap_command *cmd);
void cmd_unsubscribe(struct worker_session *s, const struct imap_command *cmd);
/* cmd-list.c */
void cmd_list(struct worker_session *s, const struct imap_command *cmd);
void cmd_lsub(struct worker_session *s, const struct imap_command *cmd);
/* cmd-status.c */
void cmd_status(struct worker_session *s, const struct imap_command *cmd);
/* Writes "* STATUS name (items)"; shared with LIST-STATUS. */
int worker_write_status(struct worker_session *s, const char *name,
			uint32_t items, const char **error_r);

/* cmd-append.c: APPEND message literals over WORKER_STREAM_LITERAL go
 * to temp files as they arrive, not into memory. At LITERAL_START: true
 * to take the literal; false after answering the command (the caller
 * refuses the literal). */
bool cmd_append_literal_start(struct worker_session *s,
			      const struct imap_command *cmd,
			      const struct imap_arg *lit);
void cmd_append_literal_data(struct worker_session *s, const uint8_t *data,
			     size_t len);
/* Drops what a command left streamed (after it ran, or failed to parse,
 * or the session ends). */
void cmd_append_stream_free(struct worker_session *s);

/* The capabilities after login (CAPABILITY and the LOGIN OK). */
const char *worker_capabilities(void);

#endif
