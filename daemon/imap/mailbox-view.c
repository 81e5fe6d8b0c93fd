/* Shared, immutable, reference-counted sequence maps; see mailbox-view.h
 * for why and how sessions use them. */
#include "mailbox-view.h"

#include "../../common/buf.h"
#include "../../common/log.h"

#include <stdlib.h>
#include <string.h>

static size_t views_live;

size_t mailbox_view_live_count(void)
{
	return views_live;
}

struct mailbox_view *mailbox_view_new(struct store_seqmap *map)
{
	views_live++;
	struct mailbox_view *v = xcalloc(1, sizeof(*v));
	v->map = *map;
	memset(map, 0, sizeof(*map));
	v->refs = 1;
	return v;
}

struct mailbox_view *mailbox_view_ref(struct mailbox_view *v)
{
	if (v->refs == 0)
		fatal("mailbox view: reference to a freed view");
	v->refs++;
	return v;
}

void mailbox_view_unref(struct mailbox_view **vp)
{
	struct mailbox_view *v = *vp;
	*vp = NULL;
	if (v == NULL)
		return;
	if (v->refs == 0)
		fatal("mailbox view: reference count below zero");
	if (--v->refs > 0)
		return;
	store_seqmap_free(&v->map);
	free(v);
	views_live--;
}

size_t mailbox_view_count(const struct mailbox_view *v)
{
	return v->map.count;
}

uint32_t mailbox_view_uid(const struct mailbox_view *v, uint32_t seq)
{
	return store_seqmap_uid(&v->map, seq);
}

uint32_t mailbox_view_seq(const struct mailbox_view *v, uint32_t uid)
{
	return store_seqmap_seq(&v->map, uid);
}

uint32_t mailbox_view_last_uid(const struct mailbox_view *v)
{
	return store_seqmap_last(&v->map);
}

const struct store_seqmap *mailbox_view_map(const struct mailbox_view *v)
{
	return &v->map;
}

/* now = (old - expunged) + appended with every appended UID above old's
 * last: if nothing of old went, old's last UID sits at the same index in
 * now; if anything went, that index holds an appended UID or is past
 * now's end. */
bool mailbox_view_only_appended(const struct mailbox_view *old,
				const struct mailbox_view *now)
{
	size_t n = old->map.count;
	if (n == 0)
		return true;
	return now->map.count >= n &&
	       now->map.uids[n - 1] == old->map.uids[n - 1];
}

/* The expunged UIDs of old, highest first, without walking all of it:
 * every idle session runs this after each expunge, so one message gone
 * from a 100k mailbox must not cost each of them 100k steps.
 *
 * Say d UIDs of old[0..i) are gone, and old[0..i) keeps its survivors in
 * now[0..i-d). Above the highest gone index r, each old[x] sits at
 * now[x-d]; at r and below, now[x-d] is lower than old[x] (fewer than d
 * are gone below x) or x < d. So "old[x] == now[x-d]" holds exactly on
 * (r, i): a galloping search from i down finds r in O(log(i - r)), and
 * k expunges cost O(k log(n/k)) rather than O(n). */
static size_t highest_gone(const struct store_seqmap *a,
			   const struct store_seqmap *b, size_t i, size_t d)
{
	/* lo: no x < lo is known to hold; hi: all of [hi, i) hold */
	size_t hi = i, step = 1;
	while (hi > d && a->uids[hi - 1] == b->uids[hi - 1 - d]) {
		size_t next = hi > d + step ? hi - step : d;
		if (a->uids[next] != b->uids[next - d]) {
			/* the change is in [next, hi - 1): bisect it */
			size_t lo = next + 1;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (a->uids[mid] == b->uids[mid - d])
					hi = mid;
				else
					lo = mid + 1;
			}
			return hi - 1;
		}
		hi = next;
		step *= 2;
	}
	return hi - 1;
}

size_t mailbox_view_expunged(const struct mailbox_view *old,
			     const struct mailbox_view *now,
			     mailbox_view_expunged_fn *fn, void *ctx)
{
	const struct store_seqmap *a = &old->map, *b = &now->map;
	if (a->count == 0)
		return 0;
	/* now's UIDs up to old's last are old's survivors; the rest are
	 * appended */
	uint32_t last = a->uids[a->count - 1];
	size_t kept = last == UINT32_MAX ? b->count : store_seqmap_lower_bound(b, last + 1);
	if (kept >= a->count)
		return 0;
	size_t gone = a->count - kept;
	size_t i = a->count;
	for (size_t d = gone; d > 0; d--) {
		size_t r = highest_gone(a, b, i, d);
		if (fn != NULL)
			fn(ctx, (uint32_t)r + 1);
		i = r;
	}
	return gone;
}

struct mailbox_view *mailbox_view_with_appends(const struct mailbox_view *old,
					       const struct mailbox_view *now)
{
	uint32_t last = mailbox_view_last_uid(old);
	uint32_t from_seq, to_seq;
	if (last == UINT32_MAX ||
	    !store_seqmap_range(&now->map, last + 1, UINT32_MAX, &from_seq,
				&to_seq))
		return NULL;
	size_t extra = to_seq - from_seq + 1;
	struct store_seqmap map = old->map;
	map.cap = map.count = old->map.count + extra;
	map.uids = xmalloc(map.cap * sizeof(uint32_t));
	if (old->map.count > 0)
		memcpy(map.uids, old->map.uids,
		       old->map.count * sizeof(uint32_t));
	memcpy(map.uids + old->map.count, now->map.uids + from_seq - 1,
	       extra * sizeof(uint32_t));
	map.uidnext = now->map.uidnext;
	return mailbox_view_new(&map);
}

struct mailbox_head *mailbox_heads_find(struct mailbox_heads *hs,
					uint32_t mailbox_id)
{
	for (struct mailbox_head *h = hs->list; h != NULL; h = h->next)
		if (h->mailbox_id == mailbox_id)
			return h;
	return NULL;
}

struct mailbox_head *mailbox_heads_open(struct mailbox_heads *hs,
					uint32_t mailbox_id)
{
	struct mailbox_head *h = mailbox_heads_find(hs, mailbox_id);
	if (h == NULL) {
		h = xcalloc(1, sizeof(*h));
		h->mailbox_id = mailbox_id;
		h->next = hs->list;
		hs->list = h;
	}
	h->users++;
	return h;
}

void mailbox_heads_close(struct mailbox_heads *hs, struct mailbox_head *h)
{
	if (h->users == 0)
		fatal("mailbox view: head of mailbox %u closed once too often",
		      h->mailbox_id);
	if (--h->users > 0)
		return;
	struct mailbox_head **pp = &hs->list;
	while (*pp != h)
		pp = &(*pp)->next;
	*pp = h->next;
	mailbox_view_unref(&h->newest);
	free(h);
}

void mailbox_head_publish(struct mailbox_head *h, struct mailbox_view *v)
{
	if (v->map.mailbox_id != h->mailbox_id)
		fatal("mailbox view: view of mailbox %u published as %u",
		      v->map.mailbox_id, h->mailbox_id);
	v->version = ++h->last_version;
	mailbox_view_unref(&h->newest);
	h->newest = v;
}
