/* Helpers shared by the selected-state commands: flags output, sequence
 * and UID sets, and mailbox name encoding (modified UTF-7 for IMAP4rev1
 * clients, UTF-8 after ENABLE IMAP4rev2 or UTF8=ACCEPT). */
#include "worker.h"

#include "../../common/imap-write.h"
#include "../../common/mutf7.h"
#include "imap-store-args.h"

#include <stdlib.h>
#include <string.h>

/* The newest view is current if the store still holds what it was built
 * from. The worker is the only writer of the store while it runs and
 * rebuilds the newest view on each change it makes, so this is a check,
 * not a poll: a mismatch means a change that was not notified, and the
 * view is loaded again rather than trusted. UIDNEXT moves with every
 * append and the count with every expunge, so together they tell. */
static bool view_is_current(const struct mailbox_view *v,
			    const struct store_mailbox *mb)
{
	const struct store_seqmap *map = mailbox_view_map(v);
	return map->uidvalidity == mb->uidvalidity &&
	       map->uidnext == mb->uidnext && map->count == mb->messages;
}

int worker_selected_open(const struct store_mailbox *mb, bool readonly,
			 struct worker_selected **sel_r, const char **error_r)
{
	struct mailbox_head *h = mailbox_heads_open(&worker.views, mb->id);
	if (h->newest == NULL || !view_is_current(h->newest, mb)) {
		struct store_seqmap map;
		if (store_seqmap_load(worker.store, mb->id, &map, error_r) < 0) {
			mailbox_heads_close(&worker.views, h);
			return -1;
		}
		mailbox_head_publish(h, mailbox_view_new(&map));
	}
	struct worker_selected *sel = xcalloc(1, sizeof(*sel));
	sel->mailbox_id = mb->id;
	sel->uidvalidity = mb->uidvalidity;
	sel->readonly = readonly;
	sel->head = h;
	sel->view = mailbox_view_ref(h->newest);
	imap_seqset_init(&sel->recent);
	*sel_r = sel;
	return 0;
}

void worker_selected_free(struct worker_selected *sel)
{
	mailbox_view_unref(&sel->view);
	mailbox_heads_close(&worker.views, sel->head);
	imap_seqset_free(&sel->recent);
	uid_list_free(&sel->flag_changed);
	free(sel);
}

static void write_flag_list(struct buf *out, const struct store_message *msg,
			    const struct worker_selected *sel)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ STORE_FLAG_ANSWERED, "\\Answered" },
		{ STORE_FLAG_FLAGGED, "\\Flagged" },
		{ STORE_FLAG_DELETED, "\\Deleted" },
		{ STORE_FLAG_SEEN, "\\Seen" },
		{ STORE_FLAG_DRAFT, "\\Draft" },
	};
	bool first = true;
	buf_append_byte(out, '(');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(msg->flags & names[i].bit))
			continue;
		if (!first)
			buf_append_byte(out, ' ');
		buf_append_str(out, names[i].name);
		first = false;
	}
	if (sel != NULL && imap_seqset_contains(&sel->recent, msg->uid)) {
		if (!first)
			buf_append_byte(out, ' ');
		buf_append_str(out, "\\Recent");
		first = false;
	}
	for (size_t i = 0; i < msg->nkeywords; i++) {
		if (!first)
			buf_append_byte(out, ' ');
		buf_append_str(out, msg->keywords[i]);
		first = false;
	}
	buf_append_byte(out, ')');
}

void worker_write_flag_list(struct buf *out, const struct store_message *msg,
			    const struct worker_selected *sel);
void worker_write_flag_list(struct buf *out, const struct store_message *msg,
			    const struct worker_selected *sel)
{
	write_flag_list(out, msg, sel);
}

void worker_write_flags(struct buf *out, const struct store_message *msg,
			const struct worker_selected *sel)
{
	uint32_t seq = mailbox_view_seq(sel->view, msg->uid);
	if (seq == 0)
		return;	/* not yet announced to this client */
	buf_printf(out, "* %u FETCH (UID %u FLAGS ", seq, msg->uid);
	write_flag_list(out, msg, sel);
	buf_append_str(out, ")\r\n");
}

int worker_resolve_set(struct worker_session *s, const struct imap_arg *arg,
		       bool uid, struct imap_seqset *uids_r,
		       const char **error_r)
{
	struct worker_selected *sel = s->selected;
	struct imap_seqset set;
	imap_seqset_init(uids_r);
	if (arg->type != IMAP_ARG_ATOM) {
		*error_r = "Expected a sequence set";
		return -1;
	}
	if (imap_seqset_parse(arg->str, arg->len, true,
			      IMAP_SEQSET_DEFAULT_MAX_ITEMS, &set, error_r) < 0)
		return -1;
	if (set.saved) {
		/* RFC 5182: "$" is the saved UIDs, whatever the command. */
		imap_seqset_free(&set);
		/* Before any SAVE (or after a failed one) "$" is the empty
		 * set, not an error (RFC 5182 2.1). */
		if (!s->saved_valid)
			return 0;
		for (size_t i = 0; i < s->saved_uids.count; i++)
			imap_seqset_add(uids_r, s->saved_uids.ranges[i].lo,
					s->saved_uids.ranges[i].hi);
		return 0;
	}
	size_t count = mailbox_view_count(sel->view);
	if (uid) {
		/* RFC 9051 6.4.9: UIDs that do not exist are ignored; "*" is
		 * the highest UID in use. */
		imap_seqset_resolve(&set, mailbox_view_last_uid(sel->view));
		*uids_r = set;
		return 0;
	}
	imap_seqset_resolve(&set, (uint32_t)count);
	if (imap_seqset_last(&set) > count) {
		imap_seqset_free(&set);
		*error_r = "Invalid sequence number: beyond the last message";
		return -1;
	}
	struct imap_seqset_iter it = IMAP_SEQSET_ITER_INIT;
	uint32_t n;
	while (imap_seqset_next(&set, &it, &n)) {
		uint32_t u = mailbox_view_uid(sel->view, n);
		imap_seqset_add(uids_r, u, u);
	}
	imap_seqset_free(&set);
	return 0;
}

int worker_mailbox_name_in(struct worker_session *s, const struct imap_arg *arg,
			   char **name_r, const char **error_r)
{
	if (!imap_arg_is_astring(arg)) {
		*error_r = "Expected a mailbox name";
		return -1;
	}
	struct buf b;
	buf_init(&b);
	if (memchr(arg->str, '\0', arg->len) != NULL) {
		*error_r = "Mailbox name contains NUL";
		return -1;
	}
	if (s->enabled & (SESSION_IMAP4REV2 | SESSION_UTF8_ACCEPT)) {
		if (!mutf7_utf8_is_valid(arg->str, arg->len)) {
			*error_r = "Mailbox name is not valid UTF-8";
			return -1;
		}
		buf_append(&b, arg->str, arg->len);
	} else if (mutf7_to_utf8(arg->str, arg->len, &b, error_r) < 0) {
		buf_free(&b);
		return -1;
	}
	*name_r = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return 0;
}

void worker_mailbox_name_out(struct worker_session *s, const char *name,
			     struct buf *out)
{
	if (s->enabled & (SESSION_IMAP4REV2 | SESSION_UTF8_ACCEPT)) {
		imap_write_quoted_or_literal(out, name, strlen(name), true);
		return;
	}
	struct buf b;
	const char *err;
	buf_init(&b);
	if (mutf7_from_utf8(name, strlen(name), &b, &err) < 0) {
		buf_free(&b);
		buf_append_str(&b, name);
	}
	imap_write_quoted_or_literal(out, (const char *)b.data, b.len, false);
	buf_free(&b);
}
