/* Keeping every session of the user in step: a change to a mailbox's
 * messages makes a new newest view of it (mailbox-view.h), and each
 * session that has it selected is told the difference between its own
 * view and the newest at the next point RFC 9051 allows (the end of a
 * command, at once in IDLE). A session moves to a new view only when its
 * client has been told, so its sequence numbers never shift under the
 * client. Flag and keyword changes do not renumber: they are recorded
 * per session. */
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
	struct mailbox_head *h = mailbox_heads_find(&worker.views, mailbox_id);
	if (h == NULL || h->newest == NULL)
		return;		/* no session holds it: nobody to tell */
	struct store_seqmap map;
	const char *err;
	if (store_seqmap_extend(worker.store, mailbox_view_map(h->newest), &map,
				&err) < 0) {
		/* Sessions learn of the messages with the next change that
		 * reads the store; a SELECT finds the view stale and loads
		 * it again. */
		log_msg(LOG_LEVEL_ERROR, 0, "sync: mailbox %u: %s", mailbox_id,
			err);
		return;
	}
	if (map.count == mailbox_view_count(h->newest) &&
	    map.uidnext == mailbox_view_map(h->newest)->uidnext) {
		store_seqmap_free(&map);
		return;
	}
	mailbox_head_publish(h, mailbox_view_new(&map));
}

void worker_notify_expunged(uint32_t mailbox_id, const uint32_t *uids,
			    size_t n)
{
	struct mailbox_head *h = mailbox_heads_find(&worker.views, mailbox_id);
	if (h == NULL || h->newest == NULL || n == 0)
		return;
	/* One pass over the view whatever n is: an EXPUNGE of most of a
	 * large mailbox is not n array moves. */
	uint32_t *sorted = NULL;
	for (size_t i = 1; i < n; i++) {
		if (uids[i - 1] < uids[i])
			continue;
		struct uid_list l = { 0 };
		for (size_t k = 0; k < n; k++)
			uid_list_add(&l, uids[k]);
		uid_list_sort_unique(&l);
		sorted = l.uids;
		uids = l.uids;
		n = l.count;
		break;
	}
	struct store_seqmap map;
	store_seqmap_subtract(mailbox_view_map(h->newest), uids, n, &map);
	free(sorted);
	if (map.count == mailbox_view_count(h->newest)) {
		store_seqmap_free(&map);
		return;
	}
	mailbox_head_publish(h, mailbox_view_new(&map));
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

bool worker_sync_pending(const struct worker_selected *sel)
{
	return sel->view != sel->head->newest || sel->keywords_changed ||
	       sel->flag_changed.count > 0;
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

static void sync_write_expunge(void *ctx, uint32_t seq)
{
	buf_printf(ctx, "* %u EXPUNGE\r\n", seq);
}

/* The messages \Recent to this session among those it knows. */
static uint32_t sync_count_recent(const struct worker_selected *sel)
{
	uint32_t n = 0;
	for (size_t i = 0; i < sel->recent.count; i++) {
		uint32_t lo, hi;
		if (store_seqmap_range(mailbox_view_map(sel->view),
				       sel->recent.ranges[i].lo,
				       sel->recent.ranges[i].hi, &lo, &hi))
			n += hi - lo + 1;
	}
	return n;
}

/* Tells EXISTS (and RECENT to IMAP4rev1 clients) after the view grew. */
static void sync_write_exists(struct worker_session *s)
{
	struct worker_selected *sel = s->selected;
	const char *err;
	buf_printf(&s->net.out, "* %zu EXISTS\r\n",
		   mailbox_view_count(sel->view));
	if (s->enabled & SESSION_IMAP4REV2)
		return;
	/* \Recent goes to the first read-write session that sees new mail
	 * (RFC 3501 2.3.2). */
	uint32_t first;
	if (!sel->readonly &&
	    store_mailbox_take_recent(worker.store, sel->mailbox_id, &first,
				      &err) == 0) {
		uint32_t top = mailbox_view_last_uid(sel->view);
		if (first != 0 && first <= top)
			imap_seqset_add(&sel->recent, first, top);
	}
	buf_printf(&s->net.out, "* %u RECENT\r\n", sync_count_recent(sel));
}

/* Moves the session from its view to the newest, telling the client the
 * difference; or, where expunges may not be told, only the new messages. */
static void sync_flush_view(struct worker_session *s, bool allow_expunge)
{
	struct worker_selected *sel = s->selected;
	struct mailbox_view *now = sel->head->newest;
	size_t before = mailbox_view_count(sel->view);
	if (mailbox_view_only_appended(sel->view, now)) {
		mailbox_view_unref(&sel->view);
		sel->view = mailbox_view_ref(now);
	} else if (allow_expunge) {
		size_t gone = mailbox_view_expunged(sel->view, now,
						    sync_write_expunge,
						    &s->net.out);
		before -= gone;
		mailbox_view_unref(&sel->view);
		sel->view = mailbox_view_ref(now);
	} else {
		/* EXISTS may be told now, EXPUNGE not (RFC 9051 7.5.1):
		 * the client's numbering is its old view plus the new
		 * messages, a view of its own until the next flush that
		 * may expunge. */
		struct mailbox_view *v = mailbox_view_with_appends(sel->view, now);
		if (v == NULL)
			return;
		mailbox_view_unref(&sel->view);
		sel->view = v;
	}
	if (mailbox_view_count(sel->view) > before)
		sync_write_exists(s);
}

void worker_sync_flush(struct worker_session *s, bool allow_expunge)
{
	struct worker_selected *sel = s->selected;
	if (sel == NULL || !worker_sync_pending(sel))
		return;
	const char *err;
	if (sel->keywords_changed) {
		worker_write_flags_responses(s, false);
		sel->keywords_changed = false;
	}
	if (sel->view != sel->head->newest)
		sync_flush_view(s, allow_expunge);
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
		    !worker_sync_pending(s->selected) || s->closing)
			continue;
		worker_sync_flush(s, true);
		worker_session_kick_io(s);
	}
}
