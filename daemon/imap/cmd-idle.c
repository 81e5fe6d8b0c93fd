/* IDLE (RFC 2177, RFC 9051 6.3.13). The session stays in IDLE until the
 * client's "DONE" line (worker-session.c); meanwhile every change to its
 * mailbox is told at once (worker_sync_idle_sessions, after each command
 * of any session and after each delivery). Valid without a selected
 * mailbox: there is just nothing to tell. */
#include "worker.h"

#include <stdlib.h>

void cmd_idle(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "IDLE takes no arguments");
		return;
	}
	net_conn_write_str(&s->net, "+ idling\r\n");
	/* What is pending goes now, from here: left for the IDLE flush
	 * that follows this command it would re-enter this session's I/O
	 * from inside its own command loop. */
	if (s->selected != NULL)
		worker_sync_flush(s, true);
	imap_parser_want_line(s->parser);
	free(s->idle_tag);
	s->idle_tag = xstrdup(cmd->tag);
}
