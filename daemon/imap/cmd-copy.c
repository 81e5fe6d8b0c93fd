/* COPY, MOVE and their UID forms (RFC 9051 6.4.7, 6.4.8; MOVE RFC 6851),
 * with COPYUID (UIDPLUS, RFC 4315). */
#include "worker.h"

#include "imap-append-args.h"

#include <stdlib.h>
#include <string.h>

size_t worker_keyword_count(uint32_t mailbox_id);
struct store_uidrange *worker_set_to_ranges(const struct worker_session *s,
					    struct imap_seqset *set,
					    struct store_uidset *uidset_r);

/* "uidvalidity srcset dstset" of COPYUID: the two sets pair by position
 * (RFC 4315 section 3); the store returns both ascending. */
static void copyuid_format(uint32_t uidvalidity, const struct store_uidmap *map,
			   struct buf *out)
{
	buf_printf(out, "%u ", uidvalidity);
	imap_uid_list_format(map->src, map->count, out);
	buf_append_byte(out, ' ');
	imap_uid_list_format(map->dst, map->count, out);
}

static void cmd_copy_or_move(struct worker_session *s,
			     const struct imap_command *cmd, bool move)
{
	struct worker_selected *sel = s->selected;
	const char *what = move ? "MOVE" : "COPY";
	const char *err;
	char *name = NULL;
	struct imap_seqset set;
	if (cmd->arg_count != 2) {
		worker_session_bad(s, cmd->tag, "%s expects a set and a mailbox",
				   what);
		return;
	}
	if (worker_resolve_set(s, &cmd->args[0], s->cmd_uid, &set, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	if (worker_mailbox_name_in(s, &cmd->args[1], &name, &err) < 0) {
		imap_seqset_free(&set);
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	struct store_uidset uidset;
	struct store_uidrange *ranges = NULL;
	struct store_uidmap map;
	memset(&map, 0, sizeof(map));
	if (move && sel->readonly) {
		/* RFC 6851 3.3: MOVE needs the right to expunge */
		net_conn_printf(&s->net, "%s NO [READ-ONLY] Mailbox is read-only\r\n",
				cmd->tag);
		goto out;
	}
	struct store_mailbox dst;
	int r = store_mailbox_get(worker.store, name, &dst, &err);
	if (r < 0) {
		worker_session_store_error(s, cmd->tag, err);
		goto out;
	}
	if (r == 0 || (dst.attributes & STORE_ATTR_NOSELECT)) {
		/* RFC 9051 6.4.7: CREATE would make it a destination */
		net_conn_printf(&s->net, "%s NO [TRYCREATE] No such mailbox\r\n",
				cmd->tag);
		goto out;
	}
	ranges = worker_set_to_ranges(s, &set, &uidset);
	size_t kw_before = worker_keyword_count(dst.id);
	if (uidset.count > 0 &&
	    (move ? store_move : store_copy)(worker.store, sel->mailbox_id,
					     &uidset, dst.id, &map, &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
		goto out;
	}
	struct buf copyuid;
	buf_init(&copyuid);
	if (map.count > 0) {
		copyuid_format(dst.uidvalidity, &map, &copyuid);
		worker_notify_appended(dst.id);
		if (worker_keyword_count(dst.id) != kw_before)
			worker_notify_keywords(dst.id);
		if (move) {
			/* RFC 6851 4.3: COPYUID untagged, before the
			 * EXPUNGEs, since the tagged OK comes after them */
			net_conn_printf(&s->net, "* OK [COPYUID %s] Moved\r\n",
					buf_cstr(&copyuid));
			worker_notify_expunged(sel->mailbox_id, map.src,
					       map.count);
		}
	}
	/* MOVE's EXPUNGEs (and COPY into the selected mailbox's EXISTS)
	 * before the completion */
	worker_sync_flush(s, true);
	if (move || map.count == 0)
		net_conn_printf(&s->net, "%s OK %s completed\r\n", cmd->tag, what);
	else
		net_conn_printf(&s->net, "%s OK [COPYUID %s] COPY completed\r\n",
				cmd->tag, buf_cstr(&copyuid));
	buf_free(&copyuid);
out:
	store_uidmap_free(&map);
	free(ranges);
	free(name);
	imap_seqset_free(&set);
}

void cmd_copy(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_copy_or_move(s, cmd, false);
}

void cmd_move(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_copy_or_move(s, cmd, true);
}
