/* APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502), APPENDUID
 * (UIDPLUS, RFC 4315), APPENDLIMIT (RFC 7889) and literal8 (RFC 3516). */
#include "worker.h"

#include "imap-append-args.h"

#include <stdlib.h>
#include <string.h>

size_t worker_keyword_count(uint32_t mailbox_id);

void cmd_append(struct worker_session *s, const struct imap_command *cmd)
{
	const char *err;
	char *name = NULL;
	struct imap_append_args a;
	if (cmd->arg_count < 2) {
		worker_session_bad(s, cmd->tag,
				   "APPEND expects a mailbox and a message");
		return;
	}
	if (worker_mailbox_name_in(s, &cmd->args[0], &name, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	if (imap_append_args_parse(cmd->args + 1, cmd->arg_count - 1, &a,
				   &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		free(name);
		return;
	}
	/* The parser refuses literals over the limit already; this guards
	 * the limit if the two ever part (RFC 7889 section 4: TOOBIG). */
	for (size_t i = 0; i < a.count; i++) {
		if (a.msgs[i].len > WORKER_APPEND_LIMIT) {
			net_conn_printf(&s->net, "%s NO [TOOBIG] Message over "
					"the APPENDLIMIT of %u octets\r\n",
					cmd->tag, (unsigned)WORKER_APPEND_LIMIT);
			goto out;
		}
	}
	struct store_mailbox mb;
	int r = store_mailbox_get(worker.store, name, &mb, &err);
	if (r < 0) {
		worker_session_store_error(s, cmd->tag, err);
		goto out;
	}
	if (r == 0 || (mb.attributes & STORE_ATTR_NOSELECT)) {
		/* RFC 9051 6.3.12: CREATE would make it appendable. */
		net_conn_printf(&s->net, "%s NO [TRYCREATE] No such mailbox\r\n",
				cmd->tag);
		goto out;
	}
	bool keywords = false;
	struct store_append_msg *msgs = xcalloc(a.count, sizeof(*msgs));
	for (size_t i = 0; i < a.count; i++) {
		const struct imap_append_msg *m = &a.msgs[i];
		msgs[i].data = m->data;
		msgs[i].len = m->len;
		msgs[i].fd = -1;
		msgs[i].flags = imap_flags_to_store(m->flags.system);
		msgs[i].keywords = (const char *const *)m->flags.keywords;
		msgs[i].nkeywords = m->flags.keyword_count;
		msgs[i].internaldate = m->have_date ? (int64_t)m->date : 0;
		keywords |= m->flags.keyword_count > 0;
	}
	size_t kw_before = keywords ? worker_keyword_count(mb.id) : 0;
	uint32_t *uids = xcalloc(a.count, sizeof(*uids));
	/* RFC 3502: all messages or none, in one transaction. */
	if (store_append_batch(worker.store, mb.id, msgs, a.count, 0, uids,
			       &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
	} else {
		worker_notify_appended(mb.id);
		if (keywords && worker_keyword_count(mb.id) != kw_before)
			worker_notify_keywords(mb.id);
		/* RFC 9051 6.3.12: a client that has the mailbox selected
		 * hears of the new message before the completion. */
		worker_sync_flush(s, true);
		struct buf set;
		buf_init(&set);
		imap_uid_list_format(uids, a.count, &set);
		net_conn_printf(&s->net, "%s OK [APPENDUID %u %s] APPEND completed\r\n",
				cmd->tag, mb.uidvalidity, buf_cstr(&set));
		buf_free(&set);
	}
	free(uids);
	free(msgs);
out:
	imap_append_args_free(&a);
	free(name);
}
