/* The texts of held documents, in memory (search-index.h, "Held
 * texts"): made at append, read by queries and the next merge, never
 * written to the store. Writing them cost every durable APPEND a few
 * more kilobytes in its commit and every merge their deletion, and they
 * are not needed for recovery: a held document without its text is
 * extracted again from its message. Sorted by document id: appends add
 * at the end, merges take from the front, and there are a few hundred. */
#include "search-index-private.h"

#include <stdlib.h>
#include <string.h>

struct sx_held_text {
	uint64_t id;
	struct buf rec;
};

struct sx_held {
	struct sx_held_text *t;
	size_t n, cap;
	size_t bytes;
};

/* The first index whose id is >= id. */
static size_t held_find(const struct sx_held *h, uint64_t id)
{
	size_t lo = 0, hi = h->n;
	if (hi > 0 && h->t[hi - 1].id < id)
		return hi;	/* appends: past the end */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->t[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool sx_held_room(const struct store *s)
{
	return s->sx_held == NULL || s->sx_held->bytes < SX_HELD_BYTES_MAX;
}

void sx_held_put(struct store *s, uint64_t id, const struct buf *rec)
{
	if (!sx_held_room(s))
		return;		/* extracted again at the merge */
	if (s->sx_held == NULL)
		s->sx_held = xcalloc(1, sizeof(*s->sx_held));
	struct sx_held *h = s->sx_held;
	size_t i = held_find(h, id);
	if (i < h->n && h->t[i].id == id) {
		h->bytes -= h->t[i].rec.len;
		buf_clear(&h->t[i].rec);
	} else {
		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 256;
			h->t = xrealloc(h->t, h->cap * sizeof(*h->t));
		}
		memmove(h->t + i + 1, h->t + i, (h->n - i) * sizeof(*h->t));
		h->n++;
		h->t[i].id = id;
		buf_init(&h->t[i].rec);
	}
	buf_append(&h->t[i].rec, rec->data, rec->len);
	h->bytes += rec->len;
}

const struct buf *sx_held_get(const struct store *s, uint64_t id)
{
	const struct sx_held *h = s->sx_held;
	if (h == NULL)
		return NULL;
	size_t i = held_find(h, id);
	return i < h->n && h->t[i].id == id ? &h->t[i].rec : NULL;
}

void sx_held_drop(struct store *s, uint64_t id)
{
	struct sx_held *h = s->sx_held;
	if (h == NULL)
		return;
	size_t i = held_find(h, id);
	if (i >= h->n || h->t[i].id != id)
		return;
	h->bytes -= h->t[i].rec.len;
	buf_free(&h->t[i].rec);
	memmove(h->t + i, h->t + i + 1, (h->n - i - 1) * sizeof(*h->t));
	h->n--;
}

size_t sx_held_texts(const struct store *s)
{
	return s->sx_held != NULL ? s->sx_held->n : 0;
}

void sx_held_free(struct store *s)
{
	struct sx_held *h = s->sx_held;
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		buf_free(&h->t[i].rec);
	free(h->t);
	free(h);
	s->sx_held = NULL;
}

void store_sx_held_text(struct store *s, uint64_t blob_id,
			const struct buf *rec)
{
	sx_held_put(s, blob_id, rec);
}

bool store_sx_held_room(const struct store *s)
{
	return sx_held_room(s);
}

void store_sx_held_free(struct store *s)
{
	sx_held_free(s);
}
