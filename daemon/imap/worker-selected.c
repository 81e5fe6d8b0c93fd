/* Helpers shared by the selected-state commands: flags output, sequence
 * and UID sets, and mailbox name encoding (modified UTF-7 for IMAP4rev1
 * clients, UTF-8 after ENABLE IMAP4rev2 or UTF8=ACCEPT). */
#include "worker.h"

#include "../../common/imap-write.h"
#include "../../common/mutf7.h"
#include "imap-store-args.h"

#include <stdlib.h>
#include <string.h>

void worker_selected_free(struct worker_selected *sel)
{
	store_seqmap_free(&sel->view);
	imap_seqset_free(&sel->recent);
	uid_list_free(&sel->expunged);
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
	uint32_t seq = store_seqmap_seq(&sel->view, msg->uid);
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
	size_t count = sel->view.count;
	if (uid) {
		/* RFC 9051 6.4.9: UIDs that do not exist are ignored; "*" is
		 * the highest UID in use. */
		uint32_t max = count ? sel->view.uids[count - 1] : 0;
		imap_seqset_resolve(&set, max);
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
		uint32_t u = store_seqmap_uid(&sel->view, n);
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
