/* CAPABILITY, NOOP, LOGOUT and ID in the authenticated state
 * (RFC 9051 6.1, RFC 2971). */
#include "worker.h"

#include "../../common/imap-capability.h"


void cmd_capability(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "CAPABILITY takes no arguments");
		return;
	}
	net_conn_printf(&s->net, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n",
			IMAP_CAPABILITY_AUTH, cmd->tag);
}

void cmd_noop(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "NOOP takes no arguments");
		return;
	}
	net_conn_printf(&s->net, "%s OK NOOP completed\r\n", cmd->tag);
}

void cmd_logout(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "LOGOUT takes no arguments");
		return;
	}
	net_conn_printf(&s->net, "* BYE Logging out\r\n%s OK LOGOUT completed\r\n",
			cmd->tag);
	s->closing = true;
}

void cmd_id(struct worker_session *s, const struct imap_command *cmd)
{
	if (!imap_id_args_valid(cmd)) {
		worker_session_bad(s, cmd->tag, "ID expects NIL or a list of pairs");
		return;
	}
	net_conn_printf(&s->net, IMAP_ID_RESPONSE "%s OK ID completed\r\n",
			cmd->tag);
}
