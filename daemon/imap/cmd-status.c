/* STATUS (RFC 9051 6.3.11, STATUS=SIZE RFC 8438). Counters come from the
 * mailbox record, so STATUS never scans, except DELETED, which is counted
 * on demand (rarely asked for). */
#include "worker.h"

#include "imap-status-args.h"

#include <stdlib.h>

static int count_deleted(void *ctx, const struct store_message *msg)
{
	uint32_t *n = ctx;
	if (msg->flags & STORE_FLAG_DELETED)
		(*n)++;
	return 0;
}

int worker_write_status(struct worker_session *s, const char *name,
			uint32_t items, const char **error_r)
{
	struct store_mailbox mb;
	int r = store_mailbox_get(worker.store, name, &mb, error_r);
	if (r <= 0) {
		if (r == 0)
			*error_r = "No such mailbox";
		return -1;
	}
	if (mb.attributes & STORE_ATTR_NOSELECT) {
		*error_r = "Mailbox has no status (\\Noselect)";
		return -1;
	}
	struct buf *out = &s->net.out;
	buf_append_str(out, "* STATUS ");
	worker_mailbox_name_out(s, mb.name, out);
	buf_append_str(out, " (");
	const char *sep = "";
	for (uint32_t bit = 1; bit < (1u << IMAP_STATUS_ITEM_COUNT); bit <<= 1) {
		if (!(items & bit))
			continue;
		buf_printf(out, "%s%s ", sep, imap_status_item_name(bit));
		sep = " ";
		switch (bit) {
		case IMAP_STATUS_MESSAGES: buf_printf(out, "%u", mb.messages); break;
		case IMAP_STATUS_RECENT: buf_printf(out, "%u", mb.recent); break;
		case IMAP_STATUS_UIDNEXT: buf_printf(out, "%u", mb.uidnext); break;
		case IMAP_STATUS_UIDVALIDITY: buf_printf(out, "%u", mb.uidvalidity); break;
		case IMAP_STATUS_UNSEEN: buf_printf(out, "%u", mb.unseen); break;
		case IMAP_STATUS_SIZE: buf_printf(out, "%llu", (unsigned long long)mb.size); break;
		case IMAP_STATUS_HIGHESTMODSEQ:
			buf_printf(out, "%llu", (unsigned long long)mb.highestmodseq);
			break;
		case IMAP_STATUS_APPENDLIMIT: buf_printf(out, "%u", (unsigned)WORKER_APPEND_LIMIT); break;
		case IMAP_STATUS_DELETED: {
			uint32_t n = 0;
			if (store_message_iter(worker.store, mb.id, NULL,
					       count_deleted, &n, error_r) < 0)
				return -1;
			buf_printf(out, "%u", n);
			break;
		}
		default:
			break;
		}
	}
	buf_append_str(out, ")\r\n");
	return 0;
}

void cmd_status(struct worker_session *s, const struct imap_command *cmd)
{
	const char *err;
	char *name = NULL;
	uint32_t items;
	if (cmd->arg_count != 2 || cmd->args[1].type != IMAP_ARG_LIST) {
		worker_session_bad(s, cmd->tag, "STATUS expects a mailbox and a list of items");
		return;
	}
	if (imap_status_args_parse(&cmd->args[1], &items, &err) < 0 ||
	    worker_mailbox_name_in(s, &cmd->args[0], &name, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	size_t mark = s->net.out.len;
	if (worker_write_status(s, name, items, &err) < 0) {
		s->net.out.len = mark;
		struct store_mailbox mb;
		const char *e2;
		if (store_mailbox_get(worker.store, name, &mb, &e2) == 0)
			net_conn_printf(&s->net, "%s NO [NONEXISTENT] %s\r\n", cmd->tag, err);
		else
			net_conn_printf(&s->net, "%s NO %s\r\n", cmd->tag, err);
	} else {
		net_conn_printf(&s->net, "%s OK STATUS completed\r\n", cmd->tag);
	}
	free(name);
}
