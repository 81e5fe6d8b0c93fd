/* Mailbox views: the sequence-number map of a selected mailbox, shared by
 * the sessions that hold it.
 *
 * Why: every session must keep its own numbering until it is told of a
 * change (RFC 9051 7.5.1: an EXPUNGE renumbers, and may only be sent
 * between commands that allow it; EXISTS only grows the numbering). One
 * private UID array per session made each idle session on a 100k-message
 * mailbox cost 400 KB, although idle sessions that are up to date all
 * hold the same array.
 *
 * So a view is an immutable, reference-counted UID array: one mailbox's
 * UIDs as of one state of the store. Per selected mailbox the worker
 * keeps a head with the newest view. A change (append, expunge, move,
 * RENAME INBOX) publishes a new newest view, built in one pass from the
 * previous one; the previous one lives on as long as a session that has
 * not been told yet refers to it. A session moves to the newest view
 * when it tells its client (EXPUNGE responses from the difference of the
 * two, EXISTS for the rest), and the view it leaves is freed with its
 * last reference. Idle sessions are told at once, so they share the
 * newest view and cost only their own small state.
 *
 * One case needs a view of its own: a session may learn of new messages
 * (EXISTS) while an expunge may not be told yet (during FETCH, STORE,
 * SEARCH). Its numbering is then the old view plus the new UIDs, which
 * is no version of the mailbox: it gets a private view, shared with no
 * one, until it can be told the expunges.
 *
 * Any two views of one mailbox where b is the later are related by
 * b = (a - expunged) + appended, every appended UID above a's last (UIDs
 * only grow). So "only appends" is one comparison, and the expunged UIDs
 * of a are found in one merge from the first index where a and b differ.
 *
 * Pure data structure: no store access (the worker builds the maps,
 * store_seqmap_load/extend/subtract), so it is tested on its own. */
#ifndef POSTERN_MAILBOX_VIEW_H
#define POSTERN_MAILBOX_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../store/store.h"

struct mailbox_view {
	struct store_seqmap map;	/* never changed once made */
	unsigned refs;
	/* 1, 2, ... in the order its head published it; 0 for a view of
	 * one session (mailbox_view_with_appends) */
	uint64_t version;
};

/* A view of map's UIDs (taken: map is left empty), one reference. */
struct mailbox_view *mailbox_view_new(struct store_seqmap *map);
struct mailbox_view *mailbox_view_ref(struct mailbox_view *v);
/* Drops a reference; the last one frees the view. *v becomes NULL. */
void mailbox_view_unref(struct mailbox_view **v);

/* Views allocated and not yet freed, in this process: for tests. */
size_t mailbox_view_live_count(void);

/* Sequence numbers <-> UIDs, as the holder of v knows them. */
size_t mailbox_view_count(const struct mailbox_view *v);
/* 0 if seq is out of range */
uint32_t mailbox_view_uid(const struct mailbox_view *v, uint32_t seq);
/* 0 if uid is not in the view */
uint32_t mailbox_view_seq(const struct mailbox_view *v, uint32_t uid);
/* The highest UID, 0 if empty. */
uint32_t mailbox_view_last_uid(const struct mailbox_view *v);
/* For code that takes a seqmap (search and sort scopes). Valid while
 * the holder keeps its reference. */
const struct store_seqmap *mailbox_view_map(const struct mailbox_view *v);

/* Differences from an older view old to a later view now of the same
 * mailbox. True if now only added UIDs to old. */
bool mailbox_view_only_appended(const struct mailbox_view *old,
				const struct mailbox_view *now);
/* Calls fn with the sequence number (in old) of each UID of old that now
 * lacks, highest first: sent in that order as EXPUNGE responses, each
 * number is right when the client reads it. Returns how many. */
typedef void mailbox_view_expunged_fn(void *ctx, uint32_t seq);
size_t mailbox_view_expunged(const struct mailbox_view *old,
			     const struct mailbox_view *now,
			     mailbox_view_expunged_fn *fn, void *ctx);
/* A private view: old's UIDs and those of now above old's last. NULL if
 * now has none above it. */
struct mailbox_view *mailbox_view_with_appends(const struct mailbox_view *old,
					       const struct mailbox_view *now);

/* Per mailbox held by some session: its newest view. */
struct mailbox_head {
	struct mailbox_head *next;
	uint32_t mailbox_id;
	unsigned users;			/* sessions that have it selected */
	uint64_t last_version;
	struct mailbox_view *newest;	/* NULL until the first publish */
};

struct mailbox_heads {
	struct mailbox_head *list;
};

/* The head of a mailbox, or NULL if no session holds it. */
struct mailbox_head *mailbox_heads_find(struct mailbox_heads *hs,
					uint32_t mailbox_id);
/* Takes a user of the mailbox's head, making it if needed. */
struct mailbox_head *mailbox_heads_open(struct mailbox_heads *hs,
					uint32_t mailbox_id);
/* Drops a user; the last one frees the head and its reference to the
 * newest view. */
void mailbox_heads_close(struct mailbox_heads *hs, struct mailbox_head *h);
/* Makes v (its reference taken) the newest view; the previous one loses
 * the head's reference. */
void mailbox_head_publish(struct mailbox_head *h, struct mailbox_view *v);

#endif
