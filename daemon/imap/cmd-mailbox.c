/* CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051 6.3.4-6.3.8). */
#include "worker.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reads the command's single mailbox argument; answers BAD itself. */
static char *mailbox_arg(struct worker_session *s, const struct imap_command *cmd,
			 size_t index)
{
	const char *err;
	char *name = NULL;
	if (worker_mailbox_name_in(s, &cmd->args[index], &name, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return NULL;
	}
	return name;
}

void cmd_create(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 1) {
		worker_session_bad(s, cmd->tag, "CREATE expects a mailbox name");
		return;
	}
	char *name = mailbox_arg(s, cmd, 0);
	if (name == NULL)
		return;
	/* RFC 9051 6.3.4: a trailing separator declares the intent to put
	 * children under the name; the name itself is what gets created. */
	size_t len = strlen(name);
	while (len > 1 && name[len - 1] == STORE_HIERARCHY_SEP)
		name[--len] = '\0';
	const char *err;
	if (strcasecmp(name, "INBOX") == 0)
		net_conn_printf(&s->net, "%s NO [ALREADYEXISTS] INBOX always exists\r\n",
				cmd->tag);
	else if (store_mailbox_create(worker.store, name, 0, &err) < 0)
		worker_session_store_error(s, cmd->tag, err);
	else
		net_conn_printf(&s->net, "%s OK CREATE completed\r\n", cmd->tag);
	free(name);
}

void cmd_delete(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 1) {
		worker_session_bad(s, cmd->tag, "DELETE expects a mailbox name");
		return;
	}
	char *name = mailbox_arg(s, cmd, 0);
	if (name == NULL)
		return;
	const char *err;
	if (strcasecmp(name, "INBOX") == 0)
		net_conn_printf(&s->net, "%s NO [CANNOT] INBOX cannot be deleted\r\n",
				cmd->tag);
	else if (store_mailbox_delete(worker.store, name, &err) < 0)
		worker_session_store_error(s, cmd->tag, err);
	else
		net_conn_printf(&s->net, "%s OK DELETE completed\r\n", cmd->tag);
	free(name);
}

void cmd_rename(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 2) {
		worker_session_bad(s, cmd->tag, "RENAME expects two mailbox names");
		return;
	}
	char *from = mailbox_arg(s, cmd, 0);
	if (from == NULL)
		return;
	char *to = mailbox_arg(s, cmd, 1);
	if (to == NULL) {
		free(from);
		return;
	}
	const char *err;
	/* RFC 9051 6.3.6: renaming INBOX moves its messages out and leaves
	 * it in place, so every session that has it selected must see them
	 * expunged, or its view keeps messages that are gone. */
	struct store_seqmap inbox;
	memset(&inbox, 0, sizeof(inbox));
	bool from_inbox = strcasecmp(from, "INBOX") == 0;
	if (from_inbox) {
		struct store_mailbox mb;
		int r = store_mailbox_get(worker.store, "INBOX", &mb, &err);
		if (r < 0 || (r > 0 && store_seqmap_load(worker.store, mb.id,
							 &inbox, &err) < 0)) {
			worker_session_store_error(s, cmd->tag, err);
			goto out;
		}
	}
	if (store_mailbox_rename(worker.store, from, to, &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
	} else {
		if (from_inbox)
			worker_notify_expunged(inbox.mailbox_id, inbox.uids,
					       inbox.count);
		net_conn_printf(&s->net, "%s OK RENAME completed\r\n", cmd->tag);
	}
out:
	store_seqmap_free(&inbox);
	free(from);
	free(to);
}

static void cmd_subscription(struct worker_session *s,
			     const struct imap_command *cmd, bool subscribe)
{
	if (cmd->arg_count != 1) {
		worker_session_bad(s, cmd->tag, "%s expects a mailbox name",
				   subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
		return;
	}
	char *name = mailbox_arg(s, cmd, 0);
	if (name == NULL)
		return;
	const char *err;
	struct store_mailbox mb;
	/* RFC 9051 6.3.7: subscribing to a name that does not exist may be
	 * refused; we refuse it, so clients see the typo at once. */
	int r = subscribe ? store_mailbox_get(worker.store, name, &mb, &err) : 1;
	if (r == 0)
		net_conn_printf(&s->net, "%s NO [NONEXISTENT] No such mailbox\r\n",
				cmd->tag);
	else if (r < 0 ||
		 (subscribe ? store_subscribe(worker.store, name, &err) :
			      store_unsubscribe(worker.store, name, &err)) < 0)
		worker_session_store_error(s, cmd->tag, err);
	else
		net_conn_printf(&s->net, "%s OK %s completed\r\n", cmd->tag,
				subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
	free(name);
}

void cmd_subscribe(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_subscription(s, cmd, true);
}

void cmd_unsubscribe(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_subscription(s, cmd, false);
}
