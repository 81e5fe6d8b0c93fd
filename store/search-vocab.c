/* The vocabulary in memory; see search-vocab.h. */
#include "search-vocab.h"

#include "../common/buf.h"

#include <stdlib.h>
#include <string.h>

/* Entries starting with this byte are the index's own (search-index-
 * private.h: pairs): never matched by a needle, never trigram-indexed. */
#define VOCAB_PRIVATE 0xFF

void sx_vocab_init(struct sx_vocab *v)
{
	memset(v, 0, sizeof(*v));
	v->off_cap = 1024;
	v->off = xmalloc(v->off_cap * sizeof(*v->off));
	v->off[0] = v->off[1] = 0;	/* id 0: none */
}

void sx_vocab_free(struct sx_vocab *v)
{
	for (size_t i = 0; i < v->tri_cap; i++)
		free(v->tri[i].ids);
	free(v->tri);
	free(v->hash);
	free(v->arena);
	free(v->off);
	memset(v, 0, sizeof(*v));
}

size_t sx_vocab_bytes(const struct sx_vocab *v)
{
	size_t b = v->off_cap * sizeof(*v->off) + v->arena_cap +
		   v->hash_cap * sizeof(*v->hash) +
		   v->tri_cap * sizeof(*v->tri);
	for (size_t i = 0; i < v->tri_cap; i++)
		b += v->tri[i].cap * sizeof(uint32_t);
	return b;
}

static uint32_t str_hash(const uint8_t *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

static bool id_is(const struct sx_vocab *v, uint32_t id, const uint8_t *s,
		  size_t len)
{
	size_t n;
	const uint8_t *p = sx_vocab_str(v, id, &n);
	return n == len && memcmp(p, s, len) == 0;
}

uint32_t sx_vocab_find(const struct sx_vocab *v, const uint8_t *s,
		       size_t len)
{
	if (v->hash_cap == 0)
		return 0;
	size_t i = str_hash(s, len) & (v->hash_cap - 1);
	for (; v->hash[i] != 0; i = (i + 1) & (v->hash_cap - 1))
		if (id_is(v, v->hash[i], s, len))
			return v->hash[i];
	return 0;
}

static void hash_insert(struct sx_vocab *v, uint32_t id)
{
	size_t n;
	const uint8_t *p = sx_vocab_str(v, id, &n);
	size_t i = str_hash(p, n) & (v->hash_cap - 1);
	while (v->hash[i] != 0)
		i = (i + 1) & (v->hash_cap - 1);
	v->hash[i] = id;
}

static void hash_rebuild(struct sx_vocab *v, size_t cap)
{
	free(v->hash);
	v->hash_cap = cap;
	v->hash = xcalloc(cap, sizeof(*v->hash));
	for (uint32_t id = 1; id <= v->count; id++)
		hash_insert(v, id);
}

static struct sx_vtri *tri_slot(struct sx_vocab *v, uint32_t key)
{
	size_t i = (key * 2654435761u) & (v->tri_cap - 1);
	while (v->tri[i].key != 0 && v->tri[i].key != key)
		i = (i + 1) & (v->tri_cap - 1);
	return &v->tri[i];
}

static const struct sx_vtri *tri_find(const struct sx_vocab *v, uint32_t tri)
{
	if (v->tri_cap == 0)
		return NULL;
	uint32_t key = tri + 1;
	size_t i = (key * 2654435761u) & (v->tri_cap - 1);
	while (v->tri[i].key != 0 && v->tri[i].key != key)
		i = (i + 1) & (v->tri_cap - 1);
	return v->tri[i].key == key ? &v->tri[i] : NULL;
}

static void tri_grow(struct sx_vocab *v)
{
	struct sx_vtri *old = v->tri;
	size_t oldcap = v->tri_cap;
	v->tri_cap = oldcap ? oldcap * 2 : 4096;
	v->tri = xcalloc(v->tri_cap, sizeof(*v->tri));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key != 0)
			*tri_slot(v, old[i].key) = old[i];
	free(old);
}

static uint32_t tri_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void tri_index(struct sx_vocab *v, uint32_t id)
{
	size_t n;
	const uint8_t *p = sx_vocab_str(v, id, &n);
	if (n > 0 && p[0] == VOCAB_PRIVATE)
		return;
	for (size_t i = 0; i + 2 < n; i++) {
		if ((v->tri_used + 1) * 2 > v->tri_cap)
			tri_grow(v);
		struct sx_vtri *t = tri_slot(v, tri_at(p + i) + 1);
		if (t->key == 0) {
			t->key = tri_at(p + i) + 1;
			v->tri_used++;
		}
		if (t->n > 0 && t->ids[t->n - 1] == id)
			continue;	/* a trigram twice in one string */
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 4;
			t->ids = xrealloc(t->ids, t->cap * sizeof(*t->ids));
		}
		t->ids[t->n++] = id;
	}
}

void sx_vocab_reserve(struct sx_vocab *v, size_t entries)
{
	/* the hash at its final size at once: growing by doubling hashes
	 * every entry about twice over */
	size_t cap = v->hash_cap ? v->hash_cap : 4096;
	while ((v->count + entries + 1) * 2 > cap)
		cap *= 2;
	if (cap != v->hash_cap)
		hash_rebuild(v, cap);
	if (v->count + entries + 2 > v->off_cap) {
		v->off_cap = v->count + entries + 2;
		v->off = xrealloc(v->off, v->off_cap * sizeof(*v->off));
	}
}

static void count_token(struct sx_vocab *v, uint32_t id)
{
	if (v->arena[v->off[id]] == VOCAB_PRIVATE)
		return;
	v->tokens++;
	if (v->tokens == SX_VOCAB_RANK_SEPS)
		v->rank_id[0] = id;
	if (v->tokens == SX_VOCAB_RANK_WORDS)
		v->rank_id[1] = id;
}

uint32_t sx_vocab_add(struct sx_vocab *v, const uint8_t *s, size_t len)
{
	uint32_t id = v->count + 1;
	if ((size_t)id + 2 > v->off_cap) {
		v->off_cap = v->off_cap * 2 > (size_t)id + 2 ? v->off_cap * 2 :
							      (size_t)id + 2;
		v->off = xrealloc(v->off, v->off_cap * sizeof(*v->off));
	}
	if (v->arena_len + len > v->arena_cap) {
		v->arena_cap = v->arena_cap ? v->arena_cap * 2 : 65536;
		while (v->arena_len + len > v->arena_cap)
			v->arena_cap *= 2;
		v->arena = xrealloc(v->arena, v->arena_cap);
	}
	memcpy(v->arena + v->arena_len, s, len);
	v->arena_len += len;
	v->off[id + 1] = (uint32_t)v->arena_len;
	v->count = id;
	count_token(v, id);
	if (((size_t)id + 1) * 2 > v->hash_cap)
		hash_rebuild(v, v->hash_cap ? v->hash_cap * 2 : 4096);
	else
		hash_insert(v, id);
	tri_index(v, id);
	return id;
}

void sx_vocab_truncate(struct sx_vocab *v, uint32_t count)
{
	if (count >= v->count)
		return;
	for (size_t i = 0; i < v->tri_cap; i++) {
		struct sx_vtri *t = &v->tri[i];
		while (t->n > 0 && t->ids[t->n - 1] > count)
			t->n--;
	}
	v->count = count;
	v->arena_len = v->off[count + 1];
	hash_rebuild(v, v->hash_cap);
	v->tokens = 0;
	v->rank_id[0] = v->rank_id[1] = 0;
	for (uint32_t id = 1; id <= count; id++)
		count_token(v, id);
}

static bool str_matches(const uint8_t *p, size_t n, const uint8_t *s,
			size_t len, enum sx_vmatch how)
{
	if (n < len || (n > 0 && p[0] == VOCAB_PRIVATE))
		return false;
	switch (how) {
	case SX_VM_PREFIX:
		return memcmp(p, s, len) == 0;
	case SX_VM_SUFFIX:
		return memcmp(p + n - len, s, len) == 0;
	default:
		return memmem(p, n, s, len) != NULL;
	}
}

static void push(uint32_t **ids, size_t *n, size_t *cap, uint32_t id)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*ids = xrealloc(*ids, *cap * sizeof(**ids));
	}
	(*ids)[(*n)++] = id;
}

/* The id whose string holds arena offset at. */
static uint32_t id_at(const struct sx_vocab *v, size_t at)
{
	uint32_t lo = 1, hi = v->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (v->off[mid] <= at)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void sx_vocab_match(const struct sx_vocab *v, const uint8_t *s, size_t len,
		    enum sx_vmatch how, uint32_t **ids, size_t *n,
		    size_t *cap)
{
	if (v->count == 0)
		return;
	if (len >= 3) {
		/* the entries with the needle's rarest trigram */
		const struct sx_vtri *best = NULL;
		for (size_t i = 0; i + 2 < len; i++) {
			const struct sx_vtri *t = tri_find(v, tri_at(s + i));
			if (t == NULL)
				return;
			if (best == NULL || t->n < best->n)
				best = t;
		}
		for (uint32_t i = 0; i < best->n; i++) {
			uint32_t id = best->ids[i];
			if (id > v->count)
				break;
			size_t sn;
			const uint8_t *p = sx_vocab_str(v, id, &sn);
			if (str_matches(p, sn, s, len, how))
				push(ids, n, cap, id);
		}
		return;
	}
	if (how != SX_VM_SUBSTR) {
		for (uint32_t id = 1; id <= v->count; id++) {
			size_t sn;
			const uint8_t *p = sx_vocab_str(v, id, &sn);
			if (str_matches(p, sn, s, len, how))
				push(ids, n, cap, id);
		}
		return;
	}
	/* one or two bytes: one pass over all the strings at once */
	size_t at = 0, end = v->arena_len;
	while (at < end) {
		const uint8_t *hit = memmem(v->arena + at, end - at, s, len);
		if (hit == NULL)
			break;
		size_t h = (size_t)(hit - v->arena);
		uint32_t id = id_at(v, h);
		if (h + len <= v->off[id + 1] &&
		    v->arena[v->off[id]] != VOCAB_PRIVATE) {
			push(ids, n, cap, id);
			at = v->off[id + 1];
		} else {
			at = h + 1;	/* across two strings */
		}
	}
}
