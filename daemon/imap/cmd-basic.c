/* CAPABILITY, NOOP, LOGOUT and ID in the authenticated state
 * (RFC 9051 6.1, RFC 2971). */
#include "worker.h"

#include "../../common/imap-capability.h"

#include <strings.h>


void cmd_capability(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "CAPABILITY takes no arguments");
		return;
	}
	net_conn_printf(&s->net, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n",
			worker_capabilities(), cmd->tag);
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

/* RFC 5161; the extensions a client may enable here. */
void cmd_enable(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count == 0) {
		worker_session_bad(s, cmd->tag, "ENABLE expects capability names");
		return;
	}
	if (s->selected != NULL) {
		/* RFC 5161 3.1: only in the authenticated state. */
		worker_session_bad(s, cmd->tag, "ENABLE is not valid with a mailbox selected");
		return;
	}
	struct buf enabled;
	buf_init(&enabled);
	for (size_t i = 0; i < cmd->arg_count; i++) {
		const struct imap_arg *a = &cmd->args[i];
		if (a->type != IMAP_ARG_ATOM) {
			worker_session_bad(s, cmd->tag, "ENABLE expects capability names");
			buf_free(&enabled);
			return;
		}
		unsigned bit = 0;
		if (strcasecmp(a->str, "IMAP4rev2") == 0)
			bit = SESSION_IMAP4REV2;
		else if (strcasecmp(a->str, "UTF8=ACCEPT") == 0)
			bit = SESSION_UTF8_ACCEPT;
		/* Unknown names are ignored (RFC 5161 3.1); only newly
		 * enabled ones are listed. */
		if (bit != 0 && !(s->enabled & bit)) {
			s->enabled |= bit;
			buf_printf(&enabled, " %s", bit == SESSION_IMAP4REV2 ?
				   "IMAP4rev2" : "UTF8=ACCEPT");
		}
	}
	net_conn_printf(&s->net, "* ENABLED%s\r\n%s OK ENABLE completed\r\n",
			(const char *)buf_cstr(&enabled), cmd->tag);
	buf_free(&enabled);
}

/* RFC 2342 / RFC 9051 6.3.10: one personal namespace, no others. */
void cmd_namespace(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "NAMESPACE takes no arguments");
		return;
	}
	net_conn_printf(&s->net, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
			"%s OK NAMESPACE completed\r\n", cmd->tag);
}
