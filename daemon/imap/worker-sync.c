/* Keeping every session of the user in step: a change to a mailbox is
 * recorded in each session that has it selected, and told to that client
 * at the next point RFC 9051 allows (the end of a command, at once in
 * IDLE). Expunges are applied to the session's own view only when
 * announced, so its sequence numbers never shift under the client. */
#include "worker.h"

#include "../../common/log.h"

#include <stdlib.h>
#include <string.h>

void uid_list_add(struct uid_list *l, uint32_t uid)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->uids = xrealloc(l->uids, l->cap * sizeof(*l->uids));
	}
	l->uids[l->count++] = uid;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void uid_list_sort_unique(struct uid_list *l)
{
	if (l->count < 2)
		return;
	qsort(l->uids, l->count, sizeof(*l->uids), uid_cmp);
	size_t k = 1;
	for (size_t i = 1; i < l->count; i++)
		if (l->uids[i] != l->uids[k - 1])
			l->uids[k++] = l->uids[i];
	l->count = k;
}

void uid_list_clear(struct uid_list *l)
{
	l->count = 0;
}

void uid_list_free(struct uid_list *l)
{
	free(l->uids);
	memset(l, 0, sizeof(*l));
}

static bool session_has(const struct worker_session *s, uint32_t mailbox_id)
{
	return s->selected != NULL && s->selected->mailbox_id == mailbox_id;
}

void worker_notify_appended(uint32_t mailbox_id)
{
	for (struct worker_session *s = worker.sessions; s != NULL; s = s->next)
		if (session_has(s, mailbox_id))
			s->selected->appended = true;
}

void worker_notify_expunged(uint32_t mailbox_id, const uint32_t *uids,
			    size_t n)
{
	for (struct worker_session *s = worker.sessions; s != NULL; s = s->next)
		if (session_has(s, mailbox_id))
			for (size_t i = 0; i < n; i++)
				uid_list_add(&s->selected->expunged, uids[i]);
}

void worker_notify_flags(uint32_t mailbox_id, const uint32_t *uids, size_t n,
			 const struct worker_session *except)
{
	for (struct worker_session *s = worker.sessions; s != NULL; s = s->next)
		if (s != except && session_has(s, mailbox_id))
			for (size_t i = 0; i < n; i++)
				uid_list_add(&s->selected->flag_changed, uids[i]);
}

void worker_notify_keywords(uint32_t mailbox_id)
{
	for (struct worker_session *s = worker.sessions; s != NULL; s = s->next)
		if (session_has(s, mailbox_id))
			s->selected->keywords_changed = true;
}

static bool sync_pending(const struct worker_selected *sel)
{
	return sel->appended || sel->keywords_changed ||
	       sel->expunged.count > 0 || sel->flag_changed.count > 0;
}

struct sync_new_ctx {
	struct worker_selected *sel;
	uint32_t added;
};

static int sync_collect_new(void *ctx, const struct store_message *msg)
{
	struct sync_new_ctx *c = ctx;
	store_seqmap_add(&c->sel->view, msg->uid);
	c->added++;
	return 0;
}

struct sync_flags_ctx {
	struct worker_session *s;
};

static int sync_write_flags(void *ctx, const struct store_message *msg)
{
	struct sync_flags_ctx *c = ctx;
	worker_write_flags(&c->s->net.out, msg, c->s->selected);
	return 0;
}

/* The FLAGS and PERMANENTFLAGS responses (RFC 9051 7.3.5): system flags
 * and the mailbox's keywords. */
struct keyword_ctx {
	struct buf *out;
};

static int keyword_append(void *ctx, const char *name)
{
	struct keyword_ctx *k = ctx;
	buf_printf(k->out, " %s", name);
	return 0;
}

void worker_write_flags_responses(struct worker_session *s, bool permanent);
void worker_write_flags_responses(struct worker_session *s, bool permanent)
{
	struct buf *out = &s->net.out;
	struct keyword_ctx k = { out };
	const char *err;
	buf_append_str(out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	(void)store_keyword_list(worker.store, s->selected->mailbox_id,
				 keyword_append, &k, &err);
	buf_append_str(out, ")\r\n");
	if (!permanent)
		return;
	if (s->selected->readonly) {
		buf_append_str(out, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
		return;
	}
	buf_append_str(out, "* OK [PERMANENTFLAGS (\\Answered \\Flagged "
		       "\\Deleted \\Seen \\Draft");
	(void)store_keyword_list(worker.store, s->selected->mailbox_id,
				 keyword_append, &k, &err);
	buf_append_str(out, " \\*)] Flags permitted\r\n");
}

void worker_sync_flush(struct worker_session *s, bool allow_expunge)
{
	struct worker_selected *sel = s->selected;
	if (sel == NULL || !sync_pending(sel))
		return;
	const char *err;
	if (sel->keywords_changed) {
		worker_write_flags_responses(s, false);
		sel->keywords_changed = false;
	}
	if (allow_expunge && sel->expunged.count > 0) {
		uid_list_sort_unique(&sel->expunged);
		/* Each EXPUNGE renumbers the later messages: announce in
		 * descending order so each number is right when sent and the
		 * view matches what the client holds after each line. */
		for (size_t i = sel->expunged.count; i-- > 0;) {
			uint32_t seq = store_seqmap_remove(&sel->view,
							   sel->expunged.uids[i]);
			if (seq != 0)
				buf_printf(&s->net.out, "* %u EXPUNGE\r\n", seq);
		}
		uid_list_clear(&sel->expunged);
	}
	if (sel->appended) {
		sel->appended = false;
		uint32_t last = sel->view.count ?
				sel->view.uids[sel->view.count - 1] : 0;
		struct store_uidrange r = { last + 1, UINT32_MAX };
		struct store_uidset set = { &r, 1 };
		struct sync_new_ctx c = { sel, 0 };
		if (last < UINT32_MAX &&
		    store_message_iter(worker.store, sel->mailbox_id, &set,
				       sync_collect_new, &c, &err) < 0)
			log_msg(LOG_LEVEL_ERROR, s->id, "sync: %s", err);
		if (c.added > 0) {
			buf_printf(&s->net.out, "* %zu EXISTS\r\n", sel->view.count);
			if (!(s->enabled & SESSION_IMAP4REV2)) {
				/* \Recent goes to the first read-write session
				 * that sees new mail (RFC 3501 2.3.2). */
				uint32_t first;
				if (!sel->readonly &&
				    store_mailbox_take_recent(worker.store,
							      sel->mailbox_id,
							      &first, &err) == 0) {
					uint32_t top = sel->view.uids[sel->view.count - 1];
					if (first != 0 && first <= top)
						imap_seqset_add(&sel->recent, first, top);
				}
				uint32_t recent = 0;
				for (size_t i = 0; i < sel->view.count; i++)
					recent += imap_seqset_contains(&sel->recent,
								       sel->view.uids[i]);
				buf_printf(&s->net.out, "* %u RECENT\r\n", recent);
			}
		}
	}
	if (sel->flag_changed.count > 0) {
		uid_list_sort_unique(&sel->flag_changed);
		struct store_uidrange *ranges = xcalloc(sel->flag_changed.count,
							sizeof(*ranges));
		for (size_t i = 0; i < sel->flag_changed.count; i++)
			ranges[i].first = ranges[i].last = sel->flag_changed.uids[i];
		struct store_uidset set = { ranges, sel->flag_changed.count };
		struct sync_flags_ctx c = { s };
		if (store_message_iter(worker.store, sel->mailbox_id, &set,
				       sync_write_flags, &c, &err) < 0)
			log_msg(LOG_LEVEL_ERROR, s->id, "sync: %s", err);
		free(ranges);
		uid_list_clear(&sel->flag_changed);
	}
}

void worker_sync_idle_sessions(void)
{
	struct worker_session *next;
	for (struct worker_session *s = worker.sessions; s != NULL; s = next) {
		next = s->next;	/* kick_io may end s */
		if (s->idle_tag == NULL || s->selected == NULL ||
		    !sync_pending(s->selected) || s->closing)
			continue;
		worker_sync_flush(s, true);
		worker_session_kick_io(s);
	}
}
