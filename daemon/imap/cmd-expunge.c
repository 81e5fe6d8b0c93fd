/* EXPUNGE and UID EXPUNGE (RFC 9051 6.4.3, UIDPLUS RFC 4315 2.1). The
 * EXPUNGE responses go out through the sync path, which keeps every
 * session's view (and so its sequence numbers) in step with what its
 * client was told. */
#include "worker.h"

#include <stdlib.h>

struct store_uidrange *worker_set_to_ranges(const struct worker_session *s,
					    struct imap_seqset *set,
					    struct store_uidset *uidset_r);

void cmd_expunge(struct worker_session *s, const struct imap_command *cmd)
{
	struct worker_selected *sel = s->selected;
	const char *err;
	struct imap_seqset set;
	struct store_uidset uidset;
	struct store_uidrange *ranges = NULL;
	imap_seqset_init(&set);
	if (cmd->arg_count != (s->cmd_uid ? 1u : 0u)) {
		worker_session_bad(s, cmd->tag, s->cmd_uid ?
				   "UID EXPUNGE expects a UID set" :
				   "EXPUNGE takes no arguments");
		return;
	}
	if (s->cmd_uid &&
	    worker_resolve_set(s, &cmd->args[0], true, &set, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	if (sel->readonly) {
		net_conn_printf(&s->net, "%s NO [READ-ONLY] Mailbox is read-only\r\n",
				cmd->tag);
		goto out;
	}
	uint32_t *uids = NULL;
	size_t n = 0;
	if (s->cmd_uid) {
		/* only the \Deleted messages of the set (RFC 4315 2.1) */
		ranges = worker_set_to_ranges(s, &set, &uidset);
		if (uidset.count > 0 &&
		    store_expunge(worker.store, sel->mailbox_id, &uidset, 0,
				  &uids, &n, &err) < 0) {
			worker_session_store_error(s, cmd->tag, err);
			goto out;
		}
	} else if (store_expunge(worker.store, sel->mailbox_id, NULL, 0, &uids,
				 &n, &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
		goto out;
	}
	worker_notify_expunged(sel->mailbox_id, uids, n);
	free(uids);
	worker_sync_flush(s, true);
	net_conn_printf(&s->net, "%s OK %sEXPUNGE completed\r\n", cmd->tag,
			s->cmd_uid ? "UID " : "");
out:
	free(ranges);
	imap_seqset_free(&set);
}
