/* One authenticated IMAP session inside the worker: buffered socket I/O
 * with backpressure, the command parser, dispatch to cmd-*.c, and
 * commands that resume when their output has drained. */
#include "worker.h"

#include "../../common/imap-capability.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Output queued beyond this stops reading from that client (and pauses a
 * long FETCH) until it drains, so a client that does not read cannot grow
 * the worker's memory nor stall the user's other sessions. */
#define WORKER_OUTPUT_HIGH_WATER (256 * 1024)
#define WORKER_FILE_CHUNK (64 * 1024)
#define WORKER_CLOSE_TIMEOUT_MS 5000
#define WORKER_MAX_LITERAL WORKER_APPEND_LIMIT

void cmd_store(struct worker_session *s, const struct imap_command *cmd);
void cmd_copy(struct worker_session *s, const struct imap_command *cmd);
void cmd_move(struct worker_session *s, const struct imap_command *cmd);
void cmd_expunge(struct worker_session *s, const struct imap_command *cmd);
void cmd_append(struct worker_session *s, const struct imap_command *cmd);
void cmd_idle(struct worker_session *s, const struct imap_command *cmd);
void cmd_fetch(struct worker_session *s, const struct imap_command *cmd);
void cmd_search(struct worker_session *s, const struct imap_command *cmd);
void cmd_sort(struct worker_session *s, const struct imap_command *cmd);
void cmd_thread(struct worker_session *s, const struct imap_command *cmd);

static const struct worker_cmd_def worker_commands[] = {
	{ "CAPABILITY", cmd_capability, 0 },
	{ "NOOP", cmd_noop, 0 },
	{ "LOGOUT", cmd_logout, 0 },
	{ "ID", cmd_id, 0 },
	{ "ENABLE", cmd_enable, 0 },
	{ "NAMESPACE", cmd_namespace, 0 },
	{ "SELECT", cmd_select, 0 },
	{ "EXAMINE", cmd_examine, 0 },
	{ "CREATE", cmd_create, 0 },
	{ "DELETE", cmd_delete, 0 },
	{ "RENAME", cmd_rename, 0 },
	{ "SUBSCRIBE", cmd_subscribe, 0 },
	{ "UNSUBSCRIBE", cmd_unsubscribe, 0 },
	{ "LIST", cmd_list, 0 },
	{ "LSUB", cmd_lsub, 0 },
	{ "STATUS", cmd_status, 0 },
	{ "APPEND", cmd_append, 0 },
	{ "IDLE", cmd_idle, 0 },
	{ "CHECK", cmd_check, CMD_SELECTED },
	{ "CLOSE", cmd_close, CMD_SELECTED },
	{ "UNSELECT", cmd_unselect, CMD_SELECTED },
	{ "EXPUNGE", cmd_expunge, CMD_SELECTED | CMD_UID },
	{ "FETCH", cmd_fetch, CMD_SELECTED | CMD_UID | CMD_NO_EXPUNGE },
	{ "STORE", cmd_store, CMD_SELECTED | CMD_UID | CMD_NO_EXPUNGE },
	{ "SEARCH", cmd_search, CMD_SELECTED | CMD_UID | CMD_NO_EXPUNGE },
	{ "SORT", cmd_sort, CMD_SELECTED | CMD_UID | CMD_NO_EXPUNGE },
	{ "THREAD", cmd_thread, CMD_SELECTED | CMD_UID | CMD_NO_EXPUNGE },
	{ "COPY", cmd_copy, CMD_SELECTED | CMD_UID },
	{ "MOVE", cmd_move, CMD_SELECTED | CMD_UID },
};

static void worker_session_update_io(struct worker_session *s);
static void worker_session_process(struct worker_session *s);

void worker_session_bad(struct worker_session *s, const char *tag,
			const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	net_conn_printf(&s->net, "%s BAD %s\r\n", tag != NULL ? tag : "*", msg);
	s->bad_commands++;
}

void worker_session_store_error(struct worker_session *s, const char *tag,
				const char *error)
{
	const char *code = NULL;
	switch (store_last_error(worker.store)) {
	case STORE_ERR_NOTFOUND: code = "NONEXISTENT"; break;
	case STORE_ERR_EXISTS: code = "ALREADYEXISTS"; break;
	case STORE_ERR_LIMIT: code = "LIMIT"; break;
	case STORE_ERR_INUSE: code = "INUSE"; break;
	case STORE_ERR_NOSELECT: code = "CANNOT"; break;
	case STORE_ERR_INVALID: code = "CANNOT"; break;
	case STORE_ERR_TEMP: code = "UNAVAILABLE"; break;
	case STORE_ERR_CORRUPT: code = "SERVERBUG"; break;
	case STORE_ERR_VERSION: code = "SERVERBUG"; break;
	case STORE_ERR_NONE: break;
	}
	if (code != NULL)
		net_conn_printf(&s->net, "%s NO [%s] %s\r\n", tag, code, error);
	else
		net_conn_printf(&s->net, "%s NO %s\r\n", tag, error);
}

bool worker_session_can_write(const struct worker_session *s)
{
	return s->net.out.len < WORKER_OUTPUT_HIGH_WATER && s->out_left == 0;
}

void worker_session_stream_file(struct worker_session *s, int fd, uint64_t off,
				uint64_t len)
{
	/* One file segment at a time: the caller suspends until it drained
	 * (worker_session_can_write) before queuing the next. */
	if (s->out_left > 0)
		fatal("worker_session_stream_file: a segment is pending");
	if (len == 0) {
		close(fd);
		return;
	}
	s->out_fd = fd;
	s->out_off = off;
	s->out_left = len;
}

void worker_session_suspend(struct worker_session *s,
			    worker_cmd_resume_fn *resume,
			    worker_cmd_free_fn *free_fn, void *state)
{
	s->resume = resume;
	s->resume_free = free_fn;
	s->resume_state = state;
}

static void worker_session_yield_due(void *ctx);

void worker_session_yield(struct worker_session *s)
{
	/* A zero-delay timer runs after the I/O events the loop already
	 * has, so the other sessions get their turn between two slices. */
	if (s->yield_timer == NULL)
		s->yield_timer = event_timer_add(worker.loop, 0,
						 worker_session_yield_due, s);
}

void worker_session_suspend_yield(struct worker_session *s,
				  worker_cmd_resume_fn *resume,
				  worker_cmd_free_fn *free_fn, void *state)
{
	worker_session_suspend(s, resume, free_fn, state);
	worker_session_yield(s);
}

static void worker_session_drop_resume(struct worker_session *s)
{
	event_timer_cancel(worker.loop, s->yield_timer);
	s->yield_timer = NULL;
	if (s->resume_free != NULL)
		s->resume_free(s->resume_state);
	s->resume = NULL;
	s->resume_free = NULL;
	s->resume_state = NULL;
}

static void worker_session_free(struct worker_session *s)
{
	worker_session_drop_resume(s);
	event_timer_cancel(worker.loop, s->timer);
	if (s->net.fd >= 0)
		event_del_fd(worker.loop, s->net.fd);
	net_conn_close(&s->net);
	if (s->out_left > 0)
		close(s->out_fd);
	cmd_append_stream_free(s);
	imap_parser_free(s->parser);
	if (s->selected != NULL)
		worker_selected_free(s->selected);
	imap_seqset_free(&s->saved_uids);
	free(s->idle_tag);
	free(s->remote);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		worker.sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	worker.session_count--;

	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_WORKER_SESSION_CLOSED, s->id);
	ipc_frame_end(&f, false);
	ipc_channel_send(&worker.master, &f, -1);
	if (ipc_channel_pending(&worker.master))
		event_mod_fd(worker.loop, worker.master.fd, EPOLLIN | EPOLLOUT);
	buf_free(&f);
	log_msg(LOG_LEVEL_DEBUG, s->id, "session closed");
	free(s);
	worker_session_count_changed();
}

static void worker_session_timeout(void *ctx)
{
	struct worker_session *s = ctx;
	s->timer = NULL;
	if (s->closing) {
		worker_session_free(s);
		return;
	}
	log_msg(LOG_LEVEL_INFO, s->id, "idle timeout");
	net_conn_write_str(&s->net, "* BYE Idle timeout, closing\r\n");
	s->closing = true;
	worker_session_update_io(s);
}

static void worker_session_arm_timer(struct worker_session *s, uint64_t ms)
{
	event_timer_cancel(worker.loop, s->timer);
	s->timer = event_timer_add(worker.loop, ms, worker_session_timeout, s);
}

static const struct worker_cmd_def *worker_cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(worker_commands) / sizeof(worker_commands[0]); i++)
		if (strcasecmp(name, worker_commands[i].name) == 0)
			return &worker_commands[i];
	return NULL;
}

/* The updates go before the command's tagged response, the last line its
 * handler wrote (from mark on): a client takes the completion of NOOP as
 * "nothing more to tell", and RFC 9051 7.5.1 forbids EXPUNGE responses
 * while no command is in progress. */
static void worker_session_sync_before_tagged(struct worker_session *s,
					      size_t mark, bool allow_expunge)
{
	struct buf *out = &s->net.out;
	if (!worker_sync_pending(s->selected))
		return;
	size_t start = out->len >= mark + 2 ? out->len - 2 : mark;
	while (start > mark && out->data[start - 1] != '\n')
		start--;
	if (start == out->len || (start > 0 && out->data[start - 1] != '\n')) {
		worker_sync_flush(s, allow_expunge);
		return;
	}
	size_t tail_len = out->len - start;
	uint8_t *tail = xmalloc(tail_len);
	memcpy(tail, out->data + start, tail_len);
	out->len = start;
	worker_sync_flush(s, allow_expunge);
	buf_append(out, tail, tail_len);
	free(tail);
}

static void worker_session_command(struct worker_session *s,
				   const struct imap_command *cmd)
{
	unsigned bad_before = s->bad_commands;
	struct imap_command sub = *cmd;
	bool uid = false;
	/* "UID FETCH ..." runs FETCH with the UID flag (RFC 9051 6.4.9). */
	if (strcasecmp(cmd->name, "UID") == 0) {
		if (cmd->arg_count == 0 || cmd->args[0].type != IMAP_ARG_ATOM) {
			worker_session_bad(s, cmd->tag, "UID expects a command");
			goto out;
		}
		sub.name = cmd->args[0].str;
		sub.args = cmd->args + 1;
		sub.arg_count = cmd->arg_count - 1;
		uid = true;
	}
	const struct worker_cmd_def *def = worker_cmd_find(sub.name);
	if (def != NULL && def->fn == NULL)
		def = NULL;	/* not linked in yet */
	if (def == NULL) {
		if (!uid && (strcasecmp(sub.name, "LOGIN") == 0 ||
			     strcasecmp(sub.name, "AUTHENTICATE") == 0 ||
			     strcasecmp(sub.name, "STARTTLS") == 0))
			/* RFC 9051 6.2: not-authenticated state only. */
			worker_session_bad(s, cmd->tag, "Already logged in");
		else if (imap_command_is_known(sub.name))
			worker_session_bad(s, cmd->tag, "Command not supported: %s",
					   sub.name);
		else
			worker_session_bad(s, cmd->tag, "Unknown command");
		goto out;
	}
	if (uid && !(def->flags & CMD_UID)) {
		worker_session_bad(s, cmd->tag, "UID %s is not a command", def->name);
		goto out;
	}
	if ((def->flags & CMD_SELECTED) && s->selected == NULL) {
		worker_session_bad(s, cmd->tag, "No mailbox selected");
		goto out;
	}
	s->cmd_tag = cmd->tag;
	s->cmd_uid = uid;
	s->cmd_allow_expunge = uid || !(def->flags & CMD_NO_EXPUNGE);
	size_t mark = s->net.out.len;
	def->fn(s, &sub);
	/* Changes the command or other sessions made, told at the end of
	 * the command; EXPUNGE only where RFC 9051 7.5.1 allows it. A
	 * suspended command flushes when it finishes. */
	if (s->resume == NULL && s->idle_tag == NULL && s->selected != NULL)
		worker_session_sync_before_tagged(
			s, mark, uid || !(def->flags & CMD_NO_EXPUNGE));
out:
	if (s->bad_commands == bad_before)
		s->bad_commands = 0;
	worker_sync_idle_sessions();
}

static void worker_session_parse_error(struct worker_session *s, bool fatal_error)
{
	const char *tag = imap_parser_error_tag(s->parser);
	const char *code = imap_parser_error_code(s->parser);
	const char *err = imap_parser_error(s->parser);
	if (fatal_error) {
		net_conn_printf(&s->net, "* BYE %s\r\n", err);
		s->closing = true;
		return;
	}
	if (code != NULL)
		net_conn_printf(&s->net, "%s BAD [%s] %s\r\n", tag ? tag : "*",
				code, err);
	else
		net_conn_printf(&s->net, "%s BAD %s\r\n", tag ? tag : "*", err);
	s->bad_commands++;
}

/* IDLE ends with a "DONE" line (RFC 2177); anything else is BAD. */
static void worker_session_idle_line(struct worker_session *s)
{
	size_t len;
	const char *line = imap_parser_line(s->parser, &len);
	char *tag = s->idle_tag;
	s->idle_tag = NULL;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0) {
		if (s->selected != NULL)
			worker_sync_flush(s, true);
		net_conn_printf(&s->net, "%s OK IDLE terminated\r\n", tag);
	} else {
		net_conn_printf(&s->net, "%s BAD Expected DONE\r\n", tag);
		s->bad_commands++;
	}
	free(tag);
}

/* A literal too large to buffer (WORKER_STREAM_LITERAL) was announced:
 * APPEND takes it into a file, or the command is answered and the
 * literal refused. */
static void worker_session_literal_start(struct worker_session *s)
{
	bool sync;
	const struct imap_arg *lit = imap_parser_literal(s->parser, &sync);
	if (!cmd_append_literal_start(s, imap_parser_command(s->parser), lit))
		imap_parser_literal_refuse(s->parser);
	else if (sync)
		net_conn_write_str(&s->net, "+ OK\r\n");
}

static void worker_session_literal_data(struct worker_session *s)
{
	size_t len;
	const uint8_t *data = imap_parser_literal_data(s->parser, &len);
	cmd_append_literal_data(s, data, len);
}

static void worker_session_process(struct worker_session *s)
{
	while (!s->closing && s->resume == NULL && s->net.in.len > 0 &&
	       worker_session_can_write(s)) {
		size_t used = 0;
		enum imap_parse_status st = imap_parser_feed(
			s->parser, s->net.in.data, s->net.in.len, &used);
		/* a literal chunk points into net.in: written out before
		 * the buffer moves */
		if (st == IMAP_PARSE_LITERAL_DATA)
			worker_session_literal_data(s);
		buf_consume(&s->net.in, used);
		switch (st) {
		case IMAP_PARSE_NEED_MORE:
			break;
		case IMAP_PARSE_CONTINUE:
			net_conn_write_str(&s->net, "+ OK\r\n");
			break;
		case IMAP_PARSE_COMMAND:
			worker_session_command(s, imap_parser_command(s->parser));
			break;
		case IMAP_PARSE_LINE:
			if (s->idle_tag != NULL)
				worker_session_idle_line(s);
			break;
		case IMAP_PARSE_ERROR:
			if (s->idle_tag != NULL) {
				free(s->idle_tag);
				s->idle_tag = NULL;
			}
			worker_session_parse_error(s, false);
			break;
		case IMAP_PARSE_FATAL:
			worker_session_parse_error(s, true);
			break;
		case IMAP_PARSE_LITERAL_START:
			worker_session_literal_start(s);
			break;
		case IMAP_PARSE_LITERAL_DATA:
			break;
		}
		/* the command ran or failed: whatever it streamed is done */
		if (st == IMAP_PARSE_COMMAND || st == IMAP_PARSE_ERROR ||
		    st == IMAP_PARSE_FATAL)
			cmd_append_stream_free(s);
		if (s->bad_commands >= worker.settings.max_bad_commands &&
		    !s->closing) {
			log_msg(LOG_LEVEL_INFO, s->id, "too many bad commands");
			net_conn_write_str(&s->net,
					   "* BYE Too many invalid commands\r\n");
			s->closing = true;
		}
		if (st == IMAP_PARSE_NEED_MORE)
			break;
	}
	if (s->closing)
		worker_session_arm_timer(s, WORKER_CLOSE_TIMEOUT_MS);
}

/* Moves file-segment bytes into the output buffer as it drains. */
static void worker_session_fill_from_file(struct worker_session *s)
{
	while (s->out_left > 0 && s->net.out.len < WORKER_FILE_CHUNK) {
		size_t n = s->out_left > WORKER_FILE_CHUNK ? WORKER_FILE_CHUNK :
							    (size_t)s->out_left;
		buf_reserve(&s->net.out, n);
		ssize_t r = pread(s->out_fd, s->net.out.data + s->net.out.len, n,
				  (off_t)s->out_off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The blob shrank or failed: the literal cannot be
			 * completed, so the connection cannot continue. */
			log_msg(LOG_LEVEL_ERROR, s->id,
				"reading a message for output failed");
			s->net.failed = true;
			close(s->out_fd);
			s->out_left = 0;
			return;
		}
		s->net.out.len += (size_t)r;
		s->out_off += (uint64_t)r;
		s->out_left -= (uint64_t)r;
		if (s->out_left == 0)
			close(s->out_fd);
	}
}

static bool worker_session_flush(struct worker_session *s)
{
	for (;;) {
		worker_session_fill_from_file(s);
		bool all = net_conn_flush(&s->net);
		if (!all || s->net.failed)
			return false;
		if (s->out_left == 0)
			return true;
	}
}

/* Runs a suspended command while the output has room. */
static void worker_session_run_resume(struct worker_session *s)
{
	while (s->resume != NULL && worker_session_can_write(s) && !s->net.failed) {
		if (s->resume(s, s->resume_state)) {
			worker_session_drop_resume(s);
			/* The resumed command wrote its tagged reply already;
			 * only what RFC 9051 7.5.1 allows after it goes now. */
			if (s->selected != NULL)
				worker_sync_flush(s, s->cmd_allow_expunge);
			worker_sync_idle_sessions();
		} else if (worker_session_can_write(s)) {
			break;	/* waiting for something else */
		}
	}
}

/* The next slice of a command that yielded, then whatever the client
 * pipelined behind it if it finished. */
static void worker_session_yield_due(void *ctx)
{
	struct worker_session *s = ctx;
	s->yield_timer = NULL;
	if (s->closing)
		return;
	worker_session_run_resume(s);
	worker_session_process(s);
	worker_session_update_io(s);
}

static void worker_session_update_io(struct worker_session *s)
{
	bool flushed = worker_session_flush(s);
	if (s->net.failed) {
		worker_session_free(s);
		return;
	}
	if (s->closing && flushed) {
		shutdown(s->net.fd, SHUT_WR);
		worker_session_free(s);
		return;
	}
	if (s->net.eof && !s->closing) {
		worker_session_free(s);
		return;
	}
	bool reading = !s->closing && worker_session_can_write(s) &&
		       s->resume == NULL;
	/* A suspended command resumes on the writable event, so it is
	 * wanted even when this flush emptied the buffer (level-triggered:
	 * it fires at once and the command continues). One that yielded
	 * runs from its timer instead. */
	bool want_out = !flushed || (s->resume != NULL &&
				     s->yield_timer == NULL && !s->closing);
	event_mod_fd(worker.loop, s->net.fd,
		     (reading ? EPOLLIN : 0) | (want_out ? EPOLLOUT : 0));
}

void worker_session_kick_io(struct worker_session *s)
{
	worker_session_update_io(s);
}

static void worker_session_io(void *ctx, uint32_t events)
{
	struct worker_session *s = ctx;
	if ((events & EPOLLOUT) && !s->closing) {
		worker_session_flush(s);
		/* Drained below the mark: resume, then take up pipelined
		 * commands. */
		worker_session_run_resume(s);
		worker_session_process(s);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		net_conn_read(&s->net, worker.settings.max_line + 65536);
		if (s->net.failed) {
			worker_session_free(s);
			return;
		}
		worker_session_arm_timer(s, worker.settings.idle_timeout_s * 1000ull);
		worker_session_process(s);
	}
	worker_session_update_io(s);
}

void worker_session_new(uint32_t id, int fd, const char *tag, bool tls,
			uint32_t caps, const char *remote,
			const uint8_t *pending, size_t pending_len)
{
	struct worker_session *s = xcalloc(1, sizeof(*s));
	s->id = id;
	s->tls = tls;
	s->caps = caps;
	s->out_fd = -1;
	s->remote = xstrdup(remote);
	imap_seqset_init(&s->saved_uids);
	net_conn_init(&s->net, fd);
	struct imap_parser_limits lim;
	imap_parser_limits_default(&lim);
	lim.max_line = worker.settings.max_line;
	lim.max_literal = WORKER_MAX_LITERAL;
	lim.max_command = WORKER_MAX_LITERAL + worker.settings.max_line;
	/* bigger literals are not buffered: APPEND streams them to a file */
	lim.stream_literal = WORKER_STREAM_LITERAL;
	s->parser = imap_parser_new(&lim);
	s->next = worker.sessions;
	if (worker.sessions != NULL)
		worker.sessions->prev = s;
	worker.sessions = s;
	worker.session_count++;
	worker_session_count_changed();
	event_add_fd(worker.loop, fd, EPOLLIN, worker_session_io, s);
	log_msg(LOG_LEVEL_DEBUG, id, "session from %s", remote);
	/* The login process left the tagged reply to us, so it follows any
	 * untagged data in order (ARCHITECTURE: hand-off). */
	net_conn_printf(&s->net, "%s OK [CAPABILITY %s] Logged in\r\n", tag,
			worker_capabilities());
	buf_append(&s->net.in, pending, pending_len);
	worker_session_arm_timer(s, worker.settings.idle_timeout_s * 1000ull);
	worker_session_process(s);
	worker_session_update_io(s);
}

void worker_session_bye_all(const char *reason)
{
	struct worker_session *s = worker.sessions;
	while (s != NULL) {
		struct worker_session *next = s->next;
		if (!s->closing) {
			worker_session_drop_resume(s);
			net_conn_printf(&s->net, "* BYE %s\r\n", reason);
			s->closing = true;
			worker_session_arm_timer(s, WORKER_CLOSE_TIMEOUT_MS);
		}
		worker_session_update_io(s);
		s = next;
	}
}
