/* One authenticated IMAP session inside the worker: buffered socket I/O,
 * the command parser, and dispatch to cmd-*.c. */
#include "worker.h"

#include "../../common/imap-capability.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Output queued beyond this stops reading from that client until it
 * drains, so a client that does not read cannot grow our memory. */
#define WORKER_OUTPUT_HIGH_WATER (256 * 1024)
#define WORKER_CLOSE_TIMEOUT_MS 5000
#define WORKER_MAX_LITERAL (64 * 1024 * 1024)

static const struct worker_cmd_def worker_commands[] = {
	{ "CAPABILITY", cmd_capability },
	{ "NOOP", cmd_noop },
	{ "LOGOUT", cmd_logout },
	{ "ID", cmd_id },
};

static void worker_session_update_io(struct worker_session *s);

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

static void worker_session_free(struct worker_session *s)
{
	event_timer_cancel(worker.loop, s->timer);
	if (s->net.fd >= 0)
		event_del_fd(worker.loop, s->net.fd);
	net_conn_close(&s->net);
	imap_parser_free(s->parser);
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

static void worker_session_command(struct worker_session *s,
				   const struct imap_command *cmd)
{
	unsigned bad_before = s->bad_commands;
	const struct worker_cmd_def *def = NULL;
	for (size_t i = 0; i < sizeof(worker_commands) / sizeof(worker_commands[0]); i++) {
		if (strcasecmp(cmd->name, worker_commands[i].name) == 0) {
			def = &worker_commands[i];
			break;
		}
	}
	if (def != NULL) {
		def->fn(s, cmd);
	} else if (strcasecmp(cmd->name, "LOGIN") == 0 ||
		   strcasecmp(cmd->name, "AUTHENTICATE") == 0) {
		/* RFC 9051 6.2: only valid in the not-authenticated state. */
		worker_session_bad(s, cmd->tag, "Already logged in");
	} else if (imap_command_is_known(cmd->name)) {
		worker_session_bad(s, cmd->tag, "Command not supported yet: %s",
				   cmd->name);
	} else {
		worker_session_bad(s, cmd->tag, "Unknown command");
	}
	if (s->bad_commands == bad_before)
		s->bad_commands = 0;
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

static void worker_session_process(struct worker_session *s)
{
	while (!s->closing && s->net.in.len > 0 &&
	       s->net.out.len < WORKER_OUTPUT_HIGH_WATER) {
		size_t used = 0;
		enum imap_parse_status st = imap_parser_feed(
			s->parser, s->net.in.data, s->net.in.len, &used);
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
			/* No command here asks for raw lines yet. */
			break;
		case IMAP_PARSE_ERROR:
			worker_session_parse_error(s, false);
			break;
		case IMAP_PARSE_FATAL:
			worker_session_parse_error(s, true);
			break;
		}
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

static void worker_session_update_io(struct worker_session *s)
{
	bool flushed = net_conn_flush(&s->net);
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
	bool reading = !s->closing && s->net.out.len < WORKER_OUTPUT_HIGH_WATER;
	event_mod_fd(worker.loop, s->net.fd,
		     (reading ? EPOLLIN : 0) | (flushed ? 0 : EPOLLOUT));
}

static void worker_session_io(void *ctx, uint32_t events)
{
	struct worker_session *s = ctx;
	if ((events & EPOLLOUT) && !s->closing) {
		net_conn_flush(&s->net);
		/* Drained below the mark: take up pipelined commands. */
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
	s->remote = xstrdup(remote);
	net_conn_init(&s->net, fd);
	struct imap_parser_limits lim;
	imap_parser_limits_default(&lim);
	lim.max_line = worker.settings.max_line;
	lim.max_literal = WORKER_MAX_LITERAL;
	lim.max_command = WORKER_MAX_LITERAL + worker.settings.max_line;
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
			IMAP_CAPABILITY_AUTH);
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
			net_conn_printf(&s->net, "* BYE %s\r\n", reason);
			s->closing = true;
			worker_session_arm_timer(s, WORKER_CLOSE_TIMEOUT_MS);
		}
		worker_session_update_io(s);
		s = next;
	}
}
