/* SELECT, EXAMINE, CLOSE, UNSELECT, CHECK (RFC 9051 6.3.2, 6.3.3, 6.4.1,
 * 6.4.2; UNSELECT RFC 3691). */
#include "worker.h"

#include "../../common/log.h"

#include <stdlib.h>
#include <string.h>

void worker_write_flags_responses(struct worker_session *s, bool permanent);

static void worker_deselect(struct worker_session *s)
{
	if (s->selected != NULL) {
		worker_selected_free(s->selected);
		s->selected = NULL;
	}
	s->saved_valid = false;
	imap_seqset_free(&s->saved_uids);
}

static void cmd_select_common(struct worker_session *s,
			      const struct imap_command *cmd, bool readonly)
{
	const char *err;
	char *name = NULL;
	/* RFC 9051 6.3.2 allows a parameter list (CONDSTORE etc.); none of
	 * those extensions is offered yet, so one is refused. */
	if (cmd->arg_count != 1) {
		worker_session_bad(s, cmd->tag, "%s expects a mailbox name",
				   readonly ? "EXAMINE" : "SELECT");
		return;
	}
	if (worker_mailbox_name_in(s, &cmd->args[0], &name, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	/* A SELECT that fails leaves no mailbox selected (RFC 9051 6.3.2). */
	if (s->selected != NULL) {
		worker_deselect(s);
		net_conn_write_str(&s->net, "* OK [CLOSED] Previous mailbox closed\r\n");
	}
	struct store_mailbox mb;
	int r = store_mailbox_get(worker.store, name, &mb, &err);
	if (r <= 0) {
		if (r == 0)
			net_conn_printf(&s->net, "%s NO [NONEXISTENT] No such mailbox\r\n",
					cmd->tag);
		else
			worker_session_store_error(s, cmd->tag, err);
		free(name);
		return;
	}
	if (mb.attributes & STORE_ATTR_NOSELECT) {
		net_conn_printf(&s->net, "%s NO [CANNOT] Mailbox cannot be selected\r\n",
				cmd->tag);
		free(name);
		return;
	}
	struct worker_selected *sel;
	if (worker_selected_open(&mb, readonly, &sel, &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
		free(name);
		return;
	}
	/* RFC 3501 6.3.1 requires [UNSEEN n] when a message lacks \Seen;
	 * RFC 9051 dropped it (STATUS/SEARCH UNSEEN replace it), so an
	 * IMAP4rev2 session does not get it. An index seek, not a scan. */
	uint32_t unseen_seq = 0;
	if (!(s->enabled & SESSION_IMAP4REV2)) {
		uint32_t uid;
		if (store_mailbox_first_unseen(worker.store, mb.id, &uid,
					       &err) < 0) {
			worker_session_store_error(s, cmd->tag, err);
			worker_selected_free(sel);
			free(name);
			return;
		}
		if (uid != 0)
			unseen_seq = mailbox_view_seq(sel->view, uid);
	}
	uint32_t recent = 0;
	if (!readonly) {
		uint32_t first;
		if (store_mailbox_take_recent(worker.store, mb.id, &first, &err) == 0 &&
		    first != 0 && mailbox_view_count(sel->view) > 0) {
			uint32_t top = mailbox_view_last_uid(sel->view);
			if (first <= top) {
				imap_seqset_add(&sel->recent, first, top);
				uint32_t lo, hi;
				if (store_seqmap_range(mailbox_view_map(sel->view),
						       first, top, &lo, &hi))
					recent = hi - lo + 1;
			}
		}
	}
	s->selected = sel;
	worker_write_flags_responses(s, true);
	net_conn_printf(&s->net, "* %zu EXISTS\r\n", mailbox_view_count(sel->view));
	if (!(s->enabled & SESSION_IMAP4REV2))
		net_conn_printf(&s->net, "* %u RECENT\r\n", recent);
	if (unseen_seq != 0)
		net_conn_printf(&s->net, "* OK [UNSEEN %u] First unseen\r\n",
				unseen_seq);
	net_conn_printf(&s->net, "* OK [UIDVALIDITY %u] UIDs valid\r\n"
			"* OK [UIDNEXT %u] Predicted next UID\r\n",
			mb.uidvalidity, mb.uidnext);
	if (s->enabled & SESSION_IMAP4REV2) {
		net_conn_write_str(&s->net, "* LIST () \"/\" ");
		worker_mailbox_name_out(s, mb.name, &s->net.out);
		net_conn_write_str(&s->net, "\r\n");
	}
	net_conn_printf(&s->net, "%s OK [%s] %s completed\r\n", cmd->tag,
			readonly ? "READ-ONLY" : "READ-WRITE",
			readonly ? "EXAMINE" : "SELECT");
	free(name);
}

void cmd_select(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_select_common(s, cmd, false);
}

void cmd_examine(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_select_common(s, cmd, true);
}

void cmd_close(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "CLOSE takes no arguments");
		return;
	}
	/* RFC 9051 6.4.1: expunge \Deleted silently, then deselect. */
	if (!s->selected->readonly) {
		uint32_t *uids = NULL;
		size_t n = 0;
		const char *err;
		if (store_expunge(worker.store, s->selected->mailbox_id, NULL, 0,
				  &uids, &n, &err) < 0) {
			worker_session_store_error(s, cmd->tag, err);
			return;
		}
		uint32_t id = s->selected->mailbox_id;
		worker_deselect(s);
		worker_notify_expunged(id, uids, n);
		free(uids);
	} else {
		worker_deselect(s);
	}
	net_conn_printf(&s->net, "%s OK CLOSE completed\r\n", cmd->tag);
}

void cmd_unselect(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "UNSELECT takes no arguments");
		return;
	}
	worker_deselect(s);
	net_conn_printf(&s->net, "%s OK UNSELECT completed\r\n", cmd->tag);
}

void cmd_check(struct worker_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		worker_session_bad(s, cmd->tag, "CHECK takes no arguments");
		return;
	}
	/* Every change is durable when its command completes. */
	net_conn_printf(&s->net, "%s OK CHECK completed\r\n", cmd->tag);
}
